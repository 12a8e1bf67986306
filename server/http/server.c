/* libmicrohttpd daemon: connections, body limit, workers, request log. */
#include <arpa/inet.h>
#include <pthread.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "http/metrics.h"
#include "http/ratelimit.h"
#include "http/request.h"
#include "http/router.h"
#include "http/server.h"
#include "util/crypto.h"
#include "util/log.h"
#include "util/mem.h"

/* How much of an oversized body is read and dropped before the
 * connection is cut. */
#define HTTP_DISCARD_LIMIT ((size_t)64 << 20)

static struct MHD_Daemon *daemon_handle;

/*
 * A handler may wait for the database, and a polling thread that waits
 * stalls every connection it serves (health checks included). So a request
 * that needs a handler is suspended, queued, handled by a worker thread and
 * resumed to be answered; the polling threads only read requests and write
 * replies. Except when waiting there stalls nobody: a request whose
 * connection is the only one its polling thread serves, with a database
 * connection idle at that moment, is handled on the polling thread itself
 * (see handle_in_place), which saves two thread hand-offs.
 */
static struct {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    struct http_request *head, *tail;
    pthread_t *threads;
    int nthreads;
    bool stopping;
} work = {.lock = PTHREAD_MUTEX_INITIALIZER, .ready = PTHREAD_COND_INITIALIZER};

static int active_requests;

/*
 * Open connections per polling thread. A connection stays on the thread
 * that accepted it, and libmicrohttpd reports its start on that thread:
 * the slot's index goes in the connection's socket context, so its close
 * (which at shutdown may be reported on another thread) finds the slot.
 */
#define IO_MAX CONFIG_IO_THREADS_MAX
static int io_open[IO_MAX];
static int io_slots;          /* slots handed out so far */
static int in_place;          /* requests handled on polling threads now */
static _Thread_local int io_slot = -1;

static int io_slot_of_thread(void)
{
    if (io_slot < 0) {
        int n = __atomic_fetch_add(&io_slots, 1, __ATOMIC_RELAXED);
        io_slot = n < IO_MAX ? n : IO_MAX; /* IO_MAX: no slot, never in place */
    }
    return io_slot;
}

static double elapsed_ms(const struct timespec *since)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - since->tv_sec) * 1000.0 +
           (double)(now.tv_nsec - since->tv_nsec) / 1e6;
}

static bool request_id_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 64)
        return false;
    for (const char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '.' || *p == '_' || *p == '-'))
            return false;
    return true;
}

/* 64 random-looking bits per request, no system call: splitmix64 over a
 * per-thread state seeded once from getrandom. Request ids correlate log
 * lines; they are not secrets. */
