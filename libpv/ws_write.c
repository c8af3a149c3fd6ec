/*
 * ws_write.c: inserting rows into a workspace table.
 *
 * An insert is checked whole (types, NOT NULL, primary keys against the
 * table and within the insert) before a byte is written, so bad input never
 * touches committed data. Records are then appended to the newest chunk,
 * starting a new chunk file whenever the current one reaches the seal size.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "blobstore.h"
#include "ws_internal.h"

static ws_table *find_table(pv_ws *ws, const char *name)
{
    int i = pv_ws_table_find(ws, name, strlen(name));
    return i < 0 ? NULL : ws->tables[i];
}

/* 32 random hex digits: a key no other branch will generate. */
static int random_key(pv_arena *a, pv_value *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char raw[16];
    char *s;
    size_t got = 0;
    int i;
    while (got < sizeof raw) {
        ssize_t n = getrandom(raw + got, sizeof raw - got, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return pv_err_errno("getrandom");
        got += (size_t)n;
    }
    s = pv_arena_alloc(a, 33);
    if (!s) return pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < 16; i++) {
        s[2 * i] = hex[raw[i] >> 4];
        s[2 * i + 1] = hex[raw[i] & 15];
    }
    s[32] = '\0';
    *out = pv_v_text(s, 32);
    return PV_OK;
}

static void where(char *buf, size_t cap, const char *origin, size_t first_line, size_t r)
{
    if (origin) snprintf(buf, cap, " (%s:%zu)", origin, first_line + r);
    else if (first_line) snprintf(buf, cap, " (row %zu)", first_line + r);
    else snprintf(buf, cap, " (row %zu of the statement)", r + 1);
}

static void key_text(pv_buf *b, const pv_schema *s, const pv_value *row)
{
    uint32_t k;
    for (k = 0; k < s->npk; k++) {
        if (k) pv_buf_putc(b, ',');
        pv_chunk_encode_value(b, &row[s->pk[k]]);
    }
}

/* Convert one row to the column types into `out`; strings in `a`. */
static int convert_row(const ws_table *t, const pv_value *in, pv_value *out, pv_arena *a,
                       const char *at)
{
    const pv_schema *s = t->schema;
    uint32_t c;
    int rc;
    for (c = 0; c < s->ncols; c++) {
        const pv_column *col = &s->cols[c];
        char scratch[32];
        if (col->hidden && in[c].type == PV_NULL) {
            if ((rc = random_key(a, &out[c]))) return rc;
            continue;
        }
        rc = pv_value_convert(&in[c], col->type, &out[c], scratch);
        if (rc == PV_EINPUT)
            return pv_err(PV_EINPUT, "table %s, column %s: text is not valid UTF-8%s", s->name, col->name, at);
        if (rc)
            return pv_err(PV_ETYPE, "table %s, column %s: cannot store a %s value in a %s column%s",
                          s->name, col->name, pv_type_name(in[c].type), pv_type_name(col->type), at);
        if (out[c].type == PV_TEXT && out[c].u.s.p == scratch) { /* a number as text */
            char *p = pv_arena_dup(a, scratch, out[c].u.s.n);
            if (!p) return pv_err(PV_ENOMEM, "out of memory");
            out[c].u.s.p = p;
        }
        if (out[c].type == PV_NULL && col->not_null)
            return pv_err(PV_ECONSTRAINT, "table %s: NULL in NOT NULL column %s%s", s->name, col->name, at);
    }
    return PV_OK;
}

/* Primary keys of the new rows must be new and distinct. A small private
 * open-addressing set finds duplicates within the insert. */
static int check_keys(const ws_table *t, const pv_value *rows, size_t nrows,
                      const char *origin, size_t first_line)
{
    const pv_schema *s = t->schema;
    size_t nslots = 16, r, *slots;
    int rc = PV_OK;
    while (nslots < nrows * 2) nslots *= 2;
    slots = calloc(nslots, sizeof *slots);
    if (!slots) return pv_err(PV_ENOMEM, "out of memory");
    for (r = 0; r < nrows && !rc; r++) {
        const pv_value *row = &rows[r * s->ncols];
        uint64_t h = ws_key_hash(s, row);
        size_t i;
        char at[512];
        long old = ws_key_find(t, row, h);
        if (old >= 0 && t->live[old]) {
            pv_buf k = PV_BUF_INIT;
            key_text(&k, s, row);
            where(at, sizeof at, origin, first_line, r);
            rc = pv_err(PV_ECONSTRAINT, "table %s: duplicate primary key %s%s: the table already has it",
                        s->name, k.p ? k.p : "?", at);
            pv_buf_free(&k);
            break;
        }
        for (i = h & (nslots - 1);; i = (i + 1) & (nslots - 1)) {
            uint32_t kk;
            const pv_value *other;
            int same = 1;
            if (!slots[i]) {
                slots[i] = r + 1;
                break;
            }
            other = &rows[(slots[i] - 1) * s->ncols];
            for (kk = 0; kk < s->npk && same; kk++)
                same = pv_value_cmp(&row[s->pk[kk]], &other[s->pk[kk]]) == 0;
            if (same) {
                pv_buf k = PV_BUF_INIT;
                char first[512];
                key_text(&k, s, row);
                where(at, sizeof at, origin, first_line, r);
                where(first, sizeof first, origin, first_line, slots[i] - 1);
                rc = pv_err(PV_ECONSTRAINT, "table %s: duplicate primary key %s%s; first at%s",
                            s->name, k.p ? k.p : "?", at, first);
                pv_buf_free(&k);
                break;
            }
        }
    }
    free(slots);
    return rc;
}

