/*
 * test_sql_pvdb.c: SELECTs on a baked `.pvdb` through its key index
 * (docs/SQL.md, "Access paths"): the same queries on the workspace and on
 * the file it bakes to give the same rows, and EXPLAIN shows the index
 * path. The tables are baked with small row groups so ranges cross them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db.h"
#include "pv.h"
#include "pvdb.h"
#include "pvdb_blockcache.h"
#include "test_pair_util.h"
#include "ws.h"

#define NROWS 5000 /* t: id = 1, 3, 5, ... 9999 (odd keys only) */

typedef pair_fixture pfix;

/* t's row i: odd keys, NULLs every 7th row */
static void t_row(pv_buf *b, int i, void *ctx)
{
    (void)ctx;
    if (i % 7 == 3) pv_buf_printf(b, "(%d, NULL, NULL)", 2 * i + 1);
    else pv_buf_printf(b, "(%d, 'n%d', %d.5)", 2 * i + 1, i % 97, i % 13);
}

static void fill(pv_db *db)
{
    exec_ok(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL)");
    exec_ok(db, "CREATE INDEX t_name ON t (name)"); /* (for DDL on read-only stores) */
    exec_ok(db, "BEGIN");
    insert_rows(db, "t", NROWS, t_row, NULL);
    fill_s_and_c(db);
    exec_ok(db, "COMMIT");
}

static int setup(void **state) { return setup_pair(state, fill, 1000); /* ranges cross row groups */ }

static int teardown(void **state) { return teardown_pair(state); }

/* The query gives the same rows on both stores; `nrows` of them when >= 0. */
static void same(pfix *f, const char *sql, int nrows)
{
    int rc1, rc2, n = 0;
    char *a = query(f->ws.db, sql, &rc1), *b = query(f->pdb, sql, &rc2), *p;
    if (rc1 < 0 || rc2 < 0) fail_msg("%s: %d / %d %s", sql, rc1, rc2, pv_errmsg());
    if (strcmp(a, b)) fail_msg("%s:\n--- workspace\n%s--- pvdb\n%s", sql, a, b);
    for (p = b; *p; p++) n += *p == '\n';
    if (nrows >= 0 && n != nrows) fail_msg("%s: %d rows, want %d\n%s", sql, n, nrows, b);
    free(a);
    free(b);
}

/* EXPLAIN on the .pvdb has an operator `op` whose detail contains `detail`. */
static void explains(pfix *f, const char *sql, const char *op, const char *detail)
{
    char buf[512];
    char *got;
    int rc;
    snprintf(buf, sizeof buf, "EXPLAIN %s", sql);
    got = query(f->pdb, buf, &rc);
    if (rc < 0) fail_msg("%s: %d %s", buf, rc, pv_errmsg());
    snprintf(buf, sizeof buf, "|%s|", op);
    if (!strstr(got, buf) || !strstr(got, detail))
        fail_msg("EXPLAIN %s: want %s ... %s in\n%s", sql, op, detail, got);
    free(got);
}

static void test_point(void **state)
{
    pfix *f = *state;
    same(f, "SELECT * FROM t WHERE id = 1", 1);
    same(f, "SELECT * FROM t WHERE id = 9999", 1);
    same(f, "SELECT * FROM t WHERE id = 2", 0);       /* missing key */
    same(f, "SELECT * FROM t WHERE id = 0", 0);
    same(f, "SELECT * FROM t WHERE id = 10001", 0);   /* past the end */
    same(f, "SELECT * FROM t WHERE id = -5", 0);
    same(f, "SELECT * FROM t WHERE 4001 = id", 1);
    same(f, "SELECT name FROM t WHERE id = 7", 1);      /* a NULL name */
    same(f, "SELECT id FROM t WHERE id = 4001 AND name IS NULL", -1);
    same(f, "SELECT id FROM t WHERE id = 4001 AND score > 100", 0);
    /* SQLite affinity: 5.0 and '5' find 5, 5.5 and 'x' nothing */
    same(f, "SELECT * FROM t WHERE id = 5.0", 1);
    same(f, "SELECT * FROM t WHERE id = 5.5", 0);
    same(f, "SELECT * FROM t WHERE id = '5'", 1);
    same(f, "SELECT * FROM t WHERE id = 'x'", 0);
    same(f, "SELECT * FROM t WHERE id = NULL", 0);
    same(f, "SELECT * FROM t WHERE id = 2 + 3", 1);
    same(f, "SELECT count(*), sum(score) FROM t WHERE id = 1999", 1);
    explains(f, "SELECT * FROM t WHERE id = 2", "INDEX LOOKUP", "id = 2");
    /* text keys */
    same(f, "SELECT * FROM s WHERE k = 'k00003'", 1);
    same(f, "SELECT * FROM s WHERE k = 'k00004'", 0);
    same(f, "SELECT * FROM s WHERE k = 'k08997'", 1);
    same(f, "SELECT * FROM s WHERE k = 'k'", 0);
    same(f, "SELECT * FROM s WHERE k = ''", 0);
    explains(f, "SELECT * FROM s WHERE k = 'k00003'", "INDEX LOOKUP", "k = 'k00003'");
    /* composite keys: the whole key, and a prefix */
    same(f, "SELECT * FROM c WHERE a = 4 AND b = 'b17'", 1);
    same(f, "SELECT * FROM c WHERE b = 'b17' AND a = 5", 0);
    same(f, "SELECT * FROM c WHERE a = 4 AND b = 'b100'", 0);
    same(f, "SELECT * FROM c WHERE a = 78", 100);
    same(f, "SELECT * FROM c WHERE a = 79", 0);
    same(f, "SELECT * FROM c WHERE b = 'b05'", 40); /* not a prefix: a scan */
    explains(f, "SELECT * FROM c WHERE a = 4 AND b = 'b17'", "INDEX LOOKUP", "a = 4 AND b = 'b17'");
    explains(f, "SELECT * FROM c WHERE a = 4", "INDEX LOOKUP", "a = 4");
    explains(f, "SELECT * FROM c WHERE b = 'b05'", "SCAN", "in key order");
}

