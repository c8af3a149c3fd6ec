/*
 * encode_pack.c: bit-packing, the dispatch of integer streams by kind, and
 * the column encoders whose values section is one integer stream.
 *
 * Packed words: the bits of value j of a block of width w are bits
 * [j*w, j*w + w) of the block's sequence of little-endian u64 words (bit i
 * is bit i % 64 of word i / 64); a block of m values takes ceil(m*w/64)
 * words; unused bits are zero.
 */
#include <string.h>
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "encode_stream.h"

/* ---- unpacking: the one set of width-specialized loops --------------------------------
 * Eight values of width w take exactly w bytes, so value k of each group
 * of eight sits at the same byte (k*w/8) and bit (k*w%8) of its group:
 * with w a constant every shift and mask is one, and a value costs a load,
 * a shift, an AND and the reference's ADD, with no branch. A load reads 8
 * bytes from the value's first byte, so it holds the value while
 * (k*w%8) + w <= 64: w <= 56. Every reader of packed values (FOR, DELTA,
 * dictionary codes, the executor's pv_batch_flatten) goes through here. */
#define UNPACK_MAXW 32   /* widths with a specialized copy */
#define UNPACK_WIDE 56   /* widest a group load can hold */

static inline __attribute__((always_inline)) void
unpack_groups(const uint8_t *p, uint32_t ngroups, const unsigned w, uint64_t ref, uint64_t *o)
{
    uint32_t g;
    unsigned k;
    for (g = 0; g < ngroups; g++, p += w, o += 8) {
#pragma GCC unroll 8
        for (k = 0; k < 8; k++)
            o[k] = ((pv_get_u64(p + ((k * w) >> 3)) >> ((k * w) & 7)) & ((1ull << w) - 1)) + ref;
    }
}

#define UNPACK_W(W)                                                                          \
    static void unpack_groups_w##W(const uint8_t *p, uint32_t ng, uint64_t ref, uint64_t *o) \
    {                                                                                        \
        unpack_groups(p, ng, W, ref, o);                                                     \
    }
UNPACK_W(1) UNPACK_W(2) UNPACK_W(3) UNPACK_W(4) UNPACK_W(5) UNPACK_W(6) UNPACK_W(7) UNPACK_W(8)
UNPACK_W(9) UNPACK_W(10) UNPACK_W(11) UNPACK_W(12) UNPACK_W(13) UNPACK_W(14) UNPACK_W(15)
UNPACK_W(16) UNPACK_W(17) UNPACK_W(18) UNPACK_W(19) UNPACK_W(20) UNPACK_W(21) UNPACK_W(22)
UNPACK_W(23) UNPACK_W(24) UNPACK_W(25) UNPACK_W(26) UNPACK_W(27) UNPACK_W(28) UNPACK_W(29)
UNPACK_W(30) UNPACK_W(31) UNPACK_W(32)
#undef UNPACK_W

typedef void (*unpack_fn)(const uint8_t *, uint32_t, uint64_t, uint64_t *);
static const unpack_fn unpack_by_width[UNPACK_MAXW + 1] = {
    NULL, unpack_groups_w1, unpack_groups_w2, unpack_groups_w3, unpack_groups_w4,
    unpack_groups_w5, unpack_groups_w6, unpack_groups_w7, unpack_groups_w8, unpack_groups_w9,
    unpack_groups_w10, unpack_groups_w11, unpack_groups_w12, unpack_groups_w13,
    unpack_groups_w14, unpack_groups_w15, unpack_groups_w16, unpack_groups_w17,
    unpack_groups_w18, unpack_groups_w19, unpack_groups_w20, unpack_groups_w21,
    unpack_groups_w22, unpack_groups_w23, unpack_groups_w24, unpack_groups_w25,
    unpack_groups_w26, unpack_groups_w27, unpack_groups_w28, unpack_groups_w29,
    unpack_groups_w30, unpack_groups_w31, unpack_groups_w32,
};

int pv_unpack_scalar;

