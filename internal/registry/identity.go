package registry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/identity"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/store"
)

// Identity limits.
const (
	// IdentityLifetime is how long a registered key counts: 365 days, as
	// the HiveLLM tooling's identities.
	IdentityLifetime = 365 * 24 * time.Hour
	// ChallengeLifetime is how long a challenge's nonce may be answered.
	ChallengeLifetime = 5 * time.Minute
	// MaxEndorsements is the most endorsements a model's identity holds.
	MaxEndorsements = 256
)

// proofRule names identity proofs in the audit entries of refused ones.
const proofRule = "identity-proof"

// RegisterIdentity registers a public key for model id. The key is
// unverified until its holder answers a challenge. A model whose identity
// is not revoked changes key only by rotation: a rotation challenge for
// the new key, signed by the current key (and, to stay verified, by the new
// one). A key id or artifact digest that another model holds is refused:
// a key speaks for one model only, for good.
func (s *Service) RegisterIdentity(ctx context.Context, id string, req api.IdentityRegistration, opts WriteOptions) (*Result, error) {
	key, fields := parseKeyField(req.KeyType, req.PublicKey, "")
	if d := req.ArtifactDigest; d != "" && !identity.ValidArtifactDigest(d) {
		fields = append(fields, api.FieldError{Pointer: "/artifact_digest", Message: `must be "sha256:" followed by 64 lowercase hexadecimal digits`})
	}
	owner := strings.TrimSpace(req.Owner)
	if owner != "" && !principalName.MatchString(owner) && !oidcPrincipal(owner) {
		fields = append(fields, api.FieldError{Pointer: "/owner", Message: "must be a principal name"})
	}
	if r := req.Rotation; r != nil && (r.Nonce == "" || r.Signature == "") {
		fields = append(fields, api.FieldError{Pointer: "/rotation", Message: "a rotation needs the nonce of a rotation challenge and the current key's signature of it"})
	}
	if len(fields) > 0 {
		return nil, errs.InvalidFields("invalid identity registration", fields)
	}
	if owner != "" && owner != actor(opts.Caller) && !isAdmin(opts.Caller) {
		// Endorsements count only from distinct owners: naming owners is
		// the one power that could fake them, and it is an admin's.
		return nil, s.refuse(ctx, opts, auditAction(api.ActionIdentity), id,
			forbidden("only admins may register an identity on behalf of another owner"))
	}
	if owner == "" {
		owner = actor(opts.Caller)
	}
	// Only a caller who may change the identity spends its nonces.
	if m, err := s.store.GetModel(ctx, id); err != nil {
		return nil, err
	} else if err := authorizeModel(opts.Caller, api.ActionIdentity, m, m); err != nil {
		return nil, s.refuse(ctx, opts, auditAction(api.ActionIdentity), id, err)
	}

	// A rotation's nonce is spent by this attempt, whatever its outcome.
	var rotation *store.Challenge
	if req.Rotation != nil {
		ch, err := s.takeChallenge(ctx, id, req.Rotation.Nonce, api.PurposeRotate, opts)
		if err != nil {
			return nil, err
		}
		if ch.NewKeyID != key.KeyID() {
			return nil, s.refuseProof(ctx, opts, id, fmt.Sprintf("the rotation challenge was issued for key %s, not %s", ch.NewKeyID, key.KeyID()))
		}
		rotation = ch
	}

	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		return s.changeModel(ctx, tx, now, opts, id, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return nil, "", "", errs.E(errs.NotFound, "model %s not found", id)
			}
			next := cur.Clone()
			old := cur.Identity
			expires := now.Add(IdentityLifetime)
			if req.ExpiresAt != nil {
				at := req.ExpiresAt.UTC()
				if !at.After(now) || at.After(expires) {
					return nil, "", "", errs.InvalidFields("invalid identity registration", []api.FieldError{{Pointer: "/expires_at",
						Message: "must be in the future and at most 365 days away"}})
				}
				expires = at
			}
			reason := fmt.Sprintf("registered %s key %s for owner %s", key.Type, key.KeyID(), owner)
			ident := &api.Identity{KeyType: key.Type, PublicKey: key.Base64(), KeyID: key.KeyID(), ArtifactDigest: req.ArtifactDigest,
				Status: api.IdentityUnverified, Owner: owner, RegisteredAt: now, RegisteredBy: actor(opts.Caller), ExpiresAt: expires}
			if old != nil {
				ident.RevokedKeys = slices.Clone(old.RevokedKeys)
			}
			if slices.Contains(ident.RevokedKeys, ident.KeyID) {
				return nil, "", "", errs.E(errs.Conflict, "key %s was revoked for model %s and can never speak for it again; register a new key", ident.KeyID, id)
			}
			switch {
			case old != nil && old.Status != api.IdentityRevoked && old.KeyID == ident.KeyID && rotation == nil:
				if old.ArtifactDigest == req.ArtifactDigest || req.ArtifactDigest == "" {
					return cur, api.ActionIdentity, "", nil // the same key again: nothing to do
				}
				return nil, "", "", errs.E(errs.Conflict, "model %s already holds key %s with another artifact digest; an artifact digest is set once, with the key", id, old.KeyID)
			case old != nil && old.Status != api.IdentityRevoked && rotation == nil:
				return nil, "", "", errs.E(errs.Conflict, "model %s holds key %s: a new key needs a rotation signed by it "+
					"(POST .../identity/challenge with purpose rotate and the new key, then send both signatures as rotation)", id, old.KeyID)
			case rotation != nil:
				if old == nil || old.Status == api.IdentityRevoked {
					return nil, "", "", errs.E(errs.Conflict, "model %s has no current key to rotate from; register the key without rotation", id)
				}
				if rotation.KeyID != old.KeyID {
					return nil, "", "", proofDenied(opts, now, id, "the rotation challenge was issued for another key than the model's current one; ask for a new challenge")
				}
				cur, err := identity.ParsePublicKey(old.KeyType, old.PublicKey)
				if err != nil {
					return nil, "", "", fmt.Errorf("registry: stored key of %s: %w", id, err)
				}
				if err := cur.Verify([]byte(rotation.Nonce), req.Rotation.Signature); err != nil {
					return nil, "", "", proofDenied(opts, now, id, "the rotation is not signed by the model's current key: "+err.Error())
				}
				ident.RotatedFrom, ident.Endorsements = old.KeyID, old.Endorsements
				reason = fmt.Sprintf("rotated from key %s to %s key %s", old.KeyID, key.Type, key.KeyID())
				if req.Rotation.NewKeySignature != "" {
					if err := key.Verify([]byte(rotation.Nonce), req.Rotation.NewKeySignature); err != nil {
						return nil, "", "", proofDenied(opts, now, id, "the new key's signature of the nonce does not verify: "+err.Error())
					}
					ident.Status, ident.VerifiedAt = api.IdentityVerified, &now
					reason += " (verified)"
				}
				if req.ArtifactDigest == "" {
					ident.ArtifactDigest = old.ArtifactDigest
				}
			}
			if err := authorizeModel(opts.Caller, api.ActionIdentity, cur, next); err != nil {
				// Before the claims, so that a caller who may not act
				// learns nothing of who holds a key.
				return nil, "", "", deny(opts, now, auditAction(api.ActionIdentity), id, err)
			}
			if err := claim(ctx, tx, opts, now, id, store.ClaimKey, ident.KeyID, "key "+ident.KeyID); err != nil {
				return nil, "", "", err
			}
			if d := ident.ArtifactDigest; d != "" {
				if err := claim(ctx, tx, opts, now, id, store.ClaimArtifact, d, "artifact "+d); err != nil {
					return nil, "", "", err
				}
			}
			next.Identity = ident
			return next, api.ActionIdentity, reason, nil
		})
	}})
}

