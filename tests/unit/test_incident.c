/*
 * Unit tests of domain/incident: validation of the incident document against
 * a hand-built taxonomy (docs/api.md "Incident document" and "Limits"), the
 * JSON views for each reader, PATCH merging and diffs, status changes, ids.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/incident.h"
#include "unit.h"
#include "util/dates.h"
#include "util/jsonv.h"
#include "util/mem.h"

/* ---- the taxonomy: every list sorted by code ---- */

#define LIST(a)                                                                                    \
    {                                                                                              \
        a, sizeof a / sizeof a[0]                                                                  \
    }

static struct tx_code tx_party_groups[] = {
    {.code = "age"},
    {.code = "crossfire"},
    {.code = "other"},
    {.code = "pgf"},
};
static struct tx_code tx_parties[] = {
    {.code = "ansf_army", .group = "pgf"}, {.code = "crossfire_age_pgf", .group = "crossfire"},
    {.code = "taliban", .group = "age"},   {.code = "undetermined_age", .group = "age"},
    {.code = "unknown", .group = "other"},
};
static struct tx_code tx_tactics[] = {
    {.code = "abduction", .abduction = true},
    {.code = "aerial_operation"},
    {.code = "ground_engagement"},
    {.code = "ied_suicide"},
};
static struct tx_code tx_weapons[] = {
    {.code = "heavy_explosive"},
    {.code = "small_arms"},
    {.code = "unknown"},
};
static struct tx_code tx_source_types[] = {
    {.code = "local_authority"}, {.code = "media"},
    {.code = "medical"},         {.code = "un_ngo"},
    {.code = "victim"},          {.code = "witness"},
};
static struct tx_code tx_regions[] = {
    {.code = "central"},
    {.code = "southern"},
};
static struct tx_code tx_areas[] = {
    {.code = "AF"},
    {.code = "AF01", .group = "AF", .region = "central", .level = 1},
    {.code = "AF0101", .group = "AF01", .region = "central", .level = 2},
    {.code = "AF0102", .group = "AF01", .region = "central", .level = 2},
    {.code = "AF27", .group = "AF", .region = "southern", .level = 1},
    {.code = "AF2701", .group = "AF27", .region = "southern", .level = 2},
};

static struct tx_code tx_impacts[] = {
    {.code = "education"},
    {.code = "health_care"},
};
static struct tx_code tx_attributions[] = {
    {.code = "claimed"},
    {.code = "unknown"},
};
static struct tx_code tx_roles[] = {
    {.code = "journalist"},
    {.code = "teacher"},
};

static const struct taxonomy tx = {
    .revision = 1,
    .refs = 1,
    .party_groups = LIST(tx_party_groups),
    .parties = LIST(tx_parties),
    .tactics = LIST(tx_tactics),
    .weapons = LIST(tx_weapons),
    .source_types = LIST(tx_source_types),
    .regions = LIST(tx_regions),
    .areas = LIST(tx_areas),
    .impacts = LIST(tx_impacts),
    .attributions = LIST(tx_attributions),
    .roles = LIST(tx_roles),
};

/* ---- documents ---- */

/* Two groups and two sources, so that index paths past [0] can be tested. */
static const char *const BASE =
    "{\"occurred_on\":\"2024-05-01\","
    " \"location\":{\"admin1\":\"AF01\",\"admin2\":\"AF0101\"},"
    " \"tactic\":\"ground_engagement\","
    " \"casualties\":[{\"outcome\":\"killed\",\"count\":2},"
    "                "
    "{\"outcome\":\"injured\",\"sex\":\"female\",\"age_group\":\"child\",\"count\":1}],"
    " \"sources\":[{\"type\":\"victim\"},{\"type\":\"media\",\"reference\":\"ref\"}]}";

static const char *const MINIMAL =
    "{\"occurred_on\":\"2024-05-01\",\"location\":{\"admin1\":\"AF01\"},"
    " \"tactic\":\"ground_engagement\",\"casualties\":[{\"outcome\":\"killed\",\"count\":2}]}";

static const char *const FULL =
    "{\"occurred_on\":\"2024-02-29\",\"date_precision\":\"week\",\"time_of_day\":\"09:05\","
    " \"location\":{\"admin1\":\"AF27\",\"admin2\":\"AF2701\",\"place\":\"Bazaar\","
    "               \"lat\":31.61,\"lon\":65.71,\"precision\":\"near\"},"
    " \"tactic\":\"ied_suicide\",\"weapon\":\"heavy_explosive\",\"perpetrator\":\"taliban\","
    " \"casualties\":[{\"outcome\":\"killed\",\"sex\":\"male\",\"age_group\":\"adult\",\"count\":1,"
    "                  \"age\":34,\"name\":\"A. Person\"},"
    "                 "
    "{\"outcome\":\"killed\",\"sex\":\"female\",\"age_group\":\"child\",\"count\":3},"
    "                 {\"outcome\":\"injured\",\"count\":7}],"
    " \"sources\":[{\"type\":\"victim\",\"reference\":\"interview 12\"},"
    "              {\"type\":\"medical\",\"reference\":null},{\"type\":\"victim\"},"
    "              {\"type\":\"media\",\"reference\":\"https://example.org/a\"}],"
    " \"narrative\":\"Text\",\"external_ref\":\"KDH-2024-17\"}";

/* FULL as incident_document() must give it: every default filled in. */
static const char *const FULL_DOCUMENT =
    "{\"occurred_on\":\"2024-02-29\",\"date_precision\":\"week\",\"time_of_day\":\"09:05\","
    " \"location\":{\"admin1\":\"AF27\",\"admin2\":\"AF2701\",\"place\":\"Bazaar\","
    "               \"lat\":31.61,\"lon\":65.71,\"precision\":\"near\"},"
    " \"tactic\":\"ied_suicide\",\"weapon\":\"heavy_explosive\",\"perpetrator\":\"taliban\","
    " \"attribution\":\"unknown\",\"impacts\":[],\"abducted\":[],"
    " \"casualties\":[{\"outcome\":\"killed\",\"sex\":\"male\",\"age_group\":\"adult\",\"count\":1,"
    "                  \"count_min\":null,\"count_max\":null,\"role\":null,"
    "                  \"age\":34,\"name\":\"A. Person\"},"
    "                 "
    "{\"outcome\":\"killed\",\"sex\":\"female\",\"age_group\":\"child\",\"count\":3,"
    "                  \"count_min\":null,\"count_max\":null,\"role\":null,"
    "                  \"age\":null,\"name\":null},"
    "                 {\"outcome\":\"injured\",\"sex\":\"unknown\",\"age_group\":\"unknown\","
    "                  \"count\":7,\"count_min\":null,\"count_max\":null,\"role\":null,"
    "                  \"age\":null,\"name\":null}],"
    " \"sources\":[{\"type\":\"victim\",\"reference\":\"interview 12\"},"
    "              "
    "{\"type\":\"medical\",\"reference\":null},{\"type\":\"victim\",\"reference\":null},"
    "              {\"type\":\"media\",\"reference\":\"https://example.org/a\"}],"
    " \"narrative\":\"Text\",\"external_ref\":\"KDH-2024-17\"}";

static const char *const MINIMAL_DOCUMENT =
    "{\"occurred_on\":\"2024-05-01\",\"date_precision\":\"day\",\"time_of_day\":null,"
    " \"location\":{\"admin1\":\"AF01\",\"admin2\":null,\"place\":null,\"lat\":null,\"lon\":null,"
    "               \"precision\":null},"
    " \"tactic\":\"ground_engagement\",\"weapon\":\"unknown\",\"perpetrator\":\"unknown\","
    " \"attribution\":\"unknown\",\"impacts\":[],\"abducted\":[],"
    " \"casualties\":[{\"outcome\":\"killed\",\"sex\":\"unknown\",\"age_group\":\"unknown\","
    "                  \"count\":2,\"count_min\":null,\"count_max\":null,\"role\":null,"
    "                  \"age\":null,\"name\":null}],"
    " \"sources\":[],\"narrative\":null,\"external_ref\":null}";

/* json_decref of every argument (NULL ones included, as json_decref allows). */
#define DECREF_ALL(...)                                                                            \
    decref_array((json_t *[]){__VA_ARGS__}, sizeof((json_t *[]){__VA_ARGS__}) / sizeof(json_t *))

static void decref_array(json_t *const *values, size_t n)
{
    for (size_t i = 0; i < n; i++)
        json_decref(values[i]);
}

static json_t *loads(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    ck_assert_msg(v != NULL, "test JSON does not parse: %s: %s", jerr.text, text);
    return v;
}

/* A new string of n copies of unit. */
static json_t *repeated(const char *unit, size_t n)
{
    size_t len = strlen(unit);
    char *s = xmalloc(len * n + 1);
    for (size_t i = 0; i < n; i++)
        memcpy(s + i * len, unit, len);
    s[len * n] = '\0';
    json_t *v = json_string(s);
    free(s);
    ck_assert_ptr_nonnull(v);
    return v;
}

/* A value spec: JSON text, or "@N*unit" for a string of N copies of unit. */
static json_t *value_of(const char *spec)
{
    if (spec[0] == '@') {
        char *star;
        size_t n = strtoul(spec + 1, &star, 10);
        ck_assert_int_eq(*star, '*');
        return repeated(star + 1, n);
    }
    return loads(spec);
}

/* Sets (value non-NULL, stolen) or removes (NULL) the member at path,
 * e.g. "location.admin2", "casualties[1].age", "sources[2]". */
static void doc_set(json_t *doc, const char *path, json_t *value)
{
    json_t *cur = doc;
    const char *p = path;
    for (;;) {
        size_t n = strcspn(p, ".[");
        if (n > 0) {
            char key[64];
            ck_assert_uint_lt(n, sizeof key);
            memcpy(key, p, n);
            key[n] = '\0';
            p += n;
            ck_assert_msg(json_is_object(cur), "%s: not an object at %s", path, key);
            if (*p == '\0') {
                if (value)
                    json_object_set_new(cur, key, value);
                else
                    json_object_del(cur, key);
                return;
            }
            cur = json_object_get(cur, key);
        }
        while (*p == '[') {
            char *end;
            size_t index = strtoul(p + 1, &end, 10);
            ck_assert_int_eq(*end, ']');
            p = end + 1;
            ck_assert_msg(json_is_array(cur), "%s: not an array", path);
            if (*p == '\0') {
                if (!value)
                    json_array_remove(cur, index);
                else if (index == json_array_size(cur))
                    json_array_append_new(cur, value);
                else
                    json_array_set_new(cur, index, value);
                return;
            }
            cur = json_array_get(cur, index);
        }
        if (*p == '.')
            p++;
        ck_assert_msg(cur != NULL, "%s: no such member", path);
    }
}

/* base with up to two edits (path NULL = none; value NULL = remove). */
struct edit {
    const char *path, *value;
};

static json_t *edited(const char *base, const struct edit *edits, size_t n)
{
    json_t *doc = loads(base);
    for (size_t i = 0; i < n; i++)
        if (edits[i].path)
            doc_set(doc, edits[i].path, edits[i].value ? value_of(edits[i].value) : NULL);
    return doc;
}

/* Validates doc (stolen) and expects success; inc must be freed. */
static void accept_doc(json_t *doc, struct incident *inc, const char *what)
{
    struct api_error e;
    memset(&e, 0, sizeof e);
    bool ok = incident_from_json(doc, &tx, inc, &e);
    ck_assert_msg(ok, "%s refused: %s %s: %s", what, e.code ? e.code : "-", e.field, e.message);
    json_decref(doc);
}

/* Validates doc (stolen) and expects the error code at field. */
static void reject_doc(json_t *doc, const char *code, const char *field, const char *what)
{
    struct api_error e;
    struct incident inc;
    memset(&e, 0, sizeof e);
    bool ok = incident_from_json(doc, &tx, &inc, &e);
    incident_free(&inc);
    json_decref(doc);
    ck_assert_msg(!ok, "%s accepted", what);
    ck_assert_msg(e.code && strcmp(e.code, code) == 0 && strcmp(e.field, field) == 0,
                  "%s: expected %s at \"%s\", got %s at \"%s\" (%s)", what, code, field,
                  e.code ? e.code : "-", e.field, e.message);
    ck_assert_int_eq(e.status, 400);
    ck_assert(e.message[0] != '\0');
    ck_assert_int_eq(incident_error_is_unknown_code(&e), strcmp(code, ERR_UNKNOWN_CODE) == 0);
}

static struct incident from_text(const char *text)
{
    struct incident inc;
    accept_doc(loads(text), &inc, text);
    return inc;
}

/* ---- the taxonomy fixture itself ---- */

static void check_sorted(const struct tx_list *l, const char *name)
{
    for (size_t i = 1; i < l->n; i++)
        ck_assert_msg(strcmp(l->items[i - 1].code, l->items[i].code) < 0, "%s not sorted at %s",
                      name, l->items[i].code);
    for (size_t i = 0; i < l->n; i++)
        ck_assert_ptr_eq(taxonomy_find(l, l->items[i].code), &l->items[i]);
}

START_TEST(fixture_taxonomy_sorted)
{
    check_sorted(&tx.party_groups, "party_groups");
    check_sorted(&tx.parties, "parties");
    check_sorted(&tx.tactics, "tactics");
    check_sorted(&tx.weapons, "weapons");
    check_sorted(&tx.source_types, "source_types");
    check_sorted(&tx.regions, "regions");
    check_sorted(&tx.areas, "areas");
    check_sorted(&tx.impacts, "impacts");
    check_sorted(&tx.attributions, "attributions");
    check_sorted(&tx.roles, "roles");
    ck_assert_ptr_null(taxonomy_find(&tx.roles, TAXONOMY_NO_ROLE));
    ck_assert_ptr_null(taxonomy_find(&tx.areas, "AF99"));
    ck_assert_ptr_null(taxonomy_find(&tx.tactics, ""));
}
END_TEST

/* ---- valid documents ---- */

START_TEST(valid_minimal_defaults)
{
    struct incident inc = from_text(MINIMAL);
    ck_assert_int_eq(inc.occurred_on, days_from_civil(2024, 5, 1));
    ck_assert_str_eq(inc.date_precision, "day");
    ck_assert_int_eq(inc.time_of_day, -1);
    ck_assert_str_eq(inc.admin1, "AF01");
    ck_assert_ptr_null(inc.admin2);
    ck_assert_ptr_null(inc.place);
    ck_assert(!inc.has_coords);
    ck_assert_ptr_null(inc.location_precision);
    ck_assert_str_eq(inc.tactic, "ground_engagement");
    ck_assert_str_eq(inc.weapon, "unknown");
    ck_assert_str_eq(inc.perpetrator, "unknown");
    ck_assert_str_eq(inc.party_group, "other");
    ck_assert_uint_eq(inc.ncasualties, 1);
    ck_assert_str_eq(inc.casualties[0].outcome, "killed");
    ck_assert_str_eq(inc.casualties[0].sex, "unknown");
    ck_assert_str_eq(inc.casualties[0].age_group, "unknown");
    ck_assert_int_eq(inc.casualties[0].count, 2);
    ck_assert_int_eq(inc.casualties[0].age, -1);
    ck_assert_ptr_null(inc.casualties[0].name);
    ck_assert_uint_eq(inc.nsources, 0);
    ck_assert_ptr_null(inc.narrative);
    ck_assert_ptr_null(inc.external_ref);
    /* Server fields are left for the store. */
    ck_assert_int_eq(inc.id, 0);
    ck_assert_int_eq(inc.duplicate_of, 0);
    ck_assert(!inc.verification_override);
    incident_free(&inc);
}
END_TEST

START_TEST(valid_null_means_default)
{
    static const struct edit nulls[] = {
        {"date_precision", "null"}, {"time_of_day", "null"}, {"weapon", "null"},
        {"perpetrator", "null"},    {"sources", "null"},     {"narrative", "null"},
        {"external_ref", "null"},
    };
    json_t *doc = edited(MINIMAL, nulls, sizeof nulls / sizeof nulls[0]);
    static const struct edit nulls2[] = {
        {"location.admin2", "null"},
        {"location.place", "null"},
        {"location.lat", "null"},
        {"location.lon", "null"},
        {"location.precision", "null"},
        {"casualties[0].sex", "null"},
        {"casualties[0].age_group", "null"},
        {"casualties[0].age", "null"},
        {"casualties[0].name", "null"},
    };
    for (size_t i = 0; i < sizeof nulls2 / sizeof nulls2[0]; i++)
        doc_set(doc, nulls2[i].path, loads(nulls2[i].value));
    struct incident inc;
    accept_doc(doc, &inc, "all nulls");
    json_t *got = incident_document(&inc);
    json_t *want = loads(MINIMAL_DOCUMENT);
    ck_assert_msg(json_equal(got, want), "nulls do not give the defaults");
    ck_assert_str_eq(inc.party_group, "other");
    DECREF_ALL(got, want);
    incident_free(&inc);
}
END_TEST

START_TEST(valid_full)
{
    struct incident inc = from_text(FULL);
    ck_assert_int_eq(inc.occurred_on, days_from_civil(2024, 2, 29));
    ck_assert_str_eq(inc.date_precision, "week");
    ck_assert_int_eq(inc.time_of_day, 9 * 60 + 5);
    ck_assert_str_eq(inc.admin1, "AF27");
    ck_assert_str_eq(inc.admin2, "AF2701");
    ck_assert_str_eq(inc.place, "Bazaar");
    ck_assert(inc.has_coords);
    ck_assert_double_eq(inc.lat, 31.61);
    ck_assert_double_eq(inc.lon, 65.71);
    ck_assert_str_eq(inc.location_precision, "near");
    ck_assert_str_eq(inc.tactic, "ied_suicide");
    ck_assert_str_eq(inc.weapon, "heavy_explosive");
    ck_assert_str_eq(inc.perpetrator, "taliban");
    ck_assert_str_eq(inc.party_group, "age");
    ck_assert_uint_eq(inc.ncasualties, 3);
    ck_assert_str_eq(inc.casualties[0].sex, "male");
    ck_assert_str_eq(inc.casualties[0].age_group, "adult");
    ck_assert_int_eq(inc.casualties[0].age, 34);
    ck_assert_str_eq(inc.casualties[0].name, "A. Person");
    ck_assert_int_eq(inc.casualties[1].count, 3);
    ck_assert_int_eq(inc.casualties[1].age, -1);
    ck_assert_str_eq(inc.casualties[2].outcome, "injured");
    ck_assert_uint_eq(inc.nsources, 4);
    ck_assert_str_eq(inc.sources[0].type, "victim");
    ck_assert_str_eq(inc.sources[0].reference, "interview 12");
    ck_assert_ptr_null(inc.sources[1].reference);
    ck_assert_ptr_null(inc.sources[2].reference);
    ck_assert_str_eq(inc.sources[3].reference, "https://example.org/a");
    ck_assert_str_eq(inc.narrative, "Text");
    ck_assert_str_eq(inc.external_ref, "KDH-2024-17");
    /* Enumerations point at the static lists. */
    ck_assert_ptr_eq(inc.date_precision, incident_date_precisions[1]);
    ck_assert_ptr_eq(inc.location_precision, incident_location_precisions[1]);
    incident_free(&inc);
}
END_TEST

