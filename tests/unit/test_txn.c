/*
 * test_txn.c: transactions on a workspace (libpv/ws_txn.c, ws_journal.c,
 * ws_snap.c, ws_ddl.c) through db.h: rollback, commit, the writer lock,
 * DDL, savepoints, and recovery from a commit cut at every byte offset.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xxhash.h>

#include <cmocka.h>

#include "db.h"
#include "pv.h"
#include "util.h"
#include "test_shell.h"
#include "test_capture.h"

static char dir[256];

/* stderr while a test's calls run, in a file next to the workspace. */
static fd_capture captured;

static void capture_begin(void)
{
    char path[300];
    snprintf(path, sizeof path, "%s.stderr", dir);
    fd_capture_begin(&captured, 2, path);
}

static void capture_end(char *out, size_t n) { fd_capture_end(&captured, out, n); }

static int setup(void **state)
{
    pv_db *db;
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pv-test-txn-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(pv_workspace_init(dir), PV_OK);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_exec(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT);"
                                 "CREATE TABLE u (id TEXT PRIMARY KEY, n INTEGER);"
                                 "INSERT INTO t VALUES (1, 'one'), (2, 'two');"),
                     PV_OK);
    pv_close(db);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    shell("rm -rf '%s'", dir);
    return 0;
}

static char *slurp(const char *rel)
{
    char path[512], *text = NULL;
    size_t n;
    snprintf(path, sizeof path, "%s/.pv/%s", dir, rel);
    if (pv_read_file(path, 1 << 26, &text, &n) != PV_OK) return NULL;
    return text;
}

/* The rows of a table as "k|v;k|v;" through a fresh read-only open. */
static void rows_of(const char *sql, char *out, size_t cap)
{
    pv_db *db;
    pv_stmt *st;
    size_t len = 0;
    out[0] = '\0';
    if (pv_open(dir, PV_OPEN_READONLY, &db) != PV_OK) fail_msg("open: %s", pv_errmsg());
    if (pv_prepare(db, sql, (size_t)-1, &st, NULL) != PV_OK) fail_msg("%s: %s", sql, pv_errmsg());
    while (pv_step(st) == PV_ROW) {
        int c;
        for (c = 0; c < pv_column_count(st); c++)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", c ? "|" : "",
                                    pv_column_type(st, c) == PV_NULL ? "NULL" : pv_column_text(st, c));
        len += (size_t)snprintf(out + len, cap - len, ";");
    }
    pv_finalize(st);
    pv_close(db);
}

static void test_rollback_leaves_nothing(void **state)
{
    pv_db *db;
    char *before = slurp("tables/t/00000001.jsonl"), *after, rows[512];
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_db_begin(db), PV_OK);
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (3, 'three')"), PV_OK);
    {
        pv_value key = pv_v_int(1);
        size_t n;
        assert_int_equal(pv_db_delete(db, "t", &key, 1, &n), PV_OK);
        assert_int_equal(n, 1);
    }
    /* the transaction sees its own writes */
    {
        pv_stmt *st;
        assert_int_equal(pv_prepare(db, "SELECT k FROM t", (size_t)-1, &st, NULL), PV_OK);
        assert_int_equal(pv_step(st), PV_ROW);
        assert_int_equal(pv_column_int64(st, 0), 2);
        assert_int_equal(pv_step(st), PV_ROW);
        assert_int_equal(pv_column_int64(st, 0), 3);
        assert_int_equal(pv_step(st), PV_DONE);
        pv_finalize(st);
    }
    assert_int_equal(pv_db_rollback(db), PV_OK);
    rows_of("SELECT k, v FROM t", rows, sizeof rows);
    assert_string_equal(rows, "1|one;2|two;");
    pv_close(db);
    after = slurp("tables/t/00000001.jsonl");
    assert_string_equal(before, after);
    free(before);
    free(after);
}

static void test_commit_two_tables(void **state)
{
    pv_db *db;
    char rows[512], *chunk;
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_db_begin(db), PV_OK);
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (3, 'three'); INSERT INTO u VALUES ('a', 10)"), PV_OK);
    /* not visible to another reader before commit */
    rows_of("SELECT COUNT(*) FROM u", rows, sizeof rows);
    assert_string_equal(rows, "0;");
    assert_int_equal(pv_db_commit(db), PV_OK);
    assert_int_equal(pv_db_in_txn(db), 0);
    pv_close(db);
    rows_of("SELECT k, v FROM t", rows, sizeof rows);
    assert_string_equal(rows, "1|one;2|two;3|three;");
    rows_of("SELECT id, n FROM u", rows, sizeof rows);
    assert_string_equal(rows, "a|10;");
    chunk = slurp("tables/u/00000001.jsonl");
    assert_string_equal(chunk, "{\"pv\":1,\"columns\":[\"id\",\"n\"]}\n[\"a\",10]\n");
    free(chunk);
    /* no journal left behind */
    assert_null(slurp("journal/commit"));
}

