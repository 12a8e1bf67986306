/* The Protection of Civilians report tables, from the trend engine. */
#include "reports/poc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/incident.h"
#include "domain/phrases.h"
#include "trends/trend_render.h"
#include "util/dates.h"
#include "util/mem.h"

const char *const poc_param_names[] = {"from",  "to",    "years", "status", "format",
                                       "table", "range", "lang",  "digits", "as_of", NULL};

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
                                          "thematic",
                                          "by_attribution",
                                          "by_role",
                                          NULL};

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
    snprintf(p->lang, sizeof p->lang, "%s", LANG_DEFAULT);
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
    const char *range = get(ctx, "range");
    if (range && strcmp(range, "true") != 0 && strcmp(range, "false") != 0)
        return err_invalid(e, "range", "range must be true or false");
    p->range = range && strcmp(range, "true") == 0;
    return trend_parse_as_of(get, ctx, p->as_of, e);
}

bool poc_parse_digits(param_fn get, void *ctx, bool *latin, struct api_error *e)
{
    const char *d = get(ctx, "digits");
    *latin = d && strcmp(d, "latin") == 0;
    if (d && !*latin && strcmp(d, "native") != 0)
        return err_invalid(e, "digits", "digits must be latin or native");
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
    /* Only when asked, so that snapshots without it keep their bytes. */
    if (p->range)
        json_object_set_new(o, "range", json_true());
    return o;
}

/* ---- figures from the trend engine --------------------------------------- */

/* A count and its low and high estimates (indexed by enum trend_estimate;
 * the estimates stay 0 unless the report asked for them). */
struct figure {
    long long v[EST_COUNT];
};

struct figures {
    struct figure killed, injured, casualties, incidents;
};

/* The figures of a series' or a range's totals ([estimate][measure]). */
static void figures_of(const long long (*total)[M_COUNT], struct figures *f)
{
    for (int est = 0; est < EST_COUNT; est++) {
        f->killed.v[est] = total[est][M_KILLED];
        f->injured.v[est] = total[est][M_INJURED];
        f->casualties.v[est] = total[est][M_CASUALTIES];
        f->incidents.v[est] = total[est][M_INCIDENTS];
    }
}

static void figure_add(struct figure *a, const struct figure *b)
{
    for (int est = 0; est < EST_COUNT; est++)
        a->v[est] += b->v[est];
}

static void figures_add(struct figures *a, const struct figures *b)
{
    figure_add(&a->killed, &b->killed);
    figure_add(&a->injured, &b->injured);
    figure_add(&a->casualties, &b->casualties);
    figure_add(&a->incidents, &b->incidents);
}

/* The count, or with range {"low", "best", "high"}, as trends write it. */
static json_t *figure_json(const struct figure *f, bool range)
{
    return trend_figure_json(range, f->v[EST_BEST], f->v[EST_LOW], f->v[EST_HIGH]);
}

/* What the tables are built with: the parameters, the labels and the
 * report's totals (the headline's, now and a year earlier). */
struct poc_ctx {
    const struct poc_params *p;
    const struct taxonomy *t;
    struct figures all, all_prev;
};

/* What a trend of the report asks. */
struct trend_spec {
    enum period_kind period;
    enum trend_dim by[2];
    int nby;
    bool compare;   /* the same period a year earlier too */
    bool incidents; /* the incidents measure too */
};

/* A trend of the report: its query (for the series' keys) and figures. */
struct poc_trend {
    struct trend_query q;
    struct trend_result r;
};

/* The trend of spec over [from, to]. Free tr->r with trend_result_free. */
static bool trend(struct db_conn *c, const struct poc_params *p, long from, long to,
                  const struct trend_spec *spec, struct poc_trend *tr, struct api_error *e)
{
    struct trend_query *q = &tr->q;
    memset(q, 0, sizeof *q);
    q->from = from;
    q->to = to;
    q->period = spec->period;
    q->measures[M_KILLED] = q->measures[M_INJURED] = q->measures[M_CASUALTIES] = true;
    q->measures[M_INCIDENTS] = spec->incidents;
    q->range = p->range;
    memcpy(q->as_of, p->as_of, sizeof q->as_of);
    memcpy(q->incident, p->incident, sizeof q->incident);
    snprintf(q->status, sizeof q->status, "%s", p->status);
    q->compare = spec->compare ? COMPARE_PREVIOUS_YEAR : COMPARE_NONE;
    for (int k = 0; k < spec->nby; k++)
        q->by[q->nby++] = spec->by[k];
    return trend_run(c, q, &tr->r, e);
}

