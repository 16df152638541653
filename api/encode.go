package api

import (
	"bytes"
	"encoding/json"
)

// Marshal is modelgov's one JSON encoding of documents, used wherever bytes
// are stored, served or hashed: encoding/json without HTML escaping (so
// "<", ">" and "&" stay as they are) and without a trailing newline. Using
// it everywhere makes the bytes the store keeps, the bytes the API sends and
// the bytes the audit log hashes the same.
func Marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
