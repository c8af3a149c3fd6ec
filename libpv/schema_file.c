/*
 * schema_file.c: the canonical text of a table schema,
 * `.pv/tables/<name>/schema.jsonl` (docs/FORMAT.md part 1):
 *
 *   {"table":"airports","primary_key":["iata"]}
 *   {"column":"iata","type":"TEXT","not_null":true}
 *   {"column":"lat","type":"REAL","renamed_from":["latitude"]}
 *   {"dropped_column":"elevation"}
 *   {"index":"airports_name","columns":["name"],"unique":true}
 *
 * One line per column so that a schema change reads as a line change in a
 * review, like a row change. Earlier and dropped names stay, so chunks
 * written before an ALTER TABLE still read by name.
 */
#include <stdlib.h>
#include <string.h>

#include "chunkline.h"
#include "schema_file.h"

static int put_names(pv_buf *out, const char *open, char **names, uint32_t n)
{
    uint32_t i;
    int rc = pv_buf_append(out, open, strlen(open));
    for (i = 0; !rc && i < n; i++) {
        if (i) rc = pv_buf_putc(out, ',');
        if (!rc) rc = pv_js_put_string(out, names[i], strlen(names[i]));
    }
    return rc ? rc : pv_buf_putc(out, ']');
}

int pv_schema_encode(pv_buf *out, const pv_schema *s)
{
    uint32_t i;
    int rc = pv_buf_append(out, "{\"table\":", 9);
    if (!rc) rc = pv_js_put_string(out, s->name, strlen(s->name));
    if (!rc) rc = pv_buf_append(out, ",\"primary_key\":[", 16);
    for (i = 0; !rc && i < s->npk; i++) {
        const char *n = s->cols[s->pk[i]].name;
        if (i) rc = pv_buf_putc(out, ',');
        if (!rc) rc = pv_js_put_string(out, n, strlen(n));
    }
    if (!rc) rc = pv_buf_append(out, "]}\n", 3);
    for (i = 0; !rc && i < s->ncols; i++) {
        const pv_column *c = &s->cols[i];
        rc = pv_buf_append(out, "{\"column\":", 10);
        if (!rc) rc = pv_js_put_string(out, c->name, strlen(c->name));
        if (!rc) rc = pv_buf_printf(out, ",\"type\":\"%s\"", pv_type_name(c->type));
        if (!rc && c->not_null) rc = pv_buf_append(out, ",\"not_null\":true", 16);
        if (!rc && c->hidden) rc = pv_buf_append(out, ",\"hidden\":true", 14);
        if (!rc && c->naliases) rc = put_names(out, ",\"renamed_from\":[", c->aliases, c->naliases);
        if (!rc && c->dflt) rc = pv_buf_append(out, ",\"default\":", 11);
        if (!rc && c->dflt) rc = pv_chunk_encode_value(out, c->dflt);
        if (!rc) rc = pv_buf_append(out, "}\n", 2);
    }
    for (i = 0; !rc && i < s->ndropped; i++) {
        rc = pv_buf_append(out, "{\"dropped_column\":", 18);
        if (!rc) rc = pv_js_put_string(out, s->dropped[i], strlen(s->dropped[i]));
        if (!rc) rc = pv_buf_append(out, "}\n", 2);
    }
    for (i = 0; !rc && i < s->nindexes; i++) {
        const pv_index_def *x = &s->indexes[i];
        uint32_t k;
        rc = pv_buf_append(out, "{\"index\":", 9);
        if (!rc) rc = pv_js_put_string(out, x->name, strlen(x->name));
        if (!rc) rc = pv_buf_append(out, ",\"columns\":[", 12);
        for (k = 0; !rc && k < x->ncols; k++) {
            const char *n = s->cols[x->cols[k]].name;
            if (k) rc = pv_buf_putc(out, ',');
            if (!rc) rc = pv_js_put_string(out, n, strlen(n));
        }
        if (!rc) rc = pv_buf_putc(out, ']');
        if (!rc && x->unique) rc = pv_buf_append(out, ",\"unique\":true", 14);
        if (!rc) rc = pv_buf_append(out, "}\n", 2);
    }
    return rc;
}

