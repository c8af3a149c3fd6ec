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
 *
 * A bake needs not even that copy (ws_bake_rows below): the writer fetches
 * one column of one row group at a time through the pieces, and a row
 * group inside one run of checkpoint rows has an identity (the
 * checkpoint's, plus the run) under which the bake cache finds its encoded
 * chunks without reading a row (docs/BAKE.md 6).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

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

/* Key order of checkpoint row r against the tail table's row `dr`; *bad
 * set (and 0) when the row's key does not match its checksum (a checkpoint
 * opened WS_CKPT_ON_USE is checked as the search reads it). */
static int cmp_ckpt_tail(const ws_table *t, ws_ckpt *c, uint64_t r, const ws_table *d, size_t dr,
                         int *bad)
{
    const pv_value *row = &d->vals[dr * t->schema->ncols];
    uint32_t k;
    for (k = 0; k < t->schema->npk; k++) {
        uint32_t col = t->schema->pk[k];
        pv_value v;
        int x;
        if (!ws_ckpt_rows_ok(c, col, r, 1)) {
            *bad = 1;
            return 0;
        }
        v = ws_ckpt_value(c, col, r);
        if ((x = pv_value_cmp(&v, &row[col]))) return x;
    }
    return 0;
}

/* First checkpoint row in [lo, nrows) whose key is not below tail row dr. */
static uint64_t lower_bound(const ws_table *t, ws_ckpt *c, uint64_t lo, const ws_table *d, size_t dr,
                            int *bad)
{
    uint64_t hi = c->nrows;
    while (lo < hi && !*bad) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (cmp_ckpt_tail(t, c, mid, d, dr, bad) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The result as pieces, in key order; *rows gets its row count. 1 when a
 * key the merge read is damaged (the checkpoint is not usable). */
static int plan_pieces(const ws_table *t, ws_ckpt *c, ws_table *d, piece **out, size_t *np,
                       uint64_t *rows)
{
    size_t *order = malloc((d->nrows + 1) * sizeof *order), n = 0, i, k = 0;
    piece *p = malloc((2 * d->nrows + 2) * sizeof *p);
    uint64_t at = 0;
    int rc, bad = 0;
    if (!order || !p) {
        free(order);
        free(p);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    if ((rc = ws_rows_in_order(d, order, &n, 1))) goto done;
    *rows = 0;
    for (i = 0; i < n && !bad; i++) {
        size_t dr = order[i];
        uint64_t to = lower_bound(t, c, at, d, dr, &bad);
        if (to > at) {
            p[k].from = at;
            p[k++].n = to - at;
            *rows += to - at;
        }
        at = to;
        if (at < c->nrows && cmp_ckpt_tail(t, c, at, d, dr, &bad) == 0) at++; /* replaced or deleted */
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
    if (!rc && bad) rc = 1;
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

/* A new, empty tail table of t. */
static ws_table *tail_new(pv_ws *ws, ws_table *t)
{
    ws_table *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    d->ws = ws;
    d->schema = t->schema;
    d->vec_dirty = 1;
    return d;
}

/* Replay what follows checkpoint c into the tail table d (t->cover
 * records it). 0, 1 for a conflict record (the full load lists them), or
 * an error. */
static int replay_tail(pv_ws *ws, ws_table *t, const ws_ckpt *c, ws_table *d, uint64_t *replayed)
{
    int rc = ws_cover_reset(t, c);
    if (!rc && tail_bytes(t, c))
        rc = ws_replay_from(ws, t, d, c->nchunks - 1, c->chunks[c->nchunks - 1].size, replayed);
    if (!rc && d->nconflicts) rc = 1;
    return rc;
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
    if (!(d = tail_new(ws, t))) return pv_err(PV_ENOMEM, "out of memory");
    t->tail = d;
    rc = replay_tail(ws, t, c, d, &replayed);
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

/* ---- a bake's rows, a row group at a time ------------------------------- */

struct ws_bake_rows {
    ws_table *t;
    ws_ckpt *c;           /* opened WS_CKPT_ON_USE: rows checked as fetched */
    ws_table *d;          /* the tail table */
    piece *p;
    size_t np;
    uint64_t *at;         /* np + 1: the result row where piece i begins */
    pvdb_rows_src src;
    pv_vec *cols;         /* a table with secondary indexes: the indexed
                             columns' whole vectors, for the index writer */
    pvdb_fetch_buf *colbuf; /* their arrays (per column) */
    uint8_t rows_id[16];  /* identity of the rows (rows_identity) */
    int has_id;
    int vec;              /* the rows are t's vectors (a cold replay), not
                             a checkpoint's */
    int saving;           /* a thread writes t's checkpoint meanwhile */
    pthread_t saver;
};

/* Back to no checkpoint and no plan. */
static void bake_rows_reset(ws_bake_rows *b)
{
    uint32_t c;
    for (c = 0; b->colbuf && c < b->t->schema->ncols; c++) {
        free(b->colbuf[c].data.p);
        free(b->colbuf[c].nulls.p);
    }
    free(b->colbuf);
    free(b->cols);
    b->colbuf = NULL;
    b->cols = NULL;
    if (b->d) {
        ws_table_unload(b->d);
        free(b->d);
    }
    ws_ckpt_free(b->c);
    free(b->p);
    free(b->at);
    b->d = NULL;
    b->c = NULL;
    b->p = NULL;
    b->at = NULL;
    b->np = 0;
}

void ws_bake_rows_free(ws_bake_rows *b)
{
    if (!b) return;
    if (b->saving) pthread_join(b->saver, NULL);
    bake_rows_reset(b);
    free(b);
}

/* The piece holding result row `row` (< the row count). */
static size_t piece_at(const ws_bake_rows *b, uint64_t row)
{
    size_t lo = 0, hi = b->np;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (b->at[mid] <= row) lo = mid;
        else hi = mid;
    }
    return lo;
}

/* Rows [first, first + n) lie in piece i, a run of checkpoint rows. */
static int in_one_run(const ws_bake_rows *b, size_t i, uint64_t first, uint32_t n)
{
    return b->p[i].n && first + n <= b->at[i] + b->p[i].n;
}

/* The identity of the rows a replay of `cover` (n chunks: number, bytes
 * replayed, their hash) gives under t's schema, `nrows` of them: a
 * checkpoint holds exactly that replay (it is written from one and checked
 * at open, DESIGN rule 5), and so do the vectors of a cold replay, so both
 * name their rows alike and a bake of either finds the other's chunks by
 * origin. */
static int rows_identity(const ws_table *t, const ws_ckpt_chunk *cover, size_t n, uint64_t nrows,
                         uint8_t out[16])
{
    XXH128_canonical_t canon;
    uint8_t *buf = malloc(32 + 28 * n), *k;
    size_t i;
    if (!buf) return 0; /* (no identity: every chunk is read) */
    memset(buf, 0, 32);
    memcpy(buf, "pv-replay-rows-1", 16);
    pv_put_u64(buf + 16, ws_ckpt_schema_hash(t->schema));
    pv_put_u64(buf + 24, nrows);
    for (i = 0, k = buf + 32; i < n; i++, k += 28) {
        pv_put_u32(k, cover[i].num);
        pv_put_u64(k + 4, cover[i].size);
        memcpy(k + 12, cover[i].hash, 16);
    }
    XXH128_canonicalFromHash(&canon, XXH3_128bits(buf, 32 + 28 * n));
    memcpy(out, canon.digest, 16);
    free(buf);
    return 1;
}

static int bake_origin(void *ctx, uint64_t first, uint32_t n, uint8_t id[16])
{
    const ws_bake_rows *b = ctx;
    size_t i = b->vec ? 0 : piece_at(b, first);
    uint8_t buf[32];
    XXH128_canonical_t canon;
    if (!n || !b->has_id || (b->vec ? first + n > b->t->vec_rows : !in_one_run(b, i, first, n))) return 0;
    /* the rows' identity says which rows, the range which of them */
    memcpy(buf, b->rows_id, 16);
    pv_put_u64(buf + 16, b->vec ? first : b->p[i].from + (first - b->at[i]));
    pv_put_u64(buf + 24, n);
    XXH128_canonicalFromHash(&canon, XXH3_128bits(buf, sizeof buf));
    memcpy(id, canon.digest, 16);
    return 1;
}

/* Checkpoint rows [r, r + k) of column col match their checksums; else an
 * error naming them (the bake starts again without the checkpoint:
 * ws_bake_rows_damaged). */
static int ckpt_rows_ok(const ws_bake_rows *b, uint32_t col, uint64_t r, uint64_t k)
{
    if (ws_ckpt_rows_ok(b->c, col, r, k)) return PV_OK;
    return pv_err(PV_ECORRUPT, "checkpoint '%s': column %s, rows %llu..%llu do not match their checksum",
                  b->c->path, b->t->schema->cols[col].name, (unsigned long long)r,
                  (unsigned long long)(r + k - 1));
}

int ws_bake_rows_damaged(const ws_bake_rows *b)
{
    return b && b->c && atomic_load(&b->c->damaged);
}

/* `k` checkpoint rows of column col from row r into data/nulls at `at`. */
static void copy_ckpt_rows(const ws_bake_rows *b, uint32_t col, uint64_t r, uint64_t k,
                           char *data, uint8_t *nulls, uint64_t at)
{
    const pv_vec *v = &b->c->vecs[col];
    uint64_t i;
    if (v->nulls) memcpy(nulls + at, v->nulls + r, (size_t)k);
    else memset(nulls + at, 0, (size_t)k);
    if (v->type != PV_TEXT && v->type != PV_BLOB) {
        memcpy(data + at * 8, (const char *)(const void *)v->u.i + r * 8, (size_t)k * 8);
        return;
    }
    for (i = 0; i < k; i++) {
        const uint64_t *off = b->c->str_off[col] + r + i;
        pv_str *s = (pv_str *)(void *)data + at + i;
        s->p = b->c->str_bytes[col] + off[0];
        s->n = (size_t)(off[1] - off[0]);
    }
}

/* The tail table's row dr, column col, into data/nulls at `at`. */
static void copy_tail_row(const ws_bake_rows *b, uint32_t col, size_t dr, char *data,
                          uint8_t *nulls, uint64_t at)
{
    const pv_value *v = &b->d->vals[dr * b->t->schema->ncols + col];
    size_t es = elem_size(b->t->schema->cols[col].type);
    nulls[at] = v->type == PV_NULL;
    if (v->type == PV_NULL) memset(data + at * es, 0, es);
    else if (es == sizeof(pv_str)) ((pv_str *)(void *)data)[at] = v->u.s;
    else if (v->type == PV_REAL) ((double *)(void *)data)[at] = v->u.f;
    else ((int64_t *)(void *)data)[at] = v->u.i;
}

static int bake_fetch(void *ctx, uint32_t col, uint64_t first, uint32_t n, pv_vec *out,
                      pvdb_fetch_buf *buf)
{
    const ws_bake_rows *b = ctx;
    int type = b->t->schema->cols[col].type;
    size_t i = piece_at(b, first), es = elem_size(type);
    uint64_t at = 0, k;
    uint8_t *nulls;
    char *data;
    uint32_t r;
    out->type = type;
    if (b->vec) { /* a cold replay's vectors: a window on them */
        const pv_vec *v = &b->t->vecs[col];
        out->nulls = v->nulls ? v->nulls + first : NULL;
        if (es != 8) out->u.s = v->u.s + first;
        else out->u.i = v->u.i + first;
        return PV_OK;
    }
    if (in_one_run(b, i, first, n) && es == 8) { /* numbers: straight from the mapping */
        const pv_vec *v = &b->c->vecs[col];
        uint64_t from = b->p[i].from + (first - b->at[i]);
        int rc = ckpt_rows_ok(b, col, from, n);
        if (rc) return rc;
        out->nulls = v->nulls ? v->nulls + from : NULL;
        out->u.i = v->u.i + from;
        return PV_OK;
    }
    if (pv_enc_scratch_reserve(&buf->data, (size_t)n * es + 1) ||
        pv_enc_scratch_reserve(&buf->nulls, (size_t)n + 1))
        return pv_err(PV_ENOMEM, "out of memory");
    data = buf->data.p;
    nulls = buf->nulls.p;
    for (; at < n && i < b->np; i++) {
        uint64_t skip = first + at - b->at[i]; /* rows of piece i already before */
        if (!b->p[i].n) {
            copy_tail_row(b, col, (size_t)b->p[i].from, data, nulls, at++);
            continue;
        }
        k = b->p[i].n - skip < n - at ? b->p[i].n - skip : n - at;
        if (ckpt_rows_ok(b, col, b->p[i].from + skip, k)) return PV_ECORRUPT;
        copy_ckpt_rows(b, col, b->p[i].from + skip, k, data, nulls, at);
        at += k;
    }
    if (at != n) return pv_err(PV_ERANGE, "table %s: rows %llu..%llu out of range",
                               b->t->schema->name, (unsigned long long)first,
                               (unsigned long long)(first + n));
    out->nulls = NULL;
    for (r = 0; r < n; r++)
        if (nulls[r]) {
            out->nulls = nulls;
            break;
        }
    out->u.i = (const int64_t *)(const void *)data;
    return PV_OK;
}

/* PV_LOAD_CACHE_TRACE and pvbake -v: say where a bake's rows come from. */
static void bake_trace(ws_table *t, uint64_t rows, uint64_t replayed)
{
    ws_load_note(t, "rows for the bake from the checkpoint and its tail", rows, replayed,
                 t->schema->nindexes ? ", with the indexed columns' vectors" : "");
}

static int index_vectors(ws_bake_rows *b, uint64_t rows);

/* Plan t's rows from checkpoint b->c and its tail (and fetch the indexed
 * columns' vectors). 0, 1 when the checkpoint is not usable for it (a long
 * tail: a load writes a new one; damaged rows the plan read), or an
 * error. */
static int bake_rows_plan(pv_ws *ws, ws_table *t, ws_bake_rows *b, uint64_t *rows)
{
    uint64_t replayed = 0;
    size_t i;
    int rc;
    uint64_t tail = tail_bytes(t, b->c);
    if (tail && tail >= ws_ckpt_min_tail()) return 1; /* a load writes a new checkpoint */
    if (!(b->d = tail_new(ws, t))) return pv_err(PV_ENOMEM, "out of memory");
    if ((rc = replay_tail(ws, t, b->c, b->d, &replayed))) return rc;
    if ((rc = plan_pieces(t, b->c, b->d, &b->p, &b->np, rows))) return rc;
    b->has_id = rows_identity(t, b->c->chunks, b->c->nchunks, b->c->nrows, b->rows_id);
    if (!(b->at = malloc((b->np + 1) * sizeof *b->at))) return pv_err(PV_ENOMEM, "out of memory");
    b->at[0] = 0;
    for (i = 0; i < b->np; i++) b->at[i + 1] = b->at[i] + (b->p[i].n ? b->p[i].n : 1);
    if (t->schema->nindexes && (rc = index_vectors(b, *rows)))
        return ws_bake_rows_damaged(b) ? 1 : rc;
    bake_trace(t, *rows, replayed);
    return PV_OK;
}

/* The whole vectors of the columns t's secondary indexes use (the index
 * writer sorts them), fetched over every row of the plan: numbers of one
 * run of checkpoint rows straight from its mapping, strings pointing into
 * it; the other columns' vectors stay empty (never read). */
static int index_vectors(ws_bake_rows *b, uint64_t rows)
{
    const pv_schema *s = b->t->schema;
    uint32_t j, k;
    int rc = PV_OK;
    if (rows >= UINT32_MAX) return PV_OK; /* (the index writer refuses it, saying so) */
    b->cols = calloc(s->ncols + 1, sizeof *b->cols);
    b->colbuf = calloc(s->ncols + 1, sizeof *b->colbuf);
    if (!b->cols || !b->colbuf) return pv_err(PV_ENOMEM, "out of memory");
    for (k = 0; k < s->ncols; k++) b->cols[k].type = s->cols[k].type;
    for (j = 0; j < s->nindexes && !rc; j++)
        for (k = 0; k < s->indexes[j].ncols && !rc; k++) {
            uint32_t c = s->indexes[j].cols[k];
            if (c < s->ncols && !b->cols[c].u.i)
                rc = bake_fetch(b, c, 0, (uint32_t)rows, &b->cols[c], &b->colbuf[c]);
        }
    return rc;
}

static void *saver_main(void *arg)
{
    ws_bake_rows *b = arg;
    ws_ckpt_save(b->t->ws, b->t, b->t->cover, b->t->snap_n);
    return NULL;
}

/* No checkpoint: replay the chunks (into vectors when the records allow)
 * and bake from t's vectors, each row group named by the identity of the
 * replay, while another thread writes the checkpoint of the same rows
 * (the next bake reads it and finds these chunks by origin). 0 when set
 * up, 1 when the table is better baked another way (conflict records: the
 * load reports them; a git revision: its checkpoint is written first and
 * read back), or an error. */
static int cold_vectors(pv_ws *ws, ws_table *t, ws_bake_rows *b, uint64_t *rows)
{
    uint64_t tail = 0;
    int rc;
    if (!ws->posix) return 1;
    if ((rc = ws_table_load_vectors_ex(ws, t, &tail))) return rc;
    if (t->nconflicts) return 1;
    if ((rc = ws_table_vectors(ws, t))) return rc;
    b->has_id = rows_identity(t, t->cover, t->snap_n, t->vec_rows, b->rows_id);
    b->vec = 1;
    *rows = t->vec_rows;
    if (tail && tail >= ws_ckpt_min_tail() && !getenv("PV_NO_LOAD_CACHE")) {
        /* (t's vectors and cover are only read from now on) */
        b->saving = pthread_create(&b->saver, NULL, saver_main, b) == 0;
        if (!b->saving) ws_ckpt_save(ws, t, t->cover, t->snap_n);
        ws_load_note(t, "checkpoint written alongside the bake", t->vec_rows, 0, "");
    }
    ws_load_note(t, "rows for the bake from the replay's vectors", t->vec_rows, 0, "");
    return PV_OK;
}

/* pv_ws_table_bake_src's arguments, for ws_read. */
typedef struct bake_src_args {
    pv_bake_table *out;
    const pvdb_rows_src **src;
    ws_bake_rows **handle;
} bake_src_args;

/* What bake_src built from a snapshot rewritten under it: dropped. */
static void bake_src_undo(void *ctx)
{
    bake_src_args *a = ctx;
    ws_bake_rows_free(*a->handle);
    *a->handle = NULL;
    *a->src = NULL;
}

static int bake_src(pv_ws *ws, ws_table *t, void *ctx)
{
    bake_src_args *a = ctx;
    pv_bake_table *out = a->out;
    const pvdb_rows_src **src = a->src;
    ws_bake_rows **handle = a->handle;
    ws_bake_rows *b;
    uint64_t rows = 0;
    int rc;
    if (!(b = calloc(1, sizeof *b))) return pv_err(PV_ENOMEM, "out of memory");
    b->t = t;
    rc = ws_ckpt_open_ex(ws, t, WS_CKPT_ON_USE, &b->c);
    if (rc == 0) rc = cold_vectors(ws, t, b, &rows);        /* none */
    else if (rc > 0 && (rc = bake_rows_plan(ws, t, b, &rows)) > 0) bake_rows_reset(b);
    if (rc > 0) {
        /* no checkpoint, or a long tail: a load writes one; bake from
         * that (the rows are dropped), so the cache learns its origins */
        rc = ws_table_load_vectors(ws, t);
        if (rc == 0 && !t->nconflicts) rc = ws_ckpt_open_ex(ws, t, WS_CKPT_ON_USE, &b->c);
        if (rc > 0) {
            ws_table_unload(t);
            rc = bake_rows_plan(ws, t, b, &rows);
        } else if (rc == 0) {
            rc = 1; /* none even now: the rows (or vectors) stay for pv_ws_table_bake */
        }
    }
    if (rc) {
        ws_bake_rows_free(b);
        return rc > 0 ? 0 : rc;
    }
    b->src.fetch = bake_fetch;
    b->src.origin = bake_origin;
    b->src.ctx = b;
    out->schema = t->schema;
    out->nrows = rows;
    /* (NULL without secondary indexes; the vectors of a cold replay) */
    out->cols = b->vec && t->schema->nindexes ? t->vecs : b->cols;
    *src = &b->src;
    *handle = b;
    return 1;
}

int pv_ws_table_bake_src(pv_ws *ws, uint32_t i, pv_bake_table *out, const pvdb_rows_src **src,
                         ws_bake_rows **handle)
{
    bake_src_args a = {out, src, handle};
    ws_table *t;
    *src = NULL;
    *handle = NULL;
    if (i >= ws->ntables) return pv_err(PV_ERANGE, "table index %u out of range", i);
    t = ws->tables[i];
    /* (rows in memory: the vectors are as cheap) */
    if (t->loaded || (!ws->posix && !ws->rev_ckpt)) return 0;
    return ws_read(ws, t, WS_READ_ROWS, bake_src, bake_src_undo, &a);
}
