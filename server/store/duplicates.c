/* SQL for duplicates: candidates, queued pairs, dismissals, merged sources. */
#include "store/duplicates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/incident.h"
#include "util/buf.h"
#include "util/dates.h"
#include "util/mem.h"

/* Timestamps as the API writes them. */
/* An incident as the duplicates routes show it (duplicate_summary_to_json),
 * from incidents i joined to its perpetrator's party p: SUMMARY_NCOLUMNS
 * columns, read by summary_parse. */
#define SUMMARY_COLUMNS(i, p)                                                                      \
    i ".id, " i ".status, " i ".occurred_on::text, " i ".date_precision, " i ".admin1, " i         \
      ".admin2, " i ".tactic, " i ".perpetrator, " p ".group_code, " i ".killed, " i ".injured"
#define SUMMARY_NCOLUMNS 11

/* The candidates of each incident of $1 (an array: one for the route,
 * a batch for the queue keeper), each as a LATERAL search of its own.
 * The pool: the incidents of the date window, a precision at a time, each
 * as wide as the wider of the two windows ($2 days for a day, $3 a week,
 * $4 a month): those known to the day through incidents_occurred_idx, the
 * others through incidents_imprecise_date_idx (migrations/0011), about
 * 3,000 rows at 1M incidents for an incident known to the day. Only then
 * the evidence that makes a candidate: the same province, coordinates
 * nearby, the same external reference, or a narrative as similar as $5 or
 * more (pg_trgm, computed once a row, only where both have one). Each row
 * is read once: the window brings every column the comparison needs, and
 * the incident itself comes back first (self = true), so one round trip
 * brings both sides of every comparison.
 * Coordinates: 0.03 degrees is over 2 km on any map of a place where
 * people live (a degree of longitude is 111 km x cos(latitude)).
 * At most 1,000 of one pool are weighed, several times the most seen at
 * 1M incidents: a bound on the work, and on the planner's estimate, which
 * cannot know how narrow the windows are; without it the estimate passed
 * jit_above_cost, and compiling the plan took 90 ms of a 100 ms search. */
// clang-format off
#define CANDIDATE_COLUMNS(c)                                                                       \
    c ".id, " c ".status, " c ".occurred_on, " c ".date_precision, " c ".admin1, " c ".admin2, "   \
    c ".tactic, " c ".perpetrator, " c ".killed, " c ".injured, " c ".lat, " c ".lon, "             \
    c ".external_ref, " c ".narrative"
#define WINDOW_OF(precision, days)                                                                 \
    " SELECT " CANDIDATE_COLUMNS("c") " FROM incidents c"                                          \
    "  WHERE c.date_precision = '" precision "' AND c.occurred_on BETWEEN"                         \
    "  me.occurred_on - greatest(me.days, " days ") AND me.occurred_on + greatest(me.days, " days ")"