/* Widths 1..16 with AVX2 (dictionary codes, small counts and deltas):
 * a group of eight values is w <= 16 bytes, loaded once into both lanes;
 * a byte shuffle gives each value the bytes it spans as a 32-bit lane,
 * which one variable shift and an AND finish; two widenings to 64 bits,
 * the reference added, two stores: 14 instructions for eight values
 * where the scalar loop takes 32 or more. The shuffle and shifts for w are
 * made with a few vector operations per call, not a table. Each group
 * loads 16 bytes from its first: the caller keeps that inside the packed
 * words. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("avx2"))) static void unpack_groups_avx2(const uint8_t *p, uint32_t ng,
                                                              unsigned w, uint64_t ref,
                                                              uint64_t *o)
{
    /* 32-bit lane k (value k): the bytes b .. b + 3 from b = k w / 8, those
     * past the group's w made 0xFF (the shuffle then writes 0), and the
     * shift k w % 8 */
    const __m256i kw = _mm256_mullo_epi32(_mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), _mm256_set1_epi32((int)w));
    const __m256i idx = _mm256_add_epi32(_mm256_mullo_epi32(_mm256_srli_epi32(kw, 3), _mm256_set1_epi32(0x01010101)),
                                         _mm256_set1_epi32(0x03020100));
    const __m256i sh = _mm256_or_si256(idx, _mm256_cmpgt_epi8(idx, _mm256_set1_epi8((char)(w - 1))));
    const __m256i sv = _mm256_and_si256(kw, _mm256_set1_epi32(7));
    const __m256i mask = _mm256_set1_epi32((int)((1u << w) - 1)), r = _mm256_set1_epi64x((long long)ref);
    for (uint32_t g = 0; g < ng; g++, p += w, o += 8) {
        __m256i x = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)(const void *)p));
        x = _mm256_and_si256(_mm256_srlv_epi32(_mm256_shuffle_epi8(x, sh), sv), mask);
        _mm256_storeu_si256((__m256i *)(void *)o,
                            _mm256_add_epi64(_mm256_cvtepu32_epi64(_mm256_castsi256_si128(x)), r));
        _mm256_storeu_si256((__m256i *)(void *)(o + 4),
                            _mm256_add_epi64(_mm256_cvtepu32_epi64(_mm256_extracti128_si256(x, 1)), r));
    }
}
#define HAVE_AVX2() (!pv_unpack_scalar && __builtin_cpu_supports("avx2"))
#else
#define unpack_groups_avx2(p, ng, w, ref, o) ((void)0)
#define HAVE_AVX2() 0
#endif

/* Widths 33..56: the same loop with w a variable (rare: wide values). */
static void unpack_groups_wide(const uint8_t *p, uint32_t ng, unsigned w, uint64_t ref,
                               uint64_t *o)
{
    unpack_groups(p, ng, w, ref, o);
}

/* How values [j0, j0 + m) of width w split for the 8-value group loops:
 * *head values one at a time up to a group boundary, then *ng whole
 * groups, the rest one at a time. A group's loads read 8 bytes from
 * each value's first byte, the last one bytes [.. + (7w >> 3) + 8): the
 * groups stop where that would pass the bytes the values' words span. */
static inline void split_groups(uint32_t j0, uint32_t m, unsigned w, uint32_t *head, uint32_t *ng)
{
    uint64_t end = pv_packed_len(j0 + m, w);
    uint32_t h = (8 - (j0 & 7)) & 7, g;
    if (h > m) h = m;
    g = (m - h) / 8;
    while (g && ((uint64_t)(j0 + h) / 8 + g - 1) * w + ((7 * w) >> 3) + 8 > end) g--;
    *head = h;
    *ng = g;
}

