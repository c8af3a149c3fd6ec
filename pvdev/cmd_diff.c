/*
 * cmd_diff.c: `pvdev diff [REV [REV]] [TABLE]`: the rows that differ
 * between two states of the workspace, by primary key (pvgit/rowdiff.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmds.h"
#include "pvgit.h"
#include "rowdiff.h"

static const char diff_usage[] =
    "usage: pvdev diff [--stat] [--json] [--color|--no-color] [--exit-code] [REV [REV]] [[--] TABLE]\n"
    "\n"
    "Row-level differences by primary key: added, deleted and changed rows\n"
    "(changed cells as old → new) and schema changes, table by table.\n"
    "  no REV      HEAD against the work tree\n"
    "  REV         REV against the work tree\n"
    "  REV1 REV2   REV1 against REV2, read from git (works in a bare clone)\n"
    "A last argument that is not a revision names a table; '--' forces it.\n"
    "  --stat       per table counts only\n"
    "  --json       one JSON document (docs/GIT.md, \"diff\")\n"
    "  --color      colour even when not on a terminal (default: on a terminal\n"
    "               unless NO_COLOR is set); --no-color never\n"
    "  --exit-code  exit 1 when there are differences\n";

struct diff_state {
    pvgit_printer pr;
    int stat;
    size_t ntables, added, deleted, changed;
    /* --stat text: lines kept until the name column's width is known */
    char **names;
    char **lines;
    size_t nlines;
};

static int flush_out(pv_buf *b)
{
    if (b->len && fwrite(b->p, 1, b->len, stdout) != b->len) return pv_err(PV_EIO, "cannot write to standard output");
    b->len = 0;
    return PV_OK;
}

static int on_table(void *ctx, const pvgit_tablediff *d)
{
    struct diff_state *st = ctx;
    int rc;
    st->ntables++;
    st->added += d->added;
    st->deleted += d->deleted;
    st->changed += d->changed;
    if (st->stat && st->pr.json) {
        rc = pvgit_print_stat_json(&st->pr, d);
    } else if (st->stat) {
        char line[256], **nn, **nl;
        const char *what = !d->old_schema ? " (new table)" : !d->new_schema ? " (dropped table)"
                           : (d->ncols || d->key_changed) ? ", schema changed" : "";
        snprintf(line, sizeof line, "%zu added, %zu deleted, %zu changed%s", d->added, d->deleted, d->changed, what);
        nn = realloc(st->names, (st->nlines + 1) * sizeof *nn);
        if (nn) st->names = nn;
        nl = realloc(st->lines, (st->nlines + 1) * sizeof *nl);
        if (nl) st->lines = nl;
        if (!nn || !nl || !(st->names[st->nlines] = strdup(d->name))) return pv_err(PV_ENOMEM, "out of memory");
        if (!(st->lines[st->nlines] = strdup(line))) {
            free(st->names[st->nlines]);
            return pv_err(PV_ENOMEM, "out of memory");
        }
        st->nlines++;
        return PV_OK;
    } else {
        rc = pvgit_print_table(&st->pr, d);
    }
    return rc ? rc : flush_out(st->pr.out);
}

/* Is `arg` a revision of the repository? */
static int is_rev(git_repository *repo, const char *arg)
{
    git_object *obj = NULL;
    int ok = git_revparse_single(&obj, repo, arg) == 0;
    git_object_free(obj);
    return ok;
}

/* The side of a revision; an unborn HEAD is an empty side. */
static int open_rev(pvgit_side **out, git_repository *repo, const char *prefix, const char *rev)
{
    if (!strcmp(rev, "HEAD") && git_repository_head_unborn(repo) == 1) return pvgit_side_empty(out, "HEAD");
    return pvgit_side_rev(out, repo, prefix, rev);
}

