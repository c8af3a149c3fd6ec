/*
 * test_value.c: libpv/value.c: ordering, exact int/real comparison, STRICT
 * conversions, canonical number text and UTF-8 validation.
 */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "value.h"

static int sgn(int c) { return c < 0 ? -1 : c > 0; }

static int cmpv(pv_value a, pv_value b) { return sgn(pv_value_cmp(&a, &b)); }

/* ---- pv_value_cmp --------------------------------------------------------- */

static void test_cmp_type_classes(void **state)
{
    (void)state;
    /* NULL < numbers < text < blob, whatever the payloads. */
    assert_int_equal(cmpv(pv_v_null(), pv_v_null()), 0);
    assert_int_equal(cmpv(pv_v_null(), pv_v_int(INT64_MIN)), -1);
    assert_int_equal(cmpv(pv_v_null(), pv_v_real(-INFINITY)), -1);
    assert_int_equal(cmpv(pv_v_null(), pv_v_bool(0)), -1);
    assert_int_equal(cmpv(pv_v_int(INT64_MAX), pv_v_text("", 0)), -1);
    assert_int_equal(cmpv(pv_v_real(INFINITY), pv_v_text("", 0)), -1);
    assert_int_equal(cmpv(pv_v_bool(1), pv_v_text("0", 1)), -1);
    assert_int_equal(cmpv(pv_v_text("\xff\xff", 2), pv_v_blob("", 0)), -1);
    assert_int_equal(cmpv(pv_v_blob("", 0), pv_v_text("zzz", 3)), 1);
    assert_int_equal(cmpv(pv_v_blob("a", 1), pv_v_null()), 1);
}

static void test_cmp_numbers(void **state)
{
    (void)state;
    assert_int_equal(cmpv(pv_v_int(1), pv_v_real(1.0)), 0);
    assert_int_equal(cmpv(pv_v_int(1), pv_v_real(1.5)), -1);
    assert_int_equal(cmpv(pv_v_int(2), pv_v_real(1.5)), 1);
    assert_int_equal(cmpv(pv_v_real(1.5), pv_v_int(2)), -1);
    assert_int_equal(cmpv(pv_v_int(-1), pv_v_real(-0.5)), -1);
    assert_int_equal(cmpv(pv_v_int(0), pv_v_real(-0.5)), 1);
    assert_int_equal(cmpv(pv_v_int(0), pv_v_real(0.5)), -1);
    assert_int_equal(cmpv(pv_v_int(0), pv_v_real(-0.0)), 0);
    assert_int_equal(cmpv(pv_v_real(-0.0), pv_v_real(0.0)), 0);
    assert_int_equal(cmpv(pv_v_bool(1), pv_v_int(1)), 0);
    assert_int_equal(cmpv(pv_v_bool(0), pv_v_int(1)), -1);
    assert_int_equal(cmpv(pv_v_bool(1), pv_v_real(0.5)), 1);
    assert_int_equal(cmpv(pv_v_int(INT64_MIN), pv_v_int(INT64_MAX)), -1);
    assert_int_equal(cmpv(pv_v_real(-INFINITY), pv_v_int(INT64_MIN)), -1);
    assert_int_equal(cmpv(pv_v_real(INFINITY), pv_v_int(INT64_MAX)), 1);
}

