-- The record widens to what monitoring missions record beyond casualties
-- with exact counts (docs/recording.md says what each field is for):
--
-- * impacts: what an incident harmed besides people (a school, a clinic,
--   a place of worship, humanitarian workers, ...), codes from a new
--   code list. An incident with an impact (or persons abducted) may have
--   no casualties.
-- * attribution: on what basis the incident is attributed to its party
--   (claimed, acknowledged, determined by the mission, alleged, unknown).
-- * casualty groups: count_min and count_max, the low and high estimates
--   around the count (the best estimate) where sources disagree; role,
--   the victims' role (teacher, health worker, journalist, ...).
-- * persons abducted, by sex and age group, where the tactic is one of
--   abduction.
--
-- Existing incidents keep every figure: attribution unknown, no impacts,
-- no ranges, no roles, no abductions. The rollups gain the new keys and
-- counts with defaults that say the same, so no cell is rewritten; three
-- new grouping sets get their cells at the end. Before and after this
-- migration every trend and report answer is byte for byte the same
-- (tests/http/test_migration_drift.py).

-- Code lists, as the others (migration 0001). The defaults of the shipped
-- taxonomy go in now, so that existing databases can count by them before
-- the next `civcasd taxonomy load`, which replaces them.
CREATE TABLE impacts (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,64}$'),
    name        text NOT NULL,
    sort        integer NOT NULL,
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE attributions (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,64}$'),
    name        text NOT NULL,
    sort        integer NOT NULL,
    active      boolean NOT NULL DEFAULT true
);

-- 'none' is what trends call a casualty group without a role.
CREATE TABLE victim_roles (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,64}$' AND code <> 'none'),
    name        text NOT NULL,
    sort        integer NOT NULL,
    active      boolean NOT NULL DEFAULT true
);

INSERT INTO impacts (code, name, sort) VALUES
    ('education', 'Education', 0),
    ('health_care', 'Health care', 1),
    ('place_of_worship', 'Places of worship', 2),
    ('humanitarian', 'Humanitarian personnel or assets', 3),
    ('media', 'Media', 4),
    ('election', 'Election-related', 5),
    ('cultural_property', 'Cultural property', 6),
    ('civilian_government', 'Civilian government', 7),
    ('detention', 'Detention', 8);

INSERT INTO attributions (code, name, sort) VALUES
    ('claimed', 'Claimed by the party', 0),
    ('acknowledged', 'Acknowledged by the party', 1),
    ('determined', 'Determined by the mission', 2),
    ('alleged', 'Alleged', 3),
    ('unknown', 'Unknown', 4);

INSERT INTO victim_roles (code, name, sort) VALUES
    ('teacher', 'Teacher', 0),
    ('student', 'Student', 1),
    ('health_worker', 'Health worker', 2),
    ('humanitarian_worker', 'Humanitarian worker', 3),
    ('journalist', 'Journalist or media worker', 4),
    ('religious_figure', 'Religious figure', 5),
    ('tribal_elder', 'Tribal elder', 6),
    ('government_employee', 'Government employee', 7),
    ('human_rights_defender', 'Human rights defender', 8),
    ('election_worker', 'Election worker', 9),
    ('child_in_school', 'Child in school', 10);

-- Tactics of abduction: an incident of one may record persons abducted.
ALTER TABLE tactics ADD abduction boolean NOT NULL DEFAULT false;
UPDATE tactics SET abduction = true WHERE code = 'abduction';

ALTER TABLE incidents
    ADD attribution text NOT NULL DEFAULT 'unknown' REFERENCES attributions (code);

CREATE TABLE incident_impacts (
    incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    impact      text NOT NULL REFERENCES impacts (code),
    PRIMARY KEY (incident_id, impact)
);

-- Persons abducted, one row per sex and age group.
CREATE TABLE incident_abductions (
    incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    sex         text NOT NULL CHECK (sex IN ('male', 'female', 'unknown')),
    age_group   text NOT NULL CHECK (age_group IN ('adult', 'child', 'unknown')),
    count       integer NOT NULL CHECK (count BETWEEN 1 AND 100000),
    PRIMARY KEY (incident_id, sex, age_group)
);

-- The low and high estimates, when the sources disagree (NULL: the count
-- is certain); the victims' role, when they had one that matters.
ALTER TABLE casualty_groups
    ADD count_min integer CHECK (count_min BETWEEN 1 AND count),
    ADD count_max integer CHECK (count_max BETWEEN count AND 100000),
    ADD role text REFERENCES victim_roles (code);
-- Trends by role read the groups that have one.
CREATE INDEX casualty_groups_role_idx ON casualty_groups (incident_id) WHERE role IS NOT NULL;

