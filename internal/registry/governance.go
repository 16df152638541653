package registry

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/lifecycle"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/store"
)

// checkReason checks the reason a governance act must give: 1 to 4096
// characters, once trimmed.
func checkReason(reason string) *api.FieldError {
	if reason == "" || len(reason) > 4096 {
		return &api.FieldError{Pointer: "/reason", Message: "a reason of 1 to 4096 characters is required"}
	}
	return nil
}

// MaxExemption is the longest an exemption may last.
const MaxExemption = 365 * 24 * time.Hour

// Classify asks for a governance role for model id. The active policy
// decides: the classification rules of the role, the validation rules, and
// who may classify.
func (s *Service) Classify(ctx context.Context, id string, c api.Classification, opts WriteOptions) (*Result, error) {
	var fields []api.FieldError
	if role, ok := api.ParseRole(string(c.Role)); ok {
		c.Role = role
	} else {
		fields = append(fields, api.FieldError{Pointer: "/role", Message: "must be one of none, general, specialist, experimental " +
			"(or the ecosystem's words: generals, collaborator, contributor, rejected)"})
	}
	if r := strings.TrimSpace(c.Reason); r == "" || len(r) > 1024 {
		fields = append(fields, api.FieldError{Pointer: "/reason", Message: "a reason of 1 to 1024 characters is required"})
	}
	if len(fields) > 0 {
		return nil, errs.InvalidFields("invalid classification request", fields)
	}
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		return s.changeModel(ctx, tx, now, opts, id, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return nil, "", "", errs.E(errs.NotFound, "model %s not found", id)
			}
			next := cur.Clone()
			s.classify(next, c.Role, strings.TrimSpace(c.Reason), opts.Caller, now)
			return next, api.ActionClassify, strings.TrimSpace(c.Reason), nil
		})
	}})
}

// GrantExemption releases model id from named rules of the active policy
// until req.ExpiresAt. It is itself a write the policy judges (by default
// only governors may grant exemptions), and is kept in the model's history.
func (s *Service) GrantExemption(ctx context.Context, id string, req api.ExemptionRequest, opts WriteOptions) (*Result, error) {
	var fields []api.FieldError
	if len(req.Rules) == 0 || len(req.Rules) > 64 {
		fields = append(fields, api.FieldError{Pointer: "/rules", Message: "name 1 to 64 rules to exempt the model from"})
	}
	if f := checkReason(strings.TrimSpace(req.Reason)); f != nil {
		fields = append(fields, *f)
	}
	if len(fields) > 0 {
		return nil, errs.InvalidFields("invalid exemption request", fields)
	}
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		if !req.ExpiresAt.After(now) || req.ExpiresAt.Sub(now) > MaxExemption {
			return nil, errs.InvalidFields("invalid exemption request", []api.FieldError{{Pointer: "/expires_at",
				Message: fmt.Sprintf("must be in the future and at most %d days away", int(MaxExemption.Hours()/24))}})
		}
		prog, err := s.activeProgram(ctx, tx)
		if err != nil {
			return nil, err
		}
		known := prog.RuleIDs()
		for i, r := range req.Rules {
			if !slices.Contains(known, r) {
				return nil, errs.InvalidFields("the exemption names a rule the active policy does not have", []api.FieldError{{
					Pointer: fmt.Sprintf("/rules/%d", i), Message: fmt.Sprintf("policy version %d has no rule %q", prog.Version(), r)}})
			}
		}
		return s.changeModel(ctx, tx, now, opts, id, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return nil, "", "", errs.E(errs.NotFound, "model %s not found", id)
			}
			next := cur.Clone()
			ex := api.Exemption{ID: newID(), Rules: slices.Clone(req.Rules), Reason: strings.TrimSpace(req.Reason),
				GrantedBy: actor(opts.Caller), GrantedAt: now, ExpiresAt: req.ExpiresAt.UTC()}
			next.Governance.Exemptions = append(unexpired(next.Governance.Exemptions, now), ex)
			return next, api.ActionExempt, fmt.Sprintf("exempted from %s until %s: %s",
				strings.Join(ex.Rules, ", "), ex.ExpiresAt.Format(time.RFC3339), ex.Reason), nil
		})
	}})
}

