/*
 * sql_ast.h: the parsed form of one SQL statement (docs/SQL.md).
 *
 * Every node, array and decoded string lives in the arena given to
 * pv_sql_parse, so a statement is released with one pv_arena_free. The
 * binder (exec_plan.c) fills the "bound" fields of expressions in place.
 */
#ifndef PV_SQL_AST_H
#define PV_SQL_AST_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "value.h"

/* Limit on expression nesting (tree height and parser recursion). */
#define PV_SQL_MAX_DEPTH 200

enum pv_expr_kind {
    PV_X_LIT,      /* lit */
    PV_X_PARAM,    /* param (0-based) */
    PV_X_COL,      /* [table '.'] name */
    PV_X_UNARY,    /* op: TK_MINUS, TK_PLUS, TK_BITNOT, KW_NOT; args[0] */
    PV_X_BINARY,   /* op: TK_* operator, KW_AND, KW_OR, KW_IS; args[0..1] */
    PV_X_ISNULL,   /* args[0] IS [NOT] NULL (negated) */
    PV_X_IN,       /* args[0] [NOT] IN (args[1..]) */
    PV_X_BETWEEN,  /* args[0] [NOT] BETWEEN args[1] AND args[2] */
    PV_X_LIKE,     /* args[0] [NOT] LIKE args[1] [ESCAPE args[2]] */
    PV_X_CASE,     /* [base] (when then)+ [else]: see has_base, has_else */
    PV_X_CAST,     /* CAST(args[0] AS type): cast_type, name = type text */
    PV_X_FUNC,     /* name(args) / name(DISTINCT args) / name(*) */
    PV_X_OUTREF    /* binder only: ORDER BY term naming output column `slot` */
};

typedef struct pv_expr pv_expr;
struct pv_expr {
    int kind;         /* enum pv_expr_kind */
    int op;           /* operator token or keyword (see above) */
    int negated;      /* NOT IN, NOT BETWEEN, NOT LIKE, IS NOT NULL */
    int distinct;     /* FUNC: name(DISTINCT ...) */
    int star;         /* FUNC: name(*) */
    int has_base;     /* CASE: args[0] is the operand of CASE x WHEN ... */
    int has_else;     /* CASE: the last arg is the ELSE result */
    int cast_type;    /* CAST: PV_INTEGER .. PV_BOOLEAN */
    uint32_t off;     /* source span [off, end) in the statement text */
    uint32_t end;
    uint32_t height;  /* 1 for a leaf */
    pv_value lit;     /* LIT (text and blob bytes in the arena) */
    int param;        /* PARAM: 0-based parameter index */
    pv_str table;     /* COL: qualifier or {NULL, 0} */
    pv_str name;      /* COL: column; FUNC: function; CAST: type text */
    pv_expr **args;
    uint32_t nargs;

    /* bound by the planner */
    int slot;         /* COL: scan slot; OUTREF: output column; FUNC agg: index */
    int aff;          /* affinity: 0 none, PV_INTEGER/REAL/BOOLEAN/TEXT/BLOB */
    int fn;           /* FUNC: function id (exec.h) */
};

typedef struct pv_result_col {
    pv_expr *expr;    /* NULL for * and t.* */
    pv_str star_table;/* t.* qualifier, {NULL, 0} for plain * */
    pv_str alias;     /* {NULL, 0} when none */
    uint32_t off;     /* its first byte: where a * or t.* error is */
} pv_result_col;

typedef struct pv_order_term {
    pv_expr *expr;
    int desc;
} pv_order_term;

typedef struct pv_select {
    int distinct;
    pv_result_col *cols;
    uint32_t ncols;
    pv_str from;       /* {NULL, 0}: SELECT without FROM */
    uint32_t from_off; /* offset of the table name (for messages) */
    pv_str alias;
    pv_str as_of;      /* FROM t AS OF 'REV': the revision, {NULL, 0} if none */
    uint32_t as_of_off;/* where the text writes 'REV' (for messages) */
    pv_expr *where;
    pv_expr **group;
    uint32_t ngroup;
    pv_expr *having;
    pv_order_term *order;
    uint32_t norder;
    pv_expr *limit;
    pv_expr *offset;
} pv_select;

typedef struct pv_coldef {
    pv_str name;
    uint32_t name_off;
    pv_str type;      /* the type's text, for pv_type_parse */
    uint32_t type_off;
    int not_null;
    int pk;           /* PRIMARY KEY: times the column says it (1 is right) */
    int unique;       /* column constraint UNIQUE */
    /* where the text writes the constraint's NOT, PRIMARY and UNIQUE,
     * for the errors about them (set with the flag above) */
    uint32_t not_off, primary_off, unique_off;
    pv_expr *dflt;    /* DEFAULT expression, or NULL */
} pv_coldef;

/* A list of column names with their offsets (and ASC/DESC where allowed). */
typedef struct pv_namelist {
    pv_str *names;
    uint32_t *offs;
    int *desc;
    uint32_t n;
} pv_namelist;

