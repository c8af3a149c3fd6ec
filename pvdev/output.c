/*
 * output.c: the result formatters of output.h.
 */
#include "output.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct pv_out {
    FILE *f;
    pv_out_opts opts;
    int ncols;
    char **names;
    uint64_t nrows;
    int failed;         /* a write failed */
    int header_done;    /* list, csv: the header line is out */

    /* table and box: every cell's display text, kept until the end */
    pv_buf cells;       /* the bytes of every cell, one after the other */
    size_t *ends;       /* end offset of cell k in `cells` */
    size_t nends, cap;
    size_t *widths;     /* characters, per column */
    pv_buf scratch;
    pv_value *row;      /* pv_out_stmt_row's values */
};

static const char *const mode_names[] = {
    [PV_OUT_LIST] = "list", [PV_OUT_CSV] = "csv", [PV_OUT_JSON] = "json",
    [PV_OUT_NDJSON] = "ndjson", [PV_OUT_TABLE] = "table", [PV_OUT_BOX] = "box",
    [PV_OUT_LINE] = "line",
};

int pv_out_mode_parse(const char *name)
{
    for (size_t i = 0; i < sizeof mode_names / sizeof mode_names[0]; i++)
        if (strcmp(name, mode_names[i]) == 0)
            return (int)i;
    return -1;
}

const char *pv_out_mode_name(int mode)
{
    if (mode < 0 || (size_t)mode >= sizeof mode_names / sizeof mode_names[0])
        return "?";
    return mode_names[mode];
}

uint64_t pv_out_rows(const pv_out *o)
{
    return o->nrows;
}

/* ---- pieces ---------------------------------------------------------------- */

static void put(pv_out *o, const char *s, size_t n)
{
    if (n && fwrite(s, 1, n, o->f) != n)
        o->failed = 1;
}

static void puts_(pv_out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* The text of a number or boolean into buf; its length. */
static size_t number_text(const pv_value *v, char buf[32])
{
    if (v->type == PV_REAL)
        return (size_t)pv_real_format(v->u.f, buf);
    return (size_t)pv_int_format(v->u.i, buf);
}

/* Bytes sqlite3's shell quotes in CSV (shell.c, needCsvQuote). */
static int csv_needs_quote(const char *s, size_t n)
{
    if (n == 0)
        return 1;  /* "" is the empty string; an empty field is NULL */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c == '"' || c == '\'' || c == ',' || c >= 0x7f)
            return 1;
    }
    return 0;
}

static void csv_field(pv_out *o, const char *s, size_t n)
{
    if (!csv_needs_quote(s, n)) {
        put(o, s, n);
        return;
    }
    put(o, "\"", 1);
    for (;;) {
        const char *q = memchr(s, '"', n);
        if (!q) {
            put(o, s, n);
            break;
        }
        put(o, s, (size_t)(q - s) + 1);
        put(o, "\"", 1);
        n -= (size_t)(q - s) + 1;
        s = q + 1;
    }
    put(o, "\"", 1);
}

void pv_out_json_string(FILE *f, const char *s, size_t n)
{
    size_t run = 0;

    putc('"', f);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char u[8];

        if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
            continue;
        fwrite(s + run, 1, i - run, f);
        run = i + 1;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        default:
            snprintf(u, sizeof u, "\\u%04x", c);
            esc = u;
        }
        fputs(esc, f);
    }
    fwrite(s + run, 1, n - run, f);
    putc('"', f);
}

static void json_value(pv_out *o, const pv_value *v)
{
    static const char hex[] = "0123456789abcdef";
    char num[32];

    switch (v->type) {
    case PV_NULL:
        puts_(o, "null");
        break;
    case PV_BOOLEAN:
        puts_(o, v->u.i ? "true" : "false");
        break;
    case PV_REAL:
        if (isnan(v->u.f))
            puts_(o, "null");
        else if (isinf(v->u.f))
            puts_(o, v->u.f > 0 ? "1e999" : "-1e999");
        else
            put(o, num, number_text(v, num));
        break;
    case PV_TEXT:
        pv_out_json_string(o->f, v->u.s.p, v->u.s.n);
        break;
    case PV_BLOB:
        puts_(o, "{\"hex\":\"");
        for (size_t i = 0; i < v->u.s.n; i++) {
            unsigned char c = (unsigned char)v->u.s.p[i];
            putc(hex[c >> 4], o->f);
            putc(hex[c & 15], o->f);
        }
        puts_(o, "\"}");
        break;
    default:
        put(o, num, number_text(v, num));
    }
}

