package lifecycle

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/errs"
)

const (
	proposed   = api.StatusProposed
	active     = api.StatusActive
	deprecated = api.StatusDeprecated
	suspended  = api.StatusSuspended
	archived   = api.StatusArchived
)

// now is 01:30 on June 1st in Paris, still May 31st in UTC, so that tests
// see which date the sunset is compared with.
var now = time.Date(2025, 6, 1, 1, 30, 0, 0, time.FixedZone("CEST", 2*60*60))

const (
	todayUTC     = "2025-05-31"
	yesterdayUTC = "2025-05-30"
	later        = "2025-12-31"
)

var earlier = time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)

// current is a lifecycle block as the server would hold it.
func current(status, suspendedFrom api.Status) api.Lifecycle {
	cur := api.Lifecycle{Status: status, Since: earlier, Reason: "earlier", ChangedBy: "someone"}
	switch status {
	case deprecated:
		cur.Sunset, cur.Successor = later, "acme/next"
	case suspended:
		cur.SuspendedFrom = suspendedFrom
	}
	return cur
}

// change is a valid change to target.
func change(target api.Status) api.LifecycleChange {
	ch := api.LifecycleChange{Status: target, Reason: "because"}
	if target == deprecated {
		ch.Sunset = later
	}
	return ch
}

func TestInitial(t *testing.T) {
	got := Initial(now, "alice")
	want := api.Lifecycle{Status: proposed, Since: now.UTC(), Reason: "registered", ChangedBy: "alice"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Initial(%v, alice) = %+v, want %+v", now, got, want)
	}
	if got.Since.Location() != time.UTC {
		t.Errorf("Initial(%v, alice).Since is in %v, want UTC", now, got.Since.Location())
	}
}

// transitions is the state machine, written out as the specification: from
// every current state, the statuses it may move to in Allowed's order.
var transitions = []struct {
	name    string
	cur     api.Lifecycle
	allowed []api.Status
}{
	{name: "proposed", cur: current(proposed, ""), allowed: []api.Status{active, archived}},
	{name: "active", cur: current(active, ""), allowed: []api.Status{deprecated, suspended}},
	{name: "deprecated", cur: current(deprecated, ""), allowed: []api.Status{active, suspended, archived}},
	{name: "suspended from active", cur: current(suspended, active), allowed: []api.Status{active, archived}},
	{name: "suspended from deprecated", cur: current(suspended, deprecated), allowed: []api.Status{deprecated, archived}},
	{name: "archived", cur: current(archived, ""), allowed: nil},
}

