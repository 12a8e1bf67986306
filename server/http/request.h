/*
 * A request as handlers see it, and the replies they give: one struct
 * http_request per request, from the first byte of headers to the
 * completion callback (http/server.c drives it; the router and the
 * handlers fill the reply through the functions below).
 *
 * A request owns its body buffer, its database connection (acquired for
 * authenticated routes, released once the reply is queued) and its
 * response until libmicrohttpd takes it.
 */
#ifndef CIVCAS_HTTP_REQUEST_H
#define CIVCAS_HTTP_REQUEST_H

#include <jansson.h>
#include <microhttpd.h>
#include <stdbool.h>
#include <time.h>

#include "store/db.h"
#include "store/keys.h"
#include "util/apierr.h"
#include "util/buf.h"

struct route;

#define HTTP_MAX_HEADERS 8
#define HTTP_MAX_QUERY 16
/* The most routes the router's table may hold: per-route metrics keep a
 * slot for each and one more (index HTTP_ROUTES_MAX) for unmatched
 * requests. router.c asserts its table fits. */
#define HTTP_ROUTES_MAX 64

struct http_request {
    struct MHD_Connection *conn;
    const char *method;
    const char *path;
    struct buf body;
    bool body_too_large;
    size_t body_seen;          /* bytes of body received, kept or not */
    bool handled;              /* dispatched (inline or by a worker) */
    /* Where the request stands before its handler runs: a request with a
     * body to a route that needs a key is authenticated before the body
     * is read (http/server.c). */
    enum { HTTP_PHASE_HEADERS, HTTP_PHASE_AUTH, HTTP_PHASE_AUTHED, HTTP_PHASE_BODY } phase;
    struct timespec queued;    /* when it was handed to the workers */
    struct http_request *next; /* in the work queue */
    char request_id[72];
    struct timespec started;
    const struct route *route;  /* set by the router; NULL when none matched */
    const char *route_template; /* the route's template, for logs and errors */
    long long path_id;          /* the {id} of the path, when the route has one */
    bool authenticated;
    /* An OpenRosa path (/openrosa/...): HTTP Basic is accepted and every
     * reply carries X-OpenRosa-Version; errors of the submission route
     * (openrosa_xml, set by the router) are OpenRosa XML, which ODK
     * Collect shows the monitor. */
    bool openrosa, openrosa_xml;
    struct principal who;
    long long taxonomy_revision; /* read with the key (authenticated requests) */
    struct db_conn *db;
    int replica; /* 1 + the index of the read replica db is of; 0: primary */
    /* The reply. */
    bool replied;
    int status;
    char *reply_body;
    size_t reply_len;
    const char *content_type;  /* NULL: none (a 304) */
    /* Cache-Control of a 200 or 304 (http_reply_cacheable); every other
     * reply, and any reply while this is empty, is no-store. */
    char cache_control[96];
    struct {
        const char *name;
        char *value;
    } headers[HTTP_MAX_HEADERS];
    int nheaders;
};

/* Replies. The last reply wins; handlers reply exactly once. */
/* Forgets the reply given so far and the headers added after the first
 * keep_headers (a read that failed on a replica, about to be answered
 * again from the primary). */
void http_reply_reset(struct http_request *r, int keep_headers);
void http_reply_json(struct http_request *r, int status, json_t *body /* stolen */);
void http_reply_error(struct http_request *r, const struct api_error *e);
/* The request's database connection, acquired on first use (a request
 * handled on its polling thread starts with one); NULL with e set. It is
 * released once the reply is queued. */
struct db_conn *http_request_db(struct http_request *r, struct api_error *e);
void http_reply_bytes(struct http_request *r, int status, const char *content_type,
                      const char *data, size_t len);
/* An OpenRosa response document (<OpenRosaResponse> with one message of
 * the nature given: "submit_success", "error", ...), as text/xml. */
void http_reply_openrosa(struct http_request *r, int status, const char *nature,
                         const char *message);
/*
 * Answers that HTTP caches (nginx's proxy_cache, browsers) may keep: those
 * of the keyless public routes. Each carries a strong ETag, the SHA-256 of
 * its exact bytes (the first 128 bits in hex), and the request's
 * conditions are honoured as RFC 9110 section 13.2.2 orders them for GET:
 * If-None-Match (a list, or "*"; weak comparison) and, only without it,
 * If-Modified-Since against Last-Modified. A 304 has no body and the
 * ETag, Last-Modified and Cache-Control the 200 would have. Nothing here
 * varies with the request beyond its URL, so no Vary.
 */
enum http_lifetime {
    /* Can change with the next verified incident or publication (public
     * trends, the publication chain, the list of signing keys): fresh for
     * CIVCAS_PUBLIC_MAX_AGE seconds, then served stale for as long again
     * while a cache refreshes it, and for a day while civcasd fails. */
    HTTP_LIFETIME_SHORT,
    /* Stored, signed and never changed (a public report, its signature, a
     * signing key's PEM): a year, immutable. */
    HTTP_LIFETIME_IMMUTABLE,
};
/* 200 with data (malloc'd; the request takes it over, so a stored report
 * is not copied again), or 304; modified is the RFC 3339 time the
 * representation was made (Last-Modified; NULL: none). */
void http_reply_cacheable(struct http_request *r, enum http_lifetime lifetime,
                          const char *content_type, char *data, size_t len, const char *modified);
/* The same of a JSON document (stolen), serialised as http_reply_json does. */
void http_reply_cacheable_json(struct http_request *r, enum http_lifetime lifetime, json_t *body);
/* Sets the ETag header to opaque, quoted ("opaque"). */
void http_add_etag(struct http_request *r, const char *opaque);
/* Whether the peer is one of CIVCAS_TRUSTED_PROXIES, whose X-Forwarded-*
 * headers count. */
bool http_peer_trusted(struct http_request *r);
/* "scheme://host[:port]" the client reached this server at: the Host
 * header (X-Forwarded-Proto and X-Forwarded-Host from a trusted proxy),
 * or the listen address when it names none usable. */
void http_request_base_url(struct http_request *r, char *out, size_t size);
/* Adds a response header; value is copied. */
void http_add_header(struct http_request *r, const char *name, const char *value);

/* A request header, or NULL. Borrowed for the request's life. */
const char *http_header(struct http_request *r, const char *name);

/* Query parameters: each name at most once and only names in allowed;
 * values valid UTF-8 without NUL. */
struct http_query {
    int n;
    const char *names[HTTP_MAX_QUERY];
    const char *values[HTTP_MAX_QUERY];
};
bool http_query_parse(struct http_request *r, const char *const *allowed, struct http_query *q,
                      struct api_error *e);
const char *http_query_get(const struct http_query *q, const char *name);

#endif
