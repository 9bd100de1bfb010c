// Package idempotency remembers the answer given to a request carrying an
// Idempotency-Key, so a webhook sender that retries an "offboard" call gets
// the first answer back instead of doing the work twice.
//
// Stored answers can hold a freshly generated app token, so they are kept
// in memory only (never on disk) and expire after the retention window.
package idempotency

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"time"
)

// Answer is what was sent back the first time.
type Answer struct {
	Status      int
	ContentType string
	Body        []byte
}

// Keep says whether an answer is final enough to replay. Server failures,
// rate limits and timeouts are not kept: the caller's retry should try the
// work again. Everything else, success and refusals alike, is replayed.
func Keep(a Answer) bool {
	switch a.Status {
	case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusTooManyRequests:
		return false
	}
	return a.Status < 500
}

// ErrMismatch says the key was used before with a different request.
var ErrMismatch = errors.New("the idempotency key was used with a different request")

// Store runs work once per key and fingerprint within its retention.
type Store interface {
	// Do runs work for a new key, or returns the answer kept for it
	// (replayed = true). A request with the same key that is still running
	// is waited for. A key seen with another fingerprint is ErrMismatch.
	Do(ctx context.Context, key string, fingerprint [32]byte, work func() Answer) (a Answer, replayed bool, err error)
}

// Memory is the in-process Store.
type Memory struct {
	retention time.Duration
	max       int
	maxBytes  int
	bytes     int // bodies of kept answers
	now       func() time.Time
	mu        sync.Mutex
	entries   map[string]*entry
}

type entry struct {
	fingerprint [32]byte
	done        chan struct{} // closed when answer is set or the entry dropped
	answer      Answer
	kept        bool
	expires     time.Time
}

// NewMemory keeps answers for retention, at most max of them holding at
// most maxBytes of bodies together; when full, the answers closest to expiry
// are dropped first. An answer larger than maxBytes is not kept.
func NewMemory(retention time.Duration, max, maxBytes int) *Memory {
	return &Memory{retention: retention, max: max, maxBytes: maxBytes, now: time.Now, entries: map[string]*entry{}}
}

// Do implements Store.
func (m *Memory) Do(ctx context.Context, key string, fp [32]byte, work func() Answer) (Answer, bool, error) {
	for {
		m.mu.Lock()
		e, ok := m.entries[key]
		if ok && e.kept && m.now().After(e.expires) {
			m.drop(key, e)
			ok = false
		}
		if !ok {
			e = &entry{fingerprint: fp, done: make(chan struct{})}
			m.makeRoom(1, 0)
			m.entries[key] = e
			m.mu.Unlock()
			return m.run(key, e, work), false, nil
		}
		m.mu.Unlock()
		if e.fingerprint != fp {
			return Answer{}, false, ErrMismatch
		}
		select {
		case <-e.done:
		case <-ctx.Done():
			return Answer{}, false, ctx.Err()
		}
		if e.kept {
			return e.answer, true, nil
		}
		// The first request's answer was not final (a 5xx, say): this
		// request does the work itself, with the key to itself.
	}
}

func (m *Memory) run(key string, e *entry, work func() Answer) (a Answer) {
	defer func() {
		m.mu.Lock()
		if Keep(a) && len(a.Body) <= m.maxBytes {
			// Room first: e is not kept yet, so it cannot drop itself.
			m.makeRoom(0, len(a.Body))
			e.answer, e.expires, e.kept = a, m.now().Add(m.retention), true
			m.bytes += len(a.Body)
		} else if m.entries[key] == e {
			delete(m.entries, key)
		}
		m.mu.Unlock()
		close(e.done)
	}()
	return work()
}

// makeRoom drops expired answers, then the oldest, until entries more
// entries and need more bytes fit. Entries still running are never dropped.
// Called with m.mu held.
func (m *Memory) makeRoom(entries, need int) {
	full := func() bool { return len(m.entries)+entries > m.max || m.bytes+need > m.maxBytes }
	if !full() {
		return
	}
	now := m.now()
	for k, e := range m.entries {
		if e.kept && now.After(e.expires) {
			m.drop(k, e)
		}
	}
	for full() {
		var oldest string
		var at time.Time
		for k, e := range m.entries {
			if e.kept && (oldest == "" || e.expires.Before(at)) {
				oldest, at = k, e.expires
			}
		}
		if oldest == "" {
			return
		}
		m.drop(oldest, m.entries[oldest])
	}
}

func (m *Memory) drop(k string, e *entry) {
	delete(m.entries, k)
	if e.kept {
		m.bytes -= len(e.answer.Body)
	}
}

// Len counts the keys held, for tests and metrics.
func (m *Memory) Len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.entries)
}
