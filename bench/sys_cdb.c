/*
 * sys_cdb.c: tinycdb (libcdb) as a key-value peer: a constant hash table
 * file, mapped by cdb_init. Key: the id as 8 little-endian bytes; value:
 * the rest of the row packed (frow_pack). No key order, so no ranges.
 */
#include "bench.h"

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct cd {
    struct bench *b;
    char path[4096];
    struct cdb cdb;
    struct cdb_make mk;
};

static void key_bytes(unsigned char k[8], int64_t id)
{
    for (int i = 0; i < 8; i++) k[i] = (unsigned char)((uint64_t)id >> (8 * i));
}

static int cd_put(void *ctx, const struct frow *r)
{
    struct cd *c = ctx;
    unsigned char k[8], v[128];
    unsigned vn = (unsigned)frow_pack(r, v, sizeof v);
    key_bytes(k, r->id);
    return cdb_make_add(&c->mk, k, 8, v, vn) == 0 ? 0 : -1;
}

static int build(struct cd *c, double *secs, char *err, size_t errlen)
{
    char tmp[4200];
    uint64_t t0 = now_ns();
    long n;
    int fd;
    snprintf(tmp, sizeof tmp, "%s.tmp", c->path);
    fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || cdb_make_start(&c->mk, fd) != 0) goto fail;
    n = csv_each(c->b->csv, cd_put, c);
    if (n < 0 || cdb_make_finish(&c->mk) != 0 || fsync(fd) != 0 || close(fd) != 0) goto fail;
    fd = -1;
    if (rename(tmp, c->path) != 0) goto fail;
    *secs = (double)(now_ns() - t0) / 1e9;
    if (n != c->b->nrows) {
        msgf(err, errlen, "stored %ld rows, expected %ld", n, c->b->nrows);
        return -1;
    }
    return 0;
fail:
    msgf(err, errlen, "build of '%s' failed: %s", tmp, strerror(errno));
    if (fd >= 0) close(fd);
    return -1;
}

static int cd_get(void *ctx, int64_t key, struct frow *out)
{
    struct cd *c = ctx;
    unsigned char k[8];
    int rc;
    key_bytes(k, key);
    rc = cdb_find(&c->cdb, k, 8);
    if (rc <= 0) return rc;
    return frow_unpack(cdb_getdata(&c->cdb), cdb_datalen(&c->cdb), key, out) == 0 ? 1 : -2;
}

static int cd_open_get_close(void *ctx, int64_t key, struct frow *out)
{
    struct cd *c = ctx;
    struct cdb db;
    unsigned char k[8];
    int rc, fd = open(c->path, O_RDONLY);
    if (fd < 0) return -1;
    if (cdb_init(&db, fd) != 0) {
        close(fd);
        return -1;
    }
    key_bytes(k, key);
    rc = cdb_find(&db, k, 8);
    if (rc > 0) rc = frow_unpack(cdb_getdata(&db), cdb_datalen(&db), key, out) == 0 ? 1 : -2;
    cdb_free(&db);
    close(fd);
    return rc;
}

void sys_cdb(struct bench *b)
{
    struct cd c;
    char err[300] = "", ver[64] = "";
    double t[4], spent = 0;
    int n = 0, fd;
    const char *evict[2];
    FILE *p;

    memset(&c, 0, sizeof c);
    c.b = b;
    snprintf(c.path, sizeof c.path, "%s/flights.cdb", b->cache);
    evict[0] = c.path, evict[1] = NULL;
    p = popen("dpkg-query -W -f '${Version}' libcdb-dev 2>/dev/null", "r");
    if (p) {
        if (!fgets(ver, sizeof ver, p)) ver[0] = 0;
        pclose(p);
    }
    snprintf(b->versions[COL_CDB], sizeof b->versions[0], "%s (Debian libcdb-dev)", ver[0] ? ver : "unknown");

    say("cdb: building");
    while (n < 3) {
        if (build(&c, &t[n], err, sizeof err) != 0) {
            cell_na(b, OP_BUILD, COL_CDB, "%s", err);
            cell_na(b, OP_LOOKUP, COL_CDB, "%s", err);
            return;
        }
        spent += t[n++];
        if (n >= b->build_runs && spent > (b->quick ? 0.6 : 8)) break;
    }
    cell_values(b, OP_BUILD, COL_CDB, t, n);
    b->cells[OP_BUILD][COL_CDB].ops_min = b->cells[OP_BUILD][COL_CDB].ops_max = 1;
    double sz = (double)file_size(c.path);
    cell_values(b, OP_SIZE, COL_CDB, &sz, 1);

    say("cdb: reads");
    fd = open(c.path, O_RDONLY);
    if (fd < 0 || cdb_init(&c.cdb, fd) != 0) {
        cell_na(b, OP_LOOKUP, COL_CDB, "cannot open '%s'", c.path);
        if (fd >= 0) close(fd);
        return;
    }
    measure_lookups(b, COL_CDB, cd_get, &c, b->lookup_budget);
    cdb_free(&c.cdb);
    close(fd);
    measure_open(b, COL_CDB, cd_open_get_close, &c, evict);
    cell_na(b, OP_RANGE, COL_CDB, "hash table: keys have no order");
    const char *why = "key-value store: no query engine";
    cell_na(b, OP_SUM, COL_CDB, "%s", why);
    cell_na(b, OP_GROUP, COL_CDB, "%s", why);
    cell_na(b, OP_FILTER, COL_CDB, "%s", why);
    cell_na(b, OP_VERIFY, COL_CDB, "no checksums in the format");
}