static json_t *values_json(const struct figures *f, bool range)
{
    json_t *o = json_object();
    json_object_set_new(o, "killed", figure_json(&f->killed, range));
    json_object_set_new(o, "injured", figure_json(&f->injured, range));
    json_object_set_new(o, "casualties", figure_json(&f->casualties, range));
    return o;
}

/* A table with its title in the report's language. */
static json_t *table_new(const struct poc_params *p, const char *name, const char *const *columns)
{
    json_t *tbl = json_object();
    json_object_set_new(tbl, "name", json_string(name));
    json_object_set_new(tbl, "title", json_string(phrase_of(p->lang, "title", name)));
    json_t *cols = json_array();
    for (; *columns; columns++)
        json_array_append_new(cols, json_string(*columns));
    json_object_set_new(tbl, "columns", cols);
    json_object_set_new(tbl, "rows", json_array());
    return tbl;
}

static void add_row(const struct poc_params *p, json_t *tbl, json_t *key, const char *label,
                    json_t *values)
{
    json_t *row = json_object();
    json_object_set_new(row, "key", key);
    json_object_set_new(row, "label", json_string(label ? label : phrase(p->lang, "unknown")));
    json_object_set_new(row, "values", values);
    json_array_append_new(json_object_get(tbl, "rows"), row);
}

static const char *const share_columns[] = {
    "killed", "injured", "casualties", "share_pct", "previous_casualties", "change_pct", NULL};
static const char *const share_only_columns[] = {"killed", "injured", "casualties", "share_pct",
                                                 NULL};

/* killed, injured, casualties, share of all; with prev (last year's
 * casualties) also previous_casualties and change. */
static json_t *share_values(const struct poc_ctx *x, const struct figures *now,
                            const struct figure *prev)
{
    json_t *v = values_json(now, x->p->range);
    json_object_set_new(v, "share_pct",
                        trend_pct(now->casualties.v[EST_BEST], x->all.casualties.v[EST_BEST]));
    if (!prev)
        return v;
    json_object_set_new(v, "previous_casualties", figure_json(prev, x->p->range));
    json_object_set_new(
        v, "change_pct",
        trend_pct(now->casualties.v[EST_BEST] - prev->v[EST_BEST], prev->v[EST_BEST]));
    return v;
}

/* The figures of now and of the same period last year, and the change of
 * casualties; with incidents, the incidents of each first. */
static json_t *compared_values(const struct poc_ctx *x, const struct figures *now,
                               const struct figures *prev, bool incidents)
{
    bool range = x->p->range;
    json_t *v = json_object();
    if (incidents)
        json_object_set_new(v, "incidents", figure_json(&now->incidents, range));
    json_object_set_new(v, "killed", figure_json(&now->killed, range));
    json_object_set_new(v, "injured", figure_json(&now->injured, range));
    json_object_set_new(v, "casualties", figure_json(&now->casualties, range));
    if (incidents)
        json_object_set_new(v, "previous_incidents", figure_json(&prev->incidents, range));
    json_object_set_new(v, "previous_killed", figure_json(&prev->killed, range));
    json_object_set_new(v, "previous_injured", figure_json(&prev->injured, range));
    json_object_set_new(v, "previous_casualties", figure_json(&prev->casualties, range));
    long long c = now->casualties.v[EST_BEST], pc = prev->casualties.v[EST_BEST];
    json_object_set_new(v, "change_pct", trend_pct(c - pc, pc));
    return v;
}

/* ---- tables ----------------------------------------------------------------- */

/* A month's name (prefix "month") or its short form ("mon") in lang. */
static const char *month_name(const char *lang, const char *prefix, int month)
{
    char n[4];
    snprintf(n, sizeof n, "%d", month);
    return phrase_of(lang, prefix, n);
}

