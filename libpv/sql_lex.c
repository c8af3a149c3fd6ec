/*
 * sql_lex.c: the SQL tokenizer. Tokens are slices of the text; the parser
 * decodes literals and quoted names from them.
 */
#include "sql_lex.h"

#include <string.h>

#include "util.h"

/* KW("NAME", ...): the length is a constant, so pv_kw_find compares
 * lengths before letters (it runs for every word of every statement). */
#define KW(name, kw, reserved) {name, sizeof name - 1, kw, reserved}

static const struct {
    const char *name;
    size_t len;
    int kw;
    int reserved;
} kw_table[] = {
    KW("ALL", KW_ALL, 1),         KW("AND", KW_AND, 1),
    KW("AS", KW_AS, 1),           KW("ASC", KW_ASC, 0),
    KW("BETWEEN", KW_BETWEEN, 1), KW("BY", KW_BY, 1),
    KW("CASE", KW_CASE, 1),       KW("CAST", KW_CAST, 1),
    KW("COLLATE", KW_COLLATE, 1), KW("CREATE", KW_CREATE, 1),
    KW("DESC", KW_DESC, 0),       KW("DISTINCT", KW_DISTINCT, 1),
    KW("ELSE", KW_ELSE, 1),       KW("END", KW_END, 1),
    KW("ESCAPE", KW_ESCAPE, 1),   KW("EXISTS", KW_EXISTS, 0),
    KW("FALSE", KW_FALSE, 1),     KW("FROM", KW_FROM, 1),
    KW("GROUP", KW_GROUP, 1),     KW("HAVING", KW_HAVING, 1),
    KW("IF", KW_IF, 0),           KW("IN", KW_IN, 1),
    KW("INSERT", KW_INSERT, 1),   KW("INTO", KW_INTO, 1),
    KW("IS", KW_IS, 1),           KW("ISNULL", KW_ISNULL, 1),
    KW("KEY", KW_KEY, 0),         KW("LIKE", KW_LIKE, 1),
    KW("LIMIT", KW_LIMIT, 1),     KW("NOT", KW_NOT, 1),
    KW("NOTNULL", KW_NOTNULL, 1), KW("NULL", KW_NULL, 1),
    KW("OFFSET", KW_OFFSET, 0),   KW("OR", KW_OR, 1),
    KW("ORDER", KW_ORDER, 1),     KW("PRIMARY", KW_PRIMARY, 1),
    KW("SELECT", KW_SELECT, 1),   KW("TABLE", KW_TABLE, 1),
    KW("THEN", KW_THEN, 1),       KW("TRUE", KW_TRUE, 1),
    KW("VALUES", KW_VALUES, 1),   KW("WHEN", KW_WHEN, 1),
    KW("WHERE", KW_WHERE, 1),
    /* reserved or not as in SQLite (parse.y %fallback ID) */
    KW("ADD", KW_ADD, 1),         KW("ALTER", KW_ALTER, 1),
    KW("BEGIN", KW_BEGIN, 0),     KW("COLUMN", KW_COLUMN, 0),
    KW("COMMIT", KW_COMMIT, 1),   KW("CONFLICT", KW_CONFLICT, 0),
    KW("DEFAULT", KW_DEFAULT, 1), KW("DEFERRED", KW_DEFERRED, 0),
    KW("DELETE", KW_DELETE, 1),   KW("DO", KW_DO, 0),
    KW("DROP", KW_DROP, 1),       KW("EXCLUSIVE", KW_EXCLUSIVE, 0),
    KW("EXPLAIN", KW_EXPLAIN, 0), KW("IGNORE", KW_IGNORE, 0),
    KW("IMMEDIATE", KW_IMMEDIATE, 0), KW("INDEX", KW_INDEX, 1),
    KW("NOTHING", KW_NOTHING, 1), KW("ON", KW_ON, 1),
    KW("PLAN", KW_PLAN, 0),       KW("QUERY", KW_QUERY, 0),
    KW("RENAME", KW_RENAME, 0),   KW("REPLACE", KW_REPLACE, 0),
    KW("ROLLBACK", KW_ROLLBACK, 0), KW("SET", KW_SET, 1),
    KW("TO", KW_TO, 1),           KW("TRANSACTION", KW_TRANSACTION, 1),
    KW("UNIQUE", KW_UNIQUE, 1),   KW("UPDATE", KW_UPDATE, 1),
};

int pv_kw_find(const char *s, size_t n)
{
    size_t i;
    if (n < 2 || n > 11) return KW_NONE;
    for (i = 0; i < sizeof kw_table / sizeof kw_table[0]; i++) {
        if (kw_table[i].len == n && pv_ident_eq(s, n, kw_table[i].name, n)) return kw_table[i].kw;
    }
    return KW_NONE;
}

