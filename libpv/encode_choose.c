/*
 * encode_choose.c: the registry of column chunk encodings, the chooser, and
 * the string layout the encodings share.
 */
#include <stdlib.h>
#include <string.h>

#include "encode.h"

/* Indexed by id. A new encoding adds its row here (and its id in encode.h). */
static const pv_encoder *const encoders[PV_ENC_COUNT] = {
    &pv_enc_plain,
    &pv_enc_dict,
};

const pv_encoder *pv_encoder_get(unsigned id)
{
    return id < PV_ENC_COUNT ? encoders[id] : NULL;
}

int pv_enc_choose(pv_enc_ctx *ctx, const pv_enc_in *in,
                  const pv_encoder **out, uint64_t *size)
{
    const pv_encoder *best = NULL;
    uint64_t best_size = 0;
    unsigned id;
    for (id = 0; id < PV_ENC_COUNT; id++) {
        uint64_t sz;
        int rc = encoders[id]->plan(&ctx->s[id], in, &sz);
        if (rc == PV_ENC_UNSUITABLE) continue;
        if (rc) return rc;
        if (!best || sz < best_size) {
            best = encoders[id];
            best_size = sz;
        }
    }
    if (!best)
        return pv_err(PV_ELIMIT, "column chunk of %u rows too large for any encoding",
                      in->nrows);
    *out = best;
    *size = best_size;
    return PV_OK;
}

void pv_enc_ctx_free(pv_enc_ctx *ctx)
{
    unsigned id;
    if (!ctx) return;
    for (id = 0; id < PV_ENC_COUNT; id++) {
        free(ctx->s[id].p);
        memset(&ctx->s[id], 0, sizeof ctx->s[id]);
    }
}

int pv_enc_scratch_reserve(pv_enc_scratch *sc, size_t n)
{
    void *p;
    if (n <= sc->cap) return PV_OK;
    p = realloc(sc->p, n);
    if (!p) return pv_err(PV_ENOMEM, "out of memory (%zu bytes of encoder scratch)", n);
    sc->p = p;
    sc->cap = n;
    return PV_OK;
}

void pv_enc_put_strings(uint8_t *dst, const pv_str *s, const uint8_t *nulls,
                        uint32_t n)
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
