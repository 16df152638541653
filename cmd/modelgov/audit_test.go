package main

import (
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
	_ "modernc.org/sqlite"
)

// auditedRegistry starts a server and makes some decisions, allowed and
// denied, and returns the server and its client command line.
func auditedRegistry(t *testing.T) (*serverProcess, commandLine) {
	t.Helper()
	srv := startServer(t, t.TempDir())
	mg := srv.cli()
	mg.succeed(t, `
schema_version: "1.1"
model_id: meta/llama-3-1-405b
provider: meta
display_name: Llama 3.1 405B
size_class: xl
parameters: {count: 405e9, source: declared}
---
schema_version: "1.1"
model_id: openai/gpt-5-mini
provider: openai
display_name: GPT-5 Mini
size_class: large
`, "model", "apply", "-f", "-")
	mg.proveIdentity(t, "meta/llama-3-1-405b")
	mg.succeed(t, "", "model", "classify", "meta/llama-3-1-405b", "--role", "general", "--reason", "vote 1")
	res := mg.fail(t, "", "model", "classify", "openai/gpt-5-mini", "--role", "general", "--reason", "the checklist says so")
	if !strings.Contains(res.stderr, "general-not-small-variant") {
		t.Fatalf("classify a mini as general: stderr %q does not name the rule", res.stderr)
	}
	mg.succeed(t, "", "model", "lifecycle", "meta/llama-3-1-405b", "--to", "active", "--reason", "approved")
	return srv, mg
}

func openDB(t *testing.T, dataDir string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dataDir, "modelgov.db")+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestAuditLogAndVerify(t *testing.T) {
	srv, mg := auditedRegistry(t)
	log := mg.succeed(t, "", "audit", "log")
	for _, want := range []string{"policy.upload", "policy.activate", "model.create", "model.classify", "denied", "general-not-small-variant", "model.lifecycle"} {
		if !strings.Contains(log, want) {
			t.Errorf("audit log lacks %q:\n%s", want, log)
		}
	}
	denied := mg.succeed(t, "", "audit", "log", "--model", "openai/gpt-5-mini", "--outcome", "denied")
	if n := strings.Count(denied, "denied"); n != 1 {
		t.Errorf("denied entries for gpt-5-mini: %d, want 1:\n%s", n, denied)
	}
	saved := filepath.Join(t.TempDir(), "checkpoint")
	out := mg.succeed(t, "", "audit", "verify", "--save", saved)
	if !strings.Contains(out, "audit log verified: 10 entries") {
		t.Errorf("verify: %s", out)
	}
	// More decisions; the saved checkpoint proves the log only grew.
	mg.succeed(t, "", "model", "lifecycle", "openai/gpt-5-mini", "--to", "active", "--reason", "approved")
	out = mg.succeed(t, "", "audit", "verify", "--checkpoint", saved)
	if !strings.Contains(out, "only grew") {
		t.Errorf("verify against a saved checkpoint: %s", out)
	}
	cp, err := os.ReadFile(saved)
	if err != nil || !strings.HasPrefix(string(cp), "modelgov/") {
		t.Errorf("saved checkpoint %q, %v", cp, err)
	}
	_ = srv
}

func TestAuditVerifyDetectsAChangedEntry(t *testing.T) {
	srv, mg := auditedRegistry(t)
	db := openDB(t, srv.DataDir)
	// Someone with write access to the database turns a denial into an
	// approval.
	res, err := db.Exec(`UPDATE audit_entries SET leaf = CAST(replace(CAST(leaf AS TEXT), '"outcome":"denied"', '"outcome":"allowed"') AS BLOB), outcome = 'allowed' WHERE outcome = 'denied'`)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("changed %d entries, want 1", n)
	}
	var seq int64
	if err := db.QueryRow(`SELECT seq FROM audit_entries WHERE action = 'model.classify' AND target = 'openai/gpt-5-mini'`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	res2 := mg.fail(t, "", "audit", "verify")
	if want := "entry " + itoa(seq); !strings.Contains(res2.stderr, want) || !strings.Contains(res2.stderr, "changed") {
		t.Errorf("verify after a change: stderr %q does not name %s", res2.stderr, want)
	}
}

func TestAuditVerifyDetectsADeletedEntry(t *testing.T) {
	srv, mg := auditedRegistry(t)
	db := openDB(t, srv.DataDir)
	if _, err := db.Exec(`DELETE FROM audit_entries WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	res := mg.fail(t, "", "audit", "verify")
	if !strings.Contains(res.stderr, "entry 3 is missing") {
		t.Errorf("verify after a deletion: stderr %q does not name entry 3", res.stderr)
	}
}

// TestAuditVerifyDetectsARewrittenLog: an attacker changes an entry and
// recomputes every stored hash, so the server itself now signs the forged
// tree; a checkpoint saved before still exposes it.
func TestAuditVerifyDetectsARewrittenLog(t *testing.T) {
	srv, mg := auditedRegistry(t)
	saved := filepath.Join(t.TempDir(), "checkpoint")
	mg.succeed(t, "", "audit", "verify", "--save", saved)
	srv.kill(t)

	db := openDB(t, srv.DataDir)
	if _, err := db.Exec(`UPDATE audit_entries SET leaf = CAST(replace(CAST(leaf AS TEXT), '"vote 1"', '"vote 2"') AS BLOB) WHERE CAST(leaf AS TEXT) LIKE '%"vote 1"%'`); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT leaf FROM audit_entries ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	var hashes memoryHashes
	for n := int64(0); rows.Next(); n++ {
		var leaf []byte
		if err := rows.Scan(&leaf); err != nil {
			t.Fatal(err)
		}
		hs, err := tlog.StoredHashes(n, leaf, hashes)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, hs...)
	}
	rows.Close()
	for i, h := range hashes {
		if _, err := db.Exec(`UPDATE audit_hashes SET hash = ? WHERE idx = ?`, h[:], i); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	srv2 := startServer(t, srv.DataDir)
	mg2 := srv2.cli()
	mg2.succeed(t, "", "audit", "verify") // the forged log is self-consistent
	res := mg2.fail(t, "", "audit", "verify", "--checkpoint", saved)
	if !strings.Contains(res.stderr, "rewritten since the saved checkpoint: its first 10 entries") {
		t.Errorf("verify of a rewritten log against a saved checkpoint: stderr %q", res.stderr)
	}
}

type memoryHashes []tlog.Hash

func (m memoryHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = m[x]
	}
	return out, nil
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
