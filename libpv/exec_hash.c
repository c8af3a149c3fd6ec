/*
 * exec_hash.c: an open-addressing (linear probing) hash set of value
 * tuples, for GROUP BY, DISTINCT and COUNT(DISTINCT x). Keys are equal when
 * pv_value_cmp says so, so numbers hash by value: 1, 1.0 and TRUE are one key.
 */
#include <stdlib.h>
#include <string.h>

#include "exec.h"

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static uint64_t hash_bytes(const char *p, size_t n, uint64_t seed)
{
    uint64_t h = 0xcbf29ce484222325ULL ^ seed;
    size_t i;
    for (i = 0; i < n; i++) {
        h ^= (unsigned char)p[i];
        h *= 0x100000001b3ULL;
    }
    return mix(h);
}

static uint64_t hash_value(const pv_value *v)
{
    uint64_t u;
    switch (v->type) {
    case PV_NULL: return 0x9e3779b97f4a7c15ULL;
    case PV_REAL:
        /* an integral REAL must hash like the equal INTEGER */
        if (v->u.f >= -9223372036854775808.0 && v->u.f < 9223372036854775808.0 &&
            v->u.f == (double)(int64_t)v->u.f)
            return mix((uint64_t)(int64_t)v->u.f);
        memcpy(&u, &v->u.f, sizeof u);
        return mix(u ^ 0x5555555555555555ULL);
    case PV_TEXT: return hash_bytes(v->u.s.p, v->u.s.n, 1);
    case PV_BLOB: return hash_bytes(v->u.s.p, v->u.s.n, 2);
    default: return mix((uint64_t)v->u.i);
    }
}

static uint64_t hash_key(const pv_value *key, uint32_t width)
{
    uint64_t h = 0x243f6a8885a308d3ULL;
    uint32_t i;
    for (i = 0; i < width; i++) h = mix(h ^ hash_value(&key[i])) + i;
    return h ? h : 1; /* 0 marks an empty slot */
}

static int key_eq(const pv_value *a, const pv_value *b, uint32_t width)
{
    uint32_t i;
    for (i = 0; i < width; i++) {
        int an = a[i].type == PV_NULL, bn = b[i].type == PV_NULL;
        if (an != bn || (!an && pv_value_cmp(&a[i], &b[i]) != 0)) return 0;
    }
    return 1;
}

void pv_hset_init(pv_hset *h, uint32_t width)
{
    memset(h, 0, sizeof *h);
    h->width = width;
}

void pv_hset_set_budget(pv_hset *h, pv_budget *budget, const char *op)
{
    h->budget = budget;
    h->op = op;
}

void pv_hset_free(pv_hset *h)
{
    if (!h) return;
    free(h->hash);
    free(h->id);
    free(h->keys);
    pv_arena_free(&h->arena);
    {
        pv_budget *b = h->budget;
        const char *op = h->op;
        pv_hset_init(h, h->width);
        pv_hset_set_budget(h, b, op);
    }
}

static int rehash(pv_hset *h)
{
    uint32_t nslots = h->mask ? (h->mask + 1) * 2 : 64, i;
    uint64_t *nh;
    uint32_t *nid;
    int rc;
    if (nslots == 0 || nslots > (1u << 31)) return pv_err(PV_ELIMIT, "too many distinct values");
    /* (the old table is freed below: charge the growth, and the new table
     * before it is allocated) */
    if ((rc = pv_budget_charge(h->budget, (uint64_t)(nslots - (h->mask ? h->mask + 1 : 0)) *
                                              (sizeof *nh + sizeof *nid), h->op)))
        return rc;
    nh = calloc(nslots, sizeof *nh);
    nid = malloc(nslots * sizeof *nid);
    if (!nh || !nid) {
        free(nh);
        free(nid);
        return pv_err(PV_ENOMEM, "out of memory growing a hash table");
    }
    for (i = 0; h->mask && i <= h->mask; i++) {
        uint32_t j;
        if (!h->hash[i]) continue;
        j = (uint32_t)h->hash[i] & (nslots - 1);
        while (nh[j]) j = (j + 1) & (nslots - 1);
        nh[j] = h->hash[i];
        nid[j] = h->id[i];
    }
    free(h->hash);
    free(h->id);
    h->hash = nh;
    h->id = nid;
    h->mask = nslots - 1;
    return 0;
}

/* Copy the key into the arena and give it the next id. */
static int store_key(pv_hset *h, const pv_value *key, uint32_t *id)
{
    pv_value *k;
    uint32_t i;
    size_t before = h->arena.total;
    int rc;
    if (h->count == h->keycap) {
        uint32_t ncap = h->keycap ? h->keycap * 2 : 64;
        pv_value **nk;
        if ((rc = pv_budget_charge(h->budget, (uint64_t)(ncap - h->keycap) * sizeof *nk, h->op)))
            return rc;
        nk = realloc(h->keys, ncap * sizeof *nk);
        if (!nk) return pv_err(PV_ENOMEM, "out of memory growing a hash table");
        h->keys = nk;
        h->keycap = ncap;
    }
    k = pv_arena_alloc(&h->arena, (h->width ? h->width : 1) * sizeof *k);
    if (!k) return pv_err(PV_ENOMEM, "out of memory storing a hash key");
    for (i = 0; i < h->width; i++)
        if ((rc = pv_value_copy(&h->arena, &key[i], &k[i]))) return rc;
    /* (the arena grows a block at a time: charged once it has) */
    if ((rc = pv_budget_charge(h->budget, h->arena.total - before, h->op))) return rc;
    h->keys[h->count] = k;
    *id = h->count++;
    return 0;
}

int pv_hset_add(pv_hset *h, const pv_value *key, uint32_t *id)
{
    uint64_t hv = hash_key(key, h->width);
    uint32_t j;
    int rc;
    /* keep the load factor under 1/2 */
    if ((h->count + 1) * 2 > (h->mask ? h->mask + 1 : 0) && (rc = rehash(h))) return rc;
    j = (uint32_t)hv & h->mask;
    while (h->hash[j]) {
        if (h->hash[j] == hv && key_eq(h->keys[h->id[j]], key, h->width)) {
            *id = h->id[j];
            return 0;
        }
        j = (j + 1) & h->mask;
    }
    if ((rc = store_key(h, key, id))) return rc;
    h->hash[j] = hv;
    h->id[j] = *id;
    return 1;
}
