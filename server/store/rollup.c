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
    COUNT_SUM_BIG, /* sum(killed) AS killed */
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
        case COUNT_SUM_BIG:
            buf_printf(b, "sum(%.*s) AS %.*s", n, p, n, p);
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

/* The fold of the whole journal in two steps. Summing a million
 * contributions once per grouping set is what costs, so the journal is
 * summed only into a few base sets: every day set that no other day set
 * contains, and, per coarser grain, one set of the grain's dimensions that
 * no day base holds. Each grouping set of rollup_gsets is then summed from
 * the small table of its base (a week or a month from the base's days). */
enum { GRAIN_DAY = 1, GRAIN_WEEK, GRAIN_MONTH }; /* their columns in bulk_columns */
#define BULK_SETS_MAX 64

struct bulk_set {
    int gset, grain;
    unsigned dims; /* bit k: bulk_columns[BULK_DIMENSIONS + k] */
    int base;      /* index in the bases */
};

struct bulk_plan {
    struct bulk_set sets[BULK_SETS_MAX], bases[BULK_SETS_MAX];
    int nsets, nbases;
};

static bool bulk_plan_read(struct db_conn *c, struct bulk_plan *p, struct api_error *e)
{
    PGresult *r = PQexec(db_pg(c), "SELECT gset, grain, by_admin1, by_admin2, by_party, by_tactic,"
                                   " by_weapon, by_attribution, by_impacts FROM rollup_gsets"
                                   " ORDER BY gset");
    if (PQresultStatus(r) != PGRES_TUPLES_OK || PQntuples(r) == 0 ||
        PQntuples(r) > BULK_SETS_MAX) {
        PQclear(r);
        return err_internal(e);
    }
    p->nsets = PQntuples(r);
    p->nbases = 0;
    for (int i = 0; i < p->nsets; i++) {
        const char *grain = PQgetvalue(r, i, 1);
        struct bulk_set *s = &p->sets[i];
        s->gset = atoi(PQgetvalue(r, i, 0));
        s->grain = strcmp(grain, "day") == 0    ? GRAIN_DAY
                   : strcmp(grain, "week") == 0 ? GRAIN_WEEK
                                                : GRAIN_MONTH;
        s->dims = 0;
        for (int k = 0; k < (int)(BULK_COLUMNS - BULK_DIMENSIONS); k++)
            if (PQgetvalue(r, i, 2 + k)[0] == 't')
                s->dims |= 1u << k;
        s->base = -1;
    }
    PQclear(r);
    /* The day sets within no other day set are bases. */
    for (int i = 0; i < p->nsets; i++) {
        struct bulk_set *s = &p->sets[i];
        bool within = false;
        for (int j = 0; j < p->nsets && !within; j++)
            within = j != i && p->sets[j].grain == GRAIN_DAY &&
                     (s->dims & p->sets[j].dims) == s->dims &&
                     (p->sets[j].dims != s->dims || j < i);
        if (s->grain == GRAIN_DAY && !within)
            p->bases[p->nbases++] = *s;
    }
    /* Every set from the day base of fewest dimensions holding its own, or
     * else from its grain's base (made of those dimensions). */
    for (int i = 0; i < p->nsets; i++) {
        struct bulk_set *s = &p->sets[i];
        for (int b = 0; b < p->nbases; b++)
            if (p->bases[b].grain == GRAIN_DAY && (s->dims & p->bases[b].dims) == s->dims &&
                (s->base < 0 || __builtin_popcount(p->bases[b].dims) <
                                    __builtin_popcount(p->bases[s->base].dims)))
                s->base = b;
        for (int b = 0; b < p->nbases && s->base < 0; b++)
            if (p->bases[b].grain == s->grain)
                s->base = b;
        if (s->base < 0)
            p->bases[s->base = p->nbases++] = (struct bulk_set){.grain = s->grain};
        p->bases[s->base].dims |= s->dims;
    }
    return true;
}

