/*
 * cmd_inspect.c: the read-only looks at a baked file.
 *   pvbake inspect FILE [--json] [--chunks]   what is inside and how it is
 *                                              stored, with zone maps
 *   pvbake verify FILE                         every checksum, offset, zone
 *                                              map and key
 */
#include <stdio.h>
#include <string.h>

#include "cmds.h"
#include "encode.h"
#include "pv.h"
#include "pvdb.h"
#include "pvdb_secidx.h"
#include "value.h"

/* Parse "FILE [--json]" (json may be NULL when the command has no --json).
 * Returns -1 when parsed, else the exit code to return at once. */
static int parse(const char *cmd, int argc, char **argv, const char **file, int *json,
                 int *chunks)
{
    int i;
    *file = NULL;
    if (json) *json = 0;
    if (chunks) *chunks = 0;
    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return pvbake_usage(cmd, 0);
        if (json && !strcmp(argv[i], "--json")) {
            *json = 1;
        } else if (chunks && !strcmp(argv[i], "--chunks")) {
            *chunks = 1;
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

/* A zone-map bound as text: numbers as SQL writes them, TEXT and BLOB
 * prefixes up to their first zero byte, in quotes, with "..." (a prefix). */
static void zone_text(const pv_value *v, char *buf, size_t cap)
{
    char num[32];
    size_t n, i, o = 0;
    switch (v->type) {
    case PV_NULL: snprintf(buf, cap, "-"); return;
    case PV_REAL: pv_real_format(v->u.f, num); snprintf(buf, cap, "%s", num); return;
    case PV_TEXT:
    case PV_BLOB:
        for (n = 0; n < v->u.s.n && v->u.s.p[n]; n++) {
        }
        buf[o++] = '\'';
        for (i = 0; i < n && o + 5 < cap; i++) {
            unsigned char c = (unsigned char)v->u.s.p[i];
            if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\' ||
                (v->type == PV_BLOB && c >= 0x80))
                o += (size_t)snprintf(buf + o, cap - o, "\\x%02x", c);
            else buf[o++] = (char)c;
        }
        snprintf(buf + o, cap - o, n == 8 ? "...'" : "'");
        return;
    default: snprintf(buf, cap, "%lld", (long long)v->u.i); return;
    }
}

/* "for" or "for 40, dict 6" */
static void enc_text(const pvdb_column_info *ci, char *buf, size_t cap)
{
    size_t o = 0;
    unsigned e;
    if (strcmp(ci->encoding, "mixed") != 0) {
        snprintf(buf, cap, "%s", ci->encoding);
        return;
    }
    buf[0] = 0;
    for (e = 0; e < 8; e++) {
        if (!ci->enc_chunks[e] || o >= cap) continue;
        o += (size_t)snprintf(buf + o, cap - o, "%s%s %u", o ? ", " : "",
                              pv_encoder_get(e)->name, ci->enc_chunks[e]);
    }
}

static void json_value(const pv_value *v)
{
    char buf[96];
    if (v->type == PV_TEXT || v->type == PV_BLOB) {
        char s[9];
        size_t n;
        for (n = 0; n < 8 && v->u.s.p[n]; n++) s[n] = v->u.s.p[n];
        s[n] = 0;
        json_str(s);
        return;
    }
    if (v->type == PV_REAL && (v->u.f != v->u.f || v->u.f - v->u.f != 0)) {
        fputs("null", stdout); /* JSON has no NaN or infinities */
        return;
    }
    zone_text(v, buf, sizeof buf);
    fputs(buf, stdout);
}

static void json_column(const pvdb_column_info *ci)
{
    unsigned e;
    int first = 1;
    fputs("{\"name\":", stdout);
    json_str(ci->name);
    printf(",\"type\":\"%s\",\"encoding\":\"%s\",\"encodings\":{",
           pv_type_name(ci->type), ci->encoding);
    for (e = 0; e < 8; e++) {
        if (!ci->enc_chunks[e]) continue;
        printf("%s\"%s\":%u", first ? "" : ",", pv_encoder_get(e)->name, ci->enc_chunks[e]);
        first = 0;
    }
    printf("},\"chunks\":%u,\"compressed\":%u,"
           "\"raw_bytes\":%llu,\"stored_bytes\":%llu,\"ratio\":%.3f,\"null_count\":%llu",
           ci->chunks, ci->compressed,
           (unsigned long long)ci->raw_bytes, (unsigned long long)ci->stored_bytes,
           ratio(ci), (unsigned long long)ci->null_count);
    fputs(",\"min\":", stdout);
    if (ci->has_minmax) json_value(&ci->min);
    else fputs("null", stdout);
    fputs(",\"max\":", stdout);
    if (ci->has_minmax) json_value(&ci->max);
    else fputs("null", stdout);
    printf(",\"prefix_bounds\":%s,\"has_nan\":%s}",
           ci->type == PV_TEXT || ci->type == PV_BLOB ? "true" : "false",
           ci->has_nan ? "true" : "false");
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
    char enc[160], mn[64], mx[64];
    enc_text(ci, enc, sizeof enc);
    zone_text(ci->has_minmax ? &ci->min : &(pv_value){PV_NULL, {0}}, mn, sizeof mn);
    zone_text(ci->has_minmax ? &ci->max : &(pv_value){PV_NULL, {0}}, mx, sizeof mx);
    printf("  %-20s %-7s %-14s %11llu %10llu %7.2f %8llu  %s .. %s%s\n", ci->name,
           pv_type_name(ci->type), enc, (unsigned long long)ci->raw_bytes,
           (unsigned long long)ci->stored_bytes, ratio(ci),
           (unsigned long long)ci->null_count, mn, mx, ci->has_nan ? ", NaN" : "");
}

static void text_chunks(pvdb_file *f, uint32_t t, uint32_t ncols, const pv_schema *s)
{
    uint32_t g, c, ng = pvdb_group_count(f, t);
    printf("  %-6s %-20s %9s %-7s %10s %10s %7s  %s\n", "group", "column", "rows", "enc",
           "offset", "bytes", "nulls", "zone");
    for (g = 0; g < ng; g++)
        for (c = 0; c < ncols; c++) {
            pvdb_chunk_info k;
            char mn[64], mx[64];
            if (pvdb_chunk_info_get(f, t, g, c, &k) != PV_OK) return;
            zone_text(&k.min, mn, sizeof mn);
            zone_text(&k.max, mx, sizeof mx);
            printf("  %-6u %-20s %9u %-7s %10llu %10llu %7u  %s .. %s%s\n", g, s->cols[c].name,
                   k.rows, k.encoding_name, (unsigned long long)k.offset,
                   (unsigned long long)k.length, k.nulls, mn, mx, k.has_nan ? ", NaN" : "");
        }
}

/* One table, in text or JSON. */
/* The baked secondary indexes of table t (format version 3): name,
 * columns, distinct keys, rows listed and bytes. */
static void show_indexes(const pvdb_file *f, uint32_t t, const pv_schema *s, int json)
{
    uint32_t i, k, n = 0;
    pvdb_secidx_info x;
    if (json) fputs(",\"indexes\":[", stdout);
    for (i = 0; i < pvdb_secidx_count(f); i++) {
        if (pvdb_secidx_info_get(f, i, &x) != PV_OK || x.table != t) continue;
        if (json) {
            fputs(n ? ",{\"name\":" : "{\"name\":", stdout);
            json_str(x.name);
            printf(",\"unique\":%s,\"columns\":[", x.unique ? "true" : "false");
            for (k = 0; k < x.ncols; k++) {
                if (k) putchar(',');
                json_str(s->cols[x.cols[k]].name);
            }
            printf("],\"keys\":%llu,\"entries\":%llu,\"bytes\":%llu}", (unsigned long long)x.keys,
                   (unsigned long long)x.entries, (unsigned long long)x.length);
        } else {
            if (!n) printf("  %-20s %-7s %-24s %11s %11s %10s\n", "index", "unique", "columns", "keys", "rows",
                           "bytes");
            char cols[256];
            size_t o = 0;
            cols[0] = '\0';
            for (k = 0; k < x.ncols && o < sizeof cols; k++)
                o += (size_t)snprintf(cols + o, sizeof cols - o, "%s%s", k ? ", " : "", s->cols[x.cols[k]].name);
            printf("  %-20s %-7s %-24s %11llu %11llu %10llu\n", x.name, x.unique ? "yes" : "no", cols,
                   (unsigned long long)x.keys, (unsigned long long)x.entries, (unsigned long long)x.length);
        }
        n++;
    }
    if (json) fputs("]", stdout);
}

static int show_table(pvdb_file *f, uint32_t t, int json, int chunks)
{
    pv_source src;
    pvdb_column_info ci;
    uint32_t c, groups = pvdb_group_count(f, t);
    if (pvdb_table_source(f, t, &src) != PV_OK) return -1;
    if (json) {
        fputs(t ? ",{\"name\":" : "{\"name\":", stdout);
        json_str(src.schema->name);
        printf(",\"rows\":%llu,\"row_groups\":%u,\"primary_key\":[",
               (unsigned long long)src.nrows, groups);
        for (c = 0; c < src.schema->npk; c++) {
            if (c) putchar(',');
            json_str(src.schema->cols[src.schema->pk[c]].name);
        }
        fputs("],\"columns\":[", stdout);
    } else {
        printf("\ntable %s: %llu rows, %u row group%s, key (", src.schema->name,
               (unsigned long long)src.nrows, groups, groups == 1 ? "" : "s");
        for (c = 0; c < src.schema->npk; c++)
            printf("%s%s", c ? ", " : "", src.schema->cols[src.schema->pk[c]].name);
        printf(")\n  %-20s %-7s %-14s %11s %10s %7s %8s  %s\n", "column", "type", "encoding",
               "raw", "stored", "ratio", "nulls", "min .. max");
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
    if (json) fputs("]", stdout);
    show_indexes(f, t, src.schema, json);
    if (json) fputs("}", stdout);
    else if (chunks) text_chunks(f, t, src.schema->ncols, src.schema);
    return 0;
}

int cmd_inspect(int argc, char **argv)
{
    const char *file;
    pvdb_file *f = NULL;
    uint32_t t;
    int json, chunks, rc = parse("inspect", argc, argv, &file, &json, &chunks);
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
        if (show_table(f, t, json, chunks) != 0) rc = pvbake_fail();
    if (json && rc == PVBAKE_EXIT_OK) fputs("]}\n", stdout);
    pvdb_close(f);
    return rc;
}

int cmd_verify(int argc, char **argv)
{
    const char *file;
    pvdb_file *f = NULL;
    int rc = parse("verify", argc, argv, &file, NULL, NULL);
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
