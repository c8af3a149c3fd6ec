/*
 * exec_access.c: access paths (docs/SQL.md, "Access paths").
 *
 * A plan reads its table by a full scan in primary-key order unless the
 * WHERE clause pins the key:
 *   - LOOKUP: every key column is `col = c` or `col IN (c, ...)` with
 *     constant c, and the table is a workspace: the rows are fetched with
 *     pv_db_lookup, key by key.
 *   - SCAN with bounds: a conjunct `k < c`, `k <= c`, `k = c` or
 *     `k BETWEEN a AND b` on the first key column k gives an upper bound
 *     (the scan stops at the first row past it, since rows come in key
 *     order) and `k > c`, `k >= c`, `k = c`, BETWEEN a lower bound (batches
 *     wholly below it are skipped without filtering).
 *   - on a store with a key index (pv_source_index: a `.pvdb`), the SCAN
 *     reads through it: INDEX LOOKUP when a prefix of the key columns is
 *     pinned as for LOOKUP (one key_range per value combination), else
 *     INDEX RANGE between the first key column's bounds (one key_range).
 *   - INDEX SEARCH (a LOOKUP through a secondary index, has_sec): no key
 *     column pinned, and an index's leading columns pinned by `=` / `IN`,
 *     optionally with bounds on the next index column; a workspace answers
 *     with pv_ws_source_index_lookup / _range (ws.h), and the rows are
 *     handed out in key order.
 * Either way every WHERE conjunct is still evaluated on every row read:
 * the access path only narrows which rows are read, so it cannot change a
 * result.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "sql_lex.h"
#include "pvdb_secidx.h"
#include "ws.h"

static int nomem(void) { return pv_err(PV_ENOMEM, "out of memory choosing an access path"); }

int pv_expr_is_const(const pv_expr *e)
{
    uint32_t i;
    if (e->kind == PV_X_COL || e->kind == PV_X_OUTREF) return 0;
    if (e->kind == PV_X_FUNC && pv_fn_is_agg(e->fn)) return 0;
    for (i = 0; i < e->nargs; i++)
        if (!pv_expr_is_const(e->args[i])) return 0;
    return 1;
}

int pv_filter_is_typed(const pv_expr *e)
{
    const pv_expr *c, *k;
    if (e->kind != PV_X_BINARY || e->op < TK_EQ || e->op > TK_GE) return 0;
    c = e->args[0];
    k = e->args[1];
    if (c->kind != PV_X_COL) {
        c = e->args[1];
        k = e->args[0];
    }
    if (c->kind != PV_X_COL || (c->aff != PV_INTEGER && c->aff != PV_BOOLEAN)) return 0;
    if (k->kind == PV_X_PARAM) return 1;
    return k->kind == PV_X_LIT && (k->lit.type == PV_INTEGER || k->lit.type == PV_BOOLEAN);
}

/* ---- choosing -------------------------------------------------------------------- */

typedef struct conjuncts {
    pv_expr **e;
    uint32_t n, cap;
} conjuncts;

static int collect(pv_arena *a, pv_expr *e, conjuncts *c)
{
    if (e->kind == PV_X_BINARY && e->op == KW_AND)
        return collect(a, e->args[0], c) || collect(a, e->args[1], c) ? -1 : 0;
    if (c->n == c->cap) {
        uint32_t nc = c->cap ? c->cap * 2 : 8;
        pv_expr **ne = pv_arena_alloc(a, nc * sizeof *ne);
        if (!ne) return -1;
        if (c->n) memcpy(ne, c->e, c->n * sizeof *ne);
        c->e = ne;
        c->cap = nc;
    }
    c->e[c->n++] = e;
    return 0;
}

/* Is e a reference to schema column `col`? */
static int is_col(const pv_plan *p, const pv_expr *e, uint32_t col)
{
    return e->kind == PV_X_COL && e->slot >= 0 && (uint32_t)e->slot < p->nslots &&
           p->slot_col[e->slot] == col;
}

/* May a constant with affinity `aff` be compared with key column type
 * `type` through the key's order? A TEXT key against a value of numeric
 * affinity compares numerically (text converted), which is not the key
 * order. */
static int aff_fits(int type, int aff)
{
    if (type == PV_TEXT || type == PV_BLOB)
        return aff != PV_INTEGER && aff != PV_REAL && aff != PV_BOOLEAN;
    return 1;
}

/* `col = c` or `c = col` with c constant: the constant, else NULL. */
static pv_expr *eq_const(const pv_plan *p, const pv_expr *e, uint32_t col, int type)
{
    pv_expr *k;
    if (e->kind != PV_X_BINARY || e->op != TK_EQ) return NULL;
    if (is_col(p, e->args[0], col)) k = e->args[1];
    else if (is_col(p, e->args[1], col)) k = e->args[0];
    else return NULL;
    return pv_expr_is_const(k) && aff_fits(type, k->aff) ? k : NULL;
}

/* `col IN (c, ...)` with every c constant. */
static int in_consts(const pv_plan *p, const pv_expr *e, uint32_t col, int type)
{
    uint32_t i;
    if (e->kind != PV_X_IN || e->negated || e->nargs < 2 || !is_col(p, e->args[0], col)) return 0;
    for (i = 1; i < e->nargs; i++)
        if (!pv_expr_is_const(e->args[i]) || !aff_fits(type, e->args[i]->aff)) return 0;
    return 1;
}

/* The key columns pinned by `k = c` / `k IN (c, ...)`, as a prefix of the
 * key: kvals etc. are filled for the first p->npk columns (0: none). */
static int choose_keys(pv_arena *a, const pv_schema *s, pv_plan *p, const conjuncts *c,
                       uint8_t *used)
{
    uint32_t i, j, n = s->npk;
    pv_expr ***kv = pv_arena_alloc(a, n * sizeof *kv);
    uint32_t *nkv = pv_arena_alloc(a, n * sizeof *nkv);
    uint32_t *cols = pv_arena_alloc(a, n * sizeof *cols);
    int *types = pv_arena_alloc(a, n * sizeof *types);
    if (!kv || !nkv || !cols || !types) return nomem();
    for (i = 0; i < n; i++) {
        uint32_t col = s->pk[i];
        int type = s->cols[col].type;
        kv[i] = NULL;
        if (type != PV_INTEGER && type != PV_REAL && type != PV_TEXT) break;
        for (j = 0; j < c->n && !kv[i]; j++) {
            pv_expr *k = eq_const(p, c->e[j], col, type);
            if (k) {
                if (!(kv[i] = pv_arena_alloc(a, sizeof *kv[i]))) return nomem();
                kv[i][0] = k;
                nkv[i] = 1;
                used[j] = 1;
            } else if (in_consts(p, c->e[j], col, type)) {
                kv[i] = c->e[j]->args + 1;
                nkv[i] = c->e[j]->nargs - 1;
                used[j] = 1;
            }
        }
        if (!kv[i]) break;
        cols[i] = col;
        types[i] = type;
    }
    p->npk = i;
    p->pk_col = cols;
    p->pk_type = types;
    p->kvals = kv;
    p->nkvals = nkv;
    return 0;
}

