/* Duplicates: one incident's candidates, the reviewers' queue, dismissals. */
#include <stdio.h>
#include <stdlib.h>

#include "domain/duplicate.h"
#include "handlers/handlers.h"
#include "store/duplicates.h"
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
