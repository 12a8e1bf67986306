/* SQL of the publication chain and the signing keys. */
#include "store/publications.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/publication.h"
#include "util/crypto.h"
#include "util/mem.h"

static const char *kind_name(enum publication_kind kind)
{
    return kind == PUBLICATION_REPORT ? "report" : "public_report";
}

/* One appender at a time: each link needs the one before it. */
DB_STMT(stmt_lock, "SELECT pg_advisory_xact_lock(hashtext('civcas.publications'))");
DB_STMT(stmt_current_key,
        "SELECT id FROM signing_keys WHERE fingerprint = $1 AND valid_until IS NULL");
DB_STMT(stmt_last, "SELECT seq, link_sha256 FROM publications ORDER BY seq DESC LIMIT 1");
DB_STMT(stmt_append,
        "INSERT INTO publications (seq, kind, report_id, body_sha256, body_signature, link,"
        " link_sha256, link_signature, key_id)"
        " VALUES ($1::bigint, $2, $3::bigint, $4, $5, $6, $7, $8, $9::bigint)");

bool store_publication_append(struct db_conn *c, const struct signer *s,
                              enum publication_kind kind, long long report_id, const char *body,
                              const char *published_at, struct api_error *e)
{
    const char *fp = signer_fingerprint(s);
    const char *kparams[] = {fp};
    PGresult *r;
    if (!db_exec(c, &stmt_lock, 0, NULL, e) ||
        !(r = db_query(c, &stmt_current_key, 1, kparams, e)))
        return false;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return api_error_set(e, 503, ERR_UNAVAILABLE, NULL,
                             "publishing is unavailable: the signing key of this server is "
                             "not registered or was retired (civcasd signing-key create)");
    }
    char key_id[24], seqtext[24], previous[2 * SHA256_LEN + 1] = PUBLICATION_GENESIS;
    snprintf(key_id, sizeof key_id, "%s", PQgetvalue(r, 0, 0));
    PQclear(r);
    if (!(r = db_query(c, &stmt_last, 0, NULL, e)))
        return false;
    long long seq = 1;
    if (PQntuples(r) == 1) {
        seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10) + 1;
        snprintf(previous, sizeof previous, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);

    unsigned char digest[SHA256_LEN], body_sig[SIGN_SIGNATURE_LEN], link_sig[SIGN_SIGNATURE_LEN];
    char body_hex[2 * SHA256_LEN + 1], link_hex[2 * SHA256_LEN + 1];
    char body_sig_hex[2 * SIGN_SIGNATURE_LEN + 1], link_sig_hex[2 * SIGN_SIGNATURE_LEN + 1];
    sha256(body, strlen(body), digest);
    hex_encode(digest, SHA256_LEN, body_hex);
    char *link = publication_link(kind_name(kind), report_id, seq, body_hex, previous, fp,
                                  published_at);
    sha256(link, strlen(link), digest);
    hex_encode(digest, SHA256_LEN, link_hex);
    if (!signer_sign(s, body, strlen(body), body_sig) ||
        !signer_sign(s, link, strlen(link), link_sig)) {
        free(link);
        return err_internal(e);
    }
    hex_encode(body_sig, sizeof body_sig, body_sig_hex);
    hex_encode(link_sig, sizeof link_sig, link_sig_hex);
    char idtext[24];
    snprintf(seqtext, sizeof seqtext, "%lld", seq);
    snprintf(idtext, sizeof idtext, "%lld", report_id);
    const char *params[] = {seqtext, kind_name(kind), idtext, body_hex, body_sig_hex,
                            link, link_hex, link_sig_hex, key_id};
    bool ok = db_exec(c, &stmt_append, 9, params, e);
    free(link);
    return ok;
}

DB_STMT(stmt_signature,
        "SELECT k.fingerprint, p.body_signature FROM publications p"
        " JOIN signing_keys k ON k.id = p.key_id WHERE p.kind = $1 AND p.report_id = $2::bigint");

bool store_publication_signature(struct db_conn *c, enum publication_kind kind,
                                 long long report_id, char *fingerprint, char *signature_hex,
                                 bool *found, struct api_error *e)
{
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", report_id);
    const char *params[] = {kind_name(kind), idtext};
    PGresult *r = db_query(c, &stmt_signature, 2, params, e);
    if (!r)
        return false;
    *found = PQntuples(r) == 1;
    if (*found) {
        snprintf(fingerprint, SIGN_FINGERPRINT_LEN + 1, "%s", PQgetvalue(r, 0, 0));
        snprintf(signature_hex, 2 * SIGN_SIGNATURE_LEN + 1, "%s", PQgetvalue(r, 0, 1));
    }
    PQclear(r);
    return true;
}

DB_STMT(stmt_chain,
        "SELECT json_build_object('publications', COALESCE(json_agg(json_build_object("
        " 'seq', seq, 'link', link, 'link_signature', link_signature,"
        " 'body_signature', body_signature) ORDER BY seq), '[]'))::text FROM publications");
