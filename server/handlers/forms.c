/* Filled forms: the OpenRosa server (/openrosa) and KoboToolbox pushes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "forms/form.h"
#include "forms/instance.h"
#include "forms/xform.h"
#include "handlers/handlers.h"
#include "store/forms.h"
#include "store/incidents.h"
#include "store/taxonomy.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/jsonv.h"
#include "util/multipart.h"

#define FORM_EDIT_REASON "edited form submission"
#define XML_PART "xml_submission_file"

/* ---- the form --------------------------------------------------------------- */

/* The form as served (and printed by civcasd form xform), built from the
 * taxonomy revision read with the caller's key: a taxonomy loaded a
 * moment ago is in it at once. */
static bool form_bytes(struct http_request *r, struct buf *out, char *version, struct api_error *e)
{
    struct taxonomy *t = store_taxonomy_acquire_revision(r->db, r->taxonomy_revision, e);
    if (!t)
        return false;
    xform_build(t, out, version);
    store_taxonomy_release(t);
    return true;
}

void handle_openrosa_form(struct http_request *r)
{
    struct api_error e;
    struct buf form;
    char version[XFORM_VERSION_LEN + 1];
    buf_init(&form);
    if (form_bytes(r, &form, version, &e))
        http_reply_bytes(r, 200, "text/xml; charset=utf-8", form.data, form.len);
    else
        http_reply_error(r, &e);
    buf_free(&form);
}

void handle_openrosa_form_list(struct http_request *r)
{
    static const char *const params[] = {"formID", "verbose", "listAllVersions", "deviceID", NULL};
    struct api_error e;
    struct http_query q;
    struct buf form, list;
    char version[XFORM_VERSION_LEN + 1];
    buf_init(&form);
    buf_init(&list);
    if (!http_query_parse(r, params, &q, &e) || !form_bytes(r, &form, version, &e)) {
        http_reply_error(r, &e);
        buf_free(&form);
        return;
    }
    /* OpenRosa's form list names each form's MD5, so clients fetch a form
     * only when its bytes changed. */
    unsigned char digest[MD5_LEN];
    char hash[2 * MD5_LEN + 1], base[300];
    md5(form.data, form.len, digest);
    hex_encode(digest, sizeof digest, hash);
    http_request_base_url(r, base, sizeof base);
    const char *only = http_query_get(&q, "formID");
    buf_puts(&list, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                    "<xforms xmlns=\"http://openrosa.org/xforms/xformsList\">\n");
    if (!only || strcmp(only, FORM_ID) == 0) {
        buf_puts(&list, "<xform>\n<formID>" FORM_ID "</formID>\n<name>" FORM_TITLE "</name>\n");
        buf_printf(&list, "<version>%s</version>\n<hash>md5:%s</hash>\n", version, hash);
        buf_puts(&list, "<descriptionText>One incident that killed or injured civilians, or "
                        "harmed them otherwise</descriptionText>\n<downloadUrl>");
        buf_xml_text(&list, base);
        buf_puts(&list, "/openrosa/forms/" FORM_ID "</downloadUrl>\n</xform>\n");
    }
    buf_puts(&list, "</xforms>\n");
    http_reply_bytes(r, 200, "text/xml; charset=utf-8", list.data, list.len);
    buf_free(&list);
    buf_free(&form);
}

void handle_openrosa_head(struct http_request *r)
{
    char limit[24];
    snprintf(limit, sizeof limit, "%ld", cfg.body_limit);
    http_add_header(r, "X-OpenRosa-Accept-Content-Length", limit);
    http_reply_bytes(r, 204, "text/xml; charset=utf-8", "", 0);
}

/* ---- submissions -------------------------------------------------------------- */

enum submit_outcome { SUBMIT_CREATED, SUBMIT_AMENDED, SUBMIT_ALREADY };

/* An instanceID or deprecatedID: printable ASCII, at most
 * FORM_INSTANCE_ID_MAX characters. */
static bool instance_id_check(const char *id, const char *name, struct api_error *e)
{
    char path[64];
    snprintf(path, sizeof path, "/" FORM_ROOT "/meta/%s", name);
    size_t n = strlen(id);
    bool ok = n >= 1 && n <= FORM_INSTANCE_ID_MAX;
    for (const char *p = id; ok && *p; p++)
        ok = (unsigned char)*p >= 0x21 && (unsigned char)*p <= 0x7e;
    return ok || err_invalid(e, path, "%s must be 1 to %d printable ASCII characters", path,
                             FORM_INSTANCE_ID_MAX);
}