/* Documents that differ from BASE by up to two edits and must be accepted. */
static const struct valid_case {
    struct edit edits[2];
} valid_cases[] = {
    {{{"date_precision", "\"week\""}}},
    {{{"date_precision", "\"month\""}}},
    {{{"date_precision", "\"day\""}}},
    {{{"time_of_day", "\"00:00\""}}},
    {{{"time_of_day", "\"23:59\""}}},
    {{{"occurred_on", "\"1900-01-01\""}}},
    {{{"occurred_on", "\"2024-02-29\""}}},
    {{{"occurred_on", "\"2000-02-29\""}}},
    {{{"location.admin2", "null"}}},
    {{{"location.admin2", NULL}}},
    {{{"location.admin2", "\"AF0102\""}}},
    {{{"location.admin1", "\"AF27\""}, {"location.admin2", "\"AF2701\""}}},
    {{{"location.admin1", "\"AF27\""}, {"location.admin2", NULL}}},
    {{{"location.place", "@200*a"}}},
    {{{"location.place", "@200*\xc3\xa9"}}}, /* 200 characters, 400 bytes */
    {{{"location.place", "@200*\xf0\x9f\x98\x80"}}},
    {{{"location.lat", "90"}, {"location.lon", "180"}}},
    {{{"location.lat", "-90"}, {"location.lon", "-180"}}},
    {{{"location.lat", "0"}, {"location.lon", "0"}}},
    {{{"location.lat", "34.5553"}, {"location.lon", "69.2075"}}},
    {{{"location.lat", "null"}, {"location.lon", "null"}}},
    {{{"location.precision", "\"exact\""}}},
    {{{"location.precision", "\"near\""}}},
    {{{"location.precision", "\"admin2\""}}},
    {{{"location.precision", "\"admin1\""}}},
    {{{"tactic", "\"aerial_operation\""}}},
    {{{"weapon", "\"small_arms\""}}},
    {{{"weapon", "\"unknown\""}}},
    {{{"perpetrator", "\"ansf_army\""}}},
    {{{"perpetrator", "\"crossfire_age_pgf\""}}},
    {{{"casualties[0].count", "10000"}, {"casualties[1]", NULL}}},
    {{{"casualties[0].count", "1"}}},
    {{{"casualties[0].sex", "\"male\""}, {"casualties[0].age_group", "\"adult\""}}},
    {{{"casualties[1].age", "0"}}},
    {{{"casualties[1].age", "17"}}},
    {{{"casualties[1].age", "null"}}},
    {{{"casualties[1].age_group", "\"adult\""}, {"casualties[1].age", "18"}}},
    {{{"casualties[1].age_group", "\"adult\""}, {"casualties[1].age", "120"}}},
    {{{"casualties[1].name", "\"Name\""}}},
    {{{"casualties[1].name", "@200*\xd8\xb4"}}},
    {{{"casualties[1].name", "\"Name\""}, {"casualties[1].age", "9"}}},
    {{{"casualties[0].name", "null"}, {"casualties[0].age", "null"}}},
    {{{"casualties[1].sex", "\"unknown\""}, {"casualties[1].age_group", "\"unknown\""}}},
    {{{"sources", "[]"}}},
    {{{"sources", NULL}}},
    {{{"sources", "null"}}},
    {{{"sources[0].reference", "@500*r"}}},
    {{{"sources[0].reference", "null"}}},
    {{{"sources[1].type", "\"victim\""}}},
    {{{"narrative", "@20000*n"}}},
    {{{"narrative", "@20000*\xe2\x82\xac"}}},
    {{{"external_ref", "@100*x"}}},
    /* attribution: a code of its list; null is the default */
    {{{"attribution", "\"claimed\""}}},
    {{{"attribution", "\"unknown\""}}},
    {{{"attribution", "null"}}},
    /* impacts: distinct codes in any order; [] and null are none */
    {{{"impacts", "[]"}}},
    {{{"impacts", "null"}}},
    {{{"impacts", "[\"education\"]"}}},
    {{{"impacts", "[\"health_care\",\"education\"]"}}},
    /* ranges: 1 <= count_min <= count <= count_max <= 10000; null is none */
    {{{"casualties[0].count_min", "1"}}},
    {{{"casualties[0].count_min", "2"}, {"casualties[0].count_max", "2"}}},
    {{{"casualties[0].count_min", "1"}, {"casualties[0].count_max", "3"}}},
    {{{"casualties[0].count_min", "null"}, {"casualties[0].count_max", "null"}}},
    {{{"casualties[1].count_max", "9998"}}}, /* 2 + 9998: the cap exactly */
    {{{"casualties[0].count", "10000"}, {"casualties[1]", NULL}}},
    {{{"casualties[0].count_max", "10000"}, {"casualties[1]", NULL}}},
    /* role: a code of its list; null is none */
    {{{"casualties[0].role", "\"teacher\""}}},
    {{{"casualties[1].role", "\"journalist\""}, {"casualties[1].count_max", "4"}}},
    {{{"casualties[0].role", "null"}}},
    /* no casualties: allowed with an impact */
    {{{"casualties", "[]"}, {"impacts", "[\"education\"]"}}},
    {{{"casualties", NULL}, {"impacts", "[\"health_care\"]"}}},
    /* abducted: none is always allowed */
    {{{"abducted", "[]"}}},
    {{{"abducted", "null"}}},
    {{{"tactic", "\"abduction\""}, {"abducted", "[{\"count\":1}]"}}},
    {{{"tactic", "\"abduction\""}, {"abducted", "[]"}}},
};

START_TEST(valid_variants)
{
    const struct valid_case *c = &valid_cases[_i];
    char what[200];
    snprintf(what, sizeof what, "case %d (%s=%.40s)", _i, c->edits[0].path,
             c->edits[0].value ? c->edits[0].value : "(removed)");
    struct incident inc;
    accept_doc(edited(BASE, c->edits, 2), &inc, what);
    incident_free(&inc);
}
END_TEST

START_TEST(valid_edge_lengths_stored)
{
    static const struct edit e[] = {{"location.place", "@200*\xc3\xa9"},
                                    {"narrative", "@20000*\xe2\x82\xac"}};
    struct incident inc;
    accept_doc(edited(BASE, e, 2), &inc, "long strings");
    ck_assert_uint_eq(strlen(inc.place), 400);
    ck_assert_uint_eq(strlen(inc.narrative), 60000);
    incident_free(&inc);
}
END_TEST

START_TEST(valid_casualty_and_source_counts)
{
    /* 200 groups and 50 sources are the most allowed. */
    json_t *doc = loads(BASE);
    json_t *groups = json_array(), *sources = json_array();
    for (int i = 0; i < INCIDENT_MAX_CASUALTY_GROUPS; i++)
        json_array_append_new(groups, json_pack("{s:s, s:i}", "outcome",
                                                i % 2 ? "killed" : "injured", "count", i % 50 + 1));
    for (int i = 0; i < INCIDENT_MAX_SOURCES; i++)
        json_array_append_new(sources, json_pack("{s:s}", "type", i % 2 ? "media" : "witness"));
    json_object_set_new(doc, "casualties", groups);
    json_object_set_new(doc, "sources", sources);
    struct incident inc;
    accept_doc(doc, &inc, "200 groups, 50 sources");
    ck_assert_uint_eq(inc.ncasualties, 200);
    ck_assert_uint_eq(inc.nsources, 50);
    long killed, injured;
    int types;
    incident_totals(&inc, &killed, &injured, &types);
    ck_assert_int_eq(killed, 4 * 650);  /* 4 x (2+4+...+50) */
    ck_assert_int_eq(injured, 4 * 625); /* 4 x (1+3+...+49) */
    ck_assert_int_eq(types, 2);
    incident_free(&inc);
}
END_TEST

START_TEST(valid_today_not_future)
{
    /* Today in the earliest time zone (UTC+14) is not in the future; the day
     * after it is. */
    char date[11], quoted[16];
    long today = date_today_at_offset(14);
    date_format(today, date);
    snprintf(quoted, sizeof quoted, "\"%s\"", date);
    struct edit e[] = {{"occurred_on", quoted}};
    struct incident inc;
    accept_doc(edited(BASE, e, 1), &inc, "today at UTC+14");
    incident_free(&inc);

    date_format(today + 1, date);
    snprintf(quoted, sizeof quoted, "\"%s\"", date);
    reject_doc(edited(BASE, e, 1), ERR_INVALID_FIELD, "occurred_on", "tomorrow at UTC+14");
    date_format(today + 400, date);
    snprintf(quoted, sizeof quoted, "\"%s\"", date);
    reject_doc(edited(BASE, e, 1), ERR_INVALID_FIELD, "occurred_on", "next year");
    struct edit far[] = {{"occurred_on", "\"9999-12-31\""}};
    reject_doc(edited(BASE, far, 1), ERR_INVALID_FIELD, "occurred_on", "9999-12-31");
}
END_TEST

/* ---- every rule: edits of BASE and the exact error ---- */

