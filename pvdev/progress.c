/*
 * progress.c: the progress line of progress.h.
 */
#include "progress.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 24

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void pv_progress_start(pv_progress *p, const char *what, uint64_t total)
{
    const char *env = getenv("PVDEV_PROGRESS");

    memset(p, 0, sizeof *p);
    if (env && !strcmp(env, "never"))
        p->f = NULL;
    else if ((env && !strcmp(env, "always")) || isatty(STDERR_FILENO))
        p->f = stderr;
    snprintf(p->what, sizeof p->what, "%s", what);
    p->total = total;
    p->start = p->last = now();
}

/* "612k" */
static void human(double v, char *buf, size_t size)
{
    if (v >= 1e6)
        snprintf(buf, size, "%.1fM", v / 1e6);
    else if (v >= 1e4)
        snprintf(buf, size, "%.0fk", v / 1e3);
    else
        snprintf(buf, size, "%.0f", v);
}

static void draw(pv_progress *p, double t)
{
    char rate[32], bar[BAR_WIDTH + 3] = "";
    double secs = t - p->start;
    int pct = -1;

    human(secs > 0 ? (double)p->rows / secs : 0, rate, sizeof rate);
    if (p->total) {
        uint64_t done = p->bytes < p->total ? p->bytes : p->total;
        int fill = (int)(done * BAR_WIDTH / p->total);
        pct = (int)(done * 100 / p->total);
        bar[0] = '[';
        for (int i = 0; i < BAR_WIDTH; i++)
            bar[1 + i] = i < fill ? '#' : '.';
        bar[BAR_WIDTH + 1] = ']';
        bar[BAR_WIDTH + 2] = '\0';
    }
    fprintf(p->f, "\r\033[K%s", p->what);
    if (pct >= 0)
        fprintf(p->f, " %s %3d%%", bar, pct);
    fprintf(p->f, "  %" PRIu64 " rows  %s rows/s", p->rows, rate);
    fflush(p->f);
    p->drawn = 1;
    p->last = t;
}

void pv_progress_draw(pv_progress *p)
{
    double t;

    if (!p->f)
        return;
    t = now();
    /* Nothing for the first half second: quick jobs stay quiet. */
    if (t - p->last < 0.1 || t - p->start < 0.5)
        return;
    draw(p, t);
}

void pv_progress_phase(pv_progress *p, const char *what)
{
    if (!p->f)
        return;
    snprintf(p->what, sizeof p->what, "%s", what);
    p->total = 0;
    if (p->drawn || now() - p->start >= 0.5)
        draw(p, now());
}

void pv_progress_end(pv_progress *p)
{
    if (p->f && p->drawn) {
        fputs("\r\033[K", p->f);
        fflush(p->f);
    }
    p->f = NULL;
}
