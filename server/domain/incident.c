/* Incident validation, amendment, status rules and JSON views. */
#include "domain/incident.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/dates.h"
#include "util/ids.h"
#include "util/jsonv.h"
#include "util/mem.h"
#include "util/params.h"

const char *const incident_statuses[] = {"reported", "verified", "rejected", "duplicate",
                                         "retracted", NULL};
const char *const incident_outcomes[] = {"killed", "injured", NULL};
const char *const incident_sexes[] = {"male", "female", "unknown", NULL};
const char *const incident_age_groups[] = {"adult", "child", "unknown", NULL};
const char *const incident_date_precisions[] = {"day", "week", "month", NULL};
const char *const incident_location_precisions[] = {"exact", "near", "admin2", "admin1", NULL};

static const char *const client_fields[] = {
    "occurred_on", "date_precision", "time_of_day", "location",   "tactic",
    "weapon",      "perpetrator",    "attribution", "impacts",    "casualties",
    "abducted",    "sources",        "narrative",   "external_ref", NULL};

void incident_free(struct incident *inc)
{
    free(inc->party_group);
    free(inc->created_by);
    free(inc->admin1);
    free(inc->admin2);
    free(inc->place);
    free(inc->tactic);
    free(inc->weapon);
    free(inc->perpetrator);
    free(inc->attribution);
    for (size_t i = 0; i < inc->nimpacts; i++)
        free(inc->impacts[i]);
    free(inc->impacts);
    for (size_t i = 0; i < inc->ncasualties; i++) {
        free(inc->casualties[i].name);
        free(inc->casualties[i].role);
    }
    free(inc->casualties);
    free(inc->abducted);
    for (size_t i = 0; i < inc->nsources; i++) {
        free(inc->sources[i].type);
        free(inc->sources[i].reference);
    }
    free(inc->sources);
    free(inc->narrative);
    free(inc->external_ref);
    memset(inc, 0, sizeof *inc);
}

static char *dup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

bool incident_error_is_unknown_code(const struct api_error *e)
{
    return e->code && strcmp(e->code, ERR_UNKNOWN_CODE) == 0;
}

/* A taxonomy code member: required or defaulted, and listed in list. */
static bool code_field(json_t *obj, const char *key, const char *prefix, bool required,
                       const char *fallback, const struct tx_list *list, char **out,
                       const struct tx_code **entry, struct api_error *e)
{
    char path[160];
    jv_path(path, sizeof path, prefix, key);
    const char *code;
    if (!jv_string(obj, key, prefix, required, 1, 64, &code, NULL, e))
        return false;
    if (!code)
        code = fallback;
    const struct tx_code *found = taxonomy_find(list, code);
    if (!found)
        return api_error_set(e, 400, ERR_UNKNOWN_CODE, path, "%s %s is not in the taxonomy", path,
                             strlen(code) <= 64 ? code : "(code)");
    if (entry)
        *entry = found;
    *out = xstrdup(code);
    return true;
}

static bool validate_location(json_t *doc, const struct taxonomy *t, struct incident *inc,
                              struct api_error *e)
{
    json_t *loc;
    enum jv_presence p = jv_get(doc, "location", &loc);
    if (p == JV_ABSENT)
        return err_missing(e, "location");
    if (!json_is_object(loc))
        return err_invalid(e, "location", "location must be an object");
    static const char *const allowed[] = {"admin1", "admin2", "place", "lat", "lon", "precision",
                                          NULL};
    if (!jv_only_keys(loc, allowed, "location", e))
        return false;

    const char *admin1, *admin2, *place;
    if (!jv_string(loc, "admin1", "location", true, 1, 32, &admin1, NULL, e))
        return false;
    const struct tx_code *a1 = taxonomy_find(&t->areas, admin1);
    if (!a1)
        return api_error_set(e, 400, ERR_UNKNOWN_CODE, "location.admin1",
                             "location.admin1 is not a known P-code");
    if (a1->level != 1)
        return err_invalid(e, "location.admin1", "location.admin1 must be a first-level area");
    if (!jv_string(loc, "admin2", "location", false, 1, 32, &admin2, NULL, e))
        return false;
    if (admin2) {
        const struct tx_code *a2 = taxonomy_find(&t->areas, admin2);
        if (!a2)
            return api_error_set(e, 400, ERR_UNKNOWN_CODE, "location.admin2",
                                 "location.admin2 is not a known P-code");
        if (a2->level != 2 || !a2->group || strcmp(a2->group, admin1) != 0)
            return err_invalid(e, "location.admin2", "location.admin2 %s does not lie inside %s",
                               admin2, admin1);
    }
    if (!jv_string(loc, "place", "location", false, 0, INCIDENT_MAX_PLACE, &place, NULL, e))
        return false;

