/*
 * test_getter.c: pv_get, the direct key lookup (pv.h), on a baked `.pvdb`
 * and on the workspace it was baked from: every row found and equal to
 * what SQL answers for the same key, missing keys, composite, TEXT and
 * REAL keys, integer vs real key values, bad key shapes, and a damaged
 * file that gives PV_ECORRUPT, never a crash.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "encode.h"
#include "exec.h"
#include "pv.h"
#include "pvdb.h"
#include "test_pair_util.h"
#include "ws.h"

#define NROWS 5000 /* t: id = 1, 3, 5, ... 9999 (odd keys only) */
#define LT_PAD "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"

typedef pair_fixture gfix;

static void fill(pv_db *db)
{
    pv_buf b = PV_BUF_INIT;
    int i, j;
    exec_ok(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, score REAL, flag BOOLEAN)");
    exec_ok(db, "CREATE TABLE s (k TEXT PRIMARY KEY, n INTEGER, note TEXT)");
    exec_ok(db, "CREATE TABLE c (a INTEGER, b TEXT, v INTEGER, PRIMARY KEY (a, b))");
    exec_ok(db, "CREATE TABLE r (x REAL PRIMARY KEY, v INTEGER)");
    exec_ok(db, "CREATE TABLE u (id INTEGER PRIMARY KEY, v TEXT)");
    exec_ok(db, "BEGIN");
    for (i = 0; i < NROWS; i += 500) {
        b.len = 0;
        pv_buf_printf(&b, "INSERT INTO t VALUES ");
        for (j = i; j < i + 500; j++) {
            if (j % 7 == 3) pv_buf_printf(&b, "%s(%d, NULL, NULL, NULL)", j == i ? "" : ",", 2 * j + 1);
            else pv_buf_printf(&b, "%s(%d, 'n%d', %d.5, %s)", j == i ? "" : ",", 2 * j + 1, j % 97,
                               j % 13, j % 2 ? "TRUE" : "FALSE");
        }
        pv_buf_putc(&b, 0);
        exec_ok(db, b.p);
    }
    /* s.note: long, repetitive text, so the bake compresses it (zstr) */
    for (i = 0; i < 3000; i += 500) {
        b.len = 0;
        pv_buf_printf(&b, "INSERT INTO s VALUES ");
        for (j = i; j < i + 500; j++)
            pv_buf_printf(&b, "%s('k%05d', %d, 'a long note about row %d, repeated so that zstd "
                          "has something to chew on: %d')", j == i ? "" : ",", j * 3, j, j, j % 11);
        pv_buf_putc(&b, 0);
        exec_ok(db, b.p);
    }
    for (i = 0; i < 40; i++) {
        b.len = 0;
        pv_buf_printf(&b, "INSERT INTO c VALUES ");
        for (j = 0; j < 100; j++)
            pv_buf_printf(&b, "%s(%d, 'b%02d', %d)", j ? "," : "", i * 2, j, i * 100 + j);
        pv_buf_putc(&b, 0);
        exec_ok(db, b.p);
    }
    exec_ok(db, "INSERT INTO r VALUES (-1.5, 1), (0.0, 2), (2.0, 3), (2.25, 4), (1e300, 5)");
    /* u.v: 40 distinct values of 1 to ~400 bytes sharing long prefixes, so
     * a front-coded dictionary whose entries cross the 256 bytes that a
     * point read rebuilds on the stack (encode_dict.c fc_entry) */
    for (i = 0; i < 2000; i += 500) {
        b.len = 0;
        pv_buf_printf(&b, "INSERT INTO u VALUES ");
        for (j = i; j < i + 500; j++)
            pv_buf_printf(&b, "%s(%d, '%.*s%d')", j == i ? "" : ",", j, (j % 40) * 37 % 400,
                          LT_PAD, j % 40);
        pv_buf_putc(&b, 0);
        exec_ok(db, b.p);
    }
    /* w: empty and NULL text, blobs with NUL bytes, a dictionary of one
     * empty entry (cells read in place, test_cells_in_place) */
    exec_ok(db, "CREATE TABLE w (id INTEGER PRIMARY KEY, s TEXT, b BLOB, z TEXT)");
    for (i = 0; i < 1200; i++) {
        b.len = 0;
        pv_buf_printf(&b, "INSERT INTO w VALUES (%d, %s, %s, '')", i,
                      i % 5 == 0 ? "NULL" : i % 5 == 1 ? "''" : i % 5 == 2 ? "'x'" : "'yy'",
                      i % 3 == 0 ? "NULL" : i % 3 == 1 ? "X'00ff00'" : "X''");
        pv_buf_putc(&b, 0);
        exec_ok(db, b.p);
    }
    /* x.b: rows 0-999 three blobs over and over, rows 1000-1999 each its
     * own 24 random non-zero bytes (test_point_term_changes) */
    exec_ok(db, "CREATE TABLE x (id INTEGER PRIMARY KEY, b BLOB)");
    for (i = 0; i < 2000; i += 500) {
        static uint64_t x = 88172645463325252ull;
        b.len = 0;
        pv_buf_printf(&b, "INSERT INTO x VALUES ");
        for (j = i; j < i + 500; j++) {
            int k;
            pv_buf_printf(&b, "%s(%d, X'", j == i ? "" : ",", j);
            for (k = 0; k < 24; k++) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                pv_buf_printf(&b, "%02x", j < 1000 ? 0x41 + j % 3 + k : (int)(1 + x % 255));
            }
            pv_buf_printf(&b, "')");
        }
        pv_buf_putc(&b, 0);
        exec_ok(db, b.p);
    }
    exec_ok(db, "COMMIT");
    pv_buf_free(&b);
}

static int setup(void **state) { return setup_pair(state, fill, 1000); /* keys spread over several row groups */ }

static int teardown(void **state) { return teardown_pair(state); }

/* ---- helpers ------------------------------------------------------------------------- */

static pv_cell c_int(int64_t i) { pv_cell c; c.type = PV_INTEGER; c.u.i = i; return c; }
static pv_cell c_real(double f) { pv_cell c; c.type = PV_REAL; c.u.f = f; return c; }
static pv_cell c_null(void) { pv_cell c; memset(&c, 0, sizeof c); c.type = PV_NULL; return c; }
static pv_cell c_text(const char *s)
{
    pv_cell c;
    c.type = PV_TEXT;
    c.u.s.p = s;
    c.u.s.n = strlen(s);
    return c;
}

