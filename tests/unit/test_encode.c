/*
 * test_encode.c: the column chunk encodings of format 2 on their own
 * (libpv/encode_*.c): every encoder round-trips every row through read()
 * (batches) and get() (one row) and passes its full check(), with NULLs
 * anywhere and block edges; the chooser picks each encoder on data shaped
 * for it and respects the key and no-zstd roles; and crafted sections
 * (every byte rewritten) give an error or some value, never a crash (the
 * suite runs under ASan/UBSan too).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode_stream.h"
#include "pv.h"
#include "pvdb_blockcache.h"
#include "util.h"

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* One column of test data. */
typedef struct col {
    int type;
    uint32_t n;
    uint8_t *nulls;     /* NULL when none */
    int64_t *i;
    double *f;
    pv_str *s;
    char *pool;
} col;

static void col_new(col *c, int type, uint32_t n)
{
    memset(c, 0, sizeof *c);
    c->type = type;
    c->n = n;
    c->i = calloc(n + 1, 8);
    c->f = calloc(n + 1, 8);
    c->s = calloc(n + 1, sizeof(pv_str));
    c->pool = calloc((size_t)n + 1, 96);
    assert_true(c->i && c->f && c->s && c->pool);
}

static void col_free(col *c)
{
    free(c->nulls);
    free(c->i);
    free(c->f);
    free(c->s);
    free(c->pool);
}

static void set_null(col *c, uint32_t r)
{
    if (!c->nulls) {
        c->nulls = calloc(c->n + 1, 1);
        assert_non_null(c->nulls);
    }
    c->nulls[r] = 1;
}

static void set_str(col *c, uint32_t r, const char *fmt, ...)
{
    va_list ap;
    char *p = c->pool + (size_t)r * 96;
    va_start(ap, fmt);
    c->s[r].n = (size_t)vsnprintf(p, 96, fmt, ap);
    va_end(ap);
    c->s[r].p = p;
}

static pv_enc_in input(const col *c, unsigned flags)
{
    pv_enc_in in;
    uint32_t r;
    memset(&in, 0, sizeof in);
    in.v.type = c->type;
    in.v.nulls = c->nulls;
    if (c->type == PV_REAL) in.v.u.f = c->f;
    else if (pv_enc_is_str(c->type)) in.v.u.s = c->s;
    else in.v.u.i = c->i;
    in.nrows = c->n;
    in.flags = flags;
    for (r = 0; c->nulls && r < c->n; r++) in.null_count += c->nulls[r];
    return in;
}

static int is_null(const col *c, uint32_t r) { return c->nulls && c->nulls[r]; }

static void same_value(const col *c, uint32_t r, int type, const void *got)
{
    if (pv_enc_is_str(type)) {
        const pv_str *g = got;
        if (g->n != c->s[r].n || (g->n && memcmp(g->p, c->s[r].p, g->n)))
            fail_msg("row %u: string %.*s, want %.*s", r, (int)g->n, g->p, (int)c->s[r].n,
                     c->s[r].p);
    } else if (type == PV_REAL) {
        if (memcmp(got, &c->f[r], 8)) fail_msg("row %u: real differs", r);
    } else if (*(const int64_t *)got != c->i[r]) {
        fail_msg("row %u: %lld, want %lld", r, (long long)*(const int64_t *)got,
                 (long long)c->i[r]);
    }
}

/* Encode c with encoder `id` (or the chooser's when id < 0) into *out;
 * returns the encoder id used. */
static int encode(const col *c, int id, unsigned flags, pv_buf *out)
{
    pv_enc_ctx ctx = PV_ENC_CTX_INIT;
    pv_enc_in in = input(c, flags);
    const pv_encoder *e;
    uint64_t size;
    assert_int_equal(pv_enc_prepare(&ctx, &in), 0);
    if (id < 0) {
        assert_int_equal(pv_enc_choose(&ctx, &in, &e, &size), 0);
    } else {
        e = pv_encoder_get((unsigned)id);
        assert_non_null(e);
        assert_int_equal(e->plan(&ctx, &in, &size), 0);
    }
    out->len = 0;
    assert_int_equal(pv_buf_zeros(out, (size_t)size + 8), 0);
    out->len = (size_t)size;
    assert_int_equal(e->write(&ctx, &in, (uint8_t *)out->p), 0);
    pv_enc_ctx_free(&ctx);
    return e->id;
}

static uint64_t dec_tmp[PV_BLOCK_ROWS];
static pv_arena dec_arena;

static void dec_init(pv_dec *d, const col *c, int id, const pv_buf *sec, pv_buf *mem)
{
    uint32_t r;
    memset(d, 0, sizeof *d);
    pv_arena_reset(&dec_arena);
    d->tmp = dec_tmp;
    d->arena = &dec_arena;
    d->type = c->type;
    d->nrows = c->n;
    for (r = 0; c->nulls && r < c->n; r++) d->null_count += c->nulls[r];
    d->enc = (uint8_t)id;
    d->p = (const uint8_t *)sec->p;
    d->n = sec->len;
    d->mem = mem;
}

/* Read every row back through read() in block-sized batches, get() and
 * check(). */
