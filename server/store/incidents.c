/* SQL for incidents, their children, revisions and idempotency records. */
#include "store/incidents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/rollup.h"
#include "util/buf.h"
#include "util/dates.h"
#include "util/mem.h"

/* Timestamps as the API writes them. */
/* The client document (a jsonb column doc) is spread into rows here: the
 * children of each row of src, whose incident id is id. Shared by insert
 * and amend; store/incidents_import.c writes the same rows by COPY. */
#define CHILDREN_CTES_OF(src, id, doc)                                                             \
    "cg AS (INSERT INTO casualty_groups (incident_id, ordinal, outcome, sex, age_group, count,"    \
    "  count_min, count_max, role)"                                                                \
    "  SELECT " id ", c.ord - 1, c.v->>'outcome', c.v->>'sex', c.v->>'age_group',"                 \
    "   (c.v->>'count')::int, (c.v->>'count_min')::int, (c.v->>'count_max')::int, c.v->>'role'"    \
    "  FROM " src ", jsonb_array_elements(" doc "->'casualties') WITH ORDINALITY AS c(v, ord)),"   \
    "im AS (INSERT INTO incident_impacts (incident_id, impact)"                                    \
    "  SELECT " id ", m.v FROM " src ", jsonb_array_elements_text(" doc "->'impacts') AS m(v)),"   \
    "ab AS (INSERT INTO incident_abductions (incident_id, sex, age_group, count)"                  \
    "  SELECT " id ", a.v->>'sex', a.v->>'age_group', (a.v->>'count')::int"                        \
    "  FROM " src ", jsonb_array_elements(" doc "->'abducted') AS a(v)),"                          \
    "cp AS (INSERT INTO casualty_personal (incident_id, ordinal, name, age)"                       \
    "  SELECT " id ", c.ord - 1, c.v->>'name', (c.v->>'age')::smallint"                            \
    "  FROM " src ", jsonb_array_elements(" doc "->'casualties') WITH ORDINALITY AS c(v, ord)"     \
    "  WHERE c.v->>'name' IS NOT NULL OR c.v->>'age' IS NOT NULL),"                                \
    "src AS (INSERT INTO incident_sources (incident_id, ordinal, type, reference, merged_from)"    \
    "  SELECT " id ", s.ord - 1, s.v->>'type', s.v->>'reference', (s.v->>'merged_from')::bigint"   \
    "  FROM " src ", jsonb_array_elements(" doc "->'sources') WITH ORDINALITY AS s(v, ord))"
#define CHILDREN_CTES CHILDREN_CTES_OF("inc, d", "inc.id", "d.doc")

/* A new incident's row from its document (a jsonb column doc) and the
 * totals computed in C. */
#define INCIDENT_INSERT_COLUMNS                                                                    \
    "occurred_on, date_precision, time_of_day, admin1, admin2, place, lat, lon,"                   \
    " location_precision, tactic, weapon, perpetrator, attribution, narrative, external_ref,"      \
    " killed, injured, source_types, created_by"
#define INCIDENT_INSERT_VALUES(killed, injured, types, key)                                        \
    " (doc->>'occurred_on')::date, doc->>'date_precision', (doc->>'time_of_day')::time,"           \
    "  doc#>>'{location,admin1}', doc#>>'{location,admin2}', doc#>>'{location,place}',"            \
    "  (doc#>>'{location,lat}')::float8, (doc#>>'{location,lon}')::float8,"                        \
    "  doc#>>'{location,precision}', doc->>'tactic', doc->>'weapon', doc->>'perpetrator',"         \
    "  doc->>'attribution', doc->>'narrative', doc->>'external_ref', " killed ", " injured         \
    ", " types ", " key

/* An incident's journal row (rollup_apply's), built from its document and
 * its counts by category computed in C (a bigint[] column a). */
