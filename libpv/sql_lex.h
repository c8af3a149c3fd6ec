/*
 * sql_lex.h: the SQL tokenizer (docs/SQL.md). Tokens point into the text;
 * nothing is allocated.
 */
#ifndef PV_SQL_LEX_H
#define PV_SQL_LEX_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

enum pv_tok {
    TK_EOF = 0,
    TK_ERROR,    /* unrecognized or unterminated token; `err` says why */
    TK_ID,       /* bare identifier or keyword (see kw) */
    TK_QID,      /* quoted identifier: "x", `x`, [x] */
    TK_STRING,   /* 'text' */
    TK_INTEGER,  /* decimal digits (or 0x hex) */
    TK_FLOAT,    /* digits with '.' or exponent */
    TK_BLOB,     /* X'hex' */
    TK_PARAM,    /* ? or ?NNN */
    TK_SEMI, TK_LP, TK_RP, TK_COMMA, TK_DOT,
    TK_STAR, TK_PLUS, TK_MINUS, TK_SLASH, TK_REM, TK_CONCAT,
    TK_EQ, TK_NE, TK_LT, TK_LE, TK_GT, TK_GE,
    TK_BITNOT, TK_BITAND, TK_BITOR, TK_LSHIFT, TK_RSHIFT
};

/* Keywords, recognized case-insensitively in TK_ID tokens. Their codes do
 * not overlap the token codes, so pv_expr.op can hold either. */
enum pv_kw {
    KW_NONE = 0,
    KW_ALL = 100, KW_AND, KW_AS, KW_ASC, KW_BETWEEN, KW_BY, KW_CASE, KW_CAST,
    KW_COLLATE, KW_CREATE, KW_DESC, KW_DISTINCT, KW_ELSE, KW_END, KW_ESCAPE,
    KW_EXISTS, KW_FALSE, KW_FROM, KW_GROUP, KW_HAVING, KW_IF, KW_IN,
    KW_INSERT, KW_INTO, KW_IS, KW_ISNULL, KW_KEY, KW_LIKE, KW_LIMIT, KW_NOT,
    KW_NOTNULL, KW_NULL, KW_OFFSET, KW_OR, KW_ORDER, KW_PRIMARY, KW_SELECT,
    KW_TABLE, KW_THEN, KW_TRUE, KW_VALUES, KW_WHEN, KW_WHERE,
    /* DDL, DML and transactions */
    KW_ADD, KW_ALTER, KW_BEGIN, KW_COLUMN, KW_COMMIT, KW_CONFLICT, KW_DEFAULT,
    KW_DEFERRED, KW_DELETE, KW_DO, KW_DROP, KW_EXCLUSIVE, KW_EXPLAIN,
    KW_IGNORE, KW_IMMEDIATE, KW_INDEX, KW_NOTHING, KW_ON, KW_PLAN, KW_QUERY,
    KW_RENAME, KW_REPLACE, KW_ROLLBACK, KW_SET, KW_TO, KW_TRANSACTION,
    KW_UNIQUE, KW_UPDATE
};

typedef struct pv_token {
    int type;        /* enum pv_tok */
    int kw;          /* enum pv_kw for TK_ID, else KW_NONE */
    uint32_t off;    /* byte offset in the text */
    uint32_t len;    /* bytes */
    const char *err; /* TK_ERROR: static message */
} pv_token;

typedef struct pv_lexer {
    const char *sql;
    size_t len;
    size_t pos;
} pv_lexer;

void pv_lex_init(pv_lexer *lx, const char *sql, size_t len);

/* Skip blanks and comments, then read one token. A block comment left
 * open is a TK_ERROR token "unterminated comment" over its first two
 * bytes, and the next token is TK_EOF (SQLite takes it as blank to the
 * end of the text; PostgreSQL refuses it). */
pv_token pv_lex_next(pv_lexer *lx);

/* Is the keyword reserved (never an identifier or implicit alias)? */
int pv_kw_reserved(int kw);

/* The keyword code of s[0..n), or KW_NONE. */
int pv_kw_find(const char *s, size_t n);

/* Append `name` to b as SQL must spell it to mean that name: bare when it
 * is a plain identifier and no keyword, otherwise in double quotes with
 * '"' doubled (as SQLite's .schema). 0 or PV_ENOMEM. */
int pv_sql_put_ident(pv_buf *b, const char *name);

#endif