static uint64_t request_id_next(void)
{
    static _Thread_local uint64_t state;
    static _Thread_local bool seeded;
    if (!seeded) {
        if (!random_bytes(&state, sizeof state))
            state = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&state;
        seeded = true;
    }
    uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static struct http_request *request_new(struct MHD_Connection *conn, const char *method,
                                        const char *url)
{
    struct http_request *r = xcalloc(1, sizeof *r);
    r->conn = conn;
    r->method = method;
    r->path = url;
    r->openrosa = strncmp(url, "/openrosa/", 10) == 0;
    buf_init(&r->body);
    clock_gettime(CLOCK_MONOTONIC, &r->started);
    const char *given = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (given && request_id_valid(given)) {
        snprintf(r->request_id, sizeof r->request_id, "%s", given);
    } else {
        uint64_t id = request_id_next();
        unsigned char raw[8];
        for (int i = 0; i < 8; i++)
            raw[i] = (unsigned char)(id >> (8 * i));
        hex_encode(raw, sizeof raw, r->request_id);
    }
    __atomic_add_fetch(&active_requests, 1, __ATOMIC_RELAXED);
    return r;
}

static void request_free(struct http_request *r)
{
    if (r->db)
        db_release(r->db);
    buf_free(&r->body);
    free(r->reply_body);
    for (int i = 0; i < r->nheaders; i++)
        free(r->headers[i].value);
    free(r);
}

static enum MHD_Result send_reply(struct http_request *r)
{
    if (!r->replied) {
        struct api_error e;
        err_internal(&e);
        http_reply_error(r, &e);
    }
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(r->reply_len, r->reply_body, MHD_RESPMEM_MUST_FREE);
    if (!resp)
        return MHD_NO;
    r->reply_body = NULL; /* MHD owns it now */
    if (r->content_type)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r->content_type);
    MHD_add_response_header(resp, "X-Request-Id", r->request_id);
    /* No cache keeps anything but a public route's answer (request.h):
     * never an error, never what a key was needed for. */
    bool cacheable = r->cache_control[0] && (r->status == 200 || r->status == 304);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL,
                            cacheable ? r->cache_control : "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (r->openrosa)
        MHD_add_response_header(resp, "X-OpenRosa-Version", "1.0");
    for (int i = 0; i < r->nheaders; i++)
        MHD_add_response_header(resp, r->headers[i].name, r->headers[i].value);
    enum MHD_Result ret = MHD_queue_response(r->conn, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    /* The database connection is not needed while the reply is sent. */
    if (r->db) {
        db_release(r->db);
        r->db = NULL;
    }
    return ret;
}

static void reply_too_large(struct http_request *r)
{
    struct api_error e;
    api_error_set(&e, 413, ERR_PAYLOAD_TOO_LARGE, NULL, "request body is larger than %ld bytes",
                  cfg.body_limit);
    http_add_header(r, "Connection", "close");
    http_reply_error(r, &e);
    r->body_too_large = true;
}

static enum MHD_Result count_length(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    (void)value;
    if (strcasecmp(key, MHD_HTTP_HEADER_CONTENT_LENGTH) == 0)
        (*(int *)cls)++;
    return MHD_YES;
}

/* Decodes %HH escapes in paths and query values, except %00 and %2F:
 * a NUL would cut the text short and an encoded slash would change which
 * route a path names, so both stay as typed (and match nothing). */
static size_t unescape(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    char *out = s;
    for (const char *in = s; *in;) {
        int hi, lo;
        if (in[0] == '%' && (hi = hex_digit(in[1])) >= 0 && (lo = hex_digit(in[2])) >= 0 &&
            (hi << 4 | lo) != 0 && (hi << 4 | lo) != '/') {
            *out++ = (char)(hi << 4 | lo);
            in += 3;
        } else {
            *out++ = *in++;
        }
    }
    *out = '\0';
    return (size_t)(out - s);
}

/* The key of a request with a body, checked before the body is read, so
 * that nobody without a key can make the server hold bodies. The database
 * connection is not kept while the body arrives: a slow sender would hold
 * it. */
static void authenticate_early(struct http_request *r)
{
    struct api_error e;
    if (!http_route_authenticate(r, &e))
        http_reply_error(r, &e);
    if (r->db) {
        db_release(r->db);
        r->db = NULL;
    }
    r->phase = HTTP_PHASE_AUTHED;
}

static void work_push(struct http_request *r)
{
    clock_gettime(CLOCK_MONOTONIC, &r->queued);
    pthread_mutex_lock(&work.lock);
    r->next = NULL;
    if (work.tail)
        work.tail->next = r;
    else
        work.head = r;
    work.tail = r;
    pthread_cond_signal(&work.ready);
    pthread_mutex_unlock(&work.lock);
}

static void *worker_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&work.lock);
        while (!work.head && !work.stopping)
            pthread_cond_wait(&work.ready, &work.lock);
        struct http_request *r = work.head;
        if (!r) { /* stopping and drained */
            pthread_mutex_unlock(&work.lock);
            return NULL;
        }
        work.head = r->next;
        if (!work.head)
            work.tail = NULL;
        pthread_mutex_unlock(&work.lock);

        /* A request that already waited its share for a worker is turned
         * away at once: the wait for capacity stays bounded. */
        if (elapsed_ms(&r->queued) > (double)cfg.pool_wait_ms) {
            struct api_error e;
            api_error_set(&e, 503, ERR_UNAVAILABLE, NULL, "the server is busy; retry shortly");
            metrics_queue_timeout();
            http_reply_error(r, &e);
            if (r->phase == HTTP_PHASE_AUTH)
                r->phase = HTTP_PHASE_AUTHED;
        } else if (r->phase == HTTP_PHASE_AUTH) {
            authenticate_early(r);
        } else {
            http_dispatch(r);
        }
        MHD_resume_connection(r->conn);
    }
}

