/*
 * bench.c: the benchmark driver. Loads the flights rows once, draws the
 * keys from a fixed-seed PRNG, lets every system module fill its column,
 * then checks the answers against each other and writes the table.
 *
 * Usage (bench/run.sh calls it):
 *   bench --top DIR --build DIR --cache DIR --csv FILE --mode full|quick
 *         [--duckdb LIBDUCKDB.so | --no-duckdb REASON] [--only LIST]
 *         [--out results.md]
 *   LIST: comma-separated of sqlite, lmdb, cdb, duckdb, pv, git, airports,
 *   merge1m (the 1,000,000-row-base merge alone, PicoVolt and CSV+git)
 */
#include "bench.h"

#include <errno.h>
#include <signal.h>
#include <fcntl.h>
#include <ftw.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

volatile uint64_t bench_sink;

const char *const SQL_SUM = "SELECT SUM(delay) FROM flights";
const char *const SQL_GROUP = "SELECT origin, COUNT(*), AVG(delay) FROM flights GROUP BY origin";
const char *const SQL_FILTER = "SELECT COUNT(*) FROM flights WHERE origin = 'SFO' AND delay > 60";
const char *const SQL_LOOKUP =
    "SELECT id, date, delay, distance, origin, destination FROM flights WHERE id = ?";
const char *const SQL_RANGE =
    "SELECT id, date, delay, distance, origin, destination FROM flights WHERE id >= ? AND id <= ?";

/* ---- small helpers -------------------------------------------------------- */

uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void die(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "bench: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(1);
}

static uint64_t t_start;

void say(const char *fmt, ...)
{
    va_list ap;
    if (!t_start) t_start = now_ns();
    fprintf(stderr, "bench: [%5.1f s] ", (double)(now_ns() - t_start) / 1e9);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

void cell_na(struct bench *b, enum op_id op, enum sys_col col, const char *fmt, ...)
{
    struct cell *c = &b->cells[op][col];
    va_list ap;
    memset(c, 0, sizeof *c);
    c->state = CELL_NA;
    va_start(ap, fmt);
    vsnprintf(c->note, sizeof c->note, fmt, ap);
    va_end(ap);
}

void msgf(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, cap, fmt, ap);
    va_end(ap);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void cell_values(struct bench *b, enum op_id op, enum sys_col col, const double *vals, int n)
{
    struct cell *c = &b->cells[op][col];
    double *v;
    if (n <= 0) return;
    v = malloc((size_t)n * sizeof *v);
    if (!v) die("out of memory");
    memcpy(v, vals, (size_t)n * sizeof *v);
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    c->state = CELL_OK;
    c->runs = n;
    c->ops_min = c->ops_max = 1;
    c->min = v[0];
    c->max = v[n - 1];
    c->med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    free(v);
}

long long file_size(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static long long tree_bytes;
static int tree_add(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)p, (void)f;
    if (flag == FTW_F) tree_bytes += st->st_size;
    return 0;
}

long long tree_size(const char *dir)
{
    tree_bytes = 0;
    if (nftw(dir, tree_add, 16, FTW_PHYS) != 0) return -1;
    return tree_bytes;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)f;
    return (flag == FTW_DP ? rmdir(p) : unlink(p)) == 0 || errno == ENOENT ? 0 : -1;
}

int rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return errno == ENOENT ? 0 : -1;
    return nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int mkdir_p(const char *path)
{
    char tmp[4096];
    size_t i, n = strlen(path);
    if (n >= sizeof tmp) return -1;
    memcpy(tmp, path, n + 1);
    for (i = 1; i <= n; i++) {
        if (tmp[i] == '/' || tmp[i] == 0) {
            char c = tmp[i];
            tmp[i] = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return -1;
            tmp[i] = c;
        }
    }
    return 0;
}

int evict_file(const char *path)
{
    int fd = open(path, O_RDONLY);
    int rc;
    if (fd < 0) return -1;
    fsync(fd); /* dirty pages cannot be dropped */
    rc = posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    close(fd);
    return rc == 0 ? 0 : -1;
}

/* Fraction of the file's pages still in the page cache (mincore). */
static double resident_fraction(const char *path)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    void *m;
    unsigned char *vec;
    size_t pages, i, in = 0, pg = (size_t)sysconf(_SC_PAGESIZE);
    if (fd < 0) return -1;
    if (fstat(fd, &st) != 0 || st.st_size == 0) {
        close(fd);
        return -1;
    }
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return -1;
    pages = ((size_t)st.st_size + pg - 1) / pg;
    vec = malloc(pages);
    if (vec && mincore(m, (size_t)st.st_size, vec) == 0)
        for (i = 0; i < pages; i++) in += vec[i] & 1;
    munmap(m, (size_t)st.st_size);
    free(vec);
    return (double)in / (double)pages;
}

double bench_cmd_timeout;

