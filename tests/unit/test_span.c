/*
 * test_span.c: reading results in spans (pv_step_span, pv_column_span;
 * docs/SPANS.md) gives exactly what pv_column_* give, cell by cell: type,
 * NULL (not the empty string), value, bytes; on a `.pvdb` (rows read in
 * place, with and without gaps, and projected rows) and on the workspace
 * it was baked from (rows always projected); with spans of several sizes,
 * mixed with rows read by pv_column_* in one run; and the errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pv.h"
#include "pvdb.h"
#include "test_pair_util.h"
#include "ws.h"

#define NROWS 5000 /* t: id = 1, 3, 5, ... 9999 (odd keys only) */

typedef pair_fixture pfix;

/* t's row i: odd keys, NULLs every 7th row, empty values (not NULL)
 * every 11th */
static void t_row(pv_buf *b, int i, void *ctx)
{
    (void)ctx;
    if (i % 7 == 3) pv_buf_printf(b, "(%d, NULL, NULL, NULL, NULL)", 2 * i + 1);
    else if (i % 11 == 5) pv_buf_printf(b, "(%d, '', -0.0, FALSE, X'')", 2 * i + 1); /* empty, not NULL */
    else
        pv_buf_printf(b, "(%d, 'n%d\xc3\xa9', %d.5, %s, X'00%02x00ff')", 2 * i + 1, i % 97, i % 13,
                      i % 3 ? "TRUE" : "FALSE", i % 251);
}

static void fill(pv_db *db)
{
    exec_ok(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, ok BOOLEAN, raw BLOB)");
    exec_ok(db, "CREATE TABLE e (id INTEGER PRIMARY KEY, x TEXT, y INTEGER)");
    exec_ok(db, "BEGIN");
    insert_rows(db, "t", NROWS, t_row, NULL);
    fill_s_and_c(db);
    /* a table of nothing but NULLs and empty strings */
    exec_ok(db, "INSERT INTO e VALUES (1, NULL, NULL), (2, '', NULL), (3, NULL, 0), (4, '', 0)");
    exec_ok(db, "COMMIT");
}

static int setup(void **state) { return setup_pair(state, fill, 1000); /* ranges cross row groups */ }

static int teardown(void **state) { return teardown_pair(state); }

/* ---- one cell as pv_column_* read it ---------------------------------------------------- */

typedef struct xcell {
    int type;
    int64_t i;
    double f;
    char *p; /* TEXT / BLOB bytes (malloc) */
    size_t n;
} xcell;

typedef struct xrows {
    xcell *c;
    size_t nrows, cap;
    int ncols;
} xrows;

static void read_cell(pv_stmt *st, int col, xcell *x)
{
    memset(x, 0, sizeof *x);
    x->type = pv_column_type(st, col);
    switch (x->type) {
    case PV_NULL: break;
    case PV_REAL: x->f = pv_column_double(st, col); break;
    case PV_TEXT:
    case PV_BLOB: {
        const void *p = pv_column_blob(st, col);
        x->n = pv_column_bytes(st, col);
        x->p = malloc(x->n + 1);
        assert_non_null(x->p);
        if (x->n) memcpy(x->p, p, x->n);
        break;
    }
    default: x->i = pv_column_int64(st, col); break;
    }
}

/* Every row of `sql` on db, by pv_step and pv_column_*. */
static void read_all(pv_db *db, const char *sql, xrows *out)
{
    pv_stmt *st = NULL;
    int rc;
    memset(out, 0, sizeof *out);
    if (pv_prepare(db, sql, (size_t)-1, &st, NULL)) fail_msg("%s: prepare: %s", sql, pv_errmsg());
    out->ncols = pv_column_count(st);
    while ((rc = pv_step(st)) == PV_ROW) {
        if (out->nrows == out->cap) {
            out->cap = out->cap ? out->cap * 2 : 64;
            out->c = realloc(out->c, out->cap * (size_t)out->ncols * sizeof *out->c);
            assert_non_null(out->c);
        }
        for (int c = 0; c < out->ncols; c++) read_cell(st, c, &out->c[out->nrows * (size_t)out->ncols + (size_t)c]);
        out->nrows++;
    }
    if (rc != PV_DONE) fail_msg("%s: step: %d %s", sql, rc, pv_errmsg());
    pv_finalize(st);
}

static void free_rows(xrows *x)
{
    for (size_t i = 0; i < x->nrows * (size_t)x->ncols; i++) free(x->c[i].p);
    free(x->c);
}

