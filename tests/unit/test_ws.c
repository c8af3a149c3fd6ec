/*
 * test_ws.c: the `.pv/` workspace store (ws.c, ws_load.c, ws_write.c,
 * schema_file.c, blobstore.c) through pv_open / pv_db_* and the pv_source
 * scan: exact file bytes, keys, constraints, blobs, chunk sealing, torn
 * tails and damaged files.
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sha2.h>

#include "chunkline.h"
#include "db.h"
#include "ws.h"
#include "ws_internal.h"

/* ---- helpers ---------------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(path);
}

static int setup_dir(void **state)
{
    char *d = strdup("/tmp/pv-test-ws-XXXXXX");
    if (!d || !mkdtemp(d)) return -1;
    *state = d;
    return 0;
}

static int teardown_dir(void **state)
{
    char *d = *state;
    nftw(d, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(d);
    return 0;
}

static char *path_of(const char *dir, const char *rel)
{
    char *p;
    assert_true(asprintf(&p, "%s/%s", dir, rel) > 0);
    return p;
}

/* Whole file, NUL-terminated; NULL if it does not exist. */
static char *slurp(const char *dir, const char *rel, size_t *len)
{
    char *p = path_of(dir, rel), *text;
    size_t n;
    int rc = pv_read_file(p, (size_t)1 << 30, &text, &n);
    free(p);
    if (rc) return NULL;
    if (len) *len = n;
    return text;
}

static void spew(const char *dir, const char *rel, const char *data, size_t n, int append)
{
    char *p = path_of(dir, rel);
    int fd = open(p, O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC), 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, n), (ssize_t)n);
    close(fd);
    free(p);
}

static int exists(const char *dir, const char *rel)
{
    struct stat st;
    char *p = path_of(dir, rel);
    int r = stat(p, &st) == 0;
    free(p);
    return r;
}

static pv_db *open_ws(const char *dir, unsigned flags)
{
    pv_db *db = NULL;
    int rc = pv_open(dir, flags, &db);
    if (rc) fail_msg("pv_open('%s'): %d %s", dir, rc, pv_errmsg());
    assert_non_null(db);
    return db;
}

static pv_db *new_ws(const char *dir)
{
    int rc = pv_workspace_init(dir);
    if (rc) fail_msg("pv_workspace_init: %d %s", rc, pv_errmsg());
    return open_ws(dir, PV_OPEN_READWRITE);
}

/* airports(iata TEXT PRIMARY KEY, name TEXT NOT NULL, lat REAL, elev INTEGER,
 *          intl BOOLEAN, photo BLOB) */
static void create_airports(pv_db *db)
{
    pv_schema *s = pv_schema_new("airports", 8);
    uint32_t pk = 0;
    assert_non_null(s);
    assert_int_equal(pv_schema_add_column(s, "iata", 4, PV_TEXT, 0), 0);
    assert_int_equal(pv_schema_add_column(s, "name", 4, PV_TEXT, 1), 0);
    assert_int_equal(pv_schema_add_column(s, "lat", 3, PV_REAL, 0), 0);
    assert_int_equal(pv_schema_add_column(s, "elev", 4, PV_INTEGER, 0), 0);
    assert_int_equal(pv_schema_add_column(s, "intl", 4, PV_BOOLEAN, 0), 0);
    assert_int_equal(pv_schema_add_column(s, "photo", 5, PV_BLOB, 0), 0);
    assert_int_equal(pv_schema_set_pk(s, &pk, 1), 0);
    assert_int_equal(pv_schema_finish(s), 0);
    assert_int_equal(pv_db_create_table(db, s, 0), 0);
}

static int insert_airport(pv_db *db, const char *iata, const char *name, double lat,
                          int64_t elev)
{
    pv_value row[6] = {pv_v_text(iata, strlen(iata)),
                       name ? pv_v_text(name, strlen(name)) : pv_v_null(),
                       pv_v_real(lat), pv_v_int(elev), pv_v_bool(1), pv_v_null()};
    return pv_db_insert(db, "airports", row, 1, 6, NULL, 0);
}

/* Every row of a table, in scan order, as "v1,v2,...\n" lines of canonical
 * values (hidden columns included). Also checks the row count. */
static char *scan_text(pv_db *db, const char *table)
{
    pv_source src;
    pv_scan *scan = NULL;
    pv_batch b;
    pv_buf out = PV_BUF_INIT;
    uint32_t cols[PV_MAX_COLUMNS], c, r;
    uint64_t seen = 0;
    int n, rc = pv_db_find_table(db, table, strlen(table), &src);
    if (rc) fail_msg("pv_db_find_table(%s): %d %s", table, rc, pv_errmsg());
    for (c = 0; c < src.schema->ncols; c++) cols[c] = c;
    assert_int_equal(src.ops->scan_open(&src, cols, src.schema->ncols, &scan), 0);
    while ((n = src.ops->scan_next(scan, &b)) > 0) {
        assert_int_equal(b.nrows, (uint32_t)n);
        assert_true(n <= PV_BATCH_ROWS);
        for (r = 0; r < b.nrows; r++) {
            for (c = 0; c < b.ncols; c++) {
                pv_value v = pv_vec_get(&b.cols[c], r);
                if (c) pv_buf_putc(&out, ',');
                assert_int_equal(pv_chunk_encode_value(&out, &v), 0);
            }
            pv_buf_putc(&out, '\n');
        }
        seen += b.nrows;
    }
    assert_int_equal(n, 0);
    assert_true(seen == src.nrows);
    src.ops->scan_close(scan);
    if (!out.p) pv_buf_append(&out, "", 0);
    return out.p;
}

static void assert_scan(pv_db *db, const char *table, const char *want)
{
    char *got = scan_text(db, table);
    if (strcmp(got, want) != 0) fail_msg("table %s:\n%s\nwant:\n%s", table, got, want);
    free(got);
}

static int count_chunks(const char *dir, const char *table)
{
    char *p, rel[256];
    DIR *d;
    struct dirent *e;
    int n = 0;
    snprintf(rel, sizeof rel, ".pv/tables/%s", table);
    p = path_of(dir, rel);
    d = opendir(p);
    assert_non_null(d);
    while ((e = readdir(d)))
        if (strlen(e->d_name) == 14 && strcmp(e->d_name + 8, ".jsonl") == 0) n++;
    closedir(d);
    free(p);
    return n;
}

/* ---- the workspace directory ------------------------------------------------ */

static void test_init_layout(void **state)
{
    const char *dir = *state;
    char *text, *sub;
    pv_db *db = NULL;
    assert_int_equal(pv_workspace_init(dir), 0);
    assert_true(exists(dir, ".pv/tables"));
    assert_true(exists(dir, ".pv/blobs"));
    text = slurp(dir, ".pv/.gitignore", NULL);
    assert_non_null(text);
    /* local state never committed: lock, journal, caches */
    assert_non_null(strstr(text, "\n/lock\n"));
    assert_non_null(strstr(text, "\n/journal/\n"));
    assert_non_null(strstr(text, "\n/cache/\n"));
    free(text);
    text = slurp(dir, ".pv/format", NULL);
    assert_non_null(text);
    assert_string_equal(text, "picovolt-workspace 1\n");
    free(text);
    /* twice */
    assert_int_equal(pv_workspace_init(dir), PV_EEXISTS);
    /* an empty workspace opens and has no tables */
    db = open_ws(dir, PV_OPEN_READONLY);
    {
        pv_source src;
        assert_int_equal(pv_db_find_table(db, "t", 1, &src), PV_ENOTFOUND);
    }
    assert_int_equal(pv_close(db), 0);
    /* a directory without .pv */
    sub = path_of(dir, "plain");
    assert_int_equal(mkdir(sub, 0777), 0);
    db = (pv_db *)1;
    assert_int_equal(pv_open(sub, PV_OPEN_READONLY, &db), PV_ENOTFOUND);
    assert_null(db);
    assert_int_equal(pv_open(sub, PV_OPEN_READWRITE, &db), PV_ENOTFOUND);
    free(sub);
}

static void test_format_version(void **state)
{
    const char *dir = *state;
    pv_db *db = (pv_db *)1;
    char *text;
    assert_int_equal(pv_workspace_init(dir), 0);
    spew(dir, ".pv/format", "picovolt-workspace 3\n", 21, 0);
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_EFORMAT);
    assert_null(db);
    assert_non_null(strstr(pv_errmsg(), "version 3"));
    assert_non_null(strstr(pv_errmsg(), "upgrade pvdev"));
    spew(dir, ".pv/format", "something else\n", 15, 0);
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_ECORRUPT);
    /* version 2 (index lines) and 1 both open */
    spew(dir, ".pv/format", "picovolt-workspace 2\n", 21, 0);
    db = open_ws(dir, PV_OPEN_READWRITE);
    assert_int_equal(pv_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, u TEXT UNIQUE)"), 0);
    pv_close(db);
    text = slurp(dir, ".pv/format", NULL);
    assert_string_equal(text, "picovolt-workspace 2\n"); /* never lowered */
    free(text);
    spew(dir, ".pv/format", "picovolt-workspace 1\n", 21, 0);
    db = open_ws(dir, PV_OPEN_READWRITE);
    /* a table without index lines keeps version 1; the first index line
     * raises it to WS_FORMAT_INDEXES */
    assert_int_equal(pv_exec(db, "CREATE TABLE w (id INTEGER PRIMARY KEY, v TEXT)"), 0);
    text = slurp(dir, ".pv/format", NULL);
    assert_string_equal(text, "picovolt-workspace 1\n");
    free(text);
    assert_int_equal(pv_exec(db, "CREATE INDEX w_v ON w (v)"), 0);
    text = slurp(dir, ".pv/format", NULL);
    {
        char want[64];
        snprintf(want, sizeof want, "picovolt-workspace %d\n", WS_FORMAT_INDEXES);
        assert_string_equal(text, want);
    }
    free(text);
    pv_close(db);
}