#define CANDIDATES_SQL                                                                             \
    "WITH me AS (SELECT " CANDIDATE_COLUMNS("i") ","                                               \
    "  CASE date_precision WHEN 'day' THEN $2::int WHEN 'week' THEN $3::int ELSE $4::int END"      \
    "  AS days FROM incidents i WHERE i.id = ANY ($1::bigint[]))"                                  \
    "SELECT me.id, c.self, " SUMMARY_COLUMNS("c", "p") ", c.lat, c.lon,"                           \
    " r.kl, r.kh, r.il, r.ih, NOT c.self AND c.external_ref = me.external_ref, c.sim,"             \
    " (SELECT d.id FROM duplicate_dismissals d WHERE d.undone_at IS NULL"                          \
    "  AND d.a = least(c.id, me.id) AND d.b = greatest(c.id, me.id))"                              \
    " FROM me CROSS JOIN LATERAL ("                                                                \
    "  SELECT true AS self, " CANDIDATE_COLUMNS("me") ", -1 AS sim"                                \
    "  UNION ALL (SELECT false, s.* FROM (SELECT w.*, CASE WHEN w.narrative IS NULL"               \
    "   OR me.narrative IS NULL THEN -1 ELSE similarity(w.narrative, me.narrative) END AS sim"     \
    "   FROM (" WINDOW_OF("day", "$2::int")                                                        \
    "   UNION ALL" WINDOW_OF("week", "$3::int") " AND c.date_precision <> 'day'"                   \
    "   UNION ALL" WINDOW_OF("month", "$4::int") " AND c.date_precision <> 'day') w"               \
    "   WHERE w.id <> me.id AND w.status IN ('reported', 'verified') OFFSET 0) s"                  \
    "  WHERE s.admin1 = me.admin1 OR s.external_ref = me.external_ref OR s.sim >= $5::float8"      \
    "   OR (s.lat BETWEEN me.lat - 0.03 AND me.lat + 0.03"                                         \
    "    AND s.lon BETWEEN me.lon - 0.03 / greatest(cos(radians(me.lat)), 0.01)"                   \
    "    AND me.lon + 0.03 / greatest(cos(radians(me.lat)), 0.01))"                                \
    "  LIMIT 1000)) c"                                                                             \
    " JOIN parties p ON p.code = c.perpetrator,"                                                   \
    " LATERAL (SELECT"                                                                             \
    "  coalesce(sum(coalesce(g.count_min, g.count)) FILTER (WHERE g.outcome = 'killed'), 0) kl,"   \
    "  coalesce(sum(coalesce(g.count_max, g.count)) FILTER (WHERE g.outcome = 'killed'), 0) kh,"   \
    "  coalesce(sum(coalesce(g.count_min, g.count)) FILTER (WHERE g.outcome = 'injured'), 0) il,"  \
    "  coalesce(sum(coalesce(g.count_max, g.count)) FILTER (WHERE g.outcome = 'injured'), 0) ih"   \
    "  FROM casualty_groups g WHERE g.incident_id = c.id) r"                                       \
    " ORDER BY me.id, c.self DESC"
// clang-format on
DB_STMT(stmt_candidates, CANDIDATES_SQL);

static char *col(PGresult *r, int row, int n)
{
    return PQgetisnull(r, row, n) ? NULL : xstrdup(PQgetvalue(r, row, n));
}

static long num(PGresult *r, int row, int n)
{
    return strtol(PQgetvalue(r, row, n), NULL, 10);
}

static const char *static_of(const char *const *choices, const char *value)
{
    for (int i = 0; choices[i]; i++)
        if (strcmp(choices[i], value) == 0)
            return choices[i];
    return choices[0];
}

/* The summary columns from column base on. */
static void summary_parse(PGresult *r, int row, int base, struct duplicate_facts *f)
{
    memset(f, 0, sizeof *f);
    f->id = strtoll(PQgetvalue(r, row, base), NULL, 10);
    f->status = static_of(incident_statuses, PQgetvalue(r, row, base + 1));
    date_parse(PQgetvalue(r, row, base + 2), &f->occurred_on);
    f->date_precision = static_of(incident_date_precisions, PQgetvalue(r, row, base + 3));
    f->admin1 = col(r, row, base + 4);
    f->admin2 = col(r, row, base + 5);
    f->tactic = col(r, row, base + 6);
    f->perpetrator = col(r, row, base + 7);
    f->party_group = col(r, row, base + 8);
    f->killed = num(r, row, base + 9);
    f->injured = num(r, row, base + 10);
}

/* A row of the candidates statement: the summary, then the evidence. */
static void facts_parse(PGresult *r, int row, struct duplicate_facts *f)
{
    summary_parse(r, row, 2, f);
    int n = 2 + SUMMARY_NCOLUMNS;
    f->has_coords = !PQgetisnull(r, row, n);
    if (f->has_coords) {
        f->lat = strtod(PQgetvalue(r, row, n), NULL);
        f->lon = strtod(PQgetvalue(r, row, n + 1), NULL);
    }
    f->killed_low = num(r, row, n + 2);
    f->killed_high = num(r, row, n + 3);
    f->injured_low = num(r, row, n + 4);
    f->injured_high = num(r, row, n + 5);
    f->same_external_ref = PQgetvalue(r, row, n + 6)[0] == 't';
    f->narrative_similarity = strtod(PQgetvalue(r, row, n + 7), NULL);
    f->dismissal = PQgetisnull(r, row, n + 8) ? 0 : strtoll(PQgetvalue(r, row, n + 8), NULL, 10);
}

/* ids[0..n) as a PostgreSQL array literal, into a new buf. */
static void id_array(struct buf *b, const long long *ids, size_t n)
{
    buf_init(b);
    buf_putc(b, '{');
    for (size_t i = 0; i < n; i++)
        buf_printf(b, "%s%lld", i ? "," : "", ids[i]);
    buf_putc(b, '}');
}

