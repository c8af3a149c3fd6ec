/*
 * merge_retype.c: a side's chunk read under the merged schema when a
 * column has another type there (merge_retype.h).
 *
 * Both sides adding column y with different types is a schema conflict,
 * settled as ours has it (merge_schema.c). The rows of both sides are
 * still merged, as SQLite would store a value in a column of another
 * affinity and Dolt merges rows under a changed type: a value that
 * converts to ours' type and back unchanged is carried over; one that does
 * not (theirs' 'abc' for ours' INTEGER, 2.5 for INTEGER) is a conflict of
 * its row, never a silent change.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunkline.h"
#include "merge_retype.h"

static int differs(const pv_schema *own, const pv_schema *merged, uint32_t c)
{
    const pv_column *col = &own->cols[c];
    const char *first = pv_column_first_name(col);
    int m = pv_schema_find_history(merged, first, strlen(first));
    return m >= 0 && merged->cols[m].type != col->type && col->pk_pos < 0 && merged->cols[m].pk_pos < 0;
}

int pvgit_retype_needed(const pv_schema *own, const pv_schema *merged)
{
    uint32_t c;
    for (c = 0; own && merged && c < own->ncols; c++)
        if (differs(own, merged, c)) return 1;
    return 0;
}

/* The canonical text of a REAL (the chunk encoding's). */
static int real_text(pv_buf *b, double f)
{
    pv_value v = pv_v_real(f);
    b->len = 0;
    return pv_chunk_encode_value(b, &v);
}

/* Convert `in` to type `to` when nothing is lost: 1 and *out, 0 when it
 * cannot be, or PV_ENOMEM. Strings made are in the arena. */
static int convert(const pv_value *in, int to, pv_arena *a, pv_buf *tmp, pv_value *out)
{
    char buf[64], *end, *s;
    if (in->type == PV_NULL || in->type == to) {
        *out = *in;
        return 1;
    }
    switch (in->type * 16 + to) {
    case PV_INTEGER * 16 + PV_REAL:
        if (in->u.i < -(INT64_C(1) << 53) || in->u.i > (INT64_C(1) << 53)) return 0;
        *out = pv_v_real((double)in->u.i);
        return 1;
    case PV_REAL * 16 + PV_INTEGER:
        /* -0.0 would come back as 0.0: a change */
        if (!isfinite(in->u.f) || in->u.f != floor(in->u.f) || fabs(in->u.f) > 9.0e15 ||
            (in->u.f == 0.0 && signbit(in->u.f)))
            return 0;
        *out = pv_v_int((int64_t)in->u.f);
        return 1;
    case PV_INTEGER * 16 + PV_BOOLEAN:
        if (in->u.i != 0 && in->u.i != 1) return 0;
        *out = pv_v_bool((int)in->u.i);
        return 1;
    case PV_BOOLEAN * 16 + PV_INTEGER:
        *out = pv_v_int(in->u.i ? 1 : 0);
        return 1;
    case PV_INTEGER * 16 + PV_TEXT:
    case PV_REAL * 16 + PV_TEXT: {
        size_t n;
        if (in->type == PV_INTEGER) n = (size_t)snprintf(buf, sizeof buf, "%" PRId64, in->u.i);
        else if (real_text(tmp, in->u.f)) return PV_ENOMEM;
        else {
            if (tmp->len >= sizeof buf) return 0;
            memcpy(buf, tmp->p, n = tmp->len);
        }
        if (!(s = pv_arena_alloc(a, n + 1))) return PV_ENOMEM;
        memcpy(s, buf, n);
        s[n] = 0;
        *out = pv_v_text(s, n);
        return 1;
    }
    case PV_TEXT * 16 + PV_INTEGER:
    case PV_TEXT * 16 + PV_REAL: {
        size_t n = in->u.s.n;
        if (n == 0 || n >= sizeof buf) return 0;
        memcpy(buf, in->u.s.p, n);
        buf[n] = 0;
        errno = 0;
        if (to == PV_INTEGER) {
            long long v = strtoll(buf, &end, 10);
            char back[32];
            if (errno || *end || (size_t)snprintf(back, sizeof back, "%lld", v) != n || memcmp(back, buf, n)) return 0;
            *out = pv_v_int((int64_t)v);
            return 1;
        } else {
            double f = strtod(buf, &end);
            if (errno || *end || !isfinite(f)) return 0;
            if (real_text(tmp, f)) return PV_ENOMEM;
            if (tmp->len != n || memcmp(tmp->p, buf, n)) return 0;
            *out = pv_v_real(f);
            return 1;
        }
    }
    default:
        return 0;
    }
}

/* How the chunk's header maps to the two schemas. */
typedef struct hmap {
    uint32_t n;
    int types[PV_MAX_COLUMNS];     /* own type per header position (PV_NULL: dropped) */
    int to[PV_MAX_COLUMNS];        /* merged type per position, or -1: no conversion */
    int mcol[PV_MAX_COLUMNS];      /* merged column per position, or -1 */
    int key_types[PV_MAX_COLUMNS];
} hmap;

