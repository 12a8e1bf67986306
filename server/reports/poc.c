/* The Protection of Civilians report tables, from the trend engine. */
#include "reports/poc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/incident.h"
#include "trends/trend_render.h"
#include "util/dates.h"
#include "util/mem.h"

const char *const poc_param_names[] = {"from", "to", "years", "status", "format", "table", NULL};

static const char *const table_names[] = {"headline",
                                          "same_period_by_year",
                                          "by_month",
                                          "by_quarter",
                                          "by_party",
                                          "by_tactic",
                                          "by_category",
                                          "women_children_by_party_group",
                                          "women_children_by_tactic",
                                          "by_region",
                                          "by_province",
                                          NULL};

static const char rounding[] =
    "share_pct and change_pct are computed from exact counts and rounded half away from zero "
    "to one decimal only for display; change_pct is null where the same period last year had "
    "none; rounded shares need not add up to exactly 100 (each is off by at most 0.05)";

json_t *poc_find_table(json_t *report, const char *name)
{
    size_t i;
    json_t *tbl;
    json_array_foreach(json_object_get(report, "tables"), i, tbl) {
        if (strcmp(json_string_value(json_object_get(tbl, "name")), name) == 0)
            return tbl;
    }
    return NULL;
}

bool poc_table_known(const char *name)
{
    for (const char *const *t = table_names; *t; t++)
        if (strcmp(*t, name) == 0)
            return true;
    return false;
}

/* ---- parameters ----------------------------------------------------------- */

bool poc_parse(param_fn get, void *ctx, struct poc_params *p, struct api_error *e)
{
    memset(p, 0, sizeof *p);
    int y, m, d;
    civil_from_days(date_today_at_offset(0), &y, &m, &d);
    p->from = days_from_civil(y, 1, 1);
    p->to = days_from_civil(y, 6, 30);
    const char *from = get(ctx, "from"), *to = get(ctx, "to");
    if (from && !date_parse(from, &p->from))
        return err_invalid(e, "from", "from must be a date YYYY-MM-DD");
    if (to && !date_parse(to, &p->to))
        return err_invalid(e, "to", "to must be a date YYYY-MM-DD");
    /* No incident is dated before INCIDENT_MIN_DATE, and the report looks
     * back up to POC_MAX_YEARS years for the same period of earlier years:
     * a period starts at least that many years after it (1920-01-01). */
    int y0, m0, d0;
    long min_day;
    date_parse(INCIDENT_MIN_DATE, &min_day);
    civil_from_days(min_day, &y0, &m0, &d0);
    min_day = days_from_civil(y0 + POC_MAX_YEARS, m0, d0);
    if (p->from < min_day) {
        char text[11];
        date_format(min_day, text);
        return err_invalid(e, "from", "from may not be before %s", text);
    }
    if (p->from > p->to)
        return err_invalid(e, "to", "to may not be before from");
    if (p->to - p->from + 1 > POC_MAX_DAYS)
        return err_invalid(e, "to", "a report covers at most %d days", POC_MAX_DAYS);
    p->years = 5;
    const char *years = get(ctx, "years");
    if (years) {
        char *end;
        long v = strtol(years, &end, 10);
        if (years[0] < '0' || years[0] > '9' || *end || v < 1 || v > POC_MAX_YEARS)
            return err_invalid(e, "years", "years must be an integer from 1 to %d", POC_MAX_YEARS);
        p->years = (int)v;
    }
    const char *status = get(ctx, "status");
    if (!status)
        status = "verified";
    if (strlen(status) >= sizeof p->status || !incident_status_list_valid(status))
        return err_invalid(
            e, "status",
            "status must be a comma list of reported, verified, rejected, duplicate, retracted");
    snprintf(p->status, sizeof p->status, "%s", status);
    p->custom_status = strcmp(status, "verified") != 0;
    return true;
}

