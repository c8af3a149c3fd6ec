/*
 * pvdb_secidx.c: baked secondary indexes (docs/FORMAT.md 3.12): a sorted
 * array of the distinct index keys, column by column, and per key the
 * rows holding it (ascending; compressed by pvdb_secidx_post.c).
 *
 * Writing sorts the rows by (key, row) once (pvdb_secidx_sort.c); a lookup
 * is a binary search over the keys, straight from the mapping, then the
 * decoding of the blocks holding those keys' rows.
 * Every offset and count read from the file is checked before use: at
 * open the records (pvdb_secidx_open), at lookup the parts of a section
 * as they are touched.
 */
#include <stdlib.h>
#include <string.h>

#include <xxhash.h>

#include "pvdb_format.h"
#include "pvdb_impl.h"
#include "pvdb_secidx.h"

#define BAD PVDB_BAD

/* ---- shared layout ------------------------------------------------------------- */

static int is_text(int type) { return type == PV_TEXT || type == PV_BLOB; }

/* ---- writer -------------------------------------------------------------------- */

/* The section of index x of table t into b; *nkeys, *nrows set. */
static int build_section(const pv_bake_table *t, const pv_index_def *x, pv_buf *b, uint64_t *nkeys,
                         uint64_t *nentries)
{
    pvdb_secidx_order o;
    uint32_t *rows, *keyrow = NULL;
    uint64_t n, d, k;
    uint32_t j;
    int rc = pvdb_secidx_sort(t, x, &o);
    if (rc) return rc;
    rows = o.rows;
    n = o.nrows;
    d = o.nkeys;
    if (!(keyrow = malloc((d + 1) * sizeof *keyrow))) {
        pvdb_secidx_order_free(&o);
        return pv_err(PV_ENOMEM, "out of memory baking index %s", x->name);
    }
    for (k = 0; k < d; k++) keyrow[k] = rows[o.starts[k]]; /* the first row of each key */
    b->len = 0;
    if ((rc = pv_buf_zeros(b, (size_t)(8ull * x->ncols)))) goto done;
    /* the row lists (pvdb_secidx_post.c), then the keys */
    if ((rc = pvdb_post_write(&o, x->ncols, b))) goto done;
    /* the key columns, each from its part offset */
    for (j = 0; j < x->ncols; j++) {
        const pv_vec *v = &t->cols[x->cols[j]];
        pv_put_u64((uint8_t *)b->p + 8 * j, b->len);
        if (j > 0) { /* NULL bitmap of the keys (the first column has no NULL key) */
            size_t at = b->len;
            if ((rc = pv_buf_zeros(b, (size_t)pvdb_align8((d + 7) / 8)))) goto done;
            for (k = 0; k < d; k++)
                if (v->nulls && v->nulls[keyrow[k]]) ((uint8_t *)b->p)[at + k / 8] |= (uint8_t)(1u << (k % 8));
        }
        if (!is_text(v->type)) {
            for (k = 0; k < d; k++) {
                uint8_t w[8];
                pv_value val = pv_vec_get(v, keyrow[k]);
                if (val.type == PV_NULL) memset(w, 0, 8);
                else if (v->type == PV_REAL) {
                    uint64_t bits;
                    memcpy(&bits, &val.u.f, 8);
                    pv_put_u64(w, bits);
                } else {
                    pv_put_u64(w, (uint64_t)val.u.i);
                }
                if ((rc = pv_buf_append(b, w, 8))) goto done;
            }
        } else {
            size_t offs = b->len;
            uint64_t total = 0;
            if ((rc = pv_buf_zeros(b, (size_t)(4 * (d + 1)))) || (rc = pv_buf_align(b, 8))) goto done;
            for (k = 0; k < d; k++) {
                pv_value val = pv_vec_get(v, keyrow[k]);
                pv_put_u32((uint8_t *)b->p + offs + 4 * k, (uint32_t)total);
                if (val.type == PV_NULL) continue;
                if (total + val.u.s.n > UINT32_MAX) {
                    rc = pv_err(PV_ELIMIT, "index %s: over 4 GiB of key text", x->name);
                    goto done;
                }
                if ((rc = pv_buf_append(b, val.u.s.p, val.u.s.n))) goto done;
                total += val.u.s.n;
            }
            pv_put_u32((uint8_t *)b->p + offs + 4 * d, (uint32_t)total);
            if ((rc = pv_buf_align(b, 8))) goto done;
        }
    }
    *nkeys = d;
    *nentries = n;
done:
    pvdb_secidx_order_free(&o);
    free(keyrow);
    return rc;
}

