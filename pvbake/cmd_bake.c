/*
 * cmd_bake.c: `pvbake [bake] -o OUT.pvdb [-C DIR]`: the workspace of DIR
 * (its current rows) into one .pvdb file. OUT is relative to the current
 * directory, not to DIR.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmds.h"
#include "pv.h"
#include "pvdb.h"
#include "ws.h"

typedef struct bake_opts {
    const char *out;
    const char *dir;
} bake_opts;

/* Returns -1 when parsed, else the exit code to return at once. */
static int parse(int argc, char **argv, bake_opts *o)
{
    int i;
    o->out = NULL;
    o->dir = ".";
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return pvbake_usage("bake", 0);
        if ((!strcmp(a, "-o") || !strcmp(a, "-C")) && i + 1 < argc) {
            if (a[1] == 'o') o->out = argv[++i];
            else o->dir = argv[++i];
        } else if (!strncmp(a, "--output=", 9)) {
            o->out = a + 9;
        } else if (!strcmp(a, "-o") || !strcmp(a, "-C")) {
            fprintf(stderr, "pvbake: bake: option %s needs a value\n", a);
            return pvbake_usage("bake", 1);
        } else {
            fprintf(stderr, "pvbake: bake: unexpected argument '%s'\n", a);
            return pvbake_usage("bake", 1);
        }
    }
    if (!o->out || !*o->out) {
        fprintf(stderr, "pvbake: bake: -o OUT.pvdb is required\n");
        return pvbake_usage("bake", 1);
    }
    return -1;
}

int cmd_bake(int argc, char **argv)
{
    bake_opts o;
    pv_ws *ws = NULL;
    pv_bake_table *tables = NULL;
    pv_bake_info info = {"worktree", "pvbake " PV_VERSION_STRING};
    uint64_t rows = 0;
    uint32_t n = 0, i;
    struct stat st;
    int rc = parse(argc, argv, &o);
    if (rc >= 0) return rc;
    rc = PVBAKE_EXIT_FAIL;
    if (pv_ws_open(o.dir, 0, &ws) != PV_OK) {
        rc = pvbake_fail();
        goto done;
    }
    n = pv_ws_table_count(ws);
    tables = calloc(n ? n : 1, sizeof *tables);
    if (!tables) {
        fprintf(stderr, "pvbake: out of memory\n");
        goto done;
    }
    for (i = 0; i < n; i++) {
        if (pv_ws_table_bake(ws, i, &tables[i]) != PV_OK) {
            rc = pvbake_fail();
            goto done;
        }
        rows += tables[i].nrows;
    }
    if (pv_bake_write(o.out, tables, n, &info) != PV_OK) {
        rc = pvbake_fail();
        goto done;
    }
    if (stat(o.out, &st) != 0) st.st_size = 0;
    fprintf(stderr, "pvbake: wrote %s: %u table%s, %llu row%s, %llu bytes\n", o.out, n,
            n == 1 ? "" : "s", (unsigned long long)rows, rows == 1 ? "" : "s",
            (unsigned long long)st.st_size);
    rc = PVBAKE_EXIT_OK;
done:
    free(tables);
    pv_ws_close(ws);
    return rc;
}
