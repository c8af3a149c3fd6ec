/*
 * rowdiff.c: comparing two states of a workspace by primary key, chunk by
 * chunk (rowdiff.h; the argument is in docs/GIT.md, "diff").
 *
 * For a table on both sides, chunk number k is *identical* when both sides
 * have it with the same bytes; every other chunk (one side only, or
 * different bytes) is *differing*. The differing chunks are decoded whole;
 * the keys they mention are the only ones whose state can differ. Each such
 * key's state on a side is its last record there: the later of its last
 * record in that side's differing chunks and its last record in the
 * identical chunks, which are scanned newest first, with a cheap key
 * extraction per line, only until every key that needs it is found.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xxhash.h>

#include "blobstore.h"
#include "chunkline.h"
#include "pvgit.h"
#include "rowdiff.h"
#include "schema_file.h"
#include "wtindex.h"

#define SIDE_EMPTY 0
#define SIDE_TREE  1
#define SIDE_WORK  2

/* A chunk file bigger than this is not something pvdev wrote. */
#define CHUNK_MAX ((size_t)1 << 30)
#define SCHEMA_MAX ((size_t)16 << 20)

struct pvgit_side {
    int kind;
    char label[128];
    git_repository *repo;    /* borrowed; NULL for SIDE_EMPTY */
    git_tree *pv;            /* SIDE_TREE: the .pv tree */
    /* The work tree's .pv (SIDE_WORK; SIDE_TREE of a repository with a
     * work tree too: its clean files stand in for blobs), its path from
     * the top of the work tree, and the index (may be NULL). */
    char *pvdir;
    char *relpv;
    git_index *index;
    struct timespec index_mtime;
};

/* ---- sides ----------------------------------------------------------------- */

static int side_new(pvgit_side **out, int kind, const char *label)
{
    if (!(*out = calloc(1, sizeof **out))) return pv_err(PV_ENOMEM, "out of memory");
    (*out)->kind = kind;
    snprintf((*out)->label, sizeof (*out)->label, "%s", label);
    return PV_OK;
}

int pvgit_side_empty(pvgit_side **out, const char *label)
{
    return side_new(out, SIDE_EMPTY, label);
}

/* Load the index of the side's repository, and the work tree paths
 * (`workdir` NULL: keep s->pvdir). Without them chunks are read from git
 * and work tree files hashed: slower, never wrong. */
static void attach_index(pvgit_side *s, const char *workdir, const char *prefix)
{
    struct stat st;
    git_repository *repo = s->repo;
    if (workdir && asprintf(&s->pvdir, "%s%s.pv", workdir, prefix) < 0) s->pvdir = NULL;
    if (asprintf(&s->relpv, "%s.pv/", prefix) < 0) s->relpv = NULL;
    if (!s->pvdir || !s->relpv || !repo || git_repository_index(&s->index, repo) != 0) return;
    if (!git_index_path(s->index) || stat(git_index_path(s->index), &st) != 0) {
        git_index_free(s->index);
        s->index = NULL;
        return;
    }
    s->index_mtime = st.st_mtim;
}

static int side_from_commit(pvgit_side **out, git_repository *repo, const char *prefix,
                            git_commit *commit, const char *label)
{
    git_tree *pv = NULL;
    int rc = pvgit_commit_pv_tree(repo, commit, prefix, label, &pv);
    if (rc == PV_ENOTFOUND) return side_new(out, SIDE_EMPTY, label); /* no workspace then: no tables */
    if (rc) return rc;
    if ((rc = side_new(out, SIDE_TREE, label))) {
        git_tree_free(pv);
        return rc;
    }
    (*out)->repo = repo;
    (*out)->pv = pv;
    if (git_repository_workdir(repo)) attach_index(*out, git_repository_workdir(repo), prefix);
    return PV_OK;
}

int pvgit_side_rev(pvgit_side **out, git_repository *repo, const char *prefix, const char *rev)
{
    git_object *obj = NULL;
    git_commit *commit = NULL;
    int rc = git_revparse_single(&obj, repo, rev);
    *out = NULL;
    if (rc == GIT_ENOTFOUND || rc == GIT_EINVALIDSPEC || rc == GIT_EAMBIGUOUS)
        return pv_err(PV_ENOTFOUND, "unknown revision '%s'", rev);
    if (rc) return pvgit_fail(rc, rev);
    rc = git_object_peel((git_object **)&commit, obj, GIT_OBJECT_COMMIT);
    git_object_free(obj);
    if (rc) return pvgit_fail(rc, rev);
    rc = side_from_commit(out, repo, prefix, commit, rev);
    git_commit_free(commit);
    return rc;
}

int pvgit_side_commit(pvgit_side **out, git_repository *repo, const char *prefix, const git_oid *id)
{
    git_commit *commit = NULL;
    char label[16];
    int rc = git_commit_lookup(&commit, repo, id);
    *out = NULL;
    git_oid_tostr(label, 8, id);
    if (rc) return pvgit_fail(rc, label);
    rc = side_from_commit(out, repo, prefix, commit, label);
    git_commit_free(commit);
    return rc;
}

