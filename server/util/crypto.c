/* SHA-256 (libcrypto), getrandom, hex and base64url. */
#include "util/crypto.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <string.h>
#include <sys/random.h>

void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN])
{
    SHA256(data, len, out);
}

void md5(const void *data, size_t len, unsigned char out[MD5_LEN])
{
    unsigned int n = MD5_LEN;
    if (!EVP_Digest(data, len, out, &n, EVP_md5(), NULL))
        memset(out, 0, MD5_LEN);
}

bool random_bytes(void *out, size_t len)
{
    unsigned char *p = out;
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

int hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

void hex_encode(const unsigned char *in, size_t len, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < len; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 15];
    }
    out[2 * len] = '\0';
}

bool hex_decode(const char *hex, unsigned char *out, size_t len)
{
    if (!hex || strlen(hex) != 2 * len)
        return false;
    for (size_t i = 0; i < len; i++) {
        int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);
        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

static const char b64url[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

void base64url_encode(const unsigned char *in, size_t len, char *out)
{
    size_t o = 0, i = 0;
    for (; i + 2 < len; i += 3) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8 | in[i + 2];
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
        out[o++] = b64url[v & 63];
    }
    if (len - i == 1) {
        unsigned v = (unsigned)in[i] << 16;
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
    } else if (len - i == 2) {
        unsigned v = (unsigned)in[i] << 16 | (unsigned)in[i + 1] << 8;
        out[o++] = b64url[v >> 18 & 63];
        out[o++] = b64url[v >> 12 & 63];
        out[o++] = b64url[v >> 6 & 63];
    }
    out[o] = '\0';
}

static const char b64std[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static int b64_value(const char *alphabet, char c)
{
    const char *p = c ? strchr(alphabet, c) : NULL;
    return p ? (int)(p - alphabet) : -1;
}

/* Unpadded base64 of the alphabet given, strictly. */
static long b64_decode(const char *alphabet, const char *in, size_t len, unsigned char *out,
                       size_t out_size)
{
    if (len % 4 == 1)
        return -1;
    size_t o = 0;
    unsigned acc = 0;
    int bits = 0;
    for (size_t i = 0; i < len; i++) {
        int v = b64_value(alphabet, in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o >= out_size)
                return -1;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0) /* non-canonical trailing bits */
        return -1;
    return (long)o;
}

long base64url_decode(const char *in, size_t len, unsigned char *out, size_t out_size)
{
    return b64_decode(b64url, in, len, out, out_size);
}

long base64_decode(const char *in, size_t len, unsigned char *out, size_t out_size)
{
    if (len % 4 != 0)
        return -1;
    for (int pad = 0; pad < 2 && len > 0 && in[len - 1] == '='; pad++)
        len--;
    return b64_decode(b64std, in, len, out, out_size);
}

bool base64url_decode_text(const char *in, char *out, size_t out_size, size_t min_len)
{
    size_t len = strlen(in);
    if (len > 80 || out_size < 2)
        return false;
    long n = base64url_decode(in, len, (unsigned char *)out, out_size - 1);
    if (n < (long)min_len || memchr(out, '\0', (size_t)n))
        return false;
    out[n] = '\0';
    return true;
}
