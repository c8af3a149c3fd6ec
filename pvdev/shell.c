/*
 * shell.c: running SQL with a formatter, and the interactive shell.
 *
 * Line editing and history come from libedit's readline interface when
 * pvdev is built with PVDEV_HAVE_LIBEDIT (and linked with -ledit); without
 * it the shell reads plain lines, which is also what it does on a pipe.
 */
#include "shell.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifdef PVDEV_HAVE_LIBEDIT
#include <editline/readline.h>
#endif

#include "db.h"
#include "pvdb.h"
#include "schema.h"
#include "shell_param.h"
#include "sql_lex.h"
#include "util.h"
#include "value.h"
#include "ws.h"

#define HISTORY_FILE ".pvdev_history"
#define HISTORY_MAX 1000

/* ---- running statements ------------------------------------------------------ */

static double now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void cpu_times(double *user, double *sys)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    *user = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
    *sys = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* Step st to its end, printing its rows; *rows: how many were. */
static int run_one(pv_stmt *st, const pv_out_opts *opts, FILE *f, uint64_t *rows)
{
    int n = pv_column_count(st), rc;
    const char **names = calloc((size_t)n + 1, sizeof *names);
    pv_out *out = NULL;

    *rows = 0;
    if (!names)
        return pv_err(PV_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++)
        names[i] = pv_column_name(st, i);
    rc = pv_out_open(f, opts, n, names, &out);
    free(names);
    if (rc < 0)
        return rc;
    while ((rc = pv_step(st)) == PV_ROW)
        if ((rc = pv_out_stmt_row(out, st)) < 0)
            break;
    *rows = pv_out_rows(out);
    if (rc < 0) {
        /* Show what came before the error (a table's rows so far); the
         * error, with its offset, is the step's. */
        pv_err_saved first;
        pv_err_save(&first);
        pv_out_close(out);
        return pv_err_restore(rc, &first);
    }
    return pv_out_close(out);
}

/* ---- where an error is --------------------------------------------------------
 * A statement's error names its input, line and column ("<stdin>:3:10: near
 * \"FORM\": syntax error"), as import errors name file and line. libpv
 * gives the position as pv_error_offset(), a byte offset within the text
 * given to pv_prepare, and ends the message with "at offset N" (pv.h);
 * that text starts after the statement before, so N alone says little in
 * a script. */

/* A text being run, for messages. */
struct origin {
    const char *name;   /* "<stdin>", "<argument 2>" */
    const char *text;   /* the text, from its first byte */
    uint64_t line;      /* the line number of text[0] */
};

/* Skip blanks and comments: the offset of the first byte of SQL in
 * sql[0..n) (that of a comment left open), or n when there is none. */
static size_t sql_skip(const char *sql, size_t n)
{
    size_t i = 0;

    while (i < n) {
        if (isspace((unsigned char)sql[i])) {
            i++;
        } else if (sql[i] == '-' && i + 1 < n && sql[i + 1] == '-') {
            while (i < n && sql[i] != '\n')
                i++;
        } else if (sql[i] == '/' && i + 1 < n && sql[i + 1] == '*') {
            size_t open = i;
            for (i += 2; i + 1 < n && !(sql[i] == '*' && sql[i + 1] == '/'); i++)
                ;
            if (i + 1 >= n)
                return open;
            i += 2;
        } else {
            return i;
        }
    }
    return n;
}

/* "NAME:LINE:COLUMN" of o->text[at]: the column 1-based, in characters. */
static void where(const struct origin *o, size_t at, char *buf, size_t size)
{
    uint64_t line = o->line, col = 1;

    for (size_t i = 0; i < at; i++) {
        unsigned char c = (unsigned char)o->text[i];
        if (c == '\n')
            line++, col = 1;
        else if ((c & 0xC0) != 0x80)
            col++;
    }
    snprintf(buf, size, "%s:%" PRIu64 ":%" PRIu64, o->name, line, col);
}

/* The current error, of the statement at stmt[0..len) (within o->text),
 * prefixed with where it is: at its pv_error_offset() (the message's
 * closing " at offset N" goes), else where the statement starts. Returns
 * rc. */