static void roundtrip_with(const col *c, int id, unsigned flags)
{
    pv_buf sec = PV_BUF_INIT, mem = PV_BUF_INIT, gmem = PV_BUF_INIT;
    pv_dec *d = malloc(sizeof *d);
    const pv_encoder *e;
    const char *why = "";
    union {
        int64_t i[PV_BLOCK_ROWS];
        double f[PV_BLOCK_ROWS];
        pv_str s[PV_BLOCK_ROWS];
    } *v = malloc(sizeof *v);
    uint32_t r0, j;
    assert_true(d && v);
    id = encode(c, id, flags, &sec);
    e = pv_encoder_get((unsigned)id);
    dec_init(d, c, id, &sec, &mem);
    if (pv_dec_open(d, &why)) fail_msg("%s: open: %s", e->name, why);
    for (r0 = 0; r0 < c->n; r0 += PV_BLOCK_ROWS) {
        uint32_t n = c->n - r0 < PV_BLOCK_ROWS ? c->n - r0 : PV_BLOCK_ROWS;
        pv_dec_out o;
        o.i = v->i;
        pv_dec_prefetch_rows(d, r0, n); /* (reads the block table: ASan) */
        pv_dec_prefetch_rows(d, r0 + n - 1, PV_BLOCK_ROWS); /* past the block */
        if (e->read(d, r0, n, o, &why)) fail_msg("%s: read %u: %s", e->name, r0, why);
        for (j = 0; j < n; j++) {
            if (is_null(c, r0 + j)) continue;
            if (pv_enc_is_str(c->type)) same_value(c, r0 + j, c->type, &v->s[j]);
            else same_value(c, r0 + j, c->type, &v->i[j]);
        }
    }
    /* a read starting inside a block, for the non-string encodings */
    if (!pv_enc_is_str(c->type) && c->n > 10) {
        pv_dec_out o;
        uint32_t n = c->n - 7 < PV_BLOCK_ROWS ? c->n - 7 : PV_BLOCK_ROWS;
        o.i = v->i;
        assert_int_equal(e->read(d, 7, n, o, &why), 0);
        for (j = 0; j < n; j++)
            if (!is_null(c, 7 + j)) same_value(c, 7 + j, c->type, &v->i[j]);
    }
    /* every get twice: as opened, then settled (block entries checked
     * once: gets read them unchecked), which FOR and DELTA streams are */
    for (int pass = 0; pass < 2; pass++)
    for (r0 = 0; r0 < c->n; r0++) {
        pv_value val;
        uint64_t moff;
        if (pass && r0 == 0) {
            pv_dec_settle(d);
            if (id == PV_ENC_FOR || id == PV_ENC_DELTA ||
                (id == PV_ENC_DICT && (d->is.kind == PV_ENC_FOR || d->is.kind == PV_ENC_DELTA)))
                assert_int_equal(d->is.a.settled, 1);
        }
        gmem.len = 0;
        if (e->get(d, r0, &val, &gmem, &moff, &why)) fail_msg("%s: get %u: %s", e->name, r0, why);
        if (is_null(c, r0)) continue;
        assert_int_equal(val.type, c->type);
        if (pv_enc_is_str(c->type)) {
            if (moff != UINT64_MAX) val.u.s.p = gmem.p + moff;
            same_value(c, r0, c->type, &val.u.s);
        } else if (c->type == PV_REAL) {
            same_value(c, r0, c->type, &val.u.f);
        } else {
            same_value(c, r0, c->type, &val.u.i);
        }
    }
    if (e->check(d, &why)) fail_msg("%s: check: %s", e->name, why);
    pv_buf_free(&sec);
    pv_buf_free(&mem);
    pv_buf_free(&gmem);
    free(d);
    free(v);
}

static void roundtrip(const col *c, int id) { roundtrip_with(c, id, 0); }

/* Round trip through `id` when it can hold the data at all. */
static void try_roundtrip(const col *c, int id)
{
    pv_enc_ctx ctx = PV_ENC_CTX_INIT;
    pv_enc_in in = input(c, 0);
    uint64_t sz;
    int rc;
    assert_int_equal(pv_enc_prepare(&ctx, &in), 0);
    rc = pv_encoder_get((unsigned)id)->plan(&ctx, &in, &sz);
    pv_enc_ctx_free(&ctx);
    if (rc == PV_ENC_UNSUITABLE) return;
    assert_int_equal(rc, 0);
    roundtrip(c, id);
}

static int chosen(const col *c, unsigned flags)
{
    pv_buf sec = PV_BUF_INIT;
    int id = encode(c, -1, flags, &sec);
    pv_buf_free(&sec);
    return id;
}

static const uint32_t sizes[] = {1, 2, 1023, 1024, 1025, 3000};
#define NSIZES (sizeof sizes / sizeof sizes[0])

/* NULL patterns: none, leading, trailing, every 7th, all. */
static void add_nulls(col *c, int pattern)
{
    uint32_t r;
    for (r = 0; r < c->n; r++)
        if ((pattern == 1 && r < 5) || (pattern == 2 && r + 3 >= c->n) ||
            (pattern == 3 && r % 7 == 2) || pattern == 4)
            set_null(c, r);
}

/* ---- integers ---------------------------------------------------------------------- */

typedef void (*fill_fn)(col *c);

static void fill_random(col *c)
{
    uint32_t r;
    for (r = 0; r < c->n; r++) c->i[r] = (int64_t)mix64(r);
}
static void fill_small(col *c)
{
    uint32_t r;
    for (r = 0; r < c->n; r++) c->i[r] = 1000000000 + (int64_t)(mix64(r) % 1000);
}
static void fill_sorted_gaps(col *c)
{
    uint32_t r;
    int64_t v = -5000;
    for (r = 0; r < c->n; r++) {
        v += (int64_t)(mix64(r) % 16);
        c->i[r] = v;
    }
}
static void fill_runs(col *c)
{
    uint32_t r;
    for (r = 0; r < c->n; r++) c->i[r] = (int64_t)mix64(r / 500);
}
static void fill_linear(col *c)
{
    uint32_t r;
    for (r = 0; r < c->n; r++) c->i[r] = 7 + 3 * (int64_t)r;
}
static void fill_three(col *c)
{
    static const int64_t v[3] = {1, 1000000000000ll, -1000000000000000ll};
    uint32_t r;
    for (r = 0; r < c->n; r++) c->i[r] = v[mix64(r) % 3];
}
static void fill_extremes(col *c)
{
    uint32_t r;
    for (r = 0; r < c->n; r++) c->i[r] = r % 2 ? INT64_MAX : INT64_MIN;
}

static const fill_fn int_fills[] = {fill_random, fill_small, fill_sorted_gaps, fill_runs,
                                    fill_linear, fill_three, fill_extremes};

/* Every integer encoding on every shape, size and NULL pattern. */
static void test_int_roundtrips(void **state)
{
    static const int ids[] = {PV_ENC_PLAIN, PV_ENC_DICT, PV_ENC_FOR, PV_ENC_DELTA, PV_ENC_RLE};
    size_t f, z, k;
    int p;
    (void)state;
    for (f = 0; f < sizeof int_fills / sizeof int_fills[0]; f++)
        for (z = 0; z < NSIZES; z++)
            for (p = 0; p < 5; p++) {
                col c;
                col_new(&c, PV_INTEGER, sizes[z]);
                int_fills[f](&c);
                add_nulls(&c, p);
                for (k = 0; k < sizeof ids / sizeof ids[0]; k++)
                    try_roundtrip(&c, ids[k]); /* delta that does not pay: skipped */
                if (f == 4 && p == 0) roundtrip(&c, PV_ENC_LINEAR);
                roundtrip(&c, -1);
                col_free(&c);
            }
}