int cmd_diff(int argc, char **argv)
{
    struct diff_state st;
    pv_buf out = PV_BUF_INIT;
    git_repository *repo = NULL;
    char *prefix = NULL;
    const char *revs[2] = {NULL, NULL}, *table = NULL, *pos[4];
    pvgit_side *a = NULL, *b = NULL;
    pvgit_diff_opts o;
    int npos = 0, i, color = -1, exit_code = 0, dashdash = 0, nrev, rc, ret = PVDEV_EXIT_FAIL;
    memset(&st, 0, sizeof st);
    for (i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!dashdash && !strcmp(s, "--")) {
            dashdash = 1;
            if (i + 1 != argc - 1) {
                fprintf(stderr, "%s", diff_usage);
                return PVDEV_EXIT_USAGE;
            }
            table = argv[++i];
        } else if (!dashdash && (!strcmp(s, "--help") || !strcmp(s, "-h"))) {
            printf("%s", diff_usage);
            return PVDEV_EXIT_OK;
        } else if (!strcmp(s, "--stat")) {
            st.stat = 1;
        } else if (!strcmp(s, "--json")) {
            st.pr.json = 1;
        } else if (!strcmp(s, "--color")) {
            color = 1;
        } else if (!strcmp(s, "--no-color")) {
            color = 0;
        } else if (!strcmp(s, "--exit-code")) {
            exit_code = 1;
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "pvdev diff: unknown option '%s'\n%s", s, diff_usage);
            return PVDEV_EXIT_USAGE;
        } else if (npos < 3) {
            pos[npos++] = s;
        } else {
            fprintf(stderr, "%s", diff_usage);
            return PVDEV_EXIT_USAGE;
        }
    }
    if ((rc = pvgit_repo_open(".", &repo, &prefix))) {
        pvdev_fail("diff");
        goto done;
    }
    /* positional: revisions, then perhaps a table */
    nrev = npos;
    if (!table && npos > 0 && !is_rev(repo, pos[npos - 1])) {
        table = pos[npos - 1];
        nrev--;
    }
    if (nrev > 2) {
        fprintf(stderr, "pvdev diff: '%s' is not a revision\n%s", pos[npos - 1], diff_usage);
        ret = PVDEV_EXIT_USAGE;
        goto done;
    }
    for (i = 0; i < nrev; i++) revs[i] = pos[i];
    if (nrev < 2 && !git_repository_workdir(repo)) {
        fprintf(stderr, "pvdev: diff: a bare repository has no work tree: give two revisions\n");
        goto done;
    }
    if ((rc = open_rev(&a, repo, prefix, revs[0] ? revs[0] : "HEAD"))) {
        pvdev_fail("diff");
        goto done;
    }
    rc = revs[1] ? open_rev(&b, repo, prefix, revs[1]) : pvgit_side_worktree(&b, repo, ".");
    if (rc) {
        pvdev_fail("diff");
        goto done;
    }
    if (color < 0) color = isatty(1) && !getenv("NO_COLOR") && !st.pr.json;
    st.pr.out = &out;
    st.pr.color = color && !st.pr.json;
    st.pr.header = 1;
    if (st.pr.json && (rc = pvgit_print_json_begin(&st.pr, pvgit_side_label(a), pvgit_side_label(b)))) {
        pvdev_fail("diff");
        goto done;
    }
    memset(&o, 0, sizeof o);
    o.table = table;
    o.fn = on_table;
    o.ctx = &st;
    if ((rc = pvgit_diff(a, b, &o))) {
        fflush(stdout);
        pvdev_fail("diff");
        goto done;
    }
    if (table && !st.ntables) {
        /* a table that is on neither side is a mistake, not "no change" */
        pv_schema *s = NULL;
        int ra = pvgit_side_schema(a, table, &s), rb;
        pv_schema_free(s);
        s = NULL;
        rb = pvgit_side_schema(b, table, &s);
        pv_schema_free(s);
        if (ra <= 0 && rb <= 0) {
            fprintf(stderr, "pvdev: diff: no table '%s' in %s or %s\n", table, pvgit_side_label(a),
                    pvgit_side_label(b));
            goto done;
        }
    }
    if (st.stat && !st.pr.json) {
        size_t w = 0, k;
        for (k = 0; k < st.nlines; k++)
            if (strlen(st.names[k]) > w) w = strlen(st.names[k]);
        for (k = 0; k < st.nlines; k++) printf(" %-*s | %s\n", (int)w, st.names[k], st.lines[k]);
        if (st.nlines)
            printf(" %zu table%s changed, %zu row%s added, %zu deleted, %zu changed\n", st.ntables,
                   st.ntables == 1 ? "" : "s", st.added, st.added == 1 ? "" : "s", st.deleted, st.changed);
    }
    if (st.pr.json && (pvgit_print_json_end(&st.pr) || flush_out(&out))) {
        pvdev_fail("diff");
        goto done;
    }
    ret = exit_code && st.ntables ? PVDEV_EXIT_FAIL : PVDEV_EXIT_OK;
done:
    for (i = 0; i < (int)st.nlines; i++) {
        free(st.names[i]);
        free(st.lines[i]);
    }
    free(st.names);
    free(st.lines);
    pv_buf_free(&out);
    pvgit_side_free(a);
    pvgit_side_free(b);
    git_repository_free(repo);
    free(prefix);
    return ret;
}
