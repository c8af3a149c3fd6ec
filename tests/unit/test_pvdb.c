/*
 * test_pvdb.c: the `.pvdb` writer and reader (docs/FORMAT.md part 3):
 * round trips of every type and NULL pattern, the encoding chooser,
 * compression, reproducibility, and damaged or crafted files (truncated at
 * every offset, every header and directory byte flipped, fields rewritten
 * with valid checksums, chunk payloads rewritten), which must give an
 * error and never a crash (the suite also runs under ASan/UBSan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "batch.h"
#include "encode.h"
#include "pv.h"
#include "pvdb.h"
#include "pvdb_format.h"
#include "pvdb_impl.h"
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

/* ---- the fixture: one table with every type and NULL pattern ---------------- */

#define NCOLS 10
static const struct {
    const char *name;
    int type;
    int not_null;
} fx_cols[NCOLS] = {
    {"id", PV_INTEGER, 1},        /* primary key */
    {"small", PV_INTEGER, 0},     /* low cardinality, some NULLs: dict */
    {"big", PV_INTEGER, 0},       /* random, no NULLs: plain */
    {"real", PV_REAL, 0},         /* -0.0, inf, NaN, NULLs */
    {"text", PV_TEXT, 0},         /* NULL vs '' vs non-ASCII */
    {"blob", PV_BLOB, 0},         /* zero bytes inside, empty */
    {"flag", PV_BOOLEAN, 0},
    {"all_null", PV_TEXT, 0},     /* every row NULL */
    {"country", PV_TEXT, 1},      /* NOT NULL, low cardinality, has '' */
    {"nothing", PV_INTEGER, 0},   /* every row NULL */
};
static const char *const countries[5] = {"France", "Deutschland", "\xe6\x97\xa5\xe6\x9c\xac",
                                         "\xce\x95\xce\xbb\xce\xbb\xce\xac\xce\xb4\xce\xb1", ""};

typedef struct fixture {
    pv_schema *schema;
    uint64_t nrows;
    pv_vec vecs[NCOLS];
    uint8_t *nulls[NCOLS];
    int64_t *ivals[NCOLS];
    double *fvals[NCOLS];
    pv_str *svals[NCOLS];
    char *pool;
    pv_bake_table bt;
} fixture;

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The value of column c at row r; strings are written to buf (64 bytes). */
static pv_value fx_expect(uint32_t c, uint64_t r, char *buf)
{
    size_t i, n;
    switch (c) {
    case 0: return pv_v_int((int64_t)r * 3 - 1000);
    case 1: return r % 7 == 3 ? pv_v_null() : pv_v_int((int64_t)(r % 5) - 2);
    case 2: return pv_v_int((int64_t)mix64(r));
    case 3:
        if (r % 3 == 0) return pv_v_null();
        switch (r % 10) {
        case 1: return pv_v_real(-0.0);
        case 2: return pv_v_real(INFINITY);
        case 4: return pv_v_real(-1e300);
        case 5: return pv_v_real(NAN);
        default: return pv_v_real((double)r * 0.25);
        }
    case 4:
        if (r % 4 == 0) return pv_v_null();
        if (r % 4 == 1) return pv_v_text("", 0);
        n = (size_t)snprintf(buf, 64, "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 %llu",
                             (unsigned long long)r);
        return pv_v_text(buf, n);
    case 5:
        if (r % 6 == 0) return pv_v_null();
        n = r % 9;
        for (i = 0; i < n; i++) buf[i] = (char)(r * 7 + i);
        return pv_v_blob(buf, n);
    case 6: return r % 11 == 0 ? pv_v_null() : pv_v_bool((int)(r % 2));
    case 7: return pv_v_null();
    case 8: return pv_v_text(countries[r % 5], strlen(countries[r % 5]));
    default: return pv_v_null();
    }
}

static pv_schema *fx_schema(const char *name)
{
    pv_schema *s = pv_schema_new(name, strlen(name));
    uint32_t c, key = 0;
    assert_non_null(s);
    for (c = 0; c < NCOLS; c++)
        assert_int_equal(pv_schema_add_column(s, fx_cols[c].name, strlen(fx_cols[c].name),
                                              fx_cols[c].type, fx_cols[c].not_null), 0);
    assert_int_equal(pv_schema_set_pk(s, &key, 1), 0);
    return s;
}

static void fx_build(fixture *fx, const char *name, uint64_t nrows)
{
    uint32_t c;
    uint64_t r;
    memset(fx, 0, sizeof *fx);
    fx->schema = fx_schema(name);
    fx->nrows = nrows;
    fx->pool = malloc(NCOLS * (nrows + 1) * 64);
    assert_non_null(fx->pool);
    for (c = 0; c < NCOLS; c++) {
        pv_vec *v = &fx->vecs[c];
        v->type = fx_cols[c].type;
        fx->nulls[c] = calloc(nrows + 1, 1);
        fx->ivals[c] = calloc(nrows + 1, 8);
        fx->fvals[c] = calloc(nrows + 1, 8);
        fx->svals[c] = calloc(nrows + 1, sizeof(pv_str));
        assert_true(fx->nulls[c] && fx->ivals[c] && fx->fvals[c] && fx->svals[c]);
        for (r = 0; r < nrows; r++) {
            char *buf = fx->pool + (c * (nrows + 1) + r) * 64;
            pv_value val = fx_expect(c, r, buf);
            if (val.type == PV_NULL) {
                fx->nulls[c][r] = 1;
                fx->svals[c][r].p = "garbage"; /* a NULL slot holds anything */
                fx->svals[c][r].n = 7;
                fx->ivals[c][r] = 12345;
            } else if (val.type == PV_REAL) {
                fx->fvals[c][r] = val.u.f;
            } else if (val.type == PV_TEXT || val.type == PV_BLOB) {
                fx->svals[c][r] = val.u.s;
            } else {
                fx->ivals[c][r] = val.u.i;
            }
        }
        v->nulls = fx_cols[c].not_null ? NULL : fx->nulls[c];
        if (v->type == PV_REAL) v->u.f = fx->fvals[c];
        else if (v->type == PV_TEXT || v->type == PV_BLOB) v->u.s = fx->svals[c];
        else v->u.i = fx->ivals[c];
    }
    fx->bt.schema = fx->schema;
    fx->bt.nrows = nrows;
    fx->bt.cols = fx->vecs;
}

static void fx_free(fixture *fx)
{
    uint32_t c;
    for (c = 0; c < NCOLS; c++) {
        free(fx->nulls[c]);
        free(fx->ivals[c]);
        free(fx->fvals[c]);
        free(fx->svals[c]);
    }
    free(fx->pool);
    pv_schema_free(fx->schema);
}