static int locate_error(const struct origin *o, const char *stmt, size_t len, int rc)
{
    char msg[1024], pos[256], said[48];
    int64_t off = pv_error_offset();
    size_t skip = sql_skip(stmt, len);
    size_t at = (size_t)(stmt - o->text) + (skip < len ? skip : 0);

    snprintf(msg, sizeof msg, "%s", pv_errmsg());
    if (off >= 0 && (uint64_t)off <= len) {
        size_t n = strlen(msg), k;
        at = (size_t)(stmt - o->text) + (size_t)off;
        k = (size_t)snprintf(said, sizeof said, " at offset %" PRId64, off);
        if (n >= k && strcmp(msg + n - k, said) == 0)
            msg[n - k] = '\0';
    }
    where(o, at, pos, sizeof pos);
    return pv_err(rc, "%s: %s", pos, msg);
}

/* Outside a transaction, each statement reads the database as it is now,
 * as the sqlite3 shell's read its database file (pv_reopen): on a
 * workspace its latest commit (a fresh snapshot when another process
 * committed since the handle's last one; a few stat calls when none did),
 * on a `.pvdb` the file now at its path (a new mapping when another file
 * was renamed over it, pvbake's hot swap; one stat call when none was).
 * Inside a transaction (a workspace's) the handle holds the writer lock,
 * and its state is its own. */
static int refresh(pv_db *db)
{
    if (pv_db_in_txn(db))
        return 0;
    return pv_reopen(db, NULL);
}

/* refresh() before the command at o->text[at]. A `.pvdb` that fails to
 * reopen (the file now at the path is damaged, or there is none) leaves
 * the handle on the file it had (pv_reopen). With `errors` (the shell),
 * the error is printed, after where the command is, and counted, and the
 * command reads on from that file: 0. Without (a script), or on a
 * workspace, it is the command's error. */
static int refresh_at(pv_db *db, const struct origin *o, size_t at, int *errors)
{
    char pos[256];
    int rc = refresh(db);

    if (rc >= 0 || !errors || db->kind != PV_DB_PVDB)
        return rc;
    where(o, at, pos, sizeof pos);
    fflush(stdout);
    fprintf(stderr, "Error: %s: %s; reading on from the file opened before\n", pos, pv_errmsg());
    (*errors)++;
    return 0;
}

/* What run_first needs besides the text, and run_fresh's refresh_at. */
struct run_opts {
    const pvdev_param_set *ps;
    int strict;
    const pv_out_opts *out;
    FILE *f;
    const struct origin *o;
    int *errors;
};

/* Prepare, bind and run the first statement of p[0..n): 0, 1 when there
 * is none (only blanks and comments, or an empty statement: *tail is then
 * past its ';'), or the error. *tail as pv_prepare's;
 * *rows: rows printed. */
static int run_first(pv_db *db, const char *p, size_t n, const struct run_opts *ro, const char **tail,
                     uint64_t *rows)
{
    pv_stmt *st = NULL;
    int rc;

    *rows = 0;
    if ((rc = pv_prepare(db, p, n, &st, tail)) < 0)
        return rc;
    if (!st)
        return 1;
    rc = pvdev_param_bind(ro->ps, st, ro->strict);
    if (rc == 0)
        rc = run_one(st, ro->out, ro->f, rows);
    pv_finalize(st);
    return rc;
}

/* Run the first statement of p[0..n) on the latest commit. A commit that
 * rewrote chunks (a compaction, DROP TABLE) between the refresh and the
 * statement's reading makes it fail with PV_EBUSY; before it printed a
 * row, nothing was done (a failed statement's writes are undone): take
 * the new snapshot and run it once more. */
static int run_fresh(pv_db *db, const char *p, size_t n, const struct run_opts *ro, const char **tail)
{
    uint64_t rows;
    int rc;

    *tail = p;
    if ((rc = refresh_at(db, ro->o, (size_t)(p - ro->o->text) + sql_skip(p, n), ro->errors)) < 0)
        return rc;
    rc = run_first(db, p, n, ro, tail, &rows);
    if (rc == PV_EBUSY && rows == 0 && !pv_db_in_txn(db) && (rc = refresh(db)) == 0)
        rc = run_first(db, p, n, ro, tail, &rows);
    return rc;
}

/* Run every statement of sql[0..len) (within o->text), binding `ps`'s
 * values (pvdev_param_bind, `strict` as there). An error names where it
 * is (locate_error). `errors`: refresh_at's (the shell's count, or NULL). */
