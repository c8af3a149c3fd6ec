/*
 * bench.h: the PicoVolt benchmark harness (make bench), shared declarations.
 *
 * One process measures every system on the same data in the same run:
 * bench.c owns the data, the keys, the measuring loops, the checksums and
 * the results table; one sys_<name>.c per system builds that system's file
 * and fills its column of the table. See bench/README.md for the method.
 */
#ifndef BENCH_H
#define BENCH_H

#include <stddef.h>
#include <stdint.h>

/* ---- columns of the results table ------------------------------------- */
enum sys_col {
    COL_PV,          /* PicoVolt (.pvdb, or the .pv/ workspace for writes) */
    COL_SQLITE_MMAP, /* SQLite read-only with mmap_size = file size */
    COL_SQLITE_DEF,  /* SQLite read-only with default settings */
    COL_LMDB,
    COL_CDB,
    COL_DUCKDB,
    COL_CSVGIT,      /* the same rows as a plain CSV file in git */
    COL_COUNT
};

/* ---- rows of the results table ----------------------------------------- */
enum op_id {
    OP_BUILD,     /* CSV -> query-ready file, whole pipeline */
    OP_IMPORT,    /* pvdev import alone (CSV -> workspace) */
    OP_BAKE,      /* pvbake alone (workspace -> .pvdb) */
    OP_REBAKE,    /* pvbake again after one row changed */
    OP_SIZE,      /* size of the query-ready file */
    OP_SIZE_PQ,   /* Parquet (zstd) export of the same rows, DuckDB */
    OP_OPEN,      /* open + first point query + close, warm cache */
    OP_COLD,      /* the same after evicting the file from the page cache */
    OP_LOOKUP,    /* point lookup by key, whole row read out */
    OP_GET,       /* the same through the direct API (pv_get; LMDB and
                     tinycdb: their get, copied from OP_LOOKUP) */
    OP_LOOKUP_ALT,/* OP_LOOKUP of LMDB and PicoVolt's statement, alternated run by run */
    OP_GET_ALT,   /* the same with pv_get */
    OP_RANGE,     /* 1,000-row key range, every row read out */
    OP_RANGE_SPAN,/* the same PicoVolt range read by spans (pv_step_span) */
    OP_SUM,
    OP_GROUP,
    OP_FILTER,
    OP_VERIFY,    /* check the whole file: pv_verify; SQLite PRAGMA integrity_check */
    OP_INSERT,    /* autocommit single-row inserts, durable: PicoVolt
                     PV_DURABILITY=sync against SQLite synchronous=FULL */
    OP_INSERT_FAST, /* the same without fsync: PicoVolt PV_DURABILITY=fast
                     against SQLite synchronous=OFF (issue 4's 5x target) */
    OP_MERGE,     /* git merge of two branches appending rows each */
    OP_MERGE_1M,  /* the same onto a 1,000,000-row base (issue 5's scale) */
    OP_DIFF,      /* diff of one changed row */
    OP_AP_BUILD,  /* airports: CSV -> query-ready file */
    OP_AP_LOOKUP, /* airports: point lookup by a text key */
    OP_COUNT
};

/* One cell: a figure (in seconds or bytes) or the reason there is none. */
struct cell {
    int state;            /* CELL_EMPTY, CELL_NA, CELL_OK */
    char note[200];       /* CELL_NA: why; CELL_OK: optional remark */
    double med, min, max; /* per operation: seconds, or bytes for sizes */
    int runs;             /* timed runs (after the warm-up) */
    long ops_min, ops_max;/* operations per timed run */
    int budget_cut;       /* a run stopped at its time budget */
    int has_check;
    uint64_t check;       /* checksum of the answer (text form) */
    long answer_rows;     /* rows in the answer the checksum covers */
    int mismatch;         /* set by the table: differs from the reference */
    int lower_bound;      /* stopped at a time limit: the figure is "more than" */
};
#define CELL_EMPTY 0
#define CELL_NA    1
#define CELL_OK    2

/* A flights row as every system hands it back: the whole row read out. */
struct frow {
    int64_t id;
    int32_t delay, distance;
    char date[24];
    char origin[8];
    char dest[8];
};

