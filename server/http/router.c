/* Routes: method and path template -> roles -> handler. */
#include "http/router.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "handlers/handlers.h"
#include "http/auth.h"
#include "store/replicas.h"
#include "util/ids.h"
#include "util/multipart.h"

struct route {
    const char *method;
    const char *template; /* "{id}" matches an incident id */
    unsigned roles;       /* 0 = no key needed */
    /* What it takes: BODY_SUBMISSION is an OpenRosa submission
     * (multipart/form-data), answered in OpenRosa XML, errors too. */
    enum { BODY_NONE, BODY_JSON, BODY_SUBMISSION } body;
    void (*handler)(struct http_request *r);
    /* REPLICA: a read that a streaming replica may answer
     * (CIVCAS_READ_DATABASE_URL); every other route uses the primary. */
    enum { PRIMARY = 0, REPLICA } reads;
};

#define FORM_ROLES (ROLE_MONITOR | ROLE_REVIEWER | ROLE_ADMIN)

static const struct route routes[] = {
    {"GET", "/healthz", 0, BODY_NONE, handle_healthz, PRIMARY},
    {"GET", "/readyz", 0, BODY_NONE, handle_readyz, PRIMARY},
    {"GET", "/metrics", 0, BODY_NONE, handle_metrics, PRIMARY},
    {"GET", "/v1/openapi.json", 0, BODY_NONE, handle_openapi, PRIMARY},
    {"GET", "/v1/taxonomy", ROLES_ALL, BODY_NONE, handle_taxonomy_get, PRIMARY},
    {"POST", "/v1/incidents", ROLE_MONITOR | ROLE_REVIEWER | ROLE_ADMIN, BODY_JSON,
     handle_incident_create, PRIMARY},
    {"GET", "/v1/incidents", ROLES_ALL, BODY_NONE, handle_incident_list, REPLICA},
    {"GET", "/v1/incidents/{id}", ROLES_ALL, BODY_NONE, handle_incident_get, REPLICA},
    {"PATCH", "/v1/incidents/{id}", ROLE_MONITOR | ROLE_REVIEWER | ROLE_ADMIN, BODY_JSON,
     handle_incident_patch, PRIMARY},
    {"POST", "/v1/incidents/{id}/status", ROLE_REVIEWER | ROLE_ADMIN, BODY_JSON,
     handle_incident_status, PRIMARY},
    {"GET", "/v1/incidents/{id}/revisions", ROLE_MONITOR | ROLE_REVIEWER | ROLE_ADMIN, BODY_NONE,
     handle_incident_revisions, REPLICA},
    {"GET", "/v1/incidents/{id}/duplicates", ROLE_REVIEWER | ROLE_ADMIN, BODY_NONE,
     handle_incident_duplicates, PRIMARY},
    {"GET", "/v1/duplicates", ROLE_REVIEWER | ROLE_ADMIN, BODY_NONE, handle_duplicate_queue,
     PRIMARY},
    {"POST", "/v1/duplicates/dismissals", ROLE_REVIEWER | ROLE_ADMIN, BODY_JSON,
     handle_duplicate_dismiss, PRIMARY},
    {"POST", "/v1/duplicates/dismissals/{id}/undo", ROLE_REVIEWER | ROLE_ADMIN, BODY_JSON,
     handle_duplicate_dismissal_undo, PRIMARY},
    {"GET", "/v1/trends", ROLE_ANALYST | ROLE_REVIEWER | ROLE_ADMIN, BODY_NONE, handle_trends,
     REPLICA},
    {"GET", "/v1/reports/poc", ROLE_ANALYST | ROLE_REVIEWER | ROLE_ADMIN, BODY_NONE,
     handle_report_poc, REPLICA},
    {"POST", "/v1/reports/poc/publish", ROLE_REVIEWER | ROLE_ADMIN, BODY_JSON,
     handle_report_publish, PRIMARY},
    {"GET", "/v1/reports", ROLE_ANALYST | ROLE_REVIEWER | ROLE_ADMIN, BODY_NONE, handle_report_list,
     REPLICA},
    {"GET", "/v1/reports/{id}", ROLE_ANALYST | ROLE_REVIEWER | ROLE_ADMIN, BODY_NONE,
     handle_report_get, REPLICA},
    {"POST", "/v1/reports/{id}/public", ROLE_REVIEWER | ROLE_ADMIN, BODY_NONE,
     handle_report_make_public, PRIMARY},
    {"GET", "/v1/reports/{id}/signature", ROLE_ANALYST | ROLE_REVIEWER | ROLE_ADMIN, BODY_NONE,
     handle_report_signature, PRIMARY},
    {"GET", "/v1/reports/{id}/drift", ROLE_ANALYST | ROLE_REVIEWER | ROLE_ADMIN, BODY_NONE,
     handle_report_drift, PRIMARY},
    {"GET", "/v1/public/trends", 0, BODY_NONE, handle_public_trends, REPLICA},
    {"GET", "/v1/public/reports/{id}", 0, BODY_NONE, handle_public_report, REPLICA},
    {"GET", "/v1/public/reports/{id}/signature", 0, BODY_NONE, handle_public_report_signature,
     PRIMARY},
    {"GET", "/v1/public/signing-keys", 0, BODY_NONE, handle_public_signing_keys, PRIMARY},
    {"GET", "/v1/public/signing-keys/{id}", 0, BODY_NONE, handle_public_signing_key, PRIMARY},
    {"GET", "/v1/public/publications", 0, BODY_NONE, handle_public_publications, REPLICA},
    /* OpenRosa (docs/forms.md): ODK Collect's server URL is .../openrosa. */
    {"GET", "/openrosa/formList", FORM_ROLES, BODY_NONE, handle_openrosa_form_list, PRIMARY},
    {"GET", "/openrosa/forms/civcas_incident", FORM_ROLES, BODY_NONE, handle_openrosa_form,
     PRIMARY},
    {"HEAD", "/openrosa/submission", FORM_ROLES, BODY_NONE, handle_openrosa_head, PRIMARY},
    {"POST", "/openrosa/submission", FORM_ROLES, BODY_SUBMISSION, handle_openrosa_submission,
     PRIMARY},
    {"POST", "/v1/ingest/kobo", FORM_ROLES, BODY_JSON, handle_kobo_ingest, PRIMARY},
};

