/*
 * pvdb_write.c: the bake writer. Tables in, one `.pvdb` file out
 * (docs/FORMAT.md part 3).
 *
 * The file is written front to back: a zeroed header, the column chunks
 * (table by table, row group by row group, column by column), then the
 * directory, and last the real header at offset 0. Everything goes to a
 * temporary file in the target's directory that is synced and renamed over
 * the target, so a reader sees the old file or the new one, never a mix.
 *
 * Reproducibility: every byte comes from the input (no time, no pid, no
 * uninitialised memory: records are zeroed before their fields are put),
 * encodings are chosen by exact size, dictionaries are sorted.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>
#include <zstd.h>

#include "encode.h"
#include "pvdb.h"
#include "pvdb_format.h"
#include "schema.h"
#include "util.h"

typedef struct writer {
    const char *path;       /* the target, for messages */
    char *tmp;              /* the temporary file, NULL once renamed */
    int fd;
    uint64_t pos;           /* bytes written so far */
    uint32_t rpg;           /* rows per row group */
    unsigned flags;         /* PVDB_WRITE_* */
    pv_buf chunk;           /* the current chunk, encoded */
    pv_buf comp;            /* the same, zstd-compressed */
    ZSTD_CCtx *cctx;
    pv_enc_ctx enc;
    pv_buf tables, columns, chunks, strings;  /* directory sections */
    uint32_t ncolumns, nchunks;
} writer;

/* The chunk being written: where it is and what it holds. */
typedef struct chunk_job {
    const pv_bake_table *t;
    uint32_t col;
    uint64_t first_row;
    uint32_t nrows;
} chunk_job;

static int write_bytes(writer *w, const void *p, size_t n)
{
    int rc = pv_write_all(w->fd, p, n, w->tmp);
    if (rc == PV_OK) w->pos += n;
    return rc;
}

static int write_padding(writer *w)
{
    static const uint8_t zeros[8];
    size_t pad = (size_t)(pvdb_align8(w->pos) - w->pos);
    return pad ? write_bytes(w, zeros, pad) : PV_OK;
}

/* Append a string to the string table and put its (offset, length) ref. */
static int add_string(writer *w, const char *s, size_t n, uint8_t *ref)
{
    if (w->strings.len > UINT32_MAX || n > UINT32_MAX - w->strings.len)
        return pv_err(PV_ELIMIT, "'%s': string table over 4 GiB", w->path);
    pv_put_u32(ref, (uint32_t)w->strings.len);
    pv_put_u32(ref + 4, (uint32_t)n);
    return pv_buf_append(&w->strings, s, n);
}

/* Reserve and zero one record at the end of a directory section. */
static uint8_t *new_record(pv_buf *b, size_t size)
{
    if (pv_buf_zeros(b, size)) return NULL;
    return (uint8_t *)b->p + b->len - size;
}

/* ---- input checks ---------------------------------------------------------- */

static int check_schema(const writer *w, const pv_schema *s)
{
    uint32_t c;
    if (!s || !s->name || !pv_table_name_ok(s->name, strlen(s->name)))
        return pv_err(PV_EMISUSE, "'%s': bad table name", w->path);
    if (s->ncols == 0 || s->ncols > PV_MAX_COLUMNS || s->npk == 0 || s->npk > s->ncols)
        return pv_err(PV_EMISUSE, "'%s': table %s: bad column or key count", w->path,
                      s->name);
    for (c = 0; c < s->ncols; c++) {
        const pv_column *col = &s->cols[c];
        if (!pv_column_name_ok(col->name, strlen(col->name)) ||
            col->type < PV_INTEGER || col->type > PV_BOOLEAN ||
            col->pk_pos < -1 || col->pk_pos >= (int)s->npk)
            return pv_err(PV_EMISUSE, "'%s': table %s: bad column %u", w->path,
                          s->name, c);
    }
    for (c = 0; c < s->npk; c++)
        if (s->pk[c] >= s->ncols || s->cols[s->pk[c]].pk_pos != (int)c)
            return pv_err(PV_EMISUSE, "'%s': table %s: bad primary key", w->path,
                          s->name);
    return PV_OK;
}

