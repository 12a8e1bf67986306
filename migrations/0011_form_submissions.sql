-- Filled forms (OpenRosa submissions, KoboToolbox pushes) by their
-- instanceID, which every XForm client gives a submission once and keeps
-- on retries: a submission seen before is answered "already received" and
-- counts once. An edited form names the instance it replaces
-- (deprecated_id); its incident is the one that instance created or last
-- amended, so an edit of an edit finds it too.
CREATE TABLE form_submissions (
    instance_id   text PRIMARY KEY CHECK (length(instance_id) BETWEEN 1 AND 128),
    key_id        bigint NOT NULL REFERENCES api_keys (id),
    request_hash  bytea NOT NULL,
    incident_id   bigint REFERENCES incidents (id),
    deprecated_id text REFERENCES form_submissions (instance_id),
    channel       text NOT NULL CHECK (channel IN ('openrosa', 'kobo')),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX form_submissions_incident ON form_submissions (incident_id);
