-- A week grain, and a set of weeks by province and district.
--
-- Weekly incidents by district for a province over a year read 1,818 cells
-- of set 2 (a day per district) and sorted them into 265 week x district
-- cells: the slowest of the benchmark's queries relative to a GROUP BY
-- over the incidents (docs/performance.md). Set 13 keeps weeks (a cell's
-- period is its ISO week's Monday) by province and district. A weekly
-- query reads the whole weeks of its range from it and the days before
-- the first whole week and after the last from set 2 (server/trends).
--
-- The grain of a set's cell is now computed in one place, rollup_period
-- (an SQL function PostgreSQL inlines), by the contributions, the journal's
-- cells and the fold. Plain date arithmetic: date_trunc on a date makes it
-- a timestamp with time zone first.

ALTER TABLE rollup_gsets DROP CONSTRAINT rollup_gsets_grain_check;
ALTER TABLE rollup_gsets ADD CONSTRAINT rollup_gsets_grain_check
    CHECK (grain IN ('day', 'week', 'month'));

-- 2000-01-03 is a Monday; the double modulo keeps earlier days right.
CREATE FUNCTION rollup_period(grain text, d date) RETURNS date
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
SELECT CASE grain
       WHEN 'day' THEN d
       WHEN 'week' THEN d - ((d - DATE '2000-01-03') % 7 + 7) % 7
       ELSE date_trunc('month', d::timestamp)::date END
$$;

CREATE OR REPLACE VIEW rollup_contributions AS
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

CREATE OR REPLACE VIEW rollup_journal_cells AS
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

CREATE OR REPLACE FUNCTION rollup_fold() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    folded bigint;
BEGIN
IF NOT pg_try_advisory_xact_lock(hashtext('civcas.rollup_fold')) THEN
    RETURN 0;
END IF;
-- Waits here for a rebuild; the next statement's snapshot is taken after.
LOCK TABLE rollup_journal IN ROW EXCLUSIVE MODE;
WITH gone AS (DELETE FROM rollup_journal RETURNING *),
counted AS (SELECT count(*) AS n FROM gone),
ins AS (
INSERT INTO rollup_cells AS r
SELECT g.gset, j.status,
       rollup_period(g.grain, j.occurred_on),
       CASE WHEN g.by_admin1 THEN j.admin1 ELSE '' END,
       CASE WHEN g.by_admin2 THEN j.admin2 ELSE '' END,
       CASE WHEN g.by_party THEN j.party ELSE '' END,
       CASE WHEN g.by_tactic THEN j.tactic ELSE '' END,
       CASE WHEN g.by_weapon THEN j.weapon ELSE '' END,
       sum(j.incidents), sum(j.killed), sum(j.injured),
       sum(j.k_male_adult), sum(j.k_male_child), sum(j.k_male_unknown),
       sum(j.k_female_adult), sum(j.k_female_child), sum(j.k_female_unknown),
       sum(j.k_unknown_adult), sum(j.k_unknown_child), sum(j.k_unknown_unknown),
       sum(j.i_male_adult), sum(j.i_male_child), sum(j.i_male_unknown),
       sum(j.i_female_adult), sum(j.i_female_child), sum(j.i_female_unknown),
       sum(j.i_unknown_adult), sum(j.i_unknown_child), sum(j.i_unknown_unknown)
FROM gone j
CROSS JOIN rollup_gsets g
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
ON CONFLICT (gset, status, period, admin1, admin2, party, tactic, weapon) DO UPDATE SET
    incidents = r.incidents + EXCLUDED.incidents,
    killed = r.killed + EXCLUDED.killed,
    injured = r.injured + EXCLUDED.injured,
    k_male_adult = r.k_male_adult + EXCLUDED.k_male_adult,
    k_male_child = r.k_male_child + EXCLUDED.k_male_child,
    k_male_unknown = r.k_male_unknown + EXCLUDED.k_male_unknown,
    k_female_adult = r.k_female_adult + EXCLUDED.k_female_adult,
    k_female_child = r.k_female_child + EXCLUDED.k_female_child,
    k_female_unknown = r.k_female_unknown + EXCLUDED.k_female_unknown,
    k_unknown_adult = r.k_unknown_adult + EXCLUDED.k_unknown_adult,
    k_unknown_child = r.k_unknown_child + EXCLUDED.k_unknown_child,
    k_unknown_unknown = r.k_unknown_unknown + EXCLUDED.k_unknown_unknown,
    i_male_adult = r.i_male_adult + EXCLUDED.i_male_adult,
    i_male_child = r.i_male_child + EXCLUDED.i_male_child,
    i_male_unknown = r.i_male_unknown + EXCLUDED.i_male_unknown,
    i_female_adult = r.i_female_adult + EXCLUDED.i_female_adult,
    i_female_child = r.i_female_child + EXCLUDED.i_female_child,
    i_female_unknown = r.i_female_unknown + EXCLUDED.i_female_unknown,
    i_unknown_adult = r.i_unknown_adult + EXCLUDED.i_unknown_adult,
    i_unknown_child = r.i_unknown_child + EXCLUDED.i_unknown_child,
    i_unknown_unknown = r.i_unknown_unknown + EXCLUDED.i_unknown_unknown
RETURNING 1)
SELECT n INTO folded FROM counted;
RETURN folded;
END
$$;

-- Writers and the folder wait while the new set's cells are computed: the
-- journal cannot change under this statement.
LOCK TABLE rollup_journal IN EXCLUSIVE MODE;

INSERT INTO rollup_gsets VALUES (13, 'week', true, true, false, false, false);

-- The new set's cells from the incidents, less what the journal still
-- holds: the journal's rows are folded into every set, this one included,
-- later.
INSERT INTO rollup_cells
SELECT gset, status, period, admin1, admin2, party, tactic, weapon,
       sum(incidents),
       sum(killed),
       sum(injured),
       sum(k_male_adult),
       sum(k_male_child),
       sum(k_male_unknown),
       sum(k_female_adult),
       sum(k_female_child),
       sum(k_female_unknown),
       sum(k_unknown_adult),
       sum(k_unknown_child),
       sum(k_unknown_unknown),
       sum(i_male_adult),
       sum(i_male_child),
       sum(i_male_unknown),
       sum(i_female_adult),
       sum(i_female_child),
       sum(i_female_unknown),
       sum(i_unknown_adult),
       sum(i_unknown_child),
       sum(i_unknown_unknown)
FROM (SELECT gset, status, period, admin1, admin2, party, tactic, weapon, incidents, killed, injured, k_male_adult, k_male_child, k_male_unknown, k_female_adult, k_female_child, k_female_unknown, k_unknown_adult, k_unknown_child, k_unknown_unknown, i_male_adult, i_male_child, i_male_unknown, i_female_adult, i_female_child, i_female_unknown, i_unknown_adult, i_unknown_child, i_unknown_unknown
      FROM rollup_contributions WHERE gset = 13
      UNION ALL
      SELECT gset, status, period, admin1, admin2, party, tactic, weapon,
       -incidents,
       -killed,
       -injured,
       -k_male_adult,
       -k_male_child,
       -k_male_unknown,
       -k_female_adult,
       -k_female_child,
       -k_female_unknown,
       -k_unknown_adult,
       -k_unknown_child,
       -k_unknown_unknown,
       -i_male_adult,
       -i_male_child,
       -i_male_unknown,
       -i_female_adult,
       -i_female_child,
       -i_female_unknown,
       -i_unknown_adult,
       -i_unknown_child,
       -i_unknown_unknown
      FROM rollup_journal_cells WHERE gset = 13) x
GROUP BY gset, status, period, admin1, admin2, party, tactic, weapon
HAVING sum(incidents) <> 0 OR sum(killed) <> 0 OR sum(injured) <> 0
ORDER BY gset, status, period, admin1, admin2, party, tactic, weapon;

ANALYZE rollup_cells;
