/*
 * test_race.c: a workspace reader against a writer that commits between
 * the reader's snapshot (the chunk files and their sizes, taken under the
 * shared commit lock) and its reading of them (docs/FORMAT.md part 1,
 * "Commit lock").
 *
 * Appends never move what a snapshot saw, but a compaction rewrites chunks
 * in place (same name, fewer lines, a new header), and DROP TABLE removes
 * them (a CREATE TABLE of the same name then writes others). A reader that
 * reads such a chunk after the commit, cut at the size it saw before, must
 * still see one committed state (or be told cleanly to reopen, PV_EBUSY),
 * never a mix of two, a false corruption report, or, writable, "repair" a
 * healthy file by cutting off what the other writer committed.
 *
 * Also a DDL between a reader's reading of the schemas and its listing of
 * the chunks, and a writer rolling back a crashed commit between a
 * reader's listing of the chunks and its reading of the journal.
 *
 * The window is hit on purpose: this binary is linked with
 * -Wl,--wrap=pv_read_file_nofollow,--wrap=pv_read_file (the Makefile), so
 * every file the workspace reader reads (schema files, chunks, the
 * journal) goes through the __wrap_* functions below. A test arms the hook
 * with a path and an action; at that read (before it, or after it), the
 * action runs on another thread, on its own pv_db handle (a second open
 * file description: flock(2) excludes it from the reader as it would
 * another process), and the reader goes on once the action has finished,
 * or after ACTION_WAIT_MS if the action waits for a lock the reader holds
 * (then the reader must not see it). test_stress_fork adds a writer and a
 * reader in two processes, with nothing arranged.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <xxhash.h>

#include "cmds.h"
#include "db.h"
#include "output.h"
#include "pv.h"
#include "shell.h"
#include "util.h"
#include "ws.h"
#include "test_capture.h"
#include "test_shell.h"


/* ---- the hook ------------------------------------------------------------ */

int __real_pv_read_file_nofollow(const char *path, size_t max, char **out, size_t *len) __attribute__((weak));
int __wrap_pv_read_file_nofollow(const char *path, size_t max, char **out, size_t *len);
int __real_pv_read_file(const char *path, size_t max, char **out, size_t *len) __attribute__((weak));
int __wrap_pv_read_file(const char *path, size_t max, char **out, size_t *len);

#define ACTION_WAIT_MS 1500

static char dir[256];

static struct {
    pthread_mutex_t mu;
    const char *suffix;  /* the read (path suffix) that runs the action */
    int skip;            /* matching reads to let through first */
    int after;           /* run the action after that read, not before */
    char path[512];      /* the read that ran it */
    void (*action)(void);
    int fired;
    pthread_t th;
    int running;         /* started, not yet joined */
    char err[1024];      /* the action's failure, if any */
} hook = {PTHREAD_MUTEX_INITIALIZER, NULL, 0, 0, "", NULL, 0, 0, 0, ""};

static void action_fail(const char *what, int rc)
{
    if (!hook.err[0])
        snprintf(hook.err, sizeof hook.err, "%s: %d %s", what, rc, rc ? pv_errmsg() : "");
}

static void *action_main(void *arg)
{
    (void)arg;
    hook.action();
    return NULL;
}

/* Run the action on its own thread; back when it is done, or after
 * ACTION_WAIT_MS (it waits for a lock the reader holds). */