static void check_value(pv_value got, pv_value want, uint32_t c, uint64_t r)
{
    if (got.type != want.type)
        fail_msg("column %u row %llu: type %d, want %d", c, (unsigned long long)r, got.type,
                 want.type);
    switch (want.type) {
    case PV_NULL: break;
    case PV_REAL: assert_memory_equal(&got.u.f, &want.u.f, 8); break;
    case PV_TEXT:
    case PV_BLOB:
        assert_int_equal(got.u.s.n, want.u.s.n);
        assert_non_null(got.u.s.p);
        if (want.u.s.n) assert_memory_equal(got.u.s.p, want.u.s.p, want.u.s.n);
        break;
    default: assert_int_equal(got.u.i, want.u.i); break;
    }
}

/* Scan columns `cols` of table `ti` and compare every row with fx_expect. */
static void scan_check(pvdb_file *f, uint32_t ti, const uint32_t *cols, uint32_t ncols,
                       uint64_t nrows)
{
    pv_source src;
    pv_scan *scan;
    pv_batch b;
    uint64_t row = 0;
    char buf[64];
    int n;
    assert_int_equal(pvdb_table_source(f, ti, &src), 0);
    assert_int_equal(src.nrows, nrows);
    assert_int_equal(src.ops->scan_open(&src, cols, ncols, &scan), 0);
    while ((n = src.ops->scan_next(scan, &b)) > 0) {
        uint32_t r, c;
        assert_true(n <= PV_BATCH_ROWS);
        assert_int_equal(b.ncols, ncols);
        for (r = 0; r < b.nrows; r++)
            for (c = 0; c < ncols; c++) {
                assert_int_equal(b.cols[c].type, fx_cols[cols[c]].type);
                check_value(pv_vec_get(&b.cols[c], r), fx_expect(cols[c], row + r, buf),
                            cols[c], row + r);
            }
        row += b.nrows;
    }
    assert_int_equal(n, 0);
    assert_int_equal(row, nrows);
    src.ops->scan_close(scan);
}

static const uint32_t all_cols[NCOLS] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9};

/* ---- round trips --------------------------------------------------------------- */

static void test_roundtrip_small_groups(void **state)
{
    fixture fx;
    pvdb_file *f;
    static const uint32_t some[3] = {8, 4, 4}; /* reordered, repeated */
    pv_bake_info info = {"0123456789abcdef0123456789abcdef01234567", "pvbake test"};
    (void)state;
    fx_build(&fx, "things", 2500);
    assert_int_equal(pvdb_write_ex(tpath("small.pvdb"), &fx.bt, 1, &info, 1000, 0), 0);
    assert_int_equal(pvdb_open(tpath("small.pvdb"), &f), 0);
    assert_int_equal(pvdb_format_version(f), 2);
    assert_string_equal(pvdb_source(f), info.source);
    assert_string_equal(pvdb_tool(f), "pvbake test");
    assert_int_equal(pvdb_table_count(f), 1);
    scan_check(f, 0, all_cols, NCOLS, 2500);
    scan_check(f, 0, some, 3, 2500);
    scan_check(f, 0, NULL, 0, 2500); /* zero columns still count rows */
    assert_int_equal(pvdb_verify(f), 0);
    pvdb_close(f);
    fx_free(&fx);
}

static void test_schema_roundtrip(void **state)
{
    fixture fx;
    pvdb_file *f;
    pv_source src;
    uint32_t c;
    (void)state;
    fx_build(&fx, "things", 10);
    assert_int_equal(pv_bake_write(tpath("schema.pvdb"), &fx.bt, 1, NULL), 0);
    assert_int_equal(pvdb_open(tpath("schema.pvdb"), &f), 0);
    assert_string_equal(pvdb_source(f), "");
    assert_int_equal(pvdb_find_table(f, "THINGS", 6, &src), 0);
    assert_string_equal(src.schema->name, "things");
    assert_int_equal(src.schema->ncols, NCOLS);
    assert_int_equal(src.schema->npk, 1);
    assert_int_equal(src.schema->pk[0], 0);
    for (c = 0; c < NCOLS; c++) {
        assert_string_equal(src.schema->cols[c].name, fx_cols[c].name);
        assert_int_equal(src.schema->cols[c].type, fx_cols[c].type);
        assert_int_equal(src.schema->cols[c].not_null, fx_cols[c].not_null);
        assert_int_equal(src.schema->cols[c].hidden, 0);
        assert_int_equal(src.schema->cols[c].pk_pos, c == 0 ? 0 : -1);
    }
    assert_int_equal(pvdb_find_table(f, "nope", 4, &src), PV_ENOTFOUND);
    assert_int_equal(pvdb_table_source(f, 1, &src), PV_ERANGE);
    pvdb_close(f);
    fx_free(&fx);
}

/* More rows than a row group of the real writer: several groups, dict and
 * plain chosen by cardinality, compressed and uncompressed chunks. */
static fixture big;
static const char *big_path;
static const pv_bake_info big_info = {"worktree", "pvbake test"};

static void test_big_multi_group(void **state)
{
    pvdb_file *f;
    pvdb_column_info ci;
    (void)state;
    assert_int_equal(pvdb_open(big_path, &f), 0);
    scan_check(f, 0, all_cols, NCOLS, big.nrows);
    assert_int_equal(pvdb_column_info_get(f, 0, 0, &ci), 0); /* id: 3r - 1000 */
    assert_string_equal(ci.encoding, "linear");
    assert_true(ci.has_minmax);
    assert_int_equal(ci.min.u.i, -1000);
    assert_int_equal(ci.max.u.i, (int64_t)(big.nrows - 1) * 3 - 1000);
    assert_int_equal(pvdb_column_info_get(f, 0, 1, &ci), 0); /* small */
    assert_string_equal(ci.encoding, "for");
    assert_int_equal(ci.chunks, 3);
    assert_int_equal(ci.compressed, 0);
    assert_true(ci.stored_bytes * 8 < ci.raw_bytes);
    assert_int_equal(ci.min.u.i, -2);
    assert_int_equal(ci.max.u.i, 2);
    assert_int_equal(pvdb_column_info_get(f, 0, 2, &ci), 0); /* big */
    assert_string_equal(ci.encoding, "plain");
    assert_int_equal(ci.compressed, 0);
    assert_int_equal(ci.stored_bytes, ci.raw_bytes);
    assert_int_equal(ci.null_count, 0);
    assert_int_equal(pvdb_column_info_get(f, 0, 3, &ci), 0); /* real: NaN kept apart */
    assert_true(ci.has_nan);
    assert_true(ci.has_minmax);
    assert_true(ci.min.u.f == -1e300);
    assert_true(isinf(ci.max.u.f));
    assert_int_equal(pvdb_column_info_get(f, 0, 6, &ci), 0); /* flag */
    assert_string_equal(ci.encoding, "bitmap");
    assert_int_equal(pvdb_column_info_get(f, 0, 8, &ci), 0); /* country */
    assert_string_equal(ci.encoding, "dict");
    assert_int_equal(ci.min.u.s.n, 8); /* '' .. '日本' as 8-byte prefixes */
    assert_memory_equal(ci.min.u.s.p, "\0\0\0\0\0\0\0\0", 8);
    assert_memory_equal(ci.max.u.s.p, "\xe6\x97\xa5\xe6\x9c\xac\0\0", 8);
    assert_int_equal(pvdb_column_info_get(f, 0, 7, &ci), 0); /* all NULL */
    assert_int_equal(ci.null_count, big.nrows);
    assert_false(ci.has_minmax);
    assert_int_equal(pvdb_column_info_get(f, 0, 4, &ci), 0); /* text: front-coded */
    assert_string_equal(ci.encoding, "dict");
    assert_int_equal(ci.null_count, (big.nrows + 3) / 4);
    assert_int_equal(pvdb_column_info_get(f, 0, NCOLS, &ci), PV_ERANGE);
    assert_int_equal(pvdb_column_info_get(f, 1, 0, &ci), PV_ERANGE);
    assert_int_equal(pvdb_verify(f), 0);
    pvdb_close(f);
}

