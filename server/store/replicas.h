/*
 * Read replicas: PostgreSQL streaming standbys that answer reads (trends,
 * reports, lists, public routes) so that the primary keeps its capacity
 * for writes.
 *
 * CIVCAS_READ_DATABASE_URL lists one or more libpq URLs separated by
 * whitespace, one per standby; each gets a pool of its own. A monitor
 * thread samples, every CIVCAS_REPLICA_CHECK_MS, the primary's WAL
 * position and each standby's replay position; from them come each
 * standby's lag in bytes and in seconds (how long ago the primary first
 * had WAL the standby has not replayed yet). A read goes to a standby
 * only when it answered its last check, is in recovery, is no further
 * behind than CIVCAS_MAX_REPLICA_LAG and has replayed the caller's own
 * last write (replicas_note_write); else to the primary.
 *
 * Without the setting nothing here runs and every read goes to the
 * primary, as before.
 */
#ifndef CIVCAS_STORE_REPLICAS_H
#define CIVCAS_STORE_REPLICAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/db.h"

#define REPLICAS_MAX 8

/* Parses urls (whitespace-separated postgresql:// URLs, at most
 * REPLICAS_MAX) and makes a pool of pool_size for each; nothing is
 * connected yet. False with problem set when the list is malformed. */
bool replicas_configure(const char *urls, int pool_size, int statement_timeout_ms, long max_lag_ms,
                        char *problem, size_t size);
/* Starts the monitor: every check_ms, the primary at primary_url and every
 * replica. */
bool replicas_start(const char *primary_url, long check_ms);
/* Stops the monitor and frees the pools (no connection may be lent). */
void replicas_stop(void);
/* How many replicas are configured (0: every read goes to the primary). */
int replicas_count(void);

/* A connection to a replica fit for a read that must see everything up
 * to min_lsn (0: the caller wrote nothing lately), its index in *which;
 * NULL when none fits now (the caller reads from the primary). Never
 * waits for a busy replica. */
struct db_conn *replicas_acquire(uint64_t min_lsn, int *which);
/* A read on replica which failed (503); broken: its connection was lost,
 * so its pool's idle connections are reopened before their next use (a
 * replica that cannot be reached then is skipped until the monitor hears
 * from it again). */
void replicas_read_failed(int which, bool broken);

/* Remembers that key_id wrote up to lsn (the primary's WAL position
 * after its write), so that its next reads go to a replica only once that
 * replica has replayed this far. Bounded memory: keys may share a slot,
 * and then each waits for the other's last write too. */
void replicas_note_write(long long key_id, uint64_t lsn);
/* The position key_id's reads must see (0: none remembered). */
uint64_t replicas_written(long long key_id);
/* The primary's WAL insert position, read on c (a primary connection):
 * at or past the end of every transaction committed on c. */
bool replicas_wal_position(struct db_conn *c, uint64_t *lsn);

/* What the monitor last saw of one replica, for /readyz and /metrics. */
struct replica_state {
    bool up;       /* answered the last check or read */
    bool standby;  /* in recovery (a promoted server is no replica) */
    bool paused;   /* its WAL replay is paused */
    bool usable;   /* reads go to it now */
    bool measured; /* lag known (up, a standby, and the primary sampled) */
    uint64_t lag_bytes;
    double lag_seconds;
    uint64_t reads; /* reads it answered */
};
/* Fills out[0 .. replicas_count() - 1]; returns the count. */
int replicas_states(struct replica_state *out, int max);
/* Reads that went to the primary while replicas were configured. */
uint64_t replicas_fallbacks(void);
/* Counts one read that went to the primary although replicas exist. */
void replicas_note_fallback(void);

/* "16/B374D848" -> its 64-bit position; false when malformed. */
bool replicas_parse_lsn(const char *text, uint64_t *out);

#endif
