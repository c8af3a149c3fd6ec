/*
 * pvdb_read.c: the `.pvdb` reader (docs/FORMAT.md part 3).
 *
 * pvdb_open maps the file read-only and checks the header and the whole
 * directory: every count, offset and length is checked against the file
 * size and the limits before anything uses it, in O(tables + columns +
 * chunks). After open the pvdb_file is never written again, so any number
 * of threads may scan it at once. Column chunks are only read by scans
 * (which check a chunk's checksum and structure when they first decode it)
 * and by pvdb_verify.
 *
 * Policy: a crafted or damaged file gives PV_ECORRUPT or PV_EFORMAT with
 * the byte offset at fault, never a crash or a read outside the mapping.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include "batch.h"
#include "encode.h"
#include "pvdb.h"
#include "pvdb_format.h"
#include "schema.h"
#include "util.h"

/* A corrupt file: the message names the file, what and the byte offset. */
#define BAD(f, at, what)                                                     \
    PV_CORRUPT("%s: corrupt file: %s at byte offset %llu", (f)->path, (what), \
               (unsigned long long)(at))

/* zstd emits at most 128 KiB per block of at least 4 bytes, so a frame
 * never grows more than ~32768 times; a chunk claiming more is crafted and
 * we refuse before allocating its raw size. */
#define ZSTD_MAX_RATIO 65536u

typedef struct pvdb_chunk {
    uint64_t off, stored, raw, checksum;
    uint32_t rows, nulls;
    uint8_t enc, comp;
} pvdb_chunk;

typedef struct pvdb_table {
    pvdb_file *file;
    pv_schema schema;          /* names, columns and key in the file's arena */
    uint64_t nrows;
    uint32_t ngroups;
    const pvdb_chunk *chunks;  /* ngroups * ncols, row group by row group */
} pvdb_table;

struct pvdb_file {
    char *path;
    const uint8_t *map;
    size_t size;
    uint64_t dir_off, dir_len;
    uint32_t rpg;              /* rows per row group */
    uint32_t ntables;
    pvdb_table *tables;
    uint32_t nchunks;
    pvdb_chunk *chunks;
    char *source, *tool;       /* provenance, in the arena */
    pv_arena arena;
};

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
    const uint8_t *h = f->map;
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

static int check_header(pvdb_file *f)
{
    const uint8_t *h = f->map;
    uint32_t version, req;
    int rc = check_magic(f);
    if (rc) return rc;
    if (f->size < PVDB_H_VERSION + 4) return BAD(f, f->size, "file truncated inside the header");
    version = pv_get_u32(h + PVDB_H_VERSION);
    if (version != PVDB_VERSION)
        return pv_err(PV_EFORMAT, "%s: format version %u, this reader reads version %u",
                      f->path, version, PVDB_VERSION);
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
    if (pv_get_u64(h + PVDB_H_DIR_CHECKSUM) != XXH3_64bits(f->map + f->dir_off, f->dir_len))
        return BAD(f, f->dir_off, "directory checksum mismatch");
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
    f->rpg = pv_get_u32(p + PVDB_D_ROWS_PER_GROUP);
    if ((rc = check_recsz(f, d, PVDB_D_TABLE_RECSZ, PVDB_TABLE_RECSZ)) ||
        (rc = check_recsz(f, d, PVDB_D_COLUMN_RECSZ, PVDB_COLUMN_RECSZ)) ||
        (rc = check_recsz(f, d, PVDB_D_CHUNK_RECSZ, PVDB_CHUNK_RECSZ)))
        return rc;
    if (d->ntables > PV_MAX_TABLES)
        return BAD(f, d->off + PVDB_D_TABLE_COUNT, "too many tables");
    if (f->rpg == 0 || f->rpg > PVDB_MAX_ROWS_PER_GROUP)
        return BAD(f, d->off + PVDB_D_ROWS_PER_GROUP, "bad rows per row group");
    if (pv_get_u32(p + PVDB_D_RESERVED0) || pv_get_u64(p + PVDB_D_RESERVED1))
        return BAD(f, d->off + PVDB_D_RESERVED0, "reserved directory bytes not zero");
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
    for (i = 0; i < ncols; i++) names[i] = s->cols[i].name;
    if (!names_unique(names, ncols))
        rc = BAD(f, d->off + d->cols_at + (uint64_t)d->cols_seen * d->crec,
                 "duplicate column name");
    d->cols_seen += ncols;
done:
    free(names);
    return rc;
}

