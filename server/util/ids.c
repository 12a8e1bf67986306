/* Row ids: parsed from and written as the API spells them. */
#include "util/ids.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool id_parse(const char *s, long long *out)
{
    size_t n = strlen(s);
    if (n == 0 || n > 19 || s[0] == '0')
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno || v < 1)
        return false;
    *out = v;
    return true;
}

json_t *id_json_or_null(long long id)
{
    char text[24];
    snprintf(text, sizeof text, "%lld", id);
    return id ? json_string(text) : json_null();
}
