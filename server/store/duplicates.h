/*
 * Duplicates in the database: the candidates of one incident (found
 * through the indexes of migrations/0011 and scored by domain/duplicate),
 * the pairs kept for the reviewers' queue, dismissals, and the sources a
 * duplicate lends the incident kept. Every function runs in the caller's
 * transaction, or alone when there is none.
 */
#ifndef CIVCAS_STORE_DUPLICATES_H
#define CIVCAS_STORE_DUPLICATES_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "domain/duplicate.h"
#include "store/db.h"

/* The candidates of incident id, scored and ranked (best first), at most
 * limit of them (0: all). me gets the incident's own facts; *found false
 * when it does not exist. Candidates are incidents reported or verified
 * (rejected and retracted ones are out of every count, and a duplicate is
 * never a target), other than id, within the wider of the two date windows,
 * and in the same province, within a few km, with the same external
 * reference or with a similar narrative. The caller frees each
 * candidate's facts (duplicate_facts_free), the array and me. */
bool store_duplicate_candidates(struct db_conn *c, long long id, size_t limit,
                                struct duplicate_facts *me, bool *found,
                                struct duplicate_candidate **out, size_t *n, struct api_error *e);

/* In one transaction of its own: refreshes the pairs of up to limit
 * incidents written after the queue's watermark (duplicate_watermark,
 * migrations/0011), oldest change first, and moves the watermark past
 * them. *refreshed: incidents refreshed (fewer than limit: none left for
 * now). Does nothing, and succeeds, while another connection is at it. On
 * failure everything is rolled back: the watermark stays. */
bool store_duplicate_queue_keep(struct db_conn *c, long limit, long long *refreshed,
                                struct api_error *e);

/* The reviewers' queue: up to limit + 1 pairs (the extra one says there
 * is another page) scoring DUPLICATE_QUEUE_THRESHOLD or more, both
 * incidents reported or verified, not dismissed; the later-recorded
 * incident's id first, descending; after (after_a, after_b) when
 * has_cursor. The caller frees each pair (duplicate_pair_free) and the
 * array. */
bool store_duplicate_queue(struct db_conn *c, long limit, bool has_cursor, long long after_a,
                           long long after_b, struct duplicate_pair **out, size_t *n,
                           struct api_error *e);

/* Records that a < b are not duplicates of each other (who: key_id, why:
 * reason). *missing names an id that is no incident (nothing recorded);
 * otherwise *created says whether this call recorded it (false: it was
 * already, and *record is the first record) and *record is {"id",
 * "incidents", "reason", "by", "at", "undone": null} (new reference). */
bool store_duplicate_dismiss(struct db_conn *c, long long a, long long b, const char *reason,
                             long long key_id, long long *missing, bool *created, json_t **record,
                             struct api_error *e);

/* Undoes dismissal id (who: key_id, why: reason): the pair may enter the
 * queue again. The record stays, with "undone": {"reason", "by", "at"};
 * undone already, it keeps the first undo. *record: NULL when there is no
 * such dismissal, otherwise the record (new reference). */
bool store_duplicate_dismissal_undo(struct db_conn *c, long long id, const char *reason,
                                    long long key_id, json_t **record, struct api_error *e);

#endif