/* Check the rows of one chunk and count its NULLs. */
static int check_rows(const chunk_job *j, const pv_enc_in *in, uint32_t *nulls)
{
    const pv_column *col = &j->t->schema->cols[j->col];
    uint32_t r, n = 0;
    for (r = 0; r < in->nrows; r++) {
        if (pv_enc_is_null(in, r)) {
            if (col->not_null)
                return pv_err(PV_ECONSTRAINT, "table %s: NULL in NOT NULL column %s "
                              "at row %llu", j->t->schema->name, col->name,
                              (unsigned long long)(j->first_row + r));
            n++;
        } else if (col->type == PV_BOOLEAN && (uint64_t)in->v.u.i[r] > 1) {
            return pv_err(PV_ETYPE, "table %s: column %s: boolean other than 0 or 1 "
                          "at row %llu", j->t->schema->name, col->name,
                          (unsigned long long)(j->first_row + r));
        } else if (pv_enc_is_str(col->type) && !in->v.u.s[r].p && in->v.u.s[r].n) {
            return pv_err(PV_EMISUSE, "table %s: column %s: NULL pointer at row %llu",
                          j->t->schema->name, col->name,
                          (unsigned long long)(j->first_row + r));
        }
    }
    *nulls = n;
    return PV_OK;
}

/* ---- column chunks ----------------------------------------------------------- */

/* The input vector of a chunk, starting at its first row. */
static pv_enc_in chunk_input(const chunk_job *j)
{
    const pv_vec *v = &j->t->cols[j->col];
    pv_enc_in in;
    memset(&in, 0, sizeof in);
    in.v.type = j->t->schema->cols[j->col].type;
    in.v.nulls = v->nulls ? v->nulls + j->first_row : NULL;
    switch (in.v.type) {
    case PV_REAL: in.v.u.f = v->u.f + j->first_row; break;
    case PV_TEXT:
    case PV_BLOB: in.v.u.s = v->u.s + j->first_row; break;
    default: in.v.u.i = v->u.i + j->first_row; break;
    }
    in.nrows = j->nrows;
    return in;
}

/* Encode a chunk into w->chunk: null bitmap (when any NULL), then values. */
static int encode_chunk(writer *w, const pv_enc_in *in, const pv_encoder **enc)
{
    uint64_t size;
    uint32_t r;
    int rc = pv_enc_choose(&w->enc, in, enc, &size);
    if (rc) return rc;
    w->chunk.len = 0;
    if (in->null_count) {
        uint64_t bm = pvdb_bitmap_len(in->nrows);
        uint8_t *p;
        rc = pv_buf_zeros(&w->chunk, (size_t)bm);
        if (rc) return rc;
        p = (uint8_t *)w->chunk.p;
        for (r = 0; r < in->nrows; r++)
            if (pv_enc_is_null(in, r)) p[r >> 3] |= (uint8_t)(1u << (r & 7));
    }
    if (size > PVDB_MAX_CHUNK_RAW - w->chunk.len)
        return pv_err(PV_ELIMIT, "column chunk of %llu bytes over the 4 GiB limit",
                      (unsigned long long)(size + w->chunk.len));
    return (*enc)->write(&w->enc.s[(*enc)->id], in, &w->chunk);
}

/* zstd only when it saves at least a tenth: *use = 1 when w->comp holds
 * the compressed form to store, 0 to store w->chunk as is. */
