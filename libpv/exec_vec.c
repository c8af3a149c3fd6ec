/*
 * exec_vec.c: the executor's side of encoded batches (batch.h): decoding
 * an encoded column in place when a typed loop wants plain values, and the
 * memo slots consumers attach to a chunk's dictionary.
 */
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "exec.h"

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
        pv_unpack_ref(z->words, z->off, n, z->width, (uint64_t)z->ref, o);
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
