package audit_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
)

var cet = time.FixedZone("CET", 3600)

func TestEncodeGolden(t *testing.T) {
	tests := []struct {
		name  string
		entry audit.Entry
		want  string
	}{
		{
			name: "denial",
			entry: audit.Entry{Seq: 7, Time: time.Date(2026, 1, 2, 4, 4, 5, 600, cet), Principal: "alice",
				Roles: []string{"governor", "owner"}, Action: "model.classify", Target: "openai/gpt-5-mini",
				Outcome: audit.Denied, Failed: []audit.FailedRule{{ID: "general-not-small-variant", Message: "no minis"}},
				PolicyVersion: 3, PolicyHash: "sha256:00ff", Before: "sha256:aa", After: "sha256:bb",
				Reason: "vote 1", RequestID: "req-1"},
			want: `{"seq":7,"time":"2026-01-02T03:04:05.0000006Z","principal":"alice","roles":["governor","owner"],` +
				`"action":"model.classify","target":"openai/gpt-5-mini","outcome":"denied",` +
				`"failed":[{"id":"general-not-small-variant","message":"no minis"}],"policy_version":3,` +
				`"policy_hash":"sha256:00ff","revision":0,"before":"sha256:aa","after":"sha256:bb",` +
				`"reason":"vote 1","request_id":"req-1"}`,
		},
		{
			// nil slices encode as [] and every field is present, so that
			// the encoding has one shape.
			name:  "zero values",
			entry: audit.Entry{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)},
			want: `{"seq":0,"time":"2026-01-02T03:04:05Z","principal":"","roles":[],"action":"","target":"",` +
				`"outcome":"","failed":[],"policy_version":0,"policy_hash":"","revision":0,"before":"",` +
				`"after":"","reason":"","request_id":""}`,
		},
		{
			name: "nanoseconds",
			entry: audit.Entry{Seq: 1, Time: time.Date(2026, 12, 31, 23, 59, 59, 999999999, time.UTC),
				Principal: "system:modelgov", Roles: []string{}, Action: "policy.activate", Target: "policy/1",
				Outcome: audit.Allowed, Failed: []audit.FailedRule{}, PolicyVersion: 1, Revision: 0},
			want: `{"seq":1,"time":"2026-12-31T23:59:59.999999999Z","principal":"system:modelgov","roles":[],` +
				`"action":"policy.activate","target":"policy/1","outcome":"allowed","failed":[],"policy_version":1,` +
				`"policy_hash":"","revision":0,"before":"","after":"","reason":"","request_id":""}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := audit.Encode(&tt.entry)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("Encode =\n%s\nwant\n%s", got, tt.want)
			}
			again, err := audit.Encode(&tt.entry)
			if err != nil || string(again) != string(got) {
				t.Errorf("Encode is not deterministic: %s then %s (%v)", got, again, err)
			}
		})
	}
}

// TestEncodeRoundTripsHTMLCharacters: an entry holding <, > and & decodes
// back to itself and re-encodes to the same bytes.
func TestEncodeRoundTripsHTMLCharacters(t *testing.T) {
	e := &audit.Entry{Time: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), Reason: "R&D <ok>"}
	leaf, err := audit.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	d, err := audit.Decode(leaf)
	if err != nil || d.Reason != e.Reason {
		t.Errorf("Decode(Encode) reason = %q, %v; want %q", d.Reason, err, e.Reason)
	}
	again, _ := audit.Encode(d)
	if string(again) != string(leaf) {
		t.Errorf("re-encoding a decoded entry changes its bytes:\n%s\n%s", leaf, again)
	}
}

// TestEncodeNoHTMLEscaping checks the contract written on audit.Entry: the
// encoding has "no HTML escaping".
func TestEncodeNoHTMLEscaping(t *testing.T) {
	leaf, err := audit.Encode(&audit.Entry{Reason: "R&D <ok>"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(leaf), `"reason":"R&D <ok>"`) {
		t.Errorf("Encode = %s, want the reason unescaped", leaf)
	}
}

func TestEncodeDecodeRoundTrip(t *testing.T) {
	in := &audit.Entry{Seq: 42, Time: time.Date(2026, 3, 4, 5, 6, 7, 890, cet), Principal: "bob",
		Roles: []string{"owner"}, Action: "model.update", Target: "meta/llama", Outcome: audit.Allowed,
		PolicyVersion: 2, PolicyHash: "sha256:01", Revision: 5, Before: "sha256:02", After: "sha256:03",
		Reason: "refresh", RequestID: "r-42"}
	leaf, err := audit.Encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := audit.Decode(leaf)
	if err != nil {
		t.Fatal(err)
	}
	if !out.Time.Equal(in.Time) || out.Time.Location() != time.UTC {
		t.Errorf("time = %v, want %v in UTC", out.Time, in.Time)
	}
	want := *in
	want.Time, want.Failed = out.Time, []audit.FailedRule{}
	if !reflect.DeepEqual(out, &want) {
		t.Errorf("Decode(Encode(e)) =\n%+v\nwant\n%+v", out, &want)
	}
	if in.Time.Location() != cet || in.Failed != nil {
		t.Errorf("Encode changed its argument: %+v", in)
	}
	again, err := audit.Encode(out)
	if err != nil || string(again) != string(leaf) {
		t.Errorf("Encode(Decode(leaf)) =\n%s\nwant\n%s", again, leaf)
	}
}

func TestDecodeRejectsGarbage(t *testing.T) {
	for _, leaf := range []string{"", "{", `{"seq":"x"}`, "[]"} {
		if _, err := audit.Decode([]byte(leaf)); err == nil {
			t.Errorf("Decode(%q): want an error", leaf)
		}
	}
}

func TestDocumentHash(t *testing.T) {
	if got := audit.DocumentHash(nil); got != "" {
		t.Errorf("DocumentHash(nil) = %q, want empty", got)
	}
	m := &api.Model{SchemaVersion: api.SchemaVersion, ModelID: "openai/gpt-5", Provider: "openai", DisplayName: "GPT-5"}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(b)
	if got, want := audit.DocumentHash(m), "sha256:"+hex.EncodeToString(sum[:]); got != want {
		t.Errorf("DocumentHash = %q, want %q", got, want)
	}
	m2 := m.Clone()
	m2.DisplayName = "GPT-5 (2025)"
	if audit.DocumentHash(m2) == audit.DocumentHash(m) {
		t.Error("two different documents have the same hash")
	}
}

func TestFailedRules(t *testing.T) {
	if got := audit.FailedRules(nil); got != nil {
		t.Errorf("FailedRules(nil) = %v, want nil", got)
	}
	d := &api.Decision{Results: []api.RuleResult{
		{ID: "a", Outcome: api.RulePassed, Message: "fine"},
		{ID: "b", Outcome: api.RuleFailed, Message: "b fails"},
		{ID: "c", Outcome: api.RuleWarned, Message: "only a warning"},
		{ID: "d", Outcome: api.RuleError, Message: "could not evaluate"},
	}}
	want := []audit.FailedRule{{ID: "b", Message: "b fails"}, {ID: "d", Message: "could not evaluate"}}
	if got := audit.FailedRules(d); !reflect.DeepEqual(got, want) {
		t.Errorf("FailedRules = %+v, want %+v", got, want)
	}
}
