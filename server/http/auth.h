/*
 * Authentication and authorisation: the caller's Bearer key (or, on the
 * OpenRosa routes, whose clients speak only HTTP Basic, the key as Basic
 * credentials' password), looked up in the store on the request's
 * database connection, and its role checked against the route's.
 */
#ifndef CIVCAS_HTTP_AUTH_H
#define CIVCAS_HTTP_AUTH_H

#include <stdbool.h>

#include "http/request.h"

/* Sets r->who (and the taxonomy revision read with the key) and
 * r->authenticated, or false with e set: 401 without a valid key, 403 when
 * the key's role is not in roles, 429 (with Retry-After) past the key's
 * rate limit, 503 when the database cannot be had. */
bool http_authenticate(struct http_request *r, unsigned roles, struct api_error *e);

#endif