int pvdb_secidx_write(const pv_bake_table *tables, size_t ntables, const pvdb_secidx_io *io,
                      pv_buf *records, uint32_t *count)
{
    pv_buf b = PV_BUF_INIT;
    size_t i;
    uint32_t j, k;
    int rc = PV_OK;
    *count = 0;
    for (i = 0; i < ntables && rc == PV_OK; i++) {
        const pv_bake_table *t = &tables[i];
        if (t->schema->nindexes && t->nrows >= UINT32_MAX)
            return pv_err(PV_ELIMIT, "'%s': table %s: too many rows for a baked index", io->path, t->schema->name);
        for (j = 0; j < t->schema->nindexes && rc == PV_OK; j++) {
            const pv_index_def *x = &t->schema->indexes[j];
            uint64_t d = 0, n = 0, at = *io->pos;
            uint8_t *rec = NULL;
            if (x->ncols > PVDB_INDEX_MAX_COLS) {
                rc = pv_err(PV_ELIMIT, "'%s': index %s: more than %d columns", io->path, x->name,
                            PVDB_INDEX_MAX_COLS);
                break;
            }
            if ((rc = build_section(t, x, &b, &d, &n)) || (rc = io->write(io->ctx, b.p, b.len))) break;
            if ((rc = pv_buf_zeros(records, PVDB_INDEX_RECSZ))) break;
            rec = (uint8_t *)records->p + records->len - PVDB_INDEX_RECSZ;
            {
                uint8_t ref[8];
                if ((rc = io->string(io->ctx, x->name, strlen(x->name), ref))) break;
                memcpy(rec + PVDB_I_NAME, ref, 8);
            }
            pv_put_u32(rec + PVDB_I_TABLE, (uint32_t)i);
            pv_put_u32(rec + PVDB_I_FLAGS, x->unique ? PVDB_INDEX_UNIQUE : 0);
            pv_put_u32(rec + PVDB_I_COLUMN_COUNT, x->ncols);
            for (k = 0; k < PVDB_INDEX_MAX_COLS; k++)
                pv_put_u16(rec + PVDB_I_COLUMNS + 2 * k, k < x->ncols ? (uint16_t)x->cols[k] : PVDB_NO_PK);
            pv_put_u64(rec + PVDB_I_OFFSET, at);
            pv_put_u64(rec + PVDB_I_LENGTH, b.len);
            pv_put_u64(rec + PVDB_I_CHECKSUM, XXH3_64bits(b.p, b.len));
            pv_put_u64(rec + PVDB_I_KEY_COUNT, d);
            pv_put_u64(rec + PVDB_I_ENTRY_COUNT, n);
            (*count)++;
        }
    }
    pv_buf_free(&b);
    return rc;
}

/* ---- reader: the records ---------------------------------------------------------- */

/* Index record i in the mapping (checked at open). */
static const uint8_t *record(const pvdb_file *f, uint32_t i)
{
    const uint8_t *dir = f->map + f->dir_off;
    return dir + pv_get_u64(dir + PVDB_D_INDEXES_OFF) + (uint64_t)i * pv_get_u32(dir + PVDB_D_INDEX_RECSZ);
}

uint32_t pvdb_secidx_count(const pvdb_file *f)
{
    return f->version >= 3 ? pv_get_u32(f->map + f->dir_off + PVDB_D_INDEX_COUNT) : 0;
}

/* The end of the last column chunk (sections come after it). */
static uint64_t chunks_end(const pvdb_file *f)
{
    uint64_t end = PVDB_HEADER_SIZE;
    uint32_t i;
    for (i = 0; i < f->nchunks; i++)
        if (f->chunks[i].off + f->chunks[i].len > end) end = f->chunks[i].off + f->chunks[i].len;
    return end;
}

/* Check record i (at directory offset `at`) and add its definition to its
 * table's schema; *prev_end is the end of the previous section. */
