package idempotency

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// Redis is a Store shared by several sidecars. A request claims its key
// with SET NX; duplicates poll until the answer is there. Run Redis without
// persistence (save "", appendonly no): stored answers can hold generated
// app tokens, which must not land on disk.
type Redis struct {
	client    *redis.Client
	shared    bool // the client belongs to someone else, who closes it
	prefix    string
	retention time.Duration
	// claimTTL frees a key whose sidecar died while running the work.
	claimTTL time.Duration
	poll     time.Duration
}

// ErrUnavailable wraps every error of a Store that could not reach its
// storage: the work was not started, and the caller should retry later.
var ErrUnavailable = errors.New("the idempotency store is unavailable")

// NewRedisClient is a store on a client the process already has (the
// fleet's). It does not check the server answers: while it does not, Do
// fails with ErrUnavailable and the rest of the sidecar keeps working.
func NewRedisClient(client *redis.Client, retention, claimTTL time.Duration) *Redis {
	return &Redis{client: client, shared: true, prefix: "tokenwarden:idem:", retention: retention, claimTTL: claimTTL, poll: 50 * time.Millisecond}
}

// NewRedis connects to url ("redis://user:pass@host:6379/0") and checks the
// server answers.
func NewRedis(ctx context.Context, url string, retention, claimTTL time.Duration) (*Redis, error) {
	opts, err := redis.ParseURL(url)
	if err != nil {
		// ParseURL's errors can repeat the URL, which may hold a password.
		return nil, errors.New("idempotency: the Redis URL is not a redis:// or rediss:// URL")
	}
	r := &Redis{client: redis.NewClient(opts), prefix: "tokenwarden:idem:", retention: retention, claimTTL: claimTTL, poll: 50 * time.Millisecond}
	if err := r.client.Ping(ctx).Err(); err != nil {
		r.client.Close()
		return nil, fmt.Errorf("idempotency: Redis at %s does not answer: %w", opts.Addr, err)
	}
	return r, nil
}

// Close releases the connections, unless the client is shared.
func (r *Redis) Close() error {
	if r.shared {
		return nil
	}
	return r.client.Close()
}

// unavailable marks a Redis failure, keeping the caller's own cancellation
// as it is: a caller that went away is not an outage.
func unavailable(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// record is what a key holds: a claim while the work runs, then the answer.
type record struct {
	Done        bool   `json:"done"`
	Fingerprint string `json:"fp"`
	Claim       string `json:"claim,omitempty"`
	Status      int    `json:"status,omitempty"`
	ContentType string `json:"ct,omitempty"`
	Body        []byte `json:"body,omitempty"`
}

// release deletes a claim only if it is still ours.
var release = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

// Do implements Store.
func (r *Redis) Do(ctx context.Context, key string, fp [32]byte, work func() Answer) (Answer, bool, error) {
	k := r.prefix + hex.EncodeToString([]byte(key))
	fpHex := hex.EncodeToString(fp[:])
	for {
		claim := make([]byte, 16)
		_, _ = rand.Read(claim)
		mine, _ := json.Marshal(record{Fingerprint: fpHex, Claim: hex.EncodeToString(claim)})
		ok, err := r.client.SetNX(ctx, k, mine, r.claimTTL).Result()
		if err != nil {
			return Answer{}, false, unavailable(ctx, err)
		}
		if ok {
			a := work()
			// The caller's context may be gone by now; the answer is
			// still worth keeping for its retry.
			store := context.WithoutCancel(ctx)
			if Keep(a) {
				done, _ := json.Marshal(record{Done: true, Fingerprint: fpHex, Status: a.Status, ContentType: a.ContentType, Body: a.Body})
				err = r.client.Set(store, k, done, r.retention).Err()
			} else {
				err = release.Run(store, r.client, []string{k}, string(mine)).Err()
			}
			// On a store error the answer still goes out; only its
			// replay is lost, and a retry does the work again.
			_ = err
			return a, false, nil
		}
		raw, err := r.client.Get(ctx, k).Bytes()
		if errors.Is(err, redis.Nil) {
			continue // released or expired since SETNX: claim it again
		}
		if err != nil {
			return Answer{}, false, unavailable(ctx, err)
		}
		var rec record
		if json.Unmarshal(raw, &rec) != nil {
			return Answer{}, false, fmt.Errorf("idempotency store: key %s holds something else", k)
		}
		if rec.Fingerprint != fpHex {
			return Answer{}, false, ErrMismatch
		}
		if rec.Done {
			return Answer{Status: rec.Status, ContentType: rec.ContentType, Body: rec.Body}, true, nil
		}
		// Another request (maybe on another sidecar) runs the work: wait.
		t := time.NewTimer(r.poll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return Answer{}, false, ctx.Err()
		}
	}
}
