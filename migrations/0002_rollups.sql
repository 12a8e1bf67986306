-- Rollups for the trend engine.
--
-- rollup_cells holds counts per cell of several grouping sets (rollup_gsets):
-- each set keeps some incident dimensions and a day or month grain; the
-- dimensions it drops are ''. A trend query reads the smallest set that has
-- what it asks for, so its cost follows the cells in range, not the victims
-- recorded. Victim dimensions are columns, not rows: one cell carries the
-- 18 counts of outcome x sex x age group, so a write touches one row per
-- grouping set whatever the number of casualty groups.
--
-- Party group and region are not stored: they are joined from the taxonomy
-- at query time, so re-parenting a party or a province needs no rebuild.
--
-- Cells are maintained in the transaction of every write (civcasd applies
-- an incident's contribution with sign -1 before a change and +1 after).
-- Concurrent writers would queue on hot cells (this month's national
-- total), so each connection writes its own shard of a cell
-- (pg_backend_pid() % 16); readers sum over shards; `civcasd rollup
-- rebuild` folds them back into shard 0.

CREATE TABLE rollup_gsets (
    gset        smallint PRIMARY KEY,
    grain       text NOT NULL CHECK (grain IN ('day', 'month')),
    by_admin1   boolean NOT NULL,
    by_admin2   boolean NOT NULL,
    by_party    boolean NOT NULL,
    by_tactic   boolean NOT NULL,
    by_weapon   boolean NOT NULL,
    CHECK (by_admin1 OR NOT by_admin2)
);

-- The same list is compiled into civcasd (server/trends/rollup_sets.c);
-- a test checks that they agree.
INSERT INTO rollup_gsets VALUES
    (1, 'day',   true,  true,  true,  true,  true),
    (2, 'day',   true,  true,  false, false, false),
    (3, 'day',   false, false, false, false, false),
    (4, 'month', true,  true,  true,  true,  true),
    (5, 'month', true,  true,  false, false, false),
    (6, 'month', false, false, true,  true,  false),
    (7, 'month', false, false, false, false, false);

CREATE TABLE rollup_cells (
    gset        smallint NOT NULL REFERENCES rollup_gsets (gset),
    status      text COLLATE "C" NOT NULL,
    period      date NOT NULL,
    -- Byte-wise collation: the key is compared on every write.
    admin1      text COLLATE "C" NOT NULL,
    admin2      text COLLATE "C" NOT NULL,
    party       text COLLATE "C" NOT NULL,
    tactic      text COLLATE "C" NOT NULL,
    weapon      text COLLATE "C" NOT NULL,
    shard       smallint NOT NULL,
    incidents   integer NOT NULL,
    killed      integer NOT NULL,
    injured     integer NOT NULL,
    k_male_adult integer NOT NULL, k_male_child integer NOT NULL, k_male_unknown integer NOT NULL,
    k_female_adult integer NOT NULL, k_female_child integer NOT NULL, k_female_unknown integer NOT NULL,
    k_unknown_adult integer NOT NULL, k_unknown_child integer NOT NULL, k_unknown_unknown integer NOT NULL,
    i_male_adult integer NOT NULL, i_male_child integer NOT NULL, i_male_unknown integer NOT NULL,
    i_female_adult integer NOT NULL, i_female_child integer NOT NULL, i_female_unknown integer NOT NULL,
    i_unknown_adult integer NOT NULL, i_unknown_child integer NOT NULL, i_unknown_unknown integer NOT NULL,
    PRIMARY KEY (gset, status, period, admin1, admin2, party, tactic, weapon, shard)
);
-- One province over time (weekly incidents by district of a province).
CREATE INDEX rollup_cells_admin1_idx ON rollup_cells (gset, status, admin1, period);

-- What each incident adds to each grouping set: the one definition that
-- maintenance, rebuild and verify share.
CREATE VIEW rollup_contributions AS
SELECT i.id AS incident_id,
       g.gset,
       i.status,
       CASE WHEN g.grain = 'day' THEN i.occurred_on
            ELSE date_trunc('month', i.occurred_on)::date END AS period,
       CASE WHEN g.by_admin1 THEN i.admin1 ELSE '' END AS admin1,
       CASE WHEN g.by_admin2 THEN COALESCE(i.admin2, '') ELSE '' END AS admin2,
       CASE WHEN g.by_party THEN i.perpetrator ELSE '' END AS party,
       CASE WHEN g.by_tactic THEN i.tactic ELSE '' END AS tactic,
       CASE WHEN g.by_weapon THEN i.weapon ELSE '' END AS weapon,
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
) v
CROSS JOIN rollup_gsets g;

