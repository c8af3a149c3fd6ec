/*
 * conflict_util.c: key and value text for the conflict commands.
 */
#include "chunkline.h"
#include "conflict_util.h"

int pvdev_key_text(pv_buf *out, const pv_schema *s, const pv_value *key)
{
    uint32_t k;
    int rc = PV_OK;
    out->len = 0;
    if (out->p) out->p[0] = '\0';
    for (k = 0; k < s->npk && !rc; k++) {
        const pv_value *v = &key[k];
        char tmp[32];
        if (k) rc = pv_buf_putc(out, ',');
        if (rc) break;
        if (v->type == PV_TEXT) rc = pv_buf_append(out, v->u.s.p, v->u.s.n);
        else if (v->type == PV_REAL) rc = pv_buf_append(out, tmp, (size_t)pv_real_format(v->u.f, tmp));
        else rc = pv_chunk_encode_value(out, v);
    }
    return rc ? rc : pv_buf_append(out, "", 0); /* a terminator even for no parts */
}

int pvdev_value_text(pv_buf *out, const pv_value *v)
{
    out->len = 0;
    return pv_chunk_encode_value(out, v);
}
