package registry_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/sumdb/tlog"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/audit"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/identity"
	"github.com/hivellm/modelgov/internal/policy"
	"github.com/hivellm/modelgov/internal/registry"
)

// The model ids the random writes aim at: large models, small variants
// (whose names the founding rule keeps out of the generals) and others.
var invariantIDs = []string{
	"meta/llama-3-1-405b", "meta/llama-3-3-70b", "alibaba/qwen-2-5-72b", "openai/gpt-5", "deepseek/deepseek-v3",
	"xai/grok-3", "openai/gpt-5-mini", "openai/gpt-5-nano", "xai/grok-3-mini", "openai/o1-mini",
	"google/gemini-2-0-flash-lite", "microsoft/phi-3-mini", "mistral/mistral-7b-instruct", "minimax/minimax-m1",
	"anthropic/claude-3-5-haiku",
}

var invariantAliases = []string{"hivellm/chair", "hivellm/best-general"}

var sizeRanges = map[api.SizeClass][2]float64{
	api.SizeNano: {1e8, 1e9}, api.SizeMini: {1e9, 4e9}, api.SizeSmall: {4e9, 15e9}, api.SizeMedium: {15e9, 70e9},
	api.SizeLarge: {70e9, 300e9}, api.SizeXL: {300e9, 1e12}, api.SizeXXL: {1e12, 5e12},
}

var sizeClasses = []api.SizeClass{api.SizeNano, api.SizeMini, api.SizeSmall, api.SizeMedium, api.SizeLarge, api.SizeXL, api.SizeXXL}

// smallVariant is the default bundle's small_variant_pattern.
var smallVariant = regexp.MustCompile(`(?i)(?:^|[^a-z0-9])(?:mini|nano|low|lite|tiny|micro)(?:[^a-z0-9]|$)`)

// TestRandomWritesKeepTheInvariants applies random writes by random callers
// and checks, after each, that proposal 035's founding rule holds for every
// stored model, that a refused write changed nothing, that every model's
// history is gap-free, and that the audit log records each write once.
func TestRandomWritesKeepTheInvariants(t *testing.T) {
	steps := 400
	if testing.Short() {
		steps = 100
	}
	generals := 0
	for _, seed := range []uint64{1, 35, 20250907} {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			w := newWorld(t, seed)
			defer func() { generals += w.maxGenerals }()
			outcomes := map[string]int{}
			for step := range steps {
				w.step = step
				op, err := w.randomOp()
				w.checkAfter(op, err)
				name, _, _ := strings.Cut(op, "(")
				outcomes[name+" → "+outcome(err)]++
			}
			if active, err := w.s.ActivePolicy(w.ctx); err != nil || active.Version != w.prog.Version() {
				t.Fatalf("active policy %+v, %v; want version %d", active, err, w.prog.Version())
			}
			w.checkHistories()
			w.checkAuditLog()
			t.Logf("%d steps, %d audit entries, up to %d generals; outcomes %v", steps, len(w.leaves), w.maxGenerals, outcomes)
		})
	}
	if generals == 0 && !testing.Short() {
		// Without a general, the founding rule and the identity rules were
		// never put to the test.
		t.Errorf("no seed made a general: the random writes no longer reach the rules they test")
	}
}

func outcome(err error) string {
	if err == nil {
		return "ok"
	}
	return errs.KindOf(err).String()
}

// world is the test's model of the registry: what it last saw, to compare
// with what each write leaves behind.
type world struct {
	t      *testing.T
	ctx    context.Context
	s      *registry.Service
	clock  *clock
	rng    *rand.Rand
	seed   uint64
	step   int
	strict []byte

	models   map[string]string // model id → JSON of the stored model
	aliases  string            // JSON of every alias
	lastRev  map[string]int64  // model id → newest revision, as the audit log tells
	leaves   [][]byte          // every audit leaf, by sequence number
	hashes   []tlog.Hash       // their record hashes, as served
	modelOps int               // allowed model.* audit entries
	sweptAt  time.Time         // when every model was last checked against the active bundle
	prog     *policy.Program   // the active bundle

	maxGenerals int // the most generals stored at once, to show the test reaches them
	programs    map[int64]*policy.Program

	lastEvent int64 // the newest event seen

	keys    map[string]*identity.PrivateKey // the key each model was last given
	proofOp bool                            // the op answers identity proofs, whose refusals are recorded
}

