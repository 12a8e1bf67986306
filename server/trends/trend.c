/* Trend queries over the rollup cells. */
#include "trends/trend.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "domain/incident.h"
#include "domain/phrases.h"
#include "util/dates.h"
#include "util/mem.h"
#include "util/params.h"

/* ---- the fixed tables: dimensions and grouping sets --------------------- */

/* What a dimension needs from a cell. */
enum {
    NEED_ADMIN1 = 1,
    NEED_ADMIN2 = 2,
    NEED_PARTY = 4,
    NEED_TACTIC = 8,
    NEED_WEAPON = 16,
    NEED_VICTIM = 32,  /* the outcome x sex x age group columns, unpivoted */
    JOIN_PARTIES = 64, /* parties p: the party's group */
    JOIN_AREAS = 128,  /* admin_areas a: the province's region */
    NEED_ATTRIBUTION = 256,
    NEED_IMPACTS = 512,   /* the incident's set of impacts */
    NEED_VICTIM_ROWS = 1024, /* the casualty groups themselves (rollup_victim_facts) */
};

static const char *const categories[] = {"men",  "women", "boys", "girls", "adult_unknown_sex",
                                         "child_unknown_sex", "unknown", NULL};

struct dim_def {
    const char *name;
    const char *sql; /* the dimension's value in the aggregate query */
    unsigned needs;
    int list;                          /* taxonomy list index (see tx_list_of), -1 = fixed */
    const char *const *values;         /* fixed values when list < 0 */
    const char *hxl_code, *hxl_name;   /* HXL hashtags */
};

enum {
    L_PARTY_GROUPS,
    L_PARTIES,
    L_TACTICS,
    L_WEAPONS,
    L_AREAS,
    L_REGIONS,
    L_IMPACTS,
    L_ATTRIBUTIONS,
    L_ROLES
};

#define CATEGORY_SQL                                                                    \
    "CASE WHEN v.age_group = 'adult' THEN CASE v.sex WHEN 'male' THEN 'men'"            \
    " WHEN 'female' THEN 'women' ELSE 'adult_unknown_sex' END"                          \
    " WHEN v.age_group = 'child' THEN CASE v.sex WHEN 'male' THEN 'boys'"               \
    " WHEN 'female' THEN 'girls' ELSE 'child_unknown_sex' END ELSE 'unknown' END"

/* Dimension names map to SQL only through this table: no client text
 * ever becomes SQL. */
static const struct dim_def dims[DIM_COUNT] = {
    [DIM_PARTY_GROUP] = {"party_group", "p.group_code", NEED_PARTY | JOIN_PARTIES, L_PARTY_GROUPS,
                         NULL, "#group+type+code", "#group+type+name"},
    [DIM_PARTY] = {"party", "c.party", NEED_PARTY, L_PARTIES, NULL, "#group+code", "#group+name"},
    [DIM_TACTIC] = {"tactic", "c.tactic", NEED_TACTIC, L_TACTICS, NULL, "#event+type+code",
                    "#event+type+name"},
    [DIM_WEAPON] = {"weapon", "c.weapon", NEED_WEAPON, L_WEAPONS, NULL, "#event+weapon+code",
                    "#event+weapon+name"},
    [DIM_ADMIN1] = {"admin1", "c.admin1", NEED_ADMIN1, L_AREAS, NULL, "#adm1+code", "#adm1+name"},
    [DIM_ADMIN2] = {"admin2", "NULLIF(c.admin2, '')", NEED_ADMIN1 | NEED_ADMIN2, L_AREAS, NULL,
                    "#adm2+code", "#adm2+name"},
    [DIM_REGION] = {"region", "a.region", NEED_ADMIN1 | JOIN_AREAS, L_REGIONS, NULL,
                    "#region+code", "#region+name"},
    [DIM_SEX] = {"sex", "v.sex", NEED_VICTIM, -1, incident_sexes, "#meta+sex", NULL},
    [DIM_AGE_GROUP] = {"age_group", "v.age_group", NEED_VICTIM, -1, incident_age_groups,
                       "#meta+age_group", NULL},
    [DIM_OUTCOME] = {"outcome", "v.outcome", NEED_VICTIM, -1, incident_outcomes, "#meta+outcome",
                     NULL},
    [DIM_CATEGORY] = {"category", CATEGORY_SQL, NEED_VICTIM, -1, categories, "#meta+category",
                      NULL},
    /* An incident's impacts are a set: by impact unnests it (im, below), a
     * filter tests it for overlap (dim_filter_sql). */
    [DIM_IMPACT] = {"impact", "im.impact", NEED_IMPACTS, L_IMPACTS, NULL, "#impact+type+code",
                    "#impact+type+name"},
    [DIM_ATTRIBUTION] = {"attribution", "c.attribution", NEED_ATTRIBUTION, L_ATTRIBUTIONS, NULL,
                         "#meta+attribution+code", "#meta+attribution+name"},
    [DIM_ROLE] = {"role", "v.role", NEED_VICTIM | NEED_VICTIM_ROWS, L_ROLES, NULL,
                  "#meta+role+code", "#meta+role+name"},
};

static const char *const measure_names[M_COUNT] = {"killed", "injured", "casualties", "incidents",
                                                   "abducted"};
static const char *const measure_hxl[M_COUNT] = {"#affected+killed", "#affected+injured",
                                                 "#affected+total", "#event+num",
                                                 "#affected+abducted"};
/* The label of casualty groups without a role. */

/* The grouping sets of migrations/0002_rollups.sql, 0004 and 0005 (set 0
 * is no set: rollup_facts, the incidents at their finest grain, read when
 * no set has what a query needs). */
enum grain { GRAIN_DAY, GRAIN_WEEK, GRAIN_MONTH };
static const char *const grain_names[] = {"day", "week", "month"};
struct gset_def {
    int id;
    enum grain grain; /* a week cell's period is its Monday, a month's its 1st */
    unsigned dims;
};
static const struct gset_def gsets[] = {
    {2, GRAIN_DAY, NEED_ADMIN1 | NEED_ADMIN2},
    {3, GRAIN_DAY, 0},
    {5, GRAIN_MONTH, NEED_ADMIN1 | NEED_ADMIN2},
    {6, GRAIN_MONTH, NEED_PARTY | NEED_TACTIC},
    {7, GRAIN_MONTH, 0},
    {8, GRAIN_MONTH, NEED_PARTY},
    {9, GRAIN_MONTH, NEED_TACTIC},
    {10, GRAIN_MONTH, NEED_WEAPON},
    {11, GRAIN_DAY, NEED_PARTY},
    {12, GRAIN_DAY, NEED_TACTIC},
    {13, GRAIN_WEEK, NEED_ADMIN1 | NEED_ADMIN2},
    {14, GRAIN_MONTH, NEED_PARTY | NEED_ATTRIBUTION},
    {15, GRAIN_MONTH, NEED_IMPACTS},
    {16, GRAIN_DAY, NEED_IMPACTS},
};
#define CELL_DIMS                                                                                  \
    (NEED_ADMIN1 | NEED_ADMIN2 | NEED_PARTY | NEED_TACTIC | NEED_WEAPON | NEED_ATTRIBUTION |      \
     NEED_IMPACTS)
