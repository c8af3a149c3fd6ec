/*
 * test_ws_upsert.c: INSERT OR REPLACE / OR IGNORE / ON CONFLICT against
 * tables with UNIQUE indexes, differential: each case runs the same
 * statements in SQLite (loaded with dlopen, as test_sql_diff.c does) and in
 * a workspace, and wants the same outcome (both succeed, or both fail with
 * SQLite's "UNIQUE constraint failed: t.col" at the start of our message)
 * and then the same rows.
 *
 * SQLite runs an INSERT row by row: a REPLACE deletes every row holding a
 * value of the new row (key or unique index), an ON CONFLICT (target)
 * applies to conflicts on that target only (others fail), and the target's
 * conflict is looked for first.
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "pv.h"
#include "test_sql_util.h"

static struct {
    void *lib;
    int (*open)(const char *, sqlite3 **);
    int (*close)(sqlite3 *);
    int (*exec)(sqlite3 *, const char *, int (*)(void *, int, char **, char **), void *, char **);
    const char *(*errmsg)(sqlite3 *);
    void (*free)(void *);
} sq;

static int sqlite_load(void)
{
    if (sq.lib) return 0;
    if (!(sq.lib = dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_LOCAL))) return -1;
#define SQ(field, name)                                                   \
    do {                                                                  \
        void *sym = dlsym(sq.lib, name);                                  \
        if (!sym) return -1;                                              \
        memcpy(&sq.field, &sym, sizeof sym);                              \
    } while (0)
    SQ(open, "sqlite3_open");
    SQ(close, "sqlite3_close");
    SQ(exec, "sqlite3_exec");
    SQ(errmsg, "sqlite3_errmsg");
    SQ(free, "sqlite3_free");
#undef SQ
    return 0;
}

static int add_row_text(void *arg, int n, char **vals, char **names)
{
    pv_buf *b = arg;
    int i;
    (void)names;
    for (i = 0; i < n; i++) {
        if (i) pv_buf_putc(b, '|');
        if (vals[i]) pv_buf_append(b, vals[i], strlen(vals[i]));
    }
    pv_buf_putc(b, '\n');
    return 0;
}

/* A table shape: its CREATE TABLE, the rows it starts with, and the query
 * that lists it in a fixed order. */
typedef struct shape {
    const char *create, *fill, *list;
} shape;

static const shape INT_KEY = {
    "CREATE TABLE t(id INTEGER PRIMARY KEY, u INTEGER UNIQUE, v TEXT)",
    "INSERT INTO t VALUES (1, 1, 'a'), (2, 2, 'b'), (3, 3, 'c')",
    "SELECT * FROM t ORDER BY id",
};
static const shape TEXT_KEY = { /* a composite unique index and a plain one */
    "CREATE TABLE t(k TEXT PRIMARY KEY, a INTEGER, b TEXT, n INTEGER, UNIQUE (a, b))",
    "INSERT INTO t VALUES ('x', 1, 'p', 10), ('y', 1, 'q', 20), ('z', 2, 'p', 30)",
    "SELECT * FROM t ORDER BY k",
};
static const shape NO_KEY = {
    "CREATE TABLE t(u INTEGER UNIQUE, v TEXT)",
    "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (NULL, 'c')",
    "SELECT * FROM t ORDER BY u, v",
};
static const shape TWO_UNIQUE = {
    "CREATE TABLE t(id INTEGER PRIMARY KEY, u INTEGER UNIQUE, w TEXT UNIQUE, v INTEGER)",
    "INSERT INTO t VALUES (1, 1, 'a', 0), (2, 2, 'b', 0), (3, 3, 'c', 0)",
    "SELECT * FROM t ORDER BY id",
};

static const shape LATE_INDEX = { /* indexes made by CREATE INDEX */
    "CREATE TABLE t(k INTEGER PRIMARY KEY, u INTEGER, w INTEGER, v INTEGER); "
    "CREATE UNIQUE INDEX t_u ON t(u); CREATE UNIQUE INDEX t_w ON t(w)",
    "INSERT INTO t VALUES (1, 1, 1, 0), (2, 2, 2, 0)",
    "SELECT * FROM t ORDER BY k",
};

typedef struct dcase {
    const shape *sh;
    const char *sql;
} dcase;

