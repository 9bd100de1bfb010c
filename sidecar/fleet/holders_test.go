package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/redistest"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testclock"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testlog"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

var testKey = bytes.Repeat([]byte{7}, 32)

var holderKey = upstream.HolderKey{Provider: "threecx", Account: upstream.AccountDigest("https://pbx", "client", "CANARY-secret")}

// upstreamSignIns is one upstream shared by every replica: it counts
// sign-ins fleet-wide and issues tok-1, tok-2, ...
type upstreamSignIns struct {
	n      atomic.Int32
	life   time.Duration
	now    func() time.Time
	gate   chan struct{} // nil: answer at once
	during func()        // runs inside each sign-in, if set
}

func (u *upstreamSignIns) signIn(ctx context.Context) (upstream.Credential, error) {
	n := u.n.Add(1)
	if u.gate != nil {
		select {
		case <-u.gate:
		case <-ctx.Done():
			return upstream.Credential{}, ctx.Err()
		}
	}
	if u.during != nil {
		u.during()
	}
	return upstream.Credential{Token: fmt.Sprintf("CANARY-tok-%d", n), Expiry: u.now().Add(u.life)}, nil
}

type replica struct {
	f       *Fleet
	holders *Holders
	log     *testlog.Buffer
	changes chan bool
}

func newReplica(t testing.TB, url string, clock *testclock.Clock, key []byte) *replica {
	t.Helper()
	return newRotatingReplica(t, url, clock, key, nil)
}

// newRotatingReplica is a replica given the token key and the one before.
func newRotatingReplica(t testing.TB, url string, clock *testclock.Clock, key, previous []byte) *replica {
	t.Helper()
	r := &replica{log: &testlog.Buffer{}, changes: make(chan bool, 16)}
	f, err := Open(Options{URL: url, TokenKey: key, PreviousTokenKey: previous, Now: clock.Now, SignInTimeout: 30 * time.Second, Logger: r.log.Logger(),
		OnDegraded: func(d bool) { r.changes <- d }, CheckEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	r.f, r.holders = f, f.Holders()
	return r
}

// fleetOf starts a Redis and n replicas on it sharing one upstream whose
// tokens live an hour on the test clock.
func fleetOf(t *testing.T, n int) (*redistest.Server, *testclock.Clock, *upstreamSignIns, []*replica) {
	return benchFleet(t, n)
}

func benchFleet(t testing.TB, n int) (*redistest.Server, *testclock.Clock, *upstreamSignIns, []*replica) {
	t.Helper()
	srv := redistest.Start(t)
	clock := testclock.New()
	u := &upstreamSignIns{life: time.Hour, now: clock.Now}
	replicas := make([]*replica, n)
	for i := range replicas {
		replicas[i] = newReplica(t, srv.URL, clock, testKey)
	}
	return srv, clock, u, replicas
}

func (r *replica) holder(u *upstreamSignIns) upstream.Holder {
	return r.holders.Holder(holderKey, u.signIn)
}

// burst asks every replica's holder for a token from n goroutines each,
// all refused with stale, and returns the tokens they got.
func burst(t *testing.T, replicas []*replica, u *upstreamSignIns, n int, stale string) map[string]int {
	t.Helper()
	var mu sync.Mutex
	got := map[string]int{}
	var wg sync.WaitGroup
	for _, r := range replicas {
		h := r.holder(u)
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
				defer cancel()
				tok, err := h.Token(ctx, stale)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					got["error: "+err.Error()]++
					return
				}
				got[tok]++
			}()
		}
	}
	wg.Wait()
	return got
}

