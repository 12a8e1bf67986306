/* Report renderings: one table as CSV or HXL; the printable HTML page. */
#include "reports/poc_render.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "domain/phrases.h"
#include "reports/poc.h"
#include "trends/trend.h"
#include "util/dates.h"
#include "util/lang.h"

/* ---- CSV and HXL ------------------------------------------------------------ */

struct hxl_tag {
    const char *column, *tag;
};

/* The report's own columns; a key column named after a trend dimension
 * takes that dimension's hashtag (trends/trend.h), and incidents the
 * measure's. */
static const struct hxl_tag hxl_tags[] = {
    {"year", "#date+year"},
    {"month", "#date+month"},
    {"quarter", "#date+quarter"},
    {"label", "#meta+label"},
    {"killed", "#affected+killed"},
    {"injured", "#affected+injured"},
    {"casualties", "#affected+total"},
    {"share_pct", "#meta+share_pct"},
    {"change_pct", "#meta+change_pct"},
    {"previous_killed", "#affected+killed+previous"},
    {"previous_injured", "#affected+injured+previous"},
    {"previous_casualties", "#affected+total+previous"},
    {"previous_incidents", "#event+num+previous"},
    {"women_killed", "#affected+killed+f+adults"},
    {"women_injured", "#affected+injured+f+adults"},
    {"women_casualties", "#affected+total+f+adults"},
    {"children_killed", "#affected+killed+children"},
    {"children_injured", "#affected+injured+children"},
    {"children_casualties", "#affected+total+children"},
};

static const char *hxl_of(const char *column)
{
    for (size_t i = 0; i < sizeof hxl_tags / sizeof hxl_tags[0]; i++)
        if (strcmp(hxl_tags[i].column, column) == 0)
            return hxl_tags[i].tag;
    for (enum trend_dim d = 0; d < DIM_COUNT; d++) {
        if (strcmp(trend_dim_name(d), column) == 0) {
            const char *code_tag, *name_tag;
            trend_dim_hxl(d, &code_tag, &name_tag);
            return code_tag;
        }
    }
    for (enum trend_measure m = 0; m < M_COUNT; m++)
        if (strcmp(trend_measure_name(m), column) == 0)
            return trend_measure_hxl(m);
    return "#meta";
}

/* Whether a column holds counts (with range=true, each with its low and
 * high estimates) rather than a share or a change. */
static bool count_column(const char *column)
{
    size_t n = strlen(column);
    return !(n >= 4 && strcmp(column + n - 4, "_pct") == 0);
}

/* One estimate ("best", "low", "high") of a value: a count written as
 * {"low", "best", "high"} (range=true), or the value itself. Borrowed. */
static json_t *estimate(json_t *v, const char *which)
{
    return json_is_object(v) ? json_object_get(v, which) : v;
}

static long long best_count(json_t *v)
{
    return (long long)json_integer_value(estimate(v, "best"));
}

