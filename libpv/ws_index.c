/*
 * ws_index.c: secondary indexes of a workspace table in memory (UNIQUE
 * constraints and CREATE INDEX), built from the table's loaded rows; see
 * ws_index.h for the rules, and pv_ws_index_lookup (ws.h) for readers.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "ws_index.h"

/* A slot packs the key hash's low 32 bits (high half) and row slot + 1 (low
 * half; 0 = empty), as the primary-key index of ws_load.c does. */
#define SLOT_ROW(s) ((uint32_t)(s))
#define SLOT_TAG(s) ((uint32_t)((s) >> 32))
#define SLOT(tag, row1) (((uint64_t)(tag) << 32) | (uint64_t)(row1))

typedef struct ws_index {
    uint64_t *slots;
    size_t nslots;          /* a power of two, more than twice nused */
    size_t nused;
    int violated;           /* unique: two live rows share a key */
    size_t dup_a, dup_b;    /* ... these two */
} ws_index;

struct ws_index_set {
    uint32_t n;             /* = t->schema->nindexes */
    ws_index *ix;
    /* Per index, for prefix and range lookups (pv_ws_source_index_range):
     * the row slots that were live when it was built, sorted by the index
     * columns then the primary key; NULL until first asked. Any write
     * (ws_index_row_changed) drops them all; a delete only clears a live
     * flag, which the lookup checks. */
    uint32_t **order;
    size_t *norder;
};

uint64_t ws_index_hash(const pv_index_def *x, const pv_value *row)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    uint32_t k;
    for (k = 0; k < x->ncols; k++) {
        const pv_value *v = &row[x->cols[k]];
        h ^= (uint64_t)v->type;
        if (v->type == PV_TEXT || v->type == PV_BLOB)
            h = XXH3_64bits_withSeed(v->u.s.p, v->u.s.n, h);
        else if (v->type == PV_REAL && v->u.f == 0.0) /* -0.0 equals 0.0 */
            h = XXH3_64bits_withSeed("\0\0\0\0\0\0\0\0", 8, h);
        else if (v->type != PV_NULL)
            h = XXH3_64bits_withSeed(&v->u.i, sizeof v->u.i, h);
    }
    return h;
}

int ws_index_key_null(const pv_index_def *x, const pv_value *row)
{
    uint32_t k;
    for (k = 0; k < x->ncols; k++)
        if (row[x->cols[k]].type == PV_NULL) return 1;
    return 0;
}

int ws_index_key_equal(const pv_index_def *x, const pv_value *a, const pv_value *b)
{
    uint32_t k;
    for (k = 0; k < x->ncols; k++)
        if (pv_value_cmp(&a[x->cols[k]], &b[x->cols[k]]) != 0) return 0;
    return 1;
}

static const pv_value *row_at(const ws_table *t, size_t idx)
{
    return &t->vals[idx * t->schema->ncols];
}

void ws_index_iter_init(ws_index_iter *it, const ws_table *t, uint32_t index, const pv_value *row,
                        uint64_t h)
{
    it->t = t;
    it->index = index;
    it->row = row;
    it->h = h;
    it->pos = t->indexes ? h & (t->indexes->ix[index].nslots - 1) : 0;
    it->steps = 0;
}

long ws_index_iter_next(ws_index_iter *it)
{
    const ws_table *t = it->t;
    const ws_index *ix;
    const pv_index_def *x = &t->schema->indexes[it->index];
    uint32_t tag = (uint32_t)it->h;
    if (!t->indexes) return -1;
    ix = &t->indexes->ix[it->index];
    while (it->steps < ix->nslots) {
        uint64_t s = ix->slots[it->pos];
        size_t r;
        if (!s) return -1;
        it->pos = (it->pos + 1) & (ix->nslots - 1);
        it->steps++;
        if (SLOT_TAG(s) != tag) continue;
        r = SLOT_ROW(s) - 1;
        if (t->live[r] && ws_index_key_equal(x, row_at(t, r), it->row)) return (long)r;
    }
    return -1;
}

/* Put (tag, row) in the slots unless it is there already. */
static void slot_put(ws_index *ix, uint64_t value)
{
    size_t mask = ix->nslots - 1, i;
    for (i = SLOT_TAG(value) & mask;; i = (i + 1) & mask) {
        if (ix->slots[i] == value) return;
        if (!ix->slots[i]) {
            ix->slots[i] = value;
            ix->nused++;
            return;
        }
    }
}

/* Index every live row of t in index `i`, in slots sized for growth; a
 * unique index notes the first duplicate it meets. */
