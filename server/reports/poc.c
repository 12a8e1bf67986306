/* The Protection of Civilians report tables, from the trend engine. */
#include "reports/poc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/incident.h"
#include "util/dates.h"
#include "util/mem.h"

const char *const poc_param_names[] = {"from", "to", "years", "status", "format", "table", NULL};

static const char *const table_names[] = {
    "headline", "same_period_by_year", "by_month", "by_quarter", "by_party", "by_tactic",
    "by_category", "women_children_by_party_group", "women_children_by_tactic", "by_region",
    "by_province", NULL};

static const char rounding[] =
    "share_pct and change_pct are computed from exact counts and rounded half away from zero "
    "to one decimal only for display; change_pct is null where the same period last year had "
    "none; rounded shares need not add up to exactly 100 (each is off by at most 0.05)";

bool poc_table_known(const char *name)
{
    for (const char *const *t = table_names; *t; t++)
        if (strcmp(*t, name) == 0)
            return true;
    return false;
}

/* ---- parameters ----------------------------------------------------------- */

static bool status_item(const char *s, size_t len)
{
    for (const char *const *st = incident_statuses; *st; st++)
        if (strlen(*st) == len && strncmp(*st, s, len) == 0)
            return true;
    return false;
}

bool poc_parse(trend_param_fn get, void *ctx, struct poc_params *p, struct api_error *e)
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
    bool ok = status[0] && strlen(status) < sizeof p->status;
    for (const char *s = status; ok;) {
        const char *comma = strchr(s, ',');
        size_t len = comma ? (size_t)(comma - s) : strlen(s);
        ok = status_item(s, len);
        if (!comma)
            break;
        s = comma + 1;
    }
    if (!ok)
        return err_invalid(e, "status",
                           "status must be a comma list of reported, verified, rejected, duplicate, retracted");
    snprintf(p->status, sizeof p->status, "%s", status);
    p->custom_status = strcmp(status, "verified") != 0;
    return true;
}

bool poc_parse_format(trend_param_fn get, void *ctx, enum poc_format *format,
                      const char **table, struct api_error *e)
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

static json_t *status_array(const char *list)
{
    json_t *a = json_array();
    char *copy = xstrdup(list), *save = NULL;
    for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
        json_array_append_new(a, json_string(s));
    free(copy);
    return a;
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
    json_object_set_new(o, "status", status_array(p->status));
    return o;
}

/* ---- figures from the trend engine --------------------------------------- */

struct figures {
    long long killed, injured, casualties;
};

static void figures_of(json_t *total, struct figures *f)
{
    f->killed = json_integer_value(json_object_get(total, "killed"));
    f->injured = json_integer_value(json_object_get(total, "injured"));
    f->casualties = json_integer_value(json_object_get(total, "casualties"));
}

/* A trend over [from, to] by up to two dimensions (by names), optionally
 * with the same period a year earlier. */
static json_t *trend(struct db_conn *c, const struct taxonomy *t, const struct poc_params *p,
                     long from, long to, enum period_kind period, const char *by, bool compare,
                     struct api_error *e)
{
    struct trend_query q;
    memset(&q, 0, sizeof q);
    q.from = from;
    q.to = to;
    q.period = period;
    q.measures[M_KILLED] = q.measures[M_INJURED] = q.measures[M_CASUALTIES] = true;
    snprintf(q.status, sizeof q.status, "%s", p->status);
    q.compare = compare ? COMPARE_PREVIOUS_YEAR : COMPARE_NONE;
    /* The dimension names are ours, never a client's. */
    static const char *const names[] = {"party_group", "party", "tactic", "weapon", "admin1",
                                        "admin2", "region", "sex", "age_group", "outcome",
                                        "category"};
    char copy[64];
    snprintf(copy, sizeof copy, "%s", by ? by : "");
    char *save = NULL;
    for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save))
        for (int d = 0; d < DIM_COUNT; d++)
            if (strcmp(names[d], s) == 0)
                q.by[q.nby++] = d;
    return trend_run(c, &q, t, e);
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

static const char *const share_columns[] = {"killed", "injured", "casualties", "share_pct",
                                            "previous_casualties", "change_pct", NULL};

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