/* Integers as they are, shares and changes with one decimal, null empty. */
static void number_text(json_t *v, char *out, size_t size)
{
    if (json_is_integer(v))
        snprintf(out, size, "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v))
        snprintf(out, size, "%.1f", json_real_value(v));
    else
        out[0] = '\0';
}

/* The key columns of a table: the union of its rows' key members, in the
 * order they first appear. */
static json_t *key_columns(json_t *tbl)
{
    json_t *cols = json_array();
    size_t i;
    json_t *row;
    json_array_foreach(json_object_get(tbl, "rows"), i, row) {
        const char *k;
        json_t *v;
        json_object_foreach(json_object_get(row, "key"), k, v) {
            bool seen = false;
            for (size_t j = 0; j < json_array_size(cols) && !seen; j++)
                seen = strcmp(json_string_value(json_array_get(cols, j)), k) == 0;
            if (!seen)
                json_array_append_new(cols, json_string(k));
        }
    }
    return cols;
}

bool poc_render_table(json_t *report, const char *table, bool hxl, const char *lang,
                      struct buf *out, struct api_error *e)
{
    json_t *tbl = poc_find_table(report, table);
    if (!tbl && poc_table_known(table))
        return err_invalid(e, "table",
                           "this report has no table %s: it is included only when the "
                           "period's data has what it shows",
                           table);
    if (!tbl)
        return err_invalid(e, "table", "table must be a table name of the report");
    json_t *keys = key_columns(tbl);
    json_t *columns = json_object_get(tbl, "columns");
    bool range = json_is_true(json_object_get(report, "range"));
    for (int line = 0; line < (hxl ? 2 : 1); line++) {
        size_t i;
        json_t *c;
        bool first = true;
        json_array_foreach(keys, i, c) {
            buf_puts(out, first ? "" : ",");
            buf_puts(out, line ? hxl_of(json_string_value(c)) : json_string_value(c));
            first = false;
        }
        buf_puts(out, first ? "" : ",");
        buf_puts(out, line ? hxl_of("label") : "label");
        json_array_foreach(columns, i, c) {
            const char *name = line ? hxl_of(json_string_value(c)) : json_string_value(c);
            buf_printf(out, ",%s", name);
            /* HXL's +min and +max: the low and high estimates. */
            if (range && count_column(json_string_value(c)))
                buf_printf(out, line ? ",%s+min,%s+max" : ",%s_low,%s_high", name, name);
        }
        buf_puts(out, "\r\n");
    }
    size_t r;
    json_t *row;
    json_t *rows = json_copy(json_object_get(tbl, "rows"));
    json_t *total = json_object_get(tbl, "total");
    if (json_is_object(total)) {
        json_t *trow = json_pack("{s:o, s:s, s:O}", "key", json_object(), "label",
                                 phrase(lang, "total"), "values", total);
        json_array_append_new(rows, trow);
    }
    json_array_foreach(rows, r, row) {
        size_t i;
        json_t *c;
        bool first = true;
        json_array_foreach(keys, i, c) {
            buf_puts(out, first ? "" : ",");
            buf_csv_field(out, json_string_value(json_object_get(json_object_get(row, "key"),
                                                            json_string_value(c))));
            first = false;
        }
        buf_puts(out, first ? "" : ",");
        buf_csv_field(out, json_string_value(json_object_get(row, "label")));
        json_array_foreach(columns, i, c) {
            static const char *const estimates[] = {"best", "low", "high"};
            json_t *v = json_object_get(json_object_get(row, "values"), json_string_value(c));
            int n = range && count_column(json_string_value(c)) ? 3 : 1;
            for (int k = 0; k < n; k++) {
                char num[32];
                number_text(estimate(v, estimates[k]), num, sizeof num);
                buf_putc(out, ',');
                buf_puts(out, num);
            }
        }
        buf_puts(out, "\r\n");
    }
    json_decref(rows);
    json_decref(keys);
    return true;
}

/* ---- HTML ------------------------------------------------------------------- */

/* What a page is written in: its language, direction and digits. */
struct page {
    struct buf *out;
    const char *lang;
    bool rtl;
    enum lang_digits digits;
};

/* ASCII number text in the page's digits. */
static void page_number(const struct page *pg, const char *text)
{
    lang_number(pg->out, text, pg->digits);
}

/* Text escaped for HTML, its digits in the page's. */
static void page_text(const struct page *pg, const char *text)
{
    if (pg->digits == DIGITS_LATIN) {
        buf_xml_text(pg->out, text);
        return;
    }
    struct buf t;
    buf_init(&t);
    lang_digits_text(&t, text, pg->digits);
    buf_putc(&t, '\0');
    buf_xml_text(pg->out, t.data);
    buf_free(&t);
}

/* A phrase with its {n} replaced by args (already in the page's digits),
 * escaped. */
static void page_phrase(const struct page *pg, const char *key, const char *const *args, int nargs)
{
    struct buf t;
    buf_init(&t);
    phrase_format(&t, phrase(pg->lang, key), args, nargs);
    buf_putc(&t, '\0');
    buf_xml_text(pg->out, t.data);
    buf_free(&t);
}

/* An integer or a one-decimal number in the page's digits, into out. */
static void page_format(const struct page *pg, char *out, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void page_format(const struct page *pg, char *out, size_t size, const char *fmt, ...)
{
    char ascii[64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ascii, sizeof ascii, fmt, ap);
    va_end(ap);
    struct buf t;
    buf_init(&t);
    lang_number(&t, ascii, pg->digits);
    snprintf(out, size, "%.*s", (int)t.len, t.data ? t.data : "");
    buf_free(&t);
}

static const char *column_title(const struct page *pg, const char *c)
{
    const char *title = phrase_of(pg->lang, "col", c);
    return title ? title : c;
}

static void date_words(const struct page *pg, json_t *date, char *out, size_t size)
{
    long day;
    int y, m, d;
    if (!date_parse(json_string_value(date), &day)) {
        snprintf(out, size, "?");
        return;
    }
    civil_from_days(day, &y, &m, &d);
    char dd[32], yy[32], mm[4];
    page_format(pg, dd, sizeof dd, "%d", d);
    page_format(pg, yy, sizeof yy, "%d", y);
    snprintf(mm, sizeof mm, "%d", m);
    const char *args[] = {dd, phrase_of(pg->lang, "month", mm), yy};
    struct buf t;
    buf_init(&t);
    phrase_format(&t, phrase(pg->lang, "date"), args, 3);
    snprintf(out, size, "%.*s", (int)t.len, t.data ? t.data : "");
    buf_free(&t);
}

/* Where the low or high estimate of a count differs from it, "at least
 * LOW and up to HIGH" (nothing otherwise). */
static void html_range(const struct page *pg, json_t *v, const char *before, const char *after)
{
    if (!json_is_object(v))
        return;
    long long low = (long long)json_integer_value(json_object_get(v, "low"));
    long long best = (long long)json_integer_value(json_object_get(v, "best"));
    long long high = (long long)json_integer_value(json_object_get(v, "high"));
    if (low == best && high == best)
        return;
    char lo[48], hi[48];
    page_format(pg, lo, sizeof lo, "%lld", low);
    page_format(pg, hi, sizeof hi, "%lld", high);
    const char *args[] = {lo, hi};
    buf_puts(pg->out, before);
    page_phrase(pg, "page.range", args, 2);
    buf_puts(pg->out, after);
}

/* A table cell: the count (its best estimate), and its range beside it. */
static void html_cell(const struct page *pg, json_t *v)
{
    char num[32];
    number_text(estimate(v, "best"), num, sizeof num);
    buf_puts(pg->out, "<td>");
    if (num[0])
        page_number(pg, num);
    else
        buf_puts(pg->out, "&ndash;");
    html_range(pg, v, " <span class=\"range\">(", ")</span>");
    buf_puts(pg->out, "</td>");
}

static void html_table(const struct page *pg, json_t *tbl)
{
    struct buf *out = pg->out;
    json_t *columns = json_object_get(tbl, "columns");
    buf_puts(out, "<table id=\"table-");
    buf_xml_text(out, json_string_value(json_object_get(tbl, "name")));
    buf_puts(out, "\"><caption>");
    buf_xml_text(out, json_string_value(json_object_get(tbl, "title")));
    buf_puts(out, "</caption><thead><tr><th scope=\"col\"></th>");
    size_t i;
    json_t *c;
    json_array_foreach(columns, i, c) {
        buf_puts(out, "<th scope=\"col\">");
        buf_xml_text(out, column_title(pg, json_string_value(c)));
        buf_puts(out, "</th>");
    }
    buf_puts(out, "</tr></thead><tbody>");
    size_t r;
    json_t *row;
    json_array_foreach(json_object_get(tbl, "rows"), r, row) {
        bool sub = json_is_true(json_object_get(row, "subtotal"));
        bool nested = !sub && json_object_get(json_object_get(row, "key"), "party");
        buf_puts(out, sub ? "<tr class=\"subtotal\">" : "<tr>");
        buf_puts(out, nested ? "<th scope=\"row\" class=\"nested\">" : "<th scope=\"row\">");
        page_text(pg, json_string_value(json_object_get(row, "label")));
        buf_puts(out, "</th>");
        json_array_foreach(columns, i, c)
            html_cell(pg, json_object_get(json_object_get(row, "values"), json_string_value(c)));
        buf_puts(out, "</tr>");
    }
    buf_puts(out, "</tbody>");
    json_t *total = json_object_get(tbl, "total");
    if (json_is_object(total)) {
        buf_puts(out, "<tfoot><tr><th scope=\"row\">");
        buf_xml_text(out, phrase(pg->lang, "total"));
        buf_puts(out, "</th>");
        json_array_foreach(columns, i, c)
            html_cell(pg, json_object_get(total, json_string_value(c)));
        buf_puts(out, "</tr></tfoot>");
    }
    buf_puts(out, "</table>\n");
    json_t *note = json_object_get(tbl, "note");
    if (json_is_string(note)) {
        buf_puts(out, "<p class=\"note\">");
        buf_xml_text(out, json_string_value(note));
        buf_puts(out, ".</p>\n");
    }
}

/* A "nice" axis maximum and tick step for values up to max. */
static void axis_scale(double max, double *top, double *step)
{
    if (max <= 0)
        max = 1;
    double raw = max / 5.0;
    double mag = pow(10.0, floor(log10(raw)));
    double norm = raw / mag;
    double nice = norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10;
    *step = nice * mag;
    if (*step < 1)
        *step = 1;
    *top = ceil(max / *step) * *step;
}

#define CHART_W 640
#define CHART_H 280

static const char *const series_colors[] = {"#9e1b32", "#e8a33d"};

/* Charts are drawn left to right and mirrored on a right-to-left page:
 * an x coordinate, and the left edge of a box of width w at x. Text
 * anchors need no change: "start" and "end" follow the text's direction,
 * which the page's dir gives every SVG text. */
static double mx(const struct page *pg, double x)
{
    return pg->rtl ? CHART_W - x : x;
}

static double mbox(const struct page *pg, double x, double w)
{
    return pg->rtl ? CHART_W - x - w : x;
}

/* The chart's <svg>, title and heading. */
static void chart_open(const struct page *pg, const char *id, const char *title, double height)
{
    buf_printf(pg->out,
               "<figure><svg id=\"%s\" class=\"chart\" "
               "viewBox=\"0 0 %d %.0f\" role=\"img\" aria-labelledby=\"%s-title\">"
               "<title id=\"%s-title\">",
               id, CHART_W, height, id, id);
    buf_xml_text(pg->out, title);
    buf_printf(pg->out,
               "</title><text x=\"%d\" y=\"20\" class=\"chart-title\" text-anchor=\"middle\">",
               CHART_W / 2);
    buf_xml_text(pg->out, title);
    buf_puts(pg->out, "</text>");
}

/* A legend entry: a swatch at (x, y) of the legend and its text beside
 * it, mirrored on a right-to-left page. */
static void legend_entry(const struct page *pg, double x, const char *color, const char *text)
{
    double rx = pg->rtl ? -x - 12 : x, tx = pg->rtl ? -x - 16 : x + 16;
    /* No x at 0, as the page always had it. */
    if (rx != 0)
        buf_printf(pg->out, "<rect x=\"%g\"", rx);
    else
        buf_puts(pg->out, "<rect");
    buf_printf(pg->out, " width=\"12\" height=\"12\" fill=\"%s\"/><text x=\"%g\" y=\"10\">", color,
               tx);
    buf_xml_text(pg->out, text);
    buf_puts(pg->out, "</text>");
}

/* Vertical grouped bars: killed and injured for each category, named by
 * the rows' keyname key, or without one by their labels, slanted (names
 * are longer than years or months). */
static void chart_bars(const struct page *pg, const char *id, const char *title, const char *xlabel,
                       json_t *tbl, const char *keyname)
{
    struct buf *out = pg->out;
    bool slanted = keyname == NULL;
    /* The Arabic script reaches further below the line: room for the
     * legend's, the plot as high as ever. */
    int below = pg->rtl ? 8 : 0;
    int height = (slanted ? CHART_H + 90 : CHART_H) + below;
    json_t *rows = json_object_get(tbl, "rows");
    size_t n = json_array_size(rows);
    double max = 0;
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(json_array_get(rows, i), "values");
        double k = (double)best_count(json_object_get(v, "killed"));
        double j = (double)best_count(json_object_get(v, "injured"));
        max = fmax(max, fmax(k, j));
    }
    double top, step;
    axis_scale(max, &top, &step);
    const double left = slanted ? 150 : 60, right = 20, topm = 40,
                 bottom = (slanted ? 150 : 60) + below;
    double plot_w = CHART_W - left - right, plot_h = height - topm - bottom;
    chart_open(pg, id, title, height);
    for (double v = 0; v <= top + 0.5; v += step) {
        double y = topm + plot_h - v / top * plot_h;
        char tick[48];
        page_format(pg, tick, sizeof tick, "%.0f", v);
        buf_printf(out,
                   "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                   "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">%s</text>",
                   mx(pg, left), mx(pg, left + plot_w), y, y, mx(pg, left - 6), y + 4, tick);
    }
    double slot = n ? plot_w / (double)n : plot_w;
    double bar = fmin(28, slot / 2.6);
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_array_get(rows, i);
        json_t *v = json_object_get(row, "values");
        const char *names[] = {"killed", "injured"};
        for (int s = 0; s < 2; s++) {
            double val = (double)best_count(json_object_get(v, names[s]));
            double h = val / top * plot_h;
            double x = left + slot * (double)i + slot / 2 - bar + bar * s;
            char num[48];
            page_format(pg, num, sizeof num, "%.0f", val);
            buf_printf(out,
                       "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                       "<title>%s: %s</title></rect>",
                       mbox(pg, x, bar - 1), topm + plot_h - h, bar - 1, h, series_colors[s],
                       phrase_of(pg->lang, "tip", names[s]), num);
        }
        double lx = mx(pg, left + slot * (double)i + slot / 2), ly = topm + plot_h + 16;
        const char *label;
        if (slanted) {
            label = json_string_value(json_object_get(row, "label"));
            buf_printf(out,
                       "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\" "
                       "transform=\"rotate(%d %.1f %.1f)\">",
                       lx, ly, pg->rtl ? 35 : -35, lx, ly);
        } else {
            label = json_string_value(json_object_get(json_object_get(row, "key"), keyname));
            buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">",
                       lx, ly);
        }
        page_text(pg, label ? label : "");
        buf_puts(out, "</text>");
    }
    buf_printf(out,
               "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>"
               "<text x=\"%.1f\" y=\"%d\" class=\"axis-label\" text-anchor=\"middle\">",
               mx(pg, left), mx(pg, left + plot_w), topm + plot_h, topm + plot_h,
               mx(pg, left + plot_w / 2), height - 22 - below);
    buf_xml_text(out, xlabel);
    buf_printf(out,
               "</text><text transform=\"translate(%g %.1f) rotate(-90)\" class=\"axis-label\" "
               "text-anchor=\"middle\">",
               mx(pg, 16), topm + plot_h / 2);
    buf_xml_text(out, phrase(pg->lang, "axis.casualties"));
    buf_printf(out, "</text><g class=\"legend\" transform=\"translate(%.1f %d)\">",
               mx(pg, left + plot_w - 160), height - 14 - below);
    legend_entry(pg, 0, series_colors[0], phrase(pg->lang, "legend.killed"));
    legend_entry(pg, 80, series_colors[1], phrase(pg->lang, "legend.injured"));
    buf_puts(out, "</g></svg></figure>\n");
}