// oidcPrincipal reports whether s can name an OIDC principal: "oidc:" and a
// name of 1 to 256 printable characters.
func oidcPrincipal(s string) bool {
	name, ok := strings.CutPrefix(s, "oidc:")
	if !ok || name == "" || len(name) > 256 {
		return false
	}
	for _, r := range name {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// claim records that model id holds a key id or an artifact digest, and
// refuses, on the record, one that another model holds.
func claim(ctx context.Context, tx store.Tx, opts WriteOptions, now time.Time, id string, kind store.ClaimKind, value, what string) error {
	err := tx.ClaimIdentity(ctx, kind, value, id, now)
	if !errs.Is(err, errs.Exists) {
		return err
	}
	holder, herr := tx.IdentityClaim(ctx, kind, value)
	if herr != nil {
		return herr
	}
	msg := fmt.Sprintf("%s is already the identity of model %s: one key and one artifact speak for one model only", what, holder)
	e := entry(opts, now, auditAction(api.ActionIdentity), id)
	e.Outcome, e.Failed = audit.Denied, []audit.FailedRule{{ID: "identity-unique", Message: msg}}
	return &deniedWrite{err: errs.E(errs.Conflict, "%s", msg), entry: e}
}

func parseKeyField(keyType, publicKey, pointer string) (*identity.PublicKey, []api.FieldError) {
	key, err := identity.ParsePublicKey(keyType, publicKey)
	if err != nil {
		return nil, []api.FieldError{{Pointer: pointer + "/public_key", Message: err.Error()}}
	}
	return key, nil
}

// Challenge issues a one-time nonce for the holder of model id's key to
// sign: to verify the registered key, or to rotate to the new key req
// names.
func (s *Service) Challenge(ctx context.Context, id string, req api.ChallengeRequest, opts WriteOptions) (*api.Challenge, error) {
	purpose := req.Purpose
	if purpose == "" {
		purpose = api.PurposeVerify
	}
	var newKey *identity.PublicKey
	switch purpose {
	case api.PurposeVerify:
		if req.PublicKey != "" {
			return nil, errs.InvalidFields("invalid challenge request", []api.FieldError{{Pointer: "/public_key",
				Message: "a verify challenge is for the registered key; name a key only with purpose rotate"}})
		}
	case api.PurposeRotate:
		var fields []api.FieldError
		if newKey, fields = parseKeyField(req.KeyType, req.PublicKey, ""); len(fields) > 0 {
			return nil, errs.InvalidFields("invalid challenge request", fields)
		}
	default:
		return nil, errs.InvalidFields("invalid challenge request", []api.FieldError{{Pointer: "/purpose", Message: "must be verify or rotate"}})
	}
	nonce, err := identity.NewNonce()
	if err != nil {
		return nil, fmt.Errorf("registry: nonce: %w", err)
	}
	var out *api.Challenge
	_, err = s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		m, err := tx.GetModel(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := authorizeModel(opts.Caller, api.ActionIdentity, m, m); err != nil {
			return nil, deny(opts, now, auditAction(api.ActionIdentity), id, err)
		}
		ident := m.Identity
		if ident == nil || ident.Status == api.IdentityRevoked {
			return nil, errs.E(errs.Conflict, "model %s has no registered key to prove; register one with PUT .../identity", id)
		}
		if err := tx.ExpireChallenges(ctx, now); err != nil {
			return nil, err
		}
		ch := &store.Challenge{Challenge: api.Challenge{Nonce: nonce, ExpiresAt: now.Add(ChallengeLifetime), Purpose: purpose, KeyID: ident.KeyID},
			ModelID: id, CreatedAt: now, CreatedBy: actor(opts.Caller)}
		if newKey != nil {
			ch.NewKeyID, ch.NewKeyType, ch.NewPublicKey = newKey.KeyID(), newKey.Type, newKey.Base64()
		}
		if err := tx.PutChallenge(ctx, ch); err != nil {
			return nil, err
		}
		c := ch.Challenge
		out = &c
		return &Result{Outcome: Created}, nil
	}})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// takeChallenge spends a nonce in a transaction of its own, so that the
// nonce is answered at most once even when the answer is refused. It
// refuses, on the record, a nonce that is unknown, spent, expired, for
// another model or for another purpose.
func (s *Service) takeChallenge(ctx context.Context, id, nonce, purpose string, opts WriteOptions) (*store.Challenge, error) {
	var ch *store.Challenge
	errOtherModel := errors.New("the nonce is another model's")
	err := s.store.ReadWrite(ctx, func(ctx context.Context, tx store.Tx) error {
		var err error
		if ch, err = tx.TakeChallenge(ctx, nonce); err == nil && ch.ModelID != id {
			return errOtherModel // not spent: it is not this caller's to spend
		}
		return err
	})
	switch {
	case errs.Is(err, errs.NotFound), errors.Is(err, errOtherModel):
		return nil, s.refuseProof(ctx, opts, id, "the nonce is unknown or was already used; ask for a new challenge")
	case err != nil:
		return nil, err
	case ch.Purpose != purpose:
		return nil, s.refuseProof(ctx, opts, id, fmt.Sprintf("the nonce was issued to %s, not to %s", ch.Purpose, purpose))
	case !s.now().Before(ch.ExpiresAt):
		return nil, s.refuseProof(ctx, opts, id, fmt.Sprintf("the nonce expired at %s; ask for a new challenge", ch.ExpiresAt.UTC().Format(time.RFC3339)))
	}
	return ch, nil
}

// refuseProof records a refused identity proof and returns its error.
func (s *Service) refuseProof(ctx context.Context, opts WriteOptions, id, msg string) error {
	return s.recordRefusal(ctx, proofDenied(opts, s.now().UTC(), id, msg))
}

// recordRefusal records a denial built outside a transaction (by deny or
// proofDenied) and returns its error.
func (s *Service) recordRefusal(ctx context.Context, denied error) error {
	d := denied.(*deniedWrite)
	if err := s.recordDenial(ctx, d); err != nil {
		return errors.Join(d.err, fmt.Errorf("registry: record the denial: %w", err))
	}
	return d.err
}

// proofDenied is the refusal of an identity proof, as a denial that commit
// records.
func proofDenied(opts WriteOptions, now time.Time, id, msg string) error {
	e := entry(opts, now, auditAction(api.ActionIdentity), id)
	e.Outcome, e.Failed = audit.Denied, []audit.FailedRule{{ID: proofRule, Message: msg}}
	return &deniedWrite{err: errs.E(errs.Invalid, "%s", msg), entry: e}
}

// VerifyIdentity checks the answer to a verify challenge: when the
// registered key signed the nonce, the identity is verified.
func (s *Service) VerifyIdentity(ctx context.Context, id string, ans api.ChallengeAnswer, opts WriteOptions) (*Result, error) {
	if ans.Nonce == "" || ans.Signature == "" {
		return nil, errs.InvalidFields("invalid challenge answer", []api.FieldError{{Pointer: "", Message: "send the nonce and its signature"}})
	}
	// Only a caller who may change the identity spends its nonces.
	if m, err := s.store.GetModel(ctx, id); err != nil {
		return nil, err
	} else if err := authorizeModel(opts.Caller, api.ActionIdentity, m, m); err != nil {
		return nil, s.refuse(ctx, opts, auditAction(api.ActionIdentity), id, err)
	}
	ch, err := s.takeChallenge(ctx, id, ans.Nonce, api.PurposeVerify, opts)
	if err != nil {
		return nil, err
	}
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		return s.changeModel(ctx, tx, now, opts, id, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return nil, "", "", errs.E(errs.NotFound, "model %s not found", id)
			}
			ident := cur.Identity
			if ident == nil || ident.Status == api.IdentityRevoked || ident.KeyID != ch.KeyID {
				return nil, "", "", proofDenied(opts, now, id, "the model's key changed since the challenge was issued; ask for a new challenge")
			}
			key, err := identity.ParsePublicKey(ident.KeyType, ident.PublicKey)
			if err != nil {
				return nil, "", "", fmt.Errorf("registry: stored key of %s: %w", id, err)
			}
			if err := key.Verify([]byte(ch.Nonce), ans.Signature); err != nil {
				return nil, "", "", proofDenied(opts, now, id, err.Error())
			}
			next := cur.Clone()
			next.Identity.Status, next.Identity.VerifiedAt = api.IdentityVerified, &now
			return next, api.ActionIdentity, fmt.Sprintf("verified key %s: its holder signed a challenge", ident.KeyID), nil
		})
	}})
}