#define JOURNAL_INSERT(status, impacts, src)                                                       \
    "INSERT INTO rollup_journal (status, occurred_on, admin1, admin2, party, tactic,"              \
    "  weapon, attribution, impacts, " ROLLUP_COUNTS ")"                                           \
    " SELECT " status ", (doc->>'occurred_on')::date,"                                             \
    "  doc#>>'{location,admin1}', COALESCE(doc#>>'{location,admin2}', ''),"                        \
    "  doc->>'perpetrator', doc->>'tactic', doc->>'weapon', doc->>'attribution', " impacts ", 1,"  \
    "  a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13],"          \
    "  a[14], a[15], a[16], a[17], a[18], a[19], a[20], a[21], a[22], a[23], a[24], a[25],"        \
    "  a[26], a[27], a[28], a[29], a[30], a[31], a[32], a[33], a[34], a[35], a[36], a[37],"        \
    "  a[38], a[39], a[40], a[41], a[42], a[43], a[44], a[45], a[46], a[47], a[48], a[49],"        \
    "  a[50], a[51], a[52], a[53], a[54], a[55], a[56], a[57], a[58], a[59], a[60], a[61],"        \
    "  a[62]"                                                                                      \
    "  FROM " src

/* The insert of a new incident with its children and first revision.
 * With rollup upkeep on, the same statement journals the incident's
 * contribution (rollup_apply's row, built from the document and from its
 * counts by category computed in C: $7), so a create neither reads back
 * what it wrote nor runs a function for it. */
#define INSERT_CTES                                                                                \
    "WITH d AS (SELECT $1::jsonb AS doc),"                                                         \
    "inc AS (INSERT INTO incidents (" INCIDENT_INSERT_COLUMNS ")"                                  \
    " SELECT" INCIDENT_INSERT_VALUES(                                                              \
        "$2::int", "$3::int", "$4::int",                                                           \
        "$5::bigint") " FROM d"                                                                    \
                      " RETURNING id, version, status, created_at, updated_at)," CHILDREN_CTES "," \
                      "rev AS (INSERT INTO incident_revisions (incident_id, version, status, "     \
                      "key_id, reason,"                                                            \
                      "  changes, document, at)"                                                   \
                      " SELECT inc.id, 1, inc.status, $5::bigint, NULL, $6::jsonb, d.doc, "        \
                      "inc.created_at"                                                             \
                      " FROM inc, d)"
#define INSERT_RESULT                                                                              \
    " SELECT id, version, status, " DB_TS("created_at") ", " DB_TS("updated_at") " FROM inc"
DB_STMT(stmt_insert, INSERT_CTES INSERT_RESULT);
DB_STMT(stmt_insert_counted, INSERT_CTES
        ", jr AS (" JOURNAL_INSERT("inc.status", "$8",
                                   "inc, d, (SELECT $7::bigint[] AS a) x") ")" INSERT_RESULT);

static int index_of(const char *const *choices, const char *value)
{
    for (int i = 0; choices[i]; i++)
        if (strcmp(choices[i], value) == 0)
            return i;
    return -1;
}

/* The incident's journal counts (incident_rollup_counts) as a bigint[]
 * literal. */
#define COUNTS_PARAM_SIZE (INCIDENT_ROLLUP_COUNTS * 21 + 3)
static void counts_param(const struct incident *inc, char out[COUNTS_PARAM_SIZE])
{
    long long counts[INCIDENT_ROLLUP_COUNTS];
    incident_rollup_counts(inc, counts);
    size_t len = 0;
    for (int i = 0; i < INCIDENT_ROLLUP_COUNTS; i++)
        len += (size_t)snprintf(out + len, COUNTS_PARAM_SIZE - len, "%c%lld", i ? ',' : '{',
                                counts[i]);
    snprintf(out + len, COUNTS_PARAM_SIZE - len, "}");
}

static void totals_params(const struct incident *inc, char killed[24], char injured[24],
                          char types[24])
{
    long k, i;
    int t;
    incident_totals(inc, &k, &i, &t);
    snprintf(killed, 24, "%ld", k);
    snprintf(injured, 24, "%ld", i);
    snprintf(types, 24, "%d", t);
}

/* Compact JSON for a jsonb parameter. Reals keep 15 significant digits:
 * more than any coordinate carries, and they print as they were typed. */
static char *json_param(json_t *doc)
{
    return json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(15));
}

