/*
 * rowdiff.h: comparing two states of a workspace by primary key (used by
 * `pvdev diff`, `pvdev log` and `pvdev textconv`; docs/GIT.md, "diff").
 *
 * A side is the workspace as it is in a git revision (read from the object
 * database: no checkout, bare clones work), in the work tree, or empty. A
 * comparison walks the tables of both sides in name order and reports, per
 * table that differs, its schema changes and its added, deleted and changed
 * rows, sorted by key.
 *
 * It is fast when little changed: chunk files that are identical on both
 * sides (same git blob id; for the work tree, the index's stat data or a
 * hash) are never decoded, and only keys that have a record in a differing
 * chunk are compared (the argument is in docs/GIT.md).
 */
#ifndef PVGIT_ROWDIFF_H
#define PVGIT_ROWDIFF_H

#include <git2.h>
#include <stddef.h>
#include <stdint.h>

#include "schema.h"
#include "util.h"
#include "value.h"

typedef struct pvgit_side pvgit_side;

/* The workspace at revision `rev` (anything git rev-parse takes), below
 * `prefix` (pvgit_repo_open's). A revision whose tree has no `.pv` is an
 * empty side. Errors: PV_ENOTFOUND (unknown revision), PV_EIO, PV_ENOMEM.
 * `repo` is borrowed until pvgit_side_free. */
int pvgit_side_rev(pvgit_side **out, git_repository *repo, const char *prefix, const char *rev);
/* The same from a commit id; the label is the abbreviated id. */
int pvgit_side_commit(pvgit_side **out, git_repository *repo, const char *prefix,
                      const git_oid *commit);
/* The work tree's workspace of directory `dir` (the one holding `.pv/`).
 * `repo` (may be NULL) is the repository around it: its index tells which
 * chunk files are unchanged without reading them. Errors: PV_ENOTFOUND (no
 * `.pv/`), PV_ENOMEM. */
int pvgit_side_worktree(pvgit_side **out, git_repository *repo, const char *dir);
/* No tables at all (the parent of a root commit). */
int pvgit_side_empty(pvgit_side **out, const char *label);
void pvgit_side_free(pvgit_side *s);
/* "HEAD~1", "worktree", an abbreviated commit id. */
const char *pvgit_side_label(const pvgit_side *s);

/* The schema of a table on a side (name ASCII case-insensitive): 1 and
 * *out (the caller frees it with pv_schema_free), 0 when the side has no
 * such table, or a negative error (PV_ECORRUPT, PV_EIO, PV_ENOMEM). */
int pvgit_side_schema(pvgit_side *s, const char *table, pv_schema **out);

/* A row on one side, in that side's schema column order. A value that is
 * a reference into `.pv/blobs/` is compared and shown as its reference:
 * isref[i] is then 1 and vals[i] is TEXT holding the reference's JSON
 * text ({"sha256":"...","size":N}). */
typedef struct pvgit_row {
    const pv_value *vals;    /* NULL: no row on this side */
    const uint8_t *isref;    /* NULL when no value is a reference */
} pvgit_row;

#define PVGIT_ROW_ADDED   1
#define PVGIT_ROW_DELETED 2
#define PVGIT_ROW_CHANGED 3

typedef struct pvgit_rowchange {
    int kind;                /* PVGIT_ROW_* */
    const pv_value *key;     /* the key values, in key order */
    const char *keytext;     /* canonical text of the key values, comma-separated */
    size_t keylen;
    pvgit_row old_row, new_row;
} pvgit_rowchange;

#define PVGIT_COL_ADDED    1  /* new_col only */
#define PVGIT_COL_DROPPED  2  /* old_col only */
#define PVGIT_COL_RENAMED  3
#define PVGIT_COL_TYPE     4  /* type changed */
#define PVGIT_COL_NOTNULL  5  /* NOT NULL added or removed */

typedef struct pvgit_colchange {
    int kind;                /* PVGIT_COL_* */
    int old_col, new_col;    /* column indexes, -1 when absent */
} pvgit_colchange;

/* What differs in one table. Everything is borrowed and lives until the
 * callback returns. */
typedef struct pvgit_tablediff {
    const char *name;
    const pv_schema *old_schema;  /* NULL: the table is new */
    const pv_schema *new_schema;  /* NULL: the table was dropped */
    const int *old_of_new;        /* per new column, the old column or -1 */
    const int *new_of_old;        /* per old column, the new column or -1 */
    int key_changed;              /* the primary key differs: every old row
                                   * is listed as deleted, every new one as added */
    const pvgit_colchange *cols;
    size_t ncols;
    const pvgit_rowchange *rows;  /* sorted by key (old rows first when key_changed) */
    size_t nrows;
    size_t added, deleted, changed;
} pvgit_tablediff;

