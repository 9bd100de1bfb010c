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

func (m *Memo) key(k string) string { return "tokenwarden:memo:" + m.f.seal.name("memo", k) }

// Get implements upstream.Memo.
func (m *Memo) Get(ctx context.Context, key string) ([]byte, bool) {
	v, err := m.f.client.Get(ctx, m.key(key)).Bytes()
	switch err = m.f.observe(err); {
	case err == nil:
		return v, true
	case errors.Is(err, redis.Nil):
		return nil, false
	}
	return m.local.Get(ctx, key)
}

// Put implements upstream.Memo.
func (m *Memo) Put(ctx context.Context, key string, value []byte, ttl time.Duration) {
	m.local.Put(ctx, key, value, ttl)
	_ = m.f.observe(m.f.client.Set(ctx, m.key(key), value, ttl).Err())
}

// Forget implements upstream.Memo.
func (m *Memo) Forget(ctx context.Context, key string) {
	m.local.Forget(ctx, key)
	_ = m.f.observe(m.f.client.Del(ctx, m.key(key)).Err())
}
