/*
 * ws_replay_vec.c: the columnar sink of a replay (ws_replay.h): a table's
 * key-ordered column vectors built straight from its records.
 *
 * A load keeps every row as ncols 24-byte values (432 MB for flights'
 * 3 M rows of 6 columns), then copies them into column vectors for the
 * scan or the bake: two passes over memory that was first faulted in. When
 * the records come in key order, the vectors can be the only copy: a new
 * key above the last is appended to each column, a record of a key already
 * there (an UPDATE) is found by binary search and overwritten, a delete
 * marks it dead. The result is what the load computes (the last record of
 * each key, in key order), because those are the only cases taken; a new
 * key below the last, or a conflict record, hands the rows over to the
 * load (ws_vecsink_to_rows) in exactly the state it would have reached.
 */
#include <stdlib.h>
#include <string.h>

#include "ws_replay.h"

struct ws_vecsink {
    ws_table *t;
    ws_table *hold;           /* its arena holds the strings */
    int active;
    size_t n, cap, ndead;
    char **data;              /* per column: 8-byte numbers or pv_str */
    uint8_t **nulls;          /* per column: 1 = NULL */
    uint8_t *live;
};

static int is_str(int type) { return type == PV_TEXT || type == PV_BLOB; }
static size_t elem(int type) { return is_str(type) ? sizeof(pv_str) : 8; }

static void arrays_free(ws_vecsink *v)
{
    uint32_t c;
    for (c = 0; v->data && c < v->t->schema->ncols; c++) free(v->data[c]);
    for (c = 0; v->nulls && c < v->t->schema->ncols; c++) free(v->nulls[c]);
    free(v->data);
    free(v->nulls);
    free(v->live);
    v->data = NULL;
    v->nulls = NULL;
    v->live = NULL;
    v->n = v->cap = v->ndead = 0;
}

static void hold_free(ws_vecsink *v)
{
    if (!v->hold) return;
    ws_table_unload(v->hold);
    free(v->hold);
    v->hold = NULL;
}

void ws_vecsink_free(ws_vecsink *v)
{
    if (!v) return;
    arrays_free(v);
    hold_free(v);
    free(v);
}

