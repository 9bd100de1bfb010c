package httpapi

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/idempotency"
)

func TestIdempotencyReplaysAndRefusesAnotherBody(t *testing.T) {
	var runs, replays atomic.Int32
	h := RequestID(Idempotency(idempotency.NewMemory(time.Hour, 100, 1<<20), func() { replays.Add(1) })(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n := runs.Add(1)
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"data":{"run":%d}}`, n)
		})))
	call := func(key, body, caller string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/v1/actions/x.y", strings.NewReader(body))
		if key != "" {
			req.Header.Set(IdempotencyKeyHeader, key)
		}
		if caller != "" {
			req = req.WithContext(contextWithCaller(req, caller))
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	first := call("k1", `{"input":{}}`, "")
	again := call("k1", `{"input":{}}`, "")
	if first.Body.String() != again.Body.String() || again.Header().Get(ReplayedHeader) != "true" || first.Header().Get(ReplayedHeader) != "" {
		t.Fatalf("first %q, again %q (%v)", first.Body, again.Body, again.Header())
	}
	if again.Header().Get("Content-Type") != "application/json" || runs.Load() != 1 || replays.Load() != 1 {
		t.Fatalf("runs %d replays %d", runs.Load(), replays.Load())
	}
	if rec := call("k1", `{"input":{"other":1}}`, ""); rec.Code != 422 || !strings.Contains(rec.Body.String(), "idempotency-key-reused") {
		t.Fatalf("other body: %d %s", rec.Code, rec.Body)
	}
	if rec := call("k1", `{"input":{}}`, "someone-else"); rec.Header().Get(ReplayedHeader) != "" || runs.Load() != 2 {
		t.Fatal("a stored answer crossed callers")
	}
	if call("", `{"input":{}}`, "").Header().Get(ReplayedHeader) != "" || runs.Load() != 3 {
		t.Fatal("request without a key was replayed")
	}
	if rec := call("bad\x01key", `{}`, ""); rec.Code != 422 {
		t.Fatalf("unprintable key: %d", rec.Code)
	}
}

// unreachable is a store whose Redis is gone.
type unreachable struct{}

func (unreachable) Do(context.Context, string, [32]byte, func() idempotency.Answer) (idempotency.Answer, bool, error) {
	return idempotency.Answer{}, false, fmt.Errorf("%w: dial tcp: connection refused", idempotency.ErrUnavailable)
}

func TestAnUnreachableStoreIsA503AndNothingRuns(t *testing.T) {
	var runs atomic.Int32
	h := RequestID(Idempotency(unreachable{}, nil)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { runs.Add(1) })))
	req := httptest.NewRequest(http.MethodPost, "/v1/actions/x.y", strings.NewReader(`{"input":{}}`))
	req.Header.Set(IdempotencyKeyHeader, "k1")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != 503 || !strings.Contains(rec.Body.String(), "idempotency-store-unavailable") || rec.Header().Get("Retry-After") == "" || runs.Load() != 0 {
		t.Fatalf("%d %s %v runs=%d", rec.Code, rec.Body, rec.Header(), runs.Load())
	}
}
