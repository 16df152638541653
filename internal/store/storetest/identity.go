package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/store"
)

// newToken returns a stored token for tests, whose secret is "mgv_"+id.
func newToken(id string, created time.Time) *store.Token {
	hash := sha256.Sum256([]byte("mgv_" + id))
	return &store.Token{
		Token: api.Token{ID: id, Name: "ci-" + id, Roles: []string{api.RoleMaintainer, api.RoleEvaluator},
			Prefix: "mgv_" + id[:min(4, len(id))], CreatedAt: created, CreatedBy: "admin"},
		Hash: hash[:],
	}
}

// utc returns p with its times in UTC, so that tokens compare equal
// whatever location a store answers times in.
func utc(p *time.Time) *time.Time {
	if p == nil {
		return nil
	}
	t := p.UTC()
	return &t
}

func sameToken(got, want *store.Token) bool {
	if got == nil || want == nil {
		return got == want
	}
	g, w := *got, *want
	for _, x := range []*store.Token{&g, &w} {
		x.CreatedAt = x.CreatedAt.UTC()
		x.ExpiresAt = utc(x.ExpiresAt)
		x.RevokedAt = utc(x.RevokedAt)
	}
	return reflect.DeepEqual(g, w)
}

func sameChallenge(got, want *store.Challenge) bool {
	if got == nil || want == nil {
		return got == want
	}
	g, w := *got, *want
	for _, x := range []*store.Challenge{&g, &w} {
		x.ExpiresAt = x.ExpiresAt.UTC()
		x.CreatedAt = x.CreatedAt.UTC()
	}
	return reflect.DeepEqual(g, w)
}

func tokenIDs(ts []*store.Token) []string {
	out := []string{}
	for _, t := range ts {
		out = append(out, t.ID)
	}
	return out
}

func testTokenRoundTrip(t *testing.T, s store.Store) {
	ctx := context.Background()
	plain := newToken("tok-plain", t0)
	plain.Roles = []string{api.RoleViewer, api.RoleAdmin, api.RoleGovernor} // not in any sorted order
	expires := t0.Add(90 * 24 * time.Hour).In(time.FixedZone("CEST", 2*60*60))
	revoked := t0.Add(time.Hour)
	full := newToken("tok-full", t0.Add(time.Minute))
	full.ExpiresAt = &expires
	full.RevokedAt = &revoked
	full.RevokedBy = "security"
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, tok := range []*store.Token{plain, full} {
			if err := tx.PutToken(ctx, tok); err != nil {
				return err
			}
		}
		// The transaction sees its own writes.
		if got, err := tx.GetToken(ctx, plain.ID); err != nil || !sameToken(got, plain) {
			return fmt.Errorf("GetToken in the transaction = %+v, %v; want %+v", got, err, plain)
		}
		if got, err := tx.TokenByHash(ctx, full.Hash); err != nil || !sameToken(got, full) {
			return fmt.Errorf("TokenByHash in the transaction = %+v, %v; want %+v", got, err, full)
		}
		return nil
	})
	for _, want := range []*store.Token{plain, full} {
		got, err := s.GetToken(ctx, want.ID)
		if err != nil || !sameToken(got, want) {
			t.Errorf("GetToken(%s) = %+v, %v; want %+v", want.ID, got, err, want)
		}
		got, err = s.TokenByHash(ctx, want.Hash)
		if err != nil || !sameToken(got, want) {
			t.Errorf("TokenByHash(hash of %s) = %+v, %v; want %+v", want.ID, got, err, want)
		}
	}
	got, _ := s.GetToken(ctx, plain.ID)
	if got != nil && (got.ExpiresAt != nil || got.RevokedAt != nil || got.RevokedBy != "") {
		t.Errorf("token never expiring nor revoked = expires %v, revoked %v by %q; want nil, nil, \"\"", got.ExpiresAt, got.RevokedAt, got.RevokedBy)
	}
	if got != nil && !reflect.DeepEqual(got.Roles, plain.Roles) {
		t.Errorf("roles = %v, want %v in that order", got.Roles, plain.Roles)
	}
	got, _ = s.GetToken(ctx, full.ID)
	if got != nil && (got.ExpiresAt == nil || !got.ExpiresAt.Equal(expires) || got.RevokedAt == nil || !got.RevokedAt.Equal(revoked)) {
		t.Errorf("token expiring and revoked = expires %v, revoked %v; want %v, %v", got.ExpiresAt, got.RevokedAt, expires, revoked)
	}

	unknown := sha256.Sum256([]byte("mgv_nobody"))
	if _, err := s.TokenByHash(ctx, unknown[:]); !errs.Is(err, errs.NotFound) {
		t.Errorf("TokenByHash of an unknown hash: err = %v, want kind NotFound", err)
	}
	if _, err := s.GetToken(ctx, "tok-nobody"); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetToken of an unknown id: err = %v, want kind NotFound", err)
	}
}