static const struct gset_def facts = {0, GRAIN_DAY, CELL_DIMS};
#define NGSETS (sizeof gsets / sizeof gsets[0])

const char *const trend_param_names[] = {
    "from",        "to",     "period",      "by",        "measures", "status",   "compare",
    "format",      "range",  "party_group", "party",     "tactic",   "weapon",   "admin1",
    "admin2",      "region", "sex",         "age_group", "outcome",  "category", "impact",
    "attribution", "role",   "lang",        "as_of",     NULL};

static const struct tx_list *tx_list_of(const struct taxonomy *t, int list)
{
    switch (list) {
    case L_PARTY_GROUPS:
        return &t->party_groups;
    case L_PARTIES:
        return &t->parties;
    case L_TACTICS:
        return &t->tactics;
    case L_WEAPONS:
        return &t->weapons;
    case L_AREAS:
        return &t->areas;
    case L_IMPACTS:
        return &t->impacts;
    case L_ATTRIBUTIONS:
        return &t->attributions;
    case L_ROLES:
        return &t->roles;
    default:
        return &t->regions;
    }
}

const char *trend_dim_name(enum trend_dim d)
{
    return dims[d].name;
}

const char *trend_dim_label(const struct taxonomy *t, enum trend_dim d, const char *code,
                            const char *lang)
{
    if (!code || dims[d].list < 0)
        return NULL;
    if (d == DIM_ROLE && strcmp(code, TAXONOMY_NO_ROLE) == 0)
        return phrase(lang, "no_role");
    const struct tx_code *found = taxonomy_find(tx_list_of(t, dims[d].list), code);
    return found ? taxonomy_label(found, lang) : NULL;
}

int trend_dim_rank(const struct taxonomy *t, enum trend_dim d, const char *code)
{
    const int last = 1 << 30;
    if (!code)
        return last;
    if (dims[d].list < 0) {
        for (int i = 0; dims[d].values[i]; i++)
            if (strcmp(dims[d].values[i], code) == 0)
                return i;
        return last;
    }
    const struct tx_code *found = taxonomy_find(tx_list_of(t, dims[d].list), code);
    return found ? found->order : last;
}

bool trend_dim_labelled(enum trend_dim d)
{
    return dims[d].list >= 0;
}

void trend_dim_hxl(enum trend_dim d, const char **code_tag, const char **name_tag)
{
    *code_tag = dims[d].hxl_code;
    *name_tag = dims[d].hxl_name;
}

const char *trend_measure_name(enum trend_measure m)
{
    return measure_names[m];
}

const char *trend_measure_hxl(enum trend_measure m)
{
    return measure_hxl[m];
}

/* ---- parsing ------------------------------------------------------------ */

struct code_check {
    const struct tx_list *list;
    const char *const *values;
    int dim;
    int count;
    bool unknown;
};

static bool check_code(const char *item, size_t len, void *ctx)
{
    struct code_check *cc = ctx;
    char code[80];
    if (len == 0 || len >= sizeof code || ++cc->count > TREND_MAX_CODES)
        return false;
    memcpy(code, item, len);
    code[len] = '\0';
    if (cc->values) {
        for (const char *const *v = cc->values; *v; v++)
            if (strcmp(*v, code) == 0)
                return true;
        return false;
    }
    if (cc->dim == DIM_ROLE && strcmp(code, TAXONOMY_NO_ROLE) == 0)
        return true;
    const struct tx_code *found = taxonomy_find(cc->list, code);
    /* admin1 filters take provinces, admin2 filters districts. */
    if (found && cc->dim == DIM_ADMIN1 && found->level != 1)
        found = NULL;
    if (found && cc->dim == DIM_ADMIN2 && found->level != 2)
        found = NULL;
    if (!found)
        cc->unknown = true;
    return found != NULL;
}

static bool parse_date_param(param_fn get, void *ctx, const char *name, long *out,
                             bool *given, struct api_error *e)
{
    const char *v = get(ctx, name);
    *given = v != NULL;
    if (v && !date_parse(v, out))
        return err_invalid(e, name, "%s must be a date YYYY-MM-DD", name);
    return true;
}

static bool add_by(const char *item, size_t len, void *ctx)
{
    struct trend_query *q = ctx;
    for (enum trend_dim d = 0; d < DIM_COUNT; d++) {
        if (strlen(dims[d].name) == len && strncmp(dims[d].name, item, len) == 0) {
            for (int k = 0; k < q->nby; k++)
                if (q->by[k] == d)
                    return false;
            if (q->nby >= TREND_MAX_BY)
                return false;
            q->by[q->nby++] = d;
            return true;
        }
    }
    return false;
}

static bool add_measure(const char *item, size_t len, void *ctx)
{
    struct trend_query *q = ctx;
    if (len == 0)
        return false;
    for (int m = 0; m < M_COUNT; m++) {
        if (strlen(measure_names[m]) == len && strncmp(measure_names[m], item, len) == 0) {
            if (q->measures[m])
                return false;
            q->measures[m] = true;
            return true;
        }
    }
    return false;
}

/* Whether q splits or filters by a victim dimension (in by, in filters). */
static bool victims_in_by(const struct trend_query *q)
{
    for (int k = 0; k < q->nby; k++)
        if (dims[q->by[k]].needs & NEED_VICTIM)
            return true;
    return false;
}

static bool victims_in_filters(const struct trend_query *q)
{
    for (int d = 0; d < DIM_COUNT; d++)
        if (q->filters[d] && (dims[d].needs & NEED_VICTIM))
            return true;
    return false;
}

static bool uses_victims(const struct trend_query *q)
{
    return victims_in_by(q) || victims_in_filters(q);
}

static bool in_by(const struct trend_query *q, enum trend_dim d)
{
    for (int k = 0; k < q->nby; k++)
        if (q->by[k] == d)
            return true;
    return false;
}

