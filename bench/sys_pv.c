/*
 * sys_pv.c: PicoVolt, through its public API (pv.h) and its real tools.
 *
 * Build: `pvdev init`, `pvdev import flights CSV --key id` and `pvbake -o
 * flights.pvdb`, each timed as a process. Reads: pv_open on the .pvdb and
 * prepared statements (the same SQL text as SQLite's). Writes: pv_open on a
 * copy of the workspace with PV_OPEN_READWRITE and a prepared INSERT, each
 * pv_step its own autocommit, once with PV_DURABILITY=sync (fsync at
 * commit, the default) and once with PV_DURABILITY=fast (no fsync). Git
 * rows: a scratch repository like the CSV baseline's, merged with the pv
 * merge driver once pvdev has one; and the same merge onto a 1,000,000-row
 * base (issue 5's scale), in a repository of its own (sys_pv_merge1m,
 * `--only merge1m`).
 *
 * Every loop runs under the time budgets of bench.c, so a version without
 * an index (a lookup is a full scan) still finishes: the figure is then the
 * mean over the operations that ran, marked †.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef BENCH_NO_LIBPV

void sys_pv(struct bench *b)
{
    for (int op = 0; op < OP_COUNT; op++)
        if (op != OP_SIZE_PQ)
            cell_na(b, op, COL_PV, "%s", b->pv_why ? b->pv_why : "libpv not linked into the harness");
}

void sys_pv_merge1m(struct bench *b)
{
    cell_na(b, OP_MERGE_1M, COL_PV, "%s", b->pv_why ? b->pv_why : "libpv not linked into the harness");
}

#else

#include "pv.h"

int bench_git(const char *repo, const char *log, double *secs, ...);

struct pvb {
    struct bench *b;
    char pvdev[4096], pvbake[4096];
    char ws[4096], pvdb[4096], log[4096];
    pv_db *db;
    pv_stmt *get, *range, *ins;
    pv_getter *getter;
    int64_t next_id;
    long next_row;
    enum op_id ins_op; /* the INSERT row being measured (sync or fast) */
};

static void copy_text(char *dst, size_t cap, const char *s, size_t n)
{
    if (!s) n = 0;
    if (n >= cap) n = cap - 1;
    if (n) memcpy(dst, s, n);
    dst[n] = 0;
}

static void fill(pv_stmt *st, struct frow *r)
{
    r->id = pv_column_int64(st, 0);
    copy_text(r->date, sizeof r->date, pv_column_text(st, 1), pv_column_bytes(st, 1));
    r->delay = (int32_t)pv_column_int64(st, 2);
    r->distance = (int32_t)pv_column_int64(st, 3);
    copy_text(r->origin, sizeof r->origin, pv_column_text(st, 4), pv_column_bytes(st, 4));
    copy_text(r->dest, sizeof r->dest, pv_column_text(st, 5), pv_column_bytes(st, 5));
}

static int p_get(void *ctx, int64_t key, struct frow *out)
{
    struct pvb *p = ctx;
    int rc;
    pv_reset(p->get);
    if (pv_bind_int64(p->get, 1, key) != PV_OK) return -100;
    rc = pv_step(p->get);
    if (rc == PV_ROW) {
        fill(p->get, out);
        return 1;
    }
    return rc == PV_DONE ? 0 : rc;
}

/* The direct API: pv_get fills cells; text is not NUL-terminated. */
static int p_getter(void *ctx, int64_t key, struct frow *out)
{
    struct pvb *p = ctx;
    pv_cell k, c[6];
    int rc;
    k.type = PV_INTEGER;
    k.u.i = key;
    rc = pv_get(p->getter, &k, 1, c, 6);
    if (rc != PV_ROW) return rc;
    out->id = c[0].u.i;
    copy_text(out->date, sizeof out->date, c[1].type == PV_NULL ? NULL : c[1].u.s.p, c[1].u.s.n);
    out->delay = (int32_t)c[2].u.i;
    out->distance = (int32_t)c[3].u.i;
    copy_text(out->origin, sizeof out->origin, c[4].type == PV_NULL ? NULL : c[4].u.s.p, c[4].u.s.n);
    copy_text(out->dest, sizeof out->dest, c[5].type == PV_NULL ? NULL : c[5].u.s.p, c[5].u.s.n);
    return 1;
}

/* The prepared range statement reset and bound to [lo, hi]. */
static int range_start(struct pvb *p, int64_t lo, int64_t hi)
{
    int rc;
    pv_reset(p->range);
    rc = pv_bind_int64(p->range, 1, lo);
    return rc != PV_OK ? rc : pv_bind_int64(p->range, 2, hi);
}

static long p_range(void *ctx, int64_t lo, int64_t hi, emit_fn emit, void *acc)
{
    struct pvb *p = ctx;
    struct frow r;
    long n = 0;
    int rc;
    if (range_start(p, lo, hi) != PV_OK) return -100;
    while ((rc = pv_step(p->range)) == PV_ROW) {
        fill(p->range, &r);
        emit(acc, &r);
        n++;
    }
    return rc == PV_DONE ? n : rc;
}

