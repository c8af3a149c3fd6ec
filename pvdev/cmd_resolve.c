/*
 * cmd_resolve.c: `pvdev resolve --ours|--theirs [TABLE [KEY]]`: settle
 * merge conflicts. The whole run holds the workspace's writer lock (no
 * other writer commits between its reads and its writes): a schema switch
 * (below) is one commit of the rollback journal, then the rows are another
 * (pvgit/resolve_rows.c): the settled conflict records out of their
 * chunks and the chosen rows (or their absence) appended, whole or not at
 * all. Killed in between, running it again finishes the job.
 *
 * A table whose schema.jsonl git holds as conflicted (the merge driver
 * settled it as ours has it) gets, with --theirs, theirs' settlement first,
 * its chunks converted where a column's type changes
 * (pvgit/resolve_schema.c); the chosen rows then take the values of such a
 * column from theirs' commit, as theirs has them (the conflict record holds
 * them converted to ours' type, or NULL where they did not convert). With
 * --ours on theirs' settlement (a --theirs run killed before its rows: the
 * last choice wins) the switch goes back to ours' and the values come from
 * HEAD the same way.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunkline.h"
#include "cmds.h"
#include "conflict_util.h"
#include "db.h"
#include "merge_retype.h"
#include "pv.h"
#include "pvgit.h"
#include "resolve_rows.h"
#include "resolve_schema.h"
#include "rowdiff.h"
#include "ws_internal.h"

struct resolve_opts {
    int side;            /* PV_SIDE_OURS or PV_SIDE_THEIRS */
    const char *table;   /* NULL: every table */
    const char *key;     /* NULL: every key */
};

static void resolve_usage(FILE *to)
{
    fprintf(to, "usage: pvdev resolve --ours|--theirs [--] [TABLE [KEY]]\n\n"
                "Settle merge conflicts ('pvdev conflicts' lists them): keep our row or\n"
                "take theirs (a side without the row deletes it). KEY is the primary key\n"
                "as 'pvdev conflicts' and 'pvdev diff' print it: its parts joined by\n"
                "commas, a text part other than letters, digits and -_.:/@+ in JSON\n"
                "quotes, as in '\"x,y\",z' or '\"q\\\"r\",s' (unquoted, the last part takes\n"
                "the rest, commas included). A negative number is a key, not an option,\n"
                "and so is anything after '--'. Then 'git add' the .pv files and commit\n"
                "the merge.\n");
}

/* The chosen side's commit (theirs', or HEAD for ours), for the values of
 * the columns a schema resolution retyped (NULL ws: none). */
typedef struct side_src {
    pv_ws *ws;
    pvgit_tree *tree;
    git_repository *repo;
    const pv_schema *before;   /* the other side's settlement */
} side_src;

/* The row to write for `side`: the record's, with each retyped column's
 * value as that side's commit has it (the record's was converted to the
 * other side's type, or made NULL when it did not convert). Writes into
 * `row`. */
static int side_row(const side_src *src, const pv_schema *s, const pv_ws_conflict *c, int side, pv_value *row)
{
    const pv_value *trow;
    const pv_schema *ts;
    uint32_t i;
    int rc, tt;
    memcpy(row, c->side[side], s->ncols * sizeof *row);
    if (!src->ws || (tt = pv_ws_table_find(src->ws, s->name, strlen(s->name))) < 0) return PV_OK;
    ts = pv_ws_table_schema(src->ws, (uint32_t)tt);
    if ((rc = pv_ws_lookup(src->ws, s->name, c->key, &trow)) <= 0) return rc;
    for (i = 0; i < s->ncols; i++) {
        const char *first = pv_column_first_name(&s->cols[i]);
        int b = pv_schema_find_history(src->before, first, strlen(first));
        int t = pv_schema_find_history(ts, first, strlen(first));
        if (b < 0 || t < 0 || src->before->cols[b].type == s->cols[i].type) continue;
        if (trow[t].type == s->cols[i].type || trow[t].type == PV_NULL) row[i] = trow[t];
    }
    return PV_OK;
}

