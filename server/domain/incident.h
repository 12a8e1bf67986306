/*
 * An incident and its rules: validation of a submitted document into a
 * struct incident, amendment, status changes, the verification standard,
 * and the JSON views of an incident for each kind of reader.
 *
 * Ownership: every string in struct incident is owned by it and freed by
 * incident_free(). Enumerated values (outcome, status, ...) point at static
 * strings.
 */
#ifndef CIVCAS_INCIDENT_H
#define CIVCAS_INCIDENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "domain/taxonomy.h"
#include "util/apierr.h"

#define INCIDENT_MAX_CASUALTY_GROUPS 200
/* Impacts: at most one of each code; more than any default list holds. */
#define INCIDENT_MAX_IMPACTS 32
/* The most casualties (killed and injured together) one incident may
 * record. The deadliest attacks UNAMA recorded in Afghanistan had a few
 * hundred (the Kabul truck bomb of 31 May 2017: 92 killed, 491 injured);
 * 10,000 leaves more than tenfold headroom for any mission, while one key
 * can no longer claim millions in a single document. A larger event (a
 * siege, a chemical attack on a city) is recorded as several incidents,
 * by place and day, which is how its figures are verified anyway. A
 * constant rather than a setting: trends and published reports from
 * different deployments stay comparable. docs/api.md, "Limits". */
#define INCIDENT_MAX_CASUALTIES 10000
/* One casualty group: no more than its incident. The cap holds for the
 * high estimates too (count_max, or the count where there is none), and
 * for the persons abducted in one incident. */
#define INCIDENT_MAX_COUNT INCIDENT_MAX_CASUALTIES
#define INCIDENT_MAX_AGE 120
#define INCIDENT_MAX_SOURCES 50
#define INCIDENT_MAX_NARRATIVE 20000
#define INCIDENT_MAX_PLACE 200
#define INCIDENT_MAX_NAME 200
#define INCIDENT_MAX_EXTERNAL_REF 100
#define INCIDENT_MAX_REFERENCE 500
#define INCIDENT_MAX_REASON 2000
#define INCIDENT_MIN_DATE "1900-01-01"

extern const char *const incident_statuses[];      /* reported, verified, ... */
extern const char *const incident_outcomes[];
extern const char *const incident_sexes[];
extern const char *const incident_age_groups[];
extern const char *const incident_date_precisions[];
extern const char *const incident_location_precisions[];

struct casualty {
    const char *outcome, *sex, *age_group;
    long count;            /* the best estimate */
    long count_min;        /* the low estimate; -1 when none (count is certain) */
    long count_max;        /* the high estimate; -1 when none */
    char *role;            /* victim_roles code; NULL when none */
    int age;               /* -1 when not recorded */
    char *name;            /* NULL when not recorded */
};

/* Persons abducted of one sex and age group. */
struct abduction {
    const char *sex, *age_group;
    long count;
};

struct source {
    char *type;
    char *reference;
    long long merged_from; /* the duplicate it came from by a merge; 0 = its own */
};

struct incident {
    /* Server fields (0/NULL before the incident is stored). */
    long long id;
    int version;
    const char *status;
    long long duplicate_of; /* 0 = none */
    bool verification_override;
    char *party_group;
    char *created_by;
    char created_at[40], updated_at[40];
    /* Client fields. */
    long occurred_on; /* days since 1970-01-01 */
    const char *date_precision;
    int time_of_day; /* minutes since midnight, -1 = none */
    char *admin1, *admin2, *place;
    bool has_coords;
    double lat, lon;
    const char *location_precision; /* NULL = none */
    char *tactic, *weapon, *perpetrator;
    char *attribution;
    char **impacts; /* impact codes, sorted (strcmp), distinct */
    size_t nimpacts;
    struct casualty *casualties;
    size_t ncasualties;
    struct abduction *abducted; /* distinct sex x age group */
    size_t nabducted;
    struct source *sources;
    size_t nsources;
    char *narrative, *external_ref;
};

/* What a reader may see beyond the common fields. */
enum incident_view {
    VIEW_CONFIDENTIAL = 1, /* narrative, source references */
    VIEW_PERSONAL = 2,     /* casualty names and exact ages */
    VIEW_DETAIL = 4,       /* place, coordinates, time of day, external reference,
                              the submitting key's name: without it, location is
                              admin1/admin2 and time the date */
    VIEW_ALL = 7,
};

