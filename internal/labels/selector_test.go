package labels

import (
	"reflect"
	"strings"
	"testing"
)

// parseTests are valid selectors, what Parse returns and the canonical form.
var parseTests = []struct {
	in        string
	want      Selector
	canonical string
}{
	{in: "", want: nil, canonical: ""},
	{in: " \t\r\n ", want: nil, canonical: ""},
	{in: "team=core", want: Selector{{Key: "team", Op: Equals, Values: []string{"core"}}}, canonical: "team=core"},
	{in: "team==core", want: Selector{{Key: "team", Op: Equals, Values: []string{"core"}}}, canonical: "team=core"},
	{in: "tier!=test", want: Selector{{Key: "tier", Op: NotEquals, Values: []string{"test"}}}, canonical: "tier!=test"},
	{
		in: "team=core,tier!=test",
		want: Selector{
			{Key: "team", Op: Equals, Values: []string{"core"}},
			{Key: "tier", Op: NotEquals, Values: []string{"test"}},
		},
		canonical: "team=core,tier!=test",
	},
	{
		in:        "  team =  core ,  tier != test  ",
		want:      Selector{{Key: "team", Op: Equals, Values: []string{"core"}}, {Key: "tier", Op: NotEquals, Values: []string{"test"}}},
		canonical: "team=core,tier!=test",
	},
	{in: "gpu", want: Selector{{Key: "gpu", Op: Exists}}, canonical: "gpu"},
	{in: "!gpu", want: Selector{{Key: "gpu", Op: DoesNotExist}}, canonical: "!gpu"},
	{in: "! gpu", want: Selector{{Key: "gpu", Op: DoesNotExist}}, canonical: "!gpu"},
	{
		in:        "env in (prod,staging)",
		want:      Selector{{Key: "env", Op: In, Values: []string{"prod", "staging"}}},
		canonical: "env in (prod,staging)",
	},
	{
		in:        "env in(staging , prod,staging)",
		want:      Selector{{Key: "env", Op: In, Values: []string{"prod", "staging"}}},
		canonical: "env in (prod,staging)",
	},
	{
		in:        "env notin (dev)",
		want:      Selector{{Key: "env", Op: NotIn, Values: []string{"dev"}}},
		canonical: "env notin (dev)",
	},
	{in: "tier=", want: Selector{{Key: "tier", Op: Equals, Values: []string{""}}}, canonical: "tier="},
	{
		in:        "tier!=,gpu",
		want:      Selector{{Key: "tier", Op: NotEquals, Values: []string{""}}, {Key: "gpu", Op: Exists}},
		canonical: "tier!=,gpu",
	},
	{in: "tier in ()", want: Selector{{Key: "tier", Op: In, Values: []string{""}}}, canonical: "tier in ()"},
	{in: "tier in (,)", want: Selector{{Key: "tier", Op: In, Values: []string{""}}}, canonical: "tier in ()"},
	{in: "tier in (a,)", want: Selector{{Key: "tier", Op: In, Values: []string{"", "a"}}}, canonical: "tier in (,a)"},
	{
		in: "hivellm.org/team=core, app.kubernetes.io/name in (x), !hivellm.org/legacy",
		want: Selector{
			{Key: "hivellm.org/team", Op: Equals, Values: []string{"core"}},
			{Key: "app.kubernetes.io/name", Op: In, Values: []string{"x"}},
			{Key: "hivellm.org/legacy", Op: DoesNotExist},
		},
		canonical: "hivellm.org/team=core,app.kubernetes.io/name in (x),!hivellm.org/legacy",
	},
	{
		// Order and duplicates are kept: the SQL layer sees what was written.
		in: "b,a=1,b,a=2",
		want: Selector{
			{Key: "b", Op: Exists},
			{Key: "a", Op: Equals, Values: []string{"1"}},
			{Key: "b", Op: Exists},
			{Key: "a", Op: Equals, Values: []string{"2"}},
		},
		canonical: "b,a=1,b,a=2",
	},
	// "in" and "notin" are keys or values where an operator is not expected.
	{in: "in", want: Selector{{Key: "in", Op: Exists}}, canonical: "in"},
	{in: "in in (in,notin)", want: Selector{{Key: "in", Op: In, Values: []string{"in", "notin"}}}, canonical: "in in (in,notin)"},
	{in: "notin=in", want: Selector{{Key: "notin", Op: Equals, Values: []string{"in"}}}, canonical: "notin=in"},
	{
		in:        "x in (" + strings.Repeat("v,", MaxSetValues-1) + "v)",
		want:      Selector{{Key: "x", Op: In, Values: []string{"v"}}},
		canonical: "x in (v)",
	},
	{
		in:        strings.Repeat("a,", MaxRequirements-1) + "a",
		want:      repeatRequirement(Requirement{Key: "a", Op: Exists}, MaxRequirements),
		canonical: strings.Repeat("a,", MaxRequirements-1) + "a",
	},
}

