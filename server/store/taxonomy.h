/*
 * Taxonomy tables: the cached snapshot every request validates against,
 * loading a taxonomy file, the public view.
 *
 * The cache holds the current snapshot (domain/taxonomy.h), reference
 * counted: store_taxonomy_acquire() returns it (refreshed when the
 * database's taxonomy revision moved, checked at most once a second),
 * store_taxonomy_release() drops the caller's reference.
 */
#ifndef CIVCAS_STORE_TAXONOMY_H
#define CIVCAS_STORE_TAXONOMY_H

#include <jansson.h>
#include <stdbool.h>

#include "domain/taxonomy.h"
#include "store/db.h"

/* The current snapshot, or NULL with e set (503) when the database cannot
 * be read. force skips the once-a-second throttle (used when a code looks
 * unknown, so a code loaded a moment ago is accepted at once). */
struct taxonomy *store_taxonomy_acquire(struct db_conn *c, bool force, struct api_error *e);
/* The snapshot of revision, read from the database during this request
 * (with the API key): as store_taxonomy_acquire with force, without asking
 * the database for the revision again. */
struct taxonomy *store_taxonomy_acquire_revision(struct db_conn *c, long long revision,
                                                 struct api_error *e);
void store_taxonomy_release(struct taxonomy *t);
/* Drops the cached snapshot (at shutdown, so leak checks see none). */
void store_taxonomy_cache_clear(void);

/* Loads a validated file document (taxonomy_file_validate) in one
 * transaction: upserts every entry, deactivates entries no longer listed,
 * bumps the revision. */
bool store_taxonomy_load(struct db_conn *c, json_t *doc, struct api_error *e);
/* The GET /v1/taxonomy lists. New reference. */
json_t *store_taxonomy_public(struct db_conn *c, struct api_error *e);

#endif
