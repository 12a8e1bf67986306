/*
 * A trend result as clients receive it: the JSON answer of GET /v1/trends,
 * CSV and HXL; and the pieces of it the report tables reuse.
 */
#ifndef CIVCAS_TREND_RENDER_H
#define CIVCAS_TREND_RENDER_H

#include <jansson.h>

#include "domain/taxonomy.h"
#include "trends/trend.h"
#include "util/buf.h"

/* The JSON answer of GET /v1/trends (new reference); labels from t. */
json_t *trend_result_json(const struct trend_query *q, const struct trend_result *r,
                          const struct taxonomy *t);
/* The same figures as CSV, or HXL (q->format), without the comparison. */
void trend_result_csv(const struct trend_query *q, const struct trend_result *r,
                      const struct taxonomy *t, struct buf *out);

/* The series' key as {dimension name: code or null}. New reference. */
json_t *trend_series_key_json(const struct trend_query *q, const struct trend_series *s);

/* One figure as answers write it: the count, or with range
 * {"low", "best", "high"}. Trends, reports and public answers share it.
 * New reference. */
json_t *trend_figure_json(bool range, long long best, long long low, long long high);

/* part / whole x 100, rounded half away from zero to one decimal; JSON
 * null when whole is 0. Shares and changes of reports use it too. */
json_t *trend_pct(long long part, long long whole);

/* The "query" member of an answer: q as the server understood it. New
 * reference. */
json_t *trend_query_json(const struct trend_query *q);

#endif
