/*
 * pvdb_scan.c: loading column chunks and batch scans of a `.pvdb` table.
 *
 * A scan yields batches of at most 1024 rows that never cross a block
 * (so a batch is exactly one block of every blocked encoding) or a row
 * group. Each scan owns its decoders, so any number of threads may scan
 * one file at once. The values come straight from the mapping; strings
 * point into it, or into the scan's memory when they were front-coded or
 * compressed.
 *
 * Once a consumer asks (pv_batch.want_enc, batch.h), FOR columns come as
 * their packed block and dictionary columns as codes plus the chunk's
 * dictionary, decoded once per chunk: the executor then filters and
 * groups without decoding every value. A column whose strings are each
 * followed by a NUL byte (front-coded dictionaries) says so
 * (pv_venc.term), so that pv_column_text hands them out without a copy.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <xxhash.h>

#include "batch.h"
#include "encode.h"
#include "pvdb.h"
#include "pvdb_impl.h"
#include "util.h"

int pvdb_bad_chunk(const pvdb_table *t, uint32_t g, uint32_t c, const char *why)
{
    const pvdb_chunk *k = pvdb_chunk_at(t, g, c);
    return PV_CORRUPT("%s: corrupt column chunk at byte offset %llu (table %s, column %s, "
                      "row group %u): %s", t->file->path, (unsigned long long)k->off,
                      t->schema.name, t->schema.cols[c].name, g, why);
}

/* The null bitmap holds exactly k->nulls set bits, none past the last row,
 * and zero padding. */
static int check_bitmap(const uint8_t *bm, const pvdb_chunk *k)
{
    uint64_t len = pvdb_bitmap_len(k->rows), used = ((uint64_t)k->rows + 7) / 8, i;
    uint64_t count = 0;
    for (i = 0; i < used; i++) count += (uint64_t)__builtin_popcount(bm[i]);
    if (k->rows % 8 && (bm[used - 1] >> (k->rows % 8))) return 1;
    for (i = used; i < len; i++)
        if (bm[i]) return 1;
    return count != k->nulls;
}

int pvdb_load_chunk(const pvdb_table *t, uint32_t g, uint32_t c, unsigned flags, pv_dec *d,
                    const uint8_t **bitmap)
{
    const pvdb_chunk *k = pvdb_chunk_at(t, g, c);
    const uint8_t *p = t->file->map + k->off;
    uint64_t bm = k->nulls ? pvdb_bitmap_len(k->rows) : 0;
    const char *why = "checksum mismatch";
    int rc;
    if ((flags & PVDB_LOAD_CHECKSUM) && XXH3_64bits(p, (size_t)k->len) != k->checksum)
        return pvdb_bad_chunk(t, g, c, why);
    *bitmap = bm ? p : NULL;
    if (bm && (flags & PVDB_LOAD_BITMAP) && check_bitmap(p, k))
        return pvdb_bad_chunk(t, g, c, "bad null bitmap");
    d->cache = (flags & PVDB_LOAD_CACHE) ? t->file->cache : NULL;
    d->may_hold = d->cache ? (uint8_t)((flags >> PVDB_LOAD_HOLD_SHIFT) & (PV_DEC_HOLD_PAGES | PV_DEC_HOLD_TABLES))
                           : 0;
    d->gen = t->file->gen;
    d->chunk = (uint32_t)(k - t->file->chunks);
    d->type = t->schema.cols[c].type;
    d->nrows = k->rows;
    d->null_count = k->nulls;
    d->enc = k->enc;
    d->p = p + bm;
    d->n = k->len - bm; /* open checked len > bm */
    rc = pv_dec_open(d, &why);
    if (rc == 0 && (flags & PVDB_LOAD_FULL)) rc = pv_encoder_get(k->enc)->check(d, &why);
    if (rc > 0) return pvdb_bad_chunk(t, g, c, why);
    return rc;
}

/* ---- scans ------------------------------------------------------------------------ */

/* One column of a scan. Sized by its type (16 or 8 bytes a value), and
 * one allocation each, so a scan of a few columns stays below malloc's
 * trim threshold and a short range scan does not fault fresh pages. */
