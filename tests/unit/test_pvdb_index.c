/*
 * test_pvdb_index.c: the baked primary key index and row reads of format 2
 * (docs/BAKE.md 4, 5): pvdb_lookup, pvdb_key_range, pvdb_read_row and
 * pvdb_scan_range on LINEAR, FOR, PLAIN, TEXT and composite keys across
 * many row groups; zone maps per chunk; and the bake itself: byte-identical
 * output whatever the thread count and the cache state, a damaged cache
 * entry ignored, unused entries pruned, rows out of key order refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "encode.h"
#include "pv.h"
#include "pvdb.h"
#include "pvdb_format.h"
#include "schema.h"
#include "util.h"

static char tmpdir[64];

static char *tpath(const char *name)
{
    static char buf[4][256];
    static int n;
    char *p = buf[n++ & 3];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* ---- a table of (k1 [, k2], val TEXT, num INTEGER) ---------------------------------- */

enum { KEY_LINEAR, KEY_GAPS, KEY_RANDOM, KEY_TEXT, KEY_PAIR };

typedef struct table {
    pv_schema *schema;
    uint64_t n;
    int kind;
    pv_vec v[4];
    int64_t *k1, *num;
    pv_str *ks, *val;
    uint8_t *num_nulls;
    char *pool;
    pv_bake_table bt;
} table;

static void table_build(table *t, int kind, uint64_t n)
{
    static const char *const countries[4] = {"de", "fr", "jp", "us"};
    uint32_t key[2] = {0, 1};
    uint64_t r;
    int64_t k = -50;
    int pair = kind == KEY_PAIR, text = kind == KEY_TEXT;
    memset(t, 0, sizeof *t);
    t->kind = kind;
    t->n = n;
    t->schema = pv_schema_new("t", 1);
    assert_non_null(t->schema);
    assert_int_equal(pv_schema_add_column(t->schema, "k1", 2, text || pair ? PV_TEXT : PV_INTEGER, 1), 0);
    if (pair) assert_int_equal(pv_schema_add_column(t->schema, "k2", 2, PV_INTEGER, 1), 0);
    assert_int_equal(pv_schema_add_column(t->schema, "val", 3, PV_TEXT, 0), 0);
    assert_int_equal(pv_schema_add_column(t->schema, "num", 3, PV_INTEGER, 0), 0);
    assert_int_equal(pv_schema_set_pk(t->schema, key, pair ? 2 : 1), 0);
    t->k1 = calloc(n + 1, 8);
    t->num = calloc(n + 1, 8);
    t->ks = calloc(n + 1, sizeof(pv_str));
    t->val = calloc(n + 1, sizeof(pv_str));
    t->num_nulls = calloc(n + 1, 1);
    t->pool = calloc(n + 1, 48);
    assert_true(t->k1 && t->num && t->ks && t->val && t->num_nulls && t->pool);
    for (r = 0; r < n; r++) {
        char *p = t->pool + r * 48;
        switch (kind) {
        case KEY_LINEAR: t->k1[r] = 10 + 2 * (int64_t)r; break;
        case KEY_GAPS: k += 1 + (int64_t)(mix64(r) % 9); t->k1[r] = k; break;
        case KEY_RANDOM: k += 1 + (int64_t)(mix64(r) % ((uint64_t)1 << 40)); t->k1[r] = k; break;
        case KEY_TEXT:
            t->ks[r].n = (size_t)snprintf(p, 24, "key-%08llu", (unsigned long long)(r * 3));
            t->ks[r].p = p;
            break;
        default: /* countries in order, then 1.. within each */
            t->ks[r].p = countries[r * 4 / n];
            t->ks[r].n = 2;
            t->k1[r] = (int64_t)(r - (r * 4 / n) * n / 4) * 5;
            break;
        }
        t->val[r].n = (size_t)snprintf(p + 24, 24, "v%llu", (unsigned long long)(mix64(r) % 1000));
        t->val[r].p = p + 24;
        t->num[r] = (int64_t)(r % 100);
        t->num_nulls[r] = r % 13 == 5;
    }
    r = 0;
    if (text || pair) {
        t->v[r].type = PV_TEXT;
        t->v[r++].u.s = t->ks;
    }
    if (!text) {
        t->v[r].type = PV_INTEGER;
        t->v[r++].u.i = t->k1;
    }
    t->v[r].type = PV_TEXT;
    t->v[r++].u.s = t->val;
    t->v[r].type = PV_INTEGER;
    t->v[r].nulls = t->num_nulls;
    t->v[r].u.i = t->num;
    t->bt.schema = t->schema;
    t->bt.nrows = n;
    t->bt.cols = t->v;
}

