/* /v1/public: keyless data from the public releases; and making a
 * published report public. The keyless routes answer 404 unless
 * CIVCAS_PUBLIC=1. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "handlers/handlers.h"
#include "reports/public.h"
#include "store/publications.h"
#include "store/reports.h"
#include "store/taxonomy.h"
#include "util/crypto.h"

static const char *query_param(void *ctx, const char *name)
{
    return http_query_get(ctx, name);
}

/* The keyless routes need a database connection of their own: the router
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
    /* status is not a public parameter: trend_parse's default, verified. */
    struct public_params pp = {query_param, &q, "", ""};
    json_t *answer = NULL;
    if (trend_parse(public_param, &pp, t, &tq, &e) && public_trend_check(&tq, &e))
        answer = public_trend_answer(r->db, &tq, t, cfg.public_min_cell, &e);
    store_taxonomy_release(t);
    if (answer)
        http_reply_cacheable_json(r, HTTP_LIFETIME_SHORT, answer);
    else
        http_reply_error(r, &e);
}

void handle_public_report(struct http_request *r)
{
    struct api_error e;
    char *body = NULL, made_at[40];
    bool found = false;
    if (!public_begin(r, &e) ||
        !store_public_report_get(r->db, r->path_id, &body, made_at, &found, &e)) {
        http_reply_error(r, &e);
        return;
    }
    if (!found) {
        api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such public report");
        http_reply_error(r, &e);
        return;
    }
    http_reply_cacheable(r, HTTP_LIFETIME_IMMUTABLE, "application/json", body, strlen(body),
                         made_at);
}

/* The public form of a snapshot: built from the releases of now, then
 * stored with its hash, never to change. */
void handle_report_make_public(struct http_request *r)
{
    struct api_error e;
    char *stored = NULL, *text = NULL, *canonical = NULL;
    json_t *snapshot = NULL, *form = NULL, *envelope = NULL;
    struct taxonomy *t = NULL;
    bool found = false, in_tx = false;
    if (!handlers_can_sign(&e) || !store_report_get(r->db, r->path_id, &stored, &found, &e))
        goto fail;
    if (!found) {
        api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such report");
        goto fail;
    }
    snapshot = json_loads(stored, 0, NULL);
    if (!snapshot) {
        err_internal(&e);
        goto fail;
    }
    if (!(t = store_taxonomy_acquire(r->db, false, &e)) ||
        !(form = public_report_build(r->db, json_object_get(snapshot, "report"), t,
                                     cfg.public_min_cell, &e)))
        goto fail;
    /* The hash covers the canonical text of the public form. */
    canonical = json_dumps(form, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(15));
    unsigned char digest[SHA256_LEN];
    char hex[2 * SHA256_LEN + 1], made_at[40];
    sha256(canonical, strlen(canonical), digest);
    hex_encode(digest, SHA256_LEN, hex);
    if (!db_begin(r->db, &e))
        goto fail;
    in_tx = true;
    if (!store_now(r->db, made_at, &e))
        goto fail;
    envelope = json_pack("{s:O, s:O, s:O, s:O, s:s, s:I, s:s, s:O}", "id",
                         json_object_get(snapshot, "id"), "title",
                         json_object_get(snapshot, "title"), "created_at",
                         json_object_get(snapshot, "created_at"), "sha256",
                         json_object_get(snapshot, "sha256"), "made_public_at", made_at,
                         "min_cell", (json_int_t)cfg.public_min_cell, "public_sha256", hex,
                         "report", form);
    text = json_dumps(envelope, JSON_COMPACT | JSON_REAL_PRECISION(15));
    if (!store_public_report_insert(r->db, r->path_id, hex, text, cfg.public_min_cell,
                                    r->who.key_id, made_at, &e) ||
        !store_publication_append(r->db, handlers_signer(), PUBLICATION_PUBLIC_REPORT,
                                  r->path_id, text, made_at, &e) ||
        !db_commit(r->db, &e))
        goto fail;
    in_tx = false;
    char location[64];
    snprintf(location, sizeof location, "/v1/public/reports/%lld", r->path_id);
    http_add_header(r, "Location", location);
    http_reply_bytes(r, 201, "application/json", text, strlen(text));
    goto done;
fail:
    if (in_tx)
        db_rollback(r->db);
    http_reply_error(r, &e);
done:
    store_taxonomy_release(t);
    free(stored);
    free(text);
    free(canonical);
    json_decref(envelope);
    json_decref(form);
    json_decref(snapshot);
}
