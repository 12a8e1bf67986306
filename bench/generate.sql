-- Bulk-loads a synthetic, deterministic incident history for the benchmarks.
--
-- Usage (after `civcasd migrate` and `civcasd taxonomy load`):
--   psql "$DSN" -X -v n=1000000 -v seed=1 -f bench/generate.sql
-- Variables (all optional):
--   n           incidents to add (default 1000000)
--   seed        changes every random choice (default 1)
--   sources     1 writes 1-4 incident_sources rows per incident, 0 none
--               (default 1)
--   created_by  api_keys.id recorded as the creator (default: the lowest id
--               of an unrevoked key; there must be one)
--
-- What it writes, in one transaction, one INSERT ... SELECT per table:
--   incidents           n rows over the 5 whole years 2021-01-01..2025-12-31,
--                       ids in (roughly) date order as a live system enters
--                       them, each with an attribution basis
--   casualty_groups     1-5 groups per incident (2.96 on average over all
--                       incidents: the incidents of impacts only have none),
--                       some with a low/high range or a victims' role
--   incident_impacts    1-2 impacts on 15% of incidents
--   incident_abductions 1-3 groups (distinct sex x age group) on every
--                       incident whose tactic is flagged "abduction"
--   incident_sources    1-4 rows per incident, distinct types (optional)
-- (plus an UPDATE of the few first rows whose duplicate_of would point
-- before the batch). incident_revisions, casualty_personal and
-- idempotency_keys stay empty, and no rollup table is touched: `civcasd
-- rollup rebuild` fills those. incidents.killed and .injured are the sums
-- of the incident's groups (0 and 0 for an incident of impacts only).
--
-- Speed: nothing is dropped or re-created. A superuser session skips the
-- foreign-key triggers (session_replication_role = replica) and checks every
-- reference set-wise before COMMIT instead; 1,000,000 incidents take about
-- 45 s on 2 cores, VACUUM ANALYZE included.
--
-- Determinism: every choice is a hash of (incident id, a constant per
-- attribute, seed) rather than random() after setseed(). random() gives the
-- same stream only if rows are produced in the same order, and the incident
-- totals (killed, injured, source_types) must agree with child rows written
-- by other statements; a hash of the id gives every statement the same answer
-- whatever the plan. Same n, seed and taxonomy => identical rows.
--
-- Distributions (synthetic but shaped like the field):
--   date      year weights 2021..2025 = 1.4 0.8 0.9 1.0 1.1, a summer
--             fighting-season peak (Jan 0.6 .. Jun-Aug 1.3), 25% of
--             incidents back-dated 0-44 days (reported late)
--   place     provinces weighted (Kandahar, Helmand, Nangarhar, Kabul ...
--             heaviest), a district of the province for 70%
--   party     16 parties, 20% `unknown`, 14% undetermined AGE, 6% ERW
--             unattributed; tactic and weapon follow the party and tactic
--             (air force -> aerial operations, ERW -> erw / UXO, ...)
--   victims   outcome 36% killed; sex 58% male, 22% female, 20% unknown;
--             age 62% adult, 30% child, 8% unknown; count 1 + a geometric
--             tail, 0.5% of groups 10-199 (mass-casualty attacks)
--   status    85% verified, 8% reported, 4% rejected, 1% duplicate,
--             2% retracted; verified incidents have 3-4 source types (10%
--             fewer, with verification_override)
--   attribution every incident, by party: Taliban and ISIL-KP mostly
--             claimed, the named PGF and international forces acknowledged
--             for a fifth, an unknown party unknown (85%) or alleged, and
--             unknown common for every party; overall about unknown 37%,
--             determined 34%, alleged 12%, claimed 11%, acknowledged 6%
--   impacts   15% of incidents, one impact (education 30%, health care
--             24%, place of worship, humanitarian 10% each, election,
--             civilian government 7%, media 6%, cultural property,
--             detention 3%) and for a quarter of them a second; a fifth of
--             them (3% of all incidents) harmed no one: no casualty group,
--             killed = injured = 0
--   ranges    30% of casualty groups, the larger ones more often (20% of
--             groups of one person, 40% of 2-9, 70% of 10 or more); a
--             group of one gets count_max only, a larger one both (60%),
--             count_max only (30%) or count_min only (10%); count_min
--             from 60% of the count to the count - 1 (at least 1),
--             count_max the count + 1 + up to 60% more (at most 10,000).
--             Sums over all groups: low 92%, high 129% of the count
--   roles     10% of casualty groups: half the groups of an incident with
--             impacts take the role its first impact implies (education:
--             teacher, student, child in school; health care: health
--             worker; media: journalist; ...; children only with
--             education), 6% of the others a role of any kind (children:
--             child in school or student)
--   abducted  every incident of an abduction tactic (about 2.3% of all):
--             1-3 groups (adult men first), 1 + a geometric tail each, 2%
--             of groups 10-50; these incidents keep their casualty groups

