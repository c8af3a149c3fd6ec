/*
 * db.h: what the SQL engine asks of an open database, whatever its store.
 *
 * pv_db dispatches to the `.pv/` workspace (ws.h) or to a `.pvdb` file
 * (pvdb.h). The engine (sql_*.c, exec_*.c) only uses these functions.
 */
#ifndef PV_DB_H
#define PV_DB_H

#include <pthread.h>
#include <stddef.h>

#include "batch.h"
#include "pv.h"
#include "schema.h"
#include "util.h"
#include "value.h"

struct pv_ws;
struct pvdb_file;
struct pvdb_rowcache;

/* Reads a table as it was at a git revision, for SELECT ... AS OF 'REV'.
 * libpv cannot read git (it never links libgit2), so the tool that opens
 * the database installs one (pvdev does, through pvgit). Fills *out with a
 * source that lives until pv_close. Errors: PV_ENOTFOUND (revision or
 * table), PV_ECORRUPT, PV_EIO, PV_ENOMEM. */
typedef int (*pv_rev_resolver)(void *ctx, const char *rev, const char *table,
                               size_t len, pv_source *out);

#define PV_DB_WORKSPACE 1
#define PV_DB_PVDB      2

/* One mapping of a `.pvdb`, shared by the pv_db (while it is the current
 * file) and by every statement and getter opened on it: each holds a
 * reference, and the last release unmaps it (hot swap, pv_reopen). */
typedef struct pv_db_map {
    struct pvdb_file *file;
    int refs;                 /* atomic (__atomic builtins) */
    uint64_t dev, ino, size;  /* identity of the file mapped (pv_reopen) */
    int64_t mtime_ns;
} pv_db_map;

struct pv_db {
    int kind;                 /* PV_DB_WORKSPACE or PV_DB_PVDB */
    unsigned flags;           /* PV_OPEN_* */
    char *path;               /* as given to pv_open */
    struct pv_ws *ws;         /* PV_DB_WORKSPACE */
    /* PV_DB_PVDB: the current mapping (a reference of its own) and its
     * file; both change only in pv_reopen, under `lock` */
    pv_db_map *map;
    struct pvdb_file *file;
    pthread_mutex_t lock;     /* pv_prepare, pv_getter_open vs pv_reopen */
    uint64_t cache_bytes;     /* pv_open_options.cache_bytes, resolved (0: off) */
    struct pv_blockcache *cache; /* .pvdb: decoded blocks shared by every
                                 mapping's readers, or NULL (off) */
    int nstmts;               /* live statements and getters (atomic; pv_close
                                 refuses while > 0) */
    pv_rev_resolver resolver; /* AS OF: see pv_db_set_resolver */
    void *resolver_ctx;
    void (*resolver_free)(void *ctx);  /* called by pv_close */
};

/* Install the AS OF resolver (and what frees its context at pv_close). */
void pv_db_set_resolver(pv_db *db, pv_rev_resolver fn, void *ctx, void (*free_ctx)(void *));

/* The table as it was at revision `rev`. Errors: PV_EMISUSE ("AS OF needs
 * a git repository and pvdev" when no resolver is installed), and the
 * resolver's. */
int pv_db_find_table_at(pv_db *db, const char *rev, const char *name, size_t len,
                        pv_source *out);

/* pv_db_find_table_at for a revision written in the SQL text at byte
 * `rev_off`: what cannot be found there (no resolver, no repository, the
 * revision, the table at that revision; PV_EMISUSE, PV_ENOTFOUND) is an
 * error at the revision (pv_err_locate). Other errors as there. */
int pv_db_find_table_at_sql(pv_db *db, const char *rev, uint32_t rev_off, const char *name, size_t len,
                            pv_source *out);

/* The current mapping of a `.pvdb` database with a reference taken
 * (release with pv_db_map_release), or NULL for a workspace. Takes the
 * db's lock for a moment. */
pv_db_map *pv_db_map_acquire(pv_db *db);
/* Drop a reference; the last one unmaps the file. Accepts NULL. */
void pv_db_map_release(pv_db_map *m);

/* Count a statement or getter opened (+1) or closed (-1); thread-safe. */
void pv_db_count_user(pv_db *db, int delta);
/* A statement's run started (delta 1: from its first pv_step) or ended
 * (-1: done, reset, failed-and-reset or finalized): pv_ws_runs. */
void pv_db_count_run(pv_db *db, int delta);

