package registry

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/lifecycle"
	"github.com/hivellm/modelgov/internal/mergepatch"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/schema"
	"github.com/hivellm/modelgov/internal/store"
)

// CreateModel registers a new model from a document (JSON or YAML, schema
// 1.1 or proposal 035's 1.0). The model starts as proposed with no role,
// unless a 1.0 document asks for a role and status, which the same write
// then applies through the classification and lifecycle paths.
func (s *Service) CreateModel(ctx context.Context, doc []byte, opts WriteOptions) (*Result, error) {
	d, err := s.schema.Decode(doc)
	if err != nil {
		return nil, err
	}
	w := write{
		opts:        opts,
		idempotency: &idempotency{scope: "create-model " + actor(opts.Caller), hash: hashRequest(doc)},
		do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
			return s.changeModel(ctx, tx, now, opts, d.Model.ModelID, func(cur *api.Model) (*api.Model, api.Action, string, error) {
				if cur != nil {
					return nil, "", "", errs.E(errs.Exists, "model %s already exists; update it with PUT or PATCH", cur.ModelID)
				}
				return s.create(ctx, tx, d, opts.Caller, now)
			})
		},
	}
	return s.commit(ctx, w)
}

// ApplyModel creates the model a document describes, or replaces the
// owner-written fields of the existing one, as `kubectl apply` does. A
// document equal to what is stored changes nothing.
func (s *Service) ApplyModel(ctx context.Context, doc []byte, opts WriteOptions) (*Result, error) {
	d, err := s.schema.Decode(doc)
	if err != nil {
		return nil, err
	}
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		return s.changeModel(ctx, tx, now, opts, d.Model.ModelID, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return s.create(ctx, tx, d, opts.Caller, now)
			}
			return s.replace(ctx, tx, cur, d, opts.Caller, now)
		})
	}})
}

// ReplaceModel replaces the owner-written fields of model id with those of
// a document. The server-owned fields stay as they are.
func (s *Service) ReplaceModel(ctx context.Context, id string, doc []byte, opts WriteOptions) (*Result, error) {
	d, err := s.schema.Decode(doc)
	if err != nil {
		return nil, err
	}
	if d.Model.ModelID != id {
		return nil, errs.InvalidFields("the document names another model", []api.FieldError{{
			Pointer: "/model_id", Message: fmt.Sprintf("is %q but the request is for %q; a model cannot be renamed", d.Model.ModelID, id)}})
	}
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		return s.changeModel(ctx, tx, now, opts, id, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return nil, "", "", errs.E(errs.NotFound, "model %s not found; create it with POST /v1/models", id)
			}
			return s.replace(ctx, tx, cur, d, opts.Caller, now)
		})
	}})
}

// PatchModel applies a JSON Merge Patch (RFC 7396) to model id. The patch
// changes exactly the fields it names; server-owned fields cannot be patched.
func (s *Service) PatchModel(ctx context.Context, id string, patch []byte, opts WriteOptions) (*Result, error) {
	if !isJSONObject(patch) {
		return nil, errs.E(errs.Malformed, "a merge patch must be a JSON object")
	}
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		return s.changeModel(ctx, tx, now, opts, id, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return nil, "", "", errs.E(errs.NotFound, "model %s not found", id)
			}
			before, err := api.Marshal(cur)
			if err != nil {
				return nil, "", "", fmt.Errorf("registry: patch %s: %w", id, err)
			}
			merged, err := mergepatch.Apply(before, patch)
			if err != nil {
				return nil, "", "", errs.Wrap(errs.Malformed, err, "the patch is not valid JSON")
			}
			d, err := s.schema.Decode(merged)
			if err != nil {
				return nil, "", "", err
			}
			if d.SourceVersion != api.SchemaVersion {
				return nil, "", "", errs.InvalidFields("a patch cannot change the schema version", []api.FieldError{{
					Pointer: "/schema_version", Message: "must stay " + api.SchemaVersion}})
			}
			if d.Model.ModelID != id {
				return nil, "", "", errs.InvalidFields("a model cannot be renamed", []api.FieldError{{
					Pointer: "/model_id", Message: "cannot be changed"}})
			}
			if err := checkPatchedServerFields(patch, cur); err != nil {
				return nil, "", "", err
			}
			// The server-owned blocks are the stored ones: a patch can
			// neither change nor remove them.
			next := d.Model
			keep := cur.Clone()
			next.Governance, next.Lifecycle, next.Identity = keep.Governance, keep.Lifecycle, keep.Identity
			next.ResourceVersion, next.CreatedAt, next.UpdatedAt = keep.ResourceVersion, keep.CreatedAt, keep.UpdatedAt
			return next, api.ActionPatch, "", nil
		})
	}})
}

