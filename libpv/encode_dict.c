/*
 * encode_dict.c: DICTIONARY encoding. The distinct non-NULL values of the
 * chunk, sorted, then one code per row as an integer stream:
 *
 *   0   u32 count         distinct values (0 only when every row is NULL)
 *   4   u8  format        0 array, 1 front-coded (TEXT and BLOB only)
 *   5   u8  codes_kind    stream kind of the codes: FOR, DELTA, RLE, LINEAR
 *   6   u16               zero
 *   8   u64 dict_len      bytes of the dictionary
 *   16  dictionary        format 0: i64 / f64 per value, or u32
 *                         offsets[count + 1] + bytes; format 1: see below
 *       zero padding to a multiple of 8
 *       codes             the stream of row_count codes (NULL rows repeat
 *                         the previous code)
 *
 * Front coding (format 1): entries in groups of 16; u32 offsets[ngroups +
 * 1] of each group in the group data (the last = its length), then per
 * entry: LEB128 shared (bytes in common with the previous entry of the
 * group, 0 for the first), LEB128 suffix length, the suffix bytes. An
 * entry decodes from its group's first entry, at most 15 steps.
 *
 * Decoded front-coded entries (a group or a page in memory, an entry
 * appended to a buffer by get()) are each followed by a NUL byte that is
 * not part of the value, so a statement hands them out as C strings
 * without copying them (pvdb_impl.h pv_dec_terminated, pv_column_text).
 *
 * Sort order, which makes the dictionary (and the file) deterministic:
 * INTEGER by signed value, REAL by IEEE-754 totalOrder (0.0 and -0.0 are
 * two entries, every bit pattern survives), TEXT and BLOB by bytes.
 * Distinct values are found with a hash table and only they are sorted.
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "encode_stream.h"
#include "pvdb_blockcache.h"

#define DICT_HEADER 16
#define FC_GROUP 16
/* bytes front coding must save over the array to be chosen */
#define FC_MIN_SAVING 4096
/* An array dictionary of strings up to this size is read by a scan
 * through a NUL-terminated copy of its entries (arr_table): statements
 * then hand its strings out without copying each one. */
#define TABLE_MAX_ENTRIES 4096
#define TABLE_MAX_BYTES (64u << 10)
/* Groups of a page, the unit the shared block cache keeps (256 entries). */
#define FC_PAGE_GROUPS 16
#define FC_PAGE_ENTRIES (FC_PAGE_GROUPS * FC_GROUP)
/* Numeric chunks with more distinct values are not worth a dictionary. */
#define DICT_MAX_NUMERIC 65536u
/* A front-coded dictionary decoded for a scan may not pass this. */
#define FC_MAX_DECODED (1ull << 31)

/* Scratch: s[0] hash table + per-row ids + first rows + ranks; s[1] codes
 * and the sorted order; s[2] the codes stream's (RLE runs). */
typedef struct dict_work {
    uint32_t *table;   /* slot -> distinct id + 1 */
    uint32_t *row_id;  /* row -> distinct id */
    uint32_t *first;   /* distinct id -> first row holding it */
    uint32_t *rank;    /* distinct id -> code */
    uint64_t *codes;   /* row -> code */
    uint32_t *order;   /* code -> distinct id */
} dict_work;

/* ---- building ------------------------------------------------------------------ */

static uint64_t num_key(int type, uint64_t bits)
{
    double f;
    if (type != PV_REAL) return bits ^ 0x8000000000000000ull;
    memcpy(&f, &bits, 8);
    return pv_enc_f64_key(f);
}

int pv_enc_str_cmp(pv_str a, pv_str b)
{
    size_t n = a.n < b.n ? a.n : b.n;
    int c = n ? memcmp(a.p, b.p, n) : 0;
    if (c) return c;
    return a.n < b.n ? -1 : a.n > b.n;
}

/* Point w at the scratch arrays of an n-row chunk and a tsize-slot table. */
static void work_view(pv_enc_ctx *ctx, uint32_t n, uint32_t tsize, dict_work *w)
{
    w->table = ctx->s[PV_ENC_DICT][0].p;
    w->row_id = w->table + tsize;
    w->first = w->row_id + n;
    w->rank = w->first + n;
    w->codes = ctx->s[PV_ENC_DICT][1].p;
    w->order = (uint32_t *)(w->codes + n);
}

static int layout(pv_enc_ctx *ctx, uint32_t n, uint32_t tsize, dict_work *w)
{
    size_t a = (size_t)tsize * 4 + (size_t)n * 16, b = (size_t)n * 12;
    int rc = pv_enc_scratch_reserve(&ctx->s[PV_ENC_DICT][0], a);
    if (rc == PV_OK) rc = pv_enc_scratch_reserve(&ctx->s[PV_ENC_DICT][1], b);
    if (rc) return rc;
    ctx->plan[PV_ENC_DICT].c = tsize;
    work_view(ctx, n, tsize, w);
    return PV_OK;
}

/* Find the distinct values: w->row_id, w->first, *count. Returns
 * PV_ENC_UNSUITABLE past `limit` distinct values. */
static int find_distinct(pv_enc_ctx *ctx, const pv_enc_in *in, uint32_t limit,
                         dict_work *w, uint32_t *count)
{
    int str = pv_enc_is_str(in->v.type);
    uint32_t n = in->nrows, want = n < limit ? n : limit, tsize = 16, mask, r, d = 0, prev = 0;
    int rc;
    while (tsize < 2 * want) tsize <<= 1;
    rc = layout(ctx, n, tsize, w);
    if (rc) return rc;
    memset(w->table, 0, (size_t)tsize * 4);
    mask = tsize - 1;
    for (r = 0; r < n; r++) {
        uint64_t h;
        uint32_t slot;
        if (pv_enc_is_null(in, r)) {
            w->row_id[r] = prev;
            continue;
        }
        h = str ? XXH3_64bits(in->v.u.s[r].p, in->v.u.s[r].n)
                : (in->u[r] * 0x9e3779b97f4a7c15ull) ^ (in->u[r] >> 29);
        slot = (uint32_t)(h ^ (h >> 32)) & mask;
        for (;;) {
            uint32_t id = w->table[slot];
            if (!id) {
                if (d >= limit) return PV_ENC_UNSUITABLE;
                w->table[slot] = ++d;
                w->first[d - 1] = r;
                prev = d - 1;
                break;
            }
            if (str ? pv_enc_str_cmp(in->v.u.s[w->first[id - 1]], in->v.u.s[r]) == 0
                    : in->u[w->first[id - 1]] == in->u[r]) {
                prev = id - 1;
                break;
            }
            slot = (slot + 1) & mask;
        }
        w->row_id[r] = prev;
    }
    *count = d;
    return PV_OK;
}

