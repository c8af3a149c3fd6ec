/*
 * fuzz_pvdb.c: libFuzzer target for the `.pvdb` reader: pvdb_open, a full
 * scan of every column of every table, pvdb_column_info_get, pvdb_verify,
 * then pv_open and a few SELECTs through the SQL engine, among them
 * lookups through each baked secondary index (`=`, `>=`, `<` on its first
 * column: pvdb_source_secidx_find and the row lists it decodes).
 *
 * The input is a whole file (written to a private temporary directory,
 * since pvdb_open takes a path). It runs twice: as given, and, when it
 * starts with the magic, with every checksum recomputed (chunk checksums,
 * then the directory's, then the header's), so that mutations reach the
 * structure checks and the decoders instead of dying at a checksum. The
 * fix-up follows format version 3 (docs/FORMAT.md part 3: 3.3, 3.4, 3.6,
 * and the index records' section checksums of 3.12):
 * it also sets file_size to the real size and dir_length to file_size -
 * dir_offset, so that mutations which insert or erase bytes reach the
 * directory checks; it checks every bound itself, so on another layout it
 * only does less. With PV_FUZZ_VERBOSE set, the process prints at exit how
 * far inputs got (opened, fully scanned) as given and fixed up.
 *
 * Oracles besides "no crash, no out-of-bounds read":
 *   - a scan yields exactly the table's row count, in batches of 1..1024;
 *   - when pvdb_verify accepts the file, every scan succeeded (verify checks
 *     every chunk, so a scan cannot find more damage than it);
 *   - pv_open accepts what pvdb_open accepted, and SELECT count(*) agrees
 *     with the row count;
 *   - queries on a table whose scan succeeded fail only with a type or
 *     range error, or with damage when pvdb_verify refused the file;
 *   - when pvdb_verify accepts the file, a count through a baked index
 *     succeeds and equals the same count by a full scan.
 */
#include "fuzz_common.h"

#include <xxhash.h>

#include "exec.h"
#include "pv.h"
#include "pvdb.h"
#include "pvdb_format.h"
#include "util.h"

static char file_path[320];

static void fail(const char *why, const char *detail)
{
    fprintf(stderr, "fuzz_pvdb: %s%s%s\n", why, detail ? ": " : "", detail ? detail : "");
    abort();
}

/* Scan every column of table i; returns 0 or the scan's error code. */
static int scan_table(pvdb_file *f, uint32_t i, volatile uint64_t *sink)
{
    pv_source src;
    pv_scan *scan = NULL;
    pv_batch b;
    uint32_t cols[PV_MAX_COLUMNS], c, r;
    uint64_t rows = 0;
    int n, rc;

    if (pvdb_table_source(f, i, &src)) fail("pvdb_table_source refused a table index", NULL);
    if (src.schema->ncols > PV_MAX_COLUMNS) fail("too many columns accepted", NULL);
    for (c = 0; c < src.schema->ncols; c++) cols[c] = c;
    if ((rc = src.ops->scan_open(&src, cols, src.schema->ncols, &scan))) return rc;
    while ((n = src.ops->scan_next(scan, &b)) > 0) {
        if (n > PV_BATCH_ROWS || (uint32_t)n != b.nrows || b.ncols != src.schema->ncols)
            fail("bad batch shape", NULL);
        rows += (uint64_t)n;
        for (c = 0; c < b.ncols; c++) {
            const pv_vec *v = &b.cols[c];
            for (r = 0; r < b.nrows; r++) {
                pv_value x = pv_vec_get(v, r);
                /* Touch the bytes, so ASan sees every read. */
                if (x.type == PV_TEXT || x.type == PV_BLOB) {
                    size_t k;
                    for (k = 0; k < x.u.s.n; k++) *sink += (unsigned char)x.u.s.p[k];
                } else {
                    *sink += (uint64_t)x.u.i;
                }
            }
        }
    }
    src.ops->scan_close(scan);
    if (n < 0) return n;
    if (rows != src.nrows) fail("a scan returned another number of rows than the table has", NULL);
    return 0;
}

/* Append a double-quoted identifier. */
static void quote_ident(pv_buf *b, const char *name)
{
    pv_buf_putc(b, '"');
    for (; *name; name++) {
        if (*name == '"') pv_buf_putc(b, '"');
        pv_buf_putc(b, *name);
    }
    pv_buf_putc(b, '"');
}

