/*
 * pvdb.h: the `.pvdb` file: the bake writer and the read-only reader.
 * The byte layout is docs/FORMAT.md, part 3; the design docs/BAKE.md.
 */
#ifndef PV_PVDB_H
#define PV_PVDB_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "schema.h"
#include "util.h"

/* ---- writer ------------------------------------------------------------- */

/* One table to bake: all current rows as full-length column vectors
 * (cols[schema->ncols], each `nrows` long), sorted by primary key with no
 * duplicate keys. Borrowed for the duration of pv_bake_write. */
typedef struct pv_bake_table {
    const pv_schema *schema;
    uint64_t nrows;
    const pv_vec *cols;
} pv_bake_table;

/* Provenance recorded in the file. */
typedef struct pv_bake_info {
    const char *source;  /* e.g. "worktree" or a git commit id; may be NULL */
    const char *tool;    /* e.g. "pvbake 0.1.0"; may be NULL */
} pv_bake_info;

/* What a bake did (pv_bake_opts.stats). */
typedef struct pv_bake_stats {
    uint64_t chunks;       /* column chunks written */
    uint64_t cache_hits;   /* of them, taken from the cache */
    uint64_t rows;         /* rows of all tables */
} pv_bake_stats;

#define PVDB_WRITE_NO_ZSTD 0x1u  /* never compress (tests reach the decoders) */

/* Options of pv_bake_write_opts. Start from PV_BAKE_OPTS_INIT. */
typedef struct pv_bake_opts {
    unsigned version;          /* PV_BAKE_OPTS_VERSION */
    uint32_t rows_per_group;   /* 0: PVDB_ROWS_PER_GROUP (65536) */
    unsigned threads;          /* encoding threads; 0: online CPUs, at most 16 */
    const char *cache_dir;     /* encoded-chunk cache (created); NULL: none */
    unsigned flags;            /* PVDB_WRITE_* */
    /* Called on the calling thread after each row group is written. */
    void (*progress)(void *ctx, uint64_t rows_done, uint64_t rows_total);
    void *progress_ctx;
    pv_bake_stats *stats;      /* filled when not NULL */
} pv_bake_opts;
#define PV_BAKE_OPTS_VERSION 1
#define PV_BAKE_OPTS_INIT {PV_BAKE_OPTS_VERSION, 0, 0, NULL, 0, NULL, NULL, NULL}

/* Write `ntables` tables (in the order given: callers sort them by name, so
 * output is reproducible) to `path`, through a temporary file in the same
 * directory renamed over `path` once complete and synced, so a reader never
 * sees a half-written file. The bytes depend only on the tables, the info
 * and rows_per_group: not on the thread count or the cache.
 * Errors: PV_EIO, PV_ENOMEM, PV_ELIMIT (a column chunk over 4 GiB),
 * PV_ENOTFOUND (the target directory does not exist), PV_ECONSTRAINT (a NULL
 * in a NOT NULL column), PV_ETYPE (a BOOLEAN other than 0 or 1),
 * PV_EMISUSE (a schema or vector that does not describe the rows, rows not
 * in strictly increasing key order, bad options). A damaged cache entry is
 * not an error: it is encoded again. */
int pv_bake_write_opts(const char *path, const pv_bake_table *tables, size_t ntables,
                       const pv_bake_info *info, const pv_bake_opts *opts);
/* The same with default options (no cache). */
int pv_bake_write(const char *path, const pv_bake_table *tables, size_t ntables,
                  const pv_bake_info *info);

/* ---- reader ------------------------------------------------------------- */

typedef struct pvdb_file pvdb_file;

/* Map `path` read-only and check the header, the directory and every offset
 * and length it holds (O(tables + columns + chunks), no data reads).
 * Errors: PV_ENOTFOUND, PV_EIO, PV_EFORMAT (not a .pvdb, or another format
 * version: a version 1 file must be baked again), PV_ECORRUPT (with the
 * offset), PV_ENOMEM. */
