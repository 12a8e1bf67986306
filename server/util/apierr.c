/* Error values that become JSON error bodies. */
#include "util/apierr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void set_field(struct api_error *e, const char *field)
{
    if (field)
        snprintf(e->field, sizeof e->field, "%s", field);
    else
        e->field[0] = '\0';
}

bool api_error_set(struct api_error *e, int status, const char *code, const char *field,
                   const char *fmt, ...)
{
    e->status = status;
    e->code = code;
    e->reason = ERR_REASON_OTHER;
    set_field(e, field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return false;
}

bool err_invalid(struct api_error *e, const char *field, const char *fmt, ...)
{
    e->status = 400;
    e->code = ERR_INVALID_FIELD;
    e->reason = ERR_REASON_OTHER;
    set_field(e, field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
    return false;
}

bool err_missing(struct api_error *e, const char *field)
{
    return api_error_set(e, 400, ERR_MISSING_FIELD, field, "%s is required", field);
}

bool err_internal(struct api_error *e)
{
    return api_error_set(e, 500, ERR_INTERNAL, NULL, "internal error; the request id identifies it in the log");
}

bool err_unavailable(struct api_error *e)
{
    return api_error_set(e, 503, ERR_UNAVAILABLE, NULL, "database unavailable; retry shortly");
}

json_t *api_error_json(const struct api_error *e)
{
    json_t *inner = json_object();
    json_object_set_new(inner, "code", json_string(e->code ? e->code : ERR_INTERNAL));
    /* Messages may quote client text cut at a byte limit: keep them valid. */
    json_t *msg = json_string(e->message);
    if (!msg)
        msg = json_string("invalid input");
    json_object_set_new(inner, "message", msg);
    if (e->field[0]) {
        json_t *f = json_string(e->field);
        if (f)
            json_object_set_new(inner, "field", f);
    }
    json_t *outer = json_object();
    json_object_set_new(outer, "error", inner);
    return outer;
}
