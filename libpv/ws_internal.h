/*
 * ws_internal.h: the workspace store's private structures, shared by ws.c
 * (catalog and schema files), ws_load.c (replaying chunks, the key index,
 * column vectors, scans) and ws_write.c (appending records).
 */
#ifndef PV_WS_INTERNAL_H
#define PV_WS_INTERNAL_H

#include <time.h>

#include "chunkline.h"
#include "reader.h"
#include "ws.h"

typedef struct ws_table {
    struct pv_ws *ws;       /* the workspace it belongs to */
    pv_schema *schema;
    char *dir;              /* .pv/tables/<name> */
    int loaded;             /* rows replayed from the chunks */

    /* Current rows: `ncols` values each, strings in `arena`. A deleted row
     * keeps its slot (live = 0) so the key index never needs removals. */
    pv_arena arena;
    pv_value *vals;
    uint8_t *live;
    size_t nrows, cap;
    size_t nlive;

    /* Conflict records met while replaying (strings in `arena`). */
    pv_ws_conflict *conflicts;
    size_t nconflicts;

    /* Open-addressing index of the primary key. A slot packs the key hash's
     * low 32 bits (high half) and row index + 1 (low half; 0 = empty): a
     * probe touches one word, compares keys only when the tags match, and
     * growing never rehashes a key. Tables hold under 2^32 row slots. */
    uint64_t *slots;
    size_t nslots;          /* a power of two, at least 2 * nrows */
    /* Rows 0..sorted_rows-1 are in strictly ascending key order (imports,
     * appends and checkpoints keep it so): until the hash index is built
     * (key_hashed), they are found by binary search (a key past the last
     * costs one comparison) and only the later rows are in `slots`; many
     * searches build the full index. The vectors merge the sorted prefix
     * with the sorted rest instead of sorting everything. */
    size_t sorted_rows;
    int key_hashed;
    size_t key_searches;    /* prefix searches made while !key_hashed */

    /* The load cache (ws_ckpt.h): the checkpoint the rows came from (its
     * mapping holds their strings: kept until unload), and what the last
     * load replayed, chunk by chunk, for the next checkpoint. */
    struct ws_ckpt *ckpt;
    struct ws_ckpt_chunk *cover;
    size_t ncover;
    struct ws_table *tail;  /* records after the checkpoint, when the
                               vectors merge them in (ws_tail.c) */

    /* The last chunk file, where appends go until it is sealed, whatever
     * its columns (after a schema change, behind a continuation header). */
    uint32_t last_chunk;    /* 0 when the table has no chunk yet */
    uint64_t last_size;
    int last_header_ok;     /* its last header lists the current columns (else
                               the next append starts with a continuation header) */

    /* Chunk sizes seen by the snapshot taken at open (or the last refresh):
     * a chunk is read only up to its size here, so a commit in progress in
     * another process is never half seen. */
    uint32_t *snap_num;
    uint64_t *snap_size;
    size_t snap_n;
    struct timespec snap_dir_mtime; /* the table directory's, at the snapshot */
    /* XXH3-64 of schema.jsonl as the catalog read it (0: written by this
     * handle): a snapshot renewed in place needs the same schemas. */
    uint64_t schema_hash;

    /* Set when the open transaction created or altered the table. */
    int txn_created;        /* new: its directory is written at commit */
    int txn_altered;        /* its schema file is rewritten at commit */
    int txn_dropped;        /* ... and lost a column: the commit marks the open chunk */
    struct ws_compact *txn_compact; /* compaction: the chunks it rewrites (ws_maint.c) */
    struct ws_table *prev;  /* the version an ALTER in this transaction replaced */

    /* Secondary indexes (UNIQUE constraints, CREATE INDEX) kept in memory
     * for this table's loaded rows: ws_index.c. NULL until built. */
    struct ws_index_set *indexes;

    /* Live rows as full-length column vectors in key order; rebuilt after a
     * write (vec_dirty). */
    int vec_dirty;
    uint64_t vec_rows;
    pv_vec *vecs;
    void **vec_data;
    uint8_t **vec_nulls;
    /* pv_ws_lookup's answer when it came from the vectors (ws_write.c):
     * ncols values borrowing their bytes. */
    pv_value *lookup_row;
    /* Key lookups and the row count without loading: the checkpoint mapped
     * lazily and its tail (ws_point.c); NULL until used. */
    struct ws_point *point;

    /* The last chunk written, kept open (O_APPEND) for the next commit's
     * appends: fd + 1 (0: none; a calloc'ed table has none) and its number.
     * Valid while the table directory is unchanged (ws_snapshot_stale checks
     * it first, then the file through this fd); closed by ws_append_close. */
    int append_fd1;
    uint32_t append_num;
    /* The table directory, opened (O_PATH) with the kept chunk: the
     * staleness check reads its time with fstat, not a path walk. fd + 1
     * (0: none); closed with the chunk. */
    int dir_fd1;

    /* What loads and bakes of this table did, for pv_ws_table_load_note
     * (pvbake -v): each PV_LOAD_CACHE_TRACE line, "; "-separated. */
    char load_note[512];
} ws_table;

