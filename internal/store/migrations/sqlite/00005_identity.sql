-- +goose Up
-- API tokens. The secret is never stored: only its SHA-256 hash, by which a
-- request's bearer token is found (hash is UNIQUE, so the lookup walks an
-- index), and its prefix, to recognise it in a listing. roles is a JSON
-- array, in the order given. Revoked and expired tokens stay, so that the
-- history and the audit log can still name them; revoked_at is NULL while
-- the token is live, expires_at NULL when it never expires. Rows are small,
-- so the table is clustered on its text id. There are few tokens, and
-- listing them sorts them all anyway, so created_at has no index.
CREATE TABLE tokens (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    roles      TEXT    NOT NULL,
    prefix     TEXT    NOT NULL,
    hash       BLOB    NOT NULL UNIQUE,
    created_at TEXT    NOT NULL,
    created_by TEXT    NOT NULL,
    expires_at TEXT,
    revoked_at TEXT,
    revoked_by TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;

-- Which model holds each public key id (kind 'key') and each artifact
-- digest (kind 'artifact'). The primary key makes a claim unique within its
-- kind. Claims are never deleted: a key or artifact once used by a model
-- can never speak for another one, even after a revocation or a rotation.
CREATE TABLE identity_claims (
    kind       TEXT    NOT NULL,
    value      TEXT    NOT NULL,
    model_id   TEXT    NOT NULL,
    claimed_at TEXT    NOT NULL,
    PRIMARY KEY (kind, value)
) WITHOUT ROWID;

-- Challenges given out and not yet answered. A row is deleted when its
-- nonce is answered, so that no nonce is answered twice, and the expired
-- ones are swept by expires_at. new_key_id, new_key_type and new_public_key
-- are '' unless the challenge authorises a rotation.
CREATE TABLE identity_challenges (
    nonce          TEXT    PRIMARY KEY,
    model_id       TEXT    NOT NULL,
    purpose        TEXT    NOT NULL,
    key_id         TEXT    NOT NULL,
    new_key_id     TEXT    NOT NULL DEFAULT '',
    new_key_type   TEXT    NOT NULL DEFAULT '',
    new_public_key TEXT    NOT NULL DEFAULT '',
    expires_at     TEXT    NOT NULL,
    created_at     TEXT    NOT NULL,
    created_by     TEXT    NOT NULL
) WITHOUT ROWID;
CREATE INDEX identity_challenges_expires_at ON identity_challenges (expires_at);

-- +goose Down
DROP TABLE identity_challenges;
DROP TABLE identity_claims;
DROP TABLE tokens;
