/*
 * sys_duckdb.c: DuckDB as the scan and aggregate peer, through the C API of
 * the libduckdb.so bundled in the npm package @duckdb/node-api (installed by
 * bench/run.sh into bench/cache/). The library is opened with dlopen and
 * the few functions used are declared here, so no DuckDB header is needed.
 *
 * Build: CREATE TABLE ... AS SELECT * FROM read_csv(...) into a database
 * file (DuckDB's default threads, i.e. all cores: said in the table), then a
 * Parquet (zstd) export of the same rows for the size row. Reads: the file
 * opened read-only with SET threads = 1.
 */
#include "bench.h"

#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef uint64_t idx_t;
typedef void *duckdb_database;   /* pointers to opaque structs in duckdb.h */
typedef void *duckdb_connection;
typedef void *duckdb_prepared_statement;
typedef void *duckdb_config;
typedef struct {                 /* duckdb_result: 48 bytes in duckdb.h */
    idx_t deprecated_column_count;
    idx_t deprecated_row_count;
    idx_t deprecated_rows_changed;
    void *deprecated_columns;
    char *deprecated_error_message;
    void *internal_data;
} duckdb_result;
typedef int duckdb_state;        /* 0 = DuckDBSuccess */

static struct {
    const char *(*library_version)(void);
    duckdb_state (*open_ext)(const char *, duckdb_database *, duckdb_config, char **);
    void (*close)(duckdb_database *);
    duckdb_state (*connect)(duckdb_database, duckdb_connection *);
    void (*disconnect)(duckdb_connection *);
    duckdb_state (*create_config)(duckdb_config *);
    duckdb_state (*set_config)(duckdb_config, const char *, const char *);
    void (*destroy_config)(duckdb_config *);
    duckdb_state (*query)(duckdb_connection, const char *, duckdb_result *);
    void (*destroy_result)(duckdb_result *);
    const char *(*result_error)(duckdb_result *);
    idx_t (*row_count)(duckdb_result *);
    idx_t (*column_count)(duckdb_result *);
    char *(*value_varchar)(duckdb_result *, idx_t, idx_t);
    int64_t (*value_int64)(duckdb_result *, idx_t, idx_t);
    bool (*value_is_null)(duckdb_result *, idx_t, idx_t);
    void (*free_)(void *);
    duckdb_state (*prepare)(duckdb_connection, const char *, duckdb_prepared_statement *);
    const char *(*prepare_error)(duckdb_prepared_statement);
    duckdb_state (*bind_int64)(duckdb_prepared_statement, idx_t, int64_t);
    duckdb_state (*execute_prepared)(duckdb_prepared_statement, duckdb_result *);
    void (*destroy_prepare)(duckdb_prepared_statement *);
} dk;

static int load(const char *so, char *err, size_t errlen)
{
    void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        msgf(err, errlen, "dlopen: %s", dlerror());
        return -1;
    }
#define SYM(field, name)                                                          \
    do {                                                                          \
        void *p_ = dlsym(h, name);                                                \
        if (!p_) {                                                                \
            msgf(err, errlen, "%s has no %s", so, name);                      \
            return -1;                                                            \
        }                                                                         \
        memcpy(&dk.field, &p_, sizeof p_);                                        \
    } while (0)
    SYM(library_version, "duckdb_library_version");
    SYM(open_ext, "duckdb_open_ext");
    SYM(close, "duckdb_close");
    SYM(connect, "duckdb_connect");
    SYM(disconnect, "duckdb_disconnect");
    SYM(create_config, "duckdb_create_config");
    SYM(set_config, "duckdb_set_config");
    SYM(destroy_config, "duckdb_destroy_config");
    SYM(query, "duckdb_query");
    SYM(destroy_result, "duckdb_destroy_result");
    SYM(result_error, "duckdb_result_error");
    SYM(row_count, "duckdb_row_count");
    SYM(column_count, "duckdb_column_count");
    SYM(value_varchar, "duckdb_value_varchar");
    SYM(value_int64, "duckdb_value_int64");
    SYM(value_is_null, "duckdb_value_is_null");
    SYM(free_, "duckdb_free");
    SYM(prepare, "duckdb_prepare");
    SYM(prepare_error, "duckdb_prepare_error");
    SYM(bind_int64, "duckdb_bind_int64");
    SYM(execute_prepared, "duckdb_execute_prepared");
    SYM(destroy_prepare, "duckdb_destroy_prepare");
#undef SYM
    return 0;
}

struct dd {
    struct bench *b;
    char path[4096];
    duckdb_database db;
    duckdb_connection con;
    duckdb_prepared_statement get, range;
};

