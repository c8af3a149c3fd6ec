/*
 * test_faults.c: fault injection (STYLE.md "Faults on purpose"; SQLite's
 * OOM loops and crash VFS).
 *
 *   - Allocation: a representative workload (create a workspace, CREATE
 *     TABLE, INSERTs with parameters, SELECT with GROUP BY / ORDER BY,
 *     CREATE INDEX and lookups through it, upserts, the query memory
 *     limit, `pvdev import` of a CSV, bake with pv_bake_write (format 3
 *     with the index), pvdb_open + scan + verify, pv_open of the .pvdb +
 *     SELECTs through the baked index) runs with the N-th allocation
 *     failing, for every N from 1 until a run completes without reaching N.
 *     Each run must stop with an error (PV_ENOMEM, never a crash or an
 *     abort), free everything it allocated, and leave a workspace that
 *     reopens with every row whose INSERT succeeded and, from step 5 on,
 *     exactly the state before the failing step.
 *   - I/O: the same kind of session, with the N-th write() of a file
 *     failing (a short write then ENOSPC: the disk filled up mid-record; or
 *     EIO) or the N-th fsync() failing with EIO. The session goes on after
 *     the error, as an application that retries would; the workspace must
 *     then reopen, hold every row whose INSERT succeeded, and nothing else
 *     than the rows of failed INSERTs, and pass `pvdev fsck`.
 *   - Crash: a writer (a child process) runs 14 commits (transactions, a
 *     blob, CREATE/DROP INDEX, an upsert, ALTER, CREATE/DROP TABLE,
 *     `pvdev compact`'s compaction, `pvdev import`) and dies (_exit, as
 *     after SIGKILL) after its N-th unit: a byte written to a file or a
 *     call that changes a directory or a file's size. Reopened, the
 *     workspace is the state before the commit in flight or after it,
 *     fsck-clean, and writable (test_crash_at_every_byte).
 *
 * The faults come from the linker: this binary is linked with
 *   -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free,
 *   --wrap=strdup,--wrap=strndup,--wrap=asprintf,--wrap=write,--wrap=pwrite,
 *   --wrap=fsync,--wrap=open,--wrap=rename,--wrap=unlink,--wrap=rmdir,
 *   --wrap=mkdir,--wrap=ftruncate
 * so every call to those functions from libpv, pvdev's modules and this
 * file goes to the __wrap_* functions below, and no library source changes.
 * Built without those flags (the generic test rule), the __real_* symbols
 * are weak and null: the tests then say so and are skipped.
 *
 * Environment: PV_FAULTS_VERBOSE=1 prints every injected fault and its
 * outcome; PV_FAULTS_BACKTRACE=1 the stack of each failed allocation;
 * PV_FAULTS_ONLY=N runs the allocation loop for N alone (to reproduce one
 * case, under a debugger or ASan); PV_FAULTS_CRASH_STRIDE=1 kills the
 * crash loop's writer at every byte (`make stress`; default: each call's
 * edges and every 7th byte).
 */
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cmds.h"
#include "pv.h"
#include "pvdb.h"
#include "util.h"
#include "ws.h"
#include "test_capture.h"

/* ---- the wrappers -------------------------------------------------------- */

void *__real_malloc(size_t n) __attribute__((weak));
void *__real_calloc(size_t n, size_t size) __attribute__((weak));
void *__real_realloc(void *p, size_t n) __attribute__((weak));
void __real_free(void *p) __attribute__((weak));
char *__real_strdup(const char *s) __attribute__((weak));
char *__real_strndup(const char *s, size_t n) __attribute__((weak));
ssize_t __real_write(int fd, const void *p, size_t n) __attribute__((weak));
ssize_t __real_pwrite(int fd, const void *p, size_t n, off_t off) __attribute__((weak));
int __real_fsync(int fd) __attribute__((weak));
int __real_open(const char *path, int flags, ...) __attribute__((weak));
int __real_rename(const char *from, const char *to) __attribute__((weak));
int __real_unlink(const char *path) __attribute__((weak));
int __real_rmdir(const char *path) __attribute__((weak));
int __real_mkdir(const char *path, mode_t mode) __attribute__((weak));
int __real_ftruncate(int fd, off_t len) __attribute__((weak));

void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t n);
void __wrap_free(void *p);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
int __wrap_asprintf(char **out, const char *fmt, ...);
ssize_t __wrap_write(int fd, const void *p, size_t n);
ssize_t __wrap_pwrite(int fd, const void *p, size_t n, off_t off);
int __wrap_fsync(int fd);
int __wrap_open(const char *path, int flags, ...);
int __wrap_rename(const char *from, const char *to);
int __wrap_unlink(const char *path);
int __wrap_rmdir(const char *path);
int __wrap_mkdir(const char *path, mode_t mode);
int __wrap_ftruncate(int fd, off_t len);

enum { IO_NONE, IO_WRITE_ENOSPC, IO_WRITE_EIO, IO_FSYNC_EIO };
#define CRASH_EXIT 77 /* the exit code of a process the crash loop killed */

static struct faults {
    int armed;          /* inject faults (only while a workload runs) */
    long allocs;        /* allocations seen while armed */
    long fail_alloc;    /* the allocation to fail (1-based), 0 for none */
    int alloc_hit;      /* that allocation was failed */
    long live;          /* blocks allocated through the wrappers, not freed */
    int io_mode;        /* IO_* */
    long writes, fsyncs;/* file writes / fsyncs seen while armed */
    long fail_io;       /* the write or fsync to fail (1-based) */
    int io_hit;         /* 1 once failed; 2 after the ENOSPC that follows a short write */
    void *hit_site;     /* the return address of the failed allocation's call */
    long then_alloc;    /* > 0: once the write fails, the then_alloc-th allocation
                           after it fails too (a cleanup that fails in turn) */
} F;

static int wrapped(void)
{
    return __real_malloc && __real_calloc && __real_realloc && __real_free && __real_strdup &&
           __real_strndup && __real_write && __real_pwrite && __real_fsync && __real_open && __real_rename &&
           __real_unlink && __real_rmdir && __real_mkdir && __real_ftruncate;
}

/* The bake encodes on several threads: the counters are atomic, and which
 * thread meets the failing allocation is theirs to race for (either way a
 * real fault to survive). */
static void live_add(long d) { __atomic_add_fetch(&F.live, d, __ATOMIC_RELAXED); }

static int fail_now(void *site)
{
    if (!F.armed) return 0;
    if (__atomic_add_fetch(&F.allocs, 1, __ATOMIC_RELAXED) != F.fail_alloc) return 0;
    F.alloc_hit = 1;
    F.hit_site = site;
    if (getenv("PV_FAULTS_BACKTRACE")) { /* where the failed allocation is */
        void *frames[12];
        backtrace_symbols_fd(frames, backtrace(frames, 12), 2);
    }
    errno = ENOMEM;
    return 1;
}

void *__wrap_malloc(size_t n)
{
    void *p;
    if (fail_now(__builtin_return_address(0))) return NULL;
    if ((p = __real_malloc(n))) live_add(1);
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    void *p;
    if (fail_now(__builtin_return_address(0))) return NULL;
    if ((p = __real_calloc(n, size))) live_add(1);
    return p;
}

void *__wrap_realloc(void *p, size_t n)
{
    void *q;
    if (fail_now(__builtin_return_address(0))) return NULL;
    q = __real_realloc(p, n);
    if (!p && q) live_add(1);
    if (p && !q && n == 0) live_add(-1);
    return q;
}

void __wrap_free(void *p)
{
    if (p) live_add(-1);
    __real_free(p);
}

char *__wrap_strdup(const char *s)
{
    char *p;
    if (fail_now(__builtin_return_address(0))) return NULL;
    if ((p = __real_strdup(s))) live_add(1);
    return p;
}

char *__wrap_strndup(const char *s, size_t n)
{
    char *p;
    if (fail_now(__builtin_return_address(0))) return NULL;
    if ((p = __real_strndup(s, n))) live_add(1);
    return p;
}

int __wrap_asprintf(char **out, const char *fmt, ...)
{
    va_list ap;
    int n;
    if (fail_now(__builtin_return_address(0))) {
        *out = NULL; /* glibc leaves it undefined; callers must not rely on it */
        return -1;
    }
    va_start(ap, fmt);
    n = vasprintf(out, fmt, ap);
    va_end(ap);
    if (n >= 0) live_add(1);
    return n;
}

/* The crash loop's budget (test_crash_at_every_byte): each byte written to
 * a file and each call that changes a directory or a file's size (open
 * with O_CREAT, rename, unlink, rmdir, mkdir, ftruncate) costs one unit;
 * the process dies (_exit, as SIGKILL would leave it: what was written is
 * in the page cache, nothing more) when the budget runs out, in the middle
 * of a write if that is where it ends. */
static struct crash {
    int on;           /* count (and die) in this process */
    long budget;      /* units left */
    long used;        /* units spent */
    long *marks;      /* when not NULL: the unit at which each call starts */
    int nmarks, cap;
} C;

static void crash_mark(void)
{
    if (C.marks && C.nmarks < C.cap) C.marks[C.nmarks++] = C.used;
}

static void crash_op(void)
{
    if (!C.on) return;
    crash_mark();
    if (C.budget == 0) _exit(CRASH_EXIT);
    C.budget--;
    C.used++;
}

