/*
 * fuzz_rowdiff.c: libFuzzer target for the row-level diff (`pvdev diff`,
 * `pvdev log`; pvgit_diff and its printers), which reads chunk files from
 * two revisions of a repository, one of them possibly a stranger's pull
 * request.
 *
 * Input: SHARED \0 OLD \0 NEW. Two work-tree workspaces with the table
 * t(k INTEGER PRIMARY KEY, a TEXT, b INTEGER) both hold SHARED as chunk 1
 * (identical on both sides: the diff never decodes it, it only cuts keys
 * out of its lines) and OLD, respectively NEW, as chunk 2 (absent when
 * empty). Both sides are compared as `pvdev diff` does, and the changes
 * are printed as text and as JSON.
 *
 * Oracles besides "no crash, no leak, no UB":
 *   - when the ordinary loader reads both sides, the diff succeeds and its
 *     added / deleted / changed counts are those of comparing the two
 *     loaded tables key by key (the exactness argument of docs/GIT.md, "Why
 *     comparing only the differing chunks is exact");
 *   - a side compared with itself has no change; old against new and new
 *     against old swap the added and deleted counts;
 *   - the JSON printout parses (with jansson, when built with it).
 */
#include "fuzz_common.h"

#include <git2.h>

#include "pv.h"
#include "rowdiff.h"
#include "util.h"
#include "ws.h"

#ifdef PVDEV_HAVE_JANSSON
#include <jansson.h>
#endif

static char dir[2][300];

static void die(const char *what)
{
    fprintf(stderr, "fuzz_rowdiff: %s: %s\n", what, pv_errmsg());
    abort();
}

static void fail(const char *why, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_rowdiff: %s\n--- input (%zu bytes):\n%.*s\n", why, size, (int)size, (const char *)data);
    abort();
}

/* Two workspaces with table t and no chunk. */
static void setup(void)
{
    char path[700];
    int k;
    for (k = 0; k < 2; k++) {
        pv_db *db;
        snprintf(dir[k], sizeof dir[k], "%s/%s", fz_tmpdir(), k ? "new" : "old");
        if (mkdir(dir[k], 0777) != 0) die("mkdir");
        if (pv_workspace_init(dir[k])) die("init");
        if (pv_open(dir[k], PV_OPEN_READWRITE, &db)) die("open");
        if (pv_exec(db, "CREATE TABLE t(k INTEGER PRIMARY KEY, a TEXT, b INTEGER); INSERT INTO t VALUES (1, 'x', 1)"))
            die("setup sql");
        if (pv_close(db)) die("close");
        snprintf(path, sizeof path, "%s/.pv/tables/t/00000001.jsonl", dir[k]);
        if (unlink(path) != 0) die("unlink the setup chunk");
    }
    git_libgit2_init();
}

static void put(int k, int num, const uint8_t *data, size_t len)
{
    char path[700];
    snprintf(path, sizeof path, "%s/.pv/tables/t/%08d.jsonl", dir[k], num);
    if (len) fz_write(path, data, len);
    else unlink(path);
}

/* ---- the diff -------------------------------------------------------------------- */

typedef struct result {
    size_t added, deleted, changed, tables;
    pv_buf text, json;
} result;

static int collect(void *ctx, const pvgit_tablediff *d)
{
    result *r = ctx;
    pvgit_printer tp = {&r->text, 1, 0, 1, 0}, jp = {&r->json, 0, 1, 1, 0};
    int rc;
    r->tables++;
    r->added += d->added;
    r->deleted += d->deleted;
    r->changed += d->changed;
    if (d->added + d->deleted + d->changed != d->nrows) {
        fprintf(stderr, "fuzz_rowdiff: counts %zu+%zu+%zu, %zu rows\n", d->added, d->deleted, d->changed, d->nrows);
        abort();
    }
    jp.ntables = (int)r->tables - 1;
    if ((rc = pvgit_print_table(&tp, d))) return rc;
    return pvgit_print_table(&jp, d);
}

static int run_diff(int from, int to, result *r)
{
    pvgit_side *a = NULL, *b = NULL;
    pvgit_diff_opts o;
    pvgit_printer jp = {&r->json, 0, 1, 1, 0};
    int rc;
    memset(r, 0, sizeof *r);
    memset(&o, 0, sizeof o);
    o.fn = collect;
    o.ctx = r;
    if ((rc = pvgit_side_worktree(&a, NULL, dir[from])) || (rc = pvgit_side_worktree(&b, NULL, dir[to]))) goto done;
    if ((rc = pvgit_print_json_begin(&jp, "old", "new"))) goto done;
    rc = pvgit_diff(a, b, &o);
    jp.ntables = (int)r->tables;
    if (!rc) rc = pvgit_print_json_end(&jp);
done:
    pvgit_side_free(a);
    pvgit_side_free(b);
    return rc;
}

static void result_free(result *r)
{
    pv_buf_free(&r->text);
    pv_buf_free(&r->json);
}

