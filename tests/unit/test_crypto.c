/* Unit tests of util/crypto: SHA-256, randomness, hex and base64url. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "util/crypto.h"

/* Hex of the SHA-256 of len bytes at data. */
static void sha256_hex(const void *data, size_t len, char out[2 * SHA256_LEN + 1])
{
    unsigned char digest[SHA256_LEN];
    sha256(data, len, digest);
    hex_encode(digest, SHA256_LEN, out);
}

/* Decodes a C string; -1 or the length. */
static long decode(const char *in, unsigned char *out, size_t out_size)
{
    return base64url_decode(in, strlen(in), out, out_size);
}

/* ---- sha256 and hex ---- */

START_TEST(sha256_vectors)
{
    char hex[2 * SHA256_LEN + 1];
    sha256_hex("", 0, hex);
    ck_assert_str_eq(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_hex("abc", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(two_blocks, strlen(two_blocks), hex);
    ck_assert_str_eq(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    char *million = malloc(1000000);
    ck_assert_ptr_nonnull(million);
    memset(million, 'a', 1000000);
    sha256_hex(million, 1000000, hex);
    free(million);
    ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    /* Bytes after len do not count; a NUL inside does. */
    sha256_hex("abcdef", 3, hex);
    ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    char with_nul[2 * SHA256_LEN + 1];
    sha256_hex("ab\0c", 4, with_nul);
    ck_assert_str_ne(with_nul, hex);
}
END_TEST

START_TEST(hex_encoding)
{
    char out[64];
    memset(out, 'x', sizeof out);
    hex_encode((const unsigned char *)"", 0, out);
    ck_assert_str_eq(out, "");
    const unsigned char in[] = {0x00, 0xff, 0x10, 0xab, 0x09, 0xa0, 0x7f};
    hex_encode(in, sizeof in, out);
    ck_assert_str_eq(out, "00ff10ab09a07f");
    /* Exactly 2*len+1 bytes are written. */
    memset(out, 'x', sizeof out);
    hex_encode(in, 2, out);
    ck_assert_str_eq(out, "00ff");
    ck_assert_int_eq(out[5], 'x');
}
END_TEST

START_TEST(random_draws)
{
    unsigned char a[32], b[32], zero[32] = {0};
    ck_assert(random_bytes(a, sizeof a));
    ck_assert(random_bytes(b, sizeof b));
    ck_assert(memcmp(a, b, sizeof a) != 0);
    ck_assert(memcmp(a, zero, sizeof a) != 0);
    ck_assert(random_bytes(a, 0));
    unsigned char big[4096];
    ck_assert(random_bytes(big, sizeof big));
}
END_TEST

/* ---- base64url ---- */

START_TEST(b64_encode_vectors)
{
    /* RFC 4648 section 10, without padding. */
    static const char *const in[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
    static const char *const want[] = {"", "Zg", "Zm8", "Zm9v", "Zm9vYg", "Zm9vYmE", "Zm9vYmFy"};
    char out[32];
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++) {
        base64url_encode((const unsigned char *)in[i], strlen(in[i]), out);
        ck_assert_str_eq(out, want[i]);
        unsigned char back[32];
        long n = decode(want[i], back, sizeof back);
        ck_assert_int_eq(n, (long)strlen(in[i]));
        ck_assert(memcmp(back, in[i], (size_t)n) == 0);
    }
    /* The URL alphabet: - and _ instead of + and /. */
    const unsigned char minus[] = {0xfb, 0xef, 0xbe};
    base64url_encode(minus, 3, out);
    ck_assert_str_eq(out, "----");
    const unsigned char under[] = {0xff, 0xff, 0xff};
    base64url_encode(under, 3, out);
    ck_assert_str_eq(out, "____");
    const unsigned char mix[] = {0xfb, 0xff};
    base64url_encode(mix, 2, out);
    ck_assert_str_eq(out, "-_8");
    const unsigned char zeros[] = {0, 0, 0, 0};
    base64url_encode(zeros, 4, out);
    ck_assert_str_eq(out, "AAAAAA");
}
END_TEST

START_TEST(b64_round_trips)
{
    unsigned char in[256], back[256];
    char text[4 * 86 + 8];
    for (size_t i = 0; i < sizeof in; i++)
        in[i] = (unsigned char)i;
    for (size_t len = 0; len <= sizeof in; len++) {
        /* The encoded length is ceil(4*len/3), within the documented size. */
        memset(text, '#', sizeof text);
        base64url_encode(in, len, text);
        ck_assert_uint_eq(strlen(text), (4 * len + 2) / 3);
        ck_assert(strlen(text) + 1 <= 4 * ((len + 2) / 3) + 1);
        ck_assert_msg(
            strspn(text, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
                strlen(text),
            "bad character in %s", text);
        long n = decode(text, back, sizeof back);
        ck_assert_int_eq(n, (long)len);
        ck_assert(memcmp(back, in, len) == 0);
        /* The exact output size is enough; one byte less is refused. */
        if (len > 0) {
            ck_assert_int_eq(decode(text, back, len), (long)len);
            ck_assert_int_eq(decode(text, back, len - 1), -1);
        }
    }
    /* Random contents too. */
    for (int round = 0; round < 200; round++) {
        size_t len = (size_t)round % 70;
        ck_assert(random_bytes(in, len));
        base64url_encode(in, len, text);
        ck_assert_int_eq(decode(text, back, sizeof back), (long)len);
        ck_assert(memcmp(back, in, len) == 0);
    }
}
END_TEST

START_TEST(b64_strict)
{
    unsigned char out[64];
    static const char *const bad[] = {
        "Zg==",                                                     /* padding */
        "Zm8=",                                                     /* padding */
        "Zm9v=",  "=",       "Zm9vYg=", "Zm+v",                     /* standard alphabet */
        "Zm/v",   "Zm9 v",                                          /* whitespace */
        "Zm9v\n", " Zm9v",   "Zm.v",    "Zm9v*", "\xc3\xa9xx", "Z", /* length 4n+1 */
        "Zm9vY",  "Zh", /* non-canonical trailing bits: 'h' sets bits below the byte */
        "Zm9",          /* '9' sets the 2 unused bits */
        "Zm9vYh", "Zm9vYmF", "AB",      "AAB",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(decode(bad[i], out, sizeof out) == -1, "accepted \"%s\"", bad[i]);
    /* A NUL inside the given length is a bad character. */
    ck_assert_int_eq(base64url_decode("Zm\0v", 4, out, sizeof out), -1);
    /* Canonical neighbours of the refused tails are fine. */
    ck_assert_int_eq(decode("Zg", out, sizeof out), 1);
    ck_assert_int_eq(decode("Zm8", out, sizeof out), 2);
    ck_assert_int_eq(decode("AA", out, sizeof out), 1);
    ck_assert_int_eq(decode("AAA", out, sizeof out), 2);
    ck_assert_int_eq(decode("", out, sizeof out), 0);
    ck_assert_int_eq(decode("____", out, sizeof out), 3);
    ck_assert_int_eq(out[0], 0xff);
    ck_assert_int_eq(decode("----", out, sizeof out), 3);
    ck_assert_int_eq(out[0], 0xfb);
    /* len bounds the input. */
    ck_assert_int_eq(base64url_decode("Zm9vYmFy", 4, out, sizeof out), 3);
    ck_assert(memcmp(out, "foo", 3) == 0);
    /* Zero output room. */
    ck_assert_int_eq(decode("Zg", out, 0), -1);
}
END_TEST

Suite *suite_crypto(void)
{
    Suite *s = suite_create("crypto");
    TCase *tc = tcase_create("sha256");
    tcase_add_test(tc, sha256_vectors);
    tcase_add_test(tc, hex_encoding);
    tcase_add_test(tc, random_draws);
    suite_add_tcase(s, tc);

    tc = tcase_create("base64url");
    tcase_add_test(tc, b64_encode_vectors);
    tcase_add_test(tc, b64_round_trips);
    tcase_add_test(tc, b64_strict);
    suite_add_tcase(s, tc);
    return s;
}