static void test_int_chooser(void **state)
{
    col c;
    (void)state;
    col_new(&c, PV_INTEGER, 4000);
    fill_random(&c);
    assert_int_equal(chosen(&c, 0), PV_ENC_PLAIN);
    fill_small(&c);
    assert_int_equal(chosen(&c, 0), PV_ENC_FOR);
    fill_sorted_gaps(&c);
    assert_int_equal(chosen(&c, 0), PV_ENC_DELTA);
    /* a key column must stay O(1) to read: FOR, not DELTA */
    assert_int_equal(chosen(&c, PV_ENC_KEY), PV_ENC_FOR);
    fill_runs(&c);
    assert_int_equal(chosen(&c, 0), PV_ENC_RLE);
    fill_linear(&c);
    assert_int_equal(chosen(&c, 0), PV_ENC_LINEAR);
    memset(c.i, 0, 4000 * 8); /* constant: LINEAR with step 0 */
    assert_int_equal(chosen(&c, 0), PV_ENC_LINEAR);
    fill_three(&c);
    assert_int_equal(chosen(&c, 0), PV_ENC_DICT);
    /* a NULL breaks the progression (its slot repeats the previous value):
     * the deltas stay tiny */
    fill_linear(&c);
    set_null(&c, 100);
    assert_int_equal(chosen(&c, 0), PV_ENC_DELTA);
    col_free(&c);
}

/* The linear special case is 16 bytes whatever the row count. */
static void test_linear_size(void **state)
{
    col c;
    pv_buf sec = PV_BUF_INIT;
    (void)state;
    col_new(&c, PV_INTEGER, 65536);
    fill_linear(&c);
    assert_int_equal(encode(&c, -1, 0, &sec), PV_ENC_LINEAR);
    assert_int_equal(sec.len, 16);
    /* a progression that would overflow is not linear */
    c.n = 3;
    c.i[0] = INT64_MAX - 2;
    c.i[1] = INT64_MAX - 1;
    c.i[2] = INT64_MAX;
    assert_int_equal(encode(&c, -1, 0, &sec), PV_ENC_LINEAR);
    c.i[2] = INT64_MIN;
    assert_int_not_equal(encode(&c, -1, 0, &sec), PV_ENC_LINEAR);
    pv_buf_free(&sec);
    col_free(&c);
}

/* ---- reals and booleans --------------------------------------------------------------- */

static void test_real_and_bool(void **state)
{
    static const double specials[6] = {0.0, -0.0, 1.5, -1e300, INFINITY, NAN};
    uint32_t r;
    size_t z;
    int p;
    (void)state;
    for (z = 0; z < NSIZES; z++)
        for (p = 0; p < 5; p++) {
            col c, b;
            col_new(&c, PV_REAL, sizes[z]);
            col_new(&b, PV_BOOLEAN, sizes[z]);
            for (r = 0; r < c.n; r++) {
                c.f[r] = r % 3 ? specials[mix64(r) % 6] : (double)r * 0.37;
                b.i[r] = (int64_t)(mix64(r) & 1);
            }
            add_nulls(&c, p);
            add_nulls(&b, p);
            roundtrip(&c, PV_ENC_PLAIN);
            roundtrip(&c, PV_ENC_RLE);
            roundtrip(&c, -1);
            roundtrip(&b, PV_ENC_BITMAP);
            roundtrip(&b, PV_ENC_RLE);
            roundtrip(&b, PV_ENC_PLAIN);
            roundtrip(&b, -1);
            col_free(&c);
            col_free(&b);
        }
}

static void test_real_bool_chooser(void **state)
{
    col c, b;
    uint32_t r;
    (void)state;
    col_new(&c, PV_REAL, 5000);
    col_new(&b, PV_BOOLEAN, 5000);
    for (r = 0; r < 5000; r++) {
        c.f[r] = (double)mix64(r) / 3.0;
        b.i[r] = (int64_t)(mix64(r) & 1);
    }
    assert_int_equal(chosen(&c, 0), PV_ENC_PLAIN);
    assert_int_equal(chosen(&b, 0), PV_ENC_BITMAP);
    for (r = 0; r < 5000; r++) {
        c.f[r] = r % 4 == 0 ? -0.0 : r % 4 == 1 ? 0.0 : 2.5; /* -0.0 and 0.0 stay two */
        b.i[r] = r >= 2500;
    }
    assert_int_equal(chosen(&c, 0), PV_ENC_DICT);
    roundtrip(&c, -1);
    assert_int_equal(chosen(&b, 0), PV_ENC_RLE);
    for (r = 0; r < 5000; r++) c.f[r] = r < 4000 ? 1.25 : -3.0;
    assert_int_equal(chosen(&c, 0), PV_ENC_RLE);
    col_free(&c);
    col_free(&b);
}

/* ---- strings ---------------------------------------------------------------------------- */

static void fill_strings(col *c, int shape)
{
    uint32_t r;
    for (r = 0; r < c->n; r++) {
        switch (shape) {
        case 0: /* unique random bytes: nothing to share */
            pv_put_u64((uint8_t *)c->pool + (size_t)r * 96, mix64(r));
            c->s[r].p = c->pool + (size_t)r * 96;
            c->s[r].n = 8;
            break;
        case 1: set_str(c, r, "city-%u", (unsigned)(mix64(r) % 40)); break;     /* few */
        case 2: set_str(c, r, "2001-01-%02u %02u:%02u:00", 1 + r / 1440 % 28,
                        r / 60 % 24, r % 60);
            break;                                                                 /* sorted */
        case 3: set_str(c, r, "2001-01-01 00:%02u", r / 100 % 60); break;      /* runs */
        case 4: /* long, compressible text */
            set_str(c, r, "the quick brown fox jumps over the lazy dog number %u again", r % 97);
            break;
        default: set_str(c, r, "%s", r % 2 ? "" : "\xce\xbb\0x"); c->s[r].n = r % 2 ? 0 : 4;
        }
    }
}

