/*
 * ws_write.c: inserting rows into a workspace table.
 *
 * A write is checked whole (types, NOT NULL, primary keys and unique
 * indexes against the table and within the call) before anything changes, so bad input never
 * touches committed data. It then changes the table in memory inside a
 * transaction (its own, when none is open); the chunk files are written at
 * commit (ws_txn.c).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "db.h"
#include "ws_index.h"
#include "ws_internal.h"

static ws_table *find_table(pv_ws *ws, const char *name)
{
    return ws_find(ws, name);
}

/* ---- the hidden key ---------------------------------------------------------
 *
 * A table without PRIMARY KEY keys its rows by `_pv_id`: 32 lower-case hex
 * digits, a 128-bit number (docs/FORMAT.md). Rows come back in key order,
 * so the ids must grow in insertion order, yet two git branches must never
 * make the same one (no shared counter). As in UUIDv7 (RFC 9562), an id is
 * the Unix time in ms (48 bits) then 80 random bits, and it is never below
 * the table's largest id so far: the next id is the larger of that time id
 * and the largest + 1 + 63 random bits (RFC 9562's "monotonic random").
 *
 * Why the table's largest id and not only a clock: a clock behind another
 * machine's (or behind the random ids of a workspace written before this
 * rule) would put new rows before existing ones. The largest id is cheap:
 * the last key of the sorted key prefix, plus the few rows after it (rows
 * appended in order extend the prefix; a checkpoint loads sorted).
 *
 * Why it still merges: two branches from the same base draw their time
 * ids' 80 random bits, or their steps of up to 2^63 after the same largest
 * id, independently; for n rows on each side a clash is about n x 2^-62
 * likely (3 million rows: 1e-12), and a clash is a merge conflict on that
 * key, never a silent loss. */

#define KEYGEN_RND 4000 /* random bytes fetched at a time: 400 ids */

typedef struct keygen {
    uint64_t hi, lo;        /* the largest id so far (0 when none) */
    uint64_t t_hi;          /* the time id's high 64 bits, random part 0 */
    unsigned char rnd[KEYGEN_RND];
    size_t nrnd, at;        /* bytes fetched, bytes used */
    int ready;              /* keygen_init done */
} keygen;

/* The 128-bit number of a key of 32 lower-case hex digits; 0 when the key
 * is not one (given by hand: it does not count). */
