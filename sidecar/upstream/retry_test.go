package upstream_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/faults"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// rig is an upstream that counts the work it did, behind a fault injector,
// and a client whose waits are recorded instead of slept.
type rig struct {
	inj     *faults.Injector
	url     string
	client  *http.Client
	mu      sync.Mutex
	work    int
	waits   []time.Duration
	retries []upstream.RetryEvent
}

func newRig(t *testing.T, policy upstream.RetryPolicy) *rig {
	t.Helper()
	r := &rig{}
	r.inj = faults.Wrap(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.work++
		r.mu.Unlock()
		_, _ = io.WriteString(w, `{"value":"done"}`)
	}))
	srv := httptest.NewServer(r.inj)
	t.Cleanup(srv.Close)
	r.url = srv.URL
	policy.Wait = func(_ context.Context, d time.Duration) error {
		r.mu.Lock()
		r.waits = append(r.waits, d)
		r.mu.Unlock()
		return nil
	}
	f := upstream.NewFactory(upstream.Config{Retry: policy, Destinations: upstream.Destinations{AllowLoopback: true},
		Observer: &upstream.Observer{OnRetry: func(e upstream.RetryEvent) { r.retries = append(r.retries, e) }}})
	r.client, _ = f.Client(nil)
	return r
}

func (r *rig) worked() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.work
}

func (r *rig) post(t *testing.T, repeat upstream.Repeat) (*http.Response, string, error) {
	t.Helper()
	req, _ := http.NewRequestWithContext(upstream.WithRepeat(context.Background(), repeat), http.MethodPost, r.url+"/op", strings.NewReader("form=1"))
	resp, err := r.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp, string(b), err
}

func TestRetryHonoursRetryAfterThenSucceeds(t *testing.T) {
	r := newRig(t, upstream.DefaultRetryPolicy())
	r.inj.Add(faults.Rule{Path: "/op", Times: 2, Fault: faults.Status(http.StatusServiceUnavailable, "2")})
	resp, body, err := r.post(t, upstream.RepeatSafe)
	if err != nil || resp.StatusCode != 200 || body != `{"value":"done"}` {
		t.Fatalf("%v %v %q", err, resp, body)
	}
	if r.worked() != 1 || r.inj.Requests("POST", "/op") != 3 {
		t.Fatalf("work %d, requests %d", r.worked(), r.inj.Requests("POST", "/op"))
	}
	if len(r.waits) != 2 || r.waits[0] != 2*time.Second || r.waits[1] != 2*time.Second {
		t.Fatalf("waits %v, want two of 2s", r.waits)
	}
	if len(r.retries) != 2 || r.retries[0].Reason != "HTTP 503" || r.retries[1].Attempt != 2 {
		t.Fatalf("retry events %+v", r.retries)
	}
}

func TestRetryBackoffGrowsWithJitterWithinBounds(t *testing.T) {
	p := upstream.RetryPolicy{MaxAttempts: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: 250 * time.Millisecond, MaxElapsed: time.Minute}
	r := newRig(t, p)
	r.inj.Add(faults.Rule{Path: "/op", Fault: faults.Status(http.StatusBadGateway, "")})
	resp, _, err := r.post(t, upstream.RepeatSafe)
	if err != nil || resp.StatusCode != http.StatusBadGateway {
		t.Fatalf("want the last 502 back, got %v %v", resp, err)
	}
	if r.inj.Requests("POST", "/op") != 5 || len(r.waits) != 4 {
		t.Fatalf("requests %d waits %v", r.inj.Requests("POST", "/op"), r.waits)
	}
	ceilings := []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 250 * time.Millisecond, 250 * time.Millisecond}
	for i, w := range r.waits {
		if w <= 0 || w > ceilings[i] {
			t.Errorf("wait %d = %v, want in (0, %v]", i, w, ceilings[i])
		}
	}
}

func TestRetryAfterBeyondBudgetIsNotWaited(t *testing.T) {
	r := newRig(t, upstream.DefaultRetryPolicy())
	r.inj.Add(faults.Rule{Path: "/op", Fault: faults.Status(http.StatusTooManyRequests, "120")})
	resp, _, err := r.post(t, upstream.RepeatSafe)
	if err != nil || resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "120" {
		t.Fatalf("want the 429 with its Retry-After, got %v %v", resp, err)
	}
	if len(r.waits) != 0 || r.inj.Requests("POST", "/op") != 1 {
		t.Fatalf("waited %v", r.waits)
	}
}

