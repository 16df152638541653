-- +goose Up
-- The audit log: one row per recorded decision. leaf is the exact byte
-- string that was hashed into the Merkle tree; the other columns copy
-- fields of it for filtering. seq is assigned by the appender as the log's
-- size, inside a write transaction (writes are serialized).
CREATE TABLE audit_entries (
    seq       bigint PRIMARY KEY,
    time      bigint NOT NULL,
    principal text   NOT NULL,
    action    text   NOT NULL,
    target    text   NOT NULL,
    outcome   text   NOT NULL,
    leaf      bytea  NOT NULL
);
CREATE INDEX audit_entries_target ON audit_entries (target, seq);
CREATE INDEX audit_entries_principal ON audit_entries (principal, seq);
CREATE INDEX audit_entries_action ON audit_entries (action, seq);
CREATE INDEX audit_entries_outcome ON audit_entries (outcome, seq);
CREATE INDEX audit_entries_time ON audit_entries (time, seq);

-- The Merkle tree's stored hashes, at tlog's stored hash indexes: what is
-- needed to compute any tree hash and proof in O(log n) reads.
CREATE TABLE audit_hashes (
    idx  bigint PRIMARY KEY,
    hash bytea  NOT NULL CHECK (length(hash) = 32)
);

-- +goose Down
DROP TABLE audit_hashes;
DROP TABLE audit_entries;