static void table_free(table *t)
{
    free(t->k1);
    free(t->num);
    free(t->ks);
    free(t->val);
    free(t->num_nulls);
    free(t->pool);
    pv_schema_free(t->schema);
}

/* The key of row r as values. */
static uint32_t key_of(const table *t, uint64_t r, pv_value *k)
{
    switch (t->kind) {
    case KEY_TEXT: k[0] = pv_v_text(t->ks[r].p, t->ks[r].n); return 1;
    case KEY_PAIR:
        k[0] = pv_v_text(t->ks[r].p, t->ks[r].n);
        k[1] = pv_v_int(t->k1[r]);
        return 2;
    default: k[0] = pv_v_int(t->k1[r]); return 1;
    }
}

static pvdb_file *bake_open(table *t, const char *name, uint32_t rpg)
{
    pvdb_file *f;
    assert_int_equal(pvdb_write_ex(tpath(name), &t->bt, 1, NULL, rpg, 0), 0);
    assert_int_equal(pvdb_open(tpath(name), &f), 0);
    return f;
}

/* Every key found at its row, with the row's values; gaps not found. */
static void check_lookups(pvdb_file *f, const table *t, uint64_t step)
{
    uint32_t ncols = t->schema->ncols, cols[4] = {0, 1, 2, 3}, c;
    pv_buf buf = PV_BUF_INIT;
    uint64_t r, row;
    for (r = 0; r < t->n; r += step) {
        pv_value k[2], out[4];
        uint32_t nk = key_of(t, r, k);
        if (pvdb_lookup(f, 0, k, nk, &row) != 0)
            fail_msg("row %llu not found: %s", (unsigned long long)r, pv_errmsg());
        assert_int_equal(row, r);
        assert_int_equal(pvdb_read_row(f, 0, row, cols, ncols, out, &buf), 0);
        for (c = 0; c < nk; c++) assert_int_equal(pv_value_cmp(&out[c], &k[c]), 0);
        assert_int_equal(out[ncols - 2].type, PV_TEXT);
        assert_int_equal(out[ncols - 2].u.s.n, t->val[r].n);
        assert_memory_equal(out[ncols - 2].u.s.p, t->val[r].p, t->val[r].n);
        if (t->num_nulls[r]) assert_int_equal(out[ncols - 1].type, PV_NULL);
        else assert_int_equal(out[ncols - 1].u.i, t->num[r]);
        /* just after the key, there is no row (keys have gaps) */
        if (t->kind != KEY_TEXT) {
            k[nk - 1].u.i += 1;
            if (t->kind == KEY_GAPS && r + 1 < t->n && t->k1[r + 1] == k[nk - 1].u.i) continue;
            assert_int_equal(pvdb_lookup(f, 0, k, nk, &row), PV_ENOTFOUND);
        }
    }
    pv_buf_free(&buf);
}

static void test_lookup_kinds(void **state)
{
    static const int kinds[] = {KEY_LINEAR, KEY_GAPS, KEY_RANDOM, KEY_TEXT, KEY_PAIR};
    static const uint32_t rpgs[] = {PVDB_ROWS_PER_GROUP, 1000, 77};
    size_t i, g;
    (void)state;
    for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        for (g = 0; g < sizeof rpgs / sizeof rpgs[0]; g++) {
            table t;
            pvdb_file *f;
            pvdb_column_info ci;
            table_build(&t, kinds[i], 5000);
            f = bake_open(&t, "lk.pvdb", rpgs[g]);
            assert_int_equal(pvdb_column_info_get(f, 0, 0, &ci), 0);
            if (kinds[i] == KEY_LINEAR) assert_string_equal(ci.encoding, "linear");
            if (kinds[i] == KEY_GAPS && rpgs[g] > 1024) assert_string_equal(ci.encoding, "for");
            check_lookups(f, &t, rpgs[g] == 77 ? 13 : 7);
            assert_int_equal(pvdb_verify(f), 0);
            pvdb_close(f);
            table_free(&t);
        }
}

