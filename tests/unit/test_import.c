/*
 * test_import.c: `pvdev import` end to end on real files, plus the CSV
 * reader and type inference on their own.
 *
 * Every test gets a fresh workspace in a mkdtemp() directory, runs the real
 * cmd_import with an argv, and reads the table back through the store's
 * scan interface (pv_db_find_table + pv_source), the same path the SQL
 * executor uses.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "csv_read.h"
#include "db.h"
#include "infer.h"
#include "pv.h"
#include "value.h"

#ifndef PV_SOURCE_DIR
#define PV_SOURCE_DIR "."
#endif
#define DATA(name) PV_SOURCE_DIR "/tests/data/" name
#define AIRPORTS PV_SOURCE_DIR "/examples/data/airports.csv"

/* ---- helpers --------------------------------------------------------------- */

struct cell {
    int type;       /* PV_NULL, PV_INTEGER, PV_REAL, PV_TEXT ... */
    char *s;        /* TEXT/BLOB bytes, NUL-terminated copy */
    size_t n;
    int64_t i;
    double f;
};

struct table {
    uint32_t ncols;
    char *names[32];
    int types[32];
    size_t nrows;
    struct cell *cells; /* nrows x ncols, visible columns only */
};

static struct cell *cell_at(struct table *t, size_t r, uint32_t c)
{
    return &t->cells[r * t->ncols + c];
}

static void table_free(struct table *t)
{
    for (size_t k = 0; k < t->nrows * t->ncols; k++)
        free(t->cells[k].s);
    for (uint32_t c = 0; c < t->ncols; c++)
        free(t->names[c]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

static void copy_batch(struct table *t, const pv_batch *b)
{
    t->cells = realloc(t->cells, (t->nrows + b->nrows) * t->ncols * sizeof *t->cells);
    assert_non_null(t->cells);
    for (uint32_t r = 0; r < b->nrows; r++, t->nrows++) {
        for (uint32_t c = 0; c < t->ncols; c++) {
            pv_value v = pv_vec_get(&b->cols[c], r);
            struct cell *x = cell_at(t, t->nrows, c);
            memset(x, 0, sizeof *x);
            x->type = v.type;
            if (v.type == PV_TEXT || v.type == PV_BLOB) {
                x->s = malloc(v.u.s.n + 1);
                assert_non_null(x->s);
                memcpy(x->s, v.u.s.p, v.u.s.n);
                x->s[v.u.s.n] = '\0';
                x->n = v.u.s.n;
            } else if (v.type == PV_REAL) {
                x->f = v.u.f;
            } else {
                x->i = v.u.i;
            }
        }
    }
}

/* Read every visible column of `name` into *t, in primary-key order. */
static void load_table(const char *dir, const char *name, struct table *t)
{
    pv_db *db = NULL;
    pv_source src;
    pv_scan *scan = NULL;
    pv_batch b;
    uint32_t cols[32];
    int rc;

    memset(t, 0, sizeof *t);
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_OK);
    rc = pv_db_find_table(db, name, strlen(name), &src);
    if (rc != PV_OK)
        fail_msg("no table %s: %s", name, pv_errmsg());
    for (uint32_t c = 0; c < src.schema->ncols; c++) {
        if (src.schema->cols[c].hidden)
            continue;
        assert_true(t->ncols < 32);
        cols[t->ncols] = c;
        t->names[t->ncols] = strdup(src.schema->cols[c].name);
        t->types[t->ncols++] = src.schema->cols[c].type;
    }
    assert_int_equal(src.ops->scan_open(&src, cols, t->ncols, &scan), PV_OK);
    while ((rc = src.ops->scan_next(scan, &b)) > 0)
        copy_batch(t, &b);
    assert_int_equal(rc, 0);
    assert_int_equal(t->nrows, src.nrows);
    src.ops->scan_close(scan);
    pv_close(db);
}

static int table_exists(const char *dir, const char *name)
{
    pv_db *db = NULL;
    pv_source src;
    int rc;

    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_OK);
    rc = pv_db_find_table(db, name, strlen(name), &src);
    pv_close(db);
    assert_true(rc == PV_OK || rc == PV_ENOTFOUND);
    return rc == PV_OK;
}

