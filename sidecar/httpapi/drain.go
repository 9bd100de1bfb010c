package httpapi

import (
	"net/http"
	"strings"
	"sync"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// Drain answers the action calls still running when the shutdown grace runs
// out, instead of leaving their callers with a closed connection: each gets
// 503 outcome-unknown (the upstream may or may not have done it), and the
// audit middleware outside records that outcome. The handler goes on in the
// background with its writes discarded until the process exits.
type Drain struct {
	once sync.Once
	cut  chan struct{}
}

// NewDrain returns a Drain that has not been cut.
func NewDrain() *Drain { return &Drain{cut: make(chan struct{})} }

// Cut answers every call still running; later calls are answered at once.
func (d *Drain) Cut() { d.once.Do(func() { close(d.cut) }) }

// Middleware runs each POST /v1/actions/{id} so that Cut can answer it.
func (d *Drain) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, isAction := strings.CutPrefix(r.URL.Path, "/v1/actions/"); r.Method != http.MethodPost || !isAction {
			next.ServeHTTP(w, r)
			return
		}
		// The handler may outlive this call, so it must not read a body the
		// server is about to close.
		if _, err := peekBody(r); err != nil {
			writeProblem(w, r, err)
			return
		}
		gw := &guardedWriter{w: w, header: http.Header{}}
		done := make(chan struct{})
		var panicked any
		go func() {
			defer close(done)
			defer func() { panicked = recover() }()
			next.ServeHTTP(gw, r)
		}()
		select {
		case <-done:
		case <-d.cut:
			if gw.claim() {
				writeProblem(w, r, action.NewProblem(action.KindOutcomeUnknown,
					"the sidecar shut down while the action was still running, so it may or may not have been done upstream; check it, or repeat it (revocations are safe to repeat)"))
				return
			}
			<-done // the handler is already answering: let it finish
		}
		if panicked != nil {
			panic(panicked)
		}
	})
}

// guardedWriter hands the handler a header map of its own and lets Drain
// take the response over as long as the handler has written nothing.
type guardedWriter struct {
	mu      sync.Mutex
	w       http.ResponseWriter
	header  http.Header
	started bool
	cut     bool
}

func (g *guardedWriter) Header() http.Header { return g.header }

// begin copies the handler's headers out on its first write; false means
// the response was taken over and the write is dropped. Called locked.
func (g *guardedWriter) begin() bool {
	if g.cut {
		return false
	}
	if !g.started {
		g.started = true
		dst := g.w.Header()
		for k, v := range g.header {
			dst[k] = v
		}
	}
	return true
}

func (g *guardedWriter) WriteHeader(code int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.begin() {
		g.w.WriteHeader(code)
	}
}

func (g *guardedWriter) Write(b []byte) (int, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.begin() {
		return len(b), nil
	}
	return g.w.Write(b)
}

// FlushError pushes what the handler wrote to the caller (a list sent while
// it is read); a response taken over has nothing of the handler's to push.
func (g *guardedWriter) FlushError() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.cut || !g.started {
		return nil
	}
	return http.NewResponseController(g.w).Flush()
}

// claim takes the response over if the handler has not started it.
func (g *guardedWriter) claim() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.started {
		return false
	}
	g.cut = true
	return true
}