func testTokenDuplicates(t *testing.T, s store.Store) {
	ctx := context.Background()
	first := newToken("tok-1", t0)
	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutToken(ctx, first) })

	sameID := newToken("tok-1", t0.Add(time.Hour))
	sameID.Name = "impostor"
	other := sha256.Sum256([]byte("another secret"))
	sameID.Hash = other[:]
	sameHash := newToken("tok-2", t0.Add(time.Hour))
	sameHash.Hash = first.Hash
	for _, tt := range []struct {
		what string
		tok  *store.Token
	}{{"the same id", sameID}, {"the same hash", sameHash}} {
		// The transaction goes on and commits after the refusal: the
		// refused token must not be stored even then.
		write(t, s, func(ctx context.Context, tx store.Tx) error {
			if err := tx.PutToken(ctx, tt.tok); !errs.Is(err, errs.Exists) {
				t.Errorf("PutToken with %s: err = %v, want kind Exists", tt.what, err)
			}
			return nil
		})
	}
	if got, err := s.GetToken(ctx, "tok-1"); err != nil || !sameToken(got, first) {
		t.Errorf("GetToken(tok-1) after refused duplicates = %+v, %v; want the first token", got, err)
	}
	if _, err := s.TokenByHash(ctx, other[:]); !errs.Is(err, errs.NotFound) {
		t.Errorf("TokenByHash of the refused same-id token's hash: err = %v, want NotFound", err)
	}
	if _, err := s.GetToken(ctx, "tok-2"); !errs.Is(err, errs.NotFound) {
		t.Errorf("GetToken of the refused same-hash token: err = %v, want NotFound", err)
	}
	if got, err := s.TokenByHash(ctx, first.Hash); err != nil || got.ID != "tok-1" {
		t.Errorf("TokenByHash(first hash) = %+v, %v; want tok-1", got, err)
	}
	if list, err := s.ListTokens(ctx); err != nil || len(list) != 1 {
		t.Errorf("ListTokens = %v, %v; want only tok-1", tokenIDs(list), err)
	}
}

func testRevokeToken(t *testing.T, s store.Store) {
	ctx := context.Background()
	tok := newToken("tok-1", t0)
	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutToken(ctx, tok) })
	first := t0.Add(time.Hour)
	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.RevokeToken(ctx, "tok-1", first, "alice") })
	got, err := s.GetToken(ctx, "tok-1")
	if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(first) || got.RevokedBy != "alice" {
		t.Fatalf("GetToken after revoke = %+v, %v; want revoked at %v by alice", got, err, first)
	}
	// Revoking again keeps the first revocation, and is no error.
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RevokeToken(ctx, "tok-1", first.Add(time.Hour), "bob")
	})
	got, err = s.GetToken(ctx, "tok-1")
	if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(first) || got.RevokedBy != "alice" {
		t.Errorf("GetToken after a second revoke = %+v, %v; want the first revocation (%v by alice)", got, err, first)
	}
	// Everything else is as it was.
	want := *tok
	want.RevokedAt, want.RevokedBy = &first, "alice"
	if !sameToken(got, &want) {
		t.Errorf("revoked token = %+v, want %+v", got, &want)
	}
	err = s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		return tx.RevokeToken(ctx, "tok-nobody", first, "alice")
	})
	if !errs.Is(err, errs.NotFound) {
		t.Errorf("RevokeToken of an unknown token: err = %v, want kind NotFound", err)
	}
}