/* How many of n bytes to write before dying (all when the budget allows). */
static size_t crash_write(int fd, size_t n)
{
    if (!C.on || fd <= 2) return n;
    crash_mark();
    if ((long)n <= C.budget) {
        C.budget -= (long)n;
        C.used += (long)n;
        return n;
    }
    return (size_t)C.budget;
}

/* The write to fail: a short write (half the bytes really written) for
 * ENOSPC, then -1/ENOSPC on the next one; -1/EIO with nothing written. */
static ssize_t io_fault(int fd, const void *p, size_t n, off_t off, int positional)
{
    size_t k = crash_write(fd, n);
    if (k < n) { /* the last bytes before the crash, then the crash */
        if (k) (void)(positional ? __real_pwrite(fd, p, k, off) : __real_write(fd, p, k));
        _exit(CRASH_EXIT);
    }
    if (F.armed && fd > 2 && (F.io_mode == IO_WRITE_ENOSPC || F.io_mode == IO_WRITE_EIO)) {
        F.writes++;
        if (F.io_hit == 1 && F.io_mode == IO_WRITE_ENOSPC) {
            F.io_hit = 2;
            errno = ENOSPC;
            return -1;
        }
        if (F.writes == F.fail_io) {
            F.io_hit = 1;
            if (F.then_alloc > 0)
                F.fail_alloc = __atomic_load_n(&F.allocs, __ATOMIC_RELAXED) + F.then_alloc;
            if (F.io_mode == IO_WRITE_EIO || n < 2) {
                F.io_hit = 2;
                errno = F.io_mode == IO_WRITE_EIO ? EIO : ENOSPC;
                return -1;
            }
            n /= 2;
        }
    }
    return positional ? __real_pwrite(fd, p, n, off) : __real_write(fd, p, n);
}

ssize_t __wrap_write(int fd, const void *p, size_t n) { return io_fault(fd, p, n, 0, 0); }

ssize_t __wrap_pwrite(int fd, const void *p, size_t n, off_t off)
{
    return io_fault(fd, p, n, off, 1);
}

int __wrap_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & (O_CREAT | O_TMPFILE)) {
        va_list ap;
        va_start(ap, flags);
        mode = (mode_t)va_arg(ap, int);
        va_end(ap);
        crash_op();
    }
    return __real_open(path, flags, mode);
}

int __wrap_rename(const char *from, const char *to)
{
    crash_op();
    return __real_rename(from, to);
}

int __wrap_unlink(const char *path)
{
    crash_op();
    return __real_unlink(path);
}

int __wrap_rmdir(const char *path)
{
    crash_op();
    return __real_rmdir(path);
}

int __wrap_mkdir(const char *path, mode_t mode)
{
    crash_op();
    return __real_mkdir(path, mode);
}

int __wrap_ftruncate(int fd, off_t len)
{
    crash_op();
    return __real_ftruncate(fd, len);
}

int __wrap_fsync(int fd)
{
    if (F.armed && F.io_mode == IO_FSYNC_EIO) {
        F.fsyncs++;
        if (F.fsyncs == F.fail_io) {
            F.io_hit = 2;
            errno = EIO;
            return -1;
        }
    }
    return __real_fsync(fd);
}

/* Fail allocation n (0: none) or write/fsync n of `io_mode`, from now on. */
static void arm(long alloc_n, int io_mode, long io_n)
{
    long live = F.live;
    memset(&F, 0, sizeof F);
    F.live = live;
    F.fail_alloc = alloc_n;
    F.io_mode = io_mode;
    F.fail_io = io_n;
    F.armed = 1;
}

static void disarm(void) { F.armed = 0; }

static int verbose(void) { return getenv("PV_FAULTS_VERBOSE") != NULL; }

/* ---- directories --------------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)flag;
    (void)f;
    return remove(path);
}

static char base_dir[128];

/* A fresh empty directory for one run (in /dev/shm when possible: fsync
 * there costs nothing, and the loops fsync a lot). */