    enum jv_presence plat, plon;
    if (!jv_number(loc, "lat", "location", false, -90, 90, &inc->lat, &plat, e) ||
        !jv_number(loc, "lon", "location", false, -180, 180, &inc->lon, &plon, e))
        return false;
    if ((plat == JV_VALUE) != (plon == JV_VALUE))
        return err_invalid(e, plat == JV_VALUE ? "location.lon" : "location.lat",
                           "location.lat and location.lon go together");
    inc->has_coords = plat == JV_VALUE;
    if (!inc->has_coords)
        inc->lat = inc->lon = 0;
    if (!jv_enum(loc, "precision", "location", false, incident_location_precisions,
                 &inc->location_precision, NULL, e))
        return false;
    inc->admin1 = xstrdup(admin1);
    inc->admin2 = dup_or_null(admin2);
    inc->place = dup_or_null(place);
    return true;
}

static bool validate_casualty(json_t *item, const char *path, const struct taxonomy *t,
                              struct casualty *c, struct api_error *e)
{
    static const char *const allowed[] = {"outcome", "sex",  "age_group", "count", "count_min",
                                          "count_max", "role", "age",     "name",  NULL};
    if (!json_is_object(item))
        return err_invalid(e, path, "%s must be an object", path);
    long long count, count_min, count_max, age = -1;
    enum jv_presence page, pmin, pmax, prole;
    const char *name;
    c->sex = "unknown";
    c->age_group = "unknown";
    c->count_min = c->count_max = -1;
    if (!jv_only_keys(item, allowed, path, e) ||
        !jv_enum(item, "outcome", path, true, incident_outcomes, &c->outcome, NULL, e) ||
        !jv_enum(item, "sex", path, false, incident_sexes, &c->sex, NULL, e) ||
        !jv_enum(item, "age_group", path, false, incident_age_groups, &c->age_group, NULL, e) ||
        !jv_integer(item, "count", path, true, 1, INCIDENT_MAX_COUNT, &count, NULL, e) ||
        !jv_integer(item, "count_min", path, false, 1, INCIDENT_MAX_COUNT, &count_min, &pmin,
                    e) ||
        !jv_integer(item, "count_max", path, false, 1, INCIDENT_MAX_COUNT, &count_max, &pmax,
                    e) ||
        !jv_integer(item, "age", path, false, 0, INCIDENT_MAX_AGE, &age, &page, e) ||
        !jv_string(item, "name", path, false, 1, INCIDENT_MAX_NAME, &name, NULL, e))
        return false;
    c->count = (long)count;
    c->age = page == JV_VALUE ? (int)age : -1;
    char field[176];
    if (pmin == JV_VALUE) {
        jv_path(field, sizeof field, path, "count_min");
        if (count_min > count)
            return err_invalid(e, field, "%s %lld is more than count %lld: the low estimate "
                               "is at most the count", field, count_min, count);
        c->count_min = (long)count_min;
    }
    if (pmax == JV_VALUE) {
        jv_path(field, sizeof field, path, "count_max");
        if (count_max < count)
            return err_invalid(e, field, "%s %lld is less than count %lld: the high estimate "
                               "is at least the count", field, count_max, count);
        c->count_max = (long)count_max;
    }
    json_t *role;
    prole = jv_get(item, "role", &role);
    if (prole == JV_VALUE) {
        const struct tx_code *found;
        if (!code_field(item, "role", path, false, NULL, &t->roles, &c->role, &found, e))
            return false;
    }
    if ((c->age >= 0 || name) && count != 1) {
        jv_path(field, sizeof field, path, c->age >= 0 ? "age" : "name");
        return err_invalid(e, field, "%s is allowed only on a group of count 1", field);
    }
    if (c->age >= 0) {
        jv_path(field, sizeof field, path, "age");
        if (strcmp(c->age_group, "unknown") == 0)
            return err_invalid(e, field, "%s needs an age_group of adult or child", field);
        if (strcmp(c->age_group, "adult") == 0 && c->age < 18)
            return err_invalid(e, field, "%s %d disagrees with age_group adult (18 or over)",
                               field, c->age);
        if (strcmp(c->age_group, "child") == 0 && c->age >= 18)
            return err_invalid(e, field, "%s %d disagrees with age_group child (under 18)", field,
                               c->age);
    }
    c->name = dup_or_null(name);
    return true;
}

/* Casualties: at least one group, unless the incident records harm of
 * another kind (impacts, or persons abducted), which the caller has
 * validated already. */