int pvgit_side_worktree(pvgit_side **out, git_repository *repo, const char *dir)
{
    pvgit_side *s;
    struct stat st;
    int rc;
    *out = NULL;
    if ((rc = side_new(&s, SIDE_WORK, "worktree"))) return rc;
    if (asprintf(&s->pvdir, "%s/.pv", dir) < 0) {
        s->pvdir = NULL;
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto fail;
    }
    if (stat(s->pvdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        rc = pv_err(PV_ENOTFOUND, "no workspace in '%s' (run 'pvdev init')", dir);
        goto fail;
    }
    if (repo && git_repository_workdir(repo)) {
        char *prefix = NULL;
        git_repository *tmp = NULL;
        s->repo = repo;
        /* the path of .pv inside the work tree, for index lookups */
        if (pvgit_repo_open(dir, &tmp, &prefix) == PV_OK) {
            attach_index(s, NULL, prefix);
            free(prefix);
            git_repository_free(tmp);
        }
    }
    *out = s;
    return PV_OK;
fail:
    pvgit_side_free(s);
    return rc;
}

void pvgit_side_free(pvgit_side *s)
{
    if (!s) return;
    git_tree_free(s->pv);
    git_index_free(s->index);
    free(s->pvdir);
    free(s->relpv);
    free(s);
}

const char *pvgit_side_label(const pvgit_side *s) { return s->label; }

/* ---- one table on one side --------------------------------------------------- */

typedef struct chunkinfo {
    uint32_t num;
    char name[16];           /* "00000001.jsonl" */
    git_oid id;              /* the blob (SIDE_TREE), or once known (SIDE_WORK) */
    int have_id;
} chunkinfo;

typedef struct tside {
    pvgit_side *side;
    int present;
    char name[PV_MAX_TABLE_NAME + 1];  /* as this side spells it */
    git_tree *tree;          /* SIDE_TREE: tables/<name> */
    pv_schema *schema;
    char *schema_text;
    size_t schema_len;
    chunkinfo *chunks;       /* by number */
    size_t nchunks;
} tside;

static void tside_free(tside *t)
{
    git_tree_free(t->tree);
    pv_schema_free(t->schema);
    free(t->schema_text);
    free(t->chunks);
    memset(t, 0, sizeof *t);
}

static int cmp_chunk(const void *a, const void *b)
{
    const chunkinfo *x = a, *y = b;
    return x->num < y->num ? -1 : x->num > y->num;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Table names of a side, sorted bytewise. */
static int side_tables(pvgit_side *s, char ***out, size_t *n)
{
    size_t cap = 16;
    char **names = malloc(cap * sizeof *names);
    *out = NULL;
    *n = 0;
    if (!names) return pv_err(PV_ENOMEM, "out of memory");
    if (s->kind == SIDE_TREE) {
        git_tree_entry *e = NULL;
        git_tree *tt = NULL;
        size_t i;
        if (git_tree_entry_bypath(&e, s->pv, "tables") == 0 && git_tree_entry_type(e) == GIT_OBJECT_TREE &&
            git_tree_lookup(&tt, s->repo, git_tree_entry_id(e)) == 0) {
            for (i = 0; i < git_tree_entrycount(tt); i++) {
                const git_tree_entry *c = git_tree_entry_byindex(tt, i);
                const char *nm = git_tree_entry_name(c);
                if (git_tree_entry_type(c) != GIT_OBJECT_TREE || !pv_table_name_ok(nm, strlen(nm))) continue;
                if (*n == cap) {
                    char **b = realloc(names, (cap *= 2) * sizeof *names);
                    if (!b) goto nomem_tree;
                    names = b;
                }
                if (!(names[*n] = strdup(nm))) goto nomem_tree;
                (*n)++;
            }
        }
        git_tree_free(tt);
        git_tree_entry_free(e);
        goto sorted;
    nomem_tree:
        git_tree_free(tt);
        git_tree_entry_free(e);
        pv_names_free(names, *n);
        *n = 0;
        return pv_err(PV_ENOMEM, "out of memory");
    } else if (s->kind == SIDE_WORK) {
        char path[4200];
        DIR *d;
        struct dirent *de;
        snprintf(path, sizeof path, "%s/tables", s->pvdir);
        if ((d = opendir(path))) {
            while ((de = readdir(d))) {
                struct stat st;
                char sub[8400];
                if (!pv_table_name_ok(de->d_name, strlen(de->d_name))) continue;
                snprintf(sub, sizeof sub, "%s/%s/schema.jsonl", path, de->d_name);
                if (stat(sub, &st) != 0) continue;
                if (*n == cap) {
                    char **b = realloc(names, (cap *= 2) * sizeof *names);
                    if (!b) break;
                    names = b;
                }
                if (!(names[*n] = strdup(de->d_name))) break;
                (*n)++;
            }
            closedir(d);
            if (de) {
                pv_names_free(names, *n);
                *n = 0;
                return pv_err(PV_ENOMEM, "out of memory");
            }
        }
    }
sorted:
    if (*n > 1) qsort(names, *n, sizeof *names, cmp_str); /* qsort's base must not be NULL */
    *out = names;
    return PV_OK;
}

static int add_chunk(tside *t, size_t *cap, const char *name, const git_oid *id)
{
    uint32_t num;
    chunkinfo *c;
    if (!(num = pv_chunk_file_number(name))) return PV_OK;
    if (t->nchunks == *cap) {
        chunkinfo *b = realloc(t->chunks, (*cap = *cap ? *cap * 2 : 64) * sizeof *b);
        if (!b) return pv_err(PV_ENOMEM, "out of memory");
        t->chunks = b;
    }
    c = &t->chunks[t->nchunks++];
    memset(c, 0, sizeof *c);
    c->num = num;
    memcpy(c->name, name, 15);
    if (id) {
        git_oid_cpy(&c->id, id);
        c->have_id = 1;
    }
    return PV_OK;
}

/* Load a table's schema and chunk list on a side (t->present = 0 when the
 * side has no such table). */
static int tside_open(tside *t, pvgit_side *s, const char *name)
{
    size_t cap = 0;
    char path[4300];
    int rc = PV_OK;
    memset(t, 0, sizeof *t);
    t->side = s;
    snprintf(t->name, sizeof t->name, "%s", name);
    if (s->kind == SIDE_TREE) {
        git_tree_entry *e = NULL;
        size_t i;
        snprintf(path, sizeof path, "tables/%s", name);
        if (git_tree_entry_bypath(&e, s->pv, path) != 0) return PV_OK;
        if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
            git_tree_entry_free(e);
            return PV_OK;
        }
        rc = git_tree_lookup(&t->tree, s->repo, git_tree_entry_id(e));
        git_tree_entry_free(e);
        if (rc) return pvgit_fail(rc, path);
        e = NULL;
        if (git_tree_entry_bypath(&e, t->tree, "schema.jsonl") != 0) return PV_OK;
        snprintf(path, sizeof path, "tables/%s/schema.jsonl", name);
        rc = pvgit_blob_read(s->repo, git_tree_entry_id(e), SCHEMA_MAX, path, &t->schema_text,
                             &t->schema_len);
        git_tree_entry_free(e);
        if (rc) return rc;
        for (i = 0; i < git_tree_entrycount(t->tree) && !rc; i++) {
            const git_tree_entry *c = git_tree_entry_byindex(t->tree, i);
            if (git_tree_entry_type(c) == GIT_OBJECT_BLOB)
                rc = add_chunk(t, &cap, git_tree_entry_name(c), git_tree_entry_id(c));
        }
    } else if (s->kind == SIDE_WORK) {
        DIR *d;
        struct dirent *de;
        snprintf(path, sizeof path, "%s/tables/%s/schema.jsonl", s->pvdir, name);
        rc = pv_read_file(path, SCHEMA_MAX, &t->schema_text, &t->schema_len);
        if (rc == PV_ENOTFOUND) return PV_OK;
        if (rc) return rc;
        snprintf(path, sizeof path, "%s/tables/%s", s->pvdir, name);
        if (!(d = opendir(path))) return pv_err_errno("cannot open '%s'", path);
        while (!rc && (de = readdir(d))) rc = add_chunk(t, &cap, de->d_name, NULL);
        closedir(d);
    } else {
        return PV_OK;
    }
    if (rc) return rc;
    snprintf(path, sizeof path, "%s:.pv/tables/%s/schema.jsonl", s->label, name);
    if ((rc = pv_schema_decode(t->schema_text, t->schema_len, name, path, &t->schema))) return rc;
    if (t->nchunks > 1) qsort(t->chunks, t->nchunks, sizeof *t->chunks, cmp_chunk); /* none: a table without rows */
    t->present = 1;
    return PV_OK;
}

int pvgit_side_schema(pvgit_side *s, const char *table, pv_schema **out)
{
    char **names = NULL;
    size_t n = 0, i;
    int rc, found = 0;
    tside t;
    *out = NULL;
    if ((rc = side_tables(s, &names, &n))) return rc;
    for (i = 0; i < n && !found; i++) {
        if (!pv_ident_eq(names[i], strlen(names[i]), table, strlen(table))) continue;
        if ((rc = tside_open(&t, s, names[i]))) break;
        if (t.present) {
            *out = t.schema;
            t.schema = NULL;
            found = 1;
        }
        tside_free(&t);
    }
    pv_names_free(names, n);
    return rc ? rc : found;
}

/* A chunk's path for messages. */
static void chunk_label(char *out, size_t cap, const tside *t, const chunkinfo *c)
{
    if (t->side->kind == SIDE_WORK)
        snprintf(out, cap, "%s/tables/%s/%s", t->side->pvdir, t->name, c->name);
    else
        snprintf(out, cap, "%s:.pv/tables/%s/%s", t->side->label, t->name, c->name);
}

/* The blob id the index records for a work tree file, when the file's
 * stat data match its entry and the entry is not racily clean (git's
 * rules): 1 and *id, else 0. */
static int index_clean_id(pvgit_side *s, const char *table, const char *name, git_oid *id)
{
    char path[4300], rel[4300];
    pvgit_wtindex w;
    if (!s->index || !s->pvdir || !s->relpv) return 0;
    w.index = s->index;
    w.mtime = s->index_mtime;
    snprintf(rel, sizeof rel, "%stables/%s/%s", s->relpv, table, name);
    snprintf(path, sizeof path, "%s/tables/%s/%s", s->pvdir, table, name);
    return pvgit_wtindex_clean_id(&w, rel, path, id);
}

/* The blob id of a work tree chunk: the index's when the file is clean,
 * else its hash. */
static int work_chunk_id(tside *t, chunkinfo *c)
{
    char path[4300];
    int rc;
    if (c->have_id) return PV_OK;
    if (index_clean_id(t->side, t->name, c->name, &c->id)) {
        c->have_id = 1;
        return PV_OK;
    }
    snprintf(path, sizeof path, "%s/tables/%s/%s", t->side->pvdir, t->name, c->name);
    if ((rc = git_odb_hashfile(&c->id, path, GIT_OBJECT_BLOB))) return pvgit_fail(rc, path);
    c->have_id = 1;
    return PV_OK;
}

static int chunk_same(tside *a, chunkinfo *ca, tside *b, chunkinfo *cb, int *same)
{
    int rc;
    *same = 0;
    if (a->side->kind == SIDE_WORK && (rc = work_chunk_id(a, ca))) return rc;
    if (b->side->kind == SIDE_WORK && (rc = work_chunk_id(b, cb))) return rc;
    *same = git_oid_equal(&ca->id, &cb->id);
    return PV_OK;
}

/* A chunk's bytes. */
typedef struct content {
    const char *p;
    size_t n;
    git_blob *blob;
    char *heap;
} content;

static void content_free(content *c)
{
    git_blob_free(c->blob);
    free(c->heap);
    memset(c, 0, sizeof *c);
}

static int chunk_read(tside *t, const chunkinfo *c, content *out)
{
    char path[4300];
    int rc;
    memset(out, 0, sizeof *out);
    if (t->side->kind == SIDE_TREE) {
        git_oid wid;
        /* the same bytes in the work tree read faster than the object
         * database inflates them */
        if (index_clean_id(t->side, t->name, c->name, &wid) && git_oid_equal(&wid, &c->id)) {
            snprintf(path, sizeof path, "%s/tables/%s/%s", t->side->pvdir, t->name, c->name);
            if (pv_read_file(path, CHUNK_MAX, &out->heap, &out->n) == PV_OK) {
                out->p = out->heap;
                return PV_OK;
            }
        }
        if ((rc = git_blob_lookup(&out->blob, t->side->repo, &c->id))) {
            chunk_label(path, sizeof path, t, c);
            return pvgit_fail(rc, path);
        }
        out->p = git_blob_rawcontent(out->blob);
        out->n = (size_t)git_blob_rawsize(out->blob);
        return PV_OK;
    }
    snprintf(path, sizeof path, "%s/tables/%s/%s", t->side->pvdir, t->name, c->name);
    if ((rc = pv_read_file(path, CHUNK_MAX, &out->heap, &out->n))) return rc;
    out->p = out->heap;
    return PV_OK;
}

/* ---- decoding -------------------------------------------------------------------- */

/* How one side reads the rows of one chunk: its header mapped to the
 * side's schema by name (current or earlier names). */
typedef struct hmap {
    uint32_t n;              /* header columns */
    int *types;              /* per header position (PV_NULL: dropped) */
    int *to;                 /* per header position: schema column, or -1 */
    uint32_t kpos[64];       /* header position of each key part */
    int ok;
} hmap;

#define MAX_KEY_PARTS 64

static void hmap_free(hmap *m)
{
    free(m->types);
    free(m->to);
    memset(m, 0, sizeof *m);
}

static int hmap_build(hmap *m, const pv_schema *s, const pv_chunk_rec *h)
{
    uint32_t i, k;
    hmap_free(m);
    m->n = h->nvals;
    m->types = malloc((h->nvals + 1) * sizeof *m->types);
    m->to = malloc((h->nvals + 1) * sizeof *m->to);
    if (!m->types || !m->to) return pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < h->nvals; i++) {
        int c = pv_schema_find_history(s, h->names[i], strlen(h->names[i]));
        if (c == PV_SCHEMA_DROPPED) {
            m->types[i] = PV_NULL;
            m->to[i] = -1;
            continue;
        }
        if (c < 0)
            return PV_CORRUPT("the chunk header names column '%s', which table %s does not have", h->names[i],
                              s->name);
        m->types[i] = s->cols[c].type;
        m->to[i] = c;
    }
    if (s->npk > MAX_KEY_PARTS) return PV_CORRUPT("more than %d key columns", MAX_KEY_PARTS);
    for (k = 0; k < s->npk; k++) {
        for (i = 0; i < h->nvals; i++)
            if (m->to[i] == (int)s->pk[k]) break;
        if (i == h->nvals)
            return PV_CORRUPT("the chunk header lacks key column %s", s->cols[s->pk[k]].name);
        m->kpos[k] = i;
    }
    m->ok = 1;
    return PV_OK;
}