static void json_object(pv_out *o, const pv_value *row)
{
    put(o, "{", 1);
    for (int c = 0; c < o->ncols; c++) {
        if (c)
            put(o, ",", 1);
        pv_out_json_string(o->f, o->names[c], strlen(o->names[c]));
        put(o, ":", 1);
        json_value(o, &row[c]);
    }
    put(o, "}", 1);
}

/* A value as plain text (list, csv): NULL gives NULL. */
static const char *plain_text(const pv_value *v, char num[32], size_t *n)
{
    switch (v->type) {
    case PV_NULL:
        return NULL;
    case PV_TEXT:
    case PV_BLOB:
        *n = v->u.s.n;
        return v->u.s.p;
    default:
        *n = number_text(v, num);
        return num;
    }
}

/* ---- display text (table, box, line) ---------------------------------------- */

/* Append s[0..n) with control characters escaped; returns its width in
 * characters (UTF-8 continuation bytes do not count). */
static size_t display_append(pv_buf *b, const char *s, size_t n, int *nomem)
{
    size_t width = 0;

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        int rc;

        if (c < 0x20 || c == 0x7f) {
            char esc[8];
            switch (c) {
            case '\n': strcpy(esc, "\\n"); break;
            case '\t': strcpy(esc, "\\t"); break;
            case '\r': strcpy(esc, "\\r"); break;
            default: snprintf(esc, sizeof esc, "\\x%02x", c);
            }
            rc = pv_buf_append(b, esc, strlen(esc));
            width += strlen(esc);
        } else {
            rc = pv_buf_putc(b, (char)c);
            width += (c & 0xC0) != 0x80;
        }
        if (rc < 0)
            *nomem = 1;
    }
    return width;
}

static size_t display_value(pv_out *o, pv_buf *b, const pv_value *v, int *nomem)
{
    static const char hex[] = "0123456789abcdef";
    char num[32];
    size_t n;

    switch (v->type) {
    case PV_NULL:
        return display_append(b, o->opts.null_text, strlen(o->opts.null_text), nomem);
    case PV_TEXT:
        return display_append(b, v->u.s.p, v->u.s.n, nomem);
    case PV_BLOB:
        /* Blob bytes are rarely text: show them as X'..', as SQL writes them. */
        if (pv_buf_append(b, "X'", 2) < 0)
            *nomem = 1;
        for (size_t i = 0; i < v->u.s.n; i++) {
            unsigned char c = (unsigned char)v->u.s.p[i];
            if (pv_buf_putc(b, hex[c >> 4]) < 0 || pv_buf_putc(b, hex[c & 15]) < 0)
                *nomem = 1;
        }
        if (pv_buf_putc(b, '\'') < 0)
            *nomem = 1;
        return 3 + 2 * v->u.s.n;
    default:
        n = number_text(v, num);
        return display_append(b, num, n, nomem);
    }
}

static void pad(pv_out *o, size_t n)
{
    static const char spaces[] = "                                ";
    while (n > 0) {
        size_t k = n < sizeof spaces - 1 ? n : sizeof spaces - 1;
        put(o, spaces, k);
        n -= k;
    }
}

static size_t text_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* ---- the modes --------------------------------------------------------------- */

int pv_out_open(FILE *f, const pv_out_opts *opts, int ncols,
                const char *const *names, pv_out **out)
{
    pv_out *o;

    *out = NULL;
    if (opts->mode < PV_OUT_LIST || opts->mode > PV_OUT_LINE || ncols < 0)
        return pv_err(PV_EMISUSE, "unknown output mode %d", opts->mode);
    if (!(o = calloc(1, sizeof *o)))
        return pv_err(PV_ENOMEM, "out of memory");
    o->f = f;
    o->opts = *opts;
    if (!o->opts.separator)
        o->opts.separator = "|";
    if (!o->opts.null_text)
        o->opts.null_text = "";
    o->ncols = ncols;
    o->names = calloc((size_t)ncols + 1, sizeof *o->names);
    o->widths = calloc((size_t)ncols + 1, sizeof *o->widths);
    o->row = calloc((size_t)ncols + 1, sizeof *o->row);
    if (!o->names || !o->widths || !o->row)
        goto nomem;
    for (int c = 0; c < ncols; c++) {
        if (!(o->names[c] = strdup(names[c] ? names[c] : "")))
            goto nomem;
        o->widths[c] = text_width(o->names[c]);
    }
    *out = o;
    return 0;
nomem:
    pv_out_close(o);
    return pv_err(PV_ENOMEM, "out of memory");
}

