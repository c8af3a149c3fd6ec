/*
 * ws_ckpt.c: table checkpoints (ws_ckpt.h; the byte layout is
 * docs/FORMAT.md part 4).
 *
 * The file is mapped read-only and used in place: integer, real and null
 * arrays are read straight from the mapping (the host must be little-endian:
 * elsewhere checkpoints are simply not used), strings point into it. Every
 * byte that is read is covered by a checksum: the records by one checked at
 * open, the rows by their segments' (ws_ckpt_seg.c), checked at open or,
 * for a bake or a point query, when first used. So a checkpoint torn by a
 * power failure (it is written without fsync: it is only a cache) is
 * ignored, never read. The one exception is each chunk's stat hint (mtime,
 * inode), which is only compared with a live stat and is rewritten in
 * place after the chunk's bytes were found unchanged (refresh_hints).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "util.h"
#include "ws_ckpt.h"
#include "ws_internal.h"

#define CKPT_MAGIC "PVLOAD\0\1"
#define CKPT_VERSION 4      /* the only one read: 1 and 2 had no segment checksums,
                               3 covered the stat hints by the records' checksum */
#define CHUNK_BLOB 1u       /* chunk record flag: bytes 16..31 hold a blob id */
#define HEADER_SIZE 64
#define CHUNK_REC 48
#define HINT_OFF 16         /* a chunk record's stat hint: mtime (ns), inode */
#define HINT_LEN 16
#define COLUMN_REC 32
#define SEG_HEAD 8          /* segment table: u32 rows per segment, u32 zero */
#define SEG_ROWS_MAX (1u << 24)
#define COL_HAS_NULLS 1u

static int host_little_endian(void)
{
    const uint16_t one = 1;
    return *(const uint8_t *)&one == 1;
}

static size_t align8(size_t n) { return (n + 7) & ~(size_t)7; }

/* ---- what the rows depend on ---------------------------------------------- */

static void hash_bytes(XXH3_state_t *st, const void *p, size_t n)
{
    uint64_t len = n;
    XXH3_64bits_update(st, &len, sizeof len);
    XXH3_64bits_update(st, p, n);
}

static void hash_value(XXH3_state_t *st, const pv_value *v)
{
    int32_t type = v ? v->type : -1;
    XXH3_64bits_update(st, &type, sizeof type);
    if (!v || v->type == PV_NULL) return;
    if (v->type == PV_TEXT || v->type == PV_BLOB) hash_bytes(st, v->u.s.p, v->u.s.n);
    else if (v->type == PV_REAL) XXH3_64bits_update(st, &v->u.f, sizeof v->u.f);
    else XXH3_64bits_update(st, &v->u.i, sizeof v->u.i);
}

uint64_t ws_ckpt_schema_hash(const pv_schema *s)
{
    XXH3_state_t *st = XXH3_createState();
    uint64_t h;
    uint32_t c;
    if (!st) return 0; /* matches no checkpoint (their hash is never 0 in practice) */
    XXH3_64bits_reset(st);
    hash_bytes(st, "pv checkpoint schema 1", 22);
    XXH3_64bits_update(st, &s->ncols, sizeof s->ncols);
    for (c = 0; c < s->ncols; c++) {
        int32_t type = s->cols[c].type;
        hash_bytes(st, s->cols[c].name, strlen(s->cols[c].name));
        XXH3_64bits_update(st, &type, sizeof type);
        hash_value(st, s->cols[c].dflt);
    }
    XXH3_64bits_update(st, &s->npk, sizeof s->npk);
    XXH3_64bits_update(st, s->pk, s->npk * sizeof *s->pk);
    h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
}

void ws_ckpt_chunk_hash(ws_ckpt_chunk *c, const char *data, size_t len)
{
    XXH128_hash_t h = XXH3_128bits(data, len);
    XXH128_canonical_t canon;
    XXH128_canonicalFromHash(&canon, h);
    memcpy(c->hash, canon.digest, 16);
    c->size = len;
}

/* ---- paths ---------------------------------------------------------------- */

void pv_ws_set_rev_ckpt(pv_ws *ws, const ws_rev_ckpt *r)
{
    ws->rev_ckpt = r;
}

void pv_ws_no_ckpt_read(pv_ws *ws)
{
    ws->no_ckpt_read = 1;
}

