/*
 * test_index.c: UNIQUE constraints and CREATE [UNIQUE] INDEX / DROP INDEX
 * on a real workspace: the schema lines on disk, enforcement with SQLite's
 * semantics (compared statement by statement with the system SQLite,
 * loaded with dlopen), transactions and savepoints, reopening, a bulk
 * write as import makes it, chunks that break an index (a merge), fsck,
 * and the lookup the planner uses (pv_ws_source_index_lookup).
 */
#include <dlfcn.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <xxhash.h>

#include "db.h"
#include "exec.h"
#include "pvdb.h"
#include "pvdb_format.h"
#include "pv.h"
#include "reader.h"
#include "schema_file.h"
#include "test_sql_util.h"
#include "ws.h"

/* ---- files ------------------------------------------------------------------------- */

static char *slurp(const char *dir, const char *rel)
{
    char path[512], *text = NULL;
    size_t n;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    if (pv_read_file(path, 1 << 20, &text, &n)) fail_msg("cannot read %s: %s", path, pv_errmsg());
    return text;
}

static void append(const char *dir, const char *rel, const char *text)
{
    char path[512];
    FILE *fp;
    snprintf(path, sizeof path, "%s/%s", dir, rel);
    assert_non_null(fp = fopen(path, "a"));
    fputs(text, fp);
    assert_int_equal(fclose(fp), 0);
}

static void reopen(fixture *f)
{
    assert_int_equal(pv_close(f->db), 0);
    if (pv_open(f->dir, PV_OPEN_READWRITE, &f->db)) fail_msg("reopen: %s", pv_errmsg());
}

static void check_error_has(pv_db *db, const char *sql, int code, const char *part)
{
    int rc = pv_exec(db, sql);
    if (rc != code) fail_msg("%s: want %d, got %d (%s)", sql, code, rc, pv_errmsg());
    if (part && !strstr(pv_errmsg(), part)) fail_msg("%s: message '%s' lacks '%s'", sql, pv_errmsg(), part);
}

/* ---- the schema file ----------------------------------------------------------------- */

static void test_schema_lines(void **state)
{
    fixture *f = *state;
    char *text;
    exec_ok(f->db, "CREATE TABLE t (id INTEGER PRIMARY KEY UNIQUE, a TEXT UNIQUE, b INTEGER, c INTEGER, "
                   "UNIQUE (b, c), UNIQUE (a))");
    exec_ok(f->db, "CREATE INDEX t_b ON t (b)");
    exec_ok(f->db, "CREATE UNIQUE INDEX \"t c\" ON t (c, b)");
    text = slurp(f->dir, ".pv/tables/t/schema.jsonl");
    assert_string_equal(text, "{\"table\":\"t\",\"primary_key\":[\"id\"]}\n"
                              "{\"column\":\"id\",\"type\":\"INTEGER\",\"not_null\":true}\n"
                              "{\"column\":\"a\",\"type\":\"TEXT\"}\n"
                              "{\"column\":\"b\",\"type\":\"INTEGER\"}\n"
                              "{\"column\":\"c\",\"type\":\"INTEGER\"}\n"
                              "{\"index\":\"pv_autoindex_t_1\",\"columns\":[\"a\"],\"unique\":true}\n"
                              "{\"index\":\"pv_autoindex_t_2\",\"columns\":[\"b\",\"c\"],\"unique\":true}\n"
                              "{\"index\":\"t_b\",\"columns\":[\"b\"]}\n"
                              "{\"index\":\"t c\",\"columns\":[\"c\",\"b\"],\"unique\":true}\n");
    free(text);
    /* rename follows; dropping an indexed column is refused; a dropped
     * index's line goes */
    exec_ok(f->db, "ALTER TABLE t RENAME COLUMN b TO bee");
    check_error_has(f->db, "ALTER TABLE t DROP COLUMN bee", PV_ESQL, "cannot drop UNIQUE column: \"bee\"");
    exec_ok(f->db, "CREATE TABLE u (id INTEGER PRIMARY KEY, x INTEGER, y INTEGER)");
    exec_ok(f->db, "CREATE INDEX u_x ON u (x)");
    check_error_has(f->db, "ALTER TABLE u DROP COLUMN x", PV_ESQL, "cannot drop column \"x\": index u_x uses it");
    exec_ok(f->db, "DROP INDEX t_b");
    check_error_has(f->db, "CREATE INDEX u_x ON t (a)", PV_EEXISTS, "index u_x already exists");
    reopen(f);
    text = slurp(f->dir, ".pv/tables/t/schema.jsonl");
    assert_non_null(strstr(text, "{\"index\":\"pv_autoindex_t_2\",\"columns\":[\"bee\",\"c\"],\"unique\":true}\n"
                                 "{\"index\":\"t c\",\"columns\":[\"c\",\"bee\"],\"unique\":true}\n"));
    assert_null(strstr(text, "t_b"));
    free(text);
    /* enforced after reopening, under the new column name */
    exec_ok(f->db, "INSERT INTO t VALUES (1, 'x', 1, 1)");
    check_error_has(f->db, "INSERT INTO t VALUES (2, 'y', 1, 1)", PV_ECONSTRAINT,
                    "UNIQUE constraint failed: t.bee, t.c: value 1,1 (row 1 of the statement) is already in the "
                    "row with key 1 (index pv_autoindex_t_2)");
    /* an index-only change keeps appending to the open chunk */
    exec_ok(f->db, "CREATE INDEX t_a2 ON t (a)");
    exec_ok(f->db, "INSERT INTO t VALUES (2, 'y', 2, 2)");
    text = slurp(f->dir, ".pv/tables/t/00000001.jsonl");
    assert_string_equal(text, "{\"pv\":1,\"columns\":[\"id\",\"a\",\"bee\",\"c\"]}\n[1,\"x\",1,1]\n[2,\"y\",2,2]\n");
    free(text);
}

static void test_schema_decode_errors(void **state)
{
    fixture *f = *state;
    static const char *const bad[] = {
        "{\"index\":\"i\",\"columns\":[\"nope\"]}\n",          /* not a column */
        "{\"index\":\"i\",\"columns\":[]}\n",                  /* no columns */
        "{\"index\":\"i\",\"columns\":[\"a\"],\"unique\":false}\n",
        "{\"index\":\"i\",\"columns\":[\"a\"]}\n{\"index\":\"I\",\"columns\":[\"a\"]}\n",
        "{\"index\":\"i\",\"columns\":[\"a\"]}\n{\"column\":\"z\",\"type\":\"TEXT\"}\n",
        "{\"index\":\"i\",\"columns\":[\"a\"]}\n{\"dropped_column\":\"q\"}\n",
        "{\"index\":\"i\"}\n",
    };
    const char *head = "{\"table\":\"t\",\"primary_key\":[\"id\"]}\n"
                       "{\"column\":\"id\",\"type\":\"INTEGER\",\"not_null\":true}\n"
                       "{\"column\":\"a\",\"type\":\"TEXT\"}\n";
    size_t i;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        pv_schema *s = NULL;
        char text[1024];
        snprintf(text, sizeof text, "%s%s", head, bad[i]);
        if (pv_schema_decode(text, strlen(text), "t", "t/schema.jsonl", &s) != PV_ECORRUPT)
            fail_msg("accepted: %s", bad[i]);
        assert_non_null(strstr(pv_errmsg(), "t/schema.jsonl"));
        assert_null(s);
    }
    (void)f;
}

/* "hidden" belongs to the generated key _pv_id of a keyless table
 * (FORMAT.md): a hand-edited schema.jsonl that hides another column, or a
 * _pv_id that is not the whole key, is refused naming the file and the
 * column's line; the schema pvdev writes for a keyless table is taken. */
