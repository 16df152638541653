package registry

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/store"
)

// SystemPrincipal is the actor of the writes the registry makes on its own:
// installing the default bundle, compliance marks, enforcement.
const SystemPrincipal = "system:modelgov"

// programs caches compiled bundles by version: a bundle version never
// changes, so it is compiled once per process.
type programs struct {
	mu   sync.Mutex
	byV  map[int64]*policy.Program
	dflt *policy.Program
}

// defaultProgram is the built-in default bundle, in force (as version 0)
// until a bundle is activated. Bootstrap stores and activates it.
func (s *Service) defaultProgram() (*policy.Program, error) {
	s.programs.mu.Lock()
	defer s.programs.mu.Unlock()
	if s.programs.dflt != nil {
		return s.programs.dflt, nil
	}
	b, err := policy.Parse(policy.Default())
	if err != nil {
		return nil, fmt.Errorf("registry: default policy bundle: %w", err)
	}
	p, err := policy.Compile(b, 0)
	if err != nil {
		return nil, fmt.Errorf("registry: default policy bundle: %w", err)
	}
	s.programs.dflt = p
	return p, nil
}

// compiled returns the compiled program of a stored policy version.
func (s *Service) compiled(p *api.Policy) (*policy.Program, error) {
	s.programs.mu.Lock()
	prog, ok := s.programs.byV[p.Version]
	s.programs.mu.Unlock()
	if ok && prog.Hash() == p.Hash {
		return prog, nil
	}
	b, err := policy.Parse(p.Bundle)
	if err != nil {
		return nil, fmt.Errorf("registry: stored policy version %d: %w", p.Version, err)
	}
	prog, err = policy.Compile(b, p.Version)
	if err != nil {
		return nil, fmt.Errorf("registry: stored policy version %d: %w", p.Version, err)
	}
	s.programs.mu.Lock()
	if s.programs.byV == nil {
		s.programs.byV = map[int64]*policy.Program{}
	}
	s.programs.byV[p.Version] = prog
	s.programs.mu.Unlock()
	return prog, nil
}

// activeProgram returns the program of the active bundle, as r sees it.
func (s *Service) activeProgram(ctx context.Context, r store.Reader) (*policy.Program, error) {
	p, err := r.ActivePolicy(ctx)
	if errs.Is(err, errs.NotFound) {
		return s.defaultProgram()
	}
	if err != nil {
		return nil, err
	}
	return s.compiled(p)
}

// policyAction names a write for the policy.
var policyAction = map[api.Action]policy.Action{
	api.ActionCreate:    policy.ActionCreate,
	api.ActionUpdate:    policy.ActionUpdate,
	api.ActionPatch:     policy.ActionPatch,
	api.ActionDelete:    policy.ActionDelete,
	api.ActionLifecycle: policy.ActionLifecycle,
	api.ActionClassify:  policy.ActionClassify,
	api.ActionExempt:    policy.ActionExempt,
	api.ActionEnforce:   policy.ActionEnforce,
	api.ActionIdentity:  policy.ActionIdentity,
	api.ActionReview:    policy.ActionReview,
}

// decide asks the active bundle about a write and turns a refusal into an
// error that carries the decision.
func (s *Service) decide(ctx context.Context, tx store.Reader, in *policy.Input) (*policy.Program, *api.Decision, error) {
	prog, err := s.activeProgram(ctx, tx)
	if err != nil {
		return nil, nil, err
	}
	if in.Action == policy.ActionLifecycle {
		n, err := tx.CountModels(ctx, store.ModelQuery{Role: api.RoleGeneral, Status: api.StatusActive})
		if err != nil {
			return nil, nil, err
		}
		in.Facts.ActiveGenerals = n
	}
	f, err := s.facts(ctx, tx, in.Model, in.Now, nil)
	if err != nil {
		return nil, nil, err
	}
	in.Facts.VerifiedGeneralOwners, in.Facts.Endorsers = f.VerifiedGeneralOwners, f.Endorsers
	if in.Facts.Evals, err = s.evalsFor(ctx, tx, prog, in.Model); err != nil {
		return nil, nil, err
	}
	d := prog.Decide(in)
	if d.Allowed {
		return prog, d, nil
	}
	return prog, d, denial(d)
}