static void fresh_dir(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", base_dir, name);
    nftw(out, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    assert_int_equal(mkdir(out, 0777), 0);
}

static int setup_base(void **state)
{
    struct stat st;
    const char *root = stat("/dev/shm", &st) == 0 && access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    (void)state;
    snprintf(base_dir, sizeof base_dir, "%s/pv-test-faults-XXXXXX", root);
    return mkdtemp(base_dir) ? 0 : -1;
}

/* The allocation run under way (0: none): a run that crashes never
 * returns to say which it was, and stderr is /dev/null while it runs. */
static long running_alloc;
static void quiet(int on);

static int teardown_base(void **state)
{
    (void)state;
    if (running_alloc) {
        quiet(0);
        fprintf(stderr, "test_faults: the run failing allocation %ld did not come back (a crash?): "
                        "PV_FAULTS_ONLY=%ld PV_FAULTS_VERBOSE=1 reproduces it\n", running_alloc, running_alloc);
    }
    nftw(base_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* sanitizer_common's interface (ASan, UBSan): where reports go. Weak:
 * absent from a build without sanitizers. */
void __sanitizer_set_report_fd(void *fd) __attribute__((weak));

/* stderr off while faults fly (every failed run reports), back after; a
 * sanitizer's report still goes to the real stderr (else an ASan abort
 * in a run would end the test without a word). */
static int saved_stderr = -1;
static void quiet(int on)
{
    if (verbose()) return;
    fflush(stderr);
    if (on) {
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
        saved_stderr = dup(2);
        dup2(fd, 2);
        close(fd);
        if (__sanitizer_set_report_fd && saved_stderr >= 0)
            __sanitizer_set_report_fd((void *)(intptr_t)saved_stderr);
    } else if (saved_stderr >= 0) {
        if (__sanitizer_set_report_fd) __sanitizer_set_report_fd((void *)(intptr_t)2);
        dup2(saved_stderr, 2);
        close(saved_stderr);
        saved_stderr = -1;
    }
}

/* Whole small file into buf (NUL-terminated); -1 if unreadable. */
static long slurp_file(const char *path, char *buf, size_t cap)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    long n;
    if (fd < 0) return -1;
    n = (long)read(fd, buf, cap - 1);
    close(fd);
    if (n >= 0) buf[n] = '\0';
    return n;
}

/* ---- the rows and what is known of them ---------------------------------- */

#define MAX_IDS 64
enum { ROW_NONE, ROW_COMMITTED, ROW_FAILED };

typedef struct ledger {
    int state[MAX_IDS];  /* ROW_* by id */
    int failed_step;     /* the workload step that failed, or 0 */
    int rc;              /* its code */
    char msg[256];       /* its message */
} ledger;

static void row_name(int id, char *buf, size_t cap)
{
    if (id % 7 == 3) { /* a value over PV_BLOB_THRESHOLD: the blob store */
        size_t i, n = cap - 1 < 1500 ? cap - 1 : 1500;
        for (i = 0; i < n; i++) buf[i] = (char)('a' + (id + (int)i) % 26);
        buf[n] = '\0';
    } else {
        snprintf(buf, cap, "name-%d", id);
    }
}

/* INSERT rows [from, to) one statement each, with parameters. */
static int insert_rows(pv_db *db, int from, int to, ledger *L, int keep_going)
{
    pv_stmt *st = NULL;
    int id, rc = PV_OK, first_rc = PV_OK;
    char name[1600];
    rc = pv_prepare(db, "INSERT INTO t(id, name, x, g, b) VALUES (?, ?, ?, ?, ?)", (size_t)-1, &st, NULL);
    if (rc) return rc;
    for (id = from; id < to; id++) {
        unsigned char blob[4] = {(unsigned char)id, 0, 0xff, 7};
        row_name(id, name, sizeof name);
        rc = pv_reset(st);
        if (!rc) rc = pv_bind_int64(st, 1, id);
        if (!rc) rc = pv_bind_text(st, 2, name, strlen(name));
        if (!rc) rc = pv_bind_double(st, 3, id * 0.5);
        if (!rc) rc = pv_bind_int64(st, 4, id % 4);
        if (!rc) rc = id % 3 ? pv_bind_blob(st, 5, blob, sizeof blob) : pv_bind_null(st, 5);
        if (!rc) rc = pv_step(st);
        L->state[id] = rc == PV_DONE ? ROW_COMMITTED : ROW_FAILED;
        if (rc && !first_rc) first_rc = rc;
        if (rc && !keep_going) break;
    }
    pv_finalize(st);
    return first_rc;
}

/* Step a SELECT to its end; returns the row count or a negative error. */
static long select_all(pv_db *db, const char *sql)
{
    pv_stmt *st = NULL;
    long rows = 0;
    int rc = pv_prepare(db, sql, (size_t)-1, &st, NULL), i;
    if (rc) return rc;
    while ((rc = pv_step(st)) == PV_ROW) {
        for (i = 0; i < pv_column_count(st); i++) (void)pv_column_text(st, i);
        rows++;
    }
    pv_finalize(st);
    return rc < 0 ? rc : rows;
}

/* The rows of table t in `dir` must be what the ledger says: every
 * committed row, with its values; rows of failed INSERTs may be there or
 * not (*failed_present counts them); nothing else. Returns 0 or a message. */
static const char *check_workspace(const char *dir, const ledger *L, int *failed_present)
{
    static char why[512];
    pv_db *db = NULL;
    pv_stmt *st = NULL;
    int seen[MAX_IDS] = {0}, rc, id;
    char name[1600];

    *failed_present = 0;
    if ((rc = pv_open(dir, PV_OPEN_READWRITE, &db))) {
        snprintf(why, sizeof why, "reopen failed (%d): %s", rc, pv_errmsg());
        return why;
    }
    rc = pv_prepare(db, "SELECT id, name, x, g, b FROM t", (size_t)-1, &st, NULL);
    if (rc == PV_ENOTFOUND) { /* CREATE TABLE never completed: no rows */
        for (id = 0; id < MAX_IDS; id++)
            if (L->state[id] == ROW_COMMITTED) {
                pv_close(db);
                return "table t is missing but rows were committed";
            }
        pv_close(db);
        return NULL;
    }
    if (rc) {
        snprintf(why, sizeof why, "prepare after reopen (%d): %s", rc, pv_errmsg());
        pv_close(db);
        return why;
    }
    while ((rc = pv_step(st)) == PV_ROW) {
        id = (int)pv_column_int64(st, 0);
        if (id < 0 || id >= MAX_IDS || L->state[id] == ROW_NONE) {
            snprintf(why, sizeof why, "row %d was never inserted", id);
            break;
        }
        seen[id] = 1;
        if (L->state[id] == ROW_FAILED) ++*failed_present;
        row_name(id, name, sizeof name);
        if (strcmp(pv_column_text(st, 1), name) != 0 || pv_column_double(st, 2) != id * 0.5 ||
            pv_column_int64(st, 3) != id % 4 ||
            pv_column_type(st, 4) != (id % 3 ? PV_BLOB : PV_NULL)) {
            snprintf(why, sizeof why, "row %d has wrong values", id);
            break;
        }
    }
    if (rc < 0) snprintf(why, sizeof why, "scan after reopen (%d): %s", rc, pv_errmsg());
    pv_finalize(st);
    pv_close(db);
    if (rc != PV_DONE) return why;
    for (id = 0; id < MAX_IDS; id++)
        if (L->state[id] == ROW_COMMITTED && !seen[id]) {
            snprintf(why, sizeof why, "committed row %d is lost", id);
            return why;
        }
    return NULL;
}

/* ---- the allocation workload --------------------------------------------- */

static const char csv_text[] =
    "code,label,amount\n"
    "A1,first,1.5\n"
    "B2,\"second, quoted\",-2.25\n"
    "C3,,0.0\n";

static void write_csv(const char *dir)
{
    char path[300];
    int fd;
    snprintf(path, sizeof path, "%s/items.csv", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, csv_text, sizeof csv_text - 1), (ssize_t)(sizeof csv_text - 1));
    close(fd);
}

/* Scan every column of every table of a .pvdb. */
static int scan_pvdb(const char *path)
{
    pvdb_file *f = NULL;
    uint32_t i, c;
    int rc = pvdb_open(path, &f);
    for (i = 0; !rc && i < pvdb_table_count(f); i++) {
        pv_source src;
        pv_scan *scan = NULL;
        pv_batch b;
        uint32_t cols[16];
        int n;
        if ((rc = pvdb_table_source(f, i, &src))) break;
        for (c = 0; c < src.schema->ncols && c < 16; c++) cols[c] = c;
        if ((rc = src.ops->scan_open(&src, cols, c, &scan))) break;
        while ((n = src.ops->scan_next(scan, &b)) > 0) {}
        src.ops->scan_close(scan);
        rc = n < 0 ? n : 0;
    }
    if (!rc) rc = pvdb_verify(f);
    pvdb_close(f);
    return rc;
}

static int workload_steps_seen; /* the last step of workload() that succeeded */

#define STEP(n, call)                                                   \
    do {                                                                \
        if ((rc = (call)) < 0) {                                        \
            L->failed_step = (n);                                       \
            goto done;                                                  \
        }                                                               \
        workload_steps_seen = (n);                                      \
        if ((n) == stop_after) goto done;                               \
    } while (0)

/* Run `sql` (GROUP BY over t) under a query memory limit too small for
 * it: it must stop with PV_ELIMIT naming the limit (0), or fail otherwise
 * (an allocation failure on the way: its code). A run that succeeds is an
 * error. */
static int select_over_limit(pv_db *db)
{
    pv_stmt *st = NULL;
    int rc = pv_prepare(db, "SELECT name, count(*) FROM t GROUP BY name ORDER BY 2", (size_t)-1, &st, NULL);
    if (rc) return rc;
    if (!(rc = pv_stmt_set_mem_limit(st, 600))) {
        while ((rc = pv_step(st)) == PV_ROW) {}
    }
    if (rc == PV_ELIMIT) rc = strstr(pv_errmsg(), "limit") ? 0 : PV_ERROR;
    else if (rc >= 0) rc = pv_err(PV_ERROR, "GROUP BY ran within a 600-byte memory limit");
    pv_finalize(st);
    return rc;
}

/* The same statement with a limit that suffices, run twice (pv_reset). */
static int select_within_limit(pv_db *db)
{
    pv_stmt *st = NULL;
    int rc = pv_prepare(db, "SELECT DISTINCT g, name FROM t ORDER BY name DESC", (size_t)-1, &st, NULL), i;
    for (i = 0; !rc && i < 2; i++) {
        if ((rc = pv_reset(st)) || (rc = pv_stmt_set_mem_limit(st, (uint64_t)1 << 20))) break;
        while ((rc = pv_step(st)) == PV_ROW) {}
        rc = rc == PV_DONE ? 0 : rc;
    }
    pv_finalize(st);
    return rc;
}

/* Returns 0 when it ran to the end, else the first error (step in L).
 * `stop_after` > 0 stops it after that step (the reference states). */
static int workload(const char *dir, ledger *L, int stop_after)
{
    pv_db *db = NULL, *pdb = NULL;
    pv_ws *ws = NULL;
    pv_bake_table tables[4];
    pv_bake_info info = {"worktree", "test_faults"};
    char pvdb_path[300], csv_path[300];
    char *argv[] = {"import", "--key", "code", "items", csv_path, "-C", (char *)dir, NULL};
    uint32_t i, n;
    long rows;
    int rc = PV_OK;

    snprintf(pvdb_path, sizeof pvdb_path, "%s/out.pvdb", dir);
    snprintf(csv_path, sizeof csv_path, "%s/items.csv", dir);
    STEP(1, pv_workspace_init(dir));
    STEP(2, pv_open(dir, PV_OPEN_READWRITE, &db));
    STEP(3, pv_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, x REAL, g INTEGER, b BLOB)"));
    STEP(4, insert_rows(db, 1, 12, L, 0));
    L->state[40] = L->state[42] = ROW_FAILED; /* until it reports success */
    STEP(5, pv_exec(db, "INSERT INTO t VALUES (40, 'name-40', 20.0, 0, X'28000000'), (42, 'name-42', 21.0, 2, NULL)"));
    L->state[40] = L->state[42] = ROW_COMMITTED;
    STEP(6, select_all(db, "SELECT g, count(*), sum(x), min(name), max(b) FROM t GROUP BY g ORDER BY 2 DESC, g"));
    STEP(7, select_all(db, "SELECT DISTINCT g FROM t WHERE x > 1 ORDER BY name DESC LIMIT 5"));
    STEP(8, (rows = select_all(db, "SELECT * FROM t"), rows == 13 ? 0 : rows < 0 ? rows : PV_ERROR));
    /* A secondary index (schema rewrite, hash index, sorted order on first
     * range), the upsert overlay on table u, the query memory limit. The
     * upserts are autocommit statements: regression test of 86a1830 (a
     * failed commit reloads the catalog, and exec_dml.c run_pending read
     * the freed schema after it; ASan: use after free). */
    STEP(9, pv_exec(db, "CREATE INDEX t_g ON t(g, x)"));
    STEP(10, (rows = select_all(db, "SELECT id FROM t WHERE g = 2 AND x = 21.0"), rows == 1 ? 0 : rows < 0 ? rows : PV_ERROR));
    STEP(11, (rows = select_all(db, "SELECT id, name FROM t WHERE g >= 1 AND g < 3"), rows == 7 ? 0 : rows < 0 ? rows : PV_ERROR));
    STEP(12, pv_exec(db, "BEGIN; CREATE TABLE u(k INTEGER PRIMARY KEY, tag TEXT UNIQUE, n INTEGER); "
                         "INSERT INTO u VALUES (1, 'a', 1), (2, 'b', 1), (3, 'c', 1); COMMIT"));
    STEP(13, pv_exec(db, "INSERT INTO u VALUES (4, 'a', 5), (5, 'd', 1), (6, 'd', 2) "
                         "ON CONFLICT(tag) DO UPDATE SET n = u.n + excluded.n"));
    STEP(14, pv_exec(db, "INSERT OR REPLACE INTO u VALUES (7, 'b', 9), (2, 'e', 3)"));
    STEP(15, pv_exec(db, "BEGIN; UPDATE u SET n = n * 10 WHERE tag < 'c'; DELETE FROM u WHERE k = 3; "
                         "INSERT OR IGNORE INTO u VALUES (8, 'a', 0), (9, 'f', 0); COMMIT"));
    STEP(16, select_over_limit(db));
    STEP(17, select_within_limit(db));
    pv_close(db);
    db = NULL;
    /* pvdev import of a small CSV into a new table with a key. */
    STEP(18, cmd_import(7, argv) == PVDEV_EXIT_OK ? 0 : PV_ENOMEM);
    /* Bake, as pvbake does. */
    STEP(19, pv_ws_open(dir, 0, &ws));
    n = pv_ws_table_count(ws);
    for (i = 0; i < n && i < 4; i++) STEP(20, pv_ws_table_bake(ws, i, &tables[i]));
    STEP(21, pv_bake_write(pvdb_path, tables, n, &info));
    pv_ws_close(ws);
    ws = NULL;
    STEP(22, scan_pvdb(pvdb_path));
    STEP(23, pv_open(pvdb_path, PV_OPEN_READONLY, &pdb));
    STEP(24, select_all(pdb, "SELECT g, count(*) FROM t GROUP BY g ORDER BY g"));
    STEP(25, select_all(pdb, "SELECT code, label FROM items ORDER BY amount"));
    /* the baked index t_g (format 3): an equality and a range through it */
    STEP(26, (rows = select_all(pdb, "SELECT id FROM t WHERE g = 2 AND x = 21.0"), rows == 1 ? 0 : rows < 0 ? rows : PV_ERROR));
    STEP(27, (rows = select_all(pdb, "SELECT id, name FROM t WHERE g >= 1 AND g < 3"), rows == 7 ? 0 : rows < 0 ? rows : PV_ERROR));
    STEP(28, select_over_limit(pdb));
    rc = PV_OK;
done:
    if (rc < 0) {
        L->rc = rc;
        snprintf(L->msg, sizeof L->msg, "%s", pv_errmsg());
    }
    pv_close(db);
    pv_close(pdb);
    pv_ws_close(ws);
    return rc < 0 ? rc : 0;
}

/* The state of the workload's workspace as text: for each of its tables,
 * the schema file (columns and index lines) and every row in key order,
 * read by a read-only open; "-" for a table that does not exist. */
#define STATE_CAP 8192
static void dump_state(const char *dir, char *out)
{
    static const char *const tables[] = {"t", "u", "items"};
    pv_buf b = PV_BUF_INIT;
    pv_db *db = NULL;
    size_t i;
    int rc = pv_open(dir, PV_OPEN_READONLY, &db), c;
    if (rc) pv_buf_printf(&b, "open: %d %s\n", rc, pv_errmsg());
    for (i = 0; !rc && i < sizeof tables / sizeof tables[0]; i++) {
        char path[400], sql[64], text[2048];
        pv_stmt *st = NULL;
        long n;
        snprintf(path, sizeof path, "%s/.pv/tables/%s/schema.jsonl", dir, tables[i]);
        n = slurp_file(path, text, sizeof text);
        pv_buf_printf(&b, "%s: %s", tables[i], n < 0 ? "-\n" : text);
        snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY 1", tables[i]);
        if (pv_prepare(db, sql, (size_t)-1, &st, NULL)) continue;
        while (pv_step(st) == PV_ROW) {
            for (c = 0; c < pv_column_count(st); c++) {
                if (pv_column_type(st, c) == PV_BLOB || pv_column_bytes(st, c) > 40)
                    pv_buf_printf(&b, "%s%s(%zu)", c ? "|" : "", pv_column_type(st, c) == PV_BLOB ? "blob" : "text",
                                  pv_column_bytes(st, c));
                else pv_buf_printf(&b, "%s%s", c ? "|" : "", pv_column_text(st, c) ? pv_column_text(st, c) : "NULL");
            }
            pv_buf_putc(&b, '\n');
        }
        pv_finalize(st);
    }
    pv_close(db);
    snprintf(out, STATE_CAP, "%.*s", (int)b.len, b.p ? b.p : "");
    pv_buf_free(&b);
}

/* A fresh workspace `name` (its path in dir) with tables t (two rows) and
 * u (one), open writable; `state` receives dump_state's text of it. */
static pv_db *two_tables(char *dir, size_t cap, const char *name, char *state)
{
    pv_db *db = NULL;
    fresh_dir(dir, cap, name);
    assert_int_equal(pv_workspace_init(dir), PV_OK);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_exec(db, "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT, g INTEGER); "
                                 "CREATE TABLE u(k TEXT PRIMARY KEY, g INTEGER); "
                                 "INSERT INTO t VALUES (1, 'one', 0), (2, 'two', 0); "
                                 "INSERT INTO u VALUES ('z', 26)"),
                     PV_OK);
    dump_state(dir, state);
    return db;
}

