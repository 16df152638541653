package registry

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/store"
)

// MaxImportRecords is the most records one import takes: it is one
// transaction.
const MaxImportRecords = 50_000

// errDryRun rolls a dry run's transaction back once it has done everything.
var errDryRun = errors.New("dry run")

// ImportOptions say how to import.
type ImportOptions struct {
	Source, Format string
	// DryRun reports what the import would do and changes nothing.
	DryRun bool
	// Partial imports the valid records and reports the others; without
	// it, one invalid record and nothing is imported.
	Partial bool
	// Progress, when set, hears how many records are done.
	Progress func(done, total int)
}

// Import brings model documents from elsewhere into the registry, each
// through the write path (schema, policy, revision, audit entry, event),
// all in one transaction: all or nothing unless o.Partial. A record's role,
// when it asks for one, is asked for once the model is stored: refused,
// the record is invalid, or with o.Partial the model takes the highest
// role down the bundle's fallback chain that the policy allows, and the
// record is flagged. An applied import is a batch (imp_...) that
// RollbackImport undoes. The report ends with the compliance report of the
// imported models as the import leaves them. Only admins may import.
func (s *Service) Import(ctx context.Context, recs []api.ImportRecord, o ImportOptions, opts WriteOptions) (*api.ImportReport, error) {
	if !isAdmin(opts.Caller) {
		return nil, forbidden("only admins may import")
	}
	if len(recs) == 0 {
		return nil, errs.E(errs.Invalid, "no records to import")
	}
	if len(recs) > MaxImportRecords {
		return nil, errs.E(errs.Invalid, "%d records: import at most %d at once", len(recs), MaxImportRecords)
	}
	id, err := newImportID()
	if err != nil {
		return nil, err
	}
	var rep *api.ImportReport
	_, err = s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		rep = &api.ImportReport{DryRun: o.DryRun, Items: make([]api.ImportItem, 0, len(recs))}
		prog, err := s.activeProgram(ctx, tx)
		if err != nil {
			return nil, err
		}
		batch := &api.ImportBatch{ID: id, Source: o.Source, Format: o.Format, CreatedAt: now, CreatedBy: actor(opts.Caller)}
		touched := map[string]int{}
		iopts := opts
		iopts.IfMatch, iopts.IdempotencyKey = "", ""
		for i, rec := range recs {
			item, before, after, err := s.importOne(ctx, tx, now, prog, rec, o.Partial, iopts)
			if err != nil {
				return nil, fmt.Errorf("record %d (%s): %w", i, rec.Source, err)
			}
			rep.Items = append(rep.Items, item)
			count(&rep.Totals, item)
			if after > 0 && item.Outcome != api.ImportInvalid {
				if j, ok := touched[item.ModelID]; ok {
					batch.Models[j].After = after
				} else {
					touched[item.ModelID] = len(batch.Models)
					batch.Models = append(batch.Models, api.ImportTouch{ModelID: item.ModelID, Before: before, After: after})
				}
			}
			if o.Progress != nil && (i%100 == 99 || i == len(recs)-1) {
				o.Progress(i+1, len(recs))
			}
		}
		if rep.Compliance, err = s.reportOn(ctx, tx, prog, now, rep.Items); err != nil {
			return nil, err
		}
		if o.DryRun {
			return nil, errDryRun
		}
		if rep.Totals.Invalid > 0 && !o.Partial {
			return nil, errImportRefused
		}
		if len(batch.Models) == 0 {
			return &Result{Outcome: Unchanged}, nil
		}
		batch.Totals = rep.Totals
		if err := tx.PutImport(ctx, batch); err != nil {
			return nil, err
		}
		e := entry(opts, now, "import.apply", "import/"+id)
		format := o.Format
		if format == "" {
			format = "import"
		}
		e.Reason = fmt.Sprintf("%s%s: %d created, %d updated, %d unchanged, %d invalid, %d flagged", format, sourceOf(o.Source),
			rep.Totals.Create, rep.Totals.Update, rep.Totals.Unchanged, rep.Totals.Invalid, rep.Totals.Flagged)
		if err := s.record(ctx, tx, e); err != nil {
			return nil, err
		}
		rep.Batch, rep.Applied = id, true
		return &Result{Outcome: Created}, nil
	}})
	switch {
	case errors.Is(err, errDryRun):
		return rep, nil
	case errors.Is(err, errImportRefused):
		e := errs.E(errs.Invalid, "%d of %d records are invalid (the report says why); nothing was imported: fix them, or import the others with partial",
			rep.Totals.Invalid, len(recs))
		e.Import = rep
		return rep, e
	case err != nil:
		return nil, err
	}
	return rep, nil
}