static void test_cmp_exact_large(void **state)
{
    int64_t p53 = (int64_t)1 << 53;
    (void)state;
    /* 2^53 + 1 is not a double: a comparison through double says "equal". */
    assert_int_equal(cmpv(pv_v_int(p53 + 1), pv_v_real(9007199254740992.0)), 1);
    assert_int_equal(cmpv(pv_v_real(9007199254740992.0), pv_v_int(p53 + 1)), -1);
    assert_int_equal(cmpv(pv_v_int(p53), pv_v_real(9007199254740992.0)), 0);
    assert_int_equal(cmpv(pv_v_int(p53 - 1), pv_v_real(9007199254740992.0)), -1);
    /* 9.223372036854775807e18 reads as 2^63, one more than INT64_MAX. */
    assert_int_equal(cmpv(pv_v_int(INT64_MAX), pv_v_real(9.223372036854775807e18)), -1);
    assert_int_equal(cmpv(pv_v_real(9.223372036854775807e18), pv_v_int(INT64_MAX)), 1);
    /* -2^63 is exactly INT64_MIN. */
    assert_int_equal(cmpv(pv_v_int(INT64_MIN), pv_v_real(-9223372036854775808.0)), 0);
    assert_int_equal(cmpv(pv_v_int(INT64_MIN + 1), pv_v_real(-9223372036854775808.0)), 1);
    assert_int_equal(cmpv(pv_v_int(INT64_MIN), pv_v_real(-1e19)), 1);
    assert_int_equal(cmpv(pv_v_int(INT64_MAX), pv_v_real(1e19)), -1);
    /* The largest double below 2^63 is 2^63 - 1024. */
    assert_int_equal(cmpv(pv_v_int(INT64_MAX - 1022), pv_v_real(9223372036854774784.0)), 1);
    assert_int_equal(cmpv(pv_v_int(INT64_MAX - 1023), pv_v_real(9223372036854774784.0)), 0);
    assert_int_equal(cmpv(pv_v_int(INT64_MAX - 1024), pv_v_real(9223372036854774784.0)), -1);
}

static void test_cmp_bytes(void **state)
{
    (void)state;
    assert_int_equal(cmpv(pv_v_text("a", 1), pv_v_text("b", 1)), -1);
    assert_int_equal(cmpv(pv_v_text("ab", 2), pv_v_text("a", 1)), 1);
    assert_int_equal(cmpv(pv_v_text("", 0), pv_v_text("a", 1)), -1);
    assert_int_equal(cmpv(pv_v_text("abc", 3), pv_v_text("abc", 3)), 0);
    assert_int_equal(cmpv(pv_v_text("B", 1), pv_v_text("a", 1)), -1); /* BINARY */
    /* Bytes compare unsigned: é (0xC3 0xA9) after z. */
    assert_int_equal(cmpv(pv_v_text("\xc3\xa9", 2), pv_v_text("z", 1)), 1);
    assert_int_equal(cmpv(pv_v_blob("\x00", 1), pv_v_blob("\xff", 1)), -1);
    assert_int_equal(cmpv(pv_v_blob("a\0b", 3), pv_v_blob("a\0a", 3)), 1);
    assert_int_equal(cmpv(pv_v_blob("a\0", 2), pv_v_blob("a", 1)), 1);
}

/* Antisymmetry and transitivity over a mixed set, sorted by the order the
 * header documents. */
static void test_cmp_total_order(void **state)
{
    pv_value v[] = {
        pv_v_null(),
        pv_v_real(-INFINITY),
        pv_v_int(INT64_MIN),
        pv_v_real(-1e18),
        pv_v_int(-1),
        pv_v_real(-0.5),
        pv_v_bool(0),
        pv_v_real(0.25),
        pv_v_bool(1),
        pv_v_real(1.5),
        pv_v_int(2),
        pv_v_int(((int64_t)1 << 53)),
        pv_v_int(((int64_t)1 << 53) + 1),
        pv_v_real(1e19),
        pv_v_real(INFINITY),
        pv_v_text("", 0),
        pv_v_text("A", 1),
        pv_v_text("a", 1),
        pv_v_text("ab", 2),
        pv_v_blob("", 0),
        pv_v_blob("\x00", 1),
        pv_v_blob("\x01", 1),
    };
    size_t n = sizeof v / sizeof v[0], i, k;
    (void)state;
    for (i = 0; i < n; i++)
        for (k = 0; k < n; k++) {
            int want = i < k ? -1 : i > k;
            if (cmpv(v[i], v[k]) != want)
                fail_msg("cmp(v[%zu], v[%zu]) = %d, want %d", i, k, cmpv(v[i], v[k]), want);
        }
}

/* ---- pv_value_convert ----------------------------------------------------- */

