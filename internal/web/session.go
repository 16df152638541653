package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"
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
// again: a revoked or expired token ends the session at once.
type session struct {
	token   string
	csrf    string
	expires time.Time
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
	id = randomToken()
	now := s.now()
	sess = &session{token: token, csrf: randomToken(), expires: now.Add(SessionTTL)}
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