static void test_schema_decode_hidden(void **state)
{
    static const struct { const char *text; const char *line; } bad[] = {
        {"{\"table\":\"t\",\"primary_key\":[\"id\"]}\n"
         "{\"column\":\"id\",\"type\":\"INTEGER\",\"not_null\":true}\n"
         "{\"column\":\"a\",\"type\":\"TEXT\",\"hidden\":true}\n", "line 3"},
        {"{\"table\":\"t\",\"primary_key\":[\"id\"]}\n"
         "{\"column\":\"id\",\"type\":\"INTEGER\",\"not_null\":true}\n"
         "{\"column\":\"_pv_id\",\"type\":\"TEXT\",\"not_null\":true,\"hidden\":true}\n", "line 3"},
        {"{\"table\":\"t\",\"primary_key\":[\"_pv_id\"]}\n"
         "{\"column\":\"_pv_id\",\"type\":\"TEXT\",\"not_null\":true,\"hidden\":true}\n", "line 2"},
    };
    const char *good = "{\"table\":\"t\",\"primary_key\":[\"_pv_id\"]}\n"
                       "{\"column\":\"a\",\"type\":\"TEXT\"}\n"
                       "{\"column\":\"_pv_id\",\"type\":\"TEXT\",\"not_null\":true,\"hidden\":true}\n";
    pv_schema *s = NULL;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        s = NULL;
        if (pv_schema_decode(bad[i].text, strlen(bad[i].text), "t", "t/schema.jsonl", &s) != PV_ECORRUPT)
            fail_msg("accepted: %s", bad[i].text);
        if (!strstr(pv_errmsg(), "t/schema.jsonl") || !strstr(pv_errmsg(), bad[i].line) ||
            !strstr(pv_errmsg(), "_pv_id"))
            fail_msg("case %zu: %s", i, pv_errmsg());
        assert_null(s);
    }
    assert_int_equal(pv_schema_decode(good, strlen(good), "t", "t/schema.jsonl", &s), PV_OK);
    assert_true(s->ncols == 2 && s->cols[1].hidden && !s->cols[0].hidden);
    pv_schema_free(s);
}

/* ---- SQLite, statement by statement ------------------------------------------------- */

static struct {
    void *lib;
    int (*open)(const char *, void **);
    int (*close)(void *);
    int (*exec)(void *, const char *, int (*)(void *, int, char **, char **), void *, char **);
    const char *(*errmsg)(void *);
    void (*free)(void *);
} sq;

static int sq_load(void)
{
    if (sq.lib) return 0;
    if (!(sq.lib = dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_LOCAL))) return -1;
#define SQ(field, name)                                  \
    do {                                                 \
        void *sym = dlsym(sq.lib, name);                 \
        if (!sym) return -1;                             \
        memcpy(&sq.field, &sym, sizeof sym);             \
    } while (0)
    SQ(open, "sqlite3_open");
    SQ(close, "sqlite3_close");
    SQ(exec, "sqlite3_exec");
    SQ(errmsg, "sqlite3_errmsg");
    SQ(free, "sqlite3_free");
    return 0;
}

static int sq_row(void *ctx, int n, char **vals, char **names)
{
    pv_buf *b = ctx;
    int i;
    (void)names;
    for (i = 0; i < n; i++) {
        if (i) pv_buf_putc(b, '|');
        if (vals[i]) pv_buf_append(b, vals[i], strlen(vals[i]));
    }
    pv_buf_putc(b, '\n');
    return 0;
}

static char *sq_query(void *db, const char *sql)
{
    pv_buf b = PV_BUF_INIT;
    char *err = NULL, *out;
    if (sq.exec(db, sql, sq_row, &b, &err)) fail_msg("sqlite3: %s: %s", sql, err);
    pv_buf_putc(&b, 0);
    out = strdup(b.p);
    pv_buf_free(&b);
    return out;
}

/* Each statement through both: both succeed, or both fail with SQLite's
 * message as the start of ours when it is a UNIQUE failure; then the table
 * must hold the same rows. (Our messages go on with the value, the row and
 * the index.) */
static void test_vs_sqlite(void **state)
{
    static const char *const steps[] = {
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT UNIQUE, b INTEGER, c INTEGER, UNIQUE (b, c))",
        "INSERT INTO t VALUES (1, 'x', 1, 1), (2, 'y', 1, 2)",
        "INSERT INTO t VALUES (3, 'x', 5, 5)",
        "INSERT INTO t VALUES (3, 'z', 1, 1)",
        "INSERT INTO t VALUES (3, NULL, 1, NULL), (4, NULL, 1, NULL)",   /* NULLs are distinct */
        "INSERT INTO t VALUES (5, 'q', 7, 7), (6, 'q', 8, 8)",           /* within the statement */
        "UPDATE t SET a = 'x' WHERE id = 2",
        "UPDATE t SET a = 'w' WHERE id = 1",
        "INSERT INTO t VALUES (7, 'x', 9, 9)",                           /* freed by the update */
        "INSERT OR IGNORE INTO t VALUES (8, 'x', 10, 10), (9, 'v', 11, 11), (10, 'v', 12, 12)",
        "INSERT INTO t VALUES (11, 'u', 13, 13) ON CONFLICT (id) DO UPDATE SET a = excluded.a",
        "INSERT INTO t VALUES (11, 'x', 13, 13) ON CONFLICT (id) DO UPDATE SET a = excluded.a",
        "INSERT INTO t VALUES (11, 's', 13, 13) ON CONFLICT (id) DO UPDATE SET a = excluded.a",
        "DELETE FROM t WHERE a = 'w'",
        "INSERT INTO t VALUES (12, 'w', 1, 1)",
        "CREATE UNIQUE INDEX t_b ON t (b)",
        "CREATE INDEX t_b ON t (b)",
        "CREATE UNIQUE INDEX t_c ON t (c)",
        "INSERT INTO t VALUES (13, 'r', 99, 9)",
        "DROP INDEX t_c",
        "INSERT INTO t VALUES (13, 'r', 99, 9)",
        "UPDATE t SET c = NULL WHERE id > 3",
        "UPDATE t SET b = 5, c = 5 WHERE id = 13",
        "UPDATE t SET b = 6, c = 6 WHERE id = 13",
        "DROP INDEX t_b",
        "BEGIN",
        "INSERT INTO t VALUES (20, 'p', 20, 20)",
        "INSERT INTO t VALUES (21, 'p', 21, 21)",
        "UPDATE t SET a = 'o' WHERE id = 20",
        "INSERT INTO t VALUES (21, 'p', 21, 21)",
        "ROLLBACK",
        "INSERT INTO t VALUES (22, 'p', 21, 21)",
        "INSERT INTO t VALUES (23, 'p', 23, 23) ON CONFLICT (a) DO NOTHING",
        "INSERT INTO t VALUES (23, 'n', 23, 23), (24, 'n', 24, 24) ON CONFLICT (a) DO NOTHING",
        "INSERT INTO t VALUES (25, 'm', 23, 23) ON CONFLICT (c, b) DO NOTHING",
        "INSERT INTO t VALUES (25, 'm', 23, 23) ON CONFLICT (b) DO NOTHING",
        "INSERT INTO t VALUES (25, 'm', 25, 25) ON CONFLICT DO NOTHING",
    };
    fixture *f = *state;
    void *lite = NULL;
    size_t i;
    if (sq_load() || sq.open(":memory:", &lite)) {
        fprintf(stderr, "libsqlite3.so.0 not available: skipped\n");
        skip();
    }
    for (i = 0; i < sizeof steps / sizeof steps[0]; i++) {
        char *err = NULL, *want, *got;
        int rc = pv_exec(f->db, steps[i]), src = sq.exec(lite, steps[i], NULL, NULL, &err);
        if ((rc != 0) != (src != 0))
            fail_msg("%s:\n  pv: %s\n  sqlite3: %s", steps[i], rc ? pv_errmsg() : "ok", err ? err : "ok");
        if (rc && err && !strncmp(err, "UNIQUE", 6) && strncmp(pv_errmsg(), err, strlen(err)) != 0)
            fail_msg("%s:\n  pv: %s\n  sqlite3: %s", steps[i], pv_errmsg(), err);
        sq.free(err);
        want = sq_query(lite, "SELECT * FROM t ORDER BY id");
        got = query(f->db, "SELECT * FROM t ORDER BY id", NULL);
        if (strcmp(got, want)) fail_msg("after %s:\n--- pv\n%s--- sqlite3\n%s", steps[i], got, want);
        free(want);
        free(got);
    }
    sq.close(lite);
}

