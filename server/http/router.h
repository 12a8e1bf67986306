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

/* Finds r's route, authenticates and authorises the caller, checks the
 * body's media type and runs the handler; every failure is replied. */
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
