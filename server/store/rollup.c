/* Rollup maintenance, verification and rebuild. */
#include "store/rollup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

bool rollup_writes_enabled = true;

DB_STMT(stmt_apply, "SELECT rollup_apply($1::bigint, $2::int)");

bool store_rollup_apply(struct db_conn *c, long long id, int sign, struct api_error *e)
{
    if (!rollup_writes_enabled)
        return true;
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", id);
    const char *params[] = {idtext, sign > 0 ? "1" : "-1"};
    return db_exec(c, &stmt_apply, 2, params, e);
}

DB_STMT(stmt_fold, "SELECT rollup_fold()");

bool store_rollup_fold(struct db_conn *c, long long *folded, struct api_error *e)
{
    PGresult *r = db_query(c, &stmt_fold, 0, NULL, e);
    if (!r)
        return false;
    *folded = PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    return true;
}

/* ---- the bulk fold ------------------------------------------------------------- */

/* The columns GROUPING() reports on, most significant bit first: a set
 * groups by status, one of the three periods and some dimensions. */
static const char *const bulk_columns[] = {"status", "d",      "w",           "m",
                                           "admin1", "admin2", "party",       "tactic",
                                           "weapon", "attribution", "impacts"};
#define BULK_COLUMNS (sizeof bulk_columns / sizeof *bulk_columns)
#define BULK_DIMENSIONS 4 /* bulk_columns[4..] are rollup_gsets' by_ flags, in order */

/* The count columns of the cells, in order, each written as: */
enum count_shape {
    COUNT_NAME,  /* killed */
    COUNT_SUM,   /* sum(killed::int) AS killed */
    COUNT_OF_A,  /* a.killed */
    COUNT_ADDED, /* killed = r.killed + EXCLUDED.killed */
};

static void counts_each(struct buf *b, enum count_shape shape)
{
    static const char all[] = ROLLUP_COUNTS;
    for (const char *p = all; *p;) {
        int n = (int)strcspn(p, ", ");
        if (p != all)
            buf_puts(b, ", ");
        switch (shape) {
        case COUNT_NAME:
            buf_printf(b, "%.*s", n, p);
            break;
        case COUNT_SUM:
            buf_printf(b, "sum(%.*s::int) AS %.*s", n, p, n, p);
            break;
        case COUNT_OF_A:
            buf_printf(b, "a.%.*s", n, p);
            break;
        case COUNT_ADDED:
            buf_printf(b, "%.*s = r.%.*s + EXCLUDED.%.*s", n, p, n, p, n, p);
            break;
        }
        p += n;
        p += strspn(p, ", ");
    }
}

/* The fold of the whole journal as one statement: every grouping set of
 * rollup_gsets (the grain's period and the set's dimensions) summed in one
 * pass over the journal by hashed GROUPING SETS, instead of the journal
 * crossed with the sets and sorted (rollup_fold). Each result row finds
 * its set by the GROUPING() mask of its columns. */