var errImportRefused = errors.New("import refused")

func sourceOf(src string) string {
	if src == "" {
		return ""
	}
	return " from " + src
}

func count(t *api.ImportTotals, it api.ImportItem) {
	switch it.Outcome {
	case api.ImportCreate:
		t.Create++
	case api.ImportUpdate:
		t.Update++
	case api.ImportUnchanged:
		t.Unchanged++
	case api.ImportInvalid:
		t.Invalid++
	}
	if it.Flagged != "" {
		t.Flagged++
	}
}

func newImportID() (string, error) {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("registry: import id: %w", err)
	}
	return "imp_" + hex.EncodeToString(b[:]), nil
}

// importOne imports one record inside tx. A record the schema or the
// policy refuses is an invalid item, having written nothing; an error is a
// failure of the import itself. It returns the model's revision before and
// after.
func (s *Service) importOne(ctx context.Context, tx store.Tx, now time.Time, prog *policy.Program, rec api.ImportRecord, partial bool, opts WriteOptions) (api.ImportItem, int64, int64, error) {
	item := api.ImportItem{Source: rec.Source, Key: rec.Key, Role: rec.Role, Notes: rec.Notes}
	invalid := func(reasons ...string) (api.ImportItem, int64, int64, error) {
		item.Outcome, item.Reasons = api.ImportInvalid, append(item.Reasons, reasons...)
		return item, 0, 0, nil
	}
	for _, p := range rec.Problems {
		item.Reasons = append(item.Reasons, fieldReason(p))
	}
	noDoc := len(bytes.TrimSpace(rec.Document)) == 0 || string(bytes.TrimSpace(rec.Document)) == "null"
	if noDoc || len(rec.Problems) > 0 {
		if noDoc && len(rec.Problems) == 0 {
			return invalid("the source record maps to no document")
		}
		return invalid()
	}
	d, err := s.schema.Decode(rec.Document)
	if err != nil {
		return invalid(reasonsOf(err)...)
	}
	item.ModelID = d.Model.ModelID
	cur, err := tx.GetModel(ctx, item.ModelID)
	if errs.Is(err, errs.NotFound) {
		cur = nil
	} else if err != nil {
		return item, 0, 0, err
	}
	var before int64
	if cur != nil {
		before, _ = strconv.ParseInt(cur.ResourceVersion, 10, 64)
	}
	res, err := s.changeModel(ctx, tx, now, opts, item.ModelID, func(cur *api.Model) (*api.Model, api.Action, string, error) {
		if cur == nil {
			return s.create(ctx, tx, d, opts.Caller, now)
		}
		return s.replace(ctx, tx, cur, d, opts.Caller, now)
	})
	if err != nil {
		reasons, ok := refusal(err)
		if !ok {
			return item, 0, 0, err
		}
		// A refusal is a decision: on record when the import goes ahead
		// without the record (partial); a refused import records nothing.
		var denied *deniedWrite
		if partial && errors.As(err, &denied) {
			if err := s.record(ctx, tx, denied.entry); err != nil {
				return item, 0, 0, err
			}
		}
		return invalid(reasons...)
	}
	switch res.Outcome {
	case Created:
		item.Outcome = api.ImportCreate
	case Unchanged:
		item.Outcome = api.ImportUnchanged
	default:
		item.Outcome = api.ImportUpdate
		item.Changes = changes(cur, res.Model)
	}
	m := res.Model
	if rec.Role != "" && rec.Role != m.Role() {
		granted, flag, reasons, err := s.importRole(ctx, tx, now, prog, m, rec.Role, partial, opts)
		if err != nil {
			return item, 0, 0, err
		}
		if reasons != nil {
			// The role is refused and the import is not partial: the
			// record is invalid (the whole import rolls back).
			return invalid(reasons...)
		}
		item.Flagged = flag
		if m, err = tx.GetModel(ctx, item.ModelID); err != nil {
			return item, 0, 0, err
		}
		_ = granted
		if item.Outcome == api.ImportUnchanged {
			item.Outcome = api.ImportUpdate
		}
	}
	item.Granted = m.Role()
	after, _ := strconv.ParseInt(m.ResourceVersion, 10, 64)
	if item.Outcome == api.ImportUnchanged {
		after = 0
	}
	return item, before, after, nil
}