// RevokeExemption ends an exemption before it expires.
func (s *Service) RevokeExemption(ctx context.Context, id, exemptionID, reason string, opts WriteOptions) (*Result, error) {
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		return s.changeModel(ctx, tx, now, opts, id, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return nil, "", "", errs.E(errs.NotFound, "model %s not found", id)
			}
			next := cur.Clone()
			i := slices.IndexFunc(next.Governance.Exemptions, func(e api.Exemption) bool { return e.ID == exemptionID })
			if i < 0 {
				return nil, "", "", errs.E(errs.NotFound, "model %s has no exemption %s", id, exemptionID)
			}
			next.Governance.Exemptions = slices.Delete(next.Governance.Exemptions, i, i+1)
			return next, api.ActionExempt, fmt.Sprintf("exemption %s revoked: %s", exemptionID, reason), nil
		})
	}})
}

func unexpired(list []api.Exemption, now time.Time) []api.Exemption {
	var out []api.Exemption
	for _, e := range list {
		if e.ExpiresAt.After(now) {
			out = append(out, e)
		}
	}
	return out
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Evaluate is the policy's dry run: the decision the active bundle (or the
// candidate in req.Bundle) would take on a write, with every rule's
// outcome. Nothing is written.
func (s *Service) Evaluate(ctx context.Context, req api.EvaluationRequest, c Caller) (*api.Decision, error) {
	action := policy.Action(req.Action)
	if !slices.Contains([]policy.Action{policy.ActionCreate, policy.ActionUpdate, policy.ActionPatch,
		policy.ActionLifecycle, policy.ActionClassify}, action) {
		return nil, errs.InvalidFields("unknown action", []api.FieldError{{Pointer: "/action",
			Message: "must be one of model.create, model.update, model.patch, model.lifecycle, model.classify"}})
	}
	if len(req.Model) == 0 {
		return nil, errs.InvalidFields("no model", []api.FieldError{{Pointer: "/model", Message: "the model document to judge is required"}})
	}
	d, err := s.schema.Decode(req.Model)
	if err != nil {
		return nil, err
	}
	prog, err := s.activeProgram(ctx, s.store)
	if err != nil {
		return nil, err
	}
	if req.Bundle != "" {
		b, err := policy.Parse([]byte(req.Bundle))
		if err != nil {
			return nil, err
		}
		if prog, err = policy.Compile(b, 0); err != nil {
			return nil, err
		}
	}
	now := s.now().UTC()
	old, err := s.store.GetModel(ctx, d.Model.ModelID)
	if errs.Is(err, errs.NotFound) {
		old = nil
	} else if err != nil {
		return nil, err
	}
	next := d.Model.Clone()
	if old != nil {
		keep := old.Clone()
		next.Governance, next.Lifecycle, next.Identity, next.CreatedAt = keep.Governance, keep.Lifecycle, keep.Identity, keep.CreatedAt
	} else {
		lc := lifecycle.Initial(now, actor(c))
		next.Lifecycle = &lc
		next.Governance = &api.Governance{Role: api.RoleNone}
	}
	role, status := req.Role, req.Status
	if role == "" {
		role = d.RequestedRole
	}
	if status == "" {
		status = d.RequestedStatus
	}
	if role != "" {
		s.classify(next, role, "dry run", c, now)
	}
	if status != "" && status != next.Status() {
		next.Lifecycle.Status = status
	}
	in := &policy.Input{Action: action, Model: next, Old: old, Caller: policyCaller(c), Now: now}
	if action == policy.ActionLifecycle {
		n, err := s.store.CountModels(ctx, store.ModelQuery{Role: api.RoleGeneral, Status: api.StatusActive})
		if err != nil {
			return nil, err
		}
		in.Facts.ActiveGenerals = n
	}
	f, err := s.facts(ctx, s.store, next, now, nil)
	if err != nil {
		return nil, err
	}
	in.Facts.VerifiedGeneralOwners, in.Facts.Endorsers = f.VerifiedGeneralOwners, f.Endorsers
	if in.Facts.Evals, err = s.evalsFor(ctx, s.store, prog, next); err != nil {
		return nil, err
	}
	return prog.Decide(in), nil
}
