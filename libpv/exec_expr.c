/*
 * exec_expr.c: evaluate a bound expression to a pv_value, with SQLite's
 * conversions (numeric prefixes, comparison affinity, three-valued logic,
 * int64 arithmetic that overflows to REAL).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "exec.h"
#include "sql_lex.h"

/* ---- conversions ------------------------------------------------------------ */

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static int is_dig(char c) { return c >= '0' && c <= '9'; }

/* The longest prefix of s (after blanks) reading as a number: *len its end,
 * *digits whether any digit was seen, *integral when no '.' nor exponent. */
static size_t num_prefix(const char *s, size_t n, size_t *start, int *digits, int *integral)
{
    size_t i = 0, j;
    while (i < n && is_blank(s[i])) i++;
    *start = i;
    *digits = 0;
    *integral = 1;
    if (i < n && (s[i] == '+' || s[i] == '-')) i++;
    while (i < n && is_dig(s[i])) i++, *digits = 1;
    if (i < n && s[i] == '.') {
        j = i + 1;
        while (j < n && is_dig(s[j])) j++, *digits = 1;
        if (*digits) i = j, *integral = 0;
    }
    if (*digits && i < n && (s[i] == 'e' || s[i] == 'E')) {
        j = i + 1;
        if (j < n && (s[j] == '+' || s[j] == '-')) j++;
        if (j < n && is_dig(s[j])) {
            while (j < n && is_dig(s[j])) j++;
            i = j;
            *integral = 0;
        }
    }
    return i;
}

/* Signed decimal digits to int64; 0 when it overflows. */
static int parse_i64(const char *s, size_t n, int64_t *out)
{
    uint64_t v = 0, lim;
    size_t i = 0;
    int neg = 0;
    if (i < n && (s[i] == '+' || s[i] == '-')) neg = s[i++] == '-';
    lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
    for (; i < n; i++) {
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (lim - d) / 10) return 0;
        v = v * 10 + d;
    }
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

static double parse_double(const char *s, size_t n)
{
    char buf[512];
    if (n >= sizeof buf) n = sizeof buf - 1; /* digits past 511 do not matter here */
    memcpy(buf, s, n);
    buf[n] = 0;
    return strtod(buf, NULL);
}

/* Text to a number by its numeric prefix; *pure when the whole text (but
 * blanks) is that number. */
pv_value pv_text_numeric(const char *s, size_t n, int *pure)
{
    size_t start, end, k;
    int digits, integral;
    int64_t i;
    pv_value v;
    end = num_prefix(s, n, &start, &digits, &integral);
    k = end;
    while (k < n && is_blank(s[k])) k++;
    if (pure) *pure = digits && k == n;
    if (!digits) return pv_v_int(0);
    if (integral && parse_i64(s + start, end - start, &i)) return pv_v_int(i);
    v = pv_v_real(parse_double(s + start, end - start));
    return v;
}

pv_value pv_value_numeric(const pv_value *v)
{
    switch (v->type) {
    case PV_BOOLEAN: return pv_v_int(v->u.i);
    case PV_TEXT:
    case PV_BLOB: return pv_text_numeric(v->u.s.p, v->u.s.n, NULL);
    default: return *v;
    }
}

int64_t pv_real_to_int64(double f)
{
    if (f != f) return 0;
    if (f <= -9223372036854775808.0) return INT64_MIN;
    if (f >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)f;
}

/* Integer prefix of a text (SQLite's sqlite3Atoi64): blanks, sign, digits;
 * saturates on overflow. */
static int64_t text_to_int(const char *s, size_t n)
{
    size_t i = 0, j;
    int64_t v;
    while (i < n && is_blank(s[i])) i++;
    j = i;
    if (j < n && (s[j] == '+' || s[j] == '-')) j++;
    while (j < n && is_dig(s[j])) j++;
    if (j == i || !is_dig(s[j - 1])) return 0;
    if (parse_i64(s + i, j - i, &v)) return v;
    return s[i] == '-' ? INT64_MIN : INT64_MAX;
}