/* A record kept for a key: its chunk and, for a row, its values in the
 * side's schema order. */
typedef struct rec {
    uint32_t chunk;          /* 0: no record */
    int kind;                /* PV_REC_ROW or PV_REC_DELETE */
    pv_value *vals;
    uint8_t *isref;
} rec;

typedef struct kent {
    const char *key;         /* canonical key text (arena) */
    uint32_t keylen;
    uint64_t h;
    const pv_value *keyvals; /* npk values (arena) */
    rec d[2];                /* last record in a differing chunk, per side */
    rec s[2];                /* last record in an identical chunk, as each side reads it */
    uint32_t s_chunk;
} kent;

/* The keys of one table comparison: entries plus an open-addressing index. */
typedef struct kmap {
    kent *e;
    size_t n, cap;
    uint64_t *slots;         /* hash tag and entry index + 1; 0 empty */
    size_t nslots;
    pv_arena arena;
} kmap;

static void kmap_free(kmap *m)
{
    free(m->e);
    free(m->slots);
    pv_arena_free(&m->arena);
    memset(m, 0, sizeof *m);
}

/* A slot holds the entry index + 1 in its low 32 bits and the top 32 bits
 * of the key's hash above, so a probe rarely touches an entry. */
static kent *kmap_find(const kmap *m, const char *key, size_t len, uint64_t h)
{
    size_t i, mask = m->nslots - 1;
    uint64_t tag = h >> 32;
    if (!m->nslots) return NULL;
    for (i = h & mask;; i = (i + 1) & mask) {
        uint64_t s = m->slots[i];
        kent *e;
        if (!s) return NULL;
        if ((s >> 32) != tag) continue;
        e = &m->e[(uint32_t)s - 1];
        if (e->h == h && e->keylen == len && memcmp(e->key, key, len) == 0) return e;
    }
}

static int kmap_grow(kmap *m)
{
    size_t n = m->nslots ? m->nslots * 2 : 1024, i;
    uint64_t *slots = calloc(n, sizeof *slots);
    if (!slots) return pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < m->n; i++) {
        size_t j = m->e[i].h & (n - 1);
        while (slots[j]) j = (j + 1) & (n - 1);
        slots[j] = (m->e[i].h >> 32 << 32) | (uint64_t)(i + 1);
    }
    free(m->slots);
    m->slots = slots;
    m->nslots = n;
    return PV_OK;
}

