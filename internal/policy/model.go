package policy

import (
	"reflect"
	"time"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/common/types/traits"

	"github.com/hivellm/modelgov/api"
)

// The CEL values of a decision are built lazily: model.parameters.count
// reads the Go struct field when the rule selects it, and nothing is
// copied for the fields no rule reads. CEL's interpreter selects a field of
// any value with a FindStringKey method directly (the fast path it has for
// Go maps); a whole object that a rule uses as a value (size(model),
// model == old, iteration) is materialized once as a CEL map.
//
// Every object holds every field of its JSON form, with the zero value
// when the document leaves it out, so that rules need no has().

// object is a CEL map whose entries are computed on demand.
type object interface {
	// FindStringKey returns the entry of a key: a CEL value (types.String,
	// types.Int), a Go value CEL adapts ([]string, map[string]string,
	// time.Time, []any) or another object.
	FindStringKey(key string) (any, bool)
	// fieldNames returns the keys, in a stable order.
	fieldNames() []string
}

// lazyMap implements ref.Val and traits.Mapper for an object, embedded in
// it with self pointing back.
type lazyMap struct {
	self object
	full traits.Mapper // materialized on first need
}

var _ traits.Mapper = (*lazyMap)(nil)

func (l *lazyMap) mapper() traits.Mapper {
	if l.full == nil {
		l.full = types.NewStringInterfaceMap(types.DefaultTypeAdapter, plainObject(l.self))
	}
	return l.full
}

// ConvertToNative implements ref.Val.
func (l *lazyMap) ConvertToNative(t reflect.Type) (any, error) { return l.mapper().ConvertToNative(t) }

// ConvertToType implements ref.Val.
func (l *lazyMap) ConvertToType(t ref.Type) ref.Val { return l.mapper().ConvertToType(t) }

// Equal implements ref.Val. Only a map can equal a map, so that
// model == null costs nothing.
func (l *lazyMap) Equal(other ref.Val) ref.Val {
	if o, ok := other.(object); ok && o == l.self {
		return types.True
	}
	if _, ok := other.(traits.Mapper); !ok {
		return types.False
	}
	return l.mapper().Equal(other)
}

// Type implements ref.Val.
func (l *lazyMap) Type() ref.Type { return types.MapType }

// Value implements ref.Val.
func (l *lazyMap) Value() any { return plainObject(l.self) }

// Contains implements traits.Container.
func (l *lazyMap) Contains(key ref.Val) ref.Val {
	if s, ok := key.(types.String); ok {
		_, found := l.self.FindStringKey(string(s))
		return types.Bool(found)
	}
	return l.mapper().Contains(key)
}

// Get implements traits.Indexer.
func (l *lazyMap) Get(key ref.Val) ref.Val {
	if v, found := l.Find(key); found {
		return v
	}
	return l.mapper().Get(key) // the error of a missing key
}

// Find implements traits.Mapper.
func (l *lazyMap) Find(key ref.Val) (ref.Val, bool) {
	if s, ok := key.(types.String); ok {
		if v, found := l.self.FindStringKey(string(s)); found {
			return types.DefaultTypeAdapter.NativeToValue(v), true
		}
		return nil, false
	}
	return l.mapper().Find(key)
}

// Iterator implements traits.Iterable.
func (l *lazyMap) Iterator() traits.Iterator { return l.mapper().Iterator() }

// Size implements traits.Sizer.
func (l *lazyMap) Size() ref.Val { return types.Int(len(l.self.fieldNames())) }

// plainObject returns an object's entries as a Go map, nested objects
// included, as Decision.Values reports them.
func plainObject(o object) map[string]any {
	names := o.fieldNames()
	m := make(map[string]any, len(names))
	for _, k := range names {
		v, _ := o.FindStringKey(k)
		m[k] = plain(v)
	}
	return m
}

// plain returns v with its objects turned into Go maps.
func plain(v any) any {
	switch v := v.(type) {
	case object:
		return plainObject(v)
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = plain(e)
		}
		return out
	case ref.Val:
		return v.Value()
	}
	return v
}

// modelObject is the CEL value of a model: the variables model and old.
type modelObject struct {
	lazyMap
	m          *api.Model
	parameters parametersObject
	modalities modalitiesObject
	governance governanceObject
	lifecycle  lifecycleObject
	identity   identityObject
}

// init points o at m, judged at now with what the registry knows of its
// endorsers. o must not move afterwards.
func (o *modelObject) init(m *api.Model, now time.Time, endorsers map[string]Endorser) *modelObject {
	o.m, o.lazyMap.self = m, o
	o.parameters.p, o.parameters.self = m.Parameters, &o.parameters
	o.modalities.m, o.modalities.self = m.Modalities, &o.modalities
	o.governance.g, o.governance.self = m.Governance, &o.governance
	if m.Governance != nil {
		o.governance.review.r = m.Governance.Review
	}
	o.governance.review.self = &o.governance.review
	o.lifecycle.l, o.lifecycle.self = m.Lifecycle, &o.lifecycle
	o.identity.m, o.identity.now, o.identity.endorsers, o.identity.self = m, now, endorsers, &o.identity
	return o
}

