-- Figures as known on a date: every trend and report can be asked as of a
-- past moment t (as_of), from each incident's revision current at t.
--
-- No second copy of the history is kept: incident_revisions already holds
-- every version's full document with the moment of its transaction. An
-- incident with no revision after t stands at t as it stands now, so its
-- contribution is already in the cells; only the incidents revised after
-- t differ. The answer as of t is therefore today's source (cells and
-- journal, the incidents, their groups) plus, for each incident revised
-- after t, its contribution at t (from the revision document current then;
-- none if it did not exist yet) less its contribution now. Its cost is the
-- cells plus the revisions since t, not the incidents.
--
-- The contribution of a document is computed by the same expressions as
-- rollup_facts (migration 0009), reading the document's arrays instead of
-- the child tables; the property test (tests/http/test_as_of.py) holds
-- both to a recomputation from the revisions.

-- The revisions since t, found by time.
CREATE INDEX incident_revisions_at_idx ON incident_revisions (at, incident_id);

-- One incident's facts (rollup_facts' row) from a revision's status and
-- document; no row for a NULL document (the incident did not exist).
CREATE FUNCTION revision_facts(p_incident bigint, p_status text, d jsonb)
RETURNS SETOF rollup_facts
LANGUAGE sql IMMUTABLE AS $$
SELECT 0::smallint AS gset,
       p_incident AS incident_id,
       p_status AS status,
       (d->>'occurred_on')::date AS period,
       d#>>'{location,admin1}' AS admin1,
       COALESCE(d#>>'{location,admin2}', '') AS admin2,
       d->>'perpetrator' AS party,
       d->>'tactic' AS tactic,
       d->>'weapon' AS weapon,
       COALESCE(d->>'attribution', 'unknown') AS attribution,
       COALESCE((SELECT string_agg(m.impact, ',' ORDER BY m.impact COLLATE "C")
                 FROM jsonb_array_elements_text(d->'impacts') AS m(impact)), '') AS impacts,
       1::bigint AS incidents,
       v.killed, v.injured, v.k_male_adult, v.k_male_child, v.k_male_unknown, v.k_female_adult,
       v.k_female_child, v.k_female_unknown, v.k_unknown_adult, v.k_unknown_child,
       v.k_unknown_unknown, v.i_male_adult, v.i_male_child, v.i_male_unknown, v.i_female_adult,
       v.i_female_child, v.i_female_unknown, v.i_unknown_adult, v.i_unknown_child,
       v.i_unknown_unknown, v.unharmed,
       COALESCE((SELECT sum(a.count)
                 FROM jsonb_to_recordset(d->'abducted') AS a(count integer)), 0)::bigint AS abducted,
       v.killed_below, v.killed_above, v.injured_below, v.injured_above, v.k_male_adult_below,
       v.k_male_child_below, v.k_male_unknown_below, v.k_female_adult_below,
       v.k_female_child_below, v.k_female_unknown_below, v.k_unknown_adult_below,
       v.k_unknown_child_below, v.k_unknown_unknown_below, v.i_male_adult_below,
       v.i_male_child_below, v.i_male_unknown_below, v.i_female_adult_below,
       v.i_female_child_below, v.i_female_unknown_below, v.i_unknown_adult_below,
       v.i_unknown_child_below, v.i_unknown_unknown_below, v.k_male_adult_above,
       v.k_male_child_above, v.k_male_unknown_above, v.k_female_adult_above,
       v.k_female_child_above, v.k_female_unknown_above, v.k_unknown_adult_above,
       v.k_unknown_child_above, v.k_unknown_unknown_above, v.i_male_adult_above,
       v.i_male_child_above, v.i_male_unknown_above, v.i_female_adult_above,
       v.i_female_child_above, v.i_female_unknown_above, v.i_unknown_adult_above,
       v.i_unknown_child_above, v.i_unknown_unknown_above
FROM (

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
           COALESCE(sum(count) FILTER (WHERE outcome = 'injured' AND sex = 'unknown' AND age_group = 'unknown'), 0)::bigint AS i_unknown_unknown,
           (count(*) = 0)::int::bigint AS unharmed,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'killed'), 0)::bigint AS killed_below,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'killed'), 0)::bigint AS killed_above,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'injured'), 0)::bigint AS injured_below,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'injured'), 0)::bigint AS injured_above,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'killed' AND sex = 'male' AND age_group = 'adult'), 0)::bigint AS k_male_adult_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'killed' AND sex = 'male' AND age_group = 'child'), 0)::bigint AS k_male_child_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'killed' AND sex = 'male' AND age_group = 'unknown'), 0)::bigint AS k_male_unknown_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'killed' AND sex = 'female' AND age_group = 'adult'), 0)::bigint AS k_female_adult_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'killed' AND sex = 'female' AND age_group = 'child'), 0)::bigint AS k_female_child_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'killed' AND sex = 'female' AND age_group = 'unknown'), 0)::bigint AS k_female_unknown_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'killed' AND sex = 'unknown' AND age_group = 'adult'), 0)::bigint AS k_unknown_adult_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'killed' AND sex = 'unknown' AND age_group = 'child'), 0)::bigint AS k_unknown_child_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'killed' AND sex = 'unknown' AND age_group = 'unknown'), 0)::bigint AS k_unknown_unknown_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'injured' AND sex = 'male' AND age_group = 'adult'), 0)::bigint AS i_male_adult_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'injured' AND sex = 'male' AND age_group = 'child'), 0)::bigint AS i_male_child_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'injured' AND sex = 'male' AND age_group = 'unknown'), 0)::bigint AS i_male_unknown_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'injured' AND sex = 'female' AND age_group = 'adult'), 0)::bigint AS i_female_adult_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'injured' AND sex = 'female' AND age_group = 'child'), 0)::bigint AS i_female_child_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'injured' AND sex = 'female' AND age_group = 'unknown'), 0)::bigint AS i_female_unknown_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'injured' AND sex = 'unknown' AND age_group = 'adult'), 0)::bigint AS i_unknown_adult_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'injured' AND sex = 'unknown' AND age_group = 'child'), 0)::bigint AS i_unknown_child_below,
           COALESCE(sum(count - COALESCE(count_min, count)) FILTER (WHERE outcome = 'injured' AND sex = 'unknown' AND age_group = 'unknown'), 0)::bigint AS i_unknown_unknown_below,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'killed' AND sex = 'male' AND age_group = 'adult'), 0)::bigint AS k_male_adult_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'killed' AND sex = 'male' AND age_group = 'child'), 0)::bigint AS k_male_child_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'killed' AND sex = 'male' AND age_group = 'unknown'), 0)::bigint AS k_male_unknown_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'killed' AND sex = 'female' AND age_group = 'adult'), 0)::bigint AS k_female_adult_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'killed' AND sex = 'female' AND age_group = 'child'), 0)::bigint AS k_female_child_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'killed' AND sex = 'female' AND age_group = 'unknown'), 0)::bigint AS k_female_unknown_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'killed' AND sex = 'unknown' AND age_group = 'adult'), 0)::bigint AS k_unknown_adult_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'killed' AND sex = 'unknown' AND age_group = 'child'), 0)::bigint AS k_unknown_child_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'killed' AND sex = 'unknown' AND age_group = 'unknown'), 0)::bigint AS k_unknown_unknown_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'injured' AND sex = 'male' AND age_group = 'adult'), 0)::bigint AS i_male_adult_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'injured' AND sex = 'male' AND age_group = 'child'), 0)::bigint AS i_male_child_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'injured' AND sex = 'male' AND age_group = 'unknown'), 0)::bigint AS i_male_unknown_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'injured' AND sex = 'female' AND age_group = 'adult'), 0)::bigint AS i_female_adult_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'injured' AND sex = 'female' AND age_group = 'child'), 0)::bigint AS i_female_child_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'injured' AND sex = 'female' AND age_group = 'unknown'), 0)::bigint AS i_female_unknown_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'injured' AND sex = 'unknown' AND age_group = 'adult'), 0)::bigint AS i_unknown_adult_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'injured' AND sex = 'unknown' AND age_group = 'child'), 0)::bigint AS i_unknown_child_above,
           COALESCE(sum(COALESCE(count_max, count) - count) FILTER (WHERE outcome = 'injured' AND sex = 'unknown' AND age_group = 'unknown'), 0)::bigint AS i_unknown_unknown_above
    FROM jsonb_to_recordset(d->'casualties')
         AS c(outcome text, sex text, age_group text, count integer, count_min integer,
              count_max integer)
) v
WHERE d IS NOT NULL
$$;