/* Run one statement to the end (at most 5000 rows); returns its code. */
static int run_sql(pv_db *db, const pv_buf *sql, int64_t *first)
{
    pv_stmt *st = NULL;
    int rc, rows = 0, i;
    if (!sql->p) return PV_ENOMEM;
    if ((rc = pv_prepare(db, sql->p, sql->len, &st, NULL))) return rc;
    while (rows < 5000 && (rc = pv_step(st)) == PV_ROW) {
        if (rows++ == 0 && first) *first = pv_column_int64(st, 0);
        for (i = 0; i < pv_column_count(st); i++) {
            (void)pv_column_text(st, i);
            (void)pv_column_blob(st, i);
        }
    }
    pv_finalize(st);
    return rc == PV_ROW ? 0 : rc;
}

/* Prepare sql (one `?`), bind v (as read from a result column of type
 * `type`) and count: *count, or the error code. */
static int count_bound(pv_db *db, const pv_buf *sql, int type, const pv_buf *v, int64_t *count)
{
    pv_stmt *st = NULL;
    int rc;
    if ((rc = pv_prepare(db, sql->p, sql->len, &st, NULL))) return rc;
    switch (type) {
    case PV_INTEGER: case PV_BOOLEAN: rc = pv_bind_int64(st, 1, *(const int64_t *)v->p); break;
    case PV_REAL: rc = pv_bind_double(st, 1, *(const double *)v->p); break;
    case PV_TEXT: rc = pv_bind_text(st, 1, v->p, v->len); break;
    default: rc = pv_bind_blob(st, 1, v->p, v->len); break;
    }
    if (rc == 0 && (rc = pv_step(st)) == PV_ROW) {
        *count = pv_column_int64(st, 0);
        rc = pv_step(st) == PV_DONE ? 0 : -1;
    }
    pv_finalize(st);
    return rc;
}

/* The first non-NULL value of column `col` of `table` into *v (an int64_t,
 * a double, or the bytes); its type, or PV_NULL when there is none. */
static int first_value(pv_db *db, const char *table, const char *col, pv_buf *v)
{
    pv_buf sql = PV_BUF_INIT;
    pv_stmt *st = NULL;
    int type = PV_NULL;
    pv_buf_append(&sql, "SELECT ", 7);
    quote_ident(&sql, col);
    pv_buf_append(&sql, " FROM ", 6);
    quote_ident(&sql, table);
    pv_buf_append(&sql, " WHERE ", 7);
    quote_ident(&sql, col);
    pv_buf_append(&sql, " IS NOT NULL LIMIT 1", 20);
    if (sql.p && pv_prepare(db, sql.p, sql.len, &st, NULL) == 0 && pv_step(st) == PV_ROW) {
        type = pv_column_type(st, 0);
        if (type == PV_INTEGER || type == PV_BOOLEAN) {
            int64_t i = pv_column_int64(st, 0);
            pv_buf_append(v, &i, sizeof i);
        } else if (type == PV_REAL) {
            double d = pv_column_double(st, 0);
            pv_buf_append(v, &d, sizeof d);
        } else if (type == PV_TEXT || type == PV_BLOB) {
            const void *p = pv_column_blob(st, 0);
            pv_buf_append(v, p ? p : "", pv_column_bytes(st, 0));
        }
    }
    pv_finalize(st);
    pv_buf_free(&sql);
    return v->p ? type : PV_NULL;
}

/* Through each baked index of table src (its first column compared with
 * a value the table holds): the index always (pv_sec_row_cost 0), then a
 * full scan (a cost so high that any row listed favours it). On a file
 * pvdb_verify accepted, both succeed with the same count. */
static void index_checks(pv_db *db, const pv_source *src, int verified)
{
    static const char *const ops[] = {" = ?", " >= ?", " < ?"};
    uint32_t x, o;
    for (x = 0; x < src->schema->nindexes && x < 4; x++) {
        const char *col = src->schema->cols[src->schema->indexes[x].cols[0]].name;
        pv_buf sql = PV_BUF_INIT, v = PV_BUF_INIT;
        int type = first_value(db, src->schema->name, col, &v), rc;
        for (o = 0; type != PV_NULL && v.p && o < 3; o++) {
            int64_t by_index = -1, by_scan = -2;
            int rs;
            sql.len = 0;
            pv_buf_append(&sql, "SELECT count(*) FROM ", 21);
            quote_ident(&sql, src->schema->name);
            pv_buf_append(&sql, " WHERE ", 7);
            quote_ident(&sql, col);
            pv_buf_append(&sql, ops[o], strlen(ops[o]));
            if (!sql.p) break;
            pv_sec_row_cost = 0;
            rc = count_bound(db, &sql, type, &v, &by_index);
            pv_sec_row_cost = UINT32_MAX;
            rs = count_bound(db, &sql, type, &v, &by_scan);
            pv_sec_row_cost = PV_SEC_ROW_COST_DEFAULT;
            if (verified && (rc || rs)) fail("a count on an indexed column failed on a verified file", pv_errmsg());
            if (verified && by_index != by_scan) fail("the index and the scan count different rows", NULL);
        }
        pv_buf_free(&sql);
        pv_buf_free(&v);
    }
}