void pv_unpack_ref(const uint8_t *q, uint32_t j0, uint32_t m, unsigned w, uint64_t ref,
                   uint64_t *out)
{
    uint32_t j = 0, head, ng;
    if (w == 0 || w > UNPACK_WIDE) { /* a constant block, or values a load cannot hold */
        for (; j < m; j++) out[j] = ref + pv_unpack1(q, j0 + j, w);
        return;
    }
    split_groups(j0, m, w, &head, &ng);
    for (; j < head; j++) out[j] = ref + pv_unpack1(q, j0 + j, w);
    if (ng && w <= 16 && HAVE_AVX2()) {
        /* the groups whose 16-byte load stays in the values' words */
        uint64_t end = pv_packed_len(j0 + m, w), at = (uint64_t)(j0 + j) / 8 * w;
        uint32_t nv = end < at + 16 ? 0 : (uint32_t)((end - at - 16) / w + 1);
        if (nv > ng) nv = ng;
        unpack_groups_avx2(q + at, nv, w, ref, out + j);
        j += nv * 8;
        ng -= nv;
    }
    if (ng && w <= UNPACK_MAXW)
        unpack_by_width[w](q + (uint64_t)(j0 + j) / 8 * w, ng, ref, out + j);
    else if (ng)
        unpack_groups_wide(q + (uint64_t)(j0 + j) / 8 * w, ng, w, ref, out + j);
    for (j += ng * 8; j < m; j++) out[j] = ref + pv_unpack1(q, j0 + j, w);
}

void pv_unpack(const uint8_t *q, uint32_t j0, uint32_t m, unsigned w, uint64_t *out)
{
    pv_unpack_ref(q, j0, m, w, 0, out);
}

/* Set bits of x, inline (without -mpopcnt the builtin is a libgcc call). */
static inline uint64_t popcount64(uint64_t x)
{
    x = x - ((x >> 1) & 0x5555555555555555ull);
    x = (x & 0x3333333333333333ull) + ((x >> 2) & 0x3333333333333333ull);
    x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0full;
    return (x * 0x0101010101010101ull) >> 56;
}

/* Set bits of the n little-endian words at q. The library is built for
 * the x86-64 baseline, which has no POPCNT instruction; CPUs since 2008
 * have it, and with it a point read of a DELTA column (a prefix sum of up
 * to 1,023 one-bit deltas) takes a third of the instructions. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("popcnt"))) static uint64_t words_popcount_hw(const uint8_t *q, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += (uint64_t)__builtin_popcountll(pv_get_u64(q + 8 * i));
    return sum;
}
#define HAVE_POPCOUNT_HW() __builtin_cpu_supports("popcnt")
#else
#define words_popcount_hw words_popcount_sw
#define HAVE_POPCOUNT_HW() 1
#endif

static uint64_t words_popcount_sw(const uint8_t *q, size_t n)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) sum += popcount64(pv_get_u64(q + 8 * i));
    return sum;
}

/* Sum of bits [j0, j0 + m): the partial first and last words masked, the
 * whole words between counted together. */
static uint64_t bits_sum(const uint8_t *q, uint32_t j0, uint32_t m)
{
    uint64_t sum = 0, b = j0, e = (uint64_t)j0 + m, full;
    if (m == 0) return 0;
    if (b & 63) { /* the head: bits b .. of its word */
        unsigned lo = (unsigned)(b & 63), nb = e - b < 64 - lo ? (unsigned)(e - b) : 64 - lo;
        uint64_t x = pv_get_u64(q + 8 * (size_t)(b >> 6)) >> lo;
        sum += popcount64(nb < 64 ? x & ((1ull << nb) - 1) : x);
        b += nb;
    }
    full = (e - b) / 64;
    if (full)
        sum += HAVE_POPCOUNT_HW() ? words_popcount_hw(q + 8 * (size_t)(b >> 6), (size_t)full)
                                  : words_popcount_sw(q + 8 * (size_t)(b >> 6), (size_t)full);
    b += full * 64;
    if (b < e) /* the tail: the low e - b bits of its word */
        sum += popcount64(pv_get_u64(q + 8 * (size_t)(b >> 6)) & ((1ull << (e - b)) - 1));
    return sum;
}

