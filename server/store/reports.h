/* Published report snapshots: written once, read back byte for byte. */
#ifndef CIVCAS_STORE_REPORTS_H
#define CIVCAS_STORE_REPORTS_H

#include <jansson.h>
#include <stdbool.h>

#include "store/db.h"

/* Reserves an id and the creation time for a snapshot about to be built
 * (in the caller's transaction). created_at needs 40 bytes. */
bool store_report_reserve(struct db_conn *c, long long *id, char *created_at,
                          struct api_error *e);
bool store_report_insert(struct db_conn *c, long long id, const char *kind, const char *title,
                         const char *parameters, const char *sha256, const char *body,
                         long long key_id, const char *created_at, struct api_error *e);
/* The stored body (caller frees) or NULL with *found false. */
bool store_report_get(struct db_conn *c, long long id, char **body, bool *found,
                      struct api_error *e);
/* The database's time now, as the API writes times (40 bytes). */
bool store_now(struct db_conn *c, char *at, struct api_error *e);
/* Stores the public form of report id (body, with the SHA-256 of its
 * report member), made public now by key_id with k; *made_at gets the
 * time (40 bytes). false with 409 when it was made public already. */
bool store_public_report_insert(struct db_conn *c, long long id, const char *sha256,
                                const char *body, long long k, long long key_id,
                                const char *made_at, struct api_error *e);
/* The stored public form (caller frees) and when it was made public
 * (made_at, 40 bytes), or NULL with *found false. */
bool store_public_report_get(struct db_conn *c, long long id, char **body, char *made_at,
                             bool *found, struct api_error *e);
/* {"items": [...]} newest first. New reference. */
json_t *store_report_list(struct db_conn *c, struct api_error *e);

/* The incidents revised after since (an API time) that one of statuses
 * (a comma list) counted then or counts now, by id, at most max: *ids
 * (caller frees) and *n. */
bool store_report_drift_candidates(struct db_conn *c, const char *since, const char *statuses,
                                   size_t max, long long **ids, size_t *n, struct api_error *e);
/* The revisions of incident id after since, oldest first: [{"version",
 * "at", "status", "reason"}], with "by" (the key's name) when with_who.
 * New reference, or NULL with e set. */
json_t *store_incident_revisions_since(struct db_conn *c, long long id, const char *since,
                                       bool with_who, struct api_error *e);

#endif
