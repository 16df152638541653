-- +goose Up
-- The orders a list of models may be sorted in besides model_id (issue
-- 10), each with an index that ends with model_id, so that a sorted page
-- walks its index from the previous page's last row (keyset pagination)
-- and stops after the page, at any number of models. display_name sorts
-- by bytes (COLLATE "C"), as in SQLite, whatever the database's collation.
CREATE INDEX models_display_name ON models ((display_name COLLATE "C"), model_id);

-- The document's updated_at, which the registry stamps in UTC, at a fixed
-- width (nine digits of fraction), so that the text sorts as the time does
-- ('' when the document has none). A generated column: PutModel and the
-- snapshot import need not know of it. Adding it rewrites the table once.
ALTER TABLE models ADD COLUMN updated_at text COLLATE "C" NOT NULL GENERATED ALWAYS AS (
    CASE WHEN doc ->> 'updated_at' IS NULL THEN ''
    ELSE substr(doc ->> 'updated_at', 1, 19) || '.' ||
        substr(CASE WHEN substr(doc ->> 'updated_at', 20, 1) = '.'
            THEN substr(doc ->> 'updated_at', 21, length(doc ->> 'updated_at') - 21)
            ELSE '' END || '000000000', 1, 9) || 'Z'
    END) STORED;
CREATE INDEX models_updated_at ON models (updated_at, model_id);

-- +goose Down
DROP INDEX models_updated_at;
ALTER TABLE models DROP COLUMN updated_at;
DROP INDEX models_display_name;