static int compress_chunk(writer *w, int *use)
{
    size_t bound = ZSTD_compressBound(w->chunk.len), n;
    int rc;
    *use = 0;
    if (w->flags & PVDB_WRITE_NO_ZSTD) return PV_OK;
    if (w->chunk.len < 64) return PV_OK; /* a frame header eats any gain */
    w->comp.len = 0;
    rc = pv_buf_reserve(&w->comp, bound);
    if (rc) return rc;
    n = ZSTD_compressCCtx(w->cctx, w->comp.p, bound, w->chunk.p, w->chunk.len,
                          PVDB_ZSTD_LEVEL);
    if (ZSTD_isError(n))
        return pv_err(PV_ERROR, "'%s': zstd: %s", w->path, ZSTD_getErrorName(n));
    if (n <= w->chunk.len - w->chunk.len / PVDB_COMP_MIN_SAVING_DIV) {
        w->comp.len = n;
        *use = 1;
    }
    return PV_OK;
}

static int write_chunk(writer *w, const chunk_job *j)
{
    pv_enc_in in = chunk_input(j);
    const pv_encoder *enc;
    const pv_buf *stored;
    uint8_t *rec;
    int use_zstd, rc;
    rc = check_rows(j, &in, &in.null_count);
    if (rc == PV_OK) rc = encode_chunk(w, &in, &enc);
    if (rc == PV_OK) rc = compress_chunk(w, &use_zstd);
    if (rc) {
        pv_err_prefix("'%s': table %s, column %s, row %llu", w->path,
                      j->t->schema->name, j->t->schema->cols[j->col].name,
                      (unsigned long long)j->first_row);
        return rc;
    }
    stored = use_zstd ? &w->comp : &w->chunk;
    rc = write_padding(w);
    if (rc) return rc;
    rec = new_record(&w->chunks, PVDB_CHUNK_RECSZ);
    if (!rec) return PV_ENOMEM;
    pv_put_u64(rec + PVDB_K_OFFSET, w->pos);
    pv_put_u64(rec + PVDB_K_STORED_LEN, stored->len);
    pv_put_u64(rec + PVDB_K_RAW_LEN, w->chunk.len);
    pv_put_u32(rec + PVDB_K_ROW_COUNT, in.nrows);
    pv_put_u32(rec + PVDB_K_NULL_COUNT, in.null_count);
    rec[PVDB_K_ENCODING] = enc->id;
    rec[PVDB_K_COMPRESSION] = use_zstd ? PVDB_COMP_ZSTD : PVDB_COMP_NONE;
    pv_put_u64(rec + PVDB_K_CHECKSUM, XXH3_64bits(stored->p, stored->len));
    w->nchunks++;
    return write_bytes(w, stored->p, stored->len);
}

/* ---- tables ------------------------------------------------------------------ */

static int add_columns(writer *w, const pv_schema *s)
{
    uint32_t c;
    for (c = 0; c < s->ncols; c++) {
        const pv_column *col = &s->cols[c];
        uint8_t *rec = new_record(&w->columns, PVDB_COLUMN_RECSZ);
        int rc;
        if (!rec) return PV_ENOMEM;
        rc = add_string(w, col->name, strlen(col->name), rec + PVDB_C_NAME);
        if (rc) return rc; /* the string went to another buffer: rec holds */
        rec[PVDB_C_TYPE] = (uint8_t)col->type;
        rec[PVDB_C_FLAGS] = (uint8_t)((col->not_null ? PVDB_COL_NOT_NULL : 0) |
                                      (col->hidden ? PVDB_COL_HIDDEN : 0));
        pv_put_u16(rec + PVDB_C_PK_POS,
                   col->pk_pos < 0 ? PVDB_NO_PK : (uint16_t)col->pk_pos);
    }
    return PV_OK;
}

static int add_table_record(writer *w, const pv_bake_table *t, uint32_t first_col,
                            uint32_t first_chunk, uint32_t ngroups)
{
    const pv_schema *s = t->schema;
    uint8_t *rec = new_record(&w->tables, PVDB_TABLE_RECSZ);
    int rc;
    if (!rec) return PV_ENOMEM;
    rc = add_string(w, s->name, strlen(s->name), rec + PVDB_T_NAME);
    if (rc) return rc;
    pv_put_u64(rec + PVDB_T_ROW_COUNT, t->nrows);
    pv_put_u32(rec + PVDB_T_FIRST_COLUMN, first_col);
    pv_put_u32(rec + PVDB_T_COLUMN_COUNT, s->ncols);
    pv_put_u32(rec + PVDB_T_FIRST_CHUNK, first_chunk);
    pv_put_u32(rec + PVDB_T_GROUP_COUNT, ngroups);
    pv_put_u32(rec + PVDB_T_PK_COUNT, s->npk);
    return PV_OK;
}

