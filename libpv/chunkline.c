/*
 * chunkline.c: encode and decode workspace records (see chunkline.h).
 *
 * The decoder is a strict reader of a JSON subset: it reads chunk files that
 * may come from a stranger's pull request, so every read is bounds-checked
 * and every failure names the byte offset within the line.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunkline.h"

/* ---- encoding ------------------------------------------------------------ */

int pv_js_put_string(pv_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, run = 0;
    int rc = pv_buf_reserve(out, n + 2);
    if (rc) return rc;
    out->p[out->len++] = '"';
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t elen = 2;
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        /* flush the raw run before this byte */
        if ((rc = pv_buf_append(out, s + run, i - run))) return rc;
        run = i + 1;
        esc[0] = '\\';
        switch (c) {
        case '"': esc[1] = '"'; break;
        case '\\': esc[1] = '\\'; break;
        case '\n': esc[1] = 'n'; break;
        case '\r': esc[1] = 'r'; break;
        case '\t': esc[1] = 't'; break;
        case '\b': esc[1] = 'b'; break;
        case '\f': esc[1] = 'f'; break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        if ((rc = pv_buf_append(out, esc, elen))) return rc;
    }
    if ((rc = pv_buf_append(out, s + run, n - run))) return rc;
    return pv_buf_putc(out, '"');
}

static int put_hex(pv_buf *out, const char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;
    int rc = pv_buf_reserve(out, 2 * n);
    if (rc) return rc;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        out->p[out->len++] = hex[c >> 4];
        out->p[out->len++] = hex[c & 15];
    }
    out->p[out->len] = '\0';
    return PV_OK;
}

/* Decimal digits of i, as pv_int_format writes them, without printf (a
 * chunk line of flights has three integers; snprintf cost 0.2 s of an
 * import of 3 million rows). Returns the length; buf holds 21 bytes. */
static int int_digits(int64_t i, char *buf)
{
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = i < 0 ? (uint64_t)0 - (uint64_t)i : (uint64_t)i;
    int n;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (i < 0) *--p = '-';
    n = (int)(tmp + sizeof tmp - p);
    memcpy(buf, p, (size_t)n);
    return n;
}

int pv_chunk_encode_value(pv_buf *out, const pv_value *v)
{
    char tmp[32];
    int n, rc;
    switch (v->type) {
    case PV_NULL: return pv_buf_append(out, "null", 4);
    case PV_BOOLEAN: return v->u.i ? pv_buf_append(out, "true", 4) : pv_buf_append(out, "false", 5);
    case PV_INTEGER:
        n = int_digits(v->u.i, tmp);
        return pv_buf_append(out, tmp, (size_t)n);
    case PV_REAL:
        if (isinf(v->u.f)) return pv_buf_append(out, v->u.f < 0 ? "-1e999" : "1e999", v->u.f < 0 ? 6 : 5);
        if (v->u.f != v->u.f) return pv_buf_append(out, "null", 4);
        n = pv_real_format(v->u.f, tmp);
        return pv_buf_append(out, tmp, (size_t)n);
    case PV_TEXT: return pv_js_put_string(out, v->u.s.p, v->u.s.n);
    case PV_BLOB:
        if ((rc = pv_buf_append(out, "{\"hex\":\"", 8))) return rc;
        if ((rc = put_hex(out, v->u.s.p, v->u.s.n))) return rc;
        return pv_buf_append(out, "\"}", 2);
    default: return pv_err(PV_ERROR, "bad value type %d", v->type);
    }
}

static int encode_ref(pv_buf *out, const pv_blobref *r)
{
    return pv_buf_printf(out, "{\"sha256\":\"%s\",\"size\":%llu}", r->hex,
                         (unsigned long long)r->size);
}

int pv_chunk_encode_header(pv_buf *out, const pv_schema *s)
{
    uint32_t i;
    int rc = pv_buf_printf(out, "{\"pv\":%d,\"columns\":[", PV_CHUNK_VERSION);
    for (i = 0; !rc && i < s->ncols; i++) {
        if (i) rc = pv_buf_putc(out, ',');
        if (!rc) rc = pv_js_put_string(out, s->cols[i].name, strlen(s->cols[i].name));
    }
    if (!rc) rc = pv_buf_append(out, "]}\n", 3);
    return rc;
}