static bool validate_casualties(json_t *doc, const struct taxonomy *t, struct incident *inc,
                                struct api_error *e)
{
    bool other_harm = inc->nimpacts > 0 || inc->nabducted > 0;
    json_t *list;
    enum jv_presence p = jv_get(doc, "casualties", &list);
    if (p == JV_ABSENT && !other_harm)
        return err_missing(e, "casualties");
    if (p == JV_ABSENT)
        return true;
    if (!json_is_array(list))
        return err_invalid(e, "casualties", "casualties must be an array of casualty groups");
    size_t n = json_array_size(list);
    if (n > INCIDENT_MAX_CASUALTY_GROUPS)
        return err_invalid(e, "casualties", "casualties must have at most %d groups",
                           INCIDENT_MAX_CASUALTY_GROUPS);
    if (n == 0 && !other_harm)
        return err_invalid(e, "casualties",
                           "casualties must have at least one group, unless the incident "
                           "records impacts or persons abducted");
    inc->casualties = xcalloc(n ? n : 1, sizeof *inc->casualties);
    long long total = 0;
    for (size_t i = 0; i < n; i++) {
        char path[160];
        jv_path_index(path, sizeof path, "casualties", i);
        /* Counted before it is read, so that incident_free frees what a
         * group that fails half-way holds (its role). */
        inc->ncasualties = i + 1;
        if (!validate_casualty(json_array_get(list, i), path, t, &inc->casualties[i], e))
            return false;
        const struct casualty *c = &inc->casualties[i];
        total += c->count_max >= 0 ? c->count_max : c->count;
    }
    if (total > INCIDENT_MAX_CASUALTIES)
        return err_invalid(e, "casualties",
                           "casualties add up to %lld (high estimates where given); one "
                           "incident may record at most %d killed and injured together "
                           "(record a larger event as several incidents)",
                           total, INCIDENT_MAX_CASUALTIES);
    return true;
}

static int code_ptr_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* impacts: distinct codes of the impacts list, kept sorted. */
static bool validate_impacts(json_t *doc, const struct taxonomy *t, struct incident *inc,
                             struct api_error *e)
{
    json_t *list;
    if (jv_get(doc, "impacts", &list) != JV_VALUE)
        return true;
    if (!json_is_array(list))
        return err_invalid(e, "impacts", "impacts must be an array of impact codes");
    size_t n = json_array_size(list);
    if (n > INCIDENT_MAX_IMPACTS)
        return err_invalid(e, "impacts", "impacts may list at most %d codes",
                           INCIDENT_MAX_IMPACTS);
    inc->impacts = xcalloc(n ? n : 1, sizeof *inc->impacts);
    for (size_t i = 0; i < n; i++) {
        char path[160];
        jv_path_index(path, sizeof path, "impacts", i);
        json_t *item = json_array_get(list, i);
        const char *code = json_string_value(item);
        /* An escaped NUL would cut the code short ("education\u0000x"). */
        if (!code || json_string_length(item) == 0 || json_string_length(item) > 64 ||
            strlen(code) != json_string_length(item))
            return err_invalid(e, path, "%s must be an impact code", path);
        if (!taxonomy_find(&t->impacts, code))
            return api_error_set(e, 400, ERR_UNKNOWN_CODE, path, "%s %s is not in the taxonomy",
                                 path, code);
        for (size_t k = 0; k < inc->nimpacts; k++)
            if (strcmp(inc->impacts[k], code) == 0)
                return err_invalid(e, path, "%s: impact %s is listed twice", path, code);
        inc->impacts[inc->nimpacts++] = xstrdup(code);
    }
    qsort(inc->impacts, inc->nimpacts, sizeof *inc->impacts, code_ptr_cmp);
    return true;
}

/* The order persons abducted are kept, stored and read back in: by sex,
 * then age group, as the store reads them. */
static int abduction_cmp(const void *a, const void *b)
{
    const struct abduction *x = a, *y = b;
    int c = strcmp(x->sex, y->sex);
    return c ? c : strcmp(x->age_group, y->age_group);
}

/* abducted: persons abducted by sex and age group, only where the tactic
 * is one of abduction. A set: kept sorted (abduction_cmp), so the order
 * sent changes nothing. */
static bool validate_abducted(json_t *doc, const struct tx_code *tactic, struct incident *inc,
                              struct api_error *e)
{
    json_t *list;
    if (jv_get(doc, "abducted", &list) != JV_VALUE)
        return true;
    if (!json_is_array(list))
        return err_invalid(e, "abducted", "abducted must be an array of groups");
    size_t n = json_array_size(list);
    if (n > 9)
        return err_invalid(e, "abducted",
                           "abducted may list at most 9 groups (one per sex and age group)");
    if (n > 0 && !tactic->abduction)
        return err_invalid(e, "abducted",
                           "abducted is recorded only for a tactic of abduction; tactic %s is "
                           "not one",
                           tactic->code);
    static const char *const allowed[] = {"sex", "age_group", "count", NULL};
    inc->abducted = xcalloc(n ? n : 1, sizeof *inc->abducted);
    long long total = 0;
    for (size_t i = 0; i < n; i++) {
        char path[160];
        jv_path_index(path, sizeof path, "abducted", i);
        json_t *item = json_array_get(list, i);
        if (!json_is_object(item))
            return err_invalid(e, path, "%s must be an object", path);
        struct abduction *a = &inc->abducted[i];
        a->sex = "unknown";
        a->age_group = "unknown";
        long long count;
        if (!jv_only_keys(item, allowed, path, e) ||
            !jv_enum(item, "sex", path, false, incident_sexes, &a->sex, NULL, e) ||
            !jv_enum(item, "age_group", path, false, incident_age_groups, &a->age_group, NULL,
                     e) ||
            !jv_integer(item, "count", path, true, 1, INCIDENT_MAX_COUNT, &count, NULL, e))
            return false;
        a->count = (long)count;
        for (size_t k = 0; k < i; k++)
            if (strcmp(inc->abducted[k].sex, a->sex) == 0 &&
                strcmp(inc->abducted[k].age_group, a->age_group) == 0)
                return err_invalid(e, path, "%s repeats sex %s and age_group %s", path, a->sex,
                                   a->age_group);
        inc->nabducted = i + 1;
        total += count;
    }
    if (total > INCIDENT_MAX_CASUALTIES)
        return err_invalid(e, "abducted",
                           "abducted adds up to %lld; one incident may record at most %d "
                           "persons abducted",
                           total, INCIDENT_MAX_CASUALTIES);
    qsort(inc->abducted, inc->nabducted, sizeof *inc->abducted, abduction_cmp);
    return true;
}

