package appgate

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// apiError is every shape of the controller's error body: {id, message},
// plus errors on a 422, reason on a failed sign-in, and the supported range
// on a 406.
type apiError struct {
	ID                  string              `json:"id"`
	Message             string              `json:"message"`
	Reason              string              `json:"reason"`
	Errors              []action.FieldError `json:"errors"`
	MinSupportedVersion int                 `json:"minSupportedVersion"`
	MaxSupportedVersion int                 `json:"maxSupportedVersion"`
}

func parseAPIError(raw []byte) apiError {
	var e apiError
	_ = json.Unmarshal(raw, &e)
	return e
}

// upstream keeps everything the controller said.
func (e apiError) upstream(status int) action.Upstream {
	msg := e.Message
	if e.Reason != "" {
		msg = strings.TrimSpace(msg + " " + e.Reason)
	}
	return action.Upstream{Provider: ProviderID, Status: status, Code: e.ID, Message: msg, Errors: e.Errors}
}

// summary is the controller's message with its field errors, for a detail.
func (e apiError) summary(status int) string {
	msg := e.upstream(status).Message
	if msg == "" {
		msg = http.StatusText(status)
	}
	if len(e.Errors) > 0 {
		parts := make([]string, len(e.Errors))
		for i, fe := range e.Errors {
			parts[i] = fe.Field + ": " + fe.Message
		}
		msg += " (" + strings.Join(parts, "; ") + ")"
	}
	return msg
}

// upstreamProblem maps a controller error answer to a problem, keeping the
// controller's id, message and field errors.
func upstreamProblem(status int, raw []byte, doing string) *action.Problem {
	e := parseAPIError(raw)
	kind := action.KindForUpstreamStatus(status)
	detail := fmt.Sprintf("Appgate answered HTTP %d while %s: %s", status, doing, strings.TrimRight(e.summary(status), ". "))
	switch status {
	case http.StatusForbidden:
		detail += ". The admin role of the connection's user lacks the privilege for this call."
	case http.StatusUnprocessableEntity:
		kind = action.KindUpstreamRejected
	}
	return action.NewProblem(kind, "%s", detail).WithUpstream(e.upstream(status))
}

// signInProblem explains a refused sign-in without repeating the password.
func signInProblem(raw []byte, username, provider string) *action.Problem {
	e := parseAPIError(raw)
	// The controller's own message often ends in a full stop already.
	said := strings.TrimRight(e.summary(http.StatusUnauthorized), ". ")
	return action.NewProblem(action.KindUpstreamAuth,
		"Appgate refused the sign-in of %q with identity provider %q: %s. Check the connection's username, password and providerName; the user must be exempt from admin MFA.",
		username, provider, said).WithUpstream(e.upstream(http.StatusUnauthorized))
}

// versionRefused explains a 406 for a version the controller will not
// speak: one the connection pins, or one still refused after negotiating
// again.
func versionRefused(status int, raw []byte, version int, pinned bool) *action.Problem {
	e := parseAPIError(raw)
	detail := fmt.Sprintf("the controller does not accept peer API v%d", version)
	if e.MaxSupportedVersion > 0 {
		detail += fmt.Sprintf("; it supports v%d to v%d", e.MinSupportedVersion, e.MaxSupportedVersion)
	}
	advice := "Change the connection's apiVersion, or leave it empty to negotiate."
	if !pinned {
		advice = "It refused the version it had just negotiated; check that nothing between the sidecar and the controller rewrites the Accept header."
	}
	return action.NewProblem(action.KindUpstreamVersion, "%s. %s", detail, advice).
		WithUpstream(e.upstream(status))
}