/* A new comparison node `col op k` sharing the operands. */
static pv_expr *cmp_node(pv_arena *a, int op, pv_expr *col, pv_expr *k, const pv_expr *src)
{
    pv_expr *e = pv_arena_alloc(a, sizeof *e), **args = pv_arena_alloc(a, 2 * sizeof *args);
    if (!e || !args) return NULL;
    memset(e, 0, sizeof *e);
    e->kind = PV_X_BINARY;
    e->op = op;
    e->off = src->off;
    e->end = src->end;
    e->height = src->height;
    e->lit = pv_v_null();
    e->slot = -1;
    args[0] = col;
    args[1] = k;
    e->args = args;
    e->nargs = 2;
    return e;
}

/* Bounds a conjunct puts on key column `col`: *up / *lo receive new nodes. */
static int conjunct_bounds(pv_arena *a, const pv_plan *p, pv_expr *e, uint32_t col, int type,
                           pv_expr **up, pv_expr **lo)
{
    pv_expr *c, *k;
    int op;
    *up = *lo = NULL;
    if (e->kind == PV_X_BETWEEN) {
        if (e->negated || !is_col(p, e->args[0], col)) return 0;
        c = e->args[0];
        if (pv_expr_is_const(e->args[2]) && aff_fits(type, e->args[2]->aff) &&
            !(*up = cmp_node(a, TK_LE, c, e->args[2], e)))
            return nomem();
        if (pv_expr_is_const(e->args[1]) && aff_fits(type, e->args[1]->aff) &&
            !(*lo = cmp_node(a, TK_GE, c, e->args[1], e)))
            return nomem();
        return 0;
    }
    if (e->kind != PV_X_BINARY || e->op < TK_EQ || e->op > TK_GE || e->op == TK_NE) return 0;
    op = e->op;
    if (is_col(p, e->args[0], col)) {
        c = e->args[0];
        k = e->args[1];
    } else if (is_col(p, e->args[1], col)) {
        c = e->args[1];
        k = e->args[0];
        op = op == TK_LT ? TK_GT : op == TK_GT ? TK_LT : op == TK_LE ? TK_GE : op == TK_GE ? TK_LE : op;
    } else {
        return 0;
    }
    if (!pv_expr_is_const(k) || !aff_fits(type, k->aff)) return 0;
    if (op == TK_LT || op == TK_LE) *up = cmp_node(a, op, c, k, e);
    else if (op == TK_GT || op == TK_GE) *lo = cmp_node(a, op, c, k, e);
    else if (!(*up = cmp_node(a, TK_LE, c, k, e)) || !(*lo = cmp_node(a, TK_GE, c, k, e)))
        return nomem();
    if (!*up && !*lo) return nomem();
    return 0;
}

static int choose_bounds(pv_arena *a, const pv_schema *s, pv_plan *p, const conjuncts *c)
{
    uint32_t col = s->pk[0], j;
    int type = s->cols[col].type, rc;
    for (j = 0; j < c->n && (!p->upper || !p->lower); j++) {
        pv_expr *up, *lo;
        if ((rc = conjunct_bounds(a, p, c->e[j], col, type, &up, &lo))) return rc;
        if (up && !p->upper) {
            p->upper = up;
            p->upper_src = c->e[j];
        }
        if (lo && !p->lower) {
            p->lower = lo;
            p->lower_src = c->e[j];
        }
    }
    return 0;
}

/* Is conjunct e wholly enforced by the inclusive key range built from it
 * (when the run finds the bound values exact)? `k <= c`, `k >= c`,
 * `k = c` and `k BETWEEN a AND b` are, once every bound they give is in
 * the range; `k < c` and `k > c` are not (the range includes c). */
static int bound_covers(const pv_plan *p, const pv_expr *e)
{
    if (e->kind == PV_X_BETWEEN || (e->kind == PV_X_BINARY && e->op == TK_EQ))
        return p->upper_src == e && p->lower_src == e;
    if (e->kind != PV_X_BINARY) return 0;
    if (e->op == TK_LE || e->op == TK_GE)
        return (p->upper_src == e && p->upper->op == TK_LE) ||
               (p->lower_src == e && p->lower->op == TK_GE);
    return 0;
}

/* The AND of the conjuncts not marked in `drop` (NULL when none is left). */
static int rest_of(pv_arena *a, const conjuncts *c, const uint8_t *drop, pv_expr **out)
{
    uint32_t j;
    *out = NULL;
    for (j = 0; j < c->n; j++) {
        pv_expr *and;
        if (drop[j]) continue;
        if (!*out) {
            *out = c->e[j];
            continue;
        }
        if (!(and = cmp_node(a, KW_AND, *out, c->e[j], c->e[j]))) return nomem();
        and->aff = PV_INTEGER;
        and->height = (*out)->height > c->e[j]->height ? (*out)->height + 1 : c->e[j]->height + 1;
        *out = and;
    }
    return 0;
}

/* WHERE without the conjuncts that the index access path enforces
 * exactly, for pv_run to use when pv_lookup_exact says the run's values
 * allow it (docs/SQL.md, "Access paths"). Key values pinned by `=` / `IN`
 * are converted exactly as the comparison would (key_value), so on an
 * INTEGER or TEXT key their conjuncts are enforced; a REAL key is not
 * (an integer constant may not be a double). */
static int choose_rest(pv_arena *a, const pv_schema *s, pv_plan *p, const conjuncts *c,
                       uint8_t *used)
{
    uint32_t i, j;
    if (p->index == PV_INDEX_KEYS) {
        for (i = 0; i < p->npk; i++)
            if (p->pk_type[i] != PV_INTEGER && p->pk_type[i] != PV_TEXT) return 0;
    } else if (p->index == PV_INDEX_RANGE) {
        int type = s->cols[s->pk[0]].type;
        if (type != PV_INTEGER && type != PV_REAL && type != PV_TEXT) return 0;
        for (j = 0; j < c->n; j++) used[j] = bound_covers(p, c->e[j]);
    } else {
        return 0;
    }
    p->has_rest = 1;
    return rest_of(a, c, used, &p->where_rest);
}

/* The conjuncts pinning column `col` of `type` by `=` / `IN`: the value
 * list (*vals, *nvals), or 0 when none does. */
static int pinned(pv_arena *a, const pv_plan *p, const conjuncts *c, uint32_t col, int type,
                  pv_expr ***vals, uint32_t *nvals)
{
    uint32_t j;
    for (j = 0; j < c->n; j++) {
        pv_expr *k = eq_const(p, c->e[j], col, type);
        if (k) {
            if (!(*vals = pv_arena_alloc(a, sizeof **vals))) return nomem();
            (*vals)[0] = k;
            *nvals = 1;
            return 1;
        }
        if (in_consts(p, c->e[j], col, type)) {
            *vals = c->e[j]->args + 1;
            *nvals = c->e[j]->nargs - 1;
            return 1;
        }
    }
    return 0;
}

/* The bounds the conjuncts put on column `col` (the first lower and the
 * first upper one, as choose_bounds does for the key). */
static int col_bounds(pv_arena *a, const pv_plan *p, const conjuncts *c, uint32_t col, int type,
                      pv_expr **lower, pv_expr **upper)
{
    uint32_t j;
    int rc;
    *lower = *upper = NULL;
    for (j = 0; j < c->n && (!*lower || !*upper); j++) {
        pv_expr *up, *lo;
        if ((rc = conjunct_bounds(a, p, c->e[j], col, type, &up, &lo))) return rc;
        if (up && !*upper) *upper = up;
        if (lo && !*lower) *lower = lo;
    }
    return 0;
}

