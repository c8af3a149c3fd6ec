/*
 * pv.h: the public interface of libpv, the PicoVolt runtime.
 *
 * libpv answers SQL over two storage shapes through one executor:
 *   - a baked `.pvdb` file, mapped read-only (production), and
 *   - a `.pv/` workspace directory of append-only text chunks (development).
 *
 * Conventions (every function below follows them):
 *   - Functions return int: 0 (PV_OK) on success, a negative PV_E* code on
 *     failure. pv_step also returns PV_ROW (1).
 *   - After a failure, pv_errmsg() gives a detailed, thread-local message
 *     naming the object at fault (file, line, byte offset, table, column).
 *   - What comes back through an `out` parameter belongs to the caller and
 *     is released by the matching close/finalize function; every release
 *     function accepts NULL.
 *   - What a getter returns is borrowed; its doc says until when it lives.
 *   - Threads: one pv_db opened on a `.pvdb` may be used by any number of
 *     threads at once; each thread uses its own pv_stmt. A workspace pv_db
 *     (pvdev) is for one thread at a time.
 *   - libpv never aborts the process: allocation failure is PV_ENOMEM.
 */
#ifndef PV_H
#define PV_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define PV_API __attribute__((visibility("default")))
#else
#define PV_API
#endif

/* ---- result codes ------------------------------------------------------ */

#define PV_OK          0    /* success; pv_step: no more rows */
#define PV_DONE        0    /* pv_step: the statement has finished */
#define PV_ROW         1    /* pv_step: a result row is ready */

#define PV_ERROR      (-1)  /* internal error (a bug: please report it) */
#define PV_ENOMEM     (-2)  /* an allocation failed */
#define PV_EIO        (-3)  /* a system call failed (errno in the message) */
#define PV_ECORRUPT   (-4)  /* a file is damaged; the message names the offset */
#define PV_EFORMAT    (-5)  /* not a PicoVolt file, or a newer format version */
#define PV_ESQL       (-6)  /* SQL syntax or meaning error (position given) */
#define PV_ENOTFOUND  (-7)  /* no such file, table or column */
#define PV_EEXISTS    (-8)  /* the table or file already exists */
#define PV_ECONSTRAINT (-9) /* PRIMARY KEY or NOT NULL violated */
#define PV_ETYPE      (-10) /* a value does not fit the column's type */
#define PV_ERANGE     (-11) /* a parameter or column index is out of range */
#define PV_EMISUSE    (-12) /* the API was called the wrong way */
#define PV_EREADONLY  (-13) /* a write on a read-only database (.pvdb) */
#define PV_ELOCKED    (-14) /* another process holds the workspace lock */
#define PV_EINPUT     (-15) /* bad input data (CSV, UTF-8); file and line given */
#define PV_ELIMIT     (-16) /* a size or count exceeds a documented limit */
#define PV_EBUSY      (-17) /* workspace: another process rewrote chunks this handle's
                             * snapshot holds (a compaction, DROP TABLE): pv_reopen */

/* ---- value types --------------------------------------------------------
 * The declared type of a column, and the type of a value in a result row.
 * INTEGER is a signed 64-bit integer, REAL an IEEE-754 double, TEXT valid
 * UTF-8 (byte length, no terminator needed), BLOB raw bytes, BOOLEAN 0 or 1.
 */
#define PV_NULL     0
#define PV_INTEGER  1
#define PV_REAL     2
#define PV_TEXT     3
#define PV_BLOB     4
#define PV_BOOLEAN  5

typedef struct pv_db pv_db;
typedef struct pv_stmt pv_stmt;

/* ---- library ------------------------------------------------------------ */

/* The library version as "MAJOR.MINOR.PATCH"; static storage. */
PV_API const char *pv_version(void);

/* A short English name for a result code ("PV_ECORRUPT: file is damaged");
 * static storage; unknown codes give "unknown error". */
PV_API const char *pv_errstr(int code);