-- Adds sign x the contribution of one incident, in key order so that two
-- writers sharing a shard never deadlock.
-- PL/pgSQL rather than SQL: it keeps the statement's plan for the session,
-- where an SQL function plans it again on every call.
CREATE FUNCTION rollup_apply(p_incident bigint, p_sign integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
INSERT INTO rollup_cells AS r
SELECT gset, status, period, admin1, admin2, party, tactic, weapon,
       (pg_backend_pid() % 16)::smallint,
       p_sign * incidents, p_sign * killed, p_sign * injured,
       p_sign * k_male_adult, p_sign * k_male_child, p_sign * k_male_unknown,
       p_sign * k_female_adult, p_sign * k_female_child, p_sign * k_female_unknown,
       p_sign * k_unknown_adult, p_sign * k_unknown_child, p_sign * k_unknown_unknown,
       p_sign * i_male_adult, p_sign * i_male_child, p_sign * i_male_unknown,
       p_sign * i_female_adult, p_sign * i_female_child, p_sign * i_female_unknown,
       p_sign * i_unknown_adult, p_sign * i_unknown_child, p_sign * i_unknown_unknown
FROM rollup_contributions
WHERE incident_id = p_incident
ORDER BY gset, status, period, admin1, admin2, party, tactic, weapon
ON CONFLICT (gset, status, period, admin1, admin2, party, tactic, weapon, shard) DO UPDATE SET
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
    i_unknown_unknown = r.i_unknown_unknown + EXCLUDED.i_unknown_unknown;
END
$$;

-- Cells from both sides, shards folded: 'expected' from the incidents,
-- 'stored' from rollup_cells. Verification compares the two; rebuild
-- writes the first.
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
FROM (SELECT 'expected' AS side, gset, status, period, admin1, admin2, party, tactic, weapon,
             incidents, killed, injured, k_male_adult, k_male_child, k_male_unknown,
             k_female_adult, k_female_child, k_female_unknown, k_unknown_adult, k_unknown_child,
             k_unknown_unknown, i_male_adult, i_male_child, i_male_unknown, i_female_adult,
             i_female_child, i_female_unknown, i_unknown_adult, i_unknown_child,
             i_unknown_unknown
      FROM rollup_contributions
      UNION ALL
      SELECT 'stored', gset, status, period, admin1, admin2, party, tactic, weapon,
             incidents, killed, injured, k_male_adult, k_male_child, k_male_unknown,
             k_female_adult, k_female_child, k_female_unknown, k_unknown_adult, k_unknown_child,
             k_unknown_unknown, i_male_adult, i_male_child, i_male_unknown, i_female_adult,
             i_female_child, i_female_unknown, i_unknown_adult, i_unknown_child,
             i_unknown_unknown
      FROM rollup_cells) x
GROUP BY side, gset, status, period, admin1, admin2, party, tactic, weapon
HAVING sum(incidents) <> 0 OR sum(killed) <> 0 OR sum(injured) <> 0;

-- Existing incidents (a database migrated with data) get their cells now.
INSERT INTO rollup_cells
SELECT gset, status, period, admin1, admin2, party, tactic, weapon, 0, incidents, killed, injured,
       k_male_adult, k_male_child, k_male_unknown, k_female_adult, k_female_child, k_female_unknown,
       k_unknown_adult, k_unknown_child, k_unknown_unknown, i_male_adult, i_male_child,
       i_male_unknown, i_female_adult, i_female_child, i_female_unknown, i_unknown_adult,
       i_unknown_child, i_unknown_unknown
FROM rollup_sides WHERE side = 'expected';