static bool workers_start(int n)
{
    work.threads = xcalloc((size_t)n, sizeof *work.threads);
    work.stopping = false;
    for (int i = 0; i < n; i++) {
        if (pthread_create(&work.threads[i], NULL, worker_main, NULL) != 0) {
            log_error("cannot start worker threads");
            return false;
        }
        work.nthreads++;
    }
    return true;
}

static void workers_stop(void)
{
    pthread_mutex_lock(&work.lock);
    work.stopping = true;
    pthread_cond_broadcast(&work.ready);
    pthread_mutex_unlock(&work.lock);
    for (int i = 0; i < work.nthreads; i++)
        pthread_join(work.threads[i], NULL);
    free(work.threads);
    work.threads = NULL;
    work.nthreads = 0;
}

/*
 * Handles r on this polling thread if that stalls nobody, and says whether
 * it did: r's connection is the only one the thread serves (so no other
 * client waits behind it), fewer than all but one polling threads are busy
 * that way (so one is always free to accept connections and answer health
 * checks), and a database connection is idle (so it never waits for the
 * pool here: waits for capacity stay in the queue, where they are bounded).
 */
static bool handle_in_place(struct http_request *r, void (*step)(struct http_request *r))
{
    int slot = io_slot_of_thread();
    if (slot >= IO_MAX)
        return false;
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    if (!info || (intptr_t)info->socket_context != slot + 1 ||
        __atomic_load_n(&io_open[slot], __ATOMIC_RELAXED) != 1)
        return false;
    if (__atomic_add_fetch(&in_place, 1, __ATOMIC_RELAXED) > cfg.io_threads - 1) {
        __atomic_sub_fetch(&in_place, 1, __ATOMIC_RELAXED);
        return false;
    }
    bool handled = (r->db = db_try_acquire()) != NULL;
    if (handled) {
        if (step == http_dispatch)
            metrics_in_place();
        step(r);
    }
    __atomic_sub_fetch(&in_place, 1, __ATOMIC_RELAXED);
    return handled;
}

/* The client's address (4 or 16 bytes): the peer's, or, when the peer is
 * a trusted proxy, the last address of its X-Forwarded-For. */
static size_t client_address(struct http_request *r, unsigned char out[16])
{
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info ? info->client_addr : NULL;
    size_t n = 0;
    if (sa && sa->sa_family == AF_INET) {
        memcpy(out, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, 4);
        n = 4;
    } else if (sa && sa->sa_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, 16);
        n = 16;
    }
    if (!n || !http_peer_trusted(r))
        return n;
    const char *forwarded = http_header(r, "X-Forwarded-For");
    const char *last = forwarded ? strrchr(forwarded, ',') : NULL;
    char text[INET6_ADDRSTRLEN + 8];
    snprintf(text, sizeof text, "%s", last ? last + 1 : forwarded ? forwarded : "");
    char *t = text;
    while (*t == ' ')
        t++;
    t[strcspn(t, " ")] = '\0';
    if (inet_pton(AF_INET, t, out) == 1)
        return 4;
    if (inet_pton(AF_INET6, t, out) == 1)
        return 16;
    return n; /* no usable forwarded address: the proxy's own bucket */
}

static bool has_body(struct MHD_Connection *conn)
{
    const char *length =
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                       MHD_HTTP_HEADER_TRANSFER_ENCODING) != NULL ||
           (length && strspn(length, "0") != strlen(length));
}

/* What is decided before any of the body is read: the route (404, 405),
 * the client address's rate (429), a body where none belongs (400), and
 * the key of a request with a body (then r->phase says whether a worker
 * must check it). false: r holds the reply, to be sent at once. */
