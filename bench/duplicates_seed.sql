-- Seeds duplicates into a database holding bench/generate.sql's incidents,
-- for bench/duplicates.sh. Writes to standard output one JSON line per
-- duplicate to create: {"original": id, "doc": incident document}; the
-- script POSTs each document through the API (so the write path finds its
-- pairs) and records (original, copy) in bench_dup_seeds.
--
-- Usage: psql "$DSN" -X -q -v dups=300 -v seed=1 -f bench/duplicates_seed.sql
--
-- What it changes besides (once per database): generated incidents have no
-- narrative, so one in ten gets one, made of words drawn from a fixed
-- list (random text: unrelated narratives share few trigrams, as real ones
-- of different attacks do), and so does every original chosen here.
--
-- A copy is what another monitor or partner would record of the same
-- attack:
--   date      shifted within the original's precision: up to a day either
--             side when known to the day, a week, or a month
--   place     the same province; the next district of the province (its
--             neighbour in P-code order) for half, the same district for a
--             quarter, no district for a quarter
--   what      the same tactic, weapon, perpetrator and attribution
--   counts    killed and injured each off by -2..2 (at least 0; at least one
--             casualty in all), in two groups of unknown sex and age
--   narrative the original's, reworded: three words in ten replaced
--   sources   one, of type media; no external reference
-- Choices are hashes of (id, a constant per attribute, seed): the same
-- dups and seed give the same copies.

\set ON_ERROR_STOP on

CREATE TABLE IF NOT EXISTS bench_dup_seeds (
    original bigint PRIMARY KEY,
    copy     bigint NOT NULL UNIQUE,
    seed     integer NOT NULL
);

SELECT set_config('bench.seed', :'seed', false) \gset bench_

-- A number in [0, 1) of (id, k, seed).
CREATE FUNCTION pg_temp.u(id bigint, k integer) RETURNS float8
LANGUAGE sql STABLE AS $$
    SELECT ('x' || substr(md5(id::text || ':' || k::text || ':'
                              || current_setting('bench.seed')), 1, 8))::bit(32)::bigint
           / 4294967296.0
$$;

CREATE FUNCTION pg_temp.words() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT string_to_array(
        'market mosque school clinic road bridge village checkpoint convoy bus '
        'truck motorcycle rickshaw farmer shopkeeper student teacher worker driver '
        'elder child woman man family house compound field orchard river canal '
        'bazaar district centre province hill valley morning evening night noon '
        'prayers wedding funeral crowd gathering queue harvest well water bread '
        'fuel wheat livestock shop stall mortar rocket shell grenade mine device '
        'blast explosion fire gunfire clash ambush raid strike drone aircraft '
        'helicopter patrol post base police army fighters gunmen attackers group '
        'witnesses elders doctors nurses hospital ambulance relatives neighbours '
        'shepherd boys girls pupils passengers travellers labourers traders '
        'returning leaving entering near beside behind outside inside along '
        'struck hit exploded fired killed wounded injured burned destroyed damaged '
        'fled gathered waited collected buried reported confirmed claimed denied '
        'early late heavy sudden second third several many few', ' ')
$$;

-- Words of a narrative: 14 to 22 drawn by hash from the list.
CREATE FUNCTION pg_temp.narrative(id bigint) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT string_agg(w[1 + floor(pg_temp.u(id, 100 + i) * array_length(w, 1))::integer], ' '
                      ORDER BY i)
      FROM pg_temp.words() AS w,
           generate_series(1, 14 + floor(pg_temp.u(id, 99) * 9)::integer) AS i
$$;

-- The same narrative as another monitor would write it.
CREATE FUNCTION pg_temp.reworded(id bigint, text text) RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT string_agg(CASE WHEN pg_temp.u(id, 200 + i::integer) < 0.3
                           THEN w[1 + floor(pg_temp.u(id, 300 + i::integer)
                                            * array_length(w, 1))::integer]
                           ELSE word END, ' ' ORDER BY i)
      FROM pg_temp.words() AS w,
           unnest(string_to_array(text, ' ')) WITH ORDINALITY AS t(word, i)
$$;

-- Narratives for one generated incident in ten, once.
UPDATE incidents SET narrative = pg_temp.narrative(id)
 WHERE narrative IS NULL AND pg_temp.u(id, 1) < 0.1
   AND NOT EXISTS (SELECT 1 FROM incidents WHERE narrative IS NOT NULL LIMIT 1);

-- The originals still to copy: reported or verified, harmed someone,
-- neither an original nor a copy already.
CREATE TEMPORARY TABLE originals AS
SELECT i.id FROM incidents i
 WHERE i.status IN ('reported', 'verified') AND i.killed + i.injured > 0
   AND NOT EXISTS (SELECT 1 FROM bench_dup_seeds s WHERE i.id IN (s.original, s.copy))
 ORDER BY md5(i.id::text || ':' || :'seed')
 LIMIT greatest(:dups - (SELECT count(*) FROM bench_dup_seeds), 0);

UPDATE incidents SET narrative = pg_temp.narrative(id)
 WHERE id IN (SELECT id FROM originals) AND narrative IS NULL;

\copy (WITH o AS (SELECT i.*, CASE i.date_precision WHEN 'day' THEN 1 WHEN 'week' THEN 7 ELSE 31 END AS w, (SELECT array_agg(d.pcode ORDER BY d.pcode) FROM admin_areas d WHERE d.parent = i.admin1 AND d.level = 2) AS districts, round(pg_temp.u(i.id, 20) * 4)::integer - 2 AS dk, round(pg_temp.u(i.id, 21) * 4)::integer - 2 AS di FROM incidents i WHERE i.id IN (SELECT id FROM originals)), c AS (SELECT o.*, least(o.occurred_on + (round(pg_temp.u(o.id, 10) * 2 * o.w) - o.w)::integer, current_date) AS on_day, greatest(o.killed + o.dk, 0) AS k, greatest(o.injured + o.di, CASE WHEN o.killed + o.dk <= 0 THEN 1 ELSE 0 END) AS inj, CASE WHEN o.admin2 IS NULL OR pg_temp.u(o.id, 11) >= 0.75 THEN NULL WHEN pg_temp.u(o.id, 11) < 0.5 AND array_length(o.districts, 1) > 1 THEN o.districts[1 + array_position(o.districts, o.admin2) % array_length(o.districts, 1)] ELSE o.admin2 END AS district FROM o) SELECT json_build_object('original', c.id::text, 'doc', json_strip_nulls(json_build_object('occurred_on', c.on_day, 'date_precision', c.date_precision, 'location', json_build_object('admin1', c.admin1, 'admin2', c.district), 'tactic', c.tactic, 'weapon', c.weapon, 'perpetrator', c.perpetrator, 'attribution', c.attribution, 'casualties', (SELECT json_agg(g) FROM (SELECT json_build_object('outcome', 'killed', 'count', c.k) AS g WHERE c.k > 0 UNION ALL SELECT json_build_object('outcome', 'injured', 'count', c.inj) WHERE c.inj > 0) x), 'sources', json_build_array(json_build_object('type', 'media')), 'narrative', pg_temp.reworded(c.id, c.narrative))))::text FROM c ORDER BY c.id) TO STDOUT
