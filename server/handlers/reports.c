/* /v1/reports: the PoC report, publishing and published snapshots. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handlers/handlers.h"
#include "reports/drift.h"
#include "reports/poc.h"
#include "reports/poc_render.h"
#include "store/publications.h"
#include "store/reports.h"
#include "store/taxonomy.h"
#include "util/crypto.h"
#include "util/jsonv.h"
#include "util/mem.h"

static const char *query_param(void *ctx, const char *name)
{
    return http_query_get(ctx, name);
}

/* The HTML report is one self-contained page: a <style> element and inline
 * SVG, no script, image, font, frame or form. So nothing may load, run or
 * frame it, even should an injected name slip past the escaping. */
static const char report_html_policy[] = "default-src 'none'; style-src 'unsafe-inline'; "
                                         "base-uri 'none'; form-action 'none'; "
                                         "frame-ancestors 'none'";

/* Builds the report for p with the current taxonomy; with q (a GET), in
 * the language the request asks for. */
static json_t *build(struct http_request *r, const struct http_query *q, struct poc_params *p,
                     struct api_error *e)
{
    /* Labels must match the figures, which join the taxonomy at query
     * time: the revision read with the key. */
    struct taxonomy *t = store_taxonomy_acquire_revision(r->db, r->taxonomy_revision, e);
    if (!t)
        return NULL;
    const char *lang;
    if (q && !handler_lang(r, q, t, &lang, e)) {
        store_taxonomy_release(t);
        return NULL;
    }
    if (q)
        snprintf(p->lang, sizeof p->lang, "%s", lang);
    json_t *report = poc_build(r->db, p, t, e);
    store_taxonomy_release(t);
    return report;
}

void handle_report_poc(struct http_request *r)
{
    struct api_error e;
    struct http_query q;
    struct poc_params p;
    enum poc_format format;
    const char *table;
    json_t *report = NULL;
    bool latin = false;
    if (!http_query_parse(r, poc_param_names, &q, &e) || !poc_parse(query_param, &q, &p, &e) ||
        !poc_parse_format(query_param, &q, &format, &table, &e) ||
        !poc_parse_digits(query_param, &q, &latin, &e) ||
        !handler_count_allowed(r, p.custom_status, &e) || !(report = build(r, &q, &p, &e))) {
        http_reply_error(r, &e);
        return;
    }
    if (format == POC_JSON) {
        http_reply_json(r, 200, report);
        return;
    }
    struct buf out;
    buf_init(&out);
    if (format == POC_HTML) {
        poc_render_html(report, p.lang, latin, &out);
        http_add_header(r, "Content-Security-Policy", report_html_policy);
        http_reply_bytes(r, 200, "text/html; charset=utf-8", out.data, out.len);
    } else if (poc_render_table(report, table, format == POC_HXL, p.lang, &out, &e)) {
        http_add_header(r, "Content-Disposition", "inline; filename=\"poc-report.csv\"");
        http_reply_bytes(r, 200, "text/csv; charset=utf-8", out.data ? out.data : "", out.len);
    } else {
        http_reply_error(r, &e);
    }
    buf_free(&out);
    json_decref(report);
}

/* Publish bodies give the parameters as JSON members. */
struct body_params {
    json_t *doc;
    char years[24];
};

static const char *body_param(void *ctx, const char *name)
{
    struct body_params *b = ctx;
    json_t *v = json_object_get(b->doc, name);
    if (strcmp(name, "years") == 0 && json_is_integer(v)) {
        snprintf(b->years, sizeof b->years, "%lld", (long long)json_integer_value(v));
        return b->years;
    }
    if (strcmp(name, "range") == 0 && json_is_boolean(v))
        return json_is_true(v) ? "true" : "false";
    return json_string_value(v);
}

static bool publish_body(json_t *doc, const char **title, struct api_error *e)
{
    static const char *const allowed[] = {"from", "to", "years", "status", "range", "title", NULL};
    const char *s;
    long long years;
    bool range;
    /* A published report names its period: no defaults. */
    if (!jv_only_keys(doc, allowed, "", e) || !jv_string(doc, "from", "", true, 1, 10, &s, NULL, e) ||
        !jv_string(doc, "to", "", true, 1, 10, &s, NULL, e) ||
        !jv_integer(doc, "years", "", false, 1, POC_MAX_YEARS, &years, NULL, e) ||
        !jv_string(doc, "status", "", false, 1, 100, &s, NULL, e) ||
        !jv_boolean(doc, "range", "", false, &range, NULL, e) ||
        !jv_string(doc, "title", "", false, 1, 200, title, NULL, e))
        return false;
    return true;
}

