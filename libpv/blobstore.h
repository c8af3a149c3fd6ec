/*
 * blobstore.h: `.pv/blobs/`, values addressed by the SHA-256 of their bytes
 * (FIPS 180-4, through libmd). A value lives at blobs/<2 hex>/<62 hex>, is
 * written once whatever the number of rows that hold it, and never changes.
 */
#ifndef PV_BLOBSTORE_H
#define PV_BLOBSTORE_H

#include <stddef.h>

#include "chunkline.h"
#include "reader.h"
#include "util.h"

/* Lower-case hex SHA-256 of n bytes into hex (65 bytes with the NUL). */
void pv_sha256_hex(const void *p, size_t n, char hex[65]);

/* Does a chunk hold v by reference: a TEXT or BLOB over
 * PV_BLOB_THRESHOLD (ws.h) bytes? */
int pv_blob_by_ref(const pv_value *v);

/* The reference of n bytes, as pv_blob_put fills it, without storing
 * them (the bytes come with another side: a merge, a diff). */
void pv_blobref_of(const void *p, size_t n, pv_blobref *out);

/* Append `row` (s->ncols values) to out as a chunk record, as a writer
 * does: each value held by reference is stored under `pvdir` first.
 * refs: scratch for s->ncols references. Errors: those of pv_blob_put
 * and pv_chunk_encode_row. */
int pv_blob_encode_row(const char *pvdir, int sync, const pv_schema *s, const pv_value *row, pv_blobref *refs,
                       pv_buf *out);

/* Store n bytes under `pvdir` (the `.pv` directory) unless already there,
 * through a temporary file renamed into place; fills *out.
 * Errors: PV_EIO, PV_ENOMEM. */
int pv_blob_put(const char *pvdir, const void *p, size_t n, int sync, pv_blobref *out);

/* Read the value of a reference into the arena through `r`, checking its
 * size and digest. Errors: PV_ECORRUPT (missing, wrong size or digest:
 * names the blob file), PV_EIO, PV_ENOMEM. */
int pv_blob_get(const pv_ws_reader *r, const pv_blobref *ref, pv_arena *a, pv_str *out);

#endif
