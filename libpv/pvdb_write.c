/*
 * pvdb_write.c: the bake writer. Tables in, one `.pvdb` file out
 * (docs/FORMAT.md part 3, docs/BAKE.md).
 *
 * The file is written front to back: a zeroed header, the column chunks
 * (table by table, row group by row group, column by column), then the
 * directory, and last the real header at offset 0. Everything goes to a
 * temporary file in the target's directory that is synced and renamed over
 * the target, so a reader sees the old file or the new one, never a mix.
 *
 * Chunks are encoded by worker threads (each with its own scratch) and
 * written by the calling thread in file order; an encoded chunk may come
 * from the bake cache instead (pvdb_cache.c): by its content key (a hash
 * of its input), or, for rows a source fetches a group at a time
 * (pvdb_rows_src), first by the origin of its rows, which needs no row.
 *
 * Reproducibility: every byte comes from the input (no time, no pid, no
 * uninitialised memory: records and payloads are zeroed before their
 * fields are put), encodings are chosen by exact size, dictionaries are
 * sorted, and neither the thread count nor the cache changes a byte.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <xxhash.h>

#include "encode.h"
#include "pvdb.h"
#include "pvdb_cache.h"
#include "pvdb_format.h"
#include "pvdb_secidx.h"
#include "pvdb_impl.h"
#include "schema.h"
#include "util.h"

/* One column chunk to encode, and once done what to write. */
typedef struct job {
    const pv_bake_table *t;
    const pvdb_rows_src *src;  /* where the rows come from; NULL: t->cols */
    uint32_t col;
    uint64_t first_row;
    uint32_t nrows;
    unsigned eflags;          /* PV_ENC_KEY, PV_ENC_NO_ZSTD */
    int last_of_group;
    /* results */
    int done, rc;
    char *err;                /* the worker's message when rc != 0 */
    pv_buf out;               /* the payload */
    uint64_t sum;             /* its XXH3-64 (the chunk record's checksum) */
    uint8_t enc, zflags, zmin[8], zmax[8];
    uint32_t nulls;
    uint64_t plain;
    uint8_t key[16];          /* content key (when cached) */
    uint8_t okey[16];         /* origin key, when has_okey */
    int has_okey;
    int hit;
    int data_read;            /* its rows were read (not found by origin) */
} job;

typedef struct writer {
    const char *path;       /* the target, for messages */
    char *tmp;              /* the temporary file, NULL once renamed */
    int fd;
    uint64_t pos;           /* bytes written so far */
    uint32_t rpg;           /* rows per row group */
    unsigned flags;         /* PVDB_WRITE_* */
    const pv_bake_opts *opts;
    pv_buf tables, columns, chunks, strings;  /* directory sections */
    uint32_t ncolumns, nchunks;
    pv_buf indexes;           /* index records (pvdb_secidx.c) */
    uint32_t nindexes;
    /* the jobs, shared with the workers under mu */
    job *jobs;
    size_t njobs, next, written, window;
    int stop;
    pthread_mutex_t mu;
    pthread_cond_t cv_done, cv_space;
    uint64_t rows_total, rows_done;
} writer;

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

/* Rows strictly increasing by key (the index is the order). NULL keys are
 * the NOT NULL check's business; here they compare as NULL. */
