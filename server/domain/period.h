/*
 * Calendar buckets of the trend engine: day, ISO week (Monday first),
 * month, quarter, half and year. Days are counted from 1970-01-01 (see
 * util/dates.h).
 */
#ifndef CIVCAS_PERIOD_H
#define CIVCAS_PERIOD_H

#include <stdbool.h>

enum period_kind { PERIOD_DAY, PERIOD_WEEK, PERIOD_MONTH, PERIOD_QUARTER, PERIOD_HALF, PERIOD_YEAR };

bool period_kind_parse(const char *s, enum period_kind *out);
const char *period_kind_name(enum period_kind k);
/* The first day of the bucket holding day. */
long period_start(enum period_kind k, long day);
/* The first day of the bucket after the one starting at start. */
long period_next(enum period_kind k, long start);
/* "2026-03-14", "2020-W53", "2026-03", "2026-Q1", "2026-H1", "2026". */
void period_label(enum period_kind k, long start, char out[16]);
/* Buckets overlapping [from, to]. */
long period_count(enum period_kind k, long from, long to);

#endif
