/*
 * cmd_resolve.c: `pvdev resolve --ours|--theirs [TABLE [KEY]]`: settle
 * merge conflicts. The chosen row (or its absence) is written in one
 * transaction first, then the conflict records are taken out of the chunk
 * files; stopped halfway, running it again finishes the job (writing a row
 * that is already there writes nothing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunkline.h"
#include "cmds.h"
#include "conflict_util.h"
#include "db.h"
#include "pv.h"

struct resolve_opts {
    int side;            /* PV_SIDE_OURS or PV_SIDE_THEIRS */
    const char *table;   /* NULL: every table */
    const char *key;     /* NULL: every key */
};

static void resolve_usage(FILE *to)
{
    fprintf(to, "usage: pvdev resolve --ours|--theirs [TABLE [KEY]]\n\n"
                "Settle merge conflicts ('pvdev conflicts' lists them): keep our row or\n"
                "take theirs (a side without the row deletes it). KEY is the primary key\n"
                "as 'pvdev conflicts' prints it (parts joined by commas). Then 'git add'\n"
                "the .pv files and commit the merge.\n");
}

/* Write the chosen rows of one table's matching conflicts. */
static int apply_choice(pv_db *db, const pv_schema *s, const pv_ws_conflict *c, long n,
                        const struct resolve_opts *o, pv_buf *tmp, char *chosen)
{
    long i;
    int rc = PV_OK;
    for (i = 0; i < n && !rc; i++) {
        const pv_value *row;
        pvdev_key_text(tmp, s, c[i].key);
        if (o->key && strcmp(tmp->p, o->key) != 0) continue;
        chosen[i] = 1;
        row = c[i].side[o->side];
        if (row) rc = pv_db_write(db, s->name, row, 1, s->ncols, PV_WRITE_REPLACE, NULL, 0, NULL);
        else rc = pv_db_delete(db, s->name, c[i].key, 1, NULL);
        if (!rc) printf("%s %s: %s\n", s->name, tmp->p, o->side == PV_SIDE_OURS ? "ours" : "theirs");
    }
    return rc;
}

/* Rewrite a chunk without the chosen conflict lines (temporary file and
 * rename: never half written). */
static int strip_lines(const pv_schema *s, uint32_t chunk, const size_t *lines, size_t nlines)
{
    char path[512], tmp[560], *text = NULL;
    size_t len, lineno = 0, k;
    const char *p, *end;
    FILE *f;
    int rc;
    snprintf(path, sizeof path, ".pv/tables/%s/%08u.jsonl", s->name, chunk);
    snprintf(tmp, sizeof tmp, "%s.resolve", path);
    if ((rc = pv_read_file(path, (size_t)1 << 30, &text, &len))) return rc;
    if (!(f = fopen(tmp, "wb"))) {
        free(text);
        return pv_err_errno("cannot write '%s'", tmp);
    }
    for (p = text, end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        int drop = 0;
        lineno++;
        for (k = 0; k < nlines; k++) drop |= lines[k] == lineno;
        if (!drop) fwrite(p, 1, n, f);
        p += n;
    }
    free(text);
    if (fclose(f) != 0 || rename(tmp, path) != 0) {
        remove(tmp);
        return pv_err_errno("cannot rewrite '%s'", path);
    }
    return PV_OK;
}

static int strip_chosen(const pv_schema *s, const pv_ws_conflict *c, long n, const char *chosen)
{
    size_t *lines = malloc((size_t)(n + 1) * sizeof *lines), m;
    long i, j;
    int rc = PV_OK;
    char *done = calloc((size_t)n + 1, 1);
    if (!lines || !done) {
        free(lines);
        free(done);
        return pv_err(PV_ENOMEM, "out of memory");
    }
    for (i = 0; i < n && !rc; i++) {
        if (!chosen[i] || done[i]) continue;
        for (m = 0, j = i; j < n; j++)
            if (chosen[j] && c[j].chunk == c[i].chunk) lines[m++] = c[j].line, done[j] = 1;
        rc = strip_lines(s, c[i].chunk, lines, m);
    }
    free(lines);
    free(done);
    return rc;
}

static int resolve_table(pv_db *db, uint32_t t, const struct resolve_opts *o, pv_buf *tmp, int *count)
{
    const pv_schema *s;
    const pv_ws_conflict *c;
    char *chosen = NULL;
    long n, i;
    /* BEGIN first: it may reload the tables, and with them the list */
    int rc = pv_db_begin(db);
    if (rc) return rc;
    s = pv_ws_table_schema(db->ws, t);
    n = pv_ws_conflicts(db->ws, t, &c);
    if (n <= 0) {
        pv_db_rollback(db);
        return (int)n;
    }
    if (!(chosen = calloc((size_t)n, 1))) rc = pv_err(PV_ENOMEM, "out of memory");
    if (!rc) rc = apply_choice(db, s, c, n, o, tmp, chosen);
    if (!rc) rc = pv_db_commit(db);
    else pv_db_rollback(db);
    /* a commit keeps the loaded tables: the records' lines are as read */
    if (!rc) rc = strip_chosen(s, c, n, chosen);
    for (i = 0; !rc && i < n; i++) *count += chosen[i];
    free(chosen);
    return rc;
}

int cmd_resolve(int argc, char **argv)
{
    struct resolve_opts o = {-1, NULL, NULL};
    pv_db *db = NULL;
    pv_buf tmp = PV_BUF_INIT;
    int i, rc = PV_OK, count = 0;
    uint32_t t;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            resolve_usage(stdout);
            return PVDEV_EXIT_OK;
        } else if (!strcmp(argv[i], "--ours")) {
            o.side = PV_SIDE_OURS;
        } else if (!strcmp(argv[i], "--theirs")) {
            o.side = PV_SIDE_THEIRS;
        } else if (argv[i][0] != '-' && !o.table) {
            o.table = argv[i];
        } else if (argv[i][0] != '-' && !o.key) {
            o.key = argv[i];
        } else {
            resolve_usage(stderr);
            return PVDEV_EXIT_USAGE;
        }
    }
    if (o.side < 0) {
        resolve_usage(stderr);
        return PVDEV_EXIT_USAGE;
    }
    if (pv_open(".", PV_OPEN_READWRITE, &db) != PV_OK) return pvdev_fail(NULL);
    for (t = 0; t < pv_ws_table_count(db->ws) && !rc; t++)
        if (!o.table || !strcmp(pv_ws_table_schema(db->ws, t)->name, o.table))
            rc = resolve_table(db, t, &o, &tmp, &count);
    pv_buf_free(&tmp);
    pv_close(db);
    if (rc) return pvdev_fail(NULL);
    if (!count) {
        fprintf(stderr, "pvdev resolve: no matching conflict\n");
        return PVDEV_EXIT_FAIL;
    }
    printf("resolved %d conflict%s; now 'git add .pv' and commit\n", count, count == 1 ? "" : "s");
    return PVDEV_EXIT_OK;
}
