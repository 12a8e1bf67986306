/*
 * Incident persistence: insert, load, amend, status change, listing with
 * keyset cursors, revisions and idempotency records. Every function runs in
 * the caller's transaction (the handler owns BEGIN/COMMIT), so one request
 * is one transaction.
 */
#ifndef CIVCAS_STORE_INCIDENTS_H
#define CIVCAS_STORE_INCIDENTS_H

#include <jansson.h>
#include <stdbool.h>

#include "domain/incident.h"
#include "domain/incident_filter.h"
#include "store/db.h"

/* Inserts inc (validated) with its groups, sources and revision 1; fills
 * id, version, status, timestamps and created_by. document is
 * incident_document(inc); changes the revision's change list. The caller
 * ends the transaction with store_incident_commit_create. */
bool store_incident_insert(struct db_conn *c, struct incident *inc, json_t *document,
                           json_t *changes, long long key_id, const char *key_name,
                           struct api_error *e);

/* Loads one incident; *found false when it does not exist or (owner > 0)
 * was created by another key. lock takes a row lock for an update. */
bool store_incident_load(struct db_conn *c, long long id, long long owner, bool lock,
                         struct incident *out, bool *found, struct api_error *e);

/* Writes inc's client fields as a new version with a revision. */
bool store_incident_amend(struct db_conn *c, struct incident *inc, json_t *document,
                          json_t *changes, const char *reason, long long key_id,
                          struct api_error *e);

/* Sets status (and duplicate_of, override) as a new version with a revision. */
bool store_incident_set_status(struct db_conn *c, struct incident *inc, json_t *document,
                               json_t *changes, const char *reason, long long key_id,
                               struct api_error *e);

/* The revisions of an incident, oldest first: array of objects with
 * version, status, at, by, reason, changes. New reference. */
json_t *store_incident_revisions(struct db_conn *c, long long id, struct api_error *e);

/* Listing. */
/* Fetches up to limit + 1 incidents into *out (caller frees each and the
 * array); *n is the count; positions[i] is row i's keyset position. In
 * changed_since mode, horizon gets the sync position just before the oldest
 * transaction still in flight, read in the same snapshot. */
bool store_incident_list(struct db_conn *c, const struct incident_filter *f,
                         struct incident **out, size_t *n, char (*positions)[24],
                         char horizon[24], struct api_error *e);

/* Idempotency. claim: 1 = this request owns the key; 0 = a finished
 * request had it (hash and response returned, caller frees response). */
int store_idempotency_claim(struct db_conn *c, long long key_id, const char *idem_key,
                            const char *hash_hex, char *stored_hash, char **response,
                            struct api_error *e);
/* Ends a creation's transaction: applies the new incident to the rollups,
 * stores the replay record (the incident's id, nothing submitted) under the
 * idempotency key (when there is one) and commits, all in one round trip. */
bool store_incident_commit_create(struct db_conn *c, long long incident_id, long long key_id,
                                  const char *idem_key, const char *response, struct api_error *e);

#endif
