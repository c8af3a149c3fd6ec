/*
 * test_sql.c: the SQL engine: tokenizer and parser (canonical round trip,
 * error offsets, nesting limit), execution over a real workspace, the
 * statement API, and results compared with the sqlite3 shell on the same
 * data.
 */
#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "pv.h"
#include "sql_ast.h"
#include "util.h"

/* ---- parser helpers ----------------------------------------------------------- */

/* Canonical text of the first statement of sql, or NULL with *rc set. */
static char *canon(const char *sql, int *rc)
{
    pv_arena a = PV_ARENA_INIT;
    pv_buf b = PV_BUF_INIT;
    pv_sql_stmt *st = NULL;
    size_t end;
    char *out = NULL;
    *rc = pv_sql_parse(&a, sql, strlen(sql), &st, &end);
    if (!*rc && st && !pv_sql_print(&b, st) && !pv_buf_putc(&b, 0)) out = strdup(b.p);
    pv_buf_free(&b);
    pv_arena_free(&a);
    return out;
}

/* Parse, print, parse the print, print again: both prints must agree. */
static void check_roundtrip(const char *sql, const char *want)
{
    int rc;
    char *p1 = canon(sql, &rc), *p2;
    if (!p1) fail_msg("parse of %s failed (%d): %s", sql, rc, pv_errmsg());
    p2 = canon(p1, &rc);
    if (!p2) fail_msg("reparse of %s failed (%d): %s", p1, rc, pv_errmsg());
    assert_string_equal(p1, p2);
    if (want) assert_string_equal(p1, want);
    free(p1);
    free(p2);
}

static void check_parse_error(const char *sql, int code, const char *msg)
{
    int rc;
    char *p = canon(sql, &rc);
    assert_null(p);
    assert_int_equal(rc, code);
    if (msg) assert_string_equal(pv_errmsg(), msg);
}

/* ---- parser tests --------------------------------------------------------------- */

static void test_parse_precedence(void **state)
{
    (void)state;
    check_roundtrip("select 1+2*3", "SELECT (1 + (2 * 3))");
    check_roundtrip("select -1 || 2", "SELECT ((-1) || 2)");
    check_roundtrip("select a or b and not c = d", "SELECT (\"a\" OR (\"b\" AND (NOT (\"c\" = \"d\"))))");
    check_roundtrip("select 1 < 2 = 3 > 4", "SELECT ((1 < 2) = (3 > 4))");
    check_roundtrip("select a || b * c", "SELECT ((\"a\" || \"b\") * \"c\")");
    check_roundtrip("select 1 - 2 - 3", "SELECT ((1 - 2) - 3)");
    check_roundtrip("select x between 1 + 1 and 2 and y",
                    "SELECT ((\"x\" BETWEEN (1 + 1) AND 2) AND \"y\")");
    check_roundtrip("select a not between 1 and 2, b not in (1, 2), c not like 'x%' escape '!'",
                    "SELECT (\"a\" NOT BETWEEN 1 AND 2), (\"b\" NOT IN (1, 2)), "
                    "(\"c\" NOT LIKE 'x%' ESCAPE '!')");
    check_roundtrip("select a is null, a is not null, a isnull, a notnull, a not null, a is not b",
                    "SELECT (\"a\" IS NULL), (\"a\" IS NOT NULL), (\"a\" IS NULL), "
                    "(\"a\" IS NOT NULL), (\"a\" IS NOT NULL), (\"a\" IS NOT \"b\")");
    check_roundtrip("select not a = b", "SELECT (NOT (\"a\" = \"b\"))");
    check_roundtrip("select 1 in ()", "SELECT (1 IN ())");
}

static void test_parse_literals(void **state)
{
    (void)state;
    check_roundtrip("select 'it''s', x'00fF', .5, 0x10, -9223372036854775808",
                    "SELECT 'it''s', X'00FF', 0.5, 16, -9223372036854775808");
    /* REAL text is pv_real_format's; it must read back to the same value */
    check_roundtrip("select 1.5e3, 12345678901234567890, 1e-7, 0.1", NULL);
    check_roundtrip("select true, false, null, 1e999", "SELECT TRUE, FALSE, NULL, 1e999");
    check_roundtrip("select ?, ?, ?5, ?", "SELECT ?1, ?2, ?5, ?6");
    check_roundtrip("select \"we\"\"ird\", `b`, [c d] from \"T\"",
                    "SELECT \"we\"\"ird\", \"b\", \"c d\" FROM \"T\"");
    check_roundtrip("select /* c */ 1 -- end\n , 2", "SELECT 1, 2");
    check_roundtrip("select key, offset, asc from t", "SELECT \"key\", \"offset\", \"asc\" FROM \"t\"");
}

static void test_parse_clauses(void **state)
{
    (void)state;
    check_roundtrip("SELECT DISTINCT t.*, a AS x, b y, c 'z' FROM tab AS t WHERE a > 1 GROUP BY a, b "
                    "HAVING count(*) > 1 ORDER BY 1 DESC, b ASC LIMIT 10 OFFSET 5",
                    "SELECT DISTINCT \"t\".*, \"a\" AS \"x\", \"b\" AS \"y\", \"c\" AS \"z\" FROM \"tab\" "
                    "AS \"t\" WHERE (\"a\" > 1) GROUP BY \"a\", \"b\" HAVING (count(*) > 1) ORDER BY 1 "
                    "DESC, \"b\" LIMIT 10 OFFSET 5");
    check_roundtrip("select a from t limit 5, 10", "SELECT \"a\" FROM \"t\" LIMIT 10 OFFSET 5");
    check_roundtrip("select case when a then 1 when b then 2 else 3 end, case x when 1 then 'a' end",
                    "SELECT CASE WHEN \"a\" THEN 1 WHEN \"b\" THEN 2 ELSE 3 END, "
                    "CASE \"x\" WHEN 1 THEN 'a' END");
    check_roundtrip("select cast(a as varchar(10)), count(distinct b), sum(all c), count()",
                    "SELECT CAST(\"a\" AS varchar(10)), count(DISTINCT \"b\"), sum(\"c\"), count()");
    check_roundtrip("create table if not exists t (a integer primary key, b text not null, "
                    "c double precision null)",
                    "CREATE TABLE IF NOT EXISTS \"t\" (\"a\" integer PRIMARY KEY, \"b\" text NOT NULL, "
                    "\"c\" double precision)");
    check_roundtrip("create table t (a int, b text, primary key (a, b))",
                    "CREATE TABLE \"t\" (\"a\" int, \"b\" text, PRIMARY KEY (\"a\", \"b\"))");
    check_roundtrip("insert into t (a, b) values (1, 'x'), (-2, ?)",
                    "INSERT INTO \"t\" (\"a\", \"b\") VALUES (1, 'x'), ((-2), ?1)");
}

static void test_parse_dml(void **state)
{
    (void)state;
    check_roundtrip("update t set a = a + 1, \"b\" = 'x' where id in (1, 2)",
                    "UPDATE \"t\" SET \"a\" = (\"a\" + 1), \"b\" = 'x' WHERE (\"id\" IN (1, 2))");
    check_roundtrip("update t as x set a = x.a", "UPDATE \"t\" AS \"x\" SET \"a\" = \"x\".\"a\"");
    check_roundtrip("delete from t", "DELETE FROM \"t\"");
    check_roundtrip("delete from t u where u.a is null", "DELETE FROM \"t\" AS \"u\" WHERE (\"u\".\"a\" IS NULL)");
    check_roundtrip("insert or replace into t values (1)", "INSERT OR REPLACE INTO \"t\" VALUES (1)");
    check_roundtrip("replace into t values (1)", "INSERT OR REPLACE INTO \"t\" VALUES (1)");
    check_roundtrip("insert or ignore into t values (1)", "INSERT OR IGNORE INTO \"t\" VALUES (1)");
    check_roundtrip("insert into t values (1, 2) on conflict (id) do nothing",
                    "INSERT INTO \"t\" VALUES (1, 2) ON CONFLICT (\"id\") DO NOTHING");
    check_roundtrip("insert into t values (1, 2) on conflict do nothing",
                    "INSERT INTO \"t\" VALUES (1, 2) ON CONFLICT DO NOTHING");
    check_roundtrip("insert into t(id, n) values (1, 2) on conflict (id) do update set n = n + "
                    "excluded.n, m = 0 where excluded.n > 0",
                    "INSERT INTO \"t\" (\"id\", \"n\") VALUES (1, 2) ON CONFLICT (\"id\") DO UPDATE SET "
                    "\"n\" = (\"n\" + \"excluded\".\"n\"), \"m\" = 0 WHERE (\"excluded\".\"n\" > 0)");
    check_roundtrip("begin", "BEGIN");
    check_roundtrip("begin immediate transaction", "BEGIN");
    check_roundtrip("commit transaction", "COMMIT");
    check_roundtrip("end", "COMMIT");
    check_roundtrip("rollback", "ROLLBACK");
    check_roundtrip("explain select a from t where a = 1", "EXPLAIN SELECT \"a\" FROM \"t\" WHERE (\"a\" = 1)");
    check_roundtrip("explain query plan delete from t", "EXPLAIN DELETE FROM \"t\"");
    /* non-reserved keywords stay usable as names */
    check_roundtrip("select begin, plan, do, replace(a, 'x', 'y') from rollback",
                    "SELECT \"begin\", \"plan\", \"do\", replace(\"a\", 'x', 'y') FROM \"rollback\"");
    check_parse_error("update t set", PV_ESQL, "incomplete input at offset 12");
    check_parse_error("update t where a = 1", PV_ESQL, "near \"where\": syntax error at offset 9");
    check_parse_error("delete t", PV_ESQL, "near \"t\": syntax error at offset 7");
    check_parse_error("insert or abort into t values (1)", PV_ESQL,
                      "near \"abort\": syntax error at offset 10");
    check_parse_error("insert into t values (1) on conflict (a) do update", PV_ESQL,
                      "incomplete input at offset 50");
    check_parse_error("explain insert into t values (1)", PV_ESQL,
                      "near \"insert\": syntax error at offset 8");
    check_parse_error("select to from t", PV_ESQL, "near \"to\": syntax error at offset 7");
}