static int map_header(const pv_schema *own, const pv_schema *merged, const pv_chunk_rec *h, hmap *m)
{
    uint32_t i;
    if (h->nvals > PV_MAX_COLUMNS) return PV_CORRUPT("the chunk header lists too many columns");
    m->n = h->nvals;
    for (i = 0; i < h->nvals; i++) {
        int c = pv_schema_find_history(own, h->names[i], strlen(h->names[i]));
        m->types[i] = c >= 0 ? own->cols[c].type : PV_NULL;
        m->mcol[i] = pv_schema_find_history(merged, h->names[i], strlen(h->names[i]));
        m->to[i] = c >= 0 && differs(own, merged, (uint32_t)c) ? merged->cols[m->mcol[i]].type : -1;
    }
    for (i = 0; i < own->npk; i++) m->key_types[i] = own->cols[own->pk[i]].type;
    return PV_OK;
}

/* The row's key as pvgit_retype_key writes it, from header positions. */
static int bad_key(pv_buf *out, const pv_schema *merged, const hmap *m, const pv_value *vals)
{
    pv_value row[PV_MAX_COLUMNS];
    uint32_t i;
    for (i = 0; i < merged->ncols; i++) row[i] = pv_v_null();
    for (i = 0; i < m->n; i++)
        if (m->mcol[i] >= 0) row[m->mcol[i]] = vals[i];
    return pvgit_retype_key(out, merged, row);
}

/* Note a value of a row record that does not convert: its key in *bad
 * (once per row), the first such cell described in bad->first, and, when
 * `side` is set (the merge driver), a line on stderr. */
static int note_bad(const pv_schema *merged, const hmap *m, const pv_chunk_rec *r, uint32_t i, pv_buf *tmp,
                    const char *what, size_t lineno, const char *side, int *any, pvgit_retype_keys *bad)
{
    int rc;
    tmp->len = 0;
    if ((rc = bad_key(tmp, merged, m, r->vals))) return rc;
    if (side)
        fprintf(stderr, "pvdev merge-driver: table %s, column %s, key %.*s: the value on %s (%s line %zu) does not "
                "convert to %s, the type the settled schema gives it: recorded as a conflict (it reads NULL there)\n",
                merged->name, merged->cols[m->mcol[i]].name, (int)tmp->len, tmp->p, side, what, lineno,
                pv_type_name(m->to[i]));
    if (!bad->cells &&
        (rc = pv_buf_printf(&bad->first, "column %s, key %.*s (%s line %zu) does not convert to %s",
                            merged->cols[m->mcol[i]].name, (int)tmp->len, tmp->p, what, lineno,
                            pv_type_name(m->to[i]))))
        return rc;
    if (!*any && ((rc = pv_buf_append(&bad->keys, tmp->p, tmp->len)) || (rc = pv_buf_putc(&bad->keys, '\n'))))
        return rc;
    *any = 1;
    bad->cells++;
    return PV_OK;
}

/* Convert the values of one row (header positions) in place; a value that
 * does not convert becomes NULL and, when `bad` is set, is noted there. */
static int convert_vals(const pv_schema *merged, const hmap *m, pv_chunk_rec *r, uint32_t nvals, pv_value *vals,
                        pv_blobref *refs, pv_arena *a, pv_buf *tmp, const char *what, size_t lineno, const char *side,
                        pvgit_retype_keys *bad)
{
    uint32_t i;
    int ok, rc, any = 0;
    for (i = 0; i < m->n && i < nvals; i++) {
        pv_value v;
        if (m->to[i] < 0) continue;
        if (refs && refs[i].present) ok = 0; /* a value of more than 1 KiB: text only */
        else if ((ok = convert(&vals[i], m->to[i], a, tmp, &v)) < 0) return ok;
        if (ok) {
            vals[i] = v;
            continue;
        }
        if (bad && (rc = note_bad(merged, m, r, i, tmp, what, lineno, side, &any, bad))) return rc;
        vals[i] = pv_v_null();
        if (refs) refs[i].present = 0;
    }
    return PV_OK;
}

/* A conflict record with each side's row converted (a value that does not
 * convert reads NULL there: `pvdev resolve` takes the chosen side's row
 * from elsewhere, docs/GIT.md). Rows are written as row records are, refs
 * included, inside the conflict's braces. */
static int convert_conflict(const pv_schema *shape, const hmap *m, pv_chunk_rec *r, pv_arena *a, pv_buf *tmp,
                            pv_buf *out)
{
    static const char *const names[3] = {"base", "ours", "theirs"};
    pv_buf row = PV_BUF_INIT;
    uint32_t i;
    int k, rc = pv_buf_append(out, "{\"conflict\":{\"key\":[", 20);
    for (i = 0; !rc && i < shape->npk; i++) {
        if (i) rc = pv_buf_putc(out, ',');
        if (!rc) rc = pv_chunk_encode_value(out, &r->vals[i]);
    }
    if (!rc) rc = pv_buf_putc(out, ']');
    for (k = 0; k < 3 && !rc; k++) {
        if ((rc = pv_buf_printf(out, ",\"%s\":", names[k]))) break;
        if (!r->side[k]) {
            rc = pv_buf_append(out, "null", 4);
            continue;
        }
        row.len = 0;
        rc = convert_vals(NULL, m, r, m->n, r->side[k], r->side_refs[k], a, tmp, NULL, 0, NULL, NULL);
        if (!rc) rc = pv_chunk_encode_row(&row, shape, r->side[k], r->side_refs[k]);
        if (!rc) rc = pv_buf_append(out, row.p, row.len - 1); /* without its '\n' */
    }
    if (!rc) rc = pv_buf_append(out, "}}\n", 3);
    pv_buf_free(&row);
    return rc;
}