/* The entry of a key, added when new (with copies of its text and values). */
static int kmap_get(kmap *m, const char *key, size_t len, const pv_value *keyvals, uint32_t npk, kent **out)
{
    uint64_t h = XXH3_64bits(key, len);
    kent *e = kmap_find(m, key, len, h);
    size_t j;
    int rc;
    if (e) {
        *out = e;
        return PV_OK;
    }
    if (m->n >= UINT32_MAX - 1) return pv_err(PV_ELIMIT, "too many keys");
    if ((m->n + 1) * 2 > m->nslots && (rc = kmap_grow(m))) return rc;
    if (m->n == m->cap) {
        kent *b = realloc(m->e, (m->cap = m->cap ? m->cap * 2 : 256) * sizeof *b);
        if (!b) return pv_err(PV_ENOMEM, "out of memory");
        m->e = b;
    }
    e = &m->e[m->n];
    memset(e, 0, sizeof *e);
    e->h = h;
    e->keylen = (uint32_t)len;
    if (!(e->key = pv_arena_dup(&m->arena, key, len))) return pv_err(PV_ENOMEM, "out of memory");
    {
        pv_value *kv = pv_arena_alloc(&m->arena, npk * sizeof *kv);
        uint32_t k;
        if (!kv) return pv_err(PV_ENOMEM, "out of memory");
        for (k = 0; k < npk; k++) {
            kv[k] = keyvals[k];
            if ((kv[k].type == PV_TEXT || kv[k].type == PV_BLOB) &&
                !(kv[k].u.s.p = pv_arena_dup(&m->arena, keyvals[k].u.s.p, keyvals[k].u.s.n)))
                return pv_err(PV_ENOMEM, "out of memory");
        }
        e->keyvals = kv;
    }
    for (j = h & (m->nslots - 1); m->slots[j]; j = (j + 1) & (m->nslots - 1)) {}
    m->slots[j] = (h >> 32 << 32) | (uint64_t)(m->n + 1);
    m->n++;
    *out = e;
    return PV_OK;
}

static int put_ref(pv_buf *b, const pv_blobref *r)
{
    return pv_buf_printf(b, "{\"sha256\":\"%s\",\"size\":%llu}", r->hex, (unsigned long long)r->size);
}

/* The canonical key text of a decoded record, and its key values (a key
 * held in the blob store is its reference text). */
static int rec_key(const hmap *m, const pv_schema *s, const pv_chunk_rec *r, pv_buf *kb, pv_arena *a,
                   pv_value *kv)
{
    uint32_t k;
    int rc = PV_OK;
    kb->len = 0;
    for (k = 0; k < s->npk && !rc; k++) {
        uint32_t pos = r->kind == PV_REC_DELETE ? k : m->kpos[k];
        size_t at;
        if (k) rc = pv_buf_putc(kb, ',');
        at = kb->len;
        if (rc) break;
        if (r->refs && r->refs[pos].present) {
            if ((rc = put_ref(kb, &r->refs[pos]))) break;
            kv[k] = pv_v_text(kb->p + at, kb->len - at);
        } else {
            if (r->vals[pos].type == PV_NULL) return PV_CORRUPT("NULL in key column %s", s->cols[s->pk[k]].name);
            rc = pv_chunk_encode_value(kb, &r->vals[pos]);
            kv[k] = r->vals[pos];
        }
    }
    if (!rc && !kb->p) rc = pv_buf_reserve(kb, 1);
    (void)a;
    return rc;
}

/* A decoded row record as a row in the side's schema order (copied into
 * the arena). A column the chunk does not list reads as its default, as
 * the workspace reads it (docs/GIT.md, "Merging schemas"): the schema's
 * own value, not copied (the side's schema lives as long as the rows, in
 * the same tdiff). */
static int rec_row(const hmap *m, const pv_schema *s, const pv_chunk_rec *r, pv_arena *a, rec *out)
{
    uint32_t i, c;
    pv_value *v = pv_arena_alloc(a, (s->ncols ? s->ncols : 1) * sizeof *v);
    uint8_t *isref = NULL;
    if (!v) return pv_err(PV_ENOMEM, "out of memory");
    for (c = 0; c < s->ncols; c++) v[c] = s->cols[c].dflt ? *s->cols[c].dflt : pv_v_null();
    for (i = 0; i < m->n; i++) {
        pv_value x = r->vals[i];
        if (m->to[i] < 0) continue;
        if (r->refs && r->refs[i].present) {
            char buf[128];
            int n = snprintf(buf, sizeof buf, "{\"sha256\":\"%s\",\"size\":%llu}", r->refs[i].hex,
                             (unsigned long long)r->refs[i].size);
            if (!isref) {
                if (!(isref = pv_arena_alloc(a, s->ncols))) return pv_err(PV_ENOMEM, "out of memory");
                memset(isref, 0, s->ncols);
            }
            isref[m->to[i]] = 1;
            x = pv_v_text(pv_arena_dup(a, buf, (size_t)n), (size_t)n);
            if (!x.u.s.p) return pv_err(PV_ENOMEM, "out of memory");
        } else if ((x.type == PV_TEXT || x.type == PV_BLOB)) {
            if (!(x.u.s.p = pv_arena_dup(a, x.u.s.p, x.u.s.n))) return pv_err(PV_ENOMEM, "out of memory");
        }
        v[m->to[i]] = x;
    }
    out->kind = PV_REC_ROW;
    out->vals = v;
    out->isref = isref;
    return PV_OK;
}

static int is_marker(const char *p, size_t n)
{
    return n >= 7 && (memcmp(p, "<<<<<<<", 7) == 0 || memcmp(p, "=======", 7) == 0 ||
                      memcmp(p, ">>>>>>>", 7) == 0);
}

/* The lines of a chunk: calls fn for each complete line. A torn last line
 * (no newline) is skipped with a warning when `newest`, else corrupt. */
typedef struct linecur {
    const char *p, *end;
    size_t lineno;
} linecur;

static int next_line(linecur *c, const char *label, int newest, const char **line, size_t *len)
{
    const char *nl;
    if (c->p >= c->end) return 0;
    nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
    c->lineno++;
    if (!nl) {
        if (!newest)
            return pv_err(PV_ECORRUPT, "'%s': the last line has no newline, and this is not the newest chunk",
                          label);
        fprintf(stderr, "pvdev: warning: '%s': ignoring an incomplete last line (an interrupted write?)\n", label);
        c->p = c->end;
        return 0;
    }
    *line = c->p;
    *len = (size_t)(nl - c->p);
    c->p = nl + 1;
    if (is_marker(*line, *len))
        return pv_err(PV_ECORRUPT, "'%s' line %zu: git conflict marker; the pv merge driver was not used "
                      "(run 'pvdev git-setup', then redo the merge)", label, c->lineno);
    return 1;
}

static void key_types(const pv_schema *s, int *kt)
{
    uint32_t k;
    for (k = 0; k < s->npk; k++) kt[k] = s->cols[s->pk[k]].type;
}

static int fast_key(const char *line, size_t len, const hmap *m, const pv_schema *s, int simple_keys,
                    pv_buf *kb);
static int simple_key_types(const pv_schema *s);

/* Decode every record of a differing chunk of side x into the key map
 * (only the records of key `only`, when not NULL). */
