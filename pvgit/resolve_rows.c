/*
 * resolve_rows.c: the row phase of `pvdev resolve` (the settled conflict
 * records out, the chosen rows in) as one commit of libpv's rollback
 * journal, under the writer lock its caller holds. Before, the rows were
 * one commit and each chunk's rewrite another, outside the lock: a writer
 * appending to a chunk between its read and the rename of its rewritten
 * copy lost its row.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blobstore.h"
#include "chunkline.h"
#include "resolve_rows.h"
#include "ws_internal.h"

int pvgit_rows_add(pv_ws *ws, pvgit_rows_part *part, const pv_value *row, const pv_value *key)
{
    pv_blobref refs[PV_MAX_COLUMNS];
    if (!row) return pv_chunk_encode_delete(&part->records, part->s, key);
    return pv_blob_encode_row(ws->pvdir, ws->sync, part->s, row, refs, &part->records);
}

/* One file the commit changes. */
typedef struct change {
    ws_jop op;          /* WS_J_MOVED: rewritten whole; WS_J_SIZE: appended
                           to (size >= 0) or created (-1) */
    uint32_t num;
    char path[700];     /* the chunk file */
    pv_buf text;        /* rewritten or created: the whole new text; appended: the lines */
} change;

typedef struct plan {
    change *c;
    size_t n, cap;
} plan;

static change *plan_add(plan *p, const pv_schema *s, uint32_t num, int kind, int64_t size)
{
    change *c;
    if (p->n == p->cap) {
        change *g = realloc(p->c, (p->cap = p->cap ? p->cap * 2 : 8) * sizeof *g);
        if (!g) return NULL;
        p->c = g;
    }
    c = &p->c[p->n];
    memset(c, 0, sizeof *c);
    if (asprintf(&c->op.path, "tables/%s/%08u.jsonl", s->name, num) < 0) return NULL;
    c->op.kind = kind;
    c->op.size = size;
    c->num = num;
    p->n++;
    return c;
}

static void plan_free(plan *p)
{
    size_t i;
    for (i = 0; i < p->n; i++) {
        char tmp[720];
        snprintf(tmp, sizeof tmp, "%s.resolve", p->c[i].path);
        unlink(tmp); /* gone already when renamed */
        free(p->c[i].op.path);
        pv_buf_free(&p->c[i].text);
    }
    free(p->c);
}

/* Chunk `num` of the part's table without the lines to drop. */
static int strip(pv_ws *ws, const pvgit_rows_part *part, change *c)
{
    char *text = NULL;
    size_t len, lineno = 0, k, dropped = 0, want = 0;
    const char *p, *end;
    int rc;
    snprintf(c->path, sizeof c->path, "%s/%s", ws->pvdir, c->op.path);
    if ((rc = pv_read_file_nofollow(c->path, (size_t)1 << 30, &text, &len))) return rc;
    for (p = text, end = text + len; p < end && !rc;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        int drop = 0;
        lineno++;
        for (k = 0; k < part->ndrop; k++) drop |= part->chunk[k] == c->num && part->line[k] == lineno;
        if (!drop) rc = pv_buf_append(&c->text, p, n);
        dropped += drop;
        p += n;
    }
    free(text);
    for (k = 0; k < part->ndrop; k++) want += part->chunk[k] == c->num;
    if (!rc && dropped != want)
        rc = PV_CORRUPT("'%s': %zu of its conflict records to settle are not where the table's load saw them",
                        c->path, want - dropped);
    return rc;
}

/* Where the part's records go: after the newest chunk's last line (its
 * rewritten text when it is rewritten) when it is not sealed, behind a
 * continuation header when its last header lists other columns than the
 * schema's (docs/FORMAT.md part 1); else a new chunk. */