static bool validate_sources(json_t *doc, const struct taxonomy *t, struct incident *inc,
                             struct api_error *e)
{
    json_t *list;
    if (jv_get(doc, "sources", &list) != JV_VALUE)
        return true;
    if (!json_is_array(list))
        return err_invalid(e, "sources", "sources must be an array");
    size_t n = json_array_size(list);
    if (n > INCIDENT_MAX_SOURCES)
        return err_invalid(e, "sources", "sources may list at most %d sources",
                           INCIDENT_MAX_SOURCES);
    static const char *const allowed[] = {"type", "reference", NULL};
    inc->sources = xcalloc(n ? n : 1, sizeof *inc->sources);
    for (size_t i = 0; i < n; i++) {
        char path[160];
        jv_path_index(path, sizeof path, "sources", i);
        json_t *item = json_array_get(list, i);
        if (!json_is_object(item))
            return err_invalid(e, path, "%s must be an object", path);
        const char *reference;
        struct source *s = &inc->sources[i];
        /* Lineage is the server's to write (a merge of a duplicate). */
        if (json_object_get(item, "merged_from")) {
            char field[192];
            jv_path(field, sizeof field, path, "merged_from");
            return err_invalid(e, field,
                               "%s is set by the server when a duplicate's sources are "
                               "merged; it cannot be sent",
                               field);
        }
        if (!jv_only_keys(item, allowed, path, e) ||
            !code_field(item, "type", path, true, NULL, &t->source_types, &s->type, NULL, e))
            return false;
        inc->nsources = i + 1;
        if (!jv_string(item, "reference", path, false, 0, INCIDENT_MAX_REFERENCE, &reference,
                       NULL, e))
            return false;
        s->reference = dup_or_null(reference);
    }
    return true;
}

bool incident_from_json(json_t *doc, const struct taxonomy *t, struct incident *inc,
                        struct api_error *e)
{
    memset(inc, 0, sizeof *inc);
    inc->time_of_day = -1;
    inc->date_precision = "day";
    if (!jv_only_keys(doc, client_fields, "", e))
        return false;

    const char *date, *tod, *narrative, *external_ref;
    if (!jv_string(doc, "occurred_on", "", true, 1, 10, &date, NULL, e)) {
        if (e->reason == ERR_REASON_TOO_LONG)
            return err_invalid(e, "occurred_on", "occurred_on must be a date YYYY-MM-DD");
        return false;
    }
    if (!date_parse(date, &inc->occurred_on))
        return err_invalid(e, "occurred_on", "occurred_on must be a real date YYYY-MM-DD");
    long min_date;
    date_parse(INCIDENT_MIN_DATE, &min_date);
    if (inc->occurred_on < min_date)
        return err_invalid(e, "occurred_on", "occurred_on may not be before %s",
                           INCIDENT_MIN_DATE);
    /* UTC+14 is the earliest time zone: no incident anywhere happened later. */
    if (inc->occurred_on > date_today_at_offset(14))
        return err_invalid(e, "occurred_on", "occurred_on may not be in the future");
    if (!jv_enum(doc, "date_precision", "", false, incident_date_precisions,
                 &inc->date_precision, NULL, e))
        return false;
    if (!jv_string(doc, "time_of_day", "", false, 0, 5, &tod, NULL, e)) {
        if (e->reason == ERR_REASON_TOO_LONG)
            return err_invalid(e, "time_of_day", "time_of_day must be HH:MM (00:00 to 23:59)");
        return false;
    }
    if (tod && !time_of_day_parse(tod, &inc->time_of_day))
        return err_invalid(e, "time_of_day", "time_of_day must be HH:MM (00:00 to 23:59)");

