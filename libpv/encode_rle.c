/*
 * encode_rle.c: RUN-LENGTH encoding, for columns of long runs (sorted
 * low-cardinality columns, flags, and the codes of a sorted dictionary).
 *
 *   0   u32 run_count
 *   4   u32 zero
 *   8   u64 ends_length   bytes of the run-ends stream
 *   16  run ends          FOR stream of run_count values: the row after
 *                         each run, strictly increasing, the last = n
 *   ..  run values        FOR stream of run_count values (the value bits)
 *
 * Row i is in the first run whose end is above i: a binary search over
 * the ends, O(log runs) O(1) reads.
 */
#include <string.h>

#include "encode_stream.h"

#define RLE_HEADER 16

int pv_rle_plan(const uint64_t *v, uint32_t n, pv_enc_scratch *sc, uint64_t *out)
{
    uint64_t *ends, *vals;
    uint32_t i, runs = 0;
    int rc = pv_enc_scratch_reserve(sc, 16 * ((size_t)n + 1));
    if (rc) return rc;
    ends = sc->p;
    vals = ends + n;
    for (i = 0; i < n; i++) {
        if (runs && vals[runs - 1] == v[i]) {
            ends[runs - 1] = i + 1;
            continue;
        }
        vals[runs] = v[i];
        ends[runs++] = i + 1;
    }
    /* the values follow the ends directly, for write() */
    if (runs < n) memmove(ends + runs, vals, (size_t)runs * 8);
    *out = RLE_HEADER + pv_for_plan(ends, runs) + pv_for_plan(ends + runs, runs);
    /* remember the run count where write() finds it */
    ends[2 * (size_t)n] = runs;
    return PV_OK;
}

void pv_rle_write(uint32_t n, pv_enc_scratch *sc, uint8_t *dst)
{
    const uint64_t *ends = sc->p;
    uint32_t runs = (uint32_t)ends[2 * (size_t)n];
    uint64_t ends_len = pv_for_plan(ends, runs);
    pv_put_u32(dst, runs);
    pv_put_u64(dst + 8, ends_len);
    pv_for_write(ends, runs, dst + RLE_HEADER);
    pv_for_write(ends + runs, runs, dst + RLE_HEADER + ends_len);
}

int pv_rle_open(pv_istream *s, const uint8_t *p, uint64_t len, uint32_t n)
{
    uint64_t ends_len;
    if (len < RLE_HEADER) return 1;
    s->nruns = pv_get_u32(p);
    ends_len = pv_get_u64(p + 8);
    if (pv_get_u32(p + 4) || s->nruns > n || (n && !s->nruns)) return 1;
    if (ends_len > len - RLE_HEADER) return 1;
    if (pv_pack_open(&s->a, PV_FOR_ENTRY, p + RLE_HEADER, ends_len, s->nruns)) return 1;
    return pv_pack_open(&s->b, PV_FOR_ENTRY, p + RLE_HEADER + ends_len,
                        len - RLE_HEADER - ends_len, s->nruns);
}

/* The run holding row i: first run whose end is > i. 0 or 1. */
static int find_run(const pv_istream *s, uint32_t i, uint32_t *run)
{
    uint32_t lo = 0, hi = s->nruns;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        uint64_t e;
        if (pv_for_get(&s->a, mid, &e)) return 1;
        if (e > i) hi = mid;
        else lo = mid + 1;
    }
    if (lo >= s->nruns) return 1;
    *run = lo;
    return 0;
}

int pv_rle_get(const pv_istream *s, uint32_t i, uint64_t *out)
{
    uint32_t k;
    if (find_run(s, i, &k)) return 1;
    return pv_for_get(&s->b, k, out);
}

int pv_rle_read(const pv_istream *s, uint32_t i0, uint32_t n, uint64_t *out)
{
    uint32_t k, pos = i0, stop = i0 + n;
    if (n == 0) return 0;
    if (find_run(s, i0, &k)) return 1;
    while (pos < stop) {
        uint64_t e, v;
        if (k >= s->nruns || pv_for_get(&s->a, k, &e) || pv_for_get(&s->b, k, &v)) return 1;
        if (e <= pos) return 1; /* ends must increase */
        if (e > stop) e = stop;
        while (pos < e) out[pos++ - i0] = v;
        k++;
    }
    return 0;
}

int pv_rle_check(const pv_istream *s)
{
    uint64_t buf[PV_BLOCK_ROWS], prev = 0;
    uint32_t k, j;
    if (pv_for_check(&s->a) || pv_for_check(&s->b)) return 1;
    for (k = 0; k < s->nruns; k += PV_BLOCK_ROWS) {
        uint32_t m = s->nruns - k < PV_BLOCK_ROWS ? s->nruns - k : PV_BLOCK_ROWS;
        if (pv_for_read(&s->a, k, m, buf)) return 1;
        for (j = 0; j < m; j++) {
            if (buf[j] <= prev) return 1;
            prev = buf[j];
        }
    }
    return prev != s->n;
}

static int rle_plan(pv_enc_ctx *ctx, const pv_enc_in *in, uint64_t *out)
{
    return pv_intcol_plan(PV_ENC_RLE, ctx, in, out);
}

static int rle_write(pv_enc_ctx *ctx, const pv_enc_in *in, uint8_t *dst)
{
    return pv_intcol_write(PV_ENC_RLE, ctx, in, dst);
}

const pv_encoder pv_enc_rle = {
    PV_ENC_RLE, "rle", PV_T(PV_INTEGER) | PV_T(PV_REAL) | PV_T(PV_BOOLEAN), rle_plan,
    rle_write, pv_intcol_open, pv_intcol_read, pv_intcol_get, pv_intcol_check, NULL,
};
