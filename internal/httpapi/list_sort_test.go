package httpapi_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/client"
)

// TestListSortAndCompliance pages through GET /v1/models under each sort
// and compliance filter, two models a page, following next_page_token, and
// checks the orders and the refusals (400) of an unknown sort or
// compliance and of a token made under another sort.
func TestListSortAndCompliance(t *testing.T) {
	ts := newTestServer(t, serverConfig{})
	ctx := context.Background()
	// Display names in the reverse of the ids' order; created in id order,
	// so that the newest is the last id.
	var ids []string
	for i := range 5 {
		id := fmt.Sprintf("p%d/m", i)
		doc := fullDocument(id)
		doc["display_name"] = fmt.Sprintf("Model %c", 'E'-i)
		if _, err := ts.client.CreateModel(ctx, mustJSON(t, doc), client.JSON, client.WriteOptions{}); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	reversed := slices.Clone(ids)
	slices.Reverse(reversed)
	walk := func(query string) ([]string, string) {
		t.Helper()
		var got []string
		token := ""
		for pages := 0; pages < 10; pages++ {
			q := query + "&page_size=2"
			if token != "" {
				q += "&page_token=" + url.QueryEscape(token)
			}
			code, _, body := ts.call(t, "GET", "/v1/models?"+q, "", nil)
			if code != 200 {
				return got, fmt.Sprintf("%d %s", code, body)
			}
			var l api.ModelList
			if err := json.Unmarshal(body, &l); err != nil {
				t.Fatal(err)
			}
			for _, m := range l.Items {
				got = append(got, m.ModelID)
			}
			if token = l.NextPageToken; token == "" {
				return got, ""
			}
		}
		t.Fatalf("%s: pagination does not end", query)
		return nil, ""
	}
	for _, tt := range []struct {
		query string
		want  []string
	}{
		{"sort=model_id", ids},
		{"sort=provider&compliance=any", ids},
		{"sort=display_name", reversed},
		{"sort=updated_at", reversed},
		{"sort=display_name&compliance=compliant", reversed},
		{"sort=updated_at&compliance=non_compliant", nil},
		{"sort=display_name&provider=p3", []string{"p3/m"}},
	} {
		got, failed := walk(tt.query)
		if failed != "" || !slices.Equal(got, tt.want) {
			t.Errorf("GET /v1/models?%s paged through %v (%s), want %v", tt.query, got, failed, tt.want)
		}
	}

	_, _, body := ts.call(t, "GET", "/v1/models?sort=display_name&page_size=1", "", nil)
	var first api.ModelList
	if err := json.Unmarshal(body, &first); err != nil || first.NextPageToken == "" {
		t.Fatalf("first page by display_name: %s", body)
	}
	for q, want := range map[string]string{
		"sort=size":      `sort \"size\" is not one of model_id, provider, display_name, updated_at`,
		"compliance=yes": `compliance \"yes\" is not one of any, compliant, non_compliant`,
		"sort=updated_at&page_token=" + url.QueryEscape(first.NextPageToken): "made for sort display_name, not updated_at",
		"page_token=" + url.QueryEscape(first.NextPageToken):                 "made for sort display_name, not model_id",
	} {
		code, _, body := ts.call(t, "GET", "/v1/models?"+q, "", nil)
		if code != 400 || !strings.Contains(string(body), want) {
			t.Errorf("GET /v1/models?%s: %d %s, want 400 saying %s", q, code, body, want)
		}
	}
}