static void test_replace_same_values_writes_nothing(void **state)
{
    pv_db *db;
    pv_value row[2] = {pv_v_int(2), pv_v_text("two", 3)};
    pv_value changed[2] = {pv_v_int(2), pv_v_text("TWO", 3)};
    char *before = slurp("tables/t/00000001.jsonl"), *after;
    size_t n;
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_db_write(db, "t", row, 1, 2, PV_WRITE_REPLACE, NULL, 0, &n), PV_OK);
    assert_int_equal(n, 1);
    after = slurp("tables/t/00000001.jsonl");
    assert_string_equal(before, after);
    free(after);
    /* IGNORE skips an existing key, REPLACE with new values appends a row */
    assert_int_equal(pv_db_write(db, "t", changed, 1, 2, PV_WRITE_IGNORE, NULL, 0, &n), PV_OK);
    assert_int_equal(n, 0);
    assert_int_equal(pv_db_write(db, "t", changed, 1, 2, PV_WRITE_REPLACE, NULL, 0, &n), PV_OK);
    after = slurp("tables/t/00000001.jsonl");
    assert_int_equal(strlen(after), strlen(before) + strlen("[2,\"TWO\"]\n"));
    assert_string_equal(after + strlen(before), "[2,\"TWO\"]\n");
    /* INSERT of an existing key fails and changes nothing */
    assert_int_equal(pv_db_write(db, "t", row, 1, 2, PV_WRITE_INSERT, NULL, 0, &n), PV_ECONSTRAINT);
    pv_close(db);
    free(before);
    free(after);
}

static void test_delete_then_reinsert(void **state)
{
    pv_db *db;
    pv_value key = pv_v_int(1), row[2] = {pv_v_int(1), pv_v_text("uno", 3)};
    char rows[512], *chunk;
    size_t n;
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_db_delete(db, "t", &key, 1, &n), PV_OK);
    assert_int_equal(n, 1);
    assert_int_equal(pv_db_delete(db, "t", &key, 1, &n), PV_OK); /* absent: skipped */
    assert_int_equal(n, 0);
    pv_close(db);
    rows_of("SELECT k FROM t", rows, sizeof rows);
    assert_string_equal(rows, "2;");
    chunk = slurp("tables/t/00000001.jsonl");
    assert_non_null(strstr(chunk, "{\"delete\":[1]}\n"));
    free(chunk);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_db_insert(db, "t", row, 1, 2, NULL, 0), PV_OK);
    pv_close(db);
    rows_of("SELECT k, v FROM t", rows, sizeof rows);
    assert_string_equal(rows, "1|uno;2|two;");
}

static void test_lookup(void **state)
{
    pv_db *db;
    pv_value key = pv_v_int(2), missing = pv_v_int(99);
    const pv_value *row;
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_db_lookup(db, "t", &key, &row), 1);
    assert_int_equal(row[1].type, PV_TEXT);
    assert_memory_equal(row[1].u.s.p, "two", 3);
    assert_int_equal(pv_db_lookup(db, "t", &missing, &row), 0);
    assert_int_equal(pv_db_lookup(db, "nope", &key, &row), PV_ENOTFOUND);
    pv_close(db);
}

static void test_writer_lock(void **state)
{
    pv_db *a, *b;
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &a), PV_OK);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &b), PV_OK);
    assert_int_equal(pv_db_begin(a), PV_OK);
    assert_int_equal(pv_db_begin(b), PV_ELOCKED);
    {
        char want[64];
        snprintf(want, sizeof want, "locked by pid %ld", (long)getpid());
        assert_non_null(strstr(pv_errmsg(), want));
    }
    /* an autocommit write from the second handle is refused the same way */
    assert_int_equal(pv_exec(b, "INSERT INTO t VALUES (7, 'seven')"), PV_ELOCKED);
    /* readers are never blocked */
    {
        char rows[256];
        rows_of("SELECT COUNT(*) FROM t", rows, sizeof rows);
        assert_string_equal(rows, "2;");
    }
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (5, 'five')"), PV_OK);
    assert_int_equal(pv_db_commit(a), PV_OK);
    /* b sees a's commit when it begins */
    assert_int_equal(pv_db_begin(b), PV_OK);
    {
        pv_value key = pv_v_int(5);
        const pv_value *row;
        assert_int_equal(pv_db_lookup(b, "t", &key, &row), 1);
    }
    assert_int_equal(pv_exec(b, "INSERT INTO t VALUES (6, 'six')"), PV_OK);
    assert_int_equal(pv_db_commit(b), PV_OK);
    pv_close(a);
    pv_close(b);
    {
        char rows[256];
        rows_of("SELECT k FROM t", rows, sizeof rows);
        assert_string_equal(rows, "1;2;5;6;");
    }
}