static const struct rule_case {
    struct edit edits[2];
    const char *code, *field;
} rule_cases[] = {
    /* unknown members */
    {{{"id", "\"5\""}}, ERR_UNKNOWN_FIELD, "id"},
    {{{"status", "\"verified\""}}, ERR_UNKNOWN_FIELD, "status"},
    {{{"reason", "\"x\""}}, ERR_UNKNOWN_FIELD, "reason"},
    {{{"killed", "3"}}, ERR_UNKNOWN_FIELD, "killed"},
    {{{"Tactic", "\"ground_engagement\""}}, ERR_UNKNOWN_FIELD, "Tactic"},
    {{{"location.city", "\"x\""}}, ERR_UNKNOWN_FIELD, "location.city"},
    {{{"location.admin3", "null"}}, ERR_UNKNOWN_FIELD, "location.admin3"},
    {{{"casualties[1].names", "\"x\""}}, ERR_UNKNOWN_FIELD, "casualties[1].names"},
    {{{"casualties[0].killed", "1"}}, ERR_UNKNOWN_FIELD, "casualties[0].killed"},
    {{{"sources[1].url", "\"x\""}}, ERR_UNKNOWN_FIELD, "sources[1].url"},
    /* occurred_on */
    {{{"occurred_on", NULL}}, ERR_MISSING_FIELD, "occurred_on"},
    {{{"occurred_on", "null"}}, ERR_INVALID_FIELD, "occurred_on"},
    {{{"occurred_on", "20240501"}}, ERR_INVALID_FIELD, "occurred_on"},
    {{{"occurred_on", "\"\""}}, ERR_INVALID_FIELD, "occurred_on"},
    {{{"occurred_on", "\"2026-02-30\""}}, ERR_INVALID_FIELD, "occurred_on"},
    {{{"occurred_on", "\"2025-02-29\""}}, ERR_INVALID_FIELD, "occurred_on"},
    {{{"occurred_on", "\"2024-1-1\""}}, ERR_INVALID_FIELD, "occurred_on"},
    {{{"occurred_on", "\"2024-13-01\""}}, ERR_INVALID_FIELD, "occurred_on"},
    {{{"occurred_on", "\"01/05/2024\""}}, ERR_INVALID_FIELD, "occurred_on"},
    {{{"occurred_on", "\"2024-05-01T00:00:00Z\""}}, ERR_INVALID_FIELD, "occurred_on"},
    {{{"occurred_on", "\"2024-05-01 \""}}, ERR_INVALID_FIELD, "occurred_on"},
    {{{"occurred_on", "\"1899-12-31\""}}, ERR_INVALID_FIELD, "occurred_on"},
    {{{"occurred_on", "\"1000-01-01\""}}, ERR_INVALID_FIELD, "occurred_on"},
    {{{"occurred_on", "\"2024-05-01\\u0000\""}}, ERR_INVALID_FIELD, "occurred_on"},
    /* date_precision */
    {{{"date_precision", "\"year\""}}, ERR_INVALID_FIELD, "date_precision"},
    {{{"date_precision", "\"Day\""}}, ERR_INVALID_FIELD, "date_precision"},
    {{{"date_precision", "1"}}, ERR_INVALID_FIELD, "date_precision"},
    /* time_of_day */
    {{{"time_of_day", "\"24:00\""}}, ERR_INVALID_FIELD, "time_of_day"},
    {{{"time_of_day", "\"12:60\""}}, ERR_INVALID_FIELD, "time_of_day"},
    {{{"time_of_day", "\"9:30\""}}, ERR_INVALID_FIELD, "time_of_day"},
    {{{"time_of_day", "\"09:30:00\""}}, ERR_INVALID_FIELD, "time_of_day"},
    {{{"time_of_day", "\"0930\""}}, ERR_INVALID_FIELD, "time_of_day"},
    {{{"time_of_day", "\"\""}}, ERR_INVALID_FIELD, "time_of_day"},
    {{{"time_of_day", "930"}}, ERR_INVALID_FIELD, "time_of_day"},
    /* location */
    {{{"location", NULL}}, ERR_MISSING_FIELD, "location"},
    {{{"location", "null"}}, ERR_INVALID_FIELD, "location"},
    {{{"location", "\"AF01\""}}, ERR_INVALID_FIELD, "location"},
    {{{"location", "[]"}}, ERR_INVALID_FIELD, "location"},
    {{{"location.admin1", NULL}, {"location.admin2", NULL}}, ERR_MISSING_FIELD, "location.admin1"},
    {{{"location.admin1", "null"}}, ERR_INVALID_FIELD, "location.admin1"},
    {{{"location.admin1", "1"}}, ERR_INVALID_FIELD, "location.admin1"},
    {{{"location.admin1", "\"\""}}, ERR_INVALID_FIELD, "location.admin1"},
    {{{"location.admin1", "\"AF99\""}}, ERR_UNKNOWN_CODE, "location.admin1"},
    {{{"location.admin1", "\"af01\""}}, ERR_UNKNOWN_CODE, "location.admin1"},
    {{{"location.admin1", "\"AF0101\""}}, ERR_INVALID_FIELD, "location.admin1"},
    {{{"location.admin1", "\"AF\""}}, ERR_INVALID_FIELD, "location.admin1"},
    {{{"location.admin2", "\"AF2701\""}}, ERR_INVALID_FIELD, "location.admin2"},
    {{{"location.admin1", "\"AF27\""}}, ERR_INVALID_FIELD, "location.admin2"},
    {{{"location.admin2", "\"AF27\""}}, ERR_INVALID_FIELD, "location.admin2"},
    {{{"location.admin2", "\"AF01\""}}, ERR_INVALID_FIELD, "location.admin2"},
    {{{"location.admin2", "\"AF\""}}, ERR_INVALID_FIELD, "location.admin2"},
    {{{"location.admin2", "\"AF0199\""}}, ERR_UNKNOWN_CODE, "location.admin2"},
    {{{"location.admin2", "\"\""}}, ERR_INVALID_FIELD, "location.admin2"},
    {{{"location.admin2", "5"}}, ERR_INVALID_FIELD, "location.admin2"},
    {{{"location.place", "@201*a"}}, ERR_INVALID_FIELD, "location.place"},
    {{{"location.place", "@201*\xc3\xa9"}}, ERR_INVALID_FIELD, "location.place"},
    {{{"location.place", "5"}}, ERR_INVALID_FIELD, "location.place"},
    {{{"location.place", "\"a\\u0000b\""}}, ERR_INVALID_FIELD, "location.place"},
    {{{"location.lat", "10"}}, ERR_INVALID_FIELD, "location.lon"},
    {{{"location.lon", "10"}}, ERR_INVALID_FIELD, "location.lat"},
    {{{"location.lat", "10"}, {"location.lon", "null"}}, ERR_INVALID_FIELD, "location.lon"},
    {{{"location.lat", "null"}, {"location.lon", "10"}}, ERR_INVALID_FIELD, "location.lat"},
    {{{"location.lat", "90.5"}, {"location.lon", "0"}}, ERR_INVALID_FIELD, "location.lat"},
    {{{"location.lat", "-90.01"}, {"location.lon", "0"}}, ERR_INVALID_FIELD, "location.lat"},
    {{{"location.lat", "0"}, {"location.lon", "180.5"}}, ERR_INVALID_FIELD, "location.lon"},
    {{{"location.lat", "0"}, {"location.lon", "-181"}}, ERR_INVALID_FIELD, "location.lon"},
    {{{"location.lat", "\"34\""}, {"location.lon", "69"}}, ERR_INVALID_FIELD, "location.lat"},
    {{{"location.lat", "34"}, {"location.lon", "true"}}, ERR_INVALID_FIELD, "location.lon"},
    {{{"location.precision", "\"gps\""}}, ERR_INVALID_FIELD, "location.precision"},
    {{{"location.precision", "\"Exact\""}}, ERR_INVALID_FIELD, "location.precision"},
    {{{"location.precision", "1"}}, ERR_INVALID_FIELD, "location.precision"},
    /* tactic, weapon, perpetrator */
    {{{"tactic", NULL}}, ERR_MISSING_FIELD, "tactic"},
    {{{"tactic", "null"}}, ERR_INVALID_FIELD, "tactic"},
    {{{"tactic", "3"}}, ERR_INVALID_FIELD, "tactic"},
    {{{"tactic", "\"\""}}, ERR_INVALID_FIELD, "tactic"},
    {{{"tactic", "\"bombing\""}}, ERR_UNKNOWN_CODE, "tactic"},
    {{{"tactic", "\"Ground_engagement\""}}, ERR_UNKNOWN_CODE, "tactic"},
    {{{"tactic", "\"ground_engagement\\u0000\""}}, ERR_INVALID_FIELD, "tactic"},
    {{{"weapon", "\"laser\""}}, ERR_UNKNOWN_CODE, "weapon"},
    {{{"weapon", "\"ground_engagement\""}}, ERR_UNKNOWN_CODE, "weapon"},
    {{{"weapon", "1"}}, ERR_INVALID_FIELD, "weapon"},
    {{{"perpetrator", "\"nato\""}}, ERR_UNKNOWN_CODE, "perpetrator"},
    {{{"perpetrator", "\"age\""}}, ERR_UNKNOWN_CODE, "perpetrator"}, /* a group, not a party */
    {{{"perpetrator", "[]"}}, ERR_INVALID_FIELD, "perpetrator"},
    /* casualties */
    {{{"casualties", NULL}}, ERR_MISSING_FIELD, "casualties"},
    {{{"casualties", "null"}}, ERR_INVALID_FIELD, "casualties"},
    {{{"casualties", "[]"}}, ERR_INVALID_FIELD, "casualties"},
    {{{"casualties", "{}"}}, ERR_INVALID_FIELD, "casualties"},
    {{{"casualties", "\"x\""}}, ERR_INVALID_FIELD, "casualties"},
    {{{"casualties[1]", "5"}}, ERR_INVALID_FIELD, "casualties[1]"},
    {{{"casualties[1]", "null"}}, ERR_INVALID_FIELD, "casualties[1]"},
    {{{"casualties[1]", "[]"}}, ERR_INVALID_FIELD, "casualties[1]"},
    {{{"casualties[1].outcome", NULL}}, ERR_MISSING_FIELD, "casualties[1].outcome"},
    {{{"casualties[1].outcome", "null"}}, ERR_INVALID_FIELD, "casualties[1].outcome"},
    {{{"casualties[1].outcome", "\"wounded\""}}, ERR_INVALID_FIELD, "casualties[1].outcome"},
    {{{"casualties[0].outcome", "\"Killed\""}}, ERR_INVALID_FIELD, "casualties[0].outcome"},
    {{{"casualties[1].sex", "\"m\""}}, ERR_INVALID_FIELD, "casualties[1].sex"},
    {{{"casualties[1].sex", "1"}}, ERR_INVALID_FIELD, "casualties[1].sex"},
    {{{"casualties[1].age_group", "\"elderly\""}}, ERR_INVALID_FIELD, "casualties[1].age_group"},
    {{{"casualties[1].age_group", "\"Adult\""}}, ERR_INVALID_FIELD, "casualties[1].age_group"},
    {{{"casualties[0].count", NULL}}, ERR_MISSING_FIELD, "casualties[0].count"},
    {{{"casualties[0].count", "null"}}, ERR_INVALID_FIELD, "casualties[0].count"},
    {{{"casualties[0].count", "0"}}, ERR_INVALID_FIELD, "casualties[0].count"},
    {{{"casualties[0].count", "-1"}}, ERR_INVALID_FIELD, "casualties[0].count"},
    {{{"casualties[0].count", "10001"}}, ERR_INVALID_FIELD, "casualties[0].count"},
    {{{"casualties[0].count", "1.5"}}, ERR_INVALID_FIELD, "casualties[0].count"},
    {{{"casualties[0].count", "2.0"}}, ERR_INVALID_FIELD, "casualties[0].count"},
    {{{"casualties[0].count", "\"2\""}}, ERR_INVALID_FIELD, "casualties[0].count"},
    {{{"casualties[0].count", "true"}}, ERR_INVALID_FIELD, "casualties[0].count"},
    {{{"casualties[1].count", "9223372036854775807"}}, ERR_INVALID_FIELD, "casualties[1].count"},
    {{{"casualties[0].age", "30"}}, ERR_INVALID_FIELD, "casualties[0].age"},
    {{{"casualties[0].age_group", "\"adult\""}, {"casualties[0].age", "30"}},
     ERR_INVALID_FIELD,
     "casualties[0].age"},
    {{{"casualties[0].name", "\"x\""}}, ERR_INVALID_FIELD, "casualties[0].name"},
    {{{"casualties[1].age", "18"}}, ERR_INVALID_FIELD, "casualties[1].age"},
    {{{"casualties[1].age", "121"}}, ERR_INVALID_FIELD, "casualties[1].age"},
    {{{"casualties[1].age", "-1"}}, ERR_INVALID_FIELD, "casualties[1].age"},
    {{{"casualties[1].age", "5.5"}}, ERR_INVALID_FIELD, "casualties[1].age"},
    {{{"casualties[1].age", "\"5\""}}, ERR_INVALID_FIELD, "casualties[1].age"},
    {{{"casualties[1].age_group", "\"adult\""}, {"casualties[1].age", "17"}},
     ERR_INVALID_FIELD,
     "casualties[1].age"},
    {{{"casualties[1].age_group", "\"adult\""}, {"casualties[1].age", "121"}},
     ERR_INVALID_FIELD,
     "casualties[1].age"},
    {{{"casualties[1].age_group", "\"unknown\""}, {"casualties[1].age", "30"}},
     ERR_INVALID_FIELD,
     "casualties[1].age"},
    {{{"casualties[1].age_group", NULL}, {"casualties[1].age", "3"}},
     ERR_INVALID_FIELD,
     "casualties[1].age"},
    {{{"casualties[1].name", "@201*n"}}, ERR_INVALID_FIELD, "casualties[1].name"},
    {{{"casualties[1].name", "5"}}, ERR_INVALID_FIELD, "casualties[1].name"},
    {{{"casualties[1].name", "\"a\\u0000\""}}, ERR_INVALID_FIELD, "casualties[1].name"},
    {{{"casualties[1].count", "2"}, {"casualties[1].name", "\"x\""}},
     ERR_INVALID_FIELD,
     "casualties[1].name"},
    {{{"casualties[1].count", "2"}, {"casualties[1].age", "5"}},
     ERR_INVALID_FIELD,
     "casualties[1].age"},
    {{{"casualties[2]", "{\"outcome\":\"killed\",\"count\":1,\"sex\":\"x\"}"}},
     ERR_INVALID_FIELD,
     "casualties[2].sex"},
    /* sources */
    {{{"sources", "\"victim\""}}, ERR_INVALID_FIELD, "sources"},
    {{{"sources", "{}"}}, ERR_INVALID_FIELD, "sources"},
    {{{"sources[1]", "5"}}, ERR_INVALID_FIELD, "sources[1]"},
    {{{"sources[1]", "\"media\""}}, ERR_INVALID_FIELD, "sources[1]"},
    {{{"sources[1].type", NULL}}, ERR_MISSING_FIELD, "sources[1].type"},
    {{{"sources[1].type", "null"}}, ERR_INVALID_FIELD, "sources[1].type"},
    {{{"sources[1].type", "\"tv\""}}, ERR_UNKNOWN_CODE, "sources[1].type"},
    {{{"sources[1].type", "\"taliban\""}}, ERR_UNKNOWN_CODE, "sources[1].type"},
    {{{"sources[0].type", "1"}}, ERR_INVALID_FIELD, "sources[0].type"},
    {{{"sources[0].reference", "@501*r"}}, ERR_INVALID_FIELD, "sources[0].reference"},
    {{{"sources[0].reference", "5"}}, ERR_INVALID_FIELD, "sources[0].reference"},
    {{{"sources[2]", "{\"type\":\"media\",\"reference\":\"x\",\"extra\":1}"}},
     ERR_UNKNOWN_FIELD,
     "sources[2].extra"},
    /* narrative, external_ref */
    {{{"narrative", "@20001*n"}}, ERR_INVALID_FIELD, "narrative"},
    {{{"narrative", "@20001*\xe2\x82\xac"}}, ERR_INVALID_FIELD, "narrative"},
    {{{"narrative", "5"}}, ERR_INVALID_FIELD, "narrative"},
    {{{"narrative", "\"a\\u0000b\""}}, ERR_INVALID_FIELD, "narrative"},
    {{{"narrative", "{}"}}, ERR_INVALID_FIELD, "narrative"},
    {{{"external_ref", "@101*x"}}, ERR_INVALID_FIELD, "external_ref"},
    {{{"external_ref", "5"}}, ERR_INVALID_FIELD, "external_ref"},
    /* attribution */
    {{{"attribution", "\"alleged\""}}, ERR_UNKNOWN_CODE, "attribution"}, /* not in this list */
    {{{"attribution", "\"Claimed\""}}, ERR_UNKNOWN_CODE, "attribution"},
    {{{"attribution", "\"teacher\""}}, ERR_UNKNOWN_CODE, "attribution"},
    {{{"attribution", "\"\""}}, ERR_INVALID_FIELD, "attribution"},
    {{{"attribution", "1"}}, ERR_INVALID_FIELD, "attribution"},
    {{{"attribution", "true"}}, ERR_INVALID_FIELD, "attribution"},
    {{{"attribution", "[\"claimed\"]"}}, ERR_INVALID_FIELD, "attribution"},
    {{{"attribution", "@65*a"}}, ERR_INVALID_FIELD, "attribution"},
    {{{"attribution", "\"claimed\\u0000\""}}, ERR_INVALID_FIELD, "attribution"},
    /* impacts */
    {{{"impacts", "\"education\""}}, ERR_INVALID_FIELD, "impacts"},
    {{{"impacts", "{}"}}, ERR_INVALID_FIELD, "impacts"},
    {{{"impacts", "1"}}, ERR_INVALID_FIELD, "impacts"},
    {{{"impacts", "[\"media\"]"}}, ERR_UNKNOWN_CODE, "impacts[0]"},
    {{{"impacts", "[\"education\",\"schools\"]"}}, ERR_UNKNOWN_CODE, "impacts[1]"},
    {{{"impacts", "[\"Education\"]"}}, ERR_UNKNOWN_CODE, "impacts[0]"},
    {{{"impacts", "[\"education\",\"education\"]"}}, ERR_INVALID_FIELD, "impacts[1]"},
    {{{"impacts", "[\"health_care\",\"education\",\"health_care\"]"}},
     ERR_INVALID_FIELD,
     "impacts[2]"},
    {{{"impacts", "[1]"}}, ERR_INVALID_FIELD, "impacts[0]"},
    {{{"impacts", "[null]"}}, ERR_INVALID_FIELD, "impacts[0]"},
    {{{"impacts", "[true]"}}, ERR_INVALID_FIELD, "impacts[0]"},
    {{{"impacts", "[\"\"]"}}, ERR_INVALID_FIELD, "impacts[0]"},
    {{{"impacts", "[[\"education\"]]"}}, ERR_INVALID_FIELD, "impacts[0]"},
    {{{"impacts", "[\"education\",{\"code\":\"health_care\"}]"}}, ERR_INVALID_FIELD, "impacts[1]"},
    {{{"impacts", "[]"}, {"impacts[0]", "@65*e"}}, ERR_INVALID_FIELD, "impacts[0]"},
    /* count_min, count_max (casualties[0] has count 2, casualties[1] count 1) */
    {{{"casualties[0].count_min", "3"}}, ERR_INVALID_FIELD, "casualties[0].count_min"},
    {{{"casualties[1].count_min", "2"}, {"casualties[1].count_max", "5"}},
     ERR_INVALID_FIELD,
     "casualties[1].count_min"},
    {{{"casualties[0].count_max", "1"}}, ERR_INVALID_FIELD, "casualties[0].count_max"},
    {{{"casualties[0].count_min", "1"}, {"casualties[0].count_max", "1"}},
     ERR_INVALID_FIELD,
     "casualties[0].count_max"},
    {{{"casualties[0].count_min", "0"}}, ERR_INVALID_FIELD, "casualties[0].count_min"},
    {{{"casualties[0].count_min", "-1"}}, ERR_INVALID_FIELD, "casualties[0].count_min"},
    {{{"casualties[1].count_max", "0"}}, ERR_INVALID_FIELD, "casualties[1].count_max"},
    {{{"casualties[0].count_max", "10001"}}, ERR_INVALID_FIELD, "casualties[0].count_max"},
    {{{"casualties[0].count_min", "10001"}}, ERR_INVALID_FIELD, "casualties[0].count_min"},
    {{{"casualties[1].count_max", "9223372036854775807"}},
     ERR_INVALID_FIELD,
     "casualties[1].count_max"},
    {{{"casualties[0].count_min", "1.5"}}, ERR_INVALID_FIELD, "casualties[0].count_min"},
    {{{"casualties[0].count_min", "1.0"}}, ERR_INVALID_FIELD, "casualties[0].count_min"},
    {{{"casualties[0].count_min", "\"1\""}}, ERR_INVALID_FIELD, "casualties[0].count_min"},
    {{{"casualties[0].count_min", "true"}}, ERR_INVALID_FIELD, "casualties[0].count_min"},
    {{{"casualties[0].count_max", "2.5"}}, ERR_INVALID_FIELD, "casualties[0].count_max"},
    {{{"casualties[0].count_max", "\"3\""}}, ERR_INVALID_FIELD, "casualties[0].count_max"},
    {{{"casualties[0].count_max", "false"}}, ERR_INVALID_FIELD, "casualties[0].count_max"},
    {{{"casualties[0].count_max", "[3]"}}, ERR_INVALID_FIELD, "casualties[0].count_max"},
    /* role */
    {{{"casualties[0].role", "\"nurse\""}}, ERR_UNKNOWN_CODE, "casualties[0].role"},
    {{{"casualties[1].role", "\"none\""}}, ERR_UNKNOWN_CODE, "casualties[1].role"},
    {{{"casualties[0].role", "\"Teacher\""}}, ERR_UNKNOWN_CODE, "casualties[0].role"},
    {{{"casualties[0].role", "\"education\""}}, ERR_UNKNOWN_CODE, "casualties[0].role"},
    {{{"casualties[0].role", "\"\""}}, ERR_INVALID_FIELD, "casualties[0].role"},
    {{{"casualties[0].role", "1"}}, ERR_INVALID_FIELD, "casualties[0].role"},
    {{{"casualties[0].role", "[\"teacher\"]"}}, ERR_INVALID_FIELD, "casualties[0].role"},
    {{{"casualties[0].role", "@65*r"}}, ERR_INVALID_FIELD, "casualties[0].role"},
    {{{"casualties[0].role", "\"teacher\\u0000\""}}, ERR_INVALID_FIELD, "casualties[0].role"},
    /* unknown members beside the new ones */
    {{{"casualties[0].count_low", "1"}}, ERR_UNKNOWN_FIELD, "casualties[0].count_low"},
    {{{"casualties[1].roles", "[]"}}, ERR_UNKNOWN_FIELD, "casualties[1].roles"},
    {{{"impact", "[]"}}, ERR_UNKNOWN_FIELD, "impact"},
    {{{"abductions", "[]"}}, ERR_UNKNOWN_FIELD, "abductions"},
    /* no casualties without an impact or persons abducted */
    {{{"casualties", "[]"}, {"impacts", "[]"}}, ERR_INVALID_FIELD, "casualties"},
    {{{"casualties", "[]"}, {"abducted", "[]"}}, ERR_INVALID_FIELD, "casualties"},
    {{{"casualties", NULL}, {"impacts", "null"}}, ERR_MISSING_FIELD, "casualties"},
    {{{"casualties", NULL}, {"abducted", "[]"}}, ERR_MISSING_FIELD, "casualties"},
    /* an impact or abduction refused is no reason to skip casualties */
    {{{"casualties", "[]"}, {"impacts", "[\"media\"]"}}, ERR_UNKNOWN_CODE, "impacts[0]"},
    /* abducted: only with a tactic of abduction */
    {{{"abducted", "[{\"count\":1}]"}}, ERR_INVALID_FIELD, "abducted"},
    {{{"tactic", "\"ied_suicide\""}, {"abducted", "[{\"count\":1}]"}},
     ERR_INVALID_FIELD,
     "abducted"},
    /* abducted, with the tactic of abduction */
    {{{"tactic", "\"abduction\""}, {"abducted", "{}"}}, ERR_INVALID_FIELD, "abducted"},
    {{{"tactic", "\"abduction\""}, {"abducted", "5"}}, ERR_INVALID_FIELD, "abducted"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[1]"}}, ERR_INVALID_FIELD, "abducted[0]"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[null]"}}, ERR_INVALID_FIELD, "abducted[0]"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[{}]"}}, ERR_MISSING_FIELD, "abducted[0].count"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[{\"count\":0}]"}},
     ERR_INVALID_FIELD,
     "abducted[0].count"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[{\"count\":-3}]"}},
     ERR_INVALID_FIELD,
     "abducted[0].count"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[{\"count\":10001}]"}},
     ERR_INVALID_FIELD,
     "abducted[0].count"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[{\"count\":1.5}]"}},
     ERR_INVALID_FIELD,
     "abducted[0].count"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[{\"count\":\"2\"}]"}},
     ERR_INVALID_FIELD,
     "abducted[0].count"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[{\"count\":true}]"}},
     ERR_INVALID_FIELD,
     "abducted[0].count"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[{\"count\":null}]"}},
     ERR_INVALID_FIELD,
     "abducted[0].count"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[{\"count\":1,\"sex\":\"x\"}]"}},
     ERR_INVALID_FIELD,
     "abducted[0].sex"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[{\"count\":1,\"age_group\":\"teen\"}]"}},
     ERR_INVALID_FIELD,
     "abducted[0].age_group"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[{\"count\":1,\"name\":\"x\"}]"}},
     ERR_UNKNOWN_FIELD,
     "abducted[0].name"},
    {{{"tactic", "\"abduction\""}, {"abducted", "[{\"count\":1,\"outcome\":\"killed\"}]"}},
     ERR_UNKNOWN_FIELD,
     "abducted[0].outcome"},
    {{{"tactic", "\"abduction\""},
      {"abducted", "[{\"count\":1},{\"count\":2,\"sex\":"
                   "\"unknown\",\"age_group\":\"unknown\"}]"}},
     ERR_INVALID_FIELD,
     "abducted[1]"},
    {{{"tactic", "\"abduction\""},
      {"abducted", "[{\"sex\":\"male\",\"age_group\":\"adult\",\"count\":1},"
                   "{\"sex\":\"female\",\"count\":1},"
                   "{\"sex\":\"male\",\"age_group\":\"adult\",\"count\":3}]"}},
     ERR_INVALID_FIELD,
     "abducted[2]"},
    {{{"tactic", "\"abduction\""},
      {"abducted", "[{\"sex\":\"male\",\"count\":6000},"
                   "{\"sex\":\"female\",\"count\":4001}]"}},
     ERR_INVALID_FIELD,
     "abducted"},
};

