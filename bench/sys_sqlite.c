/*
 * sys_sqlite.c: SQLite (libsqlite3, linked) as a peer.
 *
 * Build: the real `sqlite3` shell `.import` into a typed table (timed, the
 * "build from CSV" figure), and the same table built through the C API
 * (one transaction of prepared inserts, timed too): the C-built file is the
 * one queried. Reads: opened read-only twice, with PRAGMA mmap_size = the
 * file size and with defaults. Writes: autocommit inserts into a copy, with
 * synchronous=OFF (the row against PicoVolt's fast mode) and FULL (the row
 * against its sync mode), journal_mode left at its default.
 */
#include "bench.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CREATE_SQL                                                                        \
    "CREATE TABLE flights(id INTEGER PRIMARY KEY, date TEXT, delay INTEGER, "            \
    "distance INTEGER, origin TEXT, destination TEXT)"

struct sq {
    struct bench *b;
    char path[4096];
    int mmap;
    long long size;
    sqlite3 *db;
    sqlite3_stmt *get, *range, *ins;
    int64_t next_id;
    long next_row;
};

static void copy_text(char *dst, size_t cap, const unsigned char *s, int n)
{
    size_t k = s ? (size_t)n : 0;
    if (k >= cap) k = cap - 1;
    if (k) memcpy(dst, s, k);
    dst[k] = 0;
}

static void fill(sqlite3_stmt *st, struct frow *r)
{
    r->id = sqlite3_column_int64(st, 0);
    copy_text(r->date, sizeof r->date, sqlite3_column_text(st, 1), sqlite3_column_bytes(st, 1));
    r->delay = sqlite3_column_int(st, 2);
    r->distance = sqlite3_column_int(st, 3);
    copy_text(r->origin, sizeof r->origin, sqlite3_column_text(st, 4), sqlite3_column_bytes(st, 4));
    copy_text(r->dest, sizeof r->dest, sqlite3_column_text(st, 5), sqlite3_column_bytes(st, 5));
}

static int sq_open(struct sq *s, sqlite3 **out)
{
    char pragma[96];
    if (sqlite3_open_v2(s->path, out, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK)
        return -1;
    if (s->mmap) {
        snprintf(pragma, sizeof pragma, "PRAGMA mmap_size=%lld", s->size);
        if (sqlite3_exec(*out, pragma, NULL, NULL, NULL) != SQLITE_OK) return -1;
    }
    return 0;
}

static int sq_get(void *ctx, int64_t key, struct frow *out)
{
    struct sq *s = ctx;
    int rc;
    sqlite3_bind_int64(s->get, 1, key);
    rc = sqlite3_step(s->get);
    if (rc == SQLITE_ROW) fill(s->get, out);
    sqlite3_reset(s->get);
    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -rc;
}

static long sq_range(void *ctx, int64_t lo, int64_t hi, emit_fn emit, void *acc)
{
    struct sq *s = ctx;
    struct frow r;
    long n = 0;
    int rc;
    sqlite3_bind_int64(s->range, 1, lo);
    sqlite3_bind_int64(s->range, 2, hi);
    while ((rc = sqlite3_step(s->range)) == SQLITE_ROW) {
        fill(s->range, &r);
        emit(acc, &r);
        n++;
    }
    sqlite3_reset(s->range);
    return rc == SQLITE_DONE ? n : -rc;
}

static int sq_query(void *ctx, const char *sql, uint64_t *check, long *nrows, char *err, size_t errlen)
{
    struct sq *s = ctx;
    sqlite3_stmt *st;
    uint64_t sum = 0;
    long n = 0;
    int rc;
    if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK) {
        msgf(err, errlen, "%s", sqlite3_errmsg(s->db));
        return -1;
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        struct rowhash h;
        rh_begin(&h);
        for (int c = 0; c < sqlite3_column_count(st); c++) {
            const unsigned char *t = sqlite3_column_text(st, c);
            rh_text(&h, (const char *)t, t ? (size_t)sqlite3_column_bytes(st, c) : 0);
        }
        sum += rh_end(&h);
        n++;
    }
    if (rc != SQLITE_DONE) msgf(err, errlen, "%s", sqlite3_errmsg(s->db));
    sqlite3_finalize(st);
    *check = check_mix(sum ^ (uint64_t)n);
    *nrows = n;
    return rc == SQLITE_DONE ? 0 : -1;
}

