/*
 * ws_point.c: key lookups and the row count of a table that is not loaded,
 * straight from its checkpoint and the records after it (checkpoints:
 * docs/LOADING.md).
 *
 * A point query (`SELECT ... WHERE id = 1500000`, pv_db_lookup) needs one
 * row. Building the table's column vectors for it costs a copy of every
 * column when the checkpoint has a tail (0.5 s and 1 GB on flights), and
 * loading the rows more. Instead: the checkpoint is mapped as a bake maps
 * it (ws_ckpt_open_ex, WS_CKPT_ON_USE: no string array, no read-ahead, no
 * row checked at open), the records after it are replayed into a small
 * tail table that keeps deleted keys as tombstones (as the vectors' merge
 * does, ws_tail.c), and a key is looked up in the tail first, then by
 * binary search over the checkpoint's key-ordered key columns. Only the
 * segments the search probes and the returned row lies in are read and
 * checked (ws_ckpt_rows_ok): on flights about ten segments of 16,384 rows
 * instead of 219 MB. A segment that fails its checksum is never used: the
 * table is loaded instead (the load checks every segment, so it ignores
 * this checkpoint, replays the chunks and writes a good one) and the key
 * is looked up in the loaded rows. The state is tied to the table's
 * snapshot (its last chunk's number and size): any commit, ours or
 * another process's, makes it rebuilt before use.
 */
#include <stdlib.h>
#include <string.h>

#include "ws_ckpt.h"
#include "ws_internal.h"

/* Tails longer than this (bytes of chunk text) take the usual load. */
#define POINT_TAIL_MAX ((uint64_t)64 << 20)

struct ws_point {
    ws_ckpt *c;         /* mapped lazily: key columns' strings only */
    ws_table *tail;     /* records after c, deleted keys as dead rows */
    size_t snap_n;      /* the snapshot this was built for */
    uint32_t snap_num;
    uint64_t snap_size;
    uint64_t nrows;     /* live rows: c's, changed by the tail */
    pv_value *row;      /* the last row returned (borrowing c's bytes) */
    pv_value *probe;    /* a row holding a key, for the tail's index */
};

void ws_point_free(ws_table *t)
{
    ws_point *p = t->point;
    if (!p) return;
    ws_ckpt_free(p->c);
    if (p->tail) {
        ws_table_unload(p->tail);
        free(p->tail); /* (its schema is t's: borrowed) */
    }
    free(p->row);
    free(p->probe);
    free(p);
    t->point = NULL;
}

/* ckpt_find's answer when a probed key segment is damaged. */
#define CKPT_DAMAGED (-2)

/* Checkpoint row holding `key` (npk values in key order), -1 when none,
 * or CKPT_DAMAGED. Each probed row's key segments are checked first. */