    const struct tx_code *party, *tactic;
    if (!validate_location(doc, t, inc, e) ||
        !code_field(doc, "tactic", "", true, NULL, &t->tactics, &inc->tactic, &tactic, e) ||
        !code_field(doc, "weapon", "", false, "unknown", &t->weapons, &inc->weapon, NULL, e) ||
        !code_field(doc, "perpetrator", "", false, "unknown", &t->parties, &inc->perpetrator,
                    &party, e) ||
        !code_field(doc, "attribution", "", false, "unknown", &t->attributions,
                    &inc->attribution, NULL, e))
        return false;
    inc->party_group = dup_or_null(party->group);
    if (!validate_impacts(doc, t, inc, e) || !validate_abducted(doc, tactic, inc, e) ||
        !validate_casualties(doc, t, inc, e) || !validate_sources(doc, t, inc, e))
        return false;
    if (!jv_string(doc, "narrative", "", false, 0, INCIDENT_MAX_NARRATIVE, &narrative, NULL, e) ||
        !jv_string(doc, "external_ref", "", false, 0, INCIDENT_MAX_EXTERNAL_REF, &external_ref,
                   NULL, e))
        return false;
    inc->narrative = dup_or_null(narrative);
    inc->external_ref = dup_or_null(external_ref);
    return true;
}

void incident_totals(const struct incident *inc, long *killed, long *injured, int *source_types)
{
    long k = 0, i = 0;
    for (size_t n = 0; n < inc->ncasualties; n++) {
        if (strcmp(inc->casualties[n].outcome, "killed") == 0)
            k += inc->casualties[n].count;
        else
            i += inc->casualties[n].count;
    }
    int distinct = 0;
    for (size_t n = 0; n < inc->nsources; n++) {
        bool seen = false;
        for (size_t m = 0; m < n && !seen; m++)
            seen = strcmp(inc->sources[m].type, inc->sources[n].type) == 0;
        distinct += !seen;
    }
    *killed = k;
    *injured = i;
    *source_types = distinct;
}

void incident_rollup_counts(const struct incident *inc, long long out[INCIDENT_ROLLUP_COUNTS])
{
    memset(out, 0, INCIDENT_ROLLUP_COUNTS * sizeof *out);
    /* Offsets in the journal's order (incident.h). */
    enum { KILLED, INJURED, VICTIMS, UNHARMED = 20, ABDUCTED, TOTAL_BELOW, BELOW = 26,
           ABOVE = 44 };
    for (size_t n = 0; n < inc->ncasualties; n++) {
        const struct casualty *c = &inc->casualties[n];
        int o = strcmp(c->outcome, "killed") == 0 ? 0 : 1;
        int sx = 0, ag = 0;
        while (incident_sexes[sx] && strcmp(incident_sexes[sx], c->sex) != 0)
            sx++;
        while (incident_age_groups[ag] && strcmp(incident_age_groups[ag], c->age_group) != 0)
            ag++;
        int v = o * 9 + sx * 3 + ag;
        long below = c->count_min >= 0 ? c->count - c->count_min : 0;
        long above = c->count_max >= 0 ? c->count_max - c->count : 0;
        out[KILLED + o] += c->count;
        out[VICTIMS + v] += c->count;
        out[TOTAL_BELOW + 2 * o] += below;
        out[TOTAL_BELOW + 2 * o + 1] += above;
        out[BELOW + v] += below;
        out[ABOVE + v] += above;
    }
    out[UNHARMED] = inc->ncasualties == 0;
    for (size_t n = 0; n < inc->nabducted; n++)
        out[ABDUCTED] += inc->abducted[n].count;
}

char *incident_impacts_key(const struct incident *inc)
{
    struct buf key;
    buf_init(&key);
    for (size_t i = 0; i < inc->nimpacts; i++) {
        if (i)
            buf_putc(&key, ',');
        buf_puts(&key, inc->impacts[i]);
    }
    return buf_steal(&key, NULL);
}