func newWorld(t *testing.T, seed uint64) *world {
	s, c := newService(t)
	w := &world{t: t, ctx: context.Background(), s: s, clock: c, rng: rand.New(rand.NewPCG(seed, seed^0x035)), seed: seed,
		strict: stricter(t), models: map[string]string{}, lastRev: map[string]int64{}, programs: map[int64]*policy.Program{},
		keys: map[string]*identity.PrivateKey{}}
	w.sweptAt = c.Now()
	w.readAudit() // the bootstrap's entries
	w.lastEvent, _ = s.LastEventSeq(w.ctx)
	w.models, w.aliases, _ = w.snapshot()
	w.prog = w.activeProgram()
	return w
}

func (w *world) fatalf(op, format string, args ...any) {
	w.t.Helper()
	w.t.Fatalf("seed %d, step %d, %s: %s", w.seed, w.step, op, fmt.Sprintf(format, args...))
}

var callers = []registry.WriteOptions{
	{Caller: registry.Caller{Principal: "root", Roles: []string{"admin"}}},
	{Caller: registry.Caller{Principal: "gov", Roles: []string{"governor"}}},
	{Caller: registry.Caller{Principal: "owner", Roles: []string{"maintainer"}}},
	{Caller: registry.Caller{Principal: "owner", Roles: []string{"maintainer", "governor"}}},
	{Caller: registry.Caller{Principal: "reader", Roles: []string{"viewer"}}},
	{Caller: registry.Caller{}},
}

func (w *world) caller() (registry.WriteOptions, string) {
	c := callers[w.rng.IntN(len(callers))]
	name := "none"
	if len(c.Caller.Roles) > 0 {
		name = c.Caller.Roles[0]
	}
	return c, name
}

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// size returns a size class and a parameter count (0 for none), consistent
// with each other about two times out of three.
func (w *world) size() (api.SizeClass, int64) {
	class := pick(w.rng, sizeClasses)
	switch w.rng.IntN(6) {
	case 0, 1:
		return class, 0
	case 2:
		other := sizeRanges[pick(w.rng, sizeClasses)]
		return class, int64(other[0] + w.rng.Float64()*(other[1]-other[0]))
	default:
		r := sizeRanges[class]
		return class, int64(r[0] + w.rng.Float64()*(r[1]-r[0]))
	}
}

func (w *world) doc11(id string) []byte {
	provider, name, _ := strings.Cut(id, "/")
	class, count := w.size()
	m := map[string]any{"schema_version": "1.1", "model_id": id, "provider": provider, "display_name": name, "size_class": class}
	if count > 0 {
		m["parameters"] = map[string]any{"count": count, "source": pick(w.rng, []string{"declared", "declared", "estimated"})}
	}
	if w.rng.IntN(4) == 0 {
		m["notes"] = fmt.Sprint("note ", w.rng.IntN(3))
	}
	b, _ := json.Marshal(m)
	return b
}

// doc10 is a proposal 035 document, which asks for a role and a status.
func (w *world) doc10(id string) []byte {
	provider, name, _ := strings.Cut(id, "/")
	m := map[string]any{"schema_version": "1.0", "model_id": provider + "-" + name, "provider": provider, "display_name": name,
		"role": pick(w.rng, []string{"general", "general", "specialist", "experimental"}), "size_class": pick(w.rng, sizeClasses),
		"capabilities": []string{}, "status": pick(w.rng, []string{"active", "active", "proposed", "deprecated"}),
		"source_files": []string{"gov/guidelines/MODELS_CHECKLIST.md"}, "created_at": "2025-09-07T00:00:00Z"}
	b, _ := json.Marshal(m)
	return b
}

