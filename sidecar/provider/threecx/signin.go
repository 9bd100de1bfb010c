package threecx

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// expirySkew renews a token this long before the PBX would refuse it, so a
// call never leaves with a token that dies in flight.
const expirySkew = 30 * time.Second

// signIn holds the one access token the PBX allows per client. Every caller
// waits for the same sign-in instead of starting its own, because each new
// token the PBX issues invalidates the previous one: two racing sign-ins
// would knock each other out.
type signIn struct {
	cfg     clientcredentials.Config
	http    *http.Client
	unit    string // auto, seconds or minutes (schemas/connections/threecx.json)
	now     func() time.Time
	turn    chan struct{} // one sign-in at a time; a channel so waiting honours ctx
	mu      sync.Mutex
	current *oauth2.Token
}

func newSignIn(cfg clientcredentials.Config, httpClient *http.Client, unit string) *signIn {
	return &signIn{cfg: cfg, http: httpClient, unit: unit, now: time.Now, turn: make(chan struct{}, 1)}
}

// token returns a valid access token. stale is the token a call was just
// refused with ("" if none): a token equal to it is not reused, so a 401
// forces one new sign-in however many calls saw it.
func (s *signIn) token(ctx context.Context, stale string) (string, error) {
	if t := s.usable(stale); t != "" {
		return t, nil
	}
	select {
	case s.turn <- struct{}{}:
	case <-ctx.Done():
		return "", ctx.Err()
	}
	defer func() { <-s.turn }()
	// Whoever held the turn before us may have signed in already.
	if t := s.usable(stale); t != "" {
		return t, nil
	}
	// A repeated token request only replaces a token nobody holds yet, so
	// it may be retried even when the action itself may not.
	ctx = upstream.WithRepeat(context.WithValue(upstream.SigningIn(ctx), oauth2.HTTPClient, s.http), upstream.RepeatSafe)
	tok, err := s.cfg.Token(ctx)
	if err != nil {
		return "", signInProblem(err)
	}
	tok.Expiry = s.expiry(tok)
	s.mu.Lock()
	s.current = tok
	s.mu.Unlock()
	return tok.AccessToken, nil
}

func (s *signIn) usable(stale string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.current
	if t == nil || t.AccessToken == stale || (!t.Expiry.IsZero() && s.now().Add(expirySkew).After(t.Expiry)) {
		return ""
	}
	return t.AccessToken
}

// expiry reads expires_in itself because its unit changed in 3CX 20.0.9
// (minutes before, seconds since); oauth2 would always read seconds.
func (s *signIn) expiry(tok *oauth2.Token) time.Time {
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
	unit := time.Second
	if s.unit == "minutes" || (s.unit == "auto" && n <= 120) {
		unit = time.Minute
	}
	return s.now().Add(time.Duration(n * float64(unit)))
}

func signInProblem(err error) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) && re.Response != nil {
		status := re.Response.StatusCode
		up := action.Upstream{Provider: "threecx", Status: status, Code: re.ErrorCode, Message: re.ErrorDescription}
		if up.Code == "" && up.Message == "" {
			up.Message = describeBody(re.Response.Header.Get("Content-Type"), re.Body)
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
