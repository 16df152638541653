package web

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

// Bounds of "Verify the log", which re-reads every entry.
const (
	// VerifyEvery is how often one session may verify the log.
	VerifyEvery = 30 * time.Second
	// verifyTimeout bounds one verification.
	verifyTimeout = 2 * time.Minute
	// maxSavedCheckpoint bounds the checkpoint a user pastes; a real one is
	// a few hundred bytes.
	maxSavedCheckpoint = 4096
)

// auditData is the audit page's.
type auditData struct {
	Model, Action, Outcome, Actor string
	Entries                       []*api.AuditEntry
	Next                          string
	// Checkpoint is the signed checkpoint, or why there is none.
	Checkpoint string
	// Signed says whether the registry signs checkpoints: without a
	// signing key the log cannot be verified.
	Signed bool
	// ProveBase is the link that checks an entry's inclusion proof, the
	// filters kept; the page appends the entry's sequence number.
	ProveBase string
	// Verification is the result of "Verify the log", when it ran.
	Verification *verification
	// Proof is the result of checking one entry's inclusion proof.
	Proof *inclusion
	// Saved is the checkpoint the user sent to verify against, kept.
	Saved string
	// VerifyEvery is how often a session may verify, as the page says.
	VerifyEvery time.Duration
}

// verification is the result of audit.Verify as the page shows it.
type verification struct {
	OK bool
	// Origin names the log, as its checkpoint does.
	Origin string
	// Size is the tree size of the checkpoint verified against.
	Size int64
	// Root is the checkpoint's root hash, base64.
	Root           string
	SignatureValid bool
	// Checked is how many entries, from the first, were found to match.
	Checked int64
	// BadEntry is the first entry found not to match, or -1.
	BadEntry int64
	Problem  string
	// SavedSize is the size of the saved checkpoint checked against, or -1
	// when none was given.
	SavedSize int64
	Took      time.Duration
}

// inclusion is the result of checking one entry's inclusion proof against
// the signed checkpoint.
type inclusion struct {
	Seq, Size int64
	Root      string
	// Hashes is the proof's length.
	Hashes  int
	OK      bool
	Problem string
}

// auditFilters are the audit page's filters, from a query.
type auditFilters struct{ Model, Action, Outcome, Actor string }

func auditFiltersOf(qs url.Values) auditFilters {
	return auditFilters{Model: qs.Get("model"), Action: qs.Get("action"), Outcome: qs.Get("outcome"), Actor: qs.Get("actor")}
}

// values returns the filters that are set, as a query.
func (f auditFilters) values() url.Values {
	q := url.Values{}
	for k, val := range map[string]string{"model": f.Model, "action": f.Action, "outcome": f.Outcome, "actor": f.Actor} {
		if val != "" {
			q.Set(k, val)
		}
	}
	return q
}

func (s *server) audit(w http.ResponseWriter, r *http.Request, v *viewer) error {
	qs := r.URL.Query()
	var proof *inclusion
	if qs.Has("prove") {
		seq, err := strconv.ParseInt(qs.Get("prove"), 10, 64)
		if err != nil || seq < 0 {
			return errs.E(errs.Malformed, "prove=%q is not an entry's sequence number (a whole number, 0 or more)", truncated(qs.Get("prove"), 40))
		}
		if proof, err = s.proveInclusion(r.Context(), seq); err != nil {
			return err
		}
	}
	return s.renderAudit(w, r, http.StatusOK, page{Viewer: v}, auditFiltersOf(qs), qs.Get("page"), auditData{Proof: proof})
}

// renderAudit renders the audit page with the entries f selects, from the
// page token, and what d already holds (a verification, a proof).
func (s *server) renderAudit(w http.ResponseWriter, r *http.Request, status int, p page, f auditFilters, pageToken string, d auditData) error {
	d.Model, d.Action, d.Outcome, d.Actor = f.Model, f.Action, f.Outcome, f.Actor
	d.VerifyEvery = VerifyEvery
	list, err := s.reg.AuditEntries(r.Context(), registry.AuditQuery{Model: d.Model, Action: d.Action, Outcome: d.Outcome,
		Actor: d.Actor, PageSize: 100, PageToken: pageToken})
	if err != nil {
		return err
	}
	d.Entries = list.Items
	if list.NextPageToken != "" {
		next := f.values()
		next.Set("page", list.NextPageToken)
		d.Next = "/audit?" + next.Encode()
	}
	prove := f.values()
	if pageToken != "" {
		prove.Set("page", pageToken)
	}
	prove.Set("prove", "")
	d.ProveBase = "/audit?" + prove.Encode() // ends with "prove="
	switch cp, err := s.reg.AuditCheckpoint(r.Context()); {
	case err == nil:
		d.Checkpoint, d.Signed = string(cp), true
	case errs.Is(err, errs.Unavailable):
		d.Checkpoint = "This registry signs no checkpoints: " + err.Error()
	default:
		return err
	}
	p.Title, p.Data = "Audit log", d
	s.render(w, r, status, "audit.html", p)
	return nil
}