/* One cell of a span as fill() reads it through pv_column_*: NULL is 0
 * or the empty text; text columns are TEXT. */
static int64_t span_int(const pv_span *s, int k)
{
    return s->nulls && s->nulls[k] ? 0 : s->u.i[k];
}

static void span_text(char *dst, size_t cap, const pv_span *s, int k)
{
    if (s->nulls && s->nulls[k]) copy_text(dst, cap, NULL, 0);
    else copy_text(dst, cap, s->u.s[k].p, s->u.s[k].n);
}

/* A span's rows into the struct, one by one, as fill() does. A span
 * without NULLs (every nulls pointer NULL, docs/SPANS.md) takes the loop
 * with no per-cell NULL test, as a caller of spans writes it; the copy
 * of each value is the same in both loops. */
static void emit_span(const pv_span *c, int m, emit_fn emit, void *acc)
{
    struct frow r;
    int k;
    if (!c[0].nulls && !c[1].nulls && !c[2].nulls && !c[3].nulls && !c[4].nulls && !c[5].nulls) {
        for (k = 0; k < m; k++) {
            r.id = c[0].u.i[k];
            copy_text(r.date, sizeof r.date, c[1].u.s[k].p, c[1].u.s[k].n);
            r.delay = (int32_t)c[2].u.i[k];
            r.distance = (int32_t)c[3].u.i[k];
            copy_text(r.origin, sizeof r.origin, c[4].u.s[k].p, c[4].u.s[k].n);
            copy_text(r.dest, sizeof r.dest, c[5].u.s[k].p, c[5].u.s[k].n);
            emit(acc, &r);
        }
        return;
    }
    for (k = 0; k < m; k++) {
        r.id = span_int(&c[0], k);
        span_text(r.date, sizeof r.date, &c[1], k);
        r.delay = (int32_t)span_int(&c[2], k);
        r.distance = (int32_t)span_int(&c[3], k);
        span_text(r.origin, sizeof r.origin, &c[4], k);
        span_text(r.dest, sizeof r.dest, &c[5], k);
        emit(acc, &r);
    }
}

/* The range read by spans (pv_step_span + pv_column_span, docs/SPANS.md):
 * the same SQL, every row copied into the same struct and checksum.
 * Measured in its own row, next to p_range's. */
static long p_range_span(void *ctx, int64_t lo, int64_t hi, emit_fn emit, void *acc)
{
    struct pvb *p = ctx;
    long n = 0;
    int rc;
    if (range_start(p, lo, hi) != PV_OK) return -100;
    while ((rc = pv_step(p->range)) == PV_ROW) {
        pv_span c[6];
        int m, i;
        if ((rc = pv_step_span(p->range, PV_SPAN_MAX, &m)) != PV_OK) return rc;
        for (i = 0; i < 6; i++)
            if ((rc = pv_column_span(p->range, i, &c[i])) != PV_OK) return rc;
        if (c[0].type != PV_INTEGER || c[1].type != PV_TEXT || c[2].type != PV_INTEGER ||
            c[3].type != PV_INTEGER || c[4].type != PV_TEXT || c[5].type != PV_TEXT)
            return -101; /* not flights' column types: fill() would convert */
        emit_span(c, m, emit, acc);
        n += m;
    }
    return rc == PV_DONE ? n : rc;
}

static int p_query(void *ctx, const char *sql, uint64_t *check, long *nrows, char *err, size_t errlen)
{
    struct pvb *p = ctx;
    pv_stmt *st = NULL;
    uint64_t sum = 0;
    long n = 0;
    int rc;
    if (pv_prepare(p->db, sql, (size_t)-1, &st, NULL) != PV_OK || !st) {
        msgf(err, errlen, "%s", pv_errmsg());
        return -1;
    }
    while ((rc = pv_step(st)) == PV_ROW) {
        struct rowhash h;
        rh_begin(&h);
        for (int c = 0; c < pv_column_count(st); c++) {
            if (pv_column_type(st, c) == PV_NULL) rh_text(&h, NULL, 0);
            else rh_text(&h, pv_column_text(st, c), pv_column_bytes(st, c));
        }
        sum += rh_end(&h);
        n++;
    }
    if (rc != PV_DONE) msgf(err, errlen, "%s", pv_errmsg());
    pv_finalize(st);
    *check = check_mix(sum ^ (uint64_t)n);
    *nrows = n;
    return rc == PV_DONE ? 0 : -1;
}

static int p_open_get_close(void *ctx, int64_t key, struct frow *out)
{
    struct pvb *p = ctx;
    pv_db *db = NULL;
    pv_stmt *st = NULL;
    int rc;
    if ((rc = pv_open(p->pvdb, PV_OPEN_READONLY, &db)) != PV_OK) return rc;
    if ((rc = pv_prepare(db, SQL_LOOKUP, (size_t)-1, &st, NULL)) == PV_OK &&
        (rc = pv_bind_int64(st, 1, key)) == PV_OK) {
        rc = pv_step(st);
        if (rc == PV_ROW) fill(st, out);
        rc = rc == PV_ROW ? 1 : rc;
    }
    pv_finalize(st);
    pv_close(db);
    return rc;
}

