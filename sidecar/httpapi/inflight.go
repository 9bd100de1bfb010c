package httpapi

import (
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"
)

// InFlight tracks the action calls being served, so a shutdown that runs
// out of time can say which ones it cut off.
type InFlight struct {
	mu    sync.Mutex
	next  uint64
	calls map[uint64]Call
}

// Call is one action call in progress.
type Call struct {
	RequestID string    `json:"requestId"`
	Action    string    `json:"action"`
	Since     time.Time `json:"since"`
}

// NewInFlight returns an empty tracker.
func NewInFlight() *InFlight { return &InFlight{calls: map[uint64]Call{}} }

// Middleware records every POST /v1/actions/{id} while it runs.
func (f *InFlight) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id, isAction := strings.CutPrefix(r.URL.Path, "/v1/actions/")
		if r.Method != http.MethodPost || !isAction {
			next.ServeHTTP(w, r)
			return
		}
		f.mu.Lock()
		f.next++
		n := f.next
		f.calls[n] = Call{RequestID: RequestIDFrom(r.Context()), Action: id, Since: time.Now()}
		f.mu.Unlock()
		defer func() {
			f.mu.Lock()
			delete(f.calls, n)
			f.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

// Snapshot lists the calls in progress, oldest first.
func (f *InFlight) Snapshot() []Call {
	f.mu.Lock()
	out := make([]Call, 0, len(f.calls))
	for _, c := range f.calls {
		out = append(out, c)
	}
	f.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Since.Before(out[j].Since) })
	return out
}
