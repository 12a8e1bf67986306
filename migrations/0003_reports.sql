-- Published report snapshots: immutable once written. A published report
-- must read exactly as it did the day it was published, whatever happens to
-- the incidents later, so the database itself refuses changes.

CREATE SEQUENCE report_snapshots_id_seq;

CREATE TABLE report_snapshots (
    -- Taken from the sequence before the insert: the stored body already
    -- contains its own id and creation time.
    id          bigint PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('poc')),
    title       text NOT NULL,
    parameters  jsonb NOT NULL,
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    body        text NOT NULL,
    created_by  bigint NOT NULL REFERENCES api_keys (id),
    created_at  timestamptz NOT NULL
);
ALTER SEQUENCE report_snapshots_id_seq OWNED BY report_snapshots.id;
CREATE INDEX report_snapshots_created_idx ON report_snapshots (created_at DESC, id DESC);

CREATE FUNCTION report_snapshots_immutable() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'report snapshots are immutable'
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER report_snapshots_no_update
    BEFORE UPDATE OR DELETE ON report_snapshots
    FOR EACH ROW EXECUTE FUNCTION report_snapshots_immutable();
CREATE TRIGGER report_snapshots_no_truncate
    BEFORE TRUNCATE ON report_snapshots
    FOR EACH STATEMENT EXECUTE FUNCTION report_snapshots_immutable();