static json_t *string_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *incident_document(const struct incident *inc)
{
    json_t *doc = json_object();
    char date[11];
    date_format(inc->occurred_on, date);
    json_object_set_new(doc, "occurred_on", json_string(date));
    json_object_set_new(doc, "date_precision", json_string(inc->date_precision));
    if (inc->time_of_day >= 0) {
        char tod[16];
        snprintf(tod, sizeof tod, "%02d:%02d", inc->time_of_day / 60, inc->time_of_day % 60);
        json_object_set_new(doc, "time_of_day", json_string(tod));
    } else {
        json_object_set_new(doc, "time_of_day", json_null());
    }
    json_t *loc = json_object();
    json_object_set_new(loc, "admin1", json_string(inc->admin1));
    json_object_set_new(loc, "admin2", string_or_null(inc->admin2));
    json_object_set_new(loc, "place", string_or_null(inc->place));
    json_object_set_new(loc, "lat", inc->has_coords ? json_real(inc->lat) : json_null());
    json_object_set_new(loc, "lon", inc->has_coords ? json_real(inc->lon) : json_null());
    json_object_set_new(loc, "precision", string_or_null(inc->location_precision));
    json_object_set_new(doc, "location", loc);
    json_object_set_new(doc, "tactic", json_string(inc->tactic));
    json_object_set_new(doc, "weapon", json_string(inc->weapon));
    json_object_set_new(doc, "perpetrator", json_string(inc->perpetrator));
    json_object_set_new(doc, "attribution", json_string(inc->attribution));
    json_t *impacts = json_array();
    for (size_t i = 0; i < inc->nimpacts; i++)
        json_array_append_new(impacts, json_string(inc->impacts[i]));
    json_object_set_new(doc, "impacts", impacts);
    json_t *groups = json_array();
    for (size_t i = 0; i < inc->ncasualties; i++) {
        const struct casualty *c = &inc->casualties[i];
        json_t *g = json_object();
        json_object_set_new(g, "outcome", json_string(c->outcome));
        json_object_set_new(g, "sex", json_string(c->sex));
        json_object_set_new(g, "age_group", json_string(c->age_group));
        json_object_set_new(g, "count", json_integer(c->count));
        json_object_set_new(g, "count_min",
                            c->count_min >= 0 ? json_integer(c->count_min) : json_null());
        json_object_set_new(g, "count_max",
                            c->count_max >= 0 ? json_integer(c->count_max) : json_null());
        json_object_set_new(g, "role", string_or_null(c->role));
        json_object_set_new(g, "age", c->age >= 0 ? json_integer(c->age) : json_null());
        json_object_set_new(g, "name", string_or_null(c->name));
        json_array_append_new(groups, g);
    }
    json_object_set_new(doc, "casualties", groups);
    json_t *abducted = json_array();
    for (size_t i = 0; i < inc->nabducted; i++) {
        const struct abduction *a = &inc->abducted[i];
        json_array_append_new(abducted, json_pack("{s:s, s:s, s:I}", "sex", a->sex, "age_group",
                                                  a->age_group, "count", (json_int_t)a->count));
    }
    json_object_set_new(doc, "abducted", abducted);
    json_t *sources = json_array();
    for (size_t i = 0; i < inc->nsources; i++) {
        json_t *s = json_object();
        json_object_set_new(s, "type", json_string(inc->sources[i].type));
        json_object_set_new(s, "reference", string_or_null(inc->sources[i].reference));
        /* Only on a merged source: a document of the incident's own
         * sources reads as it always did. */
        if (inc->sources[i].merged_from)
            json_object_set_new(s, "merged_from", id_json_or_null(inc->sources[i].merged_from));
        json_array_append_new(sources, s);
    }
    json_object_set_new(doc, "sources", sources);
    json_object_set_new(doc, "narrative", string_or_null(inc->narrative));
    json_object_set_new(doc, "external_ref", string_or_null(inc->external_ref));
    return doc;
}

static void strip_members(json_t *array, const char *a, const char *b)
{
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item) {
        if (a)
            json_object_del(item, a);
        if (b)
            json_object_del(item, b);
    }
}

/* The members of a location below admin2. */
static void coarsen_location(json_t *loc)
{
    if (!json_is_object(loc))
        return;
    json_object_del(loc, "place");
    json_object_del(loc, "lat");
    json_object_del(loc, "lon");
    json_object_del(loc, "precision");
}

void incident_redact(json_t *doc, unsigned view)
{
    if (!(view & VIEW_CONFIDENTIAL)) {
        json_object_del(doc, "narrative");
        strip_members(json_object_get(doc, "sources"), "reference", NULL);
    }
    if (!(view & VIEW_PERSONAL))
        strip_members(json_object_get(doc, "casualties"), "name", "age");
    if (!(view & VIEW_DETAIL)) {
        json_object_del(doc, "time_of_day");
        json_object_del(doc, "external_ref");
        coarsen_location(json_object_get(doc, "location"));
    }
}

json_t *incident_to_json(const struct incident *inc, unsigned view, int required_source_types)
{
    json_t *out = json_object();
    char id[24];
    snprintf(id, sizeof id, "%lld", inc->id);
    json_object_set_new(out, "id", json_string(id));
    json_object_set_new(out, "version", json_integer(inc->version));
    json_object_set_new(out, "status", json_string(inc->status));
    if (inc->duplicate_of) {
        snprintf(id, sizeof id, "%lld", inc->duplicate_of);
        json_object_set_new(out, "duplicate_of", json_string(id));
    } else {
        json_object_set_new(out, "duplicate_of", json_null());
    }
    json_t *doc = incident_document(inc);
    incident_redact(doc, view);
    json_object_update(out, doc);
    json_decref(doc);
    json_object_set_new(out, "party_group", string_or_null(inc->party_group));
    long killed, injured;
    int types;
    incident_totals(inc, &killed, &injured, &types);
    json_object_set_new(out, "killed", json_integer(killed));
    json_object_set_new(out, "injured", json_integer(injured));
    json_object_set_new(out, "verification",
                        json_pack("{s:i, s:i, s:b, s:b}", "source_types", types, "required",
                                  required_source_types, "meets_standard",
                                  types >= required_source_types, "override",
                                  inc->verification_override));
    if (view & VIEW_DETAIL)
        json_object_set_new(out, "created_by", string_or_null(inc->created_by));
    json_object_set_new(out, "created_at", json_string(inc->created_at));
    json_object_set_new(out, "updated_at", json_string(inc->updated_at));
    return out;
}