START_TEST(rules)
{
    const struct rule_case *c = &rule_cases[_i];
    char what[240];
    snprintf(what, sizeof what, "case %d (%s=%.40s%s%s)", _i, c->edits[0].path,
             c->edits[0].value ? c->edits[0].value : "(removed)", c->edits[1].path ? ", " : "",
             c->edits[1].path ? c->edits[1].path : "");
    reject_doc(edited(BASE, c->edits, 2), c->code, c->field, what);
}
END_TEST

START_TEST(rule_group_and_source_limits)
{
    json_t *doc = loads(BASE);
    json_t *groups = json_array();
    for (int i = 0; i < INCIDENT_MAX_CASUALTY_GROUPS + 1; i++)
        json_array_append_new(groups, json_pack("{s:s, s:i}", "outcome", "killed", "count", 1));
    json_object_set_new(doc, "casualties", groups);
    reject_doc(doc, ERR_INVALID_FIELD, "casualties", "201 casualty groups");

    doc = loads(BASE);
    json_t *sources = json_array();
    for (int i = 0; i < INCIDENT_MAX_SOURCES + 1; i++)
        json_array_append_new(sources, json_pack("{s:s}", "type", "media"));
    json_object_set_new(doc, "sources", sources);
    reject_doc(doc, ERR_INVALID_FIELD, "sources", "51 sources");

    /* The error names the first bad group among many. */
    doc = loads(BASE);
    groups = json_array();
    for (int i = 0; i < 150; i++)
        json_array_append_new(groups, json_pack("{s:s, s:i}", "outcome", "killed", "count", 1));
    json_array_set_new(groups, 123, json_pack("{s:s, s:i}", "outcome", "killed", "count", 0));
    json_array_set_new(groups, 140, json_pack("{s:s, s:i}", "outcome", "dead", "count", 1));
    json_object_set_new(doc, "casualties", groups);
    reject_doc(doc, ERR_INVALID_FIELD, "casualties[123].count", "group 123 of 150");
}
END_TEST

START_TEST(rule_big_integer_count)
{
    /* An integer past 64 bits, through the strict parser, is named by its field. */
    static const char *const text =
        "{\"occurred_on\":\"2024-05-01\",\"location\":{\"admin1\":\"AF01\"},"
        "\"tactic\":\"ground_engagement\",\"casualties\":[{\"outcome\":\"killed\",\"count\":1},"
        "{\"outcome\":\"killed\",\"count\":123456789012345678901234567890}]}";
    json_t *doc = NULL;
    struct api_error e;
    ck_assert(json_parse_strict(text, strlen(text), &doc, &e));
    reject_doc(doc, ERR_INVALID_FIELD, "casualties[1].count", "count of 30 digits");
}
END_TEST

START_TEST(unknown_code_is_retryable)
{
    struct api_error e;
    memset(&e, 0, sizeof e);
    ck_assert(!incident_error_is_unknown_code(&e));
    api_error_set(&e, 400, ERR_UNKNOWN_CODE, "tactic", "x");
    ck_assert(incident_error_is_unknown_code(&e));
    err_invalid(&e, "tactic", "x");
    ck_assert(!incident_error_is_unknown_code(&e));
}
END_TEST

/* ---- totals ---- */

START_TEST(totals)
{
    struct incident inc = from_text(FULL);
    long killed = -1, injured = -1;
    int types = -1;
    incident_totals(&inc, &killed, &injured, &types);
    ck_assert_int_eq(killed, 4);
    ck_assert_int_eq(injured, 7);
    ck_assert_int_eq(types, 3); /* victim twice, medical, media */
    incident_free(&inc);

    inc = from_text(MINIMAL);
    incident_totals(&inc, &killed, &injured, &types);
    ck_assert_int_eq(killed, 2);
    ck_assert_int_eq(injured, 0);
    ck_assert_int_eq(types, 0);
    incident_free(&inc);

    inc = from_text(BASE);
    incident_totals(&inc, &killed, &injured, &types);
    ck_assert_int_eq(killed, 2);
    ck_assert_int_eq(injured, 1);
    ck_assert_int_eq(types, 2);
    incident_free(&inc);
}
END_TEST

START_TEST(totals_large)
{
    json_t *doc = loads(BASE);
    json_t *groups = json_array();
    for (int i = 0; i < INCIDENT_MAX_CASUALTY_GROUPS; i++)
        json_array_append_new(groups,
                              json_pack("{s:s, s:i}", "outcome", "killed", "count",
                                        INCIDENT_MAX_CASUALTIES / INCIDENT_MAX_CASUALTY_GROUPS));
    json_object_set_new(doc, "casualties", groups);
    struct incident inc;
    accept_doc(doc, &inc, "200 groups of 50");
    long killed, injured;
    int types;
    incident_totals(&inc, &killed, &injured, &types);
    ck_assert_int_eq(killed, INCIDENT_MAX_CASUALTIES);
    ck_assert_int_eq(injured, 0);
    incident_free(&inc);
}
END_TEST

/* ---- documents and views ---- */

/* FULL as stored: server fields filled in. */
static struct incident stored_full(void)
{
    struct incident inc = from_text(FULL);
    inc.id = 42;
    inc.version = 3;
    inc.status = "reported";
    inc.created_by = xstrdup("monitor-kandahar");
    snprintf(inc.created_at, sizeof inc.created_at, "2026-03-14T09:12:33.123456Z");
    snprintf(inc.updated_at, sizeof inc.updated_at, "2026-03-15T10:00:00.000001Z");
    return inc;
}

START_TEST(document_defaults_and_round_trip)
{
    struct incident inc = from_text(FULL);
    json_t *doc = incident_document(&inc);
    json_t *want = loads(FULL_DOCUMENT);
    char *got_text = json_dumps(doc, JSON_SORT_KEYS);
    ck_assert_msg(json_equal(doc, want), "document: %s", got_text);
    free(got_text);
    json_decref(want);

    /* The document validates to the same incident. */
    struct incident again;
    json_incref(doc);
    accept_doc(doc, &again, "document of FULL");
    json_t *doc2 = incident_document(&again);
    ck_assert(json_equal(doc, doc2));
    DECREF_ALL(doc2, doc);
    incident_free(&again);
    incident_free(&inc);

    inc = from_text(MINIMAL);
    doc = incident_document(&inc);
    want = loads(MINIMAL_DOCUMENT);
    ck_assert(json_equal(doc, want));
    /* Exactly the client fields, and only them. */
    ck_assert_uint_eq(json_object_size(doc), 14);
    ck_assert_ptr_null(json_object_get(doc, "id"));
    ck_assert_ptr_null(json_object_get(doc, "status"));
    DECREF_ALL(want, doc);
    incident_free(&inc);
}
END_TEST

START_TEST(document_time_and_date_format)
{
    static const struct edit e[] = {{"time_of_day", "\"00:07\""},
                                    {"occurred_on", "\"1900-01-01\""}};
    struct incident inc;
    accept_doc(edited(BASE, e, 2), &inc, "early");
    json_t *doc = incident_document(&inc);
    ck_assert_str_eq(json_string_value(json_object_get(doc, "time_of_day")), "00:07");
    ck_assert_str_eq(json_string_value(json_object_get(doc, "occurred_on")), "1900-01-01");
    json_decref(doc);
    incident_free(&inc);
}
END_TEST

static void assert_keys(json_t *obj, const char *const *keys, const char *what)
{
    size_t n = 0;
    for (; keys[n]; n++)
        ck_assert_msg(json_object_get(obj, keys[n]) != NULL, "%s lacks %s", what, keys[n]);
    ck_assert_msg(json_object_size(obj) == n, "%s has %zu members, expected %zu", what,
                  json_object_size(obj), n);
}

static const char *const RESPONSE_KEYS[] = {
    "id",           "version",    "status",       "duplicate_of", "occurred_on", "date_precision",
    "time_of_day",  "location",   "tactic",       "weapon",       "perpetrator", "attribution",
    "impacts",      "casualties", "abducted",     "sources",      "narrative",   "external_ref",
    "party_group",  "killed",     "injured",      "verification", "created_at",  "updated_at",
    "created_by",   NULL};
/* Without VIEW_DETAIL: no time of day, external reference or key name. */
static const char *const ANALYST_KEYS[] = {"id",          "version",    "status",
                                           "duplicate_of", "occurred_on", "date_precision",
                                           "location",    "tactic",     "weapon",
                                           "perpetrator", "attribution", "impacts",
                                           "casualties",  "abducted",   "sources",
                                           "party_group", "killed",     "injured",
                                           "verification", "created_at", "updated_at",
                                           NULL};

START_TEST(view_all)
{
    struct incident inc = stored_full();
    json_t *out = incident_to_json(&inc, VIEW_ALL, 3);
    assert_keys(out, RESPONSE_KEYS, "reviewer view");
    ck_assert_str_eq(json_string_value(json_object_get(out, "id")), "42");
    ck_assert_int_eq(json_integer_value(json_object_get(out, "version")), 3);
    ck_assert_str_eq(json_string_value(json_object_get(out, "status")), "reported");
    ck_assert(json_is_null(json_object_get(out, "duplicate_of")));
    ck_assert_str_eq(json_string_value(json_object_get(out, "party_group")), "age");
    ck_assert_int_eq(json_integer_value(json_object_get(out, "killed")), 4);
    ck_assert_int_eq(json_integer_value(json_object_get(out, "injured")), 7);
    ck_assert_str_eq(json_string_value(json_object_get(out, "created_by")), "monitor-kandahar");
    ck_assert_str_eq(json_string_value(json_object_get(out, "created_at")),
                     "2026-03-14T09:12:33.123456Z");
    ck_assert_str_eq(json_string_value(json_object_get(out, "updated_at")),
                     "2026-03-15T10:00:00.000001Z");
    json_t *v = json_object_get(out, "verification");
    static const char *const vkeys[] = {"source_types", "required", "meets_standard", "override",
                                        NULL};
    assert_keys(v, vkeys, "verification");
    ck_assert_int_eq(json_integer_value(json_object_get(v, "source_types")), 3);
    ck_assert_int_eq(json_integer_value(json_object_get(v, "required")), 3);
    ck_assert(json_is_true(json_object_get(v, "meets_standard")));
    ck_assert(json_is_false(json_object_get(v, "override")));

    ck_assert_str_eq(json_string_value(json_object_get(out, "narrative")), "Text");
    json_t *s0 = json_array_get(json_object_get(out, "sources"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(s0, "reference")), "interview 12");
    json_t *s1 = json_array_get(json_object_get(out, "sources"), 1);
    ck_assert(json_is_null(json_object_get(s1, "reference")));
    json_t *c0 = json_array_get(json_object_get(out, "casualties"), 0);
    ck_assert_str_eq(json_string_value(json_object_get(c0, "name")), "A. Person");
    ck_assert_int_eq(json_integer_value(json_object_get(c0, "age")), 34);
    json_t *c1 = json_array_get(json_object_get(out, "casualties"), 1);
    ck_assert(json_is_null(json_object_get(c1, "name")));
    ck_assert(json_is_null(json_object_get(c1, "age")));

    /* The client fields are the document. */
    json_t *doc = incident_document(&inc);
    const char *key;
    json_t *value;
    json_object_foreach(doc, key, value)
        ck_assert_msg(json_equal(value, json_object_get(out, key)), "%s differs", key);
    DECREF_ALL(doc, out);

    /* Standard not met; override shown; duplicate_of as a string id. */
    inc.verification_override = true;
    inc.duplicate_of = 7;
    inc.status = "duplicate";
    out = incident_to_json(&inc, VIEW_ALL, 4);
    v = json_object_get(out, "verification");
    ck_assert_int_eq(json_integer_value(json_object_get(v, "required")), 4);
    ck_assert(json_is_false(json_object_get(v, "meets_standard")));
    ck_assert(json_is_true(json_object_get(v, "override")));
    ck_assert_str_eq(json_string_value(json_object_get(out, "duplicate_of")), "7");
    ck_assert_str_eq(json_string_value(json_object_get(out, "status")), "duplicate");
    json_decref(out);
    incident_free(&inc);
}
END_TEST

/* What a reader without view may not see is absent, everything else stays. */
static void assert_redacted(json_t *out, unsigned view, const char *what)
{
    bool confidential = view & VIEW_CONFIDENTIAL, personal = view & VIEW_PERSONAL;
    bool detail = view & VIEW_DETAIL;
    ck_assert_msg((json_object_get(out, "narrative") != NULL) == confidential, "%s narrative",
                  what);
    static const char *const details[] = {"external_ref", "time_of_day"};
    for (size_t d = 0; d < sizeof details / sizeof details[0]; d++)
        ck_assert_msg((json_object_get(out, details[d]) != NULL) == detail, "%s %s", what,
                      details[d]);
    json_t *loc = json_object_get(out, "location");
    ck_assert_ptr_nonnull(json_object_get(loc, "admin1"));
    ck_assert_ptr_nonnull(json_object_get(loc, "admin2"));
    static const char *const exact[] = {"place", "lat", "lon", "precision"};
    for (size_t d = 0; d < sizeof exact / sizeof exact[0]; d++)
        ck_assert_msg((json_object_get(loc, exact[d]) != NULL) == detail, "%s location.%s", what,
                      exact[d]);
    size_t i;
    json_t *item;
    json_array_foreach(json_object_get(out, "sources"), i, item)
    {
        ck_assert_ptr_nonnull(json_object_get(item, "type"));
        ck_assert_msg((json_object_get(item, "reference") != NULL) == confidential,
                      "%s sources[%zu].reference", what, i);
    }
    json_array_foreach(json_object_get(out, "casualties"), i, item)
    {
        ck_assert_ptr_nonnull(json_object_get(item, "outcome"));
        ck_assert_ptr_nonnull(json_object_get(item, "sex"));
        ck_assert_ptr_nonnull(json_object_get(item, "age_group"));
        ck_assert_ptr_nonnull(json_object_get(item, "count"));
        ck_assert_msg((json_object_get(item, "name") != NULL) == personal,
                      "%s casualties[%zu].name", what, i);
        ck_assert_msg((json_object_get(item, "age") != NULL) == personal, "%s casualties[%zu].age",
                      what, i);
    }
}

START_TEST(view_analyst)
{
    struct incident inc = stored_full();
    json_t *out = incident_to_json(&inc, 0, 3);
    assert_keys(out, ANALYST_KEYS, "analyst view");
    assert_redacted(out, 0, "analyst");
    /* Nothing of the restricted values leaks anywhere in the body. */
    char *text = json_dumps(out, 0);
    ck_assert_ptr_null(strstr(text, "A. Person"));
    ck_assert_ptr_null(strstr(text, "interview 12"));
    ck_assert_ptr_null(strstr(text, "example.org"));
    ck_assert_ptr_null(strstr(text, "Text"));
    ck_assert_ptr_null(strstr(text, "34,"));
    free(text);
    /* Totals still count every group. */
    ck_assert_int_eq(json_integer_value(json_object_get(out, "killed")), 4);
    ck_assert_int_eq(json_array_size(json_object_get(out, "sources")), 4);
    json_decref(out);
    incident_free(&inc);
}
END_TEST

START_TEST(view_monitor_and_personal)
{
    struct incident inc = stored_full();
    /* The creating monitor: confidential and detail but not personal. */
    json_t *out = incident_to_json(&inc, VIEW_CONFIDENTIAL | VIEW_DETAIL, 3);
    assert_keys(out, RESPONSE_KEYS, "monitor view");
    assert_redacted(out, VIEW_CONFIDENTIAL | VIEW_DETAIL, "monitor");
    ck_assert_str_eq(json_string_value(json_object_get(out, "narrative")), "Text");
    json_decref(out);
    out = incident_to_json(&inc, VIEW_PERSONAL, 3);
    assert_keys(out, ANALYST_KEYS, "personal-only view");
    assert_redacted(out, VIEW_PERSONAL, "personal");
    json_decref(out);
    out = incident_to_json(&inc, VIEW_ALL, 3);
    assert_redacted(out, VIEW_ALL, "all");
    json_decref(out);
    incident_free(&inc);
}
END_TEST

START_TEST(view_null_versus_absent)
{
    /* Not recorded: null for a reader who may see it, absent for one who may not. */
    struct incident inc = from_text(MINIMAL);
    inc.id = 1;
    inc.version = 1;
    inc.status = "reported";
    json_t *out = incident_to_json(&inc, VIEW_ALL, 3);
    ck_assert(json_is_null(json_object_get(out, "narrative")));
    ck_assert(json_is_null(json_object_get(out, "external_ref")));
    ck_assert(json_is_null(json_object_get(out, "time_of_day")));
    ck_assert(json_is_null(json_object_get(out, "duplicate_of")));
    ck_assert(json_is_null(json_object_get(out, "created_by")));
    json_t *loc = json_object_get(out, "location");
    ck_assert(json_is_null(json_object_get(loc, "admin2")));
    ck_assert(json_is_null(json_object_get(loc, "place")));
    ck_assert(json_is_null(json_object_get(loc, "lat")));
    ck_assert(json_is_null(json_object_get(loc, "lon")));
    ck_assert(json_is_null(json_object_get(loc, "precision")));
    json_t *c0 = json_array_get(json_object_get(out, "casualties"), 0);
    ck_assert(json_is_null(json_object_get(c0, "name")));
    ck_assert(json_is_null(json_object_get(c0, "age")));
    ck_assert_int_eq(json_array_size(json_object_get(out, "sources")), 0);
    ck_assert_str_eq(json_string_value(json_object_get(out, "party_group")), "other");
    json_t *v = json_object_get(out, "verification");
    ck_assert_int_eq(json_integer_value(json_object_get(v, "source_types")), 0);
    ck_assert(json_is_false(json_object_get(v, "meets_standard")));
    json_decref(out);

    out = incident_to_json(&inc, 0, 3);
    ck_assert_ptr_null(json_object_get(out, "narrative"));
    ck_assert_ptr_null(json_object_get(out, "external_ref"));
    ck_assert_ptr_null(json_object_get(out, "created_by"));
    ck_assert(json_is_null(json_object_get(json_object_get(out, "location"), "admin2")));
    c0 = json_array_get(json_object_get(out, "casualties"), 0);
    ck_assert_ptr_null(json_object_get(c0, "name"));
    ck_assert_ptr_null(json_object_get(c0, "age"));
    json_decref(out);
    incident_free(&inc);
}
END_TEST

