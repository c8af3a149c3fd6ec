/*
 * merge_pick.c: the commit a cherry-pick is picking (merge_pick.h).
 *
 * git runs the driver for a cherry-pick with %O %A %B only; a commit below
 * a ref tip may hold the same file as the tip, and the two readings (merge
 * the tip, pick that commit) give different rows when the tip changed the
 * table's other chunks since. git's own command line says which commit it
 * is: the driver's ancestors are `/bin/sh -c 'pvdev merge-driver ...'`
 * and the git process itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "merge_pick.h"
#include "util.h"

#define ANCESTORS_MAX 6

/* The parent process of `pid` from /proc/PID/stat (after the command
 * name in parentheses, which may hold blanks): 0 when unknown. */
static long parent_of(long pid)
{
    char path[64], buf[1024], *p;
    long ppid = 0;
    FILE *f;
    size_t n;
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    if (!(f = fopen(path, "r"))) return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    if (!(p = strrchr(buf, ')')) || sscanf(p + 1, " %*c %ld", &ppid) != 1) return 0;
    return ppid;
}

/* argv of `pid`: up to cap arguments pointing into buf; their count, or -1. */
static int argv_of(long pid, char *buf, size_t size, char **argv, int cap)
{
    char path[64];
    FILE *f;
    size_t n, i;
    int argc = 0;
    snprintf(path, sizeof path, "/proc/%ld/cmdline", pid);
    if (!(f = fopen(path, "r"))) return -1;
    n = fread(buf, 1, size - 1, f);
    fclose(f);
    if (n == size - 1) return -1; /* cut: do not guess */
    buf[n] = 0;
    for (i = 0; i < n && argc < cap; i += strlen(buf + i) + 1) argv[argc++] = buf + i;
    return argc;
}

static int is_git(const char *arg0)
{
    const char *b = strrchr(arg0, '/');
    return !strcmp(b ? b + 1 : arg0, "git");
}

/* git's options before the subcommand that take the next argument */
static int global_takes_value(const char *a)
{
    static const char *const opts[] = {"-C", "-c", "--git-dir", "--work-tree", "--namespace", "--config-env",
                                       "--super-prefix"};
    size_t i;
    for (i = 0; i < sizeof opts / sizeof *opts; i++)
        if (!strcmp(a, opts[i])) return 1; /* (--opt=value carries it) */
    return 0;
}

/* cherry-pick's options that take the next argument when not attached */
static int pick_takes_value(const char *a)
{
    return !strcmp(a, "-m") || !strcmp(a, "--mainline") || !strcmp(a, "-s") || !strcmp(a, "--strategy") ||
           !strcmp(a, "-X") || !strcmp(a, "--strategy-option") || !strcmp(a, "--cleanup");
}

/* The one revision of `git cherry-pick [options] REV` and its mainline:
 * 1, or 0 when the command is not that (another subcommand, a range,
 * several revisions, --continue and friends). */
static int parse_pick(int argc, char **argv, const char **rev, int *mainline)
{
    int i = 1, nrev = 0;
    while (i < argc && argv[i][0] == '-') i += global_takes_value(argv[i]) ? 2 : 1;
    if (i >= argc || strcmp(argv[i], "cherry-pick") != 0) return 0;
    *mainline = 0;
    for (i++; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-m") || !strcmp(a, "--mainline")) {
            if (i + 1 < argc) *mainline = atoi(argv[i + 1]);
            i++;
        } else if (!strncmp(a, "--mainline=", 11)) {
            *mainline = atoi(a + 11);
        } else if (!strncmp(a, "-m", 2) && a[2] >= '0' && a[2] <= '9') {
            *mainline = atoi(a + 2);
        } else if (pick_takes_value(a)) {
            i++;
        } else if (!strcmp(a, "--continue") || !strcmp(a, "--skip") || !strcmp(a, "--abort") ||
                   !strcmp(a, "--quit") || !strcmp(a, "--stdin")) {
            return 0;
        } else if (a[0] != '-') {
            if (a[0] == '^' || strstr(a, "..")) return 0;
            *rev = a;
            nrev++;
        }
    }
    return nrev == 1;
}

/* The pick named by the nearest git process above the driver. */
static int pick_from_process(git_repository *repo, git_oid *pick, int *mainline)
{
    char buf[8192], *argv[64];
    long pid = (long)getppid();
    int depth, argc;
    for (depth = 0; depth < ANCESTORS_MAX && pid > 1; depth++, pid = parent_of(pid)) {
        const char *rev = NULL;
        git_object *o = NULL;
        int ok;
        if ((argc = argv_of(pid, buf, sizeof buf, argv, 64)) < 1 || !is_git(argv[0])) continue;
        if (!parse_pick(argc, argv, &rev, mainline)) return 0;
        ok = git_revparse_single(&o, repo, rev) == 0;
        if (ok) {
            git_object *c = NULL;
            ok = git_object_peel(&c, o, GIT_OBJECT_COMMIT) == 0;
            if (ok) git_oid_cpy(pick, git_object_id(c));
            git_object_free(c);
        }
        git_object_free(o);
        return ok;
    }
    return 0;
}

/* The pick at the top of sequencer/todo (a cherry-pick of several commits). */
static int pick_from_todo(git_repository *repo, git_oid *pick)
{
    char path[4200], *text = NULL, id[GIT_OID_HEXSZ + 1];
    const char *p;
    size_t len;
    git_object *o = NULL;
    int ok = 0;
    snprintf(path, sizeof path, "%ssequencer/todo", git_repository_path(repo));
    if (pv_read_file(path, 1u << 24, &text, &len) != PV_OK) return 0;
    for (p = text; *p == '#' || *p == '\n';) p = strchr(p, '\n') ? strchr(p, '\n') + 1 : p + strlen(p);
    if ((!strncmp(p, "pick ", 5) || !strncmp(p, "p ", 2)) && sscanf(strchr(p, ' ') + 1, "%40s", id) == 1 &&
        git_revparse_single(&o, repo, id) == 0 && git_object_type(o) == GIT_OBJECT_COMMIT) {
        git_oid_cpy(pick, git_object_id(o));
        ok = 1;
    }
    git_object_free(o);
    free(text);
    return ok;
}

int pvgit_pick_hint(git_repository *repo, git_oid *pick, git_oid *base)
{
    git_commit *c = NULL;
    int mainline = 0, ok;
    ok = pick_from_todo(repo, pick) || pick_from_process(repo, pick, &mainline);
    if (ok && git_commit_lookup(&c, repo, pick) == 0) {
        unsigned idx = mainline > 0 ? (unsigned)mainline - 1 : 0;
        ok = idx < git_commit_parentcount(c) && (mainline > 0 || git_commit_parentcount(c) == 1);
        if (ok) git_oid_cpy(base, git_commit_parent_id(c, idx));
    } else {
        ok = 0;
    }
    git_commit_free(c);
    return ok;
}
