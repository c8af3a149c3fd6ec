/*
 * pvdb_cache.c: the bake cache of encoded column chunks (docs/BAKE.md 6).
 *
 * One file per chunk, named by the 32 hex digits of its key:
 *
 *   0   u8[8]  magic "PVCHUNK\x02"
 *   8   u32    entry version (1)
 *   12  u8     encoding id
 *   13  u8[3]  zero
 *   16  u8[16] key
 *   32  u64    payload length
 *   40  u64    XXH3-64 of the payload
 *   48  u64    XXH3-64 of bytes [0, 48)
 *   56  payload
 *
 * An origin entry (named by the origin key: an identity of the rows, not
 * their values; docs/BAKE.md 6) points to a chunk entry and holds what the
 * chunk record needs besides the payload:
 *
 *   0   u8[8]  magic "PVORIGN\x01"
 *   8   u8[16] origin key
 *   24  u8[16] key of the chunk entry
 *   40  u32    null count
 *   44  u8     zone flags
 *   45  u8[3]  zero
 *   48  u8[8]  zone min
 *   56  u8[8]  zone max
 *   64  u64    plain length
 *   72  u64    XXH3-64 of bytes [0, 72)
 *
 * Written to a temporary name and renamed, so concurrent bakes of one
 * workspace at worst both write an entry. Anything unexpected in an entry
 * makes it a miss.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "pvdb_cache.h"
#include "pvdb_format.h"

#define ENTRY_MAGIC "PVCHUNK\x02"
#define ENTRY_HEADER 56
#define ORIGIN_MAGIC "PVORIGN\x01"
#define ORIGIN_SIZE 80

int pvdb_cache_key(const pv_enc_in *in, unsigned eflags, pv_enc_scratch *tmp,
                   uint8_t key[16])
{
    XXH3_state_t *st = XXH3_createState();
    XXH128_hash_t h;
    uint8_t head[64];
    size_t vlen = strlen(PV_VERSION_STRING);
    memset(head, 0, sizeof head);
    memcpy(head, "pvdb-chunk", 10);
    pv_put_u32(head + 12, PVDB_VERSION);
    pv_put_u32(head + 16, PVDB_ENCODER_REV);
    pv_put_u32(head + 20, PV_BLOCK_ROWS);
    pv_put_u32(head + 24, (uint32_t)in->v.type);
    pv_put_u32(head + 28, eflags);
    pv_put_u32(head + 32, in->nrows);
    pv_put_u32(head + 36, in->null_count);
    pv_put_u64(head + 40, vlen);
    if (!st) return pv_err(PV_ENOMEM, "out of memory");
    XXH3_128bits_reset(st);
    XXH3_128bits_update(st, head, sizeof head);
    XXH3_128bits_update(st, PV_VERSION_STRING, vlen);
    if (in->null_count) XXH3_128bits_update(st, in->v.nulls, in->nrows);
    if (!pv_enc_is_str(in->v.type)) {
        XXH3_128bits_update(st, in->u, 8 * (size_t)in->nrows);
    } else {
        uint64_t *hs;
        uint32_t r;
        if (pv_enc_scratch_reserve(tmp, 8 * ((size_t)in->nrows + 1))) {
            XXH3_freeState(st);
            return PV_ENOMEM;
        }
        hs = tmp->p;
        for (r = 0; r < in->nrows; r++)
            hs[r] = pv_enc_is_null(in, r) ? 0 : XXH3_64bits(in->v.u.s[r].p, in->v.u.s[r].n);
        XXH3_128bits_update(st, hs, 8 * (size_t)in->nrows);
    }
    h = XXH3_128bits_digest(st);
    XXH3_freeState(st);
    pv_put_u64(key, h.low64);
    pv_put_u64(key + 8, h.high64);
    return PV_OK;
}

void pvdb_cache_origin_key(const uint8_t id[16], uint32_t col, int type, unsigned eflags,
                           uint32_t nrows, uint8_t key[16])
{
    uint8_t head[64 + 64];
    size_t vlen = strlen(PV_VERSION_STRING);
    XXH128_hash_t h;
    if (vlen > 64) vlen = 64; /* (a version string is short) */
    memset(head, 0, sizeof head);
    memcpy(head, "pvdb-origin", 11);
    pv_put_u32(head + 12, PVDB_VERSION);
    pv_put_u32(head + 16, PVDB_ENCODER_REV);
    pv_put_u32(head + 20, PV_BLOCK_ROWS);
    pv_put_u32(head + 24, (uint32_t)type);
    pv_put_u32(head + 28, eflags);
    pv_put_u32(head + 32, nrows);
    pv_put_u32(head + 36, col);
    pv_put_u64(head + 40, vlen);
    memcpy(head + 48, id, 16);
    memcpy(head + 64, PV_VERSION_STRING, vlen);
    h = XXH3_128bits(head, 64 + vlen);
    pv_put_u64(key, h.low64);
    pv_put_u64(key + 8, h.high64);
}

static void entry_path(const char *dir, const uint8_t key[16], char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    char name[33];
    int i;
    for (i = 0; i < 16; i++) {
        name[2 * i] = hex[key[i] >> 4];
        name[2 * i + 1] = hex[key[i] & 15];
    }
    name[32] = 0;
    snprintf(out, cap, "%s/%s", dir, name);
}

