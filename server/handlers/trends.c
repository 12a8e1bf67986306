/* GET /v1/trends: periodic aggregates from the rollup cells. */
#include <stdlib.h>

#include "config.h"
#include "handlers/handlers.h"
#include "store/taxonomy.h"
#include "trends/trend.h"
#include "trends/trend_render.h"
#include "util/lang.h"

static const char *query_param(void *ctx, const char *name)
{
    return http_query_get(ctx, name);
}

void handle_trends(struct http_request *r)
{
    struct api_error e;
    struct http_query q;
    struct trend_query tq;
    struct trend_result result = {0};
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
    const char *lang = LANG_DEFAULT;
    bool ok = handler_lang(r, &q, t, &lang, &e) && trend_parse(query_param, &q, t, &tq, &e);
    tq.max_values = cfg.trend_max_values;
    tq.lang = lang;
    if (!ok || !handler_count_allowed(r, tq.custom_status, &e) ||
        !trend_run(r->db, &tq, &result, &e)) {
        http_reply_error(r, &e);
    } else {
        struct buf out;
        buf_init(&out);
        if (tq.format == FORMAT_JSON) {
            json_t *answer = trend_result_json(&tq, &result, t);
            char *text = json_dumps(answer, JSON_COMPACT | JSON_REAL_PRECISION(15));
            json_decref(answer);
            if (text)
                buf_puts(&out, text);
            free(text);
        } else {
            trend_result_csv(&tq, &result, t, &out);
            http_add_header(r, "Content-Disposition",
                            tq.format == FORMAT_HXL ? "inline; filename=\"trends-hxl.csv\""
                                                    : "inline; filename=\"trends.csv\"");
        }
        if (out.len > (size_t)cfg.answer_max_bytes) {
            err_invalid(&e, "period",
                        "the answer would be %zu bytes, more than the %ld allowed; choose a "
                        "coarser period, a shorter range, filters or fewer dimensions",
                        out.len, cfg.answer_max_bytes);
            http_reply_error(r, &e);
        } else {
            http_reply_bytes(r, 200,
                             tq.format == FORMAT_JSON ? "application/json"
                                                      : "text/csv; charset=utf-8",
                             out.data ? out.data : "", out.len);
        }
        buf_free(&out);
    }
    trend_result_free(&result);
    store_taxonomy_release(t);
}
