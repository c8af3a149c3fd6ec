/*
 * merge.c: the three-way merge of one table (docs/GIT.md).
 *
 * 1. Find the base, ours and theirs commits (merge_find.c); failing that,
 *    merge the file alone.
 * 2. Load the table on each side; merge the three states by primary key
 *    (rows are in key order on every side: one merge join).
 * 3. Build the merged tree as git will (each file from the side that changed
 *    it; files changed on both sides keep ours' bytes, except the highest
 *    such chunk after theirs compacted: merge_sides.c), replay it, and
 *    append to that highest chunk the records that turn that replay into
 *    the merged state.
 * 4. Replay again with those records: a key still wrong has a record in a
 *    later file only one side wrote; it becomes a conflict, never a silent
 *    loss.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobstore.h"
#include "chunkline.h"
#include "merge.h"
#include "merge_dropped.h"
#include "merge_find.h"
#include "merge_schema.h"
#include "merge_sides.h"
#include "merge_vbase.h"
#include "pvgit.h"
#include "rowdiff.h"
#include "util.h"
#include "vtree.h"

#define FILE_MAX ((size_t)1 << 30)

/* The sides by index, as the job's arrays hold them. */
static const char *const side_name[3] = {"base", "ours", "theirs"};

/* A table as loaded on one side: full key-ordered columns, or empty. */
typedef struct side {
    pv_ws *ws;
    pv_bake_table t;     /* t.nrows 0 and t.cols NULL when absent */
    int has;
} side;

/* The receiving chunk's last header (its first line, or the last
 * continuation header) mapped to the merged schema: records are appended in
 * its column order. */
typedef struct recv_map {
    uint32_t n;          /* header columns */
    int *col;            /* per header position: the schema column, or -1 (a dropped column: null) */
    uint8_t *listed;     /* per schema column: 1 when the header lists it */
    int identity;        /* the header lists exactly the schema's columns, in order */
} recv_map;

typedef struct job {
    git_repository *repo;
    char *prefix, *table, *file;     /* from the path: "<prefix>.pv/tables/<table>/<file>" */
    char *relfile;                   /* "tables/<table>/<file>" */
    char *data[3];                   /* the bytes of %O, %A, %B */
    size_t len[3];
    pvgit_version ver[3];
    pvgit_merge_sides sides;         /* table level: what the commits hold (merge_sides.c) */
    pvgit_dropped dropped;           /* columns one side dropped, as base and the other side hold them */
    pvgit_vtree *vt[3];              /* the sides as virtual trees */
    pvgit_vtree *merged;             /* the merged file set */
    char *hpath;                     /* the driven chunk that gets the records */
    char *pvdir;                     /* "<prefix>.pv" in the work tree */
    side s[3];
    pv_buf out;                      /* records to append */
    recv_map recv;                   /* the receiving chunk's last header */
    pv_buf result;                   /* the receiving chunk's new bytes */
    pvgit_merge_stats *st;
    int in_memory;                   /* objects written go to memory (virtual bases) */
    struct vmemo { git_oid base, x, y, v; } *vmemo; /* virtual merges made so far */
    size_t nvmemo;
} job;

/* ---- the three file versions ---------------------------------------------- */

static int parse_path(job *j, const char *path)
{
    const char *p = strstr(path, ".pv/tables/"), *name, *slash;
    if (!p || (p != path && p[-1] != '/'))
        return pv_err(PV_EINPUT, "'%s' is not a file of a .pv workspace table", path);
    name = p + 11;
    slash = strchr(name, '/');
    if (!slash || strchr(slash + 1, '/') || !pv_table_name_ok(name, (size_t)(slash - name)))
        return pv_err(PV_EINPUT, "'%s' is not a file of a .pv workspace table", path);
    j->prefix = strndup(path, (size_t)(p - path));
    if (asprintf(&j->pvdir, "%.*s.pv", (int)(p - path), path) < 0) j->pvdir = NULL;
    j->table = strndup(name, (size_t)(slash - name));
    j->file = strdup(slash + 1);
    if (!j->prefix || !j->pvdir || !j->table || !j->file ||
        asprintf(&j->relfile, "tables/%s/%s", j->table, j->file) < 0)
        return pv_err(PV_ENOMEM, "out of memory");
    return PV_OK;
}

static int read_versions(job *j, const char *const paths[3])
{
    static const char *const what[3] = {"base, %O", "ours, %A", "theirs, %B"};
    int k, rc;
    for (k = 0; k < 3; k++) {
        if ((rc = pv_read_file(paths[k], FILE_MAX, &j->data[k], &j->len[k]))) return rc;
        /* git hands over an empty file only as %O, for a file both sides
         * added; an empty side would otherwise surface much later as a
         * chunk "with no header" */
        if (k > 0 && j->len[k] == 0)
            return pv_err(PV_EINPUT, "'%s' (%s) is empty: a chunk or schema file always has a first line", paths[k],
                          what[k]);
        /* an empty %O is the missing base of an add/add: chunks and schemas
         * are never empty */
        j->ver[k].present = j->len[k] > 0;
        if (git_odb_hash(&j->ver[k].oid, j->data[k], j->len[k], GIT_OBJECT_BLOB))
            return pvgit_fail(-1, "hashing a file version");
    }
    return PV_OK;
}

