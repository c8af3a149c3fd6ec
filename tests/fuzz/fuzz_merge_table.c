/*
 * fuzz_merge_table.c: libFuzzer target for the merge driver's table-level
 * merge (pvgit_merge_file with the three commits found in a real
 * repository: merge_find.c, merge_sides.c, merge_keys.c), which fuzz_merge
 * (a work tree without git, so the file merged alone) does not reach.
 *
 * Input: SHARED \0 BASE \0 OURS \0 THEIRS. A git repository (libgit2,
 * in a private directory) gets three commits of a workspace with table
 * t(k INTEGER PRIMARY KEY, a TEXT, b INTEGER): base, and ours and theirs
 * on top of it. All three hold SHARED as chunk 1 (the driver never decodes
 * it whole, it cuts the keys it needs out of its lines) and BASE, OURS,
 * THEIRS as chunk 2 (absent when empty: an empty BASE is an add/add). HEAD
 * is ours and GITHEAD_<theirs> is set, as `git merge` does; the driver
 * runs only when git would run it (chunk 2 changed on both sides,
 * differently).
 *
 * Oracles besides "no crash, no leak, no UB":
 *   - the driver finds the three commits (a table-level merge);
 *   - an error leaves %A as it was; otherwise the result starts with ours'
 *     bytes (with theirs' when theirs rewrote the chunk under a compacted
 *     header, chunk version 2, and ours only appended to it: the merge
 *     keeps a compaction), and loads when the three sides do;
 *   - a clean merge (0) holds, key by key over both chunks, the three-way
 *     merge of the sides' whole tables; a conflict (1) only when some key
 *     cannot merge cleanly (chunk 2 replays last, so every record can be
 *     placed: no conservative conflicts).
 */
#include "fuzz_common.h"

#include <git2.h>

#include "merge.h"
#include "pv.h"
#include "reader.h"
#include "util.h"
#include "vtree.h"
#include "ws.h"

#define RESET_EVERY 256 /* inputs between two fresh repositories (loose objects pile up) */

static const char schema_text[] =
    "{\"table\":\"t\",\"primary_key\":[\"k\"]}\n"
    "{\"column\":\"k\",\"type\":\"INTEGER\",\"not_null\":true}\n"
    "{\"column\":\"a\",\"type\":\"TEXT\"}\n"
    "{\"column\":\"b\",\"type\":\"INTEGER\"}\n";
static const char format_text[] = "picovolt-workspace 1\n";

static char top[300], wd[320];
static git_repository *repo;
static unsigned inputs;

static void die(const char *what)
{
    const git_error *e = git_error_last();
    fprintf(stderr, "fuzz_merge_table: %s: %s / %s\n", what, pv_errmsg(), e ? e->message : "");
    abort();
}

static void fail(const char *why, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_merge_table: %s\n--- input (%zu bytes):\n%.*s\n", why, size, (int)size,
            (const char *)data);
    abort();
}

static void fresh_repo(void)
{
    git_repository_free(repo);
    fz_rmtree(wd);
    if (git_repository_init(&repo, wd, 0)) die("git init");
}

static void setup(void)
{
    snprintf(top, sizeof top, "%s", fz_tmpdir());
    snprintf(wd, sizeof wd, "%s/repo", top);
    git_libgit2_init();
    fresh_repo();
}

/* ---- the commits --------------------------------------------------------------------- */

static void blob(const char *p, size_t n, git_oid *out)
{
    if (git_blob_create_from_buffer(out, repo, p, n)) die("blob");
}

static void subtree(git_treebuilder *parent, const char *name, git_treebuilder *child)
{
    git_oid id;
    if (git_treebuilder_write(&id, child) || git_treebuilder_insert(NULL, parent, name, &id, GIT_FILEMODE_TREE))
        die("tree");
    git_treebuilder_free(child);
}

/* The commit of a workspace whose chunk 1 is `c1` and chunk 2 `c2` (NULL:
 * absent), on top of `parent` (may be NULL). */
static void commit(const git_oid *c1, const git_oid *c2, const git_commit *parent, const char *msg, git_oid *out)
{
    git_treebuilder *t, *tables, *pv, *root;
    git_oid id, tree_id;
    git_tree *tree;
    git_signature *sig;
    if (git_treebuilder_new(&t, repo, NULL) || git_treebuilder_new(&tables, repo, NULL) ||
        git_treebuilder_new(&pv, repo, NULL) || git_treebuilder_new(&root, repo, NULL))
        die("treebuilder");
    blob(schema_text, sizeof schema_text - 1, &id);
    if (git_treebuilder_insert(NULL, t, "schema.jsonl", &id, GIT_FILEMODE_BLOB)) die("insert");
    if (c1 && git_treebuilder_insert(NULL, t, "00000001.jsonl", c1, GIT_FILEMODE_BLOB)) die("insert");
    if (c2 && git_treebuilder_insert(NULL, t, "00000002.jsonl", c2, GIT_FILEMODE_BLOB)) die("insert");
    subtree(tables, "t", t);
    subtree(pv, "tables", tables);
    blob(format_text, sizeof format_text - 1, &id);
    if (git_treebuilder_insert(NULL, pv, "format", &id, GIT_FILEMODE_BLOB)) die("insert");
    subtree(root, ".pv", pv);
    if (git_treebuilder_write(&tree_id, root)) die("root tree");
    git_treebuilder_free(root);
    if (git_tree_lookup(&tree, repo, &tree_id) || git_signature_new(&sig, "fuzz", "fuzz@localhost", 1, 0))
        die("tree lookup");
    if (git_commit_create(out, repo, NULL, sig, sig, NULL, msg, tree, parent ? 1 : 0, parent ? &parent : NULL))
        die("commit");
    git_signature_free(sig);
    git_tree_free(tree);
}

