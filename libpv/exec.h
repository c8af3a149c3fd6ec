/*
 * exec.h: the query engine behind pv_stmt (docs/SQL.md): binding a parsed
 * SELECT into a plan, evaluating expressions, and running the plan over
 * the column batches of a pv_source.
 *
 *   exec_plan.c   names -> scan slots, aggregates, ORDER BY terms
 *   exec_expr.c   expression evaluation, SQLite conversions
 *   exec_func.c   scalar functions and LIKE
 *   exec_hash.c   open-addressing hash set of value tuples
 *   exec_agg.c    aggregate accumulators and GROUP BY
 *   exec_sort.c   materialized rows and the stable merge sort
 *   exec_run.c    scan, filter, project, limit: the pull loop
 *   exec_vec.c    encoded batches: decoding in place, dictionary memos
 *   exec_access.c access paths: key lookups and key-range bounds
 *   exec_explain.c EXPLAIN: the plan as rows
 *   exec_dml.c    INSERT (upsert), UPDATE, DELETE
 *   exec_ddl.c    CREATE, DROP, ALTER, transactions
 */
#ifndef PV_EXEC_H
#define PV_EXEC_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "db.h"
#include "sql_ast.h"
#include "util.h"
#include "value.h"

/* ---- functions ------------------------------------------------------------ */

enum pv_fn {
    PV_FN_NONE = 0,
    /* scalar */
    PV_FN_LOWER, PV_FN_UPPER, PV_FN_LENGTH, PV_FN_SUBSTR, PV_FN_TRIM,
    PV_FN_LTRIM, PV_FN_RTRIM, PV_FN_ABS, PV_FN_ROUND, PV_FN_COALESCE,
    PV_FN_IFNULL, PV_FN_NULLIF, PV_FN_TYPEOF, PV_FN_MIN2, PV_FN_MAX2,
    /* aggregate (>= PV_FN_AGG_FIRST) */
    PV_FN_AGG_FIRST,
    PV_FN_COUNT_STAR = PV_FN_AGG_FIRST, PV_FN_COUNT, PV_FN_SUM, PV_FN_TOTAL,
    PV_FN_AVG, PV_FN_MIN, PV_FN_MAX
};

static inline int pv_fn_is_agg(int fn) { return fn >= PV_FN_AGG_FIRST; }

/* ---- evaluation ----------------------------------------------------------- */

/* Where column references and aggregate calls get their values. Before
 * aggregation a row is (batch, row); after it, `group_row` holds a group's
 * representative values by slot and `aggs` its aggregate results. */
typedef struct pv_eval {
    const pv_batch *batch;
    uint32_t row;
    const pv_value *group_row;
    const pv_value *aggs;
    const pv_value *params;
    pv_arena *arena;   /* text made during evaluation; owner frees it */
} pv_eval;

int pv_eval_expr(pv_eval *cx, const pv_expr *e, pv_value *out);

/* ---- encoded batches (exec_vec.c; batch.h) ------------------------------- */

/* Ask the batch's store for encoded batches from now on: every reader of
 * the run's batches must then use pv_batch_get or pv_batch_flatten (so
 * pv_groups_add asks: an aggregate's rows are read only by the filter,
 * the group keys and the aggregates; exec_run.c's streaming projection
 * reads pv_vec directly). */
void pv_batch_ask_enc(const pv_batch *b);
/* The form (PV_VEC_*) of column c of b. */
int pv_batch_form(const pv_batch *b, uint32_t c);
/* Decode an encoded column of b in place into its plain vector (into the
 * store's room for it); a plain column is left alone. */
void pv_batch_flatten(const pv_batch *b, uint32_t c);
/* The memo of `size` zeroed bytes attached to a dictionary under `key`
 * (*fresh = 1 when just made), or NULL when its slots are full or memory
 * is short: the caller then works without one. Freed with the dictionary. */
void *pv_vdict_memo(pv_vdict *d, const void *key, size_t size, int *fresh);

/* exec_filter.c: narrow sel[0..*n) (row numbers of batch b, ascending) to
 * the rows where e is true (not false, not NULL); *n becomes the count.
 * cx->batch must be b. Errors: those of pv_eval_expr. */
int pv_filter(pv_eval *cx, const pv_expr *e, const pv_batch *b, uint32_t *sel, uint32_t *n);