static int run_sql(pv_db *db, const struct origin *o, const char *sql, size_t len, const pvdev_param_set *ps,
                   int strict, const pv_out_opts *opts, FILE *f, int timer, int *errors)
{
    const struct run_opts ro = {ps, strict, opts, f, o, errors};
    const char *p = sql, *end = sql + len;

    while (p < end) {
        const char *tail = NULL;
        double w0 = now_wall(), u0, s0, u1, s1;
        int rc;

        if (sql_skip(p, (size_t)(end - p)) == (size_t)(end - p))
            break;  /* only blanks and comments left: no refresh for them */
        cpu_times(&u0, &s0);
        rc = run_fresh(db, p, (size_t)(end - p), &ro, &tail);
        if (rc == 1 && tail && tail > p) {
            p = tail;  /* an empty statement (a lone ';'): skipped, as sqlite3 does */
            continue;
        }
        if (rc == 1)
            break;  /* only blanks and comments left */
        if (rc < 0)
            return locate_error(o, p, (size_t)((tail && tail > p ? tail : end) - p), rc);
        if (timer) {
            cpu_times(&u1, &s1);
            fprintf(f, "Run Time: real %.3f user %.6f sys %.6f\n",
                    now_wall() - w0, u1 - u0, s1 - s0);
        }
        if (!tail || tail <= p)
            break;
        p = tail;
    }
    return 0;
}

/* The --param values as a parameter set: ?1.. as TEXT. */
static int params_load(pvdev_param_set *ps, const pvdev_params *params)
{
    int i, rc;
    for (i = 0; params && i < params->n; i++)
        if ((rc = pvdev_param_set_text(ps, i + 1, params->v[i], strlen(params->v[i]))) < 0)
            return rc;
    return 0;
}

int pvdev_sql_complete(const char *sql, size_t n)
{
    int complete = 0;
    size_t i = 0;

    while (i < n) {
        char c = sql[i], close;
        switch (c) {
        case ';':
            complete = 1;
            i++;
            continue;
        case ' ': case '\t': case '\n': case '\r': case '\f': case '\v':
            i++;
            continue;
        case '-':
            if (i + 1 < n && sql[i + 1] == '-') {
                while (i < n && sql[i] != '\n')
                    i++;
                continue;
            }
            break;
        case '/':
            if (i + 1 < n && sql[i + 1] == '*') {
                const char *e = NULL;
                for (size_t k = i + 2; k + 1 < n; k++)
                    if (sql[k] == '*' && sql[k + 1] == '/') {
                        e = sql + k;
                        break;
                    }
                if (!e)
                    return 0;  /* an open comment */
                i = (size_t)(e - sql) + 2;
                continue;
            }
            break;
        case '\'': case '"': case '`': case '[':
            close = c == '[' ? ']' : c;
            for (i++;; i++) {
                if (i >= n)
                    return 0;  /* an open quote */
                if (sql[i] == close) {
                    if (close != ']' && i + 1 < n && sql[i + 1] == close) {
                        i++;  /* a doubled quote */
                        continue;
                    }
                    break;
                }
            }
            i++;
            complete = 0;
            continue;
        default:
            break;
        }
        complete = 0;
        i++;
    }
    return complete;
}

/* ---- schema ----------------------------------------------------------------- */

/* How many tables, and the schema of table i, whatever the store. */
static uint32_t table_count(pv_db *db)
{
    if (db->kind == PV_DB_WORKSPACE)
        return pv_ws_table_count(db->ws);
    return pvdb_table_count(db->file);
}

static const pv_schema *table_schema(pv_db *db, uint32_t i)
{
    pv_source src;

    if (db->kind == PV_DB_WORKSPACE)
        return pv_ws_table_schema(db->ws, i);
    if (pvdb_table_source(db->file, i, &src) < 0)
        return NULL;
    return src.schema;
}

static int cmp_names(const void *a, const void *b)
{
    const pv_schema *x = *(const pv_schema *const *)a, *y = *(const pv_schema *const *)b;
    return strcmp(x->name, y->name);
}

/* The schemas in name order (the caller frees the array, not the schemas). */
static int sorted_schemas(pv_db *db, const pv_schema ***out, uint32_t *n)
{
    uint32_t count = table_count(db), k = 0;
    const pv_schema **v = calloc(count ? count : 1, sizeof *v);

    if (!v)
        return pv_err(PV_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < count; i++)
        if ((v[k] = table_schema(db, i)))
            k++;
    qsort(v, k, sizeof *v, cmp_names);
    *out = v;
    *n = k;
    return 0;
}

