/*
 * sql_parse.c: recursive-descent parser for the SQL subset of docs/SQL.md,
 * and the canonical printer used by the round-trip tests.
 *
 * Parse functions return the node (or 0 on success) and record the first
 * error in p->rc, as SQLite's Parse.rc does: once set, every function
 * returns NULL quickly and the caller reports p->rc.
 */
#include "sql_ast.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sql_lex.h"

typedef struct parser {
    pv_arena *arena;
    const char *sql;
    size_t len;
    pv_lexer lx;
    pv_token tok;     /* the current (not yet consumed) token */
    uint32_t prev_end;/* end offset of the last consumed token */
    int depth;        /* parser recursion depth */
    int nparams;      /* highest parameter number seen */
    int rc;
} parser;

/* ---- tokens and errors ---------------------------------------------------- */

static void advance(parser *p)
{
    p->prev_end = p->tok.off + p->tok.len;
    p->tok = pv_lex_next(&p->lx);
}

/* The token n places after the current one (n >= 1), without consuming. */
static pv_token peek(const parser *p, int n)
{
    pv_lexer copy = p->lx;
    pv_token t = p->tok;
    while (n-- > 0) t = pv_lex_next(&copy);
    return t;
}

static int fail(parser *p, int code)
{
    if (!p->rc) p->rc = code;
    return p->rc;
}

static void *oom(parser *p)
{
    fail(p, pv_err(PV_ENOMEM, "out of memory parsing sql"));
    return NULL;
}

/* Report a syntax error at the current token. */
static void *syntax_error(parser *p)
{
    pv_token t = p->tok;
    if (p->rc) return NULL;
    if (t.type == TK_ERROR)
        fail(p, pv_err_at(PV_ESQL, t.off, "%s: \"%.*s\"", t.err, (int)(t.len > 40 ? 40 : t.len),
                          p->sql + t.off));
    else if (t.type == TK_EOF || t.type == TK_SEMI)
        fail(p, pv_err_at(PV_ESQL, t.off, "incomplete input"));
    else
        fail(p, pv_err_at(PV_ESQL, t.off, "near \"%.*s\": syntax error", (int)(t.len > 40 ? 40 : t.len),
                          p->sql + t.off));
    return NULL;
}

static int is_kw(const parser *p, int kw) { return p->tok.type == TK_ID && p->tok.kw == kw; }

static int accept_kw(parser *p, int kw)
{
    if (!is_kw(p, kw)) return 0;
    advance(p);
    return 1;
}

static int expect_kw(parser *p, int kw)
{
    if (accept_kw(p, kw)) return 1;
    syntax_error(p);
    return 0;
}

static int accept(parser *p, int type)
{
    if (p->tok.type != type) return 0;
    advance(p);
    return 1;
}

static int expect(parser *p, int type)
{
    if (accept(p, type)) return 1;
    syntax_error(p);
    return 0;
}

/* Can the token be a name (identifier, quoted or an unreserved keyword)? */
static int tok_is_name(pv_token t)
{
    if (t.type == TK_QID) return 1;
    return t.type == TK_ID && (t.kw == KW_NONE || !pv_kw_reserved(t.kw));
}

/* Decode a quoted token's body (doubled quotes collapse) into the arena. */
static int unquote(parser *p, pv_token t, pv_str *out)
{
    const char *s = p->sql + t.off + 1;
    size_t n = t.len - 2, i, k = 0;
    char q = p->sql[t.off], *d;
    if (q == '[') q = ']';
    d = pv_arena_alloc(p->arena, n + 1);
    if (!d) return oom(p), -1;
    for (i = 0; i < n; i++) {
        d[k++] = s[i];
        if (s[i] == q && i + 1 < n && s[i + 1] == q) i++;
    }
    d[k] = 0;
    out->p = d;
    out->n = k;
    return 0;
}

/* Consume a name token. */
static int parse_name(parser *p, pv_str *out, uint32_t *off)
{
    if (p->rc) return -1;
    if (!tok_is_name(p->tok)) return syntax_error(p), -1;
    if (off) *off = p->tok.off;
    if (p->tok.type == TK_QID) {
        if (unquote(p, p->tok, out) < 0) return -1;
    } else {
        out->p = p->sql + p->tok.off;
        out->n = p->tok.len;
    }
    advance(p);
    return 0;
}

/* ---- growable arrays in the arena ---------------------------------------- */

/* Make room for one more element in *arr (n used, *cap allocated): the old
 * block stays in the arena; the waste is bounded by the final size. */
static int grow(parser *p, void **arr, uint32_t n, uint32_t *cap, size_t elem)
{
    void *na;
    uint32_t nc;
    if (n < *cap) return 0;
    if (n >= UINT32_MAX / 4) return fail(p, pv_err(PV_ELIMIT, "too many terms in sql statement"));
    nc = *cap ? *cap * 2 : 4;
    na = pv_arena_alloc(p->arena, (size_t)nc * elem);
    if (!na) return oom(p), -1;
    if (n) memcpy(na, *arr, (size_t)n * elem);
    *arr = na;
    *cap = nc;
    return 0;
}

/* ---- expression nodes ------------------------------------------------------ */

static pv_expr *new_expr(parser *p, int kind, uint32_t off)
{
    pv_expr *e = pv_arena_alloc(p->arena, sizeof *e);
    if (!e) return oom(p);
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->off = off;
    e->end = p->prev_end > off ? p->prev_end : off;
    e->height = 1;
    e->lit = pv_v_null();
    e->slot = -1;
    return e;
}

/* Attach children; checks the height limit that bounds evaluation depth. */
static pv_expr *set_args(parser *p, pv_expr *e, pv_expr **args, uint32_t n)
{
    uint32_t i, h = 0;
    if (!e) return NULL;
    for (i = 0; i < n; i++)
        if (args[i]->height > h) h = args[i]->height;
    e->args = args;
    e->nargs = n;
    e->height = h + 1;
    e->end = p->prev_end;
    if (e->height > PV_SQL_MAX_DEPTH) {
        fail(p, pv_err_at(PV_ELIMIT, e->off, "expression nested too deeply (limit %d)", PV_SQL_MAX_DEPTH));
        return NULL;
    }
    return e;
}

static pv_expr *node(parser *p, int kind, int op, uint32_t off, pv_expr *a, pv_expr *b,
                     pv_expr *c)
{
    pv_expr **args, *e;
    uint32_t n = c ? 3 : b ? 2 : 1;
    if (p->rc || !a) return NULL; /* a failed operand always set p->rc */
    args = pv_arena_alloc(p->arena, n * sizeof *args);
    e = new_expr(p, kind, off);
    if (!args || !e) return oom(p);
    args[0] = a;
    if (n >= 2) args[1] = b;
    if (n == 3) args[2] = c;
    e->op = op;
    return set_args(p, e, args, n);
}

static pv_expr *parse_expr(parser *p);
static pv_expr *parse_unary(parser *p);

static int enter(parser *p)
{
    if (++p->depth <= PV_SQL_MAX_DEPTH) return 0;
    fail(p, pv_err_at(PV_ELIMIT, p->tok.off, "expression nested too deeply (limit %d)", PV_SQL_MAX_DEPTH));
    return -1;
}

/* ---- literals --------------------------------------------------------------- */

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return c - 'A' + 10;
}

/* Decimal integer text to int64; 0 on overflow (the literal becomes REAL). */
static int dec_to_i64(const char *s, size_t n, int64_t *out)
{
    uint64_t v = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        if (v > (UINT64_MAX - 9) / 10) return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > (uint64_t)INT64_MAX) return 0;
    *out = (int64_t)v;
    return 1;
}

static int lit_number(parser *p, pv_token t, pv_value *out)
{
    const char *s = p->sql + t.off;
    char *tmp;
    int64_t i;
    if (t.type == TK_INTEGER && t.len > 2 && (s[1] == 'x' || s[1] == 'X')) {
        uint64_t v = 0;
        size_t k;
        if (t.len - 2 > 16)
            return fail(p, pv_err_at(PV_ESQL, t.off, "hex literal too big: %.*s", (int)t.len, s));
        for (k = 2; k < t.len; k++) v = (v << 4) | (uint64_t)hexval(s[k]);
        memcpy(&i, &v, sizeof i); /* two's complement, as SQLite */
        *out = pv_v_int(i);
        return 0;
    }
    if (t.type == TK_INTEGER && dec_to_i64(s, t.len, &i)) {
        *out = pv_v_int(i);
        return 0;
    }
    tmp = pv_arena_dup(p->arena, s, t.len);
    if (!tmp) return oom(p), -1;
    *out = pv_v_real(strtod(tmp, NULL)); /* overflow gives Inf, as SQLite */
    return 0;
}