/* What a compaction writes for one table at commit: each chunk holding a
 * record that is not its key's last (a superseded version, a delete)
 * rewritten under its own name with the last records only, and at times
 * the next chunk, header only (docs/FORMAT.md part 1). Planned by
 * ws_compact_plan (ws_maint.c), written by the commit (ws_txn.c). */
typedef struct ws_compact_file {
    uint32_t num;
    int created;            /* a new chunk, not a rewrite */
    pv_buf bytes;           /* its whole content */
} ws_compact_file;
typedef struct ws_compact {
    ws_compact_file *files; /* by number */
    size_t n;
} ws_compact;
void ws_compact_free(struct ws_compact *c);

/* One undo record. A transaction changes memory at once and keeps, in
 * order, what each change replaced; rollback walks the log backwards, and
 * commit reads it forwards to find every row and table to write. */
#define WS_UNDO_ROW    0    /* row slot idx of t before a write */
#define WS_UNDO_CREATE 1    /* t was created */
#define WS_UNDO_DROP   2    /* t was dropped (kept here until commit) */
#define WS_UNDO_ALTER  3    /* t replaced old_t (kept until commit) */
#define WS_UNDO_COMPACT 4   /* t is compacted at commit */
typedef struct ws_undo {
    int kind;
    ws_table *t;
    ws_table *old_t;        /* WS_UNDO_ALTER */
    size_t idx;             /* WS_UNDO_ROW */
    pv_value *old;          /* the old values (shallow copy); NULL if appended */
    uint8_t old_live;
    size_t nrun;            /* WS_UNDO_ROW appended (old NULL): slots idx ..
                               idx + nrun - 1, appended in a row (a bulk
                               insert logs one entry, not one per row) */
} ws_undo;

typedef struct ws_txn {
    int open;
    int lock_fd;            /* .pv/lock, flock'ed while the transaction runs */
    /* What this handle writes into `.pv/lock` (pid and handle token,
     * docs/FORMAT.md), and whether the file held it when the handle's last
     * transaction ended cleanly: then a writer that finds it there again
     * knows no other writer came in between (it need not rewrite it, nor
     * look for another's journal). */
    char lock_text[40];
    int lock_len;
    int lock_ours;
    /* The file lock_fd holds open: a flock on it is the writer lock only
     * while `.pv/lock` still names it (take_lock compares, each time). */
    dev_t lock_dev;
    ino_t lock_ino;
    int pv_fd;              /* .pv (O_PATH): the check stats "lock" in it, no path walk; -1 if none */
    ws_undo *undo;
    size_t nundo, cap;
    size_t floor;           /* the last savepoint handed out: entries below
                               it are never extended (rollback_to stops there) */
    pv_arena arena;         /* old row copies */
} ws_txn;