static bool bulk_fold_sql(struct db_conn *c, struct buf *sql, struct api_error *e)
{
    PGresult *r = PQexec(db_pg(c), "SELECT gset, grain, by_admin1, by_admin2, by_party, by_tactic,"
                                   " by_weapon, by_attribution, by_impacts FROM rollup_gsets"
                                   " ORDER BY gset");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0) {
        PQclear(r);
        return err_internal(e);
    }
    struct buf sets, masks;
    buf_init(&sets);
    buf_init(&masks);
    for (int i = 0; i < PQntuples(r); i++) {
        const char *grain = PQgetvalue(r, i, 1);
        bool in[BULK_COLUMNS] = {true};
        in[strcmp(grain, "day") == 0 ? 1 : strcmp(grain, "week") == 0 ? 2 : 3] = true;
        for (size_t k = BULK_DIMENSIONS; k < BULK_COLUMNS; k++)
            in[k] = PQgetvalue(r, i, 2 + (int)(k - BULK_DIMENSIONS))[0] == 't';
        long mask = 0;
        buf_puts(&sets, i ? ", (" : "(");
        for (size_t k = 0, n = 0; k < BULK_COLUMNS; k++) {
            mask = mask * 2 + !in[k];
            if (in[k])
                buf_printf(&sets, "%s%s", n++ ? ", " : "", bulk_columns[k]);
        }
        buf_putc(&sets, ')');
        buf_printf(&masks, "%s(%s::smallint, %ld)", i ? ", " : "", PQgetvalue(r, i, 0), mask);
    }
    PQclear(r);

    buf_puts(sql, "WITH a AS (SELECT GROUPING(");
    for (size_t k = 0; k < BULK_COLUMNS; k++)
        buf_printf(sql, "%s%s", k ? ", " : "", bulk_columns[k]);
    /* A journal row is one incident's contribution, far inside int: summed
     * as int, a sum is a plain bigint, cheaper than sum(bigint)'s numeric. */
    buf_puts(sql, ") AS grp, status, d, w, m, admin1, admin2, party, tactic, weapon, attribution,"
                  " impacts, ");
    counts_each(sql, COUNT_SUM);
    buf_printf(sql, " FROM fold_journal GROUP BY GROUPING SETS (%s)),", sets.data);
    buf_puts(sql, " ins AS (INSERT INTO rollup_cells AS r (" ROLLUP_KEYS ", " ROLLUP_COUNTS ")"
                  " SELECT g.gset, a.status, COALESCE(a.d, a.w, a.m), COALESCE(a.admin1, ''),"
                  " COALESCE(a.admin2, ''), COALESCE(a.party, ''), COALESCE(a.tactic, ''),"
                  " COALESCE(a.weapon, ''), COALESCE(a.attribution, ''), COALESCE(a.impacts, ''), ");
    counts_each(sql, COUNT_OF_A);
    buf_printf(sql, " FROM a JOIN (VALUES %s) AS g (gset, grp) USING (grp)", masks.data);
    buf_puts(sql, " ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
                  " ON CONFLICT (" ROLLUP_KEYS ") DO UPDATE SET ");
    counts_each(sql, COUNT_ADDED);
    buf_puts(sql, " RETURNING 1) SELECT count(*) FROM ins");
    buf_free(&sets);
    buf_free(&masks);
    return true;
}

/* The journal moved into a temporary table of the transaction, with each
 * row's three periods. */
static bool bulk_fold_take(struct db_conn *c, long long *folded, struct api_error *e)
{
    struct buf sql;
    buf_init(&sql);
    buf_puts(&sql, "CREATE TEMPORARY TABLE fold_journal ON COMMIT DROP AS SELECT status,"
                   " occurred_on AS d, occurred_on AS w, occurred_on AS m, admin1, admin2, party,"
                   " tactic, weapon, attribution, impacts, ");
    counts_each(&sql, COUNT_NAME);
    buf_puts(&sql, " FROM rollup_journal WITH NO DATA");
    bool ok = db_simple(c, sql.data, e);
    buf_reset(&sql);
    buf_puts(&sql, "WITH gone AS (DELETE FROM rollup_journal RETURNING *)"
                   " INSERT INTO fold_journal SELECT status, occurred_on,"
                   " rollup_period('week', occurred_on), rollup_period('month', occurred_on),"
                   " admin1, admin2, party, tactic, weapon, attribution, impacts, ");
    counts_each(&sql, COUNT_NAME);
    buf_puts(&sql, " FROM gone");
    PGresult *r = ok ? db_query_composed(c, sql.data, 0, NULL, e) : NULL;
    buf_free(&sql);
    if (!r)
        return false;
    *folded = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return true;
}

bool store_rollup_fold_bulk(struct db_conn *c, long long *folded, struct api_error *e)
{
    struct buf sql;
    buf_init(&sql);
    /* As rollup_fold: one folder at a time (here waiting for a running
     * one), and the journal's lock that a rebuild waits for. Then the
     * journal in a table of its own whose statistics (ANALYZE) tell the
     * planner how few cells a million contributions make, so that every
     * grouping set is hashed in memory rather than sorted on disk. */
    bool ok = db_begin(c, e) &&
              db_simple(c, "SELECT pg_advisory_xact_lock(hashtext('civcas.rollup_fold'))", e) &&
              db_simple(c, "LOCK TABLE rollup_journal IN ROW EXCLUSIVE MODE", e) &&
              db_simple(c, "SET LOCAL work_mem = '256MB'", e) && bulk_fold_take(c, folded, e) &&
              db_simple(c, "ANALYZE fold_journal", e) && bulk_fold_sql(c, &sql, e);
    PGresult *r = ok ? db_query_composed(c, sql.data, 0, NULL, e) : NULL;
    buf_free(&sql);
    if (r) {
        PQclear(r);
        return db_commit(c, e);
    }
    db_rollback(c);
    return false;
}

