/*
 * test_export.c: `pvdev export` on real workspaces, the NDJSON reader, NDJSON
 * import (cmd_import --format ndjson) and typed type inference.
 *
 * Tests needing jansson are skipped, loudly, when pvdev was built without it.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "infer.h"
#include "ndjson_read.h"
#include "pv.h"
#include "util.h"
#include "value.h"

#ifndef PV_SOURCE_DIR
#define PV_SOURCE_DIR "."
#endif
#define AIRPORTS PV_SOURCE_DIR "/examples/data/airports.csv"
#define NASTY PV_SOURCE_DIR "/tests/data/export_nasty.csv"

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(p);
}

static int setup(void **state)
{
    char *dir = strdup("/tmp/pv_export_XXXXXX");

    if (!dir || !mkdtemp(dir) || pv_workspace_init(dir) != PV_OK)
        return -1;
    *state = dir;
    return 0;
}

static int teardown(void **state)
{
    nftw(*state, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(*state);
    return 0;
}

static int run(int (*cmd)(int, char **), int argc, ...)
{
    char *argv[16];
    va_list ap;

    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    argv[argc] = NULL;
    return cmd(argc, argv);
}

static char *slurp(const char *path, size_t *n)
{
    char *p = NULL;
    size_t len = 0;

    if (pv_read_file(path, (size_t)1 << 30, &p, &len) != PV_OK)
        fail_msg("cannot read %s: %s", path, pv_errmsg());
    if (n)
        *n = len;
    return p;
}

static void assert_error(const char *want)
{
    if (!strstr(pv_errmsg(), want))
        fail_msg("error message \"%s\" lacks \"%s\"", pv_errmsg(), want);
}

static void need_jansson(void)
{
    if (!pv_ndjson_supported()) {
        print_message("SKIP: pvdev built without jansson (NDJSON)\n");
        skip();
    }
}

/* ---- export ----------------------------------------------------------------- */

/* The first lines of the airports export, exactly. */
static void test_export_airports_csv(void **state)
{
    const char *dir = *state;
    char out[256], *text;
    size_t n;

    snprintf(out, sizeof out, "%s/a.csv", dir);
    assert_int_equal(run(cmd_import, 6, "import", "-C", dir, "--key=iata", "airports", AIRPORTS), 0);
    assert_int_equal(run(cmd_export, 6, "export", "-C", dir, "-o", out, "airports"), 0);
    text = slurp(out, &n);
    assert_memory_equal(text,
        "iata,name,city,state,country,latitude,longitude\n"
        "00M,Thigpen,\"Bay Springs\",MS,USA,31.95376472,-89.23450472\n", 105);
    /* 3376 rows and the header, each line ending in LF. */
    {
        size_t lines = 0;
        for (size_t i = 0; i < n; i++)
            lines += text[i] == '\n';
        assert_int_equal(lines, 3377);
        assert_int_equal(text[n - 1], '\n');
    }
    free(text);
}

