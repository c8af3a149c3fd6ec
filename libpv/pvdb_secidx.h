/*
 * pvdb_secidx.h: baked secondary indexes of a `.pvdb` (format version 3,
 * docs/FORMAT.md 3.12): the writer's part (called from pvdb_write.c), the
 * checks at open (from pvdb_read.c), lookups for the planner, and the full
 * check of `pvbake verify`.
 */
#ifndef PV_PVDB_SECIDX_H
#define PV_PVDB_SECIDX_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "pvdb.h"
#include "util.h"

/* ---- writer ---------------------------------------------------------------- */

/* What the writer lends the index writer: appending bytes to the file
 * (`write`, at the 8-aligned position *pos), and adding a string to the
 * directory's string table (`string`, filling an 8-byte ref). */
typedef struct pvdb_secidx_io {
    void *ctx;
    int (*write)(void *ctx, const void *p, size_t n);
    int (*string)(void *ctx, const char *s, size_t n, uint8_t *ref);
    const uint64_t *pos;   /* bytes written so far (8-aligned on entry) */
    const char *path;      /* the target, for messages */
} pvdb_secidx_io;

/* Write one section per index of every table's schema (tables in order,
 * indexes in schema order) after the column chunks, and append its
 * PVDB_INDEX_RECSZ-byte record to `records`; *count receives how many.
 * The bytes depend only on the rows. Errors: PV_EIO, PV_ENOMEM, PV_ELIMIT
 * (a table of 2^32 rows or more, an index of more than PVDB_INDEX_MAX_COLS
 * columns). */
int pvdb_secidx_write(const pv_bake_table *tables, size_t ntables, const pvdb_secidx_io *io,
                      pv_buf *records, uint32_t *count);

/* The order of one index (pvdb_secidx_sort.c): rows[0..nrows) are the
 * rows whose first index column is not NULL, sorted by (key, row number);
 * key d (0 .. nkeys) holds rows[starts[d] .. starts[d + 1]). */
typedef struct pvdb_secidx_order {
    uint32_t *rows;     /* malloc'ed */
    uint32_t *starts;   /* malloc'ed, nkeys + 1 */
    uint64_t nrows, nkeys;
} pvdb_secidx_order;

/* Sort the rows of t by index x's key (pv_value_cmp order, NULL first in
 * later columns) in O(rows + distinct values) for numbers of a small range,
 * O(rows x bytes of a value) otherwise, plus a sort of the distinct
 * strings. Errors: PV_ENOMEM, PV_ELIMIT (2^32 rows or more, more than
 * PVDB_INDEX_MAX_COLS columns). On error *out is empty. */
int pvdb_secidx_sort(const pv_bake_table *t, const pv_index_def *x, pvdb_secidx_order *out);
/* Free what pvdb_secidx_sort gave; NULL is fine. */
void pvdb_secidx_order_free(pvdb_secidx_order *o);

/* ---- row lists (pvdb_secidx_post.c; FORMAT.md 3.12 "Row lists") ------------ */

#define PVDB_POST_BLOCK 128  /* entries per bit-packed block */

/* Where the fixed parts of a section of ncols columns, d keys and r
 * entries lie (offsets from the section start, each 8-aligned). */
typedef struct pvdb_post_layout {
    uint64_t starts_at;  /* u32 x (d + 1): first entry of each key */
    uint64_t heads_at;   /* u32 x d: first (smallest) row of each key */
    uint64_t wsum_at;    /* u32 x (nblocks + 1): prefix sums of the block widths */
    uint64_t packed_at;  /* 16 x wsum[nblocks] bytes of packed blocks */
    uint64_t nblocks;    /* ceil(r / PVDB_POST_BLOCK) */
} pvdb_post_layout;

/* Fill *l; returns packed_at (the fixed parts end there). */
uint64_t pvdb_post_layout_of(uint32_t ncols, uint64_t d, uint64_t r, pvdb_post_layout *l);

/* Append the starts, heads, block widths and packed blocks of order o to
 * b, which holds exactly the 8 x ncols bytes of the part table. Errors:
 * PV_ENOMEM, PV_EMISUSE. */
int pvdb_post_write(const pvdb_secidx_order *o, uint32_t ncols, pv_buf *b);

/* The row lists of one section in the mapping. */
struct pvdb_file;
typedef struct pvdb_post {
    const struct pvdb_file *f;
    const uint8_t *p;          /* the section */
    uint64_t off;              /* its file offset (messages) */
    uint64_t d, r, table_rows; /* keys, entries, rows of the table */
    uint64_t packed_len;       /* 16 x wsum[nblocks] */
    pvdb_post_layout l;
} pvdb_post;

/* Open the row lists of the section p[0..len) (file offset off): the fixed
 * parts fit and the packed blocks fit (wsum[0] = 0, wsum[nblocks] at most
 * 32 x nblocks); *end receives where the packed blocks end (the first key
 * part starts there). O(1). Errors: PV_ECORRUPT with the offset. */
