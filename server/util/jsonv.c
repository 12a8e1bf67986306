/* Strict JSON parsing and typed, range-checked field access. */
#include "util/jsonv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/crypto.h"

/* Index just past the string literal whose opening quote is at data[i]
 * (or len when it never closes). */
static size_t skip_string(const char *data, size_t len, size_t i)
{
    bool escaped = false;
    for (i++; i < len; i++) {
        if (escaped)
            escaped = false;
        else if (data[i] == '\\')
            escaped = true;
        else if (data[i] == '"')
            return i + 1;
    }
    return len;
}

int json_nesting_depth(const char *data, size_t len, int limit)
{
    int depth = 0, deepest = 0;
    size_t i = 0;
    while (i < len) {
        char c = data[i];
        if (c == '"') {
            i = skip_string(data, len, i);
            continue;
        }
        if (c == '[' || c == '{') {
            if (++depth > deepest) {
                deepest = depth;
                if (deepest > limit)
                    return deepest;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
        i++;
    }
    return deepest;
}

bool utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        unsigned c = p[i];
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t n;
        unsigned cp;
        if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return false;
        }
        if (len - i <= n) /* the continuation bytes run past the end */
            return false;
        for (size_t k = 1; k <= n; k++) {
            if ((p[i + k] & 0xc0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
            (cp >= 0xd800 && cp <= 0xdfff))
            return false;
        i += n + 1;
    }
    return true;
}

size_t utf8_length(const char *s, size_t len)
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

/* Copies data with every integer literal of 19 or more digits (outside
 * strings) replaced by the real 1e300 (or -1e300). */
static char *widen_big_integers(const char *data, size_t len, size_t *out_len)
{
    struct buf b;
    buf_init(&b);
    size_t i = 0;
    while (i < len) {
        char c = data[i];
        if (c == '"') {
            size_t end = skip_string(data, len, i);
            buf_append(&b, data + i, end - i);
            i = end;
            continue;
        }
        if (c == '-' || (c >= '0' && c <= '9')) {
            size_t start = i;
            if (c == '-')
                i++;
            size_t digits_start = i;
            while (i < len && data[i] >= '0' && data[i] <= '9')
                i++;
            bool integer = i >= len || (data[i] != '.' && data[i] != 'e' && data[i] != 'E');
            if (integer && i - digits_start >= 19) {
                buf_puts(&b, c == '-' ? "-1e300" : "1e300");
                continue;
            }
            buf_append(&b, data + start, i - start);
            continue;
        }
        buf_putc(&b, c);
        i++;
    }
    return buf_steal(&b, out_len);
}

void json_fingerprint(json_t *doc, char hex[JSON_FINGERPRINT_HEX + 1])
{
    char *canonical = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
    unsigned char digest[SHA256_LEN];
    sha256(canonical, strlen(canonical), digest);
    free(canonical);
    hex_encode(digest, SHA256_LEN, hex);
}

bool json_parse_strict(const char *data, size_t len, json_t **out, struct api_error *e)
{
    *out = NULL;
    if (len == 0)
        return api_error_set(e, 400, ERR_MALFORMED_JSON, NULL, "request body is empty");
    if (json_nesting_depth(data, len, JSON_MAX_DEPTH) > JSON_MAX_DEPTH)
        return api_error_set(e, 400, ERR_MALFORMED_JSON, NULL,
                             "JSON nested deeper than %d levels", JSON_MAX_DEPTH);
    if (!utf8_valid(data, len))
        return api_error_set(e, 400, ERR_MALFORMED_JSON, NULL, "request body is not valid UTF-8");

    /* \u0000 is let through the parser so that the validator can name the
     * field that carries it (and refuse it there). */
    size_t flags = JSON_REJECT_DUPLICATES | JSON_DECODE_ANY | JSON_ALLOW_NUL;
    json_error_t jerr;
    json_t *doc = json_loadb(data, len, flags, &jerr);
    if (!doc && strstr(jerr.text, "too big")) {
        /* Integers past 64 bits become reals, so the validator names the
         * field that holds one ("must be an integer from 1 to 100000"). */
        char *copy = widen_big_integers(data, len, &len);
        doc = json_loadb(copy, len, flags, &jerr);
        free(copy);
    }
    if (!doc)
        return api_error_set(e, 400, ERR_MALFORMED_JSON, NULL, "malformed JSON at line %d column %d: %s",
                             jerr.line, jerr.column, jerr.text);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return api_error_set(e, 400, ERR_INVALID_FIELD, NULL, "request body must be a JSON object");
    }
    *out = doc;
    return true;
}

void jv_path(char *out, size_t size, const char *prefix, const char *key)
{
    if (prefix && prefix[0])
        snprintf(out, size, "%s.%s", prefix, key);
    else
        snprintf(out, size, "%s", key);
}

void jv_path_index(char *out, size_t size, const char *prefix, size_t index)
{
    snprintf(out, size, "%s[%zu]", prefix, index);
}

bool jv_only_keys(json_t *obj, const char *const *allowed, const char *prefix,
                  struct api_error *e)
{
    const char *key;
    json_t *value;
    json_object_foreach(obj, key, value) {
        bool known = false;
        for (const char *const *a = allowed; *a; a++) {
            if (strcmp(key, *a) == 0) {
                known = true;
                break;
            }
        }
        if (!known) {
            char path[160];
            /* A key may hold anything; name it only if it is printable. */
            bool printable = strlen(key) <= 64;
            for (const char *k = key; printable && *k; k++)
                if ((unsigned char)*k < 0x20 || *k == '"' || *k == '\\')
                    printable = false;
            jv_path(path, sizeof path, prefix, printable ? key : "?");
            return api_error_set(e, 400, ERR_UNKNOWN_FIELD, path, "%s is not a known field", path);
        }
    }
    return true;
}