static int lit_string(parser *p, pv_token t, pv_value *out)
{
    pv_str s;
    size_t bad;
    if (unquote(p, t, &s) < 0) return -1;
    if (!pv_utf8_valid(s.p, s.n, &bad))
        return fail(p, pv_err_at(PV_ESQL, t.off, "invalid utf-8 in string literal"));
    *out = pv_v_text(s.p, s.n);
    return 0;
}

static int lit_blob(parser *p, pv_token t, pv_value *out)
{
    size_t n = (t.len - 3) / 2, i;
    const char *s = p->sql + t.off + 2;
    uint8_t *d = pv_arena_alloc(p->arena, n + 1);
    if (!d) return oom(p), -1;
    for (i = 0; i < n; i++) d[i] = (uint8_t)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
    *out = pv_v_blob(d, n);
    return 0;
}

static pv_expr *parse_literal(parser *p)
{
    pv_token t = p->tok;
    pv_expr *e;
    pv_value v = pv_v_null();
    int rc = 0;
    advance(p);
    switch (t.type) {
    case TK_INTEGER:
    case TK_FLOAT: rc = lit_number(p, t, &v); break;
    case TK_STRING: rc = lit_string(p, t, &v); break;
    case TK_BLOB: rc = lit_blob(p, t, &v); break;
    default:
        if (t.kw == KW_TRUE || t.kw == KW_FALSE) v = pv_v_bool(t.kw == KW_TRUE);
        break;
    }
    if (rc) return NULL;
    e = new_expr(p, PV_X_LIT, t.off);
    if (e) e->lit = v;
    return e;
}

static pv_expr *parse_param(parser *p)
{
    pv_token t = p->tok;
    pv_expr *e;
    int64_t n = 0;
    advance(p);
    if (t.len > 1) {
        if (t.len > 6 || !dec_to_i64(p->sql + t.off + 1, t.len - 1, &n) || n < 1 || n > 32766) {
            fail(p, pv_err_at(PV_ESQL, t.off, "variable number must be between ?1 and ?32766"));
            return NULL;
        }
    } else {
        n = p->nparams + 1;
        if (n > 32766) {
            fail(p, pv_err_at(PV_ELIMIT, t.off, "too many sql variables"));
            return NULL;
        }
    }
    if (n > p->nparams) p->nparams = (int)n;
    e = new_expr(p, PV_X_PARAM, t.off);
    if (e) e->param = (int)n - 1;
    return e;
}

/* ---- expressions ------------------------------------------------------------ */

/* Comma-separated expressions up to (not including) ')'; args[0..first)
 * are already filled (the IN operand). */
static int parse_expr_list(parser *p, pv_expr ***args, uint32_t *n, uint32_t *cap)
{
    for (;;) {
        pv_expr *e = parse_expr(p);
        if (!e) return -1;
        if (grow(p, (void **)args, *n, cap, sizeof **args)) return -1;
        (*args)[(*n)++] = e;
        if (!accept(p, TK_COMMA)) return 0;
    }
}

static pv_expr *parse_case(parser *p)
{
    uint32_t off = p->tok.off, n = 0, cap = 0;
    pv_expr **args = NULL, *e, *x;
    int has_base = 0, has_else = 0;
    advance(p);
    if (!is_kw(p, KW_WHEN)) {
        if (!(x = parse_expr(p)) || grow(p, (void **)&args, n, &cap, sizeof *args)) return NULL;
        args[n++] = x;
        has_base = 1;
    }
    if (!is_kw(p, KW_WHEN)) return syntax_error(p);
    while (accept_kw(p, KW_WHEN)) {
        pv_expr *w = parse_expr(p), *t;
        if (!w || !expect_kw(p, KW_THEN) || !(t = parse_expr(p))) return NULL;
        if (grow(p, (void **)&args, n, &cap, sizeof *args)) return NULL;
        args[n++] = w;
        if (grow(p, (void **)&args, n, &cap, sizeof *args)) return NULL;
        args[n++] = t;
    }
    if (accept_kw(p, KW_ELSE)) {
        if (!(x = parse_expr(p)) || grow(p, (void **)&args, n, &cap, sizeof *args)) return NULL;
        args[n++] = x;
        has_else = 1;
    }
    if (!expect_kw(p, KW_END)) return NULL;
    e = new_expr(p, PV_X_CASE, off);
    if (!e) return NULL;
    e->has_base = has_base;
    e->has_else = has_else;
    return set_args(p, e, args, n);
}

/* A type name: one or more names, then an optional (n [, m]). */
static int parse_type(parser *p, pv_str *out, uint32_t *off)
{
    uint32_t start = p->tok.off;
    if (!tok_is_name(p->tok) || p->tok.type == TK_QID) return syntax_error(p), -1;
    while (p->tok.type == TK_ID && tok_is_name(p->tok)) advance(p);
    if (accept(p, TK_LP)) {
        int k;
        for (k = 0; k < 2; k++) {
            if (!accept(p, TK_PLUS)) accept(p, TK_MINUS);
            if (!expect(p, TK_INTEGER)) return -1;
            if (!accept(p, TK_COMMA)) break;
        }
        if (!expect(p, TK_RP)) return -1;
    }
    out->p = p->sql + start;
    out->n = p->prev_end - start;
    if (off) *off = start;
    return 0;
}

static pv_expr *parse_cast(parser *p)
{
    uint32_t off = p->tok.off, toff;
    pv_expr *x, *e;
    pv_str type;
    int t;
    advance(p);
    if (!expect(p, TK_LP) || !(x = parse_expr(p)) || !expect_kw(p, KW_AS) ||
        parse_type(p, &type, &toff) || !expect(p, TK_RP))
        return NULL;
    t = pv_type_parse(type.p, type.n);
    if (t < 0) {
        fail(p, pv_err_at(PV_ESQL, toff, "unknown type \"%.*s\"", (int)type.n, type.p));
        return NULL;
    }
    e = node(p, PV_X_CAST, 0, off, x, NULL, NULL);
    if (!e) return NULL;
    e->cast_type = t;
    e->name = type;
    return e;
}

static pv_expr *parse_call(parser *p, pv_str name, uint32_t off)
{
    pv_expr **args = NULL, *e;
    uint32_t n = 0, cap = 0;
    int distinct = 0, star = 0;
    advance(p); /* ( */
    if (accept(p, TK_STAR)) {
        star = 1;
    } else if (p->tok.type != TK_RP) {
        distinct = accept_kw(p, KW_DISTINCT);
        if (!distinct) accept_kw(p, KW_ALL);
        if (parse_expr_list(p, &args, &n, &cap)) return NULL;
    }
    if (!expect(p, TK_RP)) return NULL;
    e = new_expr(p, PV_X_FUNC, off);
    if (!e) return NULL;
    e->name = name;
    e->distinct = distinct;
    e->star = star;
    return set_args(p, e, args, n);
}

static pv_expr *parse_name_expr(parser *p)
{
    uint32_t off = p->tok.off;
    pv_token t = p->tok;
    pv_str a, b;
    pv_expr *e;
    if (parse_name(p, &a, NULL)) return NULL;
    if (t.type == TK_ID && p->tok.type == TK_LP) return parse_call(p, a, off);
    if (accept(p, TK_DOT)) {
        if (parse_name(p, &b, NULL)) return NULL;
        if (!(e = new_expr(p, PV_X_COL, off))) return NULL;
        e->table = a;
        e->name = b;
        return e;
    }
    if (!(e = new_expr(p, PV_X_COL, off))) return NULL;
    e->name = a;
    return e;
}

