/*
 * cmd_hook.c: `pvdev hook pre-commit` and `pvdev hook pre-merge-commit`:
 * what the installed git hooks run (hooks/), and what a hook manager
 * calls instead.
 *
 * pre-commit: every `.pv/` chunk and schema file staged with a change (its
 * blob read from the index, not the work tree) must parse with the chunk
 * decoder and hold no git conflict markers and no unresolved merge
 * conflict records; otherwise the commit is refused, naming file and line.
 *
 * pre-merge-commit (and pre-commit while a merge is in progress): the
 * same, then the unique indexes of every table the merge changed, on the
 * work tree's rows: two branches may each add a row with the same unique
 * value, which no file shows (docs/GIT.md, "Checks before a merge
 * commit").
 */
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chunkline.h"
#include "cmds.h"
#include "pvgit.h"
#include "schema_file.h"
#include "ws.h"

/* Split a path "<dir>.pv/tables/<table>/<file>": 1 and the parts. */
static int pv_path(const char *path, const char **table, size_t *tlen, const char **file)
{
    const char *p = path, *t, *slash;
    for (;;) {
        const char *hit = strstr(p, ".pv/tables/");
        if (!hit) return 0;
        if (hit == path || hit[-1] == '/') {
            p = hit;
            break;
        }
        p = hit + 1;
    }
    t = p + 11;
    if (!(slash = strchr(t, '/')) || strchr(slash + 1, '/')) return 0;
    *table = t;
    *tlen = (size_t)(slash - t);
    *file = slash + 1;
    return 1;
}

/* Check one staged chunk against its table's staged schema. Lines that
 * start before byte `from` (but the header) were committed already: an
 * append-only change is checked in the lines it adds. */
static int check_chunk(const char *path, const char *text, size_t len, const pv_schema *s, size_t from)
{
    const char *p = text, *end = text + len, *nl;
    pv_arena a = PV_ARENA_INIT;
    int *types = NULL, ktypes[64];
    uint32_t ntypes = 0, k;
    size_t lineno = 0;
    int rc = PV_OK;
    if (s->npk > 64) return pv_err(PV_ECORRUPT, "'%s': too many key columns", path);
    for (k = 0; k < s->npk; k++) ktypes[k] = s->cols[s->pk[k]].type;
    if (len && text[len - 1] != '\n') {
        for (nl = text; nl < end; nl++)
            if (*nl == '\n') lineno++;
        return pv_err(PV_ECORRUPT, "'%s' line %zu: the last line has no newline (an interrupted write?)", path,
                      lineno + 1);
    }
    for (; p < end && !rc; p = nl + 1) {
        pv_chunk_rec r;
        size_t n;
        nl = memchr(p, '\n', (size_t)(end - p));
        n = (size_t)(nl - p);
        lineno++;
        /* lines HEAD had are not checked again, but a continuation header
         * among them names the columns of the lines after it */
        if (lineno > 1 && (size_t)(p - text) < from && !pv_chunk_line_is_header(p, n)) continue;
        if (n >= 7 && (!memcmp(p, "<<<<<<<", 7) || !memcmp(p, "=======", 7) || !memcmp(p, ">>>>>>>", 7))) {
            rc = pv_err(PV_ECORRUPT, "'%s' line %zu: git conflict marker: the pv merge driver was not used "
                        "(run 'pvdev git-setup', then redo the merge)", path, lineno);
            break;
        }
        if (n >= 12 && !memcmp(p, "{\"conflict\":", 12)) {
            rc = pv_err(PV_ECORRUPT, "'%s' line %zu: unresolved merge conflict (see 'pvdev conflicts', settle it "
                        "with 'pvdev resolve')", path, lineno);
            break;
        }
        pv_arena_reset(&a);
        rc = pv_chunk_decode(p, n, types, ntypes, ktypes, s->npk, &a, &r);
        if (!rc) rc = pv_chunk_check_place(&r, lineno == 1);
        if (!rc && r.kind == PV_REC_HEADER) {
            uint32_t i;
            free(types);
            ntypes = r.nvals;
            if (!(types = malloc((ntypes + 1) * sizeof *types))) rc = pv_err(PV_ENOMEM, "out of memory");
            for (i = 0; !rc && i < ntypes; i++) {
                int c = pv_schema_find_history(s, r.names[i], strlen(r.names[i]));
                if (c == PV_SCHEMA_DROPPED) types[i] = PV_NULL;
                else if (c < 0)
                    rc = pv_err(PV_ECORRUPT, "the chunk header names column '%s', which table %s does not have",
                                r.names[i], s->name);
                else types[i] = s->cols[c].type;
            }
        }
        if (rc) pv_err_prefix("'%s' line %zu", path, lineno);
    }
    free(types);
    pv_arena_free(&a);
    return rc;
}

/* Is the entry's blob the same in HEAD (nothing new to check)? Else
 * *old is HEAD's blob id at that path, when there is one. */
