-- +goose Up
-- A provider with a status is the catalogue's most common filter. With
-- models_provider and models_status alone, PostgreSQL walked one of them
-- and filtered on the other: at 1,000,000 models, where 0.5% of them are a
-- provider's active models, a page of 100 walked models_status and threw
-- away 27,000 rows (44 ms cold; p99 16.6 ms warm, one client). This index
-- is the page itself, in model_id order. (SQLite walks the provider's
-- range of model_id instead, 1.8 ms at the same size.)
CREATE INDEX models_provider_status ON models (provider, status, model_id);

-- +goose Down
DROP INDEX models_provider_status;
