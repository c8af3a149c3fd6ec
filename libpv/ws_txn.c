/*
 * ws_txn.c: transactions on a workspace.
 *
 * A transaction holds `.pv/lock` (one writer across processes), changes the
 * tables in memory at once, and logs what each change replaced (undo log).
 * Rollback walks the log backwards. Commit walks it forwards to find the
 * final state of every row touched, writes only what differs from before
 * (an update that changes nothing writes nothing), and makes the appends
 * atomic with the rollback journal (ws_journal.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

#include "blobstore.h"
#include "schema_file.h"
#include "ws_index.h"
#include "ws_internal.h"

/* ---- the writer lock ----------------------------------------------------- */

/* What this handle writes into `.pv/lock`: its pid, right-aligned in 20
 * characters (older pvdev reads the pid with strtol and stops at the
 * space), then a token naming the handle, so that two handles of one
 * process differ too. Made once: getpid is a system call. */
static void lock_text(pv_ws *ws)
{
    static unsigned long serial;
    struct {
        long pid;
        unsigned long serial;
        const void *self;
        struct timespec real, mono;
    } seed;
    memset(&seed, 0, sizeof seed);
    seed.pid = (long)getpid();
    seed.serial = __atomic_add_fetch(&serial, 1, __ATOMIC_RELAXED);
    seed.self = ws;
    clock_gettime(CLOCK_REALTIME, &seed.real);
    clock_gettime(CLOCK_MONOTONIC, &seed.mono);
    ws->txn.lock_len = snprintf(ws->txn.lock_text, sizeof ws->txn.lock_text, "%20ld %016llx\n", seed.pid,
                                (unsigned long long)XXH3_64bits(&seed, sizeof seed));
}

/* ---- fork ------------------------------------------------------------------
 * flock belongs to the open file, which fork shares: a child writing
 * through a handle it inherited would take "the lock" its parent holds,
 * and its LOCK_UN would drop the parent's. So a child opens its own lock
 * files on first use (no system call in a process that never forked). */

static unsigned forks;

static void count_fork(void)
{
    forks++;
}

static void register_fork(void)
{
    pthread_atfork(NULL, NULL, count_fork);
}

unsigned ws_fork_gen(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, register_fork);
    return forks;
}

int ws_fork_check(pv_ws *ws)
{
    if (ws->fork_gen == forks) return 0;
    ws->fork_gen = forks;
    if (ws->txn.lock_fd >= 0) close(ws->txn.lock_fd);
    if (ws->commit_fd >= 0) close(ws->commit_fd);
    ws->txn.lock_fd = ws->commit_fd = -1;
    ws->txn.lock_len = 0; /* the child's pid in its text */
    ws->txn.lock_ours = 0;
    return 1;
}

/* Does `.pv/lock` (at `path`) still name the file the handle holds open?
 * A removed file (git clean -fdX: it is git-ignored) or one put in its
 * place no longer does: the next writer opens the new one, so a flock on
 * the old descriptor excludes nobody. One stat per transaction. */
static int lock_current(const pv_ws *ws, const char *path)
{
    struct stat st;
    int ok = ws->txn.pv_fd >= 0 ? fstatat(ws->txn.pv_fd, "lock", &st, 0) : stat(path, &st);
    return ok == 0 && st.st_ino == ws->txn.lock_ino && st.st_dev == ws->txn.lock_dev;
}

/* `.pv/lock` opened (created if missing) as the handle's lock_fd. */
static int open_lock(pv_ws *ws, const char *path)
{
    struct stat st;
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return pv_err_errno("cannot open '%s'", path);
    if (fstat(fd, &st) != 0) {
        close(fd);
        return pv_err_errno("cannot stat '%s'", path);
    }
    ws->txn.lock_fd = fd;
    if (ws->txn.pv_fd < 0) ws->txn.pv_fd = open(ws->pvdir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    ws->txn.lock_dev = st.st_dev;
    ws->txn.lock_ino = st.st_ino;
    ws->txn.lock_ours = 0; /* a new file: it cannot hold our text */
    if (!ws->txn.lock_len) lock_text(ws);
    return PV_OK;
}

static void drop_lock_fd(pv_ws *ws)
{
    close(ws->txn.lock_fd);
    ws->txn.lock_fd = -1;
}

/* The flock on lock_fd, taken without waiting; PV_ELOCKED naming the
 * holder's pid when another writer has it. */
static int flock_now(pv_ws *ws, const char *path)
{
    char text[64];
    int fd = ws->txn.lock_fd;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ssize_t got;
        long pid = 0;
        if (errno == EINTR) continue;
        if (errno != EWOULDBLOCK) return pv_err_errno("cannot lock '%s'", path);
        got = pread(fd, text, sizeof text - 1, 0);
        if (got > 0) {
            text[got] = '\0';
            pid = strtol(text, NULL, 10);
        }
        if (pid > 0)
            return pv_err(PV_ELOCKED, "workspace '%s' is locked by pid %ld (another writer); try again when it finishes",
                          ws->root, pid);
        return pv_err(PV_ELOCKED, "workspace '%s' is locked by another writer; try again when it finishes", ws->root);
    }
    return PV_OK;
}

