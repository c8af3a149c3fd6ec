/*
 * ws_ckpt.h: table checkpoints, the workspace's local load cache
 * (docs/FORMAT.md part 4; design in docs/LOADING.md).
 *
 * Loading a table replays every record of every chunk (JSON decoding, the
 * last record of a key wins). A checkpoint is the result of such a replay
 * saved as key-ordered binary columns in `.pv/cache/load/<table>.pvck`,
 * with the chunks it covers (number, bytes, content hash). Sealed chunks
 * never change (DESIGN rule 5), so a checkpoint stays valid while the
 * chunks it covers still begin with the same bytes; loading then maps it
 * and replays only the records appended after it (the tail).
 *
 * A checkpoint is a cache: it is never committed (`.pv/.gitignore` lists
 * `/cache/`), anything wrong with it (another schema, a chunk rewritten
 * by compaction or a checkout, a damaged file) only means it is not used,
 * and failing to write it is not an error.
 */
#ifndef PV_WS_CKPT_H
#define PV_WS_CKPT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "batch.h"
#include "pvdb_cache.h"

struct pv_ws;
struct ws_table;

/* One chunk as a replay saw it. */
typedef struct ws_ckpt_chunk {
    uint32_t num;         /* the chunk file's number */
    uint64_t size;        /* bytes replayed (a prefix of the file) */
    int64_t mtime_ns;     /* the file's mtime and inode taken before it */
    uint64_t ino;         /*   was read (0, 0: unknown, always hash) */
    uint8_t hash[16];     /* XXH3-128 of those `size` bytes */
    int has_blob;         /* a git revision's chunk, replayed whole: */
    uint8_t blob[16];     /*   the first 16 bytes of its blob id */
} ws_ckpt_chunk;

/* Checkpoints of a workspace read from a git revision (`pvbake --rev`):
 * kept in a work tree's `.pv/cache/load-rev/<table>.pvck`, one per table
 * (the last revision that wrote one), each chunk known by its git blob id,
 * which is a hash of its content: a chunk whose blob id is the recorded
 * one is not read at all. */
typedef struct ws_rev_ckpt {
    const char *pvdir;    /* the work tree's .pv (borrowed) */
    /* The blob id of `rel` (a path under .pv/) in the revision: 0 and
     * its first 16 bytes in id, or -1 when there is none. */
    int (*blob_id)(void *ctx, const char *rel, uint8_t id[16]);
    void *ctx;
} ws_rev_ckpt;

/* Use `r` (borrowed: it must outlive ws; NULL: none) for the checkpoints
 * of ws, a workspace read from a git revision (pv_ws_open_reader). */
void pv_ws_set_rev_ckpt(struct pv_ws *ws, const ws_rev_ckpt *r);

/* Threads that read and decode chunk files when ws loads a table without
 * a usable checkpoint (records are still applied by one thread, in chunk
 * order: the rows never depend on it); 0: PV_LOAD_THREADS, else the online
 * CPUs (at most 8). */
void pv_ws_set_load_threads(struct pv_ws *ws, unsigned n);

/* How table i's rows were got since the workspace was opened: each line
 * PV_LOAD_CACHE_TRACE prints for it ("rows loaded from the chunks (...) on
 * 2 threads, ..., into column vectors; checkpoint written (...)"), joined
 * by "; " (cut at 511 bytes); "" when none. Borrowed: valid until ws is
 * closed. */
const char *pv_ws_table_load_note(const struct pv_ws *ws, uint32_t i);

