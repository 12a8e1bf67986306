/* Unit tests of domain/period: trend buckets checked against a day-by-day
 * calendar walk that keeps its own ISO week counter. */
#include <check.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/period.h"
#include "unit.h"
#include "util/dates.h"

#define NKINDS 6

static const enum period_kind KINDS[NKINDS] = {PERIOD_DAY,     PERIOD_WEEK, PERIOD_MONTH,
                                               PERIOD_QUARTER, PERIOD_HALF, PERIOD_YEAR};
static const char *const KIND_NAMES[NKINDS] = {"day", "week", "month", "quarter", "half", "year"};

static long day_of(int y, int m, int d)
{
    return days_from_civil(y, m, d);
}

/* The day of a "YYYY-MM-DD" of the tables below. */
static long day_iso(const char *date)
{
    long day;
    ck_assert_msg(date_parse(date, &day), "not a date: %s", date);
    return day;
}

static const char *label_of(enum period_kind k, long day)
{
    static char out[16];
    memset(out, 'x', sizeof out);
    period_label(k, period_start(k, day), out);
    return out;
}

/* ---- names ---- */

START_TEST(kind_names)
{
    for (int i = 0; i < NKINDS; i++) {
        enum period_kind k = PERIOD_YEAR;
        ck_assert_msg(period_kind_parse(KIND_NAMES[i], &k), "rejected %s", KIND_NAMES[i]);
        ck_assert_int_eq(k, KINDS[i]);
        ck_assert_str_eq(period_kind_name(KINDS[i]), KIND_NAMES[i]);
    }
    static const char *const bad[] = {
        "",       "Day",    "DAY",    "days",    "daily",     "weekly", "weeks",    "isoweek",
        "month ", " month", "months", "monthly", "quarterly", "q",      "halfyear", "half-year",
        "h",      "y",      "years",  "annual",  "month\n",   "dayx",   "da",       "yearly",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        enum period_kind k = PERIOD_DAY;
        ck_assert_msg(!period_kind_parse(bad[i], &k), "accepted \"%s\"", bad[i]);
    }
}
END_TEST

/* ---- known dates ---- */