/* ref[s]: the state after step s of a run without faults (0: none yet). */
#define MAX_STEPS 40
static char ref_state[MAX_STEPS + 1][STATE_CAP];
static int nsteps;

static void reference_states(void)
{
    char dir[256];
    ledger L0;
    int s;
    quiet(1);
    memset(&L0, 0, sizeof L0);
    fresh_dir(dir, sizeof dir, "ref");
    write_csv(dir);
    workload_steps_seen = 0;
    assert_int_equal(workload(dir, &L0, 0), 0);
    nsteps = workload_steps_seen;
    assert_true(nsteps <= MAX_STEPS);
    for (s = 1; s <= nsteps; s++) {
        ledger L;
        memset(&L, 0, sizeof L);
        fresh_dir(dir, sizeof dir, "ref");
        write_csv(dir);
        assert_int_equal(workload(dir, &L, s), 0);
        dump_state(dir, ref_state[s]);
    }
    quiet(0);
}

static void test_alloc_failures(void **state)
{
    char dir[256];
    static void *call_sites[8192];
    static char got[STATE_CAP];
    long n, live0, findings = 0, sites = 0, not_enomem = 0, failed_rows_seen = 0, absorbed = 0;
    long ncall_sites = 0, states_checked = 0, steps_failed[MAX_STEPS + 1] = {0};
    int done = 0, s;
    (void)state;
    if (!wrapped()) {
        print_message("test_faults: built without the --wrap link flags (see the top of "
                      "tests/unit/test_faults.c): allocation faults not injected\n");
        skip();
    }
    reference_states();
    n = getenv("PV_FAULTS_ONLY") ? atol(getenv("PV_FAULTS_ONLY")) : 1;
    for (; !done; n++) {
        ledger L;
        const char *why;
        int rc, present;
        memset(&L, 0, sizeof L);
        fresh_dir(dir, sizeof dir, "alloc");
        write_csv(dir);
        live0 = F.live;
        quiet(1);
        running_alloc = n;
        arm(n, IO_NONE, 0);
        rc = workload(dir, &L, 0);
        disarm();
        running_alloc = 0;
        quiet(0);
        if (!F.alloc_hit) {
            /* The allocation count was never reached: the whole workload
             * ran without a fault. That must be a success. */
            if (rc) fail_msg("run %ld: no fault injected, yet step %d failed (%d): %s", n,
                             L.failed_step, rc, L.msg);
            done = 1;
        } else {
            long k;
            sites++;
            for (k = 0; k < ncall_sites && call_sites[k] != F.hit_site; k++) {}
            if (k == ncall_sites && k < (long)(sizeof call_sites / sizeof call_sites[0]))
                call_sites[ncall_sites++] = F.hit_site;
            if (L.failed_step > 0 && L.failed_step <= MAX_STEPS) steps_failed[L.failed_step]++;
            if (rc == 0) absorbed++; /* the failure was handled and did not matter */
            else if (rc != PV_ENOMEM) {
                not_enomem++;
                print_message("allocation %ld (step %d): code %d, not PV_ENOMEM: %s\n", n,
                              L.failed_step, rc, L.msg);
            }
            if (rc && !L.msg[0]) fail_msg("allocation %ld (step %d): error %d without a message", n, L.failed_step, rc);
        }
        if (F.live != live0) {
            findings++;
            print_message("FINDING allocation %ld (step %d, code %d: %s): %ld block(s) leaked\n", n,
                          L.failed_step, rc, L.msg, F.live - live0);
        }
        if (verbose())
            fprintf(stderr, "alloc %ld: step %d rc %d %s\n", n, L.failed_step, rc, L.msg);
        if (getenv("PV_FAULTS_ONLY")) done = 1;
        if (L.failed_step > 1 || !F.alloc_hit) {
            live0 = F.live;
            why = check_workspace(dir, &L, &present);
            if (why) {
                findings++;
                print_message("FINDING allocation %ld (step %d, code %d: %s): %s\n", n, L.failed_step, rc, L.msg, why);
            }
            failed_rows_seen += present;
            if (present) { /* an INSERT said it failed, yet its rows were committed */
                findings++;
                print_message("FINDING allocation %ld (step %d, code %d: %s): %d row(s) of the failed INSERT "
                              "are in the workspace after reopen\n", n, L.failed_step, rc, L.msg, present);
            }
            if (F.live != live0) {
                findings++;
                print_message("FINDING allocation %ld: reopening leaked %ld block(s)\n", n, F.live - live0);
            }
            /* Every step from 5 on is one statement or transaction (or
             * reads only): a failed one leaves the state of the step
             * before, byte for byte; an absorbed fault the final state. */
            s = !F.alloc_hit || rc == 0 ? nsteps : L.failed_step >= 5 ? L.failed_step - 1 : 0;
            if (s > 0) {
                dump_state(dir, got);
                states_checked++;
                if (strcmp(got, ref_state[s]) != 0) {
                    findings++;
                    /* (printf: print_message cuts long messages) */
                    printf("FINDING allocation %ld (step %d, code %d: %s): the workspace is not the state "
                           "after step %d\n--- want\n%s--- got\n%s", n, L.failed_step, rc, L.msg, s,
                           ref_state[s], got);
                }
            }
        }
    }
    print_message("allocation faults: %ld allocation calls failed one by one (workload of %d steps, %ld "
                  "allocations), from %ld distinct call sites; %ld absorbed, %ld reported as another code "
                  "than PV_ENOMEM; rows of failed INSERTs found after reopen: %ld; states compared with "
                  "the reference: %ld; findings: %ld\n",
                  sites, nsteps, n - 2, ncall_sites, absorbed, not_enomem, failed_rows_seen, states_checked,
                  findings);
    for (s = 1; s <= nsteps && !getenv("PV_FAULTS_ONLY"); s++)
        print_message("  step %2d: %ld failed allocations\n", s, steps_failed[s]);
    if (!getenv("PV_FAULTS_ONLY")) assert_true(sites > 100);
    assert_int_equal(findings, 0);
    assert_int_equal(not_enomem, 0);
}