static void test_lock_across_processes(void **state)
{
    pv_db *a;
    pid_t child;
    int status;
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &a), PV_OK);
    assert_int_equal(pv_db_begin(a), PV_OK);
    child = fork();
    if (child == 0) {
        pv_db *b;
        int rc = pv_open(dir, PV_OPEN_READWRITE, &b);
        if (rc == PV_OK) rc = pv_exec(b, "INSERT INTO t VALUES (9, 'nine')");
        _exit(rc == PV_ELOCKED ? 0 : 1);
    }
    assert_true(waitpid(child, &status, 0) == child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(pv_db_rollback(a), PV_OK);
    pv_close(a);
}

/* `.pv/lock` removed while a handle keeps it open (git clean -fdX removes
 * it: it is git-ignored): the next writer creates a new file and locks
 * that. A handle still holding the old file's descriptor must not take
 * its flock (on a file nobody else can open) for the lock: it would write
 * at the same time as the holder of the new one. */
static void test_lock_file_removed(void **state)
{
    pv_db *a, *b;
    char rows[256];
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &a), PV_OK);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &b), PV_OK);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (10, 'a10')"), PV_OK);
    shell("rm '%s/.pv/lock'", dir);
    assert_int_equal(pv_db_begin(b), PV_OK);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (11, 'a11')"), PV_ELOCKED);
    assert_int_equal(pv_exec(b, "INSERT INTO t VALUES (12, 'b12')"), PV_OK);
    assert_int_equal(pv_db_commit(b), PV_OK);
    /* replaced by another file (a checkout, a copy): the same */
    shell("cd '%s/.pv' && cp lock lock.new && mv lock.new lock", dir);
    assert_int_equal(pv_db_begin(b), PV_OK);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (13, 'a13')"), PV_ELOCKED);
    assert_int_equal(pv_db_rollback(b), PV_OK);
    /* with no writer, a takes the new file and sees b's commit */
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (12, 'a12')"), PV_ECONSTRAINT);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (13, 'a13')"), PV_OK);
    assert_int_equal(pv_db_begin(a), PV_OK);
    assert_int_equal(pv_db_begin(b), PV_ELOCKED);
    assert_int_equal(pv_db_commit(a), PV_OK);
    pv_close(a);
    pv_close(b);
    rows_of("SELECT k, v FROM t", rows, sizeof rows);
    assert_string_equal(rows, "1|one;2|two;10|a10;12|b12;13|a13;");
}

/* A process that forks while it holds a handle: the child's copy of the
 * handle shares the parent's open lock file, on which a flock taken by
 * one is no obstacle to the other (flock belongs to the open file). The
 * child must still be refused while the parent writes, and see the
 * parent's commits when it writes itself. */
static void test_fork_with_open_handle(void **state)
{
    pv_db *a;
    pid_t child;
    int status, go[2], done[2];
    char c, rows[256];
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &a), PV_OK);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (10, 'a10')"), PV_OK);
    assert_int_equal(pipe(go), 0);
    assert_int_equal(pipe(done), 0);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        int ok;
        ok = read(go[0], &c, 1) == 1; /* the parent is inside a transaction */
        ok = ok && pv_exec(a, "INSERT INTO t VALUES (20, 'child')") == PV_ELOCKED;
        if (write(done[1], ok ? "y" : "n", 1) != 1) ok = 0;
        ok = ok && read(go[0], &c, 1) == 1; /* the parent committed 11 */
        ok = ok && pv_exec(a, "INSERT INTO t VALUES (11, 'child')") == PV_ECONSTRAINT;
        ok = ok && pv_exec(a, "INSERT INTO t VALUES (21, 'child')") == PV_OK;
        _exit(ok ? 0 : 1);
    }
    assert_int_equal(pv_db_begin(a), PV_OK);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (11, 'a11')"), PV_OK);
    assert_int_equal(write(go[1], "x", 1), 1);
    assert_int_equal(read(done[0], &c, 1), 1);
    assert_int_equal(c, 'y'); /* the child was refused */
    assert_int_equal(pv_db_commit(a), PV_OK);
    assert_int_equal(write(go[1], "x", 1), 1);
    assert_true(waitpid(child, &status, 0) == child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    /* and the parent sees the child's commit */
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (21, 'a21')"), PV_ECONSTRAINT);
    pv_close(a);
    close(go[0]);
    close(go[1]);
    close(done[0]);
    close(done[1]);
    rows_of("SELECT k, v FROM t", rows, sizeof rows);
    assert_string_equal(rows, "1|one;2|two;10|a10;11|a11;21|child;");
}

