/* Public trends and reports, answered from the public releases. */
#include "reports/public.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/poc.h"
#include "reports/release.h"
#include "trends/trend_render.h"
#include "util/dates.h"
#include "util/mem.h"

#define PUBLIC_MAX_BUCKETS 120

const char *const public_trend_params[] = {"from",     "to",     "period",      "by",
                                           "measures", "admin1", "region",      "party_group",
                                           "tactic",   "category", "format",    "range",
                                           NULL};

static const char rule[] =
    "public figures come from one release per calendar year, the same in every answer: each "
    "count from 1 to min_cell - 1 is withheld, and further counts are withheld so that every "
    "withheld count can move by at least min_cell without changing any published number of any "
    "answer; zeros are never withheld; a total over several periods is published only when each "
    "of its parts is";
/* Said as well where the answer shows low and high estimates. */
static const char range_rule[] =
    "; a count whose low estimate is from 1 to min_cell - 1 is withheld too, and a count's low "
    "and high estimates are published and withheld with it";

/* The rule as an answer states it. New reference. */
static json_t *rule_json(bool range)
{
    if (!range)
        return json_string(rule);
    char text[sizeof rule + sizeof range_rule];
    snprintf(text, sizeof text, "%s%s", rule, range_rule);
    return json_string(text);
}

const char *public_param(void *ctx, const char *name)
{
    struct public_params *p = ctx;
    const char *v = p->get(p->ctx, name);
    if (v)
        return v;
    int y, m, d;
    civil_from_days(date_today_at_offset(0), &y, &m, &d);
    if (strcmp(name, "from") == 0) {
        date_format(days_from_civil(y, 1, 1), p->from);
        return p->from;
    }
    if (strcmp(name, "to") == 0) {
        date_format(days_from_civil(y, 12, 31), p->to);
        return p->to;
    }
    return NULL;
}

/* ---- checks -------------------------------------------------------------- */

bool public_trend_check(const struct trend_query *q, struct api_error *e)
{
    static const char *const plural[] = {
        [PERIOD_MONTH] = "months", [PERIOD_QUARTER] = "quarters", [PERIOD_HALF] = "halves",
        [PERIOD_YEAR] = "years"};
    const char *kind = period_kind_name(q->period);
    if (q->measures[M_ABDUCTED])
        return err_invalid(e, "measures",
                           "public trends count killed, injured, casualties and incidents");
    bool category = (q->nby == 1 && q->by[0] == DIM_CATEGORY) || q->filters[DIM_CATEGORY];
    if (category && q->measures[M_INCIDENTS])
        return err_invalid(e, "measures",
                           "public trends do not count incidents by category: one incident has "
                           "victims of several kinds");
    if (q->period < PERIOD_MONTH)
        return err_invalid(e, "period", "public trends are by month, quarter, half or year");
    if (period_start(q->period, q->from) != q->from)
        return err_invalid(e, "from",
                           "public trends cover whole %s: from must be the first day of a %s",
                           plural[q->period], kind);
    if (period_next(q->period, period_start(q->period, q->to)) != q->to + 1)
        return err_invalid(e, "to", "public trends cover whole %s: to must be the last day of a %s",
                           plural[q->period], kind);
    int y, m, d;
    civil_from_days(q->from, &y, &m, &d);
    if (y < PUBLIC_FIRST_YEAR)
        return err_invalid(e, "from", "from may not be before %d", PUBLIC_FIRST_YEAR);
    if (period_count(q->period, q->from, q->to) > PUBLIC_MAX_BUCKETS)
        return err_invalid(e, "period", "public trends hold at most %d periods", PUBLIC_MAX_BUCKETS);
    if (q->nby > 1)
        return err_invalid(e, "by", "public trends take at most one dimension");
    if (q->nby == 1 && !release_dim_public(q->by[0]))
        return err_invalid(e, "by",
                           "public trends are by admin1, region, party_group, tactic or category");
    int nfilters = 0;
    for (int dd = 0; dd < DIM_COUNT; dd++) {
        if (!q->filters[dd])
            continue;
        if (!release_dim_public((enum trend_dim)dd))
            return err_invalid(e, trend_dim_name((enum trend_dim)dd),
                               "public trends filter on admin1, region, party_group, tactic or "
                               "category");
        const char *name = trend_dim_name((enum trend_dim)dd);
        if (strchr(q->filters[dd], ','))
            return err_invalid(e, name, "%s takes one code in public trends", name);
        bool same = q->nby == 1 && q->by[0] == (enum trend_dim)dd;
        bool provinces = q->nby == 1 && q->by[0] == DIM_ADMIN1 && dd == DIM_REGION;
        if (++nfilters > 1 || (q->nby == 1 && !same && !provinces))
            return err_invalid(e, name,
                               "public trends take one filter, on the by dimension (or region "
                               "with by=admin1): they never cross two dimensions");
    }
    if (q->format != FORMAT_JSON)
        return err_invalid(e, "format", "public trends are JSON only");
    enum trend_dim dim = q->nby ? q->by[0] : nfilters ? DIM_ADMIN1 : DIM_COUNT;
    enum period_kind finest = release_finest_period(dim);
    if (q->period < finest)
        return err_invalid(e, "period", "public trends by a dimension are by %s or coarser",
                           period_kind_name(finest));
    return true;
}

