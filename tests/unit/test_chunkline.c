/*
 * test_chunkline.c: libpv/chunkline.c, the canonical text of workspace
 * records: exact bytes, round trips, and a strict decoder that returns
 * PV_ECORRUPT (never crashes) on anything else.
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

#include "chunkline.h"

/* airports(code TEXT, lat REAL, n INTEGER, flag BOOLEAN, data BLOB), key code */
static pv_schema *airports_schema(void)
{
    pv_schema *s = pv_schema_new("airports", 8);
    uint32_t pk = 0;
    assert_non_null(s);
    assert_int_equal(pv_schema_add_column(s, "code", 4, PV_TEXT, 0), 0);
    assert_int_equal(pv_schema_add_column(s, "lat", 3, PV_REAL, 0), 0);
    assert_int_equal(pv_schema_add_column(s, "n", 1, PV_INTEGER, 0), 0);
    assert_int_equal(pv_schema_add_column(s, "flag", 4, PV_BOOLEAN, 0), 0);
    assert_int_equal(pv_schema_add_column(s, "data", 4, PV_BLOB, 0), 0);
    assert_int_equal(pv_schema_set_pk(s, &pk, 1), 0);
    assert_int_equal(pv_schema_finish(s), 0);
    return s;
}

static const int airport_types[5] = {PV_TEXT, PV_REAL, PV_INTEGER, PV_BOOLEAN, PV_BLOB};

static char *encode_row(const pv_schema *s, const pv_value *row, const pv_blobref *refs)
{
    pv_buf b = PV_BUF_INIT;
    assert_int_equal(pv_chunk_encode_row(&b, s, row, refs), 0);
    assert_non_null(b.p);
    return b.p;
}

/* Decode from an exact-size heap copy (no terminator), so that ASan sees a
 * read past the end of the line. */
static int decode(const char *line, size_t len, const int *types, uint32_t ntypes,
                  const int *ktypes, uint32_t nkey, pv_arena *a, pv_chunk_rec *r)
{
    char *copy = malloc(len ? len : 1);
    int rc;
    assert_non_null(copy);
    if (len) memcpy(copy, line, len);
    rc = pv_chunk_decode(copy, len, types, ntypes, ktypes, nkey, a, r);
    /* decoded strings live in the arena, never in the line */
    memset(copy, '#', len);
    free(copy);
    return rc;
}

static int decode_row(const char *line, pv_arena *a, pv_chunk_rec *r)
{
    return decode(line, strlen(line), airport_types, 5, airport_types, 1, a, r);
}

static void assert_same_value(const pv_value *got, const pv_value *want)
{
    assert_int_equal(got->type, want->type);
    switch (want->type) {
    case PV_NULL: break;
    case PV_REAL:
        if (memcmp(&got->u.f, &want->u.f, sizeof(double)) != 0)
            fail_msg("real %a decoded as %a", want->u.f, got->u.f);
        break;
    case PV_TEXT:
    case PV_BLOB:
        assert_int_equal(got->u.s.n, want->u.s.n);
        if (want->u.s.n) assert_memory_equal(got->u.s.p, want->u.s.p, want->u.s.n);
        break;
    default: assert_true(got->u.i == want->u.i);
    }
}

/* ---- exact bytes ------------------------------------------------------------ */

static void test_exact_row(void **state)
{
    pv_schema *s = airports_schema();
    pv_value row[5] = {pv_v_text("SFO", 3), pv_v_real(37.5), pv_v_null(), pv_v_bool(1),
                       pv_v_blob("\x00\xff", 2)};
    pv_value row2[5] = {pv_v_text("", 0), pv_v_real(-0.0), pv_v_int(INT64_MIN), pv_v_bool(0),
                        pv_v_blob("", 0)};
    pv_value row3[5] = {pv_v_null(), pv_v_real(INFINITY), pv_v_int(-7), pv_v_null(),
                        pv_v_blob("\x01\x23\x45\x67\x89\xab\xcd\xef", 8)};
    pv_value row4[5] = {pv_v_text("x", 1), pv_v_real(-INFINITY), pv_v_int(0), pv_v_null(), pv_v_null()};
    pv_value row5[5] = {pv_v_text("x", 1), pv_v_real(NAN), pv_v_int(INT64_MAX), pv_v_null(), pv_v_null()};
    char *l;
    (void)state;
    l = encode_row(s, row, NULL);
    assert_string_equal(l, "[\"SFO\",37.5,null,true,{\"hex\":\"00ff\"}]\n");
    free(l);
    l = encode_row(s, row2, NULL);
    assert_string_equal(l, "[\"\",-0.0,-9223372036854775808,false,{\"hex\":\"\"}]\n");
    free(l);
    l = encode_row(s, row3, NULL);
    assert_string_equal(l, "[null,1e999,-7,null,{\"hex\":\"0123456789abcdef\"}]\n");
    free(l);
    l = encode_row(s, row4, NULL);
    assert_string_equal(l, "[\"x\",-1e999,0,null,null]\n");
    free(l);
    l = encode_row(s, row5, NULL); /* NaN is stored as NULL */
    assert_string_equal(l, "[\"x\",null,9223372036854775807,null,null]\n");
    free(l);
    pv_schema_free(s);
}

