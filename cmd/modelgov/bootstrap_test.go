package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/internal/server"
)

// TestBootstrapAdminToken: the first start writes an admin token to a file
// only its owner may read, says where in its log and never logs the
// secret; a restart keeps it; once every token is revoked, the next start
// writes a new one (the way back in for whoever holds the data directory).
func TestBootstrapAdminToken(t *testing.T) {
	dir := t.TempDir()
	srv := startServer(t, dir)
	path := filepath.Join(dir, server.AdminTokenFile)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the first start wrote no admin token: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("%s has permissions %v, want 0600", path, perm)
	}
	secret := srv.adminToken(t)
	if !strings.HasPrefix(secret, "mgv_") {
		t.Fatalf("the admin token file holds %d bytes that are not an API token", len(secret))
	}
	log := srv.log.String()
	if !strings.Contains(log, path) || strings.Contains(log, secret) || strings.Contains(log, secret[4:]) {
		t.Errorf("the log must name %s and never the secret:\n%s", path, log)
	}
	mg := srv.cli()
	if out := mg.succeed(t, "", "whoami"); !strings.Contains(out, "admin") {
		t.Errorf("whoami with the bootstrap token: %q", out)
	}

	// A restart keeps the token and the file.
	srv.kill(t)
	srv = startServer(t, dir)
	if got := srv.adminToken(t); got != secret {
		t.Error("a restart replaced the admin token")
	}
	mg = srv.cli()
	mg.succeed(t, "", "whoami")

	// Revoked, it no longer works; the next start makes a new one.
	list := mg.succeed(t, "", "token", "list")
	var id string
	for _, f := range strings.Fields(list) {
		if strings.HasPrefix(f, "tok_") {
			id = f
		}
	}
	if id == "" {
		t.Fatalf("token list shows no token id:\n%s", list)
	}
	mg.succeed(t, "", "token", "revoke", id)
	if res := mg.fail(t, "", "whoami"); !strings.Contains(res.stderr, "revoked") {
		t.Errorf("whoami with the revoked bootstrap token: %q", res.stderr)
	}
	srv.kill(t)
	srv = startServer(t, dir)
	if got := srv.adminToken(t); got == secret {
		t.Fatal("with every token revoked, a restart did not write a new admin token")
	}
	srv.cli().succeed(t, "", "whoami")
}
