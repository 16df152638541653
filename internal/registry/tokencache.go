package registry

import (
	"sync"
	"time"

	"github.com/hivellm/modelgov/internal/store"
)

// Token cache bounds: how long a token read from the store authenticates
// without reading it again, and how many are kept.
const (
	tokenCacheTTL  = time.Second
	tokenCacheSize = 10_000
)

// tokenCache keeps the tokens recently read by their hash, so that most
// requests authenticate without a database read. A revocation through this
// process clears it as it commits, before the watchers are woken; a commit
// by another process on a shared store (EventsCommitted) clears it too, so
// a revocation there takes effect here as soon as its notification arrives,
// and within the TTL at worst. Misses are not kept: a new token works at once everywhere.
type tokenCache struct {
	mu sync.Mutex
	m  map[[32]byte]cachedToken
	// gen counts the clears, so that a read that began before one does
	// not put back what it cleared.
	gen uint64
}

type cachedToken struct {
	tok *store.Token
	at  time.Time
}

// get returns a token read less than the TTL ago, and the generation to
// put with after a read.
func (c *tokenCache) get(hash [32]byte, now time.Time) (*store.Token, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[hash]; ok && now.Sub(e.at) < tokenCacheTTL && !now.Before(e.at) {
		return e.tok, c.gen
	}
	return nil, c.gen
}

// put keeps a token read from the store, unless the cache was cleared
// since the read began (gen).
func (c *tokenCache) put(hash [32]byte, tok *store.Token, at time.Time, gen uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.m == nil || len(c.m) >= tokenCacheSize {
		c.m = make(map[[32]byte]cachedToken)
	}
	c.m[hash] = cachedToken{tok: tok, at: at}
}

// clear forgets every token.
func (c *tokenCache) clear() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.m = nil
}
