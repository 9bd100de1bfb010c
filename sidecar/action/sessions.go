package action

import (
	"crypto/sha256"
	"sync"
)

// sessionCache keeps one session per distinct connection, so every call with
// the same connection shares one upstream sign-in. Keys are hashes: the
// cache never holds a connection's secrets in a readable form of its own.
type sessionCache struct {
	mu      sync.Mutex
	max     int
	tick    uint64
	entries map[[32]byte]*sessionEntry
}

type sessionEntry struct {
	session  Session
	lastUsed uint64
}

func newSessionCache(max int) *sessionCache {
	return &sessionCache{max: max, entries: map[[32]byte]*sessionEntry{}}
}

// get returns the session for a canonical connection, opening it under the
// lock so two concurrent first calls cannot create two sessions (and so two
// sign-ins, which on 3CX would invalidate each other).
func (c *sessionCache) get(provider string, canonical []byte, open func() (Session, error)) (Session, error) {
	h := sha256.New()
	h.Write([]byte(provider))
	h.Write([]byte{0})
	h.Write(canonical)
	var key [32]byte
	h.Sum(key[:0])

	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick++
	if e, ok := c.entries[key]; ok {
		e.lastUsed = c.tick
		return e.session, nil
	}
	s, err := open()
	if err != nil {
		return nil, err
	}
	if len(c.entries) >= c.max {
		c.evictOldest()
	}
	c.entries[key] = &sessionEntry{session: s, lastUsed: c.tick}
	return s, nil
}

func (c *sessionCache) evictOldest() {
	var oldest [32]byte
	first := true
	var min uint64
	for k, e := range c.entries {
		if first || e.lastUsed < min {
			oldest, min, first = k, e.lastUsed, false
		}
	}
	delete(c.entries, oldest)
}
