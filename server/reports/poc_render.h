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

/* One table as CSV (hxl: with the hashtag row); false (404-style 400) when
 * the report has no such table. */
bool poc_render_table(json_t *report, const char *table, bool hxl, struct buf *out,
                      struct api_error *e);

/* The printable page with every table and the charts. */
void poc_render_html(json_t *report, struct buf *out);

#endif