/* Cell (row, col) of a span equals the recorded cell. */
static void same_cell(const char *sql, size_t row, int col, const pv_span *s, uint32_t k, const xcell *x)
{
    int null = s->nulls && s->nulls[k];
    if (null || x->type == PV_NULL) {
        if (!(null && x->type == PV_NULL))
            fail_msg("%s: row %zu col %d: span %s, pv_column_type %d", sql, row, col, null ? "NULL" : "not NULL",
                     x->type);
        return;
    }
    if (s->type != x->type) fail_msg("%s: row %zu col %d: span type %d, pv_column_type %d", sql, row, col, s->type, x->type);
    switch (x->type) {
    case PV_REAL:
        if (memcmp(&s->u.f[k], &x->f, sizeof x->f))
            fail_msg("%s: row %zu col %d: %.17g vs %.17g", sql, row, col, s->u.f[k], x->f);
        break;
    case PV_TEXT:
    case PV_BLOB:
        if (s->u.s[k].n != x->n || (x->n && memcmp(s->u.s[k].p, x->p, x->n)))
            fail_msg("%s: row %zu col %d: %zu bytes '%.*s' vs %zu '%.*s'", sql, row, col, s->u.s[k].n,
                     (int)s->u.s[k].n, s->u.s[k].p ? s->u.s[k].p : "", x->n, (int)x->n, x->p);
        break;
    default:
        if (s->u.i[k] != x->i)
            fail_msg("%s: row %zu col %d: %lld vs %lld", sql, row, col, (long long)s->u.i[k], (long long)x->i);
    }
}

/* Read `sql` again, rows by spans of up to `max` rows, except that the
 * rows pv_step returns at a position p with (p / 3) % mix == 1 are read
 * by pv_column_* alone (mix 0: spans only); compare with want. Within a
 * span, its first row is also read by pv_column_* before and after the
 * claim. Returns the number of spans. */
static size_t read_spans(pv_db *db, const char *sql, int max, int mix, const xrows *want)
{
    pv_stmt *st = NULL;
    size_t row = 0, spans = 0, steps = 0;
    int rc, ncols;
    if (pv_prepare(db, sql, (size_t)-1, &st, NULL)) fail_msg("%s: prepare: %s", sql, pv_errmsg());
    ncols = pv_column_count(st);
    assert_int_equal(ncols, want->ncols);
    for (int run = 0; run < 2; run++) { /* twice: a re-run after pv_reset */
        row = 0;
        while ((rc = pv_step(st)) == PV_ROW) {
            const xcell *w = &want->c[row * (size_t)ncols];
            int n = 0;
            xcell x;
            if (row >= want->nrows) fail_msg("%s: more rows than %zu", sql, want->nrows);
            if (mix && (steps++ / 3) % (size_t)mix == 1) {
                pv_span one;
                for (int c = 0; c < ncols; c++) { /* by cell, then as a span of one */
                    read_cell(st, c, &x);
                    pv_span s1;
                    memset(&s1, 0, sizeof s1);
                    if (x.type != w[c].type || x.i != w[c].i || x.n != w[c].n ||
                        memcmp(&x.f, &w[c].f, sizeof x.f) || (x.n && memcmp(x.p, w[c].p, x.n)))
                        fail_msg("%s: row %zu col %d differs by pv_column_*", sql, row, c);
                    free(x.p);
                    assert_int_equal(pv_column_span(st, c, &s1), PV_OK);
                    assert_int_equal(s1.n, 1);
                    same_cell(sql, row, c, &s1, 0, &w[c]);
                }
                assert_int_equal(pv_column_span(st, 0, &one), PV_OK);
                row++;
                continue;
            }
            /* the first row by pv_column_* before the claim: pointers stay valid */
            const void *b0 = pv_column_blob(st, ncols - 1);
            size_t n0 = pv_column_bytes(st, ncols - 1);
            char keep[64];
            if (b0 && n0 < sizeof keep) memcpy(keep, b0, n0);
            if ((rc = pv_step_span(st, max, &n)) != PV_OK) fail_msg("%s: pv_step_span: %d %s", sql, rc, pv_errmsg());
            assert_true(n >= 1 && n <= max && n <= PV_SPAN_MAX);
            if (b0 && n0 < sizeof keep) assert_memory_equal(b0, keep, n0);
            if (row + (size_t)n > want->nrows) fail_msg("%s: span of %d at row %zu of %zu", sql, n, row, want->nrows);
            {
                int n2 = 0;
                assert_int_equal(pv_step_span(st, 1, &n2), PV_OK); /* the same claim */
                assert_int_equal(n2, n);
            }
            for (int c = 0; c < ncols; c++) {
                pv_span s, s2;
                assert_int_equal(pv_column_span(st, c, &s), PV_OK);
                assert_int_equal(s.n, (uint32_t)n);
                for (int k = 0; k < n; k++) same_cell(sql, row + (size_t)k, c, &s, (uint32_t)k, &w[(size_t)k * (size_t)ncols + (size_t)c]);
                assert_int_equal(pv_column_span(st, c, &s2), PV_OK); /* asked again: the same arrays */
                assert_memory_equal(&s, &s2, sizeof s);
                /* pv_column_* still read the span's first row */
                read_cell(st, c, &x);
                if (x.type != w[c].type || x.i != w[c].i || x.n != w[c].n || (x.n && memcmp(x.p, w[c].p, x.n)))
                    fail_msg("%s: row %zu col %d: pv_column_* after the claim", sql, row, c);
                free(x.p);
            }
            row += (size_t)n;
            spans++;
        }
        if (rc != PV_DONE) fail_msg("%s: step: %d %s", sql, rc, pv_errmsg());
        if (row != want->nrows) fail_msg("%s: %zu rows by spans, %zu by pv_column_*", sql, row, want->nrows);
        assert_int_equal(pv_step(st), PV_DONE);
        {
            int n = 5;
            pv_span s;
            assert_int_equal(pv_step_span(st, 10, &n), PV_EMISUSE); /* no current row */
            assert_int_equal(n, 0);
            assert_int_equal(pv_column_span(st, 0, &s), PV_EMISUSE);
        }
        assert_int_equal(pv_reset(st), PV_OK);
    }
    pv_finalize(st);
    return spans;
}