/* qsort has no context argument: the chunk being sorted, per thread. */
static _Thread_local const pv_enc_in *sort_in;
static _Thread_local const uint32_t *sort_first;

static int cmp_ids(const void *a, const void *b)
{
    uint32_t ra = sort_first[*(const uint32_t *)a], rb = sort_first[*(const uint32_t *)b];
    if (pv_enc_is_str(sort_in->v.type))
        return pv_enc_str_cmp(sort_in->v.u.s[ra], sort_in->v.u.s[rb]);
    {
        uint64_t x = num_key(sort_in->v.type, sort_in->u[ra]);
        uint64_t y = num_key(sort_in->v.type, sort_in->u[rb]);
        return x < y ? -1 : x > y;
    }
}

static unsigned leb_len(uint64_t x)
{
    unsigned n = 1;
    while (x >= 0x80) {
        x >>= 7;
        n++;
    }
    return n;
}

static uint8_t *leb_put(uint8_t *p, uint64_t x)
{
    while (x >= 0x80) {
        *p++ = (uint8_t)(x | 0x80);
        x >>= 7;
    }
    *p++ = (uint8_t)x;
    return p;
}

static size_t lcp(pv_str a, pv_str b)
{
    size_t n = a.n < b.n ? a.n : b.n, i = 0;
    while (i < n && a.p[i] == b.p[i]) i++;
    return i;
}

/* Byte sizes of the dictionary as an array and front-coded. */
static void dict_sizes(const pv_enc_in *in, const dict_work *w, uint32_t count,
                       uint64_t *array, uint64_t *fc)
{
    uint64_t bytes = 0, groups = 0;
    uint32_t i;
    if (!pv_enc_is_str(in->v.type)) {
        *array = 8 * (uint64_t)count;
        *fc = UINT64_MAX;
        return;
    }
    for (i = 0; i < count; i++) {
        pv_str s = in->v.u.s[w->first[w->order[i]]];
        size_t shared = i % FC_GROUP ? lcp(in->v.u.s[w->first[w->order[i - 1]]], s) : 0;
        bytes += s.n;
        groups += leb_len(shared) + leb_len(s.n - shared) + (s.n - shared);
    }
    *array = 4 * ((uint64_t)count + 1) + bytes;
    *fc = 4 * (((uint64_t)count + FC_GROUP - 1) / FC_GROUP + 1) + groups;
    if (bytes > UINT32_MAX) *array = UINT64_MAX;
    if (groups > UINT32_MAX) *fc = UINT64_MAX;
}

static int dict_plan(pv_enc_ctx *ctx, const pv_enc_in *in, uint64_t *out)
{
    pv_enc_plan *pl = &ctx->plan[PV_ENC_DICT];
    dict_work w;
    uint32_t count = 0, i, r;
    uint64_t array, fc, dlen, csize;
    uint8_t kind = PV_ENC_LINEAR;
    int str = pv_enc_is_str(in->v.type), rc;
    rc = find_distinct(ctx, in, str ? UINT32_MAX : DICT_MAX_NUMERIC, &w, &count);
    if (rc) return rc;
    for (i = 0; i < count; i++) w.order[i] = i;
    sort_in = in;
    sort_first = w.first;
    qsort(w.order, count, sizeof *w.order, cmp_ids);
    for (i = 0; i < count; i++) w.rank[w.order[i]] = i;
    for (r = 0; r < in->nrows; r++) w.codes[r] = count ? w.rank[w.row_id[r]] : 0;
    dict_sizes(in, &w, count, &array, &fc);
    pl->fmt = 0;
    dlen = array;
    /* front coding costs a walk of up to 15 entries per point read: take
     * it when it saves an eighth and at least a page (below that, the
     * reads of a dictionary cost the same pages either way) */
    if (str && !(in->flags & PV_ENC_KEY) && fc < array - array / 8 && array - fc >= FC_MIN_SAVING) {
        pl->fmt = 1;
        dlen = fc;
    }
    if (dlen == UINT64_MAX) return PV_ENC_UNSUITABLE;
    rc = pv_is_choose(w.codes, in->nrows, in->flags, &ctx->s[PV_ENC_DICT][2], &kind, &csize);
    if (rc) return rc;
    pl->count = count;
    pl->kind = kind;
    pl->a = dlen;
    pl->b = csize;
    *out = DICT_HEADER + pv_enc_align8(dlen) + csize;
    return PV_OK;
}

static void write_fc(const pv_enc_in *in, const dict_work *w, uint32_t count, uint8_t *dst)
{
    uint32_t ng = (count + FC_GROUP - 1) / FC_GROUP, i;
    uint8_t *data = dst + 4 * ((size_t)ng + 1), *p = data;
    for (i = 0; i < count; i++) {
        pv_str s = in->v.u.s[w->first[w->order[i]]];
        size_t shared = i % FC_GROUP ? lcp(in->v.u.s[w->first[w->order[i - 1]]], s) : 0;
        if (i % FC_GROUP == 0) pv_put_u32(dst + 4 * (size_t)(i / FC_GROUP), (uint32_t)(p - data));
        p = leb_put(p, shared);
        p = leb_put(p, s.n - shared);
        if (s.n > shared) memcpy(p, s.p + shared, s.n - shared);
        p += s.n - shared;
    }
    pv_put_u32(dst + 4 * (size_t)ng, (uint32_t)(p - data));
}

static int dict_write(pv_enc_ctx *ctx, const pv_enc_in *in, uint8_t *dst)
{
    const pv_enc_plan *pl = &ctx->plan[PV_ENC_DICT];
    dict_work w;
    uint32_t i;
    uint8_t *d = dst + DICT_HEADER;
    work_view(ctx, in->nrows, (uint32_t)pl->c, &w); /* the plan's arrays */
    pv_put_u32(dst, pl->count);
    dst[4] = pl->fmt;
    dst[5] = pl->kind;
    pv_put_u64(dst + 8, pl->a);
    if (pl->fmt == 1) {
        write_fc(in, &w, pl->count, d);
    } else if (pv_enc_is_str(in->v.type)) {
        uint8_t *bytes = d + 4 * ((size_t)pl->count + 1);
        uint32_t off = 0;
        for (i = 0; i < pl->count; i++) {
            pv_str s = in->v.u.s[w.first[w.order[i]]];
            pv_put_u32(d + 4 * (size_t)i, off);
            if (s.n) memcpy(bytes + off, s.p, s.n);
            off += (uint32_t)s.n;
        }
        pv_put_u32(d + 4 * (size_t)pl->count, off);
    } else {
        for (i = 0; i < pl->count; i++) pv_put_u64(d + 8 * (size_t)i, in->u[w.first[w.order[i]]]);
    }
    pv_is_write(pl->kind, w.codes, in->nrows, &ctx->s[PV_ENC_DICT][2],
                dst + DICT_HEADER + pv_enc_align8(pl->a));
    return PV_OK;
}

