-- +goose Up
-- The near-duplicate review of each model: 'pending' while a governor must
-- look at it, '' otherwise, so that the governors' queue (GET
-- /v1/models?review=pending) walks a small partial index instead of every
-- model.
ALTER TABLE models ADD COLUMN review TEXT NOT NULL DEFAULT '';
UPDATE models SET review = 'pending' WHERE json_extract(CAST(doc AS TEXT), '$.governance.review.status') = 'pending';
CREATE INDEX models_review ON models (model_id) WHERE review = 'pending';

-- The figures every create compares with its provider's and family's
-- models, to hold near-duplicates for review: one index lookup instead of
-- reading the family's documents.
ALTER TABLE models ADD COLUMN parameter_count INTEGER NOT NULL DEFAULT 0;
ALTER TABLE models ADD COLUMN context_window INTEGER NOT NULL DEFAULT 0;
UPDATE models SET
    parameter_count = coalesce(json_extract(CAST(doc AS TEXT), '$.parameters.count'), 0),
    context_window = coalesce(json_extract(CAST(doc AS TEXT), '$.context_window'), 0);
CREATE INDEX models_figures ON models (parameter_count, context_window)
    WHERE parameter_count != 0 AND context_window != 0;

-- +goose Down
DROP INDEX models_figures;
ALTER TABLE models DROP COLUMN context_window;
ALTER TABLE models DROP COLUMN parameter_count;
DROP INDEX models_review;
ALTER TABLE models DROP COLUMN review;