static bool admit(struct http_request *r)
{
    struct api_error e;
    if (!http_route_resolve(r, &e)) {
        http_reply_error(r, &e);
        return false;
    }
    int retry;
    bool operations = strcmp(r->path, "/healthz") == 0 || strcmp(r->path, "/readyz") == 0 ||
                      strcmp(r->path, "/metrics") == 0;
    unsigned char address[16];
    size_t len = operations ? 0 : client_address(r, address);
    if (len && !ratelimit_take(RATELIMIT_ADDRESS, address, len, (double)cfg.rate_address,
                               4.0 * (double)cfg.rate_address, &retry)) {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%d", retry);
        http_add_header(r, "Retry-After", seconds);
        api_error_set(&e, 429, ERR_RATE_LIMITED, NULL,
                      "too many requests from this address; retry after %d s", retry);
        http_reply_error(r, &e);
        return false;
    }
    if (!has_body(r->conn))
        return true;
    if (!http_route_takes_body(r)) {
        api_error_set(&e, 400, ERR_INVALID_FIELD, NULL, "%s %s takes no request body",
                      r->method, r->route_template);
        http_add_header(r, "Connection", "close");
        http_reply_error(r, &e);
        return false;
    }
    if (!http_route_needs_key(r))
        return true;
    r->phase = HTTP_PHASE_AUTH;
    if (handle_in_place(r, authenticate_early) && r->replied) {
        http_add_header(r, "Connection", "close");
        return false;
    }
    return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)cls;
    (void)version;
    struct http_request *r = *con_cls;
    if (!r) {
        r = request_new(conn, method, url);
        *con_cls = r;
        /* Refuse an oversized body before reading any of it. */
        const char *length = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                         MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (length) {
            char *end;
            unsigned long long n = strtoull(length, &end, 10);
            if (*end == '\0' && n > (unsigned long long)cfg.body_limit) {
                reply_too_large(r);
                return send_reply(r);
            }
        }
        /* Two Content-Length headers that disagree are a smuggling attempt. */
        int lengths = 0;
        MHD_get_connection_values(conn, MHD_HEADER_KIND, count_length, &lengths);
        if (lengths > 1) {
            struct api_error e;
            api_error_set(&e, 400, ERR_INVALID_FIELD, "Content-Length",
                          "Content-Length may be given once");
            http_add_header(r, "Connection", "close");
            http_reply_error(r, &e);
            r->body_too_large = true; /* read nothing more */
            return send_reply(r);
        }
        if (!admit(r)) {
            r->body_too_large = true; /* read nothing more */
            return send_reply(r);
        }
        if (r->phase == HTTP_PHASE_AUTH) {
            MHD_suspend_connection(conn);
            work_push(r);
        }
        return MHD_YES;
    }
    if (r->phase == HTTP_PHASE_AUTHED) {
        /* Back from the key check, the body still unread: refused now,
         * or read from here on. */
        r->phase = HTTP_PHASE_BODY;
        if (r->replied) {
            http_add_header(r, "Connection", "close");
            r->body_too_large = true;
            if (*upload_data_size == 0)
                return send_reply(r);
        } else if (*upload_data_size == 0) {
            return MHD_YES; /* libmicrohttpd asks again before the body */
        }
    }
    if (*upload_data_size > 0) {
        /* A body without Content-Length (chunked) that outgrows the limit
         * is read to its end and dropped, then answered with 413; a client
         * that keeps sending far past the limit is cut off. */
        r->body_seen += *upload_data_size;
        if (!r->body_too_large && r->body_seen > (size_t)cfg.body_limit) {
            reply_too_large(r);
            buf_free(&r->body);
        }
        if (!r->body_too_large)
            buf_append(&r->body, upload_data, *upload_data_size);
        else if (r->body_seen > HTTP_DISCARD_LIMIT)
            return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (r->body_too_large || r->handled)
        return send_reply(r);
    r->handled = true;
    if (http_route_is_quick(r->method, r->path)) {
        http_dispatch(r); /* no database: answered on the spot */
        return send_reply(r);
    }
    if (handle_in_place(r, http_dispatch))
        return send_reply(r);
    MHD_suspend_connection(conn);
    work_push(r);
    return MHD_YES;
}