bool store_incident_insert(struct db_conn *c, struct incident *inc, json_t *document,
                           json_t *changes, long long key_id, const char *key_name,
                           struct api_error *e)
{
    char killed[24], injured[24], types[24], key[24];
    totals_params(inc, killed, injured, types);
    snprintf(key, sizeof key, "%lld", key_id);
    char *doc = json_param(document);
    char *chg = json_param(changes);
    char counts[COUNTS_PARAM_SIZE];
    counts_param(inc, counts);
    char *impacts = incident_impacts_key(inc);
    const char *params[] = {doc, killed, injured, types, key, chg, counts, impacts};
    PGresult *r = rollup_writes_enabled ? db_query(c, &stmt_insert_counted, 8, params, e)
                                        : db_query(c, &stmt_insert, 6, params, e);
    free(doc);
    free(chg);
    free(impacts);
    if (!r)
        return false;
    inc->id = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    inc->version = (int)strtol(PQgetvalue(r, 0, 1), NULL, 10);
    inc->status = "reported";
    snprintf(inc->created_at, sizeof inc->created_at, "%s", PQgetvalue(r, 0, 3));
    snprintf(inc->updated_at, sizeof inc->updated_at, "%s", PQgetvalue(r, 0, 4));
    free(inc->created_by);
    inc->created_by = xstrdup(key_name);
    PQclear(r);
    return true;
}

/* The columns every read of an incident returns, in the order row_parse
 * expects. */
#define INCIDENT_COLUMNS                                                                       \
    "i.id, i.version, i.status, i.duplicate_of, i.verification_override, i.occurred_on::text," \
    " i.date_precision, to_char(i.time_of_day, 'HH24:MI'), i.admin1, i.admin2, i.place,"       \
    " i.lat, i.lon, i.location_precision, i.tactic, i.weapon, i.perpetrator, p.group_code,"    \
    " i.narrative, i.external_ref, k.name, " DB_TS("i.created_at") ", " DB_TS("i.updated_at") ","    \
    " (SELECT json_agg(json_build_object('outcome', g.outcome, 'sex', g.sex,"                  \
    "   'age_group', g.age_group, 'count', g.count, 'count_min', g.count_min,"                 \
    "   'count_max', g.count_max, 'role', g.role, 'age', cp.age, 'name', cp.name)"             \
    "   ORDER BY g.ordinal) FROM casualty_groups g LEFT JOIN casualty_personal cp"             \
    "   USING (incident_id, ordinal) WHERE g.incident_id = i.id),"                             \
    " (SELECT json_agg(json_build_object('type', s.type, 'reference', s.reference,"            \
    "   'merged_from', s.merged_from::text)"                                                   \
    "   ORDER BY s.ordinal) FROM incident_sources s WHERE s.incident_id = i.id),"              \
    " i.change_xid::text, i.attribution,"                                                      \
    " (SELECT json_agg(m.impact ORDER BY m.impact COLLATE \"C\") FROM incident_impacts m"       \
    "   WHERE m.incident_id = i.id),"                                                          \
    " (SELECT json_agg(json_build_object('sex', a.sex, 'age_group', a.age_group,"              \
    "   'count', a.count) ORDER BY a.sex, a.age_group) FROM incident_abductions a"             \
    "   WHERE a.incident_id = i.id)"
#define INCIDENT_FROM                                     \
    " FROM incidents i JOIN parties p ON p.code = i.perpetrator" \
    " JOIN api_keys k ON k.id = i.created_by"

static char *col(PGresult *r, int row, int n)
{
    return PQgetisnull(r, row, n) ? NULL : xstrdup(PQgetvalue(r, row, n));
}

/* Maps a stored enumerated value to its static string. */
static const char *static_of(const char *const *choices, const char *value)
{
    int i = index_of(choices, value);
    return choices[i >= 0 ? i : 0];
}

