/* Routes: method and path template -> roles -> handler; authentication. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "handlers/handlers.h"
#include "http/http.h"
#include "util/ids.h"
#include "util/jsonv.h"

struct route {
    const char *method;
    const char *template; /* "{id}" matches an incident id */
    unsigned roles;       /* 0 = no key needed */
    bool has_body;
    void (*handler)(struct http_request *r);
};

static const struct route routes[] = {
    {"GET", "/healthz", 0, false, handle_healthz},
    {"GET", "/readyz", 0, false, handle_readyz},
    {"GET", "/metrics", 0, false, handle_metrics},
    {"GET", "/v1/openapi.json", 0, false, handle_openapi},
    {"GET", "/v1/taxonomy", ROLES_ALL, false, handle_taxonomy_get},
    {"POST", "/v1/incidents", ROLE_MONITOR | ROLE_REVIEWER | ROLE_ADMIN, true,
     handle_incident_create},
    {"GET", "/v1/incidents", ROLES_ALL, false, handle_incident_list},
    {"GET", "/v1/incidents/{id}", ROLES_ALL, false, handle_incident_get},
    {"PATCH", "/v1/incidents/{id}", ROLE_MONITOR | ROLE_REVIEWER | ROLE_ADMIN, true,
     handle_incident_patch},
    {"POST", "/v1/incidents/{id}/status", ROLE_REVIEWER | ROLE_ADMIN, true,
     handle_incident_status},
    {"GET", "/v1/incidents/{id}/revisions", ROLE_MONITOR | ROLE_REVIEWER | ROLE_ADMIN, false,
     handle_incident_revisions},
    {"GET", "/v1/trends", ROLE_ANALYST | ROLE_REVIEWER | ROLE_ADMIN, false, handle_trends},
    {"GET", "/v1/reports/poc", ROLE_ANALYST | ROLE_REVIEWER | ROLE_ADMIN, false, handle_report_poc},
    {"POST", "/v1/reports/poc/publish", ROLE_REVIEWER | ROLE_ADMIN, true, handle_report_publish},
    {"GET", "/v1/reports", ROLE_ANALYST | ROLE_REVIEWER | ROLE_ADMIN, false, handle_report_list},
    {"GET", "/v1/reports/{id}", ROLE_ANALYST | ROLE_REVIEWER | ROLE_ADMIN, false, handle_report_get},
    {"GET", "/v1/public/trends", 0, false, handle_public_trends},
    {"GET", "/v1/public/reports/{id}", 0, false, handle_public_report},
};

#define NROUTES (sizeof routes / sizeof routes[0])

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
        template++;
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
    return r->route ? r->route->template : "unmatched";
}

int http_route_index(const struct http_request *r)
{
    return r->route ? (int)(r->route - routes) : -1;
}

const char *http_route_by_index(int index)
{
    if (index >= 0 && (size_t)index < NROUTES)
        return routes[index].template;
    return index == 32 ? "unmatched" : NULL;
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

static bool authenticate(struct http_request *r, unsigned roles, struct api_error *e)
{
    const char *auth = http_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return api_error_set(e, 401, ERR_UNAUTHORIZED, NULL,
                             "send an API key as Authorization: Bearer KEY");
    const char *key = auth + 7;
    while (*key == ' ')
        key++;
    if (!key_format_valid(key))
        return api_error_set(e, 401, ERR_UNAUTHORIZED, NULL, "the API key is unknown or revoked");
    if (!http_request_db(r, e) || !store_key_authenticate(r->db, key, &r->who, &r->taxonomy_revision, e))
        return false;
    r->authenticated = true;
    if (!(roles & r->who.role))
        return api_error_set(e, 403, ERR_FORBIDDEN, NULL, "the %s role may not use %s %s",
                             role_name(r->who.role), r->method, r->route->template);
    return true;
}

void http_dispatch(struct http_request *r)
{
    struct api_error e;
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
    if (!match && !allow[0]) {
        api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such resource");
        http_reply_error(r, &e);
        return;
    }
    if (!match) {
        http_add_header(r, "Allow", allow);
        api_error_set(&e, 405, ERR_METHOD_NOT_ALLOWED, NULL, "%s is not allowed here; use %s",
                      r->method, allow);
        http_reply_error(r, &e);
        return;
    }
    r->route = match;
    if (match->roles && !authenticate(r, match->roles, &e)) {
        http_reply_error(r, &e);
        return;
    }
    if (match->has_body && !json_media_type(http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE))) {
        api_error_set(&e, 415, ERR_UNSUPPORTED_MEDIA_TYPE, NULL,
                      "send the body as Content-Type: application/json");
        http_reply_error(r, &e);
        return;
    }
    match->handler(r);
}

/* ---- query parameters --------------------------------------------------- */

struct query_walk {
    struct http_query *q;
    const char *const *allowed;
    struct api_error *e;
    bool failed;
};

static enum MHD_Result query_item(void *cls, enum MHD_ValueKind kind, const char *key,
                                  size_t key_size, const char *value, size_t value_size)
{
    (void)kind;
    struct query_walk *w = cls;
    if (w->failed)
        return MHD_NO;
    bool printable = key_size <= 64 && strlen(key) == key_size && utf8_valid(key, key_size);
    const char *name = printable ? key : "?";
    bool known = false;
    for (const char *const *a = w->allowed; *a && printable; a++)
        known = known || strcmp(*a, key) == 0;
    if (!known) {
        w->failed = true;
        api_error_set(w->e, 400, ERR_UNKNOWN_FIELD, name, "%s is not a known parameter", name);
        return MHD_NO;
    }
    if (http_query_get(w->q, key)) {
        w->failed = true;
        err_invalid(w->e, key, "%s is given more than once", key);
        return MHD_NO;
    }
    if (!value || strlen(value) != value_size || !utf8_valid(value, value_size)) {
        w->failed = true;
        err_invalid(w->e, key, "%s must be UTF-8 text without NUL characters", key);
        return MHD_NO;
    }
    if (w->q->n >= HTTP_MAX_QUERY) {
        w->failed = true;
        err_invalid(w->e, key, "too many parameters");
        return MHD_NO;
    }
    w->q->names[w->q->n] = key;
    w->q->values[w->q->n] = value;
    w->q->n++;
    return MHD_YES;
}

bool http_query_parse(struct http_request *r, const char *const *allowed, struct http_query *q,
                      struct api_error *e)
{
    q->n = 0;
    struct query_walk w = {q, allowed, e, false};
    MHD_get_connection_values_n(r->conn, MHD_GET_ARGUMENT_KIND, query_item, &w);
    return !w.failed;
}

const char *http_query_get(const struct http_query *q, const char *name)
{
    for (int i = 0; i < q->n; i++)
        if (strcmp(q->names[i], name) == 0)
            return q->values[i];
    return NULL;
}
