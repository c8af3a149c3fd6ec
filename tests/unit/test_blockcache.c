/*
 * test_blockcache.c: the shared cache of decoded `.pvdb` blocks
 * (pvdb_blockcache.h) on its own: hits and misses, a racing second put,
 * least-recently-used eviction within the byte budget, a block evicted
 * while a reader holds it (its bytes stay valid: ASan would see a use
 * after free), blocks too large to keep, forgetting one file generation,
 * and several threads getting and putting under a tiny budget with every
 * payload checked. The cache inside pv_open (zstd text read by several
 * threads through a tiny cache) is tested in test_threads.c.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pvdb_blockcache.h"
#include "util.h"

static pv_block_key key(uint64_t gen, uint32_t chunk, uint32_t block)
{
    pv_block_key k;
    k.gen = gen;
    k.chunk = chunk;
    k.block = block;
    return k;
}

/* The payload of key k: bytes that depend on all of it. */
static void fill(pv_block *b, const pv_block_key *k)
{
    uint8_t *p = pv_block_data(b);
    size_t i;
    for (i = 0; i < pv_block_size(b); i++)
        p[i] = (uint8_t)(k->gen * 31 + k->chunk * 7 + k->block * 3 + i);
}

static int payload_ok(const pv_block *b, const pv_block_key *k, size_t size)
{
    const uint8_t *p = pv_block_data(b);
    size_t i;
    if (pv_block_size(b) != size) return 0;
    for (i = 0; i < size; i++)
        if (p[i] != (uint8_t)(k->gen * 31 + k->chunk * 7 + k->block * 3 + i)) return 0;
    return 1;
}

/* Put a new block of `size` bytes for k; the caller's reference returned. */
static const pv_block *put(pv_blockcache *c, pv_block_key k, size_t size)
{
    pv_block *b = pv_block_new(size);
    assert_non_null(b);
    fill(b, &k);
    return pv_blockcache_put(c, &k, b);
}

static void test_get_put(void **state)
{
    pv_blockcache *c = NULL;
    pv_blockcache_stats st;
    pv_block_key k = key(1, 2, 3), k2 = key(2, 2, 3);
    const pv_block *a, *b, *x;
    pv_block *dup;
    (void)state;
    assert_int_equal(pv_blockcache_new(1 << 20, &c), PV_OK);
    assert_null(pv_blockcache_get(c, &k));
    a = put(c, k, 100);
    assert_true(payload_ok(a, &k, 100));
    b = pv_blockcache_get(c, &k);
    assert_ptr_equal(a, b);
    assert_null(pv_blockcache_get(c, &k2)); /* another generation, same chunk and block */
    /* a reader that decoded the same block meanwhile gets the first one */
    dup = pv_block_new(100);
    assert_non_null(dup);
    fill(dup, &k);
    x = pv_blockcache_put(c, &k, dup);
    assert_ptr_equal(x, a);
    pv_blockcache_stats_get(c, &st);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.inserts, 1);
    assert_int_equal(st.entries, 1);
    pv_block_release(a);
    pv_block_release(b);
    pv_block_release(x);
    pv_blockcache_free(c);
    pv_blockcache_free(NULL);
    pv_block_release(NULL);
}

/* Blocks of one shard's worth of keys: the budget is per shard, so count
 * how many of a run of keys a shard keeps by putting until it evicts. */
static void test_lru_eviction(void **state)
{
    pv_blockcache *c = NULL;
    pv_blockcache_stats st;
    const pv_block *held, *b;
    pv_block_key k0 = key(7, 0, 0);
    uint32_t i, n = 4000, kept = 0;
    (void)state;
    /* 16 shards of 64 KiB: 1000-byte blocks, ~60 per shard */
    assert_int_equal(pv_blockcache_new(16 * 65536, &c), PV_OK);
    held = put(c, k0, 1000); /* held by this reader throughout */
    for (i = 1; i < n; i++) {
        b = put(c, key(7, i, 0), 1000);
        pv_block_release(b);
        /* key 1 is used again and again: never the least recently used */
        if ((b = pv_blockcache_get(c, &(pv_block_key){7, 1, 0}))) pv_block_release(b);
    }
    pv_blockcache_stats_get(c, &st);
    assert_true(st.evictions > 0);
    assert_true(st.bytes <= 16 * 65536);
    assert_true(st.entries < n / 2);
    /* the held block was evicted long ago, its bytes are still its own */
    assert_true(payload_ok(held, &k0, 1000));
    b = pv_blockcache_get(c, &k0);
    assert_null(b);
    /* the hot key survived; the most recent keys are there */
    b = pv_blockcache_get(c, &(pv_block_key){7, 1, 0});
    assert_non_null(b);
    pv_block_release(b);
    for (i = n - 20; i < n; i++)
        if ((b = pv_blockcache_get(c, &(pv_block_key){7, i, 0}))) {
            kept++;
            assert_true(payload_ok(b, &(pv_block_key){7, i, 0}, 1000));
            pv_block_release(b);
        }
    assert_int_equal(kept, 20);
    pv_block_release(held);
    pv_blockcache_free(c);
}