func (w *world) patch() []byte {
	var p map[string]any
	switch w.rng.IntN(7) {
	case 0:
		p = map[string]any{"size_class": pick(w.rng, sizeClasses)}
	case 1:
		class, count := w.size()
		p = map[string]any{"size_class": class, "parameters": map[string]any{"count": count + 1, "source": "declared"}}
	case 2:
		_, count := w.size()
		p = map[string]any{"parameters": map[string]any{"count": count + 1, "source": pick(w.rng, []string{"declared", "estimated"})}}
	case 3:
		p = map[string]any{"parameters": nil}
	case 4:
		p = map[string]any{"display_name": pick(w.rng, []string{"Llama Mini", "GPT-5 nano", "Big Model", "Grok 3"})}
	case 5:
		p = map[string]any{"governance": map[string]any{"role": "general"}}
	default:
		p = map[string]any{"notes": fmt.Sprint("patched ", w.rng.IntN(100))}
	}
	b, _ := json.Marshal(p)
	return b
}

// randomOp applies one random write and says what it was.
func (w *world) randomOp() (string, error) {
	ctx := w.ctx
	id := pick(w.rng, invariantIDs)
	if len(w.models) > 0 && w.rng.IntN(10) < 6 {
		// Mostly a model that exists, so that writes get past not found.
		id = pick(w.rng, slices.Sorted(maps.Keys(w.models)))
	}
	opts, who := w.caller()
	now := w.clock.Now()
	w.proofOp = false
	if w.rng.IntN(3) == 0 {
		return w.identityOp(id, opts, who)
	}
	switch n := w.rng.IntN(100); {
	case n < 14:
		d := w.doc11(id)
		if w.rng.IntN(3) == 0 {
			d = w.doc10(id)
		}
		_, err := w.s.CreateModel(ctx, d, opts)
		return fmt.Sprintf("CreateModel(%s) by %s", d, who), err
	case n < 24:
		d := w.doc11(id)
		if w.rng.IntN(2) == 0 {
			d = w.doc10(id)
		}
		_, err := w.s.ApplyModel(ctx, d, opts)
		return fmt.Sprintf("ApplyModel(%s) by %s", d, who), err
	case n < 38:
		p := w.patch()
		_, err := w.s.PatchModel(ctx, id, p, opts)
		return fmt.Sprintf("PatchModel(%s, %s) by %s", id, p, who), err
	case n < 52:
		ch := api.LifecycleChange{Status: pick(w.rng, []api.Status{api.StatusProposed, api.StatusActive, api.StatusActive,
			api.StatusDeprecated, api.StatusSuspended, api.StatusArchived}), Reason: "random"}
		if ch.Status == api.StatusDeprecated {
			ch.Sunset = now.Add(30 * 24 * time.Hour).Format(time.DateOnly)
		}
		_, err := w.s.ChangeLifecycle(ctx, id, ch, opts)
		return fmt.Sprintf("ChangeLifecycle(%s, %+v) by %s", id, ch, who), err
	case n < 68:
		role := pick(w.rng, []api.Role{api.RoleGeneral, api.RoleGeneral, api.RoleSpecialist, api.RoleExperimental, api.RoleNone})
		if len(w.keys) > 0 && w.rng.IntN(2) == 0 {
			id = pick(w.rng, slices.Sorted(maps.Keys(w.keys))) // a model with a key may pass
		}
		_, err := w.s.Classify(ctx, id, api.Classification{Role: role, Reason: "random vote"}, opts)
		return fmt.Sprintf("Classify(%s, %s) by %s", id, role, who), err
	case n < 76:
		rules := []string{pick(w.rng, w.prog.RuleIDs())}
		if w.rng.IntN(3) == 0 {
			rules = append(rules, pick(w.rng, []string{"general-not-small-variant", "general-size-class", "no-such-rule"}))
		}
		req := api.ExemptionRequest{Rules: rules, Reason: "random exemption", ExpiresAt: now.Add(time.Duration(1+w.rng.IntN(72)) * time.Hour)}
		_, err := w.s.GrantExemption(ctx, id, req, opts)
		return fmt.Sprintf("GrantExemption(%s, %v until %s) by %s", id, rules, req.ExpiresAt.Format(time.RFC3339), who), err
	case n < 82:
		name := pick(w.rng, invariantAliases)
		_, err := w.s.MoveAlias(ctx, name, api.AliasMove{Target: id, Reason: "random"}, opts)
		return fmt.Sprintf("MoveAlias(%s → %s) by %s", name, id, who), err
	case n < 87:
		_, err := w.s.DeleteModel(ctx, id, opts)
		return fmt.Sprintf("DeleteModel(%s) by %s", id, who), err
	case n < 92:
		d := time.Duration(1+w.rng.IntN(60)) * time.Hour
		w.clock.Advance(d)
		return fmt.Sprintf("AdvanceClock(%s)", d), nil
	case n < 94:
		return w.switchPolicy()
	case n < 97:
		_, err := w.s.EnforceDeadlines(ctx)
		return "EnforceDeadlines", err
	default:
		_, err := w.s.Recheck(ctx)
		if err == nil {
			w.sweptAt = w.clock.Now()
		}
		return "Recheck", err
	}
}