int run_cmd(const char *cwd, const char *in_path, const char *log_path, double *secs,
            char *const argv[])
{
    uint64_t t0 = now_ns();
    int status, killed = 0;
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setpgid(0, 0); /* its own group: a timeout kills it and its children */
        int in = open(in_path ? in_path : "/dev/null", O_RDONLY);
        int out = open(log_path ? log_path : "/dev/null", O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (in < 0 || out < 0) _exit(126);
        dup2(in, 0);
        dup2(out, 1);
        dup2(out, 2);
        if (cwd && chdir(cwd) != 0) _exit(126);
        execvp(argv[0], argv);
        dprintf(2, "cannot run '%s': %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);
    for (;;) {
        pid_t w = waitpid(pid, &status, bench_cmd_timeout > 0 ? WNOHANG : 0);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) return -1;
        if (bench_cmd_timeout > 0 && (double)(now_ns() - t0) / 1e9 > bench_cmd_timeout && !killed) {
            kill(-pid, SIGKILL);
            killed = 1;
        }
        if (w == 0) {
            struct timespec ts = {0, 5000000};
            nanosleep(&ts, NULL);
        }
    }
    if (secs) *secs = (double)(now_ns() - t0) / 1e9;
    if (killed) return RUN_TIMEOUT;
    if (WIFEXITED(status)) return WEXITSTATUS(status) == 127 ? -1 : WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

const char *log_tail(const char *log_path)
{
    static char last[200];
    char line[1024];
    FILE *f = fopen(log_path, "r");
    last[0] = 0;
    if (!f) return "no log";
    while (fgets(line, sizeof line, f)) {
        size_t n = strcspn(line, "\r\n");
        line[n] = 0;
        if (n) msgf(last, sizeof last, "%s", line);
    }
    fclose(f);
    for (char *p = last; *p; p++)
        if (*p == '|') *p = '/'; /* keep the markdown table intact */
    return last;
}

/* ---- checksums ------------------------------------------------------------ */

void rh_begin(struct rowhash *r) { r->h = 0xcbf29ce484222325ULL; }

static void rh_bytes(struct rowhash *r, const void *p, size_t n)
{
    const unsigned char *s = p;
    while (n--) r->h = (r->h ^ *s++) * 0x100000001b3ULL;
}

static int looks_real(const char *t, size_t n)
{
    size_t i = 0;
    int digits = 0, dot = 0;
    if (i < n && (t[i] == '-' || t[i] == '+')) i++;
    for (; i < n; i++) {
        if (t[i] >= '0' && t[i] <= '9') digits++;
        else if (t[i] == '.' && !dot) dot = 1;
        else if ((t[i] == 'e' || t[i] == 'E') && digits) return 1;
        else return 0;
    }
    return digits && dot;
}

void rh_text(struct rowhash *r, const char *text, size_t len)
{
    char buf[64];
    if (!text) {
        rh_bytes(r, "\\N", 2);
    } else if (len < 40 && looks_real(text, len)) {
        memcpy(buf, text, len);
        buf[len] = 0;
        int k = snprintf(buf, sizeof buf, "%.6f", strtod(buf, NULL));
        if (!strcmp(buf, "-0.000000")) memmove(buf, buf + 1, (size_t)k--);
        rh_bytes(r, buf, (size_t)k);
    } else {
        rh_bytes(r, text, len);
    }
    rh_bytes(r, "\x1f", 1);
}

uint64_t rh_end(const struct rowhash *r) { return check_mix(r->h); }

uint64_t frow_hash(const struct frow *row)
{
    struct rowhash r;
    char n[32];
    rh_begin(&r);
    rh_text(&r, n, (size_t)snprintf(n, sizeof n, "%lld", (long long)row->id));
    rh_text(&r, row->date, strlen(row->date));
    rh_text(&r, n, (size_t)snprintf(n, sizeof n, "%d", row->delay));
    rh_text(&r, n, (size_t)snprintf(n, sizeof n, "%d", row->distance));
    rh_text(&r, row->origin, strlen(row->origin));
    rh_text(&r, row->dest, strlen(row->dest));
    return rh_end(&r);
}

size_t frow_pack(const struct frow *r, unsigned char *out, size_t cap)
{
    size_t n = 0, l;
    const char *s[3] = {r->date, r->origin, r->dest};
    if (cap < 8) return 0;
    for (int i = 0; i < 4; i++) out[n++] = (unsigned char)((uint32_t)r->delay >> (8 * i));
    for (int i = 0; i < 4; i++) out[n++] = (unsigned char)((uint32_t)r->distance >> (8 * i));
    for (int k = 0; k < 3; k++) {
        l = strlen(s[k]);
        if (n + 1 + l > cap) return 0;
        out[n++] = (unsigned char)l;
        memcpy(out + n, s[k], l);
        n += l;
    }
    return n;
}

int frow_unpack(const unsigned char *p, size_t n, int64_t id, struct frow *out)
{
    size_t o = 8, l;
    char *d[3] = {out->date, out->origin, out->dest};
    size_t cap[3] = {sizeof out->date, sizeof out->origin, sizeof out->dest};
    if (n < 8) return -1;
    out->id = id;
    out->delay = (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                           (uint32_t)p[3] << 24);
    out->distance = (int32_t)((uint32_t)p[4] | (uint32_t)p[5] << 8 | (uint32_t)p[6] << 16 |
                              (uint32_t)p[7] << 24);
    for (int k = 0; k < 3; k++) {
        if (o >= n) return -1;
        l = p[o++];
        if (l >= cap[k] || o + l > n) return -1;
        memcpy(d[k], p + o, l);
        d[k][l] = 0;
        o += l;
    }
    return 0;
}

/* ---- CSV -------------------------------------------------------------------- */

static int parse_i64(const char *s, const char *e, int64_t *out)
{
    int neg = 0;
    int64_t v = 0;
    if (s < e && *s == '-') neg = 1, s++;
    if (s == e) return -1;
    for (; s < e; s++) {
        if (*s < '0' || *s > '9') return -1;
        v = v * 10 + (*s - '0');
    }
    *out = neg ? -v : v;
    return 0;
}

static int copy_field(char *dst, size_t cap, const char *s, const char *e)
{
    size_t n = (size_t)(e - s);
    if (n >= cap) return -1;
    memcpy(dst, s, n);
    dst[n] = 0;
    return 0;
}

long csv_each(const char *path, row_fn fn, void *ctx)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    const char *m, *p, *end;
    long n = 0, line = 1;
    if (fd < 0 || fstat(fd, &st) != 0) {
        fprintf(stderr, "bench: cannot open '%s': %s\n", path, strerror(errno));
        if (fd >= 0) close(fd);
        return -1;
    }
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return -1;
    madvise((void *)m, (size_t)st.st_size, MADV_SEQUENTIAL);
    end = m + st.st_size;
    p = memchr(m, '\n', (size_t)st.st_size); /* header */
    p = p ? p + 1 : end;
    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *f[7];
        struct frow r;
        int64_t v;
        int k = 1;
        if (!eol) eol = end;
        line++;
        f[0] = p;
        for (const char *q = p; q < eol && k < 7; q++) {
            if (*q == ',') f[k++] = q + 1;
            else if (*q == '"') goto bad;
        }
        if (k != 6) goto bad;
        f[6] = eol + 1;
        memset(&r, 0, sizeof r);
        if (parse_i64(f[0], f[1] - 1, &r.id)) goto bad;
        if (copy_field(r.date, sizeof r.date, f[1], f[2] - 1)) goto bad;
        if (parse_i64(f[2], f[3] - 1, &v)) goto bad;
        r.delay = (int32_t)v;
        if (parse_i64(f[3], f[4] - 1, &v)) goto bad;
        r.distance = (int32_t)v;
        if (copy_field(r.origin, sizeof r.origin, f[4], f[5] - 1)) goto bad;
        if (copy_field(r.dest, sizeof r.dest, f[5], eol > f[5] && eol[-1] == '\r' ? eol - 1 : eol))
            goto bad;
        if (fn(ctx, &r) != 0) {
            munmap((void *)m, (size_t)st.st_size);
            return -1;
        }
        n++;
        p = eol + 1;
    }
    munmap((void *)m, (size_t)st.st_size);
    return n;
bad:
    fprintf(stderr, "bench: %s:%ld: not a flights row (id,date,delay,distance,origin,destination)\n",
            path, line);
    munmap((void *)m, (size_t)st.st_size);
    return -1;
}

int csv_write_rows(const char *path, const struct bench *b, long from, long n, int64_t first_id,
                   int hdr, int append)
{
    FILE *f = fopen(path, append ? "a" : "w");
    if (!f) return -1;
    if (hdr) fputs("id,date,delay,distance,origin,destination\n", f);
    for (long i = 0; i < n; i++) {
        const struct frow *r = &b->rows[(from + i) % b->nrows];
        fprintf(f, "%lld,%s,%d,%d,%s,%s\n", (long long)(first_id + i), r->date, r->delay,
                r->distance, r->origin, r->dest);
    }
    return fclose(f) == 0 ? 0 : -1;
}

/* ---- generic measuring loops ------------------------------------------------ */

/* Check the clock every op while ops are slow, every 64 once they are fast. */
#define CLOCK_CHECK(i, mask, t0, deadline, stop)                                          \
    do {                                                                                  \
        if (((i) & (mask)) == 0) {                                                        \
            uint64_t t_ = now_ns();                                                       \
            if (t_ > (deadline)) stop = 1;                                                \
            else if ((i) == 64 && t_ - (t0) < 64u * 2000u) mask = 63;                      \
        }                                                                                 \
    } while (0)

static long lookup_run(get_fn get, void *ctx, const int64_t *keys, long n, uint64_t budget,
                       int *err)
{
    uint64_t t0 = now_ns(), deadline = t0 + budget, s = 0;
    long i = 0, mask = 0;
    int stop = 0;
    struct frow r;
    while (i < n && !stop) {
        int rc = get(ctx, keys[i], &r);
        if (rc < 0) {
            *err = rc;
            return -1;
        }
        if (rc) s += frow_touch(&r);
        i++;
        CLOCK_CHECK(i, mask, t0, deadline, stop);
    }
    bench_sink += s;
    return i;
}

static void fill_runs(struct bench *b, enum op_id op, enum sys_col col, const double *per_op,
                      const long *ops, int n, long max_ops)
{
    struct cell *c = &b->cells[op][col];
    cell_values(b, op, col, per_op, n);
    c->ops_min = c->ops_max = ops[0];
    for (int i = 0; i < n; i++) {
        if (ops[i] < c->ops_min) c->ops_min = ops[i];
        if (ops[i] > c->ops_max) c->ops_max = ops[i];
        if (ops[i] < max_ops) c->budget_cut = 1;
    }
}