/* Spans of several sizes and mixes agree with pv_column_* for `sql` on
 * both stores (and the stores agree with each other). */
static void check(pfix *f, const char *sql)
{
    static const int sizes[] = {1, 2, 7, 1000, PV_SPAN_MAX, 5000};
    pv_db *dbs[2] = {f->pdb, f->ws.db};
    xrows want[2];
    for (int d = 0; d < 2; d++) {
        read_all(dbs[d], sql, &want[d]);
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
            read_spans(dbs[d], sql, sizes[i], 0, &want[d]);
            read_spans(dbs[d], sql, sizes[i], (int)(i % 3) + 2, &want[d]);
        }
    }
    assert_int_equal(want[0].nrows, want[1].nrows);
    free_rows(&want[0]);
    free_rows(&want[1]);
}

static const char *const QUERIES[] = {
    /* test_sql_pvdb's: points, IN, ranges (in place on the .pvdb) */
    "SELECT * FROM t WHERE id = 1", "SELECT * FROM t WHERE id = 9999", "SELECT * FROM t WHERE id = 2",
    "SELECT name FROM t WHERE id = 7", "SELECT * FROM t WHERE id = 5.0", "SELECT * FROM t WHERE id = '5'",
    "SELECT count(*), sum(score) FROM t WHERE id = 1999", "SELECT * FROM s WHERE k = 'k00003'",
    "SELECT * FROM c WHERE a = 78", "SELECT * FROM c WHERE b = 'b05'",
    "SELECT * FROM t WHERE id IN (9999, 3, 1, 3, 4, 5001, 1, 5.0, '7', 7.5, NULL)",
    "SELECT id FROM t WHERE id IN (1, 2001, 4001, 6001, 8001) ORDER BY id DESC",
    "SELECT * FROM c WHERE a IN (6, 2, 4) AND v > 250", "SELECT * FROM t WHERE id >= 1001 AND id < 3001",
    "SELECT * FROM t WHERE id BETWEEN 1500 AND 3500", "SELECT * FROM t WHERE id BETWEEN 1999 AND 2001",
    "SELECT * FROM t WHERE id BETWEEN 5 AND 3", "SELECT * FROM t WHERE id > 2.5 AND id < 7.5",
    "SELECT id, name FROM t WHERE id >= 3001 AND name = 'n3' LIMIT 3",
    "SELECT name, count(*) FROM t WHERE id BETWEEN 100 AND 4100 GROUP BY name",
    "SELECT * FROM t WHERE id > 8000 ORDER BY score DESC, id LIMIT 5 OFFSET 2",
    "SELECT * FROM s WHERE k >= 'k01000' AND k < 'k04000'", "SELECT * FROM c WHERE a >= 10 AND a < 20",
    "SELECT * FROM c WHERE a > 70 AND b = 'b01'",
    /* whole scans, gaps (WHERE on other columns), LIMIT/OFFSET inside and across batches */
    "SELECT * FROM t", "SELECT raw, ok, id FROM t WHERE score > 5", "SELECT * FROM t WHERE name IS NULL",
    "SELECT * FROM t WHERE name = ''", "SELECT id, raw FROM t WHERE id % 3 = 0",
    "SELECT * FROM t LIMIT 10 OFFSET 1020", "SELECT * FROM t LIMIT 1500 OFFSET 700",
    "SELECT * FROM t WHERE id > 100 LIMIT 2049", "SELECT * FROM t WHERE score < 3 LIMIT 700 OFFSET 33",
    "SELECT * FROM t LIMIT 0", "SELECT * FROM e", "SELECT x, y FROM e WHERE y IS NULL",
    /* projected: expressions, mixed types, aggregates, ORDER BY, DISTINCT, EXPLAIN */
    "SELECT id * 2, name || 'x', score / 2, NOT ok, length(raw) FROM t WHERE id < 3000",
    "SELECT CASE WHEN id % 3 = 0 THEN id WHEN id % 3 = 1 THEN name ELSE score END FROM t",
    "SELECT CASE WHEN id % 5 = 0 THEN NULL ELSE id END, CASE WHEN id > 4000 THEN 'big' END FROM t",
    "SELECT NULL, 1, 'a', 2.5, TRUE, X'0102'", "SELECT coalesce(name, raw, score) FROM t",
    "SELECT name, count(*), sum(score), min(raw), max(ok) FROM t GROUP BY name",
    "SELECT DISTINCT ok, name FROM t ORDER BY name, ok", "SELECT * FROM t ORDER BY name DESC, id LIMIT 1100 OFFSET 5",
    "SELECT id FROM t ORDER BY id DESC LIMIT 10", "SELECT count(*) FROM t", "SELECT x || '', y + 0 FROM e",
    "SELECT typeof(name), typeof(raw) FROM t WHERE id < 200", "EXPLAIN SELECT * FROM t WHERE id BETWEEN 5 AND 10",
    "EXPLAIN QUERY PLAN SELECT * FROM t WHERE score > 1",
};

