package registry_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/identity"
	"github.com/hivellm/modelgov/internal/registry"
)

func caller(name string, roles ...string) registry.WriteOptions {
	return registry.WriteOptions{Caller: registry.Caller{Principal: name, Roles: roles}}
}

func newKey(t *testing.T, keyType string) *identity.PrivateKey {
	t.Helper()
	k, err := identity.GenerateKey(keyType)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func sign(t *testing.T, k *identity.PrivateKey, msg string) string {
	t.Helper()
	sig, err := k.Sign([]byte(msg))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// makeGeneral creates a large model owned by owner, proves its identity
// and has a governor classify it general.
func makeGeneral(t *testing.T, s *registry.Service, id, owner string) *identity.PrivateKey {
	t.Helper()
	ctx := context.Background()
	opts := caller(owner, api.RoleMaintainer)
	if _, err := s.CreateModel(ctx, doc(id, "xl", 405e9, "declared"), opts); err != nil {
		t.Fatalf("create %s: %v", id, err)
	}
	key := proveIdentity(t, s, id, opts)
	if _, err := s.Classify(ctx, id, api.Classification{Role: api.RoleGeneral, Reason: "vote"}, governor); err != nil {
		t.Fatalf("classify %s as general: %v", id, err)
	}
	return key
}

func TestRotationNeedsTheCurrentKey(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	old := makeGeneral(t, s, "meta/llama-3-1-405b", "owner")
	next := newKey(t, api.KeySecp256k1)
	pub := next.Public().Base64()

	// Without a rotation, a new key is refused.
	_, err := s.RegisterIdentity(ctx, "meta/llama-3-1-405b", api.IdentityRegistration{KeyType: api.KeySecp256k1, PublicKey: pub}, maintainer)
	if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "rotation") {
		t.Fatalf("a new key without rotation: %v, want a conflict asking for a rotation", err)
	}

	rotate := func(oldSigner, newSigner *identity.PrivateKey) error {
		ch, err := s.Challenge(ctx, "meta/llama-3-1-405b", api.ChallengeRequest{Purpose: api.PurposeRotate, KeyType: api.KeySecp256k1, PublicKey: pub}, maintainer)
		if err != nil {
			t.Fatalf("rotation challenge: %v", err)
		}
		if ch.NewKeyID != next.Public().KeyID() || ch.KeyID != old.Public().KeyID() {
			t.Fatalf("challenge %+v names the wrong keys", ch)
		}
		_, err = s.RegisterIdentity(ctx, "meta/llama-3-1-405b", api.IdentityRegistration{KeyType: api.KeySecp256k1, PublicKey: pub,
			Rotation: &api.Rotation{Nonce: ch.Nonce, Signature: sign(t, oldSigner, ch.Nonce), NewKeySignature: sign(t, newSigner, ch.Nonce)}}, maintainer)
		return err
	}
	// Signed by another key than the current one: refused, and the nonce is spent.
	if err := rotate(newKey(t, api.KeyEd25519), next); !errs.Is(err, errs.Invalid) {
		t.Fatalf("a rotation signed by a stranger: %v, want invalid", err)
	}
	m, _ := s.GetModel(ctx, "meta/llama-3-1-405b")
	if m.Identity.KeyID != old.Public().KeyID() {
		t.Fatalf("a refused rotation changed the key to %s", m.Identity.KeyID)
	}
	// Signed by both keys: the general keeps its role, verified, under the new key.
	if err := rotate(old, next); err != nil {
		t.Fatalf("a rotation signed by both keys: %v", err)
	}
	m, _ = s.GetModel(ctx, "meta/llama-3-1-405b")
	if m.Identity.KeyID != next.Public().KeyID() || m.Identity.Status != api.IdentityVerified ||
		m.Identity.RotatedFrom != old.Public().KeyID() || m.Role() != api.RoleGeneral {
		t.Errorf("after rotation: identity %+v, role %s", m.Identity, m.Role())
	}
	// The old key stays claimed: no other model can take it.
	if _, err := s.CreateModel(ctx, doc("meta/llama-3-3-70b", "large", 70e9, "declared"), maintainer); err != nil {
		t.Fatal(err)
	}
	_, err = s.RegisterIdentity(ctx, "meta/llama-3-3-70b", api.IdentityRegistration{PublicKey: old.Public().Base64()}, maintainer)
	if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "meta/llama-3-1-405b") {
		t.Errorf("another model registering the rotated-away key: %v, want a conflict naming its holder", err)
	}
}