/* Workspace layout versions (docs/FORMAT.md part 1): 1, and 2, which
 * schema files with index lines need. This build reads both. `pvdev init`
 * writes PV_WS_FORMAT_VERSION (1), and the first commit that writes a
 * schema file with index lines into a workspace of an older version writes
 * WS_FORMAT_INDEXES into `.pv/format` first, so that a pvdev from before
 * index lines asks to be upgraded instead of calling the schema corrupt.
 * `pvdev fsck` (ws_fsck.c) accepts every version up to WS_FORMAT_MAX. */
#define WS_FORMAT_MAX 2
#define WS_FORMAT_INDEXES 2

struct pv_ws {
    char *root;             /* the directory holding .pv, or a label */
    char *pvdir;            /* root/.pv (work tree only) */
    pv_ws_reader rd;        /* where files are read from */
    int posix;              /* the work tree: locks, journal, torn tails */
    int writable;
    int sync;               /* fsync at commit: PV_WS_SYNC (pv_ws_open_ex) */
    int format;             /* layout version read from .pv/format */
    ws_table **tables;      /* sorted by name, bytewise */
    uint32_t ntables;
    /* Tables a reload took out of the catalog while a statement's run
     * (nruns, pv_ws_runs) may still read them: freed when the last such
     * run ends, or at pv_ws_close. */
    ws_table **retired;
    uint32_t nretired;
    int nruns;
    struct timespec tables_mtime; /* .pv/tables, at the snapshot */
    int tables_fd;          /* .pv/tables (O_PATH), opened at the snapshot; -1 if none */
    /* ws_fork_gen() when the lock files were opened: a child of fork()
     * shares the parent's open files, on which flock excludes nothing
     * between the two, so it opens its own (ws_fork_check). */
    unsigned fork_gen;
    int commit_fd;          /* .pv/journal/lock, opened once; -1 if none */
    /* The rewrite count (ws_snap.c) the snapshot was taken at, and whether
     * anything has been read from the snapshot into memory (a table's rows,
     * vectors or point state) or a transaction begun since it was taken:
     * until then a snapshot whose chunks were rewritten is renewed in place
     * instead of failing the read with PV_EBUSY. */
    uint64_t snap_gen;
    int snap_read;
    ws_txn txn;
    /* A git revision's checkpoints (ws_ckpt.h), borrowed; NULL: none. */
    const struct ws_rev_ckpt *rev_ckpt;
    /* Checkpoints are not read, only written (pv_ws_no_ckpt_read). */
    int no_ckpt_read;
    /* Threads a replay of chunks uses (ws_replay.c); 0: the default. */
    unsigned load_threads;
};

/* ws_load.c */
int ws_table_load(pv_ws *ws, ws_table *t);
void ws_table_unload(ws_table *t);
int ws_table_vectors(pv_ws *ws, ws_table *t);
uint64_t ws_key_hash(const pv_schema *s, const pv_value *row);
/* Order of a row's key against row idx's (key columns, pv_value_cmp). */
int ws_key_cmp_row(const ws_table *t, const pv_value *row, size_t idx);
/* Row index holding the key of `row` (full row, key columns used), or -1. */
long ws_key_find(const ws_table *t, const pv_value *row, uint64_t h);
/* The table loaded, then the live row whose key is key[0..npk) (converted
 * to the key columns' types): 1 and *out (in the table's rows), 0 when
 * there is none, or ws_table_load's error, PV_ENOMEM. */
int ws_key_lookup_loaded(pv_ws *ws, ws_table *t, const pv_value *key, const pv_value **out);
/* Point the key of row `idx` at that row in the index. */
int ws_key_set(ws_table *t, size_t idx, uint64_t h);
/* Append a row slot (values copied into the table arena). */
int ws_row_append(ws_table *t, const pv_value *row, size_t *idx);
int ws_row_copy_into(ws_table *t, size_t idx, const pv_value *row);
int ws_reserve(ws_table *t, size_t more);
/* Build the hash index now (a table that was still key-sorted). */
int ws_key_index_build(ws_table *t);
/* Replay the snapshot's chunks of t from chunk index `from`, byte `start`
 * of it, into `rows` (t, or a tail table: ws_tail.c), recording each
 * chunk read in t->cover; *tail grows by the bytes replayed. */
