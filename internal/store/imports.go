package store

import (
	"context"

	"github.com/hivellm/modelgov/api"
)

// ImportReader reads the records of applied imports (part of Reader).
type ImportReader interface {
	// GetImport returns an import batch, or an error of kind errs.NotFound.
	GetImport(ctx context.Context, id string) (*api.ImportBatch, error)
	// ListImports returns every import batch, newest first.
	ListImports(ctx context.Context) ([]*api.ImportBatch, error)
}

// ImportWriter records applied imports (part of Tx).
type ImportWriter interface {
	// PutImport stores an import batch, replacing the one with its id.
	PutImport(ctx context.Context, b *api.ImportBatch) error
}
