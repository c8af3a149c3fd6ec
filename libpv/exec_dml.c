/*
 * exec_dml.c: INSERT (with OR REPLACE / OR IGNORE and ON CONFLICT),
 * UPDATE and DELETE over the store calls of db.h (docs/SQL.md, "Writing").
 *
 * Every statement first computes all of its rows, then writes: the scan of
 * a workspace table is valid only until the next write to it. A statement
 * that needs several store calls (an UPDATE that changes a key: delete the
 * old keys, insert the new rows) runs them in its own transaction, or under
 * a savepoint inside the caller's, so it changes all or nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "chunkline.h"
#include "exec_change.h"
#include "ws.h"

static int nomem(void) { return pv_err(PV_ENOMEM, "out of memory running a statement"); }

/* ---- shared ---------------------------------------------------------------------- */

int pv_change_table(pv_change *c, pv_str name, uint32_t off)
{
    const pv_schema *s;
    pv_source src;
    uint32_t i;
    int rc;
    if ((rc = pv_db_find_table_sql(c->db, NULL, name.p, name.n, off, &src))) return rc;
    c->table_off = off;
    s = src.schema;
    c->ncols = s->ncols;
    c->npk = s->npk;
    c->hidden_key = s->npk == 1 && s->cols[s->pk[0]].hidden;
    if (!(c->table = pv_arena_dup(c->arena, s->name, strlen(s->name))) ||
        !(c->pk = pv_arena_alloc(c->arena, (s->npk + 1) * sizeof *c->pk)) ||
        !(c->types = pv_arena_alloc(c->arena, (s->ncols + 1) * sizeof *c->types)))
        return nomem();
    memcpy(c->pk, s->pk, s->npk * sizeof *c->pk);
    for (i = 0; i < s->ncols; i++) c->types[i] = s->cols[i].type;
    return 0;
}

int pv_change_check_table(pv_change *c, const pv_schema **schema)
{
    pv_source src;
    uint32_t i;
    int rc = pv_db_find_table_sql(c->db, NULL, c->table, strlen(c->table), c->table_off, &src), same;
    if (rc) return rc;
    same = src.schema->ncols == c->ncols && src.schema->npk == c->npk &&
           memcmp(src.schema->pk, c->pk, c->npk * sizeof *c->pk) == 0;
    for (i = 0; same && i < c->ncols; i++) same = src.schema->cols[i].type == c->types[i];
    if (!same)
        return pv_err(PV_EMISUSE, "table %s changed since the statement was prepared: prepare it again",
                      c->table);
    if (schema) *schema = src.schema;
    return 0;
}

int pv_atomic_begin(pv_db *db, pv_atomic *a)
{
    a->own = !pv_db_in_txn(db);
    a->mark = 0;
    if (a->own) return pv_db_begin(db);
    a->mark = pv_db_savepoint(db);
    return 0;
}

int pv_atomic_end(pv_db *db, pv_atomic *a, int rc)
{
    if (rc) {
        if (a->own) pv_db_rollback(db);
        else pv_db_rollback_to(db, a->mark);
        return rc;
    }
    return a->own ? pv_db_commit(db) : 0;
}

/* Deep copy of n values into the arena. */
static int copy_row(pv_arena *a, const pv_value *src, size_t n, pv_value *dst)
{
    size_t i;
    int rc;
    for (i = 0; i < n; i++)
        if ((rc = pv_value_copy(a, &src[i], &dst[i]))) return rc;
    return 0;
}

/* A growable array of rows of `w` values. */
typedef struct rowvec {
    pv_value *v;
    size_t n, cap, w;
} rowvec;

static pv_value *rowvec_add(rowvec *rv)
{
    if (rv->n == rv->cap) {
        size_t nc = rv->cap ? rv->cap * 2 : 64;
        pv_value *nv = realloc(rv->v, nc * (rv->w ? rv->w : 1) * sizeof *nv);
        if (!nv) return NULL;
        rv->v = nv;
        rv->cap = nc;
    }
    return &rv->v[rv->n++ * rv->w];
}

/* Run a plan to its end, copying every output row (nout values) into `rows`
 * and `arena`: the source is released before anything is written. */
static int collect(pv_change *c, const pv_value *params, pv_arena *arena, rowvec *rows)
{
    pv_run *run = NULL;
    const pv_value *row;
    int rc;
    rows->w = c->plan->nout;
    if ((rc = pv_run_open(c->plan, c->db, params, &run))) return rc;
    while ((rc = pv_run_next(run, &row)) == 1) {
        pv_value *dst = rowvec_add(rows);
        if (!dst) {
            rc = nomem();
            break;
        }
        if ((rc = copy_row(arena, row, rows->w, dst))) break;
    }
    pv_run_close(run);
    return rc < 0 ? rc : 0;
}