DB_STMT(stmt_keys,
        "SELECT id, public_key, " DB_TS("valid_from") ", " DB_TS("valid_until")
        " FROM signing_keys ORDER BY id");

static json_t *json_of_row(PGresult *r, struct api_error *e)
{
    json_t *doc = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    if (!doc)
        err_internal(e);
    return doc;
}

json_t *store_publications_chain(struct db_conn *c, struct api_error *e)
{
    PGresult *r = db_query(c, &stmt_chain, 0, NULL, e);
    return r ? json_of_row(r, e) : NULL;
}

/* The PEM of a key stored as hex, or NULL. */
static char *pem_of_hex(const char *hex)
{
    unsigned char pub[SIGN_PUBLIC_LEN];
    return hex_decode(hex, pub, sizeof pub) ? sign_public_pem(pub) : NULL;
}

json_t *store_signing_keys(struct db_conn *c, struct api_error *e)
{
    PGresult *r = db_query(c, &stmt_keys, 0, NULL, e);
    if (!r)
        return NULL;
    json_t *keys = json_array();
    for (int i = 0; i < PQntuples(r); i++) {
        unsigned char pub[SIGN_PUBLIC_LEN];
        char fingerprint[SIGN_FINGERPRINT_LEN + 1];
        char *pem = pem_of_hex(PQgetvalue(r, i, 1));
        if (!pem || !hex_decode(PQgetvalue(r, i, 1), pub, sizeof pub)) {
            free(pem);
            PQclear(r);
            json_decref(keys);
            err_internal(e);
            return NULL;
        }
        sign_fingerprint(pub, fingerprint);
        json_array_append_new(
            keys, json_pack("{s:s, s:s, s:s, s:s, s:o}", "id", PQgetvalue(r, i, 0), "fingerprint",
                            fingerprint, "public_key_pem", pem, "valid_from",
                            PQgetvalue(r, i, 2), "valid_until",
                            PQgetisnull(r, i, 3) ? json_null()
                                                 : json_string(PQgetvalue(r, i, 3))));
        free(pem);
    }
    PQclear(r);
    return json_pack("{s:o}", "keys", keys);
}

DB_STMT(stmt_key_pem, "SELECT public_key FROM signing_keys WHERE id = $1::bigint");

bool store_signing_key_pem(struct db_conn *c, long long id, char **pem, bool *found,
                           struct api_error *e)
{
    PGresult *r = db_query_id(c, &stmt_key_pem, id, e);
    if (!r)
        return false;
    *found = PQntuples(r) == 1;
    *pem = *found ? pem_of_hex(PQgetvalue(r, 0, 0)) : NULL;
    PQclear(r);
    if (*found && !*pem)
        return err_internal(e);
    return true;
}

/* ---- command-line tools ---- */

static bool run_or_say(struct db_conn *c, struct db_stmt *stmt, int n, const char *const *params,
                       PGresult **out, char *problem, size_t size)
{
    struct api_error e;
    PGresult *r = db_query(c, stmt, n, params, &e);
    if (!r) {
        snprintf(problem, size, "%s", e.message);
        return false;
    }
    if (out)
        *out = r;
    else
        PQclear(r);
    return true;
}

DB_STMT(stmt_register,
        "INSERT INTO signing_keys (public_key, fingerprint) VALUES ($1, $2)"
        " ON CONFLICT (fingerprint) DO UPDATE SET fingerprint = EXCLUDED.fingerprint"
        " WHERE false RETURNING id");
/* Publications not yet in the chain, in the order they were made. */
DB_STMT(stmt_unsigned,
        "SELECT kind, id, body, at, ts FROM ("
        " SELECT 'report' AS kind, s.id, s.body, s.created_at AS at, " DB_TS("s.created_at") " AS ts"
        " FROM report_snapshots s WHERE NOT EXISTS (SELECT 1 FROM publications p"
        "  WHERE p.kind = 'report' AND p.report_id = s.id)"
        " UNION ALL"
        " SELECT 'public_report', r.report_id, r.body, r.made_at, " DB_TS("r.made_at")
        " FROM public_reports r WHERE NOT EXISTS (SELECT 1 FROM publications p"
        "  WHERE p.kind = 'public_report' AND p.report_id = r.report_id)) u"
        " ORDER BY at, kind, id");

