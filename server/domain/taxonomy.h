/*
 * The deployment's code lists (parties with their groups, tactics, weapons,
 * source types, regions, admin areas) as an immutable in-memory snapshot
 * used to validate incidents without a database round trip.
 *
 * A snapshot is reference counted: taxonomy_acquire() returns the current
 * one (refreshing it when the database's taxonomy revision moved, checked at
 * most once a second), taxonomy_release() drops it. Lookups on a snapshot
 * need no lock.
 */
#ifndef CIVCAS_TAXONOMY_H
#define CIVCAS_TAXONOMY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/db.h"

struct tx_code {
    char *code;
    char *group;  /* parties: party group; areas: parent pcode */
    char *region; /* areas only */
    int level;    /* areas only */
    char *name;   /* display name */
    int order;    /* position in the deployment's display order */
};

struct tx_list {
    struct tx_code *items; /* sorted by code */
    size_t n;
};

struct taxonomy {
    long long revision;
    int refs;
    struct tx_list party_groups, parties, tactics, weapons, source_types, regions, areas;
};

/* NULL with e set (503) when the database cannot be read. force skips the
 * once-a-second throttle (used when a code looks unknown, so a code loaded
 * a moment ago is accepted at once). */
struct taxonomy *taxonomy_acquire(struct db_conn *c, bool force, struct api_error *e);
/* The snapshot of revision, read from the database during this request
 * (with the API key): as taxonomy_acquire with force, without asking the
 * database for the revision again. */
struct taxonomy *taxonomy_acquire_revision(struct db_conn *c, long long revision,
                                           struct api_error *e);
void taxonomy_release(struct taxonomy *t);
void taxonomy_cache_clear(void);

const struct tx_code *taxonomy_find(const struct tx_list *list, const char *code);

/* Validates a taxonomy file document (format civcas-taxonomy/1). */
bool taxonomy_file_validate(json_t *doc, struct api_error *e);
/* Loads a validated document in one transaction: upserts every entry,
 * deactivates entries no longer listed, bumps the revision. */
bool taxonomy_store(struct db_conn *c, json_t *doc, struct api_error *e);
/* GET /v1/taxonomy body (new reference), or NULL with e set. */
json_t *taxonomy_public_json(struct db_conn *c, struct api_error *e);

#endif
