package httpapi_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
	"sigs.k8s.io/yaml"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/httpapi"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/registry"
	"github.com/hivellm/modelgov/internal/store"
)

func (s *testServer) getJSON(t *testing.T, path string, v any) {
	t.Helper()
	code, _, b := s.send(t, "GET", path, nil)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, code, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", path, err, b)
	}
}

// The verifier's side: what a third party reads from the API, decoded with
// encoding/json into its own types.

// servedEntry is an audit entry as GET /v1/audit/entries serves it.
type servedEntry struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	Principal string    `json:"principal"`
	Roles     []string  `json:"roles"`
	Action    string    `json:"action"`
	Target    string    `json:"target"`
	Outcome   string    `json:"outcome"`
	Failed    []struct {
		ID      string `json:"id"`
		Message string `json:"message"`
	} `json:"failed"`
	PolicyVersion int64  `json:"policy_version"`
	PolicyHash    string `json:"policy_hash"`
	Revision      int64  `json:"revision"`
	Before        string `json:"before"`
	After         string `json:"after"`
	Reason        string `json:"reason"`
	RequestID     string `json:"request_id"`
	// Leaf is the base64 of the exact bytes hashed into the tree.
	Leaf []byte `json:"leaf"`
	Hash string `json:"hash"`
}

func (e *servedEntry) failedIDs() []string {
	ids := []string{}
	for _, f := range e.Failed {
		ids = append(ids, f.ID)
	}
	return ids
}

// entries fetches every entry query selects, following next_page_token.
func (s *testServer) entries(t *testing.T, query url.Values) []servedEntry {
	t.Helper()
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	var out []servedEntry
	for pages := 0; ; pages++ {
		if pages > 1000 {
			t.Fatal("GET /v1/audit/entries keeps answering a next page")
		}
		var page struct {
			Items         []servedEntry `json:"items"`
			NextPageToken string        `json:"next_page_token"`
		}
		s.getJSON(t, "/v1/audit/entries?"+q.Encode(), &page)
		out = append(out, page.Items...)
		if page.NextPageToken == "" {
			return out
		}
		q.Set("page_token", page.NextPageToken)
	}
}

func (s *testServer) size(t *testing.T) int {
	t.Helper()
	return len(s.entries(t, url.Values{"page_size": {"1000"}}))
}

// since returns the entries from index from on.
func (s *testServer) since(t *testing.T, from int) []servedEntry {
	t.Helper()
	return s.entries(t, url.Values{"from": {strconv.Itoa(from)}, "page_size": {"1000"}})
}

func (s *testServer) verifier(t *testing.T) note.Verifier {
	t.Helper()
	code, h, body := s.send(t, "GET", "/v1/audit/key", nil)
	if code != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), "text/plain") {
		t.Fatalf("GET /v1/audit/key: %d %s %s", code, h.Get("Content-Type"), body)
	}
	v, err := note.NewVerifier(strings.TrimSpace(string(body)))
	if err != nil {
		t.Fatalf("note.NewVerifier(%q): %v", body, err)
	}
	return v
}

// signedCheckpoint is a checkpoint opened with note.Open.
type signedCheckpoint struct {
	origin string
	size   int64
	root   tlog.Hash
}

func (s *testServer) checkpoint(t *testing.T, v note.Verifier) signedCheckpoint {
	t.Helper()
	code, _, body := s.send(t, "GET", "/v1/audit/checkpoint", nil)
	if code != http.StatusOK {
		t.Fatalf("GET /v1/audit/checkpoint: %d %s", code, body)
	}
	n, err := note.Open(body, note.VerifierList(v))
	if err != nil {
		t.Fatalf("note.Open(%q): %v", body, err)
	}
	// The C2SP tlog-checkpoint body: origin, size, base64 root, each ending
	// in a newline.
	lines := strings.Split(n.Text, "\n")
	if len(lines) != 4 || lines[3] != "" {
		t.Fatalf("checkpoint body %q is not three lines", n.Text)
	}
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil || strconv.FormatInt(size, 10) != lines[1] {
		t.Fatalf("checkpoint size %q is not a decimal number", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(raw) != tlog.HashSize {
		t.Fatalf("checkpoint root %q is not a base64 SHA-256 hash", lines[2])
	}
	return signedCheckpoint{origin: lines[0], size: size, root: tlog.Hash(raw)}
}

func decodeProof(t *testing.T, hashes []string) []tlog.Hash {
	t.Helper()
	out := make([]tlog.Hash, len(hashes))
	for i, h := range hashes {
		raw, err := base64.StdEncoding.DecodeString(h)
		if err != nil || len(raw) != tlog.HashSize {
			t.Fatalf("proof hash %q is not a base64 SHA-256 hash", h)
		}
		out[i] = tlog.Hash(raw)
	}
	return out
}

func (s *testServer) inclusionProof(t *testing.T, index, size int64) tlog.RecordProof {
	t.Helper()
	var p struct {
		Index  int64    `json:"index"`
		Size   int64    `json:"size"`
		Hashes []string `json:"hashes"`
	}
	s.getJSON(t, fmt.Sprintf("/v1/audit/proof/inclusion?index=%d&size=%d", index, size), &p)
	if p.Index != index || p.Size != size {
		t.Errorf("inclusion proof for %d in %d answers index %d size %d", index, size, p.Index, p.Size)
	}
	return decodeProof(t, p.Hashes)
}

func (s *testServer) consistencyProof(t *testing.T, old, size int64) tlog.TreeProof {
	t.Helper()
	var p struct {
		Old    int64    `json:"old"`
		New    int64    `json:"new"`
		Hashes []string `json:"hashes"`
	}
	s.getJSON(t, fmt.Sprintf("/v1/audit/proof/consistency?old=%d&new=%d", old, size), &p)
	if p.Old != old || p.New != size {
		t.Errorf("consistency proof from %d to %d answers old %d new %d", old, size, p.Old, p.New)
	}
	return decodeProof(t, p.Hashes)
}

// leafHash is RFC 6962's leaf hash, computed by hand: SHA-256(0x00 || leaf).
func leafHash(leaf []byte) tlog.Hash {
	return sha256.Sum256(append([]byte{0x00}, leaf...))
}

// hashTree is the Merkle tree of entries, computed by the verifier from the
// leaves alone.
type hashTree []tlog.Hash

func (h hashTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(h)) {
			return nil, fmt.Errorf("hash %d is not computed", x)
		}
		out[i] = h[x]
	}
	return out, nil
}

func treeOf(t *testing.T, entries []servedEntry) hashTree {
	t.Helper()
	var tree hashTree
	for i, e := range entries {
		hs, err := tlog.StoredHashes(int64(i), e.Leaf, tree)
		if err != nil {
			t.Fatal(err)
		}
		tree = append(tree, hs...)
	}
	return tree
}

func (h hashTree) root(t *testing.T, size int64) tlog.Hash {
	t.Helper()
	r, err := tlog.TreeHash(size, h)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// documentHash is the hash the log records for a model document:
// "sha256:" and the hex SHA-256 of its JSON.
func documentHash(doc []byte) string {
	sum := sha256.Sum256(doc)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// revision is a stored model revision as the API serves it, with the
// document's exact bytes.
type revision struct {
	Revision  int64           `json:"revision"`
	Action    string          `json:"action"`
	Actor     string          `json:"actor"`
	Reason    string          `json:"reason"`
	Time      time.Time       `json:"time"`
	RequestID string          `json:"request_id"`
	Model     json.RawMessage `json:"model"`
}

func (s *testServer) revision(t *testing.T, id string, n int64) revision {
	t.Helper()
	var r revision
	s.getJSON(t, fmt.Sprintf("/v1/models/%s/revisions/%d", id, n), &r)
	return r
}

type activePolicy struct {
	Version int64  `json:"version"`
	Hash    string `json:"hash"`
}

func (s *testServer) activePolicy(t *testing.T) activePolicy {
	t.Helper()
	var p activePolicy
	s.getJSON(t, "/v1/policies/active", &p)
	return p
}

// decide makes decisions allowed and denied: two models, the proof of the
// large one's identity, a classification allowed and one refused, an
// approval and an alias move. Names are made unique by tag.
func (s *testServer) decide(t *testing.T, tag string) {
	t.Helper()
	large, mini := "meta/llama-"+tag+"-405b", "openai/gpt-"+tag+"-mini"
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument(large)))
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument(mini)))
	proveIdentity(t, s, large) // a general needs a verified identity
	s.write(t, "PUT", "/v1/models/"+large+"/classification", []byte(`{"role":"general","reason":"vote 1"}`))
	if code, _, body := s.send(t, "PUT", "/v1/models/"+mini+"/classification", []byte(`{"role":"general","reason":"vote 2"}`)); code != http.StatusUnprocessableEntity {
		t.Fatalf("classify a mini as general: %d %s, want 422", code, body)
	}
	s.write(t, "PUT", "/v1/models/"+large+"/lifecycle", []byte(`{"status":"active","reason":"approved"}`))
	s.write(t, "PUT", "/v1/aliases/hivellm/chair-"+tag, []byte(`{"target":"`+large+`"}`))
}

