package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/auth"
	"github.com/hivellm/modelgov/internal/errs"
	"github.com/hivellm/modelgov/internal/registry"
)

// Access says who may call a route. The HTTP layer checks it before the
// handler reads anything: a request without valid credentials is answered
// 401, a principal none of whose roles the route lists 403, so neither
// learns whether the resource it named exists. The registry then checks
// ownership and the policy.
type Access struct {
	// Public routes need no credentials: health, readiness, the OpenAPI
	// document and the JSON Schemas.
	Public bool
	// Roles lists the roles that may call the route.
	Roles []string
	// Limited routes (registrations and identity operations) count
	// against the caller's rate limit.
	Limited bool
}

// The access of each kind of route.
var (
	public = Access{Public: true}
	// readers: every role reads.
	readers = Access{Roles: api.PrincipalRoles()}
	// authors register and edit models (their own, for maintainers).
	authors = Access{Roles: []string{api.RoleAdmin, api.RoleMaintainer}}
	// stewards act on a model's lifecycle and identity: its maintainers,
	// and governors for any model.
	stewards = Access{Roles: []string{api.RoleAdmin, api.RoleGovernor, api.RoleMaintainer}}
	// governors classify, exempt, review, move aliases and manage policies.
	governors = Access{Roles: []string{api.RoleAdmin, api.RoleGovernor}}
	// admins manage tokens.
	admins = Access{Roles: []string{api.RoleAdmin}}
	// evaluators record evaluation results.
	evaluators = Access{Roles: []string{api.RoleAdmin, api.RoleEvaluator}}
	// cataloguers add benchmarks: evaluators, and governors.
	cataloguers = Access{Roles: []string{api.RoleAdmin, api.RoleGovernor, api.RoleEvaluator}}
)

// limited returns a copy of a that counts against the rate limit.
func limited(a Access) Access {
	a.Limited = true
	return a
}

// Authenticator checks bearer credentials other than the registry's own
// API tokens: OIDC JWTs.
type Authenticator interface {
	Authenticate(ctx context.Context, raw string) (*api.Principal, error)
}

// RateLimit bounds, per principal, the registrations and identity
// operations: a token bucket refilled at PerSecond, holding Burst.
type RateLimit struct {
	PerSecond float64
	Burst     int
}

// DefaultRateLimit allows one registration or identity operation a second
// on average per principal, in bursts of up to 30.
var DefaultRateLimit = RateLimit{PerSecond: 1, Burst: 30}

type principalKey struct{}

// principalOf returns the principal a request was authenticated as.
func principalOf(ctx context.Context) *api.Principal {
	p, _ := ctx.Value(principalKey{}).(*api.Principal)
	return p
}

// callerOf returns who sent the request, as the registry knows callers.
func callerOf(r *http.Request) registry.Caller {
	p := principalOf(r.Context())
	if p == nil {
		return registry.Anonymous
	}
	return registry.Caller{Principal: p.Name, Roles: p.Roles}
}

// anonymousViewer is the principal of a request without credentials when
// reads are open to anonymous viewers.
func anonymousViewer() *api.Principal {
	return &api.Principal{Name: registry.Anonymous.Principal, Roles: []string{api.RoleViewer}, Method: "anonymous"}
}

// guard authenticates a request and checks the route's access, then calls
// next with the principal in the request's context.
func (s *Server) guard(pattern string, acc Access, next handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if acc.Public {
			return next(w, r)
		}
		p, err := s.authenticate(r)
		if err != nil && errs.KindOf(err) != errs.Unauthenticated {
			return err // the store failed: not a refusal
		}
		if err != nil {
			s.metrics.authFailures.WithLabelValues(authFailureReason(err)).Inc()
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "authentication refused",
				slog.String("request_id", requestID(r.Context())), slog.String("remote", r.RemoteAddr),
				slog.String("route", pattern), slog.String("reason", err.Error()))
			return err
		}
		if !slices.ContainsFunc(p.Roles, func(role string) bool { return slices.Contains(acc.Roles, role) }) {
			if p.Method == "anonymous" {
				// Reads are open; this is not one: credentials would help.
				return errs.E(errs.Unauthenticated, "this operation needs credentials: send Authorization: Bearer <token>")
			}
			s.log.LogAttrs(r.Context(), slog.LevelInfo, "request refused: the role may not use the route",
				slog.String("request_id", requestID(r.Context())), slog.String("principal", p.Name),
				slog.String("route", pattern), slog.Any("roles", p.Roles))
			return errs.E(errs.Forbidden, "%s may not %s: it needs one of the roles %s, and has %s",
				p.Name, pattern, strings.Join(acc.Roles, ", "), rolesText(p.Roles))
		}
		if acc.Limited {
			if err := s.limits.allow(p.Name, w); err != nil {
				return err
			}
		}
		return next(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	}
}