/* ---- the I/O session ------------------------------------------------------ */

static const char *const io_mode_name[] = {"none", "write ENOSPC (short write first)", "write EIO",
                                           "fsync EIO"};

/* Run sql; on an error, roll back what it left open (as an application
 * would before going on). 1 when it failed. */
static int io_exec(pv_db *db, const char *sql)
{
    if (pv_exec(db, sql) == PV_OK) return 0;
    (void)pv_exec(db, "ROLLBACK"); /* an error when no transaction is open */
    return 1;
}

static int fsck_dir(const char *dir);

/* A session that goes on after errors, as an application that retries
 * would: single-row INSERTs, a multi-row INSERT, a CREATE TABLE, a unique
 * index, upserts, UPDATE, DELETE, ALTER, more INSERTs. Returns the number
 * of statements that failed. */
static int io_session(pv_db *db, ledger *L)
{
    int failed = 0;
    failed += insert_rows(db, 1, 16, L, 1) != 0;
    if (pv_exec(db, "INSERT INTO t VALUES (40, 'name-40', 20.0, 0, X'28000000'), "
                    "(42, 'name-42', 21.0, 2, NULL)") == PV_OK)
        L->state[40] = L->state[42] = ROW_COMMITTED;
    else
        L->state[40] = L->state[42] = ROW_FAILED, failed++;
    failed += pv_exec(db, "CREATE TABLE u(k INTEGER PRIMARY KEY, v TEXT)") != 0;
    failed += pv_exec(db, "INSERT INTO u VALUES (1, 'one')") != 0;
    /* a unique index, upserts (autocommit, so a failed write fails their
     * commit: see workload()), an UPDATE, a DELETE and an ALTER of u */
    failed += io_exec(db, "CREATE UNIQUE INDEX u_v ON u(v)");
    failed += io_exec(db, "INSERT INTO u VALUES (2, 'two'), (3, 'one') ON CONFLICT(v) DO NOTHING");
    failed += io_exec(db, "INSERT OR REPLACE INTO u VALUES (4, 'two')");
    failed += io_exec(db, "UPDATE u SET v = v || '!' WHERE k = 1");
    failed += io_exec(db, "DELETE FROM u WHERE k = 4");
    failed += io_exec(db, "ALTER TABLE u ADD COLUMN w INTEGER");
    failed += insert_rows(db, 16, 30, L, 1) != 0;
    return failed;
}

static void io_faults(int mode, long *sites, long *findings, long *failed_rows_seen)
{
    char dir[256];
    long n;
    int done = 0;
    for (n = 1; !done; n++) {
        ledger L;
        pv_db *db = NULL;
        const char *why;
        int failed, present;
        memset(&L, 0, sizeof L);
        fresh_dir(dir, sizeof dir, "io");
        assert_int_equal(pv_workspace_init(dir), PV_OK);
        assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
        assert_int_equal(pv_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                                     "x REAL, g INTEGER, b BLOB)"), PV_OK);
        quiet(1);
        arm(0, mode, n);
        failed = io_session(db, &L);
        disarm();
        assert_int_equal(pv_close(db), PV_OK);
        quiet(0);
        if (!F.io_hit) {
            if (failed) fail_msg("%s: no fault injected, yet %d statement(s) failed: %s", io_mode_name[mode],
                                 failed, pv_errmsg());
            done = 1;
        } else {
            ++*sites;
            if (!failed)
                fail_msg("%s %ld: the fault was injected but every statement succeeded", io_mode_name[mode], n);
        }
        quiet(1);
        why = check_workspace(dir, &L, &present);
        quiet(0);
        if (verbose())
            fprintf(stderr, "%s %ld: %d failed, %d row(s) of failed INSERTs there, %s\n", io_mode_name[mode], n,
                    failed, present, why ? why : "ok");
        if (!why && fsck_dir(dir) != 0) why = "pvdev fsck finds problems after reopen";
        if (why) {
            ++*findings;
            print_message("FINDING %s at call %ld: %s\n", io_mode_name[mode], n, why);
        }
        *failed_rows_seen += present;
        /* A failed write must undo its INSERT. A failed fsync may come after
         * the commit point (the journal's removal), where the outcome is
         * honestly unknown: rows there are counted, not refused. */
        if (present && mode != IO_FSYNC_EIO) {
            ++*findings;
            print_message("FINDING %s at call %ld: %d row(s) of failed INSERTs are in the workspace after "
                          "reopen\n", io_mode_name[mode], n, present);
        }
    }
}

static void test_io_failures(void **state)
{
    long sites = 0, findings = 0, failed_rows_seen = 0;
    int mode;
    (void)state;
    if (!wrapped()) {
        print_message("test_faults: built without the --wrap link flags: I/O faults not injected\n");
        skip();
    }
    for (mode = IO_WRITE_ENOSPC; mode <= IO_FSYNC_EIO; mode++) {
        long before = sites;
        io_faults(mode, &sites, &findings, &failed_rows_seen);
        print_message("I/O faults, %s: %ld calls failed one by one\n", io_mode_name[mode], sites - before);
    }
    print_message("I/O faults: %ld in all; rows of failed INSERTs found after reopen (after a "
                  "failed fsync): %ld\n", sites, failed_rows_seen);
    assert_true(sites > 50);
    assert_int_equal(findings, 0);
}

/* ---- a commit that fails undoes itself, and says why ---------------------- */

/* A COMMIT whose N-th write fails (EIO, or a short write then ENOSPC),
 * for every N: the commit is journaled (rows in two tables, an UPDATE, a
 * new table), so the writer undoes what it wrote from its journal; or it
 * is one row appended to a chunk, which has no journal. It reports its own
 * error, the failed write and its file, and nothing on stderr: "rolled
 * back a commit that was interrupted" and "cutting an incomplete last
 * line ... left by an interrupted write" are for a crash found by an
 * open, and there is none. Regression tests: the undo of our own failed
 * commit printed the first, as if a crash had been repaired; a one-row
 * INSERT cut short by a full disk left half its line, which the reload
 * after the failure cut with the second. Reopened, the workspace is
 * exactly the state before the COMMIT, with nothing to roll back,
 * fsck-clean, and takes the same commit again. */