// TestAuditProofsVerifyWithPublicTools checks the log as a third party
// would, with only the HTTP API, crypto/sha256 and the public tlog and note
// functions: the checkpoint opens with the served key, every served leaf
// hashes (as RFC 6962 says) to the served hash, the roots of the leaves are
// the signed roots, and the served inclusion and consistency proofs verify.
func TestAuditProofsVerifyWithPublicTools(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	s.decide(t, "one")
	v := s.verifier(t)
	if v.Name() != "modelgov/test" {
		t.Errorf("key name %q, want the log's origin modelgov/test", v.Name())
	}
	cp1 := s.checkpoint(t, v)
	s.decide(t, "two")
	s.decide(t, "three")
	cp2 := s.checkpoint(t, v)
	if cp1.origin != "modelgov/test" || cp2.origin != cp1.origin {
		t.Errorf("checkpoint origins %q, %q; want modelgov/test", cp1.origin, cp2.origin)
	}
	if cp1.size < 8 || cp2.size <= cp1.size {
		t.Fatalf("checkpoint sizes %d then %d: the decisions were not all recorded", cp1.size, cp2.size)
	}

	// Every entry, in pages of 5: index 0 is the first leaf.
	entries := s.entries(t, url.Values{"page_size": {"5"}})
	if int64(len(entries)) != cp2.size {
		t.Fatalf("%d entries served, the checkpoint has %d", len(entries), cp2.size)
	}
	for i, e := range entries {
		if e.Seq != int64(i) {
			t.Fatalf("entry %d of the list has seq %d", i, e.Seq)
		}
		h := leafHash(e.Leaf)
		if h != tlog.RecordHash(e.Leaf) {
			t.Errorf("entry %d: SHA-256(0x00 || leaf) %v differs from tlog.RecordHash %v", i, h, tlog.RecordHash(e.Leaf))
		}
		if got := base64.StdEncoding.EncodeToString(h[:]); got != e.Hash {
			t.Errorf("entry %d: served hash %s, the leaf hashes to %s", i, e.Hash, got)
		}
		// The served fields are the leaf's.
		var inLeaf servedEntry
		if err := json.Unmarshal(e.Leaf, &inLeaf); err != nil {
			t.Fatalf("entry %d: leaf %q is not JSON: %v", i, e.Leaf, err)
		}
		inLeaf.Leaf, inLeaf.Hash = e.Leaf, e.Hash
		if a, b := mustJSON(t, inLeaf), mustJSON(t, e); !bytes.Equal(a, b) {
			t.Errorf("entry %d: served fields\n%s\ndiffer from its leaf's\n%s", i, b, a)
		}
	}
	tree := treeOf(t, entries)
	for _, cp := range []signedCheckpoint{cp1, cp2} {
		if got := tree.root(t, cp.size); got != cp.root {
			t.Errorf("root of the first %d leaves %v, the signed checkpoint says %v", cp.size, got, cp.root)
		}
	}

	// Inclusion proofs, in trees of several sizes.
	for _, size := range []int64{1, 2, 3, 5, 8, cp1.size, cp2.size - 1, cp2.size} {
		root := tree.root(t, size)
		for _, index := range []int64{0, 1, size / 2, size - 2, size - 1} {
			if index < 0 || index >= size {
				continue
			}
			p := s.inclusionProof(t, index, size)
			if err := tlog.CheckRecord(p, size, root, index, leafHash(entries[index].Leaf)); err != nil {
				t.Errorf("inclusion proof of entry %d in the tree of %d: %v", index, size, err)
			}
			if size > 1 {
				other := entries[(index+1)%size].Leaf
				if tlog.CheckRecord(p, size, root, index, leafHash(other)) == nil {
					t.Errorf("inclusion proof of entry %d in the tree of %d also proves another entry", index, size)
				}
			}
		}
	}
	// Against the signed roots themselves.
	for _, index := range []int64{0, cp1.size - 1, cp2.size - 1} {
		p := s.inclusionProof(t, index, cp2.size)
		if err := tlog.CheckRecord(p, cp2.size, cp2.root, index, leafHash(entries[index].Leaf)); err != nil {
			t.Errorf("entry %d is not proved in the signed tree of %d: %v", index, cp2.size, err)
		}
	}

	// Consistency: the checkpoint taken first is a prefix of the one taken
	// after more writes.
	p := s.consistencyProof(t, cp1.size, cp2.size)
	if err := tlog.CheckTree(p, cp2.size, cp2.root, cp1.size, cp1.root); err != nil {
		t.Errorf("consistency of the signed checkpoints %d → %d: %v", cp1.size, cp2.size, err)
	}
	if tlog.CheckTree(p, cp2.size, cp2.root, cp1.size, tree.root(t, cp1.size-1)) == nil {
		t.Error("the consistency proof also proves a wrong old root")
	}
	for _, pair := range [][2]int64{{1, cp2.size}, {1, 2}, {2, 3}, {3, 7}, {4, 8}, {5, cp1.size}, {cp1.size - 1, cp1.size},
		{cp1.size, cp1.size + 1}, {7, cp2.size}, {cp2.size, cp2.size}} {
		old, size := pair[0], pair[1]
		p := s.consistencyProof(t, old, size)
		if err := tlog.CheckTree(p, size, tree.root(t, size), old, tree.root(t, old)); err != nil {
			t.Errorf("consistency proof %d → %d: %v", old, size, err)
		}
	}
}

// TestAuditDeniedDecisionIsLogged: a refused classification is in the log,
// with its failed rules, the policy it was judged under and the document it
// would have changed, and the write changed nothing.
func TestAuditDeniedDecisionIsLogged(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	id := "openai/gpt-5-mini"
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument(id)))
	_, _, before := s.send(t, "GET", "/v1/models/"+id, nil)
	rev1 := s.revision(t, id, 1)
	size := s.size(t)
	active := s.activePolicy(t)

	start := time.Now()
	code, h, body := s.send(t, "PUT", "/v1/models/"+id+"/classification", []byte(`{"role":"general","reason":"the checklist says so"}`),
		"X-Request-Id", "req-deny-1")
	if code != http.StatusUnprocessableEntity {
		t.Fatalf("classify a mini as general: %d %s, want 422", code, body)
	}
	if h.Get("X-Request-Id") != "req-deny-1" {
		t.Errorf("X-Request-Id answered %q", h.Get("X-Request-Id"))
	}
	problem := problemOf(t, body)

	got := s.since(t, size)
	if len(got) != 1 {
		t.Fatalf("a refused write added %d entries, want 1", len(got))
	}
	e := got[0]
	if e.Outcome != "denied" || e.Action != "model.classify" || e.Target != id || e.Principal != registry.BootstrapTokenName ||
		!slices.Equal(e.Roles, []string{"admin"}) || e.RequestID != "req-deny-1" || e.Reason != "the checklist says so" {
		t.Errorf("entry of the refusal = %+v", e)
	}
	if !slices.Contains(e.failedIDs(), "general-not-small-variant") {
		t.Errorf("failed rules %v do not name general-not-small-variant", e.failedIDs())
	}
	var wantFailed []string
	for _, r := range problem.Decision.Failed() {
		wantFailed = append(wantFailed, r.ID)
	}
	if !slices.Equal(e.failedIDs(), wantFailed) {
		t.Errorf("failed rules in the log %v, in the answer %v", e.failedIDs(), wantFailed)
	}
	for _, f := range e.Failed {
		if f.Message == "" {
			t.Errorf("failed rule %s has no message", f.ID)
		}
	}
	if e.PolicyVersion != active.Version || e.PolicyHash != active.Hash || e.PolicyHash == "" {
		t.Errorf("policy %d %q, want the active one %d %q", e.PolicyVersion, e.PolicyHash, active.Version, active.Hash)
	}
	if e.Before != documentHash(rev1.Model) {
		t.Errorf("before = %s, want the hash of revision 1, %s", e.Before, documentHash(rev1.Model))
	}
	// A refusal stores no revision: after is the hash of the refused
	// document, which matches no stored revision.
	if e.Revision != 0 || e.After == "" || e.After == e.Before {
		t.Errorf("revision %d, after %q: want revision 0 and the hash of the refused document", e.Revision, e.After)
	}
	if e.Time.Before(start.Add(-time.Second)) || e.Time.After(time.Now().Add(time.Second)) {
		t.Errorf("time %v is not the time of the request (%v)", e.Time, start)
	}

	// The write changed nothing.
	_, _, after := s.send(t, "GET", "/v1/models/"+id, nil)
	if !bytes.Equal(before, after) {
		t.Errorf("a refused write changed the model:\n%s\n%s", before, after)
	}
	var revs struct {
		Items []revision `json:"items"`
	}
	s.getJSON(t, "/v1/models/"+id+"/revisions", &revs)
	if len(revs.Items) != 1 {
		t.Errorf("%d revisions after a refused write, want 1", len(revs.Items))
	}
}

