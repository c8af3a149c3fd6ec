/*
 * pvdb_secidx_sort.c: the order of a baked secondary index (docs/FORMAT.md
 * 3.12): the rows of a table sorted by (index key, row number), and where
 * each distinct key starts, in time proportional to the rows.
 *
 * Each index column is first reduced to a dense rank per row (0 for NULL,
 * then 1, 2, ... in pv_value_cmp order of the distinct values): integers
 * and reals through an order-preserving 64-bit image, counted directly
 * when their range is small and radix-sorted otherwise; text and blobs
 * through a hash table of the distinct strings, of which only the
 * distinct ones are sorted. The rows are then counting-sorted by the
 * ranks, last column first; every pass is stable and the rows start
 * ascending, so the rows of one key come out ascending without being
 * compared. No value is boxed into a pv_value on the way.
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "pvdb_format.h"
#include "pvdb_secidx.h"

static int nomem(const pv_index_def *x) { return pv_err(PV_ENOMEM, "out of memory baking index %s", x->name); }

static int is_null(const pv_vec *v, uint64_t r) { return v->nulls && v->nulls[r]; }

/* An unsigned image of a number that sorts as pv_value_cmp sorts the
 * column's values: INTEGER and BOOLEAN by value, REAL by value with -0.0
 * equal to 0.0 (IEEE-754 order read as an unsigned integer). */
static uint64_t num_image(const pv_vec *v, uint64_t r)
{
    uint64_t u;
    double f;
    if (v->type != PV_REAL) return (uint64_t)v->u.i[r] ^ (1ull << 63);
    f = v->u.f[r];
    if (f == 0) f = 0; /* -0.0 is 0.0 */
    memcpy(&u, &f, 8);
    return u >> 63 ? ~u : u | (1ull << 63);
}

/* LSD radix sort of idx[0..n) by img[idx[i]] - base (8-bit digits up to
 * the highest bit of `range`; a digit every value shares is skipped).
 * Stable. tmp has room for n. */
static void radix_by_image(uint32_t *idx, uint32_t *tmp, uint64_t n, const uint64_t *img, uint64_t base,
                           uint64_t range)
{
    unsigned shift;
    for (shift = 0; shift < 64 && (range >> shift); shift += 8) {
        uint64_t count[256] = {0}, i, at = 0;
        unsigned b;
        for (i = 0; i < n; i++) count[((img[idx[i]] - base) >> shift) & 0xff]++;
        for (b = 0; b < 256 && count[b] != n; b++) {}
        if (b < 256) continue; /* every value has this digit */
        for (b = 0; b < 256; b++) {
            uint64_t c = count[b];
            count[b] = at;
            at += c;
        }
        for (i = 0; i < n; i++) tmp[count[((img[idx[i]] - base) >> shift) & 0xff]++] = idx[i];
        memcpy(idx, tmp, n * sizeof *idx);
    }
}

/* Dense ranks of a numeric column: rank[r] for every row; *top the highest. */
static int rank_numbers(const pv_bake_table *t, const pv_vec *v, const pv_index_def *x, uint32_t *rank,
                        uint32_t *top)
{
    uint64_t *img = malloc((t->nrows ? t->nrows : 1) * sizeof *img), lo = UINT64_MAX, hi = 0, r, n = 0;
    uint32_t *idx = NULL, *tmp = NULL, d = 0;
    int rc = PV_OK;
    if (!img) return nomem(x);
    for (r = 0; r < t->nrows; r++) {
        if (is_null(v, r)) continue;
        img[r] = num_image(v, r);
        if (img[r] < lo) lo = img[r];
        if (img[r] > hi) hi = img[r];
        n++;
    }
    if (n && hi - lo <= 4 * t->nrows + 1024) { /* a small range: count the values present */
        uint32_t *dense = calloc(hi - lo + 1, sizeof *dense);
        uint64_t i;
        if (!dense) {
            rc = nomem(x);
            goto done;
        }
        for (r = 0; r < t->nrows; r++)
            if (!is_null(v, r)) dense[img[r] - lo] = 1;
        for (i = 0; i <= hi - lo; i++)
            if (dense[i]) dense[i] = ++d;
        for (r = 0; r < t->nrows; r++) rank[r] = is_null(v, r) ? 0 : dense[img[r] - lo];
        free(dense);
    } else if (n) { /* radix-sort the rows by value, then number the runs */
        uint64_t i, k = 0;
        if (!(idx = malloc(n * sizeof *idx)) || !(tmp = malloc(n * sizeof *tmp))) {
            rc = nomem(x);
            goto done;
        }
        for (r = 0; r < t->nrows; r++) {
            if (is_null(v, r)) rank[r] = 0;
            else idx[k++] = (uint32_t)r;
        }
        radix_by_image(idx, tmp, n, img, lo, hi - lo);
        for (i = 0; i < n; i++) {
            if (i == 0 || img[idx[i]] != img[idx[i - 1]]) d++;
            rank[idx[i]] = d;
        }
    } else {
        memset(rank, 0, t->nrows * sizeof *rank);
    }
    *top = d;
done:
    free(img);
    free(idx);
    free(tmp);
    return rc;
}

