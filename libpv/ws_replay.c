/*
 * ws_replay.c: replaying a table's chunk files into its rows (the last
 * record of a key wins), on several threads.
 *
 * Reading a chunk, hashing it for the checkpoint and decoding its JSON
 * lines is most of a load, and each chunk can be done on its own: worker
 * threads (and the applying thread, while it would wait) take chunks in
 * order, a bounded window ahead, and decode each into an array of records.
 * One thread applies the decoded chunks strictly in chunk order, record by
 * record, with the same code a one-thread replay runs, so later records
 * supersede earlier ones, deletes and tombstones, conflict records and
 * schema changes between chunks behave exactly as before, and the result
 * never depends on the thread count. A failure is reported as the serial
 * replay would: the records before it are applied first, so an earlier
 * error (in an earlier chunk or line) wins.
 *
 * A chunk over PAR_MAX_BYTES (not something pvdev writes: chunks are
 * sealed at 1 MiB) is decoded by the applying thread line by line as it is
 * applied, so memory stays bounded by the window.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blobstore.h"
#include "ws_ckpt.h"
#include "ws_replay.h"

/* A chunk file is read whole; bigger than this is not something we wrote. */
#define CHUNK_MAX_BYTES ((size_t)1 << 30)
/* Chunks larger than this are decoded while applied, not ahead. */
#define PAR_MAX_BYTES ((size_t)16 << 20)
/* Decoded chunks ready ahead of the one being applied, per thread. */
#define WINDOW_PER_THREAD 3

/* ---- chunk headers ------------------------------------------------------- */

/* Column types by position of a chunk header, mapped to the schema by name
 * (so a chunk written before a column was added still reads). */
typedef struct chunk_map {
    uint32_t n;
    int *types;       /* per header position */
    uint32_t *to;     /* header position -> schema column */
    int direct;       /* position i is column i, for every column */
} chunk_map;

/* Header positions of a dropped column: read, then thrown away. */
#define MAP_DROPPED UINT32_MAX

static int map_header(const ws_table *t, const pv_chunk_rec *h, chunk_map *m)
{
    uint32_t i;
    free(m->types);
    free(m->to);
    m->n = h->nvals;
    m->direct = 0;
    m->types = malloc((h->nvals + 1) * sizeof *m->types);
    m->to = malloc((h->nvals + 1) * sizeof *m->to);
    if (!m->types || !m->to) return pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < h->nvals; i++) {
        int c = pv_schema_find_history(t->schema, h->names[i], strlen(h->names[i]));
        if (c == PV_SCHEMA_DROPPED) {
            m->types[i] = PV_NULL;
            m->to[i] = MAP_DROPPED;
            continue;
        }
        if (c < 0)
            return PV_CORRUPT("the chunk header names column '%s', which table %s does not have",
                              h->names[i], t->schema->name);
        m->types[i] = t->schema->cols[c].type;
        m->to[i] = (uint32_t)c;
        {
            uint32_t k;
            for (k = 0; k < i; k++)
                if (m->to[k] == (uint32_t)c)
                    return PV_CORRUPT("the chunk header names column %s twice ('%s', '%s')",
                                      t->schema->cols[c].name, h->names[k], h->names[i]);
        }
    }
    m->direct = h->nvals == t->schema->ncols;
    for (i = 0; m->direct && i < h->nvals; i++) m->direct = m->to[i] == i;
    return PV_OK;
}

/* Does a header list exactly the current columns, in order? Records may
 * only be appended under such a header (else after a continuation header
 * that is). */
static int header_is_current(const ws_table *t, const pv_chunk_rec *h)
{
    uint32_t i;
    if (h->nvals != t->schema->ncols) return 0;
    for (i = 0; i < h->nvals; i++)
        if (strcmp(h->names[i], t->schema->cols[i].name) != 0) return 0;
    return 1;
}

/* ---- applying records ---------------------------------------------------- */

/* A decoded row (in header order) as a whole row in schema order: a column
 * the chunk does not have (added later) reads as its default, stored values
 * are fetched from the blob store (into tmp). */
