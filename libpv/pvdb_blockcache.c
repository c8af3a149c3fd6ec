/*
 * pvdb_blockcache.c: the shared cache of decoded column blocks
 * (pvdb_blockcache.h says what it holds and promises).
 *
 * Each shard is a mutex, a power-of-two array of hash chains and a
 * doubly-linked LRU list (head = most recently used). A lookup holds its
 * shard's mutex for a chain walk, a move to the LRU head and a reference
 * increment; decoding (zstd, front-coded groups) happens outside any
 * lock, so two readers missing the same block may both decode it and the
 * second put returns the first's block. References are atomic: a block
 * is released by readers without taking any lock.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pvdb_blockcache.h"
#include "util.h"

struct pv_block {
    pv_block_key key;
    uint64_t hash;
    uint32_t refs;              /* atomic */
    size_t size;                /* payload bytes */
    pv_block *hnext;            /* hash chain */
    pv_block *lprev, *lnext;    /* LRU list */
    uint64_t data[];            /* payload, 8-aligned */
};

typedef struct shard {
    pthread_mutex_t lock;
    pv_block **heads;
    uint32_t mask;              /* chains - 1 */
    uint64_t entries, bytes, cap;
    pv_block *lru_head, *lru_tail;
    uint64_t hits, misses, inserts, evictions;
} shard;

struct pv_blockcache {
    shard shards[PV_BLOCKCACHE_SHARDS];
};

/* Bytes a block counts for: its payload and header. */
static uint64_t cost(const pv_block *b) { return sizeof *b + b->size; }

static uint64_t key_hash(const pv_block_key *k)
{
    uint64_t h = k->gen * 0x9e3779b97f4a7c15ull ^ ((uint64_t)k->chunk << 32 | k->block);
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    return h ^ (h >> 29);
}

static int key_eq(const pv_block_key *a, const pv_block_key *b)
{
    return a->gen == b->gen && a->chunk == b->chunk && a->block == b->block;
}

static shard *shard_of(pv_blockcache *c, uint64_t h)
{
    return &c->shards[(h >> 56) % PV_BLOCKCACHE_SHARDS];
}

int pv_blockcache_new(uint64_t capacity, pv_blockcache **out)
{
    pv_blockcache *c;
    unsigned i;
    *out = NULL;
    if (!(c = calloc(1, sizeof *c))) return pv_err(PV_ENOMEM, "out of memory creating the block cache");
    for (i = 0; i < PV_BLOCKCACHE_SHARDS; i++) {
        shard *s = &c->shards[i];
        s->cap = capacity / PV_BLOCKCACHE_SHARDS ? capacity / PV_BLOCKCACHE_SHARDS : 1;
        s->mask = 63;
        if (!(s->heads = calloc((size_t)s->mask + 1, sizeof *s->heads)) ||
            pthread_mutex_init(&s->lock, NULL) != 0) {
            free(s->heads);
            s->heads = NULL;
            while (i--) {
                pthread_mutex_destroy(&c->shards[i].lock);
                free(c->shards[i].heads);
            }
            free(c);
            return pv_err(PV_ENOMEM, "out of memory creating the block cache");
        }
    }
    *out = c;
    return PV_OK;
}

pv_block *pv_block_new(size_t size)
{
    pv_block *b;
    if (size > SIZE_MAX - sizeof *b - 8) return NULL;
    if (!(b = malloc(sizeof *b + ((size + 7) & ~(size_t)7)))) return NULL;
    memset(b, 0, sizeof *b);
    b->size = size;
    b->refs = 1;
    return b;
}

void pv_block_release(const pv_block *cb)
{
    pv_block *b = (pv_block *)(uintptr_t)cb;
    if (b && __atomic_sub_fetch(&b->refs, 1, __ATOMIC_ACQ_REL) == 0) free(b);
}

void *pv_block_data(const pv_block *b) { return (void *)(uintptr_t)b->data; }
size_t pv_block_size(const pv_block *b) { return b->size; }

/* ---- under a shard's lock ------------------------------------------------------------ */

static void lru_unlink(shard *s, pv_block *b)
{
    if (b->lprev) b->lprev->lnext = b->lnext;
    else s->lru_head = b->lnext;
    if (b->lnext) b->lnext->lprev = b->lprev;
    else s->lru_tail = b->lprev;
    b->lprev = b->lnext = NULL;
}

static void lru_push(shard *s, pv_block *b)
{
    b->lprev = NULL;
    b->lnext = s->lru_head;
    if (s->lru_head) s->lru_head->lprev = b;
    s->lru_head = b;
    if (!s->lru_tail) s->lru_tail = b;
}

static pv_block **chain_of(shard *s, uint64_t h) { return &s->heads[h & s->mask]; }

/* Unlink b from its chain and the LRU; the caller drops the cache's
 * reference once the lock is released. */
