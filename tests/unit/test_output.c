/*
 * test_output.c: the result formatters (output.h) byte for byte, and the
 * shell's statement splitter and schema printer (shell.h).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "output.h"
#include "pv.h"
#include "shell.h"
#include "value.h"

/* Format `nrows` rows of 3 columns with `opts`; returns the malloc'ed text. */
static char *format(const pv_out_opts *opts, const pv_value *rows, int nrows)
{
    static const char *const names[] = {"id", "name", "x"};
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    pv_out *o = NULL;

    assert_non_null(f);
    assert_int_equal(pv_out_open(f, opts, 3, names, &o), 0);
    for (int r = 0; r < nrows; r++)
        assert_int_equal(pv_out_row(o, &rows[r * 3]), 0);
    assert_int_equal(pv_out_rows(o), (uint64_t)nrows);
    assert_int_equal(pv_out_close(o), 0);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static pv_value rows[9];

static void fill_rows(void)
{
    rows[0] = pv_v_int(1);
    rows[1] = pv_v_text("plain", 5);
    rows[2] = pv_v_null();
    rows[3] = pv_v_int(-9223372036854775807LL - 1);
    rows[4] = pv_v_text("", 0);
    rows[5] = pv_v_real(1e16);
    rows[6] = pv_v_int(9007199254740993LL);
    rows[7] = pv_v_text("a \"q\",\nb\t\xc3\xa9", 11);
    rows[8] = pv_v_blob("A\xff", 2);
}

static void check(int mode, int header, const char *want)
{
    pv_out_opts o = PV_OUT_OPTS_INIT;
    char *got;

    o.mode = mode;
    o.header = header;
    fill_rows();
    got = format(&o, rows, 3);
    if (strcmp(got, want) != 0)
        fail_msg("mode %s:\n--- want\n%s--- got\n%s", pv_out_mode_name(mode), want, got);
    free(got);
}

static void test_list(void **state)
{
    (void)state;
    check(PV_OUT_LIST, 1,
          "id|name|x\n"
          "1|plain|\n"
          "-9223372036854775808||1e+16\n"
          "9007199254740993|a \"q\",\nb\t\xc3\xa9|A\xff\n");
}

static void test_csv(void **state)
{
    (void)state;
    /* NULL is empty, '' is "", quotes doubled, blanks and UTF-8 quoted. */
    check(PV_OUT_CSV, 1,
          "id,name,x\n"
          "1,plain,\n"
          "-9223372036854775808,\"\",1e+16\n"
          "9007199254740993,\"a \"\"q\"\",\nb\t\xc3\xa9\",\"A\xff\"\n");
}

static void test_json(void **state)
{
    (void)state;
    check(PV_OUT_JSON, 0,
          "[{\"id\":1,\"name\":\"plain\",\"x\":null},\n"
          "{\"id\":-9223372036854775808,\"name\":\"\",\"x\":1e+16},\n"
          "{\"id\":9007199254740993,\"name\":\"a \\\"q\\\",\\nb\\t\xc3\xa9\",\"x\":{\"hex\":\"41ff\"}}]\n");
    check(PV_OUT_NDJSON, 0,
          "{\"id\":1,\"name\":\"plain\",\"x\":null}\n"
          "{\"id\":-9223372036854775808,\"name\":\"\",\"x\":1e+16}\n"
          "{\"id\":9007199254740993,\"name\":\"a \\\"q\\\",\\nb\\t\xc3\xa9\",\"x\":{\"hex\":\"41ff\"}}\n");
}

static void test_table(void **state)
{
    (void)state;
    /* Widths count characters (é is one); control characters are escaped. */
    check(PV_OUT_TABLE, 0,
          "+----------------------+--------------+---------+\n"
          "|          id          |     name     |    x    |\n"
          "+----------------------+--------------+---------+\n"
          "| 1                    | plain        |         |\n"
          "| -9223372036854775808 |              | 1e+16   |\n"
          "| 9007199254740993     | a \"q\",\\nb\\t\xc3\xa9 | X'41ff' |\n"
          "+----------------------+--------------+---------+\n");
    check(PV_OUT_BOX, 0,
          "\u250c\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u252c"
          "\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u252c\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2510\n"
          "\u2502          id          \u2502     name     \u2502    x    \u2502\n"
          "\u251c\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u253c"
          "\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u253c\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2524\n"
          "\u2502 1                    \u2502 plain        \u2502         \u2502\n"
          "\u2502 -9223372036854775808 \u2502              \u2502 1e+16   \u2502\n"
          "\u2502 9007199254740993     \u2502 a \"q\",\\nb\\t\xc3\xa9 \u2502 X'41ff' \u2502\n"
          "\u2514\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2534"
          "\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2534\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2500\u2518\n");
}

static void test_line(void **state)
{
    (void)state;
    check(PV_OUT_LINE, 0,
          "   id = 1\n name = plain\n    x = \n"
          "\n   id = -9223372036854775808\n name = \n    x = 1e+16\n"
          "\n   id = 9007199254740993\n name = a \"q\",\\nb\\t\xc3\xa9\n    x = X'41ff'\n");
}

/* No rows: nothing at all, except a header asked for explicitly. */
static void test_no_rows(void **state)
{
    static const int modes[] = {PV_OUT_LIST, PV_OUT_CSV, PV_OUT_JSON, PV_OUT_TABLE,
                                PV_OUT_BOX, PV_OUT_LINE, PV_OUT_NDJSON};
    pv_out_opts o = PV_OUT_OPTS_INIT;
    static const char *const names[] = {"a b", "c"};
    char *buf = NULL;
    size_t len = 0;
    FILE *f;
    pv_out *out;

    (void)state;
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char *got;
        o.mode = modes[i];
        o.header = 1;
        got = format(&o, rows, 0);
        assert_string_equal(got, "");
        free(got);
    }
    f = open_memstream(&buf, &len);
    o.mode = PV_OUT_CSV;
    assert_int_equal(pv_out_open(f, &o, 2, names, &out), 0);
    assert_int_equal(pv_out_header(out), 0);
    assert_int_equal(pv_out_header(out), 0);  /* once only */
    assert_int_equal(pv_out_close(out), 0);
    fclose(f);
    assert_string_equal(buf, "\"a b\",c\n");
    free(buf);
}

