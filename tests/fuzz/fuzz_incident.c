/*
 * libFuzzer harness: a request body as POST /v1/incidents, PATCH
 * /v1/incidents/{id} and POST /v1/incidents/{id}/status read it.
 *
 * bytes -> json_parse_strict -> incident_from_json (against the fixed
 * taxonomy of fuzz_taxonomy.h) -> on success the stored document, the
 * response for every view, the creation diff and the request fingerprint;
 * then the same bytes as a PATCH merged onto a stored incident (validated,
 * diffed and redacted for every view), and as a status change.
 *
 * Besides the sanitizers' findings (memory errors, undefined behaviour,
 * leaks) the harness aborts when the code breaks one of its own promises:
 *   - a validator that fails leaves its api_error filled (status and code),
 *     else the client would get a 500 for a 400;
 *   - the stored document of an accepted incident is itself accepted, and
 *     validates back to the same document (a PATCH re-validates the stored
 *     document merged with the change, so a document that no longer passes
 *     would make the incident impossible to amend), also after a trip
 *     through JSON text as it is stored;
 *   - a document differs from itself in nothing;
 *   - an accepted incident has casualties unless it records an impact or
 *     persons abducted, each range holds its count (min <= count <= max),
 *     and persons abducted come only with an abduction tactic.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/incident.h"
#include "fuzz_support.h"
#include "fuzz_taxonomy.h"
#include "util/jsonv.h"
#include "util/mem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REQUIRED_SOURCE_TYPES 3

/* The stored incident a PATCH body is merged onto (kept for the process). */
static const char STORED[] =
    "{\"occurred_on\":\"2024-02-29\",\"date_precision\":\"week\",\"time_of_day\":\"09:05\","
    "\"location\":{\"admin1\":\"AF27\",\"admin2\":\"AF2701\",\"place\":\"Bazaar\","
    "\"lat\":31.61,\"lon\":65.71,\"precision\":\"near\"},"
    "\"tactic\":\"ied_suicide\",\"weapon\":\"heavy_explosive\",\"perpetrator\":\"taliban\","
    "\"casualties\":[{\"outcome\":\"killed\",\"sex\":\"male\",\"age_group\":\"adult\","
    "\"count\":1,\"age\":34,\"name\":\"A. Person\"},"
    "{\"outcome\":\"killed\",\"sex\":\"female\",\"age_group\":\"child\",\"count\":3},"
    "{\"outcome\":\"injured\",\"count\":7}],"
    "\"sources\":[{\"type\":\"victim\",\"reference\":\"interview 12\"},"
    "{\"type\":\"medical\",\"reference\":null},{\"type\":\"media\"}],"
    "\"narrative\":\"Text\",\"external_ref\":\"KDH-2024-17\"}";
static json_t *stored_doc;

static void fail(const char *what, const json_t *doc)
{
    fprintf(stderr, "fuzz_incident: %s\n", what);
    if (doc) {
        char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        fprintf(stderr, "document: %s\n", text ? text : "(not serialisable)");
        free(text);
    }
    abort();
}

/* Text of a JSON value; aborts when it cannot be written. Caller frees. */
static char *dump(const json_t *v, size_t flags)
{
    char *text = json_dumps(v, flags);
    if (!text)
        fail("a JSON value could not be serialised", NULL);
    return text;
}

static void setup_server_fields(struct incident *inc)
{
    inc->id = 42;
    inc->version = 3;
    inc->status = "reported";
    inc->created_by = xstrdup("monitor-1");
    snprintf(inc->created_at, sizeof inc->created_at, "2024-03-01T10:00:00.000000Z");
    snprintf(inc->updated_at, sizeof inc->updated_at, "2024-03-02T10:00:00.000000Z");
}

/* Validates doc; on failure checks the error and frees what was filled. */
static bool validate(json_t *doc, struct incident *inc, const char *who)
{
    struct api_error e;
    memset(&e, 0, sizeof e);
    if (incident_from_json(doc, &fz_taxonomy, inc, &e))
        return true;
    fuzz_check_error("fuzz_incident", &e, who);
    incident_free(inc);
    return false;
}

/* Every view of an incident as a client reads it. */
static void render_views(const struct incident *inc)
{
    for (unsigned view = 0; view <= VIEW_ALL; view++) {
        json_t *out = incident_to_json(inc, view, REQUIRED_SOURCE_TYPES);
        free(dump(out, JSON_COMPACT));
        json_decref(out);
    }
    long killed, injured;
    int types;
    incident_totals(inc, &killed, &injured, &types);
    if (killed < 0 || injured < 0 || killed + injured > INCIDENT_MAX_CASUALTIES || types < 0 ||
        (size_t)types > inc->nsources)
        fail("incident_totals out of range", NULL);
    /* No casualties only where harm of another kind is recorded. */
    if (killed + injured == 0 && inc->nimpacts == 0 && inc->nabducted == 0)
        fail("an incident without casualties, impacts or abductions was accepted", NULL);
    if ((inc->ncasualties == 0) != (killed + injured == 0))
        fail("incident_totals disagrees with the casualty groups", NULL);
    for (size_t i = 0; i < inc->ncasualties; i++) {
        const struct casualty *c = &inc->casualties[i];
        if ((c->count_min >= 0 && (c->count_min > c->count || c->count_min < 1)) ||
            (c->count_max >= 0 && c->count_max < c->count))
            fail("a casualty group's range does not hold its count", NULL);
    }
    if (inc->nabducted > 0 && !taxonomy_find(&fz_taxonomy.tactics, inc->tactic)->abduction)
        fail("persons abducted accepted for a tactic that is not an abduction", NULL);
}