static const dcase CASES[] = {
    /* ON CONFLICT (unique column) DO UPDATE */
    {&INT_KEY, "INSERT INTO t VALUES (9, 2, 'x') ON CONFLICT (u) DO UPDATE SET v = excluded.v"},
    {&INT_KEY, "INSERT INTO t VALUES (9, 2, 'x'), (10, 2, 'y') ON CONFLICT (u) DO UPDATE SET v = v || excluded.v"},
    {&INT_KEY, "INSERT INTO t VALUES (9, 5, 'x'), (10, 5, 'y') ON CONFLICT (u) DO UPDATE SET v = v || excluded.v"},
    {&INT_KEY, "INSERT INTO t VALUES (1, 2, 'x') ON CONFLICT (u) DO UPDATE SET v = excluded.v"},
    {&INT_KEY, "INSERT INTO t VALUES (1, 5, 'x') ON CONFLICT (u) DO UPDATE SET v = excluded.v"},
    {&INT_KEY, "INSERT INTO t VALUES (9, 2, 'x') ON CONFLICT (u) DO UPDATE SET u = 3"},
    {&INT_KEY, "INSERT INTO t VALUES (9, 2, 'x') ON CONFLICT (u) DO UPDATE SET u = 7 WHERE excluded.v = 'x'"},
    {&INT_KEY, "INSERT INTO t VALUES (9, 2, 'x') ON CONFLICT (u) DO UPDATE SET v = 'z' WHERE excluded.v = 'q'"},
    {&INT_KEY, "INSERT INTO t VALUES (9, 2, 'x'), (10, 3, 'y') ON CONFLICT (u) DO UPDATE SET u = excluded.u + 10"},
    {&INT_KEY, "INSERT INTO t VALUES (9, 2, 'x'), (10, 12, 'y') ON CONFLICT (u) DO UPDATE SET u = excluded.u + 10"},
    {&INT_KEY, "INSERT INTO t VALUES (9, '2', 'x') ON CONFLICT (u) DO UPDATE SET v = excluded.v"},
    {&INT_KEY, "INSERT INTO t VALUES (9, 2, 'x') ON CONFLICT (id) DO UPDATE SET v = 'z'"},
    {&INT_KEY, "INSERT INTO t VALUES (2, 3, 'x') ON CONFLICT (id) DO UPDATE SET v = 'z'"},
    {&INT_KEY, "INSERT INTO t VALUES (9, 2, 'x') ON CONFLICT DO UPDATE SET v = 'z'"},
    {&INT_KEY, "INSERT INTO t VALUES (2, 9, 'x') ON CONFLICT DO UPDATE SET v = 'z'"},
    {&INT_KEY, "INSERT INTO t VALUES (2, 3, 'x') ON CONFLICT DO UPDATE SET v = 'z'"},
    {&TEXT_KEY, "INSERT INTO t VALUES ('w', 1, 'q', 5) ON CONFLICT (b, a) DO UPDATE SET n = n + excluded.n"},
    {&TEXT_KEY, "INSERT INTO t VALUES ('w', 1, 'r', 5) ON CONFLICT (a, b) DO UPDATE SET n = n + excluded.n"},
    {&TEXT_KEY, "INSERT INTO t VALUES ('x', 2, 'p', 5) ON CONFLICT (a, b) DO UPDATE SET b = 'q'"},
    {&TEXT_KEY, "INSERT INTO t VALUES ('w', 2, 'p', 5) ON CONFLICT (a, b) DO UPDATE SET b = 'q'"},
    {&NO_KEY, "INSERT INTO t VALUES (2, 'x') ON CONFLICT (u) DO UPDATE SET v = v || excluded.v"},
    {&NO_KEY, "INSERT INTO t VALUES (NULL, 'x'), (3, 'y') ON CONFLICT (u) DO UPDATE SET v = 'z'"},
    {&TWO_UNIQUE, "INSERT INTO t VALUES (9, 2, 'c', 1) ON CONFLICT (u) DO UPDATE SET v = 1"},
    {&TWO_UNIQUE, "INSERT INTO t VALUES (9, 2, 'z', 1) ON CONFLICT (w) DO UPDATE SET v = 1"},
    {&TWO_UNIQUE, "INSERT INTO t VALUES (9, 2, 'c', 1) ON CONFLICT (u) DO UPDATE SET w = excluded.w"},
    {&TWO_UNIQUE, "INSERT INTO t VALUES (9, 2, 'c', 1) ON CONFLICT DO UPDATE SET v = 7"},
    {&TEXT_KEY, "INSERT INTO t VALUES ('x', 1, 'q', 5) ON CONFLICT DO UPDATE SET n = 0"},
    {&LATE_INDEX, "INSERT INTO t VALUES (9, 1, 2, 5) ON CONFLICT DO UPDATE SET v = 7"},
    {&LATE_INDEX, "INSERT INTO t VALUES (9, 1, 2, 5) ON CONFLICT (u) DO UPDATE SET v = 7"},
    {&LATE_INDEX, "INSERT INTO t VALUES (2, 1, 3, 5) ON CONFLICT DO UPDATE SET v = 7"},
    /* ON CONFLICT (target) DO NOTHING: other conflicts still fail */
    {&INT_KEY, "INSERT INTO t VALUES (9, 2, 'x') ON CONFLICT (u) DO NOTHING"},
    {&INT_KEY, "INSERT INTO t VALUES (3, 2, 'x') ON CONFLICT (u) DO NOTHING"},
    {&INT_KEY, "INSERT INTO t VALUES (3, 5, 'x') ON CONFLICT (u) DO NOTHING"},
    {&INT_KEY, "INSERT INTO t VALUES (9, 2, 'x') ON CONFLICT (id) DO NOTHING"},
    {&INT_KEY, "INSERT INTO t VALUES (9, 2, 'x'), (3, 5, 'y') ON CONFLICT DO NOTHING"},
    /* INSERT OR REPLACE deletes every row holding one of the values */
    {&INT_KEY, "INSERT OR REPLACE INTO t VALUES (9, 2, 'x')"},
    {&INT_KEY, "INSERT OR REPLACE INTO t VALUES (1, 2, 'x')"},
    {&INT_KEY, "INSERT OR REPLACE INTO t VALUES (9, 2, 'x'), (10, 2, 'y')"},
    {&INT_KEY, "INSERT OR REPLACE INTO t VALUES (9, 2, 'x'), (9, 3, 'y')"},
    {&INT_KEY, "INSERT OR REPLACE INTO t VALUES (9, NULL, 'x'), (10, NULL, 'y')"},
    {&INT_KEY, "REPLACE INTO t VALUES (2, 3, 'x')"},
    {&INT_KEY, "REPLACE INTO t VALUES (2, 3, 'x'), (3, 2, 'y')"},
    {&TEXT_KEY, "REPLACE INTO t VALUES ('w', 1, 'q', 0), ('x', 2, 'p', 1)"},
    {&NO_KEY, "REPLACE INTO t VALUES (2, 'x'), (NULL, 'y')"},
    {&TWO_UNIQUE, "REPLACE INTO t VALUES (9, 1, 'b', 5)"},
    {&TWO_UNIQUE, "REPLACE INTO t VALUES (2, 1, 'c', 5)"},
    /* INSERT OR IGNORE skips a row on any conflict */
    {&INT_KEY, "INSERT OR IGNORE INTO t VALUES (9, 2, 'x'), (10, 7, 'y'), (11, 7, 'z'), (3, 8, 'w')"},
    {&TWO_UNIQUE, "INSERT OR IGNORE INTO t VALUES (9, 5, 'a', 0), (10, 5, 'q', 0), (11, 6, 'q', 0)"},
    /* plain INSERT and UPDATE where SQLite and we agree */
    {&INT_KEY, "INSERT INTO t VALUES (9, 2, 'x')"},
    {&INT_KEY, "UPDATE t SET u = u - 1"},
    {&INT_KEY, "UPDATE t SET u = 3 WHERE id = 1"},
    {&INT_KEY, "UPDATE t SET u = u + 1 WHERE id = 3"},
};

