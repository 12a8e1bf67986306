/* Strict multipart/form-data parsing. */
/* memmem */
#define _GNU_SOURCE
#include "util/multipart.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MULTIPART_MAX_BOUNDARY 70

bool multipart_is_form_data(const char *content_type)
{
    if (!content_type)
        return false;
    while (*content_type == ' ')
        content_type++;
    size_t n = strlen("multipart/form-data");
    return strncasecmp(content_type, "multipart/form-data", n) == 0 &&
           (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ');
}

/* The value of parameter name in a header's parameters ("; a=b; c="d""),
 * unquoted, into out. */
static bool header_param(const char *params, const char *name, char *out, size_t size)
{
    size_t nlen = strlen(name);
    for (const char *p = params; (p = strchr(p, ';'));) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, name, nlen) != 0 || p[nlen] != '=')
            continue;
        const char *v = p + nlen + 1;
        size_t len;
        if (*v == '"') {
            const char *close = strchr(v + 1, '"');
            if (!close)
                return false;
            v++;
            len = (size_t)(close - v);
        } else {
            len = strcspn(v, "; \t");
        }
        if (len == 0 || len >= size)
            return false;
        memcpy(out, v, len);
        out[len] = '\0';
        return true;
    }
    return false;
}

static bool boundary_valid(const char *b)
{
    size_t n = strlen(b);
    if (n < 1 || n > MULTIPART_MAX_BOUNDARY || b[n - 1] == ' ')
        return false;
    for (const char *p = b; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              strchr("'()+_,-./:=? ", *p)))
            return false;
    return true;
}

/* A part's header block [p, end): Content-Disposition: form-data with a
 * name; other headers (Content-Type) are allowed and not used. */
static bool part_headers(const char *p, const char *end, struct multipart_part *part,
                         struct api_error *e)
{
    bool disposition = false;
    while (p < end) {
        const char *eol = memmem(p, (size_t)(end - p), "\r\n", 2);
        if (!eol)
            eol = end;
        char line[512];
        size_t n = (size_t)(eol - p);
        if (n >= sizeof line)
            return err_invalid(e, "body", "a part's header line is too long");
        memcpy(line, p, n);
        line[n] = '\0';
        if (strlen(line) != n)
            return err_invalid(e, "body", "a part's header holds a NUL character");
        static const char cd[] = "Content-Disposition:";
        if (strncasecmp(line, cd, sizeof cd - 1) == 0) {
            const char *v = line + sizeof cd - 1;
            while (*v == ' ')
                v++;
            if (disposition || strncasecmp(v, "form-data", 9) != 0 ||
                !header_param(v, "name", part->name, sizeof part->name))
                return err_invalid(e, "body",
                                   "each part needs one Content-Disposition: form-data with a "
                                   "name (of at most %d characters)",
                                   MULTIPART_MAX_NAME);
            char filename[256];
            part->has_filename = header_param(v, "filename", filename, sizeof filename);
            disposition = true;
        } else if (!strchr(line, ':')) {
            return err_invalid(e, "body", "a part's header line is malformed");
        }
        p = eol + 2;
    }
    if (!disposition)
        return err_invalid(e, "body", "a part has no Content-Disposition header");
    return true;
}

bool multipart_parse(const char *content_type, const char *body, size_t len,
                     struct multipart_part *parts, size_t *n, struct api_error *e)
{
    char boundary[MULTIPART_MAX_BOUNDARY + 2];
    *n = 0;
    if (!multipart_is_form_data(content_type) ||
        !header_param(content_type, "boundary", boundary, sizeof boundary) ||
        !boundary_valid(boundary))
        return err_invalid(e, "Content-Type",
                           "send the body as Content-Type: multipart/form-data with a boundary "
                           "of 1 to %d characters",
                           MULTIPART_MAX_BOUNDARY);
    char delim[MULTIPART_MAX_BOUNDARY + 5];
    int dlen = snprintf(delim, sizeof delim, "\r\n--%s", boundary);
    /* The first delimiter opens the body (its CRLF is the body's start). */
    if (len < (size_t)dlen - 2 || memcmp(body, delim + 2, (size_t)dlen - 2) != 0)
        return err_invalid(e, "body", "the multipart body does not begin with its boundary");
    const char *p = body + dlen - 2, *end = body + len;
    for (;;) {
        if (end - p >= 2 && memcmp(p, "--", 2) == 0)
            break; /* the closing delimiter; an epilogue after it is ignored */
        if (end - p < 2 || memcmp(p, "\r\n", 2) != 0)
            return err_invalid(e, "body",
                               "a multipart boundary is followed by neither a line "
                               "break nor --");
        p += 2;
        if (*n >= MULTIPART_MAX_PARTS)
            return err_invalid(e, "body", "the body has more than %d parts", MULTIPART_MAX_PARTS);
        struct multipart_part *part = &parts[*n];
        memset(part, 0, sizeof *part);
        const char *blank = memmem(p, (size_t)(end - p), "\r\n\r\n", 4);
        const char *next = memmem(p, (size_t)(end - p), delim, (size_t)dlen);
        if (!next)
            return err_invalid(e, "body",
                               "the multipart body is not terminated (no closing "
                               "boundary)");
        /* The blank line must end before the next delimiter begins: in
         * "\r\n\r\n--B" the two overlap, and the part would end before it
         * starts. */
        if (!blank || blank + 4 > next)
            return err_invalid(e, "body", "a part's headers do not end with a blank line");
        if (!part_headers(p, blank, part, e))
            return false;
        part->data = blank + 4;
        part->len = (size_t)(next - part->data);
        (*n)++;
        p = next + dlen;
    }
    return true;
}
