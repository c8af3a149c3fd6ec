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

typedef struct pv_batch {
    uint32_t nrows;   /* rows in this batch, 1 .. PV_BATCH_ROWS */
    uint32_t ncols;   /* = the number of columns asked of scan_open */
    pv_vec *cols;     /* owned by the scan */
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

/* A table as the executor sees it. Borrowed from its store: valid while the
 * pv_db is open (a workspace table until the next write to it). */
struct pv_source {
    const pv_schema *schema;
    uint64_t nrows;
    const pv_source_ops *ops;
    void *impl;  /* the store's table */
};

#endif
