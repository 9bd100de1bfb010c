package upstream

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"
)

// DefaultMaxAnswer bounds what an Exchanger reads of one answer when it is
// given no limit: as much as the retry layer reads ahead (maxBuffered), so
// an answer it checked for truncation is read whole. Appgate's answer to a
// revocation of 40 000 devices is about 8 MiB.
const DefaultMaxAnswer = maxBuffered

// Exchanger is the one loop every provider's client sends its calls
// through: the token from the client's sign-in holder, the single "401 ->
// one new sign-in -> one retry" rule, the retry policy set per call, the
// body-size policy and the redaction of everything the upstream answers
// with. A provider configures one per client; what stays in the provider
// is its URLs, its bodies and how it reads its vendor's answers.
type Exchanger struct {
	HTTP *http.Client
	// Holder keeps the client's sign-in; nil when the client sends no
	// token it signs in for (a ready bearer token, an OAuth client).
	Holder Holder
	// Timeout bounds the wait for a sign-in under way
	// (Factory.RequestTimeout); every exchange is bounded by the HTTP
	// client's own. Zero means the default request timeout.
	Timeout time.Duration
	// MaxAnswer bounds what is read of one answer; 0 means DefaultMaxAnswer.
	MaxAnswer int64
	// Secrets are redacted from every answer that is not a success, and
	// the token of each call with them.
	Secrets *Secrets
	// Authorize puts the token on a request; nil sends
	// "Authorization: Bearer <token>".
	Authorize func(h http.Header, token string)
}

// Call is one upstream request as a provider describes it.
type Call struct {
	Method string
	URL    string
	Header http.Header
	Body   []byte
	// Repeat says whether the transport may send the call again (the zero
	// value keeps the mark the context carries, see WithRepeat), under the
	// one retry policy of the process (Config.Retry). Leave names statuses
	// the provider must see at once, unretried.
	Repeat Repeat
	Leave  []int
	// Token is the token to send instead of the holder's ("" for none
	// when there is no holder either).
	Token string
	// Anonymous sends the call without any token: a sign-in, a probe.
	Anonymous bool
	// Mutating says the call changes the upstream: an answer too large to
	// read is then an outcome the caller must be told is unknown, never a
	// plain failure.
	Mutating bool
}

// Answer is what came back. Body is redacted unless Status is 2xx (a
// success's body is the data the caller asked for).
type Answer struct {
	Status int
	Header http.Header
	Body   []byte
	// Refreshed says the first answer was a 401 and the call was sent
	// again with a new sign-in; Status is the second answer's.
	Refreshed bool
	// Attempts counts the requests sent for the call, retries included;
	// Waited is the time spent between them.
	Attempts int
	Waited   time.Duration
	// Stream is a success's body still to be read (Open only); the caller
	// closes it.
	Stream io.ReadCloser

	// The exchanger's secrets and this call's tokens; secrets joins them
	// on first use only (a success rarely needs them, and joining spells
	// every token six ways).
	base    *Secrets
	sent    [2]string
	secrets *Secrets
}

// Redact blanks the secrets this call sent out of text taken from a
// success's body, for a problem explaining a success that cannot be read.
func (a *Answer) Redact(text string) string { return a.callSecrets().Redact(text) }

func (a *Answer) callSecrets() *Secrets {
	if a.secrets == nil {
		a.secrets = a.base.With(a.sent[:]...)
	}
	return a.secrets
}

// OK reports a 2xx status.
func (a *Answer) OK() bool { return a.Status >= 200 && a.Status <= 299 }

// SignInWaitError is a caller that gave up waiting for a sign-in under
// way (its deadline, or the exchanger's Timeout, passed first).
type SignInWaitError struct{ Err error }

func (e *SignInWaitError) Error() string { return "waiting for the sign-in: " + e.Err.Error() }
func (e *SignInWaitError) Unwrap() error { return e.Err }

