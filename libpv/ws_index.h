/*
 * ws_index.h: secondary indexes of a workspace table in memory
 * (ws_index.c), private to the workspace store.
 *
 * One hash multimap per index of the table's schema, from the index
 * columns' values to row slots, built on first use from the loaded rows
 * (t->vals, t->live) and kept up to date by the write path (ws_write.c) and
 * rollback (ws_txn.c) through ws_index_row_changed. Entries are never
 * removed one by one: a row that is deleted or changes its indexed values
 * leaves a stale entry that every probe skips (it checks that the row is
 * live and its values equal the key), and stale entries go when the table
 * grows. The index is a cache: dropping it (ws_index_unload) is always
 * safe, it is rebuilt on the next use.
 */
#ifndef PV_WS_INDEX_H
#define PV_WS_INDEX_H

#include "ws_internal.h"

/* Build the indexes of t's schema if they are not built (t loaded).
 * Errors: PV_ENOMEM, PV_ELIMIT. */
int ws_index_ready(ws_table *t);

/* Hash of the index columns of `row` (a full-width row of t's schema). */
uint64_t ws_index_hash(const pv_index_def *x, const pv_value *row);
/* Does the index key of `row` hold a NULL (never equal to anything)? */
int ws_index_key_null(const pv_index_def *x, const pv_value *row);
/* Do rows a and b have the same index key? */
int ws_index_key_equal(const pv_index_def *x, const pv_value *a, const pv_value *b);

/* Walk the live rows whose index key equals that of `row` (full width). */
typedef struct ws_index_iter {
    const ws_table *t;
    uint32_t index;         /* position in t->schema->indexes */
    const pv_value *row;
    uint64_t h;
    size_t pos, steps;
} ws_index_iter;
/* Start a walk (ws_index_ready must have succeeded). */
void ws_index_iter_init(ws_index_iter *it, const ws_table *t, uint32_t index, const pv_value *row,
                        uint64_t h);
/* The next matching row slot, or -1 at the end. Each row comes once: an
 * entry is only put where an identical (tag, row) entry is not, and an
 * entry for an older version of a row has another tag or is that one. */
long ws_index_iter_next(ws_index_iter *it);

/* Room for `more` rows to be indexed without rebuilding on the way (a
 * bulk write). Errors: PV_ENOMEM, PV_ELIMIT (the indexes are dropped). */
int ws_index_reserve(ws_table *t, size_t more);

/* Row slot idx of t was written, revived or restored: index its current
 * values. On allocation failure the indexes are dropped (rebuilt later). */
void ws_index_row_changed(ws_table *t, size_t idx);

/* Row slots a and b by primary key: negative, 0 or positive. */
int ws_index_pk_cmp(const ws_table *t, size_t a, size_t b);

/* A unique index whose live rows hold a duplicate (chunks written so by a
 * merge or by hand): returns 1 and two row slots sharing a non-NULL key
 * (a's primary key first),
 * re-checking (and rebuilding the index) when the pair seen before is gone;
 * 0 when the index holds no duplicate; or a negative error. */
int ws_index_violation(ws_table *t, uint32_t index, size_t *a, size_t *b);

#endif