/* ---- reading ------------------------------------------------------------------- */

static int dict_open(pv_dec *d, const char **why)
{
    const uint8_t *p = d->p;
    uint64_t dlen, codes_at, head;
    int str = pv_enc_is_str(d->type);
    *why = "bad dictionary header";
    if (d->n < DICT_HEADER) return 1;
    d->count = pv_get_u32(p);
    d->fmt = p[4];
    dlen = pv_get_u64(p + 8);
    if (p[6] || p[7] || d->fmt > 1 || (d->fmt == 1 && !str)) return 1;
    if (d->count > d->nrows - d->null_count) return 1;
    if (d->count == 0 && d->null_count != d->nrows) return 1;
    *why = "bad dictionary length";
    if (dlen > d->n - DICT_HEADER) return 1;
    codes_at = DICT_HEADER + pv_enc_align8(dlen);
    if (codes_at > d->n) return 1;
    d->vals = p + DICT_HEADER;
    if (!str) {
        if (dlen != 8 * (uint64_t)d->count) return 1;
    } else {
        head = d->fmt == 0 ? 4 * ((uint64_t)d->count + 1)
                           : 4 * (((uint64_t)d->count + FC_GROUP - 1) / FC_GROUP + 1);
        if (dlen < head) return 1;
        d->bytes = d->vals + head;
        d->bytes_len = dlen - head;
    }
    *why = "bad dictionary codes header";
    if (p[5] != PV_ENC_FOR && p[5] != PV_ENC_DELTA && p[5] != PV_ENC_RLE && p[5] != PV_ENC_LINEAR)
        return 1;
    d->fc_groups = NULL;
    d->fc_held = NULL;
    d->table = NULL;
    d->table_ok = NULL;
    d->tabled = str && d->fmt == 0 && d->count > 0 && d->count <= TABLE_MAX_ENTRIES &&
                d->bytes_len <= TABLE_MAX_BYTES && (d->arena || (d->may_hold & PV_DEC_HOLD_TABLES));
    return pv_is_open(&d->is, p[5], p + codes_at, d->n - codes_at, d->nrows);
}

static uint32_t leb_get(const uint8_t *p, uint64_t len, uint64_t *at, int *bad)
{
    uint64_t x = 0;
    unsigned shift = 0;
    for (;;) {
        uint8_t b;
        if (*at >= len || shift > 28) {
            *bad = 1;
            return 0;
        }
        b = p[(*at)++];
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) break;
        shift += 7;
    }
    if (x > UINT32_MAX) *bad = 1;
    return (uint32_t)x;
}

/* leb_get with the one-byte case (lengths below 128: nearly all) inline. */
static inline uint32_t leb_get1(const uint8_t *p, uint64_t len, uint64_t *at, int *bad)
{
    if (*at < len && p[*at] < 0x80) return p[(*at)++];
    return leb_get(p, len, at, bad);
}

/* Group g's data: [*from, *to) in d->bytes. 0 or 1. */
static int fc_group(const pv_dec *d, uint32_t g, uint64_t *from, uint64_t *to)
{
    uint32_t a = pv_get_u32(d->vals + 4 * (size_t)g), b = pv_get_u32(d->vals + 4 * ((size_t)g + 1));
    if (a > b || b > d->bytes_len) return 1;
    *from = a;
    *to = b;
    return 0;
}

/* Entry e of a front-coded dictionary, appended to mem and followed by a
 * NUL byte: *moff, *len (without the NUL).
 * The steps from the group's first entry are parsed (and checked) first;
 * then the entry is built from its last step backwards, each earlier step
 * giving only the bytes no later one replaced, so every byte of the
 * result is copied once. 0, 1 malformed, PV_ENOMEM. */
static int fc_entry(const pv_dec *d, uint32_t e, pv_buf *mem, uint64_t *moff, uint32_t *len)
{
    uint32_t g = e / FC_GROUP, n = e % FC_GROUP + 1, t, cur = 0, need;
    uint32_t shared[FC_GROUP];
    uint64_t at, to, sfx[FC_GROUP];
    char *out;
    if (fc_group(d, g, &at, &to)) return 1;
    for (t = 0; t < n; t++) {
        int bad = 0;
        uint32_t sh = leb_get1(d->bytes, to, &at, &bad), slen = leb_get1(d->bytes, to, &at, &bad);
        if (bad || sh > cur || (t == 0 && sh) || slen > to - at) return 1;
        if ((uint64_t)sh + slen > FC_MAX_DECODED) return 1;
        shared[t] = sh;
        sfx[t] = at;
        at += slen;
        cur = sh + slen;
    }
    if (pv_buf_reserve(mem, (size_t)cur + 1)) return PV_ENOMEM;
    out = mem->p + mem->len;
    out[cur] = 0;
    need = cur; /* bytes [0, need) still to fill */
    for (t = n; t-- > 0 && need > 0;) {
        if (need > shared[t]) {
            memcpy(out + shared[t], d->bytes + sfx[t], need - shared[t]);
            need = shared[t];
        }
    }
    *moff = mem->len;
    *len = cur;
    mem->len += (size_t)cur + 1;
    return 0;
}

/* Group g's entry count and decoded lengths, checked: its data used
 * exactly, no entry sharing more than the previous holds, at most
 * FC_MAX_DECODED bytes. 0 or 1. */
static int fc_group_sizes(const pv_dec *d, uint32_t g, uint32_t lens[FC_GROUP], uint32_t *n,
                          uint64_t *total)
{
    uint64_t at, to;
    uint32_t e0 = g * FC_GROUP, t, cur = 0;
    *n = d->count - e0 < FC_GROUP ? d->count - e0 : FC_GROUP;
    *total = 0;
    if (fc_group(d, g, &at, &to)) return 1;
    for (t = 0; t < *n; t++) {
        int bad = 0;
        uint32_t shared = leb_get1(d->bytes, to, &at, &bad);
        uint32_t slen = leb_get1(d->bytes, to, &at, &bad);
        if (bad || shared > cur || (t == 0 && shared) || slen > to - at) return 1;
        cur = shared + slen;
        lens[t] = cur;
        *total += cur;
        at += slen;
    }
    return at != to || *total > FC_MAX_DECODED; /* group data used exactly */
}

/* Decode group g (checked by fc_group_sizes) into strs[] and bytes:
 * each entry followed by a NUL, so bytes needs the group's total + n. */
