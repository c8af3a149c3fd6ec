/*
 * setup.c: `.gitattributes`, the local config and the hooks of a
 * repository holding a workspace (setup.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pvgit.h"
#include "setup.h"
#include "util.h"

/* Keep in step with hooks/pre-commit (a test compares them). */
const char pvgit_hook_pre_commit[] =
    "#!/bin/sh\n"
    PVGIT_HOOK_MARKER ": pre-commit (PicoVolt)\n"
    "# Written by 'pvdev git-setup', which rewrites it; 'pvdev git-setup\n"
    "# --uninstall' removes it. To keep a hook of your own instead, call\n"
    "# 'pvdev hook pre-commit || exit 1' from it (or from your hook manager).\n"
    "#\n"
    "# Refuses a commit whose staged .pv/ files do not parse, hold git conflict\n"
    "# markers or unresolved merge conflicts. Without pvdev it does nothing.\n"
    "if ! command -v pvdev >/dev/null 2>&1; then\n"
    "    echo \"pre-commit: pvdev is not on PATH: staged .pv/ files not checked\" >&2\n"
    "    exit 0\n"
    "fi\n"
    "exec pvdev hook pre-commit\n";

/* Keep in step with hooks/pre-merge-commit (a test compares them). */
const char pvgit_hook_pre_merge_commit[] =
    "#!/bin/sh\n"
    PVGIT_HOOK_MARKER ": pre-merge-commit (PicoVolt)\n"
    "# Written by 'pvdev git-setup', which rewrites it; 'pvdev git-setup\n"
    "# --uninstall' removes it. To keep a hook of your own instead, call\n"
    "# 'pvdev hook pre-merge-commit || exit 1' from it (or from your hook manager).\n"
    "#\n"
    "# Refuses a merge commit whose .pv/ files the pre-commit hook would refuse,\n"
    "# or whose merged rows break a unique index (each branch added a row with\n"
    "# the same value). The merge stays in progress: fix, 'git add', 'git commit'.\n"
    "# Without pvdev it does nothing.\n"
    "if ! command -v pvdev >/dev/null 2>&1; then\n"
    "    echo \"pre-merge-commit: pvdev is not on PATH: the merged .pv/ files not checked\" >&2\n"
    "    exit 0\n"
    "fi\n"
    "exec pvdev hook pre-merge-commit\n";

/* ---- files ------------------------------------------------------------------ */

/* Replace a file's content (temporary file + rename), with `mode`. */
static int write_file(const char *path, const char *data, size_t n, mode_t mode)
{
    char tmp[PATH_MAX + 16];
    int fd, rc;
    snprintf(tmp, sizeof tmp, "%s.pvtmp", path);
    if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, mode)) < 0) return pv_err_errno("cannot create '%s'", tmp);
    rc = pv_write_all(fd, data, n, tmp);
    if (!rc && fchmod(fd, mode) != 0) rc = pv_err_errno("cannot chmod '%s'", tmp);
    if (close(fd) != 0 && !rc) rc = pv_err_errno("cannot write '%s'", tmp);
    if (!rc && rename(tmp, path) != 0) rc = pv_err_errno("cannot rename '%s'", tmp);
    if (rc) unlink(tmp);
    return rc;
}

static int mkdir_p(const char *dir)
{
    char p[PATH_MAX];
    size_t i;
    snprintf(p, sizeof p, "%s", dir);
    for (i = 1; p[i]; i++) {
        if (p[i] != '/') continue;
        p[i] = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) return pv_err_errno("cannot create '%s'", p);
        p[i] = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST) return pv_err_errno("cannot create '%s'", p);
    return PV_OK;
}

/* Is `line` (without its newline) one of the lines of text? */
static int has_line(const char *text, size_t len, const char *line)
{
    size_t n = strlen(line);
    const char *p = text, *end = text + len, *nl;
    for (; p < end; p = nl + 1) {
        size_t m;
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        m = (size_t)(nl - p);
        if (m && p[m - 1] == '\r') m--;
        if (m == n && memcmp(p, line, n) == 0) return 1;
    }
    return 0;
}

/* A line of text whose pattern is ours (.pv/tables/ and two stars), or NULL. */
static const char *pattern_line(const char *text, size_t len)
{
    static const char pat[] = ".pv/tables/**";
    const char *p = text, *end = text + len, *nl;
    for (; p && p < end; p = nl + 1) {
        const char *q = p;
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        while (q < nl && (*q == ' ' || *q == '\t')) q++;
        if (*q == '/') q++;
        if ((size_t)(nl - q) > sizeof pat - 1 && memcmp(q, pat, sizeof pat - 1) == 0 &&
            (q[sizeof pat - 1] == ' ' || q[sizeof pat - 1] == '\t'))
            return p;
    }
    return NULL;
}