static void test_parse_ddl(void **state)
{
    (void)state;
    check_roundtrip("create table t (a int default 5, b text default 'x' not null, c real default -1.5, "
                    "d int default (1 + 2), e text default null, f bool default true unique)",
                    "CREATE TABLE \"t\" (\"a\" int DEFAULT 5, \"b\" text NOT NULL DEFAULT 'x', "
                    "\"c\" real DEFAULT ((-1.5)), \"d\" int DEFAULT ((1 + 2)), \"e\" text DEFAULT NULL, "
                    "\"f\" bool UNIQUE DEFAULT TRUE)");
    check_roundtrip("create table t (a int, b int, unique (a, b), primary key (b), unique (b))",
                    "CREATE TABLE \"t\" (\"a\" int, \"b\" int, PRIMARY KEY (\"b\"), UNIQUE (\"a\", \"b\"), "
                    "UNIQUE (\"b\"))");
    check_roundtrip("create unique index if not exists ix on t (a desc, b asc)",
                    "CREATE UNIQUE INDEX IF NOT EXISTS \"ix\" ON \"t\" (\"a\" DESC, \"b\")");
    check_roundtrip("create index ix on t(a)", "CREATE INDEX \"ix\" ON \"t\" (\"a\")");
    check_roundtrip("drop table t", "DROP TABLE \"t\"");
    check_roundtrip("drop table if exists t", "DROP TABLE IF EXISTS \"t\"");
    check_roundtrip("drop index if exists ix", "DROP INDEX IF EXISTS \"ix\"");
    check_roundtrip("alter table t add c text not null default ''",
                    "ALTER TABLE \"t\" ADD COLUMN \"c\" text NOT NULL DEFAULT ''");
    check_roundtrip("alter table t add column c int", "ALTER TABLE \"t\" ADD COLUMN \"c\" int");
    check_roundtrip("alter table t rename column a to \"b c\"",
                    "ALTER TABLE \"t\" RENAME COLUMN \"a\" TO \"b c\"");
    check_roundtrip("alter table t rename a to b", "ALTER TABLE \"t\" RENAME COLUMN \"a\" TO \"b\"");
    check_roundtrip("alter table t drop column a", "ALTER TABLE \"t\" DROP COLUMN \"a\"");
    check_roundtrip("alter table t drop a", "ALTER TABLE \"t\" DROP COLUMN \"a\"");
    check_parse_error("create table t (a int default b)", PV_ESQL,
                      "near \"b\": syntax error at offset 30");
    check_parse_error("create table t (a int default 1 default 2)", PV_ESQL,
                      "near \"2\": syntax error at offset 40");
    check_parse_error("create table t (a int, primary key (a), b int)", PV_ESQL,
                      "near \"b\": syntax error at offset 40");
    check_parse_error("create table t (a int, primary key (a), primary key (a))", PV_ESQL,
                      "table t has more than one primary key at offset 40");
    check_parse_error("create table t (unique (a))", PV_ESQL, "near \"unique\": syntax error at offset 16");
    check_parse_error("create index on t (a)", PV_ESQL, "near \"on\": syntax error at offset 13");
    check_parse_error("drop view v", PV_ESQL, "near \"view\": syntax error at offset 5");
    check_parse_error("alter table t modify a int", PV_ESQL, "near \"modify\": syntax error at offset 14");
}

static void test_parse_expr_only(void **state)
{
    pv_arena a = PV_ARENA_INIT;
    pv_buf b = PV_BUF_INIT;
    pv_expr *e = NULL;
    (void)state;
    assert_int_equal(pv_sql_parse_expr(&a, "1 + x * 2", 9, &e), 0);
    assert_non_null(e);
    assert_int_equal(pv_sql_print_expr(&b, e), 0);
    assert_int_equal(pv_buf_putc(&b, 0), 0);
    assert_string_equal(b.p, "(1 + (\"x\" * 2))");
    assert_int_equal(pv_sql_parse_expr(&a, "1 2", 3, &e), PV_ESQL);
    assert_string_equal(pv_errmsg(), "near \"2\": syntax error at offset 2");
    assert_int_equal(pv_sql_parse_expr(&a, "", 0, &e), PV_ESQL);
    pv_buf_free(&b);
    pv_arena_free(&a);
}

static void test_parse_errors(void **state)
{
    (void)state;
    check_parse_error("SELECT * FORM t", PV_ESQL, "near \"FORM\": syntax error at offset 9");
    check_parse_error("SELECT (1", PV_ESQL, "incomplete input at offset 9");
    check_parse_error("SELECT 'abc", PV_ESQL, "unterminated literal: \"'abc\" at offset 7");
    check_parse_error("SELECT 1 +* 2", PV_ESQL, "near \"*\": syntax error at offset 10");
    check_parse_error("SELECT a FROM t WHERE", PV_ESQL, "incomplete input at offset 21");
    check_parse_error("SELECT 12abc", PV_ESQL, "unrecognized token: \"12abc\" at offset 7");
    check_parse_error("SELECT x'abc'", PV_ESQL, "malformed blob literal: \"x'abc'\" at offset 7");
    check_parse_error("SELECT 1 FROM", PV_ESQL, "incomplete input at offset 13");
    check_parse_error("SELECT from", PV_ESQL, "near \"from\": syntax error at offset 7");
    check_parse_error("UPSERT t SET a = 1", PV_ESQL, "near \"UPSERT\": syntax error at offset 0");
    check_parse_error("INSERT INTO t VALUES (1, 2), (3)", PV_ESQL,
                      "all VALUES must have the same number of terms at offset 29");
    check_parse_error("SELECT CAST(1 AS FOO)", PV_ESQL, "unknown type \"FOO\" at offset 17");
    /* a block comment left open is an error where it opens (SQLite takes it as
     * blank to the end; PostgreSQL refuses it), wherever it stands */
    check_parse_error("SELECT 1 /* open", PV_ESQL, "unterminated comment: \"/*\" at offset 9");
    check_parse_error("/* open", PV_ESQL, "unterminated comment: \"/*\" at offset 0");
    check_parse_error("SELECT 1 /* one */ /* two", PV_ESQL, "unterminated comment: \"/*\" at offset 19");
    check_parse_error("SELECT 1 /*/", PV_ESQL, "unterminated comment: \"/*\" at offset 9");
    check_parse_error("SELECT 1, /* open\n2", PV_ESQL, "unterminated comment: \"/*\" at offset 10");
    check_parse_error("SELECT 0x11112222333344445", PV_ESQL, NULL);
    check_parse_error("SELECT ?0", PV_ESQL, NULL);
    check_parse_error("SELECT 'bad \xff utf8'", PV_ESQL, NULL);
    {   /* a NUL inside a quoted name, the statement's length covering it */
        static const char sql[] = "CREATE TABLE \"ev\0il\" (a INTEGER PRIMARY KEY)";
        static const char col[] = "SELECT [a\0b] FROM t";
        pv_arena a = PV_ARENA_INIT;
        pv_sql_stmt *st = NULL;
        size_t end;
        assert_int_equal(pv_sql_parse(&a, sql, sizeof sql - 1, &st, &end), PV_ESQL);
        assert_string_equal(pv_errmsg(), "a quoted name cannot hold a NUL byte: \"\"ev\" at offset 13");
        assert_int_equal(pv_sql_parse(&a, col, sizeof col - 1, &st, &end), PV_ESQL);
        assert_non_null(strstr(pv_errmsg(), "cannot hold a NUL byte"));
        pv_arena_free(&a);
    }
}

static char *repeat(const char *s, int n, const char *mid, const char *close)
{
    size_t ls = strlen(s), lm = strlen(mid), lc = strlen(close);
    char *out = malloc(ls * (size_t)n + lm + lc * (size_t)n + 8), *p = out;
    int i;
    assert_non_null(out);
    p += sprintf(p, "SELECT ");
    for (i = 0; i < n; i++) p += sprintf(p, "%s", s);
    p += sprintf(p, "%s", mid);
    for (i = 0; i < n; i++) p += sprintf(p, "%s", close);
    return out;
}

static void test_parse_depth_limit(void **state)
{
    static const struct { const char *open, *mid, *close; int ok, bad; } cases[] = {
        {"(", "1", ")", 199, 200},     /* parentheses: parser recursion */
        {"NOT ", "1", "", 199, 300},   /* prefix NOT chain */
        {"- ", "1", "", 198, 300},     /* unary minus chain */
        {"1 + ", "1", "", 199, 200},   /* a flat chain still builds a deep tree */
        {"abs(", "1", ")", 199, 200},  /* function nesting */
    };
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc;
        char *ok = repeat(cases[i].open, cases[i].ok, cases[i].mid, cases[i].close);
        char *bad = repeat(cases[i].open, cases[i].bad, cases[i].mid, cases[i].close);
        char *p = canon(ok, &rc);
        if (!p) fail_msg("case %zu: %d levels rejected: %s", i, cases[i].ok, pv_errmsg());
        free(p);
        assert_null(canon(bad, &rc));
        assert_int_equal(rc, PV_ELIMIT);
        assert_non_null(strstr(pv_errmsg(), "nested too deeply"));
        free(ok);
        free(bad);
    }
}

static void test_parse_statement_end(void **state)
{
    const char *sql = "SELECT ';' ; /* ; */ SELECT \"a;b\" -- ;\n;  ";
    pv_arena a = PV_ARENA_INIT;
    pv_sql_stmt *st;
    size_t end, e1 = pv_sql_stmt_end(sql, strlen(sql));
    (void)state;
    assert_int_equal(e1, 12);
    assert_int_equal(pv_sql_stmt_end(sql + e1, strlen(sql + e1)), strlen(sql) - e1 - 2);
    assert_int_equal(pv_sql_parse(&a, sql, strlen(sql), &st, &end), 0);
    assert_non_null(st);
    assert_int_equal(end, 12);
    /* blanks and comments only: no statement, end past them */
    assert_int_equal(pv_sql_parse(&a, "  -- x\n /* y */", 15, &st, &end), 0);
    assert_null(st);
    assert_int_equal(end, 15);
    /* ... but a comment left open after the statement's ';' is an error */
    assert_int_equal(pv_sql_parse(&a, "  /* y */ /* z", 14, &st, &end), PV_ESQL);
    assert_string_equal(pv_errmsg(), "unterminated comment: \"/*\" at offset 10");
    /* a comment opener inside a literal or a quoted name opens nothing */
    assert_int_equal(pv_sql_parse(&a, "SELECT '/*', \"/*\" -- /*", 24, &st, &end), 0);
    assert_non_null(st);
    pv_arena_free(&a);
}

#include "test_sql_util.h"

/* ---- execution tests ----------------------------------------------------------------- */

