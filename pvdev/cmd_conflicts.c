/*
 * cmd_conflicts.c: `pvdev conflicts [TABLE]`: the merge conflicts recorded
 * in the workspace's chunks, row by row, with the cells that differ.
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "conflict_util.h"
#include "db.h"
#include "pv.h"

static const char *const side_name[3] = {"base", "ours", "theirs"};

static int cell_differs(const pv_ws_conflict *c, uint32_t col)
{
    const pv_value *v[3];
    int k;
    for (k = 0; k < 3; k++) v[k] = c->side[k] ? &c->side[k][col] : NULL;
    for (k = 1; k < 3; k++) {
        if (!v[0] != !v[k]) return 1;
        if (v[0] && (v[0]->type != v[k]->type || pv_value_cmp(v[0], v[k]) != 0)) return 1;
    }
    return 0;
}

static void show(const pv_schema *s, const pv_ws_conflict *c, pv_buf *tmp)
{
    uint32_t col;
    int k;
    pvdev_key_text(tmp, s, c->key);
    printf("%s %s  (chunk %08u.jsonl line %zu)\n", s->name, tmp->p, c->chunk, c->line);
    for (k = 0; k < 3; k++)
        if (!c->side[k]) printf("    %-6s  (no row)\n", side_name[k]);
    for (col = 0; col < s->ncols; col++) {
        if (s->cols[col].hidden || !cell_differs(c, col)) continue;
        printf("    %s:", s->cols[col].name);
        for (k = 0; k < 3; k++) {
            if (!c->side[k]) continue;
            pvdev_value_text(tmp, &c->side[k][col]);
            printf("  %s %s", side_name[k], tmp->p);
        }
        putchar('\n');
    }
}

int cmd_conflicts(int argc, char **argv)
{
    pv_db *db = NULL;
    pv_buf tmp = PV_BUF_INIT;
    const char *only = NULL;
    uint32_t t;
    long total = 0;
    if (argc > 1 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: pvdev conflicts [TABLE]\n\n"
               "List the merge conflicts the merge driver recorded, row by row, with the\n"
               "cells that differ between base, ours and theirs. Settle them with\n"
               "'pvdev resolve'.\n");
        return PVDEV_EXIT_OK;
    }
    if (argc > 2) {
        fprintf(stderr, "usage: pvdev conflicts [TABLE]\n");
        return PVDEV_EXIT_USAGE;
    }
    if (argc == 2) only = argv[1];
    if (pv_open(".", PV_OPEN_READONLY, &db) != PV_OK) return pvdev_fail(NULL);
    for (t = 0; t < pv_ws_table_count(db->ws); t++) {
        const pv_schema *s = pv_ws_table_schema(db->ws, t);
        const pv_ws_conflict *c;
        long n, i;
        if (only && strcmp(s->name, only) != 0) continue;
        n = pv_ws_conflicts(db->ws, t, &c);
        if (n < 0) {
            pv_close(db);
            pv_buf_free(&tmp);
            return pvdev_fail(NULL);
        }
        for (i = 0; i < n; i++) show(s, &c[i], &tmp);
        total += n;
    }
    if (!total) printf("no conflicts\n");
    pv_buf_free(&tmp);
    pv_close(db);
    return PVDEV_EXIT_OK;
}