static int col_index(const struct table *t, const char *name)
{
    for (uint32_t c = 0; c < t->ncols; c++)
        if (strcmp(t->names[c], name) == 0)
            return (int)c;
    fail_msg("no column %s", name);
    return -1;
}

/* The row whose TEXT column `col` is `text`, or -1. */
static long find_row(struct table *t, const char *col, const char *text)
{
    int c = col_index(t, col);

    for (size_t r = 0; r < t->nrows; r++) {
        struct cell *x = cell_at(t, r, (uint32_t)c);
        if (x->type == PV_TEXT && strcmp(x->s, text) == 0)
            return (long)r;
    }
    return -1;
}

static void assert_text(struct table *t, size_t r, const char *col,
                        const char *want)
{
    struct cell *x = cell_at(t, r, (uint32_t)col_index(t, col));

    if (x->type != PV_TEXT)
        fail_msg("row %zu column %s: type %d, want TEXT '%s'", r, col, x->type, want);
    assert_string_equal(x->s, want);
}

static void assert_sql_null(struct table *t, size_t r, const char *col)
{
    assert_int_equal(cell_at(t, r, (uint32_t)col_index(t, col))->type, PV_NULL);
}

static void assert_type(const struct table *t, const char *col, int type)
{
    int got = t->types[col_index(t, col)];
    if (got != type)
        fail_msg("column %s is %s, want %s", col, pv_type_name(got), pv_type_name(type));
}

/* Run `pvdev import -C dir [--key key] table file`. */
static int import(const char *dir, const char *table, const char *file,
                  const char *key)
{
    char *argv[8];
    int argc = 0;

    argv[argc++] = "import";
    argv[argc++] = "-C";
    argv[argc++] = (char *)dir;
    if (key) {
        argv[argc++] = "--key";
        argv[argc++] = (char *)key;
    }
    argv[argc++] = (char *)table;
    argv[argc++] = (char *)file;
    argv[argc] = NULL;
    return cmd_import(argc, argv);
}

/* The last error message must contain `want`. */
static void assert_error(const char *want)
{
    if (!strstr(pv_errmsg(), want))
        fail_msg("error message \"%s\" lacks \"%s\"", pv_errmsg(), want);
}

