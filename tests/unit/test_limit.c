/*
 * test_limit.c: the query memory limit (pv_stmt_set_mem_limit, issue 8).
 * On a real workspace and the `.pvdb` baked from it, each operator that
 * holds state (GROUP BY, SELECT DISTINCT, ORDER BY, COUNT(DISTINCT x),
 * MIN/MAX of long text) stops with PV_ELIMIT and a message naming itself
 * and the limit once its state would pass the limit, and succeeds with the
 * same answer as without a limit one byte above the smallest limit that
 * suffices (found by bisection: the accounting is deterministic). The
 * statement runs again after pv_reset with a larger limit.
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
#include "test_pair_util.h"

#define NROWS 20000

typedef pair_fixture lfix;

/* t: k a distinct TEXT per row, g 100 groups, v an INTEGER, s a 2 KiB text
 * on a few rows (MIN/MAX keep a copy). */
/* t's row i; ctx: the 2 KiB text, its first letter set per row */
static void t_row(pv_buf *b, int i, void *ctx)
{
    char *big = ctx;
    big[0] = (char)('a' + i % 26);
    pv_buf_printf(b, "(%d, 'key-%07d', %d, %d, '%s')", i + 1, (i * 7919) % NROWS, i % 100,
                  (i * 31) % 1000, i % 1000 == 0 ? big : "s");
}

static void fill(pv_db *db)
{
    char big[2049];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = 0;
    exec_ok(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, k TEXT, g INTEGER, v INTEGER, s TEXT)");
    exec_ok(db, "BEGIN");
    insert_rows(db, "t", NROWS, t_row, big);
    exec_ok(db, "COMMIT");
}

static int setup(void **state) { return setup_pair(state, fill, 4096); }

static int teardown(void **state) { return teardown_pair(state); }

/* Run st to its end under `limit`: rc of the last step; the rows' text
 * (cells joined by '|') into *out when out is not NULL. */
static int run_limited(pv_stmt *st, uint64_t limit, char **out)
{
    pv_buf b = PV_BUF_INIT;
    int rc;
    assert_int_equal(pv_reset(st), 0);
    assert_int_equal(pv_stmt_set_mem_limit(st, limit), 0);
    while ((rc = pv_step(st)) == PV_ROW) {
        for (int c = 0; c < pv_column_count(st); c++) {
            const char *t = pv_column_text(st, c);
            if (c) pv_buf_putc(&b, '|');
            if (t) pv_buf_append(&b, t, strlen(t));
        }
        pv_buf_putc(&b, '\n');
    }
    pv_buf_putc(&b, 0);
    if (out) *out = strdup(b.p);
    pv_buf_free(&b);
    return rc;
}

/* The smallest limit under which `sql` succeeds on db (bisection between
 * 0 and 256 MiB): it must fail one byte below with PV_ELIMIT and a message
 * naming `op` and that limit, and give the unlimited answer at it. */
static uint64_t threshold(pv_db *db, const char *sql, const char *op)
{
    pv_stmt *st = NULL;
    uint64_t lo = 0, hi = (uint64_t)256 << 20; /* fails at lo, succeeds at hi */
    char *want = NULL, *got = NULL, msg[64];
    int rc;
    assert_int_equal(pv_prepare(db, sql, (size_t)-1, &st, NULL), 0);
    assert_int_equal(run_limited(st, UINT64_MAX, &want), 0);
    assert_int_equal(run_limited(st, hi, NULL), 0);
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        rc = run_limited(st, mid, NULL);
        if (rc == 0) {
            hi = mid;
        } else {
            if (rc != PV_ELIMIT) fail_msg("%s under %llu: %d %s", sql, (unsigned long long)mid, rc, pv_errmsg());
            lo = mid;
        }
    }
    assert_int_equal(run_limited(st, lo, NULL), PV_ELIMIT);
    snprintf(msg, sizeof msg, "limit of %llu bytes", (unsigned long long)lo);
    if (!strstr(pv_errmsg(), op) || !strstr(pv_errmsg(), msg))
        fail_msg("%s: message '%s' should name '%s' and '%s'", sql, pv_errmsg(), op, msg);
    assert_int_equal(run_limited(st, hi, &got), 0); /* just enough: the same answer */
    assert_string_equal(got, want);
    free(got);
    free(want);
    pv_finalize(st);
    return hi;
}

/* The same threshold on both stores, within [min, max] bytes. */
static void check_op(lfix *f, const char *sql, const char *op, uint64_t min, uint64_t max)
{
    uint64_t a = threshold(f->pdb, sql, op), b = threshold(f->ws.db, sql, op);
    if (a < min || a > max || b < min || b > max)
        fail_msg("%s: thresholds %llu (pvdb) / %llu (workspace) outside [%llu, %llu]", sql,
                 (unsigned long long)a, (unsigned long long)b, (unsigned long long)min,
                 (unsigned long long)max);
}

static void test_group_by(void **state)
{
    /* 20,000 groups hold at least their keys (16 B text + 24 B value) */
    check_op(*state, "SELECT k, COUNT(*), SUM(v) FROM t GROUP BY k", "GROUP BY", 20000 * 40,
             64 << 20);
    check_op(*state, "SELECT g, COUNT(*), AVG(v) FROM t GROUP BY g", "GROUP BY", 100 * 40, 4 << 20);
}

static void test_distinct(void **state)
{
    check_op(*state, "SELECT DISTINCT k FROM t", "DISTINCT", 20000 * 40, 64 << 20);
    /* (the last charge may be the set's or the one result row's: "aggregate") */
    check_op(*state, "SELECT COUNT(DISTINCT k) FROM t", "aggregate", 20000 * 40, 64 << 20);
    check_op(*state, "SELECT g, COUNT(DISTINCT k) FROM t GROUP BY g", "", 20000 * 40, 64 << 20);
}

static void test_order_by(void **state)
{
    check_op(*state, "SELECT k, v FROM t ORDER BY k DESC", "ORDER BY", 20000 * 48, 64 << 20);
}

static void test_min_max(void **state)
{
    check_op(*state, "SELECT g, MAX(s) FROM t GROUP BY g", "GROUP BY", 100 * 40, 4 << 20);
}

/* Under the default limit the queries run; the limit cannot change while
 * a row is pending; a streaming query without state needs no memory. */
static void test_api(void **state)
{
    lfix *f = *state;
    pv_stmt *st = NULL;
    assert_int_equal(pv_prepare(f->pdb, "SELECT k, v FROM t WHERE v > 10", (size_t)-1, &st, NULL), 0);
    assert_int_equal(pv_stmt_set_mem_limit(st, 1), 0); /* a scan holds nothing */
    assert_int_equal(pv_step(st), PV_ROW);
    assert_int_equal(pv_stmt_set_mem_limit(st, 0), PV_EMISUSE);
    assert_int_equal(pv_reset(st), 0);
    assert_int_equal(pv_stmt_set_mem_limit(st, 0), 0); /* the default again */
    pv_finalize(st);
    assert_int_equal(pv_stmt_set_mem_limit(NULL, 5), PV_EMISUSE);
    check_query(f->pdb, "SELECT COUNT(DISTINCT k), COUNT(*) FROM t", "20000|20000\n");
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_group_by), T(test_distinct), T(test_order_by), T(test_min_max), T(test_api),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
