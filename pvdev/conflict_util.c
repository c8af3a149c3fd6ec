/*
 * conflict_util.c: key and value text for the conflict commands, as
 * `pvdev diff` and `pvdev log` print them (pvgit/rowdiff.c).
 */
#include <string.h>

#include "conflict_util.h"
#include "merge_retype.h"
#include "rowdiff.h"

int pvdev_key_text(pv_buf *out, const pv_schema *s, const pv_value *key)
{
    int rc;
    out->len = 0;
    rc = pvgit_key_text(out, key, s->npk);
    return rc ? rc : pv_buf_append(out, "", 0); /* a terminator even for no parts */
}

int pvdev_key_is(pv_buf *tmp, const pv_schema *s, const pv_value *key, const pv_buf *want)
{
    pv_value row[PV_MAX_COLUMNS];
    uint32_t k;
    int rc;
    tmp->len = 0;
    for (k = 0; k < s->npk; k++) row[s->pk[k]] = key[k];
    if ((rc = pvgit_retype_key(tmp, s, row))) return rc;
    return tmp->len == want->len && (!want->len || memcmp(tmp->p, want->p, want->len) == 0);
}

int pvdev_value_text(pv_buf *out, const pv_value *v)
{
    int rc;
    out->len = 0;
    rc = pvgit_value_text(out, v, 0);
    return rc ? rc : pv_buf_append(out, "", 0);
}
