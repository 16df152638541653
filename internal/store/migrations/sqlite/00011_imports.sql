-- +goose Up
-- Applied imports: what each batch touched (doc, JSON), so that it can be
-- rolled back. Few rows; listed newest first by created_at.
CREATE TABLE imports (
    id         TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    doc        BLOB NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE imports;
