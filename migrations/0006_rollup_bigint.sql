-- Rollup counts in 64 bits.
--
-- A monitor key could post 120 incidents of 20 million casualties each;
-- the integer cells overflowed (2^31 - 1) and `civcasd rollup verify`
-- failed for everyone. civcasd now caps an incident at 10,000 casualties
-- (server/domain/incident.h), but a cell adds up every incident of its
-- period and codes: at the cap, 214,749 incidents pass 2^31, and a
-- national series over years or a rebuild of old data must never stop at
-- a wall the schema put there. So every count the rollup keeps
-- (rollup_cells, rollup_journal) or adds up (rollup_facts,
-- rollup_contributions, rollup_journal_cells, rollup_live, rollup_sides)
-- is a bigint. Per incident the counts stay integer (incidents.killed,
-- casualty_groups.count): the cap bounds them. The cap is civcasd's, not
-- a constraint here: a database may hold incidents recorded before it,
-- and these columns add those up exactly all the same.
--
-- rollup_fold() and rollup_apply() need no change: their sums and products
-- take the type of the columns they read (sum of a bigint is a numeric,
-- stored back as a bigint), and rollup_fold() already returns a bigint.
--
-- Cost: changing a column from integer to bigint rewrites the table and
-- rebuilds its indexes. All of it is one transaction (as every migration),
-- holding ACCESS EXCLUSIVE locks on rollup_cells and rollup_journal from
-- the first statement: trend readers, writers (every write adds a journal
-- row) and the folder wait until it commits; a write still waiting after
-- CIVCAS_STATEMENT_TIMEOUT_MS gets 503 with Retry-After. Measured on the
-- benchmark's database (bench/generate.sql, 1,000,000 incidents, rollup
-- rebuilt: 743,934 cells, 195 MB with indexes, 264 MB after) on 2 shared
-- cores: 2.9 s, and 6.4 s while other work loaded the machine; the time
-- grows with the cells, not with the incidents. Running `civcasd serve`
-- processes must be restarted after it: their prepared trend statements
-- were planned for integer columns, and PostgreSQL refuses to run a
-- prepared statement whose result type has changed ("cached plan must
-- not change result type") until it is prepared again.

-- The order the folder takes them in (journal, then cells), so that a
-- fold in progress cannot deadlock with this migration.
LOCK TABLE rollup_journal, rollup_cells IN ACCESS EXCLUSIVE MODE;

-- Views cannot change a column's type in place, and a table's column
-- cannot change type under a view: drop them, then define them again.
DROP VIEW rollup_sides;
DROP VIEW rollup_live;
DROP VIEW rollup_journal_cells;
DROP VIEW rollup_contributions;
DROP VIEW rollup_facts;

-- One statement per table: one rewrite each.
ALTER TABLE rollup_cells
    ALTER incidents TYPE bigint, ALTER killed TYPE bigint, ALTER injured TYPE bigint,
    ALTER k_male_adult TYPE bigint, ALTER k_male_child TYPE bigint,
    ALTER k_male_unknown TYPE bigint, ALTER k_female_adult TYPE bigint,
    ALTER k_female_child TYPE bigint, ALTER k_female_unknown TYPE bigint,
    ALTER k_unknown_adult TYPE bigint, ALTER k_unknown_child TYPE bigint,
    ALTER k_unknown_unknown TYPE bigint,
    ALTER i_male_adult TYPE bigint, ALTER i_male_child TYPE bigint,
    ALTER i_male_unknown TYPE bigint, ALTER i_female_adult TYPE bigint,
    ALTER i_female_child TYPE bigint, ALTER i_female_unknown TYPE bigint,
    ALTER i_unknown_adult TYPE bigint, ALTER i_unknown_child TYPE bigint,
    ALTER i_unknown_unknown TYPE bigint;

ALTER TABLE rollup_journal
    ALTER incidents TYPE bigint, ALTER killed TYPE bigint, ALTER injured TYPE bigint,
    ALTER k_male_adult TYPE bigint, ALTER k_male_child TYPE bigint,
    ALTER k_male_unknown TYPE bigint, ALTER k_female_adult TYPE bigint,
    ALTER k_female_child TYPE bigint, ALTER k_female_unknown TYPE bigint,
    ALTER k_unknown_adult TYPE bigint, ALTER k_unknown_child TYPE bigint,
    ALTER k_unknown_unknown TYPE bigint,
    ALTER i_male_adult TYPE bigint, ALTER i_male_child TYPE bigint,
    ALTER i_male_unknown TYPE bigint, ALTER i_female_adult TYPE bigint,
    ALTER i_female_child TYPE bigint, ALTER i_female_unknown TYPE bigint,
    ALTER i_unknown_adult TYPE bigint, ALTER i_unknown_child TYPE bigint,
    ALTER i_unknown_unknown TYPE bigint;

-- As in 0004, the sums now kept as bigint (they were cast to integer).
CREATE VIEW rollup_facts AS
SELECT 0::smallint AS gset,
       i.id AS incident_id,
       i.status,
       i.occurred_on AS period,
       i.admin1,
       COALESCE(i.admin2, '') AS admin2,
       i.perpetrator AS party,
       i.tactic,
       i.weapon,
       1::bigint AS incidents,
       v.killed, v.injured,
       v.k_male_adult, v.k_male_child, v.k_male_unknown,
       v.k_female_adult, v.k_female_child, v.k_female_unknown,
       v.k_unknown_adult, v.k_unknown_child, v.k_unknown_unknown,
       v.i_male_adult, v.i_male_child, v.i_male_unknown,
       v.i_female_adult, v.i_female_child, v.i_female_unknown,
       v.i_unknown_adult, v.i_unknown_child, v.i_unknown_unknown
FROM incidents i
CROSS JOIN LATERAL (
    SELECT COALESCE(sum(count) FILTER (WHERE outcome = 'killed'), 0)::bigint AS killed,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured'), 0)::bigint AS injured,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'male' AND age_group = 'adult'), 0)::bigint AS k_male_adult,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'male' AND age_group = 'child'), 0)::bigint AS k_male_child,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'male' AND age_group = 'unknown'), 0)::bigint AS k_male_unknown,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'female' AND age_group = 'adult'), 0)::bigint AS k_female_adult,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'female' AND age_group = 'child'), 0)::bigint AS k_female_child,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'female' AND age_group = 'unknown'), 0)::bigint AS k_female_unknown,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'unknown' AND age_group = 'adult'), 0)::bigint AS k_unknown_adult,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'unknown' AND age_group = 'child'), 0)::bigint AS k_unknown_child,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'unknown' AND age_group = 'unknown'), 0)::bigint AS k_unknown_unknown,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'male' AND age_group = 'adult'), 0)::bigint AS i_male_adult,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'male' AND age_group = 'child'), 0)::bigint AS i_male_child,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'male' AND age_group = 'unknown'), 0)::bigint AS i_male_unknown,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'female' AND age_group = 'adult'), 0)::bigint AS i_female_adult,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'female' AND age_group = 'child'), 0)::bigint AS i_female_child,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'female' AND age_group = 'unknown'), 0)::bigint AS i_female_unknown,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'unknown' AND age_group = 'adult'), 0)::bigint AS i_unknown_adult,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'unknown' AND age_group = 'child'), 0)::bigint AS i_unknown_child,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'unknown' AND age_group = 'unknown'), 0)::bigint AS i_unknown_unknown
    FROM casualty_groups c
    WHERE c.incident_id = i.id
) v;

-- As in 0005, unchanged but for the types they now pass on.
CREATE VIEW rollup_contributions AS
SELECT f.incident_id,
       g.gset,
       f.status,
       rollup_period(g.grain, f.period) AS period,
       CASE WHEN g.by_admin1 THEN f.admin1 ELSE '' END AS admin1,
       CASE WHEN g.by_admin2 THEN f.admin2 ELSE '' END AS admin2,
       CASE WHEN g.by_party THEN f.party ELSE '' END AS party,
       CASE WHEN g.by_tactic THEN f.tactic ELSE '' END AS tactic,
       CASE WHEN g.by_weapon THEN f.weapon ELSE '' END AS weapon,
       f.incidents, f.killed, f.injured,
       f.k_male_adult, f.k_male_child, f.k_male_unknown,
       f.k_female_adult, f.k_female_child, f.k_female_unknown,
       f.k_unknown_adult, f.k_unknown_child, f.k_unknown_unknown,
       f.i_male_adult, f.i_male_child, f.i_male_unknown,
       f.i_female_adult, f.i_female_child, f.i_female_unknown,
       f.i_unknown_adult, f.i_unknown_child, f.i_unknown_unknown
FROM rollup_facts f
CROSS JOIN rollup_gsets g;

CREATE VIEW rollup_journal_cells AS
SELECT g.gset,
       j.status,
       rollup_period(g.grain, j.occurred_on) AS period,
       CASE WHEN g.by_admin1 THEN j.admin1 ELSE '' END AS admin1,
       CASE WHEN g.by_admin2 THEN j.admin2 ELSE '' END AS admin2,
       CASE WHEN g.by_party THEN j.party ELSE '' END AS party,
       CASE WHEN g.by_tactic THEN j.tactic ELSE '' END AS tactic,
       CASE WHEN g.by_weapon THEN j.weapon ELSE '' END AS weapon,
       j.incidents, j.killed, j.injured,
       j.k_male_adult, j.k_male_child, j.k_male_unknown,
       j.k_female_adult, j.k_female_child, j.k_female_unknown,
       j.k_unknown_adult, j.k_unknown_child, j.k_unknown_unknown,
       j.i_male_adult, j.i_male_child, j.i_male_unknown,
       j.i_female_adult, j.i_female_child, j.i_female_unknown,
       j.i_unknown_adult, j.i_unknown_child, j.i_unknown_unknown
FROM rollup_journal j
CROSS JOIN rollup_gsets g;

CREATE VIEW rollup_live AS
SELECT gset, status, period, admin1, admin2, party, tactic, weapon,
       incidents, killed, injured,
       k_male_adult, k_male_child, k_male_unknown,
       k_female_adult, k_female_child, k_female_unknown,
       k_unknown_adult, k_unknown_child, k_unknown_unknown,
       i_male_adult, i_male_child, i_male_unknown,
       i_female_adult, i_female_child, i_female_unknown,
       i_unknown_adult, i_unknown_child, i_unknown_unknown
FROM rollup_cells
UNION ALL
SELECT * FROM rollup_journal_cells;

-- As in 0004, with the sums cast to bigint rather than integer (the sum of
-- a bigint is a numeric).
CREATE VIEW rollup_sides AS
SELECT side, gset, status, period, admin1, admin2, party, tactic, weapon,
       sum(incidents)::bigint AS incidents, sum(killed)::bigint AS killed,
       sum(injured)::bigint AS injured,
       sum(k_male_adult)::bigint AS k_male_adult, sum(k_male_child)::bigint AS k_male_child,
       sum(k_male_unknown)::bigint AS k_male_unknown, sum(k_female_adult)::bigint AS k_female_adult,
       sum(k_female_child)::bigint AS k_female_child, sum(k_female_unknown)::bigint AS k_female_unknown,
       sum(k_unknown_adult)::bigint AS k_unknown_adult, sum(k_unknown_child)::bigint AS k_unknown_child,
       sum(k_unknown_unknown)::bigint AS k_unknown_unknown,
       sum(i_male_adult)::bigint AS i_male_adult, sum(i_male_child)::bigint AS i_male_child,
       sum(i_male_unknown)::bigint AS i_male_unknown, sum(i_female_adult)::bigint AS i_female_adult,
       sum(i_female_child)::bigint AS i_female_child, sum(i_female_unknown)::bigint AS i_female_unknown,
       sum(i_unknown_adult)::bigint AS i_unknown_adult, sum(i_unknown_child)::bigint AS i_unknown_child,
       sum(i_unknown_unknown)::bigint AS i_unknown_unknown
FROM (SELECT 'expected' AS side, * FROM (SELECT gset, status, period, admin1, admin2, party,
             tactic, weapon, incidents, killed, injured, k_male_adult, k_male_child,
             k_male_unknown, k_female_adult, k_female_child, k_female_unknown, k_unknown_adult,
             k_unknown_child, k_unknown_unknown, i_male_adult, i_male_child, i_male_unknown,
             i_female_adult, i_female_child, i_female_unknown, i_unknown_adult,
             i_unknown_child, i_unknown_unknown
             FROM rollup_contributions) e
      UNION ALL
      SELECT 'stored', * FROM rollup_live) x
GROUP BY side, gset, status, period, admin1, admin2, party, tactic, weapon
HAVING sum(incidents) <> 0 OR sum(killed) <> 0 OR sum(injured) <> 0;

-- The rewrite dropped the statistics of the columns it changed.
ANALYZE rollup_cells;
