package registry_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/store"
	"github.com/hivellm/modelgov/internal/store/storetest"
)

// TestListSortsAndCompliance pages one model at a time through every sort
// of ListModels, with and without the compliance filter, and compares each
// walk with the same order computed from the documents; and checks that a
// page token is refused under another sort than the one that made it.
func TestListSortsAndCompliance(t *testing.T) {
	s, c := newService(t)
	ctx := context.Background()
	for _, m := range []struct{ id, name string }{{"a/zulu", "Zulu"}, {"b/alpha", "alpha"}, {"c/mike", "Mike"}} {
		b, _ := json.Marshal(map[string]any{"schema_version": "1.1", "model_id": m.id, "provider": m.id[:1], "display_name": m.name, "size_class": "large"})
		if _, err := s.CreateModel(ctx, b, maintainer); err != nil {
			t.Fatalf("create %s: %v", m.id, err)
		}
		c.Advance(time.Minute)
	}
	// One general out of compliance: its exemption expired.
	create(t, s, "xai/grok-3-mini", "large", 0)
	req := api.ExemptionRequest{Rules: []string{"general-not-small-variant"}, Reason: "historical name", ExpiresAt: c.Now().Add(48 * time.Hour)}
	if _, err := s.GrantExemption(ctx, "xai/grok-3-mini", req, governor); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Classify(ctx, "xai/grok-3-mini", api.Classification{Role: api.RoleGeneral, Reason: "exempted"}, governor); err != nil {
		t.Fatal(err)
	}
	c.Advance(49 * time.Hour)
	if _, err := s.Recheck(ctx); err != nil {
		t.Fatal(err)
	}
	// The first model created becomes the last updated.
	c.Advance(time.Minute)
	b, _ := json.Marshal(map[string]any{"schema_version": "1.1", "model_id": "a/zulu", "provider": "a", "display_name": "Zulu",
		"size_class": "large", "notes": "updated"})
	if _, err := s.ApplyModel(ctx, b, maintainer); err != nil {
		t.Fatal(err)
	}

	list, err := s.ListModels(ctx, registry.ListQuery{})
	if err != nil {
		t.Fatal(err)
	}
	all := list.Items
	nonCompliant := func(m *api.Model) bool {
		return m.Governance != nil && m.Governance.Compliance != nil && m.Governance.Compliance.Status == api.NonCompliant
	}
	order := func(sort store.ModelSort, keep func(*api.Model) bool) []string {
		return storetest.SortedIDs(all, sort, keep)
	}
	byID, byName, byUpdate := store.SortModelID, store.SortDisplayName, store.SortUpdated
	every := func(*api.Model) bool { return true }
	compliant := func(m *api.Model) bool { return !nonCompliant(m) }
	if got := order(byUpdate, every); got[0] != "a/zulu" || got[1] != "xai/grok-3-mini" {
		t.Fatalf("the test's premise: newest first = %v, want a/zulu then xai/grok-3-mini", got)
	}
	for _, tt := range []struct {
		sort, compliance string
		want             []string
	}{
		{"", "", order(byID, every)},
		{"model_id", "any", order(byID, every)},
		{"provider", "", order(byID, every)},
		{"display_name", "", order(byName, every)},
		{"updated_at", "", order(byUpdate, every)},
		{"updated_at", "non_compliant", []string{"xai/grok-3-mini"}},
		{"display_name", "compliant", order(byName, compliant)},
		{"updated_at", "compliant", order(byUpdate, compliant)},
	} {
		var got []string
		q := registry.ListQuery{Sort: tt.sort, Compliance: tt.compliance, PageSize: 1}
		for pages := 0; ; pages++ {
			if pages > len(all) {
				t.Fatalf("sort %q: pagination does not end", tt.sort)
			}
			list, err := s.ListModels(ctx, q)
			if err != nil {
				t.Fatalf("sort %q compliance %q: %v", tt.sort, tt.compliance, err)
			}
			for _, m := range list.Items {
				got = append(got, m.ModelID)
			}
			if list.NextPageToken == "" {
				break
			}
			q.PageToken = list.NextPageToken
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("sort %q compliance %q: paged through %v, want %v", tt.sort, tt.compliance, got, tt.want)
		}
	}

	// Tokens name their sort; provider is model_id's order, tokens included.
	token := func(sort string) string {
		list, err := s.ListModels(ctx, registry.ListQuery{Sort: sort, PageSize: 1})
		if err != nil || list.NextPageToken == "" {
			t.Fatalf("first page by %s: %v, token %q", sort, err, list.NextPageToken)
		}
		return list.NextPageToken
	}
	if _, err := s.ListModels(ctx, registry.ListQuery{Sort: "provider", PageToken: token("model_id")}); err != nil {
		t.Errorf("a model_id token under sort provider: %v", err)
	}
	for _, tt := range []struct {
		name  string
		q     registry.ListQuery
		words []string
	}{
		{"display_name token by update", registry.ListQuery{Sort: "updated_at", PageToken: token("display_name")}, []string{"made for sort display_name", "not updated_at"}},
		{"model_id token by name", registry.ListQuery{Sort: "display_name", PageToken: token("")}, []string{"made for sort model_id", "not display_name"}},
		{"updated_at token by id", registry.ListQuery{PageToken: token("updated_at")}, []string{"made for sort updated_at", "not model_id"}},
		{"forged token", registry.ListQuery{Sort: "display_name", PageToken: "v2.e30"}, []string{"page_token is not valid"}},
		{"garbage token", registry.ListQuery{Sort: "updated_at", PageToken: "v2.!!"}, []string{"page_token is not valid"}},
		{"unknown sort", registry.ListQuery{Sort: "size"}, []string{`sort "size" is not one of model_id, provider, display_name, updated_at`}},
		{"unknown compliance", registry.ListQuery{Compliance: "maybe"}, []string{`compliance "maybe" is not one of any, compliant, non_compliant`}},
	} {
		_, err := s.ListModels(ctx, tt.q)
		if !errs.Is(err, errs.Malformed) || !containsAll(errString(err), tt.words...) {
			t.Errorf("%s: %v, want Malformed saying %q", tt.name, err, strings.Join(tt.words, ", "))
		}
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
