-- +goose Up
-- The current document of every model. doc is the whole JSON document; the
-- other columns copy the fields that queries filter on, so that every list
-- request walks an index in model_id order.
CREATE TABLE models (
    pk           INTEGER PRIMARY KEY,
    model_id     TEXT    NOT NULL UNIQUE,
    provider     TEXT    NOT NULL,
    family       TEXT    NOT NULL DEFAULT '',
    display_name TEXT    NOT NULL,
    size_class   TEXT    NOT NULL DEFAULT '',
    status       TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    revision     INTEGER NOT NULL,
    doc          BLOB    NOT NULL
);
CREATE INDEX models_provider ON models (provider, model_id);
CREATE INDEX models_family ON models (family, model_id);
CREATE INDEX models_status ON models (status, model_id);
CREATE INDEX models_role ON models (role, model_id);
CREATE INDEX models_size_class ON models (size_class, model_id);

CREATE TABLE model_labels (
    model_pk INTEGER NOT NULL REFERENCES models (pk) ON DELETE CASCADE,
    key      TEXT    NOT NULL,
    value    TEXT    NOT NULL,
    PRIMARY KEY (model_pk, key)
) WITHOUT ROWID;
CREATE INDEX model_labels_key_value ON model_labels (key, value, model_pk);

CREATE TABLE model_capabilities (
    model_pk   INTEGER NOT NULL REFERENCES models (pk) ON DELETE CASCADE,
    capability TEXT    NOT NULL,
    PRIMARY KEY (model_pk, capability)
) WITHOUT ROWID;
CREATE INDEX model_capabilities_capability ON model_capabilities (capability, model_pk);

-- Every write's result, never updated or deleted. doc is NULL for a deletion.
CREATE TABLE revisions (
    model_id   TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    time       TEXT    NOT NULL,
    request_id TEXT    NOT NULL DEFAULT '',
    doc        BLOB,
    PRIMARY KEY (model_id, revision)
) WITHOUT ROWID;

CREATE TABLE aliases (
    name       TEXT    PRIMARY KEY,
    target     TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    updated_at TEXT    NOT NULL,
    updated_by TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX aliases_target ON aliases (target, name);

-- Every move of an alias; target is '' for a removal.
CREATE TABLE alias_revisions (
    name       TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    target     TEXT    NOT NULL,
    updated_at TEXT    NOT NULL,
    updated_by TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (name, revision)
) WITHOUT ROWID;

CREATE TABLE idempotency_keys (
    scope            TEXT    NOT NULL,
    key              TEXT    NOT NULL,
    request_hash     TEXT    NOT NULL,
    status           INTEGER NOT NULL,
    body             BLOB    NOT NULL,
    resource_version TEXT    NOT NULL DEFAULT '',
    created_at       TEXT    NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TABLE alias_revisions;
DROP TABLE aliases;
DROP TABLE revisions;
DROP TABLE model_capabilities;
DROP TABLE model_labels;
DROP TABLE models;
