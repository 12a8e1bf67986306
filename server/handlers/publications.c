/* Signatures, signing keys and the publication chain: what a reader needs
 * to check a downloaded report offline (docs/verifying.md). The keys and
 * the chain are keyless and always served: they hold public keys, hashes
 * and signatures, never a figure. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "handlers/handlers.h"
#include "store/publications.h"
#include "util/crypto.h"
#include "util/mem.h"

static struct signer *signer;

void handlers_set_signer(struct signer *s)
{
    signer = s;
}

const struct signer *handlers_signer(void)
{
    return signer;
}

bool handlers_can_sign(struct api_error *e)
{
    if (signer)
        return true;
    return api_error_set(e, 503, ERR_UNAVAILABLE, NULL,
                         "publishing needs a signing key: start civcasd serve with "
                         "CIVCAS_SIGNING_KEY naming one (civcasd signing-key create)");
}

/* The raw 64 bytes, as `openssl pkeyutl -verify -sigfile` reads them. */
static void reply_signature(struct http_request *r, enum publication_kind kind)
{
    struct api_error e;
    char fingerprint[SIGN_FINGERPRINT_LEN + 1], hex[2 * SIGN_SIGNATURE_LEN + 1];
    unsigned char sig[SIGN_SIGNATURE_LEN];
    bool found = false;
    if (!http_request_db(r, &e) ||
        !store_publication_signature(r->db, kind, r->path_id, fingerprint, hex, &found, &e)) {
        http_reply_error(r, &e);
        return;
    }
    if (!found) {
        api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no signed publication of this report");
        http_reply_error(r, &e);
        return;
    }
    if (!hex_decode(hex, sig, sizeof sig)) {
        err_internal(&e);
        http_reply_error(r, &e);
        return;
    }
    http_add_header(r, "Civcas-Signing-Key", fingerprint);
    if (kind == PUBLICATION_PUBLIC_REPORT)
        http_reply_cacheable(r, HTTP_LIFETIME_IMMUTABLE, "application/octet-stream",
                             /* its n bytes, NULs and all */
                             xstrndup((const char *)sig, sizeof sig), sizeof sig, NULL);
    else
        http_reply_bytes(r, 200, "application/octet-stream", (const char *)sig, sizeof sig);
}

void handle_report_signature(struct http_request *r)
{
    reply_signature(r, PUBLICATION_REPORT);
}

void handle_public_report_signature(struct http_request *r)
{
    struct api_error e;
    if (!cfg.public_enabled) {
        api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such resource");
        http_reply_error(r, &e);
        return;
    }
    reply_signature(r, PUBLICATION_PUBLIC_REPORT);
}

static void reply_document(struct http_request *r, json_t *(*get)(struct db_conn *,
                                                                  struct api_error *))
{
    struct api_error e;
    json_t *doc = http_request_db(r, &e) ? get(r->db, &e) : NULL;
    if (doc)
        http_reply_cacheable_json(r, HTTP_LIFETIME_SHORT, doc);
    else
        http_reply_error(r, &e);
}

void handle_public_signing_keys(struct http_request *r)
{
    reply_document(r, store_signing_keys);
}

void handle_public_publications(struct http_request *r)
{
    reply_document(r, store_publications_chain);
}

void handle_public_signing_key(struct http_request *r)
{
    struct api_error e;
    char *pem = NULL;
    bool found = false;
    if (!http_request_db(r, &e) || !store_signing_key_pem(r->db, r->path_id, &pem, &found, &e)) {
        http_reply_error(r, &e);
        return;
    }
    if (!found) {
        api_error_set(&e, 404, ERR_NOT_FOUND, NULL, "no such signing key");
        http_reply_error(r, &e);
        return;
    }
    http_reply_cacheable(r, HTTP_LIFETIME_IMMUTABLE, "application/x-pem-file", pem, strlen(pem),
                         NULL);
}
