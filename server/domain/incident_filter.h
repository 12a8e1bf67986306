/*
 * The incident listing's filter: the query of GET /v1/incidents (dates,
 * code lists, the change feed's timestamp, limit, keyset cursor) checked
 * against the taxonomy, and the opaque cursors the listing gives out.
 */
#ifndef CIVCAS_INCIDENT_FILTER_H
#define CIVCAS_INCIDENT_FILTER_H

#include <stdbool.h>
#include <stddef.h>

#include "domain/taxonomy.h"
#include "util/apierr.h"
#include "util/params.h"

#define INCIDENT_LIST_DEFAULT 50
#define INCIDENT_LIST_MAX 1000

struct incident_filter {
    const char *from, *to;                                       /* YYYY-MM-DD or NULL */
    const char *admin1, *admin2, *tactic, *perpetrator, *status; /* comma lists or NULL */
    const char *changed_since;                                   /* RFC 3339 or NULL */
    long long owner; /* > 0: only this key's incidents */
    long limit;
    /* Keyset position after which to continue. */
    bool has_cursor;
    char cursor_a[24]; /* occurred_on date, or change xid */
    long long cursor_id;
};

/* The names the listing takes, NULL-terminated. */
extern const char *const incident_filter_params[];

/* The query as a filter, in two halves so that a bad limit is a 400 even
 * when the taxonomy cannot be had: _scalars checks limit (1..1000,
 * default 50), from, to and changed_since, and sets owner (> 0 limits the
 * listing to that key's incidents); _codes then checks the code lists
 * against t and the cursor. f borrows get's strings; on failure e names
 * the parameter at fault. */
bool incident_filter_parse_scalars(param_fn get, void *ctx, long long owner,
                                   struct incident_filter *f, struct api_error *e);
bool incident_filter_parse_codes(param_fn get, void *ctx, const struct taxonomy *t,
                                 struct incident_filter *f, struct api_error *e);
/* Both halves. */
bool incident_filter_parse(param_fn get, void *ctx, const struct taxonomy *t, long long owner,
                           struct incident_filter *f, struct api_error *e);

/* The opaque cursor after a row at keyset position (a date, or the change
 * feed's transaction id when by_change) with id. */
void incident_cursor_encode(bool by_change, const char *position, long long id, char *out,
                            size_t size);

#endif
