/*
 * encode_choose.c: the registry of column chunk encodings, the chooser, and
 * the helpers the encodings share.
 */
#include <stdlib.h>
#include <string.h>

#include <zstd.h>

#include "encode_stream.h"

/* Indexed by id. A new encoding adds its row here (and its id in encode.h). */
const pv_encoder *const pv_encoders[PV_ENC_COUNT] = {
    &pv_enc_plain, &pv_enc_dict, &pv_enc_for, &pv_enc_delta,
    &pv_enc_rle, &pv_enc_linear, &pv_enc_bitmap, &pv_enc_zstr,
};

int pv_enc_prepare(pv_enc_ctx *ctx, pv_enc_in *in)
{
    uint64_t *u, fill = 0;
    uint32_t r;
    int rc;
    in->u = NULL;
    in->str_bytes = 0;
    if (pv_enc_is_str(in->v.type)) {
        for (r = 0; r < in->nrows; r++)
            if (!pv_enc_is_null(in, r)) in->str_bytes += in->v.u.s[r].n;
        return PV_OK;
    }
    rc = pv_enc_scratch_reserve(&ctx->u, 8 * ((size_t)in->nrows + 1));
    if (rc) return rc;
    u = ctx->u.p;
    /* leading NULLs take the first value, later ones the previous */
    for (r = 0; r < in->nrows; r++)
        if (!pv_enc_is_null(in, r)) {
            memcpy(&fill, in->v.type == PV_REAL ? (const void *)&in->v.u.f[r]
                                                : (const void *)&in->v.u.i[r], 8);
            break;
        }
    if (in->v.type == PV_REAL) {
        for (r = 0; r < in->nrows; r++) {
            if (!pv_enc_is_null(in, r)) memcpy(&fill, &in->v.u.f[r], 8);
            u[r] = fill;
        }
    } else if (!in->v.nulls) {
        memcpy(u, in->v.u.i, (size_t)in->nrows * 8);
    } else {
        for (r = 0; r < in->nrows; r++) {
            if (!in->v.nulls[r]) fill = (uint64_t)in->v.u.i[r];
            u[r] = fill;
        }
    }
    in->u = u;
    return PV_OK;
}

int pv_enc_choose(pv_enc_ctx *ctx, const pv_enc_in *in, const pv_encoder **out,
                  uint64_t *size)
{
    const pv_encoder *best = NULL;
    uint64_t best_size = 0;
    unsigned id;
    for (id = 0; id < PV_ENC_COUNT; id++) {
        const pv_encoder *e = pv_encoders[id];
        uint64_t sz;
        int rc;
        if (!(e->types & PV_T(in->v.type))) continue;
        rc = e->plan(ctx, in, &sz);
        if (rc == PV_ENC_UNSUITABLE) continue;
        if (rc) return rc;
        /* compression must pay: at most 4/5 of the best without it */
        if (id == PV_ENC_ZSTR && best && sz > best_size - best_size / 5) continue;
        if (!best || sz < best_size) {
            best = e;
            best_size = sz;
        }
    }
    if (!best)
        return pv_err(PV_ELIMIT, "column chunk of %u rows too large for any encoding",
                      in->nrows);
    /* plans share no scratch between encoders, but DICT's codes and RLE use
     * their own slots: the winner's plan is still intact */
    *out = best;
    *size = best_size;
    return PV_OK;
}

int pv_dec_open(pv_dec *d, const char **why)
{
    const pv_encoder *e = pv_encoder_get(d->enc);
    *why = "unknown encoding";
    if (!e || !(e->types & PV_T(d->type))) return 1;
    d->cached = 0;
    d->fc_groups = NULL;
    d->table = NULL;
    d->table_ok = NULL;
    d->tabled = 0;
    return e->open(d, why);
}

void pv_enc_store_bits(int type, const uint64_t *bits, uint32_t n, pv_dec_out out)
{
    if (type == PV_REAL) memcpy(out.f, bits, (size_t)n * 8);
    else memcpy(out.i, bits, (size_t)n * 8);
}

void pv_enc_ctx_free(pv_enc_ctx *ctx)
{
    unsigned id, j;
    if (!ctx) return;
    for (id = 0; id < PV_ENC_COUNT; id++)
        for (j = 0; j < 3; j++) free(ctx->s[id][j].p);
    free(ctx->u.p);
    ZSTD_freeCCtx(ctx->zstd);
    memset(ctx, 0, sizeof *ctx);
}

int pv_enc_scratch_reserve(pv_enc_scratch *sc, size_t n)
{
    void *p;
    if (n <= sc->cap) return PV_OK;
    if (n < sc->cap * 2) n = sc->cap * 2;
    p = realloc(sc->p, n);
    if (!p) return pv_err(PV_ENOMEM, "out of memory (%zu bytes of encoder scratch)", n);
    sc->p = p;
    sc->cap = n;
    return PV_OK;
}

void pv_enc_put_strings(uint8_t *dst, const pv_str *s, const uint8_t *nulls, uint32_t n)
{
    uint8_t *bytes = dst + 4 * ((size_t)n + 1);
    uint32_t off = 0, i;
    for (i = 0; i < n; i++) {
        pv_put_u32(dst + 4 * (size_t)i, off);
        if (nulls && nulls[i]) continue;
        if (s[i].n) memcpy(bytes + off, s[i].p, s[i].n);
        off += (uint32_t)s[i].n; /* the plan checked the total fits */
    }
    pv_put_u32(dst + 4 * (size_t)n, off);
}

int pv_enc_check_strings(const uint8_t *p, uint64_t len, uint32_t count,
                         const uint8_t **bytes)
{
    uint64_t head = 4 * ((uint64_t)count + 1);
    uint32_t prev = 0, i;
    if (len < head) return 1;
    if (pv_get_u32(p) != 0) return 1;
    for (i = 1; i <= count; i++) {
        uint32_t o = pv_get_u32(p + 4 * (size_t)i);
        if (o < prev) return 1;
        prev = o;
    }
    /* The last offset ends the bytes exactly, so every slice is inside. */
    if ((uint64_t)prev != len - head) return 1;
    *bytes = p + head;
    return 0;
}
