package upstream

import (
	"context"
	"sync"
	"time"
)

// RetryEvent describes one retry about to happen.
type RetryEvent struct {
	Provider string // the provider whose action made the call (ProviderFrom)
	Host     string // host:port of the upstream
	Method   string
	Path     string
	Attempt  int    // the attempt that failed, from 1
	Reason   string // "HTTP 503", "connection error", "truncated answer"
	Delay    time.Duration
}

// Observer receives what happens upstream, so metrics, logs and tests can
// count it without this package depending on a metrics library. Nil fields
// are skipped; hooks run on the request's goroutine, so they must be quick
// and safe for concurrent use.
type Observer struct {
	OnRetry   func(RetryEvent)
	OnRefused func(*RefusedError)
	// OnExchange sees every exchange on the wire (each attempt).
	OnExchange func(context.Context, Exchange)
}

func (o *Observer) retry(e RetryEvent) {
	if o != nil && o.OnRetry != nil {
		o.OnRetry(e)
	}
}

func (o *Observer) refused(e *RefusedError) {
	if o != nil && o.OnRefused != nil {
		o.OnRefused(e)
	}
}

// Trace collects what happened upstream during one action, for its audit
// event.
type Trace struct {
	mu sync.Mutex
	s  TraceSummary
}

// TraceSummary is a Trace read at one moment.
type TraceSummary struct {
	LastStatus int // HTTP status of the last upstream answer, 0 if none
	Attempts   int // upstream requests sent, retries included
	Retries    int // repeated requests
}

type traceKey struct{}

// WithTrace returns a context whose upstream requests record into t.
func WithTrace(ctx context.Context) (context.Context, *Trace) {
	t := &Trace{}
	return context.WithValue(ctx, traceKey{}, t), t
}

func traceFrom(ctx context.Context) *Trace {
	t, _ := ctx.Value(traceKey{}).(*Trace)
	return t
}

// Summary reads the trace; a nil trace reads as zero.
func (t *Trace) Summary() TraceSummary {
	if t == nil {
		return TraceSummary{}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.s
}

func (t *Trace) update(f func(*TraceSummary)) {
	if t != nil {
		t.mu.Lock()
		f(&t.s)
		t.mu.Unlock()
	}
}
