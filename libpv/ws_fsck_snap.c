/*
 * ws_fsck_snap.c: `pvdev fsck` of the work tree reads one committed state.
 *
 * Reading the files as they are, a check running beside a commit reports
 * what is only that commit half done: a chunk of a table dropped and
 * created again read against the old schema, a line still being
 * appended, a file a compaction has moved aside. So the check reads as a
 * workspace reader does (docs/FORMAT.md part 1, "Commit lock"): under the
 * shared commit lock, held only that long, it lists the tables and their
 * files, keeps the (small) format and schema files and each chunk's size;
 * then, without the lock, it reads every chunk up to that size (appends
 * land past it). Afterwards, under the lock again, the rewrite count and
 * the journal must be as they were: a compaction, DROP TABLE or resolve
 * since (or a writer rolling back an interrupted commit) may have changed
 * bytes the check read, so what it found is dropped and it checks again.
 * Blob files are named by their content and never rewritten: read as
 * they are.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ws_internal.h"

/* Checks that may each find the workspace rewritten under them. */
#define FSCK_TRIES 8

/* One file or directory of the snapshot, by its path relative to .pv/. */
typedef struct snap_ent {
    char *rel;
    char **names;       /* a directory: its entries */
    size_t n;
    char *data;         /* a small file kept whole: format, schema.jsonl */
    size_t len;
    int chunk;          /* a chunk: read up to `size` */
    uint64_t size;
} snap_ent;

typedef struct fsck_snap {
    pv_ws *ws;          /* the commit lock and the rewrite count only */
    pv_ws_reader rd;    /* the files as they are: .pv/ named as before */
    snap_ent *ents;     /* sorted by rel once taken */
    size_t n, cap;
    uint64_t gen;
    struct stat journal; /* .pv/journal/commit; st_ino 0: none */
} fsck_snap;

static void snap_clear(fsck_snap *s)
{
    size_t i;
    for (i = 0; i < s->n; i++) {
        free(s->ents[i].rel);
        pv_names_free(s->ents[i].names, s->ents[i].n);
        free(s->ents[i].data);
    }
    free(s->ents);
    s->ents = NULL;
    s->n = s->cap = 0;
}

static snap_ent *ent_add(fsck_snap *s, const char *rel)
{
    snap_ent *e;
    if (s->n == s->cap) {
        snap_ent *g = realloc(s->ents, (s->cap = s->cap ? 2 * s->cap : 64) * sizeof *g);
        if (!g) return NULL;
        s->ents = g;
    }
    e = memset(&s->ents[s->n], 0, sizeof *e);
    if (!(e->rel = strdup(rel))) return NULL;
    s->n++;
    return e;
}

static int ent_cmp(const void *a, const void *b)
{
    return strcmp(((const snap_ent *)a)->rel, ((const snap_ent *)b)->rel);
}

static snap_ent *ent_find(const fsck_snap *s, const char *rel)
{
    snap_ent key;
    key.rel = (char *)rel;
    return s->n ? bsearch(&key, s->ents, s->n, sizeof *s->ents, ent_cmp) : NULL;
}

/* A directory's entries into the snapshot (missing: none), as entry
 * *at (an index: the array moves as it grows). One that cannot be listed
 * is left out: fsck lists it itself, and reports why it cannot. */
static int take_dir(fsck_snap *s, const char *rel, size_t *at)
{
    snap_ent *e = ent_add(s, rel);
    int rc;
    if (!e) return pv_err(PV_ENOMEM, "out of memory");
    *at = s->n - 1;
    if ((rc = s->rd.list(s->rd.ctx, rel, &e->names, &e->n))) {
        free(e->rel);
        s->n--;
    }
    return rc;
}

/* A small file kept whole. One that cannot be read is left out: fsck
 * reads it itself, and reports why it cannot. */
