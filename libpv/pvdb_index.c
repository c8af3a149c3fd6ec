/*
 * pvdb_index.c: the primary key index and row reads of a `.pvdb` table
 * (docs/BAKE.md 4).
 *
 * Rows are stored in key order, so the index is the key columns plus the
 * sparse levels already in the file: the row groups' zone maps (in memory
 * after open) pick the row group, the key chunk's block headers pick the
 * block, a binary search in the block finds the row. A LINEAR key chunk
 * (1..N) turns the last two steps into a division. Nothing is built at
 * open; nothing here checks a chunk checksum, but everything read is
 * bounds-checked (O(1) per access), so a crafted file gives PV_ECORRUPT.
 */
#include <stdlib.h>
#include <string.h>

#include "encode_stream.h"
#include "pvdb.h"
#include "pvdb_impl.h"
#include "util.h"

/* A key being searched for in one table. */
typedef struct ksearch {
    const pvdb_table *t;
    const pv_value *key;
    uint32_t nkey;
    int upper;          /* find the first row > key (else >= key) */
    uint32_t g, k;      /* group and key column whose chunk is open in dec */
    int open;
    pv_dec dec;
    pv_buf mem;
    int advise;         /* a point read of a cold file (pvdb_cold) */
    struct pvdb_rowcache *rc; /* the reader's opened chunks, or NULL */
    int hit;            /* a lower bound computed inside its group: 1 when
                           that row holds the key, 0 when it does not, -1
                           unknown (the row must be read and compared) */
} ksearch;

static inline pv_dec *cached_dec(struct pvdb_rowcache *rc, uint32_t g, uint32_t c,
                                 pv_dec **slot, uint64_t **valid);
static inline void cached_set(uint64_t *valid, uint32_t c);
static unsigned cached_load_flags(const struct pvdb_rowcache *rc, pv_dec *d);
static void dec_unowned(pv_dec *d);

static int get_table(const pvdb_file *f, uint32_t table, const pvdb_table **out)
{
    if (!f || table >= f->ntables) return pv_err(PV_ERANGE, "no table %u", table);
    *out = &f->tables[table];
    return PV_OK;
}

/* ---- comparisons ---------------------------------------------------------------- */

/* Sign of (zone bound z - key) on the first key column; for TEXT and BLOB
 * the comparison is of 8-byte zero-padded prefixes, so 0 may hide either. */
static int zone_cmp(int type, const uint8_t z[8], const pv_value *key)
{
    pv_value zv;
    if (pv_enc_is_str(type)) {
        uint8_t kp[8] = {0};
        zv = type == PV_TEXT ? pv_v_text("", 0) : pv_v_blob("", 0);
        if (key->type != type) return pv_value_cmp(&zv, key); /* other class */
        memcpy(kp, key->u.s.p, key->u.s.n < 8 ? key->u.s.n : 8);
        return memcmp(z, kp, 8);
    }
    if (type == PV_INTEGER && key->type == PV_INTEGER) { /* the common key: no pv_value_cmp */
        int64_t a = (int64_t)pv_get_u64(z);
        return a < key->u.i ? -1 : a > key->u.i;
    }
    zv = pv_enc_num_value(type, pv_get_u64(z));
    return pv_value_cmp(&zv, key);
}

/* The opened chunk of key column k in group g: the reader's cached one,
 * or s->dec (opened unless it holds that chunk already). */
static int key_dec(ksearch *s, uint32_t g, uint32_t k, pv_dec **out)
{
    uint32_t c = s->t->schema.pk[k];
    const uint8_t *bm;
    uint64_t *valid = NULL;
    pv_dec *slot, *d = cached_dec(s->rc, g, c, &slot, &valid);
    int rc;
    if (!d && !slot && s->open && s->g == g && s->k == k) d = &s->dec;
    if (d) {
        *out = d;
        return PV_OK;
    }
    d = slot ? slot : &s->dec;
    if (!slot) dec_unowned(d);
    /* (with the block cache, as pvdb_read_row opens the cached ones) */
    rc = pvdb_load_chunk(s->t, g, c, slot ? cached_load_flags(s->rc, d) : 0, d, &bm);
    s->open = 0;
    if (rc) return rc;
    if (slot) {
        cached_set(valid, c);
    } else {
        s->open = 1;
        s->g = g;
        s->k = k;
    }
    *out = d;
    return PV_OK;
}

/* Value of key column k at row r of group g into *v (strings may land in
 * s->mem). 0 or PV_ECORRUPT. */