static int setup_attributes(const char *dir, int uninstall, FILE *msg)
{
    char path[PATH_MAX];
    char *text = NULL;
    size_t len = 0;
    pv_buf out = PV_BUF_INIT;
    int rc, present;
    snprintf(path, sizeof path, "%s/.gitattributes", dir);
    rc = pv_read_file(path, 16u << 20, &text, &len);
    if (rc && rc != PV_ENOTFOUND) return rc;
    rc = PV_OK;
    present = text && has_line(text, len, PVGIT_ATTR_LINE);
    if (!uninstall) {
        const char *own = present ? NULL : pattern_line(text, len);
        if (present) {
            fprintf(msg, ".gitattributes: up to date\n");
        } else if (own) {
            /* the user's own line for our pattern wins: not ours to change */
            fprintf(msg, ".gitattributes: '%.*s' already configures .pv/tables/**: left as it is\n",
                    (int)strcspn(own, "\r\n"), own);
        } else {
            if (len) rc = pv_buf_append(&out, text, len);
            if (!rc && len && text[len - 1] != '\n') rc = pv_buf_putc(&out, '\n');
            if (!rc) rc = pv_buf_append(&out, PVGIT_ATTR_LINE "\n", strlen(PVGIT_ATTR_LINE) + 1);
            if (!rc) rc = write_file(path, out.p, out.len, 0666 & ~0022);
            if (!rc) fprintf(msg, ".gitattributes: added '%s' (commit it)\n", PVGIT_ATTR_LINE);
        }
    } else if (present) {
        const char *p = text, *end = text + len, *nl;
        int other = 0;
        for (; p < end && !rc; p = nl + 1) {
            size_t m;
            nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) nl = end;
            m = (size_t)(nl - p);
            if ((m == strlen(PVGIT_ATTR_LINE) || (m == strlen(PVGIT_ATTR_LINE) + 1 && p[m - 1] == '\r')) &&
                memcmp(p, PVGIT_ATTR_LINE, strlen(PVGIT_ATTR_LINE)) == 0)
                continue;
            rc = pv_buf_append(&out, p, (size_t)(nl - p) + (nl < end));
            other = 1;
        }
        if (!rc && other) rc = write_file(path, out.p ? out.p : "", out.len, 0666 & ~0022);
        else if (!rc && unlink(path) != 0) rc = pv_err_errno("cannot remove '%s'", path);
        if (!rc) fprintf(msg, ".gitattributes: removed '%s'%s\n", PVGIT_ATTR_LINE, other ? "" : " (and the file, now empty)");
    }
    free(text);
    pv_buf_free(&out);
    return rc;
}

/* ---- config ------------------------------------------------------------------ */

struct setting {
    const char *name, *value;
};

static const struct setting settings[] = {
    {"merge.pv.name", PVGIT_MERGE_NAME},
    {"merge.pv.driver", PVGIT_MERGE_DRIVER},
    {"diff.pv.textconv", PVGIT_TEXTCONV},
    {"diff.pv.cachetextconv", "true"},
};
#define NSETTINGS (sizeof settings / sizeof settings[0])

/* After deleting our variables libgit2 leaves their section headers: drop
 * the headers `[merge "pv"]` and `[diff "pv"]` that hold nothing now. */
static int drop_empty_sections(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    pv_buf out = PV_BUF_INIT;
    const char *p, *end, *nl;
    int rc = pv_read_file(path, 64u << 20, &text, &len), changed = 0;
    if (rc) return rc == PV_ENOTFOUND ? PV_OK : rc;
    p = text;
    end = text + len;
    for (; p < end && !rc; p = nl + 1) {
        const char *q;
        size_t m;
        nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        m = (size_t)(nl - p);
        if ((m == 12 && !memcmp(p, "[merge \"pv\"]", 12)) || (m == 11 && !memcmp(p, "[diff \"pv\"]", 11))) {
            /* empty when the next non-blank line starts a section, or none */
            for (q = nl + 1; q < end && (*q == ' ' || *q == '\t' || *q == '\n'); q++) {}
            if (q >= end || *q == '[') {
                changed = 1;
                continue;
            }
        }
        rc = pv_buf_append(&out, p, m + (nl < end));
    }
    if (!rc && changed) rc = write_file(path, out.p ? out.p : "", out.len, 0666 & ~0022);
    free(text);
    pv_buf_free(&out);
    return rc;
}

/* A value some pvdev wrote for setting i: the current one, or the textconv
 * command of another output version ("pvdev textconv --vN"), which an
 * upgrade must replace (git keys its cached conversions by the command).
 * Any other value was set by the user and is kept unless forced. */