int pvdb_open(const char *path, pvdb_file **out);
void pvdb_close(pvdb_file *f);

uint32_t pvdb_table_count(const pvdb_file *f);
/* Table i (in file order) as a source; its schema lives until pvdb_close.
 * The scans it opens are independent: any number of threads may scan at
 * once. Full scans check each chunk's checksum. Errors: PV_ERANGE. */
int pvdb_table_source(pvdb_file *f, uint32_t i, pv_source *out);
/* Errors: PV_ENOTFOUND. */
int pvdb_find_table(pvdb_file *f, const char *name, size_t len, pv_source *out);
/* Index of a table by name (ASCII case-insensitive), or -1. */
int pvdb_table_index(const pvdb_file *f, const char *name, size_t len);

/* Provenance strings as recorded (borrowed, live until pvdb_close). */
const char *pvdb_source(const pvdb_file *f);
const char *pvdb_tool(const pvdb_file *f);
uint32_t pvdb_format_version(const pvdb_file *f);
uint64_t pvdb_file_size(const pvdb_file *f);

/* Per-column storage figures for `pvbake inspect`. */
typedef struct pvdb_column_info {
    const char *name;       /* borrowed */
    int type;               /* PV_* */
    const char *encoding;   /* an encoding name, "mixed" across row groups,
                               or "none" for a table of 0 rows */
    uint32_t enc_chunks[8]; /* chunks per encoding id (PV_ENC_*) */
    uint32_t chunks;        /* column chunks (= row groups) */
    uint32_t compressed;    /* chunks with zstd inside (zstr) */
    uint64_t raw_bytes;     /* the same chunks in PLAIN encoding */
    uint64_t stored_bytes;  /* bytes in the file */
    uint64_t null_count;
    int has_minmax;         /* min and max below are set */
    int has_nan;            /* REAL: a NaN somewhere */
    pv_value min, max;      /* table-wide zone map; TEXT/BLOB: 8-byte prefixes */
} pvdb_column_info;
int pvdb_column_info_get(const pvdb_file *f, uint32_t table, uint32_t col,
                         pvdb_column_info *out);

/* ---- row groups, zone maps --------------------------------------------- */

uint32_t pvdb_group_count(const pvdb_file *f, uint32_t table);

/* One column chunk as the directory describes it: no data read. */
typedef struct pvdb_chunk_info {
    uint64_t first_row;     /* of its row group, in the table */
    uint32_t rows, nulls;
    uint8_t encoding;       /* PV_ENC_* */
    const char *encoding_name;
    int has_minmax, has_nan;
    /* INTEGER, BOOLEAN: exact i64 bounds; REAL: exact bounds of the
     * non-NaN values; TEXT, BLOB: the first 8 bytes of the smallest and
     * the largest value (a value v has prefix8(min) <= prefix8(v) <=
     * prefix8(max); the bytes point into the mapping). */
    pv_value min, max;
    uint64_t offset, length, plain_length, checksum;
} pvdb_chunk_info;
/* Errors: PV_ERANGE. */
int pvdb_chunk_info_get(const pvdb_file *f, uint32_t table, uint32_t group, uint32_t col,
                        pvdb_chunk_info *out);

/* ---- keys and rows ------------------------------------------------------ */

/* Row index of the row whose primary key is key[0..npk) (npk = the
 * table's key column count; values compare as pv_value_cmp, so an INTEGER
 * finds a REAL key of the same value). No work at open: a binary search
 * over the row groups' zone maps, the key chunk's block headers, then the
 * block. Errors: PV_ENOTFOUND (no such row), PV_ERANGE (no table),
 * PV_EMISUSE (npk), PV_ECORRUPT. */
int pvdb_lookup(const pvdb_file *f, uint32_t table, const pv_value *key, uint32_t npk,
                uint64_t *out);