/* The detailed message of the last failure on the calling thread, e.g.
 * "airports.pvdb: corrupt column chunk at byte offset 4096: checksum
 * mismatch". Thread-local; valid until the next libpv call on this thread
 * that fails. Never NULL ("" when nothing failed yet). */
PV_API const char *pv_errmsg(void);

/* Where in the SQL text the last failure on the calling thread is, as
 * sqlite3_error_offset: a byte offset (0 is the first byte), or -1 when
 * that failure has no position in the text.
 *
 * It counts bytes (not characters) from the start of the text given to
 * the pv_prepare that compiled the statement, for errors of pv_prepare
 * (syntax, a comment left open, an unknown type; a name that binds to
 * nothing: no such table, column, function or index, and the term at
 * fault of a bad GROUP BY, HAVING or ORDER BY; VALUES of the wrong width,
 * at the first row) and of the pv_step that ran it (a LIMIT that is not
 * an integer, a table dropped since pv_prepare), and for these of either:
 * a name the statement gives that is taken or refused (table t already
 * exists, index x already exists, duplicate column name), a second
 * primary key (at its PRIMARY), a column ALTER TABLE may not add (at the
 * PRIMARY, UNIQUE or NOT of the constraint it cannot meet) or drop, an
 * index DROP INDEX may not drop, and a table read AS OF a revision that
 * cannot be read there (no git, an unknown revision, the table missing at
 * it: at the revision). For pv_exec it counts from the
 * start of the whole text given to pv_exec, whichever of its statements
 * failed. It points at the name or term: for `SELECT x FROM t` without a
 * column x, 7. It is the N of the " at offset N" that ends such an error's
 * pv_errmsg(). Every other failure (I/O, a damaged file, a bad bind, a
 * constraint a row violates) sets -1.
 *
 * Thread-local, and paired with pv_errmsg(): it describes the same
 * failure and stays valid until the next libpv call on this thread that
 * fails; a call that succeeds changes neither. -1 when nothing failed yet. */
PV_API int64_t pv_error_offset(void);

/* ---- opening ------------------------------------------------------------ */

#define PV_OPEN_READONLY  0x0u  /* the default: no writes */
#define PV_OPEN_READWRITE 0x1u  /* workspace only: allow DDL and DML */
/* Durability of a writable workspace's commits (docs/FORMAT.md
 * "Durability"); at most one of the two. Without either, the environment
 * variable PV_DURABILITY decides (`sync` or `fast`; unset: sync). */
#define PV_OPEN_SYNC      0x2u  /* fsync chunks, journal and directories before COMMIT returns */
#define PV_OPEN_FAST      0x4u  /* no fsync: a process crash loses nothing, a power loss can
                                 * lose or tear the last commits */

