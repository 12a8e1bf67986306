/*
 * Rollup maintenance: every write that can move a count adds the
 * incident's contribution to the rollup journal in its own transaction;
 * the folder (store/rollup_fold.h) moves the journal into the cells; readers
 * read both (migrations/0002_rollups.sql, 0004_rollup_journal.sql). And the
 * tools to check and rebuild them.
 */
#ifndef CIVCAS_STORE_ROLLUP_H
#define CIVCAS_STORE_ROLLUP_H

#include <stdbool.h>
#include <stdio.h>

#include "store/db.h"

/* Off only to measure what maintenance costs (CIVCAS_ROLLUP_WRITES=0):
 * trends are then wrong until `civcasd rollup rebuild`. */
extern bool rollup_writes_enabled;

/* Adds sign (+1 or -1) times incident id's current contribution. */
bool store_rollup_apply(struct db_conn *c, long long id, int sign, struct api_error *e);
/* Folds the journal into the cells in one transaction (at once if another
 * fold is running); *folded gets the journal rows folded. */
bool store_rollup_fold(struct db_conn *c, long long *folded, struct api_error *e);

/* Recomputes every cell from the incidents in one transaction; writers
 * wait for it and then carry on. *cells gets the number of cells. */
bool store_rollup_rebuild(struct db_conn *c, long long *cells, struct api_error *e);

/* Compares the cells plus the journal with an aggregate of the current
 * incidents; prints each differing cell with both sides' counts to out (at
 * most max_lines) and returns how many differ, or -1 on error. *cells gets
 * the number of expected cells. */
long store_rollup_verify(struct db_conn *c, FILE *out, long max_lines, long long *cells,
                         struct api_error *e);

#endif