static int check_key_order(const writer *w, const pv_bake_table *t)
{
    const pv_schema *s = t->schema;
    uint64_t r;
    if (s->npk == 1 && s->cols[s->pk[0]].type == PV_INTEGER && !t->cols[s->pk[0]].nulls) {
        const int64_t *k = t->cols[s->pk[0]].u.i;
        for (r = 1; r < t->nrows; r++)
            if (k[r] <= k[r - 1]) goto bad;
        return PV_OK;
    }
    for (r = 1; r < t->nrows; r++) {
        uint32_t k;
        int c = 0;
        for (k = 0; k < s->npk && c == 0; k++) {
            /* pv_vec_get takes a 32-bit row: index the vector by hand */
            pv_vec va = t->cols[s->pk[k]], vb = va;
            pv_value a, b;
            if (va.nulls) { va.nulls += r - 1; vb.nulls += r; }
            switch (va.type) {
            case PV_REAL: va.u.f += r - 1; vb.u.f += r; break;
            case PV_TEXT:
            case PV_BLOB: va.u.s += r - 1; vb.u.s += r; break;
            default: va.u.i += r - 1; vb.u.i += r; break;
            }
            a = pv_vec_get(&va, 0);
            b = pv_vec_get(&vb, 0);
            c = pv_value_cmp(&a, &b);
        }
        if (c >= 0) goto bad;
    }
    return PV_OK;
bad:
    return pv_err(PV_EMISUSE, "'%s': table %s: rows not in strictly increasing key order "
                  "at row %llu", w->path, s->name, (unsigned long long)r);
}

/* Check the rows of one chunk, count its NULLs and compute its zone map. */
static int check_rows(const job *j, const pv_enc_in *in, uint32_t *nulls, pvdb_zone *z)
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
    pvdb_zone_init(z, col->type);
    pvdb_zone_add(z, &in->v, in->nrows);
    return PV_OK;
}

/* ---- column chunks ----------------------------------------------------------- */

/* The input vector of a chunk, starting at its first row. */
static pv_enc_in chunk_input(const job *j)
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
    in.flags = j->eflags;
    return in;
}

/* Encode the payload into j->out: null bitmap (when any NULL), values. */
static int encode_payload(job *j, pv_enc_ctx *ctx, const pv_enc_in *in)
{
    const pv_encoder *enc;
    uint64_t size, bm = in->null_count ? pvdb_bitmap_len(in->nrows) : 0;
    uint32_t r;
    uint8_t *p;
    int rc = pv_enc_choose(ctx, in, &enc, &size);
    if (rc) return rc;
    if (size > PVDB_MAX_CHUNK_LEN - bm)
        return pv_err(PV_ELIMIT, "column chunk of %llu bytes over the 4 GiB limit",
                      (unsigned long long)(size + bm));
    j->out.len = 0;
    rc = pv_buf_zeros(&j->out, (size_t)(bm + size));
    if (rc) return rc;
    p = (uint8_t *)j->out.p;
    for (r = 0; bm && r < in->nrows; r++)
        if (pv_enc_is_null(in, r)) p[r >> 3] |= (uint8_t)(1u << (r & 7));
    j->enc = enc->id;
    return enc->write(ctx, in, p + bm);
}

/* The rows of a chunk fetched from its source. */
static int fetch_input(const job *j, pvdb_fetch_buf *fb, pv_enc_in *in)
{
    int rc;
    memset(in, 0, sizeof *in);
    rc = j->src->fetch(j->src->ctx, j->col, j->first_row, j->nrows, &in->v, fb);
    if (rc) return rc;
    if (in->v.type != j->t->schema->cols[j->col].type)
        return pv_err(PV_EMISUSE, "the rows' source gave a vector of the wrong type");
    in->nrows = j->nrows;
    in->flags = j->eflags;
    return PV_OK;
}

/* The chunk by the origin of its rows: its origin entry, then the chunk
 * entry it names. 1 when found (no row read), else 0. */
static int origin_hit(const writer *w, job *j)
{
    const pv_column *col = &j->t->schema->cols[j->col];
    pvdb_chunk_stats st;
    uint8_t id[16];
    if (!j->src->origin(j->src->ctx, j->first_row, j->nrows, id)) return 0;
    pvdb_cache_origin_key(id, j->col, col->type, j->eflags, j->nrows, j->okey);
    j->has_okey = 1;
    if (!pvdb_cache_origin_get(w->opts->cache_dir, j->okey, j->key, &st) ||
        (col->not_null && st.nulls) || /* (read the rows: the error names one) */
        !pvdb_cache_get(w->opts->cache_dir, j->key, &j->enc, &j->out, &j->sum))
        return 0;
    j->nulls = st.nulls;
    j->zflags = st.zflags;
    memcpy(j->zmin, st.zmin, 8);
    memcpy(j->zmax, st.zmax, 8);
    j->plain = st.plain;
    j->hit = 1;
    return 1;
}

