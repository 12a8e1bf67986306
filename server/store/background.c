/* Background tasks of serve: a thread, an interval, a connection. */
#include "store/background.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/log.h"

/* Sleeps ms or until stopped; true while the task should run. */
static bool pause_ms(struct background_task *t, long ms)
{
    struct timespec until;
    clock_deadline_ms(&until, ms);
    pthread_mutex_lock(&t->lock);
    while (!t->stop && pthread_cond_timedwait(&t->wake, &t->lock, &until) == 0)
        ;
    bool go_on = !t->stop;
    pthread_mutex_unlock(&t->lock);
    return go_on;
}

static bool stopping(struct background_task *t)
{
    pthread_mutex_lock(&t->lock);
    bool stop = t->stop;
    pthread_mutex_unlock(&t->lock);
    return stop;
}

static void *task_main(void *arg)
{
    struct background_task *t = arg;
    struct db_conn *c = NULL;
    bool failing = false; /* one warning per outage, not one a second */
    while (pause_ms(t, t->interval_ms)) {
        bool again;
        do {
            again = false;
            struct api_error e = {0};
            if (!c && t->url)
                c = db_connect_once(t->url, &e);
            if ((c || !t->url) && t->round(c, &again, &e)) {
                if (failing)
                    log_info("%s: working again", t->name);
                failing = false;
                continue;
            }
            /* A lost database or a failed round: a new connection next time. */
            __atomic_add_fetch(&t->errors, 1, __ATOMIC_RELAXED);
            if (!failing)
                log_warn("%s: cannot %s (%s); retrying every %ld ms", t->name, t->doing,
                         e.message[0] ? e.message : "database error", t->interval_ms);
            failing = true;
            db_close(c);
            c = NULL;
        } while (again && !stopping(t));
    }
    db_close(c);
    return NULL;
}

bool background_start(struct background_task *t, const char *url, long interval_ms)
{
    t->url = url ? strdup(url) : NULL;
    if (url && !t->url)
        return false;
    t->interval_ms = interval_ms;
    t->stop = false;
    if (pthread_create(&t->thread, NULL, task_main, t) != 0) {
        free(t->url);
        t->url = NULL;
        return false;
    }
    t->running = true;
    return true;
}

uint64_t background_errors(struct background_task *t)
{
    return __atomic_load_n(&t->errors, __ATOMIC_RELAXED);
}

void background_stop(struct background_task *t)
{
    if (!t->running)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = true;
    pthread_cond_signal(&t->wake);
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    t->running = false;
    free(t->url);
    t->url = NULL;
}
