package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
)

// TestApplyLegacyStatuses: a proposal 035 (schema 1.0) document is accepted
// as it is, whatever its status, and the model takes that status. Its role
// is a request: general needs a verified identity, which a model cannot
// have before it exists, so the model takes general's fallback role.
func TestApplyLegacyStatuses(t *testing.T) {
	mg := startServer(t, t.TempDir()).cli()
	for _, tt := range []struct {
		status api.Status
	}{
		{status: api.StatusActive},
		{status: api.StatusArchived},
		{
			status: api.StatusDeprecated,
		},
	} {
		t.Run(string(tt.status), func(t *testing.T) {
			doc := fmt.Sprintf(`schema_version: "1.0"
model_id: openai-gpt-4o-%[1]s
provider: openai
display_name: GPT-4o (%[1]s)
role: general
size_class: large
capabilities: [code]
status: %[1]s
source_files: [metrics/models/openai-gpt-4o.json]
created_at: "2024-05-13T00:00:00Z"
`, tt.status)
			id := "openai/gpt-4o-" + string(tt.status)
			if got, want := mg.succeed(t, doc, "model", "apply", "-f", "-"), id+" created\n"; got != want {
				t.Errorf("apply printed %q, want %q", got, want)
			}
			var m api.Model
			decodeStrictJSON(t, mg.succeed(t, "", "model", "get", id, "-o", "json"), &m)
			if m.Status() != tt.status || m.Role() != api.RoleSpecialist || !strings.Contains(m.Governance.Reason, "general-verified-identity") {
				t.Errorf("%s is %s with role %s (%q), want %s with role specialist for want of an identity",
					id, m.Status(), m.Role(), m.Governance.Reason, tt.status)
			}
		})
	}
}
