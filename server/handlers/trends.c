/* GET /v1/trends: periodic aggregates from the rollup cells. */
#include "handlers/handlers.h"
#include "store/taxonomy.h"
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
     * taxonomy at query time: the revision read with the key. */
    struct taxonomy *t = store_taxonomy_acquire_revision(r->db, r->taxonomy_revision, &e);
    if (!t) {
        http_reply_error(r, &e);
        return;
    }
    json_t *answer = NULL;
    if (trend_parse(query_param, &q, t, &tq, &e))
        answer = trend_run(r->db, &tq, t, &e);
    store_taxonomy_release(t);
    if (!answer) {
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
