/*
 * pvdb_read.c: opening a `.pvdb` (docs/FORMAT.md part 3), and what the
 * directory alone can answer (tables, columns, chunk records, zone maps).
 *
 * pvdb_open maps the file read-only and checks the header and the whole
 * directory: every count, offset and length is checked against the file
 * size and the limits before anything uses it, in O(tables + columns +
 * chunks). After open the pvdb_file is never written again but for its
 * cold-read counter (atomic, pvdb_impl.h), so any number of threads may
 * read it at once. Column chunks are only read by scans and
 * row reads (pvdb_scan.c, pvdb_index.c), which check what they touch, and
 * by pvdb_verify (pvdb_verify.c).
 *
 * Policy: a crafted or damaged file gives PV_ECORRUPT or PV_EFORMAT with
 * the byte offset at fault, never a crash or a read outside the mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include "batch.h"
#include "encode.h"
#include "pvdb.h"
#include "pvdb_format.h"
#include "pvdb_impl.h"
#include "pvdb_secidx.h"
#include "schema.h"
#include "util.h"

#define BAD PVDB_BAD

/* The directory while it is being checked. Records may be longer than
 * this version's (a later version appends fields): bytes past the fields
 * we know are skipped, as FORMAT.md 3.4 says. */
typedef struct dir_view {
    const uint8_t *p;          /* = map + dir_off */
    uint64_t off;              /* dir_off, to report absolute offsets */
    uint32_t ntables, ncols, nchunks;
    uint32_t trec, crec, krec; /* record sizes */
    uint64_t tables_at, cols_at, chunks_at, strings_at, strings_len;
    uint32_t cols_seen, chunks_seen;
    uint64_t chunk_end;        /* end of the previous chunk in the file */
} dir_view;

/* ---- header -------------------------------------------------------------------- */

static int check_magic(const pvdb_file *f)
{
    const uint8_t *h = f->hdr;
    size_t n = f->size < PVDB_MAGIC_LEN ? f->size : PVDB_MAGIC_LEN;
    if (n == PVDB_MAGIC_LEN && memcmp(h, PVDB_MAGIC, PVDB_MAGIC_LEN) == 0) return PV_OK;
    if (n >= 5 && memcmp(h + 1, "PVDB", 4) == 0)
        return BAD(f, 0, "damaged magic number (a text-mode transfer?)");
    if (n > 0 && n < PVDB_MAGIC_LEN && memcmp(h, PVDB_MAGIC, n) == 0)
        return BAD(f, n, "file truncated inside the header");
    return pv_err(PV_EFORMAT, "%s: not a PicoVolt .pvdb file", f->path);
}

static int is_zero(const uint8_t *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (p[i]) return 0;
    return 1;
}

/* n bytes at offset `at` of the file into p. */
static int read_at(const pvdb_file *f, void *p, size_t n, uint64_t at)
{
    uint8_t *q = p;
    while (n) {
        ssize_t r = pread(f->fd, q, n, (off_t)at);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return pv_err_errno("cannot read '%s'", f->path);
        if (r == 0) return PV_CORRUPT("%s: corrupt file: truncated while reading", f->path);
        q += r;
        n -= (size_t)r;
        at += (uint64_t)r;
    }
    return PV_OK;
}

/* Directories up to this size are read with pread (no page of the mapping
 * faulted at open, cold or warm); a larger one is read from the mapping. */
#define DIR_READ_MAX (16u << 20)

/* ---- cold files (pvdb_impl.h) ---------------------------------------------------- */

/* Bytes at the end of a cold file asked for with the header: the
 * directory ends the file, so its read overlaps the header's instead of
 * following it. A directory grows with the chunks, about 1/800 of the
 * file (flights: 18 KiB of 16 MiB); a guess too short only leaves the
 * rest to the directory's own read. */
static uint64_t dir_guess(uint64_t size)
{
    uint64_t g = size / 512;
    return g < (16u << 10) ? (16u << 10) : g > (64u << 10) ? (64u << 10) : g;
}

void pvdb_cold_done(pvdb_file *f)
{
    if (__atomic_sub_fetch(&f->cold, 1, __ATOMIC_RELAXED) < 0)
        __atomic_store_n(&f->cold, 0, __ATOMIC_RELAXED);
}

uint64_t pvdb_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void pvdb_cold_probe(pvdb_file *f, uint64_t t0)
{
    if (pvdb_clock_ns() - t0 > f->slow_read_ns)
        __atomic_store_n(&f->cold, PVDB_COLD_READS, __ATOMIC_RELAXED);
}

void pvdb_advise(const pvdb_file *f, uint64_t off, uint64_t len)
{
    uint64_t pg = (uint64_t)sysconf(_SC_PAGESIZE), a, b;
    if (off >= f->size) return;
    if (len > f->size - off) len = f->size - off;
    a = off - off % pg;
    b = off + len;
    (void)madvise((void *)(uintptr_t)(f->map + a), (size_t)(b - a), MADV_WILLNEED);
}