START_TEST(redact_document_and_changes)
{
    struct incident inc = from_text(FULL);
    json_t *doc = incident_document(&inc);
    incident_redact(doc, 0);
    assert_redacted(doc, 0, "redacted document");
    ck_assert_uint_eq(json_object_size(doc), 11);
    json_decref(doc);
    doc = incident_document(&inc);
    incident_redact(doc, VIEW_ALL);
    json_t *full = incident_document(&inc);
    ck_assert(json_equal(doc, full));
    DECREF_ALL(full, doc);

    /* A change list: restricted fields keep their names, lose their values.
     * Redaction works in place and must not reach back into the documents
     * the list was made from. */
    json_t *empty = json_object();
    doc = incident_document(&inc);
    json_t *changes = incident_diff(empty, doc);
    incident_redact_changes(changes, 0);
    json_t *narrative = json_object_get(changes, "narrative");
    ck_assert_ptr_nonnull(narrative);
    ck_assert_ptr_null(json_object_get(narrative, "from"));
    ck_assert_ptr_null(json_object_get(narrative, "to"));
    json_t *to_sources = json_object_get(json_object_get(changes, "sources"), "to");
    ck_assert_int_eq(json_array_size(to_sources), 4);
    ck_assert_ptr_null(json_object_get(json_array_get(to_sources, 0), "reference"));
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(to_sources, 0), "type")),
                     "victim");
    json_t *to_groups = json_object_get(json_object_get(changes, "casualties"), "to");
    ck_assert_ptr_null(json_object_get(json_array_get(to_groups, 0), "name"));
    ck_assert_ptr_null(json_object_get(json_array_get(to_groups, 0), "age"));
    ck_assert_ptr_nonnull(json_object_get(json_array_get(to_groups, 0), "count"));
    ck_assert_str_eq(json_string_value(json_object_get(json_object_get(changes, "tactic"), "to")),
                     "ied_suicide");
    /* Detail fields keep their names, lose their values; a location keeps
     * admin1 and admin2 only. */
    json_t *ext = json_object_get(changes, "external_ref");
    ck_assert_ptr_nonnull(ext);
    ck_assert_ptr_null(json_object_get(ext, "to"));
    json_t *loc_to = json_object_get(json_object_get(changes, "location"), "to");
    ck_assert_ptr_nonnull(json_object_get(loc_to, "admin1"));
    ck_assert_ptr_null(json_object_get(loc_to, "place"));
    ck_assert_ptr_null(json_object_get(loc_to, "lat"));
    char *text = json_dumps(changes, 0);
    ck_assert_ptr_null(strstr(text, "A. Person"));
    ck_assert_ptr_null(strstr(text, "interview 12"));
    ck_assert_ptr_null(strstr(text, "\"Text\""));
    free(text);
    json_decref(changes);

    /* A monitor: sources and narrative stay, names and ages go. */
    changes = incident_diff(empty, doc);
    incident_redact_changes(changes, VIEW_CONFIDENTIAL | VIEW_DETAIL);
    ck_assert_str_eq(
        json_string_value(json_object_get(json_object_get(changes, "narrative"), "to")), "Text");
    to_sources = json_object_get(json_object_get(changes, "sources"), "to");
    ck_assert_str_eq(json_string_value(json_object_get(json_array_get(to_sources, 0), "reference")),
                     "interview 12");
    to_groups = json_object_get(json_object_get(changes, "casualties"), "to");
    ck_assert_ptr_null(json_object_get(json_array_get(to_groups, 0), "name"));
    json_decref(changes);

    /* A reviewer sees it all. */
    changes = incident_diff(empty, doc);
    json_t *copy = json_deep_copy(changes);
    incident_redact_changes(changes, VIEW_ALL);
    ck_assert(json_equal(changes, copy));
    DECREF_ALL(copy, changes);

    /* Both sides of an amendment are redacted. */
    json_t *after = json_deep_copy(doc);
    json_object_set_new(json_array_get(json_object_get(after, "casualties"), 0), "name",
                        json_string("B. Person"));
    json_object_set_new(after, "narrative", json_string("Other"));
    changes = incident_diff(doc, after);
    incident_redact_changes(changes, 0);
    text = json_dumps(changes, 0);
    ck_assert_ptr_null(strstr(text, "Person"));
    ck_assert_ptr_null(strstr(text, "Other"));
    free(text);
    ck_assert_ptr_nonnull(json_object_get(changes, "narrative"));
    ck_assert_ptr_nonnull(json_object_get(changes, "casualties"));
    DECREF_ALL(changes, after);

    json_t *fresh = incident_document(&inc);
    ck_assert_msg(json_equal(doc, fresh), "redacting a change list altered the document");
    DECREF_ALL(fresh, doc, empty);
    incident_free(&inc);
}
END_TEST

/* ---- PATCH: merge and diff ---- */

/* Merges patch text onto stored, validates, and returns the diff (NULL with
 * *e set when the merge or the validation fails). */
static json_t *patch_diff(json_t *stored, const char *patch_text, struct api_error *e,
                          json_t **merged_out)
{
    json_t *patch = loads(patch_text);
    const char *reason = NULL;
    json_t *merged = incident_patch_merge(stored, patch, &reason, e);
    json_t *diff = NULL;
    if (merged) {
        ck_assert_ptr_nonnull(reason);
        ck_assert_str_eq(reason, json_string_value(json_object_get(patch, "reason")));
        struct incident next;
        if (incident_from_json(merged, &tx, &next, e)) {
            json_t *doc = incident_document(&next);
            diff = incident_diff(stored, doc);
            json_decref(doc);
        }
        incident_free(&next);
    }
    if (merged_out)
        *merged_out = merged;
    else
        json_decref(merged);
    json_decref(patch);
    return diff;
}

static json_t *stored_doc(const char *text)
{
    struct incident inc = from_text(text);
    json_t *doc = incident_document(&inc);
    incident_free(&inc);
    return doc;
}

/* Each of the n patches, merged onto the document of stored_text, changes nothing. */
static void assert_noops(const char *stored_text, const char *const *patches, size_t n)
{
    json_t *stored = stored_doc(stored_text);
    for (size_t i = 0; i < n; i++) {
        struct api_error e;
        json_t *diff = patch_diff(stored, patches[i], &e, NULL);
        ck_assert_msg(diff != NULL, "%s: %s %s", patches[i], e.code, e.field);
        ck_assert_msg(json_object_size(diff) == 0, "no-op patch %s changed something", patches[i]);
        json_decref(diff);
    }
    json_decref(stored);
}

START_TEST(patch_changes_one_field)
{
    json_t *stored = stored_doc(FULL);
    json_t *before = json_deep_copy(stored);
    struct api_error e;
    json_t *merged = NULL;
    json_t *diff =
        patch_diff(stored, "{\"reason\":\"typo\",\"narrative\":\"New text\"}", &e, &merged);
    ck_assert_ptr_nonnull(diff);
    json_t *want = loads("{\"narrative\":{\"from\":\"Text\",\"to\":\"New text\"}}");
    ck_assert(json_equal(diff, want));
    /* The merge leaves the stored document alone and drops the reason. */
    ck_assert(json_equal(stored, before));
    ck_assert_ptr_null(json_object_get(merged, "reason"));
    ck_assert_str_eq(json_string_value(json_object_get(merged, "narrative")), "New text");
    ck_assert_str_eq(json_string_value(json_object_get(merged, "tactic")), "ied_suicide");
    DECREF_ALL(merged, want, diff, before, stored);
}
END_TEST

START_TEST(patch_noop_gives_empty_diff)
{
    static const char *const noops[] = {
        "{\"reason\":\"r\"}",
        "{\"reason\":\"r\",\"tactic\":\"ied_suicide\"}",
        "{\"reason\":\"r\",\"occurred_on\":\"2024-02-29\",\"date_precision\":\"week\"}",
        "{\"reason\":\"r\",\"location\":{\"admin1\":\"AF27\",\"admin2\":\"AF2701\",\"place\":"
        "\"Bazaar\","
        "\"lat\":31.61,\"lon\":65.71,\"precision\":\"near\"}}",
        "{\"reason\":\"r\",\"casualties\":[{\"outcome\":\"killed\",\"sex\":\"male\",\"age_group\":"
        "\"adult\","
        "\"count\":1,\"age\":34,\"name\":\"A. Person\"},{\"outcome\":\"killed\",\"sex\":\"female\","
        "\"age_group\":\"child\",\"count\":3},{\"outcome\":\"injured\",\"count\":7}]}",
        "{\"reason\":\"r\",\"sources\":[{\"type\":\"victim\",\"reference\":\"interview 12\"},"
        "{\"type\":\"medical\"},{\"type\":\"victim\",\"reference\":null},"
        "{\"type\":\"media\",\"reference\":\"https://example.org/a\"}]}",
    };
    assert_noops(FULL, noops, sizeof noops / sizeof noops[0]);

    /* Values equal to the defaults are no change either. */
    static const char *const default_noops[] = {
        "{\"reason\":\"r\",\"weapon\":null}",
        "{\"reason\":\"r\",\"weapon\":\"unknown\",\"perpetrator\":\"unknown\"}",
        "{\"reason\":\"r\",\"sources\":null}",
        "{\"reason\":\"r\",\"sources\":[]}",
        "{\"reason\":\"r\",\"narrative\":null,\"external_ref\":null,\"time_of_day\":null}",
        "{\"reason\":\"r\",\"date_precision\":\"day\"}",
        "{\"reason\":\"r\",\"casualties\":[{\"outcome\":\"killed\",\"count\":2}]}",
        "{\"reason\":\"r\",\"casualties\":[{\"outcome\":\"killed\",\"count\":2,\"sex\":\"unknown\","
        "\"age\":null}]}",
        "{\"reason\":\"r\",\"location\":{\"admin1\":\"AF01\",\"admin2\":null}}",
    };
    assert_noops(MINIMAL, default_noops, sizeof default_noops / sizeof default_noops[0]);

    /* Integer coordinates equal the stored reals. */
    static const char *const integer_coords[] = {
        "{\"reason\":\"r\",\"location\":{\"admin1\":\"AF01\",\"lat\":34.0,\"lon\":69}}"};
    assert_noops("{\"occurred_on\":\"2024-05-01\",\"location\":{\"admin1\":\"AF01\",\"lat\":34,"
                 "\"lon\":69},\"tactic\":\"ground_engagement\","
                 "\"casualties\":[{\"outcome\":\"killed\",\"count\":2}]}",
                 integer_coords, 1);
}
END_TEST

START_TEST(patch_clear_and_replace)
{
    json_t *stored = stored_doc(FULL);
    struct api_error e;
    /* null clears an optional field. */
    json_t *diff =
        patch_diff(stored, "{\"reason\":\"r\",\"narrative\":null,\"time_of_day\":null}", &e, NULL);
    ck_assert_ptr_nonnull(diff);
    json_t *want = loads("{\"narrative\":{\"from\":\"Text\",\"to\":null},"
                         "\"time_of_day\":{\"from\":\"09:05\",\"to\":null}}");
    ck_assert(json_equal(diff, want));
    DECREF_ALL(want, diff);

    /* A default field set to null returns to its default. */
    diff = patch_diff(stored, "{\"reason\":\"r\",\"weapon\":null}", &e, NULL);
    want = loads("{\"weapon\":{\"from\":\"heavy_explosive\",\"to\":\"unknown\"}}");
    ck_assert(json_equal(diff, want));
    DECREF_ALL(want, diff);

    /* location is replaced whole: members not sent are cleared. */
    json_t *merged = NULL;
    diff = patch_diff(stored, "{\"reason\":\"moved\",\"location\":{\"admin1\":\"AF01\"}}", &e,
                      &merged);
    ck_assert_ptr_nonnull(diff);
    json_t *loc = json_object_get(merged, "location");
    ck_assert_uint_eq(json_object_size(loc), 1);
    ck_assert_uint_eq(json_object_size(diff), 1);
    json_t *to = json_object_get(json_object_get(diff, "location"), "to");
    want = loads("{\"admin1\":\"AF01\",\"admin2\":null,\"place\":null,\"lat\":null,\"lon\":null,"
                 "\"precision\":null}");
    ck_assert(json_equal(to, want));
    ck_assert(json_equal(json_object_get(json_object_get(diff, "location"), "from"),
                         json_object_get(stored, "location")));
    DECREF_ALL(want, diff, merged);

    /* casualties and sources are replaced whole. */
    diff = patch_diff(stored,
                      "{\"reason\":\"r\",\"casualties\":[{\"outcome\":\"injured\",\"count\":1}],"
                      "\"sources\":[]}",
                      &e, NULL);
    ck_assert_ptr_nonnull(diff);
    ck_assert_uint_eq(json_object_size(diff), 2);
    ck_assert_int_eq(json_array_size(json_object_get(json_object_get(diff, "casualties"), "to")),
                     1);
    ck_assert_int_eq(json_array_size(json_object_get(json_object_get(diff, "sources"), "to")), 0);
    ck_assert_int_eq(json_array_size(json_object_get(json_object_get(diff, "sources"), "from")), 4);
    json_decref(diff);

    /* Several fields: exactly those in the diff. */
    diff = patch_diff(
        stored,
        "{\"reason\":\"r\",\"tactic\":\"aerial_operation\",\"perpetrator\":\"ansf_army\","
        "\"external_ref\":\"KDH-2024-17\",\"date_precision\":\"month\"}",
        &e, NULL);
    ck_assert_ptr_nonnull(diff);
    want = loads("{\"tactic\":{\"from\":\"ied_suicide\",\"to\":\"aerial_operation\"},"
                 "\"perpetrator\":{\"from\":\"taliban\",\"to\":\"ansf_army\"},"
                 "\"date_precision\":{\"from\":\"week\",\"to\":\"month\"}}");
    ck_assert(json_equal(diff, want));
    DECREF_ALL(want, diff, stored);
}
END_TEST

START_TEST(patch_shape_errors)
{
    static const struct {
        const char *patch, *code, *field;
    } cases[] = {
        {"{\"narrative\":\"x\"}", ERR_MISSING_FIELD, "reason"},
        {"{}", ERR_MISSING_FIELD, "reason"},
        {"{\"reason\":null}", ERR_INVALID_FIELD, "reason"},
        {"{\"reason\":\"\"}", ERR_INVALID_FIELD, "reason"},
        {"{\"reason\":5}", ERR_INVALID_FIELD, "reason"},
        {"{\"reason\":\"a\\u0000b\"}", ERR_INVALID_FIELD, "reason"},
        {"{\"reason\":\"r\",\"status\":\"verified\"}", ERR_UNKNOWN_FIELD, "status"},
        {"{\"reason\":\"r\",\"id\":\"1\"}", ERR_UNKNOWN_FIELD, "id"},
        {"{\"reason\":\"r\",\"version\":2}", ERR_UNKNOWN_FIELD, "version"},
        {"{\"reason\":\"r\",\"killed\":2}", ERR_UNKNOWN_FIELD, "killed"},
        {"{\"reason\":\"r\",\"override\":true}", ERR_UNKNOWN_FIELD, "override"},
    };
    json_t *stored = stored_doc(FULL);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *patch = loads(cases[i].patch);
        struct api_error e;
        memset(&e, 0, sizeof e);
        const char *reason = NULL;
        json_t *merged = incident_patch_merge(stored, patch, &reason, &e);
        ck_assert_msg(merged == NULL, "accepted %s", cases[i].patch);
        ck_assert_msg(strcmp(e.code, cases[i].code) == 0 && strcmp(e.field, cases[i].field) == 0,
                      "%s: got %s at %s", cases[i].patch, e.code, e.field);
        ck_assert_int_eq(e.status, 400);
        json_decref(patch);
    }

    /* reason: 1 to 2000 characters. */
    json_t *patch = json_object();
    json_object_set_new(patch, "reason", repeated("\xc3\xa9", 2000));
    struct api_error e;
    const char *reason;
    json_t *merged = incident_patch_merge(stored, patch, &reason, &e);
    ck_assert_ptr_nonnull(merged);
    json_decref(merged);
    json_object_set_new(patch, "reason", repeated("r", 2001));
    ck_assert_ptr_null(incident_patch_merge(stored, patch, &reason, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "reason");
    json_decref(patch);

    /* A merge of bad values is refused by validation, naming the field. */
    json_t *diff = patch_diff(stored, "{\"reason\":\"r\",\"casualties\":[]}", &e, NULL);
    ck_assert_ptr_null(diff);
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "casualties");
    diff = patch_diff(stored, "{\"reason\":\"r\",\"occurred_on\":null}", &e, NULL);
    ck_assert_ptr_null(diff);
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "occurred_on");
    diff = patch_diff(stored,
                      "{\"reason\":\"r\",\"location\":{\"admin1\":\"AF01\",\"admin2\":\"AF2701\"}}",
                      &e, NULL);
    ck_assert_ptr_null(diff);
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "location.admin2");
    diff = patch_diff(stored, "{\"reason\":\"r\",\"tactic\":\"nope\"}", &e, NULL);
    ck_assert_ptr_null(diff);
    ck_assert_str_eq(e.code, ERR_UNKNOWN_CODE);
    ck_assert_str_eq(e.field, "tactic");
    json_decref(stored);
}
END_TEST