/* ---- the sides, loaded whole ------------------------------------------------------------ */

typedef struct loaded {
    pvgit_vtree *vt;
    pv_ws *ws;
    pv_bake_table t;
} loaded;

static int load(loaded *l, const char *c1, size_t n1, const char *c2, size_t n2)
{
    pv_ws_reader r;
    int i, rc;
    memset(l, 0, sizeof *l);
    if (!(l->vt = pvgit_vtree_new("fuzz", NULL))) return PV_ENOMEM;
    if ((rc = pvgit_vtree_put(l->vt, "format", format_text, sizeof format_text - 1)) ||
        (rc = pvgit_vtree_put(l->vt, "tables/t/schema.jsonl", schema_text, sizeof schema_text - 1)) ||
        (n1 && (rc = pvgit_vtree_put(l->vt, "tables/t/00000001.jsonl", c1, n1))) ||
        (n2 && (rc = pvgit_vtree_put(l->vt, "tables/t/00000002.jsonl", c2, n2))))
        return rc;
    pvgit_vtree_reader(l->vt, &r);
    if ((rc = pv_ws_open_reader(&r, &l->ws))) return rc;
    if ((i = pv_ws_table_find(l->ws, "t", 1)) < 0) return PV_ENOTFOUND;
    return pv_ws_table_rows(l->ws, (uint32_t)i, &l->t);
}

static void unload(loaded *l)
{
    pv_ws_close(l->ws);
    pvgit_vtree_free(l->vt);
}

static int cell_eq(const pv_value *a, const pv_value *b)
{
    return a->type == b->type && pv_value_cmp(a, b) == 0 &&
           (a->type != PV_REAL || memcmp(&a->u.f, &b->u.f, sizeof(double)) == 0);
}

static int row_eq(const pv_value *a, const pv_value *b, uint32_t n)
{
    uint32_t c;
    if (!a || !b) return a == b;
    for (c = 0; c < n; c++)
        if (!cell_eq(&a[c], &b[c])) return 0;
    return 1;
}

/* The three-way merge of one key (fuzz_merge.c's rule): the row, or NULL
 * with *clean 0 when it cannot merge cleanly. */
static const pv_value *expected(const pv_value *b, const pv_value *o, const pv_value *t, uint32_t n,
                                pv_value *cells, int *clean)
{
    uint32_t c;
    *clean = 1;
    if (row_eq(o, t, n) || row_eq(t, b, n)) return o;
    if (row_eq(o, b, n)) return t;
    *clean = 0;
    if (!b || !o || !t) return NULL;
    for (c = 0; c < n; c++) {
        if (cell_eq(&o[c], &b[c])) cells[c] = t[c];
        else if (cell_eq(&t[c], &b[c]) || cell_eq(&o[c], &t[c])) cells[c] = o[c];
        else return NULL;
    }
    *clean = 1;
    return cells;
}

/* Merge join of base, ours, theirs and the result (key order): the number
 * of keys that cannot merge cleanly; with `clean`, a wrong row fails. */
static size_t compare(loaded *all[4], int clean, const uint8_t *data, size_t size)
{
    uint64_t pos[4] = {0, 0, 0, 0};
    uint32_t ncols = 3;
    size_t dirty = 0;
    int k;
    for (;;) {
        pv_value rows[4][3], cells[3];
        const pv_value *cur[4] = {NULL, NULL, NULL, NULL}, *min = NULL, *want;
        int ok;
        uint32_t c;
        for (k = 0; k < 4; k++)
            if (pos[k] < all[k]->t.nrows) {
                for (c = 0; c < ncols; c++) rows[k][c] = pv_vec_get(&all[k]->t.cols[c], (uint32_t)pos[k]);
                if (!min || pv_value_cmp(&rows[k][0], &min[0]) < 0) min = rows[k];
            }
        if (!min) break;
        for (k = 0; k < 4; k++)
            if (pos[k] < all[k]->t.nrows && pv_value_cmp(&rows[k][0], &min[0]) == 0) {
                cur[k] = rows[k];
                pos[k]++;
            }
        want = expected(cur[0], cur[1], cur[2], ncols, cells, &ok);
        if (!ok) dirty++;
        else if (clean && !row_eq(want, cur[3], ncols))
            fail(!cur[3] ? "a clean merge lost a row"
                 : !want ? "a clean merge has a row that should be absent"
                         : "a clean merge has a row with other values than the three-way merge",
                 data, size);
    }
    return dirty;
}