static void test_string_roundtrips(void **state)
{
    int shape, p;
    size_t z;
    (void)state;
    for (shape = 0; shape < 6; shape++)
        for (z = 0; z < NSIZES; z++)
            for (p = 0; p < 5; p++) {
                col c;
                col_new(&c, p % 2 ? PV_BLOB : PV_TEXT, sizes[z]);
                fill_strings(&c, shape);
                add_nulls(&c, p);
                roundtrip(&c, PV_ENC_PLAIN);
                roundtrip(&c, PV_ENC_DICT);
                if (shape == 4) try_roundtrip(&c, PV_ENC_ZSTR);
                roundtrip(&c, -1);
                roundtrip_with(&c, -1, PV_ENC_KEY);
                col_free(&c);
            }
}

/* The dictionary's own choices: front coding and the codes' stream. */
static void dict_shape(const col *c, unsigned flags, uint8_t *fmt, uint8_t *kind)
{
    pv_buf sec = PV_BUF_INIT;
    assert_int_equal(encode(c, PV_ENC_DICT, flags, &sec), PV_ENC_DICT);
    *fmt = (uint8_t)sec.p[4];
    *kind = (uint8_t)sec.p[5];
    pv_buf_free(&sec);
}

static void test_string_chooser(void **state)
{
    col c;
    uint8_t fmt, kind;
    (void)state;
    /* a front-coded dictionary (1-byte lengths) beats u32 offsets even on
     * unique values; plain wins on a handful of rows */
    col_new(&c, PV_TEXT, 3);
    fill_strings(&c, 0);
    assert_int_equal(chosen(&c, 0), PV_ENC_PLAIN);
    col_free(&c);
    col_new(&c, PV_TEXT, 5000);
    fill_strings(&c, 1);
    assert_int_equal(chosen(&c, 0), PV_ENC_DICT);
    dict_shape(&c, 0, &fmt, &kind);
    assert_int_equal(kind, PV_ENC_FOR);
    /* sorted timestamps: front-coded dictionary, codes in runs */
    fill_strings(&c, 2);
    assert_int_equal(chosen(&c, 0), PV_ENC_DICT);
    dict_shape(&c, 0, &fmt, &kind);
    assert_int_equal(fmt, 1);
    assert_int_equal(kind, PV_ENC_LINEAR); /* unique and sorted: codes 0..n-1 */
    dict_shape(&c, PV_ENC_KEY, &fmt, &kind); /* keys: no front coding */
    assert_int_equal(fmt, 0);
    fill_strings(&c, 3);
    dict_shape(&c, 0, &fmt, &kind);
    assert_int_equal(kind, PV_ENC_RLE);
    /* a small dictionary (300 airport-like codes, 2.1 KB as an array):
     * front coding would save a third but under a page, and cost every
     * point read a walk: an array */
    {
        uint32_t r;
        for (r = 0; r < c.n; r++) set_str(&c, r, "%c%c%c", 'A' + (r * 7 % 300) / 100, 'A' + (r * 7 % 300) / 10 % 10, 'A' + r * 7 % 10);
    }
    dict_shape(&c, 0, &fmt, &kind);
    assert_int_equal(fmt, 0);
    /* long compressible text: zstd blocks, but never for keys or when off */
    fill_strings(&c, 4);
    fill_strings(&c, 4);
    {
        uint32_t r;
        for (r = 0; r < c.n; r++) /* unique, so no dictionary */
            set_str(&c, r, "the quick brown fox jumps over the lazy dog number %u again", r);
    }
    assert_int_equal(chosen(&c, 0), PV_ENC_ZSTR);
    assert_int_not_equal(chosen(&c, PV_ENC_KEY), PV_ENC_ZSTR);
    assert_int_not_equal(chosen(&c, PV_ENC_NO_ZSTD), PV_ENC_ZSTR);
    col_free(&c);
}

/* ---- the integer streams directly ---------------------------------------------------------- */

static void test_bitpacking(void **state)
{
    uint64_t x[300], y[300];
    uint8_t buf[300 * 8 + 16];
    unsigned w;
    uint32_t j;
    (void)state;
    for (w = 0; w <= 64; w++) {
        uint64_t mask = w == 64 ? ~0ull : (1ull << w) - 1;
        memset(buf, 0, sizeof buf);
        for (j = 0; j < 300; j++) x[j] = mix64(j * 131 + w) & mask;
        pv_pack_bits(buf, x, 300, w);
        pv_unpack(buf, 0, 300, w, y);
        assert_memory_equal(x, y, sizeof x);
        pv_unpack(buf, 17, 100, w, y);
        assert_memory_equal(x + 17, y, 100 * 8);
        for (j = 0; j < 300; j++) assert_true(pv_unpack1(buf, j, w) == x[j]);
        assert_true(pv_pack_tail_zero(buf, 300, w));
    }
}

/* ---- crafted sections --------------------------------------------------------------------- */

/* Rewrite every byte of the section of each encoder; open, read, get and
 * check must fail cleanly or return some value. */
static void craft(const col *c, int id)
{
    pv_buf sec = PV_BUF_INIT, bad = PV_BUF_INIT, mem = PV_BUF_INIT;
    pv_dec *d = malloc(sizeof *d);
    pv_str *out = malloc(PV_BLOCK_ROWS * sizeof *out);
    static const uint8_t flips[2] = {0xff, 0x01};
    size_t i, v;
    const pv_encoder *e;
    assert_true(d && out);
    id = encode(c, id, 0, &sec);
    e = pv_encoder_get((unsigned)id);
    for (i = 0; i < sec.len; i++)
        for (v = 0; v < 2; v++) {
            const char *why = "";
            uint32_t r0;
            bad.len = 0;
            assert_int_equal(pv_buf_append(&bad, sec.p, sec.len), 0);
            bad.p[i] ^= (char)flips[v];
            dec_init(d, c, id, &bad, &mem);
            if (pv_dec_open(d, &why)) continue;
            for (r0 = 0; r0 < c->n; r0 += PV_BLOCK_ROWS) {
                uint32_t n = c->n - r0 < PV_BLOCK_ROWS ? c->n - r0 : PV_BLOCK_ROWS;
                pv_dec_out o;
                o.s = out;
                pv_dec_prefetch_rows(d, r0, n); /* a flipped block entry: no read past it */
                if (e->read(d, r0, n, o, &why)) break;
            }
            for (v = 0; v < 2; v++) { /* as opened, then settled */
                if (v) pv_dec_settle(d);
                for (r0 = 0; r0 < c->n; r0 += 211) {
                    pv_value val;
                    uint64_t moff;
                    mem.len = 0;
                    if (e->get(d, r0, &val, &mem, &moff, &why) < 0) break;
                }
            }
            dec_init(d, c, id, &bad, &mem);
            if (pv_dec_open(d, &why) == 0) (void)e->check(d, &why);
        }
    pv_buf_free(&sec);
    pv_buf_free(&bad);
    pv_buf_free(&mem);
    free(d);
    free(out);
}

