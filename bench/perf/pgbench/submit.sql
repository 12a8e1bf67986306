-- pgbench script of bench/perf/run.sh: the statements civcasd sends for one
-- POST /v1/incidents with an Idempotency-Key, in its order, with its SQL text
-- and in its round trips (server/store/keys.c, store/incidents.c; checked
-- against log_statement=all): the key lookup (which also reads the taxonomy
-- revision), BEGIN and the idempotency claim sent together in one pipeline
-- (db_begin_deferred), the insert (which also writes the rollup journal's
-- row, stmt_insert_counted), then the idempotency record and COMMIT sent
-- together in one pipeline (store_incident_commit_create). Run with
-- -M prepared, as civcasd prepares them.
--
-- Variables: -D key_hash='\x<sha256 of the API key, hex>' -D key_id=<its id>
--   -D ndocs=<rows of perf.pgbench_docs> -D run=<label>
-- perf.pgbench_docs holds documents drawn like bench/post.lua's (made by
-- perftool.py docs): the document, the creation diff, the 201 body, the
-- totals and the counts by outcome x sex x age group, as civcasd would pass
-- them.
--
-- Differences from civcasd, both against pgbench:
-- * the first SELECT (a primary-key read of a document, a sequence and a
--   sha256 of ~700 bytes) is pgbench's stand-in for what civcasd does in C
--   (parse, validate, hash the body); it costs one extra round trip.
-- * to_char's 'HH24:MI:SS' is written 'HH24":"MI":"SS' (the same output):
--   pgbench would read ":MI" as a variable.
-- civcasd's once-a-second taxonomy revision check is left out.

\set n random(1, :ndocs)
\set r random(1, 2147483647)
SELECT doc, changes, response, killed, injured, source_types, categories,
       'pgbench-' || :run::text || '-' || :client_id::text || '-'
         || nextval('perf.idem_seq')::text || '-' || :r::text AS idem,
       '\x' || encode(sha256(convert_to(:r::text || doc, 'UTF8')), 'hex') AS request_hash
  FROM perf.pgbench_docs WHERE n = :n::int \gset
SELECT id, role, name, COALESCE((SELECT revision FROM taxonomy_meta), 0)
 FROM api_keys WHERE key_hash = :key_hash::bytea AND revoked_at IS NULL;
\startpipeline
BEGIN;
INSERT INTO idempotency_keys (key_id, idem_key, request_hash)
 VALUES (:key_id::bigint, :idem, :request_hash::bytea)
 ON CONFLICT (key_id, idem_key) DO UPDATE SET request_hash = EXCLUDED.request_hash,
  incident_id = NULL, response = NULL, created_at = now()
  WHERE idempotency_keys.created_at < now() - interval '30 days'
 RETURNING 1;
\endpipeline
WITH d AS (SELECT :doc::jsonb AS doc),
inc AS (INSERT INTO incidents (occurred_on, date_precision, time_of_day, admin1, admin2,
  place, lat, lon, location_precision, tactic, weapon, perpetrator, narrative,
  external_ref, killed, injured, source_types, created_by)
 SELECT (doc->>'occurred_on')::date, doc->>'date_precision', (doc->>'time_of_day')::time,
  doc#>>'{location,admin1}', doc#>>'{location,admin2}', doc#>>'{location,place}',
  (doc#>>'{location,lat}')::float8, (doc#>>'{location,lon}')::float8,
  doc#>>'{location,precision}', doc->>'tactic', doc->>'weapon', doc->>'perpetrator',
  doc->>'narrative', doc->>'external_ref', :killed::int, :injured::int, :source_types::int,
  :key_id::bigint FROM d
 RETURNING id, version, status, created_at, updated_at),
cg AS (INSERT INTO casualty_groups (incident_id, ordinal, outcome, sex, age_group, count)
  SELECT inc.id, c.ord - 1, c.v->>'outcome', c.v->>'sex', c.v->>'age_group',
   (c.v->>'count')::int
  FROM inc, d, jsonb_array_elements(d.doc->'casualties') WITH ORDINALITY AS c(v, ord)),
cp AS (INSERT INTO casualty_personal (incident_id, ordinal, name, age)
  SELECT inc.id, c.ord - 1, c.v->>'name', (c.v->>'age')::smallint
  FROM inc, d, jsonb_array_elements(d.doc->'casualties') WITH ORDINALITY AS c(v, ord)
  WHERE c.v->>'name' IS NOT NULL OR c.v->>'age' IS NOT NULL),
src AS (INSERT INTO incident_sources (incident_id, ordinal, type, reference)
  SELECT inc.id, s.ord - 1, s.v->>'type', s.v->>'reference'
  FROM inc, d, jsonb_array_elements(d.doc->'sources') WITH ORDINALITY AS s(v, ord)),
rev AS (INSERT INTO incident_revisions (incident_id, version, status, key_id, reason,
  changes, document, at)
 SELECT inc.id, 1, inc.status, :key_id::bigint, NULL, :changes::jsonb, d.doc, inc.created_at
 FROM inc, d),
jr AS (INSERT INTO rollup_journal SELECT inc.status, (doc->>'occurred_on')::date,
  doc#>>'{location,admin1}', COALESCE(doc#>>'{location,admin2}', ''),
  doc->>'perpetrator', doc->>'tactic', doc->>'weapon', 1, :killed::int, :injured::int,
  a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9],
  a[10], a[11], a[12], a[13], a[14], a[15], a[16], a[17], a[18]
  FROM inc, d, (SELECT :categories::int[] AS a) x)
SELECT id, version, status,
 to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"'),
 to_char(updated_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24":"MI":"SS.US"Z"')
 FROM inc \gset inc_
\startpipeline
UPDATE idempotency_keys SET incident_id = :inc_id::bigint, response = :response
 WHERE key_id = :key_id::bigint AND idem_key = :idem;
COMMIT;
\endpipeline