static void action_start(void)
{
    struct timespec until;
    assert_int_equal(pthread_create(&hook.th, NULL, action_main, NULL), 0);
    hook.running = 1;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += ACTION_WAIT_MS / 1000;
    until.tv_nsec += (long)(ACTION_WAIT_MS % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    if (pthread_timedjoin_np(hook.th, NULL, &until) == 0) hook.running = 0;
}

/* Wait for the action, and check it did what it was asked. */
static void action_finish(void)
{
    if (hook.running) pthread_join(hook.th, NULL);
    hook.running = 0;
    hook.action = NULL;
    assert_true(hook.fired);
    if (hook.err[0]) fail_msg("the other writer failed: %s", hook.err);
}

static void arm(const char *suffix, int skip, int after, void (*action)(void))
{
    hook.suffix = suffix;
    hook.skip = skip;
    hook.after = after;
    hook.fired = 0;
    hook.err[0] = '\0';
    hook.action = action;
}

/* The hook at a read of `path`; `real` does the read. */
static int hooked_read(const char *path, size_t max, char **out, size_t *len,
                       int (*real)(const char *, size_t, char **, size_t *))
{
    int go = 0, rc;
    pthread_mutex_lock(&hook.mu);
    if (hook.action && !hook.fired && !hook.running) {
        size_t n = strlen(path), m = strlen(hook.suffix);
        if (m <= n && !strcmp(path + n - m, hook.suffix) && hook.skip-- == 0) {
            go = hook.fired = 1;
            snprintf(hook.path, sizeof hook.path, "%s", path);
        }
    }
    pthread_mutex_unlock(&hook.mu);
    if (go && !hook.after) action_start();
    rc = real(path, max, out, len);
    if (go && hook.after) action_start();
    return rc;
}

int __wrap_pv_read_file_nofollow(const char *path, size_t max, char **out, size_t *len)
{
    return hooked_read(path, max, out, len, __real_pv_read_file_nofollow);
}

/* (the journal is read with pv_read_file) */
int __wrap_pv_read_file(const char *path, size_t max, char **out, size_t *len)
{
    return hooked_read(path, max, out, len, __real_pv_read_file);
}

/* ---- helpers ------------------------------------------------------------- */

/* Built without the wrap (the generic test rule), the tests are skipped. */
static void need_hook(void)
{
    if (__real_pv_read_file_nofollow && __real_pv_read_file) return;
    fprintf(stderr, "test_race: not linked with --wrap=pv_read_file_nofollow,--wrap=pv_read_file (see the Makefile)\n");
    skip();
}

static int setup(void **state)
{
    (void)state;
    /* one replay thread: chunks are read in order, the hook between two */
    setenv("PV_LOAD_THREADS", "1", 1);
    setenv("PV_DURABILITY", "fast", 1);
    unsetenv("PV_LOAD_CACHE_MIN_BYTES");
    snprintf(dir, sizeof dir, "/tmp/pv-test-race-XXXXXX");
    assert_non_null(mkdtemp(dir));
    assert_int_equal(pv_workspace_init(dir), PV_OK);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    shell("rm -rf '%s'", dir);
    return 0;
}

static void exec_ok(pv_db *db, const char *fmt, ...)
{
    char sql[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof sql, fmt, ap);
    va_end(ap);
    if (pv_exec(db, sql) != PV_OK) fail_msg("%s: %s", sql, pv_errmsg());
}

/* Run `sql` on a writable handle of its own (the other writer). 0 or the
 * error (action_fail records it). */
static int other_exec(const char *sql)
{
    pv_db *db;
    int rc = pv_open(dir, PV_OPEN_READWRITE, &db);
    if (rc) {
        action_fail("open", rc);
        return rc;
    }
    if ((rc = pv_exec(db, sql))) action_fail(sql, rc);
    pv_close(db);
    return rc;
}

static int other_compact(void)
{
    pv_db *db;
    size_t n = 0;
    int rc = pv_open(dir, PV_OPEN_READWRITE, &db);
    if (rc) {
        action_fail("open", rc);
        return rc;
    }
    if ((rc = pv_ws_compact(db->ws, NULL, &n))) action_fail("compact", rc);
    else if (!n) action_fail("compact changed no table", 0), rc = -1;
    pv_close(db);
    return rc;
}

/* The rows of one query on `db` as "a|b;a|b;"; the step's error, if any,
 * as "error N: message". */
static int query(pv_db *db, const char *sql, char *out, size_t cap)
{
    pv_stmt *st;
    size_t len = 0;
    int rc;
    out[0] = '\0';
    if ((rc = pv_prepare(db, sql, (size_t)-1, &st, NULL)) != PV_OK) {
        snprintf(out, cap, "error %d: %s", rc, pv_errmsg());
        return rc;
    }
    while ((rc = pv_step(st)) == PV_ROW) {
        int c;
        for (c = 0; c < pv_column_count(st); c++)
            len += (size_t)snprintf(out + len, cap - len, "%s%s", c ? "|" : "",
                                    pv_column_type(st, c) == PV_NULL ? "NULL" : pv_column_text(st, c));
        len += (size_t)snprintf(out + len, cap - len, ";");
    }
    if (rc != PV_DONE) snprintf(out, cap, "error %d: %s", rc, pv_errmsg());
    pv_finalize(st);
    return rc == PV_DONE ? PV_OK : rc;
}

/* The same through a fresh read-only open, as the state on disk. */
static void query_fresh(const char *sql, char *out, size_t cap)
{
    pv_db *db;
    if (pv_open(dir, PV_OPEN_READONLY, &db) != PV_OK) fail_msg("open: %s", pv_errmsg());
    query(db, sql, out, cap);
    pv_close(db);
}

/* (no cmocka asserts: the actions call it on their own thread) */
static uint64_t file_size(const char *rel)
{
    char path[512];
    struct stat st;
    snprintf(path, sizeof path, "%s/.pv/%s", dir, rel);
    return stat(path, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Did the read give `got`, one of the committed states a..b (b may be
 * NULL)? Then fine; anything else fails, with what it was. */
static void assert_one_of(const char *got, const char *a, const char *b)
{
    if (!strcmp(got, a) || (b && !strcmp(got, b))) return;
    fail_msg("the reader saw '%.300s'\n  committed states: '%.300s'%s%.300s%s", got, a, b ? " or '" : "",
             b ? b : "", b ? "'" : "");
}

/* ---- compaction between two chunk reads ---------------------------------- */

static void compact_action(void) { other_compact(); }

/* Chunk 1: keys 1..1100, each with 1,000 bytes of padding (kept in the
 * line: below PV_BLOB_THRESHOLD), so that it seals at 1 MiB and the last
 * keys and what follows go to chunk 2: keys 1..10 deleted, 11..20
 * updated. A compaction drops both the deleted rows (chunk 1) and their
 * deletes (chunk 2). (An ALTER no longer starts a chunk: the records
 * after it stay in the open one.) */
#define T_ROWS 1100
static void two_chunks_with_history(void)
{
    static char pad[1001];
    pv_db *db;
    pv_stmt *st = NULL;
    int k;
    memset(pad, 'x', sizeof pad - 1);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    exec_ok(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER, pad TEXT)");
    exec_ok(db, "BEGIN");
    assert_int_equal(pv_prepare(db, "INSERT INTO t VALUES (?, ?, ?)", (size_t)-1, &st, NULL), PV_OK);
    for (k = 1; k <= T_ROWS; k++) {
        pv_reset(st);
        assert_int_equal(pv_bind_int64(st, 1, k), PV_OK);
        assert_int_equal(pv_bind_int64(st, 2, k), PV_OK);
        assert_int_equal(pv_bind_text(st, 3, pad, sizeof pad - 1), PV_OK);
        assert_int_equal(pv_step(st), PV_DONE);
    }
    pv_finalize(st);
    exec_ok(db, "COMMIT");
    exec_ok(db, "DELETE FROM t WHERE k <= 10");
    exec_ok(db, "UPDATE t SET v = v + 100 WHERE k > 10 AND k <= 20");
    pv_close(db);
    assert_true(file_size("tables/t/00000002.jsonl") > 0);
}

/* COUNT(*), SUM(v): 11..1100, plus 100 on ten rows */
#define T_STATE "1090|606495;"

static void reader_sees_one_state(unsigned flags)
{
    pv_db *db;
    char got[4096], now[4096];
    two_chunks_with_history();
    assert_int_equal(pv_open(dir, flags, &db), PV_OK);
    /* the snapshot is taken; chunk 1 is read as it was, then the other
     * writer compacts, then chunk 2 is read */
    arm("tables/t/00000002.jsonl", 0, 0, compact_action);
    query(db, "SELECT COUNT(*), SUM(v) FROM t", got, sizeof got);
    action_finish();
    assert_one_of(got, T_STATE, NULL);
    /* and the handle reads on as usual */
    query(db, "SELECT k, v FROM t WHERE k = 11", got, sizeof got);
    assert_string_equal(got, "11|111;");
    pv_close(db);
    query_fresh("SELECT COUNT(*), SUM(v) FROM t", now, sizeof now);
    assert_string_equal(now, T_STATE);
}

static void test_compaction_between_chunk_reads(void **state)
{
    (void)state;
    need_hook();
    reader_sees_one_state(PV_OPEN_READONLY);
}

static void test_compaction_between_chunk_reads_writable(void **state)
{
    (void)state;
    need_hook();
    reader_sees_one_state(PV_OPEN_READWRITE);
}

/* ---- compaction, then appends past the size the reader saw ---------------- */

static uint64_t cut_at; /* the reader's snapshot size of chunk 1 */

/* Compact (chunk 1 shrinks), then append one row whose line spans the
 * size the reader saw: cut there, the chunk ends mid-line. */
static void compact_and_span_action(void)
{
    char sql[4200];
    uint64_t now;
    size_t pad, n;
    if (other_compact()) return;
    now = file_size("tables/t/00000001.jsonl");
    if (now >= cut_at) {
        action_fail("the compaction did not shrink chunk 1", 0);
        return;
    }
    pad = (size_t)(cut_at - now) + 40;
    if (pad > 4000) {
        action_fail("too much to pad", 0);
        return;
    }
    n = (size_t)snprintf(sql, sizeof sql, "INSERT INTO t VALUES (1000, '");
    memset(sql + n, 'x', pad);
    snprintf(sql + n + pad, sizeof sql - n - pad, "')");
    other_exec(sql);
}

/* One chunk: keys 1..40, then keys 1..20 updated (in the same chunk). */
static void one_chunk_with_history(void)
{
    pv_db *db;
    int k;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    exec_ok(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT)");
    exec_ok(db, "BEGIN");
    for (k = 1; k <= 40; k++) exec_ok(db, "INSERT INTO t VALUES (%d, 'v%d')", k, k);
    exec_ok(db, "COMMIT");
    exec_ok(db, "UPDATE t SET v = v || '+' WHERE k <= 20");
    pv_close(db);
}

#define ONE_BEFORE "40|820;"  /* COUNT(*), SUM(k) */
#define ONE_AFTER "41|1820;"  /* with the row 1000 */

static void reader_meets_cut_line(unsigned flags)
{
    pv_db *db;
    char got[4096], now[4096];
    one_chunk_with_history();
    cut_at = file_size("tables/t/00000001.jsonl");
    assert_int_equal(pv_open(dir, flags, &db), PV_OK);
    arm("tables/t/00000001.jsonl", 0, 0, compact_and_span_action);
    query(db, "SELECT COUNT(*), SUM(k) FROM t", got, sizeof got);
    action_finish();
    assert_true(file_size("tables/t/00000001.jsonl") > cut_at);
    assert_one_of(got, ONE_BEFORE, ONE_AFTER);
    pv_close(db);
    /* what the other writer committed is still there */
    query_fresh("SELECT COUNT(*), SUM(k) FROM t", now, sizeof now);
    assert_string_equal(now, ONE_AFTER);
}

static void test_compaction_then_append_past_the_snapshot(void **state)
{
    (void)state;
    need_hook();
    reader_meets_cut_line(PV_OPEN_READONLY);
}

static void test_compaction_then_append_past_the_snapshot_writable(void **state)
{
    (void)state;
    need_hook();
    reader_meets_cut_line(PV_OPEN_READWRITE);
}

/* ---- DROP TABLE and CREATE TABLE of the same name ------------------------ */

static void recreate_other_columns_action(void)
{
    char sql[8192];
    size_t n = 0;
    int k;
    n += (size_t)snprintf(sql + n, sizeof sql - n, "DROP TABLE t; CREATE TABLE t (a TEXT PRIMARY KEY, b REAL);"
                                                   "INSERT INTO t VALUES ");
    for (k = 0; k < 100; k++) n += (size_t)snprintf(sql + n, sizeof sql - n, "%s('a%d', %d.5)", k ? "," : "", k, k);
    other_exec(sql);
}

static void recreate_same_columns_action(void)
{
    char sql[8192];
    size_t n = 0;
    int k;
    n += (size_t)snprintf(sql + n, sizeof sql - n, "DROP TABLE t; CREATE TABLE t (k INTEGER PRIMARY KEY, v TEXT);"
                                                   "INSERT INTO t VALUES ");
    for (k = 101; k <= 200; k++) n += (size_t)snprintf(sql + n, sizeof sql - n, "%s(%d, 'new%d')", k > 101 ? "," : "", k, k);
    other_exec(sql);
}

static void test_drop_and_create_between_snapshot_and_read(void **state)
{
    pv_db *db;
    char got[4096];
    int rc;
    (void)state;
    need_hook();
    one_chunk_with_history();
    /* the same columns: the new rows, or the old ones, never a mix */
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_OK);
    arm("tables/t/00000001.jsonl", 0, 0, recreate_same_columns_action);
    rc = query(db, "SELECT COUNT(*), SUM(k) FROM t", got, sizeof got);
    action_finish();
    if (rc != PV_EBUSY) assert_one_of(got, ONE_BEFORE, "100|15050;");
    pv_close(db);
    /* other columns: the old rows, or PV_EBUSY (reopen), never a report
     * that a healthy chunk is corrupt */
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_OK);
    arm("tables/t/00000001.jsonl", 0, 0, recreate_other_columns_action);
    rc = query(db, "SELECT COUNT(*), SUM(k) FROM t", got, sizeof got);
    action_finish();
    if (rc != PV_EBUSY) assert_one_of(got, "100|15050;", NULL);
    else assert_non_null(strstr(got, "reopen"));
    pv_close(db);
    query_fresh("SELECT COUNT(*), SUM(b) FROM t", got, sizeof got);
    assert_string_equal(got, "100|5000.0;");
}

/* ---- DDL between reading the schemas and taking the snapshot -------------- */

static void alter_action(void) { other_exec("ALTER TABLE t ADD COLUMN w INTEGER; INSERT INTO t VALUES (100, 'new', 7)"); }

static void test_alter_between_schema_and_snapshot(void **state)
{
    pv_db *db;
    char got[4096];
    int rc;
    (void)state;
    need_hook();
    one_chunk_with_history();
    /* the open reads t's schema; then the other writer adds a column and
     * a row in a new chunk whose header names it; then the open lists
     * the chunks */
    arm("tables/t/schema.jsonl", 0, 1, alter_action);
    rc = pv_open(dir, PV_OPEN_READONLY, &db);
    if (rc != PV_OK) {
        action_finish();
        fail_msg("open: %d %s", rc, pv_errmsg());
    }
    query(db, "SELECT COUNT(*), SUM(k) FROM t", got, sizeof got);
    action_finish();
    assert_one_of(got, ONE_BEFORE, "41|920;");
    pv_close(db);
    query_fresh("SELECT COUNT(*), SUM(k), SUM(w) FROM t", got, sizeof got);
    assert_string_equal(got, "41|920|7;");
}

static void drop_unread_action(void)
{
    /* the table whose schema the open has not read yet */
    other_exec(strstr(hook.path, "/t/schema.jsonl") ? "DROP TABLE u" : "DROP TABLE t");
}

static void test_drop_between_listing_and_schema(void **state)
{
    pv_db *db;
    char got[4096];
    int rc;
    (void)state;
    need_hook();
    one_chunk_with_history();
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    exec_ok(db, "CREATE TABLE u (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO u VALUES (1, 'u1')");
    pv_close(db);
    arm("schema.jsonl", 0, 1, drop_unread_action);
    rc = pv_open(dir, PV_OPEN_READONLY, &db);
    if (rc != PV_OK) {
        action_finish();
        fail_msg("open: %d %s", rc, pv_errmsg());
    }
    /* the snapshot has both tables; the one dropped since reads as it was
     * or asks for a reopen */
    rc = query(db, "SELECT COUNT(*) FROM t", got, sizeof got);
    if (rc != PV_EBUSY) assert_one_of(got, "40;", NULL);
    rc = query(db, "SELECT COUNT(*) FROM u", got, sizeof got);
    action_finish();
    if (rc != PV_EBUSY) assert_one_of(got, "1;", NULL);
    pv_close(db);
}

/* ---- a writer undoing a crashed commit ----------------------------------- */

static pv_db *recovering; /* the writer whose BEGIN finds the journal */

static void begin_action(void)
{
    int rc = pv_db_begin(recovering);
    if (rc) action_fail("BEGIN", rc);
    else pv_db_rollback(recovering);
}

/* A reader listing the chunks while a writer rolls back a commit that
 * crashed: it must see the journal (and read each chunk up to its length
 * before that commit) or the files as the rollback left them, never the
 * crashed commit's lines without its journal. */
static void test_recovery_between_listing_and_journal(void **state)
{
    static const char crashed[] = "[1000,\"never committed\"]\n[1001,\"nor this\"]\n";
    char path[512], body[256], got[4096];
    uint64_t size;
    pv_db *db;
    FILE *f;
    (void)state;
    need_hook();
    one_chunk_with_history();
    /* the writer is open before the crash (a writable open would recover) */
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &recovering), PV_OK);
    size = file_size("tables/t/00000001.jsonl");
    snprintf(path, sizeof path, "%s/.pv/tables/t/00000001.jsonl", dir);
    assert_non_null(f = fopen(path, "ab"));
    assert_int_equal(fwrite(crashed, 1, sizeof crashed - 1, f), sizeof crashed - 1);
    fclose(f);
    {
        char text[512];
        size_t n = (size_t)snprintf(text, sizeof text, "pv-journal 1\n");
        snprintf(body, sizeof body, "size %llu tables/t/00000001.jsonl\n", (unsigned long long)size);
        n += (size_t)snprintf(text + n, sizeof text - n, "%s", body);
        n += (size_t)snprintf(text + n, sizeof text - n, "end %016llx\n",
                              (unsigned long long)XXH3_64bits(text, n));
        snprintf(path, sizeof path, "%s/.pv/journal/commit", dir);
        assert_non_null(f = fopen(path, "wb"));
        assert_int_equal(fwrite(text, 1, n, f), n);
        fclose(f);
    }
    /* the reader has listed the chunk and its size; before it reads the
     * journal, the writer's BEGIN rolls the crashed commit back */
    arm("journal/commit", 0, 0, begin_action);
    if (pv_open(dir, PV_OPEN_READONLY, &db) != PV_OK) {
        snprintf(got, sizeof got, "%s", pv_errmsg());
        action_finish();
        fail_msg("open: %s", got);
    }
    query(db, "SELECT COUNT(*), SUM(k) FROM t", got, sizeof got);
    action_finish();
    assert_one_of(got, ONE_BEFORE, NULL);
    pv_close(db);
    pv_close(recovering);
    assert_int_equal(file_size("tables/t/00000001.jsonl"), size);
}