static void test_failed_commit_undone_quietly(void **state)
{
    static const int modes[] = {IO_WRITE_EIO, IO_WRITE_ENOSPC};
    static char before[STATE_CAP], after[STATE_CAP], err[4096];
    static const char *const txns[] = {
        "INSERT INTO t VALUES (10, 'ten', 1), (11, 'eleven', 2), (12, 'twelve', 3); "
        "UPDATE t SET v = 'one!' WHERE k = 1; "
        "INSERT INTO u VALUES ('a', 1), ('b', 2); "
        "CREATE TABLE items(code TEXT PRIMARY KEY, label TEXT, amount REAL); "
        "INSERT INTO items VALUES ('x', 'an item', 1.5)",
        NULL, /* below: one row, no journal */
    };
    static const char *const one_row = "INSERT INTO t VALUES (10, 'a row of its own, long enough to be cut', 1)";
    char dir[256], errpath[300], msg[1024];
    fd_capture cap;
    long undone = 0, appends = 0;
    int k;
    (void)state;
    if (!wrapped()) {
        print_message("test_faults: built without the --wrap link flags: I/O faults not injected\n");
        skip();
    }
    for (k = 0; k < 4; k++) { /* each transaction, each mode */
        const char *txn = txns[k / 2];
        int mode = modes[k % 2];
        long n;
        int done = 0;
        for (n = 1; !done; n++) {
            pv_db *db = NULL;
            int rc;
            db = two_tables(dir, sizeof dir, "failcommit", before);
            snprintf(errpath, sizeof errpath, "%s.stderr", dir);
            if (txn) {
                assert_int_equal(pv_exec(db, "BEGIN"), PV_OK);
                assert_int_equal(pv_exec(db, txn), PV_OK);
            }
            fd_capture_begin(&cap, 2, errpath);
            arm(0, mode, n);
            rc = pv_exec(db, txn ? "COMMIT" : one_row);
            disarm();
            snprintf(msg, sizeof msg, "%s", pv_errmsg());
            fd_capture_end(&cap, err, sizeof err);
            if (!F.io_hit) {
                if (rc) fail_msg("%s: no fault injected, yet COMMIT failed: %s", io_mode_name[mode], msg);
                assert_int_equal(pv_close(db), PV_OK);
                done = 1;
                continue;
            }
            if (verbose())
                fprintf(stderr, "%s %ld: COMMIT %d: %s; stderr: '%s'\n", io_mode_name[mode], n, rc, msg, err);
            /* its own error: the write that failed, naming its file */
            if (rc != PV_EIO || strncmp(msg, "cannot write '", 14) || !strstr(msg, "/.pv/") ||
                !strstr(msg, mode == IO_WRITE_EIO ? "Input/output error" : "No space left on device"))
                fail_msg("%s %ld: COMMIT returned %d '%s', want PV_EIO and the failed write", io_mode_name[mode],
                         n, rc, msg);
            if (strstr(msg, "interrupted") || err[0])
                fail_msg("%s %ld: a failed commit speaks of a crash: message '%s', stderr '%s'",
                         io_mode_name[mode], n, msg, err);
            if (!txn) appends++;
            else if (!strstr(msg, "/journal/")) undone++; /* it had journaled: the undo ran */
            /* the handle goes on: the commit is gone, the rows before are there */
            assert_int_equal(pv_exec(db, "SELECT * FROM t"), PV_OK);
            assert_int_equal(pv_close(db), PV_OK);
            /* reopened: nothing to roll back, and exactly the state before */
            fd_capture_begin(&cap, 2, errpath);
            rc = pv_open(dir, PV_OPEN_READWRITE, &db);
            fd_capture_end(&cap, err, sizeof err);
            assert_int_equal(rc, PV_OK);
            if (err[0]) fail_msg("%s %ld: the open after a failed commit printed '%s'", io_mode_name[mode], n, err);
            dump_state(dir, after);
            if (strcmp(before, after))
                fail_msg("%s %ld: after the failed commit\n--- want\n%s--- got\n%s", io_mode_name[mode], n, before,
                         after);
            quiet(1);
            rc = fsck_dir(dir);
            quiet(0);
            assert_int_equal(rc, 0);
            assert_int_equal(pv_exec(db, txn ? "BEGIN" : one_row), PV_OK);
            if (txn) {
                assert_int_equal(pv_exec(db, txn), PV_OK);
                assert_int_equal(pv_exec(db, "COMMIT"), PV_OK);
            }
            assert_int_equal(pv_close(db), PV_OK);
            unlink(errpath);
        }
    }
    print_message("failed commits: %ld undone from their journal, %ld one-row appends cut back; none reported "
                  "as interrupted\n", undone, appends);
    assert_true(undone >= 5);
    assert_true(appends >= 2);
}

/* A commit whose write fails (EIO), then the cleanup after it fails too:
 * the k-th allocation after the failed write fails, for every k until none
 * is reached. The user must read the commit's own error first ("cannot
 * write 'FILE': Input/output error", as with the cleanup succeeding), the
 * cleanup's failure after it, never in its place; the reopened workspace
 * holds exactly the state before. Regression test: the re-read of the
 * catalog after a failed commit put its "out of memory" in place of the
 * write error. */
static void test_failed_commit_then_cleanup_fails(void **state)
{
    static char before[STATE_CAP], after[STATE_CAP];
    static const char *const txns[] = {
        "BEGIN; INSERT INTO t VALUES (10, 'ten', 1), (11, 'eleven', 2); INSERT INTO u VALUES ('a', 1); COMMIT",
        "INSERT INTO t VALUES (10, 'a row of its own', 1)", /* one row: no journal */
    };
    char dir[256], msg0[1024], msg[1024];
    long added = 0;
    int x;
    (void)state;
    if (!wrapped()) {
        print_message("test_faults: built without the --wrap link flags: faults not injected\n");
        skip();
    }
    for (x = 0; x < 2; x++) {
        long k, io_n = x == 0 ? 2 : 1; /* journaled: a write after the journal's */
        for (k = 0;; k++) {
            pv_db *db = NULL;
            int rc;
            db = two_tables(dir, sizeof dir, "failcleanup", before);
            arm(0, IO_WRITE_EIO, io_n);
            F.then_alloc = k; /* k = 0: the write fails alone, for msg0 */
            rc = pv_exec(db, txns[x]);
            disarm();
            snprintf(msg, sizeof msg, "%s", pv_errmsg());
            if (!F.io_hit || rc != PV_EIO)
                fail_msg("%s, allocation %ld after: %d '%s', want PV_EIO", txns[x], k, rc, msg);
            if (verbose()) fprintf(stderr, "allocation %ld after the failed write: %s\n", k, msg);
            if (k == 0) snprintf(msg0, sizeof msg0, "%s", msg);
            if (k == 0 && strstr(msg0, "/journal/")) /* then no file was touched: nothing to re-read */
                fail_msg("%s: write %ld is the journal's: '%s'", txns[x], io_n, msg0);
            /* the commit's own error first, whatever failed after it */
            if (strncmp(msg0, "cannot write '", 14) || strncmp(msg, msg0, strlen(msg0)))
                fail_msg("%s, allocation %ld after the failed write also failing: message '%s', want it to "
                         "start with the commit's own error '%s'", txns[x], k, msg, msg0);
            if (strlen(msg) > strlen(msg0)) {
                if (!strstr(msg + strlen(msg0), "out of memory"))
                    fail_msg("%s, allocation %ld after: '%s' adds something else than the cleanup's failure",
                             txns[x], k, msg);
                added++;
            }
            pv_close(db);
            quiet(1); /* an undo that failed left its journal: the open reports the rollback */
            rc = pv_open(dir, PV_OPEN_READWRITE, &db);
            quiet(0);
            assert_int_equal(rc, PV_OK);
            dump_state(dir, after);
            if (strcmp(before, after))
                fail_msg("%s, allocation %ld after: reopened\n--- want\n%s--- got\n%s", txns[x], k, before, after);
            assert_int_equal(pv_close(db), PV_OK);
            if (k > 0 && !F.alloc_hit) break; /* past the cleanup's last allocation */
        }
    }
    print_message("failed commits whose cleanup failed too: %ld reported both\n", added);
    assert_true(added >= 2);
}

/* ---- hostile workspaces ---------------------------------------------------- */

/* A pull request can carry symbolic links (git stores them). A chunk file
 * that is a link to a file outside .pv/ must never be written through: a
 * writable open cuts a "torn" last line off the newest chunk, and an INSERT
 * appends to it. Regression test: the cut was truncate(2) on the path, which
 * followed the link and cut the victim file to its last newline; the store
 * now refuses links (O_NOFOLLOW, lstat) and leaves the victim alone. */
static void test_symlinked_chunk_is_not_followed(void **state)
{
    static const char victim_text[] = "outside .pv: keep me\nno final newline";
    char dir[256], victim[300], link[400], buf[256];
    pv_db *db = NULL;
    int fd;
    (void)state;
    fresh_dir(dir, sizeof dir, "symlink");
    snprintf(victim, sizeof victim, "%s/victim.txt", base_dir);
    fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, victim_text, sizeof victim_text - 1), (ssize_t)(sizeof victim_text - 1));
    close(fd);
    assert_int_equal(pv_workspace_init(dir), PV_OK);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_exec(db, "CREATE TABLE t(id INTEGER PRIMARY KEY); INSERT INTO t VALUES (1)"), PV_OK);
    assert_int_equal(pv_close(db), PV_OK);
    db = NULL;
    snprintf(link, sizeof link, "%s/.pv/tables/t/00000002.jsonl", dir);
    assert_int_equal(symlink(victim, link), 0);

    quiet(1);
    if (pv_open(dir, PV_OPEN_READWRITE, &db) == PV_OK) {
        (void)pv_exec(db, "INSERT INTO t VALUES (2)");
        pv_close(db);
    }
    quiet(0);
    assert_int_equal(slurp_file(victim, buf, sizeof buf), (long)(sizeof victim_text - 1));
    assert_string_equal(buf, victim_text);
}

/* Entries of a directory, sorted, joined by spaces (at most cap bytes). */
static void list_dir(const char *path, char *out, size_t cap)
{
    char cmd[600];
    FILE *p;
    size_t n;
    snprintf(cmd, sizeof cmd, "ls -A '%s' | tr '\\n' ' '", path);
    p = popen(cmd, "r");
    assert_non_null(p);
    n = fread(out, 1, cap - 1, p);
    out[n] = '\0';
    pclose(p);
}

/* Hostile names (issue 8): table names that would be paths (`..`, `/`,
 * absolute, a NUL byte, overlong, not ASCII) are refused by CREATE TABLE,
 * ALTER TABLE ... RENAME TO and `pvdev import`, with a message, and nothing
 * appears outside .pv/tables/t; column and index names are not paths: the
 * legal ones (quotes, slashes, dots, keywords) are stored as given and read
 * back, the others (control characters, NUL, over 128 bytes) refused. */
