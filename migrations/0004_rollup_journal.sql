-- Rollup upkeep through a journal, and grouping sets that merge.
--
-- Before: every write upserted one cell per grouping set (seven) in its own
-- transaction, each cell keyed on nine columns and sharded by backend; two
-- of the sets (day and month with every dimension) held nearly a row per
-- incident. Together that cost a quarter of write throughput
-- (docs/performance.md).
--
-- Now:
-- * A write's transaction inserts its incident's contribution (sign x the
--   counts, at the incident's own day and codes) as one row of
--   rollup_journal: a heap without indexes, cheap to insert, shared by no
--   cell. civcasd folds the journal into rollup_cells about once a second
--   (rollup_fold), in one transaction that deletes the rows it folds: at
--   any snapshot every contribution is counted exactly once, in the cells
--   or in the journal. Readers read rollup_live, the cells plus the
--   journal expanded to the grouping sets; the journal holds about a
--   second of writes, so reads still cost cells, not incidents.
-- * Writers no longer share cells, so the shards go: folded into one row
--   per cell, the column dropped.
-- * The two sets with every dimension go (1: day, 4: month). At a million
--   incidents they were as large as the incidents themselves, so reading
--   them cost what reading the incidents costs, while every write paid two
--   new cells for them. The few questions only they answered (weekly by
--   weapon; district crossed with party) now read rollup_facts, the
--   incidents at their finest grain. In their place come sets whose cells
--   many writes share, so a fold mostly updates existing cells: party,
--   tactic and weapon by month, party and tactic by day.
-- * The cells get a fillfactor of 80, so that an update of a cell can stay
--   on its page without touching the indexes (a HOT update).

CREATE TABLE rollup_journal (
    status      text COLLATE "C" NOT NULL,
    occurred_on date NOT NULL,
    admin1      text COLLATE "C" NOT NULL,
    admin2      text COLLATE "C" NOT NULL,
    party       text COLLATE "C" NOT NULL,
    tactic      text COLLATE "C" NOT NULL,
    weapon      text COLLATE "C" NOT NULL,
    incidents   integer NOT NULL,
    killed      integer NOT NULL,
    injured     integer NOT NULL,
    k_male_adult integer NOT NULL, k_male_child integer NOT NULL, k_male_unknown integer NOT NULL,
    k_female_adult integer NOT NULL, k_female_child integer NOT NULL, k_female_unknown integer NOT NULL,
    k_unknown_adult integer NOT NULL, k_unknown_child integer NOT NULL, k_unknown_unknown integer NOT NULL,
    i_male_adult integer NOT NULL, i_male_child integer NOT NULL, i_male_unknown integer NOT NULL,
    i_female_adult integer NOT NULL, i_female_child integer NOT NULL, i_female_unknown integer NOT NULL,
    i_unknown_adult integer NOT NULL, i_unknown_child integer NOT NULL, i_unknown_unknown integer NOT NULL
);

-- The cells kept, shards summed (the old rollup_sides does that for its
-- 'stored' side).
CREATE TEMPORARY TABLE rollup_unsharded ON COMMIT DROP AS
SELECT gset, status, period, admin1, admin2, party, tactic, weapon, incidents, killed, injured,
       k_male_adult, k_male_child, k_male_unknown, k_female_adult, k_female_child,
       k_female_unknown, k_unknown_adult, k_unknown_child, k_unknown_unknown, i_male_adult,
       i_male_child, i_male_unknown, i_female_adult, i_female_child, i_female_unknown,
       i_unknown_adult, i_unknown_child, i_unknown_unknown
FROM rollup_sides WHERE side = 'stored' AND gset NOT IN (1, 4);

DROP VIEW rollup_sides;
TRUNCATE rollup_cells;
ALTER TABLE rollup_cells DROP CONSTRAINT rollup_cells_pkey;
ALTER TABLE rollup_cells DROP COLUMN shard;
ALTER TABLE rollup_cells SET (fillfactor = 80);
DELETE FROM rollup_gsets WHERE gset IN (1, 4);
INSERT INTO rollup_gsets VALUES
    (8,  'month', false, false, true,  false, false),
    (9,  'month', false, false, false, true,  false),
    (10, 'month', false, false, false, false, true),
    (11, 'day',   false, false, true,  false, false),
    (12, 'day',   false, false, false, true,  false);

-- Each incident at its finest grain: its day, its codes and its counts.
-- What the journal records, what rollup_contributions projects onto the
-- sets, and what a trend no set can answer reads (as set 0).
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
       1 AS incidents,
       v.killed, v.injured,
       v.k_male_adult, v.k_male_child, v.k_male_unknown,
       v.k_female_adult, v.k_female_child, v.k_female_unknown,
       v.k_unknown_adult, v.k_unknown_child, v.k_unknown_unknown,
       v.i_male_adult, v.i_male_child, v.i_male_unknown,
       v.i_female_adult, v.i_female_child, v.i_female_unknown,
       v.i_unknown_adult, v.i_unknown_child, v.i_unknown_unknown
FROM incidents i
CROSS JOIN LATERAL (
    SELECT COALESCE(sum(count) FILTER (WHERE outcome = 'killed'), 0)::int AS killed,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured'), 0)::int AS injured,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'male' AND age_group = 'adult'), 0)::int AS k_male_adult,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'male' AND age_group = 'child'), 0)::int AS k_male_child,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'male' AND age_group = 'unknown'), 0)::int AS k_male_unknown,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'female' AND age_group = 'adult'), 0)::int AS k_female_adult,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'female' AND age_group = 'child'), 0)::int AS k_female_child,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'female' AND age_group = 'unknown'), 0)::int AS k_female_unknown,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'unknown' AND age_group = 'adult'), 0)::int AS k_unknown_adult,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'unknown' AND age_group = 'child'), 0)::int AS k_unknown_child,
           COALESCE(sum(count) FILTER (WHERE outcome = 'killed' AND sex = 'unknown' AND age_group = 'unknown'), 0)::int AS k_unknown_unknown,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'male' AND age_group = 'adult'), 0)::int AS i_male_adult,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'male' AND age_group = 'child'), 0)::int AS i_male_child,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'male' AND age_group = 'unknown'), 0)::int AS i_male_unknown,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'female' AND age_group = 'adult'), 0)::int AS i_female_adult,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'female' AND age_group = 'child'), 0)::int AS i_female_child,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'female' AND age_group = 'unknown'), 0)::int AS i_female_unknown,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'unknown' AND age_group = 'adult'), 0)::int AS i_unknown_adult,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'unknown' AND age_group = 'child'), 0)::int AS i_unknown_child,
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'unknown' AND age_group = 'unknown'), 0)::int AS i_unknown_unknown
    FROM casualty_groups c
    WHERE c.incident_id = i.id
) v;

