/*
 * pvdb_secidx_post.c: the row lists of a baked secondary index, compressed
 * (docs/FORMAT.md 3.12, "Row lists"): per key its first row (heads), then
 * every later row as the gap to the previous one minus 1, bit-packed in
 * blocks of PVDB_POST_BLOCK entries, each block at the smallest width its
 * values need; a prefix sum of the widths (wsum) is the skip index, so a
 * lookup decodes only the blocks holding its keys' entries.
 *
 * A lookup always starts at a key's first entry (its row is heads[d]), so
 * no block needs a base of its own; the entry at a key's start holds 0.
 * Every offset and count read from the file is checked before use; the
 * layout check of `pvbake verify` (canonical widths, zero values where the
 * format says so) is pvdb_post_check.
 */
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "pvdb_impl.h"
#include "pvdb_secidx.h"

#define BAD PVDB_BAD

uint64_t pvdb_post_layout_of(uint32_t ncols, uint64_t d, uint64_t r, pvdb_post_layout *l)
{
    l->nblocks = (r + PVDB_POST_BLOCK - 1) / PVDB_POST_BLOCK;
    l->starts_at = 8ull * ncols;
    l->heads_at = pvdb_align8(l->starts_at + 4 * (d + 1));
    l->wsum_at = pvdb_align8(l->heads_at + 4 * d);
    l->packed_at = pvdb_align8(l->wsum_at + 4 * (l->nblocks + 1));
    return l->packed_at;
}

/* ---- writer -------------------------------------------------------------------- */

/* The packed value of entry e: 0 at a key's first entry, else the gap to
 * the previous row minus 1. *key tracks the key of entry e. */
static uint64_t gap_of(const pvdb_secidx_order *o, uint64_t e, uint64_t *key)
{
    while (o->starts[*key + 1] <= e) (*key)++;
    return e == o->starts[*key] ? 0 : (uint64_t)o->rows[e] - o->rows[e - 1] - 1;
}

int pvdb_post_write(const pvdb_secidx_order *o, uint32_t ncols, pv_buf *b)
{
    pvdb_post_layout l;
    uint64_t v[PVDB_POST_BLOCK], e, blk, key = 0, at, total = 0, d;
    uint8_t *widths = NULL;
    int rc = PV_OK;
    pvdb_post_layout_of(ncols, o->nkeys, o->nrows, &l);
    if (b->len != l.starts_at) return pv_err(PV_EMISUSE, "pvdb_post_write: the part table comes first");
    if ((rc = pv_buf_zeros(b, (size_t)(l.packed_at - l.starts_at)))) return rc;
    for (d = 0; d <= o->nkeys; d++) pv_put_u32((uint8_t *)b->p + l.starts_at + 4 * d, o->starts[d]);
    for (d = 0; d < o->nkeys; d++) pv_put_u32((uint8_t *)b->p + l.heads_at + 4 * d, o->rows[o->starts[d]]);
    if (l.nblocks && !(widths = malloc(l.nblocks))) return pv_err(PV_ENOMEM, "out of memory baking an index");
    /* the widths first: wsum[b] places block b */
    for (blk = 0, e = 0; blk < l.nblocks; blk++) {
        uint64_t or_all = 0;
        for (; e < o->nrows && e < (blk + 1) * PVDB_POST_BLOCK; e++) or_all |= gap_of(o, e, &key);
        widths[blk] = (uint8_t)pv_bits(or_all);
        pv_put_u32((uint8_t *)b->p + l.wsum_at + 4 * blk, (uint32_t)total);
        total += widths[blk];
    }
    pv_put_u32((uint8_t *)b->p + l.wsum_at + 4 * l.nblocks, (uint32_t)total);
    at = b->len;
    if ((rc = pv_buf_zeros(b, (size_t)(16 * total)))) goto done;
    for (blk = 0, e = 0, key = 0; blk < l.nblocks; blk++) {
        uint32_t i;
        memset(v, 0, sizeof v);
        for (i = 0; e < o->nrows && i < PVDB_POST_BLOCK; i++, e++) v[i] = gap_of(o, e, &key);
        pv_pack_bits((uint8_t *)b->p + at, v, PVDB_POST_BLOCK, widths[blk]);
        at += 16ull * widths[blk];
    }
done:
    free(widths);
    return rc;
}

/* ---- reader -------------------------------------------------------------------- */

int pvdb_post_open(pvdb_post *pp, const pvdb_file *f, const uint8_t *p, uint64_t off, uint64_t len,
                   uint32_t ncols, uint64_t d, uint64_t r, uint64_t table_rows, uint64_t *end)
{
    uint64_t total;
    memset(pp, 0, sizeof *pp);
    pp->f = f;
    pp->p = p;
    pp->off = off;
    pp->d = d;
    pp->r = r;
    pp->table_rows = table_rows;
    if (pvdb_post_layout_of(ncols, d, r, &pp->l) > len) return BAD(f, off, "index section shorter than its row lists");
    total = pv_get_u32(p + pp->l.wsum_at + 4 * pp->l.nblocks);
    if (pv_get_u32(p + pp->l.wsum_at) != 0 || total > 32 * pp->l.nblocks || 16 * total > len - pp->l.packed_at)
        return BAD(f, off + pp->l.wsum_at, "bad index block widths");
    pp->packed_len = 16 * total;
    *end = pp->l.packed_at + pp->packed_len;
    return PV_OK;
}

