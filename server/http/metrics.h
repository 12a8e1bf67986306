/*
 * Prometheus metrics: requests by route template and status, latency
 * histograms, connections, and the database pool. Counters are atomics, so
 * recording a request costs a few instructions and scraping takes no lock.
 */
#ifndef CIVCAS_METRICS_H
#define CIVCAS_METRICS_H

#include "util/buf.h"

/* Names the routes: templates[i] is the template of route index i (at
 * most HTTP_ROUTES_MAX). Called once before serving. */
void metrics_set_routes(const char *const *templates, int n);
/* route: index in the router's table, or -1 for unmatched requests. */
void metrics_request(int route, int status, double seconds);
void metrics_connection_opened(void);
void metrics_connection_closed(void);
void metrics_connection_rejected(void);
/* A request that waited too long for a worker (503). */
void metrics_queue_timeout(void);
void metrics_in_place(void);
long metrics_open_connections(void);

/* The text exposition format, version 0.0.4. */
void metrics_render(struct buf *out);

#endif
