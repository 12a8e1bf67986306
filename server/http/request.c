/* Replies, request headers and query parameters. */
#include "http/request.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "config.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/dates.h"
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

void http_reply_reset(struct http_request *r, int keep_headers)
{
    free(r->reply_body);
    r->reply_body = NULL;
    r->reply_len = 0;
    for (int i = keep_headers; i < r->nheaders; i++)
        free(r->headers[i].value);
    if (r->nheaders > keep_headers)
        r->nheaders = keep_headers;
    r->status = 0;
    r->replied = false;
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

/* The text of a JSON answer (body stolen), or NULL after replying 500. */
static char *json_answer_text(struct http_request *r, json_t *body)
{
    char *text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(body);
    if (!text) {
        static const char fallback[] =
            "{\"error\":{\"code\":\"internal\",\"message\":\"internal error\"}}";
        http_reply_bytes(r, 500, "application/json", fallback, sizeof fallback - 1);
    }
    return text;
}

/* Replies with text, which the request takes over. */
static void reply_owned(struct http_request *r, int status, const char *content_type, char *text,
                        size_t len)
{
    free(r->reply_body);
    r->reply_body = text;
    r->reply_len = len;
    r->status = status;
    r->content_type = content_type;
    r->replied = true;
}

void http_reply_json(struct http_request *r, int status, json_t *body)
{
    char *text = json_answer_text(r, body);
    if (text)
        reply_owned(r, status, "application/json", text, strlen(text));
}

/* ---- cacheable answers ---------------------------------------------------- */

/* The bytes of the SHA-256 an ETag shows: 128 bits tell two answers apart
 * as surely as the whole hash would, in half the header. */
#define ETAG_BYTES 16

void http_add_etag(struct http_request *r, const char *opaque)
{
    char etag[80];
    snprintf(etag, sizeof etag, "\"%s\"", opaque);
    http_add_header(r, "ETag", etag);
}

/* Whether an If-None-Match value names opaque: "*", or a list of entity
 * tags compared weakly (W/ ignored). A malformed element ends the list;
 * the tags before it count. */
static bool etag_list_names(const char *value, const char *opaque)
{
    size_t n = strlen(opaque);
    const char *p = value;
    while (*p == ' ' || *p == '\t')
        p++;
    if (p[0] == '*' && p[1 + strspn(p + 1, " \t")] == '\0')
        return true;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p != '"')
            return false;
        const char *start = ++p;
        while (*p && *p != '"')
            p++;
        if (!*p)
            return false;
        if ((size_t)(p - start) == n && memcmp(start, opaque, n) == 0)
            return true;
        p++;
    }
}

/* The conditional headers of a request, each line of a repeated one seen. */
struct conditions {
    const char *opaque; /* the answer's entity tag */
    bool none_match_given, none_match;
    int modified_since_lines;
    const char *modified_since;
};

static enum MHD_Result condition_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                        const char *value)
{
    (void)kind;
    struct conditions *c = cls;
    if (strcasecmp(key, MHD_HTTP_HEADER_IF_NONE_MATCH) == 0) {
        c->none_match_given = true;
        c->none_match = c->none_match || (value && etag_list_names(value, c->opaque));
    } else if (strcasecmp(key, MHD_HTTP_HEADER_IF_MODIFIED_SINCE) == 0) {
        c->modified_since_lines++;
        c->modified_since = value;
    }
    return MHD_YES;
}

/* RFC 9110 section 13.2.2 for a GET or HEAD: If-None-Match decides when
 * given; otherwise a single valid If-Modified-Since no earlier than the
 * answer's Last-Modified (modified, whole seconds; dated false: none). */
static bool not_modified(struct http_request *r, const char *opaque, bool dated,
                         long long modified)
{
    if (strcmp(r->method, "GET") != 0 && strcmp(r->method, "HEAD") != 0)
        return false;
    struct conditions c = {.opaque = opaque};
    MHD_get_connection_values(r->conn, MHD_HEADER_KIND, condition_header, &c);
    if (c.none_match_given)
        return c.none_match;
    if (!dated || c.modified_since_lines != 1 || !c.modified_since)
        return false;
    time_t now = time(NULL);
    struct tm tm;
    long long since;
    return gmtime_r(&now, &tm) && date_http_parse(c.modified_since, tm.tm_year + 1900, &since) &&
           modified <= since;
}