static void check(const char *part[4], const size_t len[4], int rc, const char *res, size_t rlen,
                  const uint8_t *data, size_t size)
{
    loaded sides[3], merged, *all[4] = {&sides[0], &sides[1], &sides[2], &merged};
    int k, ok = 1, from = 2;
    size_t dirty;
    /* part[1..3]: base's, ours' and theirs' chunk 2 */
    if (len[1] && len[2] >= len[1] && !memcmp(part[1], part[2], len[1]) &&
        !(len[3] >= len[1] && !memcmp(part[1], part[3], len[1])) && len[3] >= 8 && !memcmp(part[3], "{\"pv\":2,", 8))
        from = 3;
    if (rlen < len[from] || memcmp(res, part[from], len[from]) != 0)
        fail(from == 2 ? "the result does not start with ours' bytes" : "the result does not start with theirs' "
             "bytes (a compaction)", data, size);
    /* A line the driver never needed to decode (in a chunk every side
     * shares, of a key no side changed) may be broken on every side: the
     * merge then neither mends nor worsens it (fsck and the pre-commit
     * hook refuse it). So the checks below are for sides that load. */
    for (k = 0; k < 3; k++) ok &= load(&sides[k], part[0], len[0], part[k + 1], len[k + 1]) == PV_OK;
    if (load(&merged, part[0], len[0], res, rlen) && ok) {
        fprintf(stderr, "fuzz_merge_table: %s\n", pv_errmsg());
        fail("the merged chunk does not load", data, size);
    }
    if (ok) {
        dirty = compare(all, rc == 0, data, size);
        if (rc == 1 && dirty == 0) fail("a conflict where every key merges cleanly", data, size);
    }
    for (k = 0; k < 3; k++) unload(&sides[k]);
    unload(&merged);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *part[4], *p = (const char *)data, *end = p + size;
    size_t len[4];
    char path[3][400], env[64], *res = NULL;
    git_oid c1, c2[3], id[3];
    git_commit *base = NULL;
    pvgit_merge_stats st;
    size_t rlen;
    int k, rc, cwd;

    if (!top[0]) setup();
    if (size > 1 << 16) return 0;
    for (k = 0; k < 4; k++) {
        const char *z = k < 3 ? memchr(p, 0, (size_t)(end - p)) : NULL;
        part[k] = p;
        len[k] = (size_t)((z ? z : end) - p);
        p = z ? z + 1 : end;
    }
    /* git calls the driver only for a file both sides changed, differently */
    if (!len[2] || !len[3] || (len[2] == len[3] && !memcmp(part[2], part[3], len[2])) ||
        (len[1] == len[2] && !memcmp(part[1], part[2], len[1])) ||
        (len[1] == len[3] && !memcmp(part[1], part[3], len[1])))
        return 0;
    if (++inputs % RESET_EVERY == 0) fresh_repo();

    if (len[0]) blob(part[0], len[0], &c1);
    for (k = 0; k < 3; k++)
        if (len[k + 1]) blob(part[k + 1], len[k + 1], &c2[k]);
    commit(len[0] ? &c1 : NULL, len[1] ? &c2[0] : NULL, NULL, "base", &id[0]);
    if (git_commit_lookup(&base, repo, &id[0])) die("base");
    commit(len[0] ? &c1 : NULL, &c2[1], base, "ours", &id[1]);
    commit(len[0] ? &c1 : NULL, &c2[2], base, "theirs", &id[2]);
    git_commit_free(base);
    if (git_repository_set_head_detached(repo, &id[1])) die("HEAD");
    snprintf(env, sizeof env, "GITHEAD_%s", git_oid_tostr_s(&id[2]));
    setenv(env, "theirs", 1);
    for (k = 0; k < 3; k++) {
        snprintf(path[k], sizeof path[k], "%s/%c", top, "OAB"[k]);
        fz_write(path[k], (const uint8_t *)part[k + 1], len[k + 1]);
    }

    /* git runs the driver at the top of the work tree */
    if ((cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || chdir(wd) != 0) die("chdir");
    fz_quiet_begin();
    rc = pvgit_merge_file(path[0], path[1], path[2], ".pv/tables/t/00000002.jsonl", &st);
    fz_quiet_end();
    if (fchdir(cwd) != 0) die("fchdir");
    close(cwd);
    unsetenv(env);

    if (getenv("PV_FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz_merge_table: rc %d (%s), table level %d, %zu read, %zu scanned, %zu keys\n", rc,
                rc < 0 ? pv_errmsg() : "merged", st.table_level, st.chunks_read, st.chunks_scanned, st.keys);
    if (rc >= 0 && !st.table_level) fail("the driver did not find the three commits", data, size);
    if (pv_read_file(path[1], (size_t)1 << 30, &res, &rlen)) die("read the result");
    if (rc < 0) {
        if (rlen != len[2] || memcmp(res, part[2], rlen) != 0) fail("a failed merge changed %A", data, size);
    } else {
        check(part, len, rc, res, rlen, data, size);
    }
    free(res);
    return 0;
}