static void origin_put(const writer *w, const job *j)
{
    pvdb_chunk_stats st;
    st.nulls = j->nulls;
    st.zflags = j->zflags;
    memcpy(st.zmin, j->zmin, 8);
    memcpy(st.zmax, j->zmax, 8);
    st.plain = j->plain;
    pvdb_cache_origin_put(w->opts->cache_dir, j->okey, j->key, &st);
}

/* Everything a chunk needs before the writer thread writes it. */
static int encode_job(const writer *w, job *j, pv_enc_ctx *ctx, pv_enc_scratch *tmp,
                      pvdb_fetch_buf *fb)
{
    pv_enc_in in;
    const char *cache = w->opts->cache_dir;
    pvdb_zone z;
    int rc;
    if (j->src && cache && origin_hit(w, j)) return PV_OK;
    j->data_read = 1;
    if (j->src) rc = fetch_input(j, fb, &in);
    else in = chunk_input(j), rc = PV_OK;
    if (rc == PV_OK) rc = check_rows(j, &in, &in.null_count, &z);
    if (rc == PV_OK) rc = pv_enc_prepare(ctx, &in);
    if (rc) return rc;
    j->nulls = in.null_count;
    pvdb_zone_put(&z, &j->zflags, j->zmin, j->zmax);
    j->plain = (in.null_count ? pvdb_bitmap_len(in.nrows) : 0) +
               (pv_enc_is_str(in.v.type) ? 4 * ((uint64_t)in.nrows + 1) + in.str_bytes
                                         : 8 * (uint64_t)in.nrows);
    if (cache) {
        rc = pvdb_cache_key(&in, j->eflags, tmp, j->key);
        if (rc) return rc;
        if (pvdb_cache_get(cache, j->key, &j->enc, &j->out, &j->sum)) {
            j->hit = 1;
            if (j->has_okey) origin_put(w, j);
            return PV_OK;
        }
    }
    rc = encode_payload(j, ctx, &in);
    /* (hashed here, on a worker: the writer thread only writes) */
    if (rc == PV_OK) j->sum = XXH3_64bits(j->out.p, j->out.len);
    if (rc == PV_OK && cache) {
        pvdb_cache_put(cache, j->key, j->enc, j->out.p, j->out.len, j->sum);
        if (j->has_okey) origin_put(w, j);
    }
    return rc;
}

static int write_chunk(writer *w, const job *j)
{
    uint8_t *rec;
    int rc = write_padding(w);
    if (rc) return rc;
    rec = new_record(&w->chunks, PVDB_CHUNK_RECSZ);
    if (!rec) return PV_ENOMEM;
    pv_put_u64(rec + PVDB_K_OFFSET, w->pos);
    pv_put_u64(rec + PVDB_K_LENGTH, j->out.len);
    pv_put_u32(rec + PVDB_K_ROW_COUNT, j->nrows);
    pv_put_u32(rec + PVDB_K_NULL_COUNT, j->nulls);
    rec[PVDB_K_ENCODING] = j->enc;
    rec[PVDB_K_ZONE_FLAGS] = j->zflags;
    pv_put_u64(rec + PVDB_K_CHECKSUM, j->sum);
    memcpy(rec + PVDB_K_MIN, j->zmin, 8);
    memcpy(rec + PVDB_K_MAX, j->zmax, 8);
    pv_put_u64(rec + PVDB_K_PLAIN_LEN, j->plain);
    return write_bytes(w, j->out.p, j->out.len);
}

/* ---- workers ------------------------------------------------------------------- */