static int sec_type_ok(int type) { return type == PV_INTEGER || type == PV_REAL || type == PV_TEXT; }

/* How well index x serves the conjuncts: leading columns pinned (*neq)
 * and whether the next one is bounded (*range); 0 when it cannot be used. */
static int sec_score(pv_arena *a, const pv_schema *s, const pv_plan *p, const conjuncts *c,
                     const pv_index_def *x, uint32_t *neq, int *range)
{
    uint32_t k;
    int rc;
    *neq = 0;
    *range = 0;
    for (k = 0; k < x->ncols; k++) {
        int type = s->cols[x->cols[k]].type;
        pv_expr **vals;
        uint32_t nvals;
        if (!sec_type_ok(type)) break;
        if ((rc = pinned(a, p, c, x->cols[k], type, &vals, &nvals)) < 0) return rc;
        if (!rc) break;
        (*neq)++;
    }
    if (*neq < x->ncols && sec_type_ok(s->cols[x->cols[*neq]].type)) {
        pv_expr *lo, *up;
        if ((rc = col_bounds(a, p, c, x->cols[*neq], s->cols[x->cols[*neq]].type, &lo, &up))) return rc;
        *range = lo || up;
    }
    if (!*neq && !*range) return 0;
    /* a unique index wholly pinned finds at most a row per value; else
     * more pinned columns narrow more, and a bound a little */
    return (x->unique && *neq == x->ncols ? 1000 : 0) + 4 * (int)*neq + (*range ? 1 : 0);
}

/* Fill the plan's secondary-index fields for index i of s. */
static int use_sec(pv_arena *a, const pv_schema *s, pv_plan *p, const conjuncts *c, uint32_t i,
                   uint32_t neq, int range)
{
    const pv_index_def *x = &s->indexes[i];
    uint32_t k;
    p->has_sec = 1;
    p->sec = i;
    /* a copy: the schema goes when the table is altered (DROP INDEX) */
    if (!(p->sec_name = pv_arena_dup(a, x->name, strlen(x->name)))) return nomem();
    p->nsec = neq;
    p->sec_col = pv_arena_alloc(a, (neq ? neq : 1) * sizeof *p->sec_col);
    p->sec_type = pv_arena_alloc(a, (neq ? neq : 1) * sizeof *p->sec_type);
    p->svals = pv_arena_alloc(a, (neq ? neq : 1) * sizeof *p->svals);
    p->nsvals = pv_arena_alloc(a, (neq ? neq : 1) * sizeof *p->nsvals);
    if (!p->sec_col || !p->sec_type || !p->svals || !p->nsvals) return nomem();
    for (k = 0; k < neq; k++) {
        int rc;
        p->sec_col[k] = x->cols[k];
        p->sec_type[k] = s->cols[x->cols[k]].type;
        if ((rc = pinned(a, p, c, x->cols[k], p->sec_type[k], &p->svals[k], &p->nsvals[k])) < 0) return rc;
    }
    p->sec_lower = p->sec_upper = NULL;
    if (range)
        return col_bounds(a, p, c, x->cols[neq], s->cols[x->cols[neq]].type, &p->sec_lower, &p->sec_upper);
    return 0;
}

/* The best secondary index for the conjuncts, if one serves them: *best
 * is its number, or -1. */
static int choose_sec(pv_arena *a, const pv_schema *s, const pv_plan *p, const conjuncts *c, int *best,
                      uint32_t *neq, int *range)
{
    uint32_t i;
    int top = 0;
    *best = -1;
    for (i = 0; i < s->nindexes; i++) {
        uint32_t n;
        int r, sc = sec_score(a, s, p, c, &s->indexes[i], &n, &r);
        if (sc < 0) return sc;
        if (sc > top) {
            top = sc;
            *best = (int)i;
            *neq = n;
            *range = r;
        }
    }
    return 0;
}

/* May this plan read through a secondary index of its store? A workspace
 * as it is now (not AS OF, whose schema may differ), or a `.pvdb` (whose
 * schema lists exactly the indexes baked into it). */
static int sec_allowed(const pv_plan *p)
{
    return !p->no_sec && ((p->db_kind == PV_DB_WORKSPACE && !p->as_of) || p->db_kind == PV_DB_PVDB);
}

int pv_access_choose(pv_arena *arena, const pv_schema *s, pv_plan *p)
{
    conjuncts c;
    uint8_t *used;
    int rc;
    memset(&c, 0, sizeof c);
    p->access = PV_ACCESS_SCAN;
    p->index = PV_INDEX_NONE;
    p->npk = 0;
    p->has_rest = 0;
    p->where_rest = NULL;
    p->has_sec = 0;
    if (!p->has_from || !p->where || !s->npk) return 0;
    if (collect(arena, p->where, &c)) return nomem();
    if (!(used = pv_arena_alloc(arena, c.n))) return nomem();
    memset(used, 0, c.n);
    if ((rc = choose_keys(arena, s, p, &c, used))) return rc;
    /* a workspace key lookup reads the workspace as it is now: not for AS OF */
    if (p->npk == s->npk && p->db_kind == PV_DB_WORKSPACE && !p->as_of) {
        p->access = PV_ACCESS_LOOKUP;
        return 0;
    }
    if ((rc = choose_bounds(arena, s, p, &c))) return rc;
    /* no key prefix pinned: a secondary index with a pinned prefix, or a
     * bound when the key has none (docs/SQL.md, "Access paths") */
    if (!p->npk && sec_allowed(p)) {
        int best, range = 0;
        uint32_t neq = 0;
        if ((rc = choose_sec(arena, s, p, &c, &best, &neq, &range))) return rc;
        if (best >= 0 && (neq || (!p->upper && !p->lower))) {
            p->access = PV_ACCESS_LOOKUP;
            p->upper = p->lower = NULL;
            p->upper_src = p->lower_src = NULL;
            return use_sec(arena, s, p, &c, (uint32_t)best, neq, range);
        }
    }
    /* a store with a key index: look up the pinned key prefixes, else read
     * the range between the bounds */
    if (p->npk) p->index = PV_INDEX_KEYS;
    else if (p->upper || p->lower) p->index = PV_INDEX_RANGE;
    return choose_rest(arena, s, p, &c, used);
}

/* ---- running a lookup -------------------------------------------------------------- */

