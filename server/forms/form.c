/* The incident form's fields and the mapping of a filled form to an incident. */
#include "forms/form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/jsonv.h"
#include "util/mem.h"
#include "util/params.h"

const struct form_section form_sections[] = {
    [FORM_INCIDENT] = {"incident", NULL, NULL, "Incident", false},
    [FORM_CASUALTIES] = {"casualties/group", "casualties", "casualties", "Casualty group", true},
    [FORM_ABDUCTED] = {"abducted/group", "abducted", "abducted", "Persons abducted", true},
    [FORM_SOURCES] = {"sources/source", "sources", "sources", "Source", true},
    [FORM_META] = {"meta", NULL, NULL, NULL, false},
};
const size_t form_nsections = sizeof form_sections / sizeof form_sections[0];

/* clang-format off */
const struct form_field form_fields[] = {
    {FORM_INCIDENT, "occurred_on", "Date of the incident", NULL, FT_DATE, FC_NONE, true, NULL,
     "occurred_on"},
    {FORM_INCIDENT, "date_precision", "How exact is the date?", NULL, FT_SELECT1,
     FC_DATE_PRECISIONS, true, "day", "date_precision"},
    {FORM_INCIDENT, "time_of_day", "Time of day", "Local time, if known", FT_TIME, FC_NONE,
     false, NULL, "time_of_day"},
    {FORM_INCIDENT, "admin1", "Province", NULL, FT_SELECT1, FC_ADMIN1, true, NULL,
     "location.admin1"},
    {FORM_INCIDENT, "admin2", "District", NULL, FT_SELECT1, FC_ADMIN2, false, NULL,
     "location.admin2"},
    {FORM_INCIDENT, "place", "Place", "Village, street or landmark", FT_TEXT, FC_NONE, false,
     NULL, "location.place"},
    {FORM_INCIDENT, "geopoint", "Coordinates", NULL, FT_GEOPOINT, FC_NONE, false, NULL,
     "location.lat"},
    {FORM_INCIDENT, "location_precision", "How exact are the coordinates?", NULL, FT_SELECT1,
     FC_LOCATION_PRECISIONS, false, NULL, "location.precision"},
    {FORM_INCIDENT, "tactic", "Tactic", NULL, FT_SELECT1, FC_TACTICS, true, NULL, "tactic"},
    {FORM_INCIDENT, "weapon", "Weapon", NULL, FT_SELECT1, FC_WEAPONS, false, "unknown",
     "weapon"},
    {FORM_INCIDENT, "perpetrator", "Party responsible", NULL, FT_SELECT1, FC_PARTIES, false,
     "unknown", "perpetrator"},
    {FORM_INCIDENT, "attribution", "How is the party known?", NULL, FT_SELECT1, FC_ATTRIBUTIONS,
     false, "unknown", "attribution"},
    {FORM_INCIDENT, "impacts", "What else did it hit?", NULL, FT_SELECT, FC_IMPACTS, false, NULL,
     "impacts"},
    {FORM_INCIDENT, "narrative", "What happened", "Restricted: never published", FT_TEXT,
     FC_NONE, false, NULL, "narrative"},
    {FORM_INCIDENT, "external_ref", "Your reference", NULL, FT_TEXT, FC_NONE, false, NULL,
     "external_ref"},
    {FORM_CASUALTIES, "outcome", "Outcome", NULL, FT_SELECT1, FC_OUTCOMES, true, NULL,
     "outcome"},
    {FORM_CASUALTIES, "sex", "Sex", NULL, FT_SELECT1, FC_SEXES, false, "unknown", "sex"},
    {FORM_CASUALTIES, "age_group", "Age group", NULL, FT_SELECT1, FC_AGE_GROUPS, false,
     "unknown", "age_group"},
    {FORM_CASUALTIES, "count", "How many", NULL, FT_INT, FC_NONE, true, NULL, "count"},
    {FORM_CASUALTIES, "count_min", "At least", "The low estimate, if sources disagree", FT_INT,
     FC_NONE, false, NULL, "count_min"},
    {FORM_CASUALTIES, "count_max", "At most", "The high estimate, if sources disagree", FT_INT,
     FC_NONE, false, NULL, "count_max"},
    {FORM_CASUALTIES, "role", "Role of the victims", NULL, FT_SELECT1, FC_ROLES, false, NULL,
     "role"},
    {FORM_ABDUCTED, "sex", "Sex", NULL, FT_SELECT1, FC_SEXES, false, "unknown", "sex"},
    {FORM_ABDUCTED, "age_group", "Age group", NULL, FT_SELECT1, FC_AGE_GROUPS, false, "unknown",
     "age_group"},
    {FORM_ABDUCTED, "count", "How many", NULL, FT_INT, FC_NONE, true, NULL, "count"},
    {FORM_SOURCES, "type", "Source type", NULL, FT_SELECT1, FC_SOURCE_TYPES, true, NULL, "type"},
    {FORM_SOURCES, "reference", "Reference", "Who exactly: restricted, never published",
     FT_TEXT, FC_NONE, false, NULL, "reference"},
    {FORM_META, "instanceID", NULL, NULL, FT_TEXT, FC_NONE, false, NULL, ""},
    {FORM_META, "deprecatedID", NULL, NULL, FT_TEXT, FC_NONE, false, NULL, ""},
};
/* clang-format on */
const size_t form_nfields = sizeof form_fields / sizeof form_fields[0];