static int row_from_rec(pv_ws *ws, ws_table *t, const chunk_map *m, const pv_chunk_rec *r,
                        pv_value *row, pv_arena *tmp)
{
    uint32_t i, c;
    int rc;
    if (m->direct && !r->refs) { /* the usual header: every column, in order */
        memcpy(row, r->vals, m->n * sizeof *row);
        goto key;
    }
    for (c = 0; c < t->schema->ncols; c++) row[c] = t->schema->cols[c].dflt ? *t->schema->cols[c].dflt : pv_v_null();
    for (i = 0; i < m->n; i++) {
        pv_value v = r->vals[i];
        if (m->to[i] == MAP_DROPPED) continue;
        if (r->refs && r->refs[i].present) {
            pv_str s;
            if ((rc = pv_blob_get(&ws->rd, &r->refs[i], tmp, &s))) return rc;
            v.type = m->types[i];
            v.u.s = s;
        }
        row[m->to[i]] = v;
    }
key:
    for (c = 0; c < t->schema->npk; c++)
        if (row[t->schema->pk[c]].type == PV_NULL)
            return PV_CORRUPT("NULL in primary key column %s", t->schema->cols[t->schema->pk[c]].name);
    return PV_OK;
}

/* Put a whole row into the table by key. */
static int put_row(ws_table *t, const pv_value *row)
{
    uint64_t h;
    long at;
    int rc;
    /* the next key in order (imports, appends): no search, no hashing */
    if (!t->key_hashed && t->sorted_rows == t->nrows &&
        (!t->nrows || ws_key_cmp_row(t, row, t->nrows - 1) > 0)) {
        size_t idx;
        if ((rc = ws_row_append(t, row, &idx))) return rc;
        return ws_key_set(t, idx, 0);
    }
    /* a key-sorted table searches for keys that are not past its end;
     * when that keeps happening, hashing pays */
    if (!t->key_hashed && t->sorted_rows && ws_key_cmp_row(t, row, t->sorted_rows - 1) <= 0 &&
        ++t->key_searches > 65536 + t->nrows / 16 && (rc = ws_key_index_build(t)))
        return rc;
    h = ws_key_hash(t->schema, row);
    at = ws_key_find(t, row, h);
    if (at >= 0) {
        if (!t->live[at]) t->nlive++;
        t->live[at] = 1;
        t->vec_dirty = 1;
        return ws_row_copy_into(t, (size_t)at, row);
    }
    {
        size_t idx;
        if ((rc = ws_row_append(t, row, &idx))) return rc;
        return ws_key_set(t, idx, h);
    }
}

/* A conflict record changes no row: replay keeps ours' row. It is kept, in
 * schema order, for `pvdev conflicts` and the checks that refuse to
 * commit it. */
static int note_conflict(ws_table *t, const chunk_map *m, const pv_chunk_rec *r, uint32_t num,
                         size_t lineno)
{
    uint32_t n = t->schema->ncols, i, k;
    pv_ws_conflict c, *g;
    pv_value *key = pv_arena_alloc(&t->arena, (t->schema->npk + 1) * sizeof *key);
    if (!key) return pv_err(PV_ENOMEM, "out of memory");
    for (k = 0; k < t->schema->npk; k++) {
        key[k] = r->vals[k];
        if ((key[k].type == PV_TEXT || key[k].type == PV_BLOB) &&
            !(key[k].u.s.p = pv_arena_dup(&t->arena, key[k].u.s.p, key[k].u.s.n)))
            return pv_err(PV_ENOMEM, "out of memory");
    }
    c.chunk = num;
    c.line = lineno;
    c.key = key;
    for (k = 0; k < 3; k++) {
        pv_value *row;
        c.side[k] = NULL;
        if (!r->side[k]) continue;
        if (!(row = pv_arena_alloc(&t->arena, (n + 1) * sizeof *row))) return pv_err(PV_ENOMEM, "out of memory");
        for (i = 0; i < n; i++) row[i] = pv_v_null();
        for (i = 0; i < m->n; i++) {
            pv_value v = r->side[k][i];
            if (m->to[i] == MAP_DROPPED) continue;
            if ((v.type == PV_TEXT || v.type == PV_BLOB) && r->side_refs[k] && r->side_refs[k][i].present)
                v = pv_v_null(); /* a stored value: listed by digest elsewhere */
            else if ((v.type == PV_TEXT || v.type == PV_BLOB) &&
                     !(v.u.s.p = pv_arena_dup(&t->arena, v.u.s.p, v.u.s.n)))
                return pv_err(PV_ENOMEM, "out of memory");
            row[m->to[i]] = v;
        }
        c.side[k] = row;
    }
    if (!(g = realloc(t->conflicts, (t->nconflicts + 1) * sizeof *g))) return pv_err(PV_ENOMEM, "out of memory");
    t->conflicts = g;
    t->conflicts[t->nconflicts++] = c;
    return PV_OK;
}

