/* The rollup folder: a thread of serve that folds the rollup journal into
 * the cells (migrations/0004_rollup_journal.sql) on its own connection. */
#include "store/rollup_fold.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/rollup.h"
#include "util/clock.h"
#include "util/log.h"

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop;
    bool running;
    pthread_t thread;
    char *url;
    long interval_ms;
} folder = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static uint64_t folds_total, fold_errors_total, rows_folded_total;

void rollup_folder_stats(struct rollup_folder_stats *out)
{
    out->folds = __atomic_load_n(&folds_total, __ATOMIC_RELAXED);
    out->errors = __atomic_load_n(&fold_errors_total, __ATOMIC_RELAXED);
    out->rows = __atomic_load_n(&rows_folded_total, __ATOMIC_RELAXED);
}

/* Sleeps interval_ms or until stopped; true while the folder should run. */
static bool pause_ms(long ms)
{
    struct timespec until;
    clock_deadline_ms(&until, ms);
    pthread_mutex_lock(&folder.lock);
    while (!folder.stop && pthread_cond_timedwait(&folder.wake, &folder.lock, &until) == 0)
        ;
    bool go_on = !folder.stop;
    pthread_mutex_unlock(&folder.lock);
    return go_on;
}

static void *folder_main(void *arg)
{
    (void)arg;
    struct db_conn *c = NULL;
    bool failing = false; /* one warning per outage, not one a second */
    while (pause_ms(folder.interval_ms)) {
        struct api_error e = {0};
        if (!c)
            c = db_connect_once(folder.url, &e);
        long long folded = 0;
        if (c && store_rollup_fold(c, &folded, &e)) {
            __atomic_add_fetch(&folds_total, 1, __ATOMIC_RELAXED);
            __atomic_add_fetch(&rows_folded_total, (uint64_t)folded, __ATOMIC_RELAXED);
            if (failing)
                log_info("rollup folder: folding again");
            failing = false;
            if (folded > 0)
                log_debug("rollup folder: %lld journal rows folded", folded);
            continue;
        }
        /* Lost database or a failed fold: a new connection next time. The
         * journal keeps every contribution meanwhile, and readers count it. */
        __atomic_add_fetch(&fold_errors_total, 1, __ATOMIC_RELAXED);
        if (!failing)
            log_warn("rollup folder: cannot fold the rollup journal (%s); retrying every %ld ms",
                     e.message[0] ? e.message : "database error", folder.interval_ms);
        failing = true;
        db_close(c);
        c = NULL;
    }
    db_close(c);
    return NULL;
}

bool rollup_folder_start(const char *url, long interval_ms)
{
    folder.url = strdup(url);
    if (!folder.url)
        return false;
    folder.interval_ms = interval_ms;
    folder.stop = false;
    if (pthread_create(&folder.thread, NULL, folder_main, NULL) != 0) {
        free(folder.url);
        folder.url = NULL;
        return false;
    }
    folder.running = true;
    return true;
}

void rollup_folder_stop(void)
{
    if (!folder.running)
        return;
    pthread_mutex_lock(&folder.lock);
    folder.stop = true;
    pthread_cond_signal(&folder.wake);
    pthread_mutex_unlock(&folder.lock);
    pthread_join(folder.thread, NULL);
    folder.running = false;
    free(folder.url);
    folder.url = NULL;
}