static int dd_open(const char *path, int readonly, const char *threads, duckdb_database *db,
                   duckdb_connection *con, char *err, size_t errlen)
{
    duckdb_config cfg = NULL;
    char *oerr = NULL, sql[64];
    duckdb_result r;
    *db = NULL, *con = NULL;
    if (dk.create_config(&cfg) != 0) return -1;
    if (readonly) dk.set_config(cfg, "access_mode", "READ_ONLY");
    if (threads) dk.set_config(cfg, "threads", threads);
    if (dk.open_ext(path, db, cfg, &oerr) != 0) {
        msgf(err, errlen, "cannot open '%s': %s", path, oerr ? oerr : "?");
        if (oerr) dk.free_(oerr);
        dk.destroy_config(&cfg);
        return -1;
    }
    dk.destroy_config(&cfg);
    if (dk.connect(*db, con) != 0) {
        msgf(err, errlen, "cannot connect");
        dk.close(db);
        return -1;
    }
    if (threads) { /* also as a statement, so the setting is visible in the query log */
        snprintf(sql, sizeof sql, "SET threads = %s", threads);
        dk.query(*con, sql, &r);
        dk.destroy_result(&r);
    }
    return 0;
}

static void dd_close(duckdb_database *db, duckdb_connection *con)
{
    if (*con) dk.disconnect(con);
    if (*db) dk.close(db);
}

static int run(duckdb_connection con, const char *sql, char *err, size_t errlen)
{
    duckdb_result r;
    int rc = dk.query(con, sql, &r);
    if (rc != 0) msgf(err, errlen, "%s", dk.result_error(&r));
    dk.destroy_result(&r);
    return rc == 0 ? 0 : -1;
}

/* Copy column c of row i of a result into dst as text. */
static void text_at(duckdb_result *r, idx_t c, idx_t i, char *dst, size_t cap)
{
    char *s = dk.value_varchar(r, c, i);
    snprintf(dst, cap, "%s", s ? s : "");
    if (s) dk.free_(s);
}

static void fill(duckdb_result *r, idx_t i, struct frow *out)
{
    out->id = dk.value_int64(r, 0, i);
    text_at(r, 1, i, out->date, sizeof out->date);
    out->delay = (int32_t)dk.value_int64(r, 2, i);
    out->distance = (int32_t)dk.value_int64(r, 3, i);
    text_at(r, 4, i, out->origin, sizeof out->origin);
    text_at(r, 5, i, out->dest, sizeof out->dest);
}

static int dd_get(void *ctx, int64_t key, struct frow *out)
{
    struct dd *d = ctx;
    duckdb_result r;
    int rc;
    dk.bind_int64(d->get, 1, key);
    if (dk.execute_prepared(d->get, &r) != 0) {
        dk.destroy_result(&r);
        return -1;
    }
    rc = dk.row_count(&r) > 0;
    if (rc) fill(&r, 0, out);
    dk.destroy_result(&r);
    return rc;
}

static long dd_range(void *ctx, int64_t lo, int64_t hi, emit_fn emit, void *acc)
{
    struct dd *d = ctx;
    duckdb_result r;
    struct frow row;
    idx_t n;
    dk.bind_int64(d->range, 1, lo);
    dk.bind_int64(d->range, 2, hi);
    if (dk.execute_prepared(d->range, &r) != 0) {
        dk.destroy_result(&r);
        return -1;
    }
    n = dk.row_count(&r);
    for (idx_t i = 0; i < n; i++) {
        fill(&r, i, &row);
        emit(acc, &row);
    }
    dk.destroy_result(&r);
    return (long)n;
}

static int dd_query(void *ctx, const char *sql, uint64_t *check, long *nrows, char *err, size_t errlen)
{
    struct dd *d = ctx;
    duckdb_result r;
    uint64_t sum = 0;
    idx_t n, cols;
    if (dk.query(d->con, sql, &r) != 0) {
        msgf(err, errlen, "%s", dk.result_error(&r));
        dk.destroy_result(&r);
        return -1;
    }
    n = dk.row_count(&r);
    cols = dk.column_count(&r);
    for (idx_t i = 0; i < n; i++) {
        struct rowhash h;
        rh_begin(&h);
        for (idx_t c = 0; c < cols; c++) {
            if (dk.value_is_null(&r, c, i)) {
                rh_text(&h, NULL, 0);
            } else {
                char *s = dk.value_varchar(&r, c, i);
                rh_text(&h, s, s ? strlen(s) : 0);
                if (s) dk.free_(s);
            }
        }
        sum += rh_end(&h);
    }
    dk.destroy_result(&r);
    *check = check_mix(sum ^ (uint64_t)n);
    *nrows = (long)n;
    return 0;
}

static int dd_open_get_close(void *ctx, int64_t key, struct frow *out)
{
    struct dd *d = ctx;
    duckdb_database db;
    duckdb_connection con;
    duckdb_prepared_statement st = NULL;
    duckdb_result r;
    char err[256];
    int rc = -1;
    if (dd_open(d->path, 1, "1", &db, &con, err, sizeof err) != 0) return -1;
    if (dk.prepare(con, SQL_LOOKUP, &st) == 0) {
        dk.bind_int64(st, 1, key);
        if (dk.execute_prepared(st, &r) == 0) {
            rc = dk.row_count(&r) > 0;
            if (rc) fill(&r, 0, out);
        }
        dk.destroy_result(&r);
    }
    dk.destroy_prepare(&st);
    dd_close(&db, &con);
    return rc;
}

