/*
 * test_verify.c: pv_verify, the full check of a database through the
 * public API. A workspace and its bake hold messy values (keys with
 * leading zeros, empty strings beside NULLs, quotes, newlines, non-ASCII
 * text, a long value); both verify clean. Then real damage: one byte
 * flipped in the data sections of the `.pvdb`, which pv_open does not
 * read and pv_verify must find (with the byte offset), and damaged chunk
 * lines in the workspace (named by file and line). pv_verify reads the
 * file the handle reads now, and leaves a running statement alone.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <xxhash.h>

#include "encode.h"
#include "pvdb_format.h"
#include "test_pair_util.h"

#define NROWS 3000

/* t's row i: TEXT keys with leading zeros; every 11th code NULL, every
 * 13th the empty string; quotes, a newline, non-ASCII text; row 7 a
 * value of 20,000 bytes. */
static void t_row(pv_buf *b, int i, void *ctx)
{
    (void)ctx;
    pv_buf_printf(b, "('%05d', ", i);
    if (i % 11 == 5) pv_buf_printf(b, "NULL");
    else if (i % 13 == 6) pv_buf_printf(b, "''");
    else pv_buf_printf(b, "'c%d'", i % 40);
    if (i == 7) {
        pv_buf_printf(b, ", '");
        for (int k = 0; k < 20000; k++) pv_buf_putc(b, (char)('a' + k % 26));
        pv_buf_printf(b, "', %d)", i);
    } else {
        pv_buf_printf(b, ", 'say ''hi''\n to Zoë #%d', %d)", i % 17, i * 7 - 1000);
    }
}

/* u's row i: id i + 1 (a LINEAR key chunk per row group of 1000 rows) */
static void u_row(pv_buf *b, int i, void *ctx)
{
    (void)ctx;
    pv_buf_printf(b, "(%d, %d)", i + 1, i % 7);
}

static void fill(pv_db *db)
{
    exec_ok(db, "CREATE TABLE t (k TEXT PRIMARY KEY, code TEXT, note TEXT, n INTEGER)");
    exec_ok(db, "CREATE TABLE u (id INTEGER PRIMARY KEY, v INTEGER)");
    exec_ok(db, "BEGIN");
    insert_rows(db, "t", NROWS, t_row, NULL);
    insert_rows(db, "u", NROWS, u_row, NULL);
    exec_ok(db, "COMMIT");
}

static int setup(void **state) { return setup_pair(state, fill, 1000); }

static int teardown(void **state) { return teardown_pair(state); }

/* ---- file helpers ------------------------------------------------------------------ */

static void copy_file(const char *from, const char *to)
{
    size_t n = 0;
    char *p = NULL;
    if (pv_read_file(from, (size_t)1 << 30, &p, &n)) fail_msg("read %s: %s", from, pv_errmsg());
    FILE *out = fopen(to, "wb");
    if (!out || fwrite(p, 1, n, out) != n || fclose(out)) fail_msg("cannot write %s", to);
    free(p);
}

static uint64_t file_u64(const char *path, long off)
{
    uint8_t b[8];
    FILE *in = fopen(path, "rb");
    if (!in || fseek(in, off, SEEK_SET) || fread(b, 1, 8, in) != 8) fail_msg("cannot read %s", path);
    fclose(in);
    return pv_get_u64(b);
}

static void flip_byte(const char *path, uint64_t off)
{
    uint8_t c;
    int fd = open(path, O_RDWR);
    if (fd < 0 || pread(fd, &c, 1, (off_t)off) != 1) fail_msg("cannot read %s", path);
    c ^= 0x10;
    if (pwrite(fd, &c, 1, (off_t)off) != 1 || close(fd)) fail_msg("cannot write %s", path);
}

static void append_text(const char *path, const char *text)
{
    FILE *out = fopen(path, "ab");
    if (!out || fputs(text, out) < 0 || fclose(out)) fail_msg("cannot append to %s", path);
}

/* The path of the first chunk file of table t in workspace `dir`. */
static void first_chunk(const char *dir, char *out, size_t cap)
{
    char tdir[160];
    struct dirent *e;
    DIR *d;
    snprintf(tdir, sizeof tdir, "%s/.pv/tables/t", dir);
    if (!(d = opendir(tdir))) fail_msg("no %s", tdir);
    out[0] = 0;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".jsonl") && (!out[0] || strcmp(strrchr(out, '/') + 1, e->d_name) > 0))
            snprintf(out, cap, "%s/%s", tdir, e->d_name);
    closedir(d);
    if (!out[0]) fail_msg("no chunk file in %s", tdir);
}

static int64_t count_rows(pv_db *db)
{
    pv_stmt *st;
    int64_t n = -1;
    if (pv_prepare(db, "SELECT count(*) FROM t", (size_t)-1, &st, NULL)) fail_msg("%s", pv_errmsg());
    if (pv_step(st) == PV_ROW) n = pv_column_int64(st, 0);
    pv_finalize(st);
    return n;
}

