/*
 * ws_tail.c: a table's column vectors from its checkpoint plus the records
 * appended after it, without loading the rows (docs/LOADING.md).
 *
 * The tail is replayed into a small table of its own ("tail table") that
 * keeps a deleted key as a dead row (a tombstone). The checkpoint's rows
 * and the tail's keys are both in key order, so the result is a merge: runs
 * of checkpoint rows copied column by column, with each tail key inserted,
 * replacing the checkpoint row of the same key, or removing it. The cost is
 * one copy of the columns plus O(tail × log rows), instead of building every
 * row of the table in memory (a whole load).
 */
#include <stdlib.h>
#include <string.h>

#include "ws_ckpt.h"
#include "ws_internal.h"

/* Tails longer than this (bytes of chunk text) are replayed by a whole
 * load, which then writes a new checkpoint. */
#define TAIL_MAX_BYTES ((uint64_t)64 << 20)

/* One piece of the result: `n` checkpoint rows from `from`, or (n == 0)
 * the tail table's row `from`. */
typedef struct piece {
    uint64_t from;
    uint64_t n;
} piece;

void ws_tail_free(ws_table *t)
{
    ws_table *d = t->tail;
    if (!d) return;
    ws_table_unload(d);
    free(d); /* (its schema is t's: borrowed) */
    t->tail = NULL;
}

/* Key order of checkpoint row r against the tail table's row `dr`. */
static int cmp_ckpt_tail(const ws_table *t, const ws_ckpt *c, uint64_t r, const ws_table *d, size_t dr)
{
    const pv_value *row = &d->vals[dr * t->schema->ncols];
    uint32_t k;
    for (k = 0; k < t->schema->npk; k++) {
        uint32_t col = t->schema->pk[k];
        pv_value v = pv_vec_get(&c->vecs[col], (uint32_t)r);
        int x = pv_value_cmp(&v, &row[col]);
        if (x) return x;
    }
    return 0;
}

/* First checkpoint row in [lo, nrows) whose key is not below tail row dr. */
static uint64_t lower_bound(const ws_table *t, const ws_ckpt *c, uint64_t lo, const ws_table *d, size_t dr)
{
    uint64_t hi = c->nrows;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (cmp_ckpt_tail(t, c, mid, d, dr) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The result as pieces, in key order; *rows gets its row count. */
static int plan_pieces(const ws_table *t, const ws_ckpt *c, ws_table *d, piece **out, size_t *np,
                       uint64_t *rows)
{
    size_t *order = malloc((d->nrows + 1) * sizeof *order), n = 0, i, k = 0;
    piece *p = malloc((2 * d->nrows + 2) * sizeof *p);
    uint64_t at = 0;
    int rc;
    if (!order || !p) {
        free(order);
        free(p);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    if ((rc = ws_rows_in_order(d, order, &n, 1))) goto done;
    *rows = 0;
    for (i = 0; i < n; i++) {
        size_t dr = order[i];
        uint64_t to = lower_bound(t, c, at, d, dr);
        if (to > at) {
            p[k].from = at;
            p[k++].n = to - at;
            *rows += to - at;
        }
        at = to;
        if (at < c->nrows && cmp_ckpt_tail(t, c, at, d, dr) == 0) at++; /* replaced or deleted */
        if (d->live[dr]) {
            p[k].from = dr;
            p[k++].n = 0;
            (*rows)++;
        }
    }
    if (at < c->nrows) {
        p[k].from = at;
        p[k++].n = c->nrows - at;
        *rows += c->nrows - at;
    }
done:
    free(order);
    if (rc) {
        free(p);
        return rc;
    }
    *out = p;
    *np = k;
    return PV_OK;
}

static size_t elem_size(int type)
{
    return type == PV_TEXT || type == PV_BLOB ? sizeof(pv_str) : 8;
}

/* Column col of the result, from the pieces. */
static int fill_column(ws_table *t, const ws_ckpt *c, const ws_table *d, uint32_t col,
                       const piece *p, size_t np, uint64_t rows)
{
    const pv_vec *base = &c->vecs[col];
    int type = t->schema->cols[col].type;
    size_t es = elem_size(type), i;
    char *data = malloc((size_t)(rows ? rows : 1) * es);
    uint8_t *nulls = NULL;
    uint64_t at = 0;
    if (!data) return pv_err(PV_ENOMEM, "out of memory (column %s)", t->schema->cols[col].name);
    t->vec_data[col] = data;
    /* base arrays are contiguous 8- or 16-byte elements: runs are memcpy */
    for (i = 0; i < np; i++) {
        if (p[i].n) {
            memcpy(data + at * es, (const char *)(const void *)base->u.i + p[i].from * es, (size_t)p[i].n * es);
            if (base->nulls || nulls) {
                if (!nulls && !(nulls = calloc((size_t)rows + 1, 1))) return pv_err(PV_ENOMEM, "out of memory");
                if (base->nulls) memcpy(nulls + at, base->nulls + p[i].from, (size_t)p[i].n);
            }
            at += p[i].n;
        } else {
            const pv_value *v = &d->vals[p[i].from * t->schema->ncols + col];
            if (v->type == PV_NULL) {
                if (!nulls && !(nulls = calloc((size_t)rows + 1, 1))) return pv_err(PV_ENOMEM, "out of memory");
                nulls[at] = 1;
                memset(data + at * es, 0, es);
            } else if (es == sizeof(pv_str)) {
                ((pv_str *)(void *)data)[at] = v->u.s;
            } else if (type == PV_REAL) {
                ((double *)(void *)data)[at] = v->u.f;
            } else {
                ((int64_t *)(void *)data)[at] = v->u.i;
            }
            at++;
        }
    }
    t->vec_nulls[col] = nulls;
    t->vecs[col].type = type;
    t->vecs[col].nulls = nulls;
    t->vecs[col].u.i = (const int64_t *)(const void *)data;
    return PV_OK;
}

static uint64_t tail_bytes(const ws_table *t, const ws_ckpt *c)
{
    uint64_t n = t->snap_size[c->nchunks - 1] - c->chunks[c->nchunks - 1].size;
    size_t i;
    for (i = c->nchunks; i < t->snap_n; i++) n += t->snap_size[i];
    return n;
}

int ws_tail_vectors(pv_ws *ws, ws_table *t, uint64_t *replayed_out)
{
    ws_ckpt *c = t->ckpt;
    ws_table *d;
    piece *p = NULL;
    size_t np = 0;
    uint64_t rows = 0, replayed = 0;
    uint32_t col;
    int rc;
    if (tail_bytes(t, c) > TAIL_MAX_BYTES) return 0;
    if ((rc = ws_cover_reset(t, c))) return rc;
    if (!(d = calloc(1, sizeof *d))) return pv_err(PV_ENOMEM, "out of memory");
    d->ws = ws;
    d->schema = t->schema;
    d->vec_dirty = 1;
    t->tail = d;
    rc = ws_replay_from(ws, t, d, c->nchunks - 1, c->chunks[c->nchunks - 1].size, &replayed);
    if (!rc && d->nconflicts) rc = 1; /* the full load lists them */
    if (!rc) rc = plan_pieces(t, c, d, &p, &np, &rows);
    if (!rc) rc = ws_vectors_alloc(t);
    for (col = 0; !rc && col < t->schema->ncols; col++) rc = fill_column(t, c, d, col, p, np, rows);
    free(p);
    if (rc) {
        ws_vectors_free(t);
        ws_tail_free(t);
        return rc > 0 ? 0 : rc;
    }
    t->vec_rows = rows;
    t->vec_dirty = 0;
    *replayed_out = replayed;
    return 1;
}
