/*
 * ws_load.c: a workspace table in memory: replaying its chunk files (the
 * last record of a key wins), the primary-key index, the key-ordered column
 * vectors the executor scans, and the scan itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "blobstore.h"
#include "ws_ckpt.h"
#include "ws_internal.h"
#include "ws_replay.h"

/* ---- key index ----------------------------------------------------------- */

uint64_t ws_key_hash(const pv_schema *s, const pv_value *row)
{
    uint64_t h = 0x9e3779b97f4a7c15ull;
    uint32_t k;
    /* Chain the parts through the seed: each part's bytes and its type. */
    for (k = 0; k < s->npk; k++) {
        const pv_value *v = &row[s->pk[k]];
        h ^= (uint64_t)v->type;
        if (v->type == PV_TEXT || v->type == PV_BLOB)
            h = XXH3_64bits_withSeed(v->u.s.p, v->u.s.n, h);
        else if (v->type == PV_REAL && v->u.f == 0.0) /* -0.0 is the key 0.0 */
            h = XXH3_64bits_withSeed("\0\0\0\0\0\0\0\0", 8, h);
        else if (v->type != PV_NULL)
            h = XXH3_64bits_withSeed(&v->u.i, sizeof v->u.i, h);
    }
    return h;
}

static int key_equal(const pv_schema *s, const pv_value *a, const pv_value *b)
{
    uint32_t k;
    for (k = 0; k < s->npk; k++)
        if (pv_value_cmp(&a[s->pk[k]], &b[s->pk[k]]) != 0) return 0;
    return 1;
}

int ws_key_cmp_row(const ws_table *t, const pv_value *row, size_t idx)
{
    const pv_value *other = &t->vals[idx * t->schema->ncols];
    uint32_t k;
    for (k = 0; k < t->schema->npk; k++) {
        int c = pv_value_cmp(&row[t->schema->pk[k]], &other[t->schema->pk[k]]);
        if (c) return c;
    }
    return 0;
}

#define SLOT_ROW(s) ((uint32_t)(s))            /* row index + 1; 0: empty */
#define SLOT_TAG(s) ((uint32_t)((s) >> 32))
#define SLOT(tag, row1) (((uint64_t)(tag) << 32) | (uint64_t)(row1))

/* Rows the hash holds: all of them, or those after the sorted prefix. */
static size_t hashed_rows(const ws_table *t)
{
    return t->key_hashed ? t->nrows : t->nrows - t->sorted_rows;
}

/* Binary search of the sorted prefix; -1 when absent. */
static long prefix_find(const ws_table *t, const pv_value *row)
{
    size_t lo = 0, hi = t->sorted_rows;
    if (!hi || ws_key_cmp_row(t, row, hi - 1) > 0) return -1; /* past it: the usual append */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = ws_key_cmp_row(t, row, mid);
        if (c == 0) return (long)mid;
        if (c < 0) hi = mid;
        else lo = mid + 1;
    }
    return -1;
}

static long hash_find(const ws_table *t, const pv_value *row, uint64_t h)
{
    size_t mask = t->nslots - 1, i;
    uint32_t tag = (uint32_t)h;
    if (!t->nslots) return -1;
    for (i = h & mask;; i = (i + 1) & mask) {
        uint64_t s = t->slots[i];
        if (!s) return -1;
        if (SLOT_TAG(s) == tag && key_equal(t->schema, &t->vals[(size_t)(SLOT_ROW(s) - 1) * t->schema->ncols], row))
            return (long)(SLOT_ROW(s) - 1);
    }
}

long ws_key_find(const ws_table *t, const pv_value *row, uint64_t h)
{
    long at;
    if (!t->key_hashed && (at = prefix_find(t, row)) >= 0) return at;
    return hash_find(t, row, h);
}

