/*
 * cmd_bake.c: `pvbake [bake] -o OUT.pvdb [-C DIR] [--rev REV] [-j N]
 * [--no-cache] [-v]`: the workspace of DIR (its current rows), or the
 * workspace as it is at git revision REV (read from the object database:
 * no checkout, bare clones too), into one .pvdb file. OUT is relative to
 * the current directory, not to DIR.
 *
 * Encoded column chunks are cached in DIR/.pv/cache/bake/ (ignored by
 * git), so a second bake re-encodes only the chunks whose rows changed.
 * A table with a checkpoint (docs/LOADING.md) is not loaded at all: the
 * writer fetches its rows a row group at a time, and finds the row groups
 * that come unchanged from the checkpoint in the cache without reading
 * them (docs/BAKE.md 6). A --rev bake in a work tree keeps checkpoints of
 * the revisions it bakes in DIR/.pv/cache/load-rev/, their chunks known
 * by git blob id, so a later --rev bake of a close revision replays only
 * the chunks that differ (docs/LOADING.md 5).
 * On a terminal, stderr shows what is being loaded and a progress bar.
 *
 * A work-tree bake reads one committed state (the snapshot of pv_ws_open).
 * Another process's commit that rewrites chunks meanwhile (a compaction,
 * DROP TABLE, pvdev resolve) makes the bake's next read fail with
 * PV_EBUSY: the bake starts again on a new snapshot, a few times, since
 * such commits are rare and quick. Test hook: PV_FAULTS_BAKE_PAUSE=N stops
 * the process (SIGSTOP) in each of its first N attempts, once the first
 * table's rows are read.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "pv.h"
#include "pvdb.h"
#include "pvdb_cache.h"
#include "pvgit.h"
#include "ws.h"
#include "ws_ckpt.h"

typedef struct bake_opts {
    const char *out;
    const char *dir;
    const char *rev;     /* NULL: the work tree */
    unsigned threads;
    int cache;
    int verbose;
} bake_opts;

/* Returns -1 when parsed, else the exit code to return at once. */
static int parse(int argc, char **argv, bake_opts *o)
{
    int i;
    o->out = NULL;
    o->dir = ".";
    o->rev = NULL;
    o->threads = 0;
    o->cache = 1;
    o->verbose = 0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) return pvbake_usage("bake", 0);
        if ((!strcmp(a, "-o") || !strcmp(a, "-C") || !strcmp(a, "-j")) && i + 1 < argc) {
            const char *v = argv[++i];
            if (a[1] == 'o') {
                o->out = v;
            } else if (a[1] == 'C') {
                o->dir = v;
            } else {
                char *end;
                long n = strtol(v, &end, 10);
                if (*end || n < 1 || n > 16) {
                    fprintf(stderr, "pvbake: bake: -j wants 1 to 16 threads, not '%s'\n", v);
                    return pvbake_usage("bake", 1);
                }
                o->threads = (unsigned)n;
            }
        } else if (!strcmp(a, "--rev") && i + 1 < argc) {
            o->rev = argv[++i];
        } else if (!strncmp(a, "--output=", 9)) {
            o->out = a + 9;
        } else if (!strcmp(a, "--no-cache")) {
            o->cache = 0;
        } else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
            o->verbose = 1;
        } else if (!strcmp(a, "-o") || !strcmp(a, "-C") || !strcmp(a, "-j")) {
            fprintf(stderr, "pvbake: bake: option %s needs a value\n", a);
            return pvbake_usage("bake", 1);
        } else {
            fprintf(stderr, "pvbake: bake: unexpected argument '%s'\n", a);
            return pvbake_usage("bake", 1);
        }
    }
    if (!o->out || !*o->out) {
        fprintf(stderr, "pvbake: bake: -o OUT.pvdb is required\n");
        return pvbake_usage("bake", 1);
    }
    return -1;
}

static int has_pv_dir(const char *dir)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/.pv", dir);
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double now(void) { return clock_s(CLOCK_MONOTONIC); }
/* CPU time of every thread of the process (-v: what a loaded machine
 * does not distort) */
