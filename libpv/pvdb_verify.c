/*
 * pvdb_verify.c: the full check of a `.pvdb` (`pvbake verify`): every
 * checksum, every padding byte, every chunk decoded with the encoders'
 * full checks, every zone map and PLAIN length recomputed, and the keys
 * strictly increasing through each table (the key index is the order).
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "encode.h"
#include "pvdb.h"
#include "pvdb_impl.h"
#include "pvdb_secidx.h"
#include "util.h"

/* Padding between the header, the chunks and the directory is zero. */
static int check_gap(const pvdb_file *f, uint64_t from, uint64_t to)
{
    uint64_t i;
    for (i = from; i < to; i++)
        if (f->map[i]) return PVDB_BAD(f, i, "padding byte not zero");
    return PV_OK;
}

/* Decode every row of a loaded chunk: zone map and PLAIN length. */
static int check_values(const pvdb_table *t, uint32_t g, uint32_t c, pv_dec *d,
                        const uint8_t *bitmap, void *vals)
{
    const pvdb_chunk *k = pvdb_chunk_at(t, g, c);
    int type = t->schema.cols[c].type;
    uint8_t nulls[PV_BLOCK_ROWS], flags, mn[8], mx[8];
    uint64_t plain = k->nulls ? pvdb_bitmap_len(k->rows) : 0;
    const char *why = "";
    pvdb_zone z;
    uint32_t r0, j;
    pvdb_zone_init(&z, type);
    plain += pv_enc_is_str(type) ? 4 * ((uint64_t)k->rows + 1) : 8 * (uint64_t)k->rows;
    for (r0 = 0; r0 < k->rows; r0 += PV_BLOCK_ROWS) {
        uint32_t n = k->rows - r0 < PV_BLOCK_ROWS ? k->rows - r0 : PV_BLOCK_ROWS;
        pv_vec v;
        pv_dec_out o;
        int rc;
        o.i = vals;
        v.type = type;
        v.u.i = vals;
        v.nulls = NULL;
        if (bitmap) {
            for (j = 0; j < n; j++) nulls[j] = (bitmap[(r0 + j) >> 3] >> ((r0 + j) & 7)) & 1;
            v.nulls = nulls;
        }
        rc = pv_encoder_get(d->enc)->read(d, r0, n, o, &why);
        if (rc > 0) return pvdb_bad_chunk(t, g, c, why);
        if (rc) return rc;
        pvdb_zone_add(&z, &v, n);
        if (pv_enc_is_str(type))
            for (j = 0; j < n; j++)
                if (!v.nulls || !v.nulls[j]) plain += v.u.s[j].n;
    }
    pvdb_zone_put(&z, &flags, mn, mx);
    if (flags != k->zflags || memcmp(mn, k->zmin, 8) || memcmp(mx, k->zmax, 8))
        return pvdb_bad_chunk(t, g, c, "zone map does not match the values");
    if (plain != k->plain) return pvdb_bad_chunk(t, g, c, "plain length does not match");
    return PV_OK;
}

/* Is row r's key of batch b above `prev` (npk values)? */
static int key_above(const pv_batch *b, uint32_t npk, uint32_t r, const pv_value *prev)
{
    uint32_t k;
    for (k = 0; k < npk; k++) {
        pv_value v = pv_vec_get(&b->cols[k], r);
        int c = pv_value_cmp(&v, &prev[k]);
        if (c) return c > 0;
    }
    return 0;
}

/* Row r's key of batch b into out (borrowing the batch's bytes). */
static void key_of(const pv_batch *b, uint32_t npk, uint32_t r, pv_value *out)
{
    uint32_t k;
    for (k = 0; k < npk; k++) out[k] = pv_vec_get(&b->cols[k], r);
}

/* The first row of batch b whose key is not above the row before it (or,
 * for row 0, above prev when have), or b->nrows. A single INTEGER key
 * (the common one) is compared in place. */
static uint32_t first_unordered(const pv_batch *b, uint32_t npk, const pv_value *prev, int have,
                                pv_value *cur)
{
    uint32_t r;
    if (npk == 1 && b->cols[0].type == PV_INTEGER && !b->cols[0].nulls) {
        const int64_t *v = b->cols[0].u.i;
        if (have && prev[0].type == PV_INTEGER && v[0] <= prev[0].u.i) return 0;
        if (have && prev[0].type != PV_INTEGER && !key_above(b, 1, 0, prev)) return 0;
        for (r = 1; r < b->nrows; r++)
            if (v[r] <= v[r - 1]) return r;
        return b->nrows;
    }
    if (have && !key_above(b, npk, 0, prev)) return 0;
    for (r = 1; r < b->nrows; r++) {
        key_of(b, npk, r - 1, cur);
        if (!key_above(b, npk, r, cur)) return r;
    }
    return b->nrows;
}

/* Keep the key of batch b's last row in prev, its strings copied into
 * mem (the batch moves on). */
static int keep_last_key(const pv_batch *b, uint32_t npk, pv_value *prev, pv_buf *mem)
{
    uint32_t k;
    size_t at = 0;
    mem->len = 0;
    key_of(b, npk, b->nrows - 1, prev);
    for (k = 0; k < npk; k++)
        if ((prev[k].type == PV_TEXT || prev[k].type == PV_BLOB) && prev[k].u.s.n &&
            pv_buf_append(mem, prev[k].u.s.p, prev[k].u.s.n))
            return PV_ENOMEM;
    for (k = 0; k < npk; k++)
        if ((prev[k].type == PV_TEXT || prev[k].type == PV_BLOB) && prev[k].u.s.n) {
            prev[k].u.s.p = mem->p + at;
            at += prev[k].u.s.n;
        }
    return PV_OK;
}

