/* Bulk import: batches of incidents streamed into their tables with COPY. */
#include "store/incidents_import.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/rollup.h"
#include "util/buf.h"
#include "util/dates.h"
#include "util/mem.h"

/*
 * A batch goes in as POST /v1/incidents would write each of its rows, but
 * as one COPY per table: the incidents (ids drawn from their sequence),
 * then their children, revisions, idempotency records and rollup journal
 * rows, each row spread from the incident's document as the insert's SQL
 * spreads it (store/incidents.c, CHILDREN_CTES_OF): a value is the
 * document member's text, SQL NULL where the member is null. Which rows
 * are new is one lookup of the batch's keys. Batches are written side by
 * side (by an import's writers, and by other imports): a key another
 * batch records after this one's lookup makes this one's COPY of the
 * idempotency records fail on their unique index, once that batch
 * commits, and the caller runs the batch again from its lookup, which then
 * finds the key. So a key is recorded once, by whichever batch commits it.
 */

DB_STMT(stmt_import_lookup,
        "SELECT idem_key, encode(request_hash, 'hex') FROM idempotency_keys"
        " WHERE key_id = $1::bigint AND idem_key = ANY ($2::text[])");
DB_STMT(stmt_import_ids,
        "SELECT nextval(pg_get_serial_sequence('incidents', 'id'))"
        " FROM generate_series(1, $1::int)");

static const char *const copy_sql[] = {
#define COPY_INCIDENTS 0
    "COPY incidents (id, status, version, occurred_on, date_precision, time_of_day, admin1,"
    " admin2, place, lat, lon, location_precision, tactic, weapon, perpetrator, attribution,"
    " narrative, external_ref, killed, injured, source_types, created_by) FROM STDIN",
#define COPY_GROUPS 1
    "COPY casualty_groups (incident_id, ordinal, outcome, sex, age_group, count, count_min,"
    " count_max, role) FROM STDIN",
#define COPY_PERSONAL 2
    "COPY casualty_personal (incident_id, ordinal, name, age) FROM STDIN",
#define COPY_IMPACTS 3
    "COPY incident_impacts (incident_id, impact) FROM STDIN",
#define COPY_ABDUCTIONS 4
    "COPY incident_abductions (incident_id, sex, age_group, count) FROM STDIN",
#define COPY_SOURCES 5
    "COPY incident_sources (incident_id, ordinal, type, reference) FROM STDIN",
#define COPY_REVISIONS 6
    "COPY incident_revisions (incident_id, version, status, key_id, reason, changes, document)"
    " FROM STDIN",
#define COPY_IDEMPOTENCY 7
    "COPY idempotency_keys (key_id, idem_key, request_hash, incident_id, response) FROM STDIN",
#define COPY_JOURNAL 8
    "COPY rollup_journal (status, occurred_on, admin1, admin2, party, tactic, weapon,"
    " attribution, impacts, " ROLLUP_COUNTS ") FROM STDIN",
#define COPY_TABLES 9
};

/* ---- rows in COPY's text format ------------------------------------------ */

static void put_text(struct buf *b, const char *s)
{
    buf_putc(b, '\t');
    buf_copy_field(b, s);
}

static void put_int(struct buf *b, long long v)
{
    buf_printf(b, "\t%lld", v);
}

static void put_null(struct buf *b)
{
    buf_puts(b, "\t\\N");
}

/* A count or an age that may be missing (-1). */
static void put_optional(struct buf *b, long v)
{
    if (v < 0)
        put_null(b);
    else
        put_int(b, v);
}

/* Starts a row: its first column. */
static void row_start(struct buf *b, long long first)
{
    buf_printf(b, "%lld", first);
}

static void row_end(struct buf *b)
{
    buf_putc(b, '\n');
}

/* Every row of one new incident, id, into the buffers of its tables. The
 * values are the incident's, as incident_document writes them into the
 * document the insert spreads: dates and times as there, reals with the
 * jsonb parameter's 15 digits (store/incidents.c, json_param). */