START_TEST(diff_rules)
{
    static const struct {
        const char *from, *to, *want;
    } cases[] = {
        {"{}", "{}", "{}"},
        /* Absent and null are the same: not recorded. */
        {"{\"narrative\":null,\"time_of_day\":null}", "{}", "{}"},
        {"{}", "{\"narrative\":null,\"time_of_day\":null}", "{}"},
        /* Server fields are not client fields. */
        {"{\"id\":\"1\",\"version\":1,\"status\":\"reported\",\"reason\":\"x\"}",
         "{\"id\":\"2\",\"version\":2,\"status\":\"verified\",\"reason\":\"y\"}", "{}"},
        /* From nothing to something and back. */
        {"{}", "{\"narrative\":\"x\",\"casualties\":[1]}",
         "{\"narrative\":{\"from\":null,\"to\":\"x\"},\"casualties\":{\"from\":null,\"to\":[1]}}"},
        {"{\"narrative\":\"x\",\"casualties\":[1]}", "{}",
         "{\"narrative\":{\"from\":\"x\",\"to\":null},\"casualties\":{\"from\":[1],\"to\":null}}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *a = loads(cases[i].from), *b = loads(cases[i].to), *want = loads(cases[i].want);
        json_t *d = incident_diff(a, b);
        ck_assert_msg(json_is_object(d) && json_equal(d, want), "diff of %s and %s", cases[i].from,
                      cases[i].to);
        DECREF_ALL(d, want, a, b);
    }

    /* Every client field of a new incident is in its creation diff, unless null. */
    struct incident inc = from_text(MINIMAL);
    json_t *doc = incident_document(&inc);
    json_t *a = json_object();
    json_t *d = incident_diff(a, doc);
    static const char *const created[] = {
        "occurred_on", "date_precision", "location", "tactic",  "weapon", "perpetrator",
        "attribution", "impacts",        "casualties", "abducted", "sources", NULL};
    assert_keys(d, created, "creation diff");
    DECREF_ALL(d, a, doc);
    incident_free(&inc);
}
END_TEST

/* ---- status changes ---- */

static bool status_from(const char *text, struct status_change *sc, struct api_error *e,
                        json_t **doc)
{
    *doc = loads(text);
    memset(e, 0, sizeof *e);
    return status_change_from_json(*doc, sc, e);
}

START_TEST(status_valid)
{
    struct status_change sc;
    struct api_error e;
    json_t *doc;
    ck_assert(status_from("{\"status\":\"verified\",\"reason\":\"three sources\"}", &sc, &e, &doc));
    ck_assert_str_eq(sc.status, "verified");
    ck_assert_ptr_eq(sc.status, incident_statuses[1]);
    ck_assert_str_eq(sc.reason, "three sources");
    ck_assert(!sc.override);
    ck_assert_int_eq(sc.duplicate_of, 0);
    json_decref(doc);

    ck_assert(
        status_from("{\"status\":\"verified\",\"reason\":\"r\",\"override\":true}", &sc, &e, &doc));
    ck_assert(sc.override);
    json_decref(doc);
    ck_assert(status_from("{\"status\":\"verified\",\"reason\":\"r\",\"override\":false}", &sc, &e,
                          &doc));
    ck_assert(!sc.override);
    json_decref(doc);
    ck_assert(status_from("{\"status\":\"rejected\",\"reason\":\"r\",\"override\":false}", &sc, &e,
                          &doc));
    json_decref(doc);

    ck_assert(status_from("{\"status\":\"duplicate\",\"reason\":\"r\",\"duplicate_of\":\"12\"}",
                          &sc, &e, &doc));
    ck_assert_str_eq(sc.status, "duplicate");
    ck_assert_int_eq(sc.duplicate_of, 12);
    json_decref(doc);
    ck_assert(status_from("{\"status\":\"duplicate\",\"reason\":\"r\","
                          "\"duplicate_of\":\"9223372036854775807\"}",
                          &sc, &e, &doc));
    ck_assert(sc.duplicate_of == 9223372036854775807LL);
    json_decref(doc);

    for (size_t i = 0; incident_statuses[i]; i++) {
        if (strcmp(incident_statuses[i], "duplicate") == 0)
            continue;
        char text[120];
        snprintf(text, sizeof text, "{\"status\":\"%s\",\"reason\":\"r\"}", incident_statuses[i]);
        ck_assert_msg(status_from(text, &sc, &e, &doc), "%s: %s", text, e.message);
        ck_assert_ptr_eq(sc.status, incident_statuses[i]);
        json_decref(doc);
    }
    static const char *const all[] = {"reported", "verified", "rejected", "duplicate", "retracted"};
    for (size_t i = 0; i < 5; i++)
        ck_assert_str_eq(incident_statuses[i], all[i]);
    ck_assert_ptr_null(incident_statuses[5]);

    /* reason: up to 2000 characters. */
    json_t *big = json_pack("{s:s}", "status", "rejected");
    json_object_set_new(big, "reason", repeated("\xe2\x82\xac", 2000));
    ck_assert(status_change_from_json(big, &sc, &e));
    json_object_set_new(big, "reason", repeated("r", 2001));
    ck_assert(!status_change_from_json(big, &sc, &e));
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "reason");
    json_decref(big);
}
END_TEST

START_TEST(status_invalid)
{
    static const struct {
        const char *text, *code, *field;
    } cases[] = {
        {"{\"reason\":\"r\"}", ERR_MISSING_FIELD, "status"},
        {"{\"status\":null,\"reason\":\"r\"}", ERR_INVALID_FIELD, "status"},
        {"{\"status\":\"closed\",\"reason\":\"r\"}", ERR_INVALID_FIELD, "status"},
        {"{\"status\":\"Verified\",\"reason\":\"r\"}", ERR_INVALID_FIELD, "status"},
        {"{\"status\":1,\"reason\":\"r\"}", ERR_INVALID_FIELD, "status"},
        {"{\"status\":\"verified\"}", ERR_MISSING_FIELD, "reason"},
        {"{\"status\":\"verified\",\"reason\":null}", ERR_INVALID_FIELD, "reason"},
        {"{\"status\":\"verified\",\"reason\":\"\"}", ERR_INVALID_FIELD, "reason"},
        {"{\"status\":\"verified\",\"reason\":7}", ERR_INVALID_FIELD, "reason"},
        {"{\"status\":\"verified\",\"reason\":\"r\",\"override\":\"yes\"}", ERR_INVALID_FIELD,
         "override"},
        {"{\"status\":\"verified\",\"reason\":\"r\",\"override\":1}", ERR_INVALID_FIELD,
         "override"},
        {"{\"status\":\"rejected\",\"reason\":\"r\",\"override\":true}", ERR_INVALID_FIELD,
         "override"},
        {"{\"status\":\"duplicate\",\"reason\":\"r\",\"override\":true,\"duplicate_of\":\"3\"}",
         ERR_INVALID_FIELD, "override"},
        {"{\"status\":\"duplicate\",\"reason\":\"r\"}", ERR_MISSING_FIELD, "duplicate_of"},
        {"{\"status\":\"duplicate\",\"reason\":\"r\",\"duplicate_of\":12}", ERR_INVALID_FIELD,
         "duplicate_of"},
        {"{\"status\":\"duplicate\",\"reason\":\"r\",\"duplicate_of\":\"0\"}", ERR_INVALID_FIELD,
         "duplicate_of"},
        {"{\"status\":\"duplicate\",\"reason\":\"r\",\"duplicate_of\":\"012\"}", ERR_INVALID_FIELD,
         "duplicate_of"},
        {"{\"status\":\"duplicate\",\"reason\":\"r\",\"duplicate_of\":\"-1\"}", ERR_INVALID_FIELD,
         "duplicate_of"},
        {"{\"status\":\"duplicate\",\"reason\":\"r\",\"duplicate_of\":\"abc\"}", ERR_INVALID_FIELD,
         "duplicate_of"},
        {"{\"status\":\"duplicate\",\"reason\":\"r\",\"duplicate_of\":\"\"}", ERR_INVALID_FIELD,
         "duplicate_of"},
        {"{\"status\":\"duplicate\",\"reason\":\"r\",\"duplicate_of\":\"9223372036854775808\"}",
         ERR_INVALID_FIELD, "duplicate_of"},
        {"{\"status\":\"duplicate\",\"reason\":\"r\",\"duplicate_of\":\"123456789012345678901\"}",
         ERR_INVALID_FIELD, "duplicate_of"},
        {"{\"status\":\"rejected\",\"reason\":\"r\",\"duplicate_of\":\"12\"}", ERR_INVALID_FIELD,
         "duplicate_of"},
        {"{\"status\":\"verified\",\"reason\":\"r\",\"duplicate_of\":\"12\"}", ERR_INVALID_FIELD,
         "duplicate_of"},
        {"{\"status\":\"verified\",\"reason\":\"r\",\"force\":true}", ERR_UNKNOWN_FIELD, "force"},
        {"{\"status\":\"verified\",\"reason\":\"r\",\"version\":2}", ERR_UNKNOWN_FIELD, "version"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct status_change sc;
        struct api_error e;
        json_t *doc;
        ck_assert_msg(!status_from(cases[i].text, &sc, &e, &doc), "accepted %s", cases[i].text);
        ck_assert_msg(strcmp(e.code, cases[i].code) == 0 && strcmp(e.field, cases[i].field) == 0,
                      "%s: expected %s at %s, got %s at %s", cases[i].text, cases[i].code,
                      cases[i].field, e.code, e.field);
        ck_assert_int_eq(e.status, 400);
        json_decref(doc);
    }
}
END_TEST

/* ---- ids ---- */

START_TEST(id_parse)
{
    long long id = -5;
    ck_assert(incident_id_parse("1", &id));
    ck_assert_int_eq(id, 1);
    ck_assert(incident_id_parse("123", &id));
    ck_assert_int_eq(id, 123);
    ck_assert(incident_id_parse("9223372036854775807", &id));
    ck_assert(id == 9223372036854775807LL);
    ck_assert(incident_id_parse("1000000000000000000", &id));
    ck_assert(id == 1000000000000000000LL);

    static const char *const bad[] = {
        "",
        "0",
        "00",
        "01",
        "-1",
        "+1",
        " 1",
        "1 ",
        "1a",
        "a1",
        "1.0",
        "1e3",
        "0x10",
        "9223372036854775808",
        "99999999999999999999",
        "18446744073709551617",
        "١٢",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        id = -5;
        ck_assert_msg(!incident_id_parse(bad[i], &id), "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(id, -5);
    }
}
END_TEST

/* ---- the cap on one incident's casualties ---- */

/* BASE with n groups: counts[i] victims each, killed and injured in turn. */
static json_t *with_counts(const long long *counts, int n)
{
    json_t *doc = loads(BASE);
    json_t *groups = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(groups,
                              json_pack("{s:s, s:I}", "outcome", i % 2 ? "injured" : "killed",
                                        "count", (json_int_t)counts[i]));
    json_object_set_new(doc, "casualties", groups);
    return doc;
}

START_TEST(cap_group_within_total)
{
    ck_assert_int_le(INCIDENT_MAX_COUNT, INCIDENT_MAX_CASUALTIES);
    /* The largest incident's totals fit every integer they pass through. */
    ck_assert_int_le((long long)INCIDENT_MAX_CASUALTIES, 2147483647LL);
}
END_TEST

START_TEST(cap_total_at_limit_accepted)
{
    static const long long counts[] = {5000, 4999, 1};
    struct incident inc;
    accept_doc(with_counts(counts, 3), &inc, "5000 + 4999 + 1");
    long killed, injured;
    int types;
    incident_totals(&inc, &killed, &injured, &types);
    ck_assert_int_eq(killed + injured, INCIDENT_MAX_CASUALTIES);
    incident_free(&inc);

    static const long long one[] = {INCIDENT_MAX_CASUALTIES};
    accept_doc(with_counts(one, 1), &inc, "one group of 10000");
    incident_free(&inc);
}
END_TEST

START_TEST(cap_total_over_limit_names_casualties)
{
    static const long long pairs[][2] = {{5000, 5001}, {INCIDENT_MAX_CASUALTIES, 1}};
    for (size_t i = 0; i < sizeof pairs / sizeof pairs[0]; i++)
        reject_doc(with_counts(pairs[i], 2), ERR_INVALID_FIELD, "casualties", "10001 in 2 groups");

    /* 200 groups of 51: each group is fine, their sum is not; the message
     * gives the sum and the cap. */
    long long many[INCIDENT_MAX_CASUALTY_GROUPS];
    for (int i = 0; i < INCIDENT_MAX_CASUALTY_GROUPS; i++)
        many[i] = 51;
    struct api_error e;
    struct incident inc;
    memset(&e, 0, sizeof e);
    json_t *doc = with_counts(many, INCIDENT_MAX_CASUALTY_GROUPS);
    ck_assert(!incident_from_json(doc, &tx, &inc, &e));
    incident_free(&inc);
    json_decref(doc);
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "casualties");
    ck_assert_ptr_nonnull(strstr(e.message, "10200"));
    ck_assert_ptr_nonnull(strstr(e.message, "10000"));
}
END_TEST

START_TEST(cap_groups_over_their_cap)
{
    /* 200 groups of 100,000: the first group is already over its cap. */
    long long counts[INCIDENT_MAX_CASUALTY_GROUPS];
    for (int i = 0; i < INCIDENT_MAX_CASUALTY_GROUPS; i++)
        counts[i] = 100000;
    reject_doc(with_counts(counts, INCIDENT_MAX_CASUALTY_GROUPS), ERR_INVALID_FIELD,
               "casualties[0].count", "200 groups of 100000");
    static const long long over[] = {1, INCIDENT_MAX_COUNT + 1};
    reject_doc(with_counts(over, 2), ERR_INVALID_FIELD, "casualties[1].count", "group of 10001");
}
END_TEST

START_TEST(cap_amendment_revalidated)
{
    /* An incident at the cap; an amendment adding one victim is refused
     * when the merged document is validated, one moving a victim is not. */
    static const long long at_cap[] = {6000, 4000};
    struct incident inc;
    accept_doc(with_counts(at_cap, 2), &inc, "6000 + 4000");
    json_t *stored = incident_document(&inc);
    incident_free(&inc);
    struct api_error e;
    memset(&e, 0, sizeof e);
    json_t *diff = patch_diff(stored,
                              "{\"reason\":\"r\",\"casualties\":[{\"outcome\":\"killed\","
                              "\"count\":6000},{\"outcome\":\"injured\",\"count\":4001}]}",
                              &e, NULL);
    ck_assert_ptr_null(diff);
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "casualties");
    diff = patch_diff(stored,
                      "{\"reason\":\"r\",\"casualties\":[{\"outcome\":\"killed\","
                      "\"count\":6001},{\"outcome\":\"injured\",\"count\":3999}]}",
                      &e, NULL);
    ck_assert_ptr_nonnull(diff);
    ck_assert_ptr_nonnull(json_object_get(diff, "casualties"));
    json_decref(diff);
    json_decref(stored);
}
END_TEST

/* ---- the widened record: impacts, attribution, ranges, roles, abductions ---- */

/* Every new field at once: a tactic of abduction, an attribution, two
 * impacts sent out of order, ranges and roles on some groups (and a group
 * of one with a name and age), persons abducted. */
static const char *const WIDE =
    "{\"occurred_on\":\"2024-05-01\",\"location\":{\"admin1\":\"AF01\"},"
    " \"tactic\":\"abduction\",\"attribution\":\"claimed\","
    " \"impacts\":[\"health_care\",\"education\"],"
    " \"casualties\":["
    "  {\"outcome\":\"killed\",\"sex\":\"male\",\"age_group\":\"adult\",\"count\":5,"
    "   \"count_min\":3,\"count_max\":8,\"role\":\"teacher\"},"
    "  {\"outcome\":\"killed\",\"sex\":\"female\",\"age_group\":\"child\",\"count\":2},"
    "  {\"outcome\":\"injured\",\"count\":10,\"count_min\":7},"
    "  {\"outcome\":\"injured\",\"sex\":\"male\",\"age_group\":\"child\",\"count\":4,"
    "   \"count_max\":6,\"role\":\"journalist\"},"
    "  {\"outcome\":\"killed\",\"sex\":\"male\",\"age_group\":\"adult\",\"count\":1,"
    "   \"count_min\":1,\"count_max\":2,\"age\":40,\"name\":\"W. Person\"}],"
    " \"abducted\":[{\"sex\":\"female\",\"age_group\":\"adult\",\"count\":3},"
    "              {\"age_group\":\"child\",\"count\":4}],"
    " \"sources\":[{\"type\":\"witness\"}]}";

/* WIDE as incident_document() must give it: impacts sorted, every range
 * and role null where not given, abducted groups with their defaults. */
static const char *const WIDE_DOCUMENT =
    "{\"occurred_on\":\"2024-05-01\",\"date_precision\":\"day\",\"time_of_day\":null,"
    " \"location\":{\"admin1\":\"AF01\",\"admin2\":null,\"place\":null,\"lat\":null,\"lon\":null,"
    "               \"precision\":null},"
    " \"tactic\":\"abduction\",\"weapon\":\"unknown\",\"perpetrator\":\"unknown\","
    " \"attribution\":\"claimed\",\"impacts\":[\"education\",\"health_care\"],"
    " \"casualties\":["
    "  {\"outcome\":\"killed\",\"sex\":\"male\",\"age_group\":\"adult\",\"count\":5,"
    "   \"count_min\":3,\"count_max\":8,\"role\":\"teacher\",\"age\":null,\"name\":null},"
    "  {\"outcome\":\"killed\",\"sex\":\"female\",\"age_group\":\"child\",\"count\":2,"
    "   \"count_min\":null,\"count_max\":null,\"role\":null,\"age\":null,\"name\":null},"
    "  {\"outcome\":\"injured\",\"sex\":\"unknown\",\"age_group\":\"unknown\",\"count\":10,"
    "   \"count_min\":7,\"count_max\":null,\"role\":null,\"age\":null,\"name\":null},"
    "  {\"outcome\":\"injured\",\"sex\":\"male\",\"age_group\":\"child\",\"count\":4,"
    "   \"count_min\":null,\"count_max\":6,\"role\":\"journalist\",\"age\":null,\"name\":null},"
    "  {\"outcome\":\"killed\",\"sex\":\"male\",\"age_group\":\"adult\",\"count\":1,"
    "   \"count_min\":1,\"count_max\":2,\"role\":null,\"age\":40,\"name\":\"W. Person\"}],"
    " \"abducted\":[{\"sex\":\"female\",\"age_group\":\"adult\",\"count\":3},"
    "              {\"sex\":\"unknown\",\"age_group\":\"child\",\"count\":4}],"
    " \"sources\":[{\"type\":\"witness\",\"reference\":null}],"
    " \"narrative\":null,\"external_ref\":null}";