/* Sum of whole groups of eight values of width w <= 32 from p. Value k of
 * every group starts at the same byte (k*w/8) and bit (k*w%8) of its
 * group, so one accumulator per k adds the groups' raw loads masked in
 * place, (load & (mask << shift)), and shifts once at the end: a load, an
 * AND and an ADD per value, no branch. w is a variable here (the offsets
 * and masks are computed once per call): one copy of the loop serves every
 * width, within about 2% of 32 width-specialized copies on SUM(delay) and
 * 7 KB smaller (issue 7). A masked lane is below 2^39, so 2^24 groups fit
 * a 64-bit accumulator. */
static uint64_t sum_groups(const uint8_t *p, uint32_t ng, unsigned w)
{
    uint64_t sum = 0, mask[8], acc[8] = {0};
    size_t off[8];
    uint32_t g;
    unsigned k;
    for (k = 0; k < 8; k++) {
        off[k] = (k * w) >> 3;
        mask[k] = ((1ull << w) - 1) << ((k * w) & 7);
    }
    for (g = 0; g < ng; g++, p += w) {
#pragma GCC unroll 8
        for (k = 0; k < 8; k++) acc[k] += pv_get_u64(p + off[k]) & mask[k];
    }
    for (k = 0; k < 8; k++) sum += acc[k] >> ((k * w) & 7);
    return sum;
}

uint64_t pv_packed_sum(const uint8_t *q, uint32_t j0, uint32_t m, unsigned w)
{
    uint64_t v[64], sum = 0;
    uint32_t j = 0, t, head, ng;
    if (w == 0) return 0;
    if (w == 1) return bits_sum(q, j0, m); /* (DELTA of sorted dictionary codes) */
    if (w > UNPACK_MAXW) { /* (wide values through the one set of unpack loops, 64 at a time) */
        for (; j < m; j += 64) {
            uint32_t k = m - j < 64 ? m - j : 64;
            pv_unpack_ref(q, j0 + j, k, w, 0, v);
            for (t = 0; t < k; t++) sum += v[t];
        }
        return sum;
    }
    split_groups(j0, m, w, &head, &ng);
    for (; j < head; j++) sum += pv_unpack1(q, j0 + j, w);
    for (t = 0; t < ng; t += 1u << 24) /* (2^24 groups at most per accumulator) */
        sum += sum_groups(q + ((uint64_t)(j0 + j) / 8 + t) * w, ng - t < (1u << 24) ? ng - t : 1u << 24, w);
    for (j += ng * 8; j < m; j++) sum += pv_unpack1(q, j0 + j, w);
    return sum;
}

void pv_pack_bits(uint8_t *dst, const uint64_t *x, uint32_t m, unsigned w)
{
    uint64_t acc = 0;
    uint32_t j, used = 0; /* bits in acc */
    size_t wo = 0;
    if (w == 0) return;
    for (j = 0; j < m; j++) {
        uint64_t v = x[j];
        acc |= v << used;
        if (used + w >= 64) {
            pv_put_u64(dst + 8 * wo++, acc);
            acc = used ? v >> (64 - used) : 0;
            used = used + w - 64;
        } else {
            used += w;
        }
    }
    if (used) pv_put_u64(dst + 8 * wo, acc);
}

int pv_pack_open(pv_pack *k, uint32_t esz, const uint8_t *p, uint64_t len, uint32_t n)
{
    uint64_t tab;
    k->n = n;
    k->nblocks = (n + PV_BLOCK_ROWS - 1) >> PV_BLOCK_SHIFT;
    k->esz = esz;
    tab = (uint64_t)k->nblocks * esz;
    if (tab > len) return 1;
    k->tab = p;
    k->data = p + tab;
    k->data_len = len - tab;
    k->settled = 0;
    return 0;
}

/* ---- dispatch ---------------------------------------------------------------- */

const char *pv_is_name(uint8_t kind)
{
    switch (kind) {
    case PV_ENC_FOR: return "for";
    case PV_ENC_DELTA: return "delta";
    case PV_ENC_RLE: return "rle";
    case PV_ENC_LINEAR: return "linear";
    default: return "?";
    }
}