/* One PRAGMA integrity_check (ops_fn; one operation a call): its only
 * row must say "ok". SQLite's own whole-file check: every page of every
 * b-tree, free list and index against its table. */
static long sq_verify(void *ctx, long max_ops, uint64_t deadline)
{
    struct sq *s = ctx;
    sqlite3_stmt *st;
    long rc = -1;
    (void)max_ops;
    (void)deadline;
    if (sqlite3_prepare_v2(s->db, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK) return -1;
    if (sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "ok")) rc = 1;
    else say("sqlite: PRAGMA integrity_check on '%s' did not say ok", s->path);
    sqlite3_finalize(st);
    return rc;
}

static int sq_open_get_close(void *ctx, int64_t key, struct frow *out)
{
    struct sq *s = ctx;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    int rc = -1;
    if (sq_open(s, &db) != 0) goto done;
    if (sqlite3_prepare_v2(db, SQL_LOOKUP, -1, &st, NULL) != SQLITE_OK) goto done;
    sqlite3_bind_int64(st, 1, key);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) fill(st, out);
    rc = rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -rc;
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return rc;
}

/* ---- builds ---------------------------------------------------------------- */

static int count_rows(const char *path, long *out)
{
    sqlite3 *db;
    sqlite3_stmt *st;
    int rc = -1;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) goto done;
    if (sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM flights", -1, &st, NULL) != SQLITE_OK) goto done;
    if (sqlite3_step(st) == SQLITE_ROW) *out = (long)sqlite3_column_int64(st, 0), rc = 0;
    sqlite3_finalize(st);
done:
    sqlite3_close(db);
    return rc;
}

static int build_shell(void *ctx, double *secs, char *err, size_t errlen)
{
    struct sq *s = ctx;
    struct bench *b = s->b;
    char db[4096], script[4096], log[4096];
    long n = 0;
    FILE *f;
    snprintf(db, sizeof db, "%s/sqlite-shell.db", b->cache);
    snprintf(script, sizeof script, "%s/sqlite-import.sql", b->cache);
    snprintf(log, sizeof log, "%s/sqlite-import.log", b->cache);
    remove(db);
    remove(log);
    if (!(f = fopen(script, "w"))) return -1;
    fprintf(f, ".bail on\n%s;\n.import --csv --skip 1 '%s' flights\n", CREATE_SQL, b->csv);
    fclose(f);
    char *argv[] = {"sqlite3", db, NULL};
    int rc = run_cmd(NULL, script, log, secs, argv);
    if (rc != 0) {
        msgf(err, errlen, "sqlite3 shell failed (%d): %s", rc, log_tail(log));
        return -1;
    }
    if (count_rows(db, &n) != 0 || n != b->nrows) {
        msgf(err, errlen, "sqlite3 .import gave %ld rows, expected %ld", n, b->nrows);
        return -1;
    }
    return 0;
}

struct cbuild { sqlite3_stmt *st; int rc; };

static int insert_row(void *ctx, const struct frow *r)
{
    struct cbuild *c = ctx;
    sqlite3_bind_int64(c->st, 1, r->id);
    sqlite3_bind_text(c->st, 2, r->date, -1, SQLITE_STATIC);
    sqlite3_bind_int(c->st, 3, r->delay);
    sqlite3_bind_int(c->st, 4, r->distance);
    sqlite3_bind_text(c->st, 5, r->origin, -1, SQLITE_STATIC);
    sqlite3_bind_text(c->st, 6, r->dest, -1, SQLITE_STATIC);
    c->rc = sqlite3_step(c->st);
    sqlite3_reset(c->st);
    return c->rc == SQLITE_DONE ? 0 : -1;
}

static int build_capi(void *ctx, double *secs, char *err, size_t errlen)
{
    struct sq *s = ctx;
    sqlite3 *db = NULL;
    struct cbuild c = {NULL, 0};
    long n = 0;
    uint64_t t0;
    int rc = -1;
    remove(s->path);
    t0 = now_ns();
    if (sqlite3_open(s->path, &db) != SQLITE_OK) goto done;
    if (sqlite3_exec(db, CREATE_SQL "; BEGIN", NULL, NULL, NULL) != SQLITE_OK) goto done;
    if (sqlite3_prepare_v2(db, "INSERT INTO flights VALUES (?,?,?,?,?,?)", -1, &c.st, NULL) != SQLITE_OK)
        goto done;
    if (csv_each(s->b->csv, insert_row, &c) < 0) goto done;
    sqlite3_finalize(c.st);
    c.st = NULL;
    if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) goto done;
    if (sqlite3_close(db) != SQLITE_OK) goto done;
    db = NULL;
    *secs = (double)(now_ns() - t0) / 1e9;
    if (count_rows(s->path, &n) != 0 || n != s->b->nrows) {
        msgf(err, errlen, "C API build gave %ld rows, expected %ld", n, s->b->nrows);
        return -1;
    }
    rc = 0;
