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
	Review string
	// Compliance "non_compliant" selects the models out of compliance with
	// the active policy bundle, "compliant" the others; "" and "any" do
	// not filter.
	Compliance string
	// Sort is the order of the list: "model_id" (the default, also ""),
	// "provider" (the same order: ids start with their provider),
	// "display_name", or "updated_at" (newest first). A page token is
	// valid only under the sort that made it.
	Sort      string
	PageSize  int
	PageToken string
}

// The values of ListQuery.Compliance.
const (
	ComplianceAny          = "any"
	ComplianceCompliant    = string(api.Compliant)
	ComplianceNonCompliant = string(api.NonCompliant)
)

// The values of ListQuery.Sort.
const (
	SortModelID     = "model_id"
	SortProvider    = "provider"
	SortDisplayName = "display_name"
	SortUpdatedAt   = "updated_at"
)

// Sorts lists the values of ListQuery.Sort, the default first.
var Sorts = []string{SortModelID, SortProvider, SortDisplayName, SortUpdatedAt}

// modelSorts maps each sort to the store's order.
var modelSorts = map[string]store.ModelSort{
	"": store.SortModelID, SortModelID: store.SortModelID, SortProvider: store.SortModelID,
	SortDisplayName: store.SortDisplayName, SortUpdatedAt: store.SortUpdated,
}

// sortNames names each store order in page tokens and errors.
var sortNames = map[store.ModelSort]string{
	store.SortModelID: SortModelID, store.SortDisplayName: SortDisplayName, store.SortUpdated: SortUpdatedAt,
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

// ListModels returns one page of the models q selects, in the order q.Sort.
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
		last := items[size-1]
		if sq.Sort == store.SortModelID {
			page.NextPageToken = encodeCursor(last.ModelID)
		} else {
			page.NextPageToken = encodeSortedCursor(sq.Sort, last.SortKey, last.ModelID)
		}
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
	order, ok := modelSorts[q.Sort]
	if !ok {
		return store.ModelQuery{}, 0, errs.E(errs.Malformed, "sort %q is not one of %s", q.Sort, strings.Join(Sorts, ", "))
	}
	afterKey, after, err := decodeListCursor(q.PageToken, order)
	if err != nil {
		return store.ModelQuery{}, 0, err
	}
	if q.Review != "" && q.Review != api.ReviewPending {
		return store.ModelQuery{}, 0, errs.E(errs.Malformed, "review must be pending (the models held for a governor's review), not %q", q.Review)
	}
	switch q.Compliance {
	case "", ComplianceAny, ComplianceCompliant, ComplianceNonCompliant:
	default:
		return store.ModelQuery{}, 0, errs.E(errs.Malformed, "compliance %q is not one of %s, %s, %s",
			q.Compliance, ComplianceAny, ComplianceCompliant, ComplianceNonCompliant)
	}
	return store.ModelQuery{
		Provider: q.Provider, Family: q.Family, Status: api.Status(q.Status), Role: api.Role(q.Role),
		SizeClass: api.SizeClass(q.SizeClass), Capability: q.Capability, Labels: sel, Text: q.Text,
		ReviewPending: q.Review == api.ReviewPending,
		Compliant:     q.Compliance == ComplianceCompliant, NonCompliant: q.Compliance == ComplianceNonCompliant,
		Sort: order, After: after, AfterKey: afterKey, Limit: size + 1,
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

// Page tokens of a list in another order than model_id carry the sort,
// the last row's sort key and its model_id, as JSON.
const sortedCursorPrefix = "v2."

// sortedCursor is the position a page token of a sorted list holds.
type sortedCursor struct {
	Sort    string `json:"s"`
	Key     string `json:"k"`
	ModelID string `json:"id"`
}

func encodeSortedCursor(order store.ModelSort, key, id string) string {
	b, _ := json.Marshal(sortedCursor{Sort: sortNames[order], Key: key, ModelID: id}) // strings always marshal
	return sortedCursorPrefix + base64.RawURLEncoding.EncodeToString(b)
}

// decodeListCursor returns the position of a list's page token under
// order: the sort key ("" in model_id order) and the model_id the page
// starts after. A token made under another order is refused: its position
// means nothing in this one.
func decodeListCursor(token string, order store.ModelSort) (key, id string, err error) {
	if token == "" {
		return "", "", nil
	}
	made := store.SortModelID
	if raw, sorted := strings.CutPrefix(token, sortedCursorPrefix); sorted {
		var c sortedCursor
		b, err := base64.RawURLEncoding.DecodeString(raw)
		if err != nil || len(b) > 4096 || json.Unmarshal(b, &c) != nil || c.ModelID == "" {
			return "", "", errs.E(errs.Malformed, "page_token is not valid; start again without it")
		}
		var known bool
		if made, known = modelSorts[c.Sort]; !known || c.Sort != sortNames[made] {
			return "", "", errs.E(errs.Malformed, "page_token is not valid; start again without it")
		}
		key, id = c.Key, c.ModelID
	} else if id, err = decodeCursor(token); err != nil {
		return "", "", err
	}
	if made != order {
		return "", "", errs.E(errs.Malformed, "page_token was made for sort %s, not %s; start again without it, or sort by %s",
			sortNames[made], sortNames[order], sortNames[made])
	}
	return key, id, nil
}

// ParseRevision parses a revision number from a path.
func ParseRevision(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		return 0, errs.E(errs.Malformed, "revision %q is not a positive whole number", s)
	}
	return n, nil
}