static void test_lookup_edges(void **state)
{
    table t;
    pvdb_file *f;
    pv_value k[2];
    uint64_t row, first, end;
    (void)state;
    table_build(&t, KEY_LINEAR, 3000); /* keys 10, 12, .. 6008 */
    f = bake_open(&t, "edge.pvdb", 1000);
    k[0] = pv_v_int(9);
    assert_int_equal(pvdb_lookup(f, 0, k, 1, &row), PV_ENOTFOUND);
    k[0] = pv_v_int(6010);
    assert_int_equal(pvdb_lookup(f, 0, k, 1, &row), PV_ENOTFOUND);
    k[0] = pv_v_int(INT64_MIN);
    assert_int_equal(pvdb_lookup(f, 0, k, 1, &row), PV_ENOTFOUND);
    k[0] = pv_v_int(INT64_MAX);
    assert_int_equal(pvdb_lookup(f, 0, k, 1, &row), PV_ENOTFOUND);
    /* every integer from before the first key to after the last: the
     * even ones at their rows, the odd ones (between two keys, and each
     * group's last key + 1, which is in no group) not found */
    for (int64_t v = 7; v <= 6011; v++) {
        int want = v >= 10 && v <= 6008 && v % 2 == 0;
        k[0] = pv_v_int(v);
        assert_int_equal(pvdb_lookup(f, 0, k, 1, &row), want ? 0 : PV_ENOTFOUND);
        if (want) assert_int_equal(row, (uint64_t)(v - 10) / 2);
    }
    /* a REAL finds an INTEGER key of the same value, as SQL compares */
    k[0] = pv_v_real(2010.0);
    assert_int_equal(pvdb_lookup(f, 0, k, 1, &row), 0);
    assert_int_equal(row, 1000);
    k[0] = pv_v_real(2010.5);
    assert_int_equal(pvdb_lookup(f, 0, k, 1, &row), PV_ENOTFOUND);
    k[0] = pv_v_text("12", 2);
    assert_int_equal(pvdb_lookup(f, 0, k, 1, &row), PV_ENOTFOUND);
    k[0] = pv_v_null();
    assert_int_equal(pvdb_lookup(f, 0, k, 1, &row), PV_ENOTFOUND);
    assert_int_equal(pvdb_lookup(f, 0, k, 2, &row), PV_EMISUSE);
    assert_int_equal(pvdb_lookup(f, 1, k, 1, &row), PV_ERANGE);
    /* ranges: inclusive bounds, missing bounds, empty */
    k[0] = pv_v_int(100);
    k[1] = pv_v_int(2001);
    assert_int_equal(pvdb_key_range(f, 0, &k[0], 1, &k[1], 1, &first, &end), 0);
    assert_int_equal(first, 45);   /* key 100 */
    assert_int_equal(end, 996);    /* keys up to 2000 */
    assert_int_equal(pvdb_key_range(f, 0, NULL, 0, &k[1], 1, &first, &end), 0);
    assert_int_equal(first, 0);
    assert_int_equal(end, 996);
    assert_int_equal(pvdb_key_range(f, 0, &k[0], 1, NULL, 0, &first, &end), 0);
    assert_int_equal(end, 3000);
    assert_int_equal(pvdb_key_range(f, 0, &k[1], 1, &k[0], 1, &first, &end), 0);
    assert_int_equal(first, end);
    k[0] = pv_v_int(-5);
    k[1] = pv_v_int(5);
    assert_int_equal(pvdb_key_range(f, 0, &k[0], 1, &k[1], 1, &first, &end), 0);
    assert_int_equal(end - first, 0);
    /* the same through the source, as the executor calls it */
    {
        pv_source src;
        assert_int_equal(pvdb_table_source(f, 0, &src), 0);
        k[0] = pv_v_int(2010);
        assert_int_equal(pvdb_source_lookup(&src, k, 1, &row), 0);
        assert_int_equal(row, 1000);
        k[1] = pv_v_int(2013);
        assert_int_equal(pvdb_source_key_range(&src, &k[0], 1, &k[1], 1, &first, &end), 0);
        assert_int_equal(first, 1000);
        assert_int_equal(end, 1002);
    }
    pvdb_close(f);
    table_free(&t);
}

