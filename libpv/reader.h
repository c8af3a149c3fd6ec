/*
 * reader.h: where a workspace's files are read from.
 *
 * The store reads `.pv/` through this interface: from the work tree (the
 * POSIX reader, ws_reader.c) or, in pvdev and pvbake, from any git revision
 * through libgit2 (pvgit/), so that libpv itself never links git. Paths are
 * relative to `.pv/`, with '/' separators: "format",
 * "tables/airports/schema.jsonl", "blobs/9f/86d0...".
 */
#ifndef PV_READER_H
#define PV_READER_H

#include <stddef.h>
#include <stdint.h>

typedef struct pv_ws_reader {
    void *ctx;
    /* A label for messages ("worktree", "HEAD~1 (3f2a9c1)"). */
    const char *label;
    /* The whole file, NUL-terminated, into *data (malloc'd: the caller
     * frees it). Errors: PV_ENOTFOUND, PV_ELIMIT (over max bytes), PV_EIO,
     * PV_ENOMEM. */
    int (*read)(void *ctx, const char *path, size_t max, char **data, size_t *len);
    /* The entry names of a directory (malloc'd array of malloc'd strings:
     * free with pv_names_free). A missing directory gives 0 names. */
    int (*list)(void *ctx, const char *dir, char ***names, size_t *n);
    /* A file's size in bytes. Errors: PV_ENOTFOUND, PV_EIO. */
    int (*size)(void *ctx, const char *path, uint64_t *size);
} pv_ws_reader;

void pv_names_free(char **names, size_t n);

/* The work tree reader over the `.pv` directory `pvdir` (borrowed). */
void pv_ws_reader_posix(pv_ws_reader *r, const char *pvdir);

#endif