/* A JSON array of strings into the arena: ["a","b"]. */
static int read_names(pv_jscan *j, pv_arena *a, const char ***out, uint32_t *n)
{
    uint32_t cap = 0;
    int rc;
    *n = 0;
    if (!pv_js_lit(j, '[')) return PV_CORRUPT("expected '[' at byte %zu", (size_t)(j->p - j->start));
    while (!pv_js_lit(j, ']')) {
        size_t len;
        if (*n && !pv_js_lit(j, ',')) return PV_CORRUPT("expected ',' at byte %zu", (size_t)(j->p - j->start));
        if (*n == cap) {
            const char **bigger;
            if (cap >= PV_MAX_COLUMNS) return PV_CORRUPT("name list too long");
            cap = cap ? cap * 2 : 4;
            if (!(bigger = pv_arena_alloc(a, cap * sizeof *bigger))) return pv_err(PV_ENOMEM, "out of memory");
            if (*n) memcpy(bigger, *out, *n * sizeof *bigger);
            *out = bigger;
        }
        if ((rc = pv_js_string(j, a, &(*out)[*n], &len))) return rc;
        (*n)++;
    }
    return PV_OK;
}

/* Optional members after a column's type: flags, earlier names, default. */
static int read_flags(pv_jscan *j, pv_arena *a, int type, int *not_null, int *hidden,
                      const char ***aliases, uint32_t *naliases, pv_value *dflt)
{
    *not_null = *hidden = 0;
    *naliases = 0;
    *dflt = pv_v_null();
    while (pv_js_lit(j, ',')) {
        int *flag;
        int rc;
        if (pv_js_word(j, "\"default\"")) {
            if (!pv_js_lit(j, ':')) return PV_CORRUPT("expected ':' at byte %zu", (size_t)(j->p - j->start));
            if ((rc = pv_js_value(j, type, a, dflt))) return rc;
            continue;
        }
        if (pv_js_word(j, "\"renamed_from\"")) {
            if (!pv_js_lit(j, ':')) return PV_CORRUPT("expected ':' at byte %zu", (size_t)(j->p - j->start));
            if ((rc = read_names(j, a, aliases, naliases))) return rc;
            continue;
        }
        if (pv_js_word(j, "\"not_null\"")) flag = not_null;
        else if (pv_js_word(j, "\"hidden\"")) flag = hidden;
        else return PV_CORRUPT("unknown column attribute at byte %zu", (size_t)(j->p - j->start));
        if (!pv_js_lit(j, ':')) return PV_CORRUPT("expected ':' at byte %zu", (size_t)(j->p - j->start));
        if (pv_js_word(j, "true")) *flag = 1;
        else if (!pv_js_word(j, "false")) return PV_CORRUPT("expected true or false at byte %zu", (size_t)(j->p - j->start));
    }
    if (!pv_js_lit(j, '}')) return PV_CORRUPT("expected '}' at byte %zu", (size_t)(j->p - j->start));
    return PV_OK;
}

/* {"index":"name","columns":["a",...]} with ,"unique":true when unique:
 * after the columns and the dropped names, in creation order. */
static int read_index(pv_jscan *j, pv_arena *a, pv_schema *s)
{
    const char *name, **names = NULL;
    uint32_t n, i, *cols;
    size_t len;
    int rc, unique = 0;
    if (!pv_js_lit(j, ':')) return PV_CORRUPT("expected ':'");
    if ((rc = pv_js_string(j, a, &name, &len))) return rc;
    if (!pv_js_lit(j, ',') || !pv_js_word(j, "\"columns\"") || !pv_js_lit(j, ':'))
        return PV_CORRUPT("index %s: expected \"columns\" at byte %zu", name, (size_t)(j->p - j->start));
    if ((rc = read_names(j, a, &names, &n))) return rc;
    if (pv_js_lit(j, ',')) {
        if (!pv_js_word(j, "\"unique\"") || !pv_js_lit(j, ':') || !pv_js_word(j, "true"))
            return PV_CORRUPT("index %s: expected \"unique\":true at byte %zu", name, (size_t)(j->p - j->start));
        unique = 1;
    }
    if (!pv_js_lit(j, '}')) return PV_CORRUPT("expected '}' at byte %zu", (size_t)(j->p - j->start));
    if (n == 0) return PV_CORRUPT("index %s has no columns", name);
    if (!(cols = pv_arena_alloc(a, n * sizeof *cols))) return pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        int c = pv_schema_find(s, names[i], strlen(names[i]));
        if (c < 0) return PV_CORRUPT("index %s: '%s' is not a column", name, names[i]);
        cols[i] = (uint32_t)c;
    }
    if (pv_schema_find_index(s, name, len) >= 0) return PV_CORRUPT("index %s is defined twice", name);
    return pv_schema_add_index(s, name, len, unique, cols, n);
}

