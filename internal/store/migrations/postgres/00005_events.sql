-- +goose Up
-- The event outbox: every committed change writes one CloudEvents event in
-- the same transaction, so that a watcher sees exactly the changes that
-- committed. seq is assigned explicitly as max(seq) + 1 inside the write
-- transaction, which holds the store's write lock (an advisory lock every
-- writer of every process takes first), never by a sequence: an aborted
-- transaction takes its event with it and the next one reuses its number,
-- so the sequence is gap-free and a watcher can resume from any seq it saw.
-- data is the event's JSON data, byte for byte.
CREATE TABLE events (
    seq          bigint PRIMARY KEY,
    id           text   NOT NULL,
    source       text   NOT NULL,
    type         text   NOT NULL,
    subject      text   NOT NULL,
    time         bigint NOT NULL,
    content_type text   NOT NULL,
    data         json
);
-- A watch filters by subject or by type and pages by seq.
CREATE INDEX events_subject ON events (subject, seq);
CREATE INDEX events_type ON events (type, seq);

-- +goose Down
DROP TABLE events;