-- The same columns as before, now a projection of the facts.
CREATE OR REPLACE VIEW rollup_contributions AS
SELECT f.incident_id,
       g.gset,
       f.status,
       CASE WHEN g.grain = 'day' THEN f.period
            ELSE date_trunc('month', f.period)::date END AS period,
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

-- The kept cells, and the new sets' cells computed from the incidents.
INSERT INTO rollup_unsharded
SELECT c.gset, c.status, c.period, c.admin1, c.admin2, c.party, c.tactic, c.weapon,
       sum(incidents), sum(killed), sum(injured),
       sum(k_male_adult), sum(k_male_child), sum(k_male_unknown),
       sum(k_female_adult), sum(k_female_child), sum(k_female_unknown),
       sum(k_unknown_adult), sum(k_unknown_child), sum(k_unknown_unknown),
       sum(i_male_adult), sum(i_male_child), sum(i_male_unknown),
       sum(i_female_adult), sum(i_female_child), sum(i_female_unknown),
       sum(i_unknown_adult), sum(i_unknown_child), sum(i_unknown_unknown)
FROM rollup_contributions c
WHERE c.gset >= 8
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8;
INSERT INTO rollup_cells
SELECT * FROM rollup_unsharded
ORDER BY gset, status, period, admin1, admin2, party, tactic, weapon;
ALTER TABLE rollup_cells
    ADD PRIMARY KEY (gset, status, period, admin1, admin2, party, tactic, weapon);
