/*
 * exec_plan.c: bind a parsed SELECT to its table and build the plan:
 * resolve names to scan slots, expand *, find aggregate calls, resolve
 * GROUP BY / ORDER BY ordinals and output aliases, name the result columns.
 */
#include <string.h>

#include "exec.h"
#include "sql_lex.h"

typedef struct binder {
    pv_arena *arena;
    const char *sql;
    const pv_schema *schema; /* NULL for SELECT without FROM, and constants */
    pv_str qual;             /* what a column qualifier must be: alias or table */
    pv_plan *plan;           /* NULL for constants */
    uint32_t slotcap, aggcap;
    int allow_agg;
    int in_agg;
    int alias_ok;            /* unknown bare names may be output aliases */
    int row_mode;            /* pv_bind_row: slots are schema indexes */
    const pv_select *sel;
    uint32_t *res_first;     /* per result column: its first output index */
} binder;

static int bind_expr(binder *b, pv_expr **pe);

static int nomem(void) { return pv_err(PV_ENOMEM, "out of memory planning a query"); }

/* Grow an arena array to hold n + 1 elements. */
static int grow(pv_arena *a, void **arr, uint32_t n, uint32_t *cap, size_t elem)
{
    void *na;
    if (n < *cap) return 0;
    *cap = *cap ? *cap * 2 : 8;
    if (!(na = pv_arena_alloc(a, (size_t)*cap * elem))) return nomem();
    if (n) memcpy(na, *arr, (size_t)n * elem);
    *arr = na;
    return 0;
}

static int slot_for(binder *b, uint32_t col)
{
    pv_plan *p = b->plan;
    uint32_t i;
    for (i = 0; i < p->nslots; i++)
        if (p->slot_col[i] == col) return (int)i;
    if (grow(b->arena, (void **)&p->slot_col, p->nslots, &b->slotcap, sizeof *p->slot_col)) return -1;
    p->slot_col[p->nslots] = col;
    return (int)p->nslots++;
}

/* The output index of the result column whose alias is `name`, or -1. */
static int find_alias(const binder *b, pv_str name)
{
    uint32_t i;
    if (!b->sel || !b->res_first) return -1;
    for (i = 0; i < b->sel->ncols; i++) {
        pv_str a = b->sel->cols[i].alias;
        if (a.p && pv_ident_eq(a.p, a.n, name.p, name.n)) return (int)b->res_first[i];
    }
    return -1;
}

/* A name that binds to nothing: the error points at it in the text. */
static int no_column(const pv_expr *e)
{
    if (e->table.p)
        return pv_err_at(PV_ENOTFOUND, e->off, "no such column: %.*s.%.*s", (int)e->table.n, e->table.p,
                         (int)e->name.n, e->name.p);
    return pv_err_at(PV_ENOTFOUND, e->off, "no such column: %.*s", (int)e->name.n, e->name.p);
}

/* pv_bind_row: a column is its schema index; excluded.c is ncols + c. */
static int bind_row_col(binder *b, pv_expr *e)
{
    int idx = -1, excluded = 0;
    if (!e->table.p || pv_ident_eq(e->table.p, e->table.n, b->qual.p, b->qual.n))
        idx = pv_schema_find(b->schema, e->name.p, e->name.n);
    else if (pv_ident_eq(e->table.p, e->table.n, "excluded", 8))
        idx = pv_schema_find(b->schema, e->name.p, e->name.n), excluded = 1;
    if (idx < 0) return no_column(e);
    e->slot = idx + (excluded ? (int)b->schema->ncols : 0);
    e->aff = b->schema->cols[idx].type;
    return 0;
}

static int bind_col(binder *b, pv_expr **pe)
{
    pv_expr *e = *pe;
    int idx = -1, slot;
    if (b->row_mode) return bind_row_col(b, e);
    if (b->schema && (!e->table.p || pv_ident_eq(e->table.p, e->table.n, b->qual.p, b->qual.n)))
        idx = pv_schema_find(b->schema, e->name.p, e->name.n);
    if (idx < 0 && b->alias_ok && !e->table.p) {
        int k = find_alias(b, e->name);
        if (k >= 0) {
            *pe = b->plan->out[k];
            return 0;
        }
    }
    if (idx < 0) return no_column(e);
    if ((slot = slot_for(b, (uint32_t)idx)) < 0) return nomem();
    e->slot = slot;
    e->aff = b->schema->cols[idx].type;
    return 0;
}

