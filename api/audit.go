package api

import "time"

// AuditEntry is one recorded decision of the write path, as served: its
// decoded fields beside Leaf, the exact bytes hashed into the log's Merkle
// tree, so that anyone can recompute the leaf hash (SHA-256 of 0x00 ||
// leaf, RFC 6962) from what they received.
type AuditEntry struct {
	Seq           int64             `json:"seq"`
	Time          time.Time         `json:"time"`
	Principal     string            `json:"principal"`
	Roles         []string          `json:"roles"`
	Action        string            `json:"action"`
	Target        string            `json:"target"`
	Outcome       string            `json:"outcome"`
	Failed        []AuditFailedRule `json:"failed"`
	PolicyVersion int64             `json:"policy_version"`
	PolicyHash    string            `json:"policy_hash"`
	Revision      int64             `json:"revision"`
	Before        string            `json:"before"`
	After         string            `json:"after"`
	Reason        string            `json:"reason"`
	RequestID     string            `json:"request_id"`
	// Leaf is the entry's canonical encoding (base64 in JSON).
	Leaf []byte `json:"leaf"`
	// Hash is the leaf hash the log stored when it appended the entry
	// (base64).
	Hash string `json:"hash"`
}

// AuditFailedRule is a rule that denied a recorded write.
type AuditFailedRule struct {
	ID      string `json:"id"`
	Message string `json:"message"`
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