int64_t pv_value_int64(const pv_value *v)
{
    switch (v->type) {
    case PV_NULL: return 0;
    case PV_REAL: return pv_real_to_int64(v->u.f);
    case PV_TEXT:
    case PV_BLOB: return text_to_int(v->u.s.p, v->u.s.n);
    default: return v->u.i;
    }
}

double pv_value_double(const pv_value *v)
{
    pv_value n = pv_value_numeric(v);
    if (n.type == PV_NULL) return 0.0;
    return n.type == PV_REAL ? n.u.f : (double)n.u.i;
}

int pv_value_truth(const pv_value *v)
{
    pv_value n;
    if (v->type == PV_NULL) return -1;
    n = pv_value_numeric(v);
    return n.type == PV_REAL ? n.u.f != 0.0 : n.u.i != 0;
}

int pv_value_text(pv_arena *a, const pv_value *v, pv_str *out)
{
    char buf[32], *p;
    int n;
    switch (v->type) {
    case PV_NULL: out->p = NULL; out->n = 0; return 0;
    case PV_TEXT:
    case PV_BLOB: *out = v->u.s; return 0;
    case PV_REAL: n = pv_real_format(v->u.f == 0.0 ? 0.0 : v->u.f, buf); break; /* -0.0 reads "0.0" */
    default: n = pv_int_format(v->u.i, buf); break;
    }
    if (!(p = pv_arena_dup(a, buf, (size_t)n))) return pv_err(PV_ENOMEM, "out of memory formatting a value");
    out->p = p;
    out->n = (size_t)n;
    return 0;
}

int pv_value_copy(pv_arena *a, const pv_value *v, pv_value *out)
{
    char *p;
    *out = *v;
    if (v->type != PV_TEXT && v->type != PV_BLOB) return 0;
    if (!(p = pv_arena_dup(a, v->u.s.p, v->u.s.n))) return pv_err(PV_ENOMEM, "out of memory copying a value");
    out->u.s.p = p;
    return 0;
}

/* ---- comparison ---------------------------------------------------------------- */

static int aff_numeric(int aff) { return aff == PV_INTEGER || aff == PV_REAL || aff == PV_BOOLEAN; }

/* NUMERIC affinity: text that is entirely a number becomes that number. */
static pv_value apply_numeric(const pv_value *v)
{
    int pure;
    pv_value n;
    if (v->type != PV_TEXT) return *v;
    n = pv_text_numeric(v->u.s.p, v->u.s.n, &pure);
    return pure ? n : *v;
}

/* TEXT affinity: numbers become their text. */
static int apply_text(pv_arena *a, pv_value *v)
{
    pv_str s;
    int rc;
    if (!pv_value_is_num(v)) return 0;
    if ((rc = pv_value_text(a, v, &s))) return rc;
    *v = pv_v_text(s.p, s.n);
    return 0;
}

static int cmp_result(int op, int c)
{
    switch (op) {
    case TK_EQ: return c == 0;
    case TK_NE: return c != 0;
    case TK_LT: return c < 0;
    case TK_LE: return c <= 0;
    case TK_GT: return c > 0;
    default: return c >= 0;
    }
}

int pv_compare_aff(pv_arena *a, int op, pv_value l, int laff, pv_value r, int raff, int *out)
{
    int rc = 0;
    if (l.type == PV_NULL || r.type == PV_NULL) {
        *out = -1;
        return 0;
    }
    if (aff_numeric(laff) && !aff_numeric(raff)) r = apply_numeric(&r);
    else if (aff_numeric(raff) && !aff_numeric(laff)) l = apply_numeric(&l);
    else if (laff == PV_TEXT && (raff == 0 || raff == PV_BLOB)) rc = apply_text(a, &r);
    else if (raff == PV_TEXT && (laff == 0 || laff == PV_BLOB)) rc = apply_text(a, &l);
    if (rc) return rc;
    *out = cmp_result(op, pv_value_cmp(&l, &r));
    return 0;
}