static void test_in(void **state)
{
    pfix *f = *state;
    /* unsorted, duplicates, missing keys, mixed types: rows once, in key order */
    same(f, "SELECT * FROM t WHERE id IN (9999, 3, 1, 3, 4, 5001, 1, 5.0, '7', 7.5, NULL)", 6);
    same(f, "SELECT * FROM t WHERE id IN (2, 4, 6)", 0);
    same(f, "SELECT id FROM t WHERE id IN (1, 2001, 4001, 6001, 8001) ORDER BY id DESC", 5);
    same(f, "SELECT count(*) FROM t WHERE id IN (1, 1, 1)", 1);
    same(f, "SELECT * FROM s WHERE k IN ('k00009', 'k00000', 'zz', 'k00009', 'k00010')", 2);
    same(f, "SELECT * FROM c WHERE a IN (6, 2, 6, 3) AND b IN ('b99', 'b00', 'b99', 'x')", 4);
    same(f, "SELECT * FROM c WHERE a IN (6, 2) AND v > 250", 100);
    same(f, "SELECT * FROM c WHERE a IN (6, 2, 4) AND v > 250", 100 + 49);
    same(f, "SELECT * FROM t WHERE id IN (3, 5) AND id IN (5, 7)", 1);
    explains(f, "SELECT * FROM t WHERE id IN (3, 1)", "INDEX LOOKUP", "id IN (3, 1)");
}

