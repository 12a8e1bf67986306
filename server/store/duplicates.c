/* SQL for duplicates: candidates, queued pairs, dismissals, merged sources. */
#include "store/duplicates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/incident.h"
#include "util/dates.h"
#include "util/mem.h"

/* Timestamps as the API writes them. */
#define TS(col) "to_char(" col " AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"

/* An incident as the duplicates routes show it (duplicate_summary_to_json),
 * from incidents i joined to its perpetrator's party p: SUMMARY_NCOLUMNS
 * columns, read by summary_parse. */
#define SUMMARY_COLUMNS(i, p)                                                                      \
    i ".id, " i ".status, " i ".occurred_on::text, " i ".date_precision, " i ".admin1, " i         \
      ".admin2, " i ".tactic, " i ".perpetrator, " p ".group_code, " i ".killed, " i ".injured"
#define SUMMARY_NCOLUMNS 11

/* The pool is the union of four index ranges (migrations/0010): the
 * province's and the narratives', one per date precision, each as wide as
 * the wider of the two windows ($3 days for a day, $4 a week, $5 a month;
 * narratives as similar as $6 or more); coordinates and external
 * references bounded by the widest window ($2 days either side), being
 * rare. Only then are the statuses,
 * the exact windows and the evidence looked at, for a few hundred rows at
 * most. The incident itself comes back too (self = true), with the same
 * columns, so one round trip brings both sides of every comparison.
 * The narratives' range is a LATERAL subquery kept apart (OFFSET 0), so
 * that it is read through incidents_narrative_date_idx a precision at a
 * time and only then compared: where most narratives are alike (a
 * template, as in bench/post.lua), the planner otherwise compared every
 * narrative of the table first and joined the dates after (150 ms a
 * search at 18,000 incidents, against 3 ms).
 * Coordinates: 0.03 degrees is over 2 km on any map of a place where
 * people live (a degree of longitude is 111 km x cos(latitude)).
 * At most 1,000 of the pool are weighed, several times the most seen at
 * 1M incidents: a bound on the work, and on the planner's estimate, which
 * cannot know how narrow the windows are; without it the estimate passed
 * jit_above_cost, and compiling the plan took 90 ms of a 100 ms search. */
// clang-format off
#define CANDIDATES_SQL                                                                             \
    "WITH me AS (SELECT id, occurred_on, admin1, lat, lon, external_ref, narrative,"               \
    "  CASE date_precision WHEN 'day' THEN $3::int WHEN 'week' THEN $4::int ELSE $5::int END"      \
    "  AS days FROM incidents WHERE id = $1::bigint),"                                             \
    "w (precision, days) AS (VALUES ('day', $3::int), ('week', $4::int), ('month', $5::int)),"     \
    "pool AS ("                                                                                    \
    " SELECT c.id FROM me CROSS JOIN w JOIN incidents c ON c.admin1 = me.admin1"                   \
    "  AND c.date_precision = w.precision AND c.occurred_on BETWEEN"                               \
    "  me.occurred_on - greatest(me.days, w.days) AND me.occurred_on + greatest(me.days, w.days)"  \
    " UNION SELECT c.id FROM me JOIN incidents c ON c.lat IS NOT NULL"                             \
    "  AND c.occurred_on BETWEEN me.occurred_on - $2::int AND me.occurred_on + $2::int"            \
    "  AND c.lat BETWEEN me.lat - 0.03 AND me.lat + 0.03"                                          \
    "  AND c.lon BETWEEN me.lon - 0.03 / greatest(cos(radians(me.lat)), 0.01)"                     \
    "   AND me.lon + 0.03 / greatest(cos(radians(me.lat)), 0.01)"                                  \
    " UNION SELECT c.id FROM me JOIN incidents c ON c.external_ref = me.external_ref"              \
    "  AND c.occurred_on BETWEEN me.occurred_on - $2::int AND me.occurred_on + $2::int"            \
    " UNION SELECT c.id FROM me CROSS JOIN w CROSS JOIN LATERAL (SELECT c.id, c.narrative"         \
    "  FROM incidents c WHERE me.narrative IS NOT NULL AND c.narrative IS NOT NULL"                \
    "  AND c.date_precision = w.precision AND c.occurred_on BETWEEN"                               \
    "  me.occurred_on - greatest(me.days, w.days) AND me.occurred_on + greatest(me.days, w.days)"  \
    "  OFFSET 0) c WHERE similarity(c.narrative, me.narrative) >= $6::float8)"                     \
    "SELECT c.id = me.id, " SUMMARY_COLUMNS("c", "p") ", c.lat, c.lon,"                            \
    " r.kl, r.kh, r.il, r.ih, c.id <> me.id AND c.external_ref = me.external_ref,"                 \
    " CASE WHEN c.id = me.id OR c.narrative IS NULL OR me.narrative IS NULL THEN -1"               \
    "  ELSE similarity(c.narrative, me.narrative) END,"                                            \
    " EXISTS (SELECT 1 FROM duplicate_dismissals d"                                                \
    "  WHERE d.a = least(c.id, me.id) AND d.b = greatest(c.id, me.id))"                            \
    " FROM me CROSS JOIN LATERAL ((SELECT id FROM pool LIMIT 1000) UNION SELECT me.id) ids"        \
    " JOIN incidents c ON c.id = ids.id JOIN parties p ON p.code = c.perpetrator,"                 \
    " LATERAL (SELECT"                                                                             \
    "  coalesce(sum(coalesce(g.count_min, g.count)) FILTER (WHERE g.outcome = 'killed'), 0) kl,"   \
    "  coalesce(sum(coalesce(g.count_max, g.count)) FILTER (WHERE g.outcome = 'killed'), 0) kh,"   \
    "  coalesce(sum(coalesce(g.count_min, g.count)) FILTER (WHERE g.outcome = 'injured'), 0) il,"  \
    "  coalesce(sum(coalesce(g.count_max, g.count)) FILTER (WHERE g.outcome = 'injured'), 0) ih"   \
    "  FROM casualty_groups g WHERE g.incident_id = c.id) r"                                       \
    " WHERE c.id = me.id OR (c.status IN ('reported', 'verified')"                                 \
    "  AND abs(c.occurred_on - me.occurred_on) <= greatest(me.days,"                               \
    "   CASE c.date_precision WHEN 'day' THEN $3::int WHEN 'week' THEN $4::int"                    \
    "   ELSE $5::int END))"
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
    summary_parse(r, row, 1, f);
    int n = 1 + SUMMARY_NCOLUMNS;
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
    f->dismissed = PQgetvalue(r, row, n + 8)[0] == 't';
}

