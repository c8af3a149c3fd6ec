/*
 * ws.h: the `.pv/` workspace store (docs/FORMAT.md, parts 1 and 2).
 *
 * A workspace is a directory of append-only, canonical text chunk files,
 * one record per line, plus a SHA-256 content-addressed blob store. Opening
 * reads the table list and schemas; a table's rows are loaded on first use
 * by replaying its chunks in order (the last record of a key wins), and kept
 * as full-length column vectors sorted by primary key.
 */
#ifndef PV_WS_H
#define PV_WS_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "pvdb.h"
#include "schema.h"
#include "value.h"

typedef struct pv_ws pv_ws;

/* Version of the workspace layout, in `.pv/format`. */
#define PV_WS_FORMAT_VERSION 1

/* A chunk is sealed (never appended to again) once it reaches this size;
 * the next record starts a new chunk file. */
#define PV_CHUNK_SEAL_BYTES (1u << 20)

/* TEXT and BLOB values longer than this many bytes are stored in
 * `.pv/blobs/` and the record carries their digest. Part of the canonical
 * form: changing it changes the format version. */
#define PV_BLOB_THRESHOLD 1024

/* Create `dir/.pv/`. Errors: PV_EEXISTS, PV_EIO, PV_ENOMEM. */
int pv_ws_init(const char *dir);

/* Open the workspace of `dir` (the directory holding `.pv/`). A torn last
 * line of a chunk (no final newline, from a crash) is cut off with a warning
 * on stderr when writable, and reported as PV_ECORRUPT otherwise. The
 * handle reads the snapshot taken here (pv.h, pv_open); a read that finds
 * its chunks rewritten since by another process (the rewrite count,
 * docs/FORMAT.md part 1) takes a new one if it is the handle's first, and
 * fails with PV_EBUSY otherwise (every function below that reads a table).
 * Errors: PV_ENOTFOUND (no `.pv/`), PV_EFORMAT (newer layout version),
 * PV_ECORRUPT (a schema or chunk line that does not parse: file and line),
 * PV_EIO, PV_ENOMEM. */
int pv_ws_open(const char *dir, int writable, pv_ws **out);
void pv_ws_close(pv_ws *ws);

/* Durability of a writable workspace's commits (docs/FORMAT.md part 1,
 * "Durability"):
 * - PV_WS_SYNC: before COMMIT returns, every chunk file it appended to, the
 *   journal, schema and blob files it wrote, and the directories it
 *   changed are fsynced. A committed transaction survives a power loss.
 * - PV_WS_FAST: nothing is fsynced; the data is in the OS page cache when
 *   COMMIT returns. A crash of the process loses nothing (the kernel
 *   writes the pages out). A power loss or kernel crash can lose the last
 *   commits, and can leave the last commits of several lines partly
 *   written: the kernel writes pages back in any order, after the journal
 *   that would undo them is gone. A torn line is cut off at the next
 *   writable open, so a one-line commit is whole or absent.
 * - PV_WS_DURABILITY_DEFAULT: the environment variable PV_DURABILITY
 *   (`sync` or `fast`; unset or empty: sync). */
#define PV_WS_DURABILITY_DEFAULT 0
#define PV_WS_SYNC 1
#define PV_WS_FAST 2

/* pv_ws_open choosing the durability (one of the three above). A
 * read-only open ignores it. Errors: as pv_ws_open, and PV_EMISUSE for an
 * unknown `durability`, or, writable with PV_WS_DURABILITY_DEFAULT, for a
 * PV_DURABILITY that is neither `sync` nor `fast` (the message names it). */
int pv_ws_open_ex(const char *dir, int writable, int durability, pv_ws **out);
/* The durability in force: PV_WS_SYNC or PV_WS_FAST. */
int pv_ws_durability(const pv_ws *ws);

/* Open, read-only, a workspace whose files come from `r` (reader.h), e.g. a
 * git revision read through libgit2 by the tools; `r` is copied, its ctx
 * borrowed until pv_ws_close. Errors as pv_ws_open. */
