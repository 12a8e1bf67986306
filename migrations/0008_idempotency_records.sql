-- Idempotency records keep only the id of the incident a request created:
-- the full response they used to keep held narratives, source references
-- and personal details, which outlived amendments that removed them and
-- came back through replays. A replay now shows the incident as it stands.
UPDATE idempotency_keys
   SET response = json_build_object('id', incident_id::text)::text
 WHERE response IS NOT NULL AND incident_id IS NOT NULL;