/* A delete record (key columns of `row` set). A table of tail records
 * (tombstones set: the rows after a checkpoint, merged into its rows
 * later) keeps a deleted key as a dead row, so the merge knows to drop it
 * from the checkpoint's rows. */
static int delete_row(ws_table *t, pv_value *row, int tombstones)
{
    uint32_t c;
    uint64_t h = ws_key_hash(t->schema, row);
    long at = ws_key_find(t, row, h);
    if (at >= 0 && t->live[at]) {
        t->live[at] = 0;
        t->nlive--;
        t->vec_dirty = 1;
    } else if (at < 0 && tombstones) {
        size_t idx;
        int rc;
        for (c = 0; c < t->schema->ncols; c++)
            if (t->schema->cols[c].pk_pos < 0) row[c] = pv_v_null();
        if ((rc = ws_row_append(t, row, &idx)) || (rc = ws_key_set(t, idx, h))) return rc;
        t->live[idx] = 0;
        t->nlive--;
    }
    return PV_OK;
}

/* ---- one chunk: read, checked, decoded ----------------------------------------- */

/* One chunk of a replay, from its reading to the records it holds. */
typedef struct chunk_job {
    uint32_t num;
    uint64_t limit;           /* bytes the snapshot saw */
    uint64_t start;           /* records before this byte are the checkpoint's */
    int is_last;
    char *text;               /* the chunk's bytes (freed once applied) */
    size_t len;               /* bytes kept: up to the last newline */
    size_t had;               /* read (>= len: a torn last line is cut) */
    int stream;               /* too big to decode ahead: decoded while applied */
    ws_ckpt_chunk cover;
    chunk_map map;            /* from its last header line so far */
    chunk_map *old;           /* the maps of its earlier headers (continuation headers) */
    size_t nold;
    int header_ok;            /* the last header lists the current columns */
    pv_arena arena;           /* the records' values */
    pv_chunk_rec *recs;
    size_t *lines;            /* line number of each record */
    uint32_t *mapi;           /* the map of each record: old[i], or map when i == nold */
    size_t nrec, cap;
    int rc;                   /* the first failure, after records [0, nrec) */
    char *err;                /*   its message */
    int ready;                /* decoded (under the replay's lock) */
    int saw_header;
    int colmode;              /* rows only, in key order: as columns */
    ws_rowcols cols;
    pv_value *row;            /* the decoding thread's scratch row */
} chunk_job;

typedef struct replay {
    pv_ws *ws;
    ws_table *t, *rows;
    ws_vecsink *vs;
    chunk_job *jobs;
    size_t njobs;
    size_t next;              /* next job to decode */
    size_t applied;           /* jobs applied */
    size_t window;
    unsigned threads;         /* decoding (the applying one included) */
    int plain;                /* PV_LOAD_PLAIN: records only (tests) */
    size_t as_columns;        /* chunks decoded as columns */
    int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_mutex_t read_mu;  /* a reader other than the work tree's is
                                 used by one thread at a time (libgit2) */
    /* the applying thread's scratch */
    pv_value *row;
    pv_arena tmp;
} replay;

/* Stat a chunk before it is read, for the checkpoint's quick check. */
static void cover_stat(const char *path, ws_ckpt_chunk *k)
{
    struct stat st;
    k->mtime_ns = 0;
    k->ino = 0;
    if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        k->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        k->ino = (uint64_t)st.st_ino;
    }
}

/* Keep this thread's message in the job (it is reported by the applier). */
static int job_fail(chunk_job *j, int rc)
{
    j->rc = rc;
    j->err = strdup(pv_errmsg());
    return rc;
}

/* Read the chunk, cut off a torn last line (only from the newest chunk:
 * repaired when applied) and hash what is kept. */