static void test_crafted_sections(void **state)
{
    col c;
    (void)state;
    /* two blocks each: block tables get damaged too */
    col_new(&c, PV_INTEGER, 1100);
    fill_small(&c);
    craft(&c, PV_ENC_FOR);
    fill_sorted_gaps(&c);
    craft(&c, PV_ENC_DELTA);
    fill_runs(&c);
    craft(&c, PV_ENC_RLE);
    fill_three(&c);
    craft(&c, PV_ENC_DICT);
    fill_linear(&c);
    craft(&c, PV_ENC_LINEAR);
    col_free(&c);
    col_new(&c, PV_TEXT, 1100);
    fill_strings(&c, 2);
    craft(&c, PV_ENC_DICT); /* front-coded */
    fill_strings(&c, 1);
    craft(&c, PV_ENC_PLAIN);
    fill_strings(&c, 4);
    craft(&c, PV_ENC_ZSTR);
    col_free(&c);
    col_new(&c, PV_BOOLEAN, 1100);
    fill_runs(&c);
    {
        uint32_t r;
        for (r = 0; r < c.n; r++) c.i[r] &= 1;
    }
    craft(&c, PV_ENC_BITMAP);
    craft(&c, PV_ENC_RLE);
    col_free(&c);
}

/* pv_dec_settle leaves a stream with one bad block entry unsettled:
 * gets in the good block still read, gets in the bad one still fail. */
static void test_settle_refuses_bad_entry(void **state)
{
    static const uint8_t kinds[] = {PV_ENC_FOR, PV_ENC_DELTA};
    pv_buf sec = PV_BUF_INIT, mem = PV_BUF_INIT;
    pv_dec *d = malloc(sizeof *d);
    const char *why = "";
    col c;
    (void)state;
    assert_true(d);
    col_new(&c, PV_INTEGER, 1100); /* two blocks */
    fill_sorted_gaps(&c);
    for (size_t k = 0; k < 2; k++) {
        uint32_t esz = kinds[k] == PV_ENC_FOR ? PV_FOR_ENTRY : PV_DELTA_ENTRY;
        uint32_t wat = kinds[k] == PV_ENC_FOR ? 12 : 20; /* the entry's width byte */
        pv_value val;
        uint64_t moff;
        sec.len = 0;
        assert_int_equal(encode(&c, kinds[k], 0, &sec), kinds[k]);
        sec.p[esz + wat] = 65; /* block 1: a width no block can have */
        dec_init(d, &c, kinds[k], &sec, &mem);
        assert_int_equal(pv_dec_open(d, &why), 0);
        pv_dec_settle(d);
        assert_int_equal(d->is.a.settled, 0);
        assert_int_equal(pv_encoder_get(kinds[k])->get(d, 5, &val, &mem, &moff, &why), 0);
        same_value(&c, 5, PV_INTEGER, &val.u.i);
        assert_int_equal(pv_encoder_get(kinds[k])->get(d, 1030, &val, &mem, &moff, &why), 1);
    }
    pv_buf_free(&sec);
    pv_buf_free(&mem);
    col_free(&c);
    free(d);
}

/* A front-coded dictionary's codes are each checked below the entry
 * count, also where a code repeats the one before (read() then reuses the
 * entry): codes in pairs, random order (FOR), rows 0 and 1 holding the
 * smallest. Block 0's FOR reference set to UINT64_MAX makes their code
 * UINT64_MAX and every other code of the block one less, in range. */
static void test_dict_codes_checked(void **state)
{
    pv_buf sec = PV_BUF_INIT, mem = PV_BUF_INIT;
    pv_dec *d = malloc(sizeof *d);
    pv_str *out = malloc(PV_BLOCK_ROWS * sizeof *out);
    const char *why = "";
    uint64_t dlen, codes_at;
    pv_dec_out o;
    uint32_t r;
    col c;
    (void)state;
    assert_true(d && out);
    col_new(&c, PV_TEXT, 1100);
    for (r = 0; r < c.n; r++) { /* k = 7 (r / 2) mod 2500: distinct pairs, k = 0 first */
        unsigned k = (r / 2) * 7 % 2500;
        set_str(&c, r, "2001-01-%02u %02u:%02u:00", 1 + k / 1440 % 28, k / 60 % 24, k % 60);
    }
    assert_int_equal(encode(&c, PV_ENC_DICT, 0, &sec), PV_ENC_DICT);
    assert_int_equal((uint8_t)sec.p[4], 1);          /* front-coded */
    assert_int_equal((uint8_t)sec.p[5], PV_ENC_FOR); /* the codes */
    o.s = out;
    dec_init(d, &c, PV_ENC_DICT, &sec, &mem);
    assert_int_equal(pv_dec_open(d, &why), 0);
    assert_int_equal(pv_enc_dict.read(d, 0, PV_BLOCK_ROWS, o, &why), 0);
    same_value(&c, 0, PV_TEXT, &out[0]);
    dlen = pv_get_u64((const uint8_t *)sec.p + 8);
    codes_at = 16 + ((dlen + 7) & ~(uint64_t)7);
    assert_int_equal(pv_get_u64((const uint8_t *)sec.p + codes_at), 0); /* block 0's ref */
    pv_put_u64((uint8_t *)sec.p + codes_at, UINT64_MAX);
    dec_init(d, &c, PV_ENC_DICT, &sec, &mem);
    assert_int_equal(pv_dec_open(d, &why), 0);
    assert_int_equal(pv_enc_dict.read(d, 0, PV_BLOCK_ROWS, o, &why), 1);
    assert_string_equal(why, "dictionary code out of range");
    pv_buf_free(&sec);
    pv_buf_free(&mem);
    col_free(&c);
    free(d);
    free(out);
}