int pv_is_plan(uint8_t kind, const uint64_t *v, uint32_t n, pv_enc_scratch *sc,
               uint64_t *out)
{
    switch (kind) {
    case PV_ENC_FOR: *out = pv_for_plan(v, n); return PV_OK;
    case PV_ENC_DELTA: *out = pv_delta_plan(v, n); return PV_OK;
    case PV_ENC_RLE: return pv_rle_plan(v, n, sc, out);
    case PV_ENC_LINEAR: return pv_linear_plan(v, n, out);
    default: return PV_ENC_UNSUITABLE;
    }
}

void pv_is_write(uint8_t kind, const uint64_t *v, uint32_t n, pv_enc_scratch *sc,
                 uint8_t *dst)
{
    switch (kind) {
    case PV_ENC_FOR: pv_for_write(v, n, dst); break;
    case PV_ENC_DELTA: pv_delta_write(v, n, dst); break;
    case PV_ENC_RLE: pv_rle_write(n, sc, dst); break;
    case PV_ENC_LINEAR: pv_linear_write(v, n, dst); break;
    default: break;
    }
}

int pv_is_choose(const uint64_t *v, uint32_t n, unsigned flags, pv_enc_scratch *sc,
                 uint8_t *kind, uint64_t *size)
{
    static const uint8_t kinds[4] = {PV_ENC_FOR, PV_ENC_DELTA, PV_ENC_RLE, PV_ENC_LINEAR};
    uint64_t for_size = 0, best = 0;
    unsigned i;
    int found = 0;
    for (i = 0; i < 4; i++) {
        uint64_t sz;
        int rc;
        if (kinds[i] == PV_ENC_DELTA && (flags & PV_ENC_KEY)) continue;
        rc = pv_is_plan(kinds[i], v, n, sc, &sz);
        if (rc == PV_ENC_UNSUITABLE) continue;
        if (rc) return rc;
        if (kinds[i] == PV_ENC_FOR) for_size = sz;
        /* DELTA costs a prefix sum per point read: it must earn it. */
        if (kinds[i] == PV_ENC_DELTA && sz > for_size - for_size / 4) continue;
        if (!found || sz < best) {
            best = sz;
            *kind = kinds[i];
            found = 1;
        }
    }
    /* Only RLE keeps state in sc (its runs), and no later kind touches
     * it, so the winner's write() finds what its plan left. */
    *size = best;
    return found ? PV_OK : PV_ENC_UNSUITABLE;
}

int pv_is_open(pv_istream *s, uint8_t kind, const uint8_t *p, uint64_t len, uint32_t n)
{
    memset(s, 0, sizeof *s);
    s->kind = kind;
    s->n = n;
    switch (kind) {
    case PV_ENC_FOR: return pv_pack_open(&s->a, PV_FOR_ENTRY, p, len, n);
    case PV_ENC_DELTA: return pv_pack_open(&s->a, PV_DELTA_ENTRY, p, len, n);
    case PV_ENC_RLE: return pv_rle_open(s, p, len, n);
    case PV_ENC_LINEAR: return pv_linear_open(s, p, len, n);
    default: return 1;
    }
}

int pv_is_get(const pv_istream *s, uint32_t i, uint64_t *out)
{
    if (i >= s->n) return 1;
    switch (s->kind) {
    case PV_ENC_FOR: return pv_for_get(&s->a, i, out);
    case PV_ENC_DELTA: return pv_delta_get(&s->a, i, out);
    case PV_ENC_RLE: return pv_rle_get(s, i, out);
    case PV_ENC_LINEAR:
        *out = (uint64_t)s->base + (uint64_t)i * (uint64_t)s->step;
        return 0;
    default: return 1;
    }
}

/* Values [i0, i0 + n) of a LINEAR stream: base and step in locals (a
 * store to out may alias s), so the loop is a vector of additions. */