/* pvdb_lookup without a message for a missing row: 1 and *out when the
 * key is there, 0 when it is not (a NULL in the key is never there), or
 * PV_ERANGE, PV_EMISUSE, PV_ECORRUPT. */
int pvdb_find_row(const pvdb_file *f, uint32_t table, const pv_value *key, uint32_t npk,
                  uint64_t *out);

/* pvdb_find_row then pvdb_read_row on a pvdb source: 1 with out[] filled,
 * 0 when the key is absent, or an error (PV_EMISUSE for a source of
 * another store). */
int pvdb_source_get_row(const pv_source *src, const pv_value *key, uint32_t nkey,
                        const uint32_t *cols, uint32_t ncols, pv_value *out, pv_buf *buf);

/* Rows [*first, *end) whose key lies in [lo, hi]: lo and hi are key
 * prefixes of nlo and nhi values (0 for no bound; a prefix bound includes
 * every key that starts with it). Errors: PV_ERANGE, PV_EMISUSE, PV_ECORRUPT. */
int pvdb_key_range(const pvdb_file *f, uint32_t table, const pv_value *lo, uint32_t nlo,
                   const pv_value *hi, uint32_t nhi, uint64_t *first, uint64_t *end);

/* Values of columns cols[0..ncols) of row `row` into out[0..ncols), read
 * straight from the mapping (O(1) per column; no checksum, every offset
 * checked). Strings point into the mapping (valid until pvdb_close) or,
 * when they had to be decoded (front-coded dictionary, zstd block), into
 * `buf`, which is reset at each call: valid until the next call with the
 * same buf or pv_buf_free. The byte after each string's last one is
 * readable (s.p[s.n]) and is 0 for every string in `buf`, so a caller can
 * hand those out as NUL-terminated without a copy (pv_source_get_row in
 * db.h makes the same promise). Errors: PV_ERANGE (table, row or column),
 * PV_ECORRUPT, PV_ENOMEM. */
int pvdb_read_row(const pvdb_file *f, uint32_t table, uint64_t row, const uint32_t *cols,
                  uint32_t ncols, pv_value *out, pv_buf *buf);

/* A batch scan of rows [first, end) of table src (a pvdb source): the
 * ordinary pv_source_ops scan_next / scan_close work on it. Batches never
 * cross a 1024-row block. flags: PVDB_SCAN_CHECKSUM checks each chunk's
 * checksum when it is first used (full scans through src->ops do).
 * A scan that reads a quarter or more of a row group's rows (and more than
 * a batch) asks the kernel for the group's chunks (MADV_WILLNEED) as it
 * loads them; pvdb_scan_advised counts those requests (for tests).
 * Errors: PV_ERANGE, PV_ENOMEM. */
#define PVDB_SCAN_CHECKSUM 0x1u
extern unsigned long pvdb_scan_advised;
int pvdb_scan_range(const pv_source *src, const uint32_t *cols, uint32_t ncols,
                    uint64_t first, uint64_t end, unsigned flags, pv_scan **out);

/* pvdb_lookup and pvdb_key_range on a pvdb source (src->impl), shaped as
 * optional pv_source_ops the executor can call without knowing the
 * store. Errors: as theirs, PV_EMISUSE for a source of another store. */
int pvdb_source_lookup(const pv_source *src, const pv_value *key, uint32_t nkey, uint64_t *row);
int pvdb_source_key_range(const pv_source *src, const pv_value *lo, uint32_t nlo,
                          const pv_value *hi, uint32_t nhi, uint64_t *first, uint64_t *end);

/* Check every checksum of every section, decode every chunk fully
 * (exact layouts, sorted dictionaries, zero padding), recompute every zone
 * map and check that keys strictly increase through each table.
 * Errors: PV_ECORRUPT (the first problem, with its offset), PV_ENOMEM. */
int pvdb_verify(const pvdb_file *f);

#endif