/* The key of `row` converted to the key column types (as the store will
 * store it), into key[]. Returns 1, or 0 when a key value is NULL or does
 * not convert (the store reports that row). */
static int row_key(pv_change *c, pv_arena *a, const pv_value *row, pv_value *key)
{
    uint32_t i;
    for (i = 0; i < c->npk; i++) {
        char scratch[32];
        pv_value v;
        const pv_value *in = &row[c->pk[i]];
        if (in->type == PV_NULL || pv_value_convert(in, c->types[c->pk[i]], &v, scratch)) return 0;
        if (pv_value_copy(a, &v, &key[i])) return -1; /* copies scratch bytes too */
    }
    return 1;
}

/* ---- INSERT ---------------------------------------------------------------------- */

static int map_named_columns(pv_change *c, const pv_schema *s)
{
    const pv_insert *ins = &c->st->u.insert;
    uint32_t i, j;
    if (ins->nvals != ins->ncols)
        return pv_err_at(PV_ESQL, ins->vals_off, "%u values for %u columns", ins->nvals, ins->ncols);
    for (i = 0; i < ins->ncols; i++) {
        int k = pv_schema_find(s, ins->cols[i].p, ins->cols[i].n);
        if (k < 0)
            return pv_err_at(PV_ENOTFOUND, ins->col_off[i], "table %s has no column named %.*s", s->name,
                             (int)ins->cols[i].n, ins->cols[i].p);
        for (j = 0; j < i; j++)
            if (c->map[j] == (uint32_t)k)
                return pv_err_at(PV_ESQL, ins->col_off[i], "column %s named twice", s->cols[k].name);
        c->map[i] = (uint32_t)k;
    }
    return 0;
}

/* Without a column list, values go to the visible columns in order. */
static int map_all_columns(pv_change *c, const pv_schema *s)
{
    const pv_insert *ins = &c->st->u.insert;
    uint32_t i, n = 0;
    for (i = 0; i < s->ncols; i++) {
        if (s->cols[i].hidden) continue;
        if (n < ins->nvals) c->map[n] = i;
        n++;
    }
    if (n != ins->nvals)
        return pv_err_at(PV_ESQL, ins->vals_off, "table %s has %u columns but %u values were supplied", s->name, n,
                         ins->nvals);
    return 0;
}

/* Columns not given get their DEFAULT: the schema's value, as a literal. */
static int prepare_defaults(pv_change *c, const pv_schema *s)
{
    uint32_t i;
    if (!(c->dflt = pv_arena_alloc(c->arena, (s->ncols + 1) * sizeof *c->dflt))) return nomem();
    for (i = 0; i < s->ncols; i++) {
        pv_expr *e;
        c->dflt[i] = NULL;
        if (!s->cols[i].dflt) continue;
        if (!(e = pv_arena_alloc(c->arena, sizeof *e))) return nomem();
        memset(e, 0, sizeof *e);
        e->kind = PV_X_LIT;
        e->height = 1;
        e->lit = *s->cols[i].dflt; /* bytes owned by the schema, which outlives the statement run */
        c->dflt[i] = e;
    }
    return 0;
}

/* Does the ON CONFLICT target name exactly the columns of `cols` (any
 * order, each once)? */
static int target_is(const pv_schema *s, const pv_namelist *tg, const uint32_t *cols, uint32_t n)
{
    uint32_t i, j;
    if (tg->n != n) return 0;
    for (i = 0; i < tg->n; i++) {
        int k = pv_schema_find(s, tg->names[i].p, tg->names[i].n), found = 0;
        for (j = 0; j < n; j++) found |= k >= 0 && cols[j] == (uint32_t)k;
        for (j = 0; j < i; j++)
            if (pv_ident_eq(tg->names[j].p, tg->names[j].n, tg->names[i].p, tg->names[i].n)) return 0;
        if (!found) return 0;
    }
    return 1;
}

/* ON CONFLICT: the target must be the primary key or a unique index (the
 * table must have one of them); DO UPDATE may not assign a key column. */
