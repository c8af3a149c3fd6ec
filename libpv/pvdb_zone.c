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

static void prefix8(pv_str s, uint8_t out[8])
{
    memset(out, 0, 8);
    if (s.n) memcpy(out, s.p, s.n < 8 ? s.n : 8);
}

void pvdb_zone_add(pvdb_zone *z, const pv_vec *v, uint32_t n)
{
    uint32_t r;
    for (r = 0; r < n; r++) {
        if (v->nulls && v->nulls[r]) continue;
        if (pv_enc_is_str(z->type)) {
            uint8_t p[8];
            prefix8(v->u.s[r], p);
            if (!(z->flags & PVDB_ZONE_MINMAX) || memcmp(p, z->smin, 8) < 0) memcpy(z->smin, p, 8);
            if (!(z->flags & PVDB_ZONE_MINMAX) || memcmp(p, z->smax, 8) > 0) memcpy(z->smax, p, 8);
        } else if (z->type == PV_REAL) {
            double f = v->u.f[r];
            if (f != f) {
                z->flags |= PVDB_ZONE_NAN;
                continue;
            }
            if (!(z->flags & PVDB_ZONE_MINMAX) || f < z->fmin) z->fmin = f;
            if (!(z->flags & PVDB_ZONE_MINMAX) || f > z->fmax) z->fmax = f;
        } else {
            int64_t i = v->u.i[r];
            if (!(z->flags & PVDB_ZONE_MINMAX) || i < z->imin) z->imin = i;
            if (!(z->flags & PVDB_ZONE_MINMAX) || i > z->imax) z->imax = i;
        }
        z->flags |= PVDB_ZONE_MINMAX;
    }
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
