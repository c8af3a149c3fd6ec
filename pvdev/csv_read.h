/*
 * csv_read.h: a streaming RFC 4180 CSV reader over libcsv.
 *
 * libcsv does the quoting rules; this layer adds what an importer needs to
 * report errors a person can act on and to keep NULL apart from '':
 *   - records are pulled one at a time (pv_csv_next), not pushed through
 *     callbacks;
 *   - each record carries the physical line where it starts (newlines inside
 *     quoted fields count, CRLF and a lone CR are one line break each) and
 *     the byte offset of its first byte;
 *   - each field says whether it was quoted, and an empty unquoted field is
 *     NULL (p == NULL) while a quoted empty field ("") is the empty string;
 *   - every field is checked to be UTF-8; a bad byte is reported by its
 *     offset in the input;
 *   - every record must have as many fields as the first one.
 *
 * Input rules: comma delimiter, '"' quote, fields taken byte for byte
 * (spaces are content, never trimmed: RFC 4180 section 2.4). Quotes follow
 * RFC 4180 strictly: a quote inside an unquoted field, or anything but a
 * delimiter or line break after a closing quote, is an error, and so is a
 * quoted field still open at the end of the input. A UTF-8 byte order mark
 * at the start is skipped. Blank lines between records are skipped. The
 * last record needs no final line break.
 *
 * Offsets are 0-based byte offsets from the start of the input (the BOM
 * included), so `tail -c +$((OFFSET + 1))` shows the spot.
 */
#ifndef PVDEV_CSV_READ_H
#define PVDEV_CSV_READ_H

#include <stddef.h>
#include <stdint.h>

typedef struct pv_csv_field {
    const char *p;    /* the field's bytes, NUL-terminated; NULL for NULL */
    size_t n;         /* length in bytes, without the terminator (0 if NULL) */
    int quoted;       /* 1 if the field was written between quotes */
    uint64_t offset;  /* input offset of its first byte (its opening quote) */
} pv_csv_field;

typedef struct pv_csv_record {
    const pv_csv_field *fields; /* borrowed: valid until the next pv_csv_next
                                 * or pv_csv_close on the reader */
    size_t nfields;
    uint64_t line;    /* 1-based physical line of the record's first byte */
    uint64_t offset;  /* input offset of the record's first byte */
} pv_csv_record;

typedef struct pv_csv_reader pv_csv_reader;

/* Open a file ("-" reads standard input, named "<stdin>" in messages).
 * max_fields caps the fields of a record (0: no cap); later records are
 * capped by the first anyway.
 * Errors: PV_ENOTFOUND, PV_EIO (cannot open), PV_ENOMEM, PV_EMISUSE. */
int pv_csv_open(const char *path, size_t max_fields, pv_csv_reader **out);

/* Read CSV from memory; `data` must outlive the reader. `name` is used in
 * messages ("x.csv:9: ..."). Errors: PV_ENOMEM, PV_EMISUSE. */
int pv_csv_open_mem(const void *data, size_t len, const char *name,
                    size_t max_fields, pv_csv_reader **out);

/* Read the next record into *out.
 * Returns 1 (a record), 0 (end of input) or a negative error, whose message
 * names the input, the record's line and, when it is about one field, the
 * column (1-based, with its header name once pv_csv_set_names was called):
 *   PV_EINPUT  "x.csv:17: expected 7 fields, got 8",
 *              "x.csv:5: column 3 (\"name\"): invalid UTF-8 at byte offset 1234",
 *              "x.csv:9: unterminated quoted field ...", misplaced quotes;
 *   PV_ELIMIT  more than max_fields fields, or a field over SIZE_MAX;
 *   PV_EIO     a read failed; PV_ENOMEM.
 * Errors are sticky: every later call returns the same code. */
int pv_csv_next(pv_csv_reader *r, pv_csv_record *out);

/* Use the fields of `header` (usually the first record) as column names in
 * later messages. Errors: PV_ENOMEM. */
int pv_csv_set_names(pv_csv_reader *r, const pv_csv_record *header);

/* Split plain lines without libcsv (on, the default) or send every byte
 * through libcsv (off). Both read the same records and report the same
 * errors; the switch lets tests compare them. */
void pv_csv_set_fast(pv_csv_reader *r, int on);

/* The input's name for messages: the path, or "<stdin>". Lives as long as
 * the reader. */
const char *pv_csv_name(const pv_csv_reader *r);

/* Close the reader (and the file it opened). Accepts NULL. */
void pv_csv_close(pv_csv_reader *r);

/* The longest prefix of valid UTF-8 s[0..n) that has at most `max` bytes
 * and does not end inside a character: for quoting values in messages. */
size_t pv_csv_utf8_prefix(const char *s, size_t n, size_t max);

#endif