typedef struct thread_arg {
    pvdb_file *f;
    uint64_t sum;
    int rc;
} thread_arg;

static void *scan_thread(void *p)
{
    thread_arg *a = p;
    pv_source src;
    pv_scan *scan;
    pv_batch b;
    uint32_t cols[3] = {2, 4, 1};
    int n;
    a->rc = pvdb_table_source(a->f, 0, &src);
    if (a->rc == 0) a->rc = src.ops->scan_open(&src, cols, 3, &scan);
    if (a->rc) return NULL;
    while ((n = src.ops->scan_next(scan, &b)) > 0) {
        uint32_t r;
        for (r = 0; r < b.nrows; r++) {
            a->sum += (uint64_t)b.cols[0].u.i[r];
            if (!b.cols[1].nulls || !b.cols[1].nulls[r]) a->sum += b.cols[1].u.s[r].n;
            if (!b.cols[2].nulls[r]) a->sum += (uint64_t)b.cols[2].u.i[r];
        }
    }
    a->rc = n;
    src.ops->scan_close(scan);
    return NULL;
}

static void test_concurrent_scans(void **state)
{
    pvdb_file *f;
    pthread_t th[4];
    thread_arg a[4];
    int i;
    (void)state;
    assert_int_equal(pvdb_open(big_path, &f), 0);
    for (i = 0; i < 4; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].f = f;
        assert_int_equal(pthread_create(&th[i], NULL, scan_thread, &a[i]), 0);
    }
    for (i = 0; i < 4; i++) {
        assert_int_equal(pthread_join(th[i], NULL), 0);
        assert_int_equal(a[i].rc, 0);
        assert_true(a[i].sum == a[0].sum);
    }
    pvdb_close(f);
}

static void test_several_tables_and_hidden_key(void **state)
{
    pv_schema *empty = fx_schema("a_empty");
    pv_schema *h = pv_schema_new("b_hidden", 8);
    pv_bake_table t[2];
    pv_vec v[2];
    int64_t xs[3] = {5, 6, 7};
    pv_str ids[3] = {{"a", 1}, {"b", 1}, {"c", 1}};
    pvdb_file *f;
    pv_source src;
    pv_scan *scan;
    pv_batch b;
    uint32_t cols[2] = {1, 0};
    (void)state;
    assert_int_equal(pv_schema_add_column(h, "x", 1, PV_INTEGER, 0), 0);
    assert_int_equal(pv_schema_finish(h), 0);
    assert_int_equal(h->ncols, 2);
    v[0].type = PV_INTEGER; v[0].nulls = NULL; v[0].u.i = xs;
    v[1].type = PV_TEXT; v[1].nulls = NULL; v[1].u.s = ids;
    t[0].schema = empty; t[0].nrows = 0; t[0].cols = NULL;
    t[1].schema = h; t[1].nrows = 3; t[1].cols = v;
    assert_int_equal(pv_bake_write(tpath("multi.pvdb"), t, 2, NULL), 0);
    assert_int_equal(pvdb_open(tpath("multi.pvdb"), &f), 0);
    assert_int_equal(pvdb_table_count(f), 2);
    assert_int_equal(pvdb_table_source(f, 0, &src), 0);
    assert_int_equal(src.nrows, 0);
    assert_int_equal(src.ops->scan_open(&src, all_cols, NCOLS, &scan), 0);
    assert_int_equal(src.ops->scan_next(scan, &b), 0);
    src.ops->scan_close(scan);
    assert_int_equal(pvdb_find_table(f, "b_hidden", 8, &src), 0);
    assert_int_equal(src.schema->cols[1].hidden, 1);
    assert_int_equal(src.schema->cols[1].pk_pos, 0);
    assert_int_equal(src.schema->cols[0].hidden, 0);
    assert_int_equal(src.ops->scan_open(&src, cols, 2, &scan), 0);
    assert_int_equal(src.ops->scan_next(scan, &b), 3);
    assert_int_equal(b.cols[0].u.s[2].n, 1);
    assert_memory_equal(b.cols[0].u.s[2].p, "c", 1);
    assert_int_equal(b.cols[1].u.i[1], 6);
    assert_int_equal(src.ops->scan_next(scan, &b), 0);
    src.ops->scan_close(scan);
    cols[0] = 2;
    assert_int_equal(src.ops->scan_open(&src, cols, 1, &scan), PV_ERANGE);
    assert_int_equal(pvdb_verify(f), 0);
    pvdb_close(f);
    pv_schema_free(empty);
    pv_schema_free(h);
}

static void test_writer_errors(void **state)
{
    fixture fx;
    (void)state;
    fx_build(&fx, "things", 20);
    fx.vecs[8].nulls = fx.nulls[7]; /* NULLs in the NOT NULL column */
    assert_int_equal(pv_bake_write(tpath("bad.pvdb"), &fx.bt, 1, NULL), PV_ECONSTRAINT);
    assert_int_equal(access(tpath("bad.pvdb"), F_OK), -1);
    fx.vecs[8].nulls = NULL;
    fx.ivals[6][3] = 2; /* a boolean that is not 0 or 1 */
    assert_int_equal(pv_bake_write(tpath("bad.pvdb"), &fx.bt, 1, NULL), PV_ETYPE);
    fx.ivals[6][3] = 1;
    assert_true(pv_bake_write(tpath("no/such/dir/x.pvdb"), &fx.bt, 1, NULL) < 0);
    fx_free(&fx);
}