static void test_hostile_names(void **state)
{
    static const char *const tables[] = {
        "..", ".", "../evil", "..\\evil", "/tmp/evil", "a/b", "a.b", "", " t2", "t 2", "9t", "\xc3\xa9t",
        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 65 bytes */
    };
    char dir[256], sql[512], before[1024], after[1024], path[400];
    pv_db *db = NULL;
    pv_stmt *st = NULL;
    size_t i;
    int rc;
    (void)state;
    fresh_dir(dir, sizeof dir, "names");
    assert_int_equal(pv_workspace_init(dir), PV_OK);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_exec(db, "CREATE TABLE t(a INTEGER PRIMARY KEY)"), PV_OK);
    list_dir(base_dir, before, sizeof before);
    for (i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char *argv[] = {"import", (char *)tables[i], path, "-C", dir, NULL};
        snprintf(sql, sizeof sql, "CREATE TABLE \"%s\"(a INTEGER PRIMARY KEY)", tables[i]);
        rc = pv_exec(db, sql);
        if (rc >= 0) fail_msg("CREATE TABLE '%s' was accepted", tables[i]);
        assert_true(pv_errmsg()[0] != '\0');
        snprintf(sql, sizeof sql, "ALTER TABLE t RENAME TO \"%s\"", tables[i]);
        if (pv_exec(db, sql) >= 0) fail_msg("ALTER TABLE t RENAME TO '%s' was accepted", tables[i]);
        pv_close(db);
        db = NULL;
        write_csv(dir);
        snprintf(path, sizeof path, "%s/items.csv", dir);
        quiet(1);
        rc = cmd_import(5, argv);
        quiet(0);
        if (rc == PVDEV_EXIT_OK) fail_msg("pvdev import into table '%s' was accepted", tables[i]);
        assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    }
    /* A NUL byte inside a quoted name (the statement's length covers it)
     * is refused by the lexer: it used to be cut at the NUL ("ev\0il"
     * created table ev). */
    {
        static const char nul_sql[] = "CREATE TABLE \"ev\0il\"(a INTEGER PRIMARY KEY)";
        static const char nul_col[] = "CREATE TABLE c2(\"a\0b\" INTEGER PRIMARY KEY)";
        const char *const q[] = {nul_sql, nul_col};
        const size_t qlen[] = {sizeof nul_sql - 1, sizeof nul_col - 1};
        for (i = 0; i < 2; i++) {
            rc = pv_prepare(db, q[i], qlen[i], &st, NULL);
            if (!rc && st) rc = pv_step(st);
            pv_finalize(st);
            st = NULL;
            if (rc >= 0) fail_msg("a name with a NUL byte was accepted (%s)", i ? "column \"a\\0b\"" : "table \"ev\\0il\"");
            assert_non_null(strstr(pv_errmsg(), "cannot hold a NUL byte"));
        }
    }
    snprintf(path, sizeof path, "%s/.pv/tables", dir);
    list_dir(path, after, sizeof after);
    assert_string_equal(after, "t ");
    list_dir(base_dir, after, sizeof after);
    assert_string_equal(after, before);

    /* column and index names are JSON strings, never paths */
    assert_int_equal(pv_exec(db, "CREATE TABLE c(\"../x\" INTEGER PRIMARY KEY, \"a\"\"b\" TEXT, \"/etc/passwd\" TEXT, "
                                 "\"select\" TEXT, \"\xc3\xa9\\\" TEXT)"), PV_OK);
    assert_int_equal(pv_exec(db, "CREATE INDEX \"../ix\" ON c(\"a\"\"b\", \"select\")"), PV_OK);
    assert_int_equal(pv_exec(db, "INSERT INTO c VALUES (1, 'q', 'r', 's', 'u')"), PV_OK);
    assert_true(pv_exec(db, "CREATE TABLE c3(\"a\x01\" INTEGER PRIMARY KEY)") < 0);
    snprintf(sql, sizeof sql, "CREATE TABLE c4(\"%0129d\" INTEGER PRIMARY KEY)", 0);
    assert_true(pv_exec(db, sql) < 0);
    assert_int_equal(pv_close(db), PV_OK);
    db = NULL;
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_OK);
    assert_int_equal(pv_prepare(db, "SELECT \"../x\", \"a\"\"b\", \"/etc/passwd\", \"select\", \"\xc3\xa9\\\" FROM c "
                                    "WHERE \"a\"\"b\" = 'q' AND \"select\" = 's'", (size_t)-1, &st, NULL), PV_OK);
    assert_int_equal(pv_step(st), PV_ROW);
    assert_string_equal(pv_column_name(st, 1), "a\"b");
    assert_string_equal(pv_column_name(st, 4), "\xc3\xa9\\");
    assert_string_equal(pv_column_text(st, 4), "u");
    assert_int_equal(pv_step(st), PV_DONE);
    pv_finalize(st);
    pv_close(db);
    /* A table named by a keyword is legal (quoted); the tools must quote
     * it wherever they build SQL (`pvdev export order` built SELECT * FROM
     * order until pv_sql_put_ident). */
    {
        char out[300], *argv[] = {"export", "-o", out, "-C", dir, "order", NULL};
        snprintf(out, sizeof out, "%s/order.csv", base_dir);
        assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
        assert_int_equal(pv_exec(db, "CREATE TABLE \"order\"(\"select\" INTEGER PRIMARY KEY); "
                                     "INSERT INTO \"order\" VALUES (1)"), PV_OK);
        assert_int_equal(pv_close(db), PV_OK);
        db = NULL;
        quiet(1);
        rc = cmd_export(6, argv);
        quiet(0);
        if (rc != PVDEV_EXIT_OK) fail_msg("pvdev export of table \"order\" failed: %s", pv_errmsg());
        remove(out);
        assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
        assert_int_equal(pv_exec(db, "DROP TABLE \"order\""), PV_OK);
        assert_int_equal(pv_close(db), PV_OK);
        db = NULL;
    }
    snprintf(path, sizeof path, "%s/.pv/tables", dir);
    list_dir(path, after, sizeof after);
    assert_string_equal(after, "c t ");
    list_dir(base_dir, after, sizeof after);
    assert_string_equal(after, before);
}

/* ---- the crash loop: a writer killed at every byte ------------------------ */

/* The steps of the killed writer, each one commit (or none): plain
 * and multi-statement transactions, a blob, a secondary index, an upsert,
 * ALTER (and the continuation header of the write after it), DROP
 * COLUMN (its header alone), CREATE/DROP TABLE, a compaction, an import, DROP INDEX. t starts with
 * two chunks (crash_setup). */
enum { CRASH_LONG = 1, CRASH_COMPACT, CRASH_IMPORT };
static const struct crash_step {
    int kind;          /* 0: SQL, else CRASH_* */
    const char *sql;
} crash_steps[] = {
    {0, "INSERT INTO t VALUES (1, 'a', 1), (2, 'b', 2)"},
    {0, "BEGIN; INSERT INTO t VALUES (3, 'c', 1); UPDATE t SET g = 5 WHERE k = 1; DELETE FROM t WHERE k = 2; COMMIT"},
    {CRASH_LONG, NULL},
    {0, "CREATE UNIQUE INDEX t_v ON t(v)"},
    {0, "INSERT INTO t VALUES (4, 'a', 9), (5, 'e', 1) ON CONFLICT(v) DO UPDATE SET g = excluded.g"},
    {0, "ALTER TABLE t ADD COLUMN z TEXT"},
    /* into the open chunk 2 behind a continuation header */
    {0, "UPDATE t SET z = 'zz' WHERE g > 1"},
    /* versions and a delete in chunk 2, a new version of chunk 1's row:
     * the compaction rewrites both chunks, drops k = 5 and its delete and
     * keeps the continuation header */
    {0, "BEGIN; UPDATE t SET z = 'z2' WHERE g > 1; DELETE FROM t WHERE k = 5; UPDATE t SET v = 'older' WHERE k = 100; "
        "COMMIT"},
    {0, "BEGIN; CREATE TABLE u(k INTEGER PRIMARY KEY, tag TEXT); INSERT INTO u VALUES (1, 'x'), (2, 'y'); COMMIT"},
    {0, "DROP TABLE u"},
    {CRASH_COMPACT, NULL},
    {CRASH_IMPORT, NULL},
    {0, "DROP INDEX t_v"},
    /* a continuation header alone, appended at the ALTER's commit */
    {0, "ALTER TABLE t DROP COLUMN z"},
    {0, "DELETE FROM t WHERE k = 3"},
};
#define CRASH_NSTEPS ((int)(sizeof crash_steps / sizeof crash_steps[0]))

/* What the killed process leaves for its parent (a shared mapping). */
#define CRASH_MARKS 8192
typedef struct crash_shared {
    int steps_done;   /* steps that returned success */
    long used;        /* units spent (a run without a crash: the total) */
    int nmarks;       /* a run without a crash: where each call started */
    long marks[CRASH_MARKS];
} crash_shared;

