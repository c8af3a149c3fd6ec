/*
 * test_rowdiff.c: row-level comparison of workspace states by key
 * (pvgit/rowdiff.c), the textconv rendering, and the AS OF resolver
 * (pvgit/resolver.c), against repositories made by the real git.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "blobstore.h"
#include "chunkline.h"
#include "db.h"
#include "pvgit.h"
#include "resolver.h"
#include "rowdiff.h"
#include "util.h"

#include "test_shell.h"

static char dir[256];

static void exec_sql(const char *sql)
{
    pv_db *db;
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    if (pv_exec(db, sql) != PV_OK) fail_msg("%s: %s", sql, pv_errmsg());
    pv_close(db);
}

static void commit(const char *msg)
{
    shell("cd '%s' && git add -A && git commit -qm '%s'", dir, msg);
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/pv-test-rowdiff-XXXXXX");
    assert_non_null(mkdtemp(dir));
    shell("cd '%s' && git init -q -b main . && git config user.email t@t && git config user.name t", dir);
    assert_int_equal(pv_workspace_init(dir), PV_OK);
    exec_sql("CREATE TABLE a (code TEXT PRIMARY KEY, name TEXT, n INTEGER);"
             "INSERT INTO a VALUES ('SFO', 'San Francisco', 1), ('JFK', 'Kennedy', 2), ('00M', 'Thigpen', 3)");
    commit("one");
    exec_sql("DELETE FROM a WHERE code = 'JFK'; UPDATE a SET name = 'SF Intl', n = 10 WHERE code = 'SFO';"
             "INSERT INTO a VALUES ('ORD', 'O''Hare', 4)");
    commit("two");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    shell("rm -rf '%s' '%s.bare'", dir, dir);
    return 0;
}

/* ---- collecting a comparison as text ---------------------------------------- */

static int print_cb(void *ctx, const pvgit_tablediff *d)
{
    pvgit_printer *p = ctx;
    return pvgit_print_table(p, d);
}

/* pvgit_diff of two revisions (NULL: the work tree) as printed text. */
static char *diff_text(const char *from, const char *to, const char *table, const char *key)
{
    git_repository *repo;
    char *prefix;
    pvgit_side *a, *b;
    pv_buf out = PV_BUF_INIT;
    pvgit_printer p;
    pvgit_diff_opts o;
    assert_int_equal(pvgit_repo_open(dir, &repo, &prefix), PV_OK);
    assert_int_equal(pvgit_side_rev(&a, repo, prefix, from), PV_OK);
    if (to) assert_int_equal(pvgit_side_rev(&b, repo, prefix, to), PV_OK);
    else assert_int_equal(pvgit_side_worktree(&b, repo, dir), PV_OK);
    memset(&p, 0, sizeof p);
    p.out = &out;
    p.header = 1;
    memset(&o, 0, sizeof o);
    o.table = table;
    o.key = key;
    o.keylen = key ? strlen(key) : 0;
    o.fn = print_cb;
    o.ctx = &p;
    if (pvgit_diff(a, b, &o) != PV_OK) fail_msg("diff: %s", pv_errmsg());
    pvgit_side_free(a);
    pvgit_side_free(b);
    git_repository_free(repo);
    free(prefix);
    assert_int_equal(pv_buf_putc(&out, '\0'), PV_OK);
    return out.p;
}

static void expect_diff(const char *from, const char *to, const char *want)
{
    char *got = diff_text(from, to, NULL, NULL);
    assert_string_equal(got, want);
    free(got);
}

static void test_two_commits(void **state)
{
    (void)state;
    expect_diff("HEAD~1", "HEAD",
                "table a\n"
                "- JFK  name=\"Kennedy\" n=2\n"
                "+ ORD  name=\"O'Hare\" n=4\n"
                "~ SFO  name: \"San Francisco\" → \"SF Intl\"  n: 1 → 10\n");
    /* the other way round */
    expect_diff("HEAD", "HEAD~1",
                "table a\n"
                "+ JFK  name=\"Kennedy\" n=2\n"
                "- ORD  name=\"O'Hare\" n=4\n"
                "~ SFO  name: \"SF Intl\" → \"San Francisco\"  n: 10 → 1\n");
    expect_diff("HEAD", "HEAD", "");
    expect_diff("HEAD", NULL, "");
}

