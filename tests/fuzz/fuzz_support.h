/* What every fuzz harness checks of a refusal. */
#ifndef CIVCAS_FUZZ_SUPPORT_H
#define CIVCAS_FUZZ_SUPPORT_H

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/apierr.h"

/* A reader that refuses its input must have said why, as the HTTP layer
 * answers it (a 4xx or 5xx with a code, serialisable), else the client
 * would get a 500 for a 400. Aborts, naming harness and who, otherwise. */
static inline void fuzz_check_error(const char *harness, const struct api_error *e,
                                    const char *who)
{
    if (e->status < 400 || e->status > 599 || !e->code) {
        fprintf(stderr,
                "%s: %s failed without setting its error "
                "(status %d, code %s, field \"%s\", message \"%s\")\n",
                harness, who, e->status, e->code ? e->code : "NULL", e->field, e->message);
        abort();
    }
    json_t *body = api_error_json(e);
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text)
        abort();
    free(text);
    json_decref(body);
}

#endif