done:
    if (rc && !err[0]) msgf(err, errlen, "%s", db ? sqlite3_errmsg(db) : "cannot create the database");
    sqlite3_finalize(c.st);
    sqlite3_close(db);
    return rc;
}

/* ---- inserts ---------------------------------------------------------------- */

static long sq_inserts(void *ctx, long max_ops, uint64_t deadline)
{
    struct sq *s = ctx;
    long i;
    for (i = 0; i < max_ops; i++) {
        const struct frow *r = &s->b->rows[s->next_row++ % s->b->nrows];
        sqlite3_bind_int64(s->ins, 1, s->next_id++);
        sqlite3_bind_text(s->ins, 2, r->date, -1, SQLITE_STATIC);
        sqlite3_bind_int(s->ins, 3, r->delay);
        sqlite3_bind_int(s->ins, 4, r->distance);
        sqlite3_bind_text(s->ins, 5, r->origin, -1, SQLITE_STATIC);
        sqlite3_bind_text(s->ins, 6, r->dest, -1, SQLITE_STATIC);
        int rc = sqlite3_step(s->ins);
        sqlite3_reset(s->ins);
        if (rc != SQLITE_DONE) return -rc;
        if (now_ns() > deadline) return i + 1;
    }
    return i;
}

static void inserts(struct bench *b, struct sq *base, enum op_id op, enum sys_col col, const char *sync)
{
    struct sq s;
    char pragma[64], log[4096];
    double secs;
    memset(&s, 0, sizeof s);
    s.b = b;
    snprintf(s.path, sizeof s.path, "%s/sqlite-insert.db", b->cache);
    snprintf(log, sizeof log, "%s/sqlite-insert.log", b->cache);
    remove(s.path);
    char *argv[] = {"cp", base->path, s.path, NULL};
    if (run_cmd(NULL, NULL, log, &secs, argv) != 0) {
        cell_na(b, op, col, "cannot copy the database: %s", log_tail(log));
        return;
    }
    snprintf(pragma, sizeof pragma, "PRAGMA synchronous=%s", sync);
    if (sqlite3_open(s.path, &s.db) != SQLITE_OK || sqlite3_exec(s.db, pragma, NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s.db, "INSERT INTO flights VALUES (?,?,?,?,?,?)", -1, &s.ins, NULL) != SQLITE_OK) {
        cell_na(b, op, col, "%s", sqlite3_errmsg(s.db));
    } else {
        s.next_id = b->max_id + 1;
        measure_ops(b, op, col, sq_inserts, &s, b->insert_ops, b->insert_budget, b->runs);
        msgf(b->cells[op][col].note, sizeof b->cells[op][col].note,
                 "SQLite synchronous=%s, journal_mode=delete (default)", sync);
    }
    sqlite3_finalize(s.ins);
    sqlite3_close(s.db);
    remove(s.path);
}

/* ---- the column ---------------------------------------------------------------- */

static void reads(struct bench *b, struct sq *s, enum sys_col col)
{
    const char *evict[] = {s->path, NULL};
    if (sq_open(s, &s->db) != 0 ||
        sqlite3_prepare_v2(s->db, SQL_LOOKUP, -1, &s->get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(s->db, SQL_RANGE, -1, &s->range, NULL) != SQLITE_OK) {
        cell_na(b, OP_LOOKUP, col, "cannot open '%s': %s", s->path, sqlite3_errmsg(s->db));
        goto done;
    }
    if (s->mmap) { /* the limit SQLite was built with may cap the setting: say so */
        sqlite3_stmt *st;
        if (sqlite3_prepare_v2(s->db, "PRAGMA mmap_size", -1, &st, NULL) == SQLITE_OK) {
            if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) < s->size)
                say("sqlite: mmap_size capped at %lld bytes (file: %lld)",
                    (long long)sqlite3_column_int64(st, 0), s->size);
            sqlite3_finalize(st);
        }
    }
    measure_lookups(b, col, sq_get, s, b->lookup_budget);
    measure_ranges(b, col, sq_range, s);
    measure_queries(b, col, sq_query, s);
    measure_ops(b, OP_VERIFY, col, sq_verify, s, 1, 600, b->quick ? 1 : 3);