/* Truth as SQLite: -1 for NULL, else 1 when the numeric value is nonzero. */
int pv_value_truth(const pv_value *v);

/* Numeric value of v: INTEGER/REAL unchanged, BOOLEAN as INTEGER, TEXT and
 * BLOB by their numeric prefix ("12abc" -> 12, "abc" -> 0), NULL stays. */
pv_value pv_value_numeric(const pv_value *v);
/* Text to a number by its numeric prefix; *pure (if not NULL) says whether
 * the whole text, blanks aside, is that number. */
pv_value pv_text_numeric(const char *s, size_t n, int *pure);
/* SQLite's integer/real reading of a value (CAST, pv_column_int64/double). */
int64_t pv_value_int64(const pv_value *v);
double pv_value_double(const pv_value *v);
/* Saturating REAL -> INTEGER as SQLite. */
int64_t pv_real_to_int64(double f);
/* Text form of a value (numbers formatted into the arena); NULL -> {NULL,0}.
 * Returns 0 or PV_ENOMEM. */
int pv_value_text(pv_arena *a, const pv_value *v, pv_str *out);
/* Deep copy of v's bytes into the arena. */
int pv_value_copy(pv_arena *a, const pv_value *v, pv_value *out);
/* Compare two values for `op` (TK_EQ ... TK_GE) under SQLite's comparison
 * affinity rules given each operand's affinity. Returns -1 (NULL), 0, 1. */
int pv_compare_aff(pv_arena *a, int op, pv_value l, int laff, pv_value r, int raff, int *out);

/* Scalar function call (exec_func.c); args already evaluated. */
int pv_func_call(pv_eval *cx, const pv_expr *e, const pv_value *args, pv_value *out);
/* LIKE: 1 match, 0 no match; PV_ESQL for a bad ESCAPE (esc_off: where the
 * text writes it). */
int pv_like(const pv_str *pat, const pv_str *s, const pv_str *esc, uint32_t esc_off, int *out);
/* Function id by name and argument count, checking arity; PV_ESQL. */
int pv_func_lookup(const pv_expr *e, int *fn);

/* ---- query memory budget (exec_run.c) ---------------------------------------
 * What a statement's run holds for GROUP BY groups, DISTINCT sets, ORDER BY
 * rows and hash tables is charged here as it grows (given back only where
 * a structure is replaced, and reset when the run restarts), so a query
 * that would pass pv_stmt_set_mem_limit's limit stops with PV_ELIMIT. */
typedef struct pv_budget {
    uint64_t limit;  /* bytes; UINT64_MAX: none */
    uint64_t used;   /* bytes charged */
} pv_budget;

/* Charge n bytes for operator `op` ("GROUP BY", "DISTINCT"...): 0, or
 * PV_ELIMIT with a message naming op and the limit when used + n would
 * pass it (nothing is charged then). b NULL: no budget, always 0. */
int pv_budget_charge(pv_budget *b, uint64_t n, const char *op);
/* Give back n bytes charged before (memory freed). b may be NULL. */
void pv_budget_release(pv_budget *b, uint64_t n);

/* ---- hash set of value tuples -------------------------------------------- */

typedef struct pv_hset {
    uint32_t width;     /* values per key */
    uint32_t count;     /* keys stored (ids 0 .. count-1) */
    uint32_t mask;      /* slots - 1 (power of two), 0 before the first add */
    uint64_t *hash;     /* per slot; 0 = empty */
    uint32_t *id;       /* per slot */
    pv_value **keys;    /* per id: width values in `arena` */
    uint32_t keycap;
    pv_arena arena;
    pv_budget *budget;  /* NULL, or what growth is charged to, as `op` */
    const char *op;
} pv_hset;

/* An empty set of `width`-value keys, charging its growth to budget (may
 * be NULL) under the operator name op (static storage). */
void pv_hset_init(pv_hset *h, uint32_t width);
void pv_hset_set_budget(pv_hset *h, pv_budget *budget, const char *op);
/* Find `key` (width values) or add a copy: 1 added, 0 found, <0 error;
 * *id receives its id (insertion order). */
int pv_hset_add(pv_hset *h, const pv_value *key, uint32_t *id);
void pv_hset_free(pv_hset *h);

/* ---- plan ------------------------------------------------------------------- */

