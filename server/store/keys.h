/* API keys: creation (the key is shown once), lookup by hash, listing and
 * revocation. Only SHA-256 hashes of keys are stored. */
#ifndef CIVCAS_STORE_KEYS_H
#define CIVCAS_STORE_KEYS_H

#include <stdbool.h>

#include "store/db.h"

enum role { ROLE_MONITOR = 1, ROLE_REVIEWER = 2, ROLE_ANALYST = 4, ROLE_ADMIN = 8 };
#define ROLES_ALL (ROLE_MONITOR | ROLE_REVIEWER | ROLE_ANALYST | ROLE_ADMIN)

struct principal {
    long long key_id;
    enum role role;
    char name[104];
};

/* "monitor" -> ROLE_MONITOR; false for anything else. */
bool role_parse(const char *s, enum role *out);
const char *role_name(enum role r);

/* The key format: "civcas_" + 43 base64url characters (256 random bits). */
#define KEY_PREFIX "civcas_"
#define KEY_TEXT_LEN 50
bool key_format_valid(const char *key);

/* Finds the active key; false with e = 401 when unknown or revoked.
 * *taxonomy_revision gets the taxonomy's revision, read by the same
 * statement: a request that must see the current taxonomy saves a round
 * trip (taxonomy_acquire_revision). */
bool store_key_authenticate(struct db_conn *c, const char *key, struct principal *out,
                            long long *taxonomy_revision, struct api_error *e);

/* Creates a key; *key_out (KEY_TEXT_LEN + 1 bytes) gets the clear text. */
bool store_key_create(struct db_conn *c, enum role role, const char *name, char *key_out,
                      long long *id_out, struct api_error *e);
/* Returns 1 revoked, 0 no such active key, -1 error. */
int store_key_revoke(struct db_conn *c, long long id, struct api_error *e);

/* The key a command-line tool writes as (civcasd import): the newest
 * active key called name, else the newest revoked one. With create, when
 * there is none, a key of role new_role is made and revoked at once: it can
 * never sign in, it only names the tool's writes. Runs in its own
 * transaction. Returns 1 with *id and *role set, 0 when there is none and
 * create is false, -1 on error. */
int store_key_named(struct db_conn *c, const char *name, bool create, enum role new_role,
                    long long *id, enum role *role, struct api_error *e);

#endif
