/*
 * fuzz_merge.c: libFuzzer target for the merge driver (`pvdev merge-driver
 * %O %A %B %L %P`, pvgit_merge_file), which reads three versions of a chunk
 * file from a pull request and from the branches it is merged with.
 *
 * Input: BASE \0 OURS \0 THEIRS [\0 SCHEMA]. The three parts are the
 * versions of `.pv/tables/t/00000001.jsonl` (an empty BASE is the missing
 * base of an add/add); SCHEMA, when present and not empty, replaces the
 * default `t(k INTEGER PRIMARY KEY, a TEXT, b INTEGER)` in the work tree.
 * The driver runs in process, at the top of a private work tree that is no
 * git repository, so it merges the file alone (the file-level merge); the
 * work tree's blob store holds one blob, the TEXT 'L' x 1500 the seeds use.
 *
 * Oracles besides "no crash, no leak, no UB":
 *   - an error (< 0) leaves %A byte for byte as it was;
 *   - otherwise the result starts with ours' bytes (a merge only appends),
 *     has no line that is a text conflict marker, loads, and passes fsck
 *     when ours did; 1 (conflicts) comes with conflict records in it;
 *   - a clean merge (0) is the three-way merge of the sides' rows, key by
 *     key: a row only one side changed takes that side's version (so every
 *     key of ours that theirs did not delete is there, and every key theirs
 *     added); a row both changed in different cells takes each changed
 *     cell; a row changed on both sides in the same cell, or deleted on one
 *     and changed on the other, is never in a clean merge.
 */
#include "fuzz_common.h"

#include <git2.h>

#include "merge.h"
#include "pv.h"
#include "reader.h"
#include "util.h"
#include "vtree.h"
#include "ws.h"

#define CHUNK_REL "tables/t/00000001.jsonl"
#define SCHEMA_REL "tables/t/schema.jsonl"

static const char default_schema[] =
    "{\"table\":\"t\",\"primary_key\":[\"k\"]}\n"
    "{\"column\":\"k\",\"type\":\"INTEGER\",\"not_null\":true}\n"
    "{\"column\":\"a\",\"type\":\"TEXT\"}\n"
    "{\"column\":\"b\",\"type\":\"INTEGER\"}\n";

static char wt[300], pvdir[320];
static pv_ws_reader blobs; /* the work tree's .pv, for blob references */

static void die(const char *what)
{
    fprintf(stderr, "fuzz_merge: %s: %s\n", what, pv_errmsg());
    abort();
}

static void fail(const char *why, const uint8_t *data, size_t size)
{
    fprintf(stderr, "fuzz_merge: %s\n--- input (%zu bytes):\n%.*s\n", why, size, (int)size, (const char *)data);
    abort();
}

/* The work tree: a workspace whose blob store holds the long TEXT the
 * seeds use, then emptied of rows (the driver only reads its schema and
 * blobs). */
static void setup(void)
{
    char sql[1700], path[400];
    pv_db *db;
    snprintf(wt, sizeof wt, "%s/wt", fz_tmpdir());
    snprintf(pvdir, sizeof pvdir, "%s/.pv", wt);
    if (mkdir(wt, 0777) != 0) die("mkdir");
    if (pv_workspace_init(wt)) die("init");
    if (pv_open(wt, PV_OPEN_READWRITE, &db)) die("open");
    snprintf(sql, sizeof sql, "CREATE TABLE t(k INTEGER PRIMARY KEY, a TEXT, b INTEGER); "
                              "INSERT INTO t VALUES (1, '%01500d', 0)", 0);
    memset(strchr(sql, '\'') + 1, 'L', 1500);
    if (pv_exec(db, sql)) die("setup sql");
    if (pv_close(db)) die("close");
    snprintf(path, sizeof path, "%s/" CHUNK_REL, pvdir);
    if (unlink(path) != 0) die("unlink the setup chunk");
    pv_ws_reader_posix(&blobs, pvdir);
    git_libgit2_init(); /* as pvdev's main does; balanced by no shutdown, like the tool */
}

/* ---- one side, loaded as the ordinary loader replays it ---------------------- */

typedef struct loaded {
    pvgit_vtree *vt;
    pv_ws *ws;
    pv_bake_table t; /* nrows 0 when the side has no file */
    int ok;
} loaded;

static int load(loaded *l, const char *schema, size_t slen, const char *chunk, size_t clen)
{
    static const char fmt[] = "picovolt-workspace 1\n";
    pv_ws_reader r;
    int i, rc;
    memset(l, 0, sizeof *l);
    if (!(l->vt = pvgit_vtree_new("fuzz", &blobs))) return PV_ENOMEM;
    if ((rc = pvgit_vtree_put(l->vt, "format", fmt, sizeof fmt - 1)) ||
        (rc = pvgit_vtree_put(l->vt, SCHEMA_REL, schema, slen)) ||
        (clen && (rc = pvgit_vtree_put(l->vt, CHUNK_REL, chunk, clen))))
        return rc;
    pvgit_vtree_reader(l->vt, &r);
    if ((rc = pv_ws_open_reader(&r, &l->ws))) return rc;
    if ((i = pv_ws_table_find(l->ws, "t", 1)) < 0) return PV_ENOTFOUND;
    if ((rc = pv_ws_table_rows(l->ws, (uint32_t)i, &l->t))) return rc;
    l->ok = 1;
    return PV_OK;
}

