/*
 * progress.h: a progress line for long imports and exports, on stderr.
 *
 *   importing flights.csv [#########...........]  45%  1350000 rows  612k rows/s
 *
 * Shown only when stderr is a terminal (PVDEV_PROGRESS=always forces it,
 * =never silences it), redrawn at most ten times a second, erased at the
 * end. Without a known total size the bar is left out.
 */
#ifndef PVDEV_PROGRESS_H
#define PVDEV_PROGRESS_H

#include <stdint.h>
#include <stdio.h>

typedef struct pv_progress {
    FILE *f;            /* NULL when silent */
    char what[96];      /* "importing flights.csv" */
    uint64_t total;     /* bytes expected, 0 if unknown */
    uint64_t rows, bytes;
    double start, last; /* seconds */
    int drawn;
} pv_progress;

/* Start; `total` is the size in bytes of the input when known, else 0. */
void pv_progress_start(pv_progress *p, const char *what, uint64_t total);

/* Rows and bytes done so far; cheap enough to call for every row. */
static inline void pv_progress_update(pv_progress *p, uint64_t rows, uint64_t bytes);

/* Redraw now (called by pv_progress_update every 8192 rows). */
void pv_progress_draw(pv_progress *p);

/* A new label for the next phase ("writing 3000000 rows"), drawn at once. */
void pv_progress_phase(pv_progress *p, const char *what);

/* Erase the line. */
void pv_progress_end(pv_progress *p);

static inline void pv_progress_update(pv_progress *p, uint64_t rows, uint64_t bytes)
{
    p->rows = rows;
    p->bytes = bytes;
    if (p->f && (rows & 8191) == 0)
        pv_progress_draw(p);
}

#endif
