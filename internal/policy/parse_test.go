package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParse(t testing.TB, data []byte) *Bundle {
	t.Helper()
	b, err := Parse(data)
	if err != nil {
		t.Fatalf("Parse: %v %+v", err, fieldsOf(err))
	}
	return b
}

func fieldsOf(err error) []api.FieldError {
	var e *errs.Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}

func TestParseSpellingsHaveOneHash(t *testing.T) {
	yamlBundle := mustParse(t, readFile(t, "testdata/strict.yaml"))
	jsonBundle := mustParse(t, readFile(t, "testdata/strict.json"))
	if got, want := Hash(jsonBundle), Hash(yamlBundle); got != want {
		y, _ := json.Marshal(yamlBundle)
		j, _ := json.Marshal(jsonBundle)
		t.Fatalf("JSON and YAML spellings hash differently:\nYAML %s %s\nJSON %s %s", want, y, got, j)
	}
	if h := Hash(yamlBundle); !strings.HasPrefix(h, "sha256:") || len(h) != len("sha256:")+64 {
		t.Errorf("Hash = %q, want sha256: and 64 hex digits", h)
	}
	// 70e9 in YAML and 70000000000 in JSON are the same int64; 1.0 is 1.
	for _, b := range []*Bundle{yamlBundle, jsonBundle} {
		if got := b.Params["general_min_parameters"]; got != int64(70e9) {
			t.Errorf("general_min_parameters = %#v, want int64(70000000000)", got)
		}
		if got := b.Params["min_general_evals"]; got != int64(1) {
			t.Errorf("min_general_evals = %#v, want int64(1)", got)
		}
	}
}

func TestHashIsStable(t *testing.T) {
	b := mustParse(t, Default())
	// The registry stores encoding/json's form of a bundle and parses it
	// again: the hash must survive.
	stored, err := json.Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	if again := mustParse(t, stored); Hash(again) != Hash(b) {
		t.Errorf("hash changed after a round trip through JSON: %s, then %s", Hash(b), Hash(again))
	}
	// A bundle built in Go, with params as float64 and int, hashes as its
	// parsed form does.
	built := &Bundle{APIVersion: APIVersion, Name: "x", Params: map[string]any{"a": 70e9, "b": 3, "c": []any{1.0, 0.5}}}
	parsed := mustParse(t, []byte("api_version: modelgov.dev/policy/v1\nname: x\nparams: {c: [1, 0.5], b: 3.0, a: 70000000000}\n"))
	if Hash(built) != Hash(parsed) {
		t.Errorf("Hash(built) = %s, Hash(parsed) = %s", Hash(built), Hash(parsed))
	}
	p, err := Compile(built, 7)
	if err != nil {
		t.Fatal(err)
	}
	if p.Hash() != Hash(built) {
		t.Errorf("Program.Hash() = %s, want %s", p.Hash(), Hash(built))
	}
	if Hash(nil) != "" {
		t.Errorf("Hash(nil) = %q, want empty", Hash(nil))
	}
	changed := *parsed
	changed.Name = "y"
	if Hash(&changed) == Hash(parsed) {
		t.Error("a changed bundle has the same hash")
	}
}

