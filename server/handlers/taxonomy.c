/* GET /v1/taxonomy: the code lists a client needs to fill in an incident. */
#include "config.h"
#include "domain/incident.h"
#include "domain/taxonomy.h"
#include "handlers/handlers.h"
#include "store/taxonomy.h"

static json_t *string_list(const char *const *items)
{
    json_t *list = json_array();
    for (; *items; items++)
        json_array_append_new(list, json_string(*items));
    return list;
}

void handle_taxonomy_get(struct http_request *r)
{
    struct api_error e;
    json_t *body = store_taxonomy_public(r->db, &e);
    if (!body) {
        http_reply_error(r, &e);
        return;
    }
    json_t *enums = json_object();
    json_object_set_new(enums, "outcomes", string_list(incident_outcomes));
    json_object_set_new(enums, "sexes", string_list(incident_sexes));
    json_object_set_new(enums, "age_groups", string_list(incident_age_groups));
    json_object_set_new(enums, "statuses", string_list(incident_statuses));
    json_object_set_new(enums, "date_precisions", string_list(incident_date_precisions));
    json_object_set_new(enums, "location_precisions", string_list(incident_location_precisions));
    json_object_set_new(body, "enums", enums);
    json_object_set_new(body, "verification",
                        json_pack("{s:I}", "required_source_types",
                                  (json_int_t)cfg.verify_min_source_types));
    http_reply_json(r, 200, body);
}
