/* SQL for report snapshots. */
#include "store/reports.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

DB_STMT(stmt_reserve, "SELECT nextval('report_snapshots_id_seq'), " DB_TS("now()"));

bool store_report_reserve(struct db_conn *c, long long *id, char *created_at,
                          struct api_error *e)
{
    PGresult *r = db_query(c, &stmt_reserve, 0, NULL, e);
    if (!r)
        return false;
    *id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    snprintf(created_at, 40, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    return true;
}

DB_STMT(stmt_insert,
        "INSERT INTO report_snapshots (id, kind, title, parameters, sha256, body, created_by,"
        " created_at) VALUES ($1::bigint, $2, $3, $4::jsonb, $5, $6, $7::bigint,"
        " $8::timestamptz)");

bool store_report_insert(struct db_conn *c, long long id, const char *kind, const char *title,
                         const char *parameters, const char *sha256, const char *body,
                         long long key_id, const char *created_at, struct api_error *e)
{
    char idtext[24], key[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    snprintf(key, sizeof key, "%lld", key_id);
    const char *params[] = {idtext, kind, title, parameters, sha256, body, key, created_at};
    return db_exec(c, &stmt_insert, 8, params, e);
}

/* The body of one row of stmt (by id), or *found false; with at (40
 * bytes), the row's second column too. */
static bool body_by_id(struct db_conn *c, struct db_stmt *stmt, long long id, char **body,
                       char *at, bool *found, struct api_error *e)
{
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    const char *params[] = {idtext};
    PGresult *r = db_query(c, stmt, 1, params, e);
    if (!r)
        return false;
    *found = PQntuples(r) == 1;
    *body = *found ? xstrdup(PQgetvalue(r, 0, 0)) : NULL;
    if (*found && at)
        snprintf(at, 40, "%s", PQgetvalue(r, 0, 1));
    PQclear(r);
    return true;
}

DB_STMT(stmt_get, "SELECT body FROM report_snapshots WHERE id = $1::bigint");

bool store_report_get(struct db_conn *c, long long id, char **body, bool *found,
                      struct api_error *e)
{
    return body_by_id(c, &stmt_get, id, body, NULL, found, e);
}

DB_STMT(stmt_now, "SELECT " DB_TS("now()"));

bool store_now(struct db_conn *c, char *at, struct api_error *e)
{
    PGresult *r = db_query(c, &stmt_now, 0, NULL, e);
    if (!r)
        return false;
    snprintf(at, 40, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    return true;
}

DB_STMT(stmt_public_insert,
        "INSERT INTO public_reports (report_id, sha256, body, min_cell, made_by, made_at)"
        " VALUES ($1::bigint, $2, $3, $4::integer, $5::bigint, $6::timestamptz)"
        " ON CONFLICT (report_id) DO NOTHING");

bool store_public_report_insert(struct db_conn *c, long long id, const char *sha256,
                                const char *body, long long k, long long key_id,
                                const char *made_at, struct api_error *e)
{
    char idtext[24], ktext[24], key[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    snprintf(ktext, sizeof ktext, "%lld", k);
    snprintf(key, sizeof key, "%lld", key_id);
    const char *params[] = {idtext, sha256, body, ktext, key, made_at};
    PGresult *r = db_query(c, &stmt_public_insert, 6, params, e);
    if (!r)
        return false;
    bool inserted = strcmp(PQcmdTuples(r), "1") == 0;
    PQclear(r);
    if (!inserted)
        return api_error_set(e, 409, ERR_CONFLICT, NULL, "the report is public already");
    return true;
}

DB_STMT(stmt_public_get, "SELECT body, " DB_TS("made_at")
                         " FROM public_reports WHERE report_id = $1::bigint");

bool store_public_report_get(struct db_conn *c, long long id, char **body, char *made_at,
                             bool *found, struct api_error *e)
{
    return body_by_id(c, &stmt_public_get, id, body, made_at, found, e);
}

DB_STMT(stmt_list,
        "SELECT json_build_object('items', COALESCE(json_agg(json_build_object("
        " 'id', s.id::text, 'kind', s.kind, 'title', s.title, 'created_at', " DB_TS("s.created_at") ","
        " 'created_by', k.name, 'sha256', s.sha256, 'parameters', s.parameters)"
        " ORDER BY s.created_at DESC, s.id DESC), '[]'))::text"
        " FROM report_snapshots s JOIN api_keys k ON k.id = s.created_by");

/* The JSON text of a statement's one value, parsed; r is cleared. */
static json_t *json_answer(PGresult *r, struct api_error *e)
{
    if (!r)
        return NULL;
    json_t *doc = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    if (!doc)
        err_internal(e);
    return doc;
}

json_t *store_report_list(struct db_conn *c, struct api_error *e)
{
    return json_answer(db_query(c, &stmt_list, 0, NULL, e), e);
}

DB_STMT(stmt_drift_candidates,
        "SELECT s.incident_id FROM (SELECT DISTINCT incident_id FROM incident_revisions"
        "  WHERE at > $1::timestamptz) s"
        " JOIN incidents i ON i.id = s.incident_id"
        " LEFT JOIN LATERAL (SELECT p.status FROM incident_revisions p"
        "  WHERE p.incident_id = s.incident_id AND p.at <= $1::timestamptz"
        "  ORDER BY p.version DESC LIMIT 1) t ON true"
        " WHERE i.status = ANY (string_to_array($2, ','))"
        "  OR t.status = ANY (string_to_array($2, ','))"
        " ORDER BY 1 LIMIT $3::bigint");

bool store_report_drift_candidates(struct db_conn *c, const char *since, const char *statuses,
                                   size_t max, long long **ids, size_t *n, struct api_error *e)
{
    char limit[24];
    snprintf(limit, sizeof limit, "%zu", max);
    const char *params[] = {since, statuses, limit};
    PGresult *r = db_query(c, &stmt_drift_candidates, 3, params, e);
    if (!r)
        return false;
    *n = (size_t)PQntuples(r);
    *ids = xcalloc(*n ? *n : 1, sizeof **ids);
    for (size_t i = 0; i < *n; i++)
        (*ids)[i] = strtoll(PQgetvalue(r, (int)i, 0), NULL, 10);
    PQclear(r);
    return true;
}

DB_STMT(stmt_revisions_since,
        "SELECT COALESCE(json_agg(json_strip_nulls(json_build_object('version', r.version,"
        " 'at', " DB_TS("r.at") ", 'status', r.status, 'reason', r.reason,"
        " 'by', CASE WHEN $3::boolean THEN k.name END)) ORDER BY r.version), '[]')::text"
        " FROM incident_revisions r JOIN api_keys k ON k.id = r.key_id"
        " WHERE r.incident_id = $1::bigint AND r.at > $2::timestamptz");

json_t *store_incident_revisions_since(struct db_conn *c, long long id, const char *since,
                                       bool with_who, struct api_error *e)
{
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    const char *params[] = {idtext, since, with_who ? "true" : "false"};
    return json_answer(db_query(c, &stmt_revisions_since, 3, params, e), e);
}