func TestParseErrors(t *testing.T) {
	const head = "api_version: modelgov.dev/policy/v1\nname: test\n"
	rule := func(id string) string { return fmt.Sprintf("  - {id: %s, expression: 'true'}\n", id) }
	tests := []struct {
		name   string
		doc    string
		kind   errs.Kind
		fields []api.FieldError // a subset of the errors, in order
	}{
		{name: "empty", doc: " \n", kind: errs.Malformed},
		{name: "bad YAML", doc: "name: [", kind: errs.Malformed},
		{name: "bad JSON", doc: `{"name": }`, kind: errs.Malformed},
		{name: "JSON then more", doc: `{"name": "a"} {}`, kind: errs.Malformed},
		{name: "not an object", doc: "- a\n- b\n", kind: errs.Malformed},
		{name: "duplicate YAML key", doc: head + "name: again\n", kind: errs.Malformed},
		{name: "number out of range", doc: `{"api_version": "modelgov.dev/policy/v1", "name": "a", "params": {"x": 1e999}}`, kind: errs.Malformed},
		{name: "too large", doc: head + "description: " + strings.Repeat("x", MaxBundleBytes) + "\n", kind: errs.TooLarge},
		{name: "missing fields", doc: "description: nothing\n", kind: errs.Invalid, fields: []api.FieldError{
			{Pointer: "/api_version", Message: "is required"}, {Pointer: "/name", Message: "is required"}}},
		{name: "wrong api_version", doc: "api_version: v2\nname: test\n", kind: errs.Invalid, fields: []api.FieldError{
			{Pointer: "/api_version", Message: `must be "modelgov.dev/policy/v1"`}}},
		{name: "unknown field", doc: head + "rules: []\n", kind: errs.Invalid, fields: []api.FieldError{
			{Pointer: "/rules", Message: `unknown field "rules"`}}},
		{name: "bad rule id", doc: head + "validation:\n" + rule("Has_Caps"), kind: errs.Invalid, fields: []api.FieldError{
			{Pointer: "/validation/0/id", Message: patternMessages[`^[a-z0-9][a-z0-9-]{0,62}$`]}}},
		{name: "rule without expression", doc: head + "validation:\n  - id: a\n", kind: errs.Invalid, fields: []api.FieldError{
			{Pointer: "/validation/0/expression", Message: "is required"}}},
		{name: "bad action", doc: head + "validation:\n  - {id: a, expression: 'true', action: audit}\n", kind: errs.Invalid,
			fields: []api.FieldError{{Pointer: "/validation/0/action", Message: "must be one of deny, warn"}}},
		{name: "unknown role in classification", doc: head + "classification:\n  generals:\n" + rule("a"), kind: errs.Invalid,
			fields: []api.FieldError{{Pointer: "/classification/generals",
				Message: "is not a valid key: it must be one of general, specialist, experimental"}}},
		{name: "unknown status", doc: head + "transitions:\n  - {id: a, to: [retired], roles: [governor]}\n", kind: errs.Invalid,
			fields: []api.FieldError{{Pointer: "/transitions/0/to/0", Message: "must be one of proposed, active, deprecated, suspended, archived"}}},
		{name: "unknown action", doc: head + "permissions:\n  - {id: a, actions: [model.read], roles: [admin]}\n", kind: errs.Invalid,
			fields: []api.FieldError{{Pointer: "/permissions/0/actions/0"}}},
		{name: "expression too long", doc: head + "validation:\n  - {id: a, expression: '" + strings.Repeat("1", MaxExpressionLength+1) + "'}\n",
			kind: errs.Invalid, fields: []api.FieldError{{Pointer: "/validation/0/expression", Message: "must be at most 4096 characters"}}},
		{name: "params key not an identifier", doc: head + "params: {min-size: 1}\n", kind: errs.Invalid,
			fields: []api.FieldError{{Pointer: "/params/min-size"}}},
		{name: "duplicate ids", doc: head + "classification:\n  general:\n" + rule("size") + "validation:\n" + rule("other") + rule("size"),
			kind: errs.Invalid, fields: []api.FieldError{{Pointer: "/validation/1/id",
				Message: `repeats rule id "size" of /classification/general/0/id: rule ids must be unique in a bundle`}}},
		{name: "duplicate ids across sections", doc: head + "transitions:\n  - {id: x, roles: [a]}\npermissions:\n  - {id: x, actions: ['*'], roles: [a]}\n",
			kind: errs.Invalid, fields: []api.FieldError{{Pointer: "/permissions/0/id",
				Message: `repeats rule id "x" of /transitions/0/id: rule ids must be unique in a bundle`}}},
		{name: "transition without roles or expression", doc: head + "transitions:\n  - {id: a, to: [active]}\n", kind: errs.Invalid,
			fields: []api.FieldError{{Pointer: "/transitions/0", Message: "needs roles, an expression or both"}}},
		{name: "bad grace period", doc: head + "params: {grace_period: 30d}\n", kind: errs.Invalid,
			fields: []api.FieldError{{Pointer: "/params/grace_period"}}},
		{name: "bad fallback role", doc: head + "params: {fallback_roles: {general: voter}}\n", kind: errs.Invalid,
			fields: []api.FieldError{{Pointer: "/params/fallback_roles/general", Message: "must be one of general, specialist, experimental, none"}}},
		{name: "params too deep", doc: head + "params: {a: " + strings.Repeat("[", MaxParamsDepth+1) + strings.Repeat("]", MaxParamsDepth+1) + "}\n",
			kind: errs.Invalid, fields: []api.FieldError{{Pointer: "/params/a/0/0/0/0/0/0/0/0"}}},
		{name: "too many rules", doc: head + "validation:\n" + manyRules("v", 200) + "transitions:\n" + manyTransitions("t", 57),
			kind: errs.Invalid, fields: []api.FieldError{{Pointer: "", Message: "has 257 rules, over the limit of 256"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := Parse([]byte(tt.doc))
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", b)
			}
			if b != nil {
				t.Errorf("Parse returned a bundle and an error")
			}
			if got := errs.KindOf(err); got != tt.kind {
				t.Fatalf("kind = %v, want %v (%v)", got, tt.kind, err)
			}
			got := fieldsOf(err)
			for _, want := range tt.fields {
				i := slices.IndexFunc(got, func(f api.FieldError) bool {
					return f.Pointer == want.Pointer && (want.Message == "" || f.Message == want.Message)
				})
				if i < 0 {
					t.Errorf("no error %+v in %+v", want, got)
				}
			}
		})
	}
}