bool trend_parse_as_of(param_fn get, void *ctx, char *out, struct api_error *e)
{
    out[0] = '\0';
    const char *v = get(ctx, "as_of");
    if (!v)
        return true;
    long long at;
    if (!timestamp_parse(v, &at))
        return err_invalid(e, "as_of",
                           "as_of must be an RFC 3339 date and time with a zone, such as "
                           "2026-06-30T12:00:00Z");
    if (at > (long long)time(NULL))
        return err_invalid(e, "as_of", "as_of may not be in the future");
    /* Written again in UTC, to the microsecond: PostgreSQL reads zones
     * only up to 15:59 and would refuse what RFC 3339 allows. */
    char micros[7] = "000000";
    if (v[19] == '.')
        for (int i = 0; i < 6 && v[20 + i] >= '0' && v[20 + i] <= '9'; i++)
            micros[i] = v[20 + i];
    long long day = at / 86400, second = at % 86400;
    if (second < 0) {
        second += 86400;
        day--;
    }
    int y, m, d;
    civil_from_days((long)day, &y, &m, &d);
    snprintf(out, 48, "%04d-%02d-%02dT%02lld:%02lld:%02lldZ", y, m, d, second / 3600,
             second / 60 % 60, second % 60);
    if (strcmp(micros, "000000") != 0)
        snprintf(out + 19, 48 - 19, ".%sZ", micros);
    return true;
}

bool trend_parse(param_fn get, void *ctx, const struct taxonomy *t, struct trend_query *q,
                 struct api_error *e)
{
    memset(q, 0, sizeof *q);
    bool has_from, has_to;
    if (!parse_date_param(get, ctx, "from", &q->from, &has_from, e) ||
        !parse_date_param(get, ctx, "to", &q->to, &has_to, e))
        return false;
    if (!has_to)
        q->to = date_today_at_offset(0);
    if (!has_from) {
        int y, m, d;
        civil_from_days(q->to, &y, &m, &d);
        q->from = days_from_civil(y, 1, 1);
    }
    long min_day;
    date_parse(INCIDENT_MIN_DATE, &min_day);
    if (q->from < min_day)
        return err_invalid(e, "from", "from may not be before %s", INCIDENT_MIN_DATE);
    if (q->from > q->to)
        return err_invalid(e, "to", "to may not be before from");

    const char *period = get(ctx, "period");
    q->period = PERIOD_MONTH;
    if (period && !period_kind_parse(period, &q->period))
        return err_invalid(e, "period", "period must be one of day, week, month, quarter, half, year");
    if (period_count(q->period, q->from, q->to) > TREND_MAX_BUCKETS)
        return err_invalid(e, "period",
                           "the range holds more than %d %ss; choose a coarser period or a "
                           "shorter range",
                           TREND_MAX_BUCKETS, period_kind_name(q->period));

    const char *by = get(ctx, "by");
    if (by && by[0]) {
        if (!comma_list_each(by, add_by, q))
            return err_invalid(e, "by",
                               "by must list at most %d distinct dimensions of party_group, party, "
                               "tactic, weapon, admin1, admin2, region, sex, age_group, outcome, "
                               "category, impact, attribution, role",
                               TREND_MAX_BY);
    }

    for (int d = 0; d < DIM_COUNT; d++) {
        const char *v = get(ctx, dims[d].name);
        if (!v)
            continue;
        struct code_check cc = {dims[d].list >= 0 ? tx_list_of(t, dims[d].list) : NULL,
                                dims[d].values, d, 0, false};
        if (!v[0] || !comma_list_each(v, check_code, &cc)) {
            if (cc.unknown)
                return api_error_set(e, 400, ERR_UNKNOWN_CODE, dims[d].name,
                                     "%s lists a code that is not in the taxonomy", dims[d].name);
            return err_invalid(e, dims[d].name, "%s must be a comma list of up to %d valid codes",
                               dims[d].name, TREND_MAX_CODES);
        }
        q->filters[d] = v;
    }

    const char *measures = get(ctx, "measures");
    bool victims = uses_victims(q);
    if (measures) {
        if (!measures[0] || !comma_list_each(measures, add_measure, q))
            return err_invalid(e, "measures",
                               "measures must be a comma list of distinct measures: killed, "
                               "injured, casualties, incidents, abducted");
        bool no_outcome = in_by(q, DIM_OUTCOME) || in_by(q, DIM_ROLE) ||
                          q->filters[DIM_OUTCOME] || q->filters[DIM_ROLE];
        if (q->measures[M_ABDUCTED] && no_outcome)
            return err_invalid(e, "measures",
                               "abducted cannot be split or filtered by outcome or role: persons "
                               "abducted have neither");
    } else {
        /* Split by victims, incidents would overlap: asked for only. */
        q->measures[M_KILLED] = q->measures[M_INJURED] = q->measures[M_CASUALTIES] = true;
        q->measures[M_INCIDENTS] = !victims;
    }
    const char *range = get(ctx, "range");
    if (range) {
        if (strcmp(range, "true") != 0 && strcmp(range, "false") != 0)
            return err_invalid(e, "range", "range must be true or false");
        q->range = strcmp(range, "true") == 0;
    }
    if (!trend_parse_as_of(get, ctx, q->as_of, e))
        return false;

    const char *status = get(ctx, "status");
    if (!status)
        status = "verified";
    if (strlen(status) >= sizeof q->status || !incident_status_list_valid(status))
        return err_invalid(e, "status",
                           "status must be a comma list of reported, verified, rejected, duplicate, retracted");
    snprintf(q->status, sizeof q->status, "%s", status);
    q->custom_status = strcmp(status, "verified") != 0;

    const char *compare = get(ctx, "compare");
    if (compare) {
        if (strcmp(compare, "previous_period") == 0)
            q->compare = COMPARE_PREVIOUS_PERIOD;
        else if (strcmp(compare, "previous_year") == 0)
            q->compare = COMPARE_PREVIOUS_YEAR;
        else
            return err_invalid(e, "compare", "compare must be previous_period or previous_year");
    }
    const char *format = get(ctx, "format");
    if (format) {
        if (strcmp(format, "json") == 0)
            q->format = FORMAT_JSON;
        else if (strcmp(format, "csv") == 0)
            q->format = FORMAT_CSV;
        else if (strcmp(format, "hxl") == 0)
            q->format = FORMAT_HXL;
        else
            return err_invalid(e, "format", "format must be json, csv or hxl");
        if (q->format != FORMAT_JSON && q->compare != COMPARE_NONE)
            return err_invalid(e, "compare", "compare is available in JSON only");
    }
    return true;
}

/* ---- planning and SQL ----------------------------------------------------- */

