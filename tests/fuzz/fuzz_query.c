/*
 * libFuzzer harness: a URL query string as GET /v1/trends, GET
 * /v1/public/trends, GET /v1/reports/poc and GET /v1/incidents read it.
 *
 * The bytes are split like libmicrohttpd splits a query: pairs at '&', name
 * and value at the first '=', '+' is a space, %XX is a byte (a bad escape
 * stays as it is), a pair without '=' has no value. What the HTTP layer
 * (http_query_parse) would refuse outright -- a name or value with NUL or
 * invalid UTF-8, a name longer than 64 bytes -- is dropped, and so is a
 * repeated name (the first wins): a request without those pairs is one the
 * parsers can see. Each parser then gets only the names its route allows.
 *
 * Parsers: trend_parse (+ public_trend_check), poc_parse and
 * poc_parse_format, the incident list filter (incident_filter_parse, which
 * list_filter in server/handlers/incidents.c calls with the taxonomy it
 * acquired; here it gets the fuzz taxonomy), and the helpers that filter
 * uses (date_parse, timestamp_valid, base64url_decode as cursor_decode
 * calls it, incident_id_parse).
 *
 * Promises checked besides the sanitizers' findings: a parser that fails
 * fills its api_error (incident_filter_parse: a 400 naming one of the
 * list's parameters); trend_parse and poc_parse only ask for names of
 * their routes' lists (trend_param_names, poc_param_names: a name missing
 * there would be refused as unknown by the HTTP layer); an accepted
 * query keeps the documented limits (the list: limit 1..1000, 50 when
 * absent, from <= to, every code of a code list in the taxonomy or a
 * status, a cursor of the listing's mode); the strict parsers accept only
 * the one spelling they would write back (dates, ids, cursors).
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/incident.h"
#include "domain/incident_filter.h"
#include "domain/period.h"
#include "fuzz_support.h"
#include "fuzz_taxonomy.h"
#include "reports/poc.h"
#include "reports/public.h"
#include "store/incidents.h"
#include "trends/trend.h"
#include "util/crypto.h"
#include "util/dates.h"
#include "util/jsonv.h"
#include "util/mem.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_PAIRS 64

struct pairs {
    int n;
    char *names[MAX_PAIRS];
    char *values[MAX_PAIRS];
};

/* The parameters one route sees: those of its list. strict: the parser
 * must ask for nothing else (the public trends route shares trend_parse,
 * which asks for every trend parameter; there the others are just absent). */
struct route {
    const char *name;
    const char *const *allowed;
    const struct pairs *all;
    bool strict;
};

__attribute__((format(printf, 1, 2), noreturn)) static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_query: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

/* Decodes s[0..len) ('+' and %XX) into a new string; *out_len is its byte
 * length (it may hold NUL bytes). */
static char *decode(const char *s, size_t len, size_t *out_len)
{
    char *out = xmalloc(len + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        int hi, lo;
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%' && i + 2 < len && (hi = hex_digit(s[i + 1])) >= 0 &&
                   (lo = hex_digit(s[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    *out_len = o;
    return out;
}

static bool acceptable(const char *s, size_t len)
{
    return strlen(s) == len && utf8_valid(s, len);
}

static const char *pairs_get(const struct pairs *p, const char *name)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->names[i], name) == 0)
            return p->values[i];
    return NULL;
}

static void split(const char *data, size_t size, struct pairs *p)
{
    p->n = 0;
    size_t start = 0;
    while (start <= size && p->n < MAX_PAIRS) {
        const char *amp = memchr(data + start, '&', size - start);
        size_t end = amp ? (size_t)(amp - data) : size;
        const char *piece = data + start;
        size_t plen = end - start;
        if (plen > 0) {
            const char *eq = memchr(piece, '=', plen);
            size_t nlen = eq ? (size_t)(eq - piece) : plen;
            size_t name_len, value_len = 0;
            char *name = decode(piece, nlen, &name_len);
            char *value = eq ? decode(eq + 1, plen - nlen - 1, &value_len) : NULL;
            /* http_query_parse refuses these; a pair without a value is
             * refused too (MHD gives it a NULL value). */
            if (!value || name_len > 64 || !acceptable(name, name_len) ||
                !acceptable(value, value_len) || pairs_get(p, name)) {
                free(name);
                free(value);
            } else {
                p->names[p->n] = name;
                p->values[p->n] = value;
                p->n++;
            }
        }
        if (!amp)
            break;
        start = end + 1;
    }
}

static void pairs_free(struct pairs *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->names[i]);
        free(p->values[i]);
    }
    p->n = 0;
}

static bool listed(const char *const *list, const char *name)
{
    for (const char *const *l = list; *l; l++)
        if (strcmp(*l, name) == 0)
            return true;
    return false;
}

/* trend_param_fn over a route: only its own names. */
static const char *route_get(void *ctx, const char *name)
{
    const struct route *r = ctx;
    if (!listed(r->allowed, name)) {
        if (r->strict)
            fail("%s asked for parameter \"%s\", which its route's list lacks", r->name, name);
        return NULL;
    }
    return pairs_get(r->all, name);
}

