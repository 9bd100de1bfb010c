package upstream

import (
	"context"
	"sync"
	"time"
)

// Memo keeps small facts learnt from upstreams (the peer API versions an
// Appgate controller speaks) where every sidecar sharing a store reads them,
// so a fleet negotiates once. Values are not secret. LocalMemo keeps them in
// this process; a fleet's Memo lives in Redis.
type Memo interface {
	// Get returns the value stored under key, if it has not expired.
	Get(ctx context.Context, key string) ([]byte, bool)
	// Put stores value under key for ttl (0: until forgotten).
	Put(ctx context.Context, key string, value []byte, ttl time.Duration)
	// Forget drops key.
	Forget(ctx context.Context, key string)
}

// LocalMemo is a Memo in this process's memory.
type LocalMemo struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]memoEntry
}

type memoEntry struct {
	value   []byte
	expires time.Time // zero: never
}

// NewLocalMemo returns an empty memo whose TTLs run on now (nil: the wall
// clock).
func NewLocalMemo(now func() time.Time) *LocalMemo {
	if now == nil {
		now = time.Now
	}
	return &LocalMemo{now: now, entries: map[string]memoEntry{}}
}

func (m *LocalMemo) Get(_ context.Context, key string) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e, ok := m.entries[key]
	if !ok || (!e.expires.IsZero() && !m.now().Before(e.expires)) {
		return nil, false
	}
	return e.value, true
}

func (m *LocalMemo) Put(_ context.Context, key string, value []byte, ttl time.Duration) {
	e := memoEntry{value: append([]byte(nil), value...)}
	if ttl > 0 {
		e.expires = m.now().Add(ttl)
	}
	m.mu.Lock()
	m.entries[key] = e
	m.mu.Unlock()
}

func (m *LocalMemo) Forget(_ context.Context, key string) {
	m.mu.Lock()
	delete(m.entries, key)
	m.mu.Unlock()
}