// TestAuditAllowedWritesRecordRevisionHashes: each allowed write of a model
// has one entry, whose before and after are the hashes of the stored
// revisions it went from and to, and whose request id is the client's.
func TestAuditAllowedWritesRecordRevisionHashes(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	id := "meta/llama-audit-405b"
	replaced := fullDocument(id)
	replaced["notes"] = "replaced"
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	key := newKey(t, api.KeyEd25519)
	// verification asks for a challenge and answers it, signed.
	verification := func() []byte {
		ch := challenge(t, s, id)
		return mustJSON(t, api.ChallengeAnswer{Nonce: ch.Nonce, Signature: sign(t, key, []byte(ch.Nonce))})
	}
	steps := []struct {
		name, method, path string
		body               []byte
		header             []string
		action, reason     string
		// bodyOf, when set, makes the body just before the request.
		bodyOf func() []byte
	}{
		{"create", "POST", "/v1/models", mustJSON(t, fullDocument(id)), nil, "model.create", "", nil},
		{"replace", "PUT", "/v1/models/" + id, mustJSON(t, replaced), nil, "model.update", "", nil},
		{"patch", "PATCH", "/v1/models/" + id, []byte(`{"notes":"patched"}`), []string{"Content-Type", "application/merge-patch+json"}, "model.patch", "", nil},
		{"identity", "PUT", "/v1/models/" + id + "/identity", mustJSON(t, api.IdentityRegistration{PublicKey: key.Public().Base64()}), nil,
			"model.identity", "registered ed25519 key " + key.Public().KeyID() + " for owner " + registry.BootstrapTokenName, nil},
		{"verify", "POST", "/v1/models/" + id + "/identity/verify", nil, nil,
			"model.identity", "verified key " + key.Public().KeyID() + ": its holder signed a challenge", verification},
		{"classify", "PUT", "/v1/models/" + id + "/classification", []byte(`{"role":"general","reason":"vote 7"}`), nil, "model.classify", "vote 7", nil},
		{"approve", "PUT", "/v1/models/" + id + "/lifecycle", []byte(`{"status":"active","reason":"approved"}`), nil, "model.lifecycle", "approved", nil},
		{"exempt", "POST", "/v1/models/" + id + "/exemptions", []byte(`{"rules":["general-size-class"],"reason":"pilot","expires_at":"` + exp + `"}`), nil, "model.exempt", "", nil},
	}
	active := s.activePolicy(t)
	for n, step := range steps {
		rev := int64(n + 1)
		if step.bodyOf != nil {
			step.body = step.bodyOf()
		}
		size := s.size(t)
		requestID := "req-" + step.name
		start := time.Now()
		code, h, body := s.send(t, step.method, step.path, step.body, append([]string{"X-Request-Id", requestID}, step.header...)...)
		if code != http.StatusOK && code != http.StatusCreated {
			t.Fatalf("%s: %d %s", step.name, code, body)
		}
		if h.Get("X-Request-Id") != requestID {
			t.Errorf("%s: X-Request-Id answered %q, sent %q", step.name, h.Get("X-Request-Id"), requestID)
		}
		got := s.since(t, size)
		if len(got) != 1 {
			t.Fatalf("%s: %d new entries, want 1", step.name, len(got))
		}
		e := got[0]
		r := s.revision(t, id, rev)
		want := ""
		if rev > 1 {
			want = documentHash(s.revision(t, id, rev-1).Model)
		}
		if e.Before != want {
			t.Errorf("%s: before = %q, want the hash of revision %d, %q", step.name, e.Before, rev-1, want)
		}
		if e.After != documentHash(r.Model) {
			t.Errorf("%s: after = %q, want the hash of revision %d, %q", step.name, e.After, rev, documentHash(r.Model))
		}
		if e.Outcome != "allowed" || len(e.Failed) != 0 || e.Action != step.action || e.Target != id || e.Revision != rev ||
			e.RequestID != requestID || r.RequestID != requestID || e.Principal != registry.BootstrapTokenName || !slices.Equal(e.Roles, []string{"admin"}) {
			t.Errorf("%s: entry %+v\nfor revision %+v", step.name, e, r)
		}
		if step.reason != "" && e.Reason != step.reason {
			t.Errorf("%s: reason %q, want %q", step.name, e.Reason, step.reason)
		}
		if e.Reason != r.Reason {
			t.Errorf("%s: reason %q, the revision's %q", step.name, e.Reason, r.Reason)
		}
		if e.PolicyVersion != active.Version || e.PolicyHash != active.Hash {
			t.Errorf("%s: policy %d %s, want %d %s", step.name, e.PolicyVersion, e.PolicyHash, active.Version, active.Hash)
		}
		if !e.Time.Equal(r.Time) || e.Time.Before(start.Add(-time.Second)) || e.Time.After(time.Now().Add(time.Second)) {
			t.Errorf("%s: time %v, revision time %v, request at %v", step.name, e.Time, r.Time, start)
		}
		if e.Time.Location() != time.UTC || !strings.Contains(string(e.Leaf), `"time":"`+e.Time.Format(time.RFC3339Nano)+`"`) {
			t.Errorf("%s: time in the leaf is not %s in UTC: %s", step.name, e.Time.Format(time.RFC3339Nano), e.Leaf)
		}
	}

	// A deletion goes from the last revision to nothing.
	gone := "acme/proposal"
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument(gone)))
	size := s.size(t)
	s.write(t, "DELETE", "/v1/models/"+gone, nil, "X-Request-Id", "req-delete")
	got := s.since(t, size)
	if len(got) != 1 {
		t.Fatalf("delete: %d new entries, want 1", len(got))
	}
	e := got[0]
	if e.Action != "model.delete" || e.Outcome != "allowed" || e.Revision != 2 || e.After != "" ||
		e.Before != documentHash(s.revision(t, gone, 1).Model) || e.RequestID != "req-delete" {
		t.Errorf("delete: entry %+v", e)
	}
}

// TestAuditDocumentHashOfServedBytes: the before and after hashes can be
// recomputed from the revision documents the API serves, whatever
// characters they hold.
func TestAuditDocumentHashOfServedBytes(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	id := "acme/r-and-d"
	doc := fullDocument(id)
	doc["display_name"] = "R&D <preview>"
	s.write(t, "POST", "/v1/models", mustJSON(t, doc))
	got := s.since(t, 0)
	e := got[len(got)-1]
	if want := documentHash(s.revision(t, id, 1).Model); e.After != want {
		t.Errorf("after = %s, the served revision hashes to %s", e.After, want)
	}
}

// TestAuditAbortedWritesLeaveNoEntry: a write that fails before the policy
// decides (it is malformed, invalid, conflicts or changes nothing) records
// no decision.
func TestAuditAbortedWritesLeaveNoEntry(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	id := "meta/llama-kept"
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument(id)))
	invalid := fullDocument("meta/bad")
	invalid["size_class"] = "enormous"
	noProvider := fullDocument("meta/bad2")
	delete(noProvider, "provider")
	tests := []struct {
		name, method, path string
		body               []byte
		header             []string
		status             int
	}{
		{"malformed JSON", "POST", "/v1/models", []byte(`{"model_id":`), nil, 400},
		{"schema-invalid document", "POST", "/v1/models", mustJSON(t, invalid), nil, 422},
		{"missing required field", "POST", "/v1/models", mustJSON(t, noProvider), nil, 422},
		{"already exists", "POST", "/v1/models", mustJSON(t, fullDocument(id)), nil, 409},
		{"unknown model", "PATCH", "/v1/models/meta/nothing", []byte(`{"notes":"x"}`), []string{"Content-Type", "application/merge-patch+json"}, 404},
		{"stale If-Match", "PATCH", "/v1/models/" + id, []byte(`{"notes":"x"}`), []string{"Content-Type", "application/merge-patch+json", "If-Match", `"7"`}, 412},
		{"lifecycle transition not allowed", "PUT", "/v1/models/" + id + "/lifecycle", []byte(`{"status":"suspended","reason":"r"}`), nil, 409},
		{"unknown role", "PUT", "/v1/models/" + id + "/classification", []byte(`{"role":"emperor","reason":"r"}`), nil, 422},
		{"unchanged apply", "POST", "/v1/models:apply", mustJSON(t, fullDocument(id)), nil, 200},
		{"alias to nothing", "PUT", "/v1/aliases/hivellm/chair", []byte(`{"target":"meta/nothing"}`), nil, 422},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			size := s.size(t)
			code, _, body := s.send(t, tt.method, tt.path, tt.body, tt.header...)
			if code != tt.status {
				t.Errorf("%d %s, want %d", code, body, tt.status)
			}
			if got := s.since(t, size); len(got) != 0 {
				t.Errorf("added %d entries: %+v", len(got), got)
			}
		})
	}

	// A retry with the same Idempotency-Key replays the first answer: one
	// decision, one entry.
	size := s.size(t)
	for range 2 {
		s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument("meta/llama-once")), "Idempotency-Key", "key-1")
	}
	if got := s.since(t, size); len(got) != 1 {
		t.Errorf("a create and its replay added %d entries, want 1", len(got))
	}
}

