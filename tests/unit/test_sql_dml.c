/*
 * test_sql_dml.c: statements that write (INSERT forms, ON CONFLICT, UPDATE,
 * DELETE, DROP, ALTER, transactions and statement atomicity), EXPLAIN and
 * the access paths (key lookups, key-range bounds), over a real workspace.
 * Expected results are those of the sqlite3 shell on the same statements.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pv.h"
#include "test_sql_util.h"

static const char *ITEMS =
    "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, price REAL);"
    "INSERT INTO t VALUES (1, 'a', 10, 1.5), (2, 'b', NULL, 2.5), (3, 'c', 30, NULL),"
    " (4, 'd', 40, 4.0), (5, NULL, 50, 5.5);";

/* ---- UPDATE ------------------------------------------------------------------------ */

static void test_update_basic(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, ITEMS);
    exec_ok(f->db, "UPDATE t SET qty = qty + 1, name = upper(name) WHERE id >= 3");
    check_query(f->db, "SELECT * FROM t ORDER BY id",
                "1|a|10|1.5\n2|b||2.5\n3|C|31|\n4|D|41|4.0\n5||51|5.5\n");
    /* no WHERE: every row; SET sees the old values of the row */
    exec_ok(f->db, "UPDATE t SET price = qty, qty = id");
    check_query(f->db, "SELECT * FROM t ORDER BY id",
                "1|a|1|10.0\n2|b|2|\n3|C|3|31.0\n4|D|4|41.0\n5||5|51.0\n");
    /* nothing matches: nothing changes */
    exec_ok(f->db, "UPDATE t SET qty = 0 WHERE id > 100");
    check_query(f->db, "SELECT sum(qty) FROM t", "15\n");
    /* alias and qualified names */
    exec_ok(f->db, "UPDATE t AS x SET name = x.name || '!' WHERE x.id = 1");
    check_query(f->db, "SELECT name FROM t WHERE id = 1", "a!\n");
    /* a column set twice: the last assignment wins, as in SQLite */
    exec_ok(f->db, "UPDATE t SET qty = 7, qty = 8 WHERE id = 1");
    check_query(f->db, "SELECT qty FROM t WHERE id = 1", "8\n");
}

static void test_update_params_and_reset(void **state)
{
    fixture *f = *state;
    pv_stmt *st;
    exec_ok(f->db, ITEMS);
    assert_int_equal(pv_prepare(f->db, "UPDATE t SET qty = ? WHERE id = ?", (size_t)-1, &st, NULL), 0);
    assert_int_equal(pv_column_count(st), 0);
    assert_int_equal(pv_bind_int64(st, 1, 99), 0);
    assert_int_equal(pv_bind_int64(st, 2, 2), 0);
    assert_int_equal(pv_step(st), PV_DONE);
    assert_int_equal(pv_step(st), PV_DONE); /* finished: not run again */
    assert_int_equal(pv_reset(st), 0);
    assert_int_equal(pv_bind_int64(st, 2, 4), 0);
    assert_int_equal(pv_step(st), PV_DONE);
    pv_finalize(st);
    check_query(f->db, "SELECT id, qty FROM t WHERE qty = 99 ORDER BY id", "2|99\n4|99\n");
}

static void test_update_key_change(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, ITEMS);
    /* a key change is delete + insert in one statement */
    exec_ok(f->db, "UPDATE t SET id = id + 100 WHERE id <= 2");
    check_query(f->db, "SELECT id, name FROM t ORDER BY id", "3|c\n4|d\n5|\n101|a\n102|b\n");
    /* a new key that collides with a row kept: nothing changes */
    check_query_error(f->db, "UPDATE t SET id = 4 WHERE id = 3", PV_ECONSTRAINT, NULL);
    /* two rows to the same new key: nothing changes */
    check_query_error(f->db, "UPDATE t SET id = 7 WHERE id IN (3, 5)", PV_ECONSTRAINT, NULL);
    check_query(f->db, "SELECT id, name FROM t ORDER BY id", "3|c\n4|d\n5|\n101|a\n102|b\n");
    /* keys swapped within the statement: checked against the final state */
    exec_ok(f->db, "UPDATE t SET id = CASE id WHEN 3 THEN 4 ELSE 3 END WHERE id IN (3, 4)");
    check_query(f->db, "SELECT id, name FROM t WHERE id < 5 ORDER BY id", "3|d\n4|c\n");
    /* a key set to the value it has is no key change */
    exec_ok(f->db, "UPDATE t SET id = id, name = 'same' WHERE id = 5");
    check_query(f->db, "SELECT id, name FROM t WHERE id = 5", "5|same\n");
}

