/* Civil-date arithmetic (H. Hinnant's algorithms) and strict parsers. */
#include "util/dates.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

long days_from_civil(int y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void civil_from_days(long z, int *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return days[m - 1];
}

/* n digits at s into *out; false unless all are digits. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)s[i]))
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool date_parse(const char *s, long *days)
{
    int y, m, d;
    if (strlen(s) != 10 || s[4] != '-' || s[7] != '-')
        return false;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
        return false;
    if (y < 1000 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
        return false;
    *days = days_from_civil(y, m, d);
    return true;
}

void date_format(long days, char *out)
{
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    snprintf(out, 11, "%04d-%02d-%02d", y, m, d);
}

long date_today_at_offset(int hours)
{
    time_t now = time(NULL) + (time_t)hours * 3600;
    return (long)(now / 86400 - (now % 86400 < 0));
}

long date_minus_years(long days, int n)
{
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    y -= n;
    if (d > days_in_month(y, m))
        d = days_in_month(y, m);
    return days_from_civil(y, m, d);
}

bool time_of_day_parse(const char *s, int *minutes)
{
    int h, m;
    if (strlen(s) != 5 || s[2] != ':' || !digits(s, 2, &h) || !digits(s + 3, 2, &m))
        return false;
    if (h > 23 || m > 59)
        return false;
    *minutes = h * 60 + m;
    return true;
}

bool timestamp_valid(const char *s)
{
    size_t len = strlen(s);
    if (len < 20 || len > 40)
        return false;
    char date[11];
    memcpy(date, s, 10);
    date[10] = '\0';
    long days;
    int h, mi, se;
    if (!date_parse(date, &days) || (s[10] != 'T' && s[10] != 't'))
        return false;
    if (!digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &se) || h > 23 || mi > 59 || se > 59)
        return false;
    const char *p = s + 19;
    if (*p == '.') {
        p++;
        const char *start = p;
        while (isdigit((unsigned char)*p))
            p++;
        if (p == start || p - start > 9) /* nanoseconds at most */
            return false;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0')
        return true;
    int oh, om;
    if ((*p == '+' || *p == '-') && strlen(p) == 6 && digits(p + 1, 2, &oh) && p[3] == ':' &&
        digits(p + 4, 2, &om) && oh <= 23 && om <= 59)
        return true;
    return false;
}

bool timestamp_parse(const char *s, long long *seconds)
{
    if (!timestamp_valid(s))
        return false;
    long days;
    int h = 0, mi = 0, se = 0, oh = 0, om = 0;
    char date[11];
    memcpy(date, s, 10);
    date[10] = '\0';
    date_parse(date, &days);
    digits(s + 11, 2, &h);
    digits(s + 14, 2, &mi);
    digits(s + 17, 2, &se);
    const char *p = s + 19;
    while (*p == '.' || isdigit((unsigned char)*p))
        p++;
    int sign = *p == '-' ? -1 : 1;
    if (*p == '+' || *p == '-') {
        digits(p + 1, 2, &oh);
        digits(p + 4, 2, &om);
    }
    *seconds = (long long)days * 86400 + h * 3600 + mi * 60 + se - sign * (oh * 3600 + om * 60);
    return true;
}

static const char *const wday_names[7] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char *const wday_long[7] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};
static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

void date_http_format(long long seconds, char *out)
{
    long days = (long)(seconds / 86400 - (seconds % 86400 < 0));
    long rest = (long)(seconds - (long long)days * 86400);
    int y, m, d;
    civil_from_days(days, &y, &m, &d);
    long wday = ((days + 4) % 7 + 7) % 7; /* 1970-01-01 was a Thursday */
    char text[64]; /* room for what the compiler cannot bound */
    snprintf(text, sizeof text, "%s, %02d %s %04d %02ld:%02ld:%02ld GMT", wday_names[wday], d,
             month_names[m - 1], y, rest / 3600, rest / 60 % 60, rest % 60);
    memcpy(out, text, DATE_HTTP_LEN);
    out[DATE_HTTP_LEN] = '\0';
}

/* The index of the name at s among n names (exactly len characters, case
 * sensitive as RFC 9110 writes them), or -1. */
static int name_index(const char *s, size_t len, const char *const *names, int n)
{
    for (int i = 0; i < n; i++)
        if (strlen(names[i]) == len && strncmp(s, names[i], len) == 0)
            return i;
    return -1;
}

/* "HH:MM:SS" at s into seconds of the day. */
static bool time_of_day_seconds(const char *s, long *out)
{
    int h, mi, se;
    if (!digits(s, 2, &h) || s[2] != ':' || !digits(s + 3, 2, &mi) || s[5] != ':' ||
        !digits(s + 6, 2, &se) || h > 23 || mi > 59 || se > 60)
        return false;
    *out = h * 3600L + mi * 60L + se; /* a leap second counts as the next second */
    return true;
}

static bool http_date_of(int y, int m, int d, long tod, long long *seconds)
{
    if (y < 1000 || y > 9999 || m < 0 || m > 11 || d < 1 || d > days_in_month(y, m + 1))
        return false;
    *seconds = (long long)days_from_civil(y, m + 1, d) * 86400 + tod;
    return true;
}

bool date_http_parse(const char *s, int now_year, long long *seconds)
{
    size_t len = strlen(s);
    const char *comma = strchr(s, ',');
    int y, d, m;
    long tod;
    if (comma && comma - s == 3 && len == DATE_HTTP_LEN) {
        /* Sun, 06 Nov 1994 08:49:37 GMT */
        return name_index(s, 3, wday_names, 7) >= 0 && s[4] == ' ' && digits(s + 5, 2, &d) &&
               s[7] == ' ' && (m = name_index(s + 8, 3, month_names, 12)) >= 0 &&
               s[11] == ' ' && digits(s + 12, 4, &y) && s[16] == ' ' &&
               time_of_day_seconds(s + 17, &tod) && strcmp(s + 25, " GMT") == 0 &&
               http_date_of(y, m, d, tod, seconds);
    }
    if (comma) {
        /* Sunday, 06-Nov-94 08:49:37 GMT */
        const char *p = comma + 1;
        if (name_index(s, (size_t)(comma - s), wday_long, 7) < 0 || strlen(p) != 23 ||
            p[0] != ' ' || !digits(p + 1, 2, &d) || p[3] != '-' ||
            (m = name_index(p + 4, 3, month_names, 12)) < 0 || p[7] != '-' ||
            !digits(p + 8, 2, &y) || p[10] != ' ' || !time_of_day_seconds(p + 11, &tod) ||
            strcmp(p + 19, " GMT") != 0)
            return false;
        y += now_year / 100 * 100;
        if (y > now_year + 50)
            y -= 100;
        return http_date_of(y, m, d, tod, seconds);
    }
    /* Sun Nov  6 08:49:37 1994 */
    if (len != 24 || name_index(s, 3, wday_names, 7) < 0 || s[3] != ' ' ||
        (m = name_index(s + 4, 3, month_names, 12)) < 0 || s[7] != ' ' || s[19] != ' ' ||
        !time_of_day_seconds(s + 11, &tod) || s[10] != ' ' || !digits(s + 20, 4, &y))
        return false;
    if (s[8] == ' ' ? !digits(s + 9, 1, &d) : !digits(s + 8, 2, &d))
        return false;
    return http_date_of(y, m, d, tod, seconds);
}