typedef struct scan_col {
    uint32_t col;           /* schema index */
    const uint8_t *bitmap;
    pv_buf mem;
    pv_buf gmem;            /* strings decoded by fill_rows */
    pv_arena arena;
    pv_dec dec;
    pv_vdict vd;            /* the loaded chunk's dictionary, when built */
    int vd_state;           /* 0 not tried, 1 built, 2 not worth it */
    uint32_t *codes;        /* PV_BATCH_ROWS codes, allocated on first use */
    uint8_t nulls[PV_BATCH_ROWS];
    uint64_t v[];           /* up to PV_BATCH_ROWS values (no more than the
                               range's rows): int64_t, double or pv_str */
} scan_col;

struct pv_scan {
    const pvdb_table *t;
    uint32_t ncols;
    uint32_t cap;           /* rows each column's v[] holds */
    unsigned flags;
    scan_col **cols;
    pv_vec *vecs;
    pv_venc *encs;
    int want_enc;           /* a consumer asked for encoded batches */
    uint64_t *tmp;          /* decoder scratch, shared: columns decode in turn */
    uint64_t row, end;      /* next row, end of the range */
    uint32_t group;         /* group of the loaded chunks */
    int loaded;             /* the chunks of `group` are loaded */
    int advised;            /* this scan has weighed asking for them (advise_group) */
};

/* Forget the consumers' memos on the column's dictionary; a new id, as
 * the next consumer may key its own state by it (exec_agg.c). */
static void forget_memos(scan_col *sc)
{
    static uint64_t next_id;
    unsigned m;
    for (m = 0; m < PV_VDICT_MEMOS; m++) free(sc->vd.memo[m].p);
    memset(sc->vd.memo, 0, sizeof sc->vd.memo);
    sc->vd.id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
}

/* Forget the column's dictionary (and what consumers attached to it). */
static void drop_vdict(scan_col *sc)
{
    forget_memos(sc);
    memset(&sc->vd, 0, sizeof sc->vd);
    sc->vd_state = 0;
}

static void scan_free(pv_scan *s)
{
    uint32_t i;
    if (!s) return;
    for (i = 0; i < s->ncols && s->cols; i++) {
        if (!s->cols[i]) continue;
        drop_vdict(s->cols[i]);
        pv_dec_release(&s->cols[i]->dec);
        free(s->cols[i]->codes);
        pv_buf_free(&s->cols[i]->mem);
        pv_buf_free(&s->cols[i]->gmem);
        pv_arena_free(&s->cols[i]->arena);
        free(s->cols[i]);
    }
    free(s->cols);
    free(s->vecs);
    free(s->encs);
    free(s->tmp);
    free(s);
}

/* ---- parked scans --------------------------------------------------------------
 * A range query opens and closes a scan per run: its vectors, decoder
 * scratch and decoded dictionaries (~100 KB for a few columns) would be
 * allocated and freed each time, and malloc would give the top of the
 * heap back to the kernel and fault it in again (a third of a 1,000-row
 * range's time). So a closed scan is parked on its file, in one of
 * PVDB_SPARE_SCANS slots taken and filled with atomic exchanges (no lock,
 * and a slot's scan belongs to whoever took it), and the next scan of the
 * same columns takes it back with its loaded row group. */

/* The slot a thread tries first, so threads mostly find their own scans. */
static unsigned home_slot(void)
{
    static unsigned next;
    static _Thread_local unsigned mine;
    if (!mine) mine = __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED);
    return mine;
}

static void scan_park(pv_scan *s)
{
    pvdb_file *f = s->t->file;
    unsigned h = home_slot(), i;
    for (i = 0; i < PVDB_SPARE_SCANS; i++) {
        pv_scan *expect = NULL;
        if (__atomic_compare_exchange_n(&f->spare[(h + i) % PVDB_SPARE_SCANS], &expect, s, 0,
                                        __ATOMIC_RELEASE, __ATOMIC_RELAXED))
            return;
    }
    scan_free(s);
}

