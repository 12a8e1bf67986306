/* Public trends and reports: coarse, verified, small cells withheld. */
#include "reports/public.h"

#include <string.h>

#include "reports/poc.h"
#include "reports/suppress.h"
#include "trends/trend_render.h"
#include "util/mem.h"

#define PUBLIC_MAX_BUCKETS 120

const char *const public_trend_params[] = {"from",        "to",     "period", "by",       "measures",
                                           "admin1",      "region", "party_group", "tactic",
                                           "category",    "format", NULL};

static const char rule[] =
    "counts from 1 to min_cell - 1 are withheld (primary); further counts are withheld "
    "(complementary) wherever a withheld count could otherwise be worked out from the "
    "published counts and totals of this answer";

bool public_trend_check(const struct trend_query *q, struct api_error *e)
{
    if (q->period < PERIOD_MONTH)
        return err_invalid(e, "period", "public trends are by month, quarter, half or year");
    if (period_count(q->period, q->from, q->to) > PUBLIC_MAX_BUCKETS)
        return err_invalid(e, "period", "public trends hold at most %d periods", PUBLIC_MAX_BUCKETS);
    if (q->nby > 1)
        return err_invalid(e, "by", "public trends take at most one dimension");
    for (int k = 0; k < q->nby; k++) {
        int d = q->by[k];
        if (d != DIM_ADMIN1 && d != DIM_REGION && d != DIM_PARTY_GROUP && d != DIM_TACTIC &&
            d != DIM_CATEGORY)
            return err_invalid(e, "by",
                               "public trends are by admin1, region, party_group, tactic or category");
    }
    if (q->format != FORMAT_JSON)
        return err_invalid(e, "format", "public trends are JSON only");
    return true;
}

static json_t *withheld_trend(const char *measure, int series, int period, const char *reason)
{
    json_t *o = json_object();
    json_object_set_new(o, "measure", json_string(measure));
    json_object_set_new(o, "series", series < 0 ? json_string("total") : json_integer(series));
    json_object_set_new(o, "period", period < 0 ? json_string("total") : json_integer(period));
    json_object_set_new(o, "reason", json_string(reason));
    return o;
}

/* The series x periods table of one measure, margins included. */
static void trend_table(const struct trend_range *r, enum trend_measure m, struct sup_table *t)
{
    int rows = (int)r->nseries, cols = (int)r->nperiods;
    sup_table_init(t, rows, cols, true);
    for (int s = 0; s < rows; s++)
        for (int p = 0; p < cols; p++)
            *sup_at(t, s, p) = r->series[s].values[m][p];
    sup_table_sum(t);
}

/* Writes null into every withheld entry of measure and lists it. */
static void trend_apply(json_t *answer, const char *measure, struct sup_table *t, json_t *list)
{
    json_t *series = json_object_get(answer, "series");
    for (int r = 0; r <= t->rows; r++) {
        for (int c = 0; c <= t->cols; c++) {
            unsigned char st = sup_state(t, r, c);
            if (st == CELL_PUBLISHED)
                continue;
            bool row_total = c == t->cols, col_total = r == t->rows;
            json_t *holder;
            if (row_total && col_total)
                holder = json_object_get(answer, "total");
            else if (col_total)
                holder = json_object_get(json_object_get(answer, "period_totals"), measure);
            else if (row_total)
                holder = json_object_get(json_array_get(series, r), "total");
            else
                holder = json_object_get(json_object_get(json_array_get(series, r), "values"), measure);
            if (json_is_array(holder))
                json_array_set_new(holder, (size_t)c, json_null());
            else
                json_object_set_new(holder, measure, json_null());
            json_array_append_new(list, withheld_trend(measure, col_total ? -1 : r,
                                                       row_total ? -1 : c,
                                                       st == CELL_PRIMARY ? "primary" : "complementary"));
        }
    }
}

