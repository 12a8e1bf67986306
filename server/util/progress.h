/*
 * The progress line of a long command on a terminal: how much is done, at
 * what rate, and, when the share done is known, the percentage and the
 * time left; redrawn in place at most twice a second.
 */
#ifndef CIVCAS_PROGRESS_H
#define CIVCAS_PROGRESS_H

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

struct progress {
    FILE *out; /* NULL: nothing is drawn */
    double started, drawn;
    bool shown; /* a line is on the screen, not yet ended */
};

/* Seconds on a monotonic clock. */
double progress_now(void);

/* Starts the clock the rate and the time left count from; out NULL draws
 * nothing. */
void progress_start(struct progress *p, FILE *out);
/* Restarts that clock for a new phase of the work (another unit). */
void progress_phase(struct progress *p);
/* Seconds since progress_start or progress_phase. */
double progress_elapsed(const struct progress *p);

/* "done unit" ("done/total unit" when total > 0), its rate and, when
 * share (of the work, 0 to 1) is known, the percentage and the time left.
 * share < 0: done / total, or unknown when total is 0. Skipped when the
 * line was drawn less than half a second ago. */
void progress_draw(struct progress *p, long long done, long long total, const char *unit,
                   double share);
/* Draws the final figures (no time left) and ends the line. */
void progress_end(struct progress *p, long long done, long long total, const char *unit);

/* The same line kept by a thread of its own, for work that reports
 * between long waits (a statement of minutes): redrawn twice a second
 * with the latest figures, so its rate and time left stay current. */
struct progress_ticker {
    struct progress line;
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool running, stop;
    const char *unit; /* a string literal; NULL: nothing to show yet */
    long long done, total;
};

/* Starts the thread drawing on out; out NULL: none, and the calls below
 * do nothing. */
void progress_ticker_start(struct progress_ticker *t, FILE *out);
/* The latest figures; a new unit is a new phase (progress_phase). */
void progress_ticker_set(struct progress_ticker *t, const char *unit, long long done,
                         long long total);
/* Stops the thread and ends the line with the last figures. */
void progress_ticker_stop(struct progress_ticker *t);

#endif