static const char *PEOPLE =
    "CREATE TABLE p (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL, cat TEXT);"
    "INSERT INTO p VALUES (1, 'Anna', 3, 9.5, 'a'), (2, 'bob', NULL, 12.25, 'b'),"
    " (3, 'Cara', 5, NULL, 'a'), (4, 'dan', 0, 0.5, NULL), (5, 'Eve', -7, 100.0, 'b'),"
    " (6, NULL, 2, 3.75, 'a'), (7, 'Bo', 3, 2.0, 'c'), (8, 'anders', 10, -1.5, 'b');";

static void test_exec_basic(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, PEOPLE);
    check_query(f->db, "SELECT id, name FROM p WHERE qty > 2 ORDER BY id",
                "1|Anna\n3|Cara\n7|Bo\n8|anders\n");
    check_query(f->db, "SELECT count(*) FROM p", "8\n");
    check_query(f->db, "SELECT * FROM p WHERE id = 2", "2|bob||12.25|b\n");
    check_query(f->db, "SELECT id FROM p ORDER BY qty DESC, id LIMIT 3", "8\n3\n1\n");
    check_query(f->db, "SELECT id FROM p ORDER BY id LIMIT 2 OFFSET 6", "7\n8\n");
    check_query(f->db, "SELECT id FROM p ORDER BY id LIMIT 0", "");
    check_query(f->db, "SELECT cat, count(*) FROM p GROUP BY cat", "|1\na|3\nb|3\nc|1\n");
    check_query(f->db, "SELECT x.id FROM p AS x WHERE x.qty = 3 ORDER BY 1", "1\n7\n");
    check_query(f->db, "SELECT p.* FROM p WHERE p.id = 4", "4|dan|0|0.5|\n");
    check_query(f->db, "SELECT 1 + 1, 'a' || 'b', NULL", "2|ab|\n");
    check_query(f->db, "SELECT 1 WHERE 0", "");
}

static void test_exec_where_typed_filter(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, PEOPLE);
    /* the typed INTEGER loop and the general path must agree, NULLs excluded */
    check_query(f->db, "SELECT id FROM p WHERE qty >= 3 ORDER BY id", "1\n3\n7\n8\n");
    check_query(f->db, "SELECT id FROM p WHERE 3 <= qty ORDER BY id", "1\n3\n7\n8\n");
    check_query(f->db, "SELECT id FROM p WHERE qty + 0 >= 3 ORDER BY id", "1\n3\n7\n8\n");
    check_query(f->db, "SELECT id FROM p WHERE qty <> 3 ORDER BY id", "3\n4\n5\n6\n8\n");
    check_query(f->db, "SELECT id FROM p WHERE qty = '3' ORDER BY id", "1\n7\n");
    check_query(f->db, "SELECT id FROM p WHERE qty > 0 AND qty < 5 AND price > 2 ORDER BY id",
                "1\n6\n");
}

static void test_exec_names(void **state)
{
    fixture *f = *state;
    pv_stmt *st;
    exec_ok(f->db, PEOPLE);
    assert_int_equal(pv_prepare(f->db, "SELECT ID, p.name, qty AS q, qty  +  1, count(*), (price) "
                                       "FROM p",
                                (size_t)-1, &st, NULL),
                     0);
    assert_int_equal(pv_column_count(st), 6);
    assert_string_equal(pv_column_name(st, 0), "id");
    assert_string_equal(pv_column_name(st, 1), "name");
    assert_string_equal(pv_column_name(st, 2), "q");
    assert_string_equal(pv_column_name(st, 3), "qty  +  1");
    assert_string_equal(pv_column_name(st, 4), "count(*)");
    assert_string_equal(pv_column_name(st, 5), "price");
    assert_null(pv_column_name(st, 6));
    pv_finalize(st);
}

static void test_exec_order_by_forms(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, PEOPLE);
    check_query(f->db, "SELECT id AS k, qty FROM p WHERE id < 5 ORDER BY k DESC", "4|0\n3|5\n2|\n1|3\n");
    check_query(f->db, "SELECT id, qty FROM p WHERE id < 5 ORDER BY 2", "2|\n4|0\n1|3\n3|5\n");
    check_query(f->db, "SELECT id FROM p WHERE id < 5 ORDER BY -qty", "2\n3\n1\n4\n");
    check_query(f->db, "SELECT name FROM p WHERE id IN (1, 2, 6, 7) ORDER BY name", "\nAnna\nBo\nbob\n");
    check_query(f->db, "SELECT cat, sum(qty) AS s FROM p GROUP BY cat ORDER BY s DESC, cat", "a|10\nb|3\nc|3\n|0\n");
    check_query(f->db, "SELECT cat FROM p GROUP BY cat ORDER BY count(*) DESC, cat LIMIT 2", "a\nb\n");
    check_query_error(f->db, "SELECT id FROM p ORDER BY 3", PV_ESQL, NULL);
    /* SQLite: a signed integer literal is an ordinal; one beyond 32 bits is a constant */
    check_query_error(f->db, "SELECT id FROM p ORDER BY -1", PV_ESQL,
                      "ORDER BY term 1 out of range - should be between 1 and 1 at offset 26");
    check_query_error(f->db, "SELECT id FROM p ORDER BY +2", PV_ESQL, NULL);
    check_query_error(f->db, "SELECT id FROM p GROUP BY -1", PV_ESQL, NULL);
    check_query(f->db, "SELECT id FROM p WHERE id < 4 ORDER BY 1099511627776, id DESC", "3\n2\n1\n");
    check_query(f->db, "SELECT id FROM p WHERE id < 4 ORDER BY +(1)", "1\n2\n3\n");
    check_query_error(f->db, "SELECT id FROM p ORDER BY +(1), -(1)", PV_ESQL,
                      "ORDER BY term 2 out of range - should be between 1 and 1 at offset 32");
}

static void test_exec_aggregates(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, PEOPLE);
    check_query(f->db, "SELECT count(*), count(qty), sum(qty), min(qty), max(qty), avg(qty), total(qty) FROM p",
                "8|7|16|-7|10|2.2857142857142856|16.0\n");
    check_query(f->db, "SELECT sum(price), min(name), max(name), count(DISTINCT cat), sum(DISTINCT qty) FROM p",
                "126.5|Anna|dan|3|13\n");
    check_query(f->db, "SELECT count(*), sum(qty), avg(qty), min(qty), total(qty) FROM p WHERE id < 0",
                "0||||0.0\n");
    check_query(f->db, "SELECT cat, sum(qty) / count(*), avg(price) FROM p GROUP BY cat HAVING count(qty) > 1",
                "a|3|6.625\nb|1|36.916666666666664\n");
    check_query(f->db, "SELECT cat, count(*) FROM p WHERE id < 0 GROUP BY cat", "");
    check_query(f->db, "SELECT DISTINCT cat FROM p ORDER BY cat", "\na\nb\nc\n");
    check_query(f->db, "SELECT qty % 2, count(*) FROM p GROUP BY 1", "|1\n-1|1\n0|3\n1|3\n");
    check_query(f->db, "SELECT sum(qty) FROM p GROUP BY cat HAVING sum(qty) > 5", "10\n");
    check_query_error(f->db, "SELECT id FROM p WHERE count(*) > 1", PV_ESQL, NULL);
    check_query_error(f->db, "SELECT sum(count(*)) FROM p", PV_ESQL, NULL);
    check_query_error(f->db, "SELECT id FROM p GROUP BY sum(qty)", PV_ESQL, NULL);
    check_query_error(f->db, "SELECT id FROM p HAVING id > 1", PV_ESQL,
                      "HAVING clause on a non-aggregate query at offset 24");
}

/* Numbers group and deduplicate by value across INTEGER/REAL; text apart. */
static void test_exec_group_by_value(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE m (r REAL, t TEXT, i INTEGER);"
                   "INSERT INTO m VALUES (1.0, '1', 1), (1, '1.0', 2), (2.5, 'x', NULL), (NULL, NULL, 1)");
    check_query(f->db, "SELECT count(DISTINCT r), count(DISTINCT t), count(DISTINCT i) FROM m", "2|3|2\n");
    check_query(f->db, "SELECT r, count(*) FROM m GROUP BY r", "|1\n1.0|2\n2.5|1\n");
    check_query(f->db, "SELECT count(*) FROM m GROUP BY i * 1.0 = r ORDER BY 1", "1\n1\n2\n");
    check_query(f->db, "SELECT DISTINCT r = i FROM m ORDER BY 1", "\n0\n1\n");
}

static void test_exec_sum_overflow(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE big (v INTEGER); INSERT INTO big VALUES (9223372036854775807), (1), (2);");
    check_query_error(f->db, "SELECT sum(v) FROM big", PV_ERANGE, "integer overflow");
    check_query(f->db, "SELECT total(v) > 9.2e18, typeof(avg(v)) FROM big", "1|real\n");
    check_query(f->db, "SELECT sum(v) FROM big WHERE v < 10", "3\n");
    check_query(f->db, "SELECT 9223372036854775807 + 1 > 9e18, typeof(9223372036854775807 * 2)", "1|real\n");
    check_query_error(f->db, "SELECT abs(-9223372036854775807 - 1)", PV_ERANGE, "integer overflow");
}

static void test_exec_many_batches(void **state)
{
    fixture *f = *state;
    pv_buf b = PV_BUF_INIT;
    int i;
    exec_ok(f->db, "CREATE TABLE n (k INTEGER PRIMARY KEY, g INTEGER, s TEXT)");
    pv_buf_printf(&b, "INSERT INTO n VALUES ");
    for (i = 1; i <= 5000; i++) pv_buf_printf(&b, "%s(%d, %d, 's%d')", i > 1 ? "," : "", i, i % 7, i % 13);
    pv_buf_putc(&b, 0);
    exec_ok(f->db, b.p);
    pv_buf_free(&b);
    check_query(f->db, "SELECT count(*), sum(k), min(s), max(s), count(DISTINCT s) FROM n",
                "5000|12502500|s0|s9|13\n");
    check_query(f->db, "SELECT g, count(*), sum(k) FROM n GROUP BY g ORDER BY g LIMIT 3",
                "0|714|1786785\n1|715|1787500\n2|715|1788215\n");
    check_query(f->db, "SELECT k FROM n WHERE k % 1000 = 0", "1000\n2000\n3000\n4000\n5000\n");
    check_query(f->db, "SELECT k FROM n LIMIT 2 OFFSET 2047", "2048\n2049\n");
    check_query(f->db, "SELECT k FROM n ORDER BY s DESC, k DESC LIMIT 2", "4988\n4975\n");
    check_query(f->db, "SELECT DISTINCT g FROM n LIMIT 3 OFFSET 4", "5\n6\n0\n");
}

