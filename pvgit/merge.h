/*
 * merge.h: the three-way merge of a workspace file, table by table
 * (docs/GIT.md). Used by `pvdev merge-driver`.
 */
#ifndef PVGIT_MERGE_H
#define PVGIT_MERGE_H

#include <stddef.h>

#include "merge_find.h"

typedef struct pvgit_merge_stats {
    int table_level;      /* 1: merged from the three verified commits */
    size_t from_theirs;   /* rows taken from theirs */
    size_t cell_merged;   /* rows merged cell by cell */
    size_t fixups;        /* records appended to this file */
    size_t conflicts;     /* conflict records written */
    size_t chunks_read;   /* chunk files that differ between the sides: read whole */
    size_t chunks_scanned;/* chunk files the sides share: scanned for the keys of those */
    size_t chunks_from_worktree; /* ... of which read from clean work tree files */
    size_t keys;          /* keys the differing chunks mention */
    size_t schema_conflicts; /* schema.jsonl: conflicting column changes (listed on stderr) */
    int schema_settled;   /* ... each settled as ours has it, and written (the rows merge under it) */
    int continued;        /* the records came after a continuation header (the merged columns) */
    size_t unbuilt_bases; /* a criss-cross merge of that many merge bases whose virtual base
                           * could not be rebuilt: the file was merged alone and the run
                           * reports a conflict (returns 1) */
    int ambiguous;        /* no commit hinted at, and merging a ref tip or picking a commit
                           * below it give different bytes: a conflict (returns 1) */
} pvgit_merge_stats;

/* Merge the file git names `path` (relative to the top of the work tree,
 * e.g. ".pv/tables/t/00000003.jsonl") from its base, ours and theirs
 * versions in the files o_path, a_path and b_path; the result replaces
 * a_path. Run at the top of the work tree. Returns 0 when clean, 1 when
 * conflicts were recorded (the file stays valid) or the merge cannot be
 * made exactly (st->unbuilt_bases: the file is merged alone;
 * st->ambiguous: a cherry-pick's result is written), or a negative PV_E*
 * error (a_path is then unchanged). */
int pvgit_merge_file(const char *o_path, const char *a_path, const char *b_path,
                     const char *path, pvgit_merge_stats *st);

/* The table-level merge of table `table` (workspace at `prefix`) between
 * the commits c, as the driver's invocation for the receiving chunk makes
 * it: *hpath ("tables/<t>/NNNNNNNN.jsonl") and its new bytes (*bytes,
 * *len), or *hpath NULL when no chunk changed on both sides. Used to
 * rebuild the virtual base of a criss-cross merge (merge_vbase.c). The
 * caller frees *hpath and *bytes. Errors: those of pvgit_merge_file;
 * PV_ECONSTRAINT when the schema changes conflict (git then keeps ours'
 * bytes). */
int pvgit_merge_table_at(git_repository *repo, const pvgit_commits *c, const char *prefix, const char *table,
                         char **hpath, char **bytes, size_t *len);

#endif