// identityOp registers a key for a model, proves it (now and then with the
// wrong key), endorses the model with another's key, or revokes its
// identity: the ways a general comes to hold, and lose, what proposal 036
// asks of it.
func (w *world) identityOp(id string, opts registry.WriteOptions, who string) (string, error) {
	ctx := w.ctx
	w.proofOp = true
	switch n := w.rng.IntN(100); {
	case n < 30:
		key, err := identity.GenerateKey(pick(w.rng, []string{api.KeyEd25519, api.KeyEd25519, api.KeySecp256k1}))
		if err != nil {
			w.t.Fatal(err)
		}
		if old := w.keys[id]; old != nil && w.rng.IntN(4) == 0 {
			key = old // the same key again, or another model's
		} else if w.rng.IntN(10) == 0 {
			for other, k := range w.keys {
				if other != id {
					key = k
					break
				}
			}
		}
		_, err = w.s.RegisterIdentity(ctx, id, api.IdentityRegistration{KeyType: key.Type(), PublicKey: key.Public().Base64()}, opts)
		if err == nil {
			w.keys[id] = key
		}
		return fmt.Sprintf("RegisterIdentity(%s, %s) by %s", id, key.Public().KeyID(), who), err
	case n < 70:
		if len(w.keys) > 0 && w.rng.IntN(4) != 0 {
			id = pick(w.rng, slices.Sorted(maps.Keys(w.keys)))
		}
		ch, err := w.s.Challenge(ctx, id, api.ChallengeRequest{}, opts)
		if err != nil {
			return fmt.Sprintf("Challenge(%s) by %s", id, who), err
		}
		key, forged := w.keys[id], false
		if key == nil || w.rng.IntN(8) == 0 {
			forged = true
			if key, err = identity.GenerateKey(api.KeyEd25519); err != nil {
				w.t.Fatal(err)
			}
		}
		sig, err := key.Sign([]byte(ch.Nonce))
		if err != nil {
			w.t.Fatal(err)
		}
		_, err = w.s.VerifyIdentity(ctx, id, api.ChallengeAnswer{Nonce: ch.Nonce, Signature: sig}, opts)
		if forged && err == nil && w.keys[id] == nil {
			w.fatalf("VerifyIdentity", "%s was verified by a key it never registered", id)
		}
		return fmt.Sprintf("VerifyIdentity(%s, forged %v) by %s", id, forged, who), err
	case n < 92:
		endorser := pick(w.rng, invariantIDs)
		key := w.keys[endorser]
		m, err := w.s.GetModel(ctx, id)
		if key == nil || err != nil || m.Identity == nil {
			return fmt.Sprintf("Endorse(%s by %s) skipped", id, endorser), nil
		}
		sig, err := key.Sign(api.EndorsementMessage(id, m.Identity.KeyID))
		if err != nil {
			w.t.Fatal(err)
		}
		_, err = w.s.Endorse(ctx, id, api.EndorsementRequest{Endorser: endorser, Signature: sig}, opts)
		return fmt.Sprintf("Endorse(%s by %s) by %s", id, endorser, who), err
	default:
		_, err := w.s.RevokeIdentity(ctx, id, "random revocation", opts)
		return fmt.Sprintf("RevokeIdentity(%s) by %s", id, who), err
	}
}

