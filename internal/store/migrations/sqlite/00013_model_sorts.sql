-- +goose Up
-- The orders a list of models may be sorted in besides model_id (issue
-- 10), each with an index that ends with model_id, so that a sorted page
-- walks its index from the previous page's last row (keyset pagination)
-- and stops after the page, at any number of models.
CREATE INDEX models_display_name ON models (display_name, model_id);

-- The document's updated_at, which the registry stamps in UTC, at the
-- fixed width of the store's times (nine digits of fraction), so that the
-- text sorts as the time does ('' when the document has none). A virtual
-- column: PutModel need not know of it, and only the index stores it.
ALTER TABLE models ADD COLUMN updated_at TEXT GENERATED ALWAYS AS (
    CASE WHEN json_extract(CAST(doc AS TEXT), '$.updated_at') IS NULL THEN ''
    ELSE substr(json_extract(CAST(doc AS TEXT), '$.updated_at'), 1, 19) || '.' ||
        substr(CASE WHEN substr(json_extract(CAST(doc AS TEXT), '$.updated_at'), 20, 1) = '.'
            THEN substr(json_extract(CAST(doc AS TEXT), '$.updated_at'), 21,
                length(json_extract(CAST(doc AS TEXT), '$.updated_at')) - 21)
            ELSE '' END || '000000000', 1, 9) || 'Z'
    END) VIRTUAL;
CREATE INDEX models_updated_at ON models (updated_at, model_id);

-- +goose Down
DROP INDEX models_updated_at;
ALTER TABLE models DROP COLUMN updated_at;
DROP INDEX models_display_name;
