/* Authentication: the API key of a request, its role. */
#include "http/auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "http/ratelimit.h"
#include "util/crypto.h"

/* The key of HTTP Basic credentials ("user:password", base64): the
 * password, or the user name when the password is empty (clients differ
 * in which box a key is pasted into). Copied to key; false when the
 * credentials are malformed. */
static bool basic_key(const char *credentials, char *key, size_t size)
{
    unsigned char plain[256];
    while (*credentials == ' ')
        credentials++;
    size_t n = strlen(credentials);
    long len =
        n < 4 * (sizeof plain / 3) ? base64_decode(credentials, n, plain, sizeof plain - 1) : -1;
    if (len < 0)
        return false;
    plain[len] = '\0';
    char *colon = memchr(plain, ':', (size_t)len);
    if (!colon || strlen((char *)plain) != (size_t)len)
        return false;
    *colon = '\0';
    const char *k = colon[1] ? colon + 1 : (const char *)plain;
    if (strlen(k) >= size)
        return false;
    snprintf(key, size, "%s", k);
    return true;
}

bool http_authenticate(struct http_request *r, unsigned roles, struct api_error *e)
{
    const char *auth = http_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    char basic[256];
    const char *key = NULL;
    if (auth && strncasecmp(auth, "Bearer ", 7) == 0) {
        key = auth + 7;
        while (*key == ' ')
            key++;
    } else if (auth && r->openrosa && strncasecmp(auth, "Basic ", 6) == 0) {
        key = basic_key(auth + 6, basic, sizeof basic) ? basic : "";
    }
    if (!key)
        return api_error_set(e, 401, ERR_UNAUTHORIZED, NULL,
                             r->openrosa ? "send an API key as the password (HTTP Basic)"
                                         : "send an API key as Authorization: Bearer KEY");
    if (!key_format_valid(key))
        return api_error_set(e, 401, ERR_UNAUTHORIZED, NULL, "the API key is unknown or revoked");
    if (!http_request_db(r, e) ||
        !store_key_authenticate(r->db, key, &r->who, &r->taxonomy_revision, e))
        return false;
    r->authenticated = true;
    if (!(roles & r->who.role))
        return api_error_set(e, 403, ERR_FORBIDDEN, NULL, "the %s role may not use %s %s",
                             role_name(r->who.role), r->method, r->route_template);
    int retry;
    if (!ratelimit_take(RATELIMIT_KEY, &r->who.key_id, sizeof r->who.key_id, (double)cfg.rate_key,
                        4.0 * (double)cfg.rate_key, &retry)) {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%d", retry);
        http_add_header(r, "Retry-After", seconds);
        return api_error_set(e, 429, ERR_RATE_LIMITED, NULL,
                             "too many requests with this key; retry after %d s", retry);
    }
    return true;
}
