/*
 * value.c: comparing, converting and printing SQL values.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "value.h"

const char *pv_type_name(int type)
{
    switch (type) {
    case PV_NULL: return "NULL";
    case PV_INTEGER: return "INTEGER";
    case PV_REAL: return "REAL";
    case PV_TEXT: return "TEXT";
    case PV_BLOB: return "BLOB";
    case PV_BOOLEAN: return "BOOLEAN";
    default: return "?";
    }
}

static int contains_ci(const char *s, size_t n, const char *word)
{
    size_t w = strlen(word), i;
    for (i = 0; i + w <= n; i++)
        if (pv_ident_eq(s + i, w, word, w)) return 1;
    return 0;
}

/* SQLite's affinity rules (datatype3.html, 3.1), applied in its order, with
 * BOOL first since we have a real boolean type. NUMERIC-affinity names
 * (NUMERIC, DECIMAL, DATE) are refused rather than guessed. */
int pv_type_parse(const char *s, size_t n)
{
    if (n == 0) return -1;
    if (contains_ci(s, n, "BOOL")) return PV_BOOLEAN;
    if (contains_ci(s, n, "INT")) return PV_INTEGER;
    if (contains_ci(s, n, "CHAR") || contains_ci(s, n, "CLOB") ||
        contains_ci(s, n, "TEXT"))
        return PV_TEXT;
    if (contains_ci(s, n, "BLOB")) return PV_BLOB;
    if (contains_ci(s, n, "REAL") || contains_ci(s, n, "FLOA") ||
        contains_ci(s, n, "DOUB"))
        return PV_REAL;
    return -1;
}

/* ---- comparison ---------------------------------------------------------- */

static int type_class(int t)
{
    switch (t) {
    case PV_NULL: return 0;
    case PV_INTEGER:
    case PV_REAL:
    case PV_BOOLEAN: return 1;
    case PV_TEXT: return 2;
    default: return 3;
    }
}

/* Exact comparison of an int64 with a double (SQLite's
 * sqlite3IntFloatCompare, without long double). */
static int int_real_cmp(int64_t i, double r)
{
    int64_t y;
    double s;
    if (r != r) return 1; /* NaN never stored; order it first to be total */
    if (r < -9223372036854775808.0) return 1;
    if (r >= 9223372036854775808.0) return -1;
    y = (int64_t)r;
    if (i < y) return -1;
    if (i > y) return 1;
    s = (double)i;
    if (s < r) return -1;
    if (s > r) return 1;
    return 0;
}

static int bytes_cmp(const pv_str *a, const pv_str *b)
{
    size_t n = a->n < b->n ? a->n : b->n;
    int c = n ? memcmp(a->p, b->p, n) : 0;
    if (c) return c;
    return a->n < b->n ? -1 : a->n > b->n;
}

int pv_value_cmp(const pv_value *a, const pv_value *b)
{
    int ca = type_class(a->type), cb = type_class(b->type);
    if (ca != cb) return ca < cb ? -1 : 1;
    switch (ca) {
    case 0: return 0;
    case 1:
        if (a->type != PV_REAL && b->type != PV_REAL)
            return a->u.i < b->u.i ? -1 : a->u.i > b->u.i;
        if (a->type == PV_REAL && b->type == PV_REAL)
            return a->u.f < b->u.f ? -1 : a->u.f > b->u.f;
        if (a->type == PV_REAL) return -int_real_cmp(b->u.i, a->u.f);
        return int_real_cmp(a->u.i, b->u.f);
    default: return bytes_cmp(&a->u.s, &b->u.s);
    }
}

int pv_value_identical(const pv_value *a, const pv_value *b)
{
    return a->type == b->type && pv_value_cmp(a, b) == 0 &&
           (a->type != PV_REAL || memcmp(&a->u.f, &b->u.f, sizeof(double)) == 0);
}

/* ---- canonical text ------------------------------------------------------ */

int pv_int_format(int64_t i, char buf[24])
{
    return snprintf(buf, 24, "%lld", (long long)i);
}

/* Shortest round-trip digits, laid out as Python's repr() does: positional
 * for decimal exponents -4..15 ("1200.0", "0.0001"), scientific outside
 * ("1e+16", "1e-05"), so that what reviewers read in a chunk looks like the
 * number they typed. */