static void row_parse(PGresult *r, int row, struct incident *inc)
{
    memset(inc, 0, sizeof *inc);
    inc->id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
    inc->version = (int)strtol(PQgetvalue(r, row, 1), NULL, 10);
    inc->status = static_of(incident_statuses, PQgetvalue(r, row, 2));
    inc->duplicate_of = PQgetisnull(r, row, 3) ? 0 : strtoll(PQgetvalue(r, row, 3), NULL, 10);
    inc->verification_override = PQgetvalue(r, row, 4)[0] == 't';
    date_parse(PQgetvalue(r, row, 5), &inc->occurred_on);
    inc->date_precision = static_of(incident_date_precisions, PQgetvalue(r, row, 6));
    inc->time_of_day = -1;
    if (!PQgetisnull(r, row, 7))
        time_of_day_parse(PQgetvalue(r, row, 7), &inc->time_of_day);
    inc->admin1 = col(r, row, 8);
    inc->admin2 = col(r, row, 9);
    inc->place = col(r, row, 10);
    inc->has_coords = !PQgetisnull(r, row, 11);
    if (inc->has_coords) {
        inc->lat = strtod(PQgetvalue(r, row, 11), NULL);
        inc->lon = strtod(PQgetvalue(r, row, 12), NULL);
    }
    inc->location_precision = PQgetisnull(r, row, 13)
                                  ? NULL
                                  : static_of(incident_location_precisions, PQgetvalue(r, row, 13));
    inc->tactic = col(r, row, 14);
    inc->weapon = col(r, row, 15);
    inc->perpetrator = col(r, row, 16);
    inc->party_group = col(r, row, 17);
    inc->narrative = col(r, row, 18);
    inc->external_ref = col(r, row, 19);
    inc->created_by = col(r, row, 20);
    snprintf(inc->created_at, sizeof inc->created_at, "%s", PQgetvalue(r, row, 21));
    snprintf(inc->updated_at, sizeof inc->updated_at, "%s", PQgetvalue(r, row, 22));

    json_t *groups = json_loads(PQgetvalue(r, row, 23), 0, NULL);
    inc->ncasualties = json_array_size(groups);
    inc->casualties = xcalloc(inc->ncasualties, sizeof *inc->casualties);
    for (size_t i = 0; i < inc->ncasualties; i++) {
        json_t *g = json_array_get(groups, i);
        struct casualty *cs = &inc->casualties[i];
        cs->outcome = static_of(incident_outcomes, json_string_value(json_object_get(g, "outcome")));
        cs->sex = static_of(incident_sexes, json_string_value(json_object_get(g, "sex")));
        cs->age_group =
            static_of(incident_age_groups, json_string_value(json_object_get(g, "age_group")));
        cs->count = (long)json_integer_value(json_object_get(g, "count"));
        json_t *v = json_object_get(g, "count_min");
        cs->count_min = json_is_integer(v) ? (long)json_integer_value(v) : -1;
        v = json_object_get(g, "count_max");
        cs->count_max = json_is_integer(v) ? (long)json_integer_value(v) : -1;
        const char *role = json_string_value(json_object_get(g, "role"));
        cs->role = role ? xstrdup(role) : NULL;
        json_t *age = json_object_get(g, "age");
        cs->age = json_is_integer(age) ? (int)json_integer_value(age) : -1;
        const char *name = json_string_value(json_object_get(g, "name"));
        cs->name = name ? xstrdup(name) : NULL;
    }
    json_decref(groups);

    inc->attribution = col(r, row, 26);
    json_t *impacts = PQgetisnull(r, row, 27) ? NULL : json_loads(PQgetvalue(r, row, 27), 0, NULL);
    inc->nimpacts = json_array_size(impacts);
    inc->impacts = xcalloc(inc->nimpacts ? inc->nimpacts : 1, sizeof *inc->impacts);
    for (size_t i = 0; i < inc->nimpacts; i++)
        inc->impacts[i] = xstrdup(json_string_value(json_array_get(impacts, i)));
    json_decref(impacts);
    json_t *abducted =
        PQgetisnull(r, row, 28) ? NULL : json_loads(PQgetvalue(r, row, 28), 0, NULL);
    inc->nabducted = json_array_size(abducted);
    inc->abducted = xcalloc(inc->nabducted ? inc->nabducted : 1, sizeof *inc->abducted);
    for (size_t i = 0; i < inc->nabducted; i++) {
        json_t *a = json_array_get(abducted, i);
        inc->abducted[i].sex =
            static_of(incident_sexes, json_string_value(json_object_get(a, "sex")));
        inc->abducted[i].age_group =
            static_of(incident_age_groups, json_string_value(json_object_get(a, "age_group")));
        inc->abducted[i].count = (long)json_integer_value(json_object_get(a, "count"));
    }
    json_decref(abducted);

    json_t *sources = PQgetisnull(r, row, 24) ? NULL : json_loads(PQgetvalue(r, row, 24), 0, NULL);
    inc->nsources = json_array_size(sources);
    inc->sources = xcalloc(inc->nsources, sizeof *inc->sources);
    for (size_t i = 0; i < inc->nsources; i++) {
        json_t *s = json_array_get(sources, i);
        inc->sources[i].type = xstrdup(json_string_value(json_object_get(s, "type")));
        const char *ref = json_string_value(json_object_get(s, "reference"));
        inc->sources[i].reference = ref ? xstrdup(ref) : NULL;
        const char *from = json_string_value(json_object_get(s, "merged_from"));
        inc->sources[i].merged_from = from ? strtoll(from, NULL, 10) : 0;
    }
    json_decref(sources);
}