struct pv_ws_reader;
int pv_ws_open_reader(const struct pv_ws_reader *r, pv_ws **out);

/* pv_reopen on a workspace (pv.h): when another process committed since
 * the snapshot of *ws (ws_reopen.c), open the workspace again with the same
 * mode and settings, close *ws and put the new handle there; *changed
 * (when not NULL) says whether it did. `users`: the statements and getters still open on
 * the handle. Errors: PV_EMISUSE (users > 0, or a transaction is open:
 * nothing is done), the lock's PV_EIO, and those of pv_ws_open_ex (then
 * *ws is kept as it was). */
int pv_ws_reopen(pv_ws **ws, int users, int *changed);

/* A statement's run on the handle started (delta 1) or ended (-1): while
 * one is active, a reload of the catalog (a write transaction beginning
 * after another process committed) keeps the old snapshot's tables for it
 * instead of freeing them; they are freed when the last run ends. */
void pv_ws_runs(pv_ws *ws, int delta);

/* Tables in name order (bytewise), so every walk is reproducible. */
uint32_t pv_ws_table_count(const pv_ws *ws);
const pv_schema *pv_ws_table_schema(const pv_ws *ws, uint32_t i);
/* Index of a table by name (ASCII case-insensitive), or -1. */
int pv_ws_table_find(const pv_ws *ws, const char *name, size_t len);

/* Table i as a source for the executor (loads its rows on first use). */
int pv_ws_table_source(pv_ws *ws, uint32_t i, pv_source *out);

/* ---- secondary indexes (for the planner) -------------------------------
 * A table's index definitions are its schema's: src->schema->indexes[0 ..
 * nindexes), each with its columns (schema column indexes, in index order)
 * and its unique flag. For a workspace table (a source from
 * pv_ws_table_source or pv_db_find_table on a workspace), this finds the
 * live rows whose index columns equal key[0 .. ncols of the index):
 * *rows receives a malloc'ed array (the caller frees it; NULL when none
 * match) of *nrows pointers to rows of schema->ncols values, in primary
 * key order, borrowed from the table: valid until the next write to it.
 * A unique index gives at most one row. Each key value is first converted
 * to its column's type as an INSERT would store it (pv_value_convert: 1.0
 * finds the INTEGER 1, the text '7' the INTEGER 7); a NULL, or a value that
 * does not convert, matches nothing, as `=` does. The lookup is a hash
 * probe (the index is built from the rows on first use, O(rows) once, then
 * kept up to date by writes): equality on every index column only, no
 * prefixes or ranges. Errors: PV_EMISUSE (not a workspace table),
 * PV_ERANGE (no such index), PV_ENOMEM. */
int pv_ws_source_index_lookup(const pv_source *src, uint32_t index, const pv_value *key,
                              const pv_value ***rows, size_t *nrows);
/* Prefix and range lookups on the same indexes: the live rows whose first
 * neq index columns equal eq[0 .. neq) (pv_value_cmp: 1 equals 1.0) and,
 * when `range`, whose next index column is not NULL and lies in [lo, hi]
 * (inclusive; lo or hi NULL: unbounded on that side). Values are compared
 * as they are: the caller converts a comparison's constants as the
 * comparison would (exec_access.c), and an eq value that is NULL matches
 * nothing. Rows as for pv_ws_source_index_lookup (malloc'ed array of
 * borrowed rows, in primary key order, valid until the next write). It
 * reads a sorted order of the index built on first use (O(rows log rows),
 * again after any write to the table). Errors: PV_EMISUSE (not a workspace
 * table; neq + range more than the index's columns, or neither),
 * PV_ERANGE (no such index), PV_ELIMIT, PV_ENOMEM. */
int pv_ws_source_index_range(const pv_source *src, uint32_t index, const pv_value *eq, uint32_t neq,
                             int range, const pv_value *lo, const pv_value *hi, const pv_value ***rows,
                             size_t *nrows);