/* The statement for the incidents ids[0..n). */
static PGresult *candidates_query(struct db_conn *c, const long long *ids, size_t n,
                                  struct api_error *e)
{
    struct buf list;
    id_array(&list, ids, n);
    char day[16], week[16], month[16], similar[16];
    snprintf(day, sizeof day, "%d", duplicate_date_window("day"));
    snprintf(week, sizeof week, "%d", duplicate_date_window("week"));
    snprintf(month, sizeof month, "%d", duplicate_date_window("month"));
    snprintf(similar, sizeof similar, "%.3f", DUPLICATE_NARRATIVE_MIN);
    const char *params[] = {list.data, day, week, month, similar};
    PGresult *r = db_query(c, &stmt_candidates, 5, params, e);
    buf_free(&list);
    return r;
}

/* The rows of one incident, from *row on (its own first): its facts into
 * me, its candidates scored and ranked (best first) into *out (the caller
 * frees each one's facts and the array). *row moves past them. */
static void group_parse(PGresult *r, int *row, struct duplicate_facts *me,
                        struct duplicate_candidate **out, size_t *n)
{
    int rows = PQntuples(r), first = *row, end = first + 1;
    while (end < rows && strcmp(PQgetvalue(r, end, 0), PQgetvalue(r, first, 0)) == 0)
        end++;
    facts_parse(r, first, me);
    struct duplicate_candidate *list = xcalloc((size_t)(end - first), sizeof *list);
    size_t count = 0;
    for (int i = first + 1; i < end; i++) {
        facts_parse(r, i, &list[count].facts);
        duplicate_score(me, &list[count++]);
    }
    duplicate_rank(me, list, count);
    *out = list;
    *n = count;
    *row = end;
}

bool store_duplicate_candidates(struct db_conn *c, long long id, size_t limit,
                                struct duplicate_facts *me, bool *found,
                                struct duplicate_candidate **out, size_t *n, struct api_error *e)
{
    *out = NULL;
    *n = 0;
    *found = false;
    PGresult *r = candidates_query(c, &id, 1, e);
    if (!r)
        return false;
    if (PQntuples(r) == 0) {
        PQclear(r);
        *out = xcalloc(1, sizeof **out);
        return true;
    }
    int row = 0;
    size_t count;
    group_parse(r, &row, me, out, &count);
    PQclear(r);
    *found = true;
    if (limit && count > limit) {
        for (size_t i = limit; i < count; i++)
            duplicate_facts_free(&(*out)[i].facts);
        count = limit;
    }
    *n = count;
    return true;
}

DB_STMT(stmt_pairs_clear,
        "DELETE FROM duplicate_pairs WHERE a = ANY ($1::bigint[]) OR b = ANY ($1::bigint[])");
/* A pair both of whose incidents are in the batch is found twice, with
 * the same score (scoring is symmetric): kept once. Two batches never run
 * at once (the keeper's lock); a pair written since by a search of the
 * other incident is updated. */
DB_STMT(stmt_pairs_insert,
        "INSERT INTO duplicate_pairs (a, b, score, reasons)"
        " SELECT DISTINCT ON (a, b) a, b, score, reasons FROM ("
        "  SELECT least(p.me, p.id) a, greatest(p.me, p.id) b, p.score, p.reasons"
        "  FROM jsonb_to_recordset($1::jsonb) AS p(me bigint, id bigint, score numeric,"
        "   reasons jsonb)) q ORDER BY a, b"
        " ON CONFLICT (a, b) DO UPDATE SET score = EXCLUDED.score, reasons = EXCLUDED.reasons,"
        " found_at = EXCLUDED.found_at");

/* The most pairs an incident brings to the queue: its best-ranked
 * candidates. A report entered again and again would otherwise pair every
 * copy with every other (n * (n - 1) / 2 pairs); reviewers merge the best
 * ones first, and each merge's refresh brings the next. */
#define DUPLICATE_QUEUE_PAIRS 50

/* Replaces the pairs of ids[0..n) with their candidates scoring
 * DUPLICATE_QUEUE_THRESHOLD or more (the DUPLICATE_QUEUE_PAIRS best of
 * each): one search statement, one delete and one insert for the lot. */
