package threecx

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// odataError is the XAPI error envelope (Pbx.ODataErrors.ODataError).
type odataError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Details []struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Target  string `json:"target"`
		} `json:"details"`
	} `json:"error"`
}

// apiProblem turns a non-2xx XAPI answer into a problem that keeps the
// PBX's status, code, message and field targets, whatever the body was:
// the vendor envelope, nothing at all, or a proxy's HTML page.
func apiProblem(status int, header http.Header, body []byte) *action.Problem {
	up := action.Upstream{Provider: "threecx", Status: status}
	var env odataError
	if json.Unmarshal(body, &env) == nil && (env.Error.Code != "" || env.Error.Message != "") {
		up.Code, up.Message = env.Error.Code, env.Error.Message
		for _, d := range env.Error.Details {
			msg := d.Message
			if msg == "" {
				msg = d.Code
			}
			up.Errors = append(up.Errors, action.FieldError{Field: d.Target, Message: msg})
		}
	} else {
		up.Message = describeBody(header.Get("Content-Type"), body)
	}
	detail := fmt.Sprintf("3CX answered HTTP %d", status)
	if up.Message != "" {
		detail += ": " + up.Message
	}
	for _, e := range up.Errors {
		if e.Field != "" && e.Message != up.Message {
			detail += fmt.Sprintf(" (%s: %s)", e.Field, e.Message)
		}
	}
	kind := action.KindForUpstreamStatus(status)
	if status == http.StatusUnauthorized {
		detail = "3CX refused a freshly issued token: " + detail + "; the integration may lack XAPI access"
	}
	p := action.NewProblem(kind, "%s", detail).WithUpstream(up)
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		p.RetryAfterSeconds = retryAfter(header.Get("Retry-After"))
	}
	return p
}

// describeBody summarises a body that is not the vendor envelope, so a
// proxy's HTML error page becomes a readable hint instead of markup.
func describeBody(contentType string, body []byte) string {
	text := strings.TrimSpace(string(body))
	switch {
	case text == "":
		return ""
	case strings.Contains(contentType, "html") || strings.HasPrefix(strings.ToLower(text), "<!doctype") || strings.HasPrefix(strings.ToLower(text), "<html"):
		if title := between(text, "<title>", "</title>"); title != "" {
			return "an HTML page titled \"" + shorten(title) + "\" (a proxy or web server answered, not the XAPI)"
		}
		return "an HTML page (a proxy or web server answered, not the XAPI)"
	default:
		return shorten(text)
	}
}

func between(s, open, close string) string {
	// Lower-case ASCII only: strings.ToLower would turn invalid UTF-8 into
	// longer replacement runes and the indices would no longer fit s
	// (found by FuzzAPIProblem).
	lower := asciiLower(s)
	i := strings.Index(lower, open)
	if i < 0 {
		return ""
	}
	j := strings.Index(lower[i+len(open):], close)
	if j < 0 {
		return ""
	}
	return strings.TrimSpace(s[i+len(open) : i+len(open)+j])
}

// shorten cuts text to what fits in a message.
func shorten(s string) string {
	const max = 200
	if len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func retryAfter(v string) int {
	var n int
	if _, err := fmt.Sscan(v, &n); err == nil && n > 0 {
		return n
	}
	return 0
}

// exchangeProblem names a call that got no usable answer: the sign-in it
// needed failed (its problem, already made), no answer arrived, or the
// answer was too large to read.
func exchangeProblem(what string, err error) *action.Problem {
	var p *action.Problem
	var wait *upstream.SignInWaitError
	var large *upstream.TooLargeError
	switch {
	case errors.As(err, &wait):
		return transportProblem("sign-in", wait.Err)
	case errors.As(err, &p):
		// Every waiter of one sign-in gets the same problem; each gets
		// its own copy, as callers add to it (what a list had read).
		cp := *p
		return &cp
	case errors.As(err, &large) && large.Mutating && large.Status >= 200 && large.Status <= 299:
		return action.NewProblem(action.KindOutcomeUnknown,
			"3CX answered %s with HTTP %d, so it was most likely done, but the answer is longer than %d MiB and was not read; do not repeat it before checking",
			what, large.Status, large.Limit>>20).WithUpstream(action.Upstream{Provider: "threecx", Status: large.Status})
	case errors.As(err, &large):
		return action.NewProblem(action.KindUpstreamError, "3CX answered %s with more than %d MiB", what, large.Limit>>20).
			WithUpstream(action.Upstream{Provider: "threecx", Status: large.Status})
	}
	return transportProblem(what, err)
}

// transportProblem names a failure that happened before any answer.
func transportProblem(what string, err error) *action.Problem {
	if p, ok := action.UpstreamFailure("3CX", what, err); ok {
		return p
	}
	switch upstream.Classify(err) {
	case upstream.FailTimeout:
		return action.NewProblem(action.KindUpstreamTimeout, "3CX did not answer %s in time", what)
	case upstream.FailCancelled:
		return action.NewProblem(action.KindUpstreamTimeout, "the call to 3CX (%s) was cancelled", what)
	default:
		return action.NewProblem(action.KindUpstreamUnreachable, "could not reach 3CX for %s: %v", what, upstream.Cause(err))
	}
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}