/* ---- reproducibility ------------------------------------------------------------- */

static uint8_t *slurp(const char *path, size_t *n)
{
    char *p;
    assert_int_equal(pv_read_file(path, (size_t)1 << 30, &p, n), 0);
    return (uint8_t *)p;
}

static void spit(const char *path, const uint8_t *p, size_t n)
{
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(p, 1, n, fp), n);
    assert_int_equal(fclose(fp), 0);
}

static void test_reproducible(void **state)
{
    fixture fx;
    pv_bake_info info = {"worktree", "pvbake 0.1.0"};
    uint8_t *a, *b;
    size_t an, bn;
    (void)state;
    fx_build(&fx, "things", 3000);
    assert_int_equal(pvdb_write_ex(tpath("r1.pvdb"), &fx.bt, 1, &info, 1000, 0), 0);
    assert_int_equal(pvdb_write_ex(tpath("r2.pvdb"), &fx.bt, 1, &info, 1000, 0), 0);
    a = slurp(tpath("r1.pvdb"), &an);
    b = slurp(tpath("r2.pvdb"), &bn);
    assert_int_equal(an, bn);
    assert_memory_equal(a, b, an);
    free(a);
    free(b);
    a = slurp(big_path, &an);
    assert_int_equal(pv_bake_write(tpath("big2.pvdb"), &big.bt, 1, &big_info), 0);
    b = slurp(tpath("big2.pvdb"), &bn);
    assert_int_equal(an, bn);
    assert_memory_equal(a, b, an);
    free(a);
    free(b);
    fx_free(&fx);
}

/* ---- damaged and crafted files ------------------------------------------------------ */

/* A small file with many sections and its bytes; `plain_file` is the same
 * without compression, so crafted payload bytes reach the decoders. */
static uint8_t *good, *plain_file;
static size_t good_len, plain_len;

static int is_error(int rc) { return rc == PV_ECORRUPT || rc == PV_EFORMAT; }

/* Point reads without checksums: rows read by index and looked up by
 * key (the key read back from the row), ranges: errors allowed, no crash,
 * and on an undamaged file every key finds its row. */
static int exercise_rows(pvdb_file *f, uint32_t t, const pv_source *src)
{
    uint64_t rows[3], first, end;
    uint32_t cols[PV_MAX_COLUMNS], c, i;
    pv_value out[NCOLS + 2], key[4];
    pv_buf buf = PV_BUF_INIT;
    int rc = 0;
    if (src->nrows == 0 || src->schema->ncols > NCOLS + 2 || src->schema->npk > 4) return 0;
    rows[0] = 0;
    rows[1] = src->nrows / 2;
    rows[2] = src->nrows - 1;
    for (c = 0; c < src->schema->ncols; c++) cols[c] = c;
    for (i = 0; i < 3 && rc == 0; i++) {
        uint64_t row;
        rc = pvdb_read_row(f, t, rows[i], cols, src->schema->ncols, out, &buf);
        if (rc) break;
        for (c = 0; c < src->schema->npk; c++) key[c] = out[src->schema->pk[c]];
        rc = pvdb_lookup(f, t, key, src->schema->npk, &row);
        /* damage the lookup cannot see (no checksums) shows as a miss */
        if (rc == PV_ENOTFOUND || (rc == 0 && row != rows[i])) rc = PV_ECORRUPT;
        if (rc == 0) rc = pvdb_key_range(f, t, key, 1, key, 1, &first, &end);
        if (rc == 0 && (first > rows[i] || end <= rows[i])) rc = PV_ECORRUPT;
    }
    pv_buf_free(&buf);
    return rc;
}

/* Open, scan every column of every table, verify: the first error or 0.
 * Each step may fail, none may crash. */
static int exercise(const char *path)
{
    pvdb_file *f;
    uint32_t t;
    int rc = pvdb_open(path, &f);
    if (rc) return rc;
    for (t = 0; t < pvdb_table_count(f) && rc == 0; t++) {
        pv_source src;
        pv_scan *scan;
        pv_batch b;
        uint32_t cols[PV_MAX_COLUMNS], c;
        assert_int_equal(pvdb_table_source(f, t, &src), 0);
        for (c = 0; c < src.schema->ncols; c++) cols[c] = c;
        rc = src.ops->scan_open(&src, cols, src.schema->ncols, &scan);
        assert_int_equal(rc, 0);
        while ((rc = src.ops->scan_next(scan, &b)) > 0) {
        }
        src.ops->scan_close(scan);
        if (rc == 0) rc = exercise_rows(f, t, &src);
    }
    if (rc == 0) rc = pvdb_verify(f);
    pvdb_close(f);
    return rc;
}

static int exercise_bytes(const uint8_t *p, size_t n)
{
    spit(tpath("crafted.pvdb"), p, n);
    return exercise(tpath("crafted.pvdb"));
}

/* Recompute the directory and header checksums after an edit, as a crafty
 * attacker would, so the field checks themselves are tested. */
static void reseal(uint8_t *p, size_t n)
{
    uint64_t off = pv_get_u64(p + PVDB_H_DIR_OFFSET), len = pv_get_u64(p + PVDB_H_DIR_LENGTH);
    if (off <= n && len <= n - off) pv_put_u64(p + PVDB_H_DIR_CHECKSUM, XXH3_64bits(p + off, len));
    pv_put_u64(p + PVDB_H_CHECKSUM, XXH3_64bits(p, PVDB_H_CHECKSUM));
}

static void test_truncated_everywhere(void **state)
{
    size_t n;
    (void)state;
    for (n = 0; n < good_len; n++) {
        int rc = exercise_bytes(good, n);
        if (!is_error(rc)) fail_msg("truncated at %zu: rc %d", n, rc);
    }
    assert_int_equal(exercise_bytes(good, good_len), 0);
}

static void test_flipped_header_and_directory(void **state)
{
    uint8_t *p = malloc(good_len);
    uint64_t dir = pv_get_u64(good + PVDB_H_DIR_OFFSET), i;
    int bit;
    (void)state;
    assert_non_null(p);
    for (i = 0; i < good_len; i++) {
        if (i >= PVDB_HEADER_SIZE && i < dir) continue; /* chunks: next test */
        for (bit = 0; bit < 8; bit += 7) {
            int rc;
            memcpy(p, good, good_len);
            p[i] ^= (uint8_t)(1u << bit);
            rc = exercise_bytes(p, good_len);
            if (!is_error(rc))
                fail_msg("byte %llu bit %d flipped: rc %d", (unsigned long long)i, bit, rc);
        }
    }
    free(p);
}