static int read_chunk(replay *R, chunk_job *j, const char *path)
{
    pv_ws *ws = R->ws;
    char rel[PV_MAX_TABLE_NAME + 32];
    int rc;
    j->cover.num = j->num;
    if (ws->posix) cover_stat(path, &j->cover);
    ws_chunk_rel(rel, sizeof rel, R->t, j->num);
    if (!ws->posix) pthread_mutex_lock(&R->read_mu);
    rc = ws->rd.read(ws->rd.ctx, rel, CHUNK_MAX_BYTES, &j->text, &j->len);
    if (!ws->posix) pthread_mutex_unlock(&R->read_mu);
    if (rc) {
        if (rc != PV_ENOMEM) pv_err_prefix("'%s'", path);
        return rc;
    }
    /* Only what the snapshot saw: a commit after it is not ours to read. */
    if (j->len > j->limit) j->len = (size_t)j->limit;
    j->had = j->len;
    if (j->len && j->text[j->len - 1] != '\n') {
        const char *last = memrchr(j->text, '\n', j->len);
        if (!j->is_last)
            return PV_CORRUPT("'%s': the last line has no newline, and this is not the newest chunk", path);
        j->len = last ? (size_t)(last - j->text) + 1 : 0;
    }
    ws_ckpt_chunk_hash(&j->cover, j->text, j->len);
    return PV_OK;
}

/* What to do with each decoded record: keep it (decoding ahead) or apply it
 * at once (a big chunk, on the applying thread). */
typedef int (*emit_fn)(replay *R, chunk_job *j, pv_chunk_rec *r, size_t lineno);

static int key_types(const ws_table *t, int **out)
{
    uint32_t k;
    if (!(*out = malloc((t->schema->npk + 1) * sizeof **out))) return pv_err(PV_ENOMEM, "out of memory");
    for (k = 0; k < t->schema->npk; k++) (*out)[k] = t->schema->cols[t->schema->pk[k]].type;
    return PV_OK;
}

/* A header of the chunk (its first line, or a continuation header): the
 * map of the records after it. An earlier map is kept for the records
 * decoded under it (keep_rec). */
static int take_header(const ws_table *t, chunk_job *j, const pv_chunk_rec *r)
{
    if (j->saw_header) {
        chunk_map *g = realloc(j->old, (j->nold + 1) * sizeof *g);
        if (!g) return pv_err(PV_ENOMEM, "out of memory");
        j->old = g;
        j->old[j->nold++] = j->map;
        memset(&j->map, 0, sizeof j->map);
    }
    j->saw_header = 1;
    if (j->is_last) j->header_ok = header_is_current(t, r);
    return map_header(t, r, &j->map);
}

/* Decode the chunk's lines (each header maps the columns of the rows after
 * it), emitting each record. Errors come with the file and line. */
static int decode_lines(replay *R, chunk_job *j, const char *path, emit_fn emit)
{
    const ws_table *t = R->t;
    const char *p = j->text, *end = j->text + j->len;
    size_t lineno = 0;
    int *ktypes = NULL;
    int rc = key_types(t, &ktypes);
    while (!rc && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        pv_chunk_rec r;
        lineno++;
        if (nl - p >= 7 && (*p == '<' || *p == '=' || *p == '>') &&
            (memcmp(p, "<<<<<<<", 7) == 0 || memcmp(p, "=======", 7) == 0 || memcmp(p, ">>>>>>>", 7) == 0)) {
            rc = pv_err(PV_ECORRUPT, "'%s' line %zu: git conflict marker; the pv merge driver was not used "
                        "(run 'pvdev git-setup', then redo the merge)", path, lineno);
            break;
        }
        rc = pv_chunk_decode(p, (size_t)(nl - p), j->map.types, j->map.n, ktypes, t->schema->npk, &j->arena, &r);
        if (!rc) rc = pv_chunk_check_place(&r, lineno == 1);
        if (!rc && r.kind == PV_REC_HEADER) rc = take_header(t, j, &r);
        if (!rc) rc = emit(R, j, &r, lineno);
        if (rc) {
            pv_err_prefix("'%s' line %zu", path, lineno);
            break;
        }
        p = nl + 1;
        /* after the header, skip what a checkpoint already holds; the
         * last continuation header skipped names the columns after it */
        if (lineno == 1 && j->start > (uint64_t)(p - j->text)) {
            const char *to = j->text + (j->start < j->len ? j->start : j->len), *cont = NULL;
            size_t contline = 0, clen = 0;
            for (; p < to; p = nl + 1) {
                if (!(nl = memchr(p, '\n', (size_t)(to - p)))) break;
                lineno++;
                if (pv_chunk_line_is_header(p, (size_t)(nl - p))) cont = p, clen = (size_t)(nl - p), contline = lineno;
            }
            p = to;
            if (cont) {
                rc = pv_chunk_decode(cont, clen, NULL, 0, ktypes, t->schema->npk, &j->arena, &r);
                if (!rc) rc = pv_chunk_check_place(&r, 0);
                if (!rc && r.kind != PV_REC_HEADER) rc = PV_CORRUPT("expected a continuation header");
                if (!rc) rc = take_header(t, j, &r);
                if (!rc) rc = emit(R, j, &r, contline);
                if (rc) {
                    pv_err_prefix("'%s' line %zu", path, contline);
                    break;
                }
            }
        }
    }
    free(ktypes);
    return rc;
}

