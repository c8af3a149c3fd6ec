/*
 * ndjson_read.c: the NDJSON reader of ndjson_read.h. jansson parses each
 * line; this layer keeps line numbers, maps JSON values to typed values and
 * keeps members in the order written.
 */
#include "ndjson_read.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pv.h"
#include "util.h"

#ifdef PVDEV_HAVE_JANSSON
#include <jansson.h>

#define JSON_FLAGS (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL)

struct pv_ndjson_reader {
    char *name;
    FILE *f;
    int own;
    char *line;
    size_t cap;
    uint64_t lineno, offset, next_offset;
    json_t *root;               /* the current object */
    pv_arena arena;             /* decoded blobs, dumped JSON */
    pv_ndjson_member *members;
    size_t nmembers, mcap;
    char *fixed;                /* a line with its infinities as null */
    size_t fixed_cap;
    struct inf {                /* a member that is +-Inf (1e999) */
        size_t member;          /* its place in the object */
        size_t start, end;      /* its number in the line */
        int neg;
    } *infs;                    /* in the order written */
    size_t ninfs, infs_cap;
    int err;
};

int pv_ndjson_supported(void)
{
    return 1;
}

static int open_file(FILE *f, int own, const char *name, pv_ndjson_reader **out)
{
    pv_ndjson_reader *r = calloc(1, sizeof *r);

    if (!r || !(r->name = strdup(name))) {
        free(r);
        if (own)
            fclose(f);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    r->f = f;
    r->own = own;
    *out = r;
    return 0;
}

int pv_ndjson_open(const char *path, pv_ndjson_reader **out)
{
    FILE *f;

    *out = NULL;
    if (strcmp(path, "-") == 0)
        return open_file(stdin, 0, "<stdin>", out);
    if (!(f = fopen(path, "rb")))
        return pv_err_errno("cannot open '%s'", path);
    return open_file(f, 1, path, out);
}

int pv_ndjson_open_mem(const void *data, size_t len, const char *name,
                       pv_ndjson_reader **out)
{
    FILE *f;

    *out = NULL;
    if (len == 0) /* fmemopen refuses a size of 0: a reader with no file */
        return open_file(NULL, 0, name, out);
    if (!(f = fmemopen((void *)data, len, "rb")))
        return pv_err_errno("cannot read '%s' from memory", name);
    return open_file(f, 1, name, out);
}

const char *pv_ndjson_name(const pv_ndjson_reader *r)
{
    return r->name;
}

uint64_t pv_ndjson_offset(const pv_ndjson_reader *r)
{
    return r->next_offset;
}

void pv_ndjson_close(pv_ndjson_reader *r)
{
    if (!r)
        return;
    if (r->own && r->f)
        fclose(r->f);
    json_decref(r->root);
    pv_arena_free(&r->arena);
    free(r->members);
    free(r->fixed);
    free(r->infs);
    free(r->line);
    free(r->name);
    free(r);
}

static int fail(pv_ndjson_reader *r, int code)
{
    r->err = code;
    return code;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* {"hex":"00ff"} as blob bytes; 0 when `obj` is not of that form. */
static int blob_object(pv_ndjson_reader *r, json_t *obj, pv_value *out)
{
    json_t *h;
    const char *s;
    size_t n;
    char *p;

    if (json_object_size(obj) != 1 || !(h = json_object_get(obj, "hex")) ||
        !json_is_string(h))
        return 0;
    s = json_string_value(h);
    n = json_string_length(h);
    if (n % 2)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (hexval(s[i]) < 0)
            return 0;
    if (!(p = pv_arena_alloc(&r->arena, n / 2 + 1)))
        return pv_err(PV_ENOMEM, "out of memory");
    for (size_t i = 0; i < n / 2; i++)
        p[i] = (char)(hexval(s[2 * i]) << 4 | hexval(s[2 * i + 1]));
    p[n / 2] = '\0';
    *out = pv_v_blob(p, n / 2);
    return 1;
}

/* Nested data is kept as its compact JSON text. */
static int json_text(pv_ndjson_reader *r, json_t *j, pv_value *out)
{
    char *dump = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(17));
    char *p;
    size_t n;

    if (!dump)
        return pv_err(PV_ENOMEM, "out of memory");
    n = strlen(dump);
    p = pv_arena_dup(&r->arena, dump, n);
    free(dump);
    if (!p)
        return pv_err(PV_ENOMEM, "out of memory");
    *out = pv_v_text(p, n);
    return 0;
}

static int to_value(pv_ndjson_reader *r, json_t *j, pv_value *out)
{
    int rc;

    switch (json_typeof(j)) {
    case JSON_NULL: *out = pv_v_null(); return 0;
    case JSON_TRUE: *out = pv_v_bool(1); return 0;
    case JSON_FALSE: *out = pv_v_bool(0); return 0;
    case JSON_INTEGER: *out = pv_v_int((int64_t)json_integer_value(j)); return 0;
    case JSON_REAL: *out = pv_v_real(json_real_value(j)); return 0;
    case JSON_STRING:
        *out = pv_v_text(json_string_value(j), json_string_length(j));
        return 0;
    case JSON_OBJECT:
        if ((rc = blob_object(r, j, out)) != 0)
            return rc < 0 ? rc : 0;
        return json_text(r, j, out);
    default:
        return json_text(r, j, out);
    }
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n')
            return 0;
    return 1;
}

static const char *kind_name(json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER:
    case JSON_REAL: return "a number";
    case JSON_NULL: return "null";
    default: return "a boolean";
    }
}