/* "/data/<section path>[index]/<name>"; index < 0 leaves it out. */
static void form_path(char *out, size_t size, int section, long index, const char *name)
{
    const char *path = form_sections[section].path;
    if (index >= 0)
        snprintf(out, size, "/" FORM_ROOT "/%s[%ld]%s%s", path, index + 1, name ? "/" : "",
                 name ? name : "");
    else
        snprintf(out, size, "/" FORM_ROOT "/%s%s%s", path, name ? "/" : "", name ? name : "");
}

/* A value of the tree: the key is the field's full path. */
static const char *field_value(json_t *obj, int section, const char *name)
{
    char key[160];
    snprintf(key, sizeof key, "%s/%s", form_sections[section].path, name);
    const char *v = json_string_value(json_object_get(obj, key));
    return v && v[0] ? v : NULL;
}

/* Whether a repeat's entry was left empty: no field without a default
 * value answered (a client adds an entry to a repeat before the monitor
 * knows whether it is needed). */
static bool entry_empty(json_t *entry, int section)
{
    for (size_t i = 0; i < form_nfields; i++) {
        const struct form_field *f = &form_fields[i];
        if (f->section == section && !f->value && field_value(entry, section, f->name))
            return false;
    }
    return true;
}

/* "HH:MM" of an XForm time ("14:30:00.000+04:30", "14:30"), the clock
 * time where the monitor was: the zone is dropped. */
static bool time_value(const char *s, char out[6])
{
    size_t n = strlen(s);
    if (n < 5 || n > 40 || s[2] != ':' || strspn(s, "0123456789") != 2 ||
        strspn(s + 3, "0123456789") != 2)
        return false;
    const char *rest = s + 5;
    if (*rest == ':') {
        if (strspn(rest + 1, "0123456789") != 2)
            return false;
        rest += 3;
        if (*rest == '.') {
            size_t d = strspn(rest + 1, "0123456789");
            if (d == 0)
                return false;
            rest += 1 + d;
        }
    }
    if (*rest == 'Z')
        rest++;
    else if ((*rest == '+' || *rest == '-') && strspn(rest + 1, "0123456789") == 2 &&
             rest[3] == ':' && strspn(rest + 4, "0123456789") == 2)
        rest += 6;
    if (*rest)
        return false;
    memcpy(out, s, 5);
    out[5] = '\0';
    return true;
}

/* "lat lon [altitude [accuracy]]", numbers as XForm clients write them. */
static bool geopoint_value(const char *s, double *lat, double *lon)
{
    double v[4];
    int n = 0;
    const char *p = s;
    while (*p && n < 4) {
        char *end;
        size_t len = strcspn(p, " ");
        if (len == 0 || len > 30 || strspn(p, "0123456789.-+eE") < len)
            return false;
        v[n++] = strtod(p, &end);
        if (end != p + len || v[n - 1] != v[n - 1])
            return false;
        p += len;
        if (*p == ' ')
            p++;
    }
    if (*p || n < 2)
        return false;
    *lat = v[0];
    *lon = v[1];
    return true;
}

/* The space-separated codes of a select_multiple. */
static json_t *select_value(const char *s)
{
    json_t *list = json_array();
    while (*s) {
        size_t n = strcspn(s, " ");
        if (n)
            json_array_append_new(list, json_stringn(s, n));
        s += n;
        while (*s == ' ')
            s++;
    }
    return list;
}

/* Sets member ("a" or "a.b") of doc. */
static void member_set(json_t *doc, const char *member, json_t *value)
{
    const char *dot = strchr(member, '.');
    if (!dot) {
        json_object_set_new(doc, member, value);
        return;
    }
    char outer[32];
    snprintf(outer, sizeof outer, "%.*s", (int)(dot - member), member);
    json_t *obj = json_object_get(doc, outer);
    if (!obj)
        json_object_set_new(doc, outer, obj = json_object());
    json_object_set_new(obj, dot + 1, value);
}

/* The fields of section from obj into doc. */
static bool fields_take(json_t *obj, int section, long index, json_t *doc, struct api_error *e)
{
    for (size_t i = 0; i < form_nfields; i++) {
        const struct form_field *f = &form_fields[i];
        if (f->section != section || !f->member[0])
            continue;
        const char *v = field_value(obj, section, f->name);
        if (!v)
            continue;
        char path[160];
        form_path(path, sizeof path, section, index, f->name);
        long number;
        char hhmm[6];
        double lat, lon;
        switch (f->type) {
        case FT_INT:
            if (!count_text_parse(v, &number))
                return err_invalid(e, path, "%s must be a whole number", path);
            member_set(doc, f->member, json_integer(number));
            break;
        case FT_TIME:
            if (!time_value(v, hhmm))
                return err_invalid(e, path, "%s must be a time of day (HH:MM)", path);
            member_set(doc, f->member, json_string(hhmm));
            break;
        case FT_GEOPOINT:
            if (!geopoint_value(v, &lat, &lon))
                return err_invalid(e, path, "%s must be a geopoint: latitude and longitude", path);
            member_set(doc, "location.lat", json_real(lat));
            member_set(doc, "location.lon", json_real(lon));
            break;
        case FT_SELECT:
            member_set(doc, f->member, select_value(v));
            break;
        default:
            member_set(doc, f->member, json_string(v));
        }
    }
    return true;
}