/* ---- building the sides -------------------------------------------------- */

/* Is `name` a chunk file name, and which number? */
/* Both sides changed the schema: merged column by column (merge_schema.c).
 * Its conflicts are reported by the invocation for schema.jsonl, which
 * writes the schema with each conflict settled as ours has it; the rows
 * are merged under that same schema. Only when even that cannot be made
 * (a key column dropped) are the rows not merged. */
static int schema_merge(void *ctx, const char *const texts[3], const size_t lens[3], char **out, size_t *outlen)
{
    job *j = ctx;
    pv_buf conflicts = PV_BUF_INIT;
    int rc = pvgit_schema_merge_ours(j->table, texts, lens, out, outlen, &conflicts);
    pv_buf_free(&conflicts);
    if (rc == PV_ECONSTRAINT && *out) rc = PV_OK;
    else if (rc == PV_ECONSTRAINT)
        rc = pv_err(PV_ECONSTRAINT, "table %s: the schema changes conflict (see schema.jsonl); rows not merged, "
                    "ours' chunk kept", j->table);
    return rc;
}

static int write_result(job *j, const char *a_path);

/* schema.jsonl itself: the three versions git hands over are all it takes. */
static int merge_schema_file(job *j, const char *a_path)
{
    const char *texts[3];
    pv_buf conflicts = PV_BUF_INIT;
    char *merged = NULL;
    size_t len = 0;
    int k, rc;
    for (k = 0; k < 3; k++) texts[k] = j->ver[k].present ? j->data[k] : NULL;
    rc = pvgit_schema_merge_ours(j->table, texts, j->len, &merged, &len, &conflicts);
    if (rc == PV_ECONSTRAINT) {
        /* each conflict settled as ours has it (or, failing that, ours'
         * schema as it is); git marks the path conflicted */
        size_t i;
        fprintf(stderr, "%.*s", (int)conflicts.len, conflicts.p ? conflicts.p : "");
        for (i = 0; i < conflicts.len; i++) j->st->schema_conflicts += conflicts.p[i] == '\n';
        j->st->schema_settled = merged != NULL;
        rc = 1;
        if (merged) {
            pv_buf_free(&j->result);
            j->result.p = merged;
            j->result.len = j->result.cap = len;
            merged = NULL;
            if (write_result(j, a_path)) rc = -1;
        }
    } else if (!rc) {
        pv_buf_free(&j->result);
        j->result.p = merged;
        j->result.len = j->result.cap = len;
        merged = NULL;
        rc = write_result(j, a_path);
    }
    free(merged);
    pv_buf_free(&conflicts);
    return rc;
}

/* From the three commits: the sides and the merged set, holding only what
 * can differ (merge_sides.c). */
static int build_table_level(job *j, const pvgit_commits *c, const char *only_if)
{
    int k, rc = pvgit_merge_sides_build(j->repo, c, j->prefix, j->table, only_if, schema_merge, j, &j->sides);
    for (k = 0; k < 3; k++) {
        j->vt[k] = j->sides.vt[k];
        j->sides.vt[k] = NULL;
    }
    j->merged = j->sides.merged;
    j->sides.merged = NULL;
    j->hpath = j->sides.hpath;
    j->sides.hpath = NULL;
    j->st->chunks_read = j->sides.differing;
    j->st->chunks_scanned = j->sides.shared;
    j->st->chunks_from_worktree = j->sides.from_worktree;
    j->st->keys = j->sides.keys;
    if (!rc && !j->hpath && only_if)
        rc = pv_err(PV_ERROR, "%s: git asked to merge it, but no chunk changed on both sides", j->relfile);
    return rc;
}

/* Without the commits: each side is this one file (with ours' schema from
 * the work tree); the merged set is ours' file. Exact when every change to
 * the table is in this file. */
static int build_file_level(job *j)
{
    static const char fmt[] = "picovolt-workspace 1\n";
    char schema_rel[160], schema_path[4400], *schema = NULL;
    size_t slen;
    int k, rc;
    pv_ws_reader blobs; /* blob files: the work tree's store */
    pv_ws_reader_posix(&blobs, j->pvdir);
    snprintf(schema_rel, sizeof schema_rel, "tables/%s/schema.jsonl", j->table);
    snprintf(schema_path, sizeof schema_path, "%s.pv/%s", j->prefix, schema_rel);
    if (pv_chunk_file_number(j->file) == 0)
        return pv_err(PV_ECONSTRAINT, "%s: both sides changed this schema (not merged yet: resolve by hand)", j->relfile);
    if ((rc = pv_read_file(schema_path, FILE_MAX, &schema, &slen))) return rc;
    for (k = 0; k < 3 && !rc; k++) {
        if (!(j->vt[k] = pvgit_vtree_new(side_name[k], &blobs))) rc = pv_err(PV_ENOMEM, "out of memory");
        if (!rc) rc = pvgit_vtree_put(j->vt[k], "format", fmt, sizeof fmt - 1);
        if (!rc) rc = pvgit_vtree_put(j->vt[k], schema_rel, schema, slen);
        if (!rc && j->ver[k].present) rc = pvgit_vtree_put(j->vt[k], j->relfile, j->data[k], j->len[k]);
    }
    if (!rc && !(j->merged = pvgit_vtree_new("merged", &blobs))) rc = pv_err(PV_ENOMEM, "out of memory");
    if (!rc) rc = pvgit_vtree_put(j->merged, "format", fmt, sizeof fmt - 1);
    if (!rc) rc = pvgit_vtree_put(j->merged, schema_rel, schema, slen);
    if (!rc) rc = pvgit_vtree_put(j->merged, j->relfile, j->data[1], j->len[1]);
    if (!rc && !(j->hpath = strdup(j->relfile))) rc = pv_err(PV_ENOMEM, "out of memory");
    free(schema);
    return rc;
}