static int build_one(ws_table *t, uint32_t i, ws_index *ix, size_t more)
{
    const pv_index_def *x = &t->schema->indexes[i];
    size_t n = 1024, r;
    uint64_t *slots;
    while (n < 4 * (t->nlive + more) + 4) n *= 2;
    if (t->nrows >= UINT32_MAX)
        return pv_err(PV_ELIMIT, "table %s: too many rows for index %s", t->schema->name, x->name);
    if (!(slots = calloc(n, sizeof *slots)))
        return pv_err(PV_ENOMEM, "out of memory (index %s of %zu slots)", x->name, n);
    free(ix->slots);
    ix->slots = slots;
    ix->nslots = n;
    ix->nused = 0;
    ix->violated = 0;
    for (r = 0; r < t->nrows; r++) {
        const pv_value *row = row_at(t, r);
        uint64_t h;
        if (!t->live[r]) continue;
        h = ws_index_hash(x, row);
        if (x->unique && !ix->violated && !ws_index_key_null(x, row)) {
            ws_index_iter it;
            long other;
            ws_index_iter_init(&it, t, i, row, h);
            while ((other = ws_index_iter_next(&it)) >= 0 && (size_t)other == r) {}
            if (other >= 0) {
                ix->violated = 1;
                ix->dup_a = (size_t)other;
                ix->dup_b = r;
            }
        }
        slot_put(ix, SLOT((uint32_t)h, (uint32_t)(r + 1)));
    }
    return PV_OK;
}

/* Drop the sorted orders (a row was written: they may be out of order). */
static void drop_orders(struct ws_index_set *set)
{
    uint32_t i;
    if (!set->order) return;
    for (i = 0; i < set->n; i++) free(set->order[i]);
    free(set->order);
    free(set->norder);
    set->order = NULL;
    set->norder = NULL;
}

void ws_index_unload(ws_table *t)
{
    uint32_t i;
    if (!t->indexes) return;
    drop_orders(t->indexes);
    for (i = 0; i < t->indexes->n; i++) free(t->indexes->ix[i].slots);
    free(t->indexes->ix);
    free(t->indexes);
    t->indexes = NULL;
}

int ws_index_ready(ws_table *t)
{
    struct ws_index_set *set;
    uint32_t i;
    int rc = PV_OK;
    if (t->indexes || !t->schema->nindexes) return PV_OK;
    if (!(set = calloc(1, sizeof *set)) || !(set->ix = calloc(t->schema->nindexes, sizeof *set->ix))) {
        free(set);
        return pv_err(PV_ENOMEM, "out of memory (indexes of table %s)", t->schema->name);
    }
    set->n = t->schema->nindexes;
    t->indexes = set; /* the iterator of build_one reads it */
    for (i = 0; i < set->n && !rc; i++) rc = build_one(t, i, &set->ix[i], 0);
    if (rc) ws_index_unload(t);
    return rc;
}

int ws_index_reserve(ws_table *t, size_t more)
{
    uint32_t i;
    int rc;
    if (!t->indexes) return PV_OK;
    for (i = 0; i < t->indexes->n; i++) {
        ws_index *ix = &t->indexes->ix[i];
        if ((ix->nused + more + 1) * 2 >= ix->nslots && (rc = build_one(t, i, ix, more))) {
            ws_index_unload(t);
            return rc;
        }
    }
    return PV_OK;
}

void ws_index_row_changed(ws_table *t, size_t idx)
{
    uint32_t i;
    if (!t->indexes || !t->live[idx]) return;
    drop_orders(t->indexes);
    for (i = 0; i < t->indexes->n; i++) {
        ws_index *ix = &t->indexes->ix[i];
        const pv_index_def *x = &t->schema->indexes[i];
        /* full of stale entries or of rows: rebuild from the live rows */
        if ((ix->nused + 1) * 2 >= ix->nslots && build_one(t, i, ix, 0)) {
            ws_index_unload(t);
            return;
        }
        if (idx >= UINT32_MAX) {
            ws_index_unload(t);
            return;
        }
        slot_put(ix, SLOT((uint32_t)ws_index_hash(x, row_at(t, idx)), (uint32_t)(idx + 1)));
    }
}

int ws_index_violation(ws_table *t, uint32_t index, size_t *a, size_t *b)
{
    const pv_index_def *x = &t->schema->indexes[index];
    ws_index *ix;
    int rc;
    if ((rc = ws_index_ready(t))) return rc;
    ix = &t->indexes->ix[index];
    if (!x->unique || !ix->violated) return 0;
    /* still there? (a DELETE or an UPDATE may have removed it) */
    if (!(t->live[ix->dup_a] && t->live[ix->dup_b] && !ws_index_key_null(x, row_at(t, ix->dup_a)) &&
          ws_index_key_equal(x, row_at(t, ix->dup_a), row_at(t, ix->dup_b))) &&
        (rc = build_one(t, index, ix, 0))) {
        ws_index_unload(t);
        return rc;
    }
    if (!ix->violated) return 0;
    *a = ix->dup_a;
    *b = ix->dup_b;
    if (ws_index_pk_cmp(t, *a, *b) > 0) {
        *a = ix->dup_b;
        *b = ix->dup_a;
    }
    return 1;
}

