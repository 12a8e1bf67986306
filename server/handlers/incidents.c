/* /v1/incidents: create, read, list, amend, change status, revisions. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "domain/incident.h"
#include "domain/incident_filter.h"
#include "domain/taxonomy.h"
#include "handlers/handlers.h"
#include "store/incidents.h"
#include "store/taxonomy.h"
#include "util/crypto.h"
#include "util/ids.h"
#include "util/jsonv.h"
#include "util/mem.h"

#define IDEMPOTENCY_KEY_MAX 128

/* What the caller may see of an incident. */
unsigned handler_incident_view(const struct http_request *r)
{
    switch (r->who.role) {
    case ROLE_ADMIN:
    case ROLE_REVIEWER:
        return VIEW_ALL;
    case ROLE_MONITOR: /* only ever reads its own incidents */
        return VIEW_CONFIDENTIAL | VIEW_DETAIL;
    default:
        return 0;
    }
}

/* Monitors see only the incidents they created. */
long long handler_incident_owner(const struct http_request *r)
{
    return r->who.role == ROLE_MONITOR ? r->who.key_id : 0;
}

static void reply_incident(struct http_request *r, int status, const struct incident *inc)
{
    char version[16];
    snprintf(version, sizeof version, "%d", inc->version);
    http_add_etag(r, version);
    http_reply_json(r, status, incident_to_json(inc, handler_incident_view(r), (int)cfg.verify_min_source_types));
}

static void reply_not_found(struct http_request *r)
{
    struct api_error e;
    api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such incident");
    http_reply_error(r, &e);
}

/* A code the cached taxonomy lacks triggers one refresh first, so codes
 * loaded a moment ago are accepted. */
bool handler_incident_validate(struct http_request *r, json_t *doc, struct incident *inc,
                               struct api_error *e)
{
    for (int attempt = 0; attempt < 2; attempt++) {
        struct taxonomy *t = store_taxonomy_acquire(r->db, attempt > 0, e);
        if (!t)
            return false;
        bool ok = incident_from_json(doc, t, inc, e);
        store_taxonomy_release(t);
        if (ok)
            return true;
        incident_free(inc);
        if (!incident_error_is_unknown_code(e))
            return false;
    }
    return false;
}

static bool parse_body(struct http_request *r, json_t **doc, struct api_error *e)
{
    return json_parse_strict(r->body.data ? r->body.data : "", r->body.len, doc, e);
}