static int open_side(job *j, int k)
{
    pv_ws_reader r;
    int rc, i;
    if (j->vt[k]) pvgit_vtree_reader(j->vt[k], &r);
    else return PV_OK; /* no base commit with a workspace: an empty side */
    if ((rc = pv_ws_open_reader(&r, &j->s[k].ws))) return rc == PV_ENOTFOUND ? PV_OK : rc;
    i = pv_ws_table_find(j->s[k].ws, j->table, strlen(j->table));
    if (i < 0) return PV_OK;
    if ((rc = pv_ws_table_rows(j->s[k].ws, (uint32_t)i, &j->s[k].t))) return rc;
    j->s[k].has = 1;
    return PV_OK;
}

/* ---- comparing rows ------------------------------------------------------ */

static int same_schema(const pv_schema *a, const pv_schema *b)
{
    uint32_t c;
    if (a->ncols != b->ncols || a->npk != b->npk) return 0;
    for (c = 0; c < a->ncols; c++)
        if (strcmp(a->cols[c].name, b->cols[c].name) || a->cols[c].type != b->cols[c].type) return 0;
    for (c = 0; c < a->npk; c++)
        if (a->pk[c] != b->pk[c]) return 0;
    return 1;
}

/* Row r of a side as values (borrowing its vectors). */
static void get_row(const side *s, uint64_t r, pv_value *out)
{
    uint32_t c;
    for (c = 0; c < s->t.schema->ncols; c++) out[c] = pv_vec_get(&s->t.cols[c], (uint32_t)r);
}

static int key_cmp(const pv_schema *s, const pv_value *a, const pv_value *b)
{
    uint32_t k;
    for (k = 0; k < s->npk; k++) {
        int c = pv_value_cmp(&a[s->pk[k]], &b[s->pk[k]]);
        if (c) return c;
    }
    return 0;
}

static int row_eq(const pv_schema *s, const pv_value *a, const pv_value *b)
{
    uint32_t c;
    if (!a || !b) return a == b;
    for (c = 0; c < s->ncols; c++)
        if (!pv_value_identical(&a[c], &b[c])) return 0;
    return 1;
}

/* ---- the merged state ----------------------------------------------------- */

/* One key where the merged state differs from ours' state. */
typedef struct change {
    pv_value *row;       /* the merged row (arena), or NULL: the key is absent */
    pv_value *key;       /* the row or the key holder (arena) */
    int conflict;
    pv_value *side[3];   /* conflict: base, ours, theirs rows (arena) or NULL */
} change;

typedef struct changes {
    change *v;
    size_t n, cap;
    pv_arena a;
} changes;

static pv_value *copy_row(pv_arena *a, const pv_schema *s, const pv_value *row)
{
    pv_value *r;
    if (!row) return NULL;
    if (!(r = pv_arena_alloc(a, s->ncols * sizeof *r))) return NULL;
    memcpy(r, row, s->ncols * sizeof *r); /* strings stay in the sides' vectors */
    return r;
}

static int add_change(changes *cs, const pv_schema *s, const pv_value *row, const pv_value *key, int conflict,
                      const pv_value *const side3[3])
{
    change *c;
    int k;
    if (cs->n == cs->cap) {
        change *g = realloc(cs->v, (cs->cap = cs->cap ? cs->cap * 2 : 64) * sizeof *g);
        if (!g) return pv_err(PV_ENOMEM, "out of memory");
        cs->v = g;
    }
    c = &cs->v[cs->n++];
    memset(c, 0, sizeof *c);
    c->row = copy_row(&cs->a, s, row);
    c->key = copy_row(&cs->a, s, key);
    c->conflict = conflict;
    if ((row && !c->row) || !c->key) return pv_err(PV_ENOMEM, "out of memory");
    /* the sides, for a conflict now or one found when placing the record */
    for (k = 0; k < 3; k++) {
        c->side[k] = copy_row(&cs->a, s, side3[k]);
        if (side3[k] && !c->side[k]) return pv_err(PV_ENOMEM, "out of memory");
    }
    return PV_OK;
}

/* Did a side change this key's cell of a column the other side dropped?
 * Says so on stderr. */