static void test_queries(void **state)
{
    pfix *f = *state;
    for (size_t i = 0; i < sizeof QUERIES / sizeof *QUERIES; i++) check(f, QUERIES[i]);
}

/* Generated SELECTs over t: projections of columns and expressions,
 * filters, orders, limits. */
static void test_generated(void **state)
{
    static const char *const outs[] = {"id", "name", "score", "ok", "raw", "*", "id + 1", "upper(name)",
                                       "score * 2", "CASE WHEN ok THEN name ELSE raw END", "NULL", "''"};
    static const char *const wheres[] = {"", " WHERE id > 3000", " WHERE id BETWEEN 777 AND 4321",
                                         " WHERE name IS NOT NULL", " WHERE score >= 6", " WHERE ok",
                                         " WHERE raw = X''", " WHERE id < 50 OR id > 9900"};
    static const char *const tails[] = {"", " LIMIT 5", " LIMIT 1030 OFFSET 1010", " ORDER BY name, id",
                                        " ORDER BY id DESC LIMIT 300 OFFSET 40"};
    pfix *f = *state;
    uint32_t seed = 12345;
    char sql[512];
    for (int q = 0; q < 60; q++) {
        int n = 0;
        seed = seed * 1103515245u + 12345u;
        n = snprintf(sql, sizeof sql, "SELECT %s", outs[(seed >> 8) % 12]);
        for (uint32_t k = 0, extra = (seed >> 4) % 3; k < extra; k++) {
            seed = seed * 1103515245u + 12345u;
            n += snprintf(sql + n, sizeof sql - (size_t)n, ", %s", outs[(seed >> 8) % 11]);
        }
        seed = seed * 1103515245u + 12345u;
        snprintf(sql + n, sizeof sql - (size_t)n, " FROM t%s%s", wheres[(seed >> 8) % 8], tails[(seed >> 12) % 5]);
        check(f, sql);
    }
}