static void test_range(void **state)
{
    pfix *f = *state;
    same(f, "SELECT * FROM t WHERE id >= 1001 AND id < 3001", 1000);
    same(f, "SELECT * FROM t WHERE id > 1001 AND id <= 3001", 1000);
    same(f, "SELECT * FROM t WHERE id > 1000 AND id < 1002", 1);
    same(f, "SELECT * FROM t WHERE id BETWEEN 1500 AND 3500", 1000);
    same(f, "SELECT * FROM t WHERE id BETWEEN 1999 AND 2001", 2);  /* a group edge */
    same(f, "SELECT * FROM t WHERE id BETWEEN 5 AND 3", 0);        /* empty */
    same(f, "SELECT * FROM t WHERE id > 9999", 0);
    same(f, "SELECT * FROM t WHERE id < 1", 0);
    same(f, "SELECT * FROM t WHERE id <= 1", 1);
    same(f, "SELECT * FROM t WHERE id >= 9999", 1);
    same(f, "SELECT count(*) FROM t WHERE id < 5000", 1);
    same(f, "SELECT count(*) FROM t WHERE 5000 > id", 1);
    same(f, "SELECT count(*) FROM t WHERE id > 2.5 AND id < 7.5", 1);
    same(f, "SELECT * FROM t WHERE id > 2.5 AND id < 7.5", 3);
    same(f, "SELECT * FROM t WHERE id >= 3.0 AND id <= 7.0", 3);
    same(f, "SELECT * FROM t WHERE id BETWEEN '3' AND '7'", 3);
    same(f, "SELECT count(*) FROM t WHERE id < 'abc'", 1);   /* numbers < text */
    same(f, "SELECT * FROM t WHERE id > 'abc'", 0);
    same(f, "SELECT * FROM t WHERE id > NULL", 0);
    same(f, "SELECT * FROM t WHERE id BETWEEN NULL AND 10", 0);
    same(f, "SELECT id, name FROM t WHERE id >= 3001 AND name = 'n3' LIMIT 3", 3);
    same(f, "SELECT name, count(*) FROM t WHERE id BETWEEN 100 AND 4100 GROUP BY name", -1);
    same(f, "SELECT * FROM t WHERE id > 8000 ORDER BY score DESC, id LIMIT 5 OFFSET 2", 5);
    same(f, "SELECT * FROM t WHERE id BETWEEN 1 AND 9999 AND id BETWEEN 5000 AND 5100", 50);
    explains(f, "SELECT * FROM t WHERE id >= 5 AND id < 10", "INDEX RANGE", "the rows of (\"id\" >= 5) AND (\"id\" < 10);");
    explains(f, "SELECT * FROM t WHERE id BETWEEN 5 AND 10", "INDEX RANGE", "the rows of (\"id\" >= 5) AND (\"id\" <= 10);");
    explains(f, "SELECT * FROM t WHERE id > 5", "INDEX RANGE", "the rows of (\"id\" > 5);");
    /* text keys */
    same(f, "SELECT * FROM s WHERE k >= 'k01000' AND k < 'k04000'", 1000);
    same(f, "SELECT * FROM s WHERE k BETWEEN 'k' AND 'k00100'", 34);
    same(f, "SELECT * FROM s WHERE k > 'k08997'", 0);
    same(f, "SELECT * FROM s WHERE k < 'k'", 0);
    same(f, "SELECT count(*) FROM s WHERE k > 'a'", 1);
    explains(f, "SELECT * FROM s WHERE k < 'k1'", "INDEX RANGE", "the rows of (\"k\" < 'k1');");
    /* the first column of a composite key */
    same(f, "SELECT * FROM c WHERE a >= 10 AND a < 20", 500);
    same(f, "SELECT * FROM c WHERE a BETWEEN 11 AND 11", 0);
    same(f, "SELECT * FROM c WHERE a > 70 AND b = 'b01'", 4);
    explains(f, "SELECT * FROM c WHERE a >= 10", "INDEX RANGE", "the rows of (\"a\" >= 10);");
    /* no key condition: the plain scan */
    same(f, "SELECT count(*) FROM t WHERE score > 5", 1);
    explains(f, "SELECT * FROM t WHERE score > 5", "SCAN", "in key order");
}

/* Prepared statements rebound between runs: the keys are evaluated at
 * each run. */
static void test_params(void **state)
{
    pfix *f = *state;
    pv_db *dbs[2] = {f->ws.db, f->pdb};
    int64_t found[2], sums[2];
    int d;
    for (d = 0; d < 2; d++) {
        pv_stmt *st = NULL, *rg = NULL;
        int64_t id, sum = 0, rows = 0;
        assert_int_equal(pv_prepare(dbs[d], "SELECT id, score FROM t WHERE id = ?", (size_t)-1, &st, NULL), 0);
        for (id = -3; id < 10010; id += 7) {
            assert_int_equal(pv_reset(st), 0);
            assert_int_equal(pv_bind_int64(st, 1, id), 0);
            if (pv_step(st) == PV_ROW) {
                assert_int_equal(pv_column_int64(st, 0), id);
                rows++;
                assert_int_equal(pv_step(st), PV_DONE);
            }
        }
        found[d] = rows;
        assert_int_equal(pv_reset(st), 0);
        assert_int_equal(pv_bind_double(st, 1, 11.0), 0);
        assert_int_equal(pv_step(st), PV_ROW);
        assert_int_equal(pv_reset(st), 0);
        assert_int_equal(pv_bind_double(st, 1, 11.5), 0);
        assert_int_equal(pv_step(st), PV_DONE);
        assert_int_equal(pv_reset(st), 0);
        assert_int_equal(pv_bind_text(st, 1, "11", 2), 0);
        assert_int_equal(pv_step(st), PV_ROW);
        assert_int_equal(pv_reset(st), 0);
        assert_int_equal(pv_bind_null(st, 1), 0);
        assert_int_equal(pv_step(st), PV_DONE);
        pv_finalize(st);
        assert_int_equal(pv_prepare(dbs[d], "SELECT id FROM t WHERE id BETWEEN ? AND ?", (size_t)-1, &rg, NULL), 0);
        for (id = -500; id < 10500; id += 999) {
            int rc;
            assert_int_equal(pv_reset(rg), 0);
            assert_int_equal(pv_bind_int64(rg, 1, id), 0);
            assert_int_equal(pv_bind_int64(rg, 2, id + 1999), 0);
            while ((rc = pv_step(rg)) == PV_ROW) sum += pv_column_int64(rg, 0);
            assert_int_equal(rc, PV_DONE);
        }
        pv_finalize(rg);
        sums[d] = sum;
    }
    assert_int_equal(found[0], 714); /* the odd ids of -3, 4, 11, ..., 10002 */
    assert_int_equal(found[1], found[0]);
    assert_true(sums[0] > 0);
    assert_int_equal(sums[1], sums[0]);
}

