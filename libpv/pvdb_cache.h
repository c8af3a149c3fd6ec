/*
 * pvdb_cache.h: the bake cache of encoded column chunks (docs/BAKE.md 6),
 * and the writer's incremental input: rows fetched a row group at a time,
 * with an identity for the ranges that come unchanged from a checkpoint,
 * so an unchanged row group is copied from the cache without reading its
 * rows. Private to the writer and its callers (pvbake, the workspace).
 */
#ifndef PV_PVDB_CACHE_H
#define PV_PVDB_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "encode.h"
#include "pvdb.h"
#include "util.h"

/* Changes whenever an encoder's output changes for the same input, so
 * entries of an older writer are never reused. */
#define PVDB_ENCODER_REV 2u

/* The 16-byte key of a prepared chunk (pv_enc_prepare done) with encoder
 * flags `eflags`. `tmp` is scratch. 0 or PV_ENOMEM. */
int pvdb_cache_key(const pv_enc_in *in, unsigned eflags, pv_enc_scratch *tmp,
                   uint8_t key[16]);

/* Look the key up in dir: 1 and *enc + payload (replacing its contents)
 * + *sum (the payload's XXH3-64, checked) when a sound entry is there, 0
 * otherwise (a damaged entry is a miss). */
int pvdb_cache_get(const char *dir, const uint8_t key[16], uint8_t *enc, pv_buf *payload,
                   uint64_t *sum);

/* Store an entry whose payload's XXH3-64 is `sum` (best effort: a full
 * disk only costs the next bake). */
void pvdb_cache_put(const char *dir, const uint8_t key[16], uint8_t enc, const void *payload,
                    size_t len, uint64_t sum);

/* What a chunk record holds besides its payload: an origin entry keeps it
 * so that a chunk found by origin needs none of its rows. */
typedef struct pvdb_chunk_stats {
    uint32_t nulls;
    uint8_t zflags, zmin[8], zmax[8];
    uint64_t plain;            /* the chunk record's plain length */
} pvdb_chunk_stats;

/* The 16-byte origin key of column `col` (of type `type`, encoder flags
 * `eflags`) of `nrows` rows whose identity is `id` (pvdb_rows_src.origin). */
void pvdb_cache_origin_key(const uint8_t id[16], uint32_t col, int type, unsigned eflags,
                           uint32_t nrows, uint8_t key[16]);

/* An origin entry: origin key -> the content key of the encoded chunk and
 * its stats. _get: 1 when a sound entry is there, else 0. _put: best
 * effort, like pvdb_cache_put. */
int pvdb_cache_origin_get(const char *dir, const uint8_t okey[16], uint8_t key[16],
                          pvdb_chunk_stats *st);
void pvdb_cache_origin_put(const char *dir, const uint8_t okey[16], const uint8_t key[16],
                           const pvdb_chunk_stats *st);

/* Create dir (and its parents). 0 or PV_EIO. */
int pvdb_cache_mkdir(const char *dir);

/* Delete the entries of dir whose key is not among keys[0..n) (sorted by
 * memcmp). */
void pvdb_cache_prune(const char *dir, const uint8_t (*keys)[16], size_t n);

/* ---- rows fetched a row group at a time ---------------------------------- */

/* Scratch a fetch fills (grown as needed, kept between fetches). */
typedef struct pvdb_fetch_buf {
    pv_enc_scratch data, nulls;
} pvdb_fetch_buf;

/* A table's rows as the writer asks for them: one column of one row group
 * at a time, instead of whole column vectors. Both callbacks may run on
 * several threads at once. The rows must be in strictly increasing key
 * order (the writer checks this only for vectors). */
typedef struct pvdb_rows_src {
    /* Rows [first, first + n) of column col into *out: its type, nulls and
     * values, pointing into buf or into memory the source keeps until the
     * bake ends. 0 or an error code with its message set. */
    int (*fetch)(void *ctx, uint32_t col, uint64_t first, uint32_t n, pv_vec *out,
                 pvdb_fetch_buf *buf);
    /* 1 and a 16-byte identity of rows [first, first + n) when they are an
     * unchanged range of a source the same identity always means (the
     * same values in every column), 0 when there is none. */
    int (*origin)(void *ctx, uint64_t first, uint32_t n, uint8_t id[16]);
    void *ctx;
} pvdb_rows_src;

/* pv_bake_write_opts where table i's rows come from srcs[i] instead of
 * its vectors when srcs and srcs[i] are not NULL (tables[i].cols is then
 * not read). With a cache, a row group that the source gives an origin
 * for is looked up by origin first: found, none of its rows are fetched.
 * The bytes written are those of a bake of the same rows from vectors.
 * A table with secondary indexes needs tables[i].cols too, at least the
 * vectors of its indexed columns (the index sections are built from them;
 * the other columns are not read), else PV_EMISUSE.
 * *origin_hits (when not NULL) gets the number of chunks found that way
 * (they are among opts->stats->cache_hits). Errors: those of pv_bake_write_opts and of the fetches. */
int pvdb_write_src(const char *path, const pv_bake_table *tables,
                   const pvdb_rows_src *const *srcs, size_t ntables, const pv_bake_info *info,
                   const pv_bake_opts *opts, uint64_t *origin_hits);

#endif
