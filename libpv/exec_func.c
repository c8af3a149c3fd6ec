/*
 * exec_func.c: scalar SQL functions (SQLite's behaviour for each) and LIKE.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"

/* ---- lookup ------------------------------------------------------------------ */

static const struct {
    const char *name;
    int fn;
    int min, max; /* argument counts; max -1 = any */
} fn_table[] = {
    {"lower", PV_FN_LOWER, 1, 1},       {"upper", PV_FN_UPPER, 1, 1},
    {"length", PV_FN_LENGTH, 1, 1},     {"substr", PV_FN_SUBSTR, 2, 3},
    {"substring", PV_FN_SUBSTR, 2, 3},  {"trim", PV_FN_TRIM, 1, 2},
    {"ltrim", PV_FN_LTRIM, 1, 2},       {"rtrim", PV_FN_RTRIM, 1, 2},
    {"abs", PV_FN_ABS, 1, 1},           {"round", PV_FN_ROUND, 1, 2},
    {"coalesce", PV_FN_COALESCE, 2, -1},{"ifnull", PV_FN_IFNULL, 2, 2},
    {"nullif", PV_FN_NULLIF, 2, 2},     {"typeof", PV_FN_TYPEOF, 1, 1},
    {"min", PV_FN_MIN, 1, -1},          {"max", PV_FN_MAX, 1, -1},
    {"count", PV_FN_COUNT, 0, 1},       {"sum", PV_FN_SUM, 1, 1},
    {"total", PV_FN_TOTAL, 1, 1},       {"avg", PV_FN_AVG, 1, 1},
};

int pv_func_lookup(const pv_expr *e, int *fn)
{
    size_t i;
    int n = (int)e->nargs;
    for (i = 0; i < sizeof fn_table / sizeof fn_table[0]; i++) {
        if (!pv_ident_eq(e->name.p, e->name.n, fn_table[i].name, strlen(fn_table[i].name))) continue;
        *fn = fn_table[i].fn;
        if (*fn == PV_FN_COUNT && (e->star || n == 0)) {
            *fn = PV_FN_COUNT_STAR;
            return 0;
        }
        if (e->star || n < fn_table[i].min || (fn_table[i].max >= 0 && n > fn_table[i].max))
            break;
        if (n > 1 && (*fn == PV_FN_MIN || *fn == PV_FN_MAX))
            *fn = *fn == PV_FN_MIN ? PV_FN_MIN2 : PV_FN_MAX2;
        if (e->distinct && !pv_fn_is_agg(*fn))
            return pv_err_at(PV_ESQL, e->off, "DISTINCT is only allowed in aggregates: %.*s()",
                             (int)e->name.n, e->name.p);
        return 0;
    }
    if (i < sizeof fn_table / sizeof fn_table[0])
        return pv_err_at(PV_ESQL, e->off, "wrong number of arguments to function %.*s()",
                         (int)e->name.n, e->name.p);
    return pv_err_at(PV_ESQL, e->off, "no such function: %.*s", (int)e->name.n, e->name.p);
}

/* ---- UTF-8 helpers ------------------------------------------------------------ */

/* Bytes of the character starting at s[0] (at least 1, at most n). */
static size_t u8len(const char *s, size_t n)
{
    unsigned char c = (unsigned char)s[0];
    size_t k = c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    return k < n ? k : n;
}

static size_t u8count(const char *s, size_t n)
{
    size_t i, k = 0;
    for (i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) k++;
    return k;
}

/* Byte offset of character `ch` (clamped to the end). */
static size_t u8offset(const char *s, size_t n, int64_t ch)
{
    size_t i = 0;
    while (ch > 0 && i < n) {
        i += u8len(s + i, n - i);
        ch--;
    }
    return i;
}

/* ---- LIKE ---------------------------------------------------------------------- */

static unsigned char fold(unsigned char c) { return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c; }

static int char_eq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn) return 0;
    if (an == 1) return fold((unsigned char)a[0]) == fold((unsigned char)b[0]);
    return memcmp(a, b, an) == 0;
}

