/*
 * pvdb_zone.c: zone maps of column chunks (docs/FORMAT.md 3.4, chunk
 * record): the min and max of the non-NULL values, REAL without NaN (a
 * flag says one is there), TEXT and BLOB as zero-padded 8-byte prefixes.
 * The writer computes them; pvdb_verify computes them again and compares.
 */
#include <string.h>

#include "encode.h"
#include "pvdb_impl.h"

void pvdb_zone_init(pvdb_zone *z, int type)
{
    memset(z, 0, sizeof *z);
    z->type = type;
}

/* A value's zero-padded 8-byte prefix as a big-endian number: numbers
 * order as the prefixes do under memcmp, so min and max are integer
 * compares (a memcmp call per value took most of pvdb_verify's time). */
static inline uint64_t prefix_key(pv_str s)
{
    uint8_t p[8] = {0};
    size_t i;
    if (s.n >= 8) return __builtin_bswap64(pv_get_u64((const uint8_t *)s.p));
    for (i = 0; i < s.n; i++) p[i] = (uint8_t)s.p[i];
    return __builtin_bswap64(pv_get_u64(p));
}

static inline void put_key(uint8_t out[8], uint64_t k) { pv_put_u64(out, __builtin_bswap64(k)); }

/* Fold [lo, hi] (some non-NULL rows were seen) into z. */
static void add_keys(pvdb_zone *z, uint64_t lo, uint64_t hi)
{
    int first = !(z->flags & PVDB_ZONE_MINMAX);
    if (first || lo < __builtin_bswap64(pv_get_u64(z->smin))) put_key(z->smin, lo);
    if (first || hi > __builtin_bswap64(pv_get_u64(z->smax))) put_key(z->smax, hi);
    z->flags |= PVDB_ZONE_MINMAX;
}

static void add_ints(pvdb_zone *z, int64_t lo, int64_t hi)
{
    int first = !(z->flags & PVDB_ZONE_MINMAX);
    if (first || lo < z->imin) z->imin = lo;
    if (first || hi > z->imax) z->imax = hi;
    z->flags |= PVDB_ZONE_MINMAX;
}

static void zone_strs(pvdb_zone *z, const pv_vec *v, uint32_t n)
{
    uint64_t lo = UINT64_MAX, hi = 0;
    uint32_t r, seen = 0;
    for (r = 0; r < n; r++) {
        uint64_t k;
        if (v->nulls && v->nulls[r]) continue;
        k = prefix_key(v->u.s[r]);
        lo = k < lo ? k : lo;
        hi = k > hi ? k : hi;
        seen = 1;
    }
    if (seen) add_keys(z, lo, hi);
}

static void zone_ints(pvdb_zone *z, const pv_vec *v, uint32_t n)
{
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    uint32_t r, seen = 0;
    for (r = 0; r < n; r++) {
        int64_t i;
        if (v->nulls && v->nulls[r]) continue;
        i = v->u.i[r];
        lo = i < lo ? i : lo;
        hi = i > hi ? i : hi;
        seen = 1;
    }
    if (seen) add_ints(z, lo, hi);
}

static void zone_reals(pvdb_zone *z, const pv_vec *v, uint32_t n)
{
    uint32_t r;
    for (r = 0; r < n; r++) {
        double f;
        if (v->nulls && v->nulls[r]) continue;
        f = v->u.f[r];
        if (f != f) {
            z->flags |= PVDB_ZONE_NAN;
            continue;
        }
        if (!(z->flags & PVDB_ZONE_MINMAX) || f < z->fmin) z->fmin = f;
        if (!(z->flags & PVDB_ZONE_MINMAX) || f > z->fmax) z->fmax = f;
        z->flags |= PVDB_ZONE_MINMAX;
    }
}

void pvdb_zone_add(pvdb_zone *z, const pv_vec *v, uint32_t n)
{
    if (pv_enc_is_str(z->type)) zone_strs(z, v, n);
    else if (z->type == PV_REAL) zone_reals(z, v, n);
    else zone_ints(z, v, n);
}

void pvdb_zone_put(const pvdb_zone *z, uint8_t *flags, uint8_t min[8], uint8_t max[8])
{
    *flags = z->flags;
    memset(min, 0, 8);
    memset(max, 0, 8);
    if (!(z->flags & PVDB_ZONE_MINMAX)) return;
    if (pv_enc_is_str(z->type)) {
        memcpy(min, z->smin, 8);
        memcpy(max, z->smax, 8);
    } else if (z->type == PV_REAL) {
        pv_put_f64(min, z->fmin);
        pv_put_f64(max, z->fmax);
    } else {
        pv_put_u64(min, (uint64_t)z->imin);
        pv_put_u64(max, (uint64_t)z->imax);
    }
}