/* Write bytes to dir/name; the path goes to `path` (PATH_MAX-ish). */
static void write_file(const char *dir, const char *name, const char *data,
                       size_t n, char *path, size_t size)
{
    FILE *f;

    snprintf(path, size, "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}
#define WRITE(dir, name, lit, path) write_file(dir, name, lit, sizeof lit - 1, path, sizeof path)

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    char *dir = strdup("/tmp/pv_import_XXXXXX");

    if (!dir || !mkdtemp(dir))
        return -1;
    if (pv_workspace_init(dir) != PV_OK) {
        fprintf(stderr, "pv_workspace_init: %s\n", pv_errmsg());
        return -1;
    }
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    char *dir = *state;

    nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
    return 0;
}

/* ---- the real data --------------------------------------------------------- */

static void test_airports(void **state)
{
    const char *dir = *state;
    struct table t;
    long r;

    assert_int_equal(import(dir, "airports", AIRPORTS, "iata"), 0);
    load_table(dir, "airports", &t);
    assert_int_equal(t.nrows, 3376);
    assert_int_equal(t.ncols, 7);
    assert_type(&t, "iata", PV_TEXT);
    assert_type(&t, "name", PV_TEXT);
    assert_type(&t, "city", PV_TEXT);
    assert_type(&t, "state", PV_TEXT);
    assert_type(&t, "country", PV_TEXT);
    assert_type(&t, "latitude", PV_REAL);
    assert_type(&t, "longitude", PV_REAL);
    r = find_row(&t, "iata", "DBN");
    assert_true(r >= 0);
    assert_text(&t, (size_t)r, "name", "W. H. \"Bud\" Barron");
    assert_text(&t, (size_t)r, "city", "Dublin");
    /* 00M,Thigpen,...,31.95376472,-89.23450472: the first data row. */
    r = find_row(&t, "iata", "00M");
    assert_true(r >= 0);
    assert_true(cell_at(&t, (size_t)r, (uint32_t)col_index(&t, "latitude"))->f == 31.95376472);
    assert_true(cell_at(&t, (size_t)r, (uint32_t)col_index(&t, "longitude"))->f == -89.23450472);
    table_free(&t);
}

/* Without --key the table gets the hidden generated key: still 7 columns. */
static void test_airports_hidden_key(void **state)
{
    const char *dir = *state;
    struct table t;

    assert_int_equal(import(dir, "airports", AIRPORTS, NULL), 0);
    load_table(dir, "airports", &t);
    assert_int_equal(t.nrows, 3376);
    assert_int_equal(t.ncols, 7);
    assert_true(find_row(&t, "iata", "DBN") >= 0);
    table_free(&t);
}

/* ---- type inference never changes a value ---------------------------------- */

static void test_inferred_types(void **state)
{
    const char *dir = *state;
    struct table t;
    long r;

    assert_int_equal(import(dir, "types", DATA("import_types.csv"), NULL), 0);
    load_table(dir, "types", &t);
    assert_int_equal(t.nrows, 2);
    assert_type(&t, "zip", PV_TEXT);        /* leading zeros */
    assert_type(&t, "count", PV_INTEGER);
    assert_type(&t, "ratio", PV_REAL);
    assert_type(&t, "price", PV_TEXT);      /* "1.50" */
    assert_type(&t, "label", PV_TEXT);
    assert_type(&t, "plus", PV_TEXT);       /* "+5" */
    assert_type(&t, "negzero", PV_TEXT);    /* "-0" */
    assert_type(&t, "thousands", PV_TEXT);  /* "1,000" */
    assert_type(&t, "exp", PV_TEXT);        /* "1e5" */
    assert_type(&t, "half", PV_TEXT);       /* ".5" */
    r = find_row(&t, "zip", "00501");
    assert_true(r >= 0);
    assert_text(&t, (size_t)r, "price", "1.50");
    assert_text(&t, (size_t)r, "plus", "+5");
    assert_text(&t, (size_t)r, "negzero", "-0");
    assert_text(&t, (size_t)r, "thousands", "1,000");
    assert_text(&t, (size_t)r, "exp", "1e5");
    assert_text(&t, (size_t)r, "half", ".5");
    assert_int_equal(cell_at(&t, (size_t)r, (uint32_t)col_index(&t, "count"))->i, 1);
    assert_true(cell_at(&t, (size_t)r, (uint32_t)col_index(&t, "ratio"))->f == 1.5);
    assert_true(find_row(&t, "zip", "02134") >= 0);
    table_free(&t);
}

static void test_infer_rules(void **state)
{
    pv_infer st;
    (void)state;

    pv_infer_init(&st);
    assert_int_equal(pv_infer_type(&st), PV_TEXT); /* nothing: TEXT */
    pv_infer_add(&st, "12", 2);
    pv_infer_add(&st, "-7", 2);
    assert_int_equal(pv_infer_type(&st), PV_INTEGER);
    pv_infer_add(&st, "0.5", 3);
    assert_int_equal(pv_infer_type(&st), PV_REAL);
    pv_infer_add(&st, "abc", 3);
    assert_int_equal(pv_infer_type(&st), PV_TEXT);

    /* An integer a double cannot hold keeps a REAL column TEXT. */
    pv_infer_init(&st);
    pv_infer_add(&st, "0.5", 3);
    pv_infer_add(&st, "9007199254740993", 16);
    assert_int_equal(pv_infer_type(&st), PV_TEXT);
    pv_infer_init(&st);
    pv_infer_add(&st, "9223372036854775807", 19);
    assert_int_equal(pv_infer_type(&st), PV_INTEGER);
    pv_infer_add(&st, "9223372036854775808", 19); /* out of range */
    assert_int_equal(pv_infer_type(&st), PV_TEXT);

    /* Infinity as export writes it ("Inf", "-Inf") is a REAL beside
     * numbers; among names, alone, or spelt otherwise it stays text. */
    pv_infer_init(&st);
    pv_infer_add(&st, "1.5", 3);
    pv_infer_add(&st, "Inf", 3);
    pv_infer_add(&st, "-Inf", 4);
    assert_int_equal(pv_infer_type(&st), PV_REAL);
    pv_infer_init(&st);
    pv_infer_add(&st, "Inf", 3);
    pv_infer_add(&st, "12", 2);
    assert_int_equal(pv_infer_type(&st), PV_REAL);
    pv_infer_init(&st);
    pv_infer_add(&st, "Inf", 3);
    pv_infer_add(&st, "-Inf", 4);
    assert_int_equal(pv_infer_type(&st), PV_TEXT);
    pv_infer_init(&st);
    pv_infer_add(&st, "Bob", 3);
    pv_infer_add(&st, "Inf", 3);
    assert_int_equal(pv_infer_type(&st), PV_TEXT);
    {
        static const char *const other[] = {"inf", "+Inf", "Infinity", "INF", "-inf", "NaN", "1e999"};
        for (size_t k = 0; k < sizeof other / sizeof other[0]; k++) {
            pv_infer_init(&st);
            pv_infer_add(&st, "0.5", 3);
            pv_infer_add(&st, other[k], strlen(other[k]));
            if (pv_infer_type(&st) != PV_TEXT)
                fail_msg("'%s' beside 0.5 is not TEXT", other[k]);
        }
    }
    /* ... while a REAL column reads every spelling of infinity */
    {
        static const char *const yes[] = {"Inf", "-Inf", "+inf", "INFINITY", "-Infinity", "1.5"};
        static const char *const no[] = {"NaN", "nan", "in", "infinit", "++inf", "inf ", "1e999", ""};
        double f;
        for (size_t k = 0; k < sizeof yes / sizeof yes[0]; k++)
            if (!pv_infer_real_parse(yes[k], strlen(yes[k]), &f) || (k < 5 && !isinf(f)) ||
                (f < 0) != (yes[k][0] == '-'))
                fail_msg("'%s' does not read as a REAL", yes[k]);
        for (size_t k = 0; k < sizeof no / sizeof no[0]; k++)
            if (pv_infer_real_parse(no[k], strlen(no[k]), &f))
                fail_msg("'%s' reads as a REAL", no[k]);
    }

    assert_true(pv_infer_int_fits_real(9007199254740992LL));
    assert_false(pv_infer_int_fits_real(9007199254740993LL));
    assert_false(pv_infer_int_fits_real(INT64_MAX));
    assert_true(pv_infer_int_fits_real(INT64_MIN));

    assert_true(pv_infer_real_exact("1.5", 3, NULL));
    assert_true(pv_infer_real_exact("20.0", 4, NULL));
    assert_true(pv_infer_real_exact("-89.23450472", 12, NULL));
    assert_false(pv_infer_real_exact("1.50", 4, NULL));
    assert_false(pv_infer_real_exact(".5", 2, NULL));
    assert_false(pv_infer_real_exact("1e5", 3, NULL));
    assert_false(pv_infer_real_exact("", 0, NULL));
    assert_false(pv_infer_real_exact("nan", 3, NULL));
    assert_false(pv_infer_real_exact(" 1.5", 4, NULL));
    /* Whatever pv_real_format writes is exact by definition. */
    {
        char buf[32];
        double vals[] = {0.1, -2.75, 1e300, 123456.789, 5e-324};
        for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
            int n = pv_real_format(vals[i], buf);
            double back = 0;
            assert_true(pv_infer_real_exact(buf, (size_t)n, &back));
            assert_true(back == vals[i]);
        }
    }
}