static void test_exec_insert_forms(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE t (a INTEGER, b TEXT, c REAL, d BOOLEAN, e BLOB)");
    exec_ok(f->db, "INSERT INTO t (b, a) VALUES ('x' || 'y', 1 + 2), ('z', -1);"
                   "INSERT INTO t VALUES (7, 'w', 2, TRUE, X'0102');");
    check_query(f->db, "SELECT a, b, c, d, length(e) FROM t ORDER BY a", "-1|z|||\n3|xy|||\n7|w|2.0|1|2\n");
    check_query(f->db, "SELECT count(*) FROM t WHERE d", "1\n");
    check_query_error(f->db, "INSERT INTO t VALUES (1, 2)", PV_ESQL,
                      "table t has 5 columns but 2 values were supplied at offset 21");
    check_query_error(f->db, "INSERT INTO t (a, zz) VALUES (1, 2)", PV_ENOTFOUND, NULL);
    check_query_error(f->db, "INSERT INTO t (a, b) VALUES (1)", PV_ESQL, NULL);
    check_query_error(f->db, "INSERT INTO t (a) VALUES (b)", PV_ENOTFOUND, "no such column: b at offset 26");
    check_query_error(f->db, "INSERT INTO t (a) VALUES ('abc')", PV_ETYPE, NULL);
    check_query_error(f->db, "INSERT INTO nope VALUES (1)", PV_ENOTFOUND, "no such table: nope at offset 12");
    check_query(f->db, "SELECT count(*) FROM t", "3\n");
}

static void test_exec_create_errors(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE t (a INTEGER PRIMARY KEY)");
    check_query_error(f->db, "CREATE TABLE t (a INTEGER)", PV_EEXISTS, NULL);
    exec_ok(f->db, "CREATE TABLE IF NOT EXISTS t (b TEXT)");
    check_query(f->db, "SELECT * FROM t", "");
    check_query_error(f->db, "CREATE TABLE u (a WIDGET)", PV_ESQL,
                      "unknown type \"WIDGET\" for column a at offset 18");
    check_query_error(f->db, "CREATE TABLE u (a INTEGER PRIMARY KEY, b INTEGER PRIMARY KEY)", PV_ESQL, NULL);
    check_query_error(f->db, "CREATE TABLE u (a INTEGER, PRIMARY KEY (b))", PV_ENOTFOUND, NULL);
    check_query_error(f->db, "CREATE TABLE u (a INTEGER, A TEXT)", PV_EEXISTS, NULL);
    exec_ok(f->db, "CREATE TABLE k2 (a INTEGER, b TEXT, PRIMARY KEY (b, a));"
                   "INSERT INTO k2 VALUES (2, 'x'), (1, 'x'), (3, 'a')");
    check_query(f->db, "SELECT a, b FROM k2", "3|a\n1|x\n2|x\n"); /* primary-key order */
    check_query_error(f->db, "INSERT INTO k2 VALUES (1, 'x')", PV_ECONSTRAINT, NULL);
}

static void test_exec_name_errors(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, PEOPLE);
    check_query_error(f->db, "SELECT nope FROM p", PV_ENOTFOUND, "no such column: nope at offset 7");
    check_query_error(f->db, "SELECT q.id FROM p", PV_ENOTFOUND, "no such column: q.id at offset 7");
    check_query_error(f->db, "SELECT p.id FROM p AS x", PV_ENOTFOUND, "no such column: p.id at offset 7");
    check_query_error(f->db, "SELECT * FROM nope", PV_ENOTFOUND, "no such table: nope at offset 14");
    check_query_error(f->db, "SELECT nosuch(id) FROM p", PV_ESQL, "no such function: nosuch at offset 7");
    check_query_error(f->db, "SELECT substr(id) FROM p", PV_ESQL, NULL);
    check_query_error(f->db, "SELECT *", PV_ESQL, "no tables specified at offset 7");
    check_query_error(f->db, "SELECT id FROM p LIMIT 'many'", PV_ETYPE, NULL);
    check_query_error(f->db, "SELECT 'a' LIKE 'b' ESCAPE 'xy'", PV_ESQL, NULL);
}

static void test_exec_scalar_semantics(void **state)
{
    fixture *f = *state;
    check_query(f->db, "SELECT 7 / 2, -7 / 2, 7 % 3, -7 % 3, 7 / 0, 7 % 0, 7.0 / 0, 5.5 % 2",
                "3|-3|1|-1||||1.0\n");
    check_query(f->db, "SELECT NULL AND 0, NULL AND 1, NULL OR 1, NULL OR 0, NOT NULL, 1 = NULL, NULL IS NULL",
                "0||1||||1\n");
    check_query(f->db, "SELECT 1 IN (1, NULL), 2 IN (1, NULL), 2 NOT IN (1, NULL), NULL IN (), 2 NOT IN (1)",
                "1|||0|1\n");
    check_query(f->db, "SELECT 5 BETWEEN 1 AND NULL, 0 BETWEEN 1 AND NULL, 0 NOT BETWEEN 1 AND NULL",
                "|0|1\n");
    check_query(f->db, "SELECT 'abc' LIKE 'A_C', 'abc' LIKE 'a%%', 'a%c' LIKE 'a!%c' ESCAPE '!', "
                       "'abc' LIKE 'a!%c' ESCAPE '!', 'héllo' LIKE 'h_llo', NULL LIKE 'a'",
                "1|1|1|0|1|\n");
    check_query(f->db, "SELECT lower('ÀBC'), upper('abc'), length('héllo'), length(X'0001'), length(12.5)",
                "Àbc|ABC|5|2|4\n");
    check_query(f->db, "SELECT substr('hello', 2, 3), substr('hello', -3), substr('hello', 0, 2), "
                       "substr('hello', 2, -1), substr('héllo', 2, 2)",
                "ell|llo|h|h|él\n");
    check_query(f->db, "SELECT trim('  x  '), ltrim('xxy', 'x'), rtrim('yxx', 'x'), abs(-3), abs(-2.5), abs('-4')",
                "x|y|y|3|2.5|4.0\n");
    check_query(f->db, "SELECT round(2.675, 2), round(2.5), round(-2.5), round(1234.5678, 1), round(NULL)",
                "2.68|3.0|-3.0|1234.6|\n");
    check_query(f->db, "SELECT coalesce(NULL, NULL, 3), ifnull(NULL, 'z'), nullif(1, 1), nullif(1, 2)",
                "3|z||1\n");
    check_query(f->db, "SELECT CAST('12.5' AS INTEGER), CAST('1e3' AS REAL) = 1000, CAST(12.9 AS INTEGER), "
                       "CAST(1 AS TEXT) || 'x', CAST(2 AS BOOLEAN), CAST('ab' AS BLOB)",
                "12|1|12|1x|1|ab\n");
    check_query(f->db, "SELECT '12abc' + 1, 'abc' + 1, '1.5x' + 0, -'3', +'x'", "13|1|1.5|-3|x\n");
    check_query(f->db, "SELECT CASE 2 WHEN 1 THEN 'a' WHEN 2 THEN 'b' END, CASE WHEN NULL THEN 1 ELSE 0 END, "
                       "CASE NULL WHEN NULL THEN 'eq' ELSE 'ne' END",
                "b|0|ne\n");
    check_query(f->db, "SELECT 9223372036854775807 + 0, -9223372036854775808, 1 << 62, 5 & 3, 5 | 3, ~0",
                "9223372036854775807|-9223372036854775808|4611686018427387904|1|7|-1\n");
    check_query(f->db, "SELECT min(3, 1, 2), max('a', 'b'), typeof(1), typeof(1.0), typeof('a'), typeof(NULL), "
                       "typeof(X'00'), typeof(TRUE)",
                "1|b|integer|real|text|null|blob|boolean\n");
}

static void test_exec_affinity(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE a (i INTEGER, r REAL, t TEXT, b BOOLEAN);"
                   "INSERT INTO a VALUES (10, 2.5, '10', TRUE), (9, 10.0, '9', FALSE)");
    /* numeric column vs text literal: the literal becomes a number */
    check_query(f->db, "SELECT i FROM a WHERE i = '10'", "10\n");
    check_query(f->db, "SELECT i FROM a WHERE r = ' 10 '", "9\n");
    /* text column vs number: the number is compared as text */
    check_query(f->db, "SELECT t FROM a WHERE t > 5 ORDER BY t", "9\n");
    check_query(f->db, "SELECT t FROM a WHERE t = 10", "10\n");
    /* no affinity on either side: numbers sort before text */
    check_query(f->db, "SELECT 10 = '10', 1 < 'a', '9' < '10'", "0|1|0\n");
    /* numeric column vs text column: the text is converted */
    check_query(f->db, "SELECT i FROM a WHERE i = t ORDER BY i", "9\n10\n");
    /* booleans are 0/1 */
    check_query(f->db, "SELECT b + 1, b = 1, b FROM a ORDER BY i", "1|0|0\n2|1|1\n");
    check_query(f->db, "SELECT i FROM a WHERE b = TRUE", "10\n");
}

static void test_api_bind_and_types(void **state)
{
    fixture *f = *state;
    pv_stmt *st;
    exec_ok(f->db, PEOPLE);
    assert_int_equal(pv_prepare(f->db, "SELECT id, name, price, ?2 FROM p WHERE qty > ?1 ORDER BY id",
                                (size_t)-1, &st, NULL),
                     0);
    assert_int_equal(pv_bind_count(st), 2);
    assert_int_equal(pv_bind_int64(st, 1, 3), 0);
    assert_int_equal(pv_bind_text(st, 2, "tag", 3), 0);
    assert_int_equal(pv_bind_int64(st, 3, 1), PV_ERANGE);
    assert_int_equal(pv_bind_int64(st, 0, 1), PV_ERANGE);
    assert_int_equal(pv_bind_text(st, 2, "\xc3\x28", 2), PV_EINPUT);
    assert_int_equal(pv_step(st), PV_ROW);
    assert_int_equal(pv_bind_int64(st, 1, 0), PV_EMISUSE);
    assert_int_equal(pv_column_type(st, 0), PV_INTEGER);
    assert_int_equal(pv_column_int64(st, 0), 3);
    assert_string_equal(pv_column_text(st, 1), "Cara");
    assert_int_equal(pv_column_bytes(st, 1), 4);
    assert_int_equal(pv_column_type(st, 2), PV_NULL);
    assert_null(pv_column_text(st, 2));
    assert_true(pv_column_double(st, 2) == 0.0);
    assert_string_equal(pv_column_text(st, 3), "tag");
    assert_int_equal(pv_column_type(st, 9), PV_NULL);
    assert_int_equal(pv_step(st), PV_ROW);
    assert_int_equal(pv_column_int64(st, 0), 8);
    assert_string_equal(pv_column_text(st, 2), "-1.5");
    assert_true(pv_column_double(st, 2) == -1.5);
    assert_int_equal(pv_column_int64(st, 2), -1);
    assert_int_equal(pv_step(st), PV_DONE);
    assert_int_equal(pv_step(st), PV_DONE);
    /* rebind after reset, and run again */
    assert_int_equal(pv_reset(st), 0);
    assert_int_equal(pv_bind_int64(st, 1, 5), 0);
    assert_int_equal(pv_step(st), PV_ROW);
    assert_int_equal(pv_column_int64(st, 0), 8);
    assert_int_equal(pv_step(st), PV_DONE);
    pv_finalize(st);
}

