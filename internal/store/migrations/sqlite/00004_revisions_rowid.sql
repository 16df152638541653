-- +goose Up
-- Revisions move to a rowid table: in a WITHOUT ROWID table SQLite keeps at
-- most about 1,000 bytes of a row in its B-tree page, so every revision (a
-- whole model document, about 1 KB) spilled onto an overflow page of its own,
-- mostly empty. A rowid table keeps rows of up to about 4 KB in the page.
CREATE TABLE revisions_v2 (
    id         INTEGER PRIMARY KEY,
    model_id   TEXT    NOT NULL,
    revision   INTEGER NOT NULL,
    action     TEXT    NOT NULL,
    actor      TEXT    NOT NULL,
    reason     TEXT    NOT NULL DEFAULT '',
    time       TEXT    NOT NULL,
    request_id TEXT    NOT NULL DEFAULT '',
    doc        BLOB
);
INSERT INTO revisions_v2 (model_id, revision, action, actor, reason, time, request_id, doc)
    SELECT model_id, revision, action, actor, reason, time, request_id, doc FROM revisions ORDER BY model_id, revision;
DROP TABLE revisions;
ALTER TABLE revisions_v2 RENAME TO revisions;
CREATE UNIQUE INDEX revisions_model_revision ON revisions (model_id, revision);

-- +goose Down
CREATE TABLE revisions_v1 (
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
INSERT INTO revisions_v1 SELECT model_id, revision, action, actor, reason, time, request_id, doc FROM revisions;
DROP TABLE revisions;
ALTER TABLE revisions_v1 RENAME TO revisions;