/* ---- DELTA runs -------------------------------------------------------------------- */

/* Value r of DELTA run shape `shape`: steps of 0 or 1 (width 1, no
 * minimum: sorted dictionary codes), steps at word edges, steps 0..5,
 * steps 1..4 (a minimum delta), one value, long runs across blocks,
 * and random (wrapping). */
static uint64_t runs_value(int shape, uint32_t r, uint64_t prev)
{
    switch (shape) {
    case 0: return prev + (mix64(r) % 3 == 0);
    case 1: return prev + (r % 64 == 63 || r % 64 == 0 || r % 1024 == 1);
    case 2: return prev + mix64(r) % 6;
    case 3: return prev + 1 + mix64(r) % 4;
    case 4: return 42;
    case 5: return prev + (r % 700 == 0);
    default: return mix64(r);
    }
}

/* pv_delta_runs over windows of a 3-block stream (starting inside and at
 * block edges, crossing them) expands to exactly pv_delta_read's values,
 * in maximal runs; a window outside the stream is refused. */
static void test_delta_runs(void **state)
{
    enum { N = 3000 };
    static const uint32_t win[][2] = {{0, N}, {0, 1}, {1, 1023}, {1023, 2}, {7, 1500}, {1024, 1024},
                                      {N - 1, 1}, {500, 2500}, {63, 66}, {2047, 953}};
    uint64_t *v = malloc(N * 8), *want = malloc(N * 8), *vals = malloc(N * 8);
    uint32_t *ends = malloc(N * 4);
    pv_buf sec = PV_BUF_INIT;
    (void)state;
    assert_true(v && want && vals && ends);
    for (int shape = 0; shape < 7; shape++) {
        pv_pack k;
        uint64_t size;
        for (uint32_t r = 0; r < N; r++) v[r] = runs_value(shape, r, r ? v[r - 1] : 1000);
        size = pv_delta_plan(v, N);
        sec.len = 0;
        assert_int_equal(pv_buf_zeros(&sec, (size_t)size + 8), 0);
        pv_delta_write(v, N, (uint8_t *)sec.p);
        assert_int_equal(pv_pack_open(&k, PV_DELTA_ENTRY, (const uint8_t *)sec.p, size, N), 0);
        for (size_t w = 0; w < sizeof win / sizeof win[0] + 40; w++) {
            uint32_t i0, n, nr = 0, r, j = 0;
            if (w < sizeof win / sizeof win[0]) {
                i0 = win[w][0];
                n = win[w][1];
            } else {
                i0 = (uint32_t)(mix64(w * 7 + (uint64_t)shape) % N);
                n = 1 + (uint32_t)(mix64(w * 13) % (N - i0));
            }
            assert_int_equal(pv_delta_read(&k, i0, n, want), 0);
            assert_int_equal(pv_delta_runs(&k, i0, n, vals, ends, &nr), 0);
            assert_true(nr >= 1 && nr <= n);
            assert_int_equal(ends[nr - 1], n);
            for (r = 0; r < nr; r++) {
                if (r) assert_true(vals[r] != vals[r - 1] && ends[r] > ends[r - 1]);
                for (; j < ends[r]; j++)
                    if (want[j] != vals[r])
                        fail_msg("shape %d window %u+%u row %u: %llu, want %llu", shape, i0, n, j,
                                 (unsigned long long)vals[r], (unsigned long long)want[j]);
            }
        }
        assert_int_equal(pv_delta_runs(&k, N, 1, vals, ends, &(uint32_t){0}), 1);
        assert_int_equal(pv_delta_runs(&k, N - 1, 2, vals, ends, &(uint32_t){0}), 1);
    }
    pv_buf_free(&sec);
    free(v);
    free(want);
    free(vals);
    free(ends);
}

/* Read rows [r0, r0 + n) of c's section through read() and compare. */
static void read_window(pv_dec *d, const col *c, uint32_t r0, uint32_t n, pv_str *out)
{
    const char *why = "";
    pv_dec_out o;
    o.s = out;
    if (pv_enc_dict.read(d, r0, n, o, &why)) fail_msg("read %u+%u: %s", r0, n, why);
    for (uint32_t j = 0; j < n; j++)
        if (!is_null(c, r0 + j))
            same_value(c, r0 + j, c->type,
                       pv_enc_is_str(c->type) ? (const void *)&out[j] : (const void *)&((int64_t *)out)[j]);
}

/* A dictionary whose codes are DELTA-coded (sorted values) reads by runs
 * of a code: every kind of entry (front-coded, a table, string offsets,
 * numbers) over windows starting inside blocks and crossing them, with
 * NULLs; and a code past the entries is still an error there. */