static int index_grow_to(ws_table *t, size_t n)
{
    size_t i;
    uint64_t *slots;
    if (n > ((size_t)1 << 32)) return pv_err(PV_ELIMIT, "table %s: too many rows for the key index", t->schema->name);
    if (!(slots = calloc(n, sizeof *slots))) return pv_err(PV_ENOMEM, "out of memory (key index of %zu slots)", n);
    /* positions come from the low bits of the hash: the tag has them */
    for (i = 0; i < t->nslots; i++) {
        size_t j;
        if (!t->slots[i]) continue;
        j = SLOT_TAG(t->slots[i]) & (n - 1);
        while (slots[j]) j = (j + 1) & (n - 1);
        slots[j] = t->slots[i];
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    return PV_OK;
}

/* Slots for `rows` hashed rows at a load factor of at most one half. */
static int index_fit(ws_table *t, size_t rows)
{
    size_t n = t->nslots ? t->nslots : 1024;
    while (n < 2 * rows + 2) n *= 2;
    return n != t->nslots ? index_grow_to(t, n) : PV_OK;
}

/* Room for `more` new rows: the key index sized once (no rehash at every
 * doubling) and the row arrays grown once. */
int ws_reserve(ws_table *t, size_t more)
{
    size_t need = t->nrows + more;
    int rc;
    if ((t->nslots || t->key_hashed) && (rc = index_fit(t, hashed_rows(t) + more))) return rc;
    if (need > t->cap) {
        /* geometric growth: one-row inserts must not copy the table each time */
        size_t cols = t->schema->ncols, cap = t->cap * 2 > need ? t->cap * 2 : need;
        pv_value *v = realloc(t->vals, cap * cols * sizeof *v);
        uint8_t *l;
        if (!v) return pv_err(PV_ENOMEM, "out of memory (%zu rows)", cap);
        t->vals = v;
        if (!(l = realloc(t->live, cap))) return pv_err(PV_ENOMEM, "out of memory (%zu rows)", cap);
        t->live = l;
        t->cap = cap;
    }
    return PV_OK;
}

static void hash_put(ws_table *t, size_t idx, uint64_t h)
{
    size_t mask = t->nslots - 1, i;
    const pv_value *row = &t->vals[idx * t->schema->ncols];
    for (i = h & mask;; i = (i + 1) & mask) {
        uint64_t s = t->slots[i];
        if (!s || (SLOT_TAG(s) == (uint32_t)h &&
                   key_equal(t->schema, &t->vals[(size_t)(SLOT_ROW(s) - 1) * t->schema->ncols], row))) {
            t->slots[i] = SLOT((uint32_t)h, (uint32_t)(idx + 1));
            return;
        }
    }
}

int ws_key_index_build(ws_table *t)
{
    size_t idx;
    int rc;
    if (t->key_hashed) return PV_OK;
    if (t->nrows >= UINT32_MAX) return pv_err(PV_ELIMIT, "table %s: more than %u row slots", t->schema->name, UINT32_MAX - 1);
    free(t->slots);
    t->slots = NULL;
    t->nslots = 0;
    if ((rc = index_fit(t, t->nrows))) return rc;
    for (idx = 0; idx < t->nrows; idx++)
        hash_put(t, idx, ws_key_hash(t->schema, &t->vals[idx * t->schema->ncols]));
    t->key_hashed = 1;
    return PV_OK;
}

int ws_key_set(ws_table *t, size_t idx, uint64_t h)
{
    const pv_value *row = &t->vals[idx * t->schema->ncols];
    int rc;
    if (idx >= UINT32_MAX) return pv_err(PV_ELIMIT, "table %s: more than %u row slots", t->schema->name, UINT32_MAX - 1);
    /* the next row after the sorted prefix, with the largest key: the
     * prefix grows (and needs no hashing while the index is not built) */
    if (idx == t->sorted_rows && idx + 1 == t->nrows && (idx == 0 || ws_key_cmp_row(t, row, idx - 1) > 0)) {
        t->sorted_rows++;
        if (!t->key_hashed) return PV_OK;
    }
    if ((rc = index_fit(t, hashed_rows(t)))) return rc;
    hash_put(t, idx, h);
    return PV_OK;
}

/* ---- row storage --------------------------------------------------------- */

int ws_row_copy_into(ws_table *t, size_t idx, const pv_value *row)
{
    uint32_t c, n = t->schema->ncols;
    pv_value *dst = &t->vals[idx * n];
    for (c = 0; c < n; c++) {
        dst[c] = row[c];
        if ((row[c].type == PV_TEXT || row[c].type == PV_BLOB) && row[c].u.s.n) {
            char *p = pv_arena_dup(&t->arena, row[c].u.s.p, row[c].u.s.n);
            if (!p) return pv_err(PV_ENOMEM, "out of memory");
            dst[c].u.s.p = p;
        } else if (row[c].type == PV_TEXT || row[c].type == PV_BLOB) {
            dst[c].u.s.p = "";
        }
    }
    return PV_OK;
}

int ws_row_append(ws_table *t, const pv_value *row, size_t *idx)
{
    size_t n = t->schema->ncols;
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 256;
        pv_value *v = realloc(t->vals, cap * n * sizeof *v);
        uint8_t *l;
        if (!v) return pv_err(PV_ENOMEM, "out of memory (%zu rows)", cap);
        t->vals = v;
        l = realloc(t->live, cap);
        if (!l) return pv_err(PV_ENOMEM, "out of memory (%zu rows)", cap);
        t->live = l;
        t->cap = cap;
    }
    *idx = t->nrows;
    t->live[t->nrows] = 1;
    t->nrows++;
    t->nlive++;
    t->vec_dirty = 1;
    return ws_row_copy_into(t, *idx, row);
}