/* ---- a checkpoint and the records after it ------------------------------- */

static void test_compaction_under_point_lookup(void **state)
{
    pv_db *db;
    char got[4096];
    int k;
    (void)state;
    need_hook();
    setenv("PV_LOAD_CACHE_MIN_BYTES", "0", 1);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    exec_ok(db, "CREATE TABLE t (k INTEGER PRIMARY KEY, v INTEGER)");
    exec_ok(db, "BEGIN");
    for (k = 1; k <= 50; k++) exec_ok(db, "INSERT INTO t VALUES (%d, %d)", k, k);
    exec_ok(db, "COMMIT");
    pv_close(db);
    /* a load writes the checkpoint of keys 1..50 */
    query_fresh("SELECT COUNT(*) FROM t", got, sizeof got);
    assert_string_equal(got, "50;");
    {
        char path[512];
        struct stat st;
        snprintf(path, sizeof path, "%s/.pv/cache/load/t.pvck", dir);
        assert_int_equal(stat(path, &st), 0);
    }
    unsetenv("PV_LOAD_CACHE_MIN_BYTES");
    /* records after it, in the same chunk */
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    exec_ok(db, "UPDATE t SET v = v + 1000 WHERE k <= 10");
    exec_ok(db, "DELETE FROM t WHERE k > 45");
    pv_close(db);
    /* a point query checks the checkpoint against chunk 1 (first read),
     * then reads the records after it (second read): the compaction
     * comes in between */
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_OK);
    arm("tables/t/00000001.jsonl", 1, 0, compact_action);
    query(db, "SELECT v FROM t WHERE k = 3", got, sizeof got);
    action_finish();
    assert_one_of(got, "1003;", NULL);
    query(db, "SELECT COUNT(*), SUM(v) FROM t", got, sizeof got);
    assert_one_of(got, "45|11035;", NULL);
    pv_close(db);
}

