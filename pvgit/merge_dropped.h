/*
 * merge_dropped.h: the cells of a column one side dropped that the other
 * side changed (merge_dropped.c; docs/GIT.md, "Merging schemas").
 *
 * The rows of a table merge are read under the merged schema, which no
 * longer has a column one side dropped; an edit the other side made to
 * that column would merge away without a word. These readers see the
 * column: base and the side that kept it are read again under the merged
 * schema with the dropped columns put back, so that the merge can make
 * each row whose dropped cell that side changed a conflict (as Dolt does:
 * dolthub/dolt#6747).
 */
#ifndef PVGIT_MERGE_DROPPED_H
#define PVGIT_MERGE_DROPPED_H

#include "pvgit.h"
#include "schema.h"
#include "vtree.h"

typedef struct pvgit_dropped {
    uint32_t n;                       /* dropped columns the other side kept (0: nothing to check) */
    uint32_t col[PV_MAX_COLUMNS];     /* each one's index in `wide` (after the merged schema's columns) */
    int keeper[PV_MAX_COLUMNS];       /* ... and the side that kept it: 1 ours, 2 theirs */
    pv_schema *wide;                  /* the merged schema with those columns put back */
    pv_ws *ws[3];                     /* base, ours and theirs read under `wide` (NULL: not needed) */
    pv_bake_table t[3];               /* their rows, in key order (t[k].nrows 0 when absent) */
    uint64_t pos[3];                  /* the cursors of pvgit_dropped_changed */
} pvgit_dropped;

/* Find the columns of the table `table` that base has, the merged schema
 * (the text in vt[1] or vt[2]: merge_sides.c put it there) lacks and one
 * side's own schema (read from tree[k]) still has with base's type, and
 * read base and that side again under the merged schema with those columns
 * put back. vt[k] is read as it is (the schema file is swapped in and out
 * again). Columns whose type the keeping side changed are left out: that
 * is a schema conflict already. With no tree (a merge of the file alone),
 * or no such column, d->n is 0. Errors: those of pv_ws_open_reader and
 * pv_ws_table_rows (PV_ECORRUPT with file and line), PV_ECORRUPT (a schema
 * that does not parse), PV_ENOMEM. */
int pvgit_dropped_open(pvgit_dropped *d, const char *table, pvgit_tree *const tree[3], pvgit_vtree *const vt[3]);

/* For the rows of one key (`key`: a row of the merged schema `s`, whose
 * key columns the wide schema shares), asked in ascending key order: the
 * index in d->wide of a dropped column whose cell the keeping side
 * changed (a row base has, holding another value there), with *keeper
 * that side; or -1. A row the keeping side inserted is no edit of the
 * column: its value goes with the column, as the others' do. */
int pvgit_dropped_changed(pvgit_dropped *d, const pv_schema *s, const pv_value *key, int *keeper);

void pvgit_dropped_free(pvgit_dropped *d);

#endif
