/*
 * The public release of one calendar year: every number the public routes
 * may show for it, and which of them are withheld.
 *
 * The public surface is a fixed set of linked tables, not whatever a query
 * asks for: for each view (national totals; provinces within regions;
 * party groups; tactics; sex and age categories) a table of view rows x
 * outcome (casualties = killed + injured) x calendar period (months within
 * quarters within halves within the year), with every margin, plus the same
 * without outcome for incidents. All views share the national totals. A
 * public trend or report only looks numbers up here, so any two public
 * outputs agree on what is withheld.
 *
 * Suppression is computed on the whole release at once: every count from 1
 * to k - 1 is withheld (primary), and every withheld count is then made to
 * lie on a "direction": a set of withheld counts, some +1 and some -1, that
 * can all move together without changing any published number (a hypercube
 * across the three dimensions, lifted into every view where it touches the
 * national totals). Complements are added until each withheld count has
 * one whose room to move is at least k: then, whatever else an attacker
 * combines, the published numbers stay consistent with that count lying
 * anywhere in an interval at least k wide. docs/security.md has the model
 * and the proof.
 */
#ifndef CIVCAS_RELEASE_H
#define CIVCAS_RELEASE_H

#include <stdbool.h>

#include "domain/period.h"
#include "domain/taxonomy.h"
#include "store/db.h"
#include "trends/trend.h"

struct release;

/* The dimensions of the public surface (the rows of its views). */
bool release_dim_public(enum trend_dim d);

/* Builds and protects year's release from the verified incidents, reading
 * the rollups in the caller's snapshot (or one of its own). *out is freed
 * with release_free. */
bool release_build(struct db_conn *c, int year, long long k, const struct taxonomy *t,
                   struct release **out, struct api_error *e);
void release_free(struct release *r);

/* The time node of a calendar bucket of the year: kind month (index 0-11),
 * quarter (0-3), half (0-1) or year (0). */
int release_time_node(enum period_kind kind, int index);
/* The time node of the bucket of kind starting on day (in r's year), or -1
 * when day does not start such a bucket of r's year. */
int release_time_node_of(const struct release *r, enum period_kind kind, long day);

/* A number of the release: dim is DIM_COUNT for the national total, else a
 * public dimension with code (a region may be NULL: provinces without a
 * region); measure killed, injured, casualties or incidents. Returns
 * whether it is published; *value is its exact figure either way (0 for a
 * code without data). */
bool release_get(const struct release *r, enum trend_dim dim, const char *code,
                 enum trend_measure m, int tnode, long long *value);
/* The same with the sums of the low and high estimates beside the count
 * (incidents: all three the count). Published and withheld together. */
bool release_get_estimates(const struct release *r, enum trend_dim dim, const char *code,
                           enum trend_measure m, int tnode, long long value[EST_COUNT]);

/* The finest period the release publishes for dim (DIM_COUNT: the
 * national totals). */
enum period_kind release_finest_period(enum trend_dim dim);

/* The codes of dim with any non-zero count in the year, in code order
 * (NULL for the no-region group comes first). *codes borrows from r. */
int release_codes(const struct release *r, enum trend_dim dim, const char *const **codes);

/* How many numbers of the release are withheld, and how many of those are
 * complements (for logs and tests). */
void release_counts(const struct release *r, long *cells, long *withheld, long *complements);

#endif
