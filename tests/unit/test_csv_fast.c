/*
 * test_csv_fast.c: the CSV reader's fast path (plain lines split without
 * libcsv) reads exactly what the byte-by-byte libcsv path reads: the same
 * records, fields, NULLs, lines and offsets, and the same error with the
 * same message, on hand-made edge cases, on every input of the fuzz_csv
 * corpus, and on a file whose lines cross the 64 KiB read buffer.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "csv_read.h"
#include "pv.h"
#include "util.h"

#ifndef PV_SOURCE_DIR
#define PV_SOURCE_DIR "."
#endif

/* Every record and the final result of one reader, as text. */
static void transcript(pv_csv_reader *r, pv_buf *out)
{
    pv_csv_record rec;
    int rc;

    while ((rc = pv_csv_next(r, &rec)) == 1) {
        pv_buf_printf(out, "rec line %llu off %llu n %zu:", (unsigned long long)rec.line,
                      (unsigned long long)rec.offset, rec.nfields);
        for (size_t i = 0; i < rec.nfields; i++) {
            const pv_csv_field *f = &rec.fields[i];
            pv_buf_printf(out, " [%d@%llu ", f->quoted, (unsigned long long)f->offset);
            if (f->p) {
                assert_int_equal(f->p[f->n], '\0');
                pv_buf_append(out, f->p, f->n);
            } else {
                pv_buf_append(out, "NULL", 4);
            }
            pv_buf_putc(out, ']');
        }
        pv_buf_putc(out, '\n');
    }
    pv_buf_printf(out, "end %d %s\n", rc, rc < 0 ? pv_errmsg() : "");
}

static void read_mem(const char *data, size_t n, size_t max_fields, int fast, pv_buf *out)
{
    pv_csv_reader *r = NULL;

    assert_int_equal(pv_csv_open_mem(data, n, "in.csv", max_fields, &r), 0);
    pv_csv_set_fast(r, fast);
    transcript(r, out);
    pv_csv_close(r);
}

static void read_file(const char *path, int fast, pv_buf *out)
{
    pv_csv_reader *r = NULL;

    assert_int_equal(pv_csv_open(path, 0, &r), 0);
    pv_csv_set_fast(r, fast);
    transcript(r, out);
    pv_csv_close(r);
}

static void same_both_ways(const char *data, size_t n, size_t max_fields)
{
    pv_buf fast = PV_BUF_INIT, slow = PV_BUF_INIT;

    read_mem(data, n, max_fields, 1, &fast);
    read_mem(data, n, max_fields, 0, &slow);
    if (!fast.p || !slow.p || strcmp(fast.p, slow.p) != 0)
        fail_msg("input %.*s\nfast:\n%s\nslow:\n%s", (int)(n > 200 ? 200 : n), data,
                 fast.p ? fast.p : "", slow.p ? slow.p : "");
    pv_buf_free(&fast);
    pv_buf_free(&slow);
}

static void test_edge_cases(void **state)
{
    static const char *cases[] = {
        "a,b\n1,2\n3,4\n",
        "a,b\n1,2\n3,4",                      /* no final line break */
        "a,b\r\n1,2\r\n,\r\n",                /* CRLF, a row of NULLs */
        "\xEF\xBB\xBF" "a,b\n1,2\n",          /* BOM */
        "a,b\n\n\n1,2\n\r\n3,4\n",            /* blank lines */
        "a,b\n1,2\r3,4\n",                    /* a lone CR ends a record */
        "a,b\n1,\"x\"\n,\"\"\n5,6\n",         /* quoted fields between plain ones */
        "a,b\n\"1\n2\",3\n4,5\n",             /* a line break inside quotes */
        "a,b\n1,2,3\n",                       /* ragged: too many */
        "a,b\n1\n",                           /* ragged: too few */
        "a,b\n\xff,2\n",                      /* invalid UTF-8 */
        "a,b\n1,\xc3\n",                      /* a character cut by the line end */
        "a,b\n\xc3,\xa9\n",                   /* ... and by a comma */
        "a,b\n1,2\n3,4,\xff\n",               /* ragged and invalid: which first */
        "a,b\n1,x\"y\n",                      /* a quote inside an unquoted field */
        "a,b\n1,\"x\"y\n",                    /* text after a closing quote */
        "a,b\n1,\"open\n",                    /* unterminated quote */
        " a , b \n 1 , 2 \n",                 /* spaces are content */
        ",\n,\n",                             /* empty header fields */
        "a\n\n",                              /* one column */
        "a,b,c\n1,2,3\n",                     /* over max_fields (2): below */
        "\n",
        "",
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        same_both_ways(cases[i], strlen(cases[i]), 0);
        same_both_ways(cases[i], strlen(cases[i]), 2);
    }
}

/* Every input of the fuzz_csv corpus (its first byte is the fuzzer's mode). */
static void test_fuzz_corpus(void **state)
{
    const char *dir = PV_SOURCE_DIR "/tests/fuzz/corpus/csv";
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    (void)state;

    assert_non_null(d);
    while ((e = readdir(d))) {
        char path[4096];
        FILE *f;
        char *data;
        long len;
        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        assert_non_null(f = fopen(path, "rb"));
        fseek(f, 0, SEEK_END);
        len = ftell(f);
        rewind(f);
        assert_non_null(data = malloc((size_t)len + 1));
        assert_int_equal(fread(data, 1, (size_t)len, f), (size_t)len);
        fclose(f);
        if (len > 1)
            same_both_ways(data + 1, (size_t)len - 1, 0);
        same_both_ways(data, (size_t)len, 0);
        free(data);
        n++;
    }
    closedir(d);
    assert_true(n > 10);
}

/* Lines cross the read buffer (64 KiB) at every few bytes: each record is
 * taken whole by the fast path or begun by it in one buffer and finished
 * by libcsv in the next; some lines are longer than 256 bytes. */
static void test_buffer_boundaries(void **state)
{
    char path[] = "/tmp/pv-csvfast-XXXXXX";
    int fd = mkstemp(path);
    pv_buf csv = PV_BUF_INIT, fast = PV_BUF_INIT, slow = PV_BUF_INIT;
    FILE *f;
    (void)state;

    assert_true(fd >= 0);
    pv_buf_printf(&csv, "id,name,note\r\n");
    for (int i = 0; csv.len < 300000; i++) {
        pv_buf_printf(&csv, i % 97 == 0 ? "%d,\"q,%d\",\n" : i % 5 ? "%d,n\xc3\xa9%d,x\r\n" : "%d,,%d\n",
                      i, i * 7);
        if (i % 1000 == 0) /* a line longer than the split's first buffer */
            pv_buf_printf(&csv, "%d,%0900d,%0700d\n", i, i, i);
    }
    assert_non_null(f = fdopen(fd, "wb"));
    assert_int_equal(fwrite(csv.p, 1, csv.len, f), csv.len);
    fclose(f);
    read_file(path, 1, &fast);
    read_file(path, 0, &slow);
    assert_string_equal(fast.p, slow.p);
    unlink(path);
    pv_buf_free(&csv);
    pv_buf_free(&fast);
    pv_buf_free(&slow);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_edge_cases),
        cmocka_unit_test(test_fuzz_corpus),
        cmocka_unit_test(test_buffer_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