// TransportError is an exchange that got no (whole) answer.
type TransportError struct{ Err error }

func (e *TransportError) Error() string { return e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// TooLargeError is an answer longer than the exchanger reads. Head is its
// start (redacted unless the status is 2xx), Status what the upstream said.
type TooLargeError struct {
	Status   int
	Header   http.Header
	Limit    int64
	Head     []byte
	Mutating bool
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("the answer (HTTP %d) is longer than %d MiB", e.Status, e.Limit>>20)
}

// Do sends the call. A holder's sign-in failure comes back as the error the
// sign-in returned; giving up on the wait as *SignInWaitError; no answer as
// *TransportError; an answer over MaxAnswer as *TooLargeError. Any answer
// that arrived whole is an *Answer, whatever its status.
func (x *Exchanger) Do(ctx context.Context, c Call) (*Answer, error) {
	return x.exchange(ctx, c, false)
}

// Open is Do for a read whose success may be long (a page of a list): a
// 2xx answer comes back with Body nil and Stream open, to be read as it
// arrives and closed by the caller; any other status is read whole, as Do
// reads it. The stream fails with *TooLargeError once it passes MaxAnswer
// and with *TransportError when the connection dies, so a reader sees
// exactly how far the answer went. A mutating call is never streamed: its
// answer is read whole, never cut (Do).
func (x *Exchanger) Open(ctx context.Context, c Call) (*Answer, error) {
	return x.exchange(ctx, c, !c.Mutating)
}

func (x *Exchanger) exchange(ctx context.Context, c Call, stream bool) (*Answer, error) {
	if stream {
		ctx = context.WithValue(ctx, streamKey{}, true)
	}
	if c.Repeat != RepeatByMethod {
		ctx = WithRepeat(ctx, c.Repeat)
	}
	if len(c.Leave) > 0 {
		ctx = LeaveStatuses(ctx, c.Leave...)
	}
	ctx, st := withStats(ctx)
	stale := ""
	for {
		token := c.Token
		if c.Anonymous {
			token = ""
		} else if x.Holder != nil && token == "" {
			var err error
			if token, err = x.token(ctx, stale); err != nil {
				return nil, err
			}
		}
		ans, err := x.send(ctx, c, token, stale, stream)
		if err != nil {
			return nil, err
		}
		// The upstream dropped the token (another sign-in replaced it, it
		// expired early): one new sign-in, shared by every caller that saw
		// the same token refused, and one retry.
		if ans.Status == http.StatusUnauthorized && x.Holder != nil && c.Token == "" && !c.Anonymous && stale == "" {
			stale = token
			continue
		}
		ans.Refreshed = stale != ""
		ans.Attempts, ans.Waited = st.attempts, st.waited
		return ans, nil
	}
}

func (x *Exchanger) token(ctx context.Context, stale string) (string, error) {
	timeout := x.Timeout
	if timeout <= 0 {
		timeout = DefaultConfig().RequestTimeout
	}
	// The sign-in may outlive this caller's wait and is shared with other
	// callers: its requests are not this call's attempts.
	ctx = context.WithValue(ctx, statsKey{}, (*callStats)(nil))
	wait, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tok, err := x.Holder.Token(wait, stale)
	if err != nil && wait.Err() != nil && errors.Is(err, wait.Err()) {
		return "", &SignInWaitError{Err: err}
	}
	return tok, err
}

func (x *Exchanger) send(ctx context.Context, c Call, token, stale string, stream bool) (*Answer, error) {
	var body io.Reader
	if c.Body != nil {
		body = bytes.NewReader(c.Body)
	}
	req, err := http.NewRequestWithContext(ctx, c.Method, c.URL, body)
	if err != nil {
		return nil, &TransportError{Err: err}
	}
	for k, v := range c.Header {
		req.Header[k] = v
	}
	if token != "" {
		if x.Authorize != nil {
			x.Authorize(req.Header, token)
		} else {
			req.Header.Set("Authorization", "Bearer "+token)
		}
	}
	resp, err := x.HTTP.Do(req)
	if err != nil {
		return nil, &TransportError{Err: err}
	}
	limit := x.MaxAnswer
	if limit <= 0 {
		limit = DefaultMaxAnswer
	}
	ok := resp.StatusCode >= 200 && resp.StatusCode <= 299
	ans := &Answer{Status: resp.StatusCode, Header: resp.Header, base: x.Secrets, sent: [2]string{token, stale}}
	if ok && stream {
		ans.Stream = &countedBody{body: resp.Body, limit: limit, status: resp.StatusCode, header: resp.Header}
		return ans, nil
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if !ok {
		raw = ans.callSecrets().RedactBytes(raw)
	}
	switch {
	case int64(len(raw)) > limit:
		return nil, &TooLargeError{Status: resp.StatusCode, Header: resp.Header, Limit: limit, Head: raw[:min(len(raw), 4<<10)], Mutating: c.Mutating}
	case err != nil && ok:
		// A success cut short: the retry layer already said whether the
		// outcome is unknown; what is left is a connection that died.
		return nil, &TransportError{Err: err}
	}
	// An error answer cut short still says what the upstream did.
	ans.Body = raw
	return ans, nil
}

// Failure is the class of an exchange that got no answer, shared by every
// provider's messages.
type Failure int

const (
	FailUnreachable    Failure = iota // DNS, connect, reset before an answer
	FailRefused                       // the destination guard refused the address
	FailOutcomeUnknown                // an unrepeatable request failed after it may have arrived
	FailTimeout                       // a deadline passed
	FailCancelled                     // the caller went away
	FailTLS                           // the certificate or the handshake was refused
)

// Classify says which Failure err is.
func Classify(err error) Failure {
	var unknown *OutcomeUnknownError
	var netErr net.Error
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var certErr *tls.CertificateVerificationError
	var opErr *net.OpError
	switch {
	case isRefused(err):
		return FailRefused
	case errors.As(err, &unknown):
		return FailOutcomeUnknown
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return FailTimeout
	case errors.Is(err, context.Canceled):
		return FailCancelled
	case errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &certErr),
		errors.As(err, &opErr) && opErr.Op == "remote error":
		return FailTLS
	}
	return FailUnreachable
}

func isRefused(err error) bool { _, ok := IsRefused(err); return ok }

// Cause drops net/url's `Post "https://...":` prefix and the wrappers of
// this package: the address is in the connection already, and the cause is
// what helps.
func Cause(err error) error {
	var te *TransportError
	if errors.As(err, &te) {
		err = te.Err
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// streamKey marks a call whose success is handed back unread (Open), so the
// retry layer does not read it ahead.
type streamKey struct{}

func streamed(ctx context.Context) bool { v, _ := ctx.Value(streamKey{}).(bool); return v }

// countedBody is a streamed success: it counts what it hands out, fails
// with *TooLargeError past the exchanger's bound, and names a connection
// that dies mid-answer as a *TransportError.
type countedBody struct {
	body        io.ReadCloser
	limit, read int64
	status      int
	header      http.Header
}

func (b *countedBody) Read(p []byte) (int, error) {
	if b.read > b.limit {
		return 0, b.tooLarge()
	}
	// Ask for at most one byte past the bound: enough to know it was passed.
	p = p[:min(int64(len(p)), b.limit+1-b.read)]
	n, err := b.body.Read(p)
	b.read += int64(n)
	if b.read > b.limit {
		return n - 1, b.tooLarge()
	}
	if err != nil && err != io.EOF {
		err = &TransportError{Err: err}
	}
	return n, err
}

func (b *countedBody) tooLarge() error {
	return &TooLargeError{Status: b.status, Header: b.header, Limit: b.limit}
}

func (b *countedBody) Close() error { return b.body.Close() }