static long day_of(const char *text)
{
    long d;
    if (!date_parse(text, &d))
        abort();
    return d;
}

static void check_trend(const struct trend_query *q, bool public)
{
    const char *who = public ? "public trend" : "trend";
    if (q->from > q->to || q->from < day_of("1900-01-01"))
        fail("%s: accepted from %ld to %ld", who, q->from, q->to);
    if (period_count(q->period, q->from, q->to) > TREND_MAX_BUCKETS)
        fail("%s: accepted more than %d periods", who, TREND_MAX_BUCKETS);
    if (q->nby < 0 || q->nby > TREND_MAX_BY)
        fail("%s: accepted %d dimensions", who, q->nby);
    for (int i = 0; i < q->nby; i++) {
        if (q->by[i] < 0 || q->by[i] >= DIM_COUNT)
            fail("%s: dimension %d out of range", who, q->by[i]);
        for (int k = 0; k < i; k++)
            if (q->by[k] == q->by[i])
                fail("%s: dimension %d twice", who, q->by[i]);
    }
    bool any = false;
    for (int m = 0; m < M_COUNT; m++)
        any = any || q->measures[m];
    if (!any)
        fail("%s: accepted a query with no measure", who);
    if (!q->status[0] || strlen(q->status) >= sizeof q->status)
        fail("%s: empty status list", who);
    if (q->format != FORMAT_JSON && q->compare != COMPARE_NONE)
        fail("%s: compare with format %d", who, (int)q->format);
}

static void trends(const struct pairs *all)
{
    struct route r = {"trend_parse", trend_param_names, all, true};
    struct trend_query q;
    struct api_error e;
    memset(&e, 0, sizeof e);
    if (trend_parse(route_get, &r, &fz_taxonomy, &q, &e))
        check_trend(&q, false);
    else
        fuzz_check_error("fuzz_query", &e, "trend_parse");

    struct route pr = {"trend_parse (public)", public_trend_params, all, false};
    struct public_params pp = {route_get, &pr, "", ""};
    memset(&e, 0, sizeof e);
    if (!trend_parse(public_param, &pp, &fz_taxonomy, &q, &e)) {
        fuzz_check_error("fuzz_query", &e, "trend_parse (public)");
        return;
    }
    if (!public_trend_check(&q, &e)) {
        fuzz_check_error("fuzz_query", &e, "public_trend_check");
        return;
    }
    check_trend(&q, true);
    bool aligned = period_start(q.period, q.from) == q.from &&
                   period_next(q.period, period_start(q.period, q.to)) == q.to + 1;
    int filters = 0;
    for (int d = 0; d < DIM_COUNT; d++)
        if (q.filters[d] && (++filters > 1 || strchr(q.filters[d], ',')))
            fail("public_trend_check let through filter %d = \"%s\"", d, q.filters[d]);
    if (q.period < PERIOD_MONTH || q.nby > 1 || q.format != FORMAT_JSON || !aligned)
        fail("public_trend_check let through a non-public query");
}

static void poc(const struct pairs *all)
{
    struct route r = {"poc_parse", poc_param_names, all, true};
    struct poc_params p;
    struct api_error e;
    memset(&e, 0, sizeof e);
    if (!poc_parse(route_get, &r, &p, &e)) {
        fuzz_check_error("fuzz_query", &e, "poc_parse");
        return;
    }
    if (p.from > p.to || p.to - p.from + 1 > POC_MAX_DAYS || p.from < day_of("1920-01-01") ||
        p.years < 1 || p.years > POC_MAX_YEARS || !p.status[0])
        fail("poc_parse accepted from %ld to %ld, years %d, status \"%s\"", p.from, p.to, p.years,
             p.status);
    json_t *params = poc_parameters_json(&p);
    char *text = json_dumps(params, JSON_COMPACT);
    if (!text)
        fail("poc_parameters_json is not serialisable");
    free(text);
    json_decref(params);

    enum poc_format format;
    const char *table;
    memset(&e, 0, sizeof e);
    if (!poc_parse_format(route_get, &r, &format, &table, &e)) {
        fuzz_check_error("fuzz_query", &e, "poc_parse_format");
        return;
    }
    bool one_table = format == POC_CSV || format == POC_HXL;
    if (one_table != (table != NULL) || (table && !poc_table_known(table)))
        fail("poc_parse_format: table %s with format %d", table ? table : "(none)", (int)format);
}