int pv_real_format(double f, char buf[32])
{
    char sci[40], digits[20];
    int prec, nd = 0, exp10, n = 0, i;
    const char *p;
    if (isinf(f)) return snprintf(buf, 32, f < 0 ? "-Inf" : "Inf");
    if (f != f) return snprintf(buf, 32, "NaN");
    for (prec = 0; prec <= 16; prec++) {
        snprintf(sci, sizeof sci, "%.*e", prec, f);
        if (strtod(sci, NULL) == f) break;
    }
    /* sci is "-d.ddde+XX": collect the digits and the exponent. */
    for (p = sci; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9') digits[nd++] = *p;
    exp10 = atoi(p + 1);
    while (nd > 1 && digits[nd - 1] == '0') nd--;
    if (signbit(f)) buf[n++] = '-';
    if (exp10 < -4 || exp10 >= 16) {
        buf[n++] = digits[0];
        if (nd > 1) {
            buf[n++] = '.';
            for (i = 1; i < nd; i++) buf[n++] = digits[i];
        }
        n += snprintf(buf + n, (size_t)(32 - n), "e%c%02d", exp10 < 0 ? '-' : '+', abs(exp10));
        return n;
    }
    if (exp10 < 0) {
        buf[n++] = '0';
        buf[n++] = '.';
        for (i = -1; i > exp10; i--) buf[n++] = '0';
        for (i = 0; i < nd; i++) buf[n++] = digits[i];
    } else {
        for (i = 0; i <= exp10; i++) buf[n++] = i < nd ? digits[i] : '0';
        buf[n++] = '.';
        if (nd > exp10 + 1)
            for (i = exp10 + 1; i < nd; i++) buf[n++] = digits[i];
        else
            buf[n++] = '0';
    }
    buf[n] = '\0';
    return n;
}

int pv_int_parse_canonical(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = 0;
    uint64_t v = 0, lim;
    if (n == 0) return 0;
    if (s[0] == '-') {
        neg = 1;
        i = 1;
        if (n == 1) return 0;
    }
    if (s[i] == '0' && (n - i > 1 || neg)) return 0; /* "012", "-0" */
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9) return 0;
        if (v > (lim - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

/* The strict number grammar: -?(d+(.d*)?|.d+)([eE][-+]?d+)? */
static int real_grammar_ok(const char *s, size_t n)
{
    size_t i = 0, digits = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    while (i < n && s[i] >= '0' && s[i] <= '9') i++, digits++;
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++, digits++;
    }
    if (!digits) return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t e = 0;
        i++;
        if (i < n && (s[i] == '-' || s[i] == '+')) i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') i++, e++;
        if (!e) return 0;
    }
    return i == n;
}

/* Digit k of a number's mantissa read as one run: its n0 integer digits
 * at d0, then its fraction digits at d1. */
static unsigned mantissa_digit(const char *d0, size_t n0, const char *d1, size_t k)
{
    return (unsigned)((k < n0 ? d0[k] : d1[k - n0]) - '0');
}

/* The number s[0..n) writes (real_grammar_ok's grammar), when it is
 * exactly an integer in int64's range: 1 and *out, else 0. Decided on the
 * digits, not through a double, which rounds -9223372036854775809 to
 * INT64_MIN and 2.0000000000000001 to 2. */
int pv_int_parse_exact(const char *s, size_t n, int64_t *out)
{
    const char *d0, *d1;
    size_t n0 = 0, n1 = 0, i = 0, k, len, first, last;
    int neg = 0, esign = 1;
    int64_t e = 0, shift;
    uint64_t v = 0, lim;
    if (!real_grammar_ok(s, n)) return 0;
    if (s[i] == '-' || s[i] == '+') neg = s[i++] == '-';
    for (d0 = s + i; i < n && s[i] >= '0' && s[i] <= '9'; i++) n0++;
    if (i < n && s[i] == '.') i++;
    for (d1 = s + i; i < n && s[i] >= '0' && s[i] <= '9'; i++) n1++;
    if (i < n) { /* the exponent, clamped: beyond 10^6 only its sign matters */
        i++;
        if (s[i] == '-' || s[i] == '+') esign = s[i++] == '-' ? -1 : 1;
        for (; i < n; i++) e = e < 1000000 ? e * 10 + (s[i] - '0') : e;
        e *= esign;
    }
    /* the value is D * 10^(e - n1), D the mantissa's digits: from D's
     * first nonzero digit to its last, times 10^shift */
    len = n0 + n1;
    for (first = 0; first < len && mantissa_digit(d0, n0, d1, first) == 0; first++) {
    }
    if (first == len) { /* zero, whatever the exponent */
        *out = 0;
        return 1;
    }
    for (last = len; mantissa_digit(d0, n0, d1, last - 1) == 0; last--) {
    }
    shift = e - (int64_t)n1 + (int64_t)(len - last);
    if (shift < 0) return 0;                            /* a fraction is left */
    if ((int64_t)(last - first) + shift > 19) return 0; /* over 19 digits */
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (k = first; k < last + (size_t)shift; k++) {
        unsigned digit = k < last ? mantissa_digit(d0, n0, d1, k) : 0;
        if (v > (lim - digit) / 10) return 0;
        v = v * 10 + digit;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

int pv_real_parse(const char *s, size_t n, double *out)
{
    char tmp[512];
    double v;
    if (n == 0 || n >= sizeof tmp || !real_grammar_ok(s, n)) return 0;
    memcpy(tmp, s, n);
    tmp[n] = '\0';
    v = strtod(tmp, NULL);
    if (isinf(v) || v != v) return 0;
    *out = v;
    return 1;
}

int pv_utf8_valid(const char *str, size_t n, size_t *bad)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len, k;
        uint32_t cp;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xC2 && c <= 0xDF) len = 2, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF) len = 3, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4) len = 4, cp = c & 0x07;
        else goto fail;
        if (i + len > n) goto fail;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) goto fail;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF)
            goto fail;
        i += len;
    }
    return 1;