static int str_cmp(const pv_str *a, const pv_str *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    int c = n ? memcmp(a->p, b->p, n) : 0;
    return c ? c : (a->n < b->n ? -1 : a->n > b->n);
}

static int first_cmp(const void *pa, const void *pb, void *ctx)
{
    const pv_str *s = ctx;
    return str_cmp(&s[*(const uint32_t *)pa], &s[*(const uint32_t *)pb]);
}

/* Dense ranks of a TEXT or BLOB column (bytewise order, as pv_value_cmp):
 * the distinct strings through a hash table (each remembered by the first
 * row holding it), then only those sorted. */
static int rank_strings(const pv_bake_table *t, const pv_vec *v, const pv_index_def *x, uint32_t *rank,
                        uint32_t *top)
{
    uint64_t cap = 1024, mask, r;
    uint32_t *slot = calloc(cap, sizeof *slot); /* first row + 1, 0 empty */
    uint32_t *first = NULL, *order = NULL, d = 0, i; /* distinct id -> first row */
    size_t fcap = 0;
    int rc = PV_OK;
    if (!slot) return nomem(x);
    mask = cap - 1;
    for (r = 0; r < t->nrows; r++) {
        const pv_str *s;
        uint64_t h;
        if (is_null(v, r)) {
            rank[r] = 0;
            continue;
        }
        s = &v->u.s[r];
        h = XXH3_64bits(s->p, s->n) & mask;
        while (slot[h] && str_cmp(&v->u.s[first[slot[h] - 1]], s)) h = (h + 1) & mask;
        if (slot[h]) {
            rank[r] = slot[h] - 1; /* the distinct id for now */
            continue;
        }
        if (d == fcap) {
            uint32_t *g = realloc(first, (fcap = fcap ? 2 * fcap : 256) * sizeof *g);
            if (!g) goto oom;
            first = g;
        }
        first[d] = (uint32_t)r;
        slot[h] = ++d;
        rank[r] = d - 1;
        if (2ull * d > cap) { /* grow: rehash the distinct strings */
            uint32_t *g = calloc(cap * 2, sizeof *g);
            if (!g) goto oom;
            free(slot);
            slot = g;
            cap *= 2;
            mask = cap - 1;
            for (i = 0; i < d; i++) {
                const pv_str *e = &v->u.s[first[i]];
                uint64_t k = XXH3_64bits(e->p, e->n) & mask;
                while (slot[k]) k = (k + 1) & mask;
                slot[k] = i + 1;
            }
        }
    }
    /* order[id] = rank of distinct string id */
    if (d) {
        uint32_t *ids = malloc(d * sizeof *ids);
        pv_str *strs = malloc(d * sizeof *strs);
        if (!ids || !strs || !(order = malloc(d * sizeof *order))) {
            free(ids);
            free(strs);
            goto oom;
        }
        for (i = 0; i < d; i++) {
            ids[i] = i;
            strs[i] = v->u.s[first[i]];
        }
        qsort_r(ids, d, sizeof *ids, first_cmp, strs);
        for (i = 0; i < d; i++) order[ids[i]] = i + 1;
        free(ids);
        free(strs);
        for (r = 0; r < t->nrows; r++)
            if (!is_null(v, r)) rank[r] = order[rank[r]];
    }
    *top = d;
    goto done;
oom:
    rc = nomem(x);
done:
    free(slot);
    free(first);
    free(order);
    return rc;
}