/* ---- create, insert, reopen, scan ------------------------------------------ */

static void test_insert_reopen_scan(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    pv_value rows[2 * 6] = {
        pv_v_text("JFK", 3), pv_v_text("John F Kennedy", 14), pv_v_real(40.64), pv_v_int(13),
        pv_v_bool(1), pv_v_blob("\x01\x02", 2),
        pv_v_text("ATL", 3), pv_v_text("Hartsfield\xe2\x80\x93Jackson", 20), pv_v_null(), pv_v_null(),
        pv_v_bool(0), pv_v_null(),
    };
    const char *want =
        "\"ATL\",\"Hartsfield\xe2\x80\x93Jackson\",null,null,false,null\n"
        "\"JFK\",\"John F Kennedy\",40.64,13,true,{\"hex\":\"0102\"}\n"
        "\"LAX\",\"Los Angeles\",33.94,38,true,null\n"
        "\"SFO\",\"San Francisco \\\"Intl\\\"\",37.62,4,true,null\n";
    create_airports(db);
    assert_scan(db, "airports", "");
    assert_int_equal(insert_airport(db, "SFO", "San Francisco \"Intl\"", 37.62, 4), 0);
    assert_int_equal(insert_airport(db, "LAX", "Los Angeles", 33.94, 38), 0);
    assert_int_equal(pv_db_insert(db, "airports", rows, 2, 6, NULL, 0), 0);
    /* the same session sees the rows, in key order */
    assert_scan(db, "airports", want);
    assert_int_equal(pv_close(db), 0);

    db = open_ws(dir, PV_OPEN_READONLY);
    assert_scan(db, "airports", want);
    assert_scan(db, "AIRPORTS", want); /* table names are case-insensitive */
    {
        /* a scan of some columns, in the order asked, and of none */
        pv_source src;
        pv_scan *scan;
        pv_batch b;
        uint32_t cols[2] = {3, 0};
        assert_int_equal(pv_db_find_table(db, "airports", 8, &src), 0);
        assert_true(src.nrows == 4);
        assert_int_equal(src.schema->ncols, 6);
        assert_int_equal(src.ops->scan_open(&src, cols, 2, &scan), 0);
        assert_int_equal(src.ops->scan_next(scan, &b), 4);
        assert_int_equal(b.ncols, 2);
        assert_int_equal(b.cols[0].type, PV_INTEGER);
        assert_non_null(b.cols[0].nulls);
        assert_int_equal(b.cols[0].nulls[0], 1); /* ATL's elev */
        assert_true(b.cols[0].u.i[3] == 4);
        assert_int_equal(b.cols[1].u.s[2].n, 3);
        assert_memory_equal(b.cols[1].u.s[2].p, "LAX", 3);
        assert_int_equal(src.ops->scan_next(scan, &b), 0);
        src.ops->scan_close(scan);
        assert_int_equal(src.ops->scan_open(&src, NULL, 0, &scan), 0);
        assert_int_equal(src.ops->scan_next(scan, &b), 4);
        assert_int_equal(b.ncols, 0);
        src.ops->scan_close(scan);
        cols[0] = 6;
        assert_int_equal(src.ops->scan_open(&src, cols, 1, &scan), PV_ERANGE);
    }
    /* a read-only workspace refuses writes */
    assert_int_equal(insert_airport(db, "BOS", "Logan", 42.36, 6), PV_EREADONLY);
    {
        pv_schema *s = pv_schema_new("other", 5);
        assert_int_equal(pv_schema_add_column(s, "a", 1, PV_TEXT, 0), 0);
        assert_int_equal(pv_schema_finish(s), 0);
        assert_int_equal(pv_db_create_table(db, s, 0), PV_EREADONLY);
    }
    assert_int_equal(pv_close(db), 0);
    assert_false(exists(dir, ".pv/tables/other"));
}

static void test_create_errors(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    pv_schema *s;
    pv_value row[1] = {pv_v_text("x", 1)};
    create_airports(db);
    s = pv_schema_new("Airports", 8);
    assert_int_equal(pv_schema_add_column(s, "a", 1, PV_TEXT, 0), 0);
    assert_int_equal(pv_schema_finish(s), 0);
    assert_int_equal(pv_db_create_table(db, pv_schema_clone(s), 0), PV_EEXISTS);
    assert_int_equal(pv_db_create_table(db, s, 1), 0); /* IF NOT EXISTS: no change */
    s = pv_schema_new("bad-name", 8);
    assert_int_equal(pv_schema_add_column(s, "a", 1, PV_TEXT, 0), 0);
    assert_int_equal(pv_schema_finish(s), 0);
    assert_int_equal(pv_db_create_table(db, s, 0), PV_EINPUT);
    assert_int_equal(pv_db_insert(db, "nope", row, 1, 1, NULL, 0), PV_ENOTFOUND);
    assert_int_equal(pv_db_insert(db, "airports", row, 1, 1, NULL, 0), PV_EMISUSE);
    assert_int_equal(pv_close(db), 0);
    db = open_ws(dir, PV_OPEN_READONLY);
    assert_scan(db, "airports", "");
    pv_close(db);
}

/* The schema file and the chunk lines, byte for byte (schema_file.c's and
 * chunkline.h's documented forms). */
static void test_exact_file_bytes(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    char *text;
    pv_value row[6] = {pv_v_text("SFO", 3), pv_v_text("San Francisco", 13), pv_v_real(37.5),
                       pv_v_text("4", 1) /* converted: TEXT "4" -> INTEGER 4 */,
                       pv_v_int(1) /* INTEGER 1 -> BOOLEAN */, pv_v_blob("\x00\xff", 2)};
    create_airports(db);
    text = slurp(dir, ".pv/tables/airports/schema.jsonl", NULL);
    assert_non_null(text);
    assert_string_equal(text,
                        "{\"table\":\"airports\",\"primary_key\":[\"iata\"]}\n"
                        "{\"column\":\"iata\",\"type\":\"TEXT\",\"not_null\":true}\n"
                        "{\"column\":\"name\",\"type\":\"TEXT\",\"not_null\":true}\n"
                        "{\"column\":\"lat\",\"type\":\"REAL\"}\n"
                        "{\"column\":\"elev\",\"type\":\"INTEGER\"}\n"
                        "{\"column\":\"intl\",\"type\":\"BOOLEAN\"}\n"
                        "{\"column\":\"photo\",\"type\":\"BLOB\"}\n");
    free(text);
    assert_false(exists(dir, ".pv/tables/airports/00000001.jsonl"));
    assert_int_equal(pv_db_insert(db, "airports", row, 1, 6, NULL, 0), 0);
    assert_int_equal(insert_airport(db, "LAX", "Los Angeles", 1200.0, -3), 0);
    text = slurp(dir, ".pv/tables/airports/00000001.jsonl", NULL);
    assert_non_null(text);
    assert_string_equal(text,
                        "{\"pv\":1,\"columns\":[\"iata\",\"name\",\"lat\",\"elev\",\"intl\",\"photo\"]}\n"
                        "[\"SFO\",\"San Francisco\",37.5,4,true,{\"hex\":\"00ff\"}]\n"
                        "[\"LAX\",\"Los Angeles\",1200.0,-3,true,null]\n");
    free(text);
    pv_close(db);
}

/* ---- keys ------------------------------------------------------------------ */

static void test_composite_key(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    pv_schema *s = pv_schema_new("cities", 6);
    uint32_t pk[2] = {1, 0}; /* (country, city): not the column order */
    pv_value rows[5 * 3] = {
        pv_v_text("Paris", 5), pv_v_text("US", 2), pv_v_int(25000),
        pv_v_text("Paris", 5), pv_v_text("FR", 2), pv_v_int(2100000),
        pv_v_text("Austin", 6), pv_v_text("US", 2), pv_v_int(960000),
        pv_v_text("Lyon", 4), pv_v_text("FR", 2), pv_v_int(520000),
        pv_v_text("Lyon", 4), pv_v_text("US", 2), pv_v_int(-1),
    };
    pv_value dup[3] = {pv_v_text("Lyon", 4), pv_v_text("FR", 2), pv_v_int(0)};
    const char *want = "\"Lyon\",\"FR\",520000\n"
                       "\"Paris\",\"FR\",2100000\n"
                       "\"Austin\",\"US\",960000\n"
                       "\"Lyon\",\"US\",-1\n"
                       "\"Paris\",\"US\",25000\n";
    char *text;
    assert_int_equal(pv_schema_add_column(s, "city", 4, PV_TEXT, 0), 0);
    assert_int_equal(pv_schema_add_column(s, "country", 7, PV_TEXT, 0), 0);
    assert_int_equal(pv_schema_add_column(s, "pop", 3, PV_INTEGER, 0), 0);
    assert_int_equal(pv_schema_set_pk(s, pk, 2), 0);
    assert_int_equal(pv_schema_finish(s), 0);
    assert_int_equal(pv_db_create_table(db, s, 0), 0);
    assert_int_equal(pv_db_insert(db, "cities", rows, 5, 3, NULL, 0), 0);
    assert_scan(db, "cities", want);
    assert_int_equal(pv_db_insert(db, "cities", dup, 1, 3, NULL, 0), PV_ECONSTRAINT);
    assert_non_null(strstr(pv_errmsg(), "\"FR\",\"Lyon\""));
    pv_close(db);
    text = slurp(dir, ".pv/tables/cities/schema.jsonl", NULL);
    assert_non_null(strstr(text, "{\"table\":\"cities\",\"primary_key\":[\"country\",\"city\"]}\n"));
    free(text);
    db = open_ws(dir, PV_OPEN_READONLY);
    assert_scan(db, "cities", want);
    pv_close(db);
}

