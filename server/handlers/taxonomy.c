/* GET /v1/taxonomy: the code lists a client needs to fill in an incident;
 * and the choice of an answer's language, which the taxonomy's labels
 * widen. */
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "domain/incident.h"
#include "domain/phrases.h"
#include "domain/taxonomy.h"
#include "handlers/handlers.h"
#include "store/taxonomy.h"
#include "util/lang.h"
#include "util/mem.h"

bool handler_lang(struct http_request *r, const struct http_query *q, const struct taxonomy *t,
                  const char **lang, struct api_error *e)
{
    size_t n = phrase_language_count + (t ? t->nlangs : 0);
    const char **available = xcalloc(n, sizeof *available);
    for (size_t i = 0; i < phrase_language_count; i++)
        available[i] = phrase_languages[i];
    for (size_t i = 0; t && i < t->nlangs; i++)
        available[phrase_language_count + i] = t->langs[i];
    bool ok = lang_choose(http_query_get(q, "lang"), http_header(r, "Accept-Language"), available,
                          n, lang);
    free(available);
    if (!ok)
        return err_invalid(e, "lang",
                           "lang must be a BCP 47 language tag such as en, fa-AF, ps, ar or fr");
    http_add_header(r, "Content-Language", *lang);
    return true;
}

static json_t *string_list(const char *const *items)
{
    json_t *list = json_array();
    for (; *items; items++)
        json_array_append_new(list, json_string(*items));
    return list;
}

/* Each code's name in lang (its English name where it has no label), and
 * its labels only where it has some. */
static void localise(json_t *body, const char *lang)
{
    const char *key;
    json_t *list;
    json_object_foreach(body, key, list)
    {
        size_t i;
        json_t *item;
        json_array_foreach(list, i, item)
        {
            json_t *labels = json_object_get(item, "labels");
            const char *label = lang_label(labels, lang);
            if (label)
                json_object_set_new(item, "name", json_string(label));
            if (json_object_size(labels) == 0)
                json_object_del(item, "labels");
        }
    }
}

static const char *const taxonomy_params[] = {"lang", NULL};

void handle_taxonomy_get(struct http_request *r)
{
    struct api_error e;
    struct http_query q;
    const char *lang;
    if (!http_query_parse(r, taxonomy_params, &q, &e)) {
        http_reply_error(r, &e);
        return;
    }
    struct taxonomy *t = store_taxonomy_acquire_revision(r->db, r->taxonomy_revision, &e);
    json_t *body = NULL;
    if (!t || !handler_lang(r, &q, t, &lang, &e) || !(body = store_taxonomy_public(r->db, &e))) {
        store_taxonomy_release(t);
        http_reply_error(r, &e);
        return;
    }
    localise(body, lang);
    json_object_set_new(body, "lang", json_string(lang));
    store_taxonomy_release(t);
    json_t *enums = json_object();
    json_object_set_new(enums, "outcomes", string_list(incident_outcomes));
    json_object_set_new(enums, "sexes", string_list(incident_sexes));
    json_object_set_new(enums, "age_groups", string_list(incident_age_groups));
    json_object_set_new(enums, "statuses", string_list(incident_statuses));
    json_object_set_new(enums, "date_precisions", string_list(incident_date_precisions));
    json_object_set_new(enums, "location_precisions", string_list(incident_location_precisions));
    json_object_set_new(body, "enums", enums);
    json_object_set_new(
        body, "verification",
        json_pack("{s:I}", "required_source_types", (json_int_t)cfg.verify_min_source_types));
    http_reply_json(r, 200, body);
}
