-- +goose Up
-- The audit log: one row per recorded decision. leaf is the exact byte
-- string that was hashed into the Merkle tree; the other columns copy
-- fields of it for filtering.
CREATE TABLE audit_entries (
    seq       INTEGER PRIMARY KEY,
    time      TEXT    NOT NULL,
    principal TEXT    NOT NULL,
    action    TEXT    NOT NULL,
    target    TEXT    NOT NULL,
    outcome   TEXT    NOT NULL,
    leaf      BLOB    NOT NULL
);
CREATE INDEX audit_entries_target ON audit_entries (target, seq);
CREATE INDEX audit_entries_principal ON audit_entries (principal, seq);
CREATE INDEX audit_entries_action ON audit_entries (action, seq);
CREATE INDEX audit_entries_outcome ON audit_entries (outcome, seq);
CREATE INDEX audit_entries_time ON audit_entries (time, seq);

-- The Merkle tree's stored hashes, at tlog's stored hash indexes: what is
-- needed to compute any tree hash and proof in O(log n) reads.
CREATE TABLE audit_hashes (
    idx  INTEGER PRIMARY KEY,
    hash BLOB    NOT NULL
);

-- +goose Down
DROP TABLE audit_hashes;
DROP TABLE audit_entries;