func TestRetryAfterHTTPDate(t *testing.T) {
	r := newRig(t, upstream.DefaultRetryPolicy())
	r.inj.Add(faults.Rule{Path: "/op", Times: 1, Fault: faults.Status(http.StatusServiceUnavailable, time.Now().Add(4*time.Second).UTC().Format(http.TimeFormat))})
	if _, _, err := r.post(t, upstream.RepeatSafe); err != nil {
		t.Fatal(err)
	}
	if len(r.waits) != 1 || r.waits[0] < 2*time.Second || r.waits[0] > 4*time.Second {
		t.Fatalf("waits %v", r.waits)
	}
}

func TestUnsafeRequestIsNotRepeatedAfterAnAnswer(t *testing.T) {
	for _, code := range []int{429, 502, 503, 504} {
		r := newRig(t, upstream.DefaultRetryPolicy())
		r.inj.Add(faults.Rule{Path: "/op", Fault: faults.Status(code, "1")})
		resp, _, err := r.post(t, upstream.RepeatUnsafe)
		if err != nil || resp.StatusCode != code || r.inj.Requests("POST", "/op") != 1 {
			t.Fatalf("%d: %v %v requests=%d", code, resp, err, r.inj.Requests("POST", "/op"))
		}
	}
}

func TestPostIsUnsafeByDefaultAndGetSafe(t *testing.T) {
	r := newRig(t, upstream.DefaultRetryPolicy())
	r.inj.Add(faults.Rule{Times: 1, Fault: faults.Status(503, "")})
	if resp, _, _ := r.post(t, upstream.RepeatByMethod); resp.StatusCode != 503 {
		t.Fatalf("POST was retried: %d", resp.StatusCode)
	}
	r.inj.Add(faults.Rule{Times: 1, Fault: faults.Status(503, "")})
	resp, err := r.client.Get(r.url + "/op")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET not retried: %v %v", resp, err)
	}
	resp.Body.Close()
}

func TestConnectionResetIsRetriedWhenSafe(t *testing.T) {
	r := newRig(t, upstream.DefaultRetryPolicy())
	r.inj.Add(faults.Rule{Path: "/op", Times: 2, Fault: faults.ResetAfter()})
	resp, _, err := r.post(t, upstream.RepeatSafe)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("%v %v", resp, err)
	}
	if r.worked() != 3 || len(r.retries) != 2 || r.retries[0].Reason != "connection error" {
		t.Fatalf("work %d retries %+v", r.worked(), r.retries)
	}
}

func TestUnsafeRequestResetAfterSendingHasUnknownOutcome(t *testing.T) {
	r := newRig(t, upstream.DefaultRetryPolicy())
	r.inj.Add(faults.Rule{Path: "/op", Fault: faults.ResetAfter()})
	_, _, err := r.post(t, upstream.RepeatUnsafe)
	var unknown *upstream.OutcomeUnknownError
	if !errors.As(err, &unknown) {
		t.Fatalf("want an unknown outcome, got %v", err)
	}
	if r.worked() != 1 || r.inj.Requests("POST", "/op") != 1 {
		t.Fatalf("unsafe request sent %d times", r.inj.Requests("POST", "/op"))
	}
}

func TestTruncatedAnswer(t *testing.T) {
	r := newRig(t, upstream.DefaultRetryPolicy())
	r.inj.Add(faults.Rule{Path: "/op", Times: 1, Fault: faults.Truncate(5)})
	resp, body, err := r.post(t, upstream.RepeatSafe)
	if err != nil || resp.StatusCode != 200 || body != `{"value":"done"}` || r.retries[0].Reason != "truncated answer" {
		t.Fatalf("safe: %v %q %v", err, body, r.retries)
	}

	r = newRig(t, upstream.DefaultRetryPolicy())
	r.inj.Add(faults.Rule{Path: "/op", Times: 1, Fault: faults.Truncate(5)})
	_, _, err = r.post(t, upstream.RepeatUnsafe)
	var unknown *upstream.OutcomeUnknownError
	if !errors.As(err, &unknown) || r.worked() != 1 {
		t.Fatalf("unsafe: want an unknown outcome after one call, got %v (work %d)", err, r.worked())
	}
}