static void test_update_errors(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, ITEMS);
    check_query_error(f->db, "UPDATE t SET nope = 1", PV_ENOTFOUND, "no such column: nope at offset 13");
    check_query_error(f->db, "UPDATE t SET qty = nope", PV_ENOTFOUND, "no such column: nope at offset 19");
    check_query_error(f->db, "UPDATE nope SET qty = 1", PV_ENOTFOUND, "no such table: nope at offset 7");
    check_query_error(f->db, "UPDATE t SET qty = count(*)", PV_ESQL, NULL);
    /* NOT NULL of a key, and STRICT types, checked before anything is written */
    check_query_error(f->db, "UPDATE t SET id = NULL WHERE id = 1", PV_ECONSTRAINT, NULL);
    check_query_error(f->db, "UPDATE t SET qty = 'many'", PV_ETYPE, NULL);
    check_query(f->db, "SELECT * FROM t ORDER BY id",
                "1|a|10|1.5\n2|b||2.5\n3|c|30|\n4|d|40|4.0\n5||50|5.5\n");
}

static void test_update_hidden_key(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE h (a INTEGER, b TEXT); INSERT INTO h VALUES (1, 'x'), (1, 'x'), (2, 'y')");
    exec_ok(f->db, "UPDATE h SET b = 'z' WHERE a = 1");
    check_query(f->db, "SELECT a, b FROM h ORDER BY a, b", "1|z\n1|z\n2|y\n");
    check_query(f->db, "SELECT count(DISTINCT _pv_id) FROM h", "3\n");
    exec_ok(f->db, "DELETE FROM h WHERE b = 'z'");
    check_query(f->db, "SELECT a, b FROM h", "2|y\n");
}

/* ---- DELETE ------------------------------------------------------------------------ */

static void test_delete(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, ITEMS);
    exec_ok(f->db, "DELETE FROM t WHERE qty IS NULL OR price IS NULL");
    check_query(f->db, "SELECT id FROM t ORDER BY id", "1\n4\n5\n");
    exec_ok(f->db, "DELETE FROM t WHERE id = 42");
    check_query(f->db, "SELECT count(*) FROM t", "3\n");
    exec_ok(f->db, "DELETE FROM t AS x WHERE x.id IN (1, 5, 6)");
    check_query(f->db, "SELECT id FROM t", "4\n");
    exec_ok(f->db, "DELETE FROM t");
    check_query(f->db, "SELECT count(*) FROM t", "0\n");
    check_query_error(f->db, "DELETE FROM t WHERE nope = 1", PV_ENOTFOUND, "no such column: nope at offset 20");
    check_query_error(f->db, "DELETE FROM nope", PV_ENOTFOUND, "no such table: nope at offset 12");
}

static void test_delete_composite_key(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE c (a TEXT, b INTEGER, v REAL, PRIMARY KEY (a, b));"
                   "INSERT INTO c VALUES ('x', 1, 1.0), ('x', 2, 2.0), ('y', 1, 3.0), ('y', 2, 4.0)");
    exec_ok(f->db, "DELETE FROM c WHERE b = 2");
    check_query(f->db, "SELECT * FROM c ORDER BY a, b", "x|1|1.0\ny|1|3.0\n");
    exec_ok(f->db, "UPDATE c SET b = b + 10 WHERE a = 'y'");
    check_query(f->db, "SELECT * FROM c ORDER BY a, b", "x|1|1.0\ny|11|3.0\n");
}

/* ---- INSERT forms and ON CONFLICT --------------------------------------------------- */

static void test_insert_or(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, ITEMS);
    check_query_error(f->db, "INSERT INTO t VALUES (1, 'dup', 0, 0)", PV_ECONSTRAINT, NULL);
    exec_ok(f->db, "INSERT OR IGNORE INTO t VALUES (1, 'dup', 0, 0), (6, 'f', 60, 6.0)");
    check_query(f->db, "SELECT id, name FROM t WHERE id IN (1, 6) ORDER BY id", "1|a\n6|f\n");
    exec_ok(f->db, "INSERT OR REPLACE INTO t VALUES (1, 'new', 0, 0), (7, 'g', 70, 7.0)");
    check_query(f->db, "SELECT id, name, qty FROM t WHERE id IN (1, 7) ORDER BY id", "1|new|0\n7|g|70\n");
    exec_ok(f->db, "REPLACE INTO t (id, name) VALUES (2, 'bb')");
    check_query(f->db, "SELECT * FROM t WHERE id = 2", "2|bb||\n");
    /* the same key twice in one statement: IGNORE keeps the first, REPLACE the last */
    exec_ok(f->db, "INSERT OR IGNORE INTO t (id, name) VALUES (8, 'first'), (8, 'second')");
    exec_ok(f->db, "INSERT OR REPLACE INTO t (id, name) VALUES (9, 'first'), (9, 'second')");
    check_query(f->db, "SELECT id, name FROM t WHERE id >= 8 ORDER BY id", "8|first\n9|second\n");
    /* a key given as text converts as the store converts it */
    exec_ok(f->db, "INSERT OR IGNORE INTO t (id, name) VALUES ('9', 'text key')");
    check_query(f->db, "SELECT name FROM t WHERE id = 9", "second\n");
}