struct bench {
    int quick;
    const char *top;      /* repository root, absolute */
    const char *build;    /* build directory, absolute */
    const char *cache;    /* bench/cache, absolute */
    const char *csv;      /* the flights CSV measured (full or quick cut) */
    const char *duckdb_so;/* libduckdb.so, or NULL */
    const char *duckdb_why; /* why DuckDB is absent */
    const char *pv_why;   /* why libpv is not linked in */
    const char *source;   /* the PicoVolt commit measured */
    long nrows;           /* rows in the CSV */
    struct frow *rows;    /* all rows, parsed once (for inserts and checks) */
    int64_t max_id;

    /* keys, from a fixed-seed PRNG, the same for every system */
    int64_t *keys;        /* point lookups */
    long nkeys;
    int64_t *range_lo;    /* range starts; a range is [lo, lo + 999] */
    long nranges;
    long range_len;

    /* budgets and counts (full vs quick) */
    int runs;             /* timed runs per figure, after one warm-up */
    int build_runs;       /* timed runs for the expensive build rows */
    double lookup_budget, range_budget, open_budget, insert_budget;
    long open_ops, insert_ops;
    long merge_rows;      /* rows appended on each branch */
    int merge_runs;

    struct cell cells[OP_COUNT][COL_COUNT];
    char versions[COL_COUNT][160];
    long long pv_so_stripped; /* bytes of libpv.so stripped, or -1 */
    long long pv_open_rss;    /* resident bytes added by pv_open, or -1 */
    long ap_rows;             /* rows of airports.csv */
    /* LMDB's reader, left open by sys_lmdb for the lookups sys_pv
     * alternates with its own (measure_lookups_alt); NULL when LMDB did
     * not run. alt_close closes it at the end. */
    int (*alt_get)(void *ctx, int64_t key, struct frow *out); /* a get_fn */
    void *alt_ctx;
    void (*alt_close)(void *ctx);
};

