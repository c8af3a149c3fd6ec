/*
 * encode_zstr.c: ZSTR, long TEXT and BLOB values compressed by zstd in
 * blocks of 1024 rows, so a point read decompresses one block, never the
 * chunk:
 *
 *   block table   ceil(n / 1024) entries of 16 bytes:
 *                   0  u32 offset      of the block's stored bytes, from the
 *                                      data start (blocks back to back)
 *                   4  u32 stored_len
 *                   8  u32 raw_len     bytes once decompressed
 *                   12 u8  method      0 stored as is, 1 one zstd frame
 *                   13 u8[3]           zero
 *   data          each block: raw form u32 offsets[m + 1] + bytes of its
 *                 m rows (as PLAIN), compressed or not
 *
 * Chosen only for chunks whose non-NULL values average 32 bytes or more,
 * never for keys, and only when the result is at most 4/5 of the best
 * uncompressed encoding (encode_choose.c). A block zstd does not shrink is
 * stored as is.
 */
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "encode_stream.h"
#include "pvdb_blockcache.h"

#define ZSTR_LEVEL 3
#define ZSTR_MIN_AVG 32
/* zstd cannot expand more than this; a block claiming more is crafted. */
#define ZSTR_MAX_RATIO 65536u
#define ZSTR_MAX_RAW (1u << 31)

/* Scratch: s[0] the stored blocks back to back, s[1] per block (offset,
 * stored, raw, method) as 4 u32, s[2] one raw block. */

static uint64_t raw_block_len(const pv_enc_in *in, uint32_t r0, uint32_t m)
{
    uint64_t n = 4 * ((uint64_t)m + 1);
    uint32_t r;
    for (r = r0; r < r0 + m; r++)
        if (!pv_enc_is_null(in, r)) n += in->v.u.s[r].n;
    return n;
}

static int zstr_plan(pv_enc_ctx *ctx, const pv_enc_in *in, uint64_t *out)
{
    pv_enc_scratch *data = &ctx->s[PV_ENC_ZSTR][0], *meta = &ctx->s[PV_ENC_ZSTR][1],
                   *raw = &ctx->s[PV_ENC_ZSTR][2];
    uint32_t nb = pv_nblocks(in->nrows), k, nonnull = in->nrows - in->null_count;
    uint64_t used = 0;
    int rc;
    if ((in->flags & (PV_ENC_KEY | PV_ENC_NO_ZSTD)) || !pv_enc_is_str(in->v.type) ||
        nonnull == 0 || in->str_bytes < (uint64_t)ZSTR_MIN_AVG * nonnull)
        return PV_ENC_UNSUITABLE;
    if (!ctx->zstd && !(ctx->zstd = ZSTD_createCCtx())) return pv_err(PV_ENOMEM, "out of memory");
    rc = pv_enc_scratch_reserve(meta, (size_t)nb * 16);
    if (rc) return rc;
    for (k = 0; k < nb; k++) {
        uint32_t r0 = k << PV_BLOCK_SHIFT, m = pv_block_len(in->nrows, k);
        uint64_t rlen = raw_block_len(in, r0, m);
        uint32_t *mt = (uint32_t *)meta->p + 4 * (size_t)k;
        size_t bound, n;
        if (rlen > ZSTR_MAX_RAW) return PV_ENC_UNSUITABLE;
        bound = ZSTD_compressBound((size_t)rlen);
        if ((rc = pv_enc_scratch_reserve(raw, (size_t)rlen)) ||
            (rc = pv_enc_scratch_reserve(data, (size_t)(used + bound))))
            return rc;
        pv_enc_put_strings(raw->p, in->v.u.s + r0, in->v.nulls ? in->v.nulls + r0 : NULL, m);
        n = ZSTD_compressCCtx(ctx->zstd, (uint8_t *)data->p + used, bound, raw->p,
                              (size_t)rlen, ZSTR_LEVEL);
        if (ZSTD_isError(n)) return pv_err(PV_ERROR, "zstd: %s", ZSTD_getErrorName(n));
        mt[3] = 1;
        if (n >= rlen) { /* not worth it: store the raw block */
            memcpy((uint8_t *)data->p + used, raw->p, (size_t)rlen);
            n = (size_t)rlen;
            mt[3] = 0;
        }
        if (used + n > UINT32_MAX) return PV_ENC_UNSUITABLE;
        mt[0] = (uint32_t)used;
        mt[1] = (uint32_t)n;
        mt[2] = (uint32_t)rlen;
        used += n;
    }
    ctx->plan[PV_ENC_ZSTR].a = used;
    *out = (uint64_t)nb * PV_ZSTR_ENTRY + used;
    return PV_OK;
}

