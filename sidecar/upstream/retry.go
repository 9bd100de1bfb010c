package upstream

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

// Repeat says whether sending a request twice is harmless. Providers mark
// each request; the retry layer reads the mark.
type Repeat int

const (
	// RepeatByMethod trusts the method: GET, HEAD, OPTIONS, PUT and DELETE
	// are idempotent (RFC 9110 §9.2.2), POST and PATCH are not.
	RepeatByMethod Repeat = iota
	// RepeatSafe marks a request whose repetition does no harm, such as a
	// revocation: revoking twice leaves the same state as revoking once.
	RepeatSafe
	// RepeatUnsafe marks a request that must not be sent again once it may
	// have reached the server, such as generating a new app token.
	RepeatUnsafe
)

type repeatKey struct{}

// WithRepeat marks every request made with ctx.
func WithRepeat(ctx context.Context, r Repeat) context.Context {
	return context.WithValue(ctx, repeatKey{}, r)
}

type leftKey struct{}

// callStats counts what the retry layer did for one call, for the
// exchange's Answer.
type callStats struct {
	attempts int
	waited   time.Duration
}

type statsKey struct{}

func withStats(ctx context.Context) (context.Context, *callStats) {
	st := &callStats{}
	return context.WithValue(ctx, statsKey{}, st), st
}

func statsFrom(ctx context.Context) *callStats {
	st, _ := ctx.Value(statsKey{}).(*callStats)
	if st == nil {
		return &callStats{}
	}
	return st
}

// LeaveStatuses tells the retry layer that the caller handles these
// statuses itself (the OAuth client follows RFC 7009's rules for 503), so
// they are handed back at once instead of retried twice over.
func LeaveStatuses(ctx context.Context, statuses ...int) context.Context {
	return context.WithValue(ctx, leftKey{}, statuses)
}

func left(req *http.Request, status int) bool {
	statuses, _ := req.Context().Value(leftKey{}).([]int)
	return slices.Contains(statuses, status)
}

// repeatable says whether req may be repeated after a failed connection and
// after a retryable status.
func repeatable(req *http.Request) (onFailure, onStatus bool) {
	r, _ := req.Context().Value(repeatKey{}).(Repeat)
	switch r {
	case RepeatSafe:
		return true, true
	case RepeatUnsafe:
		return false, false
	}
	switch req.Method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodPut, http.MethodDelete:
		return true, true
	}
	return false, false
}

// RetryPolicy bounds retries of failed upstream exchanges.
type RetryPolicy struct {
	// MaxAttempts counts the first try; 1 turns retries off.
	MaxAttempts int
	// BaseDelay is the first backoff; each retry doubles it up to MaxDelay,
	// and the wait is drawn uniformly below that ("full jitter"), so a fleet
	// of sidecars does not retry in step.
	BaseDelay, MaxDelay time.Duration
	// MaxElapsed bounds the time spent waiting between attempts. A
	// Retry-After beyond what is left ends the retries and the answer goes
	// back to the caller with its Retry-After.
	MaxElapsed time.Duration
	// Wait sleeps between attempts; nil uses a timer. Tests record the
	// waits instead of sleeping.
	Wait func(ctx context.Context, d time.Duration) error
}

// DefaultRetryPolicy retries up to three times within ten seconds.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, BaseDelay: 200 * time.Millisecond, MaxDelay: 3 * time.Second, MaxElapsed: 10 * time.Second}
}

// OutcomeUnknownError says a request that must not be repeated failed after
// it may have reached the server: it may or may not have taken effect.
type OutcomeUnknownError struct{ Err error }

func (e *OutcomeUnknownError) Error() string {
	return "the request may have reached the upstream before it failed: " + e.Err.Error()
}
func (e *OutcomeUnknownError) Unwrap() error { return e.Err }

// maxBuffered bounds how much of an answer the retry layer reads ahead; it
// reads the body so that a truncated answer can be retried (or reported as
// an unknown outcome) before the provider sees it.
const maxBuffered = 64 << 20

type retryTransport struct {
	next   http.RoundTripper
	policy RetryPolicy
	obs    *Observer
}