/* Open a database.
 *
 * path:  a `.pvdb` file (mapped read-only), or a directory holding a `.pv/`
 *        workspace.
 * flags: PV_OPEN_READONLY or PV_OPEN_READWRITE (a `.pvdb` is always
 *        read-only: READWRITE on one gives PV_EREADONLY), optionally with
 *        PV_OPEN_SYNC or PV_OPEN_FAST (ignored unless a workspace is opened
 *        READWRITE).
 * out:   receives the handle; release it with pv_close().
 *
 * Opening a workspace takes its snapshot: the tables, their schemas and
 * the length of every chunk file, together, under the shared side of the
 * commit lock (docs/FORMAT.md part 1, "Commit lock"), so it is one
 * committed state, never half of a commit. Every read of the handle comes
 * from that snapshot: tables are read on first use, later and without any
 * lock, each chunk up to its length then, so commits by other processes
 * are not seen (a writable handle takes a new snapshot at each write
 * transaction that finds the files changed; otherwise pv_reopen). A
 * SELECT whose run has started (its first pv_step, until it returns
 * PV_DONE, pv_reset or pv_finalize) when such a write transaction takes
 * the new snapshot reads on from the snapshot it started on: the old
 * tables are kept for it and freed when the last such run ends (an idle
 * prepared statement keeps none), while the write works on the latest
 * commit. Their appends never disturb it. A commit that rewrites chunks instead (`pvdev
 * compact`, DROP TABLE, `pvdev resolve`) can take away bytes the snapshot
 * holds: a read that finds such a commit came after the snapshot keeps
 * nothing it read (no mix of two states, no false PV_ECORRUPT). If the
 * handle had read no table yet and the tables and schemas are unchanged,
 * it takes a new snapshot and reads again, unseen by the caller; otherwise
 * the read fails with PV_EBUSY (from pv_prepare, pv_step, pv_get, ...):
 * finalize the statements and getters, then pv_reopen to read the new
 * state. Tables the handle read before stay as they were, consistent with
 * each other.
 *
 * Opening a `.pvdb` checks the header, the directory and every offset and
 * length it will use; it does not read the data sections. A `.pvdb` that
 * is not in the page cache at open (a cold start) has its first point
 * reads ask the kernel for each step's pages at once, so that they are
 * read from the device together rather than one after the other; reads
 * of a warm file make no system call.
 *
 * Errors: PV_ENOTFOUND (no such file, or a directory with no `.pv/`),
 * PV_EIO, PV_EFORMAT (not a PicoVolt file or a newer version), PV_ECORRUPT
 * (header or directory damaged; the message gives the byte offset),
 * PV_EREADONLY, PV_ENOMEM, PV_EMISUSE (out or path NULL, an unknown flag,
 * both PV_OPEN_SYNC and PV_OPEN_FAST, or a writable workspace opened with
 * neither while PV_DURABILITY is set to something other than `sync` or
 * `fast`).
 */
PV_API int pv_open(const char *path, unsigned flags, pv_db **out);

/* Close a database and unmap it. Every statement and getter of the
 * database must have been finalized or closed before (PV_EMISUSE
 * otherwise, and nothing is closed). Accepts NULL. */
PV_API int pv_close(pv_db *db);

/* Options for pv_open_ex. Zero-initialise, then set what you need; `size`
 * must be sizeof(pv_open_options) so later fields can be added. */
typedef struct pv_open_options {
    size_t size;          /* sizeof(pv_open_options) */
    unsigned flags;       /* as pv_open's flags */
    /* `.pvdb` only: bytes of decoded column blocks kept for reuse across
     * the statements, getters and threads of this pv_db. 0 means
     * PV_CACHE_BYTES_DEFAULT; (uint64_t)-1 turns the cache off (each
     * reader then decodes into its own buffer). What it holds: blocks of
     * zstd-compressed TEXT/BLOB chunks (1024 rows each, decompressed),
     * pages of front-coded dictionaries (256 entries, decoded) and the
     * tables of small string dictionaries (entries NUL-terminated), keyed by
     * file, column chunk and block (a file swapped in by pv_reopen never
     * meets the old file's blocks; those are dropped when it is unmapped).
     * It is split in 16 shards of cache_bytes / 16, each with its own lock
     * and least-recently-used eviction; a block larger than a shard's
     * share is decoded for its reader and not kept. Memory: at most
     * cache_bytes of cached blocks, plus blocks readers still hold after
     * eviction: a running statement holds, per column it reads, the block
     * it is in and the dictionary pages (or table) of its current row
     * group; a statement's point lookups by key hold, until it is
     * finalized, the small dictionaries' tables and the front-coded
     * dictionaries' pages they read, in at most 64 row groups per column
     * (their text then comes out NUL-terminated, not copied); and up to 8
     * recently finished scans per file are kept (with theirs) for the next
     * statements to reuse. Values read from a
     * cached block stay valid while held: a statement's until the next
     * pv_step, pv_reset or pv_finalize (as every pv_column_* pointer);
     * pv_get's until its next call on the getter (it copies a compressed
     * block's values into its buffer, and hands out front-coded
     * dictionary entries from the pages it holds). Values stored
     * uncompressed point into the mapping. */
    uint64_t cache_bytes;
} pv_open_options;

