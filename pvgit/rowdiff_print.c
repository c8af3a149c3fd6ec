/*
 * rowdiff_print.c: a table comparison (rowdiff.h) as text for people or as
 * JSON for programs.
 */
#include <stdlib.h>
#include <string.h>

#include "chunkline.h"
#include "rowdiff.h"
#include "schema_file.h"

#define C_RESET  "\033[0m"
#define C_BOLD   "\033[1m"
#define C_RED    "\033[31m"
#define C_GREEN  "\033[32m"
#define C_YELLOW "\033[33m"

static int color(pvgit_printer *p, const char *c)
{
    return p->color ? pv_buf_append(p->out, c, strlen(c)) : PV_OK;
}

static int put(pvgit_printer *p, const char *s)
{
    return pv_buf_append(p->out, s, strlen(s));
}

static int json_str(pvgit_printer *p, const char *s)
{
    return pv_js_put_string(p->out, s, strlen(s));
}

static const char *status(const pvgit_tablediff *d)
{
    return !d->old_schema ? "added" : !d->new_schema ? "dropped" : "modified";
}

/* The column definition: "name TYPE[ NOT NULL]". */
static int coldef(pvgit_printer *p, const pv_column *c)
{
    int rc = pv_buf_printf(p->out, "%s %s", c->name, pv_type_name(c->type));
    if (!rc && c->not_null) rc = put(p, " NOT NULL");
    return rc;
}

static int key_list(pvgit_printer *p, const pv_schema *s)
{
    uint32_t k;
    int rc = put(p, "(");
    for (k = 0; k < s->npk && !rc; k++) rc = pv_buf_printf(p->out, "%s%s", k ? ", " : "", s->cols[s->pk[k]].name);
    return rc ? rc : put(p, ")");
}

static int text_schema(pvgit_printer *p, const pvgit_tablediff *d)
{
    size_t i;
    int rc = PV_OK;
    if (!d->old_schema || !d->new_schema) {
        const pv_schema *s = d->new_schema ? d->new_schema : d->old_schema;
        const char *sign = d->new_schema ? "+ " : "- ";
        uint32_t c;
        for (c = 0; c < s->ncols && !rc; c++) {
            if (s->cols[c].hidden) continue;
            rc = color(p, d->new_schema ? C_GREEN : C_RED);
            if (!rc) rc = pv_buf_printf(p->out, "%scolumn ", sign);
            if (!rc) rc = coldef(p, &s->cols[c]);
            if (!rc && s->cols[c].pk_pos >= 0) rc = put(p, " (key)");
            if (!rc) rc = color(p, C_RESET);
            if (!rc) rc = put(p, "\n");
        }
        return rc;
    }
    for (i = 0; i < d->ncols && !rc; i++) {
        const pvgit_colchange *c = &d->cols[i];
        const pv_column *o = c->old_col >= 0 ? &d->old_schema->cols[c->old_col] : NULL;
        const pv_column *n = c->new_col >= 0 ? &d->new_schema->cols[c->new_col] : NULL;
        switch (c->kind) {
        case PVGIT_COL_ADDED:
            rc = color(p, C_GREEN);
            if (!rc) rc = put(p, "+ column ");
            if (!rc) rc = coldef(p, n);
            break;
        case PVGIT_COL_DROPPED:
            rc = color(p, C_RED);
            if (!rc) rc = put(p, "- column ");
            if (!rc) rc = coldef(p, o);
            break;
        case PVGIT_COL_RENAMED:
            rc = color(p, C_YELLOW);
            if (!rc) rc = pv_buf_printf(p->out, "~ column %s → %s", o->name, n->name);
            break;
        case PVGIT_COL_TYPE:
            rc = color(p, C_YELLOW);
            if (!rc) rc = pv_buf_printf(p->out, "~ column %s %s → %s", n->name, pv_type_name(o->type),
                                        pv_type_name(n->type));
            break;
        default:
            rc = color(p, C_YELLOW);
            if (!rc) rc = pv_buf_printf(p->out, "~ column %s %s → %s", n->name, o->not_null ? "NOT NULL" : "NULL",
                                        n->not_null ? "NOT NULL" : "NULL");
            break;
        }
        if (!rc) rc = color(p, C_RESET);
        if (!rc) rc = put(p, "\n");
    }
    if (!rc && d->key_changed) {
        rc = color(p, C_YELLOW);
        if (!rc) rc = put(p, "~ primary key ");
        if (!rc) rc = key_list(p, d->old_schema);
        if (!rc) rc = put(p, " → ");
        if (!rc) rc = key_list(p, d->new_schema);
        if (!rc) rc = color(p, C_RESET);
        if (!rc) rc = put(p, "\n");
    }
    return rc;
}