static int decode_chunk(kmap *km, int x, tside *t, chunkinfo *c, int newest, const char *only, size_t onlylen)
{
    char label[4400];
    content ct;
    linecur cur;
    hmap m;
    pv_arena tmp = PV_ARENA_INIT;
    pv_buf kb = PV_BUF_INIT;
    pv_value kv[MAX_KEY_PARTS];
    int kt[MAX_KEY_PARTS];
    const char *line;
    size_t len;
    int rc, more, simple;
    memset(&m, 0, sizeof m);
    chunk_label(label, sizeof label, t, c);
    if (t->schema->npk > MAX_KEY_PARTS) return PV_CORRUPT("'%s': too many key columns", label);
    key_types(t->schema, kt);
    simple = simple_key_types(t->schema);
    if ((rc = chunk_read(t, c, &ct))) return rc;
    cur.p = ct.p;
    cur.end = ct.p + ct.n;
    cur.lineno = 0;
    while ((more = next_line(&cur, label, newest, &line, &len)) > 0) {
        pv_chunk_rec r;
        kent *e = NULL;
        if (only && m.ok) {
            /* one key wanted: most lines are skipped without decoding */
            int fk = fast_key(line, len, &m, t->schema, simple, &kb);
            if (fk == 0 || (fk == 1 && (kb.len != onlylen || memcmp(kb.p, only, onlylen) != 0))) continue;
        }
        pv_arena_reset(&tmp);
        rc = pv_chunk_decode(line, len, m.types, m.n, kt, t->schema->npk, &tmp, &r);
        if (!rc) rc = pv_chunk_check_place(&r, cur.lineno == 1);
        if (!rc && r.kind == PV_REC_HEADER) /* the first line, or a continuation header */
            rc = hmap_build(&m, t->schema, &r);
        else if (!rc && (r.kind == PV_REC_ROW || r.kind == PV_REC_DELETE)) {
            rc = rec_key(&m, t->schema, &r, &kb, &tmp, kv);
            if (!rc && only && (kb.len != onlylen || memcmp(kb.p, only, onlylen) != 0)) continue;
            if (!rc) rc = kmap_get(km, kb.p, kb.len, kv, t->schema->npk, &e);
            if (!rc) {
                e->d[x].chunk = c->num;
                e->d[x].kind = r.kind;
                e->d[x].vals = NULL;
                e->d[x].isref = NULL;
                if (r.kind == PV_REC_ROW) rc = rec_row(&m, t->schema, &r, &km->arena, &e->d[x]);
            }
        }
        /* other records (merge conflicts) do not change the row */
        if (rc) {
            if (rc != PV_ENOMEM) pv_err_prefix("'%s' line %zu", label, cur.lineno);
            break;
        }
    }
    if (more < 0) rc = more;
    content_free(&ct);
    hmap_free(&m);
    pv_arena_free(&tmp);
    pv_buf_free(&kb);
    return rc;
}

/* ---- the scan of identical chunks --------------------------------------------------- */

const char *pvgit_json_skip(const char *p, const char *end, int *esc)
{
    if (p >= end) return NULL;
    if (*p == '"') {
        for (p++; p < end; p++) {
            if (*p == '\\') {
                *esc = 1;
                p++;
            } else if (*p == '"') {
                return p + 1;
            }
        }
        return NULL;
    }
    if (*p == '{' || *p == '[') {
        int depth = 0;
        for (; p < end; p++) {
            if (*p == '"') {
                p = pvgit_json_skip(p, end, esc);
                if (!p) return NULL;
                p--;
            } else if (*p == '{' || *p == '[') {
                depth++;
            } else if (*p == '}' || *p == ']') {
                if (--depth == 0) return p + 1;
            }
        }
        return NULL;
    }
    while (p < end && *p != ',' && *p != ']' && *p != '}' && *p != ' ' && *p != '\t') p++;
    return p;
}

/* The canonical key text of a line without decoding it, when the line is
 * plainly canonical: 1 and the text in kb; 0 when the line has no key (a
 * conflict record); -1 when it must be decoded to tell (a header among
 * them: a continuation header changes the columns of the lines after it). */
static int fast_key(const char *line, size_t len, const hmap *m, const pv_schema *s, int simple_keys,
                    pv_buf *kb)
{
    const char *p = line, *end = line + len;
    const char *at[MAX_KEY_PARTS];
    size_t n[MAX_KEY_PARTS];
    uint32_t want = s->npk, got = 0, pos, k, maxpos = 0;
    int is_delete;
    if (!simple_keys) return -1;
    if (len > 0 && *p == '[') {
        is_delete = 0;
        p++;
        for (k = 0; k < want; k++)
            if (m->kpos[k] > maxpos) maxpos = m->kpos[k];
    } else if (len > 11 && memcmp(p, "{\"delete\":[", 11) == 0) {
        is_delete = 1;
        p += 11;
        maxpos = want - 1;
    } else if (len > 0 && *p == '{' && (len < 13 || memcmp(p, "{\"conflict\":", 12) != 0)) {
        return -1;
    } else {
        return 0;
    }
    for (pos = 0; pos <= maxpos; pos++) {
        int esc = 0;
        const char *q = pvgit_json_skip(p, end, &esc);
        if (!q || q >= end || (*q != ',' && *q != ']')) return -1;
        for (k = 0; k < want; k++) {
            if ((is_delete ? k : m->kpos[k]) != pos) continue;
            if (esc || q == p || *p == '{' || *p == '[' || (q - p == 4 && memcmp(p, "null", 4) == 0)) return -1;
            at[k] = p;
            n[k] = (size_t)(q - p);
            got++;
        }
        p = q + 1;
    }
    if (got != want) return -1;
    kb->len = 0;
    for (k = 0; k < want; k++) {
        if (k && pv_buf_putc(kb, ',')) return -2;
        if (pv_buf_append(kb, at[k], n[k])) return -2;
    }
    return 1;
}

/* Can key texts be cut out of canonical lines (fast_key)? Not for REAL
 * and BLOB keys, whose texts have other spellings. */
static int simple_key_types(const pv_schema *s)
{
    uint32_t k;
    for (k = 0; k < s->npk; k++) {
        int ty = s->cols[s->pk[k]].type;
        if (ty != PV_INTEGER && ty != PV_TEXT && ty != PV_BOOLEAN) return 0;
    }
    return 1;
}

/* ---- comparing ------------------------------------------------------------------------- */

typedef struct tdiff {
    tside side[2];
    kmap km;
    int *old_of_new, *new_of_old;
    pvgit_colchange *cols;
    size_t ncols;
    pvgit_rowchange *rows;
    size_t nrows, cap;
    size_t added, deleted, changed;
} tdiff;

static int same_value(const pv_value *a, const uint8_t *ra, const pv_value *b, const uint8_t *rb)
{
    if ((ra ? *ra : 0) != (rb ? *rb : 0) || a->type != b->type) return 0;
    switch (a->type) {
    case PV_NULL: return 1;
    case PV_REAL: return memcmp(&a->u.f, &b->u.f, sizeof a->u.f) == 0;
    case PV_TEXT:
    case PV_BLOB: return a->u.s.n == b->u.s.n && memcmp(a->u.s.p, b->u.s.p, a->u.s.n) == 0;
    default: return a->u.i == b->u.i;
    }
}

/* Map columns by identity across a rename: two columns are the same when
 * their current or earlier names meet. */
static int col_matches(const pv_column *a, const pv_column *b)
{
    uint32_t i, j;
    const char *an, *bn;
    for (i = 0; i <= a->naliases; i++) {
        an = i < a->naliases ? a->aliases[i] : a->name;
        for (j = 0; j <= b->naliases; j++) {
            bn = j < b->naliases ? b->aliases[j] : b->name;
            if (pv_ident_eq(an, strlen(an), bn, strlen(bn))) return 1;
        }
    }
    return 0;
}

static int push_col(tdiff *d, int kind, int o, int n)
{
    pvgit_colchange *b = realloc(d->cols, (d->ncols + 1) * sizeof *b);
    if (!b) return pv_err(PV_ENOMEM, "out of memory");
    d->cols = b;
    d->cols[d->ncols].kind = kind;
    d->cols[d->ncols].old_col = o;
    d->cols[d->ncols].new_col = n;
    d->ncols++;
    return PV_OK;
}