static int bind_agg(binder *b, pv_expr *e)
{
    pv_plan *p = b->plan;
    pv_agg_def *d;
    uint32_t i;
    int rc;
    if (!b->allow_agg || b->in_agg || !p)
        return pv_err_at(PV_ESQL, e->off, "misuse of aggregate function %.*s()", (int)e->name.n,
                         e->name.p);
    b->in_agg = 1;
    for (i = 0; i < e->nargs; i++)
        if ((rc = bind_expr(b, &e->args[i]))) return rc;
    b->in_agg = 0;
    if (grow(b->arena, (void **)&p->aggs, p->nagg, &b->aggcap, sizeof *p->aggs)) return nomem();
    d = &p->aggs[p->nagg];
    d->fn = e->fn;
    d->distinct = e->distinct;
    d->arg = e->nargs ? e->args[0] : NULL;
    d->call = e;
    e->slot = (int)p->nagg++;
    return 0;
}

static int bind_expr(binder *b, pv_expr **pe)
{
    pv_expr *e = *pe;
    uint32_t i;
    int rc;
    switch (e->kind) {
    case PV_X_COL: return bind_col(b, pe);
    case PV_X_FUNC:
        if ((rc = pv_func_lookup(e, &e->fn))) return rc;
        if (pv_fn_is_agg(e->fn)) return bind_agg(b, e);
        break;
    case PV_X_CAST: e->aff = e->cast_type; break;
    case PV_X_IN:
        if (e->nargs == 1) {
            /* SQLite's parser turns `x IN ()` into the constant FALSE and
             * `x NOT IN ()` into TRUE, whatever x (so `y IS (x IN ())` is
             * IS FALSE, a truth test) */
            e->kind = PV_X_LIT;
            e->lit = pv_v_bool(e->negated);
            e->nargs = 0;
            return 0;
        }
        break;
    default: break;
    }
    for (i = 0; i < e->nargs; i++)
        if ((rc = bind_expr(b, &e->args[i]))) return rc;
    return 0;
}

static int has_agg(const pv_expr *e)
{
    uint32_t i;
    if (e->kind == PV_X_FUNC && pv_fn_is_agg(e->fn)) return 1;
    for (i = 0; i < e->nargs; i++)
        if (has_agg(e->args[i])) return 1;
    return 0;
}

int pv_bind_const(const char *sql, pv_expr *e)
{
    binder b;
    memset(&b, 0, sizeof b);
    b.sql = sql;
    return bind_expr(&b, &e);
}

int pv_bind_row(const char *sql, const pv_schema *s, pv_str qual, pv_expr *e)
{
    binder b;
    memset(&b, 0, sizeof b);
    b.sql = sql;
    b.schema = s;
    b.qual = qual;
    b.row_mode = 1;
    return bind_expr(&b, &e);
}

/* ---- result columns ------------------------------------------------------------- */

static int add_out(binder *b, pv_expr *e, uint32_t *cap)
{
    pv_plan *p = b->plan;
    if (grow(b->arena, (void **)&p->out, p->nout, cap, sizeof *p->out)) return -1;
    p->out[p->nout++] = e;
    return 0;
}