/* ---- transactions ------------------------------------------------------------------- */

static void test_rollback_and_savepoints(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT UNIQUE)");
    exec_ok(f->db, "INSERT INTO t VALUES (1, 'x')");
    /* a value freed and taken inside a transaction, then rolled back */
    exec_ok(f->db, "BEGIN");
    exec_ok(f->db, "UPDATE t SET a = 'y' WHERE id = 1");
    exec_ok(f->db, "INSERT INTO t VALUES (2, 'x')");
    check_error_has(f->db, "INSERT INTO t VALUES (3, 'y')", PV_ECONSTRAINT, "UNIQUE constraint failed: t.a");
    exec_ok(f->db, "ROLLBACK");
    check_query(f->db, "SELECT * FROM t", "1|x\n");
    check_error_has(f->db, "INSERT INTO t VALUES (2, 'x')", PV_ECONSTRAINT, "row with key 1");
    exec_ok(f->db, "INSERT INTO t VALUES (2, 'y')");
    /* a failed statement inside a transaction leaves the index as it was */
    exec_ok(f->db, "BEGIN");
    exec_ok(f->db, "DELETE FROM t WHERE id = 2");
    check_error_has(f->db, "INSERT INTO t VALUES (3, 'z'), (4, 'x')", PV_ECONSTRAINT, "t.a");
    exec_ok(f->db, "INSERT INTO t VALUES (3, 'y')");
    exec_ok(f->db, "COMMIT");
    check_query(f->db, "SELECT * FROM t ORDER BY id", "1|x\n3|y\n");
    /* CREATE UNIQUE INDEX rolled back: duplicates allowed again */
    exec_ok(f->db, "CREATE TABLE u (id INTEGER PRIMARY KEY, v INTEGER)");
    exec_ok(f->db, "BEGIN");
    exec_ok(f->db, "CREATE UNIQUE INDEX u_v ON u (v)");
    exec_ok(f->db, "INSERT INTO u VALUES (1, 5)");
    check_error_has(f->db, "INSERT INTO u VALUES (2, 5)", PV_ECONSTRAINT, "index u_v");
    exec_ok(f->db, "ROLLBACK");
    exec_ok(f->db, "INSERT INTO u VALUES (1, 5), (2, 5)");
    check_error_has(f->db, "CREATE UNIQUE INDEX u_v ON u (v)", PV_ECONSTRAINT,
                    "UNIQUE constraint failed: u.v: value 5 is in the rows with keys 1 and 2");
    reopen(f);
    check_query(f->db, "SELECT * FROM u ORDER BY id", "1|5\n2|5\n");
    check_error_has(f->db, "INSERT INTO t VALUES (5, 'x')", PV_ECONSTRAINT, "t.a");
    /* DO UPDATE on a UNIQUE index target updates the row holding the value */
    exec_ok(f->db, "INSERT INTO t VALUES (5, 'x') ON CONFLICT (a) DO UPDATE SET a = 'w'");
    check_query(f->db, "SELECT * FROM t ORDER BY id", "1|w\n3|y\n");
}

/* ---- a bulk write (what `pvdev import` does) ---------------------------------------- */

static void test_import_duplicate(void **state)
{
    fixture *f = *state;
    pv_value rows[8];
    size_t n = 0;
    exec_ok(f->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT UNIQUE)");
    rows[0] = pv_v_int(1), rows[1] = pv_v_text("a@x", 3);
    rows[2] = pv_v_int(2), rows[3] = pv_v_null();
    rows[4] = pv_v_int(3), rows[5] = pv_v_null();
    rows[6] = pv_v_int(4), rows[7] = pv_v_text("a@x", 3);
    assert_int_equal(pv_db_write(f->db, "t", rows, 4, 2, PV_WRITE_INSERT, "people.csv", 2, &n), PV_ECONSTRAINT);
    assert_string_equal(pv_errmsg(), "UNIQUE constraint failed: t.email: value \"a@x\" (people.csv:5) is also at "
                                     "(people.csv:2) (index pv_autoindex_t_1)");
    check_query(f->db, "SELECT count(*) FROM t", "0\n");
    reopen(f);
    check_query(f->db, "SELECT count(*) FROM t", "0\n");
    rows[7] = pv_v_text("b@x", 3);
    assert_int_equal(pv_db_write(f->db, "t", rows, 4, 2, PV_WRITE_INSERT, "people.csv", 2, &n), 0);
    assert_int_equal(n, 4);
}

/* ---- chunks that break an index (a merge) ------------------------------------------- */

static void fsck_line(void *ctx, const char *problem)
{
    pv_buf *b = ctx;
    pv_buf_append(b, problem, strlen(problem));
    pv_buf_putc(b, '\n');
}

static void test_merged_duplicate(void **state)
{
    fixture *f = *state;
    char pvdir[128];
    pv_ws_reader r;
    pv_fsck_stats st;
    pv_buf out = PV_BUF_INIT;
    exec_ok(f->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT UNIQUE, b INTEGER)");
    exec_ok(f->db, "INSERT INTO t VALUES (1, 'x', 1), (2, 'y', 2)");
    assert_int_equal(pv_close(f->db), 0);
    f->db = NULL;
    append(f->dir, ".pv/tables/t/00000001.jsonl", "[3,\"x\",3]\n");
    if (pv_open(f->dir, PV_OPEN_READWRITE, &f->db)) fail_msg("open: %s", pv_errmsg());
    check_query(f->db, "SELECT * FROM t ORDER BY id", "1|x|1\n2|y|2\n3|x|3\n");
    check_error_has(f->db, "INSERT INTO t VALUES (4, 'z', 4)", PV_ECONSTRAINT,
                    "the rows with keys 1 and 3 already share a value of unique index pv_autoindex_t_1");
    check_error_has(f->db, "UPDATE t SET b = 0", PV_ECONSTRAINT, "pvdev fsck");
    snprintf(pvdir, sizeof pvdir, "%s/.pv", f->dir);
    pv_ws_reader_posix(&r, pvdir);
    assert_int_equal(pv_ws_fsck(&r, fsck_line, &out, &st), 0);
    pv_buf_putc(&out, 0);
    assert_int_equal(st.problems, 1);
    assert_string_equal(out.p, "'.pv/tables/t': unique index pv_autoindex_t_1: the rows with keys 1 and 3 share "
                               "the value \"x\" (delete one with SQL, or drop the index)\n");
    pv_buf_free(&out);
    /* DELETE fixes it; then writes work and fsck is clean */
    exec_ok(f->db, "DELETE FROM t WHERE id = 3");
    exec_ok(f->db, "INSERT INTO t VALUES (4, 'z', 4)");
    check_error_has(f->db, "INSERT INTO t VALUES (5, 'x', 5)", PV_ECONSTRAINT, "row with key 1");
    assert_int_equal(pv_ws_fsck(&r, fsck_line, &out, &st), 0);
    assert_int_equal(st.problems, 0);
    pv_buf_free(&out);
}

/* ---- the planner's lookup ----------------------------------------------------------- */

static size_t lookup(pv_db *db, const char *table, uint32_t index, const pv_value *key, char *ids, size_t cap)
{
    pv_source src;
    const pv_value **rows = NULL;
    size_t n = 0, i, used = 0;
    if (pv_db_find_table(db, table, strlen(table), &src)) fail_msg("%s", pv_errmsg());
    if (pv_ws_source_index_lookup(&src, index, key, &rows, &n)) fail_msg("lookup: %s", pv_errmsg());
    ids[0] = '\0';
    for (i = 0; i < n; i++) used += (size_t)snprintf(ids + used, cap - used, "%s%lld", i ? "," : "", (long long)rows[i][0].u.i);
    free(rows);
    return n;
}

