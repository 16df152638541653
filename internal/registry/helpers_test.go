package registry_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/identity"
	"github.com/hivellm/modelgov/internal/registry"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

// proveIdentity registers a new Ed25519 key for model id and answers its
// challenge, as the model's maintainer would, and returns the key.
func proveIdentity(t *testing.T, s *registry.Service, id string, opts registry.WriteOptions) *identity.PrivateKey {
	t.Helper()
	ctx := context.Background()
	key, err := identity.GenerateKey(api.KeyEd25519)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.RegisterIdentity(ctx, id, api.IdentityRegistration{PublicKey: key.Public().Base64()}, opts); err != nil {
		t.Fatalf("register the identity of %s: %v", id, err)
	}
	ch, err := s.Challenge(ctx, id, api.ChallengeRequest{}, opts)
	if err != nil {
		t.Fatalf("challenge %s: %v", id, err)
	}
	sig, err := key.Sign([]byte(ch.Nonce))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyIdentity(ctx, id, api.ChallengeAnswer{Nonce: ch.Nonce, Signature: sig}, opts); err != nil {
		t.Fatalf("verify the identity of %s: %v", id, err)
	}
	return key
}