static int write_table(writer *w, const pv_bake_table *t)
{
    const pv_schema *s = t->schema;
    uint64_t ngroups, g;
    uint32_t first_col = w->ncolumns, first_chunk = w->nchunks, c;
    int rc = check_schema(w, s);
    if (rc) return rc;
    if (t->nrows && !t->cols)
        return pv_err(PV_EMISUSE, "'%s': table %s: no column vectors", w->path, s->name);
    ngroups = (t->nrows + w->rpg - 1) / w->rpg;
    if (t->nrows > UINT64_MAX - w->rpg || ngroups > UINT32_MAX ||
        ngroups * s->ncols > UINT32_MAX - w->nchunks ||
        s->ncols > UINT32_MAX - w->ncolumns)
        return pv_err(PV_ELIMIT, "'%s': table %s: too many rows or chunks", w->path,
                      s->name);
    for (c = 0; c < s->ncols; c++)
        if (t->nrows && t->cols[c].type != s->cols[c].type)
            return pv_err(PV_EMISUSE, "'%s': table %s: vector %u has the wrong type",
                          w->path, s->name, c);
    rc = add_columns(w, s);
    if (rc) return rc;
    w->ncolumns += s->ncols;
    rc = add_table_record(w, t, first_col, first_chunk, (uint32_t)ngroups);
    for (g = 0; rc == PV_OK && g < ngroups; g++) {
        chunk_job j;
        j.t = t;
        j.first_row = g * w->rpg;
        j.nrows = (uint32_t)(t->nrows - j.first_row < w->rpg ? t->nrows - j.first_row
                                                             : w->rpg);
        for (j.col = 0; rc == PV_OK && j.col < s->ncols; j.col++) rc = write_chunk(w, &j);
    }
    return rc;
}

/* ---- directory and header ------------------------------------------------------ */

static int add_provenance(writer *w, const pv_bake_info *info, uint8_t *dh)
{
    const char *src = info && info->source ? info->source : "";
    const char *tool = info && info->tool ? info->tool : "";
    int rc;
    if (strlen(src) > PVDB_MAX_PROVENANCE || strlen(tool) > PVDB_MAX_PROVENANCE)
        return pv_err(PV_ELIMIT, "'%s': provenance string over %u bytes", w->path,
                      PVDB_MAX_PROVENANCE);
    rc = add_string(w, src, strlen(src), dh + PVDB_D_SOURCE);
    if (rc == PV_OK) rc = add_string(w, tool, strlen(tool), dh + PVDB_D_TOOL);
    return rc;
}

