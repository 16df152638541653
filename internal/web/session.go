package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"github.com/hivellm/modelgov/api"
)

// Session lifetimes and bounds.
const (
	// SessionTTL is how long a session lasts after sign-in.
	SessionTTL = 12 * time.Hour
	// DefaultMaxSessions caps the sessions kept in memory.
	DefaultMaxSessions = 10_000
)

// A session is one signed-in browser. It keeps the API token the user
// signed in with, in memory only, so that every request authenticates it
// again: a revoked or expired token ends the session at once. A session
// started with an OIDC issuer has no token to authenticate again: it keeps
// the principal the issuer's ID token named, and ends when that ID token
// expires.
type session struct {
	token string
	// principal is the OIDC session's; nil for an API token's.
	principal *api.Principal
	csrf      string
	expires   time.Time
}

// sessions holds the sessions of this process, keyed by the SHA-256 of
// their ids: they do not survive a restart and are not shared between the
// processes of a deployment (users sign in again on another process).
type sessions struct {
	mu    sync.Mutex
	max   int
	now   func() time.Time
	byKey map[[32]byte]*session
}

func newSessions(max int, now func() time.Time) *sessions {
	if max <= 0 {
		max = DefaultMaxSessions
	}
	return &sessions{max: max, now: now, byKey: map[[32]byte]*session{}}
}

// create starts a session for token and returns its id.
func (s *sessions) create(token string) (id string, sess *session) {
	now := s.now()
	return s.start(&session{token: token, csrf: randomToken(), expires: now.Add(SessionTTL)}, now)
}

// createOIDC starts a session for p, a principal an OIDC issuer's ID token
// names, and returns its id. The session ends at p.ExpiresAt, the ID
// token's expiry, or after SessionTTL if that comes first.
func (s *sessions) createOIDC(p *api.Principal) (id string, sess *session) {
	now := s.now()
	expires := now.Add(SessionTTL)
	if p.ExpiresAt != nil && p.ExpiresAt.Before(expires) {
		expires = *p.ExpiresAt
	}
	return s.start(&session{principal: p, csrf: randomToken(), expires: expires}, now)
}

// start keeps sess under a new id and returns the id.
func (s *sessions) start(sess *session, now time.Time) (id string, _ *session) {
	id = randomToken()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.byKey) >= s.max {
		s.evict(now)
	}
	s.byKey[sha256.Sum256([]byte(id))] = sess
	return id, sess
}

// get returns the live session id names, or nil.
func (s *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	key := sha256.Sum256([]byte(id))
	s.mu.Lock()
	defer s.mu.Unlock()
	sess := s.byKey[key]
	if sess == nil {
		return nil
	}
	if !s.now().Before(sess.expires) {
		delete(s.byKey, key)
		return nil
	}
	return sess
}

// end forgets the session id names.
func (s *sessions) end(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.byKey, sha256.Sum256([]byte(id)))
}

// evict drops the expired sessions and, when none had expired, the one
// that expires first: the map never grows past max.
func (s *sessions) evict(now time.Time) {
	var oldest [32]byte
	var at time.Time
	for k, sess := range s.byKey {
		if !now.Before(sess.expires) {
			delete(s.byKey, k)
			continue
		}
		if at.IsZero() || sess.expires.Before(at) {
			oldest, at = k, sess.expires
		}
	}
	if len(s.byKey) >= s.max {
		delete(s.byKey, oldest)
	}
}

// principalOf authenticates a live session again (sessions.get has ended
// it at its expiry): its API token, whose revocation or expiry is refused
// with errs.Unauthenticated; or, for an OIDC session, the principal its ID
// token named, which holds until the session's end.
func (s *server) principalOf(ctx context.Context, sess *session) (*api.Principal, error) {
	if sess.principal != nil {
		return sess.principal, nil
	}
	return s.reg.Authenticate(ctx, sess.token)
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("web: no randomness: " + err.Error()) // crypto/rand does not fail on supported systems
	}
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// sameToken compares two CSRF tokens in constant time; an empty one never
// matches.
func sameToken(a, b string) bool {
	return a != "" && b != "" && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