/* What a submission says, for telling a retry from a different
 * submission under the same instanceID. */
static void submission_hash(json_t *doc, const struct form_ids *ids, char *hex)
{
    json_t *what = json_pack("{s:O, s:s?}", "doc", doc, "deprecated", ids->deprecated);
    json_fingerprint(what, hex);
    json_decref(what);
}

/* The incident the edited submission's instance stands for, loaded under
 * lock for the amendment: 400 when no such submission was received, 404
 * when the caller may not amend it (a monitor: another's). */
static bool edited_incident(struct http_request *r, const char *deprecated, struct incident *cur,
                            struct api_error *e)
{
    long long id = 0;
    bool found = false;
    if (!store_form_incident(r->db, deprecated, &id, e))
        return false;
    if (!id)
        return err_invalid(e, "/" FORM_ROOT "/meta/deprecatedID",
                           "/" FORM_ROOT "/meta/deprecatedID names no submission received here");
    if (!store_incident_load(r->db, id, handler_incident_owner(r), true, cur, &found, e))
        return false;
    if (!found)
        return api_error_set(e, 404, ERR_NOT_FOUND, "/" FORM_ROOT "/meta/deprecatedID",
                             "the incident this edit amends does not exist or is not yours");
    return true;
}

/*
 * A filled form as a new incident or, with a deprecatedID, as an
 * amendment of the incident the edited submission made: validated and
 * written as POST and PATCH /v1/incidents do, in one transaction with the
 * record of its instanceID. A retry (the same instanceID and content) is
 * SUBMIT_ALREADY and writes nothing; the same instanceID with other
 * content is a 409. inc gets the incident as written (or, for a retry,
 * as it stands, when the caller may see it; id 0 otherwise).
 */
static bool form_submit(struct http_request *r, json_t *tree, const char *channel,
                        enum submit_outcome *outcome, struct incident *inc, struct api_error *e)
{
    json_t *doc = NULL;
    struct form_ids ids;
    struct incident cur = {0};
    char hash[JSON_FINGERPRINT_HEX + 1], stored[JSON_FINGERPRINT_HEX + 1];
    bool ok = false, in_tx = false, changed;
    long long incident_id = 0;

    if (!form_to_incident(tree, &doc, &ids, e) ||
        !instance_id_check(ids.instance, "instanceID", e) ||
        (ids.deprecated && !instance_id_check(ids.deprecated, "deprecatedID", e)))
        goto done;
    if (ids.deprecated && strcmp(ids.deprecated, ids.instance) == 0) {
        err_invalid(e, "/" FORM_ROOT "/meta/deprecatedID",
                    "/" FORM_ROOT "/meta/deprecatedID must name another submission than the "
                    "instanceID");
        goto done;
    }
    if (!handler_incident_validate(r, doc, inc, e)) {
        form_error_path(tree, e);
        goto done;
    }
    submission_hash(doc, &ids, hash);
    db_begin_deferred(r->db);
    in_tx = true;
    if (ids.deprecated && !edited_incident(r, ids.deprecated, &cur, e))
        goto done;
    struct form_submission s = {ids.instance, ids.deprecated, hash, channel, r->who.key_id};
    int claim = store_form_claim(r->db, &s, stored, &incident_id, e);
    if (claim < 0)
        goto done;
    if (claim == 0) {
        db_rollback(r->db);
        in_tx = false;
        if (strcmp(hash, stored) != 0) {
            api_error_set(e, 409, ERR_CONFLICT, "/" FORM_ROOT "/meta/instanceID",
                          "/" FORM_ROOT "/meta/instanceID was submitted before with other "
                          "content");
            goto done;
        }
        incident_free(inc);
        bool found = false;
        if (!store_incident_load(r->db, incident_id, handler_incident_owner(r), false, inc, &found,
                                 e))
            goto done;
        *outcome = SUBMIT_ALREADY;
        ok = true;
        goto done;
    }
    if (ids.deprecated) {
        if (!handler_incident_amend(r, &cur, inc, FORM_EDIT_REASON, &changed, e))
            goto done;
        if (!changed) { /* the edit changed nothing: the incident as it is */
            incident_free(inc);
            *inc = cur;
            memset(&cur, 0, sizeof cur);
        }
        if (!store_form_finish(r->db, ids.instance, inc->id, e) || !db_commit(r->db, e))
            goto done;
        *outcome = SUBMIT_AMENDED;
    } else {
        if (!handler_incident_insert(r, inc, e) ||
            !store_form_finish(r->db, ids.instance, inc->id, e) ||
            !store_incident_commit_create(r->db, inc->id, r->who.key_id, NULL, NULL, e))
            goto done;
        *outcome = SUBMIT_CREATED;
    }
    in_tx = false;
    ok = true;
done:
    if (in_tx)
        db_rollback(r->db);
    incident_free(&cur);
    json_decref(doc);
    return ok;
}