/* Rows before the first key >= v (> v when `upper`), by a linear walk. */
static uint64_t ref_bound(const int64_t *k, uint64_t n, int64_t v, int upper)
{
    uint64_t r = 0;
    while (r < n && (upper ? k[r] <= v : k[r] < v)) r++;
    return r;
}

/* Lookup and range of v against the walk over t's keys. */
static void check_probe(pvdb_file *f, const table *t, int64_t v)
{
    pv_value k[2];
    uint64_t row, first, end, lb = ref_bound(t->k1, t->n, v, 0);
    int found = lb < t->n && t->k1[lb] == v;
    k[0] = pv_v_int(v);
    if (pvdb_lookup(f, 0, k, 1, &row) != (found ? 0 : PV_ENOTFOUND))
        fail_msg("key %lld: lookup says %s", (long long)v, found ? "absent" : "present");
    if (found) assert_int_equal(row, lb);
    k[1] = pv_v_int(v);
    assert_int_equal(pvdb_key_range(f, 0, &k[0], 1, &k[1], 1, &first, &end), 0);
    if (first != lb || end != ref_bound(t->k1, t->n, v, 1))
        fail_msg("key %lld: range [%llu, %llu), the walk gives [%llu, %llu)", (long long)v,
                 (unsigned long long)first, (unsigned long long)end, (unsigned long long)lb,
                 (unsigned long long)ref_bound(t->k1, t->n, v, 1));
}

/* The row group search starts from a guess interpolated between the first
 * and last keys (pvdb_index.c, zones_not_below): keys bunched at one end,
 * keys at both ends of the int64 range (their span overflows an int64)
 * and a lone far key must still find every key, miss every gap, and bound
 * ranges as a walk over the keys does. */
static void test_key_search_uneven(void **state)
{
    enum { N = 5000 };
    uint64_t r;
    int shape;
    (void)state;
    for (shape = 0; shape < 3; shape++) {
        table t;
        pvdb_file *f;
        table_build(&t, KEY_GAPS, N);
        for (r = 0; r < N; r++) {
            switch (shape) {
            case 0: /* dense, then a few far apart: guesses land too high */
                t.k1[r] = r < N - 100 ? (int64_t)r * 3 : (int64_t)1000000000000000 + (int64_t)r * 1000000000000;
                break;
            case 1: /* a few far below, then dense: guesses land too low */
                t.k1[r] = r < 100 ? -(int64_t)1000000000000000 + (int64_t)r * 1000000000000 : (int64_t)r * 3;
                break;
            default: /* half at each end of the int64 range */
                t.k1[r] = r < N / 2 ? INT64_MIN + 1 + (int64_t)r * 2 : INT64_MAX - 2 * (int64_t)(N - r);
                break;
            }
        }
        f = bake_open(&t, "uneven.pvdb", 77);
        check_probe(f, &t, INT64_MIN);
        check_probe(f, &t, INT64_MAX);
        for (r = 0; r < N; r++) {
            check_probe(f, &t, t.k1[r]);
            check_probe(f, &t, t.k1[r] - 1);
            check_probe(f, &t, t.k1[r] + 1);
        }
        for (r = 0; r < 2000; r++) { /* anywhere between the first and last keys */
            uint64_t span = (uint64_t)t.k1[N - 1] - (uint64_t)t.k1[0];
            check_probe(f, &t, (int64_t)((uint64_t)t.k1[0] + mix64(r) % span));
        }
        pvdb_close(f);
        table_free(&t);
    }
}

