/* SQL for filled forms: claims by instanceID and their incidents. */
#include "store/forms.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

DB_STMT(stmt_form_claim,
        "INSERT INTO form_submissions (instance_id, key_id, request_hash, deprecated_id, channel)"
        " VALUES ($1, $2::bigint, decode($3, 'hex'), $4, $5)"
        " ON CONFLICT (instance_id) DO NOTHING RETURNING 1");
DB_STMT(stmt_form_read,
        "SELECT encode(request_hash, 'hex'), COALESCE(incident_id, 0) FROM form_submissions"
        " WHERE instance_id = $1");
DB_STMT(stmt_form_finish,
        "UPDATE form_submissions SET incident_id = $2::bigint WHERE instance_id = $1");

/* The stored hash and incident of instance_id; *found false when none. */
static bool form_read(struct db_conn *c, const char *instance_id, char *hash, long long *incident,
                      bool *found, struct api_error *e)
{
    const char *params[] = {instance_id};
    PGresult *r = db_query(c, &stmt_form_read, 1, params, e);
    if (!r)
        return false;
    *found = PQntuples(r) == 1;
    *incident = *found ? strtoll(PQgetvalue(r, 0, 1), NULL, 10) : 0;
    if (hash)
        snprintf(hash, 65, "%s", *found ? PQgetvalue(r, 0, 0) : "");
    PQclear(r);
    return true;
}

int store_form_claim(struct db_conn *c, const struct form_submission *s, char *stored_hash,
                     long long *incident_id, struct api_error *e)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", s->key_id);
    const char *params[] = {s->instance_id, key, s->hash_hex, s->deprecated_id, s->channel};
    int claimed = db_exec_rows(c, &stmt_form_claim, 5, params, e);
    if (claimed != 0)
        return claimed;
    bool found;
    if (!form_read(c, s->instance_id, stored_hash, incident_id, &found, e))
        return -1;
    if (!found) {
        err_internal(e);
        return -1;
    }
    return 0;
}

bool store_form_incident(struct db_conn *c, const char *instance_id, long long *incident_id,
                         struct api_error *e)
{
    bool found;
    return form_read(c, instance_id, NULL, incident_id, &found, e);
}

bool store_form_finish(struct db_conn *c, const char *instance_id, long long incident_id,
                       struct api_error *e)
{
    char id[24];
    snprintf(id, sizeof id, "%lld", incident_id);
    const char *params[] = {instance_id, id};
    return db_exec(c, &stmt_form_finish, 2, params, e);
}