static unsigned query_needs(const struct trend_query *q)
{
    unsigned needs = 0;
    for (int k = 0; k < q->nby; k++)
        needs |= dims[q->by[k]].needs;
    for (int d = 0; d < DIM_COUNT; d++)
        if (q->filters[d])
            needs |= dims[d].needs;
    if (q->any_impact)
        needs |= NEED_IMPACTS;
    /* Cells hold casualties by victim columns; incidents or persons
     * abducted by who the victims were need the groups themselves. */
    if ((needs & NEED_VICTIM) && (q->measures[M_INCIDENTS] || q->measures[M_ABDUCTED]))
        needs |= NEED_VICTIM_ROWS;
    return needs;
}

static bool month_aligned(long from, long to)
{
    int y, m, d;
    civil_from_days(from, &y, &m, &d);
    if (d != 1)
        return false;
    civil_from_days(to + 1, &y, &m, &d);
    return d == 1;
}

/* Where a range's rows come from. */
enum rows_source {
    SRC_CELLS,   /* a grouping set's cells and the journal (rollup_live) */
    SRC_FACTS,   /* the incidents at their finest grain (rollup_facts) */
    SRC_VICTIMS, /* the casualty and abducted groups (rollup_victim_facts) */
};

/* What a range reads: the cells of set g over the whole range or, for
 * weekly queries that a week set can serve, the whole weeks
 * [mid_from, mid_end) from set week and the days before and after them
 * from set g. */
struct plan {
    enum rows_source source;
    const struct gset_def *g; /* SRC_CELLS and SRC_FACTS */
    const struct gset_def *week; /* NULL: g alone */
    long mid_from, mid_end;
    bool summed; /* the cells are the answer's rows: no GROUP BY (below) */
};

/* The grouping set of grain holding every dimension in needed with the
 * fewest others, or NULL. */
static const struct gset_def *smallest_set(enum grain grain, unsigned needed)
{
    const struct gset_def *best = NULL;
    for (size_t i = 0; i < NGSETS; i++) {
        if (gsets[i].grain != grain || (gsets[i].dims & needed) != needed)
            continue;
        if (!best || __builtin_popcount(gsets[i].dims) < __builtin_popcount(best->dims))
            best = &gsets[i];
    }
    return best;
}

/* The casualty groups when the cells cannot answer (victims' roles;
 * incidents or persons abducted by who the victims were). Else month
 * cells when the period is a month or longer and the range is made of
 * whole months; else day cells, with week cells for the whole weeks of a
 * weekly query when a week set has the dimensions; else (no set has them)
 * the incidents themselves (set 0).
 *
 * summed: the cells read have exactly the query's dimensions and the
 * period's grain (or a day of a week at the range's ends), so each answer
 * row is one cell, or a few: the statement returns the cells as they are
 * and run_range adds them up as it reads them, which it does anyway,
 * instead of PostgreSQL sorting and grouping them first. Not with the
 * victim columns (each cell is 18 rows) or a dimension from the taxonomy
 * (a party group is several parties). */
static struct plan plan(const struct trend_query *q, long from, long to)
{
    unsigned needs = query_needs(q);
    struct plan p = {SRC_FACTS, &facts, NULL, 0, 0, false};
    if (needs & NEED_VICTIM_ROWS) {
        p.source = SRC_VICTIMS;
        p.g = NULL;
        return p;
    }
    unsigned needed = needs & CELL_DIMS;
    bool plain = !(needs & (NEED_VICTIM | JOIN_PARTIES | JOIN_AREAS));
    const struct gset_def *month = NULL;
    if (q->period >= PERIOD_MONTH && month_aligned(from, to))
        month = smallest_set(GRAIN_MONTH, needed);
    if (month) {
        p.source = SRC_CELLS;
        p.g = month;
        p.summed = plain && q->period == PERIOD_MONTH && month->dims == needed;
        return p;
    }
    const struct gset_def *day = smallest_set(GRAIN_DAY, needed);
    if (!day)
        return p;
    p.source = SRC_CELLS;
    p.g = day;
    if (q->period == PERIOD_WEEK) {
        long mid_from = period_start(PERIOD_WEEK, from);
        if (mid_from < from)
            mid_from += 7;
        long mid_end = period_start(PERIOD_WEEK, to + 1);
        p.week = mid_from < mid_end ? smallest_set(GRAIN_WEEK, needed) : NULL;
        p.mid_from = mid_from;
        p.mid_end = mid_end;
    }
    p.summed = plain && q->period <= PERIOD_WEEK && day->dims == needed &&
               (!p.week || p.week->dims == needed);
    return p;
}

/* The start of c.period's bucket, as a date, by period kind: SQL text
 * fixed here, never from the request. Days, weeks and months are
 * rollup_period (migration 0005), the function that gives a cell its
 * period, which PostgreSQL inlines into plain date arithmetic; date_trunc
 * goes through a timestamp without time zone, as date_trunc on a date
 * would convert it to a timestamp with time zone first (a time zone
 * lookup per cell). */
static const char *const bucket_sql[] = {
    [PERIOD_DAY] = "c.period",
    [PERIOD_WEEK] = "rollup_period('week', c.period)",
    [PERIOD_MONTH] = "rollup_period('month', c.period)",
    [PERIOD_QUARTER] = "date_trunc('quarter', c.period::timestamp)::date",
    /* One element: the parentheses say so to clang's -Wstring-concatenation. */
    [PERIOD_HALF] = ("make_date(extract(year FROM c.period)::int,"
                     " CASE WHEN extract(month FROM c.period) <= 6 THEN 1 ELSE 7 END, 1)"),
    [PERIOD_YEAR] = "date_trunc('year', c.period::timestamp)::date",
};

/* One victim column of a cell: its outcome, sex and age group, its count
 * and how far the low and high estimates lie below and above it. */
#define VICTIM(o, s, a, col)                                                                  \
    "('" o "', '" s "', '" a "', c." col ", c." col "_below, c." col "_above)"