/* " name=value" for every visible non-key column of a row. */
static int text_cells(pvgit_printer *p, const pv_schema *s, const pvgit_row *r)
{
    uint32_t c;
    int rc = PV_OK, first = 1;
    for (c = 0; c < s->ncols && !rc; c++) {
        if (s->cols[c].pk_pos >= 0 || s->cols[c].hidden) continue;
        rc = pv_buf_printf(p->out, "%s%s=", first ? "  " : " ", s->cols[c].name);
        if (!rc) rc = pvgit_value_text(p->out, &r->vals[c], r->isref ? r->isref[c] : 0);
        first = 0;
    }
    return rc;
}

static int is_ref(const pvgit_row *r, int c)
{
    return r->isref ? r->isref[c] : 0;
}

static int same_cell(const pvgit_row *o, int oc, const pvgit_row *n, int nc)
{
    const pv_value *a = &o->vals[oc], *b = &n->vals[nc];
    if (is_ref(o, oc) != is_ref(n, nc) || a->type != b->type) return 0;
    switch (a->type) {
    case PV_NULL: return 1;
    case PV_REAL: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case PV_TEXT:
    case PV_BLOB: return a->u.s.n == b->u.s.n && memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0;
    default: return a->u.i == b->u.i;
    }
}

/* Is new column j of a changed row different from the old row? */
static int cell_changed(const pvgit_tablediff *d, const pvgit_rowchange *r, uint32_t j)
{
    int o = d->old_of_new[j];
    if (o < 0) return r->new_row.vals[j].type != PV_NULL;
    return !same_cell(&r->old_row, o, &r->new_row, (int)j);
}

static int text_row(pvgit_printer *p, const pvgit_tablediff *d, const pvgit_rowchange *r)
{
    const pv_schema *ks = r->kind == PVGIT_ROW_DELETED ? d->old_schema : d->new_schema;
    int rc;
    rc = color(p, r->kind == PVGIT_ROW_ADDED ? C_GREEN : r->kind == PVGIT_ROW_DELETED ? C_RED : C_YELLOW);
    if (!rc) rc = put(p, r->kind == PVGIT_ROW_ADDED ? "+ " : r->kind == PVGIT_ROW_DELETED ? "- " : "~ ");
    if (!rc) rc = pvgit_key_text(p->out, r->key, ks->npk);
    if (!rc && r->kind != PVGIT_ROW_CHANGED) {
        rc = text_cells(p, ks, r->kind == PVGIT_ROW_ADDED ? &r->new_row : &r->old_row);
        if (!rc) rc = color(p, C_RESET);
        return rc;
    }
    if (!rc) rc = color(p, C_RESET);
    {
        const pv_schema *s = d->new_schema;
        uint32_t j;
        for (j = 0; j < s->ncols && !rc; j++) {
            int o = d->old_of_new[j];
            if (!cell_changed(d, r, j)) continue;
            rc = pv_buf_printf(p->out, "  %s: ", s->cols[j].name);
            if (!rc) rc = color(p, C_RED);
            if (!rc) {
                if (o < 0) rc = put(p, "null");
                else rc = pvgit_value_text(p->out, &r->old_row.vals[o], is_ref(&r->old_row, o));
            }
            if (!rc) rc = color(p, C_RESET);
            if (!rc) rc = put(p, " → ");
            if (!rc) rc = color(p, C_GREEN);
            if (!rc) rc = pvgit_value_text(p->out, &r->new_row.vals[j], is_ref(&r->new_row, (int)j));
            if (!rc) rc = color(p, C_RESET);
        }
    }
    return rc;
}