static void test_api_value_text(void **state)
{
    fixture *f = *state;
    pv_stmt *st;
    (void)f;
    assert_int_equal(pv_prepare(f->db, "SELECT 1.0, 31.95376472, TRUE, FALSE, X'610062', 12, '5x', ?",
                                (size_t)-1, &st, NULL),
                     0);
    assert_int_equal(pv_bind_blob(st, 1, "\0\1", 2), 0);
    assert_int_equal(pv_step(st), PV_ROW);
    assert_string_equal(pv_column_text(st, 0), "1.0");
    assert_string_equal(pv_column_text(st, 1), "31.95376472");
    assert_int_equal(pv_column_type(st, 2), PV_BOOLEAN);
    assert_string_equal(pv_column_text(st, 2), "1");
    assert_string_equal(pv_column_text(st, 3), "0");
    assert_int_equal(pv_column_type(st, 4), PV_BLOB);
    assert_int_equal(pv_column_bytes(st, 4), 3);
    assert_memory_equal(pv_column_blob(st, 4), "a\0b", 3);
    assert_string_equal(pv_column_text(st, 5), "12");
    assert_true(pv_column_double(st, 5) == 12.0);
    assert_int_equal(pv_column_int64(st, 6), 5);
    assert_int_equal(pv_column_bytes(st, 7), 2);
    assert_memory_equal(pv_column_blob(st, 7), "\0\1", 2);
    assert_int_equal(pv_step(st), PV_DONE);
    /* no current row: defaults */
    assert_int_equal(pv_column_type(st, 0), PV_NULL);
    assert_null(pv_column_text(st, 0));
    pv_finalize(st);
}

static void test_api_prepare_tail_and_exec(void **state)
{
    fixture *f = *state;
    const char *sql = "  -- lead\n CREATE TABLE t (a INTEGER); INSERT INTO t VALUES (1);; SELECT a FROM t; ";
    const char *tail;
    pv_stmt *st;
    int n = 0;
    assert_int_equal(pv_prepare(f->db, sql, (size_t)-1, &st, &tail), 0);
    assert_non_null(st);
    assert_int_equal(pv_column_count(st), 0);
    assert_int_equal(pv_step(st), PV_DONE);
    assert_int_equal(pv_step(st), PV_DONE); /* DDL runs once */
    pv_finalize(st);
    assert_true(tail > sql && tail[-1] == ';');
    while (*tail) {
        const char *next;
        assert_int_equal(pv_prepare(f->db, tail, (size_t)-1, &st, &next), 0);
        if (st) {
            while (pv_step(st) == PV_ROW) n++;
            pv_finalize(st);
        }
        assert_true(next > tail);
        tail = next;
    }
    assert_int_equal(n, 1);
    /* a length-limited prepare stops at len */
    assert_int_equal(pv_prepare(f->db, "SELECT 1SELECT", 8, &st, &tail), 0);
    assert_int_equal(pv_step(st), PV_ROW);
    pv_finalize(st);
    /* blank input gives no statement */
    assert_int_equal(pv_prepare(f->db, " /* */ ", (size_t)-1, &st, &tail), 0);
    assert_null(st);
    /* a comment left open after the last statement is an error, not a blank:
     * the statement before it runs, then pv_exec reports the comment */
    assert_int_equal(pv_exec(f->db, "INSERT INTO t VALUES (4); /* INSERT INTO t VALUES (5); */ /* open"),
                     PV_ESQL);
    assert_string_equal(pv_errmsg(), "unterminated comment: \"/*\" at offset 58");
    check_query(f->db, "SELECT a FROM t ORDER BY a", "1\n4\n");
    exec_ok(f->db, "DELETE FROM t WHERE a = 4; /* closed */ -- and a line comment");
    assert_int_equal(pv_prepare(f->db, "SELECT 1; /* open", (size_t)-1, &st, &tail), 0);
    assert_non_null(st);
    pv_finalize(st);
    assert_string_equal(tail, " /* open");
    assert_int_equal(pv_prepare(f->db, tail, (size_t)-1, &st, &tail), PV_ESQL);
    assert_null(st);
    assert_string_equal(pv_errmsg(), "unterminated comment: \"/*\" at offset 1");
    /* pv_exec stops at the first error and reports it */
    assert_int_equal(pv_exec(f->db, "INSERT INTO t VALUES (2); SELECT nope FROM t; INSERT INTO t VALUES (3)"),
                     PV_ENOTFOUND);
    check_query(f->db, "SELECT a FROM t ORDER BY a", "1\n2\n");
    assert_int_equal(pv_prepare(NULL, "SELECT 1", 8, &st, NULL), PV_EMISUSE);
    assert_int_equal(pv_finalize(NULL), 0);
}

static void test_api_nstmts_and_close(void **state)
{
    fixture *f = *state;
    pv_stmt *a, *b;
    assert_int_equal(pv_prepare(f->db, "SELECT 1", (size_t)-1, &a, NULL), 0);
    assert_int_equal(pv_prepare(f->db, "SELECT 2", (size_t)-1, &b, NULL), 0);
    assert_int_equal(pv_close(f->db), PV_EMISUSE);
    pv_finalize(a);
    assert_int_equal(pv_close(f->db), PV_EMISUSE);
    pv_finalize(b);
    /* a failed prepare leaves the count alone */
    assert_int_equal(pv_prepare(f->db, "SELECT", (size_t)-1, &a, NULL), PV_ESQL);
    assert_null(a);
}

/* pv_prepare's (or pv_step's) error, its message and pv_error_offset(). */
static void check_offset(pv_db *db, const char *sql, int code, int64_t off, const char *msg)
{
    pv_stmt *st = NULL;
    int rc = pv_prepare(db, sql, (size_t)-1, &st, NULL);
    while (rc >= 0 && st && (rc = pv_step(st)) == PV_ROW) {}
    pv_finalize(st);
    if (rc != code) fail_msg("%s: want %d, got %d (%s)", sql, code, rc, pv_errmsg());
    if (strcmp(pv_errmsg(), msg)) fail_msg("%s: message '%s', want '%s'", sql, pv_errmsg(), msg);
    if (pv_error_offset() != off)
        fail_msg("%s: offset %lld, want %lld", sql, (long long)pv_error_offset(), (long long)off);
}

/* The offset of `what` in `sql`, to check against. */
static int64_t at(const char *sql, const char *what)
{
    const char *p = strstr(sql, what);
    assert_non_null(p);
    return (int64_t)(p - sql);
}

static void *other_thread_error(void *arg)
{
    pv_db *db = arg;
    pv_stmt *st = NULL;
    int ok = pv_prepare(db, "FORM p", (size_t)-1, &st, NULL) == PV_ESQL && pv_error_offset() == 0;
    return ok ? db : NULL;
}

/* pv_error_offset(): where in the text the last error of this thread is,
 * or -1 when it has no position. */