static int prepare_upsert(pv_change *c, const pv_schema *s)
{
    pv_insert *ins = &c->st->u.insert;
    pv_str qual = ins->table;
    uint32_t i;
    int rc;
    for (i = 0; i < s->nindexes && c->hidden_key; i++)
        if (s->indexes[i].unique) break;
    if (c->hidden_key && i == s->nindexes)
        return pv_err_at(PV_ESQL, ins->upsert_off, "ON CONFLICT clause does not match any PRIMARY KEY or "
                         "UNIQUE constraint (table %s has no primary key)", s->name);
    if (ins->target.n) {
        int key = !c->hidden_key && target_is(s, &ins->target, s->pk, s->npk), unique = 0;
        for (i = 0; i < ins->target.n; i++)
            if (pv_schema_find(s, ins->target.names[i].p, ins->target.names[i].n) < 0)
                return pv_err_at(PV_ENOTFOUND, ins->target.offs[i], "no such column: %.*s",
                                 (int)ins->target.names[i].n, ins->target.names[i].p);
        for (i = 0; i < s->nindexes && !key; i++)
            unique |= s->indexes[i].unique &&
                      target_is(s, &ins->target, s->indexes[i].cols, s->indexes[i].ncols);
        if (!key && !unique)
            return pv_err_at(PV_ESQL, ins->upsert_off, "ON CONFLICT clause does not match any PRIMARY KEY or "
                             "UNIQUE constraint");
    }
    if (ins->upsert != PV_UPSERT_UPDATE) return 0;
    if (!(c->upd = pv_arena_alloc(c->arena, s->ncols * sizeof *c->upd))) return nomem();
    memset(c->upd, 0, s->ncols * sizeof *c->upd);
    for (i = 0; i < ins->nsets; i++) {
        const pv_set *set = &ins->sets[i];
        int k = pv_schema_find(s, set->col.p, set->col.n);
        if (k < 0 || s->cols[k].hidden)
            return pv_err_at(PV_ENOTFOUND, set->col_off, "no such column: %.*s", (int)set->col.n,
                             set->col.p);
        if (s->cols[k].pk_pos >= 0)
            return pv_err_at(PV_ESQL, set->col_off, "ON CONFLICT DO UPDATE may not change key column %s",
                             s->cols[k].name);
        if ((rc = pv_bind_row(c->st->sql, s, qual, set->expr))) return rc;
        c->upd[k] = set->expr; /* the last SET of a column wins, as in SQLite */
    }
    if (ins->upsert_where && (rc = pv_bind_row(c->st->sql, s, qual, ins->upsert_where))) return rc;
    return 0;
}

static int prepare_insert(pv_change *c)
{
    pv_insert *ins = &c->st->u.insert;
    const pv_schema *s;
    size_t i, n = (size_t)ins->nrows * ins->nvals;
    int rc;
    if ((rc = pv_change_table(c, ins->table, ins->table_off)) || (rc = pv_change_check_table(c, &s))) return rc;
    if (!(c->map = pv_arena_alloc(c->arena, (ins->nvals + 1) * sizeof *c->map))) return nomem();
    rc = ins->cols ? map_named_columns(c, s) : map_all_columns(c, s);
    for (i = 0; !rc && i < n; i++) rc = pv_bind_const(c->st->sql, ins->vals[i]);
    if (!rc) rc = prepare_defaults(c, s);
    if (!rc && ins->upsert) rc = prepare_upsert(c, s);
    return rc;
}

/* The proposed rows, in schema order (defaults, then the VALUES terms). */
static int eval_rows(pv_change *c, pv_eval *cx, pv_value *rows)
{
    const pv_insert *ins = &c->st->u.insert;
    size_t r, j, w = c->ncols;
    int rc;
    for (r = 0; r < ins->nrows; r++) {
        pv_value *row = rows + r * w;
        for (j = 0; j < w; j++) {
            row[j] = pv_v_null();
            if (c->dflt[j] && (rc = pv_eval_expr(cx, c->dflt[j], &row[j]))) return rc;
        }
        for (j = 0; j < ins->nvals; j++)
            if ((rc = pv_eval_expr(cx, ins->vals[r * ins->nvals + j], &row[c->map[j]]))) return rc;
    }
    return 0;
}

enum { P_NEW, P_SAME, P_CHANGED, P_GONE }; /* pending row states */

/* What a proposed row does when a uniqueness constraint it is covered by
 * (the ON CONFLICT target, or every constraint) finds its value taken. */
enum { A_FAIL, A_REPLACE, A_IGNORE, A_UPDATE };

#define NO_ROW ((size_t)-1)
#define C_KEY UINT32_MAX /* the primary key, among the constraints (else a unique index number) */

/* Values (a primary key, or a unique index's key) -> the pending row that
 * holds them now. An entry can be stale (the row changed or went): every
 * probe checks the row. */
typedef struct slotmap {
    pv_hset h;
    size_t *at; /* hset id -> pending row, or NO_ROW */
    size_t cap;
} slotmap;