// refuse records a refused request that did not reach a transaction.
func (s *Service) refuse(ctx context.Context, opts WriteOptions, action, target string, err error) error {
	return s.recordRefusal(ctx, deny(opts, s.now().UTC(), action, target, err))
}

// RevokeIdentity revokes model id's identity: its key no longer speaks for
// it, its endorsements are dropped, and its endorsements of other models
// stop counting. A general that no longer passes its role's rules is
// lowered at once, as enforcement would: a revoked key is a security event,
// not a matter for a grace period. The key stays claimed by the model.
func (s *Service) RevokeIdentity(ctx context.Context, id, reason string, opts WriteOptions) (*Result, error) {
	reason = strings.TrimSpace(reason)
	if f := checkReason(reason); f != nil {
		return nil, errs.InvalidFields("invalid revocation", []api.FieldError{*f})
	}
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		return s.changeModel(ctx, tx, now, opts, id, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return nil, "", "", errs.E(errs.NotFound, "model %s not found", id)
			}
			if cur.Identity == nil || cur.Identity.Status == api.IdentityRevoked {
				return nil, "", "", errs.E(errs.Conflict, "model %s has no identity to revoke", id)
			}
			next := cur.Clone()
			next.Identity.Status, next.Identity.RevokedAt, next.Identity.RevokedBy = api.IdentityRevoked, &now, actor(opts.Caller)
			next.Identity.RevokedReason, next.Identity.Endorsements = reason, nil
			next.Identity.RevokedKeys = append(next.Identity.RevokedKeys, cur.Identity.KeyID)
			why := fmt.Sprintf("revoked key %s: %s", cur.Identity.KeyID, reason)
			lowered, err := s.lowerUntilCompliant(ctx, tx, next, now)
			if err != nil {
				return nil, "", "", err
			}
			return next, api.ActionIdentity, why + lowered, nil
		})
	}})
}