/* The document of an accepted incident must be accepted again, unchanged,
 * both as a value and after a trip through its JSON text. */
static void check_round_trip(json_t *document)
{
    struct incident again;
    if (!validate(document, &again, "incident_from_json(stored document)"))
        fail("the stored document of an accepted incident is rejected", document);
    json_t *document2 = incident_document(&again);
    if (!json_equal(document, document2))
        fail("the stored document changes when validated again", document);
    json_decref(document2);
    incident_free(&again);

    char *text = dump(document, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_t *reparsed;
    struct api_error e;
    memset(&e, 0, sizeof e);
    if (!json_parse_strict(text, strlen(text), &reparsed, &e))
        fail("the stored document's JSON text is not accepted by json_parse_strict", document);
    free(text);
    if (!json_equal(document, reparsed))
        fail("the stored document changes through its JSON text", document);
    json_decref(reparsed);

    json_t *none = incident_diff(document, document);
    if (json_object_size(none) != 0)
        fail("a document differs from itself", document);
    json_decref(none);
}

/* Redacts a change list for every view, on copies. */
static void redact_all(json_t *changes)
{
    for (unsigned view = 0; view <= VIEW_ALL; view++) {
        json_t *copy = json_deep_copy(changes);
        incident_redact_changes(copy, view);
        free(dump(copy, JSON_COMPACT));
        json_decref(copy);
    }
}

/* POST /v1/incidents. */
static void as_create(json_t *doc)
{
    struct incident inc;
    if (!validate(doc, &inc, "incident_from_json(body)"))
        return;
    setup_server_fields(&inc);
    json_t *document = incident_document(&inc);
    render_views(&inc);
    check_round_trip(document);
    json_t *empty = json_object();
    json_t *changes = incident_diff(empty, document);
    redact_all(changes);
    json_decref(changes);
    json_decref(empty);
    /* The idempotency fingerprint of the request body. */
    free(dump(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17)));
    json_decref(document);
    incident_free(&inc);
}

/* PATCH /v1/incidents/{id}. */
static void as_patch(json_t *patch)
{
    struct api_error e;
    memset(&e, 0, sizeof e);
    const char *reason = NULL;
    json_t *merged = incident_patch_merge(stored_doc, patch, &reason, &e);
    if (!merged) {
        fuzz_check_error("fuzz_incident", &e, "incident_patch_merge");
        return;
    }
    if (!reason)
        fail("incident_patch_merge succeeded without a reason", patch);
    struct incident next;
    if (validate(merged, &next, "incident_from_json(merged)")) {
        setup_server_fields(&next);
        json_t *document = incident_document(&next);
        render_views(&next);
        check_round_trip(document);
        json_t *changes = incident_diff(stored_doc, document);
        redact_all(changes);
        json_decref(changes);
        json_decref(document);
        incident_free(&next);
    }
    json_decref(merged);
}

/* POST /v1/incidents/{id}/status. */
static void as_status(json_t *doc)
{
    struct api_error e;
    memset(&e, 0, sizeof e);
    struct status_change sc;
    if (!status_change_from_json(doc, &sc, &e)) {
        fuzz_check_error("fuzz_incident", &e, "status_change_from_json");
        return;
    }
    if (!sc.status || !sc.reason || (strcmp(sc.status, "duplicate") == 0) != (sc.duplicate_of > 0))
        fail("status_change_from_json accepted an inconsistent change", doc);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mem_init();
    fuzz_taxonomy_check();
    struct api_error e;
    memset(&e, 0, sizeof e);
    json_t *doc;
    struct incident inc;
    if (!json_parse_strict(STORED, sizeof STORED - 1, &doc, &e) ||
        !incident_from_json(doc, &fz_taxonomy, &inc, &e)) {
        fprintf(stderr, "fuzz_incident: the stored incident does not validate: %s\n", e.message);
        abort();
    }
    stored_doc = incident_document(&inc);
    incident_free(&inc);
    json_decref(doc);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_error e;
    memset(&e, 0, sizeof e);
    json_t *doc;
    if (!json_parse_strict((const char *)data, size, &doc, &e)) {
        fuzz_check_error("fuzz_incident", &e, "json_parse_strict");
        return 0;
    }
    if (!json_is_object(doc))
        fail("json_parse_strict returned a non-object", doc);
    as_create(doc);
    as_patch(doc);
    as_status(doc);
    json_decref(doc);
    return 0;
}
