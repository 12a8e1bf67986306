/* Publications as signed, chained statements: the link of each, and the
 * checks anyone can run on a downloaded chain and snapshot. */
#ifndef CIVCAS_PUBLICATION_H
#define CIVCAS_PUBLICATION_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

#include "util/crypto.h"
#include "util/sign.h"

/* The "previous" of the first link. */
#define PUBLICATION_GENESIS "0000000000000000000000000000000000000000000000000000000000000000"

/* The canonical text of a link: JSON with sorted keys and no whitespace,
 * {"kind", "previous", "published_at", "report_id", "seq", "sha256",
 * "signing_key"}. kind is "report" or "public_report". Caller frees. */
char *publication_link(const char *kind, long long report_id, long long seq,
                       const char *body_sha256, const char *previous, const char *fingerprint,
                       const char *published_at);

/* The public keys a verifier trusts, by fingerprint. */
struct keyring {
    size_t n;
    struct {
        char fingerprint[SIGN_FINGERPRINT_LEN + 1];
        unsigned char pub[SIGN_PUBLIC_LEN];
    } keys[64];
};

/* Reads {"keys": [{"public_key_pem": ...}, ...]} (GET
 * /v1/public/signing-keys); false with a message on anything else. */
bool keyring_from_json(json_t *doc, struct keyring *ring, char *problem, size_t size);
/* The key with fingerprint, or NULL. */
const unsigned char *keyring_find(const struct keyring *ring, const char *fingerprint);

/* Whether sig is a signature over data by a key of ring; *which gets the
 * key's index. */
bool keyring_verify(const struct keyring *ring, const void *data, size_t len,
                    const unsigned char *sig, size_t sig_len, size_t *which);

/* Checks a chain ({"publications": [{"seq", "link", "link_signature",
 * ...}]}, in order): numbering from 1 without gaps, each link's "previous"
 * the SHA-256 of the link before (PUBLICATION_GENESIS first), each link
 * signed by the key it names, that key in ring. Writes one line per fault
 * to out; *checked gets the number of links. True when all hold. */
bool publication_chain_check(json_t *chain, const struct keyring *ring, FILE *out,
                             long *checked);

#endif
