/*
 * ws_internal.h: the workspace store's private structures, shared by ws.c
 * (catalog and schema files), ws_load.c (replaying chunks, the key index,
 * column vectors, scans) and ws_write.c (appending records).
 */
#ifndef PV_WS_INTERNAL_H
#define PV_WS_INTERNAL_H

#include "chunkline.h"
#include "ws.h"

typedef struct ws_table {
    pv_schema *schema;
    char *dir;              /* .pv/tables/<name> */
    int loaded;             /* rows replayed from the chunks */

    /* Current rows: `ncols` values each, strings in `arena`. A deleted row
     * keeps its slot (live = 0) so the key index never needs removals. */
    pv_arena arena;
    pv_value *vals;
    uint8_t *live;
    size_t nrows, cap;
    size_t nlive;

    /* Open-addressing index: hash of the primary key -> row index + 1. */
    uint64_t *slots;
    size_t nslots;          /* a power of two, at least 2 * nrows */

    /* The last chunk file, where appends go until it is sealed. */
    uint32_t last_chunk;    /* 0 when the table has no chunk yet */
    uint64_t last_size;

    /* Live rows as full-length column vectors in key order; rebuilt after a
     * write (vec_dirty). */
    int vec_dirty;
    uint64_t vec_rows;
    pv_vec *vecs;
    void **vec_data;
    uint8_t **vec_nulls;
} ws_table;

struct pv_ws {
    char *root;             /* the directory holding .pv */
    char *pvdir;            /* root/.pv */
    int writable;
    ws_table **tables;      /* sorted by name, bytewise */
    uint32_t ntables;
};

/* ws_load.c */
int ws_table_load(pv_ws *ws, ws_table *t);
void ws_table_unload(ws_table *t);
int ws_table_vectors(pv_ws *ws, ws_table *t);
uint64_t ws_key_hash(const pv_schema *s, const pv_value *row);
/* Row index holding the key of `row` (full row, key columns used), or -1. */
long ws_key_find(const ws_table *t, const pv_value *row, uint64_t h);
/* Point the key of row `idx` at that row in the index. */
int ws_key_set(ws_table *t, size_t idx, uint64_t h);
/* Append a row slot (values copied into the table arena). */
int ws_row_append(ws_table *t, const pv_value *row, size_t *idx);
int ws_row_copy_into(ws_table *t, size_t idx, const pv_value *row);
extern const pv_source_ops ws_source_ops;

/* ws.c */
int ws_chunk_path(char *out, size_t cap, const ws_table *t, uint32_t n);

#endif
