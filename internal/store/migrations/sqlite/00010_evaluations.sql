-- +goose Up
-- The benchmarks catalogue: a benchmark is named by name and version; doc
-- is its JSON document.
CREATE TABLE benchmarks (
    name       TEXT NOT NULL,
    version    TEXT NOT NULL,
    doc        BLOB NOT NULL,
    PRIMARY KEY (name, version)
) WITHOUT ROWID;

-- Evaluation results, immutable but for superseded_by, which a correction
-- sets (doc holds the rest, superseded_by empty). A model's history is read
-- through (model_id, evaluated_at, id), one benchmark's through
-- (model_id, benchmark, version, evaluated_at, id).
CREATE TABLE evaluations (
    id            TEXT PRIMARY KEY,
    model_id      TEXT NOT NULL,
    benchmark     TEXT NOT NULL,
    version       TEXT NOT NULL,
    evaluated_at  TEXT NOT NULL,
    superseded_by TEXT NOT NULL DEFAULT '',
    doc           BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX evaluations_model ON evaluations (model_id, evaluated_at, id);
CREATE INDEX evaluations_model_benchmark ON evaluations (model_id, benchmark, version, evaluated_at, id);

-- Each model's latest valid score of each metric of each benchmark
-- version, kept with every result: the leaderboards and the policy's evals
-- read it, never the results. rank is the value as the metric's direction
-- ranks it (the value negated when higher is better), so that one index
-- walk in ascending order gives a leaderboard page, best first, ties by
-- model id. role and status are the model's, kept with PutModel, for the
-- filtered leaderboards.
CREATE TABLE scores (
    benchmark     TEXT NOT NULL,
    version       TEXT NOT NULL,
    metric        TEXT NOT NULL,
    model_id      TEXT NOT NULL,
    value         REAL NOT NULL,
    stderr        REAL,
    rank          REAL NOT NULL,
    evaluation_id TEXT NOT NULL,
    evaluated_at  TEXT NOT NULL,
    role          TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (benchmark, version, metric, model_id)
) WITHOUT ROWID;
CREATE INDEX scores_rank ON scores (benchmark, version, metric, rank, model_id);
CREATE INDEX scores_role_rank ON scores (benchmark, version, metric, role, rank, model_id);
CREATE INDEX scores_status_rank ON scores (benchmark, version, metric, status, rank, model_id);
CREATE INDEX scores_model ON scores (model_id);

-- +goose Down
DROP TABLE scores;
DROP TABLE evaluations;
DROP TABLE benchmarks;