/* Keys strictly increase from row to row, across row groups too. */
static int check_keys(const pvdb_table *t, pv_buf *prev_mem)
{
    const uint32_t npk = t->schema.npk;
    pv_source src;
    pv_scan *scan = NULL;
    pv_batch b;
    pv_value *prev = malloc(2 * npk * sizeof *prev); /* the previous key, then room for one */
    uint64_t row = 0;
    int n = 0, rc, have = 0;
    if (!prev) return pv_err(PV_ENOMEM, "out of memory");
    rc = pvdb_table_source(t->file, (uint32_t)(t - t->file->tables), &src);
    if (rc == PV_OK) rc = pvdb_scan_range(&src, t->schema.pk, npk, 0, t->nrows, 0, &scan);
    while (rc == PV_OK && (n = src.ops->scan_next(scan, &b)) > 0) {
        uint32_t r = first_unordered(&b, npk, prev, have, prev + npk);
        if (r < b.nrows)
            rc = PV_CORRUPT("%s: corrupt file: table %s: key of row %llu not above the previous one",
                            t->file->path, t->schema.name, (unsigned long long)(row + r));
        else
            rc = keep_last_key(&b, npk, prev, prev_mem);
        row += b.nrows;
        have = 1;
    }
    if (rc == PV_OK && n < 0) rc = n;
    if (scan) src.ops->scan_close(scan);
    free(prev);
    return rc;
}

/* Ask the kernel for row group g's chunks (one stretch of the file,
 * FORMAT.md 3.2): the mapping is advised MADV_RANDOM for point reads, so
 * a cold file would otherwise be read a page per fault. */
static void advise_group(const pvdb_file *f, const pvdb_table *t, uint32_t g)
{
    const pvdb_chunk *a, *z;
    if (g >= t->ngroups || t->schema.ncols == 0) return;
    a = pvdb_chunk_at(t, g, 0);
    z = pvdb_chunk_at(t, g, t->schema.ncols - 1);
    if (z->off + z->len > a->off) pvdb_advise(f, a->off, z->off + z->len - a->off);
}

static int verify_table(const pvdb_file *f, const pvdb_table *t, uint64_t *end, pv_dec *d,
                        void *vals, pv_buf *mem, pv_arena *arena)
{
    uint32_t g, c;
    int rc;
    advise_group(f, t, 0);
    for (g = 0; g < t->ngroups; g++) {
        advise_group(f, t, g + 1); /* read while this one is checked */
        for (c = 0; c < t->schema.ncols; c++) {
            const pvdb_chunk *k = pvdb_chunk_at(t, g, c);
            const uint8_t *bm;
            rc = check_gap(f, *end, k->off);
            mem->len = 0;
            pv_arena_reset(arena);
            d->mem = mem;
            d->arena = arena;
            if (rc == PV_OK)
                rc = pvdb_load_chunk(t, g, c, PVDB_LOAD_CHECKSUM | PVDB_LOAD_BITMAP | PVDB_LOAD_FULL,
                                     d, &bm);
            if (rc == PV_OK) rc = check_values(t, g, c, d, bm, vals);
            if (rc) return rc;
            *end = k->off + k->len;
        }
    }
    return t->nrows ? check_keys(t, mem) : PV_OK;
}

int pvdb_verify(const pvdb_file *f)
{
    const uint8_t *h = f->map;
    pv_dec *d = malloc(sizeof *d);
    void *vals = malloc(PV_BLOCK_ROWS * sizeof(pv_str));
    uint64_t *tmp = malloc(PV_BLOCK_ROWS * 8);
    pv_buf mem = PV_BUF_INIT;
    pv_arena arena = PV_ARENA_INIT;
    uint64_t end = PVDB_HEADER_SIZE;
    uint32_t i;
    int rc = PV_OK;
    if (!d || !vals || !tmp) {
        free(d);
        free(vals);
        free(tmp);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    d->tmp = tmp;
    /* The mapping may have changed under us since open: check again. */
    if (pv_get_u64(h + PVDB_H_CHECKSUM) != XXH3_64bits(h, PVDB_H_CHECKSUM))
        rc = PVDB_BAD(f, PVDB_H_CHECKSUM, "header checksum mismatch");
    else if (pv_get_u64(h + PVDB_H_DIR_CHECKSUM) != XXH3_64bits(h + f->dir_off, f->dir_len))
        rc = PVDB_BAD(f, f->dir_off, "directory checksum mismatch");
    for (i = 0; i < f->ntables && rc == PV_OK; i++)
        rc = verify_table(f, &f->tables[i], &end, d, vals, &mem, &arena);
    if (rc == PV_OK) rc = pvdb_secidx_verify(f, &end); /* the index sections follow */
    if (rc == PV_OK) rc = check_gap(f, end, f->dir_off);
    pv_buf_free(&mem);
    pv_arena_free(&arena);
    free(d);
    free(vals);
    free(tmp);
    return rc;
}