// failingAuditStore refuses audit appends while fail is set.
type failingAuditStore struct {
	store.Store
	fail *atomic.Bool
}

func (f failingAuditStore) ReadWrite(ctx context.Context, fn func(context.Context, store.Tx) error) error {
	return f.Store.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		return fn(ctx, failingAuditTx{Tx: tx, fail: f.fail})
	})
}

type failingAuditTx struct {
	store.Tx
	fail *atomic.Bool
}

var errAuditFull = errors.New("audit log: disk full")

func (t failingAuditTx) AppendAudit(ctx context.Context, rec *store.AuditRecord, firstHash int64, hashes [][32]byte) error {
	if t.fail.Load() {
		return errAuditFull
	}
	return t.Tx.AppendAudit(ctx, rec, firstHash, hashes)
}

// TestAuditEntryCommitsWithItsChange: the entry is written in the
// transaction of the change it records, so a change whose entry cannot be
// written is not made.
func TestAuditEntryCommitsWithItsChange(t *testing.T) {
	var fail atomic.Bool
	s := newTestServer(t, serverConfig{wrap: func(st store.Store) store.Store { return failingAuditStore{st, &fail} }})
	id := "meta/llama-atomic"
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument(id)))
	proveIdentity(t, s, id) // so that the policy allows its classification as a general
	_, _, before := s.send(t, "GET", "/v1/models/"+id, nil)
	size := s.size(t)

	fail.Store(true)
	writes := []struct {
		name, method, path string
		body               []byte
		header             []string
	}{
		{"create", "POST", "/v1/models", mustJSON(t, fullDocument("meta/llama-never")), nil},
		{"patch", "PATCH", "/v1/models/" + id, []byte(`{"notes":"lost"}`), []string{"Content-Type", "application/merge-patch+json"}},
		{"classify", "PUT", "/v1/models/" + id + "/classification", []byte(`{"role":"general","reason":"r"}`), nil},
		{"alias", "PUT", "/v1/aliases/hivellm/chair", []byte(`{"target":"` + id + `"}`), nil},
		{"policy upload", "POST", "/v1/policies", policy.Default(), []string{"Content-Type", "application/yaml"}},
	}
	for _, w := range writes {
		code, _, body := s.send(t, w.method, w.path, w.body, w.header...)
		if code != http.StatusInternalServerError {
			t.Errorf("%s with the audit log failing: %d %s, want 500", w.name, code, body)
		}
	}
	// A refused write whose denial cannot be recorded is still refused, and
	// the answer says the denial is not on record.
	mini := "openai/gpt-5-mini"
	fail.Store(false)
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument(mini)))
	size++
	fail.Store(true)
	code, _, body := s.send(t, "PUT", "/v1/models/"+mini+"/classification", []byte(`{"role":"general","reason":"r"}`))
	if p := problemOf(t, body); code != http.StatusUnprocessableEntity || !strings.Contains(p.Detail, "record the denial") {
		t.Errorf("a refusal whose denial cannot be recorded: %d %s, want 422 saying the denial is not recorded", code, body)
	}
	fail.Store(false)

	if code, _, _ := s.send(t, "GET", "/v1/models/meta/llama-never", nil); code != http.StatusNotFound {
		t.Errorf("a create whose entry failed is stored: %d", code)
	}
	if _, _, after := s.send(t, "GET", "/v1/models/"+id, nil); !bytes.Equal(before, after) {
		t.Errorf("a write whose entry failed changed the model:\n%s\n%s", before, after)
	}
	if code, _, _ := s.send(t, "GET", "/v1/aliases/hivellm/chair", nil); code != http.StatusNotFound {
		t.Errorf("an alias move whose entry failed is stored: %d", code)
	}
	var policies struct {
		Items []activePolicy `json:"items"`
	}
	s.getJSON(t, "/v1/policies", &policies)
	if len(policies.Items) != 1 {
		t.Errorf("a policy upload whose entry failed is stored: %d policies", len(policies.Items))
	}
	if got := s.size(t); got != size {
		t.Errorf("the log has %d entries, want %d", got, size)
	}
	// The log goes on without a gap.
	s.write(t, "PATCH", "/v1/models/"+id, []byte(`{"notes":"kept"}`), "Content-Type", "application/merge-patch+json")
	all := s.since(t, 0)
	for i, e := range all {
		if e.Seq != int64(i) {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
	}
	v := s.verifier(t)
	if cp := s.checkpoint(t, v); cp.size != int64(len(all)) || treeOf(t, all).root(t, cp.size) != cp.root {
		t.Errorf("checkpoint %+v does not match the %d entries", cp, len(all))
	}
}