json_t *incident_patch_merge(json_t *stored, json_t *patch, const char **reason,
                             struct api_error *e)
{
    static const char *const allowed[] = {
        "occurred_on", "date_precision", "time_of_day", "location",     "tactic",
        "weapon",      "perpetrator",    "attribution", "impacts",      "casualties",
        "abducted",    "sources",        "narrative",   "external_ref", "reason",
        NULL};
    if (!jv_only_keys(patch, allowed, "", e) ||
        !jv_string(patch, "reason", "", true, 1, INCIDENT_MAX_REASON, reason, NULL, e))
        return NULL;
    json_t *merged = json_deep_copy(stored);
    /* The sources a merge lent are the server's: out of what the client's
     * fields are validated as (incident_sources_keep_merged puts them back). */
    json_t *sources = json_object_get(merged, "sources");
    for (size_t i = json_array_size(sources); i-- > 0;)
        if (json_object_get(json_array_get(sources, i), "merged_from"))
            json_array_remove(sources, i);
    const char *key;
    json_t *value;
    json_object_foreach(patch, key, value) {
        if (strcmp(key, "reason") != 0)
            json_object_set(merged, key, value);
    }
    return merged;
}

json_t *incident_diff(json_t *before, json_t *after)
{
    json_t *changes = json_object();
    for (const char *const *f = client_fields; *f; f++) {
        json_t *a = json_object_get(before, *f);
        json_t *b = json_object_get(after, *f);
        bool a_none = !a || json_is_null(a), b_none = !b || json_is_null(b);
        if (!(a_none && b_none) && !(a && b && json_equal(a, b))) {
            json_t *change = json_object();
            /* Copies: a change list is redacted in place later, and must
             * never reach back into the documents it was made from. */
            json_object_set_new(change, "from", a ? json_deep_copy(a) : json_null());
            json_object_set_new(change, "to", b ? json_deep_copy(b) : json_null());
            json_object_set_new(changes, *f, change);
        }
    }
    return changes;
}

bool incident_id_parse(const char *s, long long *out)
{
    return id_parse(s, out);
}

bool status_change_from_json(json_t *doc, struct status_change *sc, struct api_error *e)
{
    static const char *const allowed[] = {"status",       "reason",        "override",
                                          "duplicate_of", "merge_sources", NULL};
    memset(sc, 0, sizeof *sc);
    const char *dup;
    enum jv_presence pdup;
    if (!jv_only_keys(doc, allowed, "", e) ||
        !jv_enum(doc, "status", "", true, incident_statuses, &sc->status, NULL, e) ||
        !jv_string(doc, "reason", "", true, 1, INCIDENT_MAX_REASON, &sc->reason, NULL, e) ||
        !jv_boolean(doc, "override", "", false, &sc->override, NULL, e) ||
        !jv_boolean(doc, "merge_sources", "", false, &sc->merge_sources, NULL, e))
        return false;
    if (!jv_string(doc, "duplicate_of", "", false, 1, 20, &dup, &pdup, e)) {
        if (strcmp(e->code, ERR_INVALID_FIELD) == 0)
            return err_invalid(e, "duplicate_of", "duplicate_of must be an incident id string");
        return false;
    }
    bool is_duplicate = strcmp(sc->status, "duplicate") == 0;
    if (is_duplicate && !dup)
        return err_missing(e, "duplicate_of");
    if (!is_duplicate && pdup != JV_ABSENT)
        return err_invalid(e, "duplicate_of", "duplicate_of goes only with status duplicate");
    if (dup && !incident_id_parse(dup, &sc->duplicate_of))
        return err_invalid(e, "duplicate_of", "duplicate_of must be an incident id string");
    if (sc->override && strcmp(sc->status, "verified") != 0)
        return err_invalid(e, "override", "override goes only with status verified");
    if (sc->merge_sources && !is_duplicate)
        return err_invalid(e, "merge_sources", "merge_sources goes only with status duplicate");
    return true;
}

/* Appends to inc copies of from's sources (only those merged from a
 * duplicate when merged_only), marked merged_from = mark (0: as they are).
 * False, 422 on field, when inc would list more than INCIDENT_MAX_SOURCES. */
static bool sources_append(struct incident *inc, const struct incident *from, bool merged_only,
                           long long mark, const char *field, struct api_error *e)
{
    size_t n = inc->nsources;
    for (size_t i = 0; i < from->nsources; i++)
        n += !merged_only || from->sources[i].merged_from;
    if (n > INCIDENT_MAX_SOURCES)
        return api_error_set(e, 422, ERR_INVALID_FIELD, field,
                             "the incident would list %zu sources (with those merged from "
                             "duplicates); at most %d",
                             n, INCIDENT_MAX_SOURCES);
    inc->sources = xrealloc(inc->sources, (n ? n : 1) * sizeof *inc->sources);
    for (size_t i = 0; i < from->nsources; i++) {
        const struct source *f = &from->sources[i];
        if (merged_only && !f->merged_from)
            continue;
        struct source *s = &inc->sources[inc->nsources++];
        s->type = xstrdup(f->type);
        s->reference = dup_or_null(f->reference);
        s->merged_from = mark ? mark : f->merged_from;
    }
    return true;
}