/* A checkpoint is written when a load replayed at least this many bytes of
 * chunk text past the last one (below, replaying is about as fast as
 * reading a new checkpoint would be); PV_LOAD_CACHE_MIN_BYTES overrides it
 * (tests use 0). */
uint64_t ws_ckpt_min_tail(void)
{
    const char *e = getenv("PV_LOAD_CACHE_MIN_BYTES");
    char *end;
    unsigned long long v;
    if (!e || !*e) return (uint64_t)4 << 20;
    v = strtoull(e, &end, 10);
    return *end ? (uint64_t)4 << 20 : (uint64_t)v;
}

/* The rows of a checkpoint become the table's rows (strings stay in its
 * mapping, which the table keeps until unload). */
static int rows_from_ckpt(ws_table *t, const ws_ckpt *c)
{
    uint32_t ncols = t->schema->ncols, col;
    uint64_t r;
    int rc;
    if ((rc = ws_reserve(t, (size_t)c->nrows))) return rc;
    for (r = 0; r < c->nrows; r++) {
        pv_value *dst = &t->vals[r * ncols];
        for (col = 0; col < ncols; col++) dst[col] = pv_vec_get(&c->vecs[col], (uint32_t)r);
    }
    memset(t->live, 1, (size_t)c->nrows);
    t->nrows = t->nlive = t->sorted_rows = (size_t)c->nrows;
    return PV_OK;
}

/* PV_LOAD_CACHE_TRACE set: one line on stderr per checkpoint read or
 * written (tests and `why is this slow` questions use it). */
void ws_load_note(ws_table *t, const char *what, uint64_t rows, uint64_t bytes, const char *how)
{
    char line[400];
    size_t have = strlen(t->load_note);
    snprintf(line, sizeof line, "%s (%llu rows, %llu bytes of chunk text replayed)%s", what,
             (unsigned long long)rows, (unsigned long long)bytes, how);
    if (getenv("PV_LOAD_CACHE_TRACE")) fprintf(stderr, "pv: table %s: %s\n", t->schema->name, line);
    /* (kept for pv_ws_table_load_note; a note that does not fit is cut) */
    snprintf(t->load_note + have, sizeof t->load_note - have, "%s%s", have ? "; " : "", line);
}

const char *pv_ws_table_load_note(const pv_ws *ws, uint32_t i)
{
    return i < ws->ntables ? ws->tables[i]->load_note : "";
}

static void trace_how(ws_table *t, const char *what, uint64_t rows, uint64_t bytes, const char *how)
{
    ws_load_note(t, what, rows, bytes, how);
}

static void trace(ws_table *t, const char *what, uint64_t rows, uint64_t bytes)
{
    trace_how(t, what, rows, bytes, "");
}

/* Write a checkpoint of what was just loaded (needs the vectors). */
static void save_ckpt(pv_ws *ws, ws_table *t)
{
    if ((!ws->posix && !ws->rev_ckpt) || t->nconflicts || ws_table_vectors(ws, t)) return;
    if (ws_ckpt_save(ws, t, t->cover, t->snap_n)) trace(t, "checkpoint written", t->vec_rows, 0);
}

/* t->cover sized for the snapshot, starting with what checkpoint c (if
 * any) covers. */