static int pvdev_value(size_t i, const char *v)
{
    static const char textconv[] = "pvdev textconv --v";
    const char *p;
    if (!strcmp(v, settings[i].value)) return 1;
    if (strcmp(settings[i].name, "diff.pv.textconv") || strncmp(v, textconv, sizeof textconv - 1))
        return 0;
    for (p = v + sizeof textconv - 1; *p >= '0' && *p <= '9'; p++) {}
    return p > v + sizeof textconv - 1 && !*p;
}

/* What the summary line reports: the value configured now. */
static const char *now_value(git_config *local, const char *name, git_buf *buf, const char *dflt)
{
    git_buf_dispose(buf);
    return git_config_get_string_buf(buf, local, name) == 0 ? buf->ptr : dflt;
}

static int setup_config(git_repository *repo, unsigned flags, FILE *msg)
{
    git_config *cfg = NULL, *local = NULL;
    git_buf val = GIT_BUF_INIT, v2 = GIT_BUF_INIT;
    size_t i, changed = 0;
    int rc, uninstall = !!(flags & PVGIT_SETUP_UNINSTALL);
    if ((rc = git_repository_config(&cfg, repo))) return pvgit_fail(rc, "config");
    if ((rc = git_config_open_level(&local, cfg, GIT_CONFIG_LEVEL_LOCAL))) {
        git_config_free(cfg);
        return pvgit_fail(rc, "local config");
    }
    for (i = 0; i < NSETTINGS && !rc; i++) {
        int have = git_config_get_string_buf(&val, local, settings[i].name) == 0;
        if (!uninstall && have && !(flags & PVGIT_SETUP_FORCE) && !pvdev_value(i, val.ptr)) {
            /* the user's own (a wrapper, a path): kept, as a foreign hook is */
            fprintf(msg, "config: %s = %s kept (not pvdev's value: %s); "
                    "'pvdev git-setup --force' replaces it\n", settings[i].name, val.ptr, settings[i].value);
        } else if (!uninstall && (!have || strcmp(val.ptr, settings[i].value) != 0)) {
            if ((rc = git_config_set_string(local, settings[i].name, settings[i].value)))
                rc = pvgit_fail(rc, settings[i].name);
            changed++;
        } else if (uninstall && have) {
            if ((rc = git_config_delete_entry(local, settings[i].name))) rc = pvgit_fail(rc, settings[i].name);
            changed++;
        }
        git_buf_dispose(&val);
    }
    if (!rc && changed && !uninstall)
        fprintf(msg, "config: merge.pv.driver = %s, diff.pv.textconv = %s\n",
                now_value(local, "merge.pv.driver", &val, PVGIT_MERGE_DRIVER),
                now_value(local, "diff.pv.textconv", &v2, PVGIT_TEXTCONV));
    git_buf_dispose(&val);
    git_buf_dispose(&v2);
    git_config_free(local);
    git_config_free(cfg);
    if (!rc && uninstall && changed) {
        git_buf path = GIT_BUF_INIT;
        if (git_repository_item_path(&path, repo, GIT_REPOSITORY_ITEM_CONFIG) == 0) rc = drop_empty_sections(path.ptr);
        git_buf_dispose(&path);
    }
    if (rc) return rc;
    if (!changed) fprintf(msg, uninstall ? "config: nothing to remove\n" : "config: up to date\n");
    else if (uninstall) fprintf(msg, "config: removed merge.pv.* and diff.pv.*\n");
    return PV_OK;
}

/* ---- hooks ------------------------------------------------------------------- */

/* The directory git runs hooks from: core.hooksPath (relative to the top
 * of the work tree, or to the git directory of a bare repository), else
 * the common git directory's hooks/ (shared by linked worktrees). */
static int hooks_dir(git_repository *repo, char *out, size_t cap)
{
    git_config *cfg = NULL;
    git_buf b = GIT_BUF_INIT;
    int rc;
    if ((rc = git_repository_config_snapshot(&cfg, repo))) return pvgit_fail(rc, "config");
    if (git_config_get_path(&b, cfg, "core.hooksPath") == 0 && b.ptr && b.ptr[0]) {
        const char *base = git_repository_workdir(repo) ? git_repository_workdir(repo) : git_repository_path(repo);
        if (b.ptr[0] == '/') snprintf(out, cap, "%s", b.ptr);
        else snprintf(out, cap, "%s%s%s", base, base[strlen(base) - 1] == '/' ? "" : "/", b.ptr);
    } else {
        const char *common = git_repository_commondir(repo);
        snprintf(out, cap, "%s%shooks", common, common[strlen(common) - 1] == '/' ? "" : "/");
    }
    git_buf_dispose(&b);
    git_config_free(cfg);
    return PV_OK;
}

