/* Unit tests of util/dates: civil-day arithmetic and the strict parsers. */
#include <check.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "unit.h"
#include "util/dates.h"

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* ---- arithmetic ---- */

START_TEST(known_days)
{
    ck_assert_int_eq(days_from_civil(1970, 1, 1), 0);
    ck_assert_int_eq(days_from_civil(1969, 12, 31), -1);
    ck_assert_int_eq(days_from_civil(1970, 1, 2), 1);
    ck_assert_int_eq(days_from_civil(1900, 1, 1), -25567);
    ck_assert_int_eq(days_from_civil(2000, 3, 1), 11017);
    ck_assert_int_eq(days_from_civil(2024, 2, 29), 19782);
    ck_assert_int_eq(days_from_civil(2100, 12, 31), 47846);

    int y, m, d;
    civil_from_days(0, &y, &m, &d);
    ck_assert(y == 1970 && m == 1 && d == 1);
    civil_from_days(-1, &y, &m, &d);
    ck_assert(y == 1969 && m == 12 && d == 31);
    civil_from_days(-25567, &y, &m, &d);
    ck_assert(y == 1900 && m == 1 && d == 1);
    civil_from_days(19782, &y, &m, &d);
    ck_assert(y == 2024 && m == 2 && d == 29);
}
END_TEST

/* Every day of 1900..2100 against a plain day counter. (Plain comparisons in
 * the loop: a Check assertion per day would be too slow.) */
START_TEST(round_trip_1900_2100)
{
    long expected = days_from_civil(1900, 1, 1);
    char failure[200] = "";
    long checked = 0;
    for (int y = 1900; y <= 2100 && !failure[0]; y++) {
        for (int m = 1; m <= 12 && !failure[0]; m++) {
            for (int d = 1; d <= days_in_month(y, m) && !failure[0]; d++) {
                long days = days_from_civil(y, m, d);
                int yy, mm, dd;
                civil_from_days(days, &yy, &mm, &dd);
                char text[11], want[40];
                date_format(days, text);
                snprintf(want, sizeof want, "%04d-%02d-%02d", y, m, d);
                long parsed = 0;
                bool ok = date_parse(want, &parsed);
                if (days != expected || yy != y || mm != m || dd != d || strcmp(text, want) != 0 ||
                    !ok || parsed != days)
                    snprintf(failure, sizeof failure,
                             "%s: days %ld (expected %ld), back %04d-%02d-%02d, format %s, "
                             "parse %d %ld",
                             want, days, expected, yy, mm, dd, text, ok, parsed);
                expected++;
                checked++;
            }
        }
    }
    ck_assert_msg(failure[0] == '\0', "%s", failure);
    ck_assert_int_eq(checked, 73414);
    ck_assert_int_eq(expected, days_from_civil(2101, 1, 1));
}
END_TEST

START_TEST(leap_years)
{
    ck_assert_int_eq(days_in_month(2024, 2), 29);
    ck_assert_int_eq(days_in_month(2000, 2), 29);
    ck_assert_int_eq(days_in_month(1900, 2), 28);
    ck_assert_int_eq(days_in_month(2100, 2), 28);
    ck_assert_int_eq(days_in_month(2023, 2), 28);
    ck_assert_int_eq(days_in_month(2025, 2), 28);
    ck_assert_int_eq(days_in_month(2024, 1), 31);
    ck_assert_int_eq(days_in_month(2024, 4), 30);
    ck_assert_int_eq(days_in_month(2024, 12), 31);
    for (int y = 1900; y <= 2100; y++) {
        long len = days_from_civil(y + 1, 1, 1) - days_from_civil(y, 1, 1);
        ck_assert_int_eq(len, is_leap(y) ? 366 : 365);
        ck_assert_int_eq(days_in_month(y, 2), is_leap(y) ? 29 : 28);
    }
    /* The day after 28 February. */
    ck_assert_int_eq(days_from_civil(2024, 3, 1) - days_from_civil(2024, 2, 28), 2);
    ck_assert_int_eq(days_from_civil(2100, 3, 1) - days_from_civil(2100, 2, 28), 1);
    ck_assert_int_eq(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28), 2);
}
END_TEST

