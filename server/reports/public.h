/*
 * Public data: trends and published reports with small cells withheld
 * (see suppress.h), verified incidents only, coarse dimensions only.
 */
#ifndef CIVCAS_PUBLIC_H
#define CIVCAS_PUBLIC_H

#include <jansson.h>
#include <stdbool.h>

#include "trends/trend.h"

extern const char *const public_trend_params[];

/* Extra limits of a public trend query on top of trend_parse's. */
bool public_trend_check(const struct trend_query *q, struct api_error *e);

/* The public JSON answer of a trend result: small counts withheld (null)
 * and a "suppression" member listing them. New reference. */
json_t *public_trend_json(const struct trend_query *q, const struct trend_result *r,
                          const struct taxonomy *t, long long k);

/* The public version (new reference) of a published report: the tables
 * that partition the headline, with small counts withheld. */
json_t *public_report(json_t *report, long long k);

#endif
