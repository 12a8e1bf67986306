/*
 * Public data: trends and reports for anyone, answered only from the
 * public releases (reports/release.h): verified incidents, whole calendar
 * periods, the coarse dimensions one at a time, and the same withheld
 * counts in every answer.
 */
#ifndef CIVCAS_PUBLIC_H
#define CIVCAS_PUBLIC_H

#include <jansson.h>
#include <stdbool.h>

#include "store/db.h"
#include "trends/trend.h"

/* The parameters of GET /v1/public/trends. */
extern const char *const public_trend_params[];
/* The earliest year a public answer covers (the releases before it are
 * empty: no incident is dated earlier). */
#define PUBLIC_FIRST_YEAR 1900

/* trend_parse's getter for the public route: from and to default to the
 * current calendar year. ctx is the route's own getter and its context. */
struct public_params {
    param_fn get;
    void *ctx;
    char from[11], to[11];
};
const char *public_param(void *ctx, const char *name);

/* What a public trend may ask on top of trend_parse's rules: month or
 * coarser, whole buckets, at most one public dimension, filters of one
 * code that select rows of that dimension (or a region's provinces). */
bool public_trend_check(const struct trend_query *q, struct api_error *e);

/* The public answer of q (checked) from the releases of its years. New
 * reference, or NULL with e set. */
json_t *public_trend_answer(struct db_conn *c, const struct trend_query *q,
                            const struct taxonomy *t, long long k, struct api_error *e);

/* The public form of a published report (its "report" member) from the
 * releases of now, or NULL with e set: 422 when its period is not one
 * calendar month, quarter, half or year or it counts anything but verified
 * incidents; 409 when its figures are no longer the current ones. New
 * reference. */
json_t *public_report_build(struct db_conn *c, json_t *report, const struct taxonomy *t,
                            long long k, struct api_error *e);

#endif