static void test_upsert(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, ITEMS);
    exec_ok(f->db, "INSERT INTO t VALUES (1, 'x', 5, 0) ON CONFLICT (id) DO NOTHING");
    exec_ok(f->db, "INSERT INTO t VALUES (6, 'x', 5, 0) ON CONFLICT DO NOTHING");
    check_query(f->db, "SELECT id, name FROM t WHERE id IN (1, 6) ORDER BY id", "1|a\n6|x\n");
    /* DO UPDATE: the existing row's columns, and excluded.* the proposed row */
    exec_ok(f->db, "INSERT INTO t (id, name, qty) VALUES (1, 'z', 5), (7, 'new', 1) "
                   "ON CONFLICT (id) DO UPDATE SET qty = qty + excluded.qty, name = t.name || excluded.name");
    check_query(f->db, "SELECT * FROM t WHERE id IN (1, 7) ORDER BY id", "1|az|15|1.5\n7|new|1|\n");
    /* DO UPDATE ... WHERE false: the row stays */
    exec_ok(f->db, "INSERT INTO t (id, qty) VALUES (1, 100) ON CONFLICT (id) DO UPDATE SET qty = excluded.qty "
                   "WHERE excluded.qty < qty");
    check_query(f->db, "SELECT qty FROM t WHERE id = 1", "15\n");
    /* rows of one statement see each other, as SQLite's row-by-row upsert */
    exec_ok(f->db, "INSERT INTO t (id, qty) VALUES (20, 1), (20, 2), (20, 3) "
                   "ON CONFLICT (id) DO UPDATE SET qty = qty * 10 + excluded.qty");
    check_query(f->db, "SELECT qty FROM t WHERE id = 20", "123\n");
    /* counter upsert with a parameter */
    {
        pv_stmt *st;
        int i;
        assert_int_equal(pv_prepare(f->db, "INSERT INTO t (id, qty) VALUES (?, 1) ON CONFLICT (id) "
                                           "DO UPDATE SET qty = qty + 1",
                                    (size_t)-1, &st, NULL),
                         0);
        for (i = 0; i < 3; i++) {
            assert_int_equal(pv_reset(st), 0);
            assert_int_equal(pv_bind_int64(st, 1, 30), 0);
            assert_int_equal(pv_step(st), PV_DONE);
        }
        pv_finalize(st);
        check_query(f->db, "SELECT qty FROM t WHERE id = 30", "3\n");
    }
    check_query_error(f->db, "INSERT INTO t VALUES (1, 'x', 5, 0) ON CONFLICT (name) DO NOTHING", PV_ESQL,
                      "ON CONFLICT clause does not match any PRIMARY KEY or UNIQUE constraint at offset 36");
    check_query_error(f->db, "INSERT INTO t VALUES (1, 'x', 5, 0) ON CONFLICT (id) DO UPDATE SET id = 2",
                      PV_ESQL, "ON CONFLICT DO UPDATE may not change key column id at offset 67");
    check_query_error(f->db, "INSERT INTO t VALUES (1, 'x', 5, 0) ON CONFLICT (id) DO UPDATE SET qty = nope",
                      PV_ENOTFOUND, "no such column: nope at offset 73");
    check_query_error(f->db, "INSERT INTO t VALUES (1, 'x', 5, 0) ON CONFLICT (id) DO UPDATE SET qty = 'x'",
                      PV_ETYPE, NULL);
    check_query(f->db, "SELECT * FROM t WHERE id = 1", "1|az|15|1.5\n");
}

static void test_upsert_composite_key(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE c (a TEXT, b INTEGER, n INTEGER, PRIMARY KEY (a, b))");
    exec_ok(f->db, "INSERT INTO c VALUES ('x', 1, 1), ('x', 2, 1) ON CONFLICT (b, a) DO UPDATE SET n = n + 1");
    exec_ok(f->db, "INSERT INTO c VALUES ('x', 1, 1), ('y', 2, 1) ON CONFLICT (a, b) DO UPDATE SET n = n + 1");
    check_query(f->db, "SELECT * FROM c ORDER BY a, b", "x|1|2\nx|2|1\ny|2|1\n");
    check_query_error(f->db, "INSERT INTO c VALUES ('x', 1, 1) ON CONFLICT (a) DO NOTHING", PV_ESQL, NULL);
}