struct pv_lookup {
    const pv_plan *plan;
    pv_db *db;
    const pv_schema *schema;
    pv_arena arena;      /* keys and bounds of the current run (reset per run) */
    pv_value *keys;      /* nkeys * npk, sorted, distinct */
    pv_value key1;       /* keys of a one-column, one-value key (no arena) */
    size_t nkeys, next;
    pv_vec *vecs;        /* per slot */
    uint8_t **nulls;
    void **data;         /* per slot: `cap` int64 / double / pv_str */
    uint32_t cap;        /* rows of the vectors: PV_BATCH_ROWS, or 1 (point) */
    /* through a key index (pv_index_open) */
    const pv_source *src;
    const pv_source_index_ops *ix;
    pv_scan *scan;       /* rows of the current key or range */
    int range;           /* INDEX_RANGE: one range lo..hi */
    int point;           /* INDEX_KEYS on the whole key: pv_source_get_row */
    int point1;          /* ... of one column and one value (`key = ?`): point_key */
    int exact;           /* the key values enforce their conjuncts exactly */
    pv_value lo, hi;
    uint32_t nlo, nhi;
    pv_value *rowv;      /* point: one row of the slots */
    pv_buf buf;          /* point: its decoded strings */
    struct pvdb_rowcache *rowcache; /* point: chunks kept opened between keys */
    pv_venc *penc;       /* point: per slot, plain form and whether its text
                            is NUL-terminated (read in place by pv_column_text) */
    /* through a secondary index (plan->has_sec) of a workspace */
    uint32_t sec;        /* its number in the run's schema */
    const pv_value **rows; /* the rows found (malloc'ed), in key order */
    size_t nrows, rpos;
    /* ... or of a `.pvdb`: row numbers (malloc'ed, ascending), runs of
     * consecutive rows read through `scan` (scan_rows), the others each
     * with pvdb_source_read_row, its strings copied into `batch`; or, when
     * the estimate chose it at this run, `full`: the whole table by `scan` */
    uint64_t *rownums;
    pv_arena batch;
    int full;
};

/* The key value that `v` must equal in a key column of `type` for the
 * comparison `col = v` to hold (SQLite affinity), or 0 when no stored
 * value can equal it. */
static int key_value(pv_arena *a, int type, const pv_value *v, pv_value *out)
{
    pv_value n;
    int pure = 0;
    if (v->type == PV_INTEGER && type == PV_INTEGER) { /* (the usual point query) */
        *out = *v;
        return 1;
    }
    if (v->type == PV_NULL) return 0;
    if (type == PV_TEXT) {
        pv_str s;
        if (v->type == PV_BLOB) return 0;
        if (v->type == PV_TEXT) {
            *out = *v;
            return 1;
        }
        if (pv_value_text(a, v, &s)) return -1;
        *out = pv_v_text(s.p, s.n);
        return 1;
    }
    if (v->type == PV_BLOB) return 0;
    if (v->type == PV_TEXT) {
        n = pv_text_numeric(v->u.s.p, v->u.s.n, &pure);
        if (!pure) return 0;
    } else {
        n = pv_value_numeric(v);
    }
    if (type == PV_REAL) {
        *out = pv_v_real(n.type == PV_REAL ? n.u.f : (double)n.u.i);
        return 1;
    }
    if (n.type == PV_REAL) {
        if (!(n.u.f >= -9223372036854775808.0 && n.u.f < 9223372036854775808.0) ||
            (double)(int64_t)n.u.f != n.u.f)
            return 0;
        n = pv_v_int((int64_t)n.u.f);
    }
    *out = pv_v_int(n.u.i);
    return 1;
}

/* A range bound on a key column of `type` for the comparison of the
 * column with `v`, converted as the comparison would convert it: 1 with
 * *out, 0 when no row can satisfy the comparison (v is NULL). The bound
 * may let through rows the comparison rejects (the filter still runs), never
 * the reverse. */
static int range_value(pv_arena *a, int type, const pv_value *v, pv_value *out)
{
    int pure = 0, rc;
    if (v->type == PV_NULL) return 0;
    *out = *v;
    if (type == PV_TEXT) {
        pv_str s;
        /* numbers get TEXT affinity; text and blobs compare as they are */
        if (v->type != PV_INTEGER && v->type != PV_REAL && v->type != PV_BOOLEAN) return 1;
        if ((rc = pv_value_text(a, v, &s))) return rc;
        *out = pv_v_text(s.p, s.n);
        return 1;
    }
    if (type == PV_BLOB) return 1;
    /* numeric affinity: text that is a number compares as the number;
     * other text and blobs sort after every number, as they compare */
    if (v->type == PV_BOOLEAN) *out = pv_v_int(v->u.i);
    if (v->type == PV_TEXT) {
        pv_value n = pv_text_numeric(v->u.s.p, v->u.s.n, &pure);
        if (pure) *out = n;
    }
    return 1;
}

static int key_cmp(const void *ctx, const void *a, const void *b)
{
    uint32_t npk = *(const uint32_t *)ctx, i;
    const pv_value *x = a, *y = b;
    for (i = 0; i < npk; i++) {
        int c = pv_value_cmp(&x[i], &y[i]);
        if (c) return c;
    }
    return 0;
}

/* The key of `key = e` (a key column of `type`), converted: l->keys is
 * then it alone, or none when no stored key can equal it. */
static int one_key(pv_lookup *l, pv_eval *cx, const pv_expr *e, int type)
{
    pv_value v;
    int rc;
    if (e->kind == PV_X_PARAM && cx->params[e->param].type == PV_INTEGER && type == PV_INTEGER) {
        l->key1 = cx->params[e->param]; /* (the usual point query: as key_value) */
        l->keys = &l->key1;
        l->nkeys = 1;
        return 0;
    }
    if ((rc = pv_eval_expr(cx, e, &v))) return rc;
    if ((rc = key_value(&l->arena, type, &v, &l->key1)) <= 0) return rc;
    if ((l->key1.type == PV_TEXT || l->key1.type == PV_BLOB) && (rc = pv_value_copy(&l->arena, &l->key1, &l->key1)))
        return rc;
    l->keys = &l->key1;
    l->nkeys = 1;
    return 0;
}

/* Every combination of the values of npk columns (vals[i] lists column
 * i's, of type types[i]), converted, sorted, distinct: l->keys. */
static int make_combos(pv_lookup *l, pv_eval *cx, uint32_t npk, pv_expr ***vals, const uint32_t *nvals,
                       const int *types)
{
    const pv_plan *p = l->plan;
    uint32_t i;
    pv_value **lists;
    uint32_t *nlist, *pos;
    size_t total = 1, k, out = 0;
    void **ptrs, **tmp;
    pv_value *keys;
    int rc;
    if (npk == 1 && nvals[0] == 1) return one_key(l, cx, vals[0][0], types[0]);
    lists = pv_arena_alloc(&l->arena, npk * sizeof *lists);
    nlist = pv_arena_alloc(&l->arena, npk * sizeof *nlist);
    if (!lists || !nlist || !(pos = pv_arena_alloc(&l->arena, npk * sizeof *pos)))
        return pv_err(PV_ENOMEM, "out of memory looking up keys");
    for (i = 0; i < npk; i++) {
        uint32_t j;
        nlist[i] = 0;
        if (!(lists[i] = pv_arena_alloc(&l->arena, nvals[i] * sizeof **lists)))
            return pv_err(PV_ENOMEM, "out of memory looking up keys");
        for (j = 0; j < nvals[i]; j++) {
            pv_value v, kv;
            if ((rc = pv_eval_expr(cx, vals[i][j], &v))) return rc;
            if ((rc = key_value(&l->arena, types[i], &v, &kv)) < 0) return rc;
            if (rc && (rc = pv_value_copy(&l->arena, &kv, &lists[i][nlist[i]++]))) return rc;
        }
        if (nlist[i] == 0) return 0; /* no key can match */
        if (total > ((size_t)1 << 24) / nlist[i])
            return pv_err(PV_ELIMIT, "too many key combinations to look up in table %s", p->table);
        total *= nlist[i];
        pos[i] = 0;
    }
    if (total == 1) { /* one key (a point query): nothing to sort */
        if (!(l->keys = pv_arena_alloc(&l->arena, npk * sizeof *l->keys)))
            return pv_err(PV_ENOMEM, "out of memory looking up keys");
        for (i = 0; i < npk; i++) l->keys[i] = lists[i][0];
        l->nkeys = 1;
        return 0;
    }
    keys = pv_arena_alloc(&l->arena, total * npk * sizeof *keys);
    ptrs = malloc(total * sizeof *ptrs);
    tmp = malloc(total * sizeof *tmp);
    if (!keys || !ptrs || !tmp) {
        free(ptrs);
        free(tmp);
        return pv_err(PV_ENOMEM, "out of memory looking up keys");
    }
    for (k = 0; k < total; k++) {
        for (i = 0; i < npk; i++) keys[k * npk + i] = lists[i][pos[i]];
        ptrs[k] = &keys[k * npk];
        for (i = npk; i-- > 0;) { /* odometer */
            if (++pos[i] < nlist[i]) break;
            pos[i] = 0;
        }
    }
    pv_msort(ptrs, total, tmp, key_cmp, &npk);
    l->keys = pv_arena_alloc(&l->arena, total * npk * sizeof *l->keys);
    for (k = 0; l->keys && k < total; k++) {
        if (out && key_cmp(&npk, ptrs[k], &l->keys[(out - 1) * npk]) == 0) continue;
        memcpy(&l->keys[out * npk], ptrs[k], npk * sizeof *l->keys);
        out++;
    }
    free(ptrs);
    free(tmp);
    if (!l->keys) return pv_err(PV_ENOMEM, "out of memory looking up keys");
    l->nkeys = out;
    return 0;
}

