// Package audit is modelgov's tamper-evident log of governance decisions:
// an append-only Merkle tree whose leaves are the encoded entries, hashed as
// RFC 6962 / RFC 9162 define (the Go checksum database's tlog computes the
// same hashes and proofs), with checkpoints signed in the signed-note
// format, so that anyone can verify the log with public tools.
//
// The package is pure: it computes what to store and checks what it reads;
// the store keeps the entries and hashes, inside the transaction of the
// change each entry records.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/hivellm/modelgov/api"
)

// Outcomes of a recorded decision.
const (
	Allowed = "allowed"
	Denied  = "denied"
)

// Entry is one recorded decision, api.AuditRecord: its encoding (Encode) is
// the leaf of the Merkle tree. The encoding is canonical: api.Marshal of the
// struct, fields in their order, times in UTC with nanoseconds, no HTML
// escaping, no trailing newline. docs/AUDIT.md documents it for third
// parties.
type Entry = api.AuditRecord

// FailedRule is a rule that denied a write.
type FailedRule = api.AuditFailedRule

// Encode returns the canonical encoding of e: the leaf bytes.
func Encode(e *Entry) ([]byte, error) {
	c := *e
	c.Time = c.Time.UTC()
	if c.Roles == nil {
		c.Roles = []string{}
	}
	if c.Failed == nil {
		c.Failed = []FailedRule{}
	}
	b, err := api.Marshal(&c)
	if err != nil {
		return nil, fmt.Errorf("audit: encode entry %d: %w", e.Seq, err)
	}
	return b, nil
}

// Decode parses leaf bytes into an entry.
func Decode(leaf []byte) (*Entry, error) {
	var e Entry
	if err := json.Unmarshal(leaf, &e); err != nil {
		return nil, fmt.Errorf("audit: decode entry: %w", err)
	}
	return &e, nil
}

// DocumentHash is the hash recorded for a model document: "sha256:" and the
// hex SHA-256 of its JSON encoding; "" for no document.
func DocumentHash(m *api.Model) string {
	if m == nil {
		return ""
	}
	b, err := api.Marshal(m)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// FailedRules extracts the failing rules of a decision.
func FailedRules(d *api.Decision) []FailedRule {
	if d == nil {
		return nil
	}
	var out []FailedRule
	for _, r := range d.Failed() {
		out = append(out, FailedRule{ID: r.ID, Message: r.Message})
	}
	return out
}