/* .pv/cache/load/<table>.pvck (a git revision's: .pv/cache/load-rev/ of
 * the work tree); the cache directories must be real directories (a
 * symlink planted in a repository must not redirect our writes). Returns
 * 0, or -1 when there is no usable place. */
static int ckpt_path(const pv_ws *ws, const ws_table *t, int create, char *out, size_t cap)
{
    char dir[4200];
    const char *sub[] = {"cache", ws->posix ? "cache/load" : "cache/load-rev"};
    const char *pvdir = ws->posix ? ws->pvdir : ws->rev_ckpt ? ws->rev_ckpt->pvdir : NULL;
    size_t i;
    struct stat st;
    if (!pvdir) return -1;
    for (i = 0; i < 2; i++) {
        snprintf(dir, sizeof dir, "%s/%s", pvdir, sub[i]);
        if (lstat(dir, &st) != 0) {
            if (!create || errno != ENOENT) return -1;
            /* (the bake makes .pv/cache/bake meanwhile, on another thread) */
            if (mkdir(dir, 0755) != 0 && (errno != EEXIST || lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)))
                return -1;
        } else if (!S_ISDIR(st.st_mode)) {
            return -1;
        }
    }
    if ((size_t)snprintf(out, cap, "%s/%s/%s.pvck", pvdir, sub[1], t->schema->name) >= cap) return -1;
    return 0;
}

/* ---- reading -------------------------------------------------------------- */

void ws_ckpt_free(ws_ckpt *c)
{
    uint32_t i;
    if (!c) return;
    if (c->strs)
        for (i = 0; i < c->ncols; i++) free(c->strs[i]);
    free(c->strs);
    free(c->str_off);
    free(c->str_bytes);
    free(c->str_len);
    free((void *)c->seg_state);
    free(c->path);
    free(c->vecs);
    free(c->chunks);
    if (c->map) munmap(c->map, c->map_len);
    free(c);
}

int ws_ckpt_chunk_read(pv_ws *ws, const ws_table *t, uint32_t num, uint64_t prefix, ws_ckpt_chunk *k,
                       uint64_t *len)
{
    char path[4400], rel[PV_MAX_TABLE_NAME + 32], *text = NULL;
    struct stat st;
    size_t n;
    int rc;
    if ((rc = ws_chunk_path(path, sizeof path, t, num))) return rc;
    k->num = num;
    k->mtime_ns = 0;
    k->ino = 0;
    k->has_blob = 0;
    /* stat before reading: a change during the read then shows */
    if (ws->posix && lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
        k->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        k->ino = (uint64_t)st.st_ino;
    }
    ws_chunk_rel(rel, sizeof rel, t, num);
    if ((rc = ws->rd.read(ws->rd.ctx, rel, (size_t)1 << 30, &text, &n))) return rc;
    ws_ckpt_chunk_hash(k, text, prefix < n ? (size_t)prefix : n);
    free(text);
    *len = n;
    return PV_OK;
}

/* A git revision's chunk: the recorded blob id, or its bytes' hash. */
static int rev_chunk_unchanged(pv_ws *ws, const ws_table *t, const ws_ckpt_chunk *k, uint64_t snap_size)
{
    char rel[PV_MAX_TABLE_NAME + 32];
    uint8_t id[16];
    uint64_t len;
    ws_ckpt_chunk now;
    if (snap_size < k->size) return 0;
    ws_chunk_rel(rel, sizeof rel, t, k->num);
    if (k->has_blob && snap_size == k->size && ws->rev_ckpt->blob_id(ws->rev_ckpt->ctx, rel, id) == 0 &&
        memcmp(id, k->blob, 16) == 0)
        return 1;
    if (ws_ckpt_chunk_read(ws, t, k->num, k->size, &now, &len) || len < k->size) return 0;
    return memcmp(now.hash, k->hash, 16) == 0;
}

/* Does the chunk still begin with the bytes the checkpoint replayed? 1 when
 * its stat hint says so or its bytes do; 2 when its bytes do and the whole
 * file is those bytes, with *fresh the stat taken before reading them (the
 * hint to record instead: a copied or restored file has another inode);
 * 0 when not. */
