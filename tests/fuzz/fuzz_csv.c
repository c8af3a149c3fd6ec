/*
 * fuzz_csv.c: libFuzzer target for `pvdev import` of CSV (CSV reader, type
 * inference, conversion, key checks, the write into the workspace).
 *
 * Input: one mode byte, then the CSV file; the mode and the oracles are
 * those of fuzz_import.h (a successful import reads back, a failed one
 * leaves the workspace unchanged).
 */
#include "fuzz_import.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fi_import(data, size, NULL, "in.csv");
    return 0;
}