// denial is the error of a refused decision: Forbidden when a rule refuses
// the caller, PolicyDenied when rules refuse the model.
func denial(d *api.Decision) error {
	kind := errs.PolicyDenied
	var msgs []string
	for _, r := range d.Failed() {
		if r.Forbidden {
			kind = errs.Forbidden
		}
		msgs = append(msgs, r.ID+": "+r.Message)
	}
	return &errs.Error{Kind: kind, Decision: d,
		Msg: fmt.Sprintf("policy version %d refuses this write (%s)", d.PolicyVersion, strings.Join(msgs, "; "))}
}

func policyCaller(c Caller) policy.Caller {
	return policy.Caller{Principal: actor(c), Roles: c.Roles}
}

// Bootstrap stores and activates the built-in default bundle when no
// bundle was ever activated, so that the rules in force are on record.
func (s *Service) Bootstrap(ctx context.Context) error {
	if _, err := s.store.ActivePolicy(ctx); err == nil {
		return nil
	} else if !errs.Is(err, errs.NotFound) {
		return err
	}
	system := WriteOptions{Caller: systemCaller}
	p, err := s.UploadPolicy(ctx, policy.Default(), system)
	if err != nil {
		return fmt.Errorf("registry: install the default policy: %w", err)
	}
	if _, err := s.ActivatePolicy(ctx, p.Version, false, system); err != nil {
		return fmt.Errorf("registry: activate the default policy: %w", err)
	}
	s.log.Info("installed and activated the default policy bundle", "version", p.Version, "hash", p.Hash)
	return nil
}

// UploadPolicy stores a new policy bundle version (YAML or JSON). A bundle
// that does not parse or compile is refused, with every bad rule named.
func (s *Service) UploadPolicy(ctx context.Context, doc []byte, opts WriteOptions) (*api.Policy, error) {
	b, err := policy.Parse(doc)
	if err != nil {
		return nil, err
	}
	if _, err := policy.Compile(b, 0); err != nil {
		return nil, err
	}
	canonical, err := json.Marshal(b)
	if err != nil {
		return nil, fmt.Errorf("registry: encode policy bundle: %w", err)
	}
	var out *api.Policy
	_, err = s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		if err := requirePolicyManager(opts, now, "policy.upload", "policy/new"); err != nil {
			return nil, err
		}
		list, err := tx.ListPolicies(ctx)
		if err != nil {
			return nil, err
		}
		var next int64 = 1
		if len(list) > 0 {
			next = list[0].Version + 1
		}
		p := &api.Policy{Version: next, Name: b.Name, Description: b.Description, Hash: policy.Hash(b),
			CreatedAt: now, CreatedBy: actor(opts.Caller), Bundle: canonical}
		if err := tx.PutPolicy(ctx, p); err != nil {
			return nil, err
		}
		e := entry(opts, now, "policy.upload", fmt.Sprintf("policy/%d", p.Version))
		e.PolicyVersion, e.PolicyHash, e.Reason = p.Version, p.Hash, p.Name
		if err := s.record(ctx, tx, e); err != nil {
			return nil, err
		}
		out = p
		return &Result{Outcome: Created}, nil
	}})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// requirePolicyManager refuses a policy upload or activation by a caller
// who is neither governor nor admin; the refusal is recorded like any
// refused decision. The rule is the registry's own, not a bundle's: a
// bundle could otherwise lock out its own replacement, or open the way to
// one that has no rules.
func requirePolicyManager(opts WriteOptions, now time.Time, action, target string) error {
	if hasRole(opts.Caller, "governor", "admin") {
		return nil
	}
	const rule = "policy-managers"
	msg := "only governors and admins may upload or activate policy bundles"
	e := entry(opts, now, action, target)
	e.Outcome, e.Failed = audit.Denied, []audit.FailedRule{{ID: rule, Message: msg}}
	return &deniedWrite{err: &errs.Error{Kind: errs.Forbidden, Msg: fmt.Sprintf("%s (%s)", msg, rule)}, entry: e}
}

// GetPolicy returns a stored policy version.
func (s *Service) GetPolicy(ctx context.Context, version int64) (*api.Policy, error) {
	return s.store.GetPolicy(ctx, version)
}