static int conv(pv_value in, int type, pv_value *out, char *scratch)
{
    memset(out, 0x5a, sizeof *out);
    return pv_value_convert(&in, type, out, scratch);
}

static void test_convert_integer(void **state)
{
    char s[32];
    pv_value o;
    (void)state;
    assert_int_equal(conv(pv_v_int(-7), PV_INTEGER, &o, s), 0);
    assert_int_equal(o.type, PV_INTEGER);
    assert_true(o.u.i == -7);
    assert_int_equal(conv(pv_v_bool(1), PV_INTEGER, &o, s), 0);
    assert_int_equal(o.type, PV_INTEGER);
    assert_true(o.u.i == 1);
    assert_int_equal(conv(pv_v_real(3.0), PV_INTEGER, &o, s), 0);
    assert_int_equal(o.type, PV_INTEGER);
    assert_true(o.u.i == 3);
    assert_int_equal(conv(pv_v_real(-0.0), PV_INTEGER, &o, s), 0);
    assert_true(o.type == PV_INTEGER && o.u.i == 0);
    assert_int_equal(conv(pv_v_real(-9223372036854775808.0), PV_INTEGER, &o, s), 0);
    assert_true(o.type == PV_INTEGER && o.u.i == INT64_MIN);
    assert_int_equal(conv(pv_v_real(3.5), PV_INTEGER, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_real(9223372036854775808.0), PV_INTEGER, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_real(1e300), PV_INTEGER, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_real(INFINITY), PV_INTEGER, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_text("42", 2), PV_INTEGER, &o, s), 0);
    assert_true(o.type == PV_INTEGER && o.u.i == 42);
    assert_int_equal(conv(pv_v_text("-9223372036854775808", 20), PV_INTEGER, &o, s), 0);
    assert_true(o.type == PV_INTEGER && o.u.i == INT64_MIN);
    assert_int_equal(conv(pv_v_text("abc", 3), PV_INTEGER, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_text("1.5", 3), PV_INTEGER, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_text("", 0), PV_INTEGER, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_text("9223372036854775808", 19), PV_INTEGER, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_blob("1", 1), PV_INTEGER, &o, s), PV_ETYPE);
}

/* Text into an INTEGER column is taken only when the number it writes is
 * exactly an integer in range, decided on the digits: through a double,
 * -9223372036854775809 rounded to INT64_MIN and 2.0000000000000001 to 2,
 * and both were stored changed (found by exploratory testing). */
static void test_convert_integer_text_exact(void **state)
{
    static const struct { const char *text; int64_t want; } ok[] = {
        {"1e5", 100000}, {"0.5e1", 5}, {"-0.0", 0}, {"-0", 0}, {"+7", 7}, {"0007", 7},
        {"12.000", 12}, {"1200e-2", 12}, {".5e1", 5}, {"5.", 5}, {"0e999999999999", 0},
        {"-9223372036854775808.0", INT64_MIN}, {"9223372036854775807.000", INT64_MAX},
        {"922337203685477580.7e1", INT64_MAX}, {"-92233720368547758080e-1", INT64_MIN},
    };
    static const char *const bad[] = {
        "-9223372036854775809", "-9223372036854775900", "9223372036854775808.0",
        "-9223372036854776832", "2.0000000000000001", "1e-400", "0.1", "1e19", "1e999999999999",
        "-1e-999999999999", "5e-1", "1.5", "e5", ".", "-", "1e", "1e+", " 1", "1 ", "0x10", "inf", "nan",
    };
    char s[32];
    pv_value o;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof ok / sizeof *ok; i++) {
        if (conv(pv_v_text(ok[i].text, strlen(ok[i].text)), PV_INTEGER, &o, s) != 0 ||
            o.type != PV_INTEGER || o.u.i != ok[i].want)
            fail_msg("'%s' should be the INTEGER %lld", ok[i].text, (long long)ok[i].want);
    }
    for (i = 0; i < sizeof bad / sizeof *bad; i++)
        if (conv(pv_v_text(bad[i], strlen(bad[i])), PV_INTEGER, &o, s) != PV_ETYPE)
            fail_msg("'%s' should not be an INTEGER (got %lld)", bad[i], (long long)o.u.i);
}