static void test_worktree_and_schema(void **state)
{
    char *got;
    (void)state;
    exec_sql("ALTER TABLE a ADD COLUMN gate TEXT");
    /* a rename keeps the old name in the schema's history (written here by
     * hand: the format's renamed_from) */
    shell("cd '%s' && sed -i 's/{\"column\":\"n\",\"type\":\"INTEGER\"}/{\"column\":\"num\",\"type\":\"INTEGER\","
       "\"renamed_from\":[\"n\"]}/' .pv/tables/a/schema.jsonl && grep -q renamed_from .pv/tables/a/schema.jsonl", dir);
    exec_sql("UPDATE a SET gate = 'G1' WHERE code = 'ORD'; INSERT INTO a VALUES ('LAX', 'Los \"Angeles\"', NULL, NULL)");
    expect_diff("HEAD", NULL,
                "table a\n"
                "~ column n → num\n"
                "+ column gate TEXT\n"
                "+ LAX  name=\"Los \\\"Angeles\\\"\" num=null gate=null\n"
                "~ ORD  gate: null → \"G1\"\n");
    /* only one key */
    got = diff_text("HEAD", NULL, "a", "\"ORD\"");
    assert_string_equal(got, "table a\n~ column n → num\n+ column gate TEXT\n~ ORD  gate: null → \"G1\"\n");
    free(got);
    got = diff_text("HEAD", NULL, "a", "\"SFO\"");
    assert_string_equal(got, "");
    free(got);
    got = diff_text("HEAD", NULL, "nosuch", NULL);
    assert_string_equal(got, "");
    free(got);
    /* a new table, and the first commit against an empty side */
    exec_sql("CREATE TABLE b (k INTEGER PRIMARY KEY, v REAL); INSERT INTO b VALUES (2, 0.5), (1, -1e300)");
    got = diff_text("HEAD", NULL, "b", NULL);
    assert_string_equal(got, "table b (new)\n"
                             "+ column k INTEGER NOT NULL (key)\n"
                             "+ column v REAL\n"
                             "+ 1  v=-1e+300\n"
                             "+ 2  v=0.5\n");
    free(got);
    commit("three");
    exec_sql("DROP TABLE b");
    got = diff_text("HEAD", NULL, "b", NULL);
    assert_string_equal(got, "table b (dropped)\n"
                             "- column k INTEGER NOT NULL (key)\n"
                             "- column v REAL\n"
                             "- 1  v=-1e+300\n"
                             "- 2  v=0.5\n");
    free(got);
}

/* ---- many chunks: the chunk-by-chunk comparison against a brute force --------- */

/* Every row of table `t` as "key|row" lines, sorted, from a workspace. */
static void table_lines(pv_ws *ws, const char *t, char ***out, size_t *n)
{
    pv_source src;
    pv_scan *scan;
    pv_batch b;
    uint32_t cols[16], c;
    int i = pv_ws_table_find(ws, t, strlen(t)), got;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    if (i < 0) return;
    assert_int_equal(pv_ws_table_source(ws, (uint32_t)i, &src), PV_OK);
    for (c = 0; c < src.schema->ncols; c++) cols[c] = c;
    assert_int_equal(src.ops->scan_open(&src, cols, src.schema->ncols, &scan), PV_OK);
    while ((got = src.ops->scan_next(scan, &b)) > 0) {
        uint32_t r;
        for (r = 0; r < b.nrows; r++) {
            pv_buf line = PV_BUF_INIT;
            for (c = 0; c < b.ncols; c++) {
                pv_value v = pv_vec_get(&b.cols[c], r);
                if (c) pv_buf_putc(&line, '|');
                pv_chunk_encode_value(&line, &v);
            }
            if (*n == cap) *out = realloc(*out, (cap = cap ? cap * 2 : 1024) * sizeof **out);
            (*out)[(*n)++] = line.p;
        }
    }
    assert_int_equal(got, 0);
    src.ops->scan_close(scan);
}