static pv_expr *parse_primary(parser *p)
{
    pv_token t = p->tok;
    pv_expr *e;
    if (p->rc) return NULL;
    switch (t.type) {
    case TK_INTEGER:
    case TK_FLOAT:
    case TK_STRING:
    case TK_BLOB: return parse_literal(p);
    case TK_PARAM: return parse_param(p);
    case TK_LP:
        advance(p);
        if (!(e = parse_expr(p)) || !expect(p, TK_RP)) return NULL;
        e->off = t.off; /* the span includes the parentheses, as SQLite names it */
        e->end = p->prev_end;
        return e;
    case TK_QID: return parse_name_expr(p);
    case TK_ID:
        switch (t.kw) {
        case KW_NULL:
        case KW_TRUE:
        case KW_FALSE: return parse_literal(p);
        case KW_CASE: return parse_case(p);
        case KW_CAST: return parse_cast(p);
        default: return parse_name_expr(p);
        }
    default: return syntax_error(p);
    }
}

/* -9223372036854775808 is an INTEGER, not the negation of a REAL. */
static int is_int64_min_literal(const parser *p, pv_token t)
{
    return t.type == TK_INTEGER && t.len == 19 &&
           memcmp(p->sql + t.off, "9223372036854775808", 19) == 0;
}

static pv_expr *parse_unary(parser *p)
{
    pv_token t = p->tok;
    pv_expr *e;
    int op;
    if (p->rc) return NULL;
    if (t.type != TK_MINUS && t.type != TK_PLUS && t.type != TK_BITNOT) return parse_primary(p);
    op = t.type;
    advance(p);
    if (op == TK_MINUS && is_int64_min_literal(p, p->tok)) {
        advance(p);
        if (!(e = new_expr(p, PV_X_LIT, t.off))) return NULL;
        e->lit = pv_v_int(INT64_MIN);
        return e;
    }
    if (enter(p)) return NULL;
    e = parse_unary(p);
    p->depth--;
    return node(p, PV_X_UNARY, op, t.off, e, NULL, NULL);
}

static pv_expr *parse_concat(parser *p)
{
    pv_expr *l = parse_unary(p);
    while (l && p->tok.type == TK_CONCAT) {
        advance(p);
        l = node(p, PV_X_BINARY, TK_CONCAT, l->off, l, parse_unary(p), NULL);
    }
    return l;
}

static pv_expr *parse_mul(parser *p)
{
    pv_expr *l = parse_concat(p);
    while (l && (p->tok.type == TK_STAR || p->tok.type == TK_SLASH || p->tok.type == TK_REM)) {
        int op = p->tok.type;
        advance(p);
        l = node(p, PV_X_BINARY, op, l->off, l, parse_concat(p), NULL);
    }
    return l;
}

static pv_expr *parse_add(parser *p)
{
    pv_expr *l = parse_mul(p);
    while (l && (p->tok.type == TK_PLUS || p->tok.type == TK_MINUS)) {
        int op = p->tok.type;
        advance(p);
        l = node(p, PV_X_BINARY, op, l->off, l, parse_mul(p), NULL);
    }
    return l;
}

static pv_expr *parse_bits(parser *p)
{
    pv_expr *l = parse_add(p);
    while (l && (p->tok.type == TK_BITAND || p->tok.type == TK_BITOR ||
                 p->tok.type == TK_LSHIFT || p->tok.type == TK_RSHIFT)) {
        int op = p->tok.type;
        advance(p);
        l = node(p, PV_X_BINARY, op, l->off, l, parse_add(p), NULL);
    }
    return l;
}

static pv_expr *parse_rel(parser *p)
{
    pv_expr *l = parse_bits(p);
    while (l && (p->tok.type == TK_LT || p->tok.type == TK_LE || p->tok.type == TK_GT ||
                 p->tok.type == TK_GE)) {
        int op = p->tok.type;
        advance(p);
        l = node(p, PV_X_BINARY, op, l->off, l, parse_bits(p), NULL);
    }
    return l;
}

static pv_expr *parse_in(parser *p, pv_expr *l, int negated)
{
    pv_expr **args = NULL, *e;
    uint32_t n = 0, cap = 0;
    if (!expect(p, TK_LP)) return NULL;
    if (grow(p, (void **)&args, n, &cap, sizeof *args)) return NULL;
    args[n++] = l;
    if (is_kw(p, KW_SELECT)) return syntax_error(p); /* no subqueries yet */
    if (p->tok.type != TK_RP && parse_expr_list(p, &args, &n, &cap)) return NULL;
    if (!expect(p, TK_RP)) return NULL;
    if (!(e = new_expr(p, PV_X_IN, l->off))) return NULL;
    e->negated = negated;
    return set_args(p, e, args, n);
}

static pv_expr *parse_like(parser *p, pv_expr *l, int negated)
{
    pv_expr *pat = parse_rel(p), *esc = NULL, *e;
    if (pat && accept_kw(p, KW_ESCAPE) && !(esc = parse_rel(p))) return NULL;
    e = node(p, PV_X_LIKE, KW_LIKE, l->off, l, pat, esc);
    if (e) e->negated = negated;
    return e;
}

static pv_expr *parse_between(parser *p, pv_expr *l, int negated)
{
    pv_expr *lo = parse_rel(p), *hi, *e;
    if (!lo || !expect_kw(p, KW_AND)) return NULL;
    hi = parse_rel(p);
    e = node(p, PV_X_BETWEEN, KW_BETWEEN, l->off, l, lo, hi);
    if (e && hi) e->negated = negated;
    return hi ? e : NULL;
}

static pv_expr *is_null_node(parser *p, pv_expr *l, int negated)
{
    pv_expr *e = node(p, PV_X_ISNULL, KW_ISNULL, l->off, l, NULL, NULL);
    if (e) e->negated = negated;
    return e;
}

/* One postfix/binary operator of the equality level applied to l. */
static pv_expr *parse_eq_op(parser *p, pv_expr *l, int *matched)
{
    int negated = 0;
    *matched = 1;
    if (p->tok.type == TK_EQ || p->tok.type == TK_NE) {
        int op = p->tok.type;
        advance(p);
        return node(p, PV_X_BINARY, op, l->off, l, parse_rel(p), NULL);
    }
    if (accept_kw(p, KW_ISNULL)) return is_null_node(p, l, 0);
    if (accept_kw(p, KW_NOTNULL)) return is_null_node(p, l, 1);
    if (accept_kw(p, KW_IS)) {
        pv_expr *e;
        negated = accept_kw(p, KW_NOT);
        if (accept_kw(p, KW_NULL)) return is_null_node(p, l, negated);
        e = node(p, PV_X_BINARY, KW_IS, l->off, l, parse_rel(p), NULL);
        if (e) e->negated = negated;
        return e;
    }
    if (is_kw(p, KW_NOT)) {
        pv_token nx = peek(p, 1);
        if (nx.type != TK_ID || (nx.kw != KW_NULL && nx.kw != KW_IN && nx.kw != KW_LIKE &&
                                 nx.kw != KW_BETWEEN)) {
            *matched = 0;
            return l;
        }
        advance(p);
        negated = 1;
        if (accept_kw(p, KW_NULL)) return is_null_node(p, l, 1);
    }
    if (accept_kw(p, KW_IN)) return parse_in(p, l, negated);
    if (accept_kw(p, KW_LIKE)) return parse_like(p, l, negated);
    if (accept_kw(p, KW_BETWEEN)) return parse_between(p, l, negated);
    *matched = 0;
    return l;
}

static pv_expr *parse_equality(parser *p)
{
    pv_expr *l = parse_rel(p);
    int matched = 1;
    while (l && matched) l = parse_eq_op(p, l, &matched);
    return l;
}

static pv_expr *parse_not(parser *p)
{
    uint32_t off = p->tok.off;
    pv_expr *e;
    if (!is_kw(p, KW_NOT)) return parse_equality(p);
    advance(p);
    if (enter(p)) return NULL;
    e = parse_not(p);
    p->depth--;
    return node(p, PV_X_UNARY, KW_NOT, off, e, NULL, NULL);
}

static pv_expr *parse_and(parser *p)
{
    pv_expr *l = parse_not(p);
    while (l && accept_kw(p, KW_AND)) l = node(p, PV_X_BINARY, KW_AND, l->off, l, parse_not(p), NULL);
    return l;
}

static pv_expr *parse_expr(parser *p)
{
    pv_expr *l;
    if (p->rc || enter(p)) return NULL;
    l = parse_and(p);
    while (l && accept_kw(p, KW_OR)) l = node(p, PV_X_BINARY, KW_OR, l->off, l, parse_and(p), NULL);
    p->depth--;
    return l;
}

/* ---- SELECT ------------------------------------------------------------------ */