static int key_value(ksearch *s, uint32_t g, uint32_t k, uint32_t r, pv_value *v)
{
    const char *why = "";
    uint64_t moff;
    pv_dec *d;
    int rc = key_dec(s, g, k, &d);
    if (rc) return rc;
    rc = pv_encoder_get(d->enc)->get(d, r, v, &s->mem, &moff, &why);
    if (rc > 0) return pvdb_bad_chunk(s->t, g, s->t->schema.pk[k], why);
    if (rc) return rc;
    if (moff != UINT64_MAX) v->u.s.p = s->mem.p + moff;
    return PV_OK;
}

/* Sign of (key of row r of group g, on nkey columns) - s->key. */
static int row_cmp(ksearch *s, uint32_t g, uint32_t r, int *out)
{
    uint32_t k;
    s->mem.len = 0;
    for (k = 0; k < s->nkey; k++) {
        pv_value v;
        int rc = key_value(s, g, k, r, &v), c;
        if (rc) return rc;
        if (v.type == PV_INTEGER && s->key[k].type == PV_INTEGER)
            c = v.u.i < s->key[k].u.i ? -1 : v.u.i > s->key[k].u.i;
        else
            c = pv_value_cmp(&v, &s->key[k]);
        if (c) {
            *out = c;
            return PV_OK;
        }
    }
    *out = 0;
    return PV_OK;
}

/* Does row r of group g come before the answer (key < target, or <= for
 * an upper bound)? */
static int before(ksearch *s, uint32_t g, uint32_t r, int *out)
{
    int c, rc = row_cmp(s, g, r, &c);
    if (rc) return rc;
    *out = s->upper ? c <= 0 : c < 0;
    return PV_OK;
}

/* ---- inside one row group --------------------------------------------------------- */

/* First position in [0, n) where `pos` is not before, for integers. */
static uint32_t int_bound(int64_t k, int upper, const uint8_t *q, int64_t ref, unsigned w,
                          uint32_t n)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t v = (int64_t)((uint64_t)ref + pv_unpack1(q, mid, w));
        if (upper ? v <= k : v < k) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* The fast paths of one INTEGER key column searched by an INTEGER: LINEAR,
 * FOR and PLAIN chunks. 1 when it did not apply. */
static int fast_bound(ksearch *s, uint32_t g, uint32_t *out)
{
    const pvdb_table *t = s->t;
    uint32_t c = t->schema.pk[0], rows = pvdb_chunk_at(t, g, c)->rows;
    int64_t k = s->key[0].u.i;
    pv_dec *d;
    int rc;
    if (s->nkey != 1 || s->key[0].type != PV_INTEGER || t->schema.cols[c].type != PV_INTEGER)
        return 1;
    if ((rc = key_dec(s, g, 0, &d))) return rc;
    if (d->enc == PV_ENC_LINEAR && d->is.step == 1) { /* (ids 1..N: no division) */
        int64_t idx;
        if (!__builtin_sub_overflow(k, d->is.base, &idx) && idx < INT64_MAX) {
            idx += s->upper ? 1 : 0;
            *out = idx <= 0 ? 0 : idx > rows ? rows : (uint32_t)idx;
            if (!s->upper && *out < rows) s->hit = idx >= 0; /* (as below) */
            return PV_OK;
        }
    }
    if (d->enc == PV_ENC_LINEAR && d->is.step >= 0) {
        __int128 num = (__int128)k - d->is.base + (s->upper ? 1 : 0), idx;
        if (d->is.step == 0) idx = num > 0 ? rows : 0;
        else idx = num <= 0 ? 0 : (num + d->is.step - 1) / d->is.step;
        *out = idx > rows ? rows : (uint32_t)idx;
        /* the row's key is base + idx * step: a point read needs not read
         * it again (past the group, the next group's first row decides) */
        if (!s->upper && idx < rows) s->hit = (__int128)d->is.base + idx * d->is.step == k;
        return PV_OK;
    }
    if (d->enc == PV_ENC_PLAIN) {
        uint32_t lo = 0, hi = rows;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            int64_t v = (int64_t)pv_get_u64(d->vals + 8 * (size_t)mid);
            if (s->upper ? v <= k : v < k) lo = mid + 1;
            else hi = mid;
        }
        *out = lo;
        return PV_OK;
    }
    if (d->enc == PV_ENC_FOR) {
        /* first block whose ref (its first value, keys being sorted) is not
         * before; the answer is in the block ahead of it or at its start */
        uint32_t lo = 0, hi = d->is.a.nblocks, b;
        int64_t ref;
        unsigned w;
        const uint8_t *q;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (pv_for_block(&d->is.a, mid, &ref, &w, &q))
                return pvdb_bad_chunk(t, g, c, "bad key block");
            if (s->upper ? ref <= k : ref < k) lo = mid + 1;
            else hi = mid;
        }
        if (lo == 0) {
            *out = 0;
            return PV_OK;
        }
        b = lo - 1;
        if (pv_for_block(&d->is.a, b, &ref, &w, &q))
            return pvdb_bad_chunk(t, g, c, "bad key block");
        *out = (b << PV_BLOCK_SHIFT) + int_bound(k, s->upper, q, ref, w, pv_block_len(rows, b));
        return PV_OK;
    }
    return 1;
}