/* ---- transactions ---------------------------------------------------------------------- */

static void test_transactions(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, ITEMS);
    exec_ok(f->db, "BEGIN; DELETE FROM t WHERE id = 1; UPDATE t SET qty = 0 WHERE id = 2");
    check_query(f->db, "SELECT count(*), sum(qty) FROM t", "4|120\n");
    exec_ok(f->db, "ROLLBACK");
    check_query(f->db, "SELECT count(*), sum(qty) FROM t", "5|130\n");
    exec_ok(f->db, "BEGIN TRANSACTION; INSERT INTO t (id) VALUES (10); COMMIT TRANSACTION");
    check_query(f->db, "SELECT count(*) FROM t", "6\n");
    exec_ok(f->db, "BEGIN; INSERT INTO t (id) VALUES (11); END");
    check_query(f->db, "SELECT count(*) FROM t", "7\n");
    check_query_error(f->db, "COMMIT", PV_EMISUSE, NULL);
    check_query_error(f->db, "ROLLBACK", PV_EMISUSE, NULL);
    exec_ok(f->db, "BEGIN");
    check_query_error(f->db, "BEGIN", PV_EMISUSE, NULL);
    exec_ok(f->db, "ROLLBACK");
}

/* A failing statement inside a transaction undoes only itself. */
static void test_statement_atomicity_in_txn(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, ITEMS);
    exec_ok(f->db, "BEGIN; UPDATE t SET name = 'kept' WHERE id = 1");
    check_query_error(f->db, "UPDATE t SET id = 4 WHERE id = 3", PV_ECONSTRAINT, NULL);
    check_query(f->db, "SELECT id, name FROM t WHERE id IN (1, 3, 4) ORDER BY id", "1|kept\n3|c\n4|d\n");
    exec_ok(f->db, "UPDATE t SET id = 13 WHERE id = 3; COMMIT");
    check_query(f->db, "SELECT id FROM t ORDER BY id", "1\n2\n4\n5\n13\n");
}

/* ---- DDL ------------------------------------------------------------------------------- */

static void test_drop_table(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, ITEMS);
    exec_ok(f->db, "DROP TABLE t");
    check_query_error(f->db, "SELECT * FROM t", PV_ENOTFOUND, "no such table: t at offset 14");
    check_query_error(f->db, "DROP TABLE t", PV_ENOTFOUND, "no such table: t at offset 11");
    exec_ok(f->db, "DROP TABLE IF EXISTS t");
    exec_ok(f->db, "CREATE TABLE t (x TEXT); INSERT INTO t VALUES ('again')");
    check_query(f->db, "SELECT * FROM t", "again\n");
}

static void test_alter_table(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, ITEMS);
    exec_ok(f->db, "ALTER TABLE t ADD COLUMN note TEXT");
    check_query(f->db, "SELECT * FROM t WHERE id = 1", "1|a|10|1.5|\n");
    exec_ok(f->db, "INSERT INTO t VALUES (6, 'f', 60, 6.0, 'hi')");
    exec_ok(f->db, "ALTER TABLE t RENAME COLUMN qty TO amount");
    check_query(f->db, "SELECT id, amount, note FROM t WHERE id IN (1, 6) ORDER BY id", "1|10|\n6|60|hi\n");
    check_query_error(f->db, "SELECT qty FROM t", PV_ENOTFOUND, "no such column: qty at offset 7");
    exec_ok(f->db, "ALTER TABLE t DROP COLUMN price");
    check_query(f->db, "SELECT * FROM t WHERE id IN (1, 6) ORDER BY id", "1|a|10|\n6|f|60|hi\n");
    exec_ok(f->db, "ALTER TABLE t RENAME id TO key");
    check_query(f->db, "SELECT key FROM t WHERE key = 6", "6\n");
    check_query_error(f->db, "ALTER TABLE t DROP COLUMN key", PV_ESQL, "cannot drop PRIMARY KEY column: \"key\" at offset 26");
    check_query_error(f->db, "ALTER TABLE t ADD COLUMN name TEXT", PV_EEXISTS, "duplicate column name: name at offset 25");
    check_query_error(f->db, "ALTER TABLE t RENAME COLUMN nope TO x", PV_ENOTFOUND, NULL);
    check_query_error(f->db, "ALTER TABLE t ADD COLUMN z INTEGER NOT NULL", PV_ECONSTRAINT,
                      "Cannot add a NOT NULL column with default value NULL at offset 35");
    check_query_error(f->db, "ALTER TABLE t ADD COLUMN z INTEGER PRIMARY KEY", PV_ESQL, NULL);
    check_query_error(f->db, "ALTER TABLE t ADD COLUMN z FANCY", PV_ESQL, NULL);
    check_query_error(f->db, "ALTER TABLE nope ADD COLUMN z TEXT", PV_ENOTFOUND, NULL);
}