/* One pv_verify of the open .pvdb (ops_fn; one operation a call). */
static long p_verify(void *ctx, long max_ops, uint64_t deadline)
{
    struct pvb *p = ctx;
    (void)max_ops;
    (void)deadline;
    if (pv_verify(p->db) != PV_OK) {
        say("pv_verify('%s') failed: %s", p->pvdb, pv_errmsg());
        return -1;
    }
    return 1;
}

/* ---- tools ---------------------------------------------------------------- */

static int tool(struct pvb *p, const char *cwd, double *secs, char *const argv[], char *err, size_t errlen)
{
    int rc = run_cmd(cwd, NULL, p->log, secs, argv);
    if (rc == RUN_TIMEOUT) {
        msgf(err, errlen, "`%s %s` stopped after %.0f s (time limit)", strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0],
             argv[1] ? argv[1] : "", *secs);
        return -1;
    }
    if (rc != 0) {
        msgf(err, errlen, "`%s %s` failed (exit %d): %s", strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0],
                 argv[1] ? argv[1] : "", rc, log_tail(p->log));
        return -1;
    }
    return 0;
}

/* Does `pvdev` list a subcommand? (its usage text is generated from the
 * command table) */
static int has_command(struct pvb *p, const char *name)
{
    char cmd[4300], line[512];
    int found = 0;
    FILE *f;
    snprintf(cmd, sizeof cmd, "'%s' --help 2>&1", p->pvdev);
    if (!(f = popen(cmd, "r"))) return 0;
    while (fgets(line, sizeof line, f)) {
        char *s = line;
        while (*s == ' ') s++;
        if (!strncmp(s, name, strlen(name)) && (s[strlen(name)] == ' ' || s[strlen(name)] == '\n')) found = 1;
    }
    pclose(f);
    return found;
}

static int count_rows(const char *path, long *out, char *err, size_t errlen)
{
    pv_db *db = NULL;
    pv_stmt *st = NULL;
    int rc = -1;
    if (pv_open(path, PV_OPEN_READONLY, &db) == PV_OK &&
        pv_prepare(db, "SELECT COUNT(*) FROM flights", (size_t)-1, &st, NULL) == PV_OK &&
        pv_step(st) == PV_ROW) {
        *out = (long)pv_column_int64(st, 0);
        rc = 0;
    } else {
        msgf(err, errlen, "cannot count rows of '%s': %s", path, pv_errmsg());
    }
    pv_finalize(st);
    pv_close(db);
    return rc;
}

/* pvbake reports how many chunks came from its cache: keep that line. */
static void bake_cache_note(struct pvb *p, char *note, size_t cap)
{
    FILE *f = fopen(p->log, "r");
    char line[1024], last[600] = "";
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        char *c = strstr(line, "from the cache");
        if (c) {
            char *o = strrchr(line, '(');
            line[strcspn(line, ")\n")] = 0;
            msgf(last, sizeof last, "%s", o ? o + 1 : c);
        }
    }
    fclose(f);
    if (last[0]) msgf(note, cap, "PicoVolt: pvbake said \"%s\" (last run)", last);
}

static int build(struct pvb *p, double *total, double *imp, double *bake, char *err, size_t errlen)
{
    struct bench *b = p->b;
    double t_init;
    long n = 0;
    char *init[] = {p->pvdev, "init", NULL};
    char *import[] = {p->pvdev, "import", "flights", (char *)b->csv, "--key", "id", NULL};
    char *bakecmd[] = {p->pvbake, "-o", p->pvdb, NULL};
    rm_rf(p->ws);
    remove(p->pvdb);
    if (mkdir_p(p->ws) != 0) {
        msgf(err, errlen, "cannot create '%s'", p->ws);
        return -1;
    }
    /* a repository of its own, so pvdev never mistakes the project's for it (untimed) */
    if (bench_git(p->ws, p->log, &t_init, "init", "-q", NULL) != 0) {
        msgf(err, errlen, "git init failed: %s", log_tail(p->log));
        return -1;
    }
    if (tool(p, p->ws, &t_init, init, err, errlen) || tool(p, p->ws, imp, import, err, errlen) ||
        tool(p, p->ws, bake, bakecmd, err, errlen))
        return -1;
    bake_cache_note(p, b->cells[OP_BAKE][COL_PV].note, sizeof b->cells[0][0].note);
    *total = t_init + *imp + *bake;
    if (count_rows(p->pvdb, &n, err, errlen) != 0) return -1;
    if (n != b->nrows) {
        msgf(err, errlen, "the baked file has %ld rows, expected %ld", n, b->nrows);
        return -1;
    }
    return 0;
}

/* Resident bytes of this process (/proc/self/statm). */
static long long rss_bytes(void)
{
    long long size = 0, res = -1;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%lld %lld", &size, &res) != 2) res = -1;
    if (f) fclose(f);
    return res < 0 ? -1 : res * sysconf(_SC_PAGESIZE);
}

/* Incremental bake: one more row in the workspace, then pvbake again; the
 * bake of the build is the warm-up. */
