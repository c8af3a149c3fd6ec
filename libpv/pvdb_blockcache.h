/*
 * pvdb_blockcache.h: a bounded cache of decoded column blocks of `.pvdb`
 * files (zstd-compressed ZSTR blocks, pages of front-coded dictionaries),
 * shared by every statement, getter and thread of one pv_db
 * (pv_open_options.cache_bytes, pv.h).
 *
 * Entries are keyed by (file generation, column chunk, block): the
 * generation is unique per pvdb_open in the process, so a hot-swapped file
 * (pv_reopen) never meets the blocks of the file it replaced. The cache
 * is split in PV_BLOCKCACHE_SHARDS shards by key hash, each with its own
 * mutex, hash chains and least-recently-used list, so readers of
 * different blocks rarely wait on one another and no lock covers the
 * whole cache. Entries are reference counted: a reader holds a reference
 * while it uses a block's bytes, and an evicted block lives on until the
 * last reference goes, so eviction never pulls bytes from under a reader.
 *
 * Memory: the cache keeps at most `capacity` bytes of blocks (payload and
 * header) it references itself, split evenly between the shards; blocks
 * still held by readers after eviction come on top until released. A
 * block larger than a shard's share is handed to its reader and never
 * kept.
 */
#ifndef PV_PVDB_BLOCKCACHE_H
#define PV_PVDB_BLOCKCACHE_H

#include <stddef.h>
#include <stdint.h>

#define PV_BLOCKCACHE_SHARDS 16

typedef struct pv_blockcache pv_blockcache;
typedef struct pv_block pv_block;

/* A key: a file generation (pvdb_file.gen), a column chunk (its index in
 * the file's chunk table) and a block of it; the block's two high bits say
 * what kind of block (PV_BLOCK_FC_PAGE | p: page p of a front-coded
 * dictionary; PV_BLOCK_DICT_TABLE: a small array dictionary's
 * NUL-terminated table; neither: ZSTR block number). */
typedef struct pv_block_key {
    uint64_t gen;
    uint32_t chunk;
    uint32_t block;
} pv_block_key;
#define PV_BLOCK_FC_PAGE 0x80000000u
#define PV_BLOCK_DICT_TABLE 0x40000000u

/* Counters since creation (pv_blockcache_stats). */
typedef struct pv_blockcache_stats {
    uint64_t hits, misses, inserts, evictions;
    uint64_t bytes;    /* held by the cache now */
    uint64_t entries;  /* held by the cache now */
} pv_blockcache_stats;

/* A cache of at most `capacity` bytes (> 0) into *out.
 * Errors: PV_ENOMEM. */
int pv_blockcache_new(uint64_t capacity, pv_blockcache **out);
/* Drop every entry (blocks still held by readers live on) and free the
 * cache. Accepts NULL. */
void pv_blockcache_free(pv_blockcache *c);

/* The block of `key` with a reference taken (release it with
 * pv_block_release), or NULL when the cache does not hold it. */
const pv_block *pv_blockcache_get(pv_blockcache *c, const pv_block_key *key);

/* A new block of `size` payload bytes (8-aligned) for the caller to fill,
 * with one reference (the caller's); NULL when out of memory (no message
 * is made: the caller reports). */
pv_block *pv_block_new(size_t size);
/* Offer a filled block for `key`: the cache keeps it (a reference of its
 * own) unless another reader put the same key first, in which case `b`
 * is released and the block already cached returned instead. Either way
 * the caller holds one reference on the returned block, whose bytes it
 * reads; blocks of the least recently used keys are evicted to make room. */
const pv_block *pv_blockcache_put(pv_blockcache *c, const pv_block_key *key, pv_block *b);

/* Release one reference; the last frees the block. Accepts NULL. */
void pv_block_release(const pv_block *b);
/* The block's payload (valid while a reference is held) and its size. */
void *pv_block_data(const pv_block *b);
size_t pv_block_size(const pv_block *b);

/* Forget every block of file generation `gen` (its file is being closed). */
void pv_blockcache_drop_gen(pv_blockcache *c, uint64_t gen);

/* Counters, summed over the shards (each read under its shard's lock). */
void pv_blockcache_stats_get(pv_blockcache *c, pv_blockcache_stats *out);

#endif
