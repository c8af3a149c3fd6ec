/*
 * cmd_export.c: `pvdev export TABLE [-o FILE|-] [--format csv|ndjson]
 * [--query SQL] [--db FILE.pvdb] [-C DIR]`.
 *
 * Rows go out through the formatters of output.h: CSV with a header row,
 * or NDJSON, in a form `pvdev import` reads back to the same values. A file
 * is written under a temporary name and renamed over FILE once complete,
 * so a failed export never leaves half a file behind.
 */
#include "cmds.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "db.h"
#include "options.h"
#include "output.h"
#include "progress.h"
#include "pv.h"
#include "schema.h"
#include "sql_lex.h"
#include "util.h"

enum { OPT_OUTPUT, OPT_FORMAT, OPT_QUERY, OPT_DB, OPT_DIR, OPT_HELP };

static const pvdev_option options[] = {
    {OPT_OUTPUT, "-o", "--output", "FILE", "write to FILE ('-': standard output, the default)"},
    {OPT_FORMAT, NULL, "--format", "csv|ndjson",
     "the format (default: from FILE's extension, .ndjson or .jsonl for NDJSON, else csv)"},
    {OPT_QUERY, NULL, "--query", "SQL", "export the rows of a SELECT instead of a table"},
    {OPT_DB, NULL, "--db", "FILE.pvdb", "read a baked .pvdb file instead of the workspace"},
    {OPT_DIR, "-C", NULL, "DIR", "the directory holding the workspace (default: .)"},
    {OPT_HELP, "-h", "--help", NULL, "show this help"},
};
#define NOPTIONS (sizeof options / sizeof options[0])

static const char help_text[] =
    "Write the rows of TABLE (or of --query) as CSV or NDJSON.\n"
    "\n"
    "CSV follows the sqlite3 shell (.mode csv, .headers on): a header row of\n"
    "column names, comma-separated, RFC 4180 quotes (a field holding a blank,\n"
    "a control character, '\"', '\\'', ',' or a non-ASCII byte is quoted, '\"'\n"
    "doubled), LF line ends. NULL is an empty unquoted field and the empty\n"
    "string is \"\", the convention `pvdev import` reads back, so NULL and ''\n"
    "survive the round trip. INTEGER is its digits, REAL the shortest text that\n"
    "reads back to the same double (1.5, 1200.0, 1e+16; infinity Inf and -Inf),\n"
    "BOOLEAN 0 or 1, BLOB its bytes as they are (as sqlite3 writes them; use\n"
    "NDJSON for blobs that are not UTF-8 text).\n"
    "\n"
    "NDJSON is one JSON object per line, keys the column names in order:\n"
    "INTEGER a JSON number of its exact digits (even beyond 2^53), REAL as in\n"
    "CSV but infinity 1e999 and -1e999 (JSON has no Inf; as sqlite3 writes it),\n"
    "BOOLEAN true/false, TEXT a string, BLOB {\"hex\":\"00ff\"}, NULL null.\n"
    "\n"
    "Importing an export into a new table infers the types again from the\n"
    "values; to keep declared types exactly, create the table first and import\n"
    "into it.\n";

static const pvdev_command command = {"export", "[TABLE]", help_text, options, NOPTIONS, OPT_HELP};





struct export_args {
    const char *table, *output, *format, *query, *db, *dir;
};

#define PROCEED (-1)