func (o *modelObject) fieldNames() []string {
	return []string{"model_id", "provider", "display_name", "family", "version", "release_date", "size_class",
		"parameters", "context_window", "max_output_tokens", "modalities", "capabilities", "license", "endpoints",
		"owners", "labels", "annotations", "eval_refs", "source_files", "notes", "role", "status", "governance",
		"lifecycle", "identity"}
}

// FindStringKey returns a field of the model.
func (o *modelObject) FindStringKey(key string) (any, bool) {
	m := o.m
	switch key {
	case "model_id":
		return types.String(m.ModelID), true
	case "provider":
		return types.String(m.Provider), true
	case "display_name":
		return types.String(m.DisplayName), true
	case "family":
		return types.String(m.Family), true
	case "version":
		return types.String(m.Version), true
	case "release_date":
		return types.String(m.ReleaseDate), true
	case "size_class":
		return types.String(m.SizeClass), true
	case "parameters":
		return &o.parameters, true
	case "context_window":
		return types.Int(m.ContextWindow), true
	case "max_output_tokens":
		return types.Int(m.MaxOutputTokens), true
	case "modalities":
		return &o.modalities, true
	case "capabilities":
		return m.Capabilities, true
	case "license":
		return types.String(m.License), true
	case "endpoints":
		endpoints := make([]any, len(m.Endpoints))
		for i, e := range m.Endpoints {
			endpoints[i] = map[string]any{"url": e.URL, "api": e.API, "description": e.Description}
		}
		return endpoints, true
	case "owners":
		return m.Owners, true
	case "labels":
		return m.Labels, true
	case "annotations":
		return m.Annotations, true
	case "eval_refs":
		return m.EvalRefs, true
	case "source_files":
		return m.SourceFiles, true
	case "notes":
		return types.String(m.Notes), true
	case "role":
		return types.String(m.Role()), true
	case "status":
		return types.String(m.Status()), true
	case "governance":
		return &o.governance, true
	case "lifecycle":
		return &o.lifecycle, true
	case "identity":
		return &o.identity, true
	}
	return nil, false
}

type parametersObject struct {
	lazyMap
	p *api.Parameters
}

func (o *parametersObject) fieldNames() []string { return []string{"count", "active", "source"} }

// FindStringKey returns a field of the parameters block.
func (o *parametersObject) FindStringKey(key string) (any, bool) {
	p := o.p
	if p == nil {
		p = &api.Parameters{}
	}
	switch key {
	case "count":
		return types.Int(p.Count), true
	case "active":
		return types.Int(p.Active), true
	case "source":
		return types.String(p.Source), true
	}
	return nil, false
}

type modalitiesObject struct {
	lazyMap
	m *api.Modalities
}

func (o *modalitiesObject) fieldNames() []string { return []string{"input", "output"} }

// FindStringKey returns a field of the modalities block.
func (o *modalitiesObject) FindStringKey(key string) (any, bool) {
	m := o.m
	if m == nil {
		m = &api.Modalities{}
	}
	switch key {
	case "input":
		return m.Input, true
	case "output":
		return m.Output, true
	}
	return nil, false
}

type governanceObject struct {
	lazyMap
	g      *api.Governance
	review reviewObject
}

func (o *governanceObject) fieldNames() []string {
	return []string{"role", "reason", "classified_by", "policy_version", "policy_hash", "size_confirmed_by", "exemptions",
		"review"}
}

// FindStringKey returns a field of the governance block.
func (o *governanceObject) FindStringKey(key string) (any, bool) {
	g := o.g
	if g == nil {
		g = &api.Governance{}
	}
	switch key {
	case "role":
		if g.Role == "" {
			return types.String(api.RoleNone), true
		}
		return types.String(g.Role), true
	case "reason":
		return types.String(g.Reason), true
	case "classified_by":
		return types.String(g.ClassifiedBy), true
	case "policy_version":
		return types.Int(g.PolicyVersion), true
	case "policy_hash":
		return types.String(g.PolicyHash), true
	case "size_confirmed_by":
		return types.String(g.SizeConfirmedBy), true
	case "exemptions":
		exemptions := make([]any, len(g.Exemptions))
		for i, x := range g.Exemptions {
			rules := x.Rules
			if rules == nil {
				rules = []string{}
			}
			exemptions[i] = map[string]any{"id": x.ID, "rules": rules, "reason": x.Reason,
				"granted_by": x.GrantedBy, "granted_at": x.GrantedAt, "expires_at": x.ExpiresAt}
		}
		return exemptions, true
	case "review":
		return &o.review, true
	}
	return nil, false
}