/* ---- arithmetic ----------------------------------------------------------------- */

static pv_value real_result(double f) { return f != f ? pv_v_null() : pv_v_real(f); }

static pv_value arith_int(int op, int64_t a, int64_t b)
{
    int64_t r;
    switch (op) {
    case TK_PLUS:
        if (!__builtin_add_overflow(a, b, &r)) return pv_v_int(r);
        return pv_v_real((double)a + (double)b);
    case TK_MINUS:
        if (!__builtin_sub_overflow(a, b, &r)) return pv_v_int(r);
        return pv_v_real((double)a - (double)b);
    case TK_STAR:
        if (!__builtin_mul_overflow(a, b, &r)) return pv_v_int(r);
        return pv_v_real((double)a * (double)b);
    case TK_SLASH:
        if (b == 0) return pv_v_null();
        if (a == INT64_MIN && b == -1) return pv_v_real(-(double)a);
        return pv_v_int(a / b);
    default: /* % */
        if (b == 0) return pv_v_null();
        if (b == -1) return pv_v_int(0);
        return pv_v_int(a % b);
    }
}

static pv_value arith_real(int op, double a, double b)
{
    switch (op) {
    case TK_PLUS: return real_result(a + b);
    case TK_MINUS: return real_result(a - b);
    case TK_STAR: return real_result(a * b);
    case TK_SLASH: return b == 0.0 ? pv_v_null() : real_result(a / b);
    default: { /* SQLite: % works on the integer parts, the result stays REAL */
        int64_t ia = pv_real_to_int64(a), ib = pv_real_to_int64(b);
        if (ib == 0) return pv_v_null();
        return pv_v_real(ib == -1 ? 0.0 : (double)(ia % ib));
    }
    }
}

static pv_value arith(int op, const pv_value *l, const pv_value *r)
{
    pv_value a, b;
    if (l->type == PV_NULL || r->type == PV_NULL) return pv_v_null();
    a = pv_value_numeric(l);
    b = pv_value_numeric(r);
    if (a.type == PV_INTEGER && b.type == PV_INTEGER) return arith_int(op, a.u.i, b.u.i);
    return arith_real(op, a.type == PV_REAL ? a.u.f : (double)a.u.i,
                      b.type == PV_REAL ? b.u.f : (double)b.u.i);
}

static pv_value shift(int64_t a, int64_t b, int left)
{
    uint64_t u;
    if (b < 0) {
        left = !left;
        b = b < -64 ? 64 : -b;
    }
    if (b >= 64) return pv_v_int(left || a >= 0 ? 0 : -1);
    memcpy(&u, &a, sizeof u);
    if (left) {
        u <<= b;
        memcpy(&a, &u, sizeof a);
        return pv_v_int(a);
    }
    return pv_v_int(a >= 0 ? (int64_t)(u >> b) : ~(int64_t)(~u >> b));
}

static pv_value bitop(int op, const pv_value *l, const pv_value *r)
{
    int64_t a, b;
    pv_value na, nb;
    if (l->type == PV_NULL || r->type == PV_NULL) return pv_v_null();
    na = pv_value_numeric(l);
    nb = pv_value_numeric(r);
    a = pv_value_int64(&na);
    b = pv_value_int64(&nb);
    switch (op) {
    case TK_BITAND: return pv_v_int(a & b);
    case TK_BITOR: return pv_v_int(a | b);
    case TK_LSHIFT: return shift(a, b, 1);
    default: return shift(a, b, 0);
    }
}

static int concat(pv_arena *a, const pv_value *l, const pv_value *r, pv_value *out)
{
    pv_str x, y;
    char *p;
    int rc;
    if (l->type == PV_NULL || r->type == PV_NULL) {
        *out = pv_v_null();
        return 0;
    }
    if ((rc = pv_value_text(a, l, &x)) || (rc = pv_value_text(a, r, &y))) return rc;
    if (!(p = pv_arena_alloc(a, x.n + y.n + 1))) return pv_err(PV_ENOMEM, "out of memory in ||");
    if (x.n) memcpy(p, x.p, x.n);
    if (y.n) memcpy(p + x.n, y.p, y.n);
    p[x.n + y.n] = 0;
    *out = pv_v_text(p, x.n + y.n);
    return 0;
}