static int cmp_strp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The lines of a string, sorted (the string is consumed). */
static char *sort_lines(char *text)
{
    char **lines = NULL, *p, *save = NULL;
    size_t n = 0, i;
    pv_buf sorted = PV_BUF_INIT;
    for (p = strtok_r(text, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
        lines = realloc(lines, (n + 1) * sizeof *lines);
        lines[n++] = p;
    }
    if (n) qsort(lines, n, sizeof *lines, cmp_strp);
    for (i = 0; i < n; i++) pv_buf_printf(&sorted, "%s\n", lines[i]);
    pv_buf_putc(&sorted, '\0');
    free(lines);
    free(text);
    return sorted.p;
}

/* What a brute-force comparison of two full loads gives, as sorted
 * "+key", "-key", "~key" lines. */
static char *brute(const char *from, const char *to, const char *t)
{
    pv_ws *wa, *wb;
    pvgit_tree *ta, *tb = NULL;
    git_repository *ra, *rb = NULL;
    char **la, **lb;
    size_t na, nb, i = 0, j = 0;
    pv_buf out = PV_BUF_INIT;
    assert_int_equal(pvgit_ws_open(dir, from, &wa, &ta, &ra), PV_OK);
    if (to) assert_int_equal(pvgit_ws_open(dir, to, &wb, &tb, &rb), PV_OK);
    else assert_int_equal(pv_ws_open(dir, 0, &wb), PV_OK);
    table_lines(wa, t, &la, &na);
    table_lines(wb, t, &lb, &nb);
    if (na) qsort(la, na, sizeof *la, cmp_strp);
    if (nb) qsort(lb, nb, sizeof *lb, cmp_strp);
    /* the key is the first column: compare by the text before '|' */
    while (i < na || j < nb) {
        int c;
        if (i < na && j < nb) {
            size_t ka = strcspn(la[i], "|"), kb = strcspn(lb[j], "|");
            c = strncmp(la[i], lb[j], ka < kb ? ka : kb);
            if (!c) c = ka < kb ? -1 : ka > kb;
            if (!c) {
                if (strcmp(la[i], lb[j]) != 0) pv_buf_printf(&out, "~%.*s\n", (int)ka, la[i]);
                i++, j++;
                continue;
            }
        } else {
            c = i < na ? -1 : 1;
        }
        if (c < 0) pv_buf_printf(&out, "-%.*s\n", (int)strcspn(la[i], "|"), la[i]), i++;
        else pv_buf_printf(&out, "+%.*s\n", (int)strcspn(lb[j], "|"), lb[j]), j++;
    }
    for (i = 0; i < na; i++) free(la[i]);
    for (j = 0; j < nb; j++) free(lb[j]);
    free(la);
    free(lb);
    pv_ws_close(wa);
    pv_ws_close(wb);
    pvgit_tree_free(ta);
    pvgit_tree_free(tb);
    git_repository_free(ra);
    git_repository_free(rb);
    pv_buf_putc(&out, '\0');
    return sort_lines(out.p);
}

static int keys_cb(void *ctx, const pvgit_tablediff *d)
{
    pv_buf *out = ctx;
    size_t i;
    for (i = 0; i < d->nrows; i++)
        pv_buf_printf(out, "%c%.*s\n", d->rows[i].kind == PVGIT_ROW_ADDED ? '+' : d->rows[i].kind == PVGIT_ROW_DELETED ? '-' : '~',
                      (int)d->rows[i].keylen, d->rows[i].keytext);
    return PV_OK;
}

static char *rowdiff_keys(const char *from, const char *to, const char *t)
{
    git_repository *repo;
    char *prefix;
    pvgit_side *a, *b;
    pv_buf out = PV_BUF_INIT;
    pvgit_diff_opts o;
    assert_int_equal(pvgit_repo_open(dir, &repo, &prefix), PV_OK);
    assert_int_equal(pvgit_side_rev(&a, repo, prefix, from), PV_OK);
    if (to) assert_int_equal(pvgit_side_rev(&b, repo, prefix, to), PV_OK);
    else assert_int_equal(pvgit_side_worktree(&b, repo, dir), PV_OK);
    memset(&o, 0, sizeof o);
    o.table = t;
    o.fn = keys_cb;
    o.ctx = &out;
    if (pvgit_diff(a, b, &o) != PV_OK) fail_msg("diff: %s", pv_errmsg());
    pvgit_side_free(a);
    pvgit_side_free(b);
    git_repository_free(repo);
    free(prefix);
    pv_buf_putc(&out, '\0');
    return sort_lines(out.p);
}

static void check_against_brute(const char *from, const char *to, size_t want_changes)
{
    char *want = brute(from, to, "big"), *got = rowdiff_keys(from, to, "big");
    size_t lines = 0;
    const char *p;
    for (p = want; *p; p++) lines += *p == '\n';
    assert_string_equal(got, want);
    assert_int_equal(lines, want_changes);
    free(want);
    free(got);
}

static void test_many_chunks(void **state)
{
    pv_db *db;
    pv_value row[3];
    char name[64];
    int i;
    (void)state;
    /* ~2.5 MiB of rows: three chunks */
    assert_int_equal(pv_open(dir, PV_OPEN_READWRITE, &db), PV_OK);
    assert_int_equal(pv_exec(db, "CREATE TABLE big (id TEXT PRIMARY KEY, v INTEGER, pad TEXT)"), PV_OK);
    assert_int_equal(pv_db_begin(db), PV_OK);
    for (i = 0; i < 30000; i++) {
        snprintf(name, sizeof name, "k%05d", i);
        row[0] = pv_v_text(name, strlen(name));
        row[1] = pv_v_int(i);
        row[2] = pv_v_text("padding padding padding padding padding padding padding padding", 63);
        assert_int_equal(pv_db_write(db, "big", row, 1, 3, PV_WRITE_INSERT, NULL, 0, NULL), PV_OK);
    }
    assert_int_equal(pv_db_commit(db), PV_OK);
    pv_close(db);
    shell("ls '%s/.pv/tables/big' | grep -c jsonl | grep -qx 4", dir);
    commit("big");
    /* one row of the first chunk changed (its record lands in the last) */
    exec_sql("UPDATE big SET v = -1 WHERE id = 'k00010'");
    check_against_brute("HEAD", NULL, 1);
    /* deletes of old rows, re-inserts, new keys, and a row changed back */
    exec_sql("DELETE FROM big WHERE id IN ('k00020', 'k15000', 'k29999');"
             "INSERT INTO big VALUES ('k00020', 20, 'padding padding padding padding padding padding padding padding'),"
             " ('new1', 1, NULL), ('k15000', 7, 'x');"
             "UPDATE big SET v = 10 WHERE id = 'k00010'");
    check_against_brute("HEAD", NULL, 3);
    commit("edits");
    check_against_brute("HEAD~1", "HEAD", 3);
    check_against_brute("HEAD~2", "HEAD", 30000);
    {
        char *got = diff_text("HEAD~1", "HEAD", "big", NULL);
        assert_string_equal(got, "table big\n"
                                 "~ k15000  v: 15000 → 7  pad: \"padding padding padding padding padding padding "
                                 "padding padding\" → \"x\"\n"
                                 "- k29999  v=29999 pad=\"padding padding padding padding padding padding padding padding\"\n"
                                 "+ new1  v=1 pad=null\n");
        free(got);
    }
    /* the same in a bare clone (no work tree to read from) */
    shell("git clone -q --bare '%s' '%s.bare'", dir, dir);
    {
        char keep[256];
        memcpy(keep, dir, sizeof keep);
        assert_true(strlen(dir) + 6 < sizeof dir);
        strcat(dir, ".bare");
        {
            char *got = rowdiff_keys("HEAD~1", "HEAD", "big");
            assert_string_equal(got, "+\"new1\"\n-\"k29999\"\n~\"k15000\"\n");
            free(got);
        }
        memcpy(dir, keep, sizeof dir);
    }
}

/* ---- keys, values, textconv -------------------------------------------------------- */

static void test_key_parse(void **state)
{
    pv_schema *s = pv_schema_new("t", 1);
    uint32_t pk[2] = {0, 1};
    pv_buf b = PV_BUF_INIT;
    pv_value key[2];
    (void)state;
    assert_int_equal(pv_schema_add_column(s, "a", 1, PV_INTEGER, 1), PV_OK);
    assert_int_equal(pv_schema_add_column(s, "b", 1, PV_TEXT, 1), PV_OK);
    assert_int_equal(pv_schema_set_pk(s, pk, 2), PV_OK);
    assert_int_equal(pvgit_key_parse(s, "12,SFO", &b), PV_OK);
    assert_int_equal(b.len, 8);
    assert_memory_equal(b.p, "12,\"SFO\"", 8);
    assert_int_equal(pvgit_key_parse(s, "12,\"a,b\"", &b), PV_OK);
    assert_memory_equal(b.p, "12,\"a,b\"", 8);
    assert_int_equal(pvgit_key_parse(s, "x,SFO", &b), PV_EINPUT);
    assert_int_equal(pvgit_key_parse(s, "12", &b), PV_EINPUT);
    b.len = 0;
    key[0] = pv_v_int(-3);
    key[1] = pv_v_text("a b", 3);
    assert_int_equal(pvgit_key_text(&b, key, 2), PV_OK);
    assert_memory_equal(b.p, "-3,\"a b\"", 8);
    pv_buf_free(&b);
    pv_schema_free(s);
}

/* What pvgit_key_text prints, pvgit_key_parse reads back as the same key
 * (pvdev conflicts prints keys so, pvdev resolve reads them so): a comma
 * or a quote in a part, a BLOB part. */
static void test_key_text_parse(void **state)
{
    static const struct {
        const char *a, *b;
        size_t blen;
        const char *text;
    } cases[] = {
        {"x,y", "z", 1, "\"x,y\",{\"hex\":\"7a\"}"},
        {"x", "y,z", 3, "x,{\"hex\":\"792c7a\"}"},
        {"q\"r", "", 0, "\"q\\\"r\",{\"hex\":\"\"}"},
    };
    pv_schema *s = pv_schema_new("t", 1);
    uint32_t pk[2] = {0, 1};
    pv_buf text = PV_BUF_INIT, got = PV_BUF_INIT, want = PV_BUF_INIT;
    pv_value key[2];
    size_t i;
    (void)state;
    assert_int_equal(pv_schema_add_column(s, "a", 1, PV_TEXT, 1), PV_OK);
    assert_int_equal(pv_schema_add_column(s, "b", 1, PV_BLOB, 1), PV_OK);
    assert_int_equal(pv_schema_set_pk(s, pk, 2), PV_OK);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        key[0] = pv_v_text(cases[i].a, strlen(cases[i].a));
        key[1] = pv_v_blob(cases[i].b, cases[i].blen);
        text.len = want.len = 0;
        assert_int_equal(pvgit_key_text(&text, key, 2), PV_OK);
        assert_string_equal(text.p, cases[i].text);
        assert_int_equal(pv_chunk_encode_value(&want, &key[0]), PV_OK);
        assert_int_equal(pv_buf_putc(&want, ','), PV_OK);
        assert_int_equal(pv_chunk_encode_value(&want, &key[1]), PV_OK);
        assert_int_equal(pvgit_key_parse(s, text.p, &got), PV_OK);
        assert_int_equal(got.len, want.len);
        assert_memory_equal(got.p, want.p, want.len);
    }
    assert_int_equal(pvgit_key_parse(s, "x,{\"hex\":\"7\"}", &got), PV_EINPUT);
    pv_buf_free(&text);
    pv_buf_free(&got);
    pv_buf_free(&want);
    pv_schema_free(s);
}