static void test_dict_sorted_runs(void **state)
{
    static const uint32_t win[][2] = {{0, 1024},  {7, 1024},   {1000, 50},
                                      {1023, 1}, {2900, 100}, {1500, 1024}};
    pv_buf sec = PV_BUF_INIT, mem = PV_BUF_INIT;
    pv_dec *d = malloc(sizeof *d);
    pv_str *out = malloc(PV_BLOCK_ROWS * sizeof *out);
    const char *why = "";
    int seen_fc = 0, seen_arr = 0;
    (void)state;
    assert_true(d && out);
    for (int kind = 0; kind < 4; kind++) {
        col c;
        col_new(&c, kind < 2 ? PV_TEXT : kind == 2 ? PV_INTEGER : PV_REAL, 3000);
        for (uint32_t r = 0; r < c.n; r++) {
            uint32_t k = r / 3 + (r % 64 == 0); /* runs of about 3, a step at word edges */
            if (kind == 0)
                set_str(&c, r, "2001-01-%02u %02u:%02u:00", 1 + k / 1440 % 28, k / 60 % 24, k % 60);
            else if (kind == 1) set_str(&c, r, "x%04u", k / 4); /* (few: an array) */
            else if (kind == 2) c.i[r] = -5000000000ll + (int64_t)k * 1000003;
            else c.f[r] = 0.5 + k;
        }
        add_nulls(&c, 3);
        sec.len = 0;
        assert_int_equal(encode(&c, PV_ENC_DICT, 0, &sec), PV_ENC_DICT);
        if ((uint8_t)sec.p[5] != PV_ENC_DELTA) /* the codes' stream */
            fail_msg("kind %d: codes of kind %d", kind, sec.p[5]);
        seen_fc |= sec.p[4] == 1;
        seen_arr |= kind == 1 && sec.p[4] == 0;
        for (int arena = 1; arena >= 0; arena--) { /* a table of strings, then offsets */
            dec_init(d, &c, PV_ENC_DICT, &sec, &mem);
            if (!arena && sec.p[4] == 1) continue; /* (front coding reads through an arena) */
            if (!arena) d->arena = NULL;
            assert_int_equal(pv_dec_open(d, &why), 0);
            if (kind == 1) assert_int_equal(d->tabled, arena);
            for (size_t w = 0; w < sizeof win / sizeof win[0]; w++)
                read_window(d, &c, win[w][0], win[w][1], out);
        }
        col_free(&c);
    }
    assert_true(seen_fc && seen_arr);
    { /* block 0's first code set to the entry count, then to UINT64_MAX */
        col c;
        uint64_t dlen, codes_at, bad[2];
        col_new(&c, PV_TEXT, 1100);
        for (uint32_t r = 0; r < c.n; r++)
            set_str(&c, r, "2001-01-01 %02u:%02u:00", r / 300, r / 5 % 60);
        sec.len = 0;
        assert_int_equal(encode(&c, PV_ENC_DICT, 0, &sec), PV_ENC_DICT);
        assert_int_equal((uint8_t)sec.p[5], PV_ENC_DELTA);
        dlen = pv_get_u64((const uint8_t *)sec.p + 8);
        codes_at = 16 + ((dlen + 7) & ~(uint64_t)7);
        /* block 0's first code */
        assert_int_equal(pv_get_u64((const uint8_t *)sec.p + codes_at), 0);
        bad[0] = pv_get_u32((const uint8_t *)sec.p); /* the entry count */
        bad[1] = UINT64_MAX;
        for (int b = 0; b < 2; b++) {
            pv_dec_out o;
            o.s = out;
            pv_put_u64((uint8_t *)sec.p + codes_at, bad[b]);
            dec_init(d, &c, PV_ENC_DICT, &sec, &mem);
            assert_int_equal(pv_dec_open(d, &why), 0);
            assert_int_equal(pv_enc_dict.read(d, 0, 100, o, &why), 1);
            assert_string_equal(why, "dictionary code out of range");
        }
        col_free(&c);
    }
    pv_buf_free(&sec);
    pv_buf_free(&mem);
    free(d);
    free(out);
}

/* Runs are filled a fixed 32 slots at a time where the slots stay inside
 * the read (encode_dict.c, RUN_FILL): runs of 1 .. 70 rows, reads ending
 * inside runs and at every distance from a block's end; strings of one
 * length (their cached pages have a stride), of several lengths, and
 * numbers; with and without the block cache. The values must be right
 * and the slots after the read's n untouched (a fill that ran past them
 * would clobber the caller's next values). */
static void check_runs_fill(pv_dec *d, const col *c, pv_str *out, uint32_t slack)
{
    const char *why = "";
    for (uint32_t r0 = 0; r0 < c->n; r0 += 37) {
        for (uint32_t n = 1; n <= PV_BLOCK_ROWS && r0 + n <= c->n; n += n < 80 ? 1 : 97) {
            pv_dec_out o;
            o.s = out;
            memset(out + n, 0xA5, slack * sizeof *out);
            if (pv_enc_dict.read(d, r0, n, o, &why)) fail_msg("read %u+%u: %s", r0, n, why);
            for (uint32_t j = 0; j < n; j++)
                same_value(c, r0 + j, c->type,
                           pv_enc_is_str(c->type) ? (const void *)&out[j]
                                                  : (const void *)&((int64_t *)out)[j]);
            for (uint32_t j = 0; j < slack * sizeof *out; j++)
                if (((const uint8_t *)(out + n))[j] != 0xA5)
                    fail_msg("read %u+%u wrote byte %u past its rows", r0, n, j);
        }
    }
}

static void test_dict_runs_fill(void **state)
{
    static const uint32_t lens[] = {1, 31, 32, 33, 2, 3, 1, 2, 70, 1, 1, 4, 2, 1, 3, 2, 1, 64, 1, 2};
    enum { N = 2500, SLACK = 40 };
    pv_buf sec = PV_BUF_INIT, mem = PV_BUF_INIT;
    pv_dec *d = malloc(sizeof *d);
    pv_str *out = malloc((PV_BLOCK_ROWS + SLACK) * sizeof *out);
    const char *why = "";
    (void)state;
    assert_true(d && out);
    for (int kind = 0; kind < 3; kind++) {
        col c;
        uint32_t k = 0, left = lens[0], li = 0;
        col_new(&c, kind == 2 ? PV_INTEGER : PV_TEXT, N);
        for (uint32_t r = 0; r < N; r++) {
            if (!left) {
                k++;
                li = (li + 1) % (sizeof lens / sizeof lens[0]);
                left = lens[li];
            }
            left--;
            if (kind == 0) set_str(&c, r, "https://example.org/2001/02/03/%02u:%02u", k / 60 % 24, k % 60);
            else if (kind == 1) set_str(&c, r, "https://example.org/item/%05u%.*s", k, (int)(k % 4), "zzzz");
            else c.i[r] = 1000 + 7 * (int64_t)k;
        }
        sec.len = 0;
        assert_int_equal(encode(&c, PV_ENC_DICT, 0, &sec), PV_ENC_DICT);
        assert_int_equal((uint8_t)sec.p[5], PV_ENC_DELTA);
        assert_int_equal(sec.p[4], kind < 2); /* strings front-coded */
        for (int cached = 0; cached < (kind == 2 ? 1 : 2); cached++) {
            pv_blockcache *cache = NULL;
            dec_init(d, &c, PV_ENC_DICT, &sec, &mem);
            if (cached) {
                assert_int_equal(pv_blockcache_new(1 << 20, &cache), PV_OK);
                d->cache = cache;
                d->gen = 1;
                d->chunk = 5;
            }
            assert_int_equal(pv_dec_open(d, &why), 0);
            check_runs_fill(d, &c, out, SLACK);
            if (cached) { /* its pages held: of one length, a stride */
                assert_non_null(d->fc_held);
                assert_non_null(d->fc_held[0].block);
                assert_int_equal(d->fc_held[0].stride, kind == 0 ? 36 + 1 : 0);
            }
            pv_dec_release(d);
            pv_blockcache_free(cache);
        }
        col_free(&c);
    }
    pv_buf_free(&sec);
    pv_buf_free(&mem);
    free(d);
    free(out);
}