/* A statement prepared before its table changed shape asks to be prepared again. */
static void test_prepared_then_altered(void **state)
{
    fixture *f = *state;
    pv_stmt *sel, *upd, *ins;
    exec_ok(f->db, ITEMS);
    assert_int_equal(pv_prepare(f->db, "SELECT price FROM t WHERE id = 1", (size_t)-1, &sel, NULL), 0);
    assert_int_equal(pv_prepare(f->db, "UPDATE t SET name = 'z'", (size_t)-1, &upd, NULL), 0);
    assert_int_equal(pv_prepare(f->db, "INSERT INTO t VALUES (9, 'i', 9, 9.0)", (size_t)-1, &ins, NULL), 0);
    exec_ok(f->db, "ALTER TABLE t DROP COLUMN qty");
    assert_int_equal(pv_step(sel), PV_EMISUSE);
    assert_string_equal(pv_errmsg(), "table t changed since the statement was prepared: prepare it again");
    assert_int_equal(pv_step(upd), PV_EMISUSE);
    assert_int_equal(pv_step(ins), PV_EMISUSE);
    pv_finalize(sel);
    pv_finalize(upd);
    pv_finalize(ins);
    check_query(f->db, "SELECT * FROM t WHERE id = 1", "1|a|1.5\n");
}

static void test_alter_hidden_key(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE h (a INTEGER, b TEXT); INSERT INTO h VALUES (1, 'x'), (2, 'y')");
    check_query(f->db, "SELECT count(DISTINCT _pv_id) FROM h", "2\n");
    exec_ok(f->db, "ALTER TABLE h ADD COLUMN c REAL");
    exec_ok(f->db, "ALTER TABLE h DROP COLUMN a");
    check_query(f->db, "SELECT * FROM h ORDER BY b", "x|\ny|\n");
    check_query(f->db, "SELECT count(DISTINCT _pv_id) FROM h", "2\n");
    check_query_error(f->db, "ALTER TABLE h DROP COLUMN _pv_id", PV_ENOTFOUND, NULL);
    exec_ok(f->db, "ALTER TABLE h DROP COLUMN c");
    check_query_error(f->db, "ALTER TABLE h DROP COLUMN b", PV_ESQL,
                      "cannot drop column \"b\": no other columns exist at offset 26");
}

/* DEFAULT (as sqlite3 gives it: 1|5|x|-1.5|3, then the added column
 * filled in on old rows), stored as a typed constant in the schema file, so
 * it also reaches rows of chunks written before ADD COLUMN. */
static void test_defaults(void **state)
{
    fixture *f = *state;
    pv_db *again;
    exec_ok(f->db, "CREATE TABLE e (k INTEGER PRIMARY KEY, a INTEGER DEFAULT 5, b TEXT NOT NULL DEFAULT 'x',"
                   " c REAL DEFAULT (-1.5), d INTEGER DEFAULT (1 + 2), n TEXT DEFAULT NULL)");
    exec_ok(f->db, "INSERT INTO e (k) VALUES (1); INSERT INTO e (k, a, n) VALUES (2, NULL, 'y')");
    check_query(f->db, "SELECT k, a, b, c, d, n FROM e", "1|5|x|-1.5|3|\n2||x|-1.5|3|y\n");
    exec_ok(f->db, "ALTER TABLE e ADD COLUMN z TEXT NOT NULL DEFAULT 'new'");
    check_query(f->db, "SELECT k, z FROM e", "1|new\n2|new\n");
    /* a new handle replays the old chunk: z comes from the schema's default */
    assert_int_equal(pv_open(f->dir, PV_OPEN_READONLY, &again), PV_OK);
    check_query(again, "SELECT k, a, z FROM e", "1|5|new\n2||new\n");
    pv_close(again);
    check_query_error(f->db, "CREATE TABLE g (a INTEGER DEFAULT 'abc')", PV_ETYPE, NULL);
}

/* ALTER keeps the column history: a new handle replaying the chunks written
 * before RENAME and DROP COLUMN still reads them (regression: the engine
 * rebuilt the schema from scratch and the table no longer opened). */