func testListTokens(t *testing.T, s store.Store) {
	ctx := context.Background()
	if list, err := s.ListTokens(ctx); err != nil || len(list) != 0 {
		t.Errorf("ListTokens of a new store = %v, %v; want none", tokenIDs(list), err)
	}
	// Put in an order that is neither the answer's nor its reverse.
	toks := []*store.Token{
		newToken("tok-b", t0.Add(time.Hour)),
		newToken("tok-old", t0.Add(-time.Hour)),
		newToken("tok-a", t0),
		newToken("tok-c", t0.Add(time.Hour)),
		newToken("tok-new", t0.Add(2*time.Hour)),
	}
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, tok := range toks {
			if err := tx.PutToken(ctx, tok); err != nil {
				return err
			}
		}
		return nil
	})
	// Revoking a token does not move it.
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		return tx.RevokeToken(ctx, "tok-old", t0.Add(3*time.Hour), "admin")
	})
	list, err := s.ListTokens(ctx)
	want := []string{"tok-new", "tok-c", "tok-b", "tok-a", "tok-old"}
	if err != nil || !reflect.DeepEqual(tokenIDs(list), want) {
		t.Fatalf("ListTokens = %v, %v; want %v (newest first, then by id descending)", tokenIDs(list), err, want)
	}
	if !sameToken(list[3], toks[2]) {
		t.Errorf("listed tok-a = %+v, want %+v", list[3], toks[2])
	}
}

func testIdentityClaims(t *testing.T, s store.Store) {
	ctx := context.Background()
	claim := func(kind store.ClaimKind, value, modelID string) error {
		return s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
			return tx.ClaimIdentity(ctx, kind, value, modelID, t0)
		})
	}
	holder := func(kind store.ClaimKind, value, want string) {
		t.Helper()
		got, err := s.IdentityClaim(ctx, kind, value)
		if want == "" {
			if !errs.Is(err, errs.NotFound) {
				t.Errorf("IdentityClaim(%s, %s) = %q, %v; want kind NotFound", kind, value, got, err)
			}
			return
		}
		if err != nil || got != want {
			t.Errorf("IdentityClaim(%s, %s) = %q, %v; want %s", kind, value, got, err, want)
		}
	}
	const key, digest = "00112233445566778899aabbccddeeff", "sha256:0a1b2c"
	holder(store.ClaimKey, key, "")
	if err := claim(store.ClaimKey, key, "openai/gpt-5"); err != nil {
		t.Fatalf("ClaimIdentity: %v", err)
	}
	holder(store.ClaimKey, key, "openai/gpt-5")
	// Claiming again what the model holds does nothing.
	if err := claim(store.ClaimKey, key, "openai/gpt-5"); err != nil {
		t.Errorf("ClaimIdentity again by the holder: %v, want no error", err)
	}
	holder(store.ClaimKey, key, "openai/gpt-5")
	// Another model may not take it; the transaction goes on and commits,
	// and the claim stays with its holder.
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.ClaimIdentity(ctx, store.ClaimKey, key, "xai/grok-3", t0.Add(time.Hour)); !errs.Is(err, errs.Exists) {
			t.Errorf("ClaimIdentity of a key held by another model: err = %v, want kind Exists", err)
		}
		return nil
	})
	holder(store.ClaimKey, key, "openai/gpt-5")
	// Kinds are separate namespaces.
	holder(store.ClaimArtifact, key, "")
	if err := claim(store.ClaimArtifact, key, "xai/grok-3"); err != nil {
		t.Errorf("ClaimIdentity of an artifact with a key's value: %v, want no error", err)
	}
	holder(store.ClaimArtifact, key, "xai/grok-3")
	holder(store.ClaimKey, key, "openai/gpt-5")
	// A model may hold several claims.
	if err := claim(store.ClaimArtifact, digest, "openai/gpt-5"); err != nil {
		t.Errorf("ClaimIdentity of an artifact: %v", err)
	}
	holder(store.ClaimArtifact, digest, "openai/gpt-5")
	if err := claim(store.ClaimArtifact, digest, "xai/grok-3"); !errs.Is(err, errs.Exists) {
		t.Errorf("ClaimIdentity of an artifact held by another model: err = %v, want kind Exists", err)
	}
	// The transaction sees its own claims.
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.ClaimIdentity(ctx, store.ClaimKey, "ffee", "meta/llama-4", t0); err != nil {
			return err
		}
		if got, err := tx.IdentityClaim(ctx, store.ClaimKey, "ffee"); err != nil || got != "meta/llama-4" {
			return fmt.Errorf("IdentityClaim in the transaction = %q, %v; want meta/llama-4", got, err)
		}
		return nil
	})
}