/* Column mapping and schema changes. Sets *key_changed and *types_differ. */
static int compare_schemas(tdiff *d, int *key_changed, int *types_differ)
{
    const pv_schema *a = d->side[0].schema, *b = d->side[1].schema;
    uint32_t i, j, k;
    int rc = PV_OK;
    *key_changed = 0;
    *types_differ = 0;
    if (!a || !b) return PV_OK;
    d->old_of_new = malloc((b->ncols + 1) * sizeof *d->old_of_new);
    d->new_of_old = malloc((a->ncols + 1) * sizeof *d->new_of_old);
    if (!d->old_of_new || !d->new_of_old) return pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < a->ncols; i++) d->new_of_old[i] = -1;
    for (j = 0; j < b->ncols; j++) {
        d->old_of_new[j] = -1;
        for (i = 0; i < a->ncols; i++)
            if (d->new_of_old[i] < 0 && col_matches(&a->cols[i], &b->cols[j])) {
                d->old_of_new[j] = (int)i;
                d->new_of_old[i] = (int)j;
                break;
            }
    }
    for (j = 0; j < b->ncols && !rc; j++) {
        int o = d->old_of_new[j];
        if (o < 0) {
            rc = push_col(d, PVGIT_COL_ADDED, -1, (int)j);
            continue;
        }
        if (strcmp(a->cols[o].name, b->cols[j].name) != 0) rc = push_col(d, PVGIT_COL_RENAMED, o, (int)j);
        if (!rc && a->cols[o].type != b->cols[j].type) {
            rc = push_col(d, PVGIT_COL_TYPE, o, (int)j);
            *types_differ = 1;
        }
        if (!rc && a->cols[o].not_null != b->cols[j].not_null) rc = push_col(d, PVGIT_COL_NOTNULL, o, (int)j);
    }
    for (i = 0; i < a->ncols && !rc; i++)
        if (d->new_of_old[i] < 0) rc = push_col(d, PVGIT_COL_DROPPED, (int)i, -1);
    if (a->npk != b->npk) {
        *key_changed = 1;
    } else {
        for (k = 0; k < a->npk; k++)
            if (d->new_of_old[a->pk[k]] != (int)b->pk[k] || a->cols[a->pk[k]].type != b->cols[b->pk[k]].type)
                *key_changed = 1;
    }
    return rc;
}

static int push_row(tdiff *d, int kind, const kent *e, const rec *o, const rec *n)
{
    pvgit_rowchange *c;
    if (d->nrows == d->cap) {
        pvgit_rowchange *b = realloc(d->rows, (d->cap = d->cap ? d->cap * 2 : 64) * sizeof *b);
        if (!b) return pv_err(PV_ENOMEM, "out of memory");
        d->rows = b;
    }
    c = &d->rows[d->nrows++];
    c->kind = kind;
    c->key = e->keyvals;
    c->keytext = e->key;
    c->keylen = e->keylen;
    c->old_row.vals = o ? o->vals : NULL;
    c->old_row.isref = o ? o->isref : NULL;
    c->new_row.vals = n ? n->vals : NULL;
    c->new_row.isref = n ? n->isref : NULL;
    if (kind == PVGIT_ROW_ADDED) d->added++;
    else if (kind == PVGIT_ROW_DELETED) d->deleted++;
    else d->changed++;
    return PV_OK;
}

static int rows_differ(const tdiff *d, const rec *o, const rec *n)
{
    const pv_schema *b = d->side[1].schema;
    uint32_t j;
    for (j = 0; j < b->ncols; j++) {
        int c = d->old_of_new[j];
        const uint8_t *rn = n->isref ? &n->isref[j] : NULL;
        if (c < 0) {
            if (n->vals[j].type != PV_NULL) return 1;
            continue;
        }
        if (!same_value(&o->vals[c], o->isref ? &o->isref[c] : NULL, &n->vals[j], rn)) return 1;
    }
    return 0;
}

/* The state of a key on side x: its last record, or NULL when absent. */
static const rec *state(const kent *e, int x)
{
    const rec *r = e->d[x].chunk > e->s_chunk ? &e->d[x] : e->s_chunk ? &e->s[x] : NULL;
    return r && r->kind == PV_REC_ROW ? r : NULL;
}

static int cmp_rows(const void *pa, const void *pb, void *ctx)
{
    const pvgit_rowchange *a = pa, *b = pb;
    const pv_schema *s = ctx;
    uint32_t k;
    for (k = 0; k < s->npk; k++) {
        int c = pv_value_cmp(&a->key[k], &b->key[k]);
        if (c) return c;
    }
    if (a->keylen != b->keylen) return a->keylen < b->keylen ? -1 : 1;
    return memcmp(a->keytext, b->keytext, a->keylen);
}

/* Scan the identical chunks, newest first, for the last record of every
 * key whose state there may matter. */
static int scan_identical(tdiff *d, const uint32_t *same_a, const uint32_t *same_b, size_t nsame)
{
    tside *ta = &d->side[0], *tb = &d->side[1];
    const pv_schema *sa = ta->schema, *sb = tb->schema;
    uint32_t maxnum = nsame ? ta->chunks[same_a[nsame - 1]].num : 0;
    size_t *cnt = NULL, i, remaining;
    pv_buf kb = PV_BUF_INIT;
    pv_arena tmp = PV_ARENA_INIT;
    int kta[MAX_KEY_PARTS], ktb[MAX_KEY_PARTS];
    int rc = PV_OK, simple = 1;
    long si;
    if (!nsame || !d->km.n) return PV_OK;
    /* thresholds: a key needs the identical chunks above the lower of its
     * two last differing records (0 when a side has none) */
    if (!(cnt = calloc((size_t)maxnum + 2, sizeof *cnt))) return pv_err(PV_ENOMEM, "out of memory");
    for (i = 0; i < d->km.n; i++) {
        uint32_t t = d->km.e[i].d[0].chunk < d->km.e[i].d[1].chunk ? d->km.e[i].d[0].chunk : d->km.e[i].d[1].chunk;
        cnt[t > maxnum ? maxnum + 1 : t]++;
    }
    simple = simple_key_types(sa);
    key_types(sa, kta);
    key_types(sb, ktb);
    for (si = (long)nsame - 1; si >= 0 && !rc; si--) {
        chunkinfo *ca = &ta->chunks[same_a[si]], *cb = &tb->chunks[same_b[si]];
        uint32_t num = ca->num, t;
        tside *from = ta->side->kind == SIDE_WORK ? ta : tb->side->kind == SIDE_WORK ? tb : ta;
        chunkinfo *cf = from == ta ? ca : cb;
        char label[4400];
        content ct;
        linecur cur;
        hmap ma, mb;
        const char *line;
        size_t len;
        int more;
        /* keys still looking: threshold below num and not found above */
        remaining = 0;
        for (t = 0; t < num && t <= maxnum; t++) remaining += cnt[t];
        if (!remaining) break;
        memset(&ma, 0, sizeof ma);
        memset(&mb, 0, sizeof mb);
        chunk_label(label, sizeof label, from, cf);
        if ((rc = chunk_read(from, cf, &ct))) break;
        cur.p = ct.p;
        cur.end = ct.p + ct.n;
        cur.lineno = 0;
        while ((more = next_line(&cur, label, 0, &line, &len)) > 0) {
            kent *e;
            int fk;
            if (cur.lineno == 1) {
                pv_chunk_rec r;
                pv_arena_reset(&tmp);
                rc = pv_chunk_decode(line, len, NULL, 0, kta, sa->npk, &tmp, &r);
                if (!rc) rc = pv_chunk_check_place(&r, 1);
                if (!rc) rc = hmap_build(&ma, sa, &r);
                if (!rc) rc = hmap_build(&mb, sb, &r);
                if (rc) break;
                continue;
            }
            fk = fast_key(line, len, &ma, sa, simple, &kb);
            if (fk == -2) {
                rc = pv_err(PV_ENOMEM, "out of memory");
                break;
            }
            if (fk < 0) {
                pv_chunk_rec r;
                pv_value kv[MAX_KEY_PARTS];
                pv_arena_reset(&tmp);
                rc = pv_chunk_decode(line, len, ma.types, ma.n, kta, sa->npk, &tmp, &r);
                if (!rc) rc = pv_chunk_check_place(&r, 0);
                if (!rc && r.kind == PV_REC_HEADER && !(rc = hmap_build(&ma, sa, &r))) /* a continuation header */
                    rc = hmap_build(&mb, sb, &r);
                if (rc) break;
                if (r.kind != PV_REC_ROW && r.kind != PV_REC_DELETE) continue;
                if ((rc = rec_key(&ma, sa, &r, &kb, &tmp, kv))) break;
            } else if (fk == 0) {
                continue;
            }
            e = kmap_find(&d->km, kb.p, kb.len, XXH3_64bits(kb.p, kb.len));
            if (!e) continue;
            t = e->d[0].chunk < e->d[1].chunk ? e->d[0].chunk : e->d[1].chunk;
            if (t >= num || (e->s_chunk && e->s_chunk != num)) continue;
            /* the last record of this key in the identical chunks: read it
             * as each side reads it */
            {
                pv_chunk_rec ra, rb;
                pv_arena_reset(&tmp);
                if ((rc = pv_chunk_decode(line, len, ma.types, ma.n, kta, sa->npk, &tmp, &ra))) break;
                if ((rc = pv_chunk_decode(line, len, mb.types, mb.n, ktb, sb->npk, &tmp, &rb))) break;
                if (!e->s_chunk) cnt[t > maxnum ? maxnum + 1 : t]--;
                e->s_chunk = num;
                memset(e->s, 0, sizeof e->s);
                e->s[0].kind = e->s[1].kind = ra.kind;
                if (ra.kind == PV_REC_ROW) {
                    if ((rc = rec_row(&ma, sa, &ra, &d->km.arena, &e->s[0]))) break;
                    if ((rc = rec_row(&mb, sb, &rb, &d->km.arena, &e->s[1]))) break;
                }
            }
        }
        if (more < 0) rc = more;
        if (rc && rc != PV_ENOMEM && more >= 0) pv_err_prefix("'%s' line %zu", label, cur.lineno);
        content_free(&ct);
        hmap_free(&ma);
        hmap_free(&mb);
    }
    free(cnt);
    pv_buf_free(&kb);
    pv_arena_free(&tmp);
    return rc;
}