static int open_record(pvdb_file *f, const uint8_t *dir, uint64_t at, uint64_t strings_at,
                       uint64_t strings_len, uint64_t *prev_end, uint32_t *prev_table)
{
    const uint8_t *r = dir + at;
    uint64_t abs = f->dir_off + at, off = pv_get_u64(r + PVDB_I_OFFSET), len = pv_get_u64(r + PVDB_I_LENGTH);
    uint64_t d = pv_get_u64(r + PVDB_I_KEY_COUNT), n = pv_get_u64(r + PVDB_I_ENTRY_COUNT), fixed;
    pvdb_post_layout lay;
    uint32_t ti = pv_get_u32(r + PVDB_I_TABLE), ncols = pv_get_u32(r + PVDB_I_COLUMN_COUNT), k, so, sn;
    uint32_t flags = pv_get_u32(r + PVDB_I_FLAGS);
    pvdb_table *t;
    pv_index_def *x, *grown;
    if (ti >= f->ntables || ti < *prev_table) return BAD(f, abs + PVDB_I_TABLE, "bad index table");
    t = &f->tables[ti];
    if (flags & ~PVDB_INDEX_FLAGS_KNOWN || pv_get_u32(r + PVDB_I_RESERVED))
        return BAD(f, abs + PVDB_I_FLAGS, "bad index flags");
    if (ncols == 0 || ncols > PVDB_INDEX_MAX_COLS) return BAD(f, abs + PVDB_I_COLUMN_COUNT, "bad index column count");
    for (k = 0; k < PVDB_INDEX_MAX_COLS; k++) {
        uint16_t c = pv_get_u16(r + PVDB_I_COLUMNS + 2 * k);
        if (k < ncols ? c >= t->schema.ncols : c != PVDB_NO_PK)
            return BAD(f, abs + PVDB_I_COLUMNS + 2 * k, "bad index column");
    }
    if (n > t->nrows || d > n || (n && !d) || n >= UINT32_MAX)
        return BAD(f, abs + PVDB_I_KEY_COUNT, "bad index key or entry count");
    fixed = pvdb_post_layout_of(ncols, d, n, &lay);
    if (off % 8 || off < *prev_end || off > f->dir_off || len > f->dir_off - off || len < fixed || len % 8)
        return BAD(f, abs + PVDB_I_OFFSET, "index section out of range");
    *prev_end = off + len;
    *prev_table = ti;
    so = pv_get_u32(r + PVDB_I_NAME);
    sn = pv_get_u32(r + PVDB_I_NAME + 4);
    if (so > strings_len || sn > strings_len - so || sn == 0 || sn > 128)
        return BAD(f, abs + PVDB_I_NAME, "bad index name");
    if (t->schema.nindexes >= PV_MAX_INDEXES) return BAD(f, abs, "too many indexes on one table");
    grown = pv_arena_alloc(&f->arena, (t->schema.nindexes + 1) * sizeof *grown);
    if (!grown) return pv_err(PV_ENOMEM, "out of memory");
    if (t->schema.nindexes) memcpy(grown, t->schema.indexes, t->schema.nindexes * sizeof *grown);
    x = &grown[t->schema.nindexes];
    x->name = pv_arena_dup(&f->arena, dir + strings_at + so, sn);
    x->cols = pv_arena_alloc(&f->arena, ncols * sizeof *x->cols);
    if (!x->name || !x->cols) return pv_err(PV_ENOMEM, "out of memory");
    if (memchr(x->name, 0, sn)) return BAD(f, abs + PVDB_I_NAME, "bad index name");
    x->unique = (flags & PVDB_INDEX_UNIQUE) != 0;
    x->ncols = ncols;
    for (k = 0; k < ncols; k++) x->cols[k] = pv_get_u16(r + PVDB_I_COLUMNS + 2 * k);
    for (k = 0; k < t->schema.nindexes; k++)
        if (strcasecmp(grown[k].name, x->name) == 0) return BAD(f, abs + PVDB_I_NAME, "duplicate index name");
    t->schema.indexes = grown;
    t->schema.nindexes++;
    return PV_OK;
}