static void test_lookup(void **state)
{
    fixture *f = *state;
    pv_value k[2];
    pv_source src;
    const pv_value **rows;
    size_t n;
    char ids[256];
    exec_ok(f->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT UNIQUE, b INTEGER, c REAL)");
    exec_ok(f->db, "CREATE INDEX t_bc ON t (b, c)");
    exec_ok(f->db, "INSERT INTO t VALUES (5, 'x', 1, 1.0), (2, 'y', 1, 1.0), (9, NULL, 1, 2.5), (4, NULL, NULL, 1.0)");
    assert_int_equal(pv_db_find_table(f->db, "t", 1, &src), 0);
    assert_int_equal(src.schema->nindexes, 2);
    assert_string_equal(src.schema->indexes[1].name, "t_bc");
    assert_int_equal(src.schema->indexes[1].unique, 0);
    k[0] = pv_v_text("x", 1);
    assert_int_equal(lookup(f->db, "t", 0, k, ids, sizeof ids), 1);
    assert_string_equal(ids, "5");
    k[0] = pv_v_null();
    assert_int_equal(lookup(f->db, "t", 0, k, ids, sizeof ids), 0); /* NULL matches nothing */
    /* several rows, in key order; values converted to the column types */
    k[0] = pv_v_real(1.0), k[1] = pv_v_int(1);
    assert_int_equal(lookup(f->db, "t", 1, k, ids, sizeof ids), 2);
    assert_string_equal(ids, "2,5");
    k[0] = pv_v_text("1", 1), k[1] = pv_v_real(2.5);
    assert_int_equal(lookup(f->db, "t", 1, k, ids, sizeof ids), 1);
    assert_string_equal(ids, "9");
    k[0] = pv_v_real(1.5);
    assert_int_equal(lookup(f->db, "t", 1, k, ids, sizeof ids), 0);
    /* writes keep it current; rollback too */
    exec_ok(f->db, "UPDATE t SET b = 7 WHERE id = 5");
    k[0] = pv_v_int(1), k[1] = pv_v_real(1.0);
    assert_int_equal(lookup(f->db, "t", 1, k, ids, sizeof ids), 1);
    assert_string_equal(ids, "2");
    exec_ok(f->db, "BEGIN");
    exec_ok(f->db, "DELETE FROM t WHERE id = 2");
    exec_ok(f->db, "UPDATE t SET b = 1 WHERE id = 5");
    assert_int_equal(lookup(f->db, "t", 1, k, ids, sizeof ids), 1);
    assert_string_equal(ids, "5");
    exec_ok(f->db, "ROLLBACK");
    assert_int_equal(lookup(f->db, "t", 1, k, ids, sizeof ids), 1);
    assert_string_equal(ids, "2");
    /* errors */
    assert_int_equal(pv_db_find_table(f->db, "t", 1, &src), 0);
    assert_int_equal(pv_ws_source_index_lookup(&src, 2, k, &rows, &n), PV_ERANGE);
    src.ops = NULL;
    assert_int_equal(pv_ws_source_index_lookup(&src, 0, k, &rows, &n), PV_EMISUSE);
}

/* Many rows through one-row writes: the index grows and drops its stale
 * entries while lookups stay right. */
static void test_growth(void **state)
{
    fixture *f = *state;
    pv_stmt *st;
    int i;
    char ids[64];
    pv_value k;
    exec_ok(f->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER UNIQUE)");
    exec_ok(f->db, "BEGIN");
    assert_int_equal(pv_prepare(f->db, "INSERT INTO t VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET v = excluded.v",
                                (size_t)-1, &st, NULL), 0);
    for (i = 0; i < 6000; i++) {
        /* ids 0..1999 written three times, each time with a new value */
        pv_bind_int64(st, 1, i % 2000);
        pv_bind_int64(st, 2, i);
        if (pv_step(st) != PV_DONE) fail_msg("row %d: %s", i, pv_errmsg());
        pv_reset(st);
    }
    pv_finalize(st);
    exec_ok(f->db, "COMMIT");
    check_query(f->db, "SELECT count(*), min(v), max(v) FROM t", "2000|4000|5999\n");
    k = pv_v_int(4321);
    assert_int_equal(lookup(f->db, "t", 0, &k, ids, sizeof ids), 1);
    assert_string_equal(ids, "321");
    k = pv_v_int(321);
    assert_int_equal(lookup(f->db, "t", 0, &k, ids, sizeof ids), 0);
    exec_ok(f->db, "INSERT INTO t VALUES (5000, 321)");
    check_error_has(f->db, "INSERT INTO t VALUES (5001, 4321)", PV_ECONSTRAINT, "row with key 321");
}


/* ---- the planner uses the indexes (docs/SQL.md, "Access paths") -------------------- */

static uint64_t rnd_state;
static uint32_t rnd(uint32_t n)
{
    rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rnd_state >> 33) % n;
}

/* Constants for the TEXT column a and the INTEGER column b: text that is a
 * number with and without leading zeros, numbers, NULL, text that is not a
 * number. */
static const char *const a_consts[] = {"'00501'", "'501'", "501", "'x'", "'y1'", "7", "NULL", "'7'", "'a'", "'zz'", "5.0"};
static const char *const b_consts[] = {"3", "'3'", "'003'", "3.0", "2.5", "NULL", "'abc'", "7", "-1", "12", "'x7'"};

static const char *pick(const char *const *v, size_t n) { return v[rnd((uint32_t)n)]; }
#define PICK(v) pick(v, sizeof v / sizeof v[0])

/* One WHERE over the indexed columns (pushable or not), random constants. */
static void gen_where(char *w, size_t cap)
{
    static const char *const ops[] = {"=", "<", "<=", ">", ">=", "!="};
    char r[32];
    snprintf(r, sizeof r, "%d.5", (int)rnd(6) - 1);
    switch (rnd(12)) {
    case 0: snprintf(w, cap, "a = %s", PICK(a_consts)); break;
    case 1: snprintf(w, cap, "a IN (%s, %s, %s)", PICK(a_consts), PICK(a_consts), PICK(a_consts)); break;
    case 2: snprintf(w, cap, "a %s %s", PICK(ops), PICK(a_consts)); break;
    case 3: snprintf(w, cap, "a BETWEEN %s AND %s", PICK(a_consts), PICK(a_consts)); break;
    case 4: snprintf(w, cap, "b = %s", PICK(b_consts)); break;
    case 5: snprintf(w, cap, "b IN (%s, %s) AND id > %u", PICK(b_consts), PICK(b_consts), rnd(100)); break;
    case 6: snprintf(w, cap, "b %s %s", PICK(ops), PICK(b_consts)); break;
    case 7: snprintf(w, cap, "b = %s AND c %s %s", PICK(b_consts), PICK(ops), r); break;
    case 8: snprintf(w, cap, "b IN (%s, %s) AND c BETWEEN %s AND %d", PICK(b_consts), PICK(b_consts), r, (int)rnd(6)); break;
    case 9: snprintf(w, cap, "b = %s AND c = %s", PICK(b_consts), r); break;
    case 10: snprintf(w, cap, "%s %s b AND b < %s", PICK(b_consts), PICK(ops), PICK(b_consts)); break;
    default: snprintf(w, cap, "(b = %s OR a = %s) AND c > %s", PICK(b_consts), PICK(a_consts), r); break;
    }
}

/* Every query of the set on both databases: identical rows. Returns how
 * many of them pv read through a secondary index. */