// signedCheckpoint returns the log's checkpoint as the registry signs it
// now, opened with the registry's verifier key.
func (s *server) signedCheckpoint(ctx context.Context) (msg []byte, key string, err error) {
	if key, err = s.reg.AuditKey(); err != nil {
		return nil, "", err
	}
	if msg, err = s.reg.AuditCheckpoint(ctx); err != nil {
		return nil, "", err
	}
	return msg, key, nil
}

// proveInclusion checks that entry seq is in the tree of the signed
// checkpoint: its leaf hashes to the hash stored for it, and the registry's
// inclusion proof leads from that hash to the signed root. It costs one
// entry and a logarithmic proof.
func (s *server) proveInclusion(ctx context.Context, seq int64) (*inclusion, error) {
	msg, key, err := s.signedCheckpoint(ctx)
	if err != nil {
		return nil, err
	}
	in := &inclusion{Seq: seq}
	cp, err := audit.OpenCheckpoint(msg, key)
	if err != nil {
		in.Problem = "the registry's checkpoint does not verify with its own key: " + err.Error()
		return in, nil
	}
	in.Size, in.Root = cp.Size, cp.Root.String()
	if seq >= cp.Size {
		return nil, errs.E(errs.NotFound, "entry %d is not in the log: its signed checkpoint has %d entries", seq, cp.Size)
	}
	e, err := s.reg.AuditEntry(ctx, seq)
	if err != nil {
		return nil, err
	}
	leaf := tlog.RecordHash(e.Leaf)
	if stored, err := audit.DecodeHashes(e.Hash); err != nil || stored[0] != leaf {
		in.Problem = fmt.Sprintf("entry %d was changed: its content does not hash to the leaf hash recorded when it was appended", seq)
		return in, nil
	}
	p, err := s.reg.InclusionProof(ctx, seq, cp.Size)
	if err != nil {
		return nil, err
	}
	proof, err := audit.DecodeHashes(p.Hashes...)
	if err != nil {
		return nil, err
	}
	in.Hashes = len(proof)
	if err := tlog.CheckRecord(proof, cp.Size, cp.Root, seq, leaf); err != nil {
		in.Problem = fmt.Sprintf("entry %d is not the entry the signed checkpoint of size %d includes: %v", seq, cp.Size, err)
		return in, nil
	}
	in.OK = true
	return in, nil
}

// routeAudit registers the audit page's action, "Verify the log" (the page
// itself is registered in New).
func (s *server) routeAudit() {
	vf := &verifier{s: s, every: VerifyEvery, now: s.sessions.now, running: make(chan struct{}, 1), last: map[*session]time.Time{}}
	s.mux.HandleFunc("POST /audit", s.writer(vf.verify))
}

// verifier runs "Verify the log" and bounds its cost: it re-reads every
// entry, so one session may run it once every `every`, and one runs at a
// time in the process.
type verifier struct {
	s       *server
	every   time.Duration
	now     func() time.Time
	running chan struct{}

	mu   sync.Mutex
	last map[*session]time.Time
}

// admit records that sess verifies now, or says when it may again.
func (vf *verifier) admit(sess *session) error {
	now := vf.now()
	vf.mu.Lock()
	defer vf.mu.Unlock()
	for k, at := range vf.last {
		if now.Sub(at) >= vf.every {
			delete(vf.last, k)
		}
	}
	if at, ok := vf.last[sess]; ok {
		wait := max(vf.every-now.Sub(at), time.Second).Round(time.Second)
		return errs.E(errs.RateLimited, "you verified the log %s ago: verifying re-reads the whole log, so a session may do it once every %s; try again in %s",
			now.Sub(at).Round(time.Second), vf.every, wait)
	}
	vf.last[sess] = now
	return nil
}