// Endorse records model req.Endorser's endorsement of model id's identity:
// a signature, by the endorser's verified key, of
// api.EndorsementMessage(id, its key id). The caller must own the endorser
// (or be an admin). An endorser's newer endorsement replaces its older one.
func (s *Service) Endorse(ctx context.Context, id string, req api.EndorsementRequest, opts WriteOptions) (*Result, error) {
	if req.Endorser == "" || req.Signature == "" {
		return nil, errs.InvalidFields("invalid endorsement", []api.FieldError{{Pointer: "", Message: "send the endorser's model id and its signature"}})
	}
	if req.Endorser == id {
		return nil, errs.InvalidFields("invalid endorsement", []api.FieldError{{Pointer: "/endorser", Message: "a model cannot endorse itself"}})
	}
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		endorser, err := tx.GetModel(ctx, req.Endorser)
		if errs.Is(err, errs.NotFound) {
			return nil, errs.InvalidFields("invalid endorsement", []api.FieldError{{Pointer: "/endorser", Message: "no such model: " + req.Endorser}})
		} else if err != nil {
			return nil, err
		}
		if !isAdmin(opts.Caller) && !owns(opts.Caller, endorser) {
			return nil, deny(opts, now, auditAction(api.ActionIdentity), id,
				forbidden(fmt.Sprintf("%s is not among the owners of the endorser %s", actor(opts.Caller), req.Endorser)))
		}
		return s.changeModel(ctx, tx, now, opts, id, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return nil, "", "", errs.E(errs.NotFound, "model %s not found", id)
			}
			if cur.Identity == nil || cur.Identity.Status == api.IdentityRevoked {
				return nil, "", "", errs.E(errs.Conflict, "model %s has no identity to endorse", id)
			}
			ei := endorser.Identity
			if st := ei.StatusAt(now); st != api.IdentityVerified {
				return nil, "", "", proofDenied(opts, now, id, fmt.Sprintf("the endorser %s has no verified identity (it is %s)", req.Endorser, st))
			}
			key, err := identity.ParsePublicKey(ei.KeyType, ei.PublicKey)
			if err != nil {
				return nil, "", "", fmt.Errorf("registry: stored key of %s: %w", req.Endorser, err)
			}
			if err := key.Verify(api.EndorsementMessage(id, cur.Identity.KeyID), req.Signature); err != nil {
				return nil, "", "", proofDenied(opts, now, id, fmt.Sprintf("the endorsement is not signed by %s's key %s over %q: %v",
					req.Endorser, ei.KeyID, api.EndorsementMessage(id, cur.Identity.KeyID), err))
			}
			next := cur.Clone()
			list := slices.DeleteFunc(next.Identity.Endorsements, func(e api.Endorsement) bool { return e.By == req.Endorser })
			if len(list) >= MaxEndorsements {
				return nil, "", "", errs.E(errs.Conflict, "model %s holds the most endorsements there may be (%d)", id, MaxEndorsements)
			}
			next.Identity.Endorsements = append(list, api.Endorsement{By: req.Endorser, KeyID: ei.KeyID, Signature: strings.TrimSpace(req.Signature),
				EndorsedKeyID: cur.Identity.KeyID, At: now, SubmittedBy: actor(opts.Caller)})
			// The submitter acts for the endorser, not for the endorsed
			// model: a model's owners do not choose who vouches for it.
			return next, api.ActionIdentity, fmt.Sprintf("endorsed by %s (key %s)", req.Endorser, ei.KeyID), nil
		}, asEndorser)
	}})
}