static void test_convert_real(void **state)
{
    char s[32];
    pv_value o;
    (void)state;
    assert_int_equal(conv(pv_v_int(3), PV_REAL, &o, s), 0);
    assert_int_equal(o.type, PV_REAL);
    assert_true(o.u.f == 3.0);
    /* 2^53 + 1 rounds to even: 2^53 */
    assert_int_equal(conv(pv_v_int(((int64_t)1 << 53) + 1), PV_REAL, &o, s), 0);
    assert_true(o.type == PV_REAL && o.u.f == 9007199254740992.0);
    assert_int_equal(conv(pv_v_bool(1), PV_REAL, &o, s), 0);
    assert_true(o.type == PV_REAL && o.u.f == 1.0);
    assert_int_equal(conv(pv_v_real(-2.5), PV_REAL, &o, s), 0);
    assert_true(o.type == PV_REAL && o.u.f == -2.5);
    assert_int_equal(conv(pv_v_text("1e3", 3), PV_REAL, &o, s), 0);
    assert_true(o.type == PV_REAL && o.u.f == 1000.0);
    assert_int_equal(conv(pv_v_text("-0.125", 6), PV_REAL, &o, s), 0);
    assert_true(o.type == PV_REAL && o.u.f == -0.125);
    assert_int_equal(conv(pv_v_text("abc", 3), PV_REAL, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_text("inf", 3), PV_REAL, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_text("1e999", 5), PV_REAL, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_blob("1", 1), PV_REAL, &o, s), PV_ETYPE);
}

static void test_convert_text(void **state)
{
    char s[32];
    pv_value o;
    (void)state;
    assert_int_equal(conv(pv_v_text("h\xc3\xa9", 3), PV_TEXT, &o, s), 0);
    assert_int_equal(o.type, PV_TEXT);
    assert_int_equal(o.u.s.n, 3);
    assert_memory_equal(o.u.s.p, "h\xc3\xa9", 3);
    assert_int_equal(conv(pv_v_int(-42), PV_TEXT, &o, s), 0);
    assert_int_equal(o.type, PV_TEXT);
    assert_ptr_equal(o.u.s.p, s);
    assert_int_equal(o.u.s.n, 3);
    assert_memory_equal(o.u.s.p, "-42", 3);
    assert_int_equal(conv(pv_v_real(0.1), PV_TEXT, &o, s), 0);
    assert_int_equal(o.u.s.n, 3);
    assert_memory_equal(o.u.s.p, "0.1", 3);
    assert_int_equal(conv(pv_v_real(2.0), PV_TEXT, &o, s), 0);
    assert_int_equal(o.u.s.n, 3);
    assert_memory_equal(o.u.s.p, "2.0", 3);
    assert_int_equal(conv(pv_v_bool(1), PV_TEXT, &o, s), 0);
    assert_int_equal(o.u.s.n, 1);
    assert_memory_equal(o.u.s.p, "1", 1);
    assert_int_equal(conv(pv_v_blob("x", 1), PV_TEXT, &o, s), PV_ETYPE);
    /* Invalid UTF-8 text is bad input, not a type error. */
    assert_int_equal(conv(pv_v_text("a\xff", 2), PV_TEXT, &o, s), PV_EINPUT);
}