static int linear_read(const pv_istream *s, uint32_t i0, uint32_t n, uint64_t *out)
{
    const uint64_t step = (uint64_t)s->step, first = (uint64_t)s->base + (uint64_t)i0 * step;
    uint32_t j;
    uint64_t v = first;
    /* (a running sum, four at a time: j * step was 5 instructions a value
     * of a 1..N key read by a range) */
#pragma GCC unroll 4
    for (j = 0; j < n; j++, v += step) out[j] = v;
    return 0;
}

int pv_is_read(const pv_istream *s, uint32_t i0, uint32_t n, uint64_t *out)
{
    if (i0 > s->n || n > s->n - i0) return 1;
    switch (s->kind) {
    case PV_ENC_FOR: return pv_for_read(&s->a, i0, n, out);
    case PV_ENC_DELTA: return pv_delta_read(&s->a, i0, n, out);
    case PV_ENC_RLE: return pv_rle_read(s, i0, n, out);
    case PV_ENC_LINEAR: return linear_read(s, i0, n, out);
    default: return 1;
    }
}

int pv_is_check(const pv_istream *s)
{
    switch (s->kind) {
    case PV_ENC_FOR: return pv_for_check(&s->a);
    case PV_ENC_DELTA: return pv_delta_check(&s->a);
    case PV_ENC_RLE: return pv_rle_check(s);
    case PV_ENC_LINEAR: return s->n <= 1 && s->step != 0;
    default: return 1;
    }
}

/* ---- column encoders over one stream --------------------------------------------- */

int pv_intcol_plan(uint8_t kind, pv_enc_ctx *ctx, const pv_enc_in *in, uint64_t *out)
{
    /* LINEAR cannot say where the NULLs are: their slots would break it. */
    if (kind == PV_ENC_LINEAR && in->null_count) return PV_ENC_UNSUITABLE;
    return pv_is_plan(kind, in->u, in->nrows, &ctx->s[kind][0], out);
}

int pv_intcol_write(uint8_t kind, pv_enc_ctx *ctx, const pv_enc_in *in, uint8_t *dst)
{
    pv_is_write(kind, in->u, in->nrows, &ctx->s[kind][0], dst);
    return PV_OK;
}

int pv_intcol_open(pv_dec *d, const char **why)
{
    *why = "bad integer stream header";
    return pv_is_open(&d->is, d->enc, d->p, d->n, d->nrows);
}

/* Booleans read from a stream must be 0 or 1. */
static int bad_bools(const pv_dec *d, const uint64_t *v, uint32_t n)
{
    uint64_t acc = 0;
    uint32_t j;
    if (d->type != PV_BOOLEAN) return 0;
    for (j = 0; j < n; j++) acc |= v[j];
    return acc > 1;
}

int pv_intcol_read(pv_dec *d, uint32_t r0, uint32_t n, pv_dec_out out, const char **why)
{
    uint32_t done = 0;
    while (done < n) {
        uint32_t m = n - done < PV_BLOCK_ROWS ? n - done : PV_BLOCK_ROWS;
        /* integers straight into the output (int64_t and uint64_t alias) */
        uint64_t *dst = d->type == PV_REAL ? d->tmp : (uint64_t *)(void *)(out.i + done);
        if (pv_is_read(&d->is, r0 + done, m, dst)) {
            *why = "bad integer stream block";
            return 1;
        }
        if (bad_bools(d, dst, m)) {
            *why = "boolean value other than 0 or 1";
            return 1;
        }
        if (d->type == PV_REAL) memcpy(out.f + done, d->tmp, (size_t)m * 8);
        done += m;
    }
    return 0;
}

int pv_intcol_get(pv_dec *d, uint32_t r, pv_value *out, pv_buf *mem, uint64_t *moff,
                  const char **why)
{
    uint64_t v;
    (void)mem;
    *moff = UINT64_MAX;
    if (pv_is_get(&d->is, r, &v)) {
        *why = "bad integer stream block";
        return 1;
    }
    if (d->type == PV_BOOLEAN && v > 1) {
        *why = "boolean value other than 0 or 1";
        return 1;
    }
    *out = pv_enc_num_value(d->type, v);
    return 0;
}