/* Is the first page of f's mapping in the page cache? mincore says
 * without reading it. (Open asked preadv2 RWF_NOWAIT before: it starts
 * reading a missing page itself, and on a fast device found it read
 * already in a few cold opens in a thousand, which were taken as warm.) */
static int header_cached(const pvdb_file *f)
{
    unsigned char v = 1;
    if (mincore((void *)(uintptr_t)f->map, 1, &v) != 0) return 1; /* cannot say: no advice */
    return v & 1;
}

/* The header into f->hdr. When the page cache does not hold it the file
 * is cold, and the directory's likely pages are asked for before waiting
 * for the header, so that the two reads overlap. */
static int read_header(pvdb_file *f)
{
    size_t n = f->size < PVDB_HEADER_SIZE ? f->size : PVDB_HEADER_SIZE;
    uint64_t tail = dir_guess(f->size);
    /* the reads of open are exact: no read-ahead around the header */
    (void)posix_fadvise(f->fd, 0, 0, POSIX_FADV_RANDOM);
    if (!header_cached(f)) {
        f->cold = PVDB_COLD_READS;
        if (tail > f->size) tail = f->size;
        (void)posix_fadvise(f->fd, (off_t)(f->size - tail), (off_t)tail, POSIX_FADV_WILLNEED);
    }
    return read_at(f, f->hdr, n, 0);
}

static int check_header(pvdb_file *f)
{
    const uint8_t *h = f->hdr;
    uint32_t version, req;
    int rc = check_magic(f);
    if (rc) return rc;
    if (f->size < PVDB_H_VERSION + 4) return BAD(f, f->size, "file truncated inside the header");
    version = pv_get_u32(h + PVDB_H_VERSION);
    if (version == 1)
        return pv_err(PV_EFORMAT, "%s: format version 1, this reader reads version %u: "
                      "bake it again with this pvbake (re-bake)", f->path, PVDB_VERSION);
    if (version != PVDB_VERSION && version != PVDB_VERSION_INDEXES)
        return pv_err(PV_EFORMAT, "%s: format version %u, this reader reads versions %u and %u",
                      f->path, version, PVDB_VERSION, PVDB_VERSION_INDEXES);
    if (f->size < PVDB_HEADER_SIZE) return BAD(f, f->size, "file truncated inside the header");
    if (pv_get_u64(h + PVDB_H_CHECKSUM) != XXH3_64bits(h, PVDB_H_CHECKSUM))
        return BAD(f, PVDB_H_CHECKSUM, "header checksum mismatch");
    if (pv_get_u32(h + PVDB_H_HEADER_SIZE) != PVDB_HEADER_SIZE)
        return BAD(f, PVDB_H_HEADER_SIZE, "bad header size");
    req = pv_get_u32(h + PVDB_H_REQUIRED);
    if (req & ~PVDB_REQUIRED_KNOWN)
        return pv_err(PV_EFORMAT, "%s: needs format features 0x%x this reader lacks",
                      f->path, req & ~PVDB_REQUIRED_KNOWN);
    if (!is_zero(h + PVDB_H_RESERVED, PVDB_H_RESERVED_LEN))
        return BAD(f, PVDB_H_RESERVED, "reserved header bytes not zero");
    if (pv_get_u64(h + PVDB_H_FILE_SIZE) != f->size)
        return PV_CORRUPT("%s: corrupt file: %zu bytes but its header at byte offset %d "
                          "says %llu (truncated?)", f->path, f->size, PVDB_H_FILE_SIZE,
                          (unsigned long long)pv_get_u64(h + PVDB_H_FILE_SIZE));
    f->dir_off = pv_get_u64(h + PVDB_H_DIR_OFFSET);
    f->dir_len = pv_get_u64(h + PVDB_H_DIR_LENGTH);
    /* The directory ends the file; chunks lie between header and directory. */
    if (f->dir_off < PVDB_HEADER_SIZE || f->dir_off % 8 || f->dir_off > f->size)
        return BAD(f, PVDB_H_DIR_OFFSET, "directory offset out of range");
    if (f->dir_len != f->size - f->dir_off || f->dir_len < PVDB_DIR_HEADER_SIZE ||
        f->dir_len % 8)
        return BAD(f, PVDB_H_DIR_LENGTH, "bad directory length");
    if (f->dir_len <= DIR_READ_MAX) {
        f->dir = malloc((size_t)f->dir_len);
        if (!f->dir) return pv_err(PV_ENOMEM, "out of memory");
        rc = read_at(f, f->dir, (size_t)f->dir_len, f->dir_off);
        if (rc) return rc;
    }
    if (pv_get_u64(h + PVDB_H_DIR_CHECKSUM) !=
        XXH3_64bits(f->dir ? f->dir : f->map + f->dir_off, f->dir_len))
        return BAD(f, f->dir_off, "directory checksum mismatch");
    f->version = version;
    return PV_OK;
}

/* ---- directory: header and strings ------------------------------------------------ */