/* Prefix ranges of a composite key across row groups. */
static void test_composite_ranges(void **state)
{
    table t;
    pvdb_file *f;
    pv_value lo[2], hi[2];
    uint64_t first, end;
    (void)state;
    table_build(&t, KEY_PAIR, 4000); /* 1000 rows per country */
    f = bake_open(&t, "pair.pvdb", 300);
    lo[0] = pv_v_text("fr", 2);
    assert_int_equal(pvdb_key_range(f, 0, lo, 1, lo, 1, &first, &end), 0);
    assert_int_equal(first, 1000);
    assert_int_equal(end, 2000);
    lo[1] = pv_v_int(50);
    hi[0] = pv_v_text("jp", 2);
    hi[1] = pv_v_int(25);
    assert_int_equal(pvdb_key_range(f, 0, lo, 2, hi, 2, &first, &end), 0);
    assert_int_equal(first, 1010);
    assert_int_equal(end, 2006);
    hi[0] = pv_v_text("zz", 2);
    assert_int_equal(pvdb_key_range(f, 0, lo, 1, hi, 1, &first, &end), 0);
    assert_int_equal(end, 4000);
    lo[0] = pv_v_text("a", 1);
    hi[0] = pv_v_text("b", 1);
    assert_int_equal(pvdb_key_range(f, 0, lo, 1, hi, 1, &first, &end), 0);
    assert_int_equal(first, 0);
    assert_int_equal(end, 0);
    pvdb_close(f);
    table_free(&t);
}

/* A scan from any row: batches inside one block, the right values. */
static void test_scan_range(void **state)
{
    table t;
    pvdb_file *f;
    pv_source src;
    pv_scan *scan;
    pv_batch b;
    uint32_t cols[2] = {2, 0};
    uint64_t row;
    int n;
    (void)state;
    table_build(&t, KEY_GAPS, 5000);
    f = bake_open(&t, "scan.pvdb", 2048);
    assert_int_equal(pvdb_table_source(f, 0, &src), 0);
    assert_int_equal(pvdb_scan_range(&src, cols, 2, 1000, 4500, 0, &scan), 0);
    row = 1000;
    while ((n = src.ops->scan_next(scan, &b)) > 0) {
        uint32_t r;
        /* never across a block of its row group (groups of 2048 rows) */
        assert_int_equal((row % 2048) / 1024, ((row + b.nrows - 1) % 2048) / 1024);
        for (r = 0; r < b.nrows; r++, row++) {
            assert_int_equal(b.cols[1].u.i[r], t.k1[row]);
            if (t.num_nulls[row]) assert_true(b.cols[0].nulls && b.cols[0].nulls[r]);
            else assert_int_equal(b.cols[0].u.i[r], t.num[row]);
        }
    }
    assert_int_equal(n, 0);
    assert_int_equal(row, 4500);
    src.ops->scan_close(scan);
    assert_int_equal(pvdb_scan_range(&src, cols, 2, 10, 5001, 0, &scan), PV_ERANGE);
    pvdb_close(f);
    table_free(&t);
}

/* Rows [first, end) of table src scanned to the end; the kernel requests
 * (MADV_WILLNEED, one per chunk) it made. */
static unsigned long advised_by(const pv_source *src, uint64_t first, uint64_t end)
{
    uint32_t cols[2] = {2, 0};
    unsigned long before = __atomic_load_n(&pvdb_scan_advised, __ATOMIC_RELAXED);
    pv_scan *scan;
    pv_batch b;
    int n;
    assert_int_equal(pvdb_scan_range(src, cols, 2, first, end, 0, &scan), 0);
    while ((n = src->ops->scan_next(scan, &b)) > 0) {}
    assert_int_equal(n, 0);
    src->ops->scan_close(scan);
    return __atomic_load_n(&pvdb_scan_advised, __ATOMIC_RELAXED) - before;
}

/* A scan asks the kernel for a row group's chunks only when it reads a
 * quarter of the group and more than a batch: a madvise over resident
 * pages still walks them (a third of a 3,000-row range's time); one of
 * 1,100 rows of a 5,000-row group was advised before. */