/* May a query fail with rc on a table whose full scan succeeded? Type and
 * range errors always may; damage only when pvdb_verify did not accept
 * the file: a scan decodes the dictionary entries its rows use, while a
 * query on codes (filters, GROUP BY) decodes the whole dictionary and
 * can meet a damaged entry no row refers to (found by `make fuzz`). */
static int may_fail(int rc, int verified)
{
    return rc == PV_ERANGE || rc == PV_ETYPE || (rc == PV_ECORRUPT && !verified);
}

/* Point reads by the primary key of a one-column key (a value the table
 * holds): a prepared `SELECT * ... WHERE key = ?` (the statement's row
 * cache, holding dictionary tables and pages) and pv_get (the getter's).
 * On a file pvdb_verify accepted, both find the row. */
static void key_checks(pv_db *db, const pv_source *src, int verified, volatile uint64_t *sink)
{
    const char *col;
    pv_buf sql = PV_BUF_INIT, v = PV_BUF_INIT;
    pv_getter *g = NULL;
    pv_stmt *st = NULL;
    pv_cell key, row[PV_MAX_COLUMNS];
    int type, rc, rows = 0, i;
    if (src->schema->npk != 1) return;
    col = src->schema->cols[src->schema->pk[0]].name;
    if ((type = first_value(db, src->schema->name, col, &v)) == PV_NULL) goto done;
    key.type = type;
    switch (type) {
    case PV_INTEGER: case PV_BOOLEAN: key.u.i = *(const int64_t *)v.p; break;
    case PV_REAL: key.u.f = *(const double *)v.p; break;
    default: key.u.s.p = v.p; key.u.s.n = v.len; break;
    }
    pv_buf_append(&sql, "SELECT * FROM ", 14);
    quote_ident(&sql, src->schema->name);
    pv_buf_append(&sql, " WHERE ", 7);
    quote_ident(&sql, col);
    pv_buf_append(&sql, " = ?", 4);
    if (!sql.p || pv_prepare(db, sql.p, sql.len, &st, NULL)) goto done;
    switch (type) {
    case PV_INTEGER: case PV_BOOLEAN: rc = pv_bind_int64(st, 1, key.u.i); break;
    case PV_REAL: rc = pv_bind_double(st, 1, key.u.f); break;
    case PV_TEXT: rc = pv_bind_text(st, 1, v.p, v.len); break;
    default: rc = pv_bind_blob(st, 1, v.p, v.len); break;
    }
    /* (a TEXT key of invalid UTF-8, which verify lets through, cannot be bound) */
    while (rc == 0 && (rc = pv_step(st)) == PV_ROW) {
        rows++;
        for (i = 0; i < pv_column_count(st); i++) {
            const char *t = pv_column_text(st, i);
            size_t k, n = pv_column_bytes(st, i);
            for (k = 0; t && k <= n; k++) *sink += (unsigned char)t[k]; /* (and its NUL) */
        }
        rc = 0;
    }
    if (verified && rc != PV_EINPUT && (rc != PV_DONE || rows < 1))
        fail("a point SELECT by key missed a row the table holds", pv_errmsg());
    if (pv_getter_open(db, src->schema->name, &g)) goto done;
    rc = pv_get(g, &key, 1, row, pv_getter_columns(g));
    if (verified && rc != PV_ROW) fail("pv_get missed a key the table holds", pv_errmsg());
    for (i = 0; rc == PV_ROW && i < pv_getter_columns(g); i++)
        if (row[i].type == PV_TEXT || row[i].type == PV_BLOB) {
            size_t k;
            for (k = 0; k < row[i].u.s.n; k++) *sink += ((const unsigned char *)row[i].u.s.p)[k];
        }
done:
    pv_getter_close(g);
    pv_finalize(st);
    pv_buf_free(&sql);
    pv_buf_free(&v);
}