/* Encode job i (any thread), recording the outcome in it. */
static void run_job(writer *w, size_t i, pv_enc_ctx *ctx, pv_enc_scratch *tmp,
                    pvdb_fetch_buf *fb)
{
    job *j = &w->jobs[i];
    int rc = encode_job(w, j, ctx, tmp, fb);
    if (rc) {
        pv_err_prefix("'%s': table %s, column %s, row %llu", w->path, j->t->schema->name,
                      j->t->schema->cols[j->col].name, (unsigned long long)j->first_row);
        j->err = strdup(pv_errmsg());
    }
    j->rc = rc;
}

/* A job's outcome as this thread's error. */
static int job_error(const job *j)
{
    if (!j->rc) return PV_OK;
    return pv_err(j->rc, "%s", j->err ? j->err : "column chunk not encoded (out of memory)");
}

static void *worker_main(void *arg)
{
    writer *w = arg;
    pv_enc_ctx ctx = PV_ENC_CTX_INIT;
    pv_enc_scratch tmp = {NULL, 0};
    pvdb_fetch_buf fb;
    memset(&fb, 0, sizeof fb);
    pthread_mutex_lock(&w->mu);
    for (;;) {
        size_t i;
        while (!w->stop && w->next < w->njobs && w->next >= w->written + w->window)
            pthread_cond_wait(&w->cv_space, &w->mu);
        if (w->stop || w->next >= w->njobs) break;
        i = w->next++;
        pthread_mutex_unlock(&w->mu);
        run_job(w, i, &ctx, &tmp, &fb);
        pthread_mutex_lock(&w->mu);
        w->jobs[i].done = 1;
        pthread_cond_broadcast(&w->cv_done);
    }
    pthread_mutex_unlock(&w->mu);
    pv_enc_ctx_free(&ctx);
    free(tmp.p);
    free(fb.data.p);
    free(fb.nulls.p);
    return NULL;
}

static unsigned thread_count(const pv_bake_opts *o, size_t njobs)
{
    long n = o->threads ? (long)o->threads : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (n > 16) n = 16;
    if ((size_t)n > njobs) n = (long)(njobs ? njobs : 1);
    return (unsigned)n;
}

/* Encode every job (workers) and write them in order (this thread). */
static int run_jobs(writer *w)
{
    unsigned nthreads = thread_count(w->opts, w->njobs), started = 0, t;
    pthread_t th[16];
    int rc = PV_OK;
    size_t i;
    w->window = 4 * (size_t)nthreads + 4;
    if (nthreads > 1)
        for (t = 0; t < nthreads; t++) {
            if (pthread_create(&th[t], NULL, worker_main, w) != 0) break;
            started++;
        }
    if (!started) { /* one thread, or none could start: do it here */
        pv_enc_ctx ctx = PV_ENC_CTX_INIT;
        pv_enc_scratch tmp = {NULL, 0};
        pvdb_fetch_buf fb;
        memset(&fb, 0, sizeof fb);
        for (i = 0; i < w->njobs && rc == PV_OK; i++) {
            run_job(w, i, &ctx, &tmp, &fb);
            rc = job_error(&w->jobs[i]);
            if (rc == PV_OK) rc = write_chunk(w, &w->jobs[i]);
            pv_buf_free(&w->jobs[i].out);
            if (rc == PV_OK && w->jobs[i].last_of_group && w->opts->progress) {
                w->rows_done += w->jobs[i].nrows;
                w->opts->progress(w->opts->progress_ctx, w->rows_done, w->rows_total);
            }
        }
        pv_enc_ctx_free(&ctx);
        free(tmp.p);
        free(fb.data.p);
        free(fb.nulls.p);
        return rc;
    }
    for (i = 0; i < w->njobs && rc == PV_OK; i++) {
        job *j = &w->jobs[i];
        pthread_mutex_lock(&w->mu);
        while (!j->done) pthread_cond_wait(&w->cv_done, &w->mu);
        pthread_mutex_unlock(&w->mu);
        rc = job_error(j);
        if (rc == PV_OK) rc = write_chunk(w, j);
        pv_buf_free(&j->out);
        pthread_mutex_lock(&w->mu);
        w->written = i + 1;
        if (rc) w->stop = 1;
        pthread_cond_broadcast(&w->cv_space);
        pthread_mutex_unlock(&w->mu);
        if (rc == PV_OK && j->last_of_group && w->opts->progress) {
            w->rows_done += j->nrows;
            w->opts->progress(w->opts->progress_ctx, w->rows_done, w->rows_total);
        }
    }
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->cv_space);
    pthread_mutex_unlock(&w->mu);
    for (t = 0; t < started; t++) pthread_join(th[t], NULL);
    return rc;
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

