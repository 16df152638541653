package policy

import (
	"slices"

	"github.com/hivellm/modelgov/api"
)

// CountedEndorsements says, for each endorsement of m's identity, in the
// order of m.Identity.Endorsements, whether it counts towards
// model.identity.general_endorsements (proposal 036: no single owner can
// mint a general). endorsers is what the registry knows of the endorsing
// models at the time of the decision (Facts.Endorsers).
//
// An endorsement e counts when:
//   - e.By is another model than m, and endorsers holds it;
//   - that endorser is a general whose identity is verified;
//   - e was signed with the endorser's current key (e.KeyID is its KeyID);
//   - the endorser's identity has an owner, other than the owner of m's
//     identity;
//   - no earlier counted endorsement has the same owner: an owner's
//     generals count once, together.
//
// The endorsements of a revoked identity never count. It returns nil when
// m has no identity.
func CountedEndorsements(m *api.Model, endorsers map[string]Endorser) []bool {
	if m == nil || m.Identity == nil {
		return nil
	}
	id := m.Identity
	counted := make([]bool, len(id.Endorsements))
	if id.Status == api.IdentityRevoked {
		return counted
	}
	var owners []string // of the endorsements counted so far
	for i, e := range id.Endorsements {
		en, ok := endorsers[e.By]
		if !ok || e.By == m.ModelID || en.Role != api.RoleGeneral || en.IdentityStatus != api.IdentityVerified ||
			en.KeyID == "" || en.KeyID != e.KeyID || en.Owner == "" || en.Owner == id.Owner ||
			slices.Contains(owners, en.Owner) {
			continue
		}
		counted[i] = true
		owners = append(owners, en.Owner)
	}
	return counted
}
