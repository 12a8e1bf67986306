/*
 * The deployment's code lists (parties with their groups, tactics, weapons,
 * source types, regions, admin areas) as an immutable in-memory snapshot
 * used to validate incidents without a database round trip.
 *
 * A snapshot is built from the code lists as the store reads them
 * (taxonomy_from_codes) and shared, reference counted, by the store's cache
 * (store/taxonomy.h). Lookups on a snapshot need no lock.
 */
#ifndef CIVCAS_TAXONOMY_H
#define CIVCAS_TAXONOMY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/apierr.h"

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
    int refs; /* held by the store's cache and its borrowers */
    struct tx_list party_groups, parties, tactics, weapons, source_types, regions, areas;
};

const struct tx_code *taxonomy_find(const struct tx_list *list, const char *code);

/* A snapshot (refs 0) of the code lists document the store reads:
 * {"revision", "party_groups": [[code, group, region, level, name]], ...},
 * rows in display order. Freed with taxonomy_free. */
struct taxonomy *taxonomy_from_codes(json_t *doc);
void taxonomy_free(struct taxonomy *t);

/* Validates a taxonomy file document (format civcas-taxonomy/1). */
bool taxonomy_file_validate(json_t *doc, struct api_error *e);

#endif
