/*
 * test_secidx_sort.c: the order of a baked secondary index
 * (pvdb_secidx_sort) against the definition it replaces: the rows whose
 * first index column is not NULL, sorted by (pv_value_cmp of the key
 * columns, row number), keys starting where any column compares unequal.
 * Random columns exercise each path: small integer ranges (counted), wide
 * ones (radix), REALs with -0.0, infinities and negatives, TEXT and BLOB
 * with many distinct strings (the hash table grows) and NULLs everywhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pvdb_secidx.h"

typedef struct ref_ctx {
    const pv_vec *cols;
    const pv_index_def *x;
} ref_ctx;

static int key_cmp(const ref_ctx *c, uint32_t a, uint32_t b)
{
    uint32_t k;
    for (k = 0; k < c->x->ncols; k++) {
        const pv_vec *v = &c->cols[c->x->cols[k]];
        pv_value va = pv_vec_get(v, a), vb = pv_vec_get(v, b);
        int r = pv_value_cmp(&va, &vb);
        if (r) return r;
    }
    return 0;
}

static int ref_cmp(const void *pa, const void *pb, void *ctx)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    int r = key_cmp(ctx, a, b);
    return r ? r : (a < b ? -1 : a > b);
}

static uint64_t rnd_state = 88172645463325252ull;
static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

/* Column `kind` of n rows into v (storage in *mem, freed by the caller). */
static void make_col(pv_vec *v, int kind, uint32_t n, void **mem, uint8_t **nulls, char **text)
{
    uint32_t r;
    *nulls = malloc(n);
    for (r = 0; r < n; r++) (*nulls)[r] = rnd() % 7 == 0;
    v->nulls = *nulls;
    switch (kind) {
    case 0: /* INTEGER, small range */
    case 1: { /* INTEGER, full range */
        int64_t *p = malloc(n * sizeof *p);
        for (r = 0; r < n; r++) p[r] = kind ? (int64_t)rnd() : (int64_t)(rnd() % 50) - 25;
        v->type = PV_INTEGER;
        v->u.i = p;
        *mem = p;
        break;
    }
    case 2: { /* REAL */
        static const double special[] = {0.0, -0.0, 1e300, -1e300, 1.0 / 0.0, -1.0 / 0.0, 0.5, -0.5};
        double *p = malloc(n * sizeof *p);
        for (r = 0; r < n; r++)
            p[r] = rnd() % 3 ? special[rnd() % 8] : (double)(int64_t)rnd() / 1e9;
        v->type = PV_REAL;
        v->u.f = p;
        *mem = p;
        break;
    }
    default: { /* TEXT or BLOB: many distinct short strings, prefixes of each other */
        pv_str *p = malloc(n * sizeof *p);
        *text = malloc((size_t)n * 8);
        for (r = 0; r < n; r++) {
            uint32_t len = (uint32_t)(rnd() % 6), i;
            for (i = 0; i < len; i++) (*text)[8 * r + i] = (char)("ab\0\xff"[rnd() % 4]);
            p[r].p = *text + 8 * r;
            p[r].n = len;
        }
        v->type = kind == 3 ? PV_TEXT : PV_BLOB;
        v->u.s = p;
        *mem = p;
        break;
    }
    }
}

static void check_one(uint32_t n, const int *kinds, uint32_t ncols)
{
    pv_vec cols[4];
    void *mem[4] = {NULL};
    uint8_t *nulls[4] = {NULL};
    char *text[4] = {NULL};
    uint32_t icols[4], k, r, m = 0, *ref = malloc((n + 1) * sizeof *ref), d = 0;
    pv_schema s;
    pv_index_def x = {0};
    pv_bake_table t;
    pvdb_secidx_order o;
    ref_ctx c;
    memset(&s, 0, sizeof s);
    for (k = 0; k < ncols; k++) {
        make_col(&cols[k], kinds[k], n, &mem[k], &nulls[k], &text[k]);
        icols[k] = ncols - 1 - k; /* index columns in another order than the table's */
    }
    x.name = "t_x";
    x.ncols = ncols;
    x.cols = icols;
    t.schema = &s;
    t.nrows = n;
    t.cols = cols;
    c.cols = cols;
    c.x = &x;
    for (r = 0; r < n; r++)
        if (!cols[icols[0]].nulls[r]) ref[m++] = r;
    qsort_r(ref, m, sizeof *ref, ref_cmp, &c);
    assert_int_equal(pvdb_secidx_sort(&t, &x, &o), 0);
    assert_int_equal(o.nrows, m);
    if (m) assert_memory_equal(o.rows, ref, m * sizeof *ref);
    for (r = 0; r < m; r++)
        if (r == 0 || key_cmp(&c, ref[r - 1], ref[r])) assert_int_equal(o.starts[d++], r);
    assert_int_equal(o.nkeys, d);
    assert_int_equal(o.starts[d], m);
    pvdb_secidx_order_free(&o);
    pvdb_secidx_order_free(NULL);
    for (k = 0; k < ncols; k++) {
        free(mem[k]);
        free(nulls[k]);
        free(text[k]);
    }
    free(ref);
}

static void test_sort_matches_reference(void **state)
{
    static const int shapes[][3] = {{0, 0, 0}, {1, 1, 1}, {2, 2, 2}, {3, 3, 3}, {4, 4, 4},
                                    {3, 0, 2}, {2, 1, 3}, {0, 4, 1}, {1, 3, 0}, {4, 2, 0}};
    uint32_t sizes[] = {0, 1, 2, 17, 1000, 5000}, i, j, nc;
    (void)state;
    for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        for (j = 0; j < sizeof shapes / sizeof shapes[0]; j++)
            for (nc = 1; nc <= 3; nc++) check_one(sizes[i], shapes[j], nc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sort_matches_reference),
    };
    return cmocka_run_group_tests_name("baked index order", tests, NULL, NULL) ? 1 : 0;
}