static void test_scan_advice(void **state)
{
    table t;
    pvdb_file *f;
    pv_source src;
    (void)state;
    table_build(&t, KEY_GAPS, 5000);
    f = bake_open(&t, "advice.pvdb", 5000); /* one row group */
    assert_int_equal(pvdb_table_source(f, 0, &src), 0);
    assert_int_equal(advised_by(&src, 1000, 2100), 0); /* 1,100 rows, a quarter is 1,250 */
    assert_int_equal(advised_by(&src, 1000, 1100), 0);
    /* 1,300 rows: both columns, though the parked scan has the group loaded */
    assert_int_equal(advised_by(&src, 1000, 2300), 2);
    assert_int_equal(advised_by(&src, 0, 5000), 2);
    pvdb_close(f);
    f = bake_open(&t, "advice2.pvdb", 2048); /* groups of 2,048, 2,048, 904 */
    assert_int_equal(pvdb_table_source(f, 0, &src), 0);
    assert_int_equal(advised_by(&src, 0, 5000), 2 * 2); /* the last group: not above a batch */
    assert_int_equal(advised_by(&src, 100, 2048), 2);
    pvdb_close(f);
    table_free(&t);
}

static void test_chunk_zone_maps(void **state)
{
    table t;
    pvdb_file *f;
    pvdb_chunk_info k;
    uint32_t g;
    (void)state;
    table_build(&t, KEY_GAPS, 5000);
    f = bake_open(&t, "zone.pvdb", 1000);
    assert_int_equal(pvdb_group_count(f, 0), 5);
    for (g = 0; g < 5; g++) {
        assert_int_equal(pvdb_chunk_info_get(f, 0, g, 0, &k), 0);
        assert_int_equal(k.first_row, g * 1000);
        assert_int_equal(k.rows, 1000);
        assert_true(k.has_minmax);
        assert_int_equal(k.min.u.i, t.k1[g * 1000]);
        assert_int_equal(k.max.u.i, t.k1[g * 1000 + 999]);
        assert_int_equal(pvdb_chunk_info_get(f, 0, g, 2, &k), 0); /* num */
        assert_int_equal(k.min.u.i, 0);
        assert_int_equal(k.max.u.i, 99);
        assert_true(k.nulls > 0);
    }
    assert_int_equal(pvdb_chunk_info_get(f, 0, 5, 0, &k), PV_ERANGE);
    pvdb_close(f);
    table_free(&t);
}

/* ---- the bake: threads, cache, order ------------------------------------------------------ */

static uint8_t *slurp(const char *path, size_t *n)
{
    char *p;
    assert_int_equal(pv_read_file(path, (size_t)1 << 30, &p, n), 0);
    return (uint8_t *)p;
}

static void same_file(const char *a, const char *b)
{
    size_t an, bn;
    uint8_t *x = slurp(a, &an), *y = slurp(b, &bn);
    assert_int_equal(an, bn);
    assert_memory_equal(x, y, an);
    free(x);
    free(y);
}

static size_t count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t n = 0;
    assert_non_null(d);
    while ((e = readdir(d)) != NULL) n += strlen(e->d_name) == 32;
    closedir(d);
    return n;
}