/* `.pv/lock` is opened once per handle and flock'ed per transaction. The
 * holder's text (lock_text) is written after the flock, and the file cut
 * to it. *same is set when the file already held this handle's text, put
 * there by its own last clean transaction: every other writer writes its
 * own text as soon as it holds the lock, so no other writer has held it
 * since, and there is nothing to write. The flock counts only on the file
 * the path names (the classic lock file check, after the flock so that a
 * file replaced meanwhile is seen): else the descriptor is reopened. */
static int take_lock(pv_ws *ws, int *same)
{
    char path[4200], text[64];
    int fd, rc, tries;
    *same = 0;
    snprintf(path, sizeof path, "%s/lock", ws->pvdir);
    ws_fork_check(ws);
    for (tries = 0;; tries++) {
        if (ws->txn.lock_fd < 0 && (rc = open_lock(ws, path))) return rc;
        rc = flock_now(ws, path);
        if (lock_current(ws, path)) break;
        /* a stale file: its flock (or its holder's) says nothing */
        if (!rc) flock(ws->txn.lock_fd, LOCK_UN);
        drop_lock_fd(ws);
        if (tries == 100) return pv_err(PV_EIO, "cannot lock '%s': the file keeps being replaced", path);
    }
    if (rc) return rc;
    fd = ws->txn.lock_fd;
    if (ws->txn.lock_ours) {
        ssize_t got = pread(fd, text, sizeof text, 0);
        if (got == ws->txn.lock_len && !memcmp(text, ws->txn.lock_text, (size_t)got)) {
            *same = 1;
            return PV_OK;
        }
        ws->txn.lock_ours = 0;
    }
    if (pwrite(fd, ws->txn.lock_text, (size_t)ws->txn.lock_len, 0) != ws->txn.lock_len ||
        ftruncate(fd, ws->txn.lock_len) != 0) {
        flock(fd, LOCK_UN);
        return pv_err_errno("cannot write '%s'", path);
    }
    return PV_OK;
}

static void release_lock(pv_ws *ws)
{
    if (ws->txn.lock_fd >= 0) flock(ws->txn.lock_fd, LOCK_UN);
}

/* ---- the undo log -------------------------------------------------------- */

static int push(pv_ws *ws, ws_undo u)
{
    ws_txn *x = &ws->txn;
    if (x->nundo == x->cap) {
        size_t cap = x->cap ? x->cap * 2 : 256;
        ws_undo *g = realloc(x->undo, cap * sizeof *g);
        if (!g) return pv_err(PV_ENOMEM, "out of memory (undo log)");
        x->undo = g;
        x->cap = cap;
    }
    x->undo[x->nundo++] = u;
    return PV_OK;
}

int ws_txn_touch(pv_ws *ws, ws_table *t, size_t idx, int appended)
{
    ws_undo u = {WS_UNDO_ROW, t, NULL, idx, NULL, 0, 1};
    if (appended && ws->txn.nundo > ws->txn.floor) { /* the next slot of the last run */
        ws_undo *last = &ws->txn.undo[ws->txn.nundo - 1];
        if (last->kind == WS_UNDO_ROW && last->t == t && !last->old && last->idx + last->nrun == idx) {
            last->nrun++;
            return PV_OK;
        }
    }
    if (!appended) {
        size_t n = t->schema->ncols;
        /* Shallow copy: strings live in the table arena, which only grows
         * while the table is loaded. */
        u.old = pv_arena_alloc(&ws->txn.arena, n * sizeof *u.old);
        if (!u.old) return pv_err(PV_ENOMEM, "out of memory (undo log)");
        memcpy(u.old, &t->vals[idx * n], n * sizeof *u.old);
        u.old_live = t->live[idx];
    }
    return push(ws, u);
}

int ws_txn_log(pv_ws *ws, int kind, ws_table *t, ws_table *old_t)
{
    ws_undo u = {kind, t, old_t, 0, NULL, 0, 0};
    return push(ws, u);
}

static void set_live(ws_table *t, size_t idx, int live)
{
    if (t->live[idx] && !live) t->nlive--;
    if (!t->live[idx] && live) t->nlive++;
    t->live[idx] = (uint8_t)live;
    t->vec_dirty = 1;
}

static void undo_one(pv_ws *ws, ws_undo *u)
{
    switch (u->kind) {
    case WS_UNDO_ROW:
        if (u->old) {
            memcpy(&u->t->vals[u->idx * u->t->schema->ncols], u->old, u->t->schema->ncols * sizeof *u->old);
            set_live(u->t, u->idx, u->old_live);
            ws_index_row_changed(u->t, u->idx); /* its old values are indexed again */
        } else {
            size_t k; /* appended: their key slots now name dead rows */
            for (k = u->nrun; k-- > 0;) set_live(u->t, u->idx + k, 0);
        }
        break;
    case WS_UNDO_CREATE:
        ws_catalog_remove(ws, u->t);
        ws_table_free(u->t);
        break;
    case WS_UNDO_DROP: ws_catalog_add(ws, u->t); break;
    case WS_UNDO_COMPACT:
        ws_compact_free(u->t->txn_compact);
        u->t->txn_compact = NULL;
        break;
    case WS_UNDO_ALTER:
        ws_catalog_remove(ws, u->t);
        ws_table_free(u->t);
        ws_catalog_add(ws, u->old_t);
        break;
    }
}

/* `clean`: the transaction left the files as a whole commit (or as they
 * were), and the lock file holds our text: the next one may trust both. */