static int take_file(fsck_snap *s, const char *rel, size_t max)
{
    snap_ent *e;
    char *data = NULL;
    size_t len = 0;
    int rc = s->rd.read(s->rd.ctx, rel, max, &data, &len);
    if (rc) return PV_OK; /* (fsck meets the error reading it) */
    if (!(e = ent_add(s, rel))) {
        free(data);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    e->data = data;
    e->len = len;
    return PV_OK;
}

/* A table's files: its listing, each chunk's size, its schema file. */
static int take_table(fsck_snap *s, const char *name)
{
    char rel[PV_MAX_TABLE_NAME + 300];
    size_t i, dir;
    int rc;
    snprintf(rel, sizeof rel, "tables/%s/schema.jsonl", name);
    if ((rc = take_file(s, rel, 16u << 20))) return rc;
    snprintf(rel, sizeof rel, "tables/%s", name);
    if ((rc = take_dir(s, rel, &dir))) return rc == PV_ENOMEM ? rc : PV_OK;
    for (i = 0; i < s->ents[dir].n; i++) {
        const char *f = s->ents[dir].names[i];
        snap_ent *e;
        uint64_t size;
        if (!pv_chunk_file_number(f) || strlen(f) > 256) continue;
        snprintf(rel, sizeof rel, "tables/%s/%s", name, f);
        if (s->rd.size(s->rd.ctx, rel, &size)) continue; /* (fsck meets the error) */
        if (!(e = ent_add(s, rel))) return pv_err(PV_ENOMEM, "out of memory");
        e->chunk = 1;
        e->size = size;
    }
    return PV_OK;
}

static void journal_stat(fsck_snap *s, struct stat *out)
{
    char path[4200];
    ws_journal_path(s->ws, path, sizeof path);
    if (stat(path, out) != 0) memset(out, 0, sizeof *out);
}

/* The snapshot, under the shared commit lock. */
static int snap_take(fsck_snap *s)
{
    size_t i, tables = 0;
    int rc;
    snap_clear(s);
    if ((rc = ws_commit_lock(s->ws, 0))) return rc;
    rc = take_file(s, "format", 4096);
    if (!rc) rc = take_dir(s, "tables", &tables);
    for (i = 0; !rc && i < s->ents[tables].n; i++) {
        const char *name = s->ents[tables].names[i];
        if (pv_table_name_ok(name, strlen(name))) rc = take_table(s, name);
    }
    s->gen = ws_gen_read(s->ws);
    journal_stat(s, &s->journal);
    ws_commit_unlock(s->ws);
    if (!rc) qsort(s->ents, s->n, sizeof *s->ents, ent_cmp);
    return rc;
}

/* Is every byte read still the snapshot's? No rewrite since, and no
 * interrupted commit rolled back (the journal as it was). */
static int snap_current(fsck_snap *s, int *cur)
{
    struct stat j;
    int rc;
    if ((rc = ws_commit_lock(s->ws, 0))) return rc;
    journal_stat(s, &j);
    *cur = ws_gen_read(s->ws) == s->gen && j.st_ino == s->journal.st_ino && j.st_size == s->journal.st_size &&
           j.st_mtim.tv_sec == s->journal.st_mtim.tv_sec && j.st_mtim.tv_nsec == s->journal.st_mtim.tv_nsec;
    ws_commit_unlock(s->ws);
    return PV_OK;
}

/* ---- the reader over the snapshot -------------------------------------------- */

static char **names_dup(char **names, size_t n)
{
    char **v = malloc((n ? n : 1) * sizeof *v);
    size_t i;
    for (i = 0; v && i < n; i++)
        if (!(v[i] = strdup(names[i]))) {
            pv_names_free(v, i);
            return NULL;
        }
    return v;
}

static int snap_read(void *ctx, const char *rel, size_t max, char **data, size_t *len)
{
    fsck_snap *s = ctx;
    const snap_ent *e = ent_find(s, rel);
    int rc;
    /* (not in the snapshot: blobs, or a file it could not read, whose
     * error fsck then meets itself) */
    if (e && e->data) {
        if (e->len > max) return pv_err(PV_ELIMIT, "'%s/%s' is larger than %zu bytes", s->ws->pvdir, rel, max);
        if (!(*data = malloc(e->len + 1))) return pv_err(PV_ENOMEM, "out of memory");
        memcpy(*data, e->data, e->len);
        (*data)[*len = e->len] = '\0';
        return PV_OK;
    }
    if ((rc = s->rd.read(s->rd.ctx, rel, max, data, len))) return rc;
    /* a chunk up to its size then: what a commit appended since is not
     * part of the state checked */
    if (e && e->chunk && *len > e->size) (*data)[*len = (size_t)e->size] = '\0';
    return PV_OK;
}

static int snap_list(void *ctx, const char *rel, char ***names, size_t *n)
{
    fsck_snap *s = ctx;
    const snap_ent *e = ent_find(s, rel);
    /* (not in the snapshot: blobs, or a directory it could not list) */
    if (!e) return s->rd.list(s->rd.ctx, rel, names, n);
    *names = NULL;
    *n = 0;
    if (!e->names) return PV_OK;
    if (!(*names = names_dup(e->names, e->n))) return pv_err(PV_ENOMEM, "out of memory");
    *n = e->n;
    return PV_OK;
}

static int snap_size(void *ctx, const char *rel, uint64_t *size)
{
    fsck_snap *s = ctx;
    const snap_ent *e = ent_find(s, rel);
    if (e && e->chunk) {
        *size = e->size;
        return PV_OK;
    }
    return s->rd.size(s->rd.ctx, rel, size);
}

/* ---- the check ---------------------------------------------------------------- */

/* Problems held until the check is known to have read one state. */
typedef struct held {
    pv_buf text;        /* each problem, then '\0' */
    int nomem;
} held;

static void hold(void *ctx, const char *problem)
{
    held *h = ctx;
    if (pv_buf_append(&h->text, problem, strlen(problem) + 1) < 0) h->nomem = 1;
}

static int check_once(fsck_snap *s, held *h, pv_fsck_stats *st, int *cur)
{
    pv_ws_reader r = {s, "worktree", snap_read, snap_list, snap_size};
    int rc;
    h->text.len = 0;
    h->nomem = 0;
    *cur = 0;
    if ((rc = snap_take(s)) || (rc = pv_ws_fsck(&r, hold, h, st))) return rc;
    return snap_current(s, cur);
}

int pv_ws_fsck_worktree(const char *dir, pv_fsck_report report, void *ctx, pv_fsck_stats *st)
{
    fsck_snap s;
    held h = {PV_BUF_INIT, 0};
    int tries, rc, cur = 0;
    size_t k;
    struct stat pv;
    memset(&s, 0, sizeof s);
    if ((rc = ws_new(dir, &s.ws))) return rc;
    /* (files named '.pv/...' in messages when dir is ".", as always) */
    pv_ws_reader_posix(&s.rd, strcmp(dir, ".") ? s.ws->pvdir : ".pv");
    if (stat(s.ws->pvdir, &pv) != 0) { /* no workspace: the plain check says so */
        rc = pv_ws_fsck(&s.rd, report, ctx, st);
        pv_ws_close(s.ws);
        return rc;
    }
    for (tries = 0; tries < FSCK_TRIES && !cur; tries++)
        if ((rc = check_once(&s, &h, st, &cur))) break;
    if (!rc && !cur)
        rc = pv_err(PV_EBUSY, "workspace '%s' was rewritten by another process during each of %d checks "
                              "(a compaction, DROP TABLE or pvdev resolve); check it again once it is left alone",
                    dir, FSCK_TRIES);
    if (!rc && h.nomem) rc = pv_err(PV_ENOMEM, "out of memory");
    for (k = 0; !rc && k < h.text.len; k += strlen(h.text.p + k) + 1) report(ctx, h.text.p + k);
    pv_buf_free(&h.text);
    snap_clear(&s);
    pv_ws_close(s.ws);
    return rc;
}