static int chunk_unchanged(pv_ws *ws, const ws_table *t, const ws_ckpt_chunk *k, uint64_t snap_size,
                           ws_ckpt_chunk *fresh)
{
    char path[4400];
    struct stat st;
    uint64_t len;
    ws_ckpt_chunk now;
    if (!ws->posix) return ws->rev_ckpt && rev_chunk_unchanged(ws, t, k, snap_size);
    if (ws_chunk_path(path, sizeof path, t, k->num) || lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    if ((uint64_t)st.st_size < k->size || snap_size < k->size) return 0;
    if (k->ino && (uint64_t)st.st_size == k->size && (uint64_t)st.st_ino == k->ino &&
        (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec == k->mtime_ns)
        return 1;
    if (ws_ckpt_chunk_read(ws, t, k->num, k->size, &now, &len) || len < k->size) return 0;
    if (memcmp(now.hash, k->hash, 16) != 0) return 0;
    if (len != k->size || !now.ino) return 1; /* (grown: its stat cannot match the record) */
    *fresh = now;
    return 2;
}

/* The chunk records: 0, 1 when one is bad, PV_ENOMEM. */
static int read_chunks(ws_ckpt *c, const uint8_t *p)
{
    size_t i;
    if (!(c->chunks = calloc(c->nchunks + 1, sizeof *c->chunks))) return PV_ENOMEM;
    for (i = 0; i < c->nchunks; i++, p += CHUNK_REC) {
        ws_ckpt_chunk *k = &c->chunks[i];
        uint32_t flags = pv_get_u32(p + 4);
        if (flags & ~CHUNK_BLOB) return 1;
        k->num = pv_get_u32(p);
        k->size = pv_get_u64(p + 8);
        if (flags & CHUNK_BLOB) {
            k->has_blob = 1;
            memcpy(k->blob, p + 16, 16);
        } else {
            k->mtime_ns = (int64_t)pv_get_u64(p + 16);
            k->ino = pv_get_u64(p + 24);
        }
        memcpy(k->hash, p + 32, 16);
    }
    return 0;
}

/* One chunk record into a records checksum: with its stat hint read as
 * zeros unless it is a git blob's record (which has a blob id there, not a
 * hint). The rule of FORMAT.md 4.1, for the reader and the writer. */
static void hash_chunk_rec(XXH3_state_t *st, const uint8_t *rec)
{
    static const uint8_t zero[HINT_LEN];
    int blob = (pv_get_u32(rec + 4) & CHUNK_BLOB) != 0;
    XXH3_64bits_update(st, rec, HINT_OFF);
    XXH3_64bits_update(st, blob ? rec + HINT_OFF : zero, HINT_LEN);
    XXH3_64bits_update(st, rec + HINT_OFF + HINT_LEN, CHUNK_REC - HINT_OFF - HINT_LEN);
}

/* XXH3-64 of a checkpoint's records (`len` bytes from offset 64: chunk
 * records, column records, segment table) with the stat hint of every
 * chunk record without a blob id read as zeros: the hints are rewritten in
 * place (refresh_hints) and checked by no checksum, only compared with a
 * live stat. Returns 0 when st is NULL (out of memory: matches nothing in
 * practice). */
static uint64_t records_sum(const uint8_t *recs, uint64_t nchunks, uint64_t len)
{
    XXH3_state_t *st = XXH3_createState();
    uint64_t i, h;
    if (!st) return 0;
    XXH3_64bits_reset(st);
    for (i = 0; i < nchunks; i++, recs += CHUNK_REC, len -= CHUNK_REC) hash_chunk_rec(st, recs);
    XXH3_64bits_update(st, recs, (size_t)len);
    h = XXH3_64bits_digest(st);
    XXH3_freeState(st);
    return h;
}

/* Column i: check its record and that its sections lie inside the file,
 * and point its vector into the mapping (none of its rows is read). 0 when
 * good, 1 when not. */
static int read_column(ws_ckpt *c, uint32_t i, const uint8_t *rec, int want_type)
{
    const uint8_t *base = c->map;
    uint64_t n = c->nrows, nulls_off = pv_get_u64(rec + 8), data_off = pv_get_u64(rec + 16);
    uint64_t bytes_len = pv_get_u64(rec + 24);
    uint32_t type = pv_get_u32(rec), flags = pv_get_u32(rec + 4);
    pv_vec *v = &c->vecs[i];
    int text = type == PV_TEXT || type == PV_BLOB;
    uint64_t need = text ? (n + 1) * 8 + bytes_len : n * 8;
    if ((int)type != want_type || (flags & ~COL_HAS_NULLS) || (!text && bytes_len)) return 1;
    if (bytes_len > c->map_len) return 1; /* (before `need` could overflow) */
    if (flags & COL_HAS_NULLS) {
        if (nulls_off % 8 || nulls_off > c->map_len || c->map_len - nulls_off < n) return 1;
        v->nulls = base + nulls_off;
    } else if (nulls_off) {
        return 1;
    }
    if (data_off % 8 || data_off > c->map_len || c->map_len - data_off < need) return 1;
    v->type = (int)type;
    v->u.i = (const int64_t *)(const void *)(base + data_off);
    if (text) {
        c->str_off[i] = (const uint64_t *)(const void *)(base + data_off);
        c->str_bytes[i] = (const char *)(base + data_off + (n + 1) * 8);
        c->str_len[i] = bytes_len;
        v->u.s = NULL; /* (built once its rows are checked, if at all) */
    }
    return 0;
}

/* The pv_str array of TEXT/BLOB column i (its rows checked). */
static int build_strs(ws_ckpt *c, uint32_t i)
{
    const uint64_t *off = c->str_off[i];
    const char *bytes = c->str_bytes[i];
    uint64_t r, n = c->nrows;
    pv_str *s = malloc((n ? n : 1) * sizeof *s);
    if (!s) return PV_ENOMEM;
    c->strs[i] = s;
    for (r = 0; r < n; r++) {
        s[r].p = bytes + off[r];
        s[r].n = (size_t)(off[r + 1] - off[r]);
    }
    c->vecs[i].u.s = s;
    return 0;
}

/* Is segment `seg` of column col as written? */
static int seg_good(const ws_ckpt *c, uint32_t col, uint64_t seg)
{
    uint64_t r0 = seg * c->seg_rows, r1 = c->nrows - r0 < c->seg_rows ? c->nrows : r0 + c->seg_rows;
    uint64_t sum;
    return ws_ckpt_seg_sum_mapped(c, col, r0, r1, &sum) &&
           sum == pv_get_u64(c->seg_sums + 8 * (col * c->nseg + seg));
}

int ws_ckpt_rows_ok(ws_ckpt *c, uint32_t col, uint64_t first, uint64_t n)
{
    uint64_t seg, end;
    if (!c->seg_state || !n) return 1;
    if (col >= c->ncols || first >= c->nrows || c->nrows - first < n) return 0;
    end = (first + n - 1) / c->seg_rows;
    for (seg = first / c->seg_rows; seg <= end; seg++) {
        _Atomic unsigned char *st = &c->seg_state[col * c->nseg + seg];
        unsigned char v = atomic_load_explicit(st, memory_order_acquire);
        if (v == 0) { /* (two threads may both check it: the same answer) */
            v = seg_good(c, col, seg) ? 1 : 2;
            atomic_store_explicit(st, v, memory_order_release);
        }
        if (v != 1) {
            atomic_store(&c->damaged, 1);
            return 0;
        }
    }
    return 1;
}

pv_value ws_ckpt_value(const ws_ckpt *c, uint32_t col, uint64_t r)
{
    const pv_vec *v = &c->vecs[col];
    pv_value out;
    if ((v->type != PV_TEXT && v->type != PV_BLOB) || v->u.s) return pv_vec_get(v, (uint32_t)r);
    if (v->nulls && v->nulls[r]) return pv_v_null();
    out.type = v->type;
    out.u.s.p = c->str_bytes[col] + c->str_off[col][r];
    out.u.s.n = (size_t)(c->str_off[col][r + 1] - c->str_off[col][r]);
    return out;
}

/* Is the mapped file a checkpoint of this schema? Its header, records and
 * section bounds; the rows too unless WS_CKPT_ON_USE. 0 yes, 1 no,
 * PV_ENOMEM. */
static int check_layout(ws_ckpt *c, const ws_table *t, int flags)
{
    const uint8_t *h = c->map;
    uint64_t nchunks, recs, seg;
    uint32_t i;
    int rc;
    if (c->map_len < HEADER_SIZE || memcmp(h, CKPT_MAGIC, 8) || pv_get_u32(h + 8) != CKPT_VERSION ||
        pv_get_u64(h + 56) != XXH3_64bits(h, 56) || pv_get_u64(h + 40) != c->map_len)
        return 1;
    c->ncols = pv_get_u32(h + 12);
    c->nrows = pv_get_u64(h + 16);
    nchunks = pv_get_u64(h + 24);
    if (c->ncols != t->schema->ncols || pv_get_u64(h + 32) != ws_ckpt_schema_hash(t->schema) ||
        nchunks == 0 || nchunks > t->snap_n || c->nrows > ((uint64_t)1 << 32))
        return 1;
    recs = HEADER_SIZE + nchunks * CHUNK_REC + (uint64_t)c->ncols * COLUMN_REC;
    if (recs + SEG_HEAD > c->map_len) return 1;
    c->seg_rows = pv_get_u32(h + recs);
    if (c->seg_rows == 0 || c->seg_rows > SEG_ROWS_MAX || pv_get_u32(h + recs + 4)) return 1;
    c->nseg = (c->nrows + c->seg_rows - 1) / c->seg_rows;
    if ((c->map_len - recs - SEG_HEAD) / 8 / (c->ncols ? c->ncols : 1) < c->nseg ||
        records_sum(h + HEADER_SIZE, nchunks, recs + SEG_HEAD + 8 * c->ncols * c->nseg - HEADER_SIZE) !=
            pv_get_u64(h + 48))
        return 1;
    c->seg_sums = h + recs + SEG_HEAD;
    c->nchunks = (size_t)nchunks;
    if ((rc = read_chunks(c, h + HEADER_SIZE))) return rc;
    c->vecs = calloc(c->ncols + 1, sizeof *c->vecs);
    c->strs = calloc(c->ncols + 1, sizeof *c->strs);
    c->str_off = calloc(c->ncols + 1, sizeof *c->str_off);
    c->str_bytes = calloc(c->ncols + 1, sizeof *c->str_bytes);
    c->str_len = calloc(c->ncols + 1, sizeof *c->str_len);
    if (!c->vecs || !c->strs || !c->str_off || !c->str_bytes || !c->str_len) return PV_ENOMEM;
    for (i = 0; i < c->ncols; i++)
        if (read_column(c, i, h + HEADER_SIZE + nchunks * CHUNK_REC + (uint64_t)i * COLUMN_REC,
                        t->schema->cols[i].type))
            return 1;
    if (flags & WS_CKPT_ON_USE) { /* (checked as they are used) */
        c->seg_state = calloc((size_t)(c->ncols * c->nseg) + 1, 1);
        return c->seg_state ? 0 : PV_ENOMEM;
    }
    for (i = 0; i < c->ncols; i++) {
        for (seg = 0; seg < c->nseg; seg++)
            if (!seg_good(c, i, seg)) return 1;
        if (c->str_off[i] && (rc = build_strs(c, i))) return rc;
    }
    return 0;
}

/* Record the stat hints of the chunks fresh[i] says were verified by their
 * bytes (ino != 0), in the file and in c->chunks, so the next open of a
 * copied or restored workspace compares stats instead of hashing every
 * chunk again. In place: each hint is 16 bytes (mtime, inode) that no
 * checksum covers and that are only ever compared for equality with a live
 * stat, so a reader or a crash seeing a hint half written (one field old,
 * one new) at worst hashes that chunk again (docs/LOADING.md 1). Written
 * only into the very file mapped (same device and inode: a checkpoint
 * renamed over it since is not touched); any failure leaves the old
 * hints. */
static void refresh_hints(ws_ckpt *c, const ws_ckpt_chunk *fresh)
{
    struct stat st;
    size_t i;
    int fd = open(c->path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return;
    if (fstat(fd, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino) {
        for (i = 0; i < c->nchunks; i++) {
            uint8_t b[HINT_LEN];
            if (!fresh[i].ino) continue;
            pv_put_u64(b, (uint64_t)fresh[i].mtime_ns);
            pv_put_u64(b + 8, fresh[i].ino);
            if (pwrite(fd, b, sizeof b, HEADER_SIZE + (off_t)i * CHUNK_REC + HINT_OFF) != (ssize_t)sizeof b)
                break;
            c->chunks[i].mtime_ns = fresh[i].mtime_ns;
            c->chunks[i].ino = fresh[i].ino;
        }
    }
    close(fd);
}

/* Do the covered chunks still hold what the checkpoint replayed? 1 yes
 * (stat hints of chunks verified by their bytes refreshed), 0 no,
 * PV_ENOMEM. */
static int check_chunks(pv_ws *ws, const ws_table *t, ws_ckpt *c)
{
    ws_ckpt_chunk *fresh = calloc(c->nchunks + 1, sizeof *fresh);
    size_t i, nfresh = 0;
    int ok = 1;
    if (!fresh) return PV_ENOMEM;
    for (i = 0; i < c->nchunks && ok; i++) {
        const ws_ckpt_chunk *k = &c->chunks[i];
        int r;
        if (t->snap_num[i] != k->num) ok = 0;
        /* only the last covered chunk may have grown since */
        else if (i + 1 < c->nchunks && t->snap_size[i] != k->size) ok = 0;
        else if (!(r = chunk_unchanged(ws, t, k, t->snap_size[i], &fresh[i]))) ok = 0;
        else nfresh += r == 2;
    }
    if (ok && nfresh) refresh_hints(c, fresh);
    free(fresh);
    return ok;
}

int ws_ckpt_open(pv_ws *ws, const ws_table *t, ws_ckpt **out)
{
    return ws_ckpt_open_ex(ws, t, 0, out);
}

int ws_ckpt_open_ex(pv_ws *ws, const ws_table *t, int flags, ws_ckpt **out)
{
    char path[4400];
    struct stat st;
    ws_ckpt *c;
    int fd, rc;
    *out = NULL;
    if (!host_little_endian() || getenv("PV_NO_LOAD_CACHE") || ws->no_ckpt_read || !t->snap_n ||
        ckpt_path(ws, t, 0, path, sizeof path))
        return 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return 0;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < HEADER_SIZE) {
        close(fd);
        return 0;
    }
    if (!(c = calloc(1, sizeof *c))) {
        close(fd);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    c->map_len = (size_t)st.st_size;
    c->dev = st.st_dev;
    c->ino = st.st_ino;
    /* (every page is read at once unless rows are checked as they are used) */
    c->map = mmap(NULL, c->map_len, PROT_READ,
                  MAP_PRIVATE | (flags & WS_CKPT_ON_USE ? 0 : MAP_POPULATE), fd, 0);
    close(fd);
    if (c->map == MAP_FAILED) {
        c->map = NULL;
        ws_ckpt_free(c);
        return 0;
    }
    if (!(c->path = strdup(path))) {
        ws_ckpt_free(c);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    rc = check_layout(c, t, flags);
    if (rc == 0 && (rc = check_chunks(ws, t, c)) >= 0) rc = !rc;
    if (rc) {
        ws_ckpt_free(c);
        return rc < 0 ? pv_err(PV_ENOMEM, "out of memory") : 0;
    }
    *out = c;
    return 1;
}

/* ---- writing -------------------------------------------------------------- */

typedef struct ckpt_writer {
    int fd;
    int failed;
    XXH3_state_t *body;    /* of the records (header 48) */
    uint64_t off;          /* bytes written */
    uint64_t recs_end;     /* where the records end */
    uint8_t buf[1 << 16];
    size_t nbuf;
} ckpt_writer;

static void w_flush(ckpt_writer *w)
{
    if (!w->failed && w->nbuf && pv_write_all(w->fd, w->buf, w->nbuf, "checkpoint") != PV_OK)
        w->failed = 1; /* (the message is left unread: a cache write may fail) */
    w->nbuf = 0;
}

/* n bytes into the file (hashed into the records' checksum when `hash`) */
static void w_bytes(ckpt_writer *w, const void *p, size_t n, int hash)
{
    const uint8_t *q = p;
    if (hash && w->off >= HEADER_SIZE && w->off < w->recs_end) XXH3_64bits_update(w->body, p, n);
    w->off += n;
    while (n) {
        size_t k = sizeof w->buf - w->nbuf < n ? sizeof w->buf - w->nbuf : n;
        memcpy(w->buf + w->nbuf, q, k);
        w->nbuf += k;
        q += k;
        n -= k;
        if (w->nbuf == sizeof w->buf) w_flush(w);
    }
}

static void w_put(ckpt_writer *w, const void *p, size_t n) { w_bytes(w, p, n, 1); }

/* A chunk record, hashed as records_sum reads it (hash_chunk_rec). */
static void w_chunk_rec(ckpt_writer *w, const uint8_t rec[CHUNK_REC])
{
    hash_chunk_rec(w->body, rec);
    w_bytes(w, rec, CHUNK_REC, 0);
}

static void w_pad(ckpt_writer *w)
{
    static const uint8_t zero[8];
    if (w->off % 8) w_put(w, zero, 8 - w->off % 8);
}

static void w_u64(ckpt_writer *w, uint64_t v)
{
    uint8_t b[8];
    pv_put_u64(b, v);
    w_put(w, b, 8);
}

/* Byte sizes of column c's sections, for the offsets written up front. */
static void column_sizes(const pv_vec *v, uint64_t n, uint64_t *nulls, uint64_t *data, uint64_t *bytes)
{
    uint64_t r;
    *nulls = v->nulls ? align8((size_t)n) : 0;
    *bytes = 0;
    if (v->type == PV_TEXT || v->type == PV_BLOB) {
        for (r = 0; r < n; r++) *bytes += v->nulls && v->nulls[r] ? 0 : v->u.s[r].n;
        *data = align8((size_t)((n + 1) * 8 + *bytes));
    } else {
        *data = n * 8;
    }
}

static void write_column(ckpt_writer *w, const pv_vec *v, uint64_t n)
{
    uint64_t r, at = 0;
    if (v->nulls) {
        w_put(w, v->nulls, (size_t)n);
        w_pad(w);
    }
    if (v->type != PV_TEXT && v->type != PV_BLOB) {
        w_put(w, v->u.i, (size_t)n * 8); /* little-endian host: the file's order */
        return;
    }
    w_u64(w, 0);
    for (r = 0; r < n; r++) {
        at += v->nulls && v->nulls[r] ? 0 : v->u.s[r].n;
        w_u64(w, at);
    }
    for (r = 0; r < n; r++)
        if (!(v->nulls && v->nulls[r])) w_put(w, v->u.s[r].p, v->u.s[r].n);
    w_pad(w);
}

/* The segment table: rows per segment, then every column's segment
 * checksums (ws_ckpt_seg.c). 0, or PV_ENOMEM. */
static int write_segments(ckpt_writer *w, const ws_table *t)
{
    uint64_t n = t->vec_rows, nseg = (n + WS_CKPT_SEG_ROWS - 1) / WS_CKPT_SEG_ROWS, k;
    uint64_t *sums = malloc((size_t)(nseg ? nseg : 1) * 8);
    uint8_t head[SEG_HEAD];
    uint32_t c;
    if (!sums) return PV_ENOMEM;
    memset(head, 0, sizeof head);
    pv_put_u32(head, WS_CKPT_SEG_ROWS);
    w_put(w, head, sizeof head);
    for (c = 0; c < t->schema->ncols; c++) {
        if (ws_ckpt_seg_sums_vec(&t->vecs[c], n, WS_CKPT_SEG_ROWS, sums)) {
            free(sums);
            return PV_ENOMEM;
        }
        for (k = 0; k < nseg; k++) w_u64(w, sums[k]);
    }
    free(sums);
    return PV_OK;
}

static int write_body(ckpt_writer *w, const ws_table *t, const ws_ckpt_chunk *cover, size_t ncover)
{
    uint64_t n = t->vec_rows, at, nseg = (n + WS_CKPT_SEG_ROWS - 1) / WS_CKPT_SEG_ROWS;
    uint32_t c;
    size_t i;
    w->recs_end = HEADER_SIZE + ncover * CHUNK_REC + (uint64_t)t->schema->ncols * COLUMN_REC +
                  SEG_HEAD + 8 * (uint64_t)t->schema->ncols * nseg;
    for (i = 0; i < ncover; i++) {
        uint8_t rec[CHUNK_REC];
        memset(rec, 0, sizeof rec);
        pv_put_u32(rec, cover[i].num);
        pv_put_u64(rec + 8, cover[i].size);
        if (cover[i].has_blob) {
            pv_put_u32(rec + 4, CHUNK_BLOB);
            memcpy(rec + 16, cover[i].blob, 16);
        } else {
            pv_put_u64(rec + HINT_OFF, (uint64_t)cover[i].mtime_ns);
            pv_put_u64(rec + HINT_OFF + 8, cover[i].ino);
        }
        memcpy(rec + 32, cover[i].hash, 16);
        w_chunk_rec(w, rec);
    }
    at = w->recs_end;
    for (c = 0; c < t->schema->ncols; c++) {
        uint8_t rec[COLUMN_REC];
        uint64_t nulls, data, bytes;
        column_sizes(&t->vecs[c], n, &nulls, &data, &bytes);
        memset(rec, 0, sizeof rec);
        pv_put_u32(rec, (uint32_t)t->vecs[c].type);
        pv_put_u32(rec + 4, nulls ? COL_HAS_NULLS : 0);
        pv_put_u64(rec + 8, nulls ? at : 0);
        pv_put_u64(rec + 16, at + nulls);
        pv_put_u64(rec + 24, bytes);
        w_put(w, rec, sizeof rec);
        at += nulls + data;
    }
    if (write_segments(w, t)) return PV_ENOMEM;
    for (c = 0; c < t->schema->ncols; c++) write_column(w, &t->vecs[c], n);
    return PV_OK;
}

/* A git revision's chunks replayed whole get their blob ids: the next
 * check of them reads nothing. */
static ws_ckpt_chunk *with_blob_ids(pv_ws *ws, const ws_table *t, const ws_ckpt_chunk *cover,
                                    size_t ncover)
{
    ws_ckpt_chunk *c = malloc(ncover * sizeof *c);
    size_t i;
    if (!c) return NULL;
    memcpy(c, cover, ncover * sizeof *c);
    for (i = 0; !ws->posix && i < ncover; i++) {
        char rel[PV_MAX_TABLE_NAME + 32];
        ws_chunk_rel(rel, sizeof rel, t, c[i].num);
        c[i].has_blob = i < t->snap_n && c[i].size == t->snap_size[i] &&
                        ws->rev_ckpt->blob_id(ws->rev_ckpt->ctx, rel, c[i].blob) == 0;
    }
    return c;
}

int ws_ckpt_save(pv_ws *ws, const ws_table *t, const ws_ckpt_chunk *cover_in, size_t ncover)
{
    char path[4400], tmp[4500];
    uint8_t h[HEADER_SIZE];
    ckpt_writer *w;
    ws_ckpt_chunk *cover;
    int rc;
    if (!host_little_endian() || getenv("PV_NO_LOAD_CACHE") || !ncover || t->nconflicts ||
        ckpt_path(ws, t, 1, path, sizeof path) || !(cover = with_blob_ids(ws, t, cover_in, ncover)))
        return 0;
    snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path);
    if (!(w = calloc(1, sizeof *w))) {
        free(cover);
        return 0;
    }
    if (!(w->body = XXH3_createState()) || (w->fd = mkstemp(tmp)) < 0) {
        XXH3_freeState(w->body);
        free(w);
        free(cover);
        return 0;
    }
    XXH3_64bits_reset(w->body);
    memset(h, 0, sizeof h);
    w_put(w, h, sizeof h); /* filled in below, once the body is hashed */
    if (write_body(w, t, cover, ncover)) w->failed = 1;
    w_flush(w);
    memcpy(h, CKPT_MAGIC, 8);
    pv_put_u32(h + 8, CKPT_VERSION);
    pv_put_u32(h + 12, t->schema->ncols);
    pv_put_u64(h + 16, t->vec_rows);
    pv_put_u64(h + 24, ncover);
    pv_put_u64(h + 32, ws_ckpt_schema_hash(t->schema));
    pv_put_u64(h + 40, w->off);
    pv_put_u64(h + 48, XXH3_64bits_digest(w->body));
    pv_put_u64(h + 56, XXH3_64bits(h, 56));
    if (!w->failed && pwrite(w->fd, h, sizeof h, 0) != (ssize_t)sizeof h) w->failed = 1;
    if (close(w->fd) != 0) w->failed = 1;
    if (w->failed || rename(tmp, path) != 0) {
        unlink(tmp);
        w->failed = 1;
    }
    rc = !w->failed;
    XXH3_freeState(w->body);
    free(w);
    free(cover);
    return rc;
}