/* The warm-up before timed lookups: a tenth of the keys, within half the
 * budget (at most 1 s). 0, or -1 with *err. */
static int lookup_warm(const struct bench *b, get_fn get, void *ctx, double budget, int *err)
{
    return lookup_run(get, ctx, b->keys, b->nkeys / 10 + 1, (uint64_t)((budget < 2 ? budget : 2) * 0.5e9), err) < 0
               ? -1 : 0;
}

/* One timed run over all the keys: *per seconds per lookup, *ops lookups
 * done. 0, or -1 with *err. */
static int lookup_timed(const struct bench *b, get_fn get, void *ctx, double budget, double *per, long *ops,
                        int *err)
{
    uint64_t t0 = now_ns();
    long n = lookup_run(get, ctx, b->keys, b->nkeys, (uint64_t)(budget * 1e9), err);
    if (n < 0) return -1;
    *per = (double)(now_ns() - t0) / 1e9 / (double)n;
    *ops = n;
    return 0;
}

void measure_lookups_op(struct bench *b, enum op_id op, enum sys_col col, get_fn get, void *ctx,
                        double budget)
{
    double per[32];
    long ops[32];
    int err = 0, runs = b->runs;
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    long nv = b->nkeys < 32 ? b->nkeys : 32; /* small: a slow system must finish it */
    struct frow r;

    /* verification pass: the first keys, one absent below and above */
    for (long i = -1; i <= nv; i++) {
        int64_t k = i < 0 ? 0 : i == nv ? b->max_id + 1 : b->keys[i];
        int rc = get(ctx, k, &r);
        if (rc < 0) {
            cell_na(b, op, col, "lookup of key %lld failed (%d)", (long long)k, rc);
            return;
        }
        h = check_mix(h ^ (rc ? frow_hash(&r) : (uint64_t)k * 31 + 7));
    }
    /* warm-up, then the timed runs */
    if (lookup_warm(b, get, ctx, budget, &err)) goto fail;
    for (int i = 0; i < runs; i++)
        if (lookup_timed(b, get, ctx, budget, &per[i], &ops[i], &err)) goto fail;
    fill_runs(b, op, col, per, ops, runs, b->nkeys);
    b->cells[op][col].has_check = 1;
    b->cells[op][col].check = h;
    b->cells[op][col].answer_rows = nv + 2;
    return;
fail:
    cell_na(b, op, col, "lookup failed (%d)", err);
}

void measure_lookups(struct bench *b, enum sys_col col, get_fn get, void *ctx, double budget)
{
    measure_lookups_op(b, OP_LOOKUP, col, get, ctx, budget);
}

/* Lookups of three readers over the same keys, run k of each in turn
 * (LMDB, PicoVolt's statement, pv_get), so that each run of one sits next
 * to a run of the others: the host's speed drifts by 10-25% over minutes,
 * and rows measured a minute apart took that drift into their ratio. The
 * answers were checked in OP_LOOKUP and OP_GET, whose checksums these
 * rows take. */
/* Cell [op][col] takes the answer checksum of [from][col]. */
static void take_check(struct bench *b, int op, int col, int from)
{
    const struct cell *c = &b->cells[from][col];
    b->cells[op][col].has_check = c->has_check;
    b->cells[op][col].check = c->check;
    b->cells[op][col].answer_rows = c->answer_rows;
}

void measure_lookups_alt(struct bench *b, get_fn stmt, get_fn get, void *ctx)
{
    get_fn fn[3] = {b->alt_get, stmt, get};
    void *cx[3] = {b->alt_ctx, ctx, ctx};
    double per[3][32];
    long ops[3][32];
    int err = 0, runs = b->runs, k;
    if (!b->alt_get) return;
    for (k = 0; k < 3; k++)
        if (lookup_warm(b, fn[k], cx[k], b->lookup_budget, &err)) goto fail;
    for (int i = 0; i < runs; i++)
        for (k = 0; k < 3; k++)
            if (lookup_timed(b, fn[k], cx[k], b->lookup_budget, &per[k][i], &ops[k][i], &err)) goto fail;
    fill_runs(b, OP_LOOKUP_ALT, COL_LMDB, per[0], ops[0], runs, b->nkeys);
    fill_runs(b, OP_LOOKUP_ALT, COL_PV, per[1], ops[1], runs, b->nkeys);
    fill_runs(b, OP_GET_ALT, COL_LMDB, per[0], ops[0], runs, b->nkeys);
    fill_runs(b, OP_GET_ALT, COL_PV, per[2], ops[2], runs, b->nkeys);
    take_check(b, OP_LOOKUP_ALT, COL_LMDB, OP_LOOKUP);
    take_check(b, OP_LOOKUP_ALT, COL_PV, OP_LOOKUP);
    take_check(b, OP_GET_ALT, COL_LMDB, OP_LOOKUP); /* (LMDB's OP_GET is copied at the end) */
    take_check(b, OP_GET_ALT, COL_PV, OP_GET);
    return;
fail: {
        static const char *const who[3] = {"LMDB's", "the statement's", "pv_get's"};
        cell_na(b, OP_LOOKUP_ALT, COL_LMDB, "%s lookup failed (%d)", who[k], err);
        cell_na(b, OP_LOOKUP_ALT, COL_PV, "%s lookup failed (%d)", who[k], err);
        cell_na(b, OP_GET_ALT, COL_LMDB, "%s lookup failed (%d)", who[k], err);
        cell_na(b, OP_GET_ALT, COL_PV, "%s lookup failed (%d)", who[k], err);
    }
}

struct range_acc { uint64_t sink, sum; long rows; int verify; };

static void range_emit(void *acc, const struct frow *row)
{
    struct range_acc *a = acc;
    a->rows++;
    if (a->verify) a->sum += frow_hash(row);
    else a->sink += frow_touch(row);
}

void measure_ranges(struct bench *b, enum sys_col col, range_fn range, void *ctx)
{
    measure_ranges_op(b, OP_RANGE, col, range, ctx);
}

void measure_ranges_op(struct bench *b, int op, enum sys_col col, range_fn range, void *ctx)
{
    double per[32];
    long ops[32];
    struct range_acc acc;
    long nv = b->nranges < 4 ? b->nranges : 4;
    int runs = b->runs;

    memset(&acc, 0, sizeof acc);
    acc.verify = 1;
    for (long i = 0; i < nv; i++) {
        long n = range(ctx, b->range_lo[i], b->range_lo[i] + b->range_len - 1, range_emit, &acc);
        if (n < 0) {
            cell_na(b, op, col, "range query failed (%ld)", n);
            return;
        }
    }
    uint64_t check = check_mix(acc.sum ^ (uint64_t)acc.rows);
    long vrows = acc.rows;
    for (int run = -1; run < runs; run++) {
        double budget = run < 0 ? b->range_budget / 2 : b->range_budget;
        uint64_t t0 = now_ns(), deadline = t0 + (uint64_t)(budget * 1e9);
        long i = 0, mask = 0, max = run < 0 ? b->nranges / 10 + 1 : b->nranges;
        int stop = 0;
        memset(&acc, 0, sizeof acc);
        while (i < max && !stop) {
            if (range(ctx, b->range_lo[i], b->range_lo[i] + b->range_len - 1, range_emit, &acc) < 0) {
                cell_na(b, op, col, "range query failed");
                return;
            }
            i++;
            CLOCK_CHECK(i, mask, t0, deadline, stop);
        }
        bench_sink += acc.sink;
        if (run >= 0) {
            per[run] = (double)(now_ns() - t0) / 1e9 / (double)i;
            ops[run] = i;
        }
    }
    fill_runs(b, op, col, per, ops, runs, b->nranges);
    b->cells[op][col].has_check = 1;
    b->cells[op][col].check = check;
    b->cells[op][col].answer_rows = vrows;
}

