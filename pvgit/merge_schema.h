/*
 * merge_schema.h: the three-way merge of a table's schema file, column by
 * column (merge_schema.c; docs/GIT.md, "Merging schemas").
 */
#ifndef PVGIT_MERGE_SCHEMA_H
#define PVGIT_MERGE_SCHEMA_H

#include <stddef.h>

#include "util.h"

/* Merge the schema texts of table `table` on base, ours and theirs
 * (texts[0] NULL: no base, an add/add). Columns are matched across the
 * sides by their first name (a rename keeps the earlier names). Returns 0
 * and the merged schema's canonical text in *out (malloc'd; the caller
 * frees it), or PV_ECONSTRAINT when the changes conflict, with one line
 * per conflict appended to `conflicts` ("table t, column c: renamed to 'x'
 * on ours, dropped on theirs"), or PV_ECORRUPT (a text that does not
 * parse: which side and line), PV_ENOMEM. */
int pvgit_schema_merge(const char *table, const char *const texts[3], const size_t lens[3], char **out,
                       size_t *outlen, pv_buf *conflicts);

/* The same, except that each conflict is settled as ours has it (ours'
 * column, attribute, key or index; a column ours dropped stays dropped)
 * while still listed in `conflicts`: the provisional schema under which
 * the rows of both sides can still be merged. Returns 0 and *out when
 * nothing conflicts; PV_ECONSTRAINT with *out set (the caller frees it)
 * when something did; PV_ECONSTRAINT with *out NULL when not even that
 * schema can be made (a key column one side dropped); the errors of
 * pvgit_schema_merge. */
int pvgit_schema_merge_ours(const char *table, const char *const texts[3], const size_t lens[3], char **out,
                            size_t *outlen, pv_buf *conflicts);

/* The same settled as theirs has it (for `pvdev resolve --theirs`): the
 * schema of theirs with what ours changed and theirs did not, columns in
 * theirs' order, then those only ours added. Returns and errors as
 * pvgit_schema_merge_ours. */
int pvgit_schema_merge_theirs(const char *table, const char *const texts[3], const size_t lens[3], char **out,
                              size_t *outlen);

#endif