/* KEY as table s reads it: its canonical text in *want (pvgit_key_parse:
 * the parts as 'pvdev conflicts' and 'pvdev diff' print them). */
static int want_key(const struct resolve_opts *o, const pv_schema *s, pv_buf *want)
{
    return o->key ? pvgit_key_parse(s, o->key, want) : PV_OK;
}

/* Write the chosen rows of one table's matching conflicts. */
static int apply_choice(pv_db *db, const pv_schema *s, const pv_ws_conflict *c, long n,
                        const struct resolve_opts *o, const side_src *src, pv_buf *tmp, char *chosen)
{
    pv_value row[PV_MAX_COLUMNS];
    pv_buf want = PV_BUF_INIT;
    long i;
    int rc = want_key(o, s, &want);
    for (i = 0; i < n && !rc; i++) {
        const pv_value *pick;
        if (o->key && (rc = pvdev_key_is(tmp, s, c[i].key, &want)) <= 0) continue;
        if ((rc = pvdev_key_text(tmp, s, c[i].key))) break;
        chosen[i] = 1;
        pick = c[i].side[o->side];
        if (pick && src->ws) {
            if ((rc = side_row(src, s, &c[i], o->side, row)) < 0) break;
            pick = row;
        }
        if (pick) rc = pv_db_write(db, s->name, pick, 1, s->ncols, PV_WRITE_REPLACE, NULL, 0, NULL);
        else rc = pv_db_delete(db, s->name, c[i].key, 1, NULL);
        if (!rc) printf("%s %s: %s\n", s->name, tmp->p, o->side == PV_SIDE_OURS ? "ours" : "theirs");
    }
    pv_buf_free(&want);
    return rc;
}

/* The chosen rows of table t (written through the open transaction, so
 * that they are converted and checked as any write), as records for the
 * row commit, and its settled conflict records to drop. */
static int resolve_table(pv_db *db, uint32_t t, const struct resolve_opts *o, const side_src *src, pv_buf *tmp,
                         pvgit_rows_part *part, int *count)
{
    const pv_schema *s = pv_ws_table_schema(db->ws, t);
    const pv_ws_conflict *c;
    char *chosen = NULL;
    uint32_t *chunk = NULL;
    size_t *line = NULL;
    long n = pv_ws_conflicts(db->ws, t, &c), i;
    int rc = PV_OK;
    part->s = s;
    if (n <= 0) return (int)n;
    chosen = calloc((size_t)n, 1);
    chunk = calloc((size_t)n, sizeof *chunk);
    line = calloc((size_t)n, sizeof *line);
    if (!chosen || !chunk || !line) rc = pv_err(PV_ENOMEM, "out of memory");
    if (!rc) rc = apply_choice(db, s, c, n, o, src, tmp, chosen);
    for (i = 0; i < n && !rc; i++) {
        const pv_value *row = NULL;
        if (!chosen[i]) continue;
        if ((rc = pv_ws_lookup(db->ws, s->name, c[i].key, &row)) < 0) break;
        rc = pvgit_rows_add(db->ws, part, rc ? row : NULL, c[i].key);
        chunk[part->ndrop] = c[i].chunk;
        line[part->ndrop++] = c[i].line;
        ++*count;
    }
    free(chosen);
    part->chunk = chunk;
    part->line = line;
    return rc;
}

/* A selected table's schema resolution. */
struct table_res {
    char *table;
    pvgit_schema_resolution res;
};

/* The keys of table t's conflicts that this run chooses, in
 * pvgit_retype_key text, one a line; *left: the conflicts it leaves. */
static int chosen_keys(pv_db *db, uint32_t t, const struct resolve_opts *o, pv_buf *tmp, pv_buf *out, long *left)
{
    const pv_schema *s = pv_ws_table_schema(db->ws, t);
    const pv_ws_conflict *c;
    pv_value row[PV_MAX_COLUMNS];
    pv_buf want = PV_BUF_INIT;
    long n = pv_ws_conflicts(db->ws, t, &c), i;
    uint32_t k;
    int rc = n < 0 ? (int)n : n > 0 ? want_key(o, s, &want) : PV_OK;
    *left = 0;
    for (i = 0; i < n && !rc; i++) {
        if (o->key && (rc = pvdev_key_is(tmp, s, c[i].key, &want)) <= 0) {
            if (!rc) ++*left;
            continue;
        }
        for (k = 0; k < s->npk; k++) row[s->pk[k]] = c[i].key[k];
        if (!(rc = pvgit_retype_key(out, s, row))) rc = pv_buf_putc(out, '\n');
    }
    pv_buf_free(&want);
    return rc;
}

