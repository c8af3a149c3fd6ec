/*
 * ws_maint.c: keeping a workspace tidy: `pvdev compact` (rewrite tables to
 * their live rows) and `pvdev gc` (remove blobs no record refers to).
 * Both hold the writer lock for their whole run.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "blobstore.h"
#include "ws_internal.h"

/* ---- compact ------------------------------------------------------------------
 *
 * A compaction keeps, in each chunk, the records that are the last of their
 * key and still a row; every other record (a version superseded later, a
 * delete, with the rows it deleted) goes. Each chunk that loses a record is
 * rewritten under its own name, its lines in their order, under a header
 * of version 2 naming the bytes it replaced; no chunk is removed or
 * renamed. So a branch that appended to a chunk this one rewrote meets it
 * in a modify/modify, which git hands to the merge driver (docs/GIT.md,
 * "Compacting and merging"). */

#define NO_SLOT UINT32_MAX
#define HEADER_SLOT (UINT32_MAX - 1) /* a continuation header: it stays */

void ws_compact_free(ws_compact *c)
{
    size_t i;
    if (!c) return;
    for (i = 0; i < c->n; i++) pv_buf_free(&c->files[i].bytes);
    free(c->files);
    free(c);
}

static int add_file(ws_compact *c, uint32_t num, int created, pv_buf *bytes)
{
    ws_compact_file *g = realloc(c->files, (c->n + 1) * sizeof *g);
    if (!g) return pv_err(PV_ENOMEM, "out of memory");
    c->files = g;
    g[c->n].num = num;
    g[c->n].created = created;
    g[c->n].bytes = *bytes; /* taken */
    memset(bytes, 0, sizeof *bytes);
    c->n++;
    return PV_OK;
}

/* The snapshot's bytes of chunk index c (whole lines: the load cut a torn
 * tail off already). */
static int chunk_text(pv_ws *ws, ws_table *t, size_t c, char **text, size_t *len)
{
    char rel[PV_MAX_TABLE_NAME + 32];
    int rc;
    ws_chunk_rel(rel, sizeof rel, t, t->snap_num[c]);
    if ((rc = ws->rd.read(ws->rd.ctx, rel, (size_t)1 << 30, text, len))) {
        if (rc != PV_ENOMEM) pv_err_prefix("'%s/%s'", ws->pvdir, rel);
        return rc;
    }
    if (*len > t->snap_size[c]) *len = (size_t)t->snap_size[c];
    if (*len && (*text)[*len - 1] != '\n')
        return pv_err(PV_ECORRUPT, "'%s/%s': the last line has no newline; run 'pvdev fsck'", ws->pvdir, rel);
    return PV_OK;
}

/* A chunk's header line decoded: its names (in `a`), the type of each
 * position and where each key part is (-1: not listed). */
typedef struct hmap {
    pv_chunk_rec h;
    int types[PV_MAX_COLUMNS];
    int keypos[PV_MAX_COLUMNS];
} hmap;

static int map_header(const ws_table *t, const char *line, size_t len, pv_arena *a, hmap *m)
{
    const pv_schema *s = t->schema;
    uint32_t i, k;
    int rc = pv_chunk_decode(line, len, NULL, 0, NULL, 0, a, &m->h);
    if (rc) return rc;
    if (m->h.kind != PV_REC_HEADER) return PV_CORRUPT("the first line must be the chunk header {\"pv\":...}");
    for (k = 0; k < s->npk; k++) m->keypos[k] = -1;
    for (i = 0; i < m->h.nvals && i < PV_MAX_COLUMNS; i++) {
        int c = pv_schema_find_history(s, m->h.names[i], strlen(m->h.names[i]));
        if (c == PV_SCHEMA_DROPPED) {
            m->types[i] = PV_NULL;
            continue;
        }
        if (c < 0)
            return PV_CORRUPT("the chunk header names column '%s', which table %s does not have", m->h.names[i],
                              s->name);
        m->types[i] = s->cols[c].type;
        if (s->cols[c].pk_pos >= 0) m->keypos[s->cols[c].pk_pos] = (int)i;
    }
    return PV_OK;
}

