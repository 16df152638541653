-- +goose Up
-- Webhook subscriptions, with their delivery state. The secret is kept as
-- given, since signing needs it (unlike a token's, which is only hashed).
-- cursor is the sequence number of the last event delivered; a failed
-- delivery counts in failures and sets next_attempt_at; status is active
-- or disabled. types is a JSON array (empty: every type). There are few
-- subscriptions, so the table is clustered on its text id and listed by a
-- sort of them all.
CREATE TABLE webhooks (
    id              TEXT    PRIMARY KEY,
    url             TEXT    NOT NULL,
    types           TEXT    NOT NULL,
    description     TEXT    NOT NULL DEFAULT '',
    secret          TEXT    NOT NULL,
    status          TEXT    NOT NULL,
    disabled_reason TEXT    NOT NULL DEFAULT '',
    created_at      TEXT    NOT NULL,
    created_by      TEXT    NOT NULL,
    cursor          INTEGER NOT NULL,
    failures        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_success_at TEXT,
    last_failure_at TEXT
) WITHOUT ROWID;

-- The delivery log: one row per attempt, numbered across subscriptions.
-- A subscription's log is read newest first and pruned to its newest rows,
-- both through (webhook_id, id).
CREATE TABLE webhook_deliveries (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook_id    TEXT    NOT NULL,
    event_seq     INTEGER NOT NULL,
    event_type    TEXT    NOT NULL,
    message_id    TEXT    NOT NULL,
    attempt       INTEGER NOT NULL,
    time          TEXT    NOT NULL,
    ok            INTEGER NOT NULL,
    status        INTEGER NOT NULL,
    error         TEXT    NOT NULL DEFAULT '',
    duration_ms   REAL    NOT NULL,
    response      TEXT    NOT NULL DEFAULT '',
    redelivery_of INTEGER NOT NULL DEFAULT 0,
    by            TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- Leases: work that one registry process at a time may do (webhook
-- dispatch), held by holder until expires_at (unix milliseconds).
CREATE TABLE leases (
    name       TEXT    PRIMARY KEY,
    holder     TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE leases;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