static void test_convert_blob_bool_null(void **state)
{
    char s[32];
    pv_value o;
    int types[] = {PV_INTEGER, PV_REAL, PV_TEXT, PV_BLOB, PV_BOOLEAN};
    size_t i;
    (void)state;
    assert_int_equal(conv(pv_v_blob("\x00\x01", 2), PV_BLOB, &o, s), 0);
    assert_true(o.type == PV_BLOB && o.u.s.n == 2);
    assert_int_equal(conv(pv_v_text("ab", 2), PV_BLOB, &o, s), 0);
    assert_true(o.type == PV_BLOB && o.u.s.n == 2);
    assert_memory_equal(o.u.s.p, "ab", 2);
    assert_int_equal(conv(pv_v_int(1), PV_BLOB, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_real(1.0), PV_BLOB, &o, s), PV_ETYPE);

    assert_int_equal(conv(pv_v_bool(1), PV_BOOLEAN, &o, s), 0);
    assert_true(o.type == PV_BOOLEAN && o.u.i == 1);
    assert_int_equal(conv(pv_v_int(0), PV_BOOLEAN, &o, s), 0);
    assert_true(o.type == PV_BOOLEAN && o.u.i == 0);
    assert_int_equal(conv(pv_v_int(1), PV_BOOLEAN, &o, s), 0);
    assert_true(o.type == PV_BOOLEAN && o.u.i == 1);
    assert_int_equal(conv(pv_v_int(2), PV_BOOLEAN, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_int(-1), PV_BOOLEAN, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_text("true", 4), PV_BOOLEAN, &o, s), 0);
    assert_true(o.type == PV_BOOLEAN && o.u.i == 1);
    assert_int_equal(conv(pv_v_text("FALSE", 5), PV_BOOLEAN, &o, s), 0);
    assert_true(o.type == PV_BOOLEAN && o.u.i == 0);
    assert_int_equal(conv(pv_v_text("yes", 3), PV_BOOLEAN, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_text("truex", 5), PV_BOOLEAN, &o, s), PV_ETYPE);
    assert_int_equal(conv(pv_v_blob("\x01", 1), PV_BOOLEAN, &o, s), PV_ETYPE);

    for (i = 0; i < sizeof types / sizeof types[0]; i++) {
        assert_int_equal(conv(pv_v_null(), types[i], &o, s), 0);
        assert_int_equal(o.type, PV_NULL);
        /* SQLite stores NaN as NULL */
        assert_int_equal(conv(pv_v_real(NAN), types[i], &o, s), 0);
        assert_int_equal(o.type, PV_NULL);
    }
}

/* ---- pv_real_format --------------------------------------------------------- */

static void check_fmt(double f, const char *want)
{
    char buf[32];
    int n = pv_real_format(f, buf);
    if (n != (int)strlen(want) || strcmp(buf, want) != 0)
        fail_msg("pv_real_format(%.17g) = \"%s\" (%d), want \"%s\"", f, buf, n, want);
}

static void test_real_format_cases(void **state)
{
    char buf[32];
    (void)state;
    check_fmt(0.1, "0.1");
    check_fmt(1.0, "1.0");
    check_fmt(0.0, "0.0");
    check_fmt(-0.0, "-0.0");
    check_fmt(1e300, "1e+300");
    check_fmt(1.5e300, "1.5e+300");
    check_fmt(5e-324, "5e-324");
    check_fmt(31.95376472, "31.95376472");
    check_fmt(1.0 / 3, "0.3333333333333333");
    check_fmt(-2.5, "-2.5");
    check_fmt(37.5, "37.5");
    check_fmt(DBL_MAX, "1.7976931348623157e+308");
    check_fmt(DBL_MIN, "2.2250738585072014e-308");
    check_fmt(9007199254740992.0, "9007199254740992.0");
    check_fmt(123456789012345678.0, "1.2345678901234568e+17");
    check_fmt(INFINITY, "Inf");
    check_fmt(-INFINITY, "-Inf");
    assert_int_equal(pv_real_format(-0.0, buf), 4);
    assert_true(strtod(buf, NULL) == 0.0 && signbit(strtod(buf, NULL)));
}

/* docs/FORMAT.md fixes the canonical text: the shortest round-trip digits,
 * positional for decimal exponents -4..15 (with ".0" on whole numbers),
 * scientific outside, as Python's repr(). Pinned here, as it is part of the
 * chunk format. */