/* Text from a small array dictionary (t.name: 97 short values, stored
 * as an array since front coding saves under 4 KB) comes out of
 * pv_column_text NUL-terminated at pv_column_bytes and equal to the
 * workspace's, in every way a query reads it: a scan (the entries copied
 * once, NUL-terminated), a few rows (each copied), a point read (from the
 * mapping, copied by the statement), a filter and a GROUP BY on codes. */
static void test_array_dictionary_text(void **state)
{
    static const char *const sql[] = {
        "SELECT id, name FROM t",
        "SELECT id, name FROM t WHERE id >= 11 AND id <= 17",
        "SELECT id, name FROM t WHERE id = 4001",
        "SELECT id, name FROM t WHERE name = 'n5' OR name >= 'n95'",
        "SELECT 0, name FROM t GROUP BY name",
    };
    pfix *f = *state;
    size_t q;
    for (q = 0; q < sizeof sql / sizeof *sql; q++) {
        pv_stmt *st = NULL;
        int rc, rows = 0;
        assert_int_equal(pv_prepare(f->pdb, sql[q], (size_t)-1, &st, NULL), PV_OK);
        while ((rc = pv_step(st)) == PV_ROW) {
            const char *s = pv_column_text(st, 1);
            int64_t id = pv_column_int64(st, 0);
            char want[16];
            rows++;
            if (pv_column_type(st, 1) == PV_NULL) continue;
            if (!s || strlen(s) != pv_column_bytes(st, 1))
                fail_msg("%s: row %d: text of %zu bytes, strlen %zu", sql[q], rows, pv_column_bytes(st, 1),
                         s ? strlen(s) : 0);
            if (id) { /* t's row (id - 1) / 2 holds n((id - 1) / 2 % 97) */
                snprintf(want, sizeof want, "n%d", (int)((id - 1) / 2 % 97));
                if (strcmp(s, want)) fail_msg("%s: id %lld: '%s', want '%s'", sql[q], (long long)id, s, want);
            }
        }
        assert_int_equal(rc, PV_DONE);
        assert_true(rows > 0);
        pv_finalize(st);
        same(f, sql[q], rows);
    }
}

/* The rows of `sql` on db, one line each (id|name), into *out (freed by
 * the caller). */
static void names(pv_db *db, const char *sql, char **out)
{
    pv_buf b = PV_BUF_INIT;
    pv_stmt *st = NULL;
    int rc;
    assert_int_equal(pv_prepare(db, sql, (size_t)-1, &st, NULL), PV_OK);
    while ((rc = pv_step(st)) == PV_ROW) {
        const char *s = pv_column_text(st, 1);
        if (s && strlen(s) != pv_column_bytes(st, 1)) fail_msg("%s: '%s' not NUL-terminated", sql, s);
        pv_buf_printf(&b, "%lld|%s\n", (long long)pv_column_int64(st, 0), s ? s : "(null)");
    }
    assert_int_equal(rc, PV_DONE);
    pv_finalize(st);
    pv_buf_putc(&b, 0);
    *out = b.p;
}

/* The baked file opened twice: *cached with the default block cache,
 * *bare with the cache off. */
static void open_cached_and_bare(const char *path, pv_db **cached, pv_db **bare)
{
    pv_open_options o = {sizeof o, PV_OPEN_READONLY, 0};
    o.cache_bytes = PV_CACHE_BYTES_DEFAULT;
    assert_int_equal(pv_open_ex(path, &o, cached), PV_OK);
    o.cache_bytes = (uint64_t)-1;
    assert_int_equal(pv_open_ex(path, &o, bare), PV_OK);
    assert_non_null((*cached)->cache);
    assert_null((*bare)->cache);
}

/* A small array dictionary's NUL-terminated table is made once per chunk
 * and kept in the block cache: ranges that come back to a row group find
 * it there (hits, no new entry), and answer as a file opened without a
 * cache (each scan makes its tables in its arena) and as the workspace. */
