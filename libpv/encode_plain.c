/*
 * encode_plain.c: PLAIN encoding. One slot per row, NULL rows included, so
 * row r is found without any index:
 *   INTEGER, BOOLEAN  i64 LE per row
 *   REAL              f64 LE per row
 *   TEXT, BLOB        u32 LE offsets[nrows + 1], then the bytes (NULL rows
 *                     empty)
 * Numeric NULL slots hold the previous non-NULL value (pv_enc_in.u).
 */
#include <string.h>

#include "encode_stream.h"

static int plain_plan(pv_enc_ctx *ctx, const pv_enc_in *in, uint64_t *out)
{
    (void)ctx;
    if (!pv_enc_is_str(in->v.type)) {
        *out = 8 * (uint64_t)in->nrows;
        return PV_OK;
    }
    if (in->str_bytes > UINT32_MAX) return PV_ENC_UNSUITABLE; /* u32 offsets */
    *out = 4 * ((uint64_t)in->nrows + 1) + in->str_bytes;
    return PV_OK;
}

static int plain_write(pv_enc_ctx *ctx, const pv_enc_in *in, uint8_t *dst)
{
    uint32_t r;
    (void)ctx;
    if (pv_enc_is_str(in->v.type)) {
        pv_enc_put_strings(dst, in->v.u.s, in->v.nulls, in->nrows);
        return PV_OK;
    }
    for (r = 0; r < in->nrows; r++) pv_put_u64(dst + 8 * (size_t)r, in->u[r]);
    return PV_OK;
}

static int plain_open(pv_dec *d, const char **why)
{
    uint64_t head;
    d->vals = d->p;
    if (pv_enc_is_str(d->type)) {
        head = 4 * ((uint64_t)d->nrows + 1);
        *why = "bad string offsets";
        if (d->n < head) return 1;
        d->bytes = d->p + head;
        d->bytes_len = d->n - head;
        return 0;
    }
    *why = "values length does not match the row count";
    return d->n != 8 * (uint64_t)d->nrows;
}

static int plain_read(pv_dec *d, uint32_t r0, uint32_t n, pv_dec_out out, const char **why)
{
    uint32_t r;
    if (pv_enc_is_str(d->type)) {
        for (r = 0; r < n; r++)
            if (pv_enc_str_at(d->vals, d->bytes, d->bytes_len, r0 + r, &out.s[r])) {
                *why = "bad string offsets";
                return 1;
            }
        return 0;
    }
    if (d->type == PV_REAL) {
        for (r = 0; r < n; r++) out.f[r] = pv_get_f64(d->vals + 8 * (size_t)(r0 + r));
        return 0;
    }
    for (r = 0; r < n; r++) out.i[r] = (int64_t)pv_get_u64(d->vals + 8 * (size_t)(r0 + r));
    if (d->type == PV_BOOLEAN)
        for (r = 0; r < n; r++)
            if ((uint64_t)out.i[r] > 1) {
                *why = "boolean value other than 0 or 1";
                return 1;
            }
    return 0;
}

static int plain_get(pv_dec *d, uint32_t r, pv_value *out, pv_buf *mem, uint64_t *moff,
                     const char **why)
{
    (void)mem;
    *moff = UINT64_MAX;
    if (r >= d->nrows) {
        *why = "row out of range";
        return 1;
    }
    if (pv_enc_is_str(d->type)) {
        out->type = d->type;
        if (pv_enc_str_at(d->vals, d->bytes, d->bytes_len, r, &out->u.s)) {
            *why = "bad string offsets";
            return 1;
        }
        return 0;
    }
    *out = pv_enc_num_value(d->type, pv_get_u64(d->vals + 8 * (size_t)r));
    if (d->type == PV_BOOLEAN && (uint64_t)out->u.i > 1) {
        *why = "boolean value other than 0 or 1";
        return 1;
    }
    return 0;
}

static int plain_check(pv_dec *d, const char **why)
{
    uint32_t r;
    if (pv_enc_is_str(d->type)) {
        const uint8_t *bytes;
        *why = "bad string offsets";
        return pv_enc_check_strings(d->p, d->n, d->nrows, &bytes);
    }
    *why = "boolean value other than 0 or 1";
    if (d->type == PV_BOOLEAN)
        for (r = 0; r < d->nrows; r++)
            if (pv_get_u64(d->p + 8 * (size_t)r) > 1) return 1;
    return 0;
}

static void plain_prefetch(const pv_dec *d, uint32_t r)
{
    if (r >= d->nrows) return;
    __builtin_prefetch(d->vals + (pv_enc_is_str(d->type) ? 4 : 8) * (size_t)r);
}

const pv_encoder pv_enc_plain = {
    PV_ENC_PLAIN, "plain",
    PV_T(PV_INTEGER) | PV_T(PV_REAL) | PV_T(PV_TEXT) | PV_T(PV_BLOB) | PV_T(PV_BOOLEAN),
    plain_plan, plain_write, plain_open, plain_read, plain_get, plain_check, plain_prefetch,
};