static void txn_end(pv_ws *ws, int clean)
{
    ws->txn.nundo = 0;
    ws->txn.floor = 0;
    pv_arena_free(&ws->txn.arena);
    ws->txn.open = 0;
    ws->txn.lock_ours = clean;
    release_lock(ws);
}

/* ---- begin, rollback, savepoints ----------------------------------------- */

/* Undo a commit another writer left interrupted, under the commit lock:
 * a reader taking its snapshot meanwhile sees the journal and the files
 * it undoes as they were before, or neither. */
static int recover(pv_ws *ws)
{
    int rc = ws_commit_lock(ws, 1);
    if (rc) return rc;
    rc = ws_journal_recover(ws, 0);
    ws_commit_unlock(ws);
    return rc;
}

int pv_ws_begin(pv_ws *ws)
{
    int rc, stale, same;
    if ((rc = pv_ws_check_writable(ws))) return rc;
    if (ws->txn.open) return pv_err(PV_EMISUSE, "a transaction is already open");
    if ((rc = take_lock(ws, &same))) return rc;
    /* Another process may have committed (or crashed mid-commit) since we
     * read the workspace: recover, and reload what changed under us. No
     * other writer since our own clean commit (`same`): no journal can be
     * there. Files changed outside pvdev (a checkout, a merge, an edit)
     * are looked for every time. */
    rc = same ? PV_OK : recover(ws);
    if (!rc) rc = ws_snapshot_stale(ws, &stale);
    /* (a rewrite, a compaction of a chunk to the size it had, may leave
     * every size and directory time as it was; only a writer rewrites, so
     * none did since our own commit when `same`) */
    if (!rc && !stale && !same) stale = ws_gen_moved(ws);
    if (!rc && stale) rc = ws_catalog_reload(ws);
    if (rc) {
        ws->txn.lock_ours = 0;
        release_lock(ws);
        return rc;
    }
    ws->txn.open = 1;
    /* what the transaction loads and writes is the handle's from now on:
     * its snapshot can no longer be renewed under it (ws_read) */
    ws->snap_read = 1;
    return PV_OK;
}

int pv_ws_in_txn(const pv_ws *ws) { return ws->txn.open; }

int pv_ws_check_writable(const pv_ws *ws)
{
    return ws->writable ? PV_OK : pv_err(PV_EREADONLY, "workspace '%s' is open read-only", ws->root);
}

size_t pv_ws_savepoint(pv_ws *ws)
{
    ws->txn.floor = ws->txn.nundo;
    return ws->txn.nundo;
}

int pv_ws_rollback_to(pv_ws *ws, size_t mark)
{
    if (!ws->txn.open) return pv_err(PV_EMISUSE, "no transaction is open");
    if (mark > ws->txn.nundo) return pv_err(PV_EMISUSE, "bad savepoint");
    while (ws->txn.nundo > mark) undo_one(ws, &ws->txn.undo[--ws->txn.nundo]);
    if (ws->txn.floor > mark) ws->txn.floor = mark;
    return PV_OK;
}

int pv_ws_rollback(pv_ws *ws)
{
    int rc = pv_ws_rollback_to(ws, 0);
    if (rc) return rc;
    txn_end(ws, ws->txn.lock_ours);
    return PV_OK;
}

int ws_txn_auto_begin(pv_ws *ws, int *began)
{
    int rc;
    *began = 0;
    if (ws->txn.open) return PV_OK;
    if ((rc = pv_ws_begin(ws))) return rc;
    *began = 1;
    return PV_OK;
}

int ws_txn_auto_end(pv_ws *ws, int began, int rc)
{
    if (!began) return rc;
    if (rc) {
        pv_ws_rollback(ws);
        return rc;
    }
    return pv_ws_commit(ws);
}

/* ---- commit -------------------------------------------------------------- */

/* What a commit does to one table's files. */
typedef struct table_plan {
    ws_table *t;
    pv_buf lines;          /* records to append */
    uint32_t first_num;    /* the chunk the first record goes to */
    int first_is_new;      /* ... and whether that chunk is new */
    int created;           /* write_files created a chunk file */
} table_plan;

static int rows_equal(const pv_schema *s, const pv_value *a, const pv_value *b)
{
    uint32_t c;
    for (c = 0; c < s->ncols; c++) {
        if (a[c].type != b[c].type || pv_value_cmp(&a[c], &b[c]) != 0) return 0;
        /* -0.0 and 0.0 compare equal but are different bytes in a chunk */
        if (a[c].type == PV_REAL && memcmp(&a[c].u.f, &b[c].u.f, sizeof(double)) != 0) return 0;
    }
    return 1;
}

static int encode_delete(ws_table *t, const pv_value *row, pv_buf *out)
{
    pv_value key[PV_MAX_COLUMNS];
    uint32_t k;
    for (k = 0; k < t->schema->npk; k++) key[k] = row[t->schema->pk[k]];
    return pv_chunk_encode_delete(out, t->schema, key);
}

/* Is `v` the table itself or a version of it that an ALTER in this
 * transaction replaced (same row slots, older columns)? */
static int same_lineage(const ws_table *t, const ws_table *v, int *older)
{
    *older = 0;
    for (; t; t = t->prev, *older = 1)
        if (t == v) return 1;
    return 0;
}

/* The records of one table: every touched row whose final state differs
 * from its state before the transaction, in the order first touched. */