static int slotmap_id(slotmap *m, const pv_value *key, uint32_t *id)
{
    int rc = pv_hset_add(&m->h, key, id);
    if (rc < 0) return rc;
    if (*id >= m->cap) {
        size_t nc = m->cap ? m->cap * 2 : 64, i;
        size_t *na = realloc(m->at, nc * sizeof *na);
        if (!na) return nomem();
        for (i = m->cap; i < nc; i++) na[i] = NO_ROW;
        m->at = na;
        m->cap = nc;
    }
    return 0;
}

/* The proposed rows of one INSERT OR REPLACE / OR IGNORE / ON CONFLICT,
 * run one by one as SQLite runs them, over an overlay of the table: the
 * rows this statement proposed, updated, deleted or looked at so far. A
 * table row, once looked at, is a pending row (P_SAME), so what the
 * statement did to it is what later rows see. */
typedef struct pending {
    pv_change *c;
    const pv_schema *s;
    pv_source src;     /* the table, for its unique indexes */
    pv_eval *cx;
    pv_arena *arena;
    int action;
    uint32_t target;   /* C_KEY or an index; meaningful when has_target */
    int has_target;
    slotmap keys;      /* primary key -> pending row */
    slotmap *ix;       /* per index (unique ones used) */
    pv_value *rows;    /* pending rows in order, ncols each */
    int *state;
    size_t n, cap;
    pv_value *key, *both;
} pending;

static int pending_add(pending *p, const pv_value *row, int state)
{
    size_t w = p->c->ncols;
    if (p->n == p->cap) {
        size_t nc = p->cap ? p->cap * 2 : 64;
        pv_value *nr = realloc(p->rows, nc * w * sizeof *nr);
        int *ns = nr ? realloc(p->state, nc * sizeof *ns) : NULL;
        if (nr) p->rows = nr;
        if (!ns) return nomem();
        p->state = ns;
        p->cap = nc;
    }
    memcpy(&p->rows[p->n * w], row, w * sizeof *row);
    p->state[p->n++] = state;
    return 0;
}

/* The key of unique index i of `row` converted to the column types into
 * key[]: 1, or 0 when a value is NULL (NULLs are distinct) or does not
 * convert (the store reports that row). */
static int index_key(pending *p, uint32_t i, const pv_value *row, pv_value *key)
{
    const pv_index_def *x = &p->s->indexes[i];
    uint32_t j;
    for (j = 0; j < x->ncols; j++) {
        char scratch[32];
        pv_value v;
        const pv_value *in = &row[x->cols[j]];
        if (in->type == PV_NULL || pv_value_convert(in, p->c->types[x->cols[j]], &v, scratch)) return 0;
        if (pv_value_copy(p->arena, &v, &key[j])) return -1;
    }
    return 1;
}

/* Constraint k's key of `row` into p->key: 1, 0 (none: never conflicts), <0. */
static int constraint_key(pending *p, uint32_t k, const pv_value *row)
{
    int rc = k == C_KEY ? row_key(p->c, p->arena, row, p->key) : index_key(p, k, row, p->key);
    return rc < 0 ? nomem() : rc;
}

static slotmap *constraint_map(pending *p, uint32_t k) { return k == C_KEY ? &p->keys : &p->ix[k]; }

/* Point every constraint of pending row j at it (a new row, or new values). */
static int pending_register(pending *p, size_t j)
{
    const pv_value *row = &p->rows[j * p->c->ncols];
    uint32_t k, id;
    int rc;
    for (k = 0; k <= p->s->nindexes; k++) {
        uint32_t con = k == p->s->nindexes ? C_KEY : k;
        if (con != C_KEY && !p->s->indexes[con].unique) continue;
        if ((rc = constraint_key(p, con, row)) <= 0) {
            if (rc < 0) return rc;
            continue;
        }
        if ((rc = slotmap_id(constraint_map(p, con), p->key, &id))) return rc;
        constraint_map(p, con)->at[id] = j;
    }
    return 0;
}

/* A table row becomes pending row P_SAME (a copy: the table is not changed
 * before the end of the statement). */
static int pending_adopt(pending *p, const pv_value *trow, size_t *out)
{
    pv_value *copy = pv_arena_alloc(p->arena, p->c->ncols * sizeof *copy);
    int rc;
    if (!copy || copy_row(p->arena, trow, p->c->ncols, copy)) return nomem();
    if ((rc = pending_add(p, copy, P_SAME))) return rc;
    *out = p->n - 1;
    return pending_register(p, p->n - 1);
}

/* Is the primary key of this table row pending (then the pending row, or
 * its absence, is what counts)? */
