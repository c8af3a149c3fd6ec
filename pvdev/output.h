/*
 * output.h: result formatters for `pvdev sql`, its shell and `pvdev export`.
 *
 * A formatter is opened with the column names, fed one row of values at a
 * time, and finished. The modes follow the sqlite3 shell's, so results can
 * be compared with it line for line:
 *
 *   list    values joined by the separator ('|'), NULL as the null text
 *           (""), BLOB bytes raw; the header (with --header) joined alike.
 *   csv     RFC 4180, the sqlite3 shell's rules: a field is quoted when it
 *           holds a byte below 0x21, '"', '\'', ',' or a byte >= 0x80, and
 *           quotes are doubled; the empty string is written "" while NULL
 *           is an empty unquoted field, so `pvdev import` reads each back as
 *           it was. Lines end with "\n". BLOB bytes are written as they are
 *           (as sqlite3 does): only valid UTF-8 blobs survive a CSV round
 *           trip, NDJSON keeps every blob.
 *   json    one JSON array of objects, `[{"a":1},\n{"a":2}]` as sqlite3's
 *           .mode json; nothing at all for no rows.
 *   ndjson  one JSON object per line (`pvdev export --format ndjson`).
 *   table   aligned columns framed in ASCII (+---+), the header centred,
 *           as sqlite3's .mode table; rows are kept until the end.
 *   box     the same framed with Unicode box-drawing characters.
 *   line    one "name = value" line per column, a blank line between rows.
 *
 * JSON values (json, ndjson): INTEGER as its decimal digits (exact beyond
 * 2^53: a JSON number is text), REAL as pv_real_format writes it (the
 * shortest text that reads back to the same double; infinities as 1e999
 * and -1e999 like sqlite3, NaN as null), BOOLEAN as true/false, TEXT as a
 * string (", \ and control characters escaped, UTF-8 kept), BLOB as an
 * object {"hex":"00ff"} of lower-case hex digits, and NULL as null. Keys
 * are the column names in result order.
 *
 * In table, box and line modes (for eyes only) control characters in
 * values are shown escaped (\n, \t, \r, \xHH) so a row stays on its line;
 * widths count UTF-8 characters.
 */
#ifndef PVDEV_OUTPUT_H
#define PVDEV_OUTPUT_H

#include <stdio.h>

#include "pv.h"
#include "value.h"

enum {
    PV_OUT_LIST,
    PV_OUT_CSV,
    PV_OUT_JSON,
    PV_OUT_NDJSON,
    PV_OUT_TABLE,
    PV_OUT_BOX,
    PV_OUT_LINE
};

typedef struct pv_out_opts {
    int mode;               /* PV_OUT_* */
    int header;             /* list and csv: print the column names first */
    const char *separator;  /* list: between values (default "|") */
    const char *null_text;  /* list, table, box, line: NULL shows as this
                             * (default "") */
} pv_out_opts;

#define PV_OUT_OPTS_INIT {PV_OUT_LIST, 0, "|", ""}

typedef struct pv_out pv_out;

/* The mode named `name` ("list", "csv", "json", "ndjson", "table", "box",
 * "line"), or -1. */
int pv_out_mode_parse(const char *name);
const char *pv_out_mode_name(int mode);

/* Start a result of `ncols` columns named `names` (copied) on `f`.
 * Errors: PV_ENOMEM, PV_EMISUSE (unknown mode). */
int pv_out_open(FILE *f, const pv_out_opts *opts, int ncols,
                const char *const *names, pv_out **out);

/* One row of ncols values (borrowed for the call). Errors: PV_EIO (a write
 * failed), PV_ENOMEM (table and box keep the rows). */
int pv_out_row(pv_out *o, const pv_value *row);

/* list and csv: write the header line now, even if no row follows (an
 * exported empty table keeps its column names). Errors: PV_EIO. */
int pv_out_header(pv_out *o);

/* The current row of a statement, through the public pv_column_* calls. */
int pv_out_stmt_row(pv_out *o, pv_stmt *st);

/* Finish the result (closing brackets, the buffered table) and free the
 * formatter; accepts NULL. Returns 0 or PV_EIO when a write failed. */
int pv_out_close(pv_out *o);

/* Rows given so far. */
uint64_t pv_out_rows(const pv_out *o);

/* Write `s[0..n)` as a JSON string (quotes included) to f. */
void pv_out_json_string(FILE *f, const char *s, size_t n);

#endif
