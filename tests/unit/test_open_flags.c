/* pv_open's durability flags reach the workspace: PV_OPEN_SYNC and
 * PV_OPEN_FAST choose it, over the PV_DURABILITY variable; both together,
 * or an unknown flag, are refused; a read-only open takes them and ignores
 * them. The fsyncs each mode makes are counted in tests/e2e/durability.sh. */
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
#include "ws.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pv-test-open-flags-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(pv_workspace_init(dir), PV_OK);
    unsetenv("PV_DURABILITY");
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    unsetenv("PV_DURABILITY");
    return 0;
}

/* The durability a writable open with `flags` ends up with, after a commit
 * (so the handle really wrote under it). */
static int durability_of(unsigned flags)
{
    pv_db *db;
    int d;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE | flags, &db), PV_OK);
    assert_int_equal(pv_exec(db, "CREATE TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY);"
                                 "INSERT OR REPLACE INTO t VALUES (1);"),
                     PV_OK);
    d = pv_ws_durability(db->ws);
    assert_int_equal(pv_close(db), PV_OK);
    return d;
}

static void test_flags_choose(void **state)
{
    (void)state;
    assert_int_equal(durability_of(0), PV_WS_SYNC);
    assert_int_equal(durability_of(PV_OPEN_FAST), PV_WS_FAST);
    assert_int_equal(durability_of(PV_OPEN_SYNC), PV_WS_SYNC);
}

static void test_flags_over_variable(void **state)
{
    (void)state;
    setenv("PV_DURABILITY", "fast", 1);
    assert_int_equal(durability_of(0), PV_WS_FAST);
    assert_int_equal(durability_of(PV_OPEN_SYNC), PV_WS_SYNC);
    setenv("PV_DURABILITY", "sync", 1);
    assert_int_equal(durability_of(PV_OPEN_FAST), PV_WS_FAST);
    /* a bad variable does not matter once a flag chooses */
    setenv("PV_DURABILITY", "fsat", 1);
    assert_int_equal(durability_of(PV_OPEN_FAST), PV_WS_FAST);
}

static void test_flags_refused(void **state)
{
    pv_db *db = (pv_db *)1;
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE | PV_OPEN_SYNC | PV_OPEN_FAST, &db), PV_EMISUSE);
    assert_null(db);
    assert_non_null(strstr(pv_errmsg(), "PV_OPEN_SYNC and PV_OPEN_FAST"));
    assert_int_equal(pv_open(dir, 0x8u, &db), PV_EMISUSE);
    assert_non_null(strstr(pv_errmsg(), "unknown flags 0x8"));
    /* read-only: accepted, nothing to sync */
    assert_int_equal(pv_open(dir, PV_OPEN_FAST, &db), PV_OK);
    assert_int_equal(pv_close(db), PV_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_flags_choose, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flags_over_variable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flags_refused, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
