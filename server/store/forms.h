/*
 * Filled forms by instanceID (migrations/0011): the identity of OpenRosa
 * submissions and Kobo pushes, and the incident each created or amended.
 * Every function runs in the caller's transaction.
 */
#ifndef CIVCAS_STORE_FORMS_H
#define CIVCAS_STORE_FORMS_H

#include <stdbool.h>

#include "store/db.h"

/* A submission about to be recorded. */
struct form_submission {
    const char *instance_id;
    const char *deprecated_id; /* NULL: a new incident */
    const char *hash_hex;      /* json_fingerprint of what it says */
    const char *channel;       /* "openrosa" or "kobo" */
    long long key_id;
};

/* Claims s->instance_id: 1 when it is new (recorded, its incident still
 * to be set with store_form_finish); 0 when it was recorded before, with
 * that submission's hash (65 bytes) and incident; -1 with e set. A
 * concurrent claim of the same instanceID waits for this one's
 * transaction. */
int store_form_claim(struct db_conn *c, const struct form_submission *s, char *stored_hash,
                     long long *incident_id, struct api_error *e);

/* The incident the submission instance_id created or amended; 0 when no
 * such submission was recorded. */
bool store_form_incident(struct db_conn *c, const char *instance_id, long long *incident_id,
                         struct api_error *e);

/* Sets the incident of a claimed submission. */
bool store_form_finish(struct db_conn *c, const char *instance_id, long long incident_id,
                       struct api_error *e);

#endif