static int dropped_edit(job *j, const pv_schema *s, const pv_value *key)
{
    pv_value parts[PV_MAX_COLUMNS];
    pv_buf text = PV_BUF_INIT;
    uint32_t p;
    int keeper, c = pvgit_dropped_changed(&j->dropped, s, key, &keeper);
    if (c < 0) return 0;
    for (p = 0; p < s->npk; p++) parts[p] = key[s->pk[p]];
    if (pvgit_key_text(&text, parts, s->npk)) text.len = 0;
    fprintf(stderr, "pvdev merge-driver: table %s, column %s, key %.*s: changed on %s, dropped on %s: recorded as a "
            "conflict (the merged schema has no place for the value)\n", j->table, j->dropped.wide->cols[c].name,
            (int)text.len, text.p ? text.p : "", side_name[keeper], side_name[3 - keeper]);
    pv_buf_free(&text);
    return 1;
}

/* Merge one key: b, o, t are its rows on each side (NULL: absent). */
static int merge_key(job *j, const pv_schema *s, const pv_value *b, const pv_value *o, const pv_value *t,
                     changes *cs)
{
    const pv_value *key = o ? o : t ? t : b;
    const pv_value *sides[3] = {b, o, t};
    uint32_t c;
    /* a value of a side that does not convert to the settled column type
     * (merge_retype.c): the row is a conflict, whatever else */
    if (j->sides.retype.cells && pvgit_retype_has(&j->sides.retype, s, key)) {
        j->st->conflicts++;
        return add_change(cs, s, o, key, 1, sides);
    }
    /* a cell of a column one side dropped, changed on the other: the
     * merged schema has no place for the value (merge_dropped.c) */
    if (j->dropped.n && dropped_edit(j, s, key)) {
        j->st->conflicts++;
        return add_change(cs, s, o, key, 1, sides);
    }
    if (row_eq(s, t, b) || row_eq(s, o, t)) return PV_OK; /* theirs changed nothing, or the same */
    if (row_eq(s, o, b)) {
        j->st->from_theirs++;
        return add_change(cs, s, t, key, 0, sides);
    }
    if (b && o && t) { /* both changed the row: cell by cell */
        pv_value row[PV_MAX_COLUMNS];
        for (c = 0; c < s->ncols; c++) {
            if (pv_value_identical(&o[c], &b[c])) row[c] = t[c];
            else if (pv_value_identical(&t[c], &b[c]) || pv_value_identical(&o[c], &t[c])) row[c] = o[c];
            else break;
        }
        if (c == s->ncols) {
            j->st->cell_merged++;
            return add_change(cs, s, row, key, 0, sides);
        }
    }
    /* delete/update, insert/insert, or the same cell: a conflict; ours stays */
    j->st->conflicts++;
    return add_change(cs, s, o, key, 1, sides);
}

/* One merge join over the three key-ordered sides. */
static int merge_states(job *j, const pv_schema *s, changes *cs)
{
    uint64_t pos[3] = {0, 0, 0};
    int rc = PV_OK;
    for (;;) {
        pv_value rows[3][PV_MAX_COLUMNS];
        const pv_value *cur[3] = {NULL, NULL, NULL}, *min = NULL;
        int k;
        for (k = 0; k < 3; k++)
            if (j->s[k].has && pos[k] < j->s[k].t.nrows) {
                get_row(&j->s[k], pos[k], rows[k]);
                if (!min || key_cmp(s, rows[k], min) < 0) min = rows[k];
            }
        if (!min) break;
        for (k = 0; k < 3; k++)
            if (j->s[k].has && pos[k] < j->s[k].t.nrows && key_cmp(s, rows[k], min) == 0) {
                cur[k] = rows[k];
                pos[k]++;
            }
        if ((rc = merge_key(j, s, cur[0], cur[1], cur[2], cs))) break;
    }
    return rc;
}

/* ---- records that turn the merged tree's replay into the merged state ----- */

#define NEED_CONT 2   /* a record cannot be written under the last header */

static int map_receiving(const pv_schema *s, const char *chunk, size_t len, recv_map *m)
{
    pv_arena a = PV_ARENA_INIT;
    pv_chunk_rec h;
    size_t hlen;
    const char *last = pv_chunk_last_header(chunk, len, &hlen);
    uint32_t i;
    int rc;
    memset(m, 0, sizeof *m);
    if (!last || !memchr(chunk, '\n', len)) return PV_CORRUPT("the receiving chunk has no header");
    m->identity = pv_chunk_header_is(last, hlen, s);
    if (m->identity) return PV_OK;
    rc = pv_chunk_decode(last, hlen, NULL, 0, NULL, 0, &a, &h);
    if (!rc && h.kind != PV_REC_HEADER) rc = PV_CORRUPT("the receiving chunk's last header does not read");
    if (!rc && (!(m->col = calloc(h.nvals + 1, sizeof *m->col)) || !(m->listed = calloc(s->ncols + 1, 1))))
        rc = pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; !rc && i < h.nvals; i++) {
        int c = pv_schema_find_history(s, h.names[i], strlen(h.names[i]));
        m->col[i] = c >= 0 ? c : -1;
        if (c >= 0) m->listed[c] = 1;
    }
    m->n = rc ? 0 : h.nvals;
    pv_arena_free(&a);
    return rc;
}

static void recv_map_free(recv_map *m)
{
    free(m->col);
    free(m->listed);
    memset(m, 0, sizeof *m);
}

/* A row of the merged schema in the header's column order: 0, or
 * NEED_CONT when a column the header lacks holds a value other than what
 * such a chunk reads for it (the default, or NULL). */