static void test_special_reals(void **state)
{
    pv_out_opts o = PV_OUT_OPTS_INIT;
    pv_value r[3];
    char *got;

    (void)state;
    r[0] = pv_v_real(1.0 / 0.0);
    r[1] = pv_v_real(-1.0 / 0.0);
    r[2] = pv_v_bool(1);
    o.mode = PV_OUT_NDJSON;
    got = format(&o, r, 1);
    assert_string_equal(got, "{\"id\":1e999,\"name\":-1e999,\"x\":true}\n");
    free(got);
    o.mode = PV_OUT_LIST;
    got = format(&o, r, 1);
    assert_string_equal(got, "Inf|-Inf|1\n");
    free(got);
}

static void test_mode_names(void **state)
{
    (void)state;
    for (int m = PV_OUT_LIST; m <= PV_OUT_LINE; m++)
        assert_int_equal(pv_out_mode_parse(pv_out_mode_name(m)), m);
    assert_int_equal(pv_out_mode_parse("tables"), -1);
}

static void test_sql_complete(void **state)
{
    static const struct { const char *sql; int complete; } cases[] = {
        {"SELECT 1;", 1},
        {"SELECT 1", 0},
        {"SELECT 1;  \n", 1},
        {"SELECT 1; -- done\n", 1},
        {"SELECT 1; /* done */", 1},
        {"SELECT ';'", 0},
        {"SELECT ';';", 1},
        {"SELECT 'it''s;'", 0},
        {"SELECT 'it''s';", 1},
        {"SELECT \"a;b\" FROM t", 0},
        {"SELECT [a;b];", 1},
        {"SELECT 1 -- ;\n", 0},
        {"SELECT 1 /* ; */", 0},
        {"SELECT 1; /* open", 0},
        {"SELECT 1; SELECT 2", 0},
        {"", 0},
        {";", 1},
    };

    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (pvdev_sql_complete(cases[i].sql, strlen(cases[i].sql)) != cases[i].complete)
            fail_msg("pvdev_sql_complete(\"%s\") != %d", cases[i].sql, cases[i].complete);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list),
        cmocka_unit_test(test_csv),
        cmocka_unit_test(test_json),
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_line),
        cmocka_unit_test(test_no_rows),
        cmocka_unit_test(test_special_reals),
        cmocka_unit_test(test_mode_names),
        cmocka_unit_test(test_sql_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