// ListPolicies returns every stored policy version, newest first.
func (s *Service) ListPolicies(ctx context.Context) (*api.PolicyList, error) {
	list, err := s.store.ListPolicies(ctx)
	if err != nil {
		return nil, err
	}
	if list == nil {
		list = []*api.Policy{}
	}
	return &api.PolicyList{Items: list}, nil
}

// ActivePolicy returns the active policy version.
func (s *Service) ActivePolicy(ctx context.Context) (*api.Policy, error) {
	return s.store.ActivePolicy(ctx)
}

// ActivatePolicy makes a stored version the active bundle. Every model is
// checked against it; those that break it are marked non-compliant with a
// grace deadline, those that comply again are cleared, and the compliance
// report is recorded with the activation. With dryRun, nothing is written
// and the report says what activation would find.
func (s *Service) ActivatePolicy(ctx context.Context, version int64, dryRun bool, opts WriteOptions) (*api.Activation, error) {
	if dryRun {
		p, err := s.store.GetPolicy(ctx, version)
		if err != nil {
			return nil, err
		}
		prog, err := s.compiled(p)
		if err != nil {
			return nil, err
		}
		report, err := s.report(ctx, s.store, prog, s.now().UTC())
		if err != nil {
			return nil, err
		}
		return &api.Activation{Policy: p, Report: report, DryRun: true}, nil
	}
	var out *api.Activation
	_, err := s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		if err := requirePolicyManager(opts, now, "policy.activate", fmt.Sprintf("policy/%d", version)); err != nil {
			return nil, err
		}
		p, err := tx.GetPolicy(ctx, version)
		if err != nil {
			return nil, err
		}
		prog, err := s.compiled(p)
		if err != nil {
			return nil, err
		}
		reason := fmt.Sprintf("policy version %d (%s) activated by %s", p.Version, p.Name, actor(opts.Caller))
		report, err := s.recheck(ctx, tx, prog, now, opts, reason)
		if err != nil {
			return nil, err
		}
		if err := tx.ActivatePolicy(ctx, version, now, actor(opts.Caller), report); err != nil {
			return nil, err
		}
		e := entry(opts, now, "policy.activate", fmt.Sprintf("policy/%d", p.Version))
		e.PolicyVersion, e.PolicyHash = p.Version, p.Hash
		e.Reason = fmt.Sprintf("%d of %d models out of compliance", len(report.NonCompliant), report.Checked)
		if err := s.record(ctx, tx, e); err != nil {
			return nil, err
		}
		if p, err = tx.GetPolicy(ctx, version); err != nil {
			return nil, err
		}
		out = &api.Activation{Policy: p, Report: report}
		return &Result{Outcome: Updated}, nil
	}})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// check re-checks a stored model against prog, with the facts around it;
// memo, when not nil, keeps what every check of one snapshot shares.
func (s *Service) check(ctx context.Context, r store.Reader, prog *policy.Program, m *api.Model, now time.Time, memo *ownersMemo) ([]api.RuleResult, error) {
	f, err := s.facts(ctx, r, m, now, memo)
	if err != nil {
		return nil, err
	}
	if f.Evals, err = s.evalsFor(ctx, r, prog, m); err != nil {
		return nil, err
	}
	return prog.Check(m, now, f), nil
}

// report checks every model against prog without writing anything.
func (s *Service) report(ctx context.Context, r store.Reader, prog *policy.Program, now time.Time) (*api.ComplianceReport, error) {
	report := newReport(prog, now)
	memo := &ownersMemo{all: true}
	err := eachModel(ctx, r, store.ModelQuery{}, func(m *api.Model) error {
		return s.checkInto(ctx, r, prog, m, now, memo, report)
	})
	if err != nil {
		return nil, err
	}
	return report, nil
}

// checkInto checks m against prog and adds it to report.
func (s *Service) checkInto(ctx context.Context, r store.Reader, prog *policy.Program, m *api.Model, now time.Time, memo *ownersMemo, report *api.ComplianceReport) error {
	report.Checked++
	failing, err := s.check(ctx, r, prog, m, now, memo)
	if err != nil {
		return err
	}
	if len(failing) > 0 {
		report.NonCompliant = append(report.NonCompliant, api.ModelCompliance{ModelID: m.ModelID, Role: m.Role(), Failing: failing})
	}
	return nil
}

