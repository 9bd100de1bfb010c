package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/redis/go-redis/v9"

	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// maxUnknownLife bounds how long a token with no stated lifetime stays in
// Redis: no longer than any 3CX or Appgate token lives.
const maxUnknownLife = time.Hour

// Holders keeps each upstream client's sign-in in Redis for the whole
// fleet. Inside a replica, upstream.LocalHolders still collapses callers
// onto one flight; that flight reads the fleet's token from Redis, and
// only when Redis has none usable does it sign in, under a Redis lease so
// one replica at a time does.
type Holders struct {
	f     *Fleet
	rs    *redsync.Redsync
	local *upstream.LocalHolders

	mu      sync.Mutex
	holders map[upstream.HolderKey]*holder
}

// Holders returns the fleet's sign-in holders. Call it once per process:
// each result single-flights its own callers, as one replica does.
func (f *Fleet) Holders() *Holders {
	return &Holders{f: f, rs: redsync.New(goredis.NewPool(f.client)), local: upstream.NewLocalHolders(f.now, f.timeout),
		holders: map[upstream.HolderKey]*holder{}}
}

// Holder implements upstream.Holders.
func (hs *Holders) Holder(key upstream.HolderKey, signIn upstream.SignInFunc) upstream.Holder {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	h, ok := hs.holders[key]
	if !ok {
		h = &holder{f: hs.f, rs: hs.rs, signIn: signIn}
		for _, s := range hs.f.seals {
			name := s.name("signin", key.Provider+"\x00"+key.Account)
			// The braces keep both keys in one Redis Cluster slot, which
			// the fencing script needs.
			h.slots = append(h.slots, slot{record: "tokenwarden:signin:{" + name + "}", lease: "tokenwarden:signin:{" + name + "}:lease", seal: s})
		}
		h.local = hs.local.Holder(key, h.shared)
		hs.holders[key] = h
	}
	return h
}

type holder struct {
	f      *Fleet
	rs     *redsync.Redsync
	signIn upstream.SignInFunc
	// slots are where the sign-in is kept: one per token key, the
	// current key's first. Replicas on either key of a rotation share the
	// previous key's slot, so a sign-in holds every slot's lease and is
	// stored in every slot.
	slots []slot
	local upstream.Holder

	mu sync.Mutex
	// seen is the token this replica last took, from Redis or its own
	// sign-in. The local holder asks for a new one only when that one is
	// refused or expired, so the same token in Redis is stale too: this
	// is the compare half of the compare-and-swap.
	seen string
	// floor is when this replica last signed in on its own (Redis
	// unreachable). 3CX keeps only the newest token, so a record issued
	// before it, left from before the outage, is dead.
	floor time.Time
}

// slot is one token key's place for a sign-in.
type slot struct {
	record string // Redis key of the sealed token
	lease  string // Redis key of the sign-in lease
	seal   *sealer
}

// token is what a record holds, sealed.
type token struct {
	Token  string `json:"t"`
	Expiry int64  `json:"e,omitempty"` // unix ms; 0: the upstream gave no lifetime
	Issued int64  `json:"i"`           // unix ms
}

func (h *holder) Token(ctx context.Context, stale string) (string, error) {
	return h.local.Token(ctx, stale)
}

// Forget drops the token here and in Redis, so the next caller anywhere
// signs in.
func (h *holder) Forget(ctx context.Context) {
	h.local.Forget(ctx)
	h.mu.Lock()
	h.seen = ""
	h.mu.Unlock()
	for _, s := range h.slots {
		_ = h.f.observe(h.f.client.Del(ctx, s.record).Err())
	}
}

// shared is the local holder's sign-in: take the fleet's token from Redis,
// or sign in under the lease. ctx carries the local holder's own deadline.
func (h *holder) shared(ctx context.Context) (upstream.Credential, error) {
	h.mu.Lock()
	stale, floor := h.seen, h.floor
	h.mu.Unlock()
	for {
		if c, ok, err := h.read(ctx, stale, floor); err != nil {
			return h.alone(ctx, err)
		} else if ok {
			return h.took(c), nil
		}
		leases, err := h.lock(ctx)
		var taken *redsync.ErrTaken
		switch {
		case err == nil:
			return h.signInLeased(ctx, leases, stale, floor)
		case errors.As(err, &taken):
			// Another replica is signing in: its token will be in Redis.
			select {
			case <-time.After(time.Duration(15+rand.IntN(20)) * time.Millisecond):
				continue
			case <-ctx.Done():
				return upstream.Credential{}, ctx.Err()
			}
		case ctx.Err() != nil:
			return upstream.Credential{}, ctx.Err()
		default:
			return h.alone(ctx, h.f.observe(err))
		}
	}
}