/* Row slots already written by plan_records: a byte per slot of the table
 * when the transaction touched many of them, else a small hash set (a
 * one-row commit on a 3M-row table must not clear 3 MB). */
typedef struct seen_set {
    uint8_t *bytes;   /* nrows bytes, or NULL */
    size_t *set;      /* slot + 1; 0 = empty */
    size_t mask;
} seen_set;

static int seen_init(seen_set *s, size_t nrows, size_t touched)
{
    size_t cap = 16;
    memset(s, 0, sizeof *s);
    if (touched >= nrows / 16) {
        s->bytes = calloc(nrows + 1, 1);
        return s->bytes ? PV_OK : pv_err(PV_ENOMEM, "out of memory");
    }
    while (cap < touched * 2) cap *= 2;
    s->mask = cap - 1;
    s->set = calloc(cap, sizeof *s->set);
    return s->set ? PV_OK : pv_err(PV_ENOMEM, "out of memory");
}

/* 1 if slot idx was seen already, else records it and returns 0. */
static int seen_test_set(seen_set *s, size_t idx)
{
    size_t i;
    if (s->bytes) {
        if (s->bytes[idx]) return 1;
        s->bytes[idx] = 1;
        return 0;
    }
    for (i = (idx * 0x9e3779b97f4a7c15ull) >> 20 & s->mask; s->set[i]; i = (i + 1) & s->mask)
        if (s->set[i] == idx + 1) return 1;
    s->set[i] = idx + 1;
    return 0;
}

static int plan_records(pv_ws *ws, table_plan *p)
{
    ws_table *t = p->t;
    seen_set seen = {NULL, NULL, 0};
    pv_blobref *refs = calloc(t->schema->ncols + 1, sizeof *refs);
    size_t i, touched = 0;
    int rc = PV_OK, older;
    if (!refs) return pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < ws->txn.nundo; i++) {
        const ws_undo *u = &ws->txn.undo[i];
        if (u->kind == WS_UNDO_ROW && same_lineage(t, u->t, &older)) touched += u->old ? 1 : u->nrun;
    }
    if (!touched) goto done;
    if ((rc = seen_init(&seen, t->nrows, touched))) goto done;
    for (i = 0; i < ws->txn.nundo && !rc; i++) {
        const ws_undo *u = &ws->txn.undo[i];
        size_t k, idx;
        if (u->kind != WS_UNDO_ROW || !same_lineage(t, u->t, &older)) continue;
        for (k = 0; k < (u->old ? 1 : u->nrun) && !rc; k++) {
            const pv_value *now;
            int was_live;
            if (seen_test_set(&seen, idx = u->idx + k)) continue;
            now = &t->vals[idx * t->schema->ncols];
            was_live = u->old ? u->old_live : 0;
            if (t->live[idx]) {
                /* an old row of another column layout cannot be compared: write */
                if (older || !(was_live && rows_equal(t->schema, u->old, now)))
                    rc = pv_blob_encode_row(ws->pvdir, ws->sync, t->schema, now, refs, &p->lines);
            } else if (was_live) {
                rc = encode_delete(t, now, &p->lines);
            }
        }
    }
done:
    free(seen.bytes);
    free(seen.set);
    free(refs);
    return rc;
}

static int add_op(ws_jop **ops, size_t *n, size_t *cap, ws_jop op)
{
    if (*n == *cap) {
        size_t c = *cap ? *cap * 2 : 16;
        ws_jop *g = realloc(*ops, c * sizeof *g);
        if (!g) {
            free(op.path);
            return pv_err(PV_ENOMEM, "out of memory");
        }
        *ops = g;
        *cap = c;
    }
    (*ops)[(*n)++] = op;
    return PV_OK;
}

static char *relpath(const ws_table *t, uint32_t num)
{
    char *s = NULL;
    if (num) {
        if (asprintf(&s, "tables/%s/%08u.jsonl", t->schema->name, num) < 0) return NULL;
    } else if (asprintf(&s, "tables/%s", t->schema->name) < 0) {
        return NULL;
    }
    return s;
}

/* The records of p after a continuation header listing the schema's
 * columns: they go to an open chunk whose last header lists others. */
static int prepend_cont(table_plan *p)
{
    pv_buf b = PV_BUF_INIT;
    int rc = pv_chunk_encode_header_cont(&b, p->t->schema);
    if (!rc) rc = pv_buf_append(&b, p->lines.p, p->lines.len);
    if (rc) {
        pv_buf_free(&b);
        return rc;
    }
    pv_buf_free(&p->lines);
    p->lines = b;
    return PV_OK;
}

/* Decide where each table's records go (sealing chunks at the bound), and
 * write the journal entries that undo it. Records go to the open chunk
 * until it is sealed, whatever its columns: after an ALTER TABLE behind a
 * continuation header (docs/FORMAT.md part 1), so that a branch that forked
 * before the ALTER and wrote too changed the same file, which git then
 * hands to the merge driver (docs/GIT.md, "Changing columns"). */