/* ---- what jansson cannot read: infinity --------------------------------
 * JSON has no infinity; pvdev export (like sqlite3) writes one as 1e999,
 * a number beyond the range of a double, which strtod reads as infinity
 * but jansson refuses ("real number overflow"). When it does, the line is
 * read again with each member whose value is such a number written as
 * null padded with blanks (so every byte keeps its column), and those
 * members get +-Inf. In nested arrays and objects (kept as JSON text,
 * which jansson would have to write) it stays an error. */

/* One token of a JSON text, found without checking it (jansson does):
 * a string (with its quotes), one of {}[]:, or a run of other bytes up to
 * a blank, a quote or one of those (a number, true, a bad token). */
struct token {
    size_t start, end;
};

static int json_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int structural(char c)
{
    return c == '{' || c == '}' || c == '[' || c == ']' || c == ':' || c == ',';
}

/* The token at or after *pos in s[0..n): 1 and *t, *pos past it; or 0. */
static int next_token(const char *s, size_t n, size_t *pos, struct token *t)
{
    size_t i = *pos;

    while (i < n && json_blank(s[i]))
        i++;
    if (i >= n)
        return 0;
    t->start = i;
    if (s[i] == '"') {
        for (i++; i < n && s[i] != '"'; i++)
            if (s[i] == '\\' && i + 1 < n)
                i++;
        i = i < n ? i + 1 : n;
    } else if (structural(s[i])) {
        i++;
    } else {
        while (i < n && !json_blank(s[i]) && !structural(s[i]) && s[i] != '"')
            i++;
    }
    t->end = *pos = i;
    return 1;
}

static int digits(const char *s, size_t n, size_t *i)
{
    size_t at = *i;

    while (*i < n && s[*i] >= '0' && s[*i] <= '9')
        (*i)++;
    return *i > at;
}

/* Is s[0..n) a JSON number with a fraction or an exponent (a real, not an
 * integer: an integer beyond int64 stays an error) that is beyond the range
 * of a double? *neg: its sign. */
static int real_overflows(const char *s, size_t n, int *neg)
{
    size_t i = 0;
    int real = 0;
    char *end;
    double f;

    *neg = n > 0 && s[0] == '-';
    i = (size_t)*neg;
    if (i < n && s[i] == '0')
        i++;
    else if (i >= n || s[i] < '1' || s[i] > '9' || !digits(s, n, &i))
        return 0;
    if (i < n && s[i] == '.') {
        i++;
        if (!digits(s, n, &i))
            return 0;
        real = 1;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (!digits(s, n, &i))
            return 0;
        real = 1;
    }
    if (i != n || !real)
        return 0;
    /* the line is NUL-terminated, and a byte ends the number strtod reads
     * exactly where the JSON grammar ends it */
    f = strtod(s, &end);
    return end == s + n && isinf(f);
}

