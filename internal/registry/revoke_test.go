package registry_test

import (
	"context"
	"testing"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

// TestRevocationWakesNoCachedToken: whatever a token's revocation wakes
// (a watch stream, the web's live view) must find the token revoked, not
// authenticate it from the token cache.
func TestRevocationWakesNoCachedToken(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	for i := range 200 { // the race it guards against shows in a few rounds in a hundred
		tok, err := s.CreateToken(ctx, api.TokenRequest{Name: "watcher", Roles: []string{api.RoleViewer}}, admin)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, tok.Token); err != nil { // now cached
			t.Fatal(err)
		}
		wake := s.EventsChanged()
		done := make(chan error, 1)
		go func() {
			_, err := s.RevokeToken(ctx, tok.ID, admin)
			done <- err
		}()
		<-wake
		if _, err := s.Authenticate(ctx, tok.Token); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("round %d: woken by the revocation, the token still authenticates: %v", i, err)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
}
