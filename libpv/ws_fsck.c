/*
 * ws_fsck.c: checking a workspace without trusting it (`pvdev fsck`).
 *
 * Unlike the loader, which stops at the first problem, the check goes on and
 * reports every one, each naming its file and line: the layout version,
 * every schema, every chunk line (header first and only first, records that
 * decode with the right types, keys without NULL, no conflict markers or
 * records, a final newline), every blob reference (the file exists, its
 * size and SHA-256 match) and every blob file (named by its digest).
 * Then, on the rows the chunks hold, every unique index (no two live rows
 * share a value: a git merge can break that) and index names (unique in
 * the workspace).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobstore.h"
#include "schema_file.h"
#include "ws_index.h"
#include "ws_internal.h"

typedef struct fsck {
    pv_ws_reader rd;
    pv_fsck_report report;
    void *ctx;
    pv_fsck_stats *st;
} fsck;

/* A file as messages name it: '.pv/x' in the work tree, 'REV:.pv/x' in git. */
static const char *shown(const fsck *f, const char *rel, char *buf, size_t cap)
{
    if (!strcmp(f->rd.label, "worktree")) snprintf(buf, cap, "'.pv/%s'", rel);
    else snprintf(buf, cap, "'%s:.pv/%s'", f->rd.label, rel);
    return buf;
}

static void problem(fsck *f, const char *fmt, ...) PV_PRINTF(2, 3);
static void problem(fsck *f, const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    f->st->problems++;
    f->report(f->ctx, msg);
}

/* A blob reference: the file must exist with that size and digest. */
static void check_ref(fsck *f, const pv_blobref *r, const char *where)
{
    pv_arena a = PV_ARENA_INIT;
    pv_str s;
    f->st->refs++;
    if (pv_blob_get(&f->rd, r, &a, &s) != PV_OK) problem(f, "%s: %s", where, pv_errmsg());
    pv_arena_free(&a);
}

static void check_refs(fsck *f, const pv_blobref *refs, uint32_t n, const char *where)
{
    uint32_t i;
    for (i = 0; refs && i < n; i++)
        if (refs[i].present) check_ref(f, &refs[i], where);
}

/* Header names mapped to the schema's column types; 0 when the header
 * itself is bad (reported). */
static int map_types(fsck *f, const pv_schema *s, const pv_chunk_rec *h, int *types, const char *where)
{
    uint32_t i;
    int ok = 1;
    for (i = 0; i < h->nvals; i++) {
        int c = pv_schema_find_history(s, h->names[i], strlen(h->names[i]));
        if (c == PV_SCHEMA_DROPPED) types[i] = PV_NULL;
        else if (c >= 0) types[i] = s->cols[c].type;
        else {
            problem(f, "%s: the header names column '%s', which table %s does not have", where, h->names[i], s->name);
            ok = 0;
        }
    }
    return ok;
}

static void check_line(fsck *f, const pv_schema *s, const char *p, size_t len, size_t lineno, int *types,
                       uint32_t *ntypes, const int *ktypes, const char *path)
{
    char where[1100];
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec r;
    int k;
    snprintf(where, sizeof where, "%s line %zu", path, lineno);
    f->st->records++;
    if (len >= 7 && (!memcmp(p, "<<<<<<<", 7) || !memcmp(p, "=======", 7) || !memcmp(p, ">>>>>>>", 7))) {
        problem(f, "%s: git conflict marker (the pv merge driver was not used: run 'pvdev git-setup')", where);
        return;
    }
    if (pv_chunk_decode(p, len, types, *ntypes, ktypes, s->npk, &a, &r) != PV_OK) {
        problem(f, "%s: %s", where, pv_errmsg());
    } else if (pv_chunk_check_place(&r, lineno == 1) != PV_OK) {
        problem(f, "%s: %s", where, pv_errmsg());
    } else if (r.kind == PV_REC_HEADER) { /* the first line, or a continuation header */
        if (r.nvals > PV_MAX_COLUMNS || !map_types(f, s, &r, types, where)) *ntypes = 0;
        else *ntypes = r.nvals;
    } else if (r.kind == PV_REC_CONFLICT) {
        f->st->conflicts++;
        problem(f, "%s: unresolved merge conflict (see 'pvdev conflicts')", where);
    } else {
        check_refs(f, r.refs, r.nvals, where);
    }
    for (k = 0; r.kind == PV_REC_CONFLICT && k < 3; k++) check_refs(f, r.side_refs[k], r.nvals, where);
    pv_arena_free(&a);
}