func repeatRequirement(r Requirement, n int) Selector {
	s := make(Selector, n)
	for i := range s {
		s[i] = r
	}
	return s
}

// parseErrorTests are broken selectors and a substring of the error.
var parseErrorTests = []struct {
	in      string
	wantErr string
}{
	{in: "team=core,tier!=(", wantErr: `label selector: at 16: expected a value after "!=", found "("`},
	{in: "a=b=c", wantErr: `at 3: expected "," or the end of the selector after "a=b", found "="`},
	{in: "a===b", wantErr: `at 3: expected a value after "==", found "="`},
	{in: "a!b", wantErr: `at 1: expected an operator (=, ==, !=, in, notin), "," or the end of the selector after label key "a", found "!"`},
	{in: "a b", wantErr: `at 2: expected an operator (=, ==, !=, in, notin), "," or the end of the selector after label key "a", found "b"`},
	{in: "a in", wantErr: `at 4: expected "(" after "in", found the end of the selector`},
	{in: "a notin b", wantErr: `at 8: expected "(" after "notin", found "b"`},
	{in: "a in (b", wantErr: `at 7: expected "," or ")" in the list of "in", found the end of the selector`},
	{in: "a in (b c)", wantErr: `at 8: expected "," or ")" in the list of "in", found "c"`},
	{in: "a in (=)", wantErr: `at 6: expected a value, "," or ")" in the list of "in", found "="`},
	{in: "a in ((b))", wantErr: `at 6: expected a value, "," or ")" in the list of "in", found "("`},
	{in: "a in (b))", wantErr: `at 8: expected "," or the end of the selector after "a in (b)", found ")"`},
	{in: ",", wantErr: `at 0: expected a label key at the start of the selector, found ","`},
	{in: "a,", wantErr: `at 2: expected a label key after ",", found the end of the selector`},
	{in: "a,,b", wantErr: `at 2: expected a label key after ",", found ","`},
	{in: "=a", wantErr: `at 0: expected a label key at the start of the selector, found "="`},
	{in: "!=a", wantErr: `at 0: expected a label key at the start of the selector, found "!="`},
	{in: "!", wantErr: `at 1: expected a label key after "!", found the end of the selector`},
	{in: "!!a", wantErr: `at 1: expected a label key after "!", found "!"`},
	{in: "!a=b", wantErr: `at 2: expected "," or the end of the selector after "!a", found "="`},
	{in: "(a)", wantErr: `at 0: expected a label key at the start of the selector, found "("`},
	{in: "a=b,Bad.Prefix/x=y", wantErr: `at 4: invalid label key "Bad.Prefix/x": the prefix contains the uppercase letter "B"`},
	{in: "a<b", wantErr: `at 0: invalid label key "a<b": it contains "<"`},
	{in: "a>1", wantErr: `at 0: invalid label key "a>1": it contains ">"`},
	{in: "a=-b", wantErr: `at 2: invalid label value "-b": it must begin and end with a letter or digit`},
	{in: "a in (x,y/z)", wantErr: `at 8: invalid label value "y/z": it contains "/"`},
	{in: "a=" + strings.Repeat("v", 64), wantErr: "at 2: invalid label value"},
	{in: "a=b\x00", wantErr: `at 2: invalid label value "b\x00": it contains "\x00"`},
	{in: "a=é", wantErr: `at 2: invalid label value "é": it contains "é"`},
	{in: "a\u00a0=b", wantErr: `at 0: invalid label key "a\u00a0": it contains "\u00a0"`},
	{
		in:      "x in (" + strings.Repeat("v,", MaxSetValues) + "v)",
		wantErr: `at 134: more than 64 values in the list of "in"; at most 64 are allowed`,
	},
	{
		in:      strings.Repeat("a,", MaxRequirements) + "a",
		wantErr: "at 64: more than 32 requirements; at most 32 are allowed",
	},
	{
		in:      "a=" + strings.Repeat(" ", MaxSelectorBytes),
		wantErr: "label selector: it is 4098 bytes long; at most 4096 are allowed",
	},
	{
		// 32 requirements "k… in(v…)" of 127 bytes, 31 commas and a space:
		// 4096 bytes as given, 4127 as "k… in (v…)" in canonical form.
		in:      strings.Repeat(strings.Repeat("k", 63)+" in("+strings.Repeat("v", 59)+"),", MaxRequirements)[:4095] + " ",
		wantErr: "label selector: it is 4127 bytes long when written canonically; at most 4096 are allowed",
	},
}