int ws_replay_from(pv_ws *ws, ws_table *t, ws_table *rows, size_t from, uint64_t start,
                   uint64_t *tail);
/* Row slots of t in key order (live ones, or all when `all`) into order[]
 * (t->nrows entries of room); *n gets their count. */
int ws_rows_in_order(ws_table *t, size_t *order, size_t *n, int all);
int ws_vectors_alloc(ws_table *t);
void ws_vectors_free(ws_table *t);
/* t->cover sized for t's snapshot, beginning with checkpoint c's chunks
 * (c may be NULL). */
int ws_cover_reset(ws_table *t, const struct ws_ckpt *c);
/* ws_tail.c: the vectors of t's checkpoint merged with the records after
 * it, without loading the rows: 1 when set up (*replayed: bytes of chunk
 * text replayed), 0 when not worth it (or a conflict record: the full load
 * reports it), or an error. */
int ws_tail_vectors(pv_ws *ws, ws_table *t, uint64_t *replayed);
void ws_tail_free(ws_table *t);
/* The table's rows for reading: its vectors straight from a checkpoint
 * when one covers every chunk, else the loaded rows. Errors as load. */
int ws_table_rows_ready(pv_ws *ws, ws_table *t);
/* Replay every chunk of t (which has no usable checkpoint) into its key-
 * ordered vectors, without building its rows when the records allow
 * (ws_replay_vec.c); otherwise t is loaded (t->loaded). A long replay
 * writes a checkpoint, as a load does. Errors as load. */
int ws_table_load_vectors(pv_ws *ws, ws_table *t);
/* The same, saving no checkpoint when `replayed` is not NULL: *replayed
 * gets the bytes of chunk text replayed (0 when t was loaded another way:
 * from a stale checkpoint, or PV_LOAD_PLAIN, which saved as a load does). */
int ws_table_load_vectors_ex(pv_ws *ws, ws_table *t, uint64_t *replayed);
extern const pv_source_ops ws_source_ops;

/* Record (and print, under PV_LOAD_CACHE_TRACE) how t's rows were got:
 * "WHAT (ROWS rows, BYTES bytes of chunk text replayed)HOW". */
void ws_load_note(ws_table *t, const char *what, uint64_t rows, uint64_t bytes, const char *how);

/* ws_index.c: drop the in-memory secondary indexes of t (its rows are
 * being unloaded). */
void ws_index_unload(ws_table *t);

/* ws.c */
/* A read-only work-tree handle of `dir` (its .pv/ unchecked) with no
 * catalog and no snapshot yet: its commit lock and rewrite count are
 * usable (ws_fsck_snap.c). Release with pv_ws_close. Errors: PV_ENOMEM. */
int ws_new(const char *dir, pv_ws **out);
int ws_chunk_path(char *out, size_t cap, const ws_table *t, uint32_t n);
/* The chunk's path relative to .pv/, for the reader. */
void ws_chunk_rel(char *out, size_t cap, const ws_table *t, uint32_t n);

int ws_write_file_atomic(const char *path, const char *data, size_t n, int sync);
/* Raise `.pv/format` to layout version `ver` if it is below (a commit, before
 * it writes what needs that version; never lowered). Errors: PV_EIO. */
int ws_format_upgrade(pv_ws *ws, int ver);
int ws_table_new(pv_ws *ws, pv_schema *schema, ws_table **out);
void ws_table_free(ws_table *t);
int ws_catalog_add(pv_ws *ws, ws_table *t);
void ws_catalog_remove(pv_ws *ws, ws_table *t);
ws_table *ws_find(pv_ws *ws, const char *name);