/* A section of `count` records of `recsz` bytes at directory offset `at`. */
static int check_section(const pvdb_file *f, const dir_view *d, int field, uint64_t at,
                         uint64_t count, uint64_t recsz)
{
    if (at < PVDB_DIR_HEADER_SIZE || at % 8 || at > f->dir_len ||
        count > (f->dir_len - at) / recsz)
        return BAD(f, d->off + (uint64_t)field, "directory section out of range");
    return PV_OK;
}

static int check_recsz(const pvdb_file *f, const dir_view *d, int field, uint32_t min)
{
    uint32_t v = pv_get_u32(d->p + field);
    if (v < min || v > PVDB_MAX_RECSZ || v % 8)
        return BAD(f, d->off + (uint64_t)field, "bad record size");
    return PV_OK;
}

static int read_dir_header(pvdb_file *f, dir_view *d)
{
    const uint8_t *p = d->p;
    int rc;
    d->ntables = pv_get_u32(p + PVDB_D_TABLE_COUNT);
    d->ncols = pv_get_u32(p + PVDB_D_COLUMN_COUNT);
    d->nchunks = pv_get_u32(p + PVDB_D_CHUNK_COUNT);
    d->trec = pv_get_u32(p + PVDB_D_TABLE_RECSZ);
    d->crec = pv_get_u32(p + PVDB_D_COLUMN_RECSZ);
    d->krec = pv_get_u32(p + PVDB_D_CHUNK_RECSZ);
    d->tables_at = pv_get_u64(p + PVDB_D_TABLES_OFF);
    d->cols_at = pv_get_u64(p + PVDB_D_COLUMNS_OFF);
    d->chunks_at = pv_get_u64(p + PVDB_D_CHUNKS_OFF);
    d->strings_at = pv_get_u64(p + PVDB_D_STRINGS_OFF);
    d->strings_len = pv_get_u64(p + PVDB_D_STRINGS_LEN);
    f->max_group_rows = pv_get_u32(p + PVDB_D_MAX_GROUP_ROWS);
    if ((rc = check_recsz(f, d, PVDB_D_TABLE_RECSZ, PVDB_TABLE_RECSZ)) ||
        (rc = check_recsz(f, d, PVDB_D_COLUMN_RECSZ, PVDB_COLUMN_RECSZ)) ||
        (rc = check_recsz(f, d, PVDB_D_CHUNK_RECSZ, PVDB_CHUNK_RECSZ)))
        return rc;
    if (d->ntables > PV_MAX_TABLES)
        return BAD(f, d->off + PVDB_D_TABLE_COUNT, "too many tables");
    if (f->max_group_rows == 0 || f->max_group_rows > PVDB_MAX_ROWS_PER_GROUP)
        return BAD(f, d->off + PVDB_D_MAX_GROUP_ROWS, "bad rows per row group");
    if (pv_get_u32(p + PVDB_D_BLOCK_ROWS) != PV_BLOCK_ROWS)
        return BAD(f, d->off + PVDB_D_BLOCK_ROWS, "bad block size");
    /* secondary indexes (version 3): checked by pvdb_secidx_open */
    if (f->version < PVDB_VERSION_INDEXES &&
        (pv_get_u32(p + PVDB_D_INDEX_COUNT) || pv_get_u32(p + PVDB_D_INDEX_RECSZ) ||
         pv_get_u64(p + PVDB_D_INDEXES_OFF)))
        return BAD(f, d->off + PVDB_D_INDEX_COUNT, "unknown secondary indexes");
    if (!is_zero(p + PVDB_D_RESERVED, PVDB_D_RESERVED_LEN))
        return BAD(f, d->off + PVDB_D_RESERVED, "reserved directory bytes not zero");
    if ((rc = check_section(f, d, PVDB_D_TABLES_OFF, d->tables_at, d->ntables, d->trec)) ||
        (rc = check_section(f, d, PVDB_D_COLUMNS_OFF, d->cols_at, d->ncols, d->crec)) ||
        (rc = check_section(f, d, PVDB_D_CHUNKS_OFF, d->chunks_at, d->nchunks, d->krec)) ||
        (rc = check_section(f, d, PVDB_D_STRINGS_OFF, d->strings_at, d->strings_len, 1)))
        return rc;
    return PV_OK;
}

/* The string a ref at directory offset `at` names, checked to lie inside
 * the string table; *out is a NUL-terminated copy in the arena. */
static int get_string(pvdb_file *f, const dir_view *d, uint64_t at, size_t max,
                      char **out, size_t *len)
{
    uint32_t o = pv_get_u32(d->p + at), n = pv_get_u32(d->p + at + 4);
    char *s;
    if (o > d->strings_len || n > d->strings_len - o || n > max)
        return BAD(f, d->off + at, "string reference out of range");
    s = pv_arena_dup(&f->arena, d->p + d->strings_at + o, n);
    if (!s) return pv_err(PV_ENOMEM, "out of memory");
    *out = s;
    if (len) *len = n;
    return PV_OK;
}