static int key_pending(pending *p, const pv_value *trow, int *yes)
{
    uint32_t id;
    int rc = row_key(p->c, p->arena, trow, p->key);
    *yes = 0;
    if (rc <= 0) return rc < 0 ? nomem() : 0;
    if ((rc = slotmap_id(&p->keys, p->key, &id))) return rc;
    *yes = p->keys.at[id] != NO_ROW;
    return 0;
}

/* The live row (pending id into *hit, or NO_ROW) other than `self` whose
 * constraint k's key equals that of `row`. */
static int find_conflict(pending *p, uint32_t k, const pv_value *row, size_t self, size_t *hit)
{
    slotmap *m = constraint_map(p, k);
    const pv_value **trows = NULL;
    size_t ntrows = 0, t;
    uint32_t id, nk = k == C_KEY ? p->c->npk : p->s->indexes[k].ncols, j;
    int rc;
    *hit = NO_ROW;
    if ((rc = constraint_key(p, k, row)) <= 0) return rc;
    if ((rc = slotmap_id(m, p->key, &id))) return rc;
    if (m->at[id] != NO_ROW) {
        size_t o = m->at[id];
        pv_value *okey = pv_arena_alloc(p->arena, nk * sizeof *okey);
        int same;
        if (!okey) return nomem();
        memcpy(okey, p->key, nk * sizeof *okey);
        if ((rc = constraint_key(p, k, &p->rows[o * p->c->ncols])) < 0) return rc;
        same = rc == 1;
        for (j = 0; same && j < nk; j++) same = pv_value_cmp(&okey[j], &p->key[j]) == 0;
        if (same || k == C_KEY) { /* a key always names its pending row, gone or not */
            if (p->state[o] != P_GONE && o != self) *hit = o;
            return 0;
        }
        memcpy(p->key, okey, nk * sizeof *okey);
    }
    if (k == C_KEY) {
        const pv_value *trow;
        if ((rc = pv_db_lookup(p->c->db, p->c->table, p->key, &trow)) <= 0) return rc;
        return pending_adopt(p, trow, hit);
    }
    if ((rc = pv_ws_source_index_lookup(&p->src, k, p->key, &trows, &ntrows))) return rc;
    for (t = 0; t < ntrows && !rc && *hit == NO_ROW; t++) {
        int yes;
        if ((rc = key_pending(p, trows[t], &yes)) || yes) continue;
        rc = pending_adopt(p, trows[t], hit);
    }
    free(trows);
    return rc;
}

/* "UNIQUE constraint failed: t.a, t.b" (SQLite's words), then the value
 * and the row of the statement. */
static int unique_error(pending *p, uint32_t k, const pv_value *row, size_t r)
{
    const uint32_t *cols = k == C_KEY ? p->c->pk : p->s->indexes[k].cols;
    uint32_t n = k == C_KEY ? p->c->npk : p->s->indexes[k].ncols, j;
    pv_buf b = PV_BUF_INIT;
    int rc;
    for (j = 0; j < n; j++) pv_buf_printf(&b, "%s%s.%s", j ? ", " : "", p->s->name, p->s->cols[cols[j]].name);
    pv_buf_append(&b, ": value ", 8);
    for (j = 0; j < n; j++) {
        if (j) pv_buf_putc(&b, ',');
        pv_chunk_encode_value(&b, &row[cols[j]]);
    }
    pv_buf_printf(&b, " (row %zu of the statement) is already in the table", r + 1);
    if (k != C_KEY) pv_buf_printf(&b, " (index %s)", p->s->indexes[k].name);
    rc = pv_err(PV_ECONSTRAINT, "UNIQUE constraint failed: %s", b.p ? b.p : "?");
    pv_buf_free(&b);
    return rc;
}

/* DO UPDATE on pending row `id` with the proposed row `prop` (row r of the
 * statement); the new values must then be unique. */
static int upsert_update(pending *p, size_t id, const pv_value *prop, size_t r)
{
    pv_change *c = p->c;
    const pv_insert *ins = &c->st->u.insert;
    size_t w = c->ncols, i, hit;
    pv_value *cur = &p->rows[id * w], v; /* moves when a lookup adds a pending row */
    uint32_t k;
    int rc;
    memcpy(p->both, cur, w * sizeof *cur);
    for (i = 0; i < w; i++) { /* excluded.* holds the proposed values as stored */
        char scratch[32];
        if (pv_value_convert(&prop[i], c->types[i], &v, scratch)) v = prop[i];
        if ((rc = pv_value_copy(p->arena, &v, &p->both[w + i]))) return rc;
    }
    p->cx->group_row = p->both;
    if (ins->upsert_where) {
        if ((rc = pv_eval_expr(p->cx, ins->upsert_where, &v))) return rc;
        if (pv_value_truth(&v) != 1) return 0;
    }
    for (i = 0; i < w; i++) {
        if (!c->upd[i]) continue;
        if ((rc = pv_eval_expr(p->cx, c->upd[i], &v)) || (rc = pv_value_copy(p->arena, &v, &cur[i])))
            return rc;
    }
    if (p->state[id] != P_NEW) p->state[id] = P_CHANGED;
    for (k = 0; k < p->s->nindexes; k++) {
        if (!p->s->indexes[k].unique) continue;
        if ((rc = find_conflict(p, k, &p->rows[id * w], id, &hit))) return rc;
        if (hit != NO_ROW) return unique_error(p, k, &p->rows[id * w], r);
    }
    return pending_register(p, id);
}