// TestAuditEveryWriteRouteIsRecorded walks every write route of the API:
// each allowed write adds its entries, each refused one adds one denied
// entry, and the dry runs add none. Issuing an identity challenge stores a
// nonce and changes no model: it is recorded only when it is refused.
func TestAuditEveryWriteRouteIsRecorded(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument("a/b")))
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument("g/h")))
	// a/c is nearly identical to a/b: it is held for a governor's review.
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument("a/c")))
	// k/l endorses a/b; m/n has its identity revoked.
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument("k/l")))
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument("m/n")))
	endorserKey := proveIdentity(t, s, "k/l")
	proveIdentity(t, s, "m/n")
	key := newKey(t, api.KeyEd25519) // a/b's
	exp := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	exempt := []byte(`{"rules":["general-size-class"],"reason":"r","expires_at":"` + exp + `"}`)
	changed := fullDocument("a/b")
	changed["notes"] = "changed"
	mergePatch := []string{"Content-Type", "application/merge-patch+json"}
	endorsement := func() []byte {
		return mustJSON(t, api.EndorsementRequest{Endorser: "k/l", Signature: sign(t, endorserKey, api.EndorsementMessage("a/b", key.Public().KeyID()))})
	}

	type step struct {
		route, path string
		body        []byte
		header      []string
		// actions are the entries the write adds, in order; target is the
		// target of the last one.
		actions []string
		target  string
		// prepare, when set, completes the step just before its request,
		// from what earlier steps answered.
		prepare func(st *step)
		// answered, when set, reads the answer.
		answered func(st *step, body []byte)
	}
	var exemptionID, nonce, tokenID, webhookID, importID string
	changedAgain := fullDocument("a/b")
	changedAgain["notes"] = "imported"
	var deliveryID int64
	hooks := newEndpoint(t)
	allowed := []step{
		{route: "POST /v1/models", path: "/v1/models", body: mustJSON(t, fullDocument("c/d")), actions: []string{"model.create"}, target: "c/d"},
		{route: "POST /v1/models:apply", path: "/v1/models:apply", body: mustJSON(t, fullDocument("e/f")), actions: []string{"model.create"}, target: "e/f"},
		{route: "PUT /v1/models/{provider}/{model}", path: "/v1/models/a/b", body: mustJSON(t, changed), actions: []string{"model.update"}, target: "a/b"},
		{route: "PATCH /v1/models/{provider}/{model}", path: "/v1/models/a/b", body: []byte(`{"notes":"patched"}`), header: mergePatch,
			actions: []string{"model.patch"}, target: "a/b"},
		{route: "PUT /v1/models/{provider}/{model}/classification", path: "/v1/models/a/b/classification", body: []byte(`{"role":"specialist","reason":"r"}`),
			actions: []string{"model.classify"}, target: "a/b"},
		{route: "PUT /v1/models/{provider}/{model}/lifecycle", path: "/v1/models/a/b/lifecycle", body: []byte(`{"status":"active","reason":"r"}`),
			actions: []string{"model.lifecycle"}, target: "a/b"},
		{route: "POST /v1/models/{provider}/{model}/exemptions", path: "/v1/models/a/b/exemptions", body: exempt, actions: []string{"model.exempt"}, target: "a/b",
			answered: func(_ *step, body []byte) {
				var m api.Model
				if err := json.Unmarshal(body, &m); err != nil || m.Governance == nil || len(m.Governance.Exemptions) == 0 {
					t.Fatalf("grant exemption answered %s (%v)", body, err)
				}
				exemptionID = m.Governance.Exemptions[0].ID
			}},
		{route: "DELETE /v1/models/{provider}/{model}/exemptions/{id}", actions: []string{"model.exempt"}, target: "a/b",
			prepare: func(st *step) { st.path = "/v1/models/a/b/exemptions/" + exemptionID }},
		{route: "PUT /v1/models/{provider}/{model}/review", path: "/v1/models/a/c/review", body: []byte(`{"status":"cleared","reason":"a distinct model"}`),
			actions: []string{"model.review"}, target: "a/c"},
		{route: "PUT /v1/models/{provider}/{model}/identity", path: "/v1/models/a/b/identity",
			body: mustJSON(t, api.IdentityRegistration{PublicKey: key.Public().Base64()}), actions: []string{"model.identity"}, target: "a/b"},
		// A challenge stores a nonce and changes no model: nothing to record.
		{route: "POST /v1/models/{provider}/{model}/identity/challenge", path: "/v1/models/a/b/identity/challenge", actions: nil,
			answered: func(_ *step, body []byte) {
				var ch api.Challenge
				if err := json.Unmarshal(body, &ch); err != nil || ch.Nonce == "" {
					t.Fatalf("challenge answered %s (%v)", body, err)
				}
				nonce = ch.Nonce
			}},
		{route: "POST /v1/models/{provider}/{model}/identity/verify", path: "/v1/models/a/b/identity/verify", actions: []string{"model.identity"}, target: "a/b",
			prepare: func(st *step) {
				st.body = mustJSON(t, api.ChallengeAnswer{Nonce: nonce, Signature: sign(t, key, []byte(nonce))})
			}},
		{route: "POST /v1/models/{provider}/{model}/identity/endorsements", path: "/v1/models/a/b/identity/endorsements", body: endorsement(),
			actions: []string{"model.identity"}, target: "a/b"},
		{route: "DELETE /v1/models/{provider}/{model}/identity/endorsements/{endorser_provider}/{endorser_model}", path: "/v1/models/a/b/identity/endorsements/k/l",
			actions: []string{"model.identity"}, target: "a/b"},
		{route: "DELETE /v1/models/{provider}/{model}/identity", path: "/v1/models/m/n/identity?reason=key+leaked", actions: []string{"model.identity"}, target: "m/n"},
		{route: "PUT /v1/aliases/{namespace}/{name}", path: "/v1/aliases/hivellm/chair", body: []byte(`{"target":"a/b"}`), actions: []string{"alias.move"}, target: "hivellm/chair"},
		{route: "DELETE /v1/aliases/{namespace}/{name}", path: "/v1/aliases/hivellm/chair", actions: []string{"alias.delete"}, target: "hivellm/chair"},
		{route: "DELETE /v1/models/{provider}/{model}", path: "/v1/models/g/h", actions: []string{"model.delete"}, target: "g/h"},
		{route: "POST /v1/policies", path: "/v1/policies", body: policy.Default(), header: []string{"Content-Type", "application/yaml"},
			actions: []string{"policy.upload"}, target: "policy/2"},
		{route: "POST /v1/policies/{version}/activate", path: "/v1/policies/2/activate", actions: []string{"policy.activate"}, target: "policy/2"},
		{route: "POST /v1/policy/evaluate", path: "/v1/policy/evaluate",
			body: []byte(`{"action":"model.classify","role":"general","model":` + string(mustJSON(t, fullDocument("x/y"))) + `}`)},
		{route: "POST /v1/policy/report", path: "/v1/policy/report", body: policy.Default(), header: []string{"Content-Type", "application/yaml"}},
		{route: "POST /v1/tokens", path: "/v1/tokens", body: []byte(`{"name":"ci-bot","roles":["maintainer"]}`), actions: []string{"token.create"},
			answered: func(st *step, body []byte) {
				var tok api.Token
				if err := json.Unmarshal(body, &tok); err != nil || tok.ID == "" {
					t.Fatalf("token creation answered %s (%v)", body, err)
				}
				tokenID, st.target = tok.ID, "token/"+tok.ID
			}},
		{route: "DELETE /v1/tokens/{id}", actions: []string{"token.revoke"},
			prepare: func(st *step) { st.path, st.target = "/v1/tokens/"+tokenID, "token/"+tokenID }},
		{route: "POST /v1/webhooks", path: "/v1/webhooks", body: mustJSON(t, api.WebhookRequest{URL: hooks.URL}), actions: []string{"webhook.create"},
			answered: func(st *step, body []byte) {
				var w api.Webhook
				if err := json.Unmarshal(body, &w); err != nil || w.ID == "" {
					t.Fatalf("webhook creation answered %s (%v)", body, err)
				}
				webhookID, st.target = w.ID, "webhook/"+w.ID
				d := &api.Delivery{WebhookID: w.ID, EventSeq: 1, EventType: "io.modelgov.model.created", MessageID: w.ID + "_1",
					Attempt: 1, Time: time.Now().UTC(), OK: true, Status: 204}
				if _, err := s.reg.RecordDelivery(context.Background(), d, 0, time.Time{}); err != nil {
					t.Fatal(err)
				}
				deliveryID = d.ID
			}},
		{route: "POST /v1/webhooks/{id}/disable", actions: []string{"webhook.disable"},
			prepare: func(st *step) {
				st.path, st.target = "/v1/webhooks/"+webhookID+"/disable?reason=paused", "webhook/"+webhookID
			}},
		{route: "POST /v1/webhooks/{id}/enable", actions: []string{"webhook.enable"},
			prepare: func(st *step) { st.path, st.target = "/v1/webhooks/"+webhookID+"/enable", "webhook/"+webhookID }},
		// A redelivery changes nothing in the registry: the subscription's
		// delivery log records it, with who asked.
		{route: "POST /v1/webhooks/{id}/deliveries/{delivery}/redeliver", actions: nil,
			prepare: func(st *step) {
				st.path = fmt.Sprintf("/v1/webhooks/%s/deliveries/%d/redeliver", webhookID, deliveryID)
			}},
		{route: "DELETE /v1/webhooks/{id}", actions: []string{"webhook.delete"},
			prepare: func(st *step) { st.path, st.target = "/v1/webhooks/"+webhookID, "webhook/"+webhookID }},
		// The catalogue and the results are not model writes: an entry each,
		// the results' of their model.
		{route: "POST /v1/benchmarks", path: "/v1/benchmarks", body: mustJSON(t, quiz("hivellm/quiz")),
			actions: []string{"benchmark.create"}, target: "benchmark/hivellm/quiz@1"},
		{route: "POST /v1/models/{provider}/{model}/evaluations", path: "/v1/models/a/b/evaluations",
			body: mustJSON(t, result("hivellm/quiz", 0.7, 0.01, time.Now().Add(-2*time.Hour))), actions: []string{"evaluation.record"}, target: "a/b"},
		{route: "POST /v1/evaluations:batch", path: "/v1/evaluations:batch",
			body: mustJSON(t, httpapi.EvaluationBatch{Results: []httpapi.BatchResult{
				{ModelID: "a/b", ResultRequest: result("hivellm/quiz", 0.72, 0.01, time.Now().Add(-time.Hour))},
				{ModelID: "e/f", ResultRequest: result("hivellm/quiz", 0.6, 0.01, time.Now().Add(-time.Hour))},
			}}),
			actions: []string{"evaluation.record", "evaluation.record"}, target: "e/f"},
		// An import writes each record through the write path (a model
		// entry each, the model's own), then records the import itself;
		// its rollback writes each restoring change, then records itself.
		{route: "POST /v1/imports", path: "/v1/imports",
			body:    importRequest(t, false, false, importRecord(t, fullDocument("o/p"), ""), importRecord(t, changedAgain, "")),
			actions: []string{"model.create", "model.update", "import.apply"},
			answered: func(st *step, body []byte) {
				var rep api.ImportReport
				if err := json.Unmarshal(body, &rep); err != nil || !strings.HasPrefix(rep.Batch, "imp_") {
					t.Fatalf("import answered %s (%v)", body, err)
				}
				importID, st.target = rep.Batch, "import/"+rep.Batch
				got := s.since(t, s.size(t)-3)
				if got[0].Target != "o/p" || got[1].Target != "a/b" {
					t.Errorf("import: model entries of %s and %s, want o/p and a/b", got[0].Target, got[1].Target)
				}
			}},
		{route: "POST /v1/imports/{id}/rollback", actions: []string{"model.delete", "model.update", "import.rollback"},
			prepare: func(st *step) { st.path, st.target = "/v1/imports/"+importID+"/rollback", "import/"+importID }},
	}
	walked := map[string]bool{}
	for _, st := range allowed {
		if st.prepare != nil {
			st.prepare(&st)
		}
		size := s.size(t)
		requestID := "req-" + strings.NewReplacer(" ", "-", "/", "-", "{", "", "}", "").Replace(st.route)
		body := s.write(t, strings.Fields(st.route)[0], st.path, st.body, append([]string{"X-Request-Id", requestID}, st.header...)...)
		walked[st.route] = true
		if st.answered != nil {
			st.answered(&st, body)
		}
		got := s.since(t, size)
		var actions []string
		for _, e := range got {
			actions = append(actions, e.Action)
			if e.Outcome != "allowed" || e.RequestID != requestID {
				t.Errorf("%s: entry %+v, want allowed with request id %s", st.route, e, requestID)
			}
		}
		if !slices.Equal(actions, st.actions) {
			t.Errorf("%s: recorded %v, want %v", st.route, actions, st.actions)
			continue
		}
		if len(got) > 0 && got[len(got)-1].Target != st.target {
			t.Errorf("%s: target %q, want %q", st.route, got[len(got)-1].Target, st.target)
		}
	}
	for _, r := range s.api.Routes() {
		if route := r.Method + " " + r.Pattern; r.Method != "GET" && !walked[route] {
			t.Errorf("write route %s is not covered by this test: add a step for it", route)
		}
	}

	// A maintainer who does not own a/b may neither ask for its challenge
	// nor answer one: both refusals are recorded, under the registry's own
	// access rule.
	var mallory api.Token
	if err := json.Unmarshal(s.write(t, "POST", "/v1/tokens", []byte(`{"name":"mallory","roles":["maintainer"]}`)), &mallory); err != nil {
		t.Fatal(err)
	}
	for _, refused := range []struct {
		path   string
		body   []byte
		action string
	}{
		{"/v1/models/a/b/identity/challenge", nil, "model.identity"},
		{"/v1/models/a/b/identity/verify", mustJSON(t, api.ChallengeAnswer{Nonce: "not-a-nonce", Signature: "AAAA"}), "model.identity"},
	} {
		size := s.size(t)
		code, _, body := s.send(t, "POST", refused.path, refused.body, append(withToken(mallory.Token), "X-Request-Id", "req-mallory")...)
		if code != http.StatusForbidden {
			t.Errorf("POST %s by a maintainer who does not own a/b: %d %s, want 403", refused.path, code, body)
			continue
		}
		got := s.since(t, size)
		if len(got) != 1 {
			t.Errorf("POST %s refused: %d entries, want 1", refused.path, len(got))
			continue
		}
		if e := got[0]; e.Outcome != "denied" || e.Action != refused.action || e.Target != "a/b" || e.Principal != "mallory" ||
			!slices.Equal(e.Roles, []string{"maintainer"}) || e.RequestID != "req-mallory" || !slices.Equal(e.failedIDs(), []string{"registry-access"}) {
			t.Errorf("POST %s refused: entry %+v, want %s of a/b by mallory denied by registry-access", refused.path, e, refused.action)
		}
	}

	// A bundle that refuses every action: every model write is refused, and
	// every refusal is recorded with the rule, under that bundle.
	s.write(t, "PUT", "/v1/aliases/hivellm/chair", []byte(`{"target":"a/b"}`))
	s.write(t, "POST", "/v1/models/a/b/exemptions", exempt)
	s.write(t, "POST", "/v1/models/a/b/identity/endorsements", endorsement())
	// a/d is nearly identical to a/b: it is held for a governor's review.
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument("a/d")))
	var m api.Model
	s.getJSON(t, "/v1/models/a/b", &m)
	if len(m.Governance.Exemptions) == 0 {
		t.Fatal("a/b has no exemption")
	}
	var bundle map[string]any
	if err := yaml.Unmarshal(policy.Default(), &bundle); err != nil {
		t.Fatal(err)
	}
	perms, _ := bundle["permissions"].([]any)
	bundle["permissions"] = append(perms, map[string]any{"id": "freeze", "actions": []string{"*"}, "expression": "false",
		"message": "the registry is frozen"})
	var frozen activePolicy
	if err := json.Unmarshal(s.write(t, "POST", "/v1/policies", mustJSON(t, bundle)), &frozen); err != nil {
		t.Fatal(err)
	}
	s.write(t, "POST", fmt.Sprintf("/v1/policies/%d/activate", frozen.Version), nil)

	// currentHash is the hash of the stored document of a model, "" for none.
	currentHash := func(id string) string {
		code, _, body := s.send(t, "GET", "/v1/models/"+id, nil)
		if code == http.StatusNotFound {
			return ""
		}
		var cur struct {
			ResourceVersion string `json:"resource_version"`
		}
		if err := json.Unmarshal(body, &cur); err != nil {
			t.Fatal(err)
		}
		n, err := strconv.ParseInt(cur.ResourceVersion, 10, 64)
		if err != nil {
			t.Fatalf("resource_version %q", cur.ResourceVersion)
		}
		return documentHash(s.revision(t, id, n).Model)
	}
	denied := []step{
		{route: "POST /v1/models", path: "/v1/models", body: mustJSON(t, fullDocument("c2/d2")), actions: []string{"model.create"}, target: "c2/d2"},
		{route: "POST /v1/models:apply", path: "/v1/models:apply", body: mustJSON(t, fullDocument("e2/f2")), actions: []string{"model.create"}, target: "e2/f2"},
		{route: "PUT /v1/models/{provider}/{model}", path: "/v1/models/a/b", body: []byte(strings.Replace(string(mustJSON(t, changed)), `"changed"`, `"frozen"`, 1)),
			actions: []string{"model.update"}, target: "a/b"},
		{route: "PATCH /v1/models/{provider}/{model}", path: "/v1/models/a/b", body: []byte(`{"notes":"frozen"}`), header: mergePatch, actions: []string{"model.patch"}, target: "a/b"},
		{route: "PUT /v1/models/{provider}/{model}/classification", path: "/v1/models/a/b/classification", body: []byte(`{"role":"experimental","reason":"r"}`),
			actions: []string{"model.classify"}, target: "a/b"},
		{route: "PUT /v1/models/{provider}/{model}/lifecycle", path: "/v1/models/a/b/lifecycle", body: []byte(`{"status":"deprecated","sunset":"2027-01-01","reason":"r"}`),
			actions: []string{"model.lifecycle"}, target: "a/b"},
		{route: "POST /v1/models/{provider}/{model}/exemptions", path: "/v1/models/a/b/exemptions", body: exempt, actions: []string{"model.exempt"}, target: "a/b"},
		{route: "DELETE /v1/models/{provider}/{model}/exemptions/{id}", path: "/v1/models/a/b/exemptions/" + m.Governance.Exemptions[0].ID,
			actions: []string{"model.exempt"}, target: "a/b"},
		{route: "PUT /v1/models/{provider}/{model}/review", path: "/v1/models/a/d/review", body: []byte(`{"status":"cleared","reason":"r"}`),
			actions: []string{"model.review"}, target: "a/d"},
		{route: "PUT /v1/models/{provider}/{model}/identity", path: "/v1/models/m/n/identity", // its identity is revoked: a new key needs no rotation
			body: mustJSON(t, api.IdentityRegistration{PublicKey: newKey(t, api.KeyEd25519).Public().Base64()}), actions: []string{"model.identity"}, target: "m/n"},
		{route: "POST /v1/models/{provider}/{model}/identity/verify", path: "/v1/models/a/b/identity/verify", actions: []string{"model.identity"}, target: "a/b",
			prepare: func(st *step) {
				// The bundle does not judge challenges, which change no model.
				size := s.size(t)
				ch := challenge(t, s, "a/b")
				if got := s.since(t, size); len(got) != 0 {
					t.Errorf("an allowed challenge added %d entries: %+v", len(got), got)
				}
				st.body = mustJSON(t, api.ChallengeAnswer{Nonce: ch.Nonce, Signature: sign(t, key, []byte(ch.Nonce))})
			}},
		{route: "POST /v1/models/{provider}/{model}/identity/endorsements", path: "/v1/models/a/b/identity/endorsements", body: endorsement(),
			actions: []string{"model.identity"}, target: "a/b"},
		{route: "DELETE /v1/models/{provider}/{model}/identity/endorsements/{endorser_provider}/{endorser_model}", path: "/v1/models/a/b/identity/endorsements/k/l",
			actions: []string{"model.identity"}, target: "a/b"},
		{route: "DELETE /v1/models/{provider}/{model}/identity", path: "/v1/models/a/b/identity?reason=r", actions: []string{"model.identity"}, target: "a/b"},
		{route: "PUT /v1/aliases/{namespace}/{name}", path: "/v1/aliases/hivellm/vice", body: []byte(`{"target":"a/b"}`), actions: []string{"alias.move"}, target: "hivellm/vice"},
		{route: "DELETE /v1/aliases/{namespace}/{name}", path: "/v1/aliases/hivellm/chair", actions: []string{"alias.delete"}, target: "hivellm/chair"},
		{route: "DELETE /v1/models/{provider}/{model}", path: "/v1/models/c/d", actions: []string{"model.delete"}, target: "c/d"},
	}
	for _, st := range denied {
		if st.prepare != nil {
			st.prepare(&st)
		}
		size := s.size(t)
		requestID := "req-denied-" + strconv.Itoa(size)
		wantBefore := ""
		if strings.HasPrefix(st.target, "hivellm/") {
			wantBefore = "-" // aliases have no model document
		} else {
			wantBefore = currentHash(st.target)
		}
		code, _, body := s.send(t, strings.Fields(st.route)[0], st.path, st.body, append([]string{"X-Request-Id", requestID}, st.header...)...)
		if code != http.StatusForbidden {
			t.Errorf("%s: %d %s, want 403 from the freeze rule", st.route, code, body)
			continue
		}
		got := s.since(t, size)
		if len(got) != 1 {
			t.Errorf("%s: a refusal added %d entries, want 1", st.route, len(got))
			continue
		}
		e := got[0]
		if e.Outcome != "denied" || e.Action != st.actions[0] || e.Target != st.target || e.RequestID != requestID ||
			!slices.Contains(e.failedIDs(), "freeze") || e.PolicyVersion != frozen.Version || e.PolicyHash != frozen.Hash || e.Revision != 0 {
			t.Errorf("%s: entry %+v\nwant %s of %s denied by freeze under policy %d", st.route, e, st.actions[0], st.target, frozen.Version)
		}
		if wantBefore != "-" && e.Before != wantBefore {
			t.Errorf("%s: before = %q, want the stored document's %q", st.route, e.Before, wantBefore)
		}
		if wantBefore != "-" && currentHash(st.target) != wantBefore {
			t.Errorf("%s: the refused write changed %s", st.route, st.target)
		}
	}
}