typedef struct outcome {
    int failed;
    char err[256];
    char *rows;
} outcome;

static void run_sqlite(const dcase *dc, outcome *o)
{
    sqlite3 *db = NULL;
    pv_buf b = PV_BUF_INIT;
    char *msg = NULL;
    assert_int_equal(sq.open(":memory:", &db), 0);
    assert_int_equal(sq.exec(db, dc->sh->create, NULL, NULL, NULL), 0);
    assert_int_equal(sq.exec(db, dc->sh->fill, NULL, NULL, NULL), 0);
    o->failed = sq.exec(db, dc->sql, NULL, NULL, &msg) != 0;
    snprintf(o->err, sizeof o->err, "%s", msg ? msg : "");
    sq.free(msg);
    assert_int_equal(sq.exec(db, dc->sh->list, add_row_text, &b, NULL), 0);
    pv_buf_putc(&b, 0);
    o->rows = strdup(b.p);
    pv_buf_free(&b);
    sq.close(db);
}

static void run_pv(pv_db *db, const dcase *dc, outcome *o)
{
    int rc;
    exec_ok(db, "DROP TABLE IF EXISTS t");
    exec_ok(db, dc->sh->create);
    exec_ok(db, dc->sh->fill);
    o->failed = pv_exec(db, dc->sql) != 0;
    snprintf(o->err, sizeof o->err, "%s", o->failed ? pv_errmsg() : "");
    o->rows = query(db, dc->sh->list, &rc);
    assert_true(rc >= 0);
}

