/*
 * multipart/form-data bodies (RFC 7578), parsed strictly over a body
 * already read whole (and so already size-limited): the boundary of the
 * Content-Type, a delimiter at the very start, a closing delimiter at the
 * end, and each part's Content-Disposition name. Parts point into the
 * body; nothing is copied but the names.
 */
#ifndef CIVCAS_MULTIPART_H
#define CIVCAS_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#include "util/apierr.h"

#define MULTIPART_MAX_PARTS 16
#define MULTIPART_MAX_NAME 64

struct multipart_part {
    char name[MULTIPART_MAX_NAME + 1];
    bool has_filename;
    const char *data; /* into the body */
    size_t len;
};

/* Whether content_type is multipart/form-data (with any parameters). */
bool multipart_is_form_data(const char *content_type);

/* Splits body into parts (at most MULTIPART_MAX_PARTS, *n of them), or
 * false with e set (400 naming Content-Type or the body). */
bool multipart_parse(const char *content_type, const char *body, size_t len,
                     struct multipart_part *parts, size_t *n, struct api_error *e);

#endif
