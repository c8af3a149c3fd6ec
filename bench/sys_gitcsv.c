/*
 * sys_gitcsv.c: the git rows' baseline, the same rows kept as one plain CSV
 * file in a scratch git repository under bench/cache/ (never the project's
 * own repository).
 *
 * merge: the base commit holds the CSV; branch a appends M rows, branch b
 *        appends M other rows; `.gitattributes` gives the CSV git's union
 *        merge driver (the only built-in driver that merges two appends
 *        without a conflict). Timed: `git merge --no-edit b` on a; between
 *        runs `git reset --hard` puts a back (untimed).
 * diff:  one row's value changed in the work tree; timed: `git diff`.
 */
#include "bench.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* git -C repo <args...>, with an identity so commits work anywhere. */
int bench_git(const char *repo, const char *log, double *secs, ...);
int bench_git(const char *repo, const char *log, double *secs, ...)
{
    char *argv[40];
    int n = 0;
    va_list ap;
    argv[n++] = "git";
    argv[n++] = "-C";
    argv[n++] = (char *)repo;
    argv[n++] = "-c";
    argv[n++] = "user.name=PicoVolt bench";
    argv[n++] = "-c";
    argv[n++] = "user.email=bench@picovolt.invalid";
    argv[n++] = "-c";
    argv[n++] = "commit.gpgsign=false";
    argv[n++] = "-c";
    argv[n++] = "core.hooksPath=/dev/null";
    va_start(ap, secs);
    while (n < 39 && (argv[n] = va_arg(ap, char *))) n++;
    va_end(ap);
    argv[n] = NULL;
    return run_cmd(NULL, NULL, log, secs, argv);
}

/* Lines in a file, minus a header line. */
static long data_lines(const char *path)
{
    int fd = open(path, O_RDONLY);
    struct stat st;
    long n = 0;
    const char *m;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0) close(fd);
        return -1;
    }
    if (st.st_size == 0) {
        close(fd);
        return 0;
    }
    m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (m == MAP_FAILED) return -1;
    for (const char *p = m; (p = memchr(p, '\n', (size_t)(m + st.st_size - p))); p++) n++;
    munmap((void *)m, (size_t)st.st_size);
    return n - 1;
}

/* Change one digit of the row with id `key` in place (same length). */
static int change_row(const char *path, int64_t key)
{
    int fd = open(path, O_RDWR);
    struct stat st;
    char pat[40], *m, *p;
    int rc = -1;
    if (fd < 0 || fstat(fd, &st) != 0) goto done;
    m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m == MAP_FAILED) goto done;
    snprintf(pat, sizeof pat, "\n%lld,", (long long)key);
    p = memmem(m, (size_t)st.st_size, pat, strlen(pat));
    if (p) {
        char *eol = memchr(p + 1, '\n', (size_t)(m + st.st_size - p - 1));
        /* the last digit of distance: 4th field */
        char *q = p + 1;
        for (int f = 0; f < 4 && q; f++) q = memchr(q, ',', (size_t)(eol - q)), q = q ? q + 1 : NULL;
        if (q && q - 2 >= p && q[-2] >= '0' && q[-2] <= '9') {
            q[-2] = (char)('0' + (q[-2] - '0' + 1) % 10);
            rc = 0;
        }
    }
    msync(m, (size_t)st.st_size, MS_SYNC);
    munmap(m, (size_t)st.st_size);
done:
    if (fd >= 0) close(fd);
    return rc;
}

/* A scratch repository `name` under the cache: the first `base` rows as
 * flights.csv (union merge), branch a and b appending merge_rows each, a
 * checked out; then `git merge b` timed into row `op`. 0, or -1 when git
 * failed (the log says why). */