/* An incident of impacts only: no casualty group at all. */
static const char *const IMPACTS_ONLY =
    "{\"occurred_on\":\"2024-05-01\",\"location\":{\"admin1\":\"AF01\"},"
    " \"tactic\":\"ground_engagement\",\"impacts\":[\"education\"]}";

START_TEST(record_wide_fields_parsed)
{
    struct incident inc = from_text(WIDE);
    ck_assert_str_eq(inc.attribution, "claimed");
    /* Impacts come out sorted, whatever the order sent. */
    ck_assert_uint_eq(inc.nimpacts, 2);
    ck_assert_str_eq(inc.impacts[0], "education");
    ck_assert_str_eq(inc.impacts[1], "health_care");
    ck_assert_uint_eq(inc.ncasualties, 5);
    const struct casualty *c = inc.casualties;
    ck_assert_int_eq(c[0].count, 5);
    ck_assert_int_eq(c[0].count_min, 3);
    ck_assert_int_eq(c[0].count_max, 8);
    ck_assert_str_eq(c[0].role, "teacher");
    ck_assert_int_eq(c[1].count_min, -1);
    ck_assert_int_eq(c[1].count_max, -1);
    ck_assert_ptr_null(c[1].role);
    ck_assert_int_eq(c[2].count_min, 7);
    ck_assert_int_eq(c[2].count_max, -1);
    ck_assert_int_eq(c[3].count_min, -1);
    ck_assert_int_eq(c[3].count_max, 6);
    ck_assert_str_eq(c[3].role, "journalist");
    ck_assert_int_eq(c[4].count_min, 1);
    ck_assert_int_eq(c[4].count_max, 2);
    ck_assert_str_eq(c[4].name, "W. Person");
    ck_assert_uint_eq(inc.nabducted, 2);
    ck_assert_str_eq(inc.abducted[0].sex, "female");
    ck_assert_str_eq(inc.abducted[0].age_group, "adult");
    ck_assert_int_eq(inc.abducted[0].count, 3);
    /* Sex defaults to unknown, as in a casualty group. */
    ck_assert_str_eq(inc.abducted[1].sex, "unknown");
    ck_assert_str_eq(inc.abducted[1].age_group, "child");
    ck_assert_int_eq(inc.abducted[1].count, 4);
    /* Enumerations point at the static lists. */
    ck_assert_ptr_eq(inc.abducted[1].sex, incident_sexes[2]);
    ck_assert_ptr_eq(inc.abducted[1].age_group, incident_age_groups[1]);
    /* Totals are the counts, not the estimates around them. */
    long killed, injured;
    int types;
    incident_totals(&inc, &killed, &injured, &types);
    ck_assert_int_eq(killed, 8);
    ck_assert_int_eq(injured, 14);
    incident_free(&inc);
}
END_TEST

START_TEST(record_defaults_when_absent)
{
    struct incident inc = from_text(MINIMAL);
    ck_assert_str_eq(inc.attribution, "unknown");
    ck_assert_uint_eq(inc.nimpacts, 0);
    ck_assert_uint_eq(inc.nabducted, 0);
    ck_assert_int_eq(inc.casualties[0].count_min, -1);
    ck_assert_int_eq(inc.casualties[0].count_max, -1);
    ck_assert_ptr_null(inc.casualties[0].role);
    incident_free(&inc);

    /* null is none for every new field. */
    static const struct edit nulls[] = {{"attribution", "null"}, {"impacts", "null"}};
    static const struct edit nulls2[] = {{"abducted", "null"}, {"casualties[0].role", "null"}};
    static const struct edit nulls3[] = {{"casualties[0].count_min", "null"},
                                         {"casualties[0].count_max", "null"}};
    json_t *doc = edited(MINIMAL, nulls, 2);
    for (size_t i = 0; i < 2; i++) {
        doc_set(doc, nulls2[i].path, loads(nulls2[i].value));
        doc_set(doc, nulls3[i].path, loads(nulls3[i].value));
    }
    accept_doc(doc, &inc, "every new field null");
    json_t *got = incident_document(&inc);
    json_t *want = loads(MINIMAL_DOCUMENT);
    ck_assert_msg(json_equal(got, want), "nulls do not give the defaults");
    DECREF_ALL(got, want);
    incident_free(&inc);
}
END_TEST

START_TEST(record_zero_casualties_with_other_harm)
{
    /* Impacts alone: casualties absent or []. */
    struct incident inc = from_text(IMPACTS_ONLY);
    ck_assert_uint_eq(inc.ncasualties, 0);
    ck_assert_uint_eq(inc.nimpacts, 1);
    json_t *doc = incident_document(&inc);
    ck_assert_int_eq(json_array_size(json_object_get(doc, "casualties")), 0);
    ck_assert(json_is_array(json_object_get(doc, "casualties")));
    json_decref(doc);
    incident_free(&inc);

    /* Persons abducted alone. */
    static const struct edit abduction[] = {
        {"tactic", "\"abduction\""},
        {"abducted", "[{\"sex\":\"male\",\"age_group\":\"child\",\"count\":2}]"}};
    json_t *d = edited(IMPACTS_ONLY, abduction, 2);
    doc_set(d, "impacts", NULL);
    accept_doc(d, &inc, "abducted only");
    ck_assert_uint_eq(inc.ncasualties, 0);
    ck_assert_uint_eq(inc.nabducted, 1);
    incident_free(&inc);

    /* Neither: casualties absent is missing, [] is invalid. */
    static const struct edit none[] = {{"impacts", NULL}};
    reject_doc(edited(IMPACTS_ONLY, none, 1), ERR_MISSING_FIELD, "casualties", "no harm at all");
    static const struct edit empty[] = {{"impacts", "[]"}, {"casualties", "[]"}};
    reject_doc(edited(IMPACTS_ONLY, empty, 2), ERR_INVALID_FIELD, "casualties",
               "casualties [] and impacts []");
    /* Abducted [] is no harm either, even with the tactic of abduction. */
    static const struct edit no_abducted[] = {{"tactic", "\"abduction\""}, {"abducted", "[]"}};
    d = edited(IMPACTS_ONLY, no_abducted, 2);
    doc_set(d, "impacts", NULL);
    reject_doc(d, ERR_MISSING_FIELD, "casualties", "abducted [] only");
}
END_TEST

START_TEST(record_impacts_at_most_32)
{
    /* More than 32 is refused before any code is looked at: the field is
     * the list, not an entry. */
    json_t *doc = loads(BASE);
    json_t *list = json_array();
    for (int i = 0; i < INCIDENT_MAX_IMPACTS + 1; i++)
        json_array_append_new(list, json_string(i % 2 ? "education" : "health_care"));
    json_object_set_new(doc, "impacts", list);
    reject_doc(doc, ERR_INVALID_FIELD, "impacts", "33 impacts");

    doc = loads(BASE);
    list = json_array();
    for (int i = 0; i < 1000; i++)
        json_array_append_new(list, json_integer(i));
    json_object_set_new(doc, "impacts", list);
    reject_doc(doc, ERR_INVALID_FIELD, "impacts", "1000 impacts");
    ck_assert_int_eq(INCIDENT_MAX_IMPACTS, 32);
}
END_TEST

START_TEST(record_abducted_limits)
{
    /* Nine groups, one per sex and age group, adding up to the cap. */
    json_t *doc = loads(BASE);
    json_object_set_new(doc, "tactic", json_string("abduction"));
    json_t *groups = json_array();
    for (int s = 0; s < 3; s++)
        for (int a = 0; a < 3; a++)
            json_array_append_new(groups, json_pack("{s:s, s:s, s:i}", "sex", incident_sexes[s],
                                                    "age_group", incident_age_groups[a], "count",
                                                    s == 0 && a == 0 ? 9992 : 1));
    json_object_set_new(doc, "abducted", groups);
    json_t *again = json_deep_copy(doc);
    struct incident inc;
    accept_doc(doc, &inc, "nine groups of abducted adding up to 10000");
    ck_assert_uint_eq(inc.nabducted, 9);
    long long counts[INCIDENT_ROLLUP_COUNTS];
    incident_rollup_counts(&inc, counts);
    ck_assert_int_eq(counts[21], INCIDENT_MAX_CASUALTIES);
    incident_free(&inc);

    /* One more person is over the cap. */
    json_object_set_new(json_array_get(json_object_get(again, "abducted"), 8), "count",
                        json_integer(2));
    json_t *ten = json_deep_copy(again);
    reject_doc(again, ERR_INVALID_FIELD, "abducted", "abducted adding up to 10001");

    /* A tenth group is refused as a list (it must repeat a pair). */
    json_object_set_new(json_array_get(json_object_get(ten, "abducted"), 8), "count",
                        json_integer(1));
    json_array_append_new(json_object_get(ten, "abducted"), json_pack("{s:i}", "count", 1));
    reject_doc(ten, ERR_INVALID_FIELD, "abducted", "ten groups of abducted");

    /* The abducted cap is apart from the casualty cap: 10000 of each. */
    doc = loads(BASE);
    json_object_set_new(doc, "tactic", json_string("abduction"));
    json_object_set_new(doc, "casualties",
                        json_pack("[{s:s, s:i}]", "outcome", "killed", "count", 10000));
    json_object_set_new(doc, "abducted", json_pack("[{s:i}]", "count", 10000));
    accept_doc(doc, &inc, "10000 killed and 10000 abducted");
    incident_free(&inc);
}
END_TEST

START_TEST(record_cap_uses_high_estimates)
{
    /* 6000 + 3000 counted, but the second group may be 5000: 11000. */
    json_t *doc = loads(BASE);
    json_object_set_new(doc, "casualties",
                        json_pack("[{s:s, s:i}, {s:s, s:i, s:i}]", "outcome", "killed", "count",
                                  6000, "outcome", "injured", "count", 3000, "count_max", 5000));
    struct api_error e;
    struct incident inc;
    memset(&e, 0, sizeof e);
    ck_assert(!incident_from_json(doc, &tx, &inc, &e));
    incident_free(&inc);
    json_decref(doc);
    ck_assert_str_eq(e.code, ERR_INVALID_FIELD);
    ck_assert_str_eq(e.field, "casualties");
    ck_assert_ptr_nonnull(strstr(e.message, "11000"));

    /* At the cap with high estimates is accepted. */
    doc = loads(BASE);
    json_object_set_new(doc, "casualties",
                        json_pack("[{s:s, s:i}, {s:s, s:i, s:i}]", "outcome", "killed", "count",
                                  6000, "outcome", "injured", "count", 3000, "count_max", 4000));
    accept_doc(doc, &inc, "6000 + 3000 up to 4000");
    incident_free(&inc);

    /* Two groups of one that may each be 5000, and one more person. */
    doc = loads(BASE);
    json_object_set_new(doc, "casualties",
                        json_pack("[{s:s, s:i, s:i}, {s:s, s:i, s:i}, {s:s, s:i}]", "outcome",
                                  "killed", "count", 1, "count_max", 5000, "outcome", "injured",
                                  "count", 1, "count_max", 5000, "outcome", "injured", "count", 1));
    reject_doc(doc, ERR_INVALID_FIELD, "casualties", "highs 5000 + 5000 + 1");

    /* Low estimates do not lower the cap's sum: 10000 counted, lows of 1. */
    doc = loads(BASE);
    json_object_set_new(doc, "casualties",
                        json_pack("[{s:s, s:i, s:i}, {s:s, s:i, s:i}]", "outcome", "killed",
                                  "count", 5000, "count_min", 1, "outcome", "injured", "count",
                                  5001, "count_min", 1));
    reject_doc(doc, ERR_INVALID_FIELD, "casualties", "counts 10001 with low estimates of 1");
}
END_TEST

START_TEST(record_rollup_counts_by_hand)
{
    struct incident inc = from_text(WIDE);
    long long got[INCIDENT_ROLLUP_COUNTS];
    memset(got, 0x5a, sizeof got);
    incident_rollup_counts(&inc, got);
    /* WIDE's groups: killed male adult 5 (3..8) and 1 (1..2), killed
     * female child 2, injured unknown unknown 10 (7..), injured male child
     * 4 (..6); abducted 3 + 4. Columns in the journal's order. */
    /* clang-format off */
    static const long long want[] = {
        /* killed, injured */
        8, 14,
        /* k_: male adult, child, unknown; female ...; unknown ... */
        6, 0, 0,  0, 2, 0,  0, 0, 0,
        /* i_: the same order */
        0, 4, 0,  0, 0, 0,  0, 0, 10,
        /* unharmed, abducted */
        0, 7,
        /* killed_below, killed_above, injured_below, injured_above */
        2, 4, 3, 2,
        /* k_*_below */
        2, 0, 0,  0, 0, 0,  0, 0, 0,
        /* i_*_below */
        0, 0, 0,  0, 0, 0,  0, 0, 3,
        /* k_*_above */
        4, 0, 0,  0, 0, 0,  0, 0, 0,
        /* i_*_above */
        0, 2, 0,  0, 0, 0,  0, 0, 0,
    };
    /* clang-format on */
    ck_assert_uint_eq(sizeof want / sizeof want[0], INCIDENT_ROLLUP_COUNTS);
    for (int i = 0; i < INCIDENT_ROLLUP_COUNTS; i++)
        ck_assert_msg(got[i] == want[i], "count %d: %lld, expected %lld", i, got[i], want[i]);
    incident_free(&inc);
}
END_TEST

START_TEST(record_rollup_counts_without_casualties)
{
    /* An incident of impacts only is one unharmed incident, nothing else. */
    struct incident inc = from_text(IMPACTS_ONLY);
    long long got[INCIDENT_ROLLUP_COUNTS];
    memset(got, 0x5a, sizeof got);
    incident_rollup_counts(&inc, got);
    for (int i = 0; i < INCIDENT_ROLLUP_COUNTS; i++)
        ck_assert_msg(got[i] == (i == 20), "count %d: %lld", i, got[i]);
    incident_free(&inc);

    /* Abducted only: unharmed too, and the persons abducted. */
    static const struct edit abduction[] = {
        {"tactic", "\"abduction\""},
        {"abducted", "[{\"count\":2},{\"sex\":\"female\",\"count\":5}]"}};
    json_t *doc = edited(IMPACTS_ONLY, abduction, 2);
    doc_set(doc, "impacts", NULL);
    accept_doc(doc, &inc, "abducted only");
    incident_rollup_counts(&inc, got);
    for (int i = 0; i < INCIDENT_ROLLUP_COUNTS; i++)
        ck_assert_msg(got[i] == (i == 20 ? 1 : i == 21 ? 7 : 0), "count %d: %lld", i, got[i]);
    incident_free(&inc);

    /* An incident with casualties and no range: no distances, not unharmed. */
    inc = from_text(FULL);
    incident_rollup_counts(&inc, got);
    ck_assert_int_eq(got[0], 4);
    ck_assert_int_eq(got[1], 7);
    for (int i = 20; i < INCIDENT_ROLLUP_COUNTS; i++)
        ck_assert_msg(got[i] == 0, "count %d: %lld", i, got[i]);
    incident_free(&inc);
}
END_TEST

START_TEST(record_impacts_key)
{
    struct incident inc = from_text(WIDE);
    char *key = incident_impacts_key(&inc);
    ck_assert_str_eq(key, "education,health_care");
    free(key);
    incident_free(&inc);

    inc = from_text(IMPACTS_ONLY);
    key = incident_impacts_key(&inc);
    ck_assert_str_eq(key, "education");
    free(key);
    incident_free(&inc);

    inc = from_text(MINIMAL);
    key = incident_impacts_key(&inc);
    ck_assert_str_eq(key, "");
    free(key);
    incident_free(&inc);

    /* Order sent does not matter. */
    static const struct edit sorted[] = {{"impacts", "[\"education\",\"health_care\"]"}};
    accept_doc(edited(MINIMAL, sorted, 1), &inc, "impacts in order");
    key = incident_impacts_key(&inc);
    ck_assert_str_eq(key, "education,health_care");
    free(key);
    incident_free(&inc);
}
END_TEST

START_TEST(record_document_round_trip)
{
    struct incident inc = from_text(WIDE);
    json_t *doc = incident_document(&inc);
    json_t *want = loads(WIDE_DOCUMENT);
    char *got_text = json_dumps(doc, JSON_SORT_KEYS);
    ck_assert_msg(json_equal(doc, want), "document: %s", got_text);
    free(got_text);
    ck_assert_uint_eq(json_object_size(doc), 14);
    json_decref(want);

    /* The document validates to the same incident and document. */
    struct incident again;
    json_incref(doc);
    accept_doc(doc, &again, "document of WIDE");
    json_t *doc2 = incident_document(&again);
    ck_assert(json_equal(doc, doc2));
    long long a[INCIDENT_ROLLUP_COUNTS], b[INCIDENT_ROLLUP_COUNTS];
    incident_rollup_counts(&inc, a);
    incident_rollup_counts(&again, b);
    ck_assert(memcmp(a, b, sizeof a) == 0);
    DECREF_ALL(doc2, doc);
    incident_free(&again);
    incident_free(&inc);

    /* An incident of impacts only round-trips with casualties []. */
    inc = from_text(IMPACTS_ONLY);
    doc = incident_document(&inc);
    json_incref(doc);
    accept_doc(doc, &again, "document of IMPACTS_ONLY");
    doc2 = incident_document(&again);
    ck_assert(json_equal(doc, doc2));
    DECREF_ALL(doc2, doc);
    incident_free(&again);
    incident_free(&inc);
}
END_TEST

