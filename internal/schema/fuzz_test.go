package schema

import (
	"encoding/json"
	"reflect"
	"testing"
)

// FuzzDecode checks that Decode never panics, that what it accepts is a 1.1
// model that Validate accepts, and that the model survives a round trip
// through its JSON form unchanged.
func FuzzDecode(f *testing.F) {
	for _, name := range []string{"testdata/p035-example.json", "testdata/full-v1.1.json", "testdata/model.yaml"} {
		f.Add(readFile(f, name))
	}
	for _, seed := range []string{
		`{"model_id": "openai/gpt-5", "provider": "openai", "display_name": "GPT-5", "context_window": 2000000.0}`,
		"model_id: meta/llama-3-70b\nprovider: meta\ndisplay_name: Llama\nparameters: {count: 70e9, source: declared}\n",
		`{"model_id": "openai/gpt-5", "provider": "openai", "display_name": "x", "labels": {}, "capabilities": []}`,
		`{"model_id": "openai/gpt-5", "provider": "openai", "display_name": "x", "created_at": "2025-09-07T00:00:00.5+05:30"}`,
		`{"model_id": "a/b", "model_id": "a/b"}`,
		`{"schema_version": "1.0", "model_id": "X Y", "provider": "Ü", "display_name": "", "role": "general", "size_class": "xl",
		  "capabilities": ["Tool Use"], "status": "active", "source_files": [], "created_at": "2025-09-07T00:00:00Z", "extra": [1, 1.0]}`,
		`{"schema_version": 1}`, `{`, `[]`, `null`, "a: [", "\uFEFF{}", `{"a": 1e999999}`, "- a\n- b\n", "&a [*a]",
	} {
		f.Add([]byte(seed))
	}
	v := newValidator(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := v.Decode(data)
		if err != nil {
			if d != nil {
				t.Fatalf("Decode returned both %+v and %v", d, err)
			}
			return
		}
		if d.Model.SchemaVersion != "1.1" {
			t.Fatalf("Decode(%q) gave schema version %q", data, d.Model.SchemaVersion)
		}
		if err := v.Validate(d.Model); err != nil {
			t.Fatalf("Validate refuses what Decode(%q) returned: %v %+v", data, err, fieldsOf(err))
		}
		encoded, err := json.Marshal(d.Model)
		if err != nil {
			t.Fatalf("marshal model decoded from %q: %v", data, err)
		}
		again, err := v.Decode(encoded)
		if err != nil {
			t.Fatalf("Decode(%q) of the model decoded from %q: %v %+v", encoded, data, err, fieldsOf(err))
		}
		if !reflect.DeepEqual(again.Model, d.Model) {
			t.Fatalf("round trip of %q changed the model:\nfirst  %s\nsecond %s", data, dump(d.Model), dump(again.Model))
		}
	})
}