#define NROUTES (sizeof routes / sizeof routes[0])
_Static_assert(NROUTES <= HTTP_ROUTES_MAX, "the route table outgrew HTTP_ROUTES_MAX");

/* Whether path fits template; captures {id}. An id that is not a valid
 * incident id does not match, so it ends as 404. */
static bool path_matches(const char *template, const char *path, long long *id)
{
    while (*template && *path) {
        if (strncmp(template, "{id}", 4) == 0) {
            const char *end = strchr(path, '/');
            size_t n = end ? (size_t)(end - path) : strlen(path);
            char text[24];
            if (n == 0 || n >= sizeof text)
                return false;
            memcpy(text, path, n);
            text[n] = '\0';
            if (!id_parse(text, id))
                return false;
            template += 4;
            path += n;
            continue;
        }
        if (*template != *path)
            return false;
        template ++;
        path++;
    }
    return *template == '\0' && *path == '\0';
}

bool http_route_is_quick(const char *method, const char *path)
{
    if (strcmp(method, "GET") != 0)
        return false;
    return strcmp(path, "/healthz") == 0 || strcmp(path, "/metrics") == 0 ||
           strcmp(path, "/v1/openapi.json") == 0;
}

const char *http_route_template(const struct http_request *r)
{
    return r->route_template ? r->route_template : "unmatched";
}

int http_route_index(const struct http_request *r)
{
    return r->route ? (int)(r->route - routes) : -1;
}

const char *http_route_by_index(int index)
{
    if (index >= 0 && (size_t)index < NROUTES)
        return routes[index].template;
    return index == HTTP_ROUTES_MAX ? "unmatched" : NULL;
}

void http_routes_print(FILE *out)
{
    for (size_t i = 0; i < NROUTES; i++)
        fprintf(out, "%s %s\n", routes[i].method, routes[i].template);
}

/* Only application/json, optionally with charset=utf-8. */
static bool json_media_type(const char *value)
{
    if (!value)
        return false;
    while (*value == ' ')
        value++;
    const char *type = "application/json";
    size_t n = strlen(type);
    if (strncasecmp(value, type, n) != 0)
        return false;
    const char *rest = value + n;
    while (*rest == ' ')
        rest++;
    if (*rest == '\0')
        return true;
    if (*rest != ';')
        return false;
    rest++;
    while (*rest == ' ')
        rest++;
    return strcasecmp(rest, "charset=utf-8") == 0 || strcasecmp(rest, "charset=\"utf-8\"") == 0;
}

