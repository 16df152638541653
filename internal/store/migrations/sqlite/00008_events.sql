-- +goose Up
-- The event outbox: every committed change writes one CloudEvents event in
-- the same transaction, so that a watcher sees exactly the changes that
-- committed. seq is the rowid itself and is assigned explicitly as
-- max(seq) + 1 inside the write transaction (writes are serialized), never
-- by AUTOINCREMENT: an aborted transaction takes its event with it and the
-- next one reuses its number, so the sequence is gap-free and a watcher can
-- resume from any seq it saw. data is the event's JSON data, byte for byte.
CREATE TABLE events (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL,
    source       TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    subject      TEXT    NOT NULL,
    time         TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    data         BLOB
);
-- A watch filters by subject or by type and pages by seq.
CREATE INDEX events_subject ON events (subject, seq);
CREATE INDEX events_type ON events (type, seq);

-- +goose Down
DROP TABLE events;