bool poc_parse_format(param_fn get, void *ctx, enum poc_format *format, const char **table,
                      struct api_error *e)
{
    const char *f = get(ctx, "format");
    *format = POC_JSON;
    if (f) {
        if (strcmp(f, "json") == 0)
            *format = POC_JSON;
        else if (strcmp(f, "csv") == 0)
            *format = POC_CSV;
        else if (strcmp(f, "hxl") == 0)
            *format = POC_HXL;
        else if (strcmp(f, "html") == 0)
            *format = POC_HTML;
        else
            return err_invalid(e, "format", "format must be json, csv, hxl or html");
    }
    *table = get(ctx, "table");
    bool one_table = *format == POC_CSV || *format == POC_HXL;
    if (one_table && !*table)
        return api_error_set(e, 400, ERR_MISSING_FIELD, "table",
                             "table is required with format csv or hxl (one table per request)");
    if (!one_table && *table)
        return err_invalid(e, "table", "table goes only with format csv or hxl");
    if (*table && !poc_table_known(*table))
        return err_invalid(e, "table", "table must be a table name of the report");
    return true;
}

static json_t *date_json(long day)
{
    char text[11];
    date_format(day, text);
    return json_string(text);
}

json_t *poc_parameters_json(const struct poc_params *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "from", date_json(p->from));
    json_object_set_new(o, "to", date_json(p->to));
    json_object_set_new(o, "years", json_integer(p->years));
    json_object_set_new(o, "status", comma_list_json(p->status));
    return o;
}

/* ---- figures from the trend engine --------------------------------------- */

struct figures {
    long long killed, injured, casualties;
};

static void figures_of(const long long *total, struct figures *f)
{
    f->killed = total[M_KILLED];
    f->injured = total[M_INJURED];
    f->casualties = total[M_CASUALTIES];
}

/* A trend of the report: its query (for the series' keys) and figures. */
struct poc_trend {
    struct trend_query q;
    struct trend_result r;
};

/* A trend over [from, to] by up to two dimensions, optionally with the
 * same period a year earlier. Free tr->r with trend_result_free. */
static bool trend(struct db_conn *c, const struct poc_params *p, long from, long to,
                  enum period_kind period, const enum trend_dim *by, int nby, bool compare,
                  struct poc_trend *tr, struct api_error *e)
{
    struct trend_query *q = &tr->q;
    memset(q, 0, sizeof *q);
    q->from = from;
    q->to = to;
    q->period = period;
    q->measures[M_KILLED] = q->measures[M_INJURED] = q->measures[M_CASUALTIES] = true;
    snprintf(q->status, sizeof q->status, "%s", p->status);
    q->compare = compare ? COMPARE_PREVIOUS_YEAR : COMPARE_NONE;
    for (int k = 0; k < nby; k++)
        q->by[q->nby++] = by[k];
    return trend_run(c, q, &tr->r, e);
}

static json_t *values_json(const struct figures *f)
{
    json_t *o = json_object();
    json_object_set_new(o, "killed", json_integer(f->killed));
    json_object_set_new(o, "injured", json_integer(f->injured));
    json_object_set_new(o, "casualties", json_integer(f->casualties));
    return o;
}

static json_t *table_new(const char *name, const char *title, const char *const *columns)
{
    json_t *tbl = json_object();
    json_object_set_new(tbl, "name", json_string(name));
    json_object_set_new(tbl, "title", json_string(title));
    json_t *cols = json_array();
    for (; *columns; columns++)
        json_array_append_new(cols, json_string(*columns));
    json_object_set_new(tbl, "columns", cols);
    json_object_set_new(tbl, "rows", json_array());
    return tbl;
}

static void add_row(json_t *tbl, json_t *key, const char *label, json_t *values)
{
    json_t *row = json_object();
    json_object_set_new(row, "key", key);
    json_object_set_new(row, "label", json_string(label ? label : "Unknown"));
    json_object_set_new(row, "values", values);
    json_array_append_new(json_object_get(tbl, "rows"), row);
}

static const char *const share_columns[] = {
    "killed", "injured", "casualties", "share_pct", "previous_casualties", "change_pct", NULL};