/* One proposed row (row r of the statement) against the overlay, its
 * constraints in SQLite's order: the ON CONFLICT target first; then an
 * INTEGER key (SQLite's rowid), the unique indexes newest first (SQLite
 * puts each new index at the head of its list), and any other key last
 * (SQLite's index for it is usually the table's first). */
static int pending_row(pending *p, const pv_value *row, size_t r)
{
    uint32_t order[PV_MAX_INDEXES + 2], n = 0, i;
    int rowid = p->c->npk == 1 && p->c->types[p->c->pk[0]] == PV_INTEGER;
    size_t hit;
    int rc;
    if (p->has_target) order[n++] = p->target;
    if (rowid && !(p->has_target && p->target == C_KEY)) order[n++] = C_KEY;
    for (i = p->s->nindexes; i-- > 0;)
        if (p->s->indexes[i].unique && !(p->has_target && p->target == i)) order[n++] = i;
    if (!rowid && !(p->has_target && p->target == C_KEY)) order[n++] = C_KEY;
    for (i = 0; i < n; i++) {
        if ((rc = find_conflict(p, order[i], row, NO_ROW, &hit))) return rc;
        if (hit == NO_ROW) continue;
        if (p->has_target && order[i] != p->target && p->action != A_REPLACE)
            return unique_error(p, order[i], row, r); /* not the constraint ON CONFLICT names */
        if (p->action == A_IGNORE) return 0;
        if (p->action == A_UPDATE) return upsert_update(p, hit, row, r);
        p->state[hit] = P_GONE; /* REPLACE: the row holding the value goes */
    }
    if ((rc = pending_add(p, row, P_NEW))) return rc;
    return pending_register(p, p->n - 1);
}

/* Delete the rows that went, write the new and changed ones. */
static int write_pending(pending *p)
{
    size_t i, k = 0, ngone = 0, w = p->c->ncols;
    pv_value *gone = NULL;
    pv_atomic a;
    int rc;
    for (i = 0; i < p->n; i++) ngone += p->state[i] == P_GONE;
    if (ngone && !(gone = malloc(ngone * p->c->npk * sizeof *gone))) return nomem();
    ngone = 0;
    for (i = 0; i < p->n; i++) {
        if (p->state[i] == P_GONE && row_key(p->c, p->arena, &p->rows[i * w], &gone[ngone * p->c->npk]) == 1)
            ngone++;
        if (p->state[i] == P_SAME || p->state[i] == P_GONE) continue;
        if (k != i) memmove(&p->rows[k * w], &p->rows[i * w], w * sizeof *p->rows);
        k++;
    }
    if (!ngone) {
        rc = k ? pv_db_write(p->c->db, p->c->table, p->rows, k, w, PV_WRITE_REPLACE, NULL, 0, NULL) : 0;
    } else if (!(rc = pv_atomic_begin(p->c->db, &a))) {
        rc = pv_db_delete(p->c->db, p->c->table, gone, ngone, NULL);
        if (!rc && k) rc = pv_db_write(p->c->db, p->c->table, p->rows, k, w, PV_WRITE_REPLACE, NULL, 0, NULL);
        rc = pv_atomic_end(p->c->db, &a, rc);
    }
    free(gone);
    return rc;
}

/* The ON CONFLICT target: the primary key or a unique index (prepare_upsert
 * checked it names one). */
static void find_target(pending *p, const pv_insert *ins)
{
    uint32_t i;
    p->has_target = ins->upsert && ins->target.n;
    if (!p->has_target) return;
    p->target = C_KEY;
    if (!p->c->hidden_key && target_is(p->s, &ins->target, p->s->pk, p->s->npk)) return;
    for (i = 0; i < p->s->nindexes; i++)
        if (p->s->indexes[i].unique &&
            target_is(p->s, &ins->target, p->s->indexes[i].cols, p->s->indexes[i].ncols)) {
            p->target = i;
            return;
        }
}

