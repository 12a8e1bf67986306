/*
 * The libmicrohttpd daemon: connection limits, body limits, the worker
 * threads that run handlers, replies and the request log.
 */
#ifndef CIVCAS_HTTP_SERVER_H
#define CIVCAS_HTTP_SERVER_H

#include <stdbool.h>

/* Starts serving per cfg; returns false (logged) if the daemon cannot start. */
bool http_server_start(void);
/* Stops accepting, waits up to drain_seconds for requests in flight, stops. */
void http_server_stop(int drain_seconds);

#endif
