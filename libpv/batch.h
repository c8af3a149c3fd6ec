/*
 * batch.h: column batches and the table interface every store implements.
 *
 * The executor never sees where a table lives. A store (the `.pv/`
 * workspace, a `.pvdb` file) exposes each table as a pv_source: a schema, a
 * row count and a scan that yields batches of up to PV_BATCH_ROWS rows, one
 * typed vector per requested column. The executor works on those batches.
 */
#ifndef PV_BATCH_H
#define PV_BATCH_H

#include <stdint.h>

#include "schema.h"
#include "util.h"
#include "value.h"

#define PV_BATCH_ROWS 1024

/* One column of a batch. The vector's storage type is the column's declared
 * type: INTEGER and BOOLEAN use `i`, REAL uses `f`, TEXT and BLOB use `s`.
 * A NULL row has nulls[r] == 1 and an unspecified slot value. */
typedef struct pv_vec {
    int type;              /* the column type, PV_INTEGER .. PV_BOOLEAN */
    const uint8_t *nulls;  /* one byte per row, 1 = NULL; NULL if none */
    union {
        const int64_t *i;
        const double *f;
        const pv_str *s;
    } u;
} pv_vec;

/* ---- encoded batches ------------------------------------------------------
 * A store that keeps columns encoded (a `.pvdb` scan) can hand a column of
 * a batch over still encoded, so that the executor filters and groups on
 * dictionary codes and bit-packed blocks without decoding every value. It
 * does so only once a consumer asked for it (pv_batch.want_enc): code
 * outside the executor reads pv_vec.u directly and always gets plain
 * vectors. A consumer that asked reads values with pv_batch_get, or
 * decodes a column in place with pv_batch_flatten (exec_vec.c).
 */

enum {
    PV_VEC_PLAIN = 0, /* the pv_vec's values are valid */
    PV_VEC_DICT,      /* codes + dict; pv_vec.u unset */
    PV_VEC_PACKED     /* INTEGER, frame of reference: row r is ref + the
                         width-bit value off + r of words; pv_vec.u unset */
};

/* Memo slots a consumer may attach to a dictionary (a predicate's truth
 * per entry, say); the store frees `p` with free() when the dictionary
 * goes away. */
#define PV_VDICT_MEMOS 4

/* The dictionary of one column chunk, decoded (entries in the store's
 * sorted order: INTEGER by value, REAL by IEEE-754 total order, TEXT and
 * BLOB bytewise). Owned by the scan; valid while batches using it are.
 * Every entry is held by at least one non-NULL row of the chunk. */
typedef struct pv_vdict {
    int type;          /* the column type */
    uint32_t count;    /* entries, >= 1 */
    uint32_t rows;     /* rows of the chunk it codes */
    uint64_t id;       /* unique in the process (never 0): a cache key that
                          outlives the struct's address */
    union {
        const int64_t *i;
        const double *f;
        const pv_str *s;
    } u;
    struct {
        const void *key;
        void *p;
    } memo[PV_VDICT_MEMOS];
} pv_vdict;

/* Encoded form of one column of a batch. */
typedef struct pv_venc {
    uint8_t form;            /* PV_VEC_* */
    uint8_t width;           /* PACKED: bits per value, 0 .. 64 */
    /* TEXT/BLOB, in any form: every non-NULL value's bytes are followed by
     * a readable NUL byte (p[n] == 0: strings the store decoded into its
     * own memory), so a C string needs no copy. 0: not known to be. */
    uint8_t term;
    uint32_t off;            /* PACKED: row r is packed value off + r */
    int64_t ref;             /* PACKED: the block's minimum (exact) */
    const uint8_t *words;    /* PACKED: the block's packed words (checked) */
    const uint32_t *codes;   /* DICT: code per row (NULL rows: some code) */
    pv_vdict *dict;          /* DICT */
    void *flat;              /* room for the batch's values (pv_batch_flatten) */
} pv_venc;

typedef struct pv_batch {
    uint32_t nrows;   /* rows in this batch, 1 .. PV_BATCH_ROWS */
    uint32_t ncols;   /* = the number of columns asked of scan_open */
    pv_vec *cols;     /* owned by the scan */
    /* NULL, or per column its encoded form (owned by the scan). A column
     * whose form is not PV_VEC_PLAIN has only `type` and `nulls` valid in
     * its pv_vec. */
    pv_venc *enc;
    /* The cols that enc describes: a producer that fills cols itself and
     * leaves enc alone (a lookup's own vectors) makes them differ, and
     * enc is then ignored. */
    const pv_vec *enc_cols;
    /* NULL when the store cannot hand out encoded columns; else a flag of
     * the scan: a consumer that reads every value through pv_batch_get or
     * after pv_batch_flatten sets it to 1, and later batches may come
     * encoded. */
    int *want_enc;
} pv_batch;

/* Row r of a vector as a value (borrowing the vector's bytes). */
static inline pv_value pv_vec_get(const pv_vec *v, uint32_t r)
{
    pv_value out;
    if (v->nulls && v->nulls[r]) return pv_v_null();
    out.type = v->type;
    switch (v->type) {
    case PV_REAL: out.u.f = v->u.f[r]; break;
    case PV_TEXT:
    case PV_BLOB: out.u.s = v->u.s[r]; break;
    default: out.u.i = v->u.i[r]; break;
    }
    return out;
}