/* Replies text (taken over) as a cacheable answer; see request.h. */
static void reply_cacheable_owned(struct http_request *r, enum http_lifetime lifetime,
                                  const char *content_type, char *text, size_t len,
                                  const char *modified)
{
    unsigned char digest[SHA256_LEN];
    char opaque[2 * ETAG_BYTES + 1];
    sha256(text, len, digest);
    hex_encode(digest, ETAG_BYTES, opaque);
    http_add_etag(r, opaque);
    long long modified_at = 0;
    bool dated = modified && timestamp_parse(modified, &modified_at);
    if (dated) {
        char date[DATE_HTTP_LEN + 1];
        date_http_format(modified_at, date);
        http_add_header(r, "Last-Modified", date);
    }
    if (lifetime == HTTP_LIFETIME_IMMUTABLE)
        snprintf(r->cache_control, sizeof r->cache_control, "public, max-age=31536000, immutable");
    else
        snprintf(r->cache_control, sizeof r->cache_control,
                 "public, max-age=%ld, stale-while-revalidate=%ld, stale-if-error=86400",
                 cfg.public_max_age, cfg.public_max_age);
    /* A 304 keeps the body: libmicrohttpd sends none with it, only the
     * Content-Length the 200 has (RFC 9110 section 8.6 allows that one
     * length and no other). */
    bool unchanged = not_modified(r, opaque, dated, modified_at);
    reply_owned(r, unchanged ? 304 : 200, unchanged ? NULL : content_type, text, len);
}

void http_reply_cacheable(struct http_request *r, enum http_lifetime lifetime,
                          const char *content_type, char *data, size_t len, const char *modified)
{
    reply_cacheable_owned(r, lifetime, content_type, data, len, modified);
}

void http_reply_cacheable_json(struct http_request *r, enum http_lifetime lifetime, json_t *body)
{
    char *text = json_answer_text(r, body);
    if (text)
        reply_cacheable_owned(r, lifetime, "application/json", text, strlen(text), NULL);
}

void http_reply_openrosa(struct http_request *r, int status, const char *nature,
                         const char *message)
{
    struct buf b;
    buf_init(&b);
    buf_puts(&b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                 "<OpenRosaResponse xmlns=\"http://openrosa.org/http/response\">"
                 "<message nature=\"");
    buf_xml_text(&b, nature);
    buf_puts(&b, "\">");
    buf_xml_text(&b, message);
    buf_puts(&b, "</message></OpenRosaResponse>\n");
    http_reply_bytes(r, status, "text/xml; charset=utf-8", b.data, b.len);
    buf_free(&b);
}

void http_reply_error(struct http_request *r, const struct api_error *e)
{
    struct api_error fallback;
    if (!e->status)
        err_internal(&fallback), e = &fallback;
    if (e->status == 503)
        http_add_header(r, "Retry-After", "1");
    if (e->status == 401)
        http_add_header(r, "WWW-Authenticate",
                        r->openrosa ? "Basic realm=\"civcas\", charset=\"UTF-8\"" : "Bearer");
    if (r->openrosa_xml) {
        http_reply_openrosa(r, e->status, "error", e->message);
        return;
    }
    http_reply_json(r, e->status, api_error_json(e));
}

/* Whether the comma list holds address exactly. */
static bool address_listed(const char *list, const char *address)
{
    size_t n = strlen(address);
    for (const char *p = list; *p;) {
        while (*p == ' ' || *p == ',')
            p++;
        size_t len = strcspn(p, ", ");
        if (len == n && strncmp(p, address, n) == 0)
            return true;
        p += len;
    }
    return false;
}

bool http_peer_trusted(struct http_request *r)
{
    if (!cfg.trusted_proxies || !cfg.trusted_proxies[0])
        return false;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    char peer[INET6_ADDRSTRLEN] = "";
    const void *addr = NULL;
    if (sa && sa->sa_family == AF_INET)
        addr = &((const struct sockaddr_in *)(const void *)sa)->sin_addr;
    else if (sa && sa->sa_family == AF_INET6)
        addr = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
    return addr && inet_ntop(sa->sa_family, addr, peer, sizeof peer) &&
           address_listed(cfg.trusted_proxies, peer);
}

/* A host as a URL may carry it: a name or address, an optional port. The
 * first item of a comma list (X-Forwarded-Host may hold several) is
 * copied to out. */
static bool host_take(const char *value, char *out, size_t size)
{
    if (!value)
        return false;
    while (*value == ' ')
        value++;
    size_t n = strcspn(value, ", ");
    if (n == 0 || n >= size || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = value[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '-' || c == ':' || c == '[' || c == ']'))
            return false;
    }
    memcpy(out, value, n);
    out[n] = '\0';
    return true;
}

void http_request_base_url(struct http_request *r, char *out, size_t size)
{
    const char *scheme = "http";
    char host[256];
    bool trusted = http_peer_trusted(r);
    if (trusted) {
        const char *proto = http_header(r, "X-Forwarded-Proto");
        size_t n = proto ? strcspn(proto, ", ") : 0;
        if (n == 5 && strncasecmp(proto, "https", 5) == 0)
            scheme = "https";
    }
    if (!(trusted && host_take(http_header(r, "X-Forwarded-Host"), host, sizeof host)) &&
        !host_take(http_header(r, MHD_HTTP_HEADER_HOST), host, sizeof host))
        snprintf(host, sizeof host, "%s", cfg.listen);
    snprintf(out, size, "%s://%s", scheme, host);
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