static void test_exact_header_delete(void **state)
{
    pv_schema *s = airports_schema();
    pv_schema *c = pv_schema_new("c", 1);
    pv_buf b = PV_BUF_INIT;
    pv_value key[1] = {pv_v_text("SFO", 3)};
    pv_value key2[2] = {pv_v_int(5), pv_v_text("a\"b", 3)};
    uint32_t pk[2] = {2, 0};
    (void)state;
    assert_int_equal(pv_chunk_encode_header(&b, s), 0);
    assert_string_equal(b.p, "{\"pv\":1,\"columns\":[\"code\",\"lat\",\"n\",\"flag\",\"data\"]}\n");
    b.len = 0;
    assert_int_equal(pv_chunk_encode_delete(&b, s, key), 0);
    assert_string_equal(b.p, "{\"delete\":[\"SFO\"]}\n");
    b.len = 0;
    /* composite key, in key order (not column order) */
    assert_non_null(c);
    assert_int_equal(pv_schema_add_column(c, "name", 4, PV_TEXT, 0), 0);
    assert_int_equal(pv_schema_add_column(c, "x", 1, PV_REAL, 0), 0);
    assert_int_equal(pv_schema_add_column(c, "id", 2, PV_INTEGER, 0), 0);
    assert_int_equal(pv_schema_set_pk(c, pk, 2), 0);
    assert_int_equal(pv_chunk_encode_delete(&b, c, key2), 0);
    assert_string_equal(b.p, "{\"delete\":[5,\"a\\\"b\"]}\n");
    b.len = 0;
    /* a table with a hidden key: its header names it like any column */
    {
        pv_schema *h = pv_schema_new("h", 1);
        assert_int_equal(pv_schema_add_column(h, "v", 1, PV_TEXT, 0), 0);
        assert_int_equal(pv_schema_finish(h), 0);
        assert_int_equal(pv_chunk_encode_header(&b, h), 0);
        assert_string_equal(b.p, "{\"pv\":1,\"columns\":[\"v\",\"_pv_id\"]}\n");
        pv_schema_free(h);
    }
    pv_buf_free(&b);
    pv_schema_free(c);
    pv_schema_free(s);
}

static void test_exact_escapes(void **state)
{
    pv_buf b = PV_BUF_INIT;
    pv_value v;
    static const char in[] = "q\"b\\n\nt\tr\rb\bf\fc\x01" "d\x1f" "e\x7f" "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/";
    (void)state;
    v = pv_v_text(in, sizeof in - 1);
    assert_int_equal(pv_chunk_encode_value(&b, &v), 0);
    /* only '"', '\' and C0 controls are escaped; DEL, '/' and non-ASCII raw */
    assert_string_equal(b.p, "\"q\\\"b\\\\n\\nt\\tr\\rb\\bf\\fc\\u0001d\\u001fe\x7f"
                             "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80/\"");
    b.len = 0;
    v = pv_v_text("\0", 1);
    assert_int_equal(pv_chunk_encode_value(&b, &v), 0);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.p, "\"\\u0000\"", 8);
    pv_buf_free(&b);
}

static void test_every_c0_control(void **state)
{
    unsigned c;
    pv_arena a = PV_ARENA_INIT;
    (void)state;
    for (c = 0; c < 0x20; c++) {
        pv_buf b = PV_BUF_INIT;
        char ch = (char)c, want[16];
        pv_value v = pv_v_text(&ch, 1);
        pv_jscan j;
        const char *s;
        size_t n;
        assert_int_equal(pv_js_put_string(&b, &ch, 1), 0);
        switch (c) {
        case '\b': strcpy(want, "\"\\b\""); break;
        case '\t': strcpy(want, "\"\\t\""); break;
        case '\n': strcpy(want, "\"\\n\""); break;
        case '\f': strcpy(want, "\"\\f\""); break;
        case '\r': strcpy(want, "\"\\r\""); break;
        default: snprintf(want, sizeof want, "\"\\u%04x\"", c);
        }
        assert_string_equal(b.p, want);
        /* and it reads back */
        j.p = j.start = b.p;
        j.end = b.p + b.len;
        assert_int_equal(pv_js_string(&j, &a, &s, &n), 0);
        assert_int_equal(n, 1);
        assert_int_equal((unsigned char)s[0], c);
        assert_ptr_equal(j.p, j.end);
        (void)v;
        pv_buf_free(&b);
    }
    pv_arena_free(&a);
}

