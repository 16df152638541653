// Package mergepatch applies JSON Merge Patches (RFC 7396): a patch names
// exactly the fields it changes, null removes a field, and every field it
// does not name is left as it was.
package mergepatch

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// Apply returns doc with patch applied. doc must be a JSON object; patch may
// be any JSON value (a non-object patch replaces the whole document, as the
// RFC says). Numbers keep their exact text.
func Apply(doc, patch []byte) ([]byte, error) {
	var target any
	if err := decode(doc, &target); err != nil {
		return nil, fmt.Errorf("merge patch: document: %w", err)
	}
	var p any
	if err := decode(patch, &p); err != nil {
		return nil, fmt.Errorf("merge patch: %w", err)
	}
	out, err := json.Marshal(merge(target, p))
	if err != nil {
		return nil, fmt.Errorf("merge patch: %w", err)
	}
	return out, nil
}

func decode(b []byte, v *any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("unexpected data after the JSON value")
	}
	return nil
}

// merge is the MergePatch function of RFC 7396, section 2.
func merge(target, patch any) any {
	p, ok := patch.(map[string]any)
	if !ok {
		return patch
	}
	t, ok := target.(map[string]any)
	if !ok {
		t = map[string]any{}
	}
	for k, v := range p {
		if v == nil {
			delete(t, k)
			continue
		}
		t[k] = merge(t[k], v)
	}
	return t
}
