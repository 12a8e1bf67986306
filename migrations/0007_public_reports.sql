-- The public form of a published report, frozen when a reviewer makes it
-- public (POST /v1/reports/{id}/public): the tables of the public release
-- at that moment, with the counts withheld then. Served as stored by
-- GET /v1/public/reports/{id}; never changed or removed, like the
-- snapshots it belongs to.
CREATE TABLE public_reports (
    report_id   bigint PRIMARY KEY REFERENCES report_snapshots (id),
    sha256      text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    body        text NOT NULL,
    min_cell    integer NOT NULL CHECK (min_cell >= 1),
    made_by     bigint NOT NULL REFERENCES api_keys (id),
    made_at     timestamptz NOT NULL
);

CREATE TRIGGER public_reports_no_update
    BEFORE UPDATE OR DELETE ON public_reports
    FOR EACH ROW EXECUTE FUNCTION report_snapshots_immutable();
CREATE TRIGGER public_reports_no_truncate
    BEFORE TRUNCATE ON public_reports
    FOR EACH STATEMENT EXECUTE FUNCTION report_snapshots_immutable();