/* Errors, and a span that ends where a computed column's type changes. */
static void test_edges(void **state)
{
    pfix *f = *state;
    pv_db *dbs[2] = {f->pdb, f->ws.db};
    for (int d = 0; d < 2; d++) {
        pv_stmt *st = NULL;
        pv_span s;
        int n = 9;
        assert_int_equal(pv_prepare(dbs[d], "SELECT id, CASE WHEN id < 100 THEN id ELSE 'x' END FROM t", (size_t)-1, &st, NULL), 0);
        assert_int_equal(pv_step_span(st, 5, &n), PV_EMISUSE); /* before pv_step */
        assert_int_equal(n, 0);
        assert_int_equal(pv_column_span(st, 0, &s), PV_EMISUSE);
        assert_int_equal(pv_step_span(NULL, 5, &n), PV_EMISUSE);
        assert_int_equal(pv_step(st), PV_ROW);
        assert_int_equal(pv_step_span(st, 0, &n), PV_ERANGE);
        assert_int_equal(pv_step_span(st, 5, NULL), PV_EMISUSE);
        assert_int_equal(pv_column_span(st, 2, &s), PV_ERANGE);
        assert_int_equal(pv_column_span(st, -1, &s), PV_ERANGE);
        assert_int_equal(pv_column_span(st, 0, NULL), PV_EMISUSE);
        /* ids 1..99 are 50 rows of INTEGER, then TEXT: the span stops there */
        assert_int_equal(pv_step_span(st, PV_SPAN_MAX, &n), PV_OK);
        assert_int_equal(n, 50);
        assert_int_equal(pv_column_span(st, 1, &s), PV_OK);
        assert_int_equal(s.type, PV_INTEGER);
        assert_int_equal(s.u.i[49], 99);
        assert_int_equal(pv_step(st), PV_ROW);
        assert_int_equal(pv_column_int64(st, 0), 101);
        assert_string_equal(pv_column_text(st, 1), "x");
        assert_int_equal(pv_step_span(st, 100000, &n), PV_OK);
        assert_int_equal(pv_column_span(st, 1, &s), PV_OK);
        assert_int_equal(s.type, PV_TEXT);
        assert_true(n >= 1 && n <= PV_SPAN_MAX);
        assert_int_equal(pv_reset(st), PV_OK);
        assert_int_equal(pv_step_span(st, 5, &n), PV_EMISUSE); /* after pv_reset */
        assert_int_equal(pv_step(st), PV_ROW);                 /* and it runs again */
        assert_int_equal(pv_column_int64(st, 0), 1);
        pv_finalize(st);
        /* an all-NULL computed column has no type; a declared one keeps its own */
        assert_int_equal(pv_prepare(dbs[d], "SELECT NULL, x FROM e WHERE x IS NULL", (size_t)-1, &st, NULL), 0);
        assert_int_equal(pv_step(st), PV_ROW);
        assert_int_equal(pv_step_span(st, 10, &n), PV_OK);
        assert_int_equal(n, 2);
        assert_int_equal(pv_column_span(st, 0, &s), PV_OK);
        assert_int_equal(s.type, PV_NULL);
        assert_non_null(s.nulls);
        assert_true(s.nulls[0] && s.nulls[1]);
        assert_int_equal(pv_column_span(st, 1, &s), PV_OK);
        assert_true(s.nulls[0] && s.nulls[1]);
        assert_int_equal(pv_step(st), PV_DONE);
        pv_finalize(st);
        /* DML has no rows to claim */
        if (d == 1) {
            assert_int_equal(pv_prepare(dbs[d], "DELETE FROM e WHERE id = 99", (size_t)-1, &st, NULL), 0);
            assert_int_equal(pv_step(st), PV_DONE);
            assert_int_equal(pv_step_span(st, 5, &n), PV_EMISUSE);
            pv_finalize(st);
        }
    }
}

/* A key range on the .pvdb is one span per batch and points into it: no
 * copy (the arrays of two spans of one batch are one array). */
static void test_in_place(void **state)
{
    pfix *f = *state;
    pv_stmt *st = NULL;
    pv_span a, b;
    int n;
    assert_int_equal(pv_prepare(f->pdb, "SELECT id, name FROM t WHERE id BETWEEN 1 AND 999", (size_t)-1, &st, NULL), 0);
    assert_int_equal(pv_step(st), PV_ROW);
    assert_int_equal(pv_step_span(st, 10, &n), PV_OK);
    assert_int_equal(n, 10);
    assert_int_equal(pv_column_span(st, 0, &a), PV_OK);
    assert_int_equal(pv_step(st), PV_ROW);
    assert_int_equal(pv_column_int64(st, 0), 21);
    assert_int_equal(pv_step_span(st, PV_SPAN_MAX, &n), PV_OK);
    assert_int_equal(n, 490);
    assert_int_equal(pv_column_span(st, 0, &b), PV_OK);
    assert_ptr_equal(b.u.i, a.u.i + 10);
    assert_int_equal(b.u.i[489], 999);
    assert_int_equal(pv_step(st), PV_DONE);
    pv_finalize(st);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_queries),
        T(test_generated),
        T(test_edges),
        T(test_in_place),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