// switchPolicy uploads and activates the stricter bundle, or activates an
// earlier version again.
func (w *world) switchPolicy() (string, error) {
	list, err := w.s.ListPolicies(w.ctx)
	if err != nil {
		return "ListPolicies", err
	}
	active := w.prog.Version()
	version := int64(1)
	op := "ActivatePolicy(1)"
	if active == 1 {
		if len(list.Items) > 1 && w.rng.IntN(2) == 0 {
			version = list.Items[0].Version
			op = fmt.Sprintf("ActivatePolicy(%d) (stricter)", version)
		} else {
			p, err := w.s.UploadPolicy(w.ctx, w.strict, governor)
			if err != nil {
				return "UploadPolicy(stricter)", err
			}
			version = p.Version
			op = fmt.Sprintf("UploadPolicy(stricter) and ActivatePolicy(%d)", version)
		}
	}
	_, err = w.s.ActivatePolicy(w.ctx, version, false, governor)
	w.prog = w.activeProgram()
	if err != nil {
		return op, err
	}
	if w.prog.Version() != version {
		w.fatalf(op, "version %d is active", w.prog.Version())
	}
	w.sweptAt = w.clock.Now()
	return op, nil
}

func (w *world) activeProgram() *policy.Program {
	w.t.Helper()
	p, err := w.s.ActivePolicy(w.ctx)
	if err != nil {
		w.t.Fatalf("ActivePolicy: %v", err)
	}
	if prog, ok := w.programs[p.Version]; ok {
		return prog
	}
	b, err := policy.Parse(p.Bundle)
	if err != nil {
		w.t.Fatalf("parse active bundle %d: %v", p.Version, err)
	}
	prog, err := policy.Compile(b, p.Version)
	if err != nil {
		w.t.Fatalf("compile active bundle %d: %v", p.Version, err)
	}
	w.programs[p.Version] = prog
	return prog
}

// snapshot reads every model and every alias.
func (w *world) snapshot() (map[string]string, string, []*api.Model) {
	w.t.Helper()
	list, err := w.s.ListModels(w.ctx, registry.ListQuery{PageSize: registry.MaxPageSize})
	if err != nil || list.NextPageToken != "" {
		w.t.Fatalf("ListModels: %v (next page %q)", err, list.NextPageToken)
	}
	models := map[string]string{}
	for _, m := range list.Items {
		b, _ := json.Marshal(m)
		models[m.ModelID] = string(b)
	}
	aliases, err := w.s.ListAliases(w.ctx, "", 0, "")
	if err != nil {
		w.t.Fatalf("ListAliases: %v", err)
	}
	b, _ := json.Marshal(aliases)
	return models, string(b), list.Items
}