static void tdiff_free(tdiff *d)
{
    tside_free(&d->side[0]);
    tside_free(&d->side[1]);
    kmap_free(&d->km);
    free(d->old_of_new);
    free(d->new_of_old);
    free(d->cols);
    free(d->rows);
}

/* Every chunk of side x, decoded into km. */
static int decode_all(kmap *km, int x, tside *t, const pvgit_diff_opts *o)
{
    size_t i;
    int rc = PV_OK;
    for (i = 0; i < t->nchunks && !rc; i++)
        rc = decode_chunk(km, x, t, &t->chunks[i], i + 1 == t->nchunks, o->key, o->keylen);
    return rc;
}

static int diff_table(pvgit_side *a, pvgit_side *b, const char *name_a, const char *name_b,
                      const pvgit_diff_opts *o)
{
    tdiff d;
    pvgit_tablediff out;
    int rc, key_changed = 0, types_differ = 0, schema_same = 0;
    size_t i;
    memset(&d, 0, sizeof d);
    if ((rc = tside_open(&d.side[0], a, name_a ? name_a : name_b))) goto done;
    if ((rc = tside_open(&d.side[1], b, name_b ? name_b : name_a))) goto done;
    if (!d.side[0].present && !d.side[1].present) goto done;
    /* the whole table unchanged: same tree in both revisions */
    if (d.side[0].tree && d.side[1].tree && git_oid_equal(git_tree_id(d.side[0].tree), git_tree_id(d.side[1].tree)))
        goto done;
    if (d.side[0].present && d.side[1].present) {
        schema_same = d.side[0].schema_len == d.side[1].schema_len &&
                      memcmp(d.side[0].schema_text, d.side[1].schema_text, d.side[0].schema_len) == 0;
        if ((rc = compare_schemas(&d, &key_changed, &types_differ))) goto done;
    }
    if (key_changed) {
        /* keys are not comparable: all old rows go, all new rows come */
        kmap other;
        memset(&other, 0, sizeof other);
        rc = decode_all(&d.km, 0, &d.side[0], o);
        if (!rc) rc = decode_all(&other, 1, &d.side[1], o);
        for (i = 0; !rc && i < d.km.n; i++)
            if (state(&d.km.e[i], 0)) rc = push_row(&d, PVGIT_ROW_DELETED, &d.km.e[i], state(&d.km.e[i], 0), NULL);
        if (!rc && d.nrows > 1) qsort_r(d.rows, d.nrows, sizeof *d.rows, cmp_rows, d.side[0].schema);
        {
            size_t first = d.nrows;
            for (i = 0; !rc && i < other.n; i++)
                if (state(&other.e[i], 1)) rc = push_row(&d, PVGIT_ROW_ADDED, &other.e[i], NULL, state(&other.e[i], 1));
            if (!rc && d.nrows - first > 1)
                qsort_r(d.rows + first, d.nrows - first, sizeof *d.rows, cmp_rows, d.side[1].schema);
        }
        if (!rc) {
            memset(&out, 0, sizeof out);
            out.name = d.side[1].name;
            out.old_schema = d.side[0].schema;
            out.new_schema = d.side[1].schema;
            out.old_of_new = d.old_of_new;
            out.new_of_old = d.new_of_old;
            out.key_changed = 1;
            out.cols = d.cols;
            out.ncols = d.ncols;
            out.rows = d.rows;
            out.nrows = d.nrows;
            out.added = d.added;
            out.deleted = d.deleted;
            if (!o->key || d.nrows) rc = o->fn(o->ctx, &out);
        }
        kmap_free(&other);
        goto done;
    }
    if (!d.side[0].present || !d.side[1].present || types_differ) {
        /* a new or dropped table, or values to read as other types */
        if (d.side[0].present) rc = decode_all(&d.km, 0, &d.side[0], o);
        if (!rc && d.side[1].present) rc = decode_all(&d.km, 1, &d.side[1], o);
    } else {
        /* chunk by chunk: identical ones are not decoded */
        tside *ta = &d.side[0], *tb = &d.side[1];
        size_t ia = 0, ib = 0, nsame = 0;
        uint32_t *same_a = malloc((ta->nchunks + 1) * sizeof *same_a);
        uint32_t *same_b = malloc((ta->nchunks + 1) * sizeof *same_b);
        if (!same_a || !same_b) rc = pv_err(PV_ENOMEM, "out of memory");
        while (!rc && (ia < ta->nchunks || ib < tb->nchunks)) {
            chunkinfo *ca = ia < ta->nchunks ? &ta->chunks[ia] : NULL;
            chunkinfo *cb = ib < tb->nchunks ? &tb->chunks[ib] : NULL;
            int same = 0;
            if (ca && cb && ca->num == cb->num) {
                if ((rc = chunk_same(ta, ca, tb, cb, &same))) break;
                if (same) {
                    same_a[nsame] = (uint32_t)ia;
                    same_b[nsame++] = (uint32_t)ib;
                } else {
                    rc = decode_chunk(&d.km, 0, ta, ca, ia + 1 == ta->nchunks, o->key, o->keylen);
                    if (!rc) rc = decode_chunk(&d.km, 1, tb, cb, ib + 1 == tb->nchunks, o->key, o->keylen);
                }
                ia++, ib++;
            } else if (ca && (!cb || ca->num < cb->num)) {
                rc = decode_chunk(&d.km, 0, ta, ca, ia + 1 == ta->nchunks, o->key, o->keylen);
                ia++;
            } else {
                rc = decode_chunk(&d.km, 1, tb, cb, ib + 1 == tb->nchunks, o->key, o->keylen);
                ib++;
            }
        }
        if (!rc) rc = scan_identical(&d, same_a, same_b, nsame);
        free(same_a);
        free(same_b);
    }
    if (rc) goto done;
    for (i = 0; i < d.km.n && !rc; i++) {
        const kent *e = &d.km.e[i];
        const rec *ro = state(e, 0), *rn = state(e, 1);
        if (ro && rn) {
            if (rows_differ(&d, ro, rn)) rc = push_row(&d, PVGIT_ROW_CHANGED, e, ro, rn);
        } else if (ro) {
            rc = push_row(&d, PVGIT_ROW_DELETED, e, ro, NULL);
        } else if (rn) {
            rc = push_row(&d, PVGIT_ROW_ADDED, e, NULL, rn);
        }
    }
    if (rc) goto done;
    if (!d.nrows && (o->key || (schema_same && d.side[0].present && d.side[1].present))) goto done;
    if (d.nrows > 1)
        qsort_r(d.rows, d.nrows, sizeof *d.rows, cmp_rows, d.side[1].present ? d.side[1].schema : d.side[0].schema);
    memset(&out, 0, sizeof out);
    out.name = d.side[1].present ? d.side[1].name : d.side[0].name;
    out.old_schema = d.side[0].present ? d.side[0].schema : NULL;
    out.new_schema = d.side[1].present ? d.side[1].schema : NULL;
    out.old_of_new = d.old_of_new;
    out.new_of_old = d.new_of_old;
    out.cols = d.cols;
    out.ncols = d.ncols;
    out.rows = d.rows;
    out.nrows = d.nrows;
    out.added = d.added;
    out.deleted = d.deleted;
    out.changed = d.changed;
    if (!d.nrows && !d.ncols && d.side[0].present && d.side[1].present) goto done;
    rc = o->fn(o->ctx, &out);
done:
    tdiff_free(&d);
    return rc;
}