func newReport(prog *policy.Program, now time.Time) *api.ComplianceReport {
	return &api.ComplianceReport{PolicyVersion: prog.Version(), PolicyHash: prog.Hash(), Time: now,
		NonCompliant: []api.ModelCompliance{}}
}

// eachModel calls f for every model q selects, page by page.
func eachModel(ctx context.Context, r store.Reader, q store.ModelQuery, f func(*api.Model) error) error {
	q.Limit = 1000
	for {
		page, err := r.ListModels(ctx, q)
		if err != nil {
			return err
		}
		for _, m := range page {
			if err := f(m); err != nil {
				return err
			}
		}
		if len(page) < q.Limit {
			return nil
		}
		q.After = page[len(page)-1].ModelID
	}
}

// recheck checks every model against prog inside a write transaction and
// records each change of standing as a revision (action compliance). A
// model that was already out of compliance keeps its deadline.
func (s *Service) recheck(ctx context.Context, tx store.Tx, prog *policy.Program, now time.Time, opts WriteOptions, reason string) (*api.ComplianceReport, error) {
	report := newReport(prog, now)
	type change struct{ before, after *api.Model }
	var changed []change
	memo := &ownersMemo{all: true}
	err := eachModel(ctx, tx, store.ModelQuery{}, func(m *api.Model) error {
		report.Checked++
		failing, err := s.check(ctx, tx, prog, m, now, memo)
		if err != nil {
			return err
		}
		var prev *api.Compliance
		if m.Governance != nil {
			prev = m.Governance.Compliance
		}
		if len(failing) == 0 && prev == nil {
			return nil // complies, as before: the common case costs no copy
		}
		next := nextCompliance(prev, failing, prog, now)
		if next != nil {
			report.NonCompliant = append(report.NonCompliant, api.ModelCompliance{ModelID: m.ModelID, Role: m.Role(),
				Failing: failing, Deadline: next.Deadline})
		}
		if jsonOf(prev) == jsonOf(next) {
			return nil
		}
		after := m.Clone()
		if after.Governance == nil {
			after.Governance = &api.Governance{Role: api.RoleNone}
		}
		after.Governance.Compliance = next
		changed = append(changed, change{before: m, after: after})
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Write after reading, so that paging is not disturbed by the writes.
	for _, c := range changed {
		why := reason + ": complies"
		if cm := c.after.Governance.Compliance; cm != nil {
			why = reason + ": breaks " + ruleIDs(cm.Failing)
		}
		if _, err := s.store1(ctx, tx, now, opts, c.after, stored{action: api.ActionCompliance, reason: why, prog: prog, before: c.before}); err != nil {
			return nil, err
		}
	}
	return report, nil
}

// nextCompliance is a model's standing after a check that found failing:
// nil when it complies; out of compliance since now with the bundle's grace
// period, or, when it already was, since then and with its deadline.
func nextCompliance(prev *api.Compliance, failing []api.RuleResult, prog *policy.Program, now time.Time) *api.Compliance {
	switch {
	case len(failing) == 0:
		return nil
	case prev != nil && prev.Status == api.NonCompliant:
		c := *prev
		c.Failing, c.PolicyVersion = failing, prog.Version()
		return &c
	}
	deadline := now.Add(prog.GracePeriod())
	return &api.Compliance{Status: api.NonCompliant, Failing: failing, Since: now, Deadline: &deadline, PolicyVersion: prog.Version()}
}

func ruleIDs(rs []api.RuleResult) string {
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.ID
	}
	return strings.Join(ids, ", ")
}

// Recheck checks every model against the active bundle and records the
// changes of standing (for example after an exemption expired).
func (s *Service) Recheck(ctx context.Context) (*api.ComplianceReport, error) {
	var report *api.ComplianceReport
	opts := WriteOptions{Caller: systemCaller}
	_, err := s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		prog, err := s.activeProgram(ctx, tx)
		if err != nil {
			return nil, err
		}
		report, err = s.recheck(ctx, tx, prog, now, opts, "periodic re-check against the active policy")
		if err != nil {
			return nil, err
		}
		return &Result{Outcome: Updated}, nil
	}})
	return report, err
}

