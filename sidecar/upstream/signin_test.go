package upstream_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/testclock"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

var key = upstream.HolderKey{Provider: "test", Account: upstream.AccountDigest("https://pbx", "client")}

// counter is a sign-in that issues tok-1, tok-2, ... after an optional gate.
type counter struct {
	n      atomic.Int32
	gate   chan struct{} // nil: answer at once
	expiry func() time.Time
	fail   atomic.Bool
}

func (c *counter) signIn(ctx context.Context) (upstream.Credential, error) {
	n := c.n.Add(1)
	if c.gate != nil {
		select {
		case <-c.gate:
		case <-ctx.Done():
			return upstream.Credential{}, ctx.Err()
		}
	}
	if c.fail.Load() {
		return upstream.Credential{}, errors.New("refused")
	}
	cred := upstream.Credential{Token: fmt.Sprintf("tok-%d", n)}
	if c.expiry != nil {
		cred.Expiry = c.expiry()
	}
	return cred, nil
}

func TestConcurrentCallersShareOneSignIn(t *testing.T) {
	c := &counter{gate: make(chan struct{})}
	h := upstream.NewLocalHolders(nil, time.Minute).Holder(key, c.signIn)
	var wg sync.WaitGroup
	got := make([]string, 100)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = h.Token(context.Background(), "")
		}()
	}
	time.Sleep(20 * time.Millisecond)
	close(c.gate)
	wg.Wait()
	for _, tok := range got {
		if tok != "tok-1" {
			t.Fatalf("a caller got %q", tok)
		}
	}
	if c.n.Load() != 1 {
		t.Fatalf("%d sign-ins", c.n.Load())
	}
}

func TestTheSameKeyIsTheSameHolder(t *testing.T) {
	hs := upstream.NewLocalHolders(nil, time.Minute)
	c := &counter{}
	a, _ := hs.Holder(key, c.signIn).Token(context.Background(), "")
	b, _ := hs.Holder(key, (&counter{}).signIn).Token(context.Background(), "")
	if a != b || c.n.Load() != 1 {
		t.Fatalf("two sessions of one account: %q and %q, %d sign-ins", a, b, c.n.Load())
	}
}

// Waiters for a sign-in that hangs are each answered by their own deadline,
// not in turn.
func TestWaitersOnAHangingSignInKeepTheirOwnDeadlines(t *testing.T) {
	c := &counter{gate: make(chan struct{})}
	defer close(c.gate)
	h := upstream.NewLocalHolders(nil, time.Hour).Holder(key, c.signIn)
	start := time.Now()
	var wg sync.WaitGroup
	var late atomic.Int32
	for range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			if _, err := h.Token(ctx, ""); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("err %v", err)
			}
			if time.Since(start) > 2*time.Second {
				late.Add(1)
			}
		}()
	}
	wg.Wait()
	if late.Load() > 0 || c.n.Load() != 1 {
		t.Fatalf("%d waiters answered late, %d sign-ins", late.Load(), c.n.Load())
	}
}

func TestAStaleTokenCausesExactlyOneNewSignIn(t *testing.T) {
	c := &counter{}
	h := upstream.NewLocalHolders(nil, time.Minute).Holder(key, c.signIn)
	first, _ := h.Token(context.Background(), "")
	var wg sync.WaitGroup
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if tok, err := h.Token(context.Background(), first); err != nil || tok == first {
				t.Errorf("%q %v", tok, err)
			}
		}()
	}
	wg.Wait()
	if c.n.Load() != 2 {
		t.Fatalf("%d sign-ins after one refused token, want 2", c.n.Load())
	}
}

func TestAnExpiredTokenIsRenewedOnTheSharedClock(t *testing.T) {
	clock := testclock.New()
	c := &counter{expiry: func() time.Time { return clock.Now().Add(time.Minute) }}
	h := upstream.NewLocalHolders(clock.Now, time.Minute).Holder(key, c.signIn)
	a, _ := h.Token(context.Background(), "")
	clock.Advance(59 * time.Second)
	b, _ := h.Token(context.Background(), "")
	clock.Advance(time.Second)
	d, _ := h.Token(context.Background(), "")
	if a != b || b == d || c.n.Load() != 2 {
		t.Fatalf("%q %q %q after %d sign-ins", a, b, d, c.n.Load())
	}
}

func TestAFailedSignInIsNotKeptAndForgetSignsInAgain(t *testing.T) {
	c := &counter{}
	c.fail.Store(true)
	h := upstream.NewLocalHolders(nil, time.Minute).Holder(key, c.signIn)
	if _, err := h.Token(context.Background(), ""); err == nil {
		t.Fatal("a refused sign-in gave a token")
	}
	c.fail.Store(false)
	a, err := h.Token(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	h.Forget(context.Background())
	b, _ := h.Token(context.Background(), "")
	if a == b || c.n.Load() != 3 {
		t.Fatalf("%q %q after %d sign-ins", a, b, c.n.Load())
	}
}

// The sign-in gets the holder's timeout, not the caller's missing deadline.
func TestTheSignInHasTheHoldersDeadline(t *testing.T) {
	c := &counter{gate: make(chan struct{})}
	defer close(c.gate)
	h := upstream.NewLocalHolders(nil, 50*time.Millisecond).Holder(key, c.signIn)
	if _, err := h.Token(context.Background(), ""); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err %v", err)
	}
}

func TestAccountDigestSeparatesParts(t *testing.T) {
	if upstream.AccountDigest("ab", "c") == upstream.AccountDigest("a", "bc") {
		t.Fatal("parts collide by concatenation")
	}
}

func TestLocalMemoExpiresOnItsClock(t *testing.T) {
	clock := testclock.New()
	m := upstream.NewLocalMemo(clock.Now)
	ctx := context.Background()
	m.Put(ctx, "k", []byte("v"), time.Minute)
	if v, ok := m.Get(ctx, "k"); !ok || string(v) != "v" {
		t.Fatal("not stored")
	}
	clock.Advance(time.Minute)
	if _, ok := m.Get(ctx, "k"); ok {
		t.Fatal("kept past its TTL")
	}
	m.Put(ctx, "k", []byte("v"), 0)
	m.Forget(ctx, "k")
	if _, ok := m.Get(ctx, "k"); ok {
		t.Fatal("kept after Forget")
	}
}
