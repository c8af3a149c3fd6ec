/*
 * cmd_log.c: `pvdev log TABLE [KEY]`: the commits that changed a table, or
 * one row of it, newest first, each with its change (pvgit/rowdiff.h).
 *
 * The walk starts at HEAD and follows first parents (--all-parents: every
 * commit, in time order); a commit is compared with its first parent. A
 * commit whose tree of .pv/tables/TABLE is its parent's is skipped without
 * reading anything else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmds.h"
#include "pvgit.h"
#include "rowdiff.h"

static const char log_usage[] =
    "usage: pvdev log [--all-parents] [-p|--patch] [-n N] [--color|--no-color] TABLE [KEY]\n"
    "\n"
    "The commits that changed TABLE, newest first, each with its counts of\n"
    "added, deleted and changed rows (and schema changes); with KEY (the\n"
    "primary key; parts separated by ',' for a key of several columns), the\n"
    "commits that changed that row, each with the change.\n"
    "  --all-parents  walk every commit, not only first parents\n"
    "  -p, --patch    the changed rows too (as 'pvdev diff' prints them)\n"
    "  -n N           at most N commits\n";

struct log_state {
    pvgit_printer pr;
    pv_buf body;      /* what the current commit changed */
    int patch, keyed, found;
};

static int indent_into(pv_buf *to, const pv_buf *from)
{
    const char *p = from->p, *end = from->p + from->len, *nl;
    int rc = PV_OK;
    for (; p < end && !rc; p = nl + 1) {
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        rc = pv_buf_append(to, "    ", 4);
        if (!rc) rc = pv_buf_append(to, p, (size_t)(nl - p));
        if (!rc) rc = pv_buf_putc(to, '\n');
    }
    return rc;
}

static int on_table(void *ctx, const pvgit_tablediff *d)
{
    struct log_state *st = ctx;
    pv_buf tmp = PV_BUF_INIT;
    pv_buf *saved = st->pr.out;
    int rc = PV_OK;
    st->found = 1;
    st->pr.out = &tmp;
    if (st->keyed) {
        size_t i;
        for (i = 0; i < d->nrows && !rc; i++) {
            rc = pvgit_print_row(&st->pr, d, &d->rows[i]);
            if (!rc) rc = pv_buf_putc(&tmp, '\n');
        }
    } else {
        rc = pv_buf_printf(&tmp, "%zu added, %zu deleted, %zu changed%s\n", d->added, d->deleted, d->changed,
                           !d->old_schema ? " (new table)" : !d->new_schema ? " (dropped table)"
                           : (d->ncols || d->key_changed) ? ", schema changed" : "");
        if (!rc && st->patch) rc = pvgit_print_table(&st->pr, d);
    }
    st->pr.out = saved;
    if (!rc) rc = indent_into(&st->body, &tmp);
    pv_buf_free(&tmp);
    return rc;
}

/* The tree id of `path` in a commit's tree; 0 when absent. */
static int tree_id_at(git_commit *c, const char *path, git_oid *out)
{
    git_tree *root = NULL;
    git_tree_entry *e = NULL;
    int found = 0;
    if (!c || git_commit_tree(&root, c) != 0) return 0;
    if (git_tree_entry_bypath(&e, root, path) == 0) {
        git_oid_cpy(out, git_tree_entry_id(e));
        found = 1;
    }
    git_tree_entry_free(e);
    git_tree_free(root);
    return found;
}