/* s[0..n) (a line jansson refused for a number's overflow) with the
 * members of its object whose value overflows written as null, into
 * r->fixed; the members into r->infs. Returns 1 when there were some, 0
 * when none (the error stands), or PV_ENOMEM. */
static int null_infinities(pv_ndjson_reader *r, const char *s, size_t n)
{
    struct token t;
    size_t pos = 0, nkeys = 0;
    int depth = 0, object = 0, value = 0, neg;

    r->ninfs = 0;
    while (next_token(s, n, &pos, &t)) {
        char c = s[t.start];
        if (c == '{' || c == '[') {
            if (depth++ == 0)
                object = c == '{';
            value = 0;
        } else if (c == '}' || c == ']') {
            depth--;
            value = 0;
        } else if (depth != 1 || !object) {
            continue;
        } else if (c == ':' || c == ',') {
            value = c == ':';
        } else if (!value) {
            nkeys += c == '"';
        } else {
            value = 0;
            if (nkeys == 0 || t.end - t.start < 4 ||
                !real_overflows(s + t.start, t.end - t.start, &neg))
                continue;
            if (r->ninfs == r->infs_cap) {
                size_t cap = r->infs_cap ? r->infs_cap * 2 : 8;
                struct inf *p = realloc(r->infs, cap * sizeof *p);
                if (!p)
                    return pv_err(PV_ENOMEM, "out of memory");
                r->infs = p;
                r->infs_cap = cap;
            }
            r->infs[r->ninfs].member = nkeys - 1;
            r->infs[r->ninfs].start = t.start;
            r->infs[r->ninfs].end = t.end;
            r->infs[r->ninfs++].neg = neg;
        }
    }
    if (r->ninfs == 0)
        return 0;
    if (n + 1 > r->fixed_cap) {
        char *p = realloc(r->fixed, n + 1);
        if (!p)
            return pv_err(PV_ENOMEM, "out of memory");
        r->fixed = p;
        r->fixed_cap = n + 1;
    }
    memcpy(r->fixed, s, n);
    r->fixed[n] = '\0';
    for (size_t k = 0; k < r->ninfs; k++) {
        memset(r->fixed + r->infs[k].start, ' ', r->infs[k].end - r->infs[k].start);
        memcpy(r->fixed + r->infs[k].start, "null", 4);
    }
    return 1;
}

/* ---- where bad JSON is ----------------------------------------------------
 * jansson's column is where it stopped reading: the end of the token at
 * fault (37 for a number from 19 to 37), and 0 after the line break when
 * the object goes on to the next line. Messages name the column where that
 * token starts, 1-based in characters (as jansson and editors count). */

/* The byte offset in s[0..n) where the token jansson stopped in starts:
 * the one its message quotes ("... near 'tru'"), which ends where it
 * stopped, else (a longer token, not quoted) the one our tokens have
 * there. */
static size_t fault_start(const char *s, size_t n, const json_error_t *e)
{
    size_t stop = e->position > 0 ? (size_t)e->position : 0, pos = 0, len;
    const char *near = strstr(e->text, " near '");
    struct token t;

    if (stop > n)
        stop = n;
    if (near && (len = strlen(near + 7)) > 0 && near[7 + len - 1] == '\'' && len - 1 <= stop)
        return stop - (len - 1);
    while (stop > 0 && next_token(s, n, &pos, &t) && t.start < stop)
        if (stop - 1 < t.end)
            return t.start;
    return stop;
}