static bool pairs_refresh_some(struct db_conn *c, const long long *ids, size_t n,
                               struct api_error *e)
{
    PGresult *r = candidates_query(c, ids, n, e);
    if (!r)
        return false;
    json_t *pairs = json_array();
    for (int row = 0; row < PQntuples(r);) {
        struct duplicate_facts me;
        struct duplicate_candidate *list;
        size_t count;
        group_parse(r, &row, &me, &list, &count);
        for (size_t i = 0; i < count; i++) {
            if (list[i].score >= DUPLICATE_QUEUE_THRESHOLD && i < DUPLICATE_QUEUE_PAIRS)
                json_array_append_new(
                    pairs, json_pack("{s:I, s:I, s:f, s:o}", "me", (json_int_t)me.id, "id",
                                     (json_int_t)list[i].facts.id, "score", list[i].score,
                                     "reasons", duplicate_reasons_json(&list[i])));
            duplicate_facts_free(&list[i].facts);
        }
        free(list);
        duplicate_facts_free(&me);
    }
    PQclear(r);
    struct buf list;
    id_array(&list, ids, n);
    char *doc = json_dumps(pairs, JSON_COMPACT | JSON_REAL_PRECISION(6));
    const char *clear[] = {list.data}, *insert[] = {doc};
    bool ok = db_exec(c, &stmt_pairs_clear, 1, clear, e) &&
              (json_array_size(pairs) == 0 || db_exec(c, &stmt_pairs_insert, 1, insert, e));
    free(doc);
    buf_free(&list);
    json_decref(pairs);
    return ok;
}

/* The same for a keeper's batch, DUPLICATE_QUEUE_SEARCH incidents per
 * search: a search returns up to 1000 candidates of each incident, and
 * a burst of near-identical incidents (one report entered again and again)
 * gives each of them hundreds, so a whole batch at once would hold
 * 20,000 rows and their pairs in memory. A pair of two incidents in
 * different searches is deleted and written again by the later one, with
 * the same score. */
#define DUPLICATE_QUEUE_SEARCH 4

static bool pairs_refresh(struct db_conn *c, const long long *ids, size_t n, struct api_error *e)
{
    for (size_t i = 0; i < n; i += DUPLICATE_QUEUE_SEARCH) {
        size_t k = n - i < DUPLICATE_QUEUE_SEARCH ? n - i : DUPLICATE_QUEUE_SEARCH;
        if (!pairs_refresh_some(c, ids + i, k, e))
            return false;
    }
    return true;
}

/* One queue keeper at a time over the database (several daemons may
 * share it): refreshes of two incidents that are each other's candidates
 * touch the same pair, and in two transactions at once they could
 * deadlock; and the watermark has one writer. */
DB_STMT(stmt_keeper_lock, "SELECT pg_try_advisory_xact_lock(hashtext('civcas.duplicate_queue'))");
/* The incidents written after the watermark, in (change_xid, id) order
 * through incidents_change_idx, only those older than every transaction
 * still running: one that commits later has a change_xid at or above that
 * horizon, so it can never land behind the watermark. The incremental
 * listing (changed_since) follows the same rule. The watermark comes in
 * as two scalars: compared as a row with a join's columns, the position
 * was no index condition, and every incident was read. */
DB_STMT(stmt_keeper_take,
        "SELECT i.id, i.change_xid::text FROM incidents i"
        " WHERE (i.change_xid, i.id) > ((SELECT change_xid FROM duplicate_watermark),"
        "  (SELECT id FROM duplicate_watermark))"
        " AND i.change_xid < pg_snapshot_xmin(pg_current_snapshot())"
        " ORDER BY i.change_xid, i.id LIMIT $1::int");
DB_STMT(stmt_keeper_advance,
        "UPDATE duplicate_watermark SET change_xid = $1::xid8, id = $2::bigint");