// verify answers the form of "Verify the log": the same verification as
// `modelgov audit verify`, against the checkpoint the registry signs now
// and, when the user pasted one, a checkpoint saved earlier.
func (vf *verifier) verify(w http.ResponseWriter, r *http.Request, v *viewer) error {
	s := vf.s
	if !v.Has(api.PrincipalRoles()...) {
		return errs.E(errs.Forbidden, "%s has no role that may read the audit log", v.Principal.Name)
	}
	saved := strings.TrimSpace(r.PostFormValue("saved"))
	if saved != "" {
		saved += "\n"
	}
	show := func(status int, p page, d auditData) error {
		p.Viewer = v
		d.Saved = saved
		return s.renderAudit(w, r, status, p, auditFilters{}, "", d)
	}
	if len(saved) > maxSavedCheckpoint {
		err := errs.E(errs.Invalid, "the saved checkpoint is %d bytes: a checkpoint is a few lines, at most %d bytes", len(saved), maxSavedCheckpoint)
		return show(statusOf(err), page{Error: problemOf(err.Error(), err)}, auditData{})
	}
	msg, key, err := s.signedCheckpoint(r.Context())
	if err != nil {
		return err
	}
	if saved != "" {
		if _, err := audit.OpenCheckpoint([]byte(saved), key); err != nil {
			err := errs.E(errs.Invalid, "the saved checkpoint is not a checkpoint signed by this registry's key (%v); paste it whole, as `modelgov audit checkpoint` prints it", err)
			return show(statusOf(err), page{Error: problemOf(err.Error(), err)}, auditData{})
		}
	}
	select {
	case vf.running <- struct{}{}:
		defer func() { <-vf.running }()
	default:
		return errs.E(errs.RateLimited, "another verification of the log is running on this server; try again in a few seconds")
	}
	if err := vf.admit(v.session); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(r.Context(), verifyTimeout)
	defer cancel()
	res := s.runVerify(ctx, msg, key, []byte(saved))
	p := page{}
	if res.OK {
		p.Notice = fmt.Sprintf("The audit log verifies: its %d entries hash to the root of the checkpoint signed by %s.", res.Size, res.Origin)
	} else {
		p.Error = &problem{Message: "the audit log does NOT verify: " + res.Problem}
	}
	return show(http.StatusOK, p, auditData{Verification: res})
}

// runVerify verifies the log against the signed checkpoint msg (and saved,
// when not empty), and says what it found.
func (s *server) runVerify(ctx context.Context, msg []byte, key string, saved []byte) *verification {
	start := time.Now()
	res := &verification{BadEntry: -1, SavedSize: -1}
	cp, err := audit.OpenCheckpoint(msg, key)
	if err != nil {
		res.Problem = "the registry's checkpoint does not verify with its own key: " + err.Error()
		return res
	}
	res.SignatureValid, res.Origin, res.Size, res.Root = true, cp.Origin, cp.Size, cp.Root.String()
	if len(saved) > 0 {
		if old, err := audit.OpenCheckpoint(saved, key); err == nil {
			res.SavedSize = old.Size
		}
	}
	out, err := audit.Verify(ctx, registrySource{s.reg}, msg, key, saved)
	res.Took = time.Since(start).Round(time.Millisecond)
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "web: audit verification could not finish", slog.String("error", err.Error()))
		res.Problem = "the log could not be read to the end (the server logged why); the verification did not finish"
		if ctx.Err() != nil {
			res.Problem = fmt.Sprintf("the verification did not finish within %s", verifyTimeout)
		}
		return res
	}
	res.OK, res.BadEntry, res.Problem = out.OK(), out.BadEntry, out.Problem
	switch {
	case res.OK:
		res.Checked = cp.Size
	case out.BadEntry >= 0:
		res.Checked = min(out.BadEntry, cp.Size)
	default:
		// Every leaf matched its stored hash; the tree they make did not.
		res.Checked = cp.Size
	}
	return res
}

// registrySource is the registry's audit log as audit.Verify reads it,
// through the registry's read methods: the entries, leaf and stored hash,
// as the API serves them, and the proofs.
type registrySource struct{ reg *registry.Service }

// Entries implements audit.Source.
func (rs registrySource) Entries(ctx context.Context, start int64, limit int) ([]audit.ServedEntry, error) {
	list, err := rs.reg.AuditEntries(ctx, registry.AuditQuery{From: start, PageSize: min(limit, registry.MaxPageSize)})
	if err != nil {
		return nil, err
	}
	out := make([]audit.ServedEntry, 0, len(list.Items))
	for _, e := range list.Items {
		h, err := audit.DecodeHashes(e.Hash)
		if err != nil {
			return nil, fmt.Errorf("audit entry %d: %w", e.Seq, err)
		}
		out = append(out, audit.ServedEntry{Seq: e.Seq, Leaf: e.Leaf, Hash: h[0]})
	}
	return out, nil
}

// InclusionProof implements audit.Source.
func (rs registrySource) InclusionProof(ctx context.Context, index, size int64) (tlog.RecordProof, error) {
	p, err := rs.reg.InclusionProof(ctx, index, size)
	if err != nil {
		return nil, err
	}
	return audit.DecodeHashes(p.Hashes...)
}

// ConsistencyProof implements audit.Source.
func (rs registrySource) ConsistencyProof(ctx context.Context, old, size int64) (tlog.TreeProof, error) {
	p, err := rs.reg.ConsistencyProof(ctx, old, size)
	if err != nil {
		return nil, err
	}
	return audit.DecodeHashes(p.Hashes...)
}