/* Check a table, add its directory records and queue its chunks (rows
 * from src when not NULL, else from t->cols). */
static int plan_table(writer *w, const pv_bake_table *t, const pvdb_rows_src *src)
{
    const pv_schema *s = t->schema;
    uint64_t ngroups, g;
    uint32_t first_col = w->ncolumns, first_chunk = w->nchunks, c;
    int rc = check_schema(w, s);
    if (rc) return rc;
    if (src && s->nindexes && !t->cols) /* (pvdb_secidx.c reads whole vectors) */
        return pv_err(PV_EMISUSE, "'%s': table %s: rows from a source with secondary "
                      "indexes, and no vectors of the indexed columns", w->path, s->name);
    if (t->nrows && !t->cols && !src)
        return pv_err(PV_EMISUSE, "'%s': table %s: no column vectors", w->path, s->name);
    ngroups = (t->nrows + w->rpg - 1) / w->rpg;
    if (t->nrows > UINT64_MAX - w->rpg || ngroups > UINT32_MAX ||
        ngroups * s->ncols > UINT32_MAX - w->nchunks ||
        s->ncols > UINT32_MAX - w->ncolumns)
        return pv_err(PV_ELIMIT, "'%s': table %s: too many rows or chunks", w->path,
                      s->name);
    for (c = 0; c < s->ncols; c++)
        if (t->nrows && !src && t->cols[c].type != s->cols[c].type)
            return pv_err(PV_EMISUSE, "'%s': table %s: vector %u has the wrong type",
                          w->path, s->name, c);
    if (t->nrows && !src) {
        rc = check_key_order(w, t);
        if (rc) return rc;
    }
    rc = add_columns(w, s);
    if (rc) return rc;
    w->ncolumns += s->ncols;
    rc = add_table_record(w, t, first_col, first_chunk, (uint32_t)ngroups);
    if (rc) return rc;
    w->nchunks += (uint32_t)(ngroups * s->ncols); /* records come as chunks are written */
    for (g = 0; g < ngroups; g++) {
        for (c = 0; c < s->ncols; c++) {
            job *j = &w->jobs[w->njobs++];
            memset(j, 0, sizeof *j);
            j->t = t;
            j->src = src;
            j->col = c;
            j->first_row = g * w->rpg;
            j->nrows = (uint32_t)(t->nrows - j->first_row < w->rpg ? t->nrows - j->first_row
                                                                   : w->rpg);
            j->eflags = (s->cols[c].pk_pos >= 0 ? PV_ENC_KEY : 0) |
                        ((w->flags & PVDB_WRITE_NO_ZSTD) ? PV_ENC_NO_ZSTD : 0);
            j->last_of_group = c + 1 == s->ncols;
        }
    }
    w->rows_total += t->nrows;
    return PV_OK;
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
    pv_put_u32(dh + PVDB_D_MAX_GROUP_ROWS, w->rpg);
    pv_put_u32(dh + PVDB_D_BLOCK_ROWS, PV_BLOCK_ROWS);
    pv_put_u64(dh + PVDB_D_TABLES_OFF, at);
    at += w->tables.len;
    pv_put_u64(dh + PVDB_D_COLUMNS_OFF, at);
    at += w->columns.len;
    pv_put_u64(dh + PVDB_D_CHUNKS_OFF, at);
    at += w->chunks.len;
    if (w->nindexes) {
        pv_put_u32(dh + PVDB_D_INDEX_COUNT, w->nindexes);
        pv_put_u32(dh + PVDB_D_INDEX_RECSZ, PVDB_INDEX_RECSZ);
        pv_put_u64(dh + PVDB_D_INDEXES_OFF, at);
        at += w->indexes.len;
    }
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
    if (w->indexes.len) XXH3_64bits_update(st, w->indexes.p, w->indexes.len);
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
    if (rc == PV_OK && w->indexes.len) rc = write_bytes(w, w->indexes.p, w->indexes.len);
    if (rc == PV_OK) rc = write_bytes(w, w->strings.p, w->strings.len);
    return rc;
}

