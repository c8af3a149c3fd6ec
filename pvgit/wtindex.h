/*
 * wtindex.h: which work tree files are clean, from git's index (stat data
 * and blob ids), without reading them. Clean copies stand in for blobs:
 * reading a file is cheaper than inflating the object (wtindex.c).
 */
#ifndef PVGIT_WTINDEX_H
#define PVGIT_WTINDEX_H

#include <git2.h>
#include <time.h>

typedef struct pvgit_wtindex {
    git_index *index;        /* NULL: none (a bare repository, no index file) */
    struct timespec mtime;   /* when the index file was written */
} pvgit_wtindex;

/* Load repo's index. Never fails: without one, every file is "not known
 * clean" (callers then read git objects: slower, never wrong). */
void pvgit_wtindex_open(pvgit_wtindex *w, git_repository *repo);
void pvgit_wtindex_free(pvgit_wtindex *w);

/* The blob id the index records for `rel` (the path from the top of the
 * work tree), when the file at `path` has that entry's stat data (size,
 * mtime, inode) and the entry is not racily clean (modified in the same
 * instant the index was written: git's rule): 1 and *id, else 0. */
int pvgit_wtindex_clean_id(const pvgit_wtindex *w, const char *rel, const char *path, git_oid *id);

#endif