/* killed, injured, casualties, share of all, last year's casualties, change. */
static json_t *share_values(const struct figures *now, long long prev, long long all)
{
    json_t *v = values_json(now);
    json_object_set_new(v, "share_pct", trend_pct(now->casualties, all));
    json_object_set_new(v, "previous_casualties", json_integer(prev));
    json_object_set_new(v, "change_pct", trend_pct(now->casualties - prev, prev));
    return v;
}

/* ---- tables ----------------------------------------------------------------- */

static const char *month_names[] = {"January",   "February", "March",    "April",
                                    "May",       "June",     "July",     "August",
                                    "September", "October",  "November", "December"};

static void span_label(long from, long to, char *out, size_t size)
{
    int fy, fm, fd, ty, tm, td;
    civil_from_days(from, &fy, &fm, &fd);
    civil_from_days(to, &ty, &tm, &td);
    if (fy == ty)
        snprintf(out, size, "%d %.3s - %d %.3s %d", fd, month_names[fm - 1], td,
                 month_names[tm - 1], ty);
    else
        snprintf(out, size, "%d %.3s %d - %d %.3s %d", fd, month_names[fm - 1], fy, td,
                 month_names[tm - 1], ty);
}

static json_t *headline(const struct figures *now, const struct figures *prev)
{
    static const char *const cols[] = {"killed",           "injured",
                                       "casualties",       "previous_killed",
                                       "previous_injured", "previous_casualties",
                                       "change_pct",       NULL};
    json_t *tbl = table_new("headline", "Civilian casualties", cols);
    json_t *v = values_json(now);
    json_object_set_new(v, "previous_killed", json_integer(prev->killed));
    json_object_set_new(v, "previous_injured", json_integer(prev->injured));
    json_object_set_new(v, "previous_casualties", json_integer(prev->casualties));
    json_object_set_new(v, "change_pct",
                        trend_pct(now->casualties - prev->casualties, prev->casualties));
    json_object_set_new(tbl, "total", json_deep_copy(v));
    add_row(tbl, json_object(), "Civilian casualties", v);
    return tbl;
}

static json_t *same_period_by_year(struct db_conn *c, const struct poc_params *p,
                                   struct api_error *e)
{
    static const char *const cols[] = {"killed", "injured", "casualties", NULL};
    json_t *tbl = table_new("same_period_by_year", "The same period in earlier years", cols);
    for (int back = p->years - 1; back >= 0; back--) {
        long from = date_minus_years(p->from, back), to = date_minus_years(p->to, back);
        struct poc_trend tr;
        bool ok = trend(c, p, from, to, PERIOD_YEAR, NULL, 0, false, &tr, e);
        struct figures f;
        figures_of(tr.r.now.total[EST_BEST], &f);
        trend_result_free(&tr.r);
        if (!ok) {
            json_decref(tbl);
            return NULL;
        }
        int y, m, d;
        civil_from_days(to, &y, &m, &d);
        char year[8], label[64];
        snprintf(year, sizeof year, "%d", y % 10000);
        span_label(from, to, label, sizeof label);
        add_row(tbl, json_pack("{s:s}", "year", year), label, values_json(&f));
    }
    json_object_set_new(tbl, "total", json_null());
    return tbl;
}

/* by_month and by_quarter: one row per period of the trend. */
static json_t *by_period(const struct poc_trend *tr, const char *name, const char *title,
                         const char *keyname, const struct figures *all)
{
    static const char *const cols[] = {"killed", "injured", "casualties", NULL};
    json_t *tbl = table_new(name, title, cols);
    const struct trend_range *now = &tr->r.now;
    for (long i = 0; i < now->nperiods; i++) {
        long long total[M_COUNT];
        for (int m = 0; m < M_COUNT; m++)
            total[m] = now->period_totals[EST_BEST][m][i];
        struct figures f;
        figures_of(total, &f);
        char label[16], pretty[32];
        period_label(tr->q.period, now->starts[i], label);
        if (tr->q.period == PERIOD_MONTH) {
            int y, m, d;
            civil_from_days(now->starts[i], &y, &m, &d);
            snprintf(pretty, sizeof pretty, "%s %d", month_names[m - 1], y);
        } else {
            snprintf(pretty, sizeof pretty, "%s", label);
        }
        add_row(tbl, json_pack("{s:s}", keyname, label), pretty, values_json(&f));
    }
    json_object_set_new(tbl, "total", values_json(all));
    return tbl;
}