#define VICTIM_UNPIVOT                                                                        \
    " CROSS JOIN LATERAL (VALUES " VICTIM("killed", "male", "adult", "k_male_adult") ","      \
    VICTIM("killed", "male", "child", "k_male_child") ","                                     \
    VICTIM("killed", "male", "unknown", "k_male_unknown") ","                                 \
    VICTIM("killed", "female", "adult", "k_female_adult") ","                                 \
    VICTIM("killed", "female", "child", "k_female_child") ","                                 \
    VICTIM("killed", "female", "unknown", "k_female_unknown") ","                             \
    VICTIM("killed", "unknown", "adult", "k_unknown_adult") ","                               \
    VICTIM("killed", "unknown", "child", "k_unknown_child") ","                               \
    VICTIM("killed", "unknown", "unknown", "k_unknown_unknown") ","                           \
    VICTIM("injured", "male", "adult", "i_male_adult") ","                                    \
    VICTIM("injured", "male", "child", "i_male_child") ","                                    \
    VICTIM("injured", "male", "unknown", "i_male_unknown") ","                                \
    VICTIM("injured", "female", "adult", "i_female_adult") ","                                \
    VICTIM("injured", "female", "child", "i_female_child") ","                                \
    VICTIM("injured", "female", "unknown", "i_female_unknown") ","                            \
    VICTIM("injured", "unknown", "adult", "i_unknown_adult") ","                              \
    VICTIM("injured", "unknown", "child", "i_unknown_child") ","                              \
    VICTIM("injured", "unknown", "unknown", "i_unknown_unknown")                              \
    ") AS v(outcome, sex, age_group, n, below, above)"
/* The casualty and abducted groups, in the same shape. */
#define VICTIM_ROWS                                                                           \
    " FROM%s c CROSS JOIN LATERAL (VALUES (c.outcome, c.sex, c.age_group,"                    \
    " c.role, c.n, c.n_below, c.n_above)) AS v(outcome, sex, age_group, role, n, below, above)"

/* How the measures are read: grouped cells, cells as they are (summed),
 * cells unpivoted into victim rows, or casualty and abducted groups. */
enum form { FORM_CELLS, FORM_SUMMED, FORM_UNPIVOT, FORM_VICTIMS };

/* The SQL of measure m's estimate in form: fixed text, never from the
 * request. */
static const char *measure_sql(enum form form, enum trend_measure m, enum trend_estimate est,
                               bool harmed_only)
{
    /* [measure][estimate] over cell columns, without sum() (summed) and
     * with it. */
    static const char *const cells[2][M_COUNT][EST_COUNT] = {
        {{"c.killed", "c.killed - c.killed_below", "c.killed + c.killed_above"},
         {"c.injured", "c.injured - c.injured_below", "c.injured + c.injured_above"},
         {"c.killed + c.injured", "c.killed + c.injured - c.killed_below - c.injured_below",
          "c.killed + c.injured + c.killed_above + c.injured_above"},
         {"c.incidents", "c.incidents", "c.incidents"},
         {"c.abducted", "c.abducted", "c.abducted"}},
        {{"sum(c.killed)", "sum(c.killed - c.killed_below)", "sum(c.killed + c.killed_above)"},
         {"sum(c.injured)", "sum(c.injured - c.injured_below)", "sum(c.injured + c.injured_above)"},
         {"sum(c.killed + c.injured)",
          "sum(c.killed + c.injured - c.killed_below - c.injured_below)",
          "sum(c.killed + c.injured + c.killed_above + c.injured_above)"},
         {"sum(c.incidents)", "sum(c.incidents)", "sum(c.incidents)"},
         {"sum(c.abducted)", "sum(c.abducted)", "sum(c.abducted)"}},
    };
    static const char *const harmed[2] = {"c.incidents - c.unharmed",
                                          "sum(c.incidents - c.unharmed)"};
    /* Victim rows: v.outcome is killed or injured (or, from the groups,
     * abducted). An incident counts once however many of its groups
     * match. */
    static const char *const victims[M_COUNT][EST_COUNT] = {
        {"sum(v.n) FILTER (WHERE v.outcome = 'killed')",
         "sum(v.n - v.below) FILTER (WHERE v.outcome = 'killed')",
         "sum(v.n + v.above) FILTER (WHERE v.outcome = 'killed')"},
        {"sum(v.n) FILTER (WHERE v.outcome = 'injured')",
         "sum(v.n - v.below) FILTER (WHERE v.outcome = 'injured')",
         "sum(v.n + v.above) FILTER (WHERE v.outcome = 'injured')"},
        {"sum(v.n) FILTER (WHERE v.outcome <> 'abducted')",
         "sum(v.n - v.below) FILTER (WHERE v.outcome <> 'abducted')",
         "sum(v.n + v.above) FILTER (WHERE v.outcome <> 'abducted')"},
        {"count(DISTINCT c.incident_id) FILTER (WHERE v.outcome <> 'abducted')",
         "count(DISTINCT c.incident_id) FILTER (WHERE v.outcome <> 'abducted')",
         "count(DISTINCT c.incident_id) FILTER (WHERE v.outcome <> 'abducted')"},
        {"sum(v.n) FILTER (WHERE v.outcome = 'abducted')",
         "sum(v.n) FILTER (WHERE v.outcome = 'abducted')",
         "sum(v.n) FILTER (WHERE v.outcome = 'abducted')"},
    };
    switch (form) {
    case FORM_CELLS:
    case FORM_SUMMED: {
        int grouped = form == FORM_CELLS;
        if (m == M_INCIDENTS && harmed_only)
            return harmed[grouped];
        return cells[grouped][m][est];
    }
    case FORM_UNPIVOT:
        /* Never asked for here (plan reads victim rows for them). */
        if (m == M_INCIDENTS || m == M_ABDUCTED)
            return "0";
        return victims[m][est];
    default:
        return victims[m][est];
    }
}

/* A filter on d: its codes in parameter $param. */
static void filter_sql(struct buf *sql, const struct trend_query *q, enum trend_dim d, int param)
{
    if (d == DIM_IMPACT && !in_by(q, DIM_IMPACT)) {
        /* Incidents with any of the impacts, each once. */
        buf_printf(sql, " AND string_to_array(c.impacts, ',') && string_to_array($%d, ',')",
                   param);
        return;
    }
    buf_printf(sql, " AND %s = ANY (string_to_array($%d, ','))", dims[d].sql, param);
}

/* Builds the aggregate over [from, to]: columns bucket, the by dimensions,
 * then for each measure its figure (0 where not asked for) and, with
 * range, its low and high estimates. */