typedef struct pvgit_diff_opts {
    const char *table;            /* only this table (case-insensitive); NULL: all */
    /* Only this key: its canonical text (pvgit_key_parse); then schema
     * changes alone do not make the table differ. NULL: all keys. */
    const char *key;
    size_t keylen;
    /* Called for each table that differs, in name order; a non-zero
     * return stops the comparison and is returned. */
    int (*fn)(void *ctx, const pvgit_tablediff *d);
    void *ctx;
} pvgit_diff_opts;

/* Compare side a (old) with side b (new). Errors: PV_ECORRUPT (a chunk or
 * schema that does not parse: file and line), PV_EIO, PV_ENOMEM, or the
 * callback's. */
int pvgit_diff(pvgit_side *a, pvgit_side *b, const pvgit_diff_opts *o);

/* The canonical key text of a key given on a command line: for a key of n
 * columns, n parts separated by ',' (a part may be written as JSON, e.g.
 * "\"a,b\"" for text holding a comma, {"hex":"..."} for a BLOB: the text
 * pvgit_key_text prints reads back; unquoted, the last part takes the rest
 * of the text, commas included), each converted to its key column's type.
 * Errors: PV_EINPUT. */
int pvgit_key_parse(const pv_schema *s, const char *arg, pv_buf *out);

/* Append a value as text for people: canonical JSON (strings quoted); a
 * TEXT or BLOB over PV_BLOB_THRESHOLD bytes as the blob reference a chunk
 * holds for it, {"sha256":"...","size":N}. isref: v is such a reference's
 * text already, appended as it is. */
int pvgit_value_text(pv_buf *out, const pv_value *v, int isref);
/* Append a key for people: text parts unquoted when plain (letters,
 * digits, "-_.:/@+"), else canonical JSON; parts joined by ','. */
int pvgit_key_text(pv_buf *out, const pv_value *key, uint32_t n);

/* The end of the JSON value at p (a string, number, word, or a nested
 * object or array; numbers and words end at ',', ']', '}' or a blank), or
 * NULL when it does not end before `end`. *esc is set when a string in it
 * holds a backslash. No validation beyond that. */
const char *pvgit_json_skip(const char *p, const char *end, int *esc);

/* ---- printing (rowdiff_print.c) ----------------------------------------------
 * Text, one line per change:
 *   table airports                      (new) / (dropped) when so
 *   + column gate TEXT                  - column, ~ column a → b, ~ column n INTEGER → REAL
 *   + ORD  name="O'Hare" n=4            an added row: its key, then the other cells
 *   - JFK  name="Kennedy" n=2           a deleted row, with the values it had
 *   ~ SFO  name: "SF" → "SF Intl"       a changed row: the changed cells only
 * JSON: one document {"from","to","tables":[{"table","status","schema",
 * "added","deleted","changed","rows":[...]}]} (docs/GIT.md, "diff"). */
typedef struct pvgit_printer {
    pv_buf *out;             /* appended to; the caller writes it out */
    int color;               /* ANSI colours */
    int json;
    int header;              /* text: print the "table NAME" line */
    int ntables;             /* JSON: tables printed so far */
} pvgit_printer;

int pvgit_print_table(pvgit_printer *p, const pvgit_tablediff *d);
/* One row change (text: one line; JSON: one object), no newline. */
int pvgit_print_row(pvgit_printer *p, const pvgit_tablediff *d, const pvgit_rowchange *r);
/* JSON document framing: call begin before the first table, end after the
 * last. */
int pvgit_print_json_begin(pvgit_printer *p, const char *from, const char *to);
int pvgit_print_json_end(pvgit_printer *p);
/* The counts of one table, for --stat (JSON: one object, no newline). */
int pvgit_print_stat_json(pvgit_printer *p, const pvgit_tablediff *d);

/* A chunk or schema file as text for `git diff` (the diff driver), one
 * line per record; the output depends on the bytes alone (git caches it):
 *   # chunk columns: iata, name, city          the header
 *   iata="SFO" name="San Francisco Intl"        a row: every cell
 *   delete SFO                                  a delete: the key values
 *   conflict {...}                              an unresolved merge conflict
 *   ? <line>                                    a line that is none of these
 * and for a schema file:
 *   # schema of table airports, primary key (iata)
 *   column iata TEXT NOT NULL
 *   column name TEXT (renamed from nm)
 *   dropped column x */
int pvgit_textconv(pv_buf *out, const char *text, size_t len);

#endif