/* Sort support: series indexes ordered by taxonomy display order. */
struct ranked {
    size_t index;
    int rank[2];
};

static int ranked_cmp(const void *a, const void *b)
{
    const struct ranked *x = a, *y = b;
    for (int i = 0; i < 2; i++)
        if (x->rank[i] != y->rank[i])
            return x->rank[i] < y->rank[i] ? -1 : 1;
    return 0;
}

static bool same_code(const char *a, const char *b)
{
    return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* A share table from a compared trend by one or two dimensions, rows in the
 * deployment's display order; subtotals adds a row per value of the first
 * dimension before its rows. */
static json_t *share_table(const struct poc_trend *tr, const struct taxonomy *t, const char *name,
                           const char *title, bool subtotals, const struct figures *all,
                           const struct figures *all_prev)
{
    json_t *tbl = table_new(name, title, share_columns);
    const struct trend_query *q = &tr->q;
    const struct trend_range *now = &tr->r.now, *before = &tr->r.before;
    size_t n = now->nseries;
    int last = q->nby - 1;
    struct ranked *order = xcalloc(n ? n : 1, sizeof *order);
    for (size_t i = 0; i < n; i++) {
        order[i].index = i;
        for (int k = 0; k < q->nby; k++)
            order[i].rank[k] = trend_dim_rank(t, q->by[k], now->series[i].key[k]);
    }
    qsort(order, n, sizeof *order, ranked_cmp);
    for (size_t r = 0; r < n; r++) {
        const struct trend_series *s = &now->series[order[r].index];
        const char *first = s->key[0];
        if (subtotals && (r == 0 || !same_code(first, now->series[order[r - 1].index].key[0]))) {
            /* The group's subtotal: the sum of its rows that follow. */
            struct figures g = {0, 0, 0};
            long long previous = 0;
            for (size_t k = r; k < n && same_code(now->series[order[k].index].key[0], first); k++) {
                struct figures a;
                figures_of(now->series[order[k].index].total[EST_BEST], &a);
                g.killed += a.killed;
                g.injured += a.injured;
                g.casualties += a.casualties;
                previous += before->series[order[k].index].total[EST_BEST][M_CASUALTIES];
            }
            json_t *gkey = json_object();
            json_object_set_new(gkey, trend_dim_name(q->by[0]),
                                first ? json_string(first) : json_null());
            add_row(tbl, gkey, trend_dim_label(t, q->by[0], first),
                    share_values(&g, previous, all->casualties));
            json_t *rows = json_object_get(tbl, "rows");
            json_object_set_new(json_array_get(rows, json_array_size(rows) - 1), "subtotal",
                                json_true());
        }
        struct figures f;
        figures_of(s->total[EST_BEST], &f);
        add_row(
            tbl, trend_series_key_json(q, s), trend_dim_label(t, q->by[last], s->key[last]),
            share_values(&f, before->series[order[r].index].total[EST_BEST][M_CASUALTIES], all->casualties));
    }
    free(order);
    json_object_set_new(tbl, "total", share_values(all, all_prev->casualties, all->casualties));
    return tbl;
}

/* by_category always lists all seven categories. */
static json_t *by_category(const struct poc_trend *tr, const struct figures *all,
                           const struct figures *all_prev)
{
    json_t *tbl = table_new("by_category", "Civilian casualties by sex and age", share_columns);
    static const char *const codes[] = {
        "men", "women", "boys", "girls", "adult_unknown_sex", "child_unknown_sex", "unknown"};
    static const char *const labels[] = {
        "Men",        "Women", "Boys", "Girls", "Adults, sex unknown", "Children, sex unknown",
        "Age unknown"};
    const struct trend_range *now = &tr->r.now, *before = &tr->r.before;
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++) {
        struct figures f = {0, 0, 0}, prev = {0, 0, 0};
        for (size_t i = 0; i < now->nseries; i++) {
            if (same_code(now->series[i].key[0], codes[k])) {
                figures_of(now->series[i].total[EST_BEST], &f);
                figures_of(before->series[i].total[EST_BEST], &prev);
            }
        }
        add_row(tbl, json_pack("{s:s}", "category", codes[k]), labels[k],
                share_values(&f, prev.casualties, all->casualties));
    }
    json_object_set_new(tbl, "total", share_values(all, all_prev->casualties, all->casualties));
    return tbl;
}