static int run_pending(pv_change *c, pv_eval *cx, pv_arena *tmp, const pv_value *rows, size_t nrows,
                       int action)
{
    pending p;
    size_t r;
    uint32_t i, nix, width = c->npk;
    int rc;
    memset(&p, 0, sizeof p);
    p.c = c;
    p.cx = cx;
    p.arena = tmp;
    p.action = action;
    if ((rc = pv_change_check_table(c, &p.s)) ||
        (rc = pv_db_find_table(c->db, c->table, strlen(c->table), &p.src)))
        return rc;
    find_target(&p, &c->st->u.insert);
    pv_hset_init(&p.keys.h, c->npk);
    if (!(p.ix = calloc(p.s->nindexes + 1, sizeof *p.ix))) return nomem();
    for (i = 0; i < p.s->nindexes; i++) {
        pv_hset_init(&p.ix[i].h, p.s->indexes[i].ncols);
        if (p.s->indexes[i].ncols > width) width = p.s->indexes[i].ncols;
    }
    if (!(p.key = pv_arena_alloc(tmp, width * sizeof *p.key)) ||
        !(p.both = pv_arena_alloc(tmp, 2 * c->ncols * sizeof *p.both)))
        rc = nomem();
    for (r = 0; r < nrows && !rc; r++) rc = pending_row(&p, rows + r * c->ncols, r);
    nix = p.s->nindexes;
    /* a commit that fails reloads the catalog: p.s and p.src are gone after */
    if (!rc) rc = write_pending(&p);
    pv_hset_free(&p.keys.h);
    free(p.keys.at);
    for (i = 0; i < nix; i++) {
        pv_hset_free(&p.ix[i].h);
        free(p.ix[i].at);
    }
    free(p.ix);
    free(p.rows);
    free(p.state);
    return rc;
}

static int run_insert(pv_change *c, const pv_value *params)
{
    const pv_insert *ins = &c->st->u.insert;
    pv_arena tmp = PV_ARENA_INIT;
    pv_eval cx;
    pv_value *rows;
    size_t nrows = ins->nrows, w = c->ncols;
    int rc, action = ins->upsert == PV_UPSERT_UPDATE    ? A_UPDATE
                     : ins->upsert == PV_UPSERT_NOTHING ? A_IGNORE
                     : ins->or_action == PV_OR_IGNORE   ? A_IGNORE
                     : ins->or_action == PV_OR_REPLACE  ? A_REPLACE
                                                        : A_FAIL;
    if ((rc = pv_change_check_table(c, NULL))) return rc;
    if (!(rows = malloc(nrows * w * sizeof *rows))) return nomem();
    memset(&cx, 0, sizeof cx);
    cx.params = params;
    cx.arena = &tmp;
    if (!(rc = eval_rows(c, &cx, rows))) {
        if (action == A_FAIL) /* the store checks every constraint */
            rc = pv_db_write(c->db, c->table, rows, nrows, w, PV_WRITE_INSERT, NULL, 0, NULL);
        else
            rc = run_pending(c, &cx, &tmp, rows, nrows, action);
    }
    free(rows);
    pv_arena_free(&tmp);
    return rc;
}

/* ---- UPDATE ---------------------------------------------------------------------- */

static int prepare_update(pv_change *c)
{
    pv_update *u = &c->st->u.update;
    const pv_schema *s;
    pv_expr **exprs;
    uint32_t i;
    int rc;
    if ((rc = pv_change_table(c, u->table, u->table_off)) || (rc = pv_change_check_table(c, &s))) return rc;
    if (!(c->set_col = pv_arena_alloc(c->arena, u->nsets * sizeof *c->set_col)) ||
        !(exprs = pv_arena_alloc(c->arena, u->nsets * sizeof *exprs)))
        return nomem();
    for (i = 0; i < u->nsets; i++) {
        int k = pv_schema_find(s, u->sets[i].col.p, u->sets[i].col.n);
        if (k < 0 || s->cols[k].hidden)
            return pv_err_at(PV_ENOTFOUND, u->sets[i].col_off, "no such column: %.*s",
                             (int)u->sets[i].col.n, u->sets[i].col.p);
        c->set_col[i] = (uint32_t)k; /* a column set twice: the last wins */
        if (s->cols[k].pk_pos >= 0) c->key_set = 1;
        exprs[i] = u->sets[i].expr;
    }
    return pv_plan_build_rows(c->db, c->arena, c->st->sql, u->table, u->table_off, u->alias, u->where, exprs,
                              u->nsets, 1, &c->plan);
}