-- ---- rollups -------------------------------------------------------------
--
-- Cells and journal rows gain two keys, attribution and impacts (the
-- incident's sorted impact codes, comma-joined), kept by the sets that
-- say so (by_attribution, by_impacts) and '' elsewhere; and counts:
-- unharmed (incidents without casualties: an incident of impacts only),
-- abducted, and for each casualty count of a cell how far the low and high
-- estimates lie below and above it (killed_below, k_male_adult_above, ...).
-- Stored as distances from the count, not as figures, so that every
-- existing cell is already right with the default 0: adding a column with
-- a constant default rewrites nothing.
--
-- The order the folder takes the locks in (journal, then cells), so that a
-- fold in progress cannot deadlock with this migration. Writers and
-- readers wait until it commits.
LOCK TABLE rollup_journal, rollup_cells IN ACCESS EXCLUSIVE MODE;

DROP VIEW rollup_sides;
DROP VIEW rollup_live;
DROP VIEW rollup_journal_cells;
DROP VIEW rollup_contributions;
DROP VIEW rollup_facts;

ALTER TABLE rollup_cells
    ADD attribution text COLLATE "C" NOT NULL DEFAULT '',
    ADD impacts text COLLATE "C" NOT NULL DEFAULT '',
    ADD unharmed bigint NOT NULL DEFAULT 0,
    ADD abducted bigint NOT NULL DEFAULT 0,
    ADD killed_below bigint NOT NULL DEFAULT 0,
    ADD killed_above bigint NOT NULL DEFAULT 0,
    ADD injured_below bigint NOT NULL DEFAULT 0,
    ADD injured_above bigint NOT NULL DEFAULT 0,
    ADD k_male_adult_below bigint NOT NULL DEFAULT 0,
    ADD k_male_child_below bigint NOT NULL DEFAULT 0,
    ADD k_male_unknown_below bigint NOT NULL DEFAULT 0,
    ADD k_female_adult_below bigint NOT NULL DEFAULT 0,
    ADD k_female_child_below bigint NOT NULL DEFAULT 0,
    ADD k_female_unknown_below bigint NOT NULL DEFAULT 0,
    ADD k_unknown_adult_below bigint NOT NULL DEFAULT 0,
    ADD k_unknown_child_below bigint NOT NULL DEFAULT 0,
    ADD k_unknown_unknown_below bigint NOT NULL DEFAULT 0,
    ADD i_male_adult_below bigint NOT NULL DEFAULT 0,
    ADD i_male_child_below bigint NOT NULL DEFAULT 0,
    ADD i_male_unknown_below bigint NOT NULL DEFAULT 0,
    ADD i_female_adult_below bigint NOT NULL DEFAULT 0,
    ADD i_female_child_below bigint NOT NULL DEFAULT 0,
    ADD i_female_unknown_below bigint NOT NULL DEFAULT 0,
    ADD i_unknown_adult_below bigint NOT NULL DEFAULT 0,
    ADD i_unknown_child_below bigint NOT NULL DEFAULT 0,
    ADD i_unknown_unknown_below bigint NOT NULL DEFAULT 0,
    ADD k_male_adult_above bigint NOT NULL DEFAULT 0,
    ADD k_male_child_above bigint NOT NULL DEFAULT 0,
    ADD k_male_unknown_above bigint NOT NULL DEFAULT 0,
    ADD k_female_adult_above bigint NOT NULL DEFAULT 0,
    ADD k_female_child_above bigint NOT NULL DEFAULT 0,
    ADD k_female_unknown_above bigint NOT NULL DEFAULT 0,
    ADD k_unknown_adult_above bigint NOT NULL DEFAULT 0,
    ADD k_unknown_child_above bigint NOT NULL DEFAULT 0,
    ADD k_unknown_unknown_above bigint NOT NULL DEFAULT 0,
    ADD i_male_adult_above bigint NOT NULL DEFAULT 0,
    ADD i_male_child_above bigint NOT NULL DEFAULT 0,
    ADD i_male_unknown_above bigint NOT NULL DEFAULT 0,
    ADD i_female_adult_above bigint NOT NULL DEFAULT 0,
    ADD i_female_child_above bigint NOT NULL DEFAULT 0,
    ADD i_female_unknown_above bigint NOT NULL DEFAULT 0,
    ADD i_unknown_adult_above bigint NOT NULL DEFAULT 0,
    ADD i_unknown_child_above bigint NOT NULL DEFAULT 0,
    ADD i_unknown_unknown_above bigint NOT NULL DEFAULT 0;
ALTER TABLE rollup_cells DROP CONSTRAINT rollup_cells_pkey;
ALTER TABLE rollup_cells ADD PRIMARY KEY (gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts);

-- Journal rows written before this migration are incidents of that time:
-- attribution unknown, no impacts, every one with casualties, none with
-- a range or abductions. They fold into the new sets with those values.
ALTER TABLE rollup_journal
    ADD attribution text COLLATE "C" NOT NULL DEFAULT 'unknown',
    ADD impacts text COLLATE "C" NOT NULL DEFAULT '',
    ADD unharmed bigint NOT NULL DEFAULT 0,
    ADD abducted bigint NOT NULL DEFAULT 0,
    ADD killed_below bigint NOT NULL DEFAULT 0,
    ADD killed_above bigint NOT NULL DEFAULT 0,
    ADD injured_below bigint NOT NULL DEFAULT 0,
    ADD injured_above bigint NOT NULL DEFAULT 0,
    ADD k_male_adult_below bigint NOT NULL DEFAULT 0,
    ADD k_male_child_below bigint NOT NULL DEFAULT 0,
    ADD k_male_unknown_below bigint NOT NULL DEFAULT 0,
    ADD k_female_adult_below bigint NOT NULL DEFAULT 0,
    ADD k_female_child_below bigint NOT NULL DEFAULT 0,
    ADD k_female_unknown_below bigint NOT NULL DEFAULT 0,
    ADD k_unknown_adult_below bigint NOT NULL DEFAULT 0,
    ADD k_unknown_child_below bigint NOT NULL DEFAULT 0,
    ADD k_unknown_unknown_below bigint NOT NULL DEFAULT 0,
    ADD i_male_adult_below bigint NOT NULL DEFAULT 0,
    ADD i_male_child_below bigint NOT NULL DEFAULT 0,
    ADD i_male_unknown_below bigint NOT NULL DEFAULT 0,
    ADD i_female_adult_below bigint NOT NULL DEFAULT 0,
    ADD i_female_child_below bigint NOT NULL DEFAULT 0,
    ADD i_female_unknown_below bigint NOT NULL DEFAULT 0,
    ADD i_unknown_adult_below bigint NOT NULL DEFAULT 0,
    ADD i_unknown_child_below bigint NOT NULL DEFAULT 0,
    ADD i_unknown_unknown_below bigint NOT NULL DEFAULT 0,
    ADD k_male_adult_above bigint NOT NULL DEFAULT 0,
    ADD k_male_child_above bigint NOT NULL DEFAULT 0,
    ADD k_male_unknown_above bigint NOT NULL DEFAULT 0,
    ADD k_female_adult_above bigint NOT NULL DEFAULT 0,
    ADD k_female_child_above bigint NOT NULL DEFAULT 0,
    ADD k_female_unknown_above bigint NOT NULL DEFAULT 0,
    ADD k_unknown_adult_above bigint NOT NULL DEFAULT 0,
    ADD k_unknown_child_above bigint NOT NULL DEFAULT 0,
    ADD k_unknown_unknown_above bigint NOT NULL DEFAULT 0,
    ADD i_male_adult_above bigint NOT NULL DEFAULT 0,
    ADD i_male_child_above bigint NOT NULL DEFAULT 0,
    ADD i_male_unknown_above bigint NOT NULL DEFAULT 0,
    ADD i_female_adult_above bigint NOT NULL DEFAULT 0,
    ADD i_female_child_above bigint NOT NULL DEFAULT 0,
    ADD i_female_unknown_above bigint NOT NULL DEFAULT 0,
    ADD i_unknown_adult_above bigint NOT NULL DEFAULT 0,
    ADD i_unknown_child_above bigint NOT NULL DEFAULT 0,
    ADD i_unknown_unknown_above bigint NOT NULL DEFAULT 0;
ALTER TABLE rollup_journal ALTER attribution DROP DEFAULT, ALTER impacts DROP DEFAULT;
ALTER TABLE rollup_journal
    ALTER unharmed DROP DEFAULT,
    ALTER abducted DROP DEFAULT,
    ALTER killed_below DROP DEFAULT,
    ALTER killed_above DROP DEFAULT,
    ALTER injured_below DROP DEFAULT,
    ALTER injured_above DROP DEFAULT,
    ALTER k_male_adult_below DROP DEFAULT,
    ALTER k_male_child_below DROP DEFAULT,
    ALTER k_male_unknown_below DROP DEFAULT,
    ALTER k_female_adult_below DROP DEFAULT,
    ALTER k_female_child_below DROP DEFAULT,
    ALTER k_female_unknown_below DROP DEFAULT,
    ALTER k_unknown_adult_below DROP DEFAULT,
    ALTER k_unknown_child_below DROP DEFAULT,
    ALTER k_unknown_unknown_below DROP DEFAULT,
    ALTER i_male_adult_below DROP DEFAULT,
    ALTER i_male_child_below DROP DEFAULT,
    ALTER i_male_unknown_below DROP DEFAULT,
    ALTER i_female_adult_below DROP DEFAULT,
    ALTER i_female_child_below DROP DEFAULT,
    ALTER i_female_unknown_below DROP DEFAULT,
    ALTER i_unknown_adult_below DROP DEFAULT,
    ALTER i_unknown_child_below DROP DEFAULT,
    ALTER i_unknown_unknown_below DROP DEFAULT,
    ALTER k_male_adult_above DROP DEFAULT,
    ALTER k_male_child_above DROP DEFAULT,
    ALTER k_male_unknown_above DROP DEFAULT,
    ALTER k_female_adult_above DROP DEFAULT,
    ALTER k_female_child_above DROP DEFAULT,
    ALTER k_female_unknown_above DROP DEFAULT,
    ALTER k_unknown_adult_above DROP DEFAULT,
    ALTER k_unknown_child_above DROP DEFAULT,
    ALTER k_unknown_unknown_above DROP DEFAULT,
    ALTER i_male_adult_above DROP DEFAULT,
    ALTER i_male_child_above DROP DEFAULT,
    ALTER i_male_unknown_above DROP DEFAULT,
    ALTER i_female_adult_above DROP DEFAULT,
    ALTER i_female_child_above DROP DEFAULT,
    ALTER i_female_unknown_above DROP DEFAULT,
    ALTER i_unknown_adult_above DROP DEFAULT,
    ALTER i_unknown_child_above DROP DEFAULT,
    ALTER i_unknown_unknown_above DROP DEFAULT;

ALTER TABLE rollup_gsets ADD by_attribution boolean NOT NULL DEFAULT false,
                         ADD by_impacts boolean NOT NULL DEFAULT false;

-- Each incident at its finest grain, now with its attribution, its impacts
-- (sorted codes, comma-joined: the set is one key, so an incident with
-- several impacts is one row and counts once whatever the filter), whether
-- it had no casualties, the persons abducted, and how far the low and high
-- estimates lie below and above the counts, by outcome x sex x age group.
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
       i.attribution,
       COALESCE((SELECT string_agg(m.impact, ',' ORDER BY m.impact COLLATE "C")
                 FROM incident_impacts m WHERE m.incident_id = i.id), '') AS impacts,
       1::bigint AS incidents,
       v.killed, v.injured, v.k_male_adult, v.k_male_child, v.k_male_unknown, v.k_female_adult,
       v.k_female_child, v.k_female_unknown, v.k_unknown_adult, v.k_unknown_child,
       v.k_unknown_unknown, v.i_male_adult, v.i_male_child, v.i_male_unknown, v.i_female_adult,
       v.i_female_child, v.i_female_unknown, v.i_unknown_adult, v.i_unknown_child,
       v.i_unknown_unknown, v.unharmed,
       COALESCE((SELECT sum(a.count) FROM incident_abductions a
                 WHERE a.incident_id = i.id), 0)::bigint AS abducted,
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
FROM incidents i
CROSS JOIN LATERAL (
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
    FROM casualty_groups c
    WHERE c.incident_id = i.id
) v;

CREATE VIEW rollup_contributions AS
SELECT f.incident_id,
       g.gset,
       f.status,
       rollup_period(g.grain, f.period) AS period,
       CASE WHEN g.by_admin1 THEN f.admin1 ELSE '' END AS admin1,
       CASE WHEN g.by_admin2 THEN f.admin2 ELSE '' END AS admin2,
       CASE WHEN g.by_party THEN f.party ELSE '' END AS party,
       CASE WHEN g.by_tactic THEN f.tactic ELSE '' END AS tactic,
       CASE WHEN g.by_weapon THEN f.weapon ELSE '' END AS weapon,
       CASE WHEN g.by_attribution THEN f.attribution ELSE '' END AS attribution,
       CASE WHEN g.by_impacts THEN f.impacts ELSE '' END AS impacts,
       f.incidents, f.killed, f.injured, f.k_male_adult, f.k_male_child, f.k_male_unknown,
       f.k_female_adult, f.k_female_child, f.k_female_unknown, f.k_unknown_adult,
       f.k_unknown_child, f.k_unknown_unknown, f.i_male_adult, f.i_male_child,
       f.i_male_unknown, f.i_female_adult, f.i_female_child, f.i_female_unknown,
       f.i_unknown_adult, f.i_unknown_child, f.i_unknown_unknown, f.unharmed, f.abducted,
       f.killed_below, f.killed_above, f.injured_below, f.injured_above, f.k_male_adult_below,
       f.k_male_child_below, f.k_male_unknown_below, f.k_female_adult_below,
       f.k_female_child_below, f.k_female_unknown_below, f.k_unknown_adult_below,
       f.k_unknown_child_below, f.k_unknown_unknown_below, f.i_male_adult_below,
       f.i_male_child_below, f.i_male_unknown_below, f.i_female_adult_below,
       f.i_female_child_below, f.i_female_unknown_below, f.i_unknown_adult_below,
       f.i_unknown_child_below, f.i_unknown_unknown_below, f.k_male_adult_above,
       f.k_male_child_above, f.k_male_unknown_above, f.k_female_adult_above,
       f.k_female_child_above, f.k_female_unknown_above, f.k_unknown_adult_above,
       f.k_unknown_child_above, f.k_unknown_unknown_above, f.i_male_adult_above,
       f.i_male_child_above, f.i_male_unknown_above, f.i_female_adult_above,
       f.i_female_child_above, f.i_female_unknown_above, f.i_unknown_adult_above,
       f.i_unknown_child_above, f.i_unknown_unknown_above
FROM rollup_facts f
CROSS JOIN rollup_gsets g;

CREATE VIEW rollup_journal_cells AS
SELECT g.gset,
       j.status,
       rollup_period(g.grain, j.occurred_on) AS period,
       CASE WHEN g.by_admin1 THEN j.admin1 ELSE '' END AS admin1,
       CASE WHEN g.by_admin2 THEN j.admin2 ELSE '' END AS admin2,
       CASE WHEN g.by_party THEN j.party ELSE '' END AS party,
       CASE WHEN g.by_tactic THEN j.tactic ELSE '' END AS tactic,
       CASE WHEN g.by_weapon THEN j.weapon ELSE '' END AS weapon,
       CASE WHEN g.by_attribution THEN j.attribution ELSE '' END AS attribution,
       CASE WHEN g.by_impacts THEN j.impacts ELSE '' END AS impacts,
       j.incidents, j.killed, j.injured, j.k_male_adult, j.k_male_child, j.k_male_unknown,
       j.k_female_adult, j.k_female_child, j.k_female_unknown, j.k_unknown_adult,
       j.k_unknown_child, j.k_unknown_unknown, j.i_male_adult, j.i_male_child,
       j.i_male_unknown, j.i_female_adult, j.i_female_child, j.i_female_unknown,
       j.i_unknown_adult, j.i_unknown_child, j.i_unknown_unknown, j.unharmed, j.abducted,
       j.killed_below, j.killed_above, j.injured_below, j.injured_above, j.k_male_adult_below,
       j.k_male_child_below, j.k_male_unknown_below, j.k_female_adult_below,
       j.k_female_child_below, j.k_female_unknown_below, j.k_unknown_adult_below,
       j.k_unknown_child_below, j.k_unknown_unknown_below, j.i_male_adult_below,
       j.i_male_child_below, j.i_male_unknown_below, j.i_female_adult_below,
       j.i_female_child_below, j.i_female_unknown_below, j.i_unknown_adult_below,
       j.i_unknown_child_below, j.i_unknown_unknown_below, j.k_male_adult_above,
       j.k_male_child_above, j.k_male_unknown_above, j.k_female_adult_above,
       j.k_female_child_above, j.k_female_unknown_above, j.k_unknown_adult_above,
       j.k_unknown_child_above, j.k_unknown_unknown_above, j.i_male_adult_above,
       j.i_male_child_above, j.i_male_unknown_above, j.i_female_adult_above,
       j.i_female_child_above, j.i_female_unknown_above, j.i_unknown_adult_above,
       j.i_unknown_child_above, j.i_unknown_unknown_above
FROM rollup_journal j
CROSS JOIN rollup_gsets g;

CREATE VIEW rollup_live AS
SELECT gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts,
       incidents, killed, injured, k_male_adult, k_male_child, k_male_unknown, k_female_adult,
       k_female_child, k_female_unknown, k_unknown_adult, k_unknown_child, k_unknown_unknown,
       i_male_adult, i_male_child, i_male_unknown, i_female_adult, i_female_child,
       i_female_unknown, i_unknown_adult, i_unknown_child, i_unknown_unknown, unharmed,
       abducted, killed_below, killed_above, injured_below, injured_above, k_male_adult_below,
       k_male_child_below, k_male_unknown_below, k_female_adult_below, k_female_child_below,
       k_female_unknown_below, k_unknown_adult_below, k_unknown_child_below,
       k_unknown_unknown_below, i_male_adult_below, i_male_child_below, i_male_unknown_below,
       i_female_adult_below, i_female_child_below, i_female_unknown_below,
       i_unknown_adult_below, i_unknown_child_below, i_unknown_unknown_below,
       k_male_adult_above, k_male_child_above, k_male_unknown_above, k_female_adult_above,
       k_female_child_above, k_female_unknown_above, k_unknown_adult_above,
       k_unknown_child_above, k_unknown_unknown_above, i_male_adult_above, i_male_child_above,
       i_male_unknown_above, i_female_adult_above, i_female_child_above,
       i_female_unknown_above, i_unknown_adult_above, i_unknown_child_above,
       i_unknown_unknown_above
FROM rollup_cells
UNION ALL
SELECT gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts,
       incidents, killed, injured, k_male_adult, k_male_child, k_male_unknown, k_female_adult,
       k_female_child, k_female_unknown, k_unknown_adult, k_unknown_child, k_unknown_unknown,
       i_male_adult, i_male_child, i_male_unknown, i_female_adult, i_female_child,
       i_female_unknown, i_unknown_adult, i_unknown_child, i_unknown_unknown, unharmed,
       abducted, killed_below, killed_above, injured_below, injured_above, k_male_adult_below,
       k_male_child_below, k_male_unknown_below, k_female_adult_below, k_female_child_below,
       k_female_unknown_below, k_unknown_adult_below, k_unknown_child_below,
       k_unknown_unknown_below, i_male_adult_below, i_male_child_below, i_male_unknown_below,
       i_female_adult_below, i_female_child_below, i_female_unknown_below,
       i_unknown_adult_below, i_unknown_child_below, i_unknown_unknown_below,
       k_male_adult_above, k_male_child_above, k_male_unknown_above, k_female_adult_above,
       k_female_child_above, k_female_unknown_above, k_unknown_adult_above,
       k_unknown_child_above, k_unknown_unknown_above, i_male_adult_above, i_male_child_above,
       i_male_unknown_above, i_female_adult_above, i_female_child_above,
       i_female_unknown_above, i_unknown_adult_above, i_unknown_child_above,
       i_unknown_unknown_above
FROM rollup_journal_cells;

-- Both sides of verification, every count compared.
CREATE VIEW rollup_sides AS
SELECT side, gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts,
       sum(incidents)::bigint AS incidents, sum(killed)::bigint AS killed,
       sum(injured)::bigint AS injured, sum(k_male_adult)::bigint AS k_male_adult,
       sum(k_male_child)::bigint AS k_male_child,
       sum(k_male_unknown)::bigint AS k_male_unknown,
       sum(k_female_adult)::bigint AS k_female_adult,
       sum(k_female_child)::bigint AS k_female_child,
       sum(k_female_unknown)::bigint AS k_female_unknown,
       sum(k_unknown_adult)::bigint AS k_unknown_adult,
       sum(k_unknown_child)::bigint AS k_unknown_child,
       sum(k_unknown_unknown)::bigint AS k_unknown_unknown,
       sum(i_male_adult)::bigint AS i_male_adult, sum(i_male_child)::bigint AS i_male_child,
       sum(i_male_unknown)::bigint AS i_male_unknown,
       sum(i_female_adult)::bigint AS i_female_adult,
       sum(i_female_child)::bigint AS i_female_child,
       sum(i_female_unknown)::bigint AS i_female_unknown,
       sum(i_unknown_adult)::bigint AS i_unknown_adult,
       sum(i_unknown_child)::bigint AS i_unknown_child,
       sum(i_unknown_unknown)::bigint AS i_unknown_unknown, sum(unharmed)::bigint AS unharmed,
       sum(abducted)::bigint AS abducted, sum(killed_below)::bigint AS killed_below,
       sum(killed_above)::bigint AS killed_above, sum(injured_below)::bigint AS injured_below,
       sum(injured_above)::bigint AS injured_above,
       sum(k_male_adult_below)::bigint AS k_male_adult_below,
       sum(k_male_child_below)::bigint AS k_male_child_below,
       sum(k_male_unknown_below)::bigint AS k_male_unknown_below,
       sum(k_female_adult_below)::bigint AS k_female_adult_below,
       sum(k_female_child_below)::bigint AS k_female_child_below,
       sum(k_female_unknown_below)::bigint AS k_female_unknown_below,
       sum(k_unknown_adult_below)::bigint AS k_unknown_adult_below,
       sum(k_unknown_child_below)::bigint AS k_unknown_child_below,
       sum(k_unknown_unknown_below)::bigint AS k_unknown_unknown_below,
       sum(i_male_adult_below)::bigint AS i_male_adult_below,
       sum(i_male_child_below)::bigint AS i_male_child_below,
       sum(i_male_unknown_below)::bigint AS i_male_unknown_below,
       sum(i_female_adult_below)::bigint AS i_female_adult_below,
       sum(i_female_child_below)::bigint AS i_female_child_below,
       sum(i_female_unknown_below)::bigint AS i_female_unknown_below,
       sum(i_unknown_adult_below)::bigint AS i_unknown_adult_below,
       sum(i_unknown_child_below)::bigint AS i_unknown_child_below,
       sum(i_unknown_unknown_below)::bigint AS i_unknown_unknown_below,
       sum(k_male_adult_above)::bigint AS k_male_adult_above,
       sum(k_male_child_above)::bigint AS k_male_child_above,
       sum(k_male_unknown_above)::bigint AS k_male_unknown_above,
       sum(k_female_adult_above)::bigint AS k_female_adult_above,
       sum(k_female_child_above)::bigint AS k_female_child_above,
       sum(k_female_unknown_above)::bigint AS k_female_unknown_above,
       sum(k_unknown_adult_above)::bigint AS k_unknown_adult_above,
       sum(k_unknown_child_above)::bigint AS k_unknown_child_above,
       sum(k_unknown_unknown_above)::bigint AS k_unknown_unknown_above,
       sum(i_male_adult_above)::bigint AS i_male_adult_above,
       sum(i_male_child_above)::bigint AS i_male_child_above,
       sum(i_male_unknown_above)::bigint AS i_male_unknown_above,
       sum(i_female_adult_above)::bigint AS i_female_adult_above,
       sum(i_female_child_above)::bigint AS i_female_child_above,
       sum(i_female_unknown_above)::bigint AS i_female_unknown_above,
       sum(i_unknown_adult_above)::bigint AS i_unknown_adult_above,
       sum(i_unknown_child_above)::bigint AS i_unknown_child_above,
       sum(i_unknown_unknown_above)::bigint AS i_unknown_unknown_above
FROM (SELECT 'expected' AS side, gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts,
             incidents, killed, injured, k_male_adult, k_male_child, k_male_unknown,
             k_female_adult, k_female_child, k_female_unknown, k_unknown_adult,
             k_unknown_child, k_unknown_unknown, i_male_adult, i_male_child, i_male_unknown,
             i_female_adult, i_female_child, i_female_unknown, i_unknown_adult,
             i_unknown_child, i_unknown_unknown, unharmed, abducted, killed_below,
             killed_above, injured_below, injured_above, k_male_adult_below,
             k_male_child_below, k_male_unknown_below, k_female_adult_below,
             k_female_child_below, k_female_unknown_below, k_unknown_adult_below,
             k_unknown_child_below, k_unknown_unknown_below, i_male_adult_below,
             i_male_child_below, i_male_unknown_below, i_female_adult_below,
             i_female_child_below, i_female_unknown_below, i_unknown_adult_below,
             i_unknown_child_below, i_unknown_unknown_below, k_male_adult_above,
             k_male_child_above, k_male_unknown_above, k_female_adult_above,
             k_female_child_above, k_female_unknown_above, k_unknown_adult_above,
             k_unknown_child_above, k_unknown_unknown_above, i_male_adult_above,
             i_male_child_above, i_male_unknown_above, i_female_adult_above,
             i_female_child_above, i_female_unknown_above, i_unknown_adult_above,
             i_unknown_child_above, i_unknown_unknown_above
      FROM rollup_contributions
      UNION ALL
      SELECT 'stored', gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts,
             incidents, killed, injured, k_male_adult, k_male_child, k_male_unknown,
             k_female_adult, k_female_child, k_female_unknown, k_unknown_adult,
             k_unknown_child, k_unknown_unknown, i_male_adult, i_male_child, i_male_unknown,
             i_female_adult, i_female_child, i_female_unknown, i_unknown_adult,
             i_unknown_child, i_unknown_unknown, unharmed, abducted, killed_below,
             killed_above, injured_below, injured_above, k_male_adult_below,
             k_male_child_below, k_male_unknown_below, k_female_adult_below,
             k_female_child_below, k_female_unknown_below, k_unknown_adult_below,
             k_unknown_child_below, k_unknown_unknown_below, i_male_adult_below,
             i_male_child_below, i_male_unknown_below, i_female_adult_below,
             i_female_child_below, i_female_unknown_below, i_unknown_adult_below,
             i_unknown_child_below, i_unknown_unknown_below, k_male_adult_above,
             k_male_child_above, k_male_unknown_above, k_female_adult_above,
             k_female_child_above, k_female_unknown_above, k_unknown_adult_above,
             k_unknown_child_above, k_unknown_unknown_above, i_male_adult_above,
             i_male_child_above, i_male_unknown_above, i_female_adult_above,
             i_female_child_above, i_female_unknown_above, i_unknown_adult_above,
             i_unknown_child_above, i_unknown_unknown_above
      FROM rollup_live) x
GROUP BY side, gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts
HAVING sum(incidents) <> 0 OR sum(killed) <> 0 OR sum(injured) <> 0 OR sum(unharmed) <> 0 OR sum(abducted) <> 0 OR sum(killed_below) <> 0 OR sum(killed_above) <> 0 OR sum(injured_below) <> 0 OR sum(injured_above) <> 0;

-- A write's contribution: sign x the incident's facts now.
CREATE OR REPLACE FUNCTION rollup_apply(p_incident bigint, p_sign integer) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
INSERT INTO rollup_journal (status, occurred_on, admin1, admin2, party, tactic, weapon, attribution, impacts,
    incidents, killed, injured, k_male_adult, k_male_child, k_male_unknown, k_female_adult,
    k_female_child, k_female_unknown, k_unknown_adult, k_unknown_child, k_unknown_unknown,
    i_male_adult, i_male_child, i_male_unknown, i_female_adult, i_female_child,
    i_female_unknown, i_unknown_adult, i_unknown_child, i_unknown_unknown, unharmed, abducted,
    killed_below, killed_above, injured_below, injured_above, k_male_adult_below,
    k_male_child_below, k_male_unknown_below, k_female_adult_below, k_female_child_below,
    k_female_unknown_below, k_unknown_adult_below, k_unknown_child_below,
    k_unknown_unknown_below, i_male_adult_below, i_male_child_below, i_male_unknown_below,
    i_female_adult_below, i_female_child_below, i_female_unknown_below, i_unknown_adult_below,
    i_unknown_child_below, i_unknown_unknown_below, k_male_adult_above, k_male_child_above,
    k_male_unknown_above, k_female_adult_above, k_female_child_above, k_female_unknown_above,
    k_unknown_adult_above, k_unknown_child_above, k_unknown_unknown_above, i_male_adult_above,
    i_male_child_above, i_male_unknown_above, i_female_adult_above, i_female_child_above,
    i_female_unknown_above, i_unknown_adult_above, i_unknown_child_above,
    i_unknown_unknown_above)
SELECT status, period, admin1, admin2, party, tactic, weapon, attribution, impacts,
       p_sign * incidents, p_sign * killed, p_sign * injured, p_sign * k_male_adult,
       p_sign * k_male_child, p_sign * k_male_unknown, p_sign * k_female_adult,
       p_sign * k_female_child, p_sign * k_female_unknown, p_sign * k_unknown_adult,
       p_sign * k_unknown_child, p_sign * k_unknown_unknown, p_sign * i_male_adult,
       p_sign * i_male_child, p_sign * i_male_unknown, p_sign * i_female_adult,
       p_sign * i_female_child, p_sign * i_female_unknown, p_sign * i_unknown_adult,
       p_sign * i_unknown_child, p_sign * i_unknown_unknown, p_sign * unharmed,
       p_sign * abducted, p_sign * killed_below, p_sign * killed_above, p_sign * injured_below,
       p_sign * injured_above, p_sign * k_male_adult_below, p_sign * k_male_child_below,
       p_sign * k_male_unknown_below, p_sign * k_female_adult_below,
       p_sign * k_female_child_below, p_sign * k_female_unknown_below,
       p_sign * k_unknown_adult_below, p_sign * k_unknown_child_below,
       p_sign * k_unknown_unknown_below, p_sign * i_male_adult_below,
       p_sign * i_male_child_below, p_sign * i_male_unknown_below,
       p_sign * i_female_adult_below, p_sign * i_female_child_below,
       p_sign * i_female_unknown_below, p_sign * i_unknown_adult_below,
       p_sign * i_unknown_child_below, p_sign * i_unknown_unknown_below,
       p_sign * k_male_adult_above, p_sign * k_male_child_above, p_sign * k_male_unknown_above,
       p_sign * k_female_adult_above, p_sign * k_female_child_above,
       p_sign * k_female_unknown_above, p_sign * k_unknown_adult_above,
       p_sign * k_unknown_child_above, p_sign * k_unknown_unknown_above,
       p_sign * i_male_adult_above, p_sign * i_male_child_above, p_sign * i_male_unknown_above,
       p_sign * i_female_adult_above, p_sign * i_female_child_above,
       p_sign * i_female_unknown_above, p_sign * i_unknown_adult_above,
       p_sign * i_unknown_child_above, p_sign * i_unknown_unknown_above
FROM rollup_facts
WHERE incident_id = p_incident;
END
$$;

-- As in 0004, with the new keys and counts.
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
INSERT INTO rollup_cells AS r (gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts,
    incidents, killed, injured, k_male_adult, k_male_child, k_male_unknown, k_female_adult,
    k_female_child, k_female_unknown, k_unknown_adult, k_unknown_child, k_unknown_unknown,
    i_male_adult, i_male_child, i_male_unknown, i_female_adult, i_female_child,
    i_female_unknown, i_unknown_adult, i_unknown_child, i_unknown_unknown, unharmed, abducted,
    killed_below, killed_above, injured_below, injured_above, k_male_adult_below,
    k_male_child_below, k_male_unknown_below, k_female_adult_below, k_female_child_below,
    k_female_unknown_below, k_unknown_adult_below, k_unknown_child_below,
    k_unknown_unknown_below, i_male_adult_below, i_male_child_below, i_male_unknown_below,
    i_female_adult_below, i_female_child_below, i_female_unknown_below, i_unknown_adult_below,
    i_unknown_child_below, i_unknown_unknown_below, k_male_adult_above, k_male_child_above,
    k_male_unknown_above, k_female_adult_above, k_female_child_above, k_female_unknown_above,
    k_unknown_adult_above, k_unknown_child_above, k_unknown_unknown_above, i_male_adult_above,
    i_male_child_above, i_male_unknown_above, i_female_adult_above, i_female_child_above,
    i_female_unknown_above, i_unknown_adult_above, i_unknown_child_above,
    i_unknown_unknown_above)
SELECT g.gset, j.status,
       rollup_period(g.grain, j.occurred_on),
       CASE WHEN g.by_admin1 THEN j.admin1 ELSE '' END,
       CASE WHEN g.by_admin2 THEN j.admin2 ELSE '' END,
       CASE WHEN g.by_party THEN j.party ELSE '' END,
       CASE WHEN g.by_tactic THEN j.tactic ELSE '' END,
       CASE WHEN g.by_weapon THEN j.weapon ELSE '' END,
       CASE WHEN g.by_attribution THEN j.attribution ELSE '' END,
       CASE WHEN g.by_impacts THEN j.impacts ELSE '' END,
       sum(j.incidents), sum(j.killed), sum(j.injured), sum(j.k_male_adult),
       sum(j.k_male_child), sum(j.k_male_unknown), sum(j.k_female_adult),
       sum(j.k_female_child), sum(j.k_female_unknown), sum(j.k_unknown_adult),
       sum(j.k_unknown_child), sum(j.k_unknown_unknown), sum(j.i_male_adult),
       sum(j.i_male_child), sum(j.i_male_unknown), sum(j.i_female_adult),
       sum(j.i_female_child), sum(j.i_female_unknown), sum(j.i_unknown_adult),
       sum(j.i_unknown_child), sum(j.i_unknown_unknown), sum(j.unharmed), sum(j.abducted),
       sum(j.killed_below), sum(j.killed_above), sum(j.injured_below), sum(j.injured_above),
       sum(j.k_male_adult_below), sum(j.k_male_child_below), sum(j.k_male_unknown_below),
       sum(j.k_female_adult_below), sum(j.k_female_child_below), sum(j.k_female_unknown_below),
       sum(j.k_unknown_adult_below), sum(j.k_unknown_child_below),
       sum(j.k_unknown_unknown_below), sum(j.i_male_adult_below), sum(j.i_male_child_below),
       sum(j.i_male_unknown_below), sum(j.i_female_adult_below), sum(j.i_female_child_below),
       sum(j.i_female_unknown_below), sum(j.i_unknown_adult_below),
       sum(j.i_unknown_child_below), sum(j.i_unknown_unknown_below), sum(j.k_male_adult_above),
       sum(j.k_male_child_above), sum(j.k_male_unknown_above), sum(j.k_female_adult_above),
       sum(j.k_female_child_above), sum(j.k_female_unknown_above),
       sum(j.k_unknown_adult_above), sum(j.k_unknown_child_above),
       sum(j.k_unknown_unknown_above), sum(j.i_male_adult_above), sum(j.i_male_child_above),
       sum(j.i_male_unknown_above), sum(j.i_female_adult_above), sum(j.i_female_child_above),
       sum(j.i_female_unknown_above), sum(j.i_unknown_adult_above),
       sum(j.i_unknown_child_above), sum(j.i_unknown_unknown_above)
FROM gone j
CROSS JOIN rollup_gsets g
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
ORDER BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10
ON CONFLICT (gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts) DO UPDATE SET
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
    i_unknown_unknown = r.i_unknown_unknown + EXCLUDED.i_unknown_unknown,
    unharmed = r.unharmed + EXCLUDED.unharmed,
    abducted = r.abducted + EXCLUDED.abducted,
    killed_below = r.killed_below + EXCLUDED.killed_below,
    killed_above = r.killed_above + EXCLUDED.killed_above,
    injured_below = r.injured_below + EXCLUDED.injured_below,
    injured_above = r.injured_above + EXCLUDED.injured_above,
    k_male_adult_below = r.k_male_adult_below + EXCLUDED.k_male_adult_below,
    k_male_child_below = r.k_male_child_below + EXCLUDED.k_male_child_below,
    k_male_unknown_below = r.k_male_unknown_below + EXCLUDED.k_male_unknown_below,
    k_female_adult_below = r.k_female_adult_below + EXCLUDED.k_female_adult_below,
    k_female_child_below = r.k_female_child_below + EXCLUDED.k_female_child_below,
    k_female_unknown_below = r.k_female_unknown_below + EXCLUDED.k_female_unknown_below,
    k_unknown_adult_below = r.k_unknown_adult_below + EXCLUDED.k_unknown_adult_below,
    k_unknown_child_below = r.k_unknown_child_below + EXCLUDED.k_unknown_child_below,
    k_unknown_unknown_below = r.k_unknown_unknown_below + EXCLUDED.k_unknown_unknown_below,
    i_male_adult_below = r.i_male_adult_below + EXCLUDED.i_male_adult_below,
    i_male_child_below = r.i_male_child_below + EXCLUDED.i_male_child_below,
    i_male_unknown_below = r.i_male_unknown_below + EXCLUDED.i_male_unknown_below,
    i_female_adult_below = r.i_female_adult_below + EXCLUDED.i_female_adult_below,
    i_female_child_below = r.i_female_child_below + EXCLUDED.i_female_child_below,
    i_female_unknown_below = r.i_female_unknown_below + EXCLUDED.i_female_unknown_below,
    i_unknown_adult_below = r.i_unknown_adult_below + EXCLUDED.i_unknown_adult_below,
    i_unknown_child_below = r.i_unknown_child_below + EXCLUDED.i_unknown_child_below,
    i_unknown_unknown_below = r.i_unknown_unknown_below + EXCLUDED.i_unknown_unknown_below,
    k_male_adult_above = r.k_male_adult_above + EXCLUDED.k_male_adult_above,
    k_male_child_above = r.k_male_child_above + EXCLUDED.k_male_child_above,
    k_male_unknown_above = r.k_male_unknown_above + EXCLUDED.k_male_unknown_above,
    k_female_adult_above = r.k_female_adult_above + EXCLUDED.k_female_adult_above,
    k_female_child_above = r.k_female_child_above + EXCLUDED.k_female_child_above,
    k_female_unknown_above = r.k_female_unknown_above + EXCLUDED.k_female_unknown_above,
    k_unknown_adult_above = r.k_unknown_adult_above + EXCLUDED.k_unknown_adult_above,
    k_unknown_child_above = r.k_unknown_child_above + EXCLUDED.k_unknown_child_above,
    k_unknown_unknown_above = r.k_unknown_unknown_above + EXCLUDED.k_unknown_unknown_above,
    i_male_adult_above = r.i_male_adult_above + EXCLUDED.i_male_adult_above,
    i_male_child_above = r.i_male_child_above + EXCLUDED.i_male_child_above,
    i_male_unknown_above = r.i_male_unknown_above + EXCLUDED.i_male_unknown_above,
    i_female_adult_above = r.i_female_adult_above + EXCLUDED.i_female_adult_above,
    i_female_child_above = r.i_female_child_above + EXCLUDED.i_female_child_above,
    i_female_unknown_above = r.i_female_unknown_above + EXCLUDED.i_female_unknown_above,
    i_unknown_adult_above = r.i_unknown_adult_above + EXCLUDED.i_unknown_adult_above,
    i_unknown_child_above = r.i_unknown_child_above + EXCLUDED.i_unknown_child_above,
    i_unknown_unknown_above = r.i_unknown_unknown_above + EXCLUDED.i_unknown_unknown_above
RETURNING 1)
SELECT n INTO folded FROM counted;
RETURN folded;
END
$$;

