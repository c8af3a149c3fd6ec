/*
 * conflict_util.h: what `pvdev conflicts` and `pvdev resolve` share: the
 * display text of keys and values of a conflict record, and the match of
 * a key the user typed.
 */
#ifndef PVDEV_CONFLICT_UTIL_H
#define PVDEV_CONFLICT_UTIL_H

#include "schema.h"
#include "util.h"
#include "ws.h"

/* The key as `pvdev diff` prints it (pvgit_key_text), the text a user
 * types: SFO, 2, a,7 for a composite key; a part that is not plain in
 * JSON quotes: "x,y",z or "q\"r",s. Replaces *out's text. */
int pvdev_key_text(pv_buf *out, const pv_schema *s, const pv_value *key);
/* Is `key` (s->npk values) the key whose canonical text (pvgit_key_parse
 * of what the user typed) is `want`? 1 or 0; a negative error
 * (PV_ENOMEM). `tmp` is scratch. */
int pvdev_key_is(pv_buf *tmp, const pv_schema *s, const pv_value *key, const pv_buf *want);
/* A value as `pvdev diff` prints it (pvgit_value_text): canonical chunk
 * text ("null", 12, "text"), a TEXT or BLOB over PV_BLOB_THRESHOLD bytes
 * as its reference {"sha256":"...","size":N}. Replaces *out's text. */
int pvdev_value_text(pv_buf *out, const pv_value *v);

#endif
