/*
 * csv_read.c: the streaming CSV reader of csv_read.h, over libcsv.
 *
 * libcsv is a push parser and says nothing about positions. To know them
 * we feed it in pieces: runs of ordinary bytes, and each delimiter or line
 * break byte on its own. libcsv only calls back (field ended, record ended)
 * on a delimiter or line break, so during a callback we know the exact
 * offset and line of the byte being parsed, and at the start of every run
 * we know whether a field or a record begins there. Nothing here parses
 * quotes itself: a field is quoted exactly when its first byte is '"',
 * which is libcsv's own rule once space trimming is off.
 *
 * Most records are one line without quotes: those are split here at their
 * commas without libcsv (fast_record), which would do the same with them.
 */
#include "csv_read.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pv.h"
#include "util.h"
#include "value.h"

#define READ_SIZE (64u * 1024u)
/* libcsv grows its field buffer by a fixed block; we set the block to the
 * current size before each call so a long field costs O(log n) reallocs. */
#define MIN_BLOCK 4096u
#define NAME_SHOWN 60  /* bytes of a header name quoted in messages */

/* A field of the record being read; its bytes are at `at` in r->bytes. */
struct field {
    size_t at;
    size_t n;
    int null;
    int quoted;
    uint64_t offset;
};

struct pv_csv_reader {
    char *name;                 /* for messages */
    int fd;                     /* -1 for memory input */
    int own_fd;
    unsigned char *store;       /* read buffer of fd input */
    const unsigned char *buf;   /* the bytes being parsed */
    size_t pos, len;
    uint64_t base;              /* input offset of buf[0] */
    int eof;                    /* nothing follows buf[len - 1] */
    int started;                /* BOM check done */
    int finished;               /* csv_fini called */
    struct csv_parser parser;

    /* Where we are. */
    uint64_t line;              /* line of the next byte, 1-based */
    int prev_cr;                /* last byte was CR: a LF now ends no line */
    int rec_open;               /* a record has begun and not ended */
    int at_field_start;         /* the next content byte begins a field */
    int field_quoted;
    uint64_t rec_line, rec_off, field_off;

    /* The record being built. */
    pv_buf bytes;
    struct field *flds;
    pv_csv_field *out;          /* what pv_csv_next hands out */
    size_t nflds, cap;
    size_t nseen;               /* fields seen, beyond nflds when ragged */
    size_t expected;            /* field count of the first record, or 0 */
    size_t max_fields;
    int ready;                  /* a record is complete */
    int err;                    /* sticky error code */
    int slow;                   /* fast_record off (pv_csv_set_fast) */

    char **names;               /* header names for messages, or NULL */
    size_t nnames;
};

/* RFC 4180: spaces are part of a field. libcsv trims them unless told that
 * no character is a space. */
static int never_space(unsigned char c)
{
    (void)c;
    return 0;
}

static int is_special(unsigned char c)
{
    return c == ',' || c == '\r' || c == '\n';
}

size_t pv_csv_utf8_prefix(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    /* Back off over continuation bytes to the start of a character. */
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80)
        max--;
    return max;
}

/* "column 3 (\"name\")", or "column 3" before the names are known. */
static void describe_column(const pv_csv_reader *r, size_t k, char *buf,
                            size_t size)
{
    const char *nm = k < r->nnames ? r->names[k] : NULL;

    if (nm && *nm) {
        size_t n = pv_csv_utf8_prefix(nm, strlen(nm), NAME_SHOWN);
        snprintf(buf, size, "column %zu (\"%.*s%s\")", k + 1, (int)n, nm,
                 nm[n] ? "..." : "");
    } else {
        snprintf(buf, size, "column %zu", k + 1);
    }
}

static int fail(pv_csv_reader *r, int code)
{
    r->err = code;
    return code;
}

/* ---- the record being built ---------------------------------------------- */

static int grow_fields(pv_csv_reader *r)
{
    size_t cap = r->cap ? r->cap * 2 : 16;
    struct field *f = realloc(r->flds, cap * sizeof *f);
    pv_csv_field *o;

    if (!f)
        return pv_err(PV_ENOMEM, "out of memory reading '%s'", r->name);
    r->flds = f;
    o = realloc(r->out, cap * sizeof *o);
    if (!o)
        return pv_err(PV_ENOMEM, "out of memory reading '%s'", r->name);
    r->out = o;
    r->cap = cap;
    return 0;
}