static void differential(void **state)
{
    fixture *f = *state;
    size_t i, bad = 0;
    if (sqlite_load()) skip();
    for (i = 0; i < sizeof CASES / sizeof *CASES; i++) {
        outcome want = {0}, got = {0};
        int same;
        run_sqlite(&CASES[i], &want);
        run_pv(f->db, &CASES[i], &got);
        same = want.failed == got.failed && strcmp(want.rows, got.rows) == 0 &&
               (!want.failed || strncmp(got.err, want.err, strlen(want.err)) == 0);
        if (!same) {
            bad++;
            fprintf(stderr, "case %zu: %s\n  sqlite: %s%s\n%s  pvdev:  %s%s\n%s", i, CASES[i].sql,
                    want.failed ? "error " : "ok ", want.err, want.rows, got.failed ? "error " : "ok ",
                    got.err, got.rows);
        }
        free(want.rows);
        free(got.rows);
    }
    assert_int_equal(bad, 0);
}

/* Inside a transaction a failed upsert changes nothing and the
 * transaction goes on; a REPLACE that deletes rows is undone by ROLLBACK. */
static void replace_in_transaction(void **state)
{
    fixture *f = *state;
    int rc;
    char *rows;
    exec_ok(f->db, INT_KEY.create);
    exec_ok(f->db, INT_KEY.fill);
    exec_ok(f->db, "BEGIN");
    assert_int_not_equal(pv_exec(f->db, "INSERT INTO t VALUES (9, 2, 'x'), (3, 5, 'y') ON CONFLICT (u) DO UPDATE SET v = 'q'"), 0);
    exec_ok(f->db, "REPLACE INTO t VALUES (9, 2, 'x')");
    rows = query(f->db, INT_KEY.list, &rc);
    assert_string_equal(rows, "1|1|a\n3|3|c\n9|2|x\n");
    free(rows);
    exec_ok(f->db, "ROLLBACK");
    rows = query(f->db, INT_KEY.list, &rc);
    assert_string_equal(rows, "1|1|a\n2|2|b\n3|3|c\n");
    free(rows);
}

/* A prepared upsert re-run with other parameters (the overlay is per run). */
static void prepared_upsert(void **state)
{
    fixture *f = *state;
    pv_stmt *st = NULL;
    char *rows;
    int rc, i;
    exec_ok(f->db, INT_KEY.create);
    exec_ok(f->db, INT_KEY.fill);
    assert_int_equal(pv_prepare(f->db, "INSERT INTO t VALUES (?, ?, 'n') ON CONFLICT (u) DO UPDATE SET v = v || '+'",
                                (size_t)-1, &st, NULL), 0);
    for (i = 0; i < 4; i++) {
        assert_int_equal(pv_bind_int64(st, 1, 10 + i), 0);
        assert_int_equal(pv_bind_int64(st, 2, i % 2 + 1), 0);
        assert_int_equal(pv_step(st), PV_DONE);
        assert_int_equal(pv_reset(st), 0);
    }
    pv_finalize(st);
    rows = query(f->db, INT_KEY.list, &rc);
    assert_string_equal(rows, "1|1|a++\n2|2|b++\n3|3|c\n");
    free(rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(differential, setup_ws, teardown_ws),
        cmocka_unit_test_setup_teardown(replace_in_transaction, setup_ws, teardown_ws),
        cmocka_unit_test_setup_teardown(prepared_upsert, setup_ws, teardown_ws),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
