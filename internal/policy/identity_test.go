package policy

import (
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
)

// general is what the registry knows of a general with a verified
// identity: its key is the test key named by its id.
func general(id, owner string) Endorser {
	return Endorser{Role: api.RoleGeneral, IdentityStatus: api.IdentityVerified, KeyID: keyID(id), Owner: owner}
}

// endorsers are the facts of the decision tests: what the registry knows of
// every model that endorses in them.
func endorsers() map[string]Endorser {
	return map[string]Endorser{
		"anthropic/claude-opus-4": general("anthropic/claude-opus-4", "anthropic"),
		"google/gemini-2.5-pro":   general("google/gemini-2.5-pro", "google"),
		"xai/grok-4":              general("xai/grok-4", "xai"),
		// A second general of google's: its endorsement and gemini's count once.
		"google/gemma-3-27b": general("google/gemma-3-27b", "google"),
		// A specialist: not a general.
		"mistral/mistral-small": {Role: api.RoleSpecialist, IdentityStatus: api.IdentityVerified,
			KeyID: keyID("mistral/mistral-small"), Owner: "mistral"},
		// A general whose identity expired.
		"deepseek/deepseek-v3": {Role: api.RoleGeneral, IdentityStatus: api.IdentityExpired,
			KeyID: keyID("deepseek/deepseek-v3"), Owner: "deepseek"},
		// A general of meta's, the owner of the models endorsed.
		"meta/llama-3.1-405b": general("meta/llama-3.1-405b", "meta"),
		// A general with a verified identity and no owner.
		"acme/orphan": general("acme/orphan", ""),
	}
}

// endorsedBy adds an endorsement by each model, signed with its test key.
func endorsedBy(ids ...string) func(*api.Model) {
	return func(m *api.Model) {
		for _, id := range ids {
			m.Identity.Endorsements = append(m.Identity.Endorsements, api.Endorsement{By: id, KeyID: keyID(id),
				Signature: "c2ln", EndorsedKeyID: m.Identity.KeyID, At: testNow.Add(-time.Hour), SubmittedBy: "carol"})
		}
	}
}

// signedWith changes the key of the endorsement by id to the key named key.
func signedWith(id, key string) func(*api.Model) {
	return func(m *api.Model) {
		for i := range m.Identity.Endorsements {
			if m.Identity.Endorsements[i].By == id {
				m.Identity.Endorsements[i].KeyID = keyID(key)
			}
		}
	}
}

func identityStatus(s string) func(*api.Model) { return func(m *api.Model) { m.Identity.Status = s } }
func noIdentity(m *api.Model)                  { m.Identity = nil }
func review(s string) func(*api.Model) {
	return func(m *api.Model) {
		m.Governance.Review = &api.Review{Status: s, Reason: "display name and parameters match meta/llama-4-maverick",
			SimilarTo: []string{"meta/llama-4-maverick"}, FlaggedAt: testNow.Add(-time.Hour)}
	}
}

// classifyWith is classify with facts: verified_general_owners and the
// endorsers.
func classifyWith(m *api.Model, owners int64) *Input {
	in := classify(m, api.RoleGeneral, governor)
	in.Facts = Facts{VerifiedGeneralOwners: owners, Endorsers: endorsers()}
	return in
}