/* The columns of a set (or base), and its GROUPING() mask of them all. */
static long bulk_set_columns(const struct bulk_set *s, bool in[BULK_COLUMNS])
{
    long mask = 0;
    for (size_t k = 0; k < BULK_COLUMNS; k++) {
        in[k] = k == 0 || (int)k == s->grain ||
                (k >= BULK_DIMENSIONS && (s->dims >> (k - BULK_DIMENSIONS) & 1));
        mask = mask * 2 + !in[k];
    }
    return mask;
}

/* GROUPING SETS (the sets) AS grp: the mask as above, each column of no
 * set (where GROUPING() is not allowed) counted as not grouped. */
static void bulk_grouping(struct buf *sql, const struct bulk_set *sets, int n, int base,
                          const char *from)
{
    bool used[BULK_COLUMNS] = {false}, in[BULK_COLUMNS];
    struct buf tuples;
    buf_init(&tuples);
    for (int i = 0, t = 0; i < n; i++) {
        if (base >= 0 && sets[i].base != base)
            continue;
        bulk_set_columns(&sets[i], in);
        buf_puts(&tuples, t++ ? ", (" : "(");
        for (size_t k = 0, m = 0; k < BULK_COLUMNS; k++) {
            used[k] |= in[k];
            if (in[k])
                buf_printf(&tuples, "%s%s", m++ ? ", " : "", bulk_columns[k]);
        }
        buf_putc(&tuples, ')');
    }
    buf_puts(sql, "SELECT ");
    for (size_t k = 0; k < BULK_COLUMNS; k++) {
        long bit = 1L << (BULK_COLUMNS - 1 - k);
        if (used[k])
            buf_printf(sql, "%sGROUPING(%s) * %ld", k ? " + " : "", bulk_columns[k], bit);
        else
            buf_printf(sql, "%s%ld", k ? " + " : "", bit);
    }
    buf_puts(sql, " AS grp");
    for (size_t k = 0; k < BULK_COLUMNS; k++)
        if (used[k])
            buf_printf(sql, ", %s", bulk_columns[k]);
        else /* typed as in the journal, for the UNION ALL */
            buf_printf(sql, ", NULL::%s AS %s", k < BULK_DIMENSIONS ? "date" : "text COLLATE \"C\"",
                       bulk_columns[k]);
    buf_puts(sql, ", ");
    counts_each(sql, base >= 0 ? COUNT_SUM_BIG : COUNT_SUM);
    buf_printf(sql, " FROM %s GROUP BY GROUPING SETS (%s)", from, tuples.data);
    buf_free(&tuples);
}

/* The rows of a table as (status, d, w, m, the dimensions, the counts). */
static void bulk_rows(struct buf *b, const char *periods, const char *from)
{
    buf_printf(b, "SELECT status, %s, admin1, admin2, party, tactic, weapon, attribution, impacts, ",
               periods);
    counts_each(b, COUNT_NAME);
    buf_printf(b, " FROM %s", from);
}

/* Step one: the journal summed into the bases (fold_base, each row with
 * its base's mask), then emptied of the rows summed. */
static bool bulk_fold_bases(struct db_conn *c, const struct bulk_plan *p, long long *folded,
                            struct api_error *e)
{
    struct buf sql;
    buf_init(&sql);
    buf_puts(&sql, "CREATE TEMPORARY TABLE fold_base ON COMMIT DROP AS SELECT 0 AS grp, * FROM (");
    bulk_rows(&sql, "occurred_on AS d, occurred_on AS w, occurred_on AS m", "rollup_journal");
    buf_puts(&sql, ") j WITH NO DATA");
    bool ok = db_simple(c, sql.data, e);
    buf_reset(&sql);
    buf_puts(&sql, "INSERT INTO fold_base ");
    struct buf from;
    buf_init(&from);
    buf_putc(&from, '(');
    bulk_rows(&from,
              "occurred_on AS d, rollup_period('week', occurred_on) AS w,"
              " rollup_period('month', occurred_on) AS m",
              "rollup_journal");
    buf_puts(&from, ") j");
    bulk_grouping(&sql, p->bases, p->nbases, -1, from.data);
    buf_free(&from);
    ok = ok && db_simple(c, sql.data, e);
    buf_free(&sql);
    PGresult *r = ok ? db_query_composed(c, "DELETE FROM rollup_journal", 0, NULL, e) : NULL;
    if (!r)
        return false;
    *folded = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return true;
}