/* ---- tests --------------------------------------------------------------------- */

static void test_verify_clean(void **state)
{
    pair_fixture *f = *state;
    pv_db *ro;
    assert_int_equal(pv_verify(NULL), PV_EMISUSE);
    assert_int_equal(pv_verify(f->pdb), PV_OK);
    assert_int_equal(pv_verify(f->ws.db), PV_OK);
    /* inside the writer's own open transaction: its committed files */
    exec_ok(f->ws.db, "BEGIN");
    exec_ok(f->ws.db, "INSERT INTO t VALUES ('99999', NULL, 'x', 1)");
    assert_int_equal(pv_verify(f->ws.db), PV_OK);
    exec_ok(f->ws.db, "ROLLBACK");
    assert_int_equal(pv_open(f->ws.dir, PV_OPEN_READONLY, &ro), PV_OK);
    assert_int_equal(pv_verify(ro), PV_OK);
    assert_int_equal(pv_close(ro), PV_OK);
    assert_int_equal(count_rows(f->pdb), NROWS);
}

/* One byte flipped at each of several offsets of the data sections (the
 * first chunk's first byte, a byte a third of the way, the last byte
 * before the directory): pv_open takes the file (it reads no data
 * section), pv_verify refuses it and names the file and an offset. */
static void test_verify_pvdb_flipped_byte(void **state)
{
    pair_fixture *f = *state;
    char bad[128];
    uint64_t dir_off = file_u64(f->path, 32), offs[3];
    snprintf(bad, sizeof bad, "%s/bad.pvdb", f->ws.dir);
    assert_true(dir_off > 4096);
    offs[0] = 128;
    offs[1] = 128 + (dir_off - 128) / 3;
    offs[2] = dir_off - 1;
    for (int i = 0; i < 3; i++) {
        pv_db *db;
        copy_file(f->path, bad);
        flip_byte(bad, offs[i]);
        if (pv_open(bad, PV_OPEN_READONLY, &db)) fail_msg("open after a flip at %llu: %s",
                                                          (unsigned long long)offs[i], pv_errmsg());
        int rc = pv_verify(db);
        if (rc != PV_ECORRUPT)
            fail_msg("flip at %llu: pv_verify %d (%s), want PV_ECORRUPT", (unsigned long long)offs[i], rc,
                     pv_errmsg());
        if (!strstr(pv_errmsg(), "bad.pvdb") || !strstr(pv_errmsg(), "offset"))
            fail_msg("flip at %llu: message '%s' names no file or offset", (unsigned long long)offs[i],
                     pv_errmsg());
        assert_int_equal(pv_close(db), PV_OK);
    }
}

/* pv_verify checks the file the handle reads now: after pv_reopen onto
 * a damaged file it refuses, while a statement prepared and stepped
 * before reads its rows on from the old mapping. */