\set ON_ERROR_STOP on
\if :{?n}
\else
\set n 1000000
\endif
\if :{?seed}
\else
\set seed 1
\endif
\if :{?sources}
\else
\set sources 1
\endif
\if :{?created_by}
\else
SELECT coalesce(min(id)::text, '') AS created_by FROM api_keys WHERE revoked_at IS NULL \gset
\endif

SELECT :'created_by' <> '' AND EXISTS (SELECT 1 FROM api_keys WHERE id::text = :'created_by')
    AS ok_key,
       EXISTS (SELECT 1 FROM admin_areas WHERE level = 1) AS ok_taxonomy,
       coalesce(max(id), 0) AS base
  FROM incidents \gset
\if :ok_key
\else
DO $$ BEGIN RAISE EXCEPTION 'generate.sql: no api_keys row for created_by: run civcasd keys create'; END $$;
\endif
\if :ok_taxonomy
\else
DO $$ BEGIN RAISE EXCEPTION 'generate.sql: no admin areas: run civcasd taxonomy load'; END $$;
\endif
\echo generate.sql: adding :n incidents after id :base (seed :seed, created_by :created_by)

-- Helpers live in pg_temp: the session's own schema, gone when it ends, so
-- the database schema is exactly what the migrations made.

-- u(x, salt): a uniform double in [0, 1), a pure function of x, salt, seed.
SELECT format($f$
CREATE FUNCTION pg_temp.u(x bigint, salt integer) RETURNS float8
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS 'SELECT ((hashint8extended(x, %s::bigint * 1000 + salt) >> 11)
            & 9007199254740991)::float8 / 9007199254740992.0'
$f$, :'seed'::bigint) \gexec