/* {"col":value,...} of a whole row (hidden columns included: they are the
 * key of a table without a declared one). */
static int json_row(pvgit_printer *p, const pv_schema *s, const pvgit_row *r)
{
    uint32_t c;
    int rc = put(p, "{");
    for (c = 0; c < s->ncols && !rc; c++) {
        if (c) rc = put(p, ",");
        if (!rc) rc = json_str(p, s->cols[c].name);
        if (!rc) rc = put(p, ":");
        if (!rc) rc = pvgit_value_text(p->out, &r->vals[c], is_ref(r, (int)c));
    }
    return rc ? rc : put(p, "}");
}

static int json_row_change(pvgit_printer *p, const pvgit_tablediff *d, const pvgit_rowchange *r)
{
    int rc = pv_buf_printf(p->out, "{\"op\":\"%s\",\"key\":[",
                           r->kind == PVGIT_ROW_ADDED ? "added" : r->kind == PVGIT_ROW_DELETED ? "deleted" : "changed");
    if (!rc) rc = pv_buf_append(p->out, r->keytext, r->keylen);
    if (!rc) rc = put(p, "]");
    if (!rc && r->old_row.vals) {
        rc = put(p, ",\"old\":");
        if (!rc) rc = json_row(p, d->old_schema, &r->old_row);
    }
    if (!rc && r->new_row.vals) {
        rc = put(p, ",\"new\":");
        if (!rc) rc = json_row(p, d->new_schema, &r->new_row);
    }
    if (!rc && r->kind == PVGIT_ROW_CHANGED) {
        uint32_t j;
        int n = 0;
        rc = put(p, ",\"changed\":[");
        for (j = 0; j < d->new_schema->ncols && !rc; j++) {
            if (!cell_changed(d, r, j)) continue;
            if (n++) rc = put(p, ",");
            if (!rc) rc = json_str(p, d->new_schema->cols[j].name);
        }
        if (!rc) rc = put(p, "]");
    }
    return rc ? rc : put(p, "}");
}

static int json_keycols(pvgit_printer *p, const pv_schema *s)
{
    uint32_t k;
    int rc = put(p, "[");
    for (k = 0; k < s->npk && !rc; k++) {
        if (k) rc = put(p, ",");
        if (!rc) rc = json_str(p, s->cols[s->pk[k]].name);
    }
    return rc ? rc : put(p, "]");
}