void incident_free(struct incident *inc);

/* Validates a complete client document (POST body, or a PATCH merged onto
 * the stored document) into inc. Codes are checked against t. */
bool incident_from_json(json_t *doc, const struct taxonomy *t, struct incident *inc,
                        struct api_error *e);

/* Whether a code in doc is missing from t: the caller may refresh the
 * taxonomy and validate again before answering unknown_code. */
bool incident_error_is_unknown_code(const struct api_error *e);

/* The client fields as a document (defaults filled in), as stored in
 * revisions and used to compare versions. New reference. */
json_t *incident_document(const struct incident *inc);

/* The response body for a reader with the given view. New reference. */
json_t *incident_to_json(const struct incident *inc, unsigned view, int required_source_types);

/* Removes what view may not see from a document (or a subtree keyed by
 * field name); used for revisions. */
void incident_redact(json_t *doc, unsigned view);

/* The same for a revision's change list {field: {from, to}}. */
void incident_redact_changes(json_t *changes, unsigned view);

/* Totals derived from the casualty groups and sources. */
void incident_totals(const struct incident *inc, long *killed, long *injured, int *source_types);

/* What an incident adds to the rollups beyond its codes: the counts of
 * the journal's columns after incidents (migrations/0009), in their
 * order: killed, injured, the 18 outcome x sex x age group counts,
 * unharmed, abducted, killed_below, killed_above, injured_below,
 * injured_above, then the 18 distances below and the 18 above. */
#define INCIDENT_ROLLUP_COUNTS 62
void incident_rollup_counts(const struct incident *inc, long long out[INCIDENT_ROLLUP_COUNTS]);

/* The incident's impact codes as the rollups key them: sorted, comma-joined
 * ("" for none). Freed by the caller. */
char *incident_impacts_key(const struct incident *inc);

/* Merges a PATCH body onto the stored document: validates the patch's own
 * shape (known fields, reason), returns the merged document (new reference)
 * and the reason (borrowed from patch). The stored sources merged from a
 * duplicate are left out of it: the client's fields are validated alone,
 * then incident_sources_keep_merged() puts those back. */
json_t *incident_patch_merge(json_t *stored, json_t *patch, const char **reason,
                             struct api_error *e);

/* {field: {"from": old, "to": new}} for every client field that differs.
 * New reference (an empty object when nothing changed). */
json_t *incident_diff(json_t *before, json_t *after);

/* A status change request. */
struct status_change {
    const char *status; /* static */
    const char *reason; /* borrowed from the request */
    bool override;
    long long duplicate_of;
    bool merge_sources; /* only with duplicate: lend the sources to duplicate_of */
};
bool status_change_from_json(json_t *doc, struct status_change *sc, struct api_error *e);

/* Applies sc to inc (loaded under lock), enforcing the rules of statuses:
 * no change to what already is (409), verification needs
 * min_source_types distinct source types unless overridden (422), and a
 * duplicate names another incident that exists and is no duplicate
 * itself. target_status is the status of sc->duplicate_of's incident
 * (NULL when there is no such incident or no duplicate_of). Adds the
 * changed fields to changes ({field: {from, to}}). */
bool incident_status_apply(struct incident *inc, const struct status_change *sc,
                           int min_source_types, const char *target_status, json_t *changes,
                           struct api_error *e);

/* Merging a duplicate into the incident kept: appends dup's sources to
 * kept's, each marked merged_from = dup->id, so kept counts their types
 * toward verification and records where they came from. False (422 on
 * merge_sources) when kept would list more than INCIDENT_MAX_SOURCES. */
bool incident_sources_merge(struct incident *kept, const struct incident *dup,
                            struct api_error *e);

/* An amendment keeps the sources merged into the incident: appends cur's
 * sources that have merged_from to next (validated from the client's
 * fields, which cannot carry merged_from). False (422 on sources) when
 * next would list more than INCIDENT_MAX_SOURCES. */
bool incident_sources_keep_merged(struct incident *next, const struct incident *cur,
                                  struct api_error *e);

/* Undoing it: removes kept's sources merged from dup_id; returns how many. */
size_t incident_sources_unmerge(struct incident *kept, long long dup_id);

/* Whether list is a comma list of incident statuses, none empty. */
bool incident_status_list_valid(const char *list);

/* Parses an incident id from the path or a body ("123"); false if not 1..2^63-1. */
bool incident_id_parse(const char *s, long long *out);

#endif