/* Read rows [r0, r0 + n) of the dictionary in sec through cache (file
 * generation gen): 0 with the values checked against c, or 1 and why. */
static int read_cached(const col *c, const pv_buf *sec, pv_buf *mem, pv_blockcache *cache,
                       uint64_t gen, uint32_t r0, uint32_t n, uint64_t *ok_word,
                       const char **why)
{
    pv_dec *d = malloc(sizeof *d);
    pv_str *out = malloc(n * sizeof *out);
    pv_dec_out o;
    int rc;
    assert_true(d && out);
    o.s = out;
    dec_init(d, c, PV_ENC_DICT, sec, mem);
    d->cache = cache;
    d->gen = gen;
    d->chunk = 3;
    assert_int_equal(pv_dec_open(d, why), 0);
    rc = pv_enc_dict.read(d, r0, n, o, why);
    for (uint32_t j = 0; rc == 0 && j < n; j++)
        same_value(c, r0 + j, c->type,
                   pv_enc_is_str(c->type) ? (const void *)&out[j] : (const void *)&((int64_t *)out)[j]);
    assert_non_null(d->table_ok);
    *ok_word = __atomic_load_n(d->table_ok, __ATOMIC_RELAXED);
    pv_dec_release(d);
    free(out);
    free(d);
    return rc;
}

/* Through the block cache, the codes of a table of strings or of numbers
 * (FOR, random order) are checked a block at a time: a block is checked
 * on its first read of a quarter block or more and marked in the bitmap
 * every later reader of the chunk shares, which then copies without a
 * compare. A block with a code past the entries is still refused, and
 * not marked, also after the block before it was. */
static void test_dict_codes_checked_once(void **state)
{
    (void)state;
    for (int num = 0; num < 2; num++) {
        pv_buf sec = PV_BUF_INIT, mem = PV_BUF_INIT;
        pv_blockcache *cache;
        const char *why = "";
        uint64_t dlen, codes_at, bits;
        col c;
        col_new(&c, num ? PV_INTEGER : PV_TEXT, 3 * PV_BLOCK_ROWS - 100);
        for (uint32_t r = 0; r < c.n; r++) {
            unsigned k = r * 37 % 100;
            if (num) c.i[r] = 1000 + 3 * (int64_t)k;
            else set_str(&c, r, "v%02u", k);
        }
        assert_int_equal(encode(&c, PV_ENC_DICT, 0, &sec), PV_ENC_DICT);
        assert_int_equal((uint8_t)sec.p[4], 0);          /* not front-coded */
        assert_int_equal((uint8_t)sec.p[5], PV_ENC_FOR); /* the codes */
        assert_int_equal(pv_get_u32((const uint8_t *)sec.p), 100);
        assert_int_equal(pv_blockcache_new(1 << 20, &cache), 0);
        /* a few rows: checked as read, no block marked */
        assert_int_equal(read_cached(&c, &sec, &mem, cache, 1, 5, 10, &bits, &why), 0);
        assert_int_equal(bits, 0);
        /* every row: each block marked, then read again through the marks */
        assert_int_equal(read_cached(&c, &sec, &mem, cache, 1, 0, c.n, &bits, &why), 0);
        assert_int_equal(bits, 7);
        assert_int_equal(read_cached(&c, &sec, &mem, cache, 1, 700, 1500, &bits, &why), 0);
        assert_int_equal(bits, 7);
        /* block 1's FOR reference past the entries: its codes are all out
         * of range (a new file generation: nothing marked yet) */
        dlen = pv_get_u64((const uint8_t *)sec.p + 8);
        codes_at = 16 + ((dlen + 7) & ~(uint64_t)7);
        pv_put_u64((uint8_t *)sec.p + codes_at + PV_FOR_ENTRY, 100);
        assert_int_equal(read_cached(&c, &sec, &mem, cache, 2, 0, PV_BLOCK_ROWS, &bits, &why), 0);
        assert_int_equal(bits, 1);
        assert_int_equal(read_cached(&c, &sec, &mem, cache, 2, 600, 1000, &bits, &why), 1);
        assert_string_equal(why, "dictionary code out of range");
        assert_int_equal(bits, 1);
        assert_int_equal(read_cached(&c, &sec, &mem, cache, 2, 2 * PV_BLOCK_ROWS, 500, &bits, &why), 0);
        assert_int_equal(bits, 5);
        pv_blockcache_free(cache);
        pv_buf_free(&sec);
        pv_buf_free(&mem);
        col_free(&c);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bitpacking),
        cmocka_unit_test(test_int_roundtrips),
        cmocka_unit_test(test_int_chooser),
        cmocka_unit_test(test_linear_size),
        cmocka_unit_test(test_real_and_bool),
        cmocka_unit_test(test_real_bool_chooser),
        cmocka_unit_test(test_string_roundtrips),
        cmocka_unit_test(test_string_chooser),
        cmocka_unit_test(test_crafted_sections),
        cmocka_unit_test(test_dict_codes_checked),
        cmocka_unit_test(test_dict_codes_checked_once),
        cmocka_unit_test(test_settle_refuses_bad_entry),
        cmocka_unit_test(test_delta_runs),
        cmocka_unit_test(test_dict_sorted_runs),
        cmocka_unit_test(test_dict_runs_fill),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    pv_arena_free(&dec_arena);
    return rc;
}