bool store_rollup_rebuild(struct db_conn *c, long long *cells, struct api_error *e)
{
    /* Writers add to the journal and the folder empties it: EXCLUSIVE on
     * the journal makes both wait while trend readers go on. The statements
     * after the lock take their snapshots after it, so they see every
     * committed write, and no contribution can slip in between. */
    if (!db_begin(c, e))
        return false;
    if (!db_simple(c, "LOCK TABLE rollup_journal IN EXCLUSIVE MODE", e) ||
        !db_simple(c, "DELETE FROM rollup_journal", e) ||
        !db_simple(c, "DELETE FROM rollup_cells", e))
        goto fail;
    PGresult *r = PQexec(db_pg(c), "INSERT INTO rollup_cells (" ROLLUP_KEYS ", " ROLLUP_COUNTS ")"
                                   " SELECT " ROLLUP_KEYS ", " ROLLUP_COUNTS
                                   " FROM rollup_sides WHERE side = 'expected'"
                                   /* Key order: a grouping set's cells end up
                                    * on neighbouring pages, so reading one set
                                    * touches few pages. */
                                   " ORDER BY " ROLLUP_KEYS);
    bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
    if (ok)
        *cells = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    if (!ok) {
        err_internal(e);
        goto fail;
    }
    /* Fresh statistics, or the planner guesses from the old table. */
    if (!db_simple(c, "ANALYZE rollup_cells", e))
        goto fail;
    return db_commit(c, e);
fail:
    db_rollback(c);
    return false;
}

long store_rollup_verify(struct db_conn *c, FILE *out, long max_lines, long long *cells,
                         struct api_error *e)
{
    /* Each side's cells as JSON beside their key: a cell differs when the
     * two documents do (or one side lacks it). */
    static const char sql[] =
        "WITH d AS (SELECT side, " ROLLUP_KEYS ", to_jsonb(r) - 'side' AS v FROM rollup_sides r)"
        " SELECT " ROLLUP_KEYS ","
        "  COALESCE(s.v->>'incidents', '-'), COALESCE(s.v->>'killed', '-'),"
        "  COALESCE(s.v->>'injured', '-'), COALESCE(x.v->>'incidents', '-'),"
        "  COALESCE(x.v->>'killed', '-'), COALESCE(x.v->>'injured', '-')"
        " FROM (SELECT * FROM d WHERE side = 'stored') s"
        " FULL JOIN (SELECT * FROM d WHERE side = 'expected') x USING (" ROLLUP_KEYS ")"
        " WHERE s.v IS DISTINCT FROM x.v"
        " ORDER BY " ROLLUP_KEYS;
    if (!db_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", e))
        return -1;
    PGresult *r = PQexec(db_pg(c), sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(out, "civcasd: %s", PQerrorMessage(db_pg(c)));
        PQclear(r);
        db_rollback(c);
        err_internal(e);
        return -1;
    }
    int rows = PQntuples(r);
    for (int i = 0; i < rows && i < max_lines; i++) {
        fprintf(out, "differs: gset=%s status=%s period=%s", PQgetvalue(r, i, 0),
                PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
        static const char *const keys[] = {"admin1", "admin2",      "party",  "tactic",
                                           "weapon", "attribution", "impacts"};
        for (int k = 0; k < 7; k++)
            if (PQgetvalue(r, i, 3 + k)[0])
                fprintf(out, " %s=%s", keys[k], PQgetvalue(r, i, 3 + k));
        /* Three counts of many: where these two sides agree, another differs. */
        fprintf(out, " stored incidents/killed/injured=%s/%s/%s expected=%s/%s/%s\n",
                PQgetvalue(r, i, 10), PQgetvalue(r, i, 11), PQgetvalue(r, i, 12),
                PQgetvalue(r, i, 13), PQgetvalue(r, i, 14), PQgetvalue(r, i, 15));
    }
    PQclear(r);
    r = PQexec(db_pg(c), "SELECT count(*) FROM rollup_sides WHERE side = 'expected'");
    *cells = PQresultStatus(r) == PGRES_TUPLES_OK ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
    PQclear(r);
    db_commit(c, e);
    return rows;
}