// EnforceDeadlines lowers the role of every non-compliant model whose grace
// period has ended: to the highest fallback role (params.fallback_roles)
// whose rules it passes, or none. It returns how many models it lowered.
func (s *Service) EnforceDeadlines(ctx context.Context) (int, error) {
	due, err := s.store.ListModels(ctx, store.ModelQuery{DeadlineBefore: s.now().UTC(), Limit: 1000})
	if err != nil {
		return 0, err
	}
	lowered := 0
	opts := WriteOptions{Caller: systemCaller}
	for _, m := range due {
		res, err := s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
			cur, err := tx.GetModel(ctx, m.ModelID)
			if errs.Is(err, errs.NotFound) {
				return &Result{Outcome: Unchanged}, nil
			} else if err != nil {
				return nil, err
			}
			c := cur.Governance.Compliance
			if c == nil || c.Deadline == nil || c.Deadline.After(now) {
				return &Result{Outcome: Unchanged, Model: cur}, nil // it complied again meanwhile
			}
			prog, err := s.activeProgram(ctx, tx)
			if err != nil {
				return nil, err
			}
			next := cur.Clone()
			from := next.Role()
			// The grace period ended: at least one role down, then on down
			// to the first whose rules it passes.
			if from != api.RoleNone {
				next.Governance.Role = prog.FallbackRole(from)
				if _, err := s.descend(ctx, tx, prog, next, now, anyFailure); err != nil {
					return nil, err
				}
			}
			at := now
			next.Governance.Reason = fmt.Sprintf("lowered from %s by policy version %d: the grace period for %s ended", from, prog.Version(), ruleIDs(c.Failing))
			next.Governance.ClassifiedAt, next.Governance.ClassifiedBy = &at, SystemPrincipal
			next.Governance.PolicyVersion, next.Governance.PolicyHash = prog.Version(), prog.Hash()
			next.Governance.Compliance = nil
			failing, err := s.check(ctx, tx, prog, next, now, nil)
			if err != nil {
				return nil, err
			}
			if len(failing) > 0 {
				// Lowering the role cannot fix a broken validation rule: the
				// model stays marked, with no deadline left to enforce.
				next.Governance.Compliance = &api.Compliance{Status: api.NonCompliant, Failing: failing, Since: c.Since, PolicyVersion: prog.Version()}
			}
			return s.store1(ctx, tx, now, opts, next, stored{action: api.ActionEnforce, reason: next.Governance.Reason, prog: prog, before: cur})
		}})
		if err != nil {
			return lowered, fmt.Errorf("registry: enforce the deadline of %s: %w", m.ModelID, err)
		}
		if res.Outcome == Updated {
			lowered++
			s.log.Info("lowered the role of a non-compliant model", "model", m.ModelID, "role", res.Model.Role())
		}
	}
	return lowered, nil
}

// Compliance lists the models out of compliance with the active bundle.
func (s *Service) Compliance(ctx context.Context, size int, token string) (*api.ComplianceReport, error) {
	size, err := pageSize(size)
	if err != nil {
		return nil, err
	}
	after, err := decodeCursor(token)
	if err != nil {
		return nil, err
	}
	prog, err := s.activeProgram(ctx, s.store)
	if err != nil {
		return nil, err
	}
	total, err := s.store.CountModels(ctx, store.ModelQuery{})
	if err != nil {
		return nil, err
	}
	items, err := s.store.ListModels(ctx, store.ModelQuery{NonCompliant: true, After: after, Limit: size + 1})
	if err != nil {
		return nil, err
	}
	report := newReport(prog, s.now().UTC())
	report.Checked = int(total)
	if len(items) > size {
		items = items[:size]
		report.NextPageToken = encodeCursor(items[size-1].ModelID)
	}
	for _, m := range items {
		c := m.Governance.Compliance
		since := c.Since
		report.NonCompliant = append(report.NonCompliant, api.ModelCompliance{ModelID: m.ModelID, Role: m.Role(),
			Failing: c.Failing, Since: &since, Deadline: c.Deadline})
	}
	return report, nil
}

// ReportCandidate checks every model against a candidate bundle (YAML or
// JSON) that is not stored, and writes nothing.
func (s *Service) ReportCandidate(ctx context.Context, doc []byte) (*api.ComplianceReport, error) {
	b, err := policy.Parse(doc)
	if err != nil {
		return nil, err
	}
	prog, err := policy.Compile(b, 0)
	if err != nil {
		return nil, err
	}
	return s.report(ctx, s.store, prog, s.now().UTC())
}