static void test_alter_then_reopen(void **state)
{
    fixture *f = *state;
    pv_db *again;
    exec_ok(f->db, ITEMS);
    exec_ok(f->db, "ALTER TABLE t RENAME COLUMN qty TO quantity");
    exec_ok(f->db, "ALTER TABLE t DROP COLUMN price");
    exec_ok(f->db, "INSERT INTO t VALUES (6, 'f', 60)");
    assert_int_equal(pv_open(f->dir, PV_OPEN_READONLY, &again), PV_OK);
    check_query(again, "SELECT * FROM t WHERE id IN (1, 2, 6)", "1|a|10\n2|b|\n6|f|60\n");
    pv_close(again);
}

/* UNIQUE and indexes parse; what the schema cannot hold yet is refused
 * with a clear message rather than silently dropped. */
static void test_ddl_constraints(void **state)
{
    fixture *f = *state;
    /* UNIQUE restating the key makes no index */
    exec_ok(f->db, "CREATE TABLE d (a INTEGER PRIMARY KEY UNIQUE, b TEXT DEFAULT NULL, UNIQUE (a))");
    check_query_error(f->db, "CREATE TABLE e (a INTEGER DEFAULT (a + 1))", PV_ESQL,
                      "default value of column [a] is not constant at offset 34");
    check_query_error(f->db, "CREATE TABLE e (a INTEGER, b TEXT, UNIQUE (a, nope))", PV_ENOTFOUND,
                      "no such column: nope at offset 46");
    exec_ok(f->db, "CREATE INDEX ix ON d (b)");
    check_query_error(f->db, "CREATE INDEX ix ON d (b)", PV_EEXISTS, "index ix already exists at offset 13");
    exec_ok(f->db, "CREATE INDEX IF NOT EXISTS ix ON d (a)");
    check_query_error(f->db, "CREATE INDEX iy ON d (nope)", PV_ENOTFOUND,
                      "no such column: nope (table d) at offset 22");
    check_query_error(f->db, "CREATE INDEX iy ON nope (a)", PV_ENOTFOUND, NULL);
    check_query_error(f->db, "CREATE INDEX d ON d (a)", PV_EEXISTS, "there is already a table named d at offset 13");
    check_query_error(f->db, "CREATE TABLE ix (a INTEGER)", PV_EEXISTS, "there is already an index named ix at offset 13");
    check_query_error(f->db, "CREATE INDEX pv_autoindex_x ON d (a)", PV_ESQL,
                      "object name reserved for internal use: pv_autoindex_x at offset 13");
    exec_ok(f->db, "DROP INDEX ix");
    check_query_error(f->db, "DROP INDEX ix", PV_ENOTFOUND, "no such index: ix at offset 11");
    exec_ok(f->db, "DROP INDEX IF EXISTS ix");
    check_query_error(f->db, "SELECT * FROM e", PV_ENOTFOUND, NULL);
}

/* ---- EXPLAIN and access paths ------------------------------------------------------------ */

static char *explain(pv_db *db, const char *sql)
{
    pv_buf b = PV_BUF_INIT;
    pv_stmt *st;
    char *out;
    int rc = pv_prepare(db, sql, (size_t)-1, &st, NULL);
    if (rc) fail_msg("%s: %s", sql, pv_errmsg());
    assert_int_equal(pv_column_count(st), 3);
    assert_string_equal(pv_column_name(st, 2), "detail");
    while ((rc = pv_step(st)) == PV_ROW)
        pv_buf_printf(&b, "%s %s\n", pv_column_text(st, 1), pv_column_text(st, 2));
    assert_int_equal(rc, PV_DONE);
    pv_finalize(st);
    pv_buf_putc(&b, 0);
    out = strdup(b.p);
    pv_buf_free(&b);
    return out;
}

static void check_explain(pv_db *db, const char *sql, const char *want)
{
    char *got = explain(db, sql);
    if (strcmp(got, want)) fail_msg("%s:\n--- got\n%s--- want\n%s", sql, got, want);
    free(got);
}