static void test_verify_after_reopen(void **state)
{
    pair_fixture *f = *state;
    char bad[128], live[128];
    pv_db *db;
    pv_stmt *st;
    int changed = 0, n = 0;
    snprintf(bad, sizeof bad, "%s/bad.pvdb", f->ws.dir);
    snprintf(live, sizeof live, "%s/live.pvdb", f->ws.dir);
    copy_file(f->path, live);
    assert_int_equal(pv_open(live, PV_OPEN_READONLY, &db), PV_OK);
    assert_int_equal(pv_prepare(db, "SELECT k, note FROM t", (size_t)-1, &st, NULL), PV_OK);
    assert_int_equal(pv_step(st), PV_ROW);
    n++;
    assert_int_equal(pv_verify(db), PV_OK); /* between two steps of a running scan */
    copy_file(f->path, bad);
    flip_byte(bad, 128 + (file_u64(bad, 32) - 128) / 2);
    assert_int_equal(rename(bad, live), 0);
    assert_int_equal(pv_reopen(db, &changed), PV_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(pv_verify(db), PV_ECORRUPT);
    while (pv_step(st) == PV_ROW) n++;
    assert_int_equal(n, NROWS);
    assert_int_equal(pv_finalize(st), PV_OK);
    assert_int_equal(pv_close(db), PV_OK);
}

/* The file at `path` as bytes (malloc'd), *n its size. */
static uint8_t *slurp(const char *path, size_t *n)
{
    char *p = NULL;
    if (pv_read_file(path, (size_t)1 << 30, &p, n)) fail_msg("read %s: %s", path, pv_errmsg());
    return (uint8_t *)p;
}

static void spit(const char *path, const uint8_t *p, size_t n)
{
    FILE *out = fopen(path, "wb");
    if (!out || fwrite(p, 1, n, out) != n || fclose(out)) fail_msg("cannot write %s", path);
}

/* Keys out of order in a file whose every checksum and zone map is right
 * (what only pv_verify's key check sees; the writer never makes one):
 * table u's row group 1 key chunk (LINEAR: base, step) rewritten, its
 * zone map, checksum, the directory's and the header's made to match.
 * step 0: rows 1000.. all 1001, the first repeat inside a batch (row
 * 1001); base 1000: equal to the last key of group 0 (row 1000). */
static void test_verify_key_order(void **state)
{
    pair_fixture *f = *state;
    static const struct { int64_t base, step, max; const char *row; } cases[] = {
        {1001, 0, 1001, "row 1001 "}, /* inside a batch */
        {1000, 1, 1999, "row 1000 "}, /* across row groups */
    };
    char bad[128];
    snprintf(bad, sizeof bad, "%s/keys.pvdb", f->ws.dir);
    for (int i = 0; i < 2; i++) {
        size_t n;
        uint8_t *p = slurp(f->path, &n), *d, *t, *k, *v;
        uint64_t dir_off = pv_get_u64(p + PVDB_H_DIR_OFFSET), dir_len = pv_get_u64(p + PVDB_H_DIR_LENGTH);
        uint32_t trec, krec, ncols, first;
        pv_db *db;
        d = p + dir_off;
        trec = pv_get_u32(d + PVDB_D_TABLE_RECSZ);
        krec = pv_get_u32(d + PVDB_D_CHUNK_RECSZ);
        t = d + pv_get_u64(d + PVDB_D_TABLES_OFF) + trec; /* tables by name: t, then u */
        ncols = pv_get_u32(t + PVDB_T_COLUMN_COUNT);
        first = pv_get_u32(t + PVDB_T_FIRST_CHUNK);
        assert_true(pv_get_u32(t + PVDB_T_GROUP_COUNT) == 3 && ncols == 2);
        k = d + pv_get_u64(d + PVDB_D_CHUNKS_OFF) + (uint64_t)(first + 1 * ncols + 0) * krec;
        if (k[PVDB_K_ENCODING] != PV_ENC_LINEAR || pv_get_u64(k + PVDB_K_LENGTH) != 16)
            fail_msg("u's key chunk of group 1 is not LINEAR (encoding %d)", k[PVDB_K_ENCODING]);
        v = p + pv_get_u64(k + PVDB_K_OFFSET);
        assert_int_equal((int64_t)pv_get_u64(v), 1001);
        pv_put_u64(v, (uint64_t)cases[i].base);
        pv_put_u64(v + 8, (uint64_t)cases[i].step);
        pv_put_u64(k + PVDB_K_MIN, (uint64_t)cases[i].base);
        pv_put_u64(k + PVDB_K_MAX, (uint64_t)cases[i].max);
        pv_put_u64(k + PVDB_K_CHECKSUM, XXH3_64bits(v, 16));
        pv_put_u64(p + PVDB_H_DIR_CHECKSUM, XXH3_64bits(d, dir_len));
        pv_put_u64(p + PVDB_H_CHECKSUM, XXH3_64bits(p, PVDB_H_CHECKSUM));
        spit(bad, p, n);
        free(p);
        if (pv_open(bad, PV_OPEN_READONLY, &db)) fail_msg("case %d: open: %s", i, pv_errmsg());
        assert_int_equal(pv_verify(db), PV_ECORRUPT);
        if (!strstr(pv_errmsg(), "table u") || !strstr(pv_errmsg(), cases[i].row))
            fail_msg("case %d: '%s' names no table u, %s", i, pv_errmsg(), cases[i].row);
        assert_int_equal(pv_close(db), PV_OK);
    }
}

/* A damaged chunk line in the workspace (after the 3000 rows and the
 * chunk's header line: line 3002) named by file and line; two of them:
 * the first, and the count of problems. */
static void test_verify_workspace_damage(void **state)
{
    pair_fixture *f = *state;
    char chunk[512];
    pv_db *ro;
    first_chunk(f->ws.dir, chunk, sizeof chunk);
    append_text(chunk, "[\"01234\", \"broken\n");
    assert_int_equal(pv_open(f->ws.dir, PV_OPEN_READONLY, &ro), PV_OK);
    assert_int_equal(pv_verify(ro), PV_ECORRUPT);
    if (!strstr(pv_errmsg(), strrchr(chunk, '/') + 1) || !strstr(pv_errmsg(), "line 3002:"))
        fail_msg("message '%s' does not name %s and a line", pv_errmsg(), chunk);
    if (strstr(pv_errmsg(), "in all")) fail_msg("one problem, but: '%s'", pv_errmsg());
    append_text(chunk, "not a line\n");
    assert_int_equal(pv_verify(ro), PV_ECORRUPT);
    if (!strstr(pv_errmsg(), "line 3002:") || !strstr(pv_errmsg(), "2 problems in all"))
        fail_msg("two problems, the first on line 3002, but: '%s'", pv_errmsg());
    assert_int_equal(pv_close(ro), PV_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_verify_clean, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_pvdb_flipped_byte, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_after_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_workspace_damage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_verify_key_order, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