static void rebake(struct pvb *p)
{
    struct bench *b = p->b;
    char out[4200], err[300] = "";
    double t[8];
    int runs = b->quick ? 2 : 2; /* expensive: each run also inserts into the workspace */
    snprintf(out, sizeof out, "%s/flights-rebake.pvdb", b->cache);
    char *bakecmd[] = {p->pvbake, "-o", out, NULL};
    for (int i = 0; i < runs; i++) {
        pv_db *db = NULL;
        char sql[256];
        const struct frow *r = &b->rows[i];
        long n = 0;
        snprintf(sql, sizeof sql,
                 "INSERT INTO flights (id, date, delay, distance, origin, destination) VALUES "
                 "(%lld, '%s', %d, %d, '%s', '%s')",
                 (long long)(b->max_id + 1000000 + i), r->date, r->delay, r->distance, r->origin, r->dest);
        if (pv_open(p->ws, PV_OPEN_READWRITE, &db) != PV_OK || pv_exec(db, sql) != PV_OK) {
            cell_na(b, OP_REBAKE, COL_PV, "cannot insert a row into the workspace: %s", pv_errmsg());
            pv_close(db);
            return;
        }
        pv_close(db);
        if (tool(p, p->ws, &t[i], bakecmd, err, sizeof err) != 0) {
            cell_na(b, OP_REBAKE, COL_PV, "%s", err);
            return;
        }
        bake_cache_note(p, b->cells[OP_REBAKE][COL_PV].note, sizeof b->cells[0][0].note);
        if (count_rows(out, &n, err, sizeof err) != 0 || n != b->nrows + i + 1) {
            cell_na(b, OP_REBAKE, COL_PV, "the re-baked file has %ld rows, expected %ld", n, b->nrows + i + 1);
            return;
        }
    }
    cell_values(b, OP_REBAKE, COL_PV, t, runs);
    remove(out);
}

static void libpv_size(struct pvb *p)
{
    struct bench *b = p->b;
    char so[4200], out[4200], err[300];
    double secs;
    snprintf(so, sizeof so, "%s/libpv.so", b->build);
    snprintf(out, sizeof out, "%s/libpv.so.stripped", b->cache);
    char *cmd[] = {"strip", "-o", out, so, NULL};
    if (tool(p, NULL, &secs, cmd, err, sizeof err) == 0) b->pv_so_stripped = file_size(out);
    remove(out);
}

/* ---- inserts ---------------------------------------------------------------- */

static long p_inserts(void *ctx, long max_ops, uint64_t deadline)
{
    struct pvb *p = ctx;
    long i;
    for (i = 0; i < max_ops; i++) {
        const struct frow *r = &p->b->rows[p->next_row++ % p->b->nrows];
        int rc;
        pv_reset(p->ins);
        if (pv_bind_int64(p->ins, 1, p->next_id++) || pv_bind_text(p->ins, 2, r->date, strlen(r->date)) ||
            pv_bind_int64(p->ins, 3, r->delay) || pv_bind_int64(p->ins, 4, r->distance) ||
            pv_bind_text(p->ins, 5, r->origin, strlen(r->origin)) ||
            pv_bind_text(p->ins, 6, r->dest, strlen(r->dest)))
            return -100;
        rc = pv_step(p->ins);
        if (rc != PV_DONE) {
            cell_na(p->b, p->ins_op, COL_PV, "INSERT failed: %s", pv_errmsg());
            return rc < 0 ? rc : -101;
        }
        if (now_ns() > deadline) return i + 1;
    }
    return i;
}

/* One INSERT row: pv_open the copy with PV_DURABILITY=mode (libpv reads it
 * at pv_open; the caller's own value is put back after), then the timed
 * autocommit inserts into row `op`. */
