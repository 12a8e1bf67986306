-- Finding duplicates: the indexes that bound a search for one incident's
-- candidates, the pairs found likely enough for the reviewers' queue, the
-- pairs reviewers dismissed, and the lineage of sources merged from a
-- duplicate into the incident kept.
--
-- pg_trgm ships with PostgreSQL (contrib; on Debian 12 in the postgresql-15
-- package) and is a trusted extension: the owner of the database, which is
-- who runs `civcasd migrate`, may create it without being a superuser.
-- IF NOT EXISTS: an operator may have created it already (in public).

CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

-- A candidate is searched by province and date window, by coordinates and
-- date window, by external reference, or by similar narrative within the
-- date window; each of those is an index range, never a scan of the table. The province's
-- index leads with the date precision: a window is a day either side for
-- the 9 in 10 incidents known to the day and a month only for those known
-- to the month, so three narrow ranges replace one two months wide (a
-- tenth of the rows).
CREATE INDEX incidents_admin1_date_idx ON incidents (admin1, date_precision, occurred_on);
CREATE INDEX incidents_coords_date_idx ON incidents (occurred_on, lat, lon)
    WHERE lat IS NOT NULL;
CREATE INDEX incidents_external_ref_idx ON incidents (external_ref)
    WHERE external_ref IS NOT NULL;
-- Narratives are compared (pg_trgm's similarity) only within the date
-- window, a precision at a time, as the province's are: a few hundred a
-- search. A trigram GIN index is no help here: every narrative shares the
-- common trigrams of its language, so a similarity search through one
-- reads the posting lists of most narratives (at 1M incidents, 100,000 of
-- them with a narrative, one search took 310 ms; docs/performance.md).
CREATE INDEX incidents_narrative_date_idx ON incidents (date_precision, occurred_on)
    WHERE narrative IS NOT NULL;

-- Likely pairs (score at or above the queue's threshold), kept for every
-- incident after it is written (from duplicate_pending, below, by a thread
-- of civcasd serve): a = the lower id. reasons: the evidence, by
-- field name, never a field's text.
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

-- Incidents whose pairs are to be found again: a create, an amendment, an
-- import or a status change back to reported or verified adds a row in its
-- own transaction, and the queue keeper of civcasd serve takes rows from it
-- in batches, refreshing their incidents' pairs (a search for candidates
-- each) off the write path. A heap without indexes or keys, like the
-- rollup journal: the insert is cheap and no two writers wait on a row. An
-- incident written twice before it is taken has two rows (refreshed once
-- per batch); an id that is no incident (never: incidents are not
-- deleted) would be taken and clear nothing.
CREATE TABLE duplicate_pending (
    incident_id  bigint NOT NULL
);

-- "Not a duplicate": who decided, when and why. A dismissed pair leaves the
-- queue for good, whatever its score becomes.
CREATE TABLE duplicate_dismissals (
    a       bigint NOT NULL REFERENCES incidents (id),
    b       bigint NOT NULL REFERENCES incidents (id),
    key_id  bigint NOT NULL REFERENCES api_keys (id),
    reason  text NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (a, b),
    CHECK (a < b)
);

-- A source the incident gained when a duplicate was merged into it: the
-- duplicate's id (a record of lineage, not a reference: it is carried in
-- the incident document, so an amendment that replaces the sources keeps or
-- drops it). Undoing the duplicate removes exactly these.
ALTER TABLE incident_sources ADD merged_from bigint;
CREATE INDEX incident_sources_merged_idx ON incident_sources (merged_from)
    WHERE merged_from IS NOT NULL;