// readAudit reads the entries appended since the last call, checks that
// they continue the log and that each served hash is its leaf's, and
// returns them.
func (w *world) readAudit() []*api.AuditEntry {
	w.t.Helper()
	var out []*api.AuditEntry
	for {
		page, err := w.s.AuditEntries(w.ctx, registry.AuditQuery{From: int64(len(w.leaves)), PageSize: 100})
		if err != nil {
			w.t.Fatalf("AuditEntries: %v", err)
		}
		for _, e := range page.Items {
			if e.Seq != int64(len(w.leaves)) {
				w.t.Fatalf("audit entry %d follows entry %d", e.Seq, len(w.leaves)-1)
			}
			raw, err := base64.StdEncoding.DecodeString(e.Hash)
			if err != nil || len(raw) != tlog.HashSize {
				w.t.Fatalf("audit entry %d: hash %q", e.Seq, e.Hash)
			}
			if h := tlog.RecordHash(e.Leaf); !bytes.Equal(h[:], raw) {
				w.t.Fatalf("audit entry %d: served hash %s is not its leaf's %s", e.Seq, e.Hash, h)
			}
			w.leaves = append(w.leaves, e.Leaf)
			w.hashes = append(w.hashes, tlog.Hash(raw))
			out = append(out, e)
		}
		if page.NextPageToken == "" {
			return out
		}
	}
}

// checkAfter checks the invariants after one operation that returned err.
func (w *world) checkAfter(op string, err error) {
	w.t.Helper()
	kind := errs.KindOf(err)
	if err != nil && kind == errs.Other {
		w.fatalf(op, "unexpected internal error (kind Other): %v", err)
	}

	// The audit log: one allowed entry per stored revision, in order, and
	// exactly one denied entry per refused decision.
	var denied, allowed int
	var allowedSeqs []int64
	for _, e := range w.readAudit() {
		if e.Outcome == audit.Allowed {
			allowedSeqs = append(allowedSeqs, e.Seq)
		}
		switch e.Outcome {
		case audit.Denied:
			denied++
			if e.Revision != 0 {
				w.fatalf(op, "denied audit entry %d names revision %d", e.Seq, e.Revision)
			}
		case audit.Allowed:
			allowed++
			if !strings.HasPrefix(e.Action, "model.") {
				continue
			}
			w.modelOps++
			if want := w.lastRev[e.Target] + 1; e.Revision != want {
				w.fatalf(op, "audit entry %d: %s of %s at revision %d, want %d", e.Seq, e.Action, e.Target, e.Revision, want)
			}
			w.lastRev[e.Target] = e.Revision
		default:
			w.fatalf(op, "audit entry %d has outcome %q", e.Seq, e.Outcome)
		}
	}
	// The outbox: one event per allowed change, in the same order, none
	// for a refusal.
	var eventSeqs []int64
	for {
		page, err := w.s.ListEvents(w.ctx, registry.EventQuery{After: w.lastEvent, PageSize: 1000})
		if err != nil {
			w.fatalf(op, "ListEvents: %v", err)
		}
		for _, ev := range page.Items {
			if ev.Seq != w.lastEvent+1 {
				w.fatalf(op, "event %d follows event %d: a gap", ev.Seq, w.lastEvent)
			}
			w.lastEvent = ev.Seq
			var data api.EventData
			if err := json.Unmarshal(ev.Data, &data); err != nil {
				w.fatalf(op, "event %d data: %v", ev.Seq, err)
			}
			eventSeqs = append(eventSeqs, data.AuditSeq)
		}
		if page.NextAfter == 0 {
			break
		}
	}
	if !slices.Equal(eventSeqs, allowedSeqs) {
		w.fatalf(op, "events of audit entries %v, want one for each allowed entry %v", eventSeqs, allowedSeqs)
	}

	decided := kind == errs.PolicyDenied || kind == errs.Forbidden
	// A refused identity proof, or a key another model holds, is recorded
	// as a refusal too, without a policy decision.
	proof := w.proofOp && (kind == errs.Invalid || kind == errs.Conflict) && denied == 1
	switch {
	case decided && denied != 1:
		w.fatalf(op, "refused by the policy (%v) with %d denied audit entries, want 1", err, denied)
	case !decided && !proof && denied != 0:
		w.fatalf(op, "returned %v but recorded %d denied audit entries", err, denied)
	case err != nil && allowed != 0 && op != "EnforceDeadlines":
		w.fatalf(op, "failed (%v) but recorded %d allowed audit entries", err, allowed)
	}
	if decided {
		var e *errs.Error
		if !errorsAs(err, &e) || e.Decision == nil || e.Decision.Allowed {
			w.fatalf(op, "a %s error carries no refusing decision: %v", kind, err)
		}
	}

	models, aliases, stored := w.snapshot()
	if err != nil && op != "EnforceDeadlines" {
		// A refused write changed nothing.
		for id := range keys(models, w.models) {
			if models[id] != w.models[id] {
				w.fatalf(op, "failed (%v) but changed %s:\nbefore %s\nafter  %s", err, id, w.models[id], models[id])
			}
		}
		if aliases != w.aliases {
			w.fatalf(op, "failed (%v) but changed the aliases:\nbefore %s\nafter  %s", err, w.aliases, aliases)
		}
	}
	w.models, w.aliases = models, aliases

	generals := 0
	for _, m := range stored {
		if m.Role() == api.RoleGeneral {
			generals++
		}
		if rv := strconv.FormatInt(w.lastRev[m.ModelID], 10); m.ResourceVersion != rv {
			w.fatalf(op, "%s is at resource_version %s, but its last audited revision is %s", m.ModelID, m.ResourceVersion, rv)
		}
		w.checkFoundingRule(op, w.prog, m)
	}
	w.maxGenerals = max(w.maxGenerals, generals)
}

