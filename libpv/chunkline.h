/*
 * chunkline.h: the canonical text codec of workspace records (one JSON
 * value per line; docs/FORMAT.md part 2).
 *
 *   header  {"pv":1,"columns":["iata","name"]}      first line of a chunk
 *           {"pv":2,"columns":["iata","name"],"compacted":"0123456789abcdef"}
 *            the header of a chunk `pvdev compact` rewrote: the XXH3-64 of
 *            the bytes it replaced (docs/FORMAT.md part 2)
 *           {"pv":3,"columns":["iata","name","city"]}
 *            a continuation header: never the first line; the columns of
 *            the records after it (written after an ALTER TABLE)
 *   row     ["SFO","San Francisco Intl"]            a whole row, by position
 *   delete  {"delete":["SFO"]}                      the primary key values
 *   conflict {"conflict":{"key":["SFO"],"base":[...],"ours":[...],"theirs":null}}
 *            an unresolved merge conflict (docs/GIT.md): rows by the
 *            position in the header above, null where the row is absent
 *
 * Values: null, true/false, integers as canonical int64 text, reals as the
 * shortest round-trip text (always with '.' or 'e'; infinities as 1e999 and
 * -1e999), TEXT as a JSON string (only '"', '\' and C0 controls escaped,
 * everything else raw UTF-8), BLOB as {"hex":"00ff"}, and a value stored in
 * the blob store as {"sha256":"<64 hex digits>","size":N}.
 */
#ifndef PV_CHUNKLINE_H
#define PV_CHUNKLINE_H

#include <stdint.h>

#include "schema.h"
#include "util.h"
#include "value.h"

#define PV_CHUNK_VERSION 1
/* A chunk rewritten by a compaction: its header also says which bytes it
 * replaced, so it never equals a version the chunk had before. */
#define PV_CHUNK_VERSION_COMPACTED 2
/* A header after the first line: the records after it use its columns. A
 * writer appends one when the chunk's last header lists other columns than
 * the schema's (after an ALTER TABLE), so records stay in the open chunk
 * (docs/FORMAT.md part 1, docs/GIT.md "Changing columns"). */
#define PV_CHUNK_VERSION_CONT 3

/* The number of a chunk file named `name` (no directory): "00000042.jsonl"
 * is 42. 0 when the name is not a chunk's: exactly 8 decimal digits then
 * ".jsonl", and never 00000000 (chunks count from 1; docs/FORMAT.md). */
unsigned pv_chunk_file_number(const char *name);

/* The SHA-256 digest of a value kept in `.pv/blobs/`. */
typedef struct pv_blobref {
    int present;      /* 1 if the value is a reference */
    char hex[65];     /* lower-case hex digest, NUL-terminated */
    uint64_t size;    /* bytes */
} pv_blobref;

#define PV_REC_HEADER 1
#define PV_REC_ROW    2
#define PV_REC_DELETE 3
#define PV_REC_CONFLICT 4

/* The sides of a conflict record. */
#define PV_SIDE_BASE 0
#define PV_SIDE_OURS 1
#define PV_SIDE_THEIRS 2

typedef struct pv_chunk_rec {
    int kind;             /* PV_REC_* */
    uint32_t nvals;       /* row: the header's column count; delete: key parts */
    pv_value *vals;       /* in the arena */
    pv_blobref *refs;     /* in the arena, one per value; NULL if none is a ref */
    char **names;         /* header: column names (arena) */
    int version;          /* header: its "pv" number (PV_CHUNK_VERSION*) */
    pv_value *side[3];    /* conflict: base, ours, theirs rows; NULL = absent */
    pv_blobref *side_refs[3];
} pv_chunk_rec;

/* Append one line (with its '\n') to `out`. `refs` may be NULL; where
 * refs[i].present, value i is written as its reference. */
int pv_chunk_encode_header(pv_buf *out, const pv_schema *s);
/* The header of a chunk a compaction rewrote: version 2, the column names
 * the chunk had, and `replaced`, the XXH3-64 (seed 0) of its bytes before. */
int pv_chunk_encode_header_compacted(pv_buf *out, char *const *names, uint32_t n, uint64_t replaced);
/* A continuation header listing the columns of s: {"pv":3,"columns":[...]}. */
int pv_chunk_encode_header_cont(pv_buf *out, const pv_schema *s);
/* Is `line` (len bytes, without its '\n') a chunk header, of version 1, 2
 * or 3, listing exactly the columns of s in order (records may be appended
 * under it)? 1 or 0. */
int pv_chunk_header_is(const char *line, size_t len, const pv_schema *s);
/* Does `line` start like a header ({"pv":)? A cheap test for readers that
 * skip lines without decoding them: such a line must be decoded. */
int pv_chunk_line_is_header(const char *line, size_t len);
/* Is decoded record r allowed at its place: `first` when it is the first
 * line of its chunk? The first line must be a header of version 1 or 2; a
 * header after it must be of version 3. PV_OK, or PV_ECORRUPT with a
 * message (the caller prefixes file and line). */
int pv_chunk_check_place(const pv_chunk_rec *r, int first);
/* The last line of chunk text (len bytes) that starts like a header, and
 * its length without the '\n': NULL when none (a text without a header). */
const char *pv_chunk_last_header(const char *text, size_t len, size_t *hlen);
int pv_chunk_encode_row(pv_buf *out, const pv_schema *s, const pv_value *row,
                        const pv_blobref *refs);
int pv_chunk_encode_delete(pv_buf *out, const pv_schema *s, const pv_value *key);
/* A conflict record: the key (npk values) and each side's row (ncols
 * values in schema order), NULL where the row is absent. */
int pv_chunk_encode_conflict(pv_buf *out, const pv_schema *s, const pv_value *key,
                             const pv_value *const side[3]);

/* Append the canonical text of one value (used for keys in messages too). */
int pv_chunk_encode_value(pv_buf *out, const pv_value *v);

/* Decode one line (without its '\n'). `types` gives the expected type of
 * each position of a row (from the chunk header mapped to the schema;
 * PV_NULL for a dropped column: any value is read and dropped), and
 * `key_types` of each key part for a delete. Strings are unescaped into the
 * arena. Errors: PV_ECORRUPT with a message naming the byte offset within
 * the line (the caller prefixes file and line), PV_ENOMEM. */
int pv_chunk_decode(const char *line, size_t len, const int *types, uint32_t ntypes,
                    const int *key_types, uint32_t nkey, pv_arena *a,
                    pv_chunk_rec *out);

/* A small reader of the JSON subset used by schema files, shared with the
 * record decoder. */
typedef struct pv_jscan {
    const char *p, *end, *start;
} pv_jscan;
void pv_js_ws(pv_jscan *j);
int pv_js_lit(pv_jscan *j, char c);           /* consume c after blanks; 1 if so */
int pv_js_string(pv_jscan *j, pv_arena *a, const char **s, size_t *n);
int pv_js_int(pv_jscan *j, int64_t *out);
int pv_js_word(pv_jscan *j, const char *w);   /* consume a bare word (true/null) */
/* One value of a given type (no blob references): for schema defaults.
 * Errors: PV_ECORRUPT, PV_ENOMEM. */
int pv_js_value(pv_jscan *j, int type, pv_arena *a, pv_value *out);
/* Append a JSON string with canonical escapes. */
int pv_js_put_string(pv_buf *out, const char *s, size_t n);

#endif