int pvdev_print_tables(pv_db *db, FILE *f)
{
    const pv_schema **v;
    uint32_t n;
    int rc = sorted_schemas(db, &v, &n);

    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < n; i++)
        fprintf(f, "%s\n", v[i]->name);
    free(v);
    return 0;
}

/* A name as SQL needs it: bare when it is a plain identifier and no
 * keyword, else quoted (pv_sql_put_ident). */
static void put_ident(FILE *f, const char *name)
{
    pv_buf b = PV_BUF_INIT;
    if (pv_sql_put_ident(&b, name) == 0) fwrite(b.p, 1, b.len, f);
    pv_buf_free(&b);
}

static void print_index_cols(FILE *f, const pv_schema *s, const pv_index_def *x, const char *open)
{
    fputs(open, f);
    for (uint32_t k = 0; k < x->ncols; k++) {
        fputs(k ? ", " : "", f);
        put_ident(f, s->cols[x->cols[k]].name);
    }
    fputs(")", f);
}

static void print_create(FILE *f, const pv_schema *s)
{
    int declared_key = s->npk > 0 && !s->cols[s->pk[0]].hidden;
    int first = 1;

    fputs("CREATE TABLE ", f);
    put_ident(f, s->name);
    fputs("(", f);
    for (uint32_t c = 0; c < s->ncols; c++) {
        const pv_column *col = &s->cols[c];
        if (col->hidden)
            continue;
        fputs(first ? "" : ", ", f);
        first = 0;
        put_ident(f, col->name);
        fprintf(f, " %s", pv_type_name(col->type));
        if (col->not_null && col->pk_pos < 0)
            fputs(" NOT NULL", f);
    }
    if (declared_key) {
        fputs(", PRIMARY KEY(", f);
        for (uint32_t k = 0; k < s->npk; k++) {
            fputs(k ? ", " : "", f);
            put_ident(f, s->cols[s->pk[k]].name);
        }
        fputs(")", f);
    }
    /* UNIQUE constraints are the pv_autoindex_ indexes; other indexes
     * follow as CREATE INDEX statements, as SQLite's .schema shows them */
    for (uint32_t i = 0; i < s->nindexes; i++)
        if (pv_index_is_auto(&s->indexes[i]))
            print_index_cols(f, s, &s->indexes[i], ", UNIQUE(");
    fputs(");\n", f);
    for (uint32_t i = 0; i < s->nindexes; i++) {
        const pv_index_def *x = &s->indexes[i];
        if (pv_index_is_auto(x))
            continue;
        fputs(x->unique ? "CREATE UNIQUE INDEX " : "CREATE INDEX ", f);
        put_ident(f, x->name);
        fputs(" ON ", f);
        put_ident(f, s->name);
        print_index_cols(f, s, x, "(");
        fputs(";\n", f);
    }
}

int pvdev_print_schema(pv_db *db, const char *table, FILE *f)
{
    const pv_schema **v;
    uint32_t n, shown = 0;
    int rc = sorted_schemas(db, &v, &n);

    if (rc < 0)
        return rc;
    for (uint32_t i = 0; i < n; i++) {
        if (table && !pv_ident_eq(v[i]->name, strlen(v[i]->name), table, strlen(table)))
            continue;
        print_create(f, v[i]);
        shown++;
    }
    free(v);
    if (table && shown == 0)
        return pv_err(PV_ENOTFOUND, "no such table: %s", table);
    return 0;
}

/* ---- the shell ---------------------------------------------------------------- */

struct shell {
    pv_db *db;
    pv_out_opts out;
    int timer;
    int editor;
    FILE *in;
    int errors;
    int quit;
    pvdev_param_set params; /* --param and .parameter values */
    int strict;             /* a script: a parameter without a value is an error */
    uint64_t lineno;        /* the shell: lines read */
};

