/*
 * test_reopen.c: pv_reopen on a workspace handle. The handle reads from
 * the snapshot it took at open (docs/FORMAT.md part 1, "Commit lock");
 * pv_reopen takes a fresh one when another process committed since, so
 * the next reads see the latest commit, and changes nothing (no table is
 * read again) when nothing was committed.
 *
 * The other process is real: a forked child opens its own handle and
 * commits (an INSERT, a compaction) while the parent's handle is open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "db.h"
#include "pv.h"
#include "ws.h"
#include "ws_internal.h"

static char dir[256];

static int setup(void **state)
{
    pv_db *db;
    (void)state;
    setenv("PV_DURABILITY", "fast", 1);
    snprintf(dir, sizeof dir, "/tmp/pv-test-reopen-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(pv_workspace_init(dir), PV_OK);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_exec(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT);"
                                 "CREATE TABLE u (k INTEGER PRIMARY KEY, v TEXT);"
                                 "INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c');"
                                 "INSERT INTO u VALUES (1, 'x')"),
                     PV_OK);
    pv_close(db);
    return 0;
}

static int teardown(void **state)
{
    char cmd[300];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Another process: `sql` on its own writable handle, or a compaction when
 * sql is NULL. Fails the test unless it worked. */
static void other_process(const char *sql)
{
    pid_t pid;
    int status = 0;
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        pv_db *db;
        size_t n = 0;
        int rc = pv_open(dir, PV_OPEN_READWRITE, &db);
        if (!rc) rc = sql ? pv_exec(db, sql) : pv_ws_compact(db->ws, NULL, &n);
        if (rc) fprintf(stderr, "other process: %s\n", pv_errmsg());
        pv_close(db);
        _exit(rc ? 1 : 0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

/* The first column of the one row of `sql`, or the error's code. */
static int64_t one(pv_db *db, const char *sql)
{
    pv_stmt *st;
    int64_t v;
    int rc = pv_prepare(db, sql, (size_t)-1, &st, NULL);
    if (rc) return rc;
    rc = pv_step(st);
    v = rc == PV_ROW ? pv_column_int64(st, 0) : rc;
    pv_finalize(st);
    return v;
}

static void reopen_sees_commit(unsigned flags)
{
    pv_db *db;
    int changed = -1;
    assert_int_equal(pv_open(dir, flags, &db), PV_OK);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM t"), 3);
    other_process("INSERT INTO t VALUES (4, 'd')");
    /* the snapshot of the open: the commit is not seen */
    assert_int_equal(one(db, "SELECT COUNT(*) FROM t"), 3);
    assert_int_equal(pv_reopen(db, &changed), PV_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM t"), 4);
    /* nothing committed since: nothing to take */
    assert_int_equal(pv_reopen(db, &changed), PV_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(pv_reopen(db, NULL), PV_OK);
    pv_close(db);
}

static void test_reopen_sees_commit(void **state)
{
    (void)state;
    reopen_sees_commit(PV_OPEN_READONLY);
}

static void test_reopen_sees_commit_writable(void **state)
{
    (void)state;
    reopen_sees_commit(PV_OPEN_READWRITE);
}

/* A compaction after the handle read t: reading u then fails with
 * PV_EBUSY (the documented "reopen"); pv_reopen is that reopen. */
static void test_reopen_after_compaction(void **state)
{
    pv_db *db;
    int changed = -1;
    (void)state;
    other_process("UPDATE t SET v = 'B' WHERE k = 2; DELETE FROM u WHERE k = 1; INSERT INTO u VALUES (2, 'y')");
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_OK);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM t"), 3);
    other_process(NULL);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM u"), PV_EBUSY);
    assert_int_equal(pv_reopen(db, &changed), PV_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(one(db, "SELECT k FROM u"), 2);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM t"), 3);
    pv_close(db);
}

/* A table created and one dropped by the other process are seen. */
static void test_reopen_sees_ddl(void **state)
{
    pv_db *db;
    int changed = -1;
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_OK);
    other_process("CREATE TABLE w (k INTEGER PRIMARY KEY); INSERT INTO w VALUES (7); DROP TABLE u");
    assert_int_equal(one(db, "SELECT k FROM w"), PV_ENOTFOUND);
    assert_int_equal(pv_reopen(db, &changed), PV_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(one(db, "SELECT k FROM w"), 7);
    assert_int_equal(one(db, "SELECT k FROM u"), PV_ENOTFOUND);
    pv_close(db);
}

/* Nothing committed: the tables the handle read stay loaded (the check
 * reads no chunk). Our own commits are not changes either. */
static void test_reopen_unchanged_is_cheap(void **state)
{
    pv_db *db;
    int changed = -1, i;
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM t"), 3);
    assert_true(db->ws->tables[0]->loaded || db->ws->tables[0]->vecs);
    for (i = 0; i < 3; i++) {
        assert_int_equal(pv_reopen(db, &changed), PV_OK);
        assert_int_equal(changed, 0);
    }
    assert_true(db->ws->tables[0]->loaded || db->ws->tables[0]->vecs);
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (5, 'e'); CREATE TABLE z (k INTEGER PRIMARY KEY)"), PV_OK);
    assert_int_equal(pv_reopen(db, &changed), PV_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM t"), 4);
    pv_close(db);
}

/* Statements, getters and transactions hold what the handle loaded:
 * pv_reopen refuses while one is open, and changes nothing. */
static void test_reopen_refuses_while_in_use(void **state)
{
    pv_db *db;
    pv_stmt *st;
    pv_getter *g;
    int changed = -1;
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    other_process("INSERT INTO t VALUES (4, 'd')");
    assert_int_equal(pv_prepare(db, "SELECT k FROM t ORDER BY k", (size_t)-1, &st, NULL), PV_OK);
    assert_int_equal(pv_step(st), PV_ROW);
    assert_int_equal(pv_reopen(db, &changed), PV_EMISUSE);
    assert_int_equal(changed, 0);
    assert_non_null(strstr(pv_errmsg(), "statement"));
    /* the statement reads on from its snapshot */
    assert_int_equal(pv_step(st), PV_ROW);
    assert_int_equal(pv_column_int64(st, 0), 2);
    pv_finalize(st);
    assert_int_equal(pv_getter_open(db, "t", &g), PV_OK);
    assert_int_equal(pv_reopen(db, &changed), PV_EMISUSE);
    pv_getter_close(g);
    assert_int_equal(pv_reopen(db, &changed), PV_OK);
    assert_int_equal(changed, 1);
    other_process("INSERT INTO t VALUES (5, 'e')");
    assert_int_equal(pv_exec(db, "BEGIN"), PV_OK);
    assert_int_equal(pv_reopen(db, &changed), PV_EMISUSE);
    assert_non_null(strstr(pv_errmsg(), "transaction"));
    assert_int_equal(pv_exec(db, "ROLLBACK"), PV_OK);
    /* (BEGIN found the commit and took a new snapshot already) */
    assert_int_equal(pv_reopen(db, &changed), PV_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM t"), 5);
    pv_close(db);
}

/* A SELECT stepped once, another process commits (DDL and a row), then
 * BEGIN on the same writable handle takes a new snapshot for the write:
 * the SELECT reads on from the tables of the snapshot it started on (the
 * reload retires them rather than freeing them under it; a heap use
 * after free before), and the transaction works on the latest commit. */
static void test_begin_under_running_select(void **state)
{
    pv_db *db;
    pv_stmt *st;
    int64_t keys[8];
    int n = 0, rc;
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_prepare(db, "SELECT k, v FROM t", (size_t)-1, &st, NULL), PV_OK);
    assert_int_equal(pv_step(st), PV_ROW);
    keys[n++] = pv_column_int64(st, 0);
    other_process("CREATE TABLE w (k INTEGER PRIMARY KEY); INSERT INTO t VALUES (4, 'd')");
    assert_int_equal(pv_exec(db, "BEGIN"), PV_OK);
    assert_true(db->ws->nretired > 0); /* held for the running SELECT */
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (5, 'e'); INSERT INTO w VALUES (1)"), PV_OK);
    while ((rc = pv_step(st)) == PV_ROW) {
        assert_true(n < 8);
        assert_string_equal(pv_column_text(st, 1), n == 1 ? "b" : n == 2 ? "c" : "?");
        keys[n++] = pv_column_int64(st, 0);
    }
    assert_int_equal(rc, PV_DONE);
    assert_int_equal(n, 3);
    assert_int_equal(keys[0], 1);
    assert_int_equal(keys[1], 2);
    assert_int_equal(keys[2], 3);
    assert_int_equal(db->ws->nretired, 0); /* freed when the run ended */
    assert_int_equal(pv_exec(db, "COMMIT"), PV_OK);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM t"), 5);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM w"), 1);
    /* the statement runs again on the latest commit */
    assert_int_equal(pv_reset(st), PV_OK);
    n = 0;
    while ((rc = pv_step(st)) == PV_ROW) n++;
    assert_int_equal(rc, PV_DONE);
    assert_int_equal(n, 5);
    assert_int_equal(pv_finalize(st), PV_OK);
    pv_close(db);
}

/* The common loop: step a SELECT and INSERT derived rows (autocommit, a
 * prepared INSERT kept for the handle's life) while another process
 * commits. The SELECT reads its snapshot's rows; an idle prepared INSERT
 * keeps no retired table alive; pv_reset and pv_finalize end a run. */
static void test_insert_under_running_select(void **state)
{
    pv_db *db;
    pv_stmt *sel, *ins;
    int n = 0, rc;
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_prepare(db, "INSERT INTO u VALUES (?, ?)", (size_t)-1, &ins, NULL), PV_OK);
    assert_int_equal(pv_prepare(db, "SELECT k, v FROM t", (size_t)-1, &sel, NULL), PV_OK);
    while ((rc = pv_step(sel)) == PV_ROW) {
        int64_t k = pv_column_int64(sel, 0);
        assert_int_equal(k, n + 1);
        assert_int_equal(pv_bind_int64(ins, 1, 100 + k), PV_OK);
        assert_int_equal(pv_bind_text(ins, 2, pv_column_text(sel, 1), strlen(pv_column_text(sel, 1))), PV_OK);
        if (n == 0) other_process("CREATE TABLE w (k INTEGER PRIMARY KEY); INSERT INTO t VALUES (4, 'd')");
        assert_int_equal(pv_step(ins), PV_DONE);
        assert_int_equal(pv_reset(ins), PV_OK);
        n++;
    }
    assert_int_equal(rc, PV_DONE);
    assert_int_equal(n, 3);
    assert_int_equal(db->ws->nretired, 0);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM u"), 4);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM u WHERE v = 'c'"), 1);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM t"), 4);
    /* a run ended by pv_reset or pv_finalize frees what it held */
    assert_int_equal(pv_reset(sel), PV_OK);
    assert_int_equal(pv_step(sel), PV_ROW);
    other_process("INSERT INTO t VALUES (6, 'f')");
    assert_int_equal(pv_bind_int64(ins, 1, 200), PV_OK);
    assert_int_equal(pv_step(ins), PV_DONE);
    assert_int_equal(pv_reset(ins), PV_OK);
    assert_true(db->ws->nretired > 0);
    assert_int_equal(pv_reset(sel), PV_OK);
    assert_int_equal(db->ws->nretired, 0);
    assert_int_equal(pv_step(sel), PV_ROW);
    other_process("INSERT INTO t VALUES (7, 'g')");
    assert_int_equal(pv_bind_int64(ins, 1, 201), PV_OK);
    assert_int_equal(pv_step(ins), PV_DONE);
    assert_true(db->ws->nretired > 0);
    assert_int_equal(pv_finalize(sel), PV_OK);
    assert_int_equal(db->ws->nretired, 0);
    assert_int_equal(pv_finalize(ins), PV_OK);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM t"), 6);
    assert_int_equal(one(db, "SELECT COUNT(*) FROM u"), 6);
    pv_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_reopen_sees_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_sees_commit_writable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_after_compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_sees_ddl, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_unchanged_is_cheap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_refuses_while_in_use, setup, teardown),
        cmocka_unit_test_setup_teardown(test_begin_under_running_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_under_running_select, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
