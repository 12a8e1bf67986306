/* Operations routes: liveness, readiness, the API description. */
#include "config.h"
#include "handlers/handlers.h"
#include "http/metrics.h"
#include "store/migrate.h"
#include "util/embedded.h"

void handle_healthz(struct http_request *r)
{
    static const char body[] = "{\"status\":\"ok\"}";
    http_reply_bytes(r, 200, "application/json", body, sizeof body - 1);
}

void handle_readyz(struct http_request *r)
{
    struct api_error e;
    struct db_conn *c = http_request_db(r, &e);
    if (!c) {
        http_reply_error(r, &e);
        return;
    }
    char problem[512];
    bool current = migrate_is_current(c, problem, sizeof problem);
    if (!current) {
        api_error_set(&e, 503, ERR_UNAVAILABLE, NULL, "%s", problem);
        http_reply_error(r, &e);
        return;
    }
    http_reply_json(r, 200, json_pack("{s:s}", "status", "ready"));
}

void handle_openapi(struct http_request *r)
{
    http_reply_bytes(r, 200, "application/json", embedded_openapi[0].data,
                     embedded_openapi[0].size);
}

void handle_metrics(struct http_request *r)
{
    struct buf out;
    buf_init(&out);
    metrics_render(&out);
    http_reply_bytes(r, 200, "text/plain; version=0.0.4; charset=utf-8", out.data, out.len);
    buf_free(&out);
}