static int json_schema(pvgit_printer *p, const pvgit_tablediff *d)
{
    size_t i;
    int rc = put(p, "[");
    for (i = 0; i < d->ncols && !rc; i++) {
        const pvgit_colchange *c = &d->cols[i];
        const pv_column *o = c->old_col >= 0 ? &d->old_schema->cols[c->old_col] : NULL;
        const pv_column *n = c->new_col >= 0 ? &d->new_schema->cols[c->new_col] : NULL;
        if (i) rc = put(p, ",");
        if (rc) break;
        switch (c->kind) {
        case PVGIT_COL_ADDED:
            rc = put(p, "{\"op\":\"add_column\",\"column\":");
            if (!rc) rc = json_str(p, n->name);
            if (!rc) rc = pv_buf_printf(p->out, ",\"type\":\"%s\",\"not_null\":%s}", pv_type_name(n->type),
                                        n->not_null ? "true" : "false");
            break;
        case PVGIT_COL_DROPPED:
            rc = put(p, "{\"op\":\"drop_column\",\"column\":");
            if (!rc) rc = json_str(p, o->name);
            if (!rc) rc = put(p, "}");
            break;
        case PVGIT_COL_RENAMED:
            rc = put(p, "{\"op\":\"rename_column\",\"from\":");
            if (!rc) rc = json_str(p, o->name);
            if (!rc) rc = put(p, ",\"to\":");
            if (!rc) rc = json_str(p, n->name);
            if (!rc) rc = put(p, "}");
            break;
        case PVGIT_COL_TYPE:
            rc = put(p, "{\"op\":\"type\",\"column\":");
            if (!rc) rc = json_str(p, n->name);
            if (!rc) rc = pv_buf_printf(p->out, ",\"from\":\"%s\",\"to\":\"%s\"}", pv_type_name(o->type),
                                        pv_type_name(n->type));
            break;
        default:
            rc = put(p, "{\"op\":\"not_null\",\"column\":");
            if (!rc) rc = json_str(p, n->name);
            if (!rc) rc = pv_buf_printf(p->out, ",\"from\":%s,\"to\":%s}", o->not_null ? "true" : "false",
                                        n->not_null ? "true" : "false");
            break;
        }
    }
    if (!rc && d->key_changed) {
        if (d->ncols) rc = put(p, ",");
        if (!rc) rc = put(p, "{\"op\":\"primary_key\",\"from\":");
        if (!rc) rc = json_keycols(p, d->old_schema);
        if (!rc) rc = put(p, ",\"to\":");
        if (!rc) rc = json_keycols(p, d->new_schema);
        if (!rc) rc = put(p, "}");
    }
    return rc ? rc : put(p, "]");
}

int pvgit_print_row(pvgit_printer *p, const pvgit_tablediff *d, const pvgit_rowchange *r)
{
    return p->json ? json_row_change(p, d, r) : text_row(p, d, r);
}

static int json_table_head(pvgit_printer *p, const pvgit_tablediff *d)
{
    int rc = put(p, p->ntables++ ? ",\n{\"table\":" : "\n{\"table\":");
    if (!rc) rc = json_str(p, d->name);
    if (!rc) rc = pv_buf_printf(p->out, ",\"status\":\"%s\",\"key\":", status(d));
    if (!rc) rc = json_keycols(p, d->new_schema ? d->new_schema : d->old_schema);
    if (!rc) rc = put(p, ",\"schema\":");
    if (!rc) rc = json_schema(p, d);
    if (!rc) rc = pv_buf_printf(p->out, ",\"added\":%zu,\"deleted\":%zu,\"changed\":%zu", d->added, d->deleted,
                                d->changed);
    return rc;
}

int pvgit_print_stat_json(pvgit_printer *p, const pvgit_tablediff *d)
{
    int rc = json_table_head(p, d);
    return rc ? rc : put(p, "}");
}

int pvgit_print_table(pvgit_printer *p, const pvgit_tablediff *d)
{
    size_t i;
    int rc = PV_OK;
    if (p->json) {
        rc = json_table_head(p, d);
        if (!rc) rc = put(p, ",\"rows\":[");
        for (i = 0; i < d->nrows && !rc; i++) {
            rc = put(p, "\n");
            if (!rc) rc = json_row_change(p, d, &d->rows[i]);
            if (!rc && i + 1 < d->nrows) rc = put(p, ",");
        }
        return rc ? rc : put(p, "]}");
    }
    if (p->header) {
        rc = color(p, C_BOLD);
        if (!rc) rc = pv_buf_printf(p->out, "table %s%s", d->name,
                                    !d->old_schema ? " (new)" : !d->new_schema ? " (dropped)" : "");
        if (!rc) rc = color(p, C_RESET);
        if (!rc) rc = put(p, "\n");
    }
    if (!rc) rc = text_schema(p, d);
    for (i = 0; i < d->nrows && !rc; i++) {
        rc = text_row(p, d, &d->rows[i]);
        if (!rc) rc = put(p, "\n");
    }
    return rc;
}