static void fc_group_fill(const pv_dec *d, uint32_t g, const uint32_t *lens, uint32_t n,
                          pv_str *strs, char *bytes)
{
    uint64_t at = pv_get_u32(d->vals + 4 * (size_t)g), to = pv_get_u32(d->vals + 4 * ((size_t)g + 1));
    const char *prev = NULL;
    uint32_t t;
    for (t = 0; t < n; t++) {
        int bad = 0;
        uint32_t shared = leb_get1(d->bytes, to, &at, &bad);
        uint32_t slen = leb_get1(d->bytes, to, &at, &bad);
        if (shared) memcpy(bytes, prev, shared);
        if (slen) memcpy(bytes + shared, d->bytes + at, slen);
        bytes[lens[t]] = 0;
        at += slen;
        strs[t].p = bytes;
        strs[t].n = lens[t];
        prev = bytes;
        bytes += lens[t] + 1;
    }
}

/* Decode group g of a front-coded dictionary into d->arena: its entries
 * in d->fc_groups[g] (a scan decodes the groups its rows use, once per
 * chunk). 0, 1 malformed, PV_ENOMEM. */
static int fc_decode_group(pv_dec *d, uint32_t g)
{
    uint32_t lens[FC_GROUP], n;
    uint64_t total;
    pv_str *strs;
    if (fc_group_sizes(d, g, lens, &n, &total)) return 1;
    strs = pv_arena_alloc(d->arena, n * sizeof *strs + (size_t)total + n);
    if (!strs) return pv_err(PV_ENOMEM, "out of memory");
    fc_group_fill(d, g, lens, n, strs, (char *)(strs + n));
    d->fc_groups[g] = strs;
    return 0;
}

/* Decoded pages. A page in the block cache is an fc_page_head, then the
 * pv_str of each of its entries, then their bytes, each followed by a NUL.
 * When every entry of the page has the same length (dates, codes, hashes
 * of a fixed shape), stride is that length + 1 and entry i's bytes are at
 * i * stride past the first's: a point read then reads the entry without
 * its pv_str, one cache miss fewer (flights' date alone, 3 M random keys:
 * about 300 -> 195 ns). */
typedef struct fc_page_head {
    uint32_t nent;   /* entries (256, fewer in the last page) */
    uint32_t stride; /* 0, or the length of every entry + 1 */
    uint64_t pad;    /* (the pv_str array stays 16-byte aligned) */
} fc_page_head;

static const pv_str *page_strs(const pv_block *b)
{
    return (const pv_str *)((const char *)pv_block_data(b) + sizeof(fc_page_head));
}

/* Pages of a front-coded dictionary (the length of d->fc_held). */
static size_t fc_npages(const pv_dec *d)
{
    return ((size_t)d->count + FC_PAGE_ENTRIES - 1) / FC_PAGE_ENTRIES;
}

/* The stride of a page whose groups' entries have lengths lens[i][0 ..
 * cnt[i]) for i < ng: their length + 1 when they all have one, else 0. */
static uint32_t page_stride(const uint32_t lens[][FC_GROUP], const uint32_t *cnt, uint32_t ng)
{
    uint32_t i, t, len = UINT32_MAX;
    for (i = 0; i < ng; i++)
        for (t = 0; t < cnt[i]; t++) {
            if (len == UINT32_MAX) len = lens[i][t];
            else if (lens[i][t] != len) return 0;
        }
    return len < UINT32_MAX - 1 ? len + 1 : 0;
}

/* *h holds block b, page p's. */
static void hold_page(pv_fc_hold *h, const pv_block *b)
{
    const fc_page_head *head = pv_block_data(b);
    h->block = b;
    h->stride = head->stride;
    h->at = head->stride ? (const void *)(page_strs(b) + head->nent) : (const void *)page_strs(b);
}

/* Page p (FC_PAGE_GROUPS groups, entries contiguous from the page's
 * first) through the shared block cache: found, or decoded and offered;
 * *out holds a reference. A cached page was checked by whoever decoded it
 * (the same bytes of the same file). 0, 1 malformed, 2 too large to cache
 * (decode by group), PV_ENOMEM. */
static int fc_page_block(const pv_dec *d, uint32_t p, const pv_block **out)
{
    uint32_t ngroups = (d->count + FC_GROUP - 1) / FC_GROUP, g0 = p * FC_PAGE_GROUPS, i;
    uint32_t ng = ngroups - g0 < FC_PAGE_GROUPS ? ngroups - g0 : FC_PAGE_GROUPS;
    uint32_t lens[FC_PAGE_GROUPS][FC_GROUP], cnt[FC_PAGE_GROUPS], nent = 0;
    uint64_t gbytes[FC_PAGE_GROUPS], total = 0;
    pv_block_key key;
    pv_block *nb;
    fc_page_head *head;
    pv_str *strs;
    char *bytes;
    key.gen = d->gen;
    key.chunk = d->chunk;
    key.block = PV_BLOCK_FC_PAGE | p;
    if ((*out = pv_blockcache_get(d->cache, &key))) return 0;
    for (i = 0; i < ng; i++) {
        if (fc_group_sizes(d, g0 + i, lens[i], &cnt[i], &gbytes[i])) return 1;
        total += gbytes[i];
        nent += cnt[i];
    }
    if (total > FC_MAX_DECODED) return 2;
    if (!(nb = pv_block_new(sizeof(fc_page_head) + nent * sizeof(pv_str) + (size_t)total + nent)))
        return pv_err(PV_ENOMEM, "out of memory decoding a dictionary page");
    head = pv_block_data(nb);
    head->nent = nent;
    head->stride = page_stride(lens, cnt, ng);
    head->pad = 0;
    strs = (pv_str *)(head + 1);
    bytes = (char *)(strs + nent);
    for (i = 0; i < ng; i++) {
        fc_group_fill(d, g0 + i, lens[i], cnt[i], strs, bytes);
        bytes += gbytes[i] + cnt[i]; /* (and their NULs) */
        strs += cnt[i];
    }
    *out = pv_blockcache_put(d->cache, &key, nb);
    return 0;
}

/* Page p held in d->fc_held[p]. 0, 1, 2 (too large to cache), PV_ENOMEM. */
static int fc_decode_page(pv_dec *d, uint32_t p)
{
    const pv_block *b;
    int rc = fc_page_block(d, p, &b);
    if (rc) return rc;
    hold_page(&d->fc_held[p], b);
    return 0;
}

/* Entry c (below count) of a front-coded dictionary if its page is held or
 * its group decoded: 1 and *out, else 0 (fc_str decodes it). */
static inline int fc_ready(const pv_dec *d, uint64_t c, pv_str *out)
{
    const pv_fc_hold *h = d->fc_held ? &d->fc_held[c / FC_PAGE_ENTRIES] : NULL;
    const pv_str *grp;
    if (h && h->block) {
        if (h->stride) { /* (entries of one length: no read of a pv_str) */
            out->p = (const char *)h->at + (size_t)(c % FC_PAGE_ENTRIES) * h->stride;
            out->n = h->stride - 1;
        } else {
            *out = ((const pv_str *)h->at)[c % FC_PAGE_ENTRIES];
        }
        return 1;
    }
    if (!d->fc_groups || !(grp = d->fc_groups[c / FC_GROUP])) return 0;
    *out = grp[c % FC_GROUP];
    return 1;
}