int pvdb_secidx_open(pvdb_file *f, const uint8_t *dir, uint64_t strings_at, uint64_t strings_len)
{
    uint32_t n = pv_get_u32(dir + PVDB_D_INDEX_COUNT), recsz = pv_get_u32(dir + PVDB_D_INDEX_RECSZ), i, prev_table = 0;
    uint64_t at = pv_get_u64(dir + PVDB_D_INDEXES_OFF), prev_end = chunks_end(f);
    int rc;
    if (f->version < 3 || n == 0) {
        if (n || recsz || at) return BAD(f, f->dir_off + PVDB_D_INDEX_COUNT, "unknown secondary indexes");
        return PV_OK;
    }
    if (recsz < PVDB_INDEX_RECSZ || recsz % 8 || recsz > PVDB_MAX_RECSZ)
        return BAD(f, f->dir_off + PVDB_D_INDEX_RECSZ, "bad index record size");
    if (n > (uint32_t)PV_MAX_INDEXES * f->ntables || at < PVDB_DIR_HEADER_SIZE || at % 8 || at > f->dir_len ||
        n > (f->dir_len - at) / recsz)
        return BAD(f, f->dir_off + PVDB_D_INDEXES_OFF, "index records out of range");
    for (i = 0; i < n; i++)
        if ((rc = open_record(f, dir, at + (uint64_t)i * recsz, strings_at, strings_len, &prev_end, &prev_table)))
            return rc;
    return PV_OK;
}

/* ---- reader: a section ------------------------------------------------------------ */

typedef struct section {
    const pvdb_file *f;
    const pvdb_table *t;
    const uint8_t *p;         /* the section in the mapping */
    uint64_t off, len, d, n;  /* file offset, length, keys, entries */
    uint32_t ncols;
    int types[PVDB_INDEX_MAX_COLS];
    uint64_t part[PVDB_INDEX_MAX_COLS + 1]; /* column parts; part[ncols] = len */
    pvdb_post post;           /* the row lists */
} section;

/* The record of index `index` of table `ti` (the index-th of that table). */
static int find_record(const pvdb_file *f, uint32_t ti, uint32_t index, uint32_t *out)
{
    uint32_t i, seen = 0, n = pvdb_secidx_count(f);
    for (i = 0; i < n; i++) {
        if (pv_get_u32(record(f, i) + PVDB_I_TABLE) != ti) continue;
        if (seen++ == index) {
            *out = i;
            return PV_OK;
        }
    }
    return pv_err(PV_ERANGE, "%s: table %s has no baked index number %u", f->path, f->tables[ti].schema.name, index);
}

/* Open record i's section: its row lists' sizes and its part table
 * checked. O(columns). */
static int section_open(const pvdb_file *f, uint32_t i, section *s)
{
    const uint8_t *r = record(f, i);
    uint64_t prev;
    uint32_t k;
    int rc;
    memset(s, 0, sizeof *s);
    s->f = f;
    s->t = &f->tables[pv_get_u32(r + PVDB_I_TABLE)];
    s->off = pv_get_u64(r + PVDB_I_OFFSET);
    s->len = pv_get_u64(r + PVDB_I_LENGTH);
    s->d = pv_get_u64(r + PVDB_I_KEY_COUNT);
    s->n = pv_get_u64(r + PVDB_I_ENTRY_COUNT);
    s->ncols = pv_get_u32(r + PVDB_I_COLUMN_COUNT);
    s->p = f->map + s->off;
    if ((rc = pvdb_post_open(&s->post, f, s->p, s->off, s->len, s->ncols, s->d, s->n, s->t->nrows, &prev)))
        return rc;
    for (k = 0; k < s->ncols; k++) {
        uint64_t need;
        s->types[k] = s->t->schema.cols[pv_get_u16(r + PVDB_I_COLUMNS + 2 * k)].type;
        s->part[k] = pv_get_u64(s->p + 8 * k);
        need = (k ? pvdb_align8((s->d + 7) / 8) : 0) + (is_text(s->types[k]) ? pvdb_align8(4 * (s->d + 1)) : 8 * s->d);
        if (s->part[k] != prev || s->part[k] % 8 || s->part[k] > s->len || need > s->len - s->part[k])
            return BAD(f, s->off + 8 * k, "bad index column part");
        prev = s->part[k] + need;
        if (is_text(s->types[k])) { /* its bytes: the last offset says how many */
            uint64_t bytes = pv_get_u32(s->p + s->part[k] + (k ? pvdb_align8((s->d + 7) / 8) : 0) + 4 * s->d);
            if (bytes > s->len - prev) return BAD(f, s->off + s->part[k], "index key text out of range");
            prev = pvdb_align8(prev + bytes);
        }
    }
    if (prev != s->len) return BAD(f, s->off, "index section length does not match its parts");
    s->part[s->ncols] = s->len;
    return PV_OK;
}