/* The input offset of byte `bad` of a field's content: a quoted field has
 * its opening quote before, and each '"' of content was written twice. */
static uint64_t content_offset(const pv_csv_reader *r, const char *s,
                               size_t bad)
{
    uint64_t off = r->field_off + bad;

    if (r->field_quoted) {
        off += 1;
        for (size_t i = 0; i < bad; i++)
            off += s[i] == '"';
    }
    return off;
}

static int check_utf8(pv_csv_reader *r, const char *s, size_t n)
{
    size_t bad = 0;
    char col[128];

    if (pv_utf8_valid(s, n, &bad))
        return 0;
    describe_column(r, r->nseen - 1, col, sizeof col);
    return pv_err(PV_EINPUT,
                  "%s:%" PRIu64 ": %s: invalid UTF-8 at byte offset %" PRIu64,
                  r->name, r->rec_line, col, content_offset(r, s, bad));
}

static int store_field(pv_csv_reader *r, const char *s, size_t n)
{
    struct field *f;
    int rc;

    if (r->nflds == r->cap && (rc = grow_fields(r)) < 0)
        return rc;
    f = &r->flds[r->nflds];
    f->at = r->bytes.len;
    f->n = s ? n : 0;
    f->null = s == NULL;
    f->quoted = r->field_quoted;
    f->offset = r->field_off;
    if (s && (rc = pv_buf_append(&r->bytes, s, n)) < 0)
        return rc;
    if (s && (rc = pv_buf_putc(&r->bytes, '\0')) < 0)
        return rc;
    r->nflds++;
    return 0;
}

/* libcsv callback: a field ended (s == NULL: empty and unquoted). */
static void on_field(void *s, size_t n, void *data)
{
    pv_csv_reader *r = data;
    int rc;

    r->at_field_start = 1;
    if (r->err)
        return;
    r->nseen++;
    if (!r->expected && r->max_fields && r->nseen > r->max_fields) {
        r->err = pv_err(PV_ELIMIT, "%s:%" PRIu64 ": more than %zu fields",
                        r->name, r->rec_line, r->max_fields);
        return;
    }
    /* A ragged record is only counted, and reported when it ends. */
    if (r->expected && r->nseen > r->expected)
        return;
    if (s && (rc = check_utf8(r, s, n)) < 0) {
        r->err = rc;
        return;
    }
    if ((rc = store_field(r, s, n)) < 0)
        r->err = rc;
}

/* libcsv callback: a record ended. */
static void on_record(int c, void *data)
{
    pv_csv_reader *r = data;

    (void)c;
    r->at_field_start = 1;
    r->rec_open = 0;
    if (r->err)
        return;
    if (!r->expected) {
        r->expected = r->nseen;
    } else if (r->nseen != r->expected) {
        r->err = pv_err(PV_EINPUT, "%s:%" PRIu64 ": expected %zu fields, got %zu",
                        r->name, r->rec_line, r->expected, r->nseen);
        return;
    }
    r->ready = 1;
}

/* ---- feeding libcsv ------------------------------------------------------ */

static int parse_error(pv_csv_reader *r, uint64_t off)
{
    char col[128];

    switch (csv_error(&r->parser)) {
    case CSV_ENOMEM:
        return pv_err(PV_ENOMEM, "%s:%" PRIu64 ": out of memory for a field",
                      r->name, r->rec_line);
    case CSV_ETOOBIG:
        return pv_err(PV_ELIMIT, "%s:%" PRIu64 ": field too large",
                      r->name, r->rec_line);
    case CSV_EPARSE:
        break;
    default:
        return pv_err(PV_ERROR, "%s: libcsv failed: %s", r->name,
                      csv_strerror(csv_error(&r->parser)));
    }
    describe_column(r, r->nseen, col, sizeof col);
    if (r->field_quoted)
        return pv_err(PV_EINPUT,
                      "%s:%" PRIu64 ": %s: unexpected character after closing "
                      "quote at byte offset %" PRIu64 " (a quote inside a "
                      "quoted field is written twice)",
                      r->name, r->rec_line, col, off);
    return pv_err(PV_EINPUT,
                  "%s:%" PRIu64 ": %s: quote character in an unquoted field at "
                  "byte offset %" PRIu64 " (quote the field and write the "
                  "quote twice)",
                  r->name, r->rec_line, col, off);
}