bool publications_register_key(struct db_conn *c, const struct signer *s, long long *key_id,
                               long *signed_count, char *problem, size_t size)
{
    char pub_hex[2 * SIGN_PUBLIC_LEN + 1];
    hex_encode(signer_public(s), SIGN_PUBLIC_LEN, pub_hex);
    const char *params[] = {pub_hex, signer_fingerprint(s)};
    PGresult *r = NULL, *rows = NULL;
    struct api_error e;
    *signed_count = 0;
    if (!db_begin(c, &e)) {
        snprintf(problem, size, "%s", e.message);
        return false;
    }
    if (!run_or_say(c, &stmt_register, 2, params, &r, problem, size))
        goto fail;
    if (PQntuples(r) != 1) {
        snprintf(problem, size, "this key is registered already");
        goto fail;
    }
    *key_id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    if (!db_exec(c, &stmt_lock, 0, NULL, &e)) {
        snprintf(problem, size, "%s", e.message);
        goto fail;
    }
    if (!run_or_say(c, &stmt_unsigned, 0, NULL, &rows, problem, size))
        goto fail;
    for (int i = 0; i < PQntuples(rows); i++) {
        enum publication_kind kind = strcmp(PQgetvalue(rows, i, 0), "report") == 0
                                         ? PUBLICATION_REPORT
                                         : PUBLICATION_PUBLIC_REPORT;
        long long id = strtoll(PQgetvalue(rows, i, 1), NULL, 10);
        if (!store_publication_append(c, s, kind, id, PQgetvalue(rows, i, 2),
                                      PQgetvalue(rows, i, 4), &e)) {
            snprintf(problem, size, "%s", e.message);
            goto fail;
        }
        (*signed_count)++;
    }
    if (!db_commit(c, &e)) {
        snprintf(problem, size, "%s", e.message);
        goto fail;
    }
    PQclear(r);
    PQclear(rows);
    return true;
fail:
    PQclear(r);
    PQclear(rows);
    db_rollback(c);
    return false;
}

DB_STMT(stmt_retire,
        "UPDATE signing_keys SET valid_until = now() WHERE id = $1::bigint"
        " AND valid_until IS NULL RETURNING id");

bool publications_retire_key(struct db_conn *c, long long key_id, bool *found, char *problem,
                             size_t size)
{
    struct api_error e;
    PGresult *r = db_query_id(c, &stmt_retire, key_id, &e);
    if (!r) {
        snprintf(problem, size, "%s", e.message);
        return false;
    }
    *found = PQntuples(r) == 1;
    PQclear(r);
    return true;
}

DB_STMT(stmt_bodies,
        "SELECT p.seq, p.body_signature, COALESCE(s.body, r.body), k.public_key"
        " FROM publications p JOIN signing_keys k ON k.id = p.key_id"
        " LEFT JOIN report_snapshots s ON p.kind = 'report' AND s.id = p.report_id"
        " LEFT JOIN public_reports r ON p.kind = 'public_report' AND r.report_id = p.report_id"
        " ORDER BY p.seq");

/* Each stored body against its link: its hash and its signature. */
static bool bodies_check(PGresult *rows, json_t *chain, FILE *out)
{
    json_t *list = json_object_get(chain, "publications");
    bool ok = true;
    for (int i = 0; i < PQntuples(rows); i++) {
        const char *seq = PQgetvalue(rows, i, 0);
        json_t *entry = json_array_get(list, (size_t)i);
        json_t *link = json_loads(json_string_value(json_object_get(entry, "link")), 0, NULL);
        const char *want = json_string_value(json_object_get(link, "sha256"));
        unsigned char digest[SHA256_LEN], sig[SIGN_SIGNATURE_LEN], pub[SIGN_PUBLIC_LEN];
        char hex[2 * SHA256_LEN + 1];
        if (PQgetisnull(rows, i, 2)) {
            fprintf(out, "publication %s: its report is gone\n", seq);
            ok = false;
        } else {
            const char *body = PQgetvalue(rows, i, 2);
            sha256(body, strlen(body), digest);
            hex_encode(digest, SHA256_LEN, hex);
            if (!want || strcmp(want, hex) != 0) {
                fprintf(out, "publication %s: its stored bytes are not the ones published\n",
                        seq);
                ok = false;
            } else if (!hex_decode(PQgetvalue(rows, i, 1), sig, sizeof sig) ||
                       !hex_decode(PQgetvalue(rows, i, 3), pub, sizeof pub) ||
                       !sign_verify(pub, body, strlen(body), sig, sizeof sig)) {
                fprintf(out, "publication %s: the signature over its bytes does not verify\n",
                        seq);
                ok = false;
            }
        }
        json_decref(link);
    }
    return ok;
}

bool publications_verify_chain(struct db_conn *c, FILE *out, long *checked, char *problem,
                               size_t size)
{
    struct api_error e;
    json_t *chain = NULL, *keys = NULL;
    PGresult *rows = NULL;
    struct keyring ring;
    bool ok = false;
    *checked = 0;
    if (!(chain = store_publications_chain(c, &e)) || !(keys = store_signing_keys(c, &e))) {
        snprintf(problem, size, "%s", e.message);
        goto done;
    }
    if (!keyring_from_json(keys, &ring, problem, size) ||
        !run_or_say(c, &stmt_bodies, 0, NULL, &rows, problem, size))
        goto done;
    problem[0] = '\0';
    bool links = publication_chain_check(chain, &ring, out, checked);
    bool bodies = bodies_check(rows, chain, out);
    ok = links && bodies;
done:
    PQclear(rows);
    json_decref(chain);
    json_decref(keys);
    return ok;
}
