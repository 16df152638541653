package web

import (
	"cmp"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/registry"
)

// catalogueQuery is the catalogue's filters and order, as their query
// parameters have them.
type catalogueQuery struct {
	Text, Provider, Family, Status, Role, Labels string
	// Compliance is "", "compliant" or "non_compliant" (registry.ListQuery).
	Compliance string
	// Sort is one of registry.Sorts; "" is model_id order.
	Sort string
	Size int
}

// values are q's query parameters, the empty ones left out; a page token
// is the caller's to add.
func (q catalogueQuery) values() url.Values {
	v := url.Values{}
	for k, val := range map[string]string{"q": q.Text, "provider": q.Provider, "family": q.Family, "status": q.Status,
		"role": q.Role, "label": q.Labels, "compliance": q.Compliance, "sort": q.Sort, "size": strconv.Itoa(q.Size)} {
		if val != "" {
			v.Set(k, val)
		}
	}
	return v
}

// option is one choice of a select: its value and what the user reads.
type option struct{ Value, Label string }

// catalogueSorts are the orders the catalogue offers: the registry's
// sorts, each of which an index serves at any number of models.
var catalogueSorts = []option{
	{registry.SortModelID, "Model id"},
	{registry.SortProvider, "Provider"},
	{registry.SortDisplayName, "Name"},
	{registry.SortUpdatedAt, "Last update, newest first"},
}

// catalogueCompliance are the compliance filters the catalogue offers.
var catalogueCompliance = []option{
	{"", "any"},
	{registry.ComplianceCompliant, "compliant"},
	{registry.ComplianceNonCompliant, "out of compliance"},
}

// sortHeader is a column header that sorts the catalogue by its column.
type sortHeader struct {
	Label string
	// Link sorts by the column, the filters kept, from the first page.
	Link string
	// Order is the header's aria-sort when the list is in its order, ""
	// otherwise.
	Order string
}

// catalogueData is the catalogue page's.
type catalogueData struct {
	Query      catalogueQuery
	Models     []*api.Model
	Statuses   []api.Status
	Roles      []api.Role
	Sizes      []int
	Sorts      []option
	Compliance []option
	// SortLabel names the order of the list, for its caption.
	SortLabel string
	// Headers are the sortable columns' headers: model, name, provider,
	// last update.
	Headers map[string]sortHeader
	// Next is the link to the next page, "" on the last.
	Next string
}

// Page sizes the catalogue offers.
var catalogueSizes = []int{25, 50, 100, 200}

// catalogue serves the list of models, filtered and sorted as the query
// string asks. The registry checks every filter, the sort and the page
// token (one made under another sort is refused), and its refusals are
// error pages (400); every order walks an index, so that a page costs the
// same at 100k models as at 100.
func (s *server) catalogue(w http.ResponseWriter, r *http.Request, v *viewer) error {
	qs := r.URL.Query()
	q := catalogueQuery{Text: qs.Get("q"), Provider: qs.Get("provider"), Family: qs.Get("family"),
		Status: qs.Get("status"), Role: qs.Get("role"), Labels: qs.Get("label"), Compliance: qs.Get("compliance"),
		Sort: qs.Get("sort"), Size: 50}
	if q.Compliance == registry.ComplianceAny {
		q.Compliance = ""
	}
	if q.Sort == registry.SortModelID {
		q.Sort = ""
	}
	if n, err := strconv.Atoi(qs.Get("size")); err == nil && slices.Contains(catalogueSizes, n) {
		q.Size = n
	}
	list, err := s.reg.ListModels(r.Context(), registry.ListQuery{Text: q.Text, Provider: q.Provider, Family: q.Family,
		Status: q.Status, Role: q.Role, Labels: q.Labels, Compliance: q.Compliance, Sort: q.Sort,
		PageSize: q.Size, PageToken: qs.Get("page")})
	if err != nil {
		return err
	}
	d := catalogueData{Query: q, Models: list.Items, Sizes: catalogueSizes, Sorts: catalogueSorts, Compliance: catalogueCompliance,
		Statuses: []api.Status{api.StatusProposed, api.StatusActive, api.StatusDeprecated, api.StatusSuspended, api.StatusArchived},
		Roles:    []api.Role{api.RoleNone, api.RoleGeneral, api.RoleSpecialist, api.RoleExperimental},
		Headers:  map[string]sortHeader{}}
	current := cmp.Or(q.Sort, registry.SortModelID)
	for _, o := range catalogueSorts {
		if o.Value == current {
			d.SortLabel = o.Label
		}
	}
	for column, sort := range map[string]string{"model": registry.SortModelID, "name": registry.SortDisplayName,
		"provider": registry.SortProvider, "updated": registry.SortUpdatedAt} {
		h := sortHeader{Label: map[string]string{"model": "Model", "name": "Name", "provider": "Provider", "updated": "Last update"}[column]}
		by := q
		by.Sort = sort
		if sort == registry.SortModelID {
			by.Sort = ""
		}
		h.Link = "/?" + by.values().Encode()
		if sort == current {
			h.Order = "ascending"
			if sort == registry.SortUpdatedAt {
				h.Order = "descending"
			}
		}
		d.Headers[column] = h
	}
	if list.NextPageToken != "" {
		next := q.values()
		next.Set("page", list.NextPageToken)
		d.Next = "/?" + next.Encode()
	}
	s.render(w, r, http.StatusOK, "catalogue.html", page{Title: "Catalogue", Viewer: v, Data: d})
	return nil
}
