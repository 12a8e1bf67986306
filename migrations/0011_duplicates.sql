-- Finding duplicates: the index that bounds a search for one incident's
-- candidates, the pairs found likely enough for the reviewers' queue and
-- how far their upkeep has read the incidents, the pairs reviewers
-- dismissed (and undid), and the lineage of sources merged from a
-- duplicate into the incident kept.
--
-- pg_trgm ships with PostgreSQL (contrib; on Debian 12 in the postgresql-15
-- package) and is a trusted extension: the owner of the database, which is
-- who runs `civcasd migrate`, may create it without being a superuser.
-- IF NOT EXISTS: an operator may have created it already (in public).

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- A search reads the incidents of its date window, a precision at a time,
-- and only then compares province, coordinates, external reference and
-- narrative (pg_trgm's similarity, no trigram index: every narrative
-- shares its language's common trigrams, so one reads most of them). The
-- 9 in 10 incidents known to the day come through incidents_occurred_idx
-- (0001), a day either side; those known to the week or month, whose
-- windows are wider, through this index, which holds only them, so that a
-- write of an incident known to the day keeps no index more than before
-- (docs/performance.md, "What duplicates cost a write").
CREATE INDEX incidents_imprecise_date_idx ON incidents (date_precision, occurred_on)
    WHERE date_precision <> 'day';

-- Likely pairs (score at or above the queue's threshold), kept by a thread
-- of civcasd serve after the writes: a = the lower id. reasons: the
-- evidence, by field name, never a field's text.
CREATE TABLE duplicate_pairs (
    a         bigint NOT NULL REFERENCES incidents (id),
    b         bigint NOT NULL REFERENCES incidents (id),
    score     numeric(4, 3) NOT NULL CHECK (score BETWEEN 0 AND 1),
    reasons   jsonb NOT NULL,
    found_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (a, b),
    CHECK (a < b)
);
CREATE INDEX duplicate_pairs_b_idx ON duplicate_pairs (b, a);

-- How far the queue keeper has read: every incident written (created,
-- amended, imported, its status changed) carries its transaction's id in
-- change_xid, and the keeper takes the incidents after this position in
-- (change_xid, id) order through incidents_change_idx (0001), only those
-- older than every transaction still running (so one committing late is
-- never passed over), refreshing their pairs and moving the position in
-- the same transaction. A write pays nothing for it. The position starts
-- before every incident: those recorded before this migration are taken
-- in first, a batch a transaction.
CREATE TABLE duplicate_watermark (
    one         boolean PRIMARY KEY DEFAULT true CHECK (one),
    change_xid  xid8 NOT NULL,
    id          bigint NOT NULL
);
INSERT INTO duplicate_watermark (change_xid, id) VALUES ('0', 0);
-- A database restored from another cluster's dump carries that cluster's
-- transaction ids in change_xid, possibly ahead of this cluster's own: the
-- keeper would wait for them to be in the past, for ever. They become
-- this migration's.
UPDATE incidents SET change_xid = pg_current_xact_id()
WHERE change_xid >= pg_current_xact_id();

-- "Not a duplicate": who decided, when and why; and, when a reviewer
-- undid it, who, when and why. A pair dismissed (and not undone) leaves
-- the queue whatever its score becomes; it may be dismissed again after an
-- undo, as a new dismissal. Rows are never deleted: this is the record.
CREATE TABLE duplicate_dismissals (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    a               bigint NOT NULL REFERENCES incidents (id),
    b               bigint NOT NULL REFERENCES incidents (id),
    key_id          bigint NOT NULL REFERENCES api_keys (id),
    reason          text NOT NULL,
    at              timestamptz NOT NULL DEFAULT now(),
    undone_key_id   bigint REFERENCES api_keys (id),
    undone_reason   text,
    undone_at       timestamptz,
    CHECK (a < b),
    CHECK ((undone_key_id IS NULL) = (undone_at IS NULL)
           AND (undone_key_id IS NULL) = (undone_reason IS NULL))
);
CREATE UNIQUE INDEX duplicate_dismissals_pair_idx ON duplicate_dismissals (a, b)
    WHERE undone_at IS NULL;

-- A source the incident gained when a duplicate was merged into it: the
-- duplicate's id (a record of lineage, not a reference). Set by the server
-- only: an amendment of the sources replaces the incident's own and keeps
-- these; undoing the duplicate removes exactly these.
ALTER TABLE incident_sources ADD merged_from bigint;