int ws_index_pk_cmp(const ws_table *t, size_t a, size_t b)
{
    const pv_schema *s = t->schema;
    uint32_t k;
    for (k = 0; k < s->npk; k++) {
        int c = pv_value_cmp(&row_at(t, a)[s->pk[k]], &row_at(t, b)[s->pk[k]]);
        if (c) return c;
    }
    return 0;
}

/* ---- lookups for the planner (ws.h) ------------------------------------- */

/* The probe row: the key converted to the index columns' types. Returns 0
 * when no row can match (a NULL, or a value of no such type). */
static int probe_row(const ws_table *t, const pv_index_def *x, const pv_value *key, pv_value *row,
                     char (*scratch)[32])
{
    uint32_t k;
    for (k = 0; k < t->schema->ncols; k++) row[k] = pv_v_null();
    for (k = 0; k < x->ncols; k++) {
        uint32_t c = x->cols[k];
        pv_value v;
        if (key[k].type == PV_NULL || pv_value_convert(&key[k], t->schema->cols[c].type, &v, scratch[k]))
            return 0;
        /* a column repeated in the index must get one value */
        if (row[c].type != PV_NULL && pv_value_cmp(&row[c], &v) != 0) return 0;
        row[c] = v;
    }
    return 1;
}

int pv_ws_source_index_lookup(const pv_source *src, uint32_t index, const pv_value *key,
                              const pv_value ***rows, size_t *nrows)
{
    ws_table *t;
    const pv_index_def *x;
    pv_value *row = NULL;
    char (*scratch)[32] = NULL;
    const pv_value **out = NULL;
    size_t n = 0, cap = 0;
    int rc;
    *rows = NULL;
    *nrows = 0;
    if (src->ops != &ws_source_ops) return pv_err(PV_EMISUSE, "pv_ws_source_index_lookup: not a workspace table");
    t = src->impl;
    if (index >= t->schema->nindexes)
        return pv_err(PV_ERANGE, "table %s has no index number %u", t->schema->name, index);
    x = &t->schema->indexes[index];
    if ((rc = ws_load_read(t->ws, t)) || (rc = ws_index_ready(t))) return rc;
    row = malloc((t->schema->ncols + 1) * sizeof *row);
    scratch = malloc(x->ncols * sizeof *scratch);
    if (!row || !scratch) {
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto done;
    }
    if (probe_row(t, x, key, row, scratch)) {
        ws_index_iter it;
        long r;
        ws_index_iter_init(&it, t, index, row, ws_index_hash(x, row));
        while ((r = ws_index_iter_next(&it)) >= 0) {
            const pv_value *p = row_at(t, (size_t)r);
            if (n == cap) {
                const pv_value **g = realloc(out, (cap = cap ? cap * 2 : 4) * sizeof *g);
                if (!g) {
                    rc = pv_err(PV_ENOMEM, "out of memory");
                    goto done;
                }
                out = g;
            }
            out[n++] = p;
        }
    }
    if (n > 1) qsort_r(out, n, sizeof *out, pv_rows_pk_cmp, t->schema);
done:
    free(row);
    free(scratch);
    if (rc) {
        free(out);
        return rc;
    }
    *rows = out;
    *nrows = n;
    return PV_OK;
}

/* ---- prefix and range lookups (ws.h) ------------------------------------ */

typedef struct order_ctx {
    const ws_table *t;
    const pv_index_def *x;
} order_ctx;

/* Row slots by the index columns, then the primary key. */
static int order_cmp(const void *pa, const void *pb, void *ctx)
{
    const order_ctx *o = ctx;
    const pv_value *a = row_at(o->t, *(const uint32_t *)pa), *b = row_at(o->t, *(const uint32_t *)pb);
    uint32_t k;
    for (k = 0; k < o->x->ncols; k++) {
        int c = pv_value_cmp(&a[o->x->cols[k]], &b[o->x->cols[k]]);
        if (c) return c;
    }
    return ws_index_pk_cmp(o->t, *(const uint32_t *)pa, *(const uint32_t *)pb);
}

/* The sorted order of index i, built on first use: O(rows log rows) once
 * per write generation. */