/* First row of group g that is not before the key. */
static int group_bound(ksearch *s, uint32_t g, uint32_t *out)
{
    uint32_t lo = 0, hi = pvdb_chunk_at(s->t, g, s->t->schema.pk[0])->rows;
    int rc = fast_bound(s, g, out);
    if (rc <= 0) return rc;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int b;
        rc = before(s, g, mid, &b);
        if (rc) return rc;
        if (b) lo = mid + 1;
        else hi = mid;
    }
    *out = lo;
    return PV_OK;
}

/* ---- across row groups ----------------------------------------------------------------- */

/* A cold point read: while the key is searched in group g, every column's
 * chunk in g is read as well (the row is read from there next): a small
 * chunk whole, so that its header, dictionary, block table and the row's
 * words all come in this one round; a larger one its start (header,
 * dictionary and block table, usually), its row's word following in the
 * next round (advise_word). */
static void advise_group(const pvdb_table *t, uint32_t g)
{
    uint64_t from = 0, to = 0; /* the run of bytes not advised yet */
    uint32_t c;
    for (c = 0; c < t->schema.ncols; c++) {
        const pvdb_chunk *k = pvdb_chunk_at(t, g, c);
        uint64_t end = k->off + (k->len <= PVDB_COLD_WHOLE ? k->len : PVDB_COLD_PREFIX);
        /* a group's chunks follow each other: ranges that touch (within a
         * page) go in one request, as the device reads them at once */
        if (to && k->off >= from && k->off <= to + 4096) {
            if (end > to) to = end;
            continue;
        }
        if (to) pvdb_advise(t->file, from, to - from);
        from = k->off;
        to = end;
    }
    if (to) pvdb_advise(t->file, from, to - from);
}

/* The first row group whose key zone max is not below k (not at or below
 * it when `strict`), or ngroups: a binary search over kzmax that starts
 * from an interpolated guess (the key's place between the first group's
 * min and the last group's max). Keys spread evenly over the groups, as
 * 1..N are, are found by the guess and one or two checks beside it,
 * branches the CPU predicts; random keys mispredicted about half of the
 * six steps of a plain search over flights' 46 groups. A poor guess (keys
 * bunched in a few groups) costs those two checks more than the plain
 * search. (Interpolation search: W. W. Peterson, "Addressing for
 * random-access storage", IBM J. Res. Dev. 1(2), 1957.) */
static uint32_t zones_not_below(const pvdb_table *t, int64_t k, int strict)
{
    uint32_t lo = 0, hi = t->ngroups, g;
    double x = ((double)k - (double)t->kzmin[0]) * t->kzscale;
#define BELOW(i) (strict ? t->kzmax[i] <= k : t->kzmax[i] < k)
    g = x > 0 ? (x < (double)hi ? (uint32_t)x : hi - 1) : 0; /* (!(x > 0): NaN too) */
    if (BELOW(g)) {
        lo = g + 1;
        if (lo < hi && !BELOW(lo)) return lo;
    } else {
        hi = g;
        if (g == 0 || BELOW(g - 1)) return g;
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (BELOW(mid)) lo = mid + 1;
        else hi = mid;
    }
#undef BELOW
    return lo;
}