static void test_canonical_is_stable(void **state)
{
    pv_schema *s = airports_schema();
    pv_value row[5] = {pv_v_text("h\xc3\xa9\n", 4), pv_v_real(0.1), pv_v_int(42), pv_v_bool(1),
                       pv_v_blob("\x00\x10", 2)};
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec r;
    char *l1 = encode_row(s, row, NULL), *l2 = encode_row(s, row, NULL), *l3;
    (void)state;
    assert_string_equal(l1, l2);
    /* decode and encode again: the same bytes */
    assert_int_equal(decode(l1, strlen(l1) - 1, airport_types, 5, NULL, 0, &a, &r), 0);
    l3 = encode_row(s, r.vals, r.refs);
    assert_string_equal(l1, l3);
    /* the same logical row spelled differently decodes to the same values,
     * and re-encodes to the canonical bytes */
    assert_int_equal(decode_row("[ \"h\\u00e9\\u000a\" , 1e-1,42 ,true,{\"hex\":\"0010\"} ]", &a, &r), 0);
    free(l3);
    l3 = encode_row(s, r.vals, r.refs);
    assert_string_equal(l1, l3);
    free(l1);
    free(l2);
    free(l3);
    pv_arena_free(&a);
    pv_schema_free(s);
}

/* ---- round trips ------------------------------------------------------------ */

static void roundtrip(const pv_schema *s, const pv_value *row)
{
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec r;
    char *l = encode_row(s, row, NULL);
    size_t len = strlen(l), i;
    assert_true(len > 0 && l[len - 1] == '\n');
    assert_null(memchr(l, '\n', len - 1)); /* one line */
    assert_int_equal(decode(l, len - 1, airport_types, 5, NULL, 0, &a, &r), 0);
    assert_int_equal(r.kind, PV_REC_ROW);
    assert_int_equal(r.nvals, 5);
    assert_null(r.refs);
    for (i = 0; i < 5; i++) {
        pv_value want = row[i];
        if (want.type == PV_REAL && isnan(want.u.f)) want = pv_v_null();
        assert_same_value(&r.vals[i], &want);
    }
    free(l);
    pv_arena_free(&a);
}

static void test_roundtrip_types(void **state)
{
    pv_schema *s = airports_schema();
    char all[256], text[600];
    size_t i, n = 0;
    double reals[] = {0.0, -0.0, 1.0, 0.1, -2.5, 1e300, 5e-324, DBL_MAX, -DBL_MIN, INFINITY, -INFINITY,
                      31.95376472, 1.0 / 3, 1200.0, 9007199254740993.0, NAN};
    int64_t ints[] = {0, 1, -1, INT64_MIN, INT64_MAX, 1000000007};
    (void)state;
    for (i = 0; i < 256; i++) all[i] = (char)i;
    /* every code point class: ASCII with all controls, 2/3/4-byte UTF-8 */
    for (i = 0; i < 128; i++) text[n++] = (char)i;
    memcpy(text + n, "\xc2\x80\xdf\xbf\xe0\xa0\x80\xef\xbf\xbf\xf0\x90\x80\x80\xf4\x8f\xbf\xbf", 18);
    n += 18;
    for (i = 0; i < sizeof reals / sizeof reals[0]; i++) {
        pv_value row[5] = {pv_v_text(text, n), pv_v_real(reals[i]), pv_v_int(ints[i % 6]),
                           pv_v_bool((int)(i & 1)), pv_v_blob(all, 256 - i)};
        roundtrip(s, row);
    }
    {
        pv_value nulls[5] = {pv_v_null(), pv_v_null(), pv_v_null(), pv_v_null(), pv_v_null()};
        pv_value empty[5] = {pv_v_text("", 0), pv_v_real(0), pv_v_int(0), pv_v_bool(0), pv_v_blob("", 0)};
        roundtrip(s, nulls);
        roundtrip(s, empty);
    }
    pv_schema_free(s);
}

/* pv_chunk_header_is: a header of version 1 or 2 listing exactly the
 * schema's columns, in order (where appends may go). */
static void test_header_is(void **state)
{
    pv_schema *s = airports_schema();
    pv_buf b = PV_BUF_INIT;
    char *names[5] = {"code", "lat", "n", "flag", "data"};
    (void)state;
    assert_int_equal(pv_chunk_encode_header(&b, s), 0);
    assert_true(pv_chunk_header_is(b.p, b.len - 1, s));
    assert_false(pv_chunk_header_is(b.p, b.len - 2, s));
    b.len = 0;
    assert_int_equal(pv_chunk_encode_header_compacted(&b, names, 5, 42), 0);
    assert_true(pv_chunk_header_is(b.p, b.len - 1, s));
    b.p[b.len - 3] = 'x'; /* not a hex digit */
    assert_false(pv_chunk_header_is(b.p, b.len - 1, s));
    b.len = 0;
    assert_int_equal(pv_chunk_encode_header_compacted(&b, names, 4, 42), 0);
    assert_false(pv_chunk_header_is(b.p, b.len - 1, s));
    assert_false(pv_chunk_header_is("{\"pv\":1,\"columns\":[\"code\"]}", 26, s));
    pv_buf_free(&b);
    pv_schema_free(s);
}

