/* Rollup maintenance, verification and rebuild. */
#include "store/rollup.h"

#include <stdio.h>
#include <stdlib.h>

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