// reviewObject is governance.review: the zero review, with an empty
// status, when the model has never been held for review.
type reviewObject struct {
	lazyMap
	r *api.Review
}

func (o *reviewObject) fieldNames() []string { return []string{"status", "reason", "similar_to"} }

// FindStringKey returns a field of the review block.
func (o *reviewObject) FindStringKey(key string) (any, bool) {
	r := o.r
	if r == nil {
		r = &api.Review{}
	}
	switch key {
	case "status":
		return types.String(r.Status), true
	case "reason":
		return types.String(r.Reason), true
	case "similar_to":
		if r.SimilarTo == nil {
			return []string{}, true
		}
		return r.SimilarTo, true
	}
	return nil, false
}

type lifecycleObject struct {
	lazyMap
	l *api.Lifecycle
}

func (o *lifecycleObject) fieldNames() []string {
	return []string{"status", "since", "reason", "changed_by", "successor", "sunset", "suspended_from"}
}

// FindStringKey returns a field of the lifecycle block.
func (o *lifecycleObject) FindStringKey(key string) (any, bool) {
	l := o.l
	if l == nil {
		l = &api.Lifecycle{}
	}
	switch key {
	case "status":
		return types.String(l.Status), true
	case "since":
		return l.Since, true
	case "reason":
		return types.String(l.Reason), true
	case "changed_by":
		return types.String(l.ChangedBy), true
	case "successor":
		return types.String(l.Successor), true
	case "sunset":
		return types.String(l.Sunset), true
	case "suspended_from":
		return types.String(l.SuspendedFrom), true
	}
	return nil, false
}

// identityObject is the identity of a model: the zero identity, with
// status none, when the model has none.
type identityObject struct {
	lazyMap
	m         *api.Model
	now       time.Time
	endorsers map[string]Endorser
	counted   []bool // CountedEndorsements, computed on first use
	tallied   bool   // counted is computed
}

func (o *identityObject) fieldNames() []string {
	return []string{"status", "key_type", "key_id", "owner", "artifact_digest", "verified_at", "expires_at",
		"endorsements", "general_endorsements"}
}

// countedEndorsements returns CountedEndorsements of the model, once.
func (o *identityObject) countedEndorsements() []bool {
	if !o.tallied {
		o.counted, o.tallied = CountedEndorsements(o.m, o.endorsers), true
	}
	return o.counted
}

// FindStringKey returns a field of the identity.
func (o *identityObject) FindStringKey(key string) (any, bool) {
	id := o.m.Identity
	if key == "status" {
		return types.String(id.StatusAt(o.now)), true // none without an identity
	}
	if id == nil {
		id = &api.Identity{}
	}
	switch key {
	case "key_type":
		return types.String(id.KeyType), true
	case "key_id":
		return types.String(id.KeyID), true
	case "owner":
		return types.String(id.Owner), true
	case "artifact_digest":
		return types.String(id.ArtifactDigest), true
	case "verified_at":
		if id.VerifiedAt == nil {
			return time.Time{}, true
		}
		return *id.VerifiedAt, true
	case "expires_at":
		return id.ExpiresAt, true
	case "endorsements":
		counted := o.countedEndorsements()
		endorsements := make([]any, len(id.Endorsements))
		for i, e := range id.Endorsements {
			endorsements[i] = map[string]any{"by": e.By, "key_id": e.KeyID, "at": e.At, "counted": counted[i]}
		}
		return endorsements, true
	case "general_endorsements":
		n := 0
		for _, c := range o.countedEndorsements() {
			if c {
				n++
			}
		}
		return types.Int(n), true
	}
	return nil, false
}

// requestObject is the CEL variable request.
type requestObject struct {
	lazyMap
	principal, action, from, to, role string
	roles                             []string
}

func (o *requestObject) fieldNames() []string {
	return []string{"principal", "roles", "action", "from", "to", "role"}
}

// FindStringKey returns a field of the request.
func (o *requestObject) FindStringKey(key string) (any, bool) {
	switch key {
	case "principal":
		return types.String(o.principal), true
	case "roles":
		return o.roles, true
	case "action":
		return types.String(o.action), true
	case "from":
		return types.String(o.from), true
	case "to":
		return types.String(o.to), true
	case "role":
		return types.String(o.role), true
	}
	return nil, false
}

// registryObject is the CEL variable registry.
type registryObject struct {
	lazyMap
	facts Facts
}

func (o *registryObject) fieldNames() []string {
	return []string{"active_generals", "verified_general_owners"}
}

// FindStringKey returns a registry fact.
func (o *registryObject) FindStringKey(key string) (any, bool) {
	switch key {
	case "active_generals":
		return types.Int(o.facts.ActiveGenerals), true
	case "verified_general_owners":
		return types.Int(o.facts.VerifiedGeneralOwners), true
	}
	return nil, false
}