bool store_duplicate_queue_keep(struct db_conn *c, long limit, long long *refreshed,
                                struct api_error *e)
{
    *refreshed = 0;
    char lim[24];
    snprintf(lim, sizeof lim, "%ld", limit);
    const char *params[] = {lim};
    if (!db_begin(c, e))
        return false;
    PGresult *r = db_query(c, &stmt_keeper_lock, 0, NULL, e);
    if (!r)
        goto fail;
    bool mine = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!mine) {
        db_rollback(c); /* another daemon is at it */
        return true;
    }
    if (!(r = db_query(c, &stmt_keeper_take, 1, params, e)))
        goto fail;
    int rows = PQntuples(r);
    long long *ids = xcalloc(rows ? (size_t)rows : 1, sizeof *ids);
    for (int i = 0; i < rows; i++)
        ids[i] = strtoll(PQgetvalue(r, i, 0), NULL, 10);
    const char *last[] = {rows ? PQgetvalue(r, rows - 1, 1) : NULL,
                          rows ? PQgetvalue(r, rows - 1, 0) : NULL};
    bool ok = rows == 0 || (pairs_refresh(c, ids, (size_t)rows, e) &&
                            db_exec(c, &stmt_keeper_advance, 2, last, e));
    free(ids);
    PQclear(r);
    if (!ok)
        goto fail;
    if (!db_commit(c, e))
        return false;
    *refreshed = rows;
    return true;
fail:
    db_rollback(c);
    return false;
}

/* The queue: pairs still likely and undecided, the later-recorded incident
 * of the pair first (duplicate_pairs_b_idx read backwards). A pair leaves
 * it when either incident stops competing (rejected, retracted, marked a
 * duplicate) or when it is dismissed. */
// clang-format off
DB_STMT(stmt_queue,
        "SELECT p.a, p.b, p.score, p.reasons::text, " DB_TS("p.found_at") ","
        " " SUMMARY_COLUMNS("ia", "pa") ", " SUMMARY_COLUMNS("ib", "pb")
        " FROM duplicate_pairs p JOIN incidents ia ON ia.id = p.a JOIN incidents ib ON ib.id = p.b"
        " JOIN parties pa ON pa.code = ia.perpetrator JOIN parties pb ON pb.code = ib.perpetrator"
        " WHERE p.score >= $1::numeric AND ia.status IN ('reported', 'verified')"
        " AND ib.status IN ('reported', 'verified')"
        " AND NOT EXISTS (SELECT 1 FROM duplicate_dismissals d WHERE d.a = p.a AND d.b = p.b"
        "  AND d.undone_at IS NULL)"
        " AND ($2::bigint IS NULL OR (p.b, p.a) < ($2::bigint, $3::bigint))"
        " ORDER BY p.b DESC, p.a DESC LIMIT $4::int");
// clang-format on

bool store_duplicate_queue(struct db_conn *c, long limit, bool has_cursor, long long after_a,
                           long long after_b, struct duplicate_pair **out, size_t *n,
                           struct api_error *e)
{
    char threshold[16], a[24], b[24], lim[24];
    snprintf(threshold, sizeof threshold, "%.3f", DUPLICATE_QUEUE_THRESHOLD);
    snprintf(a, sizeof a, "%lld", after_a);
    snprintf(b, sizeof b, "%lld", after_b);
    snprintf(lim, sizeof lim, "%ld", limit + 1);
    const char *params[] = {threshold, has_cursor ? b : NULL, has_cursor ? a : NULL, lim};
    PGresult *r = db_query(c, &stmt_queue, 4, params, e);
    if (!r)
        return false;
    int rows = PQntuples(r);
    *out = xcalloc(rows ? (size_t)rows : 1, sizeof **out);
    *n = (size_t)rows;
    for (int i = 0; i < rows; i++) {
        struct duplicate_pair *p = &(*out)[i];
        p->score = strtod(PQgetvalue(r, i, 2), NULL);
        p->reasons = json_loads(PQgetvalue(r, i, 3), 0, NULL);
        snprintf(p->found_at, sizeof p->found_at, "%s", PQgetvalue(r, i, 4));
        summary_parse(r, i, 5, &p->a);
        summary_parse(r, i, 5 + SUMMARY_NCOLUMNS, &p->b);
    }
    PQclear(r);
    return true;
}

DB_STMT(stmt_exist, "SELECT id FROM incidents WHERE id IN ($1::bigint, $2::bigint)");
/* Idempotent: a pair dismissed already (and not undone) keeps its first
 * record (the partial unique index of migrations/0011). */
DB_STMT(stmt_dismiss, "INSERT INTO duplicate_dismissals (a, b, key_id, reason)"
                      " VALUES ($1::bigint, $2::bigint, $3::bigint, $4)"
                      " ON CONFLICT (a, b) WHERE undone_at IS NULL DO NOTHING RETURNING id");
/* The record as the API shows it (dismissal_record). A statement of its
 * own after the write, so that it also sees what a concurrent request
 * committed while this one waited on it. */
