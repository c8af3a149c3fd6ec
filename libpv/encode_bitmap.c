/*
 * encode_bitmap.c: BITMAP, the encoding of BOOLEAN columns: one bit per row,
 * bit r % 64 of little-endian u64 word r / 64, ceil(n / 64) words; bits past
 * the last row zero. NULL rows hold the previous value's bit.
 */
#include <string.h>

#include "encode_stream.h"

static uint64_t words(uint32_t n) { return ((uint64_t)n + 63) / 64; }

static int bitmap_plan(pv_enc_ctx *ctx, const pv_enc_in *in, uint64_t *out)
{
    (void)ctx;
    *out = 8 * words(in->nrows);
    return PV_OK;
}

static int bitmap_write(pv_enc_ctx *ctx, const pv_enc_in *in, uint8_t *dst)
{
    uint32_t r;
    (void)ctx;
    for (r = 0; r < in->nrows; r++)
        if (in->u[r] & 1) dst[r >> 3] |= (uint8_t)(1u << (r & 7));
    return PV_OK;
}

static int bitmap_open(pv_dec *d, const char **why)
{
    *why = "bad bitmap length";
    return d->n != 8 * words(d->nrows);
}

static int bitmap_read(pv_dec *d, uint32_t r0, uint32_t n, pv_dec_out out, const char **why)
{
    uint32_t r;
    (void)why;
    for (r = 0; r < n; r++) out.i[r] = (d->p[(r0 + r) >> 3] >> ((r0 + r) & 7)) & 1;
    return 0;
}

static int bitmap_get(pv_dec *d, uint32_t r, pv_value *out, pv_buf *mem, uint64_t *moff,
                      const char **why)
{
    (void)mem;
    *moff = UINT64_MAX;
    if (r >= d->nrows) {
        *why = "row out of range";
        return 1;
    }
    *out = pv_v_bool((d->p[r >> 3] >> (r & 7)) & 1);
    return 0;
}

static int bitmap_check(pv_dec *d, const char **why)
{
    uint64_t i;
    *why = "bitmap bits past the last row not zero";
    if (d->nrows % 8 && (d->p[d->nrows / 8] >> (d->nrows % 8))) return 1;
    for (i = ((uint64_t)d->nrows + 7) / 8; i < d->n; i++)
        if (d->p[i]) return 1;
    return 0;
}

const pv_encoder pv_enc_bitmap = {
    PV_ENC_BITMAP, "bitmap", PV_T(PV_BOOLEAN), bitmap_plan, bitmap_write,
    bitmap_open, bitmap_read, bitmap_get, bitmap_check, NULL,
};