// WithdrawEndorsement removes model endorser's endorsement of model id. The
// endorser's owners, governors and admins may withdraw it. A general that no
// longer passes its role's rules is lowered at once.
func (s *Service) WithdrawEndorsement(ctx context.Context, id, endorser string, opts WriteOptions) (*Result, error) {
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		if !isGovernor(opts.Caller) {
			e, err := tx.GetModel(ctx, endorser)
			if err != nil && !errs.Is(err, errs.NotFound) {
				return nil, err
			}
			if !owns(opts.Caller, e) {
				return nil, deny(opts, now, auditAction(api.ActionIdentity), id,
					forbidden(fmt.Sprintf("only the owners of %s, governors and admins may withdraw its endorsement", endorser)))
			}
		}
		return s.changeModel(ctx, tx, now, opts, id, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return nil, "", "", errs.E(errs.NotFound, "model %s not found", id)
			}
			if cur.Identity == nil || !slices.ContainsFunc(cur.Identity.Endorsements, func(e api.Endorsement) bool { return e.By == endorser }) {
				return nil, "", "", errs.E(errs.NotFound, "model %s holds no endorsement by %s", id, endorser)
			}
			next := cur.Clone()
			next.Identity.Endorsements = slices.DeleteFunc(next.Identity.Endorsements, func(e api.Endorsement) bool { return e.By == endorser })
			if len(next.Identity.Endorsements) == 0 {
				next.Identity.Endorsements = nil
			}
			lowered, err := s.lowerUntilCompliant(ctx, tx, next, now)
			if err != nil {
				return nil, "", "", err
			}
			return next, api.ActionIdentity, fmt.Sprintf("endorsement by %s withdrawn", endorser) + lowered, nil
		}, asEndorser)
	}})
}