typedef struct pv_agg_def {
    int fn;            /* PV_FN_COUNT_STAR .. PV_FN_MAX */
    int distinct;
    const pv_expr *arg;/* NULL for COUNT(*) */
    const pv_expr *call;
} pv_agg_def;

typedef struct pv_sort_key {
    int col;           /* index into the materialized row (outputs, then extra) */
    int desc;
} pv_sort_key;

/* How the rows of the table are reached (exec_access.c). */
enum { PV_ACCESS_SCAN = 0, PV_ACCESS_LOOKUP };
/* SCAN on a store with a key index (pv_source_index) reads through it. */
enum { PV_INDEX_NONE = 0, PV_INDEX_KEYS, PV_INDEX_RANGE };

typedef struct pv_plan {
    const char *sql;
    int has_from;
    char *table;       /* NUL-terminated, for pv_db_find_table at each run */
    uint32_t table_off;/* where the text names it, for "no such table" */
    char *as_of;       /* FROM t AS OF 'REV': the revision, else NULL */
    uint32_t as_of_off;/* where the text writes 'REV', for its errors */
    pv_db_map *map;    /* the `.pvdb` mapping the statement holds (each run
                          reads this one, not a file swapped in later), or
                          NULL: the db's current store */
    int db_kind;       /* PV_DB_WORKSPACE / PV_DB_PVDB at planning time */
    uint64_t est_rows; /* the table's row count at planning time */
    /* access path: every WHERE conjunct is still evaluated on each row;
     * these only narrow which rows are read */
    int access;        /* PV_ACCESS_* */
    /* SCAN through a key index when the source has one (pv_source_index;
     * has_index: it had at planning time): KEYS reads the rows of each
     * combination of kvals (a key prefix of npk columns, the whole key for
     * a point lookup), RANGE the rows between lower and upper on the first
     * key column */
    int index;         /* PV_INDEX_* */
    int has_index;
    uint32_t npk;      /* LOOKUP, INDEX_KEYS: key columns pinned (LOOKUP: all);
                          kvals[i] lists the values of key column i */
    uint32_t *pk_col;  /* LOOKUP: schema index per key column */
    int *pk_type;      /* LOOKUP: type per key column */
    pv_expr ***kvals;
    uint32_t *nkvals;
    pv_expr *upper;    /* SCAN: once false in key order, false for every later row */
    pv_expr *lower;    /* SCAN: false for a prefix of the rows in key order */
    const pv_expr *upper_src, *lower_src; /* the WHERE conjuncts they come from */
    /* LOOKUP through a secondary index (exec_access.c): has_sec, and
     * sec is its position in the schema's indexes at planning time
     * (sec_name finds it again at each run); the first nsec index columns
     * (sec_col, sec_type) are pinned by `=` / `IN` (svals[i] lists their
     * values, nsvals[i] how many), and sec_lower / sec_upper (`col op c`
     * nodes, or NULL) bound index column nsec */
    int has_sec;
    uint32_t sec;
    const char *sec_name;
    uint32_t nsec;
    uint32_t *sec_col;
    int *sec_type;
    pv_expr ***svals;
    uint32_t *nsvals;
    pv_expr *sec_lower, *sec_upper;
    /* ... on a `.pvdb` (pv_access_estimate): sec_est, the rows the index
     * lists for the plan's constant values, counted at prepare, or -1 when
     * the values are known only at run (each run then counts them and
     * reads the table instead when the scan is cheaper); a plan the count
     * turned to the scan names the index in sec_skipped and the count in
     * sec_skipped_rows, and no_sec keeps secondary indexes out of it */
    int64_t sec_est;
    const char *sec_skipped;
    uint64_t sec_skipped_rows;
    int no_sec;
    uint32_t nslots;   /* columns the scan returns */
    uint32_t *slot_col;/* schema index per slot */
    char **slot_name;  /* column name per slot (EXPLAIN, shape check) */
    int *slot_type;    /* column type per slot (shape check) */
    uint32_t nout;
    pv_expr **out;
    char **names;      /* result column names */
    pv_expr *where;
    /* INDEX_KEYS / INDEX_RANGE: WHERE without the conjuncts the key index
     * enforces exactly (NULL: none left), used when has_rest and
     * pv_lookup_exact says the run's key values allow it */
    int has_rest;
    pv_expr *where_rest;
    uint32_t ngroup;
    pv_expr **group;
    pv_expr *having;
    int aggregate;     /* GROUP BY or any aggregate call */
    uint32_t nagg;
    pv_agg_def *aggs;
    uint32_t nextra;   /* ORDER BY expressions that are not outputs */
    pv_expr **extra;
    uint32_t nkeys;
    pv_sort_key *keys;
    int distinct;
    pv_expr *limit;
    pv_expr *offset;
} pv_plan;

