/*
 * test_threads.c: one `.pvdb` pv_db serving several threads at once, and
 * hot swap (pv_reopen) under a running statement.
 *
 * The table's values are functions of the key (val_v, val_grp,
 * val_name), so every answer a thread gets (a point row, a range, a SUM,
 * a GROUP BY, a pv_get) is checked against values computed here, not
 * against another query. Runs under ASan with `make test SANITIZE=1`; for
 * races, build it with ThreadSanitizer (the block cache's shards and
 * references, the parked scans' slots):
 *   make BUILD=build-tsan SANFLAGS=-fsanitize=thread OPT='-O1 -g' \
 *        build-tsan/tests/test_threads && build-tsan/tests/test_threads
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "db.h"
#include "pv.h"
#include "pvdb.h"
#include "pvdb_blockcache.h"
#include "test_sql_util.h"
#include "ws.h"

#define NROWS   20000   /* id = 1 .. NROWS */
#define NGROUPS 13
#define NTHREADS 4
#define ITERS   300

static int64_t val_v(int64_t id) { return (id * 7919) % 1000 - 300; }
static int val_grp(int64_t id) { return (int)(id % NGROUPS); }
static void val_name(int64_t id, char *out, size_t cap)
{
    snprintf(out, cap, "name-%lld-%s", (long long)id, id % 3 ? "x" : "yy");
}
/* Table z: `note` compresses (zstd blocks, ZSTR: a 1024-row block is
 * 50-60 KB raw), `tag` has 400 values sharing a long prefix (a
 * front-coded dictionary). */
static void val_note(int64_t id, char *out, size_t cap)
{
    snprintf(out, cap, "note %06lld of table z: the quick brown fox %lld", (long long)id,
             (long long)(id % 17));
}
static void val_tag(int64_t id, char *out, size_t cap)
{
    snprintf(out, cap, "category/subcategory/a-long-shared-prefix/%03lld", (long long)(id % 400));
}

typedef struct tfix {
    fixture ws;
    char path[96];   /* the .pvdb (version 1: v; version 2 renamed over it: v + 1000000) */
    char path2[96];  /* version 2, baked aside */
    pv_db *pdb;
} tfix;

static void bake(const char *dir, const char *path)
{
    pv_bake_opts o = PV_BAKE_OPTS_INIT;
    pv_bake_table tables[2];
    pv_ws *ws = NULL;
    uint32_t n, i;
    assert_int_equal(pv_ws_open(dir, 0, &ws), PV_OK);
    n = pv_ws_table_count(ws);
    assert_true(n <= 2);
    for (i = 0; i < n; i++) assert_int_equal(pv_ws_table_bake(ws, i, &tables[i]), PV_OK);
    o.rows_per_group = 4096;
    assert_int_equal(pv_bake_write_opts(path, tables, n, NULL, &o), PV_OK);
    pv_ws_close(ws);
}

static int setup(void **state)
{
    tfix *f = calloc(1, sizeof *f);
    void *ws_state = NULL;
    pv_buf b = PV_BUF_INIT;
    int64_t id;
    if (!f || setup_ws(&ws_state)) return -1;
    f->ws = *(fixture *)ws_state;
    free(ws_state);
    exec_ok(f->ws.db, "CREATE TABLE t (id INTEGER PRIMARY KEY, grp TEXT, v INTEGER, name TEXT)");
    exec_ok(f->ws.db, "BEGIN");
    for (id = 1; id <= NROWS; id++) {
        char name[64];
        if (id % 1000 == 1) {
            b.len = 0;
            pv_buf_printf(&b, "INSERT INTO t VALUES ");
        } else {
            pv_buf_putc(&b, ',');
        }
        val_name(id, name, sizeof name);
        pv_buf_printf(&b, "(%lld, 'g%02d', %lld, '%s')", (long long)id, val_grp(id),
                      (long long)val_v(id), name);
        if (id % 1000 == 0) {
            pv_buf_putc(&b, 0);
            exec_ok(f->ws.db, b.p);
        }
    }
    exec_ok(f->ws.db, "CREATE TABLE z (id INTEGER PRIMARY KEY, note TEXT, tag TEXT)");
    for (id = 1; id <= NROWS; id++) {
        char note[96], tag[64];
        if (id % 1000 == 1) {
            b.len = 0;
            pv_buf_printf(&b, "INSERT INTO z VALUES ");
        } else {
            pv_buf_putc(&b, ',');
        }
        val_note(id, note, sizeof note);
        val_tag(id, tag, sizeof tag);
        pv_buf_printf(&b, "(%lld, '%s', '%s')", (long long)id, note, tag);
        if (id % 1000 == 0) {
            pv_buf_putc(&b, 0);
            exec_ok(f->ws.db, b.p);
        }
    }
    exec_ok(f->ws.db, "COMMIT");
    pv_buf_free(&b);
    snprintf(f->path, sizeof f->path, "%s/t.pvdb", f->ws.dir);
    snprintf(f->path2, sizeof f->path2, "%s/t2.pvdb", f->ws.dir);
    bake(f->ws.dir, f->path);
    exec_ok(f->ws.db, "UPDATE t SET v = v + 1000000");
    bake(f->ws.dir, f->path2);
    if (pv_open(f->path, PV_OPEN_READONLY, &f->pdb)) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    tfix *f = *state;
    fixture *w = malloc(sizeof *w);
    void *ws_state = w;
    int rc = pv_close(f->pdb);
    *w = f->ws;
    free(f);
    return teardown_ws(&ws_state) || rc ? -1 : 0;
}