/* {"dropped_column":"name"}: after the columns. */
static int read_dropped(pv_jscan *j, pv_arena *a, pv_schema *s)
{
    const char *name;
    size_t n;
    char **g;
    int rc;
    if (!pv_js_lit(j, ':')) return PV_CORRUPT("expected ':'");
    if ((rc = pv_js_string(j, a, &name, &n))) return rc;
    if (!pv_js_lit(j, '}')) return PV_CORRUPT("expected '}'");
    if (s->nindexes) return PV_CORRUPT("a dropped column line after the index lines");
    if (pv_schema_find_history(s, name, n) != -1)
        return PV_CORRUPT("dropped column name '%s' is also in use", name);
    if (!(g = realloc(s->dropped, (s->ndropped + 1) * sizeof *g)) || !(g[s->ndropped] = strdup(name))) {
        if (g) s->dropped = g;
        return pv_err(PV_ENOMEM, "out of memory");
    }
    s->dropped = g;
    s->ndropped++;
    return PV_OK;
}

static int set_aliases(pv_schema *s, const char **aliases, uint32_t n)
{
    pv_column *c = &s->cols[s->ncols - 1];
    uint32_t i;
    if (!n) return PV_OK;
    if (!(c->aliases = calloc(n, sizeof *c->aliases))) return pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < n; i++) {
        /* an earlier name may not be any other name of the table */
        if (pv_schema_find_history(s, aliases[i], strlen(aliases[i])) != -1)
            return PV_CORRUPT("earlier name '%s' of column %s is also in use", aliases[i], c->name);
        if (!(c->aliases[i] = strdup(aliases[i]))) return pv_err(PV_ENOMEM, "out of memory");
        c->naliases = i + 1;
    }
    return PV_OK;
}

static int read_column(pv_jscan *j, pv_arena *a, pv_schema *s)
{
    const char *name, *type, **aliases = NULL;
    size_t nlen, tlen;
    uint32_t naliases;
    pv_value dflt;
    int rc, t, not_null, hidden;
    if (!pv_js_lit(j, '{')) return PV_CORRUPT("expected a column line");
    if (pv_js_word(j, "\"dropped_column\"")) return read_dropped(j, a, s);
    if (pv_js_word(j, "\"index\"")) return read_index(j, a, s);
    if (s->ndropped) return PV_CORRUPT("a column line after the dropped columns");
    if (s->nindexes) return PV_CORRUPT("a column line after the index lines");
    if (!pv_js_word(j, "\"column\"") || !pv_js_lit(j, ':'))
        return PV_CORRUPT("expected a column line");
    if ((rc = pv_js_string(j, a, &name, &nlen))) return rc;
    if (!pv_js_lit(j, ',') || !pv_js_word(j, "\"type\"") || !pv_js_lit(j, ':'))
        return PV_CORRUPT("expected \"type\" at byte %zu", (size_t)(j->p - j->start));
    if ((rc = pv_js_string(j, a, &type, &tlen))) return rc;
    t = pv_type_parse(type, tlen);
    if (t < 0 || strcmp(type, pv_type_name(t)) != 0)
        return PV_CORRUPT("unknown column type '%s'", type);
    if ((rc = read_flags(j, a, t, &not_null, &hidden, &aliases, &naliases, &dflt))) return rc;
    if ((rc = pv_schema_add_column(s, name, nlen, t, not_null))) return rc;
    s->cols[s->ncols - 1].hidden = hidden;
    if (dflt.type != PV_NULL && (rc = pv_schema_set_default(s, s->ncols - 1, &dflt))) return rc;
    return set_aliases(s, aliases, naliases);
}