DB_STMT(stmt_load, "SELECT " INCIDENT_COLUMNS INCIDENT_FROM " WHERE i.id = $1::bigint"
                   " AND ($2::bigint = 0 OR i.created_by = $2::bigint)");
/* The row lock is taken on incidents alone: with the joins, PostgreSQL's
 * re-check after a concurrent writer commits would join the new
 * perpetrator against the old snapshot and lose the row. FOR NO KEY
 * UPDATE, the lock an UPDATE that keeps the id takes: writers of the
 * incident queue on it, but the KEY SHARE lock of a reference to it (an
 * incident being marked its duplicate) does not, so two reviewers
 * marking each other's incidents cannot deadlock. */
DB_STMT(stmt_lock, "SELECT 1 FROM incidents WHERE id = $1::bigint"
                   " AND ($2::bigint = 0 OR created_by = $2::bigint) FOR NO KEY UPDATE");

bool store_incident_load(struct db_conn *c, long long id, long long owner, bool lock,
                         struct incident *out, bool *found, struct api_error *e)
{
    char idtext[24], ownertext[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    snprintf(ownertext, sizeof ownertext, "%lld", owner > 0 ? owner : 0);
    const char *params[] = {idtext, ownertext};
    if (lock) {
        PGresult *l = db_query(c, &stmt_lock, 2, params, e);
        if (!l)
            return false;
        bool exists = PQntuples(l) == 1;
        PQclear(l);
        if (!exists) {
            *found = false;
            return true;
        }
    }
    PGresult *r = db_query(c, &stmt_load, 2, params, e);
    if (!r)
        return false;
    *found = PQntuples(r) == 1;
    if (*found)
        row_parse(r, 0, out);
    PQclear(r);
    return true;
}

DB_STMT(stmt_update,
        "UPDATE incidents SET occurred_on = (doc->>'occurred_on')::date,"
        " date_precision = doc->>'date_precision', time_of_day = (doc->>'time_of_day')::time,"
        " admin1 = doc#>>'{location,admin1}', admin2 = doc#>>'{location,admin2}',"
        " place = doc#>>'{location,place}', lat = (doc#>>'{location,lat}')::float8,"
        " lon = (doc#>>'{location,lon}')::float8, location_precision = doc#>>'{location,precision}',"
        " tactic = doc->>'tactic', weapon = doc->>'weapon', perpetrator = doc->>'perpetrator',"
        " attribution = doc->>'attribution',"
        " narrative = doc->>'narrative', external_ref = doc->>'external_ref',"
        " killed = $3::int, injured = $4::int, source_types = $5::int,"
        " version = version + 1, updated_at = now(), change_xid = pg_current_xact_id()"
        " FROM (SELECT $2::jsonb AS doc) d WHERE id = $1::bigint"
        " RETURNING version, " DB_TS("updated_at"));
DB_STMT(stmt_delete_children,
        "WITH g AS (DELETE FROM casualty_groups WHERE incident_id = $1::bigint),"
        " m AS (DELETE FROM incident_impacts WHERE incident_id = $1::bigint),"
        " a AS (DELETE FROM incident_abductions WHERE incident_id = $1::bigint)"
        " DELETE FROM incident_sources WHERE incident_id = $1::bigint");
DB_STMT(stmt_insert_children,
        "WITH d AS (SELECT $2::jsonb AS doc), inc AS (SELECT $1::bigint AS id)," CHILDREN_CTES
        " SELECT 1");
DB_STMT(stmt_revision,
        "INSERT INTO incident_revisions (incident_id, version, status, key_id, reason, changes,"
        " document) VALUES ($1::bigint, $2::int, $3, $4::bigint, $5, $6::jsonb, $7::jsonb)");

static bool revision_insert(struct db_conn *c, const struct incident *inc, json_t *document,
                            json_t *changes, const char *reason, long long key_id,
                            struct api_error *e)
{
    char id[24], version[24], key[24];
    snprintf(id, sizeof id, "%lld", inc->id);
    snprintf(version, sizeof version, "%d", inc->version);
    snprintf(key, sizeof key, "%lld", key_id);
    char *chg = json_param(changes);
    char *doc = json_param(document);
    const char *params[] = {id, version, inc->status, key, reason, chg, doc};
    bool ok = db_exec(c, &stmt_revision, 7, params, e);
    free(chg);
    free(doc);
    return ok;
}

/* Applies RETURNING version, updated_at to inc. */
static void take_version(PGresult *r, struct incident *inc)
{
    inc->version = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
    snprintf(inc->updated_at, sizeof inc->updated_at, "%s", PQgetvalue(r, 0, 1));
}

bool store_incident_amend(struct db_conn *c, struct incident *inc, json_t *document,
                          json_t *changes, const char *reason, long long key_id,
                          struct api_error *e)
{
    char id[24], killed[24], injured[24], types[24];
    snprintf(id, sizeof id, "%lld", inc->id);
    totals_params(inc, killed, injured, types);
    char *doc = json_param(document);
    const char *params[] = {id, doc, killed, injured, types};
    /* The counts move: out with the old contribution, in with the new. */
    PGresult *r = store_rollup_apply(c, inc->id, -1, e) ? db_query(c, &stmt_update, 5, params, e)
                                                        : NULL;
    bool ok = r != NULL;
    if (ok) {
        take_version(r, inc);
        PQclear(r);
        ok = db_exec(c, &stmt_delete_children, 1, params, e) &&
             db_exec(c, &stmt_insert_children, 2, params, e) &&
             store_rollup_apply(c, inc->id, +1, e) &&
             revision_insert(c, inc, document, changes, reason, key_id, e);
    }
    free(doc);
    return ok;
}

DB_STMT(stmt_status,
        "UPDATE incidents SET status = $2, duplicate_of = $3::bigint,"
        " verification_override = $4::boolean, version = version + 1, updated_at = now(),"
        " change_xid = pg_current_xact_id() WHERE id = $1::bigint"
        " RETURNING version, " DB_TS("updated_at"));

bool store_incident_set_status(struct db_conn *c, struct incident *inc, json_t *document,
                               json_t *changes, const char *reason, long long key_id,
                               struct api_error *e)
{
    char id[24], dup[24];
    snprintf(id, sizeof id, "%lld", inc->id);
    snprintf(dup, sizeof dup, "%lld", inc->duplicate_of);
    const char *params[] = {id, inc->status, inc->duplicate_of ? dup : NULL,
                            inc->verification_override ? "true" : "false"};
    if (!store_rollup_apply(c, inc->id, -1, e))
        return false;
    PGresult *r = db_query(c, &stmt_status, 4, params, e);
    if (!r)
        return false;
    take_version(r, inc);
    PQclear(r);
    return store_rollup_apply(c, inc->id, +1, e) &&
           revision_insert(c, inc, document, changes, reason, key_id, e);
}

DB_STMT(stmt_revisions,
        "SELECT COALESCE(json_agg(json_build_object('version', r.version, 'status', r.status,"
        " 'at', " DB_TS("r.at") ", 'by', k.name, 'reason', r.reason, 'changes', r.changes)"
        " ORDER BY r.version), '[]')::text"
        " FROM incident_revisions r JOIN api_keys k ON k.id = r.key_id"
        " WHERE r.incident_id = $1::bigint");

json_t *store_incident_revisions(struct db_conn *c, long long id, struct api_error *e)
{
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    const char *params[] = {idtext};
    PGresult *r = db_query(c, &stmt_revisions, 1, params, e);
    if (!r)
        return NULL;
    json_t *list = json_loads(PQgetvalue(r, 0, 0), 0, NULL);
    PQclear(r);
    if (!list)
        err_internal(e);
    return list;
}

/* ---- listing ------------------------------------------------------------ */

struct composer {
    struct buf sql;
    const char *params[16];
    int n;
};

/* Appends a fragment whose "$?" stands for the next parameter. */
static void add(struct composer *q, const char *fragment, const char *value)
{
    const char *mark = strstr(fragment, "$?");
    if (!mark) {
        buf_puts(&q->sql, fragment);
        return;
    }
    q->params[q->n++] = value;
    buf_append(&q->sql, fragment, (size_t)(mark - fragment));
    buf_printf(&q->sql, "$%d", q->n);
    add(q, mark + 2, value);
}

DB_STMT(stmt_horizon, "SELECT (pg_snapshot_xmin(pg_current_snapshot())::text::numeric - 1)::text");

bool store_incident_list(struct db_conn *c, const struct incident_filter *f,
                         struct incident **out, size_t *n, char (*positions)[24],
                         char horizon[24], struct api_error *e)
{
    struct composer q = {.n = 0};
    buf_init(&q.sql);
    bool changed = f->changed_since != NULL;
    char owner[24], cursor_id[24], limit[24];
    snprintf(owner, sizeof owner, "%lld", f->owner);
    snprintf(cursor_id, sizeof cursor_id, "%lld", f->cursor_id);
    snprintf(limit, sizeof limit, "%ld", f->limit + 1);

    buf_puts(&q.sql, "SELECT " INCIDENT_COLUMNS INCIDENT_FROM " WHERE true");
    if (f->owner > 0)
        add(&q, " AND i.created_by = $?::bigint", owner);
    if (f->from)
        add(&q, " AND i.occurred_on >= $?::date", f->from);
    if (f->to)
        add(&q, " AND i.occurred_on <= $?::date", f->to);
    if (f->admin1)
        add(&q, " AND i.admin1 = ANY (string_to_array($?, ','))", f->admin1);
    if (f->admin2)
        add(&q, " AND i.admin2 = ANY (string_to_array($?, ','))", f->admin2);
    if (f->tactic)
        add(&q, " AND i.tactic = ANY (string_to_array($?, ','))", f->tactic);
    if (f->perpetrator)
        add(&q, " AND i.perpetrator = ANY (string_to_array($?, ','))", f->perpetrator);
    if (f->status)
        add(&q, " AND i.status = ANY (string_to_array($?, ','))", f->status);
    if (changed) {
        add(&q, " AND i.updated_at >= $?::timestamptz", f->changed_since);
        /* Only changes older than every transaction still in flight: one
         * that commits late can then never fall behind a reader's cursor. */
        buf_puts(&q.sql, " AND i.change_xid < pg_snapshot_xmin(pg_current_snapshot())");
        if (f->has_cursor) {
            add(&q, " AND (i.change_xid, i.id) > ($?::xid8", f->cursor_a);
            add(&q, ", $?::bigint)", cursor_id);
        }
        buf_puts(&q.sql, " ORDER BY i.change_xid, i.id");
    } else {
        if (f->has_cursor) {
            add(&q, " AND (i.occurred_on, i.id) < ($?::date", f->cursor_a);
            add(&q, ", $?::bigint)", cursor_id);
        }
        buf_puts(&q.sql, " ORDER BY i.occurred_on DESC, i.id DESC");
    }
    add(&q, " LIMIT $?::int", limit);

    /* One snapshot for the page and the horizon in changed_since mode. */
    if (changed && !db_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e)) {
        buf_free(&q.sql);
        return false;
    }
    PGresult *r = db_query_composed(c, q.sql.data, q.n, q.params, e);
    buf_free(&q.sql);
    if (r && changed) {
        PGresult *h = db_query(c, &stmt_horizon, 0, NULL, e);
        if (h)
            snprintf(horizon, 24, "%s", PQgetvalue(h, 0, 0));
        PQclear(h);
        if (!h || !db_commit(c, e)) {
            PQclear(r);
            r = NULL;
        }
    }
    if (!r) {
        db_rollback(c);
        return false;
    }
    int rows = PQntuples(r);
    *out = xcalloc((size_t)rows, sizeof **out);
    *n = (size_t)rows;
    for (int i = 0; i < rows; i++) {
        row_parse(r, i, &(*out)[i]);
        snprintf(positions[i], 24, "%s", changed ? PQgetvalue(r, i, 25) : PQgetvalue(r, i, 5));
    }
    PQclear(r);
    return true;
}

