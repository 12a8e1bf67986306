-- as_of without reading documents: every revision's facts, kept when
-- the revision is written.
--
-- Migration 0014 answered as of t by expanding, for each incident revised
-- after t, the jsonb document of its revision current at t: about 100 us
-- an incident, seconds for a month back. The same facts (rollup_facts'
-- row, and rollup_victim_facts' rows) are now computed once, when the
-- revision is inserted, by the same functions revision_facts and
-- revision_victim_facts, and kept in plain columns beside it; as_of reads
-- those. incident_revisions is append-only, so what is kept never goes
-- stale.

-- One row per revision: rollup_facts' columns, then the revision's
-- version and moment (to find the one current at t without reading
-- incident_revisions).
CREATE TABLE revision_facts_kept AS
SELECT f.*, r.version, r.at
FROM incident_revisions r
CROSS JOIN LATERAL revision_facts(r.incident_id, r.status, r.document) f
WITH NO DATA;
ALTER TABLE revision_facts_kept
    ADD PRIMARY KEY (incident_id, version),
    ALTER COLUMN at SET NOT NULL;

-- A revision's groups (rollup_victim_facts' rows), none for a revision
-- without any.
CREATE TABLE revision_victim_facts_kept AS
SELECT r.version, v.*
FROM incident_revisions r
CROSS JOIN LATERAL revision_victim_facts(r.incident_id, r.status, r.document) v
WITH NO DATA;
CREATE INDEX revision_victim_facts_kept_idx ON revision_victim_facts_kept (incident_id, version);

