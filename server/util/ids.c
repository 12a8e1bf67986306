/* Parsing of row ids. */
#include "util/ids.h"

#include <errno.h>
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