/* A TEXT or BLOB over PV_BLOB_THRESHOLD bytes prints as the reference a
 * chunk holds for it, whether read as one (isref) or decoded. */
static void test_value_text_big(void **state)
{
    char *big = malloc(PV_BLOB_THRESHOLD + 1);
    char hex[65];
    pv_buf b = PV_BUF_INIT, want = PV_BUF_INIT;
    pv_value v;
    (void)state;
    assert_non_null(big);
    memset(big, 'a', PV_BLOB_THRESHOLD + 1);
    pv_sha256_hex(big, PV_BLOB_THRESHOLD + 1, hex);
    assert_int_equal(pv_buf_printf(&want, "{\"sha256\":\"%s\",\"size\":%d}", hex, PV_BLOB_THRESHOLD + 1), PV_OK);
    v = pv_v_text(big, PV_BLOB_THRESHOLD + 1);
    assert_int_equal(pvgit_value_text(&b, &v, 0), PV_OK);
    assert_string_equal(b.p, want.p);
    b.len = 0;
    v = pv_v_blob(big, PV_BLOB_THRESHOLD + 1);
    assert_int_equal(pvgit_value_text(&b, &v, 0), PV_OK);
    assert_string_equal(b.p, want.p);
    b.len = 0; /* at the threshold: in full */
    v = pv_v_text(big, PV_BLOB_THRESHOLD);
    assert_int_equal(pvgit_value_text(&b, &v, 0), PV_OK);
    assert_int_equal(b.len, PV_BLOB_THRESHOLD + 2);
    assert_int_equal(b.p[0], '"');
    pv_buf_free(&b);
    pv_buf_free(&want);
    free(big);
}