func newChallenge(nonce string, expires time.Time) *store.Challenge {
	return &store.Challenge{
		Challenge: api.Challenge{Nonce: nonce, ExpiresAt: expires, Purpose: api.PurposeVerify, KeyID: "00112233445566778899aabbccddeeff"},
		ModelID:   "openai/gpt-5",
		CreatedAt: t0,
		CreatedBy: "alice",
	}
}

// take takes a challenge in a transaction of its own.
func take(s store.Store, nonce string) (*store.Challenge, error) {
	var c *store.Challenge
	err := s.ReadWrite(context.Background(), func(ctx context.Context, tx store.Tx) error {
		var err error
		c, err = tx.TakeChallenge(ctx, nonce)
		return err
	})
	return c, err
}

func testChallenges(t *testing.T, s store.Store) {
	verify := newChallenge("nonce-verify", t0.Add(5*time.Minute))
	rotate := newChallenge("nonce-rotate", t0.Add(5*time.Minute).In(time.FixedZone("PST", -8*60*60)))
	rotate.Purpose = api.PurposeRotate
	rotate.NewKeyID = "ffeeddccbbaa99887766554433221100"
	rotate.NewKeyType = api.KeySecp256k1
	rotate.NewPublicKey = "AhEiM0RVZneImaq7zN3u/wARIjNEVWZ3iJmqu8zd7v8A"
	rotate.CreatedBy = "bob"
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, c := range []*store.Challenge{verify, rotate} {
			if err := tx.PutChallenge(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	// A nonce is not given out twice; the transaction commits after the
	// refusal, and the first challenge stays as it was.
	dup := newChallenge("nonce-verify", t0.Add(time.Hour))
	dup.ModelID = "xai/grok-3"
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutChallenge(ctx, dup); !errs.Is(err, errs.Exists) {
			t.Errorf("PutChallenge with a taken nonce: err = %v, want kind Exists", err)
		}
		return nil
	})
	for _, want := range []*store.Challenge{verify, rotate} {
		got, err := take(s, want.Nonce)
		if err != nil || !sameChallenge(got, want) {
			t.Errorf("TakeChallenge(%s) = %+v, %v; want %+v", want.Nonce, got, err, want)
		}
		// A nonce is answered once.
		if got, err := take(s, want.Nonce); !errs.Is(err, errs.NotFound) {
			t.Errorf("TakeChallenge(%s) a second time = %+v, %v; want kind NotFound", want.Nonce, got, err)
		}
	}
	if _, err := take(s, "nonce-never-issued"); !errs.Is(err, errs.NotFound) {
		t.Errorf("TakeChallenge of a nonce never issued: err = %v, want kind NotFound", err)
	}
	// A challenge taken in an aborted transaction can be taken again.
	kept := newChallenge("nonce-kept", t0.Add(time.Hour))
	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutChallenge(ctx, kept) })
	boom := errors.New("boom")
	err := s.ReadWrite(context.Background(), func(ctx context.Context, tx store.Tx) error {
		if _, err := tx.TakeChallenge(ctx, kept.Nonce); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ReadWrite = %v, want the function's error", err)
	}
	if got, err := take(s, kept.Nonce); err != nil || !sameChallenge(got, kept) {
		t.Errorf("TakeChallenge after an aborted take = %+v, %v; want %+v", got, err, kept)
	}
}

