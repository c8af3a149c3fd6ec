/*
 * ws_replay.h: replaying a table's chunk files (ws_replay.c) and the
 * columnar sink a replay of a whole table can fill instead of rows
 * (ws_replay_vec.c). Private to the workspace store.
 *
 * A replay reads, hashes and decodes chunk files on several threads and
 * applies their records on one, in chunk order, so what it produces never
 * depends on the thread count (docs/LOADING.md 7).
 */
#ifndef PV_WS_REPLAY_H
#define PV_WS_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "ws_internal.h"

/* ---- the columnar sink ------------------------------------------------------ */

/* While the records of a table arrive with each new key above the last
 * (imports, appends), or replace or delete a key already there, the
 * table's key-ordered column vectors are built directly (strings copied
 * once), never its rows. Any other record (a new key below the last one, a
 * conflict record) turns what was built into the rows a load would have
 * at that point (ws_vecsink_to_rows), and the replay goes on as a load. */
typedef struct ws_vecsink ws_vecsink;

/* A sink for table t (empty: no rows, no vectors). Errors: PV_ENOMEM. */
int ws_vecsink_new(ws_table *t, ws_vecsink **out);
/* Still building vectors (not yet turned into rows)? */
int ws_vecsink_active(const ws_vecsink *v);
/* A whole row (schema order, key not NULL; strings are copied). 1 when
 * taken, 0 when it is a new key below the last (turn into rows first),
 * or PV_ENOMEM. */
int ws_vecsink_row(ws_vecsink *v, const pv_value *row);
/* A delete of the key held in row's key columns: 1 (taken; an absent
 * key changes nothing, as in a load). */
int ws_vecsink_delete(ws_vecsink *v, const pv_value *row);
/* Give t the rows built so far, as a load of the same records would hold
 * them (key order, deleted keys as dead slots); the sink is then inactive.
 * Errors: PV_ENOMEM, PV_ELIMIT. */
int ws_vecsink_to_rows(ws_vecsink *v);
/* The replay is over: t gets its vectors (t->vecs, vec_rows, vec_dirty 0;
 * the strings' arena hangs on t->tail, freed with the vectors). */
int ws_vecsink_finish(ws_vecsink *v);
void ws_vecsink_free(ws_vecsink *v);

/* ---- a chunk's rows as columns ---------------------------------------------------- */

/* The rows of one chunk decoded by a worker thread, when the chunk holds
 * nothing but whole rows in strictly ascending key order (no blob
 * reference, no NULL key): schema-order columns, numbers as 8 bytes,
 * strings as (offset, length) into `bytes`, so the applying thread appends
 * the chunk to the vectors with a few copies, or replays its rows one by
 * one when they do not follow the vectors' last key. */
typedef struct ws_stroff {
    uint64_t off, n;
} ws_stroff;

typedef struct ws_rowcols {
    size_t n, cap;
    char **data;              /* per column: 8-byte numbers or ws_stroff */
    uint8_t **nulls;          /* per column: 1 = NULL */
    pv_buf bytes;             /* the strings' bytes */
    size_t line0;             /* the line of row 0 (each row one line) */
} ws_rowcols;

/* Append a whole row (schema order) of table schema s. Errors: PV_ENOMEM. */
int ws_rowcols_add(ws_rowcols *rc, const pv_schema *s, const pv_value *row);
/* Order of row's key against rc's row r (pv_value_cmp, key columns). */
int ws_rowcols_key_cmp(const ws_rowcols *rc, const pv_schema *s, const pv_value *row, size_t r);
/* Row r as values (strings point into rc->bytes) into row[ncols]. */
void ws_rowcols_row(const ws_rowcols *rc, const pv_schema *s, size_t r, pv_value *row);
void ws_rowcols_free(ws_rowcols *rc, const pv_schema *s);
/* Append every row of rc when its first key is above the vectors' last:
 * 1 when done, 0 when not in order (apply them one by one), or PV_ENOMEM. */
int ws_vecsink_append(ws_vecsink *v, const ws_rowcols *rc);

/* ---- the replay ------------------------------------------------------------- */

/* What a replay did, for PV_LOAD_CACHE_TRACE and `pvbake -v`. */
typedef struct ws_replay_stats {
    unsigned threads;         /* threads that decoded chunks */
    size_t chunks;            /* chunks replayed */
    size_t as_columns;        /*   of which decoded as columns */
} ws_replay_stats;

/* ws_replay_from (ws_internal.h) with a sink (NULL: none; else rows == t,
 * t empty, and the records go to `vs` while it is active) and stats (NULL:
 * not wanted). */
int ws_replay_run(pv_ws *ws, ws_table *t, ws_table *rows, size_t from, uint64_t start,
                  uint64_t *tail, ws_vecsink *vs, ws_replay_stats *st);

/* Threads a replay uses: the workspace's setting (pv_ws_set_load_threads),
 * else PV_LOAD_THREADS, else the online CPUs (at most 8). */
unsigned ws_replay_threads(const pv_ws *ws);

/* PV_LOAD_PLAIN set: every chunk decoded as records and applied to rows,
 * no columns and no vectors built on the way (the replay as it was before
 * them: tests compare both). */
int ws_load_plain(void);

#endif