/* The primary key values of LOOKUP / INDEX_KEYS. */
static int make_keys(pv_lookup *l, pv_eval *cx)
{
    const pv_plan *p = l->plan;
    return make_combos(l, cx, p->npk, p->kvals, p->nkvals, p->pk_type);
}

/* The per-slot vectors, `cap` rows each (allocated once per run object). */
static int alloc_vecs(pv_lookup *l, uint32_t cap)
{
    const pv_plan *p = l->plan;
    uint32_t s, n = p->nslots ? p->nslots : 1;
    l->cap = cap;
    l->vecs = calloc(n, sizeof *l->vecs);
    l->nulls = calloc(n, sizeof *l->nulls);
    l->data = calloc(n, sizeof *l->data);
    l->rowv = calloc(n, sizeof *l->rowv);
    if (!l->vecs || !l->nulls || !l->data || !l->rowv)
        return pv_err(PV_ENOMEM, "out of memory looking up keys");
    for (s = 0; s < p->nslots; s++) {
        l->nulls[s] = malloc(cap);
        l->data[s] = malloc(cap * sizeof(pv_str));
        if (!l->nulls[s] || !l->data[s]) return pv_err(PV_ENOMEM, "out of memory looking up keys");
    }
    return 0;
}

/* ---- through a secondary index --------------------------------------------------- */

static inline void put(pv_lookup *l, uint32_t s, int type, uint32_t r, const pv_value *v);
static void slot_vecs(pv_lookup *l);
static void point_vecs(pv_lookup *l);
static void set_vecs(pv_lookup *l, uint32_t r, pv_batch *out);

/* The plan's index in the run's schema (found by name: a DROP INDEX or a
 * CREATE INDEX since prepare moves it). */
static int sec_resolve(pv_lookup *l, const pv_source *src)
{
    const pv_plan *p = l->plan;
    const pv_schema *s = src->schema;
    const pv_expr *b = p->sec_lower ? p->sec_lower : p->sec_upper;
    int i = pv_schema_find_index(s, p->sec_name, strlen(p->sec_name));
    uint32_t k;
    if (i >= 0 && s->indexes[i].ncols >= p->nsec + (b ? 1u : 0u)) {
        for (k = 0; k < p->nsec && s->indexes[i].cols[k] == p->sec_col[k]; k++) {}
        if (k == p->nsec && (!b || s->indexes[i].cols[k] == p->slot_col[b->args[0]->slot])) {
            l->sec = (uint32_t)i;
            return 0;
        }
    }
    return pv_err(PV_EMISUSE, "index %s of table %s changed since the statement was prepared: prepare it again",
                  p->sec_name, p->table);
}

/* A bound `col op c` of the index's range column converted as the
 * comparison would: 1 with *out, 0 when no row can satisfy it. */
static int sec_bound(pv_lookup *l, pv_eval *cx, int type, const pv_expr *bound, pv_value *out)
{
    pv_value v, k;
    int rc;
    if ((rc = pv_eval_expr(cx, bound->args[1], &v))) return rc;
    if ((rc = range_value(&l->arena, type, &v, &k)) <= 0) return rc;
    if ((rc = pv_value_copy(&l->arena, &k, out))) return rc;
    return 1;
}