static int place_records(pv_ws *ws, const pvgit_rows_part *part, plan *p, size_t first)
{
    ws_table *t = ws_find(ws, part->s->name);
    pv_buf hdr = PV_BUF_INIT;
    char *text = NULL, path[700];
    size_t len = 0, i;
    change *c = NULL, *last = NULL;
    int rc;
    if (!t) return pv_err(PV_ENOTFOUND, "no table %s", part->s->name);
    if ((rc = pv_chunk_encode_header(&hdr, part->s))) return rc;
    for (i = first; i < p->n; i++)
        if (t->last_chunk && p->c[i].num == t->last_chunk) last = &p->c[i];
    if (last) {
        text = last->text.p, len = last->text.len;
    } else if (t->last_chunk) {
        if ((rc = ws_chunk_path(path, sizeof path, t, t->last_chunk)) ||
            (rc = pv_read_file_nofollow(path, (size_t)1 << 30, &text, &len)))
            goto done;
    }
    if (len && len < PV_CHUNK_SEAL_BYTES && text[len - 1] == '\n' && memchr(text, '\n', len)) {
        /* (a header of version 2, from a compaction, takes appends too) */
        size_t hlen;
        const char *h = pv_chunk_last_header(text, len, &hlen);
        pv_buf *to = NULL;
        if (last) {
            to = &last->text;
        } else if (!(c = plan_add(p, part->s, t->last_chunk, WS_J_SIZE, (int64_t)len))) {
            rc = pv_err(PV_ENOMEM, "out of memory");
        } else {
            snprintf(c->path, sizeof c->path, "%s/%s", ws->pvdir, c->op.path);
            to = &c->text;
        }
        if (!rc && !(h && pv_chunk_header_is(h, hlen, part->s))) rc = pv_chunk_encode_header_cont(to, part->s);
        if (!rc) rc = pv_buf_append(to, part->records.p, part->records.len);
    } else if (!(c = plan_add(p, part->s, t->last_chunk + 1, WS_J_SIZE, -1))) {
        rc = pv_err(PV_ENOMEM, "out of memory");
    } else {
        snprintf(c->path, sizeof c->path, "%s/%s", ws->pvdir, c->op.path);
        if (!(rc = pv_buf_append(&c->text, hdr.p, hdr.len)))
            rc = pv_buf_append(&c->text, part->records.p, part->records.len);
    }
done:
    if (!last) free(text);
    pv_buf_free(&hdr);
    return rc;
}

static int plan_part(pv_ws *ws, const pvgit_rows_part *part, plan *p)
{
    size_t first = p->n, k, i;
    int rc = PV_OK;
    for (k = 0; k < part->ndrop && !rc; k++) {
        change *c;
        for (i = first; i < p->n && p->c[i].num != part->chunk[k]; i++) continue;
        if (i < p->n) continue; /* that chunk is planned already */
        if (!(c = plan_add(p, part->s, part->chunk[k], WS_J_MOVED, 0))) rc = pv_err(PV_ENOMEM, "out of memory");
        else rc = strip(ws, part, c);
    }
    if (!rc && part->records.len) rc = place_records(ws, part, p, first);
    return rc;
}

/* The whole new text of a rewritten or created chunk, on disk (when the
 * workspace syncs) before the journal says the old one may go. */
static int write_temp(const pv_ws *ws, const change *c)
{
    char tmp[720];
    int fd, rc;
    snprintf(tmp, sizeof tmp, "%s.resolve", c->path);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
        return pv_err_errno("cannot write '%s'", tmp);
    rc = pv_write_all(fd, c->text.p, c->text.len, tmp);
    if (!rc && ws->sync && fsync(fd) != 0) rc = pv_err_errno("cannot sync '%s'", tmp);
    if (close(fd) != 0 && !rc) rc = pv_err_errno("cannot close '%s'", tmp);
    return rc;
}

void pvgit_resolve_fault(const char *env, int *count)
{
    const char *e = getenv(env);
    if (e && atoi(e) == ++*count) _exit(137);
}

