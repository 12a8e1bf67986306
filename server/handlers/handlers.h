/* Request handlers, one per route (see http/router.c for the table). Each
 * replies exactly once through http_reply_*. */
#ifndef CIVCAS_HANDLERS_H
#define CIVCAS_HANDLERS_H

#include "http/request.h"

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
void handle_incident_duplicates(struct http_request *r);
void handle_duplicate_queue(struct http_request *r);
void handle_duplicate_dismiss(struct http_request *r);
void handle_duplicate_dismissal_undo(struct http_request *r);
void handle_trends(struct http_request *r);
void handle_report_poc(struct http_request *r);
void handle_report_publish(struct http_request *r);
void handle_report_get(struct http_request *r);
void handle_report_list(struct http_request *r);
void handle_public_trends(struct http_request *r);
void handle_public_report(struct http_request *r);
void handle_report_make_public(struct http_request *r);

/* Counting anything but verified incidents (custom_status: a status list
 * other than the default) is for reviewers and admins: false with e set to
 * 403 on `status` for any other role. Trends and reports alike. */
bool handler_count_allowed(struct http_request *r, bool custom_status, struct api_error *e);

#endif
