/*
 * resolve_schema.h: `pvdev resolve` on a table whose schema file git holds
 * as conflicted (resolve_schema.c; docs/GIT.md, "Conflicts").
 *
 * The merge driver writes a conflicted schema settled as ours has it and
 * merges the rows under it (merge_schema.c, merge_retype.c). `resolve
 * --ours` keeps that. `resolve --theirs` makes the schema theirs'
 * settlement (what a git user gets from `git checkout --theirs` for the
 * conflicted things) and rewrites the table's chunk files where a column's
 * type changes, so every value already there reads under the new type.
 */
#ifndef PVGIT_RESOLVE_SCHEMA_H
#define PVGIT_RESOLVE_SCHEMA_H

#include "pvgit.h"
#include "schema.h"
#include "util.h"

typedef struct pvgit_schema_resolution {
    int conflicted;      /* git's index holds the table's schema.jsonl as conflicted */
    int switched;        /* this call made the work tree's schema theirs' settlement */
    size_t rewritten;    /* chunk files rewritten under the new types */
    pv_schema *before;   /* when switched: the schema before (ours' settlement) */
    char theirs[48];     /* when switched: the commit theirs' rows are read from
                            (MERGE_HEAD, CHERRY_PICK_HEAD or REBASE_HEAD), "" if none
                            holds git's theirs version of the schema */
} pvgit_schema_resolution;

/* Settle the schema conflict of table `table` of the workspace in the
 * current directory for `side` (PV_SIDE_OURS or PV_SIDE_THEIRS). Nothing
 * is done when git does not hold the schema as conflicted (out->conflicted
 * 0), when side is ours, or when the work tree's schema is no longer the
 * driver's ours' settlement (already switched, or edited by hand). Else
 * theirs' settlement is written with every chunk converted
 * (pvgit_retype_chunk_quiet); a value that does not convert is refused
 * unless its key is one of `chosen` (keys in pvgit_retype_key text, one a
 * line: rows that resolve replaces with theirs' right after). The files
 * are written whole beside the old ones, then renamed in turn, the schema
 * last. Errors: PV_ECONSTRAINT (a value that does not convert: table,
 * column, key, file and line; theirs' settlement keeps a column ours
 * dropped, whose values the merge did not bring; a different primary
 * key), PV_ECORRUPT, PV_EIO, PV_ENOMEM. Free *out with
 * pvgit_schema_resolution_free. */
int pvgit_resolve_schema(const char *table, int side, const pv_buf *chosen, pvgit_schema_resolution *out);

void pvgit_schema_resolution_free(pvgit_schema_resolution *r);

#endif