/* "1 Jan - 30 Jun 2025" in lang. New string (xfree'd by the caller). */
static char *span_label(const char *lang, long from, long to)
{
    int fy, fm, fd, ty, tm, td;
    civil_from_days(from, &fy, &fm, &fd);
    civil_from_days(to, &ty, &tm, &td);
    char nums[4][8];
    snprintf(nums[0], sizeof nums[0], "%d", fd);
    snprintf(nums[1], sizeof nums[1], "%d", fy);
    snprintf(nums[2], sizeof nums[2], "%d", td);
    snprintf(nums[3], sizeof nums[3], "%d", ty);
    const char *fmon = month_name(lang, "mon", fm), *tmon = month_name(lang, "mon", tm);
    struct buf out;
    buf_init(&out);
    if (fy == ty) {
        const char *args[] = {nums[0], fmon, nums[2], tmon, nums[3]};
        phrase_format(&out, phrase(lang, "span.year"), args, 5);
    } else {
        const char *args[] = {nums[0], fmon, nums[1], nums[2], tmon, nums[3]};
        phrase_format(&out, phrase(lang, "span.years"), args, 6);
    }
    return buf_steal(&out, NULL);
}

static json_t *headline(const struct poc_ctx *x)
{
    static const char *const cols[] = {"killed",           "injured",
                                       "casualties",       "previous_killed",
                                       "previous_injured", "previous_casualties",
                                       "change_pct",       NULL};
    json_t *tbl = table_new(x->p, "headline", cols);
    json_t *v = compared_values(x, &x->all, &x->all_prev, false);
    json_object_set_new(tbl, "total", json_deep_copy(v));
    add_row(x->p, tbl, json_object(), phrase(x->p->lang, "title.headline"), v);
    return tbl;
}

static json_t *same_period_by_year(struct db_conn *c, const struct poc_params *p,
                                   struct api_error *e)
{
    static const char *const cols[] = {"killed", "injured", "casualties", NULL};
    static const struct trend_spec whole = {PERIOD_YEAR, {0}, 0, false, false};
    json_t *tbl = table_new(p, "same_period_by_year", cols);
    for (int back = p->years - 1; back >= 0; back--) {
        long from = date_minus_years(p->from, back), to = date_minus_years(p->to, back);
        struct poc_trend tr;
        bool ok = trend(c, p, from, to, &whole, &tr, e);
        struct figures f;
        figures_of(tr.r.now.total, &f);
        trend_result_free(&tr.r);
        if (!ok) {
            json_decref(tbl);
            return NULL;
        }
        int y, m, d;
        civil_from_days(to, &y, &m, &d);
        char year[8];
        snprintf(year, sizeof year, "%d", y % 10000);
        char *label = span_label(p->lang, from, to);
        add_row(p, tbl, json_pack("{s:s}", "year", year), label, values_json(&f, p->range));
        free(label);
    }
    json_object_set_new(tbl, "total", json_null());
    return tbl;
}