START_TEST(record_views_show_the_new_fields)
{
    /* Roles, ranges, attribution, impacts and abducted are no personal
     * data: every reader sees them; names and ages stay personal. */
    struct incident inc = from_text(WIDE);
    inc.id = 9;
    inc.version = 1;
    inc.status = "reported";
    json_t *doc = incident_document(&inc);
    static const unsigned views[] = {0, VIEW_CONFIDENTIAL | VIEW_DETAIL, VIEW_PERSONAL, VIEW_ALL};
    for (size_t v = 0; v < sizeof views / sizeof views[0]; v++) {
        json_t *out = incident_to_json(&inc, views[v], 3);
        assert_redacted(out, views[v], "wide");
        static const char *const same[] = {"attribution", "impacts", "abducted"};
        for (size_t f = 0; f < 3; f++)
            ck_assert_msg(json_equal(json_object_get(out, same[f]), json_object_get(doc, same[f])),
                          "view %u: %s", views[v], same[f]);
        json_t *groups = json_object_get(out, "casualties");
        ck_assert_int_eq(json_array_size(groups), 5);
        size_t i;
        json_t *g;
        json_array_foreach(groups, i, g)
        {
            json_t *stored = json_array_get(json_object_get(doc, "casualties"), i);
            static const char *const kept[] = {"count", "count_min", "count_max", "role"};
            for (size_t k = 0; k < 4; k++)
                ck_assert_msg(
                    json_equal(json_object_get(g, kept[k]), json_object_get(stored, kept[k])),
                    "view %u: casualties[%zu].%s", views[v], i, kept[k]);
        }
        char *text = json_dumps(out, 0);
        ck_assert_msg((strstr(text, "W. Person") != NULL) == ((views[v] & VIEW_PERSONAL) != 0),
                      "view %u: name", views[v]);
        free(text);
        json_decref(out);
    }
    json_decref(doc);

    /* A change list of the new fields is not redacted for an analyst. */
    json_t *empty = json_object();
    doc = incident_document(&inc);
    json_t *changes = incident_diff(empty, doc);
    incident_redact_changes(changes, 0);
    static const char *const fields[] = {"attribution", "impacts", "abducted"};
    for (size_t f = 0; f < 3; f++)
        ck_assert_msg(json_equal(json_object_get(json_object_get(changes, fields[f]), "to"),
                                 json_object_get(doc, fields[f])),
                      "change of %s redacted", fields[f]);
    json_t *g0 = json_array_get(json_object_get(json_object_get(changes, "casualties"), "to"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(g0, "count_max")), 8);
    ck_assert_str_eq(json_string_value(json_object_get(g0, "role")), "teacher");
    json_t *g4 = json_array_get(json_object_get(json_object_get(changes, "casualties"), "to"), 4);
    ck_assert_ptr_null(json_object_get(g4, "name"));
    ck_assert_ptr_null(json_object_get(g4, "age"));
    ck_assert_int_eq(json_integer_value(json_object_get(g4, "count_min")), 1);
    DECREF_ALL(changes, doc, empty);
    incident_free(&inc);
}
END_TEST

/* The diff of patch on the document of WIDE: exactly want (JSON). */
static void assert_wide_patch(const char *patch, const char *want_text)
{
    json_t *stored = stored_doc(WIDE);
    struct api_error e;
    memset(&e, 0, sizeof e);
    json_t *diff = patch_diff(stored, patch, &e, NULL);
    ck_assert_msg(diff != NULL, "%s refused: %s %s: %s", patch, e.code, e.field, e.message);
    json_t *want = loads(want_text);
    char *text = json_dumps(diff, JSON_SORT_KEYS);
    ck_assert_msg(json_equal(diff, want), "%s: diff %s", patch, text);
    free(text);
    DECREF_ALL(want, diff, stored);
}

START_TEST(record_patch_changes_new_fields)
{
    assert_wide_patch("{\"reason\":\"r\",\"attribution\":\"unknown\"}",
                      "{\"attribution\":{\"from\":\"claimed\",\"to\":\"unknown\"}}");
    /* attribution null returns to the default. */
    assert_wide_patch("{\"reason\":\"r\",\"attribution\":null}",
                      "{\"attribution\":{\"from\":\"claimed\",\"to\":\"unknown\"}}");
    assert_wide_patch("{\"reason\":\"r\",\"impacts\":[\"health_care\"]}",
                      "{\"impacts\":{\"from\":[\"education\",\"health_care\"],"
                      "\"to\":[\"health_care\"]}}");
    assert_wide_patch("{\"reason\":\"r\",\"impacts\":null}",
                      "{\"impacts\":{\"from\":[\"education\",\"health_care\"],\"to\":[]}}");
    assert_wide_patch("{\"reason\":\"r\",\"abducted\":[{\"sex\":\"female\",\"age_group\":"
                      "\"adult\",\"count\":5}]}",
                      "{\"abducted\":{\"from\":[{\"sex\":\"female\",\"age_group\":\"adult\","
                      "\"count\":3},{\"sex\":\"unknown\",\"age_group\":\"child\",\"count\":4}],"
                      "\"to\":[{\"sex\":\"female\",\"age_group\":\"adult\",\"count\":5}]}}");
    /* Leaving abduction needs abducted emptied in the same amendment. */
    assert_wide_patch("{\"reason\":\"r\",\"tactic\":\"ground_engagement\",\"abducted\":[]}",
                      "{\"tactic\":{\"from\":\"abduction\",\"to\":\"ground_engagement\"},"
                      "\"abducted\":{\"from\":[{\"sex\":\"female\",\"age_group\":\"adult\","
                      "\"count\":3},{\"sex\":\"unknown\",\"age_group\":\"child\",\"count\":4}],"
                      "\"to\":[]}}");

    /* A range or a role changed is a change of casualties, and only that. */
    json_t *stored = stored_doc(WIDE);
    struct api_error e;
    json_t *patch = json_pack("{s:s, s:o}", "reason", "r", "casualties",
                              json_deep_copy(json_object_get(stored, "casualties")));
    json_t *groups = json_object_get(patch, "casualties");
    json_t *g0 = json_deep_copy(json_array_get(groups, 0));
    json_object_set_new(g0, "count_max", json_integer(9));
    json_object_set_new(g0, "role", json_null());
    json_array_set_new(groups, 0, g0);
    char *text = json_dumps(patch, 0);
    json_t *diff = patch_diff(stored, text, &e, NULL);
    free(text);
    ck_assert_ptr_nonnull(diff);
    ck_assert_uint_eq(json_object_size(diff), 1);
    json_t *to = json_array_get(json_object_get(json_object_get(diff, "casualties"), "to"), 0);
    json_t *from = json_array_get(json_object_get(json_object_get(diff, "casualties"), "from"), 0);
    ck_assert_int_eq(json_integer_value(json_object_get(to, "count_max")), 9);
    ck_assert_int_eq(json_integer_value(json_object_get(from, "count_max")), 8);
    ck_assert(json_is_null(json_object_get(to, "role")));
    ck_assert_str_eq(json_string_value(json_object_get(from, "role")), "teacher");
    DECREF_ALL(diff, patch, stored);

    /* Several new fields at once: exactly those. */
    stored = stored_doc(MINIMAL);
    diff = patch_diff(stored,
                      "{\"reason\":\"r\",\"attribution\":\"claimed\",\"impacts\":[\"health_care\","
                      "\"education\"],\"casualties\":[{\"outcome\":\"killed\",\"count\":2,"
                      "\"count_min\":1,\"count_max\":4,\"role\":\"teacher\"}]}",
                      &e, NULL);
    ck_assert_ptr_nonnull(diff);
    json_t *want = loads(
        "{\"attribution\":{\"from\":\"unknown\",\"to\":\"claimed\"},"
        " \"impacts\":{\"from\":[],\"to\":[\"education\",\"health_care\"]},"
        " \"casualties\":{\"from\":[{\"outcome\":\"killed\",\"sex\":\"unknown\",\"age_group\":"
        "\"unknown\",\"count\":2,\"count_min\":null,\"count_max\":null,\"role\":null,\"age\":null,"
        "\"name\":null}],\"to\":[{\"outcome\":\"killed\",\"sex\":\"unknown\",\"age_group\":"
        "\"unknown\",\"count\":2,\"count_min\":1,\"count_max\":4,\"role\":\"teacher\",\"age\":null,"
        "\"name\":null}]}}");
    ck_assert(json_equal(diff, want));
    DECREF_ALL(want, diff, stored);
}
END_TEST

START_TEST(record_patch_noops)
{
    static const char *const noops[] = {
        "{\"reason\":\"r\",\"attribution\":\"claimed\"}",
        /* impacts are a set: any order is the same */
        "{\"reason\":\"r\",\"impacts\":[\"health_care\",\"education\"]}",
        "{\"reason\":\"r\",\"impacts\":[\"education\",\"health_care\"]}",
        "{\"reason\":\"r\",\"tactic\":\"abduction\",\"abducted\":[{\"sex\":\"female\","
        "\"age_group\":\"adult\",\"count\":3},{\"sex\":\"unknown\",\"age_group\":\"child\","
        "\"count\":4}]}",
        "{\"reason\":\"r\",\"abducted\":[{\"sex\":\"female\",\"age_group\":\"adult\",\"count\":3},"
        "{\"age_group\":\"child\",\"count\":4}]}",
    };
    assert_noops(WIDE, noops, sizeof noops / sizeof noops[0]);
    static const char *const default_noops[] = {
        "{\"reason\":\"r\",\"attribution\":null}",
        "{\"reason\":\"r\",\"attribution\":\"unknown\"}",
        "{\"reason\":\"r\",\"impacts\":[]}",
        "{\"reason\":\"r\",\"impacts\":null}",
        "{\"reason\":\"r\",\"abducted\":[]}",
        "{\"reason\":\"r\",\"abducted\":null}",
        "{\"reason\":\"r\",\"casualties\":[{\"outcome\":\"killed\",\"count\":2,\"count_min\":null,"
        "\"count_max\":null,\"role\":null}]}",
    };
    assert_noops(MINIMAL, default_noops, sizeof default_noops / sizeof default_noops[0]);
    static const char *const impacts_only_noops[] = {
        "{\"reason\":\"r\",\"casualties\":[]}",
        "{\"reason\":\"r\",\"impacts\":[\"education\"],\"abducted\":null}",
    };
    assert_noops(IMPACTS_ONLY, impacts_only_noops, 2);
}
END_TEST

START_TEST(record_patch_refusals)
{
    static const struct {
        const char *stored, *patch, *code, *field;
    } cases[] = {
        /* The tactic leaves abduction while persons abducted remain. */
        {WIDE, "{\"reason\":\"r\",\"tactic\":\"ground_engagement\"}", ERR_INVALID_FIELD,
         "abducted"},
        /* Abducted on an incident whose tactic is not one of abduction. */
        {MINIMAL, "{\"reason\":\"r\",\"abducted\":[{\"count\":1}]}", ERR_INVALID_FIELD, "abducted"},
        /* The last impact removed from an incident without casualties. */
        {IMPACTS_ONLY, "{\"reason\":\"r\",\"impacts\":[]}", ERR_INVALID_FIELD, "casualties"},
        {IMPACTS_ONLY, "{\"reason\":\"r\",\"impacts\":null}", ERR_INVALID_FIELD, "casualties"},
        {WIDE, "{\"reason\":\"r\",\"impacts\":[\"education\",\"education\"]}", ERR_INVALID_FIELD,
         "impacts[1]"},
        {WIDE, "{\"reason\":\"r\",\"impacts\":[\"cinema\"]}", ERR_UNKNOWN_CODE, "impacts[0]"},
        {WIDE, "{\"reason\":\"r\",\"attribution\":\"rumoured\"}", ERR_UNKNOWN_CODE, "attribution"},
        {MINIMAL,
         "{\"reason\":\"r\",\"casualties\":[{\"outcome\":\"killed\",\"count\":2,\"count_min\":3}]}",
         ERR_INVALID_FIELD, "casualties[0].count_min"},
        {MINIMAL,
         "{\"reason\":\"r\",\"casualties\":[{\"outcome\":\"killed\",\"count\":2,\"role\":\"none\"}]"
         "}",
         ERR_UNKNOWN_CODE, "casualties[0].role"},
        {WIDE, "{\"reason\":\"r\",\"abducted\":[{\"count\":1},{\"count\":1,\"sex\":\"unknown\"}]}",
         ERR_INVALID_FIELD, "abducted[1]"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *stored = stored_doc(cases[i].stored);
        struct api_error e;
        memset(&e, 0, sizeof e);
        json_t *diff = patch_diff(stored, cases[i].patch, &e, NULL);
        ck_assert_msg(diff == NULL, "accepted %s", cases[i].patch);
        ck_assert_msg(strcmp(e.code, cases[i].code) == 0 && strcmp(e.field, cases[i].field) == 0,
                      "%s: expected %s at %s, got %s at %s", cases[i].patch, cases[i].code,
                      cases[i].field, e.code, e.field);
        json_decref(stored);
    }
}
END_TEST

START_TEST(record_diff_rules)
{
    static const struct {
        const char *from, *to, *want;
    } cases[] = {
        {"{\"attribution\":\"claimed\"}", "{\"attribution\":\"unknown\"}",
         "{\"attribution\":{\"from\":\"claimed\",\"to\":\"unknown\"}}"},
        {"{\"impacts\":[\"education\"]}", "{\"impacts\":[\"education\",\"health_care\"]}",
         "{\"impacts\":{\"from\":[\"education\"],\"to\":[\"education\",\"health_care\"]}}"},
        {"{\"impacts\":[]}", "{\"impacts\":[]}", "{}"},
        {"{\"abducted\":[{\"count\":1}]}", "{\"abducted\":[{\"count\":2}]}",
         "{\"abducted\":{\"from\":[{\"count\":1}],\"to\":[{\"count\":2}]}}"},
        {"{\"casualties\":[{\"count\":2,\"count_max\":null}]}",
         "{\"casualties\":[{\"count\":2,\"count_max\":3}]}",
         "{\"casualties\":{\"from\":[{\"count\":2,\"count_max\":null}],"
         "\"to\":[{\"count\":2,\"count_max\":3}]}}"},
        {"{\"casualties\":[{\"count\":2,\"role\":\"teacher\"}]}",
         "{\"casualties\":[{\"count\":2,\"role\":\"teacher\"}]}", "{}"},
        /* Not client fields: no diff. */
        {"{\"party_group\":\"age\",\"killed\":1}", "{\"party_group\":\"pgf\",\"killed\":2}", "{}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *a = loads(cases[i].from), *b = loads(cases[i].to), *want = loads(cases[i].want);
        json_t *d = incident_diff(a, b);
        ck_assert_msg(json_is_object(d) && json_equal(d, want), "diff of %s and %s", cases[i].from,
                      cases[i].to);
        DECREF_ALL(d, want, a, b);
    }
    /* Between two documents: exactly the new fields that differ. */
    json_t *a = stored_doc(WIDE), *b = stored_doc(MINIMAL);
    json_t *d = incident_diff(a, b);
    static const char *const changed[] = {"tactic",   "attribution", "impacts", "casualties",
                                          "abducted", "sources",     NULL};
    assert_keys(d, changed, "WIDE to MINIMAL");
    DECREF_ALL(d, b, a);
}
END_TEST

Suite *suite_incident(void)
{
    Suite *s = suite_create("incident");
    TCase *tc = tcase_create("valid");
    tcase_add_test(tc, fixture_taxonomy_sorted);
    tcase_add_test(tc, valid_minimal_defaults);
    tcase_add_test(tc, valid_null_means_default);
    tcase_add_test(tc, valid_full);
    tcase_add_loop_test(tc, valid_variants, 0, (int)(sizeof valid_cases / sizeof valid_cases[0]));
    tcase_add_test(tc, valid_edge_lengths_stored);
    tcase_add_test(tc, valid_casualty_and_source_counts);
    tcase_add_test(tc, valid_today_not_future);
    suite_add_tcase(s, tc);

    tc = tcase_create("rules");
    tcase_add_loop_test(tc, rules, 0, (int)(sizeof rule_cases / sizeof rule_cases[0]));
    tcase_add_test(tc, rule_group_and_source_limits);
    tcase_add_test(tc, rule_big_integer_count);
    tcase_add_test(tc, unknown_code_is_retryable);
    suite_add_tcase(s, tc);

    tc = tcase_create("totals");
    tcase_add_test(tc, totals);
    tcase_add_test(tc, totals_large);
    suite_add_tcase(s, tc);

    tc = tcase_create("views");
    tcase_add_test(tc, document_defaults_and_round_trip);
    tcase_add_test(tc, document_time_and_date_format);
    tcase_add_test(tc, view_all);
    tcase_add_test(tc, view_analyst);
    tcase_add_test(tc, view_monitor_and_personal);
    tcase_add_test(tc, view_null_versus_absent);
    tcase_add_test(tc, redact_document_and_changes);
    suite_add_tcase(s, tc);

    tc = tcase_create("patch");
    tcase_add_test(tc, patch_changes_one_field);
    tcase_add_test(tc, patch_noop_gives_empty_diff);
    tcase_add_test(tc, patch_clear_and_replace);
    tcase_add_test(tc, patch_shape_errors);
    tcase_add_test(tc, diff_rules);
    suite_add_tcase(s, tc);

    tc = tcase_create("status");
    tcase_add_test(tc, status_valid);
    tcase_add_test(tc, status_invalid);
    suite_add_tcase(s, tc);

    tc = tcase_create("ids");
    tcase_add_test(tc, id_parse);
    suite_add_tcase(s, tc);

    tc = tcase_create("cap");
    tcase_add_test(tc, cap_group_within_total);
    tcase_add_test(tc, cap_total_at_limit_accepted);
    tcase_add_test(tc, cap_total_over_limit_names_casualties);
    tcase_add_test(tc, cap_groups_over_their_cap);
    tcase_add_test(tc, cap_amendment_revalidated);
    suite_add_tcase(s, tc);

    tc = tcase_create("record");
    tcase_add_test(tc, record_wide_fields_parsed);
    tcase_add_test(tc, record_defaults_when_absent);
    tcase_add_test(tc, record_zero_casualties_with_other_harm);
    tcase_add_test(tc, record_impacts_at_most_32);
    tcase_add_test(tc, record_abducted_limits);
    tcase_add_test(tc, record_cap_uses_high_estimates);
    tcase_add_test(tc, record_rollup_counts_by_hand);
    tcase_add_test(tc, record_rollup_counts_without_casualties);
    tcase_add_test(tc, record_impacts_key);
    tcase_add_test(tc, record_document_round_trip);
    tcase_add_test(tc, record_views_show_the_new_fields);
    tcase_add_test(tc, record_patch_changes_new_fields);
    tcase_add_test(tc, record_patch_noops);
    tcase_add_test(tc, record_patch_refusals);
    tcase_add_test(tc, record_diff_rules);
    suite_add_tcase(s, tc);
    return s;
}