static int write_directory(writer *w, const pv_bake_info *info, uint32_t ntables,
                           uint8_t *hdr)
{
    uint8_t dh[PVDB_DIR_HEADER_SIZE];
    uint64_t at = PVDB_DIR_HEADER_SIZE, dir_off, strings_len;
    XXH3_state_t *st = NULL;
    int rc;
    memset(dh, 0, sizeof dh);
    rc = add_provenance(w, info, dh);
    if (rc) return rc;
    strings_len = w->strings.len;
    rc = pv_buf_align(&w->strings, 8);
    if (rc) return rc;
    pv_put_u32(dh + PVDB_D_TABLE_COUNT, ntables);
    pv_put_u32(dh + PVDB_D_TABLE_RECSZ, PVDB_TABLE_RECSZ);
    pv_put_u32(dh + PVDB_D_COLUMN_COUNT, w->ncolumns);
    pv_put_u32(dh + PVDB_D_COLUMN_RECSZ, PVDB_COLUMN_RECSZ);
    pv_put_u32(dh + PVDB_D_CHUNK_COUNT, w->nchunks);
    pv_put_u32(dh + PVDB_D_CHUNK_RECSZ, PVDB_CHUNK_RECSZ);
    pv_put_u32(dh + PVDB_D_ROWS_PER_GROUP, w->rpg);
    pv_put_u64(dh + PVDB_D_TABLES_OFF, at);
    at += w->tables.len;
    pv_put_u64(dh + PVDB_D_COLUMNS_OFF, at);
    at += w->columns.len;
    pv_put_u64(dh + PVDB_D_CHUNKS_OFF, at);
    at += w->chunks.len;
    pv_put_u64(dh + PVDB_D_STRINGS_OFF, at);
    pv_put_u64(dh + PVDB_D_STRINGS_LEN, strings_len);
    at += w->strings.len;

    rc = write_padding(w);
    if (rc) return rc;
    dir_off = w->pos;
    st = XXH3_createState();
    if (!st) return pv_err(PV_ENOMEM, "out of memory");
    XXH3_64bits_reset(st);
    XXH3_64bits_update(st, dh, sizeof dh);
    XXH3_64bits_update(st, w->tables.p, w->tables.len);
    XXH3_64bits_update(st, w->columns.p, w->columns.len);
    XXH3_64bits_update(st, w->chunks.p, w->chunks.len);
    XXH3_64bits_update(st, w->strings.p, w->strings.len);
    pv_put_u64(hdr + PVDB_H_DIR_CHECKSUM, XXH3_64bits_digest(st));
    XXH3_freeState(st);
    pv_put_u64(hdr + PVDB_H_DIR_OFFSET, dir_off);
    pv_put_u64(hdr + PVDB_H_DIR_LENGTH, at);
    pv_put_u64(hdr + PVDB_H_FILE_SIZE, dir_off + at);
    rc = write_bytes(w, dh, sizeof dh);
    if (rc == PV_OK) rc = write_bytes(w, w->tables.p, w->tables.len);
    if (rc == PV_OK) rc = write_bytes(w, w->columns.p, w->columns.len);
    if (rc == PV_OK) rc = write_bytes(w, w->chunks.p, w->chunks.len);
    if (rc == PV_OK) rc = write_bytes(w, w->strings.p, w->strings.len);
    return rc;
}

/* Fill the header fields that do not depend on the directory, checksum all. */
static void finish_header(uint8_t *hdr)
{
    memcpy(hdr + PVDB_H_MAGIC, PVDB_MAGIC, PVDB_MAGIC_LEN);
    pv_put_u32(hdr + PVDB_H_VERSION, PVDB_VERSION);
    pv_put_u32(hdr + PVDB_H_HEADER_SIZE, PVDB_HEADER_SIZE);
    pv_put_u32(hdr + PVDB_H_REQUIRED, 0);
    pv_put_u32(hdr + PVDB_H_COMPAT, 0);
    pv_put_u64(hdr + PVDB_H_CHECKSUM, XXH3_64bits(hdr, PVDB_H_CHECKSUM));
}

static int write_header(writer *w, uint8_t *hdr)
{
    finish_header(hdr);
    if (lseek(w->fd, 0, SEEK_SET) != 0)
        return pv_err_errno("cannot seek in '%s'", w->tmp);
    return pv_write_all(w->fd, hdr, PVDB_HEADER_SIZE, w->tmp);
}

/* ---- the temporary file ------------------------------------------------------ */