/* by_month and by_quarter: one row per period of the trend. */
static json_t *by_period(const struct poc_ctx *x, const struct poc_trend *tr, const char *name,
                         const char *keyname)
{
    static const char *const cols[] = {"killed", "injured", "casualties", NULL};
    json_t *tbl = table_new(x->p, name, cols);
    const struct trend_range *now = &tr->r.now;
    for (long i = 0; i < now->nperiods; i++) {
        /* The low and high estimates exist only when asked for. */
        long long total[EST_COUNT][M_COUNT] = {{0}};
        for (int est = 0; est < EST_COUNT; est++)
            for (int m = 0; m < M_COUNT; m++)
                if (now->period_totals[est][m])
                    total[est][m] = now->period_totals[est][m][i];
        struct figures f;
        figures_of(total, &f);
        char label[16];
        period_label(tr->q.period, now->starts[i], label);
        struct buf pretty;
        buf_init(&pretty);
        if (tr->q.period == PERIOD_MONTH) {
            int y, m, d;
            char year[8];
            civil_from_days(now->starts[i], &y, &m, &d);
            snprintf(year, sizeof year, "%d", y);
            const char *args[] = {month_name(x->p->lang, "month", m), year};
            phrase_format(&pretty, phrase(x->p->lang, "month_year"), args, 2);
        } else {
            buf_puts(&pretty, label);
        }
        char *text = buf_steal(&pretty, NULL);
        add_row(x->p, tbl, json_pack("{s:s}", keyname, label), text, values_json(&f, x->p->range));
        free(text);
    }
    json_object_set_new(tbl, "total", values_json(&x->all, x->p->range));
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

/* The series of a trend's current range in the deployment's display order
 * (xcalloc'd; *n set). Only the series with casualties in the period or,
 * when compared, the same period last year: a trend that also counts
 * incidents has series of incidents without casualties. */
static struct ranked *series_in_order(const struct poc_ctx *x, const struct poc_trend *tr,
                                      size_t *n)
{
    const struct trend_query *q = &tr->q;
    const struct trend_range *now = &tr->r.now, *before = &tr->r.before;
    struct ranked *order = xcalloc(now->nseries ? now->nseries : 1, sizeof *order);
    *n = 0;
    for (size_t i = 0; i < now->nseries; i++) {
        bool harmed = now->series[i].total[EST_BEST][M_CASUALTIES] != 0 ||
                      (tr->r.compared && before->series[i].total[EST_BEST][M_CASUALTIES] != 0);
        if (!harmed)
            continue;
        order[*n].index = i;
        for (int k = 0; k < q->nby; k++)
            order[*n].rank[k] = trend_dim_rank(x->t, q->by[k], now->series[i].key[k]);
        (*n)++;
    }
    qsort(order, *n, sizeof *order, ranked_cmp);
    return order;
}

/* A share table from a trend by one or two dimensions, rows in the
 * deployment's display order; subtotals adds a row per value of the first
 * dimension before its rows. A compared trend adds last year's casualties
 * and the change. */
static json_t *share_table(const struct poc_ctx *x, const struct poc_trend *tr, const char *name,
                           bool subtotals)
{
    bool compared = tr->r.compared;
    json_t *tbl = table_new(x->p, name, compared ? share_columns : share_only_columns);
    const struct trend_query *q = &tr->q;
    const struct trend_range *now = &tr->r.now, *before = &tr->r.before;
    size_t n;
    struct ranked *order = series_in_order(x, tr, &n);
    int last = q->nby - 1;
    for (size_t r = 0; r < n; r++) {
        const struct trend_series *s = &now->series[order[r].index];
        const char *first = s->key[0];
        if (subtotals && (r == 0 || !same_code(first, now->series[order[r - 1].index].key[0]))) {
            /* The group's subtotal: the sum of its rows that follow. */
            struct figures g, a;
            struct figure previous;
            memset(&g, 0, sizeof g);
            memset(&previous, 0, sizeof previous);
            for (size_t k = r; k < n && same_code(now->series[order[k].index].key[0], first); k++) {
                figures_of(now->series[order[k].index].total, &a);
                figures_add(&g, &a);
                if (compared) {
                    figures_of(before->series[order[k].index].total, &a);
                    figure_add(&previous, &a.casualties);
                }
            }
            json_t *gkey = json_object();
            json_object_set_new(gkey, trend_dim_name(q->by[0]),
                                first ? json_string(first) : json_null());
            add_row(x->p, tbl, gkey, trend_dim_label(x->t, q->by[0], first, x->p->lang),
                    share_values(x, &g, compared ? &previous : NULL));
            json_t *rows = json_object_get(tbl, "rows");
            json_object_set_new(json_array_get(rows, json_array_size(rows) - 1), "subtotal",
                                json_true());
        }
        struct figures f, prev;
        figures_of(s->total, &f);
        if (compared)
            figures_of(before->series[order[r].index].total, &prev);
        add_row(x->p, tbl, trend_series_key_json(q, s),
                trend_dim_label(x->t, q->by[last], s->key[last], x->p->lang),
                share_values(x, &f, compared ? &prev.casualties : NULL));
    }
    free(order);
    json_object_set_new(tbl, "total",
                        share_values(x, &x->all, compared ? &x->all_prev.casualties : NULL));
    return tbl;
}

/* by_category always lists all seven categories. */
static json_t *by_category(const struct poc_ctx *x, const struct poc_trend *tr)
{
    json_t *tbl = table_new(x->p, "by_category", share_columns);
    static const char *const codes[] = {
        "men", "women", "boys", "girls", "adult_unknown_sex", "child_unknown_sex", "unknown"};
    const struct trend_range *now = &tr->r.now, *before = &tr->r.before;
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++) {
        struct figures f, prev;
        memset(&f, 0, sizeof f);
        memset(&prev, 0, sizeof prev);
        for (size_t i = 0; i < now->nseries; i++) {
            if (same_code(now->series[i].key[0], codes[k])) {
                figures_of(now->series[i].total, &f);
                figures_of(before->series[i].total, &prev);
            }
        }
        add_row(x->p, tbl, json_pack("{s:s}", "category", codes[k]),
                phrase_of(x->p->lang, "category", codes[k]), share_values(x, &f, &prev.casualties));
    }
    json_object_set_new(tbl, "total", share_values(x, &x->all, &x->all_prev.casualties));
    return tbl;
}