/* Every chunk with a flipped byte: open works, the scan and verify fail. */
static void test_flipped_chunks(void **state)
{
    uint8_t *p = malloc(good_len);
    uint64_t dir = pv_get_u64(good + PVDB_H_DIR_OFFSET), i;
    (void)state;
    assert_non_null(p);
    for (i = PVDB_HEADER_SIZE; i < dir; i += 3) {
        pvdb_file *f;
        memcpy(p, good, good_len);
        p[i] ^= 0x10;
        spit(tpath("crafted.pvdb"), p, good_len);
        assert_int_equal(pvdb_open(tpath("crafted.pvdb"), &f), 0);
        assert_int_equal(pvdb_verify(f), PV_ECORRUPT);
        pvdb_close(f);
        assert_int_equal(exercise(tpath("crafted.pvdb")), PV_ECORRUPT);
    }
    free(p);
}

/* Every directory and header word rewritten, checksums fixed: no crash,
 * and any result is success or a clean error. */
static void test_crafted_fields(void **state)
{
    static const uint64_t vals[] = {0, 1, 7, 8, 0x7f, 0xff, 0xffff, 0x10000, 0x7fffffff,
                                    0xffffffff, 0x100000000ull, UINT64_MAX};
    uint8_t *p = malloc(good_len);
    uint64_t dir = pv_get_u64(good + PVDB_H_DIR_OFFSET), i;
    size_t v;
    int errors = 0, runs = 0;
    (void)state;
    assert_non_null(p);
    for (i = 0; i + 8 <= good_len; i += 4) {
        if (i >= PVDB_HEADER_SIZE && i < dir) continue;
        for (v = 0; v < sizeof vals / sizeof vals[0]; v++) {
            int w;
            for (w = 0; w < 3; w++) { /* as u32, as u64, as orig + delta */
                int rc;
                memcpy(p, good, good_len);
                if (w == 0) pv_put_u32(p + i, (uint32_t)vals[v]);
                else if (w == 1) pv_put_u64(p + i, vals[v]);
                else pv_put_u32(p + i, pv_get_u32(good + i) + (uint32_t)vals[v] + 1);
                if (memcmp(p, good, good_len) == 0) continue;
                reseal(p, good_len);
                rc = exercise_bytes(p, good_len);
                if (rc != 0 && !is_error(rc))
                    fail_msg("offset %llu: rc %d", (unsigned long long)i, rc);
                errors += rc != 0;
                runs++;
            }
        }
    }
    assert_true(errors > runs / 2); /* most edits must be caught */
    free(p);
}

/* The offset of chunk record k in the directory of p. */
static uint64_t chunk_rec(const uint8_t *p, uint32_t k)
{
    uint64_t dir = pv_get_u64(p + PVDB_H_DIR_OFFSET);
    return dir + pv_get_u64(p + dir + PVDB_D_CHUNKS_OFF) + (uint64_t)k * PVDB_CHUNK_RECSZ;
}

/* The hidden flag belongs to the generated key _pv_id alone (FORMAT.md):
 * on any other column (here every column of the small file in turn, the
 * checksums made right again) pvdb_open refuses the file at that column's
 * flags byte. A crafted file had hidden every column of a table, so that
 * SELECT * read no column at all (found by make fuzz). */
static void test_hidden_flag(void **state)
{
    uint8_t *p = malloc(good_len);
    uint64_t dir = pv_get_u64(good + PVDB_H_DIR_OFFSET);
    uint64_t cols = dir + pv_get_u64(good + dir + PVDB_D_COLUMNS_OFF);
    uint32_t ncols = pv_get_u32(good + dir + PVDB_D_COLUMN_COUNT), c;
    pvdb_file *f = NULL;
    char want[64];
    (void)state;
    assert_non_null(p);
    assert_true(ncols > 0);
    for (c = 0; c < ncols; c++) {
        uint64_t at = cols + (uint64_t)c * PVDB_COLUMN_RECSZ + PVDB_C_FLAGS;
        memcpy(p, good, good_len);
        p[at] |= PVDB_COL_HIDDEN;
        reseal(p, good_len);
        spit(tpath("hidden.pvdb"), p, good_len);
        assert_int_equal(pvdb_open(tpath("hidden.pvdb"), &f), PV_ECORRUPT);
        snprintf(want, sizeof want, "byte offset %llu", (unsigned long long)at);
        if (!strstr(pv_errmsg(), want) || !strstr(pv_errmsg(), "_pv_id"))
            fail_msg("column %u: %s", c, pv_errmsg());
    }
    free(p);
}

static void test_offsets_outside(void **state)
{
    uint8_t *p = malloc(good_len);
    uint64_t rec = chunk_rec(good, 3);
    (void)state;
    assert_non_null(p);
    /* a chunk starting at the end of the file */
    memcpy(p, good, good_len);
    pv_put_u64(p + rec + PVDB_K_OFFSET, good_len);
    reseal(p, good_len);
    assert_int_equal(exercise_bytes(p, good_len), PV_ECORRUPT);
    /* a chunk running past the end */
    memcpy(p, good, good_len);
    pv_put_u64(p + rec + PVDB_K_LENGTH, good_len);
    reseal(p, good_len);
    assert_int_equal(exercise_bytes(p, good_len), PV_ECORRUPT);
    /* the directory after the end */
    memcpy(p, good, good_len);
    pv_put_u64(p + PVDB_H_DIR_OFFSET, good_len + 8);
    reseal(p, good_len);
    assert_int_equal(exercise_bytes(p, good_len), PV_ECORRUPT);
    /* the strings section past the directory */
    memcpy(p, good, good_len);
    pv_put_u64(p + pv_get_u64(good + PVDB_H_DIR_OFFSET) + PVDB_D_STRINGS_LEN, 1u << 30);
    reseal(p, good_len);
    assert_int_equal(exercise_bytes(p, good_len), PV_ECORRUPT);
    /* an unknown required feature, a newer version, not a pvdb file */
    memcpy(p, good, good_len);
    pv_put_u32(p + PVDB_H_REQUIRED, 4);
    reseal(p, good_len);
    assert_int_equal(exercise_bytes(p, good_len), PV_EFORMAT);
    memcpy(p, good, good_len);
    pv_put_u32(p + PVDB_H_VERSION, PVDB_VERSION_INDEXES + 1); /* 3 is read (baked indexes) */
    reseal(p, good_len);
    assert_int_equal(exercise_bytes(p, good_len), PV_EFORMAT);
    /* a version 1 file is refused with a message that says to bake again */
    memcpy(p, good, good_len);
    pv_put_u32(p + PVDB_H_VERSION, 1);
    reseal(p, good_len);
    assert_int_equal(exercise_bytes(p, good_len), PV_EFORMAT);
    assert_non_null(strstr(pv_errmsg(), "re-bake"));
    assert_int_equal(exercise_bytes((const uint8_t *)"id,name\n1,x\n", 12), PV_EFORMAT);
    /* text-mode damage: \r\n became \n */
    memcpy(p, good, good_len);
    memmove(p + 5, p + 6, good_len - 6);
    assert_int_equal(exercise_bytes(p, good_len - 1), PV_ECORRUPT);
    free(p);
}