static int plan_files(table_plan *p, ws_jop **ops, size_t *nops, size_t *cap)
{
    ws_table *t = p->t;
    const char *q, *end;
    uint32_t num;
    int64_t orig;      /* the first file's length before the commit; -1: new */
    uint64_t size;
    int is_new, rc;
    if (t->last_chunk == 0) {
        num = 1, is_new = 1, orig = -1;
    } else if (t->last_size == 0) {
        /* an empty newest chunk (its header torn off by a crash) is reused */
        num = t->last_chunk, is_new = 1, orig = 0;
    } else if (t->last_size >= PV_CHUNK_SEAL_BYTES) {
        num = t->last_chunk + 1, is_new = 1, orig = -1;
    } else {
        num = t->last_chunk, is_new = 0, orig = (int64_t)t->last_size;
        if (!t->last_header_ok && (rc = prepend_cont(p))) return rc;
    }
    q = p->lines.p;
    end = p->lines.p + p->lines.len;
    size = is_new ? 0 : t->last_size;
    p->first_num = num;
    p->first_is_new = is_new;
    do {
        ws_jop op = {WS_J_SIZE, relpath(t, num), orig, NULL, 0};
        if (!op.path) return pv_err(PV_ENOMEM, "out of memory");
        if ((rc = add_op(ops, nops, cap, op))) return rc;
        /* Fill this chunk up to the seal bound, whole lines only. */
        while (q < end && (size < PV_CHUNK_SEAL_BYTES || size == 0)) {
            const char *nl = memchr(q, '\n', (size_t)(end - q));
            size += (size_t)(nl - q) + 1;
            q = nl + 1;
        }
        num++;
        orig = -1;
        size = 0;
    } while (q < end);
    return PV_OK;
}

/* Append the planned lines to the chunk files, starting new chunks with a
 * header where the plan sealed the previous one. */
void ws_append_close(ws_table *t)
{
    if (t->append_fd1) close(t->append_fd1 - 1);
    if (t->dir_fd1) close(t->dir_fd1 - 1);
    t->append_fd1 = 0;
    t->dir_fd1 = 0;
}

/* The chunk file `num` of t opened for appending: the kept-open one when it
 * is that chunk and not new, else a new descriptor. */
static int chunk_open(ws_table *t, uint32_t num, int is_new, const char *path, int *fd)
{
    if (!is_new && t->append_fd1 && t->append_num == num) {
        *fd = t->append_fd1 - 1;
        return PV_OK;
    }
    *fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (*fd < 0)
        return errno == ELOOP ? pv_err(PV_ECORRUPT, "'%s' is a symbolic link; a workspace holds plain files only", path)
                              : pv_err_errno("cannot open '%s'", path);
    return PV_OK;
}

/* Done with chunk `num`'s descriptor: the table's last chunk stays open for
 * the next commit (an autocommit INSERT then costs no open and close);
 * any other is closed. */
static int chunk_done(ws_table *t, uint32_t num, int fd, int last, int rc, const char *path)
{
    int kept = t->append_fd1 && t->append_fd1 - 1 == fd;
    if (!rc && last) {
        if (!kept) {
            int dfd;
            ws_append_close(t);
            t->append_fd1 = fd + 1;
            t->append_num = num;
            /* its directory too, for ws_snapshot_stale (none: a path stat) */
            dfd = open(t->dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
            t->dir_fd1 = dfd >= 0 ? dfd + 1 : 0;
        }
        return PV_OK;
    }
    if (kept) {
        t->append_fd1 = 0;
        ws_append_close(t); /* its directory */
    }
    if (close(fd) != 0 && !rc) rc = pv_err_errno("cannot close '%s'", path);
    return rc;
}

static int write_files(pv_ws *ws, table_plan *p)
{
    ws_table *t = p->t;
    uint32_t num = p->first_num;
    int is_new = p->first_is_new, rc = PV_OK;
    uint64_t size = is_new ? 0 : t->last_size;
    const char *q = p->lines.p, *end = p->lines.p + p->lines.len;
    pv_buf head = PV_BUF_INIT;
    if ((rc = pv_chunk_encode_header(&head, t->schema))) return rc;
    do {
        const char *start = q;
        char path[4400];
        int fd;
        while (q < end && (size < PV_CHUNK_SEAL_BYTES || size == 0)) {
            const char *nl = memchr(q, '\n', (size_t)(end - q));
            size += (size_t)(nl - q) + 1;
            q = nl + 1;
        }
        if ((rc = ws_chunk_path(path, sizeof path, t, num)) || (rc = chunk_open(t, num, is_new, path, &fd))) break;
        if (is_new) {
            rc = pv_write_all(fd, head.p, head.len, path);
            p->created = 1;
        }
        if (!rc && q > start) rc = pv_write_all(fd, start, (size_t)(q - start), path);
        if (!rc && ws->sync && fsync(fd) != 0) rc = pv_err_errno("cannot sync '%s'", path);
        if ((rc = chunk_done(t, num, fd, q == end, rc, path))) break;
        t->last_chunk = num;
        t->last_size = (is_new ? head.len : t->last_size) + (uint64_t)(q - start);
        t->last_header_ok = 1;
        if ((rc = ws_snap_set(t, num, t->last_size))) break;
        num++;
        is_new = 1;
        size = 0;
    } while (q < end && !rc);
    /* any chunk created, the first or one after a seal: its name too */
    if (!rc && ws->sync && p->created) rc = ws_fsync_dir(t->dir);
    pv_buf_free(&head);
    return rc;
}

/* A compaction's files (their old versions moved aside by now): each
 * written whole under its name, then the directory synced. */
static int write_compacted(pv_ws *ws, ws_table *t)
{
    const ws_compact *cp = t->txn_compact;
    size_t k;
    int rc = PV_OK;
    for (k = 0; k < cp->n && !rc; k++) {
        const ws_compact_file *f = &cp->files[k];
        char path[4400];
        int fd;
        if ((rc = ws_chunk_path(path, sizeof path, t, f->num))) break;
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = pv_err_errno("cannot create '%s'", path);
            break;
        }
        rc = pv_write_all(fd, f->bytes.p, f->bytes.len, path);
        if (!rc && ws->sync && fsync(fd) != 0) rc = pv_err_errno("cannot sync '%s'", path);
        if (close(fd) != 0 && !rc) rc = pv_err_errno("cannot close '%s'", path);
        if (!rc) rc = ws_snap_set(t, f->num, f->bytes.len);
        if (!rc && f->num >= t->last_chunk) {
            t->last_chunk = f->num;
            t->last_size = f->bytes.len;
            if (f->created) t->last_header_ok = 1;
        }
    }
    if (!rc && ws->sync) rc = ws_fsync_dir(t->dir);
    return rc;
}