int pvgit_resolve_replace(pv_ws *ws, const char *rel, const char *path, int moved,
                          const char *env, int *count)
{
    char tmp[4200], aside[4400];
    snprintf(tmp, sizeof tmp, "%s.resolve", path);
    if (moved) {
        ws_moved_path(ws, rel, aside, sizeof aside);
        if (rename(path, aside) != 0) return pv_err_errno("cannot move '%s' aside", path);
        pvgit_resolve_fault(env, count);
    }
    if (rename(tmp, path) != 0) return pv_err_errno("cannot replace '%s'", path);
    pvgit_resolve_fault(env, count);
    return PV_OK;
}

#define ROWS_FAULT "PV_FAULTS_RESOLVE_ROWS_CRASH"

/* Change i of the plan: a chunk moved aside then replaced by its
 * rewritten text, a new chunk renamed into place, or records appended. */
typedef struct apply_ctx {
    pv_ws *ws;
    const plan *p;
    int changes;
} apply_ctx;

static int apply_change(void *ctx, size_t i)
{
    apply_ctx *x = ctx;
    const change *c = &x->p->c[i];
    pv_ws *ws = x->ws;
    int fd, rc = PV_OK;
    if (c->op.kind == WS_J_MOVED || c->op.size < 0)
        return pvgit_resolve_replace(ws, c->op.path, c->path, c->op.kind == WS_J_MOVED, ROWS_FAULT,
                                     &x->changes);
    if ((fd = open(c->path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW)) < 0)
        return pv_err_errno("cannot append to '%s'", c->path);
    rc = pv_write_all(fd, c->text.p, c->text.len, c->path);
    if (!rc && ws->sync && fsync(fd) != 0) rc = pv_err_errno("cannot sync '%s'", c->path);
    if (close(fd) != 0 && !rc) rc = pv_err_errno("cannot close '%s'", c->path);
    if (!rc) pvgit_resolve_fault(ROWS_FAULT, &x->changes);
    return rc;
}

/* The plan as one journaled commit; the tables' directories synced when
 * the workspace syncs. */
static int apply(pv_ws *ws, plan *p, const pvgit_rows_part *parts, size_t n)
{
    ws_jop *ops = calloc(p->n + 1, sizeof *ops);
    char **dirs = calloc(n + 1, sizeof *dirs);
    apply_ctx x = {ws, p, 0};
    size_t i, ndirs = 0;
    int rc = ops && dirs ? PV_OK : pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < p->n && !rc; i++) ops[i] = p->c[i].op;
    for (i = 0; i < n && !rc && ws->sync; i++, ndirs++)
        if (asprintf(&dirs[i], "%s/tables/%s", ws->pvdir, parts[i].s->name) < 0) {
            dirs[i] = NULL;
            rc = pv_err(PV_ENOMEM, "out of memory");
        }
    if (!rc) rc = ws_journal_run(ws, ops, p->n, apply_change, &x, (const char *const *)dirs, ndirs);
    for (i = 0; dirs && i < ndirs; i++) free(dirs[i]);
    free(dirs);
    free(ops);
    return rc;
}

int pvgit_rows_commit(pv_ws *ws, pvgit_rows_part *parts, size_t n)
{
    plan p = {NULL, 0, 0};
    size_t i;
    int rc = PV_OK;
    for (i = 0; i < n && !rc; i++) rc = plan_part(ws, &parts[i], &p);
    for (i = 0; i < p.n && !rc; i++)
        if (p.c[i].op.kind == WS_J_MOVED || p.c[i].op.size < 0) rc = write_temp(ws, &p.c[i]);
    if (!rc && getenv("PV_FAULTS_RESOLVE_ROWS_PAUSE")) raise(SIGSTOP);
    if (!rc && p.n) rc = apply(ws, &p, parts, n);
    plan_free(&p);
    return rc;
}

void pvgit_resolve_leftovers(const char *dir)
{
    DIR *dh = opendir(dir);
    struct dirent *d;
    while (dh && (d = readdir(dh))) {
        size_t n = strlen(d->d_name);
        char path[900];
        if (n < 8 || strcmp(d->d_name + n - 8, ".resolve") != 0) continue;
        snprintf(path, sizeof path, "%s/%s", dir, d->d_name);
        unlink(path);
    }
    if (dh) closedir(dh);
}