/* Rows of row group g of a table. */
static uint32_t group_rows(const pvdb_file *f, uint64_t nrows, uint32_t g)
{
    uint64_t first = (uint64_t)g * f->rpg;
    return (uint32_t)(nrows - first < f->rpg ? nrows - first : f->rpg);
}

static int check_chunk_fields(const pvdb_file *f, const dir_view *d, uint64_t at,
                              const pvdb_chunk *k, const pv_column *col, uint32_t rows)
{
    const uint8_t *r = d->p + at;
    uint64_t abs = d->off + at;
    uint64_t bm = k->nulls ? pvdb_bitmap_len(k->rows) : 0;
    if (k->off % 8 || k->off < d->chunk_end || k->off > f->dir_off ||
        k->stored > f->dir_off - k->off)
        return BAD(f, abs + PVDB_K_OFFSET, "column chunk out of range or out of order");
    if (k->rows != rows) return BAD(f, abs + PVDB_K_ROW_COUNT, "bad chunk row count");
    if (k->nulls > k->rows || (col->not_null && k->nulls))
        return BAD(f, abs + PVDB_K_NULL_COUNT, "bad chunk null count");
    if (k->enc >= PV_ENC_COUNT) return BAD(f, abs + PVDB_K_ENCODING, "unknown encoding");
    if (k->comp > PVDB_COMP_ZSTD) return BAD(f, abs + PVDB_K_COMPRESSION, "unknown compression");
    if (!is_zero(r + PVDB_K_RESERVED0, 6) || !is_zero(r + PVDB_K_ZONE, PVDB_K_ZONE_LEN))
        return BAD(f, abs + PVDB_K_RESERVED0, "reserved chunk bytes not zero");
    /* Every chunk holds at least one row, so at least a few bytes. */
    if (k->raw == 0 || k->raw > PVDB_MAX_CHUNK_RAW || k->raw < bm ||
        (k->comp == PVDB_COMP_NONE && k->raw != k->stored) ||
        (k->comp == PVDB_COMP_ZSTD && (k->stored == 0 || k->raw / ZSTD_MAX_RATIO > k->stored)))
        return BAD(f, abs + PVDB_K_RAW_LEN, "bad chunk length");
    /* Fixed-width plain chunks have a known size: check it here already. */
    if (k->enc == PV_ENC_PLAIN && !pv_enc_is_str(col->type) && k->raw != bm + 8 * (uint64_t)rows)
        return BAD(f, abs + PVDB_K_RAW_LEN, "bad chunk length");
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
    k->stored = pv_get_u64(r + PVDB_K_STORED_LEN);
    k->raw = pv_get_u64(r + PVDB_K_RAW_LEN);
    k->rows = pv_get_u32(r + PVDB_K_ROW_COUNT);
    k->nulls = pv_get_u32(r + PVDB_K_NULL_COUNT);
    k->enc = r[PVDB_K_ENCODING];
    k->comp = r[PVDB_K_COMPRESSION];
    k->checksum = pv_get_u64(r + PVDB_K_CHECKSUM);
    rc = check_chunk_fields(f, d, at, k, col, rows);
    if (rc) return rc;
    d->chunk_end = k->off + k->stored;
    return PV_OK;
}

static int read_chunks(pvdb_file *f, dir_view *d, pvdb_table *t)
{
    uint32_t g, c;
    int rc;
    t->chunks = f->chunks + d->chunks_seen;
    for (g = 0; g < t->ngroups; g++) {
        uint32_t rows = group_rows(f, t->nrows, g);
        for (c = 0; c < t->schema.ncols; c++) {
            rc = read_chunk(f, d, d->chunks_seen++, &t->schema.cols[c], rows);
            if (rc) return rc;
        }
    }
    return PV_OK;
}

