/* Authentication: the API key of a request, its role. */
#include "http/auth.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config.h"
#include "http/ratelimit.h"

bool http_authenticate(struct http_request *r, unsigned roles, struct api_error *e)
{
    const char *auth = http_header(r, MHD_HTTP_HEADER_AUTHORIZATION);
    if (!auth || strncasecmp(auth, "Bearer ", 7) != 0)
        return api_error_set(e, 401, ERR_UNAUTHORIZED, NULL,
                             "send an API key as Authorization: Bearer KEY");
    const char *key = auth + 7;
    while (*key == ' ')
        key++;
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
    if (!ratelimit_take(RATELIMIT_KEY, &r->who.key_id, sizeof r->who.key_id,
                        (double)cfg.rate_key, 4.0 * (double)cfg.rate_key, &retry)) {
        char seconds[16];
        snprintf(seconds, sizeof seconds, "%d", retry);
        http_add_header(r, "Retry-After", seconds);
        return api_error_set(e, 429, ERR_RATE_LIMITED, NULL,
                             "too many requests with this key; retry after %d s", retry);
    }
    return true;
}