static void test_roundtrip_header_delete(void **state)
{
    pv_schema *s = airports_schema();
    pv_buf b = PV_BUF_INIT;
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec r;
    pv_value key[1] = {pv_v_text("K\"\\", 3)};
    int kt[2] = {PV_INTEGER, PV_TEXT};
    (void)state;
    assert_int_equal(pv_chunk_encode_header(&b, s), 0);
    assert_int_equal(decode(b.p, b.len - 1, NULL, 0, NULL, 0, &a, &r), 0);
    assert_int_equal(r.kind, PV_REC_HEADER);
    assert_int_equal(r.nvals, 5);
    assert_string_equal(r.names[0], "code");
    assert_string_equal(r.names[4], "data");
    b.len = 0;
    assert_int_equal(pv_chunk_encode_delete(&b, s, key), 0);
    assert_int_equal(decode(b.p, b.len - 1, airport_types, 5, airport_types, 1, &a, &r), 0);
    assert_int_equal(r.kind, PV_REC_DELETE);
    assert_int_equal(r.nvals, 1);
    assert_same_value(&r.vals[0], &key[0]);
    /* a composite delete */
    assert_int_equal(decode("{\"delete\":[-3,\"x\"]}", 19, NULL, 0, kt, 2, &a, &r), 0);
    assert_int_equal(r.kind, PV_REC_DELETE);
    assert_int_equal(r.nvals, 2);
    assert_true(r.vals[0].type == PV_INTEGER && r.vals[0].u.i == -3);
    /* a header with a newer version is a format error, not corruption */
    assert_int_equal(decode("{\"pv\":4,\"columns\":[\"a\"]}", 25, NULL, 0, NULL, 0, &a, &r), PV_EFORMAT);
    assert_non_null(strstr(pv_errmsg(), "upgrade pvdev"));
    /* version 3: a continuation header, allowed after the first line only;
     * versions 1 and 2 on the first line only */
    b.len = 0;
    assert_int_equal(pv_chunk_encode_header_cont(&b, s), 0);
    assert_string_equal(b.p, "{\"pv\":3,\"columns\":[\"code\",\"lat\",\"n\",\"flag\",\"data\"]}\n");
    assert_true(pv_chunk_header_is(b.p, b.len - 1, s));
    assert_true(pv_chunk_line_is_header(b.p, b.len - 1));
    assert_int_equal(decode(b.p, b.len - 1, NULL, 0, NULL, 0, &a, &r), 0);
    assert_int_equal(r.kind, PV_REC_HEADER);
    assert_int_equal(r.version, PV_CHUNK_VERSION_CONT);
    assert_int_equal(r.nvals, 5);
    assert_int_equal(pv_chunk_check_place(&r, 0), PV_OK);
    assert_int_equal(pv_chunk_check_place(&r, 1), PV_ECORRUPT);
    assert_non_null(strstr(pv_errmsg(), "continuation header"));
    {
        static const char v3c[] = "{\"pv\":3,\"columns\":[\"a\"],\"compacted\":\"0123456789abcdef\"}";
        static const char v1[] = "{\"pv\":1,\"columns\":[\"a\"]}";
        assert_int_equal(decode(v3c, sizeof v3c - 1, NULL, 0, NULL, 0, &a, &r), PV_ECORRUPT);
        assert_int_equal(decode(v1, sizeof v1 - 1, NULL, 0, NULL, 0, &a, &r), 0);
    }
    assert_int_equal(r.version, PV_CHUNK_VERSION);
    assert_int_equal(pv_chunk_check_place(&r, 1), PV_OK);
    assert_int_equal(pv_chunk_check_place(&r, 0), PV_ECORRUPT);
    assert_non_null(strstr(pv_errmsg(), "a chunk header after the first line"));
    assert_int_equal(decode("[1]", 3, kt, 1, NULL, 0, &a, &r), 0);
    assert_int_equal(pv_chunk_check_place(&r, 1), PV_ECORRUPT);
    assert_int_equal(pv_chunk_check_place(&r, 0), PV_OK);
    assert_false(pv_chunk_line_is_header("[1]", 3));
    assert_false(pv_chunk_line_is_header("{\"delete\":[1]}", 14));
    /* the last header of a chunk's text */
    {
        static const char text[] = "{\"pv\":1,\"columns\":[\"a\"]}\n[1]\n{\"pv\":3,\"columns\":[\"a\",\"b\"]}\n[2,3]\n";
        size_t hlen;
        const char *h = pv_chunk_last_header(text, sizeof text - 1, &hlen);
        assert_non_null(h);
        assert_int_equal(h - text, 29);
        assert_int_equal(hlen, 28);
        h = pv_chunk_last_header(text, 29, &hlen);
        assert_true(h == text && hlen == 24);
        assert_null(pv_chunk_last_header("[1]\n", 4, &hlen));
    }
    /* version 2: a chunk a compaction rewrote names the bytes it replaced */
    {
        static const char *const bad2[] = {
            "{\"pv\":2,\"columns\":[\"a\"]}",                                 /* no "compacted" */
            "{\"pv\":2,\"columns\":[\"a\"],\"compacted\":\"0123456789abcde\"}", /* 15 digits */
            "{\"pv\":2,\"columns\":[\"a\"],\"compacted\":\"0123456789ABCDEF\"}", /* upper case */
            "{\"pv\":2,\"columns\":[\"a\"],\"compacted\":12}",
            "{\"pv\":1,\"columns\":[\"a\"],\"compacted\":\"0123456789abcdef\"}", /* not in version 1 */
        };
        char *names[2] = {"a", "b\"c"};
        size_t i;
        b.len = 0;
        assert_int_equal(pv_chunk_encode_header_compacted(&b, names, 2, 0x0123456789abcdefull), 0);
        assert_string_equal(b.p, "{\"pv\":2,\"columns\":[\"a\",\"b\\\"c\"],\"compacted\":\"0123456789abcdef\"}\n");
        assert_int_equal(decode(b.p, b.len - 1, NULL, 0, NULL, 0, &a, &r), 0);
        assert_int_equal(r.kind, PV_REC_HEADER);
        assert_int_equal(r.nvals, 2);
        assert_string_equal(r.names[1], "b\"c");
        for (i = 0; i < sizeof bad2 / sizeof bad2[0]; i++)
            if (decode(bad2[i], strlen(bad2[i]), NULL, 0, NULL, 0, &a, &r) != PV_ECORRUPT)
                fail_msg("case %zu: '%s' was not refused", i, bad2[i]);
    }
    assert_int_equal(decode("{\"pv\":1,\"columns\":[]}", 21, NULL, 0, NULL, 0, &a, &r), 0);
    assert_int_equal(r.nvals, 0);
    pv_buf_free(&b);
    pv_arena_free(&a);
    pv_schema_free(s);
}