static int build(struct dd *d, double *secs, char *err, size_t errlen)
{
    duckdb_database db;
    duckdb_connection con;
    char sql[8400], wal[4200];
    uint64_t t0;
    snprintf(wal, sizeof wal, "%s.wal", d->path);
    remove(d->path);
    remove(wal);
    t0 = now_ns();
    if (dd_open(d->path, 0, NULL, &db, &con, err, errlen) != 0) return -1;
    snprintf(sql, sizeof sql,
             "CREATE TABLE flights AS SELECT * FROM read_csv('%s', header = true, "
             "columns = {'id': 'BIGINT', 'date': 'TIMESTAMP', 'delay': 'INTEGER', "
             "'distance': 'INTEGER', 'origin': 'VARCHAR', 'destination': 'VARCHAR'})",
             d->b->csv);
    if (run(con, sql, err, errlen) != 0 || run(con, "CHECKPOINT", err, errlen) != 0) {
        dd_close(&db, &con);
        return -1;
    }
    dd_close(&db, &con);
    *secs = (double)(now_ns() - t0) / 1e9;
    return 0;
}

static void na_all(struct bench *b, const char *why)
{
    for (int op = 0; op < OP_COUNT; op++)
        if (op != OP_IMPORT && op != OP_BAKE && op != OP_INSERT && op != OP_INSERT_FAST && op != OP_MERGE && op != OP_DIFF)
            cell_na(b, op, COL_DUCKDB, "%s", why);
}

void sys_duckdb(struct bench *b)
{
    struct dd d;
    char err[512] = "", sql[8400], pq[4200];
    double t[4], spent = 0, sz;
    int n = 0;

    if (!b->duckdb_so) {
        char why[300];
        msgf(why, sizeof why, "DuckDB skipped: %s", b->duckdb_why ? b->duckdb_why : "no libduckdb.so");
        na_all(b, why);
        return;
    }
    if (load(b->duckdb_so, err, sizeof err) != 0) {
        char why[600];
        msgf(why, sizeof why, "DuckDB skipped: %s", err);
        na_all(b, why);
        return;
    }
    memset(&d, 0, sizeof d);
    d.b = b;
    snprintf(d.path, sizeof d.path, "%s/flights.duckdb", b->cache);
    snprintf(b->versions[COL_DUCKDB], sizeof b->versions[0], "%s (libduckdb.so from npm @duckdb/node-api)",
             dk.library_version());

    say("duckdb: building");
    while (n < 3) {
        if (build(&d, &t[n], err, sizeof err) != 0) {
            char why[600];
            msgf(why, sizeof why, "build failed: %s", err);
            na_all(b, why);
            return;
        }
        spent += t[n++];
        if (n >= b->build_runs && spent > (b->quick ? 0.6 : 5)) break;
    }
    cell_values(b, OP_BUILD, COL_DUCKDB, t, n);
    b->cells[OP_BUILD][COL_DUCKDB].ops_min = b->cells[OP_BUILD][COL_DUCKDB].ops_max = 1;
    msgf(b->cells[OP_BUILD][COL_DUCKDB].note, sizeof b->cells[0][0].note,
             "DuckDB CSV load uses all cores (default threads); every other build is one thread");
    sz = (double)file_size(d.path);
    cell_values(b, OP_SIZE, COL_DUCKDB, &sz, 1);

    if (dd_open(d.path, 1, "1", &d.db, &d.con, err, sizeof err) != 0) {
        na_all(b, err);
        return;
    }
    snprintf(pq, sizeof pq, "%s/flights.parquet", b->cache);
    remove(pq);
    snprintf(sql, sizeof sql, "COPY flights TO '%s' (FORMAT parquet, COMPRESSION zstd)", pq);
    if (run(d.con, sql, err, sizeof err) == 0) {
        sz = (double)file_size(pq);
        cell_values(b, OP_SIZE_PQ, COL_DUCKDB, &sz, 1);
    } else {
        cell_na(b, OP_SIZE_PQ, COL_DUCKDB, "COPY TO parquet failed: %s", err);
    }

    say("duckdb: reads (threads = 1)");
    if (dk.prepare(d.con, SQL_LOOKUP, &d.get) != 0 || dk.prepare(d.con, SQL_RANGE, &d.range) != 0) {
        cell_na(b, OP_LOOKUP, COL_DUCKDB, "prepare failed: %s", dk.prepare_error(d.get ? d.get : d.range));
    } else {
        /* no index on id (none declared): lookups use zone maps only; a smaller budget */
        measure_lookups(b, COL_DUCKDB, dd_get, &d, b->lookup_budget / 4);
        measure_ranges(b, COL_DUCKDB, dd_range, &d);
    }
    dk.destroy_prepare(&d.get);
    dk.destroy_prepare(&d.range);
    measure_queries(b, COL_DUCKDB, dd_query, &d);
    dd_close(&d.db, &d.con);
    {
        const char *evict[] = {d.path, NULL};
        measure_open(b, COL_DUCKDB, dd_open_get_close, &d, evict);
    }
}