/* The workspace before the writer starts: tables t and items. */
static void crash_setup(const char *dir)
{
    static const char chunk2[] = "{\"pv\":1,\"columns\":[\"k\",\"v\",\"g\"]}\n";
    pv_db *db = NULL;
    char path[400];
    int fd;
    assert_int_equal(pv_workspace_init(dir), PV_OK);
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_exec(db, "CREATE TABLE t(k INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (100, 'old'); "
                                 "ALTER TABLE t ADD COLUMN g INTEGER; "
                                 "CREATE TABLE items(code TEXT PRIMARY KEY, label TEXT, amount REAL)"), PV_OK);
    assert_int_equal(pv_close(db), PV_OK);
    /* t's writes after the ALTER go to a chunk of their own, as a pvdev
     * from before continuation headers left them: the workload writes to
     * chunk 2, the compaction rewrites both */
    snprintf(path, sizeof path, "%s/.pv/tables/t/00000002.jsonl", dir);
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, chunk2, sizeof chunk2 - 1), (ssize_t)(sizeof chunk2 - 1));
    assert_int_equal(close(fd), 0);
    write_csv(dir);
}

/* Run the steps (all, or the first stop_after when >= 0); 0 or the first error. */
static int crash_workload(const char *dir, crash_shared *sh, int stop_after)
{
    char long_sql[1700], csv[300];
    char *argv[] = {"import", "items", csv, "-C", (char *)dir, NULL};
    pv_db *db = NULL;
    pv_ws *ws = NULL;
    size_t ntables;
    int i, rc = pv_open(dir, PV_OPEN_READWRITE, &db);
    snprintf(csv, sizeof csv, "%s/items.csv", dir);
    snprintf(long_sql, sizeof long_sql, "INSERT INTO t VALUES (6, '%01500d', 2)", 6);
    for (i = 0; !rc && i < CRASH_NSTEPS && i != stop_after; i++) {
        const struct crash_step *st = &crash_steps[i];
        if (st->kind == 0 || st->kind == CRASH_LONG) {
            rc = pv_exec(db, st->kind ? long_sql : st->sql);
        } else {
            pv_close(db); /* the writer lock is the tool's now */
            db = NULL;
            if (st->kind == CRASH_COMPACT) {
                if (!(rc = pv_ws_open(dir, 1, &ws))) rc = pv_ws_compact(ws, NULL, &ntables);
                pv_ws_close(ws);
                ws = NULL;
            } else {
                rc = cmd_import(5, argv) == PVDEV_EXIT_OK ? 0 : PV_ERROR;
            }
            if (!rc) rc = pv_open(dir, PV_OPEN_READWRITE, &db);
        }
        if (!rc) sh->steps_done = i + 1;
    }
    pv_close(db);
    return rc;
}

/* Run the writer in a child with `budget` units (LONG_MAX: no crash).
 * Returns the child's exit code: CRASH_EXIT when it was killed, 0 when it
 * finished, 1 when a step failed. */
static int crash_child(const char *dir, crash_shared *sh, long budget)
{
    pid_t pid;
    int status;
    fflush(stdout);
    fflush(stderr);
    sh->steps_done = 0;
    sh->used = 0;
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY | O_CLOEXEC), rc;
        if (!getenv("PV_FAULTS_VERBOSE")) dup2(fd, 1), dup2(fd, 2);
        C.on = 1;
        C.budget = budget;
        C.used = 0;
        C.marks = budget == LONG_MAX ? sh->marks : NULL;
        C.cap = CRASH_MARKS;
        C.nmarks = 0;
        rc = crash_workload(dir, sh, -1);
        sh->used = C.used;
        sh->nmarks = C.nmarks;
        _exit(rc ? 1 : 0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

/* pvdev fsck on dir: 0 when clean. */
static int fsck_dir(const char *dir)
{
    char cwd[512], *argv[] = {"fsck", NULL};
    int out = dup(1), devnull = open("/dev/null", O_WRONLY | O_CLOEXEC), rc;
    assert_non_null(getcwd(cwd, sizeof cwd));
    assert_int_equal(chdir(dir), 0);
    fflush(stdout);
    dup2(devnull, 1);
    rc = cmd_fsck(1, argv);
    fflush(stdout);
    dup2(out, 1);
    close(out);
    close(devnull);
    assert_int_equal(chdir(cwd), 0);
    return rc;
}

/* Is `at` a crash point: next to the start of a call (just before it,
 * after its first byte, before its last one), or a multiple of stride? */
static int crash_point(const crash_shared *sh, long at, long stride)
{
    int i;
    if (at % stride == 0) return 1;
    for (i = 0; i < sh->nmarks; i++)
        if (at >= sh->marks[i] - 1 && at <= sh->marks[i] + 1) return 1;
    return 0;
}

/* The writer is killed after unit `at`, for every `at` from 0 to the
 * total that crash_point() picks: every unit with PV_FAULTS_CRASH_STRIDE=1
 * (`make stress`), else each call's edges and every 7th byte between them
 * (stride 7, prime, so the bytes met shift from write to write). Each
 * time the workspace, read
 * before any repair, is the state before the step in flight, after it, or
 * a clear refusal; once opened for writing (which rolls an interrupted
 * commit back), it is exactly one of the two states, fsck-clean, and takes
 * a new write. */
static void test_crash_at_every_byte(void **state)
{
    static char ref[CRASH_NSTEPS + 1][STATE_CAP], got[STATE_CAP];
    crash_shared *sh;
    char dir[256];
    long total, at, stride = getenv("PV_FAULTS_CRASH_STRIDE") ? atol(getenv("PV_FAULTS_CRASH_STRIDE")) : 7;
    long points = 0, before = 0, after = 0, ro_refused = 0, findings = 0;
    int s, code;
    (void)state;
    if (!wrapped()) {
        print_message("test_faults: built without the --wrap link flags: no crash loop\n");
        skip();
    }
    if (stride < 1) stride = 1;
    sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    assert_true(sh != MAP_FAILED);
    quiet(1);
    for (s = 0; s <= CRASH_NSTEPS; s++) { /* the state after each step */
        fresh_dir(dir, sizeof dir, "crash");
        crash_setup(dir);
        assert_int_equal(crash_workload(dir, sh, s), 0);
        dump_state(dir, ref[s]);
    }
    fresh_dir(dir, sizeof dir, "crash");
    crash_setup(dir);
    code = crash_child(dir, sh, LONG_MAX);
    quiet(0);
    assert_int_equal(code, 0);
    assert_int_equal(sh->steps_done, CRASH_NSTEPS);
    total = sh->used;

    assert_true(sh->nmarks < CRASH_MARKS);
    for (at = 0; at < total; at++) {
        const char *why = NULL;
        pv_db *db = NULL;
        int k, rc;
        if (!crash_point(sh, at, stride)) continue;
        quiet(1);
        fresh_dir(dir, sizeof dir, "crash");
        crash_setup(dir);
        code = crash_child(dir, sh, at);
        k = sh->steps_done;
        points++;
        if (code != CRASH_EXIT) {
            why = code == 0 ? "the writer finished before its budget ran out" : "a step failed without a crash";
        } else {
            /* 1. read before any repair: either state, or a refusal */
            dump_state(dir, got);
            if (!strncmp(got, "open: ", 6)) ro_refused++;
            else if (strcmp(got, ref[k]) && (k == CRASH_NSTEPS || strcmp(got, ref[k + 1])))
                why = "a read-only open sees neither the state before the step in flight nor after it";
            /* 2. a writable open rolls back; then exactly one state */
            if (!why && (rc = pv_open(dir, PV_OPEN_READWRITE, &db))) why = pv_errmsg();
            pv_close(db);
            db = NULL;
            if (!why) {
                dump_state(dir, got);
                if (!strcmp(got, ref[k])) before++;
                else if (k < CRASH_NSTEPS && !strcmp(got, ref[k + 1])) after++;
                else why = "after recovery the workspace is neither the state before the step in flight nor after it";
            }
            /* 3. fsck-clean, and it takes a new write */
            if (!why && fsck_dir(dir) != 0) why = "pvdev fsck finds problems after recovery";
            if (!why && (rc = pv_open(dir, PV_OPEN_READWRITE, &db)) == 0)
                rc = pv_exec(db, "INSERT INTO t(k, v) VALUES (1000, 'after the crash')");
            if (!why && rc) why = "the recovered workspace refuses a new INSERT";
            pv_close(db);
        }
        quiet(0);
        if (why) {
            findings++;
            printf("FINDING crash after %ld of %ld units (step %d in flight): %s\n--- got\n%s", at, total, k + 1, why,
                   got);
            if (findings > 5) break;
        }
    }
    print_message("crash loop: %d steps, %ld units (bytes written and calls that change files) in %d calls; "
                  "the writer killed at %ld points (each call's edges, and every %ld); after recovery %ld were "
                  "the state before the step in flight, %ld after it; a read-only open refused %ld times "
                  "before recovery; findings: %ld\n",
                  CRASH_NSTEPS, total, sh->nmarks, points, stride, before, after, ro_refused, findings);
    munmap(sh, sizeof *sh);
    assert_int_equal(findings, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_io_failures),
        cmocka_unit_test(test_failed_commit_undone_quietly),
        cmocka_unit_test(test_failed_commit_then_cleanup_fails),
        cmocka_unit_test(test_symlinked_chunk_is_not_followed),
        cmocka_unit_test(test_hostile_names),
        cmocka_unit_test(test_crash_at_every_byte),
    };
    return cmocka_run_group_tests(tests, setup_base, teardown_base);
}