static void test_blobref(void **state)
{
    pv_schema *s = airports_schema();
    pv_value row[5] = {pv_v_text("ignored", 7), pv_v_null(), pv_v_int(1), pv_v_null(), pv_v_blob("x", 1)};
    pv_blobref refs[5];
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec r;
    const char *hex = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    char *l, want[256];
    (void)state;
    memset(refs, 0, sizeof refs);
    refs[0].present = 1;
    strcpy(refs[0].hex, hex);
    refs[0].size = 5000;
    refs[4].present = 1;
    strcpy(refs[4].hex, hex);
    refs[4].size = 18446744073709551615ull >> 1;
    l = encode_row(s, row, refs);
    snprintf(want, sizeof want,
             "[{\"sha256\":\"%s\",\"size\":5000},null,1,null,{\"sha256\":\"%s\",\"size\":9223372036854775807}]\n",
             hex, hex);
    assert_string_equal(l, want);
    assert_int_equal(decode(l, strlen(l) - 1, airport_types, 5, NULL, 0, &a, &r), 0);
    assert_non_null(r.refs);
    assert_true(r.refs[0].present);
    assert_string_equal(r.refs[0].hex, hex);
    assert_true(r.refs[0].size == 5000);
    assert_int_equal(r.vals[0].type, PV_TEXT);
    assert_false(r.refs[1].present);
    assert_false(r.refs[2].present);
    assert_true(r.refs[4].present);
    assert_int_equal(r.vals[4].type, PV_BLOB);
    free(l);

    /* a reference is refused in a column that cannot hold one */
    snprintf(want, sizeof want, "[\"a\",{\"sha256\":\"%s\",\"size\":1},null,null,null]", hex);
    assert_int_equal(decode_row(want, &a, &r), PV_ECORRUPT);
    /* upper-case digest, short digest, negative size, missing size */
    snprintf(want, sizeof want, "[{\"sha256\":\"%s\",\"size\":1},null,null,null,null]",
             "0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef");
    assert_int_equal(decode_row(want, &a, &r), PV_ECORRUPT);
    snprintf(want, sizeof want, "[{\"sha256\":\"%.63s\",\"size\":1},null,null,null,null]", hex);
    assert_int_equal(decode_row(want, &a, &r), PV_ECORRUPT);
    snprintf(want, sizeof want, "[{\"sha256\":\"%s\",\"size\":-1},null,null,null,null]", hex);
    assert_int_equal(decode_row(want, &a, &r), PV_ECORRUPT);
    snprintf(want, sizeof want, "[{\"sha256\":\"%s\"},null,null,null,null]", hex);
    assert_int_equal(decode_row(want, &a, &r), PV_ECORRUPT);
    snprintf(want, sizeof want, "[{\"sha256\":\"%s\",\"size\":1.5},null,null,null,null]", hex);
    assert_int_equal(decode_row(want, &a, &r), PV_ECORRUPT);
    snprintf(want, sizeof want, "[{\"sha256\":\"%s\",\"size\":1,\"x\":1},null,null,null,null]", hex);
    assert_int_equal(decode_row(want, &a, &r), PV_ECORRUPT);
    pv_arena_free(&a);
    pv_schema_free(s);
}

