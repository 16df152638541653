package identity

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/hivellm/modelgov/api"
)

// PEM block types of private keys.
const (
	pemPKCS8 = "PRIVATE KEY"    // PKCS#8, for ed25519 (and read for secp256k1)
	pemSEC1  = "EC PRIVATE KEY" // SEC 1 / RFC 5915, for secp256k1
)

var (
	// oidSecp256k1 names the secp256k1 curve (SEC 2).
	oidSecp256k1 = asn1.ObjectIdentifier{1, 3, 132, 0, 10}
	// oidECPublicKey is id-ecPublicKey, the algorithm of PKCS#8 EC keys.
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	// oidEd25519 is the algorithm of PKCS#8 ed25519 keys (RFC 8410).
	oidEd25519 = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// ecPrivateKey is the SEC 1 / RFC 5915 ECPrivateKey structure.
type ecPrivateKey struct {
	Version       int
	PrivateKey    []byte
	NamedCurveOID asn1.ObjectIdentifier `asn1:"optional,explicit,tag:0"`
	PublicKey     asn1.BitString        `asn1:"optional,explicit,tag:1"`
}

// pkcs8 is the start of the PKCS#8 PrivateKeyInfo structure (the optional
// attributes and public key that may follow are ignored).
type pkcs8 struct {
	Version    int
	Algo       pkix.AlgorithmIdentifier
	PrivateKey []byte
}

// PrivateKey is a model's private key, held by the CLI.
type PrivateKey struct {
	keyType string
	ed      ed25519.PrivateKey    // for ed25519
	k1      *secp256k1.PrivateKey // for secp256k1
}

// GenerateKey returns a new random private key of keyType (empty means
// ed25519).
func GenerateKey(keyType string) (*PrivateKey, error) {
	keyType, err := normalizeKeyType(keyType)
	if err != nil {
		return nil, err
	}
	if keyType == api.KeySecp256k1 {
		k, err := secp256k1.GeneratePrivateKey()
		if err != nil {
			return nil, fmt.Errorf("generating a secp256k1 key: %w", err)
		}
		return &PrivateKey{keyType: keyType, k1: k}, nil
	}
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating an ed25519 key: %w", err)
	}
	return &PrivateKey{keyType: keyType, ed: k}, nil
}

// Type returns the key's type, api.KeyEd25519 or api.KeySecp256k1.
func (k *PrivateKey) Type() string { return k.keyType }

// Public returns the key's public half.
func (k *PrivateKey) Public() *PublicKey {
	if k.keyType == api.KeySecp256k1 {
		return &PublicKey{Type: k.keyType, Raw: k.k1.PubKey().SerializeCompressed()}
	}
	return &PublicKey{Type: k.keyType, Raw: bytes.Clone(k.ed.Public().(ed25519.PublicKey))}
}

// Sign signs msg and returns the signature in standard base64, as Verify
// and the API take it: for ed25519 the 64-byte signature of msg; for
// secp256k1 the 64-byte compact r||s (low S, deterministic per RFC 6979)
// ECDSA signature of SHA-256(msg).
func (k *PrivateKey) Sign(msg []byte) (string, error) {
	switch k.keyType {
	case api.KeyEd25519:
		if len(k.ed) != ed25519.PrivateKeySize {
			return "", errors.New("the ed25519 private key is not set")
		}
		return base64.StdEncoding.EncodeToString(ed25519.Sign(k.ed, msg)), nil
	case api.KeySecp256k1:
		if k.k1 == nil {
			return "", errors.New("the secp256k1 private key is not set")
		}
		hash := sha256.Sum256(msg)
		sig := ecdsa.Sign(k.k1, hash[:])
		r, s := sig.R(), sig.S()
		var compact [secp256k1CompactSize]byte
		r.PutBytesUnchecked(compact[:32])
		s.PutBytesUnchecked(compact[32:])
		return base64.StdEncoding.EncodeToString(compact[:]), nil
	}
	_, err := normalizeKeyType(k.keyType)
	return "", err
}