static void test_integer_and_real_keys(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    pv_schema *s = pv_schema_new("n", 1);
    uint32_t pk = 0;
    pv_value rows[6 * 2] = {
        pv_v_int(10), pv_v_text("a", 1), pv_v_int(-5), pv_v_text("b", 1),
        pv_v_int(INT64_MAX), pv_v_text("c", 1), pv_v_int(3), pv_v_text("d", 1),
        pv_v_int(INT64_MIN), pv_v_text("e", 1), pv_v_int(0), pv_v_text("f", 1),
    };
    assert_int_equal(pv_schema_add_column(s, "k", 1, PV_INTEGER, 0), 0);
    assert_int_equal(pv_schema_add_column(s, "v", 1, PV_TEXT, 0), 0);
    assert_int_equal(pv_schema_set_pk(s, &pk, 1), 0);
    assert_int_equal(pv_db_create_table(db, s, 0), 0);
    assert_int_equal(pv_db_insert(db, "n", rows, 6, 2, NULL, 0), 0);
    assert_scan(db, "n", "-9223372036854775808,\"e\"\n-5,\"b\"\n0,\"f\"\n3,\"d\"\n10,\"a\"\n"
                         "9223372036854775807,\"c\"\n");
    pv_close(db);
}

/* 0.0 and -0.0 are the same key (they compare equal). */
static void test_real_key_negative_zero(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    pv_schema *s = pv_schema_new("r", 1);
    uint32_t pk = 0;
    pv_value a[2] = {pv_v_real(0.0), pv_v_text("pos", 3)};
    pv_value b[2] = {pv_v_real(-0.0), pv_v_text("neg", 3)};
    pv_value both[4] = {pv_v_real(-0.0), pv_v_text("neg", 3), pv_v_real(0.0), pv_v_text("pos", 3)};
    assert_int_equal(pv_schema_add_column(s, "k", 1, PV_REAL, 0), 0);
    assert_int_equal(pv_schema_add_column(s, "v", 1, PV_TEXT, 0), 0);
    assert_int_equal(pv_schema_set_pk(s, &pk, 1), 0);
    assert_int_equal(pv_db_create_table(db, s, 0), 0);
    assert_int_equal(pv_db_insert(db, "r", both, 2, 2, NULL, 0), PV_ECONSTRAINT);
    assert_int_equal(pv_db_insert(db, "r", a, 1, 2, NULL, 0), 0);
    assert_int_equal(pv_db_insert(db, "r", b, 1, 2, NULL, 0), PV_ECONSTRAINT);
    assert_scan(db, "r", "0.0,\"pos\"\n");
    pv_close(db);
}

static void test_hidden_key(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    pv_schema *s = pv_schema_new("notes", 5);
    pv_value rows[50 * 2];
    char bodies[50][16], *text, *line;
    int i, k;
    assert_int_equal(pv_schema_add_column(s, "body", 4, PV_TEXT, 0), 0);
    assert_int_equal(pv_schema_finish(s), 0);
    assert_int_equal(s->ncols, 2);
    assert_true(s->cols[1].hidden);
    assert_int_equal(pv_db_create_table(db, s, 0), 0);
    for (i = 0; i < 50; i++) {
        snprintf(bodies[i], sizeof bodies[i], "n%d", i);
        rows[2 * i] = pv_v_text(bodies[i], strlen(bodies[i]));
        rows[2 * i + 1] = pv_v_null();
    }
    assert_int_equal(pv_db_insert(db, "notes", rows, 25, 2, NULL, 0), 0);
    assert_int_equal(pv_db_insert(db, "notes", rows + 50, 25, 2, NULL, 0), 0);
    pv_close(db);
    text = slurp(dir, ".pv/tables/notes/schema.jsonl", NULL);
    assert_string_equal(text, "{\"table\":\"notes\",\"primary_key\":[\"_pv_id\"]}\n"
                              "{\"column\":\"body\",\"type\":\"TEXT\"}\n"
                              "{\"column\":\"_pv_id\",\"type\":\"TEXT\",\"not_null\":true,\"hidden\":true}\n");
    free(text);

    db = open_ws(dir, PV_OPEN_READONLY);
    text = scan_text(db, "notes");
    {
        char keys[50][33], seen[50] = {0};
        int n = 0;
        for (line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), n++) {
            /* "nI","<32 hex>" */
            char *comma = strchr(line, ',');
            int idx;
            assert_non_null(comma);
            assert_int_equal(sscanf(line, "\"n%d\"", &idx), 1);
            assert_true(idx >= 0 && idx < 50 && !seen[idx]);
            seen[idx] = 1;
            assert_int_equal(strlen(comma + 1), 34);
            assert_int_equal(comma[1], '"');
            assert_int_equal(comma[34], '"');
            assert_int_equal(strspn(comma + 2, "0123456789abcdef"), 32);
            memcpy(keys[n], comma + 2, 32);
            keys[n][32] = '\0';
            /* scan order is key order */
            if (n) assert_true(strcmp(keys[n - 1], keys[n]) < 0);
        }
        assert_int_equal(n, 50);
        for (i = 0; i < 50; i++)
            for (k = i + 1; k < 50; k++) assert_string_not_equal(keys[i], keys[k]);
    }
    free(text);
    pv_close(db);
}

/* ---- constraints: nothing is written when an insert fails ------------------ */

static void test_duplicate_keys_write_nothing(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    char *before, *after;
    size_t nb, na;
    pv_value two[2 * 6] = {
        pv_v_text("LAX", 3), pv_v_text("Los Angeles", 11), pv_v_null(), pv_v_null(), pv_v_null(), pv_v_null(),
        pv_v_text("SFO", 3), pv_v_text("again", 5), pv_v_null(), pv_v_null(), pv_v_null(), pv_v_null(),
    };
    pv_value within[3 * 6] = {
        pv_v_text("BOS", 3), pv_v_text("Logan", 5), pv_v_null(), pv_v_null(), pv_v_null(), pv_v_null(),
        pv_v_text("ORD", 3), pv_v_text("O'Hare", 6), pv_v_null(), pv_v_null(), pv_v_null(), pv_v_null(),
        pv_v_text("BOS", 3), pv_v_text("twice", 5), pv_v_null(), pv_v_null(), pv_v_null(), pv_v_null(),
    };
    create_airports(db);
    assert_int_equal(insert_airport(db, "SFO", "San Francisco", 37.62, 4), 0);
    before = slurp(dir, ".pv/tables/airports/00000001.jsonl", &nb);
    assert_non_null(before);

    /* against the table: LAX must not be written either */
    assert_int_equal(pv_db_insert(db, "airports", two, 2, 6, "x.csv", 7), PV_ECONSTRAINT);
    assert_non_null(strstr(pv_errmsg(), "\"SFO\""));
    assert_non_null(strstr(pv_errmsg(), "x.csv:8"));
    /* within one insert */
    assert_int_equal(pv_db_insert(db, "airports", within, 3, 6, NULL, 0), PV_ECONSTRAINT);
    assert_non_null(strstr(pv_errmsg(), "\"BOS\""));
    after = slurp(dir, ".pv/tables/airports/00000001.jsonl", &na);
    assert_int_equal(na, nb);
    assert_memory_equal(after, before, nb);
    free(after);
    assert_scan(db, "airports", "\"SFO\",\"San Francisco\",37.62,4,true,null\n");
    /* the failed rows can still go in afterwards */
    assert_int_equal(pv_db_insert(db, "airports", within, 2, 6, NULL, 0), 0);
    pv_close(db);
    db = open_ws(dir, PV_OPEN_READONLY);
    assert_scan(db, "airports",
                "\"BOS\",\"Logan\",null,null,null,null\n"
                "\"ORD\",\"O'Hare\",null,null,null,null\n"
                "\"SFO\",\"San Francisco\",37.62,4,true,null\n");
    pv_close(db);
    free(before);
}