/* Run `sql` in a child process with its own handle; its exit status is 0
 * when the statement returned `want`. */
static void in_child(const char *sql, int want)
{
    pid_t child = fork();
    int status;
    assert_true(child >= 0);
    if (child == 0) {
        pv_db *b;
        int rc = pv_open(dir, PV_OPEN_READWRITE, &b);
        if (rc == PV_OK) rc = pv_exec(b, sql);
        pv_close(b);
        _exit(rc == want ? 0 : 1);
    }
    assert_true(waitpid(child, &status, 0) == child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A handle that commits again and again must still see what another
 * process committed between two of its commits (the writer skips checks
 * when the lock file shows no other writer came: this is what must not be
 * skipped), and the lock must name the holder again after that. */
static void test_commit_between_ours_is_seen(void **state)
{
    pv_db *a;
    char rows[256], want[64];
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &a), PV_OK);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (10, 'a10')"), PV_OK);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (11, 'a11')"), PV_OK);
    in_child("INSERT INTO t VALUES (12, 'child')", PV_OK);
    /* a sees the child's row: its key is taken */
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (12, 'a12')"), PV_ECONSTRAINT);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (13, 'a13')"), PV_OK);
    in_child("DELETE FROM t WHERE k = 13", PV_OK);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (13, 'again')"), PV_OK);
    /* a holds the lock: a second process is told a's pid, not the child's */
    assert_int_equal(pv_db_begin(a), PV_OK);
    {
        pid_t child = fork();
        int status;
        if (child == 0) {
            pv_db *b;
            int rc = pv_open(dir, PV_OPEN_READWRITE, &b);
            snprintf(want, sizeof want, "locked by pid %ld ", (long)getppid());
            if (rc == PV_OK) rc = pv_exec(b, "INSERT INTO t VALUES (14, 'x')");
            _exit(rc == PV_ELOCKED && strstr(pv_errmsg(), want) ? 0 : 1);
        }
        assert_true(waitpid(child, &status, 0) == child);
        assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    }
    assert_int_equal(pv_db_commit(a), PV_OK);
    pv_close(a);
    rows_of("SELECT k, v FROM t", rows, sizeof rows);
    assert_string_equal(rows, "1|one;2|two;10|a10;11|a11;12|child;13|again;");
}

/* Files changed behind the writer's back between two of its commits (a
 * line appended by hand, a git checkout replacing the chunk file, a table
 * directory created) are seen by the next commit. */
static void test_outside_change_between_ours_is_seen(void **state)
{
    pv_db *a;
    char rows[256];
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &a), PV_OK);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (10, 'a10')"), PV_OK);
    shell("printf '[20,\"by hand\"]\\n' >> '%s/.pv/tables/t/00000001.jsonl'", dir);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (20, 'a20')"), PV_ECONSTRAINT);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (21, 'a21')"), PV_OK);
    /* a checkout writes a new file in place of the old one */
    shell("cd '%s/.pv/tables/t' && cp 00000001.jsonl x && printf '[22,\"checkout\"]\\n' >> x && mv x 00000001.jsonl",
          dir);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (22, 'a22')"), PV_ECONSTRAINT);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (23, 'a23')"), PV_OK);
    /* a table that appeared */
    shell("cp -r '%s/.pv/tables/u' '%s/.pv/tables/w' && sed -i 's/\"u\"/\"w\"/' '%s/.pv/tables/w/schema.jsonl'", dir,
          dir, dir);
    assert_int_equal(pv_exec(a, "CREATE TABLE w (x INTEGER PRIMARY KEY)"), PV_EEXISTS);
    assert_int_equal(pv_exec(a, "INSERT INTO w VALUES ('x', 1)"), PV_OK);
    pv_close(a);
    rows_of("SELECT k, v FROM t", rows, sizeof rows);
    assert_string_equal(rows, "1|one;2|two;10|a10;20|by hand;21|a21;22|checkout;23|a23;");
    rows_of("SELECT id, n FROM w", rows, sizeof rows);
    assert_string_equal(rows, "x|1;");
}

