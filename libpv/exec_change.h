/*
 * exec_change.h: the prepared state of a statement that writes (exec_dml.c,
 * exec_ddl.c). Private to those two files and exec.h's pv_change_* API.
 */
#ifndef PV_EXEC_CHANGE_H
#define PV_EXEC_CHANGE_H

#include "exec.h"

struct pv_change {
    pv_db *db;
    pv_arena *arena;       /* the statement's arena */
    pv_sql_stmt *st;
    /* the target table as it was at prepare */
    char *table;           /* NUL-terminated, spelled as the store spells it */
    uint32_t table_off;    /* where the statement names it, for "no such table" */
    uint32_t ncols;        /* full column count, hidden key included */
    uint32_t npk;
    uint32_t *pk;          /* key columns (schema indexes) in key order */
    int *types;            /* per column */
    int hidden_key;        /* the key is the generated _pv_id */
    /* CREATE TABLE */
    pv_schema *schema;     /* owned: checked at prepare, cloned per run */
    /* INSERT */
    uint32_t *map;         /* schema column of each VALUES term */
    pv_expr **dflt;        /* per column: DEFAULT expression, or NULL */
    pv_expr **upd;         /* DO UPDATE: per column, the SET expression or NULL */
    /* UPDATE */
    uint32_t *set_col;     /* per SET: schema column */
    int key_set;           /* a SET assigns a key column */
    pv_plan *plan;         /* UPDATE, DELETE: the scan */
};

/* Look `name` (at byte `off` of the text) up and fill the table fields of c. */
int pv_change_table(pv_change *c, pv_str name, uint32_t off);
/* The table must still exist ("no such table" at c->table_off) and have
 * the shape it had at prepare. */
int pv_change_check_table(pv_change *c, const pv_schema **schema);

/* Statement atomicity over several store calls: its own transaction
 * outside one, a savepoint inside one. */
typedef struct pv_atomic {
    int own;
    size_t mark;
} pv_atomic;
int pv_atomic_begin(pv_db *db, pv_atomic *a);
/* Commit (or keep) on rc == 0, undo otherwise; returns rc or the commit's error. */
int pv_atomic_end(pv_db *db, pv_atomic *a, int rc);

/* The DEFAULT of column i as SQL text, or NULL. */

#endif