bool http_route_resolve(struct http_request *r, struct api_error *e)
{
    if (r->route)
        return true;
    char allow[64] = "";
    const struct route *match = NULL;
    for (size_t i = 0; i < NROUTES; i++) {
        long long id = 0;
        if (!path_matches(routes[i].template, r->path, &id))
            continue;
        size_t used = strlen(allow);
        snprintf(allow + used, sizeof allow - used, "%s%s", used ? ", " : "", routes[i].method);
        if (strcmp(routes[i].method, r->method) == 0) {
            match = &routes[i];
            r->path_id = id;
        }
    }
    if (!match && !allow[0])
        return api_error_set(e, 404, ERR_NOT_FOUND, NULL, "no such resource");
    if (!match) {
        http_add_header(r, "Allow", allow);
        return api_error_set(e, 405, ERR_METHOD_NOT_ALLOWED, NULL, "%s is not allowed here; use %s",
                             r->method, allow);
    }
    r->route = match;
    r->route_template = match->template;
    r->openrosa_xml = match->body == BODY_SUBMISSION;
    return true;
}

bool http_route_needs_key(const struct http_request *r)
{
    return r->route && r->route->roles != 0;
}

bool http_route_takes_body(const struct http_request *r)
{
    return r->route && r->route->body != BODY_NONE;
}

bool http_route_authenticate(struct http_request *r, struct api_error *e)
{
    return r->authenticated || !http_route_needs_key(r) || http_authenticate(r, r->route->roles, e);
}

/* Moves a read to a replica when one fits: the caller's own last write
 * (by key) replayed, the lag within bounds. The key was checked on the
 * primary, so a revoked key is refused at once wherever reads go. */
static void read_from_replica(struct http_request *r)
{
    uint64_t min_lsn = r->authenticated ? replicas_written(r->who.key_id) : 0;
    int which;
    struct db_conn *c = replicas_acquire(min_lsn, &which);
    if (!c) {
        replicas_note_fallback();
        return;
    }
    db_release(r->db);
    r->db = c;
    r->replica = which + 1;
}

/* The connection for a read: a replica's when one fits and try_replica,
 * else the primary's. False with the error replied. */
static bool read_connection(struct http_request *r, bool try_replica)
{
    struct api_error e;
    if (try_replica)
        read_from_replica(r);
    else
        replicas_note_fallback();
    if (!r->db && !http_request_db(r, &e)) {
        http_reply_error(r, &e);
        return false;
    }
    return true;
}

/* Forgets a read a replica failed (503) and says whether its connection
 * was lost: then the read is tried once more on a fresh connection (a
 * restarted standby leaves every pooled connection dead; one that stays
 * down is found so and skipped), else from the primary. Reads change
 * nothing, so running one again is harmless. */
static bool replica_read_failed(struct http_request *r, int headers_before)
{
    bool broken = db_conn_broken(r->db);
    replicas_read_failed(r->replica - 1, broken);
    db_release(r->db);
    r->db = NULL;
    r->replica = 0;
    http_reply_reset(r, headers_before);
    return broken;
}

/* After a write on the primary: where the caller's next reads must have
 * replayed to. Read before the reply is queued, so that the caller
 * cannot read before it is known. */
static void remember_write(struct http_request *r)
{
    uint64_t lsn;
    if (r->db && !db_conn_broken(r->db) && !db_in_transaction(r->db) &&
        replicas_wal_position(r->db, &lsn))
        replicas_note_write(r->who.key_id, lsn);
}

void http_dispatch(struct http_request *r)
{
    struct api_error e;
    /* A request authenticated before its body gave its database
     * connection back meanwhile; its handler needs one. */
    if (!http_route_resolve(r, &e) || !http_route_authenticate(r, &e) ||
        (http_route_needs_key(r) && !http_request_db(r, &e))) {
        http_reply_error(r, &e);
        return;
    }
    const char *type = http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (r->route->body == BODY_SUBMISSION && !multipart_is_form_data(type)) {
        api_error_set(&e, 415, ERR_UNSUPPORTED_MEDIA_TYPE, NULL,
                      "send the body as Content-Type: multipart/form-data");
        http_reply_error(r, &e);
        return;
    }
    if (r->route->body == BODY_JSON && !json_media_type(type)) {
        api_error_set(&e, 415, ERR_UNSUPPORTED_MEDIA_TYPE, NULL,
                      "send the body as Content-Type: application/json");
        http_reply_error(r, &e);
        return;
    }
    bool replicas = replicas_count() > 0;
    if (!replicas || r->route->reads == PRIMARY) {
        r->route->handler(r);
        if (replicas && r->authenticated && strcmp(r->method, "GET") != 0 &&
            strcmp(r->method, "HEAD") != 0)
            remember_write(r);
        return;
    }
    int headers_before = r->nheaders;
    bool try_replica = true;
    for (int attempt = 0; read_connection(r, try_replica); attempt++) {
        r->route->handler(r);
        if (!r->replica || r->status != 503)
            return;
        try_replica = replica_read_failed(r, headers_before) && attempt == 0;
    }
}