static void test_savepoint(void **state)
{
    pv_db *db;
    size_t mark;
    char rows[256];
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_db_begin(db), PV_OK);
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (3, 'three')"), PV_OK);
    mark = pv_db_savepoint(db);
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (4, 'four')"), PV_OK);
    {
        pv_value key = pv_v_int(1);
        assert_int_equal(pv_db_delete(db, "t", &key, 1, NULL), PV_OK);
    }
    assert_int_equal(pv_db_rollback_to(db, mark), PV_OK);
    assert_int_equal(pv_db_commit(db), PV_OK);
    pv_close(db);
    rows_of("SELECT k FROM t", rows, sizeof rows);
    assert_string_equal(rows, "1;2;3;");
}

static pv_schema *schema_kv(const char *name, int with_extra)
{
    pv_schema *s = pv_schema_new(name, strlen(name));
    uint32_t key = 0;
    assert_non_null(s);
    assert_int_equal(pv_schema_add_column(s, "k", 1, PV_INTEGER, 1), PV_OK);
    assert_int_equal(pv_schema_add_column(s, "value", 5, PV_TEXT, 0), PV_OK);
    if (with_extra) assert_int_equal(pv_schema_add_column(s, "extra", 5, PV_REAL, 0), PV_OK);
    assert_int_equal(pv_schema_set_pk(s, &key, 1), PV_OK);
    assert_int_equal(pv_schema_finish(s), PV_OK);
    return s;
}

/* t's schema as the store has it, renamed v -> value, plus column extra. */
static pv_schema *t_renamed_plus_extra(pv_db *db)
{
    pv_source src;
    pv_schema *s;
    assert_int_equal(pv_db_find_table(db, "t", 1, &src), PV_OK);
    s = pv_schema_clone(src.schema);
    assert_non_null(s);
    assert_int_equal(pv_schema_rename_column(s, 1, "value", 5), PV_OK);
    assert_int_equal(pv_schema_add_column(s, "extra", 5, PV_REAL, 0), PV_OK);
    return s;
}