static void build_sql(const struct trend_query *q, const struct plan *p, long from, long to,
                      struct buf *sql, const char **params, int *nparams, char (*scratch)[16])
{
    unsigned needs = query_needs(q);
    bool victims = needs & NEED_VICTIM;
    int n = 0;
    date_format(from, scratch[1]);
    date_format(to, scratch[2]);
    if (p->source == SRC_VICTIMS) {
        params[n++] = q->status;
        params[n++] = scratch[1];
        params[n++] = scratch[2];
    } else {
        snprintf(scratch[0], 16, "%d", p->g->id);
        params[n++] = scratch[0];
        params[n++] = q->status;
        params[n++] = scratch[1];
        params[n++] = scratch[2];
    }
    if (p->week) {
        snprintf(scratch[3], 16, "%d", p->week->id);
        date_format(p->mid_from, scratch[4]);
        date_format(p->mid_end, scratch[5]);
        params[n++] = scratch[3];
        params[n++] = scratch[4];
        params[n++] = scratch[5];
    }
    /* As of a moment: each source with the changes since taken back
     * (migrations/0014_as_of.sql), the moment the next parameter. One
     * incident: its own sources, at the moment or (NULL) now. */
    char live[96] = " rollup_live", finest[96] = " rollup_facts",
         victim_facts[96] = " rollup_victim_facts";
    if (q->incident[0]) {
        params[n++] = q->incident;
        params[n++] = q->as_of[0] ? q->as_of : NULL;
        snprintf(live, sizeof live, " incident_live_at($%d::bigint, $%d::timestamptz)", n - 1, n);
        snprintf(finest, sizeof finest, " incident_facts_at($%d::bigint, $%d::timestamptz)", n - 1,
                 n);
        snprintf(victim_facts, sizeof victim_facts,
                 " incident_victim_facts_at($%d::bigint, $%d::timestamptz)", n - 1, n);
    } else if (q->as_of[0]) {
        /* With the range's first and last day: the changes outside it are
         * left out before they are summed. */
        params[n++] = q->as_of;
        snprintf(live, sizeof live, " rollup_live_as_of($%d::timestamptz, $3::date, $4::date)", n);
        snprintf(finest, sizeof finest, " rollup_facts_as_of($%d::timestamptz, $3::date, $4::date)",
                 n);
        snprintf(victim_facts, sizeof victim_facts,
                 " rollup_victim_facts_as_of($%d::timestamptz, $2::date, $3::date)", n);
    }

    buf_puts(sql, "SELECT ");
    buf_puts(sql, bucket_sql[q->period]);
    for (int k = 0; k < q->nby; k++)
        buf_printf(sql, ", %s", dims[q->by[k]].sql);
    /* The measures asked for; 0 for the others (less to sum and send). */
    enum form form = p->source == SRC_VICTIMS ? FORM_VICTIMS
                     : p->summed              ? FORM_SUMMED
                     : victims                ? FORM_UNPIVOT
                                              : FORM_CELLS;
    for (int m = 0; m < M_COUNT; m++)
        for (int est = 0; est < (q->range ? EST_COUNT : 1); est++)
            buf_printf(sql, ", %s",
                       q->measures[m] ? measure_sql(form, m, est, q->harmed_only) : "0");
    /* A set's cells and the journal not yet folded (one statement, one
     * snapshot: every contribution counted once), or the incidents, or
     * their groups. */
    if (p->source == SRC_VICTIMS)
        buf_printf(sql, VICTIM_ROWS, victim_facts);
    else if (p->week && (q->as_of[0] || q->incident[0]))
        /* The same ranges from one scan: the changes since a moment are
         * then computed once, not three times. */
        buf_printf(sql,
                   " FROM (SELECT * FROM%s WHERE (gset = $1::smallint"
                   "  AND (period >= $3::date AND period < $6::date"
                   "   OR period >= $7::date AND period <= $4::date))"
                   " OR (gset = $5::smallint AND period >= $6::date AND period < $7::date)) c",
                   live);
    else if (p->week)
        /* Three range scans: the days before the first whole week, the
         * days after the last, the weeks between. */
        buf_printf(sql,
                   " FROM (SELECT * FROM%s WHERE gset = $1::smallint"
                   "  AND period >= $3::date AND period < $6::date"
                   " UNION ALL SELECT * FROM%s WHERE gset = $1::smallint"
                   "  AND period >= $7::date AND period <= $4::date"
                   " UNION ALL SELECT * FROM%s WHERE gset = $5::smallint"
                   "  AND period >= $6::date AND period < $7::date) c",
                   live, live, live);
    else
        buf_printf(sql, " FROM%s c", p->g->id ? live : finest);
    if (needs & JOIN_PARTIES)
        buf_puts(sql, " JOIN parties p ON p.code = c.party");
    if (needs & JOIN_AREAS)
        buf_puts(sql, " JOIN admin_areas a ON a.pcode = c.admin1");
    if (victims && p->source != SRC_VICTIMS)
        buf_puts(sql, VICTIM_UNPIVOT);
    /* By impact: one row for each of the incident's impacts. */
    if (in_by(q, DIM_IMPACT))
        buf_puts(sql, " CROSS JOIN LATERAL unnest(string_to_array(c.impacts, ',')) AS im(impact)");
    if (p->source == SRC_VICTIMS)
        buf_puts(sql, " WHERE c.status = ANY (string_to_array($1, ','))"
                      " AND c.period BETWEEN $2::date AND $3::date");
    else if (p->week)
        buf_puts(sql, " WHERE c.status = ANY (string_to_array($2, ','))");
    else
        buf_puts(sql, " WHERE c.gset = $1::smallint AND c.status = ANY (string_to_array($2, ','))"
                      " AND c.period BETWEEN $3::date AND $4::date");
    for (int d = 0; d < DIM_COUNT; d++) {
        if (!q->filters[d])
            continue;
        params[n++] = q->filters[d];
        filter_sql(sql, q, d, n);
    }
    if (q->any_impact)
        buf_puts(sql, " AND c.impacts <> ''");
    /* Says what the province index holds (admin1 <> ''), so that a plan
     * made once for any province can use it. Codes are never empty. */
    if (q->filters[DIM_ADMIN1] && p->source == SRC_CELLS)
        buf_puts(sql, " AND c.admin1 <> ''");
    if (!p->summed) {
        buf_puts(sql, " GROUP BY 1");
        for (int k = 0; k < q->nby; k++)
            buf_printf(sql, ", %d", k + 2);
    }
    *nparams = n;
}

/* ---- running ---------------------------------------------------------------- */

static int estimates_of(const struct trend_query *q)
{
    return q->range ? EST_COUNT : 1;
}

static void series_free(struct trend_series *s)
{
    for (int k = 0; k < TREND_MAX_BY; k++)
        free(s->key[k]);
    for (int est = 0; est < EST_COUNT; est++)
        for (int m = 0; m < M_COUNT; m++)
            free(s->values[est][m]);
}

static void range_free(struct trend_range *r)
{
    for (size_t i = 0; i < r->nseries; i++)
        series_free(&r->series[i]);
    free(r->series);
    for (int est = 0; est < EST_COUNT; est++)
        for (int m = 0; m < M_COUNT; m++)
            free(r->period_totals[est][m]);
    free(r->starts);
    memset(r, 0, sizeof *r);
}