#define PV_CACHE_BYTES_DEFAULT ((uint64_t)64 << 20)   /* 64 MiB */

/* pv_open with options. opts may be NULL (the defaults, flags 0).
 * Errors: as pv_open, and PV_EMISUSE when opts->size is not one this
 * library knows. */
PV_API int pv_open_ex(const char *path, const pv_open_options *opts, pv_db **out);

/* Read the latest state: on a `.pvdb`, a replaced file; on a workspace,
 * the latest commit. *changed (if not NULL) is set to 1 when the handle
 * now reads a new state, 0 when there was none (and on failure).
 *
 * `.pvdb` (hot swap): if the file at the path `db` was opened from has
 * been replaced (renamed over, so another inode, size or mtime), map the
 * new file; statements prepared after pv_reopen returns read the new file,
 * statements prepared before keep reading the old mapping until they are
 * finalized, and the old mapping is unmapped with the last of them. Safe
 * to call while other threads step their statements; pv_prepare and
 * pv_reopen on one pv_db serialise on a short lock (never held while a
 * statement runs). On failure the old file stays in use. Errors: as
 * pv_open for the new file.
 *
 * Workspace: if another process committed since the handle's snapshot
 * (pv_open), drop everything the handle read and take a new snapshot, as
 * a new pv_open with the same flags would; the next reads see the latest
 * commit, and a handle that got PV_EBUSY reads again. Nothing committed
 * since (commits of this handle do not count): nothing is done, no table
 * is read again; the check reads no file, it looks at the times of the
 * table directories, the length of each table's newest chunk and the
 * rewrite count (a few stat calls per table, under the shared side of the
 * commit lock, docs/FORMAT.md part 1). The snapshot holds the rows that
 * open statements and getters read, so while any is open, or a
 * transaction is (its writes are the handle's own; BEGIN takes a new
 * snapshot itself), pv_reopen refuses with PV_EMISUSE and changes
 * nothing: finalize them, COMMIT or ROLLBACK first. On failure the handle
 * reads on from its old snapshot. Errors: PV_EMISUSE (statements or
 * getters not finalized, a transaction open); those of pv_open for the
 * workspace (PV_EFORMAT, PV_ECORRUPT, PV_EIO, PV_ENOMEM, ...).
 *
 * Errors on both: PV_EMISUSE (db NULL). */
PV_API int pv_reopen(pv_db *db, int *changed);

/* Check the whole database, reading every byte of it (pv_open checks only
 * what it needs to start). Cost: time proportional to the bytes checked
 * (flights, 16 MB: about 0.1 s); memory: one column chunk's decoded
 * dictionary and one block (1024 rows) of its values at a time, and on a
 * workspace what `pvdev fsck` holds. Safe while other threads run
 * statements and getters on the same pv_db: it reads, it never writes.
 *
 * `.pvdb` (the file the handle reads now, docs/FORMAT.md 3.10): the
 * header, directory and every chunk's and index section's XXH3-64
 * checksum; every chunk decoded with every check of its encoding (exact
 * lengths, sorted dictionaries, zero padding); every zone map recomputed;
 * the keys strictly increasing through each table; the baked secondary
 * indexes against their tables.
 *
 * Workspace (`.pv/`): its committed files, as `pvdev fsck` checks them
 * (every schema, every chunk line, every blob reference, size and SHA-256,
 * every blob file), taken as one committed state while other processes
 * may commit. Rows the handle's own open transaction wrote and has not
 * committed are not in the files, so not checked.
 *
 * Errors: PV_EMISUSE (db NULL); PV_ECORRUPT with the first problem in
 * pv_errmsg(): for a `.pvdb` its byte offset and what is wrong there, for
 * a workspace its file and line, and how many problems there are in all;
 * PV_ENOMEM; and on a workspace PV_EIO (a file could not be read),
 * PV_ENOTFOUND (its `.pv/` has gone) and PV_EBUSY (commits rewrote chunks
 * under each of 8 tries). */
PV_API int pv_verify(pv_db *db);