static void test_not_null_and_types_write_nothing(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    char *before, *after;
    size_t nb, na;
    struct {
        int col;
        pv_value v;
        int rc;
    } bad[] = {
        {1, {PV_NULL, {0}}, PV_ECONSTRAINT},      /* name NOT NULL */
        {0, {PV_NULL, {0}}, PV_ECONSTRAINT},      /* the key */
        {2, {PV_NULL, {0}}, 0},                   /* placeholder, set below */
        {3, {PV_NULL, {0}}, 0},
        {3, {PV_NULL, {0}}, 0},
        {4, {PV_NULL, {0}}, 0},
        {0, {PV_NULL, {0}}, 0},
        {5, {PV_NULL, {0}}, 0},
        {1, {PV_NULL, {0}}, 0},
    };
    size_t i;
    bad[2].v = pv_v_text("north", 5), bad[2].rc = PV_ETYPE;     /* REAL */
    bad[3].v = pv_v_real(1.5), bad[3].rc = PV_ETYPE;            /* INTEGER */
    bad[4].v = pv_v_text("12abc", 5), bad[4].rc = PV_ETYPE;
    bad[5].v = pv_v_int(2), bad[5].rc = PV_ETYPE;               /* BOOLEAN */
    bad[6].v = pv_v_blob("SFO", 3), bad[6].rc = PV_ETYPE;       /* TEXT key */
    bad[7].v = pv_v_int(7), bad[7].rc = PV_ETYPE;               /* BLOB */
    bad[8].v = pv_v_text("\xc3\x28", 2), bad[8].rc = PV_EINPUT; /* bad UTF-8 */
    create_airports(db);
    assert_int_equal(insert_airport(db, "SFO", "San Francisco", 37.62, 4), 0);
    before = slurp(dir, ".pv/tables/airports/00000001.jsonl", &nb);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pv_value rows[2 * 6] = {
            pv_v_text("AAA", 3), pv_v_text("fine", 4), pv_v_real(1), pv_v_int(1), pv_v_bool(0), pv_v_null(),
            pv_v_text("ZZZ", 3), pv_v_text("bad", 3), pv_v_real(1), pv_v_int(1), pv_v_bool(0), pv_v_null(),
        };
        int rc;
        rows[6 + bad[i].col] = bad[i].v;
        rc = pv_db_insert(db, "airports", rows, 2, 6, NULL, 0);
        if (rc != bad[i].rc) fail_msg("case %zu: rc %d, want %d (%s)", i, rc, bad[i].rc, pv_errmsg());
        assert_non_null(strstr(pv_errmsg(), "airports"));
        after = slurp(dir, ".pv/tables/airports/00000001.jsonl", &na);
        assert_int_equal(na, nb);
        assert_memory_equal(after, before, nb);
        free(after);
    }
    assert_scan(db, "airports", "\"SFO\",\"San Francisco\",37.62,4,true,null\n");
    /* conversions that are allowed */
    {
        pv_value ok[6] = {pv_v_text("CDG", 3), pv_v_int(42), pv_v_int(49), pv_v_real(119.0),
                          pv_v_text("false", 5), pv_v_text("raw", 3)};
        assert_int_equal(pv_db_insert(db, "airports", ok, 1, 6, NULL, 0), 0);
    }
    pv_close(db);
    db = open_ws(dir, PV_OPEN_READONLY);
    assert_scan(db, "airports", "\"CDG\",\"42\",49.0,119,false,{\"hex\":\"726177\"}\n"
                                "\"SFO\",\"San Francisco\",37.62,4,true,null\n");
    pv_close(db);
    free(before);
}

/* ---- the blob store ---------------------------------------------------------- */

static int count_blob_files(const char *dir)
{
    char *p = path_of(dir, ".pv/blobs");
    DIR *d = opendir(p), *sd;
    struct dirent *e, *f;
    int n = 0;
    assert_non_null(d);
    while ((e = readdir(d))) {
        char *sub;
        if (e->d_name[0] == '.') continue;
        assert_int_equal(strlen(e->d_name), 2);
        assert_true(asprintf(&sub, "%s/%s", p, e->d_name) > 0);
        sd = opendir(sub);
        assert_non_null(sd);
        while ((f = readdir(sd))) {
            if (!strcmp(f->d_name, ".") || !strcmp(f->d_name, "..")) continue;
            assert_int_equal(strlen(f->d_name), 62); /* no temporary left */
            n++;
        }
        closedir(sd);
        free(sub);
    }
    closedir(d);
    free(p);
    return n;
}

static void test_blobs(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    size_t big = 5000, i;
    char *text = malloc(big), *photo = malloc(PV_BLOB_THRESHOLD + 1), *inl = malloc(PV_BLOB_THRESHOLD);
    char hex[65], phex[65], rel[200], *stored, *chunk, *scan, want[512];
    size_t n;
    pv_value rows[3 * 6];
    for (i = 0; i < big; i++) text[i] = (char)('a' + i % 26);
    for (i = 0; i <= PV_BLOB_THRESHOLD; i++) photo[i] = (char)(i * 7);
    memset(inl, 'x', PV_BLOB_THRESHOLD);
    SHA256Data((const uint8_t *)text, big, hex);
    SHA256Data((const uint8_t *)photo, PV_BLOB_THRESHOLD + 1, phex);
    create_airports(db);
    /* two rows hold the same long name; a third an inline name of exactly
     * the threshold, and a BLOB one byte over it */
    for (i = 0; i < 3; i++) {
        static const char *keys[3] = {"AAA", "BBB", "CCC"};
        pv_value *r = &rows[6 * i];
        r[0] = pv_v_text(keys[i], 3);
        r[1] = i < 2 ? pv_v_text(text, big) : pv_v_text(inl, PV_BLOB_THRESHOLD);
        r[2] = pv_v_null();
        r[3] = pv_v_null();
        r[4] = pv_v_null();
        r[5] = i == 2 ? pv_v_blob(photo, PV_BLOB_THRESHOLD + 1) : pv_v_null();
    }
    assert_int_equal(pv_db_insert(db, "airports", rows, 2, 6, NULL, 0), 0);
    assert_int_equal(pv_db_insert(db, "airports", rows + 12, 1, 6, NULL, 0), 0);
    assert_int_equal(count_blob_files(dir), 2);
    snprintf(rel, sizeof rel, ".pv/blobs/%.2s/%s", hex, hex + 2);
    stored = slurp(dir, rel, &n);
    assert_non_null(stored);
    assert_int_equal(n, big);
    assert_memory_equal(stored, text, big);
    free(stored);
    snprintf(rel, sizeof rel, ".pv/blobs/%.2s/%s", phex, phex + 2);
    assert_true(exists(dir, rel));

    chunk = slurp(dir, ".pv/tables/airports/00000001.jsonl", NULL);
    snprintf(want, sizeof want, "[\"AAA\",{\"sha256\":\"%s\",\"size\":5000},null,null,null,null]\n", hex);
    assert_non_null(strstr(chunk, want));
    snprintf(want, sizeof want, ",{\"sha256\":\"%s\",\"size\":%d}]\n", phex, PV_BLOB_THRESHOLD + 1);
    assert_non_null(strstr(chunk, want));
    assert_non_null(strstr(chunk, "[\"CCC\",\"xxxxxxxx")); /* inline at the threshold */
    free(chunk);
    pv_close(db);

    db = open_ws(dir, PV_OPEN_READONLY);
    scan = scan_text(db, "airports");
    {
        pv_buf w = PV_BUF_INIT;
        pv_value t = pv_v_text(text, big), p = pv_v_blob(photo, PV_BLOB_THRESHOLD + 1),
                 x = pv_v_text(inl, PV_BLOB_THRESHOLD);
        pv_buf_append(&w, "\"AAA\",", 6);
        pv_chunk_encode_value(&w, &t);
        pv_buf_append(&w, ",null,null,null,null\n\"BBB\",", 27);
        pv_chunk_encode_value(&w, &t);
        pv_buf_append(&w, ",null,null,null,null\n\"CCC\",", 27);
        pv_chunk_encode_value(&w, &x);
        pv_buf_append(&w, ",null,null,null,", 16);
        pv_chunk_encode_value(&w, &p);
        pv_buf_putc(&w, '\n');
        assert_string_equal(scan, w.p);
        pv_buf_free(&w);
    }
    free(scan);
    pv_close(db);

    /* tampered: same size, one byte changed */
    snprintf(rel, sizeof rel, ".pv/blobs/%.2s/%s", hex, hex + 2);
    text[100] ^= 1;
    spew(dir, rel, text, big, 0);
    db = open_ws(dir, PV_OPEN_READONLY);
    {
        pv_source src;
        assert_int_equal(pv_db_find_table(db, "airports", 8, &src), PV_ECORRUPT);
        assert_non_null(strstr(pv_errmsg(), hex + 2));
    }
    pv_close(db);
    /* truncated, then missing */
    spew(dir, rel, text, big - 1, 0);
    db = open_ws(dir, PV_OPEN_READONLY);
    {
        pv_source src;
        assert_int_equal(pv_db_find_table(db, "airports", 8, &src), PV_ECORRUPT);
    }
    pv_close(db);
    {
        char *p = path_of(dir, rel);
        assert_int_equal(unlink(p), 0);
        free(p);
    }
    db = open_ws(dir, PV_OPEN_READONLY);
    {
        pv_source src;
        assert_int_equal(pv_db_find_table(db, "airports", 8, &src), PV_ECORRUPT);
    }
    pv_close(db);
    free(text);
    free(photo);
    free(inl);
}

/* ---- chunk sealing ------------------------------------------------------------ */