// importRole asks for the role a record gives its model. When the policy
// refuses it: without partial, the reasons; with partial, the model takes
// the highest role down the fallback chain that the policy allows, and the
// flag says which rules kept the role from it.
func (s *Service) importRole(ctx context.Context, tx store.Tx, now time.Time, prog *policy.Program, m *api.Model, role api.Role, partial bool, opts WriteOptions) (api.Role, string, []string, error) {
	var first []string
	for try := role; try != api.RoleNone && try != ""; try = prog.FallbackRole(try) {
		if try == m.Role() {
			break // already there
		}
		reason := "import: role " + string(try)
		if try != role {
			reason = fmt.Sprintf("import: role %s, the highest the policy allows of %s asked", try, role)
		}
		_, err := s.changeModel(ctx, tx, now, opts, m.ModelID, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			next := cur.Clone()
			s.classify(next, try, reason, opts.Caller, now)
			return next, api.ActionClassify, reason, nil
		})
		if err == nil {
			if try == role {
				return try, "", nil, nil
			}
			return try, fmt.Sprintf("asked for %s; imported as %s: %s", role, try, strings.Join(first, "; ")), nil, nil
		}
		reasons, ok := refusal(err)
		if !ok {
			return "", "", nil, err
		}
		if first == nil {
			first = reasons
		}
		if !partial {
			return "", "", append([]string{"the policy refuses role " + string(role) + ":"}, reasons...), nil
		}
		// The refusal is a decision: on record, in the import's transaction.
		var denied *deniedWrite
		if errors.As(err, &denied) {
			if err := s.record(ctx, tx, denied.entry); err != nil {
				return "", "", nil, err
			}
		}
	}
	return m.Role(), fmt.Sprintf("asked for %s; imported without a role: %s", role, strings.Join(first, "; ")), nil, nil
}

// refusal turns a refused write (schema, policy, access, precondition)
// into reasons a person reads; ok is false for a failure of the registry.
func refusal(err error) ([]string, bool) {
	var denied *deniedWrite
	if errors.As(err, &denied) {
		var out []string
		for _, f := range denied.entry.Failed {
			out = append(out, f.ID+": "+f.Message)
		}
		if len(out) == 0 {
			out = append(out, denied.err.Error())
		}
		return out, true
	}
	var e *errs.Error
	if errors.As(err, &e) && e.Kind != errs.Other && e.Kind != errs.Unavailable {
		return reasonsOf(err), true
	}
	return nil, false
}

func reasonsOf(err error) []string {
	var e *errs.Error
	if !errors.As(err, &e) || len(e.Fields) == 0 {
		return []string{err.Error()}
	}
	out := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		out[i] = fieldReason(f)
	}
	return out
}

func fieldReason(f api.FieldError) string {
	if f.Pointer == "" {
		return f.Message
	}
	return f.Pointer + ": " + f.Message
}

