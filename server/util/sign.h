/* Ed25519 signatures (libcrypto): the keys that sign publications. */
#ifndef CIVCAS_SIGN_H
#define CIVCAS_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#define SIGN_PUBLIC_LEN 32
#define SIGN_SIGNATURE_LEN 64
/* A key's fingerprint: the hex SHA-256 of its raw public key. */
#define SIGN_FINGERPRINT_LEN 64

struct signer;

/* Makes a new key and writes its private half to path as a PKCS#8 PEM file,
 * created with mode 0600 and refused if path exists. On failure writes a
 * message into problem. */
struct signer *signer_create(const char *path, char *problem, size_t size);
/* Reads a private key from a PEM file; it must be Ed25519. */
struct signer *signer_load(const char *path, char *problem, size_t size);
void signer_free(struct signer *s);
/* The raw public key and its fingerprint (hex, NUL-terminated). */
const unsigned char *signer_public(const struct signer *s);
const char *signer_fingerprint(const struct signer *s);
bool signer_sign(const struct signer *s, const void *msg, size_t len,
                 unsigned char sig[SIGN_SIGNATURE_LEN]);

/* The SubjectPublicKeyInfo PEM of a raw public key (malloc'd), the form
 * `openssl pkeyutl -verify -pubin -inkey` reads. */
char *sign_public_pem(const unsigned char pub[SIGN_PUBLIC_LEN]);
/* The raw public key of a PEM public key; false if it is not Ed25519. */
bool sign_public_from_pem(const char *pem, size_t len, unsigned char pub[SIGN_PUBLIC_LEN]);
void sign_fingerprint(const unsigned char pub[SIGN_PUBLIC_LEN],
                      char out[SIGN_FINGERPRINT_LEN + 1]);
bool sign_verify(const unsigned char pub[SIGN_PUBLIC_LEN], const void *msg, size_t len,
                 const unsigned char *sig, size_t sig_len);

#endif