func TestConnectionRefusedIsRetriedEvenWhenUnsafe(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there now
	var waits int
	f := upstream.NewFactory(upstream.Config{Retry: upstream.RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: time.Millisecond, MaxElapsed: time.Second,
		Wait: func(context.Context, time.Duration) error { waits++; return nil }},
		Destinations: upstream.Destinations{AllowLoopback: true}})
	c, _ := f.Client(nil)
	req, _ := http.NewRequestWithContext(upstream.WithRepeat(context.Background(), upstream.RepeatUnsafe), http.MethodPost, url, strings.NewReader("x"))
	_, err := c.Do(req)
	var unknown *upstream.OutcomeUnknownError
	if err == nil || errors.As(err, &unknown) || waits != 2 || !strings.Contains(err.Error(), "after 3 attempt(s)") {
		t.Fatalf("want three refused dials (nothing sent, so safe to repeat): waits=%d err=%v", waits, err)
	}
}

func TestTraceRecordsAttemptsAndStatus(t *testing.T) {
	r := newRig(t, upstream.DefaultRetryPolicy())
	r.inj.Add(faults.Rule{Path: "/op", Times: 1, Fault: faults.Status(504, "")})
	ctx, tr := upstream.WithTrace(upstream.WithRepeat(context.Background(), upstream.RepeatSafe))
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.url+"/op", strings.NewReader("x"))
	resp, err := r.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := tr.Summary(); got != (upstream.TraceSummary{LastStatus: 200, Attempts: 2, Retries: 1}) {
		t.Fatalf("trace %+v", got)
	}
}

func TestConcurrencyPerHostIsBounded(t *testing.T) {
	const limit, calls = 2, 6
	var mu sync.Mutex
	inFlight, peak := 0, 0
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		inFlight++
		if inFlight > peak {
			peak = inFlight
		}
		if inFlight == limit {
			select {
			case <-release:
			default:
				close(release)
			}
		}
		mu.Unlock()
		<-release
		mu.Lock()
		inFlight--
		mu.Unlock()
	}))
	defer srv.Close()
	c, _ := upstream.NewFactory(upstream.Config{MaxConcurrentPerHost: limit, Destinations: upstream.Destinations{AllowLoopback: true}}).Client(nil)
	var wg sync.WaitGroup
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := c.Get(srv.URL)
			if err == nil {
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if peak != limit {
		t.Fatalf("peak concurrency %d, limit %d", peak, limit)
	}
}

func TestLeftStatusesGoBackToTheCaller(t *testing.T) {
	r := newRig(t, upstream.DefaultRetryPolicy())
	r.inj.Add(faults.Rule{Path: "/op", Times: 1, Fault: faults.ResetAfter()})
	r.inj.Add(faults.Rule{Path: "/op", Times: 1, Fault: faults.Status(http.StatusBadGateway, "")})
	r.inj.Add(faults.Rule{Path: "/op", Times: 1, Fault: faults.Status(http.StatusServiceUnavailable, "1")})
	ctx := upstream.LeaveStatuses(upstream.WithRepeat(context.Background(), upstream.RepeatSafe), http.StatusServiceUnavailable)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.url+"/op", strings.NewReader("x"))
	resp, err := r.client.Do(req)
	if err != nil || resp.StatusCode != 503 || r.inj.Requests("POST", "/op") != 3 {
		t.Fatalf("want the reset and the 502 retried and the 503 handed back: %v %v after %d", resp, err, r.inj.Requests("POST", "/op"))
	}
	resp.Body.Close()
}

func TestRetryAfterBeyondTheCallersDeadlineIsNotWaited(t *testing.T) {
	r := newRig(t, upstream.DefaultRetryPolicy())
	r.inj.Add(faults.Rule{Path: "/op", Fault: faults.Status(http.StatusServiceUnavailable, "5")})
	ctx, cancel := context.WithTimeout(upstream.WithRepeat(context.Background(), upstream.RepeatSafe), 2*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.url+"/op", strings.NewReader("x"))
	resp, err := r.client.Do(req)
	if err != nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") != "5" {
		t.Fatalf("want the 503 back: %v %v", resp, err)
	}
	resp.Body.Close()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.waits) != 0 {
		t.Fatalf("waited %v past the deadline", r.waits)
	}
}

// A refusal whose explanation is cut short is still a refusal: the status
// is known, so the outcome is.
func TestUnsafeErrorAnswerCutShortKeepsItsStatus(t *testing.T) {
	r := newRig(t, upstream.DefaultRetryPolicy())
	r.inj.Add(faults.Rule{Path: "/op", Fault: func(w http.ResponseWriter, req *http.Request, _ http.Handler) {
		faults.Truncate(5)(w, req, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, `{"error":{"message":"bad id"}}`)
		}))
	}})
	resp, body, _ := r.post(t, upstream.RepeatUnsafe)
	if resp == nil || resp.StatusCode != 400 || body != `{"err` {
		t.Fatalf("want the 400 with what arrived, got %v %q", resp, body)
	}
}