/* Keep a record for the applier, with the map it is read by. */
static int keep_rec(replay *R, chunk_job *j, pv_chunk_rec *r, size_t lineno)
{
    (void)R;
    if (j->nrec == j->cap) {
        size_t cap = j->cap ? 2 * j->cap : 1024;
        pv_chunk_rec *recs = realloc(j->recs, cap * sizeof *recs);
        size_t *lines;
        uint32_t *mapi;
        if (!recs) return pv_err(PV_ENOMEM, "out of memory");
        j->recs = recs;
        if (!(lines = realloc(j->lines, cap * sizeof *lines))) return pv_err(PV_ENOMEM, "out of memory");
        j->lines = lines;
        if (!(mapi = realloc(j->mapi, cap * sizeof *mapi))) return pv_err(PV_ENOMEM, "out of memory");
        j->mapi = mapi;
        j->cap = cap;
    }
    j->recs[j->nrec] = *r;
    j->mapi[j->nrec] = (uint32_t)j->nold;
    j->lines[j->nrec++] = lineno;
    return PV_OK;
}

/* A record of a chunk decoded as columns: 1 (give up: decode the chunk as
 * records) unless it is a whole row (no blob reference, no NULL key) whose
 * key is above the chunk's previous one. The line's scratch is reused. */
static int col_rec(replay *R, chunk_job *j, pv_chunk_rec *r, size_t lineno)
{
    const pv_schema *s = R->t->schema;
    int rc;
    if (r->kind == PV_REC_HEADER) return PV_OK;
    if (r->kind != PV_REC_ROW || r->refs) return 1;
    if (row_from_rec(R->ws, R->t, &j->map, r, j->row, NULL)) return 1;
    if (j->cols.n && ws_rowcols_key_cmp(&j->cols, s, j->row, j->cols.n - 1) <= 0) return 1;
    if (!j->cols.n) j->cols.line0 = lineno;
    rc = ws_rowcols_add(&j->cols, s, j->row);
    pv_arena_reset(&j->arena);
    return rc;
}

static void maps_free(chunk_job *j)
{
    size_t i;
    for (i = 0; i < j->nold; i++) {
        free(j->old[i].types);
        free(j->old[i].to);
    }
    free(j->old);
    j->old = NULL;
    j->nold = 0;
    free(j->map.types);
    free(j->map.to);
    memset(&j->map, 0, sizeof j->map);
}

/* Back to nothing decoded (the text stays). */
static void undecode(replay *R, chunk_job *j)
{
    ws_rowcols_free(&j->cols, R->t->schema);
    pv_arena_free(&j->arena);
    maps_free(j);
    j->header_ok = j->saw_header = 0;
}

