/*
 * cmd_import.c: `pvdev import TABLE FILE [--format csv|ndjson]
 * [--key COL[,COL...]] [-C DIR]`: CSV (csv_read.h) or NDJSON (ndjson_read.h).
 *
 * The whole file is one transaction. Everything is read, typed and checked
 * first (field counts, UTF-8, names, types, NOT NULL, duplicate keys), and
 * only then is the table created (when new) and every row inserted by ONE
 * pv_ws_write_owned, which checks again before it writes. A bad file
 * therefore leaves the workspace as it was, and its error names file, line
 * and column.
 *
 * Memory: the field bytes go once into an arena, the rows into one growing
 * array of values, widened in place to the table's layout at the end; both
 * are handed to the workspace, which keeps them as the new table's rows
 * when they are in key order (no copy of the whole file).
 */
#include "cmds.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv_read.h"
#include "db.h"
#include "ws.h"
#include "infer.h"
#include "ndjson_read.h"
#include "options.h"
#include "progress.h"
#include "pv.h"
#include "schema.h"
#include "util.h"
#include "value.h"

#define VALUE_SHOWN 40  /* bytes of a value quoted in messages */

/* ---- options --------------------------------------------------------------
 * The table drives both parsing and the help text, so they cannot drift. */

enum { OPT_KEY, OPT_FORMAT, OPT_DIR, OPT_HELP };