void measure_queries(struct bench *b, enum sys_col col, query_fn q, void *ctx)
{
    static const enum op_id ops_[3] = {OP_SUM, OP_GROUP, OP_FILTER};
    const char *sqls[3] = {SQL_SUM, SQL_GROUP, SQL_FILTER};
    for (int k = 0; k < 3; k++) {
        double per[32];
        char err[256] = "";
        uint64_t check = 0, c2;
        long rows = 0, r2;
        int runs = b->runs, unstable = 0;
        uint64_t t0 = now_ns();
        if (q(ctx, sqls[k], &check, &rows, err, sizeof err) < 0) {
            cell_na(b, ops_[k], col, "query failed: %s", err);
            continue;
        }
        if ((double)(now_ns() - t0) / 1e9 > (b->quick ? 2.0 : 20.0)) runs = 3;
        for (int i = 0; i < runs; i++) {
            t0 = now_ns();
            if (q(ctx, sqls[k], &c2, &r2, err, sizeof err) < 0) {
                cell_na(b, ops_[k], col, "query failed: %s", err);
                goto next;
            }
            per[i] = (double)(now_ns() - t0) / 1e9;
            if (c2 != check || r2 != rows) unstable = 1;
        }
        cell_values(b, ops_[k], col, per, runs);
        {
            struct cell *c = &b->cells[ops_[k]][col];
            c->has_check = 1;
            c->check = check;
            c->answer_rows = rows;
            c->ops_min = c->ops_max = 1;
            if (unstable) snprintf(c->note, sizeof c->note, "answer changed between runs");
            else if (runs < b->runs) snprintf(c->note, sizeof c->note, "%d runs (slow)", runs);
        }
    next:;
    }
}

void measure_open(struct bench *b, enum sys_col col, get_fn ogc, void *ctx,
                  const char *const *evict_paths)
{
    double per[32];
    long ops[32] = {0};
    int runs = b->runs, err = 0;
    struct frow r;
    uint64_t h = 0;
    long nv = 4;

    for (long i = 0; i < nv; i++) {
        int rc = ogc(ctx, b->keys[i], &r);
        if (rc < 0) {
            cell_na(b, OP_OPEN, col, "open + lookup failed (%d)", rc);
            cell_na(b, OP_COLD, col, "open + lookup failed (%d)", rc);
            return;
        }
        h += rc ? frow_hash(&r) : 1;
    }
    if (lookup_run(ogc, ctx, b->keys, b->open_ops / 10 + 1, (uint64_t)(b->open_budget * 0.5e9), &err) < 0)
        goto fail;
    for (int i = 0; i < runs; i++) {
        uint64_t t0 = now_ns();
        long n = lookup_run(ogc, ctx, b->keys, b->open_ops, (uint64_t)(b->open_budget * 1e9), &err);
        if (n < 0) goto fail;
        per[i] = (double)(now_ns() - t0) / 1e9 / (double)n;
        ops[i] = n;
    }
    fill_runs(b, OP_OPEN, col, per, ops, runs, b->open_ops);
    b->cells[OP_OPEN][col].has_check = 1;
    b->cells[OP_OPEN][col].check = check_mix(h);
    b->cells[OP_OPEN][col].answer_rows = nv;

    /* cold: evict, then one open + lookup + close; a warm-up run first */
    {
        double worst = 0;
        h = 0;
        for (int i = -1; i < runs; i++) {
            uint64_t t0;
            int rc;
            for (const char *const *p = evict_paths; *p; p++) {
                double f = 1;
                /* pages still on per-CPU LRU lists can survive one pass */
                for (int k = 0; k < 5 && f > 0.001; k++) {
                    evict_file(*p);
                    f = resident_fraction(*p);
                    if (f > 0.001) usleep(2000);
                }
                if (f > worst) worst = f;
            }
            t0 = now_ns();
            rc = ogc(ctx, b->keys[100 + i], &r);
            if (rc < 0) {
                cell_na(b, OP_COLD, col, "open + lookup failed (%d)", rc);
                return;
            }
            if (i >= 0) {
                per[i] = (double)(now_ns() - t0) / 1e9;
                h += rc ? frow_hash(&r) : 1;
            }
        }
        cell_values(b, OP_COLD, col, per, runs);
        b->cells[OP_COLD][col].ops_min = b->cells[OP_COLD][col].ops_max = 1;
        b->cells[OP_COLD][col].has_check = 1;
        b->cells[OP_COLD][col].check = check_mix(h);
        b->cells[OP_COLD][col].answer_rows = runs;
        if (worst > 0.01)
            snprintf(b->cells[OP_COLD][col].note, sizeof b->cells[OP_COLD][col].note,
                     "eviction incomplete: %.0f%% of the file stayed cached", worst * 100);
    }
    return;
fail:
    cell_na(b, OP_OPEN, col, "open + lookup failed (%d)", err);
}

void measure_ops(struct bench *b, enum op_id op, enum sys_col col, ops_fn fn, void *ctx,
                 long max_ops, double budget, int runs)
{
    double per[32];
    long ops[32];
    for (int i = -1; i < runs; i++) {
        double bud = i < 0 ? budget / 4 : budget;
        long max = i < 0 ? max_ops / 10 + 1 : max_ops;
        uint64_t t0 = now_ns();
        long n = fn(ctx, max, t0 + (uint64_t)(bud * 1e9));
        if (n <= 0) {
            if (b->cells[op][col].state != CELL_NA) cell_na(b, op, col, "failed (%ld)", n);
            return;
        }
        if (i >= 0) {
            per[i] = (double)(now_ns() - t0) / 1e9 / (double)n;
            ops[i] = n;
        }
    }
    fill_runs(b, op, col, per, ops, runs, max_ops);
}

/* ---- the table ---------------------------------------------------------------- */

static const char *const col_names[COL_COUNT] = {
    "PicoVolt", "SQLite (mmap)", "SQLite (default)", "LMDB", "tinycdb", "DuckDB", "CSV+git"};

struct opinfo {
    const char *name;
    const char *unit;
    double scale; /* figure (s or bytes) -> unit */
    int sqlite_col; /* column used for the SQLite ratio */
};