static int project(const job *j, const pv_schema *s, const pv_value *row, pv_value *out)
{
    const recv_map *m = &j->recv;
    uint32_t c;
    if (m->identity) {
        memcpy(out, row, s->ncols * sizeof *out);
        return 0;
    }
    for (c = 0; c < s->ncols; c++) {
        pv_value absent;
        absent.type = PV_NULL;
        if (s->cols[c].dflt) absent = *s->cols[c].dflt;
        if (!m->listed[c] && !pv_value_identical(&row[c], &absent)) return NEED_CONT;
    }
    for (c = 0; c < m->n; c++) {
        if (m->col[c] >= 0) out[c] = row[m->col[c]];
        else out[c].type = PV_NULL;
    }
    return 0;
}

/* The schema as the encoder sees it: the header's column count. */
static pv_schema header_shape(const job *j, const pv_schema *s)
{
    pv_schema hs = *s;
    if (!j->recv.identity) hs.ncols = j->recv.n;
    return hs;
}

static int encode_fixup(job *j, const pv_schema *s, const pv_value *row, const pv_value *key, pv_buf *out)
{
    pv_blobref refs[PV_MAX_COLUMNS];
    pv_value hrow[PV_MAX_COLUMNS];
    pv_schema hs = header_shape(j, s);
    uint32_t c;
    int any = 0, rc;
    if (!row) {
        pv_value kv[PV_MAX_COLUMNS];
        for (c = 0; c < s->npk; c++) kv[c] = key[s->pk[c]];
        return pv_chunk_encode_delete(out, s, kv);
    }
    if ((rc = project(j, s, row, hrow))) return rc;
    /* values over the threshold are written as references, as a writer
     * would: their blob files come with the side that brought them */
    for (c = 0; c < hs.ncols; c++) {
        refs[c].present = 0;
        if (pv_blob_by_ref(&hrow[c])) {
            pv_blobref_of(hrow[c].u.s.p, hrow[c].u.s.n, &refs[c]);
            any = 1;
        }
    }
    return pv_chunk_encode_row(out, &hs, hrow, any ? refs : NULL);
}

static int encode_conflict(job *j, const pv_schema *s, const change *c, pv_buf *out)
{
    pv_value kv[PV_MAX_COLUMNS], *rows[3] = {NULL, NULL, NULL};
    pv_schema hs = header_shape(j, s);
    uint32_t k;
    int i, rc = PV_OK;
    for (k = 0; k < s->npk; k++) kv[k] = c->key[s->pk[k]];
    for (i = 0; i < 3 && !rc; i++) {
        if (!c->side[i]) continue;
        if (!(rows[i] = malloc((hs.ncols + 1) * sizeof *rows[i]))) rc = pv_err(PV_ENOMEM, "out of memory");
        else rc = project(j, s, c->side[i], rows[i]);
    }
    if (!rc) rc = pv_chunk_encode_conflict(out, &hs, kv, (const pv_value *const *)rows);
    for (i = 0; i < 3; i++) free(rows[i]);
    return rc;
}

/* Replay a file set and load the table. */
static int replay(job *j, pvgit_vtree *vt, side *out)
{
    pv_ws_reader r;
    int rc, i;
    pvgit_vtree_reader(vt, &r);
    memset(out, 0, sizeof *out);
    if ((rc = pv_ws_open_reader(&r, &out->ws))) return rc;
    i = pv_ws_table_find(out->ws, j->table, strlen(j->table));
    if (i < 0) return PV_OK;
    if ((rc = pv_ws_table_rows(out->ws, (uint32_t)i, &out->t))) return rc;
    out->has = 1;
    return PV_OK;
}

/* Compare a replay with the merged state (ours' rows plus the changes);
 * call `fix` for each key where they differ. */
typedef int (*fix_fn)(job *j, const pv_schema *s, const pv_value *want, const pv_value *key, const change *c);

static int compare(job *j, const pv_schema *s, const side *r, const changes *cs, fix_fn fix)
{
    uint64_t pr = 0, po = 0;
    size_t pc = 0;
    const side *o = &j->s[1];
    int rc = PV_OK;
    for (;;) {
        pv_value rr[PV_MAX_COLUMNS], orow[PV_MAX_COLUMNS];
        const pv_value *cand[3] = {NULL, NULL, NULL}, *min = NULL, *want, *got = NULL;
        const change *ch = NULL;
        int k;
        if (r->has && pr < r->t.nrows) get_row(r, pr, rr), cand[0] = rr;
        if (o->has && po < o->t.nrows) get_row(o, po, orow), cand[1] = orow;
        if (pc < cs->n) cand[2] = cs->v[pc].key;
        for (k = 0; k < 3; k++)
            if (cand[k] && (!min || key_cmp(s, cand[k], min) < 0)) min = cand[k];
        if (!min) break;
        if (cand[0] && key_cmp(s, cand[0], min) == 0) got = rr, pr++;
        want = NULL;
        if (cand[1] && key_cmp(s, cand[1], min) == 0) want = orow, po++;
        if (cand[2] && key_cmp(s, cand[2], min) == 0) ch = &cs->v[pc++], want = ch->row;
        if (!row_eq(s, got, want) && (rc = fix(j, s, want, min, ch))) break;
    }
    return rc;
}