/* One pattern element at pat[*p]: 0 literal (bytes at *lit, *litn), 1 '%',
 * 2 '_'. Advances *p. */
static int pat_next(const pv_str *pat, size_t *p, const pv_str *esc, const char **lit, size_t *litn)
{
    size_t k = u8len(pat->p + *p, pat->n - *p);
    if (esc && char_eq(pat->p + *p, k, esc->p, esc->n) && *p + k < pat->n) {
        *p += k;
        k = u8len(pat->p + *p, pat->n - *p);
    } else if (pat->p[*p] == '%') {
        *p += 1;
        return 1;
    } else if (pat->p[*p] == '_') {
        *p += 1;
        return 2;
    }
    *lit = pat->p + *p;
    *litn = k;
    *p += k;
    return 0;
}

/* Greedy match with backtracking to the last '%': O(len(s) * len(pat)). */
static int like_match(const pv_str *pat, const pv_str *s, const pv_str *esc)
{
    size_t p = 0, i = 0, star_p = 0, star_i = 0;
    int have_star = 0;
    while (i < s->n) {
        if (p < pat->n) {
            const char *lit = NULL;
            size_t litn = 0, q = p, k = u8len(s->p + i, s->n - i);
            int t = pat_next(pat, &q, esc, &lit, &litn);
            if (t == 1) {
                have_star = 1;
                star_p = p = q;
                star_i = i;
                continue;
            }
            if (t == 2 || char_eq(lit, litn, s->p + i, k)) {
                p = q;
                i += k;
                continue;
            }
        }
        if (!have_star) return 0;
        star_i += u8len(s->p + star_i, s->n - star_i);
        i = star_i;
        p = star_p;
    }
    while (p < pat->n) {
        const char *lit;
        size_t litn;
        if (pat_next(pat, &p, esc, &lit, &litn) != 1) return 0;
    }
    return 1;
}

int pv_like(const pv_str *pat, const pv_str *s, const pv_str *esc, uint32_t esc_off, int *out)
{
    if (esc && (esc->n == 0 || u8len(esc->p, esc->n) != esc->n))
        return pv_err_at(PV_ESQL, esc_off, "ESCAPE expression must be a single character");
    *out = like_match(pat, s, esc);
    return 0;
}

/* ---- string functions ---------------------------------------------------------- */

static int case_map(pv_eval *cx, const pv_value *v, int upper, pv_value *out)
{
    pv_str s;
    char *d;
    size_t i;
    int rc = pv_value_text(cx->arena, v, &s);
    if (rc) return rc;
    if (!(d = pv_arena_alloc(cx->arena, s.n + 1))) return pv_err(PV_ENOMEM, "out of memory in lower/upper");
    for (i = 0; i < s.n; i++) {
        char c = s.p[i];
        if (upper && c >= 'a' && c <= 'z') c = (char)(c - 32);
        if (!upper && c >= 'A' && c <= 'Z') c = (char)(c + 32);
        d[i] = c;
    }
    d[s.n] = 0;
    *out = pv_v_text(d, s.n);
    return 0;
}

static int fn_length(pv_eval *cx, const pv_value *v, pv_value *out)
{
    pv_str s;
    int rc;
    if (v->type == PV_BLOB) {
        *out = pv_v_int((int64_t)v->u.s.n);
        return 0;
    }
    if ((rc = pv_value_text(cx->arena, v, &s))) return rc;
    *out = pv_v_int((int64_t)u8count(s.p, s.n));
    return 0;
}

/* SQLite's substr(X, Y, Z): 1-based; Y <= 0 and negative Z count from the
 * start/left as its func.c does. Positions are characters (bytes for BLOB). */
