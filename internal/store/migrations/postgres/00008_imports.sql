-- +goose Up
-- Applied imports: what each batch touched (doc), so that it can be rolled
-- back. created_at is nanoseconds since the epoch.
CREATE TABLE imports (
    id         TEXT COLLATE "C" PRIMARY KEY,
    created_at BIGINT NOT NULL,
    doc        JSON   NOT NULL
);

-- +goose Down
DROP TABLE imports;