/* ---- node evaluators ---------------------------------------------------------- */

static pv_value truth_value(int t) { return t < 0 ? pv_v_null() : pv_v_int(t); }

static int eval_logic(pv_eval *cx, const pv_expr *e, pv_value *out)
{
    pv_value v;
    int l, r, rc, is_and = e->op == KW_AND;
    if ((rc = pv_eval_expr(cx, e->args[0], &v))) return rc;
    l = pv_value_truth(&v);
    /* short circuit: 0 AND x = 0, 1 OR x = 1 */
    if (l == (is_and ? 0 : 1)) {
        *out = pv_v_int(l);
        return 0;
    }
    if ((rc = pv_eval_expr(cx, e->args[1], &v))) return rc;
    r = pv_value_truth(&v);
    if (r == (is_and ? 0 : 1)) *out = pv_v_int(r);
    else if (l < 0 || r < 0) *out = pv_v_null();
    else *out = pv_v_int(l);
    return 0;
}

static int eval_compare(pv_eval *cx, const pv_expr *e, const pv_value *l, const pv_value *r,
                        pv_value *out)
{
    int t, rc;
    if (e->op == KW_IS) {
        const pv_expr *rhs = e->args[1];
        if (rhs->kind == PV_X_LIT && rhs->lit.type == PV_BOOLEAN) {
            /* x IS TRUE / IS FALSE test x's truth (SQLite's TK_ISTRUE) */
            t = l->type != PV_NULL && pv_value_truth(l) == rhs->lit.u.i;
        } else if (l->type == PV_NULL || r->type == PV_NULL) {
            t = l->type == r->type;
        } else if ((rc = pv_compare_aff(cx->arena, TK_EQ, *l, e->args[0]->aff, *r,
                                        e->args[1]->aff, &t))) {
            return rc;
        }
        *out = pv_v_int(e->negated ? !t : t);
        return 0;
    }
    if ((rc = pv_compare_aff(cx->arena, e->op, *l, e->args[0]->aff, *r, e->args[1]->aff, &t)))
        return rc;
    *out = truth_value(t);
    return 0;
}

static int eval_binary(pv_eval *cx, const pv_expr *e, pv_value *out)
{
    pv_value l, r;
    int rc;
    if (e->op == KW_AND || e->op == KW_OR) return eval_logic(cx, e, out);
    if ((rc = pv_eval_expr(cx, e->args[0], &l)) || (rc = pv_eval_expr(cx, e->args[1], &r)))
        return rc;
    switch (e->op) {
    case TK_PLUS:
    case TK_MINUS:
    case TK_STAR:
    case TK_SLASH:
    case TK_REM: *out = arith(e->op, &l, &r); return 0;
    case TK_CONCAT: return concat(cx->arena, &l, &r, out);
    case TK_BITAND:
    case TK_BITOR:
    case TK_LSHIFT:
    case TK_RSHIFT: *out = bitop(e->op, &l, &r); return 0;
    default: return eval_compare(cx, e, &l, &r, out);
    }
}

static int eval_unary(pv_eval *cx, const pv_expr *e, pv_value *out)
{
    pv_value v, n;
    int rc = pv_eval_expr(cx, e->args[0], &v);
    if (rc) return rc;
    if (v.type == PV_NULL || e->op == TK_PLUS) {
        *out = v; /* SQLite: +x is x, whatever its type */
        return 0;
    }
    if (e->op == KW_NOT) {
        *out = pv_v_int(!pv_value_truth(&v));
        return 0;
    }
    n = pv_value_numeric(&v);
    if (e->op == TK_BITNOT) *out = pv_v_int(~pv_value_int64(&n));
    else if (n.type == PV_REAL) *out = pv_v_real(-n.u.f);
    else if (n.u.i == INT64_MIN) *out = pv_v_real(9223372036854775808.0);
    else *out = pv_v_int(-n.u.i);
    return 0;
}