/* Does any row's key change? */
static int keys_change(pv_change *c, const rowvec *old, const pv_value *newrows)
{
    size_t r;
    uint32_t i;
    if (!c->key_set) return 0;
    for (r = 0; r < old->n; r++) {
        const pv_value *o = &old->v[r * old->w], *n = &newrows[r * c->ncols];
        for (i = 0; i < c->npk; i++) {
            char scratch[32];
            pv_value v;
            uint32_t k = c->pk[i];
            if (n[k].type == PV_NULL || pv_value_convert(&n[k], c->types[k], &v, scratch) ||
                pv_value_cmp(&o[k], &v) != 0)
                return 1;
        }
    }
    return 0;
}

/* Delete every old key, then insert every new row: one statement. */
static int rewrite_keys(pv_change *c, const rowvec *old, const pv_value *newrows)
{
    pv_value *keys = malloc(old->n * c->npk * sizeof *keys);
    pv_atomic a;
    size_t r;
    uint32_t i;
    int rc;
    if (!keys) return nomem();
    for (r = 0; r < old->n; r++)
        for (i = 0; i < c->npk; i++) keys[r * c->npk + i] = old->v[r * old->w + c->pk[i]];
    if (!(rc = pv_atomic_begin(c->db, &a))) {
        rc = pv_db_delete(c->db, c->table, keys, old->n, NULL);
        if (!rc)
            rc = pv_db_write(c->db, c->table, newrows, old->n, c->ncols, PV_WRITE_INSERT, NULL, 0,
                             NULL);
        rc = pv_atomic_end(c->db, &a, rc);
    }
    free(keys);
    return rc;
}

static int run_update(pv_change *c, const pv_value *params)
{
    const pv_update *u = &c->st->u.update;
    pv_arena tmp = PV_ARENA_INIT;
    rowvec old;
    pv_value *newrows = NULL;
    size_t r;
    uint32_t i;
    int rc;
    memset(&old, 0, sizeof old);
    if ((rc = pv_change_check_table(c, NULL)) || (rc = collect(c, params, &tmp, &old))) goto done;
    if (!old.n) goto done;
    if (!(newrows = malloc(old.n * c->ncols * sizeof *newrows))) {
        rc = nomem();
        goto done;
    }
    for (r = 0; r < old.n; r++) {
        pv_value *n = &newrows[r * c->ncols];
        const pv_value *o = &old.v[r * old.w];
        memcpy(n, o, c->ncols * sizeof *n);
        for (i = 0; i < u->nsets; i++) n[c->set_col[i]] = o[c->ncols + i];
    }
    if (keys_change(c, &old, newrows)) rc = rewrite_keys(c, &old, newrows);
    else rc = pv_db_write(c->db, c->table, newrows, old.n, c->ncols, PV_WRITE_REPLACE, NULL, 0, NULL);
done:
    free(newrows);
    free(old.v);
    pv_arena_free(&tmp);
    return rc;
}

/* ---- DELETE ---------------------------------------------------------------------- */

static int prepare_delete(pv_change *c)
{
    pv_delete *d = &c->st->u.del;
    int rc;
    if ((rc = pv_change_table(c, d->table, d->table_off))) return rc;
    return pv_plan_build_rows(c->db, c->arena, c->st->sql, d->table, d->table_off, d->alias, d->where, NULL,
                              0, 0, &c->plan);
}

static int run_delete(pv_change *c, const pv_value *params)
{
    pv_arena tmp = PV_ARENA_INIT;
    rowvec keys;
    int rc;
    memset(&keys, 0, sizeof keys);
    if (!(rc = pv_change_check_table(c, NULL)) && !(rc = collect(c, params, &tmp, &keys)) && keys.n)
        rc = pv_db_delete(c->db, c->table, keys.v, keys.n, NULL);
    free(keys.v);
    pv_arena_free(&tmp);
    return rc;
}

/* ---- dispatch -------------------------------------------------------------------- */

int pv_dml_prepare(pv_change *c)
{
    switch (c->st->kind) {
    case PV_SQL_INSERT: return prepare_insert(c);
    case PV_SQL_UPDATE: return prepare_update(c);
    default: return prepare_delete(c);
    }
}

int pv_dml_run(pv_change *c, const pv_value *params)
{
    /* refused before any row is looked at, as SQLite's "attempt to write
     * a readonly database", also when no row would change */
    int rc = pv_db_check_writable(c->db);
    if (rc) return rc;
    switch (c->st->kind) {
    case PV_SQL_INSERT: return run_insert(c, params);
    case PV_SQL_UPDATE: return run_update(c, params);
    default: return run_delete(c, params);
    }
}