static int expand_star(binder *b, const pv_result_col *rc, uint32_t *cap)
{
    uint32_t i;
    if (!b->schema) return pv_err_at(PV_ESQL, rc->off, "no tables specified");
    if (rc->star_table.p && !pv_ident_eq(rc->star_table.p, rc->star_table.n, b->qual.p, b->qual.n))
        return pv_err_at(PV_ENOTFOUND, rc->off, "no such table: %.*s", (int)rc->star_table.n,
                         rc->star_table.p);
    for (i = 0; i < b->schema->ncols; i++) {
        const pv_column *c = &b->schema->cols[i];
        pv_expr *e;
        int slot;
        if (c->hidden) continue;
        if (!(e = pv_arena_alloc(b->arena, sizeof *e))) return nomem();
        memset(e, 0, sizeof *e);
        e->kind = PV_X_COL;
        e->height = 1;
        e->name.p = c->name;
        e->name.n = strlen(c->name);
        if ((slot = slot_for(b, i)) < 0) return nomem();
        e->slot = slot;
        e->aff = c->type;
        if (add_out(b, e, cap)) return nomem();
    }
    return 0;
}

static char *out_name(binder *b, const pv_result_col *rc, const pv_expr *e)
{
    if (rc && rc->alias.p) return pv_arena_dup(b->arena, rc->alias.p, rc->alias.n);
    if (e->kind == PV_X_COL) {
        const char *n = b->schema->cols[b->plan->slot_col[e->slot]].name;
        return pv_arena_dup(b->arena, n, strlen(n));
    }
    return pv_arena_dup(b->arena, b->sql + e->off, e->end - e->off);
}

static int bind_outputs(binder *b, const pv_select *s)
{
    pv_plan *p = b->plan;
    uint32_t i, cap = 0, first;
    int rc;
    b->allow_agg = 1;
    if (!(b->res_first = pv_arena_alloc(b->arena, s->ncols * sizeof *b->res_first))) return nomem();
    for (i = 0; i < s->ncols; i++) {
        const pv_result_col *c = &s->cols[i];
        b->res_first[i] = p->nout;
        if (!c->expr) {
            if ((rc = expand_star(b, c, &cap))) return rc;
        } else {
            if ((rc = bind_expr(b, &s->cols[i].expr))) return rc;
            if (add_out(b, c->expr, &cap)) return nomem();
        }
    }
    if (!(p->names = pv_arena_alloc(b->arena, (p->nout ? p->nout : 1) * sizeof *p->names))) return nomem();
    /* names: map outputs back to result columns (a * gives several) */
    for (i = 0, first = 0; i < s->ncols; i++) {
        const pv_result_col *c = &s->cols[i];
        if (!c->expr) {
            uint32_t k;
            for (k = 0; k < b->schema->ncols; k++) {
                if (b->schema->cols[k].hidden) continue;
                if (!(p->names[first] = out_name(b, NULL, p->out[first]))) return nomem();
                first++;
            }
        } else {
            if (!(p->names[first] = out_name(b, c, p->out[first]))) return nomem();
            first++;
        }
    }
    return 0;
}

static int name_slots(binder *b)
{
    pv_plan *p = b->plan;
    uint32_t i;
    if (!(p->slot_name = pv_arena_alloc(b->arena, (p->nslots + 1) * sizeof *p->slot_name)) ||
        !(p->slot_type = pv_arena_alloc(b->arena, (p->nslots + 1) * sizeof *p->slot_type)))
        return nomem();
    for (i = 0; i < p->nslots; i++) {
        const char *n = b->schema->cols[p->slot_col[i]].name;
        if (!(p->slot_name[i] = pv_arena_dup(b->arena, n, strlen(n)))) return nomem();
        p->slot_type[i] = b->schema->cols[p->slot_col[i]].type;
    }
    return 0;
}

/* ---- GROUP BY, HAVING, ORDER BY ---------------------------------------------------- */

/* An ORDER BY / GROUP BY term that is an output ordinal: as SQLite's
 * sqlite3ExprIsInteger, an integer literal with any unary + or - in front
 * that fits in 32 bits (a larger one is a constant sort key). */
static int ordinal(const pv_expr *e, int64_t *k)
{
    int neg = 0;
    while (e->kind == PV_X_UNARY && (e->op == TK_MINUS || e->op == TK_PLUS)) {
        if (e->op == TK_MINUS) neg = !neg;
        e = e->args[0];
    }
    if (e->kind != PV_X_LIT || e->lit.type != PV_INTEGER) return 0;
    if (e->lit.u.i < INT32_MIN || e->lit.u.i > INT32_MAX) return 0;
    *k = neg ? -e->lit.u.i : e->lit.u.i;
    return 1;
}