static int bound(ksearch *s, uint64_t *out)
{
    const pvdb_table *t = s->t;
    uint32_t c0 = t->schema.pk[0], lo = 0, hi = t->ngroups, glo, ghi, r = 0;
    int type = t->schema.cols[c0].type, rc, exact = !pv_enc_is_str(type);
    int strict = s->upper && s->nkey == 1 && exact;
    if (t->ngroups == 0) {
        *out = 0;
        return PV_OK;
    }
    /* glo: first group whose max is not below the key (groups before hold
     * only smaller first key columns) */
    if (t->kzmax && s->key[0].type == PV_INTEGER) /* as zone_cmp, densely */
        lo = hi = zones_not_below(t, s->key[0].u.i, strict);
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = zone_cmp(type, pvdb_chunk_at(t, mid, c0)->zmax, &s->key[0]);
        if (strict ? c <= 0 : c < 0) lo = mid + 1;
        else hi = mid;
    }
    glo = lo;
    if (glo == t->ngroups) {
        *out = t->nrows;
        return PV_OK;
    }
    /* ghi: last group whose min is not above the key; with a one-column
     * INTEGER key (unique, rows in key order) the groups' ranges are
     * disjoint, so it is glo */
    lo = glo;
    hi = t->ngroups;
    if (t->kzmin && t->schema.npk == 1 && s->key[0].type == PV_INTEGER) hi = glo + 1;
    if (t->kzmin && s->key[0].type == PV_INTEGER) {
        int64_t k = s->key[0].u.i;
        while (lo < hi) {
            uint32_t mid = lo + (hi - lo) / 2;
            if (t->kzmin[mid] <= k) lo = mid + 1;
            else hi = mid;
        }
    }
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c = zone_cmp(type, pvdb_chunk_at(t, mid, c0)->zmin, &s->key[0]);
        if (c <= 0) lo = mid + 1;
        else hi = mid;
    }
    ghi = lo ? lo - 1 : 0;
    if (ghi < glo) ghi = glo;
    if (s->advise) /* (a unique key: nearly always one group) */
        for (lo = glo; lo <= ghi && lo < glo + 2; lo++) advise_group(t, lo);
    /* the last group in [glo, ghi] whose first row is before the key */
    lo = glo;
    hi = ghi + 1;
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        int b;
        rc = before(s, mid, 0, &b);
        if (rc) return rc;
        if (b) lo = mid;
        else hi = mid;
    }
    rc = group_bound(s, lo, &r);
    if (rc) return rc;
    *out = t->gfirst[lo] + r;
    return PV_OK;
}

static int search(const pvdb_table *t, const pv_value *key, uint32_t nkey, int upper,
                  uint64_t *out)
{
    ksearch s;
    int rc;
    s.t = t;
    s.key = key;
    s.nkey = nkey;
    s.upper = upper;
    s.open = 0;
    s.g = s.k = 0;
    s.advise = 0;
    s.rc = NULL;
    s.hit = -1;
    memset(&s.mem, 0, sizeof s.mem);
    rc = bound(&s, out);
    pv_buf_free(&s.mem);
    return rc;
}

static int check_key(const pvdb_table *t, const pv_value *key, uint32_t nkey)
{
    uint32_t k;
    if (nkey > t->schema.npk || (nkey && !key))
        return pv_err(PV_EMISUSE, "table %s: a key of %u values, the key has %u columns",
                      t->schema.name, nkey, t->schema.npk);
    for (k = 0; k < nkey; k++)
        if (key[k].type < PV_NULL || key[k].type > PV_BOOLEAN)
            return pv_err(PV_EMISUSE, "table %s: bad key value type", t->schema.name);
    return PV_OK;
}

static pvdb_rowcache *rowcache_for(pvdb_rowcache **rcp, const pvdb_table *t);

/* The row of a whole key: 1 and *out, 0 when absent (no message is made:
 * a miss is an ordinary answer of pv_get), or an error. rcp: the reader's
 * row cache, or NULL. */
static int find_row(const pvdb_table *t, const pv_value *key, uint32_t npk, uint64_t *out,
                    pvdb_rowcache **rcp)
{
    uint64_t row;
    uint32_t k;
    ksearch s;
    int rc, c = 1;
    if (npk != t->schema.npk)
        return pv_err(PV_EMISUSE, "table %s: a key of %u values, the key has %u columns",
                      t->schema.name, npk, t->schema.npk);
    rc = check_key(t, key, npk);
    if (rc) return rc;
    for (k = 0; k < npk; k++)
        if (key[k].type == PV_NULL) return 0; /* no key is NULL */
    s.t = t;
    s.key = key;
    s.nkey = npk;
    s.upper = 0;
    s.open = 0;
    s.g = s.k = 0;
    s.advise = pvdb_cold(t->file);
    s.rc = rowcache_for(rcp, t);
    s.hit = -1;
    memset(&s.mem, 0, sizeof s.mem);
    rc = bound(&s, &row);
    if (rc == PV_OK && s.hit >= 0) c = !s.hit;
    else if (rc == PV_OK && row < t->nrows) {
        uint32_t g = pvdb_group_of(t, row);
        rc = row_cmp(&s, g, (uint32_t)(row - t->gfirst[g]), &c);
    }
    pv_buf_free(&s.mem);
    if (rc) return rc;
    if (row >= t->nrows || c != 0) return 0;
    *out = row;
    return 1;
}