static struct opinfo opinfo[OP_COUNT] = {
    [OP_BUILD] = {"build from CSV to query-ready file [SQLite: `sqlite3` shell `.import` / C API inserts, 1 txn]",
                  "s", 1, COL_SQLITE_MMAP},
    [OP_IMPORT] = {"`pvdev import` alone (CSV → workspace)", "s", 1, COL_SQLITE_MMAP},
    [OP_BAKE] = {"`pvbake` alone (workspace → .pvdb) [SQLite: shell `.import`]", "s", 1, COL_SQLITE_MMAP},
    [OP_REBAKE] = {"`pvbake` again after one INSERT (incremental re-bake)", "s", 1,
                   COL_SQLITE_MMAP},
    [OP_SIZE] = {"file size [PicoVolt: .pvdb; CSV+git: the CSV]", "MB", 1e-6, COL_SQLITE_MMAP},
    [OP_SIZE_PQ] = {"file size, Parquet zstd export (DuckDB COPY)", "MB", 1e-6, COL_SQLITE_MMAP},
    [OP_OPEN] = {"open + first point query + close (warm)", "µs", 1e6, COL_SQLITE_MMAP},
    [OP_COLD] = {"cold open + one point query + close (file evicted)", "ms", 1e3, COL_SQLITE_MMAP},
    [OP_LOOKUP] = {"point lookup by key, whole row", "ns", 1e9, COL_SQLITE_MMAP},
    [OP_GET] = {"point lookup by key, whole row, direct API [PicoVolt: `pv_get`; LMDB, tinycdb: "
                "their get, as in the row above]", "ns", 1e9, COL_LMDB},
    [OP_LOOKUP_ALT] = {"point lookup by key, whole row, LMDB and PicoVolt alternated run by run "
                       "[PicoVolt: the prepared statement]", "ns", 1e9, COL_LMDB},
    [OP_GET_ALT] = {"point lookup by key, whole row, LMDB and PicoVolt alternated run by run "
                    "[PicoVolt: `pv_get`]", "ns", 1e9, COL_LMDB},
    [OP_RANGE] = {"1,000-row key range, every row", "µs", 1e6, COL_SQLITE_MMAP},
    [OP_RANGE_SPAN] = {"1,000-row key range, every row [PicoVolt: read by spans, `pv_step_span` + "
                       "`pv_column_span`; peers: their range above]", "µs", 1e6, COL_SQLITE_MMAP},
    [OP_SUM] = {"`SELECT SUM(delay) FROM flights`", "ms", 1e3, COL_SQLITE_MMAP},
    [OP_GROUP] = {"`SELECT origin, COUNT(*), AVG(delay) … GROUP BY origin`", "ms", 1e3, COL_SQLITE_MMAP},
    [OP_FILTER] = {"`SELECT COUNT(*) … WHERE origin = 'SFO' AND delay > 60`", "ms", 1e3, COL_SQLITE_MMAP},
    [OP_VERIFY] = {"check the whole file [PicoVolt: `pv_verify` (every checksum, every chunk decoded, zone maps, "
                   "key order); SQLite: `PRAGMA integrity_check`]", "ms", 1e3, COL_SQLITE_MMAP},
    /* like with like: each INSERT row has one SQLite cell, in the column
     * its ratio uses (OFF in the first, as before; FULL in the second) */
    [OP_INSERT] = {"autocommit single-row INSERT, sync [PicoVolt: workspace, `PV_DURABILITY=sync` (fsync at "
                   "commit); SQLite: synchronous=FULL]", "µs", 1e6, COL_SQLITE_DEF},
    [OP_INSERT_FAST] = {"autocommit single-row INSERT, fast [PicoVolt: workspace, `PV_DURABILITY=fast` (no "
                        "fsync); SQLite: synchronous=OFF]", "µs", 1e6, COL_SQLITE_MMAP},
    [OP_MERGE] = {"`git merge` of two branches appending rows each", "s", 1, COL_SQLITE_MMAP},
    [OP_MERGE_1M] = {"`git merge` of two branches appending rows each, 1,000,000-row base (issue 5's scale)", "s",
                     1, COL_SQLITE_MMAP},
    [OP_AP_BUILD] = {"airports: build from CSV [PicoVolt: init + import + bake; SQLite: shell `.import`]", "ms",
                      1e3, COL_SQLITE_MMAP},
    [OP_AP_LOOKUP] = {"airports: point lookup by `iata` (TEXT primary key), whole row", "ns", 1e9,
                       COL_SQLITE_MMAP},
    [OP_DIFF] = {"diff of one changed row [PicoVolt: `pvdev diff`; CSV+git: `git diff`]", "ms", 1e3,
                 COL_SQLITE_MMAP},
};

static void fmt_num(char *out, size_t cap, double v)
{
    char tmp[64], *d = out;
    if (v >= 1000) {
        int n = snprintf(tmp, sizeof tmp, "%.0f", v), lead = n % 3;
        for (int i = 0; i < n && (size_t)(d - out) + 2 < cap; i++) {
            if (i && (i - lead) % 3 == 0) *d++ = ',';
            *d++ = tmp[i];
        }
        *d = 0;
    } else if (v >= 100) snprintf(out, cap, "%.0f", v);
    else if (v >= 10) snprintf(out, cap, "%.1f", v);
    else if (v >= 1) snprintf(out, cap, "%.2f", v);
    else snprintf(out, cap, "%.3g", v);
}

static void fmt_count(char *out, size_t cap, long v)
{
    if (v < 0) snprintf(out, cap, "?");
    else if (v < 1000) snprintf(out, cap, "%ld", v);
    else fmt_num(out, cap, (double)v);
}

/* A ratio peer/PicoVolt; below 1 also said the other way round. */
static void fmt_ratio(char *out, size_t cap, double r, int size)
{
    char a[64], inv[64];
    if (r >= 1) {
        fmt_num(a, sizeof a, r);
        snprintf(out, cap, "%s×", a);
        return;
    }
    snprintf(a, sizeof a, r >= 0.1 ? "%.3f" : "%.2g", r);
    if (1 / r < 1.1) {
        snprintf(out, cap, "%s× (PicoVolt %.1f%% %s)", a, (1 / r - 1) * 100, size ? "larger" : "slower");
        return;
    }
    fmt_num(inv, sizeof inv, 1 / r);
    snprintf(out, cap, "%s× (PicoVolt %s× %s)", a, inv, size ? "larger" : "slower");
}

/* Flag cells whose checksum differs from the answer most systems gave
 * (ties go to SQLite, the reference implementation). */
static int flag_mismatches(struct bench *b)
{
    int bad = 0;
    for (int op = 0; op < OP_COUNT; op++) {
        uint64_t best = 0;
        int best_n = 0, have = 0;
        for (int c = 0; c < COL_COUNT; c++) {
            struct cell *x = &b->cells[op][c];
            int n = 0;
            if (x->state != CELL_OK || !x->has_check) continue;
            have++;
            for (int d = 0; d < COL_COUNT; d++) {
                struct cell *y = &b->cells[op][d];
                if (y->state == CELL_OK && y->has_check && y->check == x->check) n++;
            }
            if (n > best_n || (n == best_n && (c == COL_SQLITE_MMAP || c == COL_SQLITE_DEF))) {
                best = x->check;
                best_n = n;
            }
        }
        if (have < 2) continue;
        for (int c = 0; c < COL_COUNT; c++) {
            struct cell *x = &b->cells[op][c];
            if (x->state == CELL_OK && x->has_check && x->check != best) {
                x->mismatch = 1;
                bad++;
            }
        }
    }
    return bad;
}

struct out { FILE *f[2]; };

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct out *o, const char *fmt, ...)
{
    for (int i = 0; i < 2; i++) {
        va_list ap;
        if (!o->f[i]) continue;
        va_start(ap, fmt);
        vfprintf(o->f[i], fmt, ap);
        va_end(ap);
    }
}

static char notes[64][260];
static int nnotes;

static int add_note(const char *text)
{
    for (int i = 0; i < nnotes; i++)
        if (!strcmp(notes[i], text)) return i + 1;
    if (nnotes == 64) return 64;
    snprintf(notes[nnotes], sizeof notes[nnotes], "%s", text);
    return ++nnotes;
}

static void cell_text(char *out, size_t cap, const struct bench *b, int op, int c)
{
    const struct cell *x = &b->cells[op][c];
    char num[64];
    if (x->state == CELL_EMPTY) {
        snprintf(out, cap, "—");
    } else if (x->state == CELL_NA) {
        snprintf(out, cap, "n/a [%d]", add_note(x->note));
    } else {
        fmt_num(num, sizeof num, x->med * opinfo[op].scale);
        snprintf(out, cap, "%s%s%s%s", x->mismatch ? "**WRONG ANSWER** " : "", x->lower_bound ? "> " : "",
                 num, x->budget_cut ? " †" : "");
        if (x->note[0]) {
            size_t n = strlen(out);
            snprintf(out + n, cap - n, " [%d]", add_note(x->note));
        }
    }
}

static int cell_usable(const struct cell *x) { return x->state == CELL_OK && !x->mismatch && x->med > 0; }