/* The first line: the table name (must match its directory) and key names. */
static int read_table_line(pv_jscan *j, pv_arena *a, const char *dirname,
                           const char ***keys, uint32_t *nkeys)
{
    const char *name;
    size_t n;
    uint32_t cap = 0;
    int rc;
    if (!pv_js_lit(j, '{') || !pv_js_word(j, "\"table\"") || !pv_js_lit(j, ':'))
        return PV_CORRUPT("expected {\"table\":...}");
    if ((rc = pv_js_string(j, a, &name, &n))) return rc;
    if (strcmp(name, dirname) != 0)
        return PV_CORRUPT("table name '%s' does not match its directory '%s'", name, dirname);
    if (!pv_js_lit(j, ',') || !pv_js_word(j, "\"primary_key\"") || !pv_js_lit(j, ':') ||
        !pv_js_lit(j, '['))
        return PV_CORRUPT("expected \"primary_key\" at byte %zu", (size_t)(j->p - j->start));
    *nkeys = 0;
    while (!pv_js_lit(j, ']')) {
        if (*nkeys && !pv_js_lit(j, ',')) return PV_CORRUPT("expected ','");
        if (*nkeys == cap) {
            const char **bigger;
            if (cap >= PV_MAX_COLUMNS) return PV_CORRUPT("primary key too long");
            cap = cap ? cap * 2 : 4;
            bigger = pv_arena_alloc(a, cap * sizeof *bigger);
            if (!bigger) return pv_err(PV_ENOMEM, "out of memory");
            if (*nkeys) memcpy(bigger, *keys, *nkeys * sizeof *bigger);
            *keys = bigger;
        }
        if ((rc = pv_js_string(j, a, &(*keys)[*nkeys], &n))) return rc;
        (*nkeys)++;
    }
    if (!pv_js_lit(j, '}')) return PV_CORRUPT("expected '}'");
    return PV_OK;
}

static int resolve_pk(pv_schema *s, const char **keys, uint32_t nkeys)
{
    uint32_t idx[PV_MAX_COLUMNS], i;
    if (nkeys > PV_MAX_COLUMNS)
        return PV_CORRUPT("primary key of %u columns (at most %d)", nkeys, PV_MAX_COLUMNS);
    for (i = 0; i < nkeys; i++) {
        int c = pv_schema_find(s, keys[i], strlen(keys[i]));
        if (c < 0) return PV_CORRUPT("primary key column '%s' is not a column", keys[i]);
        idx[i] = (uint32_t)c;
    }
    if (nkeys == 0) return PV_CORRUPT("the table has no primary key");
    return pv_schema_set_pk(s, idx, nkeys);
}

/* "hidden" marks the generated key of a keyless table alone: a TEXT
 * column named _pv_id that is the whole primary key, beside at least one
 * other column. *lineno is set to a bad column's line. */
static int check_hidden(const pv_schema *s, size_t *lineno)
{
    uint32_t i;
    for (i = 0; i < s->ncols; i++) {
        const pv_column *c = &s->cols[i];
        if (!c->hidden) continue;
        *lineno = (size_t)i + 2; /* the table line, then a line per column */
        if (strcmp(c->name, PV_HIDDEN_KEY_NAME) != 0 || c->type != PV_TEXT || s->npk != 1 ||
            s->pk[0] != i || s->ncols < 2)
            return PV_CORRUPT("column '%s' is hidden, which only the generated key " PV_HIDDEN_KEY_NAME
                              " of a keyless table is",
                              c->name);
    }
    return PV_OK;
}

int pv_schema_decode(const char *text, size_t len, const char *dirname,
                     const char *path, pv_schema **out)
{
    pv_arena a = PV_ARENA_INIT;
    pv_schema *s = pv_schema_new(dirname, strlen(dirname));
    const char **keys = NULL;
    uint32_t nkeys = 0;
    size_t lineno = 0;
    const char *p = text, *end = text + len;
    int rc = PV_OK;

    if (!s) return pv_err(PV_ENOMEM, "out of memory");
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        pv_jscan j;
        if (!nl) {
            rc = PV_CORRUPT("line %zu does not end with a newline", lineno + 1);
            break;
        }
        j.p = j.start = p;
        j.end = nl;
        lineno++;
        rc = lineno == 1 ? read_table_line(&j, &a, dirname, &keys, &nkeys) : read_column(&j, &a, s);
        pv_js_ws(&j);
        if (!rc && j.p != j.end) rc = PV_CORRUPT("unexpected bytes at byte %zu", (size_t)(j.p - j.start));
        if (rc) break;
        p = nl + 1;
    }
    if (!rc && lineno < 2) rc = PV_CORRUPT("no columns");
    if (!rc) rc = resolve_pk(s, keys, nkeys);
    if (!rc) rc = check_hidden(s, &lineno);
    if (rc) {
        pv_err_prefix("'%s' line %zu", path, lineno);
        pv_schema_free(s);
        s = NULL;
        if (rc != PV_ENOMEM && rc != PV_EFORMAT) rc = PV_ECORRUPT;
    }
    pv_arena_free(&a);
    *out = s;
    return rc;
}