/* Appends to a fixed buffer, cutting what does not fit. */
struct line {
    char *p, *end;
};

static void put(struct line *l, const char *s, size_t n)
{
    if ((size_t)(l->end - l->p) < n)
        n = (size_t)(l->end - l->p);
    memcpy(l->p, s, n);
    l->p += n;
}
#define PUT_LIT(l, s) put((l), (s), sizeof(s) - 1)

static void put_uint(struct line *l, unsigned long v, int min_digits)
{
    char d[24];
    int n = 0;
    do
        d[n++] = (char)('0' + v % 10), v /= 10;
    while (v || n < min_digits);
    while (n > 0 && l->p < l->end)
        *l->p++ = d[--n];
}

/* The request log line: ids, codes and a duration, never a header value
 * other than the (validated) request id, never a body. Formatted here by
 * hand, without allocating: this runs for every request. */
static void log_request(const struct http_request *r, enum MHD_RequestTerminationCode toe)
{
    char fields[900], quoted[200];
    struct line l = {fields, fields + sizeof fields};
    PUT_LIT(&l, "\"msg\":\"request\",\"request_id\":\"");
    put(&l, r->request_id, strlen(r->request_id));
    PUT_LIT(&l, "\",\"method\":");
    put(&l, quoted, log_json_string(quoted, 40, r->method ? r->method : ""));
    PUT_LIT(&l, ",\"route\":");
    put(&l, quoted, log_json_string(quoted, sizeof quoted, http_route_template(r)));
    PUT_LIT(&l, ",\"status\":");
    put_uint(&l, r->replied ? (unsigned long)r->status : 0, 1);
    unsigned long us = (unsigned long)(elapsed_ms(&r->started) * 1000);
    PUT_LIT(&l, ",\"duration_ms\":");
    put_uint(&l, us / 1000, 1);
    PUT_LIT(&l, ".");
    put_uint(&l, us % 1000, 3);
    if (r->authenticated) {
        PUT_LIT(&l, ",\"role\":\"");
        const char *role = role_name(r->who.role);
        put(&l, role, strlen(role));
        PUT_LIT(&l, "\"");
    }
    if (toe != MHD_REQUEST_TERMINATED_COMPLETED_OK)
        PUT_LIT(&l, ",\"aborted\":true");
    log_request_line(fields, (size_t)(l.p - fields));
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)conn;
    struct http_request *r = *con_cls;
    if (!r)
        return;
    metrics_request(http_route_index(r), r->replied ? r->status : 0, elapsed_ms(&r->started) / 1000.0);
    if (LOG_INFO >= log_min_level)
        log_request(r, toe);
    request_free(r);
    *con_cls = NULL;
    __atomic_sub_fetch(&active_requests, 1, __ATOMIC_RELAXED);
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    (void)cls;
    (void)conn;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        metrics_connection_opened();
        int slot = io_slot_of_thread();
        if (slot < IO_MAX) {
            __atomic_add_fetch(&io_open[slot], 1, __ATOMIC_RELAXED);
            *socket_context = (void *)(intptr_t)(slot + 1);
        }
    } else {
        metrics_connection_closed();
        intptr_t slot = (intptr_t)*socket_context - 1;
        if (slot >= 0 && slot < IO_MAX)
            __atomic_sub_fetch(&io_open[slot], 1, __ATOMIC_RELAXED);
        *socket_context = NULL;
    }
}

/* Refuses a connection past the total limit (counted for /metrics); MHD
 * applies the per-address limit itself. */
static enum MHD_Result on_accept(void *cls, const struct sockaddr *addr, socklen_t addrlen)
{
    (void)cls;
    (void)addr;
    (void)addrlen;
    if (metrics_open_connections() >= cfg.max_connections) {
        metrics_connection_rejected();
        return MHD_NO;
    }
    return MHD_YES;
}

