/* Deadlines for pthread_cond_timedwait (CLOCK_REALTIME, its default clock). */
#ifndef CIVCAS_CLOCK_H
#define CIVCAS_CLOCK_H

#include <time.h>

/* *t = now + ms. */
void clock_deadline_ms(struct timespec *t, long ms);

#endif
