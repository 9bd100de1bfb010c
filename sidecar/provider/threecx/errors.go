package threecx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
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
func apiProblem(resp *http.Response, body []byte) *action.Problem {
	status := resp.StatusCode
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
		up.Message = describeBody(resp.Header.Get("Content-Type"), body)
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
		p.RetryAfterSeconds = retryAfter(resp.Header.Get("Retry-After"))
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
	lower := strings.ToLower(s)
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

// transportProblem names a failure that happened before any answer.
func transportProblem(what string, err error) *action.Problem {
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return action.NewProblem(action.KindUpstreamTimeout, "3CX did not answer %s in time", what)
	case errors.Is(err, context.Canceled):
		return action.NewProblem(action.KindUpstreamTimeout, "the call to 3CX (%s) was cancelled", what)
	default:
		return action.NewProblem(action.KindUpstreamUnreachable, "could not reach 3CX for %s: %v", what, unwrapURL(err))
	}
}

// unwrapURL drops net/url's "Post \"https://...\":" prefix; the PBX address
// is in the connection already and the cause is what helps.
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