/* ---- the shell: a compaction between its refresh and its read ------------ */

/* Run `sql` as `pvdev sql` runs a script on `db`; its output into out. */
static int shell_run(pv_db *db, const char *sql, char *out, size_t cap)
{
    pv_out_opts o = PV_OUT_OPTS_INIT;
    const char *texts[1] = {sql};
    char path[300];
    fd_capture c;
    int rc;
    snprintf(path, sizeof path, "%s/shell.out", dir);
    fd_capture_begin(&c, 1, path);
    rc = pvdev_run_script(db, texts, NULL, 1, NULL, &o);
    fd_capture_end(&c, out, cap);
    return rc;
}

/* The shell has read t; before it reads u for the next statement (its
 * refresh found nothing new), another process compacts u. The read of u
 * meets the moved rewrite count after the handle read t: PV_EBUSY, before
 * any row. The shell takes the new snapshot and runs the statement again,
 * unseen by its user. */
static void test_shell_retries_busy_statement(void **state)
{
    pv_db *db;
    char got[4096];
    int rc;
    (void)state;
    need_hook();
    one_chunk_with_history();
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    exec_ok(db, "CREATE TABLE u (k INTEGER PRIMARY KEY, v TEXT); INSERT INTO u VALUES (1, 'u1'), (2, 'u2');"
                "DELETE FROM u WHERE k = 1");
    pv_close(db);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(shell_run(db, "SELECT COUNT(*), SUM(k) FROM t", got, sizeof got), 0);
    assert_string_equal(got, "40|820\n");
    arm("tables/u/00000001.jsonl", 0, 0, compact_action);
    rc = shell_run(db, "SELECT k, v FROM u", got, sizeof got);
    action_finish();
    if (rc) fail_msg("the statement failed: %s", pv_errmsg());
    assert_string_equal(got, "2|u2\n");
    /* the compaction removed u's deleted row: the new state */
    assert_true(file_size("tables/u/00000001.jsonl") < 100);
    pv_close(db);
}

