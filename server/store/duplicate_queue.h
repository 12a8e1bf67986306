/*
 * The duplicate queue keeper. A write pays nothing for the queue: every
 * incident written carries its transaction's id (change_xid), and this
 * thread of `civcasd serve` takes the incidents written since its
 * watermark in batches every interval, on a database connection of its
 * own, and refreshes their pairs (store_duplicate_queue_keep), so the
 * reviewers' queue follows the writes within about an interval. Incidents
 * recorded before the queue existed are taken in the same way, first.
 * Several daemons on one database are fine: one keeps the queue at a time.
 */
#ifndef CIVCAS_STORE_DUPLICATE_QUEUE_H
#define CIVCAS_STORE_DUPLICATE_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

/* Incidents refreshed a transaction at most: small, so that a stopping
 * serve waits for little (it stops between batches). */
#define DUPLICATE_QUEUE_BATCH 20

/* Starts keeping the queue every interval_ms on a connection to url. */
bool duplicate_queue_start(const char *url, long interval_ms);
/* Since start, for /metrics: batches done, batches failed, incidents whose
 * pairs were refreshed. */
struct duplicate_queue_stats {
    uint64_t batches, errors, refreshed;
};
void duplicate_queue_stats(struct duplicate_queue_stats *out);
/* Stops the thread (after the batch in progress) and closes its
 * connection; nothing when it was not started. */
void duplicate_queue_stop(void);

#endif