/* One KEY of a table whose schema is in conflict, other rows still in
 * conflict: refused. The schema is chosen for the whole table (one file,
 * as `git checkout --ours|--theirs` takes it), and the rows left would be
 * settled later under a schema chosen for this one: --theirs here then
 * --ours there would give ours' row under theirs' types, NULL where its
 * values do not convert. */
static int check_partial(const char *table, const struct resolve_opts *o, long left)
{
    pvgit_schema_resolution probe;
    int rc;
    if (!o->key || !left) return PV_OK;
    if ((rc = pvgit_resolve_schema(NULL, table, 0, NULL, &probe))) return rc; /* 0: only looks */
    pvgit_schema_resolution_free(&probe);
    if (!probe.conflicted) return PV_OK;
    return pv_err(PV_ECONSTRAINT, "table %s: its schema is in conflict, %s %ld other row%s of it: settle the "
                  "schema and every row at once with 'pvdev resolve --ours %s' or 'pvdev resolve --theirs %s' "
                  "(then change single rows with SQL); nothing was changed", table, left == 1 ? "as is" : "as are",
                  left, left == 1 ? "" : "s", table, table);
}

/* Settle the schema conflicts of the selected tables, under the writer
 * lock the caller holds on db (before the rows: --theirs may rewrite the
 * files; db's catalog is read again after a switch). */
static int settle_schemas(pv_db *db, const struct resolve_opts *o, struct table_res **out, uint32_t *nout,
                          int *count)
{
    pv_buf tmp = PV_BUF_INIT, keys = PV_BUF_INIT;
    uint32_t t, n = pv_ws_table_count(db->ws);
    long left = 0;
    int rc = PV_OK, reload = 0;
    if (!(*out = calloc(n + 1, sizeof **out))) rc = pv_err(PV_ENOMEM, "out of memory");
    for (t = 0; t < n && !rc; t++) {
        struct table_res *r = &(*out)[*nout];
        const char *name = pv_ws_table_schema(db->ws, t)->name;
        if (o->table && strcmp(name, o->table) != 0) continue;
        keys.len = 0;
        if ((rc = chosen_keys(db, t, o, &tmp, &keys, &left)) || (rc = check_partial(name, o, left))) break;
        if (!(r->table = strdup(name))) rc = pv_err(PV_ENOMEM, "out of memory");
        ++*nout;
        if (!rc) rc = pvgit_resolve_schema(db->ws, name, o->side, &keys, &r->res);
        if (rc || !r->res.conflicted) continue;
        reload |= r->res.switched;
        ++*count;
        if (r->res.switched && o->side == PV_SIDE_THEIRS)
            printf("%s schema: theirs (%zu chunk file%s converted to theirs' column types)\n", name,
                   r->res.rewritten, r->res.rewritten == 1 ? "" : "s");
        else if (r->res.switched)
            printf("%s schema: ours (%zu chunk file%s converted back to ours' column types)\n", name,
                   r->res.rewritten, r->res.rewritten == 1 ? "" : "s");
        else if (r->res.is_theirs && o->side == PV_SIDE_THEIRS)
            printf("%s schema: theirs (switched by an earlier run)\n", name);
        else if (r->res.is_theirs)
            printf("%s schema: theirs, kept (settled with its rows by an earlier run; no row of it is in "
                   "conflict)\n", name);
        else if (r->res.edited)
            printf("%s schema: kept as it is (neither side's settlement: edited by hand)\n", name);
        else
            printf("%s schema: %s\n", name, o->side == PV_SIDE_OURS ? "ours" : "kept as it is");
    }
    pv_buf_free(&tmp);
    pv_buf_free(&keys);
    /* the switch changed files under the loaded tables; the lock is still ours */
    if (!rc && reload) rc = ws_catalog_reload(db->ws);
    return rc;
}