// checkFoundingRule checks that m complies with the active bundle, or is
// marked out of compliance. A model complied when it was last written or
// last re-checked, whichever is later; an exemption that expired since
// then is the periodic re-check's to find.
func (w *world) checkFoundingRule(op string, prog *policy.Program, m *api.Model) {
	w.t.Helper()
	g := m.Governance
	if g == nil || m.UpdatedAt == nil {
		w.fatalf(op, "stored %s has no governance block or updated_at", m.ModelID)
	}
	if g.Compliance != nil && g.Compliance.Status == api.NonCompliant {
		return
	}
	at := w.sweptAt
	if m.UpdatedAt.After(at) {
		at = *m.UpdatedAt
	}
	facts, err := w.s.Facts(w.ctx, m, at)
	if err != nil {
		w.fatalf(op, "facts of %s: %v", m.ModelID, err)
	}
	if failing := prog.Check(m, at, facts); len(failing) > 0 {
		w.fatalf(op, "%s (role %s, size %s, parameters %+v) breaks policy version %d without a non-compliance mark: %s",
			m.ModelID, m.Role(), m.SizeClass, m.Parameters, prog.Version(), ruleList(failing))
	}
	if m.Role() != api.RoleGeneral {
		return
	}
	exempt := func(rule string) bool {
		return slices.ContainsFunc(g.Exemptions, func(e api.Exemption) bool { return slices.Contains(e.Rules, rule) && e.ExpiresAt.After(at) })
	}
	if (smallVariant.MatchString(m.ModelID) || smallVariant.MatchString(m.DisplayName)) && !exempt("general-not-small-variant") {
		w.fatalf(op, "%s (%q) is a small variant and a general", m.ModelID, m.DisplayName)
	}
	if !slices.Contains([]api.SizeClass{api.SizeLarge, api.SizeXL, api.SizeXXL}, m.SizeClass) && !exempt("general-size-class") {
		w.fatalf(op, "%s is a general of size class %q", m.ModelID, m.SizeClass)
	}
}