func manyRules(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  - {id: %s%d, expression: 'true'}\n", prefix, i)
	}
	return b.String()
}

func manyTransitions(prefix string, n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "  - {id: %s%d, roles: [governor]}\n", prefix, i)
	}
	return b.String()
}

func TestDefaultBundle(t *testing.T) {
	b := mustParse(t, Default())
	if b.Name != "hivellm-default" || b.APIVersion != APIVersion {
		t.Errorf("default bundle is %q %q", b.APIVersion, b.Name)
	}
	p, err := Compile(b, 3)
	if err != nil {
		t.Fatalf("Compile: %v %+v", err, fieldsOf(err))
	}
	want := []string{"general-size-class", "general-not-small-variant", "general-parameters", "general-estimated-size-confirmed",
		"general-verified-identity", "general-endorsements", "general-review-cleared", "general-min-scores",
		"size-class-matches-parameters", "lifecycle-approval", "review-before-approval", "lifecycle-suspend-archive",
		"lifecycle-lift-suspension",
		"last-active-general", "classify-by-governor", "exempt-by-governor", "identity-governed"}
	if got := p.RuleIDs(); !slices.Equal(got, want) {
		t.Errorf("RuleIDs() = %v, want %v", got, want)
	}
	if p.Version() != 3 || p.Hash() != Hash(b) || p.Bundle().Name != b.Name {
		t.Errorf("Version, Hash, Bundle = %d %s %s", p.Version(), p.Hash(), p.Bundle().Name)
	}
	if got := p.GracePeriod().Hours(); got != 720 {
		t.Errorf("GracePeriod() = %vh, want 720h", got)
	}
	for from, to := range map[api.Role]api.Role{api.RoleGeneral: api.RoleSpecialist, api.RoleSpecialist: api.RoleExperimental,
		api.RoleExperimental: api.RoleNone, api.RoleNone: api.RoleNone} {
		if got := p.FallbackRole(from); got != to {
			t.Errorf("FallbackRole(%s) = %s, want %s", from, got, to)
		}
	}
	mutated := Default()
	mutated[0] = '!'
	if bytes.Equal(Default(), mutated) {
		t.Error("changing what Default() returned changed the default bundle")
	}
}

func TestSchemaFiles(t *testing.T) {
	b, err := fs.ReadFile(SchemaFiles(), "policy/v1.json")
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		ID     string `json:"$id"`
		Schema string `json:"$schema"`
	}
	if err := json.Unmarshal(b, &schema); err != nil {
		t.Fatal(err)
	}
	if schema.ID != SchemaID || schema.Schema != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$id = %q, $schema = %q", schema.ID, schema.Schema)
	}
}