/* ws_snap.c: chunk lists and the snapshot of their sizes */
int ws_list_chunks(pv_ws *ws, const ws_table *t, uint32_t **out, size_t *n);
/* The snapshot of every table in the catalog, and the rewrite count; the
 * caller holds the commit lock (ws_catalog_reload takes it, shared). */
int ws_snapshot_locked(pv_ws *ws);
int ws_snapshot_stale(pv_ws *ws, int *stale);
/* Forks this process descends from (counted in each child by a
 * pthread_atfork handler, registered on the first call). */
unsigned ws_fork_gen(void);
/* In a child of fork() since the handle's lock files were opened: close
 * them (the parent's flocks stay the parent's), so the next lock opens
 * the child's own; returns 1 then, else 0. */
int ws_fork_check(pv_ws *ws);
int ws_commit_lock(pv_ws *ws, int exclusive);
void ws_commit_unlock(pv_ws *ws);

/* The rewrite count: how many commits rewrote or removed chunk bytes that
 * a snapshot may hold (a compaction, a dropped table, pvdev resolve), kept
 * in the commit lock's file (docs/FORMAT.md part 1, "Commit lock"). Every
 * other commit only appends past what any snapshot saw. A reader checks,
 * after reading chunks, that the count is still its snapshot's: then
 * every byte it read was there when the snapshot was taken.
 * ws_gen_bump: +1, by a commit holding the commit lock exclusively, before
 * it changes any chunk (Errors: PV_EIO). ws_gen_moved: 1 when the count is
 * no longer the snapshot's, for a writer holding the writer lock. */
int ws_gen_bump(pv_ws *ws);
int ws_gen_moved(pv_ws *ws);
/* The count now, for a caller holding the commit lock (0 without a lock
 * file). */
uint64_t ws_gen_read(pv_ws *ws);
/* Read what the snapshot holds of t into memory, by fn(ws, t, ctx) (a load,
 * the vectors, the point state, a bake's rows), then check under the
 * shared commit lock that no rewrite came in between. When one did, what
 * fn built is dropped (WS_READ_ROWS: t's rows and vectors, WS_READ_POINT:
 * its point state; `undo(ctx)` anything else), and, if nothing had been
 * read from the snapshot yet, the snapshot is renewed in place (the same
 * tables and schemas) and fn runs again; otherwise PV_EBUSY (reopen).
 * Inside a transaction (the writer lock: no rewrite can come) and on a git
 * tree, just fn. Returns fn's result, PV_EBUSY, or the lock's PV_EIO. */
#define WS_READ_ROWS  1
#define WS_READ_POINT 2
int ws_read(pv_ws *ws, ws_table *t, int what, int (*fn)(pv_ws *ws, ws_table *t, void *ctx),
            void (*undo)(void *ctx), void *ctx);
/* The common ones: ws_table_load, ws_table_rows_ready and ws_point_ready
 * through ws_read (each returns at once when t already has what it
 * builds). */
int ws_load_read(pv_ws *ws, ws_table *t);
int ws_rows_read(pv_ws *ws, ws_table *t);
int ws_point_read(pv_ws *ws, ws_table *t);
/* The PV_EBUSY of a snapshot whose chunks were rewritten under it. */
int ws_snap_busy(pv_ws *ws, const char *why);
int ws_snap_set(ws_table *t, uint32_t num, uint64_t size);
void ws_snap_times(pv_ws *ws, ws_table *t);  /* t NULL: the tables directory */

int ws_catalog_reload(pv_ws *ws);