-- Each casualty group (and each group of abducted persons, outcome
-- 'abducted') with its incident's codes: what a trend reads when the
-- cells cannot answer, because it asks about victims' roles, or counts
-- incidents by who their victims were (an incident counts once however
-- many of its groups match), or persons abducted by sex or age. Its cost
-- follows the casualty groups in range, not the cells.
CREATE VIEW rollup_victim_facts AS
SELECT i.id AS incident_id,
       i.status,
       i.occurred_on AS period,
       i.admin1,
       COALESCE(i.admin2, '') AS admin2,
       i.perpetrator AS party,
       i.tactic,
       i.weapon,
       i.attribution,
       COALESCE((SELECT string_agg(m.impact, ',' ORDER BY m.impact COLLATE "C")
                 FROM incident_impacts m WHERE m.incident_id = i.id), '') AS impacts,
       v.outcome, v.sex, v.age_group, v.role, v.n, v.n_below, v.n_above
FROM incidents i
CROSS JOIN LATERAL (
    SELECT g.outcome, g.sex, g.age_group, COALESCE(g.role, 'none') AS role,
           g.count::bigint AS n,
           (g.count - COALESCE(g.count_min, g.count))::bigint AS n_below,
           (COALESCE(g.count_max, g.count) - g.count)::bigint AS n_above
    FROM casualty_groups g WHERE g.incident_id = i.id
    UNION ALL
    SELECT 'abducted', a.sex, a.age_group, 'none', a.count::bigint, 0, 0
    FROM incident_abductions a WHERE a.incident_id = i.id
) v;