/* A tabled array dictionary's entries copied into strs[count] followed by
 * their bytes, each with a NUL after it. 0 or 1 (bad offsets). */
static int fill_table(const pv_dec *d, pv_str *strs)
{
    char *dst = (char *)(strs + d->count);
    uint32_t i;
    for (i = 0; i < d->count; i++) {
        pv_str s;
        if (pv_enc_str_at(d->vals, d->bytes, d->bytes_len, i, &s)) return 1;
        if (s.n) memcpy(dst, s.p, s.n); /* (offsets increase: the bytes fit) */
        dst[s.n] = 0;
        strs[i].p = dst;
        strs[i].n = s.n;
        dst += s.n + 1;
    }
    return 0;
}

/* Words of the table's bitmap of checked code blocks (table_size). */
static size_t ok_words(const pv_dec *d) { return ((size_t)d->is.a.nblocks + 63) / 64; }

/* Bytes of a tabled dictionary's table: count pv_str, their bytes each
 * with a NUL, then, for a table in the shared block cache (`bits`; one in
 * an arena lives for one decoder, which reads each block once), 8-aligned,
 * the bitmap of code blocks whose codes were all found below count
 * (d->table_ok, set as reads check them). */
static size_t table_size(const pv_dec *d, int bits)
{
    size_t strs = (size_t)d->count * sizeof(pv_str) + (size_t)d->bytes_len + d->count;
    return (strs + 7) / 8 * 8 + (bits && d->is.kind == PV_ENC_FOR ? ok_words(d) * 8 : 0);
}

/* d->table and d->table_ok from a table of table_size(d, bits) bytes at t. */
static void set_table(pv_dec *d, void *t, int bits)
{
    d->table = t;
    d->table_ok = bits && d->is.kind == PV_ENC_FOR
                      ? (uint64_t *)(void *)((char *)t + table_size(d, 0))
                      : NULL;
}

/* The chunk's PV_BLOCK_DICT_TABLE block in the shared block cache, held
 * in d->held: found, or made (`size` bytes, zeroed, then filled by `fill`
 * when not NULL) and offered. 0, 1 (fill found bad offsets), PV_ENOMEM
 * (no message: the caller says what it was making). */
static int dict_block(pv_dec *d, size_t size, int (*fill)(const pv_dec *, pv_str *))
{
    pv_block_key key;
    const pv_block *b;
    pv_block *nb;
    key.gen = d->gen;
    key.chunk = d->chunk;
    key.block = PV_BLOCK_DICT_TABLE;
    if (!(b = pv_blockcache_get(d->cache, &key))) {
        if (!(nb = pv_block_new(size))) return PV_ENOMEM;
        memset(pv_block_data(nb), 0, size); /* (a bitmap: no code block checked) */
        if (fill && fill(d, pv_block_data(nb))) {
            pv_block_release(nb);
            return 1;
        }
        b = pv_blockcache_put(d->cache, &key, nb);
    }
    d->held = b;
    return 0;
}

/* d->table of a tabled array dictionary: found in the shared block cache
 * (a scan that comes back to the chunk, as every range of a row group
 * does, makes it once), or made there, or in d->arena without a cache.
 * 0, 1 (bad offsets) or PV_ENOMEM. */
static int arr_table(pv_dec *d)
{
    pv_str *strs;
    int rc;
    if (!d->cache) {
        if (!(strs = pv_arena_alloc(d->arena, table_size(d, 0)))) return pv_err(PV_ENOMEM, "out of memory");
        if (fill_table(d, strs)) return 1;
        set_table(d, strs, 0);
        return 0;
    }
    if ((rc = dict_block(d, table_size(d, 1), fill_table)))
        return rc == PV_ENOMEM ? pv_err(PV_ENOMEM, "out of memory making a dictionary table") : rc;
    set_table(d, pv_block_data(d->held), 1);
    return 0;
}

/* d->table_ok of a dictionary of numbers with FOR codes read with the
 * block cache: a block of the bitmap alone, under the key a tabled one's
 * table has (a chunk has one or the other), held in d->held. Left NULL
 * without (its codes are then checked one by one). */
static void num_ok_bits(pv_dec *d)
{
    if (!d->cache || d->is.kind != PV_ENC_FOR || d->held) return;
    if (dict_block(d, ok_words(d) * 8, NULL) == 0) d->table_ok = pv_block_data(d->held);
}

/* Entry c of a front-coded dictionary, decoding its group (or, with a
 * block cache, its page) on first use; of a tabled array one, making the
 * table on first use. */
static int fc_str(pv_dec *d, uint64_t c, pv_str *out)
{
    uint32_t g = (uint32_t)(c / FC_GROUP);
    int rc = 2;
    if (d->tabled) {
        if (!d->table && (rc = arr_table(d))) return rc;
        *out = d->table[c];
        return 0;
    }
    if (!d->arena) return pv_err(PV_EMISUSE, "front-coded dictionary read without an arena");
    if (fc_ready(d, c, out)) return 0;
    /* with the block cache, its page (held: no per-group table to clear
     * for each range a scan reads, a 2.4 KB memset for a chunk of flights'
     * date); without, or for a page too large to cache, its group */
    if (d->cache && !d->fc_held) {
        size_t np = fc_npages(d);
        if (!(d->fc_held = pv_arena_alloc(d->arena, np * sizeof *d->fc_held + 1)))
            return pv_err(PV_ENOMEM, "out of memory");
        memset(d->fc_held, 0, np * sizeof *d->fc_held);
    }
    if (d->cache && d->fc_held) rc = fc_decode_page(d, g / FC_PAGE_GROUPS);
    if (rc == 2 && !d->fc_groups) {
        size_t n = (d->count + FC_GROUP - 1) / FC_GROUP;
        if (!(d->fc_groups = pv_arena_alloc(d->arena, n * sizeof *d->fc_groups + 1)))
            return pv_err(PV_ENOMEM, "out of memory");
        memset(d->fc_groups, 0, n * sizeof *d->fc_groups);
    }
    if (rc == 2) rc = fc_decode_group(d, g);
    if (rc) return rc;
    return fc_ready(d, c, out) ? 0 : 1;
}