int pvdb_post_open(pvdb_post *pp, const struct pvdb_file *f, const uint8_t *p, uint64_t off, uint64_t len,
                   uint32_t ncols, uint64_t d, uint64_t r, uint64_t table_rows, uint64_t *end);
/* starts[d] (d <= keys), unchecked. */
uint64_t pvdb_post_start(const pvdb_post *pp, uint64_t d);
/* Entries [*a, *b) of keys [first, end) (first <= end <= keys), checked:
 * a <= b <= entries, and a < b when first < end. Errors: PV_ECORRUPT. */
int pvdb_post_range(const pvdb_post *pp, uint64_t first, uint64_t end, uint64_t *a, uint64_t *b);
/* The rows of keys [first, end) into out (b - a of them, see
 * pvdb_post_range), each key's ascending, keys in key order; only the
 * blocks holding them are decoded. Every width, start and row is checked
 * (rows < table_rows). Errors: PV_ECORRUPT with the offset. */
int pvdb_post_rows(const pvdb_post *pp, uint64_t first, uint64_t end, uint64_t *out);
/* `pvbake verify`: starts strictly increasing from 0 to entries, zero
 * padding, every block at the smallest width of its values, zero values
 * at each key's first entry and past the last entry. Errors: PV_ECORRUPT. */
int pvdb_post_check(const pvdb_post *pp);

/* ---- reader ---------------------------------------------------------------- */

/* At open (format version 3): check the directory header's index fields
 * and every index record at `dir` (the directory bytes, strings at
 * strings_at, strings_len long) against the file (sections after the last
 * chunk, in order, inside the data area; counts against the table), and
 * give each table's schema its index definitions (in f's arena). The
 * sections themselves are not read. Errors: PV_ECORRUPT with the offset,
 * PV_ENOMEM. */
struct pvdb_file;
int pvdb_secidx_open(struct pvdb_file *f, const uint8_t *dir, uint64_t strings_at,
                     uint64_t strings_len);

/* Is src a `.pvdb` table (whose schema's indexes are baked)? */
int pvdb_source_is_pvdb(const pv_source *src);

/* Rows of the pvdb table src whose index `index` (position in its
 * schema's indexes) has its first neq columns equal to eq[0..neq) and,
 * when `range`, its next column not NULL and in [lo, hi] (NULL lo or hi:
 * unbounded), as pv_ws_source_index_range: values compare as pv_value_cmp
 * and the caller converts them first. *rows receives a malloc'ed array of
 * *nrows row numbers in ascending order (key order), NULL when none.
 * Every offset read is checked. Errors: PV_EMISUSE, PV_ERANGE,
 * PV_ECORRUPT (with the offset), PV_ENOMEM. */
int pvdb_source_secidx_find(const pv_source *src, uint32_t index, const pv_value *eq, uint32_t neq,
                            int range, const pv_value *lo, const pv_value *hi, uint64_t **rows,
                            size_t *nrows);

/* What pvdb_source_secidx_find would return, from the key starts alone
 * (O(log keys), no row list decoded): *keys distinct keys and *nrows rows.
 * The planner's cost estimate (exec_access.c). Errors: as
 * pvdb_source_secidx_find. */
int pvdb_source_secidx_count(const pv_source *src, uint32_t index, const pv_value *eq, uint32_t neq, int range,
                             const pv_value *lo, const pv_value *hi, uint64_t *keys, uint64_t *nrows);

/* pvdb_read_row on a pvdb source. */
int pvdb_source_read_row(const pv_source *src, uint64_t row, const uint32_t *cols, uint32_t ncols,
                         pv_value *out, pv_buf *buf);

/* `pvbake verify`: every index section's checksum, layout and padding
 * (the bytes between *end, the end of the last chunk, and each section
 * are zero; *end becomes the end of the last section), and every entry:
 * keys strictly increasing, each key equal to the values of every row it
 * lists, rows ascending within a key, and every row whose first index
 * column is not NULL listed exactly once. Errors: PV_ECORRUPT (the first
 * problem, with its offset), PV_ENOMEM. */
int pvdb_secidx_verify(const struct pvdb_file *f, uint64_t *end);

/* `pvbake inspect`: index i (0 .. pvdb_secidx_count) of the file. */
typedef struct pvdb_secidx_info {
    const char *name;       /* borrowed until pvdb_close */
    uint32_t table;
    int unique;
    uint32_t ncols;
    uint32_t cols[8];
    uint64_t keys, entries, offset, length;
} pvdb_secidx_info;
uint32_t pvdb_secidx_count(const struct pvdb_file *f);
int pvdb_secidx_info_get(const struct pvdb_file *f, uint32_t i, pvdb_secidx_info *out);

#endif