// DeleteModel erases a model that is still proposed. A model that was ever
// approved is archived instead, never erased. Its history stays.
func (s *Service) DeleteModel(ctx context.Context, id string, opts WriteOptions) (*Result, error) {
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		return s.changeModel(ctx, tx, now, opts, id, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return nil, "", "", errs.E(errs.NotFound, "model %s not found", id)
			}
			if st := cur.Status(); st != api.StatusProposed {
				return nil, "", "", &errs.Error{Kind: errs.Conflict,
					Msg:     fmt.Sprintf("model %s is %s: only a proposed model can be deleted; archive it through its lifecycle instead", id, st),
					Allowed: lifecycle.Allowed(*cur.Lifecycle)}
			}
			aliases, err := tx.ListAliases(ctx, id, "", 5)
			if err != nil {
				return nil, "", "", err
			}
			if len(aliases) > 0 {
				return nil, "", "", errs.E(errs.Conflict, "model %s is the target of alias %s; move or delete the alias first", id, aliases[0].Name)
			}
			return nil, api.ActionDelete, "", nil
		})
	}})
}

// ChangeLifecycle moves model id to another lifecycle status.
func (s *Service) ChangeLifecycle(ctx context.Context, id string, ch api.LifecycleChange, opts WriteOptions) (*Result, error) {
	return s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		return s.changeModel(ctx, tx, now, opts, id, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			if cur == nil {
				return nil, "", "", errs.E(errs.NotFound, "model %s not found", id)
			}
			next := cur.Clone()
			if err := s.transition(ctx, tx, next, ch, opts.Caller, now); err != nil {
				return nil, "", "", err
			}
			return next, api.ActionLifecycle, ch.Reason, nil
		})
	}})
}

// changeOptions adjust changeModel.
type changeOptions struct {
	// authorized says the caller was authorized before, on other grounds
	// than the model's ownership (an endorser's owner).
	authorized bool
}

// A modelChange computes the next document from the current one (nil when
// the model does not exist). It returns a nil document to delete the model,
// the action to record and the reason, if the caller gave one.
type modelChange func(cur *api.Model) (next *api.Model, action api.Action, reason string, err error)