/* The key of a row or delete record, into row's key columns (stored
 * values fetched: the loaded rows hold them whole). */
static int record_key(pv_ws *ws, const ws_table *t, const hmap *m, const pv_chunk_rec *r, pv_arena *a,
                      pv_value *row)
{
    const pv_schema *s = t->schema;
    uint32_t k;
    int rc;
    for (k = 0; k < s->npk; k++) {
        int pos = r->kind == PV_REC_DELETE ? (int)k : m->keypos[k];
        const pv_column *col = &s->cols[s->pk[k]];
        pv_value v = col->dflt ? *col->dflt : pv_v_null();
        if (pos >= 0 && (uint32_t)pos < r->nvals) {
            v = r->vals[pos];
            if (r->refs && r->refs[pos].present) {
                pv_str str;
                if ((rc = pv_blob_get(&ws->rd, &r->refs[pos], a, &str))) return rc;
                v.type = col->type;
                v.u.s = str;
            }
        }
        row[s->pk[k]] = v;
    }
    return PV_OK;
}

typedef struct scan {
    uint64_t *last;    /* per row slot: chunk index << 32 | line of its key's last record */
    uint32_t **slot;   /* per chunk, per line (0: the header): its key's row slot, or NO_SLOT */
} scan;

/* Pass 1 over chunk index c: each record's key slot, and each key's last
 * record so far. */
static int scan_chunk(pv_ws *ws, ws_table *t, size_t c, scan *sc)
{
    const pv_schema *s = t->schema;
    pv_arena a = PV_ARENA_INIT, ha = PV_ARENA_INIT;
    char *text = NULL;
    const char *p, *end;
    size_t len = 0, n = 0, line;
    int ktypes[PV_MAX_COLUMNS];
    hmap m;
    uint32_t k;
    int rc = chunk_text(ws, t, c, &text, &len);
    for (k = 0; k < s->npk; k++) ktypes[k] = s->cols[s->pk[k]].type;
    for (p = text, end = text + len; !rc && p < end; p = (const char *)memchr(p, '\n', (size_t)(end - p)) + 1) n++;
    if (!rc && !(sc->slot[c] = malloc((n + 1) * sizeof **sc->slot))) rc = pv_err(PV_ENOMEM, "out of memory");
    for (p = text, end = text + len, line = 0; !rc && p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        pv_chunk_rec r;
        pv_value row[PV_MAX_COLUMNS];
        long at;
        sc->slot[c][line] = NO_SLOT;
        if (line == 0) {
            if (!(rc = map_header(t, p, (size_t)(nl - p), &ha, &m)))
                rc = pv_chunk_check_place(&m.h, 1);
        } else if (!(rc = pv_chunk_decode(p, (size_t)(nl - p), m.types, m.h.nvals, ktypes, s->npk, &a, &r))) {
            if (r.kind == PV_REC_HEADER) {
                /* a continuation header: the columns of the lines after it */
                if (!(rc = pv_chunk_check_place(&r, 0)) && !(rc = map_header(t, p, (size_t)(nl - p), &ha, &m)))
                    sc->slot[c][line] = HEADER_SLOT;
            } else if (r.kind == PV_REC_CONFLICT) rc = PV_CORRUPT("a conflict record (resolve it first)");
            else if (!(rc = record_key(ws, t, &m, &r, &a, row)) &&
                     (at = ws_key_find(t, row, ws_key_hash(s, row))) >= 0) {
                sc->slot[c][line] = (uint32_t)at;
                sc->last[at] = (uint64_t)c << 32 | line;
            }
        }
        if (rc && rc != PV_ENOMEM) {
            char rel[PV_MAX_TABLE_NAME + 32];
            ws_chunk_rel(rel, sizeof rel, t, t->snap_num[c]);
            pv_err_prefix("'%s/%s' line %zu", ws->pvdir, rel, line + 1);
        }
        pv_arena_reset(&a);
        p = nl + 1;
    }
    pv_arena_free(&a);
    pv_arena_free(&ha);
    free(text);
    return rc;
}