/* ---- NULL and '' ------------------------------------------------------------ */

static void test_null_vs_empty(void **state)
{
    const char *dir = *state;
    struct table t;

    assert_int_equal(import(dir, "n", DATA("import_nulls.csv"), "id"), 0);
    load_table(dir, "n", &t);
    assert_int_equal(t.nrows, 3);
    assert_type(&t, "id", PV_INTEGER);
    assert_type(&t, "name", PV_TEXT);
    assert_type(&t, "note", PV_TEXT); /* '' and NULL only */
    /* id,name,note / 1,,"" / 2,"", / 3,plain, */
    assert_sql_null(&t, 0, "name");
    assert_text(&t, 0, "note", "");
    assert_text(&t, 1, "name", "");
    assert_sql_null(&t, 1, "note");
    assert_text(&t, 2, "name", "plain");
    assert_sql_null(&t, 2, "note");
    table_free(&t);
}

static void test_all_null_column_is_text(void **state)
{
    const char *dir = *state;
    char path[512];
    struct table t;

    WRITE(dir, "x.csv", "id,empty\n1,\n2,\n", path);
    assert_int_equal(import(dir, "x", path, NULL), 0);
    load_table(dir, "x", &t);
    assert_type(&t, "id", PV_INTEGER);
    assert_type(&t, "empty", PV_TEXT);
    table_free(&t);
}

