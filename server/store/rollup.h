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

/* A cell's key columns, and its counts after incidents in the order of
 * incident_rollup_counts (migrations/0009_widen_record.sql). */
#define ROLLUP_KEYS "gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts"
#define ROLLUP_COUNTS_AFTER_INCIDENTS                                                               \
    "killed, injured, k_male_adult, k_male_child, k_male_unknown, k_female_adult, k_female_child,"  \
    " k_female_unknown, k_unknown_adult, k_unknown_child, k_unknown_unknown, i_male_adult,"         \
    " i_male_child, i_male_unknown, i_female_adult, i_female_child, i_female_unknown,"              \
    " i_unknown_adult, i_unknown_child, i_unknown_unknown, unharmed, abducted, killed_below,"       \
    " killed_above, injured_below, injured_above, k_male_adult_below, k_male_child_below,"          \
    " k_male_unknown_below, k_female_adult_below, k_female_child_below, k_female_unknown_below,"    \
    " k_unknown_adult_below, k_unknown_child_below, k_unknown_unknown_below, i_male_adult_below,"   \
    " i_male_child_below, i_male_unknown_below, i_female_adult_below, i_female_child_below,"        \
    " i_female_unknown_below, i_unknown_adult_below, i_unknown_child_below,"                        \
    " i_unknown_unknown_below, k_male_adult_above, k_male_child_above, k_male_unknown_above,"       \
    " k_female_adult_above, k_female_child_above, k_female_unknown_above, k_unknown_adult_above,"   \
    " k_unknown_child_above, k_unknown_unknown_above, i_male_adult_above, i_male_child_above,"      \
    " i_male_unknown_above, i_female_adult_above, i_female_child_above, i_female_unknown_above,"    \
    " i_unknown_adult_above, i_unknown_child_above, i_unknown_unknown_above"
#define ROLLUP_COUNTS "incidents, " ROLLUP_COUNTS_AFTER_INCIDENTS

/* Off only to measure what maintenance costs (CIVCAS_ROLLUP_WRITES=0):
 * trends are then wrong until `civcasd rollup rebuild`. */
extern bool rollup_writes_enabled;

/* Adds sign (+1 or -1) times incident id's current contribution. */
bool store_rollup_apply(struct db_conn *c, long long id, int sign, struct api_error *e);
/* Folds the journal into the cells in one transaction (at once if another
 * fold is running); *folded gets the journal rows folded. */
bool store_rollup_fold(struct db_conn *c, long long *folded, struct api_error *e);
/* The same for a large journal (a bulk import's): all of it in one
 * transaction, waiting for a fold in progress; the journal is summed into
 * a few base sets only, and every grouping set from its small base. */
bool store_rollup_fold_bulk(struct db_conn *c, long long *folded, struct api_error *e);

/* How far a rebuild is: done of total in unit ("incidents", summed into a
 * few base sets; "grouping sets", made from them; "cells compared" with
 * the stored cells, the differing ones written). */
struct rollup_progress {
    void (*report)(void *arg, const char *unit, long long done, long long total);
    void *arg;
};

/* Recomputes every cell from the incidents in one transaction, telling
 * progress (NULL: nobody) as it goes; writes go on meanwhile and count
 * once, in the journal beside the new cells. *cells gets the number of
 * cells. */
bool store_rollup_rebuild(struct db_conn *c, const struct rollup_progress *progress,
                          long long *cells, struct api_error *e);

/* Compares the cells plus the journal with an aggregate of the current
 * incidents; prints each differing cell with both sides' counts to out (at
 * most max_lines) and returns how many differ, or -1 on error. *cells gets
 * the number of expected cells. */
long store_rollup_verify(struct db_conn *c, FILE *out, long max_lines, long long *cells,
                         struct api_error *e);

#endif