/* Counts of a table record, checked against the directory totals. */
static int check_table_counts(const pvdb_file *f, const dir_view *d, uint64_t at,
                              const pvdb_table *t, uint32_t ncols, uint32_t npk)
{
    const uint8_t *r = d->p + at;
    uint64_t abs = d->off + at;
    uint64_t groups = t->nrows / f->rpg + (t->nrows % f->rpg != 0);
    if (pv_get_u32(r + PVDB_T_FIRST_COLUMN) != d->cols_seen || ncols == 0 ||
        ncols > PV_MAX_COLUMNS || ncols > d->ncols - d->cols_seen)
        return BAD(f, abs + PVDB_T_FIRST_COLUMN, "bad table columns");
    if (npk == 0 || npk > ncols) return BAD(f, abs + PVDB_T_PK_COUNT, "bad primary key count");
    if (t->ngroups != groups) return BAD(f, abs + PVDB_T_GROUP_COUNT, "bad row group count");
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
    if (rc == PV_OK) rc = read_chunks(f, d, t);
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
    d.p = f->map + f->dir_off;
    d.off = f->dir_off;
    rc = read_dir_header(f, &d);
    if (rc == PV_OK) rc = get_string(f, &d, PVDB_D_SOURCE, PVDB_MAX_PROVENANCE, &f->source, NULL);
    if (rc == PV_OK) rc = get_string(f, &d, PVDB_D_TOOL, PVDB_MAX_PROVENANCE, &f->tool, NULL);
    if (rc == PV_OK) rc = read_tables(f, &d);
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
        m = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m == MAP_FAILED) rc = pv_err_errno("cannot map '%s'", f->path);
        else f->map = m;
    }
    close(fd);
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
    rc = map_file(f);
    if (rc == PV_OK) rc = check_header(f);
    if (rc == PV_OK) rc = read_directory(f);
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
uint32_t pvdb_format_version(const pvdb_file *f) { return pv_get_u32(f->map + PVDB_H_VERSION); }
uint64_t pvdb_file_size(const pvdb_file *f) { return f->size; }

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
    for (g = 0; g < t->ngroups; g++) {
        const pvdb_chunk *k = &t->chunks[(size_t)g * t->schema.ncols + col];
        const char *name = pv_encoder_get(k->enc)->name;
        if (g == 0) out->encoding = name;
        else if (strcmp(out->encoding, name) != 0) out->encoding = "mixed";
        out->chunks++;
        out->compressed += k->comp != PVDB_COMP_NONE;
        out->raw_bytes += k->raw;
        out->stored_bytes += k->stored;
        out->null_count += k->nulls;
    }
    return PV_OK;
}

/* ---- chunk loading (scans and verify) --------------------------------------------- */

/* One column chunk, decoded enough to read any row range of it. */
typedef struct chunk_state {
    const pvdb_chunk *k;     /* loaded chunk, NULL if none */
    const uint8_t *bitmap;   /* NULL when the chunk has no NULLs */
    pv_dec dec;
    uint8_t *raw;            /* decompressed bytes (owned) */
    size_t raw_cap;
} chunk_state;

#define BAD_CHUNK(f, t, c, g, k, what)                                                  \
    PV_CORRUPT("%s: corrupt column chunk at byte offset %llu (table %s, column %s, "    \
               "row group %u): %s", (f)->path, (unsigned long long)(k)->off,            \
               (t)->schema.name, (t)->schema.cols[c].name, (g), (what))

static int decompress(const pvdb_file *f, const pvdb_chunk *k, chunk_state *cs,
                      ZSTD_DCtx **dctx, const char **why)
{
    size_t n;
    if (k->raw > cs->raw_cap) {
        uint8_t *p = realloc(cs->raw, (size_t)k->raw);
        if (!p) return pv_err(PV_ENOMEM, "out of memory (%llu bytes for a chunk)",
                              (unsigned long long)k->raw);
        cs->raw = p;
        cs->raw_cap = (size_t)k->raw;
    }
    if (!*dctx && !(*dctx = ZSTD_createDCtx())) return pv_err(PV_ENOMEM, "out of memory");
    n = ZSTD_decompressDCtx(*dctx, cs->raw, (size_t)k->raw, f->map + k->off, (size_t)k->stored);
    if (ZSTD_isError(n)) {
        *why = ZSTD_getErrorName(n);
        return 1;
    }
    if (n != k->raw) {
        *why = "decompressed size does not match the chunk record";
        return 1;
    }
    return 0;
}

/* The null bitmap holds exactly k->nulls set bits, none past the last row,
 * and zero padding. */
static int check_bitmap(const uint8_t *bm, const pvdb_chunk *k)
{
    uint64_t len = pvdb_bitmap_len(k->rows), used = ((uint64_t)k->rows + 7) / 8, i;
    uint64_t count = 0;
    for (i = 0; i < used; i++) count += (uint64_t)__builtin_popcount(bm[i]);
    if (k->rows % 8 && (bm[used - 1] >> (k->rows % 8))) return 1;
    for (i = used; i < len; i++)
        if (bm[i]) return 1;
    return count != k->nulls;
}