// changeModel is the part of the write path that every model write shares:
// precondition, change, validation, policy decision, revision.
func (s *Service) changeModel(ctx context.Context, tx store.Tx, now time.Time, opts WriteOptions, id string, change modelChange, options ...func(*changeOptions)) (*Result, error) {
	var o changeOptions
	for _, f := range options {
		f(&o)
	}
	cur, err := tx.GetModel(ctx, id)
	if errs.Is(err, errs.NotFound) {
		cur = nil
	} else if err != nil {
		return nil, err
	}
	var curVersion string
	if cur != nil {
		curVersion = cur.ResourceVersion
	}
	if err := checkIfMatch(opts.IfMatch, curVersion, "model "+id); err != nil {
		return nil, err
	}
	next, action, reason, err := change(cur)
	if err != nil {
		return nil, err
	}
	if !o.authorized {
		if err := authorizeModel(opts.Caller, action, cur, next); err != nil {
			return nil, deny(opts, now, auditAction(action), id, err)
		}
	}
	if next != nil && cur != nil && sameDocument(cur, next) {
		return &Result{Outcome: Unchanged, Model: cur}, nil
	}
	if next != nil {
		if next.Governance == nil {
			next.Governance = &api.Governance{Role: api.RoleNone}
		}
		if cur != nil && sizeChanged(cur, next) {
			// A governor confirmed the size the model had, not this one.
			next.Governance.SizeConfirmedBy, next.Governance.SizeConfirmedAt = "", nil
		}
		if err := s.schema.Validate(next); err != nil {
			return nil, err
		}
	}

	// The active governance policy judges every write, before anything is stored.
	denial := entry(opts, now, auditAction(action), id)
	denial.Before, denial.After, denial.Reason = audit.DocumentHash(cur), audit.DocumentHash(next), reason
	prog, err := s.decideWrite(ctx, tx, &policy.Input{Action: policyAction[action], Model: next, Old: cur,
		Caller: policyCaller(opts.Caller), Now: now}, denial)
	if err != nil {
		return nil, err
	}

	if next == nil {
		last, err := tx.LastRevision(ctx, id)
		if err != nil {
			return nil, err
		}
		if err := tx.DeleteModel(ctx, id); err != nil {
			return nil, err
		}
		rev := &api.Revision{ModelID: id, Revision: last + 1, Action: action, Actor: actor(opts.Caller),
			Reason: reason, Time: now, RequestID: opts.RequestID}
		if err := tx.AppendRevision(ctx, rev); err != nil {
			return nil, err
		}
		e := entry(opts, now, auditAction(action), id)
		e.Revision, e.Before, e.Reason = rev.Revision, audit.DocumentHash(cur), reason
		stampPolicy(e, prog)
		if err := s.recordChange(ctx, tx, e, cur, nil); err != nil {
			return nil, err
		}
		return &Result{Outcome: Deleted, Model: cur}, nil
	}
	// A write the policy allows leaves the model in compliance.
	next.Governance.Compliance = nil
	if cur == nil || cur.Role() != next.Role() {
		next.Governance.PolicyVersion, next.Governance.PolicyHash = prog.Version(), prog.Hash()
	}
	return s.store1(ctx, tx, now, opts, next, stored{action: action, reason: reason, prog: prog, before: cur})
}

// stored says what a stored model revision records besides the document.
type stored struct {
	action api.Action
	reason string
	// prog is the bundle the write was judged under.
	prog *policy.Program
	// before is the document the write replaces; nil for a creation.
	before *api.Model
}

// store1 stamps the server-owned fields of a model's next document and
// stores it with its revision and its audit entry. Every stored model
// document passes here.
func (s *Service) store1(ctx context.Context, tx store.Tx, now time.Time, opts WriteOptions, next *api.Model, w stored) (*Result, error) {
	action, reason := w.action, w.reason
	last, err := tx.LastRevision(ctx, next.ModelID)
	if err != nil {
		return nil, err
	}
	outcome := Updated
	stamp := now
	if next.CreatedAt == nil {
		outcome = Created
		next.CreatedAt = &stamp
	}
	next.SchemaVersion = api.SchemaVersion
	next.ResourceVersion = strconv.FormatInt(last+1, 10)
	next.UpdatedAt = &stamp
	rev := &api.Revision{ModelID: next.ModelID, Revision: last + 1, Action: action, Actor: actor(opts.Caller),
		Reason: reason, Time: now, RequestID: opts.RequestID, Model: next}
	if err := tx.PutModel(ctx, next); err != nil {
		return nil, err
	}
	if err := tx.AppendRevision(ctx, rev); err != nil {
		return nil, err
	}
	e := entry(opts, now, auditAction(action), next.ModelID)
	e.Revision, e.Before, e.After, e.Reason = rev.Revision, audit.DocumentHash(w.before), audit.DocumentHash(next), reason
	stampPolicy(e, w.prog)
	if err := s.recordChange(ctx, tx, e, w.before, next); err != nil {
		return nil, err
	}
	return &Result{Outcome: outcome, Model: next}, nil
}

