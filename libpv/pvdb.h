/*
 * pvdb.h: the `.pvdb` file: the bake writer and the read-only reader.
 * The byte layout is docs/FORMAT.md, part 3.
 */
#ifndef PV_PVDB_H
#define PV_PVDB_H

#include <stddef.h>
#include <stdint.h>

#include "batch.h"
#include "schema.h"

/* ---- writer ------------------------------------------------------------- */

/* One table to bake: all current rows as full-length column vectors
 * (cols[schema->ncols], each `nrows` long), sorted by primary key with no
 * duplicate keys. Borrowed for the duration of pv_bake_write. */
typedef struct pv_bake_table {
    const pv_schema *schema;
    uint64_t nrows;
    const pv_vec *cols;
} pv_bake_table;

/* Provenance recorded in the file. */
typedef struct pv_bake_info {
    const char *source;  /* e.g. "worktree" or a git commit id; may be NULL */
    const char *tool;    /* e.g. "pvbake 0.1.0"; may be NULL */
} pv_bake_info;

/* Write `ntables` tables (in the order given: callers sort them by name, so
 * output is reproducible) to `path`, through a temporary file in the same
 * directory renamed over `path` once complete and synced, so a reader never
 * sees a half-written file.
 * Errors: PV_EIO, PV_ENOMEM, PV_ELIMIT (a column chunk over 4 GiB),
 * PV_ENOTFOUND (the target directory does not exist), PV_ECONSTRAINT (a NULL
 * in a NOT NULL column), PV_ETYPE (a BOOLEAN other than 0 or 1),
 * PV_EMISUSE (a schema or vector that does not describe the rows). */
int pv_bake_write(const char *path, const pv_bake_table *tables, size_t ntables,
                  const pv_bake_info *info);

/* ---- reader ------------------------------------------------------------- */

typedef struct pvdb_file pvdb_file;

/* Map `path` read-only and check the header, the directory and every offset
 * and length it holds (O(tables + columns + chunks), no data reads).
 * Errors: PV_ENOTFOUND, PV_EIO, PV_EFORMAT, PV_ECORRUPT (with the offset),
 * PV_ENOMEM. */
int pvdb_open(const char *path, pvdb_file **out);
void pvdb_close(pvdb_file *f);

uint32_t pvdb_table_count(const pvdb_file *f);
/* Table i (in file order) as a source; its schema lives until pvdb_close.
 * The scans it opens are independent: any number of threads may scan at
 * once. Errors: PV_ERANGE. */
int pvdb_table_source(pvdb_file *f, uint32_t i, pv_source *out);
/* Errors: PV_ENOTFOUND. */
int pvdb_find_table(pvdb_file *f, const char *name, size_t len, pv_source *out);

/* Provenance strings as recorded (borrowed, live until pvdb_close). */
const char *pvdb_source(const pvdb_file *f);
const char *pvdb_tool(const pvdb_file *f);
uint32_t pvdb_format_version(const pvdb_file *f);
uint64_t pvdb_file_size(const pvdb_file *f);

/* Per-column storage figures for `pvbake inspect`. */
typedef struct pvdb_column_info {
    const char *name;       /* borrowed */
    int type;               /* PV_* */
    const char *encoding;   /* "plain", "dict", "mixed" across row groups,
                               or "none" for a table of 0 rows */
    uint32_t chunks;        /* column chunks (= row groups) */
    uint32_t compressed;    /* chunks stored zstd-compressed */
    uint64_t raw_bytes;     /* encoded size before compression */
    uint64_t stored_bytes;  /* bytes in the file */
    uint64_t null_count;
} pvdb_column_info;
int pvdb_column_info_get(const pvdb_file *f, uint32_t table, uint32_t col,
                         pvdb_column_info *out);

/* Check every checksum of every section. Errors: PV_ECORRUPT (the first
 * problem, with its offset). */
int pvdb_verify(const pvdb_file *f);

#endif
