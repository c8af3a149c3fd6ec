/*
 * exec_sort.c: a stable merge sort of pointers (ORDER BY rows, GROUP BY
 * keys). Stability gives ties their arrival order, as SQLite's sorter
 * does for equal keys in practice.
 */
#include <string.h>

#include "exec.h"

/* Bottom-up: runs of width w merged from `src` into `dst`, then swapped. */
void pv_msort(void **items, size_t n, void **tmp, pv_cmp_fn cmp, const void *ctx)
{
    void **src = items, **dst = tmp;
    size_t w, i;
    if (n < 2) return;
    for (w = 1; w < n; w *= 2) {
        for (i = 0; i < n; i += 2 * w) {
            size_t a = i, am = i + w < n ? i + w : n, b = am, bm = i + 2 * w < n ? i + 2 * w : n;
            size_t k = i;
            while (a < am && b < bm) dst[k++] = cmp(ctx, src[b], src[a]) < 0 ? src[b++] : src[a++];
            while (a < am) dst[k++] = src[a++];
            while (b < bm) dst[k++] = src[b++];
        }
        void **t = src;
        src = dst;
        dst = t;
    }
    if (src != items) memcpy(items, src, n * sizeof *items);
}

/* NULLs sort first ascending and last descending, as SQLite. */
int pv_row_cmp(const void *ctx, const void *a, const void *b)
{
    const pv_plan *plan = ctx;
    const pv_value *x = a, *y = b;
    uint32_t k;
    for (k = 0; k < plan->nkeys; k++) {
        int col = plan->keys[k].col;
        int c = pv_value_cmp(&x[col], &y[col]);
        if (c) return plan->keys[k].desc ? -c : c;
    }
    return 0;
}
