package audit_test

import (
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/hivellm/modelgov/internal/audit"
)

// FuzzOpenCheckpoint: a verifier reads checkpoints from a server it does
// not trust. Whatever the bytes, OpenCheckpoint never panics, and what it
// accepts carries a valid signature over a three-line body that signing the
// parsed values again reproduces.
func FuzzOpenCheckpoint(f *testing.F) {
	s, ns := newSigner(f, "modelgov/fuzz")
	good, err := s.Sign(7, tlog.RecordHash([]byte("leaf")))
	if err != nil {
		f.Fatal(err)
	}
	odd, err := note.Sign(&note.Note{Text: "modelgov/fuzz\n-1\nAAAA\n"}, ns)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{string(good), string(odd), "", "modelgov/fuzz\n7\n", strings.Replace(string(good), "7", "8", 1)} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		cp, err := audit.OpenCheckpoint(msg, s.VerifierKey())
		if err != nil {
			return
		}
		if cp.Size < 0 || cp.Origin != "modelgov/fuzz" {
			t.Fatalf("accepted %q as %+v", msg, cp)
		}
		if body := audit.CheckpointBody(cp.Origin, cp.Size, cp.Root); !strings.HasPrefix(string(msg), body) {
			t.Fatalf("accepted %q, whose body is not %q", msg, body)
		}
	})
}