void trend_result_free(struct trend_result *r)
{
    range_free(&r->now);
    range_free(&r->before);
    memset(r, 0, sizeof *r);
}

static int key_cmp(char *const *a, char *const *b, int nby)
{
    for (int k = 0; k < nby; k++) {
        if (!a[k] || !b[k]) {
            if (a[k] != b[k])
                return a[k] ? 1 : -1;
            continue;
        }
        int c = strcmp(a[k], b[k]);
        if (c)
            return c;
    }
    return 0;
}

/* The series of key, created (zeroed) when new. Linear search is fine up to
 * TREND_MAX_SERIES; the rows arrive grouped. */
static struct trend_series *series_for(struct trend_range *r, const struct trend_query *q,
                                       char *const *key, size_t max_series, bool *too_many)
{
    for (size_t i = r->nseries; i-- > 0;)
        if (key_cmp(r->series[i].key, key, q->nby) == 0)
            return &r->series[i];
    if (r->nseries >= max_series) {
        *too_many = true;
        return NULL;
    }
    if (r->nseries == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->series = xrealloc(r->series, r->cap * sizeof *r->series);
    }
    struct trend_series *s = &r->series[r->nseries++];
    memset(s, 0, sizeof *s);
    for (int k = 0; k < q->nby; k++)
        s->key[k] = key[k] ? xstrdup(key[k]) : NULL;
    for (int est = 0; est < estimates_of(q); est++)
        for (int m = 0; m < M_COUNT; m++)
            s->values[est][m] = xcalloc((size_t)r->nperiods, sizeof(long long));
    return s;
}

