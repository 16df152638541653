-- +goose Up
-- Every lifecycle decision counts the active generals (role 'general',
-- status 'active'). With statistics, SQLite estimates a value's share as
-- the column's average, and chose models_status, reading every active
-- model's row to test its role: a count that grew with the registry and cut
-- lifecycle changes from 370/s to 80/s at 10,000 models. This index answers
-- the count from the index alone, reading only the active generals.
CREATE INDEX models_role_status ON models (role, status);

-- +goose Down
DROP INDEX models_role_status;
