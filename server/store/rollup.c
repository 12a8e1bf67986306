/* Rollup maintenance, verification and rebuild. */
#include "store/rollup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/params.h"

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

/* The statements below are composed as text, and only from what this file
 * holds: the column names of bulk_columns and the ROLLUP_* lists, table
 * names written here (rollup_journal, rollup_facts, fold_base,
 * rebuild_cells, rollup_cells), and integers (GROUPING() masks, gsets
 * read from rollup_gsets and range-checked). Nothing a client sends is
 * spliced; the rebuild's month bounds travel as parameters. */

/* The columns GROUPING() reports on, most significant bit first: a set
 * groups by status, one of the three periods and some dimensions. */
static const char *const bulk_columns[] = {"status", "d",      "w",           "m",
                                           "admin1", "admin2", "party",       "tactic",
                                           "weapon", "attribution", "impacts"};
#define BULK_COLUMNS (sizeof bulk_columns / sizeof *bulk_columns)
#define BULK_KEYS                                                                                  \
    "grp, status, d, w, m, admin1, admin2, party, tactic, weapon, attribution, impacts"
#define BULK_DIMENSIONS 4 /* bulk_columns[4..] are rollup_gsets' by_ flags, in order */

/* Each column of a list (ROLLUP_KEYS, ROLLUP_COUNTS) written as a shape,
 * the column's name in place of each %s of it, the columns separated by
 * sep. */
#define COUNT_NAME "%s"
#define COUNT_SUM "sum(%s::int) AS %s" /* of one incident's facts each */
#define COUNT_SUM_BIG "sum(%s) AS %s"
#define COUNT_OF_A "a.%s"
#define COUNT_ADDED "%s = r.%s + EXCLUDED.%s"

static void columns_each(struct buf *b, const char *list, const char *shape, const char *sep)
{
    for (const char *p = list; *p;) {
        int n = (int)strcspn(p, ", ");
        if (p != list)
            buf_puts(b, sep);
        for (const char *q = shape; *q;) {
            const char *at = strstr(q, "%s");
            if (!at) {
                buf_puts(b, q);
                break;
            }
            buf_printf(b, "%.*s%.*s", (int)(at - q), q, n, p);
            q = at + 2;
        }
        p += n;
        p += strspn(p, ", ");
    }
}

static void counts_each(struct buf *b, const char *shape)
{
    columns_each(b, ROLLUP_COUNTS, shape, ", ");
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
    bool same;     /* its base's columns: its cells are the base's rows */
};

struct bulk_plan {
    struct bulk_set sets[BULK_SETS_MAX], bases[BULK_SETS_MAX];
    int nsets, nbases;
};