static void test_chunk_sealing(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    enum { PER = 4000, ROUNDS = 3, PAD = 250 };
    char *names = malloc((size_t)PER * ROUNDS * PAD);
    char (*keys)[16] = malloc(sizeof(*keys) * PER * ROUNDS);
    pv_value *rows = malloc(sizeof *rows * 6 * PER);
    char *head = NULL;
    int round, i, nchunks, c;
    uint64_t total = 0;
    create_airports(db);
    for (round = 0; round < ROUNDS; round++) {
        for (i = 0; i < PER; i++) {
            int k = round * PER + i;
            /* keys in an order unrelated to insertion */
            snprintf(keys[k], 16, "%06d", (k * 7919) % (PER * ROUNDS));
            memset(names + (size_t)k * PAD, 'a' + k % 26, PAD);
            rows[6 * i] = pv_v_text(keys[k], 6);
            rows[6 * i + 1] = pv_v_text(names + (size_t)k * PAD, PAD);
            rows[6 * i + 2] = pv_v_real(k / 8.0);
            rows[6 * i + 3] = pv_v_int(k);
            rows[6 * i + 4] = pv_v_bool(k & 1);
            rows[6 * i + 5] = pv_v_null();
        }
        assert_int_equal(pv_db_insert(db, "airports", rows, PER, 6, NULL, 0), 0);
    }
    pv_close(db);

    nchunks = count_chunks(dir, "airports");
    /* ~3.2 MB of rows at 1 MiB a chunk */
    assert_true(nchunks >= 3);
    {
        pv_buf hb = PV_BUF_INIT;
        db = open_ws(dir, PV_OPEN_READONLY);
        {
            pv_source src;
            assert_int_equal(pv_db_find_table(db, "airports", 8, &src), 0);
            assert_int_equal(pv_chunk_encode_header(&hb, src.schema), 0);
            assert_true(src.nrows == PER * ROUNDS);
        }
        head = hb.p;
    }
    for (c = 1; c <= nchunks; c++) {
        char rel[100], *text;
        size_t len;
        snprintf(rel, sizeof rel, ".pv/tables/airports/%08d.jsonl", c);
        text = slurp(dir, rel, &len);
        assert_non_null(text);
        assert_int_equal(strncmp(text, head, strlen(head)), 0);
        assert_int_equal(text[len - 1], '\n');
        /* one header per chunk */
        assert_null(strstr(text + 1, "{\"pv\":"));
        if (c < nchunks) {
            /* sealed at the bound, by less than one row past it */
            assert_true(len >= PV_CHUNK_SEAL_BYTES);
            assert_true(len < PV_CHUNK_SEAL_BYTES + 400);
        }
        total += len;
        free(text);
    }
    (void)total;
    /* every row back, in key order */
    {
        pv_source src;
        pv_scan *scan;
        pv_batch b;
        uint32_t cols[3] = {0, 3, 1};
        int n, seen = 0;
        assert_int_equal(pv_db_find_table(db, "airports", 8, &src), 0);
        assert_int_equal(src.ops->scan_open(&src, cols, 3, &scan), 0);
        while ((n = src.ops->scan_next(scan, &b)) > 0) {
            for (i = 0; i < n; i++, seen++) {
                char want[16];
                int64_t k = b.cols[1].u.i[i];
                snprintf(want, sizeof want, "%06d", seen);
                assert_int_equal(b.cols[0].u.s[i].n, 6);
                assert_memory_equal(b.cols[0].u.s[i].p, want, 6);
                assert_true((k * 7919) % (PER * ROUNDS) == seen);
                assert_int_equal(b.cols[2].u.s[i].n, PAD);
                assert_memory_equal(b.cols[2].u.s[i].p, names + (size_t)k * PAD, PAD);
            }
        }
        assert_int_equal(seen, PER * ROUNDS);
        src.ops->scan_close(scan);
    }
    pv_close(db);
    /* one more row after reopening goes to the newest chunk */
    db = open_ws(dir, PV_OPEN_READWRITE);
    assert_int_equal(insert_airport(db, "zzz", "last", 0, 0), 0);
    pv_close(db);
    assert_int_equal(count_chunks(dir, "airports"), nchunks);
    db = open_ws(dir, PV_OPEN_READONLY);
    {
        pv_source src;
        assert_int_equal(pv_db_find_table(db, "airports", 8, &src), 0);
        assert_true(src.nrows == PER * ROUNDS + 1);
    }
    pv_close(db);
    free(head);
    free(names);
    free(keys);
    free(rows);
}

/* One insert bigger than a chunk: split over several files. */
static void test_sealing_within_one_insert(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    enum { N = 6000, PAD = 500 };
    char *pad = malloc(PAD);
    char (*keys)[16] = malloc(sizeof(*keys) * N);
    pv_value *rows = malloc(sizeof *rows * 6 * N);
    int i;
    memset(pad, 'p', PAD);
    create_airports(db);
    for (i = 0; i < N; i++) {
        snprintf(keys[i], 16, "k%05d", i);
        rows[6 * i] = pv_v_text(keys[i], 6);
        rows[6 * i + 1] = pv_v_text(pad, PAD);
        rows[6 * i + 2] = pv_v_null();
        rows[6 * i + 3] = pv_v_int(i);
        rows[6 * i + 4] = pv_v_null();
        rows[6 * i + 5] = pv_v_null();
    }
    assert_int_equal(pv_db_insert(db, "airports", rows, N, 6, NULL, 0), 0);
    {
        pv_source src;
        assert_int_equal(pv_db_find_table(db, "airports", 8, &src), 0);
        assert_true(src.nrows == N);
    }
    pv_close(db);
    assert_true(count_chunks(dir, "airports") >= 3);
    db = open_ws(dir, PV_OPEN_READONLY);
    {
        pv_source src;
        assert_int_equal(pv_db_find_table(db, "airports", 8, &src), 0);
        assert_true(src.nrows == N);
    }
    pv_close(db);
    free(pad);
    free(keys);
    free(rows);
}

/* ---- crashes and damage ---------------------------------------------------------- */

static void test_torn_tail(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    char *before, *after;
    size_t nb, na;
    static const char half[] = "[\"ZZZ\",\"half a li";
    const char *want = "\"JFK\",\"Kennedy\",40.6,4,true,null\n"
                       "\"LAX\",\"Los Angeles\",33.9,38,true,null\n"
                       "\"SFO\",\"San Francisco\",37.6,4,true,null\n";
    create_airports(db);
    assert_int_equal(insert_airport(db, "SFO", "San Francisco", 37.6, 4), 0);
    assert_int_equal(insert_airport(db, "LAX", "Los Angeles", 33.9, 38), 0);
    assert_int_equal(insert_airport(db, "JFK", "Kennedy", 40.6, 4), 0);
    pv_close(db);
    before = slurp(dir, ".pv/tables/airports/00000001.jsonl", &nb);
    spew(dir, ".pv/tables/airports/00000001.jsonl", half, sizeof half - 1, 1);

    /* read-only: reported, file untouched */
    {
        pv_db *ro = (pv_db *)1;
        assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &ro), PV_ECORRUPT);
        assert_null(ro);
        assert_non_null(strstr(pv_errmsg(), "00000001.jsonl"));
        after = slurp(dir, ".pv/tables/airports/00000001.jsonl", &na);
        assert_int_equal(na, nb + sizeof half - 1);
        free(after);
    }
    /* read-write: the torn line is cut, committed rows intact */
    db = open_ws(dir, PV_OPEN_READWRITE);
    after = slurp(dir, ".pv/tables/airports/00000001.jsonl", &na);
    assert_int_equal(na, nb);
    assert_memory_equal(after, before, nb);
    free(after);
    assert_scan(db, "airports", want);
    /* and appends continue on a clean line */
    assert_int_equal(insert_airport(db, "ZZZ", "whole", 1, 1), 0);
    pv_close(db);
    db = open_ws(dir, PV_OPEN_READONLY);
    {
        char *text = scan_text(db, "airports");
        assert_int_equal(strncmp(text, want, strlen(want)), 0);
        assert_string_equal(text + strlen(want), "\"ZZZ\",\"whole\",1.0,1,true,null\n");
        free(text);
    }
    pv_close(db);
    free(before);
}

/* A crash while the first chunk's header was being written leaves a file
 * with no complete line; the next insert must still write a header. */
static void test_torn_first_header(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    char *text;
    create_airports(db);
    pv_close(db);
    spew(dir, ".pv/tables/airports/00000001.jsonl", "{\"pv\":1,\"colu", 13, 0);
    db = open_ws(dir, PV_OPEN_READWRITE);
    assert_int_equal(insert_airport(db, "SFO", "San Francisco", 37.5, 4), 0);
    pv_close(db);
    text = slurp(dir, ".pv/tables/airports/00000001.jsonl", NULL);
    assert_string_equal(text, "{\"pv\":1,\"columns\":[\"iata\",\"name\",\"lat\",\"elev\",\"intl\",\"photo\"]}\n"
                              "[\"SFO\",\"San Francisco\",37.5,4,true,null]\n");
    free(text);
    db = open_ws(dir, PV_OPEN_READONLY);
    assert_scan(db, "airports", "\"SFO\",\"San Francisco\",37.5,4,true,null\n");
    pv_close(db);
}