-- New sets: attribution basis by party (the report's party group x
-- attribution table, and any query by attribution), impacts by month and
-- by day. Their cells from the incidents, less what the journal still
-- holds (the journal is folded into every set later).
INSERT INTO rollup_gsets (gset, grain, by_admin1, by_admin2, by_party, by_tactic, by_weapon,
                         by_attribution, by_impacts) VALUES
    (14, 'month', false, false, true,  false, false, true,  false),
    (15, 'month', false, false, false, false, false, false, true),
    (16, 'day',   false, false, false, false, false, false, true);

INSERT INTO rollup_cells (gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts,
    incidents, killed, injured, k_male_adult, k_male_child, k_male_unknown, k_female_adult,
    k_female_child, k_female_unknown, k_unknown_adult, k_unknown_child, k_unknown_unknown,
    i_male_adult, i_male_child, i_male_unknown, i_female_adult, i_female_child,
    i_female_unknown, i_unknown_adult, i_unknown_child, i_unknown_unknown, unharmed, abducted,
    killed_below, killed_above, injured_below, injured_above, k_male_adult_below,
    k_male_child_below, k_male_unknown_below, k_female_adult_below, k_female_child_below,
    k_female_unknown_below, k_unknown_adult_below, k_unknown_child_below,
    k_unknown_unknown_below, i_male_adult_below, i_male_child_below, i_male_unknown_below,
    i_female_adult_below, i_female_child_below, i_female_unknown_below, i_unknown_adult_below,
    i_unknown_child_below, i_unknown_unknown_below, k_male_adult_above, k_male_child_above,
    k_male_unknown_above, k_female_adult_above, k_female_child_above, k_female_unknown_above,
    k_unknown_adult_above, k_unknown_child_above, k_unknown_unknown_above, i_male_adult_above,
    i_male_child_above, i_male_unknown_above, i_female_adult_above, i_female_child_above,
    i_female_unknown_above, i_unknown_adult_above, i_unknown_child_above,
    i_unknown_unknown_above)