static int unchanged(git_tree *head, const git_index_entry *e, git_oid *old, int *has_old)
{
    git_tree_entry *te = NULL;
    int same;
    *has_old = 0;
    if (!head || git_tree_entry_bypath(&te, head, e->path) != 0) return 0;
    same = git_oid_equal(git_tree_entry_id(te), &e->id);
    git_oid_cpy(old, git_tree_entry_id(te));
    *has_old = git_tree_entry_type(te) == GIT_OBJECT_BLOB;
    git_tree_entry_free(te);
    return same;
}

/* How many leading bytes of the staged text HEAD had already (its whole
 * blob, when the change only appends), else 0. */
static size_t committed_prefix(git_repository *repo, const git_oid *old, const char *text, size_t len)
{
    git_blob *b = NULL;
    size_t n = 0;
    if (git_blob_lookup(&b, repo, old) != 0) return 0;
    if ((size_t)git_blob_rawsize(b) <= len && memcmp(git_blob_rawcontent(b), text, (size_t)git_blob_rawsize(b)) == 0)
        n = (size_t)git_blob_rawsize(b);
    git_blob_free(b);
    return n;
}

/* The tables a commit changes, as "<workspace dir>\0<table>" pairs
 * (the dir is "" at the top of the work tree, else ends in '/'). */
typedef struct changed_tables {
    char **v;
    size_t n;
} changed_tables;

static void note_table(changed_tables *c, const char *path, const char *table, size_t tlen)
{
    size_t dlen = (size_t)(table - path) - 11, i; /* (the part before ".pv/tables/") */
    char *e, **g;
    for (i = 0; i < c->n; i++)
        if (!strncmp(c->v[i], path, dlen) && c->v[i][dlen] == '\0' && !strncmp(c->v[i] + dlen + 1, table, tlen) &&
            c->v[i][dlen + 1 + tlen] == '\0')
            return;
    if (!(e = malloc(dlen + tlen + 2)) || !(g = realloc(c->v, (c->n + 1) * sizeof *g))) {
        free(e);
        return; /* (out of memory: that table goes unchecked) */
    }
    memcpy(e, path, dlen);
    e[dlen] = '\0';
    memcpy(e + dlen + 1, table, tlen);
    e[dlen + 1 + tlen] = '\0';
    c->v = g;
    c->v[c->n++] = e;
}

/* A problem's line, "pvdev: hook HOOK: MSG" (ctx: the hook's name; a
 * pv_fsck_report, and what the hook prints of each error). */
static void print_problem(void *ctx, const char *msg)
{
    fprintf(stderr, "pvdev: hook %s: %s\n", (const char *)ctx, msg);
}

/* The unique indexes of each changed table, on the rows of the work tree
 * at `top`: the problems found (0 when clean), or -1 when a workspace did
 * not open. */
static long check_unique(const changed_tables *c, const char *top, const char *hook)
{
    long problems = 0;
    int failed = 0;
    size_t i;
    pv_ws *ws = NULL;
    for (i = 0; i < c->n; i++) {
        const char *dir = c->v[i], *table = dir + strlen(dir) + 1;
        pv_fsck_stats st;
        int rc;
        /* one open per workspace: its tables come together (index order) */
        if (!i || strcmp(dir, c->v[i - 1]) != 0) {
            char path[4400];
            pv_ws_close(ws);
            ws = NULL;
            snprintf(path, sizeof path, "%s%s", top, *dir ? dir : ".");
            if (pv_ws_open(path, 0, &ws)) {
                print_problem((void *)hook, pv_errmsg());
                failed = 1;
            }
        }
        if (!ws) continue;
        rc = pv_ws_check_unique(ws, table, print_problem, (void *)hook, &st);
        if (!rc) problems += (long)st.problems;
        else if (rc != PV_ENOTFOUND) { /* (a table the merge dropped: nothing to check) */
            print_problem((void *)hook, pv_errmsg());
            failed = 1;
        }
    }
    pv_ws_close(ws);
    return failed ? -1 : problems;
}

/* A merge commit is being made: pre-merge-commit, or pre-commit of a
 * merge that stopped (conflicts, or this hook). */
static int merging(git_repository *repo)
{
    return git_repository_state(repo) == GIT_REPOSITORY_STATE_MERGE;
}

/* A staged chunk file at `path` (its directory the first dlen bytes)
 * whose table has no staged schema.jsonl. In a merge one side dropped the
 * table while the other started a chunk of it (a file only it added,
 * which git kept): the message gives both ways out. PV_ECORRUPT. */
static int no_schema(const char *path, int dlen, const char *tname, int merge)
{
    if (!merge) return pv_err(PV_ECORRUPT, "'%s': table %s has no staged schema.jsonl", path, tname);
    return pv_err(PV_ECORRUPT,
                  "'%s': table %s has no staged schema.jsonl (one side of the merge dropped the table while "
                  "the other wrote to it: keep the drop with 'git rm -rf %.*s', or the table as the other side "
                  "has it with 'git checkout MERGE_HEAD -- %.*s'; then git commit)",
                  path, tname, dlen, path, dlen, path);
}

