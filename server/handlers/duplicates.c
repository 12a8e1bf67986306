/* Duplicates: one incident's candidates, the reviewers' queue, dismissals
 * and their undoing (the dismissal's row is its audit record: who, when,
 * why, and who undid it, when and why). */
#include <stdio.h>
#include <stdlib.h>

#include "domain/duplicate.h"
#include "handlers/handlers.h"
#include "store/duplicates.h"
#include "util/jsonv.h"
#include "util/params.h"

static const char *query_param(void *ctx, const char *name)
{
    return http_query_get(ctx, name);
}

void handle_incident_duplicates(struct http_request *r)
{
    static const char *const params[] = {"limit", NULL};
    struct api_error e;
    struct http_query q;
    long limit;
    if (!http_query_parse(r, params, &q, &e) ||
        !param_limit(query_param, &q, "limit", DUPLICATE_CANDIDATES_DEFAULT,
                     DUPLICATE_CANDIDATES_MAX, &limit, &e)) {
        http_reply_error(r, &e);
        return;
    }
    struct duplicate_facts me = {0};
    struct duplicate_candidate *list;
    size_t n;
    bool found;
    if (!store_duplicate_candidates(r->db, r->path_id, (size_t)limit, &me, &found, &list, &n, &e)) {
        http_reply_error(r, &e);
        return;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        json_array_append_new(items, duplicate_candidate_to_json(&list[i]));
        duplicate_facts_free(&list[i].facts);
    }
    free(list);
    duplicate_facts_free(&me);
    if (!found) {
        json_decref(items);
        api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such incident");
        http_reply_error(r, &e);
        return;
    }
    char id[24];
    snprintf(id, sizeof id, "%lld", r->path_id);
    http_reply_json(r, 200, json_pack("{s:s, s:o}", "incident", id, "items", items));
}

void handle_duplicate_queue(struct http_request *r)
{
    static const char *const params[] = {"limit", "cursor", NULL};
    struct api_error e;
    struct http_query q;
    long limit;
    long long after_a = 0, after_b = 0;
    if (!http_query_parse(r, params, &q, &e) ||
        !param_limit(query_param, &q, "limit", DUPLICATE_QUEUE_DEFAULT, DUPLICATE_QUEUE_MAX, &limit,
                     &e)) {
        http_reply_error(r, &e);
        return;
    }
    const char *cursor = http_query_get(&q, "cursor");
    if (cursor && !duplicate_queue_cursor_decode(cursor, &after_a, &after_b)) {
        err_invalid(&e, "cursor", "cursor is not one this listing gave out");
        http_reply_error(r, &e);
        return;
    }
    struct duplicate_pair *pairs;
    size_t n;
    if (!store_duplicate_queue(r->db, limit, cursor != NULL, after_a, after_b, &pairs, &n, &e)) {
        http_reply_error(r, &e);
        return;
    }
    size_t shown = n > (size_t)limit ? (size_t)limit : n;
    json_t *items = json_array();
    for (size_t i = 0; i < shown; i++)
        json_array_append_new(items, duplicate_pair_to_json(&pairs[i]));
    json_t *next = json_null();
    if (n > shown) {
        char text[128];
        duplicate_queue_cursor_encode(pairs[shown - 1].a.id, pairs[shown - 1].b.id, text,
                                      sizeof text);
        next = json_string(text);
    }
    for (size_t i = 0; i < n; i++)
        duplicate_pair_free(&pairs[i]);
    free(pairs);
    http_reply_json(r, 200, json_pack("{s:o, s:o}", "items", items, "next_cursor", next));
}

/* The end of a write: commits and answers status with record (stolen),
 * or rolls back what began (in_tx) and answers the error. */
static void reply_written(struct http_request *r, bool ok, bool in_tx, int status, json_t *record,
                          struct api_error *e)
{
    if (ok && db_commit(r->db, e)) {
        http_reply_json(r, status, record);
        return;
    }
    json_decref(record);
    if (in_tx)
        db_rollback(r->db);
    http_reply_error(r, e);
}

void handle_duplicate_dismiss(struct http_request *r)
{
    struct api_error e;
    json_t *doc = NULL, *record = NULL;
    long long a, b, missing = 0;
    const char *reason;
    bool swapped, created = false;
    bool ok = json_parse_strict(r->body.data ? r->body.data : "", r->body.len, &doc, &e) &&
              duplicate_dismissal_from_json(doc, &a, &b, &reason, &swapped, &e);
    bool in_tx = ok;
    if (ok) {
        db_begin_deferred(r->db);
        ok = store_duplicate_dismiss(r->db, a, b, reason, r->who.key_id, &missing, &created,
                                     &record, &e);
    }
    if (ok && missing) {
        /* The body's own order names the field. */
        int index = (missing == a) == !swapped ? 0 : 1;
        ok = err_invalid(&e, index ? "incidents[1]" : "incidents[0]",
                         "incidents[%d] names no incident", index);
    }
    reply_written(r, ok, in_tx, created ? 201 : 200, record, &e);
    json_decref(doc);
}

void handle_duplicate_dismissal_undo(struct http_request *r)
{
    struct api_error e;
    json_t *doc = NULL, *record = NULL;
    const char *reason;
    bool ok = json_parse_strict(r->body.data ? r->body.data : "", r->body.len, &doc, &e) &&
              duplicate_dismissal_undo_from_json(doc, &reason, &e);
    bool in_tx = ok;
    if (ok) {
        db_begin_deferred(r->db);
        ok = store_duplicate_dismissal_undo(r->db, r->path_id, reason, r->who.key_id, &record, &e);
    }
    if (ok && !record)
        ok = api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such dismissal");
    reply_written(r, ok, in_tx, 200, record, &e);
    json_decref(doc);
}