int pv_chunk_encode_header_compacted(pv_buf *out, char *const *names, uint32_t n, uint64_t replaced)
{
    uint32_t i;
    int rc = pv_buf_printf(out, "{\"pv\":%d,\"columns\":[", PV_CHUNK_VERSION_COMPACTED);
    for (i = 0; !rc && i < n; i++) {
        if (i) rc = pv_buf_putc(out, ',');
        if (!rc) rc = pv_js_put_string(out, names[i], strlen(names[i]));
    }
    if (!rc) rc = pv_buf_printf(out, "],\"compacted\":\"%016llx\"}\n", (unsigned long long)replaced);
    return rc;
}

int pv_chunk_encode_header_cont(pv_buf *out, const pv_schema *s)
{
    size_t at = out->len;
    int rc = pv_chunk_encode_header(out, s);
    if (!rc) out->p[at + 6] = '0' + PV_CHUNK_VERSION_CONT; /* {"pv":1 -> {"pv":3 */
    return rc;
}

int pv_chunk_line_is_header(const char *line, size_t len)
{
    return len >= 6 && memcmp(line, "{\"pv\":", 6) == 0;
}

int pv_chunk_check_place(const pv_chunk_rec *r, int first)
{
    if (first && r->kind != PV_REC_HEADER) return PV_CORRUPT("the first line must be the chunk header {\"pv\":...}");
    if (first && r->version == PV_CHUNK_VERSION_CONT)
        return PV_CORRUPT("the first line is a continuation header {\"pv\":%d,...}; a chunk starts with "
                          "{\"pv\":%d,...}", PV_CHUNK_VERSION_CONT, PV_CHUNK_VERSION);
    if (!first && r->kind == PV_REC_HEADER && r->version != PV_CHUNK_VERSION_CONT)
        return PV_CORRUPT("a chunk header after the first line (only a continuation header {\"pv\":%d,...} may "
                          "come there)", PV_CHUNK_VERSION_CONT);
    return PV_OK;
}

const char *pv_chunk_last_header(const char *text, size_t len, size_t *hlen)
{
    const char *end = text + len, *p = end;
    /* from the end back: each line's start */
    while (p > text) {
        const char *start = p - 1, *nl;
        while (start > text && start[-1] != '\n') start--;
        nl = memchr(start, '\n', (size_t)(end - start));
        if (pv_chunk_line_is_header(start, (size_t)((nl ? nl : end) - start))) {
            *hlen = (size_t)((nl ? nl : end) - start);
            return start;
        }
        p = start;
    }
    *hlen = 0;
    return NULL;
}

int pv_chunk_header_is(const char *line, size_t len, const pv_schema *s)
{
    pv_buf want = PV_BUF_INIT;
    size_t n;
    int same = 0;
    if (pv_chunk_encode_header(&want, s)) return 0;
    n = want.len - 2; /* up to the columns' ']', without "}\n" */
    if (len == n + 1 && !memcmp(line, want.p, n + 1)) same = 1;
    /* {"pv":3 ... ]}: a continuation header */
    else if (len == n + 1 && !memcmp(line, want.p, 6) && line[6] == '0' + PV_CHUNK_VERSION_CONT &&
             !memcmp(line + 7, want.p + 7, n - 6))
        same = 1;
    /* {"pv":2 ... ],"compacted":"<16 hex>"} */
    else if (len == n + 32 && !memcmp(line, want.p, 6) && line[6] == '0' + PV_CHUNK_VERSION_COMPACTED &&
             !memcmp(line + 7, want.p + 7, n - 7) && !memcmp(line + n, ",\"compacted\":\"", 14) &&
             !memcmp(line + n + 30, "\"}", 2) && strspn(line + n + 14, "0123456789abcdef") == 16)
        same = 1;
    pv_buf_free(&want);
    return same;
}

int pv_chunk_encode_row(pv_buf *out, const pv_schema *s, const pv_value *row,
                        const pv_blobref *refs)
{
    uint32_t i;
    int rc = pv_buf_putc(out, '[');
    for (i = 0; !rc && i < s->ncols; i++) {
        if (i) rc = pv_buf_putc(out, ',');
        if (rc) break;
        if (refs && refs[i].present) rc = encode_ref(out, &refs[i]);
        else rc = pv_chunk_encode_value(out, &row[i]);
    }
    if (!rc) rc = pv_buf_append(out, "]\n", 2);
    return rc;
}