/* Key d's value in column k. */
static int key_value(const section *s, uint32_t k, uint64_t d, pv_value *out)
{
    uint64_t at = s->part[k];
    if (k) {
        if (s->p[at + d / 8] & (1u << (d % 8))) {
            *out = pv_v_null();
            return PV_OK;
        }
        at += pvdb_align8((s->d + 7) / 8);
    }
    out->type = s->types[k];
    if (!is_text(s->types[k])) {
        uint64_t w = pv_get_u64(s->p + at + 8 * d);
        if (s->types[k] == PV_REAL) memcpy(&out->u.f, &w, 8);
        else out->u.i = (int64_t)w;
        return PV_OK;
    }
    {
        uint32_t a = pv_get_u32(s->p + at + 4 * d), b = pv_get_u32(s->p + at + 4 * (d + 1));
        uint64_t bytes_at = at + pvdb_align8(4 * (s->d + 1)), nbytes = pv_get_u32(s->p + at + 4 * s->d);
        if (a > b || b > nbytes) return BAD(s->f, s->off + at + 4 * d, "index key text offsets out of order");
        out->u.s.p = (const char *)s->p + bytes_at + a;
        out->u.s.n = b - a;
    }
    return PV_OK;
}

/* As ws_index.c's past(): is key d past the start (side 0) or the end
 * (side 1) of the range? 1, 0, or <0 on a corrupt key. */
static int past(const section *s, uint64_t d, const pv_value *eq, uint32_t neq, int range, const pv_value *lo,
                const pv_value *hi, int side)
{
    pv_value v;
    uint32_t k;
    int rc;
    for (k = 0; k < neq; k++) {
        int c;
        if ((rc = key_value(s, k, d, &v))) return rc;
        if ((c = pv_value_cmp(&v, &eq[k]))) return c > 0;
    }
    if (!range) return side == 0;
    if ((rc = key_value(s, neq, d, &v))) return rc;
    if (side == 0) return v.type != PV_NULL && (!lo || pv_value_cmp(&v, lo) >= 0);
    return hi && pv_value_cmp(&v, hi) > 0;
}

