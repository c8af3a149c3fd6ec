/*
 * fuzz_import.h: the `pvdev import` harness shared by fuzz_csv and
 * fuzz_ndjson (included, not linked, like fuzz_common.h).
 *
 * fi_import(data, size, format, file_name) takes one mode byte, then the
 * file. The mode picks the destination:
 *   bit 0  0: a new table `n` (types inferred), 1: the existing table
 *          `fixed` (id INTEGER PRIMARY KEY, name TEXT, x REAL, flag BOOLEAN,
 *          data BLOB), into which every value must convert;
 *   bit 1  --key id         (new table)
 *   bit 2  --key id,name    (new table; wins over bit 1)
 * `format`, when not NULL, is given as --format. The import runs through
 * cmd_import() with an argv, as the tool does, on one workspace made once
 * per process; the table is emptied after each run.
 *
 * Oracles besides "no crash": an import that succeeds must read back (the
 * workspace reopens read-only and a full SELECT of the table steps to the
 * end); an import that fails must leave the workspace as it was (no table
 * `n`, `fixed` still empty): "after any error nothing has been written".
 */
#ifndef PV_FUZZ_IMPORT_H
#define PV_FUZZ_IMPORT_H

#include "fuzz_common.h"

#include "cmds.h"
#include "pv.h"

static char fi_ws_dir[300];

static void fi_die(const char *what)
{
    fprintf(stderr, "fuzz import: %s: %s\n", what, pv_errmsg());
    abort();
}

static void fi_setup(void)
{
    pv_db *db;
    snprintf(fi_ws_dir, sizeof fi_ws_dir, "%s/ws", fz_tmpdir());
    if (mkdir(fi_ws_dir, 0777) != 0) fi_die("mkdir");
    if (pv_workspace_init(fi_ws_dir)) fi_die("init");
    if (pv_open(fi_ws_dir, PV_OPEN_READWRITE, &db)) fi_die("open");
    if (pv_exec(db, "CREATE TABLE fixed(id INTEGER PRIMARY KEY, name TEXT, x REAL, "
                    "flag BOOLEAN, data BLOB)"))
        fi_die("create");
    pv_close(db);
}

/* Rows of `table` by a full scan (every column), or -1 when the table does
 * not exist; aborts on any other failure. */
static long fi_count_rows(const char *table)
{
    pv_db *db;
    pv_stmt *st = NULL;
    char sql[64];
    long rows = 0;
    int rc, i;
    if (pv_open(fi_ws_dir, PV_OPEN_READONLY, &db)) fi_die("reopen after import");
    snprintf(sql, sizeof sql, "SELECT * FROM %s", table);
    rc = pv_prepare(db, sql, (size_t)-1, &st, NULL);
    if (rc == PV_ENOTFOUND) {
        pv_close(db);
        return -1;
    }
    if (rc) fi_die("prepare after import");
    while ((rc = pv_step(st)) == PV_ROW) {
        for (i = 0; i < pv_column_count(st); i++) (void)pv_column_text(st, i);
        rows++;
    }
    if (rc != PV_DONE) fi_die("scan after import");
    pv_finalize(st);
    pv_close(db);
    return rows;
}

/* Back to the initial state: no table `n`, no rows in `fixed`, no blobs. */
static void fi_reset(void)
{
    char path[400];
    int i;
    snprintf(path, sizeof path, "%s/.pv/tables/n", fi_ws_dir);
    fz_rmtree(path);
    for (i = 1; i <= 4; i++) {
        snprintf(path, sizeof path, "%s/.pv/tables/fixed/%08d.jsonl", fi_ws_dir, i);
        unlink(path);
    }
    snprintf(path, sizeof path, "%s/.pv/blobs", fi_ws_dir);
    fz_rmtree(path);
    mkdir(path, 0777);
}

static void fi_import(const uint8_t *data, size_t size, const char *format, const char *file_name)
{
    char *argv[10], path[400];
    int argc = 0, rc, mode;
    const char *table;
    long rows;

    if (size < 1) return;
    if (!fi_ws_dir[0]) fi_setup();
    snprintf(path, sizeof path, "%s/%s", fz_tmpdir(), file_name);
    mode = data[0];
    table = (mode & 1) ? "fixed" : "n";
    fz_write(path, data + 1, size - 1);

    argv[argc++] = (char *)"import";
    if (!(mode & 1) && (mode & 6)) {
        argv[argc++] = (char *)"--key";
        argv[argc++] = (char *)((mode & 4) ? "id,name" : "id");
    }
    if (format) {
        argv[argc++] = (char *)"--format";
        argv[argc++] = (char *)format;
    }
    argv[argc++] = (char *)table;
    argv[argc++] = path;
    argv[argc++] = (char *)"-C";
    argv[argc++] = fi_ws_dir;
    argv[argc] = NULL;

    fz_quiet_begin();
    rc = cmd_import(argc, argv);
    fz_quiet_end();

    rows = fi_count_rows(table);
    if (rc == PVDEV_EXIT_OK) {
        if (rows < 0) {
            fprintf(stderr, "fuzz import: import succeeded but table %s is missing\n", table);
            abort();
        }
    } else if (rc == PVDEV_EXIT_FAIL) {
        if (rows > 0 || (rows == 0 && !(mode & 1))) {
            fprintf(stderr, "fuzz import: import failed but left %ld rows in %s\n", rows, table);
            abort();
        }
    } else {
        fprintf(stderr, "fuzz import: cmd_import returned %d\n", rc);
        abort();
    }
    fi_reset();
}

#endif