func TestRevocationLowersAGeneralAtOnce(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	key := makeGeneral(t, s, "meta/llama-3-1-405b", "owner")

	// Only the owner, a governor or an admin may revoke.
	if _, err := s.RevokeIdentity(ctx, "meta/llama-3-1-405b", "stolen", caller("mallory", api.RoleMaintainer)); !errs.Is(err, errs.Forbidden) {
		t.Fatalf("revocation by a stranger: %v, want forbidden", err)
	}
	res, err := s.RevokeIdentity(ctx, "meta/llama-3-1-405b", "the key leaked", governor)
	if err != nil {
		t.Fatalf("revocation by a governor: %v", err)
	}
	m := res.Model
	if m.Identity.Status != api.IdentityRevoked || m.Role() != api.RoleSpecialist || !strings.Contains(m.Governance.Reason, "identity") {
		t.Errorf("after revocation: identity status %s, role %s (%q); want revoked and specialist", m.Identity.Status, m.Role(), m.Governance.Reason)
	}
	// The revoked key can never come back, even for the same model.
	_, err = s.RegisterIdentity(ctx, "meta/llama-3-1-405b", api.IdentityRegistration{PublicKey: key.Public().Base64()}, maintainer)
	if !errs.Is(err, errs.Conflict) || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("re-registering a revoked key: %v, want a conflict", err)
	}
	// A new key may be registered without a rotation, and proved.
	proveIdentity(t, s, "meta/llama-3-1-405b", maintainer)
}

func TestEndorsementsAndTheirWithdrawal(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	// Two founders of distinct owners: the first generals need no
	// endorsement, the second needs one from a general of another owner
	// while only one exists... the bootstrap minimum.
	alice := makeGeneral(t, s, "meta/llama-3-1-405b", "alice")
	if _, err := s.CreateModel(ctx, doc("deepseek/deepseek-v3", "xl", 671e9, "declared"), caller("bob", api.RoleMaintainer)); err != nil {
		t.Fatal(err)
	}
	proveIdentity(t, s, "deepseek/deepseek-v3", caller("bob", api.RoleMaintainer))
	_, err := s.Classify(ctx, "deepseek/deepseek-v3", api.Classification{Role: api.RoleGeneral, Reason: "vote"}, governor)
	if !slices.Contains(failedRules(err), "general-endorsements") {
		t.Fatalf("a second owner's general without endorsement: %v, want general-endorsements", err)
	}
	endorse := func(endorser string, key *identity.PrivateKey, id string, by registry.WriteOptions) error {
		m, err := s.GetModel(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		_, err = s.Endorse(ctx, id, api.EndorsementRequest{Endorser: endorser, Signature: sign(t, key, string(api.EndorsementMessage(id, m.Identity.KeyID)))}, by)
		return err
	}
	// Only the endorser's owner may submit its endorsement, and the
	// signature must be the endorser's.
	if err := endorse("meta/llama-3-1-405b", alice, "deepseek/deepseek-v3", caller("bob", api.RoleMaintainer)); !errs.Is(err, errs.Forbidden) {
		t.Errorf("an endorsement submitted by the endorsed model's owner: %v, want forbidden", err)
	}
	if err := endorse("meta/llama-3-1-405b", newKey(t, api.KeyEd25519), "deepseek/deepseek-v3", caller("alice", api.RoleMaintainer)); !errs.Is(err, errs.Invalid) {
		t.Errorf("an endorsement signed by another key: %v, want invalid", err)
	}
	if err := endorse("meta/llama-3-1-405b", alice, "deepseek/deepseek-v3", caller("alice", api.RoleMaintainer)); err != nil {
		t.Fatalf("alice's general endorses bob's model: %v", err)
	}
	if _, err := s.Classify(ctx, "deepseek/deepseek-v3", api.Classification{Role: api.RoleGeneral, Reason: "vote"}, governor); err != nil {
		t.Fatalf("classify with one endorsement of the one other owner: %v", err)
	}
	// Withdrawing the endorsement lowers the general at once.
	res, err := s.WithdrawEndorsement(ctx, "deepseek/deepseek-v3", "meta/llama-3-1-405b", caller("alice", api.RoleMaintainer))
	if err != nil {
		t.Fatalf("withdraw: %v", err)
	}
	if res.Model.Role() == api.RoleGeneral || len(res.Model.Identity.Endorsements) != 0 {
		t.Errorf("after withdrawal: role %s, endorsements %v", res.Model.Role(), res.Model.Identity.Endorsements)
	}
}

func TestNearDuplicateIsHeldForReview(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	base := `{"schema_version":"1.1","model_id":"%s","provider":"meta","display_name":"%s","family":"llama-3",
		"size_class":"xl","parameters":{"count":405e9,"source":"declared"},"context_window":128000}`
	mk := func(id, name string) *api.Model {
		res, err := s.CreateModel(ctx, []byte(fmt.Sprintf(base, id, name)), maintainer)
		if err != nil {
			t.Fatalf("create %s: %v", id, err)
		}
		return res.Model
	}
	if m := mk("meta/llama-3-1-405b", "Llama 3.1 405B"); m.Governance.Review != nil {
		t.Fatalf("the first model is held for review: %+v", m.Governance.Review)
	}
	sybil := mk("meta/llama-3-1-405b-2", "Llama 3.1 405B")
	r := sybil.Governance.Review
	if r == nil || r.Status != api.ReviewPending || !slices.Equal(r.SimilarTo, []string{"meta/llama-3-1-405b"}) {
		t.Fatalf("a near-duplicate is not held: %+v", r)
	}
	if other := mk("meta/llama-3-3-70b", "Llama 3.3 70B"); other.Governance.Review != nil {
		t.Errorf("a distinct model of the same family is held: %+v", other.Governance.Review)
	}
	// The governors' queue lists it.
	queue, err := s.ListModels(ctx, registry.ListQuery{Review: api.ReviewPending})
	if err != nil || len(queue.Items) != 1 || queue.Items[0].ModelID != "meta/llama-3-1-405b-2" {
		t.Fatalf("the review queue: %+v, %v; want meta/llama-3-1-405b-2", queue, err)
	}
	// Held, it cannot be approved.
	_, err = s.ChangeLifecycle(ctx, "meta/llama-3-1-405b-2", api.LifecycleChange{Status: api.StatusActive, Reason: "approve"}, governor)
	if !slices.Contains(failedRules(err), "review-before-approval") {
		t.Fatalf("approving a held model: %v, want review-before-approval", err)
	}
	// Only a governor clears it; then it can be approved.
	if _, err := s.ClearReview(ctx, "meta/llama-3-1-405b-2", api.ReviewResolution{Status: api.ReviewCleared, Reason: "a distinct fine-tune"}, maintainer); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a maintainer clearing a review: %v, want forbidden", err)
	}
	res, err := s.ClearReview(ctx, "meta/llama-3-1-405b-2", api.ReviewResolution{Status: api.ReviewCleared, Reason: "a distinct fine-tune"}, governor)
	if err != nil || res.Model.Governance.Review.Status != api.ReviewCleared || res.Model.Governance.Review.ResolvedBy != "gov" {
		t.Fatalf("clear the review: %v, %+v", err, res)
	}
	if _, err := s.ChangeLifecycle(ctx, "meta/llama-3-1-405b-2", api.LifecycleChange{Status: api.StatusActive, Reason: "approve"}, governor); err != nil {
		t.Errorf("approve after the review: %v", err)
	}
	if queue, err := s.ListModels(ctx, registry.ListQuery{Review: api.ReviewPending}); err != nil || len(queue.Items) != 0 {
		t.Errorf("the review queue after clearing: %+v, %v; want empty", queue, err)
	}
	if _, err := s.ListModels(ctx, registry.ListQuery{Review: "cleared"}); !errs.Is(err, errs.Malformed) {
		t.Errorf("review=cleared: %v, want a malformed request", err)
	}
}

