/* The signed chain of publications and the keys that sign it. */
#ifndef CIVCAS_STORE_PUBLICATIONS_H
#define CIVCAS_STORE_PUBLICATIONS_H

#include <jansson.h>
#include <stdio.h>
#include <stdbool.h>

#include "store/db.h"
#include "util/sign.h"

/* What a publication is: a published report snapshot, or the public form
 * of one. */
enum publication_kind { PUBLICATION_REPORT, PUBLICATION_PUBLIC_REPORT };

/* Appends body (the bytes served for report_id) to the chain in the
 * caller's transaction: signs it, then builds and signs its link. 503 when
 * the signer's key is not registered or was retired. */
bool store_publication_append(struct db_conn *c, const struct signer *s,
                              enum publication_kind kind, long long report_id, const char *body,
                              const char *published_at, struct api_error *e);
/* The signature over a publication's bytes and its key's fingerprint
 * (65 and 129 bytes), or *found false. */
bool store_publication_signature(struct db_conn *c, enum publication_kind kind,
                                 long long report_id, char *fingerprint, char *signature_hex,
                                 bool *found, struct api_error *e);
/* {"publications": [{"seq", "link", "link_signature", "body_signature"}]}
 * in order. New reference. */
json_t *store_publications_chain(struct db_conn *c, struct api_error *e);
/* {"keys": [{"id", "fingerprint", "public_key_pem", "valid_from",
 * "valid_until"}]} oldest first. New reference. */
json_t *store_signing_keys(struct db_conn *c, struct api_error *e);
/* The PEM of key id (caller frees), or *found false. */
bool store_signing_key_pem(struct db_conn *c, long long id, char **pem, bool *found,
                           struct api_error *e);

/* Command-line tools, on a stand-alone connection, each in one
 * transaction; problem gets a message on failure. */
/* Registers the signer's public key and signs every publication not yet in
 * the chain, oldest first; *signed_count gets how many. */
bool publications_register_key(struct db_conn *c, const struct signer *s, long long *key_id,
                               long *signed_count, char *problem, size_t size);
bool publications_retire_key(struct db_conn *c, long long key_id, bool *found, char *problem,
                             size_t size);
/* Checks the whole chain in the database: every link's signature, order
 * and hash, and every stored body against its link. Writes one line per
 * fault to out; true when there is none. */
bool publications_verify_chain(struct db_conn *c, FILE *out, long *checked, char *problem,
                               size_t size);

#endif
