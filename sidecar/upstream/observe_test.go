package upstream

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

type recorder struct {
	mu  sync.Mutex
	got []Exchange
}

func (r *recorder) Exchange(_ context.Context, e Exchange) {
	r.mu.Lock()
	r.got = append(r.got, e)
	r.mu.Unlock()
}

func TestObserverSeesEveryExchange(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	// A port that was just free: connecting to it fails on loopback.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	rec := &recorder{}
	cfg := DefaultConfig()
	cfg.Observer = &Observer{OnExchange: rec.Exchange}
	cfg.Retry = RetryPolicy{MaxAttempts: 1} // one exchange per request, however it ends
	client, err := NewFactory(cfg).Client(nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := WithProvider(context.Background(), "threecx")
	send := func(ctx context.Context, method, url string) {
		req, _ := http.NewRequestWithContext(ctx, method, url, nil)
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
		}
	}
	send(SigningIn(ctx), http.MethodPost, srv.URL+"/connect/token")
	send(ctx, http.MethodGet, srv.URL+"/xapi/v1/MyTokens")
	send(ctx, http.MethodGet, closed)

	if len(rec.got) != 3 {
		t.Fatalf("observed %d exchanges, want 3", len(rec.got))
	}
	signIn, call, failed := rec.got[0], rec.got[1], rec.got[2]
	if !signIn.SignIn || signIn.Provider != "threecx" || signIn.Method != http.MethodPost || signIn.Status != http.StatusTeapot || signIn.Err != nil {
		t.Errorf("sign-in exchange %+v", signIn)
	}
	if call.SignIn || call.Provider != "threecx" || call.Status != http.StatusTeapot || call.Duration <= 0 {
		t.Errorf("call exchange %+v", call)
	}
	if failed.Err == nil || failed.Status != 0 {
		t.Errorf("failed exchange %+v", failed)
	}
}

// The request timeout is a context deadline inside the transport chain; it
// must still cover the body, and only until the body is closed.
func TestClientKeepsTheRequestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte("head "))
		w.(http.Flusher).Flush()
		if r.URL.Path == "/stall" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		w.Write([]byte("tail"))
	}))
	defer srv.Close()
	defer close(release)
	cfg := DefaultConfig()
	cfg.RequestTimeout = 300 * time.Millisecond
	cfg.Observer = &Observer{OnExchange: (&recorder{}).Exchange}
	client, err := NewFactory(cfg).Client(nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := client.Get(srv.URL + "/fast")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "head tail" {
		t.Fatalf("fast answer: %q, %v", body, err)
	}
	// The retry layer may read the body itself (to tell a cut-short
	// answer), so the deadline shows on Get or on the read.
	resp, err = client.Get(srv.URL + "/stall")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("reading a stalled body: %v, want the request deadline", err)
	}
}
