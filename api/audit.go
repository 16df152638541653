package api

import "time"

// AuditRecord is one recorded decision of the write path: an entry of the
// audit log. Its JSON encoding by Marshal, with the fields in this order and
// times in UTC, is the leaf hashed into the log's Merkle tree.
type AuditRecord struct {
	// Seq is the entry's index in the log; the first entry is 0.
	Seq  int64     `json:"seq"`
	Time time.Time `json:"time"`
	// Principal and Roles name the caller.
	Principal string   `json:"principal"`
	Roles     []string `json:"roles"`
	// Action is the write, as the policy names it (model.create, ...).
	Action string `json:"action"`
	// Target is what the write is about: a model id, an alias, a policy.
	Target string `json:"target"`
	// Outcome is allowed or denied.
	Outcome string `json:"outcome"`
	// Failed lists the rules that denied the write.
	Failed []AuditFailedRule `json:"failed"`
	// PolicyVersion and PolicyHash name the bundle the decision was taken under.
	PolicyVersion int64  `json:"policy_version"`
	PolicyHash    string `json:"policy_hash"`
	// Revision is the model revision the write created (0 when none).
	Revision int64 `json:"revision"`
	// Before and After are the hashes of the model document before and
	// after the write ("sha256:<hex>" of its JSON), "" when there is none.
	Before string `json:"before"`
	After  string `json:"after"`
	// Reason is the caller's reason, when the write had one.
	Reason    string `json:"reason"`
	RequestID string `json:"request_id"`
}

// AuditFailedRule is a rule that denied a recorded write.
type AuditFailedRule struct {
	ID      string `json:"id"`
	Message string `json:"message"`
}

// AuditEntry is an audit log entry as served: its decoded fields beside
// Leaf, the exact bytes hashed into the log's Merkle tree, so that anyone
// can recompute the leaf hash (SHA-256 of 0x00 || leaf, RFC 6962) from what
// they received.
type AuditEntry struct {
	AuditRecord
	// Leaf is the entry's canonical encoding (base64 in JSON).
	Leaf []byte `json:"leaf"`
	// Hash is the leaf hash the log stored when it appended the entry
	// (base64).
	Hash string `json:"hash"`
}

// AuditEntryList is one page of audit entries, in sequence order.
type AuditEntryList struct {
	Items         []*AuditEntry `json:"items"`
	NextPageToken string        `json:"next_page_token,omitempty"`
}

// InclusionProof proves that entry Index is in the tree of Size entries:
// the hashes in the order tlog.ProveRecord gives them (base64).
type InclusionProof struct {
	Index  int64    `json:"index"`
	Size   int64    `json:"size"`
	Hashes []string `json:"hashes"`
}

// ConsistencyProof proves that the tree of Old entries is a prefix of the
// tree of New entries: the hashes in the order tlog.ProveTree gives them.
type ConsistencyProof struct {
	Old    int64    `json:"old"`
	New    int64    `json:"new"`
	Hashes []string `json:"hashes"`
}
