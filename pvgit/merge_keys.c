/*
 * merge_keys.c: key texts of chunk lines and a set of them (merge_keys.h).
 *
 * A canonical line (what every writer produces) has no blanks between
 * tokens, and a TEXT, INTEGER or BOOLEAN key part without a backslash is
 * already canonical, so its text is cut out of the line as it stands. Any
 * other line, and every key of REAL or BLOB parts (which have several
 * spellings), is decoded and its key re-encoded: the same key always gives
 * the same text.
 */
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "chunkline.h"
#include "merge_keys.h"
#include "rowdiff.h"

struct keyslot {
    const char *text;    /* NULL: empty slot */
    size_t len;
    uint64_t hash;
};

/* ---- the set --------------------------------------------------------------- */

static struct keyslot *slot_for(const pvgit_keyset *ks, const char *key, size_t len, uint64_t h)
{
    size_t i = (size_t)h & (ks->cap - 1);
    for (;; i = (i + 1) & (ks->cap - 1)) {
        struct keyslot *s = &ks->slots[i];
        if (!s->text || (s->hash == h && s->len == len && memcmp(s->text, key, len) == 0)) return s;
    }
}

/* The filter: 8 bits per slot, two of them set per key (from the hash's
 * upper half, the slot index uses the lower). Most keys looked up in the
 * shared chunks are not in the set; the filter (a few hundred KB) answers
 * those without touching the slots. */
static void filter_set(pvgit_keyset *ks, uint64_t h)
{
    size_t nbits = ks->cap * 8;
    ks->filter[((h >> 32) & (nbits - 1)) >> 3] |= (uint8_t)(1u << ((h >> 32) & 7));
    ks->filter[((h >> 48 ^ h >> 21) & (nbits - 1)) >> 3] |= (uint8_t)(1u << ((h >> 48 ^ h >> 21) & 7));
}

static int filter_has(const pvgit_keyset *ks, uint64_t h)
{
    size_t nbits = ks->cap * 8;
    return (ks->filter[((h >> 32) & (nbits - 1)) >> 3] >> ((h >> 32) & 7) & 1) &&
           (ks->filter[((h >> 48 ^ h >> 21) & (nbits - 1)) >> 3] >> ((h >> 48 ^ h >> 21) & 7) & 1);
}

