/*
 * merge_vbase.h: the virtual merge base of a criss-cross merge, rebuilt
 * for one table (merge_vbase.c; docs/GIT.md, "Criss-cross merges").
 */
#ifndef PVGIT_MERGE_VBASE_H
#define PVGIT_MERGE_VBASE_H

#include <git2.h>

/* Send every object written to repo from now on to an in-memory store
 * (libgit2's mempack, first in line for writes), so that virtual bases
 * leave nothing on disk. Call once per repository object. Errors: PV_EIO. */
int pvgit_objects_in_memory(git_repository *repo);

/* Write (after pvgit_objects_in_memory, into memory) a commit whose tree
 * is x's with the files of table `table` (workspace at `prefix`) replaced
 * by those git's inner merge of x (ours) and y (theirs) over `base` (their
 * merge base, or the virtual one of several: merge_find.c) gives when it
 * runs this driver: each file from the side that changed it, a file
 * deleted on one side and changed on the other the base's (merge-ort does
 * so in inner merges), the schema merged column by column (ours' on a
 * conflict), the receiving chunk merged by table (pvgit_merge_table_at),
 * other chunks changed on both sides ours'; and blobs/ the union of x's
 * and y's. Its parents are x and y, as git's virtual commit's. Other
 * tables are x's. Returns 0 and the commit in *out, or an error: PV_EIO,
 * PV_ENOMEM, or the table merge's. */
int pvgit_vbase_make(git_repository *repo, const char *prefix, const char *table, const git_oid *base,
                     const git_oid *x, const git_oid *y, git_oid *out);

#endif
