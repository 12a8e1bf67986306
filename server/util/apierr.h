/*
 * The one error convention: a function that can fail returns bool and fills
 * a struct api_error, which becomes the JSON error body
 * {"error": {"code", "message", "field"?}} with its HTTP status.
 */
#ifndef CIVCAS_APIERR_H
#define CIVCAS_APIERR_H

#include <jansson.h>
#include <stdbool.h>

#define ERR_MALFORMED_JSON "malformed_json"
#define ERR_INVALID_FIELD "invalid_field"
#define ERR_UNKNOWN_FIELD "unknown_field"
#define ERR_MISSING_FIELD "missing_field"
#define ERR_UNKNOWN_CODE "unknown_code"
#define ERR_NOT_FOUND "not_found"
#define ERR_UNAUTHORIZED "unauthorized"
#define ERR_FORBIDDEN "forbidden"
#define ERR_CONFLICT "conflict"
#define ERR_PRECONDITION_FAILED "precondition_failed"
#define ERR_PRECONDITION_REQUIRED "precondition_required"
#define ERR_PAYLOAD_TOO_LARGE "payload_too_large"
#define ERR_UNSUPPORTED_MEDIA_TYPE "unsupported_media_type"
#define ERR_METHOD_NOT_ALLOWED "method_not_allowed"
#define ERR_RATE_LIMITED "rate_limited"
#define ERR_UNAVAILABLE "unavailable"
#define ERR_INTERNAL "internal"

/* Why a value was refused, for a caller that words the message itself
 * (jsonv's getters set it; every other error is ERR_REASON_OTHER). */
enum err_reason {
    ERR_REASON_OTHER = 0,
    ERR_REASON_MISSING,  /* required and absent */
    ERR_REASON_NULL,     /* required and null */
    ERR_REASON_TYPE,     /* of the wrong JSON type */
    ERR_REASON_NUL,      /* a string with a NUL character */
    ERR_REASON_EMPTY,    /* shorter than its minimum */
    ERR_REASON_TOO_LONG, /* longer than its maximum */
    ERR_REASON_RANGE,    /* a number out of range */
    ERR_REASON_CHOICE,   /* not one of the allowed values */
};

struct api_error {
    int status;       /* HTTP status; 0 while unset */
    const char *code; /* one of ERR_* (static) */
    enum err_reason reason;
    char field[160]; /* empty when no single input is at fault */
    char message[400];
};

/* Sets every member; field may be NULL. Returns false, so a validator can
 * `return api_error_set(...)`. */
bool api_error_set(struct api_error *e, int status, const char *code, const char *field,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Shorthands for the common 400s. */
bool err_invalid(struct api_error *e, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
bool err_missing(struct api_error *e, const char *field);
bool err_internal(struct api_error *e);
bool err_unavailable(struct api_error *e);

/* New reference: {"error": {...}}. */
json_t *api_error_json(const struct api_error *e);

#endif