/* ---- the reference: both tables loaded whole, compared key by key ---------------- */

typedef struct loaded {
    pv_ws *ws;
    pv_bake_table t;
} loaded;

static int load(int k, loaded *l)
{
    int i, rc;
    if ((rc = pv_ws_open(dir[k], 0, &l->ws))) return rc;
    if ((i = pv_ws_table_find(l->ws, "t", 1)) < 0) return PV_ENOTFOUND;
    return pv_ws_table_rows(l->ws, (uint32_t)i, &l->t);
}

static int same_value(const pv_value *a, const pv_value *b)
{
    if (a->type != b->type) return 0;
    switch (a->type) {
    case PV_NULL: return 1;
    case PV_REAL: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case PV_TEXT:
    case PV_BLOB: return a->u.s.n == b->u.s.n && memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0;
    default: return a->u.i == b->u.i;
    }
}

/* Rows are in key order on both sides: one merge join. */
static void reference(const loaded *o, const loaded *n, size_t *added, size_t *deleted, size_t *changed)
{
    uint64_t i = 0, j = 0;
    uint32_t c, ncols = o->t.schema->ncols;
    *added = *deleted = *changed = 0;
    while (i < o->t.nrows || j < n->t.nrows) {
        int cmp;
        if (i == o->t.nrows) cmp = 1;
        else if (j == n->t.nrows) cmp = -1;
        else {
            pv_value ko = pv_vec_get(&o->t.cols[0], (uint32_t)i), kn = pv_vec_get(&n->t.cols[0], (uint32_t)j);
            cmp = pv_value_cmp(&ko, &kn);
        }
        if (cmp < 0) (*deleted)++, i++;
        else if (cmp > 0) (*added)++, j++;
        else {
            for (c = 0; c < ncols; c++) {
                pv_value a = pv_vec_get(&o->t.cols[c], (uint32_t)i), b = pv_vec_get(&n->t.cols[c], (uint32_t)j);
                if (!same_value(&a, &b)) break;
            }
            if (c < ncols) (*changed)++;
            i++, j++;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    const uint8_t *part[3], *end = data + size, *p = data;
    size_t len[3];
    result fwd, back, self;
    loaded lo, ln;
    int k, rc, rb, rs, lok;
    if (!ready) setup(), ready = 1;
    if (size > 1 << 16) return 0;
    for (k = 0; k < 3; k++) {
        const uint8_t *z = k < 2 ? memchr(p, 0, (size_t)(end - p)) : NULL;
        part[k] = p;
        len[k] = (size_t)((z ? z : end) - p);
        p = z ? z + 1 : end;
    }
    put(0, 1, part[0], len[0]);
    put(1, 1, part[0], len[0]);
    put(0, 2, part[1], len[1]);
    put(1, 2, part[2], len[2]);

    memset(&lo, 0, sizeof lo);
    memset(&ln, 0, sizeof ln);
    /* stderr stays open: nothing here prints on it but a sanitizer report */
    rc = run_diff(0, 1, &fwd);
    rb = run_diff(1, 0, &back);
    rs = run_diff(0, 0, &self);
    lok = load(0, &lo) == PV_OK && load(1, &ln) == PV_OK;

    if (!rs && self.tables) fail("a side differs from itself", data, size);
    if ((rc == 0) != (rb == 0)) fail("old→new and new→old disagree on success", data, size);
    if (!rc && (fwd.added != back.deleted || fwd.deleted != back.added || fwd.changed != back.changed))
        fail("new→old is not old→new reversed", data, size);
    if (lok) {
        size_t a, d, c;
        if (rc) {
            fprintf(stderr, "fuzz_rowdiff: diff failed (%d) on sides that load: %s\n", rc, pv_errmsg());
            fail("the diff refuses what the loader reads", data, size);
        }
        reference(&lo, &ln, &a, &d, &c);
        if (a != fwd.added || d != fwd.deleted || c != fwd.changed) {
            fprintf(stderr, "fuzz_rowdiff: diff +%zu -%zu ~%zu, loaded tables +%zu -%zu ~%zu\n", fwd.added,
                    fwd.deleted, fwd.changed, a, d, c);
            fail("the diff's counts are not those of the loaded tables", data, size);
        }
    }
#ifdef PVDEV_HAVE_JANSSON
    if (!rc) {
        json_error_t e;
        json_t *j = json_loadb(fwd.json.p, fwd.json.len, JSON_ALLOW_NUL, &e); /* \u0000 is JSON */
        if (!j) {
            fprintf(stderr, "fuzz_rowdiff: JSON: %s at %d\n%.*s\n", e.text, e.position, (int)fwd.json.len, fwd.json.p);
            fail("the JSON printout does not parse", data, size);
        }
        json_decref(j);
    }
#endif
    pv_ws_close(lo.ws);
    pv_ws_close(ln.ws);
    result_free(&fwd);
    result_free(&back);
    result_free(&self);
    return 0;
}
