package storetest

import (
	"cmp"
	"context"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/store"
)

// sortCase is a model of testListSorts: its id, display name, time of
// last update (nil when the document has none), status and compliance.
type sortCase struct {
	id, name     string
	updated      *time.Time
	status       string
	nonCompliant bool
}

// testListSorts checks every order of ListModelDocs against the same order
// computed here, paging three models at a time from each page's last row
// (After, AfterKey = Doc.SortKey), alone and with filters: display names
// sort bytewise, times of update as times (whatever their text's width,
// newest first), ties by model_id, and the compliance filters split the
// models in two.
func testListSorts(t *testing.T, s store.Store) {
	at := func(v string) *time.Time {
		tm, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			t.Fatal(err)
		}
		return &tm
	}
	cases := []sortCase{
		// As text, "05Z" sorts after "05.1Z"; as times, it is older.
		{"a/whole-second", "beta", at("2026-01-02T03:04:05Z"), "active", false},
		{"a/tenth", "Alpha", at("2026-01-02T03:04:05.1Z"), "active", true},
		{"b/nanosecond", "alpha", at("2026-01-02T03:04:05.000000001Z"), "proposed", false},
		{"b/no-update", "Ärger", nil, "active", false},
		{"c/same-2", "Same", at("2026-03-01T00:00:00Z"), "active", true},
		{"c/same-1", "Same", at("2026-03-01T00:00:00Z"), "proposed", false},
		{"c/older", "Zeta", at("2025-12-31T23:59:59.999999999Z"), "active", false},
		{"d/newest", "zz top", at("2027-06-01T12:00:00.5Z"), "deprecated", true},
	}
	var ms []*api.Model
	for _, c := range cases {
		m := NewModel(c.id, c.status, api.RoleNone, 1)
		m.DisplayName, m.UpdatedAt = c.name, c.updated
		if c.nonCompliant {
			m.Governance.Compliance = &api.Compliance{Status: api.NonCompliant, Since: t0, PolicyVersion: 2}
		} else {
			m.Governance.Compliance = &api.Compliance{Status: api.Compliant, Since: t0, PolicyVersion: 2}
		}
		ms = append(ms, m)
	}
	// A model that was never checked against a policy counts as not out
	// of compliance.
	unchecked := NewModel("e/unchecked", "active", api.RoleNone, 1)
	ms = append(ms, unchecked)
	cases = append(cases, sortCase{id: unchecked.ModelID, name: unchecked.DisplayName, updated: unchecked.UpdatedAt, status: "active"})
	put(t, s, ms...)

	orders := map[store.ModelSort]func(a, b sortCase) int{
		store.SortModelID:     func(a, b sortCase) int { return cmp.Compare(a.id, b.id) },
		store.SortDisplayName: func(a, b sortCase) int { return cmp.Or(cmp.Compare(a.name, b.name), cmp.Compare(a.id, b.id)) },
		store.SortUpdated: func(a, b sortCase) int {
			ta, tb := time.Time{}, time.Time{}
			if a.updated != nil {
				ta = *a.updated
			}
			if b.updated != nil {
				tb = *b.updated
			}
			return cmp.Or(tb.Compare(ta), cmp.Compare(b.id, a.id))
		},
	}
	filters := []struct {
		name  string
		q     store.ModelQuery
		match func(sortCase) bool
	}{
		{"all", store.ModelQuery{}, func(sortCase) bool { return true }},
		{"active", store.ModelQuery{Status: api.StatusActive}, func(c sortCase) bool { return c.status == "active" }},
		{"non-compliant", store.ModelQuery{NonCompliant: true}, func(c sortCase) bool { return c.nonCompliant }},
		{"compliant", store.ModelQuery{Compliant: true}, func(c sortCase) bool { return !c.nonCompliant }},
		{"provider c", store.ModelQuery{Provider: "c"}, func(c sortCase) bool { return c.id[0] == 'c' }},
		{"compliant and active", store.ModelQuery{Compliant: true, Status: api.StatusActive},
			func(c sortCase) bool { return !c.nonCompliant && c.status == "active" }},
		{"text", store.ModelQuery{Text: "A"}, func(c sortCase) bool { return strings.Contains(strings.ToLower(c.id+" "+c.name), "a") }},
	}
	ctx := context.Background()
	sortName := map[store.ModelSort]string{store.SortModelID: "model_id", store.SortDisplayName: "display_name", store.SortUpdated: "updated"}
	for order, compare := range orders {
		for _, f := range filters {
			var want []string
			for _, c := range slices.SortedFunc(slices.Values(cases), compare) {
				if f.match(c) {
					want = append(want, c.id)
				}
			}
			got := []string{}
			q := f.q
			q.Sort, q.Limit = order, 3
			for pages := 0; ; pages++ {
				if pages > len(cases) {
					t.Fatalf("sort %s, %s: pagination does not end", sortName[order], f.name)
				}
				page, err := s.ListModelDocs(ctx, q)
				if err != nil {
					t.Fatalf("sort %s, %s: %v", sortName[order], f.name, err)
				}
				for _, d := range page {
					got = append(got, d.ModelID)
				}
				if len(page) < q.Limit {
					break
				}
				q.After, q.AfterKey = page[len(page)-1].ModelID, page[len(page)-1].SortKey
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("sort %s, %s: paged through\n%v\nwant\n%v", sortName[order], f.name, got, want)
			}
		}
	}
	// CountModels ignores the sort; the compliance filters split the models.
	for _, q := range []store.ModelQuery{{Compliant: true, Sort: store.SortUpdated}, {NonCompliant: true, Sort: store.SortDisplayName}} {
		n, err := s.CountModels(ctx, q)
		want := 0
		for _, c := range cases {
			if c.nonCompliant == q.NonCompliant {
				want++
			}
		}
		if err != nil || n != int64(want) {
			t.Errorf("CountModels(%+v) = %d, %v; want %d", q, n, err, want)
		}
	}
	if _, err := s.ListModelDocs(ctx, store.ModelQuery{Sort: store.ModelSort(99), Limit: 3}); err == nil {
		t.Error("ListModelDocs with an unknown sort: want an error")
	}
}

// SortedIDs returns the ids of the models keep keeps, in the order sort
// lists them: what a list of models sorted so must return, for tests
// above the store.
func SortedIDs(models []*api.Model, sort store.ModelSort, keep func(*api.Model) bool) []string {
	compare := func(a, b *api.Model) int { return cmp.Compare(a.ModelID, b.ModelID) }
	switch sort {
	case store.SortDisplayName:
		compare = func(a, b *api.Model) int {
			return cmp.Or(cmp.Compare(a.DisplayName, b.DisplayName), cmp.Compare(a.ModelID, b.ModelID))
		}
	case store.SortUpdated:
		compare = func(a, b *api.Model) int {
			return cmp.Or(b.UpdatedAt.Compare(*a.UpdatedAt), cmp.Compare(b.ModelID, a.ModelID))
		}
	}
	var ids []string
	for _, m := range slices.SortedFunc(slices.Values(models), compare) {
		if keep == nil || keep(m) {
			ids = append(ids, m.ModelID)
		}
	}
	return ids
}
