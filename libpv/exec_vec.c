/*
 * exec_vec.c: the executor's side of encoded batches (batch.h): decoding
 * an encoded column in place when a typed loop wants plain values, and the
 * memo slots consumers attach to a chunk's dictionary.
 */
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "exec.h"

/* ---- unpacking a bit-packed block -------------------------------------------------
 * Eight values of width w take exactly w bytes, so value k of each group
 * of eight sits at the same byte (k*w/8) and bit (k*w%8) of its group:
 * with w a constant every shift and mask is one, and a value costs a load,
 * a shift, an AND and the reference's ADD, with no branch. */
#define UNPACK_MAXW 32

static inline __attribute__((always_inline)) void
unpack_groups(const uint8_t *p, uint32_t ngroups, const unsigned w, uint64_t ref, uint64_t *o)
{
    uint32_t g;
    unsigned k;
    for (g = 0; g < ngroups; g++, p += w, o += 8) {
#pragma GCC unroll 8
        for (k = 0; k < 8; k++)
            o[k] = ((pv_get_u64(p + ((k * w) >> 3)) >> ((k * w) & 7)) & ((1ull << w) - 1)) + ref;
    }
}

#define UNPACK_W(W)                                                                          \
    static void unpack_groups_w##W(const uint8_t *p, uint32_t ng, uint64_t ref, uint64_t *o) \
    {                                                                                        \
        unpack_groups(p, ng, W, ref, o);                                                     \
    }
UNPACK_W(1) UNPACK_W(2) UNPACK_W(3) UNPACK_W(4) UNPACK_W(5) UNPACK_W(6) UNPACK_W(7) UNPACK_W(8)
UNPACK_W(9) UNPACK_W(10) UNPACK_W(11) UNPACK_W(12) UNPACK_W(13) UNPACK_W(14) UNPACK_W(15)
UNPACK_W(16) UNPACK_W(17) UNPACK_W(18) UNPACK_W(19) UNPACK_W(20) UNPACK_W(21) UNPACK_W(22)
UNPACK_W(23) UNPACK_W(24) UNPACK_W(25) UNPACK_W(26) UNPACK_W(27) UNPACK_W(28) UNPACK_W(29)
UNPACK_W(30) UNPACK_W(31) UNPACK_W(32)
#undef UNPACK_W

static void (*const unpack_by_width[UNPACK_MAXW + 1])(const uint8_t *, uint32_t, uint64_t,
                                                      uint64_t *) = {
    NULL, unpack_groups_w1, unpack_groups_w2, unpack_groups_w3, unpack_groups_w4,
    unpack_groups_w5, unpack_groups_w6, unpack_groups_w7, unpack_groups_w8, unpack_groups_w9,
    unpack_groups_w10, unpack_groups_w11, unpack_groups_w12, unpack_groups_w13,
    unpack_groups_w14, unpack_groups_w15, unpack_groups_w16, unpack_groups_w17,
    unpack_groups_w18, unpack_groups_w19, unpack_groups_w20, unpack_groups_w21,
    unpack_groups_w22, unpack_groups_w23, unpack_groups_w24, unpack_groups_w25,
    unpack_groups_w26, unpack_groups_w27, unpack_groups_w28, unpack_groups_w29,
    unpack_groups_w30, unpack_groups_w31, unpack_groups_w32,
};

/* Values [j0, j0 + m) of width w plus ref into o: the groups of eight
 * whose loads stay inside the words the values occupy through
 * unpack_groups, the rest one by one. */
static void unpack_ref(const uint8_t *q, uint32_t j0, uint32_t m, unsigned w, int64_t ref,
                       uint64_t *o)
{
    uint64_t end;
    uint32_t j = 0, ng;
    if (w == 0 || w > UNPACK_MAXW) { /* (a constant block, or wide values) */
        pv_unpack(q, j0, m, w, o);
        for (j = 0; j < m; j++) o[j] += (uint64_t)ref;
        return;
    }
    end = (((uint64_t)(j0 + m) * w + 63) / 64) * 8; /* bytes the words span */
    for (; j < m && ((j0 + j) & 7); j++) o[j] = (uint64_t)ref + pv_unpack1(q, j0 + j, w);
    ng = (m - j) / 8;
    /* the last group's highest load reads bytes [.. + (7w >> 3) + 8) */
    while (ng && ((uint64_t)(j0 + j) / 8 + ng - 1) * w + ((7 * w) >> 3) + 8 > end) ng--;
    if (ng) unpack_by_width[w](q + (uint64_t)(j0 + j) / 8 * w, ng, (uint64_t)ref, o + j);
    for (j += ng * 8; j < m; j++) o[j] = (uint64_t)ref + pv_unpack1(q, j0 + j, w);
}

/* Does b->enc describe b->cols (batch.h)? */
static int has_enc(const pv_batch *b) { return b->enc && b->enc_cols == b->cols; }

void pv_batch_ask_enc(const pv_batch *b)
{
    if (b->want_enc && has_enc(b)) *b->want_enc = 1;
}

int pv_batch_form(const pv_batch *b, uint32_t c)
{
    return has_enc(b) ? b->enc[c].form : PV_VEC_PLAIN;
}

void pv_batch_flatten(const pv_batch *b, uint32_t c)
{
    pv_venc *z = has_enc(b) ? &b->enc[c] : NULL;
    pv_vec *v = &b->cols[c];
    uint32_t r, n = b->nrows;
    if (!z || z->form == PV_VEC_PLAIN) return;
    if (z->form == PV_VEC_PACKED) {
        uint64_t *o = z->flat;
        unpack_ref(z->words, z->off, n, z->width, z->ref, o);
        v->u.i = (const int64_t *)(const void *)o;
    } else if (v->type == PV_TEXT || v->type == PV_BLOB) {
        pv_str *o = z->flat;
        for (r = 0; r < n; r++) o[r] = z->dict->u.s[z->codes[r]];
        v->u.s = o;
    } else {
        int64_t *o = z->flat; /* REAL entries are copied as their bits */
        for (r = 0; r < n; r++) o[r] = z->dict->u.i[z->codes[r]];
        v->u.i = o;
    }
    z->form = PV_VEC_PLAIN;
}

void *pv_vdict_memo(pv_vdict *d, const void *key, size_t size, int *fresh)
{
    unsigned m;
    *fresh = 0;
    for (m = 0; m < PV_VDICT_MEMOS; m++)
        if (d->memo[m].p && d->memo[m].key == key) return d->memo[m].p;
    for (m = 0; m < PV_VDICT_MEMOS; m++) {
        if (d->memo[m].p) continue;
        if (!(d->memo[m].p = calloc(1, size ? size : 1))) return NULL;
        d->memo[m].key = key;
        *fresh = 1;
        return d->memo[m].p;
    }
    return NULL;
}