func sizeChanged(a, b *api.Model) bool {
	return a.SizeClass != b.SizeClass || jsonOf(a.Parameters) != jsonOf(b.Parameters)
}

// create builds a new model from a decoded document.
func (s *Service) create(ctx context.Context, tx store.Tx, d *schema.Decoded, c Caller, now time.Time) (*api.Model, api.Action, string, error) {
	m := d.Model
	if err := checkServerFields(m, nil); err != nil {
		return nil, "", "", err
	}
	if _, err := tx.GetAlias(ctx, m.ModelID); err == nil {
		return nil, "", "", errs.E(errs.Exists, "%s is an alias; a model cannot take its name", m.ModelID)
	} else if !errs.Is(err, errs.NotFound) {
		return nil, "", "", err
	}
	next := m.Clone()
	if len(next.Owners) == 0 && hasRole(c, api.RoleMaintainer) && !isAdmin(c) {
		// A maintainer's model is its own unless the document says whose.
		next.Owners = []string{actor(c)}
	}
	lc := lifecycle.Initial(now, actor(c))
	next.Lifecycle = &lc
	next.Governance = &api.Governance{Role: api.RoleNone}
	note, err := s.applyRequests(ctx, tx, next, d, c, now)
	if err != nil {
		return nil, "", "", err
	}
	flag, err := s.flagNearDuplicate(ctx, tx, next, now)
	if err != nil {
		return nil, "", "", err
	}
	return next, api.ActionCreate, joinReasons(note, flag), nil
}

// replace builds the next version of cur from a decoded document: the
// owner-written fields from the document, the server-owned ones from cur.
func (s *Service) replace(ctx context.Context, tx store.Tx, cur *api.Model, d *schema.Decoded, c Caller, now time.Time) (*api.Model, api.Action, string, error) {
	if err := checkServerFields(d.Model, cur); err != nil {
		return nil, "", "", err
	}
	next := d.Model.Clone()
	keep := cur.Clone()
	next.Governance, next.Lifecycle, next.Identity = keep.Governance, keep.Lifecycle, keep.Identity
	next.ResourceVersion, next.CreatedAt, next.UpdatedAt = cur.ResourceVersion, cur.CreatedAt, cur.UpdatedAt
	note, err := s.applyRequests(ctx, tx, next, d, c, now)
	if err != nil {
		return nil, "", "", err
	}
	return next, api.ActionUpdate, note, nil
}