static int csv_merge(struct bench *b, const char *name, long base, int op, char *repo, size_t cap, const char *log)
{
    char file[4200], attr[4200];
    double secs, t[16];
    int runs = b->merge_runs, done_runs = 0;
    long want = base + 2 * b->merge_rows, got;
    double spent = 0;

    snprintf(repo, cap, "%s/%s", b->cache, name);
    snprintf(file, sizeof file, "%s/flights.csv", repo);
    snprintf(attr, sizeof attr, "%s/.gitattributes", repo);
    say("git+csv: preparing a scratch repository (%ld + 2 x %ld rows)", base, b->merge_rows);
    rm_rf(repo);
    if (mkdir_p(repo) != 0) return -1;
    if (bench_git(repo, log, &secs, "init", "-q", "-b", "a", NULL) != 0) return -1;
    {
        FILE *f = fopen(attr, "w");
        if (!f) return -1;
        fputs("flights.csv merge=union\n", f);
        fclose(f);
    }
    if (csv_write_rows(file, b, 0, base, 1, 1, 0) != 0) return -1;
    if (bench_git(repo, log, &secs, "add", ".gitattributes", "flights.csv", NULL) != 0 ||
        bench_git(repo, log, &secs, "commit", "-q", "-m", "base", NULL) != 0 ||
        bench_git(repo, log, &secs, "branch", "base", NULL) != 0)
        return -1;
    if (csv_write_rows(file, b, 0, b->merge_rows, b->max_id + 1, 0, 1) != 0 ||
        bench_git(repo, log, &secs, "commit", "-q", "-am", "a: append rows", NULL) != 0 ||
        bench_git(repo, log, &secs, "tag", "a-tip", NULL) != 0 ||
        bench_git(repo, log, &secs, "switch", "-q", "-c", "b", "base", NULL) != 0)
        return -1;
    if (csv_write_rows(file, b, b->merge_rows, b->merge_rows, b->max_id + 1 + b->merge_rows, 0, 1) != 0 ||
        bench_git(repo, log, &secs, "commit", "-q", "-am", "b: append other rows", NULL) != 0 ||
        bench_git(repo, log, &secs, "switch", "-q", "a", NULL) != 0)
        return -1;

    say("git+csv: merge (%ld-row base)", base);
    /* no warm-up run: the setup just read and wrote every file involved */
    for (int i = 0; i < runs; i++) {
        if (bench_git(repo, log, &secs, "reset", "-q", "--hard", "a-tip", NULL) != 0) return -1;
        if (bench_git(repo, log, &secs, "merge", "-q", "--no-edit", "b", NULL) != 0) return -1;
        t[done_runs++] = secs;
        spent += secs;
        if (spent > (b->quick ? 15 : 45)) break; /* expensive: fewer runs */
    }
    got = data_lines(file);
    if (got != want) {
        cell_na(b, op, COL_CSVGIT, "union merge gave %ld rows, expected %ld", got, want);
    } else {
        cell_values(b, op, COL_CSVGIT, t, done_runs);
        b->cells[op][COL_CSVGIT].ops_min = b->cells[op][COL_CSVGIT].ops_max = 1;
        b->cells[op][COL_CSVGIT].has_check = 1;
        b->cells[op][COL_CSVGIT].check = check_mix((uint64_t)got);
        b->cells[op][COL_CSVGIT].answer_rows = got;
        msgf(b->cells[op][COL_CSVGIT].note, sizeof b->cells[0][0].note,
             "CSV with git's union merge driver: appends merge line by line; "
             "a same-row edit would be duplicated, not detected");
    }
    if (b->merge_runs < b->runs) say("git+csv: %d merge runs (expensive row)", b->merge_runs);
    return 0;
}

static void git_version(struct bench *b)
{
    FILE *v = popen("git --version", "r");
    if (v) {
        if (!fgets(b->versions[COL_CSVGIT], sizeof b->versions[0], v)) b->versions[COL_CSVGIT][0] = 0;
        b->versions[COL_CSVGIT][strcspn(b->versions[COL_CSVGIT], "\n")] = 0;
        pclose(v);
    }
}

/* Issue 5's scale: the first 1,000,000 rows as the base (every row in
 * quick mode's smaller data), in a repository of its own. */
void sys_gitcsv_merge1m(struct bench *b)
{
    char repo[4096], log[4096];
    long base = b->nrows < 1000000 ? b->nrows : 1000000;
    git_version(b);
    snprintf(log, sizeof log, "%s/git-csv-1m.log", b->cache);
    remove(log);
    if (csv_merge(b, "git-csv-1m", base, OP_MERGE_1M, repo, sizeof repo, log) != 0)
        cell_na(b, OP_MERGE_1M, COL_CSVGIT, "git failed: %s", log_tail(log));
    rm_rf(repo); /* 100 MB of scratch */
}

void sys_gitcsv(struct bench *b)
{
    char repo[4096], file[4200], log[4096];
    double secs, t[16];

    git_version(b);
    snprintf(log, sizeof log, "%s/git-csv.log", b->cache);
    remove(log);
    if (csv_merge(b, "git-csv", b->nrows, OP_MERGE, repo, sizeof repo, log) != 0) goto fail;
    snprintf(file, sizeof file, "%s/flights.csv", repo);

    say("git+csv: diff of one changed row");
    if (bench_git(repo, log, &secs, "reset", "-q", "--hard", "a-tip", NULL) != 0) goto fail;
    if (change_row(file, b->nrows / 2) != 0) {
        cell_na(b, OP_DIFF, COL_CSVGIT, "cannot change row %ld of the CSV", b->nrows / 2);
        return;
    }
    {
        char out[4200];
        snprintf(out, sizeof out, "%s/git-csv.diff", b->cache);
        int druns = b->quick ? 2 : 3; /* expensive on a 130 MB file: few runs after the warm-up */
        for (int i = -1; i < druns; i++) {
            char *argv[] = {"git", "-C", repo, "diff", "--no-color", "--", "flights.csv", NULL};
            remove(out);
            if (run_cmd(NULL, NULL, out, &secs, argv) != 0) goto fail;
            if (i >= 0) t[i] = secs;
        }
        FILE *f = fopen(out, "r");
        char line[512];
        int minus = 0, plus = 0;
        while (f && fgets(line, sizeof line, f)) {
            if (line[0] == '-' && line[1] != '-') minus++;
            if (line[0] == '+' && line[1] != '+') plus++;
        }
        if (f) fclose(f);
        if (minus != 1 || plus != 1) {
            cell_na(b, OP_DIFF, COL_CSVGIT, "git diff showed %d removed and %d added lines, expected 1 and 1",
                    minus, plus);
        } else {
            cell_values(b, OP_DIFF, COL_CSVGIT, t, druns);
            b->cells[OP_DIFF][COL_CSVGIT].ops_min = b->cells[OP_DIFF][COL_CSVGIT].ops_max = 1;
        }
    }
    bench_git(repo, log, &secs, "reset", "-q", "--hard", "a-tip", NULL);
    return;
fail:
    cell_na(b, OP_MERGE, COL_CSVGIT, "git failed: %s", log_tail(log));
    cell_na(b, OP_DIFF, COL_CSVGIT, "git failed: %s", log_tail(log));
}