int ws_vecsink_new(ws_table *t, ws_vecsink **out)
{
    ws_vecsink *v = calloc(1, sizeof *v);
    uint32_t n = t->schema->ncols + 1;
    *out = NULL;
    if (!v) return pv_err(PV_ENOMEM, "out of memory");
    v->t = t;
    v->active = 1;
    v->data = calloc(n, sizeof *v->data);
    v->nulls = calloc(n, sizeof *v->nulls);
    if (!v->data || !v->nulls || !(v->hold = calloc(1, sizeof *v->hold))) {
        ws_vecsink_free(v);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    /* (a table of its own only for its arena; the schema is t's: borrowed) */
    v->hold->ws = t->ws;
    v->hold->schema = t->schema;
    v->hold->vec_dirty = 1;
    *out = v;
    return PV_OK;
}

int ws_vecsink_active(const ws_vecsink *v) { return v->active; }

static int grow(ws_vecsink *v)
{
    size_t cap = v->cap ? 2 * v->cap : 65536;
    uint32_t c;
    uint8_t *l;
    for (c = 0; c < v->t->schema->ncols; c++) {
        char *d = realloc(v->data[c], cap * elem(v->t->schema->cols[c].type));
        uint8_t *z;
        if (!d) return pv_err(PV_ENOMEM, "out of memory (%zu rows)", cap);
        v->data[c] = d;
        if (!(z = realloc(v->nulls[c], cap))) return pv_err(PV_ENOMEM, "out of memory (%zu rows)", cap);
        v->nulls[c] = z;
    }
    if (!(l = realloc(v->live, cap))) return pv_err(PV_ENOMEM, "out of memory (%zu rows)", cap);
    v->live = l;
    v->cap = cap;
    return PV_OK;
}

/* The value of column c at row r. */
static pv_value get(const ws_vecsink *v, uint32_t c, size_t r)
{
    int type = v->t->schema->cols[c].type;
    pv_value x;
    if (v->nulls[c][r]) return pv_v_null();
    x.type = type;
    if (is_str(type)) x.u.s = ((const pv_str *)(const void *)v->data[c])[r];
    else memcpy(&x.u.i, v->data[c] + r * 8, 8);
    return x;
}

/* Store a value as the vectors hold it (by the column's type; strings
 * copied into the sink's arena). */
static int put(ws_vecsink *v, uint32_t c, size_t r, const pv_value *x)
{
    int type = v->t->schema->cols[c].type;
    if (x->type == PV_NULL) {
        v->nulls[c][r] = 1;
        memset(v->data[c] + r * elem(type), 0, elem(type));
        return PV_OK;
    }
    v->nulls[c][r] = 0;
    if (is_str(type)) {
        pv_str s = x->u.s;
        if (s.n && !(s.p = pv_arena_dup(&v->hold->arena, s.p, s.n))) return pv_err(PV_ENOMEM, "out of memory");
        if (!s.n) s.p = "";
        ((pv_str *)(void *)v->data[c])[r] = s;
    } else if (type == PV_REAL) {
        memcpy(v->data[c] + r * 8, &x->u.f, 8);
    } else {
        memcpy(v->data[c] + r * 8, &x->u.i, 8);
    }
    return PV_OK;
}

static int put_row(ws_vecsink *v, size_t r, const pv_value *row)
{
    uint32_t c;
    int rc;
    for (c = 0; c < v->t->schema->ncols; c++)
        if ((rc = put(v, c, r, &row[c]))) return rc;
    return PV_OK;
}

/* Order of row's key against row r's. */
static int key_cmp(const ws_vecsink *v, const pv_value *row, size_t r)
{
    const pv_schema *s = v->t->schema;
    uint32_t k;
    for (k = 0; k < s->npk; k++) {
        pv_value b = get(v, s->pk[k], r);
        int x = pv_value_cmp(&row[s->pk[k]], &b);
        if (x) return x;
    }
    return 0;
}

/* The row holding row's key, or -1. */
static long find(const ws_vecsink *v, const pv_value *row)
{
    size_t lo = 0, hi = v->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int x = key_cmp(v, row, mid);
        if (x == 0) return (long)mid;
        if (x < 0) hi = mid;
        else lo = mid + 1;
    }
    return -1;
}

int ws_vecsink_row(ws_vecsink *v, const pv_value *row)
{
    long at;
    int rc;
    if (!v->n || key_cmp(v, row, v->n - 1) > 0) {
        if (v->n == v->cap && (rc = grow(v))) return rc;
        v->live[v->n] = 1;
        if ((rc = put_row(v, v->n, row))) return rc;
        v->n++;
        return 1;
    }
    if ((at = find(v, row)) < 0) return 0;
    /* the last record of a key wins, and revives a deleted one */
    if (!v->live[at]) v->ndead--;
    v->live[at] = 1;
    return (rc = put_row(v, (size_t)at, row)) ? rc : 1;
}

int ws_vecsink_delete(ws_vecsink *v, const pv_value *row)
{
    long at = v->n ? find(v, row) : -1;
    if (at >= 0 && v->live[at]) {
        v->live[at] = 0;
        v->ndead++;
    }
    return 1;
}

int ws_vecsink_to_rows(ws_vecsink *v)
{
    ws_table *t = v->t;
    uint32_t c, ncols = t->schema->ncols;
    pv_value *row = malloc((ncols + 1) * sizeof *row);
    size_t r;
    int rc = row ? ws_reserve(t, v->n) : pv_err(PV_ENOMEM, "out of memory");
    /* Slots in key order, each key once, a deleted one dead: what the
     * load holds after the same records (its sorted prefix is all of it). */
    for (r = 0; r < v->n && !rc; r++) {
        size_t idx;
        for (c = 0; c < ncols; c++) row[c] = get(v, c, r);
        if ((rc = ws_row_append(t, row, &idx)) || (rc = ws_key_set(t, idx, 0))) break;
        if (!v->live[r]) {
            t->live[idx] = 0;
            t->nlive--;
        }
    }
    free(row);
    arrays_free(v);
    hold_free(v);
    v->active = 0;
    return rc;
}