/* ---- quoting ---------------------------------------------------------------- */

static void test_multiline_and_quotes(void **state)
{
    const char *dir = *state;
    struct table t;

    assert_int_equal(import(dir, "m", DATA("import_multiline.csv"), "id"), 0);
    load_table(dir, "m", &t);
    assert_int_equal(t.nrows, 5);
    assert_text(&t, 0, "text", "two\nlines");
    assert_text(&t, 1, "text", "say \"hi\", ok");
    assert_text(&t, 2, "text", "a,b");
    assert_text(&t, 3, "text", "three\n\nlines");
    assert_text(&t, 4, "text", "last");
    table_free(&t);
}

static void test_unicode(void **state)
{
    const char *dir = *state;
    struct table t;
    long r;

    assert_int_equal(import(dir, "u", DATA("import_unicode.csv"), "city"), 0);
    load_table(dir, "u", &t);
    assert_int_equal(t.nrows, 4);
    assert_true((r = find_row(&t, "city", "Z\xc3\xbcrich")) >= 0);
    assert_text(&t, (size_t)r, "country", "CH");
    assert_true(find_row(&t, "city", "\xe6\x9d\xb1\xe4\xba\xac") >= 0);
    assert_true(find_row(&t, "city", "S\xc3\xa3o Paulo") >= 0);
    assert_true(find_row(&t, "city", "\xf0\x9f\x99\x82 smile") >= 0);
    table_free(&t);
}

static void test_crlf_and_bom(void **state)
{
    const char *dir = *state;
    char path[512];
    struct table t;

    WRITE(dir, "crlf.csv",
          "\xef\xbb\xbfid,name\r\n1,one\r\n2,\"two\r\nlines\"\r\n3,three", path);
    assert_int_equal(import(dir, "c", path, "id"), 0);
    load_table(dir, "c", &t);
    assert_string_equal(t.names[0], "id"); /* not "\xef\xbb\xbfid" */
    assert_int_equal(t.nrows, 3);
    assert_type(&t, "id", PV_INTEGER);
    assert_text(&t, 0, "name", "one");
    assert_text(&t, 1, "name", "two\r\nlines"); /* kept as written */
    assert_text(&t, 2, "name", "three");        /* no final newline */
    table_free(&t);
}

static void test_long_field(void **state)
{
    const char *dir = *state;
    size_t n = 300 * 1000;
    char *csv = malloc(n + 64), path[512];
    struct table t;
    size_t len;

    assert_non_null(csv);
    len = (size_t)sprintf(csv, "id,big\n1,\"");
    for (size_t i = 0; i < n; i++)
        csv[len++] = "ab\"\n,x"[i % 6] == '"' ? 'q' : "ab\"\n,x"[i % 6];
    len += (size_t)sprintf(csv + len, "\"\n2,small\n");
    write_file(dir, "long.csv", csv, len, path, sizeof path);
    assert_int_equal(import(dir, "l", path, "id"), 0);
    load_table(dir, "l", &t);
    assert_int_equal(t.nrows, 2);
    assert_int_equal(cell_at(&t, 0, 1)->n, n);
    assert_memory_equal(cell_at(&t, 0, 1)->s, csv + 10, n);
    assert_text(&t, 1, "big", "small");
    table_free(&t);
    free(csv);
}

static void test_stdin(void **state)
{
    const char *dir = *state;
    int saved = dup(STDIN_FILENO), fd = open(DATA("import_nulls.csv"), O_RDONLY);
    struct table t;
    int rc;

    assert_true(saved >= 0 && fd >= 0);
    assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    rc = import(dir, "s", "-", "id");
    dup2(saved, STDIN_FILENO);
    close(saved);
    assert_int_equal(rc, 0);
    load_table(dir, "s", &t);
    assert_int_equal(t.nrows, 3);
    table_free(&t);
}

/* ---- errors leave the workspace unchanged ------------------------------------ */