#define DISMISSAL_RECORD_SQL                                                                       \
    "SELECT d.id, d.a, d.b, d.reason, k.name, " DB_TS("d.at") ", u.name, d.undone_reason, " DB_TS(       \
        "d.undone_at") " FROM duplicate_dismissals d JOIN api_keys k ON k.id = d.key_id"           \
                       " LEFT JOIN api_keys u ON u.id = d.undone_key_id"
DB_STMT(stmt_dismissal_of_pair, DISMISSAL_RECORD_SQL
        " WHERE d.a = $1::bigint AND d.b = $2::bigint AND d.undone_at IS NULL");
DB_STMT(stmt_dismissal_by_id, DISMISSAL_RECORD_SQL " WHERE d.id = $1::bigint");
DB_STMT(stmt_dismissal_undo,
        "UPDATE duplicate_dismissals SET undone_key_id = $2::bigint, undone_reason = $3,"
        " undone_at = now() WHERE id = $1::bigint AND undone_at IS NULL RETURNING id");

/* {"id", "incidents", "reason", "by", "at", "undone": null | {"reason",
 * "by", "at"}} from a row of DISMISSAL_RECORD_SQL. */
static json_t *dismissal_record(PGresult *r)
{
    json_t *undone = json_null();
    if (!PQgetisnull(r, 0, 8))
        undone = json_pack("{s:s, s:s, s:s}", "reason", PQgetvalue(r, 0, 7), "by",
                           PQgetvalue(r, 0, 6), "at", PQgetvalue(r, 0, 8));
    return json_pack("{s:s, s:[s, s], s:s, s:s, s:s, s:o}", "id", PQgetvalue(r, 0, 0), "incidents",
                     PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2), "reason", PQgetvalue(r, 0, 3), "by",
                     PQgetvalue(r, 0, 4), "at", PQgetvalue(r, 0, 5), "undone", undone);
}

/* Runs stmt (a write returning the row it changed, if any), then reads
 * the record with record_stmt: *changed whether the write changed a row;
 * *record NULL when there is none to read. */
static bool write_then_read(struct db_conn *c, struct db_stmt *stmt, int nparams,
                            const char *const *params, struct db_stmt *record_stmt, int nrecord,
                            const char *const *record_params, bool *changed, json_t **record,
                            struct api_error *e)
{
    *record = NULL;
    PGresult *r = db_query(c, stmt, nparams, params, e);
    if (!r)
        return false;
    *changed = PQntuples(r) == 1;
    PQclear(r);
    if (!(r = db_query(c, record_stmt, nrecord, record_params, e)))
        return false;
    if (PQntuples(r) == 1)
        *record = dismissal_record(r);
    PQclear(r);
    return true;
}

bool store_duplicate_dismiss(struct db_conn *c, long long a, long long b, const char *reason,
                             long long key_id, long long *missing, bool *created, json_t **record,
                             struct api_error *e)
{
    char at[24], bt[24], key[24];
    snprintf(at, sizeof at, "%lld", a);
    snprintf(bt, sizeof bt, "%lld", b);
    snprintf(key, sizeof key, "%lld", key_id);
    const char *params[] = {at, bt, key, reason};
    *missing = 0;
    *record = NULL;
    PGresult *r = db_query(c, &stmt_exist, 2, params, e);
    if (!r)
        return false;
    bool has_a = false, has_b = false;
    for (int i = 0; i < PQntuples(r); i++) {
        long long id = strtoll(PQgetvalue(r, i, 0), NULL, 10);
        has_a = has_a || id == a;
        has_b = has_b || id == b;
    }
    PQclear(r);
    if (!has_a || !has_b) {
        *missing = has_a ? b : a;
        return true;
    }
    if (!write_then_read(c, &stmt_dismiss, 4, params, &stmt_dismissal_of_pair, 2, params, created,
                         record, e))
        return false;
    /* Dismissed, or found dismissed: there is a live record. */
    return *record ? true : err_internal(e);
}

bool store_duplicate_dismissal_undo(struct db_conn *c, long long id, const char *reason,
                                    long long key_id, json_t **record, struct api_error *e)
{
    bool undone;
    char idtext[24], key[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    snprintf(key, sizeof key, "%lld", key_id);
    const char *params[] = {idtext, key, reason};
    return write_then_read(c, &stmt_dismissal_undo, 3, params, &stmt_dismissal_by_id, 1, params,
                           &undone, record, e);
}