/* Chunk payload bytes rewritten with the chunk checksum fixed: the decoders'
 * own checks must stop every bad offset, code and length. */
/* What the decoders report; an uncompressed file must reach every check. */
static const char *const reasons[] = {
    "bad null bitmap", "bad string offsets", "bad dictionary header",
    "bad dictionary length",
    "dictionary not sorted", "dictionary code out of range",
};
#define NREASONS (sizeof reasons / sizeof reasons[0])

static void craft_payloads(const uint8_t *orig, size_t olen, int want_all)
{
    /* zstd frames mostly fail inside zstd: fewer values suffice there */
    size_t nvals = want_all ? 7 : 2;
    int seen[NREASONS] = {0};
    size_t j;
    static const uint8_t vals[7] = {0x00, 0xff, 0x01, 0x02, 0x08, 0x7f, 0x80};
    uint8_t *p = malloc(olen);
    uint64_t dir = pv_get_u64(orig + PVDB_H_DIR_OFFSET);
    uint32_t nchunks = pv_get_u32(orig + dir + PVDB_D_CHUNK_COUNT), k;
    int errors = 0;
    assert_non_null(p);
    for (k = 0; k < nchunks; k++) {
        uint64_t rec = chunk_rec(orig, k);
        uint64_t off = pv_get_u64(orig + rec + PVDB_K_OFFSET);
        uint64_t len = pv_get_u64(orig + rec + PVDB_K_LENGTH), i;
        size_t v;
        for (i = 0; i < len; i++) {
            for (v = 0; v < nvals; v++) {
                int rc;
                if (orig[off + i] == vals[v]) continue;
                memcpy(p, orig, olen);
                p[off + i] = vals[v];
                pv_put_u64(p + rec + PVDB_K_CHECKSUM, XXH3_64bits(p + off, len));
                reseal(p, olen);
                rc = exercise_bytes(p, olen);
                if (rc != 0 && rc != PV_ECORRUPT)
                    fail_msg("chunk %u byte %llu: rc %d", k, (unsigned long long)i, rc);
                errors += rc != 0;
                for (j = 0; rc && j < NREASONS; j++)
                    if (strstr(pv_errmsg(), reasons[j])) seen[j] = 1;
            }
        }
    }
    assert_true(errors > 0);
    for (j = 0; want_all && j < NREASONS; j++)
        if (!seen[j]) fail_msg("no crafted payload hit '%s'", reasons[j]);
    free(p);
}

static void test_crafted_payloads(void **state)
{
    (void)state;
    craft_payloads(good, good_len, 0);
    craft_payloads(plain_file, plain_len, 1);
}

/* ---- setup ---------------------------------------------------------------------------- */

static int setup(void **state)
{
    fixture fx;
    pv_bake_info info = {"worktree", "pvbake test"};
    (void)state;
    /* the damage sweeps write thousands of small files: a tmpfs when
     * there is one keeps them off the disk */
    strcpy(tmpdir, "/dev/shm/pv-test-pvdb-XXXXXX");
    if (!mkdtemp(tmpdir)) {
        strcpy(tmpdir, "/tmp/pv-test-pvdb-XXXXXX");
        if (!mkdtemp(tmpdir)) return -1;
    }
    /* the small file for damage tests: 3 row groups of 40 rows, 10 columns */
    fx_build(&fx, "things", 100);
    if (pvdb_write_ex(tpath("good.pvdb"), &fx.bt, 1, &info, 40, 0)) return -1;
    if (pvdb_write_ex(tpath("plain.pvdb"), &fx.bt, 1, &info, 40, PVDB_WRITE_NO_ZSTD))
        return -1;
    fx_free(&fx);
    good = slurp(tpath("good.pvdb"), &good_len);
    plain_file = slurp(tpath("plain.pvdb"), &plain_len);
    /* the big file: 3 row groups of the real size */
    fx_build(&big, "things", 2 * PVDB_ROWS_PER_GROUP + 1234);
    big_path = tpath("big.pvdb");
    big_path = strdup(big_path);
    if (pv_bake_write(big_path, &big.bt, 1, &big_info)) return -1;
    return 0;
}

/* ---- point reads with a reader's row cache (pvdb_index.c) ------------------------ */

/* Rows of several row groups in a scattered order, every column and a
 * reordered subset, through one cache: the same values as without it;
 * the cache then serves another file (a copy: another gen) afresh. */
static void test_row_cache(void **state)
{
    static const uint32_t some[4] = {8, 4, 0, 3};
    pvdb_file *f, *f2;
    pvdb_rowcache *rc = NULL;
    pv_buf buf = PV_BUF_INIT;
    pv_value out[NCOLS];
    char want[64];
    uint64_t i;
    int k;
    (void)state;
    assert_int_equal(pvdb_open(big_path, &f), 0);
    assert_int_equal(pvdb_open(big_path, &f2), 0);
    for (k = 0; k < 2; k++) {
        pvdb_file *file = k ? f2 : f;
        for (i = 0; i < 3000; i++) {
            uint64_t r = (i * 104729 + (uint64_t)k) % big.nrows;
            uint32_t c;
            if (i % 3) {
                assert_int_equal(pvdb_read_row_cached(file, 0, r, all_cols, NCOLS, out, &buf, &rc), 0);
                for (c = 0; c < NCOLS; c++) check_value(out[c], fx_expect(c, r, want), c, r);
            } else {
                assert_int_equal(pvdb_read_row_cached(file, 0, r, some, 4, out, &buf, &rc), 0);
                for (c = 0; c < 4; c++) check_value(out[c], fx_expect(some[c], r, want), some[c], r);
            }
        }
        assert_non_null(rc);
        assert_true(rc->gen == file->gen);
        assert_int_equal(pvdb_read_row_cached(file, 0, big.nrows, all_cols, NCOLS, out, &buf, &rc),
                         PV_ERANGE);
    }
    pvdb_rowcache_free(rc);
    pvdb_close(f2);
    pvdb_close(f);
    pv_buf_free(&buf);
}

