/* Ed25519 through libcrypto's EVP interface: one-shot EVP_DigestSign with
 * no digest, as RFC 8032 (PureEdDSA) and `openssl pkeyutl -rawin` use it. */
#include "util/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/crypto.h"
#include "util/mem.h"

struct signer {
    EVP_PKEY *key;
    unsigned char pub[SIGN_PUBLIC_LEN];
    char fingerprint[SIGN_FINGERPRINT_LEN + 1];
};

void sign_fingerprint(const unsigned char pub[SIGN_PUBLIC_LEN],
                      char out[SIGN_FINGERPRINT_LEN + 1])
{
    unsigned char digest[SHA256_LEN];
    sha256(pub, SIGN_PUBLIC_LEN, digest);
    hex_encode(digest, SHA256_LEN, out);
}

static struct signer *signer_of(EVP_PKEY *key, char *problem, size_t size)
{
    size_t n = SIGN_PUBLIC_LEN;
    struct signer *s = xcalloc(1, sizeof *s);
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_ED25519 ||
        EVP_PKEY_get_raw_public_key(key, s->pub, &n) != 1 || n != SIGN_PUBLIC_LEN) {
        snprintf(problem, size, "the key is not an Ed25519 private key");
        EVP_PKEY_free(key);
        free(s);
        return NULL;
    }
    s->key = key;
    sign_fingerprint(s->pub, s->fingerprint);
    return s;
}

struct signer *signer_create(const char *path, char *problem, size_t size)
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    if (!key) {
        snprintf(problem, size, "could not generate an Ed25519 key");
        return NULL;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(problem, size, "cannot create \"%s\": %s", path, strerror(errno));
        EVP_PKEY_free(key);
        return NULL;
    }
    FILE *f = fdopen(fd, "w");
    bool ok = f && PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
    if (f)
        ok = (fclose(f) == 0) && ok;
    else
        close(fd);
    if (!ok) {
        snprintf(problem, size, "cannot write \"%s\"", path);
        unlink(path);
        EVP_PKEY_free(key);
        return NULL;
    }
    return signer_of(key, problem, size);
}

struct signer *signer_load(const char *path, char *problem, size_t size)
{
    FILE *f = fopen(path, "re");
    if (!f) {
        snprintf(problem, size, "cannot open the signing key \"%s\": %s", path, strerror(errno));
        return NULL;
    }
    EVP_PKEY *key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    if (!key) {
        snprintf(problem, size, "\"%s\" holds no PEM private key", path);
        return NULL;
    }
    return signer_of(key, problem, size);
}

void signer_free(struct signer *s)
{
    if (!s)
        return;
    EVP_PKEY_free(s->key);
    free(s);
}

const unsigned char *signer_public(const struct signer *s)
{
    return s->pub;
}

const char *signer_fingerprint(const struct signer *s)
{
    return s->fingerprint;
}

bool signer_sign(const struct signer *s, const void *msg, size_t len,
                 unsigned char sig[SIGN_SIGNATURE_LEN])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    size_t n = SIGN_SIGNATURE_LEN;
    bool ok = ctx && EVP_DigestSignInit(ctx, NULL, NULL, NULL, s->key) == 1 &&
              EVP_DigestSign(ctx, sig, &n, msg, len) == 1 && n == SIGN_SIGNATURE_LEN;
    EVP_MD_CTX_free(ctx);
    return ok;
}

char *sign_public_pem(const unsigned char pub[SIGN_PUBLIC_LEN])
{
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, SIGN_PUBLIC_LEN);
    BIO *bio = BIO_new(BIO_s_mem());
    char *out = NULL;
    if (key && bio && PEM_write_bio_PUBKEY(bio, key) == 1) {
        char *data;
        long n = BIO_get_mem_data(bio, &data);
        out = xmalloc((size_t)n + 1);
        memcpy(out, data, (size_t)n);
        out[n] = '\0';
    }
    BIO_free(bio);
    EVP_PKEY_free(key);
    return out;
}

bool sign_public_from_pem(const char *pem, size_t len, unsigned char pub[SIGN_PUBLIC_LEN])
{
    if (len > 4096)
        return false;
    BIO *bio = BIO_new_mem_buf(pem, (int)len);
    EVP_PKEY *key = bio ? PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL) : NULL;
    size_t n = SIGN_PUBLIC_LEN;
    bool ok = key && EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 &&
              EVP_PKEY_get_raw_public_key(key, pub, &n) == 1 && n == SIGN_PUBLIC_LEN;
    EVP_PKEY_free(key);
    BIO_free(bio);
    return ok;
}

bool sign_verify(const unsigned char pub[SIGN_PUBLIC_LEN], const void *msg, size_t len,
                 const unsigned char *sig, size_t sig_len)
{
    if (sig_len != SIGN_SIGNATURE_LEN)
        return false;
    EVP_PKEY *key = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, pub, SIGN_PUBLIC_LEN);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    bool ok = key && ctx && EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, key) == 1 &&
              EVP_DigestVerify(ctx, sig, sig_len, msg, len) == 1;
    EVP_MD_CTX_free(ctx);
    EVP_PKEY_free(key);
    return ok;
}
