package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/registry"
)

// Catalogue filters, as their query parameters.
type catalogueQuery struct {
	Text, Provider, Family, Status, Role, Labels string
	Size                                         int
}

// catalogueData is the catalogue page's.
type catalogueData struct {
	Query    catalogueQuery
	Models   []*api.Model
	Statuses []api.Status
	Roles    []api.Role
	Sizes    []int
	// Next is the link to the next page, "" on the last.
	Next string
}

// Page sizes the catalogue offers.
var catalogueSizes = []int{25, 50, 100, 200}

func (s *server) catalogue(w http.ResponseWriter, r *http.Request, v *viewer) error {
	qs := r.URL.Query()
	q := catalogueQuery{Text: qs.Get("q"), Provider: qs.Get("provider"), Family: qs.Get("family"),
		Status: qs.Get("status"), Role: qs.Get("role"), Labels: qs.Get("label"), Size: 50}
	if n, err := strconv.Atoi(qs.Get("size")); err == nil && slices.Contains(catalogueSizes, n) {
		q.Size = n
	}
	list, err := s.reg.ListModels(r.Context(), registry.ListQuery{Text: q.Text, Provider: q.Provider, Family: q.Family,
		Status: q.Status, Role: q.Role, Labels: q.Labels, PageSize: q.Size, PageToken: qs.Get("page")})
	if err != nil {
		return err
	}
	d := catalogueData{Query: q, Models: list.Items, Sizes: catalogueSizes,
		Statuses: []api.Status{api.StatusProposed, api.StatusActive, api.StatusDeprecated, api.StatusSuspended, api.StatusArchived},
		Roles:    []api.Role{api.RoleNone, api.RoleGeneral, api.RoleSpecialist, api.RoleExperimental}}
	if list.NextPageToken != "" {
		next := url.Values{}
		for k, val := range map[string]string{"q": q.Text, "provider": q.Provider, "family": q.Family, "status": q.Status,
			"role": q.Role, "label": q.Labels, "size": strconv.Itoa(q.Size), "page": list.NextPageToken} {
			if val != "" {
				next.Set(k, val)
			}
		}
		d.Next = "/?" + next.Encode()
	}
	s.render(w, r, http.StatusOK, "catalogue.html", page{Title: "Catalogue", Viewer: v, Data: d})
	return nil
}
