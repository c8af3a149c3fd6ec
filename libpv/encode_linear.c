/*
 * encode_linear.c: LINEAR, the constant and arithmetic-progression special
 * case: value i = base + i * step exactly, in 16 bytes whatever the row
 * count (i64 base, i64 step; step 0 for a constant). A primary key 1..N
 * costs nothing, and a key lookup on it is a division.
 *
 * The progression must not overflow a signed 64-bit integer over the
 * rows: the writer plans it only then, the reader checks it at open.
 */
#include <string.h>

#include "encode_stream.h"

int pv_linear_plan(const uint64_t *v, uint32_t n, uint64_t *out)
{
    int64_t base, step, x;
    uint32_t i;
    if (n == 0) return PV_ENC_UNSUITABLE;
    base = (int64_t)v[0];
    step = 0;
    if (n > 1 && __builtin_sub_overflow((int64_t)v[1], base, &step)) return PV_ENC_UNSUITABLE;
    x = base;
    for (i = 1; i < n; i++) {
        if (__builtin_add_overflow(x, step, &x) || (uint64_t)x != v[i])
            return PV_ENC_UNSUITABLE;
    }
    *out = 16;
    return PV_OK;
}

void pv_linear_write(const uint64_t *v, uint32_t n, uint8_t *dst)
{
    pv_put_u64(dst, v[0]);
    pv_put_u64(dst + 8, n > 1 ? v[1] - v[0] : 0);
}

int pv_linear_open(pv_istream *s, const uint8_t *p, uint64_t len, uint32_t n)
{
    int64_t span, last;
    if (len != 16) return 1;
    s->base = (int64_t)pv_get_u64(p);
    s->step = (int64_t)pv_get_u64(p + 8);
    if (n == 0) return 0;
    if (__builtin_mul_overflow(s->step, (int64_t)(n - 1), &span) ||
        __builtin_add_overflow(s->base, span, &last))
        return 1;
    return 0;
}

static int linear_plan(pv_enc_ctx *ctx, const pv_enc_in *in, uint64_t *out)
{
    return pv_intcol_plan(PV_ENC_LINEAR, ctx, in, out);
}

static int linear_write(pv_enc_ctx *ctx, const pv_enc_in *in, uint8_t *dst)
{
    return pv_intcol_write(PV_ENC_LINEAR, ctx, in, dst);
}

const pv_encoder pv_enc_linear = {
    PV_ENC_LINEAR, "linear", PV_T(PV_INTEGER), linear_plan, linear_write,
    pv_intcol_open, pv_intcol_read, pv_intcol_get, pv_intcol_check, NULL,
};