static int eval_in(pv_eval *cx, const pv_expr *e, pv_value *out)
{
    pv_value x, v;
    uint32_t i;
    int saw_null = 0, t, rc;
    if ((rc = pv_eval_expr(cx, e->args[0], &x))) return rc;
    if (e->nargs == 1) { /* x IN () is false, even for NULL */
        *out = pv_v_int(e->negated);
        return 0;
    }
    if (x.type == PV_NULL) {
        *out = pv_v_null();
        return 0;
    }
    for (i = 1; i < e->nargs; i++) {
        if ((rc = pv_eval_expr(cx, e->args[i], &v))) return rc;
        if ((rc = pv_compare_aff(cx->arena, TK_EQ, x, e->args[0]->aff, v, e->args[i]->aff, &t)))
            return rc;
        if (t == 1) {
            *out = pv_v_int(!e->negated);
            return 0;
        }
        if (t < 0) saw_null = 1;
    }
    *out = saw_null ? pv_v_null() : pv_v_int(e->negated);
    return 0;
}

static int and3(int a, int b) { return a == 0 || b == 0 ? 0 : (a < 0 || b < 0) ? -1 : 1; }

static int eval_between(pv_eval *cx, const pv_expr *e, pv_value *out)
{
    pv_value x, lo, hi;
    int a, b, t, rc;
    if ((rc = pv_eval_expr(cx, e->args[0], &x)) || (rc = pv_eval_expr(cx, e->args[1], &lo)) ||
        (rc = pv_eval_expr(cx, e->args[2], &hi)))
        return rc;
    if ((rc = pv_compare_aff(cx->arena, TK_GE, x, e->args[0]->aff, lo, e->args[1]->aff, &a)) ||
        (rc = pv_compare_aff(cx->arena, TK_LE, x, e->args[0]->aff, hi, e->args[2]->aff, &b)))
        return rc;
    t = and3(a, b);
    if (e->negated && t >= 0) t = !t;
    *out = truth_value(t);
    return 0;
}

static int eval_like(pv_eval *cx, const pv_expr *e, pv_value *out)
{
    pv_value v[3];
    pv_str s[3];
    uint32_t i;
    int rc, m;
    for (i = 0; i < e->nargs; i++) {
        if ((rc = pv_eval_expr(cx, e->args[i], &v[i]))) return rc;
        if (v[i].type == PV_NULL) {
            *out = pv_v_null();
            return 0;
        }
        if ((rc = pv_value_text(cx->arena, &v[i], &s[i]))) return rc;
    }
    if ((rc = pv_like(&s[1], &s[0], e->nargs > 2 ? &s[2] : NULL, e->nargs > 2 ? e->args[2]->off : 0, &m)))
        return rc;
    *out = pv_v_int(e->negated ? !m : m);
    return 0;
}

static int eval_case(pv_eval *cx, const pv_expr *e, pv_value *out)
{
    uint32_t i = 0, end = e->nargs - (uint32_t)e->has_else;
    pv_value base, w;
    int rc, t;
    if (e->has_base && (rc = pv_eval_expr(cx, e->args[i++], &base))) return rc;
    for (; i + 1 < end; i += 2) {
        if ((rc = pv_eval_expr(cx, e->args[i], &w))) return rc;
        if (e->has_base) {
            if ((rc = pv_compare_aff(cx->arena, TK_EQ, base, e->args[0]->aff, w, e->args[i]->aff, &t)))
                return rc;
        } else {
            t = pv_value_truth(&w);
        }
        if (t == 1) return pv_eval_expr(cx, e->args[i + 1], out);
    }
    if (e->has_else) return pv_eval_expr(cx, e->args[e->nargs - 1], out);
    *out = pv_v_null();
    return 0;
}

