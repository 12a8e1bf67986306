/* Replies, request headers and query parameters. */
#include "http/request.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/jsonv.h"
#include "util/mem.h"

void http_add_header(struct http_request *r, const char *name, const char *value)
{
    for (int i = 0; i < r->nheaders; i++) {
        if (strcasecmp(r->headers[i].name, name) == 0) {
            free(r->headers[i].value);
            r->headers[i].value = xstrdup(value);
            return;
        }
    }
    if (r->nheaders < HTTP_MAX_HEADERS) {
        r->headers[r->nheaders].name = name;
        r->headers[r->nheaders].value = xstrdup(value);
        r->nheaders++;
    }
}

void http_reply_bytes(struct http_request *r, int status, const char *content_type,
                      const char *data, size_t len)
{
    free(r->reply_body);
    r->reply_body = xmalloc(len + 1);
    memcpy(r->reply_body, data, len);
    r->reply_body[len] = '\0';
    r->reply_len = len;
    r->status = status;
    r->content_type = content_type;
    r->replied = true;
}

void http_reply_json(struct http_request *r, int status, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(body);
    if (!text) {
        static const char fallback[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}";
        http_reply_bytes(r, 500, "application/json", fallback, sizeof fallback - 1);
        return;
    }
    free(r->reply_body);
    r->reply_body = text;
    r->reply_len = strlen(text);
    r->status = status;
    r->content_type = "application/json";
    r->replied = true;
}

void http_reply_error(struct http_request *r, const struct api_error *e)
{
    struct api_error fallback;
    if (!e->status)
        err_internal(&fallback), e = &fallback;
    if (e->status == 503)
        http_add_header(r, "Retry-After", "1");
    if (e->status == 401)
        http_add_header(r, "WWW-Authenticate", "Bearer");
    http_reply_json(r, e->status, api_error_json(e));
}

struct db_conn *http_request_db(struct http_request *r, struct api_error *e)
{
    if (!r->db)
        r->db = db_acquire(e);
    return r->db;
}

const char *http_header(struct http_request *r, const char *name)
{
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

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