void pv_dec_release(pv_dec *d)
{
    if (d->fc_held) {
        size_t p;
        for (p = 0; p < fc_npages(d); p++) pv_block_release(d->fc_held[p].block);
        if (!d->arena) free((void *)d->fc_held); /* (a holding get()'s: malloc'ed) */
        d->fc_held = NULL;
        d->fc_groups = NULL; /* they may point into the pages */
    }
    pv_block_release(d->held);
    d->held = NULL;
    d->table = NULL; /* (in held, or in the arena about to be reset) */
    d->table_ok = NULL;
    d->cached = 0;
}

static int entry_num(const pv_dec *d, uint64_t c, uint64_t *bits)
{
    if (c >= d->count) return 1;
    *bits = pv_get_u64(d->vals + 8 * (size_t)c);
    return 0;
}

/* Entry c, checked below count: a string (tabled, front-coded or from
 * the offsets) or a number's bits. 0, 1 bad, PV_ENOMEM. */
static int dict_entry(pv_dec *d, uint64_t c, pv_str *s, uint64_t *bits, const char **why)
{
    int rc;
    *why = "dictionary code out of range";
    if (c >= d->count) return 1;
    if (!pv_enc_is_str(d->type)) return entry_num(d, c, bits);
    if (!d->tabled && d->fmt == 0) {
        *why = "bad dictionary string offsets";
        return pv_enc_str_at(d->vals, d->bytes, d->bytes_len, (uint32_t)c, s);
    }
    if ((rc = fc_str(d, c, s)))
        *why = d->tabled ? "bad dictionary string offsets" : "bad front-coded dictionary";
    return rc;
}

/* Runs of a sorted column are filled this many slots at a time, whatever
 * their length: a loop that stops at the run's end has its exit
 * mispredicted once a run, and at ~14 rows a run (flights' date; 97% of
 * its runs are 32 rows or fewer) that was most of the column's time. The
 * slots past the run are written again by the runs after it. */
#define RUN_FILL 32

/* v into o[0 .. RUN_FILL) (a fixed count: no loop exit to mispredict). */
static void fill_run_str(pv_str *o, const pv_str *v)
{
#pragma GCC unroll 32
    for (int i = 0; i < RUN_FILL; i++) memcpy(&o[i], v, sizeof *v);
}

static void fill_run_bits(int64_t *o, uint64_t bits)
{
#pragma GCC unroll 32
    for (int i = 0; i < RUN_FILL; i++) memcpy(&o[i], &bits, 8);
}

/* Rows [r0, r0 + m) into out from slot `at`, of a dictionary whose codes
 * are DELTA-coded (sorted codes: a time column of a table kept in time
 * order): an entry is looked
 * up once per run of its code and repeated, where reading every code
 * would unpack and sum it, then compare it with the one before (for a
 * flights date, 2 us of a 1,000-row range's 5.5 went there). A run of up
 * to RUN_FILL rows is filled RUN_FILL slots at a time while they stay
 * inside [at, at + m) (1,000-row range of flights' date alone: 2.05 ->
 * 1.53 us). */
static int dict_read_runs(pv_dec *d, uint32_t r0, uint32_t m, pv_dec_out out, uint32_t at,
                          const char **why)
{
    uint32_t ends[PV_BLOCK_ROWS], nr, r, j = at; /* (out[at]: row r0) */
    const uint32_t limit = at + m;
    const uint64_t *codes = d->tmp;
    const int str = pv_enc_is_str(d->type), fc = str && d->fmt == 1 && !d->tabled;
    int rc;
    *why = "bad dictionary codes";
    if (pv_delta_runs(&d->is.a, r0, m, d->tmp, ends, &nr)) return 1;
    for (r = 0; r < nr; r++) {
        const uint32_t end = at + ends[r]; /* (in a local: out may alias ends for the compiler) */
        const int whole = end - j <= RUN_FILL && limit - j >= RUN_FILL;
        pv_str cur = {NULL, 0};
        uint64_t bits = 0;
        /* (its page held or group decoded: no call, as in dict_read; a
         * page of one length gives the entry without a read of its pv_str:
         * flights' six columns with the caller's copy, 11.25 -> 10.67 us) */
        if (!(fc && codes[r] < d->count && fc_ready(d, codes[r], &cur)) &&
            (rc = dict_entry(d, codes[r], &cur, &bits, why)))
            return rc;
        if (str && whole) {
            fill_run_str(out.s + j, &cur);
        } else if (str) {
            for (uint32_t i = j; i < end; i++) memcpy(&out.s[i], &cur, sizeof cur);
        } else if (whole) {
            fill_run_bits(out.i + j, bits); /* (a double's bits alike) */
        } else {
            for (uint32_t i = j; i < end; i++) memcpy(&out.i[i], &bits, 8);
        }
        j = end;
    }
    return 0;
}

/* Are all codes of block b below the entry count? Read in pieces (a
 * block is PV_BLOCK_ROWS codes). */
static int block_codes_ok(const pv_dec *d, uint32_t b)
{
    uint64_t c[256], top = 0;
    uint32_t i = b << PV_BLOCK_SHIFT, end = i + pv_block_len(d->is.n, b);
    while (i < end) {
        uint32_t m = end - i < 256 ? end - i : 256, j;
        if (pv_is_read(&d->is, i, m, c)) return 0;
        for (j = 0; j < m; j++) top = c[j] > top ? c[j] : top;
        i += m;
    }
    return top < d->count;
}

/* Are the codes of rows [r, r + m) known to be below count? Their blocks'
 * bits in the table's bitmap, each block checked on its first read: a
 * chunk's blocks are checked once for every reader and query (the table
 * lives in the shared block cache), not once per value per read. The bits
 * only go from 0 to 1, each saying the same of the same bytes: set with a
 * relaxed atomic OR by whichever thread gets there. */
static int codes_checked(const pv_dec *d, uint32_t r, uint32_t m)
{
    uint32_t b;
    if (!d->table_ok || !m) return 0;
    for (b = r >> PV_BLOCK_SHIFT; b <= (r + m - 1) >> PV_BLOCK_SHIFT; b++) {
        uint64_t *w = &d->table_ok[b / 64], bit = (uint64_t)1 << (b % 64);
        if (__atomic_load_n(w, __ATOMIC_RELAXED) & bit) continue;
        /* (a few rows are checked as they are read: a whole block for
         * them would cost more than it saves) */
        if (m < PV_BLOCK_ROWS / 4 || !block_codes_ok(d, b)) return 0;
        __atomic_fetch_or(w, bit, __ATOMIC_RELAXED);
    }
    return 1;
}

