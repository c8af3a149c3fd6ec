/*
 * sys_lmdb.c: LMDB (liblmdb) as a key-value peer.
 *
 * Key: the id as a native 8-byte integer (MDB_INTEGERKEY). Value: the rest
 * of the row packed (frow_pack). Built in one write transaction with
 * MDB_APPEND (the ids arrive sorted), committed with LMDB's default
 * durability. Each point lookup is its own read transaction
 * (mdb_txn_renew / mdb_get / mdb_txn_reset), as each SQLite statement is;
 * a range is a cursor from MDB_SET_RANGE.
 */
#include "bench.h"

#include <lmdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct lm {
    struct bench *b;
    char path[4096];
    MDB_env *env;
    MDB_txn *txn;   /* reset between lookups */
    MDB_cursor *cur;
    MDB_dbi dbi;
    MDB_txn *wtxn;  /* build */
    int rc;
};

static int lm_put(void *ctx, const struct frow *r)
{
    struct lm *l = ctx;
    unsigned char buf[128];
    size_t key = (size_t)r->id;
    MDB_val k = {sizeof key, &key}, v;
    v.mv_size = frow_pack(r, buf, sizeof buf);
    v.mv_data = buf;
    l->rc = mdb_put(l->wtxn, l->dbi, &k, &v, MDB_APPEND);
    return l->rc == 0 ? 0 : -1;
}

static int build(struct lm *l, double *secs, char *err, size_t errlen)
{
    MDB_env *env = NULL;
    char lock[4200];
    uint64_t t0;
    long n;
    int rc;
    snprintf(lock, sizeof lock, "%s-lock", l->path);
    remove(l->path);
    remove(lock);
    t0 = now_ns();
    if ((rc = mdb_env_create(&env)) || (rc = mdb_env_set_mapsize(env, (size_t)l->b->nrows * 256 + (64u << 20))) ||
        (rc = mdb_env_open(env, l->path, MDB_NOSUBDIR, 0644)) || (rc = mdb_txn_begin(env, NULL, 0, &l->wtxn)) ||
        (rc = mdb_dbi_open(l->wtxn, NULL, MDB_INTEGERKEY | MDB_CREATE, &l->dbi)))
        goto fail;
    n = csv_each(l->b->csv, lm_put, l);
    if (n < 0) {
        rc = l->rc;
        mdb_txn_abort(l->wtxn);
        goto fail;
    }
    if ((rc = mdb_txn_commit(l->wtxn))) goto fail;
    mdb_env_close(env);
    *secs = (double)(now_ns() - t0) / 1e9;
    if (n != l->b->nrows) {
        msgf(err, errlen, "stored %ld rows, expected %ld", n, l->b->nrows);
        return -1;
    }
    return 0;
fail:
    msgf(err, errlen, "build failed: %s", mdb_strerror(rc));
    mdb_env_close(env);
    return -1;
}

static int lm_get(void *ctx, int64_t key, struct frow *out)
{
    struct lm *l = ctx;
    size_t k = (size_t)key;
    MDB_val kv = {sizeof k, &k}, v;
    int rc, found;
    if (mdb_txn_renew(l->txn)) return -1;
    rc = mdb_get(l->txn, l->dbi, &kv, &v);
    found = rc == 0 && frow_unpack(v.mv_data, v.mv_size, key, out) == 0;
    mdb_txn_reset(l->txn);
    return rc == 0 ? (found ? 1 : -2) : rc == MDB_NOTFOUND ? 0 : -1;
}

static long lm_range(void *ctx, int64_t lo, int64_t hi, emit_fn emit, void *acc)
{
    struct lm *l = ctx;
    size_t k = (size_t)lo;
    MDB_val kv = {sizeof k, &k}, v;
    struct frow r;
    long n = 0;
    int rc;
    if (mdb_txn_renew(l->txn) || mdb_cursor_renew(l->txn, l->cur)) return -1;
    for (rc = mdb_cursor_get(l->cur, &kv, &v, MDB_SET_RANGE); rc == 0;
         rc = mdb_cursor_get(l->cur, &kv, &v, MDB_NEXT)) {
        size_t id;
        memcpy(&id, kv.mv_data, sizeof id);
        if ((int64_t)id > hi) break;
        if (frow_unpack(v.mv_data, v.mv_size, (int64_t)id, &r) != 0) {
            rc = -2;
            break;
        }
        emit(acc, &r);
        n++;
    }
    mdb_txn_reset(l->txn);
    return rc == 0 || rc == MDB_NOTFOUND ? n : -1;
}