int ws_cover_reset(ws_table *t, const ws_ckpt *c)
{
    free(t->cover);
    t->ncover = 0;
    if (!(t->cover = calloc(t->snap_n + 1, sizeof *t->cover))) return pv_err(PV_ENOMEM, "out of memory");
    t->ncover = t->snap_n;
    if (c) memcpy(t->cover, c->chunks, c->nchunks * sizeof *t->cover);
    return PV_OK;
}

int ws_table_load(pv_ws *ws, ws_table *t)
{
    uint64_t tail = 0;
    size_t from = 0;
    int rc;
    if (t->loaded) return PV_OK;
    if (!t->ckpt && (rc = ws_ckpt_open(ws, t, &t->ckpt)) < 0) return rc;
    if ((rc = ws_cover_reset(t, t->ckpt))) return rc;
    if (t->ckpt) {
        const ws_ckpt *c = t->ckpt;
        if ((rc = rows_from_ckpt(t, c))) goto fail;
        from = c->nchunks - 1;
        rc = ws_replay_from(ws, t, t, from, c->chunks[from].size, &tail);
    } else {
        rc = ws_replay_from(ws, t, t, 0, 0, &tail);
    }
    if (rc) goto fail;
    trace(t, t->ckpt ? "rows loaded from the checkpoint" : "rows loaded from the chunks", t->nrows, tail);
    t->loaded = 1;
    if (tail >= ws_ckpt_min_tail() && tail) save_ckpt(ws, t);
    return PV_OK;
fail:
    ws_table_unload(t);
    return rc;
}

/* Do t's chunk files on disk hold exactly what its snapshot says (no
 * commit by another process since)? Fills t->cover with their hashes.
 * The caller holds the shared commit lock. 1 yes, 0 no, or an error. A
 * rewrite since the snapshot is a no even when the sizes still match: the
 * rows were read from the bytes before it. */
static int cover_current(pv_ws *ws, ws_table *t)
{
    uint32_t *nums = NULL;
    size_t n = 0, i;
    int rc, same;
    if (ws_gen_moved(ws)) return 0;
    rc = ws_list_chunks(ws, t, &nums, &n);
    same = !rc && n == t->snap_n;
    for (i = 0; same && i < n; i++) same = nums[i] == t->snap_num[i];
    free(nums);
    if (rc || !same) return rc ? rc : 0;
    if ((rc = ws_cover_reset(t, NULL))) return rc;
    for (i = 0; i < t->snap_n; i++) {
        uint64_t len;
        if ((rc = ws_ckpt_chunk_read(ws, t, t->snap_num[i], UINT64_MAX, &t->cover[i], &len))) return rc;
        if (len != t->snap_size[i]) return 0;
    }
    return 1;
}

int pv_ws_checkpoint(pv_ws *ws, const char *table)
{
    ws_table *t = ws_find(ws, table);
    int rc;
    if (!t || !t->loaded || !ws->posix || ws->txn.open || t->nconflicts || !t->snap_n ||
        getenv("PV_NO_LOAD_CACHE"))
        return PV_OK;
    if ((rc = ws_commit_lock(ws, 0))) return rc;
    if ((rc = cover_current(ws, t)) > 0 && !(rc = ws_table_vectors(ws, t))) {
        if (ws_ckpt_save(ws, t, t->cover, t->snap_n)) trace(t, "checkpoint written", t->vec_rows, 0);
    }
    ws_commit_unlock(ws);
    return rc < 0 ? rc : PV_OK;
}

/* Vectors straight from a checkpoint that covers every chunk as the
 * snapshot sees it: 1 when set up, 0 when there is none, or an error. */