static void sql_checks(pvdb_file *f, const int *scan_ok, int verified, volatile uint64_t *sink)
{
    pv_db *db;
    uint32_t i, nt = pvdb_table_count(f);
    if (pv_open(file_path, PV_OPEN_READONLY, &db))
        fail("pv_open refused a file that pvdb_open accepted", pv_errmsg());
    for (i = 0; i < nt && i < 4; i++) {
        pv_source src;
        pv_buf sql = PV_BUF_INIT;
        const char *c0, *clast;
        int64_t count = -1;
        int rc;
        pvdb_table_source(f, i, &src);
        c0 = src.schema->cols[0].name;
        clast = src.schema->cols[src.schema->ncols - 1].name;

        pv_buf_append(&sql, "SELECT count(*), min(", 21);
        quote_ident(&sql, c0);
        pv_buf_append(&sql, "), max(", 7);
        quote_ident(&sql, clast);
        pv_buf_append(&sql, ") FROM ", 7);
        quote_ident(&sql, src.schema->name);
        rc = run_sql(db, &sql, &count);
        if (rc == 0 && scan_ok[i] && (uint64_t)count != src.nrows)
            fail("SELECT count(*) disagrees with the row count", NULL);
        if (rc == 0 && !scan_ok[i] && src.schema->ncols <= 2)
            fail("SELECT read every column of a table whose scan failed", NULL);

        sql.len = 0;
        pv_buf_append(&sql, "SELECT * FROM ", 14);
        quote_ident(&sql, src.schema->name);
        pv_buf_append(&sql, " WHERE ", 7);
        quote_ident(&sql, clast);
        pv_buf_append(&sql, " IS NOT NULL ORDER BY 1 DESC LIMIT 50", 37);
        rc = run_sql(db, &sql, NULL);
        if (rc && scan_ok[i] && !may_fail(rc, verified))
            fail("SELECT failed on a table that scans", pv_errmsg());

        sql.len = 0;
        pv_buf_append(&sql, "SELECT ", 7);
        quote_ident(&sql, clast);
        pv_buf_append(&sql, ", count(*) FROM ", 16);
        quote_ident(&sql, src.schema->name);
        pv_buf_append(&sql, " GROUP BY 1 ORDER BY 2 DESC LIMIT 5", 35);
        rc = run_sql(db, &sql, NULL);
        if (rc && scan_ok[i] && !may_fail(rc, verified))
            fail("GROUP BY failed on a table that scans", pv_errmsg());
        pv_buf_free(&sql);
        index_checks(db, &src, verified && scan_ok[i]);
        key_checks(db, &src, verified && scan_ok[i], sink);
    }
    if (pv_close(db)) fail("pv_close", pv_errmsg());
}

/* How far inputs got, as given [0] and fixed up [1]: runs, opened, every
 * scan OK (the fix-up's effectiveness, printed at exit when verbose). */
static unsigned long reached[2][3];

static void print_reached(void)
{
    fprintf(stderr, "fuzz_pvdb: as given: %lu runs, %lu opened, %lu scanned; "
                    "checksums fixed: %lu runs, %lu opened, %lu scanned\n",
            reached[0][0], reached[0][1], reached[0][2], reached[1][0], reached[1][1], reached[1][2]);
}

/* Returns 0 when pvdb_open refused the file, 1 when a scan failed, 2 when
 * every table scanned. */
static int check_file(const uint8_t *data, size_t size)
{
    pvdb_file *f = NULL;
    volatile uint64_t sink = 0;
    uint32_t i, c, nt;
    int all_ok = 1, *scan_ok, verified;
    const char *s;

    fz_write(file_path, data, size);
    if (pvdb_open(file_path, &f) != PV_OK) return 0;
    nt = pvdb_table_count(f);
    if (nt > PV_MAX_TABLES) fail("too many tables accepted", NULL);
    scan_ok = calloc(nt ? nt : 1, sizeof *scan_ok);
    if (!scan_ok) abort();
    for (i = 0; i < nt; i++) {
        pv_source src;
        scan_ok[i] = scan_table(f, i, &sink) == 0;
        all_ok &= scan_ok[i];
        pvdb_table_source(f, i, &src);
        for (c = 0; c < src.schema->ncols; c++) {
            pvdb_column_info info;
            if (pvdb_column_info_get(f, i, c, &info) == PV_OK && info.name) sink += strlen(info.name);
        }
        if (pvdb_find_table(f, src.schema->name, strlen(src.schema->name), &src))
            fail("pvdb_find_table cannot find a table by its own name", src.schema->name);
    }
    if ((s = pvdb_source(f))) sink += strlen(s);
    if ((s = pvdb_tool(f))) sink += strlen(s);
    verified = pvdb_verify(f) == PV_OK;
    if (verified && !all_ok) fail("pvdb_verify accepted a file whose scan failed", pv_errmsg());
    sql_checks(f, scan_ok, verified, &sink);
    free(scan_ok);
    pvdb_close(f);
    return all_ok ? 2 : 1;
}

