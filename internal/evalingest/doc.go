// Package evalingest turns evaluation outputs into results the registry can
// store: lm-evaluation-harness results files (LMEvalHarness), Hugging Face
// model cards with a model-index (ModelIndex) and the HiveLLM ecosystem's
// own evaluation records (HiveLLM). It only parses: it neither stores nor
// maps model names to registry models.
//
// The contract: every record of the source becomes a Result, even one that
// cannot be imported, and every inconsistency or oddity becomes a Problem
// naming where it is. A number is never changed: a total that differs from
// its parts is kept with a Problem quoting both, a value written as "85.3%"
// stays 85.3. A Problem of SeverityError names a record that is kept but
// must not be imported as it stands (Batch.Importable); warnings do not
// stop an import. A function returns an error (of kind errs.Malformed,
// errs.TooLarge or errs.NotFound) only when the input is not the format at
// all; input is capped at MaxInputSize bytes and MaxDepth levels of nesting.
//
// Every Result carries Settings["source_id"], stable across re-imports of
// the same source, so that the caller can recognise a record it already
// holds. Where and Problem.Where use one notation: "results.hellaswag",
// "model-index[0].results[2].metrics[1]", "evaluations[3].history[1]",
// "models/x.json:checks[0]".
//
// # lm-evaluation-harness
//
// One Result per task of "results", plus each group of "groups" that
// "results" lacks; groups are tasks like others (their subtasks go in
// Settings["subtasks"]). v0.4 keys "<metric>,<filter>" and
// "<metric>_stderr,<filter>" and legacy keys "<metric>" and
// "<metric>_stderr" are both read. A task with several filters gives one
// Result whose metrics are named "<metric>" for the filter "none" and
// "<metric>,<filter>" (the harness's own key) otherwise, so that two
// filters never look like two runs; the filters are listed in
// Settings["filters"]. A standard error "N/A" is left out with a warning; a
// value that is not a number is left out with an error. The version is
// "versions" as written ("1.0" stays "1.0"); n-shot is "n-shot", else the
// task config's num_fewshot, else (legacy) config.num_fewshot. The model is
// pretrained= of config.model_args, else model_name (a local path is
// reported). The direction of a metric is the task config's metric_list,
// else the "higher_is_better" block, else known by name; accuracies get
// the range [0, 1] only when all their values in the file are within it.
// The "config" block, the run's model fields and the task's dataset and
// sample counts go in Settings. EvaluatedAt is "date" (unix seconds, to the
// microsecond), else the results_YYYY-MM-DDTHH-MM-SS timestamp of the file
// name read as UTC, else zero; HarnessVersion is lm_eval_version, else
// "git:<git_hash>", else a version pip lists in pretty_env_info.
//
// # Hugging Face model-index
//
// One Result per model-index[i].results[j]. The benchmark is dataset.type
// lowercased into [a-z0-9._/-]; its version is dataset.config, with
// "@<revision>" when a revision is given (a revision "None" is absent),
// else "unspecified" with a warning. Metrics are named by metrics[].type;
// a type repeated in one result under different names is qualified by the
// name ("wer:test-wer-lm"), repeated with the same name and value is a
// duplicate left out, and repeated with different values is an error (both
// kept). String values are read when they hold a number ("85.3"), a
// percentage ("85.3%", unit recorded in Settings["units"], not divided), or
// a number with a spread or interval ("x +/- y", "x [lo, hi]", the text kept
// in Settings["raw_values"]; the spread is not taken for a standard
// error); anything else is left out with an error. args.num_few_shot gives
// NShot; split, config, revision, args, task, source and verified go in
// Settings. Cards do not date their evaluations: EvaluatedAt is zero with
// one warning, for the caller to default. A card without model-index gives
// an empty Batch with the error "no model-index".
//
// # HiveLLM
//
// metrics/model_evaluations.json: each of evaluations[] is a Result of
// BenchmarkGovernanceChecks at the file's schemaVersion, with one value per
// check (the check name slugged: "connectivity", "command-tool-use", ...)
// and "total", the entry's score as recorded. An entry with a null score
// and no checks (the rejected ones) is kept without values and with an
// error. Settings keep provider, family, variant, version, sessionId,
// status, reviewerNotes, masterDecision, history, the critical flags and
// notes per check. EvaluatedAt is the latest history event that assessed
// the model (any but master_override), else updatedAt, else the file's
// updatedAt. source_id is "model_evaluations.json#<model slug>@<sessionId>".
//
// metrics/models/*.json: each is a Result of BenchmarkModelTests, the same
// six checks classified by the model itself and without a total (none is
// invented) or a date; it is kept apart from the reviewed results so that a
// self-assessment never ranks with them. Portuguese check names are mapped
// to the schema's names by an explicit table, with a warning. Each is
// cross-checked with the evaluation of the same model (by fullModel,
// ignoring case and punctuation, else by sessionId): different scores,
// sessions or classification are a warning naming both.
//
// Both files are validated against the schemas under schemas/ (each
// violation a warning at its field: events outside the history enum,
// missing required fields, unknown fields, too few checks), and checked
// for totals that differ from the sum of their checks, duplicate models,
// statuses that contradict the decision, the history or (without a master
// decision) the protocol's thresholds, and updatedAt older than the
// history. The catalogue (HiveLLMCatalogue) bounds each check by the
// maximum of guidelines/MODEL_TEST_PROTOCOL.md's rubric (15, 15, 25, 25,
// 10, 10; the schemas only say 0 to 25) and the total by [0, 100]; every
// metric is higher-is-better.
package evalingest
