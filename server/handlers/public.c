/* /v1/public: keyless, coarse, verified-only data with small cells withheld.
 * Answers 404 unless CIVCAS_PUBLIC=1. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "handlers/handlers.h"
#include "reports/public.h"
#include "store/reports.h"
#include "store/taxonomy.h"

static const char *query_param(void *ctx, const char *name)
{
    return http_query_get(ctx, name);
}

/* The public routes need a database connection of their own: the router
 * acquires one only for authenticated routes. */
static bool public_begin(struct http_request *r, struct api_error *e)
{
    if (!cfg.public_enabled)
        return api_error_set(e, 404, ERR_NOT_FOUND, NULL, "no such resource");
    return http_request_db(r, e) != NULL;
}

void handle_public_trends(struct http_request *r)
{
    struct api_error e;
    struct http_query q;
    struct trend_query tq;
    if (!public_begin(r, &e) || !http_query_parse(r, public_trend_params, &q, &e)) {
        http_reply_error(r, &e);
        return;
    }
    /* Labels and code checks must match the figures, which join the
     * taxonomy at query time: check its revision now. */
    struct taxonomy *t = store_taxonomy_acquire(r->db, true, &e);
    if (!t) {
        http_reply_error(r, &e);
        return;
    }
    struct trend_result result = {0};
    /* status is not a public parameter: trend_parse's default, verified. */
    if (!trend_parse(query_param, &q, t, &tq, &e) || !public_trend_check(&tq, &e) ||
        !trend_run(r->db, &tq, &result, &e))
        http_reply_error(r, &e);
    else
        http_reply_json(r, 200, public_trend_json(&tq, &result, t, cfg.public_min_cell));
    trend_result_free(&result);
    store_taxonomy_release(t);
}

void handle_public_report(struct http_request *r)
{
    struct api_error e;
    char *body = NULL;
    bool found = false;
    if (!public_begin(r, &e) || !store_report_get(r->db, r->path_id, &body, &found, &e)) {
        http_reply_error(r, &e);
        return;
    }
    json_t *snapshot = found ? json_loads(body, 0, NULL) : NULL;
    free(body);
    json_t *report = json_object_get(snapshot, "report");
    json_t *status = json_object_get(report, "status");
    /* Only reports of verified incidents are ever public. */
    bool verified_only = json_array_size(status) == 1 &&
                         strcmp(json_string_value(json_array_get(status, 0)), "verified") == 0;
    if (!report || !verified_only) {
        json_decref(snapshot);
        api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such public report");
        http_reply_error(r, &e);
        return;
    }
    json_t *out = json_object();
    json_object_set(out, "id", json_object_get(snapshot, "id"));
    json_object_set(out, "title", json_object_get(snapshot, "title"));
    json_object_set(out, "created_at", json_object_get(snapshot, "created_at"));
    json_object_set(out, "sha256", json_object_get(snapshot, "sha256"));
    json_object_set_new(out, "report", public_report(report, cfg.public_min_cell));
    json_decref(snapshot);
    http_reply_json(r, 200, out);
}