/* ---- many readers ------------------------------------------------------------------ */

typedef struct worker {
    pv_db *db;
    int id;
    int64_t offset;       /* added to every v (0 for version 1) */
    int failures;
    char why[256];
} worker;

static uint64_t next_rand(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

#define CHECK(w, cond, ...)                                        \
    do {                                                           \
        if (!(cond)) {                                             \
            if (!(w)->failures++)                                  \
                snprintf((w)->why, sizeof (w)->why, __VA_ARGS__);  \
            goto done;                                             \
        }                                                          \
    } while (0)

static int row_ok(pv_stmt *st, int64_t id, int64_t offset)
{
    char name[64], grp[8];
    val_name(id, name, sizeof name);
    snprintf(grp, sizeof grp, "g%02d", val_grp(id));
    return pv_column_int64(st, 0) == id && strcmp(pv_column_text(st, 1), grp) == 0 &&
           pv_column_int64(st, 2) == val_v(id) + offset && strcmp(pv_column_text(st, 3), name) == 0;
}

static void *work(void *arg)
{
    worker *w = arg;
    pv_stmt *point = NULL, *range = NULL, *sum = NULL, *group = NULL;
    pv_getter *g = NULL;
    uint64_t seed = 0x9E3779B97F4A7C15ull * (uint64_t)(w->id + 1);
    int64_t total = 0, gsum[NGROUPS] = {0}, gcount[NGROUPS] = {0}, id;
    int i, rc;
    for (id = 1; id <= NROWS; id++) {
        total += val_v(id) + w->offset;
        gsum[val_grp(id)] += val_v(id) + w->offset;
        gcount[val_grp(id)]++;
    }
    CHECK(w, pv_prepare(w->db, "SELECT * FROM t WHERE id = ?", (size_t)-1, &point, NULL) == PV_OK, "prepare: %s", pv_errmsg());
    CHECK(w, pv_prepare(w->db, "SELECT * FROM t WHERE id BETWEEN ? AND ?", (size_t)-1, &range, NULL) == PV_OK, "prepare: %s", pv_errmsg());
    CHECK(w, pv_prepare(w->db, "SELECT SUM(v), COUNT(*) FROM t", (size_t)-1, &sum, NULL) == PV_OK, "prepare: %s", pv_errmsg());
    CHECK(w, pv_prepare(w->db, "SELECT grp, COUNT(*), SUM(v) FROM t GROUP BY grp", (size_t)-1, &group, NULL) == PV_OK, "prepare: %s", pv_errmsg());
    CHECK(w, pv_getter_open(w->db, "t", &g) == PV_OK, "getter: %s", pv_errmsg());
    for (i = 0; i < ITERS; i++) {
        int64_t lo = (int64_t)(next_rand(&seed) % NROWS) + 1, hi = lo + (int64_t)(next_rand(&seed) % 300), n;
        pv_cell key, row[4];
        char name[64];
        /* a point row, through SQL and through pv_get */
        pv_reset(point);
        pv_bind_int64(point, 1, lo);
        CHECK(w, pv_step(point) == PV_ROW && row_ok(point, lo, w->offset), "point %lld: %s", (long long)lo, pv_errmsg());
        CHECK(w, pv_step(point) == PV_DONE, "point %lld: a second row", (long long)lo);
        key.type = PV_INTEGER;
        key.u.i = lo;
        val_name(lo, name, sizeof name);
        CHECK(w, pv_get(g, &key, 1, row, 4) == PV_ROW && row[0].u.i == lo &&
                 row[2].u.i == val_v(lo) + w->offset && row[3].u.s.n == strlen(name) &&
                 memcmp(row[3].u.s.p, name, row[3].u.s.n) == 0,
              "pv_get %lld: %s", (long long)lo, pv_errmsg());
        key.u.i = NROWS + 1 + lo;
        CHECK(w, pv_get(g, &key, 1, row, 4) == PV_DONE, "pv_get found a missing key");
        /* a range: every row, in order */
        pv_reset(range);
        pv_bind_int64(range, 1, lo);
        pv_bind_int64(range, 2, hi);
        for (n = 0; (rc = pv_step(range)) == PV_ROW; n++)
            CHECK(w, row_ok(range, lo + n, w->offset), "range %lld..%lld row %lld", (long long)lo, (long long)hi, (long long)n);
        CHECK(w, rc == PV_DONE && n == (hi > NROWS ? NROWS : hi) - lo + 1, "range %lld..%lld: %lld rows", (long long)lo, (long long)hi, (long long)n);
        /* the full check beside the other threads' reads, now and then */
        if (i % 100 == 50) CHECK(w, pv_verify(w->db) == PV_OK, "pv_verify: %s", pv_errmsg());
        /* aggregates, now and then (they scan the whole table) */
        if (i % 20 == 0) {
            int groups = 0;
            pv_reset(sum);
            CHECK(w, pv_step(sum) == PV_ROW && pv_column_int64(sum, 0) == total &&
                     pv_column_int64(sum, 1) == NROWS, "SUM: %s", pv_errmsg());
            pv_reset(group);
            while ((rc = pv_step(group)) == PV_ROW) {
                int gi = atoi(pv_column_text(group, 0) + 1);
                CHECK(w, gi >= 0 && gi < NGROUPS && pv_column_int64(group, 1) == gcount[gi] &&
                         pv_column_int64(group, 2) == gsum[gi], "GROUP BY: group %d", gi);
                groups++;
            }
            CHECK(w, rc == PV_DONE && groups == NGROUPS, "GROUP BY: %d groups", groups);
        }
    }
done:
    pv_finalize(point);
    pv_finalize(range);
    pv_finalize(sum);
    pv_finalize(group);
    pv_getter_close(g);
    return NULL;
}

static void test_many_readers(void **state)
{
    tfix *f = *state;
    pthread_t th[NTHREADS];
    worker w[NTHREADS];
    int i;
    for (i = 0; i < NTHREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].db = f->pdb;
        w[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
    }
    for (i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    for (i = 0; i < NTHREADS; i++)
        if (w[i].failures) fail_msg("thread %d: %d failures, first: %s", i, w[i].failures, w[i].why);
}

/* ---- the shared block cache -------------------------------------------------------------
 * Table z read by several threads through one pv_db whose cache holds
 * one decompressed note block per shard (1 MiB over 16 shards, blocks of
 * 50-60 KB): every thread's ranges, points, pv_get and full scans evict
 * blocks other threads are reading, and every answer is checked. */

#define ZCACHE (16u * 65536u)

typedef struct zworker {
    pv_db *db;
    int id, failures;
    char why[256];
} zworker;

static int z_row_ok(pv_stmt *st, int col0, int64_t id)
{
    char note[96], tag[64];
    val_note(id, note, sizeof note);
    val_tag(id, tag, sizeof tag);
    return pv_column_int64(st, col0) == id && strcmp(pv_column_text(st, col0 + 1), note) == 0 &&
           strcmp(pv_column_text(st, col0 + 2), tag) == 0;
}

static void *zwork(void *arg)
{
    zworker *w = arg;
    pv_stmt *range = NULL, *point = NULL, *scan = NULL;
    pv_getter *g = NULL;
    uint64_t seed = 0xD1B54A32D192ED03ull * (uint64_t)(w->id + 1);
    int64_t total_len = 0, id;
    int i, rc;
    for (id = 1; id <= NROWS; id++) {
        char note[96];
        val_note(id, note, sizeof note);
        total_len += (int64_t)strlen(note);
    }
#define ZCHECK(cond, ...)                                              \
    do {                                                               \
        if (!(cond)) {                                                 \
            if (!w->failures++) snprintf(w->why, sizeof w->why, __VA_ARGS__); \
            goto done;                                                 \
        }                                                              \
    } while (0)
    ZCHECK(pv_prepare(w->db, "SELECT id, note, tag FROM z WHERE id BETWEEN ? AND ?", (size_t)-1, &range, NULL) == PV_OK, "prepare: %s", pv_errmsg());
    ZCHECK(pv_prepare(w->db, "SELECT * FROM z WHERE id = ?", (size_t)-1, &point, NULL) == PV_OK, "prepare: %s", pv_errmsg());
    ZCHECK(pv_prepare(w->db, "SELECT COUNT(*), SUM(LENGTH(note)), COUNT(DISTINCT tag) FROM z", (size_t)-1, &scan, NULL) == PV_OK, "prepare: %s", pv_errmsg());
    ZCHECK(pv_getter_open(w->db, "z", &g) == PV_OK, "getter: %s", pv_errmsg());
    for (i = 0; i < 120; i++) {
        int64_t lo = (int64_t)(next_rand(&seed) % NROWS) + 1, hi = lo + (int64_t)(next_rand(&seed) % 1500), n;
        pv_cell key, row[3];
        char note[96], tag[64];
        pv_reset(range);
        pv_bind_int64(range, 1, lo);
        pv_bind_int64(range, 2, hi);
        for (n = 0; (rc = pv_step(range)) == PV_ROW; n++)
            ZCHECK(z_row_ok(range, 0, lo + n), "range %lld..%lld row %lld", (long long)lo, (long long)hi, (long long)n);
        ZCHECK(rc == PV_DONE && n == (hi > NROWS ? NROWS : hi) - lo + 1, "range %lld..%lld: %lld rows: %s", (long long)lo, (long long)hi, (long long)n, pv_errmsg());
        pv_reset(point);
        pv_bind_int64(point, 1, hi > NROWS ? NROWS : hi);
        ZCHECK(pv_step(point) == PV_ROW && z_row_ok(point, 0, hi > NROWS ? NROWS : hi), "point %lld: %s", (long long)hi, pv_errmsg());
        key.type = PV_INTEGER;
        key.u.i = lo;
        val_note(lo, note, sizeof note);
        val_tag(lo, tag, sizeof tag);
        ZCHECK(pv_get(g, &key, 1, row, 3) == PV_ROW && row[0].u.i == lo && row[1].u.s.n == strlen(note) &&
                   memcmp(row[1].u.s.p, note, row[1].u.s.n) == 0 && row[2].u.s.n == strlen(tag) &&
                   memcmp(row[2].u.s.p, tag, row[2].u.s.n) == 0,
               "pv_get %lld: %s", (long long)lo, pv_errmsg());
        if (i % 30 == 0) { /* every block of the table */
            pv_reset(scan);
            ZCHECK(pv_step(scan) == PV_ROW && pv_column_int64(scan, 0) == NROWS &&
                       pv_column_int64(scan, 1) == total_len && pv_column_int64(scan, 2) == 400,
                   "scan: %lld %lld %lld %s", (long long)pv_column_int64(scan, 0),
                   (long long)pv_column_int64(scan, 1), (long long)pv_column_int64(scan, 2), pv_errmsg());
        }
    }
#undef ZCHECK
done:
    pv_finalize(range);
    pv_finalize(point);
    pv_finalize(scan);
    pv_getter_close(g);
    return NULL;
}

/* Run NTHREADS zworkers on a pv_db opened with cache_bytes = `bytes`. */
static void z_readers(const char *path, uint64_t bytes, pv_blockcache_stats *st)
{
    pv_open_options o;
    pthread_t th[NTHREADS];
    zworker w[NTHREADS];
    pv_db *db = NULL;
    int i;
    memset(&o, 0, sizeof o);
    o.size = sizeof o;
    o.cache_bytes = bytes;
    assert_int_equal(pv_open_ex(path, &o, &db), PV_OK);
    for (i = 0; i < NTHREADS; i++) {
        memset(&w[i], 0, sizeof w[i]);
        w[i].db = db;
        w[i].id = i;
        assert_int_equal(pthread_create(&th[i], NULL, zwork, &w[i]), 0);
    }
    for (i = 0; i < NTHREADS; i++) pthread_join(th[i], NULL);
    for (i = 0; i < NTHREADS; i++)
        if (w[i].failures) fail_msg("thread %d: %d failures, first: %s", i, w[i].failures, w[i].why);
    memset(st, 0, sizeof *st);
    if (db->cache) pv_blockcache_stats_get(db->cache, st);
    else assert_int_equal(bytes, UINT64_MAX);
    assert_int_equal(pv_close(db), PV_OK);
}

static void test_block_cache_threads(void **state)
{
    tfix *f = *state;
    pvdb_file *pf = NULL;
    pvdb_chunk_info ci;
    pv_blockcache_stats st;
    int z;
    /* the shapes this test is about: zstd text and a front-coded dictionary */
    assert_int_equal(pvdb_open(f->path, &pf), PV_OK);
    z = pvdb_table_index(pf, "z", 1);
    assert_true(z >= 0);
    assert_int_equal(pvdb_chunk_info_get(pf, (uint32_t)z, 0, 1, &ci), PV_OK);
    assert_string_equal(ci.encoding_name, "zstr");
    assert_int_equal(pvdb_chunk_info_get(pf, (uint32_t)z, 0, 2, &ci), PV_OK);
    assert_string_equal(ci.encoding_name, "dict");
    pvdb_close(pf);
    z_readers(f->path, ZCACHE, &st);
    assert_true(st.evictions > 0);   /* under pressure */
    assert_true(st.hits > 0);        /* and still shared */
    assert_true(st.bytes <= ZCACHE);
    z_readers(f->path, 0, &st);      /* the default 64 MiB: nothing evicted */
    assert_int_equal(st.evictions, 0);
    assert_true(st.hits > st.misses);
    z_readers(f->path, UINT64_MAX, &st); /* off: every reader decodes its own */
}

/* ---- hot swap ------------------------------------------------------------------------ */

typedef struct swap {
    pv_db *db;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int phase;           /* 1: reader is half way; 2: the file was swapped */
    int failures;
    char why[256];
    int64_t rows;
} swap;

static void wait_phase(swap *s, int phase)
{
    pthread_mutex_lock(&s->mu);
    while (s->phase < phase) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
}

static void set_phase(swap *s, int phase)
{
    pthread_mutex_lock(&s->mu);
    s->phase = phase;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* Steps a whole-table statement prepared on version 1; half way through,
 * the main thread swaps the file; the rest must still be version 1. */
static void *swap_reader(void *arg)
{
    swap *s = arg;
    pv_stmt *st = NULL;
    int rc;
    int64_t n = 0;
    if (pv_prepare(s->db, "SELECT id, v, name FROM t", (size_t)-1, &st, NULL) != PV_OK) {
        s->failures++;
        snprintf(s->why, sizeof s->why, "prepare: %s", pv_errmsg());
        set_phase(s, 1);
        return NULL;
    }
    while ((rc = pv_step(st)) == PV_ROW) {
        char name[64];
        n++;
        val_name(n, name, sizeof name);
        if (pv_column_int64(st, 0) != n || pv_column_int64(st, 1) != val_v(n) ||
            strcmp(pv_column_text(st, 2), name) != 0) {
            if (!s->failures++)
                snprintf(s->why, sizeof s->why, "row %lld: id %lld v %lld", (long long)n,
                         (long long)pv_column_int64(st, 0), (long long)pv_column_int64(st, 1));
        }
        if (n == NROWS / 2) {
            set_phase(s, 1);
            wait_phase(s, 2);
        }
    }
    if (rc != PV_DONE && !s->failures++) snprintf(s->why, sizeof s->why, "step: %s", pv_errmsg());
    s->rows = n;
    pv_finalize(st);
    return NULL;
}

static int64_t point_v(pv_db *db, int64_t id)
{
    pv_stmt *st = NULL;
    int64_t v = -1;
    assert_int_equal(pv_prepare(db, "SELECT v FROM t WHERE id = ?", (size_t)-1, &st, NULL), PV_OK);
    pv_bind_int64(st, 1, id);
    if (pv_step(st) == PV_ROW) v = pv_column_int64(st, 0);
    pv_finalize(st);
    return v;
}

static void test_hot_swap(void **state)
{
    tfix *f = *state;
    pv_db *db = NULL;
    pv_getter *old_g = NULL, *new_g = NULL;
    pthread_t th;
    swap s;
    pv_cell key, row[3];
    char name[64];
    int changed = -1;
    memset(&s, 0, sizeof s);
    pthread_mutex_init(&s.mu, NULL);
    pthread_cond_init(&s.cv, NULL);
    assert_int_equal(pv_open(f->path, PV_OPEN_READONLY, &db), PV_OK);
    s.db = db;
    assert_int_equal(pv_reopen(db, &changed), PV_OK); /* nothing changed yet */
    assert_int_equal(changed, 0);
    assert_int_equal(pv_getter_open(db, "t", &old_g), PV_OK);
    assert_int_equal(pthread_create(&th, NULL, swap_reader, &s), 0);
    wait_phase(&s, 1);
    /* the new file goes in by rename, as a deployment does */
    assert_int_equal(rename(f->path2, f->path), 0);
    assert_int_equal(pv_reopen(db, &changed), PV_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(point_v(db, 77), val_v(77) + 1000000); /* new statements: new file */
    set_phase(&s, 2);
    pthread_join(th, NULL);
    if (s.failures) fail_msg("reader: %d failures, first: %s", s.failures, s.why);
    assert_int_equal(s.rows, NROWS);
    /* a getter keeps its mapping; a new one reads the new file */
    key.type = PV_INTEGER;
    key.u.i = 5;
    val_name(5, name, sizeof name);
    assert_int_equal(pv_get(old_g, &key, 1, row, 3), PV_ROW);
    assert_int_equal(row[2].u.i, val_v(5));
    assert_int_equal(pv_getter_open(db, "t", &new_g), PV_OK);
    assert_int_equal(pv_get(new_g, &key, 1, row, 3), PV_ROW);
    assert_int_equal(row[2].u.i, val_v(5) + 1000000);
    pv_getter_close(old_g); /* the last user of version 1: unmapped here */
    pv_getter_close(new_g);
    assert_int_equal(pv_reopen(db, &changed), PV_OK);
    assert_int_equal(changed, 0);
    /* many readers on the swapped file */
    {
        pthread_t th2[2];
        worker w[2];
        int i;
        for (i = 0; i < 2; i++) {
            memset(&w[i], 0, sizeof w[i]);
            w[i].db = db;
            w[i].id = 10 + i;
            w[i].offset = 1000000;
            assert_int_equal(pthread_create(&th2[i], NULL, work, &w[i]), 0);
        }
        for (i = 0; i < 2; i++) pthread_join(th2[i], NULL);
        for (i = 0; i < 2; i++)
            if (w[i].failures) fail_msg("thread %d: %s", i, w[i].why);
    }
    assert_int_equal(pv_close(db), PV_OK);
    pthread_mutex_destroy(&s.mu);
    pthread_cond_destroy(&s.cv);
}

static void test_reopen_errors(void **state)
{
    tfix *f = *state;
    pv_db *db = NULL;
    int changed = -1;
    assert_int_equal(pv_reopen(NULL, &changed), PV_EMISUSE);
    /* a workspace: nothing committed since its open (test_reopen.c has more) */
    assert_int_equal(pv_reopen(f->ws.db, &changed), PV_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(pv_open(f->path, PV_OPEN_READONLY, &db), PV_OK);
    {
        /* a damaged file renamed over: the error is returned, the old file stays */
        char bad[128];
        FILE *o;
        snprintf(bad, sizeof bad, "%s/bad.pvdb", f->ws.dir);
        o = fopen(bad, "wb");
        assert_non_null(o);
        fputs("not a pvdb at all, but long enough to have a header............", o);
        fclose(o);
        {
            char keep[128];
            snprintf(keep, sizeof keep, "%s/keep.pvdb", f->ws.dir);
            assert_int_equal(rename(f->path, keep), 0);
            assert_int_equal(rename(bad, f->path), 0);
            assert_true(pv_reopen(db, &changed) < 0);
            assert_int_equal(changed, 0);
            assert_true(point_v(db, 9) == val_v(9) || point_v(db, 9) == val_v(9) + 1000000);
            assert_int_equal(rename(keep, f->path), 0);
        }
    }
    assert_int_equal(pv_close(db), PV_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_readers),
        cmocka_unit_test(test_block_cache_threads),
        cmocka_unit_test(test_hot_swap),
        cmocka_unit_test(test_reopen_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
