/* Comma-separated parameter lists. */
#include "util/params.h"

#include <stdlib.h>
#include <string.h>

bool comma_list_each(const char *list, bool (*fn)(const char *item, size_t len, void *ctx),
                     void *ctx)
{
    for (const char *p = list;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (!fn(p, len, ctx))
            return false;
        if (!comma)
            return true;
        p = comma + 1;
    }
}

static bool append_item(const char *item, size_t len, void *ctx)
{
    if (len > 0)
        json_array_append_new(ctx, json_stringn(item, len));
    return true;
}

json_t *comma_list_json(const char *list)
{
    json_t *a = json_array();
    comma_list_each(list, append_item, a);
    return a;
}

bool count_text_parse(const char *s, long *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 9 || strspn(s, "0123456789") != n)
        return false;
    *out = strtol(s, NULL, 10);
    return true;
}

bool param_limit(param_fn get, void *ctx, const char *name, long def, long max, long *out,
                 struct api_error *e)
{
    const char *text = get(ctx, name);
    *out = def;
    if (!text)
        return true;
    char *end;
    long v = strtol(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end || v < 1 || v > max)
        return err_invalid(e, name, "%s must be an integer from 1 to %ld", name, max);
    *out = v;
    return true;
}