/* ---- releases of a range ---------------------------------------------------- */

struct releases {
    int first, n;
    struct release **year;
};

static bool releases_build(struct db_conn *c, int first, int last, const struct taxonomy *t,
                           long long k, struct releases *rs, struct api_error *e)
{
    rs->first = first;
    rs->n = last - first + 1;
    rs->year = xcalloc((size_t)rs->n, sizeof *rs->year);
    for (int i = 0; i < rs->n; i++)
        if (!release_build(c, first + i, k, t, &rs->year[i], e))
            return false;
    return true;
}

static void releases_free(struct releases *rs)
{
    for (int i = 0; rs->year && i < rs->n; i++)
        release_free(rs->year[i]);
    free(rs->year);
    rs->year = NULL;
}

static const struct release *release_of(const struct releases *rs, long day)
{
    int y, m, d;
    civil_from_days(day, &y, &m, &d);
    return rs->year[y - rs->first];
}

/* The buckets of [from, to], each a release cell of its year. */
struct buckets {
    long n;
    long *start;
    int *node;
    const struct release **rel;
    const struct releases *rs;
    long from, to;
};

static void buckets_of(const struct releases *rs, enum period_kind kind, long from, long to,
                       struct buckets *b)
{
    b->n = period_count(kind, from, to);
    b->start = xcalloc((size_t)b->n, sizeof *b->start);
    b->node = xcalloc((size_t)b->n, sizeof *b->node);
    b->rel = xcalloc((size_t)b->n, sizeof *b->rel);
    long s = from;
    for (long i = 0; i < b->n; i++, s = period_next(kind, s)) {
        b->start[i] = s;
        b->rel[i] = release_of(rs, s);
        b->node[i] = release_time_node_of(b->rel[i], kind, s);
    }
    b->rs = rs;
    b->from = from;
    b->to = to;
}

static void buckets_free(struct buckets *b)
{
    free(b->start);
    free(b->node);
    free(b->rel);
}

/* ---- trends ------------------------------------------------------------------- */

/* A row of the public tables: a dimension and code, or the national totals
 * (dim DIM_COUNT). */
struct row {
    enum trend_dim dim;
    const char *code;
};

/* Whether the total of row over [from, to] (whole periods) is published:
 * the range is cut into the largest calendar periods that fit (whole
 * years, then halves, quarters, months at its ends), the same whatever
 * the answer's period, and the total is published when each of them is,
 * so it says nothing new and every answer with that range agrees. */
static bool range_published(const struct releases *rs, const struct row *row,
                            enum trend_measure m, long from, long to)
{
    for (long s = from; s <= to;) {
        enum period_kind kind = PERIOD_YEAR;
        while (kind > PERIOD_MONTH &&
               (period_start(kind, s) != s || period_next(kind, s) - 1 > to))
            kind--;
        const struct release *rel = release_of(rs, s);
        long long v;
        if (!release_get(rel, row->dim, row->code, m, release_time_node_of(rel, kind, s), &v))
            return false;
        s = period_next(kind, s);
    }
    return true;
}

/* A published figure: its count, or with range {"low", "best", "high"};
 * null when withheld (all three are withheld together). */
static json_t *figure_json(bool published, bool range, const long long v[EST_COUNT])
{
    return published ? trend_figure_json(range, v[EST_BEST], v[EST_LOW], v[EST_HIGH])
                     : json_null();
}