func TestDecideIdentityRules(t *testing.T) {
	p := defaultProgram(t)
	proposed := changed(maverick, status(api.StatusProposed))
	clearReview := func(caller Caller) *Input {
		return &Input{Action: ActionReview, Old: changed(maverick, review(api.ReviewPending)),
			Model: changed(maverick, review(api.ReviewCleared)), Caller: caller, Now: testNow}
	}
	tests := []struct {
		name    string
		in      *Input
		failed  []string // ids of failed and error results, in order
		values  map[string]map[string]any
		message map[string]string
	}{
		{
			name:   "a general without identity is refused",
			in:     classifyWith(changed(maverick, noIdentity), 0),
			failed: []string{"general-verified-identity"},
			values: map[string]map[string]any{"general-verified-identity": {"model.identity.status": "none"}},
			message: map[string]string{"general-verified-identity": "a general needs a verified identity: register its " +
				"public key and answer a challenge (proposal 036)"},
		},
		{
			name:   "an unverified identity is refused",
			in:     classifyWith(changed(maverick, identityStatus(api.IdentityUnverified)), 0),
			failed: []string{"general-verified-identity"},
			values: map[string]map[string]any{"general-verified-identity": {"model.identity.status": "unverified"}},
		},
		{
			name:   "an expired identity is refused",
			in:     classifyWith(changed(maverick, func(m *api.Model) { m.Identity.ExpiresAt = testNow }), 0),
			failed: []string{"general-verified-identity"},
			values: map[string]map[string]any{"general-verified-identity": {"model.identity.status": "expired"}},
		},
		{
			name:   "a revoked identity is refused, and its endorsements do not count",
			in:     classifyWith(changed(maverick, identityStatus(api.IdentityRevoked), endorsedBy("anthropic/claude-opus-4")), 1),
			failed: []string{"general-verified-identity", "general-endorsements"},
			values: map[string]map[string]any{"general-verified-identity": {"model.identity.status": "revoked"},
				"general-endorsements": {"model.identity.general_endorsements": int64(0)}},
		},
		{
			name: "the first general of a registry needs no endorsement",
			in:   classifyWith(maverick, 0),
		},
		{
			name:   "a general needs 2 endorsements once 3 other owners have verified generals",
			in:     classifyWith(changed(maverick, endorsedBy("anthropic/claude-opus-4")), 3),
			failed: []string{"general-endorsements"},
			values: map[string]map[string]any{"general-endorsements": {"model.identity.general_endorsements": int64(1),
				"registry.verified_general_owners": int64(3), "params.general_min_endorsements": int64(2)}},
			message: map[string]string{"general-endorsements": "a general needs the endorsements of 2 generals of distinct " +
				"other owners, with verified identities; this model has 1 that counts (proposal 036)"},
		},
		{
			name: "2 endorsements by generals of distinct owners are enough",
			in:   classifyWith(changed(maverick, endorsedBy("anthropic/claude-opus-4", "google/gemini-2.5-pro")), 3),
		},
		{
			name: "while 1 other owner has verified generals, 1 endorsement is enough",
			in:   classifyWith(changed(maverick, endorsedBy("xai/grok-4")), 1),
		},
		{
			name:   "no endorsement, while 1 other owner could give one",
			in:     classifyWith(maverick, 1),
			failed: []string{"general-endorsements"},
			message: map[string]string{"general-endorsements": "a general needs the endorsements of 1 general of distinct " +
				"other owners, with verified identities; this model has 0 that count (proposal 036)"},
		},
		{
			name:   "the endorsements of 2 generals of one owner count once",
			in:     classifyWith(changed(maverick, endorsedBy("google/gemini-2.5-pro", "google/gemma-3-27b")), 3),
			failed: []string{"general-endorsements"},
			values: map[string]map[string]any{"general-endorsements": {"model.identity.general_endorsements": int64(1)}},
		},
		{
			name: "endorsements that do not count: a specialist, an expired identity, the endorsed model's owner, " +
				"no owner, an unknown model, the model itself",
			in: classifyWith(changed(maverick, endorsedBy("anthropic/claude-opus-4", "mistral/mistral-small", "deepseek/deepseek-v3",
				"meta/llama-3.1-405b", "acme/orphan", "acme/unknown", "meta/llama-4-maverick")), 3),
			failed: []string{"general-endorsements"},
			values: map[string]map[string]any{"general-endorsements": {"model.identity.general_endorsements": int64(1)}},
		},
		{
			name: "an endorsement signed with the endorser's previous key does not count",
			in: classifyWith(changed(maverick, endorsedBy("anthropic/claude-opus-4", "google/gemini-2.5-pro"),
				signedWith("google/gemini-2.5-pro", "google/gemini-2.5-pro old key")), 3),
			failed: []string{"general-endorsements"},
		},
		{
			name:   "a model held for review cannot be a general",
			in:     classifyWith(changed(maverick, review(api.ReviewPending)), 0),
			failed: []string{"general-review-cleared"},
			values: map[string]map[string]any{"general-review-cleared": {"model.governance.review.status": "pending"}},
			message: map[string]string{"general-review-cleared": "this model is held for review as a near-duplicate of " +
				"another model: a governor must clear the review before it can be a general"},
		},
		{
			name: "a cleared review does not hold it",
			in:   classifyWith(changed(maverick, review(api.ReviewCleared)), 0),
		},
		{
			name:   "a model held for review is not approved",
			in:     transition(changed(proposed, review(api.ReviewPending)), api.StatusActive, governor, 0),
			failed: []string{"review-before-approval"},
			values: map[string]map[string]any{"review-before-approval": {"model.governance.review.status": "pending"}},
			message: map[string]string{"review-before-approval": "this model is held for review as a near-duplicate of " +
				"another model: a governor must clear the review first"},
		},
		{
			name: "once cleared, it is",
			in:   transition(changed(proposed, review(api.ReviewCleared)), api.StatusActive, governor, 0),
		},
		{
			name: "a general held for review is neither approved nor kept a general",
			in: transition(changed(proposed, role(api.RoleGeneral), review(api.ReviewPending)), api.StatusActive,
				governor, 0),
			failed: []string{"general-review-cleared", "review-before-approval"},
		},
		{
			name:    "only a governor clears a review",
			in:      clearReview(maintainer),
			failed:  []string{"identity-governed"},
			message: map[string]string{"identity-governed": "only a governor or an admin may clear a review"},
		},
		{
			name: "a governor clears it",
			in:   clearReview(governor),
		},
		{
			name: "an identity change is judged by the validation and classification rules",
			in: &Input{Action: ActionIdentity, Old: generalXL, Caller: maintainer, Now: testNow,
				Model: changed(generalXL, identityStatus(api.IdentityRevoked))},
			failed: []string{"general-verified-identity"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := p.Decide(tt.in)
			if want := len(tt.failed) == 0; d.Allowed != want {
				t.Errorf("Allowed = %v, want %v", d.Allowed, want)
			}
			var failed []string
			for _, r := range d.Failed() {
				failed = append(failed, r.ID)
			}
			if !slices.Equal(failed, tt.failed) {
				t.Errorf("failed = %v, want %v\n%s", failed, tt.failed, dumpJSON(d))
			}
			for id, want := range tt.values {
				r := result(d, id)
				if r == nil {
					t.Errorf("no result %s", id)
					continue
				}
				for path, v := range want {
					if got := r.Values[path]; !reflect.DeepEqual(got, v) {
						t.Errorf("%s: Values[%s] = %#v, want %#v", id, path, got, v)
					}
				}
			}
			for id, want := range tt.message {
				if r := result(d, id); r == nil || r.Message != want {
					t.Errorf("%s: message %+v, want %q", id, r, want)
				}
			}
		})
	}
}