static int vectors_from_ckpt(pv_ws *ws, ws_table *t)
{
    ws_ckpt *c;
    uint32_t col;
    int rc;
    if (!t->ckpt && (rc = ws_ckpt_open(ws, t, &t->ckpt)) <= 0) return rc;
    c = t->ckpt;
    ws_vectors_free(t);
    if (c->nchunks != t->snap_n || c->chunks[c->nchunks - 1].size != t->snap_size[t->snap_n - 1]) {
        uint64_t replayed = 0;
        /* records after it: merged in, and a long tail saved for next time */
        if ((rc = ws_tail_vectors(ws, t, &replayed)) <= 0) return rc;
        trace(t, "vectors from the checkpoint and its tail", t->vec_rows, replayed);
        if (replayed && replayed >= ws_ckpt_min_tail()) {
            if (ws_ckpt_save(ws, t, t->cover, t->snap_n)) trace(t, "checkpoint written", t->vec_rows, 0);
        }
        return rc;
    }
    if ((rc = ws_vectors_alloc(t))) {
        ws_vectors_free(t);
        return rc;
    }
    /* (vec_data and vec_nulls stay NULL: the checkpoint owns the arrays) */
    for (col = 0; col < t->schema->ncols; col++) t->vecs[col] = c->vecs[col];
    t->vec_rows = c->nrows;
    t->vec_dirty = 0;
    trace(t, "vectors from the checkpoint", t->vec_rows, 0);
    return 1;
}

int ws_table_load_vectors(pv_ws *ws, ws_table *t)
{
    return ws_table_load_vectors_ex(ws, t, NULL);
}

int ws_table_load_vectors_ex(pv_ws *ws, ws_table *t, uint64_t *replayed)
{
    ws_replay_stats st;
    char how[160];
    ws_vecsink *vs = NULL;
    uint64_t tail = 0;
    int rc;
    if (t->loaded || (t->vecs && !t->vec_dirty)) return PV_OK;
    if (!t->ckpt && (rc = ws_ckpt_open(ws, t, &t->ckpt)) < 0) return rc;
    if (t->ckpt || t->nrows || ws_load_plain()) {
        if (replayed) *replayed = 0;
        return ws_table_load(ws, t);
    }
    ws_vectors_free(t);
    if ((rc = ws_cover_reset(t, NULL)) || (rc = ws_vecsink_new(t, &vs))) goto fail;
    if ((rc = ws_replay_run(ws, t, t, 0, 0, &tail, vs, &st))) goto fail;
    /* (the trace says which way the rows went, and on how many threads) */
    snprintf(how, sizeof how, " on %u thread%s, %zu of %zu chunks decoded as columns, %s", st.threads,
             st.threads == 1 ? "" : "s", st.as_columns, st.chunks,
             ws_vecsink_active(vs) ? "into column vectors" : "into rows");
    if (ws_vecsink_active(vs)) {
        if ((rc = ws_vecsink_finish(vs))) goto fail;
        trace_how(t, "rows loaded from the chunks", t->vec_rows, tail, how);
    } else {
        t->loaded = 1;
        trace_how(t, "rows loaded from the chunks", t->nrows, tail, how);
    }
    ws_vecsink_free(vs);
    if (replayed) *replayed = tail; /* (the caller saves the checkpoint) */
    else if (tail >= ws_ckpt_min_tail() && tail) save_ckpt(ws, t);
    return PV_OK;
fail:
    ws_vecsink_free(vs);
    ws_table_unload(t);
    return rc;
}

int ws_table_rows_ready(pv_ws *ws, ws_table *t)
{
    int rc;
    if (t->loaded || (t->vecs && !t->vec_dirty)) return PV_OK;
    if ((rc = vectors_from_ckpt(ws, t)) > 0) return PV_OK;
    if (rc < 0) return rc;
    return ws_table_load_vectors(ws, t);
}

static int load_fn(pv_ws *ws, ws_table *t, void *ctx)
{
    (void)ctx;
    return ws_table_load(ws, t);
}

static int rows_fn(pv_ws *ws, ws_table *t, void *ctx)
{
    (void)ctx;
    return ws_table_rows_ready(ws, t);
}

int ws_load_read(pv_ws *ws, ws_table *t)
{
    return t->loaded ? PV_OK : ws_read(ws, t, WS_READ_ROWS, load_fn, NULL, NULL);
}

int ws_rows_read(pv_ws *ws, ws_table *t)
{
    if (t->loaded || (t->vecs && !t->vec_dirty)) return PV_OK;
    return ws_read(ws, t, WS_READ_ROWS, rows_fn, NULL, NULL);
}

/* The (empty) per-column vector arrays of t. */
int ws_vectors_alloc(ws_table *t)
{
    uint32_t n = t->schema->ncols + 1;
    t->vecs = calloc(n, sizeof *t->vecs);
    t->vec_data = calloc(n, sizeof *t->vec_data);
    t->vec_nulls = calloc(n, sizeof *t->vec_nulls);
    return t->vecs && t->vec_data && t->vec_nulls ? PV_OK : pv_err(PV_ENOMEM, "out of memory");
}