static void test_ragged_row(void **state)
{
    const char *dir = *state;
    char path[512];
    struct table t;

    /* A committed import first; the failing one must not disturb it. */
    WRITE(dir, "good.csv", "id,name\n10,ten\n11,eleven\n", path);
    assert_int_equal(import(dir, "t", path, "id"), 0);

    assert_int_equal(import(dir, "t", DATA("import_ragged.csv"), "id"), 1);
    /* Record 1 spans lines 2-3, so the ragged record starts on line 5. */
    assert_error("import_ragged.csv:5: expected 2 fields, got 3");
    load_table(dir, "t", &t);
    assert_int_equal(t.nrows, 2);
    assert_text(&t, 0, "name", "ten");
    table_free(&t);

    /* Into a new table: the table is not even created. */
    assert_int_equal(import(dir, "r", DATA("import_ragged.csv"), NULL), 1);
    assert_false(table_exists(dir, "r"));
}

static void test_invalid_utf8(void **state)
{
    const char *dir = *state;
    char path[512];

    /* "id,name\n" is bytes 0-7, "1,ok\n" 8-12, then 2 , " a b \xff: 18. */
    WRITE(dir, "bad.csv", "id,name\n1,ok\n2,\"ab\xff\"\n", path);
    assert_int_equal(import(dir, "b", path, NULL), 1);
    assert_error("bad.csv:3: column 2 (\"name\"): invalid UTF-8 at byte offset 18");
    assert_false(table_exists(dir, "b"));

    /* A quote written twice shifts the offset in the input. */
    WRITE(dir, "bad2.csv", "id,name\n1,\"x\n\"\"\xc3\"\n", path);
    assert_int_equal(import(dir, "b", path, NULL), 1);
    assert_error("bad2.csv:2: column 2 (\"name\"): invalid UTF-8 at byte offset 15");

    WRITE(dir, "bad3.csv", "id,n\xe9me\n1,2\n", path); /* Latin-1 header */
    assert_int_equal(import(dir, "b", path, NULL), 1);
    assert_error("bad3.csv:1: column 2: invalid UTF-8 at byte offset 4");
}

static void test_duplicate_key(void **state)
{
    const char *dir = *state;

    assert_int_equal(import(dir, "d", DATA("import_dupkey.csv"), "code"), 1);
    assert_error("import_dupkey.csv:6: duplicate primary key 'ABC' (first at line 2)");
    assert_false(table_exists(dir, "d"));
}

static void test_duplicate_composite_key(void **state)
{
    const char *dir = *state;
    char path[512];

    WRITE(dir, "k.csv", "a,b,v\n1,x,p\n1,y,q\n2,x,r\n1,y,s\n", path);
    assert_int_equal(import(dir, "k", path, "a,b"), 1);
    assert_error("k.csv:5: duplicate primary key (1, 'y') (first at line 3)");
    assert_int_equal(import(dir, "k", path, "b,v"), 0);
}

static void test_unterminated_quote(void **state)
{
    const char *dir = *state;

    assert_int_equal(import(dir, "q", DATA("import_unterminated.csv"), NULL), 1);
    assert_error("import_unterminated.csv:3: unterminated quoted field");
    assert_false(table_exists(dir, "q"));
}

static void test_bad_quotes(void **state)
{
    const char *dir = *state;
    char path[512];

    WRITE(dir, "q1.csv", "a,b\n1,5'10\"\n", path);
    assert_int_equal(import(dir, "q", path, NULL), 1);
    assert_error("q1.csv:2: column 2 (\"b\"): quote character in an unquoted field");
    WRITE(dir, "q2.csv", "a,b\n1,\"x\" y\n", path);
    assert_int_equal(import(dir, "q", path, NULL), 1);
    assert_error("q2.csv:2: column 2 (\"b\"): unexpected character after closing quote");
}

static void test_header_errors(void **state)
{
    const char *dir = *state;
    char path[512];

    WRITE(dir, "h1.csv", "id,,name\n1,2,3\n", path);
    assert_int_equal(import(dir, "h", path, NULL), 1);
    assert_error("h1.csv:1: header column 2 is empty");
    WRITE(dir, "h2.csv", "id,Name,NAME\n1,2,3\n", path);
    assert_int_equal(import(dir, "h", path, NULL), 1);
    assert_error("h2.csv:1: header column 3 (\"NAME\"): duplicates header column 2");
    WRITE(dir, "h3.csv", "", path);
    assert_int_equal(import(dir, "h", path, NULL), 1);
    assert_error("h3.csv: empty file");
    assert_false(table_exists(dir, "h"));

    /* A header alone makes an empty table of TEXT columns. */
    WRITE(dir, "h4.csv", "a,b\n", path);
    assert_int_equal(import(dir, "h", path, NULL), 0);
    assert_true(table_exists(dir, "h"));
}