bool store_duplicate_candidates(struct db_conn *c, long long id, size_t limit,
                                struct duplicate_facts *me, bool *found,
                                struct duplicate_candidate **out, size_t *n, struct api_error *e)
{
    char idtext[24], widest[16], day[16], week[16], month[16];
    snprintf(idtext, sizeof idtext, "%lld", id);
    snprintf(widest, sizeof widest, "%d", DUPLICATE_WINDOW_DAYS);
    snprintf(day, sizeof day, "%d", duplicate_date_window("day"));
    snprintf(week, sizeof week, "%d", duplicate_date_window("week"));
    snprintf(month, sizeof month, "%d", duplicate_date_window("month"));
    char similar[16];
    snprintf(similar, sizeof similar, "%.3f", DUPLICATE_NARRATIVE_MIN);
    const char *params[] = {idtext, widest, day, week, month, similar};
    *out = NULL;
    *n = 0;
    PGresult *r = db_query(c, &stmt_candidates, 6, params, e);
    if (!r)
        return false;
    int rows = PQntuples(r);
    *found = false;
    struct duplicate_candidate *list = xcalloc(rows ? (size_t)rows : 1, sizeof *list);
    size_t count = 0;
    for (int i = 0; i < rows; i++) {
        if (PQgetvalue(r, i, 0)[0] == 't') {
            facts_parse(r, i, me);
            *found = true;
        } else {
            facts_parse(r, i, &list[count++].facts);
        }
    }
    PQclear(r);
    if (*found) {
        for (size_t i = 0; i < count; i++)
            duplicate_score(me, &list[i]);
        duplicate_rank(me, list, count);
    }
    if (limit && count > limit) {
        for (size_t i = limit; i < count; i++)
            duplicate_facts_free(&list[i].facts);
        count = limit;
    }
    *out = list;
    *n = count;
    return true;
}

DB_STMT(stmt_pairs_clear, "DELETE FROM duplicate_pairs WHERE a = $1::bigint OR b = $1::bigint");
/* Two incidents written at once can each find the other once the other
 * commits: the later upsert wins, with the same score either way. */
DB_STMT(stmt_pairs_insert,
        "INSERT INTO duplicate_pairs (a, b, score, reasons)"
        " SELECT least($1::bigint, p.id), greatest($1::bigint, p.id), p.score, p.reasons"
        " FROM jsonb_to_recordset($2::jsonb) AS p(id bigint, score numeric, reasons jsonb)"
        " ORDER BY p.id"
        " ON CONFLICT (a, b) DO UPDATE SET score = EXCLUDED.score, reasons = EXCLUDED.reasons,"
        " found_at = EXCLUDED.found_at");

bool store_duplicate_pairs_refresh(struct db_conn *c, long long id, struct api_error *e)
{
    struct duplicate_facts me = {0};
    struct duplicate_candidate *list;
    size_t n;
    bool found;
    if (!store_duplicate_candidates(c, id, 0, &me, &found, &list, &n, e))
        return false;
    json_t *pairs = json_array();
    for (size_t i = 0; i < n; i++) {
        if (list[i].score >= DUPLICATE_QUEUE_THRESHOLD)
            json_array_append_new(
                pairs, json_pack("{s:I, s:f, s:o}", "id", (json_int_t)list[i].facts.id, "score",
                                 list[i].score, "reasons", duplicate_reasons_json(&list[i])));
        duplicate_facts_free(&list[i].facts);
    }
    free(list);
    duplicate_facts_free(&me);
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    char *doc = json_dumps(pairs, JSON_COMPACT | JSON_REAL_PRECISION(6));
    const char *params[] = {idtext, doc};
    bool ok = db_exec(c, &stmt_pairs_clear, 1, params, e) &&
              (json_array_size(pairs) == 0 || db_exec(c, &stmt_pairs_insert, 2, params, e));
    free(doc);
    json_decref(pairs);
    return ok;
}