static void test_dictionary_table_cached(void **state)
{
    static const char *const sql[] = {
        "SELECT id, name FROM t WHERE id BETWEEN 101 AND 899",
        "SELECT id, name FROM t WHERE id BETWEEN 501 AND 1999",
        "SELECT id, name FROM t WHERE id BETWEEN 121 AND 131",
        "SELECT id, name FROM t",
    };
    pfix *f = *state;
    pv_blockcache_stats s0, s1, s2;
    pv_db *cached = NULL, *bare = NULL;
    size_t q;
    open_cached_and_bare(f->path, &cached, &bare);
    pv_blockcache_stats_get(cached->cache, &s0);
    for (q = 0; q < sizeof sql / sizeof *sql; q++) {
        char *a, *b;
        names(cached, sql[q], &a);
        if (q == 0) pv_blockcache_stats_get(cached->cache, &s1);
        names(bare, sql[q], &b);
        assert_string_equal(a, b);
        free(a);
        free(b);
        same(f, sql[q], -1);
    }
    pv_blockcache_stats_get(cached->cache, &s2);
    /* ids 101..899 lie in row group 0 (1000 rows per group): its table */
    assert_int_equal(s1.entries - s0.entries, 1);
    assert_int_equal(s1.inserts - s0.inserts, 1);
    /* then groups 0-1, group 0, groups 0-4: each of the 5 tables made once
     * (the rest found, or still held by a kept scan) */
    assert_int_equal(s2.inserts - s0.inserts, 5);
    assert_int_equal(s2.misses - s0.misses, 5);
    assert_int_equal(s2.entries - s0.entries, 5);
    assert_true(s2.hits > s1.hits);
    pv_close(cached);
    pv_close(bare);
}

/* v's row i: a city out of ten, NULL every 11th row */
static const char *const cities[] = {"Århus", "Lyon", "Osaka", "Quito", "Lima", "Oslo", "Pune", "Bern", "Kyiv", ""};
#define VROWS 6000

static void v_row(pv_buf *b, int i, void *ctx)
{
    (void)ctx;
    if (i % 11 == 5) pv_buf_printf(b, "(%d, NULL)", i);
    else pv_buf_printf(b, "(%d, '%s')", i, cities[i % 10]);
}

static void fill_v(pv_db *db)
{
    exec_ok(db, "CREATE TABLE v (id INTEGER PRIMARY KEY, city TEXT)");
    exec_ok(db, "BEGIN");
    insert_rows(db, "v", VROWS, v_row, NULL);
    exec_ok(db, "COMMIT");
}

/* v baked with 64 rows per group: 94 groups, more than a reader's row
 * cache has slots (64), each with a dictionary of its cities */
static int setup_v(void **state) { return setup_pair(state, fill_v, 64); }

/* Point reads by a prepared statement hand out small dictionaries' text
 * from their cached tables (NUL-terminated, made once per row group and
 * shared), and release them as the statement's row cache moves on: the
 * keys visit every group out of order, twice round. Every answer is the
 * row's, as a file opened with the cache off gives it. */
static void test_point_dictionary_table_held(void **state)
{
    static const char *const sql = "SELECT id, city FROM v WHERE id = ?";
    pfix *f = *state;
    pv_blockcache_stats s0, s1;
    pv_db *cached = NULL, *bare = NULL;
    pv_stmt *a = NULL, *b = NULL;
    int i, round, ngroups = (VROWS + 63) / 64;
    open_cached_and_bare(f->path, &cached, &bare);
    assert_int_equal(pv_prepare(cached, sql, (size_t)-1, &a, NULL), PV_OK);
    assert_int_equal(pv_prepare(bare, sql, (size_t)-1, &b, NULL), PV_OK);
    pv_blockcache_stats_get(cached->cache, &s0);
    for (round = 0; round < 2; round++) {
        for (i = 0; i < VROWS; i += 5) {
            int id = (int)(((int64_t)i * 2741) % VROWS); /* (2741 is prime: every group, out of order) */
            pv_stmt *st[2] = {a, b};
            int k;
            for (k = 0; k < 2; k++) {
                const char *x;
                pv_reset(st[k]);
                assert_int_equal(pv_bind_int64(st[k], 1, id), PV_OK);
                assert_int_equal(pv_step(st[k]), PV_ROW);
                assert_int_equal(pv_column_int64(st[k], 0), id);
                x = pv_column_text(st[k], 1);
                if (id % 11 == 5) {
                    assert_null(x);
                    continue;
                }
                if (!x || strcmp(x, cities[id % 10]) || strlen(x) != pv_column_bytes(st[k], 1))
                    fail_msg("id %d (%s): '%s' (%zu bytes), want '%s'", id, k ? "no cache" : "cached",
                             x ? x : "(null)", pv_column_bytes(st[k], 1), cities[id % 10]);
            }
        }
        if (round == 0) pv_blockcache_stats_get(cached->cache, &s1);
    }
    pv_finalize(a);
    pv_finalize(b);
    /* every group's table made once, in the first round; the second finds
     * them (the statement released its own as its slots moved on) */
    assert_int_equal(s1.inserts - s0.inserts, ngroups);
    assert_int_equal(s1.entries - s0.entries, ngroups);
    pv_blockcache_stats_get(cached->cache, &s0);
    assert_int_equal(s0.inserts, s1.inserts);
    assert_true(s0.hits > s1.hits);
    pv_close(cached);
    pv_close(bare);
}