static int fix_append(job *j, const pv_schema *s, const pv_value *want, const pv_value *key, const change *c)
{
    (void)c;
    j->st->fixups++;
    return encode_fixup(j, s, want, key, &j->out);
}

/* After the records: a key still wrong has a record in a later chunk that
 * only one side wrote. Say so with a conflict record. */
static int fix_unplaceable(job *j, const pv_schema *s, const pv_value *want, const pv_value *key, const change *c)
{
    pv_value kv[PV_MAX_COLUMNS];
    pv_buf kt = PV_BUF_INIT;
    change tmp;
    uint32_t k;
    for (k = 0; k < s->npk; k++) kv[k] = key[s->pk[k]];
    if (pvgit_key_text(&kt, kv, s->npk)) kt.len = 0;
    fprintf(stderr, "pvdev merge-driver: table %s, key %.*s: a row edited on both sides lives in a later chunk; %s\n",
            j->table, (int)kt.len, kt.p ? kt.p : "", c && c->conflict ? "its conflict stands" : "recorded as a conflict");
    pv_buf_free(&kt);
    /* a conflict of the merge is recorded already (place_records) */
    if (c && c->conflict) return PV_OK;
    memset(&tmp, 0, sizeof tmp);
    tmp.key = (pv_value *)key;
    tmp.side[PV_SIDE_OURS] = (pv_value *)want; /* a key theirs did not change: ours' row */
    if (c) tmp = *c;
    j->st->conflicts++;
    return encode_conflict(j, s, &tmp, &j->out);
}

/* The receiving chunk's new bytes: ours' (the merged set's version of it
 * before the records), with `cont` a continuation header listing the
 * merged schema's columns, then the records. */
static int receiving_content(job *j, const pv_schema *s, const char *ours, size_t len, int cont, pv_buf *content)
{
    int rc;
    content->len = 0;
    rc = pv_buf_append(content, ours, len);
    if (!rc && cont) rc = pv_chunk_encode_header_cont(content, s);
    if (!rc) rc = pv_buf_append(content, j->out.p ? j->out.p : "", j->out.len);
    return rc;
}

/* Place the merged state's records in the receiving chunk, appended to
 * ours' bytes under its last header, or with `cont` under a continuation
 * header listing the merged schema's columns; NEED_CONT when the last
 * header cannot express a record (theirs added a column it lacks). */
static int place_records(job *j, const pv_schema *s, const changes *cs, int cont)
{
    side r = {NULL, {NULL, 0, NULL}, 0}, r2 = {NULL, {NULL, 0, NULL}, 0};
    pv_buf content = PV_BUF_INIT, ours = PV_BUF_INIT;
    size_t i, conflicts = j->st->conflicts, placed, len;
    const char *was;
    int rc = PV_OK;
    j->out.len = 0;
    j->st->fixups = 0;
    recv_map_free(&j->recv);
    /* (a copy: the merged set's file is replaced below) */
    if (!(was = pvgit_vtree_get(j->merged, j->hpath, &len)))
        rc = pv_err(PV_ERROR, "%s missing from the merged set", j->hpath);
    else rc = pv_buf_append(&ours, was, len);
    if (!rc && cont) {
        j->recv.identity = 1;
        rc = receiving_content(j, s, ours.p, ours.len, 1, &content); /* the header alone */
        if (!rc) rc = pvgit_vtree_put(j->merged, j->hpath, content.p, content.len);
    } else if (!rc) {
        rc = map_receiving(s, ours.p, ours.len, &j->recv);
        if (rc) pv_err_prefix("%s", j->hpath);
    }
    /* records that turn the merged tree's replay into the merged state */
    if (!rc) rc = replay(j, j->merged, &r);
    if (!rc) rc = compare(j, s, &r, cs, fix_append);
    /* conflicts are recorded after them; they change no row */
    for (i = 0; i < cs->n && !rc; i++)
        if (cs->v[i].conflict) rc = encode_conflict(j, s, &cs->v[i], &j->out);
    /* check: replay with the records; what is still wrong cannot be placed */
    if (!rc) rc = receiving_content(j, s, ours.p, ours.len, cont, &content);
    if (!rc) rc = pvgit_vtree_put(j->merged, j->hpath, content.p, content.len);
    if (!rc) rc = replay(j, j->merged, &r2);
    placed = j->out.len;
    if (!rc) rc = compare(j, s, &r2, cs, fix_unplaceable);
    /* the result: the checked bytes, then those conflicts */
    j->result.len = 0;
    if (!rc) rc = pv_buf_append(&j->result, content.p, content.len);
    /* out.p is NULL when no record was written: no pointer arithmetic on it
     * (UB that clang's UBSan reports: found by fuzz_merge) */
    if (!rc && j->out.len > placed) rc = pv_buf_append(&j->result, j->out.p + placed, j->out.len - placed);
    if (rc == NEED_CONT) {
        j->st->conflicts = conflicts;
        /* back to ours' bytes for the second try */
        if (pvgit_vtree_put(j->merged, j->hpath, ours.p, ours.len)) rc = PV_ENOMEM;
    }
    pv_ws_close(r.ws);
    pv_ws_close(r2.ws);
    pv_buf_free(&content);
    pv_buf_free(&ours);
    return rc;
}