/* Create an empty workspace: the directory `dir/.pv/` with its layout
 * version file and `.gitignore` for local state.
 * Errors: PV_EEXISTS (dir already holds `.pv/`), PV_EIO, PV_ENOMEM. */
PV_API int pv_workspace_init(const char *dir);

/* ---- statements ---------------------------------------------------------
 * The SQL subset (docs/SQL.md): SELECT with expressions, WHERE, GROUP BY,
 * HAVING, aggregates, DISTINCT, ORDER BY, LIMIT and OFFSET on both shapes;
 * on a workspace also CREATE/DROP TABLE, ALTER TABLE ADD/RENAME/DROP
 * COLUMN, INSERT (OR REPLACE/IGNORE, ON CONFLICT DO NOTHING/UPDATE),
 * UPDATE, DELETE, BEGIN/COMMIT/ROLLBACK; EXPLAIN [QUERY PLAN] shows a
 * plan. `?` and `?NNN` parameters are numbered from 1 as in SQLite.
 */

/* Compile the first statement of `sql`.
 *
 * db:    an open database.
 * sql:   UTF-8 text; `len` bytes, or up to its NUL if len is (size_t)-1.
 * out:   receives the statement, or NULL when `sql` holds only blanks and
 *        comments. Release it with pv_finalize().
 * tail:  if not NULL, receives a pointer just past the compiled statement
 *        within `sql`, so a caller can loop over a script.
 *
 * Errors: PV_ESQL (syntax error, unknown function, a comment opened with
 * slash-star and never closed), PV_ENOTFOUND (no such table or column):
 * the message gives the byte offset within `sql` of the name or text at
 * fault, and so does pv_error_offset(); PV_ENOMEM, PV_EMISUSE; on a
 * workspace, those of reading a table (PV_ECORRUPT, PV_EIO, PV_EBUSY: see
 * pv_open).
 */
PV_API int pv_prepare(pv_db *db, const char *sql, size_t len, pv_stmt **out,
                      const char **tail);

/* Bind a value to parameter `idx` (1-based) of a statement that has not
 * started (or was pv_reset). Text and blob bytes are copied.
 * Errors: PV_ERANGE (no such parameter), PV_EMISUSE (statement running),
 * PV_EINPUT (text is not valid UTF-8), PV_ENOMEM. */
PV_API int pv_bind_null(pv_stmt *st, int idx);
PV_API int pv_bind_int64(pv_stmt *st, int idx, int64_t v);
PV_API int pv_bind_double(pv_stmt *st, int idx, double v);
PV_API int pv_bind_bool(pv_stmt *st, int idx, int v);
PV_API int pv_bind_text(pv_stmt *st, int idx, const char *text, size_t len);
PV_API int pv_bind_blob(pv_stmt *st, int idx, const void *data, size_t len);

/* The number of `?` parameters of the statement. */
PV_API int pv_bind_count(const pv_stmt *st);

/* Run the statement to its next result row.
 * Returns PV_ROW when a row is ready for pv_column_*, PV_DONE (0) when the
 * statement has finished (DDL and DML finish at once), or a negative error:
 * PV_ECORRUPT, PV_EIO, PV_ENOMEM, PV_ECONSTRAINT, PV_ELOCKED,
 * PV_EREADONLY (INSERT, UPDATE or DELETE on a .pvdb or a workspace opened
 * read-only, at the first step, even one that would change no row; DDL
 * there unless it changes nothing: CREATE TABLE or INDEX IF NOT EXISTS of
 * one that exists, DROP ... IF EXISTS of one that does not, as in
 * SQLite's read-only mode),
 * PV_EBUSY (a workspace rewritten under the handle's snapshot: pv_reopen),
 * PV_ERANGE ("integer overflow" in SUM or abs), PV_ETYPE (a value that does
 * not fit its column; a LIMIT that is not an integer), PV_EMISUSE (stepping
 * a statement that failed, before pv_reset). Stepping a finished statement
 * returns PV_DONE again; pv_reset() runs it anew. */