int pvgit_print_json_begin(pvgit_printer *p, const char *from, const char *to)
{
    int rc = put(p, "{\"from\":");
    if (!rc) rc = json_str(p, from);
    if (!rc) rc = put(p, ",\"to\":");
    if (!rc) rc = json_str(p, to);
    if (!rc) rc = put(p, ",\"tables\":[");
    p->ntables = 0;
    return rc;
}

int pvgit_print_json_end(pvgit_printer *p)
{
    return put(p, p->ntables ? "\n]}\n" : "]}\n");
}

/* ---- textconv ------------------------------------------------------------------- */

/* A JSON value as a key part: plain strings unquoted, like pvgit_key_text. */
static int put_key_part(pv_buf *out, const char *p, size_t n)
{
    size_t i;
    int plain = n > 2 && p[0] == '"' && p[n - 1] == '"';
    for (i = 1; plain && i + 1 < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80 ||
              strchr("-_.:/@+", c)))
            plain = 0;
    }
    return plain ? pv_buf_append(out, p + 1, n - 2) : pv_buf_append(out, p, n);
}

static int raw_line(pv_buf *out, const char *p, size_t n)
{
    int rc = pv_buf_append(out, "? ", 2);
    if (!rc) rc = pv_buf_append(out, p, n);
    return rc ? rc : pv_buf_putc(out, '\n');
}

/* The names of a chunk header, kept as raw JSON string slices. */
typedef struct hnames {
    const char **p;
    size_t *n;
    size_t count, cap;
} hnames;

static int header_line(pv_buf *out, hnames *h, const char *line, size_t len)
{
    static const char pre[] = "{\"pv\":1,\"columns\":[", pre2[] = "{\"pv\":2,\"columns\":[",
                      pre3[] = "{\"pv\":3,\"columns\":[";
    static const char comp[] = "],\"compacted\":\"0123456789abcdef\"}"; /* its shape */
    const char *p = line + sizeof pre - 1, *end = line + len;
    int rc, compacted = 0, cont = 0;
    h->count = 0;
    if (len >= sizeof pre2 - 1 + sizeof comp - 1 && memcmp(line, pre2, sizeof pre2 - 1) == 0 &&
        memcmp(end - (sizeof comp - 1), comp, 15) == 0 && memcmp(end - 2, "\"}", 2) == 0 &&
        strspn(end - 18, "0123456789abcdef") == 16) {
        /* a chunk a compaction rewrote: the same, and says so */
        compacted = 1;
        end -= sizeof comp - 1 - 2; /* as if it ended "]}" */
    } else if (len >= sizeof pre3 + 1 && memcmp(line, pre3, sizeof pre3 - 1) == 0 && memcmp(end - 2, "]}", 2) == 0) {
        cont = 1; /* a continuation header: the columns of the lines after it */
    } else if (len < sizeof pre + 1 || memcmp(line, pre, sizeof pre - 1) != 0 || memcmp(end - 2, "]}", 2) != 0) {
        return raw_line(out, line, len);
    }
    end -= 2;
    rc = cont ? pv_buf_append(out, "# chunk columns from here: ", 27) : pv_buf_append(out, "# chunk columns: ", 17);
    while (!rc && p < end) {
        int esc = 0;
        const char *q = pvgit_json_skip(p, end, &esc);
        if (!q || *p != '"') return raw_line(out, line, len);
        if (h->count == h->cap) {
            size_t cap = h->cap ? h->cap * 2 : 16;
            const char **np = realloc(h->p, cap * sizeof *np);
            size_t *nn;
            if (!np) return pv_err(PV_ENOMEM, "out of memory");
            h->p = np;
            if (!(nn = realloc(h->n, cap * sizeof *nn))) return pv_err(PV_ENOMEM, "out of memory");
            h->n = nn;
            h->cap = cap;
        }
        /* names print without their quotes unless they need escapes */
        h->p[h->count] = esc ? p : p + 1;
        h->n[h->count] = esc ? (size_t)(q - p) : (size_t)(q - p) - 2;
        if (h->count) rc = pv_buf_append(out, ", ", 2);
        if (!rc) rc = pv_buf_append(out, h->p[h->count], h->n[h->count]);
        h->count++;
        p = q;
        if (p < end && *p == ',') p++;
    }
    if (!rc && compacted) rc = pv_buf_append(out, " (compacted)", 12);
    return rc ? rc : pv_buf_putc(out, '\n');
}