static int merge_table(job *j)
{
    const pv_schema *s = NULL;
    changes cs = {NULL, 0, 0, PV_ARENA_INIT};
    int k, rc = pvgit_dropped_open(&j->dropped, j->table, j->sides.tree, j->vt);
    for (k = 0; k < 3 && !rc; k++) rc = open_side(j, k);
    /* every side is read with the merged schema (merge_sides.c) */
    for (k = 0; k < 3 && !rc; k++) {
        if (!j->s[k].has) continue;
        if (!s) s = j->s[k].t.schema;
        else if (!same_schema(s, j->s[k].t.schema))
            rc = pv_err(PV_ECONSTRAINT, "table %s: the sides have different columns (not merged yet: resolve by hand)",
                        j->table);
    }
    if (!rc && !s) rc = pv_err(PV_ERROR, "table %s exists on no side", j->table);
    if (!rc) rc = merge_states(j, s, &cs);
    if (!rc) rc = place_records(j, s, &cs, 0);
    if (rc == NEED_CONT) {
        /* a record holds a column ours' last chunk header lacks (both sides
         * added columns): the records come after a continuation header
         * listing the merged schema's columns */
        j->st->continued = 1;
        rc = place_records(j, s, &cs, 1);
    }
    free(cs.v);
    pv_arena_free(&cs.a);
    return rc;
}

/* ---- the driver ---------------------------------------------------------- */

static int write_result(job *j, const char *a_path)
{
    char tmp[4400];
    FILE *f;
    int ok;
    snprintf(tmp, sizeof tmp, "%s.pv-merge", a_path);
    if (!(f = fopen(tmp, "wb"))) return pv_err_errno("cannot write '%s'", tmp);
    ok = fwrite(j->result.p, 1, j->result.len, f) == j->result.len;
    if (fclose(f) != 0) ok = 0;
    if (!ok || rename(tmp, a_path) != 0) {
        remove(tmp);
        return pv_err_errno("cannot write '%s'", a_path);
    }
    return PV_OK;
}

static void job_free(job *j)
{
    int k;
    pvgit_dropped_free(&j->dropped); /* before the trees it read */
    for (k = 0; k < 3; k++) {
        pv_ws_close(j->s[k].ws);
        pvgit_vtree_free(j->vt[k]);
        free(j->data[k]);
    }
    pvgit_vtree_free(j->merged);
    pvgit_merge_sides_free(&j->sides); /* after the trees that read blob files through it */
    pv_buf_free(&j->out);
    pv_buf_free(&j->result);
    recv_map_free(&j->recv);
    free(j->prefix);
    free(j->pvdir);
    free(j->table);
    free(j->file);
    free(j->relfile);
    free(j->hpath);
    free(j->vmemo);
    git_repository_free(j->repo);
}

int pvgit_merge_table_at(git_repository *repo, const pvgit_commits *c, const char *prefix, const char *table,
                         char **hpath, char **bytes, size_t *len)
{
    pvgit_merge_stats st;
    job j;
    int rc;
    memset(&j, 0, sizeof j);
    memset(&st, 0, sizeof st);
    *hpath = *bytes = NULL;
    *len = 0;
    j.st = &st;
    j.repo = repo;
    if (!(j.prefix = strdup(prefix)) || !(j.table = strdup(table))) rc = pv_err(PV_ENOMEM, "out of memory");
    else rc = build_table_level(&j, c, NULL);
    if (!rc && j.hpath) rc = merge_table(&j);
    if (!rc && j.hpath) {
        *hpath = j.hpath;
        *bytes = j.result.p;
        *len = j.result.len;
        j.hpath = NULL;
        memset(&j.result, 0, sizeof j.result);
    }
    j.repo = NULL; /* the caller's */
    job_free(&j);
    return rc;
}

/* Criss-cross merges: one inner merge git made for the virtual base, of x
 * and y over `base` (merge_vbase.c), as a commit in memory; each made once
 * per run (the search asks for the same ones again). */
static int virtual_base(void *ctx, const git_oid *base, const git_oid *x, const git_oid *y, git_oid *out)
{
    job *j = ctx;
    struct vmemo *m;
    size_t i;
    int rc;
    for (i = 0; i < j->nvmemo; i++)
        if (git_oid_equal(&j->vmemo[i].base, base) && git_oid_equal(&j->vmemo[i].x, x) && git_oid_equal(&j->vmemo[i].y, y)) {
            git_oid_cpy(out, &j->vmemo[i].v);
            return PV_OK;
        }
    if (!j->in_memory && (rc = pvgit_objects_in_memory(j->repo))) return rc;
    j->in_memory = 1;
    if ((rc = pvgit_vbase_make(j->repo, j->prefix, j->table, base, x, y, out))) return rc;
    if (!(m = realloc(j->vmemo, (j->nvmemo + 1) * sizeof *m))) return PV_OK; /* only a cache */
    j->vmemo = m;
    m += j->nvmemo++;
    git_oid_cpy(&m->base, base);
    git_oid_cpy(&m->x, x);
    git_oid_cpy(&m->y, y);
    git_oid_cpy(&m->v, out);
    return PV_OK;
}