static int pre_commit(const char *hook, int merge)
{
    git_repository *repo = NULL;
    git_index *index = NULL;
    git_tree *head = NULL;
    git_object *obj = NULL;
    changed_tables changed = {NULL, 0};
    size_t i, n, bad = 0, checked = 0;
    long unique = 0;
    char top[4096] = "";
    int rc;
    git_libgit2_init();
    if ((rc = git_repository_open_ext(&repo, ".", 0, NULL))) {
        pvgit_fail(rc, hook);
        return pvdev_fail(NULL);
    }
    if ((rc = git_repository_index(&index, repo))) {
        pvgit_fail(rc, "index");
        git_repository_free(repo);
        return pvdev_fail(hook);
    }
    merge = merge || merging(repo);
    /* (index paths are relative to the top of the work tree) */
    if (git_repository_workdir(repo)) snprintf(top, sizeof top, "%s", git_repository_workdir(repo));
    if (git_revparse_single(&obj, repo, "HEAD^{tree}") == 0) head = (git_tree *)obj;
    n = git_index_entrycount(index);
    for (i = 0; i < n; i++) {
        const git_index_entry *e = git_index_get_byindex(index, i);
        const char *table, *file;
        size_t tlen;
        char tname[PV_MAX_TABLE_NAME + 1], spath[4200];
        char *text = NULL, *stext = NULL;
        size_t len = 0, slen = 0;
        pv_schema *s = NULL;
        const git_index_entry *se;
        git_oid old;
        int has_old;
        if (git_index_entry_stage(e) != 0 || !pv_path(e->path, &table, &tlen, &file)) continue;
        if (tlen > PV_MAX_TABLE_NAME || (!pv_chunk_file_number(file) && strcmp(file, "schema.jsonl") != 0)) continue;
        if (unchanged(head, e, &old, &has_old)) continue;
        memcpy(tname, table, tlen);
        tname[tlen] = '\0';
        snprintf(spath, sizeof spath, "%.*sschema.jsonl", (int)(file - e->path), e->path);
        checked++;
        if (merge) note_table(&changed, e->path, table, tlen);
        se = git_index_get_bypath(index, spath, 0);
        if (!se) {
            rc = no_schema(e->path, (int)(file - e->path - 1), tname, merge);
        } else if (!(rc = pvgit_blob_read(repo, &se->id, SIZE_MAX, spath, &stext, &slen)) &&
                   !(rc = pv_schema_decode(stext, slen, tname, spath, &s)) && pv_chunk_file_number(file) &&
                   !(rc = pvgit_blob_read(repo, &e->id, SIZE_MAX, e->path, &text, &len))) {
            rc = check_chunk(e->path, text, len, s, has_old ? committed_prefix(repo, &old, text, len) : 0);
        }
        if (rc) {
            bad++;
            print_problem((void *)hook, pv_errmsg());
        }
        pv_schema_free(s);
        free(text);
        free(stext);
    }
    git_tree_free(head);
    git_index_free(index);
    git_repository_free(repo);
    /* (the rows only when the files read: a broken file is reported as such) */
    if (!bad && changed.n) unique = check_unique(&changed, top, hook);
    for (i = 0; i < changed.n; i++) free(changed.v[i]);
    free(changed.v);
    if (bad) {
        fprintf(stderr, "pvdev: commit refused: %zu staged .pv/ file%s above %s broken (to commit anyway: "
                        "git commit --no-verify)\n", bad, bad == 1 ? "" : "s", bad == 1 ? "is" : "are");
        return PVDEV_EXIT_FAIL;
    }
    if (unique) {
        if (unique > 0)
            fprintf(stderr, "pvdev: merge commit refused: the merged rows break a unique index (%ld pair%s above): "
                            "delete one row of each pair with 'pvdev sql' (insert it again with another value "
                            "once the pair is gone), 'git add .pv', then 'git commit' (to commit anyway: "
                            "--no-verify)\n", unique, unique == 1 ? "" : "s");
        return PVDEV_EXIT_FAIL;
    }
    (void)checked;
    return PVDEV_EXIT_OK;
}

int cmd_hook(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "pre-commit")) return pre_commit("pre-commit", 0);
    if (argc == 2 && !strcmp(argv[1], "pre-merge-commit")) return pre_commit("pre-merge-commit", 1);
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: pvdev hook pre-commit|pre-merge-commit\n\n"
               "What the git hooks installed by 'pvdev git-setup' run; call it from your\n"
               "own hook or hook manager instead ('pvdev hook pre-commit || exit 1').\n"
               "  pre-commit        refuse staged .pv/ files that do not parse, or hold git\n"
               "                    conflict markers or unresolved merge conflicts; while a\n"
               "                    merge is in progress, also what pre-merge-commit checks\n"
               "  pre-merge-commit  the same, then refuse a merge whose rows break a unique\n"
               "                    index of a table it changed (each branch added a row\n"
               "                    with the same value), naming both keys and the value\n");
        return PVDEV_EXIT_OK;
    }
    fprintf(stderr, "usage: pvdev hook pre-commit|pre-merge-commit\n");
    return PVDEV_EXIT_USAGE;
}