int pv_kw_reserved(int kw)
{
    size_t i;
    for (i = 0; i < sizeof kw_table / sizeof kw_table[0]; i++)
        if (kw_table[i].kw == kw) return kw_table[i].reserved;
    return 0;
}

void pv_lex_init(pv_lexer *lx, const char *sql, size_t len)
{
    lx->sql = sql;
    lx->len = len;
    lx->pos = 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
static int is_digit(char c) { return c >= '0' && c <= '9'; }
static int is_letter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
/* Identifier characters: ASCII letters, digits, '_', '$' and every byte of
 * a multi-byte UTF-8 sequence (SQLite accepts those too). */
static int is_idchar(char c)
{
    unsigned char u = (unsigned char)c;
    return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || is_digit(c) ||
           u == '_' || u == '$' || u >= 0x80;
}

/* Skip blanks and comments. Returns 0, or 1 when a block comment is left
 * open: lx->pos is then at its opening and stays there. */
static int skip_blanks(pv_lexer *lx)
{
    const char *s = lx->sql;
    for (;;) {
        while (lx->pos < lx->len && is_space(s[lx->pos])) lx->pos++;
        if (lx->pos + 1 < lx->len && s[lx->pos] == '-' && s[lx->pos + 1] == '-') {
            while (lx->pos < lx->len && s[lx->pos] != '\n') lx->pos++;
        } else if (lx->pos + 1 < lx->len && s[lx->pos] == '/' && s[lx->pos + 1] == '*') {
            size_t q = lx->pos + 2;
            while (q < lx->len && !(s[q] == '*' && q + 1 < lx->len && s[q + 1] == '/')) q++;
            if (q >= lx->len) return 1;
            lx->pos = q + 2;
        } else {
            return 0;
        }
    }
}

/* A quoted token ending at the first unpaired `close`; doubled closers are
 * escapes (except for [..], which has none). Returns the end or 0. */
static size_t scan_quoted(const pv_lexer *lx, size_t p, char close, int doubling)
{
    for (p++; p < lx->len; p++) {
        if (lx->sql[p] != close) continue;
        if (doubling && p + 1 < lx->len && lx->sql[p + 1] == close) {
            p++;
            continue;
        }
        return p + 1;
    }
    return 0;
}

static size_t scan_number(const pv_lexer *lx, size_t p, int *is_float)
{
    const char *s = lx->sql;
    size_t n = lx->len;
    *is_float = 0;
    if (s[p] == '0' && p + 2 < n && (s[p + 1] == 'x' || s[p + 1] == 'X') && is_hex(s[p + 2])) {
        p += 2;
        while (p < n && is_hex(s[p])) p++;
        return p;
    }
    while (p < n && is_digit(s[p])) p++;
    if (p < n && s[p] == '.') {
        *is_float = 1;
        p++;
        while (p < n && is_digit(s[p])) p++;
    }
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
        size_t q = p + 1;
        if (q < n && (s[q] == '+' || s[q] == '-')) q++;
        if (q < n && is_digit(s[q])) {
            *is_float = 1;
            p = q;
            while (p < n && is_digit(s[p])) p++;
        }
    }
    return p;
}

static pv_token make(int type, size_t off, size_t end)
{
    pv_token t;
    t.type = type;
    t.kw = KW_NONE;
    t.off = (uint32_t)off;
    t.len = (uint32_t)(end - off);
    t.err = NULL;
    return t;
}

static pv_token make_err(size_t off, size_t end, const char *msg)
{
    pv_token t = make(TK_ERROR, off, end);
    t.err = msg;
    return t;
}

/* Two-character operators first, then single characters. */
static pv_token lex_punct(pv_lexer *lx, size_t p)
{
    static const struct { const char *s; int type; } ops[] = {
        {"||", TK_CONCAT}, {"==", TK_EQ}, {"!=", TK_NE}, {"<>", TK_NE},
        {"<=", TK_LE}, {">=", TK_GE}, {"<<", TK_LSHIFT}, {">>", TK_RSHIFT},
        {";", TK_SEMI}, {"(", TK_LP}, {")", TK_RP}, {",", TK_COMMA},
        {".", TK_DOT}, {"*", TK_STAR}, {"+", TK_PLUS}, {"-", TK_MINUS},
        {"/", TK_SLASH}, {"%", TK_REM}, {"=", TK_EQ}, {"<", TK_LT},
        {">", TK_GT}, {"~", TK_BITNOT}, {"&", TK_BITAND}, {"|", TK_BITOR},
    };
    size_t i;
    for (i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        size_t k = strlen(ops[i].s);
        if (p + k <= lx->len && memcmp(lx->sql + p, ops[i].s, k) == 0) {
            lx->pos = p + k;
            return make(ops[i].type, p, p + k);
        }
    }
    lx->pos = p + 1;
    return make_err(p, p + 1, "unrecognized token");
}

