/*
 * Drift of a published report: which incidents changed since publication
 * in a way that moved one of its cells, which cells (table, row, column),
 * by how much, and the revisions that did it.
 *
 * Each incident revised since publication (and counted, then or now, by
 * one of the report's statuses) gets the report built twice over it
 * alone: as it stood at publication and as it stands. The count cells
 * where the two differ are the cells it moved; an incident that moved
 * none (a narrative edit, a change outside the report's periods) is not
 * listed.
 */
#ifndef CIVCAS_DRIFT_H
#define CIVCAS_DRIFT_H

#include <jansson.h>
#include <stdbool.h>

#include "domain/taxonomy.h"
#include "store/db.h"

/* Most incidents revised since publication that drift examines; past it
 * the answer is 409 (a report so far moved is best published again). */
#define DRIFT_MAX_INCIDENTS 500

/* The drift of the snapshot (its stored body, parsed) as a new JSON
 * object, or NULL with e set. with_who: revisions say which key made
 * them. Reads one snapshot of the database. */
json_t *drift_build(struct db_conn *c, json_t *snapshot, const struct taxonomy *t, bool with_who,
                    struct api_error *e);

#endif
