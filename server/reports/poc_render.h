/*
 * Renderings of a report document (poc_build's, or a published one): one
 * table as CSV or HXL, and the printable HTML page with every table and
 * the charts.
 */
#ifndef CIVCAS_POC_RENDER_H
#define CIVCAS_POC_RENDER_H

#include <jansson.h>
#include <stdbool.h>

#include "util/apierr.h"
#include "util/buf.h"

/* One table as CSV (hxl: with the hashtag row), its total row named in
 * lang (util/lang.h; NULL: English); false (404-style 400) when the report
 * has no such table. */
bool poc_render_table(json_t *report, const char *table, bool hxl, const char *lang,
                      struct buf *out, struct api_error *e);

/* The printable page with every table and the charts, in lang (NULL:
 * English): right to left for a language written so, numbers in the
 * language's own digits unless latin_digits. */
void poc_render_html(json_t *report, const char *lang, bool latin_digits, struct buf *out);

#endif