/* ---- escapes on the way in ---------------------------------------------------- */

static void decode_text(const char *json, const char *want, size_t want_len)
{
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec r;
    int t = PV_TEXT;
    int rc = decode(json, strlen(json), &t, 1, NULL, 0, &a, &r);
    if (rc) fail_msg("%s: rc %d: %s", json, rc, pv_errmsg());
    assert_int_equal(r.vals[0].type, PV_TEXT);
    assert_int_equal(r.vals[0].u.s.n, want_len);
    assert_memory_equal(r.vals[0].u.s.p, want, want_len);
    pv_arena_free(&a);
}

static void text_corrupt(const char *json, size_t len)
{
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec r;
    int t = PV_TEXT;
    int rc = decode(json, len, &t, 1, NULL, 0, &a, &r);
    if (rc != PV_ECORRUPT) fail_msg("'%.*s': rc %d, want PV_ECORRUPT", (int)len, json, rc);
    assert_non_null(strstr(pv_errmsg(), "byte"));
    pv_arena_free(&a);
}
#define TEXT_CORRUPT(lit) text_corrupt(lit, sizeof lit - 1)

static void test_decode_escapes(void **state)
{
    (void)state;
    decode_text("[\"\\u00e9\"]", "\xc3\xa9", 2);
    decode_text("[\"\\u00E9\"]", "\xc3\xa9", 2);
    decode_text("[\"\\u20ac\"]", "\xe2\x82\xac", 3);
    decode_text("[\"\\ud83d\\ude00\"]", "\xf0\x9f\x98\x80", 4);
    decode_text("[\"\\udbff\\udfff\"]", "\xf4\x8f\xbf\xbf", 4);
    decode_text("[\"a\\u0000b\"]", "a\0b", 3);
    decode_text("[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "\"\\/\b\f\n\r\t", 8);
    decode_text("[\"\xe2\x82\xac raw\"]", "\xe2\x82\xac raw", 7);
    decode_text("[\"\"]", "", 0);

    TEXT_CORRUPT("[\"\\ud83d\"]");          /* lone high surrogate */
    TEXT_CORRUPT("[\"\\ude00\"]");          /* lone low surrogate */
    TEXT_CORRUPT("[\"\\ud83d\\u0041\"]");   /* high + non-surrogate */
    TEXT_CORRUPT("[\"\\ud83dx\"]");
    TEXT_CORRUPT("[\"\\ud83d\\ud83d\"]");
    TEXT_CORRUPT("[\"\\u12\"]");
    TEXT_CORRUPT("[\"\\u00zz\"]");
    TEXT_CORRUPT("[\"\\u");
    TEXT_CORRUPT("[\"\\x41\"]");
    TEXT_CORRUPT("[\"\\a\"]");
    TEXT_CORRUPT("[\"\\U00e9\"]");
    TEXT_CORRUPT("[\"\\");
    TEXT_CORRUPT("[\"abc\\\"]");            /* the quote is escaped: unterminated */
    TEXT_CORRUPT("[\"a\tb\"]");             /* raw tab */
    TEXT_CORRUPT("[\"a\x01\"]");
    TEXT_CORRUPT("[\"a\x1f\"]");
    TEXT_CORRUPT("[\"a\r\"]");
    TEXT_CORRUPT("[\"a\0\"]");
    TEXT_CORRUPT("[\"\xff\"]");             /* invalid UTF-8 */
    TEXT_CORRUPT("[\"\xc0\xaf\"]");         /* overlong */
    TEXT_CORRUPT("[\"\xed\xa0\x80\"]");     /* encoded surrogate */
    TEXT_CORRUPT("[\"\xf4\x90\x80\x80\"]"); /* > U+10FFFF */
    TEXT_CORRUPT("[\"ab\xe2\x82\"]");       /* truncated sequence */
    TEXT_CORRUPT("['a']");
}

/* ---- malformed lines ------------------------------------------------------- */

static void row_corrupt(const char *line)
{
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec r;
    int rc = decode(line, strlen(line), airport_types, 5, airport_types, 1, &a, &r);
    if (rc != PV_ECORRUPT) fail_msg("'%s': rc %d, want PV_ECORRUPT", line, rc);
    pv_arena_free(&a);
}