static const char help_text[] =
    ".headers on|off      show column names in list and csv modes\n"
    ".help                show this text\n"
    ".mode MODE           table, box, csv, json, line or list\n"
    ".parameter CMD ...   manage values of ?N parameters:\n"
    "   clear               erase all values\n"
    "   list                list the values\n"
    "   set ?N VALUE        give ?N the value of the SQL expression VALUE\n"
    "                       (text as written when it is not one)\n"
    "   unset ?N            remove the value of ?N\n"
    ".quit                leave the shell (so does end of input, Ctrl-D)\n"
    ".schema [TABLE]      show CREATE TABLE statements\n"
    ".tables              list the tables\n"
    ".timer on|off        show the time each statement takes\n"
    "SQL statements end with ';' and may span several lines.\n";

static void shell_error(struct shell *sh, const char *msg)
{
    fflush(stdout);
    fprintf(stderr, "Error: %s\n", msg);
    sh->errors++;
}

static int on_off(const char *arg, int *out)
{
    if (!strcasecmp(arg, "on") || !strcmp(arg, "1") || !strcasecmp(arg, "yes")) {
        *out = 1;
        return 0;
    }
    if (!strcasecmp(arg, "off") || !strcmp(arg, "0") || !strcasecmp(arg, "no")) {
        *out = 0;
        return 0;
    }
    return -1;
}

/* Split a dot-command line into at most `max` words, in place, as the
 * sqlite3 shell does: "..." is one word with \" \\ \n \t unescaped, '...'
 * one word as written, quotes removed. Returns the number of words, or
 * max + 1 when there are more. */
static int split_words(char *line, char **w, int max)
{
    int n = 0;
    char *p = line;

    while (*p) {
        char *out;
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        if (n == max)
            return max + 1;
        out = w[n++] = p;
        if (*p == '"' || *p == '\'') {
            char q = *p++;
            while (*p && *p != q) {
                if (q == '"' && *p == '\\' && p[1]) {
                    p++;
                    *out++ = *p == 'n' ? '\n' : *p == 't' ? '\t' : *p;
                    p++;
                } else {
                    *out++ = *p++;
                }
            }
            if (*p)
                p++;
        } else {
            while (*p && !isspace((unsigned char)*p))
                *out++ = *p++;
        }
        if (*p)
            p++;
        *out = '\0';
    }
    return n;
}

static int bad_command(const char *word)
{
    return pv_err(PV_ESQL, "unknown command or invalid arguments: '%s'; enter \".help\" for help", word + 1);
}

/* .parameter clear|list|set ?N VALUE|unset ?N (sqlite3's; init is accepted
 * and does nothing: there is no table to make). */
static int parameter_command(struct shell *sh, char **w, int n)
{
    int idx = 0;

    if (n >= 3 && pvdev_param_name(w[2], &idx) < 0)
        return pv_err(PV_ESQL, ".parameter: '%s' is not a parameter name: pvdev has ?N parameters, N from 1 to %d",
                      w[2], PVDEV_PARAM_MAX);
    if (n == 2 && !strcmp(w[1], "clear"))
        pvdev_param_clear(&sh->params);
    else if (n == 2 && !strcmp(w[1], "list"))
        pvdev_param_list(&sh->params, stdout);
    else if (n == 2 && !strcmp(w[1], "init"))
        ;
    else if (n == 4 && !strcmp(w[1], "set"))
        return pvdev_param_set_expr(&sh->params, sh->db, idx, w[3]);
    else if (n == 3 && !strcmp(w[1], "unset"))
        pvdev_param_unset(&sh->params, idx);
    else
        return bad_command(w[0]);
    return 0;
}

/* Run one dot-command line, which is at o->text[at]; 0, or a negative
 * error (pv_errmsg says it). `errors`: refresh_at's. */