/* FROM t AS OF 'REV' (read the table at a git revision): AS, the word OF,
 * a string. "AS of" alone stays an alias. */
static int parse_as_of(parser *p, pv_str *out, uint32_t *off)
{
    pv_token of = peek(p, 1), rev = peek(p, 2);
    if (!is_kw(p, KW_AS) || of.type != TK_ID || !pv_ident_eq(p->sql + of.off, of.len, "of", 2) ||
        rev.type != TK_STRING)
        return 0;
    advance(p); /* AS */
    advance(p); /* OF */
    advance(p); /* 'REV' */
    *off = rev.off;
    return unquote(p, rev, out);
}

static int parse_alias(parser *p, pv_str *out)
{
    if (accept_kw(p, KW_AS)) {
        if (p->tok.type == TK_STRING) {
            pv_token t = p->tok;
            advance(p);
            return unquote(p, t, out);
        }
        return parse_name(p, out, NULL);
    }
    if (p->tok.type == TK_STRING) {
        pv_token t = p->tok;
        advance(p);
        return unquote(p, t, out);
    }
    if (tok_is_name(p->tok)) return parse_name(p, out, NULL);
    return 0;
}

static int parse_result_col(parser *p, pv_result_col *rc)
{
    memset(rc, 0, sizeof *rc);
    rc->off = p->tok.off;
    if (accept(p, TK_STAR)) return 0;
    if (tok_is_name(p->tok) && peek(p, 1).type == TK_DOT && peek(p, 2).type == TK_STAR) {
        if (parse_name(p, &rc->star_table, NULL)) return -1;
        advance(p);
        advance(p);
        return 0;
    }
    if (!(rc->expr = parse_expr(p))) return -1;
    return parse_alias(p, &rc->alias);
}

static int parse_select_list(parser *p, pv_select *s)
{
    uint32_t cap = 0;
    do {
        if (grow(p, (void **)&s->cols, s->ncols, &cap, sizeof *s->cols)) return -1;
        if (parse_result_col(p, &s->cols[s->ncols])) return -1;
        s->ncols++;
    } while (accept(p, TK_COMMA));
    return 0;
}

static int parse_group(parser *p, pv_select *s)
{
    uint32_t cap = 0;
    if (!expect_kw(p, KW_BY)) return -1;
    return parse_expr_list(p, &s->group, &s->ngroup, &cap);
}

static int parse_order(parser *p, pv_select *s)
{
    uint32_t cap = 0;
    if (!expect_kw(p, KW_BY)) return -1;
    do {
        pv_expr *e = parse_expr(p);
        if (!e || grow(p, (void **)&s->order, s->norder, &cap, sizeof *s->order)) return -1;
        s->order[s->norder].expr = e;
        s->order[s->norder].desc = 0;
        if (accept_kw(p, KW_DESC)) s->order[s->norder].desc = 1;
        else accept_kw(p, KW_ASC);
        s->norder++;
    } while (accept(p, TK_COMMA));
    return 0;
}

static int parse_limit(parser *p, pv_select *s)
{
    if (!(s->limit = parse_expr(p))) return -1;
    if (accept_kw(p, KW_OFFSET)) {
        if (!(s->offset = parse_expr(p))) return -1;
    } else if (accept(p, TK_COMMA)) {
        /* LIMIT a, b means OFFSET a LIMIT b */
        s->offset = s->limit;
        if (!(s->limit = parse_expr(p))) return -1;
    }
    return 0;
}

static int parse_select(parser *p, pv_select *s)
{
    advance(p); /* SELECT */
    if (accept_kw(p, KW_DISTINCT)) s->distinct = 1;
    else accept_kw(p, KW_ALL);
    if (parse_select_list(p, s)) return -1;
    if (accept_kw(p, KW_FROM)) {
        if (parse_name(p, &s->from, &s->from_off) || parse_as_of(p, &s->as_of, &s->as_of_off) || parse_alias(p, &s->alias))
            return -1;
    }
    if (accept_kw(p, KW_WHERE) && !(s->where = parse_expr(p))) return -1;
    if (accept_kw(p, KW_GROUP) && parse_group(p, s)) return -1;
    if (accept_kw(p, KW_HAVING) && !(s->having = parse_expr(p))) return -1;
    if (accept_kw(p, KW_ORDER) && parse_order(p, s)) return -1;
    if (accept_kw(p, KW_LIMIT) && parse_limit(p, s)) return -1;
    return p->rc;
}

/* ---- name lists ------------------------------------------------------------------ */

/* '(' name [ASC|DESC] (',' ...)* ')', the '(' not yet consumed. */
static int parse_namelist(parser *p, pv_namelist *l, int allow_order)
{
    uint32_t cap = 0, cap2 = 0, cap3 = 0;
    if (!expect(p, TK_LP)) return -1;
    do {
        if (grow(p, (void **)&l->names, l->n, &cap, sizeof *l->names) ||
            grow(p, (void **)&l->offs, l->n, &cap2, sizeof *l->offs) ||
            grow(p, (void **)&l->desc, l->n, &cap3, sizeof *l->desc) ||
            parse_name(p, &l->names[l->n], &l->offs[l->n]))
            return -1;
        l->desc[l->n] = 0;
        if (allow_order) {
            if (accept_kw(p, KW_DESC)) l->desc[l->n] = 1;
            else accept_kw(p, KW_ASC);
        }
        l->n++;
    } while (accept(p, TK_COMMA));
    return expect(p, TK_RP) ? 0 : -1;
}

/* ---- CREATE TABLE -------------------------------------------------------------- */

/* DEFAULT literal | DEFAULT ('+'|'-') number | DEFAULT '(' expr ')' */
static int parse_default(parser *p, pv_coldef *c)
{
    pv_token t = p->tok;
    switch (t.type) {
    case TK_LP:
        c->dflt = parse_primary(p);
        break;
    case TK_PLUS:
    case TK_MINUS: {
        pv_token n = peek(p, 1);
        if (n.type != TK_INTEGER && n.type != TK_FLOAT) return syntax_error(p), -1;
        c->dflt = parse_unary(p);
        break;
    }
    case TK_INTEGER:
    case TK_FLOAT:
    case TK_STRING:
    case TK_BLOB: c->dflt = parse_literal(p); break;
    case TK_ID:
        if (t.kw == KW_NULL || t.kw == KW_TRUE || t.kw == KW_FALSE) {
            c->dflt = parse_literal(p);
            break;
        }
        /* fall through */
    default: return syntax_error(p), -1;
    }
    return c->dflt ? 0 : -1;
}

static int parse_coldef(parser *p, pv_coldef *c)
{
    memset(c, 0, sizeof *c);
    if (parse_name(p, &c->name, &c->name_off) || parse_type(p, &c->type, &c->type_off)) return -1;
    for (;;) {
        uint32_t off = p->tok.off;
        if (accept_kw(p, KW_NOT)) {
            if (!expect_kw(p, KW_NULL)) return -1;
            c->not_null = 1;
            c->not_off = off;
        } else if (accept_kw(p, KW_NULL)) {
            continue;
        } else if (accept_kw(p, KW_PRIMARY)) {
            if (!expect_kw(p, KW_KEY)) return -1;
            if (!accept_kw(p, KW_ASC)) accept_kw(p, KW_DESC);
            c->pk++; /* (twice is an error: exec_ddl.c set_primary_key) */
            c->primary_off = off;
        } else if (accept_kw(p, KW_UNIQUE)) {
            c->unique = 1;
            c->unique_off = off;
        } else if (accept_kw(p, KW_DEFAULT)) {
            if (c->dflt) return syntax_error(p), -1;
            if (parse_default(p, c)) return -1;
        } else {
            return p->rc;
        }
    }
}

/* PRIMARY KEY (...), its PRIMARY (consumed) written at `off`. A second one
 * is the error, at its PRIMARY. */
static int parse_pk_clause(parser *p, pv_create *c, uint32_t off)
{
    uint32_t cap = 0, cap2 = 0;
    if (c->npk) return fail(p, pv_err_at(PV_ESQL, off, "table %.*s has more than one primary key",
                                         (int)c->table.n, c->table.p));
    c->primary_off = off;
    if (!expect_kw(p, KW_KEY) || !expect(p, TK_LP)) return -1;
    do {
        if (grow(p, (void **)&c->pk, c->npk, &cap, sizeof *c->pk) ||
            grow(p, (void **)&c->pk_off, c->npk, &cap2, sizeof *c->pk_off) ||
            parse_name(p, &c->pk[c->npk], &c->pk_off[c->npk]))
            return -1;
        c->npk++;
        if (!accept_kw(p, KW_ASC)) accept_kw(p, KW_DESC);
    } while (accept(p, TK_COMMA));
    return expect(p, TK_RP) ? 0 : -1;
}

