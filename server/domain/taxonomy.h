/*
 * The deployment's code lists (parties with their groups, tactics, weapons,
 * source types, regions, admin areas, impacts, attribution bases, victims'
 * roles) as an immutable in-memory snapshot
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
    char *name;   /* display name, English: the fallback of every label */
    json_t *labels; /* {BCP 47 tag: label}; owned, NULL when none */
    int order;    /* position in the deployment's display order */
    bool abduction; /* tactics only: an incident of it may record persons abducted */
};

struct tx_list {
    struct tx_code *items; /* sorted by code */
    size_t n;
};

struct taxonomy {
    long long revision;
    int refs; /* held by the store's cache and its borrowers */
    struct tx_list party_groups, parties, tactics, weapons, source_types, regions, areas;
    struct tx_list impacts, attributions, roles;
    char **langs; /* every tag some label is given in, once each */
    size_t nlangs;
};

/* What trends call a casualty group without a role: never a code of the
 * roles list. */
#define TAXONOMY_NO_ROLE "none"

const struct tx_code *taxonomy_find(const struct tx_list *list, const char *code);

/* The code's label in lang (taken as lang_label takes it), else its
 * English name. Borrowed from the snapshot. */
const char *taxonomy_label(const struct tx_code *c, const char *lang);

/* Most labels a code may have, and the longest a label may be. */
#define TAXONOMY_MAX_LABELS 32
#define TAXONOMY_LABEL_MAX 200

/* A snapshot (refs 0) of the code lists document the store reads:
 * {"revision", "party_groups": [[code, group, region, level, name, abduction,
 * labels]],
 * ...}, rows in display order. Freed with taxonomy_free. */
struct taxonomy *taxonomy_from_codes(json_t *doc);
void taxonomy_free(struct taxonomy *t);

/* Validates a taxonomy file document (format civcas-taxonomy/1). The lists
 * impacts, attributions and victim_roles are optional: a file without one
 * gets the default list (taxonomy_file_defaults), so files written before
 * they existed still load. */
bool taxonomy_file_validate(json_t *doc, struct api_error *e);

/* Checks the optional "labels" member of a code list entry (path names it
 * in errors): an object of at most TAXONOMY_MAX_LABELS well-formed BCP 47
 * tags (util/lang.h), none twice in any case, each with 1 to
 * TAXONOMY_LABEL_MAX characters of text without control characters. */
bool taxonomy_labels_validate(json_t *item, const char *path, struct api_error *e);

/* Adds the default impacts, attributions and victim_roles to a validated
 * document that lacks them. */
void taxonomy_file_defaults(json_t *doc);

#endif
