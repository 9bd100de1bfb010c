package httpapi

import (
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