/* Bind a parsed SELECT (in `arena`, which also receives the plan) against
 * the `.pvdb` mapping `map` (the statement's reference; NULL: the db's
 * current store, a workspace). Errors: PV_ENOTFOUND (table, column),
 * PV_ESQL, PV_ENOMEM; each about a name or term of the text gives its
 * offset (pv_err_at), and a table AS OF a revision that cannot be found
 * that of the revision (pv_db_find_table_at_sql). */
int pv_plan_build(pv_db *db, pv_db_map *map, pv_arena *arena, pv_sql_stmt *st, pv_plan **out);

/* Bind an expression that may not name columns or aggregates (INSERT
 * values, LIMIT). Errors: PV_ENOTFOUND, PV_ESQL. */
int pv_bind_const(const char *sql, pv_expr *e);

/* Plan the scan behind UPDATE and DELETE: the outputs are the table's
 * columns (all of them in schema order, hidden key included, when
 * all_cols; else the key columns in key order), then `exprs` (SET values,
 * bound over the table's row); `where` filters. `qual` is what a column
 * qualifier must be (alias or table name); `table_off` is where the text
 * names the table. Errors: as pv_plan_build; PV_ESQL for an aggregate. */
int pv_plan_build_rows(pv_db *db, pv_arena *arena, const char *sql, pv_str table,
                       uint32_t table_off, pv_str alias, pv_expr *where, pv_expr **exprs, uint32_t nexprs,
                       int all_cols, pv_plan **out);

/* Bind an expression over one row of `s` (ON CONFLICT DO UPDATE): column c
 * gets slot c (qualified by nothing or `qual`), `excluded.c` gets slot
 * s->ncols + c. Evaluate with pv_eval.group_row = the row then the
 * excluded row. Errors: PV_ENOTFOUND, PV_ESQL (aggregates). */
int pv_bind_row(const char *sql, const pv_schema *s, pv_str qual, pv_expr *e);

/* Is the expression free of columns and aggregates (a value fixed for the
 * whole run: literals, parameters and operations on them)? */
int pv_expr_is_const(const pv_expr *e);

/* ---- access paths (exec_access.c) ----------------------------------------- */

/* What one row read through a baked (`.pvdb`) secondary index costs, in
 * rows of a full scan: a lookup whose index lists more than nrows /
 * pv_sec_row_cost rows reads the table instead (measured on flights: a
 * filtered scan costs about 2 ns a row, a row found through the index
 * about 100 ns). 0: always the index (tests compare both paths). */
#define PV_SEC_ROW_COST_DEFAULT 50
extern uint32_t pv_sec_row_cost;

/* After pv_access_choose on a `.pvdb` table src: when the plan reads
 * through a secondary index and its values are constants (no parameter),
 * count the rows the index lists (from the file's key starts, no row list
 * decoded) into p->sec_est, and choose again without secondary indexes
 * when the full scan is cheaper (p->sec_skipped). Otherwise sec_est = -1.
 * Errors: PV_ENOMEM, PV_ECORRUPT (the index section, with the offset). */
int pv_access_estimate(pv_arena *arena, const pv_source *src, pv_plan *p);

/* Choose the access path of a bound plan from its top-level WHERE
 * conjuncts: key lookups for `key = c` / `key IN (c, ...)` covering the
 * whole primary key of a workspace table, else a secondary index whose
 * leading columns are pinned (or bounded), else key-range bounds on the
 * first key column (docs/SQL.md, "Access paths"). */
int pv_access_choose(pv_arena *arena, const pv_schema *s, pv_plan *p);

/* LOOKUP: evaluate the key values and fetch the rows. Keys are converted
 * as the comparison would convert them, sorted and deduplicated, so rows
 * come in key order and once each. The result is batches of the plan's
 * slots (pv_lookup_next), valid until the next write to the table. */
typedef struct pv_lookup pv_lookup;
int pv_lookup_open(const pv_plan *p, pv_db *db, const pv_source *src, pv_eval *cx,
                   pv_lookup **out);