static void test_wrong_shapes(void **state)
{
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec r;
    (void)state;
    /* a good line, for contrast */
    assert_int_equal(decode_row("[\"SFO\",37.5,null,true,{\"hex\":\"00ff\"}]", &a, &r), 0);
    assert_int_equal(decode_row("[\"SFO\",37,null,true,null]", &a, &r), 0); /* 37 reads as a REAL */
    assert_true(r.vals[1].type == PV_REAL && r.vals[1].u.f == 37.0);
    pv_arena_free(&a);

    row_corrupt("");
    row_corrupt(" ");
    row_corrupt("x");
    row_corrupt("null");
    row_corrupt("[\"SFO\",37.5,null,true]");                       /* too few */
    row_corrupt("[\"SFO\",37.5,null,true,null,null]");             /* too many */
    row_corrupt("[\"SFO\",37.5,null,true,null]x");                 /* extra bytes */
    row_corrupt("[\"SFO\",37.5,null,true,null]]");
    row_corrupt("[\"SFO\",37.5,null,true,null]\r");
    row_corrupt("[\"SFO\",37.5,null,true,null,]");
    row_corrupt("[\"SFO\" 37.5,null,true,null]");
    row_corrupt("[\"SFO\",,null,true,null]");
    row_corrupt("[37,37.5,null,true,null]");                       /* number in TEXT */
    row_corrupt("[true,37.5,null,true,null]");                     /* bool in TEXT */
    row_corrupt("[{\"hex\":\"00\"},37.5,null,true,null]");         /* blob in TEXT */
    row_corrupt("[\"SFO\",\"37.5\",null,true,null]");              /* string in REAL */
    row_corrupt("[\"SFO\",true,null,true,null]");
    row_corrupt("[\"SFO\",nan,null,true,null]");
    row_corrupt("[\"SFO\",Infinity,null,true,null]");
    row_corrupt("[\"SFO\",1e9999,null,true,null]");                /* not our spelling of inf */
    row_corrupt("[\"SFO\",0x10,null,true,null]");
    row_corrupt("[\"SFO\",1.2.3,null,true,null]");
    row_corrupt("[\"SFO\",37.5,1.5,true,null]");                   /* real in INTEGER */
    row_corrupt("[\"SFO\",37.5,1e3,true,null]");
    row_corrupt("[\"SFO\",37.5,01,true,null]");                    /* not canonical */
    row_corrupt("[\"SFO\",37.5,-0,true,null]");
    row_corrupt("[\"SFO\",37.5,+1,true,null]");
    row_corrupt("[\"SFO\",37.5,9223372036854775808,true,null]");   /* out of range */
    row_corrupt("[\"SFO\",37.5,\"1\",true,null]");
    row_corrupt("[\"SFO\",37.5,null,1,null]");                     /* number in BOOLEAN */
    row_corrupt("[\"SFO\",37.5,null,True,null]");
    row_corrupt("[\"SFO\",37.5,null,tru,null]");
    row_corrupt("[\"SFO\",37.5,null,nul,null]");
    row_corrupt("[\"SFO\",37.5,null,true,\"00ff\"]");              /* string in BLOB */
    row_corrupt("[\"SFO\",37.5,null,true,{\"hex\":\"0\"}]");       /* odd digits */
    row_corrupt("[\"SFO\",37.5,null,true,{\"hex\":\"0g\"}]");
    row_corrupt("[\"SFO\",37.5,null,true,{\"hex\":00}]");
    row_corrupt("[\"SFO\",37.5,null,true,{\"hex\":\"00\"]");
    row_corrupt("[\"SFO\",37.5,null,true,{\"hex\":\"00\",\"x\":1}]");
    row_corrupt("[\"SFO\",37.5,null,true,{\"raw\":\"00\"}]");
    row_corrupt("[\"SFO\",37.5,null,true,{}]");
    row_corrupt("[\"SFO\",37.5,null,true,[]]");
    row_corrupt("{\"pv\":1}");
    row_corrupt("{\"pv\":\"1\",\"columns\":[]}");
    row_corrupt("{\"pv\":1,\"columns\":[1]}");
    row_corrupt("{\"pv\":1,\"columns\":[\"a\" \"b\"]}");
    row_corrupt("{\"pv\":1,\"columns\":[\"a\"]}x");
    row_corrupt("{\"delete\":\"SFO\"}");
    row_corrupt("{\"delete\":[\"SFO\"]");
    row_corrupt("{\"delete\":[\"SFO\",\"LAX\"]}");
    row_corrupt("{\"delete\":[1]}");
    row_corrupt("{\"delete\":[null]}x");
    row_corrupt("{\"update\":[]}");
}

/* Every prefix of a valid line is refused, and so is every line with one
 * byte replaced by a troublesome one (never a crash, never an over-read:
 * lines are decoded from exact-size heap copies). */
static void check_prefixes(const char *line, const int *types, uint32_t ntypes,
                           const int *kt, uint32_t nk)
{
    size_t len = strlen(line), cut;
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec r;
    assert_int_equal(decode(line, len, types, ntypes, kt, nk, &a, &r), 0);
    for (cut = 0; cut < len; cut++) {
        int rc = decode(line, cut, types, ntypes, kt, nk, &a, &r);
        if (rc != PV_ECORRUPT)
            fail_msg("prefix of %zu bytes of '%s': rc %d, want PV_ECORRUPT", cut, line, rc);
    }
    pv_arena_free(&a);
}