fail:
    if (bad) *bad = i;
    return 0;
}

/* ---- conversion for storage (SQLite STRICT rules) ------------------------ */

static int to_integer(const pv_value *in, pv_value *out)
{
    double f;
    switch (in->type) {
    case PV_INTEGER:
    case PV_BOOLEAN: *out = pv_v_int(in->u.i); return PV_OK;
    case PV_REAL:
        f = in->u.f;
        if (f >= -9223372036854775808.0 && f < 9223372036854775808.0 &&
            f == (double)(int64_t)f) {
            *out = pv_v_int((int64_t)f);
            return PV_OK;
        }
        return PV_ETYPE;
    case PV_TEXT:
        /* (a number that is not exactly an integer, or out of range, is
         * refused rather than rounded: the value would change) */
        if (pv_int_parse_canonical(in->u.s.p, in->u.s.n, &out->u.i) ||
            pv_int_parse_exact(in->u.s.p, in->u.s.n, &out->u.i)) {
            out->type = PV_INTEGER;
            return PV_OK;
        }
        return PV_ETYPE;
    default: return PV_ETYPE;
    }
}

static int to_real(const pv_value *in, pv_value *out)
{
    double f;
    switch (in->type) {
    case PV_INTEGER:
    case PV_BOOLEAN: *out = pv_v_real((double)in->u.i); return PV_OK;
    case PV_REAL: *out = *in; return PV_OK;
    case PV_TEXT:
        if (!pv_real_parse(in->u.s.p, in->u.s.n, &f)) return PV_ETYPE;
        *out = pv_v_real(f);
        return PV_OK;
    default: return PV_ETYPE;
    }
}

static int to_text(const pv_value *in, pv_value *out, char *scratch)
{
    int n;
    switch (in->type) {
    case PV_TEXT:
        if (!pv_utf8_valid(in->u.s.p, in->u.s.n, NULL)) return PV_EINPUT;
        *out = *in;
        return PV_OK;
    case PV_INTEGER:
    case PV_BOOLEAN: n = pv_int_format(in->u.i, scratch); break;
    case PV_REAL: n = pv_real_format(in->u.f, scratch); break;
    default: return PV_ETYPE;
    }
    *out = pv_v_text(scratch, (size_t)n);
    return PV_OK;
}

static int to_boolean(const pv_value *in, pv_value *out)
{
    const char *s = in->u.s.p;
    size_t n = in->u.s.n;
    switch (in->type) {
    case PV_BOOLEAN: *out = *in; return PV_OK;
    case PV_INTEGER:
        if (in->u.i != 0 && in->u.i != 1) return PV_ETYPE;
        *out = pv_v_bool((int)in->u.i);
        return PV_OK;
    case PV_REAL:
        if (in->u.f != 0.0 && in->u.f != 1.0) return PV_ETYPE;
        *out = pv_v_bool(in->u.f == 1.0);
        return PV_OK;
    case PV_TEXT:
        if (pv_ident_eq(s, n, "true", 4) || (n == 1 && s[0] == '1')) {
            *out = pv_v_bool(1);
            return PV_OK;
        }
        if (pv_ident_eq(s, n, "false", 5) || (n == 1 && s[0] == '0')) {
            *out = pv_v_bool(0);
            return PV_OK;
        }
        return PV_ETYPE;
    default: return PV_ETYPE;
    }
}

int pv_value_convert(const pv_value *in, int coltype, pv_value *out, char *scratch)
{
    if (in->type == PV_NULL || (in->type == PV_REAL && in->u.f != in->u.f)) {
        *out = pv_v_null(); /* SQLite stores NaN as NULL */
        return PV_OK;
    }
    switch (coltype) {
    case PV_INTEGER: return to_integer(in, out);
    case PV_REAL: return to_real(in, out);
    case PV_TEXT: return to_text(in, out, scratch);
    case PV_BOOLEAN: return to_boolean(in, out);
    case PV_BLOB:
        if (in->type != PV_BLOB && in->type != PV_TEXT) return PV_ETYPE;
        *out = pv_v_blob(in->u.s.p, in->u.s.n);
        return PV_OK;
    default: return PV_ETYPE;
    }
}