// asEndorser is a changeModel option for the endorsement writes: their
// caller was authorized as the endorser's owner, not the endorsed model's.
func asEndorser(o *changeOptions) { o.authorized = true }

// lowerUntilCompliant lowers next's role, down the active bundle's
// fallback chain, until it passes the rules of its role. It returns a
// sentence for the write's reason, "" when the role stays.
func (s *Service) lowerUntilCompliant(ctx context.Context, tx store.Reader, next *api.Model, now time.Time) (string, error) {
	prog, err := s.activeProgram(ctx, tx)
	if err != nil {
		return "", err
	}
	from := next.Role()
	if _, err := s.descend(ctx, tx, prog, next, now, anyFailure); err != nil {
		return "", err
	}
	if next.Role() == from {
		return "", nil
	}
	at := now
	g := next.Governance
	g.Reason = fmt.Sprintf("lowered from %s by policy version %d: its identity no longer meets the rules of %s", from, prog.Version(), from)
	g.ClassifiedAt, g.ClassifiedBy = &at, SystemPrincipal
	g.PolicyVersion, g.PolicyHash = prog.Version(), prog.Hash()
	return fmt.Sprintf("; role lowered from %s to %s", from, next.Role()), nil
}

// descend lowers m's role down prog's fallback chain, one role at a time,
// while it breaks rules and mendable says that a lower role may mend them.
// It returns what m broke at the role it started from.
func (s *Service) descend(ctx context.Context, r store.Reader, prog *policy.Program, m *api.Model, now time.Time,
	mendable func(role api.Role, failing []api.RuleResult) bool) ([]api.RuleResult, error) {
	var first []api.RuleResult
	for i := 0; m.Role() != api.RoleNone; i++ {
		failing, err := s.check(ctx, r, prog, m, now, nil)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			first = failing
		}
		if len(failing) == 0 || !mendable(m.Role(), failing) {
			break
		}
		m.Governance.Role = prog.FallbackRole(m.Role())
	}
	return first, nil
}