/* The xml_submission_file part of an OpenRosa submission, the only part
 * taken: attachments (photos, audio) are refused until civcas stores
 * files, so that none is silently dropped. */
static bool submission_xml(struct http_request *r, const char **xml, size_t *len,
                           struct api_error *e)
{
    struct multipart_part parts[MULTIPART_MAX_PARTS];
    size_t n;
    if (!multipart_parse(http_header(r, MHD_HTTP_HEADER_CONTENT_TYPE),
                         r->body.data ? r->body.data : "", r->body.len, parts, &n, e))
        return false;
    *xml = NULL;
    for (size_t i = 0; i < n; i++) {
        if (strcmp(parts[i].name, XML_PART) != 0)
            return err_invalid(e, XML_PART,
                               "only the " XML_PART " part is accepted: attachments (%s) are "
                               "not stored by civcas; submit the form without media",
                               parts[i].has_filename ? "a file part" : "another part");
        if (*xml)
            return err_invalid(e, XML_PART, "the " XML_PART " part is given more than once");
        *xml = parts[i].data;
        *len = parts[i].len;
    }
    if (!*xml)
        return err_missing(e, XML_PART);
    return true;
}

void handle_openrosa_submission(struct http_request *r)
{
    struct api_error e;
    struct incident inc = {0};
    enum submit_outcome outcome;
    json_t *tree = NULL;
    const char *xml = NULL;
    size_t len = 0;
    if (!submission_xml(r, &xml, &len, &e) || !instance_from_xml(xml, len, &tree, &e) ||
        !form_submit(r, tree, "openrosa", &outcome, &inc, &e)) {
        http_reply_error(r, &e);
    } else {
        char message[120];
        if (outcome == SUBMIT_ALREADY)
            snprintf(message, sizeof message, "This form was already received");
        else
            snprintf(message, sizeof message, "Incident %lld %s", inc.id,
                     outcome == SUBMIT_CREATED ? "recorded" : "amended");
        http_reply_openrosa(r, outcome == SUBMIT_ALREADY ? 202 : 201, "submit_success", message);
    }
    json_decref(tree);
    incident_free(&inc);
}

void handle_kobo_ingest(struct http_request *r)
{
    struct api_error e;
    struct incident inc = {0};
    enum submit_outcome outcome;
    json_t *push = NULL, *tree = NULL;
    if (!json_parse_strict(r->body.data ? r->body.data : "", r->body.len, &push, &e) ||
        !instance_from_kobo(push, &tree, &e) || !form_submit(r, tree, "kobo", &outcome, &inc, &e)) {
        http_reply_error(r, &e);
    } else {
        static const int status[] = {
            [SUBMIT_CREATED] = 201, [SUBMIT_AMENDED] = 200, [SUBMIT_ALREADY] = 202};
        char location[48];
        if (inc.id) {
            snprintf(location, sizeof location, "/v1/incidents/%lld", inc.id);
            http_add_header(r, "Location", location);
        }
        json_t *body = inc.id ? incident_to_json(&inc, handler_incident_view(r),
                                                 (int)cfg.verify_min_source_types)
                              : json_object();
        if (outcome == SUBMIT_ALREADY)
            json_object_set_new(body, "already_received", json_true());
        http_reply_json(r, status[outcome], body);
    }
    json_decref(push);
    json_decref(tree);
    incident_free(&inc);
}