static void test_bake_threads_and_cache(void **state)
{
    table t, u;
    pv_bake_opts o = PV_BAKE_OPTS_INIT;
    pv_bake_stats st;
    pv_bake_info info = {"worktree", "test"};
    char *cache = strdup(tpath("cache/bake"));
    unsigned threads[3] = {1, 4, 2};
    int i;
    (void)state;
    table_build(&t, KEY_GAPS, 20000);
    o.rows_per_group = 3000;
    o.stats = &st;
    for (i = 0; i < 3; i++) { /* no cache, any thread count: the same bytes */
        char name[32];
        o.threads = threads[i];
        snprintf(name, sizeof name, "thr%d.pvdb", i);
        assert_int_equal(pv_bake_write_opts(tpath(name), &t.bt, 1, &info, &o), 0);
        if (i) same_file(tpath("thr0.pvdb"), tpath(name));
    }
    assert_int_equal(st.chunks, 7 * 3);
    assert_int_equal(st.cache_hits, 0);
    o.cache_dir = cache; /* cold, then warm: the same bytes again */
    assert_int_equal(pv_bake_write_opts(tpath("c1.pvdb"), &t.bt, 1, &info, &o), 0);
    assert_int_equal(st.cache_hits, 0);
    assert_int_equal(count_entries(cache), 21);
    assert_int_equal(pv_bake_write_opts(tpath("c2.pvdb"), &t.bt, 1, &info, &o), 0);
    assert_int_equal(st.cache_hits, 21);
    same_file(tpath("thr0.pvdb"), tpath("c1.pvdb"));
    same_file(tpath("thr0.pvdb"), tpath("c2.pvdb"));
    /* one changed value: one chunk encoded again */
    t.num[4500] = 7777;
    t.num_nulls[4500] = 0;
    assert_int_equal(pv_bake_write_opts(tpath("c3.pvdb"), &t.bt, 1, &info, &o), 0);
    assert_int_equal(st.cache_hits, 20);
    o.cache_dir = NULL;
    assert_int_equal(pv_bake_write_opts(tpath("c4.pvdb"), &t.bt, 1, &info, &o), 0);
    same_file(tpath("c3.pvdb"), tpath("c4.pvdb"));
    /* damaged entries are misses, not errors, and the result is the same */
    {
        DIR *d = opendir(cache);
        struct dirent *e;
        int n = 0;
        assert_non_null(d);
        while ((e = readdir(d)) != NULL && n < 5) {
            char p[512];
            FILE *fp;
            if (strlen(e->d_name) != 32) continue;
            snprintf(p, sizeof p, "%s/%s", cache, e->d_name);
            fp = fopen(p, n % 2 ? "r+b" : "wb"); /* truncate, or flip a byte */
            assert_non_null(fp);
            if (n % 2) {
                fseek(fp, 60, SEEK_SET);
                fputc(0x5a, fp);
            }
            fclose(fp);
            n++;
        }
        closedir(d);
    }
    o.cache_dir = cache;
    assert_int_equal(pv_bake_write_opts(tpath("c5.pvdb"), &t.bt, 1, &info, &o), 0);
    assert_true(st.cache_hits >= 15 && st.cache_hits < 21);
    same_file(tpath("c3.pvdb"), tpath("c5.pvdb"));
    /* another table: the old entries are pruned */
    table_build(&u, KEY_LINEAR, 100);
    assert_int_equal(pv_bake_write_opts(tpath("c6.pvdb"), &u.bt, 1, &info, &o), 0);
    assert_int_equal(count_entries(cache), 3);
    table_free(&u);
    table_free(&t);
    free(cache);
}

static void test_bake_refuses_bad_order(void **state)
{
    table t;
    (void)state;
    table_build(&t, KEY_LINEAR, 100);
    t.k1[50] = t.k1[49]; /* a duplicate key */
    assert_int_equal(pv_bake_write(tpath("dup.pvdb"), &t.bt, 1, NULL), PV_EMISUSE);
    t.k1[50] = t.k1[49] - 1; /* out of order */
    assert_int_equal(pv_bake_write(tpath("dup.pvdb"), &t.bt, 1, NULL), PV_EMISUSE);
    assert_int_equal(access(tpath("dup.pvdb"), F_OK), -1);
    table_free(&t);
    table_build(&t, KEY_PAIR, 100);
    t.k1[30] = t.k1[29];
    assert_int_equal(pv_bake_write(tpath("dup.pvdb"), &t.bt, 1, NULL), PV_EMISUSE);
    table_free(&t);
}

static int setup(void **state)
{
    (void)state;
    strcpy(tmpdir, "/tmp/pv-test-index-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    if (getenv("PV_TEST_KEEP")) return 0;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup_kinds),
        cmocka_unit_test(test_lookup_edges),
        cmocka_unit_test(test_key_search_uneven),
        cmocka_unit_test(test_composite_ranges),
        cmocka_unit_test(test_scan_range),
        cmocka_unit_test(test_scan_advice),
        cmocka_unit_test(test_chunk_zone_maps),
        cmocka_unit_test(test_bake_threads_and_cache),
        cmocka_unit_test(test_bake_refuses_bad_order),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
