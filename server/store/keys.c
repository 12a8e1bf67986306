/* API keys in the database. */
#include "store/keys.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/crypto.h"

static const char *const role_names[] = {"monitor", "reviewer", "analyst", "admin"};

bool role_parse(const char *s, enum role *out)
{
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, role_names[i]) == 0) {
            *out = (enum role)(1 << i);
            return true;
        }
    }
    return false;
}

const char *role_name(enum role r)
{
    for (int i = 0; i < 4; i++)
        if (r == (enum role)(1 << i))
            return role_names[i];
    return "unknown";
}

bool key_format_valid(const char *key)
{
    if (strlen(key) != KEY_TEXT_LEN || strncmp(key, KEY_PREFIX, strlen(KEY_PREFIX)) != 0)
        return false;
    unsigned char raw[32];
    const char *body = key + strlen(KEY_PREFIX);
    return base64url_decode(body, strlen(body), raw, sizeof raw) == 32;
}

/* The hash as a bytea parameter in hex form. */
static void key_hash_param(const char *key, char out[3 + 2 * SHA256_LEN])
{
    unsigned char digest[SHA256_LEN];
    sha256(key, strlen(key), digest);
    out[0] = '\\';
    out[1] = 'x';
    hex_encode(digest, SHA256_LEN, out + 2);
}

DB_STMT(stmt_key_lookup,
        "SELECT id, role, name, COALESCE((SELECT revision FROM taxonomy_meta), 0)"
        " FROM api_keys WHERE key_hash = $1::bytea AND revoked_at IS NULL");

bool store_key_authenticate(struct db_conn *c, const char *key, struct principal *out,
                            long long *taxonomy_revision, struct api_error *e)
{
    char hash[3 + 2 * SHA256_LEN];
    key_hash_param(key, hash);
    const char *params[] = {hash};
    PGresult *r = db_query(c, &stmt_key_lookup, 1, params, e);
    if (!r)
        return false;
    bool found = PQntuples(r) == 1;
    if (found) {
        out->key_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        found = role_parse(PQgetvalue(r, 0, 1), &out->role);
        snprintf(out->name, sizeof out->name, "%s", PQgetvalue(r, 0, 2));
        *taxonomy_revision = strtoll(PQgetvalue(r, 0, 3), NULL, 10);
    }
    PQclear(r);
    if (!found)
        return api_error_set(e, 401, ERR_UNAUTHORIZED, NULL, "the API key is unknown or revoked");
    return true;
}

DB_STMT(stmt_key_insert,
        "INSERT INTO api_keys (name, role, key_hash) VALUES ($1, $2, $3::bytea) RETURNING id");

bool store_key_create(struct db_conn *c, enum role role, const char *name, char *key_out,
                      long long *id_out, struct api_error *e)
{
    unsigned char raw[32];
    if (!random_bytes(raw, sizeof raw))
        return api_error_set(e, 500, ERR_INTERNAL, NULL, "no secure random source");
    memcpy(key_out, KEY_PREFIX, strlen(KEY_PREFIX));
    base64url_encode(raw, sizeof raw, key_out + strlen(KEY_PREFIX));
    char hash[3 + 2 * SHA256_LEN];
    key_hash_param(key_out, hash);
    const char *params[] = {name, role_name(role), hash};
    PGresult *r = db_query(c, &stmt_key_insert, 3, params, e);
    if (!r)
        return false;
    *id_out = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return true;
}

DB_STMT(stmt_key_revoke,
        "UPDATE api_keys SET revoked_at = now() WHERE id = $1::bigint AND revoked_at IS NULL");

int store_key_revoke(struct db_conn *c, long long id, struct api_error *e)
{
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    const char *params[] = {idtext};
    PGresult *r = db_query(c, &stmt_key_revoke, 1, params, e);
    if (!r)
        return -1;
    int n = (int)strtol(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return n > 0 ? 1 : 0;
}

DB_STMT(stmt_key_named, "SELECT id, role FROM api_keys WHERE name = $1"
                        " ORDER BY revoked_at IS NULL DESC, id DESC LIMIT 1");

static int key_named_lookup(struct db_conn *c, const char *name, long long *id, enum role *role,
                            struct api_error *e)
{
    const char *params[] = {name};
    PGresult *r = db_query(c, &stmt_key_named, 1, params, e);
    if (!r)
        return -1;
    int found = PQntuples(r);
    if (found) {
        *id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
        role_parse(PQgetvalue(r, 0, 1), role);
    }
    PQclear(r);
    return found;
}

int store_key_named(struct db_conn *c, const char *name, bool create, enum role new_role,
                    long long *id, enum role *role, struct api_error *e)
{
    /* One creator at a time, so two imports starting together agree on
     * the key. */
    if (!db_begin(c, e) ||
        !db_simple(c, "SELECT pg_advisory_xact_lock(hashtext('civcas.key_named'))", e))
        goto fail;
    int found = key_named_lookup(c, name, id, role, e);
    if (found < 0)
        goto fail;
    if (!found && create) {
        char key[KEY_TEXT_LEN + 1];
        if (!store_key_create(c, new_role, name, key, id, e) || store_key_revoke(c, *id, e) != 1)
            goto fail;
        explicit_bzero(key, sizeof key);
        *role = new_role;
        found = 1;
    }
    if (!db_commit(c, e))
        return -1;
    return found;
fail:
    db_rollback(c);
    return -1;
}
