/*
 * fuzz_ndjson.c: libFuzzer target for the NDJSON side of `pvdev import`:
 * the reader (pvdev/ndjson_read.c, over jansson) and the import of what it
 * reads (typing, conversion, key checks, the write).
 *
 * Input: one mode byte (fuzz_import.h: new or existing table, --key), then
 * the NDJSON file.
 *
 * Oracles besides "no crash, no leak, no UB":
 *   - the reader, over the file in memory: records come with strictly
 *     increasing line numbers and offsets inside the input, each at the
 *     start of a line (or just past a leading BOM); keys are unique within
 *     an object and, like TEXT and BLOB values, NUL-terminated at their
 *     length; values have a known type, BOOLEAN is 0 or 1; an error has a
 *     message and is sticky (the next call returns it again), and one
 *     naming "LINE:COLUMN" names a line of the input and a column on it;
 *   - the import (fuzz_import.h): a successful import reads back whole, a
 *     failed one leaves the workspace unchanged.
 */
#include "fuzz_import.h"

#include "ndjson_read.h"

#define MAX_MEMBERS_CHECKED 64 /* pairwise key check: bounded work */

static void bad(const char *why, const pv_ndjson_record *rec)
{
    fprintf(stderr, "fuzz_ndjson: %s (line %llu, offset %llu)\n", why,
            rec ? (unsigned long long)rec->line : 0ull, rec ? (unsigned long long)rec->offset : 0ull);
    abort();
}

static void check_value(const pv_value *v, const pv_ndjson_record *rec)
{
    switch (v->type) {
    case PV_NULL:
    case PV_INTEGER:
    case PV_REAL:
        break;
    case PV_BOOLEAN:
        if (v->u.i != 0 && v->u.i != 1) bad("a BOOLEAN that is neither 0 nor 1", rec);
        break;
    case PV_TEXT:
    case PV_BLOB:
        if (!v->u.s.p || v->u.s.p[v->u.s.n] != '\0') bad("a TEXT or BLOB value not NUL-terminated", rec);
        break;
    default:
        bad("a value of unknown type", rec);
    }
}

static void check_record(const uint8_t *in, size_t n, const pv_ndjson_record *rec)
{
    size_t i, j;
    if (rec->offset >= n) bad("a record offset past the input", rec);
    if (rec->offset > 0 && in[rec->offset - 1] != '\n' &&
        !(rec->offset == 3 && !memcmp(in, "\xef\xbb\xbf", 3)))
        bad("a record offset not at the start of a line", rec);
    for (i = 0; i < rec->nmembers; i++) {
        const pv_ndjson_member *m = &rec->members[i];
        if (!m->key.p || m->key.p[m->key.n] != '\0') bad("a key not NUL-terminated", rec);
        check_value(&m->value, rec);
        for (j = 0; j < i && i < MAX_MEMBERS_CHECKED; j++)
            if (rec->members[j].key.n == m->key.n && !memcmp(rec->members[j].key.p, m->key.p, m->key.n))
                bad("a key twice in one object", rec);
    }
}

/* An error's "fuzz.ndjson:LINE:COLUMN:" names a line of the input and a
 * column (1-based, in characters) on it, or just past its end. */
static void check_error_position(const uint8_t *in, size_t n)
{
    unsigned long long line, col, l = 1, chars = 0;
    size_t i = 0;
    if (sscanf(pv_errmsg(), "fuzz.ndjson:%llu:%llu:", &line, &col) != 2) return;
    if (line < 1 || col < 1) bad("an error at line or column 0", NULL);
    while (i < n && l < line)
        if (in[i++] == '\n') l++;
    if (l != line) bad("an error on a line past the input", NULL);
    for (; i < n && in[i] != '\n'; i++)
        if ((in[i] & 0xC0) != 0x80) chars++;
    if (col > chars + 1) bad("an error column past the end of its line", NULL);
}

static void read_all(const uint8_t *in, size_t n)
{
    pv_ndjson_reader *r = NULL;
    pv_ndjson_record rec;
    uint64_t last_line = 0, last_offset = 0;
    int rc, first = 1;
    if (pv_ndjson_open_mem(in, n, "fuzz.ndjson", &r)) {
        if (!pv_errmsg()[0]) bad("open failed without a message", NULL);
        return;
    }
    while ((rc = pv_ndjson_next(r, &rec)) == 1) {
        if (!first && (rec.line <= last_line || rec.offset <= last_offset))
            bad("line numbers or offsets do not increase", &rec);
        if (rec.line < 1) bad("line 0", &rec);
        check_record(in, n, &rec);
        last_line = rec.line;
        last_offset = rec.offset;
        first = 0;
    }
    if (rc < 0) {
        if (!pv_errmsg()[0]) bad("an error without a message", NULL);
        check_error_position(in, n);
        if (pv_ndjson_next(r, &rec) != rc) bad("an error that is not sticky", NULL);
    } else if (rc != 0) {
        bad("pv_ndjson_next returned an unknown code", NULL);
    }
    if (pv_ndjson_offset(r) > n) bad("consumed more bytes than the input has", NULL);
    pv_ndjson_close(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    read_all(data + 1, size - 1);
    fi_import(data, size, "ndjson", "in.ndjson");
    return 0;
}
