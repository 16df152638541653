-- +goose Up
-- The benchmarks catalogue, evaluation results and each model's latest
-- scores, as in the SQLite schema (00010_evaluations.sql), with the
-- conventions of 00001_models.sql: times are bigint nanoseconds, documents
-- json (byte for byte), and the text keys that pages are ordered or
-- compared by are COLLATE "C".

-- The benchmarks catalogue: a benchmark is named by name and version; doc
-- is its JSON document.
CREATE TABLE benchmarks (
    name    text COLLATE "C" NOT NULL,
    version text COLLATE "C" NOT NULL,
    doc     json NOT NULL,
    PRIMARY KEY (name, version)
);

-- Evaluation results, immutable but for superseded_by, which a correction
-- sets (doc holds the rest, superseded_by empty). A model's history is read
-- through (model_id, evaluated_at, id), one benchmark's through
-- (model_id, benchmark, version, evaluated_at, id).
CREATE TABLE evaluations (
    id            text   COLLATE "C" PRIMARY KEY,
    model_id      text   COLLATE "C" NOT NULL,
    benchmark     text   COLLATE "C" NOT NULL,
    version       text   COLLATE "C" NOT NULL,
    evaluated_at  bigint NOT NULL,
    superseded_by text   NOT NULL DEFAULT '',
    doc           json   NOT NULL
);
CREATE INDEX evaluations_model ON evaluations (model_id, evaluated_at, id);
CREATE INDEX evaluations_model_benchmark ON evaluations (model_id, benchmark, version, evaluated_at, id);

-- Each model's latest valid score of each metric of each benchmark
-- version, kept with every result: the leaderboards and the policy's evals
-- read it, never the results. rank is the value as the metric's direction
-- ranks it (the value negated when higher is better), so that one index
-- walk in ascending order gives a leaderboard page, best first, ties by
-- model id. role and status are the model's, kept with PutModel, for the
-- filtered leaderboards. evaluation_id is COLLATE "C": (evaluated_at,
-- evaluation_id) orders the results, by bytes as in SQLite.
CREATE TABLE scores (
    benchmark     text             COLLATE "C" NOT NULL,
    version       text             COLLATE "C" NOT NULL,
    metric        text             COLLATE "C" NOT NULL,
    model_id      text             COLLATE "C" NOT NULL,
    value         double precision NOT NULL,
    stderr        double precision,
    rank          double precision NOT NULL,
    evaluation_id text             COLLATE "C" NOT NULL,
    evaluated_at  bigint           NOT NULL,
    role          text             NOT NULL DEFAULT '',
    status        text             NOT NULL DEFAULT '',
    PRIMARY KEY (benchmark, version, metric, model_id)
);
CREATE INDEX scores_rank ON scores (benchmark, version, metric, rank, model_id);
CREATE INDEX scores_role_rank ON scores (benchmark, version, metric, role, rank, model_id);
CREATE INDEX scores_status_rank ON scores (benchmark, version, metric, status, rank, model_id);
CREATE INDEX scores_model ON scores (model_id);

-- +goose Down
DROP TABLE scores;
DROP TABLE evaluations;
DROP TABLE benchmarks;
