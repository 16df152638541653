-- +goose Up
-- The PostgreSQL schema mirrors the SQLite one as its migrations left it,
-- with PostgreSQL's types:
--
--   - every time is a bigint of nanoseconds since the Unix epoch, UTC:
--     timestamptz keeps only microseconds, and the store gives back exactly
--     the time it was given (the zero time.Time is stored as the smallest
--     bigint);
--   - documents are json, not jsonb: json keeps the text as it was written,
--     so that a document is answered byte for byte as it was stored, while
--     jsonb would reorder its keys and respace it;
--   - hashes and opaque bytes are bytea;
--   - the text columns that pages are ordered or ranged by are COLLATE "C",
--     so that they sort by bytes, as in SQLite, whatever the database's
--     collation.

-- The current document of every model. doc is the whole JSON document; the
-- other columns copy the fields that queries filter on, so that every list
-- request walks an index in model_id order.
CREATE TABLE models (
    pk                      bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    model_id                text    COLLATE "C" NOT NULL UNIQUE,
    provider                text    NOT NULL,
    family                  text    NOT NULL DEFAULT '',
    display_name            text    NOT NULL,
    size_class              text    NOT NULL DEFAULT '',
    status                  text    NOT NULL,
    role                    text    NOT NULL,
    revision                bigint  NOT NULL,
    doc                     json    NOT NULL,
    -- Out of compliance with the active policy bundle, with the deadline
    -- at which its role is lowered (NULL when it complies or has none).
    non_compliant           boolean NOT NULL DEFAULT false,
    deadline                bigint,
    -- Held for a governor's review (governance.review.status pending).
    review_pending          boolean NOT NULL DEFAULT false,
    -- The figures every create compares with its provider's and family's
    -- models, to hold near-duplicates for review; 0 when not declared.
    parameter_count         bigint  NOT NULL DEFAULT 0,
    context_window          bigint  NOT NULL DEFAULT 0,
    -- Who answers for the model's identity, its key id, and until when it
    -- is verified (NULL when it is not verified).
    identity_owner          text    COLLATE "C" NOT NULL DEFAULT '',
    identity_key_id         text    NOT NULL DEFAULT '',
    identity_verified_until bigint
);
CREATE INDEX models_provider ON models (provider, model_id);
CREATE INDEX models_family ON models (family, model_id);
CREATE INDEX models_status ON models (status, model_id);
CREATE INDEX models_role ON models (role, model_id);
CREATE INDEX models_size_class ON models (size_class, model_id);
CREATE INDEX models_non_compliant ON models (model_id) WHERE non_compliant;
CREATE INDEX models_deadline ON models (deadline) WHERE deadline IS NOT NULL;
-- The governors' queue walks a small partial index instead of every model.
CREATE INDEX models_review ON models (model_id) WHERE review_pending;
CREATE INDEX models_figures ON models (parameter_count, context_window)
    WHERE parameter_count <> 0 AND context_window <> 0;
-- registry.verified_general_owners counts the distinct owners of verified
-- models of a role on every write of one, and a re-check reads every
-- verified identity at once: this index answers both without the documents.
CREATE INDEX models_identity_owners ON models (role, identity_verified_until, identity_owner)
    WHERE identity_verified_until IS NOT NULL;

CREATE TABLE model_labels (
    model_pk bigint NOT NULL REFERENCES models (pk) ON DELETE CASCADE,
    key      text   NOT NULL,
    value    text   NOT NULL,
    PRIMARY KEY (model_pk, key)
);
CREATE INDEX model_labels_key_value ON model_labels (key, value, model_pk);

CREATE TABLE model_capabilities (
    model_pk   bigint NOT NULL REFERENCES models (pk) ON DELETE CASCADE,
    capability text   NOT NULL,
    PRIMARY KEY (model_pk, capability)
);
CREATE INDEX model_capabilities_capability ON model_capabilities (capability, model_pk);

-- Every write's result, never updated or deleted. doc is NULL for a deletion.
CREATE TABLE revisions (
    model_id   text   NOT NULL,
    revision   bigint NOT NULL,
    action     text   NOT NULL,
    actor      text   NOT NULL,
    reason     text   NOT NULL DEFAULT '',
    time       bigint NOT NULL,
    request_id text   NOT NULL DEFAULT '',
    doc        json,
    PRIMARY KEY (model_id, revision)
);

CREATE TABLE aliases (
    name       text   COLLATE "C" PRIMARY KEY,
    target     text   NOT NULL,
    revision   bigint NOT NULL,
    updated_at bigint NOT NULL,
    updated_by text   NOT NULL,
    reason     text   NOT NULL DEFAULT ''
);
CREATE INDEX aliases_target ON aliases (target, name);

-- Every move of an alias; target is '' for a removal.
CREATE TABLE alias_revisions (
    name       text   NOT NULL,
    revision   bigint NOT NULL,
    target     text   NOT NULL,
    updated_at bigint NOT NULL,
    updated_by text   NOT NULL,
    reason     text   NOT NULL DEFAULT '',
    PRIMARY KEY (name, revision)
);

CREATE TABLE idempotency_keys (
    scope            text    NOT NULL,
    key              text    NOT NULL,
    request_hash     text    NOT NULL,
    status           integer NOT NULL,
    body             bytea   NOT NULL,
    resource_version text    NOT NULL DEFAULT '',
    created_at       bigint  NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE alias_revisions;
DROP TABLE aliases;
DROP TABLE revisions;
DROP TABLE model_capabilities;
DROP TABLE model_labels;
DROP TABLE models;