static long ckpt_find(const ws_table *t, ws_ckpt *c, const pv_value *key)
{
    const pv_schema *s = t->schema;
    uint64_t lo = 0, hi = c->nrows;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint32_t k;
        int cmp = 0;
        for (k = 0; k < s->npk && !cmp; k++) {
            pv_value v;
            if (!ws_ckpt_rows_ok(c, s->pk[k], mid, 1)) return CKPT_DAMAGED;
            v = ws_ckpt_value(c, s->pk[k], mid);
            cmp = pv_value_cmp(&v, &key[k]);
        }
        if (!cmp) return (long)mid;
        if (cmp < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

/* The live row count into *n: the checkpoint's, plus tail keys it lacks,
 * minus its keys the tail deleted. 0, or 1 when a key segment the
 * searches read is damaged. */
static int count_rows(const ws_table *t, ws_point *p, uint64_t *n)
{
    const ws_table *d = p->tail;
    size_t r;
    pv_value key[PV_MAX_COLUMNS];
    *n = p->c->nrows;
    for (r = 0; r < d->nrows; r++) {
        const pv_value *row = &d->vals[r * t->schema->ncols];
        uint32_t k;
        long at;
        for (k = 0; k < t->schema->npk; k++) key[k] = row[t->schema->pk[k]];
        if ((at = ckpt_find(t, p->c, key)) == CKPT_DAMAGED) return 1;
        if (d->live[r] && at < 0) ++*n;
        if (!d->live[r] && at >= 0) --*n;
    }
    return 0;
}

static uint64_t tail_bytes(const ws_table *t, const ws_ckpt *c)
{
    uint64_t n = t->snap_size[c->nchunks - 1] - c->chunks[c->nchunks - 1].size;
    size_t i;
    for (i = c->nchunks; i < t->snap_n; i++) n += t->snap_size[i];
    return n;
}

static int point_fresh(const ws_table *t, const ws_point *p)
{
    return p->snap_n == t->snap_n &&
           (!t->snap_n || (p->snap_num == t->snap_num[t->snap_n - 1] && p->snap_size == t->snap_size[t->snap_n - 1]));
}

int ws_point_ready(pv_ws *ws, ws_table *t)
{
    ws_point *p;
    uint64_t replayed = 0;
    int rc;
    if (t->point && point_fresh(t, t->point)) return 1;
    ws_point_free(t);
    if (!ws->posix || !t->snap_n || t->schema->npk == 0 || getenv("PV_NO_LOAD_CACHE")) return 0;
    if (!(p = calloc(1, sizeof *p)) || !(p->probe = calloc(t->schema->ncols + 1, sizeof *p->probe)) ||
        !(p->row = calloc(t->schema->ncols + 1, sizeof *p->row)) || !(p->tail = calloc(1, sizeof *p->tail))) {
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto fail;
    }
    t->point = p;
    p->tail->ws = ws;
    p->tail->schema = t->schema;
    p->tail->vec_dirty = 1;
    if ((rc = ws_ckpt_open_ex(ws, t, WS_CKPT_ON_USE, &p->c)) <= 0) goto fail;
    if (tail_bytes(t, p->c) > POINT_TAIL_MAX) {
        rc = 0;
        goto fail;
    }
    if ((rc = ws_cover_reset(t, p->c))) goto fail;
    if (tail_bytes(t, p->c) &&
        (rc = ws_replay_from(ws, t, p->tail, p->c->nchunks - 1, p->c->chunks[p->c->nchunks - 1].size, &replayed)))
        goto fail;
    if (p->tail->nconflicts) { /* the full load lists them */
        rc = 0;
        goto fail;
    }
    p->snap_n = t->snap_n;
    p->snap_num = t->snap_num[t->snap_n - 1];
    p->snap_size = t->snap_size[t->snap_n - 1];
    if (count_rows(t, p, &p->nrows)) { /* (the load ignores the damaged checkpoint) */
        rc = 0;
        goto fail;
    }
    return 1;
fail:
    if (!t->point) {
        if (p) {
            free(p->probe);
            free(p->row);
            free(p->tail);
            free(p);
        }
    } else {
        ws_point_free(t);
    }
    return rc;
}

static int point_fn(pv_ws *ws, ws_table *t, void *ctx)
{
    (void)ctx;
    return ws_point_ready(ws, t);
}

int ws_point_read(pv_ws *ws, ws_table *t)
{
    /* (a current one was read and checked when it was built) */
    if (t->point && point_fresh(t, t->point)) return 1;
    return ws_read(ws, t, WS_READ_POINT, point_fn, NULL, NULL);
}

uint64_t ws_point_rows(const ws_table *t) { return t->point ? t->point->nrows : 0; }

/* The damaged checkpoint's way: the table loaded (every segment checked:
 * this checkpoint is ignored and the chunks replayed), then the key found
 * in its rows as pv_ws_lookup finds it. */
static int lookup_loaded(ws_table *t, const pv_value *key, const pv_value **out)
{
    ws_point_free(t);
    return ws_key_lookup_loaded(t->ws, t, key, out);
}

int ws_point_lookup(ws_table *t, const pv_value *key, const pv_value **out)
{
    ws_point *p = t->point;
    const pv_schema *s = t->schema;
    uint32_t k, col;
    long at;
    *out = NULL;
    for (k = 0; k < s->npk; k++) p->probe[s->pk[k]] = key[k];
    at = p->tail->nrows ? ws_key_find(p->tail, p->probe, ws_key_hash(s, p->probe)) : -1;
    if (at >= 0) {
        if (!p->tail->live[at]) return 0; /* deleted after the checkpoint */
        *out = &p->tail->vals[(size_t)at * s->ncols];
        return 1;
    }
    if ((at = ckpt_find(t, p->c, key)) == CKPT_DAMAGED) return lookup_loaded(t, key, out);
    if (at < 0) return 0;
    for (col = 0; col < s->ncols; col++) {
        if (!ws_ckpt_rows_ok(p->c, col, (uint64_t)at, 1)) return lookup_loaded(t, key, out);
        p->row[col] = ws_ckpt_value(p->c, col, (uint64_t)at);
    }
    *out = p->row;
    return 1;
}
