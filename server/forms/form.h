/*
 * The incident form: the one table of its fields (where each sits in the
 * form's instance, its XForm type and choices, and the member of the API's
 * incident document it fills), and the mapping of a filled form to an
 * incident document.
 *
 * A filled form reaches the mapping as a "flat tree", the shape
 * KoboToolbox's REST Services push: a JSON object whose keys are paths
 * below the instance's root ("incident/occurred_on", "meta/instanceID"),
 * with string values; a repeat is an array under its path
 * ("casualties/group") of such objects, whose keys are full paths too
 * ("casualties/group/outcome"). forms/instance.h builds one from an
 * OpenRosa submission (XML) or checks a Kobo push. docs/forms.md is the
 * user's description.
 */
#ifndef CIVCAS_FORM_H
#define CIVCAS_FORM_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/apierr.h"

#define FORM_ID "civcas_incident"
#define FORM_TITLE "Civilian casualty incident"
#define FORM_ROOT "data"
/* An instanceID (or deprecatedID): "uuid:" and a UUID as XForm clients
 * make them, or any printable ASCII up to this length. */
#define FORM_INSTANCE_ID_MAX 128

enum form_type { FT_TEXT, FT_DATE, FT_TIME, FT_INT, FT_GEOPOINT, FT_SELECT1, FT_SELECT };

/* Where a select's choices come from: a taxonomy list, or a fixed list of
 * the incident record (domain/incident.h). */
enum form_choices {
    FC_NONE,
    FC_ADMIN1,
    FC_ADMIN2, /* cascading: only the districts of the chosen province */
    FC_PARTIES,
    FC_TACTICS,
    FC_WEAPONS,
    FC_ATTRIBUTIONS,
    FC_IMPACTS,
    FC_SOURCE_TYPES,
    FC_ROLES,
    FC_OUTCOMES,
    FC_SEXES,
    FC_AGE_GROUPS,
    FC_DATE_PRECISIONS,
    FC_LOCATION_PRECISIONS,
};

/* A group of the form: the incident's own fields, a repeat, or meta. */
struct form_section {
    const char *path;   /* below the root: "incident", "casualties/group" */
    const char *outer;  /* a repeat's enclosing group ("casualties"), or NULL */
    const char *member; /* a repeat's API array ("casualties"), or NULL */
    const char *label;
    bool repeat;
};

struct form_field {
    int section; /* index into form_sections */
    const char *name;
    const char *label;
    const char *hint; /* or NULL */
    enum form_type type;
    enum form_choices choices;
    bool required;
    const char *value;  /* the instance's default value, or NULL */
    const char *member; /* the API member it fills ("location.admin1"; "" none) */
};

extern const struct form_section form_sections[];
extern const size_t form_nsections;
extern const struct form_field form_fields[];
extern const size_t form_nfields;

/* Section indexes of form_sections. */
enum { FORM_INCIDENT, FORM_CASUALTIES, FORM_ABDUCTED, FORM_SOURCES, FORM_META };

/* The instanceID and deprecatedID a filled form carries (borrowed from
 * the tree; deprecated NULL when none). */
struct form_ids {
    const char *instance;
    const char *deprecated;
};

/* Turns a flat tree (checked: only known paths, string values, repeats
 * arrays of objects) into an incident document for incident_from_json
 * (new reference in *doc) and its ids. Values are converted (integers,
 * geopoints, times, space-separated selects), not judged: the incident's
 * validation does that. false with e naming the form path
 * ("/data/casualties/group[2]/count"). */
bool form_to_incident(json_t *tree, json_t **doc, struct form_ids *ids, struct api_error *e);

/* Rewrites the field of an error from the incident's validation of the
 * document form_to_incident made of tree ("casualties[1].count",
 * "location.admin2") as the form path it came from
 * ("/data/casualties/group[3]/count"), in the message too. */
void form_error_path(json_t *tree, struct api_error *e);

#endif