static int same_cols(const pv_scan *s, const uint32_t *cols, uint32_t ncols)
{
    uint32_t i;
    if (s->ncols != ncols) return 0;
    for (i = 0; i < ncols; i++)
        if (s->cols[i]->col != cols[i]) return 0;
    return 1;
}

/* A parked scan of table t over `cols` with room for `cap` rows, or NULL. */
static pv_scan *scan_unpark(const pvdb_table *t, const uint32_t *cols, uint32_t ncols,
                            uint32_t cap)
{
    pvdb_file *f = t->file;
    unsigned h = home_slot(), i;
    for (i = 0; i < PVDB_SPARE_SCANS; i++) {
        pv_scan **slot = &f->spare[(h + i) % PVDB_SPARE_SCANS], *s;
        if (!__atomic_load_n(slot, __ATOMIC_RELAXED)) continue;
        s = __atomic_exchange_n(slot, NULL, __ATOMIC_ACQUIRE);
        if (!s) continue;
        if (s->t == t && s->cap >= cap && same_cols(s, cols, ncols)) return s;
        scan_park(s); /* another query's: back where it may be found */
    }
    return NULL;
}

void pvdb_scan_spares_free(pvdb_file *f)
{
    unsigned i;
    for (i = 0; i < PVDB_SPARE_SCANS; i++) scan_free(__atomic_exchange_n(&f->spare[i], NULL,
                                                                       __ATOMIC_ACQUIRE));
}

uint64_t pvdb_next_gen(void)
{
    static uint64_t next;
    return __atomic_add_fetch(&next, 1, __ATOMIC_RELAXED);
}

static void scan_close(pv_scan *s)
{
    if (s) scan_park(s);
}

/* A parked scan made ready for rows [first, end): what it decoded of its
 * loaded row group stays (the same chunks), what consumers attached goes. */
static void scan_rewind(pv_scan *s, uint64_t first, uint64_t end, unsigned flags)
{
    uint32_t i;
    if (flags != s->flags) s->loaded = 0; /* checks the new flags ask for */
    s->flags = flags;
    s->want_enc = 0;
    s->advised = 0; /* a new range: its own reads of the loaded group */
    s->row = first;
    s->end = end;
    for (i = 0; i < s->ncols; i++) {
        scan_col *sc = s->cols[i];
        if (sc->vd_state == 1) forget_memos(sc);
        else sc->vd_state = 0; /* "not worth it" was for the last range's rows */
    }
}

static const pv_source_ops pvdb_ops;