/* w's row i: one of 1024 long URLs that share most of their bytes, each
 * on 8 rows of a group: its dictionary is front-coded */
#define WROWS 16384
#define WURLS 1024
static void w_url(char *out, size_t n, int i)
{
    snprintf(out, n, "https://data.example.org/archive/%0180d/item-%05d", 0, i);
}

/* Table w of `rows` rows, row i's url u->url(i % u->n). */
struct urls {
    void (*url)(char *out, size_t n, int i);
    int n;
};

static void url_row(pv_buf *b, int i, void *ctx)
{
    const struct urls *u = ctx;
    char url[256];
    u->url(url, sizeof url, i % u->n);
    pv_buf_printf(b, "(%d, '%s')", i, url);
}

static void fill_urls(pv_db *db, int rows, const struct urls *u)
{
    exec_ok(db, "CREATE TABLE w (id INTEGER PRIMARY KEY, url TEXT)");
    exec_ok(db, "BEGIN");
    insert_rows(db, "w", rows, url_row, (void *)(uintptr_t)u);
    exec_ok(db, "COMMIT");
}

static void fill_w(pv_db *db)
{
    static const struct urls u = {w_url, WURLS};
    fill_urls(db, WROWS, &u);
}

/* w baked with 8192 rows per group: two groups, each with a dictionary of
 * 1024 entries, four pages of 256 */
static int setup_w(void **state) { return setup_pair(state, fill_w, 8192); }

/* m's row i: one of 700 long URLs, each on 8 rows of the one group, whose
 * front-coded dictionary has three pages: entries 0-255 all of one length,
 * 256-511 of five lengths, 512-699 (a short last page) all of another. */
#define MROWS 5600
#define MURLS 700
static void m_url(char *out, size_t n, int i)
{
    if (i < 256) snprintf(out, n, "https://data.example.org/archive/%0180d/item-%05d", 0, i);
    else if (i < 512) snprintf(out, n, "https://data.example.org/archive/%0180d/item-%05d-%.*s", 0, i, i % 5, "xxxx");
    else snprintf(out, n, "https://data.example.org/archive/%0180d/item-%05d/extra", 0, i);
}

static void fill_m(pv_db *db)
{
    static const struct urls u = {m_url, MURLS};
    fill_urls(db, MROWS, &u);
}

static int setup_m(void **state) { return setup_pair(state, fill_m, 8192); }

/* Point reads of w (nrows rows, row i's url url(i % nurls)) by a prepared
 * statement, then by pv_get, take the front-coded dictionary's entries out
 * of its decoded pages in the block cache (each of the npages decoded
 * once, then found), instead of decoding each entry alone; every answer is
 * the row's, with and without the cache. */
static void point_pages(pfix *f, int nrows, int nurls, void (*url)(char *, size_t, int), int npages)
{
    static const char *const sql = "SELECT id, url FROM w WHERE id = ?";
    pv_blockcache_stats s0, s1;
    pv_db *db[2] = {NULL, NULL};
    pv_stmt *st[2] = {NULL, NULL};
    int i, k, round;
    open_cached_and_bare(f->path, &db[0], &db[1]);
    for (k = 0; k < 2; k++) assert_int_equal(pv_prepare(db[k], sql, (size_t)-1, &st[k], NULL), PV_OK);
    pv_blockcache_stats_get(db[0]->cache, &s0);
    for (round = 0; round < 2; round++) {
        for (i = 0; i < nrows; i += 5) {
            int id = (int)(((int64_t)i * 1777) % nrows);
            char want[256];
            url(want, sizeof want, id % nurls);
            for (k = 0; k < 2; k++) {
                const char *x;
                pv_reset(st[k]);
                assert_int_equal(pv_bind_int64(st[k], 1, id), PV_OK);
                assert_int_equal(pv_step(st[k]), PV_ROW);
                x = pv_column_text(st[k], 1);
                if (!x || strcmp(x, want) || strlen(x) != pv_column_bytes(st[k], 1))
                    fail_msg("id %d (%s): '%s', want '%s'", id, k ? "no cache" : "cached", x ? x : "(null)", want);
            }
        }
        if (round == 0) pv_blockcache_stats_get(db[0]->cache, &s1);
    }
    for (k = 0; k < 2; k++) pv_finalize(st[k]);
    assert_int_equal(s1.inserts - s0.inserts, npages);
    pv_blockcache_stats_get(db[0]->cache, &s0);
    assert_int_equal(s0.inserts, s1.inserts);
    /* pv_get takes them from the same pages: found, none made */
    for (k = 0; k < 2; k++) {
        pv_getter *g = NULL;
        assert_int_equal(pv_getter_open(db[k], "w", &g), PV_OK);
        for (i = 0; i < nrows; i += 7) {
            pv_cell key, row[2];
            char want[256];
            key.type = PV_INTEGER;
            key.u.i = i;
            url(want, sizeof want, i % nurls);
            assert_int_equal(pv_get(g, &key, 1, row, 2), PV_ROW);
            if (row[1].type != PV_TEXT || row[1].u.s.n != strlen(want) || memcmp(row[1].u.s.p, want, row[1].u.s.n))
                fail_msg("pv_get id %d (%s): '%.*s', want '%s'", i, k ? "no cache" : "cached", (int)row[1].u.s.n,
                         (const char *)row[1].u.s.p, want);
        }
        pv_getter_close(g);
    }
    pv_blockcache_stats_get(db[0]->cache, &s1);
    assert_int_equal(s1.inserts, s0.inserts);
    assert_true(s1.hits > s0.hits);
    for (k = 0; k < 2; k++) pv_close(db[k]);
}

