/* Row ids as the API writes them: decimal strings of 1 to 2^63-1, no sign,
 * no leading zeros (so every id has exactly one spelling). */
#ifndef CIVCAS_IDS_H
#define CIVCAS_IDS_H

#include <stdbool.h>

bool id_parse(const char *s, long long *out);

#endif
