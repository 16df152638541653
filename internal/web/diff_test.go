package web

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

func TestDiffDocs(t *testing.T) {
	decode := func(s string) any {
		if s == "" {
			return nil
		}
		var v any
		if err := json.Unmarshal([]byte(s), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name, a, b string
		want       []string // "kind pointer old -> new"
	}{
		{"same", `{"a": 1, "b": [1, 2]}`, `{"b": [1, 2], "a": 1}`, nil},
		{"members by name", `{"b": 1, "c": 2}`, `{"a": 0, "b": 2}`,
			[]string{`added /a  -> 0`, `changed /b 1 -> 2`, `removed /c 2 -> `}},
		{"nested", `{"m": {"x": "1", "y": {"z": true}}}`, `{"m": {"x": "2", "y": {"z": true}}}`, []string{`changed /m/x "1" -> "2"`}},
		{"arrays by index", `{"l": ["a", "b"]}`, `{"l": ["a", "c", "d"]}`, []string{`changed /l/1 "b" -> "c"`, `added /l/2  -> "d"`}},
		{"a type change is one change", `{"v": {"x": 1}}`, `{"v": [1]}`, []string{`changed /v {"x":1} -> [1]`}},
		{"names escaped", `{"a/b": 1, "c~d": 1}`, `{"a/b": 2, "c~d": 2}`, []string{`changed /a~1b 1 -> 2`, `changed /c~0d 1 -> 2`}},
		{"a deletion", `{"a": 1}`, ``, []string{`changed  {"a":1} -> null`}},
		{"html stays as is, for the template to escape", `{"a": "<b>"}`, `{"a": "&"}`, []string{`changed /a "<b>" -> "&"`}},
	}
	for _, tc := range cases {
		var got []string
		for _, c := range diffDocs(decode(tc.a), decode(tc.b)) {
			got = append(got, fmt.Sprintf("%s %s %s -> %s", c.Kind, c.Pointer, c.Old, c.New))
		}
		if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
			t.Errorf("%s: diff =\n%s\nwant\n%s", tc.name, strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
		}
	}
	// A long value is cut.
	long := diffDocs(map[string]any{"a": strings.Repeat("x", 1000)}, map[string]any{})
	if len(long) != 1 || len([]rune(long[0].Old)) != maxShownValue+1 || !strings.HasSuffix(long[0].Old, "…") {
		t.Errorf("a long value: %+v", long)
	}
}