/* women_killed ... children_casualties of who[0] (women) and who[1]
 * (children). */
static json_t *women_children_values(const struct poc_ctx *x, const struct figures who[2])
{
    static const char *const names[2] = {"women", "children"};
    json_t *v = json_object();
    for (int k = 0; k < 2; k++) {
        const struct figure *f[3] = {&who[k].killed, &who[k].injured, &who[k].casualties};
        static const char *const what[3] = {"killed", "injured", "casualties"};
        for (int m = 0; m < 3; m++) {
            char col[32];
            snprintf(col, sizeof col, "%s_%s", names[k], what[m]);
            json_object_set_new(v, col, figure_json(f[m], x->p->range));
        }
    }
    return v;
}

/* Women and children by one dimension, from a trend by (dim, category). */
static json_t *women_children(const struct poc_ctx *x, const struct poc_trend *tr, const char *name)
{
    static const char *const cols[] = {"women_killed",
                                       "women_injured",
                                       "women_casualties",
                                       "children_killed",
                                       "children_injured",
                                       "children_casualties",
                                       NULL};
    json_t *tbl = table_new(x->p, name, cols);
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
            order[distinct].rank[0] = trend_dim_rank(x->t, dim, code);
            distinct++;
        }
    }
    qsort(order, distinct, sizeof *order, ranked_cmp);
    /* Women's and children's figures; their killed, injured, casualties
     * are the table's columns in order. */
    struct figures total[2];
    memset(total, 0, sizeof total);
    for (size_t j = 0; j < distinct; j++) {
        const char *code = now->series[order[j].index].key[0];
        struct figures v[2];
        memset(v, 0, sizeof v);
        for (size_t i = 0; i < n; i++) {
            const struct trend_series *s = &now->series[i];
            const char *cat = s->key[1];
            if (!same_code(s->key[0], code) || !cat)
                continue;
            int who = -1;
            if (strcmp(cat, "women") == 0)
                who = 0;
            else if (strcmp(cat, "boys") == 0 || strcmp(cat, "girls") == 0 ||
                     strcmp(cat, "child_unknown_sex") == 0)
                who = 1;
            if (who < 0)
                continue;
            struct figures f;
            figures_of(s->total, &f);
            figures_add(&v[who], &f);
        }
        if (v[0].casualties.v[EST_BEST] == 0 && v[1].casualties.v[EST_BEST] == 0)
            continue;
        json_t *key = json_object();
        json_object_set_new(key, trend_dim_name(dim), code ? json_string(code) : json_null());
        add_row(x->p, tbl, key, trend_dim_label(x->t, dim, code, x->p->lang),
                women_children_values(x, v));
        figures_add(&total[0], &v[0]);
        figures_add(&total[1], &v[1]);
    }
    free(order);
    json_object_set_new(tbl, "total", women_children_values(x, total));
    return tbl;
}