func TestAllowed(t *testing.T) {
	for _, tt := range transitions {
		if got := Allowed(tt.cur); !reflect.DeepEqual(got, tt.allowed) {
			t.Errorf("Allowed(%s) = %q, want %q", tt.name, got, tt.allowed)
		}
	}
	others := []struct {
		name string
		cur  api.Lifecycle
		want []api.Status
	}{
		// The server always records SuspendedFrom; without it, resume to active.
		{name: "suspended from nothing", cur: current(suspended, ""), want: []api.Status{active, archived}},
		{name: "suspended from proposed", cur: current(suspended, proposed), want: []api.Status{active, archived}},
		{name: "no status", cur: api.Lifecycle{}, want: nil},
		{name: "unknown status", cur: api.Lifecycle{Status: "retired"}, want: nil},
	}
	for _, tt := range others {
		if got := Allowed(tt.cur); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Allowed(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestAllowedReturnsNewSlice(t *testing.T) {
	cur := current(proposed, "")
	Allowed(cur)[0] = archived
	if got := Allowed(cur); got[0] != active {
		t.Errorf("Allowed(proposed) = %q after a caller changed an earlier result, want it unchanged", got)
	}
}

// TestTransitionEveryPair tries every target from every current state:
// exactly the allowed ones succeed, the others are conflicts that list
// what is allowed.
func TestTransitionEveryPair(t *testing.T) {
	for _, tt := range transitions {
		for _, target := range []api.Status{proposed, active, deprecated, suspended, archived} {
			ch := change(target)
			got, err := Transition(tt.cur, ch, "bob", now)
			if contains(tt.allowed, target) {
				if err != nil {
					t.Errorf("Transition(%s → %s) error = %v, want nil", tt.name, target, err)
				} else if got.Status != target {
					t.Errorf("Transition(%s → %s).Status = %q, want %q", tt.name, target, got.Status, target)
				}
				continue
			}
			var e *errs.Error
			if !errors.As(err, &e) {
				t.Errorf("Transition(%s → %s) = %+v, %v; want an *errs.Error", tt.name, target, got, err)
				continue
			}
			if e.Kind != errs.Conflict {
				t.Errorf("Transition(%s → %s) error kind = %v, want %v (%v)", tt.name, target, e.Kind, errs.Conflict, err)
			}
			if !reflect.DeepEqual(e.Allowed, tt.allowed) {
				t.Errorf("Transition(%s → %s) error Allowed = %q, want %q", tt.name, target, e.Allowed, tt.allowed)
			}
			wantMsg := "cannot go from " + string(tt.cur.Status) + " to " + string(target)
			if target == tt.cur.Status {
				wantMsg = "model is already " + string(target)
			}
			if !strings.Contains(err.Error(), wantMsg) {
				t.Errorf("Transition(%s → %s) error = %q, want it to contain %q", tt.name, target, err, wantMsg)
			}
			if !reflect.DeepEqual(got, api.Lifecycle{}) {
				t.Errorf("Transition(%s → %s) = %+v with an error, want the zero block", tt.name, target, got)
			}
		}
	}
}

func TestTransitionConflictMessages(t *testing.T) {
	tests := []struct {
		cur    api.Lifecycle
		target api.Status
		want   string
	}{
		{cur: current(archived, ""), target: active, want: "cannot go from archived to active: archived is final"},
		{cur: current(proposed, ""), target: deprecated, want: "cannot go from proposed to deprecated; allowed: active, archived"},
		{cur: current(active, ""), target: archived, want: "cannot go from active to archived; allowed: deprecated, suspended"},
		{cur: current(active, ""), target: active, want: "model is already active"},
		{
			cur:    current(suspended, active),
			target: deprecated,
			want:   "cannot go from suspended to deprecated: the model was suspended from active; allowed: active, archived",
		},
		{
			cur:    api.Lifecycle{Status: "retired"},
			target: active,
			want:   `the model's lifecycle status "retired" is unknown; no transition is possible`,
		},
		{cur: api.Lifecycle{}, target: active, want: "the model has no lifecycle status; no transition is possible"},
	}
	for _, tt := range tests {
		_, err := Transition(tt.cur, change(tt.target), "bob", now)
		if err == nil || err.Error() != tt.want || errs.KindOf(err) != errs.Conflict {
			t.Errorf("Transition(%s → %s) error = %v (kind %v), want %q (kind %v)",
				tt.cur.Status, tt.target, err, errs.KindOf(err), tt.want, errs.Conflict)
		}
	}
}

func TestTransitionInvalidChange(t *testing.T) {
	tests := []struct {
		name string
		cur  api.Lifecycle
		ch   api.LifecycleChange
		want []api.FieldError
	}{
		{
			name: "no reason",
			cur:  current(proposed, ""),
			ch:   api.LifecycleChange{Status: active},
			want: []api.FieldError{{Pointer: "/reason", Message: "a reason is required"}},
		},
		{
			name: "blank reason",
			cur:  current(proposed, ""),
			ch:   api.LifecycleChange{Status: active, Reason: " \t\n "},
			want: []api.FieldError{{Pointer: "/reason", Message: "a reason is required"}},
		},
		{
			name: "reason too long",
			cur:  current(proposed, ""),
			ch:   api.LifecycleChange{Status: active, Reason: strings.Repeat("é", 1025)},
			want: []api.FieldError{{Pointer: "/reason", Message: "the reason is 1025 characters long; at most 1024 are allowed"}},
		},
		{
			name: "no status",
			cur:  current(proposed, ""),
			ch:   api.LifecycleChange{Reason: "r"},
			want: []api.FieldError{{Pointer: "/status", Message: "a target status is required"}},
		},
		{
			name: "unknown status",
			cur:  current(proposed, ""),
			ch:   api.LifecycleChange{Status: "retired", Reason: "r", Sunset: "whenever"},
			want: []api.FieldError{{
				Pointer: "/status",
				Message: `unknown status "retired"; the statuses are proposed, active, deprecated, suspended, archived`,
			}},
		},
		{
			name: "status in the wrong case",
			cur:  current(proposed, ""),
			ch:   api.LifecycleChange{Status: "Active", Reason: "r"},
			want: []api.FieldError{{
				Pointer: "/status",
				Message: `unknown status "Active"; the statuses are proposed, active, deprecated, suspended, archived`,
			}},
		},
		{
			name: "deprecation without sunset",
			cur:  current(active, ""),
			ch:   api.LifecycleChange{Status: deprecated, Reason: "r"},
			want: []api.FieldError{{Pointer: "/sunset", Message: "a sunset date (YYYY-MM-DD) is required when deprecating"}},
		},
		{
			name: "sunset with slashes",
			cur:  current(active, ""),
			ch:   api.LifecycleChange{Status: deprecated, Reason: "r", Sunset: "2025/12/31"},
			want: []api.FieldError{{Pointer: "/sunset", Message: `"2025/12/31" is not a date of the form YYYY-MM-DD`}},
		},
		{
			name: "sunset without leading zeros",
			cur:  current(active, ""),
			ch:   api.LifecycleChange{Status: deprecated, Reason: "r", Sunset: "2025-7-1"},
			want: []api.FieldError{{Pointer: "/sunset", Message: `"2025-7-1" is not a date of the form YYYY-MM-DD`}},
		},
		{
			name: "sunset that is no day",
			cur:  current(active, ""),
			ch:   api.LifecycleChange{Status: deprecated, Reason: "r", Sunset: "2025-02-29"},
			want: []api.FieldError{{Pointer: "/sunset", Message: `"2025-02-29" is not a date of the form YYYY-MM-DD`}},
		},
		{
			name: "sunset with a time",
			cur:  current(active, ""),
			ch:   api.LifecycleChange{Status: deprecated, Reason: "r", Sunset: "2025-12-31T00:00:00Z"},
			want: []api.FieldError{{Pointer: "/sunset", Message: `"2025-12-31T00:00:00Z" is not a date of the form YYYY-MM-DD`}},
		},
		{
			name: "sunset with spaces",
			cur:  current(active, ""),
			ch:   api.LifecycleChange{Status: deprecated, Reason: "r", Sunset: " 2025-12-31"},
			want: []api.FieldError{{Pointer: "/sunset", Message: `" 2025-12-31" is not a date of the form YYYY-MM-DD`}},
		},
		{
			name: "sunset in the past",
			cur:  current(active, ""),
			ch:   api.LifecycleChange{Status: deprecated, Reason: "r", Sunset: yesterdayUTC},
			want: []api.FieldError{{
				Pointer: "/sunset",
				Message: "the sunset date 2025-05-30 is in the past; it must be 2025-05-31 (today, UTC) or later",
			}},
		},
		{
			name: "sunset when activating",
			cur:  current(proposed, ""),
			ch:   api.LifecycleChange{Status: active, Reason: "r", Sunset: later},
			want: []api.FieldError{{Pointer: "/sunset", Message: "a sunset date is only allowed when deprecating, not when the target is active"}},
		},
		{
			name: "successor when suspending",
			cur:  current(active, ""),
			ch:   api.LifecycleChange{Status: suspended, Reason: "r", Successor: "acme/next"},
			want: []api.FieldError{{Pointer: "/successor", Message: "a successor is only allowed when deprecating, not when the target is suspended"}},
		},
		{
			name: "every problem at once",
			cur:  current(active, ""),
			ch:   api.LifecycleChange{Status: archived, Sunset: later, Successor: "acme/next"},
			want: []api.FieldError{
				{Pointer: "/reason", Message: "a reason is required"},
				{Pointer: "/sunset", Message: "a sunset date is only allowed when deprecating, not when the target is archived"},
				{Pointer: "/successor", Message: "a successor is only allowed when deprecating, not when the target is archived"},
			},
		},
		{
			// The change is checked before the state: fixing it is needed anyway.
			name: "bad change to an archived model",
			cur:  current(archived, ""),
			ch:   api.LifecycleChange{Status: deprecated, Reason: "r"},
			want: []api.FieldError{{Pointer: "/sunset", Message: "a sunset date (YYYY-MM-DD) is required when deprecating"}},
		},
	}
	for _, tt := range tests {
		got, err := Transition(tt.cur, tt.ch, "bob", now)
		var e *errs.Error
		if !errors.As(err, &e) {
			t.Errorf("%s: Transition(%s, %+v) = %+v, %v; want an *errs.Error", tt.name, tt.cur.Status, tt.ch, got, err)
			continue
		}
		if e.Kind != errs.Invalid {
			t.Errorf("%s: Transition(%s, %+v) error kind = %v, want %v (%v)", tt.name, tt.cur.Status, tt.ch, e.Kind, errs.Invalid, err)
		}
		if !reflect.DeepEqual(e.Fields, tt.want) {
			t.Errorf("%s: Transition(%s, %+v) error fields = %+v, want %+v", tt.name, tt.cur.Status, tt.ch, e.Fields, tt.want)
		}
		for _, f := range tt.want {
			if !strings.Contains(err.Error(), f.Message) {
				t.Errorf("%s: Transition(%s, %+v) error = %q, want it to say %q", tt.name, tt.cur.Status, tt.ch, err, f.Message)
			}
		}
	}
}

func TestTransitionAcceptsEdgeValues(t *testing.T) {
	tests := []struct {
		name string
		cur  api.Lifecycle
		ch   api.LifecycleChange
	}{
		{name: "reason of 1024 characters", cur: current(proposed, ""), ch: api.LifecycleChange{Status: active, Reason: strings.Repeat("é", 1024)}},
		{name: "reason padded to over 1024", cur: current(proposed, ""), ch: api.LifecycleChange{Status: active, Reason: " " + strings.Repeat("x", 1024) + "\n"}},
		{name: "sunset today in UTC", cur: current(active, ""), ch: api.LifecycleChange{Status: deprecated, Reason: "r", Sunset: todayUTC}},
		{name: "sunset on a leap day", cur: current(active, ""), ch: api.LifecycleChange{Status: deprecated, Reason: "r", Sunset: "2028-02-29"}},
	}
	for _, tt := range tests {
		if _, err := Transition(tt.cur, tt.ch, "bob", now); err != nil {
			t.Errorf("%s: Transition(%s, %+v) error = %v, want nil", tt.name, tt.cur.Status, tt.ch, err)
		}
	}
}

func TestTransitionResult(t *testing.T) {
	tests := []struct {
		name string
		cur  api.Lifecycle
		ch   api.LifecycleChange
		want api.Lifecycle
	}{
		{
			name: "approve",
			cur:  Initial(earlier, "alice"),
			ch:   api.LifecycleChange{Status: active, Reason: "  approved by the council \n"},
			want: api.Lifecycle{Status: active, Since: now.UTC(), Reason: "approved by the council", ChangedBy: "bob"},
		},
		{
			name: "deprecate",
			cur:  current(active, ""),
			ch:   api.LifecycleChange{Status: deprecated, Reason: "superseded", Sunset: later, Successor: "acme/next"},
			want: api.Lifecycle{
				Status: deprecated, Since: now.UTC(), Reason: "superseded", ChangedBy: "bob",
				Sunset: later, Successor: "acme/next",
			},
		},
		{
			name: "deprecate without successor",
			cur:  current(active, ""),
			ch:   api.LifecycleChange{Status: deprecated, Reason: "old", Sunset: later},
			want: api.Lifecycle{Status: deprecated, Since: now.UTC(), Reason: "old", ChangedBy: "bob", Sunset: later},
		},
		{
			name: "suspend active",
			cur:  current(active, ""),
			ch:   api.LifecycleChange{Status: suspended, Reason: "incident"},
			want: api.Lifecycle{Status: suspended, Since: now.UTC(), Reason: "incident", ChangedBy: "bob", SuspendedFrom: active},
		},
		{
			name: "suspend deprecated, keeping its sunset and successor",
			cur:  current(deprecated, ""),
			ch:   api.LifecycleChange{Status: suspended, Reason: "incident"},
			want: api.Lifecycle{Status: suspended, Since: now.UTC(), Reason: "incident", ChangedBy: "bob", SuspendedFrom: deprecated,
				Sunset: later, Successor: "acme/next"},
		},
		{
			name: "resume to deprecated, keeping the sunset and successor it had",
			cur: api.Lifecycle{Status: suspended, Since: earlier, Reason: "incident", ChangedBy: "someone",
				SuspendedFrom: deprecated, Sunset: later, Successor: "acme/next"},
			ch:   api.LifecycleChange{Status: deprecated, Reason: "cleared"},
			want: api.Lifecycle{Status: deprecated, Since: now.UTC(), Reason: "cleared", ChangedBy: "bob", Sunset: later, Successor: "acme/next"},
		},
		{
			name: "resume to active",
			cur:  current(suspended, active),
			ch:   api.LifecycleChange{Status: active, Reason: "fixed"},
			want: api.Lifecycle{Status: active, Since: now.UTC(), Reason: "fixed", ChangedBy: "bob"},
		},
		{
			name: "resume to deprecated with a new sunset",
			cur:  current(suspended, deprecated),
			ch:   api.LifecycleChange{Status: deprecated, Reason: "fixed", Sunset: todayUTC},
			want: api.Lifecycle{Status: deprecated, Since: now.UTC(), Reason: "fixed", ChangedBy: "bob", Sunset: todayUTC},
		},
		{
			name: "withdraw deprecation",
			cur:  current(deprecated, ""),
			ch:   api.LifecycleChange{Status: active, Reason: "still needed"},
			want: api.Lifecycle{Status: active, Since: now.UTC(), Reason: "still needed", ChangedBy: "bob"},
		},
		{
			name: "archive suspended",
			cur:  current(suspended, deprecated),
			ch:   api.LifecycleChange{Status: archived, Reason: "gone"},
			want: api.Lifecycle{Status: archived, Since: now.UTC(), Reason: "gone", ChangedBy: "bob"},
		},
		{
			name: "refuse a proposal",
			cur:  Initial(earlier, "alice"),
			ch:   api.LifecycleChange{Status: archived, Reason: "out of scope"},
			want: api.Lifecycle{Status: archived, Since: now.UTC(), Reason: "out of scope", ChangedBy: "bob"},
		},
	}
	for _, tt := range tests {
		before := tt.cur
		got, err := Transition(tt.cur, tt.ch, "bob", now)
		if err != nil {
			t.Errorf("%s: Transition(%+v, %+v) error = %v, want nil", tt.name, tt.cur, tt.ch, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Transition(%+v, %+v) =\n%+v, want\n%+v", tt.name, tt.cur, tt.ch, got, tt.want)
		}
		if got.Since.Location() != time.UTC {
			t.Errorf("%s: Transition(...).Since is in %v, want UTC", tt.name, got.Since.Location())
		}
		if !reflect.DeepEqual(tt.cur, before) {
			t.Errorf("%s: Transition changed its input to %+v", tt.name, tt.cur)
		}
	}
}

func TestCheckSuccessor(t *testing.T) {
	tests := []struct {
		self, successor string
		status          api.Status
		found           bool
		wantErr         string // the /successor message; "" for no error
	}{
		{self: "acme/old", successor: "", found: false},
		{self: "acme/old", successor: "acme/new", status: active, found: true},
		{self: "acme/old", successor: "acme/old", status: active, found: true, wantErr: "a model cannot be its own successor"},
		{self: "acme/old", successor: "acme/new", found: false, wantErr: `model "acme/new" does not exist`},
		{self: "acme/old", successor: "acme/new", status: proposed, found: true, wantErr: `model "acme/new" is proposed; a successor must be active`},
		{self: "acme/old", successor: "acme/new", status: deprecated, found: true, wantErr: `model "acme/new" is deprecated; a successor must be active`},
		{self: "acme/old", successor: "acme/new", status: suspended, found: true, wantErr: `model "acme/new" is suspended; a successor must be active`},
		{self: "acme/old", successor: "acme/new", status: archived, found: true, wantErr: `model "acme/new" is archived; a successor must be active`},
		{self: "acme/old", successor: "acme/new", status: "", found: true, wantErr: `model "acme/new" is without a lifecycle status; a successor must be active`},
	}
	for _, tt := range tests {
		err := CheckSuccessor(tt.self, tt.successor, tt.status, tt.found)
		if tt.wantErr == "" {
			if err != nil {
				t.Errorf("CheckSuccessor(%q, %q, %q, %v) = %v, want nil", tt.self, tt.successor, tt.status, tt.found, err)
			}
			continue
		}
		var e *errs.Error
		if !errors.As(err, &e) {
			t.Errorf("CheckSuccessor(%q, %q, %q, %v) = %v, want an *errs.Error", tt.self, tt.successor, tt.status, tt.found, err)
			continue
		}
		want := []api.FieldError{{Pointer: "/successor", Message: tt.wantErr}}
		if e.Kind != errs.Invalid || !reflect.DeepEqual(e.Fields, want) {
			t.Errorf("CheckSuccessor(%q, %q, %q, %v) = kind %v, fields %+v; want kind %v, fields %+v",
				tt.self, tt.successor, tt.status, tt.found, e.Kind, e.Fields, errs.Invalid, want)
		}
	}
}

func contains(statuses []api.Status, s api.Status) bool {
	for _, x := range statuses {
		if x == s {
			return true
		}
	}
	return false
}

func TestPath(t *testing.T) {
	tests := []struct {
		from   api.Lifecycle
		target api.Status
		want   []api.Status
	}{
		{current(proposed, ""), active, []api.Status{active}},
		{current(proposed, ""), deprecated, []api.Status{active, deprecated}},
		{current(proposed, ""), archived, []api.Status{archived}},
		{current(active, ""), archived, []api.Status{deprecated, archived}},
		{current(proposed, ""), suspended, []api.Status{active, suspended}},
		{current(suspended, deprecated), active, []api.Status{deprecated, active}},
		{current(archived, ""), active, nil},
		{current(active, ""), active, nil},
	}
	for _, tt := range tests {
		if got := Path(tt.from, tt.target); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Path(%s → %s) = %v, want %v", tt.from.Status, tt.target, got, tt.want)
		}
	}
}