static const pvdev_option options[] = {
    {OPT_KEY, NULL, "--key", "COL[,COL...]",
     "primary key of a new table (default: a hidden generated one)"},
    {OPT_FORMAT, NULL, "--format", "csv|ndjson",
     "the input format (default: ndjson for a .ndjson or .jsonl FILE, else csv)"},
    {OPT_DIR, "-C", NULL, "DIR", "the directory holding the workspace (default: .)"},
    {OPT_HELP, "-h", "--help", NULL, "show this help"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static const char help_text[] =
    "Import a CSV or NDJSON file into TABLE as one transaction: after any error\n"
    "nothing has been written, and the error names file and line.\n"
    "\n"
    "CSV: FILE is RFC 4180 CSV in UTF-8 (comma-separated, '\"'\n"
    "quotes, LF or CRLF line ends, a leading BOM is skipped); its first row\n"
    "names the columns. FILE '-' reads standard input.\n"
    "\n"
    "NULL and the empty string:\n"
    "  an empty unquoted field (a,,b) is NULL; a quoted empty field (a,\"\",b)\n"
    "  is the empty string ''. In an INTEGER or REAL column '' is an error,\n"
    "  like any other text that is not a number. Blank lines are skipped,\n"
    "  except in a file of one column, where a blank line is a row holding\n"
    "  NULL (an empty field: as pvdev export writes one).\n"
    "\n"
    "A new table gets one column per header name, typed from all of its\n"
    "values so that importing never changes a value:\n"
    "  INTEGER  every value is an integer written canonically (no leading\n"
    "           zeros, no '+', no separators: \"00501\" keeps a column TEXT)\n"
    "  REAL     every value is a number written as PicoVolt writes it back\n"
    "           (\"1.5\" is, \"1.50\", \"1e5\" and \".5\" are not), or Inf or\n"
    "           -Inf (infinity, as pvdev export writes it) beside at least\n"
    "           one number (\"inf\", \"Infinity\", or Inf among names, stay text)\n"
    "  TEXT     anything else, and a column that is entirely NULL\n"
    "\n"
    "A REAL column reads numbers and infinity, spelt as PostgreSQL and strtod\n"
    "read it: an optional sign, then inf or infinity in any case. NaN is\n"
    "refused (PicoVolt holds no NaN: like SQLite, it stores NULL).\n"
    "\n"
    "NDJSON: one JSON object a line (blank lines skipped); its keys name the\n"
    "columns, in the order they first appear, and a key missing from a line is\n"
    "NULL there. JSON values keep their type: integers (int64) are INTEGER,\n"
    "other numbers REAL (an integer beyond int64 is an error: as REAL it would\n"
    "lose digits; a number with a fraction or exponent beyond the range of a\n"
    "double, such as the 1e999 and -1e999 pvdev export writes, is infinity),\n"
    "true/false BOOLEAN, strings TEXT (\"5\" stays text), {\"hex\":\"00ff\"} a\n"
    "BLOB, null NULL, other objects and arrays TEXT holding their JSON (where a\n"
    "number beyond a double's range is an error). A new table's column is\n"
    "INTEGER, REAL (integers and reals), BOOLEAN or BLOB when all its values\n"
    "are, else TEXT (numbers and booleans then stored as their text); blobs\n"
    "mixed with other types are an error. Bad JSON is named by file, line and\n"
    "column where the token at fault starts (x.ndjson:7:12: ..., the column in\n"
    "characters from 1); an object must be whole on its line.\n"
    "\n"
    "An existing table keeps its columns and types: header names (keys) are\n"
    "matched to its columns ignoring case, columns missing from the header get\n"
    "NULL, and every value must fit its column's type.\n"
    "\n"
    "On a terminal a progress line (rows, rows/s) shows on stderr.\n";

static const pvdev_command command = {"import", "TABLE FILE", help_text, options, NOPTIONS, OPT_HELP};





struct import_args {
    const char *table;
    const char *file;
    const char *dir;
    const char *key;     /* "a,b" as given, or NULL */
    const char *format;  /* "csv", "ndjson", or NULL: by the file's name */
};

#define PROCEED (-1)

/* Returns PROCEED, or the exit code when there is nothing to import. */
static int parse_args(int argc, char **argv, struct import_args *a)
{
    const char *pos[2];
    int npos = 0, k;
    pvdev_args it = PVDEV_ARGS_INIT;
    const pvdev_option *o;
    const char *val;

    while ((k = pvdev_next_arg(&command, argc, argv, &it, &o, &val)) != PVDEV_ARG_END) {
        if (k == PVDEV_ARG_OPERAND) {
            if (npos == 2)
                return pvdev_usage_error(&command, "unexpected argument", val);
            pos[npos++] = val;
            continue;
        }
        if (k != PVDEV_ARG_OPTION) return k;
        switch (o->id) {
        case OPT_KEY: a->key = val; break;
        case OPT_FORMAT:
            if (strcmp(val, "csv") != 0 && strcmp(val, "ndjson") != 0)
                return pvdev_usage_error(&command, "unknown format", val);
            a->format = val;
            break;
        case OPT_DIR: a->dir = val; break;
        default: return pvdev_print_help(&command);
        }
    }
    if (npos < 2)
        return pvdev_usage_error(&command, npos ? "missing FILE" : "missing TABLE and FILE", NULL);
    a->table = pos[0];
    a->file = pos[1];
    return PROCEED;
}

/* ---- the file in memory -------------------------------------------------- */

struct csv_table {
    pv_arena arena;      /* names, origin */
    pv_arena row_bytes;  /* the bytes of the rows' values: handed over with
                          * vals to the workspace (pv_ws_write_owned) */
    const char *origin;  /* the input's name for messages (arena) */
    int json;            /* NDJSON: typed values, names from keys */
    uint64_t header_line;
    size_t nhdr;
    pv_str *names;       /* header names, nhdr */
    uint64_t *name_lines;/* NDJSON: the line where each key first appears */
    size_t names_cap;    /* NDJSON: room in names, name_lines and infer */
    pv_infer *infer;     /* one per header column */
    pv_value *vals;      /* nrows x stride values: TEXT or NULL while read
                          * from CSV, typed from NDJSON */
    size_t stride;       /* values per row in vals: nhdr, then ncols */
    size_t nrows, cap;
    uint64_t *lines;     /* the line where each row starts */
    pv_progress progress;
};

static void csv_table_free(struct csv_table *t)
{
    pv_progress_end(&t->progress);
    pv_arena_free(&t->arena);
    pv_arena_free(&t->row_bytes);
    if (t->json) {
        free(t->names);
        free(t->name_lines);
    }
    free(t->infer);
    free(t->vals);
    free(t->lines);
}

/* "'value'" for messages, cut at VALUE_SHOWN bytes. */
static void quote_value(const pv_value *v, char *buf, size_t size)
{
    size_t n;

    switch (v->type) {
    case PV_NULL:
        snprintf(buf, size, "NULL");
        return;
    case PV_INTEGER:
        snprintf(buf, size, "%" PRId64, v->u.i);
        return;
    case PV_BOOLEAN:
        snprintf(buf, size, "%s", v->u.i ? "true" : "false");
        return;
    case PV_REAL: {
        char num[32];
        pv_real_format(v->u.f, num);
        snprintf(buf, size, "%s", num);
        return;
    }
    case PV_BLOB:
        snprintf(buf, size, "a blob of %zu bytes", v->u.s.n);
        return;
    default:
        n = pv_csv_utf8_prefix(v->u.s.p, v->u.s.n, VALUE_SHOWN);
        snprintf(buf, size, "'%.*s%s'", (int)n, v->u.s.p, n < v->u.s.n ? "..." : "");
    }
}

static int header_error(const struct csv_table *t, size_t i, const char *p,
                        size_t n, const char *what)
{
    size_t shown = pv_csv_utf8_prefix(p, n, VALUE_SHOWN);

    if (t->json)
        return pv_err(PV_EINPUT, "%s:%" PRIu64 ": key \"%.*s\": %s", t->origin,
                      t->name_lines[i], (int)shown, p, what);
    return pv_err(PV_EINPUT, "%s:%" PRIu64 ": header column %zu (\"%.*s\"): %s",
                  t->origin, t->header_line, i + 1, (int)shown, p, what);
}

/* Name i (already in t->names[i]) must be a new, valid column name. */
static int check_header_name(const struct csv_table *t, size_t i)
{
    const char *p = t->names[i].p;
    size_t n = t->names[i].n;

    if (!p || n == 0) {
        if (t->json)
            return pv_err(PV_EINPUT, "%s:%" PRIu64 ": an empty key: every column "
                          "needs a name", t->origin, t->name_lines[i]);
        return pv_err(PV_EINPUT, "%s:%" PRIu64 ": header column %zu is empty: "
                      "every column needs a name", t->origin, t->header_line, i + 1);
    }
    if (pv_ident_eq(p, n, PV_HIDDEN_KEY_NAME, strlen(PV_HIDDEN_KEY_NAME)))
        return header_error(t, i, p, n, "the name is reserved for the hidden key");
    if (!pv_column_name_ok(p, n))
        return header_error(t, i, p, n, "not a valid column name");
    for (size_t j = 0; j < i; j++) {
        if (pv_ident_eq(t->names[j].p, t->names[j].n, p, n)) {
            char what[PV_MAX_COLUMN_NAME + 64];
            if (t->json)
                snprintf(what, sizeof what, "differs only in case from key \"%s\" "
                         "(line %" PRIu64 ")", t->names[j].p, t->name_lines[j]);
            else
                snprintf(what, sizeof what, "duplicates header column %zu", j + 1);
            return header_error(t, i, p, n, what);
        }
    }
    return 0;
}

static int read_header(pv_csv_reader *rd, struct csv_table *t)
{
    pv_csv_record rec;
    int rc = pv_csv_next(rd, &rec);

    if (rc < 0)
        return rc;
    if (rc == 0)
        return pv_err(PV_EINPUT, "%s: empty file: expected a header row "
                      "naming the columns", t->origin);
    t->header_line = rec.line;
    t->nhdr = rec.nfields;
    t->stride = rec.nfields;
    t->names = pv_arena_alloc(&t->arena, rec.nfields * sizeof *t->names);
    t->infer = calloc(rec.nfields, sizeof *t->infer);
    if (!t->names || !t->infer)
        return pv_err(PV_ENOMEM, "out of memory");
    for (size_t i = 0; i < rec.nfields; i++) {
        const pv_csv_field *f = &rec.fields[i];
        t->names[i].p = f->p ? pv_arena_dup(&t->arena, f->p, f->n) : NULL;
        t->names[i].n = f->n;
        if (f->p && !t->names[i].p)
            return pv_err(PV_ENOMEM, "out of memory");
        if ((rc = check_header_name(t, i)) < 0)
            return rc;
        pv_infer_init(&t->infer[i]);
    }
    return pv_csv_set_names(rd, &rec);
}

/* Room for one more row. */
static int reserve_row(struct csv_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 1024;
    pv_value *v;
    uint64_t *l;

    if (t->nrows < t->cap)
        return 0;
    if (cap > SIZE_MAX / sizeof *v / (t->stride ? t->stride : 1))
        return pv_err(PV_ELIMIT, "%s: too many rows", t->origin);
    if (!(v = realloc(t->vals, cap * t->stride * sizeof *v)))
        return pv_err(PV_ENOMEM, "out of memory after %zu rows", t->nrows);
    t->vals = v;
    if (!(l = realloc(t->lines, cap * sizeof *l)))
        return pv_err(PV_ENOMEM, "out of memory after %zu rows", t->nrows);
    t->lines = l;
    t->cap = cap;
    return 0;
}

static int add_row(struct csv_table *t, const pv_csv_record *rec)
{
    pv_value *row;
    int rc;

    if ((rc = reserve_row(t)) < 0)
        return rc;
    row = &t->vals[t->nrows * t->stride];
    for (size_t i = 0; i < rec->nfields; i++) {
        const pv_csv_field *f = &rec->fields[i];
        char *p;

        if (!f->p) {
            row[i] = pv_v_null();
            continue;
        }
        if (!(p = pv_arena_dup(&t->row_bytes, f->p, f->n)))
            return pv_err(PV_ENOMEM, "out of memory after %zu rows", t->nrows);
        row[i] = pv_v_text(p, f->n);
        pv_infer_add(&t->infer[i], f->p, f->n);
    }
    t->lines[t->nrows++] = rec->line;
    return 0;
}

static int read_csv(pv_csv_reader *rd, struct csv_table *t)
{
    pv_csv_record rec;
    int rc;

    if (!(t->origin = pv_arena_dup(&t->arena, pv_csv_name(rd),
                                   strlen(pv_csv_name(rd)))))
        return pv_err(PV_ENOMEM, "out of memory");
    if ((rc = read_header(rd, t)) < 0)
        return rc;
    while ((rc = pv_csv_next(rd, &rec)) == 1) {
        if ((rc = add_row(t, &rec)) < 0)
            return rc;
        pv_progress_update(&t->progress, t->nrows, rec.offset);
    }
    return rc;
}

/* ---- NDJSON -------------------------------------------------------------- */

/* Lay rows out with `stride` values each (more than now), NULL-filled. */
static int grow_stride(struct csv_table *t, size_t stride)
{
    pv_value *v = t->vals;

    if (t->cap) {
        if (t->cap > SIZE_MAX / sizeof *v / stride)
            return pv_err(PV_ELIMIT, "%s: too many rows", t->origin);
        if (!(v = realloc(t->vals, t->cap * stride * sizeof *v)))
            return pv_err(PV_ENOMEM, "out of memory after %zu rows", t->nrows);
        t->vals = v;
        /* From the last row back: a row's new place never overlaps a row
         * not moved yet. The row being read (nrows) moves too. */
        for (size_t r = t->nrows + 1; r-- > 0;) {
            if (r >= t->cap)
                continue;
            memmove(&v[r * stride], &v[r * t->stride], t->stride * sizeof *v);
            for (size_t c = t->stride; c < stride; c++)
                v[r * stride + c] = pv_v_null();
        }
    }
    t->stride = stride;
    return 0;
}

/* The column of key `k`, adding it when new; `pos` is its place in the
 * line, where it most likely sits in the header too. */
static int key_column(struct csv_table *t, const pv_str *k, size_t pos,
                      uint64_t line, size_t *out)
{
    size_t i = t->nhdr;
    int rc;

    if (pos < t->nhdr && t->names[pos].n == k->n && memcmp(t->names[pos].p, k->p, k->n) == 0) {
        *out = pos;
        return 0;
    }
    for (size_t j = 0; j < t->nhdr; j++)
        if (t->names[j].n == k->n && memcmp(t->names[j].p, k->p, k->n) == 0) {
            *out = j;
            return 0;
        }
    if (t->nhdr >= PV_MAX_COLUMNS)
        return pv_err(PV_ELIMIT, "%s:%" PRIu64 ": more than %d keys", t->origin,
                      line, PV_MAX_COLUMNS);
    if (t->nhdr == t->names_cap) {
        size_t cap = t->names_cap ? t->names_cap * 2 : 16;
        pv_str *names = realloc(t->names, cap * sizeof *names);
        uint64_t *nl;
        pv_infer *inf;
        if (names)
            t->names = names;
        nl = names ? realloc(t->name_lines, cap * sizeof *nl) : NULL;
        if (nl)
            t->name_lines = nl;
        inf = nl ? realloc(t->infer, cap * sizeof *inf) : NULL;
        if (!inf)
            return pv_err(PV_ENOMEM, "out of memory");
        t->infer = inf;
        t->names_cap = cap;
    }
    if (!(t->names[i].p = pv_arena_dup(&t->arena, k->p, k->n)))
        return pv_err(PV_ENOMEM, "out of memory");
    t->names[i].n = k->n;
    t->name_lines[i] = line;
    pv_infer_init(&t->infer[i]);
    t->nhdr++;
    if ((rc = check_header_name(t, i)) < 0)
        return rc;
    if (t->nhdr > t->stride && (rc = grow_stride(t, t->nhdr * 2)) < 0)
        return rc;
    *out = i;
    return 0;
}

static int add_object(struct csv_table *t, const pv_ndjson_record *rec)
{
    pv_value *row;
    int rc;

    if ((rc = reserve_row(t)) < 0)
        return rc;
    for (size_t c = 0; c < t->stride; c++)
        t->vals[t->nrows * t->stride + c] = pv_v_null();
    for (size_t k = 0; k < rec->nmembers; k++) {
        const pv_ndjson_member *m = &rec->members[k];
        pv_value v = m->value;
        size_t c = 0;

        if ((rc = key_column(t, &m->key, k, rec->line, &c)) < 0)
            return rc;
        if ((v.type == PV_TEXT || v.type == PV_BLOB) &&
            !(v.u.s.p = pv_arena_dup(&t->row_bytes, v.u.s.p, v.u.s.n)))
            return pv_err(PV_ENOMEM, "out of memory after %zu rows", t->nrows);
        row = &t->vals[t->nrows * t->stride];  /* key_column may move rows */
        row[c] = v;
        pv_infer_add_value(&t->infer[c], &v);
    }
    t->lines[t->nrows++] = rec->line;
    return 0;
}

static int read_ndjson(pv_ndjson_reader *rd, struct csv_table *t)
{
    pv_ndjson_record rec;
    int rc;

    t->json = 1;
    t->stride = 8;
    if (!(t->origin = pv_arena_dup(&t->arena, pv_ndjson_name(rd),
                                   strlen(pv_ndjson_name(rd)))))
        return pv_err(PV_ENOMEM, "out of memory");
    while ((rc = pv_ndjson_next(rd, &rec)) == 1) {
        if ((rc = add_object(t, &rec)) < 0)
            return rc;
        pv_progress_update(&t->progress, t->nrows, rec.offset);
    }
    if (rc < 0)
        return rc;
    /* Rows as the CSV path has them: exactly nhdr values each. */
    for (size_t r = 0; r < t->nrows && t->stride != t->nhdr; r++)
        memmove(&t->vals[r * t->nhdr], &t->vals[r * t->stride], t->nhdr * sizeof *t->vals);
    t->stride = t->nhdr;
    return 0;
}

/* ---- the table's shape --------------------------------------------------- */

static int has_declared_key(const pv_schema *s)
{
    return s->npk > 0 && !s->cols[s->pk[0]].hidden;
}

/* Resolve "--key a,b" against the columns of `s`. */
static int parse_key(const char *key, const pv_schema *s, uint32_t *cols,
                     uint32_t *n)
{
    const char *p = key;

    *n = 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        int c;

        if (len == 0)
            return pv_err(PV_EINPUT, "--key '%s': empty column name", key);
        if ((c = pv_schema_find(s, p, len)) < 0 || s->cols[c].hidden)
            return pv_err(PV_EINPUT, "--key: no column \"%.*s\" in table '%s'",
                          (int)len, p, s->name);
        for (uint32_t i = 0; i < *n; i++)
            if (cols[i] == (uint32_t)c)
                return pv_err(PV_EINPUT, "--key: column \"%.*s\" named twice",
                              (int)len, p);
        if (*n >= s->ncols)
            return pv_err(PV_EINPUT, "--key '%s': too many columns", key);
        cols[(*n)++] = (uint32_t)c;
        if (!end)
            return 0;
        p = end + 1;
    }
}

/* A new table: the header's columns with inferred types. */
static int build_schema(const struct import_args *a, const struct csv_table *t,
                        pv_schema **out)
{
    pv_schema *s = pv_schema_new(a->table, strlen(a->table));
    uint32_t *pk = NULL, npk = 0;
    int rc = 0;

    if (!s)
        return pv_err(PV_ENOMEM, "out of memory");
    if (t->nhdr == 0) {
        rc = pv_err(PV_EINPUT, "%s: no %s: nothing to create table '%s' from",
                    t->origin, t->json ? "keys" : "columns", a->table);
        goto done;
    }
    for (size_t i = 0; i < t->nhdr && rc == 0; i++) {
        int type = pv_infer_type(&t->infer[i]);
        if (type < 0) {
            rc = header_error(t, i, t->names[i].p, t->names[i].n, "blobs mixed "
                              "with other types: no column type holds them all");
            goto done;
        }
        rc = pv_schema_add_column(s, t->names[i].p, t->names[i].n, type, 0);
    }
    if (rc < 0) {
        pv_err_prefix("%s:%" PRIu64, t->origin, t->header_line);
        goto done;
    }
    if (a->key) {
        if (!(pk = calloc(s->ncols ? s->ncols : 1, sizeof *pk))) {
            rc = pv_err(PV_ENOMEM, "out of memory");
            goto done;
        }
        if ((rc = parse_key(a->key, s, pk, &npk)) < 0 ||
            (rc = pv_schema_set_pk(s, pk, npk)) < 0)
            goto done;
    }
    if ((rc = pv_schema_finish(s)) < 0)
        goto done;
    *out = s;
    s = NULL;
done:
    free(pk);
    pv_schema_free(s);
    return rc;
}

/* An existing table: --key, if given, must be the key it already has. */
static int check_key_option(const struct import_args *a, const pv_schema *s)
{
    uint32_t *pk, npk = 0;
    int rc;

    if (!a->key)
        return 0;
    if (!has_declared_key(s))
        return pv_err(PV_EINPUT, "--key: table '%s' already exists, with a "
                      "generated key; --key only applies to a new table", s->name);
    if (!(pk = calloc(s->ncols, sizeof *pk)))
        return pv_err(PV_ENOMEM, "out of memory");
    rc = parse_key(a->key, s, pk, &npk);
    if (rc == 0 && (npk != s->npk || memcmp(pk, s->pk, npk * sizeof *pk) != 0))
        rc = pv_err(PV_EINPUT, "--key '%s' differs from the primary key of "
                    "existing table '%s'", a->key, s->name);
    free(pk);
    return rc;
}

/* The schema of TABLE, or PV_ENOTFOUND when it has to be created. */
static int find_table(pv_db *db, const char *name, pv_schema **out)
{
    pv_source src;
    int rc = pv_db_find_table(db, name, strlen(name), &src);

    if (rc < 0)
        return rc;
    /* Borrowed until the next write to the table: keep our own copy. */
    if (!(*out = pv_schema_clone(src.schema)))
        return pv_err(PV_ENOMEM, "out of memory");
    return 0;
}

/* map[i] = the table column of header column i. */
static int map_header(const struct csv_table *t, const pv_schema *s,
                      uint32_t *map)
{
    for (size_t i = 0; i < t->nhdr; i++) {
        int c = pv_schema_find(s, t->names[i].p, t->names[i].n);
        if (c < 0 || s->cols[c].hidden) {
            char what[PV_MAX_TABLE_NAME + 40];
            snprintf(what, sizeof what, "table '%s' has no such column", s->name);
            return header_error(t, i, t->names[i].p, t->names[i].n, what);
        }
        map[i] = (uint32_t)c;
    }
    return 0;
}

/* ---- rows in the table's layout ------------------------------------------ */

/* Widen rows from the header's layout (stride nhdr) to the table's (ncols,
 * never fewer), in place: from the last row back, a row's new place never
 * overlaps a row not moved yet. Columns not in the header get NULL. */
static int widen_rows(struct csv_table *t, const uint32_t *map, size_t ncols)
{
    pv_value *tmp, *v;

    if (t->nrows == 0) {
        t->stride = ncols;
        return 0;
    }
    if (t->nrows > SIZE_MAX / sizeof *v / ncols)
        return pv_err(PV_ELIMIT, "%s: too many rows", t->origin);
    if (!(v = realloc(t->vals, t->nrows * ncols * sizeof *v)))
        return pv_err(PV_ENOMEM, "out of memory");
    t->vals = v;
    if (!(tmp = malloc(ncols * sizeof *tmp)))
        return pv_err(PV_ENOMEM, "out of memory");
    for (size_t r = t->nrows; r-- > 0;) {
        for (size_t c = 0; c < ncols; c++)
            tmp[c] = pv_v_null();
        for (size_t i = 0; i < t->nhdr; i++)
            tmp[map[i]] = t->vals[r * t->nhdr + i];
        memcpy(&t->vals[r * ncols], tmp, ncols * sizeof *tmp);
    }
    free(tmp);
    t->stride = ncols;
    t->cap = t->nrows;
    return 0;
}

static int value_error(const struct csv_table *t, size_t r, size_t i,
                       const pv_value *v, const pv_column *col)
{
    char shown[VALUE_SHOWN + 8];
    size_t n = pv_csv_utf8_prefix(t->names[i].p, t->names[i].n, VALUE_SHOWN);

    if (v->type == PV_NULL && t->json)
        return pv_err(PV_ECONSTRAINT, "%s:%" PRIu64 ": key \"%.*s\": null or "
                      "missing, but the column is %s", t->origin, t->lines[r],
                      (int)n, t->names[i].p,
                      col->pk_pos >= 0 ? "part of the primary key" : "NOT NULL");
    if (v->type == PV_NULL)
        return pv_err(PV_ECONSTRAINT, "%s:%" PRIu64 ": column %zu (\"%.*s\"): "
                      "an empty field is NULL, but the column is %s%s",
                      t->origin, t->lines[r], i + 1, (int)n, t->names[i].p,
                      col->pk_pos >= 0 ? "part of the primary key" : "NOT NULL",
                      col->type == PV_TEXT ? " (write \"\" for an empty string)" : "");
    quote_value(v, shown, sizeof shown);
    if (t->json)
        return pv_err(PV_ETYPE, "%s:%" PRIu64 ": key \"%.*s\": %s is not a valid %s",
                      t->origin, t->lines[r], (int)n, t->names[i].p, shown,
                      pv_type_name(col->type));
    return pv_err(PV_ETYPE, "%s:%" PRIu64 ": column %zu (\"%.*s\"): %s%s is not "
                  "a valid %s", t->origin, t->lines[r], i + 1, (int)n,
                  t->names[i].p, shown, v->u.s.n ? "" : " (a quoted empty field)",
                  pv_type_name(col->type));
}

/* Convert one value to its column's type, in place. */
static int convert_value(struct csv_table *t, size_t r, size_t i,
                         pv_value *v, const pv_column *col)
{
    char scratch[64];
    pv_value out;

    if (v->type == PV_NULL)
        return col->not_null ? value_error(t, r, i, v, col) : 0;
    if (v->type == PV_TEXT && col->type == PV_REAL) {
        /* Numbers, and infinity as export writes it ("Inf") and as
         * PostgreSQL and strtod spell it, which INSERT's rules refuse. */
        double f;
        if (!pv_infer_real_parse(v->u.s.p, v->u.s.n, &f))
            return value_error(t, r, i, v, col);
        *v = pv_v_real(f);
        return 0;
    }
    if (pv_value_convert(v, col->type, &out, scratch) < 0)
        return value_error(t, r, i, v, col);
    /* Text written into scratch must outlive this frame. */
    if ((out.type == PV_TEXT || out.type == PV_BLOB) && out.u.s.p == scratch &&
        !(out.u.s.p = pv_arena_dup(&t->row_bytes, scratch, out.u.s.n)))
        return pv_err(PV_ENOMEM, "out of memory");
    *v = out;
    return 0;
}

/* A NOT NULL column the header does not have would be NULL in every row. */
static int check_missing(const struct csv_table *t, const pv_schema *s,
                         const uint32_t *map)
{
    for (uint32_t c = 0; c < s->ncols && t->nrows > 0; c++) {
        size_t i;
        if (s->cols[c].hidden || !s->cols[c].not_null)
            continue;
        for (i = 0; i < t->nhdr && map[i] != c; i++)
            ;
        if (i == t->nhdr)
            return pv_err(PV_ECONSTRAINT, "%s:%" PRIu64 ": no column \"%s\" in "
                          "the header, but table '%s' needs a value for it",
                          t->origin, t->header_line, s->cols[c].name, s->name);
    }
    return 0;
}

static int convert_rows(struct csv_table *t, const pv_schema *s,
                        const uint32_t *map)
{
    int rc;

    if ((rc = check_missing(t, s, map)) < 0 ||
        (rc = widen_rows(t, map, s->ncols)) < 0)
        return rc;
    for (size_t r = 0; r < t->nrows; r++) {
        pv_value *row = &t->vals[r * t->stride];
        for (size_t i = 0; i < t->nhdr; i++) {
            const pv_column *col = &s->cols[map[i]];
            if ((rc = convert_value(t, r, i, &row[map[i]], col)) < 0)
                return rc;
        }
    }
    return 0;
}

/* ---- duplicate keys ------------------------------------------------------
 * pv_db_insert rejects them too, but only we know the line of both rows. */

static uint64_t mix64(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static uint64_t value_hash(const pv_value *v)
{
    uint64_t h = 0xcbf29ce484222325ULL;  /* FNV-1a over text */

    switch (v->type) {
    case PV_REAL:
        if (v->u.f == 0)
            return 0;  /* -0.0 and 0.0 are equal keys */
        memcpy(&h, &v->u.f, sizeof h);
        return mix64(h);
    case PV_TEXT:
    case PV_BLOB:
        for (size_t i = 0; i < v->u.s.n; i++)
            h = (h ^ (unsigned char)v->u.s.p[i]) * 0x100000001b3ULL;
        return h;
    case PV_NULL:
        return 0;
    default:
        return mix64((uint64_t)v->u.i);
    }
}

static uint64_t key_hash(const pv_schema *s, const pv_value *row)
{
    uint64_t h = 0;

    for (uint32_t k = 0; k < s->npk; k++)
        h = mix64(h ^ value_hash(&row[s->pk[k]]));
    return h;
}

static int key_equal(const pv_schema *s, const pv_value *a, const pv_value *b)
{
    for (uint32_t k = 0; k < s->npk; k++)
        if (pv_value_cmp(&a[s->pk[k]], &b[s->pk[k]]) != 0)
            return 0;
    return 1;
}

/* "'ABC'", "42", or "('ABC', 42)" for a key of several columns. */
static int format_key(const pv_schema *s, const pv_value *row, pv_buf *b)
{
    int rc = s->npk > 1 ? pv_buf_putc(b, '(') : 0;

    for (uint32_t k = 0; k < s->npk && rc == 0; k++) {
        const pv_value *v = &row[s->pk[k]];
        char num[32], shown[VALUE_SHOWN + 8];

        if (k > 0)
            rc = pv_buf_append(b, ", ", 2);
        if (rc < 0)
            break;
        if (v->type == PV_TEXT || v->type == PV_BLOB) {
            quote_value(v, shown, sizeof shown);
            rc = pv_buf_append(b, shown, strlen(shown));
        } else if (v->type == PV_REAL) {
            pv_real_format(v->u.f, num);
            rc = pv_buf_append(b, num, strlen(num));
        } else {
            rc = pv_buf_printf(b, "%" PRId64, v->u.i);
        }
    }
    if (rc == 0 && s->npk > 1)
        rc = pv_buf_putc(b, ')');
    return rc;
}

static int duplicate_error(const struct csv_table *t, const pv_schema *s,
                           size_t first, size_t again)
{
    pv_buf key = PV_BUF_INIT;
    int rc = format_key(s, &t->vals[again * t->stride], &key);

    if (rc == 0)
        rc = pv_err(PV_ECONSTRAINT, "%s:%" PRIu64 ": duplicate primary key %s "
                    "(first at line %" PRIu64 ")", t->origin, t->lines[again],
                    key.p ? key.p : "", t->lines[first]);
    pv_buf_free(&key);
    return rc;
}

/* Rows in strictly ascending key order (a file sorted by its key, the
 * common case) have no duplicate: no hash set of 2 x rows slots needed. */
static int keys_ascending(const struct csv_table *t, const pv_schema *s)
{
    for (size_t r = 1; r < t->nrows; r++) {
        const pv_value *a = &t->vals[(r - 1) * t->stride], *b = &t->vals[r * t->stride];
        int c = 0;
        for (uint32_t k = 0; k < s->npk && !c; k++)
            c = pv_value_cmp(&a[s->pk[k]], &b[s->pk[k]]);
        if (c >= 0)
            return 0;
    }
    return 1;
}

static int check_duplicates(const struct csv_table *t, const pv_schema *s)
{
    size_t size = 16, *slots;
    int rc = 0;

    if (!has_declared_key(s) || t->nrows < 2 || keys_ascending(t, s))
        return 0;
    while (size < t->nrows * 2)
        size *= 2;
    if (!(slots = calloc(size, sizeof *slots)))  /* row + 1, 0 = empty */
        return pv_err(PV_ENOMEM, "out of memory");
    for (size_t r = 0; r < t->nrows && rc == 0; r++) {
        const pv_value *row = &t->vals[r * t->stride];
        size_t j = (size_t)key_hash(s, row) & (size - 1);

        for (; slots[j] && rc == 0; j = (j + 1) & (size - 1)) {
            if (key_equal(s, &t->vals[(slots[j] - 1) * t->stride], row))
                rc = duplicate_error(t, s, slots[j] - 1, r);
        }
        slots[j] = r + 1;
    }
    free(slots);
    return rc;
}

/* ---- the import ---------------------------------------------------------- */

/* CREATE TABLE (when new) and the rows in ONE transaction: a failure
 * leaves no empty table behind. The rows and their bytes go to the
 * workspace, which keeps them as the table's rows when it can instead of
 * copying them all: t->vals and t->row_bytes are empty afterwards. */
static int write_rows(pv_db *db, struct csv_table *t, const pv_schema *s,
                      int create)
{
    pv_schema *copy;
    int rc;

    if ((rc = pv_db_begin(db)) < 0)
        return rc;
    if (create) {
        /* pv_db_create_table takes the schema it is given; we keep ours. */
        if (!(copy = pv_schema_clone(s)))
            rc = pv_err(PV_ENOMEM, "out of memory");
        else
            rc = pv_db_create_table(db, copy, 0);
    }
    if (rc == 0 && t->nrows > 0) {
        rc = pv_ws_write_owned(db->ws, s->name, t->vals, t->nrows, t->stride,
                               &t->row_bytes, PV_WRITE_INSERT, t->origin,
                               (size_t)t->lines[0], NULL);
        t->vals = NULL;
        t->cap = 0;
    }
    if (rc < 0) {
        pv_db_rollback(db);
        return rc;
    }
    return pv_db_commit(db);
}

static void report(const struct csv_table *t, const pv_schema *s,
                   const uint32_t *map)
{
    fprintf(stderr, "imported %zu row%s into %s (%zu column%s: ", t->nrows,
            t->nrows == 1 ? "" : "s", s->name, t->nhdr, t->nhdr == 1 ? "" : "s");
    for (size_t i = 0; i < t->nhdr; i++) {
        const pv_column *c = &s->cols[map[i]];
        fprintf(stderr, "%s%s %s", i ? ", " : "", c->name, pv_type_name(c->type));
    }
    fputs(")\n", stderr);
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* Read the whole input into t, with a progress line on a terminal. */
static int read_input(const struct import_args *a, struct csv_table *t)
{
    int ndjson = a->format ? strcmp(a->format, "ndjson") == 0
                           : ends_with(a->file, ".ndjson") || ends_with(a->file, ".jsonl");
    pv_csv_reader *rd = NULL;
    pv_ndjson_reader *jr = NULL;
    struct stat st;
    char what[96];
    int rc;

    snprintf(what, sizeof what, "importing %.80s", a->file);
    pv_progress_start(&t->progress, what,
                      strcmp(a->file, "-") && stat(a->file, &st) == 0 && S_ISREG(st.st_mode)
                          ? (uint64_t)st.st_size : 0);
    if (ndjson) {
        if ((rc = pv_ndjson_open(a->file, &jr)) == 0)
            rc = read_ndjson(jr, t);
    } else if ((rc = pv_csv_open(a->file, PV_MAX_COLUMNS, &rd)) == 0) {
        rc = read_csv(rd, t);
    }
    pv_ndjson_close(jr);
    pv_csv_close(rd);
    return rc;
}

static int run_import(const struct import_args *a)
{
    struct csv_table t;
    pv_db *db = NULL;
    pv_schema *schema = NULL;
    uint32_t *map = NULL;
    char what[64];
    int create = 0, rc;

    memset(&t, 0, sizeof t);
    if ((rc = pv_open(a->dir, PV_OPEN_READWRITE, &db)) < 0)
        goto done;
    if ((rc = find_table(db, a->table, &schema)) == PV_ENOTFOUND) {
        create = 1;
        if (!pv_table_name_ok(a->table, strlen(a->table))) {
            rc = pv_err(PV_EINPUT, "invalid table name '%s' (letters, digits "
                        "and '_', not starting with a digit, at most %d bytes)",
                        a->table, PV_MAX_TABLE_NAME);
            goto done;
        }
    } else if (rc < 0) {
        goto done;
    }
    if ((rc = read_input(a, &t)) < 0)
        goto done;
    rc = create ? build_schema(a, &t, &schema) : check_key_option(a, schema);
    if (rc < 0)
        goto done;
    if (!(map = calloc(t.nhdr ? t.nhdr : 1, sizeof *map))) {
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto done;
    }
    snprintf(what, sizeof what, "checking %zu rows", t.nrows);
    pv_progress_phase(&t.progress, what);
    if ((rc = map_header(&t, schema, map)) < 0 ||
        (rc = convert_rows(&t, schema, map)) < 0 ||
        (rc = check_duplicates(&t, schema)) < 0)
        goto done;
    snprintf(what, sizeof what, "writing %zu rows", t.nrows);
    pv_progress_phase(&t.progress, what);
    if ((rc = write_rows(db, &t, schema, create)) < 0)
        goto done;
    /* the rows are in memory and committed: a checkpoint of them spares
     * the next reader (the bake, a query) replaying every chunk. It is a
     * cache: failing to write it does not fail the import. */
    pv_progress_phase(&t.progress, "saving the load cache");
    if (pv_ws_checkpoint(db->ws, schema->name) < 0)
        fprintf(stderr, "pvdev: warning: the load cache of table %s was not saved: %s\n",
                schema->name, pv_errmsg());
    pv_progress_end(&t.progress);
    report(&t, schema, map);
done:
    free(map);
    pv_schema_free(schema);
    csv_table_free(&t);
    pv_close(db);
    return rc;
}

int cmd_import(int argc, char **argv)
{
    struct import_args a = {NULL, NULL, ".", NULL, NULL};
    int rc = parse_args(argc, argv, &a);

    if (rc != PROCEED)
        return rc;
    if (run_import(&a) < 0) {
        fprintf(stderr, "pvdev: %s\n", pv_errmsg());
        return PVDEV_EXIT_FAIL;
    }
    return PVDEV_EXIT_OK;
}