static void test_explain(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, ITEMS);
    check_explain(f->db, "EXPLAIN SELECT name FROM t WHERE qty > 10 AND name LIKE 'a%' ORDER BY qty DESC LIMIT 2",
                  "SCAN table t (workspace, 5 rows at prepare) in key order; columns name, qty\n"
                  "FILTER (\"qty\" > 10) [typed loop]; (\"name\" LIKE 'a%') [per row]\n"
                  "PROJECT name\n"
                  "SORT stable merge sort by \"qty\" DESC\n"
                  "LIMIT LIMIT 2\n");
    check_explain(f->db, "EXPLAIN QUERY PLAN SELECT * FROM t WHERE id = 3",
                  "LOOKUP table t (workspace, 5 rows at prepare) by primary key with pv_db_lookup: id = 3; "
                  "columns id, name, qty, price\n"
                  "FILTER (\"id\" = 3) [typed loop]\n"
                  "PROJECT id, name, qty, price\n"
                  "STREAM rows stream batch by batch\n");
    check_explain(f->db, "EXPLAIN SELECT count(*) FROM t WHERE id BETWEEN 2 AND ?",
                  "SCAN table t (workspace, 5 rows at prepare) in key order; stops at the first row past "
                  "(\"id\" <= ?1); skips batches below (\"id\" >= 2); columns id\n"
                  "FILTER (\"id\" BETWEEN 2 AND ?1) [per row]\n"
                  "AGGREGATE one group: count(*)\n"
                  "PROJECT count(*)\n");
    check_explain(f->db, "EXPLAIN SELECT qty, count(*) AS n FROM t GROUP BY qty HAVING n > 1 ORDER BY 2",
                  "SCAN table t (workspace, 5 rows at prepare) in key order; columns qty\n"
                  "AGGREGATE hash groups by \"qty\", output in key order: count(*)\n"
                  "HAVING (count(*) > 1)\n"
                  "PROJECT qty, n\n"
                  "SORT stable merge sort by output 2 (n)\n");
    check_explain(f->db, "EXPLAIN DELETE FROM t WHERE id IN (1, 2)",
                  "LOOKUP table t (workspace, 5 rows at prepare) by primary key with pv_db_lookup: "
                  "id IN (1, 2); columns id\n"
                  "FILTER (\"id\" IN (1, 2)) [per row]\n"
                  "DELETE collect the keys, then one pv_db_delete\n");
    check_explain(f->db, "EXPLAIN SELECT 1", "ROW one row, no table\nPROJECT 1\nSTREAM rows stream batch by batch\n");
    /* EXPLAIN does not run the statement */
    check_explain(f->db, "EXPLAIN UPDATE t SET qty = 0 WHERE id < 3",
                  "SCAN table t (workspace, 5 rows at prepare) in key order; stops at the first row past "
                  "(\"id\" < 3); columns id, name, qty, price\n"
                  "FILTER (\"id\" < 3) [typed loop]\n"
                  "UPDATE collect the rows, then pv_db_write REPLACE (delete + insert when a key changes)\n");
    check_query(f->db, "SELECT sum(qty) FROM t", "130\n");
}

/* The lookup path must return exactly what a full scan returns. */
static void test_lookup_semantics(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, ITEMS);
    exec_ok(f->db, "CREATE TABLE s (k TEXT PRIMARY KEY, v INTEGER);"
                   "INSERT INTO s VALUES ('1', 1), ('10', 10), ('a', 2), ('', 3), ('é', 4)");
    exec_ok(f->db, "CREATE TABLE r (k REAL PRIMARY KEY, v INTEGER);"
                   "INSERT INTO r VALUES (1.0, 1), (1.5, 2), (-0.0, 3), (1e300, 4)");
    check_query(f->db, "SELECT id FROM t WHERE id IN (3, 1, 3, 99, NULL, '2', 2.0, 4.5, 'x')",
                "1\n2\n3\n");
    check_query(f->db, "SELECT id FROM t WHERE id = '5'", "5\n");
    check_query(f->db, "SELECT id FROM t WHERE id = 5.0 AND qty > 40", "5\n");
    check_query(f->db, "SELECT id FROM t WHERE id = 5 AND qty > 50", "");
    check_query(f->db, "SELECT id FROM t WHERE id = NULL", "");
    check_query(f->db, "SELECT id FROM t WHERE id IN (?1, ?2)", "");
    check_query(f->db, "SELECT id FROM t WHERE id = 9223372036854775807", "");
    check_query(f->db, "SELECT id FROM t WHERE id = 1e30", "");
    check_query(f->db, "SELECT k, v FROM s WHERE k IN (1, '10', 'a', '', 'é', 'zz') ORDER BY v",
                "1|1\na|2\n|3\né|4\n10|10\n");
    check_query(f->db, "SELECT v FROM s WHERE k = 10", "10\n");
    check_query(f->db, "SELECT v FROM s WHERE k = CAST(10 AS INTEGER)", "10\n");
    check_query(f->db, "SELECT v FROM r WHERE k IN (1, 0, '1.5', 1e300) ORDER BY v", "1\n2\n3\n4\n");
}

