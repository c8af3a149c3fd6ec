/*
 * resolve_rows.h: the row phase of `pvdev resolve` as one commit of the
 * workspace's rollback journal (docs/FORMAT.md, "Transactions"): the
 * settled conflict records are taken out of their chunks and the chosen
 * rows appended, whole or not at all.
 */
#ifndef PVGIT_RESOLVE_ROWS_H
#define PVGIT_RESOLVE_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"
#include "ws.h"

/* One table's part of the commit. */
typedef struct pvgit_rows_part {
    const pv_schema *s;     /* the table's current schema (borrowed) */
    const uint32_t *chunk;  /* the chunk number of each conflict record to drop */
    const size_t *line;     /* ... and its line number (1-based) */
    size_t ndrop;
    pv_buf records;         /* row / delete lines to append, encoded under `s` */
} pvgit_rows_part;

/* Encode `row` (s->ncols values; NULL: the key's row is deleted, `key`
 * npk values) as one chunk line appended to part->records, putting a large
 * value into the workspace's blob store first as every writer does.
 * Errors: PV_EIO, PV_ENOMEM. */
int pvgit_rows_add(pv_ws *ws, pvgit_rows_part *part, const pv_value *row, const pv_value *key);

/* Commit `n` parts at once. The caller holds the workspace's writer lock
 * (a transaction open on `ws`, nothing written through it) for the whole
 * run, so no other writer can change a chunk between this reading it and
 * renaming its rewritten copy over it. Each chunk holding a record to drop
 * is written whole (minus those lines) as NAME.resolve and fsynced; the
 * records go after the last line of the table's newest chunk when its
 * header lists `s`'s columns and it is below PV_CHUNK_SEAL_BYTES, else
 * into a new chunk. The journal names each rewritten chunk as moved aside
 * and each appended one's old length; then the files change, and the
 * journal is removed (the commit point). Killed halfway, the next writable
 * open rolls the whole phase back, and running resolve again redoes it.
 * The ws's loaded rows are stale afterwards: end its transaction. Test
 * hook: PV_FAULTS_RESOLVE_ROWS_CRASH=N ends the process (as SIGKILL
 * would) right after the N-th file change; PV_FAULTS_RESOLVE_ROWS_PAUSE
 * set stops it (SIGSTOP) once the chunks are read, before any change.
 * Errors: PV_ECORRUPT (a chunk shorter than a line to drop), PV_EIO,
 * PV_ENOMEM. */
int pvgit_rows_commit(pv_ws *ws, pvgit_rows_part *parts, size_t n);

/* Test hook of the resolve commits: when the environment variable `env`
 * is N, end the process (as SIGKILL would) at the N-th call counted in
 * *count. */
void pvgit_resolve_fault(const char *env, int *count);

/* One file of a resolve commit into place, `path` (a .pv/ chunk or
 * schema, journaled as `rel` relative to .pv): when `moved`, the old file
 * first goes where the journal's WS_J_MOVED op says; then the new text,
 * written beside it as path.resolve, is renamed over it. A fault point
 * (env, *count) follows each rename. Errors: PV_EIO naming the file. */
int pvgit_resolve_replace(pv_ws *ws, const char *rel, const char *path, int moved,
                          const char *env, int *count);

/* Remove the NAME.resolve files a run killed before its journal left in
 * directory `dir` (a table's, up to 300 bytes). */
void pvgit_resolve_leftovers(const char *dir);

#endif