int pvgit_diff(pvgit_side *a, pvgit_side *b, const pvgit_diff_opts *o)
{
    char **na = NULL, **nb = NULL;
    size_t ca = 0, cb = 0, i = 0, j = 0;
    int rc;
    if ((rc = side_tables(a, &na, &ca))) return rc;
    if ((rc = side_tables(b, &nb, &cb))) {
        pv_names_free(na, ca);
        return rc;
    }
    /* walk both name lists (bytewise sorted; names match case-insensitively) */
    while (!rc && (i < ca || j < cb)) {
        const char *x = i < ca ? na[i] : NULL, *y = j < cb ? nb[j] : NULL;
        int c;
        if (x && y) {
            c = pv_ident_eq(x, strlen(x), y, strlen(y)) ? 0 : strcmp(x, y);
        } else {
            c = x ? -1 : 1;
        }
        if (c == 0) {
            if (!o->table || pv_ident_eq(x, strlen(x), o->table, strlen(o->table))) rc = diff_table(a, b, x, y, o);
            i++, j++;
        } else if (c < 0) {
            if (!o->table || pv_ident_eq(x, strlen(x), o->table, strlen(o->table))) rc = diff_table(a, b, x, NULL, o);
            i++;
        } else {
            if (!o->table || pv_ident_eq(y, strlen(y), o->table, strlen(o->table))) rc = diff_table(a, b, NULL, y, o);
            j++;
        }
    }
    pv_names_free(na, ca);
    pv_names_free(nb, cb);
    return rc;
}

/* ---- keys and values as text ------------------------------------------------------------ */

int pvgit_key_parse(const pv_schema *s, const char *arg, pv_buf *out)
{
    const char *p = arg;
    uint32_t k;
    pv_arena a = PV_ARENA_INIT;
    int rc = PV_OK;
    out->len = 0;
    for (k = 0; k < s->npk && !rc; k++) {
        const pv_column *col = &s->cols[s->pk[k]];
        const char *end;
        pv_value in, v;
        char scratch[64];
        if (k) {
            if (*p != ',') {
                rc = pv_err(PV_EINPUT, "key '%s': table %s has a key of %u columns; separate them with ','", arg,
                            s->name, s->npk);
                break;
            }
            p++;
        }
        if (*p == '"') {
            pv_jscan j = {p, p + strlen(p), p};
            const char *str;
            size_t n;
            if (pv_js_string(&j, &a, &str, &n)) {
                rc = pv_err(PV_EINPUT, "key '%s': bad JSON string", arg);
                break;
            }
            in = pv_v_text(str, n);
            end = j.p;
        } else if (*p == '{' && col->type == PV_BLOB) {
            /* {"hex":"..."}, as pvgit_key_text prints a BLOB */
            pv_jscan j = {p, p + strlen(p), p};
            if (pv_js_value(&j, PV_BLOB, &a, &in)) {
                rc = pv_err(PV_EINPUT, "key '%s': bad BLOB value (write {\"hex\":\"...\"})", arg);
                break;
            }
            end = j.p;
        } else {
            end = k + 1 < s->npk ? strchr(p, ',') : NULL;
            if (!end) end = p + strlen(p);
            in = pv_v_text(p, (size_t)(end - p));
        }
        if (pv_value_convert(&in, col->type, &v, scratch) != PV_OK || v.type == PV_NULL) {
            rc = pv_err(PV_EINPUT, "key '%s': '%.*s' is not a valid %s for column %s", arg, (int)in.u.s.n, in.u.s.p,
                        pv_type_name(col->type), col->name);
            break;
        }
        if (k) rc = pv_buf_putc(out, ',');
        if (!rc) rc = pv_chunk_encode_value(out, &v);
        p = end;
    }
    if (!rc && *p) rc = pv_err(PV_EINPUT, "key '%s': unexpected '%s' after the key", arg, p);
    if (!rc && !out->p) rc = pv_buf_reserve(out, 1);
    pv_arena_free(&a);
    return rc;
}

int pvgit_value_text(pv_buf *out, const pv_value *v, int isref)
{
    pv_blobref r;
    if (isref) return pv_buf_append(out, v->u.s.p, v->u.s.n);
    if (pv_blob_by_ref(v)) {
        /* the reference a writer would put in the chunk */
        pv_blobref_of(v->u.s.p, v->u.s.n, &r);
        return put_ref(out, &r);
    }
    return pv_chunk_encode_value(out, v);
}

static int plain_text(const pv_value *v)
{
    size_t i;
    if (v->type != PV_TEXT || v->u.s.n == 0) return 0;
    for (i = 0; i < v->u.s.n; i++) {
        unsigned char c = (unsigned char)v->u.s.p[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c >= 0x80 ||
              strchr("-_.:/@+", c)))
            return 0;
    }
    return 1;
}

int pvgit_key_text(pv_buf *out, const pv_value *key, uint32_t n)
{
    uint32_t k;
    int rc = PV_OK;
    for (k = 0; k < n && !rc; k++) {
        if (k) rc = pv_buf_putc(out, ',');
        if (rc) break;
        if (plain_text(&key[k])) rc = pv_buf_append(out, key[k].u.s.p, key[k].u.s.n);
        else rc = pv_chunk_encode_value(out, &key[k]);
    }
    return rc;
}