/* INDEX_KEYS / INDEX_RANGE on a source with a key index: the same
 * interface over the index's range scans (key prefixes sorted and
 * deduplicated as for LOOKUP; batches valid until the next call). */
int pv_index_open(const pv_plan *p, const pv_source *src, const pv_source_index_ops *ix,
                  pv_eval *cx, pv_lookup **out);
int pv_lookup_next(pv_lookup *l, pv_batch *out);  /* rows, 0 at the end, <0 */
/* Run it again (pv_reset): keys or bounds evaluated anew with cx, the
 * vectors and buffers kept, so a point query allocates nothing. `src` is
 * the run's re-fetched source (same table). Errors: as the open. */
int pv_lookup_restart(pv_lookup *l, const pv_source *src, pv_eval *cx);
/* 1 when the rows read through the key index satisfy the conjuncts the
 * plan's where_rest leaves out (the key values or bounds of this run
 * needed no conversion that the key order does not follow). */
int pv_lookup_exact(const pv_lookup *l);
/* Release the current range scan (the statement has ended). */
void pv_lookup_finish(pv_lookup *l);
/* A point lookup (a .pvdb's key index, one whole one-column key) of
 * `key` alone, already of the key column's type, instead of a restart and
 * pv_lookup_next: its row as one batch (1), or 0 when no row has the
 * key; the run has no keys left after it. Errors: as pv_lookup_next. */
int pv_lookup_point(pv_lookup *l, const pv_value *key, pv_batch *out);
void pv_lookup_close(pv_lookup *l);

/* Does the conjunct run as the typed INTEGER loop of the filter (shape
 * only: an INTEGER/BOOLEAN column against an integer literal or a
 * parameter)? */
int pv_filter_is_typed(const pv_expr *e);

/* ---- EXPLAIN (exec_explain.c) ---------------------------------------------- */

/* Rows (id INTEGER, op TEXT, detail TEXT), one per operator of the plan, in
 * the order data flows; `verb` is "UPDATE" / "DELETE" for those statements,
 * NULL for a SELECT. Rows and text live in `arena`. */
#define PV_EXPLAIN_COLS 3
int pv_explain(const pv_plan *p, const char *verb, pv_arena *arena, pv_value **rows,
               uint32_t *nrows);

/* ---- statements that write (exec_dml.c, exec_ddl.c) ---------------------- */

typedef struct pv_change pv_change;
/* Check a CREATE, DROP, ALTER, INSERT, UPDATE, DELETE, BEGIN, COMMIT or
 * ROLLBACK against the database (names resolved as in SQLite at prepare);
 * state lives in `arena` (and in *out, released by pv_change_free). */
int pv_change_prepare(pv_db *db, pv_arena *arena, pv_sql_stmt *st, pv_change **out);
/* Run it once: all or nothing (a statement that makes several store calls
 * runs in its own transaction, or under a savepoint inside one). */
int pv_change_run(pv_change *c, const pv_value *params);
/* UPDATE / DELETE: the plan of their scan (EXPLAIN); NULL for others. */
const pv_plan *pv_change_plan(const pv_change *c);
void pv_change_free(pv_change *c);

/* exec_dml.c and exec_ddl.c share these. */
int pv_dml_prepare(pv_change *c);
int pv_dml_run(pv_change *c, const pv_value *params);
int pv_ddl_prepare(pv_change *c);
int pv_ddl_run(pv_change *c);

/* ---- run ------------------------------------------------------------------- */

typedef struct pv_run pv_run;

/* Start running a plan; `params` lives as long as the run. Its memory
 * limit starts as PV_QUERY_MEM_DEFAULT (pv.h). */
int pv_run_open(const pv_plan *plan, pv_db *db, const pv_value *params, pv_run **out);
/* Limit what the run holds (pv_budget) to `bytes` (UINT64_MAX: none),
 * from its next row on. */
void pv_run_set_mem_limit(pv_run *run, uint64_t bytes);
/* Next row: 1 with *row (plan->nout values, valid until the next call or
 * close), 0 at the end, or a negative error. */
int pv_run_next(pv_run *run, const pv_value **row);

