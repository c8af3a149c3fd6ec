/*
 * test_window.c: windowed decodes equal full decodes. A range scan reads
 * only the rows of its window: bit-packed values from the first one asked
 * (not the block's first), FOR's reference added while unpacking, DELTA's
 * prefix summed up to the window. Every such read must give what a read of
 * whole blocks gives, for every encoding and every packed width, at block
 * and row-group edges, the first and last row, with NULLs anywhere:
 *
 *   - the unpacking loops (encode_pack.c) against the value-at-a-time
 *     pv_unpack1, for every width 0..64 and every start and length around
 *     the groups of eight, over buffers of exactly the packed length (so
 *     that ASan sees any load past the words);
 *   - each encoder's read() of windows against its read() of whole blocks
 *     and against the data, on columns whose blocks take every width;
 *   - range queries on a baked file against the same queries on its
 *     workspace, at the edges of blocks and row groups.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encode_stream.h"
#include "pv.h"
#include "test_pair_util.h"
#include "util.h"

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

static uint64_t wmask(unsigned w) { return w >= 64 ? ~0ull : (1ull << w) - 1; }

/* ---- the unpacking loops ----------------------------------------------------------- */

static void unpack_every_width(void)
{
    enum { N = 200 };
    uint64_t x[N], got[N];
    unsigned w;
    for (w = 0; w <= 64; w++) {
        uint32_t j0, m, j;
        for (j = 0; j < N; j++) x[j] = mix64(j * 977 + w) & wmask(w);
        for (j0 = 0; j0 < 70; j0++) {
            for (m = 0; j0 + m <= N && m < 90; m++) {
                /* exactly the words values [0, j0 + m) occupy: a load past
                 * them is an ASan error */
                size_t len = (size_t)pv_packed_len(j0 + m, w);
                uint8_t *q = malloc(len ? len : 1);
                uint64_t ref = mix64(w * 131 + j0), sum = 0;
                assert_non_null(q);
                memset(q, 0, len);
                pv_pack_bits(q, x, j0 + m, w);
                pv_unpack_ref(q, j0, m, w, ref, got);
                for (j = 0; j < m; j++) {
                    if (got[j] != x[j0 + j] + ref)
                        fail_msg("width %u, values [%u, %u): value %u differs", w, j0, j0 + m,
                                 j0 + j);
                    sum += x[j0 + j];
                }
                pv_unpack(q, j0, m, w, got);
                assert_memory_equal(got, x + j0, (size_t)m * 8);
                assert_true(pv_packed_sum(q, j0, m, w) == sum);
                free(q);
            }
        }
    }
}

/* Both loops: the vector one where the CPU has AVX2, then the scalar. */
static void test_unpack_every_width(void **state)
{
    (void)state;
    unpack_every_width();
    pv_unpack_scalar = 1;
    unpack_every_width();
    pv_unpack_scalar = 0;
}

/* ---- each encoder ------------------------------------------------------------------- */

#define BLOCKS 66 /* block k of a column packs k % 65 bits (0 .. 64) */

typedef struct col {
    int type;
    uint32_t n;
    uint8_t *nulls;
    int64_t *i; /* INTEGER, BOOLEAN; REAL as bits */
    pv_str *s;
    char *pool;
} col;

static void col_new(col *c, int type, uint32_t n, int with_nulls)
{
    uint32_t r;
    memset(c, 0, sizeof *c);
    c->type = type;
    c->n = n;
    c->i = calloc(n + 1, 8);
    c->s = calloc(n + 1, sizeof *c->s);
    c->pool = calloc((size_t)n + 1, 24);
    c->nulls = calloc(n + 1, 1);
    assert_true(c->i && c->s && c->pool && c->nulls);
    for (r = 0; with_nulls && r < n; r++) /* scattered, and runs at block edges */
        c->nulls[r] = mix64(r) % 11 == 0 || (r % 1024 >= 1020) || r % 1024 < 3;
}

static void col_free(col *c)
{
    free(c->nulls);
    free(c->i);
    free(c->s);
    free(c->pool);
}

/* Block k's values span k % 65 bits above a base: FOR packs them in that
 * width; `sorted` makes them a running sum whose deltas do (DELTA). */