static int cmp_rownum(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

uint32_t pv_sec_row_cost = PV_SEC_ROW_COST_DEFAULT;

/* Is a full scan of nrows rows cheaper than reading est rows through a
 * baked index? */
static int scan_is_cheaper(uint64_t est, uint64_t nrows)
{
    return pv_sec_row_cost && est > nrows / pv_sec_row_cost;
}

/* The rows the baked index lists for the keys and bounds of l: *est. */
static int sec_count_pvdb(pv_lookup *l, const pv_source *src, int range, const pv_value *lo,
                          const pv_value *hi, uint64_t *est)
{
    const pv_plan *p = l->plan;
    size_t k;
    int rc;
    *est = 0;
    for (k = 0; k < l->nkeys; k++) {
        uint64_t keys, n;
        if ((rc = pvdb_source_secidx_count(src, l->sec, p->nsec ? &l->keys[k * p->nsec] : NULL, p->nsec, range,
                                           p->sec_lower ? lo : NULL, p->sec_upper ? hi : NULL, &keys, &n)))
            return rc;
        *est += n;
    }
    return 0;
}

/* sec_start on a `.pvdb`: the baked index gives row numbers, unless the
 * count decided at this run (values known only now) favours the scan. */
static int sec_start_pvdb(pv_lookup *l, const pv_source *src, int range, const pv_value *lo,
                          const pv_value *hi)
{
    const pv_plan *p = l->plan;
    size_t k, cap = 0;
    int rc;
    if (p->sec_est < 0) {
        uint64_t est;
        if ((rc = sec_count_pvdb(l, src, range, lo, hi, &est))) return rc;
        if (scan_is_cheaper(est, src->nrows)) {
            l->full = 1;
            return src->ops->scan_open(src, p->slot_col, p->nslots, &l->scan);
        }
    }
    for (k = 0; k < l->nkeys; k++) {
        const pv_value *key = p->nsec ? &l->keys[k * p->nsec] : NULL;
        uint64_t *found = NULL;
        size_t n = 0;
        if ((rc = pvdb_source_secidx_find(src, l->sec, key, p->nsec, range, p->sec_lower ? lo : NULL,
                                          p->sec_upper ? hi : NULL, &found, &n)))
            return rc;
        if (l->nrows + n > cap) {
            uint64_t *g;
            cap = (l->nrows + n) * 2;
            if (!(g = realloc(l->rownums, cap * sizeof *g))) {
                free(found);
                return pv_err(PV_ENOMEM, "out of memory looking up index %s", p->sec_name);
            }
            l->rownums = g;
        }
        if (n) memcpy(l->rownums + l->nrows, found, n * sizeof *found);
        l->nrows += n;
        free(found);
    }
    if (l->nkeys > 1 && l->nrows > 1) qsort(l->rownums, l->nrows, sizeof *l->rownums, cmp_rownum);
    return 0;
}

/* The index of this run (l->sec), its key combinations (l->keys) and
 * bounds (*lo, *hi when set): 1, or 0 when no row can match, or <0. */
static int sec_keys(pv_lookup *l, const pv_source *src, pv_eval *cx, pv_value *lo, pv_value *hi)
{
    const pv_plan *p = l->plan;
    int rc;
    l->nkeys = 0;
    if ((rc = sec_resolve(l, src))) return rc;
    if (p->nsec && (rc = make_combos(l, cx, p->nsec, p->svals, p->nsvals, p->sec_type))) return rc;
    if (!p->nsec) l->nkeys = 1;
    if (p->sec_lower || p->sec_upper) {
        int type = src->schema->cols[src->schema->indexes[l->sec].cols[p->nsec]].type;
        if (p->sec_lower && (rc = sec_bound(l, cx, type, p->sec_lower, lo)) <= 0) return rc;
        if (p->sec_upper && (rc = sec_bound(l, cx, type, p->sec_upper, hi)) <= 0) return rc;
    }
    return l->nkeys > 0;
}

/* Find the rows of this run: each combination of the pinned columns'
 * values, within the bounds, through the workspace's index. */
static int sec_start(pv_lookup *l, const pv_source *src, pv_eval *cx)
{
    const pv_plan *p = l->plan;
    const pv_index_def *x;
    pv_value lo, hi;
    int range = p->sec_lower || p->sec_upper, rc;
    size_t k, cap = 0;
    free(l->rows);
    free(l->rownums);
    l->rows = NULL;
    l->rownums = NULL;
    l->nrows = l->rpos = 0;
    l->full = 0;
    l->src = src;
    if ((rc = sec_keys(l, src, cx, &lo, &hi)) <= 0) return rc;
    x = &src->schema->indexes[l->sec];
    if (pvdb_source_is_pvdb(src)) return sec_start_pvdb(l, src, range, &lo, &hi);
    for (k = 0; k < l->nkeys; k++) {
        const pv_value *key = p->nsec ? &l->keys[k * p->nsec] : NULL, **found = NULL;
        size_t n = 0;
        rc = !range && p->nsec == x->ncols
                 ? pv_ws_source_index_lookup(src, l->sec, key, &found, &n)
                 : pv_ws_source_index_range(src, l->sec, key, p->nsec, range, p->sec_lower ? &lo : NULL,
                                            p->sec_upper ? &hi : NULL, &found, &n);
        if (rc) return rc;
        if (l->nrows + n > cap) {
            const pv_value **g;
            cap = (l->nrows + n) * 2;
            if (!(g = realloc(l->rows, cap * sizeof *g))) {
                free(found);
                return pv_err(PV_ENOMEM, "out of memory looking up index %s", p->sec_name);
            }
            l->rows = g;
        }
        if (n) memcpy(l->rows + l->nrows, found, n * sizeof *found);
        l->nrows += n;
        free(found);
    }
    /* each combination's rows come in key order; several are merged so */
    if (l->nkeys > 1 && l->nrows > 1) qsort_r(l->rows, l->nrows, sizeof *l->rows, pv_rows_pk_cmp, (void *)src->schema);
    return 0;
}

/* A run of at least this many consecutive row numbers is read through the
 * block scan (scan_rows: each column's block decoded once) rather than row
 * by row. */
#define SEC_RUN_MIN 32

/* Consecutive row numbers from l->rpos, counted up to `cap`. */
static size_t run_at(const pv_lookup *l, size_t cap)
{
    size_t n = 1;
    while (n < cap && l->rpos + n < l->nrows && l->rownums[l->rpos + n] == l->rownums[l->rpos] + n) n++;
    return n;
}

/* The next rows of a `.pvdb` index lookup: a long run of consecutive rows
 * through the block scan, else rows read value by value from the mapping
 * (strings copied: the read's buffer is reused) up to the next long run. */
static int sec_next_pvdb(pv_lookup *l, pv_batch *out)
{
    const pv_plan *p = l->plan;
    uint32_t r = 0, s;
    int rc;
    for (;;) {
        size_t run;
        if (l->scan) {
            if ((rc = l->src->ops->scan_next(l->scan, out)) != 0) return rc;
            l->src->ops->scan_close(l->scan);
            l->scan = NULL;
            if (l->full) return 0;
        }
        if (l->rpos >= l->nrows || (run = run_at(l, SIZE_MAX)) < SEC_RUN_MIN) break;
        {
            const pv_source_index_ops *ix = pv_source_index(l->src);
            uint64_t first = l->rownums[l->rpos];
            l->rpos += run;
            if ((rc = ix->scan_rows(l->src, p->slot_col, p->nslots, first, first + run, &l->scan))) return rc;
        }
    }
    pv_arena_reset(&l->batch);
    while (r < PV_BATCH_ROWS && l->rpos < l->nrows) {
        if (run_at(l, SEC_RUN_MIN) >= SEC_RUN_MIN) break; /* the next call scans it */
        if ((rc = pvdb_source_read_row(l->src, l->rownums[l->rpos++], p->slot_col, p->nslots, l->rowv, &l->buf)))
            return rc;
        for (s = 0; s < p->nslots; s++) {
            pv_value v = l->rowv[s];
            if ((v.type == PV_TEXT || v.type == PV_BLOB) && (rc = pv_value_copy(&l->batch, &l->rowv[s], &v))) return rc;
            put(l, s, l->schema->cols[p->slot_col[s]].type, r, &v);
        }
        r++;
    }
    set_vecs(l, r, out);
    return (int)r;
}

static int sec_next(pv_lookup *l, pv_batch *out)
{
    const pv_plan *p = l->plan;
    uint32_t r = 0, s;
    if (l->rownums || (l->src && pvdb_source_is_pvdb(l->src))) return sec_next_pvdb(l, out);
    while (r < PV_BATCH_ROWS && l->rpos < l->nrows) {
        const pv_value *row = l->rows[l->rpos++];
        for (s = 0; s < p->nslots; s++)
            put(l, s, l->schema->cols[p->slot_col[s]].type, r, &row[p->slot_col[s]]);
        r++;
    }
    set_vecs(l, r, out);
    return (int)r;
}

/* Does e hold a parameter (a value known only at run)? */
static int has_param(const pv_expr *e)
{
    uint32_t i;
    if (e->kind == PV_X_PARAM) return 1;
    for (i = 0; i < e->nargs; i++)
        if (has_param(e->args[i])) return 1;
    return 0;
}

/* Are all the values the plan pushes into its secondary index fixed at
 * prepare? */
static int sec_values_fixed(const pv_plan *p)
{
    uint32_t i, j;
    for (i = 0; i < p->nsec; i++)
        for (j = 0; j < p->nsvals[i]; j++)
            if (has_param(p->svals[i][j])) return 0;
    return !(p->sec_lower && has_param(p->sec_lower->args[1])) && !(p->sec_upper && has_param(p->sec_upper->args[1]));
}

int pv_access_estimate(pv_arena *arena, const pv_source *src, pv_plan *p)
{
    pv_lookup *l;
    pv_eval cx;
    pv_value lo, hi;
    uint64_t est = 0;
    int rc;
    p->sec_est = -1;
    if (!p->has_sec || p->access != PV_ACCESS_LOOKUP || !pvdb_source_is_pvdb(src) || !sec_values_fixed(p)) return 0;
    if (!(l = calloc(1, sizeof *l))) return pv_err(PV_ENOMEM, "out of memory choosing an access path");
    l->plan = p;
    l->schema = src->schema;
    memset(&cx, 0, sizeof cx);
    cx.arena = &l->arena;
    rc = sec_keys(l, src, &cx, &lo, &hi);
    if (rc > 0) rc = sec_count_pvdb(l, src, p->sec_lower || p->sec_upper, &lo, &hi, &est);
    pv_lookup_close(l);
    if (rc < 0) return rc;
    p->sec_est = (int64_t)est;
    if (!scan_is_cheaper(est, src->nrows)) return 0;
    /* the scan is cheaper: plan again without secondary indexes */
    p->sec_skipped = p->sec_name;
    p->sec_skipped_rows = est;
    p->no_sec = 1;
    return pv_access_choose(arena, src->schema, p);
}

int pv_lookup_open(const pv_plan *p, pv_db *db, const pv_source *src, pv_eval *cx, pv_lookup **out)
{
    pv_lookup *l = calloc(1, sizeof *l);
    int rc;
    *out = NULL;
    if (!l) return pv_err(PV_ENOMEM, "out of memory looking up keys");
    l->plan = p;
    l->db = db;
    l->schema = src->schema;
    if ((rc = alloc_vecs(l, PV_BATCH_ROWS)) || (rc = p->has_sec ? sec_start(l, src, cx) : make_keys(l, cx))) {
        pv_lookup_close(l);
        return rc;
    }
    *out = l;
    return 0;
}

/* Store value v of a column of type `type` at row r of slot s. */
static inline void put(pv_lookup *l, uint32_t s, int type, uint32_t r, const pv_value *v)
{
    l->nulls[s][r] = v->type == PV_NULL;
    if (v->type == PV_NULL) return;
    switch (type) {
    case PV_REAL:
        ((double *)l->data[s])[r] = v->type == PV_REAL ? v->u.f : (double)v->u.i;
        break;
    case PV_TEXT:
    case PV_BLOB: ((pv_str *)l->data[s])[r] = v->u.s; break;
    default: ((int64_t *)l->data[s])[r] = v->type == PV_REAL ? pv_real_to_int64(v->u.f) : v->u.i; break;
    }
}

/* The constant of a bound `col op c` as a key_range bound: *n = 1, or
 * l->nkeys = 0 when no row can satisfy it. */
static int range_bound(pv_lookup *l, pv_eval *cx, int type, const pv_expr *bound, pv_value *out,
                       uint32_t *n)
{
    pv_value v, k;
    int rc;
    if ((rc = pv_eval_expr(cx, bound->args[1], &v))) return rc;
    if ((rc = range_value(&l->arena, type, &v, &k)) < 0) return rc;
    if (rc == 0) {
        l->nkeys = 0;
        return 0;
    }
    *n = 1;
    /* the range enforces the comparison exactly when no conversion was
     * needed: numbers against a numeric key, text against a TEXT key */
    if (type == PV_TEXT ? v.type != PV_TEXT : (v.type != PV_INTEGER && v.type != PV_REAL))
        l->exact = 0;
    return pv_value_copy(&l->arena, &k, out);
}

/* Evaluate the keys or bounds of a run (after the vectors exist). */
static int index_start(pv_lookup *l, pv_eval *cx)
{
    const pv_plan *p = l->plan;
    int rc;
    l->next = 0;
    l->nkeys = 0;
    l->nlo = l->nhi = 0;
    l->exact = 1;
    if (!l->range) return make_keys(l, cx);
    {
        int type = l->src->schema->cols[l->src->schema->pk[0]].type;
        l->nkeys = 1;
        if (p->lower && (rc = range_bound(l, cx, type, p->lower, &l->lo, &l->nlo))) return rc;
        if (p->upper && (rc = range_bound(l, cx, type, p->upper, &l->hi, &l->nhi))) return rc;
    }
    return 0;
}

int pv_index_open(const pv_plan *p, const pv_source *src, const pv_source_index_ops *ix,
                  pv_eval *cx, pv_lookup **out)
{
    pv_lookup *l = calloc(1, sizeof *l);
    int rc = 0;
    *out = NULL;
    if (!l) return pv_err(PV_ENOMEM, "out of memory looking up keys");
    l->plan = p;
    l->schema = src->schema;
    l->src = src;
    l->ix = ix;
    l->range = p->index == PV_INDEX_RANGE;
    l->point = p->index == PV_INDEX_KEYS && p->npk == src->schema->npk;
    l->point1 = l->point && p->npk == 1 && p->nkvals[0] == 1;
    /* a point lookup hands out one row per batch (its strings live in
     * l->buf until the next key); vectors of one row are enough */
    if (l->point && (rc = alloc_vecs(l, 1))) goto fail;
    if (l->point && !(l->penc = calloc(p->nslots ? p->nslots : 1, sizeof *l->penc))) {
        rc = pv_err(PV_ENOMEM, "out of memory looking up keys");
        goto fail;
    }
    /* a point lookup's vectors are set once, over the row it reads into:
     * rowv never moves, and every run's table has the slots' types
     * (exec_run.c check_shape) */
    if (l->point) point_vecs(l);
    /* (its strings live until the next row: small dictionaries' come
     * NUL-terminated out of their cached tables, not copied by pv_column_text) */
    if (l->point && pvdb_source_is_pvdb(src) && (rc = pv_rowcache_hold(&l->rowcache))) goto fail;
    if ((rc = index_start(l, cx))) goto fail;
    *out = l;
    return 0;
fail:
    pv_lookup_close(l);
    return rc;
}

int pv_lookup_restart(pv_lookup *l, const pv_source *src, pv_eval *cx)
{
    if (l->point1) { /* (what index_start does for it, without its calls) */
        const pv_plan *p = l->plan;
        if (l->arena.head) pv_arena_reset(&l->arena); /* (a TEXT key's copy) */
        l->schema = src->schema;
        l->next = l->nkeys = 0;
        return one_key(l, cx, p->kvals[0][0], p->pk_type[0]);
    }
    if (l->scan) l->src->ops->scan_close(l->scan);
    l->scan = NULL;
    pv_arena_reset(&l->arena);
    l->schema = src->schema;
    if (l->plan->has_sec) return sec_start(l, src, cx);
    if (!l->ix) {
        l->next = 0;
        l->nkeys = 0;
        return make_keys(l, cx);
    }
    return index_start(l, cx);
}

int pv_lookup_exact(const pv_lookup *l)
{
    return l->ix && l->exact;
}

void pv_lookup_finish(pv_lookup *l)
{
    if (l && l->scan) l->src->ops->scan_close(l->scan);
    if (l) l->scan = NULL;
}

/* Each slot's vector: its column's type, over the slot arrays. */
static void slot_vecs(pv_lookup *l)
{
    const pv_plan *p = l->plan;
    uint32_t s;
    for (s = 0; s < p->nslots; s++) {
        pv_vec *v = &l->vecs[s];
        v->type = l->schema->cols[p->slot_col[s]].type;
        v->nulls = l->nulls[s];
        switch (v->type) {
        case PV_REAL: v->u.f = l->data[s]; break;
        case PV_TEXT:
        case PV_BLOB: v->u.s = l->data[s]; break;
        default: v->u.i = l->data[s]; break;
        }
    }
}

/* The vectors of a batch of `r` rows from the slot arrays. */
static void set_vecs(pv_lookup *l, uint32_t r, pv_batch *out)
{
    const pv_plan *p = l->plan;
    slot_vecs(l);
    out->nrows = r;
    out->ncols = p->nslots;
    out->cols = l->vecs;
    /* plain vectors: no encoded form (a batch filled by a scan before
     * would otherwise lend its dictionaries to these rows) */
    out->enc = NULL;
    out->enc_cols = NULL;
    out->want_enc = NULL;
}

/* A point lookup's vectors: one row each, the value of slot s being
 * rowv[s]'s (a vector of one row needs no stride), so that the row is read
 * into its vectors without a copy. */
static void point_vecs(pv_lookup *l)
{
    uint32_t s;
    for (s = 0; s < l->plan->nslots; s++) {
        pv_vec *v = &l->vecs[s];
        v->type = l->schema->cols[l->plan->slot_col[s]].type;
        v->nulls = l->nulls[s];
        switch (v->type) {
        case PV_REAL: v->u.f = &l->rowv[s].u.f; break;
        case PV_TEXT:
        case PV_BLOB: v->u.s = &l->rowv[s].u.s; break;
        default: v->u.i = &l->rowv[s].u.i; break;
        }
    }
}

/* Value v of a point lookup's row made the one row of its vector, of
 * column type `type`: its NULL byte, a number converted in place when the
 * store gave the other kind, and whether its text is NUL-terminated. */
static inline void point_cell(pv_value *v, int type, uint8_t *null, pv_venc *e)
{
    *null = v->type == PV_NULL;
    e->term = 0;
    switch (v->type) {
    case PV_NULL: break;
    case PV_TEXT:
    case PV_BLOB: /* pv_source_get_row: a readable byte follows every string */
        e->term = v->u.s.p[v->u.s.n] == 0;
        break;
    case PV_REAL:
        if (type != PV_REAL) v->u.i = pv_real_to_int64(v->u.f);
        break;
    default:
        if (type == PV_REAL) v->u.f = (double)v->u.i;
        break;
    }
}

/* A point lookup through the key index: the row of key k as a batch of
 * one row (1), or 0 when no row has it; read with pv_source_get_row (one
 * value per column, straight from the mapping; no scan, no allocation
 * once l->buf has grown) into the one-row vectors (point_vecs). Its text values that are followed by a NUL byte
 * (decoded ones always are) are marked `term`, so pv_column_text hands
 * them out without a copy. */
static int point_read(pv_lookup *l, const pv_value *k, pv_batch *out)
{
    const pv_plan *p = l->plan;
    /* (in locals: the stores to the cells may alias l for the compiler) */
    pv_value *const rowv = l->rowv;
    const pv_vec *const vecs = l->vecs;
    uint8_t *const *const nulls = l->nulls;
    pv_venc *const penc = l->penc;
    const uint32_t nslots = p->nslots;
    uint32_t s;
    int rc = pv_source_get_row(l->src, k, p->npk, p->slot_col, nslots, rowv, &l->buf, &l->rowcache);
    if (rc <= 0) return rc;
    for (s = 0; s < nslots; s++) point_cell(&rowv[s], vecs[s].type, nulls[s], &penc[s]);
    /* (the vectors were set up for the table at open or restart: the
     * same arrays for every row, so a caller's view of them holds) */
    out->nrows = 1;
    out->ncols = p->nslots;
    out->cols = l->vecs;
    out->want_enc = NULL;
    out->enc = l->penc; /* all PV_VEC_PLAIN: only `term` says something */
    out->enc_cols = l->vecs;
    return 1;
}

/* Point lookups: one batch per key of the run that a row has. */
static int point_next(pv_lookup *l, pv_batch *out)
{
    while (l->next < l->nkeys) {
        int rc = point_read(l, &l->keys[l->next++ * l->plan->npk], out);
        if (rc) return rc;
    }
    return 0;
}

int pv_lookup_point(pv_lookup *l, const pv_value *key, pv_batch *out)
{
    l->next = l->nkeys = 0; /* (this key is the run's only one) */
    return point_read(l, key, out);
}

/* Next batch through the key index: the current scan, else the next key's. */
static int index_next(pv_lookup *l, pv_batch *out)
{
    const pv_plan *p = l->plan;
    int rc;
    for (;;) {
        uint64_t first, end;
        if (l->scan) {
            if ((rc = l->src->ops->scan_next(l->scan, out)) != 0) return rc;
            l->src->ops->scan_close(l->scan);
            l->scan = NULL;
        }
        if (l->next >= l->nkeys) return 0;
        if (l->range) {
            rc = l->ix->key_range(l->src, &l->lo, l->nlo, &l->hi, l->nhi, &first, &end);
        } else {
            const pv_value *k = &l->keys[l->next * p->npk];
            rc = l->ix->key_range(l->src, k, p->npk, k, p->npk, &first, &end);
        }
        l->next++;
        if (rc) return rc;
        if (first < end && (rc = l->ix->scan_rows(l->src, p->slot_col, p->nslots, first, end, &l->scan)))
            return rc;
    }
}

int pv_lookup_next(pv_lookup *l, pv_batch *out)
{
    const pv_plan *p = l->plan;
    uint32_t r = 0, s;
    if (p->has_sec) return sec_next(l, out);
    if (l->point) return point_next(l, out);
    if (l->ix) return index_next(l, out);
    while (r < PV_BATCH_ROWS && l->next < l->nkeys) {
        const pv_value *row;
        int rc = pv_db_lookup(l->db, p->table, &l->keys[l->next * p->npk], &row);
        l->next++;
        if (rc < 0) return rc;
        if (rc == 0) continue;
        for (s = 0; s < p->nslots; s++)
            put(l, s, l->schema->cols[p->slot_col[s]].type, r, &row[p->slot_col[s]]);
        r++;
    }
    set_vecs(l, r, out);
    return (int)r;
}

void pv_lookup_close(pv_lookup *l)
{
    uint32_t s;
    if (!l) return;
    if (l->scan) l->src->ops->scan_close(l->scan);
    for (s = 0; l->nulls && l->data && s < l->plan->nslots; s++) {
        free(l->nulls[s]);
        free(l->data[s]);
    }
    free(l->nulls);
    free(l->data);
    free(l->vecs);
    free(l->rowv);
    free(l->penc);
    pv_rowcache_free(l->rowcache);
    free(l->rows);
    free(l->rownums);
    pv_arena_free(&l->batch);
    pv_buf_free(&l->buf);
    pv_arena_free(&l->arena);
    free(l);
}