-- The same for rollup_victim_facts: the document's casualty and abducted
-- groups with its codes.
CREATE FUNCTION revision_victim_facts(p_incident bigint, p_status text, d jsonb)
RETURNS SETOF rollup_victim_facts
LANGUAGE sql IMMUTABLE AS $$
SELECT p_incident, p_status, (d->>'occurred_on')::date, d#>>'{location,admin1}',
       COALESCE(d#>>'{location,admin2}', ''), d->>'perpetrator', d->>'tactic', d->>'weapon',
       COALESCE(d->>'attribution', 'unknown'),
       COALESCE((SELECT string_agg(m.impact, ',' ORDER BY m.impact COLLATE "C")
                 FROM jsonb_array_elements_text(d->'impacts') AS m(impact)), ''),
       v.outcome, v.sex, v.age_group, v.role, v.n, v.n_below, v.n_above
FROM (
    SELECT g.outcome, g.sex, g.age_group, COALESCE(g.role, 'none') AS role,
           g.count::bigint AS n,
           (g.count - COALESCE(g.count_min, g.count))::bigint AS n_below,
           (COALESCE(g.count_max, g.count) - g.count)::bigint AS n_above
    FROM jsonb_to_recordset(d->'casualties')
         AS g(outcome text, sex text, age_group text, count integer, count_min integer,
              count_max integer, role text)
    UNION ALL
    SELECT 'abducted', a.sex, a.age_group, 'none', a.count::bigint, 0, 0
    FROM jsonb_to_recordset(d->'abducted') AS a(sex text, age_group text, count integer)
) v
WHERE d IS NOT NULL
$$;

-- The incidents revised after t.
CREATE FUNCTION revised_since(t timestamptz)
RETURNS TABLE (incident_id bigint)
LANGUAGE sql STABLE AS $$
SELECT DISTINCT s.incident_id FROM incident_revisions s WHERE s.at > t
$$;

-- What turns today's facts into the facts as of t: for each incident
-- revised after t, its facts at t (from its latest revision at or before
-- t: versions, not moments, order an incident's revisions, as the row
-- lock serialised them; none when it was created after t), and its facts
-- now taken back. Only facts dated lo..hi: a query passes its range, so
-- the incidents it cannot count cost no more than their lookup.
CREATE FUNCTION rollup_facts_changes(t timestamptz, lo date, hi date)
RETURNS SETOF rollup_facts
LANGUAGE sql STABLE AS $$
WITH s AS MATERIALIZED (SELECT incident_id FROM revised_since(t))
SELECT f.*
FROM s
CROSS JOIN LATERAL (
    SELECT p.status, p.document FROM incident_revisions p
    WHERE p.incident_id = s.incident_id AND p.at <= t
    ORDER BY p.version DESC LIMIT 1) r
CROSS JOIN LATERAL revision_facts(s.incident_id, r.status, r.document) f
WHERE f.period BETWEEN lo AND hi
UNION ALL
SELECT f.gset, f.incident_id, f.status, f.period, f.admin1, f.admin2, f.party, f.tactic, f.weapon,
       f.attribution, f.impacts, -f.incidents, -f.killed, -f.injured, -f.k_male_adult,
       -f.k_male_child, -f.k_male_unknown, -f.k_female_adult, -f.k_female_child,
       -f.k_female_unknown, -f.k_unknown_adult, -f.k_unknown_child, -f.k_unknown_unknown,
       -f.i_male_adult, -f.i_male_child, -f.i_male_unknown, -f.i_female_adult,
       -f.i_female_child, -f.i_female_unknown, -f.i_unknown_adult, -f.i_unknown_child,
       -f.i_unknown_unknown, -f.unharmed, -f.abducted, -f.killed_below, -f.killed_above,
       -f.injured_below, -f.injured_above, -f.k_male_adult_below, -f.k_male_child_below,
       -f.k_male_unknown_below, -f.k_female_adult_below, -f.k_female_child_below,
       -f.k_female_unknown_below, -f.k_unknown_adult_below, -f.k_unknown_child_below,
       -f.k_unknown_unknown_below, -f.i_male_adult_below, -f.i_male_child_below,
       -f.i_male_unknown_below, -f.i_female_adult_below, -f.i_female_child_below,
       -f.i_female_unknown_below, -f.i_unknown_adult_below, -f.i_unknown_child_below,
       -f.i_unknown_unknown_below, -f.k_male_adult_above, -f.k_male_child_above,
       -f.k_male_unknown_above, -f.k_female_adult_above, -f.k_female_child_above,
       -f.k_female_unknown_above, -f.k_unknown_adult_above, -f.k_unknown_child_above,
       -f.k_unknown_unknown_above, -f.i_male_adult_above, -f.i_male_child_above,
       -f.i_male_unknown_above, -f.i_female_adult_above, -f.i_female_child_above,
       -f.i_female_unknown_above, -f.i_unknown_adult_above, -f.i_unknown_child_above,
       -f.i_unknown_unknown_above
FROM s
-- One index lookup per incident (OFFSET 0 keeps the planner from joining
-- every incident instead).
CROSS JOIN LATERAL (
    SELECT * FROM rollup_facts x
    WHERE x.incident_id = s.incident_id AND x.period BETWEEN lo AND hi OFFSET 0) f
$$;

-- rollup_facts as of t, for a query of the days lo..hi.
CREATE FUNCTION rollup_facts_as_of(t timestamptz, lo date, hi date)
RETURNS SETOF rollup_facts
LANGUAGE sql STABLE AS $$
SELECT * FROM rollup_facts
UNION ALL
SELECT * FROM rollup_facts_changes(t, lo, hi)
$$;

-- rollup_live as of t, for a query of the cells of periods lo..hi (their
-- days lie within lo..hi + 31): the cells and the journal, and the
-- changes since t expanded to the grouping sets as the journal is.
CREATE FUNCTION rollup_live_as_of(t timestamptz, lo date, hi date)
RETURNS SETOF rollup_live
LANGUAGE sql STABLE AS $$
SELECT * FROM rollup_live
UNION ALL
SELECT g.gset, x.status, rollup_period(g.grain, x.period),
       CASE WHEN g.by_admin1 THEN x.admin1 ELSE '' END,
       CASE WHEN g.by_admin2 THEN x.admin2 ELSE '' END,
       CASE WHEN g.by_party THEN x.party ELSE '' END,
       CASE WHEN g.by_tactic THEN x.tactic ELSE '' END,
       CASE WHEN g.by_weapon THEN x.weapon ELSE '' END,
       CASE WHEN g.by_attribution THEN x.attribution ELSE '' END,
       CASE WHEN g.by_impacts THEN x.impacts ELSE '' END, x.incidents, x.killed, x.injured,
       x.k_male_adult, x.k_male_child, x.k_male_unknown, x.k_female_adult, x.k_female_child,
       x.k_female_unknown, x.k_unknown_adult, x.k_unknown_child, x.k_unknown_unknown,
       x.i_male_adult, x.i_male_child, x.i_male_unknown, x.i_female_adult, x.i_female_child,
       x.i_female_unknown, x.i_unknown_adult, x.i_unknown_child, x.i_unknown_unknown,
       x.unharmed, x.abducted, x.killed_below, x.killed_above, x.injured_below, x.injured_above,
       x.k_male_adult_below, x.k_male_child_below, x.k_male_unknown_below,
       x.k_female_adult_below, x.k_female_child_below, x.k_female_unknown_below,
       x.k_unknown_adult_below, x.k_unknown_child_below, x.k_unknown_unknown_below,
       x.i_male_adult_below, x.i_male_child_below, x.i_male_unknown_below,
       x.i_female_adult_below, x.i_female_child_below, x.i_female_unknown_below,
       x.i_unknown_adult_below, x.i_unknown_child_below, x.i_unknown_unknown_below,
       x.k_male_adult_above, x.k_male_child_above, x.k_male_unknown_above,
       x.k_female_adult_above, x.k_female_child_above, x.k_female_unknown_above,
       x.k_unknown_adult_above, x.k_unknown_child_above, x.k_unknown_unknown_above,
       x.i_male_adult_above, x.i_male_child_above, x.i_male_unknown_above,
       x.i_female_adult_above, x.i_female_child_above, x.i_female_unknown_above,
       x.i_unknown_adult_above, x.i_unknown_child_above, x.i_unknown_unknown_above
FROM rollup_facts_changes(t, lo, hi + 31) x CROSS JOIN rollup_gsets g
$$;

-- rollup_victim_facts as of t, for a query of the days lo..hi: the
-- groups of the incidents not revised since, and those of the others as
-- their documents stood at t.
CREATE FUNCTION rollup_victim_facts_as_of(t timestamptz, lo date, hi date)
RETURNS SETOF rollup_victim_facts
LANGUAGE sql STABLE AS $$
SELECT v.* FROM rollup_victim_facts v
WHERE NOT EXISTS (SELECT 1 FROM incident_revisions r
                  WHERE r.incident_id = v.incident_id AND r.at > t)
UNION ALL
SELECT f.*
FROM revised_since(t) s
CROSS JOIN LATERAL (
    SELECT p.status, p.document FROM incident_revisions p
    WHERE p.incident_id = s.incident_id AND p.at <= t
    ORDER BY p.version DESC LIMIT 1) r
CROSS JOIN LATERAL revision_victim_facts(s.incident_id, r.status, r.document) f
WHERE f.period BETWEEN lo AND hi
$$;

-- One incident's sources, at t or (t NULL) now: what GET
-- /v1/reports/{id}/drift builds a report of, once as the incident stood
-- at publication and once as it stands, to see which cells it moved.
CREATE FUNCTION incident_facts_at(p_incident bigint, t timestamptz)
RETURNS SETOF rollup_facts
LANGUAGE sql STABLE AS $$
SELECT * FROM rollup_facts WHERE incident_id = p_incident AND t IS NULL
UNION ALL
SELECT f.*
FROM (SELECT r.status, r.document FROM incident_revisions r
      WHERE r.incident_id = p_incident AND r.at <= t
      ORDER BY r.version DESC LIMIT 1) s
CROSS JOIN LATERAL revision_facts(p_incident, s.status, s.document) f
$$;

CREATE FUNCTION incident_live_at(p_incident bigint, t timestamptz)
RETURNS SETOF rollup_live
LANGUAGE sql STABLE AS $$
SELECT g.gset, x.status, rollup_period(g.grain, x.period),
       CASE WHEN g.by_admin1 THEN x.admin1 ELSE '' END,
       CASE WHEN g.by_admin2 THEN x.admin2 ELSE '' END,
       CASE WHEN g.by_party THEN x.party ELSE '' END,
       CASE WHEN g.by_tactic THEN x.tactic ELSE '' END,
       CASE WHEN g.by_weapon THEN x.weapon ELSE '' END,
       CASE WHEN g.by_attribution THEN x.attribution ELSE '' END,
       CASE WHEN g.by_impacts THEN x.impacts ELSE '' END, x.incidents, x.killed, x.injured,
       x.k_male_adult, x.k_male_child, x.k_male_unknown, x.k_female_adult, x.k_female_child,
       x.k_female_unknown, x.k_unknown_adult, x.k_unknown_child, x.k_unknown_unknown,
       x.i_male_adult, x.i_male_child, x.i_male_unknown, x.i_female_adult, x.i_female_child,
       x.i_female_unknown, x.i_unknown_adult, x.i_unknown_child, x.i_unknown_unknown,
       x.unharmed, x.abducted, x.killed_below, x.killed_above, x.injured_below, x.injured_above,
       x.k_male_adult_below, x.k_male_child_below, x.k_male_unknown_below,
       x.k_female_adult_below, x.k_female_child_below, x.k_female_unknown_below,
       x.k_unknown_adult_below, x.k_unknown_child_below, x.k_unknown_unknown_below,
       x.i_male_adult_below, x.i_male_child_below, x.i_male_unknown_below,
       x.i_female_adult_below, x.i_female_child_below, x.i_female_unknown_below,
       x.i_unknown_adult_below, x.i_unknown_child_below, x.i_unknown_unknown_below,
       x.k_male_adult_above, x.k_male_child_above, x.k_male_unknown_above,
       x.k_female_adult_above, x.k_female_child_above, x.k_female_unknown_above,
       x.k_unknown_adult_above, x.k_unknown_child_above, x.k_unknown_unknown_above,
       x.i_male_adult_above, x.i_male_child_above, x.i_male_unknown_above,
       x.i_female_adult_above, x.i_female_child_above, x.i_female_unknown_above,
       x.i_unknown_adult_above, x.i_unknown_child_above, x.i_unknown_unknown_above
FROM incident_facts_at(p_incident, t) x CROSS JOIN rollup_gsets g
$$;

CREATE FUNCTION incident_victim_facts_at(p_incident bigint, t timestamptz)
RETURNS SETOF rollup_victim_facts
LANGUAGE sql STABLE AS $$
SELECT * FROM rollup_victim_facts WHERE incident_id = p_incident AND t IS NULL
UNION ALL
SELECT f.*
FROM (SELECT r.status, r.document FROM incident_revisions r
      WHERE r.incident_id = p_incident AND r.at <= t
      ORDER BY r.version DESC LIMIT 1) s
CROSS JOIN LATERAL revision_victim_facts(p_incident, s.status, s.document) f
$$;