static int write_schema(pv_ws *ws, ws_table *t)
{
    char path[4400];
    pv_buf text = PV_BUF_INIT;
    int rc;
    /* git keeps no empty directory: a clone of a workspace without
     * tables has no .pv/tables */
    snprintf(path, sizeof path, "%s/tables", ws->pvdir);
    if (mkdir(path, 0777) != 0 && errno != EEXIST) return pv_err_errno("cannot create directory '%s'", path);
    if (mkdir(t->dir, 0777) != 0 && errno != EEXIST) return pv_err_errno("cannot create directory '%s'", t->dir);
    snprintf(path, sizeof path, "%s/schema.jsonl", t->dir);
    rc = pv_schema_encode(&text, t->schema);
    if (!rc) rc = ws_write_file_atomic(path, text.p, text.len, ws->sync);
    /* the rename is in the table directory: sync mode makes it last too */
    if (!rc && ws->sync) rc = ws_fsync_dir(t->dir);
    pv_buf_free(&text);
    return rc;
}

static int drop_dir(pv_ws *ws, const char *name)
{
    char from[4400], to[4400];
    snprintf(from, sizeof from, "%s/tables/%s", ws->pvdir, name);
    snprintf(to, sizeof to, "%s/journal/dropped-%s", ws->pvdir, name);
    if (rename(from, to) != 0) return pv_err_errno("cannot move '%s' aside", from);
    return PV_OK;
}

typedef struct commit_plan {
    table_plan *tables;
    size_t ntables;
    ws_jop *ops;
    size_t nops, cap;
    char **old_schemas;    /* kept alive for the journal ops that point at them */
    size_t nold;
} commit_plan;

static void plan_free(commit_plan *c)
{
    size_t i;
    for (i = 0; i < c->ntables; i++) pv_buf_free(&c->tables[i].lines);
    for (i = 0; i < c->nops; i++) free(c->ops[i].path);
    for (i = 0; i < c->nold; i++) free(c->old_schemas[i]);
    free(c->tables);
    free(c->ops);
    free(c->old_schemas);
}

/* Schema changes of the transaction: created, dropped and altered tables. */
static int plan_ddl(pv_ws *ws, commit_plan *c)
{
    size_t i;
    int rc = PV_OK;
    for (i = 0; i < ws->txn.nundo && !rc; i++) {
        const ws_undo *u = &ws->txn.undo[i];
        ws_jop op = {0, NULL, 0, NULL, 0};
        if (u->kind == WS_UNDO_CREATE && u->t->txn_created) {
            op.kind = WS_J_CREATED;
            op.path = relpath(u->t, 0);
        } else if (u->kind == WS_UNDO_DROP && !u->t->txn_created) {
            op.kind = WS_J_DROPPED;
            op.path = relpath(u->t, 0);
        } else if (u->kind == WS_UNDO_COMPACT) {
            /* each chunk it rewrites moves aside, and its new bytes come
             * under the same name (the next chunk may be new): rollback
             * moves the old one back over it */
            const ws_compact *cp = u->t->txn_compact;
            size_t k;
            for (k = 0; k < cp->n && !rc; k++) {
                ws_jop mv = {WS_J_MOVED, NULL, 0, NULL, 0};
                if (cp->files[k].created) continue;
                if (!(mv.path = relpath(u->t, cp->files[k].num))) return pv_err(PV_ENOMEM, "out of memory");
                rc = add_op(&c->ops, &c->nops, &c->cap, mv);
            }
            for (k = 0; k < cp->n && !rc; k++) {
                ws_jop nw = {WS_J_SIZE, relpath(u->t, cp->files[k].num), -1, NULL, 0};
                if (!nw.path) return pv_err(PV_ENOMEM, "out of memory");
                rc = add_op(&c->ops, &c->nops, &c->cap, nw);
            }
            continue;
        } else if (u->kind == WS_UNDO_ALTER && !u->old_t->txn_created && !u->old_t->txn_altered) {
            /* the schema as committed before: read it back from disk */
            char path[4400], *old = NULL, **g;
            size_t len;
            snprintf(path, sizeof path, "%s/schema.jsonl", u->old_t->dir);
            if ((rc = pv_read_file(path, 16u << 20, &old, &len))) break;
            g = realloc(c->old_schemas, (c->nold + 1) * sizeof *g);
            if (!g) {
                free(old);
                rc = pv_err(PV_ENOMEM, "out of memory");
                break;
            }
            c->old_schemas = g;
            c->old_schemas[c->nold++] = old;
            op.kind = WS_J_SCHEMA;
            op.data = old;
            op.len = len;
            if (asprintf(&op.path, "tables/%s/schema.jsonl", u->t->schema->name) < 0) op.path = NULL;
        } else {
            continue;
        }
        if (!op.path) return pv_err(PV_ENOMEM, "out of memory");
        rc = add_op(&c->ops, &c->nops, &c->cap, op);
    }
    return rc;
}