void handle_report_publish(struct http_request *r)
{
    struct api_error e;
    json_t *doc = NULL, *report = NULL, *content = NULL, *envelope = NULL;
    char *canonical = NULL, *body = NULL, *params_text = NULL;
    struct poc_params p;
    const char *title = NULL;
    bool in_tx = false;
    if (!handlers_can_sign(&e) ||
        !json_parse_strict(r->body.data ? r->body.data : "", r->body.len, &doc, &e) ||
        !publish_body(doc, &title, &e))
        goto fail;
    struct body_params bp = {doc, ""};
    if (!poc_parse(body_param, &bp, &p, &e) || !(report = build(r, NULL, &p, &e)))
        goto fail;
    json_t *parameters = poc_parameters_json(&p);
    content = json_pack("{s:o, s:O}", "parameters", parameters, "report", report);
    /* The hash covers the canonical text: sorted keys, no whitespace. */
    canonical = json_dumps(content, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    unsigned char digest[SHA256_LEN];
    char hex[2 * SHA256_LEN + 1];
    sha256(canonical, strlen(canonical), digest);
    hex_encode(digest, SHA256_LEN, hex);

    long long id;
    char created_at[40], idtext[24], label[160];
    if (!db_begin(r->db, &e))
        goto fail;
    in_tx = true;
    if (!store_report_reserve(r->db, &id, created_at, &e))
        goto fail;
    snprintf(idtext, sizeof idtext, "%lld", id);
    if (!title) {
        json_t *period = json_object_get(report, "period");
        snprintf(label, sizeof label, "Protection of Civilians, %s to %s",
                 json_string_value(json_object_get(period, "from")),
                 json_string_value(json_object_get(period, "to")));
        title = label;
    }
    envelope = json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:O, s:O}", "id", idtext, "kind", "poc",
                         "title", title, "created_at", created_at, "created_by", r->who.name,
                         "sha256", hex, "parameters", json_object_get(content, "parameters"),
                         "report", report);
    body = json_dumps(envelope, JSON_COMPACT | JSON_REAL_PRECISION(15));
    params_text = json_dumps(json_object_get(content, "parameters"), JSON_COMPACT);
    if (!store_report_insert(r->db, id, "poc", title, params_text, hex, body, r->who.key_id,
                             created_at, &e) ||
        !store_publication_append(r->db, handlers_signer(), PUBLICATION_REPORT, id, body,
                                  created_at, &e) ||
        !db_commit(r->db, &e))
        goto fail;
    in_tx = false;
    char location[48];
    snprintf(location, sizeof location, "/v1/reports/%s", idtext);
    http_add_header(r, "Location", location);
    http_reply_bytes(r, 201, "application/json", body, strlen(body));
    goto done;
fail:
    if (in_tx)
        db_rollback(r->db);
    http_reply_error(r, &e);
done:
    free(canonical);
    free(body);
    free(params_text);
    json_decref(envelope);
    json_decref(content);
    json_decref(report);
    json_decref(doc);
}

void handle_report_get(struct http_request *r)
{
    struct api_error e;
    char *body;
    bool found;
    if (!store_report_get(r->db, r->path_id, &body, &found, &e)) {
        http_reply_error(r, &e);
        return;
    }
    if (!found) {
        api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such report");
        http_reply_error(r, &e);
        return;
    }
    http_reply_bytes(r, 200, "application/json", body, strlen(body));
    free(body);
}

void handle_report_list(struct http_request *r)
{
    struct api_error e;
    json_t *list = store_report_list(r->db, &e);
    if (!list)
        http_reply_error(r, &e);
    else
        http_reply_json(r, 200, list);
}

void handle_report_drift(struct http_request *r)
{
    struct api_error e;
    char *body = NULL;
    bool found;
    json_t *snapshot = NULL, *drift = NULL;
    struct taxonomy *t = NULL;
    if (!store_report_get(r->db, r->path_id, &body, &found, &e))
        goto fail;
    if (!found) {
        api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such report");
        goto fail;
    }
    snapshot = json_loads(body, 0, NULL);
    if (!snapshot) {
        err_internal(&e);
        goto fail;
    }
    if (!(t = store_taxonomy_acquire_revision(r->db, r->taxonomy_revision, &e)))
        goto fail;
    /* Who made a revision: what GET /v1/incidents/{id}/revisions shows,
     * to the roles that may read it. */
    drift = drift_build(r->db, snapshot, t, r->who.role != ROLE_ANALYST, &e);
    if (!drift)
        goto fail;
    http_reply_json(r, 200, drift);
    goto done;
fail:
    http_reply_error(r, &e);
done:
    if (t)
        store_taxonomy_release(t);
    json_decref(snapshot);
    free(body);
}
