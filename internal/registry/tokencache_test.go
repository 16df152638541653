package registry

import (
	"testing"
	"time"

	"github.com/hivellm/modelgov/api"
	"github.com/hivellm/modelgov/internal/store"
)

func TestTokenCache(t *testing.T) {
	var c tokenCache
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	key := [32]byte{1}
	tok := &store.Token{Token: api.Token{ID: "tok_1"}}
	if got, _ := c.get(key, now); got != nil {
		t.Fatal("an empty cache answered")
	}
	_, gen := c.get(key, now)
	c.put(key, tok, now, gen)
	if got, _ := c.get(key, now.Add(tokenCacheTTL/2)); got != tok {
		t.Error("a fresh token was not answered")
	}
	if got, _ := c.get(key, now.Add(tokenCacheTTL)); got != nil {
		t.Error("a token past the TTL was answered")
	}
	if got, _ := c.get(key, now.Add(-time.Second)); got != nil {
		t.Error("a token read in the future (the clock went back) was answered")
	}
	// A read that began before a clear does not put back what it cleared.
	_, gen = c.get(key, now)
	c.clear()
	c.put(key, tok, now, gen)
	if got, _ := c.get(key, now); got != nil {
		t.Error("a read from before a clear was kept")
	}
	// The cache stays bounded.
	_, gen = c.get(key, now)
	for i := range tokenCacheSize + 10 {
		c.put([32]byte{byte(i), byte(i >> 8), byte(i >> 16), 7}, tok, now, gen)
	}
	if len(c.m) > tokenCacheSize {
		t.Errorf("the cache holds %d tokens, more than %d", len(c.m), tokenCacheSize)
	}
}