/* Load chunk (g, c) of table t into cs: checksum, decompress, check. */
static int load_chunk(const pvdb_table *t, uint32_t g, uint32_t c, chunk_state *cs,
                      ZSTD_DCtx **dctx)
{
    const pvdb_file *f = t->file;
    const pvdb_chunk *k = &t->chunks[(size_t)g * t->schema.ncols + c];
    const uint8_t *p = f->map + k->off;
    const char *why = "checksum mismatch";
    uint64_t bm = k->nulls ? pvdb_bitmap_len(k->rows) : 0;
    int rc;
    cs->k = NULL;
    if (XXH3_64bits(p, (size_t)k->stored) != k->checksum) return BAD_CHUNK(f, t, c, g, k, why);
    if (k->comp == PVDB_COMP_ZSTD) {
        rc = decompress(f, k, cs, dctx, &why);
        if (rc < 0) return rc;
        if (rc) return BAD_CHUNK(f, t, c, g, k, why);
        p = cs->raw;
    }
    cs->bitmap = bm ? p : NULL;
    if (bm && check_bitmap(p, k)) return BAD_CHUNK(f, t, c, g, k, "bad null bitmap");
    memset(&cs->dec, 0, sizeof cs->dec);
    cs->dec.type = t->schema.cols[c].type;
    cs->dec.nrows = k->rows;
    cs->dec.null_count = k->nulls;
    if (pv_encoder_get(k->enc)->open(&cs->dec, p + bm, k->raw - bm, &why))
        return BAD_CHUNK(f, t, c, g, k, why);
    cs->k = k;
    return PV_OK;
}

/* ---- scans ------------------------------------------------------------------------ */

typedef struct scan_col {
    uint32_t col;           /* schema index */
    chunk_state cs;
    uint8_t nulls[PV_BATCH_ROWS];
    union {
        int64_t i[PV_BATCH_ROWS];
        double f[PV_BATCH_ROWS];
        pv_str s[PV_BATCH_ROWS];
    } v;
} scan_col;

struct pv_scan {
    const pvdb_table *t;
    uint32_t ncols;
    scan_col *cols;
    pv_vec *vecs;
    uint32_t group;         /* current row group */
    uint32_t row;           /* next row inside it */
    int loaded;             /* the chunks of `group` are loaded */
    ZSTD_DCtx *dctx;        /* created on the first compressed chunk */
};

static void scan_close(pv_scan *s)
{
    uint32_t i;
    if (!s) return;
    for (i = 0; i < s->ncols && s->cols; i++) free(s->cols[i].cs.raw);
    free(s->cols);
    free(s->vecs);
    ZSTD_freeDCtx(s->dctx);
    free(s);
}