static int lm_open_get_close(void *ctx, int64_t key, struct frow *out)
{
    struct lm *l = ctx;
    MDB_env *env = NULL;
    MDB_txn *txn = NULL;
    MDB_dbi dbi;
    size_t k = (size_t)key;
    MDB_val kv = {sizeof k, &k}, v;
    int rc;
    if ((rc = mdb_env_create(&env)) || (rc = mdb_env_open(env, l->path, MDB_NOSUBDIR | MDB_RDONLY, 0644)) ||
        (rc = mdb_txn_begin(env, NULL, MDB_RDONLY, &txn)) || (rc = mdb_dbi_open(txn, NULL, MDB_INTEGERKEY, &dbi))) {
        rc = -1;
        goto done;
    }
    rc = mdb_get(txn, dbi, &kv, &v);
    rc = rc == 0 ? (frow_unpack(v.mv_data, v.mv_size, key, out) == 0 ? 1 : -2) : rc == MDB_NOTFOUND ? 0 : -1;
done:
    mdb_txn_abort(txn);
    mdb_env_close(env);
    return rc;
}

/* The reader sys_lmdb leaves open for measure_lookups_alt. */
static struct lm alt_lm;

/* l's env opened read-only with a reset read transaction and a cursor:
 * 0, or LMDB's error (nothing left open). */
static int lm_open_reader(struct lm *l)
{
    int rc;
    l->txn = NULL;
    if ((rc = mdb_env_create(&l->env))) return rc;
    if ((rc = mdb_env_open(l->env, l->path, MDB_NOSUBDIR | MDB_RDONLY, 0644)) ||
        (rc = mdb_txn_begin(l->env, NULL, MDB_RDONLY, &l->txn)) ||
        (rc = mdb_dbi_open(l->txn, NULL, MDB_INTEGERKEY, &l->dbi)) ||
        (rc = mdb_cursor_open(l->txn, l->dbi, &l->cur))) {
        if (l->txn) mdb_txn_abort(l->txn);
        mdb_env_close(l->env);
        return rc;
    }
    mdb_txn_reset(l->txn);
    return 0;
}

static void lm_close_reader(void *ctx)
{
    struct lm *l = ctx;
    mdb_cursor_close(l->cur);
    mdb_txn_abort(l->txn);
    mdb_env_close(l->env);
}

void sys_lmdb(struct bench *b)
{
    struct lm l;
    char err[300] = "";
    double t[4];
    int major, minor, patch, n = 0, rc;
    double spent = 0;
    const char *evict[2];

    memset(&l, 0, sizeof l);
    l.b = b;
    snprintf(l.path, sizeof l.path, "%s/flights.lmdb", b->cache);
    evict[0] = l.path, evict[1] = NULL;
    mdb_version(&major, &minor, &patch);
    snprintf(b->versions[COL_LMDB], sizeof b->versions[0], "%d.%d.%d", major, minor, patch);
    say("lmdb: building");
    while (n < 3) {
        if (build(&l, &t[n], err, sizeof err) != 0) {
            cell_na(b, OP_BUILD, COL_LMDB, "%s", err);
            cell_na(b, OP_LOOKUP, COL_LMDB, "%s", err);
            return;
        }
        spent += t[n++];
        if (n >= b->build_runs && spent > (b->quick ? 0.6 : 8)) break;
    }
    cell_values(b, OP_BUILD, COL_LMDB, t, n);
    b->cells[OP_BUILD][COL_LMDB].ops_min = b->cells[OP_BUILD][COL_LMDB].ops_max = 1;
    double sz = (double)file_size(l.path);
    cell_values(b, OP_SIZE, COL_LMDB, &sz, 1);

    say("lmdb: reads");
    if ((rc = lm_open_reader(&l))) {
        cell_na(b, OP_LOOKUP, COL_LMDB, "cannot open: %s", mdb_strerror(rc));
        return;
    }
    measure_lookups(b, COL_LMDB, lm_get, &l, b->lookup_budget);
    measure_ranges(b, COL_LMDB, lm_range, &l);
    lm_close_reader(&l);
    measure_open(b, COL_LMDB, lm_open_get_close, &l, evict);
    /* A reader left open for sys_pv's alternated lookups: opened after
     * measure_open's, as LMDB must not have one file open twice in a
     * process (closing either drops the other's locks). */
    alt_lm = l;
    if (lm_open_reader(&alt_lm) == 0) {
        b->alt_get = lm_get;
        b->alt_ctx = &alt_lm;
        b->alt_close = lm_close_reader;
    }
    const char *why = "key-value store: no query engine";
    cell_na(b, OP_SUM, COL_LMDB, "%s", why);
    cell_na(b, OP_GROUP, COL_LMDB, "%s", why);
    cell_na(b, OP_FILTER, COL_LMDB, "%s", why);
    cell_na(b, OP_VERIFY, COL_LMDB, "no whole-file check in its API (mdb_env_stat counts pages)");
}