static void test_alter_table(void **state)
{
    pv_db *db;
    char rows[512], *schema, *c1_before, *c1, *c2;
    int from_add[3] = {0, 1, -1};
    (void)state;
    c1_before = slurp("tables/t/00000001.jsonl");
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    /* rename v -> value and add a column, then roll back */
    assert_int_equal(pv_db_begin(db), PV_OK);
    assert_int_equal(pv_db_alter_table(db, "t", t_renamed_plus_extra(db), from_add), PV_OK);
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (3, 'three', 3.5)"), PV_OK);
    assert_int_equal(pv_db_rollback(db), PV_OK);
    schema = slurp("tables/t/schema.jsonl");
    assert_non_null(strstr(schema, "{\"column\":\"v\",\"type\":\"TEXT\"}"));
    free(schema);
    rows_of("SELECT k, v FROM t", rows, sizeof rows);
    assert_string_equal(rows, "1|one;2|two;");
    /* now for real: only the schema file changes */
    assert_int_equal(pv_db_alter_table(db, "t", t_renamed_plus_extra(db), from_add), PV_OK);
    schema = slurp("tables/t/schema.jsonl");
    assert_non_null(strstr(schema, "{\"column\":\"value\",\"type\":\"TEXT\",\"renamed_from\":[\"v\"]}\n"
                                   "{\"column\":\"extra\",\"type\":\"REAL\"}\n"));
    free(schema);
    c1 = slurp("tables/t/00000001.jsonl");
    assert_string_equal(c1, c1_before);
    assert_null(slurp("tables/t/00000002.jsonl"));
    rows_of("SELECT k, value, extra FROM t", rows, sizeof rows);
    assert_string_equal(rows, "1|one|NULL;2|two|NULL;");
    /* the next rows go to the open chunk behind a continuation header
     * listing the new columns (a new chunk would leave a branch that
     * forked before the ALTER and appended to this one without a file
     * both changed: docs/GIT.md, "Changing columns"), also after
     * reopening; the rows after them need no second one */
    pv_close(db);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (3, 'three', 3.5)"), PV_OK);
    assert_int_equal(pv_exec(db, "UPDATE t SET extra = 1.5 WHERE k = 1"), PV_OK);
    assert_null(slurp("tables/t/00000002.jsonl"));
    c2 = slurp("tables/t/00000001.jsonl");
    assert_int_equal(strncmp(c2, c1_before, strlen(c1_before)), 0);
    assert_string_equal(c2 + strlen(c1_before),
                        "{\"pv\":3,\"columns\":[\"k\",\"value\",\"extra\"]}\n[3,\"three\",3.5]\n[1,\"one\",1.5]\n");
    free(c2);
    /* drop a column: old chunks still read, its values are gone */
    {
        pv_source src;
        pv_schema *s;
        int from_drop[2] = {0, 2};
        assert_int_equal(pv_db_find_table(db, "t", 1, &src), PV_OK);
        s = pv_schema_clone(src.schema);
        assert_int_equal(pv_schema_drop_column(s, 1), PV_OK);
        /* rolled back: no file changes */
        assert_int_equal(pv_db_begin(db), PV_OK);
        assert_int_equal(pv_db_alter_table(db, "t", pv_schema_clone(s), from_drop), PV_OK);
        assert_int_equal(pv_db_rollback(db), PV_OK);
        c2 = slurp("tables/t/00000001.jsonl");
        assert_string_equal(c2 + strlen(c1_before),
                            "{\"pv\":3,\"columns\":[\"k\",\"value\",\"extra\"]}\n[3,\"three\",3.5]\n[1,\"one\",1.5]\n");
        free(c2);
        /* committed: the header listing the columns left goes to the open
         * chunk at once, no row after it (so a branch that edited the
         * dropped column changed this file too, and git runs the merge
         * driver: docs/GIT.md, "Merging schemas") */
        assert_int_equal(pv_db_alter_table(db, "t", s, from_drop), PV_OK);
        c2 = slurp("tables/t/00000001.jsonl");
        assert_non_null(strstr(c2, "[1,\"one\",1.5]\n{\"pv\":3,\"columns\":[\"k\",\"extra\"]}\n"));
        assert_int_equal(c2[strlen(c2) - 1], '\n');
        assert_null(strstr(c2, "{\"pv\":3,\"columns\":[\"k\",\"extra\"]}\n["));
        free(c2);
        /* the dropped name (and its earlier name) cannot come back */
        assert_int_equal(pv_db_find_table(db, "t", 1, &src), PV_OK);
        s = pv_schema_clone(src.schema);
        assert_int_equal(pv_schema_add_column(s, "v", 1, PV_TEXT, 0), PV_EEXISTS);
        assert_int_equal(pv_schema_add_column(s, "value", 5, PV_TEXT, 0), PV_EEXISTS);
        assert_int_equal(pv_schema_drop_column(s, 0), PV_ECONSTRAINT); /* the key */
        pv_schema_free(s);
    }
    /* a second continuation header: the rows above keep the dropped
     * column's values in their lines, read and thrown away */
    assert_int_equal(pv_exec(db, "INSERT INTO t VALUES (4, 4.5)"), PV_OK);
    c2 = slurp("tables/t/00000001.jsonl");
    assert_non_null(strstr(c2, "[1,\"one\",1.5]\n{\"pv\":3,\"columns\":[\"k\",\"extra\"]}\n[4,4.5]\n"));
    free(c2);
    pv_close(db);
    rows_of("SELECT * FROM t", rows, sizeof rows);
    assert_string_equal(rows, "1|1.5;2|NULL;3|3.5;4|4.5;");
    schema = slurp("tables/t/schema.jsonl");
    assert_non_null(strstr(schema, "{\"dropped_column\":\"value\"}\n{\"dropped_column\":\"v\"}\n"));
    free(schema);
    /* the key cannot change */
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    {
        int swap[2] = {1, 0};
        pv_schema *s = pv_schema_new("t", 1);
        uint32_t key = 0;
        pv_schema_add_column(s, "extra", 5, PV_REAL, 1);
        pv_schema_add_column(s, "k", 1, PV_INTEGER, 0);
        pv_schema_set_pk(s, &key, 1);
        assert_int_equal(pv_db_alter_table(db, "t", s, swap), PV_ECONSTRAINT);
    }
    pv_close(db);
    free(c1_before);
    free(c1);
}