static void test_conflict_markers(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    static const char conflict[] = "<<<<<<< HEAD\n[\"BOS\",\"ours\",null,null,null,null]\n=======\n"
                                   "[\"BOS\",\"theirs\",null,null,null,null]\n>>>>>>> branch\n";
    pv_source src;
    create_airports(db);
    assert_int_equal(insert_airport(db, "SFO", "San Francisco", 37.5, 4), 0);
    assert_int_equal(insert_airport(db, "LAX", "Los Angeles", 33.9, 38), 0);
    pv_close(db);
    spew(dir, ".pv/tables/airports/00000001.jsonl", conflict, sizeof conflict - 1, 1);
    db = open_ws(dir, PV_OPEN_READONLY);
    assert_int_equal(pv_db_find_table(db, "airports", 8, &src), PV_ECORRUPT);
    assert_non_null(strstr(pv_errmsg(), "00000001.jsonl' line 4"));
    assert_non_null(strstr(pv_errmsg(), "conflict"));
    pv_close(db);
    /* a read-write open does not "repair" it either */
    db = open_ws(dir, PV_OPEN_READWRITE);
    assert_int_equal(insert_airport(db, "ORD", "O'Hare", 0, 0), PV_ECORRUPT);
    pv_close(db);
}

static void test_damaged_chunks(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    char *good;
    size_t n, i;
    static const struct {
        const char *text;
        const char *msg;
    } bad[] = {
        {"[\"SFO\",\"x\",null,null,null,null]\n", "line 1"},                 /* no header */
        {"{\"pv\":1,\"columns\":[\"iata\",\"nope\"]}\n", "nope"},            /* unknown column */
        {"{\"pv\":1,\"columns\":[\"iata\",\"name\"]}\n[\"SFO\"]\n", "line 2"},
        {"{\"pv\":1,\"columns\":[\"iata\",\"name\"]}\n[\"SFO\",\"x\"]\n{\"pv\":1,\"columns\":[\"iata\"]}\n", "line 3"},
        {"{\"pv\":1,\"columns\":[\"iata\",\"name\"]}\n[null,\"x\"]\n", "line 2"}, /* NULL key */
        {"{\"pv\":1,\"columns\":[\"iata\",\"name\"]}\n[\"SFO\",\"x\"]\n\n", "line 3"},
        {"{\"pv\":1,\"columns\":[\"iata\",\"name\"]}\n[\"SF\xff\",\"x\"]\n", "line 2"},
    };
    create_airports(db);
    assert_int_equal(insert_airport(db, "SFO", "San Francisco", 37.5, 4), 0);
    pv_close(db);
    good = slurp(dir, ".pv/tables/airports/00000001.jsonl", &n);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pv_source src;
        spew(dir, ".pv/tables/airports/00000001.jsonl", bad[i].text, strlen(bad[i].text), 0);
        db = open_ws(dir, PV_OPEN_READONLY);
        assert_int_equal(pv_db_find_table(db, "airports", 8, &src), PV_ECORRUPT);
        if (!strstr(pv_errmsg(), bad[i].msg)) fail_msg("case %zu: '%s' lacks '%s'", i, pv_errmsg(), bad[i].msg);
        pv_close(db);
    }
    /* a newer chunk version */
    spew(dir, ".pv/tables/airports/00000001.jsonl", "{\"pv\":4,\"columns\":[]}\n", 22, 0);
    db = open_ws(dir, PV_OPEN_READONLY);
    {
        pv_source src;
        assert_int_equal(pv_db_find_table(db, "airports", 8, &src), PV_EFORMAT);
    }
    pv_close(db);
    /* a continuation header (version 3) as the first line, or a first
     * line's header (version 1 or 2) after it: corrupt */
    {
        static const char *const misplaced[] = {
            "{\"pv\":3,\"columns\":[\"iata\"]}\n",
            "{\"pv\":1,\"columns\":[\"iata\"]}\n[\"SFO\"]\n{\"pv\":1,\"columns\":[\"iata\"]}\n",
            "{\"pv\":1,\"columns\":[\"iata\"]}\n{\"pv\":2,\"columns\":[\"iata\"],\"compacted\":\"0123456789abcdef\"}\n",
        };
        for (i = 0; i < sizeof misplaced / sizeof misplaced[0]; i++) {
            pv_source src;
            spew(dir, ".pv/tables/airports/00000001.jsonl", misplaced[i], strlen(misplaced[i]), 0);
            db = open_ws(dir, PV_OPEN_READONLY);
            assert_int_equal(pv_db_find_table(db, "airports", 8, &src), PV_ECORRUPT);
            if (!strstr(pv_errmsg(), i ? "a chunk header after the first line" : "continuation header"))
                fail_msg("misplaced header %zu: '%s'", i, pv_errmsg());
            pv_close(db);
        }
    }
    /* an older chunk whose header lacks later columns, in another order:
     * mapped by name, the missing ones NULL */
    spew(dir, ".pv/tables/airports/00000001.jsonl", good, n, 0);
    {
        static const char older[] = "{\"pv\":1,\"columns\":[\"elev\",\"name\",\"iata\"]}\n[7,\"Boston\",\"BOS\"]\n";
        spew(dir, ".pv/tables/airports/00000002.jsonl", older, sizeof older - 1, 0);
    }
    db = open_ws(dir, PV_OPEN_READONLY);
    assert_scan(db, "airports", "\"BOS\",\"Boston\",null,7,null,null\n"
                                "\"SFO\",\"San Francisco\",37.5,4,true,null\n");
    pv_close(db);
    free(good);
}

/* Delete records (written by pvdev delete/merge) hide a key; the last record
 * of a key wins; a deleted key can be inserted again. */
static void test_delete_records_and_replay(void **state)
{
    const char *dir = *state;
    pv_db *db = new_ws(dir);
    static const char more[] = "{\"delete\":[\"JFK\"]}\n[\"SFO\",\"SFO v2\",1.5,null,null,null]\n"
                               "{\"delete\":[\"NOPE\"]}\n";
    create_airports(db);
    assert_int_equal(insert_airport(db, "SFO", "San Francisco", 37.5, 4), 0);
    assert_int_equal(insert_airport(db, "JFK", "Kennedy", 40.6, 4), 0);
    pv_close(db);
    spew(dir, ".pv/tables/airports/00000001.jsonl", more, sizeof more - 1, 1);
    db = open_ws(dir, PV_OPEN_READWRITE);
    assert_scan(db, "airports", "\"SFO\",\"SFO v2\",1.5,null,null,null\n");
    assert_int_equal(insert_airport(db, "SFO", "dup", 0, 0), PV_ECONSTRAINT);
    assert_int_equal(insert_airport(db, "JFK", "Kennedy again", 40.6, 5), 0);
    assert_scan(db, "airports", "\"JFK\",\"Kennedy again\",40.6,5,true,null\n"
                                "\"SFO\",\"SFO v2\",1.5,null,null,null\n");
    pv_close(db);
    db = open_ws(dir, PV_OPEN_READONLY);
    assert_scan(db, "airports", "\"JFK\",\"Kennedy again\",40.6,5,true,null\n"
                                "\"SFO\",\"SFO v2\",1.5,null,null,null\n");
    pv_close(db);
}

/* ---- schema files ------------------------------------------------------------------ */

static void put_schema(const char *dir, const char *table, const char *text)
{
    char rel[200], *p;
    snprintf(rel, sizeof rel, ".pv/tables/%s", table);
    p = path_of(dir, rel);
    mkdir(p, 0777);
    free(p);
    snprintf(rel, sizeof rel, ".pv/tables/%s/schema.jsonl", table);
    spew(dir, rel, text, strlen(text), 0);
}