/* A mapped, validated checkpoint. */
typedef struct ws_ckpt {
    void *map;
    size_t map_len;
    uint64_t nrows;       /* live rows, in primary-key order */
    uint32_t ncols;       /* the table's columns, in schema order */
    ws_ckpt_chunk *chunks;
    size_t nchunks;       /* a prefix of the table's chunk list */
    pv_vec *vecs;         /* ncols column vectors over the rows; integer,
                             real and null arrays point into the mapping,
                             string arrays are owned (strs) */
    pv_str **strs;        /* per column: the pv_str array of a TEXT/BLOB
                             column (pointing into the mapping), else NULL;
                             opened WS_CKPT_ON_USE: none */
    const uint64_t **str_off; /* per TEXT/BLOB column: its nrows + 1 offsets */
    const char **str_bytes;   /*   into these bytes (in the mapping) */
    uint64_t *str_len;        /*   of this length */
    /* Segment checksums (docs/FORMAT.md 4.1): the rows of every column in
     * segments of seg_rows rows, each with its XXH3-64 in the mapping at
     * seg_sums (column-major, nseg per column). */
    uint32_t seg_rows;
    uint64_t nseg;
    const uint8_t *seg_sums;
    /* WS_CKPT_ON_USE: per column and segment, 0 not checked yet, 1 good,
     * 2 damaged (threads check segments at once: atomics); NULL when every
     * segment was checked at open. */
    _Atomic unsigned char *seg_state;
    _Atomic int damaged;  /* a segment was found damaged */
    char *path;           /* the file, for messages */
    dev_t dev;            /* the file mapped (its stat hints are refreshed */
    ino_t ino;            /*   in this file only) */
} ws_ckpt;

/* ws_ckpt_open_ex flags. */
/* No segment checked at open but the layout and the records: each column's
 * rows are checked when first used (ws_ckpt_rows_ok), and no pv_str array
 * is built (read str_off and str_bytes, or ws_ckpt_value). A bake reads
 * the few row groups a change touched and takes the rest from the bake
 * cache by origin, which needs no row of the checkpoint. */
#define WS_CKPT_ON_USE 2

/* A hash of what a checkpoint's rows depend on in the schema: column
 * names, types and defaults, and the primary key. */
uint64_t ws_ckpt_schema_hash(const struct pv_schema *s);

/* Map and validate the checkpoint of table t against t's snapshot (its
 * chunk list and sizes): header, schema hash, the records' checksum,
 * every offset, every segment checksum, and every covered chunk (same
 * number and position, at least as long, same bytes: XXH3-128 of the
 * prefix, skipped when size, mtime and inode are those recorded; a chunk
 * whose bytes were hashed and match gets its mtime and inode recorded, in
 * place in the file: docs/LOADING.md 1). Returns
 * 1 with *out set, 0 when there is no usable checkpoint (none, stale,
 * damaged, an older version, or checkpoints not read in ws: never an
 * error), or PV_ENOMEM. */
int ws_ckpt_open(struct pv_ws *ws, const struct ws_table *t, ws_ckpt **out);
/* The same with `flags` (WS_CKPT_ON_USE; 0: as
 * ws_ckpt_open). */
int ws_ckpt_open_ex(struct pv_ws *ws, const struct ws_table *t, int flags, ws_ckpt **out);
void ws_ckpt_free(ws_ckpt *c);

/* Are rows [first, first + n) of column col as written? 1 when every
 * segment they lie in matches its checksum (checked now unless it was
 * before: any thread may call this), 0 when one does not (c->damaged is
 * then set; the rows must not be used). Always 1 for a checkpoint opened
 * without WS_CKPT_ON_USE (checked at open). */
int ws_ckpt_rows_ok(ws_ckpt *c, uint32_t col, uint64_t first, uint64_t n);

/* Column col of row r (< nrows), strings pointing into the mapping (also
 * for a column without a pv_str array). The row must have been checked
 * (ws_ckpt_rows_ok). */
pv_value ws_ckpt_value(const ws_ckpt *c, uint32_t col, uint64_t r);

/* Do not read checkpoints in ws from now on (they are still written):
 * pvbake bakes again this way after finding a segment of one damaged. */
void pv_ws_no_ckpt_read(struct pv_ws *ws);

/* ---- segment checksums (ws_ckpt_seg.c) ---- */

/* Rows per segment a checkpoint is written with. */
#define WS_CKPT_SEG_ROWS 16384

/* The checksums of the ceil(nrows / seg_rows) segments of vector v
 * (nrows rows; TEXT/BLOB as the checkpoint lays them out: offsets from
 * the column's first string byte) into sums. Returns 0, or PV_ENOMEM. */