/* 1 with the commits being merged, 0 when they cannot be found. */
static int table_level(job *j, const char *path, pvgit_commits *c)
{
    git_libgit2_init();
    if (git_repository_open_ext(&j->repo, ".", 0, NULL)) return 0;
    return pvgit_find_merge(j->repo, path, &j->ver[0], &j->ver[1], &j->ver[2], virtual_base, j, c);
}

/* No commit hinted at, and two readings fit (pvgit_commits.ambiguous):
 * HEAD merging a ref tip, or HEAD picking a commit below it over its
 * parent. Merged both ways: the same bytes are right whichever git is
 * doing; different bytes are a conflict naming the table (the pick's
 * result is written: a cherry-pick is what exposes no commit). */
static int ambiguous_merge(job *j, const pvgit_commits *c, const char *a_path)
{
    pvgit_commits pc;
    char *hpath = NULL, *bytes = NULL, tip[GIT_OID_HEXSZ + 1], pick[GIT_OID_HEXSZ + 1];
    const char *r1, *r2;
    size_t n1, n2, len = 0;
    int rc = PV_OK;
    if (!strcmp(j->hpath, j->relfile) && (rc = merge_table(j))) return rc;
    memset(&pc, 0, sizeof pc);
    git_oid_cpy(&pc.base, &c->pick_base);
    git_oid_cpy(&pc.ours, &c->ours);
    git_oid_cpy(&pc.theirs, &c->pick);
    if ((rc = pvgit_merge_table_at(j->repo, &pc, j->prefix, j->table, &hpath, &bytes, &len)) &&
        rc != PV_ECONSTRAINT)
        return rc;
    r1 = strcmp(j->hpath, j->relfile) ? j->data[1] : j->result.p;
    n1 = strcmp(j->hpath, j->relfile) ? j->len[1] : j->result.len;
    r2 = !rc && hpath && !strcmp(hpath, j->relfile) ? bytes : j->data[1];
    n2 = !rc && hpath && !strcmp(hpath, j->relfile) ? len : j->len[1];
    if (!rc && n1 == n2 && (n1 == 0 || memcmp(r1, r2, n1) == 0)) {
        rc = strcmp(j->hpath, j->relfile) ? PV_OK : write_result(j, a_path);
        if (!rc && !strcmp(j->hpath, j->relfile)) rc = j->st->conflicts ? 1 : 0;
    } else {
        git_oid_tostr(tip, sizeof tip, &c->theirs);
        git_oid_tostr(pick, sizeof pick, &c->pick);
        fprintf(stderr, "pvdev merge-driver: table %s: CONFLICT: git names no commit for this merge, and two fit: "
                "merging %.12s (a ref tip) or picking %.12s (a cherry-pick), which give the table different rows; "
                "%s is written as the pick gives it: check the rows, then git add\n",
                j->table, tip, pick, j->relfile);
        j->st->ambiguous = 1;
        pv_buf_free(&j->result);
        rc = pv_buf_append(&j->result, r2, n2);
        if (!rc) rc = write_result(j, a_path);
        if (!rc) rc = 1;
    }
    free(hpath);
    free(bytes);
    return rc;
}

int pvgit_merge_file(const char *o_path, const char *a_path, const char *b_path, const char *path,
                     pvgit_merge_stats *st)
{
    const char *paths[3] = {o_path, a_path, b_path};
    pvgit_commits c;
    job j;
    int rc, level;
    memset(&j, 0, sizeof j);
    memset(st, 0, sizeof *st);
    j.st = st;
    if ((rc = parse_path(&j, path)) || (rc = read_versions(&j, paths))) goto done;
    if (!strcmp(j.file, "schema.jsonl")) {
        rc = merge_schema_file(&j, a_path);
        goto done;
    }
    memset(&c, 0, sizeof c);
    level = table_level(&j, path, &c);
    st->table_level = level;
    st->unbuilt_bases = level ? 0 : c.unbuilt_bases;
    if (!level && c.unbuilt_bases)
        fprintf(stderr, "pvdev merge-driver: table %s: CONFLICT: a criss-cross merge: git merged the %zu merge bases "
                "into a virtual base this driver could not rebuild, so it cannot tell what each side changed in the "
                "table's other chunks; %s is merged alone (changes to the table in other chunks may be missing or "
                "undone): check the rows (pvdev diff HEAD MERGE_HEAD %s), then git add\n",
                j.table, c.unbuilt_bases, path, j.table);
    else if (!level)
        fprintf(stderr, "pvdev merge-driver: %s: could not find the commits being merged; merging this file alone\n",
                path);
    rc = level ? build_table_level(&j, &c, j.relfile) : build_file_level(&j);
    if (!rc && level && c.ambiguous) {
        rc = ambiguous_merge(&j, &c, a_path);
        goto done;
    }
    /* Only the receiving chunk's output changes, and its invocation merges
     * (and reports the conflicts of) the whole table: the others keep ours'
     * bytes without loading a row. */
    if (!rc && strcmp(j.hpath, j.relfile) != 0) goto done;
    if (!rc) rc = merge_table(&j);
    if (!rc) rc = write_result(&j, a_path);
    if (!rc) rc = st->conflicts || st->unbuilt_bases ? 1 : 0;
done:
    job_free(&j);
    return rc;
}