static int read_all(int fd, void *p, size_t n)
{
    uint8_t *q = p;
    while (n) {
        ssize_t r = read(fd, q, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        q += r;
        n -= (size_t)r;
    }
    return 0;
}

int pvdb_cache_get(const char *dir, const uint8_t key[16], uint8_t *enc, pv_buf *payload,
                   uint64_t *sum)
{
    char path[4096];
    uint8_t h[ENTRY_HEADER];
    uint64_t len;
    struct stat st;
    int fd, hit = 0;
    entry_path(dir, key, path, sizeof path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    if (fstat(fd, &st) != 0 || st.st_size < ENTRY_HEADER || read_all(fd, h, sizeof h)) goto done;
    len = pv_get_u64(h + 32);
    if (memcmp(h, ENTRY_MAGIC, 8) || pv_get_u32(h + 8) != 1 || h[13] || h[14] || h[15] ||
        memcmp(h + 16, key, 16) || pv_get_u64(h + 48) != XXH3_64bits(h, 48) ||
        len != (uint64_t)st.st_size - ENTRY_HEADER || len > PVDB_MAX_CHUNK_LEN ||
        !pv_encoder_get(h[12]))
        goto done;
    payload->len = 0;
    if (pv_buf_reserve(payload, (size_t)len + 1) || read_all(fd, payload->p, (size_t)len))
        goto done;
    if (XXH3_64bits(payload->p, (size_t)len) != pv_get_u64(h + 40)) goto done;
    payload->len = (size_t)len;
    *enc = h[12];
    *sum = pv_get_u64(h + 40);
    hit = 1;
done:
    close(fd);
    return hit;
}

/* Write `len` bytes as the entry `path`, through a temporary file. */
static void put_file(const char *path, const void *h, size_t hlen, const void *payload, size_t len)
{
    char tmp[4200];
    int fd, ok;
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    fd = mkstemp(tmp);
    if (fd < 0) return;
    ok = pv_write_all(fd, h, hlen, tmp) == PV_OK &&
         (!len || pv_write_all(fd, payload, len, tmp) == PV_OK);
    if (close(fd) != 0) ok = 0;
    if (!ok || rename(tmp, path) != 0) unlink(tmp);
}

void pvdb_cache_put(const char *dir, const uint8_t key[16], uint8_t enc, const void *payload,
                    size_t len, uint64_t sum)
{
    char path[4096];
    uint8_t h[ENTRY_HEADER];
    entry_path(dir, key, path, sizeof path);
    memset(h, 0, sizeof h);
    memcpy(h, ENTRY_MAGIC, 8);
    pv_put_u32(h + 8, 1);
    h[12] = enc;
    memcpy(h + 16, key, 16);
    pv_put_u64(h + 32, len);
    pv_put_u64(h + 40, sum);
    pv_put_u64(h + 48, XXH3_64bits(h, 48));
    put_file(path, h, sizeof h, payload, len);
}

int pvdb_cache_origin_get(const char *dir, const uint8_t okey[16], uint8_t key[16],
                          pvdb_chunk_stats *st)
{
    char path[4096];
    uint8_t e[ORIGIN_SIZE + 1];
    ssize_t n;
    int fd;
    entry_path(dir, okey, path, sizeof path);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    n = read(fd, e, sizeof e); /* one more byte than an entry: a longer file is no entry */
    close(fd);
    if (n != ORIGIN_SIZE || memcmp(e, ORIGIN_MAGIC, 8) || memcmp(e + 8, okey, 16) || e[45] ||
        e[46] || e[47] || pv_get_u64(e + 72) != XXH3_64bits(e, 72))
        return 0;
    memcpy(key, e + 24, 16);
    st->nulls = pv_get_u32(e + 40);
    st->zflags = e[44];
    memcpy(st->zmin, e + 48, 8);
    memcpy(st->zmax, e + 56, 8);
    st->plain = pv_get_u64(e + 64);
    return 1;
}

void pvdb_cache_origin_put(const char *dir, const uint8_t okey[16], const uint8_t key[16],
                           const pvdb_chunk_stats *st)
{
    char path[4096];
    uint8_t e[ORIGIN_SIZE];
    memset(e, 0, sizeof e);
    memcpy(e, ORIGIN_MAGIC, 8);
    memcpy(e + 8, okey, 16);
    memcpy(e + 24, key, 16);
    pv_put_u32(e + 40, st->nulls);
    e[44] = st->zflags;
    memcpy(e + 48, st->zmin, 8);
    memcpy(e + 56, st->zmax, 8);
    pv_put_u64(e + 64, st->plain);
    pv_put_u64(e + 72, XXH3_64bits(e, 72));
    entry_path(dir, okey, path, sizeof path);
    put_file(path, e, sizeof e, NULL, 0);
}

int pvdb_cache_mkdir(const char *dir)
{
    char path[4096];
    size_t i, n = strlen(dir);
    if (n == 0 || n >= sizeof path) return pv_err(PV_EIO, "bad cache directory '%s'", dir);
    memcpy(path, dir, n + 1);
    for (i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != 0) continue;
        path[i] = 0;
        if (mkdir(path, 0755) != 0 && errno != EEXIST)
            return pv_err_errno("cannot create the cache directory '%s'", path);
        path[i] = i < n ? '/' : 0;
    }
    return PV_OK;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

void pvdb_cache_prune(const char *dir, const uint8_t (*keys)[16], size_t n)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    if (!d) return;
    while ((e = readdir(d)) != NULL) {
        uint8_t key[16];
        size_t lo = 0, hi = n;
        int i, bad = 0;
        char path[4096];
        if (strlen(e->d_name) != 32) continue; /* not an entry (or a temporary) */
        for (i = 0; i < 16; i++) {
            int a = hexval(e->d_name[2 * i]), b = hexval(e->d_name[2 * i + 1]);
            if (a < 0 || b < 0) bad = 1;
            key[i] = (uint8_t)((a << 4) | (b & 15));
        }
        if (bad) continue;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = memcmp(keys[mid], key, 16);
            if (c == 0) break;
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        if (lo < hi) continue; /* used by this bake */
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
}