PV_API int pv_step(pv_stmt *st);

/* Result columns: count, name (borrowed, lives as long as the statement)
 * and the type of the value in the current row (PV_NULL .. PV_BOOLEAN). */
PV_API int pv_column_count(const pv_stmt *st);
PV_API const char *pv_column_name(const pv_stmt *st, int col);
PV_API int pv_column_type(const pv_stmt *st, int col);

/* The value of column `col` (0-based) of the current row, converted as
 * SQLite converts: NULL reads as 0, 0.0 or NULL pointer; INTEGER as text
 * is its decimal form; TEXT as a number is its numeric prefix.
 * Text is UTF-8 and NUL-terminated; pv_column_bytes gives its length in
 * bytes (without the terminator). Returned pointers are borrowed and read
 * only: valid until the next pv_step, pv_reset or pv_finalize on this
 * statement, whatever they point into. A non-empty stored TEXT or BLOB
 * value that a query on a `.pvdb` returns as a bare column (no DISTINCT,
 * aggregate or ORDER BY) is read where it is: by pv_column_blob always
 * (the mapping, or a block or dictionary the scan decoded for the current
 * rows), by pv_column_text when a NUL already
 * follows its bytes (a `.pvdb` front-coded dictionary is decoded with one
 * after each entry). Other text (numbers as text, results of
 * expressions, stored text with no NUL after it) is copied once per row
 * and cell into the statement. Asking for the same cell again returns the
 * same bytes. pv_column_text returns NULL for a NULL value, and also when
 * the text form of a number could not be allocated (pv_errmsg then says
 * so). */
PV_API int64_t pv_column_int64(pv_stmt *st, int col);
PV_API double pv_column_double(pv_stmt *st, int col);
PV_API const char *pv_column_text(pv_stmt *st, int col);
PV_API const void *pv_column_blob(pv_stmt *st, int col);
PV_API size_t pv_column_bytes(pv_stmt *st, int col);

/* ---- reading rows in spans (docs/SPANS.md) -------------------------------
 * A span is the current row and up to PV_SPAN_MAX - 1 rows after it,
 * read a column at a time as arrays, the way DuckDB's data chunks and
 * Arrow arrays hand out columns: one call per column per span instead of
 * one per cell. The two ways mix freely within one run of a statement.
 *
 *   while ((rc = pv_step(st)) == PV_ROW) {
 *       int n;
 *       pv_span id;
 *       if ((rc = pv_step_span(st, PV_SPAN_MAX, &n)) < 0) break;
 *       if ((rc = pv_column_span(st, 0, &id)) < 0) break;
 *       for (int k = 0; k < n; k++)
 *           if (!(id.nulls && id.nulls[k])) sum += id.u.i[k];
 *   }
 */
#define PV_SPAN_MAX 1024   /* the most rows one span holds */

/* Bytes of a TEXT or BLOB cell: `n` bytes at `p`, not NUL-terminated
 * (a NUL may follow; do not count on it). When n is 0, p may be NULL. */
typedef struct pv_bytes {
    const char *p;
    size_t n;
} pv_bytes;

/* One result column over the rows of a span. Row k (0 <= k < n) is NULL
 * when nulls != NULL and nulls[k] == 1 (nulls == NULL: no row is NULL;
 * a mask may be given that holds only zeros); its slot in `u` is then
 * unspecified. Otherwise its value has type `type` and is in:
 *   PV_INTEGER, PV_BOOLEAN (0 or 1): u.i[k], a signed 64-bit integer;
 *   PV_REAL:                         u.f[k], an IEEE-754 double;
 *   PV_TEXT (UTF-8), PV_BLOB:        u.s[k], its bytes.
 * type is PV_NULL only when every row of the span is NULL and the column
 * has no type for them (a computed column); u is then not to be read.
 * Values are never converted: a TEXT column reads as text, not as the
 * numbers pv_column_int64 would make of it. */