static bool idempotency_key_valid(const char *key)
{
    size_t n = strlen(key);
    if (n < 1 || n > IDEMPOTENCY_KEY_MAX)
        return false;
    for (const char *p = key; *p; p++)
        if ((unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
            return false;
    return true;
}

/* Replays a creation: 201 with the incident as it stands now, seen as the
 * caller may see it. The idempotency record keeps only the incident's id
 * (never what was submitted: narratives and personal details an amendment
 * removed must not come back through a replay). */
static void reply_replay(struct http_request *r, const char *record)
{
    struct api_error e;
    json_t *doc = json_loads(record, 0, NULL);
    long long id = 0;
    struct incident inc;
    bool found = false;
    if (!id_parse(json_string_value(json_object_get(doc, "id")), &id))
        err_internal(&e);
    json_decref(doc);
    if (!id || !store_incident_load(r->db, id, handler_incident_owner(r), false, &inc, &found, &e)) {
        http_reply_error(r, &e);
        return;
    }
    if (!found) {
        reply_not_found(r);
        return;
    }
    char location[48];
    snprintf(location, sizeof location, "/v1/incidents/%lld", inc.id);
    http_add_header(r, "Location", location);
    http_add_header(r, "Idempotent-Replayed", "true");
    reply_incident(r, 201, &inc);
    incident_free(&inc);
}

bool handler_incident_insert(struct http_request *r, struct incident *inc, struct api_error *e)
{
    json_t *document = incident_document(inc);
    json_t *empty = json_object();
    json_t *changes = incident_diff(empty, document);
    bool ok = store_incident_insert(r->db, inc, document, changes, r->who.key_id, r->who.name, e);
    json_decref(changes);
    json_decref(empty);
    json_decref(document);
    return ok;
}

void handle_incident_create(struct http_request *r)
{
    struct api_error e;
    json_t *doc = NULL;
    struct incident inc = {0};
    char *stored_response = NULL, *response = NULL;
    bool in_tx = false;

    const char *idem = http_header(r, "Idempotency-Key");
    if (idem && !idempotency_key_valid(idem)) {
        err_invalid(&e, "Idempotency-Key",
                    "Idempotency-Key must be 1 to %d printable ASCII characters",
                    IDEMPOTENCY_KEY_MAX);
        goto fail;
    }
    if (!parse_body(r, &doc, &e) || !handler_incident_validate(r, doc, &inc, &e))
        goto fail;

    db_begin_deferred(r->db);
    in_tx = true;
    if (idem) {
        char hash[2 * SHA256_LEN + 1], stored_hash[2 * SHA256_LEN + 1];
        json_fingerprint(doc, hash);
        int claim = store_idempotency_claim(r->db, r->who.key_id, idem, hash, stored_hash,
                                            &stored_response, &e);
        if (claim < 0)
            goto fail;
        if (claim == 0) {
            db_rollback(r->db);
            in_tx = false;
            if (strcmp(hash, stored_hash) != 0 || !stored_response) {
                api_error_set(&e, 409, ERR_CONFLICT, "Idempotency-Key",
                              "this Idempotency-Key was used with a different request body");
                goto fail;
            }
            reply_replay(r, stored_response);
            goto done;
        }
    }
    if (!handler_incident_insert(r, &inc, &e))
        goto fail;
    json_t *body = incident_to_json(&inc, handler_incident_view(r), (int)cfg.verify_min_source_types);
    response = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(body);
    char record[48];
    snprintf(record, sizeof record, "{\"id\":\"%lld\"}", inc.id);
    if (!store_incident_commit_create(r->db, inc.id, r->who.key_id, idem, record, &e))
        goto fail;
    in_tx = false;
    char location[48], version[16];
    snprintf(location, sizeof location, "/v1/incidents/%lld", inc.id);
    snprintf(version, sizeof version, "%d", inc.version);
    http_add_header(r, "Location", location);
    http_add_etag(r, version);
    http_reply_bytes(r, 201, "application/json", response, strlen(response));
    goto done;
fail:
    if (in_tx)
        db_rollback(r->db);
    http_reply_error(r, &e);
done:
    free(response);
    free(stored_response);
    json_decref(doc);
    incident_free(&inc);
}

void handle_incident_get(struct http_request *r)
{
    struct api_error e;
    struct incident inc;
    bool found;
    if (!store_incident_load(r->db, r->path_id, handler_incident_owner(r), false, &inc, &found, &e)) {
        http_reply_error(r, &e);
        return;
    }
    if (!found) {
        reply_not_found(r);
        return;
    }
    reply_incident(r, 200, &inc);
    incident_free(&inc);
}

/* ---- listing ------------------------------------------------------------ */

static const char *query_param(void *ctx, const char *name)
{
    return http_query_get(ctx, name);
}

static bool list_filter(struct http_request *r, const struct http_query *q,
                        struct incident_filter *f, struct api_error *e)
{
    /* The checks that need no taxonomy answer before it is read, so a bad
     * limit is a 400 even when the taxonomy cannot be had (a 503). */
    if (!incident_filter_parse_scalars(query_param, (void *)q, handler_incident_owner(r), f, e))
        return false;
    struct taxonomy *t = store_taxonomy_acquire(r->db, false, e);
    if (!t)
        return false;
    bool ok = incident_filter_parse_codes(query_param, (void *)q, t, f, e);
    store_taxonomy_release(t);
    return ok;
}

void handle_incident_list(struct http_request *r)
{
    struct api_error e;
    struct http_query q;
    struct incident_filter f;
    if (!http_query_parse(r, incident_filter_params, &q, &e) || !list_filter(r, &q, &f, &e)) {
        http_reply_error(r, &e);
        return;
    }
    struct incident *items = NULL;
    size_t n = 0;
    char(*positions)[24] = xcalloc((size_t)f.limit + 1, sizeof *positions);
    char horizon[24] = "";
    if (!store_incident_list(r->db, &f, &items, &n, positions, horizon, &e)) {
        free(positions);
        http_reply_error(r, &e);
        return;
    }
    bool by_change = f.changed_since != NULL;
    size_t shown = n > (size_t)f.limit ? (size_t)f.limit : n;
    json_t *list = json_array();
    unsigned view = handler_incident_view(r);
    for (size_t i = 0; i < shown; i++)
        json_array_append_new(list, incident_to_json(&items[i], view,
                                                     (int)cfg.verify_min_source_types));
    json_t *body = json_object();
    json_object_set_new(body, "items", list);
    char cursor[128];
    if (n > (size_t)f.limit) {
        incident_cursor_encode(by_change, positions[shown - 1], items[shown - 1].id, cursor,
                               sizeof cursor);
        json_object_set_new(body, "next_cursor", json_string(cursor));
    } else {
        json_object_set_new(body, "next_cursor", json_null());
    }
    if (f.changed_since) {
        if (shown > 0) {
            incident_cursor_encode(by_change, positions[shown - 1], items[shown - 1].id, cursor,
                               sizeof cursor);
            json_object_set_new(body, "resume_cursor", json_string(cursor));
        } else {
            /* Nothing new: resume from the oldest transaction still in
             * flight, which is at or past any cursor given. */
            incident_cursor_encode(by_change, horizon, INT64_MAX, cursor, sizeof cursor);
            json_object_set_new(body, "resume_cursor", json_string(cursor));
        }
    }
    for (size_t i = 0; i < n; i++)
        incident_free(&items[i]);
    free(items);
    free(positions);
    http_reply_json(r, 200, body);
}

/* ---- amendments and status ------------------------------------------------ */

/* If-Match: "N". Returns 1 with *version set, 0 when absent, -1 malformed. */
static int if_match(struct http_request *r, int *version)
{
    const char *v = http_header(r, MHD_HTTP_HEADER_IF_MATCH);
    if (!v)
        return 0;
    size_t n = strlen(v);
    if (n < 3 || n > 12 || v[0] != '"' || v[n - 1] != '"' || v[1] == '0')
        return -1;
    long x = 0;
    for (size_t i = 1; i + 1 < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return -1;
        x = x * 10 + (v[i] - '0');
    }
    if (x < 1 || x > 2147483647L)
        return -1;
    *version = (int)x;
    return 1;
}

static bool check_if_match(struct http_request *r, bool required, int *version, bool *given,
                           struct api_error *e)
{
    int m = if_match(r, version);
    *given = m == 1;
    if (m < 0)
        return err_invalid(e, "If-Match", "If-Match must be the quoted version, e.g. \"3\"");
    if (m == 0 && required)
        return api_error_set(e, 428, ERR_PRECONDITION_REQUIRED, "If-Match",
                             "send If-Match with the version you amend, e.g. If-Match: \"3\"");
    return true;
}

static bool version_matches(const struct incident *inc, bool given, int version,
                            struct api_error *e)
{
    if (given && version != inc->version)
        return api_error_set(e, 412, ERR_PRECONDITION_FAILED, "If-Match",
                             "the incident is at version %d, not %d", inc->version, version);
    return true;
}

bool handler_incident_amend(struct http_request *r, struct incident *cur, struct incident *next,
                            const char *reason, bool *changed, struct api_error *e)
{
    /* Sources merged in from a duplicate stay: the client's fields (a
     * PATCH, an edited form) cannot carry them. */
    if (!incident_sources_keep_merged(next, cur, e))
        return false;
    json_t *stored = incident_document(cur);
    json_t *document = incident_document(next);
    json_t *changes = incident_diff(stored, document);
    bool ok = true;
    *changed = json_object_size(changes) > 0;
    if (*changed) {
        /* The amendment keeps who, when and the status. */
        next->id = cur->id;
        next->version = cur->version;
        next->status = cur->status;
        next->duplicate_of = cur->duplicate_of;
        next->verification_override = cur->verification_override;
        next->created_by = cur->created_by;
        cur->created_by = NULL;
        memcpy(next->created_at, cur->created_at, sizeof next->created_at);
        ok = store_incident_amend(r->db, next, document, changes, reason, r->who.key_id, e);
    }
    json_decref(changes);
    json_decref(document);
    json_decref(stored);
    return ok;
}

void handle_incident_patch(struct http_request *r)
{
    struct api_error e;
    json_t *patch = NULL, *stored = NULL, *merged = NULL;
    struct incident cur = {0}, next = {0};
    bool in_tx = false, found, given, changed;
    int version;
    const char *reason;

    if (!check_if_match(r, true, &version, &given, &e) || !parse_body(r, &patch, &e))
        goto fail;
    db_begin_deferred(r->db);
    in_tx = true;
    if (!store_incident_load(r->db, r->path_id, handler_incident_owner(r), true, &cur, &found,
                             &e))
        goto fail;
    if (!found) {
        api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such incident");
        goto fail;
    }
    stored = incident_document(&cur);
    if (!version_matches(&cur, given, version, &e) ||
        !(merged = incident_patch_merge(stored, patch, &reason, &e)) ||
        !handler_incident_validate(r, merged, &next, &e) ||
        !handler_incident_amend(r, &cur, &next, reason, &changed, &e))
        goto fail;
    if (!changed) {
        db_rollback(r->db);
        in_tx = false;
        reply_incident(r, 200, &cur);
        goto done;
    }
    if (!db_commit(r->db, &e))
        goto fail;
    in_tx = false;
    reply_incident(r, 200, &next);
    goto done;
fail:
    if (in_tx)
        db_rollback(r->db);
    http_reply_error(r, &e);
done:
    json_decref(merged);
    json_decref(stored);
    json_decref(patch);
    incident_free(&cur);
    incident_free(&next);
}

/* The status of the incident a duplicate marking names, when it needs
 * one: *status NULL when there is no such incident. */
static bool duplicate_target(struct http_request *r, const struct incident *inc,
                             const struct status_change *sc, const char **status,
                             struct api_error *e)
{
    *status = NULL;
    if (!sc->duplicate_of || sc->duplicate_of == inc->id)
        return true;
    struct incident target;
    bool found;
    if (!store_incident_load(r->db, sc->duplicate_of, 0, false, &target, &found, e))
        return false;
    if (found) {
        *status = target.status; /* a static string: outlives target */
        incident_free(&target);
    }
    return true;
}

/* Rewrites the sources of incident kept_id (locked, after the duplicate
 * was) as a new version with a revision: merge adds dup's, otherwise those
 * merged from dup are taken out (nothing written when there are none).
 * The revision's reason says which, with the status change's reason. */
static bool move_sources(struct http_request *r, long long kept_id, const struct incident *dup,
                         bool merge, const char *reason, struct api_error *e)
{
    struct incident kept = {0};
    json_t *before = NULL, *after = NULL, *changes = NULL;
    char *why = NULL;
    bool found, ok = false;
    if (!store_incident_load(r->db, kept_id, 0, true, &kept, &found, e))
        return false;
    if (!found) {
        ok = true; /* duplicate_of is a foreign key: it cannot be gone */
        goto done;
    }
    before = incident_document(&kept);
    if (merge && !incident_sources_merge(&kept, dup, e))
        goto done;
    if (!merge && incident_sources_unmerge(&kept, dup->id) == 0) {
        ok = true;
        goto done;
    }
    after = incident_document(&kept);
    changes = incident_diff(before, after);
    size_t size = strlen(reason) + 96;
    why = xmalloc(size);
    if (merge)
        snprintf(why, size, "sources merged from duplicate %lld: %s", dup->id, reason);
    else
        snprintf(why, size, "duplicate %lld undone, its merged sources removed: %s", dup->id,
                 reason);
    ok = store_incident_amend(r->db, &kept, after, changes, why, r->who.key_id, e);
done:
    free(why);
    json_decref(changes);
    json_decref(after);
    json_decref(before);
    incident_free(&kept);
    return ok;
}

void handle_incident_status(struct http_request *r)
{
    struct api_error e;
    json_t *body = NULL, *document = NULL, *changes = json_object();
    struct incident inc = {0};
    struct status_change sc;
    bool in_tx = false, found, given;
    int version;

    if (!check_if_match(r, false, &version, &given, &e) || !parse_body(r, &body, &e) ||
        !status_change_from_json(body, &sc, &e))
        goto fail;
    db_begin_deferred(r->db);
    in_tx = true;
    if (!store_incident_load(r->db, r->path_id, 0, true, &inc, &found, &e))
        goto fail;
    if (!found) {
        api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such incident");
        goto fail;
    }
    const char *target_status;
    long long was_duplicate_of = inc.duplicate_of;
    if (!version_matches(&inc, given, version, &e) ||
        !duplicate_target(r, &inc, &sc, &target_status, &e) ||
        !incident_status_apply(&inc, &sc, (int)cfg.verify_min_source_types, target_status,
                               changes, &e))
        goto fail;
    /* No longer the duplicate of what it was: the incident kept gives back
     * what it was lent. Then, asked to, lend the sources to the new one. */
    if ((was_duplicate_of && inc.duplicate_of != was_duplicate_of &&
         !move_sources(r, was_duplicate_of, &inc, false, sc.reason, &e)) ||
        (sc.merge_sources && !move_sources(r, inc.duplicate_of, &inc, true, sc.reason, &e)))
        goto fail;
    document = incident_document(&inc);
    if (!store_incident_set_status(r->db, &inc, document, changes, sc.reason, r->who.key_id, &e) ||
        !db_commit(r->db, &e))
        goto fail;
    in_tx = false;
    reply_incident(r, 200, &inc);
    goto done;
fail:
    if (in_tx)
        db_rollback(r->db);
    http_reply_error(r, &e);
done:
    json_decref(changes);
    json_decref(document);
    json_decref(body);
    incident_free(&inc);
}

void handle_incident_revisions(struct http_request *r)
{
    struct api_error e;
    struct incident inc;
    bool found;
    if (!store_incident_load(r->db, r->path_id, handler_incident_owner(r), false, &inc, &found, &e)) {
        http_reply_error(r, &e);
        return;
    }
    if (!found) {
        reply_not_found(r);
        return;
    }
    incident_free(&inc);
    json_t *list = store_incident_revisions(r->db, r->path_id, &e);
    if (!list) {
        http_reply_error(r, &e);
        return;
    }
    unsigned view = handler_incident_view(r);
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) incident_redact_changes(json_object_get(item, "changes"), view);
    http_reply_json(r, 200, json_pack("{s:o}", "items", list));
}
