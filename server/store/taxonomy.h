/* Taxonomy tables: reading them into lists, loading a file, the public view. */
#ifndef CIVCAS_STORE_TAXONOMY_H
#define CIVCAS_STORE_TAXONOMY_H

#include <jansson.h>
#include <stdbool.h>

#include "store/db.h"

/* The current revision (0 when nothing was ever loaded). */
bool store_taxonomy_revision(struct db_conn *c, long long *out, struct api_error *e);
/* All active codes of every list as one JSON document:
 * {"revision", "party_groups": [[code, null, null, 0, name]], "parties":
 * [[code, group, null, 0, name]], ..., "areas": [[pcode, parent, region,
 * level, name]]}. New reference. */
json_t *store_taxonomy_codes(struct db_conn *c, struct api_error *e);
/* Upserts a validated file document in the caller's transaction. */
bool store_taxonomy_load(struct db_conn *c, json_t *doc, struct api_error *e);
/* The GET /v1/taxonomy lists. New reference. */
json_t *store_taxonomy_public(struct db_conn *c, struct api_error *e);

#endif
