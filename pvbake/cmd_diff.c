/*
 * cmd_diff.c: `pvbake diff A.pvdb B.pvdb`: which tables were added,
 * removed or changed between two baked files, and how: row counts, the
 * columns, and how many column chunks differ (by checksum, so changed
 * values show even when the row count is the same). Reads directories
 * only. Exit 0 whether or not they differ (like `git diff`; the output
 * says "no differences"), 1 when a file cannot be read.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "pv.h"
#include "pvdb.h"

static int parse(int argc, char **argv, const char **a, const char **b)
{
    int i;
    *a = *b = NULL;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) return pvbake_usage("diff", 0);
        if (argv[i][0] == '-' || (*a && *b)) {
            fprintf(stderr, "pvbake: diff: unexpected argument '%s'\n", argv[i]);
            return pvbake_usage("diff", 1);
        }
        if (!*a) *a = argv[i];
        else *b = argv[i];
    }
    if (!*a || !*b) {
        fprintf(stderr, "pvbake: diff: two files are required\n");
        return pvbake_usage("diff", 1);
    }
    return -1;
}

static int same_schema(const pv_schema *x, const pv_schema *y)
{
    uint32_t c;
    if (x->ncols != y->ncols || x->npk != y->npk) return 0;
    for (c = 0; c < x->ncols; c++)
        if (strcmp(x->cols[c].name, y->cols[c].name) || x->cols[c].type != y->cols[c].type ||
            x->cols[c].not_null != y->cols[c].not_null || x->cols[c].pk_pos != y->cols[c].pk_pos)
            return 0;
    return 1;
}

/* Chunks of table (ta in a, tb in b) whose checksum or row span differs. */
static uint64_t changed_chunks(pvdb_file *a, uint32_t ta, pvdb_file *b, uint32_t tb,
                               uint32_t ncols, uint64_t *total)
{
    uint32_t ga = pvdb_group_count(a, ta), gb = pvdb_group_count(b, tb), g, c;
    uint32_t ng = ga > gb ? ga : gb;
    uint64_t n = 0;
    *total = (uint64_t)ng * ncols;
    for (g = 0; g < ng; g++)
        for (c = 0; c < ncols; c++) {
            pvdb_chunk_info x, y;
            if (g >= ga || g >= gb || pvdb_chunk_info_get(a, ta, g, c, &x) != PV_OK ||
                pvdb_chunk_info_get(b, tb, g, c, &y) != PV_OK || x.checksum != y.checksum ||
                x.rows != y.rows || x.first_row != y.first_row)
                n++;
        }
    return n;
}

static int cmp_name(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

int cmd_diff(int argc, char **argv)
{
    const char *pa, *pb, **names = NULL;
    pvdb_file *a = NULL, *b = NULL;
    uint32_t na, nb, i, n = 0, diffs = 0;
    int rc = parse(argc, argv, &pa, &pb);
    if (rc >= 0) return rc;
    rc = PVBAKE_EXIT_FAIL;
    if (pvdb_open(pa, &a) != PV_OK || pvdb_open(pb, &b) != PV_OK) {
        rc = pvbake_fail();
        goto done;
    }
    na = pvdb_table_count(a);
    nb = pvdb_table_count(b);
    names = malloc(((size_t)na + nb + 1) * sizeof *names);
    if (!names) {
        fprintf(stderr, "pvbake: out of memory\n");
        goto done;
    }
    for (i = 0; i < na + nb; i++) {
        pv_source s;
        if (i < na) pvdb_table_source(a, i, &s);
        else pvdb_table_source(b, i - na, &s);
        if (i >= na && pvdb_table_index(a, s.schema->name, strlen(s.schema->name)) >= 0) continue;
        names[n++] = s.schema->name;
    }
    qsort(names, n, sizeof *names, cmp_name);
    for (i = 0; i < n; i++) {
        int ia = pvdb_table_index(a, names[i], strlen(names[i]));
        int ib = pvdb_table_index(b, names[i], strlen(names[i]));
        pv_source sa, sb;
        uint64_t total, ch;
        if (ia < 0) {
            pvdb_table_source(b, (uint32_t)ib, &sb);
            printf("+ %s: added, %llu rows\n", names[i], (unsigned long long)sb.nrows);
            diffs++;
            continue;
        }
        pvdb_table_source(a, (uint32_t)ia, &sa);
        if (ib < 0) {
            printf("- %s: removed, had %llu rows\n", names[i], (unsigned long long)sa.nrows);
            diffs++;
            continue;
        }
        pvdb_table_source(b, (uint32_t)ib, &sb);
        if (!same_schema(sa.schema, sb.schema)) {
            printf("~ %s: columns changed, %llu -> %llu rows\n", names[i],
                   (unsigned long long)sa.nrows, (unsigned long long)sb.nrows);
            diffs++;
            continue;
        }
        ch = changed_chunks(a, (uint32_t)ia, b, (uint32_t)ib, sa.schema->ncols, &total);
        if (sa.nrows == sb.nrows && ch == 0) continue;
        if (sa.nrows != sb.nrows)
            printf("~ %s: %llu -> %llu rows (%+lld), %llu of %llu column chunks differ\n",
                   names[i], (unsigned long long)sa.nrows, (unsigned long long)sb.nrows,
                   (long long)(sb.nrows - sa.nrows), (unsigned long long)ch,
                   (unsigned long long)total);
        else
            printf("~ %s: %llu rows, values changed in %llu of %llu column chunks\n", names[i],
                   (unsigned long long)sa.nrows, (unsigned long long)ch,
                   (unsigned long long)total);
        diffs++;
    }
    if (!diffs) printf("no differences in tables or rows\n");
    rc = PVBAKE_EXIT_OK;
done:
    free(names);
    pvdb_close(a);
    pvdb_close(b);
    return rc;
}