SELECT gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts,
       sum(incidents), sum(killed), sum(injured), sum(k_male_adult), sum(k_male_child),
       sum(k_male_unknown), sum(k_female_adult), sum(k_female_child), sum(k_female_unknown),
       sum(k_unknown_adult), sum(k_unknown_child), sum(k_unknown_unknown), sum(i_male_adult),
       sum(i_male_child), sum(i_male_unknown), sum(i_female_adult), sum(i_female_child),
       sum(i_female_unknown), sum(i_unknown_adult), sum(i_unknown_child),
       sum(i_unknown_unknown), sum(unharmed), sum(abducted), sum(killed_below),
       sum(killed_above), sum(injured_below), sum(injured_above), sum(k_male_adult_below),
       sum(k_male_child_below), sum(k_male_unknown_below), sum(k_female_adult_below),
       sum(k_female_child_below), sum(k_female_unknown_below), sum(k_unknown_adult_below),
       sum(k_unknown_child_below), sum(k_unknown_unknown_below), sum(i_male_adult_below),
       sum(i_male_child_below), sum(i_male_unknown_below), sum(i_female_adult_below),
       sum(i_female_child_below), sum(i_female_unknown_below), sum(i_unknown_adult_below),
       sum(i_unknown_child_below), sum(i_unknown_unknown_below), sum(k_male_adult_above),
       sum(k_male_child_above), sum(k_male_unknown_above), sum(k_female_adult_above),
       sum(k_female_child_above), sum(k_female_unknown_above), sum(k_unknown_adult_above),
       sum(k_unknown_child_above), sum(k_unknown_unknown_above), sum(i_male_adult_above),
       sum(i_male_child_above), sum(i_male_unknown_above), sum(i_female_adult_above),
       sum(i_female_child_above), sum(i_female_unknown_above), sum(i_unknown_adult_above),
       sum(i_unknown_child_above), sum(i_unknown_unknown_above)