static void test_textconv(void **state)
{
    static const char chunk[] = "{\"pv\":1,\"columns\":[\"code\",\"name\",\"n\"]}\n"
                                "[\"SFO\",\"San \\\"Fran\\\"\",1]\n"
                                "{\"delete\":[\"JFK\"]}\n"
                                "{\"delete\":[\"a b\"]}\n"
                                "[\"ORD\",null]\n"
                                "{\"conflict\":{\"key\":[\"X\"],\"base\":null,\"ours\":null,\"theirs\":null}}\n"
                                "{\"pv\":3,\"columns\":[\"code\",\"n\"]}\n"
                                "[\"LAX\",2]\n"
                                "<<<<<<< ours\n";
    static const char schema[] = "{\"table\":\"a\",\"primary_key\":[\"code\"]}\n"
                                 "{\"column\":\"code\",\"type\":\"TEXT\",\"not_null\":true}\n"
                                 "{\"column\":\"nm\",\"type\":\"TEXT\",\"renamed_from\":[\"name\"]}\n"
                                 "{\"dropped_column\":\"old\"}\n";
    pv_buf b = PV_BUF_INIT;
    (void)state;
    assert_int_equal(pvgit_textconv(&b, chunk, sizeof chunk - 1), PV_OK);
    pv_buf_putc(&b, '\0');
    assert_string_equal(b.p, "# chunk columns: code, name, n\n"
                             "code=\"SFO\" name=\"San \\\"Fran\\\"\" n=1\n"
                             "delete JFK\n"
                             "delete \"a b\"\n"
                             "? [\"ORD\",null]\n"
                             "conflict {\"key\":[\"X\"],\"base\":null,\"ours\":null,\"theirs\":null}\n"
                             "# chunk columns from here: code, n\n"
                             "code=\"LAX\" n=2\n"
                             "? <<<<<<< ours\n");
    b.len = 0;
    assert_int_equal(pvgit_textconv(&b, schema, sizeof schema - 1), PV_OK);
    pv_buf_putc(&b, '\0');
    assert_string_equal(b.p, "# schema of table a, primary key (code)\n"
                             "column code TEXT NOT NULL\n"
                             "column nm TEXT (renamed from name)\n"
                             "dropped column old\n");
    pv_buf_free(&b);
}