func TestCheckIdentityRules(t *testing.T) {
	p := defaultProgram(t)
	once := changed(generalXL, endorsedBy("anthropic/claude-opus-4"))
	twice := changed(generalXL, endorsedBy("anthropic/claude-opus-4", "xai/grok-4"))
	facts := &Facts{VerifiedGeneralOwners: 3, Endorsers: endorsers()}
	tests := []struct {
		name  string
		m     *api.Model
		facts *Facts
		want  []string
	}{
		{"a general without identity", changed(generalXL, noIdentity), nil, []string{"general-verified-identity"}},
		{"a general whose identity expired", changed(generalXL, func(m *api.Model) { m.Identity.ExpiresAt = testNow.Add(-time.Second) }),
			nil, []string{"general-verified-identity"}},
		{"a general endorsed once, among 3 other owners", once, facts, []string{"general-endorsements"}},
		{"endorsed twice", twice, facts, nil},
		{"endorsed twice, the endorsers no longer known", twice, &Facts{VerifiedGeneralOwners: 3}, []string{"general-endorsements"}},
		{"nil facts: no other owner, no endorsement needed", once, nil, nil},
		{"a general held for review", changed(generalXL, review(api.ReviewPending)), nil, []string{"general-review-cleared"}},
		{"a specialist needs no identity", changed(generalXL, role(api.RoleSpecialist), noIdentity, review(api.ReviewPending)), facts, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ids []string
			for _, r := range p.Check(tt.m, testNow, tt.facts) {
				ids = append(ids, r.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("Check = %v, want %v", ids, tt.want)
			}
		})
	}
}