static int dict_read(pv_dec *d, uint32_t r0, uint32_t n, pv_dec_out out, const char **why)
{
    uint32_t done = 0, j;
    int rc;
    while (done < n) {
        uint32_t m = n - done < PV_BLOCK_ROWS ? n - done : PV_BLOCK_ROWS;
        uint64_t *c = d->tmp, bad = 0;
        if (d->is.kind == PV_ENC_DELTA && d->count) {
            if ((rc = dict_read_runs(d, r0 + done, m, out, done, why))) return rc;
            done += m;
            continue;
        }
        *why = "bad dictionary codes";
        if (pv_is_read(&d->is, r0 + done, m, c)) return 1;
        if (d->count == 0) { /* every row NULL */
            for (j = 0; j < m; j++) {
                if (pv_enc_is_str(d->type)) { out.s[done + j].p = ""; out.s[done + j].n = 0; }
                else if (d->type == PV_REAL) out.f[done + j] = 0.0;
                else out.i[done + j] = 0;
            }
            done += m;
            continue;
        }
        /* (each code is checked below the entry count in the loop that
         * reads its entry: a separate pass was a fifth of this function) */
        *why = "dictionary code out of range";
        if (d->tabled) { /* one table: an entry per code */
            const uint64_t count = d->count;
            pv_str *o = out.s + done;
            const pv_str *table = d->table;
            if (!table) {
                if ((rc = arr_table(d))) {
                    *why = "bad dictionary string offsets";
                    return rc;
                }
                table = d->table;
            }
            if (codes_checked(d, r0 + done, m)) {
                /* every code below count (checked once for the block, by
                 * whichever reader came first): a copy per value, no
                 * compare, about 11 -> 5 instructions a value */
#pragma GCC unroll 4
                for (j = 0; j < m; j++) memcpy(&o[j], &table[c[j]], sizeof *o);
            } else {
                for (j = 0; j < m && c[j] < count; j++) o[j] = table[c[j]];
                if (j < m) return 1;
            }
        } else if (d->fmt == 1) {
            /* (in locals: the stores to out may alias d for the compiler;
             * a code like the one before, as runs of a sorted column are,
             * repeats its entry without a lookup) */
            pv_str *o = out.s + done, cur = {NULL, 0};
            const uint64_t count = d->count;
            uint64_t prev = c[0] + 1; /* (not c[0], even at UINT64_MAX: checked) */
            for (j = 0; j < m; j++) {
                const uint64_t cj = c[j];
                if (cj != prev) {
                    if (cj >= count) return 1;
                    /* (its page held or group decoded: no call, most codes) */
                    if (!fc_ready(d, cj, &cur) && (rc = fc_str(d, cj, &cur))) {
                        *why = "bad front-coded dictionary";
                        return rc;
                    }
                    prev = cj;
                }
                o[j] = cur;
            }
        } else if (pv_enc_is_str(d->type)) {
            /* (in locals, and the offsets checked after the loop: no branch
             * per value) */
            const uint8_t *offs = d->vals;
            const char *bytes = (const char *)d->bytes;
            const uint64_t blen = d->bytes_len, count = d->count;
            pv_str *o = out.s + done;
            int64_t sign = 0; /* negative once an entry's offsets are bad */
            for (j = 0; j < m; j++) {
                uint64_t cj = c[j];
                int64_t a, b;
                bad |= cj >= count;
                cj = cj < count ? cj : 0; /* (read in bounds; reported below) */
                a = (int64_t)pv_get_u32(offs + 4 * cj);
                b = (int64_t)pv_get_u32(offs + 4 * cj + 4);
                sign |= (b - a) | ((int64_t)blen - b);
                o[j].p = bytes + a;
                o[j].n = (size_t)(b - a);
            }
            if (bad) return 1;
            *why = "bad dictionary string offsets";
            if (sign < 0) return 1;
        } else { /* entries straight into out (REAL as its bits) */
            uint8_t *o = d->type == PV_REAL ? (uint8_t *)(out.f + done) : (uint8_t *)(out.i + done);
            const uint8_t *vals = d->vals;
            const uint64_t count = d->count;
            if (!d->table_ok) num_ok_bits(d);
            if (codes_checked(d, r0 + done, m)) { /* (as for a table above) */
#pragma GCC unroll 4
                for (j = 0; j < m; j++) memcpy(o + 8 * (size_t)j, vals + 8 * (size_t)c[j], 8);
            } else {
                for (j = 0; j < m; j++) {
                    if (c[j] >= count) return 1;
                    memcpy(o + 8 * (size_t)j, vals + 8 * (size_t)c[j], 8);
                }
            }
        }
        done += m;
    }
    return 0;
}

/* The lines of [p, p + n) when they are at most `max` lines: the entry a
 * point read needs is then found without a miss, whatever its code. */
static void prefetch_small(const uint8_t *p, uint64_t n, unsigned max)
{
    uint64_t a;
    if (!n || n > 64 * (uint64_t)(max - 1)) return;
    for (a = 0; a < n + 63; a += 64) __builtin_prefetch(p + (a < n ? a : n - 1));
}

/* The code's block, and a small dictionary whole: a point read of several
 * columns then waits for one miss per column at most, not for the code,
 * then the group offsets, then the entry's bytes in turn. */
static void dict_prefetch(const pv_dec *d, uint32_t r)
{
    pv_is_prefetch(&d->is, r);
    if (!pv_enc_is_str(d->type)) {
        prefetch_small(d->vals, 8 * (uint64_t)d->count, 8);
    } else if (d->bytes) {
        prefetch_small(d->vals, (uint64_t)(d->bytes - d->vals), 4);
        prefetch_small(d->bytes, d->bytes_len, 4);
    }
}

/* get() of a tabled array dictionary: the table's entry once a read()
 * made the table, or at once for a decoder that may hold the cached one
 * (found there, or made once for every reader of the chunk); else a copy
 * of the entry appended to mem and followed by a NUL (*moff), as for a
 * front-coded one (a few rows read by a scan's get() do not pay for the
 * table). */
static int tabled_get(pv_dec *d, uint32_t c, pv_str *out, pv_buf *mem, uint64_t *moff)
{
    pv_str s;
    int rc;
    if (!d->table && (d->may_hold & PV_DEC_HOLD_TABLES) && (rc = arr_table(d))) return rc;
    if (d->table) {
        *out = d->table[c];
        return 0;
    }
    if (pv_enc_str_at(d->vals, d->bytes, d->bytes_len, c, &s)) return 1;
    if (pv_buf_reserve(mem, s.n + 1)) return PV_ENOMEM;
    *moff = mem->len;
    if (s.n) memcpy(mem->p + mem->len, s.p, s.n);
    mem->p[mem->len + s.n] = 0;
    mem->len += s.n + 1;
    out->p = NULL;
    out->n = s.n;
    return 0;
}

/* get() of a front-coded entry by a decoder that may hold cached blocks:
 * from its page, decoded once for every reader and held until
 * pv_dec_release (d->fc_held, malloc'ed: such a decoder has no arena).
 * 0, 1 malformed, 2 not this way (decode the entry alone), PV_ENOMEM. */