FROM (SELECT gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts,
             incidents, killed, injured, k_male_adult, k_male_child, k_male_unknown,
             k_female_adult, k_female_child, k_female_unknown, k_unknown_adult,
             k_unknown_child, k_unknown_unknown, i_male_adult, i_male_child, i_male_unknown,
             i_female_adult, i_female_child, i_female_unknown, i_unknown_adult,
             i_unknown_child, i_unknown_unknown, unharmed, abducted, killed_below,
             killed_above, injured_below, injured_above, k_male_adult_below,
             k_male_child_below, k_male_unknown_below, k_female_adult_below,
             k_female_child_below, k_female_unknown_below, k_unknown_adult_below,
             k_unknown_child_below, k_unknown_unknown_below, i_male_adult_below,
             i_male_child_below, i_male_unknown_below, i_female_adult_below,
             i_female_child_below, i_female_unknown_below, i_unknown_adult_below,
             i_unknown_child_below, i_unknown_unknown_below, k_male_adult_above,
             k_male_child_above, k_male_unknown_above, k_female_adult_above,
             k_female_child_above, k_female_unknown_above, k_unknown_adult_above,
             k_unknown_child_above, k_unknown_unknown_above, i_male_adult_above,
             i_male_child_above, i_male_unknown_above, i_female_adult_above,
             i_female_child_above, i_female_unknown_above, i_unknown_adult_above,
             i_unknown_child_above, i_unknown_unknown_above
      FROM rollup_contributions WHERE gset >= 14
      UNION ALL
      SELECT gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts,
             -incidents, -killed, -injured, -k_male_adult, -k_male_child, -k_male_unknown,
             -k_female_adult, -k_female_child, -k_female_unknown, -k_unknown_adult,
             -k_unknown_child, -k_unknown_unknown, -i_male_adult, -i_male_child,
             -i_male_unknown, -i_female_adult, -i_female_child, -i_female_unknown,
             -i_unknown_adult, -i_unknown_child, -i_unknown_unknown, -unharmed, -abducted,
             -killed_below, -killed_above, -injured_below, -injured_above, -k_male_adult_below,
             -k_male_child_below, -k_male_unknown_below, -k_female_adult_below,
             -k_female_child_below, -k_female_unknown_below, -k_unknown_adult_below,
             -k_unknown_child_below, -k_unknown_unknown_below, -i_male_adult_below,
             -i_male_child_below, -i_male_unknown_below, -i_female_adult_below,
             -i_female_child_below, -i_female_unknown_below, -i_unknown_adult_below,
             -i_unknown_child_below, -i_unknown_unknown_below, -k_male_adult_above,
             -k_male_child_above, -k_male_unknown_above, -k_female_adult_above,
             -k_female_child_above, -k_female_unknown_above, -k_unknown_adult_above,
             -k_unknown_child_above, -k_unknown_unknown_above, -i_male_adult_above,
             -i_male_child_above, -i_male_unknown_above, -i_female_adult_above,
             -i_female_child_above, -i_female_unknown_above, -i_unknown_adult_above,
             -i_unknown_child_above, -i_unknown_unknown_above
      FROM rollup_journal_cells WHERE gset >= 14) x
GROUP BY gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts
HAVING sum(incidents) <> 0 OR sum(killed) <> 0 OR sum(injured) <> 0 OR sum(unharmed) <> 0 OR sum(abducted) <> 0 OR sum(killed_below) <> 0 OR sum(killed_above) <> 0 OR sum(injured_below) <> 0 OR sum(injured_above) <> 0
ORDER BY gset, status, period, admin1, admin2, party, tactic, weapon, attribution, impacts;

ANALYZE rollup_cells;