/* ---- idempotency ------------------------------------------------------- */

/* A key older than 30 days is forgotten: the slot is taken over. */
DB_STMT(stmt_idem_claim,
        "INSERT INTO idempotency_keys (key_id, idem_key, request_hash)"
        " VALUES ($1::bigint, $2, $3::bytea)"
        " ON CONFLICT (key_id, idem_key) DO UPDATE SET request_hash = EXCLUDED.request_hash,"
        "  incident_id = NULL, response = NULL, created_at = now()"
        "  WHERE idempotency_keys.created_at < now() - interval '30 days'"
        " RETURNING 1");
DB_STMT(stmt_idem_read,
        "SELECT encode(request_hash, 'hex'), response FROM idempotency_keys"
        " WHERE key_id = $1::bigint AND idem_key = $2");
DB_STMT(stmt_idem_finish,
        "UPDATE idempotency_keys SET incident_id = $3::bigint, response = $4"
        " WHERE key_id = $1::bigint AND idem_key = $2");

int store_idempotency_claim(struct db_conn *c, long long key_id, const char *idem_key,
                            const char *hash_hex, char *stored_hash, char **response,
                            struct api_error *e)
{
    char key[24], hash[80];
    snprintf(key, sizeof key, "%lld", key_id);
    snprintf(hash, sizeof hash, "\\x%s", hash_hex);
    const char *params[] = {key, idem_key, hash};
    /* A concurrent request with the same key blocks here until the first
     * one commits or rolls back. */
    int claimed = db_exec_rows(c, &stmt_idem_claim, 3, params, e);
    if (claimed != 0)
        return claimed;
    PGresult *r = db_query(c, &stmt_idem_read, 2, params, e);
    if (!r)
        return -1;
    if (PQntuples(r) != 1) {
        PQclear(r);
        err_internal(e);
        return -1;
    }
    snprintf(stored_hash, 65, "%s", PQgetvalue(r, 0, 0));
    *response = PQgetisnull(r, 0, 1) ? NULL : xstrdup(PQgetvalue(r, 0, 1));
    PQclear(r);
    return 0;
}

bool store_incident_commit_create(struct db_conn *c, long long incident_id, long long key_id,
                                  const char *idem_key, const char *response, struct api_error *e)
{
    char key[24], id[24];
    snprintf(key, sizeof key, "%lld", key_id);
    snprintf(id, sizeof id, "%lld", incident_id);
    const char *idem_params[] = {key, idem_key, id, response};
    /* The idempotency record and COMMIT in one round trip (the rollup
     * journal row went in with the insert). */
    struct db_step steps[2];
    int n = 0;
    if (idem_key)
        steps[n++] = (struct db_step){&stmt_idem_finish, NULL, 4, idem_params};
    steps[n++] = (struct db_step){NULL, "COMMIT", 0, NULL};
    return db_pipeline(c, steps, n, e);
}