static void ratio_text1(char *out, size_t cap, const struct bench *b, int op, int which);
static void ratio_text(char *out, size_t cap, const struct bench *b, int op, int which)
{
    ratio_text1(out, cap, b, op, which);
    if (b->cells[op][COL_PV].lower_bound && strcmp(out, "n/a") && strcmp(out, "—")) {
        char tmp[300];
        snprintf(tmp, sizeof tmp, "< %s", out);
        snprintf(out, cap, "%s", tmp);
    }
}

/* The row whose peers a row's ratios use: the span row has no peers of its
 * own (only PicoVolt has spans); it is compared with the range row's. */
static int peer_op(int op) { return op == OP_RANGE_SPAN ? OP_RANGE : op; }

static void ratio_text1(char *out, size_t cap, const struct bench *b, int op, int which)
{
    const struct cell *pv = &b->cells[op][COL_PV];
    char num[64];
    int pop = peer_op(op);
    if (!cell_usable(pv)) {
        snprintf(out, cap, "n/a");
        return;
    }
    if (which == 0) {
        int sc = opinfo[op].sqlite_col;
        const struct cell *s = &b->cells[pop][sc];
        if (!cell_usable(s)) s = &b->cells[pop][COL_SQLITE_DEF];
        if (!cell_usable(s)) {
            snprintf(out, cap, "—");
            return;
        }
        fmt_ratio(out, cap, s->med / pv->med, op == OP_SIZE || op == OP_SIZE_PQ);
    } else {
        int best = -1;
        for (int c = COL_SQLITE_MMAP; c < COL_COUNT; c++)
            if (cell_usable(&b->cells[pop][c]) && (best < 0 || b->cells[pop][c].med < b->cells[pop][best].med))
                best = c;
        if (best < 0) {
            snprintf(out, cap, "—");
            return;
        }
        fmt_ratio(num, sizeof num, b->cells[pop][best].med / pv->med, op == OP_SIZE || op == OP_SIZE_PQ);
        snprintf(out, cap, "%s: %s", col_names[best], num);
    }
}

static void rows_text(char *out, size_t cap, const struct bench *b, int op)
{
    char n[32];
    long ans = -1;
    for (int c = 0; c < COL_COUNT; c++)
        if (b->cells[op][c].state == CELL_OK && b->cells[op][c].has_check && !b->cells[op][c].mismatch) {
            ans = b->cells[op][c].answer_rows;
            break;
        }
    fmt_count(n, sizeof n, b->nrows);
    switch (op) {
    case OP_LOOKUP:
    case OP_GET:
    case OP_LOOKUP_ALT:
    case OP_GET_ALT: snprintf(out, cap, "1 of %s", n); break;
    case OP_OPEN: case OP_COLD: snprintf(out, cap, "1 of %s", n); break;
    case OP_RANGE: case OP_RANGE_SPAN: {
        char l[32];
        fmt_count(l, sizeof l, b->range_len);
        snprintf(out, cap, "%s of %s", l, n);
        break;
    }
    case OP_SUM: case OP_GROUP: case OP_FILTER: {
        char a[32];
        fmt_count(a, sizeof a, ans);
        snprintf(out, cap, "%s (scans %s)", a, n);
        break;
    }
    case OP_VERIFY: snprintf(out, cap, "all %s", n); break;
    case OP_INSERT: case OP_INSERT_FAST: snprintf(out, cap, "1 into %s", n); break;
    case OP_MERGE: {
        char m[32];
        fmt_count(m, sizeof m, b->merge_rows);
        snprintf(out, cap, "2 × %s onto %s", m, n);
        break;
    }
    case OP_MERGE_1M: {
        char m[32], base[32];
        fmt_count(m, sizeof m, b->merge_rows);
        fmt_count(base, sizeof base, b->nrows < 1000000 ? b->nrows : 1000000);
        snprintf(out, cap, "2 × %s onto %s", m, base);
        break;
    }
    case OP_DIFF: snprintf(out, cap, "1 of %s", n); break;
    case OP_AP_BUILD: fmt_count(out, cap, b->ap_rows); break;
    case OP_AP_LOOKUP: {
        char a[32];
        fmt_count(a, sizeof a, b->ap_rows);
        snprintf(out, cap, "1 of %s", a);
        break;
    }
    default: snprintf(out, cap, "%s", n);
    }
}

static char load_start[64];

static void read_load(char *out, size_t cap)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double a = 0, b5 = 0, c = 0;
    if (f && fscanf(f, "%lf %lf %lf", &a, &b5, &c) == 3) snprintf(out, cap, "%.2f", a);
    else snprintf(out, cap, "?");
    if (f) fclose(f);
}

static void machine(struct out *o)
{
    char load_end[64];
    char line[512], model[256] = "unknown", mem[64] = "?";
    int cpus = 0;
    struct utsname u;
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        while (fgets(line, sizeof line, f)) {
            if (!strncmp(line, "model name", 10) && strchr(line, ':')) {
                snprintf(model, sizeof model, "%s", strchr(line, ':') + 2);
                model[strcspn(model, "\n")] = 0;
            }
            if (!strncmp(line, "processor", 9)) cpus++;
        }
        fclose(f);
    }
    f = fopen("/proc/meminfo", "r");
    if (f) {
        long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemTotal: %ld kB", &kb) == 1)
                snprintf(mem, sizeof mem, "%.1f GiB", (double)kb / 1048576.0);
        fclose(f);
    }
    uname(&u);
    emit(o, "- machine: %s, %d cores online (%d in /proc/cpuinfo), %s RAM; %s %s %s\n", model,
         (int)sysconf(_SC_NPROCESSORS_ONLN), cpus, mem, u.sysname, u.release, u.machine);
    read_load(load_end, sizeof load_end);
    emit(o, "- load average (1 min) at start %s, at end %s: other work on the machine "
            "makes the figures noisier\n", load_start, load_end);
}

/* One target: PicoVolt's figure of `op` against column `col` of `peer_op`. */
static void target2(struct out *o, const struct bench *b, const char *what, int op, int peer_op,
                    int col, double want, const char *explain)
{
    const struct cell *pv = &b->cells[op][COL_PV], *p = &b->cells[peer_op][col];
    char num[64];
    if (!cell_usable(pv) || !cell_usable(p)) {
        emit(o, "| %s | %s | n/a | — |\n", what, explain);
        return;
    }
    double r = p->med / pv->med;
    fmt_ratio(num, sizeof num, r, op == OP_SIZE || op == OP_SIZE_PQ);
    if (pv->lower_bound) /* PicoVolt stopped at a time limit: the ratio is at most r */
        emit(o, "| %s | %s | < %s | %s |\n", what, explain, num, r < want ? "**not met**" : "unknown");
    else
        emit(o, "| %s | %s | %s | %s |\n", what, explain, num, r >= want ? "met" : "**not met**");
}

static void target(struct out *o, const struct bench *b, const char *what, int op, int col,
                   double want, const char *explain)
{
    target2(o, b, what, op, op, col, want, explain);
}