int pvdb_find_row(const pvdb_file *f, uint32_t table, const pv_value *key, uint32_t npk,
                  uint64_t *out)
{
    return pvdb_find_row_cached(f, table, key, npk, out, NULL);
}

int pvdb_find_row_cached(const pvdb_file *f, uint32_t table, const pv_value *key, uint32_t npk,
                         uint64_t *out, pvdb_rowcache **rcp)
{
    const pvdb_table *t = NULL;
    int rc = get_table(f, table, &t);
    return rc ? rc : find_row(t, key, npk, out, rcp);
}

int pvdb_lookup(const pvdb_file *f, uint32_t table, const pv_value *key, uint32_t npk,
                uint64_t *out)
{
    int rc = pvdb_find_row(f, table, key, npk, out), k;
    if (rc < 0) return rc;
    if (rc == 1) return PV_OK;
    for (k = 0; k < (int)npk; k++)
        if (key[k].type == PV_NULL) return pv_err(PV_ENOTFOUND, "no row with a NULL key");
    return pv_err(PV_ENOTFOUND, "table %s: no such key", f->tables[table].schema.name);
}

int pvdb_source_get_row(const pv_source *src, const pv_value *key, uint32_t nkey,
                        const uint32_t *cols, uint32_t ncols, pv_value *out, pv_buf *buf)
{
    return pvdb_source_get_row_cached(src, key, nkey, cols, ncols, out, buf, NULL);
}

int pvdb_source_get_row_cached(const pv_source *src, const pv_value *key, uint32_t nkey,
                               const uint32_t *cols, uint32_t ncols, pv_value *out,
                               pv_buf *buf, pvdb_rowcache **rcp)
{
    const pvdb_table *t = src->impl;
    uint64_t row = 0;
    int rc;
    if (!pv_source_index(src)) return pv_err(PV_EMISUSE, "pvdb_source_get_row: not a .pvdb table");
    rc = find_row(t, key, nkey, &row, rcp);
    if (rc <= 0) return rc;
    rc = pvdb_read_row_cached(t->file, (uint32_t)(t - t->file->tables), row, cols, ncols, out,
                              buf, rcp);
    return rc ? rc : 1;
}

int pvdb_key_range(const pvdb_file *f, uint32_t table, const pv_value *lo, uint32_t nlo,
                   const pv_value *hi, uint32_t nhi, uint64_t *first, uint64_t *end)
{
    const pvdb_table *t = NULL;
    int rc = get_table(f, table, &t);
    if (rc == PV_OK) rc = check_key(t, lo, nlo);
    if (rc == PV_OK) rc = check_key(t, hi, nhi);
    if (rc) return rc;
    *first = 0;
    *end = t->nrows;
    if (nlo) rc = search(t, lo, nlo, 0, first);
    if (rc == PV_OK && nhi) rc = search(t, hi, nhi, 1, end);
    if (rc == PV_OK && *end < *first) *end = *first;
    return rc;
}

/* ---- rows ------------------------------------------------------------------------- */

/* Row reads go in stages over up to ROW_BATCH columns at once, each stage
 * only touching what the one before prefetched, so that the cache misses
 * of the columns overlap instead of adding up (a flights row: one miss
 * time per stage, not one per column and stage):
 *   1. prefetch the chunk headers and null bitmap bytes (directory in memory);
 *   2. open the chunks and call the encoders' prefetch (the row's packed
 *      words, small dictionaries);
 *   3. decode.
 * (Reading the dictionary codes early to prefetch their entries, in stage
 * 2 column by column, was measured slower: 0.87 vs 0.72 us per flights
 * row, the code's own miss then serialises; prefetching the block table
 * entry of every column before their encoders' prefetch gained nothing
 * measurable: 410-440 ns per pv_get either way.) */
#define ROW_BATCH 8

/* A cold read: the page of row r's packed word, once d is open (FOR
 * columns and dictionary codes; others fault it in turn). */