static void check_chunk(fsck *f, const pv_schema *s, const char *rel, int newest)
{
    char *text = NULL, path[1024];
    int *types = malloc((PV_MAX_COLUMNS + 1) * sizeof *types), ktypes[PV_MAX_COLUMNS];
    uint32_t ntypes = 0, k;
    size_t len, lineno = 0;
    const char *p, *end;
    shown(f, rel, path, sizeof path);
    f->st->chunks++;
    if (!types) {
        problem(f, "%s: out of memory", path);
        return;
    }
    for (k = 0; k < s->npk; k++) ktypes[k] = s->cols[s->pk[k]].type;
    if (f->rd.read(f->rd.ctx, rel, (size_t)1 << 30, &text, &len) != PV_OK) {
        problem(f, "%s: %s", path, pv_errmsg());
        free(types);
        return;
    }
    if (!len) problem(f, "%s: empty (a chunk starts with its header)", path);
    for (p = text, end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        lineno++;
        if (!nl) {
            problem(f, "%s line %zu: no final newline (%s)", path, lineno,
                    newest ? "an interrupted write: a writable open cuts it" : "and this is not the newest chunk");
            break;
        }
        check_line(f, s, p, (size_t)(nl - p), lineno, types, &ntypes, ktypes, path);
        p = nl + 1;
    }
    free(types);
    free(text);
}

static void check_table(fsck *f, const char *name)
{
    char rel[300], *text = NULL, **names = NULL;
    size_t len, n = 0, i;
    pv_schema *s = NULL;
    unsigned newest = 0;
    f->st->tables++;
    snprintf(rel, sizeof rel, "tables/%s/schema.jsonl", name);
    if (f->rd.read(f->rd.ctx, rel, 16u << 20, &text, &len) != PV_OK ||
        pv_schema_decode(text, len, name, rel, &s) != PV_OK) {
        char where[1024];
        problem(f, "%s: %s", shown(f, rel, where, sizeof where), pv_errmsg());
        free(text);
        return;
    }
    free(text);
    snprintf(rel, sizeof rel, "tables/%s", name);
    if (f->rd.list(f->rd.ctx, rel, &names, &n) != PV_OK) {
        problem(f, "%s: %s", rel, pv_errmsg());
        pv_schema_free(s);
        return;
    }
    for (i = 0; i < n; i++) {
        unsigned num = pv_chunk_file_number(names[i]);
        if (num > newest) newest = num;
    }
    for (i = 0; i < n; i++) {
        unsigned num = pv_chunk_file_number(names[i]);
        snprintf(rel, sizeof rel, "tables/%s/%s", name, names[i]);
        if (num) check_chunk(f, s, rel, num == newest);
        else if (strcmp(names[i], "schema.jsonl") != 0) {
            char where[1024];
            problem(f, "%s: not a file of the workspace layout", shown(f, rel, where, sizeof where));
        }
    }
    pv_names_free(names, n);
    pv_schema_free(s);
}

/* Every blob file is named by the SHA-256 of its bytes. */
static void check_blob_files(fsck *f)
{
    char **dirs = NULL, **files = NULL;
    size_t nd = 0, nf, i, k;
    if (f->rd.list(f->rd.ctx, "blobs", &dirs, &nd) != PV_OK) return;
    for (i = 0; i < nd; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "blobs/%.2s", dirs[i]);
        if (strlen(dirs[i]) != 2 || f->rd.list(f->rd.ctx, rel, &files, &nf) != PV_OK) {
            char where[1024];
            problem(f, "%s: not a blob directory", shown(f, rel, where, sizeof where));
            continue;
        }
        for (k = 0; k < nf; k++) {
            pv_blobref r;
            uint64_t size = 0;
            char path[128];
            snprintf(path, sizeof path, "blobs/%s/%s", dirs[i], files[k]);
            if (strlen(files[k]) != 62 || strspn(files[k], "0123456789abcdef") != 62) {
                char where[1024];
                if (files[k][0] != '.') problem(f, "%s: not a blob file name", shown(f, path, where, sizeof where));
                continue;
            }
            f->st->blobs++;
            snprintf(r.hex, sizeof r.hex, "%s%s", dirs[i], files[k]);
            r.present = 1;
            if (f->rd.size(f->rd.ctx, path, &size) != PV_OK) continue;
            r.size = size;
            check_ref(f, &r, path);
            f->st->refs--; /* a file, not a reference */
        }
        pv_names_free(files, nf);
    }
    pv_names_free(dirs, nd);
}

/* The primary key of a row slot, or its index key, as chunk text. */
static void cols_text(pv_buf *b, const pv_value *row, const uint32_t *cols, uint32_t n)
{
    uint32_t k;
    for (k = 0; k < n; k++) {
        if (k) pv_buf_putc(b, ',');
        pv_chunk_encode_value(b, &row[cols[k]]);
    }
}

/* Every live row sharing a unique index's value with an earlier row is one
 * problem, naming both keys and the value. */