/* The cells equal the current row of `st` (the SQL answer for the key). */
static void same_row(pv_stmt *st, const pv_cell *row, int n, const char *what)
{
    int i;
    assert_int_equal(pv_column_count(st), n);
    for (i = 0; i < n; i++) {
        int t = pv_column_type(st, i);
        if (t != row[i].type) fail_msg("%s column %d: type %d, SQL says %d", what, i, row[i].type, t);
        switch (t) {
        case PV_NULL: break;
        case PV_REAL:
            if (pv_column_double(st, i) != row[i].u.f) fail_msg("%s column %d: real differs", what, i);
            break;
        case PV_TEXT:
        case PV_BLOB:
            if (pv_column_bytes(st, i) != row[i].u.s.n ||
                memcmp(pv_column_blob(st, i), row[i].u.s.p, row[i].u.s.n))
                fail_msg("%s column %d: '%.*s' vs SQL '%s'", what, i, (int)row[i].u.s.n,
                         (const char *)row[i].u.s.p, pv_column_text(st, i));
            break;
        default:
            if (pv_column_int64(st, i) != row[i].u.i)
                fail_msg("%s column %d: %lld vs SQL %lld", what, i, (long long)row[i].u.i,
                         (long long)pv_column_int64(st, i));
        }
    }
}

/* Every key of SQL's `SELECT <key cols> FROM <table>` is found by pv_get,
 * and its row equals `SELECT * FROM <table> WHERE <key> = ...`. */
