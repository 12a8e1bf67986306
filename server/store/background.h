/*
 * Background work of `civcasd serve`: a thread that runs a task every
 * interval on a database connection of its own, off every request's path
 * (the rollup folder, the duplicate queue keeper). A failed round (a lost
 * database, a failed statement) is logged once per outage and counted; the
 * connection is dropped and made again for the next round.
 */
#ifndef CIVCAS_STORE_BACKGROUND_H
#define CIVCAS_STORE_BACKGROUND_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

struct background_task {
    const char *name;  /* in the log: "rollup folder" */
    const char *doing; /* in the log after "cannot ": "fold the rollup journal" */
    /* One round on c: false with e set when it failed. *again: more work
     * is waiting, run the next round now rather than after the interval. */
    bool (*round)(struct db_conn *c, bool *again, struct api_error *e);
    uint64_t errors; /* failed rounds since start (atomic) */
    /* The thread's own. */
    pthread_mutex_t lock;
    pthread_cond_t wake;
    bool stop, running;
    pthread_t thread;
    char *url;
    long interval_ms;
};
#define BACKGROUND_TASK(name_, doing_, round_)                                                     \
    {                                                                                              \
        .name = name_, .doing = doing_, .round = round_, .lock = PTHREAD_MUTEX_INITIALIZER,        \
        .wake = PTHREAD_COND_INITIALIZER                                                           \
    }

/* Starts t's thread: a round every interval_ms on a connection to url
 * (url NULL: the round gets NULL and keeps its own connections). */
bool background_start(struct background_task *t, const char *url, long interval_ms);
/* Failed rounds since start. */
uint64_t background_errors(struct background_task *t);
/* Stops the thread (after the round in progress) and closes its
 * connection; nothing when it was not started. */
void background_stop(struct background_task *t);

#endif
