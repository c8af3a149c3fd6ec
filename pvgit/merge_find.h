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

/* Find commits whose trees hold exactly versions o, a and b at `path`
 * (relative to the top of the tree). Returns 1 when found (ours is HEAD),
 * 0 when not (the caller merges the file alone). */
int pvgit_find_merge(git_repository *repo, const char *path, const pvgit_version *o,
                     const pvgit_version *a, const pvgit_version *b, pvgit_commits *out);

#endif
