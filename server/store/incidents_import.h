/*
 * Bulk import: batches of validated incidents written as POST
 * /v1/incidents writes each one, with one COPY per table. A batch is
 * written in the caller's transaction (import/import.c owns BEGIN/COMMIT).
 */
#ifndef CIVCAS_STORE_INCIDENTS_IMPORT_H
#define CIVCAS_STORE_INCIDENTS_IMPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "domain/incident.h"
#include "store/db.h"

/* One incident of an import batch. */
struct incident_import {
    const struct incident *inc; /* validated; status "reported" or "verified" */
    const char *document;       /* incident_document(inc) as compact JSON */
    const char *changes;        /* revision 1's change list as compact JSON */
    const char *idem_key;       /* the row's import identity */
    const char *hash_hex;       /* fingerprint of what the row says (json_fingerprint) */
    long long outcome;          /* out: see store_incident_import */
};

/* Settings of an import's own connection, before its first batch: what
 * makes bulk writes cheaper without changing what they write. */
bool store_import_session(struct db_conn *c, struct api_error *e);

/* Creates, in the caller's transaction, every incident of rows whose
 * idem_key is not yet recorded under the key scope_key: each as POST
 * /v1/incidents creates one (row, children, revision 1, rollup journal
 * row, idempotency record with the id), written by actor_key; a verified
 * one also gets revision 2, the verification, with verify_changes and
 * verify_reason. One lookup of the keys, then one COPY per table
 * (store/incidents_import.c). Batches may be written at once on several
 * connections: when another transaction records one of the keys after the
 * lookup, this fails with unique_violation (or deadlock_detected, when two
 * wait on each other) and the caller runs the batch again in a new
 * transaction. outcome: the new incident's
 * id; 0 when the key was recorded with the same hash (already imported,
 * or an earlier row of the batch); -1 when with another hash. With
 * dry_run nothing is written and outcome is 1 for a row that
 * would be created. */
/* Where a caller writing batches side by side orders them: ids_drawn runs
 * right after the batch drew its incidents' ids (so ids can follow the
 * batches' order), keys_turn before it records its keys, the last of its
 * writes (so commits can follow it; false stops the batch with e set).
 * Either may be NULL. */
struct import_turns {
    void (*ids_drawn)(void *arg);
    bool (*keys_turn)(void *arg, struct api_error *e);
    void *arg;
};

bool store_incident_import(struct db_conn *c, struct incident_import *rows, size_t n,
                           long long scope_key, long long actor_key, json_t *verify_changes,
                           const char *verify_reason, bool dry_run,
                           const struct import_turns *turns, struct api_error *e);

#endif