/* A commit that drops a column of a table with chunks writes a header
 * listing the new columns to its open chunk (a continuation header; a
 * new chunk's header when that one is sealed) even with no rows to
 * append. The other branch of a merge then changed that file too when it
 * wrote, and git hands it to the merge driver, which makes an edit of the
 * dropped column a conflict (docs/GIT.md, "Merging schemas"); with only
 * schema.jsonl changed here, git would merge without the driver and the
 * edit would go without a word. */
static int marks_drop(const ws_table *t)
{
    return t->txn_dropped && !t->txn_created && t->last_chunk && !t->last_header_ok;
}

static int build_plan(pv_ws *ws, commit_plan *c)
{
    uint32_t i;
    int rc;
    memset(c, 0, sizeof *c);
    if ((rc = plan_ddl(ws, c))) return rc;
    c->tables = calloc(ws->ntables + 1, sizeof *c->tables);
    if (!c->tables) return pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < ws->ntables; i++) {
        table_plan *p = &c->tables[c->ntables];
        int header_only;
        p->t = ws->tables[i];
        /* plan_free only frees the first c->ntables: free this one's lines
         * here when planning it fails. */
        header_only = !(rc = plan_records(ws, p)) && !p->lines.len && marks_drop(p->t);
        if (header_only) rc = pv_buf_reserve(&p->lines, 0); /* a buffer, no rows */
        if (rc || (!p->lines.len && !header_only) || (rc = plan_files(p, &c->ops, &c->nops, &c->cap))) {
            pv_buf_free(&p->lines);
            if (rc) return rc;
            continue;
        }
        c->ntables++;
    }
    return PV_OK;
}

static int apply_plan(pv_ws *ws, commit_plan *c)
{
    size_t i;
    int rc = PV_OK, ddl = 0;
    for (i = 0; i < ws->txn.nundo && !ddl; i++) ddl = ws->txn.undo[i].kind != WS_UNDO_ROW;
    if (ddl) /* files may move: open chunks afresh */
        for (i = 0; i < ws->ntables; i++) ws_append_close(ws->tables[i]);
    for (i = 0; i < ws->txn.nundo && !rc; i++) {
        const ws_undo *u = &ws->txn.undo[i];
        if (u->kind == WS_UNDO_DROP && !u->t->txn_created) rc = drop_dir(ws, u->t->schema->name);
    }
    for (i = 0; i < ws->ntables && !rc; i++) /* index lines need their layout version first */
        if ((ws->tables[i]->txn_created || ws->tables[i]->txn_altered) && ws->tables[i]->schema->nindexes)
            rc = ws_format_upgrade(ws, WS_FORMAT_INDEXES);
    for (i = 0; i < ws->ntables && !rc; i++)
        if (ws->tables[i]->txn_created || ws->tables[i]->txn_altered) rc = write_schema(ws, ws->tables[i]);
    /* compaction: the chunks it rewrites move aside, then their new bytes
     * are written under their names */
    for (i = 0; i < c->nops && !rc; i++)
        if (c->ops[i].kind == WS_J_MOVED) {
            char from[4400], to[4400];
            snprintf(from, sizeof from, "%s/%s", ws->pvdir, c->ops[i].path);
            ws_moved_path(ws, c->ops[i].path, to, sizeof to);
            if (rename(from, to) != 0) rc = pv_err_errno("cannot move '%s' aside", from);
        }
    for (i = 0; i < ws->ntables && !rc; i++)
        if (ws->tables[i]->txn_compact) rc = write_compacted(ws, ws->tables[i]);
    for (i = 0; i < c->ntables && !rc; i++) rc = write_files(ws, &c->tables[i]);
    /* `.pv/tables` changes only when a table directory is created or moved
     * aside: appends (the common commit) leave it as it was */
    if (!rc && ws->sync && ddl) {
        char dir[4200];
        snprintf(dir, sizeof dir, "%s/tables", ws->pvdir);
        rc = ws_fsync_dir(dir);
    }
    return rc;
}

/* After the commit point: free what the transaction replaced, and record
 * the new chunk sizes as our snapshot. */
static void settle(pv_ws *ws)
{
    size_t i;
    for (i = 0; i < ws->txn.nundo; i++) {
        ws_undo *u = &ws->txn.undo[i];
        if (u->kind == WS_UNDO_DROP) ws_table_free(u->t);
        else if (u->kind == WS_UNDO_ALTER) ws_table_free(u->old_t);
    }
    for (i = 0; i < ws->ntables; i++) {
        ws->tables[i]->txn_created = 0;
        ws->tables[i]->txn_altered = 0;
        ws->tables[i]->txn_dropped = 0;
        ws_compact_free(ws->tables[i]->txn_compact);
        ws->tables[i]->txn_compact = NULL;
        ws->tables[i]->prev = NULL;
    }
}

