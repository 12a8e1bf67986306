/*
 * The trend engine: a trend query (period, dimensions, filters, measures)
 * answered from the rollup cells, never from incident rows.
 *
 * trend_parse() validates query parameters into a struct trend_query;
 * trend_run() picks the smallest grouping set that holds what the query
 * needs, aggregates its cells in PostgreSQL and returns the JSON answer
 * (with the comparison range when asked); trend_render_csv() writes the
 * same figures as CSV or HXL.
 */
#ifndef CIVCAS_TREND_H
#define CIVCAS_TREND_H

#include <jansson.h>
#include <stdbool.h>

#include "domain/period.h"
#include "domain/taxonomy.h"
#include "store/db.h"
#include "util/buf.h"

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
    DIM_COUNT
};

enum trend_measure { M_KILLED, M_INJURED, M_CASUALTIES, M_INCIDENTS, M_COUNT };
enum trend_compare { COMPARE_NONE, COMPARE_PREVIOUS_PERIOD, COMPARE_PREVIOUS_YEAR };
enum trend_format { FORMAT_JSON, FORMAT_CSV, FORMAT_HXL };

#define TREND_MAX_BY 3
#define TREND_MAX_BUCKETS 1000
#define TREND_MAX_SERIES 2000
#define TREND_MAX_CODES 200

struct trend_query {
    long from, to;
    enum period_kind period;
    int by[TREND_MAX_BY];
    int nby;
    bool measures[M_COUNT];
    char status[128];              /* validated comma list */
    const char *filters[DIM_COUNT]; /* validated comma lists (borrowed) or NULL */
    enum trend_compare compare;
    enum trend_format format;
};

/* Parameter lookup used by trend_parse (the HTTP layer supplies it). */
typedef const char *(*trend_param_fn)(void *ctx, const char *name);

/* The names of every accepted parameter, for the HTTP layer's check of
 * unknown ones. */
extern const char *const trend_param_names[];

bool trend_parse(trend_param_fn get, void *ctx, const struct taxonomy *t, struct trend_query *q,
                 struct api_error *e);

/* The JSON answer (new reference) or NULL with e set. */
json_t *trend_run(struct db_conn *c, const struct trend_query *q, const struct taxonomy *t,
                  struct api_error *e);

/* CSV or HXL of a JSON answer from trend_run. */
void trend_render_csv(json_t *answer, const struct trend_query *q, struct buf *out);

/* part / whole x 100, rounded half away from zero to one decimal; JSON
 * null when whole is 0. Shares and changes of reports use it too. */
json_t *trend_pct(long long part, long long whole);

/* Whether the grouping sets compiled in agree with the database's. */
bool trend_check_gsets(struct db_conn *c, char *problem, size_t size);

#endif