static int zstr_write(pv_enc_ctx *ctx, const pv_enc_in *in, uint8_t *dst)
{
    uint32_t nb = pv_nblocks(in->nrows), k;
    const uint32_t *mt = ctx->s[PV_ENC_ZSTR][1].p;
    for (k = 0; k < nb; k++) {
        uint8_t *e = dst + (size_t)k * PV_ZSTR_ENTRY;
        pv_put_u32(e, mt[4 * k]);
        pv_put_u32(e + 4, mt[4 * k + 1]);
        pv_put_u32(e + 8, mt[4 * k + 2]);
        e[12] = (uint8_t)mt[4 * k + 3];
    }
    memcpy(dst + (size_t)nb * PV_ZSTR_ENTRY, ctx->s[PV_ENC_ZSTR][0].p,
           (size_t)ctx->plan[PV_ENC_ZSTR].a);
    return PV_OK;
}

static int zstr_open(pv_dec *d, const char **why)
{
    uint64_t tab = (uint64_t)pv_nblocks(d->nrows) * PV_ZSTR_ENTRY;
    *why = "bad compressed block table";
    if (tab > d->n) return 1;
    d->count = pv_nblocks(d->nrows);
    d->vals = d->p;
    d->bytes = d->p + tab;
    d->bytes_len = d->n - tab;
    d->cached = 0;
    d->held = NULL;
    return 0;
}

/* Block k's table entry, checked: where its stored bytes are, how long
 * it is raw, and whether it is compressed. 0 or 1. */
static int block_entry(const pv_dec *d, uint32_t k, uint32_t *off, uint32_t *slen,
                       uint32_t *rlen, int *zstd, const char **why)
{
    const uint8_t *e = d->vals + (size_t)k * PV_ZSTR_ENTRY;
    uint32_t m;
    *why = "bad compressed block";
    if (k >= d->count) return 1;
    m = pv_block_len(d->nrows, k);
    *off = pv_get_u32(e);
    *slen = pv_get_u32(e + 4);
    *rlen = pv_get_u32(e + 8);
    *zstd = e[12] == 1;
    if (*off > d->bytes_len || *slen > d->bytes_len - *off || e[12] > 1 ||
        *rlen < 4 * ((uint64_t)m + 1) || *rlen > ZSTR_MAX_RAW)
        return 1;
    if (!*zstd) return *slen != *rlen;
    return *rlen / ZSTR_MAX_RATIO > *slen;
}

/* Decompress block k (entry checked) into dst[0..rlen). 0 or 1. */
static int inflate(const pv_dec *d, uint32_t off, uint32_t slen, uint32_t rlen, void *dst,
                   const char **why)
{
    size_t n = ZSTD_decompress(dst, rlen, d->bytes + off, slen);
    *why = "compressed block does not decompress to its size";
    return ZSTD_isError(n) || n != rlen;
}

/* Block k's raw form: in the mapping, or decompressed and appended to
 * `mem`. *raw points at it until mem changes. */
static int load_block(const pv_dec *d, uint32_t k, pv_buf *mem, const uint8_t **raw,
                      uint32_t *rlen, const char **why)
{
    uint32_t off, slen;
    size_t at = mem->len;
    int zstd;
    if (block_entry(d, k, &off, &slen, rlen, &zstd, why)) return 1;
    if (!zstd) {
        *raw = d->bytes + off;
        return 0;
    }
    if (pv_buf_reserve(mem, *rlen)) return PV_ENOMEM;
    if (inflate(d, off, slen, *rlen, mem->p + at, why)) return 1;
    mem->len = at + *rlen;
    *raw = (const uint8_t *)mem->p + at;
    return 0;
}

/* Block k's raw form through the shared cache (d->cache set): in the
 * mapping (*held NULL), or a cached block, found or decompressed and
 * offered, with a reference in *held. 0, 1 or PV_ENOMEM. */
static int cached_block(const pv_dec *d, uint32_t k, const pv_block **held, const uint8_t **raw,
                        uint32_t *rlen, const char **why)
{
    uint32_t off, slen;
    pv_block_key key;
    const pv_block *b;
    int zstd;
    *held = NULL;
    if (block_entry(d, k, &off, &slen, rlen, &zstd, why)) return 1;
    if (!zstd) {
        *raw = d->bytes + off;
        return 0;
    }
    key.gen = d->gen;
    key.chunk = d->chunk;
    key.block = k;
    if (!(b = pv_blockcache_get(d->cache, &key))) {
        pv_block *nb = pv_block_new(*rlen);
        if (!nb) return pv_err(PV_ENOMEM, "out of memory decompressing a block");
        if (inflate(d, off, slen, *rlen, pv_block_data(nb), why)) {
            pv_block_release(nb);
            return 1;
        }
        b = pv_blockcache_put(d->cache, &key, nb);
    }
    *held = b;
    *raw = pv_block_data(b);
    return 0;
}