static int scan_open(const pv_source *src, const uint32_t *cols, uint32_t ncols,
                     pv_scan **out)
{
    const pvdb_table *t = src->impl;
    pv_scan *s;
    uint32_t i;
    *out = NULL;
    for (i = 0; i < ncols; i++)
        if (cols[i] >= t->schema.ncols)
            return pv_err(PV_ERANGE, "table %s: no column %u", t->schema.name, cols[i]);
    s = calloc(1, sizeof *s);
    if (!s) return pv_err(PV_ENOMEM, "out of memory");
    s->t = t;
    s->cols = calloc(ncols ? ncols : 1, sizeof *s->cols);
    s->vecs = calloc(ncols ? ncols : 1, sizeof *s->vecs);
    if (!s->cols || !s->vecs) {
        scan_close(s);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    s->ncols = ncols;
    for (i = 0; i < ncols; i++) s->cols[i].col = cols[i];
    *out = s;
    return PV_OK;
}

/* Rows [r0, r0 + n) of a loaded chunk into the column's batch vector. */
static void fill_vec(scan_col *sc, int type, uint32_t r0, uint32_t n, pv_vec *v)
{
    pv_dec_out o;
    uint32_t r;
    v->type = type;
    v->nulls = NULL;
    if (sc->cs.bitmap) {
        for (r = 0; r < n; r++)
            sc->nulls[r] = (sc->cs.bitmap[(r0 + r) >> 3] >> ((r0 + r) & 7)) & 1;
        v->nulls = sc->nulls;
    }
    switch (type) {
    case PV_REAL: o.f = sc->v.f; v->u.f = sc->v.f; break;
    case PV_TEXT:
    case PV_BLOB: o.s = sc->v.s; v->u.s = sc->v.s; break;
    default: o.i = sc->v.i; v->u.i = sc->v.i; break;
    }
    pv_encoder_get(sc->cs.k->enc)->read(&sc->cs.dec, r0, n, o);
}

static int scan_next(pv_scan *s, pv_batch *out)
{
    const pvdb_table *t = s->t;
    uint32_t rows, n, i;
    int rc;
    for (;;) {
        if (s->group >= t->ngroups) return 0;
        rows = group_rows(t->file, t->nrows, s->group);
        if (s->row < rows) break;
        s->group++;
        s->row = 0;
        s->loaded = 0;
    }
    for (i = 0; !s->loaded && i < s->ncols; i++) {
        rc = load_chunk(t, s->group, s->cols[i].col, &s->cols[i].cs, &s->dctx);
        if (rc) return rc;
    }
    s->loaded = 1;
    n = rows - s->row < PV_BATCH_ROWS ? rows - s->row : PV_BATCH_ROWS;
    for (i = 0; i < s->ncols; i++)
        fill_vec(&s->cols[i], t->schema.cols[s->cols[i].col].type, s->row, n, &s->vecs[i]);
    s->row += n;
    out->nrows = n;
    out->ncols = s->ncols;
    out->cols = s->vecs;
    return (int)n;
}

static const pv_source_ops pvdb_ops = { scan_open, scan_next, scan_close };

int pvdb_table_source(pvdb_file *f, uint32_t i, pv_source *out)
{
    if (i >= f->ntables) return pv_err(PV_ERANGE, "%s: no table %u", f->path, i);
    out->schema = &f->tables[i].schema;
    out->nrows = f->tables[i].nrows;
    out->ops = &pvdb_ops;
    out->impl = &f->tables[i];
    return PV_OK;
}

int pvdb_find_table(pvdb_file *f, const char *name, size_t len, pv_source *out)
{
    uint32_t i;
    for (i = 0; i < f->ntables; i++) {
        const char *n = f->tables[i].schema.name;
        if (pv_ident_eq(n, strlen(n), name, len)) return pvdb_table_source(f, i, out);
    }
    return pv_err(PV_ENOTFOUND, "no such table: %.*s", (int)(len > 256 ? 256 : len), name);
}

/* ---- verify ------------------------------------------------------------------------ */

/* Padding between the header, the chunks and the directory is zero. */
static int check_gap(const pvdb_file *f, uint64_t from, uint64_t to)
{
    uint64_t i;
    for (i = from; i < to; i++)
        if (f->map[i]) return BAD(f, i, "padding byte not zero");
    return PV_OK;
}

static int verify_table(const pvdb_file *f, const pvdb_table *t, uint64_t *end,
                        chunk_state *cs, ZSTD_DCtx **dctx)
{
    uint32_t g, c;
    int rc;
    for (g = 0; g < t->ngroups; g++) {
        for (c = 0; c < t->schema.ncols; c++) {
            const pvdb_chunk *k = &t->chunks[(size_t)g * t->schema.ncols + c];
            rc = check_gap(f, *end, k->off);
            if (rc == PV_OK) rc = load_chunk(t, g, c, cs, dctx);
            if (rc) return rc;
            *end = k->off + k->stored;
        }
    }
    return PV_OK;
}

int pvdb_verify(const pvdb_file *f)
{
    const uint8_t *h = f->map;
    chunk_state cs;
    ZSTD_DCtx *dctx = NULL;
    uint64_t end = PVDB_HEADER_SIZE;
    uint32_t i;
    int rc = PV_OK;
    /* The mapping may have changed under us since open: check again. */
    if (pv_get_u64(h + PVDB_H_CHECKSUM) != XXH3_64bits(h, PVDB_H_CHECKSUM))
        return BAD(f, PVDB_H_CHECKSUM, "header checksum mismatch");
    if (pv_get_u64(h + PVDB_H_DIR_CHECKSUM) != XXH3_64bits(h + f->dir_off, f->dir_len))
        return BAD(f, f->dir_off, "directory checksum mismatch");
    memset(&cs, 0, sizeof cs);
    for (i = 0; i < f->ntables && rc == PV_OK; i++)
        rc = verify_table(f, &f->tables[i], &end, &cs, &dctx);
    if (rc == PV_OK) rc = check_gap(f, end, f->dir_off);
    free(cs.raw);
    ZSTD_freeDCtx(dctx);
    return rc;
}