static void advise_word(const pvdb_file *f, const pv_dec *d, uint32_t r)
{
    const pv_istream *s = &d->is;
    const uint8_t *q;
    int64_t ref;
    unsigned w;
    if (d->enc != PV_ENC_FOR && d->enc != PV_ENC_DICT) return;
    if (r >= s->n || s->kind != PV_ENC_FOR ||
        pv_for_block(&s->a, r >> PV_BLOCK_SHIFT, &ref, &w, &q))
        return;
    pvdb_advise(f, (uint64_t)(q - f->map) + (uint64_t)(r & (PV_BLOCK_ROWS - 1)) * w / 8, 8);
}

/* Release what the decoders of slot s hold (rc->hold); they stay
 * valid until the slot is forgotten (its tag and bits are the caller's). */
static void slot_release(pvdb_rowcache *rc, uint32_t s)
{
    uint32_t w;
    if (!rc->hold || !rc->dec[s] || !rc->tag[s]) return;
    for (w = 0; w < rc->vwords; w++) {
        uint64_t bits = rc->valid[(size_t)s * rc->vwords + w];
        while (bits) {
            pv_dec_release(&rc->dec[s][w * 64 + (uint32_t)__builtin_ctzll(bits)]);
            bits &= bits - 1;
        }
    }
}

/* A decoder about to be loaded for get() alone: no memory of its own,
 * nothing held (its struct may be on the stack or fresh from malloc). */
static void dec_unowned(pv_dec *d)
{
    d->mem = NULL;
    d->arena = NULL;
    d->tmp = NULL;
    d->held = NULL;
    d->fc_held = NULL;
}

/* The load flags of a decoder about to be opened in a slot of rc, which
 * then holds nothing yet (its memory is malloc'ed, or was released). */
static unsigned cached_load_flags(const pvdb_rowcache *rc, pv_dec *d)
{
    dec_unowned(d);
    return PVDB_LOAD_CACHE | PVDB_LOAD_HOLD(rc->hold);
}

/* The decoders of group g's slot in rc, made ready for g (allocated on
 * first use; forgotten when another group had the slot), *valid its bits
 * (one per column: the decoder is open); NULL without a cache. */
static inline pv_dec *cached_group(pvdb_rowcache *rc, uint32_t g, uint64_t **valid)
{
    uint32_t s;
    if (!rc) return NULL;
    s = g & (rc->nslots - 1);
    if (!rc->dec[s] && !(rc->dec[s] = malloc((size_t)rc->ncols * sizeof **rc->dec)))
        return NULL; /* read without the cache */
    if (rc->tag[s] != g + 1) { /* another group had the slot: forget it */
        slot_release(rc, s);
        rc->tag[s] = g + 1;
        memset(rc->valid + (size_t)s * rc->vwords, 0, rc->vwords * sizeof *rc->valid);
    }
    *valid = rc->valid + (size_t)s * rc->vwords;
    return rc->dec[s];
}

static inline int cached_open(const uint64_t *valid, uint32_t c) { return (valid[c / 64] >> (c % 64)) & 1; }

/* The decoder of column c of group g in cache rc (NULL: none) when it is
 * open there: *slot is where to open it otherwise (or NULL), *valid its
 * bits (cached_set). */
static inline pv_dec *cached_dec(pvdb_rowcache *rc, uint32_t g, uint32_t c, pv_dec **slot,
                                 uint64_t **valid)
{
    pv_dec *decs = cached_group(rc, g, valid);
    *slot = decs ? &decs[c] : NULL;
    return decs && cached_open(*valid, c) ? *slot : NULL;
}

static inline void cached_set(uint64_t *valid, uint32_t c) { valid[c / 64] |= (uint64_t)1 << (c % 64); }

/* Stages 1-2 for columns cols[0..n) of row r of group g: d[i] points to
 * its opened decoder (in `local` or in the cache rc) and null[i] is set
 * (then d[i] is not opened). */