/* The helpers of the incident list filter and of the id in the path. */
static void list_helpers(const struct pairs *all)
{
    static const char *const dates[] = {"from", "to", NULL};
    for (const char *const *d = dates; *d; d++) {
        const char *v = pairs_get(all, *d);
        long days;
        if (v && date_parse(v, &days)) {
            char again[11];
            date_format(days, again);
            if (strcmp(again, v) != 0)
                fail("date_parse accepted \"%s\", which date_format writes as \"%s\"", v, again);
        }
    }
    const char *since = pairs_get(all, "changed_since");
    if (since)
        (void)timestamp_valid(since);

    const char *cursor = pairs_get(all, "cursor");
    if (cursor && strlen(cursor) <= 80) {
        unsigned char plain[64];
        long n = base64url_decode(cursor, strlen(cursor), plain, sizeof plain - 1);
        if (n >= 0) {
            char again[96];
            base64url_encode(plain, (size_t)n, again);
            if (strcmp(again, cursor) != 0)
                fail("base64url_decode accepted \"%s\", which encodes back as \"%s\"", cursor,
                     again);
        }
    }

    const char *id = pairs_get(all, "id");
    long long value;
    if (id && incident_id_parse(id, &value)) {
        char again[24];
        snprintf(again, sizeof again, "%lld", value);
        if (value < 1 || strcmp(again, id) != 0)
            fail("incident_id_parse accepted \"%s\", read as %lld", id, value);
    }
}

/* Whether value is a comma-separated list of codes, none empty, each in list
 * (or, list NULL, in choices). */
static bool codes_known(const char *value, const struct tx_list *list, const char *const *choices)
{
    char code[2048];
    for (const char *p = value;; p++) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        if (len == 0 || len >= sizeof code)
            return false;
        memcpy(code, p, len);
        code[len] = '\0';
        if (list ? !taxonomy_find(list, code) : !listed(choices, code))
            return false;
        if (!comma)
            return true;
        p = comma;
    }
}

/* GET /v1/incidents: the HTTP layer would refuse any other name, so the
 * filter sees the list's names only. */
static void incident_list(const struct pairs *all)
{
    struct route list = {"incident_filter_parse", incident_filter_params, all, true};
    const long long owner = 7;
    struct incident_filter f;
    struct api_error e;
    memset(&e, 0, sizeof e);
    if (!incident_filter_parse(route_get, &list, &fz_taxonomy, owner, &f, &e)) {
        fuzz_check_error("fuzz_query", &e, "incident_filter_parse");
        if (e.status != 400 || !listed(incident_filter_params, e.field))
            fail("incident_filter_parse failed with status %d on field \"%s\"", e.status, e.field);
        return;
    }

    const char *limit = pairs_get(all, "limit");
    if (f.limit < 1 || f.limit > 1000 || (!limit && f.limit != 50))
        fail("incident_filter_parse accepted limit %ld (given: %s)", f.limit,
             limit ? limit : "none");
    if (f.owner != owner)
        fail("incident_filter_parse set owner %lld, not %lld", f.owner, owner);

    /* Each filter is the parameter's own value, or NULL when absent. */
    const struct {
        const char *name, *value;
    } given[] = {{"from", f.from},     {"to", f.to},
                 {"admin1", f.admin1}, {"admin2", f.admin2},
                 {"tactic", f.tactic}, {"perpetrator", f.perpetrator},
                 {"status", f.status}, {"changed_since", f.changed_since}};
    for (size_t i = 0; i < sizeof given / sizeof given[0]; i++)
        if (given[i].value != pairs_get(all, given[i].name))
            fail("incident_filter_parse: %s is not the query's value", given[i].name);

    long from = 0, to = 0;
    if ((f.from && !date_parse(f.from, &from)) || (f.to && !date_parse(f.to, &to)) ||
        (f.from && f.to && from > to))
        fail("incident_filter_parse accepted from \"%s\" to \"%s\"", f.from ? f.from : "",
             f.to ? f.to : "");
    if (f.changed_since && !timestamp_valid(f.changed_since))
        fail("incident_filter_parse accepted changed_since \"%s\"", f.changed_since);

    const struct {
        const char *name, *value;
        const struct tx_list *list;
    } lists[] = {{"admin1", f.admin1, &fz_taxonomy.areas},
                 {"admin2", f.admin2, &fz_taxonomy.areas},
                 {"tactic", f.tactic, &fz_taxonomy.tactics},
                 {"perpetrator", f.perpetrator, &fz_taxonomy.parties},
                 {"status", f.status, NULL}};
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        if (lists[i].value && !codes_known(lists[i].value, lists[i].list, incident_statuses))
            fail("incident_filter_parse accepted %s \"%s\"", lists[i].name, lists[i].value);

    const char *cursor = pairs_get(all, "cursor");
    if (f.has_cursor != (cursor != NULL))
        fail("incident_filter_parse: has_cursor %d with cursor %s", (int)f.has_cursor,
             cursor ? cursor : "absent");
    if (f.has_cursor) {
        long day;
        bool position = f.cursor_a[0] != '\0';
        if (position && f.changed_since)
            position = strspn(f.cursor_a, "0123456789") == strlen(f.cursor_a);
        else if (position)
            position = date_parse(f.cursor_a, &day);
        if (!position || f.cursor_id < 1)
            fail("incident_filter_parse accepted cursor \"%s\" as (%s, %lld) in %s mode", cursor,
                 f.cursor_a, f.cursor_id, f.changed_since ? "change" : "date");
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    mem_init();
    fuzz_taxonomy_check();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct pairs all;
    split((const char *)data, size, &all);
    trends(&all);
    poc(&all);
    incident_list(&all);
    list_helpers(&all);
    pairs_free(&all);
    return 0;
}