/* Pages whose entries all have one length (w's urls) */
static void test_point_front_coded_pages(void **state) { point_pages(*state, WROWS, WURLS, w_url, 2 * 4); }

/* Pages of one length, of several, and of another one, the last short */
static void test_point_front_coded_mixed_pages(void **state) { point_pages(*state, MROWS, MURLS, m_url, 3); }

/* Key ranges of 1 to 12 rows, at starts inside blocks, across a block
 * edge (1024 rows) and across a row group's, give the workspace's rows:
 * scans read a batch of a row or two value by value (get()), longer ones
 * by read(), and prefetch every column's words for both. */
static void short_ranges(pfix *f, const char *head, const int *starts, int nstarts, int step)
{
    char sql[256];
    int i, len;
    for (i = 0; i < nstarts; i++)
        for (len = 1; len <= 12; len++) {
            snprintf(sql, sizeof sql, "%s BETWEEN %d AND %d", head, starts[i], starts[i] + (len - 1) * step);
            same(f, sql, len);
        }
}

/* t: an array dictionary with NULLs, 1000-row groups (odd keys) */
static void test_short_ranges(void **state)
{
    static const int starts[] = {1, 999, 1995, 2001, 2041, 4087, 9977};
    short_ranges(*state, "SELECT * FROM t WHERE id", starts, 7, 2);
}

/* m: a front-coded dictionary whose pages have one length, several, then
 * another; one 8192-row group */
static void test_short_ranges_front_coded(void **state)
{
    static const int starts[] = {0, 250, 1020, 2047, 4093, 5588};
    short_ranges(*state, "SELECT id, url FROM w WHERE id", starts, 6, 1);
}

/* pv_exec(sql) fails with `code` on both stores, with the same message,
 * which ends " at offset N", N the offset of `what` in sql (whole text). */
static void same_error(pfix *f, const char *sql, int code, const char *what)
{
    pv_db *db[2] = {f->ws.db, f->pdb};
    char msg[2][512], end[64];
    int64_t off = (int64_t)(strstr(sql, what) - sql);
    int k;
    snprintf(end, sizeof end, " at offset %lld", (long long)off);
    for (k = 0; k < 2; k++) {
        int rc = pv_exec(db[k], sql);
        snprintf(msg[k], sizeof msg[k], "%s", pv_errmsg());
        if (rc != code || pv_error_offset() != off ||
            strcmp(msg[k] + (strlen(msg[k]) > strlen(end) ? strlen(msg[k]) - strlen(end) : 0), end))
            fail_msg("%s on the %s: %d '%s' at %lld, want %d at %lld", sql, k ? "pvdb" : "workspace", rc, msg[k],
                     (long long)pv_error_offset(), code, (long long)off);
    }
    if (strcmp(msg[0], msg[1])) fail_msg("%s:\n--- workspace\n%s\n--- pvdb\n%s", sql, msg[0], msg[1]);
}

/* The planner's errors about names and terms point at them on a .pvdb as
 * on the workspace (one planner: pv_error_offset() was -1 on both). */
static void test_name_errors(void **state)
{
    pfix *f = *state;
    same_error(f, "SELECT 1;\nSELECT id, nope FROM t WHERE id = 3", PV_ENOTFOUND, "nope");
    same_error(f, "SELECT 1;\nSELECT id FROM t WHERE id = 3 AND x.name = 'a'", PV_ENOTFOUND, "x.name");
    same_error(f, "SELECT 1; SELECT * FROM nope", PV_ENOTFOUND, "nope");
    same_error(f, "SELECT t.*, x.* FROM t", PV_ENOTFOUND, "x.*");
    same_error(f, "SELECT name, nosuch(id) FROM t", PV_ESQL, "nosuch");
    same_error(f, "SELECT name FROM t GROUP BY name HAVING max(id) > 1 ORDER BY 2", PV_ESQL, "2");
    same_error(f, "SELECT count(*) FROM s GROUP BY k, 1", PV_ESQL, "1");
    same_error(f, "SELECT k FROM s HAVING n > 1", PV_ESQL, "n > 1");
}