int pv_chunk_encode_delete(pv_buf *out, const pv_schema *s, const pv_value *key)
{
    uint32_t i;
    int rc = pv_buf_append(out, "{\"delete\":[", 11);
    for (i = 0; !rc && i < s->npk; i++) {
        if (i) rc = pv_buf_putc(out, ',');
        if (!rc) rc = pv_chunk_encode_value(out, &key[i]);
    }
    if (!rc) rc = pv_buf_append(out, "]}\n", 3);
    return rc;
}

int pv_chunk_encode_conflict(pv_buf *out, const pv_schema *s, const pv_value *key,
                             const pv_value *const side[3])
{
    static const char *const names[3] = {"base", "ours", "theirs"};
    uint32_t i;
    int k, rc = pv_buf_append(out, "{\"conflict\":{\"key\":[", 20);
    for (i = 0; !rc && i < s->npk; i++) {
        if (i) rc = pv_buf_putc(out, ',');
        if (!rc) rc = pv_chunk_encode_value(out, &key[i]);
    }
    if (!rc) rc = pv_buf_putc(out, ']');
    for (k = 0; k < 3 && !rc; k++) {
        rc = pv_buf_printf(out, ",\"%s\":", names[k]);
        if (rc) break;
        if (!side[k]) {
            rc = pv_buf_append(out, "null", 4);
            continue;
        }
        rc = pv_buf_putc(out, '[');
        for (i = 0; !rc && i < s->ncols; i++) {
            if (i) rc = pv_buf_putc(out, ',');
            if (!rc) rc = pv_chunk_encode_value(out, &side[k][i]);
        }
        if (!rc) rc = pv_buf_putc(out, ']');
    }
    if (!rc) rc = pv_buf_append(out, "}}\n", 3);
    return rc;
}

/* ---- the JSON subset reader ---------------------------------------------- */

#define JS_OFF(j) ((size_t)((j)->p - (j)->start))

void pv_js_ws(pv_jscan *j)
{
    while (j->p < j->end && (*j->p == ' ' || *j->p == '\t')) j->p++;
}

int pv_js_lit(pv_jscan *j, char c)
{
    pv_js_ws(j);
    if (j->p < j->end && *j->p == c) {
        j->p++;
        return 1;
    }
    return 0;
}