static int fn_substr(pv_eval *cx, const pv_value *a, uint32_t n, pv_value *out)
{
    int64_t p1 = pv_value_int64(&a[1]), p2 = INT64_MAX / 4, len;
    int neg = 0, blob = a[0].type == PV_BLOB, rc;
    size_t b0, b1;
    pv_str s;
    if ((rc = pv_value_text(cx->arena, &a[0], &s))) return rc;
    len = blob ? (int64_t)s.n : (int64_t)u8count(s.p, s.n);
    if (n == 3) {
        p2 = pv_value_int64(&a[2]);
        if (p2 < 0) {
            p2 = p2 == INT64_MIN ? INT64_MAX / 4 : -p2;
            neg = 1;
        }
        if (p2 > INT64_MAX / 4) p2 = INT64_MAX / 4;
    }
    if (p1 < -(INT64_MAX / 4)) p1 = -(INT64_MAX / 4);
    if (p1 > INT64_MAX / 4) p1 = INT64_MAX / 4;
    if (p1 < 0) {
        p1 += len;
        if (p1 < 0) {
            p2 += p1;
            if (p2 < 0) p2 = 0;
            p1 = 0;
        }
    } else if (p1 > 0) {
        p1--;
    } else if (p2 > 0) {
        p2--;
    }
    if (neg) {
        p1 -= p2;
        if (p1 < 0) {
            p2 += p1;
            p1 = 0;
        }
    }
    if (blob) {
        b0 = p1 < len ? (size_t)p1 : s.n;
        b1 = p1 + p2 < len ? (size_t)(p1 + p2) : s.n;
        *out = pv_v_blob(s.p + b0, b1 - b0);
        return 0;
    }
    b0 = u8offset(s.p, s.n, p1);
    b1 = b0 + u8offset(s.p + b0, s.n - b0, p2);
    *out = pv_v_text(s.p + b0, b1 - b0);
    return 0;
}

/* Is the character c[0..k) one of the characters of set? */
static int in_set(const char *c, size_t k, const pv_str *set)
{
    size_t i = 0;
    while (i < set->n) {
        size_t m = u8len(set->p + i, set->n - i);
        if (m == k && memcmp(set->p + i, c, k) == 0) return 1;
        i += m;
    }
    return 0;
}

static int fn_trim(pv_eval *cx, int fn, const pv_value *a, uint32_t n, pv_value *out)
{
    pv_str s, set = {" ", 1};
    size_t b = 0, e;
    int rc;
    if ((rc = pv_value_text(cx->arena, &a[0], &s))) return rc;
    if (n == 2 && (rc = pv_value_text(cx->arena, &a[1], &set))) return rc;
    e = s.n;
    if (fn != PV_FN_RTRIM) {
        while (b < e) {
            size_t k = u8len(s.p + b, e - b);
            if (!in_set(s.p + b, k, &set)) break;
            b += k;
        }
    }
    if (fn != PV_FN_LTRIM) {
        while (e > b) {
            size_t k = 1;
            while (k < e - b && k < 4 && ((unsigned char)s.p[e - k] & 0xC0) == 0x80) k++;
            if (!in_set(s.p + e - k, k, &set)) break;
            e -= k;
        }
    }
    *out = a[0].type == PV_BLOB ? pv_v_blob(s.p + b, e - b) : pv_v_text(s.p + b, e - b);
    return 0;
}

/* ---- numeric functions --------------------------------------------------------- */

static int fn_abs(const pv_value *v, pv_value *out)
{
    switch (v->type) {
    case PV_INTEGER:
    case PV_BOOLEAN:
        if (v->u.i == INT64_MIN) return pv_err(PV_ERANGE, "integer overflow");
        *out = pv_v_int(v->u.i < 0 ? -v->u.i : v->u.i);
        return 0;
    case PV_REAL: *out = pv_v_real(fabs(v->u.f)); return 0;
    default: *out = pv_v_real(fabs(pv_value_double(v))); return 0; /* as SQLite: text gives REAL */
    }
}

/* SQLite's round(): half away from zero on the 15 significant digits it
 * prints, so round(2.675, 2) is 2.68 as users expect. */