func testExpireChallenges(t *testing.T, s store.Store) {
	cut := t0.Add(time.Minute)
	challenges := []*store.Challenge{
		newChallenge("expired-long-ago", t0.Add(-time.Hour)),
		newChallenge("expired-just", cut.Add(-time.Nanosecond)),
		newChallenge("expires-at-cut", cut),
		newChallenge("live", cut.Add(time.Hour)),
	}
	write(t, s, func(ctx context.Context, tx store.Tx) error {
		for _, c := range challenges {
			if err := tx.PutChallenge(ctx, c); err != nil {
				return err
			}
		}
		return tx.ExpireChallenges(ctx, cut)
	})
	for i, c := range challenges {
		_, err := take(s, c.Nonce)
		if i < 2 && !errs.Is(err, errs.NotFound) {
			t.Errorf("challenge %s, expired before the cut-off, is still there: %v", c.Nonce, err)
		}
		if i >= 2 && err != nil {
			t.Errorf("challenge %s, expiring at or after the cut-off, is gone: %v", c.Nonce, err)
		}
	}
}

func testAbortIdentity(t *testing.T, s store.Store) {
	ctx := context.Background()
	tok := newToken("tok-1", t0)
	boom := errors.New("boom")
	err := s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutToken(ctx, tok); err != nil {
			return err
		}
		if err := tx.ClaimIdentity(ctx, store.ClaimKey, "0011", "openai/gpt-5", t0); err != nil {
			return err
		}
		if err := tx.PutChallenge(ctx, newChallenge("nonce-1", t0.Add(time.Hour))); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ReadWrite = %v, want the function's error", err)
	}
	if _, err := s.GetToken(ctx, tok.ID); !errs.Is(err, errs.NotFound) {
		t.Errorf("token of an aborted transaction is stored: %v", err)
	}
	if _, err := s.TokenByHash(ctx, tok.Hash); !errs.Is(err, errs.NotFound) {
		t.Errorf("token of an aborted transaction is found by hash: %v", err)
	}
	if list, err := s.ListTokens(ctx); err != nil || len(list) != 0 {
		t.Errorf("ListTokens after an aborted transaction = %v, %v; want none", tokenIDs(list), err)
	}
	if got, err := s.IdentityClaim(ctx, store.ClaimKey, "0011"); !errs.Is(err, errs.NotFound) {
		t.Errorf("claim of an aborted transaction is stored: %q, %v", got, err)
	}
	if _, err := take(s, "nonce-1"); !errs.Is(err, errs.NotFound) {
		t.Errorf("challenge of an aborted transaction is stored: %v", err)
	}
	// Revoking in an aborted transaction leaves the token live.
	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutToken(ctx, tok) })
	err = s.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.RevokeToken(ctx, tok.ID, t0, "alice"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("ReadWrite = %v, want the function's error", err)
	}
	if got, err := s.GetToken(ctx, tok.ID); err != nil || got.RevokedAt != nil || got.RevokedBy != "" {
		t.Errorf("token after an aborted revocation = %+v, %v; want it live", got, err)
	}
}