func TestParse(t *testing.T) {
	for _, tt := range parseTests {
		got, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q) error = %v, want nil", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
		if s := got.String(); s != tt.canonical {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, s, tt.canonical)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range parseErrorTests {
		got, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) = %v, want an error containing %q", tt.in, got, tt.wantErr)
			continue
		}
		checkError(t, "Parse", tt.in, err, tt.wantErr)
	}
}

func TestParseStringRoundTrip(t *testing.T) {
	for _, tt := range parseTests {
		sel, err := Parse(tt.in)
		if err != nil {
			t.Fatalf("Parse(%q) error = %v", tt.in, err)
		}
		again, err := Parse(sel.String())
		if err != nil {
			t.Errorf("Parse(%q) error = %v, want nil (canonical form of %q)", sel.String(), err, tt.in)
			continue
		}
		if !reflect.DeepEqual(again, sel) {
			t.Errorf("Parse(%q) = %#v, want %#v (canonical form of %q)", sel.String(), again, sel, tt.in)
		}
	}
}

func TestStringOfHandBuiltSelector(t *testing.T) {
	tests := []struct {
		sel  Selector
		want string
	}{
		{sel: nil, want: ""},
		{sel: Selector{{Key: "a", Op: In, Values: []string{"z", "b", "z", "a"}}}, want: "a in (a,b,z)"},
		{sel: Selector{{Key: "a", Op: NotIn, Values: []string{"b", "a"}}, {Key: "c", Op: DoesNotExist}}, want: "a notin (a,b),!c"},
		{sel: Selector{{Key: "a", Op: Equals}}, want: "a="},
		{sel: Selector{{Key: "a", Op: "~"}}, want: `a <unknown operator "~">`},
	}
	for _, tt := range tests {
		if got := tt.sel.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.sel, got, tt.want)
		}
	}
	// String sorts a copy: the caller's values keep their order.
	values := []string{"z", "a"}
	_ = Selector{{Key: "k", Op: In, Values: values}}.String()
	if values[0] != "z" {
		t.Errorf("String reordered the caller's values to %q", values)
	}
}

func TestMatches(t *testing.T) {
	labels := map[string]string{"team": "core", "tier": "prod", "empty": "", "hivellm.org/gpu": "a100"}
	tests := []struct {
		selector string
		labels   map[string]string
		want     bool
	}{
		{selector: "", labels: labels, want: true},
		{selector: "", labels: nil, want: true},
		{selector: "team=core", labels: labels, want: true},
		{selector: "team=infra", labels: labels, want: false},
		{selector: "owner=core", labels: labels, want: false},
		{selector: "team!=infra", labels: labels, want: true},
		{selector: "team!=core", labels: labels, want: false},
		{selector: "owner!=core", labels: labels, want: true}, // absent key: NotEquals holds
		{selector: "owner!=core", labels: nil, want: true},
		{selector: "tier in (prod,staging)", labels: labels, want: true},
		{selector: "tier in (dev,staging)", labels: labels, want: false},
		{selector: "owner in (prod)", labels: labels, want: false},
		{selector: "tier notin (dev,staging)", labels: labels, want: true},
		{selector: "tier notin (prod)", labels: labels, want: false},
		{selector: "owner notin (prod)", labels: labels, want: true}, // absent key: NotIn holds
		{selector: "team", labels: labels, want: true},
		{selector: "owner", labels: labels, want: false},
		{selector: "!owner", labels: labels, want: true},
		{selector: "!team", labels: labels, want: false},
		{selector: "empty", labels: labels, want: true},
		{selector: "empty=", labels: labels, want: true},
		{selector: "empty!=", labels: labels, want: false},
		{selector: "owner=", labels: labels, want: false}, // absent is not the empty value
		{selector: "empty in ()", labels: labels, want: true},
		{selector: "empty in (,x)", labels: labels, want: true},
		{selector: "hivellm.org/gpu=a100", labels: labels, want: true},
		{selector: "team=core,tier=prod", labels: labels, want: true},
		{selector: "team=core,tier=dev", labels: labels, want: false},
		{selector: "team=core,!owner,tier notin (dev)", labels: labels, want: true},
		{selector: "Team=core", labels: labels, want: false}, // keys are case-sensitive
		{selector: "team=Core", labels: labels, want: false}, // values are case-sensitive
	}
	for _, tt := range tests {
		sel, err := Parse(tt.selector)
		if err != nil {
			t.Fatalf("Parse(%q) error = %v", tt.selector, err)
		}
		if got := sel.Matches(tt.labels); got != tt.want {
			t.Errorf("Parse(%q).Matches(%v) = %v, want %v", tt.selector, tt.labels, got, tt.want)
		}
	}
}

func TestMatchesUnknownOperator(t *testing.T) {
	r := Requirement{Key: "a", Op: "~", Values: []string{"b"}}
	if r.Matches(map[string]string{"a": "b"}) {
		t.Errorf("%#v.Matches({a: b}) = true, want false", r)
	}
}