json_t *public_trend_json(const struct trend_query *q, const struct trend_result *result,
                          const struct taxonomy *t, long long k)
{
    const struct trend_range *now = &result->now;
    json_t *answer = trend_result_json(q, result, t);
    json_t *list = json_array();
    struct sup_table killed, injured, incidents, casualties;
    trend_table(now, M_KILLED, &killed);
    trend_table(now, M_INJURED, &injured);
    trend_table(now, M_CASUALTIES, &casualties);
    suppress(&killed, k);
    suppress(&injured, k);
    /* Casualties are killed + injured: withheld wherever either is, so no
     * withheld count can be had back by subtraction. */
    for (int r = 0; r <= casualties.rows; r++) {
        for (int c = 0; c <= casualties.cols; c++) {
            if (sup_state(&killed, r, c) == CELL_PUBLISHED && sup_state(&injured, r, c) == CELL_PUBLISHED)
                continue;
            long long v = *sup_at(&casualties, r, c);
            sup_set(&casualties, r, c, v > 0 && v < k ? CELL_PRIMARY : CELL_COMPLEMENTARY, false);
        }
    }
    if (q->measures[M_KILLED])
        trend_apply(answer, "killed", &killed, list);
    if (q->measures[M_INJURED])
        trend_apply(answer, "injured", &injured, list);
    if (q->measures[M_CASUALTIES])
        trend_apply(answer, "casualties", &casualties, list);
    if (q->measures[M_INCIDENTS]) {
        trend_table(now, M_INCIDENTS, &incidents);
        suppress(&incidents, k);
        trend_apply(answer, "incidents", &incidents, list);
        sup_table_free(&incidents);
    }
    sup_table_free(&killed);
    sup_table_free(&injured);
    sup_table_free(&casualties);
    json_object_set_new(answer, "suppression",
                        json_pack("{s:I, s:s, s:o}", "min_cell", (json_int_t)k, "rule", rule,
                                  "withheld", list));
    return answer;
}

/* ---- reports ------------------------------------------------------------------ */


/* Rows of a table that partition its total (by_party: the group rows). */
static json_t *partition_rows(json_t *tbl, bool groups_only)
{
    json_t *rows = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(tbl, "rows"), i, row) {
        if (!groups_only || json_is_true(json_object_get(row, "subtotal")))
            json_array_append(rows, row);
    }
    return rows;
}

static long long count_of(json_t *values, const char *name)
{
    return json_integer_value(json_object_get(values, name));
}

/* Columns: 0 killed, 1 injured; margin column: casualties. */
static const char *const report_cols[] = {"killed", "injured", "casualties"};

/* The headline's state of the three period totals, shared by every table
 * whose total is the headline. */
struct headline_state {
    unsigned char state[3];
};

static json_t *withheld_report(const char *table, int row, const char *column, const char *reason)
{
    return json_pack("{s:s, s:o, s:s, s:s}", "table", table, "row",
                     row < 0 ? json_string("total") : json_integer(row), "column", column,
                     "reason", reason);
}

/* A public table: rows x (killed, injured, casualties) with share and change,
 * small counts withheld. with_total: the table has a total row that equals
 * the headline (whose states h gives). */
static json_t *protect_table(json_t *tbl, json_t *rows, const struct headline_state *h,
                             long long k, bool with_total, json_t *withheld)
{
    const char *name = json_string_value(json_object_get(tbl, "name"));
    int n = (int)json_array_size(rows);
    struct sup_table t;
    sup_table_init(&t, n, 2, with_total);
    for (int r = 0; r < n; r++) {
        json_t *values = json_object_get(json_array_get(rows, r), "values");
        *sup_at(&t, r, 0) = count_of(values, "killed");
        *sup_at(&t, r, 1) = count_of(values, "injured");
    }
    sup_table_sum(&t);
    if (with_total && h) {
        /* What the headline publishes stays published here, and what it
         * withholds stays withheld. */
        for (int c = 0; c < 3; c++) {
            bool published = h->state[c] == CELL_PUBLISHED;
            sup_set(&t, n, c, published ? CELL_PUBLISHED : (enum cell_state)h->state[c], published);
        }
    }
    suppress(&t, k);

    json_t *out = json_object();
    json_object_set_new(out, "name", json_string(name));
    json_object_set(out, "title", json_object_get(tbl, "title"));
    bool shares = json_object_get(json_object_get(json_array_get(rows, 0), "values"), "share_pct") != NULL;
    json_t *columns = json_pack("[s, s, s]", "killed", "injured", "casualties");
    if (shares) {
        json_array_append_new(columns, json_string("share_pct"));
        json_array_append_new(columns, json_string("change_pct"));
    }
    json_object_set_new(out, "columns", columns);
    json_t *out_rows = json_array();
    for (int r = 0; r <= n; r++) {
        if (r == n && !with_total)
            break;
        json_t *src = r < n ? json_object_get(json_array_get(rows, r), "values")
                            : json_object_get(tbl, "total");
        json_t *values = json_object();
        for (int c = 0; c < 3; c++) {
            unsigned char st = sup_state(&t, r, c);
            json_object_set_new(values, report_cols[c],
                                st == CELL_PUBLISHED ? json_integer(*sup_at(&t, r, c)) : json_null());
            if (st != CELL_PUBLISHED)
                json_array_append_new(withheld, withheld_report(name, r < n ? r : -1, report_cols[c],
                                                                st == CELL_PRIMARY ? "primary"
                                                                                   : "complementary"));
        }
        if (shares) {
            bool hidden = sup_state(&t, r, 2) != CELL_PUBLISHED;
            long long prev = count_of(src, "previous_casualties");
            json_t *share = json_object_get(src, "share_pct");
            json_t *change = json_object_get(src, "change_pct");
            /* A change against a small count last year would give that
             * count away. */
            bool prev_small = prev > 0 && prev < k;
            json_object_set_new(values, "share_pct", hidden || !share ? json_null() : json_copy(share));
            json_object_set_new(values, "change_pct",
                                hidden || prev_small || !change ? json_null() : json_copy(change));
        }
        if (r < n) {
            json_t *row = json_object();
            json_object_set(row, "key", json_object_get(json_array_get(rows, r), "key"));
            json_object_set(row, "label", json_object_get(json_array_get(rows, r), "label"));
            json_object_set_new(row, "values", values);
            json_array_append_new(out_rows, row);
        } else {
            json_object_set_new(out, "total", values);
        }
    }
    json_object_set_new(out, "rows", out_rows);
    if (!with_total)
        json_object_set_new(out, "total", json_null());
    sup_table_free(&t);
    return out;
}