/* CSV export of the nasty fixture re-imports to the same bytes. */
static void test_export_nasty_roundtrip(void **state)
{
    const char *dir = *state;
    char a[256], b[256], *x, *y;
    size_t nx, ny;

    snprintf(a, sizeof a, "%s/n1.csv", dir);
    snprintf(b, sizeof b, "%s/n2.csv", dir);
    assert_int_equal(run(cmd_import, 6, "import", "-C", dir, "--key=id", "n", NASTY), 0);
    assert_int_equal(run(cmd_export, 6, "export", "-C", dir, "-o", a, "n"), 0);
    assert_int_equal(run(cmd_import, 6, "import", "-C", dir, "--key=id", "m", a), 0);
    assert_int_equal(run(cmd_export, 6, "export", "-C", dir, "-o", b, "m"), 0);
    x = slurp(a, &nx);
    y = slurp(b, &ny);
    assert_int_equal(nx, ny);
    assert_memory_equal(x, y, nx);
    /* NULL stays an empty field, '' stays "". */
    assert_non_null(strstr(x, "\n1,\"quote \"\" inside\",\"\",0,0.1,\n"));
    assert_non_null(strstr(x, "\n5,,+5,,1200.0,"));
    free(x);
    free(y);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    assert_non_null(d);
    while ((e = readdir(d)))
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Errors: nothing written, no temporary file left, usage errors are 2. */
static void test_export_errors(void **state)
{
    const char *dir = *state;
    char out[256];
    int before = count_entries(dir);

    snprintf(out, sizeof out, "%s/x.csv", dir);
    assert_int_equal(run(cmd_export, 6, "export", "-C", dir, "-o", out, "nosuch"), PVDEV_EXIT_FAIL);
    assert_int_equal(count_entries(dir), before);
    assert_int_equal(run(cmd_export, 7, "export", "-C", dir, "-o", out, "--query",
                         "SELECT nosuch FROM nothing"), PVDEV_EXIT_FAIL);
    assert_int_equal(count_entries(dir), before);
    assert_int_equal(run(cmd_export, 3, "export", "-C", dir), PVDEV_EXIT_USAGE);
    assert_int_equal(run(cmd_export, 5, "export", "-C", dir, "--format=xml", "t"), PVDEV_EXIT_USAGE);
    assert_int_equal(run(cmd_export, 6, "export", "-C", dir, "--query", "SELECT 1", "t"), PVDEV_EXIT_USAGE);
    snprintf(out, sizeof out, "%s/no/such/dir/x.csv", dir);
    assert_int_equal(run(cmd_export, 7, "export", "-C", dir, "-o", out, "--query", "SELECT 1"),
                     PVDEV_EXIT_FAIL);
}

/* An empty result still has its header; --query's columns name it. */
static void test_export_query_and_empty(void **state)
{
    const char *dir = *state;
    char out[256], *text;

    snprintf(out, sizeof out, "%s/q.csv", dir);
    assert_int_equal(run(cmd_export, 7, "export", "-C", dir, "-o", out, "--query",
                         "SELECT 1 AS \"a b\", NULL AS n, '' AS e, 2.5 AS r WHERE 0"), 0);
    text = slurp(out, NULL);
    assert_string_equal(text, "\"a b\",n,e,r\n");
    free(text);
    assert_int_equal(run(cmd_export, 7, "export", "-C", dir, "-o", out, "--query",
                         "SELECT 1 AS \"a b\", NULL AS n, '' AS e, 2.5 AS r"), 0);
    text = slurp(out, NULL);
    assert_string_equal(text, "\"a b\",n,e,r\n1,,\"\",2.5\n");
    free(text);
}

/* ---- NDJSON ---------------------------------------------------------------- */

static void test_ndjson_reader(void **state)
{
    static const char in[] =
        "\xEF\xBB\xBF{\"i\":-9223372036854775808,\"r\":1.50,\"s\":\"x\\u00e9\\n\",\"n\":null}\n"
        "\n"
        "  \r\n"
        "{\"b\":true,\"f\":false,\"blob\":{\"hex\":\"00Ff\"},\"o\":{\"hex\":\"0\"},\"a\":[1,{\"k\":2.5}]}\r\n"
        "{}";
    pv_ndjson_reader *r = NULL;
    pv_ndjson_record rec;

    (void)state;
    need_jansson();
    assert_int_equal(pv_ndjson_open_mem(in, sizeof in - 1, "m.ndjson", &r), 0);
    assert_int_equal(pv_ndjson_next(r, &rec), 1);
    assert_int_equal(rec.line, 1);
    assert_int_equal(rec.nmembers, 4);
    assert_string_equal(rec.members[0].key.p, "i");
    assert_int_equal(rec.members[0].value.type, PV_INTEGER);
    assert_true(rec.members[0].value.u.i == INT64_MIN);
    assert_int_equal(rec.members[1].value.type, PV_REAL);
    assert_true(rec.members[1].value.u.f == 1.5);
    assert_int_equal(rec.members[2].value.type, PV_TEXT);
    assert_int_equal(rec.members[2].value.u.s.n, 4);
    assert_memory_equal(rec.members[2].value.u.s.p, "x\xc3\xa9\n", 4);
    assert_int_equal(rec.members[3].value.type, PV_NULL);
    assert_int_equal(pv_ndjson_next(r, &rec), 1);
    assert_int_equal(rec.line, 4);
    assert_int_equal(rec.nmembers, 5);
    assert_int_equal(rec.members[0].value.type, PV_BOOLEAN);
    assert_int_equal(rec.members[0].value.u.i, 1);
    assert_int_equal(rec.members[1].value.u.i, 0);
    assert_int_equal(rec.members[2].value.type, PV_BLOB);
    assert_int_equal(rec.members[2].value.u.s.n, 2);
    assert_memory_equal(rec.members[2].value.u.s.p, "\x00\xff", 2);
    /* Not a blob (odd digits): kept as JSON text, as are arrays. */
    assert_int_equal(rec.members[3].value.type, PV_TEXT);
    assert_string_equal(rec.members[3].value.u.s.p, "{\"hex\":\"0\"}");
    assert_string_equal(rec.members[4].value.u.s.p, "[1,{\"k\":2.5}]");
    assert_int_equal(pv_ndjson_next(r, &rec), 1);
    assert_int_equal(rec.line, 5);
    assert_int_equal(rec.nmembers, 0);
    assert_int_equal(pv_ndjson_next(r, &rec), 0);
    pv_ndjson_close(r);
}

static void expect_reader_error(const char *in, int code, const char *msg)
{
    pv_ndjson_reader *r = NULL;
    pv_ndjson_record rec;
    int rc;

    assert_int_equal(pv_ndjson_open_mem(in, strlen(in), "e.ndjson", &r), 0);
    while ((rc = pv_ndjson_next(r, &rec)) == 1)
        ;
    if (rc != code)
        fail_msg("'%s': got %d (%s), want %d", in, rc, pv_errmsg(), code);
    assert_error(msg);
    assert_int_equal(pv_ndjson_next(r, &rec), code);  /* sticky */
    pv_ndjson_close(r);
}

/* \u0000 in a string is a NUL byte of the value (pvdev export writes a TEXT
 * holding one so); it was refused. In a key it is still an error. */
static void test_ndjson_reader_nul(void **state)
{
    static const char in[] = "{\"a\":\"x\\u0000y\",\"o\":[\"\\u0000\"]}\n";
    pv_ndjson_reader *r = NULL;
    pv_ndjson_record rec;

    (void)state;
    need_jansson();
    assert_int_equal(pv_ndjson_open_mem(in, sizeof in - 1, "n.ndjson", &r), 0);
    assert_int_equal(pv_ndjson_next(r, &rec), 1);
    assert_int_equal(rec.members[0].value.type, PV_TEXT);
    assert_int_equal(rec.members[0].value.u.s.n, 3);
    assert_memory_equal(rec.members[0].value.u.s.p, "x\0y", 3);
    /* nested: kept as its JSON text, the NUL escaped again */
    assert_string_equal(rec.members[1].value.u.s.p, "[\"\\u0000\"]");
    assert_int_equal(pv_ndjson_next(r, &rec), 0);
    pv_ndjson_close(r);
    expect_reader_error("{\"a\\u0000\":1}\n", PV_EINPUT, "e.ndjson:1:");
}

static void test_ndjson_reader_errors(void **state)
{
    (void)state;
    need_jansson();
    expect_reader_error("{\"a\":1}\n{\"a\":1,}\n", PV_EINPUT, "e.ndjson:2:8: string or '}' expected near '}'");
    expect_reader_error("{\"a\":1}\n\n[1]\n", PV_EINPUT, "e.ndjson:3: expected a JSON object, got an array");
    expect_reader_error("\"x\"\n", PV_EINPUT, "e.ndjson:1: expected a JSON object, got a string");
    expect_reader_error("{\"a\":1} {\"a\":2}\n", PV_EINPUT, "e.ndjson:1:");
    expect_reader_error("{\"a\":1,\"a\":2}\n", PV_EINPUT, "duplicate object key");
    expect_reader_error("{\"a\":\"\xff\"}\n", PV_EINPUT, "e.ndjson:1:");
    expect_reader_error("{\"a\":9223372036854775808}\n", PV_ELIMIT, "too big integer");
    expect_reader_error("{\"a\":1}\n{\"a\"", PV_EINPUT, "e.ndjson:2:");
}

/* +-Inf: NDJSON export writes 1e999 and -1e999 (like sqlite3); jansson
 * refused them as "real number overflow". A member whose value is a real
 * beyond a double's range is +-Inf; the members keep their order and the
 * others their values, also after a line that had one. */
static void test_ndjson_reader_infinity(void **state)
{
    static const char in[] =
        "{\"k\":1,\"x\":1e999,\"s\":\"1e999\",\"1e999\":-2.5E+400,\"o\":{\"a\":1},\"y\":-1e999}\n"
        "{\"k\":2,\"x\":1e-999,\"y\":0.5}\n";
    pv_ndjson_reader *r = NULL;
    pv_ndjson_record rec;

    (void)state;
    need_jansson();
    assert_int_equal(pv_ndjson_open_mem(in, sizeof in - 1, "inf.ndjson", &r), 0);
    assert_int_equal(pv_ndjson_next(r, &rec), 1);
    assert_int_equal(rec.nmembers, 6);
    assert_int_equal(rec.members[0].value.type, PV_INTEGER);
    assert_string_equal(rec.members[1].key.p, "x");
    assert_int_equal(rec.members[1].value.type, PV_REAL);
    assert_true(isinf(rec.members[1].value.u.f) && rec.members[1].value.u.f > 0);
    assert_int_equal(rec.members[2].value.type, PV_TEXT);  /* a string stays one */
    assert_string_equal(rec.members[2].value.u.s.p, "1e999");
    assert_string_equal(rec.members[3].key.p, "1e999");
    assert_true(isinf(rec.members[3].value.u.f) && rec.members[3].value.u.f < 0);
    assert_string_equal(rec.members[4].value.u.s.p, "{\"a\":1}");
    assert_string_equal(rec.members[5].key.p, "y");
    assert_true(isinf(rec.members[5].value.u.f) && rec.members[5].value.u.f < 0);
    assert_int_equal(pv_ndjson_next(r, &rec), 1);
    assert_int_equal(rec.members[1].value.type, PV_REAL);  /* underflow: 0 */
    assert_true(rec.members[1].value.u.f == 0);
    assert_true(rec.members[2].value.u.f == 0.5);
    assert_int_equal(pv_ndjson_next(r, &rec), 0);
    pv_ndjson_close(r);
    /* Still errors: an integer beyond int64, a number out of range inside
     * nested JSON (kept as text jansson writes), JSON that is bad elsewhere
     * on the line, and not JSON's grammar. */
    expect_reader_error("{\"a\":1e999,\"b\":99999999999999999999}\n", PV_ELIMIT, "too big integer");
    expect_reader_error("{\"a\":[1e999]}\n", PV_EINPUT, "real number overflow");
    expect_reader_error("{\"a\":1e999,\"b\":tru}\n", PV_EINPUT, "invalid token");
    expect_reader_error("{\"a\":01e999}\n", PV_EINPUT, "e.ndjson:1:");
    expect_reader_error("[1e999]\n", PV_EINPUT, "e.ndjson:1:");
}

/* Where bad JSON is: the line, and the column (1-based, in characters)
 * where the token at fault starts. jansson's column is where it stopped
 * reading, the end of that token ("column 37" for a number starting at 19),
 * and "column 0" after the line break when an object went on to the next
 * line. */
static void test_ndjson_reader_positions(void **state)
{
    (void)state;
    need_jansson();
    expect_reader_error("{\"a\":1}\n{\"iata\":\"ZZ2\",\"n\":9223372036854775808}\n", PV_ELIMIT,
                        "e.ndjson:2:19: too big integer");
    expect_reader_error("{\"a\":123456789012345678901234567890}\n", PV_ELIMIT,
                        "e.ndjson:1:6: too big integer");
    expect_reader_error("{\"a\":1,\"b\":tru}\n", PV_EINPUT, "e.ndjson:1:12: invalid token near 'tru'");
    expect_reader_error("\xEF\xBB\xBF{\"a\":tru}\n", PV_EINPUT, "e.ndjson:1:6: invalid token");
    /* characters, not bytes: the 0 of 01 is the 19th character, 20th byte */
    expect_reader_error("{\"a\":\"h\xc3\xa9llo\", \"b\":01}\n", PV_EINPUT, "e.ndjson:1:19: invalid token");
    expect_reader_error("{\"a\":1,\"a\":2}\n", PV_EINPUT, "e.ndjson:1:8: duplicate object key");
    expect_reader_error("{\"a\":1} x\n", PV_EINPUT, "e.ndjson:1:9: end of file expected near 'x'");
    expect_reader_error("{\"a\":\"ab\\qc\"}\n", PV_EINPUT, "e.ndjson:1:6: invalid escape");
    expect_reader_error("{\"a\" 1}\n", PV_EINPUT, "e.ndjson:1:6: ':' expected near '1'");
    /* jansson's token, as its message names it: 1.5 is a number, then '.' */
    expect_reader_error("{\"a\":1.5.2}\n", PV_EINPUT, "e.ndjson:1:9: '}' expected near '.'");
    expect_reader_error("{\"k\":1,\"a\":[1e999]}\n", PV_EINPUT, "e.ndjson:1:13: real number overflow");
    expect_reader_error("{\"k\":1e999,\"a\":fals}\n", PV_EINPUT, "e.ndjson:1:16: invalid token near 'fals'");
    /* an object over two lines: named by its first line, no "column 0" */
    expect_reader_error("{\"a\":1}\n{\"a\":1,\n\"b\":2}\n", PV_EINPUT,
                        "e.ndjson:2: the line ends inside a JSON object: NDJSON needs each object on one line");
    expect_reader_error("  {\"a\":[1,\n2]}\n", PV_EINPUT, "e.ndjson:1: the line ends inside a JSON object");
    expect_reader_error("{\"a\":\"abc\ndef\"}\n", PV_EINPUT,
                        "e.ndjson:1:6: a line break inside a string: NDJSON needs each object on one line");
}

static void test_infer_typed(void **state)
{
    static const struct { pv_value v[3]; int n; int want; } cases[] = {
        {{{PV_INTEGER, {.i = 1}}, {PV_INTEGER, {.i = -5}}}, 2, PV_INTEGER},
        {{{PV_INTEGER, {.i = 1}}, {PV_REAL, {.f = 0.5}}}, 2, PV_REAL},
        {{{PV_INTEGER, {.i = 9007199254740993LL}}, {PV_REAL, {.f = 0.5}}}, 2, PV_TEXT},
        {{{PV_BOOLEAN, {.i = 1}}, {PV_NULL, {.i = 0}}}, 2, PV_BOOLEAN},
        {{{PV_BOOLEAN, {.i = 1}}, {PV_INTEGER, {.i = 1}}}, 2, PV_TEXT},
        {{{PV_TEXT, {.s = {"5", 1}}}}, 1, PV_TEXT},
        {{{PV_TEXT, {.s = {"x", 1}}}, {PV_INTEGER, {.i = 1}}}, 2, PV_TEXT},
        {{{PV_BLOB, {.s = {"x", 1}}}}, 1, PV_BLOB},
        {{{PV_BLOB, {.s = {"x", 1}}}, {PV_TEXT, {.s = {"x", 1}}}}, 2, -1},
        {{{PV_NULL, {.i = 0}}}, 1, PV_TEXT},
    };

    (void)state;
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        pv_infer st;
        pv_infer_init(&st);
        for (int i = 0; i < cases[k].n; i++)
            pv_infer_add_value(&st, &cases[k].v[i]);
        if (pv_infer_type(&st) != cases[k].want)
            fail_msg("case %zu: type %d, want %d", k, pv_infer_type(&st), cases[k].want);
    }
}