static int compare_queries(pv_db *db, void *lite, uint64_t seed, int nq, const char *when)
{
    int i, used = 0;
    rnd_state = seed;
    for (i = 0; i < nq; i++) {
        char w[256], sql[512], *want, *got, *plan;
        gen_where(w, sizeof w);
        snprintf(sql, sizeof sql, "SELECT id, a, b, c FROM t WHERE %s ORDER BY id", w);
        want = sq_query(lite, sql);
        got = query(db, sql, NULL);
        if (strcmp(got, want)) fail_msg("%s: %s\n--- pv\n%s--- sqlite3\n%s", when, sql, got, want);
        snprintf(sql, sizeof sql, "EXPLAIN SELECT id FROM t WHERE %s", w);
        plan = query(db, sql, NULL);
        used += strstr(plan, "INDEX SEARCH") != NULL;
        free(plan);
        free(want);
        free(got);
    }
    return used;
}

static void both(pv_db *db, void *lite, const char *sql)
{
    char *err = NULL;
    exec_ok(db, sql);
    if (sq.exec(lite, sql, NULL, NULL, &err)) fail_msg("sqlite3: %s: %s", sql, err);
}

/* Bake the workspace of `dir` to dir/t.pvdb (small row groups: many
 * dictionaries and groups) and open it. */
static pv_db *bake_open(const char *dir, char *path, size_t cap)
{
    pv_bake_opts o = PV_BAKE_OPTS_INIT;
    pv_bake_table tables[4];
    pv_ws *ws = NULL;
    pv_db *db = NULL;
    uint32_t n, i;
    snprintf(path, cap, "%s/t.pvdb", dir);
    if (pv_ws_open(dir, 0, &ws)) fail_msg("open: %s", pv_errmsg());
    n = pv_ws_table_count(ws);
    assert_true(n <= 4);
    for (i = 0; i < n; i++)
        if (pv_ws_table_bake(ws, i, &tables[i])) fail_msg("bake: %s", pv_errmsg());
    o.rows_per_group = 64;
    if (pv_bake_write_opts(path, tables, n, NULL, &o)) fail_msg("bake: %s", pv_errmsg());
    pv_ws_close(ws);
    if (pv_open(path, PV_OPEN_READONLY, &db)) fail_msg("open %s: %s", path, pv_errmsg());
    return db;
}

static void test_planner_vs_sqlite(void **state)
{
    fixture *f = *state;
    void *lite = NULL;
    char sql[256];
    int i, nq = 700, used;
    if (sq_load() || sq.open(":memory:", &lite)) {
        fprintf(stderr, "libsqlite3.so.0 not available: skipped\n");
        skip();
    }
    both(f->db, lite, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, c REAL)");
    rnd_state = 42;
    both(f->db, lite, "BEGIN");
    for (i = 1; i <= 300; i++) {
        static const char *const av[] = {"'00501'", "'501'", "'x'", "'y1'", "'7'", "NULL", "'a'", "'5.0'", "'zz'"};
        char b[16], c[16];
        if (rnd(8)) snprintf(b, sizeof b, "%d", (int)rnd(14) - 1);
        else snprintf(b, sizeof b, "NULL");
        if (rnd(8)) snprintf(c, sizeof c, "%d.%d", (int)rnd(6) - 1, rnd(2) * 5);
        else snprintf(c, sizeof c, "NULL");
        snprintf(sql, sizeof sql, "INSERT INTO t VALUES (%d, %s, %s, %s)", i, PICK(av), b, c);
        both(f->db, lite, sql);
    }
    both(f->db, lite, "COMMIT");
    /* without an index, then with indexes created after the rows exist */
    assert_int_equal(compare_queries(f->db, lite, 7, nq, "no index"), 0);
    both(f->db, lite, "CREATE INDEX t_a ON t (a)");
    both(f->db, lite, "CREATE INDEX t_bc ON t (b, c)");
    used = compare_queries(f->db, lite, 7, nq, "indexed");
    if (used < nq / 2) fail_msg("only %d of %d queries used an index", used, nq);
    /* the same through the baked indexes of a .pvdb (format version 3) */
    {
        char path[256];
        pv_db *pdb = bake_open(f->dir, path, sizeof path);
        int pused;
        /* always the index (every row list decoded, runs through the scan) */
        pv_sec_row_cost = 0;
        pused = compare_queries(pdb, lite, 7, nq, "pvdb, indexed");
        pv_sec_row_cost = PV_SEC_ROW_COST_DEFAULT;
        assert_int_equal(pused, used);
        /* the index or the scan by the estimate: the same rows */
        assert_true(compare_queries(pdb, lite, 7, nq, "pvdb, index or scan by cost") < pused);
        assert_int_equal(pv_close(pdb), 0);
    }
    /* after writes (UPDATE moves rows in the index, DELETE removes them),
     * inside a transaction, after its rollback, and after reopening */
    both(f->db, lite, "UPDATE t SET b = b + 1 WHERE id % 3 = 0");
    both(f->db, lite, "UPDATE t SET a = '501' WHERE id % 7 = 0");
    both(f->db, lite, "DELETE FROM t WHERE id % 5 = 0");
    compare_queries(f->db, lite, 8, nq, "after UPDATE and DELETE");
    both(f->db, lite, "BEGIN");
    both(f->db, lite, "UPDATE t SET b = NULL, c = 9.5 WHERE b = 3");
    both(f->db, lite, "DELETE FROM t WHERE a = 'x'");
    both(f->db, lite, "INSERT INTO t VALUES (1000, '00501', 3, 1.5)");
    compare_queries(f->db, lite, 9, nq / 2, "in a transaction");
    both(f->db, lite, "ROLLBACK");
    compare_queries(f->db, lite, 10, nq / 2, "after ROLLBACK");
    reopen(f);
    compare_queries(f->db, lite, 11, nq / 2, "after reopening");
    /* UPDATE and DELETE find their rows through the index */
    both(f->db, lite, "UPDATE t SET c = 0.5 WHERE b = 4 AND c > 1");
    both(f->db, lite, "DELETE FROM t WHERE a IN ('y1', 'zz')");
    compare_queries(f->db, lite, 12, nq / 2, "after indexed UPDATE and DELETE");
    {
        char path[256];
        pv_db *pdb = bake_open(f->dir, path, sizeof path);
        pv_sec_row_cost = 0;
        compare_queries(pdb, lite, 12, nq / 2, "pvdb after indexed UPDATE and DELETE");
        pv_sec_row_cost = PV_SEC_ROW_COST_DEFAULT;
        compare_queries(pdb, lite, 12, nq / 2, "pvdb after indexed UPDATE and DELETE, by cost");
        assert_int_equal(pv_close(pdb), 0);
    }
    both(f->db, lite, "DROP INDEX t_bc");
    assert_true(compare_queries(f->db, lite, 12, nq / 2, "one index dropped") < nq / 2);
    sq.close(lite);
}

static void check_plan(pv_db *db, const char *sql, const char *want)
{
    char *got = query(db, sql, NULL), *nl = strchr(got, '\n');
    if (nl) *nl = '\0';
    if (strcmp(got, want)) fail_msg("%s:\n  got  %s\n  want %s", sql, got, want);
    free(got);
}