func TestTokens(t *testing.T) {
	s, clk := newService(t)
	ctx := context.Background()
	root, err := s.BootstrapToken(ctx, nil)
	if err != nil || root == nil || !strings.HasPrefix(root.Token, "mgv_") || !slices.Equal(root.Roles, []string{api.RoleAdmin}) {
		t.Fatalf("bootstrap token: %+v, %v", root, err)
	}
	if again, err := s.BootstrapToken(ctx, nil); err != nil || again != nil {
		t.Fatalf("a second bootstrap: %+v, %v; want none while the first is valid", again, err)
	}
	admin := caller("root", api.RoleAdmin)
	if _, err := s.CreateToken(ctx, api.TokenRequest{Name: "ci", Roles: []string{"viewer"}}, governor); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a governor creating a token: %v, want forbidden", err)
	}
	for _, bad := range []api.TokenRequest{
		{Name: "system:modelgov", Roles: []string{"admin"}},
		{Name: "anonymous", Roles: []string{"viewer"}},
		{Name: "ok", Roles: []string{"root"}},
		{Name: "ok"},
	} {
		if _, err := s.CreateToken(ctx, bad, admin); !errs.Is(err, errs.Invalid) {
			t.Errorf("token request %+v: %v, want invalid", bad, err)
		}
	}
	expires := clk.Now().Add(time.Hour)
	tok, err := s.CreateToken(ctx, api.TokenRequest{Name: "voting-service", Roles: []string{"viewer", "evaluator", "viewer"}, ExpiresAt: &expires}, admin)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tok.Roles, []string{api.RoleEvaluator, api.RoleViewer}) {
		t.Errorf("roles %v, want evaluator, viewer", tok.Roles)
	}
	p, err := s.Authenticate(ctx, tok.Token)
	if err != nil || p.Name != "voting-service" || p.TokenID != tok.ID {
		t.Fatalf("authenticate: %+v, %v", p, err)
	}
	list, err := s.ListTokens(ctx, admin.Caller)
	if err != nil || len(list.Items) != 2 {
		t.Fatalf("list: %+v, %v", list, err)
	}
	for _, it := range list.Items {
		if it.Token != "" {
			t.Errorf("a listed token carries its secret")
		}
	}
	// Expired: refused.
	clk.Advance(2 * time.Hour)
	if _, err := s.Authenticate(ctx, tok.Token); !errs.Is(err, errs.Unauthenticated) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("an expired token: %v", err)
	}
	// Revoked: refused at once.
	if _, err := s.RevokeToken(ctx, root.ID, admin); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, root.Token); !errs.Is(err, errs.Unauthenticated) || !strings.Contains(err.Error(), "revoked") {
		t.Errorf("a revoked token: %v", err)
	}
	// No valid token left: the next start makes a new admin token.
	if again, err := s.BootstrapToken(ctx, nil); err != nil || again == nil {
		t.Errorf("bootstrap with every token revoked or expired: %+v, %v; want a new one", again, err)
	}
	if _, err := s.Authenticate(ctx, "mgv_"+strings.Repeat("a", 49)); !errs.Is(err, errs.Unauthenticated) {
		t.Errorf("a malformed token: %v", err)
	}
}

