/*
 * ndjson_read.h: a streaming reader of NDJSON (one JSON object a line,
 * https://github.com/ndjson/ndjson-spec), over jansson.
 *
 * Each non-blank line must be one JSON object; its members come out in
 * the order written, as typed values:
 *   null -> NULL, true/false -> BOOLEAN, an integer -> INTEGER (int64; a
 *   bigger one is an error), any other number -> REAL (one beyond the
 *   range of a double, as 1e999, is +-Inf, which jansson refuses: the
 *   reader reads such members itself; nested in an array or object it is
 *   an error), a string -> TEXT,
 *   an object {"hex":"00ff"} (exactly that one member, an even number of
 *   hex digits) -> BLOB, any other object or array -> TEXT holding its
 *   compact JSON text.
 * Lines end with LF (a CR before it is blank space); blank lines are
 * skipped; a leading UTF-8 BOM is skipped. jansson checks the UTF-8 of
 * strings and rejects "\u0000" in them and a key written twice in one
 * object.
 *
 * Built only with PVDEV_HAVE_JANSSON (link -ljansson); without it every
 * open fails with PV_EMISUSE "built without NDJSON support".
 */
#ifndef PVDEV_NDJSON_READ_H
#define PVDEV_NDJSON_READ_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

typedef struct pv_ndjson_member {
    pv_str key;       /* UTF-8, NUL-terminated */
    pv_value value;   /* TEXT and BLOB bytes NUL-terminated */
} pv_ndjson_member;

typedef struct pv_ndjson_record {
    const pv_ndjson_member *members; /* borrowed: valid until the next
                                      * pv_ndjson_next or pv_ndjson_close */
    size_t nmembers;
    uint64_t line;     /* 1-based line of the object */
    uint64_t offset;   /* input offset of the line's first byte */
} pv_ndjson_record;

typedef struct pv_ndjson_reader pv_ndjson_reader;

/* Open a file ("-" reads standard input, "<stdin>" in messages).
 * Errors: PV_ENOTFOUND, PV_EIO, PV_ENOMEM, PV_EMISUSE (no jansson). */
int pv_ndjson_open(const char *path, pv_ndjson_reader **out);

/* Read from memory (`data` must outlive the reader); `name` for messages. */
int pv_ndjson_open_mem(const void *data, size_t len, const char *name,
                       pv_ndjson_reader **out);

/* The next object: 1, 0 at the end, or a negative error whose message
 * names input and line: PV_EINPUT ("x.ndjson:7:12: invalid token near
 * 'tru'" for JSON jansson rejects, with the column, 1-based in characters,
 * where the token at fault starts; "x.ndjson:3: the line ends inside a
 * JSON object: ..." for an object that goes on to the next line;
 * "x.ndjson:3: expected a JSON object, got an array"), PV_ELIMIT (an
 * integer beyond int64), PV_EIO, PV_ENOMEM. Errors are sticky. */
int pv_ndjson_next(pv_ndjson_reader *r, pv_ndjson_record *out);

const char *pv_ndjson_name(const pv_ndjson_reader *r);
/* Bytes consumed so far (for progress). */
uint64_t pv_ndjson_offset(const pv_ndjson_reader *r);
void pv_ndjson_close(pv_ndjson_reader *r);

/* Was pvdev built with jansson? */
int pv_ndjson_supported(void);

#endif