static int zstr_read(pv_dec *d, uint32_t r0, uint32_t n, pv_dec_out out, const char **why)
{
    uint32_t k = r0 >> PV_BLOCK_SHIFT, m, j, rlen;
    const uint8_t *raw;
    int rc;
    if (n == 0) return 0;
    if (((r0 + n - 1) >> PV_BLOCK_SHIFT) != k)
        return pv_err(PV_EMISUSE, "zstr read across a block boundary");
    m = pv_block_len(d->nrows, k);
    if (d->cached != k + 1) {
        d->mem->len = 0;
        d->cached = 0;
        pv_block_release(d->held);
        d->held = NULL;
        if (d->cache) rc = cached_block(d, k, &d->held, &raw, &rlen, why);
        else rc = load_block(d, k, d->mem, &raw, &rlen, why);
        if (rc) return rc;
        d->cached = k + 1;
        d->zlen = rlen; /* the block stays where raw points until the next load */
        d->zraw = raw;
    }
    raw = d->zraw;
    rlen = d->zlen;
    *why = "bad string offsets in a compressed block";
    for (j = 0; j < n; j++)
        if (pv_enc_str_at(raw, raw + 4 * ((size_t)m + 1), rlen - 4 * ((uint64_t)m + 1),
                          (r0 & (PV_BLOCK_ROWS - 1)) + j, &out.s[j]))
            return 1;
    return 0;
}

/* A point read copies its value out of the decompressed block (into
 * `mem`), so it holds no block after it returns. */
static int zstr_get(pv_dec *d, uint32_t r, pv_value *out, pv_buf *mem, uint64_t *moff,
                    const char **why)
{
    uint32_t k = r >> PV_BLOCK_SHIFT, m, rlen;
    size_t start = mem->len;
    const pv_block *held = NULL;
    const uint8_t *raw;
    pv_str s;
    int rc;
    *moff = UINT64_MAX;
    *why = "row out of range";
    if (r >= d->nrows) return 1;
    m = pv_block_len(d->nrows, k);
    rc = d->cache ? cached_block(d, k, &held, &raw, &rlen, why) : load_block(d, k, mem, &raw, &rlen, why);
    if (rc) return rc;
    *why = "bad string offsets in a compressed block";
    rc = pv_enc_str_at(raw, raw + 4 * ((size_t)m + 1), rlen - 4 * ((uint64_t)m + 1),
                       r & (PV_BLOCK_ROWS - 1), &s);
    out->type = d->type;
    out->u.s = s;
    if (rc == 0 && held) { /* from the cache: copy the value */
        if (pv_buf_append(mem, s.p, s.n)) rc = PV_ENOMEM;
        *moff = start;
        out->u.s.p = NULL;
    } else if (rc == 0 && mem->len != start) { /* decompressed: keep only the value */
        memmove(mem->p + start, s.p, s.n);
        mem->len = start + s.n;
        *moff = start;
        out->u.s.p = NULL;
    }
    pv_block_release(held);
    return rc;
}

static int zstr_check(pv_dec *d, const char **why)
{
    pv_buf mem = PV_BUF_INIT;
    uint64_t off = 0;
    uint32_t k;
    int rc = 0;
    for (k = 0; k < d->count && rc == 0; k++) {
        const uint8_t *e = d->vals + (size_t)k * PV_ZSTR_ENTRY, *raw, *bytes;
        uint32_t rlen, m = pv_block_len(d->nrows, k);
        mem.len = 0;
        rc = load_block(d, k, &mem, &raw, &rlen, why);
        if (rc) break;
        *why = "bad compressed block table";
        if (pv_get_u32(e) != off || e[13] || e[14] || e[15]) rc = 1;
        *why = "bad string offsets in a compressed block";
        if (rc == 0 && pv_enc_check_strings(raw, rlen, m, &bytes)) rc = 1;
        off += pv_get_u32(e + 4);
    }
    if (rc == 0 && off != d->bytes_len) {
        *why = "bad compressed block table";
        rc = 1;
    }
    pv_buf_free(&mem);
    return rc;
}

const pv_encoder pv_enc_zstr = {
    PV_ENC_ZSTR, "zstr", PV_T(PV_TEXT) | PV_T(PV_BLOB), zstr_plan, zstr_write,
    zstr_open, zstr_read, zstr_get, zstr_check, NULL,
};