uint64_t pvdb_post_start(const pvdb_post *pp, uint64_t d) { return pv_get_u32(pp->p + pp->l.starts_at + 4 * d); }

int pvdb_post_range(const pvdb_post *pp, uint64_t first, uint64_t end, uint64_t *a, uint64_t *b)
{
    *a = pvdb_post_start(pp, first);
    *b = pvdb_post_start(pp, end);
    if (*a > *b || *b > pp->r || (first < end && *a == *b))
        return BAD(pp->f, pp->off + pp->l.starts_at + 4 * end, "index key starts out of order");
    return PV_OK;
}

/* Block blk's width and packed bytes, checked against the section. */
static int block_at(const pvdb_post *pp, uint64_t blk, unsigned *w, const uint8_t **q)
{
    uint64_t s0 = pv_get_u32(pp->p + pp->l.wsum_at + 4 * blk), s1 = pv_get_u32(pp->p + pp->l.wsum_at + 4 * (blk + 1));
    if (s1 < s0 || s1 - s0 > 32 || 16 * s1 > pp->packed_len)
        return BAD(pp->f, pp->off + pp->l.wsum_at + 4 * blk, "bad index block width");
    *w = (unsigned)(s1 - s0);
    *q = pp->p + pp->l.packed_at + 16 * s0;
    return PV_OK;
}

int pvdb_post_rows(const pvdb_post *pp, uint64_t first, uint64_t end, uint64_t *out)
{
    uint64_t a, b, e, key = first, next, row = 0, v[PVDB_POST_BLOCK];
    int rc;
    if (first >= end) return PV_OK;
    if ((rc = pvdb_post_range(pp, first, end, &a, &b))) return rc;
    next = a; /* entry e == next starts key `key` */
    for (e = a; e < b;) {
        uint64_t blk = e / PVDB_POST_BLOCK, i0 = e % PVDB_POST_BLOCK, m = PVDB_POST_BLOCK - i0, i;
        const uint8_t *q;
        unsigned w;
        if (m > b - e) m = b - e;
        if ((rc = block_at(pp, blk, &w, &q))) return rc;
        pv_unpack(q, (uint32_t)i0, (uint32_t)m, w, v);
        for (i = 0; i < m; i++, e++) {
            if (e == next) { /* a key's first entry: its row is its head */
                row = pv_get_u32(pp->p + pp->l.heads_at + 4 * key);
                next = key + 1 < end ? pvdb_post_start(pp, key + 1) : b;
                if (next <= e || next > b) return BAD(pp->f, pp->off + pp->l.starts_at + 4 * (key + 1), "index key starts out of order");
                key++;
            } else {
                row += v[i] + 1;
            }
            if (row >= pp->table_rows) return BAD(pp->f, pp->off + pp->l.packed_at, "index row out of range");
            out[e - a] = row;
        }
    }
    return PV_OK;
}

/* Are p[a, b) zero? */
static int zero_from(const uint8_t *p, uint64_t a, uint64_t b)
{
    for (; a < b; a++)
        if (p[a]) return 0;
    return 1;
}

int pvdb_post_check(const pvdb_post *pp)
{
    uint64_t d, blk, e = 0, key = 0, v[PVDB_POST_BLOCK];
    for (d = 0; d < pp->d; d++) {
        uint64_t s0 = pvdb_post_start(pp, d), s1 = pvdb_post_start(pp, d + 1);
        if ((d == 0 && s0 != 0) || s1 <= s0 || s1 > pp->r || (d + 1 == pp->d && s1 != pp->r))
            return BAD(pp->f, pp->off + pp->l.starts_at + 4 * d, "index key starts out of order");
    }
    if (pp->d == 0 && pvdb_post_start(pp, 0) != 0)
        return BAD(pp->f, pp->off + pp->l.starts_at, "index key starts out of order");
    if (!zero_from(pp->p, pp->l.starts_at + 4 * (pp->d + 1), pp->l.heads_at) ||
        !zero_from(pp->p, pp->l.heads_at + 4 * pp->d, pp->l.wsum_at) ||
        !zero_from(pp->p, pp->l.wsum_at + 4 * (pp->l.nblocks + 1), pp->l.packed_at))
        return BAD(pp->f, pp->off + pp->l.starts_at, "index padding not zero");
    for (blk = 0; blk < pp->l.nblocks; blk++) {
        const uint8_t *q;
        unsigned w;
        uint64_t i, or_all = 0;
        int rc = block_at(pp, blk, &w, &q);
        if (rc) return rc;
        pv_unpack(q, 0, PVDB_POST_BLOCK, w, v);
        for (i = 0; i < PVDB_POST_BLOCK; i++, e++) {
            int starts_key = 0;
            while (key < pp->d && pvdb_post_start(pp, key) < e) key++;
            starts_key = key < pp->d && pvdb_post_start(pp, key) == e;
            if ((e >= pp->r || starts_key) && v[i])
                return BAD(pp->f, pp->off + (uint64_t)(q - pp->p),
                           "index block value not zero at a key's start or past the last entry");
            or_all |= v[i];
        }
        if (pv_bits(or_all) != w)
            return BAD(pp->f, pp->off + pp->l.wsum_at + 4 * blk, "index block wider than its values");
    }
    return PV_OK;
}
