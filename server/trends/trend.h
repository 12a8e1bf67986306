/*
 * The trend engine: a trend query (period, dimensions, filters, measures)
 * answered from the rollup cells, never from incident rows.
 *
 * trend_parse() validates query parameters into a struct trend_query;
 * trend_run() picks the smallest grouping set that holds what the query
 * needs, aggregates its cells in PostgreSQL and fills a struct
 * trend_result (with the comparison range when asked). The JSON answer,
 * CSV and HXL (trends/trend_render.h) and the report tables
 * (reports/poc.h) are each built from that result.
 */
#ifndef CIVCAS_TREND_H
#define CIVCAS_TREND_H

#include <jansson.h>
#include <stdbool.h>

#include "domain/period.h"
#include "domain/taxonomy.h"
#include "store/db.h"
#include "util/buf.h"
#include "util/params.h"

enum trend_dim {
    DIM_PARTY_GROUP,
    DIM_PARTY,
    DIM_TACTIC,
    DIM_WEAPON,
    DIM_ADMIN1,
    DIM_ADMIN2,
    DIM_REGION,
    DIM_SEX,
    DIM_AGE_GROUP,
    DIM_OUTCOME,
    DIM_CATEGORY,
    DIM_IMPACT,
    DIM_ATTRIBUTION,
    DIM_ROLE,
    DIM_COUNT
};

enum trend_measure { M_KILLED, M_INJURED, M_CASUALTIES, M_INCIDENTS, M_ABDUCTED, M_COUNT };
enum trend_compare { COMPARE_NONE, COMPARE_PREVIOUS_PERIOD, COMPARE_PREVIOUS_YEAR };
enum trend_format { FORMAT_JSON, FORMAT_CSV, FORMAT_HXL };

#define TREND_MAX_BY 3
#define TREND_MAX_BUCKETS 1000
#define TREND_MAX_SERIES 2000
#define TREND_MAX_CODES 200

struct trend_query {
    long from, to;
    enum period_kind period;
    enum trend_dim by[TREND_MAX_BY];
    int nby;
    bool measures[M_COUNT];
    char status[128];               /* validated comma list */
    bool custom_status;             /* anything but the default "verified" */
    const char *filters[DIM_COUNT]; /* validated comma lists (borrowed) or NULL */
    enum trend_compare compare;
    enum trend_format format;
    long max_values; /* most values (periods x series x measures x estimates, both
                        ranges) an answer may hold; 0 = no limit but TREND_MAX_SERIES */
    bool range;      /* range=true: the low and high estimates beside each figure */
    const char *lang; /* the labels' language (util/lang.h); NULL: English */
    char as_of[48];  /* as_of: the figures as known at this moment; "" = now */
    /* Never from a request: one incident's figures alone (its id in
     * decimal; "" = every incident), as of as_of or now. */
    char incident[24];
    /* Never from a request: set by civcasd itself (the totals of an answer
     * whose series overlap; the public release). */
    bool harmed_only; /* incidents: only those that killed or injured someone */
    bool any_impact;  /* only incidents with at least one impact */
};

/* Reads as_of (RFC 3339, not in the future) into out (48 bytes; "" when
 * absent). Errors name as_of. */
bool trend_parse_as_of(param_fn get, void *ctx, char *out, struct api_error *e);

/* The estimates of a figure: the count (best), and the low and high
 * estimates of the counts where sources disagree (range=true). */
enum trend_estimate { EST_BEST, EST_LOW, EST_HIGH, EST_COUNT };

/* One series: the figures of one combination of the query's dimensions. */
struct trend_series {
    char *key[TREND_MAX_BY]; /* codes, in the order of query.by; NULL = none */
    /* per estimate, measure and period; measures not asked for stay 0, the
     * low and high estimates are NULL unless the query asked for them */
    long long *values[EST_COUNT][M_COUNT];
    long long total[EST_COUNT][M_COUNT];
};

/* The figures of one date range. */
struct trend_range {
    long from, to;
    long nperiods;
    long *starts; /* first day of each period's bucket (the first may precede from) */
    struct trend_series *series; /* sorted by key */
    size_t nseries, cap;
    long long *period_totals[EST_COUNT][M_COUNT];
    long long total[EST_COUNT][M_COUNT];
};

/* A trend answer. With a comparison, now and before list the same series
 * keys in the same order (zeros where a range has none). Where a measure's
 * series overlap (an incident in several series: by impact, or incidents
 * by a victim dimension), the totals count each incident once, so they can
 * be less than the sum of the series. */
struct trend_result {
    struct trend_range now;
    bool compared;
    struct trend_range before; /* the comparison range when compared */
    bool overlapping[M_COUNT];
};

/* The names of every accepted parameter, for the HTTP layer's check of
 * unknown ones. */
extern const char *const trend_param_names[];

bool trend_parse(param_fn get, void *ctx, const struct taxonomy *t, struct trend_query *q,
                 struct api_error *e);

/* Runs q into *out (freed with trend_result_free, even on failure), or
 * false with e set. With a comparison, both ranges are read from one
 * snapshot (the caller's transaction, if it holds one). */
bool trend_run(struct db_conn *c, const struct trend_query *q, struct trend_result *out,
               struct api_error *e);
void trend_result_free(struct trend_result *r);

/* A dimension's parameter name ("party_group"). */
const char *trend_dim_name(enum trend_dim d);
/* A code's display name in d's taxonomy list in lang (NULL: English), or
 * NULL (fixed values such as sexes have none). */
const char *trend_dim_label(const struct taxonomy *t, enum trend_dim d, const char *code,
                            const char *lang);
/* A code's position in the deployment's display order (unknown and NULL
 * last). */
int trend_dim_rank(const struct taxonomy *t, enum trend_dim d, const char *code);
/* Whether d's codes come from a taxonomy list (and so have labels). */
bool trend_dim_labelled(enum trend_dim d);
/* HXL hashtags of d's code column and name column (NULL: no name column). */
void trend_dim_hxl(enum trend_dim d, const char **code_tag, const char **name_tag);
/* A measure's name ("killed") and HXL hashtag. */
const char *trend_measure_name(enum trend_measure m);
const char *trend_measure_hxl(enum trend_measure m);
/* Whether the grouping sets compiled in agree with the database's. */
bool trend_check_gsets(struct db_conn *c, char *problem, size_t size);

#endif
