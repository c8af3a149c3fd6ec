/*
 * encode_plain.c: PLAIN encoding. One slot per row, NULL rows included, so
 * row r is found without any index:
 *   INTEGER, BOOLEAN  i64 LE per row (NULL rows 0)
 *   REAL              f64 LE per row (NULL rows +0.0)
 *   TEXT, BLOB        u32 LE offsets[nrows + 1], then the bytes (NULL rows
 *                     empty)
 */
#include <string.h>

#include "encode.h"

static int plain_plan(pv_enc_scratch *sc, const pv_enc_in *in, uint64_t *out)
{
    uint64_t bytes = 0;
    uint32_t r;
    (void)sc;
    if (!pv_enc_is_str(in->v.type)) {
        *out = 8 * (uint64_t)in->nrows;
        return PV_OK;
    }
    for (r = 0; r < in->nrows; r++)
        if (!pv_enc_is_null(in, r)) bytes += in->v.u.s[r].n;
    if (bytes > UINT32_MAX) return PV_ENC_UNSUITABLE; /* u32 offsets */
    *out = 4 * ((uint64_t)in->nrows + 1) + bytes;
    return PV_OK;
}

static int plain_write(pv_enc_scratch *sc, const pv_enc_in *in, pv_buf *out)
{
    uint64_t size;
    uint8_t *p;
    uint32_t r;
    int rc = plain_plan(sc, in, &size);
    if (rc) return rc == PV_ENC_UNSUITABLE ? PV_ERROR : rc;
    if (size > SIZE_MAX - 1) return pv_err(PV_ENOMEM, "column chunk too large");
    rc = pv_buf_reserve(out, (size_t)size);
    if (rc) return rc;
    p = (uint8_t *)out->p + out->len;
    if (pv_enc_is_str(in->v.type)) {
        pv_enc_put_strings(p, in->v.u.s, in->v.nulls, in->nrows);
    } else if (in->v.type == PV_REAL) {
        for (r = 0; r < in->nrows; r++)
            pv_put_f64(p + 8 * (size_t)r, pv_enc_is_null(in, r) ? 0.0 : in->v.u.f[r]);
    } else {
        for (r = 0; r < in->nrows; r++)
            pv_put_u64(p + 8 * (size_t)r,
                       pv_enc_is_null(in, r) ? 0 : (uint64_t)in->v.u.i[r]);
    }
    out->len += (size_t)size;
    return PV_OK;
}

static int plain_open(pv_dec *d, const uint8_t *p, uint64_t n, const char **why)
{
    uint32_t r;
    if (pv_enc_is_str(d->type)) {
        if (pv_enc_check_strings(p, n, d->nrows, &d->bytes)) {
            *why = "bad string offsets";
            return 1;
        }
        d->vals = p;
        return 0;
    }
    if (n != 8 * (uint64_t)d->nrows) {
        *why = "values length does not match the row count";
        return 1;
    }
    d->vals = p;
    if (d->type == PV_BOOLEAN) {
        for (r = 0; r < d->nrows; r++)
            if (pv_get_u64(p + 8 * (size_t)r) > 1) {
                *why = "boolean value other than 0 or 1";
                return 1;
            }
    }
    return 0;
}

static void plain_read(const pv_dec *d, uint32_t r0, uint32_t n, pv_dec_out out)
{
    uint32_t r;
    if (pv_enc_is_str(d->type)) {
        for (r = 0; r < n; r++) out.s[r] = pv_enc_get_string(d->vals, d->bytes, r0 + r);
    } else if (d->type == PV_REAL) {
        for (r = 0; r < n; r++) out.f[r] = pv_get_f64(d->vals + 8 * (size_t)(r0 + r));
    } else {
        for (r = 0; r < n; r++)
            out.i[r] = (int64_t)pv_get_u64(d->vals + 8 * (size_t)(r0 + r));
    }
}

const pv_encoder pv_enc_plain = {
    PV_ENC_PLAIN, "plain", plain_plan, plain_write, plain_open, plain_read,
};