json_t *public_report(json_t *report, long long k)
{
    json_t *out = json_object();
    json_object_set(out, "period", json_object_get(report, "period"));
    json_object_set(out, "comparison_period", json_object_get(report, "comparison_period"));
    json_object_set_new(out, "status", json_pack("[s]", "verified"));
    json_object_set(out, "rounding", json_object_get(report, "rounding"));
    json_t *tables = json_array(), *withheld = json_array();

    /* The headline first: its three totals fix those of every other table. */
    json_t *head = poc_find_table(report, "headline");
    json_t *head_rows = partition_rows(head, false);
    json_t *head_pub = protect_table(head, head_rows, NULL, k, false, withheld);
    json_decref(head_rows);
    struct headline_state h;
    json_t *hv = json_object_get(json_array_get(json_object_get(head_pub, "rows"), 0), "values");
    for (int c = 0; c < 3; c++)
        h.state[c] = json_is_null(json_object_get(hv, report_cols[c])) ? CELL_COMPLEMENTARY
                                                                         : CELL_PUBLISHED;
    json_array_append_new(tables, head_pub);

    /* Earlier years stand alone (no total); the current year is the headline. */
    json_t *years = poc_find_table(report, "same_period_by_year");
    json_t *year_rows = partition_rows(years, false);
    size_t last = json_array_size(year_rows);
    if (last > 0)
        json_array_remove(year_rows, last - 1);
    json_t *years_pub = protect_table(years, year_rows, NULL, k, false, withheld);
    json_t *current = json_pack("{s:O, s:s, s:O}", "key",
                                json_object_get(json_array_get(json_object_get(years, "rows"), last - 1), "key"),
                                "label",
                                json_string_value(json_object_get(
                                    json_array_get(json_object_get(years, "rows"), last - 1), "label")),
                                "values", hv);
    json_array_append_new(json_object_get(years_pub, "rows"), current);
    /* The current year is the headline: withheld where the headline is. */
    json_t *head_listed = json_copy(withheld);
    size_t wi;
    json_t *w;
    json_array_foreach(head_listed, wi, w) {
        if (strcmp(json_string_value(json_object_get(w, "table")), "headline") != 0)
            continue;
        json_t *copy = json_copy(w);
        json_object_set_new(copy, "table", json_string("same_period_by_year"));
        json_object_set_new(copy, "row", json_integer((json_int_t)last - 1));
        json_array_append_new(withheld, copy);
    }
    json_decref(head_listed);
    json_decref(year_rows);
    json_array_append_new(tables, years_pub);

    static const struct {
        const char *name;
        bool groups_only;
    } partitions[] = {{"by_month", false},   {"by_party", true},  {"by_tactic", false},
                      {"by_category", false}, {"by_region", false}};
    for (size_t i = 0; i < sizeof partitions / sizeof partitions[0]; i++) {
        json_t *tbl = poc_find_table(report, partitions[i].name);
        if (!tbl)
            continue;
        json_t *rows = partition_rows(tbl, partitions[i].groups_only);
        if (json_array_size(rows) > 0)
            json_array_append_new(tables, protect_table(tbl, rows, &h, k, true, withheld));
        json_decref(rows);
    }
    json_object_set_new(out, "tables", tables);
    json_object_set_new(out, "suppression",
                        json_pack("{s:I, s:s, s:o}", "min_cell", (json_int_t)k, "rule", rule,
                                  "withheld", withheld));
    return out;
}