/* Table i as input to pv_bake_write: current rows only, by primary key,
 * blob references resolved to their bytes. Lives until the next write to
 * the table or pv_ws_close. Errors: PV_ECONSTRAINT when the table has
 * unresolved merge conflicts (they must not be baked). */
int pv_ws_table_bake(pv_ws *ws, uint32_t i, pv_bake_table *out);
/* The same rows whatever the conflicts (the merge driver's view). */
int pv_ws_table_rows(pv_ws *ws, uint32_t i, pv_bake_table *out);

/* An unresolved merge conflict found in a table's chunks (docs/GIT.md):
 * the key (npk values), and the base, ours and theirs rows (ncols values in
 * schema order; NULL where the row is absent). Borrowed until the next
 * write to the table. */
typedef struct pv_ws_conflict {
    uint32_t chunk;        /* the chunk file's number */
    size_t line;           /* 1-based line in it */
    const pv_value *key;
    const pv_value *side[3];
} pv_ws_conflict;

/* The conflicts of table i (loads it). Returns their count, or a negative
 * error; *out is borrowed. */
long pv_ws_conflicts(pv_ws *ws, uint32_t i, const pv_ws_conflict **out);

/* ---- checking ----------------------------------------------------------- */

/* Called once per problem with a message naming its file and line. */
typedef void (*pv_fsck_report)(void *ctx, const char *problem);
typedef struct pv_fsck_stats {
    size_t tables, chunks, records, refs, blobs, conflicts, problems;
} pv_fsck_stats;

/* Check every file of the workspace `r` reads (reader.h), reporting every
 * problem instead of stopping at the first: layout version, schemas, every
 * chunk line (types, header placement, final newline, conflict markers and
 * records), blob references (exist, size and SHA-256) and blob files (named
 * by their digest). Returns PV_OK when it could look (st->problems says
 * what it found), or PV_ENOTFOUND / PV_EIO when there is no workspace. */
int pv_ws_fsck(const struct pv_ws_reader *r, pv_fsck_report report, void *ctx, pv_fsck_stats *st);

/* pv_ws_fsck of the work tree of `dir` (the directory holding .pv/) as one
 * committed state, as a reader sees it (ws_fsck_snap.c): listings, schema
 * files and chunk sizes taken under the shared commit lock, chunks read
 * after it up to those sizes, and the whole check made again (its
 * problems dropped) when a commit rewrote chunks meanwhile, at most 8
 * times. Problems are reported once the check is known good. Errors: as
 * pv_ws_fsck, the lock's PV_EIO, PV_ENOMEM, and PV_EBUSY when each of the
 * 8 checks met a rewrite. */
int pv_ws_fsck_worktree(const char *dir, pv_fsck_report report, void *ctx, pv_fsck_stats *st);

/* Only the unique indexes of table `table` of an open workspace, on its
 * rows: each live row sharing an index's value with an earlier one is a
 * problem reported as pv_ws_fsck reports it (both keys and the value), and
 * counted in st->problems. What a merge can break that the files do not
 * show (the pre-merge-commit hook). Errors: PV_ENOTFOUND (no such table),
 * the table load's (PV_ECORRUPT, PV_EIO, PV_ENOMEM). */
int pv_ws_check_unique(pv_ws *ws, const char *table, pv_fsck_report report, void *ctx, pv_fsck_stats *st);

/* ---- maintenance ---------------------------------------------------------- */

/* Compact table `table` (every table when NULL): each chunk holding a
 * record that is not its key's last (a superseded version, a delete) is
 * rewritten under its own name with the other records, in their order,
 * under a chunk header of version 2 naming the bytes it replaced; no chunk
 * is removed or renamed (docs/FORMAT.md part 1), so a branch that appended
 * to one meets the change in a modify/modify, which git hands to the merge
 * driver (docs/GIT.md). One atomic commit for all tables. The history of
 * edits leaves the work tree (git keeps it); commit the result on its own,
 * saying so. *tables counts the tables whose chunks changed. Errors:
 * PV_ENOTFOUND, PV_ECONSTRAINT (unresolved conflicts), PV_ECORRUPT (a
 * chunk that does not read), PV_EMISUSE (inside a transaction),
 * PV_ELOCKED, PV_EIO, PV_ENOMEM. */
