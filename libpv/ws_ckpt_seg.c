/*
 * ws_ckpt_seg.c: the segment checksums of a table checkpoint (ws_ckpt.h;
 * docs/FORMAT.md 4.1, version 3).
 *
 * A checkpoint of flights is 219 MB; a re-bake after one INSERT reads one
 * row group of it and takes the other 45 from the bake cache by origin
 * (docs/BAKE.md 6). Checking one checksum over the whole file cost that
 * re-bake about 35 ms, half of it. So each column's rows are cut into
 * segments of WS_CKPT_SEG_ROWS rows, each with its own XXH3-64 over what
 * the rows are in the file, and a reader checks the segments it reads.
 *
 * The checksum of rows [r0, r1) of a column is XXH3-64 (seed 0) of the
 * concatenation of: their null bytes (when the column has a null array);
 * then for INTEGER, REAL and BOOLEAN their 8-byte values; for TEXT and
 * BLOB the offsets r0 .. r1 (r1 - r0 + 1 of them, as stored: from the
 * column's first string byte) and the string bytes [off[r0], off[r1]).
 * The writer computes it from the vectors it writes, the reader from the
 * mapping: the same bytes either way.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "ws_ckpt.h"
#include "ws_internal.h"

static int is_str(int type) { return type == PV_TEXT || type == PV_BLOB; }

/* Offsets r0 .. r1 of a string vector (starting at `at`, the bytes before
 * r0) into the hash, in blocks; *at becomes the bytes before r1. */
static void hash_offsets(XXH3_state_t *st, const pv_vec *v, uint64_t r0, uint64_t r1, uint64_t *at)
{
    uint8_t buf[8 * 512];
    size_t k = 0;
    uint64_t r;
    for (r = r0; r <= r1; r++) {
        if (r > r0) *at += v->nulls && v->nulls[r - 1] ? 0 : v->u.s[r - 1].n;
        pv_put_u64(buf + 8 * k++, *at);
        if (k == 512) {
            XXH3_64bits_update(st, buf, sizeof buf);
            k = 0;
        }
    }
    XXH3_64bits_update(st, buf, 8 * k);
}

int ws_ckpt_seg_sums_vec(const pv_vec *v, uint64_t nrows, uint32_t seg_rows, uint64_t *sums)
{
    XXH3_state_t *st = XXH3_createState();
    uint64_t r0, at = 0, s = 0;
    if (!st) return PV_ENOMEM;
    for (r0 = 0; r0 < nrows; r0 += seg_rows, s++) {
        uint64_t r1 = nrows - r0 < seg_rows ? nrows : r0 + seg_rows, r;
        XXH3_64bits_reset(st);
        if (v->nulls) XXH3_64bits_update(st, v->nulls + r0, (size_t)(r1 - r0));
        if (!is_str(v->type)) {
            XXH3_64bits_update(st, v->u.i + r0, (size_t)(r1 - r0) * 8); /* little-endian host */
        } else {
            hash_offsets(st, v, r0, r1, &at);
            for (r = r0; r < r1; r++)
                if (!(v->nulls && v->nulls[r])) XXH3_64bits_update(st, v->u.s[r].p, v->u.s[r].n);
        }
        sums[s] = XXH3_64bits_digest(st);
    }
    XXH3_freeState(st);
    return PV_OK;
}

int ws_ckpt_seg_sum_mapped(const ws_ckpt *c, uint32_t col, uint64_t r0, uint64_t r1, uint64_t *sum)
{
    const pv_vec *v = &c->vecs[col];
    XXH3_state_t *st;
    int ok = 1;
    if (is_str(v->type)) { /* (a damaged offset must not send the hash outside the file) */
        const uint64_t *off = c->str_off[col];
        uint64_t r;
        for (r = r0; r < r1 && ok; r++) ok = off[r] <= off[r + 1];
        if (!ok || off[r1] > c->str_len[col]) return 0;
    }
    if (!(st = XXH3_createState())) { /* (unchecked: the caller treats it as damaged) */
        *sum = 0;
        return 0;
    }
    XXH3_64bits_reset(st);
    if (v->nulls) XXH3_64bits_update(st, v->nulls + r0, (size_t)(r1 - r0));
    if (!is_str(v->type)) {
        XXH3_64bits_update(st, v->u.i + r0, (size_t)(r1 - r0) * 8);
    } else {
        const uint64_t *off = c->str_off[col];
        XXH3_64bits_update(st, off + r0, (size_t)(r1 - r0 + 1) * 8);
        XXH3_64bits_update(st, c->str_bytes[col] + off[r0], (size_t)(off[r1] - off[r0]));
    }
    *sum = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return ok;
}
