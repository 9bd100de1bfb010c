package appgate

import (
	"crypto/sha256"
	"encoding/json"
	"sync"
)

// maxPooled bounds the pool, so callers cycling through many connections
// (say, a flow trying passwords) cannot grow it without end.
const maxPooled = 256

// Pool hands out one Client per distinct connection, so every action on the
// same connection shares its sign-in and token.
type Pool struct {
	opts    Options
	mu      sync.Mutex
	clients map[[sha256.Size]byte]*Client
}

// NewPool builds a pool whose clients use opts.
func NewPool(opts Options) *Pool {
	return &Pool{opts: opts, clients: map[[sha256.Size]byte]*Client{}}
}

// Client returns the client for conn, building it on first use. The key is
// a digest of the whole connection, secrets included, so a changed password
// gets a fresh client and the old token is never reused for it.
func (p *Pool) Client(conn Connection) (*Client, error) {
	norm, err := conn.normalized()
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(norm)
	if err != nil {
		return nil, err
	}
	key := sha256.Sum256(raw)
	p.mu.Lock()
	defer p.mu.Unlock()
	if c, ok := p.clients[key]; ok {
		return c, nil
	}
	c, err := New(norm, p.opts)
	if err != nil {
		return nil, err
	}
	if len(p.clients) >= maxPooled {
		for k := range p.clients {
			delete(p.clients, k)
			break
		}
	}
	p.clients[key] = c
	return c, nil
}