static int retype(const pv_schema *own, const pv_schema *merged, const char *text, size_t len, const char *what,
                  const char *side, pv_buf *out, pvgit_retype_keys *bad)
{
    const char *p = text, *end = text + len, *nl;
    pv_buf tmp = PV_BUF_INIT;
    pv_schema shape;
    hmap *m = calloc(1, sizeof *m);
    size_t lineno = 0;
    int rc = m ? PV_OK : pv_err(PV_ENOMEM, "out of memory");
    out->len = 0;
    for (; !rc && p < end && (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1) {
        pv_arena a = PV_ARENA_INIT;
        pv_chunk_rec r;
        lineno++;
        if (lineno == 1) {
            rc = pv_chunk_decode(p, (size_t)(nl - p), NULL, 0, NULL, 0, &a, &r);
            if (!rc) rc = pv_chunk_check_place(&r, 1);
            if (!rc) rc = map_header(own, merged, &r, m);
            if (!rc) rc = pv_buf_append(out, p, (size_t)(nl - p) + 1);
        } else {
            rc = pv_chunk_decode(p, (size_t)(nl - p), m->types, m->n, m->key_types, own->npk, &a, &r);
            shape = *merged;
            shape.ncols = m->n; /* the encoder takes only the count (and the key for conflicts) */
            shape.npk = own->npk;
            if (!rc && r.kind == PV_REC_HEADER) { /* a continuation header: the columns after it */
                if (!(rc = pv_chunk_check_place(&r, 0)) && !(rc = map_header(own, merged, &r, m)))
                    rc = pv_buf_append(out, p, (size_t)(nl - p) + 1);
            } else if (!rc && r.kind == PV_REC_ROW) {
                rc = convert_vals(merged, m, &r, r.nvals, r.vals, r.refs, &a, &tmp, what, lineno, side, bad);
                if (!rc) rc = pv_chunk_encode_row(out, &shape, r.vals, r.refs);
            } else if (!rc && r.kind == PV_REC_CONFLICT) {
                rc = convert_conflict(&shape, m, &r, &a, &tmp, out);
            } else if (!rc) {
                rc = pv_buf_append(out, p, (size_t)(nl - p) + 1);
            }
        }
        if (rc && rc != PV_ENOMEM) pv_err_prefix("%s line %zu", what, lineno);
        pv_arena_free(&a);
    }
    if (!rc && p < end) rc = pv_buf_append(out, p, (size_t)(end - p)); /* a torn last line stays torn */
    pv_buf_free(&tmp);
    free(m);
    return rc;
}

int pvgit_retype_chunk(const pv_schema *own, const pv_schema *merged, const char *text, size_t len,
                       const char *what, const char *side, pv_buf *out, pvgit_retype_keys *bad)
{
    return retype(own, merged, text, len, what, side, out, bad);
}

int pvgit_retype_chunk_quiet(const pv_schema *own, const pv_schema *merged, const char *text, size_t len,
                             const char *what, pv_buf *out, pvgit_retype_keys *bad)
{
    return retype(own, merged, text, len, what, NULL, out, bad);
}

int pvgit_retype_key(pv_buf *out, const pv_schema *s, const pv_value *row)
{
    uint32_t k;
    int rc = PV_OK;
    for (k = 0; k < s->npk && !rc; k++) {
        if (k) rc = pv_buf_putc(out, ',');
        if (!rc) rc = pv_chunk_encode_value(out, &row[s->pk[k]]);
    }
    return rc;
}

int pvgit_keys_has(const pv_buf *list, const char *key, size_t n)
{
    const char *p = list ? list->p : NULL, *end = p ? p + list->len : NULL;
    while (p && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        if ((size_t)(nl - p) == n && memcmp(p, key, n) == 0) return 1;
        p = nl + 1;
    }
    return 0;
}

int pvgit_retype_has(const pvgit_retype_keys *bad, const pv_schema *s, const pv_value *row)
{
    pv_buf key = PV_BUF_INIT;
    int found = 0;
    if (bad && bad->keys.len && !pvgit_retype_key(&key, s, row)) found = pvgit_keys_has(&bad->keys, key.p, key.len);
    pv_buf_free(&key);
    return found;
}

void pvgit_retype_keys_free(pvgit_retype_keys *bad)
{
    pv_buf_free(&bad->keys);
    pv_buf_free(&bad->first);
    bad->cells = 0;
}