/* Pass 2 over chunk index c: its lines that stay. A chunk that loses a
 * line is planned anew: the version 2 header, naming the bytes it
 * replaces, then the lines kept, in their order (its continuation headers
 * all stay, so each row keeps the columns it was written under). *kept
 * counts the rows kept. */
static int plan_chunk(pv_ws *ws, ws_table *t, size_t c, const scan *sc, ws_compact *out, size_t *kept)
{
    pv_arena ha = PV_ARENA_INIT;
    pv_buf b = PV_BUF_INIT;
    char *text = NULL;
    const char *p, *end;
    size_t len = 0, line, dropped = 0;
    hmap m;
    int rc = chunk_text(ws, t, c, &text, &len);
    for (p = text, end = text + len, line = 0; !rc && p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *q = p;
        uint32_t slot = sc->slot[c][line];
        if (line == 0) {
            if (!(rc = map_header(t, p, (size_t)(nl - p), &ha, &m)))
                rc = pv_chunk_encode_header_compacted(&b, m.h.names, m.h.nvals, XXH3_64bits(text, len));
        } else if (slot == HEADER_SLOT) {
            rc = pv_buf_append(&b, p, (size_t)(nl - p) + 1);
        } else if (slot != NO_SLOT && t->live[slot] && sc->last[slot] == ((uint64_t)c << 32 | line)) {
            while (q < nl && (*q == ' ' || *q == '\t')) q++;
            if (*q != '[') /* a live key's last record is a row: the load says so */
                rc = PV_CORRUPT("table %s: chunk %u line %zu: a live row's last record is not a row", t->schema->name,
                                t->snap_num[c], line + 1);
            else rc = pv_buf_append(&b, p, (size_t)(nl - p) + 1);
            (*kept)++;
        } else {
            dropped++;
        }
        p = nl + 1;
    }
    if (!rc && dropped) {
        /* The newest chunk stays sealed when it was: a branch that forked
         * since appends to the next number, and so do we, so that both
         * add that file and git drives it (whatever its columns: records
         * go to an open chunk of other columns too, behind a continuation
         * header). */
        if (c + 1 == t->snap_n && len >= PV_CHUNK_SEAL_BYTES && b.len < PV_CHUNK_SEAL_BYTES) {
            pv_buf next = PV_BUF_INIT;
            rc = add_file(out, t->snap_num[c], 0, &b);
            if (!rc) rc = pv_chunk_encode_header(&next, t->schema);
            if (!rc) rc = add_file(out, t->snap_num[c] + 1, 1, &next);
            pv_buf_free(&next);
        } else {
            rc = add_file(out, t->snap_num[c], 0, &b);
        }
    }
    pv_buf_free(&b);
    pv_arena_free(&ha);
    free(text);
    return rc;
}

/* The compaction of loaded table t (no conflict records): *out, NULL when
 * no chunk would change. */