static void test_too_large_and_drop(void **state)
{
    pv_blockcache *c = NULL;
    pv_blockcache_stats st;
    const pv_block *big, *b;
    uint32_t i;
    (void)state;
    assert_int_equal(pv_blockcache_new(16 * 4096, &c), PV_OK);
    big = put(c, key(1, 1, 1), 8192); /* more than a shard's 4 KiB */
    assert_true(payload_ok(big, &(pv_block_key){1, 1, 1}, 8192));
    assert_null(pv_blockcache_get(c, &(pv_block_key){1, 1, 1}));
    pv_block_release(big); /* the only reference: freed */
    for (i = 0; i < 30; i++) {
        pv_block_release(put(c, key(1, i, 2), 10));
        pv_block_release(put(c, key(2, i, 2), 10));
    }
    pv_blockcache_stats_get(c, &st);
    assert_int_equal(st.entries, 60);
    b = pv_blockcache_get(c, &(pv_block_key){1, 5, 2}); /* held across the drop */
    assert_non_null(b);
    pv_blockcache_drop_gen(c, 1);
    pv_blockcache_stats_get(c, &st);
    assert_int_equal(st.entries, 30);
    assert_null(pv_blockcache_get(c, &(pv_block_key){1, 6, 2}));
    assert_true(payload_ok(b, &(pv_block_key){1, 5, 2}, 10));
    pv_block_release(b);
    b = pv_blockcache_get(c, &(pv_block_key){2, 6, 2});
    assert_non_null(b);
    pv_block_release(b);
    pv_blockcache_free(c); /* frees generation 2's blocks */
}

/* ---- threads ------------------------------------------------------------------------ */

#define NTHREADS 4
#define KEYS 500
#define OPS 20000

typedef struct hammer {
    pv_blockcache *c;
    int id, bad;
} hammer;

static size_t size_of(uint32_t k) { return 64 + (k % 7) * 200; }

static void *hammer_run(void *arg)
{
    hammer *h = arg;
    uint64_t s = 0x9E3779B97F4A7C15ull * (uint64_t)(h->id + 1);
    const pv_block *keep[8] = {NULL};
    pv_block_key kk[8];
    int i, j;
    for (i = 0; i < OPS; i++) {
        uint32_t k;
        pv_block_key bk;
        const pv_block *b;
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        k = (uint32_t)(s % KEYS);
        bk = key(3, k, k / 3);
        if (!(b = pv_blockcache_get(h->c, &bk))) {
            pv_block *nb = pv_block_new(size_of(k));
            if (!nb) {
                h->bad++;
                continue;
            }
            fill(nb, &bk);
            b = pv_blockcache_put(h->c, &bk, nb);
        }
        if (!payload_ok(b, &bk, size_of(k))) h->bad++;
        /* hold a few blocks for a while, as a scan holds its column's */
        j = i % 8;
        if (keep[j] && !payload_ok(keep[j], &kk[j], size_of(kk[j].chunk))) h->bad++;
        pv_block_release(keep[j]);
        keep[j] = b;
        kk[j] = bk;
    }
    for (j = 0; j < 8; j++) pv_block_release(keep[j]);
    return NULL;
}

static void test_threads_tiny_budget(void **state)
{
    pv_blockcache *c = NULL;
    pv_blockcache_stats st;
    pthread_t th[NTHREADS];
    hammer h[NTHREADS];
    int i;
    (void)state;
    assert_int_equal(pv_blockcache_new(16 * 4096, &c), PV_OK); /* ~100 of 500 keys fit */
    for (i = 0; i < NTHREADS; i++) {
        h[i].c = c;
        h[i].id = i;
        h[i].bad = 0;
        assert_int_equal(pthread_create(&th[i], NULL, hammer_run, &h[i]), 0);
    }
    for (i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    for (i = 0; i < NTHREADS; i++) assert_int_equal(h[i].bad, 0);
    pv_blockcache_stats_get(c, &st);
    assert_true(st.evictions > 1000);
    assert_true(st.hits > 0);
    assert_true(st.bytes <= 16 * 4096);
    pv_blockcache_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_put),
        cmocka_unit_test(test_lru_eviction),
        cmocka_unit_test(test_too_large_and_drop),
        cmocka_unit_test(test_threads_tiny_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