-- cum(w): the lower bound of each weight's slice of [0, 1), for
-- width_bucket(). Immutable, so a call with a constant array is folded to a
-- constant once when the statement is planned.
CREATE FUNCTION pg_temp.cum(w float8[]) RETURNS float8[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_agg(lo ORDER BY i)
      FROM (SELECT i, (sum(x) OVER (ORDER BY i) - x) / sum(x) OVER () AS lo
              FROM unnest(w) WITH ORDINALITY AS t(x, i)) s
$$;

-- pick(codes, weights, r): the code whose slice of [0, 1) holds r.
CREATE FUNCTION pg_temp.pick(codes text[], w float8[], r float8) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT codes[width_bucket(r, pg_temp.cum(w))]
$$;

CREATE FUNCTION pg_temp.status_of(id bigint) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_temp.pick('{verified,reported,rejected,duplicate,retracted}',
                        '{85,8,4,1,2}', pg_temp.u(id, 1))
$$;

-- Distinct source types of the incident (= its incident_sources rows).
CREATE FUNCTION pg_temp.n_sources(id bigint) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN pg_temp.status_of(id) = 'verified'
                THEN pg_temp.pick('{3,4,2,1}', '{60,30,7,3}', pg_temp.u(id, 2))
                ELSE pg_temp.pick('{1,2,3}', '{40,40,20}', pg_temp.u(id, 2))
           END::integer
$$;

-- Impacts: 15% of incidents have some (has_impacts); the first fifth of
-- those, 3% of all, have nothing else (impacts_only: no casualty group).
CREATE FUNCTION pg_temp.has_impacts(id bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_temp.u(id, 40) < 0.15
$$;

CREATE FUNCTION pg_temp.impacts_only(id bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_temp.u(id, 40) < 0.03
$$;

-- impact(id, k): the incident's first (k = 0) or second (k = 1) impact; the
-- second is recorded for 30% of incidents with impacts, when it differs.
CREATE FUNCTION pg_temp.impact(id bigint, k integer) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT pg_temp.pick('{education,health_care,place_of_worship,humanitarian,media,election,cultural_property,civilian_government,detention}',
                        '{30,24,10,10,6,7,3,7,3}', pg_temp.u(id, 41 + k))
$$;

-- A victims' role of any kind (for groups outside the roles an impact
-- implies).
CREATE FUNCTION pg_temp.any_role(age_group text, r float8) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN age_group = 'child'
                THEN pg_temp.pick('{child_in_school,student}', '{70,30}', r)
                ELSE pg_temp.pick('{tribal_elder,government_employee,religious_figure,human_rights_defender,teacher,health_worker,journalist,humanitarian_worker,election_worker}',
                                  '{24,24,14,8,8,7,6,5,4}', r)
           END
$$;

-- The role an incident's impact implies for its victims (children: only
-- with education).
CREATE FUNCTION pg_temp.impact_role(impact text, age_group text, r float8) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN impact = 'education' THEN
                    CASE WHEN age_group = 'child'
                         THEN pg_temp.pick('{child_in_school,student}', '{60,40}', r)
                         ELSE pg_temp.pick('{teacher,student}', '{60,40}', r) END
                WHEN age_group = 'child' THEN NULL
                WHEN impact = 'health_care' THEN 'health_worker'
                WHEN impact = 'humanitarian' THEN 'humanitarian_worker'
                WHEN impact = 'media' THEN 'journalist'
                WHEN impact = 'election' THEN 'election_worker'
                WHEN impact = 'place_of_worship' THEN 'religious_figure'
                WHEN impact = 'civilian_government' THEN 'government_employee'
                ELSE pg_temp.any_role(age_group, r)
           END
$$;

-- The attribution basis, by the kind of party: Taliban and ISIL-KP claim,
-- the named Pro-Government Forces acknowledge, an unknown party is at best
-- alleged. One row of weights per kind, over the codes claimed,
-- acknowledged, determined, alleged, unknown; each cum() of a constant is
-- folded once when the statement is planned. `party` is used once, so the
-- call is inlined (a SQL function whose argument appears twice is called,
-- not inlined, when the argument costs much: here the pick() of the party).
CREATE FUNCTION pg_temp.attribution_of(id bigint, party text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ('{claimed,acknowledged,determined,alleged,unknown}'::text[])[
           width_bucket(pg_temp.u(id, 19), CASE CASE party
                WHEN 'taliban' THEN 'age'
                WHEN 'isil_kp' THEN 'age'
                WHEN 'undetermined_age' THEN 'age_undetermined'
                WHEN 'undetermined_pgf' THEN 'pgf_undetermined'
                WHEN 'multiple_pgf' THEN 'pgf_undetermined'
                WHEN 'crossfire_age_pgf' THEN 'crossfire'
                WHEN 'erw_unattributed' THEN 'erw'
                WHEN 'cross_border' THEN 'cross_border'
                WHEN 'unknown' THEN 'unknown'
                ELSE 'pgf' END
           WHEN 'age'              THEN pg_temp.cum('{44, 0,28,10,18}')
           WHEN 'age_undetermined' THEN pg_temp.cum('{ 0, 0,55,10,35}')
           WHEN 'pgf'              THEN pg_temp.cum('{ 2,22,46,12,18}')
           WHEN 'pgf_undetermined' THEN pg_temp.cum('{ 0, 5,40,15,40}')
           WHEN 'crossfire'        THEN pg_temp.cum('{ 3, 3,50,14,30}')
           WHEN 'erw'              THEN pg_temp.cum('{ 0, 0,60, 0,40}')
           WHEN 'cross_border'     THEN pg_temp.cum('{ 5, 5,35,25,30}')
           ELSE                         pg_temp.cum('{ 0, 0, 0,15,85}')
           END)]
$$;

-- The casualty groups of incident `id` (none for an incident of impacts
-- only). The counts are computed once per group in a subquery kept apart
-- (OFFSET 0): pulled up, every reference to `count` below would hash again.
CREATE FUNCTION pg_temp.groups(id bigint)
RETURNS TABLE (ordinal smallint, outcome text, sex text, age_group text, count integer,
               count_min integer, count_max integer, role text)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT k::smallint, g.outcome, g.sex, g.age_group, g.count,
           CASE WHEN g.ranged < p.p_ranged AND g.count > 1 AND g.kind < 0.7
                THEN greatest(1, g.count - 1
                                 - floor(pg_temp.u(g.x, 28) * g.count * 0.4)::integer) END,
           CASE WHEN g.ranged < p.p_ranged AND (g.count = 1 OR g.kind >= 0.1)
                THEN least(10000, g.count + 1
                                  + floor(pg_temp.u(g.x, 29) * (g.count * 0.6 + 2))::integer) END,
           CASE WHEN pg_temp.has_impacts(id) THEN
                    CASE WHEN pg_temp.u(g.x, 34) < 0.5
                         THEN pg_temp.impact_role(pg_temp.impact(id, 0), g.age_group,
                                                  pg_temp.u(g.x, 35)) END
                WHEN pg_temp.u(g.x, 34) < 0.06
                THEN pg_temp.any_role(g.age_group, pg_temp.u(g.x, 35))
           END
      FROM generate_series(0, CASE WHEN pg_temp.impacts_only(id) THEN 0
                                   ELSE pg_temp.pick('{1,2,3,4,5}', '{10,25,30,20,15}',
                                                     pg_temp.u(id, 20))::integer
                              END - 1) AS k,
           LATERAL (SELECT id * 8 + k AS x,
                           CASE WHEN pg_temp.u(id * 8 + k, 21) < 0.36 THEN 'killed' ELSE 'injured' END AS outcome,
                           pg_temp.pick('{male,female,unknown}', '{58,22,20}', pg_temp.u(id * 8 + k, 22)) AS sex,
                           pg_temp.pick('{adult,child,unknown}', '{62,30,8}', pg_temp.u(id * 8 + k, 23)) AS age_group,
                           CASE WHEN pg_temp.u(id * 8 + k, 24) < 0.005
                                THEN 10 + floor(pg_temp.u(id * 8 + k, 25) * 190)
                                ELSE 1 + floor(-ln(1 - pg_temp.u(id * 8 + k, 25)) * 1.3)
                           END::integer AS count,
                           pg_temp.u(id * 8 + k, 26) AS ranged,
                           pg_temp.u(id * 8 + k, 27) AS kind
                    OFFSET 0) AS g,
           LATERAL (SELECT CASE WHEN g.count = 1 THEN 0.2 WHEN g.count < 10 THEN 0.4
                                ELSE 0.7 END AS p_ranged) AS p
$$;

-- Persons abducted in incident `id` (its tactic an abduction): 1-3 groups
-- of distinct sex x age group, consecutive in the list below from a first
-- one picked by weight.
CREATE FUNCTION pg_temp.abducted(id bigint)
RETURNS TABLE (sex text, age_group text, count integer)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ('{male,male,female,female,unknown,unknown,male,female,unknown}'::text[])[1 + (f.first + k) % 9],
           ('{adult,child,adult,child,adult,child,unknown,unknown,unknown}'::text[])[1 + (f.first + k) % 9],
           CASE WHEN pg_temp.u(id * 8 + k, 52) < 0.02
                THEN 10 + floor(pg_temp.u(id * 8 + k, 53) * 41)
                ELSE 1 + floor(-ln(1 - pg_temp.u(id * 8 + k, 53)) * 1.5)
           END::integer
      FROM (SELECT pg_temp.pick('{0,1,2,3,4,5,6,7,8}', '{50,15,10,5,3,2,5,2,8}',
                                pg_temp.u(id, 50))::integer AS first) AS f,
           generate_series(0, pg_temp.pick('{1,2,3}', '{60,30,10}', pg_temp.u(id, 51))::integer - 1) AS k
$$;

-- Bulk-load settings: JIT would spend seconds compiling these
-- expression-heavy plans; the checks of the foreign keys (eight per incident,
-- one or two per child row) cost more than the inserts, so a superuser skips
-- those triggers (session_replication_role = replica, as pg_restore
-- --disable-triggers does) and checks every reference set-wise below, before
-- COMMIT. This also keeps any trigger-maintained rollup out of the load:
-- `civcasd rollup rebuild` fills it afterwards.
SET jit = off;
SET work_mem = '256MB';
SET maintenance_work_mem = '512MB';
SELECT rolsuper AS superuser FROM pg_roles WHERE rolname = current_user \gset
\if :superuser
SET session_replication_role = replica;
\endif

BEGIN;
\timing on
\echo -- incidents

-- Incidents. g runs 1..n; ids are base + g and the date grows with g (a
-- piecewise-linear inverse of the month weights), so ids follow dates the
-- way a live system's do, except for the late reports.
INSERT INTO incidents
    (id, version, status, duplicate_of, verification_override, occurred_on,
     date_precision, time_of_day, admin1, admin2, place, location_precision,
     tactic, weapon, perpetrator, attribution, narrative, external_ref, killed,
     injured, source_types, created_by, created_at, updated_at)
OVERRIDING SYSTEM VALUE
WITH months AS (
    SELECT k, (date '2021-01-01' + make_interval(months => k))::date AS first,
           ((date '2021-01-01' + make_interval(months => k + 1))::date
            - (date '2021-01-01' + make_interval(months => k))::date) AS days,
           ('{1.4,0.8,0.9,1.0,1.1}'::float8[])[k / 12 + 1]
           * ('{0.6,0.6,0.8,1.0,1.2,1.3,1.3,1.3,1.1,1.0,0.8,0.7}'::float8[])[k % 12 + 1] AS w
      FROM generate_series(0, 59) AS k
), calendar AS (
    SELECT array_agg(first ORDER BY k) AS first, array_agg(days ORDER BY k) AS days,
           array_agg(w / total ORDER BY k) AS share,
           pg_temp.cum(array_agg(w ORDER BY k)) AS lo
      FROM months, (SELECT sum(w) AS total FROM months) t
), weights (pcode, w) AS (VALUES
    ('AF27', 8), ('AF30', 8), ('AF06', 8), ('AF01', 7), ('AF11', 5),
    ('AF19', 4), ('AF29', 4), ('AF15', 4), ('AF13', 3), ('AF12', 3),
    ('AF25', 3), ('AF09', 3), ('AF21', 3), ('AF32', 3), ('AF04', 3),
    ('AF05', 3), ('AF07', 3), ('AF26', 2), ('AF18', 2), ('AF33', 2),
    ('AF31', 2), ('AF14', 2)
), provinces AS (
    SELECT a.pcode,
           coalesce(w.w, 1)::float8 AS w,
           (SELECT count(*) FROM admin_areas d
             WHERE d.parent = a.pcode AND d.level = 2)::integer AS n_districts,
           (SELECT count(*) FROM admin_areas d, admin_areas p
             WHERE d.level = 2 AND d.parent = p.pcode AND p.level = 1
               AND p.pcode < a.pcode)::integer AS district_offset
      FROM admin_areas a LEFT JOIN weights w USING (pcode)
     WHERE a.level = 1
), gazetteer AS (
    SELECT array_agg(pcode ORDER BY pcode) AS code,
           array_agg(n_districts ORDER BY pcode) AS n_districts,
           array_agg(district_offset ORDER BY pcode) AS district_offset,
           pg_temp.cum(array_agg(w ORDER BY pcode)) AS lo,
           (SELECT array_agg(d.pcode ORDER BY p.pcode, d.pcode)
              FROM admin_areas d JOIN admin_areas p ON d.parent = p.pcode
             WHERE d.level = 2 AND p.level = 1) AS districts
      FROM provinces
)
SELECT id,
       CASE WHEN status = 'reported' THEN 1 ELSE 2 END,
       status,
       CASE WHEN status = 'duplicate' THEN id - 1 - floor(pg_temp.u(id, 3) * 10)::integer END,
       status = 'verified' AND (n_sources < 3 OR :sources = 0),
       occurred_on,
       pg_temp.pick('{day,week,month}', '{92,5,3}', pg_temp.u(id, 4)),
       CASE WHEN pg_temp.u(id, 5) < 0.6
            THEN make_time(floor(pg_temp.u(id, 6) * 24)::integer,
                           floor(pg_temp.u(id, 7) * 60)::integer, 0) END,
       admin1, admin2,
       CASE WHEN pg_temp.u(id, 8) < 0.3 THEN 'village ' || (id % 997) END,
       CASE WHEN admin2 IS NULL THEN 'admin1' ELSE 'admin2' END,
       tactic, weapon, perpetrator, pg_temp.attribution_of(id, perpetrator),
       NULL,
       CASE WHEN pg_temp.u(id, 9) < 0.5 THEN 'BENCH-' || id END,
       killed, injured, CASE WHEN :sources = 1 THEN n_sources ELSE 0 END, :created_by,
       created_at, created_at + CASE WHEN status = 'reported' THEN interval '0'
                                     ELSE interval '3 days' END
  FROM calendar, gazetteer,
       generate_series(1, :n) AS g,
       LATERAL (SELECT :base + g AS id,
                       ((g - 0.5) / :n)::float8 AS t) AS a,
       LATERAL (SELECT width_bucket(t, calendar.lo) AS m) AS b,
       LATERAL (SELECT pg_temp.status_of(id) AS status,
                       pg_temp.n_sources(id) AS n_sources,
                       greatest(date '2021-01-01',
                                calendar.first[m]
                                + floor((t - calendar.lo[m]) / calendar.share[m]
                                        * calendar.days[m])::integer
                                - CASE WHEN pg_temp.u(id, 10) < 0.25
                                       THEN floor(pg_temp.u(id, 11) * 45)::integer
                                       ELSE 0 END) AS occurred_on,
                       width_bucket(pg_temp.u(id, 12), gazetteer.lo) AS p,
                       pg_temp.pick('{taliban,isil_kp,undetermined_age,ansf_army,ansf_police,ansf_nds,ansf_alp,ansf_air_force,pro_government_armed_groups,international_forces,undetermined_pgf,multiple_pgf,crossfire_age_pgf,erw_unattributed,cross_border,unknown}',
                                    '{18,6,14,6,4,2,2,4,2,3,2,1,8,6,2,20}',
                                    pg_temp.u(id, 13)) AS perpetrator) AS c,
       LATERAL (SELECT gazetteer.code[p] AS admin1,
                       CASE WHEN gazetteer.n_districts[p] > 0 AND pg_temp.u(id, 14) < 0.7
                            THEN gazetteer.districts[gazetteer.district_offset[p] + 1
                                 + floor(pg_temp.u(id, 15) * gazetteer.n_districts[p])::integer]
                       END AS admin2,
                       CASE perpetrator
                       WHEN 'erw_unattributed' THEN 'erw'
                       WHEN 'cross_border' THEN 'cross_border_shelling'
                       WHEN 'crossfire_age_pgf' THEN 'ground_engagement'
                       WHEN 'ansf_air_force' THEN
                           pg_temp.pick('{aerial_operation,escalation_of_force,other}',
                                        '{85,5,10}', pg_temp.u(id, 16))
                       WHEN 'international_forces' THEN
                           pg_temp.pick('{aerial_operation,search_operation,escalation_of_force}',
                                        '{60,25,15}', pg_temp.u(id, 16))
                       ELSE pg_temp.pick('{ground_engagement,ied_non_suicide,ied_suicide,targeted_killing,aerial_operation,erw,search_operation,escalation_of_force,abduction,summary_execution,cross_border_shelling,other}',
                                         '{30,22,6,14,3,6,4,3,3,2,2,5}', pg_temp.u(id, 16))
                       END AS tactic,
                       ((occurred_on + 1)::timestamp
                        + make_interval(secs => pg_temp.u(id, 17) * 20 * 86400))
                       AT TIME ZONE 'UTC' AS created_at) AS d,
       LATERAL (SELECT CASE tactic
                       WHEN 'ground_engagement' THEN
                           pg_temp.pick('{small_arms,heavy_explosive,unknown}', '{55,40,5}', pg_temp.u(id, 18))
                       WHEN 'ied_non_suicide' THEN
                           pg_temp.pick('{planted_explosive_uxo,heavy_explosive,unknown}', '{90,5,5}', pg_temp.u(id, 18))
                       WHEN 'ied_suicide' THEN
                           pg_temp.pick('{heavy_explosive,planted_explosive_uxo,unknown}', '{80,15,5}', pg_temp.u(id, 18))
                       WHEN 'targeted_killing' THEN
                           pg_temp.pick('{small_arms,planted_explosive_uxo,other,unknown}', '{70,20,5,5}', pg_temp.u(id, 18))
                       WHEN 'erw' THEN 'planted_explosive_uxo'
                       WHEN 'abduction' THEN
                           pg_temp.pick('{small_arms,other,unknown}', '{50,30,20}', pg_temp.u(id, 18))
                       WHEN 'other' THEN
                           pg_temp.pick('{incendiary,cbrn,electromagnetic,less_lethal,denial_of_objects,conflict_accident,other,unknown}',
                                        '{15,1,2,15,10,25,12,20}', pg_temp.u(id, 18))
                       ELSE CASE WHEN tactic IN ('aerial_operation', 'cross_border_shelling')
                                 THEN pg_temp.pick('{heavy_explosive,unknown}', '{95,5}', pg_temp.u(id, 18))
                                 ELSE pg_temp.pick('{small_arms,less_lethal,unknown}', '{85,5,10}', pg_temp.u(id, 18))
                            END
                       END AS weapon) AS e,
       LATERAL (SELECT coalesce(sum(cg.count) FILTER (WHERE cg.outcome = 'killed'), 0)::integer AS killed,
                       coalesce(sum(cg.count) FILTER (WHERE cg.outcome = 'injured'), 0)::integer AS injured
                  FROM pg_temp.groups(id) AS cg) AS f;

-- A duplicate must point at an incident of this batch.
\echo -- duplicates inside the batch
UPDATE incidents SET status = 'reported', version = 1, duplicate_of = NULL,
                     updated_at = created_at
 WHERE id > :base AND duplicate_of <= :base;

\echo -- casualty_groups
INSERT INTO casualty_groups (incident_id, ordinal, outcome, sex, age_group, count,
                             count_min, count_max, role)
SELECT id, cg.ordinal, cg.outcome, cg.sex, cg.age_group, cg.count,
       cg.count_min, cg.count_max, cg.role
  FROM generate_series(:base + 1, :base + :n) AS id, pg_temp.groups(id) AS cg;

\echo -- incident_impacts
INSERT INTO incident_impacts (incident_id, impact)
SELECT id, m.impact
  FROM generate_series(:base + 1, :base + :n) AS id,
       LATERAL (SELECT pg_temp.impact(id, 0) AS impact
                UNION ALL
                SELECT pg_temp.impact(id, 1)
                 WHERE pg_temp.u(id, 43) < 0.3
                   AND pg_temp.impact(id, 1) <> pg_temp.impact(id, 0)) AS m
 WHERE pg_temp.has_impacts(id);

-- The tactic was picked in the incidents' INSERT: read it back, with the
-- taxonomy's flag.
\echo -- incident_abductions
INSERT INTO incident_abductions (incident_id, sex, age_group, count)
SELECT i.id, a.sex, a.age_group, a.count
  FROM incidents i, pg_temp.abducted(i.id) AS a
 WHERE i.id > :base
   AND i.tactic IN (SELECT code FROM tactics WHERE abduction);

-- Types (s0 + k * step) mod 9 with a step prime to 9 are all distinct, so
-- the rows carry exactly n_sources(id) distinct types.
\echo -- incident_sources
INSERT INTO incident_sources (incident_id, ordinal, type, reference)
SELECT id, k, t.codes[1 + (s0 + k * step) % array_length(t.codes, 1)], NULL
  FROM (SELECT array_agg(code ORDER BY sort, code) AS codes FROM source_types) AS t,
       generate_series(:base + 1, :base + :n) AS id,
       LATERAL (SELECT floor(pg_temp.u(id, 30) * 9)::integer AS s0,
                       ('{1,2,4,5,7,8}'::integer[])[1 + floor(pg_temp.u(id, 31) * 6)::integer] AS step) AS s,
       generate_series(0, pg_temp.n_sources(id) - 1) AS k
 WHERE :sources = 1;

\timing off
SELECT setval(pg_get_serial_sequence('incidents', 'id'), max(id)) AS last_id FROM incidents \gset

-- The references the skipped triggers would have checked (and admin2 inside
-- admin1, which the API checks), as hash joins over the new rows.
\if :superuser
\echo -- reference checks
\timing on
SELECT concat_ws(', ',
    CASE WHEN EXISTS (
        SELECT 1 FROM incidents i
         WHERE i.id > :base
           AND (i.admin1 NOT IN (SELECT pcode FROM admin_areas WHERE level = 1)
                OR (i.admin2 IS NOT NULL
                    AND (i.admin2, i.admin1) NOT IN
                        (SELECT pcode, parent FROM admin_areas WHERE level = 2))
                OR i.tactic NOT IN (SELECT code FROM tactics)
                OR i.weapon NOT IN (SELECT code FROM weapons)
                OR i.perpetrator NOT IN (SELECT code FROM parties)
                OR i.attribution NOT IN (SELECT code FROM attributions)
                OR i.created_by NOT IN (SELECT id FROM api_keys)))
         THEN 'incidents codes' END,
    CASE WHEN EXISTS (
        SELECT 1 FROM incidents i
         WHERE i.id > :base AND i.duplicate_of IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM incidents j WHERE j.id = i.duplicate_of))
         THEN 'incidents.duplicate_of' END,
    CASE WHEN EXISTS (
        SELECT 1 FROM casualty_groups c
         WHERE c.incident_id > :base
           AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = c.incident_id))
         THEN 'casualty_groups.incident_id' END,
    CASE WHEN EXISTS (
        SELECT 1 FROM casualty_groups c
         WHERE c.incident_id > :base AND c.role IS NOT NULL
           AND c.role NOT IN (SELECT code FROM victim_roles))
         THEN 'casualty_groups.role' END,
    CASE WHEN EXISTS (
        SELECT 1 FROM incident_impacts m
         WHERE m.incident_id > :base
           AND (m.impact NOT IN (SELECT code FROM impacts)
                OR NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = m.incident_id)))
         THEN 'incident_impacts' END,
    CASE WHEN EXISTS (
        SELECT 1 FROM incident_abductions a
         WHERE a.incident_id > :base
           AND NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = a.incident_id))
         THEN 'incident_abductions.incident_id' END,
    CASE WHEN EXISTS (
        SELECT 1 FROM incident_sources s
         WHERE s.incident_id > :base
           AND (s.type NOT IN (SELECT code FROM source_types)
                OR NOT EXISTS (SELECT 1 FROM incidents i WHERE i.id = s.incident_id)))
         THEN 'incident_sources' END) AS bad_refs \gset
