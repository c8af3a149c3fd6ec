/*
 * test_util.c: growable buffers, arenas and error messages (libpv/util.c,
 * libpv/error.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"

static void test_buf(void **state)
{
    pv_buf b = PV_BUF_INIT;
    int i;
    (void)state;
    for (i = 0; i < 10000; i++) assert_int_equal(pv_buf_putc(&b, (char)('a' + i % 26)), PV_OK);
    assert_int_equal(b.len, 10000);
    assert_int_equal(b.p[b.len], '\0');
    assert_int_equal(pv_buf_printf(&b, "%d-%s", 42, "x"), PV_OK);
    assert_string_equal(b.p + 10000, "42-x");
    assert_int_equal(pv_buf_align(&b, 8), PV_OK);
    assert_int_equal(b.len % 8, 0);
    assert_int_equal(b.p[b.len - 1], '\0');
    pv_buf_free(&b);
    assert_null(b.p);
}

static void test_arena(void **state)
{
    pv_arena a = PV_ARENA_INIT;
    char *p[1000];
    int i;
    (void)state;
    for (i = 0; i < 1000; i++) {
        p[i] = pv_arena_dup(&a, "hello, arena", 12);
        assert_non_null(p[i]);
        assert_int_equal(((uintptr_t)p[i]) % 8, 0);
    }
    for (i = 0; i < 1000; i++) assert_string_equal(p[i], "hello, arena");
    /* a big allocation gets its own block and keeps the current one usable */
    assert_non_null(pv_arena_alloc(&a, 1 << 20));
    assert_non_null(pv_arena_dup(&a, "after", 5));
    pv_arena_free(&a);
    assert_null(a.head);
}

static void test_arena_reset_reuses_a_block(void **state)
{
    pv_arena a = PV_ARENA_INIT;
    void *first;
    int round, i;
    (void)state;
    first = pv_arena_alloc(&a, 16);
    for (round = 0; round < 3; round++) {
        for (i = 0; i < 20000; i++) assert_non_null(pv_arena_alloc(&a, 24)); /* several blocks */
        assert_non_null(pv_arena_alloc(&a, 1 << 20));
        pv_arena_reset(&a);
        assert_non_null(a.head);
        assert_int_equal(a.total, 65536); /* exactly one standard block kept */
        assert_int_equal(a.used, 0);
        /* the kept block serves the next allocation */
        assert_non_null(pv_arena_alloc(&a, 16));
    }
    (void)first;
    pv_arena_free(&a);
}

/* A short-lived arena holding a few small values stays small: blocks grow
 * 4, 8, 16, 32, 64 KiB, so freeing two arenas of a point query does not hand
 * more than glibc's trim threshold back to the kernel each time. */
static void test_arena_starts_small_and_doubles(void **state)
{
    pv_arena a = PV_ARENA_INIT;
    size_t sizes[16], n = 0, before;
    int i;
    (void)state;
    assert_non_null(pv_arena_alloc(&a, 40));
    assert_int_equal(a.total, 4096);
    sizes[n++] = a.total;
    for (i = 0; i < 40000; i++) {
        before = a.total;
        assert_non_null(pv_arena_alloc(&a, 24));
        if (a.total != before && n < 16) sizes[n++] = a.total - before; /* a new block */
    }
    assert_true(n >= 7);
    assert_int_equal(sizes[1], 8192);
    assert_int_equal(sizes[2], 16384);
    assert_int_equal(sizes[4], 65536);
    assert_int_equal(sizes[6], 65536); /* never past the standard block */
    pv_arena_free(&a);
    /* a first request larger than the first block gets a block that fits */
    assert_non_null(pv_arena_alloc(&a, 10000));
    assert_int_equal(a.total, 16384);
    pv_arena_free(&a);
}

static void test_errors(void **state)
{
    char big[3000];
    (void)state;
    assert_int_equal(pv_err(PV_EINPUT, "%s:%d: bad", "f.csv", 3), PV_EINPUT);
    assert_string_equal(pv_errmsg(), "f.csv:3: bad");
    pv_err_prefix("while loading %s", "t");
    assert_string_equal(pv_errmsg(), "while loading t: f.csv:3: bad");
    assert_int_equal(PV_CORRUPT("at byte %d", 7), PV_ECORRUPT);
    assert_non_null(strstr(pv_errmsg(), "at byte 7 (detected at test_util.c:"));
    /* a message longer than the buffer is cut, keeping its start */
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    pv_err(PV_EIO, "start %s", big);
    pv_err_prefix("prefix");
    assert_true(strncmp(pv_errmsg(), "prefix: start xxx", 17) == 0);
    assert_true(strlen(pv_errmsg()) < 1024);
    assert_string_equal(pv_errstr(PV_ECORRUPT), "PV_ECORRUPT: file is damaged");
    assert_string_equal(pv_errstr(12345), "unknown error");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_buf),
        cmocka_unit_test(test_arena),
        cmocka_unit_test(test_arena_reset_reuses_a_block),
        cmocka_unit_test(test_arena_starts_small_and_doubles),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