static void incident_rows(struct buf *t, const struct incident_import *row, long long id,
                          long long scope_key, long long actor_key, const char *verify_changes,
                          const char *verify_reason)
{
    const struct incident *inc = row->inc;
    bool verified = strcmp(inc->status, "verified") == 0;
    long killed, injured;
    int types;
    incident_totals(inc, &killed, &injured, &types);
    char date[11];
    date_format(inc->occurred_on, date);

    struct buf *b = &t[COPY_INCIDENTS];
    row_start(b, id);
    put_text(b, inc->status);
    put_int(b, verified ? 2 : 1);
    put_text(b, date);
    put_text(b, inc->date_precision);
    if (inc->time_of_day >= 0)
        buf_printf(b, "\t%02d:%02d", inc->time_of_day / 60, inc->time_of_day % 60);
    else
        put_null(b);
    const char *const place[] = {inc->admin1, inc->admin2, inc->place};
    for (size_t i = 0; i < sizeof place / sizeof *place; i++)
        put_text(b, place[i]);
    if (inc->has_coords)
        buf_printf(b, "\t%.15g\t%.15g", inc->lat, inc->lon);
    else
        buf_puts(b, "\t\\N\t\\N");
    const char *const rest[] = {inc->location_precision, inc->tactic,    inc->weapon,
                                inc->perpetrator,        inc->attribution, inc->narrative,
                                inc->external_ref};
    for (size_t i = 0; i < sizeof rest / sizeof *rest; i++)
        put_text(b, rest[i]);
    buf_printf(b, "\t%ld\t%ld\t%d\t%lld\n", killed, injured, types, actor_key);

    for (size_t i = 0; i < inc->ncasualties; i++) {
        const struct casualty *g = &inc->casualties[i];
        b = &t[COPY_GROUPS];
        row_start(b, id);
        buf_printf(b, "\t%zu", i);
        const char *const kind[] = {g->outcome, g->sex, g->age_group};
        for (size_t k = 0; k < sizeof kind / sizeof *kind; k++)
            put_text(b, kind[k]);
        put_int(b, g->count);
        put_optional(b, g->count_min);
        put_optional(b, g->count_max);
        put_text(b, g->role);
        row_end(b);
        if (!g->name && g->age < 0)
            continue;
        b = &t[COPY_PERSONAL];
        row_start(b, id);
        put_int(b, (long long)i);
        put_text(b, g->name);
        put_optional(b, g->age);
        row_end(b);
    }
    for (size_t i = 0; i < inc->nimpacts; i++) {
        b = &t[COPY_IMPACTS];
        row_start(b, id);
        put_text(b, inc->impacts[i]);
        row_end(b);
    }
    for (size_t i = 0; i < inc->nabducted; i++) {
        b = &t[COPY_ABDUCTIONS];
        row_start(b, id);
        put_text(b, inc->abducted[i].sex);
        put_text(b, inc->abducted[i].age_group);
        put_int(b, inc->abducted[i].count);
        row_end(b);
    }
    for (size_t i = 0; i < inc->nsources; i++) {
        b = &t[COPY_SOURCES];
        row_start(b, id);
        put_int(b, (long long)i);
        put_text(b, inc->sources[i].type);
        put_text(b, inc->sources[i].reference);
        row_end(b);
    }

    b = &t[COPY_REVISIONS];
    row_start(b, id);
    buf_printf(b, "\t1\treported\t%lld", actor_key);
    put_null(b);
    put_text(b, row->changes);
    put_text(b, row->document);
    row_end(b);
    if (verified) {
        row_start(b, id);
        buf_printf(b, "\t2\tverified\t%lld", actor_key);
        put_text(b, verify_reason);
        put_text(b, verify_changes);
        put_text(b, row->document);
        row_end(b);
    }

    /* The replay record: json_build_object('id', id::text)::text. */
    b = &t[COPY_IDEMPOTENCY];
    row_start(b, scope_key);
    put_text(b, row->idem_key);
    buf_printf(b, "\t\\\\x%s\t%lld\t{\"id\" : \"%lld\"}", row->hash_hex, id, id);
    row_end(b);

    /* The journal row, as the insert's JOURNAL_INSERT makes it. */
    b = &t[COPY_JOURNAL];
    buf_copy_field(b, inc->status);
    put_text(b, date);
    put_text(b, inc->admin1);
    put_text(b, inc->admin2 ? inc->admin2 : "");
    put_text(b, inc->perpetrator);
    put_text(b, inc->tactic);
    put_text(b, inc->weapon);
    put_text(b, inc->attribution);
    char *impacts = incident_impacts_key(inc);
    put_text(b, impacts);
    free(impacts);
    put_int(b, 1);
    long long counts[INCIDENT_ROLLUP_COUNTS];
    incident_rollup_counts(inc, counts);
    for (int k = 0; k < INCIDENT_ROLLUP_COUNTS; k++)
        put_int(b, counts[k]);
    row_end(b);
}

/* ---- which rows are new ----------------------------------------------------- */

static const struct incident_import *sort_rows; /* qsort has no context argument */

static int by_key(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int c = strcmp(sort_rows[i].idem_key, sort_rows[j].idem_key);
    return c ? c : (i > j) - (i < j);
}

/* Sets each row's outcome to 1 (new: the first row of a key not recorded),
 * 0 (recorded, or an earlier row of the batch, with the same hash) or -1
 * (with another hash), from the keys recorded under scope_key. */