/* INSERT, UPDATE and DELETE on a read-only store fail at their first step
 * with PV_EREADONLY naming the store, also when they would change no row,
 * as SQLite's "attempt to write a readonly database": the workspace open
 * read-only said PV_DONE to the ones that changed nothing, and the .pvdb
 * answered an INSERT with a PV_EMISUSE about its key index (found by
 * fuzz_sql). Nothing is written. */
static void test_writes_refused_read_only(void **state)
{
    static const char *const writes[] = {
        "INSERT INTO t VALUES (1, 'x', 1.0) ON CONFLICT(id) DO NOTHING", /* (1 exists) */
        "INSERT INTO t VALUES (2, 'x', 1.0)",
        "INSERT INTO t VALUES (3, 'y', 2.0) ON CONFLICT(id) DO UPDATE SET name = 'z'",
        "UPDATE t SET name = 'x' WHERE 0",
        "UPDATE t SET name = 'x' WHERE id = 1",
        "DELETE FROM t WHERE id = 2", /* (even keys are absent) */
        "DELETE FROM t",
    };
    pfix *f = *state;
    pv_db *db[2];
    pv_open_options o = {sizeof o, PV_OPEN_READONLY, 0};
    assert_int_equal(pv_open_ex(f->ws.dir, &o, &db[0]), PV_OK);
    db[1] = f->pdb;
    for (size_t i = 0; i < sizeof writes / sizeof writes[0]; i++)
        for (int k = 0; k < 2; k++) {
            const char *where = k ? f->path : f->ws.dir;
            pv_stmt *st;
            int rc;
            assert_int_equal(pv_prepare(db[k], writes[i], (size_t)-1, &st, NULL), PV_OK);
            rc = pv_step(st);
            if (rc != PV_EREADONLY || !strstr(pv_errmsg(), where))
                fail_msg("%s on the %s: %d '%s', want PV_EREADONLY naming %s", writes[i],
                         k ? "pvdb" : "workspace", rc, pv_errmsg(), where);
            pv_finalize(st);
        }
    /* DDL that would change nothing is taken, as SQLite's read-only mode
     * takes it (it writes nothing); the same words that would change
     * something are refused */
    for (int k = 0; k < 2; k++) {
        static const char *const noops[] = {
            "CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY)",
            "create table if not exists T (x TEXT)",
            "DROP TABLE IF EXISTS nosuch",
            "CREATE INDEX IF NOT EXISTS t_name ON t (name)",
            "DROP INDEX IF EXISTS nosuch",
        };
        static const char *const changes[] = {
            "CREATE TABLE IF NOT EXISTS u (id INTEGER PRIMARY KEY)",
            "DROP TABLE IF EXISTS t",
            "CREATE INDEX IF NOT EXISTS t_score ON t (score)",
            "DROP INDEX IF EXISTS t_name",
            "DROP INDEX t_name",
        };
        const char *where = k ? f->path : f->ws.dir;
        for (size_t i = 0; i < sizeof noops / sizeof noops[0]; i++)
            if (pv_exec(db[k], noops[i]) != PV_OK)
                fail_msg("%s on the %s: '%s', want it taken as a no-op", noops[i], k ? "pvdb" : "workspace",
                         pv_errmsg());
        for (size_t i = 0; i < sizeof changes / sizeof changes[0]; i++)
            if (pv_exec(db[k], changes[i]) != PV_EREADONLY || !strstr(pv_errmsg(), where))
                fail_msg("%s on the %s: '%s', want PV_EREADONLY naming %s", changes[i], k ? "pvdb" : "workspace",
                         pv_errmsg(), where);
    }
    pv_close(db[0]);
    same(f, "SELECT * FROM t", NROWS);
    same(f, "SELECT * FROM t WHERE id = 3 AND name = 'n1'", 1);
}

int main(void)
{
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_point),
        T(test_in),
        T(test_range),
        T(test_params),
        T(test_array_dictionary_text),
        T(test_dictionary_table_cached),
        T(test_name_errors),
        T(test_writes_refused_read_only),
        cmocka_unit_test_setup_teardown(test_point_dictionary_table_held, setup_v, teardown),
        cmocka_unit_test_setup_teardown(test_point_front_coded_pages, setup_w, teardown),
        cmocka_unit_test_setup_teardown(test_point_front_coded_mixed_pages, setup_m, teardown),
        T(test_short_ranges),
        cmocka_unit_test_setup_teardown(test_short_ranges_front_coded, setup_m, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