static void test_create_drop_rollback(void **state)
{
    pv_db *db;
    struct stat st;
    char path[512], rows[256];
    (void)state;
    snprintf(path, sizeof path, "%s/.pv/tables/w", dir);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_db_begin(db), PV_OK);
    assert_int_equal(pv_db_create_table(db, schema_kv("w", 0), 0), PV_OK);
    assert_int_equal(pv_exec(db, "INSERT INTO w VALUES (1, 'x')"), PV_OK);
    assert_int_equal(pv_db_drop_table(db, "u", 0), PV_OK);
    assert_int_equal(stat(path, &st), -1); /* nothing on disk before commit */
    assert_int_equal(pv_db_rollback(db), PV_OK);
    assert_int_equal(stat(path, &st), -1);
    rows_of("SELECT COUNT(*) FROM u", rows, sizeof rows); /* u is back */
    assert_string_equal(rows, "0;");
    /* commit a create and a drop */
    assert_int_equal(pv_db_begin(db), PV_OK);
    assert_int_equal(pv_db_create_table(db, schema_kv("w", 0), 0), PV_OK);
    assert_int_equal(pv_exec(db, "INSERT INTO w VALUES (1, 'x')"), PV_OK);
    assert_int_equal(pv_db_drop_table(db, "u", 0), PV_OK);
    assert_int_equal(pv_db_commit(db), PV_OK);
    pv_close(db);
    assert_int_equal(stat(path, &st), 0);
    snprintf(path, sizeof path, "%s/.pv/tables/u", dir);
    assert_int_equal(stat(path, &st), -1);
    snprintf(path, sizeof path, "%s/.pv/journal/dropped-u", dir);
    assert_int_equal(stat(path, &st), -1);
    rows_of("SELECT k, value FROM w", rows, sizeof rows);
    assert_string_equal(rows, "1|x;");
}

/* ---- recovery: a commit cut at every byte offset ---------------------- */

static void write_file(const char *rel, const char *data, size_t n)
{
    char path[512];
    FILE *f;
    snprintf(path, sizeof path, "%s/.pv/%s", dir, rel);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

/* The journal docs/FORMAT.md part 1 describes, written by hand. */
static void write_journal(const char *body)
{
    char text[1024];
    size_t n = (size_t)snprintf(text, sizeof text, "pv-journal 1\n%s", body);
    n += (size_t)snprintf(text + n, sizeof text - n, "end %016llx\n",
                          (unsigned long long)XXH3_64bits(text, n));
    shell("mkdir -p '%s/.pv/journal'", dir);
    write_file("journal/commit", text, n);
}

static void test_recovery_at_every_offset(void **state)
{
    char *base = slurp("tables/t/00000001.jsonl"), body[256], rows[512], want[512];
    const char *append = "[3,\"three\"]\n{\"delete\":[1]}\n[4,\"four\"]\n";
    size_t blen = strlen(base), alen = strlen(append), k;
    (void)state;
    rows_of("SELECT k, v FROM t", want, sizeof want);
    snprintf(body, sizeof body, "size %zu tables/t/00000001.jsonl\nsize -1 tables/t/00000002.jsonl\n", blen);
    for (k = 0; k <= alen; k++) {
        char *mixed = malloc(blen + alen + 1);
        pv_db *db;
        memcpy(mixed, base, blen);
        memcpy(mixed + blen, append, k);
        write_file("tables/t/00000001.jsonl", mixed, blen + k);
        write_file("tables/t/00000002.jsonl", "{\"pv\":1,\"col", 12); /* a half-made new chunk */
        write_journal(body);
        /* a reader sees the state before the commit, and changes nothing */
        rows_of("SELECT k, v FROM t", rows, sizeof rows);
        assert_string_equal(rows, want);
        /* a writer rolls the commit back on disk */
        assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
        pv_close(db);
        {
            char *now = slurp("tables/t/00000001.jsonl");
            assert_string_equal(now, base);
            free(now);
        }
        assert_null(slurp("tables/t/00000002.jsonl"));
        assert_null(slurp("journal/commit"));
        free(mixed);
    }
    /* a torn journal (no end line) means no file was touched: it is removed */
    write_file("journal/commit", "pv-journal 1\nsize 0 tables/t/00000001.jsonl\n", 43);
    rows_of("SELECT k, v FROM t", rows, sizeof rows);
    assert_string_equal(rows, want);
    {
        pv_db *db;
        assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
        pv_close(db);
    }
    assert_null(slurp("journal/commit"));
    {
        char *now = slurp("tables/t/00000001.jsonl");
        assert_string_equal(now, base);
        free(now);
    }
    free(base);
}

/* A compaction that stopped after parking the old chunk and starting the
 * new one: the next writable open puts the old chunk back. */
static void test_interrupted_compaction(void **state)
{
    char *base = slurp("tables/t/00000001.jsonl"), want[512], rows[512], err[1024];
    pv_db *db;
    int rc;
    (void)state;
    rows_of("SELECT k, v FROM t", want, sizeof want);
    shell("mkdir -p '%s/.pv/journal' && mv '%s/.pv/tables/t/00000001.jsonl' '%s/.pv/journal/moved-t-00000001.jsonl'",
          dir, dir, dir);
    {
        static const char half[] = "{\"pv\":1,\"columns\":[\"k\",\"v\"]}\n[1,\"o";
        write_file("tables/t/00000002.jsonl", half, strlen(half));
    }
    write_journal("size -1 tables/t/00000002.jsonl\nmoved tables/t/00000001.jsonl\n");
    /* read-only: refuses (the undo is more than cutting chunks) */
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_ECORRUPT);
    assert_non_null(strstr(pv_errmsg(), "open the workspace with pvdev to roll it back"));
    /* a writable open repairs the crash, and says so */
    capture_begin();
    rc = pv_open(dir, PV_OPEN_READWRITE, &db);
    capture_end(err, sizeof err);
    assert_int_equal(rc, PV_OK);
    assert_non_null(strstr(err, "rolled back a commit that was interrupted (2 file changes undone)"));
    pv_close(db);
    {
        char *now = slurp("tables/t/00000001.jsonl");
        assert_non_null(now);
        assert_string_equal(now, base);
        free(now);
    }
    assert_null(slurp("tables/t/00000002.jsonl"));
    assert_null(slurp("journal/moved-t-00000001.jsonl"));
    rows_of("SELECT k, v FROM t", rows, sizeof rows);
    assert_string_equal(rows, want);
    free(base);
}