static void test_explain_index(void **state)
{
    fixture *f = *state;
    const char *head = "1|INDEX SEARCH|table t (workspace, 4 rows at prepare) by index ";
    char want[512];
    pv_stmt *st;
    exec_ok(f->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, c REAL, d BOOLEAN)");
    exec_ok(f->db, "INSERT INTO t VALUES (1, '00501', 501, 1.5, 1), (2, '501', 7, 2.5, 0), "
                   "(3, NULL, NULL, NULL, NULL), (4, 'x', 501, 3.0, 1)");
    exec_ok(f->db, "CREATE INDEX t_a ON t (a)");
    exec_ok(f->db, "CREATE UNIQUE INDEX t_bc ON t (b, c)");
    exec_ok(f->db, "CREATE INDEX t_d ON t (d)");
#define PLAN(sql, rest)                                   \
    do {                                                  \
        snprintf(want, sizeof want, "%s%s", head, rest);  \
        check_plan(f->db, "EXPLAIN " sql, want);          \
    } while (0)
    PLAN("SELECT id FROM t WHERE a = 501", "t_a: a = 501; rows in key order; columns id, a");
    PLAN("SELECT id FROM t WHERE b IN (7, 501) AND a > 'b'",
         "t_bc: b IN (7, 501); rows in key order; columns id, b, a");
    PLAN("SELECT id FROM t WHERE c < 3 AND b = 501", "t_bc: b = 501 AND (\"c\" < 3); rows in key order; columns id, c, b");
    PLAN("SELECT * FROM t WHERE c = 2.5 AND b = 7", "t_bc: b = 7 AND c = 2.5; rows in key order; columns id, a, b, c, d");
    PLAN("SELECT id FROM t WHERE b BETWEEN ? AND 9", "t_bc: (\"b\" >= ?1) AND (\"b\" <= 9); rows in key order; columns id, b");
    /* the key wins; a column that is not first in an index, a BOOLEAN
     * index, IS NULL, OR, and a TEXT column against a numeric-affinity
     * expression do not use one */
    check_plan(f->db, "EXPLAIN SELECT id FROM t WHERE id = 2 AND a = 'x'",
               "1|LOOKUP|table t (workspace, 4 rows at prepare) by primary key with pv_db_lookup: id = 2; columns id, a");
    check_plan(f->db, "EXPLAIN SELECT id FROM t WHERE id < 3 AND b > 2",
               "1|SCAN|table t (workspace, 4 rows at prepare) in key order; stops at the first row past (\"id\" < 3); "
               "columns id, b");
    check_plan(f->db, "EXPLAIN SELECT id FROM t WHERE c = 2.5",
               "1|SCAN|table t (workspace, 4 rows at prepare) in key order; columns id, c");
    check_plan(f->db, "EXPLAIN SELECT id FROM t WHERE d = 1",
               "1|SCAN|table t (workspace, 4 rows at prepare) in key order; columns id, d");
    check_plan(f->db, "EXPLAIN SELECT id FROM t WHERE b IS NULL OR b = 7",
               "1|SCAN|table t (workspace, 4 rows at prepare) in key order; columns id, b");
    check_plan(f->db, "EXPLAIN SELECT id FROM t WHERE a = CAST('501' AS INTEGER)",
               "1|SCAN|table t (workspace, 4 rows at prepare) in key order; columns id, a");
    /* affinity: TEXT '00501' and 501 differ, INTEGER 501 = '00501' */
    check_query(f->db, "SELECT id FROM t WHERE a = 501", "2\n");
    check_query(f->db, "SELECT id FROM t WHERE a = '00501'", "1\n");
    check_query(f->db, "SELECT id FROM t WHERE b = '00501' ORDER BY id", "1\n4\n");
    check_query(f->db, "SELECT id FROM t WHERE b = NULL", "");
    check_query(f->db, "SELECT id FROM t WHERE a = CAST('501' AS INTEGER) ORDER BY id", "1\n2\n");
    /* a parameter, rebound: the index is searched again at each run */
    assert_int_equal(pv_prepare(f->db, "SELECT id FROM t WHERE b = ? ORDER BY id", (size_t)-1, &st, NULL), 0);
    pv_bind_int64(st, 1, 501);
    assert_int_equal(pv_step(st), PV_ROW);
    assert_int_equal(pv_column_int64(st, 0), 1);
    assert_int_equal(pv_step(st), PV_ROW);
    assert_int_equal(pv_column_int64(st, 0), 4);
    assert_int_equal(pv_step(st), PV_DONE);
    pv_reset(st);
    pv_bind_text(st, 1, "7", 1);
    assert_int_equal(pv_step(st), PV_ROW);
    assert_int_equal(pv_column_int64(st, 0), 2);
    assert_int_equal(pv_step(st), PV_DONE);
    pv_reset(st);
    /* an index dropped after prepare: the statement says so */
    exec_ok(f->db, "DROP INDEX t_bc");
    assert_int_equal(pv_step(st), PV_EMISUSE);
    assert_string_equal(pv_errmsg(), "index t_bc of table t changed since the statement was prepared: prepare it again");
    pv_finalize(st);
#undef PLAN
}

/* A lookup hands out plain vectors: a batch that a scan filled before
 * (with dictionary-coded columns) must not keep its encoded form, which
 * the executor's dictionary filters would read instead of the rows
 * (regression: set_vecs left enc, enc_cols and want_enc as they were). */
static void test_lookup_batch_plain(void **state)
{
    fixture *f = *state;
    const char *sql = "SELECT a FROM t WHERE b = 7";
    pv_arena arena;
    pv_sql_stmt *st;
    pv_plan *plan;
    pv_source src;
    pv_lookup *l;
    pv_eval cx;
    pv_batch b;
    pv_venc stale[1];
    int want = 1;
    size_t end;
    exec_ok(f->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER)");
    exec_ok(f->db, "CREATE INDEX t_b ON t (b)");
    exec_ok(f->db, "INSERT INTO t VALUES (1, 'one', 7), (2, 'two', 8)");
    memset(&arena, 0, sizeof arena);
    memset(&cx, 0, sizeof cx);
    cx.arena = &arena;
    assert_int_equal(pv_sql_parse(&arena, sql, strlen(sql), &st, &end), 0);
    assert_int_equal(pv_plan_build(f->db, NULL, &arena, st, &plan), 0);
    assert_int_equal(plan->access, PV_ACCESS_LOOKUP);
    assert_true(plan->has_sec);
    assert_int_equal(pv_db_find_table(f->db, "t", 1, &src), 0);
    assert_int_equal(pv_lookup_open(plan, f->db, &src, &cx, &l), 0);
    memset(stale, 0, sizeof stale);
    stale[0].form = PV_VEC_DICT;
    memset(&b, 0, sizeof b);
    b.enc = stale;
    b.want_enc = &want;
    assert_int_equal(pv_lookup_next(l, &b), 1);
    b.enc_cols = b.cols; /* even if the producer's cols match, no enc */
    assert_null(b.enc);
    assert_null(b.want_enc);
    assert_int_equal(pv_batch_form(&b, 0), PV_VEC_PLAIN);
    assert_int_equal(b.cols[0].u.s[0].n, 3);
    pv_lookup_close(l);
    pv_arena_free(&arena);
}

/* ---- baked indexes: bytes, verify and hostile files ------------------------------- */

static uint8_t *read_all(const char *path, size_t *n)
{
    char *p = NULL;
    if (pv_read_file(path, 1 << 24, &p, n)) fail_msg("read %s: %s", path, pv_errmsg());
    return (uint8_t *)p;
}