static int parse(pv_csv_reader *r, const unsigned char *p, size_t n,
                 uint64_t off)
{
    size_t have = csv_get_buffer_size(&r->parser);
    size_t done;

    csv_set_blk_size(&r->parser, have < MIN_BLOCK ? MIN_BLOCK : have);
    done = csv_parse(&r->parser, p, n, on_field, on_record, r);
    if (r->err)
        return r->err;
    if (done < n)
        return parse_error(r, off + done);
    return 0;
}

static void begin_record(pv_csv_reader *r, uint64_t off)
{
    if (r->rec_open)
        return;
    r->rec_open = 1;
    r->rec_line = r->line;
    r->rec_off = off;
}

static void begin_field(pv_csv_reader *r, uint64_t off, int quoted)
{
    r->at_field_start = 0;
    r->field_off = off;
    r->field_quoted = quoted;
}

/* Ordinary bytes: no delimiter, no line break, so no callback fires. */
static int feed_run(pv_csv_reader *r, const unsigned char *p, size_t n,
                    uint64_t off)
{
    begin_record(r, off);
    if (r->at_field_start)
        begin_field(r, off, p[0] == '"');
    r->prev_cr = 0;
    return parse(r, p, n, off);
}

/* One delimiter or line break byte, which may end a field or a record. */
static int feed_special(pv_csv_reader *r, unsigned char c, uint64_t off)
{
    int rc;

    if (r->expected == 1 && !r->rec_open && (c == '\r' || (c == '\n' && !r->prev_cr))) {
        /* A blank line is a record of one empty field (RFC 4180): NULL.
         * With one column that is all it can be (pvdev export writes a
         * NULL so); libcsv, which would skip it, never sees it. */
        begin_record(r, off);
        begin_field(r, off, 0);
        on_field(NULL, 0, r);
        on_record(c, r);
        rc = r->err;
    } else {
        if (c == ',') {
            begin_record(r, off);
            if (r->at_field_start)  /* an empty field */
                begin_field(r, off, 0);
        } else if (r->rec_open && r->at_field_start) {
            begin_field(r, off, 0);  /* an empty last field */
        }
        rc = parse(r, &c, 1, off);
    }
    if (c == '\n') {
        if (!r->prev_cr)
            r->line++;
        r->prev_cr = 0;
    } else if (c == '\r') {
        r->line++;
        r->prev_cr = 1;
    } else {
        r->prev_cr = 0;
    }
    return rc;
}

static int feed_piece(pv_csv_reader *r)
{
    const unsigned char *b = r->buf;
    size_t i = r->pos, j;
    uint64_t off = r->base + i;

    if (is_special(b[i])) {
        r->pos = i + 1;
        return feed_special(r, b[i], off);
    }
    for (j = i + 1; j < r->len && !is_special(b[j]); j++)
        ;
    r->pos = j;
    return feed_run(r, b + i, j - i, off);
}

/* ---- the fast path ------------------------------------------------------- */

/* A whole record on one line of the buffer, with no quote and no CR but a
 * CRLF's, is split at its commas here instead of byte by byte through
 * libcsv (about a dozen csv_parse calls a record of flights): libcsv would
 * do exactly this with such a line, and it stays in its between-records
 * state. Only a record that is fine as it stands is taken (the field count
 * of the first record, valid UTF-8: a line valid as a whole has valid
 * fields, since a comma never sits inside a character); anything else,
 * and anything needing more input, goes the slow way, which then reports
 * the error exactly as before. Returns 1 (a record is ready), 0 (not taken,
 * nothing consumed) or an error. */