static int search(const section *s, const pv_value *eq, uint32_t neq, int range, const pv_value *lo,
                  const pv_value *hi, int side, uint64_t *out)
{
    uint64_t a = 0, b = s->d;
    while (a < b) {
        uint64_t m = a + (b - a) / 2;
        int p = past(s, m, eq, neq, range, lo, hi, side);
        if (p < 0) return p;
        if (p) b = m;
        else a = m + 1;
    }
    *out = a;
    return PV_OK;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int pvdb_source_is_pvdb(const pv_source *src) { return pv_source_index(src) != NULL; }

/* The section of index `index` of the pvdb table src and the keys
 * [*first, *end) of a lookup (see pvdb_source_secidx_find); *first ==
 * *end when nothing can match. */
static int locate(const pv_source *src, uint32_t index, const pv_value *eq, uint32_t neq, int range,
                  const pv_value *lo, const pv_value *hi, section *s, uint64_t *first, uint64_t *end)
{
    const pvdb_table *t = src->impl;
    const pvdb_file *f;
    uint32_t rec = 0, k;
    int rc;
    *first = *end = 0;
    if (!pvdb_source_is_pvdb(src)) return pv_err(PV_EMISUSE, "pvdb_source_secidx_find: not a .pvdb table");
    f = t->file;
    if (index >= t->schema.nindexes || neq + (range ? 1u : 0u) > t->schema.indexes[index].ncols)
        return pv_err(PV_EMISUSE, "pvdb_source_secidx_find: bad index or column count");
    for (k = 0; k < neq; k++)
        if (eq[k].type == PV_NULL) return PV_OK;
    if ((rc = find_record(f, (uint32_t)(t - f->tables), index, &rec)) || (rc = section_open(f, rec, s))) return rc;
    if ((rc = search(s, eq, neq, range, lo, hi, 0, first)) || (rc = search(s, eq, neq, range, lo, hi, 1, end)))
        return rc;
    if (*end < *first) *end = *first;
    return PV_OK;
}

int pvdb_source_secidx_count(const pv_source *src, uint32_t index, const pv_value *eq, uint32_t neq, int range,
                             const pv_value *lo, const pv_value *hi, uint64_t *keys, uint64_t *nrows)
{
    section s;
    uint64_t first, end, a = 0, b = 0;
    int rc = locate(src, index, eq, neq, range, lo, hi, &s, &first, &end);
    *keys = *nrows = 0;
    if (rc || first == end) return rc;
    if ((rc = pvdb_post_range(&s.post, first, end, &a, &b))) return rc;
    *keys = end - first;
    *nrows = b - a;
    return PV_OK;
}

int pvdb_source_secidx_find(const pv_source *src, uint32_t index, const pv_value *eq, uint32_t neq,
                            int range, const pv_value *lo, const pv_value *hi, uint64_t **rows,
                            size_t *nrows)
{
    section s;
    uint64_t first, end, a, b, *out;
    int rc = locate(src, index, eq, neq, range, lo, hi, &s, &first, &end);
    *rows = NULL;
    *nrows = 0;
    if (rc || first == end) return rc;
    if ((rc = pvdb_post_range(&s.post, first, end, &a, &b))) return rc;
    if (!(out = malloc((b - a) * sizeof *out))) return pv_err(PV_ENOMEM, "out of memory");
    if ((rc = pvdb_post_rows(&s.post, first, end, out))) {
        free(out);
        return rc;
    }
    /* each key's rows ascend; several keys' are merged so */
    if (end - first > 1) qsort(out, b - a, sizeof *out, cmp_u64);
    *rows = out;
    *nrows = b - a;
    return PV_OK;
}

int pvdb_source_read_row(const pv_source *src, uint64_t row, const uint32_t *cols, uint32_t ncols,
                         pv_value *out, pv_buf *buf)
{
    const pvdb_table *t = src->impl;
    if (!pvdb_source_is_pvdb(src)) return pv_err(PV_EMISUSE, "pvdb_source_read_row: not a .pvdb table");
    return pvdb_read_row(t->file, (uint32_t)(t - t->file->tables), row, cols, ncols, out, buf);
}

/* ---- verify and inspect ----------------------------------------------------------- */

int pvdb_secidx_info_get(const pvdb_file *f, uint32_t i, pvdb_secidx_info *out)
{
    const uint8_t *r;
    uint32_t k, seen = 0, j;
    if (i >= pvdb_secidx_count(f)) return pv_err(PV_ERANGE, "%s: no index %u", f->path, i);
    r = record(f, i);
    memset(out, 0, sizeof *out);
    out->table = pv_get_u32(r + PVDB_I_TABLE);
    for (j = 0; j < i; j++) seen += pv_get_u32(record(f, j) + PVDB_I_TABLE) == out->table;
    out->name = f->tables[out->table].schema.indexes[seen].name;
    out->unique = (pv_get_u32(r + PVDB_I_FLAGS) & PVDB_INDEX_UNIQUE) != 0;
    out->ncols = pv_get_u32(r + PVDB_I_COLUMN_COUNT);
    for (k = 0; k < out->ncols; k++) out->cols[k] = pv_get_u16(r + PVDB_I_COLUMNS + 2 * k);
    out->keys = pv_get_u64(r + PVDB_I_KEY_COUNT);
    out->entries = pv_get_u64(r + PVDB_I_ENTRY_COUNT);
    out->offset = pv_get_u64(r + PVDB_I_OFFSET);
    out->length = pv_get_u64(r + PVDB_I_LENGTH);
    return PV_OK;
}

static int zero_from(const uint8_t *p, uint64_t a, uint64_t b)
{
    for (; a < b; a++)
        if (p[a]) return 0;
    return 1;
}

/* Every entry of section s: keys increasing, rows listed once, values. */
static int verify_entries(const pvdb_file *f, const section *s, const pv_index_def *x, uint32_t ti)
{
    uint8_t *seen = calloc(s->t->nrows ? s->t->nrows : 1, 1);
    pv_value *row = malloc(x->ncols * sizeof *row), prevk[PVDB_INDEX_MAX_COLS];
    uint64_t *list = malloc((s->n ? s->n : 1) * sizeof *list);
    pv_buf buf = PV_BUF_INIT;
    uint64_t d, e, r;
    uint32_t k;
    int rc = PV_OK;
    if (!seen || !row || !list) {
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto done;
    }
    if ((rc = pvdb_post_check(&s->post)) || (rc = pvdb_post_rows(&s->post, 0, s->d, list))) goto done;
    for (d = 0; d < s->d && rc == PV_OK; d++) {
        uint64_t a = pvdb_post_start(&s->post, d), b = pvdb_post_start(&s->post, d + 1);
        pv_value key[PVDB_INDEX_MAX_COLS];
        int c = 0;
        for (k = 0; k < x->ncols && rc == PV_OK; k++) rc = key_value(s, k, d, &key[k]);
        if (rc) break;
        if (key[0].type == PV_NULL) {
            rc = BAD(f, s->off + s->part[0], "NULL first index key");
            break;
        }
        for (k = 0; d > 0 && k < x->ncols && !c; k++) c = pv_value_cmp(&prevk[k], &key[k]);
        if (d > 0 && c >= 0) {
            rc = BAD(f, s->off + s->part[0], "index keys not strictly increasing");
            break;
        }
        memcpy(prevk, key, sizeof key);
        for (e = a; e < b; e++) { /* ascending within the key by construction */
            r = list[e];
            if (seen[r]) {
                rc = BAD(f, s->off + s->post.l.heads_at + 4 * d, "index row repeated");
                break;
            }
            seen[r] = 1;
            if ((rc = pvdb_read_row(f, ti, r, x->cols, x->ncols, row, &buf))) break;
            for (k = 0; k < x->ncols; k++)
                if (pv_value_cmp(&row[k], &key[k]) != 0 || (row[k].type == PV_NULL) != (key[k].type == PV_NULL)) {
                    rc = BAD(f, s->off + s->post.l.heads_at + 4 * d, "index entry does not match its row");
                    break;
                }
            if (rc) break;
        }
    }
    /* every row with a first index value is listed */
    for (r = 0; rc == PV_OK && r < s->t->nrows; r++) {
        if (seen[r]) continue;
        if ((rc = pvdb_read_row(f, ti, r, x->cols, 1, row, &buf))) break;
        if (row[0].type != PV_NULL) rc = BAD(f, s->off + s->post.l.packed_at, "a row is missing from its index");
    }
done:
    free(seen);
    free(row);
    free(list);
    pv_buf_free(&buf);
    return rc;
}

int pvdb_secidx_verify(const pvdb_file *f, uint64_t *end)
{
    uint32_t i, n = pvdb_secidx_count(f);
    int rc;
    for (i = 0; i < n; i++) {
        const uint8_t *r = record(f, i);
        uint32_t ti = pv_get_u32(r + PVDB_I_TABLE), j, nth = 0;
        section s;
        uint64_t k;
        for (j = 0; j < i; j++) nth += pv_get_u32(record(f, j) + PVDB_I_TABLE) == ti;
        if (!zero_from(f->map, *end, pv_get_u64(r + PVDB_I_OFFSET)))
            return BAD(f, *end, "padding byte not zero before an index section");
        *end = pv_get_u64(r + PVDB_I_OFFSET) + pv_get_u64(r + PVDB_I_LENGTH);
        if (XXH3_64bits(f->map + pv_get_u64(r + PVDB_I_OFFSET), pv_get_u64(r + PVDB_I_LENGTH)) !=
            pv_get_u64(r + PVDB_I_CHECKSUM))
            return BAD(f, pv_get_u64(r + PVDB_I_OFFSET), "index section checksum mismatch");
        if ((rc = section_open(f, i, &s))) return rc;
        for (j = 1; j < s.ncols; j++) { /* unused bits of each NULL bitmap */
            for (k = s.d; k < 8 * pvdb_align8((s.d + 7) / 8); k++)
                if (s.p[s.part[j] + k / 8] & (1u << (k % 8))) return BAD(f, s.off + s.part[j], "index padding not zero");
        }
        if ((rc = verify_entries(f, &s, &f->tables[ti].schema.indexes[nth], ti))) return rc;
    }
    return PV_OK;
}