static int compact_plan(pv_ws *ws, ws_table *t, ws_compact **out)
{
    scan sc;
    ws_compact *plan = calloc(1, sizeof *plan);
    size_t c, kept = 0;
    int rc = PV_OK;
    *out = NULL;
    sc.last = malloc((t->nrows + 1) * sizeof *sc.last);
    sc.slot = calloc(t->snap_n + 1, sizeof *sc.slot);
    if (!plan || !sc.last || !sc.slot) rc = pv_err(PV_ENOMEM, "out of memory");
    if (!rc) memset(sc.last, 0xff, (t->nrows + 1) * sizeof *sc.last);
    for (c = 0; c < t->snap_n && !rc; c++) rc = scan_chunk(ws, t, c, &sc);
    for (c = 0; c < t->snap_n && !rc; c++) rc = plan_chunk(ws, t, c, &sc, plan, &kept);
    /* every live row kept once, nothing else: the replay of the new
     * chunks is the table as it is */
    if (!rc && kept != t->nlive)
        rc = PV_CORRUPT("table %s: a compaction would keep %zu rows of %zu", t->schema->name, kept, t->nlive);
    for (c = 0; sc.slot && c < t->snap_n; c++) free(sc.slot[c]);
    free(sc.slot);
    free(sc.last);
    if (!rc && plan->n) *out = plan;
    else ws_compact_free(plan);
    return rc;
}

int pv_ws_compact(pv_ws *ws, const char *table, size_t *tables)
{
    uint32_t i;
    int rc, any = 0;
    *tables = 0;
    if ((rc = pv_ws_check_writable(ws))) return rc;
    if (ws->txn.open) return pv_err(PV_EMISUSE, "compact cannot run inside a transaction");
    if ((rc = pv_ws_begin(ws))) return rc;
    for (i = 0; i < ws->ntables && !rc; i++) {
        ws_table *t = ws->tables[i];
        ws_compact *plan = NULL;
        if (table && !pv_ident_eq(t->schema->name, strlen(t->schema->name), table, strlen(table))) continue;
        any = 1;
        if ((rc = ws_table_load(ws, t))) break;
        if (t->nconflicts) {
            rc = pv_err(PV_ECONSTRAINT, "table %s has unresolved merge conflicts (see 'pvdev conflicts')",
                        t->schema->name);
            break;
        }
        if (!t->snap_n) continue; /* nothing written yet */
        if ((rc = compact_plan(ws, t, &plan)) || !plan) continue; /* nothing to drop */
        if ((rc = ws_txn_log(ws, WS_UNDO_COMPACT, t, NULL))) {
            ws_compact_free(plan);
            break;
        }
        t->txn_compact = plan;
        (*tables)++;
    }
    if (!rc && table && !any) rc = pv_err(PV_ENOTFOUND, "no such table: %s", table);
    if (rc) {
        pv_ws_rollback(ws);
        return rc;
    }
    return pv_ws_commit(ws);
}

/* ---- gc ------------------------------------------------------------------ */

static int hex_cmp(const void *a, const void *b) { return memcmp(a, b, 64); }

typedef struct refset {
    char (*hex)[64];
    size_t n, cap;
} refset;

static int add_ref(refset *r, const char *hex)
{
    if (r->n == r->cap) {
        char(*g)[64] = realloc(r->hex, (r->cap = r->cap ? r->cap * 2 : 256) * sizeof *g);
        if (!g) return pv_err(PV_ENOMEM, "out of memory");
        r->hex = g;
    }
    memcpy(r->hex[r->n++], hex, 64);
    return PV_OK;
}

static int add_refs(refset *r, const pv_blobref *refs, uint32_t n)
{
    uint32_t i;
    int rc = PV_OK;
    for (i = 0; refs && i < n && !rc; i++)
        if (refs[i].present) rc = add_ref(r, refs[i].hex);
    return rc;
}