static void write_table(struct bench *b, const char *out_path)
{
    struct out o = {{stdout, NULL}};
    char t[300], date[64];
    time_t now = time(NULL);
    int bad = flag_mismatches(b);

    if (out_path && !(o.f[1] = fopen(out_path, "w"))) say("cannot write '%s': %s", out_path, strerror(errno));
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    nnotes = 0;

    emit(&o, "# PicoVolt benchmark results\n\n");
    emit(&o, "Written by `make bench%s` on %s. Method: [README.md](README.md).\n\n",
         b->quick ? " BENCH=quick" : "", date);
    {
        size_t tl = strlen(b->top);
        const char *rel = !strncmp(b->csv, b->top, tl) && b->csv[tl] == '/' ? b->csv + tl + 1 : b->csv;
        emit(&o, "- data: flights, %ld rows (`%s`), mode **%s**\n", b->nrows, rel, b->quick ? "quick" : "full");
    }
    emit(&o, "- PicoVolt source: commit %s (library and tools copied once at the start of the run)\n",
         b->source ? b->source : "unknown");
    machine(&o);
    emit(&o, "- versions: ");
    for (int c = 0; c < COL_COUNT; c++)
        emit(&o, "%s%s %s", c ? "; " : "", col_names[c], b->versions[c][0] ? b->versions[c] : "(absent)");
    emit(&o, "\n\n");
    if (bad)
        emit(&o, "**%d answer checksum(s) differ from the majority: the cells marked WRONG ANSWER "
                 "are not comparable and take no part in the ratios.**\n\n", bad);

    emit(&o, "Each figure is the median of the timed runs after a warm-up (min, max and run "
             "counts in the details below); † = runs stopped at their time budget, the figure "
             "is the mean over the operations that ran; > = stopped at a time limit, the "
             "figure is a lower bound. **ratio = peer ÷ PicoVolt: above 1 "
             "means PicoVolt is faster (or smaller).**\n\n");
    emit(&o, "| operation |");
    for (int c = 0; c < COL_COUNT; c++) emit(&o, " %s |", col_names[c]);
    emit(&o, " SQLite ÷ PicoVolt | best peer ÷ PicoVolt | unit | rows |\n|---|");
    for (int c = 0; c < COL_COUNT; c++) emit(&o, "---:|");
    emit(&o, "---:|---:|---|---:|\n");
    for (int op = 0; op < OP_COUNT; op++) {
        int any = 0;
        for (int c = 0; c < COL_COUNT; c++) any |= b->cells[op][c].state != CELL_EMPTY;
        if (!any) continue;
        emit(&o, "| %s |", opinfo[op].name);
        for (int c = 0; c < COL_COUNT; c++) {
            cell_text(t, sizeof t, b, op, c);
            emit(&o, " %s |", t);
        }
        ratio_text(t, sizeof t, b, op, 0);
        emit(&o, " %s |", t);
        ratio_text(t, sizeof t, b, op, 1);
        emit(&o, " %s |", t);
        rows_text(t, sizeof t, b, op);
        emit(&o, " %s | %s |\n", opinfo[op].unit, t);
    }
    emit(&o, "\nNotes:\n\n");
    for (int i = 0; i < nnotes; i++) emit(&o, "%d. %s\n", i + 1, notes[i]);

    emit(&o, "\n## Targets of the open issues (same run)\n\n"
             "| target | measured as | ratio | status |\n|---|---|---:|---|\n");
    target(&o, b, "#7 point lookup ≤ 0.5× LMDB", OP_LOOKUP, COL_LMDB, 2, "LMDB ÷ PicoVolt ≥ 2");
    target2(&o, b, "#7 `pv_get` ≤ 0.5× LMDB", OP_GET, OP_LOOKUP, COL_LMDB, 2, "LMDB ÷ pv_get ≥ 2");
    target(&o, b, "#7 point lookup ≤ 0.5× LMDB, alternated run by run", OP_LOOKUP_ALT, COL_LMDB, 2,
           "LMDB ÷ PicoVolt ≥ 2");
    target(&o, b, "#7 `pv_get` ≤ 0.5× LMDB, alternated run by run", OP_GET_ALT, COL_LMDB, 2,
           "LMDB ÷ pv_get ≥ 2");
    target(&o, b, "#7 1,000-row range ≤ 0.5× LMDB", OP_RANGE, COL_LMDB, 2, "LMDB ÷ PicoVolt ≥ 2");
    target2(&o, b, "#7 1,000-row range by spans ≤ 0.5× LMDB", OP_RANGE_SPAN, OP_RANGE, COL_LMDB, 2,
            "LMDB ÷ PicoVolt (spans) ≥ 2");
    target(&o, b, "#7 SUM ≥ 50× faster than SQLite", OP_SUM, COL_SQLITE_MMAP, 50, "SQLite (mmap) ÷ PicoVolt ≥ 50");
    target(&o, b, "#7 SUM no slower than DuckDB", OP_SUM, COL_DUCKDB, 1, "DuckDB ÷ PicoVolt ≥ 1");
    target(&o, b, "#7 GROUP BY ≥ 50× faster than SQLite", OP_GROUP, COL_SQLITE_MMAP, 50, "SQLite (mmap) ÷ PicoVolt ≥ 50");
    target(&o, b, "#7 GROUP BY no slower than DuckDB", OP_GROUP, COL_DUCKDB, 1, "DuckDB ÷ PicoVolt ≥ 1");
    target(&o, b, "#7 open + first query + close ≤ tinycdb", OP_OPEN, COL_CDB, 1, "tinycdb ÷ PicoVolt ≥ 1");
    target(&o, b, "#7 cold open + lookup ≤ SQLite", OP_COLD, COL_SQLITE_DEF, 1,
           "SQLite (default: no mmap, so no read-ahead) ÷ PicoVolt ≥ 1");
    target(&o, b, "#6 bake ≤ 0.3× `sqlite3` shell import", OP_BAKE, COL_SQLITE_MMAP, 1 / 0.3,
           "shell import ÷ pvbake ≥ 3.33");
    {
        const struct cell *full = &b->cells[OP_BAKE][COL_PV], *inc = &b->cells[OP_REBAKE][COL_PV];
        char num[64];
        if (cell_usable(full) && cell_usable(inc)) {
            fmt_num(num, sizeof num, full->med / inc->med);
            strcat(num, "×");
            emit(&o, "| #6 re-bake after one changed row ≤ 0.2× a full bake | full bake ÷ re-bake ≥ 5 "
                     "| %s | %s |\n", num, full->med / inc->med >= 5 ? "met" : "**not met**");
        } else {
            emit(&o, "| #6 re-bake after one changed row ≤ 0.2× a full bake | full bake ÷ re-bake ≥ 5 | n/a | — |\n");
        }
        if (b->pv_so_stripped > 0)
            emit(&o, "| #7 `libpv.so` stripped under 500 KB | `strip` of the built library | %.0f KB | %s |\n",
                 (double)b->pv_so_stripped / 1e3, b->pv_so_stripped < 500000 ? "met" : "**not met**");
        else
            emit(&o, "| #7 `libpv.so` stripped under 500 KB | `strip` of the built library | n/a | — |\n");
        if (b->pv_open_rss >= 0)
            emit(&o, "| #7 resident memory after open < 1 MB beyond pages touched | RSS growth across "
                     "`pv_open` of the .pvdb (no query yet) | %.0f KB | %s |\n",
                 (double)b->pv_open_rss / 1e3, b->pv_open_rss < 1000000 ? "met" : "**not met**");
        else
            emit(&o, "| #7 resident memory after open < 1 MB beyond pages touched | RSS growth across "
                     "`pv_open` | n/a | — |\n");
    }
    target(&o, b, "#4 fast-mode INSERT ≥ 5× SQLite OFF", OP_INSERT_FAST, COL_SQLITE_MMAP, 5,
           "SQLite synchronous=OFF ÷ PicoVolt `PV_DURABILITY=fast` ≥ 5");
    target(&o, b, "#4 sync-mode INSERT within 1.5× of SQLite FULL", OP_INSERT, COL_SQLITE_DEF, 1 / 1.5,
           "SQLite synchronous=FULL ÷ PicoVolt `PV_DURABILITY=sync` ≥ 0.667");
    target(&o, b, "#5 `git merge` within 2× of CSV+git (3,000,000-row base)", OP_MERGE, COL_CSVGIT, 0.5,
           "CSV+git ÷ PicoVolt ≥ 0.5");
    target(&o, b, "#5 `git merge` within 2× of CSV+git (1,000,000-row base)", OP_MERGE_1M, COL_CSVGIT, 0.5,
           "CSV+git ÷ PicoVolt ≥ 0.5");
    target2(&o, b, "#6 file ≤ Parquet (zstd)", OP_SIZE, OP_SIZE_PQ, COL_DUCKDB, 1, "Parquet ÷ .pvdb ≥ 1");
    target(&o, b, "#6 file ≤ 0.15× SQLite", OP_SIZE, COL_SQLITE_MMAP, 1 / 0.15, "SQLite ÷ .pvdb ≥ 6.67");

    emit(&o, "\n## Details\n\nPer cell: median [min – max] in the row's unit, timed runs × "
             "operations per run, and the answer checksum (hash of the answer in text form; "
             "equal checksums = equal answers).\n\n"
             "| operation | system | median | min – max | runs × ops | checksum | answer rows |\n"
             "|---|---|---:|---:|---:|---|---:|\n");
    for (int op = 0; op < OP_COUNT; op++)
        for (int c = 0; c < COL_COUNT; c++) {
            const struct cell *x = &b->cells[op][c];
            char m[64], lo[64], hi[64], a[32], z[32];
            if (x->state != CELL_OK) continue;
            fmt_num(m, sizeof m, x->med * opinfo[op].scale);
            fmt_num(lo, sizeof lo, x->min * opinfo[op].scale);
            fmt_num(hi, sizeof hi, x->max * opinfo[op].scale);
            fmt_count(a, sizeof a, x->ops_min);
            fmt_count(z, sizeof z, x->ops_max);
            emit(&o, "| %s | %s | %s%s %s | %s – %s | %d × %s%s%s%s | ", opinfo[op].name, col_names[c],
                 x->lower_bound ? "> " : "", m,
                 opinfo[op].unit, lo, hi, x->runs, a, x->ops_min != x->ops_max ? "–" : "",
                 x->ops_min != x->ops_max ? z : "", x->budget_cut ? " †" : "");
            if (x->has_check) emit(&o, "%016llx%s | %ld |\n", (unsigned long long)x->check,
                                   x->mismatch ? " **WRONG**" : "", x->answer_rows);
            else emit(&o, "— | — |\n");
        }
    if (o.f[1] && fclose(o.f[1]) != 0) say("cannot write '%s'", out_path);
    if (bad) fprintf(stderr, "\nbench: WARNING: %d answer(s) differ between systems: see WRONG ANSWER above\n", bad);
}