func TestReplicasShareOneSignInAndOneReSignIn(t *testing.T) {
	srv := redistest.Start(t)
	clock := testclock.New()
	u := &upstreamSignIns{life: time.Hour, now: clock.Now}
	replicas := []*replica{newReplica(t, srv.URL, clock, testKey), newReplica(t, srv.URL, clock, testKey), newReplica(t, srv.URL, clock, testKey)}

	got := burst(t, replicas, u, 50, "")
	if u.n.Load() != 1 || got["CANARY-tok-1"] != 150 {
		t.Fatalf("first burst: %d sign-ins, tokens %v", u.n.Load(), got)
	}
	// Every caller on every replica saw tok-1 refused: one fleet-wide
	// re-sign-in, not one per replica.
	got = burst(t, replicas, u, 50, "CANARY-tok-1")
	if u.n.Load() != 2 || got["CANARY-tok-2"] != 150 {
		t.Fatalf("after a 401: %d sign-ins, tokens %v", u.n.Load(), got)
	}
	// A late caller still holding tok-1 is not a reason to sign in again.
	if tok, err := replicas[2].holder(u).Token(context.Background(), "CANARY-tok-1"); err != nil || tok != "CANARY-tok-2" || u.n.Load() != 2 {
		t.Fatalf("%q %v, %d sign-ins", tok, err, u.n.Load())
	}
	for _, r := range replicas {
		if r.f.Degraded() || strings.Contains(r.log.String(), "CANARY") {
			t.Fatalf("degraded=%v log=%s", r.f.Degraded(), r.log.String())
		}
	}
}

