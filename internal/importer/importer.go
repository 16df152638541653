// Package importer turns scattered model metadata into registry model
// documents: the registry's own documents, CSV and JSON/YAML sources
// described by a mapping file, LiteLLM's and OpenRouter's catalogues, and
// the HiveLLM ecosystem's roster, checklist and evaluation records. It only
// maps and reconciles; the registry judges and stores (schema, policy,
// audit) in one batch.
package importer

import (
	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/evalingest"
)

// Formats a Batch can come from.
const (
	FormatDocuments  = "documents"
	FormatCSV        = "csv"
	FormatMapping    = "mapping" // a JSON or YAML source described by a mapping file
	FormatLiteLLM    = "litellm"
	FormatOpenRouter = "openrouter"
	FormatHiveLLM    = "hivellm"
)

// Batch is what one source gives: a record per model, and what the mapping
// found along the way.
type Batch struct {
	Format  string
	Records []Record
	// Notes are findings about the source as a whole (for HiveLLM: how
	// the names of one model in different files were reconciled).
	Notes []string
	// Results are evaluation results the source holds, linked to the
	// records' model ids (HiveLLM's evaluation records), to record once
	// the models exist.
	Results []LinkedResult
}

// Record is one model as a source describes it.
type Record struct {
	// Source names where the record comes from: the file and the place in
	// it ("model_prices_and_context_window.json#/gpt-4o", "models.csv:12").
	Source string
	// Key is the source's own name for the model.
	Key string
	// Doc is the model document (schema 1.1) the record maps to, with its
	// provenance in source_files; nil when the record could not be mapped
	// (Problems say why).
	Doc *api.Model
	// Role is the governance role the source gives the model, if any, to
	// ask for once the model exists (a request: the policy decides).
	Role api.Role
	// Problems say why the record cannot be mapped, field by field.
	Problems []Problem
	// Notes say what the mapping inferred rather than read (a size class
	// estimated from the name, two spellings of one model merged), for a
	// governor to check.
	Notes []string
	// Estimated is set when the size class or parameter count is inferred
	// rather than declared (flagged for a governor).
	Estimated bool
}

// Problem is why a field of a record could not be mapped.
type Problem struct {
	// Field is the document field (a JSON pointer such as /context_window)
	// or "" for the record as a whole.
	Field   string
	Message string
}

// LinkedResult is an evaluation result of a record's model.
type LinkedResult struct {
	ModelID string
	Result  evalingest.Result
}
