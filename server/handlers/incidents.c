/* /v1/incidents: create, read, list, amend, change status, revisions. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "domain/incident.h"
#include "domain/taxonomy.h"
#include "handlers/handlers.h"
#include "store/incidents.h"
#include "store/taxonomy.h"
#include "util/crypto.h"
#include "util/dates.h"
#include "util/jsonv.h"
#include "util/mem.h"

#define IDEMPOTENCY_KEY_MAX 128

/* What the caller may see of an incident. */
static unsigned view_of(const struct http_request *r)
{
    switch (r->who.role) {
    case ROLE_ADMIN:
    case ROLE_REVIEWER:
        return VIEW_ALL;
    case ROLE_MONITOR: /* only ever reads its own incidents */
        return VIEW_CONFIDENTIAL;
    default:
        return 0;
    }
}

/* Monitors see only the incidents they created. */
static long long owner_of(const struct http_request *r)
{
    return r->who.role == ROLE_MONITOR ? r->who.key_id : 0;
}

static void reply_incident(struct http_request *r, int status, const struct incident *inc)
{
    char etag[24];
    snprintf(etag, sizeof etag, "\"%d\"", inc->version);
    http_add_header(r, "ETag", etag);
    http_reply_json(r, status, incident_to_json(inc, view_of(r), (int)cfg.verify_min_source_types));
}

static void reply_not_found(struct http_request *r)
{
    struct api_error e;
    api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such incident");
    http_reply_error(r, &e);
}

/* Validates doc into inc; a code the cached taxonomy lacks triggers one
 * refresh first, so codes loaded a moment ago are accepted. */