/* The secondary index sections after the chunks (pvdb_secidx.c). */
static int io_write(void *ctx, const void *p, size_t n) { return write_bytes(ctx, p, n); }
static int io_string(void *ctx, const char *s, size_t n, uint8_t *ref) { return add_string(ctx, s, n, ref); }

static int write_indexes(writer *w, const pv_bake_table *tables, size_t ntables)
{
    pvdb_secidx_io io = {w, io_write, io_string, &w->pos, w->path};
    int rc = write_padding(w);
    return rc ? rc : pvdb_secidx_write(tables, ntables, &io, &w->indexes, &w->nindexes);
}

/* Fill the header fields that do not depend on the directory, checksum all. */
static void finish_header(uint8_t *hdr, uint32_t version)
{
    memcpy(hdr + PVDB_H_MAGIC, PVDB_MAGIC, PVDB_MAGIC_LEN);
    pv_put_u32(hdr + PVDB_H_VERSION, version);
    pv_put_u32(hdr + PVDB_H_HEADER_SIZE, PVDB_HEADER_SIZE);
    pv_put_u32(hdr + PVDB_H_REQUIRED, 0);
    pv_put_u32(hdr + PVDB_H_COMPAT, 0);
    pv_put_u64(hdr + PVDB_H_CHECKSUM, XXH3_64bits(hdr, PVDB_H_CHECKSUM));
}

static int write_header(writer *w, uint8_t *hdr)
{
    finish_header(hdr, w->nindexes ? PVDB_VERSION_INDEXES : PVDB_VERSION);
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
    size_t i;
    if (w->fd >= 0) close(w->fd);
    if (w->tmp) {
        unlink(w->tmp);
        free(w->tmp);
    }
    for (i = 0; w->jobs && i < w->njobs; i++) {
        pv_buf_free(&w->jobs[i].out);
        free(w->jobs[i].err);
    }
    free(w->jobs);
    pv_buf_free(&w->tables);
    pv_buf_free(&w->columns);
    pv_buf_free(&w->chunks);
    pv_buf_free(&w->strings);
    pv_buf_free(&w->indexes);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv_done);
    pthread_cond_destroy(&w->cv_space);
}

static int cmp_key(const void *a, const void *b) { return memcmp(a, b, 16); }

/* After a successful bake: forget the entries this bake did not use. */
static void prune_cache(const writer *w)
{
    uint8_t (*keys)[16] = malloc((w->njobs ? w->njobs : 1) * 2 * 16);
    size_t i, n = 0;
    if (!keys) return;
    for (i = 0; i < w->njobs; i++) {
        memcpy(keys[n++], w->jobs[i].key, 16);
        if (w->jobs[i].has_okey) memcpy(keys[n++], w->jobs[i].okey, 16);
    }
    qsort(keys, n, 16, cmp_key);
    pvdb_cache_prune(w->opts->cache_dir, (const uint8_t (*)[16])keys, n);
    free(keys);
}

