/*
 * db.h: what the SQL engine asks of an open database, whatever its store.
 *
 * pv_db dispatches to the `.pv/` workspace (ws.h) or to a `.pvdb` file
 * (pvdb.h). The engine (sql_*.c, exec_*.c) only uses these functions.
 */
#ifndef PV_DB_H
#define PV_DB_H

#include <stddef.h>

#include "batch.h"
#include "pv.h"
#include "schema.h"
#include "value.h"

struct pv_ws;
struct pvdb_file;

#define PV_DB_WORKSPACE 1
#define PV_DB_PVDB      2

struct pv_db {
    int kind;                 /* PV_DB_WORKSPACE or PV_DB_PVDB */
    unsigned flags;           /* PV_OPEN_* */
    char *path;               /* as given to pv_open */
    struct pv_ws *ws;         /* PV_DB_WORKSPACE */
    struct pvdb_file *file;   /* PV_DB_PVDB */
    int nstmts;               /* live statements (pv_close refuses while > 0) */
};

/* Find a table by name (ASCII case-insensitive) and describe it as a source.
 * Errors: PV_ENOTFOUND ("no such table: NAME"), PV_ECORRUPT, PV_EIO,
 * PV_ENOMEM (a workspace table is loaded on first use). */
int pv_db_find_table(pv_db *db, const char *name, size_t len, pv_source *out);

/* Create a table; takes ownership of `schema` (finished, see
 * pv_schema_finish) on success and on failure.
 * Errors: PV_EREADONLY (a .pvdb, or opened read-only), PV_EEXISTS (unless
 * if_not_exists, which then returns PV_OK and changes nothing), PV_EIO. */
int pv_db_create_table(pv_db *db, pv_schema *schema, int if_not_exists);

/* Insert rows: `nrows` rows of `ncols` values each (ncols = the table's full
 * column count, in schema order, hidden key included: a PV_NULL hidden key
 * is generated). Values are converted to the column types (SQLite STRICT
 * rules); all rows are checked before any is written, so a failure leaves
 * the table unchanged. `origin`, when not NULL, names the input for messages
 * ("airports.csv"), and `first_line` numbers its first row.
 * Errors: PV_EREADONLY, PV_ENOTFOUND, PV_ETYPE, PV_ECONSTRAINT (duplicate
 * primary key, NULL in a NOT NULL column; the message names table, column,
 * key and line), PV_EIO, PV_ENOMEM. */
int pv_db_insert(pv_db *db, const char *table, const pv_value *rows,
                 size_t nrows, size_t ncols, const char *origin,
                 size_t first_line);

#endif