static bool bulk_plan_read(struct db_conn *c, struct bulk_plan *p, struct api_error *e)
{
    PGresult *r = db_query_composed(c,
                                    "SELECT gset, grain, by_admin1, by_admin2, by_party,"
                                    " by_tactic, by_weapon, by_attribution, by_impacts"
                                    " FROM rollup_gsets ORDER BY gset",
                                    0, NULL, e);
    if (!r)
        return false;
    if (PQntuples(r) == 0 || PQntuples(r) > BULK_SETS_MAX) {
        PQclear(r);
        return err_internal(e);
    }
    p->nsets = PQntuples(r);
    p->nbases = 0;
    for (int i = 0; i < p->nsets; i++) {
        const char *grain = PQgetvalue(r, i, 1);
        struct bulk_set *s = &p->sets[i];
        long gset;
        if (!count_text_parse(PQgetvalue(r, i, 0), &gset) || gset > 32767) { /* smallint */
            PQclear(r);
            return err_internal(e);
        }
        s->gset = (int)gset;
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
    /* A base's rows are summed in one statement, or, by the rebuild, in
     * chunks of whole months: a day or a month is in one of them only. */
    for (int i = 0; i < p->nsets; i++) {
        struct bulk_set *s = &p->sets[i];
        s->same = s->grain != GRAIN_WEEK && s->grain == p->bases[s->base].grain &&
                  s->dims == p->bases[s->base].dims;
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

/* GROUPING SETS (the sets of base, or all when base < 0) AS grp: the mask
 * as above, each column of no set (where GROUPING() is not allowed)
 * counted as not grouped; the counts summed as sum says. */
static void bulk_grouping(struct buf *sql, const struct bulk_set *sets, int n, int base,
                          const char *sum, const char *from)
{
    bool used[BULK_COLUMNS] = {false}, in[BULK_COLUMNS];
    struct buf tuples;
    buf_init(&tuples);
    for (int i = 0, t = 0; i < n; i++) {
        if (base >= 0 && (sets[i].base != base || sets[i].same))
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
    counts_each(sql, sum);
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

/* The periods of bulk_rows from a column of days. */
#define BULK_DAY_PERIODS(day)                                                                      \
    day " AS d, rollup_period('week', " day ") AS w, rollup_period('month', " day ") AS m"

/* fold_base, the sums of the bases: one row per cell of a base, with the
 * base's mask in grp, typed as the journal. */
static bool bulk_base_create(struct db_conn *c, struct api_error *e)
{
    struct buf sql;
    buf_init(&sql);
    buf_puts(&sql, "CREATE TEMPORARY TABLE fold_base ON COMMIT DROP AS SELECT 0 AS grp, * FROM (");
    bulk_rows(&sql, BULK_DAY_PERIODS("occurred_on"), "rollup_journal");
    buf_puts(&sql, ") j WITH NO DATA");
    bool ok = db_simple(c, sql.data, e);
    buf_free(&sql);
    return ok;
}

/* INSERT INTO fold_base the rows of table (bulk_rows' columns, periods as
 * given) summed into the bases, as sum says. */
static void bulk_base_insert(struct buf *sql, const struct bulk_plan *p, const char *periods,
                             const char *table, const char *sum)
{
    struct buf from;
    buf_init(&from);
    buf_putc(&from, '(');
    bulk_rows(&from, periods, table);
    buf_puts(&from, ") j");
    buf_puts(sql, "INSERT INTO fold_base ");
    bulk_grouping(sql, p->bases, p->nbases, -1, sum, from.data);
    buf_free(&from);
}

/* Step one: the journal summed into the bases, then emptied of the rows
 * summed. */
static bool bulk_fold_bases(struct db_conn *c, const struct bulk_plan *p, long long *folded,
                            struct api_error *e)
{
    struct buf sql;
    buf_init(&sql);
    bulk_base_insert(&sql, p, BULK_DAY_PERIODS("occurred_on"), "rollup_journal", COUNT_SUM);
    bool ok = bulk_base_create(c, e) && db_simple(c, sql.data, e);
    buf_free(&sql);
    PGresult *r = ok ? db_query_composed(c, "DELETE FROM rollup_journal", 0, NULL, e) : NULL;
    if (!r)
        return false;
    *folded = strtoll(PQcmdTuples(r), NULL, 10);
    PQclear(r);
    return true;
}

/* Step two as one statement: each grouping set of base (every base when
 * base < 0) summed from its base's rows (or, when it has the base's
 * columns, those rows themselves) and added to the cells, or, for a
 * rebuild, inserted into rebuild_cells; each result row finding its set
 * by the GROUPING() mask of its columns. */
static void bulk_fold_sql(const struct bulk_plan *p, int base, bool rebuild, struct buf *sql)
{
    bool in[BULK_COLUMNS];
    buf_puts(sql, "WITH a AS (");
    for (int b = 0, n = 0; b < p->nbases; b++) {
        if (base >= 0 && b != base)
            continue;
        long grp = bulk_set_columns(&p->bases[b], in);
        char table[48];
        snprintf(table, sizeof table, "fold_base WHERE grp = %ld", grp);
        bool same = false, summed = false;
        for (int i = 0; i < p->nsets; i++)
            if (p->sets[i].base == b) {
                same |= p->sets[i].same;
                summed |= !p->sets[i].same;
            }
        if (same) /* fold_base's columns are those of the sums below */
            buf_printf(sql, "%sSELECT * FROM fold_base WHERE grp = %ld", n++ ? " UNION ALL " : "",
                       grp);
        if (!summed)
            continue;
        struct buf from;
        buf_init(&from);
        /* A week or a month from a base of days. */
        buf_putc(&from, '(');
        bulk_rows(&from,
                  "d, COALESCE(w, rollup_period('week', d)) AS w,"
                  " COALESCE(m, rollup_period('month', d)) AS m",
                  table);
        buf_puts(&from, ") b");
        if (n++)
            buf_puts(sql, " UNION ALL ");
        bulk_grouping(sql, p->sets, p->nsets, b, COUNT_SUM_BIG, from.data);
        buf_free(&from);
    }
    buf_puts(sql, rebuild ? "), ins AS (INSERT INTO rebuild_cells AS r ("
                          : "), ins AS (INSERT INTO rollup_cells AS r (");
    buf_puts(sql, ROLLUP_KEYS ", " ROLLUP_COUNTS ")");
    buf_puts(sql,
             " SELECT g.gset, a.status, COALESCE(a.d, a.w, a.m), COALESCE(a.admin1, ''),"
             " COALESCE(a.admin2, ''), COALESCE(a.party, ''), COALESCE(a.tactic, ''),"
             " COALESCE(a.weapon, ''), COALESCE(a.attribution, ''), COALESCE(a.impacts, ''), ");
    counts_each(sql, COUNT_OF_A);
    buf_puts(sql, " FROM a JOIN (VALUES ");
    for (int i = 0; i < p->nsets; i++)
        buf_printf(sql, "%s(%d::smallint, %ld)", i ? ", " : "", p->sets[i].gset,
                   bulk_set_columns(&p->sets[i], in));
    buf_puts(sql, ") AS g (gset, grp) USING (grp)");
    if (!rebuild) {
        buf_puts(sql, " ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 ON CONFLICT (" ROLLUP_KEYS
                      ") DO UPDATE SET ");
        counts_each(sql, COUNT_ADDED);
    }
    buf_puts(sql, " RETURNING 1) SELECT count(*) FROM ins");
}

#define FOLD_LOCK "hashtext('civcas.rollup_fold')"

/* The fold's lock (waiting for a fold in progress), then a REPEATABLE READ
 * transaction: its snapshot is taken by its first query, after the lock,
 * so no other fold's rows are left in it. */
static bool fold_begin(struct db_conn *c, struct api_error *e)
{
    if (!db_simple(c, "SELECT pg_advisory_lock(" FOLD_LOCK ")", e))
        return false;
    if (db_simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ", e) &&
        db_simple(c, "SET LOCAL work_mem = '256MB'", e))
        return true;
    struct api_error ignored;
    db_rollback(c);
    db_simple(c, "SELECT pg_advisory_unlock(" FOLD_LOCK ")", &ignored);
    return false;
}

/* Commits when ok (else rolls back), then lets the folds go on. */
static bool fold_end(struct db_conn *c, bool ok, struct api_error *e)
{
    if (ok)
        ok = db_commit(c, e);
    else
        db_rollback(c);
    struct api_error ignored;
    db_simple(c, "SELECT pg_advisory_unlock(" FOLD_LOCK ")", &ignored);
    return ok;
}

bool store_rollup_fold_bulk(struct db_conn *c, long long *folded, struct api_error *e)
{
    struct bulk_plan plan;
    if (!bulk_plan_read(c, &plan, e))
        return false;
    /* As rollup_fold: one folder at a time (here waiting for a running
     * one), and the journal's lock that a rebuild of an earlier version
     * waits for. The journal is read in one statement and emptied in
     * another: REPEATABLE READ makes the DELETE remove exactly the rows
     * summed and none a writer added since. Fresh statistics (ANALYZE)
     * tell the planner how few groups a million contributions make, so
     * that every set is hashed in memory rather than sorted on disk. */
    if (!fold_begin(c, e))
        return false;
    struct buf sql;
    buf_init(&sql);
    bool ok = db_simple(c, "LOCK TABLE rollup_journal IN ROW EXCLUSIVE MODE", e) &&
              db_simple(c, "ANALYZE rollup_journal", e) && bulk_fold_bases(c, &plan, folded, e) &&
              db_simple(c, "ANALYZE fold_base", e);
    if (ok) {
        bulk_fold_sql(&plan, -1, false, &sql);
        PGresult *r = db_query_composed(c, sql.data, 0, NULL, e);
        ok = r != NULL;
        PQclear(r);
    }
    buf_free(&sql);
    return fold_end(c, ok, e);
}

/* The rebuild's chunks: whole months of incidents (so that a day or a
 * month of a base is summed in one chunk only), about a fiftieth of them
 * each and at least this many, one statement each: few enough that a
 * statement costs little more than its rows, small enough that each
 * reads its incidents through the index of their dates, not the table. */
#define REBUILD_CHUNKS 50
#define REBUILD_CHUNK_MIN 10000

static void rebuild_report(const struct rollup_progress *progress, const char *unit, long long done,
                           long long total)
{
    if (progress)
        progress->report(progress->arg, unit, done, total);
}

/* Step one of the rebuild: the facts of every incident summed into the
 * bases, a chunk of months at a time. */
static bool rebuild_bases(struct db_conn *c, const struct bulk_plan *p,
                          const struct rollup_progress *progress, struct api_error *e)
{
    PGresult *months = db_query_composed(
        c,
        "SELECT m, (m + interval '1 month')::date, n FROM (SELECT date_trunc('month',"
        " occurred_on)::date AS m, count(*) AS n FROM incidents GROUP BY 1) x ORDER BY 1",
        0, NULL, e);
    if (!months)
        return false;
    long long total = 0, done = 0, chunk = 0;
    for (int i = 0; i < PQntuples(months); i++)
        total += strtoll(PQgetvalue(months, i, 2), NULL, 10);
    long long target =
        total / REBUILD_CHUNKS > REBUILD_CHUNK_MIN ? total / REBUILD_CHUNKS : REBUILD_CHUNK_MIN;
    rebuild_report(progress, "incidents", 0, total);
    struct buf sql;
    buf_init(&sql);
    bulk_base_insert(&sql, p, BULK_DAY_PERIODS("period"),
                     "rollup_facts WHERE period >= $1::date AND period < $2::date", COUNT_SUM);
    bool ok = true;
    for (int i = 0, first = 0; ok && i < PQntuples(months); i++) {
        chunk += strtoll(PQgetvalue(months, i, 2), NULL, 10);
        if (chunk < target && i + 1 < PQntuples(months))
            continue;
        const char *params[] = {PQgetvalue(months, first, 0), PQgetvalue(months, i, 1)};
        PGresult *r = db_query_composed(c, sql.data, 2, params, e);
        ok = r != NULL;
        PQclear(r);
        done += chunk;
        chunk = 0;
        first = i + 1;
        if (ok)
            rebuild_report(progress, "incidents", done, total);
    }
    buf_free(&sql);
    PQclear(months);
    return ok;
}

/* Step two: every grouping set from its base, a base at a time, into
 * rebuild_cells. */
static bool rebuild_sets(struct db_conn *c, const struct bulk_plan *p,
                         const struct rollup_progress *progress, long long *cells,
                         struct api_error *e)
{
    if (!db_simple(c,
                   "CREATE TEMPORARY TABLE rebuild_cells ON COMMIT DROP AS"
                   " SELECT * FROM rollup_cells WITH NO DATA",
                   e))
        return false;
    int done = 0;
    *cells = 0;
    rebuild_report(progress, "grouping sets", 0, p->nsets);
    for (int b = 0; b < p->nbases; b++) {
        struct buf sql;
        buf_init(&sql);
        bulk_fold_sql(p, b, true, &sql);
        PGresult *r = db_query_composed(c, sql.data, 0, NULL, e);
        buf_free(&sql);
        if (!r)
            return false;
        *cells += PQntuples(r) == 1 ? strtoll(PQgetvalue(r, 0, 0), NULL, 10) : 0;
        PQclear(r);
        for (int i = 0; i < p->nsets; i++)
            done += p->sets[i].base == b;
        rebuild_report(progress, "grouping sets", done, p->nsets);
    }
    return db_simple(c, "ANALYZE rebuild_cells (" ROLLUP_KEYS ")", e);
}

/* n.gset = r.gset AND ... of every key column: the cell n of
 * rebuild_cells is the cell r of rollup_cells. */
static void same_key(struct buf *sql)
{
    columns_each(sql, ROLLUP_KEYS, "n.%s = r.%s", " AND ");
}

/* Step three: the cells made equal to rebuild_cells (cells of them),
 * writing only those that differ (a rebuild mostly finds them right:
 * rewriting every cell cost more than the comparison, and left the table
 * twice its size). */
static bool rebuild_apply(struct db_conn *c, const struct rollup_progress *progress,
                          long long cells, struct api_error *e)
{
    rebuild_report(progress, "cells compared", 0, cells);
    struct buf sql;
    buf_init(&sql);
    buf_puts(&sql,
             "DELETE FROM rollup_cells r WHERE NOT EXISTS (SELECT FROM rebuild_cells n WHERE ");
    same_key(&sql);
    buf_putc(&sql, ')');
    bool ok = db_simple(c, sql.data, e);
    buf_reset(&sql);
    buf_puts(&sql, "UPDATE rollup_cells r SET (" ROLLUP_COUNTS ") = (");
    counts_each(&sql, "n.%s");
    buf_puts(&sql, ") FROM rebuild_cells n WHERE ");
    same_key(&sql);
    buf_puts(&sql, " AND (");
    counts_each(&sql, "r.%s");
    buf_puts(&sql, ") IS DISTINCT FROM (");
    counts_each(&sql, "n.%s");
    buf_putc(&sql, ')');
    ok = ok && db_simple(c, sql.data, e);
    buf_reset(&sql);
    /* Key order: a grouping set's new cells on neighbouring pages. */
    buf_puts(&sql, "INSERT INTO rollup_cells SELECT * FROM rebuild_cells n WHERE NOT EXISTS"
                   " (SELECT FROM rollup_cells r WHERE ");
    same_key(&sql);
    buf_puts(&sql, ") ORDER BY " ROLLUP_KEYS);
    ok = ok && db_simple(c, sql.data, e);
    buf_free(&sql);
    if (ok)
        rebuild_report(progress, "cells compared", cells, cells);
    return ok;
}

bool store_rollup_rebuild(struct db_conn *c, const struct rollup_progress *progress,
                          long long *cells, struct api_error *e)
{
    struct bulk_plan plan;
    if (!bulk_plan_read(c, &plan, e))
        return false;
    /* Writers go on adding to the journal; the folder and the bulk fold
     * wait. One snapshot serves every statement: the journal rows it sees
     * are exactly the contributions of the incidents it sees, so they go,
     * and the rows of writes committed since stay in the journal beside
     * the new cells, counted once. */
    if (!fold_begin(c, e))
        return false;
    bool ok = /* Compiling each statement took longer than it saved. */
        db_simple(c, "SET LOCAL jit = off", e) &&
        /* The sums of a chunk of months and of a grouping set hashed in
         * memory, 2 GB at most: at 10M incidents they spilled about 3 GB
         * to disk with the fold's 512 MB, and took a quarter longer. */
        db_simple(c, "SET LOCAL hash_mem_multiplier = 8", e) &&
        db_simple(c, "DELETE FROM rollup_journal", e) && bulk_base_create(c, e) &&
        rebuild_bases(c, &plan, progress, e) &&
        db_simple(c, "ANALYZE fold_base (" BULK_KEYS ")", e) &&
        rebuild_sets(c, &plan, progress, cells, e) && rebuild_apply(c, progress, *cells, e) &&
        /* Fresh statistics, or the planner guesses from the old table. */
        db_simple(c, "ANALYZE rollup_cells", e);
    return fold_end(c, ok, e);
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
