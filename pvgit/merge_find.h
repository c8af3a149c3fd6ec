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
    /* set by pvgit_find_merge when it finds nothing although HEAD and a
     * commit git hints at hold ours and theirs: how many merge bases they
     * have when two or more (a criss-cross merge whose virtual base could
     * not be rebuilt), else 0 */
    size_t unbuilt_bases;
    /* set by pvgit_find_merge when no commit is hinted at and two readings
     * hold the three versions with different files of the table: HEAD
     * merging a ref tip (the triple found: git merge-tree), and HEAD
     * picking `pick` over its parent `pick_base` (a cherry-pick, which
     * exposes nothing): the caller must merge both ways */
    int ambiguous;
    git_oid pick, pick_base;
} pvgit_commits;

/* Make the commit git's inner merge of x (ours) and y (theirs) over
 * `base` gives, as git does for the virtual base of a criss-cross merge:
 * 0 and *out, or an error. */
typedef int (*pvgit_vbase_fn)(void *ctx, const git_oid *base, const git_oid *x, const git_oid *y, git_oid *out);

/* Find commits whose trees hold exactly versions o, a and b at `path`
 * (relative to the top of the tree). Ours is HEAD when it holds a, else
 * another candidate: a merge base of HEAD and theirs (git's inner merge of
 * a criss-cross merge, or a virtual commit git merged some of them into),
 * a ref tip (git merge-tree). The base is their one merge base when it
 * holds o; with several, the virtual base git builds of them (merge-ort:
 * newest first, reversed, merged pairwise; each pair over its own base
 * found the same way), made through `vbase` (may be NULL), when it holds o;
 * else theirs' parent. Returns 1 when found, 0 when not (the caller merges
 * the file alone; out->unbuilt_bases says whether that is a criss-cross
 * merge it should refuse). */
int pvgit_find_merge(git_repository *repo, const char *path, const pvgit_version *o,
                     const pvgit_version *a, const pvgit_version *b, pvgit_vbase_fn vbase, void *ctx,
                     pvgit_commits *out);

#endif
