/*
 * test_pvgit.c: reading a workspace at a git revision through libgit2
 * (pvgit/tree_reader.c), against repositories made by the real git.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db.h"
#include "pvgit.h"
#include "util.h"

#include "test_shell.h"

static char dir[256];

/* A repository with two commits: airports-like rows, then one changed, one
 * deleted and one added; the workspace lives in a subdirectory. */
static int setup(void **state)
{
    pv_db *db;
    char ws[300];
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pv-test-git-XXXXXX");
    assert_non_null(mkdtemp(dir));
    shell("cd '%s' && git init -q -b main . && git config user.email t@t && git config user.name t && mkdir data", dir);
    snprintf(ws, sizeof ws, "%s/data", dir);
    assert_int_equal(pv_workspace_init(ws), PV_OK);
    assert_int_equal(pv_open(ws, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_exec(db, "CREATE TABLE a (code TEXT PRIMARY KEY, name TEXT, n INTEGER);"
                                 "INSERT INTO a VALUES ('SFO', 'San Francisco', 1), ('JFK', 'Kennedy', 2),"
                                 " ('00M', 'Thigpen', 3)"),
                     PV_OK);
    pv_close(db);
    shell("cd '%s' && git add -A && git commit -qm one", dir);
    assert_int_equal(pv_open(ws, PV_OPEN_READWRITE, &db), PV_OK);
    {
        pv_value key = pv_v_text("JFK", 3), row[3] = {pv_v_text("SFO", 3), pv_v_text("SF Intl", 7), pv_v_int(10)};
        assert_int_equal(pv_db_delete(db, "a", &key, 1, NULL), PV_OK);
        assert_int_equal(pv_db_write(db, "a", row, 1, 3, PV_WRITE_REPLACE, NULL, 0, NULL), PV_OK);
        assert_int_equal(pv_exec(db, "INSERT INTO a VALUES ('ORD', 'O''Hare', 4)"), PV_OK);
    }
    pv_close(db);
    shell("cd '%s' && git add -A && git commit -qm two", dir);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    shell("rm -rf '%s' '%s.bare'", dir, dir);
    return 0;
}

static void rows_at(const char *wsdir, const char *rev, char *out, size_t cap)
{
    pv_ws *ws;
    pvgit_tree *tree;
    git_repository *repo;
    pv_source src;
    pv_scan *scan;
    pv_batch b;
    uint32_t cols[3] = {0, 1, 2};
    size_t len = 0;
    int n;
    if (pvgit_ws_open(wsdir, rev, &ws, &tree, &repo) != PV_OK) fail_msg("%s: %s", rev, pv_errmsg());
    assert_int_equal(pv_ws_table_source(ws, (uint32_t)pv_ws_table_find(ws, "a", 1), &src), PV_OK);
    assert_int_equal(src.ops->scan_open(&src, cols, 3, &scan), PV_OK);
    out[0] = '\0';
    while ((n = src.ops->scan_next(scan, &b)) > 0) {
        int r;
        for (r = 0; r < n; r++)
            len += (size_t)snprintf(out + len, cap - len, "%.*s|%.*s|%lld;", (int)b.cols[0].u.s[r].n,
                                    b.cols[0].u.s[r].p, (int)b.cols[1].u.s[r].n, b.cols[1].u.s[r].p,
                                    (long long)b.cols[2].u.i[r]);
    }
    src.ops->scan_close(scan);
    pv_ws_close(ws);
    pvgit_tree_free(tree);
    git_repository_free(repo);
}

static void test_rows_at_revisions(void **state)
{
    char ws[300], rows[1024];
    (void)state;
    snprintf(ws, sizeof ws, "%s/data", dir);
    rows_at(ws, "HEAD~1", rows, sizeof rows);
    assert_string_equal(rows, "00M|Thigpen|3;JFK|Kennedy|2;SFO|San Francisco|1;");
    rows_at(ws, "HEAD", rows, sizeof rows);
    assert_string_equal(rows, "00M|Thigpen|3;ORD|O'Hare|4;SFO|SF Intl|10;");
    rows_at(ws, "main", rows, sizeof rows);
    assert_string_equal(rows, "00M|Thigpen|3;ORD|O'Hare|4;SFO|SF Intl|10;");
}

static void test_bare_clone(void **state)
{
    char bare[300], rows[1024];
    pv_ws *ws;
    pvgit_tree *tree;
    git_repository *repo;
    (void)state;
    snprintf(bare, sizeof bare, "%s.bare", dir);
    shell("git clone -q --bare '%s' '%s'", dir, bare);
    /* in a bare repository the workspace is looked for at the top: ours is
     * in data/, so this revision has none there */
    assert_int_equal(pvgit_ws_open(bare, "HEAD~1", &ws, &tree, &repo), PV_ENOTFOUND);
    assert_non_null(strstr(pv_errmsg(), "no workspace at '.pv'"));
    /* a clone with the workspace at the top */
    shell("cd '%s' && git mv data/.pv .pv && git commit -qm move && rm -rf '%s' && git clone -q --bare . '%s'",
       dir, bare, bare);
    rows_at(bare, "HEAD", rows, sizeof rows);
    assert_string_equal(rows, "00M|Thigpen|3;ORD|O'Hare|4;SFO|SF Intl|10;");
    /* before the move, the top of the tree had no workspace */
    assert_int_equal(pvgit_ws_open(bare, "HEAD~1", &ws, &tree, &repo), PV_ENOTFOUND);
}

static void test_errors(void **state)
{
    char ws[300];
    pv_ws *w;
    pvgit_tree *tree;
    git_repository *repo;
    (void)state;
    snprintf(ws, sizeof ws, "%s/data", dir);
    assert_int_equal(pvgit_ws_open(ws, "no-such-branch", &w, &tree, &repo), PV_ENOTFOUND);
    assert_non_null(strstr(pv_errmsg(), "unknown revision 'no-such-branch'"));
    assert_int_equal(pvgit_ws_open("/", "HEAD", &w, &tree, &repo), PV_ENOTFOUND);
    /* a damaged chunk in a commit is reported with git's REV:path name */
    shell("cd '%s' && printf '[\"BAD\",1,2]\\n' >> data/.pv/tables/a/00000001.jsonl && git commit -qam bad", dir);
    {
        pv_source src;
        assert_int_equal(pvgit_ws_open(ws, "HEAD", &w, &tree, &repo), PV_OK);
        assert_int_equal(pv_ws_table_source(w, 0, &src), PV_ECORRUPT);
        assert_non_null(strstr(pv_errmsg(), "HEAD:.pv/tables/a/00000001.jsonl' line"));
        pv_ws_close(w);
        pvgit_tree_free(tree);
        git_repository_free(repo);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rows_at_revisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bare_clone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
    };
    git_libgit2_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