/* NDJSON export of the fixture, imported as NDJSON, exports the same CSV. */
static void test_ndjson_roundtrip(void **state)
{
    const char *dir = *state;
    char j[256], a[256], b[256], *x, *y;
    size_t nx, ny;

    need_jansson();
    snprintf(j, sizeof j, "%s/n.jsonl", dir);
    snprintf(a, sizeof a, "%s/a.csv", dir);
    snprintf(b, sizeof b, "%s/b.csv", dir);
    assert_int_equal(run(cmd_import, 6, "import", "-C", dir, "--key=id", "n", NASTY), 0);
    assert_int_equal(run(cmd_export, 6, "export", "-C", dir, "-o", j, "n"), 0);  /* by extension */
    x = slurp(j, NULL);
    assert_true(x[0] == '{');
    assert_non_null(strstr(x, "{\"id\":1,\"a name\":\"quote \\\" inside\",\"t\":\"\",\"i\":0,\"r\":0.1,\"b\":null}\n"));
    free(x);
    assert_int_equal(run(cmd_import, 6, "import", "-C", dir, "--key=id", "m", j), 0);
    assert_int_equal(run(cmd_export, 6, "export", "-C", dir, "-o", a, "n"), 0);
    assert_int_equal(run(cmd_export, 6, "export", "-C", dir, "-o", b, "m"), 0);
    x = slurp(a, &nx);
    y = slurp(b, &ny);
    assert_int_equal(nx, ny);
    assert_memory_equal(x, y, nx);
    free(x);
    free(y);
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

/* Keys appear late, go missing, or break the table's rules: file and line. */
static void test_ndjson_import_errors(void **state)
{
    const char *dir = *state;
    char p[256], q[256], out[256], *text;

    need_jansson();
    snprintf(p, sizeof p, "%s/in.ndjson", dir);
    snprintf(out, sizeof out, "%s/out.csv", dir);
    write_text(p, "{\"k\":1}\n{\"k\":2,\"late\":\"x\"}\n{\"late\":\"y\",\"k\":3}\n");
    assert_int_equal(run(cmd_import, 6, "import", "-C", dir, "--key=k", "t", p), 0);
    assert_int_equal(run(cmd_export, 6, "export", "-C", dir, "-o", out, "t"), 0);
    text = slurp(out, NULL);
    assert_string_equal(text, "k,late\n1,\n2,x\n3,y\n");
    free(text);
    /* Into the existing table: a missing key column, a wrong type. */
    write_text(p, "{\"k\":4}\n{\"late\":\"z\"}\n");
    assert_int_equal(run(cmd_import, 5, "import", "-C", dir, "t", p), PVDEV_EXIT_FAIL);
    assert_error("in.ndjson:2: key \"k\": null or missing, but the column is part of the primary key");
    write_text(p, "{\"k\":4}\n{\"k\":\"five\"}\n");
    assert_int_equal(run(cmd_import, 5, "import", "-C", dir, "t", p), PVDEV_EXIT_FAIL);
    assert_error("in.ndjson:2: key \"k\": 'five' is not a valid INTEGER");
    write_text(p, "{\"k\":5}\n{\"k\":1}\n");
    assert_int_equal(run(cmd_import, 5, "import", "-C", dir, "t", p), PVDEV_EXIT_FAIL);
    assert_error("duplicate primary key 1");
    write_text(p, "{\"k\":6,\"nosuch\":1}\n");
    assert_int_equal(run(cmd_import, 5, "import", "-C", dir, "t", p), PVDEV_EXIT_FAIL);
    assert_error("in.ndjson:1: key \"nosuch\": table 't' has no such column");
    write_text(p, "{\"a\":1}\n{\"b\":2,\"_pv_id\":\"x\"}\n");
    assert_int_equal(run(cmd_import, 5, "import", "-C", dir, "u", p), PVDEV_EXIT_FAIL);
    assert_error("in.ndjson:2: key \"_pv_id\": the name is reserved");
    /* --format beats the extension, and nothing failed was written. */
    snprintf(q, sizeof q, "%s/in.csv", dir);
    write_text(q, "{\"k\":7}\n");
    assert_int_equal(run(cmd_import, 6, "import", "-C", dir, "--format=ndjson", "t", q), 0);
    assert_int_equal(run(cmd_export, 6, "export", "-C", dir, "-o", out, "t"), 0);
    text = slurp(out, NULL);
    assert_string_equal(text, "k,late\n1,\n2,x\n3,y\n7,\n");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_infer_typed),
        cmocka_unit_test(test_ndjson_reader),
        cmocka_unit_test(test_ndjson_reader_errors),
        cmocka_unit_test(test_ndjson_reader_nul),
        cmocka_unit_test(test_ndjson_reader_infinity),
        cmocka_unit_test(test_ndjson_reader_positions),
        cmocka_unit_test_setup_teardown(test_export_airports_csv, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_nasty_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_query_and_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ndjson_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ndjson_import_errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