/* thematic: per impact, the incidents with it and their casualties, now
 * and a year earlier. An incident with several impacts counts under each,
 * so the rows overlap; the total (the trend's) counts each incident once.
 * NULL when neither period has an incident with an impact. */
static json_t *thematic(const struct poc_ctx *x, const struct poc_trend *tr)
{
    static const char *const cols[] = {"incidents",          "killed",
                                       "injured",            "casualties",
                                       "previous_incidents", "previous_killed",
                                       "previous_injured",   "previous_casualties",
                                       "change_pct",         NULL};
    const struct trend_range *now = &tr->r.now, *before = &tr->r.before;
    if (now->total[EST_BEST][M_INCIDENTS] == 0 && before->total[EST_BEST][M_INCIDENTS] == 0)
        return NULL;
    json_t *tbl = table_new(x->p, "thematic", cols);
    json_t *overlapping = json_array();
    for (const char *const *c = cols; *c; c++)
        if (strcmp(*c, "change_pct") != 0)
            json_array_append_new(overlapping, json_string(*c));
    json_object_set_new(tbl, "overlapping", overlapping);
    json_object_set_new(tbl, "note", json_string(phrase(x->p->lang, "note.thematic")));
    size_t n = now->nseries;
    struct ranked *order = xcalloc(n ? n : 1, sizeof *order);
    for (size_t i = 0; i < n; i++) {
        order[i].index = i;
        order[i].rank[0] = trend_dim_rank(x->t, DIM_IMPACT, now->series[i].key[0]);
    }
    qsort(order, n, sizeof *order, ranked_cmp);
    for (size_t r = 0; r < n; r++) {
        const struct trend_series *s = &now->series[order[r].index];
        struct figures f, prev;
        figures_of(s->total, &f);
        figures_of(before->series[order[r].index].total, &prev);
        add_row(x->p, tbl, trend_series_key_json(&tr->q, s),
                trend_dim_label(x->t, DIM_IMPACT, s->key[0], x->p->lang),
                compared_values(x, &f, &prev, true));
    }
    free(order);
    struct figures all, all_prev;
    figures_of(now->total, &all);
    figures_of(before->total, &all_prev);
    json_object_set_new(tbl, "total", compared_values(x, &all, &all_prev, true));
    return tbl;
}

/* The attribution of an incident nobody has been held responsible for
 * (the default; every taxonomy lists it). */
static const char attribution_unknown[] = "unknown";

/* by_attribution: party group and basis of attribution; NULL when no
 * incident of the period has an attribution other than unknown. */
static json_t *by_attribution(const struct poc_ctx *x, const struct poc_trend *tr)
{
    const struct trend_range *now = &tr->r.now;
    bool any = false;
    for (size_t i = 0; i < now->nseries && !any; i++)
        any = now->series[i].key[1] && strcmp(now->series[i].key[1], attribution_unknown) != 0 &&
              now->series[i].total[EST_BEST][M_INCIDENTS] != 0;
    if (!any)
        return NULL;
    return share_table(x, tr, "by_attribution", true);
}

/* by_role: per victim's role, with the casualties of no recorded role as
 * a row of their own (so the rows add up to the headline); NULL when no
 * casualty of the period has a role. */
static json_t *by_role(const struct poc_ctx *x, const struct poc_trend *tr)
{
    const struct trend_range *now = &tr->r.now;
    bool any = false;
    for (size_t i = 0; i < now->nseries && !any; i++)
        any = now->series[i].key[0] && strcmp(now->series[i].key[0], TAXONOMY_NO_ROLE) != 0;
    if (!any)
        return NULL;
    return share_table(x, tr, "by_role", false);
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
    T_IMPACT,
    T_ATTRIBUTION,
    T_ROLE,
    T_COUNT
};