static void inserts_mode(struct pvb *p, const char *copy, enum op_id op, const char *mode,
                         const char *what)
{
    struct bench *b = p->b;
    const char *env = getenv("PV_DURABILITY");
    char *saved = env ? strdup(env) : NULL;
    double open_s;
    pv_db *db = NULL;
    uint64_t t0;
    int rc;

    setenv("PV_DURABILITY", mode, 1);
    t0 = now_ns();
    rc = pv_open(copy, PV_OPEN_READWRITE, &db);
    open_s = (double)(now_ns() - t0) / 1e9;
    if (saved) setenv("PV_DURABILITY", saved, 1);
    else unsetenv("PV_DURABILITY");
    free(saved);
    if (rc != PV_OK) {
        cell_na(b, op, COL_PV, "pv_open(workspace, READWRITE) failed: %s", pv_errmsg());
        goto done;
    }
    if (pv_prepare(db, "INSERT INTO flights (id, date, delay, distance, origin, destination) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (size_t)-1, &p->ins, NULL) != PV_OK) {
        cell_na(b, op, COL_PV, "cannot prepare INSERT: %s", pv_errmsg());
        goto done;
    }
    p->ins_op = op;
    measure_ops(b, op, COL_PV, p_inserts, p, b->insert_ops, b->insert_budget, b->runs);
    if (b->cells[op][COL_PV].state == CELL_OK)
        msgf(b->cells[op][COL_PV].note, sizeof b->cells[0][0].note,
             "PicoVolt `PV_DURABILITY=%s` (%s); pv_open of the %ld-row workspace (READWRITE) took %.2f s "
             "before the first INSERT (not in the figure)", mode, what, b->nrows, open_s);
done:
    pv_finalize(p->ins);
    p->ins = NULL;
    pv_close(db);
}

/* Both durability modes, one after the other on one copy of the workspace
 * (one copy saves a 3-million-row `cp`; the fast run's rows just follow the
 * sync run's, with ids above every existing one). */
static void inserts(struct pvb *p)
{
    struct bench *b = p->b;
    char copy[4200], err[300];
    double secs;
    snprintf(copy, sizeof copy, "%s-insert", p->ws);
    rm_rf(copy);
    char *cp[] = {"cp", "-a", p->ws, copy, NULL};
    if (tool(p, NULL, &secs, cp, err, sizeof err) != 0) {
        cell_na(b, OP_INSERT, COL_PV, "cannot copy the workspace: %s", err);
        cell_na(b, OP_INSERT_FAST, COL_PV, "cannot copy the workspace: %s", err);
        return;
    }
    p->next_id = b->max_id + 1;
    inserts_mode(p, copy, OP_INSERT, "sync", "fsync before each commit returns");
    inserts_mode(p, copy, OP_INSERT_FAST, "fast", "no fsync: OS cache only");
    rm_rf(copy);
}

/* ---- git rows ------------------------------------------------------------------ */

/* A git killed at a time limit leaves its index lock behind (our scratch
 * repository only). */
static void unlock_repo(const char *repo)
{
    char lock[4300];
    snprintf(lock, sizeof lock, "%s/.git/index.lock", repo);
    remove(lock);
}

/* Has the workspace's repository a merge driver for pv registered? */
static int driver_registered(struct pvb *p, const char *repo)
{
    double secs;
    char out[4200];
    snprintf(out, sizeof out, "%s.config", p->log);
    remove(out);
    char *argv[] = {"git", "-C", (char *)repo, "config", "--get-regexp", "^merge\\..*\\.driver$", NULL};
    int rc = run_cmd(NULL, NULL, out, &secs, argv);
    long long n = file_size(out);
    remove(out);
    return rc == 0 && n > 0;
}

/* `git merge b` on branch a of `repo`, timed (between runs `git reset
 * --hard a-tip`, untimed); the merged workspace must hold `want` rows.
 * Fills row `op` of PicoVolt's column. */
static void time_merge(struct pvb *p, const char *repo, int op, long want)
{
    struct bench *b = p->b;
    /* one merge may take up to `limit`; more runs only while they are cheap */
    double limit = b->quick ? 30 : 120, enough = b->quick ? 15 : 45, spent = 0, saved = bench_cmd_timeout;
    double secs, t[16];
    char err[300] = "";
    long n = 0;
    int done_runs = 0, runs = b->merge_runs;
    for (int i = 0; i < runs; i++) { /* no warm-up, as the CSV+git row */
        int rc;
        if (bench_git(repo, p->log, &secs, "reset", "-q", "--hard", "a-tip", NULL)) {
            cell_na(b, op, COL_PV, "git reset failed: %s", log_tail(p->log));
            return;
        }
        bench_cmd_timeout = limit;
        rc = bench_git(repo, p->log, &secs, "merge", "-q", "--no-edit", "b", NULL);
        bench_cmd_timeout = saved;
        if (rc == RUN_TIMEOUT && done_runs) {
            unlock_repo(repo);
            bench_git(repo, p->log, &secs, "merge", "--abort", NULL);
            break; /* keep the runs that finished */
        }
        if (rc == RUN_TIMEOUT) {
            double lb = limit;
            cell_values(b, op, COL_PV, &lb, 1);
            b->cells[op][COL_PV].lower_bound = 1;
            msgf(b->cells[op][COL_PV].note, sizeof b->cells[0][0].note,
                 "PicoVolt: the merge was stopped at the %.0f s time limit (the figure is a lower bound)", limit);
            unlock_repo(repo);
            bench_git(repo, p->log, &secs, "merge", "--abort", NULL);
            return;
        }
        if (rc) {
            cell_na(b, op, COL_PV, "git merge failed: %s", log_tail(p->log));
            return;
        }
        t[done_runs++] = secs;
        spent += secs;
        if (spent > enough) break; /* expensive: fewer runs, said in the details */
    }
    if (count_rows(repo, &n, err, sizeof err) != 0) {
        cell_na(b, op, COL_PV, "%s", err);
    } else if (n != want) {
        cell_na(b, op, COL_PV, "the merged workspace has %ld rows, expected %ld", n, want);
    } else {
        cell_values(b, op, COL_PV, t, done_runs);
        b->cells[op][COL_PV].has_check = 1;
        b->cells[op][COL_PV].check = check_mix((uint64_t)n);
        b->cells[op][COL_PV].answer_rows = n;
    }
}

/* The base committed as it is in `repo`'s work tree, on branch a (tag
 * base); a and b then each import their own appended rows. */
static int make_branches(struct pvb *p, const char *repo, char *err, size_t errlen)
{
    struct bench *b = p->b;
    char csv_a[4200], csv_b[4200];
    double secs;
    char *imp_a[] = {p->pvdev, "import", "flights", csv_a, "--key", "id", NULL};
    char *imp_b[] = {p->pvdev, "import", "flights", csv_b, "--key", "id", NULL};
    snprintf(csv_a, sizeof csv_a, "%s/append-a.csv", b->cache);
    snprintf(csv_b, sizeof csv_b, "%s/append-b.csv", b->cache);
    if (csv_write_rows(csv_a, b, 0, b->merge_rows, b->max_id + 1, 1, 0) ||
        csv_write_rows(csv_b, b, b->merge_rows, b->merge_rows, b->max_id + 1 + b->merge_rows, 1, 0)) {
        msgf(err, errlen, "cannot prepare the scratch repository");
        return -1;
    }
    if (bench_git(repo, p->log, &secs, "symbolic-ref", "HEAD", "refs/heads/a", NULL) ||
        bench_git(repo, p->log, &secs, "add", ".", NULL) ||
        bench_git(repo, p->log, &secs, "commit", "-q", "-m", "base", NULL) ||
        bench_git(repo, p->log, &secs, "branch", "base", NULL) ||
        tool(p, repo, &secs, imp_a, err, errlen) || bench_git(repo, p->log, &secs, "add", ".", NULL) ||
        bench_git(repo, p->log, &secs, "commit", "-q", "-m", "a: append rows", NULL) ||
        bench_git(repo, p->log, &secs, "tag", "a-tip", NULL) ||
        bench_git(repo, p->log, &secs, "switch", "-q", "-c", "b", "base", NULL) ||
        tool(p, repo, &secs, imp_b, err, errlen) || bench_git(repo, p->log, &secs, "add", ".", NULL) ||
        bench_git(repo, p->log, &secs, "commit", "-q", "-m", "b: append other rows", NULL) ||
        bench_git(repo, p->log, &secs, "switch", "-q", "a", NULL)) {
        if (!err[0]) msgf(err, errlen, "%s", log_tail(p->log));
        return -1;
    }
    return 0;
}

/* The driver that `pvdev init` registers runs `pvdev`: put ours first on
 * PATH. Returns whether the driver is registered in `repo` (after a
 * `pvdev git-setup` if needed); else the cell of `op` says why not. */
static int merge_ready(struct pvb *p, const char *repo, int op, char *err, size_t errlen)
{
    double secs;
    if (driver_registered(p, repo)) return 1;
    if (has_command(p, "git-setup")) {
        char *setup[] = {p->pvdev, "git-setup", NULL};
        if (tool(p, repo, &secs, setup, err, errlen) != 0) return -1;
    }
    if (driver_registered(p, repo)) return 1;
    cell_na(p->b, op, COL_PV, "pvdev merge-driver exists, but neither `pvdev init` nor a "
                              "`pvdev git-setup` registers it with git yet (no merge.pv.driver): "
                              "git would do a line merge of the chunk files");
    return 0;
}

static void path_with_build(struct pvb *p)
{
    const char *old_path = getenv("PATH");
    char path[8400];
    snprintf(path, sizeof path, "%s:%s", p->b->build, old_path ? old_path : "/usr/bin:/bin");
    setenv("PATH", path, 1);
}

static void git_rows(struct pvb *p)
{
    struct bench *b = p->b;
    char repo[4200], err[300] = "";
    double secs, t[16];
    long want = b->nrows + 2 * b->merge_rows;
    int has_merge = has_command(p, "merge-driver"), has_diff = has_command(p, "diff");
    char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;

    if (!has_merge)
        cell_na(b, OP_MERGE, COL_PV, "pvdev has no merge-driver yet: git's line merge of chunk files is "
                                     "not a PicoVolt merge, so there is nothing honest to time");
    if (!has_diff) cell_na(b, OP_DIFF, COL_PV, "pvdev has no diff command yet");
    if (!has_merge && !has_diff) goto done;

    path_with_build(p);
    snprintf(repo, sizeof repo, "%s/pv-git", b->cache);
    say("pv: scratch git repository (%ld + 2 x %ld rows)", b->nrows, b->merge_rows);
    rm_rf(repo);
    /* the workspace of the build (pvdev init + import in a repository of
     * its own, nothing committed yet) is the base: copy it */
    {
        char *cp[] = {"cp", "-a", p->ws, repo, NULL};
        if (tool(p, NULL, &secs, cp, err, sizeof err) != 0) goto fail;
    }
    if (has_merge) {
        int r = merge_ready(p, repo, OP_MERGE, err, sizeof err);
        if (r < 0) goto fail;
        has_merge = r;
    }
    if (!has_merge && !has_diff) goto done;
    if (make_branches(p, repo, err, sizeof err)) goto fail;

    if (has_merge) {
        say("pv: git merge with the pv merge driver");
        time_merge(p, repo, OP_MERGE, want);
    }
    if (has_diff) {
        /* one row changed in the work tree (an UPDATE appends its new
         * version), then `pvdev diff` against the commit */
        char sql[160], out[4200];
        pv_db *db = NULL;
        int druns = b->quick ? 2 : 3; /* as the CSV+git row */
        char *diff[] = {p->pvdev, "diff", NULL};
        say("pv: pvdev diff of one changed row");
        snprintf(out, sizeof out, "%s/pv-diff.out", b->cache);
        snprintf(sql, sizeof sql, "UPDATE flights SET distance = distance + 1 WHERE id = %ld", b->nrows / 2);
        if (bench_git(repo, p->log, &secs, "reset", "-q", "--hard", "a-tip", NULL)) {
            cell_na(b, OP_DIFF, COL_PV, "git reset failed: %s", log_tail(p->log));
            goto done;
        }
        if (pv_open(repo, PV_OPEN_READWRITE, &db) != PV_OK || pv_exec(db, sql) != PV_OK) {
            cell_na(b, OP_DIFF, COL_PV, "cannot change one row: %s", pv_errmsg());
            pv_close(db);
            goto done;
        }
        pv_close(db);
        for (int i = -1; i < druns; i++) {
            remove(out);
            int rc = run_cmd(repo, NULL, out, &secs, diff);
            if (rc != 0 || file_size(out) <= 0) {
                cell_na(b, OP_DIFF, COL_PV, "`pvdev diff` failed (exit %d): %s", rc, log_tail(out));
                goto done;
            }
            if (i >= 0) t[i] = secs;
        }
        cell_values(b, OP_DIFF, COL_PV, t, druns);
        msgf(b->cells[OP_DIFF][COL_PV].note, sizeof b->cells[0][0].note,
             "PicoVolt: `pvdev diff` after `UPDATE … WHERE id = %ld`; its output is only checked to be non-empty",
             b->nrows / 2);
    }
    goto done;
fail:
    if (!err[0]) msgf(err, sizeof err, "%s", log_tail(p->log));
    if (has_merge) cell_na(b, OP_MERGE, COL_PV, "scratch repository: %s", err);
    if (has_diff) cell_na(b, OP_DIFF, COL_PV, "scratch repository: %s", err);
done:
    if (old_path) setenv("PATH", old_path, 1);
    free(old_path);
}

/* Issue 5's scale: a base of 1,000,000 rows (every row in quick mode's
 * smaller data), imported into a repository of its own, then the same two
 * branches and the same timed `git merge` as above. */
void sys_pv_merge1m(struct bench *b)
{
    struct pvb p;
    char repo[4200], csv[4200], err[300] = "";
    double secs;
    long base = b->nrows < 1000000 ? b->nrows : 1000000;
    char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    char *init[] = {p.pvdev, "init", NULL};
    char *import[] = {p.pvdev, "import", "flights", csv, "--key", "id", NULL};
    int r;

    memset(&p, 0, sizeof p);
    p.b = b;
    snprintf(p.pvdev, sizeof p.pvdev, "%s/pvdev", b->build);
    snprintf(p.log, sizeof p.log, "%s/pv-merge1m.log", b->cache);
    snprintf(repo, sizeof repo, "%s/pv-git-1m", b->cache);
    snprintf(csv, sizeof csv, "%s/base-1m.csv", b->cache);
    remove(p.log);
    if (access(p.pvdev, X_OK) != 0 || !has_command(&p, "merge-driver")) {
        cell_na(b, OP_MERGE_1M, COL_PV, "pvdev or its merge-driver not built");
        goto done;
    }
    path_with_build(&p);
    say("pv: scratch git repository for the merge at issue 5's scale (%ld + 2 x %ld rows)", base, b->merge_rows);
    rm_rf(repo);
    if (mkdir_p(repo) != 0 || csv_write_rows(csv, b, 0, base, 1, 1, 0) != 0) {
        msgf(err, sizeof err, "cannot prepare '%s'", repo);
        goto fail;
    }
    if (bench_git(repo, p.log, &secs, "init", "-q", NULL) || tool(&p, repo, &secs, init, err, sizeof err) ||
        tool(&p, repo, &secs, import, err, sizeof err))
        goto fail;
    remove(csv);
    if ((r = merge_ready(&p, repo, OP_MERGE_1M, err, sizeof err)) < 0) goto fail;
    if (!r) goto done;
    if (make_branches(&p, repo, err, sizeof err)) goto fail;
    say("pv: git merge with the pv merge driver (%ld-row base)", base);
    time_merge(&p, repo, OP_MERGE_1M, base + 2 * b->merge_rows);
    rm_rf(repo); /* scratch */
    goto done;
fail:
    if (!err[0]) msgf(err, sizeof err, "%s", log_tail(p.log));
    cell_na(b, OP_MERGE_1M, COL_PV, "scratch repository: %s", err);
done:
    if (old_path) setenv("PATH", old_path, 1);
    free(old_path);
}

/* ---- the column ----------------------------------------------------------------- */

void sys_pv(struct bench *b)
{
    struct pvb p;
    char err[400] = "";
    double total[4], imp[4], bake[4], spent = 0, sz;
    int n = 0;

    memset(&p, 0, sizeof p);
    p.b = b;
    snprintf(b->versions[COL_PV], sizeof b->versions[0], "%s (libpv.a)", pv_version());
    snprintf(p.pvdev, sizeof p.pvdev, "%s/pvdev", b->build);
    snprintf(p.pvbake, sizeof p.pvbake, "%s/pvbake", b->build);
    snprintf(p.ws, sizeof p.ws, "%s/pv-ws", b->cache);
    snprintf(p.pvdb, sizeof p.pvdb, "%s/flights.pvdb", b->cache);
    snprintf(p.log, sizeof p.log, "%s/pv-tools.log", b->cache);
    remove(p.log);

    if (access(p.pvdev, X_OK) != 0 || access(p.pvbake, X_OK) != 0) {
        msgf(err, sizeof err, "%s not built yet (run make)", access(p.pvdev, X_OK) ? "pvdev" : "pvbake");
        goto na;
    }
    say("pv: building (pvdev init, pvdev import, pvbake)");
    while (n < 3) {
        if (build(&p, &total[n], &imp[n], &bake[n], err, sizeof err) != 0) goto na;
        spent += total[n++];
        if (n >= b->build_runs && spent > (b->quick ? 1.0 : 8)) break;
    }
    cell_values(b, OP_BUILD, COL_PV, total, n);
    cell_values(b, OP_IMPORT, COL_PV, imp, n);
    cell_values(b, OP_BAKE, COL_PV, bake, n);
    for (int op = OP_BUILD; op <= OP_BAKE; op++) b->cells[op][COL_PV].ops_min = b->cells[op][COL_PV].ops_max = 1;
    sz = (double)file_size(p.pvdb);
    cell_values(b, OP_SIZE, COL_PV, &sz, 1);
    {
        char ws[4200];
        snprintf(ws, sizeof ws, "%s/.pv", p.ws);
        msgf(b->cells[OP_SIZE][COL_PV].note, sizeof b->cells[0][0].note,
                 "PicoVolt: the .pv/ workspace it was baked from holds %.1f MB", (double)tree_size(ws) / 1e6);
    }

    say("pv: reads");
    long long rss0 = rss_bytes();
    if (pv_open(p.pvdb, PV_OPEN_READONLY, &p.db) != PV_OK) {
        msgf(err, sizeof err, "pv_open('%s') failed: %s", p.pvdb, pv_errmsg());
        goto na_reads;
    }
    if (rss0 >= 0 && rss_bytes() >= 0) b->pv_open_rss = rss_bytes() - rss0;
    if (pv_prepare(p.db, SQL_LOOKUP, (size_t)-1, &p.get, NULL) != PV_OK) {
        cell_na(b, OP_LOOKUP, COL_PV, "cannot prepare the lookup: %s", pv_errmsg());
    } else {
        measure_lookups(b, COL_PV, p_get, &p, b->lookup_budget);
    }
    if (pv_getter_open(p.db, "flights", &p.getter) != PV_OK) {
        cell_na(b, OP_GET, COL_PV, "cannot open a getter: %s", pv_errmsg());
    } else {
        measure_lookups_op(b, OP_GET, COL_PV, p_getter, &p, b->lookup_budget);
        if (p.get) measure_lookups_alt(b, p_get, p_getter, &p);
        pv_getter_close(p.getter);
    }
    if (pv_prepare(p.db, SQL_RANGE, (size_t)-1, &p.range, NULL) != PV_OK) {
        cell_na(b, OP_RANGE, COL_PV, "cannot prepare the range: %s", pv_errmsg());
    } else {
        const struct cell *one = &b->cells[OP_RANGE][COL_PV], *span = &b->cells[OP_RANGE_SPAN][COL_PV];
        measure_ranges(b, COL_PV, p_range, &p);
        measure_ranges_op(b, OP_RANGE_SPAN, COL_PV, p_range_span, &p);
        if (one->state == CELL_OK && span->state == CELL_OK && one->check != span->check)
            cell_na(b, OP_RANGE_SPAN, COL_PV, "spans gave another answer than pv_column_* (checksum)");
    }
    measure_queries(b, COL_PV, p_query, &p);
    measure_ops(b, OP_VERIFY, COL_PV, p_verify, &p, 1, 600, b->quick ? 1 : 3);
    pv_finalize(p.get);
    pv_finalize(p.range);
    pv_close(p.db);
    {
        const char *evict[] = {p.pvdb, NULL};
        measure_open(b, COL_PV, p_open_get_close, &p, evict);
    }
    say("pv: autocommit inserts into the workspace");
    inserts(&p);
    git_rows(&p); /* copies the build's workspace: before rebake() adds rows to it */
    say("pv: re-bake after one changed row");
    rebake(&p);
    libpv_size(&p);
    return;
na:
    for (int op = OP_BUILD; op <= OP_SIZE; op++) cell_na(b, op, COL_PV, "%s", err);
na_reads:
    for (int op = OP_OPEN; op < OP_COUNT; op++) cell_na(b, op, COL_PV, "%s", err);
}

#endif