/* Recompute the section checksum of every index record (version 3) of the
 * directory d (dir_len bytes) of file p (n bytes), checking every bound. */
static void fix_index_checksums(uint8_t *p, size_t n, uint8_t *d, uint64_t dir_len)
{
    uint32_t count = pv_get_u32(d + PVDB_D_INDEX_COUNT), recsz = pv_get_u32(d + PVDB_D_INDEX_RECSZ), k;
    uint64_t off = pv_get_u64(d + PVDB_D_INDEXES_OFF);
    if (recsz < PVDB_INDEX_RECSZ || off > dir_len || count > (dir_len - off) / recsz) return;
    for (k = 0; k < count; k++) {
        uint8_t *rec = d + off + (uint64_t)k * recsz;
        uint64_t at = pv_get_u64(rec + PVDB_I_OFFSET), len = pv_get_u64(rec + PVDB_I_LENGTH);
        if (at <= n && len <= n - at) pv_put_u64(rec + PVDB_I_CHECKSUM, XXH3_64bits(p + at, (size_t)len));
    }
}

/* Make the sizes agree with the real length and recompute every checksum
 * of a version 2 or 3 layout (chunks and index sections, then the
 * directory, then the header), checking every bound. */
static void fix_checksums(uint8_t *p, size_t n)
{
    uint64_t dir_off, dir_len;
    if (n < PVDB_HEADER_SIZE || memcmp(p, PVDB_MAGIC, PVDB_MAGIC_LEN) != 0) return;
    pv_put_u64(p + PVDB_H_FILE_SIZE, n);
    dir_off = pv_get_u64(p + PVDB_H_DIR_OFFSET);
    if (dir_off <= n) pv_put_u64(p + PVDB_H_DIR_LENGTH, n - dir_off);
    dir_len = pv_get_u64(p + PVDB_H_DIR_LENGTH);
    if (dir_off <= n && dir_len <= n - dir_off) {
        uint8_t *d = p + dir_off;
        if (dir_len >= PVDB_DIR_HEADER_SIZE) {
            uint32_t count = pv_get_u32(d + PVDB_D_CHUNK_COUNT), k;
            uint32_t recsz = pv_get_u32(d + PVDB_D_CHUNK_RECSZ);
            uint64_t off = pv_get_u64(d + PVDB_D_CHUNKS_OFF);
            if (recsz >= PVDB_K_CHECKSUM + 8 && off <= dir_len &&
                count <= (dir_len - off) / recsz) {
                for (k = 0; k < count; k++) {
                    uint8_t *rec = d + off + (uint64_t)k * recsz;
                    uint64_t at = pv_get_u64(rec + PVDB_K_OFFSET);
                    uint64_t len = pv_get_u64(rec + PVDB_K_LENGTH);
                    if (at <= n && len <= n - at)
                        pv_put_u64(rec + PVDB_K_CHECKSUM, XXH3_64bits(p + at, (size_t)len));
                }
            }
            fix_index_checksums(p, n, d, dir_len);
        }
        pv_put_u64(p + PVDB_H_DIR_CHECKSUM, XXH3_64bits(d, (size_t)dir_len));
    }
    pv_put_u64(p + PVDB_H_CHECKSUM, XXH3_64bits(p, PVDB_H_CHECKSUM));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy;
    int got;
    if (!file_path[0]) {
        snprintf(file_path, sizeof file_path, "%s/in.pvdb", fz_tmpdir());
        if (getenv("PV_FUZZ_VERBOSE")) atexit(print_reached);
    }
    got = check_file(data, size);
    reached[0][0]++, reached[0][1] += got >= 1, reached[0][2] += got == 2;
    if (size < PVDB_HEADER_SIZE || memcmp(data, PVDB_MAGIC, PVDB_MAGIC_LEN) != 0) return 0;
    if (!(copy = malloc(size))) return 0;
    memcpy(copy, data, size);
    fix_checksums(copy, size);
    if (memcmp(copy, data, size) != 0) {
        got = check_file(copy, size);
        reached[1][0]++, reached[1][1] += got >= 1, reached[1][2] += got == 2;
    }
    free(copy);
    return 0;
}