static double sql_round(double r, int64_t n)
{
    char buf[64];
    uint64_t kept = 0;
    int exp, keep, i;
    if (n < 0) n = 0;
    if (n > 30) n = 30;
    if (r < -4503599627370496.0 || r > 4503599627370496.0 || r != r) return r;
    if (n == 0) return (double)(int64_t)(r + (r < 0 ? -0.5 : 0.5)) + 0.0;
    snprintf(buf, sizeof buf, "%.14e", fabs(r)); /* d.dddddddddddddde[+-]xx */
    exp = atoi(buf + 17);
    keep = exp + 1 + (int)n;
    if (keep >= 15) return r;
    if (keep < 0) return 0.0;
    for (i = 0; i < keep; i++) kept = kept * 10 + (uint64_t)(buf[i == 0 ? 0 : i + 1] - '0');
    if (buf[keep == 0 ? 0 : keep + 1] >= '5') kept++;
    snprintf(buf, sizeof buf, "%llue%d", (unsigned long long)kept, exp + 1 - keep);
    r = r < 0 ? -strtod(buf, NULL) : strtod(buf, NULL);
    return r == 0.0 ? 0.0 : r;
}

static int fn_minmax(const pv_value *a, uint32_t n, int want_max, pv_value *out)
{
    uint32_t i, best = 0;
    for (i = 0; i < n; i++) {
        int c;
        if (a[i].type == PV_NULL) {
            *out = pv_v_null();
            return 0;
        }
        /* ties as SQLite's minmaxFunc: min takes the later argument, max
         * keeps the earlier one (visible as 1 vs 1.0) */
        c = pv_value_cmp(&a[i], &a[best]);
        if (i > 0 && (want_max ? c > 0 : c <= 0)) best = i;
    }
    *out = a[best];
    return 0;
}

static pv_value type_name(const pv_value *v)
{
    static const char *names[] = {"null", "integer", "real", "text", "blob", "boolean"};
    const char *s = v->type >= 0 && v->type <= PV_BOOLEAN ? names[v->type] : "null";
    return pv_v_text(s, strlen(s));
}

/* Functions whose result is NULL when any argument is NULL. */
static int null_in_null_out(int fn)
{
    return fn != PV_FN_NULLIF && fn != PV_FN_TYPEOF && fn != PV_FN_MIN2 && fn != PV_FN_MAX2;
}

int pv_func_call(pv_eval *cx, const pv_expr *e, const pv_value *a, pv_value *out)
{
    uint32_t i, n = e->nargs;
    if (null_in_null_out(e->fn)) {
        for (i = 0; i < n; i++) {
            if (a[i].type == PV_NULL) {
                *out = pv_v_null();
                return 0;
            }
        }
    }
    switch (e->fn) {
    case PV_FN_LOWER: return case_map(cx, &a[0], 0, out);
    case PV_FN_UPPER: return case_map(cx, &a[0], 1, out);
    case PV_FN_LENGTH: return fn_length(cx, &a[0], out);
    case PV_FN_SUBSTR: return fn_substr(cx, a, n, out);
    case PV_FN_TRIM:
    case PV_FN_LTRIM:
    case PV_FN_RTRIM: return fn_trim(cx, e->fn, a, n, out);
    case PV_FN_ABS: return fn_abs(&a[0], out);
    case PV_FN_ROUND:
        *out = pv_v_real(sql_round(pv_value_double(&a[0]), n > 1 ? pv_value_int64(&a[1]) : 0));
        return 0;
    case PV_FN_NULLIF:
        *out = a[0].type != PV_NULL && a[1].type != PV_NULL && pv_value_cmp(&a[0], &a[1]) == 0
                   ? pv_v_null()
                   : a[0];
        return 0;
    case PV_FN_TYPEOF: *out = type_name(&a[0]); return 0;
    case PV_FN_MIN2: return fn_minmax(a, n, 0, out);
    case PV_FN_MAX2: return fn_minmax(a, n, 1, out);
    default: return pv_err(PV_ERROR, "function %.*s() has no scalar form", (int)e->name.n, e->name.p);
    }
}