/* ---- main --------------------------------------------------------------------- */

static int load_row(void *ctx, const struct frow *r)
{
    struct bench *b = ctx;
    static long cap;
    if (b->nrows == cap) {
        cap = cap ? cap * 2 : 1 << 16;
        b->rows = realloc(b->rows, (size_t)cap * sizeof *b->rows);
        if (!b->rows) die("out of memory");
    }
    b->rows[b->nrows++] = *r;
    if (r->id > b->max_id) b->max_id = r->id;
    return 0;
}

static uint64_t rng_state = 0x5eed5eed12345678ULL; /* fixed seed: same keys every run */
static uint64_t rng(void)
{
    uint64_t x = rng_state;
    x ^= x >> 12, x ^= x << 25, x ^= x >> 27;
    rng_state = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int wanted(const char *only, const char *name)
{
    const char *p = only;
    size_t n = strlen(name);
    if (!only) return 1;
    while ((p = strstr(p, name))) {
        if ((p == only || p[-1] == ',') && (p[n] == 0 || p[n] == ',')) return 1;
        p += n;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static struct bench b;
    const char *only = NULL, *out = NULL, *mode = "full";
    uint64_t t0 = now_ns();

    t_start = t0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) die("option '%s' needs a value", a);
        if (!strcmp(a, "--top")) b.top = v;
        else if (!strcmp(a, "--build")) b.build = v;
        else if (!strcmp(a, "--cache")) b.cache = v;
        else if (!strcmp(a, "--csv")) b.csv = v;
        else if (!strcmp(a, "--mode")) mode = v;
        else if (!strcmp(a, "--duckdb")) b.duckdb_so = v;
        else if (!strcmp(a, "--no-duckdb")) b.duckdb_why = v;
        else if (!strcmp(a, "--only")) only = v;
        else if (!strcmp(a, "--pv-missing")) b.pv_why = v;
        else if (!strcmp(a, "--source")) b.source = v;
        else if (!strcmp(a, "--out")) out = v;
        else die("unknown option '%s'", a);
        i++;
    }
    if (!b.top || !b.build || !b.cache || !b.csv) die("usage: bench --top DIR --build DIR --cache DIR --csv FILE [--mode full|quick]");
    b.quick = !strcmp(mode, "quick");
    b.pv_so_stripped = b.pv_open_rss = -1;
    read_load(load_start, sizeof load_start);

    if (csv_each(b.csv, load_row, &b) <= 0) die("no rows in '%s'", b.csv);
    say("%ld rows loaded from %s (%s mode)", b.nrows, b.csv, b.quick ? "quick" : "full");

    b.runs = 5;
    b.range_len = 1000;
    if (b.quick) {
        b.nkeys = 100000, b.nranges = 1000;
        b.build_runs = 1;
        b.lookup_budget = 0.15, b.range_budget = 0.1, b.open_budget = 0.05, b.insert_budget = 0.1;
        b.open_ops = 1000, b.insert_ops = 2000;
        b.merge_rows = 10000, b.merge_runs = 2;
    } else {
        b.nkeys = 1000000, b.nranges = 5000;
        b.build_runs = 1;
        b.lookup_budget = 6, b.range_budget = 2, b.open_budget = 0.5, b.insert_budget = 2;
        b.open_ops = 5000, b.insert_ops = 10000;
        b.merge_rows = 100000, b.merge_runs = 3;
    }
    bench_cmd_timeout = b.quick ? 30 : 150; /* any one tool run */
    b.keys = malloc((size_t)b.nkeys * sizeof *b.keys);
    b.range_lo = malloc((size_t)b.nranges * sizeof *b.range_lo);
    if (!b.keys || !b.range_lo) die("out of memory");
    for (long i = 0; i < b.nkeys; i++) b.keys[i] = 1 + (int64_t)(rng() % (uint64_t)b.max_id);
    for (long i = 0; i < b.nranges; i++)
        b.range_lo[i] = 1 + (int64_t)(rng() % (uint64_t)(b.max_id - b.range_len + 1));

    if (wanted(only, "sqlite")) sys_sqlite(&b);
    if (wanted(only, "lmdb")) sys_lmdb(&b);
    if (wanted(only, "cdb")) sys_cdb(&b);
    if (wanted(only, "duckdb")) sys_duckdb(&b);
    if (wanted(only, "pv")) sys_pv(&b);
    if (wanted(only, "pv") || wanted(only, "merge1m")) sys_pv_merge1m(&b);
    if (wanted(only, "git")) sys_gitcsv(&b);
    if (wanted(only, "git") || wanted(only, "merge1m")) sys_gitcsv_merge1m(&b);
    if (wanted(only, "airports")) sys_airports(&b);

    /* LMDB's and tinycdb's lookups already are their direct API */
    b.cells[OP_GET][COL_LMDB] = b.cells[OP_LOOKUP][COL_LMDB];
    b.cells[OP_GET][COL_CDB] = b.cells[OP_LOOKUP][COL_CDB];
    if (b.alt_close) b.alt_close(b.alt_ctx);
    say("measured in %.1f s", (double)(now_ns() - t0) / 1e9);
    write_table(&b, out);
    if (fflush(stdout) != 0) return 1;
    free(b.keys);
    free(b.range_lo);
    free(b.rows);
    return 0;
}