/* ---- pvdev fsck during a commit ------------------------------------------ */

/* `pvdev fsck` in dir: its exit code, its stdout (one problem a line)
 * into out. */
static int fsck_run(char *out, size_t cap)
{
    char path[300], *argv[] = {(char *)"fsck", NULL}, cwd[4096];
    fd_capture c;
    int rc;
    snprintf(path, sizeof path, "%s/fsck.out", dir);
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    fd_capture_begin(&c, 1, path);
    rc = cmd_fsck(1, argv);
    fd_capture_end(&c, out, cap);
    assert_int_equal(chdir(cwd), 0);
    return rc;
}

/* fsck has read t's schema; before it reads t's chunk, another process
 * drops t and creates a table t of other columns. Both states are clean:
 * fsck must not report the new chunk against the old schema. */
static void test_fsck_during_drop_and_create(void **state)
{
    char got[8192];
    int rc;
    (void)state;
    need_hook();
    one_chunk_with_history();
    arm("tables/t/00000001.jsonl", 0, 0, recreate_other_columns_action);
    rc = fsck_run(got, sizeof got);
    action_finish();
    if (rc || got[0]) fail_msg("fsck exit %d, problems:\n%s", rc, got);
    /* and the new state is clean too, when nothing moves */
    assert_int_equal(fsck_run(got, sizeof got), 0);
}

