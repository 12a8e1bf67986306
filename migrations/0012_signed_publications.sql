-- Signed publications. Every published report snapshot and every public
-- form of one is signed with the mission's Ed25519 key, and each takes a
-- place in one hash chain: its link (a short canonical JSON statement of
-- its sequence number, what it is, the SHA-256 of its bytes and the hash of
-- the link before it) is signed too. A publication removed, altered or
-- moved breaks the chain where it stood (civcasd verify --chain).
--
-- The private keys never enter the database: civcasd serve reads one from
-- the file CIVCAS_SIGNING_KEY names. The public keys are here, with the
-- period each was in use, so every old publication stays verifiable after
-- the key is rotated.

CREATE TABLE signing_keys (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    public_key  text NOT NULL UNIQUE CHECK (public_key ~ '^[0-9a-f]{64}$'),
    fingerprint text NOT NULL UNIQUE CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
    valid_from  timestamptz NOT NULL DEFAULT now(),
    valid_until timestamptz,
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);

-- A key is only ever retired: its public half and start never change, and
-- its end is set once.
CREATE FUNCTION signing_keys_retire_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP <> 'UPDATE' OR NEW.public_key <> OLD.public_key
       OR NEW.fingerprint <> OLD.fingerprint OR NEW.valid_from <> OLD.valid_from
       OR OLD.valid_until IS NOT NULL THEN
        RAISE EXCEPTION 'a signing key can only be retired, once'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END
$$;

CREATE TRIGGER signing_keys_no_change
    BEFORE UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION signing_keys_retire_only();

CREATE TABLE publications (
    seq             bigint PRIMARY KEY CHECK (seq >= 1),
    kind            text NOT NULL CHECK (kind IN ('report', 'public_report')),
    report_id       bigint NOT NULL REFERENCES report_snapshots (id),
    body_sha256     text NOT NULL CHECK (body_sha256 ~ '^[0-9a-f]{64}$'),
    -- Ed25519 over the publication's bytes, as served.
    body_signature  text NOT NULL CHECK (body_signature ~ '^[0-9a-f]{128}$'),
    -- The canonical JSON statement that chains it, its hash and signature.
    link            text NOT NULL,
    link_sha256     text NOT NULL UNIQUE CHECK (link_sha256 ~ '^[0-9a-f]{64}$'),
    link_signature  text NOT NULL CHECK (link_signature ~ '^[0-9a-f]{128}$'),
    key_id          bigint NOT NULL REFERENCES signing_keys (id),
    UNIQUE (kind, report_id)
);

CREATE TRIGGER publications_no_update
    BEFORE UPDATE OR DELETE ON publications
    FOR EACH ROW EXECUTE FUNCTION report_snapshots_immutable();
CREATE TRIGGER publications_no_truncate
    BEFORE TRUNCATE ON publications
    FOR EACH STATEMENT EXECUTE FUNCTION report_snapshots_immutable();
