/* Calendar buckets: starts, successors and labels. */
#include "domain/period.h"

#include <stdio.h>
#include <string.h>

#include "util/dates.h"

static const char *const names[] = {"day", "week", "month", "quarter", "half", "year"};

bool period_kind_parse(const char *s, enum period_kind *out)
{
    for (int i = 0; i <= PERIOD_YEAR; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (enum period_kind)i;
            return true;
        }
    }
    return false;
}

const char *period_kind_name(enum period_kind k)
{
    return names[k];
}

/* 1970-01-01 was a Thursday: (day + 3) mod 7 is 0 on Mondays. */
static long weekday_from_monday(long day)
{
    long r = (day + 3) % 7;
    return r < 0 ? r + 7 : r;
}

/* Months per bucket for the month-based kinds. */
static int months_of(enum period_kind k)
{
    return k == PERIOD_MONTH ? 1 : k == PERIOD_QUARTER ? 3 : k == PERIOD_HALF ? 6 : 12;
}

long period_start(enum period_kind k, long day)
{
    if (k == PERIOD_DAY)
        return day;
    if (k == PERIOD_WEEK)
        return day - weekday_from_monday(day);
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    int span = months_of(k);
    m = (m - 1) / span * span + 1;
    return days_from_civil(y, m, 1);
}

long period_next(enum period_kind k, long start)
{
    if (k == PERIOD_DAY)
        return start + 1;
    if (k == PERIOD_WEEK)
        return start + 7;
    int y, m, d;
    civil_from_days(start, &y, &m, &d);
    m += months_of(k);
    while (m > 12) {
        m -= 12;
        y++;
    }
    return days_from_civil(y, m, 1);
}

void period_label(enum period_kind k, long start, char out[16])
{
    int y, m, d;
    civil_from_days(start, &y, &m, &d);
    switch (k) {
    case PERIOD_DAY:
        date_format(start, out);
        break;
    case PERIOD_WEEK: {
        /* The ISO year is the year of the week's Thursday. */
        long thursday = start + 3;
        int ty, tm, td;
        civil_from_days(thursday, &ty, &tm, &td);
        long week = (thursday - days_from_civil(ty, 1, 1)) / 7 + 1;
        snprintf(out, 16, "%04d-W%02ld", ty % 10000, week % 100);
        break;
    }
    case PERIOD_MONTH:
        snprintf(out, 16, "%04d-%02d", y % 10000, m % 100);
        break;
    case PERIOD_QUARTER:
        snprintf(out, 16, "%04d-Q%d", y % 10000, ((m - 1) / 3) % 4 + 1);
        break;
    case PERIOD_HALF:
        snprintf(out, 16, "%04d-H%d", y % 10000, m <= 6 ? 1 : 2);
        break;
    case PERIOD_YEAR:
        snprintf(out, 16, "%04d", y % 10000);
        break;
    }
}

long period_count(enum period_kind k, long from, long to)
{
    if (to < from)
        return 0;
    if (k == PERIOD_DAY)
        return to - from + 1;
    if (k == PERIOD_WEEK)
        return (period_start(k, to) - period_start(k, from)) / 7 + 1;
    int fy, fm, fd, ty, tm, td;
    civil_from_days(from, &fy, &fm, &fd);
    civil_from_days(to, &ty, &tm, &td);
    long span = months_of(k);
    return ((long)ty * 12 + tm - 1) / span - ((long)fy * 12 + fm - 1) / span + 1;
}