static json_t *withheld_trend(const char *measure, long series, long period)
{
    json_t *o = json_object();
    json_object_set_new(o, "measure", json_string(measure));
    json_object_set_new(o, "series", series < 0 ? json_string("total") : json_integer(series));
    json_object_set_new(o, "period", period < 0 ? json_string("total") : json_integer(period));
    return o;
}

/* Values per bucket and the total of one row and measure; withheld ones are
 * null and listed. Returns whether any exact value is non-zero. */
static bool row_values(const struct buckets *b, const struct row *row, enum trend_measure m,
                       bool range, long index, json_t *values, json_t **total,
                       json_t *withheld)
{
    bool any = false;
    long long sum[EST_COUNT] = {0};
    const char *name = trend_measure_name(m);
    for (long i = 0; i < b->n; i++) {
        long long v[EST_COUNT];
        bool pub = release_get_estimates(b->rel[i], row->dim, row->code, m, b->node[i], v);
        json_array_append_new(values, figure_json(pub, range, v));
        if (!pub)
            json_array_append_new(withheld, withheld_trend(name, index, i));
        any = any || v[EST_BEST] != 0;
        for (int est = 0; est < EST_COUNT; est++)
            sum[est] += v[est];
    }
    bool pub = range_published(b->rs, row, m, b->from, b->to);
    *total = figure_json(pub, range, sum);
    if (!pub)
        json_array_append_new(withheld, withheld_trend(name, index, -1));
    return any;
}

static int code_cmp(const void *a, const void *b)
{
    const char *x = ((const struct row *)a)->code, *y = ((const struct row *)b)->code;
    if (!x || !y)
        return x ? 1 : y ? -1 : 0;
    return strcmp(x, y);
}

/* The rows an answer lists: one per code of the by dimension with data in
 * the range's years (those of the filter's region, with by=admin1), or the
 * filtered row, or the national totals. */
static int answer_rows(const struct trend_query *q, const struct releases *rs,
                       const struct taxonomy *t, struct row **out)
{
    enum trend_dim filter_dim = DIM_COUNT;
    for (int d = 0; d < DIM_COUNT; d++)
        if (q->filters[d])
            filter_dim = (enum trend_dim)d;
    enum trend_dim by = q->nby ? q->by[0] : DIM_COUNT;
    if (q->nby == 0 || filter_dim == by) {
        *out = xcalloc(1, sizeof **out);
        (*out)[0] = (struct row){filter_dim, filter_dim == DIM_COUNT ? NULL : q->filters[filter_dim]};
        return 1;
    }
    int n = 0, cap = 0;
    struct row *rows = NULL;
    for (int y = 0; y < rs->n; y++) {
        const char *const *codes;
        int nc = release_codes(rs->year[y], by, &codes);
        for (int i = 0; i < nc; i++) {
            if (filter_dim == DIM_REGION) {
                const struct tx_code *a = codes[i] ? taxonomy_find(&t->areas, codes[i]) : NULL;
                if (!a || !a->region || strcmp(a->region, q->filters[DIM_REGION]) != 0)
                    continue;
            }
            if (n == cap) {
                cap = cap ? 2 * cap : 16;
                rows = xrealloc(rows, (size_t)cap * sizeof *rows);
            }
            rows[n++] = (struct row){by, codes[i]};
        }
    }
    if (n > 1)
        qsort(rows, (size_t)n, sizeof *rows, code_cmp);
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (kept == 0 || code_cmp(&rows[kept - 1], &rows[i]) != 0)
            rows[kept++] = rows[i];
    *out = rows;
    return kept;
}

/* The row whose values are an answer's period totals. */
static struct row totals_row(const struct trend_query *q)
{
    for (int d = 0; d < DIM_COUNT; d++)
        if (q->filters[d])
            return (struct row){(enum trend_dim)d, q->filters[d]};
    return (struct row){DIM_COUNT, NULL};
}

static json_t *periods_json(const struct buckets *b, enum period_kind kind)
{
    json_t *a = json_array();
    for (long i = 0; i < b->n; i++) {
        char label[16];
        period_label(kind, b->start[i], label);
        json_array_append_new(a, json_string(label));
    }
    return a;
}

