/*
 * merge_retype.h: a side's chunk read under the merged schema when a
 * column has another type there (merge_retype.c; docs/GIT.md, "Merging
 * schemas"): the same column added on both sides with different types is
 * a schema conflict settled as ours has it, and the other side's values
 * are carried over where they convert without change.
 */
#ifndef PVGIT_MERGE_RETYPE_H
#define PVGIT_MERGE_RETYPE_H

#include <stddef.h>

#include "schema.h"
#include "util.h"

/* Keys whose rows hold a value that does not convert, each in the text
 * pvgit_retype_key gives, one per line. */
typedef struct pvgit_retype_keys {
    pv_buf keys;
    size_t cells;          /* values that did not convert */
    pv_buf first;          /* the first of them: "column y, key 4 (FILE line 3) does not convert to INTEGER" */
} pvgit_retype_keys;

/* Does any column of `own` (a side's schema) have another type in
 * `merged` (matched by first name)? Key columns never count: a key whose
 * type differs cannot be merged (the caller reads as before). */
int pvgit_retype_needed(const pv_schema *own, const pv_schema *merged);

/* Rewrite the chunk text (len bytes) written under schema `own` so that it
 * reads under `merged`: in each row record, the values of a column whose
 * type differs are converted to the merged type when that loses nothing
 * (INTEGER <-> REAL, INTEGER or REAL <-> TEXT, INTEGER 0/1 <-> BOOLEAN: the
 * value converted back is the same), else made NULL, their key added to
 * *bad and a line naming table, column, key, side and value printed on
 * stderr. Other lines are copied. *out gets the new text (the caller frees
 * it). `what` names the chunk in messages ("theirs:.pv/tables/t/..."), `side`
 * the side ("theirs"). The rows of conflict records are converted the same
 * way, except that a value that does not convert is made NULL without a
 * word (the record's own row is not the one resolve keeps: docs/GIT.md).
 * Errors: PV_ECORRUPT (a line that does not decode under `own`: file and
 * line), PV_ENOMEM. */
int pvgit_retype_chunk(const pv_schema *own, const pv_schema *merged, const char *text, size_t len,
                       const char *what, const char *side, pv_buf *out, pvgit_retype_keys *bad);

/* The same without the stderr lines, for `pvdev resolve --theirs` (which
 * rewrites a work-tree chunk under theirs' types and decides itself what a
 * value that does not convert means: bad->first describes the first). */
int pvgit_retype_chunk_quiet(const pv_schema *own, const pv_schema *merged, const char *text, size_t len,
                             const char *what, pv_buf *out, pvgit_retype_keys *bad);

/* The text a key (a row of `s`, npk key values at s->pk) has in *bad:
 * its canonical values joined by ','. Appends to `out`. Errors: PV_ENOMEM. */
int pvgit_retype_key(pv_buf *out, const pv_schema *s, const pv_value *row);

/* Is the key of `row` one of *bad's? */
int pvgit_retype_has(const pvgit_retype_keys *bad, const pv_schema *s, const pv_value *row);
/* Is key[0..n) one of the lines of `list` (keys in pvgit_retype_key text,
 * one a line; the last '\n' may be missing)? A NULL list holds none. */
int pvgit_keys_has(const pv_buf *list, const char *key, size_t n);

void pvgit_retype_keys_free(pvgit_retype_keys *bad);

#endif