// applyRequests applies the role and status that a proposal 035 (1.0)
// document asks for, through the same classification and lifecycle paths as
// any other request. Values equal to the current ones ask for nothing. A
// 1.0 document states a status, not a transition, so the write walks the
// shortest path of allowed transitions to it; a deprecation on the way,
// for which a 1.0 document has no sunset date, is given today's.
//
// A 1.0 document is the ecosystem's legacy record, and its role a request:
// when the active policy refuses the role (a general without a verified
// identity, which no model can have before it exists), the model takes the
// highest role down the bundle's fallback chain whose rules it passes, and
// the note returned, recorded as the write's reason, says which rules kept
// the requested role from it. The role can be asked for again by
// classification once they pass.
func (s *Service) applyRequests(ctx context.Context, tx store.Tx, m *api.Model, d *schema.Decoded, c Caller, now time.Time) (string, error) {
	if st := d.RequestedStatus; st != "" && st != m.Status() {
		path := lifecycle.Path(*m.Lifecycle, st)
		if path == nil {
			return "", &errs.Error{Kind: errs.Conflict, Allowed: lifecycle.Allowed(*m.Lifecycle),
				Msg: fmt.Sprintf("the document asks for status %s, which model %s cannot reach from %s", st, m.ModelID, m.Status())}
		}
		for _, step := range path {
			ch := api.LifecycleChange{Status: step, Reason: fmt.Sprintf("status %s requested by a schema %s document", st, d.SourceVersion)}
			if step == api.StatusDeprecated {
				ch.Sunset = now.UTC().Format(time.DateOnly)
			}
			if err := s.transition(ctx, tx, m, ch, c, now); err != nil {
				return "", err
			}
		}
	}
	r := d.RequestedRole
	if r == "" || r == m.Role() {
		return "", nil
	}
	held := m.Role()
	var kept *api.Governance
	if m.Governance != nil {
		kept = new(api.Governance)
		*kept = *m.Governance
	}
	s.classify(m, r, fmt.Sprintf("role %s requested by a schema %s document", r, d.SourceVersion), c, now)
	prog, err := s.activeProgram(ctx, tx)
	if err != nil {
		return "", err
	}
	// Only a role's own rules can be mended by a lower role; a model that
	// breaks others keeps the role asked for, and the decision refuses it.
	onlyRoles := func(role api.Role, failing []api.RuleResult) bool {
		return len(classificationOnly(failing, role)) == len(failing)
	}
	refused, err := s.descend(ctx, tx, prog, m, now, onlyRoles)
	if err != nil {
		return "", err
	}
	if len(refused) == 0 || !onlyRoles(r, refused) {
		return "", nil
	}
	if m.Role() == held && kept != nil {
		// Refused again the role it was refused before: nothing changes.
		m.Governance = kept
		return "", nil
	}
	note := fmt.Sprintf("role %s requested by a schema %s document not granted (%s); given %s", r, d.SourceVersion, ruleIDs(refused), m.Role())
	m.Governance.Reason = note
	s.log.Info("a legacy document's role was not granted", "model", m.ModelID, "requested", r, "given", m.Role(), "rules", ruleIDs(refused))
	return note, nil
}

// classificationOnly returns the failed rules that are the classification
// rules of role.
func classificationOnly(failing []api.RuleResult, role api.Role) []api.RuleResult {
	var out []api.RuleResult
	for _, f := range failing {
		if f.Section == policy.SectionClassification+"."+string(role) {
			out = append(out, f)
		}
	}
	return out
}

func joinReasons(parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, "; ")
}

// transition applies a lifecycle change to m.
func (s *Service) transition(ctx context.Context, tx store.Tx, m *api.Model, ch api.LifecycleChange, c Caller, now time.Time) error {
	lc, err := lifecycle.Transition(*m.Lifecycle, ch, actor(c), now)
	if err != nil {
		return err
	}
	if ch.Successor != "" {
		succ, err := tx.GetModel(ctx, ch.Successor)
		found := err == nil
		if err != nil && !errs.Is(err, errs.NotFound) {
			return err
		}
		var st api.Status
		if found {
			st = succ.Status()
		}
		if err := lifecycle.CheckSuccessor(m.ModelID, ch.Successor, st, found); err != nil {
			return err
		}
	}
	m.Lifecycle = &lc
	return nil
}

// classify gives m a role. The governance policy decides whether the role
// is allowed when the write is evaluated. A governor (or admin) who
// classifies a model whose parameter count is estimated confirms its size.
func (s *Service) classify(m *api.Model, role api.Role, reason string, c Caller, now time.Time) {
	at := now
	g := m.Governance
	if g == nil {
		g = &api.Governance{}
		m.Governance = g
	}
	g.Role, g.Reason, g.ClassifiedAt, g.ClassifiedBy = role, reason, &at, actor(c)
	if m.Parameters != nil && m.Parameters.Source == api.ParametersEstimated && hasRole(c, "governor", "admin") {
		g.SizeConfirmedBy, g.SizeConfirmedAt = actor(c), &at
	}
}

func hasRole(c Caller, roles ...string) bool {
	for _, have := range c.Roles {
		for _, want := range roles {
			if have == want {
				return true
			}
		}
	}
	return false
}