/* ---- into an existing table ---------------------------------------------- */

static void test_existing_table(void **state)
{
    const char *dir = *state;
    char path[512];
    struct table t;

    WRITE(dir, "e1.csv", "id,name,score\n1,one,10\n", path);
    assert_int_equal(import(dir, "e", path, "id"), 0);

    /* Other order, other case, a column missing: it gets NULL. */
    WRITE(dir, "e2.csv", "SCORE,Id\n20,2\n30,3\n", path);
    assert_int_equal(import(dir, "e", path, NULL), 0);
    load_table(dir, "e", &t);
    assert_int_equal(t.nrows, 3);
    assert_sql_null(&t, 1, "name");
    assert_int_equal(cell_at(&t, 2, (uint32_t)col_index(&t, "score"))->i, 30);
    table_free(&t);

    WRITE(dir, "e3.csv", "id,bogus\n4,x\n", path);
    assert_int_equal(import(dir, "e", path, NULL), 1);
    assert_error("e3.csv:1: header column 2 (\"bogus\"): table 'e' has no such column");

    WRITE(dir, "e4.csv", "id,score\n4,5\n5,abc\n", path);
    assert_int_equal(import(dir, "e", path, NULL), 1);
    assert_error("e4.csv:3: column 2 (\"score\"): 'abc' is not a valid INTEGER");

    /* below INT64_MIN: refused like the value above INT64_MAX (it was
     * rounded to INT64_MIN through a double and stored) */
    WRITE(dir, "e6.csv", "id,score\n4,-9223372036854775809\n", path);
    assert_int_equal(import(dir, "e", path, NULL), 1);
    assert_error("e6.csv:2: column 2 (\"score\"): '-9223372036854775809' is not a valid INTEGER");
    WRITE(dir, "e7.csv", "id,score\n4,2.0000000000000001\n", path);
    assert_int_equal(import(dir, "e", path, NULL), 1);
    assert_error("e7.csv:2: column 2 (\"score\"): '2.0000000000000001' is not a valid INTEGER");

    WRITE(dir, "e5.csv", "id,score\n4,\"\"\n", path);
    assert_int_equal(import(dir, "e", path, NULL), 1);
    assert_error("e5.csv:2: column 2 (\"score\"): '' (a quoted empty field) is not a valid INTEGER");

    WRITE(dir, "e6.csv", "id,name\n,x\n", path);
    assert_int_equal(import(dir, "e", path, NULL), 1);
    assert_error("e6.csv:2: column 1 (\"id\"): an empty field is NULL");

    /* A key already in the table: pv_db_insert refuses, nothing written. */
    WRITE(dir, "e7.csv", "id,name\n9,nine\n1,again\n", path);
    assert_int_equal(import(dir, "e", path, NULL), 1);

    WRITE(dir, "e8.csv", "id\n8\n", path);
    assert_int_equal(import(dir, "e", path, "name"), 1);
    assert_error("differs from the primary key");
    assert_int_equal(import(dir, "e", path, "id"), 0);

    load_table(dir, "e", &t);
    assert_int_equal(t.nrows, 4);
    table_free(&t);
}

/* ---- arguments -------------------------------------------------------------- */

static void test_usage(void **state)
{
    const char *dir = *state;
    char *none[] = {"import", NULL};
    char *bogus[] = {"import", "--bogus", "t", "f.csv", NULL};
    char *extra[] = {"import", "t", "f.csv", "g.csv", NULL};
    char *nokey[] = {"import", "t", "f.csv", "--key", NULL};

    assert_int_equal(cmd_import(1, none), 2);
    assert_int_equal(cmd_import(4, bogus), 2);
    assert_int_equal(cmd_import(4, extra), 2);
    assert_int_equal(cmd_import(4, nokey), 2);

    assert_int_equal(import(dir, "1bad", DATA("import_nulls.csv"), NULL), 1);
    assert_error("invalid table name '1bad'");
    assert_int_equal(import(dir, "ok", DATA("import_nulls.csv"), "nope"), 1);
    assert_error("--key: no column \"nope\"");
    assert_int_equal(import(dir, "ok", DATA("import_nulls.csv"), "id,id"), 1);
    assert_error("named twice");
    assert_int_equal(import(dir, "ok", DATA("no_such_file.csv"), NULL), 1);
    assert_error("no_such_file.csv");
    assert_false(table_exists(dir, "ok"));
}

