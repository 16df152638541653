package audit

import (
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/tlog"
)

func TestDecodeHashes(t *testing.T) {
	a, b := tlog.RecordHash([]byte("a")), tlog.RecordHash([]byte("b"))
	got, err := DecodeHashes(base64.StdEncoding.EncodeToString(a[:]), base64.StdEncoding.EncodeToString(b[:]))
	if err != nil || len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("DecodeHashes = %v, %v; want [a b]", got, err)
	}
	if got, err := DecodeHashes(); err != nil || len(got) != 0 {
		t.Errorf("no hashes: %v, %v", got, err)
	}
	for _, bad := range []string{"not base64!", base64.StdEncoding.EncodeToString(a[:31]), strings.Repeat("A", 5000)} {
		_, err := DecodeHashes(bad)
		if err == nil || !strings.Contains(err.Error(), "is not a base64 SHA-256 hash") || len(err.Error()) > 120 {
			t.Errorf("DecodeHashes(%.20q...): %v", bad, err)
		}
	}
}
