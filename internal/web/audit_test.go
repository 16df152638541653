package web_test

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	_ "modernc.org/sqlite" // the database/sql driver "sqlite", to tamper with the log

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/registry"
)

// auditSiteDB opens the SQLite file of the site newSite made for t, as someone
// with write access to the database would. newSite keeps its files in
// t's first temporary folder, beside which t.TempDir makes the others.
func auditSiteDB(t *testing.T) *sql.DB {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(filepath.Dir(t.TempDir()), "*", "modelgov.db"))
	if err != nil || len(files) != 1 {
		t.Fatalf("the site's database: %v, %v", files, err)
	}
	db, err := sql.Open("sqlite", "file:"+files[0]+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// auditTreeSize is the size of the log's signed checkpoint.
func (s *site) auditTreeSize(t *testing.T) int64 {
	t.Helper()
	key, err := s.reg.AuditKey()
	if err != nil {
		t.Fatal(err)
	}
	msg, err := s.reg.AuditCheckpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cp, err := audit.OpenCheckpoint(msg, key)
	if err != nil {
		t.Fatal(err)
	}
	return cp.Size
}

// verifyLog posts the audit page's "Verify the log" form.
func (b *browser) verifyLog(saved string) response {
	b.t.Helper()
	page := b.get("/audit")
	if !strings.Contains(page.body, `id="verify-form"`) {
		b.t.Fatalf("the audit page has no verify form:\n%s", page.body)
	}
	return b.post("/audit", url.Values{"csrf": {csrf(b.t, page.body)}, "saved": {saved}})
}

// auditDD returns the text of the <dd> with id, or "".
func auditDD(body, id string) string {
	m := regexp.MustCompile(`<dd id="` + id + `">(.*?)</dd>`).FindStringSubmatch(body)
	if m == nil {
		m = regexp.MustCompile(`<dd><code id="` + id + `">(.*?)</code></dd>`).FindStringSubmatch(body)
	}
	if m == nil {
		return ""
	}
	return m[1]
}

func TestAuditVerify(t *testing.T) {
	s := newSite(t, siteConfig{})
	b := s.signIn(t, "viewer")
	page := b.get("/audit")
	if !strings.Contains(page.body, "re-reads every entry of the log") || !strings.Contains(page.body, "once every 30s") {
		t.Errorf("the audit page does not say what verifying costs:\n%s", page.body)
	}

	size := s.auditTreeSize(t)
	res := b.verifyLog("")
	if res.status != http.StatusOK {
		t.Fatalf("verify: %d\n%s", res.status, res.body)
	}
	want := map[string]string{"verify-outcome": "verified", "verify-size": fmt.Sprint(size),
		"verify-checked": fmt.Sprintf("%d of %d", size, size), "verify-signature": "valid: the checkpoint is signed by the registry's key"}
	for id, w := range want {
		if got := auditDD(res.body, id); got != w {
			t.Errorf("fresh log: %s = %q, want %q", id, got, w)
		}
	}
	if auditDD(res.body, "verify-root") == "" || !strings.Contains(res.body, fmt.Sprintf("its %d entries hash to the root", size)) {
		t.Errorf("fresh log: no root hash or notice:\n%s", res.body)
	}
	if strings.Contains(res.body, `id="problem"`) || strings.Contains(res.body, `id="verify-problem"`) {
		t.Errorf("a fresh log reports a problem:\n%s", res.body)
	}

	// Verifying re-reads the log: a session may not do it again at once.
	if again := b.verifyLog(""); again.status != http.StatusTooManyRequests || !strings.Contains(again.body, "once every 30s") {
		t.Errorf("verify twice at once: %d, want 429 saying when\n%s", again.status, again.body)
	}

	// Someone with write access to the database changes who registered a
	// model. A new session verifies.
	var seq int64
	db := auditSiteDB(t)
	if err := db.QueryRow(`SELECT seq FROM audit_entries WHERE action = 'model.create' AND target = 'openai/gpt-5'`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	r, err := db.Exec(`UPDATE audit_entries SET leaf = CAST(replace(CAST(leaf AS TEXT), '"root"', '"mallory"') AS BLOB), principal = 'mallory' WHERE seq = ?`, seq)
	if n, _ := r.RowsAffected(); err != nil || n != 1 {
		t.Fatalf("tamper with entry %d: %v (%d rows)", seq, err, n)
	}
	res = s.signIn(t, "viewer").verifyLog("")
	if res.status != http.StatusOK {
		t.Fatalf("verify a changed log: %d\n%s", res.status, res.body)
	}
	if got := auditDD(res.body, "verify-outcome"); got != "does NOT verify" {
		t.Errorf("changed log: outcome %q", got)
	}
	if got := auditDD(res.body, "verify-bad"); got != fmt.Sprint(seq) {
		t.Errorf("changed log: first bad entry %q, want %d", got, seq)
	}
	if got := auditDD(res.body, "verify-checked"); got != fmt.Sprintf("%d of %d", seq, size) {
		t.Errorf("changed log: entries checked %q, want %d of %d", got, seq, size)
	}
	if p := fmt.Sprintf("entry %d was changed", seq); !strings.Contains(auditDD(res.body, "verify-problem"), p) ||
		!strings.Contains(res.body, `role="alert"`) {
		t.Errorf("changed log: the page does not say %q in an alert:\n%s", p, res.body)
	}

	// The entry's own inclusion proof fails; another's still holds.
	proof := b.get(fmt.Sprintf("/audit?prove=%d", seq))
	if proof.status != http.StatusOK || !strings.Contains(proof.body, fmt.Sprintf("Entry %d does NOT prove:</strong> entry %d was changed", seq, seq)) {
		t.Errorf("proof of the changed entry: %d\n%s", proof.status, proof.body)
	}
	proof = b.get("/audit?model=meta%2Fllama-3-1-405b&prove=0")
	if !strings.Contains(proof.body, "Entry 0 is included in the log") || !strings.Contains(proof.body, fmt.Sprintf("signed checkpoint of %d entries", size)) {
		t.Errorf("proof of entry 0:\n%s", proof.body)
	}
	if !strings.Contains(proof.body, `href="/audit?model=meta%2Fllama-3-1-405b&amp;prove=`) {
		t.Errorf("the rows' proof links lose the filter:\n%s", proof.body)
	}
}

func TestAuditVerifySavedCheckpoint(t *testing.T) {
	s := newSite(t, siteConfig{})
	saved, err := s.reg.AuditCheckpoint(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	old := s.auditTreeSize(t)
	if _, err := s.reg.ChangeLifecycle(context.Background(), "openai/gpt-5", api.LifecycleChange{Status: api.StatusActive, Reason: "approved"},
		registry.WriteOptions{Caller: registry.Caller{Principal: "governor", Roles: []string{api.RoleGovernor}}}); err != nil {
		t.Fatal(err)
	}
	res := s.signIn(t, "governor").verifyLog(string(saved))
	if res.status != http.StatusOK || auditDD(res.body, "verify-outcome") != "verified" ||
		!strings.Contains(res.body, fmt.Sprintf("of %d entries: the log only grew since", old)) {
		t.Errorf("verify against a saved checkpoint: %d\n%s", res.status, res.body)
	}

	for name, bad := range map[string]string{
		"not a checkpoint": "hello\n<script>",
		"too long":         strings.Repeat("x", 10_000),
		"another key's":    strings.Replace(string(saved), "modelgov/test", "modelgov/other", 1),
	} {
		res := s.signIn(t, "governor").verifyLog(bad)
		if res.status != http.StatusUnprocessableEntity || !strings.Contains(res.body, "the saved checkpoint") || strings.Contains(res.body, "<script>") {
			t.Errorf("%s: %d, want 422 naming the saved checkpoint\n%s", name, res.status, res.body)
		}
	}
}

func TestAuditVerifyRefused(t *testing.T) {
	s := newSite(t, siteConfig{anonymousRead: true})
	// An anonymous reader reads the log but is not offered the action.
	anon := s.browser(t)
	page := anon.get("/audit")
	if page.status != http.StatusOK || strings.Contains(page.body, `id="verify-form"`) || !strings.Contains(page.body, `id="verify-signin"`) {
		t.Errorf("anonymous audit page: %d\n%s", page.status, page.body)
	}
	if res := anon.post("/audit", url.Values{"saved": {""}}); res.status != http.StatusForbidden || !strings.Contains(res.body, "sign in first") {
		t.Errorf("anonymous verify: %d, want 403\n%s", res.status, res.body)
	}
	b := s.signIn(t, "viewer")
	if res := b.post("/audit", url.Values{"csrf": {"forged"}}); res.status != http.StatusForbidden || !strings.Contains(res.body, "CSRF token") {
		t.Errorf("verify with a forged CSRF token: %d, want 403", res.status)
	}
	for _, tc := range []struct {
		query  string
		status int
		want   string
	}{
		{"prove=abc", http.StatusBadRequest, "is not an entry&#39;s sequence number"},
		{"prove=-1", http.StatusBadRequest, "is not an entry&#39;s sequence number"},
		{"prove=" + strings.Repeat("9", 5000), http.StatusBadRequest, "…"},
		{"prove=999999", http.StatusNotFound, "entry 999999 is not in the log"},
	} {
		res := b.get("/audit?" + tc.query)
		if res.status != tc.status || !strings.Contains(res.body, tc.want) || len(res.body) > 20_000 {
			t.Errorf("GET /audit?%.40s: %d, want %d with %q", tc.query, res.status, tc.status, tc.want)
		}
	}
}