/* Large TEXT and BLOB values go to the blob store; refs[] says which. */
static int store_blobs(pv_ws *ws, const ws_table *t, const pv_value *row, pv_blobref *refs,
                       int *any)
{
    uint32_t c;
    int rc;
    *any = 0;
    for (c = 0; c < t->schema->ncols; c++) {
        refs[c].present = 0;
        if ((row[c].type == PV_TEXT || row[c].type == PV_BLOB) && row[c].u.s.n > PV_BLOB_THRESHOLD) {
            if ((rc = pv_blob_put(ws->pvdir, row[c].u.s.p, row[c].u.s.n, 1, &refs[c]))) return rc;
            *any = 1;
        }
    }
    return PV_OK;
}

/* Append `buf` to chunk `num`, creating it with its header when new. */
static int append_chunk(ws_table *t, uint32_t num, int is_new, const pv_buf *buf)
{
    char path[4400];
    pv_buf head = PV_BUF_INIT;
    int fd, rc;
    if ((rc = ws_chunk_path(path, sizeof path, t, num))) return rc;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return pv_err_errno("cannot open '%s'", path);
    if (is_new) {
        rc = pv_chunk_encode_header(&head, t->schema);
        if (!rc) rc = pv_write_all(fd, head.p, head.len, path);
    }
    if (!rc) rc = pv_write_all(fd, buf->p, buf->len, path);
    if (!rc && fsync(fd) != 0) rc = pv_err_errno("cannot sync '%s'", path);
    if (close(fd) != 0 && !rc) rc = pv_err_errno("cannot close '%s'", path);
    if (!rc) {
        t->last_chunk = num;
        t->last_size = (is_new ? head.len : t->last_size) + buf->len;
    }
    pv_buf_free(&head);
    return rc;
}

/* Encode and append all rows, sealing chunks at PV_CHUNK_SEAL_BYTES. */
static int write_rows(pv_ws *ws, ws_table *t, const pv_value *rows, size_t nrows)
{
    const pv_schema *s = t->schema;
    pv_buf buf = PV_BUF_INIT;
    pv_blobref *refs = calloc(s->ncols, sizeof *refs);
    uint32_t num = t->last_chunk ? t->last_chunk : 1;
    /* An empty newest chunk (a crash cut its torn header away) is reused,
     * and gets its header: every chunk starts with one. */
    int is_new = t->last_size == 0 || t->last_size >= PV_CHUNK_SEAL_BYTES;
    uint64_t size = is_new ? 0 : t->last_size;
    size_t r;
    int rc = PV_OK, any;

    if (!refs) return pv_err(PV_ENOMEM, "out of memory");
    if (t->last_chunk && t->last_size >= PV_CHUNK_SEAL_BYTES) num++;
    for (r = 0; r < nrows && !rc; r++) {
        const pv_value *row = &rows[r * s->ncols];
        if ((rc = store_blobs(ws, t, row, refs, &any))) break;
        if ((rc = pv_chunk_encode_row(&buf, s, row, any ? refs : NULL))) break;
        if (size + buf.len >= PV_CHUNK_SEAL_BYTES) {
            if ((rc = append_chunk(t, num, is_new, &buf))) break;
            buf.len = 0;
            size = 0;
            num++;
            is_new = 1;
        }
    }
    if (!rc && buf.len) rc = append_chunk(t, num, is_new, &buf);
    pv_buf_free(&buf);
    free(refs);
    return rc;
}

static int apply_rows(ws_table *t, const pv_value *rows, size_t nrows)
{
    size_t r, idx;
    int rc;
    for (r = 0; r < nrows; r++) {
        const pv_value *row = &rows[r * t->schema->ncols];
        uint64_t h = ws_key_hash(t->schema, row);
        long old = ws_key_find(t, row, h);
        if (old >= 0) { /* a deleted key inserted again */
            t->live[old] = 1;
            t->nlive++;
            t->vec_dirty = 1;
            if ((rc = ws_row_copy_into(t, (size_t)old, row))) return rc;
            continue;
        }
        if ((rc = ws_row_append(t, row, &idx))) return rc;
        if ((rc = ws_key_set(t, idx, h))) return rc;
    }
    return PV_OK;
}

int pv_ws_insert(pv_ws *ws, const char *table, const pv_value *rows, size_t nrows,
                 size_t ncols, const char *origin, size_t first_line)
{
    ws_table *t;
    pv_arena a = PV_ARENA_INIT;
    pv_value *conv = NULL;
    size_t r;
    int rc;

    if (!ws->writable) return pv_err(PV_EREADONLY, "workspace '%s' is open read-only", ws->root);
    if (!(t = find_table(ws, table))) return pv_err(PV_ENOTFOUND, "no such table: %s", table);
    if (ncols != t->schema->ncols)
        return pv_err(PV_EMISUSE, "table %s has %u columns, %zu given", table, t->schema->ncols, ncols);
    if (nrows == 0) return PV_OK;
    if ((rc = ws_table_load(ws, t))) return rc;
    if (nrows > SIZE_MAX / sizeof *conv / ncols) return pv_err(PV_ELIMIT, "too many rows");
    conv = malloc(nrows * ncols * sizeof *conv);
    if (!conv) return pv_err(PV_ENOMEM, "out of memory (%zu rows)", nrows);
    for (r = 0; r < nrows; r++) {
        char at[512];
        where(at, sizeof at, origin, first_line, r);
        if ((rc = convert_row(t, &rows[r * ncols], &conv[r * ncols], &a, at))) goto done;
    }
    if ((rc = check_keys(t, conv, nrows, origin, first_line))) goto done;
    if ((rc = write_rows(ws, t, conv, nrows))) goto done;
    rc = apply_rows(t, conv, nrows);
done:
    free(conv);
    pv_arena_free(&a);
    return rc;
}