/* ---- a file opened cold (pvdb_read.c, pvdb_impl.h) ------------------------------ */

/* Pages of `path` in the page cache (mincore over a mapping of it, which
 * faults nothing); the file's page count into *npages. */
static size_t resident_pages(const char *path, size_t *npages)
{
    int fd = open(path, O_RDONLY);
    size_t pg = (size_t)sysconf(_SC_PAGESIZE), n, i, in = 0;
    unsigned char *v;
    struct stat st;
    void *m;
    assert_true(fd >= 0);
    assert_int_equal(fstat(fd, &st), 0);
    n = ((size_t)st.st_size + pg - 1) / pg;
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    assert_true(m != MAP_FAILED);
    v = malloc(n);
    assert_non_null(v);
    assert_int_equal(mincore(m, (size_t)st.st_size, v), 0);
    for (i = 0; i < n; i++) in += v[i] & 1;
    free(v);
    munmap(m, (size_t)st.st_size);
    close(fd);
    if (npages) *npages = n;
    return in;
}

/* Drop `path` from the page cache: 1 when none of its pages is left
 * (mincore), 0 when the file system keeps them (tmpfs: nothing to test
 * then). */
static int evict(const char *path)
{
    int fd = open(path, O_RDONLY), tries;
    size_t left = 1;
    assert_true(fd >= 0);
    for (tries = 0; tries < 50 && left; tries++) { /* (per-CPU lists may keep a page once) */
        (void)fsync(fd);
        (void)posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
        if ((left = resident_pages(path, NULL))) usleep(2000);
    }
    close(fd);
    return !left;
}

/* After an open of `path` evicted and one lookup, at most a quarter of the
 * file is in the page cache: the lookup read a few pages (about 50 of the
 * test file's 666), not megabytes. */
static void few_pages_read(const char *path, const char *what)
{
    size_t npages, in = resident_pages(path, &npages);
    if (in * 4 > npages) fail_msg("%s read %zu of the file's %zu pages", what, in, npages);
}

/* Evictions and opens in a row, each of which must find the file cold. */
#define COLD_OPENS 300

/* A file whose header is not in the page cache at open is cold, every
 * time: the header read's own I/O, done before open looked, made a few
 * cold opens in a thousand warm (preadv2 RWF_NOWAIT found the page it had
 * just read), and this test fail now and then. Its first PVDB_COLD_READS point
 * reads advise their pages (and answer as always), later ones and a warm
 * open advise nothing; one cold lookup reads a few of the file's pages,
 * not megabytes (a mapping without MADV_RANDOM reads 8 MiB around a fault
 * on the reference VM: the whole file). */
static void test_cold_open(void **state)
{
    pvdb_file *f;
    pv_buf buf = PV_BUF_INIT;
    pv_value out[NCOLS];
    char want[64];
    uint64_t i;
    char path[] = "/var/tmp/pv-test-cold-XXXXXX";
    size_t n;
    uint8_t *bytes = slurp(big_path, &n);
    int fd = mkstemp(path), k;
    (void)state;
    /* a copy on a disk (the fixture's directory is in memory) */
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, n), (ssize_t)n);
    close(fd);
    free(bytes);
    assert_int_equal(pvdb_open(path, &f), 0); /* warm: just written */
    assert_int_equal(f->cold, 0);
    pvdb_close(f);
    for (k = 0; k < COLD_OPENS; k++) {
        if (!evict(path)) {
            print_message("%s stays in the page cache: cold open not tested\n", path);
            unlink(path);
            return;
        }
        assert_int_equal(pvdb_open(path, &f), 0);
        if (f->cold != PVDB_COLD_READS) fail_msg("cold open %d of %d: judged warm (cold %d)", k + 1, COLD_OPENS, f->cold);
        pvdb_close(f);
    }
    assert_true(evict(path));
    assert_int_equal(pvdb_open(path, &f), 0);
    assert_int_equal(f->cold, PVDB_COLD_READS);
    for (i = 0; i < PVDB_COLD_READS + 8; i++) {
        uint64_t r = (i * 7919) % big.nrows, row = 0;
        pv_value key = pv_v_int((int64_t)r * 3 - 1000);
        uint32_t c;
        assert_int_equal(f->cold, i < PVDB_COLD_READS ? (int)(PVDB_COLD_READS - i) : 0);
        assert_int_equal(pvdb_find_row(f, 0, &key, 1, &row), 1);
        assert_int_equal(row, r);
        assert_int_equal(pvdb_read_row(f, 0, row, all_cols, NCOLS, out, &buf), 0);
        for (c = 0; c < NCOLS; c++) check_value(out[c], fx_expect(c, r, want), c, r);
        if (i == 0) /* open and one lookup: what the advice asks */
            few_pages_read(path, "one cold lookup");
    }
    assert_int_equal(f->cold, 0);
    assert_int_equal(pvdb_verify(f), 0);
    pvdb_close(f);
    /* a file taken as warm whose pages are gone: the lookup's faults read
     * their own pages, not the megabytes around them */
    assert_true(evict(path));
    assert_int_equal(pvdb_open(path, &f), 0);
    f->cold = 0;
    assert_int_equal(pvdb_read_row(f, 0, 4321, all_cols, NCOLS, out, &buf), 0);
    for (i = 0; i < NCOLS; i++) check_value(out[i], fx_expect((uint32_t)i, 4321, want), (uint32_t)i, 4321);
    few_pages_read(path, "one lookup without advice");
    pvdb_close(f);
    pv_buf_free(&buf);
    unlink(path);
}

/* A file warm at open whose reads turn slow (its pages left the page
 * cache) is cold again: each reader times one read in PVDB_PROBE_EVERY
 * (its first included), and a timed read slower than f->slow_read_ns
 * makes the next PVDB_COLD_READS reads advise their pages; reads that are
 * not timed never do, and once reads are fast again cold mode runs out.
 * The threshold is set here (0: every timed read is slow; UINT64_MAX:
 * none is), so the sequence is exact on any machine; answers are checked
 * on every read, advised or not. */
/* ---- zone maps: pvdb_zone_add against a byte-by-byte reference --------------------- */

