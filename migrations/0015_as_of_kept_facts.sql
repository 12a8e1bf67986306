-- as_of without reading documents or looking up each incident: every
-- revision's undo, kept when the revision is written.
--
-- Migration 0014 answered as of t by expanding, for each incident revised
-- after t, the jsonb document of its revision current at t, and looking
-- up its facts now: seconds for a month back (45,717 revisions) on the
-- benchmark. Keeping each revision's facts in plain columns (measured
-- first) saved the expansion but not the two random reads per incident of
-- tables larger than memory (3.4-8.1 s a month back).
--
-- An incident's contribution now is that of its latest revision (every
-- change of an incident writes one), and its contribution at t that of
-- its revision current then; the difference is the sum, over its
-- revisions after t, of what each revision took away (the facts of the
-- revision before it) less what it brought (its own facts). That sum
-- telescopes, so the changes since t are the undo rows of the revisions
-- after t: one range scan on their moment, the rows written in that
-- order, none of them summed unless dated within the query's range. The
-- revision's facts are computed by the same functions as before
-- (revision_facts, revision_victim_facts), once, when the revision is
-- inserted; incident_revisions is append-only, so what is kept never goes
-- stale.

-- Per revision, two rows dated by its moment: its own facts negated, and
-- the facts of the revision before it (none for the first).
CREATE TABLE revision_facts_undo AS
SELECT f.*, r.at
FROM incident_revisions r
CROSS JOIN LATERAL revision_facts(r.incident_id, r.status, r.document) f
WITH NO DATA;
ALTER TABLE revision_facts_undo ALTER COLUMN at SET NOT NULL;

-- A revision's groups (rollup_victim_facts' rows), none for a revision
-- without any: counting distinct incidents cannot take rows back, so the
-- groups as of t are those of the revision current then.
CREATE TABLE revision_victim_facts_kept AS
SELECT r.version, v.*
FROM incident_revisions r
CROSS JOIN LATERAL revision_victim_facts(r.incident_id, r.status, r.document) v
WITH NO DATA;

-- A revision's undo rows, from its document and the previous revision's.
CREATE FUNCTION revision_undo(p_incident bigint, p_version integer, p_status text, d jsonb,
                              p_at timestamptz)
RETURNS SETOF revision_facts_undo
LANGUAGE sql STABLE AS $$
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
       -f.i_unknown_child_above, -f.i_unknown_unknown_above, p_at
FROM revision_facts(p_incident, p_status, d) f
UNION ALL
SELECT f.*, p_at
FROM incident_revisions p
CROSS JOIN LATERAL revision_facts(p_incident, p.status, p.document) f
WHERE p.incident_id = p_incident AND p.version = p_version - 1
$$;

-- Filled in the statement that inserts the revisions (an edit's INSERT
-- or the import's COPY), once per statement.
CREATE FUNCTION revision_facts_keep() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO revision_facts_undo
    SELECT u.*
    FROM new_revisions n
    CROSS JOIN LATERAL revision_undo(n.incident_id, n.version, n.status, n.document, n.at) u;
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

-- The revisions already written, the undo rows in the order of their
-- moments (as new ones are appended).
INSERT INTO revision_facts_undo
SELECT u.*
FROM incident_revisions r
CROSS JOIN LATERAL revision_undo(r.incident_id, r.version, r.status, r.document, r.at) u
ORDER BY u.at;
INSERT INTO revision_victim_facts_kept
SELECT r.version, v.*
FROM incident_revisions r
CROSS JOIN LATERAL revision_victim_facts(r.incident_id, r.status, r.document) v;
CREATE INDEX revision_facts_undo_at_idx ON revision_facts_undo (at);
CREATE INDEX revision_victim_facts_kept_idx ON revision_victim_facts_kept (incident_id, version);
ANALYZE revision_facts_undo;
ANALYZE revision_victim_facts_kept;

-- As in 0014, the changes since t, for a query of the days lo..hi.
CREATE OR REPLACE FUNCTION rollup_facts_changes(t timestamptz, lo date, hi date)
RETURNS SETOF rollup_facts
LANGUAGE sql STABLE AS $$
SELECT u.gset, u.incident_id, u.status, u.period, u.admin1, u.admin2, u.party, u.tactic,
       u.weapon, u.attribution, u.impacts, u.incidents, u.killed, u.injured, u.k_male_adult,
       u.k_male_child, u.k_male_unknown, u.k_female_adult, u.k_female_child,
       u.k_female_unknown, u.k_unknown_adult, u.k_unknown_child, u.k_unknown_unknown,
       u.i_male_adult, u.i_male_child, u.i_male_unknown, u.i_female_adult, u.i_female_child,
       u.i_female_unknown, u.i_unknown_adult, u.i_unknown_child, u.i_unknown_unknown,
       u.unharmed, u.abducted, u.killed_below, u.killed_above, u.injured_below,
       u.injured_above, u.k_male_adult_below, u.k_male_child_below, u.k_male_unknown_below,
       u.k_female_adult_below, u.k_female_child_below, u.k_female_unknown_below,
       u.k_unknown_adult_below, u.k_unknown_child_below, u.k_unknown_unknown_below,
       u.i_male_adult_below, u.i_male_child_below, u.i_male_unknown_below,
       u.i_female_adult_below, u.i_female_child_below, u.i_female_unknown_below,
       u.i_unknown_adult_below, u.i_unknown_child_below, u.i_unknown_unknown_below,
       u.k_male_adult_above, u.k_male_child_above, u.k_male_unknown_above,
       u.k_female_adult_above, u.k_female_child_above, u.k_female_unknown_above,
       u.k_unknown_adult_above, u.k_unknown_child_above, u.k_unknown_unknown_above,
       u.i_male_adult_above, u.i_male_child_above, u.i_male_unknown_above,
       u.i_female_adult_above, u.i_female_child_above, u.i_female_unknown_above,
       u.i_unknown_adult_above, u.i_unknown_child_above, u.i_unknown_unknown_above
FROM revision_facts_undo u
WHERE u.at > t AND u.period BETWEEN lo AND hi
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