static int open_tmp(writer *w)
{
    static const char suffix[] = ".tmp.XXXXXX";
    size_t n = strlen(w->path);
    w->tmp = malloc(n + sizeof suffix);
    if (!w->tmp) return pv_err(PV_ENOMEM, "out of memory");
    memcpy(w->tmp, w->path, n);
    memcpy(w->tmp + n, suffix, sizeof suffix);
    w->fd = mkstemp(w->tmp);
    if (w->fd < 0) {
        int rc = pv_err_errno("cannot create a temporary file for '%s'", w->path);
        free(w->tmp);
        w->tmp = NULL;
        return rc;
    }
    /* mkstemp gives 0600; a baked file is meant to be shipped and read. */
    if (fchmod(w->fd, 0644) != 0) return pv_err_errno("cannot chmod '%s'", w->tmp);
    return PV_OK;
}

/* The directory part of w->path, for syncing the rename. */
static int sync_parent_dir(const writer *w)
{
    const char *slash = strrchr(w->path, '/');
    char *dir;
    int fd, rc = PV_OK;
    if (!slash) dir = strdup(".");
    else if (slash == w->path) dir = strdup("/");
    else dir = strndup(w->path, (size_t)(slash - w->path));
    if (!dir) return pv_err(PV_ENOMEM, "out of memory");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0) rc = pv_err_errno("cannot sync directory '%s'", dir);
    if (fd >= 0) close(fd);
    free(dir);
    return rc;
}

static int commit_tmp(writer *w)
{
    int rc = PV_OK;
    if (fsync(w->fd) != 0) rc = pv_err_errno("cannot sync '%s'", w->tmp);
    if (close(w->fd) != 0 && rc == PV_OK) rc = pv_err_errno("cannot close '%s'", w->tmp);
    w->fd = -1;
    if (rc) return rc;
    if (rename(w->tmp, w->path) != 0)
        return pv_err_errno("cannot rename '%s' to '%s'", w->tmp, w->path);
    free(w->tmp);
    w->tmp = NULL;
    return sync_parent_dir(w);
}

static void writer_free(writer *w)
{
    if (w->fd >= 0) close(w->fd);
    if (w->tmp) {
        unlink(w->tmp);
        free(w->tmp);
    }
    pv_buf_free(&w->chunk);
    pv_buf_free(&w->comp);
    pv_buf_free(&w->tables);
    pv_buf_free(&w->columns);
    pv_buf_free(&w->chunks);
    pv_buf_free(&w->strings);
    pv_enc_ctx_free(&w->enc);
    ZSTD_freeCCtx(w->cctx);
}

int pvdb_write_ex(const char *path, const pv_bake_table *tables, size_t ntables,
                  const pv_bake_info *info, uint32_t rows_per_group, unsigned flags)
{
    writer w;
    uint8_t hdr[PVDB_HEADER_SIZE];
    size_t i;
    int rc;
    memset(&w, 0, sizeof w);
    memset(hdr, 0, sizeof hdr);
    w.fd = -1;
    w.path = path;
    w.rpg = rows_per_group;
    w.flags = flags;
    if (!path || (ntables && !tables) || rows_per_group == 0 ||
        rows_per_group > PVDB_MAX_ROWS_PER_GROUP)
        return pv_err(PV_EMISUSE, "pv_bake_write: bad arguments");
    if (ntables > PV_MAX_TABLES)
        return pv_err(PV_ELIMIT, "'%s': more than %d tables", path, PV_MAX_TABLES);
    w.cctx = ZSTD_createCCtx();
    if (!w.cctx) return pv_err(PV_ENOMEM, "out of memory");
    rc = open_tmp(&w);
    if (rc == PV_OK) rc = write_bytes(&w, hdr, sizeof hdr);
    for (i = 0; rc == PV_OK && i < ntables; i++) rc = write_table(&w, &tables[i]);
    if (rc == PV_OK) rc = write_directory(&w, info, (uint32_t)ntables, hdr);
    if (rc == PV_OK) rc = write_header(&w, hdr);
    if (rc == PV_OK) rc = commit_tmp(&w);
    writer_free(&w);
    return rc;
}

int pv_bake_write(const char *path, const pv_bake_table *tables, size_t ntables,
                  const pv_bake_info *info)
{
    return pvdb_write_ex(path, tables, ntables, info, PVDB_ROWS_PER_GROUP, 0);
}