static int fast_record(pv_csv_reader *r)
{
    const unsigned char *b = r->buf + r->pos;
    size_t avail = r->len - r->pos, i, n, at = 0;
    uint64_t off = r->base + r->pos;
    unsigned high = 0;
    char *dst;
    int rc;

    if (is_special(b[0]) || b[0] == '"')
        return 0;
    /* One pass copies the line, cutting it at its commas. */
    if ((rc = pv_buf_reserve(&r->bytes, 256)) < 0)
        return rc;
    dst = r->bytes.p;
    r->nflds = 0;
    for (i = 0;; i++) {
        unsigned c;
        if (i == avail)
            goto decline;  /* the line goes on in the next buffer */
        if (i + 1 >= r->bytes.cap) {
            if ((rc = pv_buf_reserve(&r->bytes, 2 * i + 2)) < 0)
                return rc;
            dst = r->bytes.p;
        }
        c = b[i];
        if (c == ',' || c == '\n' || c == '\r') {
            struct field *f;
            if (c == '\r' && (i + 1 == avail || b[i + 1] != '\n'))
                goto decline;  /* a lone CR ends a record: libcsv's to read */
            if (r->expected ? r->nflds == r->expected
                            : r->max_fields && r->nflds == r->max_fields)
                goto decline;  /* too many fields: reported the slow way */
            if (r->nflds == r->cap && (rc = grow_fields(r)) < 0)
                return rc;
            f = &r->flds[r->nflds++];
            f->at = at;
            f->n = i - at;
            f->null = i == at;
            f->quoted = 0;
            f->offset = off + at;
            dst[i] = '\0';
            at = i + 1;
            if (c != ',')
                break;
            continue;
        }
        if (c == '"')
            goto decline;
        high |= c;
        dst[i] = (char)c;
    }
    n = i;  /* the record's bytes, its line break excluded */
    i += b[i] == '\r';  /* CRLF: i is at the LF */
    if ((r->expected && r->nflds != r->expected) ||
        ((high & 0x80) && !pv_utf8_valid((const char *)b, n, NULL)))
        goto decline;
    r->bytes.len = n + 1;
    r->nseen = r->nflds;
    if (!r->expected)
        r->expected = r->nflds;
    r->rec_line = r->line++;
    r->rec_off = off;
    r->prev_cr = 0;
    r->pos += i + 1;
    r->ready = 1;
    return 1;
decline:
    r->nflds = 0;  /* the slow way starts the record again */
    return 0;
}

/* End of input: libcsv submits a last record that has no line break. */
static int finish(pv_csv_reader *r)
{
    char col[128];

    if (r->rec_open && r->at_field_start)
        begin_field(r, r->base + r->len, 0);
    r->finished = 1;
    if (csv_fini(&r->parser, on_field, on_record, r) != 0) {
        describe_column(r, r->nseen, col, sizeof col);
        return pv_err(PV_EINPUT,
                      "%s:%" PRIu64 ": unterminated quoted field: %s opens a "
                      "quote at byte offset %" PRIu64 " that never closes",
                      r->name, r->rec_line, col, r->field_off);
    }
    return r->err;
}

/* ---- input --------------------------------------------------------------- */

static ssize_t read_some(pv_csv_reader *r, unsigned char *dst, size_t n)
{
    ssize_t got;

    do {
        got = read(r->fd, dst, n);
    } while (got < 0 && errno == EINTR);
    if (got < 0)
        return pv_err_errno("cannot read '%s'", r->name);
    return got;
}

/* Replace the buffer with the next bytes of the file. */
static int refill(pv_csv_reader *r)
{
    ssize_t got;

    r->base += r->len;
    r->pos = r->len = 0;
    if (r->fd < 0) {
        r->eof = 1;
        return 0;
    }
    got = read_some(r, r->store, READ_SIZE);
    if (got < 0)
        return (int)got;
    r->len = (size_t)got;
    r->eof = got == 0;
    return 0;
}

/* Read at least 3 bytes (or all there is) and skip a UTF-8 BOM. */
static int start(pv_csv_reader *r)
{
    static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};

    r->started = 1;
    while (r->fd >= 0 && r->len < 3) {
        ssize_t got = read_some(r, r->store + r->len, READ_SIZE - r->len);
        if (got < 0)
            return (int)got;
        if (got == 0)
            break;
        r->len += (size_t)got;
    }
    if (r->len >= 3 && memcmp(r->buf, bom, 3) == 0)
        r->pos = 3;
    return 0;
}

/* ---- public -------------------------------------------------------------- */

static int reader_new(const char *name, size_t max_fields, pv_csv_reader **out)
{
    pv_csv_reader *r = calloc(1, sizeof *r);

    if (!r || !(r->name = strdup(name))) {
        free(r);
        return pv_err(PV_ENOMEM, "out of memory opening '%s'", name);
    }
    if (csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_EMPTY_IS_NULL)) {
        free(r->name);
        free(r);
        return pv_err(PV_ERROR, "csv_init failed");
    }
    csv_set_space_func(&r->parser, never_space);
    r->fd = -1;
    r->line = 1;
    r->at_field_start = 1;
    r->max_fields = max_fields;
    *out = r;
    return 0;
}