static void unload(loaded *l)
{
    pv_ws_close(l->ws);
    pvgit_vtree_free(l->vt);
}

static void count_problem(void *ctx, const char *problem)
{
    (void)ctx;
    if (getenv("PV_FUZZ_VERBOSE")) fprintf(stderr, "fuzz_merge: fsck: %s\n", problem);
}

/* fsck's count of problems other than unresolved conflicts (which a merge
 * may add), or -1 when it cannot look. */
static long fsck_problems(loaded *l)
{
    pv_ws_reader r;
    pv_fsck_stats st;
    memset(&st, 0, sizeof st);
    pvgit_vtree_reader(l->vt, &r);
    if (pv_ws_fsck(&r, count_problem, NULL, &st)) return -1;
    return (long)(st.problems - (st.conflicts < st.problems ? st.conflicts : st.problems));
}

/* ---- the merged state, key by key ------------------------------------------------ */

static int cell_eq(const pv_value *a, const pv_value *b)
{
    return a->type == b->type && pv_value_cmp(a, b) == 0 &&
           (a->type != PV_REAL || memcmp(&a->u.f, &b->u.f, sizeof(double)) == 0);
}

static void get_row(const loaded *l, uint64_t r, pv_value *out)
{
    uint32_t c;
    for (c = 0; c < l->t.schema->ncols; c++) out[c] = pv_vec_get(&l->t.cols[c], (uint32_t)r);
}

static int key_cmp(const pv_schema *s, const pv_value *a, const pv_value *b)
{
    uint32_t k;
    int c;
    for (k = 0; k < s->npk; k++)
        if ((c = pv_value_cmp(&a[s->pk[k]], &b[s->pk[k]]))) return c;
    return 0;
}

static int row_eq(const pv_schema *s, const pv_value *a, const pv_value *b)
{
    uint32_t c;
    if (!a || !b) return a == b;
    for (c = 0; c < s->ncols; c++)
        if (!cell_eq(&a[c], &b[c])) return 0;
    return 1;
}

/* What a clean merge must hold for one key: NULL when *why is set (the key
 * could not merge cleanly), else the row (or NULL: absent) in `want`. */
static const pv_value *expected(const pv_schema *s, const pv_value *b, const pv_value *o, const pv_value *t,
                                pv_value *cells, const char **why)
{
    uint32_t c;
    *why = NULL;
    if (row_eq(s, o, t) || row_eq(s, t, b)) return o;
    if (row_eq(s, o, b)) return t;
    if (!b || !o || !t) {
        *why = "a clean merge of a row deleted (or added) on one side and changed on the other";
        return NULL;
    }
    for (c = 0; c < s->ncols; c++) {
        if (cell_eq(&o[c], &b[c])) cells[c] = t[c];
        else if (cell_eq(&t[c], &b[c]) || cell_eq(&o[c], &t[c])) cells[c] = o[c];
        else {
            *why = "a clean merge of a cell both sides changed to different values";
            return NULL;
        }
    }
    return cells;
}

/* Merge join over base, ours, theirs and the result (all in key order). */
static void check_clean(loaded sides[3], loaded *res, const uint8_t *data, size_t size)
{
    const pv_schema *s = sides[1].t.schema;
    loaded *all[4] = {&sides[0], &sides[1], &sides[2], res};
    uint64_t pos[4] = {0, 0, 0, 0};
    int k;
    for (k = 0; k < 4; k++)
        if (all[k]->t.nrows && all[k]->t.schema->ncols != s->ncols)
            fail("a clean merge of sides with other columns", data, size);
    for (;;) {
        pv_value rows[4][PV_MAX_COLUMNS], cells[PV_MAX_COLUMNS];
        const pv_value *cur[4] = {NULL, NULL, NULL, NULL}, *min = NULL, *want;
        const char *why;
        for (k = 0; k < 4; k++)
            if (pos[k] < all[k]->t.nrows) {
                get_row(all[k], pos[k], rows[k]);
                if (!min || key_cmp(s, rows[k], min) < 0) min = rows[k];
            }
        if (!min) break;
        for (k = 0; k < 4; k++)
            if (pos[k] < all[k]->t.nrows && key_cmp(s, rows[k], min) == 0) {
                cur[k] = rows[k];
                pos[k]++;
            }
        want = expected(s, cur[0], cur[1], cur[2], cells, &why);
        if (why) fail(why, data, size);
        if (!row_eq(s, want, cur[3]))
            fail(!cur[3] ? "a clean merge lost a row"
                 : !want ? "a clean merge has a row that should be absent"
                         : "a clean merge has a row with other values than the three-way merge",
                 data, size);
    }
}

