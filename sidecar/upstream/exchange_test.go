package upstream_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// exchanger is an Exchanger for a server running h, and the server's URL.
func exchanger(t *testing.T, h http.Handler, signIn upstream.SignInFunc) (*upstream.Exchanger, string) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f := upstream.NewFactory(upstream.Config{RequestTimeout: 2 * time.Second, Destinations: upstream.Destinations{AllowLoopback: true}, Retry: upstream.RetryPolicy{MaxAttempts: 1}})
	hc, err := f.Client(nil)
	if err != nil {
		t.Fatal(err)
	}
	x := &upstream.Exchanger{HTTP: hc, Timeout: f.RequestTimeout(), Secrets: upstream.NewSecrets("the-client-secret")}
	if signIn != nil {
		x.Holder = upstream.NewLocalHolders(nil, 0).Holder(upstream.HolderKey{Provider: "test", Account: srv.URL}, signIn)
	}
	return x, srv.URL
}

// The 401 rule: calls refused with the same token cause one new sign-in
// between them and one retry each; a second 401 goes back to the caller.
func TestExchange401SignsInOnceAndRetriesOnce(t *testing.T) {
	var signIns atomic.Int32
	var current atomic.Value
	current.Store("tok-1")
	signIn := func(context.Context) (upstream.Credential, error) {
		n := signIns.Add(1)
		return upstream.Credential{Token: "tok-" + string(rune('0'+n))}, nil
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+current.Load().(string) {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte("refused " + r.Header.Get("Authorization")))
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	x, u := exchanger(t, h, signIn)
	ctx := context.Background()
	if ans, err := x.Do(ctx, upstream.Call{Method: http.MethodGet, URL: u}); err != nil || ans.Status != 200 || ans.Refreshed {
		t.Fatalf("first call: %+v %v", ans, err)
	}
	current.Store("tok-2") // the upstream dropped tok-1
	var wg sync.WaitGroup
	var refreshed atomic.Int32
	for range 20 {
		wg.Go(func() {
			ans, err := x.Do(ctx, upstream.Call{Method: http.MethodGet, URL: u})
			if err != nil || ans.Status != 200 {
				t.Errorf("after the token was dropped: %+v %v", ans, err)
				return
			}
			if ans.Refreshed {
				refreshed.Add(1)
			}
		})
	}
	wg.Wait()
	if refreshed.Load() == 0 {
		t.Fatal("no call saw the 401 and was sent again")
	}
	if n := signIns.Load(); n != 2 {
		t.Fatalf("%d sign-ins, want 2 (the first and one for every call refused with tok-1)", n)
	}
	current.Store("never")
	ans, err := x.Do(ctx, upstream.Call{Method: http.MethodGet, URL: u})
	if err != nil || ans.Status != http.StatusUnauthorized || strings.Contains(string(ans.Body), "tok-") {
		t.Fatalf("a persistent 401: %+v %v (the refused token must be redacted: %q)", ans, err, ans.Body)
	}
}

// A caller waits for a sign-in no longer than the exchanger's Timeout.
func TestExchangeSignInWaitIsBounded(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	x, u := exchanger(t, http.NotFoundHandler(), func(ctx context.Context) (upstream.Credential, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return upstream.Credential{}, errors.New("no token")
	})
	x.Timeout = 200 * time.Millisecond
	start := time.Now()
	_, err := x.Do(context.Background(), upstream.Call{Method: http.MethodGet, URL: u})
	var wait *upstream.SignInWaitError
	if !errors.As(err, &wait) || time.Since(start) > 5*time.Second {
		t.Fatalf("want a SignInWaitError after the timeout, got %v after %v", err, time.Since(start))
	}
}

// An answer beyond MaxAnswer is a TooLargeError saying the status and
// whether the call was mutating; one within it is read whole.
func TestExchangeBodyLimit(t *testing.T) {
	body := strings.Repeat("x", 4096)
	x, u := exchanger(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(body)) }), nil)
	x.MaxAnswer = 4096
	if ans, err := x.Do(context.Background(), upstream.Call{Method: http.MethodPost, URL: u, Mutating: true}); err != nil || len(ans.Body) != 4096 {
		t.Fatalf("an answer of exactly the limit: %v", err)
	}
	x.MaxAnswer = 4095
	_, err := x.Do(context.Background(), upstream.Call{Method: http.MethodPost, URL: u, Mutating: true})
	var large *upstream.TooLargeError
	if !errors.As(err, &large) || large.Status != 200 || !large.Mutating || large.Limit != 4095 {
		t.Fatalf("want a TooLargeError for a mutating 200, got %v", err)
	}
}

// Open hands a success back unread; reading it stops with *TooLargeError
// once it passes MaxAnswer, after exactly MaxAnswer bytes. A mutating call
// is never streamed: its answer is read whole (and refused whole when too
// long) as Do reads it.
func TestOpenStreamsASuccessAndCountsItsLength(t *testing.T) {
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(strings.Repeat("x", 5000)))
	})
	x, u := exchanger(t, h, nil)
	x.MaxAnswer = 4096
	ans, err := x.Open(context.Background(), upstream.Call{Method: http.MethodGet, URL: u})
	if err != nil || ans.Body != nil || ans.Stream == nil {
		t.Fatalf("open: %+v %v", ans, err)
	}
	defer ans.Stream.Close()
	got, err := io.ReadAll(ans.Stream)
	var large *upstream.TooLargeError
	if !errors.As(err, &large) || large.Limit != 4096 || len(got) != 4096 {
		t.Fatalf("read %d bytes, err %v", len(got), err)
	}

	x.MaxAnswer = 8192
	ans, err = x.Open(context.Background(), upstream.Call{Method: http.MethodGet, URL: u})
	if err != nil {
		t.Fatal(err)
	}
	got, err = io.ReadAll(ans.Stream)
	ans.Stream.Close()
	if err != nil || len(got) != 5000 {
		t.Fatalf("a success within the bound: %d bytes, %v", len(got), err)
	}

	x.MaxAnswer = 4096
	_, err = x.Open(context.Background(), upstream.Call{Method: http.MethodPost, URL: u, Mutating: true})
	if !errors.As(err, &large) || !large.Mutating {
		t.Fatalf("a mutating call's long answer: %v", err)
	}
}