func rolesText(roles []string) string {
	if len(roles) == 0 {
		return "none"
	}
	return strings.Join(roles, ", ")
}

// authenticate reads the request's credentials: an API token or, when OIDC
// is configured, a JWT, as "Authorization: Bearer ...". A request without
// them is an anonymous viewer when reads are open, refused otherwise. Bad
// credentials are refused even where anonymous reads are open: a client
// that sends a token means to use it.
func (s *Server) authenticate(r *http.Request) (*api.Principal, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		if s.anonymousRead {
			return anonymousViewer(), nil
		}
		return nil, errs.E(errs.Unauthenticated, "this operation needs credentials: send Authorization: Bearer <token>")
	}
	scheme, cred, ok := strings.Cut(h, " ")
	cred = strings.TrimSpace(cred)
	if !ok || !strings.EqualFold(scheme, "Bearer") || cred == "" {
		return nil, errs.E(errs.Unauthenticated, "the Authorization header must be Bearer <token>")
	}
	if strings.HasPrefix(cred, auth.TokenPrefixString) {
		return s.reg.Authenticate(r.Context(), cred)
	}
	if s.oidc != nil && auth.LooksLikeJWT(cred) {
		p, err := s.oidc.Authenticate(r.Context(), cred)
		if err != nil {
			return nil, errs.Wrap(errs.Unauthenticated, err, "the OIDC token was refused")
		}
		return p, nil
	}
	return nil, errs.E(errs.Unauthenticated, "the bearer token is neither a modelgov API token (mgv_...) nor, where OIDC is configured, a JWT from its issuer")
}

// authFailureReason labels a refused authentication for the metrics,
// without anything the caller sent.
func authFailureReason(err error) string {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "needs credentials"):
		return "missing"
	case strings.Contains(msg, "is neither a modelgov API token"), strings.Contains(msg, "must be Bearer"):
		return "invalid"
	case strings.Contains(msg, "revoked"):
		return "revoked"
	case strings.Contains(msg, "expired"):
		return "expired"
	case strings.Contains(msg, "OIDC"):
		return "oidc"
	}
	return "invalid"
}

// limiters holds one token bucket per principal.
type limiters struct {
	limit RateLimit
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	lim  *rate.Limiter
	seen time.Time
}

// maxBuckets bounds the limiters kept; idle ones are dropped beyond it.
const maxBuckets = 10_000

func newLimiters(l RateLimit) *limiters {
	return &limiters{limit: l, now: time.Now, buckets: map[string]*bucket{}}
}

// allow takes a token from the principal's bucket, or answers 429 with
// Retry-After: the whole seconds until one is there.
func (l *limiters) allow(principal string, w http.ResponseWriter) error {
	if l == nil || l.limit.PerSecond <= 0 {
		return nil
	}
	now := l.now()
	l.mu.Lock()
	b := l.buckets[principal]
	if b == nil {
		if len(l.buckets) >= maxBuckets {
			l.evict(now)
		}
		if len(l.buckets) >= maxBuckets {
			l.evictOldest()
		}
		b = &bucket{lim: rate.NewLimiter(rate.Limit(l.limit.PerSecond), max(1, l.limit.Burst))}
		l.buckets[principal] = b
	}
	b.seen = now
	res := b.lim.ReserveN(now, 1)
	delay := res.DelayFrom(now)
	if delay > 0 {
		res.CancelAt(now)
	}
	l.mu.Unlock()
	if delay <= 0 {
		return nil
	}
	secs := int(math.Ceil(delay.Seconds()))
	w.Header().Set("Retry-After", fmt.Sprint(secs))
	return errs.E(errs.RateLimited, "%s sent more registrations and identity operations than the limit of %g a second (bursts of %d); retry in %d s",
		principal, l.limit.PerSecond, l.limit.Burst, secs)
}

// evictOldest drops the bucket used longest ago, when none is idle enough
// for evict: the map never grows past maxBuckets.
func (l *limiters) evictOldest() {
	var oldest string
	var at time.Time
	for k, b := range l.buckets {
		if oldest == "" || b.seen.Before(at) {
			oldest, at = k, b.seen
		}
	}
	delete(l.buckets, oldest)
}

// evict drops the buckets idle long enough to be full again.
func (l *limiters) evict(now time.Time) {
	full := time.Duration(float64(l.limit.Burst) / l.limit.PerSecond * float64(time.Second))
	for k, b := range l.buckets {
		if now.Sub(b.seen) > full {
			delete(l.buckets, k)
		}
	}
}
