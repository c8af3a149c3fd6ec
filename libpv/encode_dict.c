/*
 * encode_dict.c: DICTIONARY encoding. The distinct non-NULL values of the
 * chunk, sorted, then one code per row in the narrowest width that holds
 * the largest code:
 *
 *   0   u32 count         distinct values
 *   4   u8  width         bytes per code: 1, 2 or 4 (narrowest for count)
 *   5   u8[3]             zero
 *   8   u64 dict_len      bytes of the dictionary values
 *   16  dictionary        i64 / f64 LE per value, or u32 offsets[count + 1]
 *                         + bytes for TEXT and BLOB
 *       zero padding to a multiple of 8
 *       codes             width bytes LE per row (NULL rows 0)
 *
 * Sort order, which makes the dictionary (and the file) deterministic:
 * INTEGER and BOOLEAN by signed value, REAL by IEEE-754 totalOrder (so 0.0
 * and -0.0 are two entries and every bit pattern survives), TEXT and BLOB
 * by bytes (memcmp, shorter first on a tie).
 */
#include <stdlib.h>
#include <string.h>

#include "encode.h"

#define DICT_HEADER 16

/* Order-preserving unsigned key of a numeric value of column type `type`. */
static uint64_t num_key(int type, const pv_vec *v, uint32_t r)
{
    if (type == PV_REAL) return pv_enc_f64_key(v->u.f[r]);
    return (uint64_t)v->u.i[r] ^ 0x8000000000000000ull;
}

/* The value bits stored for a key (inverse of num_key). */
static uint64_t key_bits(int type, uint64_t k)
{
    if (type != PV_REAL) return k ^ 0x8000000000000000ull;
    return (k & 0x8000000000000000ull) ? (k ^ 0x8000000000000000ull) : ~k;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x, y;
    memcpy(&x, a, 8);
    memcpy(&y, b, 8);
    return x < y ? -1 : x > y;
}

static int str_cmp(pv_str a, pv_str b)
{
    size_t n = a.n < b.n ? a.n : b.n;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c) return c;
    return a.n < b.n ? -1 : a.n > b.n;
}

static int cmp_str(const void *a, const void *b)
{
    return str_cmp(*(const pv_str *)a, *(const pv_str *)b);
}

static uint8_t code_width(uint32_t count)
{
    if (count <= 0x100u) return 1;
    if (count <= 0x10000u) return 2;
    return 4;
}

/* Sorted distinct values of the chunk into sc->p; sc->count, sc->bytes. */
static int build_dict(pv_enc_scratch *sc, const pv_enc_in *in)
{
    int str = pv_enc_is_str(in->v.type);
    size_t elem = str ? sizeof(pv_str) : sizeof(uint64_t);
    uint32_t n = 0, r, d;
    int rc = pv_enc_scratch_reserve(sc, elem * ((size_t)in->nrows + 1));
    if (rc) return rc;
    for (r = 0; r < in->nrows; r++) {
        if (pv_enc_is_null(in, r)) continue;
        if (str) {
            ((pv_str *)sc->p)[n++] = in->v.u.s[r];
        } else {
            uint64_t k = num_key(in->v.type, &in->v, r);
            memcpy((uint64_t *)sc->p + n++, &k, 8);
        }
    }
    qsort(sc->p, n, elem, str ? cmp_str : cmp_u64);
    sc->bytes = 0;
    for (r = 0, d = 0; r < n; r++) {
        if (str) {
            pv_str *s = sc->p;
            if (d && str_cmp(s[d - 1], s[r]) == 0) continue;
            s[d++] = s[r];
            sc->bytes += s[r].n;
        } else {
            uint64_t *k = sc->p;
            if (d && k[d - 1] == k[r]) continue;
            k[d++] = k[r];
        }
    }
    sc->count = d;
    return PV_OK;
}

static uint64_t dict_len(const pv_enc_scratch *sc, int type)
{
    if (pv_enc_is_str(type)) return 4 * ((uint64_t)sc->count + 1) + sc->bytes;
    return 8 * (uint64_t)sc->count;
}

static int dict_plan(pv_enc_scratch *sc, const pv_enc_in *in, uint64_t *out)
{
    int rc = build_dict(sc, in);
    if (rc) return rc;
    if (sc->bytes > UINT32_MAX) return PV_ENC_UNSUITABLE; /* u32 offsets */
    *out = DICT_HEADER + pv_enc_align8(dict_len(sc, in->v.type)) +
           (uint64_t)code_width(sc->count) * in->nrows;
    return PV_OK;
}

/* Code of row r: its value's index in the sorted dictionary. */
static uint32_t find_code(const pv_enc_scratch *sc, const pv_enc_in *in, uint32_t r)
{
    uint32_t lo = 0, hi = sc->count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int c;
        if (pv_enc_is_str(in->v.type)) {
            c = str_cmp(((const pv_str *)sc->p)[mid], in->v.u.s[r]);
        } else {
            uint64_t k = ((const uint64_t *)sc->p)[mid];
            uint64_t want = num_key(in->v.type, &in->v, r);
            c = k < want ? -1 : k > want;
        }
        if (c == 0) return mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return 0; /* not reached: every non-NULL value is in the dictionary */
}

static void put_code(uint8_t *p, uint8_t width, uint32_t code)
{
    if (width == 1) p[0] = (uint8_t)code;
    else if (width == 2) pv_put_u16(p, (uint16_t)code);
    else pv_put_u32(p, code);
}

static uint32_t get_code(const uint8_t *p, uint8_t width)
{
    if (width == 1) return p[0];
    if (width == 2) return pv_get_u16(p);
    return pv_get_u32(p);
}