int pv_ws_compact(pv_ws *ws, const char *table, size_t *tables);

/* Save a checkpoint of table `table` (docs/LOADING.md) from its rows in
 * memory, when they are loaded and are exactly its committed chunks (no
 * transaction open, no commit by another process since): a bulk import
 * calls it so the next reader maps the rows instead of replaying them.
 * Does nothing otherwise, or on a git tree. A failure to write the
 * checkpoint is not an error (a cache). Errors: PV_EIO (the commit lock,
 * reading a chunk), PV_ENOMEM. */
int pv_ws_checkpoint(pv_ws *ws, const char *table);

/* Remove the blob files that no line of any chunk refers to (history and
 * conflict records included). Errors: PV_ECORRUPT (a line that does not
 * decode: nothing is removed), PV_EMISUSE, PV_ELOCKED, PV_EIO. */
int pv_ws_gc(pv_ws *ws, size_t *removed, uint64_t *bytes);

/* The writes, transactions and lookups of db.h, on a workspace; each
 * behaves as its pv_db_* twin documented there. */
int pv_ws_create_table(pv_ws *ws, pv_schema *schema, int if_not_exists);
int pv_ws_drop_table(pv_ws *ws, const char *table, int if_exists);
int pv_ws_alter_table(pv_ws *ws, const char *table, pv_schema *schema, const int *from);
int pv_ws_write(pv_ws *ws, const char *table, const pv_value *rows, size_t nrows,
                size_t ncols, int mode, const char *origin, size_t first_line,
                size_t *nwritten);
int pv_ws_delete(pv_ws *ws, const char *table, const pv_value *keys, size_t nkeys,
                 size_t *ndeleted);

/* pv_ws_write of rows the caller hands over: `rows` (malloc'ed, nrows x
 * ncols values, ncols = the table's column count) and `*arena`, which
 * holds the bytes of every TEXT and BLOB value of the rows, belong to the
 * workspace from the call on, whatever it returns: the caller neither uses
 * nor frees them again (*arena is left empty or freed), and `origin` must
 * not point into them. A keyless table's NULL hidden keys are generated
 * first, in place (their text in *arena). Then, into an empty table without
 * secondary indexes, with rows already of their column types and keys
 * strictly ascending (`pvdev import` of a sorted file, or of any file into
 * a keyless table), the table keeps both as its own rows instead of copying
 * 3 million rows of values and strings; any other write is pv_ws_write,
 * then frees them. Behaviour,
 * transactions and errors as pv_ws_write. */
int pv_ws_write_owned(pv_ws *ws, const char *table, pv_value *rows, size_t nrows,
                      size_t ncols, pv_arena *arena, int mode, const char *origin,
                      size_t first_line, size_t *nwritten);

/* As pv_db_lookup: *row is valid until the next lookup or write on this
 * handle (a row read from the table's vectors lives in one buffer that the
 * next lookup overwrites). */
int pv_ws_lookup(pv_ws *ws, const char *table, const pv_value *key, const pv_value **row);
int pv_ws_begin(pv_ws *ws);
int pv_ws_commit(pv_ws *ws);
int pv_ws_rollback(pv_ws *ws);
int pv_ws_in_txn(const pv_ws *ws);
/* PV_OK when ws was opened writable, else PV_EREADONLY naming it. */
int pv_ws_check_writable(const pv_ws *ws);
size_t pv_ws_savepoint(pv_ws *ws);
int pv_ws_rollback_to(pv_ws *ws, size_t mark);

#endif