func testConcurrentTakeChallenge(t *testing.T, s store.Store) {
	const takers = 8
	c := newChallenge("nonce-raced", t0.Add(time.Hour))
	write(t, s, func(ctx context.Context, tx store.Tx) error { return tx.PutChallenge(ctx, c) })
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errc  = make(chan error, takers)
	)
	for range takers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := take(s, c.Nonce)
			errc <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errc)
	won := 0
	for err := range errc {
		switch {
		case err == nil:
			won++
		case !errs.Is(err, errs.NotFound):
			t.Errorf("concurrent TakeChallenge: err = %v, want nil or kind NotFound", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent TakeChallenge of one nonce succeeded, want exactly 1", won, takers)
	}
}

func testIdentityOwners(t *testing.T, s store.Store) {
	ctx := context.Background()
	ident := func(id string, role api.Role, owner, status string, expires time.Time) *api.Model {
		m := NewModel(id, "active", role, 1)
		m.Identity = &api.Identity{KeyType: api.KeyEd25519, PublicKey: "AAAA", KeyID: "00000000000000000000000000000000",
			Status: status, Owner: owner, RegisteredAt: t0, RegisteredBy: owner, ExpiresAt: expires}
		return m
	}
	later := t0.Add(365 * 24 * time.Hour)
	put(t, s,
		ident("a/one", api.RoleGeneral, "alice", api.IdentityVerified, later),
		ident("a/two", api.RoleGeneral, "alice", api.IdentityVerified, later), // alice once
		ident("b/one", api.RoleGeneral, "bob", api.IdentityVerified, t0.Add(time.Hour)),
		ident("c/one", api.RoleGeneral, "carol", api.IdentityUnverified, later),
		ident("d/one", api.RoleGeneral, "dave", api.IdentityRevoked, later),
		ident("e/one", api.RoleSpecialist, "erin", api.IdentityVerified, later),
		NewModel("f/one", "active", api.RoleGeneral, 1),
	)
	for _, tt := range []struct {
		role api.Role
		at   time.Time
		want []string
	}{
		{api.RoleGeneral, t0, []string{"alice", "bob"}},
		{api.RoleGeneral, t0.Add(2 * time.Hour), []string{"alice"}}, // bob's identity expired
		{api.RoleSpecialist, t0, []string{"erin"}},
		{api.RoleExperimental, t0, nil},
	} {
		got, err := s.IdentityOwners(ctx, tt.role, tt.at)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("IdentityOwners(%s, %v) = %v, %v; want %v", tt.role, tt.at, got, err, tt.want)
		}
	}
	got, err := s.VerifiedIdentities(ctx, t0)
	want := []store.VerifiedIdentity{
		{ModelID: "a/one", Role: api.RoleGeneral, KeyID: "00000000000000000000000000000000", Owner: "alice"},
		{ModelID: "a/two", Role: api.RoleGeneral, KeyID: "00000000000000000000000000000000", Owner: "alice"},
		{ModelID: "b/one", Role: api.RoleGeneral, KeyID: "00000000000000000000000000000000", Owner: "bob"},
		{ModelID: "e/one", Role: api.RoleSpecialist, KeyID: "00000000000000000000000000000000", Owner: "erin"},
	}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("VerifiedIdentities = %+v, %v; want %+v", got, err, want)
	}
	// An identity revoked later drops out.
	m := ident("a/two", api.RoleGeneral, "alice", api.IdentityRevoked, later)
	m2 := ident("a/one", api.RoleGeneral, "alice", api.IdentityRevoked, later)
	put(t, s, m, m2)
	if got, _ := s.IdentityOwners(ctx, api.RoleGeneral, t0); !reflect.DeepEqual(got, []string{"bob"}) {
		t.Errorf("after revocations: %v, want bob", got)
	}
}