/* Horizontal bars of share_pct, for the non-subtotal rows (or only the
 * subtotal rows when subtotals_only). */
static void chart_shares(const struct page *pg, const char *id, const char *title, json_t *tbl,
                         bool subtotals_only)
{
    struct buf *out = pg->out;
    json_t *rows = json_object_get(tbl, "rows");
    size_t shown = 0;
    for (size_t i = 0; i < json_array_size(rows); i++)
        shown += json_is_true(json_object_get(json_array_get(rows, i), "subtotal")) == subtotals_only;
    /* Room below for the Arabic script, as in chart_bars. */
    const double left = 210, right = 60, topm = 40, row_h = 22, bottom = pg->rtl ? 58 : 50;
    double height = topm + row_h * (double)(shown ? shown : 1) + bottom;
    double plot_w = CHART_W - left - right;
    chart_open(pg, id, title, height);
    size_t k = 0;
    for (size_t i = 0; i < json_array_size(rows); i++) {
        json_t *row = json_array_get(rows, i);
        if (json_is_true(json_object_get(row, "subtotal")) != subtotals_only)
            continue;
        json_t *share = json_object_get(json_object_get(row, "values"), "share_pct");
        double pct = json_is_number(share) ? json_number_value(share) : 0;
        double y = topm + row_h * (double)k;
        buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"end\">",
                   mx(pg, left - 8), y + 15);
        page_text(pg, json_string_value(json_object_get(row, "label")));
        char num[48];
        page_format(pg, num, sizeof num, "%.1f%%", pct);
        buf_printf(out,
                   "</text><rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                   "fill=\"%s\"/><text x=\"%.1f\" y=\"%.1f\" class=\"tick\">%s</text>",
                   mbox(pg, left, pct / 100.0 * plot_w), y + 4, pct / 100.0 * plot_w, row_h - 6,
                   series_colors[0], mx(pg, left + pct / 100.0 * plot_w + 4), y + 15, num);
        k++;
    }
    double axis_y = topm + row_h * (double)(shown ? shown : 1);
    buf_printf(out, "<line x1=\"%.1f\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\" class=\"axis\"/>",
               mx(pg, left), mx(pg, left + plot_w), axis_y, axis_y);
    for (int p = 0; p <= 100; p += 25) {
        char num[48];
        page_format(pg, num, sizeof num, "%d", p);
        buf_printf(out,
                   "<text x=\"%.1f\" y=\"%.1f\" class=\"tick\" text-anchor=\"middle\">%s</text>",
                   mx(pg, left + p / 100.0 * plot_w), axis_y + 14, num);
    }
    buf_printf(out, "<text x=\"%.1f\" y=\"%.1f\" class=\"axis-label\" text-anchor=\"middle\">",
               mx(pg, left + plot_w / 2), axis_y + 32);
    buf_xml_text(out, phrase(pg->lang, "axis.share"));
    buf_printf(out, "</text><g class=\"legend\" transform=\"translate(%.1f %.1f)\">", mx(pg, left),
               axis_y + 38 - 12 + 12);
    legend_entry(pg, 0, series_colors[0], phrase(pg->lang, "legend.both"));
    buf_puts(out, "</g></svg></figure>\n");
}