static long bucket_index(const struct trend_range *r, long start)
{
    long lo = 0, hi = r->nperiods - 1;
    while (lo <= hi) {
        long mid = (lo + hi) / 2;
        if (r->starts[mid] == start)
            return mid;
        if (r->starts[mid] < start)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

/* The most series an answer of q may hold: TREND_MAX_SERIES, or fewer
 * when q->max_values would be passed (each series holds nperiods values
 * of each measure and estimate, in each range). */
static size_t max_series_of(const struct trend_query *q, long nperiods)
{
    if (q->max_values <= 0)
        return TREND_MAX_SERIES;
    long per = nperiods * (q->compare != COMPARE_NONE ? 2 : 1), measures = 0;
    for (int m = 0; m < M_COUNT; m++)
        measures += q->measures[m];
    per *= (measures ? measures : 1) * estimates_of(q);
    long n = q->max_values / per;
    return n < TREND_MAX_SERIES ? (size_t)(n > 0 ? n : 0) : TREND_MAX_SERIES;
}

/* Which measures' series may overlap in q's answer: every measure by
 * impact (an incident is in each of its impacts), incidents by a victim
 * dimension (an incident has victims of several kinds). */
static void overlapping_measures(const struct trend_query *q, bool out[M_COUNT])
{
    bool impact = in_by(q, DIM_IMPACT), victims = victims_in_by(q);
    for (int m = 0; m < M_COUNT; m++)
        out[m] = q->measures[m] && (impact || (victims && m == M_INCIDENTS));
}

static void range_init(struct trend_range *r, const struct trend_query *q, long from, long to)
{
    memset(r, 0, sizeof *r);
    r->from = from;
    r->to = to;
    r->nperiods = period_count(q->period, from, to);
    r->starts = xcalloc((size_t)r->nperiods, sizeof *r->starts);
    long s = period_start(q->period, from);
    for (long i = 0; i < r->nperiods; i++, s = period_next(q->period, s))
        r->starts[i] = s;
    for (int est = 0; est < estimates_of(q); est++)
        for (int m = 0; m < M_COUNT; m++)
            r->period_totals[est][m] = xcalloc((size_t)r->nperiods, sizeof(long long));
}

static bool run_range(struct db_conn *c, const struct trend_query *q, long from, long to,
                      struct trend_range *r, struct api_error *e);

/* The totals of an answer whose series overlap: the same question without
 * its dimensions, over the incidents the series cover (those with an
 * impact, by impact; those with casualties, by victims), so each incident
 * and its casualties count once. */
static bool overlapping_totals(struct db_conn *c, const struct trend_query *q,
                               struct trend_range *r, struct api_error *e)
{
    struct trend_query t = *q;
    t.nby = 0;
    t.compare = COMPARE_NONE;
    t.max_values = 0;
    if (in_by(q, DIM_IMPACT) && !q->filters[DIM_IMPACT])
        t.any_impact = true;
    if (victims_in_by(q) && !victims_in_filters(q))
        t.harmed_only = true;
    struct trend_range totals;
    if (!run_range(c, &t, r->from, r->to, &totals, e)) {
        range_free(&totals);
        return false;
    }
    for (int est = 0; est < estimates_of(q); est++)
        for (int m = 0; m < M_COUNT; m++) {
            memcpy(r->period_totals[est][m], totals.period_totals[est][m],
                   (size_t)r->nperiods * sizeof(long long));
            r->total[est][m] = totals.total[est][m];
        }
    range_free(&totals);
    return true;
}

static bool run_range(struct db_conn *c, const struct trend_query *q, long from, long to,
                      struct trend_range *r, struct api_error *e)
{
    range_init(r, q, from, to);
    int nest = estimates_of(q);
    struct plan p = plan(q, from, to);
    struct buf sql;
    buf_init(&sql);
    const char *params[9 + DIM_COUNT];
    char scratch[6][16];
    int n;
    build_sql(q, &p, from, to, &sql, params, &n, scratch);
    /* Cells: the same index range scan whatever the values, so one plan
     * serves every execution. The incidents and their groups are planned
     * for the values each time, as is an answer as of a moment (how many
     * revisions follow it decides the plan). */
    PGresult *res =
        db_query_cached(c, sql.data, n, params, p.source == SRC_CELLS && !q->as_of[0] && !q->incident[0], e);
    buf_free(&sql);
    if (!res)
        return false;
    bool too_many = false;
    size_t max_series = max_series_of(q, r->nperiods);
    for (int row = 0; row < PQntuples(res) && !too_many; row++) {
        long start;
        if (!date_parse(PQgetvalue(res, row, 0), &start))
            continue;
        long idx = bucket_index(r, start);
        if (idx < 0)
            continue;
        char *key[TREND_MAX_BY] = {NULL};
        for (int k = 0; k < q->nby; k++)
            key[k] = PQgetisnull(res, row, 1 + k) ? NULL : PQgetvalue(res, row, 1 + k);
        long long v[EST_COUNT][M_COUNT];
        bool any = false;
        for (int m = 0; m < M_COUNT; m++)
            for (int est = 0; est < nest; est++) {
                int col = 1 + q->nby + m * nest + est;
                v[est][m] =
                    PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
                any = any || (v[est][m] != 0 && q->measures[m]);
            }
        if (!any)
            continue;
        struct trend_series *sr = series_for(r, q, key, max_series, &too_many);
        if (!sr)
            break;
        for (int est = 0; est < nest; est++)
            for (int m = 0; m < M_COUNT; m++) {
                sr->values[est][m][idx] += v[est][m];
                sr->total[est][m] += v[est][m];
                r->period_totals[est][m][idx] += v[est][m];
                r->total[est][m] += v[est][m];
            }
    }
    PQclear(res);
    if (too_many && max_series < TREND_MAX_SERIES)
        return err_invalid(e, "by",
                           "the answer would hold more than %ld values (periods x series x "
                           "measures); choose a coarser period, a shorter range, filters or "
                           "fewer dimensions",
                           q->max_values);
    if (too_many)
        return err_invalid(e, "by", "more than %d series; add filters or fewer dimensions",
                           TREND_MAX_SERIES);
    /* Read unsummed (plan's summed), a journal row can take back what a
     * cell counted: a series that came to nothing is dropped, as when
     * PostgreSQL summed it (no figure is negative, so nothing means all
     * zero). */
    size_t kept = 0;
    for (size_t i = 0; i < r->nseries; i++) {
        struct trend_series *sr = &r->series[i];
        bool any = false;
        for (int est = 0; est < nest; est++)
            for (int m = 0; m < M_COUNT; m++)
                any = any || (q->measures[m] && sr->total[est][m] != 0);
        if (any) {
            if (kept != i)
                r->series[kept] = *sr;
            kept++;
            continue;
        }
        series_free(sr);
    }
    r->nseries = kept;
    /* Without dimensions there is always exactly one series. */
    if (q->nby == 0 && r->nseries == 0) {
        char *none[TREND_MAX_BY] = {NULL};
        series_for(r, q, none, 1, &too_many);
    }
    bool overlap[M_COUNT], any_overlap = false;
    overlapping_measures(q, overlap);
    for (int m = 0; m < M_COUNT; m++)
        any_overlap = any_overlap || overlap[m];
    return !any_overlap || overlapping_totals(c, q, r, e);
}

/* Makes sure every key of other has a (zero) series in r, so the current
 * and the comparison answer list the same series; then sorts by key. */
static void align_series(struct trend_range *r, const struct trend_range *other,
                         const struct trend_query *q)
{
    bool too_many = false;
    for (size_t i = 0; other && i < other->nseries; i++)
        series_for(r, q, other->series[i].key, SIZE_MAX, &too_many);
    /* Insertion sort: series counts are small and mostly ordered. */
    for (size_t i = 1; i < r->nseries; i++) {
        struct trend_series tmp = r->series[i];
        size_t j = i;
        while (j > 0 && key_cmp(r->series[j - 1].key, tmp.key, q->nby) > 0) {
            r->series[j] = r->series[j - 1];
            j--;
        }
        r->series[j] = tmp;
    }
}

/* The comparison range of [from, to]. */
static void compare_range(const struct trend_query *q, long *from, long *to)
{
    if (q->compare == COMPARE_PREVIOUS_YEAR) {
        *from = date_minus_years(q->from, 1);
        *to = date_minus_years(q->to, 1);
        return;
    }
    /* A range of whole buckets steps back by its number of buckets;
     * anything else by its number of days. */
    bool whole = period_start(q->period, q->from) == q->from &&
                 period_next(q->period, period_start(q->period, q->to)) == q->to + 1;
    if (!whole) {
        long days = q->to - q->from + 1;
        *from = q->from - days;
        *to = q->to - days;
        return;
    }
    long n = period_count(q->period, q->from, q->to);
    long start = q->from;
    for (long i = 0; i < n; i++)
        start = period_start(q->period, start - 1);
    *from = start;
    *to = q->from - 1;
}

bool trend_run(struct db_conn *c, const struct trend_query *q, struct trend_result *out,
               struct api_error *e)
{
    memset(out, 0, sizeof *out);
    out->compared = q->compare != COMPARE_NONE;
    overlapping_measures(q, out->overlapping);
    /* Both ranges, and the totals of overlapping series, from one
     * snapshot, so they agree with each other (the caller's, when it
     * already holds one). */
    bool overlap = false;
    for (int m = 0; m < M_COUNT; m++)
        overlap = overlap || out->overlapping[m];
    bool own_tx = (out->compared || overlap) && !db_in_transaction(c);
    if (own_tx && !db_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e))
        return false;
    bool ok = run_range(c, q, q->from, q->to, &out->now, e);
    if (ok && out->compared) {
        long from, to;
        compare_range(q, &from, &to);
        ok = run_range(c, q, from, to, &out->before, e);
    }
    if (own_tx)
        db_rollback(c);
    if (!ok)
        return false;
    if (out->compared) {
        align_series(&out->now, &out->before, q);
        align_series(&out->before, &out->now, q);
    } else {
        align_series(&out->now, NULL, q);
    }
    return true;
}

/* ---- self-check ------------------------------------------------------------ */

bool trend_check_gsets(struct db_conn *c, char *problem, size_t size)
{
    PGresult *r = PQexec(db_pg(c),
                         "SELECT gset, grain, by_admin1, by_admin2, by_party, by_tactic,"
                         " by_weapon, by_attribution, by_impacts FROM rollup_gsets ORDER BY gset");
    bool ok = PQresultStatus(r) == PGRES_TUPLES_OK && (size_t)PQntuples(r) == NGSETS;
    for (int i = 0; ok && i < PQntuples(r); i++) {
        unsigned dimsdb = 0;
        const unsigned bits[] = {NEED_ADMIN1, NEED_ADMIN2,      NEED_PARTY,  NEED_TACTIC,
                                 NEED_WEAPON, NEED_ATTRIBUTION, NEED_IMPACTS};
        for (int b = 0; b < 7; b++)
            if (PQgetvalue(r, i, 2 + b)[0] == 't')
                dimsdb |= bits[b];
        ok = strtol(PQgetvalue(r, i, 0), NULL, 10) == gsets[i].id &&
             strcmp(PQgetvalue(r, i, 1), grain_names[gsets[i].grain]) == 0 &&
             dimsdb == gsets[i].dims;
    }
    PQclear(r);
    if (!ok)
        snprintf(problem, size, "the rollup grouping sets in the database differ from this binary's");
    return ok;
}