/* The zone of v's non-NULL rows as FORMAT.md 3.4 defines it, the slow way. */
static void zone_reference(const pv_vec *v, uint32_t n, uint8_t *flags, uint8_t mn[8], uint8_t mx[8])
{
    int any = 0;
    *flags = 0;
    memset(mn, 0, 8);
    memset(mx, 0, 8);
    for (uint32_t r = 0; r < n; r++) {
        uint8_t p[8] = {0};
        if (v->nulls && v->nulls[r]) continue;
        if (v->type == PV_TEXT || v->type == PV_BLOB) {
            for (size_t i = 0; i < v->u.s[r].n && i < 8; i++) p[i] = (uint8_t)v->u.s[r].p[i];
            if (!any || memcmp(p, mn, 8) < 0) memcpy(mn, p, 8);
            if (!any || memcmp(p, mx, 8) > 0) memcpy(mx, p, 8);
        } else {
            int64_t x = v->u.i[r], a = (int64_t)pv_get_u64(mn), b = (int64_t)pv_get_u64(mx);
            if (!any || x < a) pv_put_u64(mn, (uint64_t)x);
            if (!any || x > b) pv_put_u64(mx, (uint64_t)x);
        }
        any = 1;
    }
    if (any) *flags = PVDB_ZONE_MINMAX;
}

/* Random vectors of TEXT (lengths 0..12, bytes 0x00..0xFF, common
 * prefixes) and INTEGER (the extremes included), with and without NULLs,
 * added in one call and in two: the same zone as the reference. */
static void test_zone_maps(void **state)
{
    enum { N = 300 };
    static char bytes[N][12];
    pv_str strs[N];
    int64_t ints[N];
    uint8_t nulls[N];
    uint64_t seed = 12345;
    (void)state;
    for (int round = 0; round < 400; round++) {
        int type = round % 2 ? PV_INTEGER : PV_TEXT, with_nulls = round % 4 >= 2;
        uint32_t n = 1 + (uint32_t)(round * 7 % N), cut = n / 3;
        for (uint32_t r = 0; r < n; r++) {
            seed = seed * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t x = seed >> 11;
            strs[r].n = (size_t)(x % 13);
            for (size_t i = 0; i < strs[r].n; i++) {
                seed = seed * 6364136223846793005ull + 1442695040888963407ull;
                /* few distinct bytes, so prefixes are often shared */
                static const uint8_t pick[] = {0x00, 0x01, 'a', 'b', 0x7f, 0x80, 0xc3, 0xff};
                bytes[r][i] = (char)pick[(seed >> 33) % 8];
            }
            strs[r].p = strs[r].n ? bytes[r] : NULL;
            ints[r] = x % 5 == 0 ? INT64_MIN : x % 5 == 1 ? INT64_MAX : (int64_t)(x % 2001) - 1000;
            nulls[r] = with_nulls && x % 3 == 0;
        }
        pv_vec v = {.type = type, .nulls = with_nulls ? nulls : NULL};
        if (type == PV_TEXT) v.u.s = strs;
        else v.u.i = ints;
        uint8_t fw, mw[8], xw[8], f1, m1[8], x1[8], f2, m2[8], x2[8];
        pvdb_zone z;
        zone_reference(&v, n, &fw, mw, xw);
        pvdb_zone_init(&z, type);
        pvdb_zone_add(&z, &v, n);
        pvdb_zone_put(&z, &f1, m1, x1);
        pvdb_zone_init(&z, type); /* in two calls: rows [0, cut), then the rest */
        pvdb_zone_add(&z, &v, cut);
        pv_vec rest = v;
        if (with_nulls) rest.nulls = nulls + cut;
        if (type == PV_TEXT) rest.u.s = strs + cut;
        else rest.u.i = ints + cut;
        pvdb_zone_add(&z, &rest, n - cut);
        pvdb_zone_put(&z, &f2, m2, x2);
        if (f1 != fw || memcmp(m1, mw, 8) || memcmp(x1, xw, 8) || f2 != fw || memcmp(m2, mw, 8) ||
            memcmp(x2, xw, 8))
            fail_msg("round %d (type %d, %u rows): zone differs from the reference", round, type, n);
    }
}

static void test_cold_again(void **state)
{
    pvdb_file *f;
    pvdb_rowcache *rc = NULL;
    pv_buf buf = PV_BUF_INIT;
    pv_value out[NCOLS];
    char want[64];
    uint32_t k, c;
    (void)state;
    assert_int_equal(pvdb_open(big_path, &f), 0);
    assert_int_equal(f->slow_read_ns, PVDB_SLOW_READ_NS);
    f->slow_read_ns = UINT64_MAX;
    for (k = 0; k < 6 * PVDB_PROBE_EVERY + PVDB_COLD_READS; k++) {
        uint64_t r = ((uint64_t)k * 7919) % big.nrows;
        if (k == 2 * PVDB_PROBE_EVERY) f->slow_read_ns = 0; /* reads turn slow */
        if (k == 6 * PVDB_PROBE_EVERY) f->slow_read_ns = UINT64_MAX; /* and fast again */
        assert_int_equal(pvdb_read_row_cached(f, 0, r, all_cols, NCOLS, out, &buf, &rc), 0);
        for (c = 0; c < NCOLS; c++) check_value(out[c], fx_expect(c, r, want), c, r);
        assert_int_equal(rc->reads, k + 1);
        if (k < 2 * PVDB_PROBE_EVERY) /* fast: never cold */
            assert_int_equal(f->cold, 0);
        else if (k < 6 * PVDB_PROBE_EVERY) /* a timed read re-arms; others count down */
            assert_int_equal(f->cold, k % PVDB_PROBE_EVERY == 0
                                          ? PVDB_COLD_READS
                                          : PVDB_COLD_READS - (int)(k % PVDB_PROBE_EVERY));
        else /* fast again: counts down from where read 6P - 1 left it, to 0 */
            assert_int_equal(f->cold, k >= PVDB_COLD_READS + 5 * PVDB_PROBE_EVERY
                                          ? 0 : (int)(PVDB_COLD_READS + 5 * PVDB_PROBE_EVERY - k));
    }
    pvdb_rowcache_free(rc);
    pvdb_close(f);
    pv_buf_free(&buf);
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    fx_free(&big);
    free(good);
    free(plain_file);
    free((void *)big_path);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (getenv("PV_TEST_KEEP")) return 0; /* keep the files to look at */
    return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_small_groups),
        cmocka_unit_test(test_schema_roundtrip),
        cmocka_unit_test(test_big_multi_group),
        cmocka_unit_test(test_concurrent_scans),
        cmocka_unit_test(test_several_tables_and_hidden_key),
        cmocka_unit_test(test_writer_errors),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_truncated_everywhere),
        cmocka_unit_test(test_flipped_header_and_directory),
        cmocka_unit_test(test_flipped_chunks),
        cmocka_unit_test(test_crafted_fields),
        cmocka_unit_test(test_offsets_outside),
        cmocka_unit_test(test_hidden_flag),
        cmocka_unit_test(test_crafted_payloads),
        cmocka_unit_test(test_cold_open),
        cmocka_unit_test(test_row_cache),
        cmocka_unit_test(test_cold_again),
        cmocka_unit_test(test_zone_maps),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