/* Does the commit rewrite or remove chunk bytes a snapshot may hold (a
 * compaction moves chunks aside, DROP TABLE a table's directory)? Then
 * readers are told first, by the rewrite count (ws_snap.c). */
static int rewrites(const commit_plan *c)
{
    size_t i;
    for (i = 0; i < c->nops; i++)
        if (c->ops[i].kind == WS_J_MOVED || c->ops[i].kind == WS_J_DROPPED) return 1;
    return 0;
}

static int one_line_append(const commit_plan *c)
{
    return c->nops == 1 && c->ops[0].kind == WS_J_SIZE && c->ops[0].size > 0 && c->ntables == 1 &&
           memchr(c->tables[0].lines.p, '\n', c->tables[0].lines.len) ==
               c->tables[0].lines.p + c->tables[0].lines.len - 1;
}

/* Our snapshot after our own commit: write_files recorded the chunk sizes;
 * what remains is the directory times the commit changed. */
static void snap_after(pv_ws *ws, const commit_plan *c)
{
    size_t i;
    int ddl = 0;
    for (i = 0; i < ws->txn.nundo; i++) {
        ddl |= ws->txn.undo[i].kind != WS_UNDO_ROW;
        /* a compaction removed chunks: list them all again */
        if (ws->txn.undo[i].kind == WS_UNDO_COMPACT) {
            ws_snapshot_locked(ws);
            return;
        }
    }
    /* appends to existing chunks leave the directory's time as it was */
    for (i = 0; i < c->ntables; i++)
        if (c->tables[i].created || ddl) ws_snap_times(ws, c->tables[i].t);
    if (ddl) {
        for (i = 0; i < ws->ntables; i++) ws_snap_times(ws, ws->tables[i]);
        ws_snap_times(ws, NULL);
    }
}

/* Our one-line append failed (a write error, a full disk): cut off what
 * it wrote of its line, so that the reload after the failure does not
 * find it torn and cut it as a crash's. The append's error stays the one
 * reported; if the cut fails, the reload (or the next open) cuts it. */
static void cut_failed_append(pv_ws *ws, const commit_plan *c)
{
    char path[4400];
    pv_err_saved first;
    pv_err_save(&first);
    snprintf(path, sizeof path, "%s/%s", ws->pvdir, c->ops[0].path);
    (void)pv_truncate_nofollow(path, (uint64_t)c->ops[0].size);
    pv_err_restore(0, &first);
}

/* After a failed commit: end the transaction in memory and, when files
 * were touched (`applied`; they were put back from the journal or cut),
 * re-read them rather than trust chunk sizes kept in memory. The commit's
 * error `rc` stays the one reported and comes first: a cleanup that fails
 * too is said after it, never in its place. */
static int commit_failed(pv_ws *ws, int rc, int applied)
{
    pv_err_saved first;
    pv_err_save(&first);
    ws->txn.lock_ours = 0; /* a journal may be left: look next time */
    (void)pv_ws_rollback(ws); /* cannot fail: the transaction is open */
    if (!applied || !ws_catalog_reload(ws)) return pv_err_restore(rc, &first);
    return pv_err_also(rc, &first, "re-reading the workspace after it", "reopen it");
}

int pv_ws_commit(pv_ws *ws)
{
    commit_plan c;
    int rc, applied = 0;
    if (!ws->txn.open) return pv_err(PV_EMISUSE, "no transaction is open");
    if (ws_fork_check(ws)) { /* the lock is the parent's */
        pv_ws_rollback(ws);
        return pv_err(PV_EMISUSE, "workspace '%s': a transaction begun before fork() cannot commit in the child",
                      ws->root);
    }
    rc = build_plan(ws, &c);
    if (!rc && c.nops) {
        /* Readers snapshot under the shared side of this lock: they see the
         * files before the journal is written or after it is gone. */
        if (!(rc = ws_commit_lock(ws, 1))) {
            /* a rewrite tells readers first (failing, it writes nothing) */
            if (rewrites(&c)) rc = ws_gen_bump(ws);
            if (!rc && one_line_append(&c)) {
                /* A single line appended to an existing chunk needs no
                 * journal: torn, it lacks its newline, and the next
                 * writable open cuts it (ws_load.c). */
                applied = 1;
                if ((rc = apply_plan(ws, &c))) cut_failed_append(ws, &c);
            } else if (!rc && !(rc = ws_journal_write(ws, c.ops, c.nops))) {
                applied = 1;
                rc = apply_plan(ws, &c);
                /* On failure, undo through the journal, still under the locks;
                 * that includes a failed journal delete, which would leave the
                 * commit applied yet journaled for undo. The first error is
                 * the one reported, and no crash is (there was none). */
                if (rc || (rc = ws_journal_clear(ws))) rc = ws_journal_undo_own(ws, rc);
            }
            if (!rc) snap_after(ws, &c);
            ws_commit_unlock(ws);
        }
    }
    if (rc) {
        plan_free(&c);
        return commit_failed(ws, rc, applied);
    }
    settle(ws);
    if (c.nops && !one_line_append(&c)) ws_journal_remove_trash(ws);
    plan_free(&c);
    txn_end(ws, 1);
    return PV_OK;
}