/* Women and children by one dimension, from a trend by (dim, category). */
static json_t *women_children(const struct poc_trend *tr, const struct taxonomy *t,
                              const char *name, const char *title)
{
    static const char *const cols[] = {"women_killed",
                                       "women_injured",
                                       "women_casualties",
                                       "children_killed",
                                       "children_injured",
                                       "children_casualties",
                                       NULL};
    json_t *tbl = table_new(name, title, cols);
    const struct trend_range *now = &tr->r.now;
    enum trend_dim dim = tr->q.by[0];
    size_t n = now->nseries;
    /* Distinct values of dim in display order. */
    struct ranked *order = xcalloc(n ? n : 1, sizeof *order);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        const char *code = now->series[i].key[0];
        bool seen = false;
        for (size_t j = 0; j < distinct && !seen; j++)
            seen = same_code(code, now->series[order[j].index].key[0]);
        if (!seen) {
            order[distinct].index = i;
            order[distinct].rank[0] = trend_dim_rank(t, dim, code);
            distinct++;
        }
    }
    qsort(order, distinct, sizeof *order, ranked_cmp);
    long long total[6] = {0};
    for (size_t j = 0; j < distinct; j++) {
        const char *code = now->series[order[j].index].key[0];
        long long v[6] = {0};
        for (size_t i = 0; i < n; i++) {
            const struct trend_series *s = &now->series[i];
            const char *cat = s->key[1];
            if (!same_code(s->key[0], code) || !cat)
                continue;
            int base = -1;
            if (strcmp(cat, "women") == 0)
                base = 0;
            else if (strcmp(cat, "boys") == 0 || strcmp(cat, "girls") == 0 ||
                     strcmp(cat, "child_unknown_sex") == 0)
                base = 3;
            if (base < 0)
                continue;
            v[base] += s->total[EST_BEST][M_KILLED];
            v[base + 1] += s->total[EST_BEST][M_INJURED];
            v[base + 2] += s->total[EST_BEST][M_CASUALTIES];
        }
        if (v[2] == 0 && v[5] == 0)
            continue;
        json_t *values = json_object();
        for (int k = 0; k < 6; k++) {
            json_object_set_new(values, cols[k], json_integer(v[k]));
            total[k] += v[k];
        }
        json_t *key = json_object();
        json_object_set_new(key, trend_dim_name(dim), code ? json_string(code) : json_null());
        add_row(tbl, key, trend_dim_label(t, dim, code), values);
    }
    free(order);
    json_t *tot = json_object();
    for (int k = 0; k < 6; k++)
        json_object_set_new(tot, cols[k], json_integer(total[k]));
    json_object_set_new(tbl, "total", tot);
    return tbl;
}

/* The trends the tables are made of, run in one snapshot. */
enum {
    T_TOTAL,
    T_MONTH,
    T_QUARTER,
    T_PARTY,
    T_TACTIC,
    T_CATEGORY,
    T_WC_GROUP,
    T_WC_TACTIC,
    T_REGION,
    T_PROVINCE,
    T_COUNT
};

static const struct {
    enum period_kind period;
    enum trend_dim by[2];
    int nby;
    bool compare;
} poc_trends[T_COUNT] = {
    [T_TOTAL] = {PERIOD_YEAR, {0}, 0, true},
    [T_MONTH] = {PERIOD_MONTH, {0}, 0, false},
    [T_QUARTER] = {PERIOD_QUARTER, {0}, 0, false},
    [T_PARTY] = {PERIOD_YEAR, {DIM_PARTY_GROUP, DIM_PARTY}, 2, true},
    [T_TACTIC] = {PERIOD_YEAR, {DIM_TACTIC}, 1, true},
    [T_CATEGORY] = {PERIOD_YEAR, {DIM_CATEGORY}, 1, true},
    [T_WC_GROUP] = {PERIOD_YEAR, {DIM_PARTY_GROUP, DIM_CATEGORY}, 2, false},
    [T_WC_TACTIC] = {PERIOD_YEAR, {DIM_TACTIC, DIM_CATEGORY}, 2, false},
    [T_REGION] = {PERIOD_YEAR, {DIM_REGION}, 1, true},
    [T_PROVINCE] = {PERIOD_YEAR, {DIM_REGION, DIM_ADMIN1}, 2, true},
};

