/*
 * Duplicates: how alike two incidents are. The store finds the candidates
 * of an incident (same date window and province, coordinates nearby, same
 * external reference, or a similar narrative) and hands over the facts of
 * each; this module weighs them into a score from 0 to 1 with its reasons,
 * ranks them, and words them for the API. Reasons name fields, never a
 * field's text. Plain C: no SQL.
 *
 * Ownership: strings in struct duplicate_facts are owned by it and freed by
 * duplicate_facts_free(); status and date_precision point at static strings.
 */
#ifndef CIVCAS_DUPLICATE_H
#define CIVCAS_DUPLICATE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/apierr.h"

#define DUPLICATE_CANDIDATES_DEFAULT 10
#define DUPLICATE_CANDIDATES_MAX 50
/* A pair scoring this much or more is queued for the reviewers. */
#define DUPLICATE_QUEUE_THRESHOLD 0.5
/* The widest date window of any precision (a month's). */
#define DUPLICATE_WINDOW_DAYS 31
/* Narratives this similar (pg_trgm's similarity) or more are evidence,
 * and make a candidate of an incident in another place. */
#define DUPLICATE_NARRATIVE_MIN 0.3
/* Coordinates this close (km) are one place. */
#define DUPLICATE_NEAR_KM 2.0
#define DUPLICATE_MAX_REASONS 8
/* The queue pages like the incident listing. */
#define DUPLICATE_QUEUE_DEFAULT 50
#define DUPLICATE_QUEUE_MAX 1000

/* What the comparison needs of one incident. */
struct duplicate_facts {
    long long id;
    const char *status;
    long occurred_on; /* days since 1970-01-01 */
    const char *date_precision;
    char *admin1, *admin2; /* admin2 NULL when not recorded */
    bool has_coords;
    double lat, lon;
    char *tactic, *perpetrator, *party_group;
    long killed, injured;
    /* The low and high estimates: sums of count_min / count_max (each
     * group's count where it has none). */
    long killed_low, killed_high, injured_low, injured_high;
    /* Comparisons the store makes without handing over the text (for
     * the incident itself: false and -1). */
    bool same_external_ref;
    double narrative_similarity; /* pg_trgm similarity 0..1, -1 when either has none */
    long long dismissal;         /* the live dismissal of this pair; 0: none */
};

struct duplicate_reason {
    const char *code;   /* same_date, same_admin2, ... (static) */
    const char *fields; /* the fields it rests on, comma-separated (static) */
    double weight;      /* what it adds to the score */
};

struct duplicate_candidate {
    struct duplicate_facts facts;
    double score; /* 0..1, rounded to 3 decimals */
    struct duplicate_reason reasons[DUPLICATE_MAX_REASONS];
    int nreasons;
};

void duplicate_facts_free(struct duplicate_facts *f);

/* The days either side of an incident's date within which another may be
 * the same event: 1 for a date known to the day, 7 to the week, 31 to the
 * month. Two incidents compare with the wider of their two windows. */
int duplicate_date_window(const char *date_precision);

/* Scores c against me and fills c's score and reasons. Symmetric: scoring
 * me against c gives the same score. */
void duplicate_score(const struct duplicate_facts *me, struct duplicate_candidate *c);

/* Sorts candidates of me by score (highest first), then nearest date,
 * then newest id. */
void duplicate_rank(const struct duplicate_facts *me, struct duplicate_candidate *c, size_t n);

/* The reasons as [{"code", "fields": [...], "weight"}]. New reference. */
json_t *duplicate_reasons_json(const struct duplicate_candidate *c);

/* An incident as the duplicates routes show it: codes, counts, date and
 * status; never a narrative, place, coordinates, reference or personal
 * detail. New reference. */
json_t *duplicate_summary_to_json(const struct duplicate_facts *f);

/* A candidate for the API: its summary, score, reasons, whether the pair
 * was dismissed and by which dismissal (its id, or null). New reference. */
json_t *duplicate_candidate_to_json(const struct duplicate_candidate *c);

/* A pair of the reviewers' queue: a < b (ids), the score and reasons as
 * found when the later of the two was last written. reasons is owned. */
struct duplicate_pair {
    struct duplicate_facts a, b;
    double score;
    json_t *reasons;
    char found_at[40];
};
void duplicate_pair_free(struct duplicate_pair *p);
/* {"incidents": [summary a, summary b], "score", "reasons", "found_at"}. */
json_t *duplicate_pair_to_json(const struct duplicate_pair *p);

/* The queue's keyset position after the pair (a, b), as an opaque cursor
 * (out: at least 64 bytes); decode is false for anything else. */
void duplicate_queue_cursor_encode(long long a, long long b, char *out, size_t size);
bool duplicate_queue_cursor_decode(const char *text, long long *a, long long *b);

/* "Not a duplicate": {"incidents": ["12", "34"], "reason": "..."}, two
 * distinct incident ids (in either order; *a gets the lower) and a reason
 * of 1 to 2000 characters. reason borrows from doc. */
bool duplicate_dismissal_from_json(json_t *doc, long long *a, long long *b, const char **reason,
                                   bool *swapped, struct api_error *e);

/* Undoing a dismissal: {"reason": "..."}, 1 to 2000 characters. reason
 * borrows from doc. */
bool duplicate_dismissal_undo_from_json(json_t *doc, const char **reason, struct api_error *e);

#endif