typedef struct pv_create {
    pv_str table;
    uint32_t table_off;
    int if_not_exists;
    pv_coldef *cols;
    uint32_t ncols;
    pv_str *pk;        /* table constraint PRIMARY KEY (...) */
    uint32_t *pk_off;
    uint32_t npk;
    uint32_t primary_off; /* where the text writes its PRIMARY */
    pv_namelist *uniques; /* table constraints UNIQUE (...) */
    uint32_t nuniques;
} pv_create;

/* INSERT conflict handling: INSERT OR ..., and the upsert clause. */
enum { PV_OR_NONE = 0, PV_OR_REPLACE, PV_OR_IGNORE };
enum { PV_UPSERT_NONE = 0, PV_UPSERT_NOTHING, PV_UPSERT_UPDATE };

/* col = expr of UPDATE and DO UPDATE. */
typedef struct pv_set {
    pv_str col;
    uint32_t col_off;
    pv_expr *expr;
} pv_set;

typedef struct pv_insert {
    pv_str table;
    uint32_t table_off;
    int or_action;     /* PV_OR_* (REPLACE INTO is PV_OR_REPLACE) */
    pv_str *cols;      /* NULL when no column list */
    uint32_t *col_off;
    uint32_t ncols;
    pv_expr **vals;    /* nrows * nvals, row-major */
    uint32_t vals_off; /* the first row's '(': where a wrong width is */
    uint32_t nrows;
    uint32_t nvals;    /* values per row */
    int upsert;        /* PV_UPSERT_* */
    uint32_t upsert_off;
    pv_namelist target;/* ON CONFLICT (cols); n = 0 when omitted */
    pv_set *sets;      /* DO UPDATE SET ... */
    uint32_t nsets;
    pv_expr *upsert_where;
} pv_insert;

typedef struct pv_update {
    pv_str table;
    uint32_t table_off;
    pv_str alias;
    pv_set *sets;
    uint32_t nsets;
    pv_expr *where;
} pv_update;

typedef struct pv_delete {
    pv_str table;
    uint32_t table_off;
    pv_str alias;
    pv_str as_of;      /* FROM t AS OF 'REV': the revision, {NULL, 0} if none */
    pv_expr *where;
} pv_delete;

/* DROP TABLE / DROP INDEX */
typedef struct pv_drop {
    int index;         /* 1 for DROP INDEX */
    int if_exists;
    pv_str name;
    uint32_t name_off;
} pv_drop;

enum { PV_ALTER_ADD = 1, PV_ALTER_RENAME, PV_ALTER_DROP };

typedef struct pv_alter {
    pv_str table;
    uint32_t table_off;
    int action;        /* PV_ALTER_* */
    pv_coldef col;     /* ADD: the new column */
    pv_str from;       /* RENAME: old name; DROP: the column */
    uint32_t from_off;
    pv_str to;         /* RENAME: new name */
    uint32_t to_off;
} pv_alter;

typedef struct pv_create_index {
    int unique;
    int if_not_exists;
    pv_str name;
    uint32_t name_off;
    pv_str table;
    uint32_t table_off;
    pv_namelist cols;
} pv_create_index;

enum pv_stmt_kind {
    PV_SQL_SELECT = 1, PV_SQL_CREATE, PV_SQL_INSERT, PV_SQL_UPDATE, PV_SQL_DELETE,
    PV_SQL_DROP, PV_SQL_ALTER, PV_SQL_CREATE_INDEX, PV_SQL_BEGIN, PV_SQL_COMMIT,
    PV_SQL_ROLLBACK
};

typedef struct pv_sql_stmt {
    int kind;
    int explain;       /* EXPLAIN [QUERY PLAN] before a SELECT */
    const char *sql;   /* the statement text the spans refer to */
    uint32_t nparams;  /* number of ? parameters (highest ?NNN) */
    union {
        pv_select select;
        pv_create create;
        pv_insert insert;
        pv_update update;
        pv_delete del;
        pv_drop drop;
        pv_alter alter;
        pv_create_index index;
    } u;
} pv_sql_stmt;

/* Parse the first statement of sql[0..len).
 *   *out: the statement (in `arena`), or NULL when only blanks/comments
 *         precede the end or a ';'.
 *   *end: offset just past the statement and its ';' (if any).
 * `sql` must outlive *out (spans point into it).
 * Errors: PV_ESQL ("near "X": syntax error at offset N"), PV_ELIMIT (nesting
 * over PV_SQL_MAX_DEPTH), PV_ENOMEM. */
int pv_sql_parse(pv_arena *arena, const char *sql, size_t len, pv_sql_stmt **out,
                 size_t *end);

/* Parse sql[0..len) as one expression and nothing else (a DEFAULT stored in
 * a schema). Errors as pv_sql_parse. */
int pv_sql_parse_expr(pv_arena *arena, const char *sql, size_t len, pv_expr **out);

/* Find where the first statement ends: offset past its ';' or at the end of
 * text, skipping quoted tokens and comments. */
size_t pv_sql_stmt_end(const char *sql, size_t len);

/* Canonical text of a statement or expression: keywords upper case,
 * expressions fully parenthesised, names quoted when needed. */
int pv_sql_print(pv_buf *out, const pv_sql_stmt *st);
int pv_sql_print_expr(pv_buf *out, const pv_expr *e);

#endif