/* Every blob any line of the table's chunks refers to, history included. */
static int table_refs(pv_ws *ws, ws_table *t, refset *set)
{
    int types[PV_MAX_COLUMNS], ktypes[PV_MAX_COLUMNS];
    uint32_t ntypes = 0, k;
    size_t c;
    int rc = PV_OK;
    for (k = 0; k < t->schema->npk; k++) ktypes[k] = t->schema->cols[t->schema->pk[k]].type;
    for (c = 0; c < t->snap_n && !rc; c++) {
        char rel[PV_MAX_TABLE_NAME + 32], *text = NULL;
        const char *p, *end;
        size_t len;
        ws_chunk_rel(rel, sizeof rel, t, t->snap_num[c]);
        if ((rc = ws->rd.read(ws->rd.ctx, rel, (size_t)1 << 30, &text, &len))) break;
        for (p = text, end = text + len; p < end && !rc;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            pv_arena a = PV_ARENA_INIT;
            pv_chunk_rec r;
            if (!nl) break;
            if (pv_chunk_decode(p, (size_t)(nl - p), types, ntypes, ktypes, t->schema->npk, &a, &r) == PV_OK) {
                if (r.kind == PV_REC_HEADER) {
                    for (k = 0; k < r.nvals && k < PV_MAX_COLUMNS; k++) {
                        int col = pv_schema_find_history(t->schema, r.names[k], strlen(r.names[k]));
                        types[k] = col >= 0 ? t->schema->cols[col].type : PV_NULL;
                    }
                    ntypes = r.nvals < PV_MAX_COLUMNS ? r.nvals : PV_MAX_COLUMNS;
                } else {
                    rc = add_refs(set, r.refs, r.nvals);
                    for (k = 0; k < 3 && !rc; k++) rc = add_refs(set, r.side_refs[k], r.nvals);
                }
            } else {
                /* a line gc cannot read could refer to anything: keep every blob */
                rc = pv_err(PV_ECORRUPT, "'%s/%s': a line does not decode (%s); run 'pvdev fsck' first",
                            ws->pvdir, rel, pv_errmsg());
            }
            pv_arena_free(&a);
            p = nl + 1;
        }
        free(text);
    }
    return rc;
}

static int sweep(pv_ws *ws, const refset *set, size_t *removed, uint64_t *bytes)
{
    char **dirs = NULL, **files = NULL;
    size_t nd = 0, nf, i, k;
    int rc = ws->rd.list(ws->rd.ctx, "blobs", &dirs, &nd);
    for (i = 0; i < nd && !rc; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "blobs/%.2s", dirs[i]);
        if (strlen(dirs[i]) != 2 || (rc = ws->rd.list(ws->rd.ctx, rel, &files, &nf))) continue;
        for (k = 0; k < nf && !rc; k++) {
            char hex[64], path[4400];
            struct stat st;
            if (strlen(files[k]) != 62 || strspn(files[k], "0123456789abcdef") != 62) continue;
            memcpy(hex, dirs[i], 2);
            memcpy(hex + 2, files[k], 62);
            if (bsearch(hex, set->hex, set->n, 64, hex_cmp)) continue;
            snprintf(path, sizeof path, "%s/%s/%s", ws->pvdir, rel, files[k]);
            if (lstat(path, &st) == 0) *bytes += (uint64_t)st.st_size;
            if (unlink(path) != 0 && errno != ENOENT) rc = pv_err_errno("cannot remove '%s'", path);
            else (*removed)++;
        }
        pv_names_free(files, nf);
    }
    pv_names_free(dirs, nd);
    return rc;
}

int pv_ws_gc(pv_ws *ws, size_t *removed, uint64_t *bytes)
{
    refset set = {NULL, 0, 0};
    uint32_t i;
    int rc;
    *removed = 0;
    *bytes = 0;
    if ((rc = pv_ws_check_writable(ws))) return rc;
    if (ws->txn.open) return pv_err(PV_EMISUSE, "gc cannot run inside a transaction");
    /* the writer lock: a writer stores a blob before the row that refers to
     * it is committed, and must not lose it meanwhile */
    if ((rc = pv_ws_begin(ws))) return rc;
    for (i = 0; i < ws->ntables && !rc; i++) rc = table_refs(ws, ws->tables[i], &set);
    if (!rc) {
        qsort(set.hex, set.n, 64, hex_cmp);
        rc = sweep(ws, &set, removed, bytes);
    }
    free(set.hex);
    pv_ws_rollback(ws); /* nothing to commit: only files no record names went */
    return rc;
}