func TestTheStoredTokenIsSealedUnderAnHMACedNameAndLivesNoLongerThanTheToken(t *testing.T) {
	srv := redistest.Start(t)
	clock := testclock.New()
	u := &upstreamSignIns{life: 10 * time.Minute, now: clock.Now}
	r := newReplica(t, srv.URL, clock, testKey)
	if _, err := r.holder(u).Token(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	c := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer c.Close()
	keys, err := c.Keys(context.Background(), "*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("%v %v", keys, err)
	}
	if strings.Contains(keys[0], holderKey.Account) || strings.Contains(keys[0], "threecx") {
		t.Fatalf("the key name shows what it holds: %s", keys[0])
	}
	raw, _ := c.Get(context.Background(), keys[0]).Result()
	if strings.Contains(raw, "CANARY") || !strings.Contains(raw, `"kid":"`+r.f.seal.kid+`"`) {
		t.Fatalf("record %s", raw)
	}
	ttl, _ := c.PTTL(context.Background(), keys[0]).Result()
	if ttl <= 0 || ttl > 10*time.Minute {
		t.Fatalf("ttl %v for a token that lives 10m", ttl)
	}
}

func TestAnotherTokenKeyCannotReadTheRecordAndReplacesIt(t *testing.T) {
	srv, clock, u, rs := fleetOf(t, 1)
	a := rs[0]
	if _, err := a.holder(u).Token(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	b := newReplica(t, srv.URL, clock, bytes.Repeat([]byte{8}, 32))
	// Same record name only if the names key matched: it does not, so b
	// is a fleet of its own. Prove a record sealed under another key is
	// refused when it is found.
	rec := a.holders.holders[holderKey].slots[0].record
	raw, _ := a.f.client.Get(context.Background(), rec).Bytes()
	if _, err := b.f.seal.open(rec, raw); !errors.Is(err, errUnknownKey) {
		t.Fatalf("%v", err)
	}
	// A record moved under another key does not open either.
	if _, err := a.f.seal.open(rec+"x", raw); !errors.Is(err, errCorrupt) {
		t.Fatalf("%v", err)
	}
}

// A key rotation in two rollouts: from key A to key B with A as the
// previous key, then without it. While each rollout is half done, the
// replicas on either side share one sign-in and one re-sign-in.
func TestRotatingTheTokenKeyKeepsOneFleet(t *testing.T) {
	srv := redistest.Start(t)
	clock := testclock.New()
	u := &upstreamSignIns{life: time.Hour, now: clock.Now}
	keyA, keyB := testKey, bytes.Repeat([]byte{8}, 32)
	old := newReplica(t, srv.URL, clock, keyA)
	moved := newRotatingReplica(t, srv.URL, clock, keyB, keyA)

	// First rollout, half done: a replica on A, one on B reading A.
	if got := burst(t, []*replica{old, moved}, u, 50, ""); u.n.Load() != 1 || got["CANARY-tok-1"] != 100 {
		t.Fatalf("A and B-with-previous-A: %d sign-ins, tokens %v", u.n.Load(), got)
	}
	clock.Advance(time.Second)
	if got := burst(t, []*replica{old, moved}, u, 50, "CANARY-tok-1"); u.n.Load() != 2 || got["CANARY-tok-2"] != 100 {
		t.Fatalf("A and B-with-previous-A after a 401: %d sign-ins, tokens %v", u.n.Load(), got)
	}
	// The last sign-in may have been the old replica's (its key's name
	// only): the moved replica, reading it, copies it under the new key's
	// name, where a replica on the new key alone looks.
	clock.Advance(time.Second)
	old.holder(u).Forget(context.Background())
	if tok, err := old.holder(u).Token(context.Background(), ""); err != nil || tok != "CANARY-tok-3" {
		t.Fatalf("old replica alone: %q %v", tok, err)
	}
	if tok, err := moved.holder(u).Token(context.Background(), "CANARY-tok-2"); err != nil || tok != "CANARY-tok-3" || u.n.Load() != 3 {
		t.Fatalf("moved replica after the old one signed in: %q %v, %d sign-ins", tok, err, u.n.Load())
	}
	// Second rollout, half done: the previous key dropped on one replica.
	clock.Advance(time.Second)
	done := newReplica(t, srv.URL, clock, keyB)
	if tok, err := done.holder(u).Token(context.Background(), ""); err != nil || tok != "CANARY-tok-3" || u.n.Load() != 3 {
		t.Fatalf("a replica on the new key alone: %q %v, %d sign-ins (want the old replica's token, copied)", tok, err, u.n.Load())
	}
	if got := burst(t, []*replica{moved, done}, u, 50, "CANARY-tok-3"); u.n.Load() != 4 || got["CANARY-tok-4"] != 100 {
		t.Fatalf("B-with-previous-A and B after a 401: %d sign-ins, tokens %v", u.n.Load(), got)
	}
	// Facts are shared across the rotation too.
	old.f.Memo().Put(context.Background(), "version", []byte("v22"), time.Hour)
	if v, ok := done.f.Memo().Get(context.Background(), "version"); ok {
		t.Fatalf("B alone read A's fact %q: the names should differ", v)
	}
	moved.f.Memo().Put(context.Background(), "version", []byte("v22"), time.Hour)
	for _, r := range []*replica{old, done} {
		if v, ok := r.f.Memo().Get(context.Background(), "version"); !ok || string(v) != "v22" {
			t.Fatalf("a fact put by B-with-previous-A: %q %v", v, ok)
		}
	}
	for _, r := range []*replica{old, moved, done} {
		if strings.Contains(r.log.String(), "ignoring a stored sign-in") {
			t.Fatalf("a replica could not read a record: %s", r.log.String())
		}
	}
	if _, err := Open(Options{URL: srv.URL, TokenKey: keyA, PreviousTokenKey: keyA}); err == nil || !strings.Contains(err.Error(), "previousTokenKey is the same key") {
		t.Fatalf("previous key = token key: %v", err)
	}
}

func TestAWaiterGivesUpOnItsOwnDeadline(t *testing.T) {
	srv := redistest.Start(t)
	clock := testclock.New()
	u := &upstreamSignIns{life: time.Hour, now: clock.Now, gate: make(chan struct{})}
	a, b := newReplica(t, srv.URL, clock, testKey), newReplica(t, srv.URL, clock, testKey)
	first := make(chan error, 1)
	go func() { _, err := a.holder(u).Token(context.Background(), ""); first <- err }()
	for u.n.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if _, err := b.holder(u).Token(ctx, ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("%v", err)
	}
	close(u.gate)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	// b's own flight, still waiting on the lease when its caller left,
	// finds a's token: still one sign-in.
	if tok, err := b.holder(u).Token(context.Background(), ""); err != nil || tok != "CANARY-tok-1" || u.n.Load() != 1 {
		t.Fatalf("%q %v %d", tok, err, u.n.Load())
	}
}

func TestASignInThatOutlivedItsLeaseIsNotStored(t *testing.T) {
	_, _, u, rs := fleetOf(t, 1)
	r := rs[0]
	h := r.holder(u).(*holder)
	// While the sign-in runs, its lease expires and another replica takes it.
	u.during = func() { r.f.client.Set(context.Background(), h.slots[0].lease, "someone-else", time.Minute) }
	if tok, err := h.Token(context.Background(), ""); err != nil || tok != "CANARY-tok-1" {
		t.Fatalf("%q %v", tok, err)
	}
	if n, _ := r.f.client.Exists(context.Background(), h.slots[0].record).Result(); n != 0 {
		t.Fatal("stored without the lease")
	}
	if !strings.Contains(r.log.String(), "outlasted its lease") {
		t.Fatal(r.log.String())
	}
}

func TestRedisGoneMeansPerReplicaSignInsSaidPlainly(t *testing.T) {
	srv, clock, u, rs := fleetOf(t, 2)
	a, b := rs[0], rs[1]
	if got := burst(t, []*replica{a, b}, u, 10, ""); got["CANARY-tok-1"] != 20 {
		t.Fatal(got)
	}
	srv.Kill()
	// Both replicas were refused tok-1: with no Redis each signs in itself.
	got := burst(t, []*replica{a, b}, u, 10, "CANARY-tok-1")
	if u.n.Load() != 3 || len(got) != 2 || got["CANARY-tok-2"]+got["CANARY-tok-3"] != 20 {
		t.Fatalf("%d sign-ins, %v", u.n.Load(), got)
	}
	for _, r := range []*replica{a, b} {
		if !r.f.Degraded() || <-r.changes != true || len(r.changes) != 0 {
			t.Fatal("not degraded, or said so more than once")
		}
		// Later failures within the minute log nothing more.
		_, _ = r.holder(u).Token(context.Background(), "CANARY-tok-2")
		_, _ = r.holder(u).Token(context.Background(), "CANARY-tok-3")
		if n := strings.Count(r.log.String(), "fleet degraded"); n != 1 {
			t.Fatalf("%d warnings: %s", n, r.log.String())
		}
	}
	clock.Advance(time.Minute)
	a.f.check()
	if n := strings.Count(a.log.String(), "fleet degraded"); n != 2 {
		t.Fatalf("%d warnings a minute on: %s", n, a.log.String())
	}
	if strings.Contains(a.log.String()+b.log.String(), "CANARY") {
		t.Fatal("a token was logged")
	}
}

func TestRedisBackMeansSharedAgainAndOldRecordsAreNotTrusted(t *testing.T) {
	_, clock, u, rs := fleetOf(t, 1)
	r := rs[0]
	h := r.holder(u).(*holder)
	if _, err := h.Token(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	// Redis unreachable for a moment: point the client at a dead port.
	good := r.f.client
	r.f.client = redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	if tok, _ := h.Token(context.Background(), "CANARY-tok-1"); tok != "CANARY-tok-2" || !r.f.Degraded() {
		t.Fatalf("%q degraded=%v", tok, r.f.Degraded())
	}
	r.f.client.Close()
	r.f.client = good
	clock.Advance(time.Second)
	r.f.check()
	if r.f.Degraded() || <-r.changes != true || <-r.changes != false {
		t.Fatal("not healthy again")
	}
	// tok-1 is still in Redis but was issued before this replica's own
	// sign-in (which killed it at 3CX): refused tok-2 means a new one.
	if tok, err := h.Token(context.Background(), "CANARY-tok-2"); err != nil || tok != "CANARY-tok-3" {
		t.Fatalf("%q %v", tok, err)
	}
	if !strings.Contains(r.log.String(), "healthy again") {
		t.Fatal(r.log.String())
	}
}

func TestForgetDropsTheFleetToken(t *testing.T) {
	_, _, u, rs := fleetOf(t, 2)
	a, b := rs[0], rs[1]
	if _, err := a.holder(u).Token(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	a.holder(u).Forget(context.Background())
	if tok, _ := b.holder(u).Token(context.Background(), ""); tok != "CANARY-tok-2" {
		t.Fatal(tok)
	}
}

func TestAnExpiredTokenIsNotHandedOut(t *testing.T) {
	_, clock, u, rs := fleetOf(t, 2)
	a, b := rs[0], rs[1]
	if _, err := a.holder(u).Token(context.Background(), ""); err != nil {
		t.Fatal(err)
	}
	clock.Advance(time.Hour)
	if tok, _ := b.holder(u).Token(context.Background(), ""); tok != "CANARY-tok-2" {
		t.Fatal(tok)
	}
	if tok, _ := a.holder(u).Token(context.Background(), ""); tok != "CANARY-tok-2" || u.n.Load() != 2 {
		t.Fatal(tok, u.n.Load())
	}
}

func TestMemoIsSharedAndSurvivesRedisGoing(t *testing.T) {
	srv := redistest.Start(t)
	clock := testclock.New()
	a, b := newReplica(t, srv.URL, clock, testKey).f.Memo(), newReplica(t, srv.URL, clock, testKey).f.Memo()
	ctx := context.Background()
	a.Put(ctx, "appgate:https://ctl", []byte("21"), time.Hour)
	if v, ok := b.Get(ctx, "appgate:https://ctl"); !ok || string(v) != "21" {
		t.Fatalf("%q %v", v, ok)
	}
	if _, ok := b.Get(ctx, "other"); ok {
		t.Fatal("found what was never put")
	}
	srv.Kill()
	if v, ok := a.Get(ctx, "appgate:https://ctl"); !ok || string(v) != "21" {
		t.Fatalf("without Redis: %q %v", v, ok)
	}
	a.Forget(ctx, "appgate:https://ctl")
	if _, ok := a.Get(ctx, "appgate:https://ctl"); ok {
		t.Fatal("forgotten but found")
	}
}

func TestOpenRefusesABadURLWithoutEchoingIt(t *testing.T) {
	_, err := Open(Options{URL: "http://u:CANARY@h", TokenKey: testKey})
	if err == nil || strings.Contains(err.Error(), "CANARY") {
		t.Fatal(err)
	}
	if _, err := Open(Options{URL: "redis://127.0.0.1:1", TokenKey: []byte("short")}); err == nil {
		t.Fatal("a short key was taken")
	}
}

func TestASlowSignInKeepsItsLeaseAndADeadOneLosesIt(t *testing.T) {
	_, _, u, rs := fleetOf(t, 2)
	a, b := rs[0], rs[1]
	a.f.lease, b.f.lease = 300*time.Millisecond, 300*time.Millisecond
	u.gate = make(chan struct{})
	first := make(chan string, 1)
	go func() { tok, _ := a.holder(u).Token(context.Background(), ""); first <- tok }()
	for u.n.Load() == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	second := make(chan string, 1)
	go func() { tok, _ := b.holder(u).Token(context.Background(), ""); second <- tok }()
	// Several lease lives pass while a's sign-in runs: a renews its lease,
	// so b keeps waiting instead of signing in too.
	time.Sleep(time.Second)
	close(u.gate)
	if x, y := <-first, <-second; x != "CANARY-tok-1" || y != x || u.n.Load() != 1 {
		t.Fatalf("%q %q, %d sign-ins", x, y, u.n.Load())
	}

	// A replica that died holding the lease (never renewing, never
	// storing) holds the others up one lease life at most.
	h := b.holder(u).(*holder)
	b.f.client.Set(context.Background(), h.slots[0].lease, "dead-replica", 300*time.Millisecond)
	u.gate = nil
	start := time.Now()
	if tok, err := h.Token(context.Background(), "CANARY-tok-1"); err != nil || tok != "CANARY-tok-2" {
		t.Fatalf("%q %v", tok, err)
	}
	if waited := time.Since(start); waited < 250*time.Millisecond {
		t.Fatalf("signed in while another replica held the lease (%v)", waited)
	}
}