// auditClock is a settable time.
type auditClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *auditClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *auditClock) advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }

// TestAuditComplianceAndEnforcementAreRecorded: the compliance marks a
// policy activation makes and the role the registry lowers when a grace
// period ends are model writes, recorded like the others.
func TestAuditComplianceAndEnforcementAreRecorded(t *testing.T) {
	clock := &auditClock{now: time.Now().UTC()}
	s := newTestServer(t, serverConfig{now: clock.Now})
	id := "meta/llama-strict" // 400B parameters
	s.write(t, "POST", "/v1/models", mustJSON(t, fullDocument(id)))
	proveIdentity(t, s, id)
	var classified api.Model
	if err := json.Unmarshal(s.write(t, "PUT", "/v1/models/"+id+"/classification", []byte(`{"role":"general","reason":"vote"}`)), &classified); err != nil {
		t.Fatal(err)
	}
	// rev is the revision of the classification.
	rev, err := strconv.ParseInt(classified.ResourceVersion, 10, 64)
	if err != nil {
		t.Fatal(err)
	}

	// A stricter bundle: a general needs 500B parameters.
	var bundle map[string]any
	if err := yaml.Unmarshal(policy.Default(), &bundle); err != nil {
		t.Fatal(err)
	}
	bundle["name"] = "strict"
	bundle["params"].(map[string]any)["general_min_parameters"] = 500e9
	size := s.size(t)
	var strict activePolicy
	if err := json.Unmarshal(s.write(t, "POST", "/v1/policies", mustJSON(t, bundle), "X-Request-Id", "req-upload"), &strict); err != nil {
		t.Fatal(err)
	}
	got := s.since(t, size)
	if len(got) != 1 || got[0].Action != "policy.upload" || got[0].Target != fmt.Sprintf("policy/%d", strict.Version) ||
		got[0].PolicyVersion != strict.Version || got[0].PolicyHash != strict.Hash || got[0].Reason != "strict" || got[0].RequestID != "req-upload" {
		t.Fatalf("upload entries %+v", got)
	}

	size = s.size(t)
	s.write(t, "POST", fmt.Sprintf("/v1/policies/%d/activate", strict.Version), nil, "X-Request-Id", "req-activate")
	got = s.since(t, size)
	if len(got) != 2 || got[0].Action != "model.compliance" || got[1].Action != "policy.activate" {
		t.Fatalf("activation recorded %+v, want a compliance mark and the activation", got)
	}
	mark := got[0]
	if mark.Target != id || mark.Outcome != "allowed" || mark.Revision != rev+1 || mark.RequestID != "req-activate" ||
		mark.PolicyVersion != strict.Version || mark.PolicyHash != strict.Hash || !strings.Contains(mark.Reason, "breaks general-parameters") {
		t.Errorf("compliance mark %+v", mark)
	}
	if mark.Before != documentHash(s.revision(t, id, rev).Model) || mark.After != documentHash(s.revision(t, id, rev+1).Model) {
		t.Errorf("compliance mark before %s after %s: not the hashes of revisions %d and %d", mark.Before, mark.After, rev, rev+1)
	}
	if act := got[1]; act.Target != fmt.Sprintf("policy/%d", strict.Version) || act.PolicyHash != strict.Hash || !act.Time.Equal(mark.Time) {
		t.Errorf("activation entry %+v", act)
	}

	// The grace period (30 days) ends: the registry lowers the role.
	clock.advance(31 * 24 * time.Hour)
	size = s.size(t)
	if n, err := s.reg.EnforceDeadlines(context.Background()); err != nil || n != 1 {
		t.Fatalf("EnforceDeadlines = %d, %v; want 1", n, err)
	}
	got = s.since(t, size)
	if len(got) != 1 {
		t.Fatalf("enforcement recorded %d entries, want 1", len(got))
	}
	e := got[0]
	if e.Action != "model.enforce" || e.Target != id || e.Principal != registry.SystemPrincipal || e.Revision != rev+2 ||
		e.PolicyVersion != strict.Version || !e.Time.Equal(clock.Now()) {
		t.Errorf("enforcement entry %+v", e)
	}
	if e.Before != documentHash(s.revision(t, id, rev+1).Model) || e.After != documentHash(s.revision(t, id, rev+2).Model) {
		t.Errorf("enforcement before %s after %s: not the hashes of revisions %d and %d", e.Before, e.After, rev+1, rev+2)
	}
}