/* One queue keeper at a time over the database (several daemons may
 * share it): refreshes of two incidents that are each other's candidates
 * touch the same pair, and in two transactions at once they could
 * deadlock. */
DB_STMT(stmt_pending_lock,
        "SELECT pg_try_advisory_xact_lock(hashtext('civcas.duplicate_queue'))");
/* Up to $1 pending rows (a heap without indexes: taken by ctid), deleted
 * as they are taken; an incident pending twice comes back once. */
DB_STMT(stmt_pending_take,
        "WITH taken AS (DELETE FROM duplicate_pending WHERE ctid = ANY(ARRAY("
        "  SELECT ctid FROM duplicate_pending LIMIT $1::int FOR UPDATE SKIP LOCKED))"
        "  RETURNING incident_id)"
        " SELECT incident_id, count(*) FROM taken GROUP BY incident_id ORDER BY incident_id");

bool store_duplicate_pending_refresh(struct db_conn *c, long limit, long long *taken,
                                     long long *refreshed, struct api_error *e)
{
    *taken = *refreshed = 0;
    char lim[24];
    snprintf(lim, sizeof lim, "%ld", limit);
    const char *params[] = {lim};
    if (!db_begin(c, e))
        return false;
    PGresult *r = db_query(c, &stmt_pending_lock, 0, NULL, e);
    if (!r)
        goto fail;
    bool mine = PQntuples(r) == 1 && PQgetvalue(r, 0, 0)[0] == 't';
    PQclear(r);
    if (!mine) {
        db_rollback(c); /* another daemon is at it */
        return true;
    }
    if (!(r = db_query(c, &stmt_pending_take, 1, params, e)))
        goto fail;
    int rows = PQntuples(r);
    long long count = 0;
    for (int i = 0; i < rows; i++) {
        count += strtoll(PQgetvalue(r, i, 1), NULL, 10);
        if (!store_duplicate_pairs_refresh(c, strtoll(PQgetvalue(r, i, 0), NULL, 10), e)) {
            PQclear(r);
            goto fail;
        }
    }
    PQclear(r);
    if (!db_commit(c, e))
        return false;
    *taken = count;
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
        "SELECT p.a, p.b, p.score, p.reasons::text, " TS("p.found_at") ","
        " " SUMMARY_COLUMNS("ia", "pa") ", " SUMMARY_COLUMNS("ib", "pb")
        " FROM duplicate_pairs p JOIN incidents ia ON ia.id = p.a JOIN incidents ib ON ib.id = p.b"
        " JOIN parties pa ON pa.code = ia.perpetrator JOIN parties pb ON pb.code = ib.perpetrator"
        " WHERE p.score >= $1::numeric AND ia.status IN ('reported', 'verified')"
        " AND ib.status IN ('reported', 'verified')"
        " AND NOT EXISTS (SELECT 1 FROM duplicate_dismissals d WHERE d.a = p.a AND d.b = p.b)"
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
/* Idempotent: a pair dismissed already keeps its first record. */
// clang-format off
DB_STMT(stmt_dismiss,
        "WITH ins AS (INSERT INTO duplicate_dismissals (a, b, key_id, reason)"
        " VALUES ($1::bigint, $2::bigint, $3::bigint, $4) ON CONFLICT (a, b) DO NOTHING"
        " RETURNING a, b, key_id, reason, at)"
        " SELECT true, ins.reason, k.name, " TS("ins.at")
        " FROM ins JOIN api_keys k ON k.id = ins.key_id"
        " UNION ALL SELECT false, d.reason, k.name, " TS("d.at")
        " FROM duplicate_dismissals d JOIN api_keys k ON k.id = d.key_id"
        " WHERE d.a = $1::bigint AND d.b = $2::bigint AND NOT EXISTS (SELECT 1 FROM ins)");
// clang-format on

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
    r = db_query(c, &stmt_dismiss, 4, params, e);
    if (!r)
        return false;
    if (PQntuples(r) != 1) {
        PQclear(r);
        return err_internal(e);
    }
    *created = PQgetvalue(r, 0, 0)[0] == 't';
    *record = json_pack("{s:[s, s], s:s, s:s, s:s}", "incidents", at, bt, "reason",
                        PQgetvalue(r, 0, 1), "by", PQgetvalue(r, 0, 2), "at", PQgetvalue(r, 0, 3));
    PQclear(r);
    return true;
}
