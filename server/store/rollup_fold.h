/*
 * The rollup folder. Writes put their contribution to the trend rollups in
 * a journal, in their own transaction (exact at once: readers count the
 * journal too); this thread of `civcasd serve` folds the journal into the
 * cells every interval, on a database connection of its own, so the
 * journal stays a second of writes long and reads stay cheap. Several
 * daemons on one database are fine: one folds at a time.
 */
#ifndef CIVCAS_STORE_ROLLUP_FOLD_H
#define CIVCAS_STORE_ROLLUP_FOLD_H

#include <stdbool.h>
#include <stdint.h>

/* Starts folding every interval_ms on a connection to url. */
bool rollup_folder_start(const char *url, long interval_ms);
/* Since start, for /metrics: folds done, folds failed, journal rows folded. */
struct rollup_folder_stats {
    uint64_t folds, errors, rows;
};
void rollup_folder_stats(struct rollup_folder_stats *out);
/* Stops the thread (after any fold in progress) and closes its connection. */
void rollup_folder_stop(void);

#endif