/* ---- directory: tables, columns, chunks --------------------------------------- */

/* ASCII case-insensitive order, as pv_ident_eq compares (not the locale's). */
static int ascii_casecmp(const char *x, const char *y)
{
    for (;; x++, y++) {
        int a = (unsigned char)*x, b = (unsigned char)*y;
        if (a >= 'A' && a <= 'Z') a += 'a' - 'A';
        if (b >= 'A' && b <= 'Z') b += 'a' - 'A';
        if (a != b || a == 0) return a - b;
    }
}

static int cmp_names(const void *a, const void *b)
{
    return ascii_casecmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names must be unique, ASCII case-insensitively (how SQL finds them).
 * Sorting keeps this O(n log n) rather than comparing every pair. */
static int names_unique(const char **names, size_t n)
{
    size_t i;
    qsort(names, n, sizeof *names, cmp_names);
    for (i = 1; i < n; i++)
        if (ascii_casecmp(names[i - 1], names[i]) == 0) return 0;
    return 1;
}

static int read_column(pvdb_file *f, const dir_view *d, uint32_t idx, pv_schema *s,
                       uint32_t npk, uint32_t *pk)
{
    uint64_t at = d->cols_at + (uint64_t)idx * d->crec;
    const uint8_t *r = d->p + at;
    pv_column *c = &s->cols[s->ncols];
    size_t len;
    uint16_t pos = pv_get_u16(r + PVDB_C_PK_POS);
    int rc = get_string(f, d, at + PVDB_C_NAME, PV_MAX_COLUMN_NAME, &c->name, &len);
    if (rc) return rc;
    if (!pv_column_name_ok(c->name, len)) return BAD(f, d->off + at, "bad column name");
    c->type = r[PVDB_C_TYPE];
    if (c->type < PV_INTEGER || c->type > PV_BOOLEAN)
        return BAD(f, d->off + at + PVDB_C_TYPE, "bad column type");
    if (r[PVDB_C_FLAGS] & ~PVDB_COL_KNOWN)
        return BAD(f, d->off + at + PVDB_C_FLAGS, "unknown column flags");
    c->not_null = (r[PVDB_C_FLAGS] & PVDB_COL_NOT_NULL) != 0;
    c->hidden = (r[PVDB_C_FLAGS] & PVDB_COL_HIDDEN) != 0;
    /* hidden is the generated key alone: TEXT, the whole primary key */
    if (c->hidden && (strcmp(c->name, PV_HIDDEN_KEY_NAME) != 0 || c->type != PV_TEXT || pos != 0 ||
                      npk != 1))
        return BAD(f, d->off + at + PVDB_C_FLAGS, "hidden column that is not the generated key "
                                                  PV_HIDDEN_KEY_NAME);
    c->pk_pos = -1;
    if (pos != PVDB_NO_PK) {
        if (pos >= npk || pk[pos] != UINT32_MAX || !c->not_null)
            return BAD(f, d->off + at + PVDB_C_PK_POS, "bad primary key position");
        pk[pos] = s->ncols;
        c->pk_pos = pos;
    }
    if (!is_zero(r + PVDB_C_RESERVED, 4))
        return BAD(f, d->off + at + PVDB_C_RESERVED, "reserved column bytes not zero");
    s->ncols++;
    return PV_OK;
}

static int read_columns(pvdb_file *f, dir_view *d, pvdb_table *t, uint32_t ncols,
                        uint32_t npk, uint64_t tat)
{
    pv_schema *s = &t->schema;
    const char **names = NULL;
    uint32_t i;
    int rc = PV_OK;
    s->cols = pv_arena_alloc(&f->arena, ncols * sizeof *s->cols);
    s->pk = pv_arena_alloc(&f->arena, npk * sizeof *s->pk);
    names = malloc(ncols * sizeof *names);
    if (!s->cols || !s->pk || !names) {
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto done;
    }
    memset(s->cols, 0, ncols * sizeof *s->cols);
    for (i = 0; i < npk; i++) s->pk[i] = UINT32_MAX;
    for (i = 0; i < ncols && rc == PV_OK; i++)
        rc = read_column(f, d, d->cols_seen + i, s, npk, s->pk);
    if (rc) goto done;
    s->npk = npk;
    for (i = 0; i < npk; i++)
        if (s->pk[i] == UINT32_MAX) {
            rc = BAD(f, d->off + tat + PVDB_T_PK_COUNT, "primary key column missing");
            goto done;
        }
    if (ncols == 1 && s->cols[0].hidden) { /* SELECT * would read no column */
        rc = BAD(f, d->off + d->cols_at + (uint64_t)d->cols_seen * d->crec + PVDB_C_FLAGS,
                 "a table whose one column is the hidden " PV_HIDDEN_KEY_NAME);
        goto done;
    }
    for (i = 0; i < ncols; i++) names[i] = s->cols[i].name;
    if (!names_unique(names, ncols))
        rc = BAD(f, d->off + d->cols_at + (uint64_t)d->cols_seen * d->crec,
                 "duplicate column name");
    d->cols_seen += ncols;
done:
    free(names);
    return rc;
}

/* A zone map's min <= max where the order is known. */
static int zone_ordered(int type, const pvdb_chunk *k)
{
    if (!(k->zflags & PVDB_ZONE_MINMAX)) return 1;
    switch (type) {
    case PV_REAL: return pv_get_f64(k->zmin) <= pv_get_f64(k->zmax);
    case PV_TEXT:
    case PV_BLOB: return memcmp(k->zmin, k->zmax, 8) <= 0;
    default: return (int64_t)pv_get_u64(k->zmin) <= (int64_t)pv_get_u64(k->zmax);
    }
}

static int check_chunk_fields(const pvdb_file *f, const dir_view *d, uint64_t at,
                              const pvdb_chunk *k, const pv_column *col, uint32_t rows)
{
    const uint8_t *r = d->p + at;
    const pv_encoder *enc = pv_encoder_get(k->enc);
    uint64_t abs = d->off + at;
    uint64_t bm = k->nulls ? pvdb_bitmap_len(k->rows) : 0;
    if (k->off % 8 || k->off < d->chunk_end || k->off > f->dir_off ||
        k->len > f->dir_off - k->off)
        return BAD(f, abs + PVDB_K_OFFSET, "column chunk out of range or out of order");
    if (k->rows == 0 || k->rows > f->max_group_rows || (rows && k->rows != rows))
        return BAD(f, abs + PVDB_K_ROW_COUNT, "bad chunk row count");
    if (k->nulls > k->rows || (col->not_null && k->nulls))
        return BAD(f, abs + PVDB_K_NULL_COUNT, "bad chunk null count");
    if (!enc || !(enc->types & (1u << col->type)))
        return BAD(f, abs + PVDB_K_ENCODING, "unknown encoding, or not one for the column type");
    if ((k->zflags & ~PVDB_ZONE_KNOWN) || ((k->zflags & PVDB_ZONE_NAN) && col->type != PV_REAL) ||
        !zone_ordered(col->type, k))
        return BAD(f, abs + PVDB_K_ZONE_FLAGS, "bad zone map");
    if (!is_zero(r + PVDB_K_RESERVED, 6))
        return BAD(f, abs + PVDB_K_RESERVED, "reserved chunk bytes not zero");
    if (k->len <= bm || k->len > PVDB_MAX_CHUNK_LEN)
        return BAD(f, abs + PVDB_K_LENGTH, "bad chunk length");
    return PV_OK;
}

static int read_chunk(pvdb_file *f, dir_view *d, uint32_t idx, const pv_column *col,
                      uint32_t rows)
{
    uint64_t at = d->chunks_at + (uint64_t)idx * d->krec;
    const uint8_t *r = d->p + at;
    pvdb_chunk *k = &f->chunks[idx];
    int rc;
    k->off = pv_get_u64(r + PVDB_K_OFFSET);
    k->len = pv_get_u64(r + PVDB_K_LENGTH);
    k->rows = pv_get_u32(r + PVDB_K_ROW_COUNT);
    k->nulls = pv_get_u32(r + PVDB_K_NULL_COUNT);
    k->enc = r[PVDB_K_ENCODING];
    k->zflags = r[PVDB_K_ZONE_FLAGS];
    k->checksum = pv_get_u64(r + PVDB_K_CHECKSUM);
    memcpy(k->zmin, r + PVDB_K_MIN, 8);
    memcpy(k->zmax, r + PVDB_K_MAX, 8);
    k->plain = pv_get_u64(r + PVDB_K_PLAIN_LEN);
    rc = check_chunk_fields(f, d, at, k, col, rows);
    if (rc) return rc;
    d->chunk_end = k->off + k->len;
    return PV_OK;
}

/* pvdb_table.kzmin, kzmax: the zone bounds of an INTEGER first key
 * column, as the key search compares them (the raw 8 bytes, whatever the
 * flags say), in O(groups). */
static int key_zones(pvdb_file *f, pvdb_table *t)
{
    uint32_t g, c0 = t->schema.pk[0];
    t->kzmin = t->kzmax = NULL;
    t->kzscale = 0;
    if (t->schema.cols[c0].type != PV_INTEGER || t->ngroups == 0) return PV_OK;
    t->kzmin = pv_arena_alloc(&f->arena, 2 * (size_t)t->ngroups * sizeof *t->kzmin);
    if (!t->kzmin) return pv_err(PV_ENOMEM, "out of memory");
    t->kzmax = t->kzmin + t->ngroups;
    for (g = 0; g < t->ngroups; g++) {
        const pvdb_chunk *k = pvdb_chunk_at(t, g, c0);
        t->kzmin[g] = (int64_t)pv_get_u64(k->zmin);
        t->kzmax[g] = (int64_t)pv_get_u64(k->zmax);
    }
    /* (in doubles: the span of two int64 may not fit one; a crafted file's
     * bounds out of order give a scale of 0, so every guess is group 0) */
    if (t->kzmax[t->ngroups - 1] > t->kzmin[0])
        t->kzscale = (double)t->ngroups /
                     ((double)t->kzmax[t->ngroups - 1] - (double)t->kzmin[0] + 1.0);
    return PV_OK;
}

/* The chunks of a table, group by group; the first column's row count is
 * the group's, the others must agree, and the groups must add up. */
static int read_chunks(pvdb_file *f, dir_view *d, pvdb_table *t, uint64_t tat)
{
    uint32_t g, c;
    uint64_t first = 0;
    int rc;
    t->chunks = f->chunks + d->chunks_seen;
    t->gfirst = pv_arena_alloc(&f->arena, ((size_t)t->ngroups + 1) * sizeof *t->gfirst);
    if (!t->gfirst) return pv_err(PV_ENOMEM, "out of memory");
    t->rpg = 0;
    for (g = 0; g < t->ngroups; g++) {
        uint32_t rows = 0;
        t->gfirst[g] = first;
        for (c = 0; c < t->schema.ncols; c++) {
            rc = read_chunk(f, d, d->chunks_seen++, &t->schema.cols[c], rows);
            if (rc) return rc;
            rows = f->chunks[d->chunks_seen - 1].rows;
        }
        first += rows;
        if (first > t->nrows)
            return BAD(f, d->off + tat + PVDB_T_ROW_COUNT, "row groups hold more rows than the table");
        /* every group but the last of the same size: row -> group is a division */
        if (g == 0) t->rpg = rows;
        else if (g + 1 < t->ngroups && rows != t->rpg) t->rpg = 0;
        else if (g + 1 == t->ngroups && rows > t->rpg) t->rpg = 0;
    }
    t->gfirst[t->ngroups] = first;
    if (first != t->nrows)
        return BAD(f, d->off + tat + PVDB_T_ROW_COUNT, "row groups do not add up to the row count");
    return key_zones(f, t);
}

/* Counts of a table record, checked against the directory totals. */
static int check_table_counts(const pvdb_file *f, const dir_view *d, uint64_t at,
                              const pvdb_table *t, uint32_t ncols, uint32_t npk)
{
    const uint8_t *r = d->p + at;
    uint64_t abs = d->off + at;
    if (pv_get_u32(r + PVDB_T_FIRST_COLUMN) != d->cols_seen || ncols == 0 ||
        ncols > PV_MAX_COLUMNS || ncols > d->ncols - d->cols_seen)
        return BAD(f, abs + PVDB_T_FIRST_COLUMN, "bad table columns");
    if (npk == 0 || npk > ncols) return BAD(f, abs + PVDB_T_PK_COUNT, "bad primary key count");
    if ((t->nrows == 0) != (t->ngroups == 0) || t->ngroups > t->nrows)
        return BAD(f, abs + PVDB_T_GROUP_COUNT, "bad row group count");
    if (pv_get_u32(r + PVDB_T_FIRST_CHUNK) != d->chunks_seen ||
        (uint64_t)t->ngroups * ncols > d->nchunks - d->chunks_seen)
        return BAD(f, abs + PVDB_T_FIRST_CHUNK, "bad table chunks");
    if (!is_zero(r + PVDB_T_RESERVED, PVDB_T_RESERVED_LEN))
        return BAD(f, abs + PVDB_T_RESERVED, "reserved table bytes not zero");
    return PV_OK;
}

static int read_table(pvdb_file *f, dir_view *d, uint32_t i)
{
    uint64_t at = d->tables_at + (uint64_t)i * d->trec;
    const uint8_t *r = d->p + at;
    pvdb_table *t = &f->tables[i];
    uint32_t ncols = pv_get_u32(r + PVDB_T_COLUMN_COUNT);
    uint32_t npk = pv_get_u32(r + PVDB_T_PK_COUNT);
    size_t len;
    int rc;
    t->file = f;
    t->nrows = pv_get_u64(r + PVDB_T_ROW_COUNT);
    t->ngroups = pv_get_u32(r + PVDB_T_GROUP_COUNT);
    rc = get_string(f, d, at + PVDB_T_NAME, PV_MAX_TABLE_NAME, &t->schema.name, &len);
    if (rc) return rc;
    if (!pv_table_name_ok(t->schema.name, len)) return BAD(f, d->off + at, "bad table name");
    rc = check_table_counts(f, d, at, t, ncols, npk);
    if (rc == PV_OK) rc = read_columns(f, d, t, ncols, npk, at);
    if (rc == PV_OK) rc = read_chunks(f, d, t, at);
    return rc;
}

static int read_tables(pvdb_file *f, dir_view *d)
{
    const char **names = NULL;
    uint32_t i;
    int rc = PV_OK;
    f->tables = pv_arena_alloc(&f->arena, (d->ntables ? d->ntables : 1) * sizeof *f->tables);
    f->chunks = malloc((d->nchunks ? d->nchunks : 1) * sizeof *f->chunks);
    names = malloc((d->ntables ? d->ntables : 1) * sizeof *names);
    if (!f->tables || !f->chunks || !names) {
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto done;
    }
    memset(f->tables, 0, (d->ntables ? d->ntables : 1) * sizeof *f->tables);
    f->nchunks = d->nchunks;
    d->chunk_end = PVDB_HEADER_SIZE;
    for (i = 0; i < d->ntables && rc == PV_OK; i++) rc = read_table(f, d, i);
    if (rc) goto done;
    f->ntables = d->ntables;
    if (d->cols_seen != d->ncols || d->chunks_seen != d->nchunks) {
        rc = BAD(f, d->off + PVDB_D_COLUMN_COUNT, "column or chunk count mismatch");
        goto done;
    }
    for (i = 0; i < d->ntables; i++) names[i] = f->tables[i].schema.name;
    if (!names_unique(names, d->ntables))
        rc = BAD(f, d->off + d->tables_at, "duplicate table name");
done:
    free(names);
    return rc;
}

static int read_directory(pvdb_file *f)
{
    dir_view d;
    int rc;
    memset(&d, 0, sizeof d);
    d.p = f->dir ? f->dir : f->map + f->dir_off;
    d.off = f->dir_off;
    rc = read_dir_header(f, &d);
    if (rc == PV_OK) rc = get_string(f, &d, PVDB_D_SOURCE, PVDB_MAX_PROVENANCE, &f->source, NULL);
    if (rc == PV_OK) rc = get_string(f, &d, PVDB_D_TOOL, PVDB_MAX_PROVENANCE, &f->tool, NULL);
    if (rc == PV_OK) rc = read_tables(f, &d);
    if (rc == PV_OK) rc = pvdb_secidx_open(f, d.p, d.strings_at, d.strings_len);
    return rc;
}

/* ---- open / close --------------------------------------------------------------- */

static int map_file(pvdb_file *f)
{
    struct stat st;
    void *m;
    int rc = PV_OK, fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return pv_err_errno("cannot open '%s'", f->path);
    if (fstat(fd, &st) != 0) {
        rc = pv_err_errno("cannot stat '%s'", f->path);
    } else if (!S_ISREG(st.st_mode)) {
        rc = pv_err(PV_EFORMAT, "%s: not a regular file", f->path);
    } else if ((uint64_t)st.st_size > SIZE_MAX) {
        rc = pv_err(PV_ELIMIT, "%s: too large to map", f->path);
    } else if (st.st_size == 0) {
        rc = pv_err(PV_EFORMAT, "%s: empty file, not a PicoVolt .pvdb file", f->path);
    } else {
        f->size = (size_t)st.st_size;
        f->dev = (uint64_t)st.st_dev;
        f->ino = (uint64_t)st.st_ino;
        f->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
        m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) {
            rc = pv_err_errno("cannot map '%s'", f->path);
        } else {
            f->map = m;
            /* point reads touch a few pages anywhere: no read-ahead of
             * megabytes per fault (scans ask for their chunks themselves) */
            (void)madvise(m, f->size, MADV_RANDOM);
        }
    }
    f->fd = fd; /* closed by pvdb_open */
    if (rc == PV_OK) rc = read_header(f);
    return rc;
}