// anyFailure is descend's mendable that lowers a role for any failure.
func anyFailure(api.Role, []api.RuleResult) bool { return true }

// Facts returns what the rules may read about the registry around m, as
// the write path gives them to the policy.
func (s *Service) Facts(ctx context.Context, m *api.Model, now time.Time) (*policy.Facts, error) {
	return s.facts(ctx, s.store, m, now, nil)
}

// ownersMemo keeps the owners of verified generals while a re-check judges
// every model in one snapshot, so that they are read once, not per general.
// With all set, it reads every verified identity at once, so that the
// endorsers of each general are found in memory rather than read one by one.
type ownersMemo struct {
	all      bool
	owners   []string
	verified map[string]store.VerifiedIdentity
	done     bool
}

// load reads what the memo keeps, once.
func (memo *ownersMemo) load(ctx context.Context, r store.Reader, now time.Time) error {
	if memo.done {
		return nil
	}
	if !memo.all {
		owners, err := r.IdentityOwners(ctx, api.RoleGeneral, now)
		if err != nil {
			return err
		}
		memo.owners, memo.done = owners, true
		return nil
	}
	ids, err := r.VerifiedIdentities(ctx, now)
	if err != nil {
		return err
	}
	memo.verified = make(map[string]store.VerifiedIdentity, len(ids))
	for _, v := range ids {
		memo.verified[v.ModelID] = v
		if v.Role == api.RoleGeneral && v.Owner != "" {
			memo.owners = append(memo.owners, v.Owner)
		}
	}
	slices.Sort(memo.owners)
	memo.owners = slices.Compact(memo.owners)
	memo.done = true
	return nil
}

// facts gathers what the rules may read about the registry around m: the
// models that endorse it, and the owners of verified generals who could.
// Both are read only when they can matter: for a general, or a model with
// endorsements.
func (s *Service) facts(ctx context.Context, r store.Reader, m *api.Model, now time.Time, memo *ownersMemo) (*policy.Facts, error) {
	f := &policy.Facts{}
	if m == nil || (m.Role() != api.RoleGeneral && (m.Identity == nil || len(m.Identity.Endorsements) == 0)) {
		return f, nil
	}
	if memo == nil {
		memo = &ownersMemo{}
	}
	if err := memo.load(ctx, r, now); err != nil {
		return nil, err
	}
	if m.Identity != nil && len(m.Identity.Endorsements) > 0 {
		f.Endorsers = make(map[string]policy.Endorser, len(m.Identity.Endorsements))
		for _, e := range m.Identity.Endorsements {
			if v, ok := memo.verified[e.By]; ok {
				f.Endorsers[e.By] = policy.Endorser{Role: v.Role, IdentityStatus: api.IdentityVerified, KeyID: v.KeyID, Owner: v.Owner}
				continue
			}
			em, err := r.GetModel(ctx, e.By)
			if errs.Is(err, errs.NotFound) {
				continue
			} else if err != nil {
				return nil, err
			}
			en := policy.Endorser{Role: em.Role(), IdentityStatus: em.Identity.StatusAt(now)}
			if em.Identity != nil {
				en.KeyID, en.Owner = em.Identity.KeyID, em.Identity.Owner
			}
			f.Endorsers[e.By] = en
		}
	}
	// The owners of verified generals other than m's own owner (which
	// leaves m out too: its own identity, verified or not, is its owner's).
	n := len(memo.owners)
	if m.Identity != nil {
		if _, found := slices.BinarySearch(memo.owners, m.Identity.Owner); found {
			n--
		}
	}
	f.VerifiedGeneralOwners = int64(n)
	return f, nil
}