bool incident_sources_merge(struct incident *kept, const struct incident *dup, struct api_error *e)
{
    return sources_append(kept, dup, false, dup->id, "merge_sources", e);
}

bool incident_sources_keep_merged(struct incident *next, const struct incident *cur,
                                  struct api_error *e)
{
    return sources_append(next, cur, true, 0, "sources", e);
}

size_t incident_sources_unmerge(struct incident *kept, long long dup_id)
{
    size_t kept_n = 0;
    for (size_t i = 0; i < kept->nsources; i++) {
        struct source *s = &kept->sources[i];
        if (s->merged_from == dup_id) {
            free(s->type);
            free(s->reference);
        } else {
            kept->sources[kept_n++] = *s;
        }
    }
    size_t removed = kept->nsources - kept_n;
    kept->nsources = kept_n;
    return removed;
}

/* Restricted fields of a change list keep their names but lose their
 * values; lists keep their entries without the restricted members. */
void incident_redact_changes(json_t *changes, unsigned view)
{
    json_t *change;
    if (!(view & VIEW_CONFIDENTIAL) && (change = json_object_get(changes, "narrative")))
        json_object_clear(change);
    if (!(view & VIEW_DETAIL)) {
        static const char *const detail[] = {"time_of_day", "external_ref"};
        for (size_t i = 0; i < sizeof detail / sizeof detail[0]; i++)
            if ((change = json_object_get(changes, detail[i])))
                json_object_clear(change);
        if ((change = json_object_get(changes, "location"))) {
            coarsen_location(json_object_get(change, "from"));
            coarsen_location(json_object_get(change, "to"));
        }
    }
    const char *sides[] = {"from", "to"};
    for (int i = 0; i < 2; i++) {
        json_t *doc = json_object();
        if ((change = json_object_get(changes, "sources")))
            json_object_set(doc, "sources", json_object_get(change, sides[i]));
        if ((change = json_object_get(changes, "casualties")))
            json_object_set(doc, "casualties", json_object_get(change, sides[i]));
        /* doc shares the arrays with changes: redacting it redacts them. */
        incident_redact(doc, view);
        json_decref(doc);
    }
}

static json_t *change(json_t *from, json_t *to)
{
    return json_pack("{s:o, s:o}", "from", from, "to", to);
}


bool incident_status_apply(struct incident *inc, const struct status_change *sc,
                           int min_source_types, const char *target_status, json_t *changes,
                           struct api_error *e)
{
    long killed, injured;
    int types;
    incident_totals(inc, &killed, &injured, &types);
    if (strcmp(sc->status, inc->status) == 0 && sc->duplicate_of == inc->duplicate_of)
        return api_error_set(e, 409, ERR_CONFLICT, "status", "the incident is already %s",
                             inc->status);
    if (strcmp(sc->status, "verified") == 0 && types < min_source_types && !sc->override)
        return api_error_set(e, 422, ERR_INVALID_FIELD, "sources",
                             "the incident has %d distinct source type(s); verification needs "
                             "%d, or \"override\": true with a reason",
                             types, min_source_types);
    if (sc->duplicate_of) {
        if (sc->duplicate_of == inc->id)
            return err_invalid(e, "duplicate_of", "an incident cannot duplicate itself");
        if (!target_status)
            return err_invalid(e, "duplicate_of", "duplicate_of names no incident");
        if (strcmp(target_status, "duplicate") == 0)
            return api_error_set(e, 409, ERR_CONFLICT, "duplicate_of",
                                 "duplicate_of is itself a duplicate; name the original");
    }
    bool override =
        strcmp(sc->status, "verified") == 0 && sc->override && types < min_source_types;
    if (strcmp(sc->status, inc->status) != 0)
        json_object_set_new(changes, "status",
                            change(json_string(inc->status), json_string(sc->status)));
    if (sc->duplicate_of != inc->duplicate_of)
        json_object_set_new(changes, "duplicate_of",
                            change(id_json_or_null(inc->duplicate_of), id_json_or_null(sc->duplicate_of)));
    if (override != inc->verification_override)
        json_object_set_new(
            changes, "verification_override",
            change(json_boolean(inc->verification_override), json_boolean(override)));
    inc->status = sc->status;
    inc->duplicate_of = sc->duplicate_of;
    inc->verification_override = override;
    return true;
}

static bool status_item(const char *item, size_t len, void *ctx)
{
    (void)ctx;
    for (const char *const *s = incident_statuses; *s; s++)
        if (strlen(*s) == len && strncmp(*s, item, len) == 0)
            return true;
    return false;
}

bool incident_status_list_valid(const char *list)
{
    return comma_list_each(list, status_item, NULL);
}
