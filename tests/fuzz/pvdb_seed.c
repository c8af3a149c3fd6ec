/*
 * pvdb_seed.c: bake a workspace with a chosen row-group size and without
 * zstd, for fuzz seeds that reach the decoders and the row-group walk with
 * small files (pvbake always writes 65536-row groups and compresses).
 * Built and run by tests/fuzz/make_pvdb_seeds.sh only.
 *
 * Usage: pvdb_seed WORKSPACE_DIR OUT.pvdb ROWS_PER_GROUP [nozstd]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pv.h"
#include "pvdb.h"
#include "pvdb_format.h"
#include "ws.h"

int main(int argc, char **argv)
{
    pv_ws *ws = NULL;
    pv_bake_table tables[64];
    pv_bake_info info = {"worktree", "pvdb_seed"};
    uint32_t i, n;
    unsigned flags = 0;

    if (argc < 4) {
        fprintf(stderr, "usage: pvdb_seed WORKSPACE_DIR OUT.pvdb ROWS_PER_GROUP [nozstd]\n");
        return 2;
    }
    if (argc > 4 && strcmp(argv[4], "nozstd") == 0) flags |= PVDB_WRITE_NO_ZSTD;
    if (pv_ws_open(argv[1], 0, &ws)) goto fail;
    n = pv_ws_table_count(ws);
    if (n > 64) {
        fprintf(stderr, "pvdb_seed: too many tables\n");
        return 1;
    }
    for (i = 0; i < n; i++)
        if (pv_ws_table_bake(ws, i, &tables[i])) goto fail;
    if (pvdb_write_ex(argv[2], tables, n, &info, (uint32_t)atoi(argv[3]), flags)) goto fail;
    pv_ws_close(ws);
    return 0;
fail:
    fprintf(stderr, "pvdb_seed: %s\n", pv_errmsg());
    pv_ws_close(ws);
    return 1;
}