-- Filled in the statement that inserts the revisions (an INSERT or the
-- import's COPY), once per statement.
CREATE FUNCTION revision_facts_keep() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO revision_facts_kept
    SELECT f.*, n.version, n.at
    FROM new_revisions n
    CROSS JOIN LATERAL revision_facts(n.incident_id, n.status, n.document) f;
    INSERT INTO revision_victim_facts_kept
    SELECT n.version, v.*
    FROM new_revisions n
    CROSS JOIN LATERAL revision_victim_facts(n.incident_id, n.status, n.document) v;
    RETURN NULL;
END
$$;
CREATE TRIGGER incident_revisions_keep_facts
    AFTER INSERT ON incident_revisions
    REFERENCING NEW TABLE AS new_revisions
    FOR EACH STATEMENT EXECUTE FUNCTION revision_facts_keep();

-- The revisions already written.
INSERT INTO revision_facts_kept
SELECT f.*, r.version, r.at
FROM incident_revisions r
CROSS JOIN LATERAL revision_facts(r.incident_id, r.status, r.document) f;
INSERT INTO revision_victim_facts_kept
SELECT r.version, v.*
FROM incident_revisions r
CROSS JOIN LATERAL revision_victim_facts(r.incident_id, r.status, r.document) v;
ANALYZE revision_facts_kept;
ANALYZE revision_victim_facts_kept;

-- As in 0014, each incident revised after t: its facts at t, from the
-- kept row of its latest revision at or before t, and its facts now taken
-- back.
CREATE OR REPLACE FUNCTION rollup_facts_changes(t timestamptz, lo date, hi date)
RETURNS SETOF rollup_facts
LANGUAGE sql STABLE AS $$
WITH s AS MATERIALIZED (SELECT incident_id FROM revised_since(t))
SELECT k.*
FROM s
CROSS JOIN LATERAL (
    SELECT k.gset, k.incident_id, k.status, k.period, k.admin1, k.admin2, k.party, k.tactic,
       k.weapon, k.attribution, k.impacts, k.incidents, k.killed, k.injured, k.k_male_adult,
       k.k_male_child, k.k_male_unknown, k.k_female_adult, k.k_female_child,
       k.k_female_unknown, k.k_unknown_adult, k.k_unknown_child, k.k_unknown_unknown,
       k.i_male_adult, k.i_male_child, k.i_male_unknown, k.i_female_adult, k.i_female_child,
       k.i_female_unknown, k.i_unknown_adult, k.i_unknown_child, k.i_unknown_unknown,
       k.unharmed, k.abducted, k.killed_below, k.killed_above, k.injured_below,
       k.injured_above, k.k_male_adult_below, k.k_male_child_below, k.k_male_unknown_below,
       k.k_female_adult_below, k.k_female_child_below, k.k_female_unknown_below,
       k.k_unknown_adult_below, k.k_unknown_child_below, k.k_unknown_unknown_below,
       k.i_male_adult_below, k.i_male_child_below, k.i_male_unknown_below,
       k.i_female_adult_below, k.i_female_child_below, k.i_female_unknown_below,
       k.i_unknown_adult_below, k.i_unknown_child_below, k.i_unknown_unknown_below,
       k.k_male_adult_above, k.k_male_child_above, k.k_male_unknown_above,
       k.k_female_adult_above, k.k_female_child_above, k.k_female_unknown_above,
       k.k_unknown_adult_above, k.k_unknown_child_above, k.k_unknown_unknown_above,
       k.i_male_adult_above, k.i_male_child_above, k.i_male_unknown_above,
       k.i_female_adult_above, k.i_female_child_above, k.i_female_unknown_above,
       k.i_unknown_adult_above, k.i_unknown_child_above, k.i_unknown_unknown_above
    FROM revision_facts_kept k
    WHERE k.incident_id = s.incident_id AND k.at <= t
    ORDER BY k.version DESC LIMIT 1) k
WHERE k.period BETWEEN lo AND hi
UNION ALL
SELECT f.gset, f.incident_id, f.status, f.period, f.admin1, f.admin2, f.party, f.tactic,
       f.weapon, f.attribution, f.impacts, -f.incidents, -f.killed, -f.injured,
       -f.k_male_adult, -f.k_male_child, -f.k_male_unknown, -f.k_female_adult,
       -f.k_female_child, -f.k_female_unknown, -f.k_unknown_adult, -f.k_unknown_child,
       -f.k_unknown_unknown, -f.i_male_adult, -f.i_male_child, -f.i_male_unknown,
       -f.i_female_adult, -f.i_female_child, -f.i_female_unknown, -f.i_unknown_adult,
       -f.i_unknown_child, -f.i_unknown_unknown, -f.unharmed, -f.abducted, -f.killed_below,
       -f.killed_above, -f.injured_below, -f.injured_above, -f.k_male_adult_below,
       -f.k_male_child_below, -f.k_male_unknown_below, -f.k_female_adult_below,
       -f.k_female_child_below, -f.k_female_unknown_below, -f.k_unknown_adult_below,
       -f.k_unknown_child_below, -f.k_unknown_unknown_below, -f.i_male_adult_below,
       -f.i_male_child_below, -f.i_male_unknown_below, -f.i_female_adult_below,
       -f.i_female_child_below, -f.i_female_unknown_below, -f.i_unknown_adult_below,
       -f.i_unknown_child_below, -f.i_unknown_unknown_below, -f.k_male_adult_above,
       -f.k_male_child_above, -f.k_male_unknown_above, -f.k_female_adult_above,
       -f.k_female_child_above, -f.k_female_unknown_above, -f.k_unknown_adult_above,
       -f.k_unknown_child_above, -f.k_unknown_unknown_above, -f.i_male_adult_above,
       -f.i_male_child_above, -f.i_male_unknown_above, -f.i_female_adult_above,
       -f.i_female_child_above, -f.i_female_unknown_above, -f.i_unknown_adult_above,
       -f.i_unknown_child_above, -f.i_unknown_unknown_above
FROM s
-- One index lookup per incident (OFFSET 0 keeps the planner from joining
-- every incident instead).
CROSS JOIN LATERAL (
    SELECT * FROM rollup_facts x
    WHERE x.incident_id = s.incident_id AND x.period BETWEEN lo AND hi OFFSET 0) f
$$;

-- The groups as of t: those of the incidents not revised since, and the
-- kept groups of the others' revisions current at t.
CREATE OR REPLACE FUNCTION rollup_victim_facts_as_of(t timestamptz, lo date, hi date)
RETURNS SETOF rollup_victim_facts
LANGUAGE sql STABLE AS $$
SELECT v.* FROM rollup_victim_facts v
WHERE NOT EXISTS (SELECT 1 FROM incident_revisions r
                  WHERE r.incident_id = v.incident_id AND r.at > t)
UNION ALL
SELECT k.incident_id, k.status, k.period, k.admin1, k.admin2, k.party, k.tactic, k.weapon,
       k.attribution, k.impacts, k.outcome, k.sex, k.age_group, k.role, k.n, k.n_below,
       k.n_above
FROM revised_since(t) s
CROSS JOIN LATERAL (
    SELECT p.version FROM incident_revisions p
    WHERE p.incident_id = s.incident_id AND p.at <= t
    ORDER BY p.version DESC LIMIT 1) r
JOIN revision_victim_facts_kept k ON k.incident_id = s.incident_id AND k.version = r.version
WHERE k.period BETWEEN lo AND hi
$$;
