/*
 * Request parameters as the layers above the HTTP edge see them: a lookup
 * by name, so parsers need no request, and comma-separated lists.
 */
#ifndef CIVCAS_PARAMS_H
#define CIVCAS_PARAMS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/apierr.h"

/* The value of parameter name, or NULL when absent. Borrowed. */
typedef const char *(*param_fn)(void *ctx, const char *name);

/* Calls fn on each item of a comma list, empty items included (len 0;
 * item is not NUL-terminated); stops and returns false as soon as fn does. */
bool comma_list_each(const char *list, bool (*fn)(const char *item, size_t len, void *ctx),
                     void *ctx);

/* The items of a comma list as a JSON array of strings. New reference. */
json_t *comma_list_json(const char *list);

/* A count in text (a CSV cell, a form's answer): only the digits of a
 * whole number, at most 9 of them, so it fits any integer type; the
 * caller holds it to its field's range. */
bool count_text_parse(const char *s, long *out);

/* A page size parameter: def when absent, else an integer from 1 to max;
 * anything else is a 400 naming the parameter (never clamped). */
bool param_limit(param_fn get, void *ctx, const char *name, long def, long max, long *out,
                 struct api_error *e);

#endif