static void test_real_format_documented_notation(void **state)
{
    (void)state;
    check_fmt(1200.0, "1200.0");
    check_fmt(100.0, "100.0");
    check_fmt(10.0, "10.0");
    check_fmt(-20.0, "-20.0");
    check_fmt(0.00012, "0.00012");
    check_fmt(1.5e-7, "1.5e-07");
    check_fmt(123456.0, "123456.0");
    check_fmt(1e15, "1000000000000000.0");
    check_fmt(1234567890123456.0, "1234567890123456.0");
    check_fmt(1e16, "1e+16");
    check_fmt(0.0001, "0.0001");
    check_fmt(0.00001, "1e-05");
}

/* Significant digits of a formatted real (the mantissa without leading and
 * trailing zeros). */
static int sig_digits(const char *s)
{
    char d[40];
    size_t n = 0, a = 0;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') d[n++] = *s;
    while (a < n && d[a] == '0') a++;
    while (n > a && d[n - 1] == '0') n--;
    return n > a ? (int)(n - a) : 1;
}

static uint64_t rng_state = 0x243f6a8885a308d3ull;
static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return rng_state = x;
}

static void check_roundtrip(double f)
{
    char buf[32], shorter[40];
    int n = pv_real_format(f, buf), d;
    double back;
    if (n <= 0 || n > 31 || (size_t)n != strlen(buf)) fail_msg("bad length %d for %a", n, f);
    if (!strpbrk(buf, ".e")) fail_msg("\"%s\" has neither '.' nor 'e'", buf);
    back = strtod(buf, NULL);
    if (memcmp(&back, &f, sizeof f) != 0) fail_msg("\"%s\" reads back as %a, not %a", buf, back, f);
    /* pv_real_parse reads it back too */
    assert_true(pv_real_parse(buf, (size_t)n, &back));
    if (memcmp(&back, &f, sizeof f) != 0) fail_msg("pv_real_parse(\"%s\") != %a", buf, f);
    /* and no shorter digit string would do */
    d = sig_digits(buf);
    if (d > 1) {
        snprintf(shorter, sizeof shorter, "%.*e", d - 2, f);
        if (strtod(shorter, NULL) == f) fail_msg("\"%s\" is not the shortest: \"%s\"", buf, shorter);
    }
}

static void test_real_format_sweep(void **state)
{
    int i;
    (void)state;
    for (i = 0; i < 200000; i++) {
        uint64_t bits = rng();
        double f;
        memcpy(&f, &bits, sizeof f);
        if (isnan(f) || isinf(f)) continue;
        check_roundtrip(f);
    }
    /* decimal-looking values and their neighbours */
    for (i = 0; i < 20000; i++) {
        double f = (double)(int64_t)(rng() % 2000000001) / 1000.0 - 1000000.0;
        check_roundtrip(f);
        check_roundtrip(nextafter(f, INFINITY));
        check_roundtrip(nextafter(f, -INFINITY));
    }
    for (i = -324; i <= 308; i++) check_roundtrip(pow(10.0, i));
}

/* ---- pv_int_format / pv_int_parse_canonical ------------------------------- */

static int icanon(const char *s, int64_t *out) { return pv_int_parse_canonical(s, strlen(s), out); }

static void test_int_parse_canonical(void **state)
{
    int64_t v = 0;
    char buf[24];
    (void)state;
    assert_true(icanon("0", &v) && v == 0);
    assert_true(icanon("-1", &v) && v == -1);
    assert_true(icanon("501", &v) && v == 501);
    assert_true(icanon("9223372036854775807", &v) && v == INT64_MAX);
    assert_true(icanon("-9223372036854775808", &v) && v == INT64_MIN);
    v = 77;
    assert_false(icanon("00501", &v));
    assert_false(icanon("01", &v));
    assert_false(icanon("+5", &v));
    assert_false(icanon("-0", &v));
    assert_false(icanon("-01", &v));
    assert_false(icanon("", &v));
    assert_false(icanon("-", &v));
    assert_false(icanon(" 1", &v));
    assert_false(icanon("1 ", &v));
    assert_false(icanon("1a", &v));
    assert_false(icanon("1.0", &v));
    assert_false(icanon("1e3", &v));
    assert_false(icanon("9223372036854775808", &v));
    assert_false(icanon("-9223372036854775809", &v));
    assert_false(icanon("18446744073709551616", &v));
    assert_false(icanon("99999999999999999999", &v));
    assert_false(icanon("92233720368547758070", &v));
    assert_true(v == 77); /* untouched on failure */
    /* only n bytes are read */
    assert_true(pv_int_parse_canonical("123", 2, &v) && v == 12);
    assert_true(pv_int_parse_canonical("7x", 1, &v) && v == 7);

    assert_int_equal(pv_int_format(INT64_MIN, buf), 20);
    assert_string_equal(buf, "-9223372036854775808");
    assert_int_equal(pv_int_format(0, buf), 1);
    assert_string_equal(buf, "0");
}

