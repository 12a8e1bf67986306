/* Row ids as the API writes them: decimal strings of 1 to 2^63-1, no sign,
 * no leading zeros (so every id has exactly one spelling). */
#ifndef CIVCAS_IDS_H
#define CIVCAS_IDS_H

#include <jansson.h>
#include <stdbool.h>

bool id_parse(const char *s, long long *out);
/* id as a JSON string; 0 (no row) as null. New reference. */
json_t *id_json_or_null(long long id);

#endif