/* pv_db_find_table, but for a `.pvdb` in the mapping `map` (the one a
 * statement was prepared on); map NULL: the db's current store. */
int pv_db_find_table_in(pv_db *db, pv_db_map *map, const char *name, size_t len,
                        pv_source *out);

/* pv_db_find_table_in for a table named in the SQL text at byte `off`:
 * "no such table: NAME at offset OFF" (pv_err_at), so that pv_error_offset()
 * and the shell's LINE:COL point at the name. Other errors as there. */
int pv_db_find_table_sql(pv_db *db, pv_db_map *map, const char *name, size_t len, uint32_t off,
                         pv_source *out);

/* Point read through a store's key index (a `.pvdb` source; PV_EMISUSE for
 * a source without one): the row whose whole primary key equals
 * key[0..nkey) (values compare as pv_value_cmp; the caller converts them
 * as the comparison would), columns cols[0..ncols) into out. Strings point
 * into the mapping or into `buf` (reset by the call); the byte after each
 * string's last one is readable (s.p[s.n]), and is 0 for every string in
 * `buf`, so a caller can tell which are NUL-terminated. Returns 1 when
 * found, 0 when not, or PV_ECORRUPT, PV_ENOMEM, PV_ERANGE, PV_EMISUSE. */
int pv_source_get_row(const pv_source *src, const pv_value *key, uint32_t nkey,
                      const uint32_t *cols, uint32_t ncols, pv_value *out, pv_buf *buf,
                      struct pvdb_rowcache **cache);
/* (cache: the caller's chunks kept opened between its point reads, made on
 * first use, freed with pv_rowcache_free; see pvdb_impl.h. NULL: none.) */
void pv_rowcache_free(struct pvdb_rowcache *cache);
/* (*cache, NULL until now, made a cache whose strings need only live until
 * the next point read, holding both kinds of blocks: see pvdb_rowcache_hold) */
int pv_rowcache_hold(struct pvdb_rowcache **cache);

/* Find a table by name (ASCII case-insensitive) and describe it as a source.
 * Errors: PV_ENOTFOUND ("no such table: NAME"), PV_ECORRUPT, PV_EIO,
 * PV_ENOMEM (a workspace table is loaded on first use). */
int pv_db_find_table(pv_db *db, const char *name, size_t len, pv_source *out);
/* Is there such a table (the catalog only: a workspace table is not
 * loaded)? 1 or 0. */
int pv_db_has_table(pv_db *db, const char *name, size_t len);
/* The tables of the catalog, by position: their count, and the schema of
 * table i (NULL past the end), borrowed until the next change of the
 * catalog (a workspace) or pv_close (a .pvdb). */
uint32_t pv_db_table_count(pv_db *db);
const pv_schema *pv_db_table_schema(pv_db *db, uint32_t i);

/* Create a table; takes ownership of `schema` (finished, see
 * pv_schema_finish) on success and on failure.
 * Errors: PV_EREADONLY (a .pvdb, or opened read-only), PV_EEXISTS (unless
 * if_not_exists, which then returns PV_OK and changes nothing), PV_EIO. */
int pv_db_create_table(pv_db *db, pv_schema *schema, int if_not_exists);

/* How pv_db_write treats a row whose primary key the table already has. */
#define PV_WRITE_INSERT  0  /* PV_ECONSTRAINT: nothing is written */
#define PV_WRITE_REPLACE 1  /* the new row replaces the old (UPDATE, upsert) */
#define PV_WRITE_IGNORE  2  /* the row is skipped (ON CONFLICT DO NOTHING) */

/* Write rows: `nrows` rows of `ncols` values each (ncols = the table's full
 * column count, in schema order, hidden key included: a PV_NULL hidden key
 * is generated). Values are converted to the column types (SQLite STRICT
 * rules); all rows are checked before any is applied, so a failure leaves
 * the table unchanged. Two rows of one call with the same key are an error
 * in every mode. `origin`, when not NULL, names the input for messages
 * ("airports.csv"), and `first_line` numbers its first row. `nwritten`
 * (may be NULL) receives the number of rows written (IGNORE skips some).
 * Outside a transaction the call is its own transaction (committed before
 * it returns); inside one, it is visible to this pv_db at once and to
 * others after pv_db_commit.
 * Errors: PV_EREADONLY, PV_ENOTFOUND, PV_ETYPE, PV_EINPUT (invalid UTF-8),
 * PV_ECONSTRAINT (duplicate primary key, NULL in a NOT NULL column; the
 * message names table, column, key and line), PV_ELOCKED, PV_EIO,
 * PV_ENOMEM. */