static void test_int_format_parse_roundtrip(void **state)
{
    int i;
    (void)state;
    for (i = 0; i < 100000; i++) {
        int64_t x = (int64_t)rng(), back;
        char buf[24];
        int n;
        if (i % 3 == 1) x >>= (rng() % 63);
        n = pv_int_format(x, buf);
        assert_true(pv_int_parse_canonical(buf, (size_t)n, &back));
        assert_true(back == x);
    }
}

/* ---- pv_real_parse --------------------------------------------------------- */

static int rparse(const char *s, double *out) { return pv_real_parse(s, strlen(s), out); }

static void test_real_parse(void **state)
{
    double f = 0;
    (void)state;
    assert_true(rparse("1.5", &f) && f == 1.5);
    assert_true(rparse("-2", &f) && f == -2.0);
    assert_true(rparse("+3", &f) && f == 3.0);
    assert_true(rparse(".5", &f) && f == 0.5);
    assert_true(rparse("5.", &f) && f == 5.0);
    assert_true(rparse("1e10", &f) && f == 1e10);
    assert_true(rparse("1E-3", &f) && f == 1e-3);
    assert_true(rparse("2.5e+2", &f) && f == 250.0);
    assert_true(rparse("-0.0", &f) && f == 0.0 && signbit(f));
    assert_true(rparse("4.9406564584124654e-324", &f) && f == 5e-324);
    f = 9.0;
    assert_false(rparse("", &f));
    assert_false(rparse("-", &f));
    assert_false(rparse(".", &f));
    assert_false(rparse("e5", &f));
    assert_false(rparse("1e", &f));
    assert_false(rparse("1e+", &f));
    assert_false(rparse("1.5.2", &f));
    assert_false(rparse("--1", &f));
    assert_false(rparse(" 1", &f));
    assert_false(rparse("1 ", &f));
    assert_false(rparse("0x10", &f));
    assert_false(rparse("inf", &f));
    assert_false(rparse("-Infinity", &f));
    assert_false(rparse("nan", &f));
    assert_false(rparse("1e999", &f));
    assert_false(rparse("-1e400", &f));
    assert_false(rparse("1,5", &f));
    assert_true(f == 9.0);
    /* only n bytes are read: "1.25" cut to "1.2" */
    assert_true(pv_real_parse("1.25", 3, &f) && f == 1.2);
}

/* ---- pv_utf8_valid --------------------------------------------------------- */

static void utf8_ok(const char *s, size_t n)
{
    size_t bad = 12345;
    if (!pv_utf8_valid(s, n, &bad)) fail_msg("valid UTF-8 refused at byte %zu", bad);
}

static void utf8_bad(const char *s, size_t n, size_t want_bad)
{
    size_t bad = 12345;
    char *copy = malloc(n ? n : 1); /* exact size: ASan sees over-reads */
    assert_non_null(copy);
    memcpy(copy, s, n);
    if (pv_utf8_valid(copy, n, &bad)) fail_msg("invalid UTF-8 accepted (want bad at %zu)", want_bad);
    if (bad != want_bad) fail_msg("bad byte reported at %zu, want %zu", bad, want_bad);
    assert_false(pv_utf8_valid(copy, n, NULL));
    free(copy);
}