static double cpu(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

/* PV_BAKE_GROUP_ROWS: rows per row group other than the format's default
 * (tests make small tables span several groups); 0: the default. */
static uint32_t group_rows(void)
{
    const char *e = getenv("PV_BAKE_GROUP_ROWS");
    char *end;
    unsigned long v;
    if (!e || !*e) return 0;
    v = strtoul(e, &end, 10);
    return *end || v > 65536 ? 0 : (uint32_t)v;
}

/* ---- checkpoints of a revision: chunks known by blob id ---------------------- */

typedef struct rev_ids {
    git_tree *pv;        /* the revision's .pv tree */
    char *pvdir;         /* the work tree's .pv */
    ws_rev_ckpt r;
} rev_ids;

static int blob_id(void *ctx, const char *rel, uint8_t id[16])
{
    rev_ids *x = ctx;
    git_tree_entry *e = NULL;
    int rc = git_tree_entry_bypath(&e, x->pv, rel);
    if (rc == 0 && git_tree_entry_type(e) == GIT_OBJECT_BLOB) {
        memcpy(id, git_tree_entry_id(e)->id, 16);
        rc = 0;
    } else {
        rc = -1;
    }
    git_tree_entry_free(e);
    return rc;
}

static void rev_ids_free(rev_ids *x)
{
    if (!x) return;
    git_tree_free(x->pv);
    free(x->pvdir);
    free(x);
}

/* The revision's .pv tree for blob ids, with DIR/.pv for the checkpoints;
 * NULL when DIR is no work tree (a bare repository: nothing is written
 * there) or anything fails (the bake then replays every chunk). */
static rev_ids *rev_ids_open(git_repository *repo, const pvgit_tree *tree, const char *dir)
{
    rev_ids *x = calloc(1, sizeof *x);
    git_commit *commit = NULL;
    git_repository *r2 = NULL;
    char *prefix = NULL;
    git_oid oid;
    int ok = x && has_pv_dir(dir) && (x->pvdir = malloc(strlen(dir) + sizeof "/.pv")) &&
             !git_oid_fromstr(&oid, pvgit_tree_commit(tree)) &&
             !git_commit_lookup(&commit, repo, &oid) && !pvgit_repo_open(dir, &r2, &prefix) &&
             !pvgit_commit_pv_tree(repo, commit, prefix, "the revision", &x->pv);
    git_commit_free(commit);
    git_repository_free(r2);
    free(prefix);
    if (!ok) {
        rev_ids_free(x);
        return NULL;
    }
    sprintf(x->pvdir, "%s/.pv", dir);
    x->r.pvdir = x->pvdir;
    x->r.blob_id = blob_id;
    x->r.ctx = x;
    return x;
}

/* ---- the terminal's progress line ---------------------------------------------- */

typedef struct progress {
    int on;          /* stderr is a terminal */
    double start, last;
} progress;

static void progress_text(progress *p, const char *what)
{
    if (!p->on) return;
    fprintf(stderr, "\r\033[Kpvbake: %s", what);
    fflush(stderr);
}

static void progress_bar(void *ctx, uint64_t done, uint64_t total)
{
    progress *p = ctx;
    char bar[41];
    double t = now(), frac = total ? (double)done / (double)total : 1.0;
    int i, fill = (int)(frac * 40);
    if (!p->on || (t - p->last < 0.1 && done < total)) return;
    p->last = t;
    for (i = 0; i < 40; i++) bar[i] = i < fill ? '#' : '.';
    bar[40] = 0;
    fprintf(stderr, "\r\033[Kpvbake: writing [%s] %3d%%  %llu/%llu rows  %.1fs", bar,
            (int)(frac * 100), (unsigned long long)done, (unsigned long long)total,
            t - p->start);
    fflush(stderr);
}

static void progress_end(progress *p)
{
    if (!p->on) return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
}

/* ---- the command --------------------------------------------------------------------- */

/* The provenance of a work-tree bake, found on a thread of its own while
 * the tables load: libgit2's start-up alone (it parses the system's CA
 * certificates) is about 3.5 ms of a 40 ms re-bake. */
typedef struct source_job {
    const char *dir;
    char *out;
    size_t cap;
    pthread_t th;
    int started;
} source_job;

static void *source_main(void *arg)
{
    source_job *s = arg;
    pvgit_worktree_source(s->dir, s->out, s->cap);
    return NULL;
}

static void source_start(source_job *s, const char *dir, char *out, size_t cap)
{
    s->dir = dir;
    s->out = out;
    s->cap = cap;
    s->started = pthread_create(&s->th, NULL, source_main, s) == 0;
    if (!s->started) source_main(s);
}

static void source_wait(source_job *s)
{
    if (s->started) pthread_join(s->th, NULL);
    s->started = 0;
}

/* What one attempt at the bake holds (bake_once). */
typedef struct bake_run {
    pv_ws *ws;
    pvgit_tree *tree;
    rev_ids *revc;
    git_repository *repo;
    pv_bake_table *tables;
    const pvdb_rows_src **srcs;
    ws_bake_rows **handles;
    char *cache;
    uint32_t n;
    source_job source;
} bake_run;

static void bake_run_free(bake_run *b)
{
    uint32_t i;
    source_wait(&b->source);
    for (i = 0; b->handles && i < b->n; i++) ws_bake_rows_free(b->handles[i]);
    free(b->handles);
    free(b->srcs);
    free(b->cache);
    free(b->tables);
    pv_ws_close(b->ws);
    rev_ids_free(b->revc);
    pvgit_tree_free(b->tree);
    git_repository_free(b->repo);
    memset(b, 0, sizeof *b);
}

/* A fetch failed on a checkpoint's rows that do not match their checksum
 * (a checkpoint damaged inside a section only that fetch read)? */
static int ckpt_damaged(const bake_run *b)
{
    uint32_t i;
    for (i = 0; b->handles && i < b->n; i++)
        if (ws_bake_rows_damaged(b->handles[i])) return 1;
    return 0;
}

/* Open the workspace (the work tree or the revision) into b. */
static int open_ws(const bake_opts *o, bake_run *b, pv_bake_info *info, char *source, size_t cap)
{
    int rc = o->rev ? pvgit_ws_open(o->dir, o->rev, &b->ws, &b->tree, &b->repo) : pv_ws_open(o->dir, 0, &b->ws);
    if (rc) return rc;
    /* -j: the threads that decode chunk files too */
    pv_ws_set_load_threads(b->ws, o->threads);
    /* checkpoints of revisions live in the work tree (--no-cache: none) */
    if (b->tree && o->cache && (b->revc = rev_ids_open(b->repo, b->tree, o->dir)))
        pv_ws_set_rev_ckpt(b->ws, &b->revc->r);
    /* provenance: the commit baked, or HEAD's when the work tree is HEAD's */
    if (b->tree) {
        info->source = pvgit_tree_commit(b->tree);
    } else {
        source_start(&b->source, o->dir, source, cap); /* (source_wait before it is read) */
        info->source = source;
    }
    return 0;
}

/* The test hook (see the top): stop in the first N attempts. */
static void pause_hook(int attempt)
{
    const char *e = getenv("PV_FAULTS_BAKE_PAUSE");
    if (e && attempt <= atoi(e)) raise(SIGSTOP);
}

/* Every table's rows: from its checkpoint when it has one, else loaded. */
static int load_tables(bake_run *b, progress *pr, int attempt, uint64_t *rows)
{
    uint32_t i;
    b->n = pv_ws_table_count(b->ws);
    b->tables = calloc(b->n ? b->n : 1, sizeof *b->tables);
    b->srcs = calloc(b->n ? b->n : 1, sizeof *b->srcs);
    b->handles = calloc(b->n ? b->n : 1, sizeof *b->handles);
    if (!b->tables || !b->srcs || !b->handles) return pv_err(PV_ENOMEM, "out of memory");
    *rows = 0;
    for (i = 0; i < b->n; i++) {
        char what[160];
        int lazy, rc;
        snprintf(what, sizeof what, "loading table %u of %u: %.100s", i + 1, b->n,
                 pv_ws_table_schema(b->ws, i)->name);
        progress_text(pr, what);
        lazy = pv_ws_table_bake_src(b->ws, i, &b->tables[i], &b->srcs[i], &b->handles[i]);
        if (lazy < 0) return lazy;
        if (lazy == 0 && (rc = pv_ws_table_bake(b->ws, i, &b->tables[i])) != PV_OK) return rc;
        *rows += b->tables[i].nrows;
        if (i == 0) pause_hook(attempt);
    }
    return PV_OK;
}

/* Say what was written (and with -v, how). */
static void report(const bake_opts *o, const bake_run *b, uint64_t rows, uint64_t by_origin,
                   const pv_bake_stats *stats, double t0, double t1, double c0, double c1)
{
    struct stat st;
    uint32_t i;
    if (stat(o->out, &st) != 0) st.st_size = 0;
    fprintf(stderr, "pvbake: wrote %s: %u table%s, %llu row%s, %llu bytes", o->out, b->n,
            b->n == 1 ? "" : "s", (unsigned long long)rows, rows == 1 ? "" : "s",
            (unsigned long long)st.st_size);
    if (b->cache)
        fprintf(stderr, " (%llu of %llu chunks from the cache, %llu by origin)",
                (unsigned long long)stats->cache_hits, (unsigned long long)stats->chunks,
                (unsigned long long)by_origin);
    fputc('\n', stderr);
    if (!o->verbose) return;
    /* which way each table's rows came: checkpoint, tail, cold replay */
    for (i = 0; i < b->n; i++) {
        const char *note = pv_ws_table_load_note(b->ws, i);
        fprintf(stderr, "pvbake: table %s: %s%s\n", pv_ws_table_schema(b->ws, i)->name,
                strstr(note, "from the chunks") ? "cold: " : strstr(note, "checkpoint") ? "checkpoint: " : "",
                *note ? note : "rows already in memory");
    }
    fprintf(stderr, "pvbake: loading the workspace %.3fs (cpu %.3fs), encoding and "
            "writing %.3fs (cpu %.3fs, %u thread%s)\n", t1 - t0, c1 - c0, now() - t1,
            cpu() - c1, o->threads ? o->threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
            o->threads == 1 ? "" : "s");
}

/* One bake into o->out; `no_ckpt`: read no checkpoint (the last attempt
 * found one damaged); `attempt` counts from 1. PV_OK, or an error
 * (pv_errmsg); *damaged set when it failed on a damaged checkpoint. */
static int bake_once(const bake_opts *o, int no_ckpt, int attempt, int *damaged)
{
    bake_run b;
    pv_bake_info info = {"worktree", "pvbake " PV_VERSION_STRING};
    char source[64];
    pv_bake_opts bo = PV_BAKE_OPTS_INIT;
    pv_bake_stats stats;
    progress pr;
    uint64_t rows = 0, by_origin = 0;
    double t0 = now(), t1, c0 = cpu(), c1;
    struct stat st;
    int rc;
    memset(&b, 0, sizeof b);
    *damaged = 0;
    pr.on = isatty(2);
    pr.start = pr.last = t0;
    if ((rc = open_ws(o, &b, &info, source, sizeof source))) goto done;
    if (no_ckpt) pv_ws_no_ckpt_read(b.ws);
    rc = load_tables(&b, &pr, attempt, &rows);
    if (rc) goto done;
    t1 = now();
    c1 = cpu();
    /* the cache lives in the work tree's .pv (a bare repository has none) */
    if (o->cache && !(o->rev && (stat(o->dir, &st) != 0 || !has_pv_dir(o->dir)))) {
        size_t len = strlen(o->dir) + sizeof "/.pv/cache/bake";
        if (!(b.cache = malloc(len))) {
            rc = pv_err(PV_ENOMEM, "out of memory");
            goto done;
        }
        snprintf(b.cache, len, "%s/.pv/cache/bake", o->dir);
    }
    bo.threads = o->threads;
    bo.rows_per_group = group_rows();
    bo.cache_dir = b.cache;
    bo.progress = progress_bar;
    bo.progress_ctx = &pr;
    bo.stats = &stats;
    source_wait(&b.source);
    rc = pvdb_write_src(o->out, b.tables, b.srcs, b.n, &info, &bo, &by_origin);
    if (rc == PV_OK) report(o, &b, rows, by_origin, &stats, t0, t1, c0, c1);
    else *damaged = ckpt_damaged(&b);
done:
    progress_end(&pr);
    bake_run_free(&b);
    return rc;
}

/* Bakes a rewrite of the workspace may interrupt before pvbake gives up. */
#define BAKE_TRIES 3

/* bake_once, again (on a new snapshot) after each PV_EBUSY, up to
 * BAKE_TRIES bakes in all; *attempt counts them. The bytes an interrupted
 * bake wrote are discarded: the file is renamed into place only at the
 * end. */
static int bake_retrying(const bake_opts *o, int no_ckpt, int *attempt, int *damaged)
{
    int rc;
    while ((rc = bake_once(o, no_ckpt, ++*attempt, damaged)) == PV_EBUSY && *attempt < BAKE_TRIES)
        fprintf(stderr, "pvbake: workspace '%s' was rewritten by another process during the bake (a compaction, "
                        "DROP TABLE or pvdev resolve); baking again\n", o->dir);
    if (rc == PV_EBUSY)
        pv_err_prefix("workspace '%s' was rewritten by another process during each of %d bakes; "
                      "bake it again once it is left alone", o->dir, *attempt);
    return rc;
}

int cmd_bake(int argc, char **argv)
{
    bake_opts o;
    int damaged, attempt = 0, rc = parse(argc, argv, &o);
    if (rc >= 0) return rc;
    if (bake_retrying(&o, 0, &attempt, &damaged) == PV_OK) return PVBAKE_EXIT_OK;
    if (!damaged) return pvbake_fail();
    /* a section of a checkpoint only this bake read is damaged: the bytes
     * already written are discarded (the file is renamed into place only
     * at the end) and the bake starts again without checkpoints; it writes
     * a good one (docs/BAKE.md 6) */
    fprintf(stderr, "pvbake: %s; baking again without checkpoints\n", pv_errmsg());
    attempt = 0;
    if (bake_retrying(&o, 1, &attempt, &damaged) == PV_OK) return PVBAKE_EXIT_OK;
    return pvbake_fail();
}