static void write_all(const char *path, const uint8_t *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

/* The section of the file's first index record, and the record. */
static void first_index(const uint8_t *p, uint64_t *rec, uint64_t *off, uint64_t *len)
{
    uint64_t dir = pv_get_u64(p + PVDB_H_DIR_OFFSET);
    assert_int_equal(pv_get_u32(p + PVDB_H_VERSION), 3);
    assert_true(pv_get_u32(p + dir + PVDB_D_INDEX_COUNT) >= 1);
    *rec = dir + pv_get_u64(p + dir + PVDB_D_INDEXES_OFF);
    *off = pv_get_u64(p + *rec + PVDB_I_OFFSET);
    *len = pv_get_u64(p + *rec + PVDB_I_LENGTH);
}

/* Re-seal a changed directory so that open reaches the index checks. */
static void reseal(uint8_t *p)
{
    uint64_t dir = pv_get_u64(p + PVDB_H_DIR_OFFSET), dl = pv_get_u64(p + PVDB_H_DIR_LENGTH);
    pv_put_u64(p + PVDB_H_DIR_CHECKSUM, XXH3_64bits(p + dir, dl));
    pv_put_u64(p + PVDB_H_CHECKSUM, XXH3_64bits(p, PVDB_H_CHECKSUM));
}

static int verify_file(const char *path)
{
    pvdb_file *pf = NULL;
    int rc = pvdb_open(path, &pf);
    if (rc == 0) rc = pvdb_verify(pf);
    pvdb_close(pf);
    return rc;
}

static void test_baked_index_file(void **state)
{
    fixture *f = *state;
    char path[256], bad[300];
    uint8_t *p, *q;
    size_t n, n2;
    uint64_t rec, off, len, i;
    pv_db *pdb;
    int k;
    exec_ok(f->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER, c REAL)");
    exec_ok(f->db, "INSERT INTO t VALUES (1, 'x', 5, 1.5), (2, NULL, 5, NULL), (3, 'y', 6, 2.5), (4, 'x', NULL, 0.5)");
    exec_ok(f->db, "CREATE INDEX t_a ON t (a)");
    exec_ok(f->db, "CREATE UNIQUE INDEX t_bc ON t (b, c)");
    pdb = bake_open(f->dir, path, sizeof path);
    assert_int_equal(verify_file(path), 0);
    check_query(pdb, "SELECT id FROM t WHERE a = 'x'", "1\n4\n");
    check_query(pdb, "SELECT id FROM t WHERE b = 5 AND c IS NULL", "2\n");
    check_query(pdb, "SELECT id FROM t WHERE b = 5", "1\n2\n");
    assert_int_equal(pv_close(pdb), 0);
    /* reproducible: the same workspace bakes to the same bytes */
    p = read_all(path, &n);
    pv_close(bake_open(f->dir, path, sizeof path));
    q = read_all(path, &n2);
    assert_int_equal(n, n2);
    assert_memory_equal(p, q, n);
    free(q);
    first_index(p, &rec, &off, &len);
    snprintf(bad, sizeof bad, "%s/bad.pvdb", f->dir);
    /* a hostile record: every field pushed out of range fails at open with
     * its offset */
    {
        static const struct { int field; uint64_t value; int wide; } cases[] = {
            {PVDB_I_OFFSET, 3, 1}, {PVDB_I_OFFSET, 0, 1}, {PVDB_I_LENGTH, 1u << 30, 1},
            {PVDB_I_LENGTH, 8, 1}, {PVDB_I_KEY_COUNT, 1000, 1}, {PVDB_I_ENTRY_COUNT, 99, 1},
            {PVDB_I_TABLE, 7, 0}, {PVDB_I_COLUMN_COUNT, 9, 0}, {PVDB_I_COLUMN_COUNT, 0, 0},
            {PVDB_I_FLAGS, 4, 0}, {PVDB_I_COLUMNS, 40, 0}, {PVDB_I_NAME + 4, 5000, 0},
        };
        for (k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++) {
            q = malloc(n);
            memcpy(q, p, n);
            if (cases[k].wide) pv_put_u64(q + rec + cases[k].field, cases[k].value);
            else pv_put_u32(q + rec + cases[k].field, (uint32_t)cases[k].value);
            reseal(q);
            write_all(bad, q, n);
            if (pv_open(bad, PV_OPEN_READONLY, &pdb) != PV_ECORRUPT)
                fail_msg("record field %d = %llu opened", cases[k].field, (unsigned long long)cases[k].value);
            assert_non_null(strstr(pv_errmsg(), "at byte offset"));
            free(q);
        }
    }
    /* a flipped byte anywhere in a section: open succeeds (sections are not
     * read at open), then verify fails, and queries fail cleanly or answer */
    for (i = off; i < off + len; i++) {
        q = malloc(n);
        memcpy(q, p, n);
        q[i] ^= 0x41;
        write_all(bad, q, n);
        free(q);
        assert_int_equal(pv_open(bad, PV_OPEN_READONLY, &pdb), 0);
        if (verify_file(bad) != PV_ECORRUPT) fail_msg("verify passed a flip at %llu", (unsigned long long)i);
        free(query(pdb, "SELECT id FROM t WHERE a = 'x'", NULL));
        free(query(pdb, "SELECT id FROM t WHERE a > 'a'", NULL));
        free(query(pdb, "SELECT id FROM t WHERE b = 5 AND c > 0", NULL));
        pv_close(pdb);
    }
    free(p);
}

/* The same query on the workspace and on its bake: the same rows. */
static void same_both(pv_db *ws, pv_db *pdb, const char *sql)
{
    char *a = query(ws, sql, NULL), *b = query(pdb, sql, NULL);
    if (strcmp(a, b)) fail_msg("%s:\n--- workspace\n%s--- pvdb\n%s", sql, a, b);
    free(a);
    free(b);
}

/* EXPLAIN's first row contains `want`. */
static void plan_has(pv_db *db, const char *sql, const char *want)
{
    char q[512], *plan;
    snprintf(q, sizeof q, "EXPLAIN %s", sql);
    plan = query(db, q, NULL);
    if (!strstr(plan, want)) fail_msg("%s: no '%s' in\n%s", sql, want, plan);
    free(plan);
}

/* Count and sum of ids of a one-parameter query bound to text v. */
static char *run_bound(pv_db *db, const char *sql, const char *v)
{
    pv_stmt *st = NULL;
    char buf[128];
    assert_int_equal(pv_prepare(db, sql, (size_t)-1, &st, NULL), 0);
    assert_int_equal(pv_bind_text(st, 1, v, strlen(v)), 0);
    assert_int_equal(pv_step(st), PV_ROW);
    snprintf(buf, sizeof buf, "%s|%s", pv_column_text(st, 0) ? pv_column_text(st, 0) : "",
             pv_column_text(st, 1) ? pv_column_text(st, 1) : "");
    assert_int_equal(pv_step(st), PV_DONE);
    pv_finalize(st);
    return strdup(buf);
}

/* A baked index is used when it lists few rows and a full scan is read
 * instead when it lists many (at prepare for constants, at each run for
 * parameters); EXPLAIN says which. Rows clustered by key (g = id / 100)
 * come in runs read through the block scan. Every answer equals the
 * workspace's (whose index path test_planner_vs_sqlite checks). */
static void test_baked_index_choice(void **state)
{
    fixture *f = *state;
    char path[256];
    pv_buf sql = PV_BUF_INIT;
    pv_db *pdb;
    char *a, *b;
    int i;
    exec_ok(f->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, g INTEGER, h TEXT)");
    /* 5000 rows: g in runs of 100; h 'common' on 9 rows of 10, else rare */
    pv_buf_printf(&sql, "INSERT INTO t VALUES (0, 0, 'common')");
    for (i = 1; i < 5000; i++)
        pv_buf_printf(&sql, i % 10 ? ", (%d, %d, 'common')" : ", (%d, %d, 'r%d')", i, i / 100, i % 370);
    exec_ok(f->db, sql.p);
    pv_buf_free(&sql);
    exec_ok(f->db, "CREATE INDEX t_g ON t (g)");
    exec_ok(f->db, "CREATE INDEX t_h ON t (h)");
    pdb = bake_open(f->dir, path, sizeof path);
    plan_has(pdb, "SELECT count(*) FROM t WHERE h = 'r10'", "INDEX SEARCH");
    plan_has(pdb, "SELECT count(*) FROM t WHERE h = 'r10'", "the index lists 14 of 5000 rows");
    plan_has(pdb, "SELECT count(*) FROM t WHERE h = 'common'", "SCAN");
    plan_has(pdb, "SELECT count(*) FROM t WHERE h = 'common'", "not index t_h: it lists 4501 of the rows");
    plan_has(pdb, "SELECT count(*) FROM t WHERE g BETWEEN 3 AND 40", "not index t_g");
    plan_has(pdb, "SELECT count(*) FROM t WHERE g = 7", "INDEX SEARCH");
    plan_has(pdb, "SELECT count(*) FROM t WHERE h = ?", "each run reads the table instead");
    same_both(f->db, pdb, "SELECT count(*), sum(id) FROM t WHERE h = 'r10'");
    same_both(f->db, pdb, "SELECT count(*), sum(id) FROM t WHERE h = 'common'");
    same_both(f->db, pdb, "SELECT count(*), sum(id) FROM t WHERE h > 'r2' AND h < 'r3'");
    same_both(f->db, pdb, "SELECT count(*), sum(id), min(h) FROM t WHERE g BETWEEN 3 AND 40");
    same_both(f->db, pdb, "SELECT id, g, h FROM t WHERE g = 7 ORDER BY id");
    same_both(f->db, pdb, "SELECT id, g, h FROM t WHERE g IN (2, 3, 49) AND id % 7 = 1");
    /* always the index: runs of 100 consecutive rows through the scan, the
     * rest row by row, in one run */
    pv_sec_row_cost = 0;
    same_both(f->db, pdb, "SELECT count(*), sum(id), min(h) FROM t WHERE g BETWEEN 3 AND 40");
    same_both(f->db, pdb, "SELECT id, h FROM t WHERE g IN (1, 2, 9) OR h = 'r3' ORDER BY id");
    same_both(f->db, pdb, "SELECT id, g FROM t WHERE h >= 'common' ORDER BY id");
    same_both(f->db, pdb, "SELECT id, g FROM t WHERE h <= 'common' AND g > 40 ORDER BY id");
    pv_sec_row_cost = PV_SEC_ROW_COST_DEFAULT;
    /* parameters: the choice at each run of one statement */
    a = run_bound(pdb, "SELECT count(*), sum(id) FROM t WHERE h = ?", "common");
    b = run_bound(f->db, "SELECT count(*), sum(id) FROM t WHERE h = ?", "common");
    assert_string_equal(a, b);
    free(a);
    free(b);
    a = run_bound(pdb, "SELECT count(*), sum(id) FROM t WHERE h = ?", "r11");
    b = run_bound(f->db, "SELECT count(*), sum(id) FROM t WHERE h = ?", "r11");
    assert_string_equal(a, b);
    free(a);
    free(b);
    assert_int_equal(pv_close(pdb), 0);
}

/* Hostile row lists with a valid checksum: open succeeds (sections are
 * not read at open), lookups fail with PV_ECORRUPT and the offset or
 * answer, never read outside the section, and verify finds each one by
 * the layout rules alone (FORMAT.md 3.12). */
static void test_baked_index_hostile_lists(void **state)
{
    fixture *f = *state;
    char path[256], bad[300];
    pv_buf sql = PV_BUF_INIT;
    uint8_t *p, *q;
    size_t n;
    uint64_t rec, off, len, S, H, W, P, d;
    pv_db *pdb;
    int k, i, rc;
    exec_ok(f->db, "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT)");
    /* 300 rows, 50 keys of 6 rows 50 apart: 3 blocks of width 6 */
    pv_buf_printf(&sql, "INSERT INTO t VALUES (0, 'k0')");
    for (i = 1; i < 300; i++) pv_buf_printf(&sql, ", (%d, 'k%d')", i, i % 50);
    exec_ok(f->db, sql.p);
    pv_buf_free(&sql);
    exec_ok(f->db, "CREATE INDEX t_a ON t (a)");
    pdb = bake_open(f->dir, path, sizeof path);
    check_query(pdb, "SELECT id FROM t WHERE a = 'k7'", "7\n57\n107\n157\n207\n257\n");
    assert_int_equal(pv_close(pdb), 0);
    assert_int_equal(verify_file(path), 0);
    p = read_all(path, &n);
    first_index(p, &rec, &off, &len);
    assert_int_equal(pv_get_u64(p + rec + PVDB_I_KEY_COUNT), 50);
    assert_int_equal(pv_get_u64(p + rec + PVDB_I_ENTRY_COUNT), 300);
    S = 8;                  /* one column: an 8-byte part table */
    H = S + 4 * 51 + 4;     /* align8(S + 4 (D + 1)) */
    W = H + 4 * 50;         /* align8(H + 4 D) */
    P = W + 16;             /* align8(W + 4 (B + 1)), B = 3 */
    assert_int_equal(pv_get_u32(p + off + W), 0);
    assert_int_equal(pv_get_u32(p + off + W + 12), 18); /* three blocks of width 6 */
    assert_int_equal(pv_get_u64(p + off), P + 16 * 18);  /* part[0] after the packed blocks */
    snprintf(bad, sizeof bad, "%s/bad.pvdb", f->dir);
    pv_sec_row_cost = 0; /* every lookup through the index, however many rows */
    {
        static const struct { int where; uint64_t at; uint32_t value; int must_fail; } cases[] = {
            {'W', 12, 0xFFFFFFFFu, 1}, {'W', 12, 97, 1}, {'W', 4, 40, 1}, {'W', 4, 0, 0}, {'W', 0, 3, 1},
            {'H', 0, 100000, 1}, {'S', 4 * 50, 5000, 0}, {'S', 4 * 8, 0, 0}, {'S', 4 * 8, 299, 0},
            {'P', 0, 0x01, 0}, {'P', 20, 0xFFFFFFFFu, 0}, {'H', 4 * 9, 9, 0},
        };
        for (k = 0; k < (int)(sizeof cases / sizeof cases[0]); k++) {
            uint64_t base = cases[k].where == 'W' ? W : cases[k].where == 'H' ? H : cases[k].where == 'S' ? S : P;
            char *out;
            q = malloc(n);
            memcpy(q, p, n);
            if (cases[k].where == 'H' && cases[k].value == 100000) /* every head out of range */
                for (d = 0; d < 50; d++) pv_put_u32(q + off + H + 4 * d, 100000);
            else
                pv_put_u32(q + off + base + cases[k].at, cases[k].value);
            pv_put_u64(q + rec + PVDB_I_CHECKSUM, XXH3_64bits(q + off, len));
            reseal(q);
            write_all(bad, q, n);
            free(q);
            assert_int_equal(pv_open(bad, PV_OPEN_READONLY, &pdb), 0);
            {
                static const char *const sqls[] = {"SELECT id FROM t WHERE a = 'k7'",
                                                   "SELECT id FROM t WHERE a IN ('k1', 'k49', 'k0')",
                                                   "SELECT id FROM t WHERE a >= 'k3' AND a < 'k4'"};
                int failed = 0, j;
                for (j = 0; j < 3; j++) {
                    out = query(pdb, sqls[j], &rc);
                    free(out);
                    if (rc < 0 && (rc != PV_ECORRUPT || !strstr(pv_errmsg(), "at byte offset")))
                        fail_msg("case %d: %s: %d %s", k, sqls[j], rc, pv_errmsg());
                    failed += rc == PV_ECORRUPT;
                }
                if (cases[k].must_fail && !failed) fail_msg("case %d: every lookup passed", k);
            }
            pv_close(pdb);
            if (verify_file(bad) != PV_ECORRUPT) fail_msg("case %d: verify passed", k);
        }
    }
    pv_sec_row_cost = PV_SEC_ROW_COST_DEFAULT;
    free(p);
}

int main(void)
{
#define WS(fn) cmocka_unit_test_setup_teardown(fn, setup_ws, teardown_ws)
    const struct CMUnitTest tests[] = {
        WS(test_schema_lines),       WS(test_schema_decode_errors), cmocka_unit_test(test_schema_decode_hidden),
        WS(test_vs_sqlite),
        WS(test_rollback_and_savepoints), WS(test_import_duplicate), WS(test_merged_duplicate),
        WS(test_lookup),             WS(test_growth),
        WS(test_planner_vs_sqlite),  WS(test_explain_index), WS(test_lookup_batch_plain),
        WS(test_baked_index_file), WS(test_baked_index_hostile_lists), WS(test_baked_index_choice),
    };
    return cmocka_run_group_tests_name("unique constraints and indexes", tests, NULL, NULL) ? 1 : 0;
}
