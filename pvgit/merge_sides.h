/*
 * merge_sides.h: the three sides of a table merge, and the file set git
 * will build, read from the commits but only as far as they differ
 * (merge_sides.c; docs/GIT.md, "Reading only what changed").
 */
#ifndef PVGIT_MERGE_SIDES_H
#define PVGIT_MERGE_SIDES_H

#include <git2.h>

#include "merge_find.h"
#include "merge_retype.h"
#include "pvgit.h"
#include "schema.h"
#include "vtree.h"

typedef struct pvgit_merge_sides {
    /* Virtual `.pv/` trees of base, ours, theirs and the merged file set
     * (vt[0] NULL when the base has no workspace). Each holds the table's
     * merged schema (see below), every chunk that is not the same blob on
     * all three sides, and of the chunks that are, only the header and the
     * lines of keys that some differing chunk mentions. Keys with no such
     * line have the same state everywhere, so they need no merging; every
     * other key replays exactly as in the full table. */
    pvgit_vtree *vt[3], *merged;
    pvgit_tree *tree[3];        /* the commits' `.pv` trees (blob files are read from them) */
    pv_ws_reader chain[2];      /* the merged set's blob files: ours' tree, then theirs' */
    char *hpath;                /* the receiving chunk: the highest numbered chunk changed on both
                                 * sides ("tables/<t>/NNNNNNNN.jsonl"), NULL when none is */
    int schema_both;            /* schema.jsonl changed on both sides */
    size_t differing, shared;   /* chunk files */
    size_t from_worktree;       /* shared chunks read from clean work tree files, not git objects */
    size_t keys;                /* keys collected from the differing chunks */
    pvgit_retype_keys retype;   /* both sides changed the schema and typed a column differently:
                                 * keys whose row holds a value that does not convert to the
                                 * settled type (read as NULL there): conflicts */
} pvgit_merge_sides;

/* Merged schema text of the table, produced by the caller for the sides'
 * schema texts (texts[k] NULL when side k lacks the table): 0 and *out
 * (malloc'd) or an error. */
typedef int (*pvgit_schema_merge_fn)(void *ctx, const char *const texts[3], const size_t lens[3],
                                     char **out, size_t *outlen);

/* Build the sides of table `table` from the commits c, with the workspace
 * at `prefix` (pvgit_repo_open's). `merge_schema` is called when both sides
 * changed schema.jsonl; otherwise the changed side's schema (or the common
 * one) is used. With `only_if` (a path like hpath) not NULL, only the file
 * lists are read and hpath set unless hpath is that path: the invocations
 * for the other chunks of the table read no rows. Errors: PV_ECONSTRAINT (a chunk deleted on our side and
 * changed on theirs; the schema merge's), PV_ECORRUPT (a line that does not
 * decode: file and line), PV_ENOTFOUND, PV_EIO, PV_ENOMEM. On error the
 * caller still frees *out. */
int pvgit_merge_sides_build(git_repository *repo, const pvgit_commits *c, const char *prefix,
                            const char *table, const char *only_if, pvgit_schema_merge_fn merge_schema,
                            void *ctx, pvgit_merge_sides *out);
void pvgit_merge_sides_free(pvgit_merge_sides *s);

#endif