static int dict_write(pv_enc_scratch *sc, const pv_enc_in *in, pv_buf *out)
{
    uint64_t dlen = dict_len(sc, in->v.type);
    uint64_t codes_at = DICT_HEADER + pv_enc_align8(dlen);
    uint8_t width = code_width(sc->count);
    uint64_t size = codes_at + (uint64_t)width * in->nrows;
    uint8_t *p, *codes;
    uint32_t i;
    int rc;
    if (size > SIZE_MAX - 1) return pv_err(PV_ENOMEM, "column chunk too large");
    rc = pv_buf_reserve(out, (size_t)size);
    if (rc) return rc;
    p = (uint8_t *)out->p + out->len;
    memset(p, 0, (size_t)codes_at); /* header reserved bytes and padding */
    pv_put_u32(p, sc->count);
    p[4] = width;
    pv_put_u64(p + 8, dlen);
    if (pv_enc_is_str(in->v.type)) {
        pv_enc_put_strings(p + DICT_HEADER, sc->p, NULL, sc->count);
    } else {
        for (i = 0; i < sc->count; i++)
            pv_put_u64(p + DICT_HEADER + 8 * (size_t)i,
                       key_bits(in->v.type, ((const uint64_t *)sc->p)[i]));
    }
    codes = p + codes_at;
    for (i = 0; i < in->nrows; i++)
        put_code(codes + (size_t)width * i, width,
                 pv_enc_is_null(in, i) ? 0 : find_code(sc, in, i));
    out->len += (size_t)size;
    return PV_OK;
}

/* The dictionary is strictly increasing in the order above. */
static int check_sorted(const pv_dec *d)
{
    uint32_t i;
    for (i = 0; i + 1 < d->dict_count; i++) {
        if (pv_enc_is_str(d->type)) {
            if (str_cmp(pv_enc_get_string(d->dict, d->dict_bytes, i),
                        pv_enc_get_string(d->dict, d->dict_bytes, i + 1)) >= 0)
                return 1;
        } else {
            uint64_t a = pv_get_u64(d->dict + 8 * (size_t)i);
            uint64_t b = pv_get_u64(d->dict + 8 * ((size_t)i + 1));
            if (d->type == PV_REAL) {
                double fa, fb;
                memcpy(&fa, &a, 8);
                memcpy(&fb, &b, 8);
                a = pv_enc_f64_key(fa);
                b = pv_enc_f64_key(fb);
            } else {
                a ^= 0x8000000000000000ull;
                b ^= 0x8000000000000000ull;
            }
            if (a >= b) return 1;
        }
    }
    if (d->type == PV_BOOLEAN) /* as u64, negatives are > 1 too */
        for (i = 0; i < d->dict_count; i++)
            if (pv_get_u64(d->dict + 8 * (size_t)i) > 1) return 1;
    return 0;
}

static int check_codes(const pv_dec *d)
{
    uint32_t r, limit = d->dict_count ? d->dict_count : 1;
    for (r = 0; r < d->nrows; r++)
        if (get_code(d->vals + (size_t)d->width * r, d->width) >= limit) return 1;
    return 0;
}

static int dict_open(pv_dec *d, const uint8_t *p, uint64_t n, const char **why)
{
    uint64_t dlen, codes_at, i;
    *why = "bad dictionary header";
    if (n < DICT_HEADER) return 1;
    d->dict_count = pv_get_u32(p);
    d->width = p[4];
    dlen = pv_get_u64(p + 8);
    if (p[5] || p[6] || p[7]) return 1;
    if (d->width != code_width(d->dict_count)) return 1;
    if (d->dict_count > d->nrows - d->null_count) return 1;
    if (d->dict_count == 0 && d->null_count != d->nrows) return 1;
    *why = "bad dictionary length";
    if (dlen > n - DICT_HEADER) return 1;
    codes_at = DICT_HEADER + pv_enc_align8(dlen);
    if (codes_at > n || n - codes_at != (uint64_t)d->width * d->nrows) return 1;
    for (i = DICT_HEADER + dlen; i < codes_at; i++)
        if (p[i]) return 1;
    d->dict = p + DICT_HEADER;
    if (pv_enc_is_str(d->type)) {
        if (pv_enc_check_strings(d->dict, dlen, d->dict_count, &d->dict_bytes)) return 1;
    } else if (dlen != 8 * (uint64_t)d->dict_count) {
        return 1;
    }
    d->vals = p + codes_at;
    *why = "dictionary not sorted, or bad values";
    if (check_sorted(d)) return 1;
    *why = "dictionary code out of range";
    if (check_codes(d)) return 1;
    return 0;
}

static void dict_read(const pv_dec *d, uint32_t r0, uint32_t n, pv_dec_out out)
{
    uint32_t r;
    for (r = 0; r < n; r++) {
        uint32_t c = get_code(d->vals + (size_t)d->width * (r0 + r), d->width);
        if (d->dict_count == 0) { /* every row NULL */
            if (pv_enc_is_str(d->type)) { out.s[r].p = ""; out.s[r].n = 0; }
            else if (d->type == PV_REAL) out.f[r] = 0.0;
            else out.i[r] = 0;
        } else if (pv_enc_is_str(d->type)) {
            out.s[r] = pv_enc_get_string(d->dict, d->dict_bytes, c);
        } else if (d->type == PV_REAL) {
            out.f[r] = pv_get_f64(d->dict + 8 * (size_t)c);
        } else {
            out.i[r] = (int64_t)pv_get_u64(d->dict + 8 * (size_t)c);
        }
    }
}

const pv_encoder pv_enc_dict = {
    PV_ENC_DICT, "dict", dict_plan, dict_write, dict_open, dict_read,
};