json_t *public_trend_answer(struct db_conn *c, const struct trend_query *q,
                            const struct taxonomy *t, long long k, struct api_error *e)
{
    int fy, ty, m, d;
    civil_from_days(q->from, &fy, &m, &d);
    civil_from_days(q->to, &ty, &m, &d);
    struct releases rs = {0};
    bool own_tx = !db_in_transaction(c);
    if (own_tx && !db_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e))
        return NULL;
    bool ok = releases_build(c, fy, ty, t, k, &rs, e);
    if (own_tx)
        db_rollback(c);
    if (!ok) {
        releases_free(&rs);
        return NULL;
    }
    struct buckets b;
    buckets_of(&rs, q->period, q->from, q->to, &b);
    json_t *answer = json_object(), *withheld = json_array();
    json_object_set_new(answer, "query", trend_query_json(q));
    json_object_set_new(answer, "periods", periods_json(&b, q->period));

    struct row *rows;
    int nrows = answer_rows(q, &rs, t, &rows);
    json_t *series = json_array();
    for (int i = 0; i < nrows; i++) {
        json_t *s = json_object(), *key = json_object(), *labels = json_object();
        if (q->nby == 1) {
            json_object_set_new(key, trend_dim_name(rows[i].dim),
                                rows[i].code ? json_string(rows[i].code) : json_null());
            const char *label = trend_dim_label(t, rows[i].dim, rows[i].code, NULL);
            if (label)
                json_object_set_new(labels, trend_dim_name(rows[i].dim), json_string(label));
        }
        json_object_set_new(s, "key", key);
        json_object_set_new(s, "labels", labels);
        json_t *values = json_object(), *total = json_object(), *listed = json_array();
        bool any = false;
        long index = (long)json_array_size(series);
        for (enum trend_measure mm = 0; mm < M_COUNT; mm++) {
            if (!q->measures[mm])
                continue;
            json_t *per = json_array(), *tot;
            any = row_values(&b, &rows[i], mm, q->range, index, per, &tot, listed) || any;
            json_object_set_new(values, trend_measure_name(mm), per);
            json_object_set_new(total, trend_measure_name(mm), tot);
        }
        json_object_set_new(s, "values", values);
        json_object_set_new(s, "total", total);
        /* A series that is zero throughout says nothing: as in /v1/trends,
         * only the national row is listed when it is. */
        if (any || q->nby == 0) {
            json_array_append_new(series, s);
            json_array_extend(withheld, listed);
        } else {
            json_decref(s);
        }
        json_decref(listed);
    }
    free(rows);
    json_object_set_new(answer, "series", series);

    struct row tr = totals_row(q);
    json_t *period_totals = json_object(), *total = json_object();
    for (enum trend_measure mm = 0; mm < M_COUNT; mm++) {
        if (!q->measures[mm])
            continue;
        json_t *per = json_array(), *tot;
        row_values(&b, &tr, mm, q->range, -1, per, &tot, withheld);
        json_object_set_new(period_totals, trend_measure_name(mm), per);
        json_object_set_new(total, trend_measure_name(mm), tot);
    }
    json_object_set_new(answer, "period_totals", period_totals);
    json_object_set_new(answer, "total", total);
    json_object_set_new(answer, "suppression",
                        json_pack("{s:I, s:o, s:o}", "min_cell", (json_int_t)k, "rule",
                                  rule_json(q->range), "withheld", withheld));
    buckets_free(&b);
    releases_free(&rs);
    return answer;
}

/* ---- reports ------------------------------------------------------------------ */

static const char *const report_counts[] = {"killed", "injured", "casualties"};
static const enum trend_measure report_measures[] = {M_KILLED, M_INJURED, M_CASUALTIES};

struct report_ctx {
    const struct releases *rs;
    const struct release *now, *before; /* the period's year and the year before */
    int node;                          /* the period's time node */
    bool range;                        /* the report shows low and high estimates */
    json_t *withheld;
    bool head_pub;                     /* the headline's casualties are published */
    long long head;                    /* and their figure */
};

static json_t *withheld_report(const char *table, long row, const char *column)
{
    return json_pack("{s:s, s:o, s:s}", "table", table, "row",
                     row < 0 ? json_string("total") : json_integer(row), "column", column);
}

/* killed, injured, casualties of a row at a node of a year's release; with
 * shares, share_pct (of the headline) and change_pct (on the year before),
 * each only from published counts. */
