/*
 * encode_stream.h: private interface between the integer stream kinds
 * (encode_for.c, encode_delta.c, encode_rle.c, encode_linear.c), their
 * dispatch (encode_pack.c) and the column encoders built on them.
 */
#ifndef PV_ENCODE_STREAM_H
#define PV_ENCODE_STREAM_H

#include "encode.h"

/* Blocks of n values. */
static inline uint32_t pv_nblocks(uint32_t n) { return (n + PV_BLOCK_ROWS - 1) >> PV_BLOCK_SHIFT; }
/* Values in block k of n. */
static inline uint32_t pv_block_len(uint32_t n, uint32_t k)
{
    uint32_t first = k << PV_BLOCK_SHIFT;
    return n - first < PV_BLOCK_ROWS ? n - first : PV_BLOCK_ROWS;
}

/* Table of esz-byte entries for ceil(n/1024) blocks at the start of
 * p[0..len), packed words after it. 0 or 1. */
int pv_pack_open(pv_pack *k, uint32_t esz, const uint8_t *p, uint64_t len, uint32_t n);

/* pv_dec_settle of a FOR or DELTA stream: k->settled = 1 when every block
 * entry passes pv_for_block's (pv_delta_block's) checks. */
void pv_for_settle(pv_pack *k);
void pv_delta_settle(pv_pack *k);

/* Bits past the last of m values of w bits in their last word are zero. */
int pv_pack_tail_zero(const uint8_t *q, uint32_t m, unsigned w);

uint64_t pv_for_plan(const uint64_t *v, uint32_t n);
void pv_for_write(const uint64_t *v, uint32_t n, uint8_t *dst);
int pv_for_get(const pv_pack *k, uint32_t i, uint64_t *out);
int pv_for_read(const pv_pack *k, uint32_t i0, uint32_t n, uint64_t *out);
int pv_for_check(const pv_pack *k);
/* Block k's reference (its minimum) and width, checked. 0 or 1. */
int pv_for_block(const pv_pack *k, uint32_t b, int64_t *ref, unsigned *width,
                 const uint8_t **words);

uint64_t pv_delta_plan(const uint64_t *v, uint32_t n);
void pv_delta_write(const uint64_t *v, uint32_t n, uint8_t *dst);
int pv_delta_get(const pv_pack *k, uint32_t i, uint64_t *out);
int pv_delta_read(const pv_pack *k, uint32_t i0, uint32_t n, uint64_t *out);
/* Values [i0, i0 + n) as runs of equal values, for a reader that looks
 * each distinct value up once (a dictionary's codes, DELTA-coded when
 * sorted): run r holds vals[r] on rows [ends[r - 1], ends[r]) of the
 * window (from 0; ends[*nruns - 1] = n). vals and ends have room for n.
 * At width 1 with no minimum delta (codes stepping by 0 or 1, as a
 * time column's in a table kept in time order) the runs come from the
 * set bits a word at a time, no value unpacked. 0, or 1 (a bad block, or
 * a window outside the stream). */
int pv_delta_runs(const pv_pack *k, uint32_t i0, uint32_t n, uint64_t *vals, uint32_t *ends,
                  uint32_t *nruns);
int pv_delta_check(const pv_pack *k);

int pv_rle_plan(const uint64_t *v, uint32_t n, pv_enc_scratch *sc, uint64_t *out);
void pv_rle_write(uint32_t n, pv_enc_scratch *sc, uint8_t *dst);
int pv_rle_open(pv_istream *s, const uint8_t *p, uint64_t len, uint32_t n);
int pv_rle_get(const pv_istream *s, uint32_t i, uint64_t *out);
int pv_rle_read(const pv_istream *s, uint32_t i0, uint32_t n, uint64_t *out);
int pv_rle_check(const pv_istream *s);

int pv_linear_plan(const uint64_t *v, uint32_t n, uint64_t *out);
void pv_linear_write(const uint64_t *v, uint32_t n, uint8_t *dst);
int pv_linear_open(pv_istream *s, const uint8_t *p, uint64_t len, uint32_t n);

/* Column encoders whose values section is one integer stream of kind
 * d->enc over the rows (encode_pack.c). */
int pv_intcol_plan(uint8_t kind, pv_enc_ctx *ctx, const pv_enc_in *in, uint64_t *out);
int pv_intcol_write(uint8_t kind, pv_enc_ctx *ctx, const pv_enc_in *in, uint8_t *dst);
int pv_intcol_open(pv_dec *d, const char **why);
int pv_intcol_read(pv_dec *d, uint32_t r0, uint32_t n, pv_dec_out out, const char **why);
int pv_intcol_get(pv_dec *d, uint32_t r, pv_value *out, pv_buf *mem, uint64_t *moff,
                  const char **why);
int pv_intcol_check(pv_dec *d, const char **why);
void pv_intcol_prefetch(const pv_dec *d, uint32_t r);
/* Prefetch the packed word of value i of a stream (FOR, DELTA). */
void pv_is_prefetch(const pv_istream *s, uint32_t i);

#define PV_T(t) (1u << (t))

#endif
