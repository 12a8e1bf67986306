/* The progress line of long commands (import, rollup rebuild). */
#include "util/progress.h"

#include <string.h>
#include <time.h>

#include "util/clock.h"

double progress_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void progress_start(struct progress *p, FILE *out)
{
    p->out = out;
    p->started = progress_now();
    p->drawn = 0;
    p->shown = false;
}

void progress_phase(struct progress *p)
{
    p->started = progress_now();
}

double progress_elapsed(const struct progress *p)
{
    return progress_now() - p->started;
}

static void draw(struct progress *p, double t, long long done, long long total, const char *unit,
                 double share)
{
    double elapsed = t - p->started;
    fprintf(p->out, "\r%lld", done);
    if (total > 0)
        fprintf(p->out, "/%lld", total);
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    fprintf(p->out, " %s, %.*f %s/s", unit, rate < 10 ? 1 : 0, rate, unit);
    if (share < 0 && total > 0)
        share = (double)done / (double)total;
    if (share > 0 && share < 1) {
        double left = elapsed * (1 - share) / share;
        fprintf(p->out, ", %.0f%%, ETA %d:%02d", 100 * share, (int)left / 60, (int)left % 60);
    }
    /* Whatever a longer line drawn before left on the screen. */
    fputs("\033[K", p->out);
    fflush(p->out);
    p->drawn = t;
    p->shown = true;
}

void progress_draw(struct progress *p, long long done, long long total, const char *unit,
                   double share)
{
    if (!p->out)
        return;
    double t = progress_now();
    if (p->shown && t - p->drawn < 0.5)
        return;
    draw(p, t, done, total, unit, share);
}

void progress_end(struct progress *p, long long done, long long total, const char *unit)
{
    if (!p->out)
        return;
    draw(p, progress_now(), done, total, unit, 1);
    fputc('\n', p->out);
    fflush(p->out);
    p->shown = false;
}

static void *ticker_main(void *arg)
{
    struct progress_ticker *t = arg;
    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        struct timespec deadline;
        clock_deadline_ms(&deadline, 500);
        while (!t->stop && pthread_cond_timedwait(&t->wake, &t->lock, &deadline) == 0)
            ;
        if (!t->stop && t->unit)
            draw(&t->line, progress_now(), t->done, t->total, t->unit, -1);
    }
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

void progress_ticker_start(struct progress_ticker *t, FILE *out)
{
    memset(t, 0, sizeof *t);
    if (!out)
        return;
    progress_start(&t->line, out);
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->wake, NULL);
    /* Without the thread, a line drawn only at the end. */
    t->running = pthread_create(&t->thread, NULL, ticker_main, t) == 0;
}

void progress_ticker_set(struct progress_ticker *t, const char *unit, long long done,
                         long long total)
{
    if (!t->line.out)
        return;
    pthread_mutex_lock(&t->lock);
    if (t->unit && strcmp(t->unit, unit) != 0)
        progress_phase(&t->line);
    t->unit = unit;
    t->done = done;
    t->total = total;
    pthread_mutex_unlock(&t->lock);
}

void progress_ticker_stop(struct progress_ticker *t)
{
    if (!t->line.out)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    if (t->running)
        pthread_join(t->thread, NULL);
    if (t->unit)
        progress_end(&t->line, t->done, t->total, t->unit);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->wake);
    t->line.out = NULL;
}