/* Read and decode job j (any thread). Its outcome stays in j. */
static void decode_job(replay *R, chunk_job *j)
{
    char path[4400];
    int rc = ws_chunk_path(path, sizeof path, R->t, j->num);
    if (!rc) rc = read_chunk(R, j, path);
    if (!rc && !(j->row = malloc((R->t->schema->ncols + 1) * sizeof *j->row)))
        rc = pv_err(PV_ENOMEM, "out of memory");
    if (rc) {
        job_fail(j, rc);
        return;
    }
    if (j->len > PAR_MAX_BYTES) {
        j->stream = 1;
        return;
    }
    /* columns when the chunk allows, else records (anything unusual,
     * errors included, is decoded again as records: they say where) */
    if (!R->plain && decode_lines(R, j, path, col_rec) == PV_OK) {
        j->colmode = 1;
        pv_arena_free(&j->arena);
        return;
    }
    undecode(R, j);
    if ((rc = decode_lines(R, j, path, keep_rec))) job_fail(j, rc);
}

static void job_clear(const replay *R, chunk_job *j)
{
    ws_rowcols_free(&j->cols, R->t->schema);
    free(j->row);
    j->row = NULL;
    free(j->text);
    maps_free(j);
    pv_arena_free(&j->arena);
    free(j->recs);
    free(j->lines);
    free(j->mapi);
    free(j->err);
    j->text = NULL;
    j->recs = NULL;
    j->lines = NULL;
    j->mapi = NULL;
    j->err = NULL;
    j->nrec = j->cap = 0;
}

/* ---- applying a decoded chunk (one thread, in chunk order) ------------------------ */

static int sink_on(const replay *R) { return R->vs && ws_vecsink_active(R->vs); }

/* A whole row (R->row) to the sink while it takes it, else the rows. */
static int apply_built(replay *R)
{
    int rc;
    if (sink_on(R)) {
        if ((rc = ws_vecsink_row(R->vs, R->row))) return rc < 0 ? rc : PV_OK;
        if ((rc = ws_vecsink_to_rows(R->vs))) return rc; /* a new key below the last */
    }
    return put_row(R->rows, R->row);
}

static int apply_rowrec(replay *R, const chunk_map *m, const pv_chunk_rec *r)
{
    int rc = row_from_rec(R->ws, R->rows, m, r, R->row, &R->tmp);
    return rc ? rc : apply_built(R);
}

/* A chunk decoded as columns: appended to the vectors at once when it
 * follows them, else row by row as its records would be. */
static int apply_cols(replay *R, chunk_job *j, const char *path)
{
    const pv_schema *s = R->t->schema;
    size_t r;
    int rc;
    if (j->is_last && j->saw_header) R->t->last_header_ok = j->header_ok;
    if (sink_on(R) && (rc = ws_vecsink_append(R->vs, &j->cols)) != 0) return rc < 0 ? rc : PV_OK;
    for (r = 0; r < j->cols.n; r++) {
        ws_rowcols_row(&j->cols, s, r, R->row);
        if ((rc = apply_built(R))) {
            pv_err_prefix("'%s' line %zu", path, j->cols.line0 + r);
            return rc;
        }
    }
    return PV_OK;
}

static int apply_delete(replay *R, const pv_chunk_rec *r)
{
    ws_table *t = R->rows;
    uint32_t k;
    for (k = 0; k < t->schema->npk; k++) R->row[t->schema->pk[k]] = r->vals[k];
    if (sink_on(R)) return ws_vecsink_delete(R->vs, R->row) < 0 ? PV_ENOMEM : PV_OK;
    return delete_row(t, R->row, R->rows != R->t);
}

/* Apply one record, read by map m (that of the header above it). */
static int apply_rec(replay *R, chunk_job *j, const chunk_map *m, const pv_chunk_rec *r, size_t lineno)
{
    int rc;
    switch (r->kind) {
    case PV_REC_HEADER:
        if (j->is_last) R->t->last_header_ok = j->header_ok;
        return PV_OK;
    case PV_REC_ROW:
        return apply_rowrec(R, m, r);
    case PV_REC_CONFLICT:
        if (sink_on(R) && (rc = ws_vecsink_to_rows(R->vs))) return rc;
        return note_conflict(R->rows, m, r, j->num, lineno);
    default:
        return apply_delete(R, r);
    }
}

/* A record of a big chunk, applied as it is decoded. */
static int apply_now(replay *R, chunk_job *j, pv_chunk_rec *r, size_t lineno)
{
    int rc = apply_rec(R, j, &j->map, r, lineno);
    /* Decoded strings were copied into the table: recycle the scratch
     * space so a big chunk does not double memory. */
    if (!rc && j->arena.total > (16u << 20)) pv_arena_free(&j->arena);
    if (!rc && R->tmp.total > (16u << 20)) pv_arena_free(&R->tmp);
    return rc;
}