static const char *month_names[] = {"January", "February", "March", "April", "May", "June", "July",
                                    "August", "September", "October", "November", "December"};

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
    static const char *const cols[] = {"killed", "injured", "casualties", "previous_killed",
                                       "previous_injured", "previous_casualties", "change_pct",
                                       NULL};
    json_t *tbl = table_new("headline", "Civilian casualties", cols);
    json_t *v = values_json(now);
    json_object_set_new(v, "previous_killed", json_integer(prev->killed));
    json_object_set_new(v, "previous_injured", json_integer(prev->injured));
    json_object_set_new(v, "previous_casualties", json_integer(prev->casualties));
    json_object_set_new(v, "change_pct", trend_pct(now->casualties - prev->casualties, prev->casualties));
    json_object_set_new(tbl, "total", json_deep_copy(v));
    add_row(tbl, json_object(), "Civilian casualties", v);
    return tbl;
}

static json_t *same_period_by_year(struct db_conn *c, const struct taxonomy *t,
                                   const struct poc_params *p, struct api_error *e)
{
    static const char *const cols[] = {"killed", "injured", "casualties", NULL};
    json_t *tbl = table_new("same_period_by_year", "The same period in earlier years", cols);
    for (int back = p->years - 1; back >= 0; back--) {
        long from = date_minus_years(p->from, back), to = date_minus_years(p->to, back);
        json_t *tr = trend(c, t, p, from, to, PERIOD_YEAR, NULL, false, e);
        if (!tr) {
            json_decref(tbl);
            return NULL;
        }
        struct figures f;
        figures_of(json_object_get(tr, "total"), &f);
        json_decref(tr);
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

/* by_month and by_quarter: one row per bucket of the trend. */
static json_t *by_bucket(json_t *tr, const char *name, const char *title, const char *keyname,
                         const struct figures *all)
{
    static const char *const cols[] = {"killed", "injured", "casualties", NULL};
    json_t *tbl = table_new(name, title, cols);
    json_t *periods = json_object_get(tr, "periods");
    json_t *totals = json_object_get(tr, "period_totals");
    for (size_t i = 0; i < json_array_size(periods); i++) {
        struct figures f;
        f.killed = json_integer_value(json_array_get(json_object_get(totals, "killed"), i));
        f.injured = json_integer_value(json_array_get(json_object_get(totals, "injured"), i));
        f.casualties = json_integer_value(json_array_get(json_object_get(totals, "casualties"), i));
        const char *label = json_string_value(json_array_get(periods, i));
        char pretty[32];
        int y, m;
        if (strcmp(keyname, "month") == 0 && sscanf(label, "%d-%d", &y, &m) == 2 && m >= 1 && m <= 12)
            snprintf(pretty, sizeof pretty, "%s %d", month_names[m - 1], y);
        else
            snprintf(pretty, sizeof pretty, "%s", label);
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

static int rank_of(const struct tx_list *list, const char *code)
{
    const struct tx_code *found = code ? taxonomy_find(list, code) : NULL;
    return found ? found->order : 1 << 30; /* unknown and null last */
}

static const char *name_of(const struct tx_list *list, const char *code)
{
    const struct tx_code *found = code ? taxonomy_find(list, code) : NULL;
    return found ? found->name : NULL;
}

/* A share table from a compared trend by one or two dimensions. lists give
 * the taxonomy list of each key (for order and labels); subtotal_dims > 0
 * adds a subtotal row per value of the first dimension. */
static json_t *share_table(json_t *tr, const char *name, const char *title, const char **dimnames,
                           int ndims, const struct tx_list **lists, bool subtotals,
                           const struct figures *all, const struct figures *all_prev)
{
    json_t *tbl = table_new(name, title, share_columns);
    json_t *series = json_object_get(tr, "series");
    json_t *before = json_object_get(json_object_get(tr, "compare"), "series");
    size_t n = json_array_size(series);
    struct ranked *order = xcalloc(n ? n : 1, sizeof *order);
    for (size_t i = 0; i < n; i++) {
        json_t *key = json_object_get(json_array_get(series, i), "key");
        order[i].index = i;
        for (int k = 0; k < ndims; k++) {
            const char *code = json_string_value(json_object_get(key, dimnames[k]));
            order[i].rank[k] = rank_of(lists[k], code);
        }
    }
    qsort(order, n, sizeof *order, ranked_cmp);
    const char *current_group = NULL;
    bool have_group = false;
    for (size_t r = 0; r < n; r++) {
        json_t *s = json_array_get(series, order[r].index);
        json_t *key = json_object_get(s, "key");
        struct figures f, prev;
        figures_of(json_object_get(s, "total"), &f);
        figures_of(json_object_get(json_array_get(before, order[r].index), "total"), &prev);
        const char *first = json_string_value(json_object_get(key, dimnames[0]));
        if (subtotals && (!have_group || (first ? !current_group || strcmp(first, current_group)
                                                : current_group != NULL))) {
            /* The group's subtotal: the sum of its rows that follow. */
            struct figures g = {0, 0, 0}, gp = {0, 0, 0};
            for (size_t q = r; q < n; q++) {
                json_t *sq = json_array_get(series, order[q].index);
                const char *fq = json_string_value(
                    json_object_get(json_object_get(sq, "key"), dimnames[0]));
                if ((fq == NULL) != (first == NULL) || (fq && strcmp(fq, first) != 0))
                    break;
                struct figures a, b;
                figures_of(json_object_get(sq, "total"), &a);
                figures_of(json_object_get(json_array_get(before, order[q].index), "total"), &b);
                g.killed += a.killed;
                g.injured += a.injured;
                g.casualties += a.casualties;
                gp.casualties += b.casualties;
            }
            json_t *gkey = json_object();
            json_object_set_new(gkey, dimnames[0], first ? json_string(first) : json_null());
            json_t *v = share_values(&g, gp.casualties, all->casualties);
            add_row(tbl, gkey, lists[0] ? name_of(lists[0], first) : first, v);
            json_t *rows = json_object_get(tbl, "rows");
            json_object_set_new(json_array_get(rows, json_array_size(rows) - 1), "subtotal",
                                json_true());
            current_group = first;
            have_group = true;
        }
        const char *last = json_string_value(json_object_get(key, dimnames[ndims - 1]));
        const char *label = lists[ndims - 1] ? name_of(lists[ndims - 1], last) : last;
        add_row(tbl, json_deep_copy(key), label, share_values(&f, prev.casualties, all->casualties));
    }
    free(order);
    json_object_set_new(tbl, "total", share_values(all, all_prev->casualties, all->casualties));
    return tbl;
}

static const char *const category_order[] = {"men",  "women", "boys", "girls", "adult_unknown_sex",
                                              "child_unknown_sex", "unknown", NULL};

/* by_category always lists all seven categories. */
static json_t *by_category(json_t *tr, const struct figures *all, const struct figures *all_prev)
{
    json_t *tbl = table_new("by_category", "Civilian casualties by sex and age", share_columns);
    static const char *const labels[] = {"Men", "Women", "Boys", "Girls", "Adults, sex unknown",
                                         "Children, sex unknown", "Age unknown"};
    json_t *series = json_object_get(tr, "series");
    json_t *before = json_object_get(json_object_get(tr, "compare"), "series");
    for (int k = 0; category_order[k]; k++) {
        struct figures f = {0, 0, 0}, prev = {0, 0, 0};
        for (size_t i = 0; i < json_array_size(series); i++) {
            json_t *s = json_array_get(series, i);
            const char *code = json_string_value(json_object_get(json_object_get(s, "key"), "category"));
            if (code && strcmp(code, category_order[k]) == 0) {
                figures_of(json_object_get(s, "total"), &f);
                figures_of(json_object_get(json_array_get(before, i), "total"), &prev);
            }
        }
        add_row(tbl, json_pack("{s:s}", "category", category_order[k]), labels[k],
                share_values(&f, prev.casualties, all->casualties));
    }
    json_object_set_new(tbl, "total", share_values(all, all_prev->casualties, all->casualties));
    return tbl;
}

/* Women and children by one dimension (first key of a trend by dim,category). */
static json_t *women_children(json_t *tr, const char *name, const char *title, const char *dim,
                              const struct tx_list *list)
{
    static const char *const cols[] = {"women_killed",   "women_injured",   "women_casualties",
                                       "children_killed", "children_injured", "children_casualties",
                                       NULL};
    json_t *tbl = table_new(name, title, cols);
    json_t *series = json_object_get(tr, "series");
    size_t n = json_array_size(series);
    /* Distinct values of dim in display order. */
    struct ranked *order = xcalloc(n ? n : 1, sizeof *order);
    size_t distinct = 0;
    for (size_t i = 0; i < n; i++) {
        const char *code = json_string_value(
            json_object_get(json_object_get(json_array_get(series, i), "key"), dim));
        bool seen = false;
        for (size_t j = 0; j < distinct && !seen; j++) {
            const char *other = json_string_value(json_object_get(
                json_object_get(json_array_get(series, order[j].index), "key"), dim));
            seen = (code == NULL && other == NULL) || (code && other && strcmp(code, other) == 0);
        }
        if (!seen) {
            order[distinct].index = i;
            order[distinct].rank[0] = rank_of(list, code);
            distinct++;
        }
    }
    qsort(order, distinct, sizeof *order, ranked_cmp);
    long long total[6] = {0};
    for (size_t j = 0; j < distinct; j++) {
        const char *code = json_string_value(
            json_object_get(json_object_get(json_array_get(series, order[j].index), "key"), dim));
        long long v[6] = {0};
        for (size_t i = 0; i < n; i++) {
            json_t *s = json_array_get(series, i);
            json_t *key = json_object_get(s, "key");
            const char *c2 = json_string_value(json_object_get(key, dim));
            if ((c2 == NULL) != (code == NULL) || (c2 && strcmp(c2, code) != 0))
                continue;
            const char *cat = json_string_value(json_object_get(key, "category"));
            int base = -1;
            if (cat && strcmp(cat, "women") == 0)
                base = 0;
            else if (cat && (strcmp(cat, "boys") == 0 || strcmp(cat, "girls") == 0 ||
                             strcmp(cat, "child_unknown_sex") == 0))
                base = 3;
            if (base < 0)
                continue;
            struct figures f;
            figures_of(json_object_get(s, "total"), &f);
            v[base] += f.killed;
            v[base + 1] += f.injured;
            v[base + 2] += f.casualties;
        }
        if (v[2] == 0 && v[5] == 0)
            continue;
        json_t *values = json_object();
        for (int k = 0; k < 6; k++) {
            json_object_set_new(values, cols[k], json_integer(v[k]));
            total[k] += v[k];
        }
        json_t *key = json_object();
        json_object_set_new(key, dim, code ? json_string(code) : json_null());
        add_row(tbl, key, name_of(list, code), values);
    }
    free(order);
    json_t *tot = json_object();
    for (int k = 0; k < 6; k++)
        json_object_set_new(tot, cols[k], json_integer(total[k]));
    json_object_set_new(tbl, "total", tot);
    return tbl;
}

json_t *poc_build(struct db_conn *c, const struct poc_params *p, const struct taxonomy *t,
                  struct api_error *e)
{
    json_t *report = NULL, *tables = json_array();
    json_t *tr_total = NULL, *tr_month = NULL, *tr_quarter = NULL, *tr_party = NULL,
           *tr_tactic = NULL, *tr_cat = NULL, *tr_wc_group = NULL, *tr_wc_tactic = NULL,
           *tr_region = NULL, *tr_province = NULL, *multi = NULL;
    /* Every figure from one snapshot, so the tables agree with each other. */
    if (!db_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e))
        goto done;
    if (!(tr_total = trend(c, t, p, p->from, p->to, PERIOD_YEAR, NULL, true, e)) ||
        !(multi = same_period_by_year(c, t, p, e)) ||
        !(tr_month = trend(c, t, p, p->from, p->to, PERIOD_MONTH, NULL, false, e)) ||
        !(tr_quarter = trend(c, t, p, p->from, p->to, PERIOD_QUARTER, NULL, false, e)) ||
        !(tr_party = trend(c, t, p, p->from, p->to, PERIOD_YEAR, "party_group,party", true, e)) ||
        !(tr_tactic = trend(c, t, p, p->from, p->to, PERIOD_YEAR, "tactic", true, e)) ||
        !(tr_cat = trend(c, t, p, p->from, p->to, PERIOD_YEAR, "category", true, e)) ||
        !(tr_wc_group = trend(c, t, p, p->from, p->to, PERIOD_YEAR, "party_group,category", false, e)) ||
        !(tr_wc_tactic = trend(c, t, p, p->from, p->to, PERIOD_YEAR, "tactic,category", false, e)) ||
        !(tr_region = trend(c, t, p, p->from, p->to, PERIOD_YEAR, "region", true, e)) ||
        !(tr_province = trend(c, t, p, p->from, p->to, PERIOD_YEAR, "region,admin1", true, e)))
        goto done;

    struct figures all, all_prev;
    figures_of(json_object_get(tr_total, "total"), &all);
    figures_of(json_object_get(json_object_get(tr_total, "compare"), "total"), &all_prev);

    json_array_append_new(tables, headline(&all, &all_prev));
    json_array_append(tables, multi);
    json_array_append_new(tables, by_bucket(tr_month, "by_month", "Civilian casualties by month",
                                            "month", &all));
    json_array_append_new(tables, by_bucket(tr_quarter, "by_quarter",
                                            "Civilian casualties by quarter", "quarter", &all));
    const char *party_dims[] = {"party_group", "party"};
    const struct tx_list *party_lists[] = {&t->party_groups, &t->parties};
    json_array_append_new(tables, share_table(tr_party, "by_party",
                                              "Civilian casualties by party to the conflict",
                                              party_dims, 2, party_lists, true, &all, &all_prev));
    const char *tactic_dims[] = {"tactic"};
    const struct tx_list *tactic_lists[] = {&t->tactics};
    json_array_append_new(tables, share_table(tr_tactic, "by_tactic",
                                              "Civilian casualties by tactic", tactic_dims, 1,
                                              tactic_lists, false, &all, &all_prev));
    json_array_append_new(tables, by_category(tr_cat, &all, &all_prev));
    json_array_append_new(tables, women_children(tr_wc_group, "women_children_by_party_group",
                                                 "Women and children casualties by party group",
                                                 "party_group", &t->party_groups));
    json_array_append_new(tables, women_children(tr_wc_tactic, "women_children_by_tactic",
                                                 "Women and children casualties by tactic",
                                                 "tactic", &t->tactics));
    const char *region_dims[] = {"region"};
    const struct tx_list *region_lists[] = {&t->regions};
    json_array_append_new(tables, share_table(tr_region, "by_region",
                                              "Civilian casualties by region", region_dims, 1,
                                              region_lists, false, &all, &all_prev));
    const char *province_dims[] = {"region", "admin1"};
    const struct tx_list *province_lists[] = {&t->regions, &t->areas};
    json_array_append_new(tables, share_table(tr_province, "by_province",
                                              "Civilian casualties by province", province_dims, 2,
                                              province_lists, false, &all, &all_prev));

    report = json_object();
    json_object_set_new(report, "period",
                        json_pack("{s:o, s:o}", "from", date_json(p->from), "to", date_json(p->to)));
    json_object_set_new(report, "comparison_period",
                        json_pack("{s:o, s:o}", "from", date_json(date_minus_years(p->from, 1)),
                                  "to", date_json(date_minus_years(p->to, 1))));
    json_object_set_new(report, "status", status_array(p->status));
    json_object_set_new(report, "years", json_integer(p->years));
    json_object_set_new(report, "rounding", json_string(rounding));
    json_object_set(report, "tables", tables);
done:
    db_rollback(c);
    json_decref(tables);
    json_decref(multi);
    json_decref(tr_total);
    json_decref(tr_month);
    json_decref(tr_quarter);
    json_decref(tr_party);
    json_decref(tr_tactic);
    json_decref(tr_cat);
    json_decref(tr_wc_group);
    json_decref(tr_wc_tactic);
    json_decref(tr_region);
    json_decref(tr_province);
    return report;
}