/* Table constraints: PRIMARY KEY (...) and UNIQUE (...), any order. */
static int parse_table_constraint(parser *p, pv_create *c, uint32_t *ucap)
{
    uint32_t off = p->tok.off;
    if (accept_kw(p, KW_PRIMARY)) return parse_pk_clause(p, c, off);
    if (!expect_kw(p, KW_UNIQUE)) return -1;
    if (grow(p, (void **)&c->uniques, c->nuniques, ucap, sizeof *c->uniques)) return -1;
    memset(&c->uniques[c->nuniques], 0, sizeof c->uniques[0]);
    if (parse_namelist(p, &c->uniques[c->nuniques], 0)) return -1;
    c->nuniques++;
    return 0;
}

static int parse_if_not_exists(parser *p, int *out)
{
    if (!accept_kw(p, KW_IF)) return 0;
    if (!expect_kw(p, KW_NOT) || !expect_kw(p, KW_EXISTS)) return -1;
    *out = 1;
    return 0;
}

static int parse_create(parser *p, pv_create *c)
{
    uint32_t cap = 0, ucap = 0;
    int in_constraints = 0;
    if (parse_if_not_exists(p, &c->if_not_exists)) return -1;
    if (parse_name(p, &c->table, &c->table_off) || !expect(p, TK_LP)) return -1;
    do {
        if (in_constraints || is_kw(p, KW_PRIMARY) || is_kw(p, KW_UNIQUE)) {
            if (!c->ncols) return syntax_error(p), -1;
            in_constraints = 1;
            if (parse_table_constraint(p, c, &ucap)) return -1;
            continue;
        }
        if (grow(p, (void **)&c->cols, c->ncols, &cap, sizeof *c->cols) ||
            parse_coldef(p, &c->cols[c->ncols]))
            return -1;
        c->ncols++;
    } while (accept(p, TK_COMMA));
    return expect(p, TK_RP) ? 0 : -1;
}

static int parse_create_index(parser *p, pv_create_index *x)
{
    x->unique = accept_kw(p, KW_UNIQUE);
    if (!expect_kw(p, KW_INDEX) || parse_if_not_exists(p, &x->if_not_exists) ||
        parse_name(p, &x->name, &x->name_off) || !expect_kw(p, KW_ON) ||
        parse_name(p, &x->table, &x->table_off))
        return -1;
    return parse_namelist(p, &x->cols, 1);
}

/* CREATE has been consumed. */
static int parse_create_any(parser *p, pv_sql_stmt *st)
{
    if (accept_kw(p, KW_TABLE)) {
        st->kind = PV_SQL_CREATE;
        return parse_create(p, &st->u.create);
    }
    if (is_kw(p, KW_UNIQUE) || is_kw(p, KW_INDEX)) {
        st->kind = PV_SQL_CREATE_INDEX;
        return parse_create_index(p, &st->u.index);
    }
    return syntax_error(p), -1;
}

/* ---- DROP, ALTER ---------------------------------------------------------------- */

static int parse_drop(parser *p, pv_drop *d)
{
    advance(p); /* DROP */
    if (accept_kw(p, KW_INDEX)) d->index = 1;
    else if (!expect_kw(p, KW_TABLE)) return -1;
    if (accept_kw(p, KW_IF)) {
        if (!expect_kw(p, KW_EXISTS)) return -1;
        d->if_exists = 1;
    }
    return parse_name(p, &d->name, &d->name_off);
}

static int parse_alter(parser *p, pv_alter *a)
{
    advance(p); /* ALTER */
    if (!expect_kw(p, KW_TABLE) || parse_name(p, &a->table, &a->table_off)) return -1;
    if (accept_kw(p, KW_ADD)) {
        a->action = PV_ALTER_ADD;
        accept_kw(p, KW_COLUMN);
        return parse_coldef(p, &a->col);
    }
    if (accept_kw(p, KW_RENAME)) {
        a->action = PV_ALTER_RENAME;
        accept_kw(p, KW_COLUMN);
        if (parse_name(p, &a->from, &a->from_off) || !expect_kw(p, KW_TO)) return -1;
        return parse_name(p, &a->to, &a->to_off);
    }
    if (!expect_kw(p, KW_DROP)) return -1;
    a->action = PV_ALTER_DROP;
    accept_kw(p, KW_COLUMN);
    return parse_name(p, &a->from, &a->from_off);
}

/* ---- INSERT, UPDATE, DELETE ---------------------------------------------------- */

static int parse_insert_cols(parser *p, pv_insert *ins)
{
    uint32_t cap = 0, cap2 = 0;
    do {
        if (grow(p, (void **)&ins->cols, ins->ncols, &cap, sizeof *ins->cols) ||
            grow(p, (void **)&ins->col_off, ins->ncols, &cap2, sizeof *ins->col_off) ||
            parse_name(p, &ins->cols[ins->ncols], &ins->col_off[ins->ncols]))
            return -1;
        ins->ncols++;
    } while (accept(p, TK_COMMA));
    return expect(p, TK_RP) ? 0 : -1;
}

static int parse_values_row(parser *p, pv_insert *ins, uint32_t *cap)
{
    uint32_t start = ins->nrows * ins->nvals, n = start, off = p->tok.off;
    if (!expect(p, TK_LP)) return -1;
    if (parse_expr_list(p, &ins->vals, &n, cap) || !expect(p, TK_RP)) return -1;
    if (ins->nrows == 0) {
        ins->nvals = n;
    } else if (n - start != ins->nvals) {
        return fail(p, pv_err_at(PV_ESQL, off, "all VALUES must have the same number of terms"));
    }
    ins->nrows++;
    return 0;
}

/* SET col = expr (',' ...)*, the SET already consumed. */
static int parse_sets(parser *p, pv_set **sets, uint32_t *n)
{
    uint32_t cap = 0;
    do {
        pv_set *s;
        if (grow(p, (void **)sets, *n, &cap, sizeof **sets)) return -1;
        s = &(*sets)[*n];
        memset(s, 0, sizeof *s);
        if (parse_name(p, &s->col, &s->col_off) || !expect(p, TK_EQ) || !(s->expr = parse_expr(p)))
            return -1;
        (*n)++;
    } while (accept(p, TK_COMMA));
    return 0;
}

static int parse_upsert(parser *p, pv_insert *ins)
{
    ins->upsert_off = p->tok.off;
    advance(p); /* ON */
    if (!expect_kw(p, KW_CONFLICT)) return -1;
    if (p->tok.type == TK_LP && parse_namelist(p, &ins->target, 0)) return -1;
    if (!expect_kw(p, KW_DO)) return -1;
    if (accept_kw(p, KW_NOTHING)) {
        ins->upsert = PV_UPSERT_NOTHING;
        return 0;
    }
    if (!expect_kw(p, KW_UPDATE) || !expect_kw(p, KW_SET)) return -1;
    ins->upsert = PV_UPSERT_UPDATE;
    if (parse_sets(p, &ins->sets, &ins->nsets)) return -1;
    if (accept_kw(p, KW_WHERE) && !(ins->upsert_where = parse_expr(p))) return -1;
    return 0;
}

static int parse_insert(parser *p, pv_insert *ins)
{
    uint32_t cap = 0;
    if (accept_kw(p, KW_REPLACE)) {
        ins->or_action = PV_OR_REPLACE;
    } else {
        advance(p); /* INSERT */
        if (accept_kw(p, KW_OR)) {
            if (accept_kw(p, KW_REPLACE)) ins->or_action = PV_OR_REPLACE;
            else if (expect_kw(p, KW_IGNORE)) ins->or_action = PV_OR_IGNORE;
            else return -1;
        }
    }
    if (!expect_kw(p, KW_INTO) || parse_name(p, &ins->table, &ins->table_off)) return -1;
    if (accept(p, TK_LP) && parse_insert_cols(p, ins)) return -1;
    if (!expect_kw(p, KW_VALUES)) return -1;
    ins->vals_off = p->tok.off;
    do {
        if (parse_values_row(p, ins, &cap)) return -1;
    } while (accept(p, TK_COMMA));
    if (is_kw(p, KW_ON) && parse_upsert(p, ins)) return -1;
    return 0;
}

