-- +goose Up
-- Every policy bundle version ever uploaded, kept forever.
CREATE TABLE policies (
    version     bigint PRIMARY KEY,
    name        text   NOT NULL,
    description text   NOT NULL DEFAULT '',
    hash        text   NOT NULL,
    bundle      json   NOT NULL,
    created_at  bigint NOT NULL,
    created_by  text   NOT NULL
);

-- Every activation; the active bundle is the one of the last activation.
CREATE TABLE policy_activations (
    seq          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    version      bigint NOT NULL REFERENCES policies (version),
    activated_at bigint NOT NULL,
    activated_by text   NOT NULL,
    report       json   NOT NULL
);
CREATE INDEX policy_activations_version ON policy_activations (version, seq);

-- +goose Down
DROP TABLE policy_activations;
DROP TABLE policies;
