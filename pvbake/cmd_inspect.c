/*
 * cmd_inspect.c: the read-only looks at a baked file.
 *   pvbake inspect FILE [--json]   what is inside and how it is stored
 *   pvbake verify FILE             every checksum and offset
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "pv.h"
#include "pvdb.h"
#include "value.h"

/* Parse "FILE [--json]" (json may be NULL when the command has no --json).
 * Returns -1 when parsed, else the exit code to return at once. */
static int parse(const char *cmd, int argc, char **argv, const char **file, int *json)
{
    int i;
    *file = NULL;
    if (json) *json = 0;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return pvbake_usage(cmd, 0);
        if (json && !strcmp(argv[i], "--json")) {
            *json = 1;
        } else if (argv[i][0] != '-' && !*file) {
            *file = argv[i];
        } else {
            fprintf(stderr, "pvbake: %s: unexpected argument '%s'\n", cmd, argv[i]);
            return pvbake_usage(cmd, 1);
        }
    }
    if (!*file) {
        fprintf(stderr, "pvbake: %s: FILE is required\n", cmd);
        return pvbake_usage(cmd, 1);
    }
    return -1;
}

/* ---- JSON -------------------------------------------------------------------- */

/* A JSON string. Bytes of invalid UTF-8 (provenance is not checked at
 * bake time) are escaped one by one so the output stays valid JSON. */
static void json_str(const char *s)
{
    int utf8 = pv_utf8_valid(s, strlen(s), NULL);
    putchar('"');
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c == '\n') fputs("\\n", stdout);
        else if (c == '\t') fputs("\\t", stdout);
        else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static double ratio(const pvdb_column_info *ci)
{
    return ci->stored_bytes ? (double)ci->raw_bytes / (double)ci->stored_bytes : 1.0;
}

static void json_column(const pvdb_column_info *ci)
{
    fputs("{\"name\":", stdout);
    json_str(ci->name);
    printf(",\"type\":\"%s\",\"encoding\":\"%s\",\"chunks\":%u,\"compressed\":%u,"
           "\"raw_bytes\":%llu,\"stored_bytes\":%llu,\"ratio\":%.3f,\"null_count\":%llu}",
           pv_type_name(ci->type), ci->encoding, ci->chunks, ci->compressed,
           (unsigned long long)ci->raw_bytes, (unsigned long long)ci->stored_bytes,
           ratio(ci), (unsigned long long)ci->null_count);
}

/* ---- text ------------------------------------------------------------------------ */

static void text_header(const char *file, pvdb_file *f)
{
    printf("file            %s\n", file);
    printf("format version  %u\n", pvdb_format_version(f));
    printf("size            %llu bytes\n", (unsigned long long)pvdb_file_size(f));
    printf("source          %s\n", *pvdb_source(f) ? pvdb_source(f) : "-");
    printf("tool            %s\n", *pvdb_tool(f) ? pvdb_tool(f) : "-");
    printf("tables          %u\n", pvdb_table_count(f));
}

static void text_column(const pvdb_column_info *ci)
{
    printf("  %-24s %-8s %-6s %6u %12llu %12llu %6.2f %10llu\n", ci->name,
           pv_type_name(ci->type), ci->encoding, ci->chunks,
           (unsigned long long)ci->raw_bytes, (unsigned long long)ci->stored_bytes,
           ratio(ci), (unsigned long long)ci->null_count);
}

/* One table, in text or JSON. */
static int show_table(pvdb_file *f, uint32_t t, int json)
{
    pv_source src;
    pvdb_column_info ci;
    uint32_t c, groups = 0;
    if (pvdb_table_source(f, t, &src) != PV_OK) return -1;
    if (pvdb_column_info_get(f, t, 0, &ci) != PV_OK) return -1;
    groups = ci.chunks;
    if (json) {
        fputs(t ? ",{\"name\":" : "{\"name\":", stdout);
        json_str(src.schema->name);
        printf(",\"rows\":%llu,\"row_groups\":%u,\"columns\":[",
               (unsigned long long)src.nrows, groups);
    } else {
        printf("\ntable %s: %llu rows, %u row group%s\n", src.schema->name,
               (unsigned long long)src.nrows, groups, groups == 1 ? "" : "s");
        printf("  %-24s %-8s %-6s %6s %12s %12s %6s %10s\n", "column", "type", "enc",
               "chunks", "raw", "stored", "ratio", "nulls");
    }
    for (c = 0; c < src.schema->ncols; c++) {
        if (pvdb_column_info_get(f, t, c, &ci) != PV_OK) return -1;
        if (json) {
            if (c) putchar(',');
            json_column(&ci);
        } else {
            text_column(&ci);
        }
    }
    if (json) fputs("]}", stdout);
    return 0;
}

int cmd_inspect(int argc, char **argv)
{
    const char *file;
    pvdb_file *f = NULL;
    uint32_t t;
    int json, rc = parse("inspect", argc, argv, &file, &json);
    if (rc >= 0) return rc;
    if (pvdb_open(file, &f) != PV_OK) return pvbake_fail();
    if (json) {
        fputs("{\"file\":", stdout);
        json_str(file);
        printf(",\"format_version\":%u,\"size\":%llu,\"source\":", pvdb_format_version(f),
               (unsigned long long)pvdb_file_size(f));
        json_str(pvdb_source(f));
        fputs(",\"tool\":", stdout);
        json_str(pvdb_tool(f));
        fputs(",\"tables\":[", stdout);
    } else {
        text_header(file, f);
    }
    rc = PVBAKE_EXIT_OK;
    for (t = 0; t < pvdb_table_count(f) && rc == PVBAKE_EXIT_OK; t++)
        if (show_table(f, t, json) != 0) rc = pvbake_fail();
    if (json && rc == PVBAKE_EXIT_OK) fputs("]}\n", stdout);
    pvdb_close(f);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    const char *file;
    pvdb_file *f = NULL;
    int rc = parse("verify", argc, argv, &file, NULL);
    if (rc >= 0) return rc;
    if (pvdb_open(file, &f) != PV_OK) return pvbake_fail();
    if (pvdb_verify(f) != PV_OK) rc = pvbake_fail();
    else rc = PVBAKE_EXIT_OK;
    if (rc == PVBAKE_EXIT_OK)
        printf("%s: ok (%u table%s, %llu bytes)\n", file, pvdb_table_count(f),
               pvdb_table_count(f) == 1 ? "" : "s", (unsigned long long)pvdb_file_size(f));
    pvdb_close(f);
    return rc;
}
