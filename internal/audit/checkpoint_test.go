package audit_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/hivellm/modelgov/internal/audit"
)

// newSigner returns a signer with a fresh key, and that key's signer half
// (note.NewSigner's form), to sign arbitrary notes with it.
func newSigner(t testing.TB, origin string) (*audit.Signer, note.Signer) {
	t.Helper()
	dir := t.TempDir()
	s, err := audit.LoadOrCreateSigner(dir, origin)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	skey, _, _ := strings.Cut(string(b), "\n")
	ns, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	return s, ns
}

func TestCheckpointBody(t *testing.T) {
	root := tlog.Hash(sha256.Sum256([]byte("root")))
	b64 := base64.StdEncoding.EncodeToString(root[:])
	tests := []struct {
		origin string
		size   int64
		root   tlog.Hash
		want   string
	}{
		{"modelgov/example.com", 0, tlog.Hash{}, "modelgov/example.com\n0\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"},
		{"modelgov/example.com", 1, root, "modelgov/example.com\n1\n" + b64 + "\n"},
		{"modelgov/test", 1000000, root, "modelgov/test\n1000000\n" + b64 + "\n"},
	}
	for _, tt := range tests {
		if got := audit.CheckpointBody(tt.origin, tt.size, tt.root); got != tt.want {
			t.Errorf("CheckpointBody(%q, %d, %x) = %q, want %q", tt.origin, tt.size, tt.root[:4], got, tt.want)
		}
	}
}

func TestSignIsASignedNote(t *testing.T) {
	s, _ := newSigner(t, "modelgov/test")
	root := tlog.Hash(sha256.Sum256([]byte("root")))
	msg, err := s.Sign(12, root)
	if err != nil {
		t.Fatal(err)
	}
	body := audit.CheckpointBody("modelgov/test", 12, root)
	// A signed note: the body, a blank line, and one signature line per key,
	// "— <key name> <base64 signature>".
	if !bytes.HasPrefix(msg, []byte(body+"\n\u2014 modelgov/test ")) || !bytes.HasSuffix(msg, []byte("\n")) {
		t.Errorf("signed checkpoint =\n%s\nwant the body %q, a blank line and a signature line", msg, body)
	}
	v, err := note.NewVerifier(s.VerifierKey())
	if err != nil {
		t.Fatalf("note.NewVerifier(VerifierKey %q): %v", s.VerifierKey(), err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		t.Fatalf("note.Open: %v", err)
	}
	if n.Text != body || len(n.Sigs) != 1 || n.Sigs[0].Name != "modelgov/test" {
		t.Errorf("note = %q signed by %+v", n.Text, n.Sigs)
	}
	cp, err := audit.OpenCheckpoint(msg, s.VerifierKey()+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if cp.Origin != "modelgov/test" || cp.Size != 12 || cp.Root != root {
		t.Errorf("OpenCheckpoint = %+v", cp)
	}
}

func TestSigningKeyFile(t *testing.T) {
	dir := t.TempDir()
	s1, err := audit.LoadOrCreateSigner(dir, "modelgov/first")
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, audit.KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file permissions %v, want 0600", perm)
	}
	// A restart reads the same key, and the log keeps the name it was
	// created with even when asked for another one.
	s2, err := audit.LoadOrCreateSigner(dir, "modelgov/second")
	if err != nil {
		t.Fatal(err)
	}
	if s2.VerifierKey() != s1.VerifierKey() {
		t.Errorf("verifier key after restart %q, want %q", s2.VerifierKey(), s1.VerifierKey())
	}
	if s2.Origin() != "modelgov/first" {
		t.Errorf("origin after restart %q, want modelgov/first", s2.Origin())
	}
	msg, err := s2.Sign(3, tlog.Hash{1})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.OpenCheckpoint(msg, s1.VerifierKey()); err != nil {
		t.Errorf("a checkpoint signed after the restart does not open with the first key: %v", err)
	}

	bad := t.TempDir()
	if err := os.WriteFile(filepath.Join(bad, audit.KeyFile), []byte("not a key\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.LoadOrCreateSigner(bad, "modelgov/x"); err == nil {
		t.Error("LoadOrCreateSigner over a malformed key file: want an error")
	}
}

func TestOpenCheckpointRejects(t *testing.T) {
	s, ns := newSigner(t, "modelgov/test")
	other, _ := newSigner(t, "modelgov/test") // same name, another key
	root := tlog.Hash(sha256.Sum256([]byte("root")))
	good, err := s.Sign(5, root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.OpenCheckpoint(good, s.VerifierKey()); err != nil {
		t.Fatalf("good checkpoint: %v", err)
	}
	signed := func(text string) []byte {
		msg, err := note.Sign(&note.Note{Text: text}, ns)
		if err != nil {
			t.Fatalf("sign %q: %v", text, err)
		}
		return msg
	}
	b64 := base64.StdEncoding.EncodeToString(root[:])
	tests := []struct {
		name string
		msg  []byte
		key  string
	}{
		{"wrong key", good, other.VerifierKey()},
		{"not a key", good, "modelgov/test+nothex+AAAA"},
		{"tampered size", bytes.Replace(good, []byte("\n5\n"), []byte("\n6\n"), 1), s.VerifierKey()},
		{"tampered origin", bytes.Replace(good, []byte("modelgov/test\n"), []byte("modelgov/tesT\n"), 1), s.VerifierKey()},
		{"tampered root", bytes.Replace(good, []byte(b64), []byte(strings.Repeat("A", 43)+"="), 1), s.VerifierKey()},
		{"no signature", []byte(audit.CheckpointBody("modelgov/test", 5, root)), s.VerifierKey()},
		{"two lines", signed("modelgov/test\n5\n"), s.VerifierKey()},
		{"size not a number", signed("modelgov/test\nfive\n" + b64 + "\n"), s.VerifierKey()},
		{"negative size", signed("modelgov/test\n-1\n" + b64 + "\n"), s.VerifierKey()},
		{"root not base64", signed("modelgov/test\n5\nnot base64!\n"), s.VerifierKey()},
		{"short root", signed("modelgov/test\n5\n" + base64.StdEncoding.EncodeToString(root[:31]) + "\n"), s.VerifierKey()},
		{"empty body", signed("\n"), s.VerifierKey()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if cp, err := audit.OpenCheckpoint(tt.msg, tt.key); err == nil {
				t.Errorf("OpenCheckpoint(%q) = %+v, want an error", tt.msg, cp)
			}
		})
	}
}