int cmd_log(int argc, char **argv)
{
    struct log_state st;
    pv_buf out = PV_BUF_INIT, key = PV_BUF_INIT;
    git_repository *repo = NULL;
    git_revwalk *walk = NULL;
    char *prefix = NULL;
    const char *table = NULL, *keyarg = NULL;
    char tpath[4300], tname[PV_MAX_TABLE_NAME + 1];
    pvgit_side *head = NULL;
    pv_schema *schema = NULL;
    git_oid id;
    long max = -1, shown = 0;
    int i, all_parents = 0, color = -1, rc, ret = PVDEV_EXIT_FAIL;
    memset(&st, 0, sizeof st);
    for (i = 1; i < argc; i++) {
        const char *s = argv[i];
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            printf("%s", log_usage);
            return PVDEV_EXIT_OK;
        } else if (!strcmp(s, "--all-parents")) {
            all_parents = 1;
        } else if (!strcmp(s, "-p") || !strcmp(s, "--patch")) {
            st.patch = 1;
        } else if (!strcmp(s, "--color")) {
            color = 1;
        } else if (!strcmp(s, "--no-color")) {
            color = 0;
        } else if (!strcmp(s, "-n") && i + 1 < argc) {
            char *end;
            max = strtol(argv[++i], &end, 10);
            if (*end || max < 0) {
                fprintf(stderr, "pvdev log: -n wants a count\n");
                return PVDEV_EXIT_USAGE;
            }
        } else if (s[0] == '-' && s[1] && !table) {
            fprintf(stderr, "pvdev log: unknown option '%s'\n%s", s, log_usage);
            return PVDEV_EXIT_USAGE;
        } else if (!table) {
            table = s;
        } else if (!keyarg) {
            keyarg = s;
        } else {
            fprintf(stderr, "%s", log_usage);
            return PVDEV_EXIT_USAGE;
        }
    }
    if (!table) {
        fprintf(stderr, "%s", log_usage);
        return PVDEV_EXIT_USAGE;
    }
    if (pvgit_repo_open(".", &repo, &prefix)) {
        pvdev_fail("log");
        goto done;
    }
    if (git_repository_head_unborn(repo) == 1) {
        ret = PVDEV_EXIT_OK; /* no commits, no history */
        goto done;
    }
    /* the table as HEAD spells it, and its key */
    if ((rc = pvgit_side_rev(&head, repo, prefix, "HEAD")) || (rc = pvgit_side_schema(head, table, &schema)) < 0) {
        pvdev_fail("log");
        goto done;
    }
    snprintf(tname, sizeof tname, "%s", schema ? schema->name : table);
    if (!pv_table_name_ok(tname, strlen(tname))) {
        fprintf(stderr, "pvdev: log: '%s' is not a table name\n", table);
        goto done;
    }
    if (keyarg) {
        if (!schema) {
            fprintf(stderr, "pvdev: log: HEAD has no table '%s' to read the key of\n", table);
            goto done;
        }
        if (pvgit_key_parse(schema, keyarg, &key)) {
            pvdev_fail("log");
            goto done;
        }
    }
    snprintf(tpath, sizeof tpath, "%s.pv/tables/%s", prefix, tname);
    if (color < 0) color = isatty(1) && !getenv("NO_COLOR");
    st.pr.out = &out;
    st.pr.color = color;
    st.keyed = keyarg != NULL;
    if ((rc = git_revwalk_new(&walk, repo)) || (rc = git_revwalk_push_head(walk))) {
        pvgit_fail(rc, "log");
        pvdev_fail(NULL);
        goto done;
    }
    git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
    if (!all_parents) git_revwalk_simplify_first_parent(walk);
    for (rc = PV_OK; !rc && (max < 0 || shown < max);) {
        int wr = git_revwalk_next(&id, walk);
        git_commit *c = NULL, *parent = NULL;
        git_oid tc, tp;
        int hc, hp;
        pvgit_side *sc = NULL, *sp = NULL;
        pvgit_diff_opts o;
        if (wr == GIT_ITEROVER) break;
        if (wr || (wr = git_commit_lookup(&c, repo, &id))) {
            rc = pvgit_fail(wr, "log");
            break;
        }
        if (git_commit_parentcount(c) > 0 && (wr = git_commit_parent(&parent, c, 0))) {
            rc = pvgit_fail(wr, "log");
            git_commit_free(c);
            break;
        }
        hc = tree_id_at(c, tpath, &tc);
        hp = tree_id_at(parent, tpath, &tp);
        if (hc == hp && (!hc || git_oid_equal(&tc, &tp))) {
            git_commit_free(parent);
            git_commit_free(c);
            continue;
        }
        rc = pvgit_side_commit(&sc, repo, prefix, &id);
        if (!rc) rc = parent ? pvgit_side_commit(&sp, repo, prefix, git_commit_id(parent)) : pvgit_side_empty(&sp, "");
        memset(&o, 0, sizeof o);
        o.table = tname;
        o.key = keyarg ? key.p : NULL;
        o.keylen = key.len;
        o.fn = on_table;
        o.ctx = &st;
        st.found = 0;
        st.body.len = 0;
        if (!rc) rc = pvgit_diff(sp, sc, &o);
        if (!rc && st.found) {
            char hex[GIT_OID_HEXSZ + 1], day[16];
            time_t t = (time_t)git_commit_time(c) + (time_t)git_commit_time_offset(c) * 60;
            struct tm tm;
            const char *summary = git_commit_summary(c);
            git_oid_tostr(hex, sizeof hex, &id);
            gmtime_r(&t, &tm);
            strftime(day, sizeof day, "%Y-%m-%d", &tm);
            rc = pv_buf_printf(&out, "%s%.7s%s %s %s\n", color ? "\033[33m" : "", hex, color ? "\033[0m" : "", day,
                               summary ? summary : "");
            if (!rc) rc = pv_buf_append(&out, st.body.p ? st.body.p : "", st.body.len);
            if (!rc && out.len && fwrite(out.p, 1, out.len, stdout) != out.len)
                rc = pv_err(PV_EIO, "cannot write to standard output");
            out.len = 0;
            shown++;
        }
        pvgit_side_free(sc);
        pvgit_side_free(sp);
        git_commit_free(parent);
        git_commit_free(c);
    }
    if (rc) {
        fflush(stdout);
        pvdev_fail("log");
        goto done;
    }
    ret = PVDEV_EXIT_OK;
done:
    git_revwalk_free(walk);
    pvgit_side_free(head);
    pv_schema_free(schema);
    pv_buf_free(&out);
    pv_buf_free(&key);
    pv_buf_free(&st.body);
    git_repository_free(repo);
    free(prefix);
    return ret;
}