static void header_line(pv_out *o)
{
    const char *sep = o->opts.mode == PV_OUT_CSV ? "," : o->opts.separator;

    o->header_done = 1;
    for (int c = 0; c < o->ncols; c++) {
        if (c)
            puts_(o, sep);
        if (o->opts.mode == PV_OUT_CSV)
            csv_field(o, o->names[c], strlen(o->names[c]));
        else
            puts_(o, o->names[c]);
    }
    put(o, "\n", 1);
}

int pv_out_header(pv_out *o)
{
    if ((o->opts.mode == PV_OUT_LIST || o->opts.mode == PV_OUT_CSV) && !o->header_done)
        header_line(o);
    return o->failed || ferror(o->f) ? pv_err(PV_EIO, "cannot write the result") : 0;
}

static void list_row(pv_out *o, const pv_value *row)
{
    const char *sep = o->opts.separator;
    size_t seplen = strlen(sep);

    if (o->opts.header && !o->header_done)
        header_line(o);
    for (int c = 0; c < o->ncols; c++) {
        char num[32];
        size_t n = 0;
        const char *s = plain_text(&row[c], num, &n);
        if (c)
            put(o, sep, seplen);
        if (s)
            put(o, s, n);
        else
            puts_(o, o->opts.null_text);
    }
    put(o, "\n", 1);
}

static void csv_row(pv_out *o, const pv_value *row)
{
    if (o->opts.header && !o->header_done)
        header_line(o);
    for (int c = 0; c < o->ncols; c++) {
        char num[32];
        size_t n = 0;
        const char *s = plain_text(&row[c], num, &n);
        if (c)
            put(o, ",", 1);
        if (s)
            csv_field(o, s, n);
    }
    put(o, "\n", 1);
}

static void line_row(pv_out *o, const pv_value *row)
{
    size_t w = 5;  /* sqlite3's minimum */
    int nomem = 0;

    for (int c = 0; c < o->ncols; c++)
        if (o->widths[c] > w)
            w = o->widths[c];
    if (o->nrows > 0)
        put(o, "\n", 1);
    for (int c = 0; c < o->ncols; c++) {
        pad(o, w - o->widths[c]);
        puts_(o, o->names[c]);
        put(o, " = ", 3);
        o->scratch.len = 0;
        display_value(o, &o->scratch, &row[c], &nomem);
        put(o, o->scratch.p ? o->scratch.p : "", o->scratch.len);
        put(o, "\n", 1);
    }
    if (nomem)
        o->failed = 1;
}

static int keep_row(pv_out *o, const pv_value *row)
{
    int nomem = 0;

    if (o->nends + (size_t)o->ncols > o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        size_t *e;
        while (cap < o->nends + (size_t)o->ncols)
            cap *= 2;
        if (!(e = realloc(o->ends, cap * sizeof *e)))
            return pv_err(PV_ENOMEM, "out of memory keeping %" PRIu64 " rows", o->nrows);
        o->ends = e;
        o->cap = cap;
    }
    for (int c = 0; c < o->ncols; c++) {
        size_t w = display_value(o, &o->cells, &row[c], &nomem);
        if (w > o->widths[c])
            o->widths[c] = w;
        o->ends[o->nends++] = o->cells.len;
    }
    return nomem ? pv_err(PV_ENOMEM, "out of memory keeping %" PRIu64 " rows", o->nrows) : 0;
}

int pv_out_row(pv_out *o, const pv_value *row)
{
    int rc = 0;

    switch (o->opts.mode) {
    case PV_OUT_LIST: list_row(o, row); break;
    case PV_OUT_CSV: csv_row(o, row); break;
    case PV_OUT_LINE: line_row(o, row); break;
    case PV_OUT_JSON:
        put(o, o->nrows ? ",\n" : "[", o->nrows ? 2 : 1);
        json_object(o, row);
        break;
    case PV_OUT_NDJSON:
        json_object(o, row);
        put(o, "\n", 1);
        break;
    default:
        rc = keep_row(o, row);
    }
    if (rc < 0)
        return rc;
    o->nrows++;
    if (o->failed || ferror(o->f))
        return pv_err(PV_EIO, "cannot write the result");
    return 0;
}