static void every_row(pv_db *db, const char *table, const char *keysql, const char *rowsql,
                      int nkey, long want)
{
    pv_stmt *keys = NULL, *one = NULL;
    pv_getter *g = NULL;
    pv_cell key[4], row[8];
    char kbuf[4][64];
    long n = 0;
    int rc, i;
    assert_int_equal(pv_prepare(db, keysql, (size_t)-1, &keys, NULL), PV_OK);
    assert_int_equal(pv_prepare(db, rowsql, (size_t)-1, &one, NULL), PV_OK);
    assert_int_equal(pv_getter_open(db, table, &g), PV_OK);
    while ((rc = pv_step(keys)) == PV_ROW) {
        pv_reset(one);
        for (i = 0; i < nkey; i++) {
            if (pv_column_type(keys, i) == PV_TEXT) {
                snprintf(kbuf[i], sizeof kbuf[i], "%s", pv_column_text(keys, i));
                key[i] = c_text(kbuf[i]);
                pv_bind_text(one, i + 1, kbuf[i], (size_t)-1);
            } else if (pv_column_type(keys, i) == PV_REAL) {
                key[i] = c_real(pv_column_double(keys, i));
                pv_bind_double(one, i + 1, key[i].u.f);
            } else {
                key[i] = c_int(pv_column_int64(keys, i));
                pv_bind_int64(one, i + 1, key[i].u.i);
            }
        }
        assert_int_equal(pv_step(one), PV_ROW);
        rc = pv_get(g, key, nkey, row, pv_getter_columns(g));
        if (rc != PV_ROW) fail_msg("%s: key %ld not found: %d %s", table, n, rc, pv_errmsg());
        same_row(one, row, pv_getter_columns(g), table);
        n++;
    }
    assert_int_equal(rc, PV_DONE);
    assert_int_equal(n, want);
    pv_getter_close(g);
    pv_finalize(keys);
    pv_finalize(one);
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_every_row(void **state)
{
    gfix *f = *state;
    pv_db *dbs[2] = {f->pdb, f->ws.db};
    int i;
    for (i = 0; i < 2; i++) {
        every_row(dbs[i], "t", "SELECT id FROM t", "SELECT * FROM t WHERE id = ?", 1, NROWS);
        every_row(dbs[i], "s", "SELECT k FROM s", "SELECT * FROM s WHERE k = ?", 1, 3000);
        every_row(dbs[i], "c", "SELECT a, b FROM c", "SELECT * FROM c WHERE a = ? AND b = ?", 2, 4000);
        every_row(dbs[i], "r", "SELECT x FROM r", "SELECT * FROM r WHERE x = ?", 1, 5);
        every_row(dbs[i], "u", "SELECT id FROM u", "SELECT * FROM u WHERE id = ?", 1, 2000);
    }
}

static void test_missing_keys(void **state)
{
    gfix *f = *state;
    pv_db *dbs[2] = {f->pdb, f->ws.db};
    pv_cell row[4], k[2];
    int i;
    for (i = 0; i < 2; i++) {
        pv_getter *t, *s, *c;
        int64_t miss[] = {0, 2, 4, 9998, 10000, 10001, -1, INT64_MIN, INT64_MAX};
        size_t m;
        assert_int_equal(pv_getter_open(dbs[i], "T", &t), PV_OK); /* case-insensitive */
        assert_int_equal(pv_getter_open(dbs[i], "s", &s), PV_OK);
        assert_int_equal(pv_getter_open(dbs[i], "c", &c), PV_OK);
        for (m = 0; m < sizeof miss / sizeof *miss; m++) {
            k[0] = c_int(miss[m]);
            assert_int_equal(pv_get(t, k, 1, row, 4), PV_DONE);
        }
        k[0] = c_text("k00001"); /* between k00000 and k00003 */
        assert_int_equal(pv_get(s, k, 1, row, 3), PV_DONE);
        k[0] = c_text("");
        assert_int_equal(pv_get(s, k, 1, row, 3), PV_DONE);
        k[0] = c_text("zzz");
        assert_int_equal(pv_get(s, k, 1, row, 3), PV_DONE);
        k[0] = c_int(2); /* a number never equals a TEXT key */
        assert_int_equal(pv_get(s, k, 1, row, 3), PV_DONE);
        k[0] = c_int(4);
        k[1] = c_text("b100");
        assert_int_equal(pv_get(c, k, 2, row, 3), PV_DONE);
        k[0] = c_int(3);
        k[1] = c_text("b01");
        assert_int_equal(pv_get(c, k, 2, row, 3), PV_DONE);
        k[0] = c_int(4);
        k[1] = c_text("b01");
        assert_int_equal(pv_get(c, k, 2, row, 3), PV_ROW);
        assert_int_equal(row[2].u.i, 201);
        pv_getter_close(t);
        pv_getter_close(s);
        pv_getter_close(c);
    }
}

static void test_integer_vs_real(void **state)
{
    gfix *f = *state;
    pv_db *dbs[2] = {f->pdb, f->ws.db};
    pv_cell row[4], k;
    int i;
    for (i = 0; i < 2; i++) {
        pv_getter *t, *r;
        assert_int_equal(pv_getter_open(dbs[i], "t", &t), PV_OK);
        assert_int_equal(pv_getter_open(dbs[i], "r", &r), PV_OK);
        k = c_real(9.0); /* a REAL of integer value finds the INTEGER key */
        assert_int_equal(pv_get(t, &k, 1, row, 2), PV_ROW);
        assert_int_equal(row[0].type, PV_INTEGER);
        assert_int_equal(row[0].u.i, 9);
        assert_int_equal(row[1].type, PV_TEXT);
        assert_int_equal(row[1].u.s.n, 2);
        assert_memory_equal(row[1].u.s.p, "n4", 2);
        k = c_real(7.5);
        assert_int_equal(pv_get(t, &k, 1, row, 2), PV_DONE);
        k = c_real(1e300);
        assert_int_equal(pv_get(t, &k, 1, row, 2), PV_DONE);
        k = c_int(2); /* an INTEGER finds the REAL key 2.0 */
        assert_int_equal(pv_get(r, &k, 1, row, 2), PV_ROW);
        assert_int_equal(row[0].type, PV_REAL);
        assert_true(row[0].u.f == 2.0);
        assert_int_equal(row[1].u.i, 3);
        k = c_real(2.25);
        assert_int_equal(pv_get(r, &k, 1, row, 2), PV_ROW);
        assert_int_equal(row[1].u.i, 4);
        k = c_real(1e300);
        assert_int_equal(pv_get(r, &k, 1, row, 2), PV_ROW);
        assert_int_equal(row[1].u.i, 5);
        k = c_int(0);
        assert_int_equal(pv_get(r, &k, 1, row, 2), PV_ROW);
        assert_int_equal(row[1].u.i, 2);
        k = c_int(1);
        assert_int_equal(pv_get(r, &k, 1, row, 2), PV_DONE);
        k = c_int(((int64_t)1 << 53) + 1); /* no double equals it */
        assert_int_equal(pv_get(r, &k, 1, row, 2), PV_DONE);
        k = c_real(0.0 / 0.0); /* NaN equals nothing */
        assert_int_equal(pv_get(r, &k, 1, row, 2), PV_DONE);
        pv_getter_close(t);
        pv_getter_close(r);
    }
}

static void test_bad_shapes(void **state)
{
    gfix *f = *state;
    pv_db *dbs[2] = {f->pdb, f->ws.db};
    pv_cell row[8], k[2];
    int i;
    for (i = 0; i < 2; i++) {
        pv_getter *t, *c, *none = NULL;
        assert_int_equal(pv_getter_open(dbs[i], "nosuch", &none), PV_ENOTFOUND);
        assert_null(none);
        assert_int_equal(pv_getter_open(dbs[i], NULL, &none), PV_EMISUSE);
        assert_int_equal(pv_getter_open(dbs[i], "t", &t), PV_OK);
        assert_int_equal(pv_getter_open(dbs[i], "c", &c), PV_OK);
        assert_int_equal(pv_getter_columns(t), 4);
        assert_int_equal(pv_getter_columns(c), 3);
        k[0] = c_int(1);
        k[1] = c_int(1);
        assert_int_equal(pv_get(t, k, 0, row, 4), PV_ERANGE);  /* short key */
        assert_int_equal(pv_get(t, k, 2, row, 4), PV_ERANGE);  /* long key */
        assert_int_equal(pv_get(c, k, 1, row, 3), PV_ERANGE);  /* half a composite key */
        assert_int_equal(pv_get(t, k, 1, row, 5), PV_ERANGE);  /* more columns than the table */
        assert_int_equal(pv_get(t, k, 1, row, -1), PV_ERANGE);
        assert_int_equal(pv_get(t, NULL, 1, row, 4), PV_EMISUSE);
        assert_int_equal(pv_get(t, k, 1, NULL, 4), PV_EMISUSE);
        assert_int_equal(pv_get(NULL, k, 1, row, 4), PV_EMISUSE);
        k[0].type = 99;
        assert_int_equal(pv_get(t, k, 1, row, 4), PV_EMISUSE);
        k[0] = c_null(); /* no key is NULL */
        assert_int_equal(pv_get(t, k, 1, row, 4), PV_DONE);
        k[0] = c_int(3); /* ncols 1: only the first column is written */
        row[1].type = 77;
        assert_int_equal(pv_get(t, k, 1, row, 1), PV_ROW);
        assert_int_equal(row[0].u.i, 3);
        assert_int_equal(row[1].type, 77);
        assert_int_equal(pv_get(t, k, 1, row, 0), PV_ROW); /* existence only */
        k[0] = c_int(7); /* row 3: NULLs (j % 7 == 3) */
        assert_int_equal(pv_get(t, k, 1, row, 4), PV_ROW);
        assert_int_equal(row[1].type, PV_NULL);
        assert_int_equal(row[2].type, PV_NULL);
        assert_int_equal(row[3].type, PV_NULL);
        k[0] = c_int(5);
        assert_int_equal(pv_get(t, k, 1, row, 4), PV_ROW);
        assert_int_equal(row[3].type, PV_BOOLEAN);
        assert_int_equal(row[3].u.i, 0);
        /* pv_close refuses while a getter is open */
        assert_int_equal(pv_close(dbs[i]), PV_EMISUSE);
        pv_getter_close(t);
        pv_getter_close(c);
    }
    assert_int_equal(pv_getter_close(NULL), PV_OK);
    assert_int_equal(pv_getter_columns(NULL), 0);
}

/* Overwrite the payload of chunk (group g, column col) of table `tab` in a
 * copy of the file with `byte`, and return the copy's path. */
static void damage(const gfix *f, const char *copy, uint32_t tab, uint32_t g, uint32_t col,
                   uint64_t skip, uint8_t byte)
{
    pvdb_file *pf = NULL;
    pvdb_chunk_info ci;
    FILE *in, *out;
    char *data;
    long size;
    assert_int_equal(pvdb_open(f->path, &pf), PV_OK);
    assert_int_equal(pvdb_chunk_info_get(pf, tab, g, col, &ci), PV_OK);
    pvdb_close(pf);
    in = fopen(f->path, "rb");
    assert_non_null(in);
    fseek(in, 0, SEEK_END);
    size = ftell(in);
    rewind(in);
    data = malloc((size_t)size);
    assert_int_equal(fread(data, 1, (size_t)size, in), (size_t)size);
    fclose(in);
    if (skip < ci.length) memset(data + ci.offset + skip, byte, (size_t)(ci.length - skip));
    out = fopen(copy, "wb");
    assert_non_null(out);
    assert_int_equal(fwrite(data, 1, (size_t)size, out), (size_t)size);
    fclose(out);
    free(data);
}

static void test_corrupt_file(void **state)
{
    gfix *f = *state;
    char copy[128];
    pvdb_file *pf = NULL;
    uint32_t tab, col, ncols[4] = {3, 2, 3, 4}; /* c, r, s, t */
    int corrupt = 0, ok = 0;
    snprintf(copy, sizeof copy, "%s/bad.pvdb", f->ws.dir);
    assert_int_equal(pvdb_open(f->path, &pf), PV_OK);
    /* tables in file order: c, r, s, t (and u, w, x, not damaged here) */
    assert_int_equal(pvdb_table_count(pf), 7);
    pvdb_close(pf);
    for (tab = 0; tab < 4; tab++) {
        for (col = 0; col < ncols[tab]; col++) {
            static const uint8_t bytes[] = {0xff, 0x00, 0x7f};
            uint64_t skip;
            size_t b;
            for (b = 0; b < sizeof bytes; b++) {
                for (skip = 0; skip < 64; skip += 16) {
                    pv_db *db = NULL;
                    pv_stmt *keys = NULL;
                    pv_getter *g = NULL;
                    const char *name;
                    int rc;
                    damage(f, copy, tab, 0, col, skip, bytes[b]);
                    if (pv_open(copy, PV_OPEN_READONLY, &db) != PV_OK) continue;
                    name = tab == 0 ? "c" : tab == 1 ? "r" : tab == 2 ? "s" : "t";
                    assert_int_equal(pv_getter_open(db, name, &g), PV_OK);
                    /* the keys as the intact file has them */
                    {
                        char sql[64];
                        snprintf(sql, sizeof sql, "SELECT * FROM %s LIMIT 40", name);
                        assert_int_equal(pv_prepare(f->pdb, sql, (size_t)-1, &keys, NULL), PV_OK);
                    }
                    while (pv_step(keys) == PV_ROW) {
                        pv_cell k[2], row[4];
                        char tb[2][32];
                        int i, nk = tab == 0 ? 2 : 1;
                        for (i = 0; i < nk; i++) {
                            int c = tab == 0 ? i : 0;
                            if (pv_column_type(keys, c) == PV_TEXT) {
                                snprintf(tb[i], sizeof tb[i], "%s", pv_column_text(keys, c));
                                k[i] = c_text(tb[i]);
                            } else if (pv_column_type(keys, c) == PV_REAL) {
                                k[i] = c_real(pv_column_double(keys, c));
                            } else {
                                k[i] = c_int(pv_column_int64(keys, c));
                            }
                        }
                        rc = pv_get(g, k, nk, row, pv_getter_columns(g));
                        if (rc == PV_ECORRUPT) {
                            corrupt++;
                            assert_non_null(strstr(pv_errmsg(), "corrupt"));
                            assert_non_null(strstr(pv_errmsg(), "bad.pvdb"));
                        } else if (rc == PV_ROW || rc == PV_DONE) {
                            ok++;
                        } else {
                            fail_msg("table %s col %u: pv_get gave %d %s", name, col, rc, pv_errmsg());
                        }
                    }
                    pv_finalize(keys);
                    pv_getter_close(g);
                    assert_int_equal(pv_close(db), PV_OK);
                }
            }
        }
    }
    assert_true(corrupt > 0);
    assert_true(ok > 0);
    remove(copy);
}

/* The rows of a prepared statement, bound to lo, hi (and name when not
 * NULL), as query() prints them. */
static char *run_bound(pv_stmt *st, long lo, long hi, const char *name)
{
    pv_buf b = PV_BUF_INIT;
    char *out;
    int rc, c;
    assert_int_equal(pv_reset(st), PV_OK);
    assert_int_equal(pv_bind_int64(st, 1, lo), PV_OK);
    assert_int_equal(pv_bind_int64(st, 2, hi), PV_OK);
    if (name) assert_int_equal(pv_bind_text(st, 3, name, strlen(name)), PV_OK);
    while ((rc = pv_step(st)) == PV_ROW) {
        for (c = 0; c < pv_column_count(st); c++) {
            const char *t = pv_column_text(st, c);
            if (c) pv_buf_putc(&b, '|');
            if (t) pv_buf_append(&b, t, strlen(t));
        }
        pv_buf_putc(&b, '\n');
    }
    if (rc != PV_DONE) fail_msg("range [%ld, %ld]: %d %s", lo, hi, rc, pv_errmsg());
    pv_buf_putc(&b, 0);
    out = strdup(b.p);
    pv_buf_free(&b);
    return out;
}

/* Range scans reuse the scans of earlier runs (pvdb_scan.c parks them on
 * the file with their loaded row group): runs that go back inside a
 * group and to earlier groups, change width, alternate with other column
 * sets, and re-run dictionary filters and groupings with new parameters
 * answer exactly as the workspace does. (A parked scan that assumed rows
 * only go forward read the wrong row group.) */
static void test_range_reruns(void **state)
{
    static const long ranges[][2] = {
        {4001, 4999}, {4101, 4201}, {4001, 4003}, {1, 2999}, {2501, 2501}, {9001, 9999},
        {8991, 9011}, {1999, 2001}, {5555, 5555}, {1, 9999}, {7001, 7999}, {3001, 3999},
    };
    static const char *const sql[] = {
        "SELECT * FROM t WHERE id >= ? AND id <= ?",
        "SELECT name, id FROM t WHERE id BETWEEN ? AND ?",
        "SELECT name, COUNT(*), SUM(score) FROM t WHERE id >= ? AND id <= ? GROUP BY name ORDER BY name",
        "SELECT id, score FROM t WHERE id >= ? AND id <= ? AND name = ?",
    };
    static const char *const names[] = {"n3", "n50", "n96", "n0"};
    gfix *f = *state;
    pv_stmt *st[4];
    char buf[256];
    size_t i, q;
    for (q = 0; q < 4; q++) assert_int_equal(pv_prepare(f->pdb, sql[q], (size_t)-1, &st[q], NULL), PV_OK);
    for (i = 0; i < 3 * sizeof ranges / sizeof ranges[0]; i++) {
        long lo = ranges[i % 12][0], hi = ranges[i % 12][1];
        for (q = 0; q < 4; q++) {
            const char *name = q == 3 ? names[i % 4] : NULL;
            char *got = run_bound(st[q], lo, hi, name), *want, *at;
            int rc;
            /* the same query with the values spelled out, on the workspace */
            snprintf(buf, sizeof buf, "%s", sql[q]);
            at = strstr(buf, "?");
            snprintf(at, sizeof buf - (size_t)(at - buf), "%ld%s", lo, strstr(sql[q], "?") + 1);
            at = strstr(buf, "?");
            snprintf(at, sizeof buf - (size_t)(at - buf), "%ld%s", hi,
                     strstr(strstr(sql[q], "?") + 1, "?") + 1);
            if (name) {
                at = strstr(buf, "?");
                snprintf(at, sizeof buf - (size_t)(at - buf), "'%s'", name);
            }
            want = query(f->ws.db, buf, &rc);
            assert_int_equal(rc, PV_DONE);
            if (strcmp(got, want)) fail_msg("%s:\n--- .pvdb\n%.400s--- workspace\n%.400s", buf, got, want);
            free(got);
            free(want);
        }
    }
    for (q = 0; q < 4; q++) pv_finalize(st[q]);
}

/* Every accessor on cell (st, c) of the current row agrees with the same
 * cell of `ref` (the same row through another path), and text is a C
 * string of pv_column_bytes bytes. */
static void same_cell(pv_stmt *st, pv_stmt *ref, int c, const char *what)
{
    const char *t = pv_column_text(st, c), *rt = pv_column_text(ref, c);
    size_t n = pv_column_bytes(st, c);
    const void *bl;
    if (pv_column_type(st, c) != pv_column_type(ref, c))
        fail_msg("%s, column %d: type %d, want %d", what, c, pv_column_type(st, c), pv_column_type(ref, c));
    assert_true(pv_column_int64(st, c) == pv_column_int64(ref, c));
    assert_true(pv_column_double(st, c) == pv_column_double(ref, c) ||
                pv_column_double(st, c) != pv_column_double(st, c));
    assert_int_equal(n, pv_column_bytes(ref, c));
    if (!t || !rt) {
        if (t != rt && !(t && !*t && rt && !*rt)) fail_msg("%s, column %d: text %p, want %p", what, c, (void *)t, (void *)rt);
    } else {
        if (memcmp(t, rt, n)) fail_msg("%s, column %d: '%.*s', want '%.*s'", what, c, (int)n, t, (int)n, rt);
        if (t[n]) fail_msg("%s, column %d: text of %zu bytes not NUL-terminated", what, c, n);
    }
    /* asked again, and after the blob: the same bytes */
    bl = pv_column_blob(st, c);
    assert_int_equal(pv_column_bytes(st, c), n);
    if (n) assert_memory_equal(bl, pv_column_blob(ref, c), n);
    if (t) assert_memory_equal(pv_column_text(st, c), rt, n + 1);
}

/* A statement whose outputs are bare columns reads its rows in place
 * (exec_run.c pv_run_step: the batch's vectors, no per-row copy; text
 * from front-coded dictionaries without a copy): every accessor answers
 * as on a statement whose rows are projected (DISTINCT of the same
 * unique rows), on the workspace and the .pvdb, across batches, with
 * LIMIT / OFFSET, NULL and empty values, and a filter that selects few
 * rows of encoded batches. */
static void test_cells_in_place(void **state)
{
    static const char *const sql[] = {
        "id, name, score, flag FROM t WHERE id BETWEEN 101 AND 4101",
        "id, name, score, flag FROM t WHERE id >= 3001 ORDER BY id LIMIT 1500 OFFSET 17",
        "* FROM t LIMIT 2100 OFFSET 999",
        "name, id, name FROM t WHERE name = 'n3'",
        "flag, score, id FROM t WHERE id = 7",
        "k, note, n FROM s WHERE n < 1500",
        "b, a, v FROM c",
        "v, id FROM u",
        "s, b, z, id, s FROM w",
        "z, b, id FROM w WHERE id BETWEEN 3 AND 1100",
    };
    gfix *f = *state;
    pv_db *dbs[2] = {f->ws.db, f->pdb};
    char a[256], d[256];
    size_t q, k;
    for (k = 0; k < 2; k++) {
        for (q = 0; q < sizeof sql / sizeof *sql; q++) {
            pv_stmt *st, *ref;
            int rc, rr, c, rows = 0, pass;
            snprintf(a, sizeof a, "SELECT %s", sql[q]);
            snprintf(d, sizeof d, "SELECT DISTINCT %s", sql[q]);
            assert_int_equal(pv_prepare(dbs[k], a, (size_t)-1, &st, NULL), PV_OK);
            assert_int_equal(pv_prepare(dbs[k], d, (size_t)-1, &ref, NULL), PV_OK);
            for (pass = 0; pass < 2; pass++) { /* and again after pv_reset */
                rows = 0;
                while ((rc = pv_step(st)) == PV_ROW) {
                    rr = pv_step(ref);
                    if (rr != PV_ROW) fail_msg("%s: row %d missing in the reference (%d)", a, rows, rr);
                    for (c = 0; c < pv_column_count(st); c++) same_cell(st, ref, c, a);
                    rows++;
                }
                assert_int_equal(rc, PV_DONE);
                assert_int_equal(pv_step(ref), PV_DONE);
                assert_true(rows > 0);
                pv_reset(st);
                pv_reset(ref);
            }
            pv_finalize(st);
            pv_finalize(ref);
        }
    }
}

/* Point lookups by the whole key on the .pvdb (exec_access.c point_next)
 * hand out their text in place where it is NUL-terminated: values decoded
 * into the lookup's buffer (front-coded dictionary u.v, zstd block s.note)
 * always are, so pv_column_text is the very pointer pv_column_blob gives,
 * not a copy; every accessor still agrees with a projected statement. */
static void test_point_text_in_place(void **state)
{
    static const struct { const char *sql, *ref; int key0, step, n, inplace; } q[] = {
        {"SELECT id, v FROM u WHERE id = ?", "SELECT DISTINCT id, v FROM u WHERE id = ?", 0, 7, 2000, 1},
        {"SELECT note, k, n FROM s WHERE k = ?", "SELECT DISTINCT note, k, n FROM s WHERE k = ?", 0, 3, 3000, 0},
        {"SELECT name, id FROM t WHERE id = ?", "SELECT DISTINCT name, id FROM t WHERE id = ?", 1, 2, 10000, -1},
        {"SELECT s, b, z, id FROM w WHERE id = ?", "SELECT DISTINCT s, b, z, id FROM w WHERE id = ?", 0, 1, 1200, -1},
    };
    gfix *f = *state;
    size_t i;
    for (i = 0; i < sizeof q / sizeof *q; i++) {
        pv_stmt *st, *ref;
        int key, c, rows = 0;
        assert_int_equal(pv_prepare(f->pdb, q[i].sql, (size_t)-1, &st, NULL), PV_OK);
        assert_int_equal(pv_prepare(f->pdb, q[i].ref, (size_t)-1, &ref, NULL), PV_OK);
        for (key = q[i].key0; key < q[i].n; key += q[i].step * 7) {
            char k[16];
            pv_reset(st);
            pv_reset(ref);
            if (i == 1) {
                snprintf(k, sizeof k, "k%05d", key);
                assert_int_equal(pv_bind_text(st, 1, k, strlen(k)), PV_OK);
                assert_int_equal(pv_bind_text(ref, 1, k, strlen(k)), PV_OK);
            } else {
                assert_int_equal(pv_bind_int64(st, 1, key), PV_OK);
                assert_int_equal(pv_bind_int64(ref, 1, key), PV_OK);
            }
            assert_int_equal(pv_step(st), PV_ROW);
            assert_int_equal(pv_step(ref), PV_ROW);
            for (c = 0; c < pv_column_count(st); c++) same_cell(st, ref, c, q[i].sql);
            c = q[i].inplace;
            if (c >= 0 && pv_column_bytes(st, c) > 0 &&
                (const void *)pv_column_text(st, c) != pv_column_blob(st, c))
                fail_msg("%s, key %d: text of column %d copied, not read in place", q[i].sql, key, c);
            assert_int_equal(pv_step(st), PV_DONE);
            rows++;
        }
        assert_true(rows > 10);
        pv_finalize(st);
        pv_finalize(ref);
    }
}

/* ---- the statement's point fast path ------------------------------------------------ */


/* A parameter value: 'i'nteger, 'r'eal, 't'ext, 'b'lob, 'n'ull; 'a': the
 * integer k % 3 at the k-th key (a LIMIT or OFFSET that changes between
 * runs of one statement). */
typedef struct pbind { char kind; int64_t i; double f; const char *s; } pbind;

/* The current row of `st` read as a span of one row (pv_column_span)
 * is the row pv_column_* read. */
static void span_is_row(pv_stmt *st)
{
    pv_span sp;
    int n = 0, c;
    assert_int_equal(pv_step_span(st, 1, &n), PV_OK);
    assert_int_equal(n, 1);
    for (c = 0; c < pv_column_count(st); c++) {
        int t = pv_column_type(st, c);
        assert_int_equal(pv_column_span(st, c, &sp), PV_OK);
        assert_int_equal(sp.n, 1);
        if (t == PV_NULL) {
            assert_true(sp.type == PV_NULL || (sp.nulls && sp.nulls[0]));
            continue;
        }
        assert_int_equal(sp.type, t);
        assert_true(!sp.nulls || !sp.nulls[0]);
        if (t == PV_TEXT || t == PV_BLOB) {
            assert_int_equal(sp.u.s[0].n, pv_column_bytes(st, c));
            if (sp.u.s[0].n) assert_memory_equal(sp.u.s[0].p, pv_column_blob(st, c), sp.u.s[0].n);
        } else if (t == PV_REAL) {
            assert_true(sp.u.f[0] == pv_column_double(st, c));
        } else {
            assert_true(sp.u.i[0] == pv_column_int64(st, c));
        }
    }
}

/* Bind `b` (nb values), step `st` to its end twice (the second step
 * after the end or an error must say so again), and render every cell's
 * type and text, and the codes returned; each row also read as a span of
 * one row. nb < 0: -nb values, and a run of the integer ones (others
 * NULL) is left after one step first. */
static char *run_binds(pv_stmt *st, const pbind *b, int nb)
{
    pv_buf out = PV_BUF_INIT;
    char *s;
    int i, rc, c;
    assert_int_equal(pv_reset(st), PV_OK);
    if (nb < 0) { /* a run left after its first step, then the whole run */
        nb = -nb;
        for (i = 0; i < nb; i++)
            assert_int_equal(b[i].kind == 'i' ? pv_bind_int64(st, i + 1, b[i].i) : pv_bind_null(st, i + 1), PV_OK);
        pv_step(st);
        assert_int_equal(pv_reset(st), PV_OK);
    }
    for (i = 0; i < nb; i++) {
        switch (b[i].kind) {
        case 'i': rc = pv_bind_int64(st, i + 1, b[i].i); break;
        case 'r': rc = pv_bind_double(st, i + 1, b[i].f); break;
        case 't': rc = pv_bind_text(st, i + 1, b[i].s, strlen(b[i].s)); break;
        case 'b': rc = pv_bind_blob(st, i + 1, b[i].s, strlen(b[i].s)); break;
        default: rc = pv_bind_null(st, i + 1); break;
        }
        assert_int_equal(rc, PV_OK);
    }
    while ((rc = pv_step(st)) == PV_ROW) {
        for (c = 0; c < pv_column_count(st); c++) {
            const char *t = pv_column_text(st, c);
            pv_buf_printf(&out, "%s%d:%s", c ? "|" : "", pv_column_type(st, c), t ? t : "(null)");
            if (t && strlen(t) != pv_column_bytes(st, c)) pv_buf_printf(&out, "(%zu bytes)", pv_column_bytes(st, c));
        }
        pv_buf_putc(&out, '\n');
        span_is_row(st);
    }
    pv_buf_printf(&out, "rc %d, then %d\n", rc, pv_step(st));
    pv_buf_putc(&out, 0);
    s = strdup(out.p);
    pv_buf_free(&out);
    return s;
}

/* A prepared `SELECT <bare columns> FROM <table> WHERE key = ?` on a
 * .pvdb takes exec_run.c's point_step (the one row read in place,
 * without the scan's batch machinery) exactly when the plan is a lookup
 * of one whole one-column key with every output a bare column and no
 * DISTINCT, aggregate or ORDER BY; a WHERE left over, LIMIT and OFFSET
 * (parameters too) still apply. Every case answers as the same
 * statement with the same parameters on the workspace (which never takes
 * it), key after key on one statement: found, missing, NULL, text '7',
 * ' 7 ', '7.0' and real 7.0 against the INTEGER key (SQLite affinity),
 * 7.5, 'abc' and a blob (no row), text and REAL keys, and a table whose
 * text cells change from NULL to '' to 'x' between keys. */
static void test_point_fast_path(void **state)
{
    static const pbind keys[] = {
        {'i', 7, 0, NULL},   {'i', 8, 0, NULL},    {'i', 9999, 0, NULL}, {'i', 10001, 0, NULL},
        {'i', -1, 0, NULL},  {'n', 0, 0, NULL},    {'t', 0, 0, "7"},     {'t', 0, 0, " 7 "},
        {'t', 0, 0, "7.0"},  {'r', 0, 7.0, NULL},  {'r', 0, 7.5, NULL},  {'t', 0, 0, "abc"},
        {'b', 0, 0, "7"},    {'i', 1, 0, NULL},    {'i', 3, 0, NULL},    {'i', 4241, 0, NULL},
    };
    static const struct { const char *sql; int fast, direct; pbind extra[2]; int nextra; } q[] = {
        {"SELECT * FROM t WHERE id = ?", 1, 1, {{0}}, 0},
        {"SELECT name, id, name FROM t WHERE id = ?", 1, 1, {{0}}, 0},
        {"SELECT * FROM t WHERE id = ? LIMIT ?", 1, 0, {{'i', 1, 0, NULL}}, 1},
        {"SELECT * FROM t WHERE id = ? LIMIT ?", 0, 0, {{'i', 0, 0, NULL}}, 1}, /* (no lookup at all) */
        {"SELECT * FROM t WHERE id = ? LIMIT ?", 1, 0, {{'i', -1, 0, NULL}}, 1},
        {"SELECT * FROM t WHERE id = ? LIMIT ?", 0, 0, {{'t', 0, 0, "x"}}, 1}, /* datatype mismatch */
        {"SELECT * FROM t WHERE id = ? LIMIT 5 OFFSET ?", 1, 0, {{'i', 0, 0, NULL}}, 1},
        {"SELECT * FROM t WHERE id = ? LIMIT 5 OFFSET ?", 1, 0, {{'i', 1, 0, NULL}}, 1},
        {"SELECT * FROM t WHERE id = ? LIMIT ?", 1, 0, {{'a', 0, 0, NULL}}, 1},
        {"SELECT * FROM t WHERE id = ? LIMIT 1 OFFSET ?", 1, 0, {{'a', 0, 0, NULL}}, 1},
        {"SELECT * FROM t WHERE id = ? AND name = ?", 1, 0, {{'t', 0, 0, "n7"}}, 1},
        {"SELECT id, score FROM t WHERE id = ? AND score > ?", 1, 0, {{'r', 0, 6.0, NULL}}, 1},
        {"SELECT * FROM s WHERE k = ?", 1, 0, {{0}}, 0},
        {"SELECT * FROM r WHERE x = ?", 1, 0, {{0}}, 0},
        {"SELECT * FROM w WHERE id = ?", 1, 1, {{0}}, 0},
        {"SELECT id + 1, name FROM t WHERE id = ?", 0, 0, {{0}}, 0},
        {"SELECT * FROM t WHERE id = ? ORDER BY name", 0, 0, {{0}}, 0},
        {"SELECT DISTINCT name, id FROM t WHERE id = ?", 0, 0, {{0}}, 0},
        {"SELECT COUNT(*), MAX(name) FROM t WHERE id = ?", 0, 0, {{0}}, 0},
        {"SELECT * FROM t WHERE id IN (?, ?)", 0, 0, {{'i', 9, 0, NULL}}, 1},
        {"SELECT * FROM c WHERE a = ? AND b = ?", 0, 0, {{'t', 0, 0, "b07"}}, 1},
        {"SELECT * FROM t WHERE id >= ? AND id <= 9", 0, 0, {{0}}, 0},
        {"SELECT score, id FROM t WHERE ? = id", 1, 1, {{0}}, 0},
    };
    gfix *f = *state;
    size_t i, k;
    for (i = 0; i < sizeof q / sizeof *q; i++) {
        pv_stmt *st, *ref;
        uint64_t before = pv_run_point_steps, dbefore = pv_run_direct_steps;
        assert_int_equal(pv_prepare(f->pdb, q[i].sql, (size_t)-1, &st, NULL), PV_OK);
        assert_int_equal(pv_prepare(f->ws.db, q[i].sql, (size_t)-1, &ref, NULL), PV_OK);
        for (k = 0; k < sizeof keys / sizeof *keys; k++) {
            pbind b[3];
            char *got, *want;
            b[0] = keys[k];
            /* (table s: its keys are text; w: ids 0 .. 1199 in turn) */
            if (strstr(q[i].sql, "FROM s") && b[0].kind == 'i') {
                static char kb[16];
                snprintf(kb, sizeof kb, "k%05lld", (long long)(b[0].i * 3));
                b[0].kind = 't';
                b[0].s = kb;
            }
            if (strstr(q[i].sql, "FROM w")) b[0] = (pbind){'i', (int64_t)k, 0, NULL};
            if (q[i].nextra) b[1] = q[i].extra[0];
            if (q[i].nextra && b[1].kind == 'a') b[1] = (pbind){'i', (int64_t)(k % 3), 0, NULL};
            got = run_binds(st, b, (k % 4 == 1 ? -1 : 1) * (1 + q[i].nextra));
            want = run_binds(ref, b, 1 + q[i].nextra);
            if (strcmp(got, want))
                fail_msg("%s, key %zu:\n--- .pvdb\n%s--- workspace\n%s", q[i].sql, k, got, want);
            free(got);
            free(want);
        }
        if (q[i].fast ? pv_run_point_steps == before : pv_run_point_steps != before)
            fail_msg("case %zu, %s: the point fast path was %staken", i, q[i].sql, q[i].fast ? "not " : "");
        if (q[i].direct ? pv_run_direct_steps == dbefore : pv_run_direct_steps != dbefore)
            fail_msg("case %zu, %s: pv_run_point was %staken", i, q[i].sql, q[i].direct ? "not " : "");
        pv_finalize(st);
        pv_finalize(ref);
    }
}

/* A point lookup's text is NUL-terminated in the mapping for some rows
 * and not for others (x.b: blobs read in place, of a dictionary in rows
 * 0-999, each its own in rows 1000-1999; some are followed by a zero
 * byte, most are not): keys that go back and forth between them on one
 * statement get a C string each time, read in place exactly where it is
 * NUL-terminated (the row's batch changes with `term`, exec_run.c
 * point_step, so pv_stmt never keeps handing out unterminated bytes as
 * a C string it saw terminated before), and every accessor agrees with
 * a projected statement. */
static void test_point_term_changes(void **state)
{
    gfix *f = *state;
    pv_stmt *st, *ref;
    int i, inplace = 0, flips = 0, was = -1, first = -1;
    uint64_t before = pv_run_point_steps;
    assert_int_equal(pv_prepare(f->pdb, "SELECT b, id FROM x WHERE id = ?", (size_t)-1, &st, NULL), PV_OK);
    assert_int_equal(pv_prepare(f->pdb, "SELECT DISTINCT b, id FROM x WHERE id = ?", (size_t)-1, &ref, NULL), PV_OK);
    /* a key whose blob is read in place, so that the statement's first
     * row has NUL-terminated text (probed on another statement) */
    for (i = 0; i < 1000 && first < 0; i++) {
        pv_stmt *probe;
        assert_int_equal(pv_prepare(f->pdb, "SELECT b FROM x WHERE id = ?", (size_t)-1, &probe, NULL), PV_OK);
        assert_int_equal(pv_bind_int64(probe, 1, i), PV_OK);
        assert_int_equal(pv_step(probe), PV_ROW);
        if ((const void *)pv_column_text(probe, 0) == pv_column_blob(probe, 0)) first = i;
        pv_finalize(probe);
    }
    assert_true(first >= 0);
    for (i = 0; i < 400; i++) {
        int key = i == 0 ? first : i % 2 ? 1000 + i * 2 : i * 2, c, now;
        const char *t;
        pv_reset(st);
        pv_reset(ref);
        assert_int_equal(pv_bind_int64(st, 1, key), PV_OK);
        assert_int_equal(pv_bind_int64(ref, 1, key), PV_OK);
        assert_int_equal(pv_step(st), PV_ROW);
        assert_int_equal(pv_step(ref), PV_ROW);
        for (c = 0; c < 2; c++) same_cell(st, ref, c, "x");
        t = pv_column_text(st, 0);
        assert_int_equal(strlen(t), 24);
        now = (const void *)t == pv_column_blob(st, 0);
        inplace += now;
        flips += was == 1 && now == 0;
        was = now;
    }
    pv_finalize(st);
    pv_finalize(ref);
    assert_true(pv_run_point_steps - before >= 400);
    /* (the NUL-terminated -> not transition was met) */
    if (flips < 10) fail_msg("%d rows of 400 read in place, %d after-in-place rows not", inplace, flips);
}

/* Tables whose keys are runs of consecutive integers (LINEAR key chunks,
 * step 1, three row groups of 1000): from 1, around 0, and against both
 * ends of the 64-bit range, where key - first key overflows. */
static const struct { const char *name; int64_t first; } lin[] = {
    {"one", 1}, {"mid", -1500}, {"lo", INT64_MIN}, {"hi", INT64_MAX - 2999},
};
#define LIN_ROWS 3000

static void fill_linear(pv_db *db)
{
    size_t t;
    exec_ok(db, "BEGIN");
    for (t = 0; t < sizeof lin / sizeof *lin; t++) {
        char sql[128];
        pv_stmt *st;
        int i;
        snprintf(sql, sizeof sql, "CREATE TABLE %s (id INTEGER PRIMARY KEY, v INTEGER)", lin[t].name);
        exec_ok(db, sql);
        snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (?, ?)", lin[t].name);
        assert_int_equal(pv_prepare(db, sql, (size_t)-1, &st, NULL), PV_OK);
        for (i = 0; i < LIN_ROWS; i++) {
            assert_int_equal(pv_reset(st), PV_OK);
            assert_int_equal(pv_bind_int64(st, 1, (int64_t)((uint64_t)lin[t].first + (uint64_t)i)), PV_OK);
            assert_int_equal(pv_bind_int64(st, 2, i * 7), PV_OK);
            assert_int_equal(pv_step(st), PV_DONE);
        }
        pv_finalize(st);
    }
    exec_ok(db, "COMMIT");
}

static int setup_linear(void **state) { return setup_pair(state, fill_linear, 1000); }

/* Keys looked up in LINEAR key chunks (the search computes the row, in
 * 64-bit arithmetic when key - first key fits, else 128-bit): every probe
 * near the tables' ends, groups' edges and both ends of the 64-bit range
 * answers on the .pvdb as on the workspace, by pv_get and by SQL, points
 * and both kinds of bound. */
static void test_linear_keys(void **state)
{
    static const char *const op[] = {"=", ">=", ">", "<=", "<"};
    static const int64_t rel[] = {-1, 0, 1, 999, 1000, 1001, 2998, 2999, 3000, 3001};
    gfix *f = *state;
    size_t t, q, k;
    for (t = 0; t < sizeof lin / sizeof *lin; t++) {
        pvdb_chunk_info ci;
        pvdb_file *pf;
        int table;
        int64_t probe[sizeof rel / sizeof *rel + 6] = {INT64_MIN, INT64_MIN + 1, -1, 0, INT64_MAX - 1, INT64_MAX};
        size_t np = 6;
        for (k = 0; k < sizeof rel / sizeof *rel; k++) {
            uint64_t u = (uint64_t)lin[t].first + (uint64_t)rel[k];
            /* (only probes on the right side of the first key, no wrap) */
            if ((rel[k] < 0) == ((int64_t)u < lin[t].first)) probe[np++] = (int64_t)u;
        }
        assert_int_equal(pvdb_open(f->path, &pf), PV_OK);
        table = pvdb_table_index(pf, lin[t].name, strlen(lin[t].name));
        assert_true(table >= 0);
        assert_int_equal(pvdb_chunk_info_get(pf, (uint32_t)table, 1, 0, &ci), PV_OK);
        assert_int_equal(ci.encoding, PV_ENC_LINEAR); /* (the path under test) */
        pvdb_close(pf);
        for (q = 0; q < sizeof op / sizeof *op; q++) {
            char text[160];
            pv_stmt *st, *ref;
            snprintf(text, sizeof text, "SELECT %s FROM %s WHERE id %s ?",
                     q ? "COUNT(*), MIN(id), MAX(id)" : "id, v", lin[t].name, op[q]);
            assert_int_equal(pv_prepare(f->pdb, text, (size_t)-1, &st, NULL), PV_OK);
            assert_int_equal(pv_prepare(f->ws.db, text, (size_t)-1, &ref, NULL), PV_OK);
            for (k = 0; k < np; k++) {
                pbind b = {'i', probe[k], 0, NULL};
                char *got = run_binds(st, &b, 1), *want = run_binds(ref, &b, 1);
                if (strcmp(got, want))
                    fail_msg("%s, key %lld:\n--- .pvdb\n%s--- workspace\n%s", text, (long long)probe[k], got, want);
                free(got);
                free(want);
            }
            pv_finalize(st);
            pv_finalize(ref);
        }
        for (k = 0; k < np; k++) {
            pv_getter *g[2];
            pv_cell key, row[2][2];
            int rc[2], i;
            key.type = PV_INTEGER;
            key.u.i = probe[k];
            for (i = 0; i < 2; i++) {
                assert_int_equal(pv_getter_open(i ? f->ws.db : f->pdb, lin[t].name, &g[i]), PV_OK);
                rc[i] = pv_get(g[i], &key, 1, row[i], 2);
            }
            if (rc[0] != rc[1] || (rc[0] == PV_ROW && (row[0][0].u.i != row[1][0].u.i || row[0][1].u.i != row[1][1].u.i)))
                fail_msg("pv_get %s key %lld: %d on the .pvdb, %d on the workspace", lin[t].name,
                         (long long)probe[k], rc[0], rc[1]);
            for (i = 0; i < 2; i++) pv_getter_close(g[i]);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_row),
        cmocka_unit_test(test_missing_keys),
        cmocka_unit_test(test_integer_vs_real),
        cmocka_unit_test(test_bad_shapes),
        cmocka_unit_test(test_corrupt_file),
        cmocka_unit_test(test_range_reruns),
        cmocka_unit_test(test_cells_in_place),
        cmocka_unit_test(test_point_text_in_place),
        cmocka_unit_test(test_point_fast_path),
        cmocka_unit_test(test_point_term_changes),
    };
    const struct CMUnitTest linear[] = {
        cmocka_unit_test(test_linear_keys),
    };
    return cmocka_run_group_tests(tests, setup, teardown) | cmocka_run_group_tests(linear, setup_linear, teardown);
}