/* Cut a torn last line (a crash mid-append) off the newest chunk, under
 * the commit lock held exclusively (no commit runs meanwhile, and no other
 * handle cuts it too), and only while it is still that crash's: the file
 * is `had` bytes long and no rewrite came since the snapshot. A chunk
 * rewritten since, read up to its old size, can end inside a line that is
 * whole: that is the reader's mistake to drop (ws_read), not the file's to
 * cut. A file that grew since is left as it is too (the torn line is not
 * replayed). */
static int repair_tail(pv_ws *ws, const char *path, size_t keep, size_t had)
{
    struct stat st;
    int rc;
    if (!ws->writable)
        return PV_CORRUPT("'%s': the last line is incomplete (byte %zu of %zu); open the workspace with pvdev to repair it",
                          path, keep, had);
    if ((rc = ws_commit_lock(ws, 1))) return rc;
    if (ws_gen_moved(ws)) {
        rc = ws_snap_busy(ws, "");
    } else if (lstat(path, &st) != 0) {
        rc = pv_err_errno("cannot stat '%s'", path);
    } else if ((uint64_t)st.st_size == (uint64_t)had) {
        fprintf(stderr,
                "pv: warning: '%s': cutting an incomplete last line (bytes %zu..%zu), left by an interrupted write\n",
                path, keep, had);
        rc = pv_truncate_nofollow(path, keep);
    }
    ws_commit_unlock(ws);
    return rc;
}

/* Apply decoded job j (snapshot position i), then its failure if any. */
static int apply_job(replay *R, size_t i, chunk_job *j)
{
    ws_table *t = R->t;
    char path[4400];
    size_t k;
    int rc = ws_chunk_path(path, sizeof path, t, j->num);
    if (rc) return rc;
    t->cover[i] = j->cover;
    if (j->len != j->had) {
        if ((rc = repair_tail(R->ws, path, j->len, j->had))) return rc;
        t->snap_size[t->snap_n - 1] = j->len; /* the file is that long now */
    }
    if (j->stream && !j->rc) return decode_lines(R, j, path, apply_now);
    if (j->colmode) return apply_cols(R, j, path);
    for (k = 0; k < j->nrec; k++) {
        const chunk_map *m = j->mapi[k] < j->nold ? &j->old[j->mapi[k]] : &j->map;
        if ((rc = apply_rec(R, j, m, &j->recs[k], j->lines[k]))) {
            pv_err_prefix("'%s' line %zu", path, j->lines[k]);
            return rc;
        }
        if (R->tmp.total > (16u << 20)) pv_arena_free(&R->tmp);
    }
    if (j->rc) return pv_err(j->rc, "%s", j->err ? j->err : "out of memory");
    return PV_OK;
}

/* ---- the threads ----------------------------------------------------------------- */

/* Take the next job to decode, if the window allows; under R->mu. */
static long claim(replay *R)
{
    if (R->stop || R->next >= R->njobs || R->next >= R->applied + R->window) return -1;
    return (long)R->next++;
}

static void decode_claimed(replay *R, size_t i)
{
    pthread_mutex_unlock(&R->mu);
    decode_job(R, &R->jobs[i]);
    pthread_mutex_lock(&R->mu);
    R->jobs[i].ready = 1;
    pthread_cond_broadcast(&R->cv);
}

static void *worker_main(void *arg)
{
    replay *R = arg;
    pthread_mutex_lock(&R->mu);
    while (!R->stop && R->next < R->njobs) {
        long i = claim(R);
        if (i < 0) pthread_cond_wait(&R->cv, &R->mu);
        else decode_claimed(R, (size_t)i);
    }
    pthread_mutex_unlock(&R->mu);
    return NULL;
}

/* Wait until job i is decoded, decoding others meanwhile. */
static void wait_ready(replay *R, size_t i)
{
    pthread_mutex_lock(&R->mu);
    while (!R->jobs[i].ready) {
        long k = claim(R);
        if (k < 0) pthread_cond_wait(&R->cv, &R->mu);
        else decode_claimed(R, (size_t)k);
    }
    pthread_mutex_unlock(&R->mu);
}

