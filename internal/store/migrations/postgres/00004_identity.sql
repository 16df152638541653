-- +goose Up
-- API tokens. The secret is never stored: only its SHA-256 hash, by which a
-- request's bearer token is found (hash is UNIQUE, so the lookup walks an
-- index), and its prefix, to recognise it in a listing. roles keeps the
-- order given (NULL when none was). Revoked and expired tokens stay, so
-- that the history and the audit log can still name them; revoked_at is
-- NULL while the token is live, expires_at NULL when it never expires.
-- There are few tokens, and listing them sorts them all anyway, so
-- created_at has no index.
CREATE TABLE tokens (
    id         text   COLLATE "C" PRIMARY KEY,
    name       text   NOT NULL,
    roles      text[],
    prefix     text   NOT NULL,
    hash       bytea  NOT NULL UNIQUE,
    created_at bigint NOT NULL,
    created_by text   NOT NULL,
    expires_at bigint,
    revoked_at bigint,
    revoked_by text   NOT NULL DEFAULT ''
);

-- Which model holds each public key id (kind 'key') and each artifact
-- digest (kind 'artifact'). The primary key makes a claim unique within its
-- kind. Claims are never deleted: a key or artifact once used by a model
-- can never speak for another one, even after a revocation or a rotation.
CREATE TABLE identity_claims (
    kind       text   NOT NULL,
    value      text   NOT NULL,
    model_id   text   NOT NULL,
    claimed_at bigint NOT NULL,
    PRIMARY KEY (kind, value)
);

-- Challenges given out and not yet answered. A row is deleted when its
-- nonce is answered, so that no nonce is answered twice, and the expired
-- ones are swept by expires_at. new_key_id, new_key_type and new_public_key
-- are '' unless the challenge authorises a rotation.
CREATE TABLE identity_challenges (
    nonce          text   PRIMARY KEY,
    model_id       text   NOT NULL,
    purpose        text   NOT NULL,
    key_id         text   NOT NULL,
    new_key_id     text   NOT NULL DEFAULT '',
    new_key_type   text   NOT NULL DEFAULT '',
    new_public_key text   NOT NULL DEFAULT '',
    expires_at     bigint NOT NULL,
    created_at     bigint NOT NULL,
    created_by     text   NOT NULL
);
CREATE INDEX identity_challenges_expires_at ON identity_challenges (expires_at);

-- +goose Down
DROP TABLE identity_challenges;
DROP TABLE identity_claims;
DROP TABLE tokens;
