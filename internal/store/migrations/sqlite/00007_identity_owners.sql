-- +goose Up
-- Who answers for each model's identity, its key id, and until when it is verified
-- (Unix milliseconds; 0 when it is not verified): the policy's
-- registry.verified_general_owners counts the distinct owners of verified
-- generals on every write of a general, and a re-check reads every verified
-- identity at once to count endorsements; this index answers both without
-- reading the documents.
ALTER TABLE models ADD COLUMN identity_owner TEXT NOT NULL DEFAULT '';
ALTER TABLE models ADD COLUMN identity_key_id TEXT NOT NULL DEFAULT '';
ALTER TABLE models ADD COLUMN identity_verified_until INTEGER NOT NULL DEFAULT 0;
UPDATE models SET
    identity_owner = coalesce(json_extract(CAST(doc AS TEXT), '$.identity.owner'), ''),
    identity_key_id = coalesce(json_extract(CAST(doc AS TEXT), '$.identity.key_id'), ''),
    identity_verified_until = CASE
        WHEN json_extract(CAST(doc AS TEXT), '$.identity.status') = 'verified'
        THEN CAST(unixepoch(json_extract(CAST(doc AS TEXT), '$.identity.expires_at'), 'subsec') * 1000 AS INTEGER)
        ELSE 0 END
WHERE json_extract(CAST(doc AS TEXT), '$.identity') IS NOT NULL;
CREATE INDEX models_identity_owners ON models (role, identity_verified_until, identity_owner)
    WHERE identity_verified_until != 0;

-- +goose Down
DROP INDEX models_identity_owners;
ALTER TABLE models DROP COLUMN identity_verified_until;
ALTER TABLE models DROP COLUMN identity_key_id;
ALTER TABLE models DROP COLUMN identity_owner;