static void test_bad_schema_files(void **state)
{
    const char *dir = *state;
    static const char *bad[] = {
        "",
        "{\"table\":\"t\",\"primary_key\":[\"a\"]}\n",                                   /* no columns */
        "{\"table\":\"u\",\"primary_key\":[\"a\"]}\n{\"column\":\"a\",\"type\":\"TEXT\"}\n", /* name */
        "{\"table\":\"t\",\"primary_key\":[\"b\"]}\n{\"column\":\"a\",\"type\":\"TEXT\"}\n", /* key */
        "{\"table\":\"t\",\"primary_key\":[]}\n{\"column\":\"a\",\"type\":\"TEXT\"}\n",
        "{\"table\":\"t\",\"primary_key\":[\"a\",\"a\"]}\n{\"column\":\"a\",\"type\":\"TEXT\"}\n",
        "{\"table\":\"t\",\"primary_key\":[\"a\"]}\n{\"column\":\"a\",\"type\":\"VARCHAR\"}\n",
        "{\"table\":\"t\",\"primary_key\":[\"a\"]}\n{\"column\":\"a\",\"type\":\"text\"}\n",
        "{\"table\":\"t\",\"primary_key\":[\"a\"]}\n{\"column\":\"a\",\"type\":\"TEXT\",\"unique\":true}\n",
        "{\"table\":\"t\",\"primary_key\":[\"a\"]}\n{\"column\":\"a\",\"type\":\"TEXT\"}\n{\"column\":\"A\",\"type\":\"TEXT\"}\n",
        "{\"table\":\"t\",\"primary_key\":[\"a\"]}\n{\"column\":\"a\",\"type\":\"TEXT\"}",  /* no newline */
        "{\"table\":\"t\",\"primary_key\":[\"a\"]}\n{\"column\":\"a\",\"type\":\"TEXT\"}x\n",
        "{\"table\":\"t\",\"primary_key\":[\"a\"]}\n{\"column\":\"a\\u0001\",\"type\":\"TEXT\"}\n",
    };
    size_t i;
    assert_int_equal(pv_workspace_init(dir), 0);
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pv_db *db = (pv_db *)1;
        int rc;
        put_schema(dir, "t", bad[i]);
        rc = pv_open(dir, PV_OPEN_READONLY, &db);
        if (rc != PV_ECORRUPT) fail_msg("case %zu: rc %d, want PV_ECORRUPT", i, rc);
        assert_null(db);
        assert_non_null(strstr(pv_errmsg(), "schema.jsonl"));
    }
    /* and a good one, not canonical but readable */
    put_schema(dir, "t", "{ \"table\" : \"t\", \"primary_key\": [\"a\"] }\n"
                         "{\"column\":\"a\",\"type\":\"TEXT\",\"not_null\":true}\n"
                         "{\"column\":\"b\",\"type\":\"INTEGER\",\"not_null\":false}\n");
    {
        pv_db *db = open_ws(dir, PV_OPEN_READONLY);
        pv_source src;
        assert_int_equal(pv_db_find_table(db, "t", 1, &src), 0);
        assert_int_equal(src.schema->ncols, 2);
        assert_int_equal(src.schema->cols[1].type, PV_INTEGER);
        assert_false(src.schema->cols[1].not_null);
        pv_close(db);
    }
}

/* A schema file naming more key parts than a table may have columns. */
/* pv_db_lookup on a table whose rows come from its checkpoint and a tail
 * (binary search over the key-ordered vectors, no load): present, absent,
 * deleted, replaced and tail-inserted keys, a composite key. */
static void test_lookup_from_checkpoint(void **state)
{
    const char *dir = *state;
    pv_db *db;
    const pv_value *row;
    char sql[200];
    int i;
    assert_int_equal(pv_workspace_init(dir), 0);
    db = open_ws(dir, PV_OPEN_READWRITE);
    assert_int_equal(pv_exec(db, "CREATE TABLE t (a INTEGER, b TEXT, v TEXT, PRIMARY KEY (a, b))"), 0);
    assert_int_equal(pv_exec(db, "BEGIN"), 0);
    for (i = 0; i < 3000; i++) {
        snprintf(sql, sizeof sql, "INSERT INTO t VALUES (%d, 'k%d', 'v%d')", i / 2, i % 2, i);
        assert_int_equal(pv_exec(db, sql), 0);
    }
    assert_int_equal(pv_exec(db, "COMMIT"), 0);
    pv_close(db);
    setenv("PV_LOAD_CACHE_MIN_BYTES", "1", 1); /* the next load writes a checkpoint */
    db = open_ws(dir, PV_OPEN_READWRITE);
    assert_int_equal(pv_exec(db, "SELECT count(*) FROM t"), 0);
    unsetenv("PV_LOAD_CACHE_MIN_BYTES");
    assert_true(exists(dir, ".pv/cache/load/t.pvck"));
    /* a tail: a delete, a replace, a new key before and after every row */
    assert_int_equal(pv_exec(db, "DELETE FROM t WHERE a = 10 AND b = 'k1'"), 0);
    assert_int_equal(pv_exec(db, "UPDATE t SET v = 'new' WHERE a = 20 AND b = 'k0'"), 0);
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (-1, 'x', 'first'), (5000, 'x', 'last'), (30, 'k0a', 'mid')"), 0);
    pv_close(db);
    db = open_ws(dir, PV_OPEN_READONLY);
    {
        pv_source src; /* the row count, before any scan: the checkpoint's and its tail's */
        assert_int_equal(pv_db_find_table(db, "t", 1, &src), 0);
        assert_int_equal(src.nrows, 3002);
    }
    {
        pv_value key[2];
        struct { int64_t a; const char *b, *v; } want[] = {
            {0, "k0", "v0"}, {0, "k1", "v1"}, {1499, "k1", "v2999"}, {10, "k0", "v20"}, {10, "k1", NULL},
            {20, "k0", "new"}, {-1, "x", "first"}, {5000, "x", "last"}, {30, "k0a", "mid"}, {30, "k1", "v61"},
            {1500, "k0", NULL}, {-2, "k0", NULL}, {7, "k2", NULL},
        };
        size_t k;
        for (k = 0; k < sizeof want / sizeof *want; k++) {
            key[0] = pv_v_int(want[k].a);
            key[1] = pv_v_text(want[k].b, strlen(want[k].b));
            assert_int_equal(pv_db_lookup(db, "t", key, &row), want[k].v ? 1 : 0);
            if (!want[k].v) continue;
            assert_int_equal(row[0].u.i, want[k].a);
            assert_int_equal(row[2].type, PV_TEXT);
            assert_int_equal(row[2].u.s.n, strlen(want[k].v));
            assert_memory_equal(row[2].u.s.p, want[k].v, row[2].u.s.n);
        }
    }
    {
        pv_stmt *st = NULL; /* then a scan, and a point query through SQL */
        assert_int_equal(pv_prepare(db, "SELECT count(*) FROM t", (size_t)-1, &st, NULL), 0);
        assert_int_equal(pv_step(st), PV_ROW);
        assert_int_equal(pv_column_int64(st, 0), 3002);
        pv_finalize(st);
        assert_int_equal(pv_prepare(db, "SELECT v FROM t WHERE a = 30 AND b = 'k0a'", (size_t)-1, &st, NULL), 0);
        assert_int_equal(pv_step(st), PV_ROW);
        assert_string_equal(pv_column_text(st, 0), "mid");
        pv_finalize(st);
    }
    pv_close(db);
}

/* A bulk write logs its appended rows as one run in the undo log; a
 * savepoint taken after it must not let later appends join that run, so
 * rolling back to it removes exactly the later rows. Keys in ascending
 * order skip the duplicate hash set: a duplicate is still found. */
static void test_append_runs_and_savepoints(void **state)
{
    const char *dir = *state;
    pv_db *db;
    pv_value rows[12];
    size_t mark, n;
    char *text;
    int i;
    assert_int_equal(pv_workspace_init(dir), 0);
    db = open_ws(dir, PV_OPEN_READWRITE);
    assert_int_equal(pv_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER)"), 0);
    for (i = 0; i < 6; i++) {
        rows[2 * i] = pv_v_int(i + 1);
        rows[2 * i + 1] = pv_v_int(10 * (i + 1));
    }
    rows[10] = pv_v_int(3); /* ascending until a duplicate of key 3 */
    assert_int_equal(pv_db_write(db, "t", rows, 6, 2, PV_WRITE_INSERT, NULL, 0, NULL), PV_ECONSTRAINT);
    assert_non_null(strstr(pv_errmsg(), "duplicate primary key 3"));
    rows[10] = pv_v_int(0); /* not ascending, no duplicate */
    assert_int_equal(pv_db_begin(db), 0);
    assert_int_equal(pv_db_write(db, "t", rows, 3, 2, PV_WRITE_INSERT, NULL, 0, &n), 0);
    mark = pv_db_savepoint(db);
    assert_int_equal(pv_db_write(db, "t", rows + 6, 3, 2, PV_WRITE_INSERT, NULL, 0, &n), 0);
    assert_int_equal(pv_db_rollback_to(db, mark), 0);
    assert_int_equal(pv_db_write(db, "t", rows + 6, 2, 2, PV_WRITE_INSERT, NULL, 0, &n), 0);
    assert_int_equal(pv_db_commit(db), 0);
    pv_close(db);
    text = slurp(dir, ".pv/tables/t/00000001.jsonl", NULL);
    assert_string_equal(text, "{\"pv\":1,\"columns\":[\"id\",\"v\"]}\n[1,10]\n[2,20]\n[3,30]\n[4,40]\n[5,50]\n");
    free(text);
    /* a whole transaction of runs rolled back */
    db = open_ws(dir, PV_OPEN_READWRITE);
    assert_int_equal(pv_db_begin(db), 0);
    assert_int_equal(pv_db_write(db, "t", rows + 10, 1, 2, PV_WRITE_INSERT, NULL, 0, &n), 0);
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (7, 70), (8, 80)"), 0);
    assert_int_equal(pv_db_rollback(db), 0);
    {
        pv_stmt *st = NULL;
        assert_int_equal(pv_prepare(db, "SELECT count(*), sum(id) FROM t", (size_t)-1, &st, NULL), 0);
        assert_int_equal(pv_step(st), PV_ROW);
        assert_int_equal(pv_column_int64(st, 0), 5);
        assert_int_equal(pv_column_int64(st, 1), 15);
        pv_finalize(st);
    }
    pv_close(db);
}

/* The last chunk stays open between commits: a chunk file replaced under
 * the writer (a git checkout renames files into place), or appended to by
 * another handle, is seen at the next BEGIN, and the next row goes to the
 * file the path names now. */