static json_t *report_values(const struct report_ctx *x, const struct release *rel, int node,
                             const struct row *row, bool shares, const char *table, long index)
{
    json_t *v = json_object();
    long long figure[3], estimates[EST_COUNT];
    bool pub[3];
    for (int i = 0; i < 3; i++) {
        pub[i] = release_get_estimates(rel, row->dim, row->code, report_measures[i], node,
                                       estimates);
        figure[i] = estimates[EST_BEST];
        json_object_set_new(v, report_counts[i], figure_json(pub[i], x->range, estimates));
        if (!pub[i])
            json_array_append_new(x->withheld, withheld_report(table, index, report_counts[i]));
    }
    if (!shares)
        return v;
    long long prev;
    bool prev_pub = release_get(x->before, row->dim, row->code, M_CASUALTIES, node, &prev);
    json_object_set_new(v, "share_pct",
                        pub[2] && x->head_pub ? trend_pct(figure[2], x->head) : json_null());
    json_object_set_new(v, "change_pct",
                        pub[2] && prev_pub ? trend_pct(figure[2] - prev, prev) : json_null());
    return v;
}

static json_t *columns_json(bool shares)
{
    json_t *c = json_pack("[s, s, s]", "killed", "injured", "casualties");
    if (shares) {
        json_array_append_new(c, json_string("share_pct"));
        json_array_append_new(c, json_string("change_pct"));
    }
    return c;
}

/* A public table: the rows of the published table (their keys and labels;
 * the figures they stand for are the current ones, checked by the caller),
 * each looked up in the release. dim: the rows' dimension (DIM_COUNT with
 * by_year / by_month for the national totals at other nodes). */
enum row_kind { ROWS_HEADLINE, ROWS_YEARS, ROWS_MONTHS, ROWS_DIM };

static json_t *public_table(const struct report_ctx *x, json_t *tbl, enum row_kind kind,
                            enum trend_dim dim, bool groups_only, bool shares)
{
    const char *name = json_string_value(json_object_get(tbl, "name"));
    json_t *out = json_object(), *rows = json_array();
    json_object_set_new(out, "name", json_string(name));
    json_object_set(out, "title", json_object_get(tbl, "title"));
    json_object_set_new(out, "columns", columns_json(shares));
    size_t i;
    json_t *src;
    json_array_foreach(json_object_get(tbl, "rows"), i, src) {
        if (groups_only && !json_is_true(json_object_get(src, "subtotal")))
            continue;
        json_t *key = json_object_get(src, "key");
        const struct release *rel = x->now;
        int node = x->node;
        struct row row = {DIM_COUNT, NULL};
        if (kind == ROWS_YEARS) {
            long year = strtol(json_string_value(json_object_get(key, "year")), NULL, 10);
            if (year < x->rs->first || year >= x->rs->first + x->rs->n)
                continue; /* cannot happen: the years come from the report */
            rel = x->rs->year[year - x->rs->first];
        } else if (kind == ROWS_MONTHS) {
            long day;
            char text[11];
            snprintf(text, sizeof text, "%s-01", json_string_value(json_object_get(key, "month")));
            date_parse(text, &day);
            node = release_time_node_of(rel, PERIOD_MONTH, day);
        } else if (kind == ROWS_DIM) {
            row.dim = dim;
            row.code = json_string_value(json_object_get(key, trend_dim_name(dim)));
        }
        json_t *r = json_object();
        json_object_set(r, "key", key);
        json_object_set(r, "label", json_object_get(src, "label"));
        json_object_set_new(r, "values", report_values(x, rel, node, &row, shares, name,
                                                       (long)json_array_size(rows)));
        json_array_append_new(rows, r);
    }
    json_object_set_new(out, "rows", rows);
    if (kind == ROWS_MONTHS || kind == ROWS_DIM) {
        struct row national = {DIM_COUNT, NULL};
        json_object_set_new(out, "total",
                            report_values(x, x->now, x->node, &national, shares, name, -1));
    } else {
        json_object_set_new(out, "total", json_null());
    }
    return out;
}

/* The release node of a report's period, or -1 when it is not one
 * calendar month, quarter, half or year. */
static int period_node(json_t *report, int *year)
{
    json_t *period = json_object_get(report, "period");
    long from, to;
    if (!date_parse(json_string_value(json_object_get(period, "from")), &from) ||
        !date_parse(json_string_value(json_object_get(period, "to")), &to))
        return -1;
    int m, d;
    civil_from_days(from, year, &m, &d);
    for (enum period_kind k = PERIOD_MONTH; k <= PERIOD_YEAR; k++) {
        if (period_start(k, from) != from || period_next(k, from) != to + 1)
            continue;
        switch (k) {
        case PERIOD_MONTH:
            return release_time_node(k, m - 1);
        case PERIOD_QUARTER:
            return release_time_node(k, (m - 1) / 3);
        case PERIOD_HALF:
            return release_time_node(k, (m - 1) / 6);
        default:
            return 0;
        }
    }
    return -1;
}