static int parse_update(parser *p, pv_update *u)
{
    advance(p); /* UPDATE */
    if (parse_name(p, &u->table, &u->table_off) || parse_alias(p, &u->alias)) return -1;
    if (!expect_kw(p, KW_SET) || parse_sets(p, &u->sets, &u->nsets)) return -1;
    if (accept_kw(p, KW_WHERE) && !(u->where = parse_expr(p))) return -1;
    return 0;
}

static int parse_delete(parser *p, pv_delete *d)
{
    advance(p); /* DELETE */
    if (!expect_kw(p, KW_FROM) || parse_name(p, &d->table, &d->table_off) ||
        parse_alias(p, &d->alias))
        return -1;
    if (accept_kw(p, KW_WHERE) && !(d->where = parse_expr(p))) return -1;
    return 0;
}

/* ---- transactions ------------------------------------------------------------------ */

static int parse_txn(parser *p, pv_sql_stmt *st)
{
    int kw = p->tok.kw;
    advance(p);
    st->kind = kw == KW_BEGIN ? PV_SQL_BEGIN : kw == KW_ROLLBACK ? PV_SQL_ROLLBACK : PV_SQL_COMMIT;
    if (kw == KW_BEGIN && !accept_kw(p, KW_DEFERRED) && !accept_kw(p, KW_IMMEDIATE))
        accept_kw(p, KW_EXCLUSIVE);
    accept_kw(p, KW_TRANSACTION);
    return p->rc;
}

/* ---- statements ------------------------------------------------------------------ */

/* One statement, after any EXPLAIN prefix. */
static int parse_stmt(parser *p, pv_sql_stmt *st)
{
    if (p->tok.type != TK_ID) return syntax_error(p), -1;
    if (p->tok.kw == KW_EXPLAIN) {
        advance(p);
        if (accept_kw(p, KW_QUERY) && !expect_kw(p, KW_PLAN)) return -1;
        st->explain = 1;
        if (!is_kw(p, KW_SELECT) && !is_kw(p, KW_UPDATE) && !is_kw(p, KW_DELETE))
            return syntax_error(p), -1;
    }
    switch (p->tok.kw) {
    case KW_SELECT: st->kind = PV_SQL_SELECT; return parse_select(p, &st->u.select);
    case KW_CREATE: advance(p); return parse_create_any(p, st);
    case KW_INSERT:
    case KW_REPLACE: st->kind = PV_SQL_INSERT; return parse_insert(p, &st->u.insert);
    case KW_UPDATE: st->kind = PV_SQL_UPDATE; return parse_update(p, &st->u.update);
    case KW_DELETE: st->kind = PV_SQL_DELETE; return parse_delete(p, &st->u.del);
    case KW_DROP: st->kind = PV_SQL_DROP; return parse_drop(p, &st->u.drop);
    case KW_ALTER: st->kind = PV_SQL_ALTER; return parse_alter(p, &st->u.alter);
    case KW_BEGIN:
    case KW_COMMIT:
    case KW_END:
    case KW_ROLLBACK: return parse_txn(p, st);
    default: return syntax_error(p), -1;
    }
}

size_t pv_sql_stmt_end(const char *sql, size_t len)
{
    pv_lexer lx;
    pv_token t;
    pv_lex_init(&lx, sql, len);
    do {
        t = pv_lex_next(&lx);
        if (t.type == TK_SEMI) return t.off + 1;
    } while (t.type != TK_EOF);
    return len;
}

int pv_sql_parse(pv_arena *arena, const char *sql, size_t len, pv_sql_stmt **out, size_t *end)
{
    parser p;
    pv_sql_stmt *st = NULL;
    memset(&p, 0, sizeof p);
    p.arena = arena;
    p.sql = sql;
    p.len = len;
    *out = NULL;
    if (len > UINT32_MAX - 1) return pv_err(PV_ELIMIT, "sql statement too long");
    pv_lex_init(&p.lx, sql, len);
    p.tok = pv_lex_next(&p.lx);
    if (p.tok.type == TK_EOF || p.tok.type == TK_SEMI) {
        *end = p.tok.type == TK_SEMI ? p.tok.off + 1u : len;
        return 0;
    }
    if (!(st = pv_arena_alloc(arena, sizeof *st))) return pv_err(PV_ENOMEM, "out of memory parsing sql");
    memset(st, 0, sizeof *st);
    st->sql = sql;
    parse_stmt(&p, st);
    if (!p.rc && p.tok.type != TK_SEMI && p.tok.type != TK_EOF) syntax_error(&p);
    if (p.rc) return p.rc;
    *end = p.tok.type == TK_SEMI ? p.tok.off + 1u : len;
    st->nparams = (uint32_t)p.nparams;
    *out = st;
    return 0;
}

int pv_sql_parse_expr(pv_arena *arena, const char *sql, size_t len, pv_expr **out)
{
    parser p;
    pv_expr *e;
    memset(&p, 0, sizeof p);
    p.arena = arena;
    p.sql = sql;
    p.len = len;
    *out = NULL;
    if (len > UINT32_MAX - 1) return pv_err(PV_ELIMIT, "sql expression too long");
    pv_lex_init(&p.lx, sql, len);
    p.tok = pv_lex_next(&p.lx);
    e = parse_expr(&p);
    if (!p.rc && p.tok.type != TK_EOF) syntax_error(&p);
    if (p.rc) return p.rc;
    *out = e;
    return 0;
}

/* ---- printer ------------------------------------------------------------------------ */

static int print_name(pv_buf *b, pv_str s)
{
    size_t i;
    int rc = pv_buf_putc(b, '"');
    for (i = 0; !rc && i < s.n; i++) {
        if (s.p[i] == '"') rc = pv_buf_putc(b, '"');
        if (!rc) rc = pv_buf_putc(b, s.p[i]);
    }
    return rc ? rc : pv_buf_putc(b, '"');
}

static int print_lit(pv_buf *b, const pv_value *v)
{
    char tmp[32];
    size_t i;
    int rc = 0;
    switch (v->type) {
    case PV_NULL: return pv_buf_append(b, "NULL", 4);
    case PV_BOOLEAN: return pv_buf_printf(b, "%s", v->u.i ? "TRUE" : "FALSE");
    case PV_INTEGER: return pv_buf_append(b, tmp, (size_t)pv_int_format(v->u.i, tmp));
    case PV_REAL:
        if (isinf(v->u.f)) return pv_buf_printf(b, "%s", v->u.f < 0 ? "(-1e999)" : "1e999");
        return pv_buf_append(b, tmp, (size_t)pv_real_format(v->u.f, tmp));
    case PV_TEXT:
        rc = pv_buf_putc(b, '\'');
        for (i = 0; !rc && i < v->u.s.n; i++) {
            if (v->u.s.p[i] == '\'') rc = pv_buf_putc(b, '\'');
            if (!rc) rc = pv_buf_putc(b, v->u.s.p[i]);
        }
        return rc ? rc : pv_buf_putc(b, '\'');
    default:
        rc = pv_buf_append(b, "X'", 2);
        for (i = 0; !rc && i < v->u.s.n; i++)
            rc = pv_buf_printf(b, "%02X", (unsigned char)v->u.s.p[i]);
        return rc ? rc : pv_buf_putc(b, '\'');
    }
}

static const char *op_text(int op, int negated)
{
    switch (op) {
    case KW_OR: return "OR";
    case KW_AND: return "AND";
    case KW_IS: return negated ? "IS NOT" : "IS";
    case TK_EQ: return "=";
    case TK_NE: return "<>";
    case TK_LT: return "<";
    case TK_LE: return "<=";
    case TK_GT: return ">";
    case TK_GE: return ">=";
    case TK_PLUS: return "+";
    case TK_MINUS: return "-";
    case TK_STAR: return "*";
    case TK_SLASH: return "/";
    case TK_REM: return "%";
    case TK_CONCAT: return "||";
    case TK_BITAND: return "&";
    case TK_BITOR: return "|";
    case TK_LSHIFT: return "<<";
    case TK_RSHIFT: return ">>";
    case TK_BITNOT: return "~";
    case KW_NOT: return "NOT ";
    default: return "?";
    }
}

