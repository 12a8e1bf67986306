/* Request handlers, one per route (see http/router.c for the table). Each
 * replies exactly once through http_reply_*. */
#ifndef CIVCAS_HANDLERS_H
#define CIVCAS_HANDLERS_H

#include "http/http.h"

struct incident_filter;
struct taxonomy;

void handle_healthz(struct http_request *r);
void handle_readyz(struct http_request *r);
void handle_openapi(struct http_request *r);
void handle_metrics(struct http_request *r);
void handle_taxonomy_get(struct http_request *r);
void handle_incident_create(struct http_request *r);
void handle_incident_list(struct http_request *r);
void handle_incident_get(struct http_request *r);
void handle_incident_patch(struct http_request *r);
void handle_incident_status(struct http_request *r);
void handle_incident_revisions(struct http_request *r);
void handle_trends(struct http_request *r);
void handle_report_poc(struct http_request *r);
void handle_report_publish(struct http_request *r);
void handle_report_get(struct http_request *r);
void handle_report_list(struct http_request *r);
void handle_public_trends(struct http_request *r);
void handle_public_report(struct http_request *r);

/* The query of GET /v1/incidents as a filter, checked against t: limit
 * (1..1000, default 50), from/to dates, changed_since, code lists, cursor.
 * owner > 0 limits the listing to that key's incidents. f borrows q's
 * strings; on failure e says which parameter is at fault. Needs neither a
 * request nor a database, so the fuzz harness calls it too. */
bool incident_filter_parse(const struct http_query *q, const struct taxonomy *t, long long owner,
                           struct incident_filter *f, struct api_error *e);

#endif