START_TEST(iso_weeks_across_year_ends)
{
    static const struct {
        const char *date, *label, *monday; /* the Monday the week starts on */
    } cases[] = {
        {"2020-12-31", "2020-W53", "2020-12-28"}, {"2021-01-01", "2020-W53", "2020-12-28"},
        {"2021-01-03", "2020-W53", "2020-12-28"}, {"2021-01-04", "2021-W01", "2021-01-04"},
        {"2021-01-10", "2021-W01", "2021-01-04"}, {"2021-01-11", "2021-W02", "2021-01-11"},
        {"2018-12-31", "2019-W01", "2018-12-31"}, {"2019-01-06", "2019-W01", "2018-12-31"},
        {"2018-12-30", "2018-W52", "2018-12-24"}, {"2015-12-31", "2015-W53", "2015-12-28"},
        {"2016-01-03", "2015-W53", "2015-12-28"}, {"2016-01-04", "2016-W01", "2016-01-04"},
        {"2026-01-01", "2026-W01", "2025-12-29"}, {"2025-12-29", "2026-W01", "2025-12-29"},
        {"2025-12-28", "2025-W52", "2025-12-22"}, {"2026-03-14", "2026-W11", "2026-03-09"},
        {"2024-02-29", "2024-W09", "2024-02-26"}, {"2024-12-30", "2025-W01", "2024-12-30"},
        {"2009-12-31", "2009-W53", "2009-12-28"}, {"2010-01-03", "2009-W53", "2009-12-28"},
        {"2008-12-29", "2009-W01", "2008-12-29"}, {"1900-01-01", "1900-W01", "1900-01-01"},
        {"1969-12-31", "1970-W01", "1969-12-29"}, {"1970-01-01", "1970-W01", "1969-12-29"},
        {"2027-01-03", "2026-W53", "2026-12-28"}, {"2026-12-31", "2026-W53", "2026-12-28"},
        {"9999-12-31", "9999-W52", "9999-12-27"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long day = day_iso(cases[i].date);
        long monday = day_iso(cases[i].monday);
        ck_assert_msg(period_start(PERIOD_WEEK, day) == monday,
                      "%s: week starts on day %ld, expected %ld", cases[i].date,
                      period_start(PERIOD_WEEK, day), monday);
        ck_assert_str_eq(label_of(PERIOD_WEEK, day), cases[i].label);
        /* 1970-01-01 was a Thursday: Mondays are 4 mod 7. */
        ck_assert_int_eq(((monday % 7) + 7) % 7, 4);
        if (monday + 7 <= day_of(9999, 12, 31))
            ck_assert_int_eq(period_next(PERIOD_WEEK, monday), monday + 7);
    }
}
END_TEST

START_TEST(months_quarters_halves_years)
{
    static const struct {
        const char *date, *labels[NKINDS], *starts[NKINDS];
    } cases[] = {
        {"2026-03-14",
         {"2026-03-14", "2026-W11", "2026-03", "2026-Q1", "2026-H1", "2026"},
         {"2026-03-14", "2026-03-09", "2026-03-01", "2026-01-01", "2026-01-01", "2026-01-01"}},
        {"2024-02-29",
         {"2024-02-29", "2024-W09", "2024-02", "2024-Q1", "2024-H1", "2024"},
         {"2024-02-29", "2024-02-26", "2024-02-01", "2024-01-01", "2024-01-01", "2024-01-01"}},
        {"2026-07-01",
         {"2026-07-01", "2026-W27", "2026-07", "2026-Q3", "2026-H2", "2026"},
         {"2026-07-01", "2026-06-29", "2026-07-01", "2026-07-01", "2026-07-01", "2026-01-01"}},
        {"2026-06-30",
         {"2026-06-30", "2026-W27", "2026-06", "2026-Q2", "2026-H1", "2026"},
         {"2026-06-30", "2026-06-29", "2026-06-01", "2026-04-01", "2026-01-01", "2026-01-01"}},
        {"2025-12-31",
         {"2025-12-31", "2026-W01", "2025-12", "2025-Q4", "2025-H2", "2025"},
         {"2025-12-31", "2025-12-29", "2025-12-01", "2025-10-01", "2025-07-01", "2025-01-01"}},
        {"2021-01-03",
         {"2021-01-03", "2020-W53", "2021-01", "2021-Q1", "2021-H1", "2021"},
         {"2021-01-03", "2020-12-28", "2021-01-01", "2021-01-01", "2021-01-01", "2021-01-01"}},
        {"1900-02-28",
         {"1900-02-28", "1900-W09", "1900-02", "1900-Q1", "1900-H1", "1900"},
         {"1900-02-28", "1900-02-26", "1900-02-01", "1900-01-01", "1900-01-01", "1900-01-01"}},
        {"1969-11-30",
         {"1969-11-30", "1969-W48", "1969-11", "1969-Q4", "1969-H2", "1969"},
         {"1969-11-30", "1969-11-24", "1969-11-01", "1969-10-01", "1969-07-01", "1969-01-01"}},
        {"9999-12-31",
         {"9999-12-31", "9999-W52", "9999-12", "9999-Q4", "9999-H2", "9999"},
         {"9999-12-31", "9999-12-27", "9999-12-01", "9999-10-01", "9999-07-01", "9999-01-01"}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long day = day_iso(cases[i].date);
        for (int k = 0; k < NKINDS; k++) {
            long want = day_iso(cases[i].starts[k]);
            ck_assert_msg(period_start(KINDS[k], day) == want, "%s of %s: %ld != %ld",
                          KIND_NAMES[k], cases[i].date, period_start(KINDS[k], day), want);
            ck_assert_str_eq(label_of(KINDS[k], day), cases[i].labels[k]);
        }
    }
}
END_TEST

START_TEST(leap_days)
{
    long feb29 = day_of(2024, 2, 29);
    ck_assert_int_eq(period_start(PERIOD_DAY, feb29), feb29);
    ck_assert_int_eq(period_next(PERIOD_DAY, feb29), day_of(2024, 3, 1));
    ck_assert_int_eq(period_next(PERIOD_DAY, day_of(2024, 2, 28)), feb29);
    ck_assert_int_eq(period_next(PERIOD_DAY, day_of(2023, 2, 28)), day_of(2023, 3, 1));
    ck_assert_int_eq(period_next(PERIOD_MONTH, day_of(2024, 2, 1)), day_of(2024, 3, 1));
    ck_assert_int_eq(period_next(PERIOD_MONTH, day_of(2023, 2, 1)), day_of(2023, 3, 1));
    ck_assert_int_eq(period_next(PERIOD_MONTH, day_of(1900, 2, 1)), day_of(1900, 3, 1));
    ck_assert_int_eq(period_next(PERIOD_MONTH, day_of(2000, 2, 1)), day_of(2000, 3, 1));
    ck_assert_int_eq(period_next(PERIOD_YEAR, day_of(2024, 1, 1)) - day_of(2024, 1, 1), 366);
    ck_assert_int_eq(period_next(PERIOD_YEAR, day_of(2100, 1, 1)) - day_of(2100, 1, 1), 365);
    ck_assert_int_eq(period_next(PERIOD_YEAR, day_of(2000, 1, 1)) - day_of(2000, 1, 1), 366);
    ck_assert_int_eq(period_next(PERIOD_QUARTER, day_of(2024, 1, 1)) - day_of(2024, 1, 1), 91);
    ck_assert_int_eq(period_next(PERIOD_QUARTER, day_of(2023, 1, 1)) - day_of(2023, 1, 1), 90);
    ck_assert_int_eq(period_next(PERIOD_HALF, day_of(2024, 1, 1)) - day_of(2024, 1, 1), 182);
    ck_assert_int_eq(period_next(PERIOD_HALF, day_of(2023, 1, 1)) - day_of(2023, 1, 1), 181);
    ck_assert_int_eq(period_next(PERIOD_HALF, day_of(2024, 7, 1)), day_of(2025, 1, 1));
    ck_assert_int_eq(period_count(PERIOD_DAY, day_of(2024, 2, 1), day_of(2024, 3, 1)), 30);
    ck_assert_int_eq(period_count(PERIOD_DAY, day_of(2023, 2, 1), day_of(2023, 3, 1)), 29);
    ck_assert_int_eq(period_count(PERIOD_DAY, day_of(2024, 1, 1), day_of(2024, 12, 31)), 366);
    ck_assert_int_eq(period_count(PERIOD_MONTH, feb29, feb29), 1);
    ck_assert_int_eq(period_count(PERIOD_WEEK, feb29, feb29), 1);
    ck_assert_int_eq(period_count(PERIOD_MONTH, day_of(2024, 2, 28), day_of(2024, 3, 1)), 2);
    ck_assert_int_eq(period_count(PERIOD_MONTH, day_of(2024, 2, 1), feb29), 1);
}
END_TEST

START_TEST(next_chains)
{
    /* Twelve months, four quarters, two halves, one year from 1 January. */
    long jan1 = day_of(2026, 1, 1);
    long s = jan1;
    for (int i = 0; i < 12; i++)
        s = period_next(PERIOD_MONTH, s);
    ck_assert_int_eq(s, day_of(2027, 1, 1));
    s = jan1;
    for (int i = 0; i < 4; i++)
        s = period_next(PERIOD_QUARTER, s);
    ck_assert_int_eq(s, day_of(2027, 1, 1));
    s = jan1;
    for (int i = 0; i < 2; i++)
        s = period_next(PERIOD_HALF, s);
    ck_assert_int_eq(s, day_of(2027, 1, 1));
    ck_assert_int_eq(period_next(PERIOD_YEAR, jan1), day_of(2027, 1, 1));
    ck_assert_int_eq(period_next(PERIOD_MONTH, day_of(2026, 12, 1)), day_of(2027, 1, 1));
    ck_assert_int_eq(period_next(PERIOD_QUARTER, day_of(2026, 10, 1)), day_of(2027, 1, 1));
    ck_assert_int_eq(period_next(PERIOD_HALF, day_of(2026, 7, 1)), day_of(2027, 1, 1));
    ck_assert_int_eq(period_next(PERIOD_MONTH, day_of(1969, 12, 1)), day_of(1970, 1, 1));
    ck_assert_int_eq(period_next(PERIOD_WEEK, day_of(1969, 12, 29)), day_of(1970, 1, 5));
    ck_assert_int_eq(period_next(PERIOD_DAY, -1), 0);

    /* 2020 has 53 ISO weeks: from 2019-12-30 the 53rd next is 2021-W01. */
    s = day_of(2019, 12, 30);
    ck_assert_str_eq(label_of(PERIOD_WEEK, s), "2020-W01");
    for (int i = 0; i < 53; i++)
        s = period_next(PERIOD_WEEK, s);
    ck_assert_int_eq(s, day_of(2021, 1, 4));
    ck_assert_str_eq(label_of(PERIOD_WEEK, s), "2021-W01");

    /* Every chain stays on bucket starts and strictly increases. */
    for (int k = 0; k < NKINDS; k++) {
        s = period_start(KINDS[k], day_of(1900, 1, 1));
        long n = 0;
        while (s <= day_of(2100, 12, 31)) {
            long next = period_next(KINDS[k], s);
            if (next <= s || period_start(KINDS[k], next) != next ||
                period_start(KINDS[k], next - 1) != s)
                ck_abort_msg("%s: next of %ld is %ld", KIND_NAMES[k], s, next);
            s = next;
            n++;
        }
        /* 10488 Mondays from 1900-01-01 (a Monday) to 2100-12-31. */
        const long want[NKINDS] = {73414, 10488, 201 * 12, 201 * 4, 201 * 2, 201};
        ck_assert_msg(n == want[k], "%s: %ld buckets in 1900..2100, expected %ld", KIND_NAMES[k], n,
                      want[k]);
    }
}
END_TEST

START_TEST(counts_with_partial_buckets)
{
    static const struct {
        enum period_kind k;
        int fy, fm, fd, ty, tm, td;
        long count;
    } cases[] = {
        {PERIOD_DAY, 2026, 3, 14, 2026, 3, 14, 1},
        {PERIOD_DAY, 2025, 12, 31, 2026, 1, 1, 2},
        {PERIOD_WEEK, 2021, 1, 3, 2021, 1, 4, 2},
        {PERIOD_WEEK, 2021, 1, 4, 2021, 1, 10, 1},
        {PERIOD_WEEK, 2021, 1, 4, 2021, 1, 11, 2},
        {PERIOD_WEEK, 2020, 12, 27, 2021, 1, 4, 3},
        {PERIOD_WEEK, 2026, 1, 1, 2026, 12, 31, 53},
        {PERIOD_WEEK, 2025, 1, 1, 2025, 12, 31, 53},
        {PERIOD_WEEK, 2025, 12, 29, 2026, 12, 27, 52},
        {PERIOD_MONTH, 2026, 1, 15, 2026, 3, 2, 3},
        {PERIOD_MONTH, 2026, 1, 31, 2026, 2, 1, 2},
        {PERIOD_MONTH, 2026, 1, 1, 2026, 6, 30, 6},
        {PERIOD_MONTH, 2025, 12, 31, 2026, 1, 1, 2},
        {PERIOD_MONTH, 2023, 1, 1, 2026, 12, 31, 48},
        {PERIOD_QUARTER, 2026, 3, 31, 2026, 4, 1, 2},
        {PERIOD_QUARTER, 2026, 1, 1, 2026, 3, 31, 1},
        {PERIOD_QUARTER, 2025, 11, 15, 2026, 2, 15, 2},
        {PERIOD_QUARTER, 2025, 9, 30, 2026, 4, 1, 4},
        {PERIOD_HALF, 2026, 6, 30, 2026, 7, 1, 2},
        {PERIOD_HALF, 2026, 1, 1, 2026, 6, 30, 1},
        {PERIOD_HALF, 2024, 2, 29, 2026, 2, 28, 5},
        {PERIOD_YEAR, 2019, 12, 31, 2020, 1, 1, 2},
        {PERIOD_YEAR, 2020, 1, 1, 2020, 12, 31, 1},
        {PERIOD_YEAR, 1900, 1, 1, 9999, 12, 31, 8100},
        {PERIOD_YEAR, 9000, 1, 1, 9999, 12, 31, 1000},
        {PERIOD_DAY, 1900, 1, 1, 1900, 12, 31, 365},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        long from = day_of(cases[i].fy, cases[i].fm, cases[i].fd);
        long to = day_of(cases[i].ty, cases[i].tm, cases[i].td);
        long got = period_count(cases[i].k, from, to);
        ck_assert_msg(got == cases[i].count, "%s %04d-%02d-%02d..%04d-%02d-%02d: %ld, expected %ld",
                      period_kind_name(cases[i].k), cases[i].fy, cases[i].fm, cases[i].fd,
                      cases[i].ty, cases[i].tm, cases[i].td, got, cases[i].count);
    }
}
END_TEST

/* ---- the calendar walk ---- */

static bool leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int y, int m)
{
    static const int len[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && leap(y) ? 29 : len[m - 1];
}

/* Walks every day of 1900-01-01 .. 2100-12-31 with a calendar of its own
 * (year, month, day, weekday, ISO year and week, each advanced by one day
 * at a time) and checks each day's bucket start, each bucket's label and
 * period_next chain. Bucket ordinals per day are kept for period_count.
 * (Plain comparisons in the loop: a Check assertion per day is too slow.) */
#define WALK_FIRST (-25567L) /* 1900-01-01, a Monday */
#define WALK_DAYS 73414L     /* through 2100-12-31 */

static int32_t *ordinals[NKINDS];

static void walk(char *failure, size_t size)
{
    int y = 1900, m = 1, d = 1, weekday = 0; /* 0 = Monday */
    int iso_year = 1900, iso_week = 1;       /* 1900-01-04 is a Thursday */
    long start[NKINDS], previous[NKINDS];
    int32_t ordinal[NKINDS];
    for (int k = 0; k < NKINDS; k++) {
        previous[k] = start[k] = LONG_MIN;
        ordinal[k] = -1;
        ordinals[k] = malloc(sizeof(int32_t) * WALK_DAYS);
        ck_assert_ptr_nonnull(ordinals[k]);
    }
    for (long i = 0; i < WALK_DAYS && !failure[0]; i++) {
        long day = WALK_FIRST + i;
        if (weekday == 0 && i > 0) {
            /* The ISO year of a week is the year of its Thursday. */
            int thursday_year = (m == 12 && d + 3 > 31) ? y + 1 : y;
            if (thursday_year != iso_year) {
                iso_year = thursday_year;
                iso_week = 1;
            } else {
                iso_week++;
            }
        }
        bool is_start[NKINDS] = {
            true,
            weekday == 0,
            d == 1,
            d == 1 && (m - 1) % 3 == 0,
            d == 1 && (m == 1 || m == 7),
            d == 1 && m == 1,
        };
        char want[NKINDS][48];
        snprintf(want[0], sizeof want[0], "%04d-%02d-%02d", y, m, d);
        snprintf(want[1], sizeof want[1], "%04d-W%02d", iso_year, iso_week);
        snprintf(want[2], sizeof want[2], "%04d-%02d", y, m);
        snprintf(want[3], sizeof want[3], "%04d-Q%d", y, (m - 1) / 3 + 1);
        snprintf(want[4], sizeof want[4], "%04d-H%d", y, m <= 6 ? 1 : 2);
        snprintf(want[5], sizeof want[5], "%04d", y);
        if (days_from_civil(y, m, d) != day) {
            snprintf(failure, size, "%04d-%02d-%02d is day %ld, not %ld", y, m, d,
                     days_from_civil(y, m, d), day);
            break;
        }
        for (int k = 0; k < NKINDS && !failure[0]; k++) {
            if (is_start[k]) {
                if (previous[k] != LONG_MIN && period_next(KINDS[k], previous[k]) != day)
                    snprintf(failure, size, "%.8s: next of %ld is %ld, expected %ld (%.40s)",
                             KIND_NAMES[k], previous[k], period_next(KINDS[k], previous[k]), day,
                             want[k]);
                char got[16];
                memset(got, 'x', sizeof got);
                period_label(KINDS[k], day, got);
                if (memchr(got, '\0', sizeof got) == NULL || strcmp(got, want[k]) != 0)
                    snprintf(failure, size, "%.8s: label of %.40s is \"%.16s\"", KIND_NAMES[k],
                             want[0], got);
                previous[k] = start[k] = day;
                ordinal[k]++;
            }
            if (!failure[0] && period_start(KINDS[k], day) != start[k])
                snprintf(failure, size, "%.8s: start of %.40s is %ld, expected %ld", KIND_NAMES[k],
                         want[0], period_start(KINDS[k], day), start[k]);
            ordinals[k][i] = ordinal[k];
        }
        /* The next day. */
        weekday = (weekday + 1) % 7;
        if (++d > month_days(y, m)) {
            d = 1;
            if (++m > 12) {
                m = 1;
                y++;
            }
        }
    }
}

/* period_count of the walk's days a..b for every kind equals the number of
 * buckets the walk counted; otherwise false, with the first difference in
 * failure. */
static bool count_agrees(long a, long b, char *failure, size_t size)
{
    for (int k = 0; k < NKINDS; k++) {
        long want = ordinals[k][b] - ordinals[k][a] + 1;
        long got = period_count(KINDS[k], WALK_FIRST + a, WALK_FIRST + b);
        if (got != want) {
            snprintf(failure, size, "%s: count(%ld, %ld) = %ld, expected %ld", KIND_NAMES[k],
                     WALK_FIRST + a, WALK_FIRST + b, got, want);
            return false;
        }
    }
    return true;
}

START_TEST(every_day_1900_2100)
{
    char failure[300] = "";
    walk(failure, sizeof failure);
    if (!failure[0] && ordinals[5][WALK_DAYS - 1] != 200)
        snprintf(failure, sizeof failure, "2100 is year bucket %d of the walk",
                 (int)ordinals[5][WALK_DAYS - 1]);

    /* period_count of many ranges against the walk's bucket ordinals:
     * pseudo-random ones, and every range of up to 40 days starting within
     * 20 days of a year end. */
    uint64_t state = 0x9e3779b97f4a7c15u;
    long checked = 0;
    for (int n = 0; n < 300000 && !failure[0]; n++) {
        state = state * 6364136223846793005u + 1442695040888963407u;
        long a = (long)((state >> 33) % WALK_DAYS);
        state = state * 6364136223846793005u + 1442695040888963407u;
        long span = (long)((state >> 33) % (n % 3 == 0 ? WALK_DAYS : 800));
        long b = a + span < WALK_DAYS ? a + span : WALK_DAYS - 1;
        if (count_agrees(a, b, failure, sizeof failure))
            checked += NKINDS;
    }
    for (int y = 1901; y <= 2100 && !failure[0]; y++) {
        long jan1 = days_from_civil(y, 1, 1) - WALK_FIRST;
        for (long a = jan1 - 20; a < jan1 + 20 && !failure[0]; a++)
            for (long b = a; b < a + 40 && b < WALK_DAYS && !failure[0]; b++)
                if (count_agrees(a, b, failure, sizeof failure))
                    checked += NKINDS;
    }
    for (int k = 0; k < NKINDS; k++) {
        free(ordinals[k]);
        ordinals[k] = NULL;
    }
    ck_assert_msg(failure[0] == '\0', "%s", failure);
    ck_assert(checked > 1000000);
}
END_TEST

Suite *suite_period(void)
{
    Suite *s = suite_create("period");
    TCase *tc = tcase_create("known");
    tcase_add_test(tc, kind_names);
    tcase_add_test(tc, iso_weeks_across_year_ends);
    tcase_add_test(tc, months_quarters_halves_years);
    tcase_add_test(tc, leap_days);
    tcase_add_test(tc, next_chains);
    tcase_add_test(tc, counts_with_partial_buckets);
    suite_add_tcase(s, tc);

    tc = tcase_create("walk");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, every_day_1900_2100);
    suite_add_tcase(s, tc);
    return s;
}