static int hex128(const pv_value *v, uint64_t *hi, uint64_t *lo)
{
    uint64_t w[2] = {0, 0};
    size_t i;
    if (v->type != PV_TEXT || v->u.s.n != 32) return 0;
    for (i = 0; i < 32; i++) {
        char c = v->u.s.p[i];
        unsigned d;
        if (c >= '0' && c <= '9') d = (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') d = (unsigned)(c - 'a' + 10);
        else return 0;
        w[i / 16] = w[i / 16] << 4 | d;
    }
    *hi = w[0];
    *lo = w[1];
    return 1;
}

/* Raise g's largest id to v when v is a larger hex id: 1 when v is one. */
static int keygen_max(keygen *g, const pv_value *v)
{
    uint64_t hi, lo;
    if (!hex128(v, &hi, &lo)) return 0;
    if (hi > g->hi || (hi == g->hi && lo > g->lo)) {
        g->hi = hi;
        g->lo = lo;
    }
    return 1;
}

/* The table's largest hex id: in the sorted prefix the last key up to 32
 * f's (a binary search skips hand-given keys sorting after every hex key),
 * and among the rows after the prefix, each. */
static void table_max_id(keygen *g, const ws_table *t)
{
    static const char top[] = "ffffffffffffffffffffffffffffffff";
    const pv_value ftop = pv_v_text(top, 32);
    uint32_t kc = t->schema->pk[0], n = t->schema->ncols;
    size_t lo = 0, hi = t->sorted_rows, r;
    while (lo < hi) { /* lo = the first prefix row with a key above 32 f's */
        size_t mid = lo + (hi - lo) / 2;
        if (pv_value_cmp(&t->vals[mid * n + kc], &ftop) <= 0) lo = mid + 1;
        else hi = mid;
    }
    for (r = lo; r-- > 0;)
        if (keygen_max(g, &t->vals[r * n + kc])) break;
    for (r = t->sorted_rows; r < t->nrows; r++) keygen_max(g, &t->vals[r * n + kc]);
}

static int keygen_init(keygen *g, const ws_table *t, size_t nrows)
{
    struct timespec ts;
    uint64_t ms;
    g->ready = 1;
    g->hi = g->lo = 0;
    g->nrnd = nrows < KEYGEN_RND / 10 ? nrows * 10 : KEYGEN_RND;
    g->at = g->nrnd; /* fetched on first use */
    if (clock_gettime(CLOCK_REALTIME, &ts)) return pv_err_errno("clock_gettime");
    ms = (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
    g->t_hi = (ms & 0xffffffffffffull) << 16;
    table_max_id(g, t);
    return PV_OK;
}

static int keygen_random(keygen *g, unsigned char *out, size_t n)
{
    if (g->at + n > g->nrnd) {
        size_t got = 0;
        while (got < g->nrnd) {
            ssize_t k = getrandom(g->rnd + got, g->nrnd - got, 0);
            if (k < 0 && errno == EINTR) continue;
            if (k < 0) return pv_err_errno("getrandom");
            got += (size_t)k;
        }
        g->at = 0;
    }
    memcpy(out, g->rnd + g->at, n);
    g->at += n;
    return PV_OK;
}

/* The next id into *out (its text in `a`). */
static int keygen_next(keygen *g, pv_arena *a, pv_value *out)
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[10] = {0};
    uint64_t thi, tlo, w[2];
    char *s;
    int i, rc;
    if ((rc = keygen_random(g, r, sizeof r))) return rc;
    thi = g->t_hi | (uint64_t)r[0] << 8 | r[1];
    memcpy(&tlo, r + 2, 8);
    if (thi > g->hi || (thi == g->hi && tlo > g->lo)) { /* the clock is ahead: a time id */
        g->hi = thi;
        g->lo = tlo;
    } else if (g->hi != UINT64_MAX) { /* largest + 1 + up to 2^63 - 1: no carry out of 128 bits */
        uint64_t lo = g->lo + (tlo >> 1) + 1;
        g->hi += lo < g->lo;
        g->lo = lo;
    } else if (g->lo != UINT64_MAX) {
        /* within 2^64 of the top (only an id given by hand gets there): a
         * step of at most the room left / 2^16, so order holds for many
         * more rows (room 2^64: ~10^6) and the step stays random */
        uint64_t room = UINT64_MAX - g->lo, cap = room >> 16 ? room >> 16 : 1;
        g->lo += 1 + tlo % cap;
    } else { /* the largest id is 2^128 - 1: nothing sorts after it; a time id */
        g->hi = thi;
        g->lo = tlo;
    }
    if (!(s = pv_arena_alloc(a, 33))) return pv_err(PV_ENOMEM, "out of memory");
    w[0] = g->hi;
    w[1] = g->lo;
    for (i = 0; i < 32; i++) s[i] = hex[(w[i / 16] >> (60 - 4 * (i % 16))) & 15];
    s[32] = '\0';
    *out = pv_v_text(s, 32);
    return PV_OK;
}

static void where(char *buf, size_t cap, const char *origin, size_t first_line, size_t r)
{
    if (origin) snprintf(buf, cap, " (%s:%zu)", origin, first_line + r);
    else if (first_line) snprintf(buf, cap, " (row %zu)", first_line + r);
    else snprintf(buf, cap, " (row %zu of the statement)", r + 1);
}

static void key_text(pv_buf *b, const pv_schema *s, const pv_value *row)
{
    uint32_t k;
    for (k = 0; k < s->npk; k++) {
        if (k) pv_buf_putc(b, ',');
        pv_chunk_encode_value(b, &row[s->pk[k]]);
    }
}

/* Where row r came from, for a message: formatted only on error. */
typedef struct origin_info {
    const char *origin;
    size_t first_line;
} origin_info;

static const char *at_row(char *buf, size_t cap, const origin_info *o, size_t r)
{
    where(buf, cap, o->origin, o->first_line, r);
    return buf;
}

/* Convert one row to the column types into `out`; strings in `a`. */
static int convert_row(const ws_table *t, const pv_value *in, pv_value *out, pv_arena *a,
                       keygen *g, size_t nrows, const origin_info *o, size_t r)
{
    const pv_schema *s = t->schema;
    char at[512];
    uint32_t c;
    int rc;
    for (c = 0; c < s->ncols; c++) {
        const pv_column *col = &s->cols[c];
        char scratch[32];
        if (col->hidden && in[c].type == PV_NULL) {
            if ((!g->ready && (rc = keygen_init(g, t, nrows))) || (rc = keygen_next(g, a, &out[c]))) return rc;
            continue;
        }
        rc = pv_value_convert(&in[c], col->type, &out[c], scratch);
        if (rc == PV_EINPUT)
            return pv_err(PV_EINPUT, "table %s, column %s: text is not valid UTF-8%s", s->name, col->name,
                          at_row(at, sizeof at, o, r));
        if (rc)
            return pv_err(PV_ETYPE, "table %s, column %s: cannot store a %s value in a %s column%s",
                          s->name, col->name, pv_type_name(in[c].type), pv_type_name(col->type),
                          at_row(at, sizeof at, o, r));
        if (out[c].type == PV_TEXT && out[c].u.s.p == scratch) { /* a number as text */
            char *p = pv_arena_dup(a, scratch, out[c].u.s.n);
            if (!p) return pv_err(PV_ENOMEM, "out of memory");
            out[c].u.s.p = p;
        }
        if (out[c].type == PV_NULL && col->not_null)
            return pv_err(PV_ECONSTRAINT, "table %s: NULL in NOT NULL column %s%s", s->name, col->name,
                          at_row(at, sizeof at, o, r));
    }
    return PV_OK;
}

/* Do the rows already hold what convert_row would store (each value of its
 * column's type, or NULL where allowed; text valid UTF-8; no hidden key to
 * generate)? `pvdev import` hands rows over so: they are then used as they
 * are, without a converted copy of every value. */
static int rows_typed(const ws_table *t, const pv_value *rows, size_t nrows)
{
    const pv_schema *s = t->schema;
    size_t r;
    uint32_t c;
    for (r = 0; r < nrows; r++)
        for (c = 0; c < s->ncols; c++) {
            const pv_value *v = &rows[r * s->ncols + c];
            if (v->type == PV_NULL) {
                if (s->cols[c].not_null || s->cols[c].hidden) return 0;
            } else if (v->type != s->cols[c].type ||
                       (v->type == PV_TEXT && !pv_utf8_valid(v->u.s.p, v->u.s.n, NULL))) {
                return 0;
            }
        }
    return 1;
}

/* Primary keys of the new rows must be new and distinct. A small private
 * open-addressing set finds duplicates within the insert. */
/* Rows in strictly ascending key order have distinct keys: an import of a
 * sorted file then needs no hash set of its keys. */
static int keys_ascending(const pv_schema *s, const pv_value *rows, size_t nrows)
{
    size_t r;
    for (r = 1; r < nrows; r++) {
        const pv_value *a = &rows[(r - 1) * s->ncols], *b = &rows[r * s->ncols];
        uint32_t k;
        int c = 0;
        for (k = 0; k < s->npk && !c; k++) c = pv_value_cmp(&a[s->pk[k]], &b[s->pk[k]]);
        if (c >= 0) return 0;
    }
    return 1;
}

/* Do the rows, in key order, all come after the table's keys, which are
 * all in its sorted prefix (no hash index: ws_key_set then needs no hash)?
 * No secondary index either: check_unique needs each key's slot. */
static int past_the_end(const ws_table *t, const pv_value *rows, size_t nrows)
{
    return !t->key_hashed && t->sorted_rows == t->nrows && !t->schema->nindexes &&
           (t->nrows == 0 || ws_key_cmp_row(t, rows, t->nrows - 1) > 0) && keys_ascending(t->schema, rows, nrows);
}

static int check_keys(const ws_table *t, const pv_value *rows, size_t nrows, int vs_table,
                      const char *origin, size_t first_line, const uint64_t *hashes, long *slot)
{
    const pv_schema *s = t->schema;
    size_t nslots = 16, r, *slots;
    int rc = PV_OK;
    while (nslots < nrows * 2) nslots *= 2;
    slots = calloc(nslots, sizeof *slots);
    if (!slots) return pv_err(PV_ENOMEM, "out of memory");
    for (r = 0; r < nrows && !rc; r++) {
        const pv_value *row = &rows[r * s->ncols];
        uint64_t h = hashes[r];
        size_t i;
        char at[512];
        long old = slot[r] = ws_key_find(t, row, h);
        if (vs_table && old >= 0 && t->live[old]) {
            pv_buf k = PV_BUF_INIT;
            key_text(&k, s, row);
            where(at, sizeof at, origin, first_line, r);
            rc = pv_err(PV_ECONSTRAINT, "table %s: duplicate primary key %s%s: the table already has it",
                        s->name, k.p ? k.p : "?", at);
            pv_buf_free(&k);
            break;
        }
        for (i = h & (nslots - 1);; i = (i + 1) & (nslots - 1)) {
            uint32_t kk;
            const pv_value *other;
            int same = 1;
            if (!slots[i]) {
                slots[i] = r + 1;
                break;
            }
            other = &rows[(slots[i] - 1) * s->ncols];
            for (kk = 0; kk < s->npk && same; kk++)
                same = pv_value_cmp(&row[s->pk[kk]], &other[s->pk[kk]]) == 0;
            if (same) {
                pv_buf k = PV_BUF_INIT;
                char first[512];
                key_text(&k, s, row);
                where(at, sizeof at, origin, first_line, r);
                where(first, sizeof first, origin, first_line, slots[i] - 1);
                rc = pv_err(PV_ECONSTRAINT, "table %s: duplicate primary key %s%s; first at%s",
                            s->name, k.p ? k.p : "?", at, first);
                pv_buf_free(&k);
                break;
            }
        }
    }
    free(slots);
    return rc;
}

/* ---- unique indexes --------------------------------------------------------- */

/* "UNIQUE constraint failed: t.a, t.b" as SQLite words it, then what we
 * know: the value, where it comes from, what already holds it, the index. */
static int unique_failed(const ws_table *t, const pv_index_def *x, const pv_value *row, const char *at,
                         const char *tail)
{
    const pv_schema *s = t->schema;
    pv_buf b = PV_BUF_INIT;
    uint32_t c;
    int rc;
    pv_buf_append(&b, "UNIQUE constraint failed: ", 26);
    for (c = 0; c < x->ncols; c++)
        pv_buf_printf(&b, "%s%s.%s", c ? ", " : "", s->name, s->cols[x->cols[c]].name);
    pv_buf_append(&b, ": value ", 8);
    for (c = 0; c < x->ncols; c++) {
        if (c) pv_buf_putc(&b, ',');
        pv_chunk_encode_value(&b, &row[x->cols[c]]);
    }
    rc = pv_err(PV_ECONSTRAINT, "%s%s %s (index %s)", b.p ? b.p : "UNIQUE constraint failed", at, tail, x->name);
    pv_buf_free(&b);
    return rc;
}

/* An open-addressing set of numbers (row numbers of the call, or row slots
 * of the table), stored + 1 so that 0 is empty. */
typedef struct numset {
    size_t *v;
    size_t mask;
} numset;

static int numset_init(numset *ns, size_t n)
{
    size_t cap = 16;
    while (cap < n * 2) cap *= 2;
    ns->mask = cap - 1;
    if (!(ns->v = calloc(cap, sizeof *ns->v))) return pv_err(PV_ENOMEM, "out of memory (%zu rows)", n);
    return PV_OK;
}

static size_t mix(size_t x) { return (size_t)((uint64_t)x * 0x9e3779b97f4a7c15ull >> 17); }

static void numset_put(numset *ns, size_t start, size_t x)
{
    size_t i;
    for (i = start & ns->mask; ns->v[i] && ns->v[i] != x + 1; i = (i + 1) & ns->mask) {}
    ns->v[i] = x + 1;
}

static int numset_has(const numset *ns, size_t x)
{
    size_t i;
    for (i = mix(x) & ns->mask; ns->v[i]; i = (i + 1) & ns->mask)
        if (ns->v[i] == x + 1) return 1;
    return 0;
}

/* Rows already in the table break a unique index (chunks merged or edited
 * so): no row may be written until that is fixed. Deleting works. */
static int check_violations(ws_table *t)
{
    uint32_t i;
    for (i = 0; i < t->schema->nindexes; i++) {
        const pv_index_def *x = &t->schema->indexes[i];
        size_t a, b;
        int v = ws_index_violation(t, i, &a, &b);
        if (v < 0) return v;
        if (v) {
            pv_buf ka = PV_BUF_INIT, kb = PV_BUF_INIT;
            int rc;
            key_text(&ka, t->schema, &t->vals[a * t->schema->ncols]);
            key_text(&kb, t->schema, &t->vals[b * t->schema->ncols]);
            rc = pv_err(PV_ECONSTRAINT,
                        "UNIQUE constraint failed: table %s: the rows with keys %s and %s already share a value of "
                        "unique index %s (written so by a merge or by hand; `pvdev fsck` lists them): delete one "
                        "of them first (DELETE is allowed), or drop the index",
                        t->schema->name, ka.p ? ka.p : "?", kb.p ? kb.p : "?", x->name);
            pv_buf_free(&ka);
            pv_buf_free(&kb);
            return rc;
        }
    }
    return PV_OK;
}

/* Does row r of the call clash on index i with an earlier row of the call
 * (in `seen`) or with a table row it does not replace? Returns 1 and sets
 * *at_call (>= 0) or *at_table, 0 when it does not. */
static int clashes(const ws_table *t, uint32_t i, const pv_value *rows, size_t r, uint64_t h,
                   const numset *seen, const numset *repl, const long *slot, long *at_call, long *at_table)
{
    const pv_index_def *x = &t->schema->indexes[i];
    const pv_value *row = &rows[r * t->schema->ncols];
    ws_index_iter it;
    size_t j;
    long other;
    *at_call = *at_table = -1;
    for (j = h & seen->mask; seen->v[j]; j = (j + 1) & seen->mask)
        if (ws_index_key_equal(x, &rows[(seen->v[j] - 1) * t->schema->ncols], row)) {
            *at_call = (long)(seen->v[j] - 1);
            return 1;
        }
    ws_index_iter_init(&it, t, i, row, h);
    while ((other = ws_index_iter_next(&it)) >= 0) {
        /* the row this one replaces, or one another row of the call
         * replaces: its old value goes (the new one is checked in `seen`) */
        if (other == slot[r] || (repl->v && numset_has(repl, (size_t)other))) continue;
        *at_table = other;
        return 1;
    }
    return 0;
}

/* Unique indexes against the final state of the call: each row's value
 * must be new to the table (rows it replaces do not count) and to the
 * other rows of the call; NULLs are distinct. IGNORE marks the rows that
 * clash in *skip (allocated here) instead of failing, as SQLite's INSERT OR
 * IGNORE skips them, earlier rows first. */
static int check_unique(ws_table *t, const pv_value *rows, size_t nrows, int mode, const long *slot,
                        const origin_info *o, uint8_t **skip)
{
    const pv_schema *s = t->schema;
    numset *seen = NULL, repl = {NULL, 0};
    uint64_t *h = NULL;
    size_t r;
    uint32_t i, nu = 0;
    int rc;
    for (i = 0; i < s->nindexes; i++) nu += (uint32_t)s->indexes[i].unique;
    if (!nu) return PV_OK;
    if ((rc = ws_index_ready(t)) || (rc = check_violations(t))) return rc;
    if (!(seen = calloc(s->nindexes, sizeof *seen)) || !(h = malloc(s->nindexes * sizeof *h)) ||
        (mode == PV_WRITE_IGNORE && !(*skip = calloc(nrows, 1)))) {
        rc = pv_err(PV_ENOMEM, "out of memory (%zu rows)", nrows);
        goto done;
    }
    for (i = 0; i < s->nindexes && !rc; i++)
        if (s->indexes[i].unique) rc = numset_init(&seen[i], nrows);
    if (!rc && mode == PV_WRITE_REPLACE && !(rc = numset_init(&repl, nrows)))
        for (r = 0; r < nrows; r++)
            if (slot[r] >= 0 && t->live[slot[r]]) numset_put(&repl, mix((size_t)slot[r]), (size_t)slot[r]);
    for (r = 0; r < nrows && !rc; r++) {
        const pv_value *row = &rows[r * s->ncols];
        int clash = 0;
        if (*skip && slot[r] >= 0 && t->live[slot[r]]) { /* IGNORE: the key is taken */
            (*skip)[r] = 1;
            continue;
        }
        for (i = 0; i < s->nindexes && !clash; i++) {
            const pv_index_def *x = &s->indexes[i];
            long at_call, at_table;
            char at[512], first[512], tail[1200];
            if (!x->unique || ws_index_key_null(x, row)) continue;
            h[i] = ws_index_hash(x, row);
            if (!clashes(t, i, rows, r, h[i], &seen[i], &repl, slot, &at_call, &at_table)) continue;
            clash = 1;
            if (*skip) {
                (*skip)[r] = 1;
            } else if (at_call >= 0) {
                snprintf(tail, sizeof tail, "is also at%s", at_row(first, sizeof first, o, (size_t)at_call));
                rc = unique_failed(t, x, row, at_row(at, sizeof at, o, r), tail);
            } else {
                pv_buf k = PV_BUF_INIT;
                key_text(&k, s, &t->vals[(size_t)at_table * s->ncols]);
                snprintf(tail, sizeof tail, "is already in the row with key %.900s", k.p ? k.p : "?");
                pv_buf_free(&k);
                rc = unique_failed(t, x, row, at_row(at, sizeof at, o, r), tail);
            }
        }
        if (clash) continue;
        for (i = 0; i < s->nindexes; i++)
            if (s->indexes[i].unique && !ws_index_key_null(&s->indexes[i], row))
                numset_put(&seen[i], h[i], r);
    }
done:
    if (seen)
        for (i = 0; i < s->nindexes; i++) free(seen[i].v);
    free(seen);
    free(repl.v);
    free(h);
    return rc;
}

/* Apply converted rows: new keys are appended, existing ones replaced
 * (REPLACE) or skipped (IGNORE). Every slot changed is logged first.
 * check_keys found each key's slot already (keys in one call are
 * distinct, so appending does not move them). */
static int apply_rows(pv_ws *ws, ws_table *t, const pv_value *rows, size_t nrows, int mode,
                      const uint64_t *hashes, const long *slot, const uint8_t *skip, size_t *nwritten)
{
    size_t r, idx;
    int rc;
    if ((rc = ws_reserve(t, nrows)) || (rc = ws_index_reserve(t, nrows))) return rc;
    for (r = 0; r < nrows; r++) {
        const pv_value *row = &rows[r * t->schema->ncols];
        long old = slot ? slot[r] : -1;
        if (skip && skip[r]) continue; /* IGNORE: a unique index has its value */
        if (old >= 0 && t->live[old] && mode == PV_WRITE_IGNORE) continue;
        if (old >= 0) { /* replaced, or a deleted key written again */
            if ((rc = ws_txn_touch(ws, t, (size_t)old, 0))) return rc;
            if (!t->live[old]) t->nlive++;
            t->live[old] = 1;
            t->vec_dirty = 1;
            if ((rc = ws_row_copy_into(t, (size_t)old, row))) return rc;
            ws_index_row_changed(t, (size_t)old);
        } else {
            if ((rc = ws_row_append(t, row, &idx))) return rc;
            if ((rc = ws_txn_touch(ws, t, idx, 1))) return rc;
            if ((rc = ws_key_set(t, idx, hashes ? hashes[r] : 0))) return rc;
            ws_index_row_changed(t, idx);
        }
        (*nwritten)++;
    }
    return PV_OK;
}

int pv_ws_write(pv_ws *ws, const char *table, const pv_value *rows, size_t nrows,
                size_t ncols, int mode, const char *origin, size_t first_line, size_t *nwritten)
{
    ws_table *t;
    pv_arena a = PV_ARENA_INIT;
    pv_value *conv = NULL;
    const pv_value *rowsc = rows; /* the rows as stored: `rows`, or `conv` */
    uint64_t *hashes = NULL;
    long *slot = NULL;
    uint8_t *skip = NULL;
    size_t r, done_rows = 0;
    int rc, began = 0;
    keygen g;

    if (nwritten) *nwritten = 0;
    if ((rc = pv_ws_check_writable(ws))) return rc;
    if (mode < PV_WRITE_INSERT || mode > PV_WRITE_IGNORE) return pv_err(PV_EMISUSE, "bad write mode %d", mode);
    if ((rc = ws_txn_auto_begin(ws, &began))) return rc;
    if (!(t = find_table(ws, table))) {
        rc = pv_err(PV_ENOTFOUND, "no such table: %s", table);
        goto done;
    }
    if (ncols != t->schema->ncols) {
        rc = pv_err(PV_EMISUSE, "table %s has %u columns, %zu given", table, t->schema->ncols, ncols);
        goto done;
    }
    if (nrows == 0) goto done;
    if ((rc = ws_table_load(ws, t))) goto done;
    if (nrows > SIZE_MAX / sizeof *conv / ncols) {
        rc = pv_err(PV_ELIMIT, "too many rows");
        goto done;
    }
    if (!rows_typed(t, rows, nrows)) {
        origin_info o = {origin, first_line};
        if (!(conv = malloc(nrows * ncols * sizeof *conv))) {
            rc = pv_err(PV_ENOMEM, "out of memory (%zu rows)", nrows);
            goto done;
        }
        g.ready = 0;
        for (r = 0; r < nrows && !rc; r++)
            rc = convert_row(t, &rows[r * ncols], &conv[r * ncols], &a, &g, nrows, &o, r);
        rowsc = conv;
    }
    if (!rc && past_the_end(t, rowsc, nrows)) {
        /* keys in order after every key of the table (an import of a
         * sorted file, generated hidden keys): no key to find, and each row
         * extends the sorted key prefix, which needs no hash (ws_key_set):
         * no slot or hash arrays at all */
    } else if (!rc) {
        if (!(hashes = malloc(nrows * sizeof *hashes)) || !(slot = malloc(nrows * sizeof *slot)))
            rc = pv_err(PV_ENOMEM, "out of memory (%zu rows)", nrows);
        for (r = 0; r < nrows && !rc; r++) hashes[r] = ws_key_hash(t->schema, &rowsc[r * ncols]);
        if (!rc) rc = check_keys(t, rowsc, nrows, mode == PV_WRITE_INSERT, origin, first_line, hashes, slot);
    }
    if (!rc && t->schema->nindexes) {
        origin_info o = {origin, first_line};
        rc = check_unique(t, rowsc, nrows, mode, slot, &o, &skip);
    }
    if (!rc) {
        size_t mark = pv_ws_savepoint(ws);
        rc = apply_rows(ws, t, rowsc, nrows, mode, hashes, slot, skip, &done_rows);
        if (rc) pv_ws_rollback_to(ws, mark); /* one call is all or nothing */
    }
done:
    free(hashes);
    free(slot);
    free(skip);
    free(conv);
    pv_arena_free(&a);
    if (!rc && nwritten) *nwritten = done_rows;
    return ws_txn_auto_end(ws, began, rc);
}

/* Can `rows` become the table's own row array, and `arena` its arena?
 * Only into an empty table that has allocated nothing yet (so nothing of
 * its own is lost in the swap), with rows already as stored (typed, keys
 * given and strictly ascending: no key to look up, and the rows are the
 * table's sorted key prefix) and no secondary index to fill. */
static int can_adopt(const ws_table *t, const pv_value *rows, size_t nrows)
{
    return t->nrows == 0 && !t->vals && !t->live && !t->arena.head && !t->key_hashed &&
           !t->nslots && !t->schema->nindexes && nrows < UINT32_MAX &&
           rows_typed(t, rows, nrows) && keys_ascending(t->schema, rows, nrows);
}

/* Generated keys for the rows' NULL hidden keys, written in place (their
 * text in `arena`): the rows are then stored as they are, adopted by an
 * empty table or written without a converted copy. */
static int fill_hidden_keys(ws_table *t, pv_value *rows, size_t nrows, pv_arena *arena)
{
    const pv_schema *s = t->schema;
    keygen g;
    size_t r;
    int rc = PV_OK;
    if (s->npk != 1 || !s->cols[s->pk[0]].hidden) return PV_OK;
    g.ready = 0;
    for (r = 0; r < nrows && !rc; r++) {
        pv_value *v = &rows[r * s->ncols + s->pk[0]];
        if (v->type != PV_NULL) continue;
        if (!g.ready && (rc = keygen_init(&g, t, nrows))) break;
        rc = keygen_next(&g, arena, v);
    }
    return rc;
}

/* The rows become the table's: one undo run appended, nothing copied. */
static int adopt_rows(pv_ws *ws, ws_table *t, pv_value *rows, size_t nrows, pv_arena *arena)
{
    size_t mark = pv_ws_savepoint(ws), r;
    int rc = PV_OK;
    if (!(t->live = malloc(nrows))) return pv_err(PV_ENOMEM, "out of memory (%zu rows)", nrows);
    memset(t->live, 1, nrows);
    t->vals = rows;
    t->cap = t->nrows = t->nlive = t->sorted_rows = nrows;
    t->vec_dirty = 1;
    for (r = 0; r < nrows && !rc; r++) rc = ws_txn_touch(ws, t, r, 1); /* one run */
    if (rc) { /* give the rows back: the caller still owns them */
        pv_ws_rollback_to(ws, mark);
        free(t->live);
        t->live = NULL;
        t->vals = NULL;
        t->cap = t->nrows = t->nlive = t->sorted_rows = 0;
        return rc;
    }
    t->arena = *arena;
    *arena = (pv_arena)PV_ARENA_INIT;
    return PV_OK;
}

int pv_ws_write_owned(pv_ws *ws, const char *table, pv_value *rows, size_t nrows, size_t ncols,
                      pv_arena *arena, int mode, const char *origin, size_t first_line,
                      size_t *nwritten)
{
    ws_table *t;
    int rc, began = 0, adopted = 0;

    if (nwritten) *nwritten = 0;
    if (!ws->writable) rc = pv_ws_check_writable(ws);
    else if (mode < PV_WRITE_INSERT || mode > PV_WRITE_IGNORE) rc = pv_err(PV_EMISUSE, "bad write mode %d", mode);
    else rc = ws_txn_auto_begin(ws, &began);
    if (rc) goto done;
    if ((t = find_table(ws, table)) && ncols == t->schema->ncols && nrows > 0 &&
        !(rc = ws_table_load(ws, t)) && !(rc = fill_hidden_keys(t, rows, nrows, arena)) &&
        can_adopt(t, rows, nrows)) {
        if (!(rc = adopt_rows(ws, t, rows, nrows, arena))) {
            adopted = 1;
            if (nwritten) *nwritten = nrows;
        }
    } else if (!rc) {
        /* anything else is an ordinary write, with its checks and errors */
        rc = pv_ws_write(ws, table, rows, nrows, ncols, mode, origin, first_line, nwritten);
    }
    rc = ws_txn_auto_end(ws, began, rc);
done:
    if (!adopted) { /* copied (or failed): the rows are not needed any more */
        free(rows);
        pv_arena_free(arena);
    }
    return rc;
}

int pv_ws_delete(pv_ws *ws, const char *table, const pv_value *keys, size_t nkeys,
                 size_t *ndeleted)
{
    ws_table *t;
    pv_value *row = NULL;
    size_t k, n = 0, mark;
    int rc, began;
    if (ndeleted) *ndeleted = 0;
    if ((rc = pv_ws_check_writable(ws))) return rc;
    if ((rc = ws_txn_auto_begin(ws, &began))) return rc;
    mark = pv_ws_savepoint(ws);
    if (!(t = find_table(ws, table))) {
        rc = pv_err(PV_ENOTFOUND, "no such table: %s", table);
        goto done;
    }
    if ((rc = ws_table_load(ws, t))) goto done;
    if (!(row = calloc(t->schema->ncols + 1, sizeof *row))) {
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto done;
    }
    for (k = 0; k < nkeys && !rc; k++) {
        uint32_t p;
        long at;
        for (p = 0; p < t->schema->npk; p++) row[t->schema->pk[p]] = keys[k * t->schema->npk + p];
        at = ws_key_find(t, row, ws_key_hash(t->schema, row));
        if (at < 0 || !t->live[at]) continue;
        if ((rc = ws_txn_touch(ws, t, (size_t)at, 0))) break;
        t->live[at] = 0;
        t->nlive--;
        t->vec_dirty = 1;
        n++;
    }
    if (rc) pv_ws_rollback_to(ws, mark);
done:
    free(row);
    if (!rc && ndeleted) *ndeleted = n;
    return ws_txn_auto_end(ws, began, rc);
}

/* Position of `key` among the vectors' rows (live rows in key order), or -1:
 * a binary search, so a table whose vectors come from its checkpoint (and
 * tail) answers without building its rows (docs/LOADING.md). */
static long vec_find(const ws_table *t, const pv_value *key)
{
    const pv_schema *s = t->schema;
    uint64_t lo = 0, hi = t->vec_rows;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        uint32_t p;
        int c = 0;
        for (p = 0; p < s->npk && !c; p++) {
            pv_value v = pv_vec_get(&t->vecs[s->pk[p]], (uint32_t)mid);
            c = pv_value_cmp(&v, &key[p]);
        }
        if (!c) return (long)mid;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return -1;
}

/* Row `at` of the vectors into t->lookup_row (borrowing their bytes). */
static int vec_row(ws_table *t, long at, const pv_value **out)
{
    uint32_t c, n = t->schema->ncols;
    if (!t->lookup_row && !(t->lookup_row = malloc((n + 1) * sizeof *t->lookup_row)))
        return pv_err(PV_ENOMEM, "out of memory");
    for (c = 0; c < n; c++) t->lookup_row[c] = pv_vec_get(&t->vecs[c], (uint32_t)at);
    *out = t->lookup_row;
    return 1;
}

int pv_ws_lookup(pv_ws *ws, const char *table, const pv_value *key, const pv_value **out)
{
    ws_table *t = find_table(ws, table);
    long at;
    int rc;
    *out = NULL;
    if (!t) return pv_err(PV_ENOTFOUND, "no such table: %s", table);
    if (!t->loaded && t->vecs && !t->vec_dirty && t->vec_rows <= (uint64_t)UINT32_MAX) {
        at = vec_find(t, key);
        return at < 0 ? 0 : vec_row(t, at, out);
    }
    /* not loaded: the checkpoint's key columns and its tail answer */
    if (!t->loaded && (rc = ws_point_read(ws, t)) != 0) return rc < 0 ? rc : ws_point_lookup(t, key, out);
    return ws_key_lookup_loaded(ws, t, key, out);
}

int ws_key_lookup_loaded(pv_ws *ws, ws_table *t, const pv_value *key, const pv_value **out)
{
    const pv_schema *s = t->schema;
    pv_value *row;
    uint32_t k;
    long at;
    int rc;
    if ((rc = ws_load_read(ws, t))) return rc;
    if (!(row = calloc(s->ncols + 1, sizeof *row))) return pv_err(PV_ENOMEM, "out of memory");
    for (k = 0; k < s->npk; k++) row[s->pk[k]] = key[k];
    at = ws_key_find(t, row, ws_key_hash(s, row));
    free(row);
    if (at < 0 || !t->live[at]) return 0;
    *out = &t->vals[(size_t)at * s->ncols];
    return 1;
}