bool form_to_incident(json_t *tree, json_t **doc, struct form_ids *ids, struct api_error *e)
{
    *doc = json_object();
    ids->instance = field_value(tree, FORM_META, "instanceID");
    ids->deprecated = field_value(tree, FORM_META, "deprecatedID");
    char path[160];
    if (!ids->instance) {
        form_path(path, sizeof path, FORM_META, -1, "instanceID");
        err_missing(e, path);
        goto fail;
    }
    if (!fields_take(tree, FORM_INCIDENT, -1, *doc, e))
        goto fail;
    for (int s = 0; s < (int)form_nsections; s++) {
        if (!form_sections[s].repeat)
            continue;
        json_t *entries = json_object_get(tree, form_sections[s].path);
        json_t *list = json_array();
        json_object_set_new(*doc, form_sections[s].member, list);
        size_t i;
        json_t *entry;
        json_array_foreach(entries, i, entry)
        {
            if (entry_empty(entry, s))
                continue;
            json_t *item = json_object();
            json_array_append_new(list, item);
            if (!fields_take(entry, s, (long)i, item, e))
                goto fail;
        }
    }
    /* No casualty group: the incident's validation asks for one unless
     * the incident records other harm. */
    if (json_array_size(json_object_get(*doc, "casualties")) == 0 &&
        json_array_size(json_object_get(*doc, "abducted")) == 0 &&
        json_array_size(json_object_get(*doc, "impacts")) == 0)
        json_object_del(*doc, "casualties");
    return true;
fail:
    json_decref(*doc);
    *doc = NULL;
    return false;
}

/* The form index of the index-th entry of a repeat that form_to_incident
 * kept (empty entries are skipped). */
static long entry_index(json_t *tree, int section, long kept)
{
    json_t *entries = json_object_get(tree, form_sections[section].path);
    size_t i;
    json_t *entry;
    json_array_foreach(entries, i, entry)
    {
        if (!entry_empty(entry, section) && kept-- == 0)
            return (long)i;
    }
    return -1;
}

static const struct form_field *field_of_member(int section, const char *member)
{
    for (size_t i = 0; i < form_nfields; i++)
        if (form_fields[i].section == section && strcmp(form_fields[i].member, member) == 0)
            return &form_fields[i];
    return NULL;
}

void form_error_path(json_t *tree, struct api_error *e)
{
    const char *api = e->field;
    char path[160] = "";
    if (!api[0])
        return;
    size_t stem = strcspn(api, ".[");
    for (int s = 0; s < (int)form_nsections && !path[0]; s++) {
        const char *member = form_sections[s].member;
        if (!member || strlen(member) != stem || strncmp(api, member, stem) != 0)
            continue;
        if (api[stem] != '[') {
            snprintf(path, sizeof path, "/" FORM_ROOT "/%s", form_sections[s].outer);
            break;
        }
        long kept = strtol(api + stem + 1, NULL, 10);
        const char *rest = strchr(api + stem, ']');
        const struct form_field *f = rest && rest[1] == '.' ? field_of_member(s, rest + 2) : NULL;
        form_path(path, sizeof path, s, entry_index(tree, s, kept), f ? f->name : NULL);
    }
    if (!path[0]) {
        char member[64];
        snprintf(member, sizeof member, "%.*s", (int)stem, api);
        if (strcmp(api, "location.lon") == 0)
            snprintf(member, sizeof member, "location.lat");
        else if (strcmp(api, "location") == 0)
            snprintf(member, sizeof member, "location.admin1");
        else if (strncmp(api, "location.", 9) == 0)
            snprintf(member, sizeof member, "%.63s", api);
        const struct form_field *f = field_of_member(FORM_INCIDENT, member);
        if (!f)
            return;
        form_path(path, sizeof path, FORM_INCIDENT, -1, f->name);
    }
    /* The message names the field as the API does: name it as the form does. */
    struct buf message;
    buf_init(&message);
    const char *at = strstr(e->message, api);
    if (at)
        buf_printf(&message, "%.*s%s%s", (int)(at - e->message), e->message, path,
                   at + strlen(api));
    else
        buf_printf(&message, "%s: %s", path, e->message);
    size_t n = message.len < sizeof e->message - 1 ? message.len : sizeof e->message - 1;
    memcpy(e->message, message.data, n);
    e->message[n] = '\0';
    buf_free(&message);
    memcpy(e->field, path, sizeof e->field);
}