// lock takes every slot's lease, or none: it lets go of those it took when
// one is taken (*redsync.ErrTaken) or Redis fails.
func (h *holder) lock(ctx context.Context) ([]*redsync.Mutex, error) {
	var leases []*redsync.Mutex
	for _, s := range h.slots {
		m := h.rs.NewMutex(s.lease, redsync.WithExpiry(h.f.lease), redsync.WithTries(1))
		if err := m.TryLockContext(ctx); err != nil {
			unlock(ctx, leases)
			return nil, err
		}
		leases = append(leases, m)
	}
	return leases, nil
}

func unlock(ctx context.Context, leases []*redsync.Mutex) {
	uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
	defer cancel()
	for _, m := range leases {
		_, _ = m.UnlockContext(uctx)
	}
}

func (h *holder) signInLeased(ctx context.Context, leases []*redsync.Mutex, stale string, floor time.Time) (upstream.Credential, error) {
	defer unlock(ctx, leases)
	// Whoever held the lease before may have signed in already.
	if c, ok, err := h.read(ctx, stale, floor); err != nil {
		return h.alone(ctx, err)
	} else if ok {
		return h.took(c), nil
	}
	stop := h.renew(leases)
	cred, err := h.signIn(ctx)
	stop()
	if err != nil {
		return upstream.Credential{}, err
	}
	h.store(ctx, leases, cred)
	return h.took(cred), nil
}

