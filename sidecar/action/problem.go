package action

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// ProblemBase prefixes every problem type URI. The URIs are part of the public
// contract: flows branch on them, so a type, once published, never changes.
const ProblemBase = "https://tokenwarden.dev/problems/"

// Kind is the stable, machine-readable name of a class of failure. It becomes
// the last segment of the problem's type URI.
type Kind string

// The kinds a caller can see. Each has exactly one HTTP status (see Status).
const (
	KindMalformedRequest    Kind = "malformed-request"    // the body is not the JSON envelope we expect
	KindInvalidInput        Kind = "invalid-input"        // schema validation failed; Errors names every field
	KindUnknownAction       Kind = "unknown-action"       // no action has that id
	KindUnauthorized        Kind = "unauthorized"         // the caller did not present a valid sidecar API key
	KindForbiddenUpstream   Kind = "upstream-forbidden"   // upstream accepted the sign-in but refused the call
	KindUpstreamAuth        Kind = "upstream-auth-failed" // upstream rejected the connection's credentials
	KindUpstreamNotFound    Kind = "upstream-not-found"   // upstream says the entity does not exist
	KindUpstreamRejected    Kind = "upstream-rejected"    // upstream refused the request as invalid (4xx)
	KindUpstreamConflict    Kind = "upstream-conflict"    // upstream refused because of the entity's state
	KindUpstreamRateLimit   Kind = "upstream-rate-limited"
	KindUpstreamError       Kind = "upstream-error"       // upstream failed (5xx) or answered something unreadable
	KindUpstreamUnreachable Kind = "upstream-unreachable" // DNS, connect, TLS or reset before an answer
	KindUpstreamTimeout     Kind = "upstream-timeout"
	KindUpstreamVersion     Kind = "upstream-unsupported-version"
	KindOutcomeUnknown      Kind = "outcome-unknown"       // the upstream may or may not have done it (e.g. persistent 503 on revoke)
	KindUnverified          Kind = "revocation-unverified" // the upstream reported the revocation done, but re-reading it shows it did not take
	KindDestinationRefused  Kind = "destination-refused"   // the upstream address is not allowed (SSRF guard)
	KindIdempotencyConflict Kind = "idempotency-key-reused"
	KindInternal            Kind = "internal"
)

var kindInfo = map[Kind]struct {
	status int
	title  string
}{
	KindMalformedRequest:    {http.StatusBadRequest, "Malformed request"},
	KindInvalidInput:        {http.StatusUnprocessableEntity, "Invalid input"},
	KindUnknownAction:       {http.StatusNotFound, "Unknown action"},
	KindUnauthorized:        {http.StatusUnauthorized, "Missing or invalid sidecar API key"},
	KindForbiddenUpstream:   {http.StatusForbidden, "The upstream system refused the operation"},
	KindUpstreamAuth:        {http.StatusBadGateway, "The upstream system rejected the credentials"},
	KindUpstreamNotFound:    {http.StatusNotFound, "Not found upstream"},
	KindUpstreamRejected:    {http.StatusBadRequest, "The upstream system rejected the request"},
	KindUpstreamConflict:    {http.StatusConflict, "The upstream system refused because of the entity's state"},
	KindUpstreamRateLimit:   {http.StatusTooManyRequests, "The upstream system is rate limiting"},
	KindUpstreamError:       {http.StatusBadGateway, "The upstream system failed"},
	KindUpstreamUnreachable: {http.StatusBadGateway, "The upstream system could not be reached"},
	KindUpstreamTimeout:     {http.StatusGatewayTimeout, "The upstream system did not answer in time"},
	KindUpstreamVersion:     {http.StatusBadGateway, "The upstream API version is not supported"},
	KindOutcomeUnknown:      {http.StatusServiceUnavailable, "The outcome is unknown"},
	KindUnverified:          {http.StatusBadGateway, "The upstream reported the revocation done, but it did not take"},
	KindDestinationRefused:  {http.StatusForbidden, "The upstream address is not allowed"},
	KindIdempotencyConflict: {http.StatusUnprocessableEntity, "Idempotency key reused with a different request"},
	KindInternal:            {http.StatusInternalServerError, "Internal error"},
}