static void fill_widths(col *c, int sorted)
{
    uint64_t v = 12345;
    uint32_t r;
    for (r = 0; r < c->n; r++) {
        unsigned w = (r >> PV_BLOCK_SHIFT) % 65;
        uint64_t x = mix64(r * 7 + 1) & wmask(w);
        if ((r & 1023) == 5) x = wmask(w); /* the width is reached */
        if ((r & 1023) == 6) x = 0;
        if (sorted) v += x;
        else v = 0x4000 * (uint64_t)(r >> PV_BLOCK_SHIFT) + x;
        c->i[r] = c->nulls[r] ? 0 : (int64_t)v;
    }
}

static void fill_strings(col *c, unsigned distinct)
{
    uint32_t r;
    for (r = 0; r < c->n; r++) {
        char *p = c->pool + (size_t)r * 24;
        if (c->nulls[r]) {
            c->s[r].p = "";
            continue;
        }
        c->s[r].n = (size_t)snprintf(p, 24, "v%06u", (unsigned)(mix64(r / 3) % distinct));
        c->s[r].p = p;
    }
}

static pv_enc_in input(const col *c)
{
    pv_enc_in in;
    uint32_t r;
    memset(&in, 0, sizeof in);
    in.v.type = c->type;
    in.v.nulls = c->nulls;
    if (c->type == PV_REAL) in.v.u.f = (const double *)(const void *)c->i;
    else if (pv_enc_is_str(c->type)) in.v.u.s = c->s;
    else in.v.u.i = c->i;
    in.nrows = c->n;
    in.flags = PV_ENC_NO_ZSTD;
    for (r = 0; r < c->n; r++) in.null_count += c->nulls[r];
    return in;
}

/* Encode with encoder `id` into *sec: 0, or 1 when it cannot hold c. */
static int encode(const col *c, unsigned id, pv_buf *sec)
{
    pv_enc_ctx ctx = PV_ENC_CTX_INIT;
    pv_enc_in in = input(c);
    const pv_encoder *e = pv_encoder_get(id);
    uint64_t size;
    int rc;
    assert_int_equal(pv_enc_prepare(&ctx, &in), 0);
    rc = e->plan(&ctx, &in, &size);
    if (rc == PV_ENC_UNSUITABLE) {
        pv_enc_ctx_free(&ctx);
        return 1;
    }
    assert_int_equal(rc, 0);
    sec->len = 0;
    assert_int_equal(pv_buf_zeros(sec, (size_t)size), 0);
    assert_int_equal(e->write(&ctx, &in, (uint8_t *)sec->p), 0);
    pv_enc_ctx_free(&ctx);
    return 0;
}

typedef union vals {
    int64_t i[PV_BLOCK_ROWS];
    pv_str s[PV_BLOCK_ROWS];
} vals;

/* Is row r of the window equal to row r of the whole-block read (and to
 * the data)? */
static void same_row(const col *c, uint32_t r, const vals *win, uint32_t wr, const vals *full,
                     const char *what)
{
    if (c->nulls[r]) return;
    if (pv_enc_is_str(c->type)) {
        const pv_str *a = &win->s[wr], *b = &full->s[r & (PV_BLOCK_ROWS - 1)];
        if (a->n != b->n || a->n != c->s[r].n || (a->n && memcmp(a->p, c->s[r].p, a->n)) ||
            (b->n && memcmp(b->p, c->s[r].p, b->n)))
            fail_msg("%s: row %u: window and block reads differ", what, r);
    } else if (win->i[wr] != full->i[r & (PV_BLOCK_ROWS - 1)] || win->i[wr] != c->i[r]) {
        fail_msg("%s: row %u: window %lld, block %lld, data %lld", what, r,
                 (long long)win->i[wr], (long long)full->i[r & (PV_BLOCK_ROWS - 1)],
                 (long long)c->i[r]);
    }
}

/* Every window [r0, r0 + n) inside block b that starts or ends at an edge
 * of the block or of a group of eight, read alone, against the block read
 * whole. Decoders may keep state between reads (a decoded block, a
 * dictionary page): windows go both forwards and back. */