static void test_api_error_offset(void **state)
{
    fixture *f = *state;
    const char *sql;
    pv_stmt *st;
    pthread_t th;
    void *res;
    exec_ok(f->db, PEOPLE);
    /* syntax errors, from the lexer and the parser */
    check_offset(f->db, "SELECT * FORM p", PV_ESQL, 9, "near \"FORM\": syntax error at offset 9");
    check_offset(f->db, "SELECT (1", PV_ESQL, 9, "incomplete input at offset 9");
    check_offset(f->db, "SELECT 1, 'abc", PV_ESQL, 10, "unterminated literal: \"'abc\" at offset 10");
    check_offset(f->db, "SELECT 1 /* x", PV_ESQL, 9, "unterminated comment: \"/*\" at offset 9");
    check_offset(f->db, "SELECT ?0", PV_ESQL, 7, "variable number must be between ?1 and ?32766 at offset 7");
    /* unknown types, at parse (CAST) and at prepare (a column) */
    check_offset(f->db, "SELECT CAST(1 AS FOO)", PV_ESQL, 17, "unknown type \"FOO\" at offset 17");
    check_offset(f->db, "CREATE TABLE u (a WIDGET)", PV_ESQL, 18,
                 "unknown type \"WIDGET\" for column a at offset 18");
    /* names, bound at prepare */
    sql = "CREATE TABLE u (a INTEGER, PRIMARY KEY (b))";
    check_offset(f->db, sql, PV_ENOTFOUND, at(sql, "b)"), "no such column: b at offset 40");
    check_offset(f->db, "UPDATE p SET nope = 1", PV_ENOTFOUND, 13, "no such column: nope at offset 13");
    check_offset(f->db, "CREATE INDEX ix ON p (qty, nope)", PV_ENOTFOUND, 27,
                 "no such column: nope (table p) at offset 27");
    check_offset(f->db, "SELECT id, nosuch(id) FROM p", PV_ESQL, 11, "no such function: nosuch at offset 11");
    check_offset(f->db, "SELECT qty FROM p GROUP BY sum(qty)", PV_ESQL, 27,
                 "misuse of aggregate function sum() at offset 27");
    /* a run-time error of pv_step */
    check_offset(f->db, "SELECT id FROM p LIMIT 'many'", PV_ETYPE, 23, "datatype mismatch in LIMIT at offset 23");
    /* too deep: the trailing part comes before the offset */
    {
        char deep[512];
        strcpy(deep, "SELECT ");
        memset(deep + 7, '(', 300);
        strcpy(deep + 307, "1");
        check_offset(f->db, deep, PV_ELIMIT, 207, "expression nested too deeply (limit 200) at offset 207");
    }
    /* an error without a position sets -1 ... */
    check_offset(f->db, "SELECT * FORM p", PV_ESQL, 9, "near \"FORM\": syntax error at offset 9");
    check_offset(f->db, "INSERT INTO p (id) VALUES (1)", PV_ECONSTRAINT, -1,
                 "table p: duplicate primary key 1 (row 1 of the statement): the table already has it");
    check_offset(f->db, "SELECT * FORM p", PV_ESQL, 9, "near \"FORM\": syntax error at offset 9");
    assert_int_equal(pv_prepare(f->db, "SELECT ?", (size_t)-1, &st, NULL), 0);
    assert_int_equal(pv_bind_int64(st, 2, 1), PV_ERANGE);
    assert_int_equal(pv_error_offset(), -1);
    /* ... and a call that succeeds leaves both message and offset to the
     * last failure, as pv_errmsg always did */
    check_offset(f->db, "SELECT * FORM p", PV_ESQL, 9, "near \"FORM\": syntax error at offset 9");
    assert_int_equal(pv_bind_int64(st, 1, 1), 0);
    assert_int_equal(pv_step(st), PV_ROW);
    pv_finalize(st);
    assert_int_equal(pv_error_offset(), 9);
    assert_string_equal(pv_errmsg(), "near \"FORM\": syntax error at offset 9");
    /* pv_prepare counts from its `sql`: the second statement of a script
     * from the first's tail */
    sql = "SELECT 1; SELECT * FORM p";
    assert_int_equal(pv_prepare(f->db, sql, (size_t)-1, &st, &sql), 0);
    pv_finalize(st);
    check_offset(f->db, sql, PV_ESQL, 10, "near \"FORM\": syntax error at offset 10");
    /* pv_exec counts from the start of its whole text, message and offset */
    assert_int_equal(pv_exec(f->db, "SELECT 1; SELECT * FORM p"), PV_ESQL);
    assert_string_equal(pv_errmsg(), "near \"FORM\": syntax error at offset 19");
    assert_int_equal(pv_error_offset(), 19);
    sql = "SELECT 1;\nSELECT 2;\nSELECT id FROM p LIMIT 'many'";
    assert_int_equal(pv_exec(f->db, sql), PV_ETYPE);
    assert_int_equal(pv_error_offset(), at(sql, "'many'"));
    assert_string_equal(pv_errmsg(), "datatype mismatch in LIMIT at offset 43");
    assert_int_equal(pv_exec(f->db, "SELECT 1; INSERT INTO p (id) VALUES (1)"), PV_ECONSTRAINT);
    assert_int_equal(pv_error_offset(), -1);
    /* thread-local: another thread's error leaves this thread's alone */
    check_offset(f->db, "SELECT * FORM p", PV_ESQL, 9, "near \"FORM\": syntax error at offset 9");
    assert_int_equal(pthread_create(&th, NULL, other_thread_error, f->db), 0);
    assert_int_equal(pthread_join(th, &res), 0);
    assert_ptr_equal(res, f->db);
    assert_int_equal(pv_error_offset(), 9);
}

/* An error about a name or a term of the statement, its message ending
 * in " at offset N" where N is the offset of `what` in `sql`. */
static void check_at(pv_db *db, const char *sql, int code, const char *what, const char *msg)
{
    char want[512];
    int64_t off = at(sql, what);
    snprintf(want, sizeof want, "%s at offset %lld", msg, (long long)off);
    check_offset(db, sql, code, off, want);
}

/* Every error of binding names and terms (the planner's, and those of the
 * statements that write) gives the offset of the name or term at fault,
 * and pv_exec's from the start of its whole text. They had none: "no such
 * column: nope", pv_error_offset() -1. */
static void test_api_error_offset_names(void **state)
{
    fixture *f = *state;
    const char *sql;
    pv_stmt *st;
    exec_ok(f->db, PEOPLE);
    exec_ok(f->db, "CREATE TABLE gone (a INTEGER)");
    /* SELECT: columns anywhere, bare and qualified */
    check_at(f->db, "SELECT nope FROM p", PV_ENOTFOUND, "nope", "no such column: nope");
    check_at(f->db, "SELECT id FROM p WHERE qty > 1 AND q.id = 2", PV_ENOTFOUND, "q.id", "no such column: q.id");
    check_at(f->db, "SELECT p.id FROM p AS x", PV_ENOTFOUND, "p.id", "no such column: p.id");
    check_at(f->db, "SELECT cat FROM p GROUP BY cat HAVING max(nope) > 1", PV_ENOTFOUND, "nope",
             "no such column: nope");
    check_at(f->db, "SELECT id FROM p ORDER BY qty, nope DESC", PV_ENOTFOUND, "nope", "no such column: nope");
    check_at(f->db, "SELECT id FROM p LIMIT nope", PV_ENOTFOUND, "nope", "no such column: nope");
    /* tables */
    check_at(f->db, "SELECT * FROM nope", PV_ENOTFOUND, "nope", "no such table: nope");
    check_at(f->db, "SELECT id, q.* FROM p", PV_ENOTFOUND, "q.*", "no such table: q");
    check_at(f->db, "SELECT 1, *", PV_ESQL, "*", "no tables specified");
    /* functions */
    check_at(f->db, "SELECT id, nosuch(id) FROM p", PV_ESQL, "nosuch", "no such function: nosuch");
    check_at(f->db, "SELECT id, substr(id) FROM p", PV_ESQL, "substr",
             "wrong number of arguments to function substr()");
    check_at(f->db, "SELECT id, lower(DISTINCT name) FROM p", PV_ESQL, "lower",
             "DISTINCT is only allowed in aggregates: lower()");
    /* GROUP BY, HAVING, ORDER BY terms */
    check_at(f->db, "SELECT id FROM p GROUP BY qty, 2", PV_ESQL, "2",
             "GROUP BY term 2 out of range - should be between 1 and 1");
    check_at(f->db, "SELECT id FROM p ORDER BY id, -1", PV_ESQL, "-1",
             "ORDER BY term 2 out of range - should be between 1 and 1");
    check_at(f->db, "SELECT cat, sum(qty) FROM p GROUP BY cat, 2", PV_ESQL, "2",
             "aggregate functions are not allowed in the GROUP BY clause");
    sql = "SELECT sum(qty) AS s FROM p GROUP BY s"; /* an alias: the term, not the aggregate */
    check_offset(f->db, sql, PV_ESQL, (int64_t)(strrchr(sql, 's') - sql),
                 "aggregate functions are not allowed in the GROUP BY clause at offset 37");
    check_at(f->db, "SELECT id FROM p WHERE id > 1 HAVING id > 2", PV_ESQL, "id > 2",
             "HAVING clause on a non-aggregate query");
    check_at(f->db, "SELECT 'a' LIKE 'b' ESCAPE 'xy'", PV_ESQL, "'xy'",
             "ESCAPE expression must be a single character");
    /* statements that write */
    check_at(f->db, "INSERT INTO nope VALUES (1)", PV_ENOTFOUND, "nope", "no such table: nope");
    check_at(f->db, "INSERT INTO p (id, nope) VALUES (1, 2)", PV_ENOTFOUND, "nope",
             "table p has no column named nope");
    check_at(f->db, "INSERT INTO p (id) VALUES (nope)", PV_ENOTFOUND, "nope", "no such column: nope");
    check_at(f->db, "UPDATE nope SET qty = 1", PV_ENOTFOUND, "nope", "no such table: nope");
    check_at(f->db, "UPDATE p SET qty = nope", PV_ENOTFOUND, "nope", "no such column: nope");
    check_at(f->db, "UPDATE p SET qty = 1 WHERE nope = 1", PV_ENOTFOUND, "nope", "no such column: nope");
    check_at(f->db, "UPDATE p SET qty = 1 + sum(qty)", PV_ESQL, "sum",
             "misuse of aggregate function in UPDATE or DELETE");
    check_at(f->db, "INSERT INTO p VALUES (1, 'x', 5, 0, 'a') ON CONFLICT (id) DO UPDATE SET qty = nope",
             PV_ENOTFOUND, "nope", "no such column: nope");
    check_at(f->db, "DELETE FROM nope", PV_ENOTFOUND, "nope", "no such table: nope");
    check_at(f->db, "DELETE FROM p WHERE nope = 1", PV_ENOTFOUND, "nope", "no such column: nope");
    check_at(f->db, "CREATE INDEX ix ON nope (a)", PV_ENOTFOUND, "nope", "no such table: nope");
    check_at(f->db, "ALTER TABLE nope ADD COLUMN b TEXT", PV_ENOTFOUND, "nope", "no such table: nope");
    check_at(f->db, "DROP TABLE nope", PV_ENOTFOUND, "nope", "no such table: nope");
    check_at(f->db, "DROP INDEX nope", PV_ENOTFOUND, "nope", "no such index: nope");
    check_at(f->db, "CREATE TABLE u (a INTEGER, b INTEGER DEFAULT (a + 1))", PV_ESQL, "(a + 1)",
             "default value of column [b] is not constant");
    /* a table dropped between pv_prepare and pv_step: the run's error */
    assert_int_equal(pv_prepare(f->db, "SELECT a FROM gone", (size_t)-1, &st, NULL), 0);
    exec_ok(f->db, "DROP TABLE gone");
    assert_int_equal(pv_step(st), PV_ENOTFOUND);
    assert_string_equal(pv_errmsg(), "no such table: gone at offset 14");
    assert_int_equal(pv_error_offset(), 14);
    pv_finalize(st);
    exec_ok(f->db, "CREATE TABLE gone (a INTEGER)");
    assert_int_equal(pv_prepare(f->db, "DELETE FROM gone", (size_t)-1, &st, NULL), 0);
    exec_ok(f->db, "DROP TABLE gone");
    assert_int_equal(pv_step(st), PV_ENOTFOUND);
    assert_string_equal(pv_errmsg(), "no such table: gone at offset 12");
    assert_int_equal(pv_error_offset(), 12);
    pv_finalize(st);
    /* pv_exec: from the start of the whole text, the second statement's */
    sql = "SELECT 1;\n  SELECT id FROM p WHERE nope = 1";
    assert_int_equal(pv_exec(f->db, sql), PV_ENOTFOUND);
    assert_int_equal(pv_error_offset(), at(sql, "nope"));
    assert_string_equal(pv_errmsg(), "no such column: nope at offset 35");
    sql = "SELECT 1; SELECT 2; SELECT * FROM nope";
    assert_int_equal(pv_exec(f->db, sql), PV_ENOTFOUND);
    assert_int_equal(pv_error_offset(), at(sql, "nope"));
    assert_string_equal(pv_errmsg(), "no such table: nope at offset 34");
}