static int row_open(const pvdb_table *t, uint32_t g, uint32_t r, const uint32_t *cols,
                    uint32_t n, int cold, pvdb_rowcache *rc, pv_dec *local, pv_dec **d,
                    uint8_t *null)
{
    const uint8_t *map = t->file->map;
    const pvdb_chunk *k[ROW_BATCH];
    uint64_t *valid = NULL;
    pv_dec *decs = cached_group(rc, g, &valid); /* (once per row, not per column) */
    uint32_t i;
    int e_rc;
    for (i = 0; i < n; i++) {
        k[i] = pvdb_chunk_at(t, g, cols[i]);
        if (k[i]->nulls) __builtin_prefetch(map + k[i]->off + (r >> 3));
        __builtin_prefetch(map + k[i]->off + (k[i]->nulls ? pvdb_bitmap_len(k[i]->rows) : 0));
    }
    for (i = 0; i < n; i++) {
        const pv_encoder *e;
        const uint8_t *bm;
        null[i] = k[i]->nulls && ((map[k[i]->off + (r >> 3)] >> (r & 7)) & 1);
        if (null[i]) continue;
        if (decs && cached_open(valid, cols[i])) {
            d[i] = &decs[cols[i]];
        } else {
            unsigned lf = PVDB_LOAD_CACHE; /* (get() holds nothing: local[i] needs no release) */
            if (decs) {
                d[i] = &decs[cols[i]];
                lf = cached_load_flags(rc, d[i]);
            } else {
                d[i] = &local[i];
                dec_unowned(d[i]);
            }
            e_rc = pvdb_load_chunk(t, g, cols[i], lf, d[i], &bm);
            if (e_rc) return e_rc;
            if (decs) { /* (kept for later rows: their gets skip the block checks) */
                pv_dec_settle(d[i]);
                cached_set(valid, cols[i]);
            }
        }
        if (cold) advise_word(t->file, d[i], r);
        e = pv_encoder_get(d[i]->enc);
        if (e->prefetch) e->prefetch(d[i], r);
    }
    return PV_OK;
}

/* Stage 3 for one value: *v, its string in the mapping or appended to buf
 * (then *in_buf = 1 and v->u.s.p holds its offset in buf until buf stops
 * moving). Every string in buf is followed by a NUL byte (the decoders of
 * front-coded dictionaries write one; a zstd block's value gets one). */
static int row_value(const pvdb_table *t, uint32_t g, uint32_t c, uint32_t r, pv_dec *d,
                     pv_value *v, pv_buf *buf, int *in_buf)
{
    const char *why = "";
    uint64_t moff;
    int rc = pv_encoder_get(d->enc)->get(d, r, v, buf, &moff, &why);
    *in_buf = 0;
    if (rc > 0) return pvdb_bad_chunk(t, g, c, why);
    if (rc) return rc;
    if (moff == UINT64_MAX) {
        /* a string elsewhere (a dictionary entry, the mapping): its bytes
         * asked for now, while the next columns decode, not when the
         * caller reads them (flights, 3 M random keys: pv_get 599 -> 454
         * ns, the prepared statement 690 -> 574; 100 k keys: +3 ns) */
        if (pv_enc_is_str(v->type) && v->u.s.n) __builtin_prefetch(v->u.s.p);
        return PV_OK;
    }
    if (buf->len == moff + v->u.s.n && pv_buf_append(buf, "", 1)) return PV_ENOMEM;
    v->u.s.p = (const char *)(uintptr_t)moff;
    *in_buf = 1;
    return PV_OK;
}

/* ---- the row cache (pvdb_impl.h) ---- */

/* Bytes of decoders one reader keeps at most (flights: 46 row groups of
 * 6 columns, 73 KiB, all kept). A slot's decoders are allocated on its
 * first use: a point query holds one group's (1.6 KiB for flights), not
 * 100 KiB, which freed at pv_close crossed glibc's trim threshold and
 * made every open + query + close shrink and regrow the heap. */
#define ROWCACHE_BYTES (128u << 10)
#define ROWCACHE_SLOTS 64u

void pvdb_rowcache_free(pvdb_rowcache *rc)
{
    if (!rc) return;
    for (uint32_t s = 0; rc->dec && s < rc->nslots; s++) {
        slot_release(rc, s);
        free(rc->dec[s]);
    }
    free(rc->tag);
    free(rc->valid);
    free(rc->dec);
    free(rc);
}

/* *rcp ready for table t: made on first use, emptied when it held the
 * chunks of another file or table. NULL when rcp is NULL (no cache), or
 * on an allocation failure (the read then goes without). */
