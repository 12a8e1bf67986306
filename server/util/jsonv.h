/*
 * Strict JSON input: parsing and typed field access for request bodies.
 *
 * json_parse_strict() rejects duplicate keys, trailing data, nesting deeper
 * than JSON_MAX_DEPTH and non-UTF-8 text; integers too large for 64 bits are
 * kept (as reals) so the validator can name the field they belong to. The
 * jv_* getters borrow from the parsed document, check type, range and length,
 * and fill an api_error naming the field path ("casualties[1].count").
 */
#ifndef CIVCAS_JSONV_H
#define CIVCAS_JSONV_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/apierr.h"

#define JSON_MAX_DEPTH 8

/* On success *out is a new reference to an object. */
bool json_parse_strict(const char *data, size_t len, json_t **out, struct api_error *e);

/* SHA-256 (hex) of doc's canonical text: compact, keys sorted, reals with
 * 17 significant digits. Two documents that parse alike (whitespace and
 * member order aside) have the same fingerprint. */
#define JSON_FINGERPRINT_HEX 64
void json_fingerprint(json_t *doc, char hex[JSON_FINGERPRINT_HEX + 1]);

/* Depth of the deepest array/object nesting, scanning at most until it
 * exceeds limit; strings are skipped. Exposed for tests. */
int json_nesting_depth(const char *data, size_t len, int limit);

/* Valid UTF-8 (no overlongs, surrogates or code points past U+10FFFF). */
bool utf8_valid(const char *s, size_t len);
/* Code points in valid UTF-8. */
size_t utf8_length(const char *s, size_t len);

/* Presence of an optional member: absent, JSON null, or a value. */
enum jv_presence { JV_ABSENT, JV_NULL, JV_VALUE };

/* path = prefix + "." + key, or key alone when prefix is empty. */
void jv_path(char *out, size_t size, const char *prefix, const char *key);
/* path = prefix + "[index]". */
void jv_path_index(char *out, size_t size, const char *prefix, size_t index);

/* Rejects any member of obj whose key is not in allowed (NULL-terminated);
 * prefix names obj in the error path. */
bool jv_only_keys(json_t *obj, const char *const *allowed, const char *prefix,
                  struct api_error *e);

/* The value of key in obj, with its presence. */
enum jv_presence jv_get(json_t *obj, const char *key, json_t **value);

/* A string member: NULL-free, at most max_chars code points, at least
 * min_chars. *out borrows from obj. Absent or null leaves *out NULL and
 * returns true unless required (then missing_field; null: invalid_field). */
bool jv_string(json_t *obj, const char *key, const char *prefix, bool required,
               size_t min_chars, size_t max_chars, const char **out,
               enum jv_presence *presence, struct api_error *e);

/* An integer member in [min, max]; reals are rejected (with the range in the
 * message). */
bool jv_integer(json_t *obj, const char *key, const char *prefix, bool required,
                long long min, long long max, long long *out,
                enum jv_presence *presence, struct api_error *e);

/* A real or integer member in [min, max]. */
bool jv_number(json_t *obj, const char *key, const char *prefix, bool required,
               double min, double max, double *out, enum jv_presence *presence,
               struct api_error *e);

bool jv_boolean(json_t *obj, const char *key, const char *prefix, bool required,
                bool *out, enum jv_presence *presence, struct api_error *e);

/* A string member that must equal one of choices (NULL-terminated). *out
 * points at the matching entry of choices. */
bool jv_enum(json_t *obj, const char *key, const char *prefix, bool required,
             const char *const *choices, const char **out, enum jv_presence *presence,
             struct api_error *e);

#endif
