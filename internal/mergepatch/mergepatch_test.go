package mergepatch

import (
	"encoding/json"
	"reflect"
	"testing"
)

// The examples of RFC 7396, appendix A, and a few more.
func TestApply(t *testing.T) {
	tests := []struct{ doc, patch, want string }{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		{`{"a":"foo"}`, `null`, `null`},
		{`{"a":"foo"}`, `"bar"`, `"bar"`},
		{`{"n":1}`, `{"big":70000000000000000001}`, `{"big":70000000000000000001,"n":1}`},
		{`{"x":{"y":1}}`, `{}`, `{"x":{"y":1}}`},
	}
	for _, tt := range tests {
		got, err := Apply([]byte(tt.doc), []byte(tt.patch))
		if err != nil {
			t.Errorf("Apply(%s, %s): %v", tt.doc, tt.patch, err)
			continue
		}
		var g, w any
		json.Unmarshal(got, &g)
		json.Unmarshal([]byte(tt.want), &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("Apply(%s, %s) = %s, want %s", tt.doc, tt.patch, got, tt.want)
		}
	}
}

func TestApplyMalformed(t *testing.T) {
	for _, tt := range []struct{ doc, patch string }{
		{`{}`, `{"a":`},
		{`{}`, `{"a":1} {"b":2}`},
		{`{`, `{}`},
		{`{}`, ``},
	} {
		if _, err := Apply([]byte(tt.doc), []byte(tt.patch)); err == nil {
			t.Errorf("Apply(%q, %q): want an error", tt.doc, tt.patch)
		}
	}
}

// FuzzApply: applying a patch never panics, and applying the same patch
// twice gives what applying it once gives (RFC 7396 patches are idempotent).
func FuzzApply(f *testing.F) {
	for _, seed := range [][2]string{
		{`{"a":"b"}`, `{"a":"c"}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`},
		{`{"a":[1,2]}`, `{"a":null,"b":{"c":[{}]}}`},
		{`{}`, `{"x":1e400}`},
		{`{"n":1}`, `null`},
		{`{"a":1}`, `{"a":`},
	} {
		f.Add(seed[0], seed[1])
	}
	f.Fuzz(func(t *testing.T, doc, patch string) {
		once, err := Apply([]byte(doc), []byte(patch))
		if err != nil {
			return
		}
		if !json.Valid(once) {
			t.Fatalf("Apply(%q, %q) = %q, not JSON", doc, patch, once)
		}
		var onceV any
		if err := decode(once, &onceV); err != nil {
			t.Fatal(err)
		}
		if _, isObject := onceV.(map[string]any); !isObject {
			return // a non-object result cannot be patched again
		}
		twice, err := Apply(once, []byte(patch))
		if err != nil {
			t.Fatalf("applying %q again to %q: %v", patch, once, err)
		}
		var twiceV any
		if err := decode(twice, &twiceV); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(onceV, twiceV) {
			t.Errorf("patch %q is not idempotent on %q:\nonce  %s\ntwice %s", patch, doc, once, twice)
		}
	})
}