/* ---- two processes, nothing arranged ------------------------------------- */

#define STRESS_ROWS 60

/* The writer (a child process): transactions that keep COUNT(*) and
 * SUM(v) of `a` fixed and write the same generation into a's row 0 and
 * b's row 1, a compaction every few commits, an ALTER now and then (new
 * chunks), and a table c dropped and created again. Exit status 0 when
 * every commit worked. */
static int stress_writer(double seconds)
{
    pv_db *db;
    struct timespec t0, t1;
    unsigned seed = 7;
    int gen = 0, nextkey = 1000, rc = 0, cols = 0;
    if (pv_open(dir, PV_OPEN_READWRITE, &db)) return 2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        char sql[1024];
        pv_stmt *st;
        int x, y, d, vx = 0;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if ((double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9 > seconds) break;
        gen++;
        if ((rc = pv_exec(db, "BEGIN"))) break;
        /* a live key other than 0: the smallest at or after a random one */
        x = (int)(rand_r(&seed) % (unsigned)nextkey);
        snprintf(sql, sizeof sql, "SELECT k, v FROM a WHERE k > %d ORDER BY k LIMIT 1", x);
        if ((rc = pv_prepare(db, sql, (size_t)-1, &st, NULL))) break;
        x = -1;
        if (pv_step(st) == PV_ROW) {
            x = (int)pv_column_int64(st, 0);
            vx = (int)pv_column_int64(st, 1);
        }
        pv_finalize(st);
        y = nextkey++;
        d = (int)(rand_r(&seed) % 100);
        snprintf(sql, sizeof sql,
                 "DELETE FROM a WHERE k = %d; INSERT INTO a (k, v, g) VALUES (%d, %d, 0);"
                 "UPDATE a SET v = v + %d WHERE k = %d; UPDATE a SET v = v - %d WHERE k = 0;"
                 "UPDATE a SET g = %d WHERE k = 0; UPDATE b SET gen = %d WHERE id = 1",
                 x, x < 0 ? y + 100000 : y, vx, d, y, d, gen, gen);
        if (x < 0) snprintf(sql, sizeof sql, "UPDATE a SET g = %d WHERE k = 0; UPDATE b SET gen = %d WHERE id = 1",
                            gen, gen);
        if ((rc = pv_exec(db, sql)) || (rc = pv_exec(db, "COMMIT"))) break;
        if (gen % 4 == 0) {
            size_t n;
            if ((rc = pv_ws_compact(db->ws, NULL, &n))) break;
        }
        if (gen % 25 == 0 && cols < 6) {
            snprintf(sql, sizeof sql, "ALTER TABLE a ADD COLUMN x%d INTEGER", cols++);
            if ((rc = pv_exec(db, sql))) break;
        }
        if (gen % 9 == 0) {
            snprintf(sql, sizeof sql, "BEGIN; DROP TABLE c; CREATE TABLE c (k INTEGER PRIMARY KEY, v TEXT);"
                                      "INSERT INTO c VALUES (1, 'c%d'), (2, 'c%d'); COMMIT", gen, gen);
            if ((rc = pv_exec(db, sql))) break;
        }
    }
    if (rc) fprintf(stderr, "writer: generation %d: %s\n", gen, pv_errmsg());
    pv_close(db);
    return rc ? 1 : 0;
}