static int held_fc_get(pv_dec *d, uint32_t c, pv_str *out)
{
    uint32_t p = c / FC_PAGE_ENTRIES, i = c % FC_PAGE_ENTRIES;
    const pv_fc_hold *h;
    if (!d->fc_held && !(d->fc_held = calloc(fc_npages(d), sizeof *d->fc_held))) return 2;
    if (!d->fc_held[p].block) {
        const pv_block *b;
        int rc = fc_page_block(d, p, &b);
        if (rc) return rc;
        hold_page(&d->fc_held[p], b);
    }
    h = &d->fc_held[p];
    if (h->stride) {
        out->p = (const char *)h->at + (size_t)i * h->stride;
        out->n = h->stride - 1;
    } else {
        *out = ((const pv_str *)h->at)[i];
    }
    return 0;
}

static int dict_get(pv_dec *d, uint32_t r, pv_value *out, pv_buf *mem, uint64_t *moff,
                    const char **why)
{
    uint64_t c, bits;
    uint32_t len;
    int rc;
    *moff = UINT64_MAX;
    *why = "bad dictionary codes";
    if (pv_is_get(&d->is, r, &c)) return 1;
    out->type = d->type;
    if (d->count == 0) { /* every row NULL */
        out->u.s.p = "";
        out->u.s.n = 0;
        if (!pv_enc_is_str(d->type)) out->u.i = 0;
        return 0;
    }
    *why = "dictionary code out of range";
    if (c >= d->count) return 1;
    if (!pv_enc_is_str(d->type)) {
        if (entry_num(d, c, &bits)) return 1;
        *out = pv_enc_num_value(d->type, bits);
        return 0;
    }
    *why = "bad dictionary string offsets";
    if (d->tabled) return tabled_get(d, (uint32_t)c, &out->u.s, mem, moff);
    if (d->fmt == 0) return pv_enc_str_at(d->vals, d->bytes, d->bytes_len, (uint32_t)c, &out->u.s);
    *why = "bad front-coded dictionary";
    if ((d->may_hold & PV_DEC_HOLD_PAGES) && (rc = held_fc_get(d, (uint32_t)c, &out->u.s)) != 2) return rc;
    rc = fc_entry(d, (uint32_t)c, mem, moff, &len);
    if (rc) return rc;
    out->u.s.p = NULL;
    out->u.s.n = len;
    return 0;
}

/* Entries strictly increasing, booleans excluded by type. */
static int check_sorted(pv_dec *d)
{
    uint32_t i;
    for (i = 0; i + 1 < d->count; i++) {
        if (pv_enc_is_str(d->type)) {
            pv_str a, b;
            if (d->fmt == 1) {
                if (fc_str(d, i, &a) || fc_str(d, i + 1, &b)) return 1; /* (dict_check decoded them) */
            } else if (pv_enc_str_at(d->vals, d->bytes, d->bytes_len, i, &a) ||
                       pv_enc_str_at(d->vals, d->bytes, d->bytes_len, i + 1, &b)) {
                return 1;
            }
            if (pv_enc_str_cmp(a, b) >= 0) return 1;
        } else {
            uint64_t a = num_key(d->type, pv_get_u64(d->vals + 8 * (size_t)i));
            uint64_t b = num_key(d->type, pv_get_u64(d->vals + 8 * ((size_t)i + 1)));
            if (a >= b) return 1;
        }
    }
    return 0;
}

static int dict_check(pv_dec *d, const char **why)
{
    uint64_t dlen = pv_get_u64(d->p + 8), i, codes_at = DICT_HEADER + pv_enc_align8(dlen);
    uint32_t r;
    int rc;
    *why = "dictionary padding not zero";
    for (i = DICT_HEADER + dlen; i < codes_at; i++)
        if (d->p[i]) return 1;
    if (pv_enc_is_str(d->type) && d->fmt == 0) {
        const uint8_t *bytes;
        *why = "bad dictionary string offsets";
        if (pv_enc_check_strings(d->vals, dlen, d->count, &bytes)) return 1;
    }
    if (d->fmt == 1) {
        uint32_t e;
        pv_str tmp;
        *why = "bad front-coded dictionary";
        for (e = 0; e < d->count; e += FC_GROUP)
            if ((rc = fc_str(d, e, &tmp))) return rc;
    }
    *why = "dictionary not sorted, or bad values";
    if (check_sorted(d)) return 1;
    *why = "bad dictionary codes";
    if (pv_is_check(&d->is)) return 1;
    for (r = 0; r < d->nrows; r += PV_BLOCK_ROWS) {
        uint32_t m = d->nrows - r < PV_BLOCK_ROWS ? d->nrows - r : PV_BLOCK_ROWS, j;
        if (pv_is_read(&d->is, r, m, d->tmp)) return 1;
        for (j = 0; j < m; j++)
            if (d->tmp[j] >= (d->count ? d->count : 1)) {
                *why = "dictionary code out of range";
                return 1;
            }
    }
    return 0;
}

const pv_encoder pv_enc_dict = {
    PV_ENC_DICT, "dict", PV_T(PV_INTEGER) | PV_T(PV_REAL) | PV_T(PV_TEXT) | PV_T(PV_BLOB),
    dict_plan, dict_write, dict_open, dict_read, dict_get, dict_check, dict_prefetch,
};

/* ---- encoded access for the executor (pvdb_scan.c) ------------------------------ */

int pv_dict_codes(pv_dec *d, uint32_t r0, uint32_t n, uint32_t *out, const char **why)
{
    uint64_t bad = 0;
    uint32_t j;
    *why = "bad dictionary codes";
    if (d->enc != PV_ENC_DICT || n > PV_BLOCK_ROWS || pv_is_read(&d->is, r0, n, d->tmp)) return 1;
    for (j = 0; j < n; j++) {
        bad |= d->tmp[j] >= d->count;
        out[j] = (uint32_t)d->tmp[j];
    }
    *why = "dictionary code out of range";
    return bad != 0;
}

int pv_dict_entry(pv_dec *d, uint32_t c, pv_value *out, const char **why)
{
    uint64_t bits;
    *why = "dictionary code out of range";
    if (d->enc != PV_ENC_DICT || c >= d->count) return 1;
    out->type = d->type;
    if (!pv_enc_is_str(d->type)) {
        if (entry_num(d, c, &bits)) return 1;
        *out = pv_enc_num_value(d->type, bits);
        return 0;
    }
    *why = "bad dictionary string offsets";
    if (d->fmt == 0 && !d->tabled) return pv_enc_str_at(d->vals, d->bytes, d->bytes_len, c, &out->u.s);
    if (d->fmt == 1) *why = "bad front-coded dictionary";
    return fc_str(d, c, &out->u.s);
}