int cmd_resolve(int argc, char **argv)
{
    struct resolve_opts o = {-1, NULL, NULL};
    pv_db *db = NULL;
    pv_buf tmp = PV_BUF_INIT;
    struct table_res *res = NULL;
    pvgit_rows_part *parts = NULL;
    int i, rc = PV_OK, count = 0, dashdash = 0;
    uint32_t t, nres = 0, nparts = 0;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        /* after "--", and a negative INTEGER key ('-5'), are not options */
        int positional = dashdash || a[0] != '-' || (a[1] >= '0' && a[1] <= '9');
        if (!dashdash && !strcmp(a, "--")) {
            dashdash = 1;
        } else if (!positional && (!strcmp(a, "--help") || !strcmp(a, "-h"))) {
            resolve_usage(stdout);
            return PVDEV_EXIT_OK;
        } else if (!positional && !strcmp(a, "--ours")) {
            o.side = PV_SIDE_OURS;
        } else if (!positional && !strcmp(a, "--theirs")) {
            o.side = PV_SIDE_THEIRS;
        } else if (positional && (!o.table || !o.key)) {
            *(o.table ? &o.key : &o.table) = a;
        } else {
            fprintf(stderr, positional ? "pvdev resolve: unexpected argument '%s'\n"
                                       : "pvdev resolve: unknown option '%s'\n", a);
            resolve_usage(stderr);
            return PVDEV_EXIT_USAGE;
        }
    }
    if (o.side < 0) {
        resolve_usage(stderr);
        return PVDEV_EXIT_USAGE;
    }
    /* One writer lock for the whole run: BEGIN also rolls back a commit a
     * killed run left (a reader would refuse the workspace). */
    if ((rc = pv_open(".", PV_OPEN_READWRITE, &db)) == PV_OK && (rc = pv_db_begin(db)) == PV_OK)
        rc = settle_schemas(db, &o, &res, &nres, &count);
    if (!rc && !(parts = calloc(pv_ws_table_count(db->ws) + 1, sizeof *parts))) rc = pv_err(PV_ENOMEM, "out of memory");
    for (t = 0; !rc && t < pv_ws_table_count(db->ws); t++) {
        const pv_schema *s = pv_ws_table_schema(db->ws, t);
        side_src src = {NULL, NULL, NULL, NULL};
        size_t r;
        if (o.table && strcmp(s->name, o.table) != 0) continue;
        for (r = 0; r < nres && !rc; r++)
            if (res[r].res.before && !strcmp(res[r].table, s->name) && res[r].res.rows_from[0]) {
                src.before = res[r].res.before;
                rc = pvgit_ws_open(".", res[r].res.rows_from, &src.ws, &src.tree, &src.repo);
            }
        if (!rc) rc = resolve_table(db, t, &o, &src, &tmp, &parts[nparts++], &count);
        pv_ws_close(src.ws);
        pvgit_tree_free(src.tree);
        git_repository_free(src.repo);
    }
    if (!rc) rc = pvgit_rows_commit(db->ws, parts, nparts);
    /* the rows went through the row commit, not the transaction: ending it
     * drops them from memory and releases the lock */
    if (db && pv_db_in_txn(db)) pv_db_rollback(db);
    for (t = 0; t < nparts; t++) {
        pv_buf_free(&parts[t].records);
        free((void *)parts[t].chunk);
        free((void *)parts[t].line);
    }
    free(parts);
    pv_buf_free(&tmp);
    pv_close(db);
    for (t = 0; t < nres; t++) {
        pvgit_schema_resolution_free(&res[t].res);
        free(res[t].table);
    }
    free(res);
    if (rc) return pvdev_fail(NULL);
    if (!count) {
        fprintf(stderr, "pvdev resolve: no matching conflict\n");
        return PVDEV_EXIT_FAIL;
    }
    printf("resolved %d conflict%s; now 'git add .pv' and commit\n", count, count == 1 ? "" : "s");
    return PVDEV_EXIT_OK;
}
