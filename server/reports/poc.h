/*
 * The Protection of Civilians report: the tables of DOMAIN.md ("The
 * reports") for a period, built from the trend engine's results, as one
 * JSON document (reports/poc_render.h renders it as CSV, HXL or HTML).
 * The tables of impacts, attributions and victims' roles are added only
 * when the period's data has what they show, so a report over data
 * recorded without them keeps its bytes.
 */
#ifndef CIVCAS_POC_H
#define CIVCAS_POC_H

#include <jansson.h>
#include <stdbool.h>

#include "domain/taxonomy.h"
#include "store/db.h"
#include "trends/trend.h"
#include "util/buf.h"
#include "util/lang.h"

#define POC_MAX_DAYS 366
#define POC_MAX_YEARS 20

enum poc_format { POC_JSON, POC_CSV, POC_HXL, POC_HTML };

struct poc_params {
    long from, to;
    int years;
    char status[128];
    bool custom_status; /* anything but the default "verified" */
    bool range;         /* range=true: each count with its low and high estimates */
    char lang[LANG_TAG_MAX + 1]; /* titles' and labels' language; "en" unless set */
    char as_of[48];     /* as_of: the figures as known at this moment; "" = now */
    char incident[24];  /* never from a request: one incident's figures alone */
};

/* Reads from, to, years, status, range, as_of (and for GET also format and
 * table; the handler chooses the language, lang, from lang and
 * Accept-Language).
 * Errors name the parameter. For a body (publish), get reads its members. */
bool poc_parse(param_fn get, void *ctx, struct poc_params *p, struct api_error *e);
bool poc_parse_format(param_fn get, void *ctx, enum poc_format *format,
                      const char **table, struct api_error *e);
/* digits=latin|native (default native): the HTML page's numbers in Latin
 * digits or in the language's own. */
bool poc_parse_digits(param_fn get, void *ctx, bool *latin, struct api_error *e);
extern const char *const poc_param_names[];

/* {"from", "to", "years", "status": [...]}. New reference. */
json_t *poc_parameters_json(const struct poc_params *p);

/* The report (new reference) or NULL with e set. Reads one snapshot. */
json_t *poc_build(struct db_conn *c, const struct poc_params *p, const struct taxonomy *t,
                  struct api_error *e);

/* The table called name in a report, or NULL. Borrowed. */
json_t *poc_find_table(json_t *report, const char *name);

/* Whether name is a table of the report. */
bool poc_table_known(const char *name);

#endif