/* ---- date_parse ---- */

START_TEST(date_parse_valid)
{
    long days = 0;
    ck_assert(date_parse("2024-02-29", &days));
    ck_assert_int_eq(days, 19782);
    ck_assert(date_parse("2000-02-29", &days));
    ck_assert(date_parse("1900-01-01", &days));
    ck_assert_int_eq(days, -25567);
    ck_assert(date_parse("1970-01-01", &days));
    ck_assert_int_eq(days, 0);
    ck_assert(date_parse("2026-12-31", &days));
    ck_assert(date_parse("1000-01-01", &days));
    ck_assert(date_parse("9999-12-31", &days));
}
END_TEST

START_TEST(date_parse_invalid)
{
    static const char *const bad[] = {
        "2026-02-30",
        "2025-02-29",
        "1900-02-29",
        "2100-02-29",
        "2024-04-31",
        "2024-06-31",
        "2024-01-32",
        "2024-00-10",
        "2024-13-01",
        "2024-01-00",
        "0999-12-31",
        "0000-01-01",
        "2024-1-1",
        "2024-1-01",
        "2024-01-1",
        "24-01-01",
        "20240101",
        "2024/01/01",
        "2024-01-01 ",
        " 2024-01-01",
        "2024-01-01T00:00:00Z",
        "2024-01-0a",
        "2024-0a-01",
        "+024-01-01",
        "-024-01-01",
        "2024-+1-01",
        "2024- 1-01",
        "2024--1-01",
        "",
        "2024",
        "2024-01",
        "abcd-ef-gh",
        "2024_01_01",
        "12024-01-01",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long days = 12345;
        ck_assert_msg(!date_parse(bad[i], &days), "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(days, 12345);
    }
}
END_TEST

START_TEST(date_format_pads)
{
    char out[11];
    date_format(days_from_civil(1000, 1, 1), out);
    ck_assert_str_eq(out, "1000-01-01");
    date_format(days_from_civil(2024, 3, 5), out);
    ck_assert_str_eq(out, "2024-03-05");
    date_format(-25567, out);
    ck_assert_str_eq(out, "1900-01-01");
}
END_TEST

START_TEST(today_at_offset)
{
    time_t before = time(NULL);
    long t0 = date_today_at_offset(0);
    long t14 = date_today_at_offset(14);
    long tm12 = date_today_at_offset(-12);
    time_t after = time(NULL);
    ck_assert(t0 >= (long)(before / 86400) && t0 <= (long)(after / 86400));
    ck_assert(t14 >= t0 && t14 <= t0 + 1);
    ck_assert(tm12 <= t0 && tm12 >= t0 - 1);
    ck_assert(t14 - tm12 >= 1 && t14 - tm12 <= 2);
    /* Consistent with +14 hours of wall time. */
    ck_assert(t14 >= (long)((before + 14 * 3600) / 86400) &&
              t14 <= (long)((after + 14 * 3600) / 86400));
}
END_TEST

/* ---- time_of_day_parse ---- */

START_TEST(time_of_day)
{
    int min = -1;
    ck_assert(time_of_day_parse("00:00", &min));
    ck_assert_int_eq(min, 0);
    ck_assert(time_of_day_parse("23:59", &min));
    ck_assert_int_eq(min, 23 * 60 + 59);
    ck_assert(time_of_day_parse("09:30", &min));
    ck_assert_int_eq(min, 570);
    ck_assert(time_of_day_parse("12:00", &min));
    ck_assert_int_eq(min, 720);

    static const char *const bad[] = {
        "24:00",  "23:60",  "99:99", "9:30",     "09:3",  "09:300", "0930",
        "09-30",  "09.30",  "",      " 9:30",    "+9:30", "-1:00",  "09: 3",
        "09:30Z", "09:30 ", "ab:cd", "09:30:00", "9:5",   "1:234",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        min = 4242;
        ck_assert_msg(!time_of_day_parse(bad[i], &min), "accepted \"%s\"", bad[i]);
        ck_assert_int_eq(min, 4242);
    }
}
END_TEST

/* ---- timestamp_valid ---- */

START_TEST(timestamps_valid)
{
    static const char *const good[] = {
        "2026-03-14T09:12:33Z",
        "2026-03-14T09:12:33.123456Z",
        "2026-03-14T09:12:33.5Z",
        "2026-03-14T09:12:33.5+04:30",
        "2026-03-14T09:12:33-05:00",
        "2026-03-14T00:00:00+00:00",
        "2026-03-14T23:59:59-23:59",
        "2024-02-29T12:00:00Z",
        "2026-03-14t09:12:33z",
        /* RFC 3339 puts no limit on the digits of a fraction (Go's
         * RFC3339Nano writes 9). */
        "2026-03-14T09:12:33.123456789Z",
        "2026-03-14T09:12:33.1234567+05:30",
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        ck_assert_msg(timestamp_valid(good[i]), "refused \"%s\"", good[i]);
}
END_TEST

START_TEST(timestamps_invalid)
{
    static const char *const bad[] = {
        "",
        "2026-03-14",
        "2026-03-14T09:12:33",  /* no zone */
        "2026-03-14T09:12Z",    /* no seconds */
        "2026-03-14 09:12:33Z", /* space */
        "2026-03-14T24:00:00Z",
        "2026-03-14T09:60:00Z",
        "2026-02-30T09:12:33Z", /* no such day */
        "2025-02-29T09:12:33Z",
        "2026-3-14T09:12:33Z",
        "2026-03-14T9:12:33Z",
        "2026-03-14T09:12:33.Z",    /* empty fraction */
        "2026-03-14T09:12:33+0430", /* offset without colon */
        "2026-03-14T09:12:33+04",
        "2026-03-14T09:12:33+24:00",
        "2026-03-14T09:12:33+04:60",
        "2026-03-14T09:12:33Z ",
        " 2026-03-14T09:12:33Z",
        "2026-03-14T09:12:33ZZ",
        "2026-03-14T09:12:33UTC",
        "2026-03-14T09:12:33+04:30x",
        "2026-03-14T09:12:33.12a4Z",
        "2026-03-14T09:12:33,5Z",
        "not a timestamp at all!",
        "2026-03-14X09:12:33Z",
        "0999-03-14T09:12:33Z",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(!timestamp_valid(bad[i]), "accepted \"%s\"", bad[i]);
}
END_TEST

/* ---- HTTP dates ---- */

/* RFC 9110's example, 1994-11-06T08:49:37Z. */
#define RFC_EXAMPLE 784111777LL

START_TEST(http_date_format_known)
{
    char out[DATE_HTTP_LEN + 1];
    date_http_format(RFC_EXAMPLE, out);
    ck_assert_str_eq(out, "Sun, 06 Nov 1994 08:49:37 GMT");
    date_http_format(0, out);
    ck_assert_str_eq(out, "Thu, 01 Jan 1970 00:00:00 GMT");
    date_http_format(-1, out);
    ck_assert_str_eq(out, "Wed, 31 Dec 1969 23:59:59 GMT");
    date_http_format(1709164800LL, out); /* 2024-02-29 */
    ck_assert_str_eq(out, "Thu, 29 Feb 2024 00:00:00 GMT");
    ck_assert_uint_eq(strlen(out), DATE_HTTP_LEN);
}
END_TEST

START_TEST(http_date_parse_three_forms)
{
    const char *forms[] = {"Sun, 06 Nov 1994 08:49:37 GMT", "Sunday, 06-Nov-94 08:49:37 GMT",
                           "Sun Nov  6 08:49:37 1994", "Sun Nov 06 08:49:37 1994"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        long long t = 0;
        ck_assert_msg(date_http_parse(forms[i], 2026, &t), "refused \"%s\"", forms[i]);
        ck_assert_msg(t == RFC_EXAMPLE, "\"%s\" -> %lld", forms[i], t);
    }
    /* RFC 850's two-digit year: at most 50 years ahead, else a century back. */
    long long t = 0;
    ck_assert(date_http_parse("Friday, 01-Jan-99 00:00:00 GMT", 2026, &t));
    ck_assert(t == 915148800LL);
    ck_assert(date_http_parse("Thursday, 01-Jan-76 00:00:00 GMT", 2026, &t));
    ck_assert(t == 3345062400LL); /* 2076-01-01: 50 years ahead at most */
    ck_assert(date_http_parse("Tuesday, 01-Jan-36 00:00:00 GMT", 2026, &t));
    char out[DATE_HTTP_LEN + 1];
    date_http_format(t, out);
    ck_assert_str_eq(out, "Tue, 01 Jan 2036 00:00:00 GMT");
}
END_TEST

START_TEST(http_date_round_trip)
{
    char out[DATE_HTTP_LEN + 1];
    for (long long t = -2208988800LL; t < 4102444800LL; t += 86399LL * 37 + 13) {
        long long back = -1;
        date_http_format(t, out);
        ck_assert_msg(date_http_parse(out, 2026, &back) && back == t, "%lld -> %s -> %lld", t,
                      out, back);
    }
}
END_TEST

START_TEST(http_date_parse_invalid)
{
    const char *bad[] = {
        "",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 GMT ",
        " Sun, 06 Nov 1994 08:49:37 GMT",
        "sun, 06 Nov 1994 08:49:37 GMT",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun, 31 Nov 1994 08:49:37 GMT",
        "Sun, 29 Feb 1993 08:49:37 GMT",
        "Sun, 06 Now 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 24:00:00 GMT",
        "Sun, 06 Nov 1994 08:60:37 GMT",
        "Sun, 06 Nov 0994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49 GMT",
        "Sunday, 06-Nov-1994 08:49:37 GMT",
        "Sun, 06-Nov-94 08:49:37 GMT",
        "Sundae, 06-Nov-94 08:49:37 GMT",
        "Sun Nov  6 08:49:37 94",
        "Sun Nov 6 08:49:37 1994",
        "Sun Nov  6 08:49:37 1994 ",
        "1994-11-06T08:49:37Z",
        "784111777",
        "-1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        long long t;
        ck_assert_msg(!date_http_parse(bad[i], 2026, &t), "accepted \"%s\"", bad[i]);
    }
}
END_TEST

Suite *suite_dates(void)
{
    Suite *s = suite_create("dates");
    TCase *tc = tcase_create("arithmetic");
    tcase_add_test(tc, known_days);
    tcase_add_test(tc, round_trip_1900_2100);
    tcase_add_test(tc, leap_years);
    tcase_add_test(tc, date_format_pads);
    tcase_add_test(tc, today_at_offset);
    suite_add_tcase(s, tc);

    tc = tcase_create("date_parse");
    tcase_add_test(tc, date_parse_valid);
    tcase_add_test(tc, date_parse_invalid);
    suite_add_tcase(s, tc);

    tc = tcase_create("time_of_day");
    tcase_add_test(tc, time_of_day);
    suite_add_tcase(s, tc);

    tc = tcase_create("timestamp");
    tcase_add_test(tc, timestamps_valid);
    tcase_add_test(tc, timestamps_invalid);
    suite_add_tcase(s, tc);

    tc = tcase_create("http_date");
    tcase_add_test(tc, http_date_format_known);
    tcase_add_test(tc, http_date_parse_three_forms);
    tcase_add_test(tc, http_date_round_trip);
    tcase_add_test(tc, http_date_parse_invalid);
    suite_add_tcase(s, tc);
    return s;
}