/* ---- AS OF through the resolver --------------------------------------------------- */

static void rows_of(pv_source *src, char *out, size_t cap)
{
    pv_scan *scan;
    pv_batch b;
    uint32_t cols[3] = {0, 1, 2};
    size_t len = 0;
    int n;
    assert_int_equal(src->ops->scan_open(src, cols, 3, &scan), PV_OK);
    out[0] = '\0';
    while ((n = src->ops->scan_next(scan, &b)) > 0) {
        int r;
        for (r = 0; r < n; r++)
            len += (size_t)snprintf(out + len, cap - len, "%.*s|%.*s|%lld;", (int)b.cols[0].u.s[r].n,
                                    b.cols[0].u.s[r].p, (int)b.cols[1].u.s[r].n, b.cols[1].u.s[r].p,
                                    (long long)b.cols[2].u.i[r]);
    }
    src->ops->scan_close(scan);
}

static void test_as_of(void **state)
{
    pv_db *db;
    pv_source s1, s2, s3;
    char rows[1024];
    (void)state;
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_OK);
    assert_int_equal(pv_db_find_table_at(db, "HEAD~1", "a", 1, &s1), PV_EMISUSE);
    assert_int_equal(pvgit_install_resolver(db, dir), PV_OK);
    assert_int_equal(pv_db_find_table_at(db, "HEAD~1", "a", 1, &s1), PV_OK);
    rows_of(&s1, rows, sizeof rows);
    assert_string_equal(rows, "00M|Thigpen|3;JFK|Kennedy|2;SFO|San Francisco|1;");
    assert_int_equal(pv_db_find_table_at(db, "main", "A", 1, &s2), PV_OK);
    rows_of(&s2, rows, sizeof rows);
    assert_string_equal(rows, "00M|Thigpen|3;ORD|O'Hare|4;SFO|SF Intl|10;");
    /* the same commit by another name is the same cached workspace */
    assert_int_equal(pv_db_find_table_at(db, "HEAD~1", "a", 1, &s3), PV_OK);
    assert_ptr_equal(s3.impl, s1.impl);
    assert_int_equal(pv_db_find_table_at(db, "no-such-rev", "a", 1, &s3), PV_ENOTFOUND);
    assert_non_null(strstr(pv_errmsg(), "unknown revision"));
    assert_int_equal(pv_db_find_table_at(db, "HEAD", "zz", 2, &s3), PV_ENOTFOUND);
    assert_non_null(strstr(pv_errmsg(), "no such table: zz"));
    /* the sources stay valid until pv_close */
    rows_of(&s1, rows, sizeof rows);
    assert_string_equal(rows, "00M|Thigpen|3;JFK|Kennedy|2;SFO|San Francisco|1;");
    pv_close(db);
    /* outside a repository: a clear error, at use */
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_OK);
    assert_int_equal(pvgit_install_resolver(db, "/"), PV_OK);
    assert_int_equal(pv_db_find_table_at(db, "HEAD", "a", 1, &s1), PV_ENOTFOUND);
    assert_non_null(strstr(pv_errmsg(), "not in a git repository"));
    pv_close(db);
}

