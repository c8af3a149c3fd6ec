/*
 * cmd_conflicts.c: `pvdev conflicts [TABLE]`: the merge conflicts recorded
 * in the workspace's chunks, row by row, with the cells that differ.
 */
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmds.h"
#include "conflict_util.h"
#include "db.h"
#include "pv.h"
#include "pvgit.h"

static const char *const side_name[3] = {"base", "ours", "theirs"};

/* Is the cell worth a line: the rows that exist disagree on it, or only
 * one side has a row (its every cell is news)? A missing row is said once,
 * as "(no row)", not in each cell: a delete against an edit shows the
 * edited cells only. */
static int cell_differs(const pv_ws_conflict *c, uint32_t col)
{
    const pv_value *first = NULL;
    int k, present = 0;
    for (k = 0; k < 3; k++) {
        if (!c->side[k]) continue;
        present++;
        if (!first) first = &c->side[k][col];
        else if (!pv_value_identical(first, &c->side[k][col])) return 1;
    }
    return present == 1;
}

/* Do the rows differ in a cell these columns show? */
static int row_changed(const pv_schema *s, const pv_value *a, const pv_value *b)
{
    uint32_t col;
    for (col = 0; col < s->ncols; col++)
        if (!s->cols[col].hidden && !pv_value_identical(&a[col], &b[col])) return 1;
    return 0;
}

/* Is the conflict visible in these columns: a cell both sides changed,
 * each to another value, a row deleted on one side and changed on the
 * other, or two different rows inserted? */
static int visible_clash(const pv_schema *s, const pv_ws_conflict *c)
{
    const pv_value *b = c->side[0], *o = c->side[1], *t = c->side[2];
    uint32_t col;
    if (!b) return !o || !t || row_changed(s, o, t);
    if (!o || !t) return o ? row_changed(s, o, b) : t && row_changed(s, t, b);
    for (col = 0; col < s->ncols; col++)
        if (!pv_value_identical(&o[col], &b[col]) && !pv_value_identical(&t[col], &b[col]) &&
            !pv_value_identical(&o[col], &t[col]))
            return 1;
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
    /* the driver's reason is in what these columns do not show */
    if (!visible_clash(s, c))
        printf("    (no cell here changed two ways: the row is held for a reason the merge driver printed, a "
               "side changed a column the other dropped, a value does not convert to the merged type, or the "
               "row lives in a later chunk)\n");
}

/* The files under .pv/ (of table `only`, or all) that git left unmerged
 * without running the merge driver: kept on one side, deleted on the
 * other, as a chunk a 'pvdev compact' from before chunk version 2 removed
 * (or a hand removed) while the other branch wrote to it. Their tables'
 * rows are not merged (docs/GIT.md, "Compacting and merging"). Printed;
 * their count. Outside a repository, or without an index: 0. */
static long git_unmerged(const char *only)
{
    git_repository *repo = NULL;
    git_index *index = NULL;
    git_index_conflict_iterator *it = NULL;
    const git_index_entry *base, *ours, *theirs;
    char *prefix = NULL;
    pv_buf want = PV_BUF_INIT; /* the paths' start: the tables' (or the table's) directory */
    long n = 0;
    if (pvgit_repo_open(".", &repo, &prefix) != PV_OK) return 0; /* (not in git: nothing to say) */
    if (pv_buf_printf(&want, "%s.pv/tables/%s%s", prefix, only ? only : "", only ? "/" : "") == 0 &&
        git_repository_index(&index, repo) == 0 && git_index_conflict_iterator_new(&it, index) == 0) {
        while (git_index_conflict_next(&base, &ours, &theirs, it) == 0) {
            const char *path = (base ? base : ours ? ours : theirs)->path;
            if ((ours && theirs) || strncmp(path, want.p, want.len) != 0) continue;
            printf("%s: %s on our side, %s on theirs: git did not run the merge driver, so the rows "
                   "of its table are not merged; 'git merge --abort' (docs/GIT.md, \"Compacting and "
                   "merging\")\n",
                   path, ours ? "changed" : "deleted", theirs ? "changed" : "deleted");
            n++;
        }
    }
    git_index_conflict_iterator_free(it);
    git_index_free(index);
    git_repository_free(repo);
    free(prefix);
    pv_buf_free(&want);
    return n;
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
               "cells that differ between base, ours and theirs (a conflict whose reason\n"
               "those cells do not show, such as an edit of a column the other side\n"
               "dropped, says so; the merge driver printed the reason). Keys and values print\n"
               "as 'pvdev diff' prints them: a key part that is not plain text in JSON\n"
               "quotes (\"x,y\",z), a TEXT or BLOB over 1024 bytes as its blob reference\n"
               "{\"sha256\":...,\"size\":N}. Settle them with 'pvdev resolve' (its KEY\n"
               "is the key as printed here). Also lists the chunk files git left\n"
               "unmerged without running the merge driver (changed on one side, deleted\n"
               "on the other, as after an older pvdev's compact): their tables' rows are\n"
               "not merged.\n");
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
    total += git_unmerged(only);
    if (!total) printf("no conflicts\n");
    pv_buf_free(&tmp);
    pv_close(db);
    return PVDEV_EXIT_OK;
}
