-- Taxonomy, API keys, incidents with their casualty groups and sources,
-- revisions and idempotency records.
--
-- Codes are lower_snake text keys shared by the database and the API. Code
-- lists are data (loaded by `civcasd taxonomy load`); only the closed sets
-- the domain fixes (outcome, sex, age group, status, precisions, roles) are
-- CHECK constraints.

CREATE TABLE taxonomy_meta (
    id          boolean PRIMARY KEY DEFAULT true CHECK (id),
    name        text NOT NULL,
    revision    bigint NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE party_groups (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,64}$'),
    name        text NOT NULL,
    sort        integer NOT NULL,
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE parties (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,64}$'),
    name        text NOT NULL,
    group_code  text NOT NULL REFERENCES party_groups (code),
    sort        integer NOT NULL,
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE tactics (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,64}$'),
    name        text NOT NULL,
    sort        integer NOT NULL,
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE weapons (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,64}$'),
    name        text NOT NULL,
    sort        integer NOT NULL,
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE source_types (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,64}$'),
    name        text NOT NULL,
    sort        integer NOT NULL,
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE regions (
    code        text PRIMARY KEY CHECK (code ~ '^[a-z0-9_]{1,64}$'),
    name        text NOT NULL,
    sort        integer NOT NULL,
    active      boolean NOT NULL DEFAULT true
);

-- P-codes stay text: leading zeros, letters and dashes occur.
CREATE TABLE admin_areas (
    pcode        text PRIMARY KEY CHECK (pcode ~ '^[A-Za-z0-9-]{1,32}$'),
    name         text NOT NULL,
    level        smallint NOT NULL CHECK (level BETWEEN 0 AND 3),
    parent       text REFERENCES admin_areas (pcode),
    region       text REFERENCES regions (code),
    illustrative boolean NOT NULL DEFAULT false,
    sort         integer NOT NULL,
    active       boolean NOT NULL DEFAULT true,
    CHECK ((level = 0) = (parent IS NULL))
);
CREATE INDEX admin_areas_parent_idx ON admin_areas (parent);

CREATE TABLE api_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    role        text NOT NULL
                CHECK (role IN ('monitor', 'reviewer', 'analyst', 'admin')),
    key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
    created_at  timestamptz NOT NULL DEFAULT now(),
    revoked_at  timestamptz
);

CREATE TABLE incidents (
    id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version               integer NOT NULL DEFAULT 1 CHECK (version >= 1),
    status                text NOT NULL DEFAULT 'reported'
                          CHECK (status IN ('reported', 'verified', 'rejected',
                                            'duplicate', 'retracted')),
    duplicate_of          bigint REFERENCES incidents (id),
    verification_override boolean NOT NULL DEFAULT false,
    occurred_on           date NOT NULL,
    date_precision        text NOT NULL DEFAULT 'day'
                          CHECK (date_precision IN ('day', 'week', 'month')),
    time_of_day           time,
    admin1                text NOT NULL REFERENCES admin_areas (pcode),
    admin2                text REFERENCES admin_areas (pcode),
    place                 text,
    lat                   double precision CHECK (lat BETWEEN -90 AND 90),
    lon                   double precision CHECK (lon BETWEEN -180 AND 180),
    location_precision    text CHECK (location_precision IN
                                      ('exact', 'near', 'admin2', 'admin1')),
    tactic                text NOT NULL REFERENCES tactics (code),
    weapon                text NOT NULL REFERENCES weapons (code),
    perpetrator           text NOT NULL REFERENCES parties (code),
    narrative             text,
    external_ref          text,
    killed                integer NOT NULL CHECK (killed >= 0),
    injured               integer NOT NULL CHECK (injured >= 0),
    source_types          integer NOT NULL CHECK (source_types >= 0),
    created_by            bigint NOT NULL REFERENCES api_keys (id),
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    -- Transaction id of the latest change: the incremental-sync feed orders
    -- by it and only shows changes older than every transaction in flight,
    -- so a change that commits late is never skipped.
    change_xid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CHECK ((lat IS NULL) = (lon IS NULL)),
    CHECK ((status = 'duplicate') = (duplicate_of IS NOT NULL)),
    CHECK (duplicate_of IS DISTINCT FROM id)
);
CREATE INDEX incidents_occurred_idx ON incidents (occurred_on DESC, id DESC);
CREATE INDEX incidents_change_idx ON incidents (change_xid, id);
CREATE INDEX incidents_created_by_idx ON incidents (created_by, occurred_on DESC, id DESC);

-- Victims of one incident sharing outcome, sex and age group.
CREATE TABLE casualty_groups (
    incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    ordinal     smallint NOT NULL CHECK (ordinal >= 0),
    outcome     text NOT NULL CHECK (outcome IN ('killed', 'injured')),
    sex         text NOT NULL CHECK (sex IN ('male', 'female', 'unknown')),
    age_group   text NOT NULL CHECK (age_group IN ('adult', 'child', 'unknown')),
    count       integer NOT NULL CHECK (count BETWEEN 1 AND 100000),
    PRIMARY KEY (incident_id, ordinal)
);

-- Personal details of a one-person casualty group: kept apart so that they
-- can be granted separately and never join an aggregate by accident.
CREATE TABLE casualty_personal (
    incident_id bigint NOT NULL,
    ordinal     smallint NOT NULL,
    name        text,
    age         smallint CHECK (age BETWEEN 0 AND 120),
    PRIMARY KEY (incident_id, ordinal),
    FOREIGN KEY (incident_id, ordinal)
        REFERENCES casualty_groups (incident_id, ordinal) ON DELETE CASCADE,
    CHECK (name IS NOT NULL OR age IS NOT NULL)
);

CREATE TABLE incident_sources (
    incident_id bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    ordinal     smallint NOT NULL CHECK (ordinal >= 0),
    type        text NOT NULL REFERENCES source_types (code),
    reference   text,
    PRIMARY KEY (incident_id, ordinal)
);

-- Every version of every incident: who, when, why, what changed, and the
-- full document as it stood, so any past state can be reproduced.
CREATE TABLE incident_revisions (
    incident_id bigint NOT NULL REFERENCES incidents (id),
    version     integer NOT NULL CHECK (version >= 1),
    status      text NOT NULL,
    key_id      bigint NOT NULL REFERENCES api_keys (id),
    at          timestamptz NOT NULL DEFAULT now(),
    reason      text,
    changes     jsonb NOT NULL,
    document    jsonb NOT NULL,
    PRIMARY KEY (incident_id, version)
);

-- A client-chosen key per submission: a retried POST returns the first
-- answer instead of creating a second incident.
CREATE TABLE idempotency_keys (
    key_id       bigint NOT NULL REFERENCES api_keys (id),
    idem_key     text NOT NULL,
    request_hash bytea NOT NULL,
    incident_id  bigint REFERENCES incidents (id),
    response     text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key_id, idem_key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