/* Errors about a name the statement defines or a part it writes, which had
 * no position (pv_error_offset() -1, no " at offset N"): a table, index or
 * column name already taken or refused, a second primary key (its
 * PRIMARY), a column ALTER TABLE may not add (the PRIMARY, UNIQUE or NOT
 * of its constraint) or drop, an index DROP INDEX may not drop, an ON
 * CONFLICT without a key to match, VALUES of the wrong width (the first
 * tuple: all have one width), and a table read AS OF a revision without
 * git (the revision; tests/unit/test_rowdiff.c has those with git). */
static void test_api_error_offset_defs(void **state)
{
    fixture *f = *state;
    const char *sql;
    exec_ok(f->db, PEOPLE);
    exec_ok(f->db, "CREATE TABLE u (a INTEGER PRIMARY KEY, b TEXT UNIQUE, c TEXT);"
                   "CREATE INDEX u_c ON u (c); CREATE TABLE h (a INTEGER)");
    /* CREATE TABLE */
    check_at(f->db, "CREATE TABLE p (a INTEGER)", PV_EEXISTS, "p (", "table p already exists");
    check_at(f->db, "CREATE TABLE u_c (a INTEGER)", PV_EEXISTS, "u_c", "there is already an index named u_c");
    check_at(f->db, "CREATE TABLE \"a b\" (a INTEGER)", PV_EINPUT, "\"a b\"",
             "bad table name 'a b' (letters, digits and _, at most 64 bytes, not starting with a digit)");
    check_at(f->db, "CREATE TABLE v (a INTEGER, A TEXT)", PV_EEXISTS, "A TEXT",
             "table v: duplicate column name 'A'");
    check_at(f->db, "CREATE TABLE v (a INTEGER DEFAULT 'abc')", PV_ETYPE, "'abc'",
             "table v: the default of column a is not a INTEGER");
    /* a second primary key: its PRIMARY, whether a column's or the table's */
    check_at(f->db, "CREATE TABLE v (a INTEGER, b INTEGER, PRIMARY KEY (a), PRIMARY KEY (b))", PV_ESQL,
             "PRIMARY KEY (b)", "table v has more than one primary key");
    check_at(f->db, "CREATE TABLE v (a INTEGER PRIMARY KEY, b INTEGER PRIMARY KEY)", PV_ESQL, "PRIMARY KEY)",
             "table v has more than one primary key");
    check_at(f->db, "CREATE TABLE v (a INTEGER PRIMARY KEY, b INTEGER, PRIMARY KEY (b))", PV_ESQL,
             "PRIMARY KEY (b)", "table v has more than one primary key");
    /* (one column that says it twice has two, as SQLite says) */
    check_at(f->db, "CREATE TABLE v (a INTEGER PRIMARY KEY PRIMARY KEY)", PV_ESQL, "PRIMARY KEY)",
             "table v has more than one primary key");
    /* CREATE INDEX */
    check_at(f->db, "CREATE INDEX u_c ON p (qty)", PV_EEXISTS, "u_c", "index u_c already exists");
    check_at(f->db, "CREATE INDEX p ON p (qty)", PV_EEXISTS, "p ON", "there is already a table named p");
    check_at(f->db, "CREATE INDEX pv_autoindex_x ON p (qty)", PV_ESQL, "pv_autoindex_x",
             "object name reserved for internal use: pv_autoindex_x");
    check_at(f->db, "CREATE INDEX \"a\tb\" ON p (qty)", PV_ESQL, "\"a\tb\"",
             "bad index name 'a\tb' (1 to 128 bytes of UTF-8, no control characters)");
    /* ALTER TABLE: the column added or renamed to, the column dropped */
    check_at(f->db, "ALTER TABLE p ADD COLUMN qty INTEGER", PV_EEXISTS, "qty", "duplicate column name: qty");
    /* (the table is p, not the "t" of the scratch schema that checks it) */
    check_at(f->db, "ALTER TABLE p ADD COLUMN \"x\ty\" TEXT", PV_EINPUT, "\"x\ty\"",
             "table p: bad column name 'x\ty'");
    /* ADD COLUMN of a column it cannot add: the constraint's keyword */
    check_at(f->db, "ALTER TABLE p ADD COLUMN z INTEGER PRIMARY KEY", PV_ESQL, "PRIMARY",
             "Cannot add a PRIMARY KEY column");
    check_at(f->db, "ALTER TABLE p ADD COLUMN z TEXT NOT NULL DEFAULT '' UNIQUE", PV_ESQL, "UNIQUE",
             "Cannot add a UNIQUE column");
    check_at(f->db, "ALTER TABLE p ADD COLUMN z TEXT NOT NULL", PV_ECONSTRAINT, "NOT",
             "Cannot add a NOT NULL column with default value NULL");
    check_at(f->db, "ALTER TABLE p ADD COLUMN z TEXT DEFAULT NULL NOT NULL", PV_ECONSTRAINT, "NOT",
             "Cannot add a NOT NULL column with default value NULL");
    sql = "ALTER TABLE p RENAME COLUMN name TO Qty";
    check_at(f->db, sql, PV_EEXISTS, "Qty", "duplicate column name: Qty");
    /* a name a column had (old chunks use it), refused when ALTER runs */
    exec_ok(f->db, "ALTER TABLE p RENAME COLUMN cat TO kind");
    check_at(f->db, "ALTER TABLE p ADD COLUMN cat TEXT", PV_EEXISTS, "cat",
             "table p: 'cat' is an earlier name of column kind (old chunks use it)");
    check_at(f->db, "ALTER TABLE p RENAME COLUMN name TO cat", PV_EEXISTS, "cat",
             "table p: 'cat' is an earlier name of column kind (old chunks use it)");
    check_at(f->db, "ALTER TABLE p DROP COLUMN id", PV_ESQL, "id", "cannot drop PRIMARY KEY column: \"id\"");
    check_at(f->db, "ALTER TABLE u DROP COLUMN b", PV_ESQL, "b", "cannot drop UNIQUE column: \"b\"");
    check_at(f->db, "ALTER TABLE u DROP COLUMN c", PV_ESQL, "c",
             "cannot drop column \"c\": index u_c uses it (drop the index first)");
    check_at(f->db, "ALTER TABLE h DROP COLUMN a", PV_ESQL, "a", "cannot drop column \"a\": no other columns exist");
    /* DROP INDEX of a constraint's index */
    check_at(f->db, "DROP INDEX pv_autoindex_u_1", PV_ESQL, "pv_autoindex_u_1",
             "index associated with UNIQUE or PRIMARY KEY constraint cannot be dropped "
             "(index pv_autoindex_u_1 of table u)");
    /* INSERT */
    check_at(f->db, "INSERT INTO p (id, name) VALUES (9, 'x', 1), (10, 'y', 2)", PV_ESQL, "(9",
             "3 values for 2 columns");
    check_at(f->db, "INSERT INTO p VALUES\n  (9, 'x'), (10, 'y')", PV_ESQL, "(9",
             "table p has 5 columns but 2 values were supplied");
    check_at(f->db, "INSERT INTO h VALUES (1) ON CONFLICT DO NOTHING", PV_ESQL, "ON CONFLICT",
             "ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint "
             "(table h has no primary key)");
    /* AS OF without a resolver (no git): the revision */
    check_at(f->db, "SELECT * FROM p AS OF 'HEAD' WHERE id = 1", PV_EMISUSE, "'HEAD'",
             "AS OF 'HEAD': reading past revisions needs a git repository and pvdev");
    sql = "SELECT 1; SELECT x.id FROM p AS OF 'HEAD~1' x";
    assert_int_equal(pv_exec(f->db, sql), PV_EMISUSE);
    assert_int_equal(pv_error_offset(), at(sql, "'HEAD~1'"));
    assert_string_equal(pv_errmsg(), "AS OF 'HEAD~1': reading past revisions needs a git repository and pvdev "
                                     "at offset 35");
    /* pv_exec: from the start of its whole text */
    sql = "SELECT 1; CREATE TABLE p (a INTEGER)";
    assert_int_equal(pv_exec(f->db, sql), PV_EEXISTS);
    assert_int_equal(pv_error_offset(), at(sql, "p ("));
    assert_string_equal(pv_errmsg(), "table p already exists at offset 23");
    sql = "SELECT 1;\nCREATE TABLE v (a INTEGER PRIMARY KEY,\n  b INTEGER, PRIMARY KEY (b))";
    assert_int_equal(pv_exec(f->db, sql), PV_ESQL);
    assert_int_equal(pv_error_offset(), at(sql, "PRIMARY KEY ("));
    assert_string_equal(pv_errmsg(), "table v has more than one primary key at offset 62");
    sql = "SELECT 1; CREATE TABLE v (a INTEGER, PRIMARY KEY (a), PRIMARY KEY (a))";
    assert_int_equal(pv_exec(f->db, sql), PV_ESQL);
    assert_int_equal(pv_error_offset(), at(sql, "PRIMARY KEY (a))"));
    assert_string_equal(pv_errmsg(), "table v has more than one primary key at offset 54");
    /* nothing was changed by the statements that failed */
    check_query(f->db, "SELECT count(*) FROM p", "8\n");
    check_query(f->db, "SELECT * FROM h", "");
}

static void test_api_failed_statement(void **state)
{
    fixture *f = *state;
    pv_stmt *st;
    exec_ok(f->db, "CREATE TABLE big (v INTEGER); INSERT INTO big VALUES (9223372036854775807), (1)");
    assert_int_equal(pv_prepare(f->db, "SELECT sum(v) FROM big", (size_t)-1, &st, NULL), 0);
    assert_int_equal(pv_step(st), PV_ERANGE);
    assert_int_equal(pv_step(st), PV_EMISUSE);
    assert_int_equal(pv_reset(st), 0);
    assert_int_equal(pv_step(st), PV_ERANGE);
    pv_finalize(st);
}

/* A prepared SELECT sees rows inserted after it was prepared. */
static void test_api_prepared_sees_inserts(void **state)
{
    fixture *f = *state;
    pv_stmt *st;
    exec_ok(f->db, "CREATE TABLE t (a INTEGER)");
    assert_int_equal(pv_prepare(f->db, "SELECT count(*) FROM t", (size_t)-1, &st, NULL), 0);
    assert_int_equal(pv_step(st), PV_ROW);
    assert_int_equal(pv_column_int64(st, 0), 0);
    pv_reset(st);
    exec_ok(f->db, "INSERT INTO t VALUES (1), (2)");
    assert_int_equal(pv_step(st), PV_ROW);
    assert_int_equal(pv_column_int64(st, 0), 2);
    pv_finalize(st);
}