static int row_line(pv_buf *out, const hnames *h, const char *line, size_t len)
{
    const char *p = line + 1, *end = line + len - 1;
    size_t i = 0, mark = out->len;
    int rc = PV_OK;
    if (len < 2 || line[len - 1] != ']') return raw_line(out, line, len);
    while (!rc && p < end) {
        int esc = 0;
        const char *q = pvgit_json_skip(p, end, &esc);
        if (!q || q == p || i >= h->count) {
            out->len = mark;
            return raw_line(out, line, len);
        }
        if (i) rc = pv_buf_putc(out, ' ');
        if (!rc) rc = pv_buf_append(out, h->p[i], h->n[i]);
        if (!rc) rc = pv_buf_putc(out, '=');
        if (!rc) rc = pv_buf_append(out, p, (size_t)(q - p));
        i++;
        p = q;
        if (p < end && *p == ',') p++;
    }
    if (!rc && i != h->count) {
        out->len = mark;
        return raw_line(out, line, len);
    }
    return rc ? rc : pv_buf_putc(out, '\n');
}

static int delete_line(pv_buf *out, const char *line, size_t len)
{
    const char *p = line + 11, *end = line + len - 2;
    size_t mark = out->len;
    int rc = pv_buf_append(out, "delete ", 7), first = 1;
    if (len < 13 || memcmp(end, "]}", 2) != 0) {
        out->len = mark;
        return raw_line(out, line, len);
    }
    while (!rc && p < end) {
        int esc = 0;
        const char *q = pvgit_json_skip(p, end, &esc);
        if (!q || q == p) {
            out->len = mark;
            return raw_line(out, line, len);
        }
        if (!first) rc = pv_buf_putc(out, ',');
        if (!rc) rc = put_key_part(out, p, (size_t)(q - p));
        first = 0;
        p = q;
        if (p < end && *p == ',') p++;
    }
    return rc ? rc : pv_buf_putc(out, '\n');
}

/* A column's DEFAULT as SQL would write it. */
static int default_text(pv_buf *out, const pv_value *v)
{
    size_t i;
    int rc;
    switch (v->type) {
    case PV_NULL: return pv_buf_printf(out, " DEFAULT NULL");
    case PV_INTEGER: return pv_buf_printf(out, " DEFAULT %lld", (long long)v->u.i);
    case PV_REAL: return pv_buf_printf(out, " DEFAULT %.17g", v->u.f);
    case PV_BOOLEAN: return pv_buf_printf(out, " DEFAULT %s", v->u.i ? "TRUE" : "FALSE");
    case PV_TEXT:
        if ((rc = pv_buf_append(out, " DEFAULT ", 9))) return rc;
        return pv_js_put_string(out, v->u.s.p, v->u.s.n);
    default:
        if ((rc = pv_buf_append(out, " DEFAULT x'", 11))) return rc;
        for (i = 0; i < v->u.s.n && !rc; i++) rc = pv_buf_printf(out, "%02x", (unsigned char)v->u.s.p[i]);
        return rc ? rc : pv_buf_putc(out, '\'');
    }
}

