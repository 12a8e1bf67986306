-- A history for the benchmark's incidents: three revisions each, as the
-- write path would have left them (bench/as_of.sh). Run once on a database
-- that bench/generate.sql filled and that has no revisions yet.
--
-- Incident i was reported at a moment spread evenly over the 730 days
-- before :'anchor' less 30 (version 1, its first casualty group one more
-- than now: a count amended later), verified two days after (version 2,
-- status as now, the same document) and amended 30 days after (version 3,
-- the document as it stands). So the cells are already right, and about
-- 4,100 revisions fall on each day, the last of them at :'anchor'.
\set ON_ERROR_STOP on
SET synchronous_commit = off;
BEGIN;

CREATE TEMPORARY TABLE bench_docs ON COMMIT DROP AS
SELECT i.id, i.status, i.created_by,
       timestamptz :'anchor' - interval '730 days'
         + (i.id - 1) * (interval '700 days' / (SELECT max(id) FROM incidents)) AS at1,
       jsonb_strip_nulls(jsonb_build_object(
         'occurred_on', i.occurred_on, 'date_precision', i.date_precision,
         'location', jsonb_build_object('admin1', i.admin1, 'admin2', i.admin2),
         'tactic', i.tactic, 'weapon', i.weapon, 'perpetrator', i.perpetrator,
         'attribution', i.attribution,
         'impacts', (SELECT jsonb_agg(m.impact ORDER BY m.impact) FROM incident_impacts m
                     WHERE m.incident_id = i.id),
         'casualties', (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object(
                          'outcome', g.outcome, 'sex', g.sex, 'age_group', g.age_group,
                          'count', g.count, 'count_min', g.count_min,
                          'count_max', g.count_max, 'role', g.role)) ORDER BY g.ordinal)
                        FROM casualty_groups g WHERE g.incident_id = i.id),
         'abducted', (SELECT jsonb_agg(jsonb_build_object('sex', a.sex, 'age_group',
                        a.age_group, 'count', a.count)) FROM incident_abductions a
                      WHERE a.incident_id = i.id),
         'sources', jsonb_build_array(jsonb_build_object('type', 'witness')),
         'narrative', 'A generated account of the incident, as long as a short'
                      ' paragraph of a monitor''s report usually is.')) AS doc
FROM incidents i;

-- The document before its count was amended.
ALTER TABLE bench_docs ADD doc0 jsonb;
UPDATE bench_docs SET doc0 = CASE WHEN doc ? 'casualties'
    THEN jsonb_set(doc, '{casualties,0,count}', to_jsonb((doc #>> '{casualties,0,count}')::int + 1))
    ELSE doc END;

INSERT INTO incident_revisions (incident_id, version, status, key_id, at, reason, changes, document)
SELECT id, 1, 'reported', created_by, at1, NULL, '{}'::jsonb, doc0 FROM bench_docs
UNION ALL
SELECT id, 2, status, created_by, at1 + interval '2 days', 'verified by the bench', '{}'::jsonb, doc0
FROM bench_docs
UNION ALL
SELECT id, 3, status, created_by, at1 + interval '30 days', 'count amended by the bench',
       '{}'::jsonb, doc
FROM bench_docs;
COMMIT;