static int print_list(pv_buf *b, pv_expr *const *a, uint32_t n)
{
    uint32_t i;
    int rc = 0;
    for (i = 0; !rc && i < n; i++) {
        if (i) rc = pv_buf_append(b, ", ", 2);
        if (!rc) rc = pv_sql_print_expr(b, a[i]);
    }
    return rc;
}

static int print_case(pv_buf *b, const pv_expr *e)
{
    uint32_t i = 0, nw = e->nargs - (uint32_t)e->has_base - (uint32_t)e->has_else;
    int rc = pv_buf_append(b, "CASE", 4);
    if (!rc && e->has_base) {
        rc = pv_buf_putc(b, ' ');
        if (!rc) rc = pv_sql_print_expr(b, e->args[i++]);
    }
    for (; !rc && nw >= 2; nw -= 2, i += 2) {
        rc = pv_buf_append(b, " WHEN ", 6);
        if (!rc) rc = pv_sql_print_expr(b, e->args[i]);
        if (!rc) rc = pv_buf_append(b, " THEN ", 6);
        if (!rc) rc = pv_sql_print_expr(b, e->args[i + 1]);
    }
    if (!rc && e->has_else) {
        rc = pv_buf_append(b, " ELSE ", 6);
        if (!rc) rc = pv_sql_print_expr(b, e->args[i]);
    }
    return rc ? rc : pv_buf_append(b, " END", 4);
}

static int print_func(pv_buf *b, const pv_expr *e)
{
    int rc = pv_buf_printf(b, "%.*s(", (int)e->name.n, e->name.p);
    if (!rc && e->star) rc = pv_buf_putc(b, '*');
    if (!rc && e->distinct) rc = pv_buf_append(b, "DISTINCT ", 9);
    if (!rc) rc = print_list(b, e->args, e->nargs);
    return rc ? rc : pv_buf_putc(b, ')');
}

static int print_col(pv_buf *b, const pv_expr *e)
{
    int rc = 0;
    if (e->table.p) {
        rc = print_name(b, e->table);
        if (!rc) rc = pv_buf_putc(b, '.');
    }
    return rc ? rc : print_name(b, e->name);
}

static int print_op_expr(pv_buf *b, const pv_expr *e)
{
    int rc = pv_buf_putc(b, '(');
    const char *no = e->negated ? "NOT " : "";
    switch (e->kind) {
    case PV_X_UNARY:
        if (!rc) rc = pv_buf_printf(b, "%s", op_text(e->op, 0));
        if (!rc) rc = pv_sql_print_expr(b, e->args[0]);
        break;
    case PV_X_BINARY:
        if (!rc) rc = pv_sql_print_expr(b, e->args[0]);
        if (!rc) rc = pv_buf_printf(b, " %s ", op_text(e->op, e->negated));
        if (!rc) rc = pv_sql_print_expr(b, e->args[1]);
        break;
    case PV_X_ISNULL:
        if (!rc) rc = pv_sql_print_expr(b, e->args[0]);
        if (!rc) rc = pv_buf_printf(b, " IS %sNULL", no);
        break;
    case PV_X_IN:
        if (!rc) rc = pv_sql_print_expr(b, e->args[0]);
        if (!rc) rc = pv_buf_printf(b, " %sIN (", no);
        if (!rc) rc = print_list(b, e->args + 1, e->nargs - 1);
        if (!rc) rc = pv_buf_putc(b, ')');
        break;
    case PV_X_BETWEEN:
        if (!rc) rc = pv_sql_print_expr(b, e->args[0]);
        if (!rc) rc = pv_buf_printf(b, " %sBETWEEN ", no);
        if (!rc) rc = pv_sql_print_expr(b, e->args[1]);
        if (!rc) rc = pv_buf_append(b, " AND ", 5);
        if (!rc) rc = pv_sql_print_expr(b, e->args[2]);
        break;
    default: /* LIKE */
        if (!rc) rc = pv_sql_print_expr(b, e->args[0]);
        if (!rc) rc = pv_buf_printf(b, " %sLIKE ", no);
        if (!rc) rc = pv_sql_print_expr(b, e->args[1]);
        if (!rc && e->nargs > 2) rc = pv_buf_append(b, " ESCAPE ", 8);
        if (!rc && e->nargs > 2) rc = pv_sql_print_expr(b, e->args[2]);
        break;
    }
    return rc ? rc : pv_buf_putc(b, ')');
}

int pv_sql_print_expr(pv_buf *b, const pv_expr *e)
{
    switch (e->kind) {
    case PV_X_LIT: return print_lit(b, &e->lit);
    case PV_X_PARAM: return pv_buf_printf(b, "?%d", e->param + 1);
    case PV_X_COL: return print_col(b, e);
    case PV_X_CASE: return print_case(b, e);
    case PV_X_FUNC: return print_func(b, e);
    case PV_X_OUTREF: return pv_buf_printf(b, "%d", e->slot + 1);
    case PV_X_CAST: {
        int rc = pv_buf_append(b, "CAST(", 5);
        if (!rc) rc = pv_sql_print_expr(b, e->args[0]);
        if (!rc) rc = pv_buf_printf(b, " AS %.*s)", (int)e->name.n, e->name.p);
        return rc;
    }
    default: return print_op_expr(b, e);
    }
}

static int print_select(pv_buf *b, const pv_select *s)
{
    uint32_t i;
    int rc = pv_buf_printf(b, "SELECT %s", s->distinct ? "DISTINCT " : "");
    for (i = 0; !rc && i < s->ncols; i++) {
        const pv_result_col *c = &s->cols[i];
        if (i) rc = pv_buf_append(b, ", ", 2);
        if (rc) break;
        if (!c->expr) {
            if (c->star_table.p) rc = print_name(b, c->star_table);
            if (!rc) rc = pv_buf_append(b, c->star_table.p ? ".*" : "*", c->star_table.p ? 2 : 1);
            continue;
        }
        rc = pv_sql_print_expr(b, c->expr);
        if (!rc && c->alias.p) rc = pv_buf_append(b, " AS ", 4);
        if (!rc && c->alias.p) rc = print_name(b, c->alias);
    }
    if (!rc && s->from.p) {
        rc = pv_buf_append(b, " FROM ", 6);
        if (!rc) rc = print_name(b, s->from);
        if (!rc && s->as_of.p) {
            pv_value rev = pv_v_text(s->as_of.p, s->as_of.n);
            rc = pv_buf_append(b, " AS OF ", 7);
            if (!rc) rc = print_lit(b, &rev);
        }
        if (!rc && s->alias.p) rc = pv_buf_append(b, " AS ", 4);
        if (!rc && s->alias.p) rc = print_name(b, s->alias);
    }
    if (!rc && s->where) rc = pv_buf_append(b, " WHERE ", 7);
    if (!rc && s->where) rc = pv_sql_print_expr(b, s->where);
    if (!rc && s->ngroup) rc = pv_buf_append(b, " GROUP BY ", 10);
    if (!rc && s->ngroup) rc = print_list(b, s->group, s->ngroup);
    if (!rc && s->having) rc = pv_buf_append(b, " HAVING ", 8);
    if (!rc && s->having) rc = pv_sql_print_expr(b, s->having);
    for (i = 0; !rc && i < s->norder; i++) {
        rc = pv_buf_append(b, i ? ", " : " ORDER BY ", i ? 2 : 10);
        if (!rc) rc = pv_sql_print_expr(b, s->order[i].expr);
        if (!rc && s->order[i].desc) rc = pv_buf_append(b, " DESC", 5);
    }
    if (!rc && s->limit) rc = pv_buf_append(b, " LIMIT ", 7);
    if (!rc && s->limit) rc = pv_sql_print_expr(b, s->limit);
    if (!rc && s->offset) rc = pv_buf_append(b, " OFFSET ", 8);
    if (!rc && s->offset) rc = pv_sql_print_expr(b, s->offset);
    return rc;
}

static int print_namelist(pv_buf *b, const pv_namelist *l)
{
    uint32_t i;
    int rc = pv_buf_putc(b, '(');
    for (i = 0; !rc && i < l->n; i++) {
        if (i) rc = pv_buf_append(b, ", ", 2);
        if (!rc) rc = print_name(b, l->names[i]);
        if (!rc && l->desc && l->desc[i]) rc = pv_buf_append(b, " DESC", 5);
    }
    return rc ? rc : pv_buf_putc(b, ')');
}