static int parse_args(int argc, char **argv, struct export_args *a)
{
    pvdev_args it = PVDEV_ARGS_INIT;
    const pvdev_option *o;
    const char *val;
    int k;

    while ((k = pvdev_next_arg(&command, argc, argv, &it, &o, &val)) != PVDEV_ARG_END) {
        if (k == PVDEV_ARG_OPERAND) {
            if (a->table)
                return pvdev_usage_error(&command, "unexpected argument", val);
            a->table = val;
            continue;
        }
        if (k != PVDEV_ARG_OPTION) return k;
        switch (o->id) {
        case OPT_OUTPUT: a->output = val; break;
        case OPT_FORMAT: a->format = val; break;
        case OPT_QUERY: a->query = val; break;
        case OPT_DB: a->db = val; break;
        case OPT_DIR: a->dir = val; break;
        default: return pvdev_print_help(&command);
        }
    }
    if (!a->table && !a->query)
        return pvdev_usage_error(&command, "missing TABLE (or --query SQL)", NULL);
    if (a->table && a->query)
        return pvdev_usage_error(&command, "give TABLE or --query, not both", NULL);
    if (a->format && strcmp(a->format, "csv") && strcmp(a->format, "ndjson"))
        return pvdev_usage_error(&command, "unknown format", a->format);
    return PROCEED;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int run_export(const struct export_args *a)
{
    int to_stdout = !a->output || strcmp(a->output, "-") == 0;
    int ndjson = a->format ? strcmp(a->format, "ndjson") == 0
                           : !to_stdout && (ends_with(a->output, ".ndjson") ||
                                            ends_with(a->output, ".jsonl"));
    pv_out_opts oo = PV_OUT_OPTS_INIT;
    pv_db *db = NULL;
    pv_stmt *st = NULL;
    pv_out *out = NULL;
    FILE *f = stdout;
    char *tmp = NULL, *sql = NULL, what[80];
    const char **names = NULL;
    pv_progress prog;
    uint64_t total = 0;
    int rc, n;

    memset(&prog, 0, sizeof prog);
    if (a->db)
        rc = pv_open(a->db, PV_OPEN_READONLY, &db);
    else
        rc = pv_open(a->dir, PV_OPEN_READONLY, &db);
    if (rc < 0)
        goto done;
    if (a->table) {
        pv_source src;
        if ((rc = pv_db_find_table(db, a->table, strlen(a->table), &src)) < 0)
            goto done;
        total = src.nrows;
        /* The store's own spelling of the name, quoted when it is a
         * keyword ("order") or not a plain identifier. */
        {
            pv_buf q = PV_BUF_INIT;
            if (pv_buf_printf(&q, "SELECT * FROM ") < 0 || pv_sql_put_ident(&q, src.schema->name) < 0 ||
                pv_buf_putc(&q, 0) < 0) {
                pv_buf_free(&q);
                rc = pv_err(PV_ENOMEM, "out of memory");
                goto done;
            }
            sql = q.p; /* freed below with free() */
        }
    }
    if ((rc = pv_prepare(db, a->query ? a->query : sql, (size_t)-1, &st, NULL)) < 0)
        goto done;
    if (!st) {
        rc = pv_err(PV_EINPUT, "--query: no statement");
        goto done;
    }
    if ((n = pv_column_count(st)) == 0) {
        rc = pv_err(PV_EINPUT, "--query: the statement returns no columns");
        goto done;
    }
    if (!to_stdout) {
        size_t len = strlen(a->output) + 32;
        if (!(tmp = malloc(len))) {
            rc = pv_err(PV_ENOMEM, "out of memory");
            goto done;
        }
        snprintf(tmp, len, "%s.tmp-%ld", a->output, (long)getpid());
        if (!(f = fopen(tmp, "wb"))) {
            f = stdout;
            rc = pv_err_errno("cannot create '%s'", tmp);
            free(tmp);
            tmp = NULL;
            goto done;
        }
    }
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    if (!(names = calloc((size_t)n, sizeof *names))) {
        rc = pv_err(PV_ENOMEM, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++)
        names[i] = pv_column_name(st, i);
    oo.mode = ndjson ? PV_OUT_NDJSON : PV_OUT_CSV;
    oo.header = 1;
    if ((rc = pv_out_open(f, &oo, n, names, &out)) < 0 || (rc = pv_out_header(out)) < 0)
        goto done;
    snprintf(what, sizeof what, "exporting %.60s", a->table ? a->table : "query");
    pv_progress_start(&prog, what, total);
    while ((rc = pv_step(st)) == PV_ROW) {
        if ((rc = pv_out_stmt_row(out, st)) < 0)
            goto done;
        pv_progress_update(&prog, pv_out_rows(out), pv_out_rows(out));
    }
    if (rc < 0)
        goto done;
    pv_progress_end(&prog);
    rc = pv_out_close(out);
    out = NULL;
    if (rc == 0 && (fflush(f) != 0 || ferror(f)))
        rc = pv_err_errno("cannot write '%s'", to_stdout ? "<stdout>" : a->output);
    if (rc == 0 && !to_stdout) {
        if (fsync(fileno(f)) != 0)
            rc = pv_err_errno("cannot sync '%s'", tmp);
        if (fclose(f) != 0 && rc == 0)
            rc = pv_err_errno("cannot write '%s'", tmp);
        f = stdout;
        if (rc == 0 && rename(tmp, a->output) != 0)
            rc = pv_err_errno("cannot rename '%s' to '%s'", tmp, a->output);
    }
    if (rc == 0 && !to_stdout) {
        /* stdout carries the data otherwise: the summary goes to stderr */
        fprintf(stderr, "exported %" PRIu64 " row%s to %s (%s)\n", prog.rows,
                prog.rows == 1 ? "" : "s", a->output, ndjson ? "NDJSON" : "CSV");
    }
done:
    pv_progress_end(&prog);
    if (out)
        pv_out_close(out);
    if (f != stdout)
        fclose(f);
    if (tmp && rc < 0)
        unlink(tmp);
    free(tmp);
    free(names);
    free(sql);
    pv_finalize(st);
    pv_close(db);
    return rc;
}

int cmd_export(int argc, char **argv)
{
    struct export_args a = {NULL, NULL, NULL, NULL, NULL, "."};
    int rc = parse_args(argc, argv, &a);

    if (rc != PROCEED)
        return rc;
    if (run_export(&a) < 0) {
        fprintf(stderr, "pvdev: %s\n", pv_errmsg());
        return PVDEV_EXIT_FAIL;
    }
    return PVDEV_EXIT_OK;
}
