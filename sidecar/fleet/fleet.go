// Package fleet lets several sidecars behind one address share what must
// be shared through one Redis: upstream sign-ins (3CX allows one token per
// client, so replicas signing in on their own knock each other out),
// negotiated facts such as Appgate's API version, and the Redis client the
// idempotency store uses. When Redis cannot be reached the fleet degrades
// instead of failing: each replica signs in on its own, says so in its log
// (at most once a minute), in /readyz and in tokenwarden_fleet_degraded.
package fleet

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Options configure a Fleet.
type Options struct {
	// URL is redis:// or rediss://, possibly with a password.
	URL string
	// TokenKey is 32 bytes: it encrypts stored tokens (AES-256-GCM) and
	// keys the HMAC that names Redis entries.
	TokenKey []byte
	// PreviousTokenKey, when set, is the key the fleet used before
	// TokenKey: while replicas are moved from one to the other, every
	// sign-in is kept under both keys' names (each record sealed with its
	// own key, each name leased), so replicas on either key share one
	// sign-in. Drop it once every replica runs TokenKey.
	PreviousTokenKey []byte
	// Now is the clock token expiry is read from (nil: the wall clock).
	Now func() time.Time
	// SignInTimeout bounds one sign-in (0: 30 s); the sign-in lease lasts
	// a little longer.
	SignInTimeout time.Duration
	// Logger receives the degraded warnings (nil: discarded).
	Logger *slog.Logger
	// OnDegraded is told each time the fleet becomes degraded (true) or
	// healthy again (false): the metric.
	OnDegraded func(bool)
	// CheckEvery is how often Redis is pinged to notice it is back or gone
	// while nothing else touches it (0: 5 s).
	CheckEvery time.Duration
}

// Fleet is one sidecar's handle on the shared Redis.
type Fleet struct {
	client *redis.Client
	seal   *sealer // TokenKey's
	// seals are TokenKey's and PreviousTokenKey's (when set), in that
	// order: where each sign-in and fact is kept.
	seals   []*sealer
	now     func() time.Time
	timeout time.Duration
	// lease is how long a sign-in lease lasts unless its holder renews
	// it: short, so a replica that dies mid-sign-in holds the others up
	// this long at most, not a whole sign-in timeout.
	lease  time.Duration
	log    *slog.Logger
	health *health

	stop chan struct{}
	done sync.WaitGroup
}

// Open prepares the fleet. It does not wait for Redis: a sidecar whose
// Redis is down still starts, degraded, so revocations go through.
func Open(o Options) (*Fleet, error) {
	opts, err := redis.ParseURL(o.URL)
	if err != nil {
		// ParseURL's errors can repeat the URL, which may hold a password.
		return nil, errors.New("fleet: redis.url is not a redis:// or rediss:// URL")
	}
	// A dead Redis must cost a call little: fail fast, then go it alone.
	if opts.DialTimeout == 0 {
		opts.DialTimeout = 2 * time.Second
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = 2 * time.Second
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = 2 * time.Second
	}
	opts.MaxRetries = 1
	if opts.DialerRetries == 0 {
		opts.DialerRetries = 1
	}
	quietRedis.Do(func() { redis.SetLogger(discard{}) })
	s, err := newSealer(o.TokenKey, "tokenKey")
	if err != nil {
		return nil, err
	}
	seals := []*sealer{s}
	if o.PreviousTokenKey != nil {
		prev, err := newSealer(o.PreviousTokenKey, "previousTokenKey")
		if err != nil {
			return nil, err
		}
		if prev.kid == s.kid {
			return nil, errors.New("fleet: redis.previousTokenKey is the same key as redis.tokenKey")
		}
		seals = append(seals, prev)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.SignInTimeout <= 0 {
		o.SignInTimeout = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if o.CheckEvery <= 0 {
		o.CheckEvery = 5 * time.Second
	}
	f := &Fleet{client: redis.NewClient(opts), seal: s, seals: seals, now: o.Now, timeout: o.SignInTimeout, lease: 10 * time.Second, log: o.Logger,
		health: newHealth(o.Now, o.Logger, opts.Addr, o.OnDegraded), stop: make(chan struct{})}
	f.done.Add(1)
	go f.watch(o.CheckEvery)
	return f, nil
}

// quietRedis silences go-redis's own log lines (one per failed dial, on
// stderr, outside the process's JSON log): the fleet says Redis is gone
// itself, once a minute.
var quietRedis sync.Once

type discard struct{}

func (discard) Printf(context.Context, string, ...any) {}

// Client is the Redis client, for the idempotency store to share.
func (f *Fleet) Client() *redis.Client { return f.client }

// Addr is the Redis host:port, safe to print.
func (f *Fleet) Addr() string { return f.health.addr }

// Ping asks Redis once, for tokenwarden check.
func (f *Fleet) Ping(ctx context.Context) error { return f.observe(f.client.Ping(ctx).Err()) }

// Degraded reports whether Redis was unreachable at the last attempt, so
// sign-ins are per replica.
func (f *Fleet) Degraded() bool { return f.health.isDegraded() }

// Close stops the health check and releases the connections.
func (f *Fleet) Close() error {
	close(f.stop)
	f.done.Wait()
	return f.client.Close()
}

// watch pings Redis now and then, so the degraded state (log, metric,
// /readyz) follows Redis even when no sign-in touches it.
func (f *Fleet) watch(every time.Duration) {
	defer f.done.Done()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		f.check()
		select {
		case <-f.stop:
			return
		case <-t.C:
		}
	}
}

func (f *Fleet) check() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	f.observe(f.client.Ping(ctx).Err())
}

// observe records the outcome of one Redis command and returns err. An
// absent key (redis.Nil) is an answer, not trouble.
func (f *Fleet) observe(err error) error {
	if err == nil || errors.Is(err, redis.Nil) {
		f.health.ok()
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // the caller's deadline, not Redis's fault
	}
	f.health.fail(err)
	return err
}

// health is the degraded state and its warnings.
type health struct {
	now      func() time.Time
	log      *slog.Logger
	addr     string
	onChange func(bool)

	mu       sync.Mutex
	degraded bool
	warned   time.Time // last warning; at most one a minute
}

func newHealth(now func() time.Time, log *slog.Logger, addr string, onChange func(bool)) *health {
	if onChange == nil {
		onChange = func(bool) {}
	}
	return &health{now: now, log: log, addr: addr, onChange: onChange}
}

func (h *health) isDegraded() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.degraded
}

func (h *health) fail(err error) {
	h.mu.Lock()
	changed := !h.degraded
	h.degraded = true
	warn := h.warned.IsZero() || h.now().Sub(h.warned) >= time.Minute
	if warn {
		h.warned = h.now()
	}
	h.mu.Unlock()
	if changed {
		h.onChange(true)
	}
	if warn {
		// go-redis errors name the address, never the password.
		h.log.Warn("fleet degraded: Redis is unreachable, so each replica signs in on its own and replicas may knock out each other's 3CX token; idempotency keys get 503 until Redis is back",
			"redis", h.addr, "error", fmt.Sprint(err))
	}
}

func (h *health) ok() {
	h.mu.Lock()
	changed := h.degraded
	h.degraded = false
	h.mu.Unlock()
	if changed {
		h.onChange(false)
		h.log.Info("fleet healthy again: Redis answers, sign-ins are shared", "redis", h.addr)
	}
}
