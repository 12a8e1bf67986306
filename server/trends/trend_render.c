/* A trend result as the JSON answer, CSV and HXL. */
#include "trends/trend_render.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/dates.h"
#include "util/mem.h"

json_t *trend_pct(long long part, long long whole)
{
    if (whole == 0)
        return json_null();
    /* Exact up to 2^53; round() goes half away from zero. */
    double pct = (double)part * 100.0 / (double)whole;
    return json_real(round(pct * 10.0) / 10.0);
}

json_t *trend_series_key_json(const struct trend_query *q, const struct trend_series *s)
{
    json_t *key = json_object();
    for (int k = 0; k < q->nby; k++)
        json_object_set_new(key, trend_dim_name(q->by[k]),
                            s->key[k] ? json_string(s->key[k]) : json_null());
    return key;
}

json_t *trend_figure_json(bool range, long long best, long long low, long long high)
{
    if (!range)
        return json_integer(best);
    return json_pack("{s:I, s:I, s:I}", "low", (json_int_t)low, "best", (json_int_t)best, "high",
                     (json_int_t)high);
}

static json_t *measures_json(const struct trend_query *q, const long long (*totals)[M_COUNT])
{
    json_t *o = json_object();
    for (enum trend_measure m = 0; m < M_COUNT; m++)
        if (q->measures[m])
            json_object_set_new(o, trend_measure_name(m),
                                trend_figure_json(q->range, totals[EST_BEST][m],
                                                  totals[EST_LOW][m], totals[EST_HIGH][m]));
    return o;
}

static json_t *arrays_json(const struct trend_query *q, long long *const (*values)[M_COUNT],
                           long n)
{
    json_t *o = json_object();
    for (enum trend_measure m = 0; m < M_COUNT; m++) {
        if (!q->measures[m])
            continue;
        json_t *a = json_array();
        for (long i = 0; i < n; i++)
            json_array_append_new(a, trend_figure_json(q->range, values[EST_BEST][m][i],
                                                       q->range ? values[EST_LOW][m][i] : 0,
                                                       q->range ? values[EST_HIGH][m][i] : 0));
        json_object_set_new(o, trend_measure_name(m), a);
    }
    return o;
}

static json_t *series_json(const struct trend_query *q, const struct taxonomy *t,
                           const struct trend_series *s, long nperiods)
{
    json_t *o = json_object();
    json_object_set_new(o, "key", trend_series_key_json(q, s));
    json_t *labels = json_object();
    for (int k = 0; k < q->nby; k++) {
        const char *name = trend_dim_label(t, q->by[k], s->key[k], q->lang);
        if (name)
            json_object_set_new(labels, trend_dim_name(q->by[k]), json_string(name));
    }
    json_object_set_new(o, "labels", labels);
    json_object_set_new(o, "values", arrays_json(q, s->values, nperiods));
    json_object_set_new(o, "total", measures_json(q, s->total));
    return o;
}

/* periods, series, period_totals and total of one range, added to o. */
static void range_json(json_t *o, const struct trend_query *q, const struct taxonomy *t,
                       const struct trend_range *r)
{
    json_t *periods = json_array();
    for (long i = 0; i < r->nperiods; i++) {
        char label[16];
        period_label(q->period, r->starts[i], label);
        json_array_append_new(periods, json_string(label));
    }
    json_object_set_new(o, "periods", periods);
    json_t *series = json_array();
    for (size_t i = 0; i < r->nseries; i++)
        json_array_append_new(series, series_json(q, t, &r->series[i], r->nperiods));
    json_object_set_new(o, "series", series);
    json_object_set_new(o, "period_totals", arrays_json(q, r->period_totals, r->nperiods));
    json_object_set_new(o, "total", measures_json(q, r->total));
}

/* The change of the counts (never of the low or high estimates). */
static json_t *change_json(const struct trend_query *q, const long long *now,
                           const long long *before)
{
    json_t *o = json_object();
    for (enum trend_measure m = 0; m < M_COUNT; m++)
        if (q->measures[m])
            json_object_set_new(o, trend_measure_name(m), trend_pct(now[m] - before[m], before[m]));
    return o;
}

static json_t *date_json(long day)
{
    char d[11];
    date_format(day, d);
    return json_string(d);
}