/* ---- one input ------------------------------------------------------------------------- */

static int has_marker_line(const char *p, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        if ((i == 0 || p[i - 1] == '\n') && n - i >= 7 &&
            (!memcmp(p + i, "<<<<<<<", 7) || !memcmp(p + i, "=======", 7) || !memcmp(p + i, ">>>>>>>", 7) ||
             !memcmp(p + i, "|||||||", 7)))
            return 1;
    return 0;
}

static void check_result(const char *part[4], const size_t len[4], int rc, const pvgit_merge_stats *st,
                         const char *res, size_t rlen, const uint8_t *data, size_t size)
{
    loaded sides[3], merged;
    long ours_problems = -1;
    int k, lrc;
    if (rlen < len[1] || memcmp(res, part[1], len[1]) != 0)
        fail("the result does not start with ours' bytes", data, size);
    if (has_marker_line(res, rlen)) fail("the result holds a text conflict marker", data, size);
    if ((rc == 1) != (st->conflicts > 0)) fail("the exit code and the conflict count disagree", data, size);
    if ((lrc = load(&merged, part[3], len[3], res, rlen))) {
        fprintf(stderr, "fuzz_merge: the merged file does not load: %s\n", pv_errmsg());
        fail("the merged file does not load", data, size);
    }
    if (rc == 1 && pv_ws_conflicts(merged.ws, 0, &(const pv_ws_conflict *){NULL}) <= 0)
        fail("conflicts reported, but the merged file holds no conflict record", data, size);
    for (k = 0; k < 3; k++) {
        lrc = load(&sides[k], part[3], len[3], part[k], len[k]);
        if (lrc && (rc == 0 || k == 1)) {
            fprintf(stderr, "fuzz_merge: side %d does not load: %s\n", k, pv_errmsg());
            fail("the driver merged a side that does not load", data, size);
        }
    }
    if (sides[1].ok) ours_problems = fsck_problems(&sides[1]);
    if (ours_problems == 0 && fsck_problems(&merged) != 0)
        fail("fsck finds problems in a merge of a clean ours", data, size);
    if (rc == 0) check_clean(sides, &merged, data, size);
    for (k = 0; k < 3; k++) unload(&sides[k]);
    unload(&merged);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *part[4] = {"", "", "", NULL};
    size_t len[4] = {0, 0, 0, 0};
    char path[3][400], spath[400];
    const char *p = (const char *)data, *end = p + size;
    char *res = NULL;
    size_t rlen;
    int k, rc, cwd;
    pvgit_merge_stats st;

    if (!wt[0]) setup();
    for (k = 0; k < 4 && p <= end; k++) {
        const char *nul = k < 3 ? memchr(p, 0, (size_t)(end - p)) : NULL;
        part[k] = p;
        len[k] = nul ? (size_t)(nul - p) : (size_t)(end - p);
        p += len[k] + 1;
        if (!nul) break;
    }
    if (!part[3] || !len[3]) part[3] = default_schema, len[3] = sizeof default_schema - 1;
    for (k = 0; k < 3; k++) {
        snprintf(path[k], sizeof path[k], "%s/%c", wt, "OAB"[k]);
        fz_write(path[k], (const uint8_t *)part[k], len[k]);
    }
    snprintf(spath, sizeof spath, "%s/" SCHEMA_REL, pvdir);
    fz_write(spath, (const uint8_t *)part[3], len[3]);

    /* git runs the driver at the top of the work tree */
    if ((cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 || chdir(wt) != 0) die("chdir");
    fz_quiet_begin();
    rc = pvgit_merge_file("O", "A", "B", ".pv/" CHUNK_REL, &st);
    fz_quiet_end();
    if (fchdir(cwd) != 0) die("fchdir");
    close(cwd);

    if (getenv("PV_FUZZ_VERBOSE"))
        fprintf(stderr, "fuzz_merge: rc %d (%s): %zu from theirs, %zu cell merged, %zu records, %zu conflicts\n", rc,
                rc < 0 ? pv_errmsg() : "merged", st.from_theirs, st.cell_merged, st.fixups, st.conflicts);
    if (rc != 0 && rc != 1 && (rc >= 0 || !pv_errmsg() || !pv_errmsg()[0]))
        fail("the driver returned an unknown code, or an error without a message", data, size);
    if (pv_read_file(path[1], (size_t)1 << 30, &res, &rlen)) die("read the result");
    if (rc < 0) {
        if (rlen != len[1] || memcmp(res, part[1], rlen) != 0) fail("a failed merge changed %A", data, size);
    } else {
        check_result(part, len, rc, &st, res, rlen, data, size);
    }
    free(res);
    return 0;
}