done:
    sqlite3_finalize(s->get);
    sqlite3_finalize(s->range);
    sqlite3_close(s->db); /* before the cold runs: a live mapping keeps pages cached */
    s->get = s->range = NULL;
    s->db = NULL;
    measure_open(b, col, sq_open_get_close, s, evict);
}

void sys_sqlite(struct bench *b)
{
    struct sq s;
    char err[300] = "";
    double shell[8], capi[8];
    int ns = 0, nc = 0;
    double spent = 0;

    memset(&s, 0, sizeof s);
    s.b = b;
    snprintf(s.path, sizeof s.path, "%s/sqlite.db", b->cache);
    snprintf(b->versions[COL_SQLITE_MMAP], sizeof b->versions[0], "%s (libsqlite3)", sqlite3_libversion());
    snprintf(b->versions[COL_SQLITE_DEF], sizeof b->versions[0], "%s", sqlite3_libversion());
    say("sqlite: building");

    /* builds: up to build_runs each, fewer when one run is long */
    for (int i = 0; i < b->build_runs + 2 && ns < 3; i++) {
        if (build_shell(&s, &shell[ns], err, sizeof err) != 0) {
            cell_na(b, OP_BUILD, COL_SQLITE_MMAP, "%s", err);
            cell_na(b, OP_BAKE, COL_SQLITE_MMAP, "%s", err);
            ns = 0;
            break;
        }
        spent += shell[ns++];
        if (ns >= b->build_runs && spent > (b->quick ? 0.6 : 8)) break;
    }
    if (ns) {
        cell_values(b, OP_BUILD, COL_SQLITE_MMAP, shell, ns);
        cell_values(b, OP_BAKE, COL_SQLITE_MMAP, shell, ns);
        b->cells[OP_BUILD][COL_SQLITE_MMAP].ops_min = b->cells[OP_BUILD][COL_SQLITE_MMAP].ops_max = 1;
        b->cells[OP_BAKE][COL_SQLITE_MMAP].ops_min = b->cells[OP_BAKE][COL_SQLITE_MMAP].ops_max = 1;
    }
    char shell_db[4096];
    snprintf(shell_db, sizeof shell_db, "%s/sqlite-shell.db", b->cache);
    remove(shell_db);
    spent = 0;
    err[0] = 0;
    for (int i = 0; i < b->build_runs + 2 && nc < 3; i++) {
        if (build_capi(&s, &capi[nc], err, sizeof err) != 0) {
            cell_na(b, OP_BUILD, COL_SQLITE_DEF, "%s", err);
            nc = 0;
            break;
        }
        spent += capi[nc++];
        if (nc >= b->build_runs && spent > (b->quick ? 0.6 : 8)) break;
    }
    if (!nc) {
        cell_na(b, OP_LOOKUP, COL_SQLITE_MMAP, "no database: %s", err);
        cell_na(b, OP_LOOKUP, COL_SQLITE_DEF, "no database: %s", err);
        return;
    }
    cell_values(b, OP_BUILD, COL_SQLITE_DEF, capi, nc);
    b->cells[OP_BUILD][COL_SQLITE_DEF].ops_min = b->cells[OP_BUILD][COL_SQLITE_DEF].ops_max = 1;

    s.size = file_size(s.path);
    double sz = (double)s.size;
    cell_values(b, OP_SIZE, COL_SQLITE_MMAP, &sz, 1);
    cell_values(b, OP_SIZE, COL_SQLITE_DEF, &sz, 1);

    say("sqlite: reads with mmap_size = %lld", s.size);
    s.mmap = 1;
    reads(b, &s, COL_SQLITE_MMAP);
    say("sqlite: reads with defaults");
    s.mmap = 0;
    reads(b, &s, COL_SQLITE_DEF);

    say("sqlite: autocommit inserts");
    inserts(b, &s, OP_INSERT_FAST, COL_SQLITE_MMAP, "OFF"); /* against PV_DURABILITY=fast */
    inserts(b, &s, OP_INSERT, COL_SQLITE_DEF, "FULL");      /* against PV_DURABILITY=sync */
}
