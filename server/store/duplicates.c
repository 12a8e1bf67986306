/* SQL for duplicates: candidates, queued pairs, dismissals, merged sources. */
#include "store/duplicates.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "domain/incident.h"
#include "util/dates.h"
#include "util/mem.h"

/* The pool is the union of four index ranges (migrations/0010): the
 * province's, one per date precision, each as wide as the wider of the two
 * windows ($3 days for a day, $4 a week, $5 a month); the others bounded by
 * the widest ($2 days either side), being rare. Only then are the statuses,
 * the exact windows and the evidence looked at, for a few hundred rows at
 * most. The incident itself comes back too (self = true), with the same
 * columns, so one round trip brings both sides of every comparison.
 * Coordinates: 0.03 degrees is over 2 km on any map of a place where
 * people live (a degree of longitude is 111 km x cos(latitude)). */
#define CANDIDATES_SQL                                                                             \
    "WITH me AS (SELECT id, occurred_on, admin1, lat, lon, external_ref, narrative,"               \
    "  CASE date_precision WHEN 'day' THEN $3::int WHEN 'week' THEN $4::int ELSE $5::int END"      \
    "  AS days FROM incidents WHERE id = $1::bigint),"                                             \
    "pool AS ("                                                                                    \
    " SELECT c.id FROM me CROSS JOIN (VALUES ('day', $3::int), ('week', $4::int),"                 \
    "  ('month', $5::int)) w (precision, days) JOIN incidents c ON c.admin1 = me.admin1"           \
    "  AND c.date_precision = w.precision AND c.occurred_on BETWEEN"                               \
    "  me.occurred_on - greatest(me.days, w.days) AND me.occurred_on + greatest(me.days, w.days)"  \
    " UNION SELECT c.id FROM me JOIN incidents c ON c.lat IS NOT NULL"                             \
    "  AND c.occurred_on BETWEEN me.occurred_on - $2::int AND me.occurred_on + $2::int"            \
    "  AND c.lat BETWEEN me.lat - 0.03 AND me.lat + 0.03"                                          \
    "  AND c.lon BETWEEN me.lon - 0.03 / greatest(cos(radians(me.lat)), 0.01)"                     \
    "   AND me.lon + 0.03 / greatest(cos(radians(me.lat)), 0.01)"                                  \
    " UNION SELECT c.id FROM me JOIN incidents c ON c.external_ref = me.external_ref"              \
    "  AND c.occurred_on BETWEEN me.occurred_on - $2::int AND me.occurred_on + $2::int"            \
    " UNION SELECT c.id FROM me JOIN incidents c ON c.narrative % me.narrative"                    \
    "  AND c.occurred_on BETWEEN me.occurred_on - $2::int AND me.occurred_on + $2::int)"           \
    "SELECT c.id = me.id, c.id, c.status, c.occurred_on::text, c.date_precision, c.admin1,"        \
    " c.admin2, c.lat, c.lon, c.tactic, c.perpetrator, p.group_code, c.killed, c.injured,"         \
    " r.kl, r.kh, r.il, r.ih, c.id <> me.id AND c.external_ref = me.external_ref,"                 \
    " CASE WHEN c.id = me.id OR c.narrative IS NULL OR me.narrative IS NULL THEN -1"               \
    "  ELSE similarity(c.narrative, me.narrative) END,"                                            \
    " EXISTS (SELECT 1 FROM duplicate_dismissals d"                                                \
    "  WHERE d.a = least(c.id, me.id) AND d.b = greatest(c.id, me.id))"                            \
    " FROM me CROSS JOIN LATERAL (SELECT id FROM pool UNION SELECT me.id) ids"                     \
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

static void facts_parse(PGresult *r, int row, struct duplicate_facts *f)
{
    memset(f, 0, sizeof *f);
    f->id = strtoll(PQgetvalue(r, row, 1), NULL, 10);
    f->status = static_of(incident_statuses, PQgetvalue(r, row, 2));
    date_parse(PQgetvalue(r, row, 3), &f->occurred_on);
    f->date_precision = static_of(incident_date_precisions, PQgetvalue(r, row, 4));
    f->admin1 = col(r, row, 5);
    f->admin2 = col(r, row, 6);
    f->has_coords = !PQgetisnull(r, row, 7);
    if (f->has_coords) {
        f->lat = strtod(PQgetvalue(r, row, 7), NULL);
        f->lon = strtod(PQgetvalue(r, row, 8), NULL);
    }
    f->tactic = col(r, row, 9);
    f->perpetrator = col(r, row, 10);
    f->party_group = col(r, row, 11);
    f->killed = num(r, row, 12);
    f->injured = num(r, row, 13);
    f->killed_low = num(r, row, 14);
    f->killed_high = num(r, row, 15);
    f->injured_low = num(r, row, 16);
    f->injured_high = num(r, row, 17);
    f->same_external_ref = PQgetvalue(r, row, 18)[0] == 't';
    f->narrative_similarity = strtod(PQgetvalue(r, row, 19), NULL);
    f->dismissed = PQgetvalue(r, row, 20)[0] == 't';
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
    const char *params[] = {idtext, widest, day, week, month};
    *out = NULL;
    *n = 0;
    PGresult *r = db_query(c, &stmt_candidates, 5, params, e);
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
DB_STMT(stmt_pairs_insert,
        "INSERT INTO duplicate_pairs (a, b, score, reasons)"
        " SELECT least($1::bigint, p.id), greatest($1::bigint, p.id), p.score, p.reasons"
        " FROM jsonb_to_recordset($2::jsonb) AS p(id bigint, score numeric, reasons jsonb)");

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