/* One read of the invariants through `db`: 1 when they hold, 0 after a
 * PV_EBUSY, -1 when they do not (*why says how). */
static int stress_read(pv_db *db, char *why, size_t cap)
{
    char got[4096], want[64], gen_a[256], gen_b[256] = "";
    int rc;
    if ((rc = query(db, "SELECT COUNT(*), SUM(v) FROM a", got, sizeof got)) == PV_EBUSY) return 0;
    snprintf(want, sizeof want, "%d|0;", STRESS_ROWS);
    if (strcmp(got, want)) {
        snprintf(why, cap, "table a: '%s', committed states all have '%s'", got, want);
        return -1;
    }
    if ((rc = query(db, "SELECT g FROM a WHERE k = 0", gen_a, sizeof gen_a)) == PV_EBUSY) return 0;
    if (!rc && (rc = query(db, "SELECT gen FROM b", gen_b, sizeof gen_b)) == PV_EBUSY) return 0;
    if (rc || strcmp(gen_a, gen_b)) {
        snprintf(why, cap, "a's generation '%s', b's '%s': from different commits", gen_a, gen_b);
        return -1;
    }
    if ((rc = query(db, "SELECT COUNT(*) FROM c", got, sizeof got)) == PV_EBUSY) return 0;
    if (rc || strcmp(got, "2;")) {
        snprintf(why, cap, "table c: '%s'", got);
        return -1;
    }
    return 1;
}