static pvdb_rowcache *rowcache_for(pvdb_rowcache **rcp, const pvdb_table *t)
{
    pvdb_rowcache *rc;
    uint32_t ncols = t->schema.ncols, table = (uint32_t)(t - t->file->tables);
    if (!rcp) return NULL;
    rc = *rcp;
    if (rc && rc->gen == t->file->gen && rc->table == table) return rc;
    if (rc && rc->ncols == ncols) { /* same shape: keep the memory */
        for (uint32_t s = 0; s < rc->nslots; s++) slot_release(rc, s);
        memset(rc->tag, 0, rc->nslots * sizeof *rc->tag);
    } else {
        size_t per = (size_t)ncols * sizeof(pv_dec);
        unsigned hold = rc ? rc->hold : 0;
        pvdb_rowcache_free(rc);
        *rcp = rc = calloc(1, sizeof *rc);
        if (!rc) return NULL;
        rc->hold = hold;
        rc->ncols = ncols;
        rc->vwords = (ncols + 63) / 64;
        /* a power of two (a slot is g & (nslots - 1)), 1 .. ROWCACHE_SLOTS */
        for (rc->nslots = ROWCACHE_SLOTS; rc->nslots > 1 && rc->nslots * per > ROWCACHE_BYTES;)
            rc->nslots /= 2;
        rc->tag = calloc(rc->nslots, sizeof *rc->tag);
        rc->valid = calloc((size_t)rc->nslots * rc->vwords, sizeof *rc->valid);
        rc->dec = calloc(rc->nslots, sizeof *rc->dec);
        if (!rc->tag || !rc->valid || !rc->dec) {
            pvdb_rowcache_free(rc);
            *rcp = NULL;
            return NULL;
        }
    }
    rc->gen = t->file->gen;
    rc->table = table;
    return rc;
}

int pvdb_rowcache_hold(pvdb_rowcache **rcp, unsigned what)
{
    if (*rcp) return pv_err(PV_EMISUSE, "pvdb_rowcache_hold: the reader has a cache already");
    if (!(*rcp = calloc(1, sizeof **rcp))) return pv_err(PV_ENOMEM, "out of memory");
    (*rcp)->hold = what; /* (ncols 0: rowcache_for shapes it on first use) */
    return PV_OK;
}

int pvdb_read_row(const pvdb_file *f, uint32_t table, uint64_t row, const uint32_t *cols,
                  uint32_t ncols, pv_value *out, pv_buf *buf)
{
    return pvdb_read_row_cached(f, table, row, cols, ncols, out, buf, NULL);
}

int pvdb_read_row_cached(const pvdb_file *f, uint32_t table, uint64_t row, const uint32_t *cols,
                         uint32_t ncols, pv_value *out, pv_buf *buf, pvdb_rowcache **rcp)
{
    const pvdb_table *t = NULL;
    pvdb_rowcache *rc;
    pv_dec local[ROW_BATCH], *d[ROW_BATCH];
    uint8_t in_buf[(PV_MAX_COLUMNS + 7) / 8];
    uint64_t t0 = 0;
    uint32_t g, r, i0, i;
    int e = get_table(f, table, &t), any = 0, cold;
    if (e) return e;
    if (row >= t->nrows)
        return pv_err(PV_ERANGE, "table %s: no row %llu", t->schema.name,
                      (unsigned long long)row);
    if (ncols > PV_MAX_COLUMNS)
        return pv_err(PV_ERANGE, "table %s: %u columns asked", t->schema.name, ncols);
    for (i = 0; i < ncols; i++)
        if (cols[i] >= t->schema.ncols)
            return pv_err(PV_ERANGE, "table %s: no column %u", t->schema.name, cols[i]);
    g = pvdb_group_of(t, row);
    r = (uint32_t)(row - t->gfirst[g]);
    rc = rowcache_for(rcp, t);
    /* a reader times one read in PVDB_PROBE_EVERY: pages the file lost
     * since open make it cold again (pvdb_impl.h) */
    if (rc && rc->reads++ % PVDB_PROBE_EVERY == 0) t0 = pvdb_clock_ns();
    cold = pvdb_cold(t->file);
    if (cold) pvdb_cold_done(t->file);
    buf->len = 0;
    memset(in_buf, 0, (ncols + 7) / 8);
    for (i0 = 0; i0 < ncols; i0 += ROW_BATCH) {
        uint32_t n = ncols - i0 < ROW_BATCH ? ncols - i0 : ROW_BATCH;
        uint8_t null[ROW_BATCH];
        if ((e = row_open(t, g, r, cols + i0, n, cold, rc, local, d, null))) return e;
        for (i = 0; i < n; i++) {
            int ib;
            if (null[i]) {
                out[i0 + i] = pv_v_null();
                continue;
            }
            e = row_value(t, g, cols[i0 + i], r, d[i], &out[i0 + i], buf, &ib);
            if (e) return e;
            in_buf[(i0 + i) / 8] |= (uint8_t)(ib << ((i0 + i) % 8));
            any |= ib;
        }
    }
    for (i = 0; any && i < ncols; i++)
        if ((in_buf[i / 8] >> (i % 8)) & 1) out[i].u.s.p = buf->p + (uintptr_t)out[i].u.s.p;
    if (t0) pvdb_cold_probe(t->file, t0);
    return PV_OK;
}