static const char page_style[] =
    "@page{size:A4;margin:14mm}"
    "body{font:10pt/1.4 'DejaVu Sans',Arial,sans-serif;color:#222;max-width:190mm;margin:0 auto}"
    "h1{font-size:16pt;margin:0 0 4pt}h2{font-size:12pt;margin:14pt 0 4pt}"
    ".meta{color:#555;margin:0 0 8pt}.headline{font-size:12pt;border-left:4pt solid #9e1b32;"
    "padding:4pt 8pt;margin:8pt 0}"
    "table{border-collapse:collapse;width:100%;margin:6pt 0 12pt;page-break-inside:avoid}"
    "caption{text-align:left;font-weight:bold;padding:2pt 0}"
    "th,td{border-bottom:0.5pt solid #bbb;padding:2pt 4pt;text-align:right}"
    "th[scope=row]{text-align:left;font-weight:normal}th.nested{padding-left:14pt}"
    "thead th{border-bottom:1pt solid #444;font-weight:bold}"
    "tr.subtotal th,tr.subtotal td{font-weight:bold;background:#f3f3f3}"
    "tfoot th,tfoot td{font-weight:bold;border-top:1pt solid #444}"
    "figure{margin:6pt 0 12pt;page-break-inside:avoid}svg.chart{width:100%;height:auto}"
    ".chart-title{font-size:13px;font-weight:bold}.tick{font-size:10px;fill:#333}"
    ".axis-label{font-size:11px;fill:#333}.legend text{font-size:11px}"
    ".grid{stroke:#ddd;stroke-width:0.5}.axis{stroke:#444;stroke-width:1}"
    ".rounding{color:#555;font-size:8.5pt}"
    "@media print{h2{page-break-after:avoid}}";