__attribute__((format(printf, 2, 0))) static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[512];
    vsnprintf(msg, sizeof msg, fmt, ap);
    size_t n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '\r'))
        msg[--n] = '\0';
    log_warn("http: %s", msg);
}

static bool resolve(const char *host, int port, struct sockaddr_storage *out, bool *ipv6)
{
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
    struct addrinfo *res;
    char portstr[8];
    snprintf(portstr, sizeof portstr, "%d", port);
    const char *h = host;
    char bare[sizeof cfg.listen_host];
    if (host[0] == '[') { /* [::1] */
        size_t n = strnlen(host + 1, sizeof bare - 1);
        memcpy(bare, host + 1, n);
        bare[n] = '\0';
        char *close = strchr(bare, ']');
        if (close)
            *close = '\0';
        h = bare;
    }
    if (getaddrinfo(h, portstr, &hints, &res) != 0)
        return false;
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *ipv6 = res->ai_family == AF_INET6;
    freeaddrinfo(res);
    return true;
}

bool http_server_start(void)
{
    static struct sockaddr_storage addr;
    bool ipv6;
    const char *templates[HTTP_ROUTES_MAX];
    int nroutes = 0;
    while (nroutes < HTTP_ROUTES_MAX && (templates[nroutes] = http_route_by_index(nroutes)))
        nroutes++;
    metrics_set_routes(templates, nroutes);
    if (!workers_start((int)cfg.threads))
        return false;
    if (!resolve(cfg.listen_host, cfg.listen_port, &addr, &ipv6)) {
        log_error("cannot resolve listen address %s", cfg.listen);
        return false;
    }
    /* poll(2), not epoll: with MHD_USE_EPOLL (libmicrohttpd 0.9.75, thread
     * pool), bursts of keep-alive clients sometimes left every connection
     * with its next request unread while both polling threads slept in
     * epoll_wait, until another connection arrived: 6 of 340 two-second
     * runs of wrk -c256 on /healthz, with or without MHD_USE_TURBO; none of
     * 280 with poll, at about 6% fewer requests/s (bench/perf/stalls.sh,
     * docs/performance.md). */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_ALLOW_SUSPEND_RESUME |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO | (ipv6 ? MHD_USE_IPv6 : 0);
    struct MHD_OptionItem opts[] = {
        /* First, so that libmicrohttpd logs nothing of its own before it. */
        {MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_log, NULL},
        {MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg.io_threads, NULL},
        /* A little above ours, so that on_accept (which counts) refuses first. */
        {MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg.max_connections + 16, NULL},
        {MHD_OPTION_PER_IP_CONNECTION_LIMIT, (intptr_t)cfg.per_ip_connections, NULL},
        {MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg.connection_timeout, NULL},
        {MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024, NULL},
        {MHD_OPTION_CONNECTION_MEMORY_LIMIT, 16384, NULL},
        {MHD_OPTION_SOCK_ADDR, 0, &addr},
        {MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, NULL},
        {MHD_OPTION_NOTIFY_CONNECTION, (intptr_t)on_connection, NULL},
        {MHD_OPTION_UNESCAPE_CALLBACK, (intptr_t)unescape, NULL},
        {MHD_OPTION_END, 0, NULL},
    };
    daemon_handle = MHD_start_daemon(flags, (uint16_t)cfg.listen_port, on_accept, NULL, on_request,
                                     NULL, MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
    if (!daemon_handle) {
        log_error("cannot listen on %s", cfg.listen);
        return false;
    }
    return true;
}

void http_server_stop(int drain_seconds)
{
    if (!daemon_handle)
        return;
    /* Close the listening socket first: new connections are refused while
     * the requests already received run to completion. */
    MHD_socket listener = MHD_quiesce_daemon(daemon_handle);
    if (listener != MHD_INVALID_SOCKET)
        close(listener);
    for (int waited = 0; waited < drain_seconds * 100; waited++) {
        if (__atomic_load_n(&active_requests, __ATOMIC_RELAXED) == 0)
            break;
        usleep(10000);
    }
    MHD_stop_daemon(daemon_handle);
    daemon_handle = NULL;
    workers_stop();
}