int pv_out_stmt_row(pv_out *o, pv_stmt *st)
{
    pv_value *row = o->row;

    for (int c = 0; c < o->ncols; c++) {
        switch (pv_column_type(st, c)) {
        case PV_INTEGER: row[c] = pv_v_int(pv_column_int64(st, c)); break;
        case PV_BOOLEAN: row[c] = pv_v_bool(pv_column_int64(st, c) != 0); break;
        case PV_REAL: row[c] = pv_v_real(pv_column_double(st, c)); break;
        case PV_TEXT:
            row[c] = pv_v_text(pv_column_text(st, c), pv_column_bytes(st, c));
            break;
        case PV_BLOB:
            row[c] = pv_v_blob(pv_column_blob(st, c), pv_column_bytes(st, c));
            break;
        default: row[c] = pv_v_null();
        }
        if ((row[c].type == PV_TEXT || row[c].type == PV_BLOB) && !row[c].u.s.p)
            row[c].u.s.p = "";
    }
    return pv_out_row(o, row);
}

/* ---- table and box ------------------------------------------------------------ */

struct frame {
    const char *h, *v;                  /* horizontal and vertical lines */
    const char *top[3], *mid[3], *bot[3]; /* left, cross, right corners */
};

static const struct frame ascii_frame = {
    "-", "|", {"+", "+", "+"}, {"+", "+", "+"}, {"+", "+", "+"}};
static const struct frame box_frame = {
    "\u2500", "\u2502", {"\u250c", "\u252c", "\u2510"},
    {"\u251c", "\u253c", "\u2524"}, {"\u2514", "\u2534", "\u2518"}};

static void rule(pv_out *o, const struct frame *fr, const char *const corner[3])
{
    for (int c = 0; c < o->ncols; c++) {
        puts_(o, c ? corner[1] : corner[0]);
        for (size_t k = 0; k < o->widths[c] + 2; k++)
            puts_(o, fr->h);
    }
    puts_(o, corner[2]);
    put(o, "\n", 1);
}

static void flush_table(pv_out *o)
{
    const struct frame *fr = o->opts.mode == PV_OUT_BOX ? &box_frame : &ascii_frame;
    size_t k = 0, start = 0;

    if (o->nrows == 0 || o->ncols == 0)
        return;
    rule(o, fr, fr->top);
    for (int c = 0; c < o->ncols; c++) {
        size_t w = text_width(o->names[c]);
        puts_(o, fr->v);
        pad(o, 1 + (o->widths[c] - w) / 2);
        puts_(o, o->names[c]);
        pad(o, 1 + (o->widths[c] - w + 1) / 2);
    }
    puts_(o, fr->v);
    put(o, "\n", 1);
    rule(o, fr, fr->mid);
    for (uint64_t r = 0; r < o->nrows; r++) {
        for (int c = 0; c < o->ncols; c++, k++) {
            const char *s = o->cells.p + start;
            size_t n = o->ends[k] - start, w = 0;
            for (size_t i = 0; i < n; i++)
                w += ((unsigned char)s[i] & 0xC0) != 0x80;
            puts_(o, fr->v);
            put(o, " ", 1);
            put(o, s, n);
            pad(o, o->widths[c] - w + 1);
            start = o->ends[k];
        }
        puts_(o, fr->v);
        put(o, "\n", 1);
    }
    rule(o, fr, fr->bot);
}

int pv_out_close(pv_out *o)
{
    int rc = 0;

    if (!o)
        return 0;
    if (o->opts.mode == PV_OUT_JSON && o->nrows > 0)
        put(o, "]\n", 2);
    if (o->opts.mode == PV_OUT_TABLE || o->opts.mode == PV_OUT_BOX)
        flush_table(o);
    if (o->failed || ferror(o->f))
        rc = pv_err(PV_EIO, "cannot write the result");
    for (int c = 0; o->names && c < o->ncols; c++)
        free(o->names[c]);
    free(o->names);
    free(o->widths);
    free(o->row);
    free(o->ends);
    pv_buf_free(&o->cells);
    pv_buf_free(&o->scratch);
    free(o);
    return rc;
}