static void check_mutations(const char *line, const int *types, uint32_t ntypes,
                            const int *kt, uint32_t nk)
{
    static const char subst[] = {'\0', '"', '\\', '[', ']', '{', '}', ',', ':', '-', '.', 'e',
                                 '0', '9', 'u', 'n', ' ', '\t', '\x01', '\x7f', '\x80', '\xff', '\xc3'};
    size_t len = strlen(line), i, k;
    char *copy = malloc(len + 1);
    assert_non_null(copy);
    for (i = 0; i < len; i++)
        for (k = 0; k < sizeof subst; k++) {
            pv_arena a = PV_ARENA_INIT;
            pv_chunk_rec r;
            int rc;
            memcpy(copy, line, len);
            copy[i] = subst[k];
            rc = decode(copy, len, types, ntypes, kt, nk, &a, &r);
            /* a header whose version digit changed is PV_EFORMAT */
            if (rc != 0 && rc != PV_ECORRUPT && !(rc == PV_EFORMAT && ntypes == 0 && nk == 0))
                fail_msg("'%s' with byte %zu = 0x%02x: rc %d", line, i, (unsigned char)subst[k], rc);
            pv_arena_free(&a);
        }
    free(copy);
}

static void test_truncated_and_mutated(void **state)
{
    static const char *rows[] = {
        "[\"SFO\",37.5,null,true,{\"hex\":\"00ff\"}]",
        "[\"a\\\"b\\\\c\\n\\u00e9\\ud83d\\ude00\xe2\x82\xac\",-1.5e-300,-9223372036854775808,false,null]",
        "[null,1e999,0,null,{\"sha256\":\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\",\"size\":12345}]",
        "[\"\",-1e999,7,true,{\"hex\":\"\"}]",
    };
    size_t i;
    int kt[2] = {PV_TEXT, PV_INTEGER};
    (void)state;
    for (i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        check_prefixes(rows[i], airport_types, 5, airport_types, 1);
        check_mutations(rows[i], airport_types, 5, airport_types, 1);
    }
    check_prefixes("{\"pv\":1,\"columns\":[\"code\",\"l\\u00e0t\",\"n\"]}", NULL, 0, NULL, 0);
    check_mutations("{\"pv\":1,\"columns\":[\"code\",\"l\\u00e0t\",\"n\"]}", NULL, 0, NULL, 0);
    check_prefixes("{\"delete\":[\"SFO\",-12]}", NULL, 0, kt, 2);
    check_mutations("{\"delete\":[\"SFO\",-12]}", NULL, 0, kt, 2);
}

/* A decoded row line with an error names the byte offset within the line. */
static void test_error_names_offset(void **state)
{
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec r;
    (void)state;
    assert_int_equal(decode_row("[\"SFO\",37.5,xyz,true,null]", &a, &r), PV_ECORRUPT);
    assert_non_null(strstr(pv_errmsg(), "byte 12"));
    assert_int_equal(decode_row("[\"SFO\",37.5,null,true,null] !", &a, &r), PV_ECORRUPT);
    assert_non_null(strstr(pv_errmsg(), "byte 28"));
    pv_arena_free(&a);
}

/* Chunk file names: 8 decimal digits and ".jsonl", counting from 1; every
 * other name in a table directory is not a chunk (fsck, merge, diff and
 * the pre-commit hook all ask this one function). */
static void test_chunk_file_number(void **state)
{
    static const char *const not_chunks[] = {
        "00000000.jsonl", "0000042.jsonl", "000000042.jsonl", "0000004a.jsonl", "00000042.json",
        "00000042.jsonl~", "-0000042.jsonl", "+0000042.jsonl", " 0000042.jsonl", "schema.jsonl",
        "00000042.JSONL", "", "00000042",
    };
    size_t i;
    (void)state;
    assert_int_equal(pv_chunk_file_number("00000001.jsonl"), 1);
    assert_int_equal(pv_chunk_file_number("00000042.jsonl"), 42);
    assert_int_equal(pv_chunk_file_number("10000000.jsonl"), 10000000);
    assert_int_equal(pv_chunk_file_number("99999999.jsonl"), 99999999);
    for (i = 0; i < sizeof not_chunks / sizeof *not_chunks; i++) {
        if (pv_chunk_file_number(not_chunks[i]) != 0) fail_msg("'%s' taken for a chunk", not_chunks[i]);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_row),
        cmocka_unit_test(test_exact_header_delete),
        cmocka_unit_test(test_exact_escapes),
        cmocka_unit_test(test_every_c0_control),
        cmocka_unit_test(test_canonical_is_stable),
        cmocka_unit_test(test_roundtrip_types),
        cmocka_unit_test(test_roundtrip_header_delete),
        cmocka_unit_test(test_header_is),
        cmocka_unit_test(test_blobref),
        cmocka_unit_test(test_decode_escapes),
        cmocka_unit_test(test_wrong_shapes),
        cmocka_unit_test(test_truncated_and_mutated),
        cmocka_unit_test(test_error_names_offset),
        cmocka_unit_test(test_chunk_file_number),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
