/*
 * infer.h: choose a column type from the text of all its values, safely.
 *
 * Safe means storing a value in the inferred type never changes it: the
 * stored number, written back as text (pv_int_format, pv_real_format), is
 * byte for byte the text that was read. So "00501", "+5", "-0" and "1,000"
 * keep a column TEXT, and so do "1.50", "1e5" and ".5", whose canonical
 * REAL forms are "1.5", "100000.0" and "0.5".
 *
 *   INTEGER  every value is a canonical int64 (pv_int_parse_canonical);
 *   REAL     every value is the canonical text of a finite double, or a
 *            canonical int64 that a double holds exactly (so an INTEGER
 *            9007199254740993 next to 0.5 keeps the column TEXT), or an
 *            infinity as pv_real_format writes it ("Inf", "-Inf": what
 *            pvdev export writes for one), and at least one value is a
 *            finite number (a column of nothing but "Inf" is more likely
 *            text than numbers, and TEXT keeps it as it is);
 *   TEXT     anything else, and a column with no non-NULL value.
 * BOOLEAN is never inferred: "true" and "1" stay what they were written as.
 *
 * Used one value at a time, so a caller can infer while it streams.
 *
 * Typed values (NDJSON) go through pv_infer_add_value instead, and a JSON
 * type is never reinterpreted (the string "5" stays TEXT):
 *   INTEGER  every value is an integer;
 *   REAL     integers and reals, every integer exact as a double;
 *   BOOLEAN  every value is true or false;   BLOB  every value a blob;
 *   TEXT     every value a string, or any other mix (numbers and booleans
 *            are then stored as their canonical text), and a column with
 *            no non-NULL value.
 * A blob mixed with anything else has no safe type: pv_infer_type returns
 * -1 and the caller reports it.
 */
#ifndef PVDEV_INFER_H
#define PVDEV_INFER_H

#include <stddef.h>
#include <stdint.h>

#include "value.h"

typedef struct pv_infer {
    uint64_t nvalues;  /* non-NULL values seen */
    int all_int;       /* every value so far is a canonical int64 */
    int all_real;      /* every value so far is exact as a REAL */
    int finite;        /* some value is a finite number (not "Inf") */
    unsigned kinds;    /* typed values: bit (1 << PV_*) per type seen */
    int ints_fit_real; /* typed values: every INTEGER is exact as a REAL */
} pv_infer;

void pv_infer_init(pv_infer *st);

/* Account for one non-NULL value (NULLs say nothing about the type). */
void pv_infer_add(pv_infer *st, const char *s, size_t n);

/* Account for one typed non-NULL value (PV_INTEGER .. PV_BOOLEAN). */
void pv_infer_add_value(pv_infer *st, const pv_value *v);

/* The type for everything added so far: PV_INTEGER, PV_REAL or PV_TEXT
 * for text values; for typed values also PV_BOOLEAN, PV_BLOB, or -1 for
 * blobs mixed with other types. */
int pv_infer_type(const pv_infer *st);

/* Read s[0..n) as a value for a REAL column: a number (pv_real_parse:
 * finite, the strtod grammar) or an infinity spelt as PostgreSQL's float8
 * and strtod read one, an optional sign then "inf" or "infinity" in any
 * case ("Inf", "-Inf" as pv_real_format writes them, "+INFINITY").
 * NaN is refused, like any other text: PicoVolt holds no NaN (SQLite's
 * rule: it is NULL), so no export writes one. Returns 1 and *out, or 0. */
int pv_infer_real_parse(const char *s, size_t n, double *out);

/* Is s[0..n) exactly pv_real_format's text of the finite double it reads as?
 * Stores the double in *out (may be NULL) when it is. */
int pv_infer_real_exact(const char *s, size_t n, double *out);

/* Does a double hold the int64 i exactly (|i| <= 2^53, or a multiple of a
 * power of two that fits)? */
int pv_infer_int_fits_real(int64_t i);

#endif