int ws_ckpt_seg_sums_vec(const pv_vec *v, uint64_t nrows, uint32_t seg_rows, uint64_t *sums);

/* The checksum of rows [r0, r1) of column col of mapped checkpoint c, into
 * *sum; 1 when its string offsets are in order and inside the column's
 * bytes, else 0 (damaged). */
int ws_ckpt_seg_sum_mapped(const ws_ckpt *c, uint32_t col, uint64_t r0, uint64_t r1, uint64_t *sum);

/* Write the checkpoint of table t from its current vectors (t->vecs,
 * t->vec_rows: built, and equal to the replay of `cover`), atomically
 * (temporary file, rename). 1 when written, 0 when not (PV_NO_LOAD_CACHE,
 * conflicts, nothing covered, or any failure: a cache, never an error). */
int ws_ckpt_save(struct pv_ws *ws, const struct ws_table *t, const ws_ckpt_chunk *cover,
                  size_t ncover);

/* Hash `len` bytes of a chunk into c->hash, c->size. */
void ws_ckpt_chunk_hash(ws_ckpt_chunk *c, const char *data, size_t len);

/* Read chunk `num` of t whole: *k gets its mtime and inode (taken before
 * the read) and the hash of its first `prefix` bytes (all when shorter),
 * *len its length. Errors: those of the workspace reader. */
int ws_ckpt_chunk_read(struct pv_ws *ws, const struct ws_table *t, uint32_t num, uint64_t prefix,
                       ws_ckpt_chunk *k, uint64_t *len);

/* Bytes of chunk text after a checkpoint from which a load writes a new
 * one (4 MiB; PV_LOAD_CACHE_MIN_BYTES overrides it). */
uint64_t ws_ckpt_min_tail(void);

/* ---- a bake's rows from the checkpoint (ws_tail.c) ------------------------ */

typedef struct ws_bake_rows ws_bake_rows;

/* Table i's current rows for pvdb_write_src, without building its column
 * vectors: its checkpoint (mapped WS_CKPT_ON_USE: no string arrays, rows
 * checked against their segment checksums as they are fetched) merged
 * with the records after it, fetched a row group at a time, and each row
 * group inside one run of checkpoint rows given an identity (that of the
 * replay the checkpoint holds, and the run) for the bake cache.
 * Returns 1 with out (schema, nrows; cols NULL, or for a table with
 * secondary indexes the whole vectors of its indexed columns, which the
 * index writer sorts: the others empty), *src and *handle set (free
 * it with ws_bake_rows_free after the bake; both live until then, and no
 * write to the workspace may happen before). A fetch of damaged rows
 * fails with PV_ECORRUPT and ws_bake_rows_damaged then says so: bake
 * again in a workspace that reads no checkpoint (pv_ws_no_ckpt_read).
 * A work-tree table without a
 * checkpoint is replayed (ws_table_load_vectors_ex) and its rows come from
 * its vectors, named by the replay's identity, while another thread
 * writes the checkpoint (ws_bake_rows_free waits for it); one of a git
 * revision, or with a tail of at least ws_ckpt_min_tail() bytes, is
 * loaded first, which writes a checkpoint, and the rows are taken from
 * that (so is one whose keys the merge with the tail found damaged).
 * Returns 0 when that load wrote no checkpoint (the rows stay
 * loaded), a conflict record (the load reports it) or rows already
 * loaded: use pv_ws_table_bake then. Errors: PV_ERANGE (no table i),
 * PV_ENOMEM, those of reading the chunks. */
int pv_ws_table_bake_src(struct pv_ws *ws, uint32_t i, pv_bake_table *out,
                         const pvdb_rows_src **src, ws_bake_rows **handle);
/* Did a fetch from b's checkpoint find rows that do not match their
 * checksum? (b may be NULL: 0) */
int ws_bake_rows_damaged(const ws_bake_rows *b);
void ws_bake_rows_free(ws_bake_rows *b);

#endif