/* jansson's error `e` on line s[0..n) (NUL-terminated), as a message. */
static int json_error(const pv_ndjson_reader *r, const char *s, size_t n, const json_error_t *e)
{
    int code = json_error_code(e) == json_error_numeric_overflow && strstr(e->text, "too big")
                   ? PV_ELIMIT : PV_EINPUT;
    size_t start, col = 1, i = 0;

    if (json_error_code(e) == json_error_premature_end_of_input) {
        while (i < n && json_blank(s[i]))
            i++;
        return pv_err(PV_EINPUT, "%s:%" PRIu64 ": the line ends inside a JSON %s: NDJSON needs "
                      "each object on one line", r->name, r->lineno,
                      i < n && s[i] == '{' ? "object" : "value");
    }
    start = fault_start(s, n, e);
    for (i = 0; i < start; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            col++;
    if (strncmp(e->text, "unexpected newline", 18) == 0)
        return pv_err(code, "%s:%" PRIu64 ":%zu: a line break inside a string: NDJSON needs each "
                      "object on one line (write a line break in a string as \\n)", r->name,
                      r->lineno, col);
    return pv_err(code, "%s:%" PRIu64 ":%zu: %s", r->name, r->lineno, col, e->text);
}

int pv_ndjson_next(pv_ndjson_reader *r, pv_ndjson_record *out)
{
    json_error_t jerr;
    const char *key, *s;
    json_t *val;
    ssize_t got;
    size_t n, i, k = 0;
    int rc;

    if (r->err)
        return r->err;
    json_decref(r->root);
    r->root = NULL;
    pv_arena_reset(&r->arena);
    if (!r->f) /* an empty input in memory */
        return 0;
    for (;;) {
        errno = 0;
        got = getline(&r->line, &r->cap, r->f);
        if (got < 0) {
            if (ferror(r->f))
                return fail(r, pv_err_errno("cannot read '%s'", r->name));
            return 0;
        }
        r->lineno++;
        r->offset = r->next_offset;
        r->next_offset += (uint64_t)got;
        s = r->line;
        n = (size_t)got;
        if (r->lineno == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3, n -= 3;
        if (!blank(s, n))
            break;
    }
    if (memchr(s, '\0', n))
        return fail(r, pv_err(PV_EINPUT, "%s:%" PRIu64 ": a NUL byte in the line",
                              r->name, r->lineno));
    r->ninfs = 0;
    r->root = json_loadb(s, n, JSON_FLAGS, &jerr);
    if (!r->root && json_error_code(&jerr) == json_error_numeric_overflow) {
        if ((rc = null_infinities(r, s, n)) < 0)
            return fail(r, rc);
        if (rc == 1)
            r->root = json_loadb(r->fixed, n, JSON_FLAGS, &jerr);
    }
    if (!r->root)
        return fail(r, json_error(r, r->ninfs ? r->fixed : s, n, &jerr));
    if (!json_is_object(r->root))
        return fail(r, pv_err(PV_EINPUT, "%s:%" PRIu64 ": expected a JSON object, got %s",
                              r->name, r->lineno, kind_name(r->root)));
    n = json_object_size(r->root);
    if (n > r->mcap) {
        pv_ndjson_member *m = realloc(r->members, n * sizeof *m);
        if (!m)
            return fail(r, pv_err(PV_ENOMEM, "out of memory"));
        r->members = m;
        r->mcap = n;
    }
    i = 0;
    json_object_foreach(r->root, key, val) {
        pv_ndjson_member *m = &r->members[i];
        m->key.p = key;
        m->key.n = strlen(key);
        /* (jansson keeps the members in the order written) */
        if (k < r->ninfs && r->infs[k].member == i)
            m->value = pv_v_real(r->infs[k++].neg ? -INFINITY : INFINITY);
        else if ((rc = to_value(r, val, &m->value)) < 0)
            return fail(r, rc);
        i++;
    }
    out->members = r->members;
    out->nmembers = i;
    out->line = r->lineno;
    out->offset = r->offset;
    return 1;
}

#else /* !PVDEV_HAVE_JANSSON */

int pv_ndjson_supported(void)
{
    return 0;
}

static int unsupported(void)
{
    return pv_err(PV_EMISUSE, "pvdev was built without NDJSON support (jansson)");
}

int pv_ndjson_open(const char *path, pv_ndjson_reader **out)
{
    (void)path;
    *out = NULL;
    return unsupported();
}

int pv_ndjson_open_mem(const void *data, size_t len, const char *name,
                       pv_ndjson_reader **out)
{
    (void)data, (void)len, (void)name;
    *out = NULL;
    return unsupported();
}

int pv_ndjson_next(pv_ndjson_reader *r, pv_ndjson_record *out)
{
    (void)r, (void)out;
    return unsupported();
}

const char *pv_ndjson_name(const pv_ndjson_reader *r)
{
    (void)r;
    return "";
}

uint64_t pv_ndjson_offset(const pv_ndjson_reader *r)
{
    (void)r;
    return 0;
}

void pv_ndjson_close(pv_ndjson_reader *r)
{
    (void)r;
}

#endif
