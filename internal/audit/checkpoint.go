package audit

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// KeyFile is the name of the signing key's file in the data directory.
const KeyFile = "audit-signing.key"

// Signer signs checkpoints of the log with an Ed25519 key.
type Signer struct {
	origin   string
	signer   note.Signer
	verifier string
}

// LoadOrCreateSigner reads the signing key from dir, creating it (with
// permissions 0600) on first start. origin names the log, such as
// "modelgov/registry.example.com"; it is also the key's name.
func LoadOrCreateSigner(dir, origin string) (*Signer, error) {
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		skey, vkey, err := note.GenerateKey(rand.Reader, origin)
		if err != nil {
			return nil, fmt.Errorf("audit: generate signing key: %w", err)
		}
		b = []byte(skey + "\n" + vkey + "\n")
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("audit: create signing key: %w", err)
		}
		if _, err := f.Write(b); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit: write signing key: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, fmt.Errorf("audit: write signing key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("audit: write signing key: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("audit: read signing key: %w", err)
	}
	lines := strings.Fields(string(b))
	if len(lines) != 2 {
		return nil, fmt.Errorf("audit: %s is not a signing key file (two lines: signer key, verifier key)", path)
	}
	signer, err := note.NewSigner(lines[0])
	if err != nil {
		return nil, fmt.Errorf("audit: signing key in %s: %w", path, err)
	}
	if _, err := note.NewVerifier(lines[1]); err != nil {
		return nil, fmt.Errorf("audit: verifier key in %s: %w", path, err)
	}
	if signer.Name() != origin {
		origin = signer.Name() // the log keeps the name it was created with
	}
	return &Signer{origin: origin, signer: signer, verifier: lines[1]}, nil
}

// Origin is the log's name, the first line of every checkpoint.
func (s *Signer) Origin() string { return s.origin }

// VerifierKey is the public key that verifies checkpoints, in the form
// note.NewVerifier reads.
func (s *Signer) VerifierKey() string { return s.verifier }

// Sign returns the signed checkpoint of a tree of the given size and root.
func (s *Signer) Sign(size int64, root tlog.Hash) ([]byte, error) {
	msg, err := note.Sign(&note.Note{Text: CheckpointBody(s.origin, size, root)}, s.signer)
	if err != nil {
		return nil, fmt.Errorf("audit: sign checkpoint: %w", err)
	}
	return msg, nil
}

// CheckpointBody is the C2SP tlog-checkpoint body: the origin, the tree
// size in decimal and the base64 root hash, each on its own line.
func CheckpointBody(origin string, size int64, root tlog.Hash) string {
	return origin + "\n" + strconv.FormatInt(size, 10) + "\n" + base64.StdEncoding.EncodeToString(root[:]) + "\n"
}

// Checkpoint is a verified checkpoint.
type Checkpoint struct {
	Origin string
	Size   int64
	Root   tlog.Hash
}

// OpenCheckpoint verifies a signed checkpoint with a verifier key and
// parses its body.
func OpenCheckpoint(msg []byte, verifierKey string) (*Checkpoint, error) {
	v, err := note.NewVerifier(strings.TrimSpace(verifierKey))
	if err != nil {
		return nil, fmt.Errorf("audit: verifier key: %w", err)
	}
	n, err := note.Open(msg, note.VerifierList(v))
	if err != nil {
		return nil, fmt.Errorf("audit: checkpoint signature: %w", err)
	}
	lines := strings.SplitAfter(n.Text, "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return nil, errors.New("audit: checkpoint body is not origin, size and root hash on three lines")
	}
	size, err := strconv.ParseInt(strings.TrimSuffix(lines[1], "\n"), 10, 64)
	if err != nil || size < 0 {
		return nil, fmt.Errorf("audit: checkpoint size %q", lines[1])
	}
	raw, err := base64.StdEncoding.DecodeString(strings.TrimSuffix(lines[2], "\n"))
	if err != nil || len(raw) != tlog.HashSize {
		return nil, fmt.Errorf("audit: checkpoint root hash %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], raw)
	return &Checkpoint{Origin: strings.TrimSuffix(lines[0], "\n"), Size: size, Root: root}, nil
}