// changes lists the owner-written fields an update changes, by JSON
// pointer, from the flattened documents.
func changes(before, after *api.Model) []api.FieldChange {
	a, b := flatten(before), flatten(after)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var out []api.FieldChange
	for k := range keys {
		if skip := slices.ContainsFunc(serverOwned, func(p string) bool { return k == "/"+p || strings.HasPrefix(k, "/"+p+"/") }); skip {
			continue
		}
		if !reflect.DeepEqual(a[k], b[k]) {
			out = append(out, api.FieldChange{Path: k, Before: a[k], After: b[k]})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// flatten maps a document's leaves (and empty containers) by JSON pointer.
func flatten(m *api.Model) map[string]any {
	out := map[string]any{}
	if m == nil {
		return out
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return out
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return out
	}
	var walk func(p string, v any)
	walk = func(p string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if len(x) == 0 {
				out[p] = x
			}
			for k, e := range x {
				walk(p+"/"+strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1"), e)
			}
		case []any:
			// Lists change as a whole: capabilities, owners, endpoints.
			out[p] = x
		default:
			out[p] = x
		}
	}
	walk("", v)
	return out
}

// ListImports lists the applied imports, newest first. Only admins may.
func (s *Service) ListImports(ctx context.Context, c Caller) (*api.ImportBatchList, error) {
	if !isAdmin(c) {
		return nil, forbidden("only admins may read imports")
	}
	items, err := s.store.ListImports(ctx)
	if err != nil {
		return nil, err
	}
	return &api.ImportBatchList{Items: items}, nil
}

// GetImport returns an applied import. Only admins may.
func (s *Service) GetImport(ctx context.Context, c Caller, id string) (*api.ImportBatch, error) {
	if !isAdmin(c) {
		return nil, forbidden("only admins may read imports")
	}
	return s.store.GetImport(ctx, id)
}

// RollbackImport undoes an applied import: every model it touched goes back
// to its revision before the import, as new revisions through the write
// path (a model the import created is deleted, if its lifecycle allows,
// else archived). It refuses when a model changed since the import, unless
// force. Only admins may.
func (s *Service) RollbackImport(ctx context.Context, id string, force bool, opts WriteOptions) (*api.ImportBatch, error) {
	var out *api.ImportBatch
	_, err := s.commit(ctx, write{opts: opts, do: func(ctx context.Context, tx store.Tx, now time.Time) (*Result, error) {
		target := "import/" + id
		if !isAdmin(opts.Caller) {
			return nil, deny(opts, now, "import.rollback", target, forbidden("only admins may roll imports back"))
		}
		b, err := tx.GetImport(ctx, id)
		if err != nil {
			return nil, err
		}
		if b.RolledBackAt != nil {
			return nil, errs.E(errs.Conflict, "import %s was rolled back at %s by %s", id, b.RolledBackAt.Format(time.RFC3339), b.RolledBackBy)
		}
		var changed []string
		for _, t := range b.Models {
			cur, err := tx.GetModel(ctx, t.ModelID)
			if err != nil && !errs.Is(err, errs.NotFound) {
				return nil, err
			}
			if cur == nil || cur.ResourceVersion != strconv.FormatInt(t.After, 10) {
				changed = append(changed, t.ModelID)
			}
		}
		if len(changed) > 0 && !force {
			return nil, errs.E(errs.Conflict, "%d models changed since import %s (%s): roll back with force to overwrite those changes",
				len(changed), id, strings.Join(first(changed, 10), ", "))
		}
		ropts := opts
		ropts.IfMatch = ""
		reason := "rollback of import " + id
		for _, t := range b.Models {
			if err := s.restoreModel(ctx, tx, now, t, reason, ropts); err != nil {
				return nil, fmt.Errorf("roll back %s: %w", t.ModelID, err)
			}
		}
		at := now
		b.RolledBackAt, b.RolledBackBy = &at, actor(opts.Caller)
		if err := tx.PutImport(ctx, b); err != nil {
			return nil, err
		}
		e := entry(opts, now, "import.rollback", target)
		e.Reason = fmt.Sprintf("%d models restored to their revisions before the import", len(b.Models))
		if len(changed) > 0 {
			e.Reason += fmt.Sprintf(" (forced over later changes to %s)", strings.Join(first(changed, 10), ", "))
		}
		if err := s.record(ctx, tx, e); err != nil {
			return nil, err
		}
		out = b
		return &Result{Outcome: Updated}, nil
	}})
	return out, err
}

func first(ids []string, n int) []string {
	if len(ids) <= n {
		return ids
	}
	return append(slices.Clone(ids[:n]), fmt.Sprintf("and %d more", len(ids)-n))
}

// restoreModel brings a model back to its revision before an import: the
// owner-written fields and the role of that revision, or, for a model the
// import created, its deletion (archival when its lifecycle forbids it).
func (s *Service) restoreModel(ctx context.Context, tx store.Tx, now time.Time, t api.ImportTouch, reason string, opts WriteOptions) error {
	cur, err := tx.GetModel(ctx, t.ModelID)
	if errs.Is(err, errs.NotFound) {
		return nil // deleted since: nothing to undo
	}
	if err != nil {
		return err
	}
	if t.Before == 0 {
		_, err := s.changeModel(ctx, tx, now, opts, t.ModelID, func(cur *api.Model) (*api.Model, api.Action, string, error) {
			return nil, api.ActionDelete, reason, nil
		})
		if err == nil {
			return nil
		}
		if _, ok := refusal(err); !ok {
			return err
		}
		// Not deletable any more (no longer proposed): archived instead.
		return s.setStatus(ctx, tx, now, cur, api.StatusArchived, reason, opts)
	}
	rev, err := tx.GetRevision(ctx, t.ModelID, t.Before)
	if err != nil {
		return err
	}
	old := rev.Model
	_, err = s.changeModel(ctx, tx, now, opts, t.ModelID, func(cur *api.Model) (*api.Model, api.Action, string, error) {
		next := old.Clone()
		keep := cur.Clone()
		next.Lifecycle, next.Identity = keep.Lifecycle, keep.Identity
		next.Governance = keep.Governance
		if next.Governance != nil && old.Governance != nil {
			next.Governance.Role = old.Governance.Role
		}
		next.ResourceVersion, next.CreatedAt, next.UpdatedAt = cur.ResourceVersion, cur.CreatedAt, cur.UpdatedAt
		return next, api.ActionUpdate, reason, nil
	})
	// A refusal (the policy, the access rules) ends the rollback as it is,
	// with its decision; commit records it.
	return err
}

// setStatus moves a model's lifecycle inside tx, by the lifecycle's rules.
func (s *Service) setStatus(ctx context.Context, tx store.Tx, now time.Time, cur *api.Model, status api.Status, reason string, opts WriteOptions) error {
	_, err := s.changeModel(ctx, tx, now, opts, cur.ModelID, func(cur *api.Model) (*api.Model, api.Action, string, error) {
		next := cur.Clone()
		if err := s.transition(ctx, tx, next, api.LifecycleChange{Status: status, Reason: reason}, opts.Caller, now); err != nil {
			return nil, "", "", err
		}
		return next, api.ActionLifecycle, reason, nil
	})
	return err
}

// Backup emits every record of the registry, read from one consistent
// snapshot, for a backup (store.NewSnapshotWriter writes them). Only admins
// may: a backup holds the webhook secrets and the tokens' hashes.
func (s *Service) Backup(ctx context.Context, c Caller, emit func(*store.Record) error) error {
	if !isAdmin(c) {
		return forbidden("only admins may back the registry up")
	}
	return s.store.Export(ctx, emit)
}

// reportOn checks the models an import stored against prog: the compliance
// report of its result, at the cost of the import, not of the registry.
func (s *Service) reportOn(ctx context.Context, r store.Reader, prog *policy.Program, now time.Time, items []api.ImportItem) (*api.ComplianceReport, error) {
	report := newReport(prog, now)
	memo := &ownersMemo{all: true}
	seen := map[string]bool{}
	for _, it := range items {
		if it.ModelID == "" || it.Outcome == api.ImportInvalid || seen[it.ModelID] {
			continue
		}
		seen[it.ModelID] = true
		m, err := r.GetModel(ctx, it.ModelID)
		if err != nil {
			return nil, err
		}
		if err := s.checkInto(ctx, r, prog, m, now, memo, report); err != nil {
			return nil, err
		}
	}
	return report, nil
}
