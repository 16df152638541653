package registry

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/labels"
	"github.com/hivellm/modelgov/internal/store"
)

// Page sizes of lists.
const (
	DefaultPageSize = 100
	MaxPageSize     = 1000
)

// ListQuery selects models, as the query string of GET /v1/models does.
// Empty fields do not filter.
type ListQuery struct {
	Provider   string
	Family     string
	Status     string
	Role       string
	SizeClass  string
	Capability string
	// Labels is a label selector, such as "team=core,tier!=test".
	Labels string
	// Text is searched in model_id and display_name.
	Text string
	// Review "pending" selects the models held for a governor's review.
	Review    string
	PageSize  int
	PageToken string
}

var (
	statuses    = []api.Status{api.StatusProposed, api.StatusActive, api.StatusDeprecated, api.StatusSuspended, api.StatusArchived}
	roles       = []api.Role{api.RoleNone, api.RoleGeneral, api.RoleSpecialist, api.RoleExperimental}
	sizeClasses = []api.SizeClass{api.SizeNano, api.SizeMini, api.SizeSmall, api.SizeMedium, api.SizeLarge, api.SizeXL, api.SizeXXL}
)

func oneOf[T ~string](param, v string, allowed []T) error {
	if v == "" || slices.Contains(allowed, T(v)) {
		return nil
	}
	names := make([]string, len(allowed))
	for i, a := range allowed {
		names[i] = string(a)
	}
	return errs.E(errs.Malformed, "%s %q is not one of %s", param, v, strings.Join(names, ", "))
}

// GetModel returns the current document of model id.
func (s *Service) GetModel(ctx context.Context, id string) (*api.Model, error) {
	return s.store.GetModel(ctx, id)
}

// ListModels returns one page of the models q selects, in model_id order.
func (s *Service) ListModels(ctx context.Context, q ListQuery) (*api.ModelList, error) {
	page, err := s.ListModelDocs(ctx, q)
	if err != nil {
		return nil, err
	}
	list := &api.ModelList{Items: make([]*api.Model, len(page.Items)), NextPageToken: page.NextPageToken}
	for i, d := range page.Items {
		var m api.Model
		if err := json.Unmarshal(d.JSON, &m); err != nil {
			return nil, fmt.Errorf("registry: stored model %s: %w", d.ModelID, err)
		}
		list.Items[i] = &m
	}
	return list, nil
}

// DocPage is one page of models as stored JSON documents.
type DocPage struct {
	Items         []store.Doc
	NextPageToken string
}

// ListModelDocs is ListModels answering the stored JSON documents, for the
// HTTP API to send without decoding and encoding them again.
func (s *Service) ListModelDocs(ctx context.Context, q ListQuery) (*DocPage, error) {
	sq, size, err := storeQuery(q)
	if err != nil {
		return nil, err
	}
	items, err := s.store.ListModelDocs(ctx, sq)
	if err != nil {
		return nil, err
	}
	page := &DocPage{Items: items}
	if len(items) > size {
		page.Items = items[:size]
		page.NextPageToken = encodeCursor(items[size-1].ModelID)
	}
	return page, nil
}

// GetModelDoc is GetModel answering the stored JSON document.
func (s *Service) GetModelDoc(ctx context.Context, id string) (store.Doc, error) {
	return s.store.GetModelDoc(ctx, id)
}

// storeQuery checks a list query and turns it into the store's, asking for
// one model more than the page to know whether another page follows.
func storeQuery(q ListQuery) (store.ModelQuery, int, error) {
	for _, err := range []error{
		oneOf("status", q.Status, statuses),
		oneOf("role", q.Role, roles),
		oneOf("size_class", q.SizeClass, sizeClasses),
	} {
		if err != nil {
			return store.ModelQuery{}, 0, err
		}
	}
	size, err := pageSize(q.PageSize)
	if err != nil {
		return store.ModelQuery{}, 0, err
	}
	sel, err := labels.Parse(q.Labels)
	if err != nil {
		return store.ModelQuery{}, 0, errs.Wrap(errs.Malformed, err, "labels is not a valid label selector")
	}
	if len(q.Text) > 256 {
		return store.ModelQuery{}, 0, errs.E(errs.Malformed, "q is longer than 256 characters")
	}
	after, err := decodeCursor(q.PageToken)
	if err != nil {
		return store.ModelQuery{}, 0, err
	}
	if q.Review != "" && q.Review != api.ReviewPending {
		return store.ModelQuery{}, 0, errs.E(errs.Malformed, "review must be pending (the models held for a governor's review), not %q", q.Review)
	}
	return store.ModelQuery{
		Provider: q.Provider, Family: q.Family, Status: api.Status(q.Status), Role: api.Role(q.Role),
		SizeClass: api.SizeClass(q.SizeClass), Capability: q.Capability, Labels: sel, Text: q.Text,
		ReviewPending: q.Review == api.ReviewPending, After: after, Limit: size + 1,
	}, size, nil
}

// ListRevisions returns one page of a model's history, newest first. The
// history of a deleted model stays readable.
func (s *Service) ListRevisions(ctx context.Context, id string, size int, token string) (*api.RevisionList, error) {
	size, err := pageSize(size)
	if err != nil {
		return nil, err
	}
	var before int64
	if token != "" {
		c, err := decodeCursor(token)
		if err != nil {
			return nil, err
		}
		if before, err = strconv.ParseInt(c, 10, 64); err != nil || before <= 0 {
			return nil, errs.E(errs.Malformed, "page_token is not valid; start again without it")
		}
	}
	items, err := s.store.ListRevisions(ctx, id, before, size+1)
	if err != nil {
		return nil, err
	}
	if len(items) == 0 && before == 0 {
		return nil, errs.E(errs.NotFound, "model %s not found", id)
	}
	list := &api.RevisionList{Items: items}
	if len(items) > size {
		list.Items = items[:size]
		list.NextPageToken = encodeCursor(strconv.FormatInt(items[size-1].Revision, 10))
	}
	return list, nil
}

// GetRevision returns revision n of model id.
func (s *Service) GetRevision(ctx context.Context, id string, n int64) (*api.Revision, error) {
	return s.store.GetRevision(ctx, id, n)
}

func pageSize(n int) (int, error) {
	switch {
	case n == 0:
		return DefaultPageSize, nil
	case n < 0 || n > MaxPageSize:
		return 0, errs.E(errs.Malformed, "page_size must be between 1 and %d", MaxPageSize)
	}
	return n, nil
}

// Page tokens are opaque to clients: a version prefix and the position.
const cursorPrefix = "v1."

func encodeCursor(pos string) string {
	return cursorPrefix + base64.RawURLEncoding.EncodeToString([]byte(pos))
}

func decodeCursor(token string) (string, error) {
	if token == "" {
		return "", nil
	}
	raw, ok := strings.CutPrefix(token, cursorPrefix)
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if !ok || err != nil || len(b) == 0 || len(b) > 512 {
		return "", errs.E(errs.Malformed, "page_token is not valid; start again without it")
	}
	return string(b), nil
}

// ParseRevision parses a revision number from a path.
func ParseRevision(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, errs.E(errs.Malformed, "revision %q is not a positive whole number", s)
	}
	return n, nil
}