static void test_utf8(void **state)
{
    (void)state;
    utf8_ok("", 0);
    utf8_ok("plain ascii \x01\x7f", 14);
    utf8_ok("\xc3\xa9", 2);              /* U+00E9 */
    utf8_ok("\xc2\x80", 2);              /* U+0080, smallest 2-byte */
    utf8_ok("\xdf\xbf", 2);              /* U+07FF */
    utf8_ok("\xe0\xa0\x80", 3);          /* U+0800, smallest 3-byte */
    utf8_ok("\xe2\x82\xac", 3);          /* U+20AC */
    utf8_ok("\xed\x9f\xbf", 3);          /* U+D7FF, below the surrogates */
    utf8_ok("\xee\x80\x80", 3);          /* U+E000, above them */
    utf8_ok("\xef\xbf\xbf", 3);          /* U+FFFF */
    utf8_ok("\xf0\x90\x80\x80", 4);      /* U+10000 */
    utf8_ok("\xf0\x9d\x84\x9e", 4);      /* U+1D11E */
    utf8_ok("\xf4\x8f\xbf\xbf", 4);      /* U+10FFFF */
    utf8_ok("a\0b", 3);                  /* NUL is a character */

    /* overlongs */
    utf8_bad("\xc0\x80", 2, 0);
    utf8_bad("\xc1\xbf", 2, 0);
    utf8_bad("\xe0\x80\x80", 3, 0);
    utf8_bad("\xe0\x9f\xbf", 3, 0);
    utf8_bad("\xf0\x80\x80\x80", 4, 0);
    utf8_bad("\xf0\x8f\xbf\xbf", 4, 0);
    /* surrogates */
    utf8_bad("\xed\xa0\x80", 3, 0);
    utf8_bad("\xed\xbf\xbf", 3, 0);
    utf8_bad("ok\xed\xb0\x80", 5, 2);
    /* beyond U+10FFFF */
    utf8_bad("\xf4\x90\x80\x80", 4, 0);
    utf8_bad("\xf5\x80\x80\x80", 4, 0);
    utf8_bad("\xf8\x88\x80\x80\x80", 5, 0);
    utf8_bad("\xff", 1, 0);
    utf8_bad("\xfe", 1, 0);
    /* stray continuation bytes, bad continuations */
    utf8_bad("\x80", 1, 0);
    utf8_bad("ab\xbf", 3, 2);
    utf8_bad("\xc3\x28", 2, 0);
    utf8_bad("\xe2\x28\xa1", 3, 0);
    utf8_bad("\xe2\x82\x28", 3, 0);
    utf8_bad("\xf0\x9d\x84\x28", 4, 0);
    /* truncated sequences, at the end */
    utf8_bad("\xc3", 1, 0);
    utf8_bad("ab\xc3", 3, 2);
    utf8_bad("a\xe2\x82", 3, 1);
    utf8_bad("\xf0\x9d\x84", 3, 0);
    /* the offset is that of the first bad sequence */
    utf8_bad("h\xc3\xa9llo\xff", 7, 6);
    utf8_bad("\xe2\x82\xac\xe2\x82\xac\xc0\xaf", 8, 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cmp_type_classes),
        cmocka_unit_test(test_cmp_numbers),
        cmocka_unit_test(test_cmp_exact_large),
        cmocka_unit_test(test_cmp_bytes),
        cmocka_unit_test(test_cmp_total_order),
        cmocka_unit_test(test_convert_integer),
        cmocka_unit_test(test_convert_integer_text_exact),
        cmocka_unit_test(test_convert_real),
        cmocka_unit_test(test_convert_text),
        cmocka_unit_test(test_convert_blob_bool_null),
        cmocka_unit_test(test_real_format_cases),
        cmocka_unit_test(test_real_format_documented_notation),
        cmocka_unit_test(test_real_format_sweep),
        cmocka_unit_test(test_int_parse_canonical),
        cmocka_unit_test(test_int_format_parse_roundtrip),
        cmocka_unit_test(test_real_parse),
        cmocka_unit_test(test_utf8),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