// TestAuditKeyKeptAcrossRestart: the signing key is made at first start,
// kept in the data directory with permissions 0600, and read again after a
// restart, so checkpoints of before and after verify with one key and
// prove the log only grew.
func TestAuditKeyKeptAcrossRestart(t *testing.T) {
	dir := t.TempDir()
	s := newTestServer(t, serverConfig{dir: dir})
	s.decide(t, "one")
	v := s.verifier(t)
	_, _, key := s.send(t, "GET", "/v1/audit/key", nil)
	cp1 := s.checkpoint(t, v)
	fi, err := os.Stat(filepath.Join(dir, audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("signing key file permissions %v, want 0600", perm)
	}
	s.stop()

	// The same admin, whose token the data directory kept.
	s = newTestServer(t, serverConfig{dir: dir, token: s.token})
	if _, _, again := s.send(t, "GET", "/v1/audit/key", nil); !bytes.Equal(again, key) {
		t.Errorf("key after a restart %q, want %q", again, key)
	}
	if got := s.checkpoint(t, v); got != cp1 {
		t.Errorf("checkpoint after a restart %+v, want %+v (the restart recorded something)", got, cp1)
	}
	s.decide(t, "two")
	cp2 := s.checkpoint(t, v) // opens with the key fetched before the restart
	p := s.consistencyProof(t, cp1.size, cp2.size)
	if err := tlog.CheckTree(p, cp2.size, cp2.root, cp1.size, cp1.root); err != nil {
		t.Errorf("consistency across the restart: %v", err)
	}
}

// TestAuditEntriesFiltersAndPaging: GET /v1/audit/entries pages in
// sequence order from the first leaf, and each filter selects what it names.
func TestAuditEntriesFiltersAndPaging(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	s.decide(t, "one")
	s.decide(t, "two")
	all := s.entries(t, url.Values{"page_size": {"1000"}})
	if len(all) < 14 {
		t.Fatalf("%d entries", len(all))
	}
	// Index 0 is the first leaf: the default policy installed at first start.
	if first := all[0]; first.Seq != 0 || first.Action != "policy.upload" || first.Target != "policy/1" || first.Principal != registry.SystemPrincipal {
		t.Errorf("first entry %+v", first)
	}
	seqsOf := func(es []servedEntry) []int64 {
		out := []int64{}
		for _, e := range es {
			out = append(out, e.Seq)
		}
		return out
	}
	for i, e := range all {
		if e.Seq != int64(i) {
			t.Fatalf("entry %d has seq %d", i, e.Seq)
		}
	}
	for _, size := range []string{"1", "2", "3", "7", "100"} {
		if got := s.entries(t, url.Values{"page_size": {size}}); !slices.Equal(seqsOf(got), seqsOf(all)) {
			t.Errorf("pages of %s: %v, want %v", size, seqsOf(got), seqsOf(all))
		}
	}
	// A single page says where the next starts.
	var page struct {
		Items         []servedEntry `json:"items"`
		NextPageToken string        `json:"next_page_token"`
	}
	s.getJSON(t, "/v1/audit/entries?page_size=3", &page)
	if len(page.Items) != 3 || page.NextPageToken == "" {
		t.Errorf("first page of 3: %d items, token %q", len(page.Items), page.NextPageToken)
	}

	t5 := all[5].Time.Format(time.RFC3339Nano)
	t9 := all[9].Time.Format(time.RFC3339Nano)
	tests := []struct {
		name  string
		query url.Values
		want  func(e servedEntry) bool
	}{
		{"model", url.Values{"model": {"openai/gpt-one-mini"}}, func(e servedEntry) bool { return e.Target == "openai/gpt-one-mini" }},
		{"alias", url.Values{"model": {"hivellm/chair-two"}}, func(e servedEntry) bool { return e.Target == "hivellm/chair-two" }},
		{"policy", url.Values{"model": {"policy/1"}}, func(e servedEntry) bool { return e.Target == "policy/1" }},
		{"actor system", url.Values{"actor": {registry.SystemPrincipal}}, func(e servedEntry) bool { return e.Principal == registry.SystemPrincipal }},
		{"actor admin", url.Values{"actor": {registry.BootstrapTokenName}}, func(e servedEntry) bool { return e.Principal == registry.BootstrapTokenName }},
		{"action", url.Values{"action": {"model.classify"}}, func(e servedEntry) bool { return e.Action == "model.classify" }},
		{"denied", url.Values{"outcome": {"denied"}}, func(e servedEntry) bool { return e.Outcome == "denied" }},
		{"allowed", url.Values{"outcome": {"allowed"}}, func(e servedEntry) bool { return e.Outcome == "allowed" }},
		{"since", url.Values{"since": {t5}}, func(e servedEntry) bool { return !e.Time.Before(all[5].Time) }},
		{"until", url.Values{"until": {t5}}, func(e servedEntry) bool { return e.Time.Before(all[5].Time) }},
		{"since and until", url.Values{"since": {t5}, "until": {t9}}, func(e servedEntry) bool { return !e.Time.Before(all[5].Time) && e.Time.Before(all[9].Time) }},
		{"from", url.Values{"from": {"5"}}, func(e servedEntry) bool { return e.Seq >= 5 }},
		{"from and action", url.Values{"from": {"5"}, "action": {"model.create"}}, func(e servedEntry) bool { return e.Seq >= 5 && e.Action == "model.create" }},
		{"model and outcome", url.Values{"model": {"meta/llama-two-405b"}, "outcome": {"allowed"}}, func(e servedEntry) bool {
			return e.Target == "meta/llama-two-405b" && e.Outcome == "allowed"
		}},
		{"no match", url.Values{"actor": {"mallory"}}, func(e servedEntry) bool { return false }},
	}
	for _, tt := range tests {
		want := []int64{}
		for _, e := range all {
			if tt.want(e) {
				want = append(want, e.Seq)
			}
		}
		if tt.name != "no match" && len(want) == 0 {
			t.Fatalf("%s: the test log has no entry to select", tt.name)
		}
		for _, size := range []string{"1", "1000"} {
			q := url.Values{"page_size": {size}}
			for k, v := range tt.query {
				q[k] = v
			}
			if got := seqsOf(s.entries(t, q)); !slices.Equal(got, want) {
				t.Errorf("%s (pages of %s): %v, want %v", tt.name, size, got, want)
			}
		}
	}
	if _, _, body := s.send(t, "GET", "/v1/audit/entries?actor=mallory", nil); !bytes.Contains(body, []byte(`"items":[]`)) {
		t.Errorf("an empty page is %s, want items []", body)
	}

	// One entry by its sequence number is the entry of the list.
	for _, i := range []int{0, 5, len(all) - 1} {
		var e servedEntry
		s.getJSON(t, fmt.Sprintf("/v1/audit/entries/%d", i), &e)
		if a, b := mustJSON(t, e), mustJSON(t, all[i]); !bytes.Equal(a, b) {
			t.Errorf("GET /v1/audit/entries/%d = %s, want %s", i, a, b)
		}
	}
}

func TestAuditErrors(t *testing.T) {
	s := newTestServer(t, serverConfig{})
	s.decide(t, "one")
	n := s.size(t)
	tests := []struct {
		path   string
		status int
	}{
		{fmt.Sprintf("/v1/audit/proof/inclusion?index=0&size=%d", n+1), 400}, // size beyond the log
		{fmt.Sprintf("/v1/audit/proof/inclusion?index=%d&size=%d", n, n), 400},
		{"/v1/audit/proof/inclusion?index=3&size=3", 400},
		{"/v1/audit/proof/inclusion?index=-1&size=3", 400},
		{"/v1/audit/proof/inclusion?index=0&size=0", 400},
		{"/v1/audit/proof/inclusion?index=0", 400},
		{"/v1/audit/proof/inclusion?size=3", 400},
		{"/v1/audit/proof/inclusion?index=x&size=3", 400},
		{"/v1/audit/proof/inclusion?index=0&size=3&colour=red", 400},
		{fmt.Sprintf("/v1/audit/proof/consistency?old=1&new=%d", n+1), 400},
		{"/v1/audit/proof/consistency?old=4&new=3", 400},
		{"/v1/audit/proof/consistency?old=0&new=3", 400},
		{"/v1/audit/proof/consistency?old=1", 400},
		{"/v1/audit/proof/consistency?old=a&new=3", 400},
		{"/v1/audit/entries?outcome=maybe", 400},
		{"/v1/audit/entries?since=yesterday", 400},
		{"/v1/audit/entries?until=2026-13-01T00:00:00Z", 400},
		{"/v1/audit/entries?from=-1", 400},
		{"/v1/audit/entries?from=x", 400},
		{"/v1/audit/entries?page_size=1001", 400},
		{"/v1/audit/entries?page_size=-1", 400},
		{"/v1/audit/entries?page_token=garbage", 400},
		{"/v1/audit/entries?colour=red", 400},
		{fmt.Sprintf("/v1/audit/entries/%d", n), 404},
		{"/v1/audit/entries/-1", 404},
		{"/v1/audit/entries/abc", 400},
	}
	for _, tt := range tests {
		code, h, body := s.send(t, "GET", tt.path, nil)
		if code != tt.status || h.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %d %s %s, want %d and a problem", tt.path, code, h.Get("Content-Type"), body, tt.status)
		}
	}
}

// TestAuditWithoutSigningKey: a registry without a key keeps its log but
// serves no checkpoint.
func TestAuditWithoutSigningKey(t *testing.T) {
	ts := newTestServer(t, serverConfig{unsigned: true})
	for _, path := range []string{"/v1/audit/checkpoint", "/v1/audit/key"} {
		if code, _, body := ts.call(t, "GET", path, "", nil); code != http.StatusServiceUnavailable {
			t.Errorf("GET %s without a key: %d %s, want 503", path, code, body)
		}
	}
	if code, _, body := ts.call(t, "GET", "/v1/audit/entries", "", nil); code != http.StatusOK || !bytes.Contains(body, []byte("policy.upload")) {
		t.Errorf("GET /v1/audit/entries without a key: %d %s", code, body)
	}
}
