/*
 * Routes: method and path template -> roles -> handler. The table is the
 * one list of what the server answers (also printed by `civcasd routes`
 * and named in logs and metrics).
 */
#ifndef CIVCAS_HTTP_ROUTER_H
#define CIVCAS_HTTP_ROUTER_H

#include <stdbool.h>
#include <stdio.h>

#include "http/request.h"

/* Finds r's route (sets r->route, its template and the path's id), or
 * false with e set: 404, or 405 with an Allow header added to r. */
bool http_route_resolve(struct http_request *r, struct api_error *e);
/* Whether r's (resolved) route needs a key, and whether it takes a body. */
bool http_route_needs_key(const struct http_request *r);
bool http_route_takes_body(const struct http_request *r);
/* Authenticates and authorises the caller for r's route, unless it needs
 * no key or was authenticated already (before its body was read). */
bool http_route_authenticate(struct http_request *r, struct api_error *e);
/* Finds r's route, authenticates and authorises the caller (when not done
 * yet), checks the body's media type and runs the handler; every failure
 * is replied. */
void http_dispatch(struct http_request *r);
/* Whether the route answers without the database (health, metrics, API
 * description): those are answered on the polling thread. */
bool http_route_is_quick(const char *method, const char *path);
/* The route template for logs and metrics. */
const char *http_route_template(const struct http_request *r);
/* The route's index in the table (-1: unmatched), and the template of an
 * index (HTTP_ROUTES_MAX for "unmatched"; NULL past the table). */
int http_route_index(const struct http_request *r);
const char *http_route_by_index(int index);
/* Every (method, template) pair served, for the API description check. */
void http_routes_print(FILE *out);

#endif
