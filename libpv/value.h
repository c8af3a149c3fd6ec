/*
 * value.h: one SQL value, and the rules that compare and convert values.
 *
 * The semantics follow SQLite where they are observable (SQLite's
 * datatype3.html and STRICT tables): NULL sorts before every number,
 * numbers (INTEGER, REAL, BOOLEAN) compare by value, then TEXT by bytes
 * (BINARY collation), then BLOB by bytes.
 */
#ifndef PV_VALUE_H
#define PV_VALUE_H

#include <stddef.h>
#include <stdint.h>

#include "pv.h"

/* A string or blob slice: borrowed bytes, not NUL-terminated. */
typedef struct pv_str {
    const char *p;
    size_t n;
} pv_str;

/* A tagged value. Text and blob bytes are borrowed: whoever builds the value
 * says how long they live (a batch, an arena, a mapping). */
typedef struct pv_value {
    int type; /* PV_NULL, PV_INTEGER, PV_REAL, PV_TEXT, PV_BLOB, PV_BOOLEAN */
    union {
        int64_t i; /* PV_INTEGER, PV_BOOLEAN (0 or 1) */
        double f;  /* PV_REAL */
        pv_str s;  /* PV_TEXT, PV_BLOB */
    } u;
} pv_value;

static inline pv_value pv_v_null(void) { pv_value v; v.type = PV_NULL; v.u.i = 0; return v; }
static inline pv_value pv_v_int(int64_t i) { pv_value v; v.type = PV_INTEGER; v.u.i = i; return v; }
static inline pv_value pv_v_real(double f) { pv_value v; v.type = PV_REAL; v.u.f = f; return v; }
static inline pv_value pv_v_bool(int b) { pv_value v; v.type = PV_BOOLEAN; v.u.i = b ? 1 : 0; return v; }
static inline pv_value pv_v_text(const char *p, size_t n)
{
    pv_value v; v.type = PV_TEXT; v.u.s.p = p; v.u.s.n = n; return v;
}
static inline pv_value pv_v_blob(const void *p, size_t n)
{
    pv_value v; v.type = PV_BLOB; v.u.s.p = (const char *)p; v.u.s.n = n; return v;
}

/* The name of a type as SQL spells it ("INTEGER", "TEXT", ...; "NULL"). */
const char *pv_type_name(int type);
/* Parse a declared column type (case-insensitive; INT, BIGINT, FLOAT,
 * DOUBLE, VARCHAR(n), BOOL ... map as SQLite's affinity rules would).
 * Returns the PV_* type, or -1 when unknown. */
int pv_type_parse(const char *s, size_t n);

/* Total order of SQLite: negative, 0 or positive. INTEGER and REAL compare
 * exactly by value (no rounding of large integers). */
int pv_value_cmp(const pv_value *a, const pv_value *b);

/* Are the two values the same stored value: the same type and equal, a
 * REAL bit for bit (so -0.0 differs from 0.0, as the chunk text does)?
 * What a merge means by "unchanged". */
int pv_value_identical(const pv_value *a, const pv_value *b);

/* Is the value a number (INTEGER, REAL or BOOLEAN)? */
static inline int pv_value_is_num(const pv_value *v)
{
    return v->type == PV_INTEGER || v->type == PV_REAL || v->type == PV_BOOLEAN;
}

/* Convert `in` for storage in a column of type `coltype` with SQLite STRICT
 * rules: INTEGER accepts integers, booleans, reals with no fractional part
 * and text that is exactly a canonical integer; REAL accepts numbers and
 * numeric text; TEXT accepts text, and numbers as their canonical text
 * (written to `scratch`, at least 32 bytes, which must outlive *out); BLOB
 * accepts blobs and text; BOOLEAN accepts booleans, integers 0/1 and the
 * text true/false. NULL passes through.
 * Returns 0, or PV_ETYPE (no message set: the caller names the column). */
int pv_value_convert(const pv_value *in, int coltype, pv_value *out, char *scratch);

/* ---- canonical text forms ------------------------------------------------ */

/* Shortest decimal text that reads back to exactly `f`, laid out as
 * Python's repr(): positional for decimal exponents -4..15, always with a
 * '.' ("1200.0", "0.1", "0.0001"), scientific outside ("1e+16", "1e-05",
 * "1.5e+300"); "Inf"/"-Inf" for infinities.
 * Writes at most 31 bytes plus NUL into buf; returns the length. */
int pv_real_format(double f, char buf[32]);

/* Decimal text of an int64 into buf (at least 21 bytes); returns length. */
int pv_int_format(int64_t i, char buf[24]);

/* Is s[0..n) exactly the canonical text of an int64 ("0", "-12", never
 * "012", "+1", "-0" or out of range)? On success stores it in *out. */
int pv_int_parse_canonical(const char *s, size_t n, int64_t *out);
/* The number s[0..n) writes (the REAL grammar: -?(d+(.d*)?|.d+)([eE][-+]?d+)?,
 * a leading '+' allowed) when it is exactly an integer in int64's range
 * ("1e5", "12.000", "-0.0"): 1 and *out, else 0 ("1.5", "1e-400",
 * "-9223372036854775809"). Exact on the digits, no double involved. */
int pv_int_parse_exact(const char *s, size_t n, int64_t *out);

/* Does s[0..n) read as a finite double (strtod grammar: optional sign,
 * digits, point, exponent; no hex, no inf/nan, no blanks)? Stores it. */
int pv_real_parse(const char *s, size_t n, double *out);

/* Is s[0..n) valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF)?
 * Returns 1, or 0 and the offset of the first bad byte in *bad. */
int pv_utf8_valid(const char *s, size_t n, size_t *bad);

#endif
