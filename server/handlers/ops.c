/* Operations routes: liveness, readiness, the API description. */
#include "config.h"
#include "handlers/handlers.h"
#include "http/metrics.h"
#include "store/migrate.h"
#include "store/replicas.h"
#include "util/embedded.h"
#include "util/log.h"

void handle_healthz(struct http_request *r)
{
    static const char body[] = "{\"status\":\"ok\"}";
    http_reply_bytes(r, 200, "application/json", body, sizeof body - 1);
}

/* What a replica's state is called in /readyz. */
static const char *replica_state_name(const struct replica_state *s)
{
    if (!s->up)
        return "down";
    if (!s->standby)
        return "not_standby";
    if (!s->measured)
        return "unmeasured";
    return s->usable ? "ok" : "lagging";
}

/* Ready (the primary answers, the schema is current), with each read
 * replica's state and lag: a replica down or lagging makes reads go to
 * the primary, not the service unready. */
static void reply_ready_with_replicas(struct http_request *r)
{
    struct replica_state states[REPLICAS_MAX];
    int n = replicas_states(states, REPLICAS_MAX);
    json_t *list = json_array();
    for (int i = 0; i < n; i++) {
        const struct replica_state *s = &states[i];
        json_array_append_new(
            list, json_pack("{s:i, s:s, s:b, s:o, s:o}", "replica", i, "state",
                            replica_state_name(s), "replay_paused", s->paused, "lag_bytes",
                            s->measured ? json_integer((json_int_t)s->lag_bytes) : json_null(),
                            "lag_seconds", s->measured ? json_real(s->lag_seconds) : json_null()));
    }
    http_reply_json(r, 200, json_pack("{s:s, s:o}", "status", "ok", "replicas", list));
}

/* Anyone may ask, so the answer says only which of two things is wrong, in
 * fixed words; what the database said goes to the log. */
void handle_readyz(struct http_request *r)
{
    struct api_error e;
    struct db_conn *c = http_request_db(r, &e);
    char problem[512];
    enum migrate_state state = c ? migrate_check(c, problem, sizeof problem) : MIGRATE_UNREADABLE;
    if (state == MIGRATE_CURRENT && replicas_count() > 0) {
        reply_ready_with_replicas(r);
        return;
    }
    if (state == MIGRATE_CURRENT) {
        handle_healthz(r); /* ready says what alive says: {"status":"ok"} */
        return;
    }
    if (c)
        log_warn("not ready: %s", problem);
    api_error_set(&e, 503, ERR_UNAVAILABLE, NULL, "%s",
                  state == MIGRATE_NOT_CURRENT ? "database schema is not current"
                                               : "database unreachable; retry shortly");
    http_reply_error(r, &e);
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
