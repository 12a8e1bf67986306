/* GET /v1/trends: periodic aggregates from the rollup cells. */
#include "handlers/handlers.h"
#include "trends/trend.h"

static const char *query_param(void *ctx, const char *name)
{
    return http_query_get(ctx, name);
}

void handle_trends(struct http_request *r)
{
    struct api_error e;
    struct http_query q;
    struct trend_query tq;
    if (!http_query_parse(r, trend_param_names, &q, &e)) {
        http_reply_error(r, &e);
        return;
    }
    /* Labels and code checks must match the figures, which join the
     * taxonomy at query time. The query reads the taxonomy's revision in
     * the round trip of the figures; when it has moved since the cached
     * copy, the query runs again with the current one. A code the cached
     * copy does not know is checked against the current one before the
     * 400. */
    json_t *answer = NULL;
    bool stale = false;
    for (int attempt = 0; attempt < 2; attempt++) {
        struct taxonomy *t = taxonomy_acquire(r->db, attempt > 0, &e);
        if (!t) {
            http_reply_error(r, &e);
            return;
        }
        stale = false;
        bool parsed = trend_parse(query_param, &q, t, &tq, &e);
        if (parsed)
            answer = trend_run_checked(r->db, &tq, t, &stale, &e);
        taxonomy_release(t);
        if (answer || (parsed && !stale))
            break;
    }
    if (!answer) {
        if (stale)
            api_error_set(&e, 503, ERR_UNAVAILABLE, NULL,
                          "the taxonomy changed during the query; retry");
        http_reply_error(r, &e);
        return;
    }
    if (tq.format == FORMAT_JSON) {
        http_reply_json(r, 200, answer);
        return;
    }
    struct buf out;
    buf_init(&out);
    trend_render_csv(answer, &tq, &out);
    json_decref(answer);
    http_add_header(r, "Content-Disposition",
                    tq.format == FORMAT_HXL ? "inline; filename=\"trends-hxl.csv\""
                                            : "inline; filename=\"trends.csv\"");
    http_reply_bytes(r, 200, "text/csv; charset=utf-8", out.data ? out.data : "", out.len);
    buf_free(&out);
}