static int bind_group(binder *b, pv_select *s)
{
    pv_plan *p = b->plan;
    uint32_t i;
    int rc;
    b->allow_agg = 0;
    b->alias_ok = 1;
    for (i = 0; i < s->ngroup; i++) {
        uint32_t off = s->group[i]->off; /* the term as written: an ordinal or alias is replaced */
        int64_t k;
        if (ordinal(s->group[i], &k)) {
            if (k < 1 || k > (int64_t)p->nout)
                return pv_err_at(PV_ESQL, off, "GROUP BY term %u out of range - should be between 1 and %u",
                                 i + 1, p->nout);
            s->group[i] = p->out[k - 1];
        } else if ((rc = bind_expr(b, &s->group[i]))) {
            return rc;
        }
        if (has_agg(s->group[i]))
            return pv_err_at(PV_ESQL, off, "aggregate functions are not allowed in the GROUP BY clause");
    }
    p->group = s->group;
    p->ngroup = s->ngroup;
    return 0;
}

static int bind_order(binder *b, pv_select *s)
{
    pv_plan *p = b->plan;
    uint32_t i, cap = 0;
    int rc;
    if (!s->norder) return 0;
    if (!(p->keys = pv_arena_alloc(b->arena, s->norder * sizeof *p->keys))) return nomem();
    b->allow_agg = 1;
    b->alias_ok = 1;
    for (i = 0; i < s->norder; i++) {
        pv_expr *e = s->order[i].expr;
        int64_t k;
        int a;
        p->keys[i].desc = s->order[i].desc;
        if (ordinal(e, &k)) {
            if (k < 1 || k > (int64_t)p->nout)
                return pv_err_at(PV_ESQL, e->off, "ORDER BY term %u out of range - should be between 1 and %u",
                                 i + 1, p->nout);
            p->keys[i].col = (int)(k - 1);
        } else if (e->kind == PV_X_COL && !e->table.p && (a = find_alias(b, e->name)) >= 0) {
            p->keys[i].col = a;
        } else {
            if ((rc = bind_expr(b, &s->order[i].expr))) return rc;
            if (grow(b->arena, (void **)&p->extra, p->nextra, &cap, sizeof *p->extra)) return nomem();
            p->extra[p->nextra] = s->order[i].expr;
            p->keys[i].col = (int)(p->nout + p->nextra++);
        }
    }
    p->nkeys = s->norder;
    return 0;
}

static int bind_clauses(binder *b, pv_select *s)
{
    pv_plan *p = b->plan;
    uint32_t having_off = s->having ? s->having->off : 0; /* before an alias replaces it */
    int rc;
    b->allow_agg = 0;
    b->alias_ok = 0;
    if (s->where && (rc = bind_expr(b, &s->where))) return rc;
    p->where = s->where;
    if ((rc = bind_group(b, s))) return rc;
    b->allow_agg = 1;
    if (s->having && (rc = bind_expr(b, &s->having))) return rc;
    p->having = s->having;
    if ((rc = bind_order(b, s))) return rc;
    p->aggregate = p->ngroup > 0 || p->nagg > 0;
    if (p->having && !p->aggregate)
        return pv_err_at(PV_ESQL, having_off, "HAVING clause on a non-aggregate query");
    return 0;
}

static int bind_limits(binder *b, pv_select *s)
{
    int rc;
    if (s->limit && (rc = pv_bind_const(b->sql, s->limit))) return rc;
    if (s->offset && (rc = pv_bind_const(b->sql, s->offset))) return rc;
    b->plan->limit = s->limit;
    b->plan->offset = s->offset;
    return 0;
}