// keys returns the keys of a and b.
func keys[V1, V2 any](a map[string]V1, b map[string]V2) map[string]bool {
	out := map[string]bool{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

func ruleList(rs []api.RuleResult) string {
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return strings.Join(ids, ", ")
}

// checkHistories checks that every model's history is gap-free, ends at
// the stored document (or a deletion), and that the revisions and the
// allowed model audit entries are as many.
func (w *world) checkHistories() {
	w.t.Helper()
	total := 0
	for id := range keys(w.lastRev, w.models) {
		var revs []*api.Revision
		token := ""
		for {
			page, err := w.s.ListRevisions(w.ctx, id, 7, token)
			if errs.Is(err, errs.NotFound) && token == "" {
				break
			}
			if err != nil {
				w.t.Fatalf("seed %d: ListRevisions(%s): %v", w.seed, id, err)
			}
			revs = append(revs, page.Items...)
			if token = page.NextPageToken; token == "" {
				break
			}
		}
		total += len(revs)
		if int64(len(revs)) != w.lastRev[id] {
			w.t.Fatalf("seed %d: %s has %d revisions, the audit log %d", w.seed, id, len(revs), w.lastRev[id])
		}
		for i, r := range revs { // newest first
			if want := int64(len(revs) - i); r.Revision != want {
				w.t.Fatalf("seed %d: %s: revision %d where %d was expected", w.seed, id, r.Revision, want)
			}
		}
		if len(revs) == 0 {
			continue
		}
		newest := revs[0]
		doc, stored := w.models[id]
		switch {
		case stored:
			b, _ := json.Marshal(newest.Model)
			if string(b) != doc {
				w.t.Fatalf("seed %d: %s: newest revision %d is\n%s\nbut the stored model is\n%s", w.seed, id, newest.Revision, b, doc)
			}
		case newest.Action != api.ActionDelete || newest.Model != nil:
			w.t.Fatalf("seed %d: %s is gone but its newest revision is a %s", w.seed, id, newest.Action)
		}
	}
	if total != w.modelOps {
		w.t.Fatalf("seed %d: %d revisions but %d allowed model audit entries", w.seed, total, w.modelOps)
	}
}

// memHashes is the audit tree's stored hashes, recomputed from the leaves.
type memHashes []tlog.Hash

func (m memHashes) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		if x < 0 || x >= int64(len(m)) {
			return nil, fmt.Errorf("no stored hash %d", x)
		}
		out[i] = m[x]
	}
	return out, nil
}

func decodeProof(t *testing.T, in []string) []tlog.Hash {
	t.Helper()
	out := make([]tlog.Hash, len(in))
	for i, s := range in {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != tlog.HashSize {
			t.Fatalf("proof hash %q", s)
		}
		copy(out[i][:], b)
	}
	return out
}

// checkAuditLog rebuilds the audit tree from the served leaves and checks
// the service's inclusion and consistency proofs against it.
func (w *world) checkAuditLog() {
	w.t.Helper()
	t := w.t
	var tree memHashes
	for i, leaf := range w.leaves {
		hs, err := tlog.StoredHashes(int64(i), leaf, tree)
		if err != nil {
			t.Fatal(err)
		}
		tree = append(tree, hs...)
	}
	n := int64(len(w.leaves))
	root, err := tlog.TreeHash(n, tree)
	if err != nil {
		t.Fatal(err)
	}
	for range 8 {
		i := w.rng.Int64N(n)
		p, err := w.s.InclusionProof(w.ctx, i, n)
		if err != nil {
			t.Fatalf("seed %d: InclusionProof(%d, %d): %v", w.seed, i, n, err)
		}
		if err := tlog.CheckRecord(decodeProof(t, p.Hashes), n, root, i, w.hashes[i]); err != nil {
			t.Fatalf("seed %d: entry %d is not proved in a tree of %d: %v", w.seed, i, n, err)
		}
		old := 1 + w.rng.Int64N(n)
		oldRoot, err := tlog.TreeHash(old, tree)
		if err != nil {
			t.Fatal(err)
		}
		c, err := w.s.ConsistencyProof(w.ctx, old, n)
		if err != nil {
			t.Fatalf("seed %d: ConsistencyProof(%d, %d): %v", w.seed, old, n, err)
		}
		if err := tlog.CheckTree(decodeProof(t, c.Hashes), n, root, old, oldRoot); err != nil {
			t.Fatalf("seed %d: tree of %d is not proved a prefix of the tree of %d: %v", w.seed, old, n, err)
		}
	}
}