int pv_db_write(pv_db *db, const char *table, const pv_value *rows,
                size_t nrows, size_t ncols, int mode, const char *origin,
                size_t first_line, size_t *nwritten);

/* pv_db_write with PV_WRITE_INSERT. */
int pv_db_insert(pv_db *db, const char *table, const pv_value *rows,
                 size_t nrows, size_t ncols, const char *origin,
                 size_t first_line);

/* Delete the rows with the given keys: `nkeys` keys of npk values each, in
 * primary-key order. Keys the table does not have are skipped; `ndeleted`
 * (may be NULL) receives how many rows went. Transactions as pv_db_write.
 * Errors: PV_EREADONLY, PV_ENOTFOUND, PV_ELOCKED, PV_EIO, PV_ENOMEM. */
int pv_db_delete(pv_db *db, const char *table, const pv_value *keys,
                 size_t nkeys, size_t *ndeleted);

/* Find the current row with primary key `key` (npk values in key order).
 * Returns 1 and points *row at its ncols values (borrowed: valid until the
 * next lookup or write on this handle; copy what must live longer), 0 when
 * absent, or a negative error
 * (PV_ENOTFOUND for the table, PV_ECORRUPT, PV_EIO, PV_ENOMEM).
 * Workspace only for now (PV_EMISUSE on a .pvdb). */
int pv_db_lookup(pv_db *db, const char *table, const pv_value *key,
                 const pv_value **row);

/* Drop a table (its directory goes in the commit). Transactions as
 * pv_db_write. Errors: PV_EREADONLY, PV_ENOTFOUND (unless if_exists),
 * PV_ELOCKED, PV_EIO. */
int pv_db_drop_table(pv_db *db, const char *table, int if_exists);

/* Change a table's columns: `schema` (finished; same table name; ownership
 * taken) becomes its schema, and column i of the new schema takes its
 * values from old column from[i], or, when from[i] < 0 (ADD COLUMN), is
 * the column's DEFAULT or NULL (a NOT NULL new column without a DEFAULT on
 * a non-empty table is PV_ECONSTRAINT). Build the
 * new schema with pv_schema_clone + pv_schema_rename_column /
 * pv_schema_drop_column / pv_schema_add_column, which keep the column
 * history: chunks written before still read by name, so the change is the
 * schema file alone in a diff, and later rows go to the open chunk behind
 * a continuation header listing the new columns (a new chunk only when
 * that one is sealed: docs/FORMAT.md part 1). The primary key may not
 * change. Errors: PV_EREADONLY,
 * PV_ENOTFOUND, PV_ECONSTRAINT, PV_EMISUSE, PV_ELOCKED, PV_EIO, PV_ENOMEM. */
int pv_db_alter_table(pv_db *db, const char *table, pv_schema *schema,
                      const int *from);

/* ---- transactions --------------------------------------------------------
 * BEGIN / COMMIT / ROLLBACK. The workspace allows one writing transaction at
 * a time across processes: pv_db_begin takes the lock `.pv/lock` (PV_ELOCKED
 * "workspace is locked by pid N" when another process holds it; readers
 * never take it). Commit is atomic across a crash: either every record of
 * the transaction is in the chunk files after reopening, or none is.
 * Durability: opened with PV_OPEN_FAST (or, with neither PV_OPEN_SYNC nor
 * PV_OPEN_FAST, PV_DURABILITY=fast in the environment), commit does not
 * fsync (a process crash loses nothing, a power failure may lose the last
 * transactions); the default `sync` fsyncs before pv_db_commit returns. */
/* PV_OK when db can be written: a workspace opened writable. Else
 * PV_EREADONLY naming it (a .pvdb, a workspace opened read-only). */
int pv_db_check_writable(pv_db *db);
int pv_db_begin(pv_db *db);      /* PV_EMISUSE if one is open; PV_ELOCKED */
int pv_db_commit(pv_db *db);     /* PV_EMISUSE if none; PV_EIO */
int pv_db_rollback(pv_db *db);   /* PV_EMISUSE if none */
int pv_db_in_txn(const pv_db *db);

/* Statement atomicity inside a transaction: a mark of the work done so far,
 * and undoing what came after it (a failed UPDATE that already deleted). */
size_t pv_db_savepoint(pv_db *db);
int pv_db_rollback_to(pv_db *db, size_t mark);

#endif
