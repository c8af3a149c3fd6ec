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
 */
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

int cmd_bake(int argc, char **argv)
{
    bake_opts o;
    pv_ws *ws = NULL;
    pvgit_tree *tree = NULL;
    rev_ids *revc = NULL;
    git_repository *repo = NULL;
    pv_bake_table *tables = NULL;
    const pvdb_rows_src **srcs = NULL;
    ws_bake_rows **handles = NULL;
    pv_bake_info info = {"worktree", "pvbake " PV_VERSION_STRING};
    char source[64];
    pv_bake_opts bo = PV_BAKE_OPTS_INIT;
    pv_bake_stats stats;
    progress pr;
    char *cache = NULL;
    uint64_t rows = 0, by_origin = 0;
    uint32_t n = 0, i;
    double t0 = now(), t1, c0 = cpu(), c1;
    struct stat st;
    int lazy, rc = parse(argc, argv, &o);
    if (rc >= 0) return rc;
    rc = PVBAKE_EXIT_FAIL;
    pr.on = isatty(2);
    pr.start = pr.last = t0;
    if (o.rev ? pvgit_ws_open(o.dir, o.rev, &ws, &tree, &repo) != PV_OK : pv_ws_open(o.dir, 0, &ws) != PV_OK) {
        rc = pvbake_fail();
        goto done;
    }
    /* -j: the threads that decode chunk files too */
    pv_ws_set_load_threads(ws, o.threads);
    /* checkpoints of revisions live in the work tree (--no-cache: none) */
    if (tree && o.cache && (revc = rev_ids_open(repo, tree, o.dir)))
        pv_ws_set_rev_ckpt(ws, &revc->r);
    /* provenance: the commit baked, or HEAD's when the work tree is HEAD's */
    if (tree) {
        info.source = pvgit_tree_commit(tree);
    } else {
        pvgit_worktree_source(o.dir, source, sizeof source);
        info.source = source;
    }
    n = pv_ws_table_count(ws);
    tables = calloc(n ? n : 1, sizeof *tables);
    srcs = calloc(n ? n : 1, sizeof *srcs);
    handles = calloc(n ? n : 1, sizeof *handles);
    if (!tables || !srcs || !handles) {
        fprintf(stderr, "pvbake: out of memory\n");
        goto done;
    }
    for (i = 0; i < n; i++) {
        char what[160];
        snprintf(what, sizeof what, "loading table %u of %u: %.100s", i + 1, n,
                 pv_ws_table_schema(ws, i)->name);
        progress_text(&pr, what);
        /* from its checkpoint when it has one, else loaded */
        lazy = pv_ws_table_bake_src(ws, i, &tables[i], &srcs[i], &handles[i]);
        if (lazy < 0 || (lazy == 0 && pv_ws_table_bake(ws, i, &tables[i]) != PV_OK)) {
            progress_end(&pr);
            rc = pvbake_fail();
            goto done;
        }
        rows += tables[i].nrows;
    }
    t1 = now();
    c1 = cpu();
    /* the cache lives in the work tree's .pv (a bare repository has none) */
    if (o.cache && !(o.rev && (stat(o.dir, &st) != 0 || !has_pv_dir(o.dir)))) {
        size_t len = strlen(o.dir) + sizeof "/.pv/cache/bake";
        cache = malloc(len);
        if (!cache) {
            fprintf(stderr, "pvbake: out of memory\n");
            goto done;
        }
        snprintf(cache, len, "%s/.pv/cache/bake", o.dir);
    }
    bo.threads = o.threads;
    bo.rows_per_group = group_rows();
    bo.cache_dir = cache;
    bo.progress = progress_bar;
    bo.progress_ctx = &pr;
    bo.stats = &stats;
    rc = pvdb_write_src(o.out, tables, srcs, n, &info, &bo, &by_origin);
    progress_end(&pr);
    if (rc != PV_OK) {
        rc = pvbake_fail();
        goto done;
    }
    if (stat(o.out, &st) != 0) st.st_size = 0;
    fprintf(stderr, "pvbake: wrote %s: %u table%s, %llu row%s, %llu bytes", o.out, n,
            n == 1 ? "" : "s", (unsigned long long)rows, rows == 1 ? "" : "s",
            (unsigned long long)st.st_size);
    if (cache)
        fprintf(stderr, " (%llu of %llu chunks from the cache, %llu by origin)",
                (unsigned long long)stats.cache_hits, (unsigned long long)stats.chunks,
                (unsigned long long)by_origin);
    fputc('\n', stderr);
    if (o.verbose) {
        /* which way each table's rows came: checkpoint, tail, cold replay */
        for (i = 0; i < n; i++) {
            const char *note = pv_ws_table_load_note(ws, i);
            fprintf(stderr, "pvbake: table %s: %s%s\n", pv_ws_table_schema(ws, i)->name,
                    strstr(note, "from the chunks") ? "cold: " : strstr(note, "checkpoint") ? "checkpoint: " : "",
                    *note ? note : "rows already in memory");
        }
        fprintf(stderr, "pvbake: loading the workspace %.3fs (cpu %.3fs), encoding and "
                "writing %.3fs (cpu %.3fs, %u thread%s)\n", t1 - t0, c1 - c0, now() - t1,
                cpu() - c1, o.threads ? o.threads : (unsigned)sysconf(_SC_NPROCESSORS_ONLN),
                o.threads == 1 ? "" : "s");
    }
    rc = PVBAKE_EXIT_OK;
done:
    for (i = 0; handles && i < n; i++) ws_bake_rows_free(handles[i]);
    free(handles);
    free(srcs);
    free(cache);
    free(tables);
    pv_ws_close(ws);
    rev_ids_free(revc);
    pvgit_tree_free(tree);
    git_repository_free(repo);
    return rc;
}