static void test_bad_journal_paths_refused(void **state)
{
    pv_db *db;
    (void)state;
    write_journal("size 0 tables/../../etc/passwd\n");
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_ECORRUPT);
    write_journal("size -1 /etc/passwd\n");
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_ECORRUPT);
    shell("rm -f '%s/.pv/journal/commit'", dir);
}

/* Another process dies in the middle of a commit between two of ours: its
 * journal is rolled back by our next commit, as by an open. */
static void test_crash_between_ours_is_rolled_back(void **state)
{
    pv_db *a;
    char rows[256], err[1024];
    pid_t child;
    int status, rc;
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &a), PV_OK);
    assert_int_equal(pv_exec(a, "INSERT INTO t VALUES (10, 'a10')"), PV_OK);
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        pv_db *b;
        struct stat st;
        char body[128], path[512];
        int ok = pv_open(dir, PV_OPEN_READWRITE, &b) == PV_OK && pv_db_begin(b) == PV_OK;
        snprintf(path, sizeof path, "%s/.pv/tables/t/00000001.jsonl", dir);
        ok = ok && stat(path, &st) == 0;
        snprintf(body, sizeof body, "size %lld tables/t/00000001.jsonl\n", (long long)st.st_size);
        write_journal(body);
        shell("printf '[30,\"torn\"]\\n[31,\"torn' >> '%s'", path);
        _exit(ok ? 0 : 1); /* the lock goes with the process */
    }
    assert_true(waitpid(child, &status, 0) == child);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    capture_begin();
    rc = pv_exec(a, "INSERT INTO t VALUES (30, 'a30')");
    capture_end(err, sizeof err);
    assert_int_equal(rc, PV_OK);
    assert_non_null(strstr(err, "rolled back a commit that was interrupted (1 file changes undone)"));
    pv_close(a);
    rows_of("SELECT k, v FROM t", rows, sizeof rows);
    assert_string_equal(rows, "1|one;2|two;10|a10;30|a30;");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_two_tables, setup, teardown),
        cmocka_unit_test_setup_teardown(test_replace_same_values_writes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_delete_then_reinsert, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_writer_lock, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_across_processes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_lock_file_removed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fork_with_open_handle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_between_ours_is_seen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_outside_change_between_ours_is_seen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_savepoint, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alter_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_create_drop_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_at_every_offset, setup, teardown),
        cmocka_unit_test_setup_teardown(test_interrupted_compaction, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_journal_paths_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_crash_between_ours_is_rolled_back, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