// checkServerFields refuses a document that tries to change a field the
// server owns. A document may leave those fields out or repeat their stored
// values (so that a document read with GET can be edited and sent back).
func checkServerFields(in, cur *api.Model) error {
	var fields []api.FieldError
	if in.ResourceVersion != "" {
		if cur == nil {
			fields = append(fields, api.FieldError{Pointer: "/resource_version", Message: "is set by the server; leave it out when creating a model"})
		} else if in.ResourceVersion != cur.ResourceVersion {
			return errs.E(errs.PreconditionFailed,
				"model %s has changed: it is at resource_version %s, not %s; read it again and retry", cur.ModelID, cur.ResourceVersion, in.ResourceVersion)
		}
	}
	var curModel api.Model
	if cur != nil {
		curModel = *cur
	}
	check := func(pointer string, got, want any, how string) {
		if reflect.ValueOf(got).IsNil() {
			return
		}
		if cur == nil || !reflect.DeepEqual(jsonOf(got), jsonOf(want)) {
			fields = append(fields, api.FieldError{Pointer: pointer, Message: "is owned by the server and cannot be set; " + how})
		}
	}
	check("/governance", in.Governance, curModel.Governance, serverFieldHow["governance"])
	check("/lifecycle", in.Lifecycle, curModel.Lifecycle, serverFieldHow["lifecycle"])
	check("/identity", in.Identity, curModel.Identity, serverFieldHow["identity"])
	check("/created_at", in.CreatedAt, curModel.CreatedAt, serverFieldHow["created_at"])
	check("/updated_at", in.UpdatedAt, curModel.UpdatedAt, serverFieldHow["updated_at"])
	if len(fields) > 0 {
		return errs.InvalidFields("the document sets fields that only the server may change", fields)
	}
	return nil
}

// serverOwned are the top-level fields of a model document that only the
// server writes.
var serverOwned = []string{"governance", "lifecycle", "identity", "resource_version", "created_at", "updated_at"}

// checkPatchedServerFields refuses a merge patch that names a server-owned
// field, even to remove it (null), unless it repeats the stored value; a
// resource_version that differs is a failed precondition.
func checkPatchedServerFields(patch []byte, cur *api.Model) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(patch, &top); err != nil {
		return errs.Wrap(errs.Malformed, err, "the patch is not a JSON object")
	}
	stored := map[string]any{"governance": cur.Governance, "lifecycle": cur.Lifecycle, "identity": cur.Identity,
		"resource_version": cur.ResourceVersion, "created_at": cur.CreatedAt, "updated_at": cur.UpdatedAt}
	var fields []api.FieldError
	for _, name := range serverOwned {
		raw, ok := top[name]
		if !ok {
			continue
		}
		var named any
		_ = json.Unmarshal(raw, &named)
		var want any
		_ = json.Unmarshal([]byte(jsonOf(stored[name])), &want)
		if reflect.DeepEqual(named, want) {
			continue
		}
		if name == "resource_version" {
			return errs.E(errs.PreconditionFailed,
				"model %s has changed: it is at resource_version %s, not %s; read it again and retry", cur.ModelID, cur.ResourceVersion, raw)
		}
		fields = append(fields, api.FieldError{Pointer: "/" + name, Message: "is owned by the server and cannot be patched or removed; " + serverFieldHow[name]})
	}
	if len(fields) > 0 {
		return errs.InvalidFields("the patch names fields that only the server may change", fields)
	}
	return nil
}

// serverFieldHow says how each server-owned field does change.
var serverFieldHow = map[string]string{
	"governance": "roles change with PUT /v1/models/{provider}/{model}/classification",
	"lifecycle":  "statuses change with PUT /v1/models/{provider}/{model}/lifecycle",
	"identity":   "identities change with PUT /v1/models/{provider}/{model}/identity and its challenge",
	"created_at": "it is the time the model was registered",
	"updated_at": "it is the time of the last change",
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("unmarshalable %T", v)
	}
	return string(b)
}

// sameDocument reports whether two documents say the same thing.
func sameDocument(a, b *api.Model) bool {
	return jsonOf(a) == jsonOf(b)
}

func isJSONObject(b []byte) bool {
	b = bytes.TrimSpace(b)
	return len(b) > 0 && b[0] == '{'
}