static void windows_of_block(const col *c, const pv_encoder *e, pv_dec *d, uint32_t b,
                             const char *what)
{
    static const uint32_t edges[] = {0, 1, 2, 7, 8, 9, 15, 16, 17, 63, 64, 65, 500, 1015,
                                     1016, 1017, 1022, 1023, 1024};
    vals *full = malloc(sizeof *full), *win = malloc(sizeof *win);
    uint32_t first = b * PV_BLOCK_ROWS, len = c->n - first, i, k, j;
    const char *why = "";
    pv_dec_out o;
    assert_true(full && win);
    if (len > PV_BLOCK_ROWS) len = PV_BLOCK_ROWS;
    o.i = full->i;
    if (e->read(d, first, len, o, &why)) fail_msg("%s: block %u: %s", what, b, why);
    o.i = win->i;
    for (i = 0; i < sizeof edges / sizeof *edges; i++) {
        for (k = 0; k < sizeof edges / sizeof *edges; k++) {
            uint32_t lo = edges[i], hi = edges[k];
            if (lo >= hi || hi > len) continue;
            if (e->read(d, first + lo, hi - lo, o, &why))
                fail_msg("%s: rows [%u, %u): %s", what, first + lo, first + hi, why);
            for (j = lo; j < hi; j++) same_row(c, first + j, win, j - lo, full, what);
        }
    }
    free(full);
    free(win);
}

/* Windows that cross a block edge (integer encodings read across blocks). */
static void windows_across(const col *c, const pv_encoder *e, pv_dec *d, const char *what)
{
    vals *win = malloc(sizeof *win);
    uint32_t b, j;
    const char *why = "";
    pv_dec_out o;
    assert_non_null(win);
    o.i = win->i;
    for (b = 1; b * PV_BLOCK_ROWS < c->n; b++) {
        uint32_t lo = b * PV_BLOCK_ROWS - 9, n = c->n - lo < 1000 ? c->n - lo : 1000;
        if (e->read(d, lo, n, o, &why)) fail_msg("%s: rows [%u, +%u): %s", what, lo, n, why);
        for (j = 0; j < n; j++)
            if (!c->nulls[lo + j] && win->i[j] != c->i[lo + j])
                fail_msg("%s: row %u across block %u differs", what, lo + j, b);
    }
    free(win);
}

static void check_encoder(const col *c, unsigned id, const char *shape)
{
    static uint64_t tmp[PV_BLOCK_ROWS];
    const pv_encoder *e = pv_encoder_get(id);
    pv_buf sec = PV_BUF_INIT, mem = PV_BUF_INIT;
    pv_arena arena = PV_ARENA_INIT;
    pv_dec *d = calloc(1, sizeof *d);
    const char *why = "";
    char what[96];
    uint32_t b, r;
    assert_non_null(d);
    if (encode(c, id, &sec)) {
        free(d);
        return;
    }
    snprintf(what, sizeof what, "%s on %s", e->name, shape);
    d->tmp = tmp;
    d->arena = &arena;
    d->mem = &mem;
    d->type = c->type;
    d->nrows = c->n;
    for (r = 0; r < c->n; r++) d->null_count += c->nulls[r];
    d->enc = (uint8_t)id;
    d->p = (const uint8_t *)sec.p;
    d->n = sec.len;
    if (pv_dec_open(d, &why)) fail_msg("%s: open: %s", what, why);
    for (b = 0; b * PV_BLOCK_ROWS < c->n; b++) windows_of_block(c, e, d, b, what);
    for (b = (c->n - 1) >> PV_BLOCK_SHIFT; b > 0; b -= b > 3 ? 3 : b) /* backwards */
        windows_of_block(c, e, d, b, what);
    if (!pv_enc_is_str(c->type)) windows_across(c, e, d, what);
    pv_dec_release(d);
    pv_arena_free(&arena);
    pv_buf_free(&sec);
    pv_buf_free(&mem);
    free(d);
}

static void check_all_encoders(const col *c, const char *shape)
{
    unsigned id;
    for (id = 0; id < PV_ENC_COUNT; id++)
        if (pv_encoder_get(id) && (pv_encoder_get(id)->types & PV_T(c->type)))
            check_encoder(c, id, shape);
}

static void test_integer_windows(void **state)
{
    /* 65 widths, then a partial last block */
    uint32_t n = BLOCKS * PV_BLOCK_ROWS + 77;
    int nulls, sorted;
    (void)state;
    for (nulls = 0; nulls < 2; nulls++) {
        for (sorted = 0; sorted < 2; sorted++) {
            col c;
            char shape[64];
            col_new(&c, PV_INTEGER, n, nulls);
            fill_widths(&c, sorted);
            snprintf(shape, sizeof shape, "%s widths 0..64%s", sorted ? "sorted" : "blocked",
                     nulls ? " with NULLs" : "");
            check_all_encoders(&c, shape);
            col_free(&c);
        }
    }
}