static int setup_hook(git_repository *repo, const char *name, const char *text, int uninstall, FILE *msg)
{
    char dir[PATH_MAX], path[PATH_MAX + 64];
    char *old = NULL;
    size_t len = 0;
    int rc;
    if ((rc = hooks_dir(repo, dir, sizeof dir))) return rc;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    rc = pv_read_file(path, 16u << 20, &old, &len);
    if (rc && rc != PV_ENOTFOUND) return rc;
    rc = PV_OK;
    if (old && !strstr(old, PVGIT_HOOK_MARKER)) {
        if (!uninstall)
            fprintf(msg,
                    "hooks: %s exists and was not written by pvdev: left alone; add this line to it\n"
                    "       (or to your hook manager's %s): pvdev hook %s || exit 1\n",
                    path, name, name);
    } else if (uninstall) {
        if (old && unlink(path) != 0) rc = pv_err_errno("cannot remove '%s'", path);
        else if (old) fprintf(msg, "hooks: removed %s\n", path);
    } else if (old && len == strlen(text) && memcmp(old, text, len) == 0) {
        struct stat st;
        if (stat(path, &st) == 0 && (st.st_mode & 0111) != 0111 && chmod(path, st.st_mode | 0755) != 0)
            rc = pv_err_errno("cannot chmod '%s'", path);
        if (!rc) fprintf(msg, "hooks: %s up to date\n", name);
    } else {
        if (!(rc = mkdir_p(dir)) && !(rc = write_file(path, text, strlen(text), 0755)))
            fprintf(msg, "hooks: %s %s\n", old ? "updated" : "installed", path);
    }
    free(old);
    return rc;
}

int pvgit_setup(const char *dir, unsigned flags, FILE *msg)
{
    git_repository *repo = NULL;
    int rc, uninstall = !!(flags & PVGIT_SETUP_UNINSTALL);
    if ((flags & PVGIT_SETUP_UNINSTALL) && (flags & PVGIT_SETUP_FORCE))
        return pv_err(PV_EMISUSE, "git set-up: --force replaces values, --uninstall removes them: not both");
    git_libgit2_init();
    rc = git_repository_open_ext(&repo, dir, 0, NULL);
    if (rc == GIT_ENOTFOUND) {
        git_libgit2_shutdown();
        return pv_err(PV_ENOTFOUND, "'%s' is not in a git repository", dir);
    }
    if (rc) {
        rc = pvgit_fail(rc, dir);
        git_libgit2_shutdown();
        return rc;
    }
    if (git_repository_workdir(repo)) rc = setup_attributes(dir, uninstall, msg);
    if (!rc) rc = setup_config(repo, flags, msg);
    if (!rc) rc = setup_hook(repo, "pre-commit", pvgit_hook_pre_commit, uninstall, msg);
    if (!rc) rc = setup_hook(repo, "pre-merge-commit", pvgit_hook_pre_merge_commit, uninstall, msg);
    git_repository_free(repo);
    git_libgit2_shutdown();
    return rc;
}

/* ---- the warning -------------------------------------------------------------------- */

void pvgit_setup_warn(const char *dir, const char *command)
{
    git_repository *repo = NULL;
    git_config *cfg = NULL;
    git_buf val = GIT_BUF_INIT;
    char path[PATH_MAX];
    char *prefix = NULL;
    const char *attr = NULL;
    struct stat st;
    if (command && (!strcmp(command, "init") || !strcmp(command, "git-setup"))) return;
    snprintf(path, sizeof path, "%s/.pv", dir);
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode)) return;
    if (pvgit_repo_open(dir, &repo, &prefix) != PV_OK) return;
    if (!git_repository_workdir(repo)) goto done;
    snprintf(path, sizeof path, "%s.pv/tables/t/00000001.jsonl", prefix);
    if (git_attr_get(&attr, repo, 0, path, "merge") != 0 || !attr || git_attr_value(attr) != GIT_ATTR_VALUE_STRING ||
        strcmp(attr, "pv") != 0)
        goto done;
    if (git_repository_config_snapshot(&cfg, repo) != 0) goto done;
    if (git_config_get_string_buf(&val, cfg, "merge.pv.driver") != 0)
        fprintf(stderr, "pvdev: warning: .gitattributes sends .pv/ files to the pv merge driver, but this clone's "
                        "git config has no merge.pv.driver: git would merge chunk files as text. Run 'pvdev git-setup'.\n");
done:
    git_buf_dispose(&val);
    git_config_free(cfg);
    git_repository_free(repo);
    free(prefix);
}
