/*
 * libFuzzer harness: what the form routes read from a phone or a Kobo
 * server, as POST /openrosa/submission and POST /v1/ingest/kobo read it.
 *
 * bytes -> three readers, each on the same input:
 *   - multipart_parse with boundary "B" (the body of an OpenRosa
 *     submission), then each xml_submission_file part as below;
 *   - instance_from_xml (libxml2 under civcas's limits: no DTD, no entity,
 *     no network, UTF-8, bounded depth and nodes) -> form_to_incident ->
 *     incident_from_json against the fixed taxonomy of fuzz_taxonomy.h;
 *   - json_parse_strict -> instance_from_kobo -> the same mapping.
 *
 * Besides the sanitizers' findings the harness aborts when a reader that
 * refuses its input leaves its api_error unfilled (the client would get a
 * 500 for a 400), when multipart_parse hands back a part outside the body,
 * or when a form that maps to an incident has no instanceID.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/incident.h"
#include "forms/form.h"
#include "forms/instance.h"
#include "fuzz_support.h"
#include "fuzz_taxonomy.h"
#include "util/jsonv.h"
#include "util/mem.h"
#include "util/multipart.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A filled form's tree to an incident, as the form routes do. */
static void map_tree(json_t *tree)
{
    struct api_error e;
    memset(&e, 0, sizeof e);
    json_t *doc = NULL;
    struct form_ids ids = {0};
    if (!form_to_incident(tree, &doc, &ids, &e)) {
        fuzz_check_error("fuzz_submission", &e, "form_to_incident");
        return;
    }
    if (!ids.instance) {
        fprintf(stderr, "fuzz_submission: a form mapped without an instanceID\n");
        abort();
    }
    struct incident inc;
    memset(&e, 0, sizeof e);
    if (!incident_from_json(doc, &fz_taxonomy, &inc, &e)) {
        fuzz_check_error("fuzz_submission", &e, "incident_from_json");
        form_error_path(tree, &e);
        fuzz_check_error("fuzz_submission", &e, "form_error_path");
    }
    incident_free(&inc); /* what a failed validation filled, too */
    json_decref(doc);
}

static void as_xml(const char *data, size_t size)
{
    struct api_error e;
    memset(&e, 0, sizeof e);
    json_t *tree = NULL;
    if (!instance_from_xml(data, size, &tree, &e)) {
        fuzz_check_error("fuzz_submission", &e, "instance_from_xml");
        return;
    }
    map_tree(tree);
    json_decref(tree);
}

static void as_multipart(const char *data, size_t size)
{
    struct api_error e;
    memset(&e, 0, sizeof e);
    struct multipart_part parts[MULTIPART_MAX_PARTS];
    size_t n = 0;
    if (!multipart_parse("multipart/form-data; boundary=B", data, size, parts, &n, &e)) {
        fuzz_check_error("fuzz_submission", &e, "multipart_parse");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (parts[i].data < data || parts[i].len > size ||
            parts[i].data + parts[i].len > data + size) {
            fprintf(stderr, "fuzz_submission: part %zu lies outside the body\n", i);
            abort();
        }
        if (strcmp(parts[i].name, "xml_submission_file") == 0)
            as_xml(parts[i].data, parts[i].len);
    }
}

static void as_kobo(const char *data, size_t size)
{
    struct api_error e;
    memset(&e, 0, sizeof e);
    json_t *push = NULL, *tree = NULL;
    if (!json_parse_strict(data, size, &push, &e)) {
        fuzz_check_error("fuzz_submission", &e, "json_parse_strict");
        return;
    }
    memset(&e, 0, sizeof e);
    if (instance_from_kobo(push, &tree, &e)) {
        map_tree(tree);
        json_decref(tree);
    } else {
        fuzz_check_error("fuzz_submission", &e, "instance_from_kobo");
    }
    json_decref(push);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mem_init();
    fuzz_taxonomy_check();
    instance_init();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data;
    as_multipart(text, size);
    as_xml(text, size);
    as_kobo(text, size);
    return 0;
}
