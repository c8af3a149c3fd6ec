/*
 * schema.h: the shape of a table: named, typed columns, a primary key and
 * secondary indexes (UNIQUE constraints, CREATE INDEX).
 */
#ifndef PV_SCHEMA_H
#define PV_SCHEMA_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

/* Limits checked wherever a schema is built or read from a file. */
#define PV_MAX_COLUMNS    2000  /* columns per table (SQLite's default too) */
#define PV_MAX_TABLE_NAME 64    /* bytes; [A-Za-z_][A-Za-z0-9_]*: a directory name */
#define PV_MAX_COLUMN_NAME 128  /* bytes of UTF-8, no control characters */
#define PV_MAX_TABLES     10000

/* The implicit key of a table declared without PRIMARY KEY: a hidden TEXT
 * column holding 32 random hex digits per row, so rows inserted on two git
 * branches never collide (no shared auto-increment counter). */
#define PV_HIDDEN_KEY_NAME "_pv_id"

typedef struct pv_column {
    char *name;     /* owned, NUL-terminated UTF-8 */
    int type;       /* PV_INTEGER .. PV_BOOLEAN */
    int not_null;   /* 1 if NOT NULL (primary key columns always are) */
    int hidden;     /* 1 for the implicit key: not part of SELECT * */
    int pk_pos;     /* position in the primary key (0-based), or -1 */
    char **aliases; /* owned: earlier names (RENAME COLUMN), oldest first */
    uint32_t naliases;
    pv_value *dflt; /* owned: the DEFAULT, a constant of the column's type
                       (bytes in the same allocation); NULL if none */
} pv_column;

/* A secondary index of a table: CREATE [UNIQUE] INDEX, or the unique index
 * a UNIQUE constraint of CREATE TABLE stands for. Index names are unique
 * in a database (ASCII case-insensitive), across every table. */
typedef struct pv_index_def {
    char *name;      /* owned, NUL-terminated UTF-8 */
    int unique;      /* 1: no two rows share a value tuple without NULL in it */
    uint32_t ncols;  /* >= 1 */
    uint32_t *cols;  /* owned: schema column indexes, in index order */
} pv_index_def;

/* The name given to the unique index of the n-th (1-based) UNIQUE
 * constraint of CREATE TABLE: pv_autoindex_<table>_<n>. The prefix is
 * reserved: CREATE INDEX refuses names starting with it, and DROP INDEX
 * refuses these indexes (drop the table instead), as SQLite does with its
 * sqlite_autoindex_ names. */
#define PV_AUTOINDEX_PREFIX "pv_autoindex_"
#define PV_MAX_INDEXES 64   /* indexes per table */

/* A schema keeps its column history (earlier names, dropped names) so that
 * chunks written before an ALTER TABLE still read by name: ALTER changes
 * the schema file and nothing else. */
typedef struct pv_schema {
    char *name;         /* owned table name */
    uint32_t ncols;
    pv_column *cols;    /* owned, ncols entries in declaration order */
    uint32_t npk;       /* >= 1 once the schema is complete */
    uint32_t *pk;       /* owned: column index of each key part, in key order */
    char **dropped;     /* owned: names of dropped columns (DROP COLUMN) */
    uint32_t ndropped;
    pv_index_def *indexes; /* owned, nindexes entries in creation order */
    uint32_t nindexes;
} pv_schema;

/* A new schema with no columns; NULL on allocation failure. */
pv_schema *pv_schema_new(const char *name, size_t len);
void pv_schema_free(pv_schema *s);
pv_schema *pv_schema_clone(const pv_schema *s);

/* Append a column. Errors: PV_EEXISTS (duplicate name, case-insensitive,
 * also against earlier and dropped names, which old chunks may still use),
 * PV_ELIMIT, PV_EINPUT (bad name), PV_ENOMEM. */
int pv_schema_add_column(pv_schema *s, const char *name, size_t len, int type,
                         int not_null);