/* `index NAME (a, b)`, or `unique index …`, one line per index. */
static int index_lines(pv_buf *out, const pv_schema *s)
{
    uint32_t i, k;
    int rc = PV_OK;
    for (i = 0; i < s->nindexes && !rc; i++) {
        const pv_index_def *x = &s->indexes[i];
        rc = pv_buf_printf(out, "%sindex %s (", x->unique ? "unique " : "", x->name);
        for (k = 0; k < x->ncols && !rc; k++) rc = pv_buf_printf(out, "%s%s", k ? ", " : "", s->cols[x->cols[k]].name);
        if (!rc) rc = pv_buf_append(out, ")\n", 2);
    }
    return rc;
}

static int textconv_schema(pv_buf *out, const char *text, size_t len)
{
    char name[PV_MAX_TABLE_NAME + 1];
    const char *p = text + 10, *q;
    pv_schema *s = NULL;
    uint32_t c, k, a;
    int rc;
    q = memchr(p, '"', len - 10);
    if (!q || (size_t)(q - p) > PV_MAX_TABLE_NAME) goto raw;
    memcpy(name, p, (size_t)(q - p));
    name[q - p] = '\0';
    if (pv_schema_decode(text, len, name, "schema.jsonl", &s) != PV_OK) goto raw;
    rc = pv_buf_printf(out, "# schema of table %s, primary key (", s->name);
    for (k = 0; k < s->npk && !rc; k++) rc = pv_buf_printf(out, "%s%s", k ? ", " : "", s->cols[s->pk[k]].name);
    if (!rc) rc = pv_buf_append(out, ")\n", 2);
    for (c = 0; c < s->ncols && !rc; c++) {
        const pv_column *col = &s->cols[c];
        rc = pv_buf_printf(out, "column %s %s%s%s", col->name, pv_type_name(col->type), col->not_null ? " NOT NULL" : "",
                           col->hidden ? " HIDDEN" : "");
        if (!rc && col->dflt) rc = default_text(out, col->dflt);
        for (a = 0; a < col->naliases && !rc; a++)
            rc = pv_buf_printf(out, "%s%s", a ? ", " : " (renamed from ", col->aliases[a]);
        if (!rc && col->naliases) rc = pv_buf_putc(out, ')');
        if (!rc) rc = pv_buf_putc(out, '\n');
    }
    for (c = 0; c < s->ndropped && !rc; c++) rc = pv_buf_printf(out, "dropped column %s\n", s->dropped[c]);
    if (!rc) rc = index_lines(out, s);
    pv_schema_free(s);
    return rc;
raw:
    pv_schema_free(s);
    for (p = text; p < text + len; p = q + 1) {
        q = memchr(p, '\n', (size_t)(text + len - p));
        if (!q) q = text + len;
        if ((rc = raw_line(out, p, (size_t)(q - p)))) return rc;
    }
    return PV_OK;
}

int pvgit_textconv(pv_buf *out, const char *text, size_t len)
{
    const char *p = text, *end = text + len, *nl;
    hnames h;
    int rc = PV_OK;
    if (len > 10 && memcmp(text, "{\"table\":\"", 10) == 0) return textconv_schema(out, text, len);
    memset(&h, 0, sizeof h);
    /* the output is about as long as the input */
    if ((rc = pv_buf_reserve(out, len + len / 2 + 64))) return rc;
    for (; p < end && !rc; p = nl + 1) {
        size_t n;
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        n = (size_t)(nl - p);
        if (n && p[0] == '[') rc = row_line(out, &h, p, n);
        else if (n > 11 && memcmp(p, "{\"delete\":[", 11) == 0) rc = delete_line(out, p, n);
        else if (n > 6 && memcmp(p, "{\"pv\":", 6) == 0) rc = header_line(out, &h, p, n);
        else if (n > 12 && memcmp(p, "{\"conflict\":", 12) == 0) {
            rc = pv_buf_append(out, "conflict ", 9);
            if (!rc) rc = pv_buf_append(out, p + 12, n - 13);
            if (!rc) rc = pv_buf_putc(out, '\n');
        } else rc = raw_line(out, p, n);
    }
    free(h.p);
    free(h.n);
    return rc;
}