static bool outcomes_decide(struct db_conn *c, struct incident_import *rows, size_t n,
                            long long scope_key, struct api_error *e)
{
    struct buf keys;
    buf_init(&keys);
    buf_putc(&keys, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(&keys, ',');
        buf_putc(&keys, '"');
        for (const char *p = rows[i].idem_key; *p; p++) {
            if (*p == '"' || *p == '\\')
                buf_putc(&keys, '\\');
            buf_putc(&keys, *p);
        }
        buf_putc(&keys, '"');
    }
    buf_putc(&keys, '}');
    char scope[24];
    snprintf(scope, sizeof scope, "%lld", scope_key);
    const char *params[] = {scope, keys.data};
    PGresult *r = db_query(c, &stmt_import_lookup, 2, params, e);
    buf_free(&keys);
    if (!r)
        return false;

    size_t *order = xcalloc(n, sizeof *order);
    const char **recorded = xcalloc(n, sizeof *recorded); /* by position in order */
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    sort_rows = rows;
    qsort(order, n, sizeof *order, by_key);
    for (int k = 0; k < PQntuples(r); k++) {
        /* The first position of the key in order. */
        const char *key = PQgetvalue(r, k, 0);
        size_t lo = 0, hi = n;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (strcmp(rows[order[mid]].idem_key, key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < n && strcmp(rows[order[lo]].idem_key, key) == 0)
            recorded[lo] = PQgetvalue(r, k, 1);
    }
    for (size_t s = 0; s < n;) {
        /* One key: rows order[s..t), in file order. */
        size_t t = s + 1;
        while (t < n && strcmp(rows[order[t]].idem_key, rows[order[s]].idem_key) == 0)
            t++;
        const char *first = recorded[s] ? recorded[s] : rows[order[s]].hash_hex;
        for (size_t k = s; k < t; k++) {
            struct incident_import *row = &rows[order[k]];
            row->outcome = !recorded[s] && k == s ? 1 : strcmp(row->hash_hex, first) == 0 ? 0 : -1;
        }
        s = t;
    }
    free(recorded);
    free(order);
    PQclear(r);
    return true;
}

/* ---- the session ------------------------------------------------------------- */

bool store_import_session(struct db_conn *c, struct api_error *e)
{
    /* synchronous_commit off: a crash may lose the last batches' commits,
     * never make them half-done, and a rerun imports what was lost. jit
     * off: its compile time is worth nothing for the few large statements
     * of an import. lz4 (where the server has it) compresses the
     * revisions' documents several times faster than the default pglz;
     * reads see the same values. */
    return db_simple(c, "SET synchronous_commit = off", e) && db_simple(c, "SET jit = off", e) &&
           db_simple(c,
                     "SELECT set_config('default_toast_compression', 'lz4', false)"
                     " FROM pg_settings WHERE name = 'default_toast_compression'"
                     " AND 'lz4' = ANY (enumvals)",
                     e);
}

/* ---- the batch -------------------------------------------------------------- */

bool store_incident_import(struct db_conn *c, struct incident_import *rows, size_t n,
                           long long scope_key, long long actor_key, json_t *verify_changes,
                           const char *verify_reason, bool dry_run,
                           const struct import_turns *turns, struct api_error *e)
{
    if (!outcomes_decide(c, rows, n, scope_key, e))
        return false;
    size_t fresh = 0;
    for (size_t i = 0; i < n; i++)
        fresh += rows[i].outcome == 1;
    if (dry_run || fresh == 0)
        return true;

    char count[24];
    snprintf(count, sizeof count, "%zu", fresh);
    PGresult *ids = db_query(c, &stmt_import_ids, 1, (const char *const[]){count}, e);
    if (!ids)
        return false;
    if (turns && turns->ids_drawn)
        turns->ids_drawn(turns->arg);
    if ((size_t)PQntuples(ids) != fresh) {
        PQclear(ids);
        err_internal(e);
        return false;
    }
    char *changes = json_dumps(verify_changes, JSON_COMPACT);
    struct buf tables[COPY_TABLES];
    for (int t = 0; t < COPY_TABLES; t++)
        buf_init(&tables[t]);
    for (size_t i = 0, k = 0; i < n; i++) {
        if (rows[i].outcome != 1)
            continue;
        long long id = strtoll(PQgetvalue(ids, (int)k++, 0), NULL, 10);
        rows[i].outcome = id;
        incident_rows(tables, &rows[i], id, scope_key, actor_key, changes, verify_reason);
    }
    PQclear(ids);
    free(changes);
    /* Parents before children: foreign keys are checked row by row. The
     * idempotency records last: their unique index is where batches
     * written at once meet, and the caller's turn orders them. */
    bool ok = true;
    for (int t = 0; ok && t < COPY_TABLES; t++)
        if (t != COPY_IDEMPOTENCY && tables[t].len &&
            (t != COPY_JOURNAL || rollup_writes_enabled))
            ok = db_copy_in(c, copy_sql[t], tables[t].data, tables[t].len, e);
    if (ok && turns && turns->keys_turn)
        ok = turns->keys_turn(turns->arg, e);
    if (ok)
        ok = db_copy_in(c, copy_sql[COPY_IDEMPOTENCY], tables[COPY_IDEMPOTENCY].data,
                        tables[COPY_IDEMPOTENCY].len, e);
    for (int t = 0; t < COPY_TABLES; t++)
        buf_free(&tables[t]);
    return ok;
}