// FieldError names one bad field. Field is a dotted path from the request
// envelope ("input.id", "connection.baseUrl", "input.specificDistinguishedNames.2").
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Upstream keeps what the upstream system said, so nothing it told us is lost
// on the way to the caller.
type Upstream struct {
	Provider string       `json:"provider"`
	Status   int          `json:"status,omitempty"`
	Code     string       `json:"code,omitempty"`
	Message  string       `json:"message,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
}

// Problem is an RFC 9457 problem document and the error type every layer
// returns when it wants the caller to see a specific failure.
type Problem struct {
	Type     string       `json:"type"`
	Title    string       `json:"title"`
	Status   int          `json:"status"`
	Detail   string       `json:"detail,omitempty"`
	Instance string       `json:"instance,omitempty"`
	Errors   []FieldError `json:"errors,omitempty"`
	Upstream *Upstream    `json:"upstream,omitempty"`
	// RetryAfterSeconds is set when the caller may retry later; it is also sent
	// as a Retry-After header.
	RetryAfterSeconds int `json:"retryAfter,omitempty"`

	kind Kind
	// Partial describes what already happened when a multi-step action failed
	// part-way ("data" that was obtained before the failure).
	Partial any `json:"partial,omitempty"`
}

// NewProblem builds a problem of the given kind with a human detail.
func NewProblem(kind Kind, detail string, args ...any) *Problem {
	info, ok := kindInfo[kind]
	if !ok {
		info = kindInfo[KindInternal]
	}
	if len(args) > 0 {
		detail = fmt.Sprintf(detail, args...)
	}
	return &Problem{Type: ProblemBase + string(kind), Title: info.title, Status: info.status, Detail: detail, kind: kind}
}

// InvalidInput builds the 422 problem listing every bad field.
func InvalidInput(errs []FieldError) *Problem {
	fields := make([]string, 0, len(errs))
	for _, e := range errs {
		fields = append(fields, e.Field)
	}
	p := NewProblem(KindInvalidInput, "%d invalid field(s): %s", len(errs), strings.Join(fields, ", "))
	p.Errors = errs
	return p
}

// Kind reports the problem's kind.
func (p *Problem) Kind() Kind { return p.kind }

func (p *Problem) Error() string {
	if p.Detail == "" {
		return p.Title
	}
	return p.Title + ": " + p.Detail
}

// WithUpstream attaches what the upstream said and returns p.
func (p *Problem) WithUpstream(u Upstream) *Problem {
	p.Upstream = &u
	return p
}

// KindForUpstreamStatus picks the kind for an upstream answer that is not a
// sign-in failure, so every provider maps statuses the same way.
func KindForUpstreamStatus(status int) Kind {
	switch {
	case status == http.StatusNotFound:
		return KindUpstreamNotFound
	case status == http.StatusUnauthorized:
		return KindUpstreamAuth
	case status == http.StatusForbidden:
		return KindForbiddenUpstream
	case status == http.StatusConflict:
		return KindUpstreamConflict
	case status == http.StatusTooManyRequests:
		return KindUpstreamRateLimit
	case status >= 400 && status < 500:
		return KindUpstreamRejected
	default:
		return KindUpstreamError
	}
}

// UpstreamFailure names the failures the shared upstream client reports
// itself: a destination the sidecar refuses to call, and a request that must
// not be repeated and may or may not have taken effect. Providers call it
// before their own mapping of transport errors; ok is false for any other
// error.
func UpstreamFailure(provider, what string, err error) (*Problem, bool) {
	if r, refused := upstream.IsRefused(err); refused {
		return NewProblem(KindDestinationRefused, "the sidecar does not call %s: %s", r.Host, r.Reason), true
	}
	var unknown *upstream.OutcomeUnknownError
	if errors.As(err, &unknown) {
		return NewProblem(KindOutcomeUnknown,
			"%s (%s) failed after the request may have reached it, so it may or may not have been done; it was not repeated because repeating is not safe: %v",
			provider, what, unknown.Err), true
	}
	return nil, false
}

// Unverified builds the problem for a revocation the upstream answered as
// done while re-reading it shows the credential still live. Partial keeps
// both halves: what the upstream said and what the re-read showed, so a flow
// can alert with the evidence instead of trusting the first answer.
func Unverified(provider string, reported, evidence any, detail string, args ...any) *Problem {
	p := NewProblem(KindUnverified, detail, args...)
	p.Partial = map[string]any{"reported": reported, "verified": false, "evidence": evidence}
	return p.WithUpstream(Upstream{Provider: provider})
}