static pv_token lex_quoted(pv_lexer *lx, size_t p, int type, char close, int doubling)
{
    size_t end = scan_quoted(lx, p, close, doubling);
    if (!end) {
        lx->pos = lx->len;
        return make_err(p, lx->len, "unterminated literal");
    }
    lx->pos = end;
    /* Names become file names and C strings: a NUL inside one (the
     * statement's length may cover it) would cut it short, so "ev\0il"
     * would name table ev. */
    if (type == TK_QID && memchr(lx->sql + p, 0, end - p))
        return make_err(p, end, "a quoted name cannot hold a NUL byte");
    return make(type, p, end);
}

static pv_token lex_blob(pv_lexer *lx, size_t p)
{
    size_t end = scan_quoted(lx, p + 1, '\'', 0), i;
    if (!end) {
        lx->pos = lx->len;
        return make_err(p, lx->len, "unterminated literal");
    }
    lx->pos = end;
    for (i = p + 2; i < end - 1; i++)
        if (!is_hex(lx->sql[i])) return make_err(p, end, "malformed blob literal");
    if ((end - p - 3) % 2) return make_err(p, end, "malformed blob literal");
    return make(TK_BLOB, p, end);
}

static pv_token lex_param(pv_lexer *lx, size_t p)
{
    size_t q = p + 1;
    while (q < lx->len && is_digit(lx->sql[q])) q++;
    lx->pos = q;
    return make(TK_PARAM, p, q);
}

pv_token pv_lex_next(pv_lexer *lx)
{
    size_t p;
    char c;
    if (skip_blanks(lx)) {
        /* a comment left open: an error where it opens, then the end */
        p = lx->pos;
        lx->pos = lx->len;
        return make_err(p, p + 2, "unterminated comment");
    }
    p = lx->pos;
    if (p >= lx->len) return make(TK_EOF, lx->len, lx->len);
    c = lx->sql[p];
    if ((c == 'x' || c == 'X') && p + 1 < lx->len && lx->sql[p + 1] == '\'')
        return lex_blob(lx, p);
    if (is_digit(c) || (c == '.' && p + 1 < lx->len && is_digit(lx->sql[p + 1]))) {
        int fl;
        size_t end = scan_number(lx, p, &fl);
        lx->pos = end;
        if (end < lx->len && is_idchar(lx->sql[end])) {
            while (lx->pos < lx->len && is_idchar(lx->sql[lx->pos])) lx->pos++;
            return make_err(p, lx->pos, "unrecognized token");
        }
        return make(fl ? TK_FLOAT : TK_INTEGER, p, end);
    }
    if (is_idchar(c)) {
        pv_token t;
        size_t q = p;
        while (q < lx->len && is_idchar(lx->sql[q])) q++;
        lx->pos = q;
        t = make(TK_ID, p, q);
        t.kw = pv_kw_find(lx->sql + p, q - p);
        return t;
    }
    switch (c) {
    case '\'': return lex_quoted(lx, p, TK_STRING, '\'', 1);
    case '"': return lex_quoted(lx, p, TK_QID, '"', 1);
    case '`': return lex_quoted(lx, p, TK_QID, '`', 1);
    case '[': return lex_quoted(lx, p, TK_QID, ']', 0);
    case '?': return lex_param(lx, p);
    default: return lex_punct(lx, p);
    }
}

int pv_sql_put_ident(pv_buf *b, const char *name)
{
    size_t n = strlen(name), i;
    int plain = n > 0 && (is_letter(name[0]) || name[0] == '_');
    int rc;
    for (i = 0; i < n && plain; i++)
        plain = is_letter(name[i]) || is_digit(name[i]) || name[i] == '_';
    if (plain && pv_kw_find(name, n) == KW_NONE) return pv_buf_append(b, name, n);
    if ((rc = pv_buf_putc(b, '"')) < 0) return rc;
    for (i = 0; i < n; i++)
        if ((name[i] == '"' && (rc = pv_buf_putc(b, '"')) < 0) || (rc = pv_buf_putc(b, name[i])) < 0) return rc;
    return pv_buf_putc(b, '"');
}
