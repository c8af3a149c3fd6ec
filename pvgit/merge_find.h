/*
 * merge_find.h: finding the base, ours and theirs commits of a merge from
 * inside a merge driver (merge_find.c).
 */
#ifndef PVGIT_MERGE_FIND_H
#define PVGIT_MERGE_FIND_H

#include <git2.h>

/* One version of the merged file as git handed it to the driver. */
typedef struct pvgit_version {
    int present;     /* 0: the file does not exist on that side (%O of add/add) */
    git_oid oid;     /* its blob id (git_odb_hash of the bytes) */
} pvgit_version;

typedef struct pvgit_commits {
    git_oid base, ours, theirs;
} pvgit_commits;

/* Make the virtual base of merge bases x and y (as git does for a
 * criss-cross merge, x as ours) as a commit: 0 and *out, or an error. */
typedef int (*pvgit_vbase_fn)(void *ctx, const git_oid *x, const git_oid *y, git_oid *out);

/* Find commits whose trees hold exactly versions o, a and b at `path`
 * (relative to the top of the tree). Ours is HEAD when it holds a, else
 * another candidate: a merge base of HEAD and theirs (git's inner merge of
 * a criss-cross merge), a ref tip (git merge-tree). The base is a merge
 * base holding o, else the virtual base `vbase` makes of two merge bases
 * (may be NULL), else theirs' parent. Returns 1 when found, 0 when not (the
 * caller merges the file alone). */
int pvgit_find_merge(git_repository *repo, const char *path, const pvgit_version *o,
                     const pvgit_version *a, const pvgit_version *b, pvgit_vbase_fn vbase, void *ctx,
                     pvgit_commits *out);

#endif