static int grow(pvgit_keyset *ks)
{
    size_t cap = ks->cap ? ks->cap * 2 : 1024, i;
    struct keyslot *old = ks->slots, *nw = calloc(cap, sizeof *nw);
    uint8_t *filter = calloc(cap, 1);
    size_t oldcap = ks->cap;
    if (!nw || !filter) {
        free(nw);
        free(filter);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    ks->slots = nw;
    free(ks->filter);
    ks->filter = filter;
    ks->cap = cap;
    for (i = 0; i < oldcap; i++)
        if (old[i].text) {
            *slot_for(ks, old[i].text, old[i].len, old[i].hash) = old[i];
            filter_set(ks, old[i].hash);
        }
    free(old);
    return PV_OK;
}

int pvgit_keyset_add(pvgit_keyset *ks, const char *key, size_t len)
{
    uint64_t h = XXH3_64bits(key, len);
    struct keyslot *s;
    int rc;
    if ((ks->n + 1) * 2 > ks->cap && (rc = grow(ks))) return rc;
    s = slot_for(ks, key, len, h);
    if (s->text) return PV_OK;
    if (!(s->text = pv_arena_dup(&ks->text, key, len ? len : 1))) return pv_err(PV_ENOMEM, "out of memory");
    s->len = len;
    s->hash = h;
    filter_set(ks, h);
    ks->n++;
    return PV_OK;
}

int pvgit_keyset_has(const pvgit_keyset *ks, const char *key, size_t len)
{
    uint64_t h;
    if (!ks->n) return 0;
    h = XXH3_64bits(key, len);
    return filter_has(ks, h) && slot_for(ks, key, len, h)->text != NULL;
}

void pvgit_keyset_free(pvgit_keyset *ks)
{
    free(ks->slots);
    free(ks->filter);
    pv_arena_free(&ks->text);
    memset(ks, 0, sizeof *ks);
}

/* ---- cutting keys ----------------------------------------------------------- */

void pvgit_keycut_init(pvgit_keycut *c, const pv_schema *s)
{
    uint32_t k;
    memset(c, 0, sizeof *c);
    c->s = s;
    c->simple = 1;
    for (k = 0; k < s->npk; k++) {
        int ty = s->cols[s->pk[k]].type;
        if (ty != PV_INTEGER && ty != PV_TEXT && ty != PV_BOOLEAN) c->simple = 0;
    }
}

void pvgit_keycut_free(pvgit_keycut *c)
{
    free(c->types);
    free(c->kpos);
    free(c->ktypes);
    pv_arena_free(&c->tmp);
    pv_buf_free(&c->kb);
    memset(c, 0, sizeof *c);
}

/* Map a decoded header to the schema: types by position, key positions. */
static int map_header(pvgit_keycut *c, const pv_chunk_rec *h)
{
    const pv_schema *s = c->s;
    uint32_t i, k;
    free(c->types);
    free(c->kpos);
    free(c->ktypes);
    c->ntypes = h->nvals;
    c->types = malloc((h->nvals + 1) * sizeof *c->types);
    c->kpos = malloc((s->npk + 1) * sizeof *c->kpos);
    c->ktypes = malloc((s->npk + 1) * sizeof *c->ktypes);
    if (!c->types || !c->kpos || !c->ktypes) return pv_err(PV_ENOMEM, "out of memory");
    for (k = 0; k < s->npk; k++) {
        c->kpos[k] = UINT32_MAX;
        c->ktypes[k] = s->cols[s->pk[k]].type;
    }
    for (i = 0; i < h->nvals; i++) {
        int col = pv_schema_find_history(s, h->names[i], strlen(h->names[i]));
        if (col == PV_SCHEMA_DROPPED) {
            c->types[i] = PV_NULL;
            continue;
        }
        if (col < 0)
            return PV_CORRUPT("the chunk header names column '%s', which table %s does not have", h->names[i],
                              s->name);
        c->types[i] = s->cols[col].type;
        if (s->cols[col].pk_pos >= 0) c->kpos[s->cols[col].pk_pos] = i;
    }
    for (k = 0; k < s->npk; k++)
        if (c->kpos[k] == UINT32_MAX)
            return PV_CORRUPT("the chunk header lacks key column '%s' of table %s", s->cols[s->pk[k]].name, s->name);
    c->have_header = 1;
    return PV_OK;
}

/* The key text of a plainly canonical row or delete line: 1; 0 for a
 * conflict record; -1 when the line must be decoded. */
static int fast_key(pvgit_keycut *c, const char *line, size_t len)
{
    const char *p = line, *end = line + len, *at[64];
    size_t n[64];
    uint32_t npk = c->s->npk, pos, k, maxpos = 0, got = 0;
    int is_delete;
    if (!c->simple || npk > 64) return -1;
    if (len > 1 && *p == '[') {
        is_delete = 0;
        p++;
        for (k = 0; k < npk; k++)
            if (c->kpos[k] > maxpos) maxpos = c->kpos[k];
    } else if (len > 11 && memcmp(p, "{\"delete\":[", 11) == 0) {
        is_delete = 1;
        p += 11;
        maxpos = npk - 1;
    } else if (len > 12 && memcmp(p, "{\"conflict\":", 12) == 0) {
        return 0;
    } else {
        return -1;
    }
    for (pos = 0; pos <= maxpos; pos++) {
        int esc = 0;
        const char *q = pvgit_json_skip(p, end, &esc);
        if (!q || q >= end || (*q != ',' && *q != ']')) return -1;
        for (k = 0; k < npk; k++) {
            if ((is_delete ? k : c->kpos[k]) != pos) continue;
            /* nested values, escapes and nulls are not plain keys */
            if (esc || q == p || *p == '{' || *p == '[' || (q - p == 4 && memcmp(p, "null", 4) == 0)) return -1;
            at[k] = p;
            n[k] = (size_t)(q - p);
            got++;
        }
        p = q + 1;
    }
    if (got != npk) return -1;
    c->kb.len = 0;
    for (k = 0; k < npk; k++)
        if ((k && pv_buf_putc(&c->kb, ',')) || pv_buf_append(&c->kb, at[k], n[k])) return -2;
    return 1;
}

/* Decode the line; the key re-encoded canonically. */
static int slow_key(pvgit_keycut *c, const char *line, size_t len)
{
    pv_chunk_rec r;
    uint32_t k;
    int rc;
    pv_arena_reset(&c->tmp);
    rc = pv_chunk_decode(line, len, c->types, c->have_header ? c->ntypes : 0, c->ktypes, c->s->npk, &c->tmp,
                         &r);
    if (rc) return rc;
    if (r.kind == PV_REC_HEADER) { /* the first line, or a continuation header */
        if ((rc = pv_chunk_check_place(&r, !c->have_header))) return rc;
        return map_header(c, &r);
    }
    if (!c->have_header) return PV_CORRUPT("the first line must be the chunk header {\"pv\":...}");
    if (r.kind != PV_REC_ROW && r.kind != PV_REC_DELETE) return 0;
    c->kb.len = 0;
    for (k = 0; k < c->s->npk; k++) {
        const pv_value *v = &r.vals[r.kind == PV_REC_ROW ? c->kpos[k] : k];
        if ((k && pv_buf_putc(&c->kb, ',')) || (rc = pv_chunk_encode_value(&c->kb, v)))
            return rc ? rc : pv_err(PV_ENOMEM, "out of memory");
    }
    return 1;
}

int pvgit_keycut_line(pvgit_keycut *c, const char *line, size_t len)
{
    int rc;
    if (!c->ktypes) { /* key types, for decoding a delete before the header is mapped */
        uint32_t k;
        if (!(c->ktypes = malloc((c->s->npk + 1) * sizeof *c->ktypes))) return pv_err(PV_ENOMEM, "out of memory");
        for (k = 0; k < c->s->npk; k++) c->ktypes[k] = c->s->cols[c->s->pk[k]].type;
    }
    if (c->have_header) {
        rc = fast_key(c, line, len);
        if (rc == -2) return pv_err(PV_ENOMEM, "out of memory");
        if (rc >= 0) return rc;
    }
    return slow_key(c, line, len);
}