/* ws_txn.c */
/* ws_point.c: lookups in a table that is not loaded. ws_point_ready makes
 * t->point current for t's snapshot: 1 when it can answer, 0 when the
 * table has no usable checkpoint (none, stale, a tail over 64 MiB, a
 * conflict record after it: load instead), or an error (PV_ENOMEM, those of
 * reading chunks). Then ws_point_rows gives the live row count and
 * ws_point_lookup the row of a key (npk values, converted to the key
 * types): 1 with *out (borrowed: valid until the next lookup or write), 0
 * when absent. Only the checkpoint segments the lookup reads are checked;
 * when one is damaged, ws_point_ready answers 0 and ws_point_lookup loads
 * the table (which ignores that checkpoint) and looks there (errors: those
 * of ws_table_load). ws_point_free releases it (any time). */
typedef struct ws_point ws_point;
int ws_point_ready(pv_ws *ws, ws_table *t);
uint64_t ws_point_rows(const ws_table *t);
int ws_point_lookup(ws_table *t, const pv_value *key, const pv_value **out);
void ws_point_free(ws_table *t);

/* Close t's kept-open chunk, if any (ws_txn.c). */
void ws_append_close(ws_table *t);
int ws_txn_touch(pv_ws *ws, ws_table *t, size_t idx, int appended);
int ws_txn_log(pv_ws *ws, int kind, ws_table *t, ws_table *old_t);
int ws_txn_auto_begin(pv_ws *ws, int *began);
int ws_txn_auto_end(pv_ws *ws, int began, int rc);

/* ws_journal.c: the rollback journal of a commit in progress */
typedef struct ws_jop {
    int kind;               /* WS_J_SIZE, WS_J_SCHEMA, WS_J_CREATED, WS_J_DROPPED, WS_J_MOVED */
    char *path;             /* relative to .pv */
    int64_t size;           /* WS_J_SIZE: length before the commit, -1: new file */
    const char *data;       /* WS_J_SCHEMA: the old schema bytes */
    size_t len;
} ws_jop;
#define WS_J_SIZE    1
#define WS_J_SCHEMA  2
#define WS_J_CREATED 3
#define WS_J_DROPPED 4
#define WS_J_MOVED   5   /* a chunk moved to journal/moved-<table>-<file> (compaction) */
/* Where a compaction parks an old chunk until its commit ends. */
void ws_moved_path(const pv_ws *ws, const char *rel, char *out, size_t cap);
int ws_journal_write(pv_ws *ws, const ws_jop *ops, size_t n);
/* .pv/journal/commit of ws into out[cap]. */
void ws_journal_path(const pv_ws *ws, char *out, size_t cap);
int ws_journal_clear(pv_ws *ws);
/* Undo an interrupted commit (writable), or, read-only, clip the snapshot
 * to what was there before it. `sweep`: also remove what dropped tables
 * left behind a finished commit. A commit undone is a crash repaired, and
 * stderr says so. */
int ws_journal_recover(pv_ws *ws, int sweep);
/* Undo our own commit that failed with `rc` after its journal was written,
 * under the commit lock: quietly (no crash happened), keeping the error
 * that made it fail as the one pv_errmsg reports. Returns rc. If the undo
 * fails too, the message says so after the first error, and the journal
 * is left for the next writable open or transaction (ws_journal_recover). */
int ws_journal_undo_own(pv_ws *ws, int rc);
int ws_journal_clip(pv_ws *ws);
int ws_journal_remove_trash(pv_ws *ws);
/* One journaled commit of file changes its caller makes (pvdev resolve):
 * under the commit lock, ops[0..n) are journaled, step(ctx, i) makes op
 * i's change for each i in order, the directories dirs[0..ndirs) are
 * synced, and the journal is cleared: the commit point. After a failure,
 * what the steps did is undone from the journal; after success, the
 * chunks moved aside are removed. The caller holds the writer lock.
 * Errors: the first of the lock's, the journal's, a step's or a sync's. */
int ws_journal_run(pv_ws *ws, const ws_jop *ops, size_t n, int (*step)(void *ctx, size_t i),
                   void *ctx, const char *const *dirs, size_t ndirs);
int ws_fsync_dir(const char *dir);
int ws_remove_tree(const char *dir);

#endif