int pv_intcol_check(pv_dec *d, const char **why)
{
    uint32_t r;
    *why = "bad integer stream layout";
    if (pv_is_check(&d->is)) return 1;
    for (r = 0; r < d->nrows; r += PV_BLOCK_ROWS) {
        uint32_t m = d->nrows - r < PV_BLOCK_ROWS ? d->nrows - r : PV_BLOCK_ROWS;
        if (pv_is_read(&d->is, r, m, d->tmp)) return 1;
        if (bad_bools(d, d->tmp, m)) {
            *why = "boolean value other than 0 or 1";
            return 1;
        }
    }
    return 0;
}

void pv_is_prefetch(const pv_istream *s, uint32_t i)
{
    const uint8_t *e;
    uint32_t b = i >> PV_BLOCK_SHIFT, off, j = i & (PV_BLOCK_ROWS - 1);
    unsigned w;
    if (i >= s->n || (s->kind != PV_ENC_FOR && s->kind != PV_ENC_DELTA)) return;
    e = s->a.tab + (size_t)b * s->a.esz;
    off = pv_get_u32(e + (s->kind == PV_ENC_FOR ? 8 : 16));
    w = e[s->kind == PV_ENC_FOR ? 12 : 20];
    if (s->kind == PV_ENC_DELTA) j = 0; /* the sum starts at the block */
    if (w > 64 || off >= s->a.data_len) return;
    if ((uint64_t)off + (uint64_t)j * w / 8 < s->a.data_len)
        __builtin_prefetch(s->a.data + off + (uint64_t)j * w / 8);
}

void pv_intcol_prefetch(const pv_dec *d, uint32_t r) { pv_is_prefetch(&d->is, r); }

/* Every line of the packed words of rows [i, i + n) within i's block, FOR
 * and DELTA streams (a DELTA block from its start, where its sum does). */
static void is_prefetch_rows(const pv_istream *s, uint32_t i, uint32_t n)
{
    const uint8_t *e;
    uint32_t b = i >> PV_BLOCK_SHIFT, off, j = i & (PV_BLOCK_ROWS - 1);
    uint64_t a, z;
    unsigned w;
    if (i >= s->n || (s->kind != PV_ENC_FOR && s->kind != PV_ENC_DELTA)) return;
    e = s->a.tab + (size_t)b * s->a.esz;
    off = pv_get_u32(e + (s->kind == PV_ENC_FOR ? 8 : 16));
    w = e[s->kind == PV_ENC_FOR ? 12 : 20];
    if (s->kind == PV_ENC_DELTA) {
        n += j;
        j = 0;
    }
    if (n > PV_BLOCK_ROWS - j) n = PV_BLOCK_ROWS - j;
    if (w > 64 || !w || off >= s->a.data_len) return;
    a = off + (uint64_t)j * w / 8;
    z = off + ((uint64_t)(j + n) * w + 7) / 8;
    if (z > s->a.data_len) z = s->a.data_len;
    for (; a < z; a += 64) __builtin_prefetch(s->a.data + a);
    __builtin_prefetch(s->a.data + z - 1);
}

void pv_dec_settle(pv_dec *d)
{
    /* (d->is is the stream of these three encodings only) */
    if (d->enc != PV_ENC_DICT && d->enc != PV_ENC_FOR && d->enc != PV_ENC_DELTA) return;
    if (d->is.kind == PV_ENC_FOR) pv_for_settle(&d->is.a);
    else if (d->is.kind == PV_ENC_DELTA) pv_delta_settle(&d->is.a);
}

void pv_dec_prefetch_rows(const pv_dec *d, uint32_t r, uint32_t n)
{
    if (d->enc == PV_ENC_DICT || d->enc == PV_ENC_FOR || d->enc == PV_ENC_DELTA)
        is_prefetch_rows(&d->is, r, n);
}