/* ---- comparison with the sqlite3 shell ------------------------------------------------------ */

static char *run_sqlite(const char *script)
{
    char path[] = "/tmp/pv_test_sql_script_XXXXXX", cmd[128];
    pv_buf b = PV_BUF_INIT;
    char buf[4096], *out;
    size_t n;
    FILE *fp;
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, script, strlen(script)), (ssize_t)strlen(script));
    close(fd);
    snprintf(cmd, sizeof cmd, "sqlite3 -batch :memory: < %s 2>&1", path);
    fp = popen(cmd, "r");
    assert_non_null(fp);
    while ((n = fread(buf, 1, sizeof buf, fp)) > 0) pv_buf_append(&b, buf, n);
    pclose(fp);
    unlink(path);
    pv_buf_putc(&b, 0);
    out = strdup(b.p);
    pv_buf_free(&b);
    return out;
}

/* Cells equal as text, or as numbers when both read as REALs: the shell
 * prints 15 significant digits, libpv the shortest round-trip form. */
static int cell_eq(const char *a, size_t an, const char *b, size_t bn)
{
    char x[64], y[64], *ex, *ey;
    double dx, dy;
    if (an == bn && memcmp(a, b, an) == 0) return 1;
    if (an >= sizeof x || bn >= sizeof y || !an || !bn) return 0;
    memcpy(x, a, an);
    x[an] = 0;
    memcpy(y, b, bn);
    y[bn] = 0;
    dx = strtod(x, &ex);
    dy = strtod(y, &ey);
    if (*ex || *ey) return 0;
    return fabs(dx - dy) <= 1e-12 * fmax(fabs(dx), fabs(dy));
}

static int lines_eq(const char *a, const char *b)
{
    for (;;) {
        size_t an = strcspn(a, "|\n"), bn = strcspn(b, "|\n");
        if (!cell_eq(a, an, b, bn)) return 0;
        a += an;
        b += bn;
        if (*a != *b) return 0;
        if (!*a) return 1;
        a++;
        b++;
    }
}

static void compare_with_sqlite(pv_db *db, const char *setup, const char *sql)
{
    pv_buf script = PV_BUF_INIT;
    char *want, *got;
    int rc;
    pv_buf_printf(&script, "%s\n%s;\n", setup, sql);
    pv_buf_putc(&script, 0);
    want = run_sqlite(script.p);
    got = query(db, sql, &rc);
    if (rc < 0) fail_msg("%s: %d %s", sql, rc, pv_errmsg());
    if (!lines_eq(got, want)) fail_msg("%s:\n--- libpv\n%s--- sqlite3\n%s", sql, got, want);
    free(want);
    free(got);
    pv_buf_free(&script);
}

static const char *const SQLITE_QUERIES[] = {
    /* NULL logic */
    "SELECT id, qty > 2 AND price < 10, qty > 2 OR price < 10, NOT (qty > 2), qty IN (3, NULL), "
    "qty NOT IN (1, 2), qty BETWEEN 1 AND NULL, price IS NULL, coalesce(qty, -1), qty IS 3 FROM p ORDER BY id",
    /* integer division, modulo, division by zero */
    "SELECT id, qty / 2, qty % 3, qty / 0, qty % 0, price / 0, -qty / 2, qty * 1.0 / 4, price % 2 "
    "FROM p ORDER BY id",
    /* ORDER BY: NULLs first ascending, last descending */
    "SELECT id, qty FROM p ORDER BY qty, id",
    "SELECT id, name FROM p ORDER BY name DESC, id",
    "SELECT id, price FROM p ORDER BY price DESC, id LIMIT 4 OFFSET 1",
    /* GROUP BY with AVG and friends */
    "SELECT cat, count(*), count(qty), sum(qty), avg(price), min(name), max(price), total(qty) "
    "FROM p GROUP BY cat ORDER BY cat",
    "SELECT cat, avg(qty) AS a FROM p GROUP BY cat HAVING count(*) > 1 ORDER BY a DESC",
    "SELECT count(DISTINCT cat), sum(DISTINCT qty), avg(DISTINCT qty) FROM p",
    "SELECT count(*), sum(qty), avg(qty), min(qty), max(qty) FROM p WHERE id > 100",
    /* LIKE */
    "SELECT id, name FROM p WHERE name LIKE '%an%' ORDER BY id",
    "SELECT id FROM p WHERE name LIKE 'b_' OR name NOT LIKE '%a%' ORDER BY id",
    /* IN and BETWEEN */
    "SELECT id FROM p WHERE qty IN (0, 3, 10) ORDER BY id",
    "SELECT id FROM p WHERE price BETWEEN 1 AND 10 ORDER BY id",
    "SELECT id FROM p WHERE qty NOT BETWEEN 0 AND 3 ORDER BY id",
    /* CASE */
    "SELECT id, CASE WHEN qty IS NULL THEN 'none' WHEN qty < 3 THEN 'low' ELSE 'high' END, "
    "CASE cat WHEN 'a' THEN 1 WHEN 'b' THEN 2 END FROM p ORDER BY id",
    /* affinity */
    "SELECT id FROM p WHERE qty = '3' ORDER BY id",
    "SELECT id FROM p WHERE name > 5 ORDER BY id",
    "SELECT id FROM p WHERE price < '10.5' ORDER BY id",
    /* functions */
    "SELECT id, lower(name), upper(name), length(name), substr(name, 2, 2), abs(qty), round(price, 1), "
    "nullif(qty, 3), ifnull(cat, '-') || '/' || id FROM p ORDER BY id",
    "SELECT id, name || qty, qty + price, qty * qty, -price FROM p ORDER BY id",
    /* DISTINCT, expressions in GROUP BY */
    "SELECT DISTINCT qty % 2 FROM p ORDER BY 1",
    "SELECT qty > 2, count(*) FROM p GROUP BY qty > 2 ORDER BY 1",
    "SELECT cat, sum(qty) * 1.0 / count(*) FROM p GROUP BY cat ORDER BY 2 DESC, 1",
    /* min()/max() of equal values: min takes the last, max the first (typeof tells) */
    "SELECT typeof(min(1.0, 1)), typeof(max(1, 1.0)), typeof(min(2, 2.0, 1.0, 1)), typeof(max(1.0, 1, 1.0)), "
    "min(qty, price), max(price, qty) FROM p ORDER BY id",
    /* x IS TRUE / IS FALSE test truth, not equality with 1 / 0 */
    "SELECT '0.5' IS TRUE, 0 IS FALSE, NULL IS TRUE, NULL IS NOT FALSE, 2 IS NOT TRUE, 'abc' IS FALSE, "
    "1 IS (TRUE), 2 IS 1, 0.0 IS NOT FALSE",
    "SELECT id, price IS TRUE, name IS NOT FALSE, qty IS FALSE FROM p ORDER BY id",
    /* sums that reach infinity stay infinite; +Inf + -Inf is NaN, which is NULL */
    "SELECT total(CAST('1e400' AS REAL)), sum(CAST('1e400' AS REAL)), avg(CAST('-1e400' AS REAL)) FROM p",
    "SELECT sum(CASE WHEN id = 1 THEN 1e400 WHEN id = 2 THEN -1e400 ELSE 0 END), "
    "total(CASE WHEN id = 1 THEN 1e400 WHEN id = 2 THEN -1e400 ELSE 0 END) FROM p",
    /* x IN () is the constant FALSE, x NOT IN () TRUE (so IS sees TRUE/FALSE) */
    "SELECT 1 IS (2 IN ()), 0 IS (2 NOT IN ()), 5 IS NOT (1 IN ()), NULL IS (1 IN ()), NULL IN (), NULL NOT IN (), "
    "-6 IS (12 NOT IN ()), 2 IS (1 NOT IN ()), 2 IS NOT (1 NOT IN ())",
    /* -0.0 reads as text "0.0", as SQLite prints it */
    "SELECT CAST(-9 * 0.0 AS TEXT) < '-5', (-0.0 || '') < '-', max(-19, -0.0) >= CAST('0' AS TEXT), "
    "length(-0.0), -0.0 LIKE '-%'",
    /* no FROM */
    "SELECT 1 + 2 * 3, 7 / 2, 7.0 / 2, 1 / 0, 9223372036854775807 + 1, 'a' || 1 || 2.5, 10 % 3, 1 = 1.0",
};

static void test_sqlite_comparison(void **state)
{
    fixture *f = *state;
    size_t i;
    exec_ok(f->db, PEOPLE);
    for (i = 0; i < sizeof SQLITE_QUERIES / sizeof SQLITE_QUERIES[0]; i++)
        compare_with_sqlite(f->db, PEOPLE, SQLITE_QUERIES[i]);
}

int main(void)
{
    const struct CMUnitTest parser[] = {
        cmocka_unit_test(test_parse_precedence),
        cmocka_unit_test(test_parse_literals),
        cmocka_unit_test(test_parse_clauses),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_dml),
        cmocka_unit_test(test_parse_ddl),
        cmocka_unit_test(test_parse_expr_only),
        cmocka_unit_test(test_parse_depth_limit),
        cmocka_unit_test(test_parse_statement_end),
    };
#define WS(t) cmocka_unit_test_setup_teardown(t, setup_ws, teardown_ws)
    const struct CMUnitTest exec[] = {
        WS(test_exec_basic),
        WS(test_exec_where_typed_filter),
        WS(test_exec_names),
        WS(test_exec_order_by_forms),
        WS(test_exec_aggregates),
        WS(test_exec_group_by_value),
        WS(test_exec_sum_overflow),
        WS(test_exec_many_batches),
        WS(test_exec_insert_forms),
        WS(test_exec_create_errors),
        WS(test_exec_name_errors),
        WS(test_exec_scalar_semantics),
        WS(test_exec_affinity),
        WS(test_api_bind_and_types),
        WS(test_api_value_text),
        WS(test_api_prepare_tail_and_exec),
        WS(test_api_nstmts_and_close),
        WS(test_api_failed_statement),
        WS(test_api_error_offset),
        WS(test_api_error_offset_names),
        WS(test_api_error_offset_defs),
        WS(test_api_prepared_sees_inserts),
        WS(test_sqlite_comparison),
    };
    int fails = cmocka_run_group_tests_name("sql parser", parser, NULL, NULL);
    fails += cmocka_run_group_tests_name("sql execution", exec, NULL, NULL);
    return fails ? 1 : 0;
}