typedef struct pv_span {
    int type;              /* PV_NULL .. PV_BOOLEAN */
    uint32_t n;            /* rows, as pv_step_span's *n */
    const uint8_t *nulls;  /* n bytes, 1 = NULL; or NULL when none is */
    union {
        const int64_t *i;
        const double *f;
        const pv_bytes *s;
    } u;
} pv_span;

/* Claim, after pv_step returned PV_ROW, the current row and up to
 * max_rows - 1 of the rows that follow it as one span of *n rows
 * (1 <= *n <= min(max_rows, PV_SPAN_MAX)). The next pv_step returns the
 * row after the span; pv_column_* keep reading the span's first row (the
 * row pv_step returned), and pointers they returned for it stay valid.
 * A span may hold fewer rows than asked for, and than the statement has
 * left: it ends where the scan's batch (1024 table rows) ends, and for a
 * column computed row by row where a non-NULL value's type differs from
 * the span's earlier values (so that each column of a span has one type).
 * LIMIT and OFFSET are applied as by pv_step: a span never holds a row
 * pv_step would not have returned. Calling it again before the next
 * pv_step keeps the claim and gives the same *n.
 *
 * Rows read in place (bare columns of a `.pvdb` table) are claimed
 * without copying anything. Other rows (expressions, aggregates, ORDER
 * BY, DISTINCT, a workspace, EXPLAIN) are run to here and copied, values
 * and bytes, into the statement's span arrays.
 *
 * Errors (*n is then 0): PV_EMISUSE (st or n NULL, or no current row:
 * before pv_step, after it returned PV_DONE or an error, or after
 * pv_reset), PV_ERANGE (max_rows < 1), PV_ENOMEM; and when rows are run
 * to here, the errors of pv_step (PV_ECORRUPT, PV_EIO, PV_ERANGE,
 * PV_ETYPE, PV_ELIMIT, ...): the statement has then failed, as if pv_step
 * had returned the error (pv_reset runs it again). */
PV_API int pv_step_span(pv_stmt *st, int max_rows, int *n);

/* Column `col` (0-based) over the rows of the current span, into *out.
 * Without a pv_step_span since the last pv_step, the span is the current
 * row alone (as after pv_step_span(st, 1, &n)). The arrays are borrowed
 * and read only: valid until the next pv_step, pv_reset or pv_finalize
 * on this statement. Where a span's rows are consecutive rows of a
 * scanned batch they point into the batch (into the mapping, or blocks
 * the scan decoded); rows with gaps between them (a WHERE on other
 * columns) are gathered into the statement's per-column arrays on the
 * first call for the column (later calls return the same arrays).
 * Errors: PV_EMISUSE (st or out NULL, or no current row), PV_ERANGE
 * (col < 0 or >= pv_column_count), PV_ENOMEM. */
PV_API int pv_column_span(pv_stmt *st, int col, pv_span *out);

/* Rewind a statement so pv_step runs it again; bindings are kept. */
PV_API int pv_reset(pv_stmt *st);

/* Release a statement. Accepts NULL. Returns PV_OK. */
PV_API int pv_finalize(pv_stmt *st);

/* The query memory limit: the most bytes one run of a statement may hold
 * for its GROUP BY groups, DISTINCT sets (of SELECT DISTINCT and of
 * COUNT(DISTINCT x)-style aggregates), the rows ORDER BY sorts, MIN/MAX
 * text and their hash tables. A run that would pass it stops with
 * PV_ELIMIT and a message naming the operator and the limit ("GROUP BY
 * needs more than the query memory limit of ... bytes"), before
 * allocating more, instead of exhausting the machine; the statement can
 * be pv_reset and run again (after raising the limit, say). The mapped
 * file and the scan's per-column buffers (one batch) are not counted.
 * PV_QUERY_MEM_DEFAULT (2 GiB) applies until this is called: a
 * statement per core on a 24 GiB machine stays within memory. */
#define PV_QUERY_MEM_DEFAULT ((uint64_t)2 << 30)