void ws_vectors_free(ws_table *t)
{
    ws_tail_free(t); /* the vectors held its strings */
    uint32_t c;
    if (t->vec_data)
        for (c = 0; c < t->schema->ncols; c++) free(t->vec_data[c]);
    if (t->vec_nulls)
        for (c = 0; c < t->schema->ncols; c++) free(t->vec_nulls[c]);
    free(t->vec_data);
    free(t->vec_nulls);
    free(t->vecs);
    t->vec_data = NULL;
    t->vec_nulls = NULL;
    t->vecs = NULL;
    t->vec_rows = 0;
    t->vec_dirty = 1;
}

void ws_table_unload(ws_table *t)
{
    ws_index_unload(t);
    ws_vectors_free(t);
    ws_ckpt_free(t->ckpt);
    t->ckpt = NULL;
    free(t->cover);
    t->cover = NULL;
    t->ncover = 0;
    t->key_hashed = 0;
    t->key_searches = 0;
    t->sorted_rows = 0;
    pv_arena_free(&t->arena);
    free(t->vals);
    free(t->live);
    free(t->slots);
    free(t->conflicts);
    t->conflicts = NULL;
    t->nconflicts = 0;
    t->vals = NULL;
    t->live = NULL;
    t->slots = NULL;
    t->nrows = t->cap = t->nlive = t->nslots = 0;
    t->last_chunk = 0;
    t->last_size = 0;
    t->last_header_ok = 0;
    t->loaded = 0;
}

/* ---- key-ordered column vectors ------------------------------------------ */

static int row_key_cmp(const void *a, const void *b, void *ctx)
{
    const ws_table *t = ctx;
    const pv_value *x = &t->vals[*(const size_t *)a * t->schema->ncols];
    const pv_value *y = &t->vals[*(const size_t *)b * t->schema->ncols];
    uint32_t k;
    for (k = 0; k < t->schema->npk; k++) {
        int c = pv_value_cmp(&x[t->schema->pk[k]], &y[t->schema->pk[k]]);
        if (c) return c;
    }
    return 0;
}

static int fill_column(ws_table *t, uint32_t c, const size_t *order, size_t n)
{
    int type = t->schema->cols[c].type;
    size_t elem = type == PV_REAL ? sizeof(double) : (type == PV_TEXT || type == PV_BLOB) ? sizeof(pv_str) : sizeof(int64_t);
    uint8_t *nulls = NULL;
    char *data = malloc((n ? n : 1) * elem);
    size_t r;
    if (!data) return pv_err(PV_ENOMEM, "out of memory (column %s)", t->schema->cols[c].name);
    t->vec_data[c] = data;
    for (r = 0; r < n; r++) {
        const pv_value *v = &t->vals[order[r] * t->schema->ncols + c];
        if (v->type == PV_NULL) {
            if (!nulls && !(nulls = calloc(n, 1))) return pv_err(PV_ENOMEM, "out of memory");
            nulls[r] = 1;
            memset(data + r * elem, 0, elem);
            continue;
        }
        if (type == PV_REAL) ((double *)data)[r] = v->u.f;
        else if (type == PV_TEXT || type == PV_BLOB) ((pv_str *)data)[r] = v->u.s;
        else ((int64_t *)data)[r] = v->u.i;
    }
    t->vec_nulls[c] = nulls;
    t->vecs[c].type = type;
    t->vecs[c].nulls = nulls;
    t->vecs[c].u.i = (const int64_t *)(const void *)data;
    return PV_OK;
}

/* The live row slots (all when `all`) in key order: the sorted prefix as
 * it is, the rest sorted (usually a few appended rows), then the two runs
 * merged. */