/* Only on pages that have notes or ranges, so that the others keep their
 * bytes. */
static const char widened_style[] =
    ".note{color:#555;font-size:8.5pt}.range{display:block;color:#555;font-size:8pt}";
/* A right-to-left page: the headline's bar, captions and row headings on
 * the right, fonts that have the Arabic script (Debian's fonts-noto-core
 * first, then KACST and FarsiWeb's, then DejaVu, which has most of it).
 * Numbers stay right-aligned, in columns of equal-width digits. */
static const char rtl_style[] =
    "body{font-family:'Noto Naskh Arabic','Noto Naskh Arabic UI','Noto Sans Arabic',"
    "'Noto Sans Arabic UI','KacstBook','KacstOne','Nazli','DejaVu Sans',Arial,sans-serif;"
    "line-height:1.6}"
    ".headline{border-left:none;border-right:4pt solid #9e1b32}"
    "caption,th[scope=row]{text-align:right}th.nested{padding-left:4pt;padding-right:14pt}"
    "td{font-variant-numeric:tabular-nums}";

void poc_render_html(json_t *report, const char *lang, bool latin_digits, struct buf *out)
{
    struct page pgv = {out, lang ? lang : LANG_DEFAULT, false, DIGITS_LATIN};
    const struct page *pg = &pgv;
    pgv.rtl = lang_rtl(pgv.lang);
    pgv.digits = latin_digits ? DIGITS_LATIN : lang_native_digits(pgv.lang);
    char from[96], to[96], pfrom[96], pto[96];
    json_t *period = json_object_get(report, "period");
    json_t *cmp = json_object_get(report, "comparison_period");
    date_words(pg, json_object_get(period, "from"), from, sizeof from);
    date_words(pg, json_object_get(period, "to"), to, sizeof to);
    date_words(pg, json_object_get(cmp, "from"), pfrom, sizeof pfrom);
    date_words(pg, json_object_get(cmp, "to"), pto, sizeof pto);
    buf_puts(out, "<!DOCTYPE html>\n<html lang=\"");
    buf_xml_text(out, pg->lang);
    buf_puts(out, pg->rtl ? "\" dir=\"rtl\">" : "\">");
    buf_puts(out, "<head><meta charset=\"utf-8\">"
                  "<meta name=\"viewport\" content=\"width=device-width\"><title>");
    const char *span[] = {from, to, pfrom, pto};
    page_phrase(pg, "page.title", span, 2);
    buf_printf(out, "</title><style>%s</style>", page_style);
    bool widened = json_is_true(json_object_get(report, "range"));
    size_t i;
    json_t *tbl;
    json_array_foreach(json_object_get(report, "tables"), i, tbl)
        widened = widened || json_object_get(tbl, "note");
    if (widened)
        buf_printf(out, "<style>%s</style>", widened_style);
    if (pg->rtl)
        buf_printf(out, "<style>%s</style>", rtl_style);
    buf_puts(out, "</head><body>\n<h1>");
    buf_xml_text(out, phrase(pg->lang, "page.heading"));
    buf_puts(out, "</h1><p class=\"meta\">");
    page_phrase(pg, "page.meta", span, 4);
    json_t *s;
    json_array_foreach(json_object_get(report, "status"), i, s) {
        const char *status = json_string_value(s);
        const char *word = phrase_of(pg->lang, "status", status);
        buf_puts(out, i ? phrase(pg->lang, "list_separator") : "");
        buf_xml_text(out, word ? word : status);
    }
    buf_puts(out, ".</p>\n");

    json_t *tables = json_object_get(report, "tables");
    json_t *head = poc_find_table(report, "headline");
    json_t *hv = json_object_get(json_array_get(json_object_get(head, "rows"), 0), "values");
    char casualties[48], killed[48], injured[48];
    page_format(pg, casualties, sizeof casualties, "%lld",
                best_count(json_object_get(hv, "casualties")));
    page_format(pg, killed, sizeof killed, "%lld", best_count(json_object_get(hv, "killed")));
    page_format(pg, injured, sizeof injured, "%lld", best_count(json_object_get(hv, "injured")));
    const char *split[] = {killed, injured};
    buf_puts(out, "<p class=\"headline\"><strong>");
    page_phrase(pg, "page.headline", (const char *[]){casualties}, 1);
    buf_puts(out, "</strong>");
    page_phrase(pg, "page.split", split, 2);
    json_t *change = json_object_get(hv, "change_pct");
    if (json_is_number(change)) {
        double pct = json_number_value(change);
        char amount[48];
        page_format(pg, amount, sizeof amount, "%.1f", fabs(pct));
        page_phrase(pg, pct >= 0 ? "page.increase" : "page.decrease", (const char *[]){amount}, 1);
    }
    buf_puts(out, ".");
    html_range(pg, json_object_get(hv, "casualties"), phrase(pg->lang, "page.estimates"),
               phrase(pg->lang, "page.estimates_end"));
    buf_puts(out, "</p>\n<h2>");
    buf_xml_text(out, phrase(pg->lang, "page.charts"));
    buf_puts(out, "</h2>\n");
    chart_bars(pg, "chart-years", phrase(pg->lang, "chart.years"), phrase(pg->lang, "axis.year"),
               poc_find_table(report, "same_period_by_year"), "year");
    chart_bars(pg, "chart-months", phrase(pg->lang, "chart.months"), phrase(pg->lang, "axis.month"),
               poc_find_table(report, "by_month"), "month");
    chart_shares(pg, "chart-parties", phrase(pg->lang, "chart.parties"),
                 poc_find_table(report, "by_party"), true);
    chart_shares(pg, "chart-tactics", phrase(pg->lang, "chart.tactics"),
                 poc_find_table(report, "by_tactic"), false);
    /* The tables of impacts and roles are there only when the data has
     * them; so are their charts. */
    json_t *thematic = poc_find_table(report, "thematic"), *roles = poc_find_table(report, "by_role");
    if (thematic)
        chart_bars(pg, "chart-impacts", phrase(pg->lang, "chart.impacts"),
                   phrase(pg->lang, "axis.impact"), thematic, NULL);
    if (roles)
        chart_shares(pg, "chart-roles", phrase(pg->lang, "chart.roles"), roles, false);

    buf_puts(out, "<h2>");
    buf_xml_text(out, phrase(pg->lang, "page.tables"));
    buf_puts(out, "</h2>\n");
    bool heading = false;
    json_array_foreach(tables, i, tbl) {
        /* The tables of the widened record under a heading of their own. */
        const char *name = json_string_value(json_object_get(tbl, "name"));
        if (!heading && (strcmp(name, "thematic") == 0 || strcmp(name, "by_attribution") == 0 ||
                         strcmp(name, "by_role") == 0)) {
            /* A phrase is static text of ours: as it is. */
            buf_puts(out, "<h2>");
            buf_puts(out, phrase(pg->lang, "page.widened"));
            buf_puts(out, "</h2>\n");
            heading = true;
        }
        html_table(pg, tbl);
    }
    buf_puts(out, "<p class=\"rounding\">");
    page_text(pg, json_string_value(json_object_get(report, "rounding")));
    buf_puts(out, ".</p>\n</body></html>\n");
}