/* The error of a statement, its message and pv_error_offset(). */
static void check_stmt_error(pv_db *db, const char *sql, int code, int64_t off, const char *msg)
{
    pv_stmt *st = NULL;
    int rc = pv_prepare(db, sql, (size_t)-1, &st, NULL);
    while (rc >= 0 && st && (rc = pv_step(st)) == PV_ROW) {}
    pv_finalize(st);
    if (rc != code) fail_msg("%s: want %d, got %d (%s)", sql, code, rc, pv_errmsg());
    assert_string_equal(pv_errmsg(), msg);
    assert_int_equal(pv_error_offset(), off);
}

/* SQL reading AS OF a revision that git does not know, or at which the
 * table does not exist, or outside a repository: the error points at the
 * revision in the text (it had no position: the resolver knows git, not
 * the statement). */
static void test_as_of_offsets(void **state)
{
    pv_db *db;
    pv_stmt *st;
    (void)state;
    exec_sql("CREATE TABLE b (k INTEGER PRIMARY KEY)");
    commit("three");
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_OK);
    assert_int_equal(pvgit_install_resolver(db, dir), PV_OK);
    check_stmt_error(db, "SELECT n FROM a AS OF 'no-such-rev'", PV_ENOTFOUND, 22,
                     "AS OF 'no-such-rev': unknown revision at offset 22");
    check_stmt_error(db, "SELECT k FROM b AS OF 'HEAD~1' WHERE k > 0", PV_ENOTFOUND, 22,
                     "no such table: b (AS OF 'HEAD~1') at offset 22");
    assert_int_equal(pv_exec(db, "SELECT 1;\nSELECT * FROM zz AS OF 'HEAD'"), PV_ENOTFOUND);
    assert_string_equal(pv_errmsg(), "no such table: zz (AS OF 'HEAD') at offset 33");
    assert_int_equal(pv_error_offset(), 33);
    /* a revision gone between pv_prepare and pv_step: the run's error */
    shell("cd '%s' && git tag old HEAD~1", dir);
    assert_int_equal(pv_prepare(db, "SELECT n FROM a AS OF 'old'", (size_t)-1, &st, NULL), PV_OK);
    shell("cd '%s' && git tag -d old >/dev/null", dir);
    assert_int_equal(pv_step(st), PV_ENOTFOUND);
    assert_string_equal(pv_errmsg(), "AS OF 'old': unknown revision at offset 22");
    assert_int_equal(pv_error_offset(), 22);
    pv_finalize(st);
    pv_close(db);
    /* outside a repository */
    assert_int_equal(pv_open(dir, PV_OPEN_READONLY, &db), PV_OK);
    assert_int_equal(pvgit_install_resolver(db, "/"), PV_OK);
    check_stmt_error(db, "SELECT n FROM a AS OF 'HEAD'", PV_ENOTFOUND, 22,
                     "'/' is not in a git repository at offset 22");
    pv_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_two_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_worktree_and_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_many_chunks, setup, teardown),
        cmocka_unit_test(test_key_parse),
        cmocka_unit_test(test_key_text_parse),
        cmocka_unit_test(test_value_text_big),
        cmocka_unit_test(test_textconv),
        cmocka_unit_test_setup_teardown(test_as_of, setup, teardown),
        cmocka_unit_test_setup_teardown(test_as_of_offsets, setup, teardown),
    };
    git_libgit2_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