int ws_rows_in_order(ws_table *t, size_t *order, size_t *n, int all)
{
    size_t r, np = 0, ns = 0, *rest, i, j, k;
    for (r = 0; r < t->sorted_rows; r++)
        if (all || t->live[r]) order[np++] = r;
    for (r = t->sorted_rows; r < t->nrows; r++)
        if (all || t->live[r]) order[np + ns++] = r;
    *n = np + ns;
    if (!ns) return PV_OK;
    rest = order + np;
    /* (rows appended in order after the prefix need no sort either) */
    for (r = 1; r < ns && row_key_cmp(&rest[r - 1], &rest[r], t) <= 0; r++) {}
    if (r < ns) qsort_r(rest, ns, sizeof *rest, row_key_cmp, t);
    if (!np || row_key_cmp(&order[np - 1], &rest[0], t) < 0) return PV_OK;
    if (!(rest = malloc(ns * sizeof *rest))) return pv_err(PV_ENOMEM, "out of memory");
    memcpy(rest, order + np, ns * sizeof *rest);
    /* merge from the back, so the prefix can stay where it is */
    i = np;
    j = ns;
    k = np + ns;
    while (j > 0) {
        if (i > 0 && row_key_cmp(&order[i - 1], &rest[j - 1], t) > 0) order[--k] = order[--i];
        else order[--k] = rest[--j];
    }
    free(rest);
    return PV_OK;
}

int ws_table_vectors(pv_ws *ws, ws_table *t)
{
    size_t *order = NULL, n = 0;
    uint32_t c, ncols = t->schema->ncols;
    int rc;
    if (!t->loaded && (rc = ws_table_rows_ready(ws, t))) return rc;
    if (!t->vec_dirty) return PV_OK;
    ws_vectors_free(t);
    if (!(order = malloc((t->nlive ? t->nlive : 1) * sizeof *order))) {
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = ws_vectors_alloc(t))) goto done;
    if ((rc = ws_rows_in_order(t, order, &n, 0))) goto done;
    for (c = 0; c < ncols && !rc; c++) rc = fill_column(t, c, order, n);
    if (!rc) {
        t->vec_rows = n;
        t->vec_dirty = 0;
    }
done:
    free(order);
    if (rc) ws_vectors_free(t);
    return rc;
}

/* ---- scans --------------------------------------------------------------- */

struct pv_scan {
    const ws_table *t;
    uint64_t pos;
    uint32_t ncols;
    uint32_t *cols;
    pv_vec *out;
};

static int ws_scan_open(const pv_source *src, const uint32_t *cols, uint32_t ncols, pv_scan **out)
{
    ws_table *t = src->impl;
    pv_scan *s;
    uint32_t i;
    int rc = ws_rows_read(t->ws, t);
    if (rc || (rc = ws_table_vectors(t->ws, t))) return rc;
    for (i = 0; i < ncols; i++)
        if (cols[i] >= t->schema->ncols) return pv_err(PV_ERANGE, "column %u out of range", cols[i]);
    s = calloc(1, sizeof *s);
    if (!s) return pv_err(PV_ENOMEM, "out of memory");
    s->t = t;
    s->ncols = ncols;
    s->cols = malloc((ncols + 1) * sizeof *s->cols);
    s->out = calloc(ncols + 1, sizeof *s->out);
    if (!s->cols || !s->out) {
        free(s->cols);
        free(s->out);
        free(s);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    if (ncols) memcpy(s->cols, cols, ncols * sizeof *cols);
    *out = s;
    return PV_OK;
}

/* Batches are windows on the table's vectors: no copying. */
static int ws_scan_next(pv_scan *s, pv_batch *out)
{
    uint64_t left = s->t->vec_rows - s->pos;
    uint32_t n = left > PV_BATCH_ROWS ? PV_BATCH_ROWS : (uint32_t)left, i;
    if (!n) return 0;
    for (i = 0; i < s->ncols; i++) {
        const pv_vec *v = &s->t->vecs[s->cols[i]];
        pv_vec *o = &s->out[i];
        o->type = v->type;
        o->nulls = v->nulls ? v->nulls + s->pos : NULL;
        if (v->type == PV_REAL) o->u.f = v->u.f + s->pos;
        else if (v->type == PV_TEXT || v->type == PV_BLOB) o->u.s = v->u.s + s->pos;
        else o->u.i = v->u.i + s->pos;
    }
    s->pos += n;
    out->nrows = n;
    out->ncols = s->ncols;
    out->cols = s->out;
    return (int)n;
}

static void ws_scan_close(pv_scan *s)
{
    if (!s) return;
    free(s->cols);
    free(s->out);
    free(s);
}

const pv_source_ops ws_source_ops = {ws_scan_open, ws_scan_next, ws_scan_close};
