package api

import (
	"encoding/json"
	"time"
)

// Import outcomes of a record.
const (
	ImportCreate    = "create"
	ImportUpdate    = "update"
	ImportUnchanged = "unchanged"
	ImportInvalid   = "invalid"
)

// ImportRecord is one model document to import, with where it comes from.
type ImportRecord struct {
	// Source names the file and place the record comes from.
	Source string `json:"source,omitempty"`
	// Key is the source's own name of the model.
	Key string `json:"key,omitempty"`
	// Document is the model document (schema 1.1 or proposal 035's 1.0);
	// null when the source record could not be mapped (Problems say why).
	Document RawDocument `json:"document,omitempty"`
	// Role, when set, is the governance role the source gives the model:
	// asked for once the model is stored (the policy decides).
	Role Role `json:"role,omitempty"`
	// Problems are why the record could not be mapped.
	Problems []FieldError `json:"problems,omitempty"`
	// Notes are what the mapping inferred, for a governor to check.
	Notes []string `json:"notes,omitempty"`
}

// RawDocument is a model document as JSON: an object (or null).
type RawDocument = json.RawMessage

// ImportRequest asks the registry to import records: all or nothing unless
// Partial, or only to report what would happen (DryRun).
type ImportRequest struct {
	Source  string         `json:"source,omitempty"`
	Format  string         `json:"format,omitempty"`
	DryRun  bool           `json:"dry_run,omitempty"`
	Partial bool           `json:"partial,omitempty"`
	Records []ImportRecord `json:"records"`
}

// FieldChange is one field an update changes.
type FieldChange struct {
	Path   string `json:"path"`
	Before any    `json:"before,omitempty"`
	After  any    `json:"after,omitempty"`
}

// ImportItem is what the import does, or would do, with one record.
type ImportItem struct {
	Source  string `json:"source,omitempty"`
	Key     string `json:"key,omitempty"`
	ModelID string `json:"model_id,omitempty"`
	// Outcome is create, update, unchanged or invalid.
	Outcome string `json:"outcome"`
	// Changes are, for an update, the fields it changes.
	Changes []FieldChange `json:"changes,omitempty"`
	// Reasons are, for an invalid record, every reason: mapping problems,
	// schema errors, the policy rules that refuse it.
	Reasons []string `json:"reasons,omitempty"`
	// Role is the role the record asked for; Granted the role the model
	// has after the import (lower when the policy refused the one asked
	// for and the import is partial: then Flagged says so).
	Role    Role     `json:"role,omitempty"`
	Granted Role     `json:"granted,omitempty"`
	Flagged string   `json:"flagged,omitempty"`
	Notes   []string `json:"notes,omitempty"`
}

// ImportTotals counts the records by outcome.
type ImportTotals struct {
	Create    int `json:"create"`
	Update    int `json:"update"`
	Unchanged int `json:"unchanged"`
	Invalid   int `json:"invalid"`
	// Flagged counts the records imported with a lower role than asked.
	Flagged int `json:"flagged"`
}

// ImportReport is the answer to an import: per record and in total, and
// the compliance report of the models it stores, as it leaves them (or
// would).
type ImportReport struct {
	// Batch is the import's id (imp_...), by which it is rolled back; empty
	// for a dry run or a refused import.
	Batch  string `json:"batch,omitempty"`
	DryRun bool   `json:"dry_run"`
	// Applied is true when the import changed the registry.
	Applied    bool              `json:"applied"`
	Totals     ImportTotals      `json:"totals"`
	Items      []ImportItem      `json:"items"`
	Compliance *ComplianceReport `json:"compliance,omitempty"`
}

// ImportBatch is the record of an applied import: what it touched, so
// that it can be rolled back.
type ImportBatch struct {
	ID        string        `json:"id"`
	Source    string        `json:"source,omitempty"`
	Format    string        `json:"format,omitempty"`
	CreatedAt time.Time     `json:"created_at"`
	CreatedBy string        `json:"created_by"`
	Totals    ImportTotals  `json:"totals"`
	Models    []ImportTouch `json:"models"`
	// RolledBackAt, RolledBackBy: when and by whom it was undone.
	RolledBackAt *time.Time `json:"rolled_back_at,omitempty"`
	RolledBackBy string     `json:"rolled_back_by,omitempty"`
}

// ImportTouch is a model an import changed: its revision before the import
// (0 when the import created it) and the last revision the import wrote.
type ImportTouch struct {
	ModelID string `json:"model_id"`
	Before  int64  `json:"before"`
	After   int64  `json:"after"`
}

// ImportBatchList is every import batch, newest first.
type ImportBatchList struct {
	Items []*ImportBatch `json:"items"`
}