static const struct trend_spec poc_trends[T_COUNT] = {
    [T_TOTAL] = {PERIOD_YEAR, {0}, 0, true, false},
    [T_MONTH] = {PERIOD_MONTH, {0}, 0, false, false},
    [T_QUARTER] = {PERIOD_QUARTER, {0}, 0, false, false},
    [T_PARTY] = {PERIOD_YEAR, {DIM_PARTY_GROUP, DIM_PARTY}, 2, true, false},
    [T_TACTIC] = {PERIOD_YEAR, {DIM_TACTIC}, 1, true, false},
    [T_CATEGORY] = {PERIOD_YEAR, {DIM_CATEGORY}, 1, true, false},
    [T_WC_GROUP] = {PERIOD_YEAR, {DIM_PARTY_GROUP, DIM_CATEGORY}, 2, false, false},
    [T_WC_TACTIC] = {PERIOD_YEAR, {DIM_TACTIC, DIM_CATEGORY}, 2, false, false},
    [T_REGION] = {PERIOD_YEAR, {DIM_REGION}, 1, true, false},
    [T_PROVINCE] = {PERIOD_YEAR, {DIM_REGION, DIM_ADMIN1}, 2, true, false},
    [T_IMPACT] = {PERIOD_YEAR, {DIM_IMPACT}, 1, true, true},
    [T_ATTRIBUTION] = {PERIOD_YEAR, {DIM_PARTY_GROUP, DIM_ATTRIBUTION}, 2, false, true},
    [T_ROLE] = {PERIOD_YEAR, {DIM_ROLE}, 1, false, false},
};

/* Appends tbl unless it is NULL (a table the data does not call for). */
static void append_table(json_t *tables, json_t *tbl)
{
    if (tbl)
        json_array_append_new(tables, tbl);
}

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
    if (!trend(c, p, p->from, p->to, &poc_trends[T_TOTAL], &tr[T_TOTAL], e) ||
        !(multi = same_period_by_year(c, p, e)))
        goto done;
    for (int i = T_TOTAL + 1; i < T_COUNT; i++)
        if (!trend(c, p, p->from, p->to, &poc_trends[i], &tr[i], e))
            goto done;

    struct poc_ctx x = {.p = p, .t = t};
    figures_of(tr[T_TOTAL].r.now.total, &x.all);
    figures_of(tr[T_TOTAL].r.before.total, &x.all_prev);

    json_array_append_new(tables, headline(&x));
    json_array_append(tables, multi);
    json_array_append_new(tables, by_period(&x, &tr[T_MONTH], "by_month", "month"));
    json_array_append_new(tables, by_period(&x, &tr[T_QUARTER], "by_quarter", "quarter"));
    json_array_append_new(tables, share_table(&x, &tr[T_PARTY], "by_party", true));
    json_array_append_new(tables, share_table(&x, &tr[T_TACTIC], "by_tactic", false));
    json_array_append_new(tables, by_category(&x, &tr[T_CATEGORY]));
    json_array_append_new(tables,
                          women_children(&x, &tr[T_WC_GROUP], "women_children_by_party_group"));
    json_array_append_new(tables, women_children(&x, &tr[T_WC_TACTIC], "women_children_by_tactic"));
    json_array_append_new(tables, share_table(&x, &tr[T_REGION], "by_region", false));
    json_array_append_new(tables, share_table(&x, &tr[T_PROVINCE], "by_province", false));
    /* Tables of the widened record, only where the data has what they
     * show: a report over data without it stays as it always was. */
    append_table(tables, thematic(&x, &tr[T_IMPACT]));
    append_table(tables, by_attribution(&x, &tr[T_ATTRIBUTION]));
    append_table(tables, by_role(&x, &tr[T_ROLE]));

    report = json_object();
    json_object_set_new(
        report, "period",
        json_pack("{s:o, s:o}", "from", date_json(p->from), "to", date_json(p->to)));
    json_object_set_new(report, "comparison_period",
                        json_pack("{s:o, s:o}", "from", date_json(date_minus_years(p->from, 1)),
                                  "to", date_json(date_minus_years(p->to, 1))));
    json_object_set_new(report, "status", comma_list_json(p->status));
    json_object_set_new(report, "years", json_integer(p->years));
    /* Only when asked, so that answers without it stay as they were. */
    if (p->range)
        json_object_set_new(report, "range", json_true());
    json_object_set_new(report, "rounding", json_string(phrase(p->lang, "rounding")));
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
