/*
 * Rate limits: a token bucket per client address and per API key, in a
 * table of fixed size (memory stays bounded whatever the number of
 * clients; when it is full the least recently seen bucket is reused).
 * A bucket holds up to burst tokens and gains rate tokens a second; a
 * request takes one or is refused with the seconds until one is there.
 */
#ifndef CIVCAS_RATELIMIT_H
#define CIVCAS_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>

enum ratelimit_kind { RATELIMIT_ADDRESS, RATELIMIT_KEY };

/* Takes a token from the bucket of (kind, id); false with *retry_after
 * (whole seconds, at least 1) when it is empty. rate <= 0: no limit. */
bool ratelimit_take(enum ratelimit_kind kind, const void *id, size_t len, double rate,
                    double burst, int *retry_after);

/* Forgets every bucket (tests, shutdown). */
void ratelimit_reset(void);

#endif
