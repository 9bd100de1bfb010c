package fleet

import (
	"context"
	"errors"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// Memo is an upstream.Memo in Redis, so a fleet learns a fact (an Appgate
// controller's API version) once. Every value is also kept in this
// process, and read from there while Redis is unreachable.
type Memo struct {
	f     *Fleet
	local *upstream.LocalMemo
}

// Memo returns the fleet's memo.
func (f *Fleet) Memo() *Memo { return &Memo{f: f, local: upstream.NewLocalMemo(f.now)} }

// keys are where a fact is kept, one name per token key (the current
// key's first), as sign-ins are.
func (m *Memo) keys(k string) []string {
	out := make([]string, len(m.f.seals))
	for i, s := range m.f.seals {
		out[i] = "tokenwarden:memo:" + s.name("memo", k)
	}
	return out
}

// Get implements upstream.Memo.
func (m *Memo) Get(ctx context.Context, key string) ([]byte, bool) {
	for _, k := range m.keys(key) {
		v, err := m.f.client.Get(ctx, k).Bytes()
		switch err = m.f.observe(err); {
		case err == nil:
			return v, true
		case !errors.Is(err, redis.Nil):
			return m.local.Get(ctx, key)
		}
	}
	return nil, false
}

// Put implements upstream.Memo.
func (m *Memo) Put(ctx context.Context, key string, value []byte, ttl time.Duration) {
	m.local.Put(ctx, key, value, ttl)
	for _, k := range m.keys(key) {
		_ = m.f.observe(m.f.client.Set(ctx, k, value, ttl).Err())
	}
}

// Forget implements upstream.Memo.
func (m *Memo) Forget(ctx context.Context, key string) {
	m.local.Forget(ctx, key)
	_ = m.f.observe(m.f.client.Del(ctx, m.keys(key)...).Err())
}
