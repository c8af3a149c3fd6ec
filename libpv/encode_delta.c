/*
 * encode_delta.c: DELTA in blocks of 1024 values, for sorted and nearly
 * monotonic columns (timestamps, sequence numbers with gaps).
 *
 *   block table   ceil(n / 1024) entries of 24 bytes:
 *                   0  i64 first      the block's first value
 *                   8  i64 min_delta  smallest v[j] - v[j-1] in the block
 *                   16 u32 offset     of its packed words, from the data start
 *                   20 u8  width      bits per packed delta, 0..64
 *                   21 u8[3]          zero
 *   data          per block of m values, m - 1 packed (delta - min_delta)
 *
 * Arithmetic is modulo 2^64, so any sequence round-trips. Reading value j
 * of a block sums j deltas: the chooser takes DELTA only when it is a
 * quarter smaller than FOR, and never for key columns.
 */
#include <string.h>

#include "encode_stream.h"

/* Smallest delta and the span of the deltas of a block (m >= 2). */
static void delta_range(const uint64_t *v, uint32_t m, int64_t *mn, uint64_t *span)
{
    int64_t lo = (int64_t)(v[1] - v[0]), hi = lo;
    uint32_t j;
    for (j = 2; j < m; j++) {
        int64_t d = (int64_t)(v[j] - v[j - 1]);
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    *mn = lo;
    *span = (uint64_t)hi - (uint64_t)lo;
}

uint64_t pv_delta_plan(const uint64_t *v, uint32_t n)
{
    uint32_t nb = pv_nblocks(n), k;
    uint64_t size = (uint64_t)nb * PV_DELTA_ENTRY;
    for (k = 0; k < nb; k++) {
        uint32_t m = pv_block_len(n, k);
        int64_t mn;
        uint64_t span;
        if (m < 2) continue;
        delta_range(v + ((size_t)k << PV_BLOCK_SHIFT), m, &mn, &span);
        size += pv_packed_len(m - 1, pv_bits(span));
    }
    return size;
}

void pv_delta_write(const uint64_t *v, uint32_t n, uint8_t *dst)
{
    uint32_t nb = pv_nblocks(n), k, j;
    uint8_t *data = dst + (size_t)nb * PV_DELTA_ENTRY;
    uint64_t off = 0, x[PV_BLOCK_ROWS];
    for (k = 0; k < nb; k++) {
        const uint64_t *b = v + ((size_t)k << PV_BLOCK_SHIFT);
        uint32_t m = pv_block_len(n, k);
        uint8_t *e = dst + (size_t)k * PV_DELTA_ENTRY;
        int64_t mn = 0;
        uint64_t span = 0;
        unsigned w;
        if (m >= 2) delta_range(b, m, &mn, &span);
        w = pv_bits(span);
        pv_put_u64(e, b[0]);
        pv_put_u64(e + 8, (uint64_t)mn);
        pv_put_u32(e + 16, (uint32_t)off);
        e[20] = (uint8_t)w;
        for (j = 1; j < m; j++) x[j - 1] = (b[j] - b[j - 1]) - (uint64_t)mn;
        if (m >= 2) pv_pack_bits(data + off, x, m - 1, w);
        off += m >= 2 ? pv_packed_len(m - 1, w) : 0;
    }
}

/* Block b's fields, checked. */
static int delta_block(const pv_pack *k, uint32_t b, uint64_t *first, uint64_t *mind,
                       unsigned *width, const uint8_t **words)
{
    const uint8_t *e;
    uint32_t off, m;
    unsigned w;
    if (b >= k->nblocks) return 1;
    e = k->tab + (size_t)b * PV_DELTA_ENTRY;
    off = pv_get_u32(e + 16);
    w = e[20];
    m = pv_block_len(k->n, b);
    if (w > 64 || off > k->data_len || pv_packed_len(m - 1, w) > k->data_len - off) return 1;
    *first = pv_get_u64(e);
    *mind = pv_get_u64(e + 8);
    *width = w;
    *words = k->data + off;
    return 0;
}

void pv_delta_settle(pv_pack *k)
{
    uint64_t v, mind;
    unsigned w;
    const uint8_t *q;
    for (uint32_t b = 0; b < k->nblocks; b++)
        if (delta_block(k, b, &v, &mind, &w, &q)) return;
    k->settled = 1;
}

int pv_delta_get(const pv_pack *k, uint32_t i, uint64_t *out)
{
    uint64_t v, mind;
    unsigned w;
    const uint8_t *q;
    uint32_t j;
    if (i >= k->n) return 1;
    if (k->settled) { /* (the entry's width and words were checked) */
        const uint8_t *e = k->tab + (size_t)(i >> PV_BLOCK_SHIFT) * PV_DELTA_ENTRY;
        v = pv_get_u64(e);
        mind = pv_get_u64(e + 8);
        q = k->data + pv_get_u32(e + 16);
        w = e[20];
    } else if (delta_block(k, i >> PV_BLOCK_SHIFT, &v, &mind, &w, &q)) {
        return 1;
    }
    j = i & (PV_BLOCK_ROWS - 1);
    /* (width 1, sorted dictionary codes: the sum is a popcount) */
    *out = v + (uint64_t)j * mind + pv_packed_sum(q, 0, j, w);
    return 0;
}

int pv_delta_read(const pv_pack *k, uint32_t i0, uint32_t n, uint64_t *out)
{
    uint32_t done = 0;
    while (done < n) {
        uint32_t i = i0 + done, b = i >> PV_BLOCK_SHIFT, j0 = i & (PV_BLOCK_ROWS - 1);
        uint32_t m = PV_BLOCK_ROWS - j0, t;
        uint64_t v, mind, *o = out + done;
        unsigned w;
        const uint8_t *q;
        if (m > n - done) m = n - done;
        if (delta_block(k, b, &v, &mind, &w, &q)) return 1;
        /* deltas 0 .. j0 - 1 lead from the block's first value to value j0:
         * summed, not unpacked (a popcount at width 1); deltas j0 .. j0 +
         * m - 2 then to the last value asked, unpacked (plus min_delta)
         * into the output and summed there */
        v += (uint64_t)j0 * mind + pv_packed_sum(q, 0, j0, w);
        if (m > 1) pv_unpack_ref(q, j0, m - 1, w, mind, o + 1);
        o[0] = v;
        for (t = 1; t < m; t++) o[t] = v += o[t];
        done += m;
    }
    return 0;
}

/* A run of a new value starting at row `at` of the window (the first, or
 * one whose value differs from the last run's). */
static inline void run_start(uint64_t *vals, uint32_t *ends, uint32_t *nr, uint32_t at, uint64_t v)
{
    if (*nr && vals[*nr - 1] == v) return;
    if (*nr) ends[*nr - 1] = at;
    vals[(*nr)++] = v;
}

/* The runs of one block's window: its first value v at row `at`, then
 * m - 1 deltas from block row j0. */
static void block_runs(const uint8_t *q, uint32_t j0, uint32_t m, unsigned w, uint64_t mind,
                       uint64_t v, uint32_t at, uint64_t *vals, uint32_t *ends, uint32_t *nr)
{
    uint32_t s = j0, end = j0 + m - 1, t;
    run_start(vals, ends, nr, at, v);
    if (w == 1 && mind == 0) { /* a set bit: the next row steps up by one */
        while (s < end) {
            uint32_t span = 64 - (s & 63);
            uint64_t word = pv_get_u64(q + 8 * (size_t)(s >> 6)) >> (s & 63);
            if (span > end - s) span = end - s;
            if (span < 64) word &= (1ull << span) - 1;
            while (word) {
                run_start(vals, ends, nr, at + (s - j0) + (uint32_t)__builtin_ctzll(word) + 1, ++v);
                word &= word - 1;
            }
            s += span;
        }
        return;
    }
    while (s < end) { /* any width: unpacked 64 deltas at a time */
        uint64_t dl[64];
        uint32_t k = end - s < 64 ? end - s : 64;
        pv_unpack_ref(q, s, k, w, mind, dl);
        for (t = 0; t < k; t++)
            if (dl[t]) run_start(vals, ends, nr, at + (s - j0) + t + 1, v += dl[t]);
        s += k;
    }
}

int pv_delta_runs(const pv_pack *k, uint32_t i0, uint32_t n, uint64_t *vals, uint32_t *ends,
                  uint32_t *nruns)
{
    uint32_t done = 0, nr = 0;
    if (i0 > k->n || n > k->n - i0) return 1;
    while (done < n) {
        uint32_t i = i0 + done, b = i >> PV_BLOCK_SHIFT, j0 = i & (PV_BLOCK_ROWS - 1);
        uint32_t m = PV_BLOCK_ROWS - j0;
        uint64_t v, mind;
        unsigned w;
        const uint8_t *q;
        if (m > n - done) m = n - done;
        if (delta_block(k, b, &v, &mind, &w, &q)) return 1;
        v += (uint64_t)j0 * mind + pv_packed_sum(q, 0, j0, w);
        block_runs(q, j0, m, w, mind, v, done, vals, ends, &nr);
        done += m;
    }
    if (nr) ends[nr - 1] = n;
    *nruns = nr;
    return 0;
}

int pv_delta_check(const pv_pack *k)
{
    uint64_t off = 0;
    uint32_t b;
    for (b = 0; b < k->nblocks; b++) {
        const uint8_t *e = k->tab + (size_t)b * PV_DELTA_ENTRY, *q;
        uint32_t m = pv_block_len(k->n, b);
        uint64_t first, mind;
        unsigned w;
        if (delta_block(k, b, &first, &mind, &w, &q)) return 1;
        if (pv_get_u32(e + 16) != off || e[21] || e[22] || e[23]) return 1;
        if (m < 2 && (w || mind)) return 1;
        if (m >= 2 && !pv_pack_tail_zero(q, m - 1, w)) return 1;
        off += m >= 2 ? pv_packed_len(m - 1, w) : 0;
    }
    return off != k->data_len;
}

static int delta_plan(pv_enc_ctx *ctx, const pv_enc_in *in, uint64_t *out)
{
    uint64_t for_size;
    int rc;
    if (in->flags & PV_ENC_KEY) return PV_ENC_UNSUITABLE;
    rc = pv_intcol_plan(PV_ENC_DELTA, ctx, in, out);
    if (rc) return rc;
    /* a point read sums up to 1023 deltas: worth it for a quarter less */
    for_size = pv_for_plan(in->u, in->nrows);
    return *out > for_size - for_size / 4 ? PV_ENC_UNSUITABLE : PV_OK;
}

static int delta_write(pv_enc_ctx *ctx, const pv_enc_in *in, uint8_t *dst)
{
    return pv_intcol_write(PV_ENC_DELTA, ctx, in, dst);
}

const pv_encoder pv_enc_delta = {
    PV_ENC_DELTA, "delta", PV_T(PV_INTEGER), delta_plan, delta_write,
    pv_intcol_open, pv_intcol_read, pv_intcol_get, pv_intcol_check, pv_intcol_prefetch,
};