static int order_ready(ws_table *t, uint32_t i)
{
    struct ws_index_set *set = t->indexes;
    order_ctx o;
    size_t r, n = 0;
    uint32_t *ord;
    if (!set->order &&
        (!(set->order = calloc(set->n, sizeof *set->order)) || !(set->norder = calloc(set->n, sizeof *set->norder)))) {
        drop_orders(set);
        return pv_err(PV_ENOMEM, "out of memory (sorted index of table %s)", t->schema->name);
    }
    if (set->order[i]) return PV_OK;
    if (t->nrows >= UINT32_MAX)
        return pv_err(PV_ELIMIT, "table %s: too many rows for index %s", t->schema->name, t->schema->indexes[i].name);
    if (!(ord = malloc((t->nlive ? t->nlive : 1) * sizeof *ord)))
        return pv_err(PV_ENOMEM, "out of memory (sorted index %s)", t->schema->indexes[i].name);
    for (r = 0; r < t->nrows && n < t->nlive; r++)
        if (t->live[r]) ord[n++] = (uint32_t)r;
    o.t = t;
    o.x = &t->schema->indexes[i];
    qsort_r(ord, n, sizeof *ord, order_cmp, &o);
    set->order[i] = ord;
    set->norder[i] = n;
    return PV_OK;
}

/* Is row `row` past the start (side 0) or the end (side 1) of the range
 * eq[0..neq) + [lo, hi] on column neq? Monotone along the sorted order. */
static int past(const pv_index_def *x, const pv_value *row, const pv_value *eq, uint32_t neq,
                const pv_value *lo, const pv_value *hi, int range, int side)
{
    uint32_t k;
    for (k = 0; k < neq; k++) {
        int c = pv_value_cmp(&row[x->cols[k]], &eq[k]);
        if (c) return c > 0;
    }
    if (!range) return side == 0;
    {
        const pv_value *v = &row[x->cols[neq]];
        if (side == 0) return v->type != PV_NULL && (!lo || pv_value_cmp(v, lo) >= 0);
        return hi && pv_value_cmp(v, hi) > 0;
    }
}

/* The first position of the order where past() holds. */
static size_t search(const ws_table *t, const pv_index_def *x, const uint32_t *ord, size_t n,
                     const pv_value *eq, uint32_t neq, const pv_value *lo, const pv_value *hi, int range,
                     int side)
{
    size_t a = 0, b = n;
    while (a < b) {
        size_t m = a + (b - a) / 2;
        if (past(x, row_at(t, ord[m]), eq, neq, lo, hi, range, side)) b = m;
        else a = m + 1;
    }
    return a;
}

int pv_ws_source_index_range(const pv_source *src, uint32_t index, const pv_value *eq, uint32_t neq,
                             int range, const pv_value *lo, const pv_value *hi, const pv_value ***rows,
                             size_t *nrows)
{
    ws_table *t;
    const pv_index_def *x;
    const uint32_t *ord;
    const pv_value **out;
    size_t first, end, i, n = 0;
    int rc;
    *rows = NULL;
    *nrows = 0;
    if (src->ops != &ws_source_ops) return pv_err(PV_EMISUSE, "pv_ws_source_index_range: not a workspace table");
    t = src->impl;
    if (index >= t->schema->nindexes)
        return pv_err(PV_ERANGE, "table %s has no index number %u", t->schema->name, index);
    x = &t->schema->indexes[index];
    if (neq + (range ? 1u : 0u) > x->ncols || (!range && neq == 0))
        return pv_err(PV_EMISUSE, "pv_ws_source_index_range: %u equal columns%s on index %s of %u columns", neq,
                      range ? " and a range" : "", x->name, x->ncols);
    for (i = 0; i < neq; i++)
        if (eq[i].type == PV_NULL) return PV_OK; /* `=` never holds on NULL */
    if ((rc = ws_load_read(t->ws, t)) || (rc = ws_index_ready(t)) || (rc = order_ready(t, index))) return rc;
    ord = t->indexes->order[index];
    first = search(t, x, ord, t->indexes->norder[index], eq, neq, lo, hi, range, 0);
    end = search(t, x, ord, t->indexes->norder[index], eq, neq, lo, hi, range, 1);
    if (end <= first) return PV_OK;
    if (!(out = malloc((end - first) * sizeof *out))) return pv_err(PV_ENOMEM, "out of memory");
    for (i = first; i < end; i++)
        if (t->live[ord[i]]) out[n++] = row_at(t, ord[i]);
    if (n > 1) qsort_r(out, n, sizeof *out, pv_rows_pk_cmp, t->schema);
    if (!n) {
        free(out);
        out = NULL;
    }
    *rows = out;
    *nrows = n;
    return PV_OK;
}