static void test_range_bounds(void **state)
{
    fixture *f = *state;
    int i;
    pv_buf b = PV_BUF_INIT;
    exec_ok(f->db, "CREATE TABLE n (k INTEGER PRIMARY KEY, v INTEGER)");
    pv_buf_printf(&b, "INSERT INTO n VALUES (0, 0)");
    for (i = 1; i < 5000; i++) pv_buf_printf(&b, ", (%d, %d)", i * 2, i % 7);
    pv_buf_putc(&b, 0);
    exec_ok(f->db, b.p);
    pv_buf_free(&b);
    check_query(f->db, "SELECT count(*), min(k), max(k) FROM n WHERE k < 3001", "1501|0|3000\n");
    check_query(f->db, "SELECT count(*), min(k), max(k) FROM n WHERE k <= 3000 AND k > 2047", "477|2048|3000\n");
    check_query(f->db, "SELECT count(*), min(k), max(k) FROM n WHERE 5000 >= k AND 4000 < k", "500|4002|5000\n");
    check_query(f->db, "SELECT count(*) FROM n WHERE k BETWEEN 2048 AND 2048", "1\n");
    check_query(f->db, "SELECT count(*) FROM n WHERE k BETWEEN 3000 AND 2000", "0\n");
    check_query(f->db, "SELECT count(*) FROM n WHERE k < NULL", "0\n");
    check_query(f->db, "SELECT count(*) FROM n WHERE k < 'abc'", "5000\n");
    check_query(f->db, "SELECT count(*) FROM n WHERE k > 'abc'", "0\n");
    check_query(f->db, "SELECT count(*) FROM n WHERE k <= '100'", "51\n");
    check_query(f->db, "SELECT count(*) FROM n WHERE k < 100.5 AND k >= -1e9", "51\n");
    check_query(f->db, "SELECT k FROM n WHERE k > 9990 ORDER BY k DESC", "9998\n9996\n9994\n9992\n");
    check_query(f->db, "SELECT k FROM n WHERE k < 7 LIMIT 2", "0\n2\n");
    check_query(f->db, "SELECT v, count(*) FROM n WHERE k < 20 GROUP BY v ORDER BY v",
                "0|2\n1|2\n2|2\n3|1\n4|1\n5|1\n6|1\n");
    exec_ok(f->db, "DELETE FROM n WHERE k >= 100");
    check_query(f->db, "SELECT count(*) FROM n", "50\n");
    exec_ok(f->db, "UPDATE n SET v = -1 WHERE k < 10");
    check_query(f->db, "SELECT sum(v) FROM n WHERE v < 0", "-5\n");
}

static void test_text_key_bounds(void **state)
{
    fixture *f = *state;
    exec_ok(f->db, "CREATE TABLE s (k TEXT PRIMARY KEY, v INTEGER);"
                   "INSERT INTO s VALUES ('10', 1), ('9', 2), ('a', 3), ('B', 4), ('', 5)");
    /* TEXT keys order by bytes: '10' < '9' < 'B' < 'a' */
    check_query(f->db, "SELECT k FROM s WHERE k < '9' ORDER BY k", "\n10\n");
    check_query(f->db, "SELECT k FROM s WHERE k < 9 ORDER BY k", "\n10\n");
    check_query(f->db, "SELECT k FROM s WHERE k > 'B'", "a\n");
    /* a numeric-affinity bound compares numerically: no key-order shortcut */
    check_query(f->db, "SELECT k FROM s WHERE k < CAST(10 AS INTEGER) ORDER BY k", "9\n");
    check_query(f->db, "SELECT k FROM s WHERE k >= CAST(9 AS INTEGER) ORDER BY k", "\n10\n9\nB\na\n");
}

int main(void)
{
#define WS(t) cmocka_unit_test_setup_teardown(t, setup_ws, teardown_ws)
    const struct CMUnitTest tests[] = {
        WS(test_update_basic),
        WS(test_update_params_and_reset),
        WS(test_update_key_change),
        WS(test_update_errors),
        WS(test_update_hidden_key),
        WS(test_delete),
        WS(test_delete_composite_key),
        WS(test_insert_or),
        WS(test_upsert),
        WS(test_upsert_composite_key),
        WS(test_transactions),
        WS(test_statement_atomicity_in_txn),
        WS(test_drop_table),
        WS(test_alter_table),
        WS(test_prepared_then_altered),
        WS(test_alter_hidden_key),
        WS(test_defaults),
        WS(test_alter_then_reopen),
        WS(test_ddl_constraints),
        WS(test_explain),
        WS(test_lookup_semantics),
        WS(test_range_bounds),
        WS(test_text_key_bounds),
    };
    return cmocka_run_group_tests_name("sql writes, explain, access paths", tests, NULL, NULL) ? 1 : 0;
}