enum jv_presence jv_get(json_t *obj, const char *key, json_t **value)
{
    json_t *v = json_object_get(obj, key);
    *value = v;
    if (!v)
        return JV_ABSENT;
    return json_is_null(v) ? JV_NULL : JV_VALUE;
}

/* Records why a getter refused a value; returns refused (false). */
static bool because(struct api_error *e, enum err_reason why, bool refused)
{
    e->reason = why;
    return refused;
}

/* Shared head of every getter: fetch, note presence, apply required. Returns
 * 1 when a value follows, 0 when absent/null was fine, -1 on error. */
static int jv_head(json_t *obj, const char *key, const char *path, bool required, json_t **v,
                   enum jv_presence *presence, struct api_error *e)
{
    enum jv_presence p = jv_get(obj, key, v);
    if (presence)
        *presence = p;
    if (p == JV_VALUE)
        return 1;
    if (!required)
        return 0;
    if (p == JV_ABSENT)
        because(e, ERR_REASON_MISSING, err_missing(e, path));
    else
        because(e, ERR_REASON_NULL, err_invalid(e, path, "%s may not be null", path));
    return -1;
}

bool jv_string(json_t *obj, const char *key, const char *prefix, bool required,
               size_t min_chars, size_t max_chars, const char **out,
               enum jv_presence *presence, struct api_error *e)
{
    char path[160];
    jv_path(path, sizeof path, prefix, key);
    json_t *v;
    *out = NULL;
    int h = jv_head(obj, key, path, required, &v, presence, e);
    if (h <= 0)
        return h == 0;
    if (!json_is_string(v))
        return because(e, ERR_REASON_TYPE, err_invalid(e, path, "%s must be a string", path));
    const char *s = json_string_value(v);
    size_t bytes = json_string_length(v);
    if (strlen(s) != bytes)
        return because(e, ERR_REASON_NUL,
                       err_invalid(e, path, "%s may not contain NUL characters", path));
    size_t chars = utf8_length(s, bytes);
    if (chars < min_chars)
        return because(e, ERR_REASON_EMPTY, err_invalid(e, path, "%s must not be empty", path));
    if (chars > max_chars)
        return because(e, ERR_REASON_TOO_LONG,
                       err_invalid(e, path, "%s is longer than %zu characters", path, max_chars));
    *out = s;
    return true;
}

bool jv_integer(json_t *obj, const char *key, const char *prefix, bool required,
                long long min, long long max, long long *out,
                enum jv_presence *presence, struct api_error *e)
{
    char path[160];
    jv_path(path, sizeof path, prefix, key);
    json_t *v;
    int h = jv_head(obj, key, path, required, &v, presence, e);
    if (h <= 0)
        return h == 0;
    if (!json_is_integer(v))
        return because(e, ERR_REASON_TYPE,
                       err_invalid(e, path, "%s must be an integer from %lld to %lld", path, min,
                                   max));
    json_int_t n = json_integer_value(v);
    if (n < min || n > max)
        return because(e, ERR_REASON_RANGE,
                       err_invalid(e, path, "%s must be an integer from %lld to %lld", path, min,
                                   max));
    *out = (long long)n;
    return true;
}

bool jv_number(json_t *obj, const char *key, const char *prefix, bool required,
               double min, double max, double *out, enum jv_presence *presence,
               struct api_error *e)
{
    char path[160];
    jv_path(path, sizeof path, prefix, key);
    json_t *v;
    int h = jv_head(obj, key, path, required, &v, presence, e);
    if (h <= 0)
        return h == 0;
    if (!json_is_number(v))
        return because(e, ERR_REASON_TYPE,
                       err_invalid(e, path, "%s must be a number from %g to %g", path, min, max));
    double d = json_number_value(v);
    if (!isfinite(d) || d < min || d > max)
        return because(e, ERR_REASON_RANGE,
                       err_invalid(e, path, "%s must be a number from %g to %g", path, min, max));
    *out = d;
    return true;
}

bool jv_boolean(json_t *obj, const char *key, const char *prefix, bool required,
                bool *out, enum jv_presence *presence, struct api_error *e)
{
    char path[160];
    jv_path(path, sizeof path, prefix, key);
    json_t *v;
    int h = jv_head(obj, key, path, required, &v, presence, e);
    if (h <= 0)
        return h == 0;
    if (!json_is_boolean(v))
        return because(e, ERR_REASON_TYPE, err_invalid(e, path, "%s must be true or false", path));
    *out = json_is_true(v);
    return true;
}

bool jv_enum(json_t *obj, const char *key, const char *prefix, bool required,
             const char *const *choices, const char **out, enum jv_presence *presence,
             struct api_error *e)
{
    char path[160];
    jv_path(path, sizeof path, prefix, key);
    json_t *v;
    int h = jv_head(obj, key, path, required, &v, presence, e);
    if (h <= 0)
        return h == 0;
    if (json_is_string(v)) {
        for (const char *const *c = choices; *c; c++) {
            if (strcmp(json_string_value(v), *c) == 0 && strlen(*c) == json_string_length(v)) {
                *out = *c;
                return true;
            }
        }
    }
    char list[200] = "";
    for (const char *const *c = choices; *c; c++) {
        size_t used = strlen(list);
        snprintf(list + used, sizeof list - used, "%s%s", c == choices ? "" : ", ", *c);
    }
    return because(e, ERR_REASON_CHOICE, err_invalid(e, path, "%s must be one of %s", path, list));
}