json_t *poc_build(struct db_conn *c, const struct poc_params *p, const struct taxonomy *t,
                  struct api_error *e)
{
    json_t *report = NULL, *tables = json_array(), *multi = NULL;
    struct poc_trend tr[T_COUNT];
    memset(tr, 0, sizeof tr);
    /* Every figure from one snapshot, so the tables agree with each other
     * (the caller's, when it holds one). */
    bool own_tx = !db_in_transaction(c);
    if (own_tx && !db_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e))
        goto done;
    if (!trend(c, p, p->from, p->to, poc_trends[T_TOTAL].period, NULL, 0, true, &tr[T_TOTAL], e) ||
        !(multi = same_period_by_year(c, p, e)))
        goto done;
    for (int i = T_TOTAL + 1; i < T_COUNT; i++)
        if (!trend(c, p, p->from, p->to, poc_trends[i].period, poc_trends[i].by, poc_trends[i].nby,
                   poc_trends[i].compare, &tr[i], e))
            goto done;

    struct figures all, all_prev;
    figures_of(tr[T_TOTAL].r.now.total[EST_BEST], &all);
    figures_of(tr[T_TOTAL].r.before.total[EST_BEST], &all_prev);

    json_array_append_new(tables, headline(&all, &all_prev));
    json_array_append(tables, multi);
    json_array_append_new(
        tables, by_period(&tr[T_MONTH], "by_month", "Civilian casualties by month", "month", &all));
    json_array_append_new(tables, by_period(&tr[T_QUARTER], "by_quarter",
                                            "Civilian casualties by quarter", "quarter", &all));
    json_array_append_new(tables, share_table(&tr[T_PARTY], t, "by_party",
                                              "Civilian casualties by party to the conflict", true,
                                              &all, &all_prev));
    json_array_append_new(tables,
                          share_table(&tr[T_TACTIC], t, "by_tactic",
                                      "Civilian casualties by tactic", false, &all, &all_prev));
    json_array_append_new(tables, by_category(&tr[T_CATEGORY], &all, &all_prev));
    json_array_append_new(tables,
                          women_children(&tr[T_WC_GROUP], t, "women_children_by_party_group",
                                         "Women and children casualties by party group"));
    json_array_append_new(tables, women_children(&tr[T_WC_TACTIC], t, "women_children_by_tactic",
                                                 "Women and children casualties by tactic"));
    json_array_append_new(tables,
                          share_table(&tr[T_REGION], t, "by_region",
                                      "Civilian casualties by region", false, &all, &all_prev));
    json_array_append_new(tables,
                          share_table(&tr[T_PROVINCE], t, "by_province",
                                      "Civilian casualties by province", false, &all, &all_prev));

    report = json_object();
    json_object_set_new(
        report, "period",
        json_pack("{s:o, s:o}", "from", date_json(p->from), "to", date_json(p->to)));
    json_object_set_new(report, "comparison_period",
                        json_pack("{s:o, s:o}", "from", date_json(date_minus_years(p->from, 1)),
                                  "to", date_json(date_minus_years(p->to, 1))));
    json_object_set_new(report, "status", comma_list_json(p->status));
    json_object_set_new(report, "years", json_integer(p->years));
    json_object_set_new(report, "rounding", json_string(rounding));
    json_object_set(report, "tables", tables);
done:
    if (own_tx)
        db_rollback(c);
    json_decref(tables);
    json_decref(multi);
    for (int i = 0; i < T_COUNT; i++)
        trend_result_free(&tr[i].r);
    return report;
}