int pv_js_word(pv_jscan *j, const char *w)
{
    size_t n = strlen(w);
    pv_js_ws(j);
    if ((size_t)(j->end - j->p) >= n && memcmp(j->p, w, n) == 0) {
        j->p += n;
        return 1;
    }
    return 0;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int read_u4(const char *p, unsigned *out)
{
    unsigned v = 0;
    int k;
    for (k = 0; k < 4; k++) {
        int h = hexval(p[k]);
        if (h < 0) return 0;
        v = v * 16 + (unsigned)h;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(char *d, unsigned cp)
{
    if (cp < 0x80) { d[0] = (char)cp; return 1; }
    if (cp < 0x800) {
        d[0] = (char)(0xC0 | (cp >> 6));
        d[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        d[0] = (char)(0xE0 | (cp >> 12));
        d[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        d[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    d[0] = (char)(0xF0 | (cp >> 18));
    d[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    d[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    d[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* A \uXXXX escape (with its surrogate pair) at j->p (just past the 'u'). */
static int read_uescape(pv_jscan *j, unsigned *cp)
{
    unsigned hi, lo;
    if (j->end - j->p < 4 || !read_u4(j->p, &hi)) return 0;
    j->p += 4;
    if (hi >= 0xDC00 && hi <= 0xDFFF) return 0;
    if (hi >= 0xD800 && hi <= 0xDBFF) {
        if (j->end - j->p < 6 || j->p[0] != '\\' || j->p[1] != 'u' ||
            !read_u4(j->p + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
            return 0;
        j->p += 6;
        hi = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
    }
    *cp = hi;
    return 1;
}

int pv_js_string(pv_jscan *j, pv_arena *a, const char **s, size_t *n)
{
    const char *q;
    char *d, *out;
    size_t bad;
    if (!pv_js_lit(j, '"')) return PV_CORRUPT("expected '\"' at byte %zu", JS_OFF(j));
    /* Find the closing quote first to size the copy: escapes only shrink. */
    for (q = j->p; q < j->end && *q != '"'; q++)
        if (*q == '\\') q++;
    if (q >= j->end) return PV_CORRUPT("unterminated string at byte %zu", JS_OFF(j));
    out = d = pv_arena_alloc(a, (size_t)(q - j->p) + 1);
    if (!out) return pv_err(PV_ENOMEM, "out of memory");
    while (j->p < q) {
        char c = *j->p++;
        unsigned cp;
        if ((unsigned char)c < 0x20)
            return PV_CORRUPT("raw control character in string at byte %zu", JS_OFF(j) - 1);
        if (c != '\\') {
            *d++ = c;
            continue;
        }
        c = *j->p++;
        switch (c) {
        case '"': *d++ = '"'; break;
        case '\\': *d++ = '\\'; break;
        case '/': *d++ = '/'; break;
        case 'n': *d++ = '\n'; break;
        case 'r': *d++ = '\r'; break;
        case 't': *d++ = '\t'; break;
        case 'b': *d++ = '\b'; break;
        case 'f': *d++ = '\f'; break;
        case 'u':
            if (!read_uescape(j, &cp) || j->p > q)
                return PV_CORRUPT("bad \\u escape at byte %zu", JS_OFF(j));
            d += put_utf8(d, cp);
            break;
        default: return PV_CORRUPT("bad escape '\\%c' at byte %zu", c, JS_OFF(j) - 1);
        }
    }
    j->p = q + 1;
    *d = '\0';
    if (!pv_utf8_valid(out, (size_t)(d - out), &bad))
        return PV_CORRUPT("invalid UTF-8 in string at byte %zu of the value", bad);
    *s = out;
    *n = (size_t)(d - out);
    return PV_OK;
}

/* The extent of a JSON number token at j->p. */
static size_t number_len(const pv_jscan *j)
{
    const char *p = j->p;
    while (p < j->end && (strchr("+-.eE", *p) || (*p >= '0' && *p <= '9')) && *p) p++;
    return (size_t)(p - j->p);
}

int pv_js_int(pv_jscan *j, int64_t *out)
{
    size_t n;
    pv_js_ws(j);
    n = number_len(j);
    if (!pv_int_parse_canonical(j->p, n, out))
        return PV_CORRUPT("expected an integer at byte %zu", JS_OFF(j));
    j->p += n;
    return PV_OK;
}

static int read_real(pv_jscan *j, double *out)
{
    size_t n = number_len(j);
    if (n == 0) return PV_CORRUPT("expected a number at byte %zu", JS_OFF(j));
    /* 1e999 is our spelling of infinity; pv_real_parse refuses it. */
    if ((n == 5 && memcmp(j->p, "1e999", 5) == 0) || (n == 6 && memcmp(j->p, "-1e999", 6) == 0)) {
        *out = j->p[0] == '-' ? -INFINITY : INFINITY;
    } else if (!pv_real_parse(j->p, n, out)) {
        return PV_CORRUPT("bad number at byte %zu", JS_OFF(j));
    }
    j->p += n;
    return PV_OK;
}

static int read_hexblob(pv_jscan *j, pv_arena *a, pv_value *v)
{
    const char *s;
    size_t n, i;
    char *d;
    int rc = pv_js_string(j, a, &s, &n);
    if (rc) return rc;
    if (n % 2) return PV_CORRUPT("odd number of hex digits before byte %zu", JS_OFF(j));
    d = (char *)s; /* decode in place: the arena copy is ours */
    for (i = 0; i < n; i += 2) {
        int h = hexval(s[i]), l = hexval(s[i + 1]);
        if (h < 0 || l < 0) return PV_CORRUPT("bad hex digit before byte %zu", JS_OFF(j));
        d[i / 2] = (char)(h * 16 + l);
    }
    *v = pv_v_blob(d, n / 2);
    return PV_OK;
}

static int read_ref(pv_jscan *j, pv_arena *a, pv_blobref *r)
{
    const char *s;
    size_t n, i;
    int64_t size;
    int rc = pv_js_string(j, a, &s, &n);
    if (rc) return rc;
    if (n != 64) return PV_CORRUPT("sha256 digest must be 64 hex digits, before byte %zu", JS_OFF(j));
    for (i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return PV_CORRUPT("digest is not lower-case hex, before byte %zu", JS_OFF(j));
    if (!pv_js_lit(j, ',') || !pv_js_word(j, "\"size\"") || !pv_js_lit(j, ':'))
        return PV_CORRUPT("expected \"size\" at byte %zu", JS_OFF(j));
    if ((rc = pv_js_int(j, &size))) return rc;
    if (size < 0) return PV_CORRUPT("negative size before byte %zu", JS_OFF(j));
    memcpy(r->hex, s, 65);
    r->size = (uint64_t)size;
    r->present = 1;
    return PV_OK;
}

/* An object value: {"hex":...} (BLOB) or {"sha256":...,"size":N}. */
static int read_object_value(pv_jscan *j, int type, pv_arena *a, pv_value *v,
                             pv_blobref *r)
{
    int rc;
    if (pv_js_word(j, "\"hex\"")) {
        if (type != PV_BLOB) return PV_CORRUPT("hex value in a %s column at byte %zu", pv_type_name(type), JS_OFF(j));
        if (!pv_js_lit(j, ':')) return PV_CORRUPT("expected ':' at byte %zu", JS_OFF(j));
        rc = read_hexblob(j, a, v);
    } else if (pv_js_word(j, "\"sha256\"")) {
        if (type != PV_BLOB && type != PV_TEXT)
            return PV_CORRUPT("blob reference in a %s column at byte %zu", pv_type_name(type), JS_OFF(j));
        if (!pv_js_lit(j, ':')) return PV_CORRUPT("expected ':' at byte %zu", JS_OFF(j));
        rc = read_ref(j, a, r);
        v->type = type;
        v->u.s.p = NULL;
        v->u.s.n = 0;
    } else {
        return PV_CORRUPT("unknown object value at byte %zu", JS_OFF(j));
    }
    if (rc) return rc;
    if (!pv_js_lit(j, '}')) return PV_CORRUPT("expected '}' at byte %zu", JS_OFF(j));
    return PV_OK;
}

static int read_value(pv_jscan *j, int type, pv_arena *a, pv_value *v, pv_blobref *r);

/* A value of a dropped column (type PV_NULL): read whatever it is, check
 * its syntax, keep nothing. */
static int skip_value(pv_jscan *j, pv_arena *a, pv_value *v)
{
    static const int any[] = {PV_TEXT, PV_BLOB, PV_INTEGER, PV_REAL, PV_BOOLEAN};
    size_t i;
    const char *start = j->p;
    *v = pv_v_null();
    if (pv_js_word(j, "null")) return PV_OK;
    for (i = 0; i < sizeof any / sizeof any[0]; i++) {
        pv_blobref r;
        pv_value ignored;
        int rc;
        j->p = start;
        rc = read_value(j, any[i], a, &ignored, &r);
        if (rc == PV_OK) return PV_OK;
        if (rc == PV_ENOMEM) return rc;
    }
    j->p = start;
    return PV_CORRUPT("bad value at byte %zu", JS_OFF(j));
}

static int read_value(pv_jscan *j, int type, pv_arena *a, pv_value *v, pv_blobref *r)
{
    const char *s;
    size_t n;
    int rc;
    pv_js_ws(j);
    if (j->p >= j->end) return PV_CORRUPT("line ends inside a value at byte %zu", JS_OFF(j));
    if (type == PV_NULL) return skip_value(j, a, v);
    if (pv_js_word(j, "null")) {
        *v = pv_v_null();
        return PV_OK;
    }
    if (*j->p == 't' || *j->p == 'f') {
        int t = pv_js_word(j, "true");
        if (!t && !pv_js_word(j, "false")) return PV_CORRUPT("bad word at byte %zu", JS_OFF(j));
        if (type != PV_BOOLEAN) return PV_CORRUPT("boolean in a %s column at byte %zu", pv_type_name(type), JS_OFF(j));
        *v = pv_v_bool(t);
        return PV_OK;
    }
    if (*j->p == '"') {
        if (type != PV_TEXT) return PV_CORRUPT("string in a %s column at byte %zu", pv_type_name(type), JS_OFF(j));
        if ((rc = pv_js_string(j, a, &s, &n))) return rc;
        *v = pv_v_text(s, n);
        return PV_OK;
    }
    if (*j->p == '{') {
        j->p++;
        return read_object_value(j, type, a, v, r);
    }
    if (type == PV_INTEGER) {
        v->type = PV_INTEGER;
        return pv_js_int(j, &v->u.i);
    }
    if (type == PV_REAL) {
        v->type = PV_REAL;
        return read_real(j, &v->u.f);
    }
    return PV_CORRUPT("number in a %s column at byte %zu", pv_type_name(type), JS_OFF(j));
}

int pv_js_value(pv_jscan *j, int type, pv_arena *a, pv_value *out)
{
    pv_blobref r;
    int rc;
    r.present = 0;
    if ((rc = read_value(j, type, a, out, &r))) return rc;
    if (r.present) return PV_CORRUPT("a blob reference cannot be a default (byte %zu)", JS_OFF(j));
    return PV_OK;
}

/* A JSON array of values of the given types. */
static int read_values(pv_jscan *j, const int *types, uint32_t ntypes, pv_arena *a,
                       pv_chunk_rec *out)
{
    uint32_t i;
    int rc, any_ref = 0;
    out->vals = pv_arena_alloc(a, (ntypes ? ntypes : 1) * sizeof *out->vals);
    out->refs = pv_arena_alloc(a, (ntypes ? ntypes : 1) * sizeof *out->refs);
    if (!out->vals || !out->refs) return pv_err(PV_ENOMEM, "out of memory");
    memset(out->refs, 0, (ntypes ? ntypes : 1) * sizeof *out->refs);
    for (i = 0; i < ntypes; i++) {
        if (i && !pv_js_lit(j, ','))
            return PV_CORRUPT("expected ',' after value %u at byte %zu (the header has %u columns)",
                              i, JS_OFF(j), ntypes);
        if ((rc = read_value(j, types[i], a, &out->vals[i], &out->refs[i]))) return rc;
        any_ref |= out->refs[i].present;
    }
    if (!pv_js_lit(j, ']'))
        return PV_CORRUPT("expected ']' after %u values at byte %zu", ntypes, JS_OFF(j));
    out->nvals = ntypes;
    if (!any_ref) out->refs = NULL;
    return PV_OK;
}

static int read_header(pv_jscan *j, pv_arena *a, pv_chunk_rec *out)
{
    int64_t ver;
    uint32_t cap = 16, n = 0;
    char **names = pv_arena_alloc(a, cap * sizeof *names);
    int rc;
    if (!names) return pv_err(PV_ENOMEM, "out of memory");
    if (!pv_js_lit(j, ':') || (rc = pv_js_int(j, &ver)))
        return PV_CORRUPT("expected the chunk version at byte %zu", JS_OFF(j));
    if (ver != PV_CHUNK_VERSION && ver != PV_CHUNK_VERSION_COMPACTED && ver != PV_CHUNK_VERSION_CONT)
        return pv_err(PV_EFORMAT, "chunk version %lld is not supported (this pvdev reads %d to %d; upgrade pvdev)",
                      (long long)ver, PV_CHUNK_VERSION, PV_CHUNK_VERSION_CONT);
    out->version = (int)ver;
    if (!pv_js_lit(j, ',') || !pv_js_word(j, "\"columns\"") || !pv_js_lit(j, ':') ||
        !pv_js_lit(j, '['))
        return PV_CORRUPT("expected \"columns\" at byte %zu", JS_OFF(j));
    while (!pv_js_lit(j, ']')) {
        const char *s;
        size_t len;
        if (n && !pv_js_lit(j, ',')) return PV_CORRUPT("expected ',' at byte %zu", JS_OFF(j));
        if (n >= PV_MAX_COLUMNS) return PV_CORRUPT("more than %d columns", PV_MAX_COLUMNS);
        if ((rc = pv_js_string(j, a, &s, &len))) return rc;
        if (n == cap) {
            char **bigger = pv_arena_alloc(a, 2 * cap * sizeof *names);
            if (!bigger) return pv_err(PV_ENOMEM, "out of memory");
            memcpy(bigger, names, cap * sizeof *names);
            names = bigger;
            cap *= 2;
        }
        names[n++] = (char *)s;
    }
    if (ver == PV_CHUNK_VERSION_COMPACTED) {
        /* ,"compacted":"<16 lower-case hex digits>" */
        const char *h;
        size_t hn;
        if (!pv_js_lit(j, ',') || !pv_js_word(j, "\"compacted\"") || !pv_js_lit(j, ':'))
            return PV_CORRUPT("expected \"compacted\" at byte %zu", JS_OFF(j));
        if ((rc = pv_js_string(j, a, &h, &hn))) return rc;
        if (hn != 16 || strspn(h, "0123456789abcdef") != 16)
            return PV_CORRUPT("\"compacted\" is not 16 lower-case hex digits (before byte %zu)", JS_OFF(j));
    }
    if (!pv_js_lit(j, '}')) return PV_CORRUPT("expected '}' at byte %zu", JS_OFF(j));
    out->names = names;
    out->nvals = n;
    return PV_OK;
}

/* :{"key":[...],"base":[...]|null,"ours":...,"theirs":...}} */
static int read_conflict(pv_jscan *j, const int *types, uint32_t ntypes, const int *key_types,
                         uint32_t nkey, pv_arena *a, pv_chunk_rec *out)
{
    static const char *const names[3] = {"\"base\"", "\"ours\"", "\"theirs\""};
    int k, rc;
    if (!pv_js_lit(j, ':') || !pv_js_lit(j, '{') || !pv_js_word(j, "\"key\"") || !pv_js_lit(j, ':') ||
        !pv_js_lit(j, '['))
        return PV_CORRUPT("expected {\"key\":[...] at byte %zu", JS_OFF(j));
    if ((rc = read_values(j, key_types, nkey, a, out))) return rc;
    for (k = 0; k < 3; k++) {
        pv_chunk_rec side;
        if (!pv_js_lit(j, ',') || !pv_js_word(j, names[k]) || !pv_js_lit(j, ':'))
            return PV_CORRUPT("expected %s at byte %zu", names[k], JS_OFF(j));
        if (pv_js_word(j, "null")) continue;
        if (!pv_js_lit(j, '[')) return PV_CORRUPT("expected a row or null at byte %zu", JS_OFF(j));
        if ((rc = read_values(j, types, ntypes, a, &side))) return rc;
        out->side[k] = side.vals;
        out->side_refs[k] = side.refs;
    }
    if (!pv_js_lit(j, '}') || !pv_js_lit(j, '}')) return PV_CORRUPT("expected '}}' at byte %zu", JS_OFF(j));
    return PV_OK;
}

int pv_chunk_decode(const char *line, size_t len, const int *types, uint32_t ntypes,
                    const int *key_types, uint32_t nkey, pv_arena *a,
                    pv_chunk_rec *out)
{
    pv_jscan j = {line, line + len, line};
    int rc;
    memset(out, 0, sizeof *out);
    if (pv_js_lit(&j, '[')) {
        out->kind = PV_REC_ROW;
        rc = read_values(&j, types, ntypes, a, out);
    } else if (pv_js_lit(&j, '{')) {
        if (pv_js_word(&j, "\"pv\"")) {
            out->kind = PV_REC_HEADER;
            rc = read_header(&j, a, out);
        } else if (pv_js_word(&j, "\"delete\"")) {
            out->kind = PV_REC_DELETE;
            if (!pv_js_lit(&j, ':') || !pv_js_lit(&j, '['))
                return PV_CORRUPT("expected a key array at byte %zu", JS_OFF(&j));
            rc = read_values(&j, key_types, nkey, a, out);
            if (!rc && !pv_js_lit(&j, '}')) rc = PV_CORRUPT("expected '}' at byte %zu", JS_OFF(&j));
        } else if (pv_js_word(&j, "\"conflict\"")) {
            out->kind = PV_REC_CONFLICT;
            rc = read_conflict(&j, types, ntypes, key_types, nkey, a, out);
        } else {
            return PV_CORRUPT("unknown record at byte %zu", JS_OFF(&j));
        }
    } else {
        return PV_CORRUPT("a record starts with '[' or '{' (byte %zu)", JS_OFF(&j));
    }
    if (rc) return rc;
    pv_js_ws(&j);
    if (j.p != j.end) return PV_CORRUPT("unexpected bytes after the record at byte %zu", JS_OFF(&j));
    return PV_OK;
}

unsigned pv_chunk_file_number(const char *name)
{
    unsigned num = 0;
    int i;
    if (strlen(name) != 14 || strcmp(name + 8, ".jsonl") != 0) return 0;
    for (i = 0; i < 8; i++) {
        if (name[i] < '0' || name[i] > '9') return 0;
        num = num * 10 + (unsigned)(name[i] - '0');
    }
    return num;
}