// MarshalPrivateKey encodes k as PEM: ed25519 as PKCS#8 ("PRIVATE KEY"),
// secp256k1 as SEC 1 ("EC PRIVATE KEY", with the curve's OID and the
// public key). OpenSSL reads both.
func MarshalPrivateKey(k *PrivateKey) ([]byte, error) {
	if k == nil {
		return nil, errors.New("no private key to encode")
	}
	switch k.keyType {
	case api.KeyEd25519:
		der, err := x509.MarshalPKCS8PrivateKey(k.ed)
		if err != nil {
			return nil, fmt.Errorf("encoding the ed25519 private key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: pemPKCS8, Bytes: der}), nil
	case api.KeySecp256k1:
		if k.k1 == nil {
			return nil, errors.New("the secp256k1 private key is not set")
		}
		pub := k.k1.PubKey().SerializeUncompressed()
		der, err := asn1.Marshal(ecPrivateKey{
			Version:       1,
			PrivateKey:    k.k1.Serialize(),
			NamedCurveOID: oidSecp256k1,
			PublicKey:     asn1.BitString{Bytes: pub, BitLength: 8 * len(pub)},
		})
		if err != nil {
			return nil, fmt.Errorf("encoding the secp256k1 private key: %w", err)
		}
		return pem.EncodeToMemory(&pem.Block{Type: pemSEC1, Bytes: der}), nil
	}
	_, err := normalizeKeyType(k.keyType)
	return nil, err
}

// ParsePrivateKey reads a PEM private key: ed25519 in PKCS#8 (as
// MarshalPrivateKey and `openssl genpkey -algorithm ed25519` write it), or
// secp256k1 in SEC 1 (as MarshalPrivateKey and `openssl ecparam -genkey
// -name secp256k1` write it) or PKCS#8 (as `openssl genpkey -algorithm EC
// -pkeyopt ec_paramgen_curve:secp256k1` writes it). An "EC PARAMETERS"
// block before the key is skipped.
func ParsePrivateKey(data []byte) (*PrivateKey, error) {
	rest := data
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			return nil, errors.New("no PEM private key found (expected a \"-----BEGIN PRIVATE KEY-----\" or \"-----BEGIN EC PRIVATE KEY-----\" block)")
		}
		if strings.Contains(block.Headers["Proc-Type"], "ENCRYPTED") {
			return nil, errors.New("the private key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)")
		}
		switch block.Type {
		case "EC PARAMETERS":
			continue
		case pemPKCS8:
			return parsePKCS8(block.Bytes)
		case pemSEC1:
			return parseSEC1(block.Bytes, nil)
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("the private key is encrypted; decrypt it first (openssl pkey -in key.pem -out plain.pem)")
		case "PUBLIC KEY":
			return nil, errors.New("this is a public key; a private key is needed")
		default:
			return nil, fmt.Errorf("unsupported PEM block %q; expected %q (ed25519 or secp256k1) or %q (secp256k1)", truncate(block.Type, 40), pemPKCS8, pemSEC1)
		}
	}
}

func parsePKCS8(der []byte) (*PrivateKey, error) {
	var p pkcs8
	if rest, err := asn1.Unmarshal(der, &p); err != nil || len(rest) > 0 {
		return nil, errors.New("the private key is not valid PKCS#8")
	}
	switch {
	case p.Algo.Algorithm.Equal(oidEd25519):
		k, err := x509.ParsePKCS8PrivateKey(der)
		if err != nil {
			return nil, fmt.Errorf("the ed25519 private key is not valid: %w", err)
		}
		ed, ok := k.(ed25519.PrivateKey)
		if !ok {
			return nil, errors.New("the ed25519 private key is not valid")
		}
		return &PrivateKey{keyType: api.KeyEd25519, ed: ed}, nil
	case p.Algo.Algorithm.Equal(oidECPublicKey):
		var curve asn1.ObjectIdentifier
		if rest, err := asn1.Unmarshal(p.Algo.Parameters.FullBytes, &curve); err != nil || len(rest) > 0 {
			return nil, errors.New("the EC private key does not name its curve (explicit curve parameters are not supported); it must be secp256k1")
		}
		if !curve.Equal(oidSecp256k1) {
			return nil, fmt.Errorf("the EC private key is on curve %s, not secp256k1 (%s)", curve, oidSecp256k1)
		}
		return parseSEC1(p.PrivateKey, curve)
	}
	return nil, fmt.Errorf("unsupported private key algorithm %s; use ed25519 or secp256k1", p.Algo.Algorithm)
}

// parseSEC1 parses an ECPrivateKey. curve is the curve named outside it
// (by PKCS#8), if any; the key's own must then agree or be absent.
func parseSEC1(der []byte, curve asn1.ObjectIdentifier) (*PrivateKey, error) {
	var ec ecPrivateKey
	if rest, err := asn1.Unmarshal(der, &ec); err != nil || len(rest) > 0 {
		return nil, errors.New("the EC private key is not valid SEC 1 DER (explicit curve parameters are not supported)")
	}
	if ec.Version != 1 {
		return nil, fmt.Errorf("the EC private key has version %d; only version 1 is known", ec.Version)
	}
	switch {
	case len(ec.NamedCurveOID) == 0 && len(curve) == 0:
		return nil, errors.New("the EC private key does not name its curve; it must be secp256k1")
	case len(ec.NamedCurveOID) > 0 && !ec.NamedCurveOID.Equal(oidSecp256k1):
		return nil, fmt.Errorf("the EC private key is on curve %s, not secp256k1 (%s)", ec.NamedCurveOID, oidSecp256k1)
	}
	if len(ec.PrivateKey) > 32 {
		return nil, fmt.Errorf("the secp256k1 private key is %d bytes, at most 32 were expected", len(ec.PrivateKey))
	}
	var scalar secp256k1.ModNScalar
	if overflow := scalar.SetByteSlice(ec.PrivateKey); overflow || scalar.IsZero() {
		return nil, errors.New("the secp256k1 private key is out of range")
	}
	k := secp256k1.NewPrivateKey(&scalar)
	if len(ec.PublicKey.Bytes) > 0 {
		pub, err := secp256k1.ParsePubKey(ec.PublicKey.RightAlign())
		if err != nil || !pub.IsEqual(k.PubKey()) {
			return nil, errors.New("the EC private key file is inconsistent: its public key does not match its private key")
		}
	}
	return &PrivateKey{keyType: api.KeySecp256k1, k1: k}, nil
}