func TestCountedEndorsements(t *testing.T) {
	known := endorsers()
	m := func(opts ...func(*api.Model)) *api.Model { return changed(maverick, opts...) }
	tests := []struct {
		name      string
		m         *api.Model
		endorsers map[string]Endorser
		want      []bool
	}{
		{"no model", nil, known, nil},
		{"no identity", m(noIdentity), known, nil},
		{"no endorsement", m(), known, []bool{}},
		{"generals of distinct owners", m(endorsedBy("anthropic/claude-opus-4", "google/gemini-2.5-pro", "xai/grok-4")), known,
			[]bool{true, true, true}},
		{"an owner counts once, at its first endorsement", m(endorsedBy("google/gemma-3-27b", "anthropic/claude-opus-4",
			"google/gemini-2.5-pro")), known, []bool{true, true, false}},
		{"an owner whose first general does not count counts with the next", m(endorsedBy("google/gemma-3-27b",
			"google/gemini-2.5-pro"), signedWith("google/gemma-3-27b", "old")), known, []bool{false, true}},
		{"not a general", m(endorsedBy("mistral/mistral-small")), known, []bool{false}},
		{"not verified", m(endorsedBy("deepseek/deepseek-v3")), known, []bool{false}},
		{"signed with another key", m(endorsedBy("xai/grok-4"), signedWith("xai/grok-4", "xai/grok-3")), known, []bool{false}},
		{"the endorsed identity's owner", m(endorsedBy("meta/llama-3.1-405b")), known, []bool{false}},
		{"an endorser without owner", m(endorsedBy("acme/orphan")), known, []bool{false}},
		{"an endorser the registry does not know", m(endorsedBy("acme/unknown")), known, []bool{false}},
		{"the model itself", m(endorsedBy("meta/llama-4-maverick")),
			map[string]Endorser{"meta/llama-4-maverick": general("meta/llama-4-maverick", "someone else")}, []bool{false}},
		{"no facts", m(endorsedBy("anthropic/claude-opus-4")), nil, []bool{false}},
		{"a revoked identity", m(endorsedBy("anthropic/claude-opus-4"), identityStatus(api.IdentityRevoked)), known, []bool{false}},
		{"an expired identity keeps its endorsements (general-verified-identity refuses it)",
			m(endorsedBy("anthropic/claude-opus-4"), func(m *api.Model) { m.Identity.ExpiresAt = testNow }), known, []bool{true}},
		{"an unverified identity keeps them too", m(endorsedBy("anthropic/claude-opus-4"), identityStatus(api.IdentityUnverified)),
			known, []bool{true}},
		{"an endorsed identity without owner", m(endorsedBy("acme/orphan", "xai/grok-4"), func(m *api.Model) { m.Identity.Owner = "" }),
			known, []bool{false, true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CountedEndorsements(tt.m, tt.endorsers)
			if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
				t.Errorf("CountedEndorsements = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestIdentityVariables checks every new field, as rules see them and as a
// result's values report them.
func TestIdentityVariables(t *testing.T) {
	p := testProgram(t, &Bundle{Validation: []Rule{
		{ID: "strings", Expression: "model.identity.status == 'verified' && model.identity.key_type == 'ed25519' && " +
			"model.identity.key_id.size() == 32 && model.identity.owner == 'meta' && " +
			"model.identity.artifact_digest.startsWith('sha256:')"},
		{ID: "times", Expression: "model.identity.verified_at == now - duration('48h') && model.identity.expires_at > now && " +
			"model.identity.endorsements.all(e, e.at < now)"},
		{ID: "endorsements", Expression: "model.identity.endorsements.map(e, e.by) == " +
			"['anthropic/claude-opus-4', 'google/gemini-2.5-pro', 'google/gemma-3-27b'] && " +
			"model.identity.endorsements.map(e, e.counted) == [true, true, false] && " +
			"model.identity.endorsements[0].key_id == '" + keyID("anthropic/claude-opus-4") + "'"},
		{ID: "count", Expression: "model.identity.general_endorsements == 2 && registry.verified_general_owners == 4"},
		{ID: "old", Expression: "old == null || (old.identity.general_endorsements == 2 && old.identity == model.identity)"},
		{ID: "whole", Expression: "size(model.identity) == 9 && 'general_endorsements' in model.identity && " +
			"size(model.governance.review) == 3"},
		{ID: "review", Expression: "model.governance.review.status == 'cleared' && " +
			"model.governance.review.similar_to == ['meta/llama-4-maverick'] && model.governance.review.reason != ''"},
		{ID: "reported", Expression: "model.identity == {} || model.governance.review == {}"},
	}})
	m := changed(maverick, endorsedBy("anthropic/claude-opus-4", "google/gemini-2.5-pro", "google/gemma-3-27b"),
		review(api.ReviewCleared), func(m *api.Model) { m.Identity.ArtifactDigest = "sha256:" + keyID("weights") + keyID("weights") })
	facts := Facts{VerifiedGeneralOwners: 4, Endorsers: endorsers()}
	for _, in := range []*Input{
		{Action: ActionCreate, Model: m, Now: testNow, Facts: facts},
		{Action: ActionUpdate, Model: m, Old: m, Now: testNow, Facts: facts},
	} {
		d := p.Decide(in)
		var failed []string
		for _, r := range d.Failed() {
			failed = append(failed, r.ID)
		}
		if !slices.Equal(failed, []string{"reported"}) {
			t.Fatalf("%s: failed %v, want only reported\n%s", in.Action, failed, dumpJSON(d))
		}
		values := result(d, "reported").Values
		verifiedAt := testNow.Add(-48 * time.Hour)
		at := testNow.Add(-time.Hour)
		wantIdentity := map[string]any{"status": "verified", "key_type": "ed25519", "key_id": keyID("meta/llama-4-maverick"),
			"owner": "meta", "artifact_digest": m.Identity.ArtifactDigest, "verified_at": verifiedAt,
			"expires_at": verifiedAt.Add(365 * 24 * time.Hour),
			"endorsements": []any{
				map[string]any{"by": "anthropic/claude-opus-4", "key_id": keyID("anthropic/claude-opus-4"), "at": at, "counted": true},
				map[string]any{"by": "google/gemini-2.5-pro", "key_id": keyID("google/gemini-2.5-pro"), "at": at, "counted": true},
				map[string]any{"by": "google/gemma-3-27b", "key_id": keyID("google/gemma-3-27b"), "at": at, "counted": false}},
			"general_endorsements": int64(2)}
		if got := values["model.identity"]; !reflect.DeepEqual(got, wantIdentity) {
			t.Errorf("Values[model.identity] = %#v\nwant %#v", got, wantIdentity)
		}
		wantReview := map[string]any{"status": "cleared", "reason": m.Governance.Review.Reason,
			"similar_to": []string{"meta/llama-4-maverick"}}
		if got := values["model.governance.review"]; !reflect.DeepEqual(got, wantReview) {
			t.Errorf("Values[model.governance.review] = %#v\nwant %#v", got, wantReview)
		}
	}
}

// TestActionsInSchema checks that a bundle may name every action.
func TestActionsInSchema(t *testing.T) {
	b := &Bundle{APIVersion: APIVersion, Name: "actions"}
	for i, a := range Actions() {
		b.Permissions = append(b.Permissions, PermissionRule{ID: fmt.Sprintf("p%d", i), Actions: []string{string(a)},
			Roles: []string{"governor"}})
	}
	data := []byte(dumpJSON(b))
	if _, err := Parse(data); err != nil {
		t.Errorf("Parse: %v %+v", err, fieldsOf(err))
	}
	if !slices.Contains(Actions(), ActionIdentity) || !slices.Contains(Actions(), ActionReview) {
		t.Errorf("Actions() = %v", Actions())
	}
}