static int dot_run(struct shell *sh, char *line, const struct origin *o, size_t at, int *errors)
{
    char *w[4] = {NULL, NULL, NULL, NULL};
    int n = split_words(line, w, 4), mode, rc;

    if (n == 0)
        return 0;
    if (n > 4)
        return bad_command(w[0]);
    if (!strcmp(w[0], ".quit") || !strcmp(w[0], ".exit")) {
        sh->quit = 1;
    } else if (!strcmp(w[0], ".help")) {
        fputs(help_text, stdout);
    } else if (!strcmp(w[0], ".tables") && n == 1) {
        return (rc = refresh_at(sh->db, o, at, errors)) < 0 ? rc : pvdev_print_tables(sh->db, stdout);
    } else if (!strcmp(w[0], ".schema") && n <= 2) {
        return (rc = refresh_at(sh->db, o, at, errors)) < 0
                   ? rc : pvdev_print_schema(sh->db, n == 2 ? w[1] : NULL, stdout);
    } else if (!strcmp(w[0], ".mode") && n == 2) {
        if ((mode = pv_out_mode_parse(w[1])) < 0 || mode == PV_OUT_NDJSON)
            return pv_err(PV_ESQL, "unknown mode '%s': table, box, csv, json, line or list", w[1]);
        sh->out.mode = mode;
    } else if (!strcmp(w[0], ".mode") && n == 1) {
        printf("current output mode: %s\n", pv_out_mode_name(sh->out.mode));
    } else if ((!strcmp(w[0], ".headers") || !strcmp(w[0], ".header")) && n == 2 &&
               on_off(w[1], &sh->out.header) == 0) {
        ;
    } else if (!strcmp(w[0], ".timer") && n == 2 && on_off(w[1], &sh->timer) == 0) {
        ;
    } else if (!strcmp(w[0], ".parameter") || !strcmp(w[0], ".param")) {
        return parameter_command(sh, w, n);
    } else {
        return bad_command(w[0]);
    }
    return 0;
}

/* A dot-command's error, named by where its line is. */
static int dot_error(const struct origin *o, size_t at, int rc)
{
    char pos[256];

    where(o, at, pos, sizeof pos);
    pv_err_prefix("%s", pos);
    return rc;
}

static void dot_command(struct shell *sh, char *line)
{
    struct origin o = {"<stdin>", line, sh->lineno};
    size_t at = 0;
    int rc;

    while (isspace((unsigned char)line[at]))
        at++;
    if ((rc = dot_run(sh, line, &o, at, &sh->errors)) < 0) {
        dot_error(&o, at, rc);
        shell_error(sh, pv_errmsg());
    }
}

/* Run the statements of sql[0..len), which starts at the input's line
 * `line`. */
static void run_statements(struct shell *sh, const char *sql, size_t len, uint64_t line)
{
    struct origin o = {"<stdin>", sql, line};
    int rc = run_sql(sh->db, &o, sql, len, &sh->params, 0, &sh->out, stdout, sh->timer, &sh->errors);

    if (rc < 0)
        shell_error(sh, pv_errmsg());
    fflush(stdout);
}

/* ---- scripts: arguments and standard input ----------------------------------- */

/* Does sql[0..n) hold only blanks and comments? */
static int sql_blank(const char *sql, size_t n)
{
    return sql_skip(sql, n) == n;
}

/* One script text: its lines that start with '.' between statements are
 * dot-commands, the rest SQL, run in order up to the first error, which
 * names `name` and its line. */
static int script_text(struct shell *sh, const char *name, const char *s, size_t len)
{
    struct origin o = {name, s, 1};
    size_t pend = 0, ls = 0;
    int rc;

    while (ls < len) {
        size_t le = ls, b = ls;
        char *line;
        while (le < len && s[le] != '\n')
            le++;
        while (b < le && isspace((unsigned char)s[b]))
            b++;
        if (b < le && s[b] == '.' &&
            (sql_blank(s + pend, ls - pend) || pvdev_sql_complete(s + pend, ls - pend))) {
            if ((rc = run_sql(sh->db, &o, s + pend, ls - pend, &sh->params, sh->strict, &sh->out, stdout,
                              sh->timer, NULL)) < 0)
                return rc;
            if (!(line = malloc(le - b + 1)))
                return pv_err(PV_ENOMEM, "out of memory");
            memcpy(line, s + b, le - b);
            line[le - b] = '\0';
            if (le > b && line[le - b - 1] == '\r')
                line[le - b - 1] = '\0';
            rc = dot_run(sh, line, &o, b, NULL);
            free(line);
            fflush(stdout);
            if (rc < 0)
                return dot_error(&o, b, rc);
            if (sh->quit)
                return 0;
            pend = le < len ? le + 1 : len;
        }
        ls = le + 1;
    }
    return pend < len ? run_sql(sh->db, &o, s + pend, len - pend, &sh->params, sh->strict, &sh->out, stdout,
                                sh->timer, NULL)
                      : 0;
}

