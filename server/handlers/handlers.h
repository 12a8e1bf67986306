/* Request handlers, one per route (see http/router.c for the table). Each
 * replies exactly once through http_reply_*. */
#ifndef CIVCAS_HANDLERS_H
#define CIVCAS_HANDLERS_H

#include "domain/incident.h"
#include "domain/taxonomy.h"
#include "http/request.h"
#include "util/sign.h"

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
void handle_report_drift(struct http_request *r);
void handle_public_trends(struct http_request *r);
void handle_public_report(struct http_request *r);
void handle_report_make_public(struct http_request *r);
void handle_openrosa_form_list(struct http_request *r);
void handle_openrosa_form(struct http_request *r);
void handle_openrosa_head(struct http_request *r);
void handle_openrosa_submission(struct http_request *r);
void handle_kobo_ingest(struct http_request *r);

/* Incident writes shared by /v1/incidents and the form routes
 * (handlers/forms.c), so a filled form follows every rule of the API. */
/* What the caller may see of an incident (enum incident_view), and the
 * owner its reads are limited to (monitors: its own key; 0 for all). */
unsigned handler_incident_view(const struct http_request *r);
long long handler_incident_owner(const struct http_request *r);
/* Validates doc into inc against the taxonomy (refreshed once when a code
 * looks unknown). */
bool handler_incident_validate(struct http_request *r, json_t *doc, struct incident *inc,
                               struct api_error *e);
/* Inserts a validated incident as the caller's, with revision 1, in the
 * caller's transaction (ended by store_incident_commit_create). */
bool handler_incident_insert(struct http_request *r, struct incident *inc, struct api_error *e);
/* Amends cur (loaded under lock) to the validated next, in the caller's
 * transaction: a new version and revision with reason, keeping who, when
 * and the status. *changed false when next says what cur says (nothing
 * is written). */
bool handler_incident_amend(struct http_request *r, struct incident *cur, struct incident *next,
                            const char *reason, bool *changed, struct api_error *e);

void handle_report_signature(struct http_request *r);
void handle_public_report_signature(struct http_request *r);
void handle_public_signing_keys(struct http_request *r);
void handle_public_signing_key(struct http_request *r);
void handle_public_publications(struct http_request *r);

/* The key that signs publications, read by serve at start (NULL: none, and
 * publishing answers 503). */
void handlers_set_signer(struct signer *s);
const struct signer *handlers_signer(void);
/* false with e set to 503 when no key is set. */
bool handlers_can_sign(struct api_error *e);

/* Counting anything but verified incidents (custom_status: a status list
 * other than the default) is for reviewers and admins: false with e set to
 * 403 on `status` for any other role. Trends and reports alike. */
bool handler_count_allowed(struct http_request *r, bool custom_status, struct api_error *e);

/* The language of the answer (util/lang.h): the lang parameter of q, else
 * Accept-Language, among the report's languages (domain/phrases.h) and
 * those the taxonomy t has labels in; English when none matches. Sets
 * Content-Language. False with e set (400 naming lang) when lang is not
 * a language tag. *lang is static or borrowed from t. */
bool handler_lang(struct http_request *r, const struct http_query *q, const struct taxonomy *t,
                  const char **lang, struct api_error *e);

#endif