int pv_plan_build(pv_db *db, pv_db_map *map, pv_arena *arena, pv_sql_stmt *st, pv_plan **out)
{
    pv_select *s = &st->u.select;
    pv_source src;
    pv_plan *p;
    binder b;
    int rc;
    *out = NULL;
    memset(&b, 0, sizeof b);
    if (!(p = pv_arena_alloc(arena, sizeof *p))) return nomem();
    memset(p, 0, sizeof *p);
    b.arena = arena;
    b.sql = st->sql;
    b.plan = p;
    p->sql = st->sql;
    p->distinct = s->distinct;
    if (s->from.p && s->as_of.p && !(p->as_of = pv_arena_dup(arena, s->as_of.p, s->as_of.n))) return nomem();
    if (s->from.p) {
        rc = p->as_of ? pv_db_find_table_at_sql(db, p->as_of, s->as_of_off, s->from.p, s->from.n, &src)
                      : pv_db_find_table_sql(db, map, s->from.p, s->from.n, s->from_off, &src);
        if (rc) return rc;
        p->table_off = s->from_off;
        p->as_of_off = s->as_of_off;
        p->map = map;
        b.schema = src.schema;
        b.qual = s->alias.p ? s->alias : s->from;
        p->has_from = 1;
        if (!(p->table = pv_arena_dup(arena, s->from.p, s->from.n))) return nomem();
    }
    b.sel = s;
    if ((rc = bind_outputs(&b, s)) || (rc = bind_clauses(&b, s)) || (rc = bind_limits(&b, s)))
        return rc;
    if (s->from.p) {
        p->db_kind = db->kind;
        p->est_rows = src.nrows;
        p->has_index = pv_source_index(&src) != NULL;
        if ((rc = name_slots(&b)) || (rc = pv_access_choose(arena, src.schema, p)) ||
            (rc = pv_access_estimate(arena, &src, p)))
            return rc;
    }
    *out = p;
    return 0;
}

/* A column reference to schema column i, by its name. */
static pv_expr *col_ref(pv_arena *a, const pv_schema *s, uint32_t i)
{
    pv_expr *e = pv_arena_alloc(a, sizeof *e);
    if (!e) return NULL;
    memset(e, 0, sizeof *e);
    e->kind = PV_X_COL;
    e->height = 1;
    e->lit = pv_v_null();
    e->slot = -1;
    e->name.n = strlen(s->cols[i].name);
    if (!(e->name.p = pv_arena_dup(a, s->cols[i].name, e->name.n))) return NULL;
    return e;
}

int pv_plan_build_rows(pv_db *db, pv_arena *arena, const char *sql, pv_str table,
                       uint32_t table_off, pv_str alias, pv_expr *where, pv_expr **exprs, uint32_t nexprs,
                       int all_cols, pv_plan **out)
{
    pv_sql_stmt *st;
    pv_select *sel;
    pv_source src;
    uint32_t i, n;
    int rc;
    *out = NULL;
    if ((rc = pv_db_find_table_sql(db, NULL, table.p, table.n, table_off, &src))) return rc;
    n = all_cols ? src.schema->ncols : src.schema->npk;
    if (!(st = pv_arena_alloc(arena, sizeof *st))) return nomem();
    memset(st, 0, sizeof *st);
    st->kind = PV_SQL_SELECT;
    st->sql = sql;
    sel = &st->u.select;
    if (!(sel->cols = pv_arena_alloc(arena, (n + nexprs + 1) * sizeof *sel->cols))) return nomem();
    memset(sel->cols, 0, (n + nexprs + 1) * sizeof *sel->cols);
    for (i = 0; i < n; i++)
        if (!(sel->cols[i].expr = col_ref(arena, src.schema, all_cols ? i : src.schema->pk[i])))
            return nomem();
    for (i = 0; i < nexprs; i++) sel->cols[n + i].expr = exprs[i];
    sel->ncols = n + nexprs;
    sel->from = table;
    sel->from_off = table_off;
    sel->alias = alias;
    sel->where = where;
    if ((rc = pv_plan_build(db, NULL, arena, st, out))) return rc;
    if ((*out)->aggregate) { /* there is no GROUP BY: an aggregate call made it one */
        uint32_t off = (*out)->aggs[0].call->off;
        *out = NULL;
        return pv_err_at(PV_ESQL, off, "misuse of aggregate function in UPDATE or DELETE");
    }
    return 0;
}