/* Stable counting sort of rows[0..n) by rank[row] (0..top). */
static int counting_pass(uint32_t *rows, uint32_t *tmp, uint64_t n, const uint32_t *rank, uint32_t top,
                         const pv_index_def *x)
{
    uint64_t *count = calloc((uint64_t)top + 2, sizeof *count), i, at = 0;
    uint32_t b;
    if (!count) return nomem(x);
    for (i = 0; i < n; i++) count[rank[rows[i]]]++;
    for (b = 0; b <= top; b++) {
        uint64_t c = count[b];
        count[b] = at;
        at += c;
    }
    for (i = 0; i < n; i++) tmp[count[rank[rows[i]]]++] = rows[i];
    memcpy(rows, tmp, n * sizeof *rows);
    free(count);
    return PV_OK;
}

int pvdb_secidx_sort(const pv_bake_table *t, const pv_index_def *x, pvdb_secidx_order *out)
{
    uint32_t *rank[PVDB_INDEX_MAX_COLS] = {NULL}, top[PVDB_INDEX_MAX_COLS], *tmp = NULL;
    uint64_t r, n = 0, d = 0;
    uint32_t j, nc = x->ncols;
    int rc = PV_OK;
    memset(out, 0, sizeof *out);
    if (nc == 0 || nc > PVDB_INDEX_MAX_COLS || t->nrows >= UINT32_MAX)
        return pv_err(PV_ELIMIT, "index %s: cannot bake %u columns over %llu rows", x->name, nc,
                      (unsigned long long)t->nrows);
    for (j = 0; j < nc && rc == PV_OK; j++) {
        const pv_vec *v = &t->cols[x->cols[j]];
        if (!(rank[j] = malloc((t->nrows ? t->nrows : 1) * sizeof *rank[j]))) rc = nomem(x);
        else if (v->type == PV_TEXT || v->type == PV_BLOB) rc = rank_strings(t, v, x, rank[j], &top[j]);
        else rc = rank_numbers(t, v, x, rank[j], &top[j]);
    }
    if (rc) goto done;
    out->rows = malloc((t->nrows ? t->nrows : 1) * sizeof *out->rows);
    tmp = malloc((t->nrows ? t->nrows : 1) * sizeof *tmp);
    if (!out->rows || !tmp) {
        rc = nomem(x);
        goto done;
    }
    /* rows whose first index column is NULL are never found: left out */
    for (r = 0; r < t->nrows; r++)
        if (rank[0][r]) out->rows[n++] = (uint32_t)r;
    for (j = nc; j-- > 0 && rc == PV_OK;)
        if (top[j] > 0 && !(j == 0 && top[0] == 1)) rc = counting_pass(out->rows, tmp, n, rank[j], top[j], x);
    if (rc) goto done;
    /* the distinct keys: where any column's rank changes */
    if (!(out->starts = malloc((n + 1) * sizeof *out->starts))) {
        rc = nomem(x);
        goto done;
    }
    for (r = 0; r < n; r++) {
        int same = r > 0;
        for (j = 0; same && j < nc; j++) same = rank[j][out->rows[r]] == rank[j][out->rows[r - 1]];
        if (!same) out->starts[d++] = (uint32_t)r;
    }
    out->starts[d] = (uint32_t)n;
    out->nrows = n;
    out->nkeys = d;
done:
    for (j = 0; j < nc && j < PVDB_INDEX_MAX_COLS; j++) free(rank[j]);
    free(tmp);
    if (rc) pvdb_secidx_order_free(out);
    return rc;
}

void pvdb_secidx_order_free(pvdb_secidx_order *o)
{
    if (!o) return;
    free(o->rows);
    free(o->starts);
    memset(o, 0, sizeof *o);
}
