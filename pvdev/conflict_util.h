/*
 * conflict_util.h: what `pvdev conflicts` and `pvdev resolve` share: the
 * display text of keys and values of a conflict record.
 */
#ifndef PVDEV_CONFLICT_UTIL_H
#define PVDEV_CONFLICT_UTIL_H

#include "schema.h"
#include "util.h"
#include "ws.h"

/* "SFO" or "2" or "a,7" for a composite key: the text a user types. */
int pvdev_key_text(pv_buf *out, const pv_schema *s, const pv_value *key);
/* A value as canonical chunk text ("null", 12, "text"). */
int pvdev_value_text(pv_buf *out, const pv_value *v);

#endif