static void test_kept_open_chunk(void **state)
{
    const char *dir = *state;
    pv_db *db, *other;
    char *text, *a, *b;
    size_t n;
    assert_int_equal(pv_workspace_init(dir), 0);
    db = open_ws(dir, PV_OPEN_READWRITE);
    assert_int_equal(pv_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY)"), 0);
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (1)"), 0);
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (2)"), 0);
    /* replaced: same bytes, another file */
    text = slurp(dir, ".pv/tables/t/00000001.jsonl", &n);
    spew(dir, ".pv/tables/t/new.tmp", text, n, 0);
    free(text);
    a = path_of(dir, ".pv/tables/t/new.tmp");
    b = path_of(dir, ".pv/tables/t/00000001.jsonl");
    assert_int_equal(rename(a, b), 0);
    free(a);
    free(b);
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (3)"), 0);
    /* another handle appends, then this one again */
    other = open_ws(dir, PV_OPEN_READWRITE);
    assert_int_equal(pv_exec(other, "INSERT INTO t VALUES (4)"), 0);
    pv_close(other);
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (5)"), 0);
    pv_close(db);
    text = slurp(dir, ".pv/tables/t/00000001.jsonl", NULL);
    assert_string_equal(text, "{\"pv\":1,\"columns\":[\"id\"]}\n[1]\n[2]\n[3]\n[4]\n[5]\n");
    free(text);
}

/* Rows handed over with pv_ws_write_owned: `n` rows (id, name) from
 * `ids`, names "n<id>" in a fresh arena. */
static pv_value *owned_rows(const int *ids, size_t n, pv_arena *a)
{
    pv_value *rows = malloc(n * 2 * sizeof *rows);
    size_t i;
    assert_non_null(rows);
    for (i = 0; i < n; i++) {
        char name[32];
        int len = snprintf(name, sizeof name, "n%d", ids[i]);
        rows[2 * i] = pv_v_int(ids[i]);
        rows[2 * i + 1] = pv_v_text(pv_arena_dup(a, name, (size_t)len), (size_t)len);
    }
    return rows;
}

static int64_t query_int(pv_db *db, const char *sql)
{
    pv_stmt *st = NULL;
    int64_t v;
    assert_int_equal(pv_prepare(db, sql, (size_t)-1, &st, NULL), 0);
    assert_int_equal(pv_step(st), PV_ROW);
    v = pv_column_int64(st, 0);
    pv_finalize(st);
    return v;
}

/* pv_ws_write_owned keeps sorted rows as an empty table's own (no copy),
 * and writes anything else as pv_ws_write does; in both cases the rows and
 * the arena are the workspace's (ASan: nothing leaks, nothing is freed
 * twice), rollback undoes the kept rows, and the files are those of an
 * ordinary write. */
static void test_write_owned(void **state)
{
    const char *dir = *state;
    static const int sorted[] = {1, 2, 3}, more[] = {5, 4}, dup[] = {7, 6, 7};
    pv_arena a = PV_ARENA_INIT;
    pv_value *rows;
    pv_db *db;
    size_t n = 0;
    char *text;

    assert_int_equal(pv_workspace_init(dir), 0);
    db = open_ws(dir, PV_OPEN_READWRITE);
    assert_int_equal(pv_exec(db, "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)"), 0);
    /* kept, then rolled back with the transaction */
    assert_int_equal(pv_db_begin(db), 0);
    rows = owned_rows(sorted, 3, &a);
    assert_int_equal(pv_ws_write_owned(db->ws, "t", rows, 3, 2, &a, PV_WRITE_INSERT, "x.csv", 2, &n), 0);
    assert_int_equal(n, 3);
    assert_null(a.head); /* the table's now: kept, not copied */
    assert_int_equal(db->ws->ntables, 1);
    assert_ptr_equal(db->ws->tables[0]->vals, rows);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t WHERE name = 'n2'"), 1);
    assert_int_equal(pv_db_rollback(db), 0);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t"), 0);
    /* kept (autocommit), then more rows out of order: copied */
    rows = owned_rows(sorted, 3, &a);
    assert_int_equal(pv_ws_write_owned(db->ws, "t", rows, 3, 2, &a, PV_WRITE_INSERT, "x.csv", 2, &n), 0);
    rows = owned_rows(more, 2, &a);
    assert_int_equal(pv_ws_write_owned(db->ws, "t", rows, 2, 2, &a, PV_WRITE_INSERT, "x.csv", 5, &n), 0);
    assert_int_equal(n, 2);
    /* a duplicate: the error of pv_ws_write, the rows freed, nothing written */
    rows = owned_rows(dup, 3, &a);
    assert_int_equal(pv_ws_write_owned(db->ws, "t", rows, 3, 2, &a, PV_WRITE_INSERT, "x.csv", 10, &n),
                     PV_ECONSTRAINT);
    assert_non_null(strstr(pv_errmsg(), "x.csv"));
    assert_int_equal(query_int(db, "SELECT sum(id) FROM t"), 15);
    pv_close(db);
    text = slurp(dir, ".pv/tables/t/00000001.jsonl", NULL);
    assert_string_equal(text, "{\"pv\":1,\"columns\":[\"id\",\"name\"]}\n[1,\"n1\"]\n[2,\"n2\"]\n"
                              "[3,\"n3\"]\n[5,\"n5\"]\n[4,\"n4\"]\n");
    free(text);
    db = open_ws(dir, PV_OPEN_READWRITE);
    assert_int_equal(query_int(db, "SELECT count(*) FROM t WHERE name = 'n4'"), 1);
    pv_close(db);
}

static void test_schema_key_too_long(void **state)
{
    const char *dir = *state;
    pv_buf b = PV_BUF_INIT;
    pv_db *db = (pv_db *)1;
    int i;
    assert_int_equal(pv_workspace_init(dir), 0);
    pv_buf_append(&b, "{\"table\":\"t\",\"primary_key\":[", 28);
    for (i = 0; i < PV_MAX_COLUMNS + 40; i++) pv_buf_append(&b, i ? ",\"a\"" : "\"a\"", i ? 4 : 3);
    pv_buf_append(&b, "]}\n{\"column\":\"a\",\"type\":\"TEXT\"}\n", 33);
    put_schema(dir, "t", b.p);
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_ECORRUPT);
    assert_null(db);
    pv_buf_free(&b);
}

/* The durability chosen at open: the explicit choice wins, then
 * PV_DURABILITY, then sync; a PV_DURABILITY that is neither sync nor fast
 * is refused by a writable open, naming the variable. */
static void test_durability_choice(void **state)
{
    const char *dir = *state;
    const char *saved = getenv("PV_DURABILITY");
    char *keep = saved ? strdup(saved) : NULL;
    pv_ws *ws;
    assert_int_equal(pv_ws_init(dir), PV_OK);
    unsetenv("PV_DURABILITY");
    assert_int_equal(pv_ws_open(dir, 1, &ws), PV_OK);
    assert_int_equal(pv_ws_durability(ws), PV_WS_SYNC);
    pv_ws_close(ws);
    assert_int_equal(pv_ws_open_ex(dir, 1, PV_WS_FAST, &ws), PV_OK);
    assert_int_equal(pv_ws_durability(ws), PV_WS_FAST);
    pv_ws_close(ws);
    setenv("PV_DURABILITY", "fast", 1);
    assert_int_equal(pv_ws_open(dir, 1, &ws), PV_OK);
    assert_int_equal(pv_ws_durability(ws), PV_WS_FAST);
    pv_ws_close(ws);
    assert_int_equal(pv_ws_open_ex(dir, 1, PV_WS_SYNC, &ws), PV_OK); /* the option over the variable */
    assert_int_equal(pv_ws_durability(ws), PV_WS_SYNC);
    pv_ws_close(ws);
    setenv("PV_DURABILITY", "sync", 1);
    assert_int_equal(pv_ws_open(dir, 1, &ws), PV_OK);
    assert_int_equal(pv_ws_durability(ws), PV_WS_SYNC);
    pv_ws_close(ws);
    setenv("PV_DURABILITY", "fsat", 1);
    assert_int_equal(pv_ws_open(dir, 1, &ws), PV_EMISUSE);
    assert_null(ws);
    assert_non_null(strstr(pv_errmsg(), "PV_DURABILITY='fsat'"));
    assert_int_equal(pv_ws_open(dir, 0, &ws), PV_OK); /* a reader does not care */
    pv_ws_close(ws);
    assert_int_equal(pv_ws_open_ex(dir, 1, PV_WS_FAST, &ws), PV_OK);
    pv_ws_close(ws);
    assert_int_equal(pv_ws_open_ex(dir, 1, 7, &ws), PV_EMISUSE);
    if (keep) setenv("PV_DURABILITY", keep, 1);
    else unsetenv("PV_DURABILITY");
    free(keep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_init_layout, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_format_version, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_lookup_from_checkpoint, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_append_runs_and_savepoints, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_write_owned, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_kept_open_chunk, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_insert_reopen_scan, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_create_errors, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_exact_file_bytes, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_composite_key, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_integer_and_real_keys, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_real_key_negative_zero, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_hidden_key, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_duplicate_keys_write_nothing, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_not_null_and_types_write_nothing, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_blobs, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_chunk_sealing, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_sealing_within_one_insert, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_torn_tail, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_torn_first_header, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_conflict_markers, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_damaged_chunks, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_delete_records_and_replay, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_bad_schema_files, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_schema_key_too_long, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_durability_choice, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