/* Whether report's figures are today's: the same report built now has the
 * same tables. */
static bool still_current(struct db_conn *c, json_t *report, const struct taxonomy *t,
                          bool *current, struct api_error *e)
{
    struct poc_params p;
    memset(&p, 0, sizeof p);
    json_t *period = json_object_get(report, "period");
    date_parse(json_string_value(json_object_get(period, "from")), &p.from);
    date_parse(json_string_value(json_object_get(period, "to")), &p.to);
    p.years = (int)json_integer_value(json_object_get(report, "years"));
    p.range = json_is_true(json_object_get(report, "range"));
    snprintf(p.status, sizeof p.status, "verified");
    json_t *now = poc_build(c, &p, t, e);
    if (!now)
        return false;
    *current = json_equal(json_object_get(now, "tables"), json_object_get(report, "tables"));
    json_decref(now);
    return true;
}

json_t *public_report_build(struct db_conn *c, json_t *report, const struct taxonomy *t,
                            long long k, struct api_error *e)
{
    json_t *status = json_object_get(report, "status");
    if (json_array_size(status) != 1 ||
        strcmp(json_string_value(json_array_get(status, 0)), "verified") != 0)
    {
        api_error_set(e, 422, ERR_INVALID_FIELD, "status",
                      "only a report of verified incidents can be made public");
        return NULL;
    }
    int year;
    int node = period_node(report, &year);
    if (node < 0 || node >= release_time_node(PERIOD_MONTH, 0)) {
        api_error_set(e, 422, ERR_INVALID_FIELD, "period",
                      "only a report of one calendar quarter, half or year can be made public");
        return NULL;
    }
    int years = (int)json_integer_value(json_object_get(report, "years"));
    if (years < 1)
        years = 1;
    struct releases rs = {0};
    bool current = false;
    bool ok = db_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e) &&
              still_current(c, report, t, &current, e) &&
              (!current || releases_build(c, year - (years > 1 ? years - 1 : 1), year, t, k, &rs, e));
    db_rollback(c);
    if (!ok) {
        releases_free(&rs);
        return NULL;
    }
    if (!current) {
        api_error_set(e, 409, ERR_CONFLICT, NULL,
                      "the figures changed since this report was published; publish it again "
                      "and make the new one public");
        return NULL;
    }
    bool range = json_is_true(json_object_get(report, "range"));
    struct report_ctx x = {&rs,   rs.year[year - rs.first], rs.year[year - 1 - rs.first], node,
                           range, json_array(),             false,                        0};
    x.head_pub = release_get(x.now, DIM_COUNT, NULL, M_CASUALTIES, node, &x.head);

    static const struct {
        const char *name;
        enum row_kind kind;
        enum trend_dim dim;
        bool groups_only, shares;
    } tables[] = {
        {"headline", ROWS_HEADLINE, DIM_COUNT, false, false},
        {"same_period_by_year", ROWS_YEARS, DIM_COUNT, false, false},
        {"by_month", ROWS_MONTHS, DIM_COUNT, false, false},
        {"by_party", ROWS_DIM, DIM_PARTY_GROUP, true, true},
        {"by_tactic", ROWS_DIM, DIM_TACTIC, false, true},
        {"by_category", ROWS_DIM, DIM_CATEGORY, false, true},
        {"by_region", ROWS_DIM, DIM_REGION, false, true},
    };
    json_t *out = json_object(), *list = json_array();
    json_object_set(out, "period", json_object_get(report, "period"));
    json_object_set(out, "comparison_period", json_object_get(report, "comparison_period"));
    json_object_set_new(out, "status", json_pack("[s]", "verified"));
    json_object_set(out, "rounding", json_object_get(report, "rounding"));
    if (range)
        json_object_set_new(out, "range", json_true());
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        json_t *tbl = poc_find_table(report, tables[i].name);
        if (tbl)
            json_array_append_new(list, public_table(&x, tbl, tables[i].kind, tables[i].dim,
                                                     tables[i].groups_only, tables[i].shares));
    }
    json_object_set_new(out, "tables", list);
    json_object_set_new(out, "suppression",
                        json_pack("{s:I, s:o, s:o}", "min_cell", (json_int_t)k, "rule",
                                  rule_json(range), "withheld", x.withheld));
    releases_free(&rs);
    return out;
}
