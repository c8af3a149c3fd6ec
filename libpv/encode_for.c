/*
 * encode_for.c: FRAME OF REFERENCE + bit-packing in blocks of 1024 values.
 *
 *   block table   ceil(n / 1024) entries of 16 bytes:
 *                   0  i64 ref     the block's minimum (signed)
 *                   8  u32 offset  of its packed words, from the data start
 *                   12 u8  width   bits per value, 0..64
 *                   13 u8[3]       zero
 *   data          each block's values minus ref, packed in `width` bits
 *
 * A block decodes on its own, and a filter can compare packed values
 * against (constant - ref). The ref is an exact per-block minimum and
 * ref + 2^width - 1 a maximum bound: per-block zone maps for free.
 */
#include <string.h>

#include "encode_stream.h"

static void block_range(const uint64_t *v, uint32_t m, int64_t *mn, uint64_t *span)
{
    int64_t lo = (int64_t)v[0], hi = lo;
    uint32_t j;
    for (j = 1; j < m; j++) {
        int64_t x = (int64_t)v[j];
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
    }
    *mn = lo;
    *span = (uint64_t)hi - (uint64_t)lo;
}

uint64_t pv_for_plan(const uint64_t *v, uint32_t n)
{
    uint32_t nb = pv_nblocks(n), k;
    uint64_t size = (uint64_t)nb * PV_FOR_ENTRY;
    for (k = 0; k < nb; k++) {
        uint32_t m = pv_block_len(n, k);
        int64_t mn;
        uint64_t span;
        block_range(v + ((size_t)k << PV_BLOCK_SHIFT), m, &mn, &span);
        size += pv_packed_len(m, pv_bits(span));
    }
    return size;
}

void pv_for_write(const uint64_t *v, uint32_t n, uint8_t *dst)
{
    uint32_t nb = pv_nblocks(n), k, j;
    uint8_t *data = dst + (size_t)nb * PV_FOR_ENTRY;
    uint64_t off = 0, x[PV_BLOCK_ROWS];
    for (k = 0; k < nb; k++) {
        const uint64_t *b = v + ((size_t)k << PV_BLOCK_SHIFT);
        uint32_t m = pv_block_len(n, k);
        uint8_t *e = dst + (size_t)k * PV_FOR_ENTRY;
        int64_t mn;
        uint64_t span;
        unsigned w;
        block_range(b, m, &mn, &span);
        w = pv_bits(span);
        pv_put_u64(e, (uint64_t)mn);
        pv_put_u32(e + 8, (uint32_t)off);
        e[12] = (uint8_t)w;
        for (j = 0; j < m; j++) x[j] = b[j] - (uint64_t)mn;
        pv_pack_bits(data + off, x, m, w);
        off += pv_packed_len(m, w);
    }
}

int pv_for_block(const pv_pack *k, uint32_t b, int64_t *ref, unsigned *width,
                 const uint8_t **words)
{
    const uint8_t *e;
    uint32_t off;
    unsigned w;
    if (b >= k->nblocks) return 1;
    e = k->tab + (size_t)b * PV_FOR_ENTRY;
    off = pv_get_u32(e + 8);
    w = e[12];
    if (w > 64 || off > k->data_len ||
        pv_packed_len(pv_block_len(k->n, b), w) > k->data_len - off)
        return 1;
    *ref = (int64_t)pv_get_u64(e);
    *width = w;
    *words = k->data + off;
    return 0;
}

void pv_for_settle(pv_pack *k)
{
    int64_t ref;
    unsigned w;
    const uint8_t *q;
    for (uint32_t b = 0; b < k->nblocks; b++)
        if (pv_for_block(k, b, &ref, &w, &q)) return;
    k->settled = 1;
}

int pv_for_get(const pv_pack *k, uint32_t i, uint64_t *out)
{
    int64_t ref;
    unsigned w;
    const uint8_t *q;
    if (i >= k->n) return 1;
    if (k->settled) { /* (the entry's width and words were checked) */
        const uint8_t *e = k->tab + (size_t)(i >> PV_BLOCK_SHIFT) * PV_FOR_ENTRY;
        *out = pv_get_u64(e) + pv_unpack1(k->data + pv_get_u32(e + 8), i & (PV_BLOCK_ROWS - 1), e[12]);
        return 0;
    }
    if (pv_for_block(k, i >> PV_BLOCK_SHIFT, &ref, &w, &q)) return 1;
    *out = (uint64_t)ref + pv_unpack1(q, i & (PV_BLOCK_ROWS - 1), w);
    return 0;
}

int pv_for_read(const pv_pack *k, uint32_t i0, uint32_t n, uint64_t *out)
{
    uint32_t done = 0;
    while (done < n) {
        uint32_t i = i0 + done, b = i >> PV_BLOCK_SHIFT, j0 = i & (PV_BLOCK_ROWS - 1);
        uint32_t m = PV_BLOCK_ROWS - j0;
        int64_t ref;
        unsigned w;
        const uint8_t *q;
        if (m > n - done) m = n - done;
        if (pv_for_block(k, b, &ref, &w, &q)) return 1;
        /* only the window's values, the reference added as they unpack */
        pv_unpack_ref(q, j0, m, w, (uint64_t)ref, out + done);
        done += m;
    }
    return 0;
}

int pv_pack_tail_zero(const uint8_t *q, uint32_t m, unsigned w)
{
    uint64_t bits = (uint64_t)m * w, len = pv_packed_len(m, w);
    unsigned used = (unsigned)(bits & 63);
    if (len == 0 || used == 0) return 1;
    return (pv_get_u64(q + len - 8) >> used) == 0;
}

int pv_for_check(const pv_pack *k)
{
    uint64_t off = 0;
    uint32_t b;
    for (b = 0; b < k->nblocks; b++) {
        const uint8_t *e = k->tab + (size_t)b * PV_FOR_ENTRY, *q;
        uint32_t m = pv_block_len(k->n, b);
        int64_t ref;
        unsigned w;
        if (pv_for_block(k, b, &ref, &w, &q)) return 1;
        if (pv_get_u32(e + 8) != off || e[13] || e[14] || e[15]) return 1;
        if (!pv_pack_tail_zero(q, m, w)) return 1;
        off += pv_packed_len(m, w);
    }
    return off != k->data_len;
}

static int for_plan(pv_enc_ctx *ctx, const pv_enc_in *in, uint64_t *out)
{
    return pv_intcol_plan(PV_ENC_FOR, ctx, in, out);
}

static int for_write(pv_enc_ctx *ctx, const pv_enc_in *in, uint8_t *dst)
{
    return pv_intcol_write(PV_ENC_FOR, ctx, in, dst);
}

const pv_encoder pv_enc_for = {
    PV_ENC_FOR, "for", PV_T(PV_INTEGER), for_plan, for_write,
    pv_intcol_open, pv_intcol_read, pv_intcol_get, pv_intcol_check, pv_intcol_prefetch,
};

int pv_dec_for_block(const pv_dec *d, uint32_t r0, int64_t *ref, unsigned *width,
                     const uint8_t **words)
{
    if (d->enc != PV_ENC_FOR || r0 >= d->nrows) return 1;
    return pv_for_block(&d->is.a, r0 >> PV_BLOCK_SHIFT, ref, width, words);
}
