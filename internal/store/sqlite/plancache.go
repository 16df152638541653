package sqlite

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// planCache remembers, for a moment, how planMemberships chose to run a
// label or capability condition. Counting a condition's matches up to the
// break-even point reads up to sqrt(models × page) index entries: at a
// million models, about 10,000 per request and a quarter of a labelled
// list's time. The share of models a label selects changes slowly, and a
// stale choice only costs speed, never a wrong answer (both ways return
// the same rows), so the choice is kept for planTTL.
type planCache struct {
	mu  sync.Mutex
	m   map[string]planChoice
	now func() time.Time
}

type planChoice struct {
	dense bool
	at    time.Time
}

// planTTL is how long a choice is kept; maxPlans bounds how many.
const (
	planTTL  = 10 * time.Second
	maxPlans = 1024
)

func newPlanCache(now func() time.Time) *planCache {
	return &planCache{m: map[string]planChoice{}, now: now}
}

// planKey names a condition's count at a page size.
func planKey(sub string, limit int, args []any) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d %q", limit, sub)
	for _, a := range args {
		fmt.Fprintf(&b, " %q", fmt.Sprint(a)) // quoted: no value can pass for two
	}
	return b.String()
}

// get returns the choice kept for key, if it is recent. A nil cache keeps
// nothing.
func (c *planCache) get(key string) (dense, ok bool) {
	if c == nil {
		return false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.m[key]
	if !ok || c.now().Sub(p.at) >= planTTL {
		return false, false
	}
	return p.dense, true
}

// put keeps the choice for key. When the cache is full it starts over:
// hostile selectors cannot make it grow.
func (c *planCache) put(key string, dense bool) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.m) >= maxPlans {
		clear(c.m)
	}
	c.m[key] = planChoice{dense: dense, at: c.now()}
}