/* Declare the primary key (column indexes in key order); marks the columns
 * NOT NULL. Errors: PV_EEXISTS (already set), PV_ERANGE. */
int pv_schema_set_pk(pv_schema *s, const uint32_t *cols, uint32_t n);

/* Finish a schema: when no key was declared, add the hidden key column.
 * Errors: PV_ENOMEM, PV_EINPUT (no columns). */
int pv_schema_finish(pv_schema *s);

/* Column index by name (ASCII case-insensitive), or -1. */
int pv_schema_find(const pv_schema *s, const char *name, size_t len);

/* Column index by a name a chunk header may use: a current name or an
 * earlier one; PV_SCHEMA_DROPPED for a dropped column's name; -1 if none. */
#define PV_SCHEMA_DROPPED (-2)
int pv_schema_find_history(const pv_schema *s, const char *name, size_t len);

/* A column's first name: its oldest earlier name, else its name. It stays
 * the same through renames, so it identifies the column across the
 * versions of a schema (the merge driver matches columns by it). */
const char *pv_column_first_name(const pv_column *c);
/* The column whose first name is `first` (ASCII case-insensitive), or -1. */
int pv_schema_find_first(const pv_schema *s, const char *first);

/* Set (or, with v NULL or a NULL value, clear) a column's DEFAULT, converted
 * to the column's type. It fills the column of rows inserted without it,
 * and of rows in chunks written before the column existed. Errors:
 * PV_ETYPE, PV_ERANGE, PV_ENOMEM. */
int pv_schema_set_default(pv_schema *s, uint32_t col, const pv_value *v);

/* RENAME COLUMN: the old name is kept as an alias. Errors: PV_EEXISTS,
 * PV_EINPUT (bad name), PV_ERANGE, PV_ENOMEM. */
int pv_schema_rename_column(pv_schema *s, uint32_t col, const char *name, size_t len);

/* DROP COLUMN: the column (and its aliases) join the dropped names; the
 * columns after it shift down by one (index definitions follow). Errors:
 * PV_ECONSTRAINT (a key column, or a column an index uses: the message
 * names the index), PV_ERANGE, PV_ENOMEM. */
int pv_schema_drop_column(pv_schema *s, uint32_t col);

/* Add an index definition: `cols` are n schema column indexes (1 ..
 * PV_MAX_COLUMNS of them, a column may repeat as in SQLite). The caller
 * checks that the name is free in the whole database; this checks it
 * against the table's own indexes. Errors: PV_EINPUT (bad name: 1-128
 * bytes of UTF-8 without control characters), PV_EEXISTS ("index NAME
 * already exists"), PV_ERANGE (a bad column index, n = 0), PV_ELIMIT (more
 * than PV_MAX_INDEXES), PV_ENOMEM. */
int pv_schema_add_index(pv_schema *s, const char *name, size_t len, int unique,
                        const uint32_t *cols, uint32_t n);

/* Remove index i (the later ones shift down). Errors: PV_ERANGE. */
int pv_schema_drop_index(pv_schema *s, uint32_t i);

/* Index position by name (ASCII case-insensitive), or -1. */
int pv_schema_find_index(const pv_schema *s, const char *name, size_t len);

/* Does the index stand for a UNIQUE constraint (its name has
 * PV_AUTOINDEX_PREFIX)? */
int pv_index_is_auto(const pv_index_def *ix);

/* Does some index use column `col`? Returns the first such index, or -1. */
int pv_schema_index_using(const pv_schema *s, uint32_t col);

/* Name checks; 1 if acceptable. Table names become directory names. */
/* qsort_r comparator of row pointers (const pv_value *, each a whole row
 * of schema `ctx`, a const pv_schema *) by primary key, in key order. */
int pv_rows_pk_cmp(const void *pa, const void *pb, void *ctx);

int pv_table_name_ok(const char *name, size_t len);
int pv_column_name_ok(const char *name, size_t len);

#endif