int pvdb_write_src(const char *path, const pv_bake_table *tables,
                   const pvdb_rows_src *const *srcs, size_t ntables, const pv_bake_info *info,
                   const pv_bake_opts *opts, uint64_t *origin_hits)
{
    writer w;
    uint8_t hdr[PVDB_HEADER_SIZE];
    uint64_t total = 0;
    size_t i;
    int rc;
    memset(&w, 0, sizeof w);
    memset(hdr, 0, sizeof hdr);
    w.fd = -1;
    w.path = path;
    if (!path || (ntables && !tables) || !opts || opts->version != PV_BAKE_OPTS_VERSION ||
        opts->rows_per_group > PVDB_MAX_ROWS_PER_GROUP)
        return pv_err(PV_EMISUSE, "pv_bake_write: bad arguments");
    if (ntables > PV_MAX_TABLES)
        return pv_err(PV_ELIMIT, "'%s': more than %d tables", path, PV_MAX_TABLES);
    w.opts = opts;
    w.rpg = opts->rows_per_group ? opts->rows_per_group : PVDB_ROWS_PER_GROUP;
    w.flags = opts->flags;
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv_done, NULL);
    pthread_cond_init(&w.cv_space, NULL);
    for (i = 0; i < ntables; i++) {
        const pv_schema *s = tables[i].schema;
        if (s && s->ncols <= PV_MAX_COLUMNS)
            total += (tables[i].nrows + w.rpg - 1) / w.rpg * s->ncols;
    }
    if (total > UINT32_MAX) {
        writer_free(&w);
        return pv_err(PV_ELIMIT, "'%s': too many column chunks", path);
    }
    w.jobs = malloc((size_t)(total ? total : 1) * sizeof *w.jobs);
    if (!w.jobs) {
        writer_free(&w);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    rc = opts->cache_dir ? pvdb_cache_mkdir(opts->cache_dir) : PV_OK;
    if (rc == PV_OK) rc = open_tmp(&w);
    if (rc == PV_OK) rc = write_bytes(&w, hdr, sizeof hdr);
    for (i = 0; rc == PV_OK && i < ntables; i++)
        rc = plan_table(&w, &tables[i], srcs ? srcs[i] : NULL);
    if (rc == PV_OK) rc = run_jobs(&w);
    if (rc == PV_OK) rc = write_indexes(&w, tables, ntables);
    if (rc == PV_OK) rc = write_directory(&w, info, (uint32_t)ntables, hdr);
    if (rc == PV_OK) rc = write_header(&w, hdr);
    if (rc == PV_OK) rc = commit_tmp(&w);
    if (rc == PV_OK && opts->stats) {
        memset(opts->stats, 0, sizeof *opts->stats);
        opts->stats->chunks = w.njobs;
        opts->stats->rows = w.rows_total;
        for (i = 0; i < w.njobs; i++) opts->stats->cache_hits += (uint64_t)w.jobs[i].hit;
    }
    if (rc == PV_OK && origin_hits)
        for (*origin_hits = 0, i = 0; i < w.njobs; i++)
            *origin_hits += (uint64_t)(w.jobs[i].hit && w.jobs[i].src && !w.jobs[i].data_read);
    if (rc == PV_OK && opts->cache_dir) prune_cache(&w);
    writer_free(&w);
    return rc;
}

int pv_bake_write_opts(const char *path, const pv_bake_table *tables, size_t ntables,
                       const pv_bake_info *info, const pv_bake_opts *opts)
{
    return pvdb_write_src(path, tables, NULL, ntables, info, opts, NULL);
}

int pvdb_write_ex(const char *path, const pv_bake_table *tables, size_t ntables,
                  const pv_bake_info *info, uint32_t rows_per_group, unsigned flags)
{
    pv_bake_opts o = PV_BAKE_OPTS_INIT;
    if (rows_per_group == 0) return pv_err(PV_EMISUSE, "pv_bake_write: bad arguments");
    o.rows_per_group = rows_per_group;
    o.flags = flags;
    return pv_bake_write_opts(path, tables, ntables, info, &o);
}

int pv_bake_write(const char *path, const pv_bake_table *tables, size_t ntables,
                  const pv_bake_info *info)
{
    pv_bake_opts o = PV_BAKE_OPTS_INIT;
    return pv_bake_write_opts(path, tables, ntables, info, &o);
}