json_t *trend_query_json(const struct trend_query *q)
{
    json_t *o = json_object();
    json_object_set_new(o, "from", date_json(q->from));
    json_object_set_new(o, "to", date_json(q->to));
    json_object_set_new(o, "period", json_string(period_kind_name(q->period)));
    json_t *by = json_array();
    for (int k = 0; k < q->nby; k++)
        json_array_append_new(by, json_string(trend_dim_name(q->by[k])));
    json_object_set_new(o, "by", by);
    json_t *measures = json_array();
    for (enum trend_measure m = 0; m < M_COUNT; m++)
        if (q->measures[m])
            json_array_append_new(measures, json_string(trend_measure_name(m)));
    json_object_set_new(o, "measures", measures);
    json_object_set_new(o, "status", comma_list_json(q->status));
    json_t *filters = json_object();
    for (enum trend_dim d = 0; d < DIM_COUNT; d++)
        if (q->filters[d])
            json_object_set_new(filters, trend_dim_name(d), comma_list_json(q->filters[d]));
    json_object_set_new(o, "filters", filters);
    json_object_set_new(o, "compare",
                        q->compare == COMPARE_NONE            ? json_null()
                        : q->compare == COMPARE_PREVIOUS_YEAR ? json_string("previous_year")
                                                              : json_string("previous_period"));
    /* Only when asked, so that answers without it stay as they were. */
    if (q->range)
        json_object_set_new(o, "range", json_true());
    return o;
}

json_t *trend_result_json(const struct trend_query *q, const struct trend_result *r,
                          const struct taxonomy *t)
{
    json_t *answer = json_object();
    json_object_set_new(answer, "query", trend_query_json(q));
    /* The measures whose series may overlap: their totals count each
     * incident once, less than the series add up to. Only when some do. */
    json_t *overlapping = json_array();
    for (enum trend_measure m = 0; m < M_COUNT; m++)
        if (r->overlapping[m])
            json_array_append_new(overlapping, json_string(trend_measure_name(m)));
    if (json_array_size(overlapping))
        json_object_set_new(answer, "overlapping", overlapping);
    else
        json_decref(overlapping);
    range_json(answer, q, t, &r->now);
    if (!r->compared)
        return answer;
    json_t *cmp = json_object();
    range_json(cmp, q, t, &r->before);
    json_object_set_new(cmp, "from", date_json(r->before.from));
    json_object_set_new(cmp, "to", date_json(r->before.to));
    json_object_set_new(cmp, "change_pct", change_json(q, r->now.total[EST_BEST], r->before.total[EST_BEST]));
    json_t *series = json_object_get(cmp, "series");
    for (size_t i = 0; i < r->before.nseries; i++)
        json_object_set_new(json_array_get(series, i), "change_pct",
                            change_json(q, r->now.series[i].total[EST_BEST],
                                        r->before.series[i].total[EST_BEST]));
    json_object_set_new(answer, "compare", cmp);
    return answer;
}

void trend_result_csv(const struct trend_query *q, const struct trend_result *r,
                      const struct taxonomy *t, struct buf *out)
{
    /* Header row, then for HXL the hashtag row. */
    for (int row = 0; row < (q->format == FORMAT_HXL ? 2 : 1); row++) {
        bool hxl = row == 1;
        buf_puts(out,
                 hxl ? "#date+period,#date+start,#date+end" : "period,period_start,period_end");
        for (int k = 0; k < q->nby; k++) {
            const char *name = trend_dim_name(q->by[k]), *code_tag, *name_tag;
            trend_dim_hxl(q->by[k], &code_tag, &name_tag);
            buf_printf(out, ",%s", hxl ? code_tag : name);
            if (trend_dim_labelled(q->by[k]))
                buf_printf(out, hxl ? ",%s" : ",%s_name", hxl ? name_tag : name);
        }
        for (enum trend_measure m = 0; m < M_COUNT; m++) {
            if (!q->measures[m])
                continue;
            const char *name = hxl ? trend_measure_hxl(m) : trend_measure_name(m);
            buf_printf(out, ",%s", name);
            /* HXL's +min and +max: the low and high estimates. */
            if (q->range)
                buf_printf(out, hxl ? ",%s+min,%s+max" : ",%s_low,%s_high", name, name);
        }
        buf_puts(out, "\r\n");
    }
    const struct trend_range *now = &r->now;
    for (long p = 0; p < now->nperiods; p++) {
        char label[16], first[11], last[11];
        long start = now->starts[p], next = period_next(q->period, start);
        period_label(q->period, start, label);
        date_format(start < q->from ? q->from : start, first);
        date_format(next - 1 > q->to ? q->to : next - 1, last);
        for (size_t i = 0; i < now->nseries; i++) {
            const struct trend_series *s = &now->series[i];
            buf_csv_field(out, label);
            buf_printf(out, ",%s,%s", first, last);
            for (int k = 0; k < q->nby; k++) {
                buf_putc(out, ',');
                buf_csv_field(out, s->key[k]);
                if (trend_dim_labelled(q->by[k])) {
                    buf_putc(out, ',');
                    buf_csv_field(out, trend_dim_label(t, q->by[k], s->key[k], q->lang));
                }
            }
            for (enum trend_measure m = 0; m < M_COUNT; m++) {
                if (!q->measures[m])
                    continue;
                buf_printf(out, ",%lld", s->values[EST_BEST][m][p]);
                if (q->range)
                    buf_printf(out, ",%lld,%lld", s->values[EST_LOW][m][p],
                               s->values[EST_HIGH][m][p]);
            }
            buf_puts(out, "\r\n");
        }
    }
}