static void unlink_block(shard *s, pv_block *b)
{
    pv_block **p = chain_of(s, b->hash);
    while (*p != b) p = &(*p)->hnext;
    *p = b->hnext;
    lru_unlink(s, b);
    s->entries--;
    s->bytes -= cost(b);
}

/* Twice the chains when the entries outnumber them (best effort: a failed
 * allocation keeps the chains longer). */
static void maybe_grow(shard *s)
{
    uint32_t n = s->mask + 1, i;
    pv_block **nh;
    if (s->entries <= n || n >= (1u << 24)) return;
    if (!(nh = calloc((size_t)n * 2, sizeof *nh))) return;
    for (i = 0; i < n; i++) {
        pv_block *b = s->heads[i];
        while (b) {
            pv_block *next = b->hnext;
            b->hnext = nh[b->hash & (2 * n - 1)];
            nh[b->hash & (2 * n - 1)] = b;
            b = next;
        }
    }
    free(s->heads);
    s->heads = nh;
    s->mask = 2 * n - 1;
}

static pv_block *find(shard *s, const pv_block_key *k, uint64_t h)
{
    pv_block *b = *chain_of(s, h);
    while (b && !(b->hash == h && key_eq(&b->key, k))) b = b->hnext;
    return b;
}

/* ---- public ------------------------------------------------------------------------- */

const pv_block *pv_blockcache_get(pv_blockcache *c, const pv_block_key *k)
{
    uint64_t h = key_hash(k);
    shard *s = shard_of(c, h);
    pv_block *b;
    pthread_mutex_lock(&s->lock);
    b = find(s, k, h);
    if (b) {
        if (s->lru_head != b) {
            lru_unlink(s, b);
            lru_push(s, b);
        }
        __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED);
        s->hits++;
    } else {
        s->misses++;
    }
    pthread_mutex_unlock(&s->lock);
    return b;
}

const pv_block *pv_blockcache_put(pv_blockcache *c, const pv_block_key *k, pv_block *b)
{
    uint64_t h = key_hash(k);
    shard *s = shard_of(c, h);
    pv_block *old, *evicted = NULL;
    b->key = *k;
    b->hash = h;
    if (cost(b) > s->cap) return b; /* never kept: the caller's alone */
    pthread_mutex_lock(&s->lock);
    if ((old = find(s, k, h))) { /* another reader decoded it first */
        __atomic_add_fetch(&old->refs, 1, __ATOMIC_RELAXED);
        pthread_mutex_unlock(&s->lock);
        pv_block_release(b);
        return old;
    }
    while (s->lru_tail && s->bytes + cost(b) > s->cap) {
        pv_block *v = s->lru_tail;
        unlink_block(s, v);
        v->hnext = evicted; /* released after the unlock */
        evicted = v;
        s->evictions++;
    }
    b->hnext = *chain_of(s, h);
    *chain_of(s, h) = b;
    lru_push(s, b);
    __atomic_add_fetch(&b->refs, 1, __ATOMIC_RELAXED); /* the cache's */
    s->entries++;
    s->bytes += cost(b);
    s->inserts++;
    maybe_grow(s);
    pthread_mutex_unlock(&s->lock);
    while (evicted) {
        pv_block *next = evicted->hnext;
        pv_block_release(evicted);
        evicted = next;
    }
    return b;
}

void pv_blockcache_drop_gen(pv_blockcache *c, uint64_t gen)
{
    unsigned i;
    if (!c) return;
    for (i = 0; i < PV_BLOCKCACHE_SHARDS; i++) {
        shard *s = &c->shards[i];
        pv_block *b, *next, *dropped = NULL;
        pthread_mutex_lock(&s->lock);
        for (b = s->lru_head; b; b = next) {
            next = b->lnext;
            if (b->key.gen != gen) continue;
            unlink_block(s, b);
            b->hnext = dropped;
            dropped = b;
        }
        pthread_mutex_unlock(&s->lock);
        while (dropped) {
            next = dropped->hnext;
            pv_block_release(dropped);
            dropped = next;
        }
    }
}

void pv_blockcache_stats_get(pv_blockcache *c, pv_blockcache_stats *out)
{
    unsigned i;
    memset(out, 0, sizeof *out);
    for (i = 0; i < PV_BLOCKCACHE_SHARDS; i++) {
        shard *s = &c->shards[i];
        pthread_mutex_lock(&s->lock);
        out->hits += s->hits;
        out->misses += s->misses;
        out->inserts += s->inserts;
        out->evictions += s->evictions;
        out->bytes += s->bytes;
        out->entries += s->entries;
        pthread_mutex_unlock(&s->lock);
    }
}

void pv_blockcache_free(pv_blockcache *c)
{
    unsigned i;
    if (!c) return;
    for (i = 0; i < PV_BLOCKCACHE_SHARDS; i++) {
        shard *s = &c->shards[i];
        pv_block *b = s->lru_head, *next;
        for (; b; b = next) {
            next = b->lnext;
            pv_block_release(b);
        }
        pthread_mutex_destroy(&s->lock);
        free(s->heads);
    }
    free(c);
}