/* Set the statement's query memory limit to `bytes` (0: back to
 * PV_QUERY_MEM_DEFAULT; UINT64_MAX: no limit), for its runs from the next
 * pv_step that starts one (after pv_prepare or pv_reset).
 * Errors: PV_EMISUSE (st NULL, or a row of a run is pending: pv_reset
 * first). */
PV_API int pv_stmt_set_mem_limit(pv_stmt *st, uint64_t bytes);

/* ---- direct key lookup ----------------------------------------------------
 * The hottest path of a read-mostly application, without SQL: one row by
 * its primary key. A pv_getter is bound to one table of one pv_db and used
 * by one thread at a time (like a statement; open one per thread); it
 * holds the scratch space for values that must be decompressed.
 */

/* A value passed to or returned by pv_get. TEXT and BLOB point to `n`
 * bytes (TEXT is UTF-8 and NOT NUL-terminated); BOOLEAN is in `i`. */
typedef struct pv_cell {
    int type;                    /* PV_NULL .. PV_BOOLEAN */
    union {
        int64_t i;
        double f;
        struct { const void *p; size_t n; } s;
    } u;
} pv_cell;

/* Bind a getter to `table` (ASCII case-insensitive) of `db`. On a `.pvdb`
 * the getter reads the file mapped when it was opened, until it is closed
 * (pv_reopen does not move it; open a new getter to read a new file).
 * Errors: PV_ENOTFOUND (no such table), PV_ENOMEM, PV_EMISUSE (NULL
 * arguments). Release with pv_getter_close (before pv_close, which
 * refuses with PV_EMISUSE while a getter is open); it accepts NULL. */
typedef struct pv_getter pv_getter;
PV_API int pv_getter_open(pv_db *db, const char *table, pv_getter **out);
PV_API int pv_getter_close(pv_getter *g);

/* Number of columns of the getter's table (the length pv_get fills). */
PV_API int pv_getter_columns(const pv_getter *g);

/* Look up the row whose primary key equals key[0..nkey-1] (the key
 * columns in key order, as declared in PRIMARY KEY) and store its
 * columns, in table order, in row[0..ncols-1] (ncols may be smaller than
 * the table: the first ncols columns are read; a table declared without
 * PRIMARY KEY counts its hidden TEXT key column `_pv_id`).
 * Key cells compare by value with the key column's type: integers and
 * reals by numeric value (5.0 finds the INTEGER key 5, 5.5 and an integer
 * no double holds exactly find nothing), TEXT and BLOB by their bytes;
 * unlike SQL there is no text/number conversion (the number 5 never finds
 * the TEXT key '5'), and a NULL or NaN cell finds nothing.
 * Returns PV_ROW when found, PV_DONE (0) when no row has that key, or an
 * error: PV_ERANGE (nkey differs from the key's column count, or ncols
 * is negative or larger than the table), PV_ECORRUPT (the file is
 * damaged: offset given), PV_ENOMEM, PV_EMISUSE (g, key or row NULL, a
 * cell of no PV_* type, a string cell with a NULL pointer and a length).
 * Strings in `row` point into the mapping when stored uncompressed (valid
 * until pv_getter_close: the getter keeps the mapping it was opened on
 * even across pv_reopen), or into the getter's buffer or a decoded block
 * it holds (valid until the next pv_get on it or pv_getter_close). On a workspace pv_get serves
 * from the in-memory key index, and strings live until the next write to
 * the table. pv_get allocates nothing once the getter's buffer has grown
 * to the largest row's decoded strings. */
PV_API int pv_get(pv_getter *g, const pv_cell *key, int nkey, pv_cell *row, int ncols);

/* Run every statement of `sql` (NUL-terminated), discarding result rows.
 * Stops at the first error and returns it; an error's offset (its
 * message's "at offset N" and pv_error_offset()) counts from the start of
 * `sql`, not of the statement that failed. */
PV_API int pv_exec(pv_db *db, const char *sql);

#ifdef __cplusplus
}
#endif
#endif /* PV_H */