/* Value j of w bits from packed little-endian 64-bit words at q. */
static inline uint64_t pv_unpack1(const uint8_t *q, uint32_t j, unsigned w)
{
    uint64_t bit = (uint64_t)j * w, v;
    uint32_t wi = (uint32_t)(bit >> 6), s = (uint32_t)(bit & 63);
    if (w == 0) return 0;
    v = pv_get_u64(q + 8 * (size_t)wi) >> s;
    if (s + w > 64) v |= pv_get_u64(q + 8 * ((size_t)wi + 1)) << (64 - s);
    return w == 64 ? v : v & ((1ull << w) - 1);
}

/* Row r of column c of a batch, whatever its form (borrowing the batch's
 * or the dictionary's bytes). */
static inline pv_value pv_batch_get(const pv_batch *b, uint32_t c, uint32_t r)
{
    const pv_vec *v = &b->cols[c];
    const pv_venc *z = b->enc && b->enc_cols == b->cols ? &b->enc[c] : NULL;
    pv_value out;
    if (!z || z->form == PV_VEC_PLAIN) return pv_vec_get(v, r);
    if (v->nulls && v->nulls[r]) return pv_v_null();
    out.type = v->type;
    if (z->form == PV_VEC_PACKED) {
        out.u.i = (int64_t)((uint64_t)z->ref + pv_unpack1(z->words, z->off + r, z->width));
        return out;
    }
    switch (v->type) {
    case PV_REAL: out.u.f = z->dict->u.f[z->codes[r]]; break;
    case PV_TEXT:
    case PV_BLOB: out.u.s = z->dict->u.s[z->codes[r]]; break;
    default: out.u.i = z->dict->u.i[z->codes[r]]; break;
    }
    return out;
}

typedef struct pv_source pv_source;
typedef struct pv_scan pv_scan; /* a store's private scan state */

typedef struct pv_source_ops {
    /* Start a scan returning the columns `cols` (schema indexes, ncols >= 0;
     * a scan of zero columns still counts rows). Rows come in primary-key
     * order. Errors: PV_ENOMEM, PV_ERANGE, PV_ECORRUPT, PV_EIO. */
    int (*scan_open)(const pv_source *src, const uint32_t *cols, uint32_t ncols,
                     pv_scan **out);
    /* Fill `out` with the next batch. Returns its row count (> 0), 0 at the
     * end, or a negative error (PV_ECORRUPT with the offset, PV_EIO,
     * PV_ENOMEM). The batch and the bytes it points to stay valid until the
     * next call on this scan or scan_close. */
    int (*scan_next)(pv_scan *scan, pv_batch *out);
    void (*scan_close)(pv_scan *scan);
} pv_source_ops;

/* The key index of a store that has one (a `.pvdb`; the workspace has
 * none). Rows are numbered 0 .. nrows-1 in key order.
 *
 * (These belong in pv_source_ops as two optional members; they live in a
 * struct of their own, found with pv_source_index, because the workspace's
 * ops table is a positional initializer that -Wmissing-field-initializers
 * rejects once pv_source_ops grows. When it is written with designated
 * initializers the two can move into pv_source_ops.) */
typedef struct pv_source_index_ops {
    /* Rows [*first, *end) whose key lies in [lo, hi]: lo and hi are key
     * prefixes of nlo and nhi values (nlo or nhi 0: no bound on that side;
     * each at most the key column count). Both bounds are inclusive, and a
     * prefix bound includes every key that starts with it. Values compare
     * as pv_value_cmp (1 and 1.0 are equal; numbers < text < blob), so the
     * caller first converts a comparison's constant as the comparison
     * would; for an exclusive bound (`k < c`) it passes the inclusive one
     * and keeps filtering the rows it reads. *first <= *end; an empty range
     * has *first == *end. Errors: PV_EMISUSE (nlo, nhi), PV_ECORRUPT. */
    int (*key_range)(const pv_source *src, const pv_value *lo, uint32_t nlo,
                     const pv_value *hi, uint32_t nhi, uint64_t *first, uint64_t *end);
    /* A scan of rows [first, end) only (first <= end <= nrows), read with
     * the source's scan_next / scan_close; rows in key order. It need not
     * check chunk checksums as a full scan does. Errors: PV_ERANGE,
     * PV_ENOMEM. */
    int (*scan_rows)(const pv_source *src, const uint32_t *cols, uint32_t ncols,
                     uint64_t first, uint64_t end, pv_scan **out);
} pv_source_index_ops;

/* A table as the executor sees it. Borrowed from its store: valid while the
 * pv_db is open (a workspace table until the next write to it). */
struct pv_source {
    const pv_schema *schema;
    uint64_t nrows;
    const pv_source_ops *ops;
    void *impl;  /* the store's table */
};

/* The key index of src's store, or NULL when it has none (pvdb_scan.c
 * knows the stores that have one). */
const pv_source_index_ops *pv_source_index(const pv_source *src);

#endif