void pv_ws_set_load_threads(pv_ws *ws, unsigned n) { ws->load_threads = n; }

int ws_load_plain(void) { return getenv("PV_LOAD_PLAIN") != NULL; }

unsigned ws_replay_threads(const pv_ws *ws)
{
    const char *e = getenv("PV_LOAD_THREADS");
    long n;
    if (ws->load_threads) return ws->load_threads;
    if (e && *e) {
        n = strtol(e, NULL, 10);
        if (n >= 1 && n <= 64) return (unsigned)n;
    }
    n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : (unsigned)n;
}

static int replay_jobs(replay *R, size_t from, uint64_t *tail)
{
    unsigned nthreads = ws_replay_threads(R->ws), started = 0, k;
    pthread_t th[64];
    size_t i;
    int rc = PV_OK;
    if (nthreads > R->njobs) nthreads = (unsigned)R->njobs;
    R->window = (size_t)WINDOW_PER_THREAD * (nthreads ? nthreads : 1);
    for (k = 1; k < nthreads; k++) {
        if (pthread_create(&th[started], NULL, worker_main, R) != 0) break;
        started++;
    }
    R->threads = started + 1;
    for (i = 0; i < R->njobs && !rc; i++) {
        chunk_job *j = &R->jobs[i];
        wait_ready(R, i);
        R->as_columns += (size_t)j->colmode;
        rc = apply_job(R, from + i, j);
        if (!rc) {
            if (j->is_last) {
                R->t->last_chunk = j->num;
                R->t->last_size = j->len;
            }
            *tail += j->cover.size - j->start;
        }
        job_clear(R, j);
        pthread_mutex_lock(&R->mu);
        R->applied = i + 1;
        if (rc) R->stop = 1;
        pthread_cond_broadcast(&R->cv);
        pthread_mutex_unlock(&R->mu);
    }
    pthread_mutex_lock(&R->mu);
    R->stop = 1;
    pthread_cond_broadcast(&R->cv);
    pthread_mutex_unlock(&R->mu);
    for (k = 0; k < started; k++) pthread_join(th[k], NULL);
    return rc;
}

int ws_replay_run(pv_ws *ws, ws_table *t, ws_table *rows, size_t from, uint64_t start,
                  uint64_t *tail, ws_vecsink *vs, ws_replay_stats *st)
{
    replay R;
    size_t i;
    int rc;
    if (from >= t->snap_n) return PV_OK;
    memset(&R, 0, sizeof R);
    R.ws = ws;
    R.t = t;
    R.rows = rows;
    R.vs = vs;
    R.plain = ws_load_plain();
    R.njobs = t->snap_n - from;
    R.jobs = calloc(R.njobs, sizeof *R.jobs);
    R.row = malloc((t->schema->ncols + 1) * sizeof *R.row);
    if (!R.jobs || !R.row) {
        free(R.jobs);
        free(R.row);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    for (i = 0; i < R.njobs; i++) {
        chunk_job *j = &R.jobs[i];
        j->num = t->snap_num[from + i];
        j->limit = t->snap_size[from + i];
        j->start = i == 0 ? start : 0;
        j->is_last = from + i + 1 == t->snap_n;
    }
    pthread_mutex_init(&R.mu, NULL);
    pthread_mutex_init(&R.read_mu, NULL);
    pthread_cond_init(&R.cv, NULL);
    rc = replay_jobs(&R, from, tail);
    if (st) {
        st->threads = R.threads;
        st->chunks = R.njobs;
        st->as_columns = R.as_columns;
    }
    for (i = 0; i < R.njobs; i++) job_clear(&R, &R.jobs[i]);
    pthread_mutex_destroy(&R.mu);
    pthread_mutex_destroy(&R.read_mu);
    pthread_cond_destroy(&R.cv);
    pv_arena_free(&R.tmp);
    free(R.row);
    free(R.jobs);
    return rc;
}

int ws_replay_from(pv_ws *ws, ws_table *t, ws_table *rows, size_t from, uint64_t start,
                   uint64_t *tail)
{
    return ws_replay_run(ws, t, rows, from, start, tail, NULL, NULL);
}