// renew extends the lease every third of its life while the sign-in runs,
// so a slow upstream keeps it and a dead replica loses it soon. If renewal
// fails the store's fence still keeps a late token from overwriting.
func (h *holder) renew(leases []*redsync.Mutex) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(h.f.lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				ctx, cancel := context.WithTimeout(context.Background(), h.f.lease/3)
				for _, m := range leases {
					_, _ = m.ExtendContext(ctx)
				}
				cancel()
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// alone signs in without the fleet: Redis is unreachable, and a revocation
// that can go through must not wait for it.
func (h *holder) alone(ctx context.Context, redisErr error) (upstream.Credential, error) {
	if ctx.Err() != nil {
		return upstream.Credential{}, ctx.Err()
	}
	_ = redisErr // observe has logged it and marked the fleet degraded
	cred, err := h.signIn(ctx)
	if err != nil {
		return upstream.Credential{}, err
	}
	h.mu.Lock()
	h.floor = h.f.now()
	h.mu.Unlock()
	return h.took(cred), nil
}

func (h *holder) took(c upstream.Credential) upstream.Credential {
	h.mu.Lock()
	h.seen = c.Token
	h.mu.Unlock()
	return c
}

// read returns the fleet's token if it is usable: not the stale one, not
// expired, not older than this replica's own last sign-in; of the slots'
// usable tokens, the newest, which it then copies into the slots that lack
// it (during a rotation, a replica on one key alone finds it there). err is
// Redis trouble only; a record that does not open is treated as absent and
// replaced.
func (h *holder) read(ctx context.Context, stale string, floor time.Time) (upstream.Credential, bool, error) {
	found := make([]stored, len(h.slots))
	best := -1
	for i, s := range h.slots {
		r, err := h.readSlot(ctx, s)
		if err != nil {
			return upstream.Credential{}, false, err
		}
		found[i] = r
		t := r.token
		if !r.ok || t.Token == stale || (t.Expiry != 0 && !h.f.now().Before(time.UnixMilli(t.Expiry))) || (!floor.IsZero() && t.Issued <= floor.UnixMilli()) {
			continue
		}
		if best < 0 || t.Issued > found[best].token.Issued {
			best = i
		}
	}
	if best < 0 {
		return upstream.Credential{}, false, nil
	}
	t := found[best].token
	for i, r := range found {
		if i != best && (!r.ok || r.token.Token != t.Token) {
			h.copyTo(ctx, h.slots[i], r.raw, t)
		}
	}
	c := upstream.Credential{Token: t.Token}
	if t.Expiry != 0 {
		c.Expiry = time.UnixMilli(t.Expiry)
	}
	return c, true, nil
}

// stored is one slot's record as read: raw is nil when there is none, ok
// false when it does not open with the slot's key.
type stored struct {
	raw   []byte
	token token
	ok    bool
}

func (h *holder) readSlot(ctx context.Context, s slot) (stored, error) {
	raw, err := h.f.client.Get(ctx, s.record).Bytes()
	if errors.Is(h.f.observe(err), redis.Nil) {
		return stored{}, nil
	}
	if err != nil {
		return stored{}, err
	}
	plain, err := s.seal.open(s.record, raw)
	if err != nil {
		h.f.log.Warn("fleet: ignoring a stored sign-in: "+err.Error()+" (has redis.tokenKey changed on some replicas without redis.previousTokenKey?); signing in again", "key", s.record)
		return stored{raw: raw}, nil
	}
	var t token
	if json.Unmarshal(plain, &t) != nil || t.Token == "" {
		return stored{raw: raw}, nil
	}
	return stored{raw: raw, token: t, ok: true}, nil
}

// copyScript replaces a record only if it is still the one read (ARGV[1],
// "" for none): a sign-in stored meanwhile is newer and stays.
var copyScript = redis.NewScript(`
local cur = redis.call("GET", KEYS[1])
if (cur == false and ARGV[1] ~= "") or (cur ~= false and cur ~= ARGV[1]) then return 0 end
redis.call("SET", KEYS[1], ARGV[2], "PX", ARGV[3])
return 1`)

// copyTo puts t into slot s, sealed with s's key, in place of what was read
// there (was).
func (h *holder) copyTo(ctx context.Context, s slot, was []byte, t token) {
	ttl := maxUnknownLife - h.f.now().Sub(time.UnixMilli(t.Issued))
	if t.Expiry != 0 {
		ttl = min(ttl, time.UnixMilli(t.Expiry).Sub(h.f.now()))
	}
	if ttl < time.Millisecond {
		return
	}
	plain, _ := json.Marshal(t)
	_ = h.f.observe(copyScript.Run(context.WithoutCancel(ctx), h.f.client, []string{s.record},
		string(was), s.seal.seal(s.record, plain), ttl.Milliseconds()).Err())
}

// storeScript writes the record only while the lease is still ours: the
// fence that keeps a replica whose lease ran out (a stalled process) from
// overwriting the token a later lease holder stored.
var storeScript = redis.NewScript(`
if redis.call("GET", KEYS[1]) ~= ARGV[1] then return 0 end
redis.call("SET", KEYS[2], ARGV[2], "PX", ARGV[3])
return 1`)

func (h *holder) store(ctx context.Context, leases []*redsync.Mutex, c upstream.Credential) {
	now := h.f.now()
	ttl := maxUnknownLife
	var exp int64
	if !c.Expiry.IsZero() {
		exp = c.Expiry.UnixMilli()
		ttl = min(ttl, c.Expiry.Sub(now))
	}
	if ttl < time.Millisecond {
		return
	}
	plain, _ := json.Marshal(token{Token: c.Token, Expiry: exp, Issued: now.UnixMilli()})
	stored := 0
	for i, s := range h.slots {
		n, err := storeScript.Run(context.WithoutCancel(ctx), h.f.client, []string{s.lease, s.record},
			leases[i].Value(), s.seal.seal(s.record, plain), ttl.Milliseconds()).Int()
		if h.f.observe(err) != nil {
			return
		}
		stored += n
	}
	if stored == len(h.slots) {
		// The fleet's record is this sign-in now, newer than any
		// sign-in of this replica's own.
		h.mu.Lock()
		h.floor = time.Time{}
		h.mu.Unlock()
		return
	}
	h.f.log.Warn("fleet: a sign-in outlasted its lease and was not stored; another replica may sign in again", "key", h.slots[0].record)
}