static bool validate(struct http_request *r, json_t *doc, struct incident *inc,
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

/* Fingerprint of a request body: parsed, so whitespace and member order do
 * not matter. */
static void body_fingerprint(json_t *doc, char hex[2 * SHA256_LEN + 1])
{
    char *canonical = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    unsigned char digest[SHA256_LEN];
    sha256(canonical, strlen(canonical), digest);
    free(canonical);
    hex_encode(digest, SHA256_LEN, hex);
}

/* Replays a stored 201: the same body and headers as the first time. */
static void reply_replay(struct http_request *r, const char *response)
{
    json_t *doc = json_loads(response, 0, NULL);
    const char *id = json_string_value(json_object_get(doc, "id"));
    json_int_t version = json_integer_value(json_object_get(doc, "version"));
    char location[48], etag[24];
    snprintf(location, sizeof location, "/v1/incidents/%s", id ? id : "");
    snprintf(etag, sizeof etag, "\"%lld\"", (long long)version);
    json_decref(doc);
    http_add_header(r, "Location", location);
    http_add_header(r, "ETag", etag);
    http_add_header(r, "Idempotent-Replayed", "true");
    http_reply_bytes(r, 201, "application/json", response, strlen(response));
}

void handle_incident_create(struct http_request *r)
{
    struct api_error e;
    json_t *doc = NULL, *document = NULL, *changes = NULL, *empty = NULL;
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
    if (!parse_body(r, &doc, &e) || !validate(r, doc, &inc, &e))
        goto fail;
    document = incident_document(&inc);
    empty = json_object();
    changes = incident_diff(empty, document);

    db_begin_deferred(r->db);
    in_tx = true;
    if (idem) {
        char hash[2 * SHA256_LEN + 1], stored_hash[2 * SHA256_LEN + 1];
        body_fingerprint(doc, hash);
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
    if (!store_incident_insert(r->db, &inc, document, changes, r->who.key_id, r->who.name, &e))
        goto fail;
    json_t *body = incident_to_json(&inc, view_of(r), (int)cfg.verify_min_source_types);
    response = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(body);
    if (!store_incident_commit_create(r->db, inc.id, r->who.key_id, idem, response, &e))
        goto fail;
    in_tx = false;
    char location[48], etag[24];
    snprintf(location, sizeof location, "/v1/incidents/%lld", inc.id);
    snprintf(etag, sizeof etag, "\"%d\"", inc.version);
    http_add_header(r, "Location", location);
    http_add_header(r, "ETag", etag);
    http_reply_bytes(r, 201, "application/json", response, strlen(response));
    goto done;
fail:
    if (in_tx)
        db_rollback(r->db);
    http_reply_error(r, &e);
done:
    free(response);
    free(stored_response);
    json_decref(empty);
    json_decref(changes);
    json_decref(document);
    json_decref(doc);
    incident_free(&inc);
}

void handle_incident_get(struct http_request *r)
{
    struct api_error e;
    struct incident inc;
    bool found;
    if (!store_incident_load(r->db, r->path_id, owner_of(r), false, &inc, &found, &e)) {
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

/* Cursors are opaque to clients: base64url of "d|date|id" (by date) or
 * "c|xid|id" (by change). */
static void cursor_encode(char mode, const char *position, long long id, char *out, size_t size)
{
    char plain[64];
    int n = snprintf(plain, sizeof plain, "%c|%s|%lld", mode, position, id);
    char encoded[96];
    base64url_encode((const unsigned char *)plain, (size_t)n, encoded);
    snprintf(out, size, "%s", encoded);
}

static bool cursor_decode(const char *text, char mode, struct incident_filter *f)
{
    unsigned char plain[64];
    size_t len = strlen(text);
    if (len > 80)
        return false;
    long n = base64url_decode(text, len, plain, sizeof plain - 1);
    if (n < 5 || memchr(plain, '\0', (size_t)n))
        return false;
    plain[n] = '\0';
    const char *s = (const char *)plain;
    if (s[0] != mode || s[1] != '|')
        return false;
    const char *bar = strchr(s + 2, '|');
    if (!bar || (size_t)(bar - (s + 2)) >= sizeof f->cursor_a)
        return false;
    memcpy(f->cursor_a, s + 2, (size_t)(bar - (s + 2)));
    f->cursor_a[bar - (s + 2)] = '\0';
    if (!incident_id_parse(bar + 1, &f->cursor_id))
        return false;
    if (mode == 'd') {
        long days;
        return date_parse(f->cursor_a, &days);
    }
    /* A transaction id (xid8) as the listing writes it: decimal digits,
     * no leading zero, at most 2^64 - 1; anything else would reach the
     * database's xid8 input as a forged value. */
    if (!f->cursor_a[0] || (f->cursor_a[0] == '0' && f->cursor_a[1]))
        return false;
    for (const char *p = f->cursor_a; *p; p++)
        if (*p < '0' || *p > '9')
            return false;
    errno = 0;
    (void)strtoull(f->cursor_a, NULL, 10);
    return errno == 0;
}

/* A comma-separated list of codes, each in list (NULL: the enum choices). */
static bool check_code_list(const char *param, const char *value, const struct tx_list *list,
                            const char *const *choices, struct api_error *e)
{
    if (!value)
        return true;
    if (!value[0] || strlen(value) > 2000)
        return err_invalid(e, param, "%s must be a comma-separated list of codes", param);
    char *copy = xstrdup(value);
    bool ok = true;
    char *save = NULL;
    for (char *tok = strtok_r(copy, ",", &save); tok && ok; tok = strtok_r(NULL, ",", &save)) {
        bool known = false;
        if (list)
            known = taxonomy_find(list, tok) != NULL;
        for (const char *const *c = choices; c && *c && !known; c++)
            known = strcmp(*c, tok) == 0;
        if (!known)
            ok = list ? api_error_set(e, 400, ERR_UNKNOWN_CODE, param,
                                      "%s lists a code that is not in the taxonomy", param)
                      : err_invalid(e, param, "%s lists a value that is not allowed", param);
    }
    /* ",," or a trailing comma leaves empty items. */
    if (ok && (value[strlen(value) - 1] == ',' || value[0] == ',' || strstr(value, ",,")))
        ok = err_invalid(e, param, "%s must be a comma-separated list of codes", param);
    free(copy);
    return ok;
}

/* limit, from, to and changed_since: the checks that need no taxonomy. */
static bool filter_scalars(const struct http_query *q, long long owner, struct incident_filter *f,
                           struct api_error *e)
{
    memset(f, 0, sizeof *f);
    f->limit = 50;
    f->owner = owner;
    const char *limit = http_query_get(q, "limit");
    if (limit) {
        char *end;
        long v = strtol(limit, &end, 10);
        if (limit[0] < '0' || limit[0] > '9' || *end || v < 1 || v > 1000)
            return err_invalid(e, "limit", "limit must be an integer from 1 to 1000");
        f->limit = v;
    }
    long from_days = 0, to_days = 0;
    f->from = http_query_get(q, "from");
    f->to = http_query_get(q, "to");
    if (f->from && !date_parse(f->from, &from_days))
        return err_invalid(e, "from", "from must be a date YYYY-MM-DD");
    if (f->to && !date_parse(f->to, &to_days))
        return err_invalid(e, "to", "to must be a date YYYY-MM-DD");
    if (f->from && f->to && from_days > to_days)
        return err_invalid(e, "to", "to may not be before from");
    f->changed_since = http_query_get(q, "changed_since");
    if (f->changed_since && !timestamp_valid(f->changed_since))
        return err_invalid(e, "changed_since",
                           "changed_since must be an RFC 3339 timestamp such as 2026-03-14T09:00:00Z");
    return true;
}

/* The rest of the filter, after filter_scalars: code lists and cursor. */
static bool filter_codes(const struct http_query *q, const struct taxonomy *t,
                         struct incident_filter *f, struct api_error *e)
{
    f->admin1 = http_query_get(q, "admin1");
    f->admin2 = http_query_get(q, "admin2");
    f->tactic = http_query_get(q, "tactic");
    f->perpetrator = http_query_get(q, "perpetrator");
    f->status = http_query_get(q, "status");
    if (!check_code_list("admin1", f->admin1, &t->areas, NULL, e) ||
        !check_code_list("admin2", f->admin2, &t->areas, NULL, e) ||
        !check_code_list("tactic", f->tactic, &t->tactics, NULL, e) ||
        !check_code_list("perpetrator", f->perpetrator, &t->parties, NULL, e) ||
        !check_code_list("status", f->status, NULL, incident_statuses, e))
        return false;
    const char *cursor = http_query_get(q, "cursor");
    if (cursor) {
        if (!cursor_decode(cursor, f->changed_since ? 'c' : 'd', f))
            return err_invalid(e, "cursor", "cursor is not one this listing gave out");
        f->has_cursor = true;
    }
    return true;
}

bool incident_filter_parse(const struct http_query *q, const struct taxonomy *t, long long owner,
                           struct incident_filter *f, struct api_error *e)
{
    return filter_scalars(q, owner, f, e) && filter_codes(q, t, f, e);
}

static bool list_filter(struct http_request *r, const struct http_query *q,
                        struct incident_filter *f, struct api_error *e)
{
    /* incident_filter_parse in two halves: the checks that need no
     * taxonomy answer before it is read, so a bad limit is a 400 even when
     * the taxonomy cannot be had (a 503). */
    if (!filter_scalars(q, owner_of(r), f, e))
        return false;
    struct taxonomy *t = store_taxonomy_acquire(r->db, false, e);
    if (!t)
        return false;
    bool ok = filter_codes(q, t, f, e);
    store_taxonomy_release(t);
    return ok;
}

void handle_incident_list(struct http_request *r)
{
    static const char *const allowed[] = {"from", "to", "admin1", "admin2", "tactic",
                                          "perpetrator", "status", "changed_since", "limit",
                                          "cursor", NULL};
    struct api_error e;
    struct http_query q;
    struct incident_filter f;
    if (!http_query_parse(r, allowed, &q, &e) || !list_filter(r, &q, &f, &e)) {
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
    char mode = f.changed_since ? 'c' : 'd';
    size_t shown = n > (size_t)f.limit ? (size_t)f.limit : n;
    json_t *list = json_array();
    unsigned view = view_of(r);
    for (size_t i = 0; i < shown; i++)
        json_array_append_new(list, incident_to_json(&items[i], view,
                                                     (int)cfg.verify_min_source_types));
    json_t *body = json_object();
    json_object_set_new(body, "items", list);
    char cursor[128];
    if (n > (size_t)f.limit) {
        cursor_encode(mode, positions[shown - 1], items[shown - 1].id, cursor, sizeof cursor);
        json_object_set_new(body, "next_cursor", json_string(cursor));
    } else {
        json_object_set_new(body, "next_cursor", json_null());
    }
    if (f.changed_since) {
        if (shown > 0) {
            cursor_encode(mode, positions[shown - 1], items[shown - 1].id, cursor, sizeof cursor);
            json_object_set_new(body, "resume_cursor", json_string(cursor));
        } else {
            /* Nothing new: resume from the oldest transaction still in
             * flight, which is at or past any cursor given. */
            cursor_encode(mode, horizon, INT64_MAX, cursor, sizeof cursor);
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

void handle_incident_patch(struct http_request *r)
{
    struct api_error e;
    json_t *patch = NULL, *stored = NULL, *merged = NULL, *document = NULL, *changes = NULL;
    struct incident cur = {0}, next = {0};
    bool in_tx = false, found, given;
    int version;
    const char *reason;

    if (!check_if_match(r, true, &version, &given, &e) || !parse_body(r, &patch, &e))
        goto fail;
    db_begin_deferred(r->db);
    in_tx = true;
    if (!store_incident_load(r->db, r->path_id, owner_of(r), true, &cur, &found, &e))
        goto fail;
    if (!found) {
        api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such incident");
        goto fail;
    }
    stored = incident_document(&cur);
    if (!version_matches(&cur, given, version, &e) ||
        !(merged = incident_patch_merge(stored, patch, &reason, &e)) ||
        !validate(r, merged, &next, &e))
        goto fail;
    document = incident_document(&next);
    changes = incident_diff(stored, document);
    if (json_object_size(changes) == 0) {
        db_rollback(r->db);
        in_tx = false;
        reply_incident(r, 200, &cur);
        goto done;
    }
    /* The amendment keeps who, when and the status. */
    next.id = cur.id;
    next.version = cur.version;
    next.status = cur.status;
    next.duplicate_of = cur.duplicate_of;
    next.verification_override = cur.verification_override;
    next.created_by = cur.created_by;
    cur.created_by = NULL;
    memcpy(next.created_at, cur.created_at, sizeof next.created_at);
    if (!store_incident_amend(r->db, &next, document, changes, reason, r->who.key_id, &e) ||
        !db_commit(r->db, &e))
        goto fail;
    in_tx = false;
    reply_incident(r, 200, &next);
    goto done;
fail:
    if (in_tx)
        db_rollback(r->db);
    http_reply_error(r, &e);
done:
    json_decref(changes);
    json_decref(document);
    json_decref(merged);
    json_decref(stored);
    json_decref(patch);
    incident_free(&cur);
    incident_free(&next);
}

static json_t *change(json_t *from, json_t *to)
{
    return json_pack("{s:o, s:o}", "from", from, "to", to);
}

static json_t *id_or_null(long long id)
{
    char text[24];
    snprintf(text, sizeof text, "%lld", id);
    return id ? json_string(text) : json_null();
}

/* Applies sc to inc (loaded under lock), enforcing the rules of statuses. */
static bool apply_status(struct http_request *r, struct incident *inc,
                         const struct status_change *sc, json_t *changes, struct api_error *e)
{
    long killed, injured;
    int types;
    incident_totals(inc, &killed, &injured, &types);
    if (strcmp(sc->status, inc->status) == 0 && sc->duplicate_of == inc->duplicate_of)
        return api_error_set(e, 409, ERR_CONFLICT, "status", "the incident is already %s",
                             inc->status);
    if (strcmp(sc->status, "verified") == 0 && types < cfg.verify_min_source_types &&
        !sc->override)
        return api_error_set(e, 422, ERR_INVALID_FIELD, "sources",
                             "the incident has %d distinct source type(s); verification needs "
                             "%ld, or \"override\": true with a reason",
                             types, cfg.verify_min_source_types);
    if (sc->duplicate_of) {
        if (sc->duplicate_of == inc->id)
            return err_invalid(e, "duplicate_of", "an incident cannot duplicate itself");
        struct incident target;
        bool found;
        if (!store_incident_load(r->db, sc->duplicate_of, 0, false, &target, &found, e))
            return false;
        if (!found)
            return err_invalid(e, "duplicate_of", "duplicate_of names no incident");
        bool chained = strcmp(target.status, "duplicate") == 0;
        incident_free(&target);
        if (chained)
            return api_error_set(e, 409, ERR_CONFLICT, "duplicate_of",
                                 "duplicate_of is itself a duplicate; name the original");
    }
    bool override = strcmp(sc->status, "verified") == 0 && sc->override &&
                    types < cfg.verify_min_source_types;
    if (strcmp(sc->status, inc->status) != 0)
        json_object_set_new(changes, "status",
                            change(json_string(inc->status), json_string(sc->status)));
    if (sc->duplicate_of != inc->duplicate_of)
        json_object_set_new(changes, "duplicate_of",
                            change(id_or_null(inc->duplicate_of), id_or_null(sc->duplicate_of)));
    if (override != inc->verification_override)
        json_object_set_new(changes, "verification_override",
                            change(json_boolean(inc->verification_override), json_boolean(override)));
    inc->status = sc->status;
    inc->duplicate_of = sc->duplicate_of;
    inc->verification_override = override;
    return true;
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
    if (!version_matches(&inc, given, version, &e) || !apply_status(r, &inc, &sc, changes, &e))
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
    if (!store_incident_load(r->db, r->path_id, owner_of(r), false, &inc, &found, &e)) {
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
    unsigned view = view_of(r);
    size_t i;
    json_t *item;
    json_array_foreach(list, i, item) incident_redact_changes(json_object_get(item, "changes"), view);
    http_reply_json(r, 200, json_pack("{s:o}", "items", list));
}