/* Drop the dead rows from the arrays. */
static void compact(ws_vecsink *v)
{
    uint32_t c;
    for (c = 0; c < v->t->schema->ncols; c++) {
        size_t es = elem(v->t->schema->cols[c].type), r, k = 0;
        for (r = 0; r < v->n; r++)
            if (v->live[r]) {
                if (k != r) {
                    memcpy(v->data[c] + k * es, v->data[c] + r * es, es);
                    v->nulls[c][k] = v->nulls[c][r];
                }
                k++;
            }
    }
    v->n -= v->ndead;
    v->ndead = 0;
}

int ws_vecsink_finish(ws_vecsink *v)
{
    ws_table *t = v->t;
    uint32_t c;
    int rc;
    if (v->ndead) compact(v);
    if ((rc = ws_vectors_alloc(t))) return rc;
    for (c = 0; c < t->schema->ncols; c++) {
        int type = t->schema->cols[c].type;
        /* no NULL in the column: no null array (as a load's vectors) */
        if (!v->n || !memchr(v->nulls[c], 1, v->n)) {
            free(v->nulls[c]);
            v->nulls[c] = NULL;
        }
        if (!v->data[c] && !(v->data[c] = malloc(8))) return pv_err(PV_ENOMEM, "out of memory");
        t->vec_data[c] = v->data[c];
        t->vec_nulls[c] = v->nulls[c];
        t->vecs[c].type = type;
        t->vecs[c].nulls = v->nulls[c];
        t->vecs[c].u.i = (const int64_t *)(const void *)v->data[c];
        v->data[c] = NULL;
        v->nulls[c] = NULL;
    }
    t->vec_rows = v->n;
    t->vec_dirty = 0;
    t->tail = v->hold; /* freed with the vectors (ws_vectors_free) */
    v->hold = NULL;
    arrays_free(v);
    v->active = 0;
    return PV_OK;
}

/* ---- a chunk's rows as columns ------------------------------------------------- */

static int rowcols_grow(ws_rowcols *rc, const pv_schema *s)
{
    size_t cap = rc->cap ? 2 * rc->cap : 4096;
    uint32_t c;
    if (!rc->data && (!(rc->data = calloc(s->ncols + 1, sizeof *rc->data)) ||
                      !(rc->nulls = calloc(s->ncols + 1, sizeof *rc->nulls))))
        return pv_err(PV_ENOMEM, "out of memory");
    for (c = 0; c < s->ncols; c++) {
        size_t es = is_str(s->cols[c].type) ? sizeof(ws_stroff) : 8;
        char *d = realloc(rc->data[c], cap * es);
        uint8_t *z;
        if (!d) return pv_err(PV_ENOMEM, "out of memory");
        rc->data[c] = d;
        if (!(z = realloc(rc->nulls[c], cap))) return pv_err(PV_ENOMEM, "out of memory");
        rc->nulls[c] = z;
    }
    rc->cap = cap;
    return PV_OK;
}

int ws_rowcols_add(ws_rowcols *rc, const pv_schema *s, const pv_value *row)
{
    size_t r = rc->n;
    uint32_t c;
    int e;
    if (r == rc->cap && (e = rowcols_grow(rc, s))) return e;
    for (c = 0; c < s->ncols; c++) {
        const pv_value *x = &row[c];
        int type = s->cols[c].type;
        rc->nulls[c][r] = x->type == PV_NULL;
        if (is_str(type)) {
            ws_stroff *o = (ws_stroff *)(void *)rc->data[c] + r;
            o->off = rc->bytes.len;
            o->n = x->type == PV_NULL ? 0 : x->u.s.n;
            if (o->n && (e = pv_buf_append(&rc->bytes, x->u.s.p, x->u.s.n))) return e;
        } else if (x->type == PV_NULL) {
            memset(rc->data[c] + r * 8, 0, 8);
        } else if (type == PV_REAL) {
            memcpy(rc->data[c] + r * 8, &x->u.f, 8);
        } else {
            memcpy(rc->data[c] + r * 8, &x->u.i, 8);
        }
    }
    rc->n++;
    return PV_OK;
}