static void test_other_windows(void **state)
{
    uint32_t n = 5 * PV_BLOCK_ROWS + 300, r;
    int nulls;
    (void)state;
    for (nulls = 0; nulls < 2; nulls++) {
        col c;
        col_new(&c, PV_INTEGER, n, nulls); /* few distinct: dictionary codes, RLE */
        for (r = 0; r < n; r++) c.i[r] = c.nulls[r] ? 0 : (int64_t)(mix64(r / 5) % 300) - 100;
        check_all_encoders(&c, "few distinct integers");
        for (r = 0; r < n; r++) c.i[r] = c.nulls[r] ? 0 : (int64_t)(r / 700); /* runs */
        check_all_encoders(&c, "runs");
        col_free(&c);
        col_new(&c, PV_REAL, n, nulls);
        for (r = 0; r < n; r++) {
            double f = (double)(mix64(r / 2) % 1000) / 8.0;
            if (!c.nulls[r]) memcpy(&c.i[r], &f, 8);
        }
        check_all_encoders(&c, "reals");
        col_free(&c);
        col_new(&c, PV_BOOLEAN, n, nulls);
        for (r = 0; r < n; r++) c.i[r] = c.nulls[r] ? 0 : (int64_t)(mix64(r) & 1);
        check_all_encoders(&c, "booleans");
        col_free(&c);
        col_new(&c, PV_TEXT, n, nulls);
        fill_strings(&c, 400); /* front-coded dictionary, codes of 9 bits */
        check_all_encoders(&c, "text");
        fill_strings(&c, 3);
        check_all_encoders(&c, "three strings");
        col_free(&c);
    }
}

/* ---- range queries on a baked file ------------------------------------------------------ */

#define TROWS 7000 /* row groups of 3000 rows: blocks at 0, 1024, 2048 of each */

/* a: wide random (FOR), d: increasing (DELTA-friendly), c: few distinct
 * (dictionary), s: text, f: real, b: boolean; NULLs in each, and a run of
 * them around a block edge */
static void w_row(pv_buf *b, int i, void *ctx)
{
    uint64_t h = mix64((uint64_t)i);
    (void)ctx;
    if (h % 9 == 0 || (i >= 1020 && i < 1030))
        pv_buf_printf(b, "(%d, NULL, NULL, NULL, NULL, NULL, NULL)", i + 1);
    else
        pv_buf_printf(b, "(%d, %lld, %d, %d, 's%03d', %d.25, %d)", i + 1, (long long)(h % 2000000) - 1000000,
                      i * 3 + (int)(h % 3), (int)(h % 37), (int)(h % 250), (int)(h % 1000), (int)(h & 1));
}

static void fill_table(pv_db *db)
{
    exec_ok(db, "CREATE TABLE w (id INTEGER PRIMARY KEY, a INTEGER, d INTEGER, c INTEGER, "
                "s TEXT, f REAL, b BOOLEAN)");
    exec_ok(db, "BEGIN");
    insert_rows(db, "w", TROWS, w_row, NULL);
    exec_ok(db, "COMMIT");
}

static int setup(void **state) { return setup_pair(state, fill_table, 3000); }
static int teardown(void **state) { return teardown_pair(state); }

static void same(pair_fixture *f, const char *sql)
{
    int rc1, rc2;
    char *a = query(f->ws.db, sql, &rc1), *b = query(f->pdb, sql, &rc2);
    if (rc1 < 0 || rc2 < 0) fail_msg("%s: %d / %d %s", sql, rc1, rc2, pv_errmsg());
    if (strcmp(a, b)) fail_msg("%s:\n--- workspace\n%s--- pvdb\n%s", sql, a, b);
    free(a);
    free(b);
}

