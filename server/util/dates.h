/*
 * Calendar arithmetic on proleptic Gregorian days (days since 1970-01-01)
 * and strict parsing of the date and time forms of the API.
 */
#ifndef CIVCAS_DATES_H
#define CIVCAS_DATES_H

#include <stdbool.h>

long days_from_civil(int y, int m, int d);
void civil_from_days(long days, int *y, int *m, int *d);
int days_in_month(int y, int m);

/* Exactly "YYYY-MM-DD", a real calendar day, year 1000..9999. */
bool date_parse(const char *s, long *days);
/* out needs 11 bytes. */
void date_format(long days, char *out);
/* The calendar day now at UTC offset hours (e.g. +14 for the earliest zone). */
long date_today_at_offset(int hours);

/* The same calendar date n years earlier; 29 February becomes 28 February. */
long date_minus_years(long days, int n);

/* Exactly "HH:MM", 00:00..23:59; minutes since midnight. */
bool time_of_day_parse(const char *s, int *minutes);

/* RFC 3339 date-time with a zone ("2026-03-14T09:12:33Z",
 * "...33.5+04:30"). Checks form and ranges only. */
bool timestamp_valid(const char *s);
/* A timestamp_valid() string as whole seconds since 1970-01-01T00:00:00Z
 * (the fraction dropped). */
bool timestamp_parse(const char *s, long long *seconds);

/* HTTP dates (RFC 9110 section 5.6.7). date_http_format writes seconds
 * since 1970 (UTC) as an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT";
 * out needs DATE_HTTP_LEN + 1 bytes, and the year must lie in 1000..9999.
 * date_http_parse reads any of the three forms a recipient must accept
 * (IMF-fixdate, RFC 850's "Sunday, 06-Nov-94 08:49:37 GMT", asctime's
 * "Sun Nov  6 08:49:37 1994"), the whole string and nothing else; a
 * two-digit year more than 50 years ahead of now_year is of the century
 * before. */
#define DATE_HTTP_LEN 29
void date_http_format(long long seconds, char *out);
bool date_http_parse(const char *s, int now_year, long long *seconds);

#endif