/* ---- the reader on its own ---------------------------------------------------- */

static void test_reader_positions(void **state)
{
    static const char csv[] =
        "a,b\n"            /* line 1 */
        "\"x\ny\", s p \n" /* lines 2-3, spaces kept */
        "\n\r\n"           /* blank lines 4-5, skipped */
        "1,\r"             /* line 6, lone CR ends a line */
        ",\"\"";           /* line 7, no final newline */
    pv_csv_reader *r = NULL;
    pv_csv_record rec;
    (void)state;

    assert_int_equal(pv_csv_open_mem(csv, sizeof csv - 1, "mem", 0, &r), 0);
    assert_int_equal(pv_csv_next(r, &rec), 1);
    assert_int_equal(rec.line, 1);
    assert_int_equal(pv_csv_next(r, &rec), 1);
    assert_int_equal(rec.line, 2);
    assert_int_equal(rec.offset, 4);
    assert_string_equal(rec.fields[0].p, "x\ny");
    assert_true(rec.fields[0].quoted);
    assert_string_equal(rec.fields[1].p, " s p ");
    assert_false(rec.fields[1].quoted);
    assert_int_equal(rec.fields[1].offset, 10);
    assert_int_equal(pv_csv_next(r, &rec), 1);
    assert_int_equal(rec.line, 6);
    assert_string_equal(rec.fields[0].p, "1");
    assert_null(rec.fields[1].p);
    assert_int_equal(pv_csv_next(r, &rec), 1);
    assert_int_equal(rec.line, 7);
    assert_null(rec.fields[0].p);
    assert_non_null(rec.fields[1].p);
    assert_int_equal(rec.fields[1].n, 0);
    assert_true(rec.fields[1].quoted);
    assert_int_equal(pv_csv_next(r, &rec), 0);
    assert_int_equal(pv_csv_next(r, &rec), 0);
    pv_csv_close(r);
}

static void test_reader_errors_are_sticky(void **state)
{
    static const char csv[] = "a,b\n1\n2,3\n";
    pv_csv_reader *r = NULL;
    pv_csv_record rec;
    (void)state;

    assert_int_equal(pv_csv_open_mem(csv, sizeof csv - 1, "s.csv", 0, &r), 0);
    assert_int_equal(pv_csv_next(r, &rec), 1);
    assert_int_equal(pv_csv_next(r, &rec), PV_EINPUT);
    assert_error("s.csv:2: expected 2 fields, got 1");
    assert_int_equal(pv_csv_next(r, &rec), PV_EINPUT);
    pv_csv_close(r);

    assert_int_equal(pv_csv_open_mem("a,b,c\n", 6, "m.csv", 2, &r), 0);
    assert_int_equal(pv_csv_next(r, &rec), PV_ELIMIT);
    pv_csv_close(r);
    pv_csv_close(NULL);
}

static void test_utf8_prefix(void **state)
{
    (void)state;
    assert_int_equal(pv_csv_utf8_prefix("abc", 3, 10), 3);
    assert_int_equal(pv_csv_utf8_prefix("abcdef", 6, 4), 4);
    /* "a" + U+00FC (2 bytes) + "b": cutting at 2 would split the ü. */
    assert_int_equal(pv_csv_utf8_prefix("a\xc3\xbc" "b", 4, 2), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_infer_rules),
        cmocka_unit_test(test_reader_positions),
        cmocka_unit_test(test_reader_errors_are_sticky),
        cmocka_unit_test(test_utf8_prefix),
        cmocka_unit_test_setup_teardown(test_airports, setup, teardown),
        cmocka_unit_test_setup_teardown(test_airports_hidden_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inferred_types, setup, teardown),
        cmocka_unit_test_setup_teardown(test_null_vs_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_all_null_column_is_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_multiline_and_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unicode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crlf_and_bom, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_field, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stdin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ragged_row, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_utf8, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicate_composite_key, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unterminated_quote, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_quotes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_header_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_existing_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_usage, setup, teardown),
    };
    return cmocka_run_group_tests_name("import", tests, NULL, NULL);
}