static void check_unique_rows(fsck *f, ws_table *t, uint32_t i)
{
    const pv_schema *s = t->schema;
    const pv_index_def *x = &s->indexes[i];
    char rel[300], where[1024];
    size_t r;
    snprintf(rel, sizeof rel, "tables/%s", s->name);
    for (r = 0; r < t->nrows; r++) {
        const pv_value *row = &t->vals[r * s->ncols];
        ws_index_iter it;
        long other, first = -1;
        if (!t->live[r] || ws_index_key_null(x, row)) continue;
        ws_index_iter_init(&it, t, i, row, ws_index_hash(x, row));
        while ((other = ws_index_iter_next(&it)) >= 0)
            if ((size_t)other < r && (first < 0 || other < first)) first = other;
        if (first >= 0) {
            pv_buf a = PV_BUF_INIT, b = PV_BUF_INIT, v = PV_BUF_INIT;
            /* the pair in key order */
            int swap = ws_index_pk_cmp(t, (size_t)first, r) > 0;
            cols_text(swap ? &b : &a, &t->vals[(size_t)first * s->ncols], s->pk, s->npk);
            cols_text(swap ? &a : &b, row, s->pk, s->npk);
            cols_text(&v, row, x->cols, x->ncols);
            problem(f, "%s: unique index %s: the rows with keys %s and %s share the value %s (delete one with "
                    "SQL, or drop the index)", shown(f, rel, where, sizeof where), x->name, a.p ? a.p : "?",
                    b.p ? b.p : "?", v.p ? v.p : "?");
            pv_buf_free(&a);
            pv_buf_free(&b);
            pv_buf_free(&v);
        }
    }
}

/* Index rules that need the rows, or more than one schema file. Tables
 * whose files have problems were reported already: they are skipped. */
static void check_indexes(fsck *f)
{
    pv_ws *ws;
    uint32_t i, j, k;
    if (pv_ws_open_reader(&f->rd, &ws) != PV_OK) return;
    for (i = 0; i < ws->ntables; i++) {
        ws_table *t = ws->tables[i];
        const pv_schema *s = t->schema;
        char rel[300], where[1024];
        snprintf(rel, sizeof rel, "tables/%s/schema.jsonl", s->name);
        for (k = 0; k < s->nindexes; k++)
            for (j = 0; j < i; j++)
                if (pv_schema_find_index(ws->tables[j]->schema, s->indexes[k].name, strlen(s->indexes[k].name)) >= 0)
                    problem(f, "%s: index name %s is also an index of table %s (names are unique in a workspace)",
                            shown(f, rel, where, sizeof where), s->indexes[k].name, ws->tables[j]->schema->name);
        for (k = 0; k < s->nindexes; k++) {
            if (!s->indexes[k].unique) continue;
            if (ws_table_load(ws, t) != PV_OK || ws_index_ready(t) != PV_OK) break;
            check_unique_rows(f, t, k);
        }
    }
    pv_ws_close(ws);
}

int pv_ws_check_unique(pv_ws *ws, const char *table, pv_fsck_report report, void *ctx, pv_fsck_stats *st)
{
    fsck f;
    ws_table *t = ws_find(ws, table);
    uint32_t k;
    int rc;
    memset(st, 0, sizeof *st);
    if (!t) return pv_err(PV_ENOTFOUND, "no such table: %s", table);
    f.rd = ws->rd;
    f.report = report;
    f.ctx = ctx;
    f.st = st;
    for (k = 0; k < t->schema->nindexes; k++) {
        if (!t->schema->indexes[k].unique) continue;
        if ((rc = ws_table_load(ws, t)) || (rc = ws_index_ready(t))) return rc;
        check_unique_rows(&f, t, k);
    }
    return PV_OK;
}

int pv_ws_fsck(const pv_ws_reader *r, pv_fsck_report report, void *ctx, pv_fsck_stats *st)
{
    fsck f;
    char *text = NULL, **names = NULL;
    size_t len, n = 0, i;
    int ver = 0;
    memset(st, 0, sizeof *st);
    f.rd = *r;
    f.report = report;
    f.ctx = ctx;
    f.st = st;
    if (r->read(r->ctx, "format", 4096, &text, &len) != PV_OK) return pv_err(PV_ENOTFOUND, "no workspace: %s", pv_errmsg());
    if (sscanf(text, "picovolt-workspace %d", &ver) != 1 || ver < 1 || ver > WS_FORMAT_MAX)
        problem(&f, "'%s:.pv/format': not layout version 1 to %d", r->label, WS_FORMAT_MAX); /* rare: keep it plain */
    free(text);
    if (r->list(r->ctx, "tables", &names, &n) != PV_OK) return pv_err(PV_EIO, "cannot list tables: %s", pv_errmsg());
    for (i = 0; i < n; i++) {
        if (!pv_table_name_ok(names[i], strlen(names[i]))) {
            char rel[300], where[1024];
            snprintf(rel, sizeof rel, "tables/%s", names[i]);
            problem(&f, "%s: not a valid table name", shown(&f, rel, where, sizeof where));
            continue;
        }
        check_table(&f, names[i]);
    }
    pv_names_free(names, n);
    check_blob_files(&f);
    check_indexes(&f);
    return PV_OK;
}