int pvdb_open(const char *path, pvdb_file **out)
{
    pvdb_file *f;
    int rc;
    if (!out || !path) return pv_err(PV_EMISUSE, "pvdb_open: NULL argument");
    *out = NULL;
    f = calloc(1, sizeof *f);
    if (!f) return pv_err(PV_ENOMEM, "out of memory");
    f->path = strdup(path);
    if (!f->path) {
        free(f);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    f->fd = -1;
    f->gen = pvdb_next_gen();
    f->slow_read_ns = PVDB_SLOW_READ_NS;
    rc = map_file(f);
    if (rc == PV_OK) rc = check_header(f);
    if (rc == PV_OK) rc = read_directory(f);
    if (f->fd >= 0) close(f->fd);
    f->fd = -1;
    free(f->dir);
    f->dir = NULL;
    if (rc) {
        pvdb_close(f);
        return rc;
    }
    *out = f;
    return PV_OK;
}

void pvdb_close(pvdb_file *f)
{
    if (!f) return;
    pvdb_scan_spares_free(f);
    if (f->map) munmap((void *)(uintptr_t)f->map, f->size);
    pv_arena_free(&f->arena);
    free(f->chunks);
    free(f->path);
    free(f);
}

/* ---- getters ------------------------------------------------------------------- */

uint32_t pvdb_table_count(const pvdb_file *f) { return f->ntables; }
const char *pvdb_source(const pvdb_file *f) { return f->source; }
const char *pvdb_tool(const pvdb_file *f) { return f->tool; }
uint32_t pvdb_format_version(const pvdb_file *f) { return f->version; }
uint64_t pvdb_file_size(const pvdb_file *f) { return f->size; }

int pvdb_table_index(const pvdb_file *f, const char *name, size_t len)
{
    uint32_t i;
    for (i = 0; i < f->ntables; i++) {
        const char *n = f->tables[i].schema.name;
        if (pv_ident_eq(n, strlen(n), name, len)) return (int)i;
    }
    return -1;
}

uint32_t pvdb_group_count(const pvdb_file *f, uint32_t table)
{
    return table < f->ntables ? f->tables[table].ngroups : 0;
}

uint32_t pvdb_group_of(const pvdb_table *t, uint64_t row)
{
    uint32_t lo = 0, hi = t->ngroups;
    if (t->rpg) {
        uint64_t g = row / t->rpg;
        return (uint32_t)(g < t->ngroups ? g : t->ngroups - 1);
    }
    while (hi - lo > 1) { /* last group whose first row <= row */
        uint32_t mid = lo + (hi - lo) / 2;
        if (t->gfirst[mid] <= row) lo = mid;
        else hi = mid;
    }
    return lo;
}

void pvdb_zone_values(const pvdb_table *t, uint32_t c, const pvdb_chunk *k, pv_value *min,
                      pv_value *max)
{
    int type = t->schema.cols[c].type;
    if (pv_enc_is_str(type)) {
        *min = type == PV_TEXT ? pv_v_text((const char *)k->zmin, 8)
                               : pv_v_blob(k->zmin, 8);
        *max = type == PV_TEXT ? pv_v_text((const char *)k->zmax, 8)
                               : pv_v_blob(k->zmax, 8);
        return;
    }
    *min = pv_enc_num_value(type, pv_get_u64(k->zmin));
    *max = pv_enc_num_value(type, pv_get_u64(k->zmax));
}

int pvdb_chunk_info_get(const pvdb_file *f, uint32_t table, uint32_t group, uint32_t col,
                        pvdb_chunk_info *out)
{
    const pvdb_table *t;
    const pvdb_chunk *k;
    if (table >= f->ntables) return pv_err(PV_ERANGE, "no table %u", table);
    t = &f->tables[table];
    if (col >= t->schema.ncols || group >= t->ngroups)
        return pv_err(PV_ERANGE, "table %s: no column %u or row group %u", t->schema.name,
                      col, group);
    k = pvdb_chunk_at(t, group, col);
    memset(out, 0, sizeof *out);
    out->first_row = t->gfirst[group];
    out->rows = k->rows;
    out->nulls = k->nulls;
    out->encoding = k->enc;
    out->encoding_name = pv_encoder_get(k->enc)->name;
    out->has_minmax = (k->zflags & PVDB_ZONE_MINMAX) != 0;
    out->has_nan = (k->zflags & PVDB_ZONE_NAN) != 0;
    if (out->has_minmax) pvdb_zone_values(t, col, k, &out->min, &out->max);
    else out->min = out->max = pv_v_null();
    out->offset = k->off;
    out->length = k->len;
    out->plain_length = k->plain;
    out->checksum = k->checksum;
    return PV_OK;
}

/* a < b as zone values of one column type */
static int zone_less(int type, pv_value a, pv_value b)
{
    if (pv_enc_is_str(type)) return memcmp(a.u.s.p, b.u.s.p, 8) < 0;
    if (type == PV_REAL) return a.u.f < b.u.f;
    return a.u.i < b.u.i;
}

int pvdb_column_info_get(const pvdb_file *f, uint32_t table, uint32_t col,
                         pvdb_column_info *out)
{
    const pvdb_table *t;
    uint32_t g;
    if (table >= f->ntables) return pv_err(PV_ERANGE, "no table %u", table);
    t = &f->tables[table];
    if (col >= t->schema.ncols)
        return pv_err(PV_ERANGE, "table %s: no column %u", t->schema.name, col);
    memset(out, 0, sizeof *out);
    out->name = t->schema.cols[col].name;
    out->type = t->schema.cols[col].type;
    out->encoding = "none";
    out->min = out->max = pv_v_null();
    for (g = 0; g < t->ngroups; g++) {
        const pvdb_chunk *k = pvdb_chunk_at(t, g, col);
        const char *name = pv_encoder_get(k->enc)->name;
        if (g == 0) out->encoding = name;
        else if (strcmp(out->encoding, name) != 0) out->encoding = "mixed";
        if (k->enc < 8) out->enc_chunks[k->enc]++;
        out->chunks++;
        out->compressed += k->enc == PV_ENC_ZSTR;
        out->raw_bytes += k->plain;
        out->stored_bytes += k->len;
        out->null_count += k->nulls;
        out->has_nan |= (k->zflags & PVDB_ZONE_NAN) != 0;
        if (k->zflags & PVDB_ZONE_MINMAX) {
            pv_value mn, mx;
            pvdb_zone_values(t, col, k, &mn, &mx);
            if (!out->has_minmax || zone_less(out->type, mn, out->min)) out->min = mn;
            if (!out->has_minmax || zone_less(out->type, out->max, mx)) out->max = mx;
            out->has_minmax = 1;
        }
    }
    return PV_OK;
}
