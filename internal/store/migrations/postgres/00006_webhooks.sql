-- +goose Up
-- Webhook subscriptions, with their delivery state. The secret is kept as
-- given, since signing needs it (unlike a token's, which is only hashed).
-- cursor is the sequence number of the last event delivered. A failed
-- delivery counts in failures and sets next_attempt_at. status is active
-- or disabled. types is empty for every type. There are few subscriptions,
-- so they are listed by a sort of them all.
CREATE TABLE webhooks (
    id              text    COLLATE "C" PRIMARY KEY,
    url             text    NOT NULL,
    types           text[]  NOT NULL,
    description     text    NOT NULL DEFAULT '',
    secret          text    NOT NULL,
    status          text    NOT NULL,
    disabled_reason text    NOT NULL DEFAULT '',
    created_at      bigint  NOT NULL,
    created_by      text    NOT NULL,
    cursor          bigint  NOT NULL,
    failures        integer NOT NULL DEFAULT 0,
    next_attempt_at bigint,
    last_success_at bigint,
    last_failure_at bigint
);

-- The delivery log: one row per attempt, numbered across subscriptions in
-- the order of the (serialized) write transactions. A subscription's log
-- is read newest first and pruned to its newest rows, both through
-- (webhook_id, id).
CREATE TABLE webhook_deliveries (
    id            bigint           GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    webhook_id    text             NOT NULL,
    event_seq     bigint           NOT NULL,
    event_type    text             NOT NULL,
    message_id    text             NOT NULL,
    attempt       integer          NOT NULL,
    time          bigint           NOT NULL,
    ok            boolean          NOT NULL,
    status        integer          NOT NULL,
    error         text             NOT NULL DEFAULT '',
    duration_ms   double precision NOT NULL,
    response      text             NOT NULL DEFAULT '',
    redelivery_of bigint           NOT NULL DEFAULT 0,
    by            text             NOT NULL DEFAULT ''
);
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id);

-- Leases: work that one registry process at a time may do (webhook
-- dispatch), held by holder until expires_at.
CREATE TABLE leases (
    name       text   PRIMARY KEY,
    holder     text   NOT NULL,
    expires_at bigint NOT NULL
);

-- +goose Down
DROP TABLE leases;
DROP TABLE webhook_deliveries;
DROP TABLE webhooks;