static int eval_cast(pv_eval *cx, const pv_expr *e, pv_value *out)
{
    pv_value v, n;
    pv_str s;
    int rc = pv_eval_expr(cx, e->args[0], &v);
    if (rc || v.type == PV_NULL) {
        *out = v;
        return rc;
    }
    switch (e->cast_type) {
    case PV_INTEGER: *out = pv_v_int(pv_value_int64(&v)); return 0;
    case PV_REAL: *out = pv_v_real(pv_value_double(&v)); return 0;
    case PV_BOOLEAN:
        n = pv_value_numeric(&v);
        *out = pv_v_bool(n.type == PV_REAL ? n.u.f != 0.0 : n.u.i != 0);
        return 0;
    case PV_TEXT:
    case PV_BLOB:
        if ((rc = pv_value_text(cx->arena, &v, &s))) return rc;
        *out = e->cast_type == PV_TEXT ? pv_v_text(s.p, s.n) : pv_v_blob(s.p, s.n);
        return 0;
    default: return pv_err(PV_ERROR, "cast to unknown type %d", e->cast_type);
    }
}

/* Scalar function: evaluate the arguments (lazily for coalesce/ifnull). */
static int eval_func(pv_eval *cx, const pv_expr *e, pv_value *out)
{
    pv_value small[4], *args = small;
    uint32_t i;
    int rc = 0;
    if (pv_fn_is_agg(e->fn)) {
        if (!cx->aggs) return pv_err(PV_ERROR, "aggregate evaluated outside a group");
        *out = cx->aggs[e->slot];
        return 0;
    }
    if (e->fn == PV_FN_COALESCE || e->fn == PV_FN_IFNULL) {
        for (i = 0; i < e->nargs; i++) {
            if ((rc = pv_eval_expr(cx, e->args[i], out))) return rc;
            if (out->type != PV_NULL) return 0;
        }
        return 0;
    }
    if (e->nargs > 4 && !(args = pv_arena_alloc(cx->arena, e->nargs * sizeof *args)))
        return pv_err(PV_ENOMEM, "out of memory calling %.*s()", (int)e->name.n, e->name.p);
    for (i = 0; i < e->nargs && !rc; i++) rc = pv_eval_expr(cx, e->args[i], &args[i]);
    return rc ? rc : pv_func_call(cx, e, args, out);
}

static int eval_col(pv_eval *cx, const pv_expr *e, pv_value *out)
{
    if (cx->group_row) {
        *out = cx->group_row[e->slot];
        return 0;
    }
    if (!cx->batch) return pv_err(PV_ERROR, "column evaluated without a row");
    *out = pv_batch_get(cx->batch, (uint32_t)e->slot, cx->row);
    return 0;
}

int pv_eval_expr(pv_eval *cx, const pv_expr *e, pv_value *out)
{
    switch (e->kind) {
    case PV_X_LIT: *out = e->lit; return 0;
    case PV_X_PARAM: *out = cx->params[e->param]; return 0;
    case PV_X_COL: return eval_col(cx, e, out);
    case PV_X_UNARY: return eval_unary(cx, e, out);
    case PV_X_BINARY: return eval_binary(cx, e, out);
    case PV_X_ISNULL: {
        int rc = pv_eval_expr(cx, e->args[0], out);
        if (!rc) *out = pv_v_int((out->type == PV_NULL) != e->negated);
        return rc;
    }
    case PV_X_IN: return eval_in(cx, e, out);
    case PV_X_BETWEEN: return eval_between(cx, e, out);
    case PV_X_LIKE: return eval_like(cx, e, out);
    case PV_X_CASE: return eval_case(cx, e, out);
    case PV_X_CAST: return eval_cast(cx, e, out);
    case PV_X_FUNC: return eval_func(cx, e, out);
    default: return pv_err(PV_ERROR, "cannot evaluate expression kind %d", e->kind);
    }
}