static void test_pvdb_windows(void **state)
{
    /* rows are id - 1: edges of blocks (1024, 2048 in a group) and of row
     * groups (3000, 6000), the first and the last row */
    static const int edges[] = {0, 1, 7, 8, 1016, 1023, 1024, 1025, 2047, 2048, 2999, 3000,
                                3001, 4023, 4024, 5999, 6000, 6001, 6999, 7000};
    static const int lens[] = {1, 2, 8, 9, 1000, 1024, 1025, 3001};
    pair_fixture *f = *state;
    char sql[160];
    size_t i, k;
    for (i = 0; i < sizeof edges / sizeof *edges; i++) {
        for (k = 0; k < sizeof lens / sizeof *lens; k++) {
            int lo = edges[i] + 1 - (k % 2 ? 0 : lens[k] / 2), hi = lo + lens[k] - 1;
            snprintf(sql, sizeof sql, "SELECT * FROM w WHERE id BETWEEN %d AND %d", lo, hi);
            same(f, sql);
            snprintf(sql, sizeof sql, "SELECT id, s, a FROM w WHERE id >= %d AND id < %d", lo,
                     hi);
            same(f, sql);
        }
    }
    same(f, "SELECT * FROM w WHERE id BETWEEN 1 AND 7000");
    same(f, "SELECT * FROM w WHERE id BETWEEN 6990 AND 8000");
    /* LIMIT and OFFSET inside and across batches read in place */
    same(f, "SELECT * FROM w WHERE id BETWEEN 1000 AND 5000 LIMIT 5 OFFSET 20");
    same(f, "SELECT * FROM w WHERE id BETWEEN 1000 AND 5000 LIMIT 1030 OFFSET 1");
    same(f, "SELECT id, s FROM w WHERE id BETWEEN 10 AND 5000 LIMIT 2100");
    same(f, "SELECT * FROM w LIMIT 3 OFFSET 2998");
}

/* A prepared range run many times (the scan is parked and taken back
 * between runs, across row groups and back), each run against a fresh
 * statement's answer. */
static void test_pvdb_rerun(void **state)
{
    pair_fixture *f = *state;
    pv_stmt *st;
    int i;
    assert_int_equal(pv_prepare(f->pdb, "SELECT * FROM w WHERE id BETWEEN ? AND ?", (size_t)-1,
                                &st, NULL), 0);
    for (i = 0; i < 40; i++) {
        int lo = (int)(mix64((uint64_t)i + 99) % TROWS), hi = lo + (i % 3 ? 999 : 20);
        char sql[128], *want;
        pv_buf got = PV_BUF_INIT;
        int rc, c;
        snprintf(sql, sizeof sql, "SELECT * FROM w WHERE id BETWEEN %d AND %d", lo, hi);
        want = query(f->ws.db, sql, &rc);
        assert_true(rc >= 0);
        assert_int_equal(pv_reset(st), 0);
        assert_int_equal(pv_bind_int64(st, 1, lo), 0);
        assert_int_equal(pv_bind_int64(st, 2, hi), 0);
        if (i % 5 == 4) { /* a run abandoned inside its first batch */
            assert_int_equal(pv_bind_int64(st, 1, hi - 500), 0);
            assert_int_equal(pv_step(st), PV_ROW);
            assert_int_equal(pv_step(st), PV_ROW);
            assert_int_equal(pv_reset(st), 0);
            assert_int_equal(pv_bind_int64(st, 1, lo), 0);
        }
        while ((rc = pv_step(st)) == PV_ROW) {
            for (c = 0; c < pv_column_count(st); c++) {
                const char *t = pv_column_text(st, c);
                pv_buf_printf(&got, "%s%s", c ? "|" : "", t ? t : "");
            }
            pv_buf_putc(&got, '\n');
        }
        assert_int_equal(rc, PV_DONE);
        pv_buf_putc(&got, 0);
        if (strcmp(want, got.p)) fail_msg("%s:\n--- workspace\n%s--- stmt\n%s", sql, want, got.p);
        free(want);
        pv_buf_free(&got);
    }
    pv_finalize(st);
}

int main(void)
{
    const struct CMUnitTest codec[] = {
        cmocka_unit_test(test_unpack_every_width),
        cmocka_unit_test(test_integer_windows),
        cmocka_unit_test(test_other_windows),
    };
    const struct CMUnitTest pvdb[] = {
        cmocka_unit_test(test_pvdb_windows),
        cmocka_unit_test(test_pvdb_rerun),
    };
    int rc = cmocka_run_group_tests_name("windowed decodes", codec, NULL, NULL);
    return rc | cmocka_run_group_tests_name("range windows on a .pvdb", pvdb, setup, teardown);
}
