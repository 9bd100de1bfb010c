package threecx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// expirySkew renews a token this long before the PBX would refuse it, so a
// call never leaves with a token that dies in flight.
const expirySkew = 30 * time.Second

// signInFunc is the one sign-in the client's holder runs. The PBX allows
// one access token per client and each new one invalidates the previous,
// so the holder (upstream.Holders) runs at most one of these at a time per
// client, whatever the number of callers or sessions.
func signInFunc(cfg clientcredentials.Config, httpClient *http.Client, unit string, now func() time.Time, secrets *upstream.Secrets) upstream.SignInFunc {
	return func(ctx context.Context) (upstream.Credential, error) {
		// A repeated token request only replaces a token nobody holds yet,
		// so it may be retried even when the action itself may not.
		ctx = upstream.WithRepeat(context.WithValue(upstream.SigningIn(ctx), oauth2.HTTPClient, httpClient), upstream.RepeatSafe)
		tok, err := cfg.Token(ctx)
		if err != nil {
			return upstream.Credential{}, signInProblem(err, secrets)
		}
		exp := expiry(tok, unit, now)
		if !exp.IsZero() {
			exp = exp.Add(-expirySkew)
		}
		return upstream.Credential{Token: tok.AccessToken, Expiry: exp}, nil
	}
}

// expiry reads expires_in itself because its unit changed in 3CX 20.0.9
// (minutes before, seconds since); oauth2 would always read seconds.
func expiry(tok *oauth2.Token, unit string, now func() time.Time) time.Time {
	var n float64
	switch v := tok.Extra("expires_in").(type) {
	case float64:
		n = v
	case string:
		if _, err := fmt.Sscan(v, &n); err != nil {
			return time.Time{}
		}
	default:
		return tok.Expiry
	}
	if n <= 0 {
		return time.Time{}
	}
	d := time.Second
	if unit == "minutes" || (unit == "auto" && n <= 120) {
		d = time.Minute
	}
	return now().Add(time.Duration(n * float64(d)))
}

// signInProblem explains a refused token request. A token endpoint (or a
// proxy) that echoes the request would show the API key: everything it
// said is redacted.
func signInProblem(err error, secrets *upstream.Secrets) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		status := re.Response.StatusCode
		up := action.Upstream{Provider: "threecx", Status: status, Code: secrets.Redact(re.ErrorCode), Message: secrets.Redact(re.ErrorDescription)}
		if up.Code == "" && up.Message == "" {
			up.Message = describeBody(re.Response.Header.Get("Content-Type"), secrets.RedactBytes(re.Body))
		}
		if status == http.StatusBadRequest || status == http.StatusUnauthorized || status == http.StatusForbidden {
			return action.NewProblem(action.KindUpstreamAuth,
				"3CX refused to sign in with this client ID and API key (HTTP %d%s); check them in Admin Console > Integrations > API", status, codeSuffix(up.Code)).WithUpstream(up)
		}
		return action.NewProblem(action.KindForUpstreamStatus(status), "3CX sign-in failed with HTTP %d", status).WithUpstream(up)
	}
	return transportProblem("sign-in", err)
}

func codeSuffix(code string) string {
	if code == "" {
		return ""
	}
	return ": " + code
}
