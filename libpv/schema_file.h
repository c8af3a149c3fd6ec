/*
 * schema_file.h: the canonical text of a table schema (schema_file.c).
 */
#ifndef PV_SCHEMA_FILE_H
#define PV_SCHEMA_FILE_H

#include "schema.h"
#include "util.h"

/* Append the schema's canonical lines to `out`. */
int pv_schema_encode(pv_buf *out, const pv_schema *s);

/* Parse a schema file of table `dirname` (its directory name, which the
 * file must repeat); `path` is used in messages. Errors: PV_ECORRUPT (with
 * file and line), PV_ENOMEM. */
int pv_schema_decode(const char *text, size_t len, const char *dirname,
                     const char *path, pv_schema **out);

#endif