\timing off
SELECT :'bad_refs' = '' AS refs_ok \gset
\if :refs_ok
\else
\echo generate.sql: references missing in: :bad_refs
DO $$ BEGIN RAISE EXCEPTION 'generate.sql: references missing; nothing was loaded'; END $$;
\endif
RESET session_replication_role;
\endif
\echo -- commit
\timing on
COMMIT;

-- Hint bits and the visibility map set once here rather than by the first
-- queries that read the rows, and fresh statistics for the planner.
\echo -- vacuum analyze
VACUUM (ANALYZE) incidents, casualty_groups, incident_impacts, incident_abductions,
                 incident_sources;
\timing off

SELECT count(*) AS incidents, sum(killed) AS killed, sum(injured) AS injured,
       round(avg(killed + injured), 2) AS casualties_per_incident,
       (SELECT count(*) FROM casualty_groups) AS casualty_groups,
       (SELECT count(*) FROM incident_sources) AS sources,
       round(100.0 * count(*) FILTER (WHERE status = 'verified') / count(*), 1) AS verified_pct,
       min(occurred_on) AS first, max(occurred_on) AS last
  FROM incidents;

SELECT round(100.0 * count(*) FILTER (WHERE EXISTS (
                 SELECT 1 FROM incident_impacts m WHERE m.incident_id = i.id)) / count(*), 2)
           AS with_impacts_pct,
       round(100.0 * count(*) FILTER (WHERE killed + injured = 0) / count(*), 2)
           AS impacts_only_pct,
       (SELECT count(*) FROM incident_impacts) AS impact_rows,
       (SELECT count(*) FROM incident_abductions) AS abducted_groups,
       (SELECT sum(count) FROM incident_abductions) AS abducted,
       (SELECT round(100.0 * count(*) FILTER (WHERE count_min IS NOT NULL
                                               OR count_max IS NOT NULL) / count(*), 1)
          FROM casualty_groups) AS ranged_groups_pct,
       (SELECT round(100.0 * count(*) FILTER (WHERE role IS NOT NULL) / count(*), 1)
          FROM casualty_groups) AS role_groups_pct
  FROM incidents i;

SELECT attribution, round(100.0 * count(*) / sum(count(*)) OVER (), 1) AS pct
  FROM incidents GROUP BY 1 ORDER BY 2 DESC;
