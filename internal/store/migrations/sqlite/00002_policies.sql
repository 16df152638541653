-- +goose Up
-- Every policy bundle version ever uploaded, kept forever.
CREATE TABLE policies (
    version     INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    hash        TEXT    NOT NULL,
    bundle      BLOB    NOT NULL,
    created_at  TEXT    NOT NULL,
    created_by  TEXT    NOT NULL
);

-- Every activation; the active bundle is the one of the last activation.
CREATE TABLE policy_activations (
    seq          INTEGER PRIMARY KEY,
    version      INTEGER NOT NULL REFERENCES policies (version),
    activated_at TEXT    NOT NULL,
    activated_by TEXT    NOT NULL,
    report       BLOB    NOT NULL
);

-- A model's standing against the active bundle: '' when it complies,
-- 'non_compliant' otherwise, with the deadline at which its role is lowered.
ALTER TABLE models ADD COLUMN compliance TEXT NOT NULL DEFAULT '';
ALTER TABLE models ADD COLUMN deadline TEXT NOT NULL DEFAULT '';
CREATE INDEX models_compliance ON models (compliance, model_id);
CREATE INDEX models_deadline ON models (deadline) WHERE deadline != '';

-- +goose Down
DROP INDEX models_deadline;
DROP INDEX models_compliance;
ALTER TABLE models DROP COLUMN deadline;
ALTER TABLE models DROP COLUMN compliance;
DROP TABLE policy_activations;
DROP TABLE policies;
