package action

import (
	"crypto/sha256"
	"sync"
)

// sessionCache keeps one session per distinct connection, so every call with
// the same connection shares one upstream sign-in. Keys are hashes: the
// cache never holds a connection's secrets in a readable form of its own.
//
// It also remembers the exact bytes of connections that already passed
// validation (aliases). n8n sends the same credential with every item, and
// profiling showed decoding, validating and re-encoding that connection to
// be about a third of the sidecar's CPU per action; a repeated connection
// now costs one hash.
type sessionCache struct {
	mu      sync.Mutex
	max     int
	tick    uint64
	entries map[[32]byte]*sessionEntry // by provider + canonical connection
	aliases map[[32]byte]*sessionEntry // by provider + connection bytes as sent
}

type sessionEntry struct {
	key      [32]byte
	session  Session
	lastUsed uint64
	aliases  [][32]byte
}

// maxAliases bounds the spellings remembered per connection, so a caller
// varying whitespace cannot grow the cache without bound.
const maxAliases = 8

func newSessionCache(max int) *sessionCache {
	return &sessionCache{max: max, entries: map[[32]byte]*sessionEntry{}, aliases: map[[32]byte]*sessionEntry{}}
}

func cacheKey(provider string, connection []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(provider))
	h.Write([]byte{0})
	h.Write(connection)
	var key [32]byte
	h.Sum(key[:0])
	return key
}

// known returns the session for connection bytes that passed validation
// before, byte for byte. The alias key is returned either way, for get.
func (c *sessionCache) known(provider string, raw []byte) (Session, [32]byte, bool) {
	alias := cacheKey(provider, raw)
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.aliases[alias]
	if !ok {
		return nil, alias, false
	}
	c.tick++
	e.lastUsed = c.tick
	return e.session, alias, true
}

// get returns the session for a canonical connection, opening it under the
// lock so two concurrent first calls cannot create two sessions (and so two
// sign-ins, which on 3CX would invalidate each other). alias, the key of the
// bytes the connection arrived as, is remembered for known.
func (c *sessionCache) get(provider string, canonical []byte, alias [32]byte, open func() (Session, error)) (Session, error) {
	key := cacheKey(provider, canonical)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tick++
	e, ok := c.entries[key]
	if !ok {
		s, err := open()
		if err != nil {
			return nil, err
		}
		if len(c.entries) >= c.max {
			c.evictOldest()
		}
		e = &sessionEntry{key: key, session: s}
		c.entries[key] = e
	}
	e.lastUsed = c.tick
	if _, seen := c.aliases[alias]; !seen && len(e.aliases) < maxAliases {
		e.aliases = append(e.aliases, alias)
		c.aliases[alias] = e
	}
	return e.session, nil
}

func (c *sessionCache) evictOldest() {
	var oldest *sessionEntry
	for _, e := range c.entries {
		if oldest == nil || e.lastUsed < oldest.lastUsed {
			oldest = e
		}
	}
	if oldest == nil {
		return
	}
	delete(c.entries, oldest.key)
	for _, a := range oldest.aliases {
		delete(c.aliases, a)
	}
}

// forget drops the session opened for a connection (given as the bytes it
// was cached under), so the next call opens a new one, and returns it (nil
// if there was none). Calls holding the old session keep it until they
// finish.
func (c *sessionCache) forget(provider string, connection []byte) Session {
	c.mu.Lock()
	defer c.mu.Unlock()
	var e *sessionEntry
	if a, ok := c.aliases[cacheKey(provider, connection)]; ok {
		e = a
	} else if x, ok := c.entries[cacheKey(provider, connection)]; ok {
		e = x
	}
	if e == nil {
		return nil
	}
	delete(c.entries, e.key)
	for _, a := range e.aliases {
		delete(c.aliases, a)
	}
	return e.session
}