static int print_coldef(pv_buf *b, const pv_coldef *d)
{
    int rc = print_name(b, d->name);
    if (!rc) rc = pv_buf_printf(b, " %.*s%s%s%s", (int)d->type.n, d->type.p,
                                d->not_null ? " NOT NULL" : "", d->pk ? " PRIMARY KEY" : "",
                                d->unique ? " UNIQUE" : "");
    if (!rc && d->dflt) {
        int lit = d->dflt->kind == PV_X_LIT;
        rc = pv_buf_append(b, lit ? " DEFAULT " : " DEFAULT (", lit ? 9 : 10);
        if (!rc) rc = pv_sql_print_expr(b, d->dflt);
        if (!rc && !lit) rc = pv_buf_putc(b, ')');
    }
    return rc;
}

static int print_create(pv_buf *b, const pv_create *c)
{
    uint32_t i;
    int rc = pv_buf_printf(b, "CREATE TABLE %s", c->if_not_exists ? "IF NOT EXISTS " : "");
    if (!rc) rc = print_name(b, c->table);
    if (!rc) rc = pv_buf_append(b, " (", 2);
    for (i = 0; !rc && i < c->ncols; i++) {
        if (i) rc = pv_buf_append(b, ", ", 2);
        if (!rc) rc = print_coldef(b, &c->cols[i]);
    }
    for (i = 0; !rc && i < c->npk; i++) {
        rc = pv_buf_append(b, i ? ", " : ", PRIMARY KEY (", i ? 2 : 15);
        if (!rc) rc = print_name(b, c->pk[i]);
        if (!rc && i + 1 == c->npk) rc = pv_buf_putc(b, ')');
    }
    for (i = 0; !rc && i < c->nuniques; i++) {
        rc = pv_buf_append(b, ", UNIQUE ", 9);
        if (!rc) rc = print_namelist(b, &c->uniques[i]);
    }
    return rc ? rc : pv_buf_putc(b, ')');
}

static int print_sets(pv_buf *b, const pv_set *sets, uint32_t n)
{
    uint32_t i;
    int rc = 0;
    for (i = 0; !rc && i < n; i++) {
        if (i) rc = pv_buf_append(b, ", ", 2);
        if (!rc) rc = print_name(b, sets[i].col);
        if (!rc) rc = pv_buf_append(b, " = ", 3);
        if (!rc) rc = pv_sql_print_expr(b, sets[i].expr);
    }
    return rc;
}

static int print_where(pv_buf *b, const pv_expr *w)
{
    int rc;
    if (!w) return 0;
    rc = pv_buf_append(b, " WHERE ", 7);
    return rc ? rc : pv_sql_print_expr(b, w);
}

static int print_insert(pv_buf *b, const pv_insert *ins)
{
    static const char *const verb[] = {"INSERT", "INSERT OR REPLACE", "INSERT OR IGNORE"};
    uint32_t i;
    int rc = pv_buf_printf(b, "%s INTO ", verb[ins->or_action]);
    if (!rc) rc = print_name(b, ins->table);
    for (i = 0; !rc && i < ins->ncols; i++) {
        rc = pv_buf_append(b, i ? ", " : " (", 2);
        if (!rc) rc = print_name(b, ins->cols[i]);
        if (!rc && i + 1 == ins->ncols) rc = pv_buf_putc(b, ')');
    }
    if (!rc) rc = pv_buf_append(b, " VALUES ", 8);
    for (i = 0; !rc && i < ins->nrows; i++) {
        rc = pv_buf_append(b, i ? ", (" : "(", i ? 3 : 1);
        if (!rc) rc = print_list(b, ins->vals + (size_t)i * ins->nvals, ins->nvals);
        if (!rc) rc = pv_buf_putc(b, ')');
    }
    if (!rc && ins->upsert) {
        rc = pv_buf_append(b, " ON CONFLICT", 12);
        if (!rc && ins->target.n) rc = pv_buf_putc(b, ' ');
        if (!rc && ins->target.n) rc = print_namelist(b, &ins->target);
        if (!rc && ins->upsert == PV_UPSERT_NOTHING) rc = pv_buf_append(b, " DO NOTHING", 11);
        if (!rc && ins->upsert == PV_UPSERT_UPDATE) {
            rc = pv_buf_append(b, " DO UPDATE SET ", 15);
            if (!rc) rc = print_sets(b, ins->sets, ins->nsets);
            if (!rc) rc = print_where(b, ins->upsert_where);
        }
    }
    return rc;
}

static int print_table_alias(pv_buf *b, pv_str table, pv_str alias)
{
    int rc = print_name(b, table);
    if (!rc && alias.p) rc = pv_buf_append(b, " AS ", 4);
    if (!rc && alias.p) rc = print_name(b, alias);
    return rc;
}

static int print_update(pv_buf *b, const pv_update *u)
{
    int rc = pv_buf_append(b, "UPDATE ", 7);
    if (!rc) rc = print_table_alias(b, u->table, u->alias);
    if (!rc) rc = pv_buf_append(b, " SET ", 5);
    if (!rc) rc = print_sets(b, u->sets, u->nsets);
    return rc ? rc : print_where(b, u->where);
}

static int print_delete(pv_buf *b, const pv_delete *d)
{
    int rc = pv_buf_append(b, "DELETE FROM ", 12);
    if (!rc) rc = print_table_alias(b, d->table, d->alias);
    return rc ? rc : print_where(b, d->where);
}

static int print_alter(pv_buf *b, const pv_alter *a)
{
    int rc = pv_buf_append(b, "ALTER TABLE ", 12);
    if (!rc) rc = print_name(b, a->table);
    if (rc) return rc;
    switch (a->action) {
    case PV_ALTER_ADD:
        rc = pv_buf_append(b, " ADD COLUMN ", 12);
        return rc ? rc : print_coldef(b, &a->col);
    case PV_ALTER_RENAME:
        rc = pv_buf_append(b, " RENAME COLUMN ", 15);
        if (!rc) rc = print_name(b, a->from);
        if (!rc) rc = pv_buf_append(b, " TO ", 4);
        return rc ? rc : print_name(b, a->to);
    default:
        rc = pv_buf_append(b, " DROP COLUMN ", 13);
        return rc ? rc : print_name(b, a->from);
    }
}

static int print_create_index(pv_buf *b, const pv_create_index *x)
{
    int rc = pv_buf_printf(b, "CREATE %sINDEX %s", x->unique ? "UNIQUE " : "",
                           x->if_not_exists ? "IF NOT EXISTS " : "");
    if (!rc) rc = print_name(b, x->name);
    if (!rc) rc = pv_buf_append(b, " ON ", 4);
    if (!rc) rc = print_name(b, x->table);
    if (!rc) rc = pv_buf_putc(b, ' ');
    return rc ? rc : print_namelist(b, &x->cols);
}

static int print_drop(pv_buf *b, const pv_drop *d)
{
    int rc = pv_buf_printf(b, "DROP %s %s", d->index ? "INDEX" : "TABLE",
                           d->if_exists ? "IF EXISTS " : "");
    return rc ? rc : print_name(b, d->name);
}

int pv_sql_print(pv_buf *b, const pv_sql_stmt *st)
{
    int rc = st->explain ? pv_buf_append(b, "EXPLAIN ", 8) : 0;
    if (rc) return rc;
    switch (st->kind) {
    case PV_SQL_SELECT: return print_select(b, &st->u.select);
    case PV_SQL_CREATE: return print_create(b, &st->u.create);
    case PV_SQL_INSERT: return print_insert(b, &st->u.insert);
    case PV_SQL_UPDATE: return print_update(b, &st->u.update);
    case PV_SQL_DELETE: return print_delete(b, &st->u.del);
    case PV_SQL_DROP: return print_drop(b, &st->u.drop);
    case PV_SQL_ALTER: return print_alter(b, &st->u.alter);
    case PV_SQL_CREATE_INDEX: return print_create_index(b, &st->u.index);
    case PV_SQL_BEGIN: return pv_buf_append(b, "BEGIN", 5);
    case PV_SQL_COMMIT: return pv_buf_append(b, "COMMIT", 6);
    default: return pv_buf_append(b, "ROLLBACK", 8);
    }
}
