/* Links of the publication chain and their checks. Pure: no database, so
 * `civcasd verify` runs offline on downloaded files. */
#include "domain/publication.h"

#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

char *publication_link(const char *kind, long long report_id, long long seq,
                       const char *body_sha256, const char *previous, const char *fingerprint,
                       const char *published_at)
{
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", report_id);
    json_t *link = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "kind", kind, "previous",
                             previous, "published_at", published_at, "report_id", idtext,
                             "seq", (json_int_t)seq, "sha256", body_sha256, "signing_key",
                             fingerprint);
    char *text = json_dumps(link, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(link);
    if (!text)
        abort();
    return text;
}

bool keyring_from_json(json_t *doc, struct keyring *ring, char *problem, size_t size)
{
    json_t *keys = json_object_get(doc, "keys"), *k;
    size_t i;
    ring->n = 0;
    if (!json_is_array(keys)) {
        snprintf(problem, size, "the keys file has no \"keys\" list");
        return false;
    }
    json_array_foreach(keys, i, k) {
        const char *pem = json_string_value(json_object_get(k, "public_key_pem"));
        if (ring->n == sizeof ring->keys / sizeof ring->keys[0]) {
            snprintf(problem, size, "the keys file lists more than %zu keys",
                     sizeof ring->keys / sizeof ring->keys[0]);
            return false;
        }
        if (!pem || !sign_public_from_pem(pem, strlen(pem), ring->keys[ring->n].pub)) {
            snprintf(problem, size, "key %zu of the keys file is not an Ed25519 public key", i);
            return false;
        }
        sign_fingerprint(ring->keys[ring->n].pub, ring->keys[ring->n].fingerprint);
        ring->n++;
    }
    return true;
}

const unsigned char *keyring_find(const struct keyring *ring, const char *fingerprint)
{
    for (size_t i = 0; i < ring->n; i++)
        if (fingerprint && strcmp(ring->keys[i].fingerprint, fingerprint) == 0)
            return ring->keys[i].pub;
    return NULL;
}

bool keyring_verify(const struct keyring *ring, const void *data, size_t len,
                    const unsigned char *sig, size_t sig_len, size_t *which)
{
    for (size_t i = 0; i < ring->n; i++) {
        if (sign_verify(ring->keys[i].pub, data, len, sig, sig_len)) {
            *which = i;
            return true;
        }
    }
    return false;
}

/* One link's own faults (not its place in the chain). */
static bool link_valid(json_t *entry, const struct keyring *ring, const char **problem)
{
    const char *text = json_string_value(json_object_get(entry, "link"));
    const char *sig_hex = json_string_value(json_object_get(entry, "link_signature"));
    unsigned char sig[SIGN_SIGNATURE_LEN];
    json_t *link = text ? json_loads(text, JSON_REJECT_DUPLICATES, NULL) : NULL;
    const char *fingerprint = json_string_value(json_object_get(link, "signing_key"));
    const unsigned char *pub = keyring_find(ring, fingerprint);
    bool ok = false;
    if (!link)
        *problem = "its link is not JSON";
    else if (!pub)
        *problem = "it names a signing key the keys file does not list";
    else if (!hex_decode(sig_hex, sig, sizeof sig))
        *problem = "its link signature is not 128 hex digits";
    else if (!sign_verify(pub, text, strlen(text), sig, sizeof sig))
        *problem = "its link signature does not verify";
    else
        ok = true;
    json_decref(link);
    return ok;
}

bool publication_chain_check(json_t *chain, const struct keyring *ring, FILE *out,
                             long *checked)
{
    json_t *list = json_object_get(chain, "publications"), *entry;
    char previous[2 * SHA256_LEN + 1] = PUBLICATION_GENESIS;
    bool ok = true;
    size_t i;
    *checked = 0;
    if (!json_is_array(list)) {
        fprintf(out, "the chain has no \"publications\" list\n");
        return false;
    }
    json_array_foreach(list, i, entry) {
        long long want = (long long)i + 1;
        const char *text = json_string_value(json_object_get(entry, "link"));
        const char *problem = NULL;
        (*checked)++;
        if (!link_valid(entry, ring, &problem)) {
            fprintf(out, "publication %lld: %s\n", want, problem);
            ok = false;
        } else {
            json_t *link = json_loads(text, 0, NULL);
            json_int_t seq = json_integer_value(json_object_get(link, "seq"));
            const char *prev = json_string_value(json_object_get(link, "previous"));
            if (seq != want) {
                fprintf(out, "publication %lld: the link says it is number %lld: a publication "
                             "was removed or the order changed\n",
                        want, (long long)seq);
                ok = false;
            }
            if (!prev || strcmp(prev, previous) != 0) {
                fprintf(out, "publication %lld: its link does not follow the one before: a "
                             "publication was removed, inserted or reordered\n",
                        want);
                ok = false;
            }
            json_decref(link);
        }
        unsigned char digest[SHA256_LEN];
        if (text) {
            sha256(text, strlen(text), digest);
            hex_encode(digest, SHA256_LEN, previous);
        }
    }
    return ok;
}