int pv_csv_open_mem(const void *data, size_t len, const char *name,
                    size_t max_fields, pv_csv_reader **out)
{
    pv_csv_reader *r = NULL;
    int rc;

    if (!out || !name || (!data && len))
        return pv_err(PV_EMISUSE, "pv_csv_open_mem: NULL argument");
    *out = NULL;
    if ((rc = reader_new(name, max_fields, &r)) < 0)
        return rc;
    r->buf = data;
    r->len = len;
    r->eof = 1;
    *out = r;
    return 0;
}

int pv_csv_open(const char *path, size_t max_fields, pv_csv_reader **out)
{
    int is_stdin = path && strcmp(path, "-") == 0;
    pv_csv_reader *r = NULL;
    int rc = 0;

    if (!out || !path)
        return pv_err(PV_EMISUSE, "pv_csv_open: NULL argument");
    *out = NULL;
    if ((rc = reader_new(is_stdin ? "<stdin>" : path, max_fields, &r)) < 0)
        return rc;
    if (!(r->store = malloc(READ_SIZE))) {
        rc = pv_err(PV_ENOMEM, "out of memory opening '%s'", path);
        goto done;
    }
    r->buf = r->store;
    if (is_stdin) {
        r->fd = STDIN_FILENO;
    } else {
        r->fd = open(path, O_RDONLY | O_CLOEXEC);
        if (r->fd < 0) {
            rc = pv_err_errno("cannot open '%s'", path);
            goto done;
        }
        r->own_fd = 1;
    }
    *out = r;
    r = NULL;
done:
    pv_csv_close(r);
    return rc;
}

/* Point the handed-out fields at the bytes, which no longer move. */
static void export_record(pv_csv_reader *r, pv_csv_record *out)
{
    for (size_t i = 0; i < r->nflds; i++) {
        const struct field *f = &r->flds[i];
        pv_csv_field *o = &r->out[i];

        o->p = f->null ? NULL : r->bytes.p + f->at;
        o->n = f->n;
        o->quoted = f->quoted;
        o->offset = f->offset;
    }
    out->fields = r->out;
    out->nfields = r->nflds;
    out->line = r->rec_line;
    out->offset = r->rec_off;
}

int pv_csv_next(pv_csv_reader *r, pv_csv_record *out)
{
    int rc;

    if (!r || !out)
        return pv_err(PV_EMISUSE, "pv_csv_next: NULL argument");
    if (r->err)
        return r->err;
    if (!r->started && (rc = start(r)) < 0)
        return fail(r, rc);
    r->ready = 0;
    r->nflds = r->nseen = 0;
    r->bytes.len = 0;
    while (!r->ready) {
        if (r->pos < r->len && !r->rec_open && !r->slow && (rc = fast_record(r)) != 0)
            ;
        else if (r->pos < r->len)
            rc = feed_piece(r);
        else if (r->finished)
            return 0;
        else if (r->eof)
            rc = finish(r);
        else
            rc = refill(r);
        if (rc < 0)
            return fail(r, rc);
    }
    export_record(r, out);
    return 1;
}

int pv_csv_set_names(pv_csv_reader *r, const pv_csv_record *header)
{
    char **names = calloc(header->nfields ? header->nfields : 1, sizeof *names);

    if (!names)
        return pv_err(PV_ENOMEM, "out of memory");
    for (size_t i = 0; i < header->nfields; i++) {
        const pv_csv_field *f = &header->fields[i];
        if (f->p && !(names[i] = strdup(f->p))) {
            while (i-- > 0)
                free(names[i]);
            free(names);
            return pv_err(PV_ENOMEM, "out of memory");
        }
    }
    for (size_t i = 0; i < r->nnames; i++)
        free(r->names[i]);
    free(r->names);
    r->names = names;
    r->nnames = header->nfields;
    return 0;
}

void pv_csv_set_fast(pv_csv_reader *r, int on)
{
    r->slow = !on;
}

const char *pv_csv_name(const pv_csv_reader *r)
{
    return r->name;
}

void pv_csv_close(pv_csv_reader *r)
{
    if (!r)
        return;
    if (r->own_fd && r->fd >= 0)
        close(r->fd);
    csv_free(&r->parser);
    for (size_t i = 0; i < r->nnames; i++)
        free(r->names[i]);
    free(r->names);
    pv_buf_free(&r->bytes);
    free(r->flds);
    free(r->out);
    free(r->store);
    free(r->name);
    free(r);
}