-- The province index serves only the sets that keep provinces: the other
-- sets' cells stay out of it, and their upserts do not touch it.
DROP INDEX rollup_cells_admin1_idx;
CREATE INDEX rollup_cells_admin1_idx ON rollup_cells (gset, status, admin1, period)
    WHERE admin1 <> '';
ANALYZE rollup_cells;

-- A write's contribution: sign x the incident's facts now.
CREATE OR REPLACE FUNCTION rollup_apply(p_incident bigint, p_sign integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
INSERT INTO rollup_journal
SELECT status, period, admin1, admin2, party, tactic, weapon,
       p_sign * incidents, p_sign * killed, p_sign * injured,
       p_sign * k_male_adult, p_sign * k_male_child, p_sign * k_male_unknown,
       p_sign * k_female_adult, p_sign * k_female_child, p_sign * k_female_unknown,
       p_sign * k_unknown_adult, p_sign * k_unknown_child, p_sign * k_unknown_unknown,
       p_sign * i_male_adult, p_sign * i_male_child, p_sign * i_male_unknown,
       p_sign * i_female_adult, p_sign * i_female_child, p_sign * i_female_unknown,
       p_sign * i_unknown_adult, p_sign * i_unknown_child, p_sign * i_unknown_unknown
FROM rollup_facts
WHERE incident_id = p_incident;
END
$$;

-- The journal's rows as cells of every grouping set: the same projection
-- as rollup_contributions, from the journal's columns.
CREATE VIEW rollup_journal_cells AS
SELECT g.gset,
       j.status,
       CASE WHEN g.grain = 'day' THEN j.occurred_on
            ELSE date_trunc('month', j.occurred_on)::date END AS period,
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

-- What readers read: the cells and the journal not yet folded. One
-- statement sees both at one snapshot, and a fold moves rows from one to
-- the other in one transaction, so the sum is exact at every moment.
-- A cell may appear more than once: readers sum.
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

-- Folds the journal into the cells: deletes the rows this transaction can
-- see and adds their sums, one upsert per cell, in key order. Rows
-- committed meanwhile stay for the next fold. One folder at a time (the
-- others return at once); `civcasd rollup rebuild` locks the journal, so a
-- fold waits for it. Returns the journal rows folded.
CREATE FUNCTION rollup_fold() RETURNS bigint
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
       CASE WHEN g.grain = 'day' THEN j.occurred_on
            ELSE date_trunc('month', j.occurred_on)::date END,
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

-- Cells from both sides: 'expected' from the incidents, 'stored' from the
-- cells and the journal. Verification compares the two; rebuild writes the
-- first.
CREATE VIEW rollup_sides AS
SELECT side, gset, status, period, admin1, admin2, party, tactic, weapon,
       sum(incidents)::int AS incidents, sum(killed)::int AS killed, sum(injured)::int AS injured,
       sum(k_male_adult)::int AS k_male_adult, sum(k_male_child)::int AS k_male_child,
       sum(k_male_unknown)::int AS k_male_unknown, sum(k_female_adult)::int AS k_female_adult,
       sum(k_female_child)::int AS k_female_child, sum(k_female_unknown)::int AS k_female_unknown,
       sum(k_unknown_adult)::int AS k_unknown_adult, sum(k_unknown_child)::int AS k_unknown_child,
       sum(k_unknown_unknown)::int AS k_unknown_unknown,
       sum(i_male_adult)::int AS i_male_adult, sum(i_male_child)::int AS i_male_child,
       sum(i_male_unknown)::int AS i_male_unknown, sum(i_female_adult)::int AS i_female_adult,
       sum(i_female_child)::int AS i_female_child, sum(i_female_unknown)::int AS i_female_unknown,
       sum(i_unknown_adult)::int AS i_unknown_adult, sum(i_unknown_child)::int AS i_unknown_child,
       sum(i_unknown_unknown)::int AS i_unknown_unknown
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