func retryableStatus(code int) bool {
	switch code {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

func (t *retryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	safe, onStatus := repeatable(req)
	tr := traceFrom(req.Context())
	st := statsFrom(req.Context())
	var waited time.Duration
	for attempt := 1; ; attempt++ {
		var wrote atomic.Bool
		ctx := httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{WroteHeaders: func() { wrote.Store(true) }})
		try := req.WithContext(ctx)
		if attempt > 1 && req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			try.Body = body
		}
		tr.update(func(s *TraceSummary) { s.Attempts++ })
		st.attempts++
		resp, err := t.next.RoundTrip(try)
		if err == nil {
			tr.update(func(s *TraceSummary) { s.LastStatus = resp.StatusCode })
		}

		var reason string
		var after time.Duration
		switch {
		case err != nil:
			if _, refused := IsRefused(err); refused || req.Context().Err() != nil {
				return nil, err
			}
			if !safe && wrote.Load() {
				return nil, &OutcomeUnknownError{Err: err}
			}
			reason = "connection error"
		case retryableStatus(resp.StatusCode) && onStatus && !left(req, resp.StatusCode):
			reason = "HTTP " + strconv.Itoa(resp.StatusCode)
			after = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		case streamed(req.Context()) && resp.StatusCode >= 200 && resp.StatusCode <= 299:
			// The caller reads the answer as it arrives (Exchanger.Open):
			// a connection that dies mid-answer reaches it as an error it
			// reports, instead of the whole answer being held here.
			return resp, nil
		default:
			if berr := buffer(resp); berr != nil {
				if !safe && resp.StatusCode >= 200 && resp.StatusCode <= 299 {
					return nil, &OutcomeUnknownError{Err: fmt.Errorf("reading the answer: %w", berr)}
				}
				if !safe {
					// The status says what the upstream did; only the
					// explanation is cut short.
					return resp, nil
				}
				err, reason = berr, "truncated answer"
				resp = nil
				break
			}
			return resp, nil
		}

		canRepeat := attempt < t.policy.MaxAttempts && (req.Body == nil || req.Body == http.NoBody || req.GetBody != nil)
		delay := after
		if delay == 0 {
			delay = t.backoff(attempt)
		}
		// A wait that outlasts the caller's deadline only turns the
		// upstream's answer into a timeout: hand the answer back instead.
		deadline, hasDeadline := req.Context().Deadline()
		if !canRepeat || waited+delay > t.policy.MaxElapsed || hasDeadline && time.Until(deadline) < delay {
			if err != nil {
				return nil, fmt.Errorf("after %d attempt(s): %w", attempt, err)
			}
			_ = buffer(resp)
			return resp, nil
		}
		if resp != nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
			resp.Body.Close()
		}
		t.obs.retry(RetryEvent{Provider: ProviderFrom(req.Context()), Host: req.URL.Host, Method: req.Method, Path: req.URL.Path, Attempt: attempt, Reason: reason, Delay: delay})
		tr.update(func(s *TraceSummary) { s.Retries++ })
		if werr := t.wait(req.Context(), delay); werr != nil {
			if err != nil {
				return nil, err
			}
			return nil, werr
		}
		waited += delay
		st.waited += delay
	}
}

func (t *retryTransport) backoff(attempt int) time.Duration {
	ceiling := t.policy.BaseDelay << (attempt - 1)
	if ceiling > t.policy.MaxDelay || ceiling <= 0 {
		ceiling = t.policy.MaxDelay
	}
	if ceiling <= 0 {
		return 0
	}
	return rand.N(ceiling) + 1
}

func (t *retryTransport) wait(ctx context.Context, d time.Duration) error {
	if t.policy.Wait != nil {
		return t.policy.Wait(ctx, d)
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// RetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (RFC 9110 §10.2.3), capped at a day; 0 when absent or unreadable.
func RetryAfter(v string, now time.Time) time.Duration { return retryAfter(v, now) }

// retryAfter reads delay-seconds or an HTTP date (RFC 9110 §10.2.3).
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		// Beyond a day it makes no difference to any budget, and
		// multiplying a huge value would overflow into a negative wait
		// (found by FuzzRetryAfter).
		return time.Duration(min(n, 86400)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// buffer reads the body into memory, so a connection that dies mid-answer
// is seen here. On such a failure the body keeps what did arrive. Answers
// over maxBuffered are passed through as streams.
func buffer(resp *http.Response) error {
	if _, done := resp.Body.(bufferedBody); done {
		return nil
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBuffered))
	if err != nil {
		resp.Body.Close()
		resp.Body = bufferedBody{bytes.NewReader(b)}
		return err
	}
	if len(b) == maxBuffered {
		resp.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(b), resp.Body), resp.Body}
		return nil
	}
	resp.Body.Close()
	resp.Body = bufferedBody{bytes.NewReader(b)}
	return nil
}

type bufferedBody struct{ *bytes.Reader }

func (bufferedBody) Close() error { return nil }