int pvdev_run_script(pv_db *db, const char *const *texts, const char *const *names, int ntexts,
                     const pvdev_params *params, const pv_out_opts *opts)
{
    struct shell sh;
    char arg[32];
    int i, rc;

    memset(&sh, 0, sizeof sh);
    sh.db = db;
    sh.out = *opts;
    sh.strict = 1;
    rc = params_load(&sh.params, params);
    for (i = 0; i < ntexts && rc == 0 && !sh.quit; i++) {
        snprintf(arg, sizeof arg, "<argument %d>", i + 1);
        rc = script_text(&sh, names && names[i] ? names[i] : arg, texts[i], strlen(texts[i]));
    }
    pvdev_param_clear(&sh.params);
    return rc;
}

/* One line of input without its line break (malloc'ed), or NULL at the end. */
static char *read_line(struct shell *sh, const char *prompt)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

#ifdef PVDEV_HAVE_LIBEDIT
    if (sh->editor)
        return readline(prompt);
#endif
    if (sh->editor) {
        fputs(prompt, stdout);
        fflush(stdout);
    }
    if ((n = getline(&line, &cap, sh->in)) < 0) {
        free(line);
        return NULL;
    }
    if (n > 0 && line[n - 1] == '\n')
        line[--n] = '\0';
    if (n > 0 && line[n - 1] == '\r')
        line[--n] = '\0';
    return line;
}

static void history_path(char *buf, size_t size)
{
    const char *home = getenv("HOME");
    buf[0] = '\0';
    if (home && *home)
        snprintf(buf, size, "%s/%s", home, HISTORY_FILE);
}

int pvdev_shell_has_editor(void)
{
#ifdef PVDEV_HAVE_LIBEDIT
    return 1;
#else
    return 0;
#endif
}

int pvdev_shell(pv_db *db, const pvdev_shell_opts *opts)
{
    struct shell sh;
    pv_buf stmt = PV_BUF_INIT;
    uint64_t first = 1;  /* the input line where stmt starts */
    char hist[4096];

    memset(&sh, 0, sizeof sh);
    sh.db = db;
    sh.out = opts->out;
    sh.editor = opts->editor;
    sh.in = opts->in ? opts->in : stdin;
    history_path(hist, sizeof hist);
#ifdef PVDEV_HAVE_LIBEDIT
    if (sh.editor) {
        rl_readline_name = "pvdev";
        using_history();
        stifle_history(HISTORY_MAX);
        if (hist[0])
            read_history(hist);
    }
#endif
    if (sh.editor)
        printf("pvdev %s: enter \".help\" for usage hints.\n", pv_version());
    while (!sh.quit) {
        char *line = read_line(&sh, stmt.len ? "   ...> " : "pvdev> ");
        const char *p;

        if (!line)
            break;
        sh.lineno++;
        if (stmt.len == 0)
            first = sh.lineno;  /* where the statement starts */
        for (p = line; isspace((unsigned char)*p); p++)
            ;
#ifdef PVDEV_HAVE_LIBEDIT
        if (sh.editor && *p)
            add_history(line);
#endif
        if (stmt.len == 0 && *p == '.') {
            dot_command(&sh, line);
        } else if (stmt.len > 0 || *p) {
            if (pv_buf_append(&stmt, line, strlen(line)) < 0 || pv_buf_putc(&stmt, '\n') < 0) {
                free(line);
                shell_error(&sh, "out of memory");
                break;
            }
            if (pvdev_sql_complete(stmt.p, stmt.len)) {
                run_statements(&sh, stmt.p, stmt.len, first);
                stmt.len = 0;
            }
        }
        free(line);
        fflush(stdout);
    }
    /* Input ended inside a statement: run what was typed, as sqlite3 does. */
    if (!sh.quit && stmt.len > 0) {
        size_t i;
        for (i = 0; i < stmt.len && isspace((unsigned char)stmt.p[i]); i++)
            ;
        if (i < stmt.len)
            run_statements(&sh, stmt.p, stmt.len, first);
    }
#ifdef PVDEV_HAVE_LIBEDIT
    if (sh.editor && hist[0]) {
        if (write_history(hist) != 0)
            fprintf(stderr, "pvdev: cannot write '%s': %s\n", hist, strerror(errno));
    }
#endif
    if (sh.editor)
        putchar('\n');
    pv_buf_free(&stmt);
    pvdev_param_clear(&sh.params);
    return sh.errors && !sh.editor ? 1 : 0;
}