func TestMaintainersActOnTheirOwnModels(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	alice, bob := caller("alice", api.RoleMaintainer), caller("bob", api.RoleMaintainer)
	res, err := s.CreateModel(ctx, doc("meta/llama-3-1-405b", "xl", 405e9, "declared"), alice)
	if err != nil || !slices.Equal(res.Model.Owners, []string{"alice"}) {
		t.Fatalf("create by alice: %v, owners %v; want alice as owner", err, res)
	}
	patch := []byte(`{"notes":"mine now"}`)
	if _, err := s.PatchModel(ctx, "meta/llama-3-1-405b", patch, bob); !errs.Is(err, errs.Forbidden) {
		t.Errorf("bob patching alice's model: %v, want forbidden", err)
	}
	if _, err := s.RegisterIdentity(ctx, "meta/llama-3-1-405b", api.IdentityRegistration{PublicKey: newKey(t, api.KeyEd25519).Public().Base64()}, bob); !errs.Is(err, errs.Forbidden) {
		t.Errorf("bob registering alice's model's key: %v, want forbidden", err)
	}
	if _, err := s.CreateModel(ctx, []byte(`{"schema_version":"1.1","model_id":"meta/x","provider":"meta","display_name":"X","owners":["alice"]}`), bob); !errs.Is(err, errs.Forbidden) {
		t.Errorf("bob registering a model for alice: %v, want forbidden", err)
	}
	if _, err := s.PatchModel(ctx, "meta/llama-3-1-405b", patch, alice); err != nil {
		t.Errorf("alice patching her model: %v", err)
	}
	if _, err := s.PatchModel(ctx, "meta/llama-3-1-405b", []byte(`{"notes":"gov"}`), governor); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a governor editing a document: %v, want forbidden", err)
	}
	if _, err := s.ReplaceModel(ctx, "meta/llama-3-1-405b", doc("meta/llama-3-1-405b", "xl", 405e9, "declared"), caller("eve", api.RoleViewer)); !errs.Is(err, errs.Forbidden) {
		t.Errorf("a viewer replacing a document: %v, want forbidden", err)
	}
}

func TestOnlyAGovernorLiftsASuspension(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	create(t, s, "meta/llama-3-1-405b", "xl", 405e9)
	for _, ch := range []api.LifecycleChange{{Status: api.StatusActive, Reason: "approved"}, {Status: api.StatusSuspended, Reason: "under investigation"}} {
		if _, err := s.ChangeLifecycle(ctx, "meta/llama-3-1-405b", ch, governor); err != nil {
			t.Fatalf("%s: %v", ch.Status, err)
		}
	}
	back := api.LifecycleChange{Status: api.StatusActive, Reason: "it was fine"}
	_, err := s.ChangeLifecycle(ctx, "meta/llama-3-1-405b", back, maintainer)
	if !errs.Is(err, errs.Forbidden) || !slices.Contains(failedRules(err), "lifecycle-lift-suspension") {
		t.Fatalf("the owner lifting a governor's suspension: %v (rules %v), want lifecycle-lift-suspension", err, failedRules(err))
	}
	if _, err := s.ChangeLifecycle(ctx, "meta/llama-3-1-405b", back, governor); err != nil {
		t.Errorf("a governor lifting the suspension: %v", err)
	}
}
