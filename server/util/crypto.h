/* Hashes, randomness and the text encodings of keys and cursors. */
#ifndef CIVCAS_CRYPTO_H
#define CIVCAS_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#define SHA256_LEN 32
#define MD5_LEN 16

void sha256(const void *data, size_t len, unsigned char out[SHA256_LEN]);
/* MD5, where a protocol names it (OpenRosa's form list hashes); never
 * for anything that must resist an attacker. */
void md5(const void *data, size_t len, unsigned char out[MD5_LEN]);
/* Cryptographically secure random bytes (getrandom); false if unavailable. */
bool random_bytes(void *out, size_t len);
/* The value of a hex digit (either case), or -1. */
int hex_digit(char c);
/* out needs 2*len+1 bytes. */
void hex_encode(const unsigned char *in, size_t len, char *out);
/* 2*len hex digits (either case) into len bytes; false on anything else. */
bool hex_decode(const char *hex, unsigned char *out, size_t len);
/* Unpadded base64url; out needs 4*ceil(len/3)+1 bytes. */
void base64url_encode(const unsigned char *in, size_t len, char *out);
/* Strict: only the base64url alphabet, no padding, canonical trailing bits.
 * Returns the decoded length or -1. */
long base64url_decode(const char *in, size_t len, unsigned char *out, size_t out_size);
/* An opaque cursor's text: in (at most 80 characters) decoded into out as a
 * NUL-terminated string of at least min_len characters and no NUL of its
 * own; false for anything else. */
bool base64url_decode_text(const char *in, char *out, size_t out_size, size_t min_len);

/* Standard base64 (RFC 4648 section 4) with its padding, strictly, as HTTP
 * Basic credentials are written. Returns the decoded length or -1. */
long base64_decode(const char *in, size_t len, unsigned char *out, size_t out_size);

#endif