/* Step two as one statement: each grouping set summed from its base's
 * rows and added to the cells, each result row finding its set by the
 * GROUPING() mask of its columns. */
static void bulk_fold_sql(const struct bulk_plan *p, struct buf *sql)
{
    bool in[BULK_COLUMNS];
    buf_puts(sql, "WITH a AS (");
    for (int b = 0; b < p->nbases; b++) {
        struct buf from;
        buf_init(&from);
        /* A week or a month from a base of days. */
        char table[48];
        snprintf(table, sizeof table, "fold_base WHERE grp = %ld",
                 bulk_set_columns(&p->bases[b], in));
        buf_putc(&from, '(');
        bulk_rows(&from,
                  "d, COALESCE(w, rollup_period('week', d)) AS w,"
                  " COALESCE(m, rollup_period('month', d)) AS m",
                  table);
        buf_puts(&from, ") b");
        if (b)
            buf_puts(sql, " UNION ALL ");
        bulk_grouping(sql, p->sets, p->nsets, b, from.data);
        buf_free(&from);
    }
    buf_puts(sql, "), ins AS (INSERT INTO rollup_cells AS r (" ROLLUP_KEYS ", " ROLLUP_COUNTS ")"
                  " SELECT g.gset, a.status, COALESCE(a.d, a.w, a.m), COALESCE(a.admin1, ''),"
                  " COALESCE(a.admin2, ''), COALESCE(a.party, ''), COALESCE(a.tactic, ''),"
                  " COALESCE(a.weapon, ''), COALESCE(a.attribution, ''), COALESCE(a.impacts, ''), ");
    counts_each(sql, COUNT_OF_A);
    buf_puts(sql, " FROM a JOIN (VALUES ");
    for (int i = 0; i < p->nsets; i++)
        buf_printf(sql, "%s(%d::smallint, %ld)", i ? ", " : "", p->sets[i].gset,
                   bulk_set_columns(&p->sets[i], in));
    buf_puts(sql, ") AS g (gset, grp) USING (grp) ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"
                  " ON CONFLICT (" ROLLUP_KEYS ") DO UPDATE SET ");
    counts_each(sql, COUNT_ADDED);
    buf_puts(sql, " RETURNING 1) SELECT count(*) FROM ins");
}

#define FOLD_LOCK "hashtext('civcas.rollup_fold')"

bool store_rollup_fold_bulk(struct db_conn *c, long long *folded, struct api_error *e)
{
    struct bulk_plan plan;
    if (!bulk_plan_read(c, &plan, e))
        return false;
    /* As rollup_fold: one folder at a time (here waiting for a running
     * one), and the journal's lock that a rebuild waits for. The journal
     * is read in one statement and emptied in another: REPEATABLE READ
     * makes the DELETE remove exactly the rows summed and none a writer
     * added since. Its snapshot is taken by the first query, so the
     * folder's lock is the session's, taken before (another folder's
     * rows then are gone from the snapshot). Fresh statistics (ANALYZE)
     * tell the planner how few groups a million contributions make, so
     * that every set is hashed in memory rather than sorted on disk. */
    if (!db_simple(c, "SELECT pg_advisory_lock(" FOLD_LOCK ")", e))
        return false;
    struct buf sql;
    buf_init(&sql);
    bool ok = db_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ", e) &&
              db_simple(c, "LOCK TABLE rollup_journal IN ROW EXCLUSIVE MODE", e) &&
              db_simple(c, "SET LOCAL work_mem = '256MB'", e) &&
              db_simple(c, "ANALYZE rollup_journal", e) && bulk_fold_bases(c, &plan, folded, e) &&
              db_simple(c, "ANALYZE fold_base", e);
    if (ok) {
        bulk_fold_sql(&plan, &sql);
        PGresult *r = db_query_composed(c, sql.data, 0, NULL, e);
        ok = r != NULL;
        PQclear(r);
    }
    buf_free(&sql);
    if (ok)
        ok = db_commit(c, e);
    else
        db_rollback(c);
    struct api_error ignored;
    db_simple(c, "SELECT pg_advisory_unlock(" FOLD_LOCK ")", &ignored);
    return ok;
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
