/*
 * pvdb_cache.h: the bake cache of encoded column chunks (docs/BAKE.md 6).
 * Private to the writer.
 */
#ifndef PV_PVDB_CACHE_H
#define PV_PVDB_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "encode.h"
#include "util.h"

/* Changes whenever an encoder's output changes for the same input, so
 * entries of an older writer are never reused. */
#define PVDB_ENCODER_REV 1u

/* The 16-byte key of a prepared chunk (pv_enc_prepare done) with encoder
 * flags `eflags`. `tmp` is scratch. 0 or PV_ENOMEM. */
int pvdb_cache_key(const pv_enc_in *in, unsigned eflags, pv_enc_scratch *tmp,
                   uint8_t key[16]);

/* Look the key up in dir: 1 and *enc + payload (replacing its contents)
 * when a sound entry is there, 0 otherwise (a damaged entry is a miss). */
int pvdb_cache_get(const char *dir, const uint8_t key[16], uint8_t *enc, pv_buf *payload);

/* Store an entry (best effort: a full disk only costs the next bake). */
void pvdb_cache_put(const char *dir, const uint8_t key[16], uint8_t enc, const void *payload,
                    size_t len);

/* Create dir (and its parents). 0 or PV_EIO. */
int pvdb_cache_mkdir(const char *dir);

/* Delete the entries of dir whose key is not among keys[0..n) (sorted by
 * memcmp). */
void pvdb_cache_prune(const char *dir, const uint8_t (*keys)[16], size_t n);

#endif