int ws_rowcols_key_cmp(const ws_rowcols *rc, const pv_schema *s, const pv_value *row, size_t r)
{
    uint32_t k;
    for (k = 0; k < s->npk; k++) {
        uint32_t c = s->pk[k];
        int type = s->cols[c].type;
        pv_value b;
        int x;
        if (rc->nulls[c][r]) {
            b = pv_v_null();
        } else {
            b.type = type;
            if (is_str(type)) {
                const ws_stroff *o = (const ws_stroff *)(const void *)rc->data[c] + r;
                b.u.s.p = o->n ? rc->bytes.p + o->off : "";
                b.u.s.n = (size_t)o->n;
            } else {
                memcpy(&b.u.i, rc->data[c] + r * 8, 8);
            }
        }
        if ((x = pv_value_cmp(&row[c], &b))) return x;
    }
    return 0;
}

void ws_rowcols_row(const ws_rowcols *rc, const pv_schema *s, size_t r, pv_value *row)
{
    uint32_t c;
    for (c = 0; c < s->ncols; c++) {
        int type = s->cols[c].type;
        if (rc->nulls[c][r]) {
            row[c] = pv_v_null();
            continue;
        }
        row[c].type = type;
        if (is_str(type)) {
            const ws_stroff *o = (const ws_stroff *)(const void *)rc->data[c] + r;
            row[c].u.s.p = o->n ? rc->bytes.p + o->off : "";
            row[c].u.s.n = (size_t)o->n;
        } else {
            memcpy(&row[c].u.i, rc->data[c] + r * 8, 8);
        }
    }
}

void ws_rowcols_free(ws_rowcols *rc, const pv_schema *s)
{
    uint32_t c;
    for (c = 0; rc->data && c < s->ncols; c++) free(rc->data[c]);
    for (c = 0; rc->nulls && c < s->ncols; c++) free(rc->nulls[c]);
    free(rc->data);
    free(rc->nulls);
    pv_buf_free(&rc->bytes);
    memset(rc, 0, sizeof *rc);
}

/* Strings of rc's column c into the vectors at row `at`, over `base` (the
 * sink's copy of rc->bytes). */
static void append_strs(ws_vecsink *v, const ws_rowcols *rc, uint32_t c, size_t at, const char *base)
{
    const ws_stroff *o = (const ws_stroff *)(const void *)rc->data[c];
    pv_str *d = (pv_str *)(void *)v->data[c] + at;
    size_t r;
    for (r = 0; r < rc->n; r++) {
        if (rc->nulls[c][r]) {
            d[r].p = NULL; /* (zeroed, as a NULL slot of a load's vectors) */
            d[r].n = 0;
        } else {
            d[r].p = o[r].n ? base + o[r].off : "";
            d[r].n = (size_t)o[r].n;
        }
    }
}

int ws_vecsink_append(ws_vecsink *v, const ws_rowcols *rc)
{
    const pv_schema *s = v->t->schema;
    pv_value *first;
    const char *base = NULL;
    uint32_t c;
    int e;
    if (!rc->n) return 1;
    if (v->n) {
        if (!(first = malloc((s->ncols + 1) * sizeof *first))) return pv_err(PV_ENOMEM, "out of memory");
        ws_rowcols_row(rc, s, 0, first);
        e = key_cmp(v, first, v->n - 1);
        free(first);
        if (e <= 0) return 0;
    }
    while (v->n + rc->n > v->cap)
        if ((e = grow(v))) return e;
    if (rc->bytes.len && !(base = pv_arena_dup(&v->hold->arena, rc->bytes.p, rc->bytes.len)))
        return pv_err(PV_ENOMEM, "out of memory");
    for (c = 0; c < s->ncols; c++) {
        memcpy(v->nulls[c] + v->n, rc->nulls[c], rc->n);
        if (is_str(s->cols[c].type)) append_strs(v, rc, c, v->n, base);
        else memcpy(v->data[c] + v->n * 8, rc->data[c], rc->n * 8);
    }
    memset(v->live + v->n, 1, rc->n);
    v->n += rc->n;
    return 1;
}