/* A row as pv_run_step hands it out: plan->nout values, or, when every
 * output is a bare column of a `.pvdb` table (no DISTINCT, no aggregate,
 * no ORDER BY), the
 * outputs read in place: output i is row `row` of the plain vector
 * cols[i] of the current batch, nothing copied. term[i] is 1 when that
 * vector's non-NULL TEXT/BLOB values are each followed by a NUL byte
 * (p[n] == 0, readable), so they can be handed out as C strings as they
 * are. Everything it points to is valid until the next call on the run
 * (pv_run_step, pv_run_next, restart, finish, close). */
typedef struct pv_row {
    const pv_value *vals;      /* nout values, or NULL: read cols[i] at row */
    const pv_vec *const *cols; /* in place: per output, its vector */
    const uint8_t *term;       /* in place: per output, 1 = text NUL-terminated */
    uint32_t row;              /* in place: the row of those vectors */
    /* In place: rows of the same vectors that follow `row`, already taken
     * out of the run (LIMIT counted): the caller hands them out itself,
     * row = more[0], more[1], ..., before it calls pv_run_step again (a
     * 1,000-row range then makes one call into the run per batch, not
     * per row). Valid as cols is. */
    const uint32_t *more;
    uint32_t nmore;
    /* In place: changes whenever cols[i]'s vectors or term[i] may have (a
     * new batch; the point fast path also when a text's NUL-termination
     * changes), so that a caller may keep what it read of them until then. */
    uint64_t batch;
} pv_row;

/* Runs that took exec_run.c's point fast path (point_step: one whole
 * one-column key, bare outputs) on this thread; for tests. */
extern _Thread_local uint64_t pv_run_point_steps;
/* ... of which pv_run_point took the key straight to the lookup. */
extern _Thread_local uint64_t pv_run_direct_steps;

/* Next row as pv_run_next, read in place where the plan allows: 1 with
 * *row, 0 at the end, or a negative error. */
int pv_run_step(pv_run *run, const pv_row **row);
/* pv_run_restart and pv_run_step in one call for the commonest prepared
 * query, `SELECT <columns> FROM t WHERE key = ?` on a .pvdb with the
 * parameter bound to an INTEGER (the run's `direct` point lookup): the
 * key goes straight to the lookup, no LIMIT, OFFSET or WHERE is left to
 * evaluate. 1 with *row, 0 when no row has the key (the run is then
 * done, as after pv_run_step's last row), PV_RUN_GENERAL when the run or
 * its parameter is not such (nothing was done: restart and step), or a
 * negative error as pv_run_step's. */
#define PV_RUN_GENERAL 2
int pv_run_point(pv_run *run, const pv_row **row);
/* Run the plan again from its start (pv_reset; params re-read), keeping
 * the run's memory: vectors, projection rows, lookup state. Errors: as
 * pv_run_open. */
int pv_run_restart(pv_run *run, pv_db *db);
/* Release what the run reads from (its scan) once it has returned its
 * last row; pv_run_restart starts it again. */
void pv_run_finish(pv_run *run);
void pv_run_close(pv_run *run);

/* ---- aggregation (exec_agg.c) --------------------------------------------- */

typedef struct pv_groups pv_groups;
/* Groups of a plan, their growth charged to budget (NULL: none) as
 * "GROUP BY" ("aggregate" without GROUP BY; a DISTINCT aggregate's set as
 * "aggregate DISTINCT", MIN/MAX text as "MIN/MAX"). */
int pv_groups_new(const pv_plan *plan, pv_budget *budget, pv_groups **out);
/* Accumulate the selected rows of a batch. */
int pv_groups_add(pv_groups *g, const pv_batch *b, const uint32_t *sel, uint32_t nsel,
                  pv_eval *cx);
/* Number of groups, and group i in output order (after pv_groups_finish):
 * representative row values and finalized aggregate values. */
int pv_groups_finish(pv_groups *g);
uint32_t pv_groups_count(const pv_groups *g);
int pv_groups_get(pv_groups *g, uint32_t i, const pv_value **row, const pv_value **aggs);
void pv_groups_free(pv_groups *g);

/* ---- sort (exec_sort.c) ----------------------------------------------------- */

typedef int (*pv_cmp_fn)(const void *ctx, const void *a, const void *b);
/* Stable merge sort of n pointers; `tmp` has room for n pointers. */
void pv_msort(void **items, size_t n, void **tmp, pv_cmp_fn cmp, const void *ctx);
/* Compare two materialized rows by the plan's ORDER BY keys. */
int pv_row_cmp(const void *plan, const void *a, const void *b);

#endif