static void test_stress_fork(void **state)
{
    pv_db *db;
    pid_t pid;
    int k, status = 0, reads = 0, busy = 0, opens = 0;
    char why[4200] = "";
    (void)state;
    need_hook();
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    exec_ok(db, "CREATE TABLE a (k INTEGER PRIMARY KEY, v INTEGER, g INTEGER);"
                "CREATE TABLE b (id INTEGER PRIMARY KEY, gen INTEGER);"
                "CREATE TABLE c (k INTEGER PRIMARY KEY, v TEXT);"
                "INSERT INTO b VALUES (1, 0); INSERT INTO c VALUES (1, 'c'), (2, 'c')");
    exec_ok(db, "BEGIN");
    for (k = 0; k < STRESS_ROWS; k++) exec_ok(db, "INSERT INTO a VALUES (%d, %d, 0)", k, k ? 1 : 1 - STRESS_ROWS);
    exec_ok(db, "COMMIT");
    pv_close(db);
    unsetenv("PV_LOAD_THREADS");
    fflush(NULL);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) _exit(stress_writer(2.5));
    while (!why[0] && waitpid(pid, &status, WNOHANG) == 0) {
        /* a fresh handle each time (pvdev sql), alternately writable */
        unsigned flags = opens++ % 2 ? PV_OPEN_READWRITE : PV_OPEN_READONLY;
        int r;
        if ((r = pv_open(dir, flags, &db)) != PV_OK) {
            snprintf(why, sizeof why, "open: %d %s", r, pv_errmsg());
            break;
        }
        r = stress_read(db, why, sizeof why);
        reads += r > 0;
        busy += !r;
        pv_close(db);
    }
    setenv("PV_LOAD_THREADS", "1", 1);
    if (why[0]) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
        fail_msg("after %d consistent reads: %s", reads, why);
    }
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    print_message("stress: %d consistent reads, %d told to reopen\n", reads, busy);
    /* and with the writer gone, a read of the last state */
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_OK);
    k = stress_read(db, why, sizeof why);
    pv_close(db);
    if (k != 1) fail_msg("the last state: %s", why);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_compaction_between_chunk_reads, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_between_chunk_reads_writable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_then_append_past_the_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_then_append_past_the_snapshot_writable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_and_create_between_snapshot_and_read, setup, teardown),
        cmocka_unit_test_setup_teardown(test_alter_between_schema_and_snapshot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drop_between_listing_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recovery_between_listing_and_journal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compaction_under_point_lookup, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shell_retries_busy_statement, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fsck_during_drop_and_create, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stress_fork, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