int pvdb_scan_range(const pv_source *src, const uint32_t *cols, uint32_t ncols,
                    uint64_t first, uint64_t end, unsigned flags, pv_scan **out)
{
    const pvdb_table *t = src->impl;
    pv_scan *s;
    uint32_t i, cap;
    *out = NULL;
    if (src->ops != &pvdb_ops) return pv_err(PV_EMISUSE, "pvdb_scan_range: not a .pvdb table");
    for (i = 0; i < ncols; i++)
        if (cols[i] >= t->schema.ncols)
            return pv_err(PV_ERANGE, "table %s: no column %u", t->schema.name, cols[i]);
    if (first > end || end > t->nrows)
        return pv_err(PV_ERANGE, "table %s: rows [%llu, %llu) out of range", t->schema.name,
                      (unsigned long long)first, (unsigned long long)end);
    /* a batch holds at most the range's rows: a point read stays small */
    cap = end - first < PV_BATCH_ROWS ? (uint32_t)(end - first) : PV_BATCH_ROWS;
    if (!cap) cap = 1;
    if ((s = scan_unpark(t, cols, ncols, cap))) {
        scan_rewind(s, first, end, flags);
        *out = s;
        return PV_OK;
    }
    s = calloc(1, sizeof *s);
    if (!s) return pv_err(PV_ENOMEM, "out of memory");
    s->t = t;
    s->flags = flags;
    s->cap = cap;
    s->cols = calloc(ncols ? ncols : 1, sizeof *s->cols);
    s->vecs = calloc(ncols ? ncols : 1, sizeof *s->vecs);
    s->encs = calloc(ncols ? ncols : 1, sizeof *s->encs);
    s->tmp = malloc(PV_BLOCK_ROWS * sizeof *s->tmp);
    s->ncols = ncols;
    for (i = 0; s->cols && s->tmp && i < ncols; i++) {
        int str = pv_enc_is_str(t->schema.cols[cols[i]].type);
        scan_col *sc = malloc(offsetof(scan_col, v) + cap * (str ? sizeof(pv_str) : 8));
        if (!sc) break;
        s->cols[i] = sc;
        memset(&sc->dec, 0, sizeof sc->dec); /* no blocks held */
        sc->col = cols[i];
        sc->bitmap = NULL;
        memset(&sc->vd, 0, sizeof sc->vd);
        sc->vd_state = 0;
        sc->codes = NULL;
        memset(&sc->mem, 0, sizeof sc->mem);
        memset(&sc->gmem, 0, sizeof sc->gmem);
        memset(&sc->arena, 0, sizeof sc->arena);
        sc->dec.mem = &sc->mem;
        sc->dec.arena = &sc->arena;
        sc->dec.tmp = s->tmp;
    }
    if (!s->cols || !s->vecs || !s->encs || !s->tmp || i < ncols) {
        scan_free(s);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    s->row = first;
    s->end = end;
    *out = s;
    return PV_OK;
}

static int scan_open(const pv_source *src, const uint32_t *cols, uint32_t ncols,
                     pv_scan **out)
{
    const pvdb_table *t = src->impl;
    return pvdb_scan_range(src, cols, ncols, 0, t->nrows, PVDB_SCAN_CHECKSUM, out);
}

unsigned long pvdb_scan_advised;

/* Ask the kernel for a chunk's pages ahead of the decoding (the mapping
 * is advised MADV_RANDOM for point reads). */
static void prefetch(const pvdb_table *t, const pvdb_chunk *k)
{
    /* (an atomic, since many threads scan at once; the value is the same) */
    static long cached;
    long page = __atomic_load_n(&cached, __ATOMIC_RELAXED);
    uintptr_t a, b;
    if (!page) {
        page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
        __atomic_store_n(&cached, page, __ATOMIC_RELAXED);
    }
    a = (uintptr_t)(t->file->map + k->off) & ~(uintptr_t)(page - 1);
    b = (uintptr_t)(t->file->map + k->off + k->len);
    (void)madvise((void *)a, b - a, MADV_WILLNEED);
    __atomic_add_fetch(&pvdb_scan_advised, 1, __ATOMIC_RELAXED);
}

/* Does the scan read enough of group g to ask for its whole chunks? A
 * quarter of its rows and more than a batch: a madvise walks the chunk's
 * pages in the page cache even when they are all there, which was a
 * third of a 3,000-row range of flights (65,536-row groups); a shorter
 * read faults the few pages it touches, and the short scans prefetch
 * their words (scan_next). */
static int reads_much_of(const pv_scan *s, uint32_t g)
{
    const uint64_t g0 = s->t->gfirst[g], g1 = s->t->gfirst[g + 1];
    const uint64_t from = s->row > g0 ? s->row : g0, to = s->end < g1 ? s->end : g1;
    return to > from && to - from > PV_BATCH_ROWS && to - from >= (g1 - g0) / 4;
}

static int load_group(pv_scan *s, uint32_t g)
{
    uint32_t i;
    unsigned lf = PVDB_LOAD_BITMAP | PVDB_LOAD_CACHE |
                  ((s->flags & PVDB_SCAN_CHECKSUM) ? PVDB_LOAD_CHECKSUM : 0);
    for (i = 0; i < s->ncols; i++) {
        scan_col *sc = s->cols[i];
        int rc;
        sc->mem.len = 0;
        drop_vdict(sc);
        pv_dec_release(&sc->dec); /* before the arena that lists the pages */
        pv_arena_reset(&sc->arena);
        rc = pvdb_load_chunk(s->t, g, sc->col, lf, &sc->dec, &sc->bitmap);
        if (rc) return rc;
    }
    s->group = g;
    s->loaded = 1;
    s->advised = 0;
    return PV_OK;
}

/* Ask for the loaded group's chunks when this scan reads much of it, once
 * per group and range (a parked scan may come back to its group). */
static void advise_group(pv_scan *s)
{
    uint32_t i;
    if (s->advised) return;
    s->advised = 1;
    if (!reads_much_of(s, s->group)) return;
    for (i = 0; i < s->ncols; i++) prefetch(s->t, pvdb_chunk_at(s->t, s->group, s->cols[i]->col));
}

/* A batch of at most this many rows is read value by value (get(), as
 * pvdb_read_row), not by read(): a point read then decodes one value, not
 * a block or a dictionary group into the arena. Past two rows read()
 * wins: a front-coded entry costs get() a walk of its group per row, and
 * an array dictionary a copy (flights' six columns, 4 rows: 1.06-1.14 us
 * by get(), 0.90-0.92 by read(); 8 rows: 1.38-1.57 against 0.86-0.97). */
#define POINT_ROWS 2

/* A scan with at most this many rows left prefetches whole batches. */
#define SHORT_SCAN_ROWS (4 * PV_BATCH_ROWS)

static int fill_rows(const pv_scan *s, scan_col *sc, uint32_t r0, uint32_t n, pv_dec_out o)
{
    const pv_encoder *e = pv_encoder_get(sc->dec.enc);
    uint64_t moff[POINT_ROWS];
    uint32_t r;
    int rc, str = pv_enc_is_str(sc->dec.type);
    sc->gmem.len = 0;
    for (r = 0; r < n; r++) {
        const char *why = "";
        pv_value v;
        moff[r] = UINT64_MAX;
        if (sc->bitmap && sc->nulls[r]) continue;
        rc = e->get(&sc->dec, r0 + r, &v, &sc->gmem, &moff[r], &why);
        if (rc > 0) return pvdb_bad_chunk(s->t, s->group, sc->col, why);
        if (rc) return rc;
        if (str) o.s[r] = v.u.s;
        else if (sc->dec.type == PV_REAL) o.f[r] = v.u.f;
        else o.i[r] = v.u.i;
    }
    for (r = 0; str && r < n; r++) /* gmem has stopped moving */
        if (moff[r] != UINT64_MAX) o.s[r].p = sc->gmem.p + moff[r];
    return PV_OK;
}

/* Decode the loaded chunk's dictionary for a scan that will read `rows`
 * of its rows: sc->vd_state 1 when built, 2 when the dictionary has more
 * entries than that (decoding it would cost more than the rows). */
static int build_vdict(const pv_scan *s, scan_col *sc, uint64_t rows)
{
    pv_dec *d = &sc->dec;
    size_t esz = pv_enc_is_str(d->type) ? sizeof(pv_str) : 8;
    const char *why = "";
    uint32_t c;
    void *ents;
    int rc;
    sc->vd_state = 2;
    if (d->count == 0 || d->count > rows) return PV_OK;
    if (!sc->codes && !(sc->codes = malloc(PV_BATCH_ROWS * sizeof *sc->codes)))
        return pv_err(PV_ENOMEM, "out of memory");
    if (!(ents = pv_arena_alloc(&sc->arena, (size_t)d->count * esz)))
        return pv_err(PV_ENOMEM, "out of memory");
    for (c = 0; c < d->count; c++) {
        pv_value v;
        rc = pv_dict_entry(d, c, &v, &why);
        if (rc > 0) return pvdb_bad_chunk(s->t, s->group, sc->col, why);
        if (rc) return rc;
        if (esz == 8) memcpy((uint64_t *)ents + c, &v.u, 8);
        else ((pv_str *)ents)[c] = v.u.s;
    }
    sc->vd.type = d->type;
    sc->vd.count = d->count;
    sc->vd.rows = d->nrows;
    forget_memos(sc); /* a fresh id */
    if (esz == 8) sc->vd.u.i = ents; /* int64_t and double share the slot bits */
    else sc->vd.u.s = ents;
    sc->vd_state = 1;
    return PV_OK;
}

/* Rows [r0, r0 + n) as an encoded column (FOR block, or dictionary codes):
 * 1 done, 0 when the column is not in such a form. */
static int fill_enc(const pv_scan *s, scan_col *sc, uint32_t r0, uint32_t n, pv_venc *z)
{
    const char *why = "bad integer stream block";
    int64_t ref;
    unsigned w;
    const uint8_t *words;
    int rc;
    if (sc->dec.enc == PV_ENC_FOR && sc->dec.type == PV_INTEGER) {
        if (pv_dec_for_block(&sc->dec, r0, &ref, &w, &words))
            return pvdb_bad_chunk(s->t, s->group, sc->col, why);
        z->form = PV_VEC_PACKED;
        z->ref = ref;
        z->width = (uint8_t)w;
        z->words = words;
        z->off = r0 & (PV_BLOCK_ROWS - 1);
        return 1;
    }
    if (sc->dec.enc != PV_ENC_DICT) return 0;
    if (sc->vd_state == 0) {
        uint64_t g0 = s->t->gfirst[s->group], g1 = s->t->gfirst[s->group + 1];
        uint64_t from = s->row > g0 ? s->row : g0, to = s->end < g1 ? s->end : g1;
        if ((rc = build_vdict(s, sc, to - from))) return rc;
    }
    if (sc->vd_state != 1) return 0;
    if (pv_dict_codes(&sc->dec, r0, n, sc->codes, &why))
        return pvdb_bad_chunk(s->t, s->group, sc->col, why);
    z->form = PV_VEC_DICT;
    z->codes = sc->codes;
    z->dict = &sc->vd;
    return 1;
}

/* Rows [r0, r0 + n) of a loaded chunk into the column's batch vector. */
static int fill_vec(const pv_scan *s, scan_col *sc, uint32_t r0, uint32_t n, pv_vec *v,
                    pv_venc *z)
{
    const char *why = "";
    pv_dec_out o;
    uint32_t r;
    int rc;
    v->type = sc->dec.type;
    v->nulls = NULL;
    if (sc->bitmap) {
        for (r = 0; r < n; r++)
            sc->nulls[r] = (sc->bitmap[(r0 + r) >> 3] >> ((r0 + r) & 7)) & 1;
        v->nulls = sc->nulls;
    }
    memset(z, 0, sizeof *z);
    z->flat = sc->v;
    z->term = (uint8_t)pv_dec_terminated(&sc->dec); /* (fill_rows and read() alike) */
    if (s->want_enc && n > POINT_ROWS) {
        rc = fill_enc(s, sc, r0, n, z);
        if (rc) {
            v->u.i = NULL; /* read through the encoded form only */
            return rc < 0 ? rc : PV_OK;
        }
    }
    switch (v->type) {
    case PV_REAL: o.f = (double *)(void *)sc->v; v->u.f = o.f; break;
    case PV_TEXT:
    case PV_BLOB: o.s = (pv_str *)(void *)sc->v; v->u.s = o.s; break;
    default: o.i = (int64_t *)(void *)sc->v; v->u.i = o.i; break;
    }
    if (n <= POINT_ROWS) return fill_rows(s, sc, r0, n, o);
    rc = pv_encoder_get(sc->dec.enc)->read(&sc->dec, r0, n, o, &why);
    if (rc > 0) return pvdb_bad_chunk(s->t, s->group, sc->col, why);
    return rc;
}

static int scan_next(pv_scan *s, pv_batch *out)
{
    const pvdb_table *t = s->t;
    uint64_t gend, bend;
    uint32_t g, n, i, r0;
    int rc;
    if (s->row >= s->end) return 0;
    g = s->loaded && s->row >= t->gfirst[s->group] && s->row < t->gfirst[s->group + 1]
            ? s->group : pvdb_group_of(t, s->row); /* (a parked scan may go back) */
    if (!s->loaded || g != s->group) {
        rc = load_group(s, g);
        if (rc) return rc;
    }
    advise_group(s);
    r0 = (uint32_t)(s->row - t->gfirst[g]);
    gend = t->gfirst[g + 1];
    bend = t->gfirst[g] + (((uint64_t)r0 + PV_BLOCK_ROWS) & ~(uint64_t)(PV_BLOCK_ROWS - 1));
    if (bend > gend) bend = gend;
    if (bend > s->end) bend = s->end;
    n = (uint32_t)(bend - s->row);
    /* every column's block entry and first words asked of memory before
     * any is decoded: their misses overlap instead of coming in turn
     * (batches of a row or two too, as short key ranges and lookups by
     * a key prefix give: flights' six columns, one row, 0.88 -> 0.64 us). A
     * short range (a key range) asks for all its words: the hardware
     * prefetcher has no time to find its streams (1,000 rows of flights,
     * CPU: 9.4-10.3 -> 8.5-8.9 us); a long scan leaves them to it. */
    for (i = 0; i < s->ncols; i++) {
        const pv_encoder *e = pv_encoder_get(s->cols[i]->dec.enc);
        if (e && e->prefetch) e->prefetch(&s->cols[i]->dec, r0);
        if (s->end - s->row <= SHORT_SCAN_ROWS) pv_dec_prefetch_rows(&s->cols[i]->dec, r0, n);
    }
    for (i = 0; i < s->ncols; i++) {
        rc = fill_vec(s, s->cols[i], r0, n, &s->vecs[i], &s->encs[i]);
        if (rc) return rc;
    }
    s->row += n;
    out->nrows = n;
    out->ncols = s->ncols;
    out->cols = s->vecs;
    out->enc = s->encs;
    out->enc_cols = s->vecs;
    out->want_enc = &s->want_enc;
    return (int)n;
}

static const pv_source_ops pvdb_ops = { scan_open, scan_next, scan_close };

int pvdb_table_source(pvdb_file *f, uint32_t i, pv_source *out)
{
    if (i >= f->ntables) return pv_err(PV_ERANGE, "%s: no table %u", f->path, i);
    out->schema = &f->tables[i].schema;
    out->nrows = f->tables[i].nrows;
    out->ops = &pvdb_ops;
    out->impl = &f->tables[i];
    return PV_OK;
}

int pvdb_find_table(pvdb_file *f, const char *name, size_t len, pv_source *out)
{
    int i = pvdb_table_index(f, name, len);
    if (i >= 0) return pvdb_table_source(f, (uint32_t)i, out);
    return pv_err(PV_ENOTFOUND, "no such table: %.*s", (int)(len > 256 ? 256 : len), name);
}

/* The key index of a pvdb source (the ops a later pv_source_ops can carry). */
int pvdb_source_key_range(const pv_source *src, const pv_value *lo, uint32_t nlo,
                          const pv_value *hi, uint32_t nhi, uint64_t *first, uint64_t *end)
{
    const pvdb_table *t = src->impl;
    if (src->ops != &pvdb_ops) return pv_err(PV_EMISUSE, "pvdb_source_key_range: not a .pvdb table");
    return pvdb_key_range(t->file, (uint32_t)(t - t->file->tables), lo, nlo, hi, nhi, first, end);
}

int pvdb_source_lookup(const pv_source *src, const pv_value *key, uint32_t nkey, uint64_t *row)
{
    const pvdb_table *t = src->impl;
    if (src->ops != &pvdb_ops) return pv_err(PV_EMISUSE, "pvdb_source_lookup: not a .pvdb table");
    return pvdb_lookup(t->file, (uint32_t)(t - t->file->tables), key, nkey, row);
}

/* A range scan for the executor: bounds-checked reads, no checksums (a
 * point lookup must not hash a whole chunk), as pvdb_read_row. */
static int scan_rows(const pv_source *src, const uint32_t *cols, uint32_t ncols, uint64_t first,
                     uint64_t end, pv_scan **out)
{
    return pvdb_scan_range(src, cols, ncols, first, end, 0, out);
}

static const pv_source_index_ops pvdb_index_ops = { pvdb_source_key_range, scan_rows };

const pv_source_index_ops *pv_source_index(const pv_source *src)
{
    return src && src->ops == &pvdb_ops ? &pvdb_index_ops : NULL;
}