/* ---- clock and helpers (bench.c) --------------------------------------- */
uint64_t now_ns(void);
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cell_na(struct bench *b, enum op_id op, enum sys_col col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A single figure measured once per run: vals[0..n-1] in seconds or bytes. */
void cell_values(struct bench *b, enum op_id op, enum sys_col col, const double *vals, int n);
/* snprintf for messages (truncation is fine and expected there). */
void msgf(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
long long file_size(const char *path);
long long tree_size(const char *dir);   /* bytes of every file under dir */
int rm_rf(const char *path);
int mkdir_p(const char *path);
int evict_file(const char *path);       /* drop it from the page cache */
/* Run argv[0] (PATH search) in cwd with stdin from in_path (or /dev/null)
 * and stdout+stderr appended to log_path; *secs gets the wall time.
 * Returns the exit status (0 = success), or -1 if it could not start. */
int run_cmd(const char *cwd, const char *in_path, const char *log_path, double *secs,
            char *const argv[]);
/* When > 0, run_cmd kills a command (and its children) after this many
 * seconds and returns RUN_TIMEOUT: no tool can stall the whole run. */
extern double bench_cmd_timeout;
#define RUN_TIMEOUT 1000
/* The last non-empty line of a log file, for n/a reasons. */
const char *log_tail(const char *log_path);

/* ---- checksums of answers ---------------------------------------------- */
/* A row hash over the canonical text form of its values: integers in
 * decimal, real numbers rounded to 6 decimals, NULL as \N. The hash of a
 * whole answer is order-insensitive (sum of row hashes), so systems that
 * return rows of an unordered query in another order still agree. */
struct rowhash { uint64_t h; };
void rh_begin(struct rowhash *r);
void rh_text(struct rowhash *r, const char *text, size_t len); /* NULL text = SQL NULL */
uint64_t rh_end(const struct rowhash *r);
uint64_t frow_hash(const struct frow *row);
static inline uint64_t check_mix(uint64_t h)
{
    h ^= h >> 33; h *= 0xff51afd7ed558ccdULL; h ^= h >> 33;
    return h;
}

/* What every read loop does with a row it got: the cheap "use" that keeps
 * the compiler from dropping the work (timed runs). */
extern volatile uint64_t bench_sink;
static inline uint64_t frow_touch(const struct frow *r)
{
    return (uint64_t)r->id + (uint64_t)(uint32_t)r->delay * 3u + (uint64_t)(uint32_t)r->distance * 7u +
           (uint8_t)r->date[18] + (uint8_t)r->origin[0] + (uint8_t)r->dest[2];
}

/* ---- generic measuring loops (bench.c) ---------------------------------- */
/* get: 1 found (row filled), 0 not found, negative on error. */
typedef int (*get_fn)(void *ctx, int64_t key, struct frow *out);
/* range: every row with lo <= id <= hi; calls emit for each, returns the
 * number of rows or a negative error. */
typedef void (*emit_fn)(void *acc, const struct frow *row);
typedef long (*range_fn)(void *ctx, int64_t lo, int64_t hi, emit_fn emit, void *acc);
/* query: run `sql` to the end; *check = order-insensitive answer checksum,
 * *nrows = rows. 0 or negative on error (message in errbuf). */
typedef int (*query_fn)(void *ctx, const char *sql, uint64_t *check, long *nrows, char *errbuf,
                        size_t errlen);
/* ops: do up to max_ops operations, stopping once now_ns() > deadline;
 * returns ops done (>= 1) or negative on error. */
typedef long (*ops_fn)(void *ctx, long max_ops, uint64_t deadline);

void measure_lookups(struct bench *b, enum sys_col col, get_fn get, void *ctx, double budget);
/* The same into the row `op` (OP_LOOKUP or OP_GET). */
void measure_lookups_op(struct bench *b, enum op_id op, enum sys_col col, get_fn get, void *ctx,
                        double budget);
/* PicoVolt's statement and pv_get lookups alternated run by run with
 * b->alt_get's (LMDB's): rows OP_LOOKUP_ALT and OP_GET_ALT; nothing when
 * there is no alt_get. */
void measure_lookups_alt(struct bench *b, get_fn stmt, get_fn get, void *ctx);
void measure_ranges(struct bench *b, enum sys_col col, range_fn range, void *ctx);
/* measure_ranges into row `op` (OP_RANGE or OP_RANGE_SPAN) */
void measure_ranges_op(struct bench *b, int op, enum sys_col col, range_fn range, void *ctx);
void measure_queries(struct bench *b, enum sys_col col, query_fn q, void *ctx);
/* open + first query + close, warm; and cold after evicting paths[]. */
void measure_open(struct bench *b, enum sys_col col, get_fn open_get_close, void *ctx,
                  const char *const *evict_paths);
void measure_ops(struct bench *b, enum op_id op, enum sys_col col, ops_fn fn, void *ctx,
                 long max_ops, double budget, int runs);

/* The SQL of the three aggregate rows, the same text for every system. */
extern const char *const SQL_SUM, *const SQL_GROUP, *const SQL_FILTER;
extern const char *const SQL_LOOKUP, *const SQL_RANGE;

/* ---- CSV --------------------------------------------------------------- */
/* Parse the flights CSV (no quoting: checked) calling fn per row; returns
 * rows or -1 with a message on stderr. Used by the C builders, so their
 * build time includes reading and parsing the text, as the tools' does. */
typedef int (*row_fn)(void *ctx, const struct frow *row);
long csv_each(const char *path, row_fn fn, void *ctx);
/* Write rows[from..from+n) with ids renumbered from first_id as CSV
 * (with header if hdr) to f. */
int csv_write_rows(const char *path, const struct bench *b, long from, long n, int64_t first_id,
                   int hdr, int append);

/* ---- systems ------------------------------------------------------------ */
void sys_pv(struct bench *b);
void sys_sqlite(struct bench *b);
void sys_lmdb(struct bench *b);
void sys_cdb(struct bench *b);
void sys_duckdb(struct bench *b);
void sys_gitcsv(struct bench *b);
/* OP_MERGE_1M alone: PicoVolt's column and CSV+git's (`--only merge1m`;
 * also part of the pv and git runs). */
void sys_pv_merge1m(struct bench *b);
void sys_gitcsv_merge1m(struct bench *b);
void sys_airports(struct bench *b);

/* Packed row for the key-value stores: delay, distance (int32 LE), then
 * date, origin, destination each as one length byte + bytes. */
size_t frow_pack(const struct frow *r, unsigned char *out, size_t cap);
int frow_unpack(const unsigned char *p, size_t n, int64_t id, struct frow *out);

#endif
