package oauth

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/githubemu"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/slackemu"
	"github.com/tokenwarden/tokenwarden/sidecar/secret"
)

func startGitHub(t *testing.T) (*githubemu.Server, string) {
	t.Helper()
	gh := githubemu.New(nil, githubemu.App{ClientID: "Iv1.app", ClientSecret: canarySecret, Name: "test"})
	srv := httptest.NewServer(gh.Handler())
	t.Cleanup(srv.Close)
	return gh, srv.URL
}

func gitHubClient(base, secretValue string) *Client {
	return NewClient(Connection{Preset: PresetGitHub, BaseURL: base, ClientID: "Iv1.app", ClientSecret: secret.Value(secretValue)}, http.DefaultClient, Options{})
}

// GitHub: DELETE with Basic and {"access_token"}, 204; the token is gone
// after, a second revocation is GitHub's 404 as a clear problem, and the
// output names the token only by fingerprint.
func TestGitHubDialectRevokesAnAppToken(t *testing.T) {
	gh, base := startGitHub(t)
	tok := gh.IssueToken("Iv1.app", "alice")
	c := gitHubClient(base, canarySecret)
	out, err := c.RevokeToken(context.Background(), Request{Token: tok}, false)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := json.Marshal(out)
	if !out.Revoked || out.UpstreamStatus != 204 || out.Dialect != DialectGitHub || out.Preset != PresetGitHub || gh.Active(tok) || strings.Contains(string(raw), tok) {
		t.Errorf("outcome %s, still active %v", raw, gh.Active(tok))
	}
	_, err = c.RevokeToken(context.Background(), Request{Token: tok}, false)
	if p := problemOf(t, err, action.KindUpstreamNotFound); !strings.Contains(p.Detail, "no such token") {
		t.Errorf("second revocation: %s", p.Detail)
	}
	// Revoke, which other actions call, speaks the dialect too.
	other := gh.IssueToken("Iv1.app", "bob")
	if res, err := c.Revoke(context.Background(), Request{Token: other}); err != nil || !res.Revoked || gh.Active(other) {
		t.Errorf("Revoke: %+v %v", res, err)
	}
}

func TestGitHubDialectMapsItsErrors(t *testing.T) {
	gh, base := startGitHub(t)
	tok := gh.IssueToken("Iv1.app", "alice")
	_, err := gitHubClient(base, "not-the-secret").RevokeToken(context.Background(), Request{Token: tok}, false)
	if p := problemOf(t, err, action.KindUpstreamAuth); p.Upstream.Status != 401 || !gh.Active(tok) {
		t.Errorf("wrong secret: %+v", p)
	}
	_, err = gitHubClient(base, canarySecret).RevokeToken(context.Background(), Request{Token: tok, TokenTypeHint: HintRefreshToken}, false)
	if p := problemOf(t, err, action.KindInvalidInput); p.Errors[0].Field != "input.tokenTypeHint" {
		t.Errorf("refresh hint: %+v", p.Errors)
	}
	// 422 as GitHub documents it, from a server that answers only that.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
		io.WriteString(w, `{"message":"Validation Failed","errors":[{"resource":"Authorization","field":"access_token","code":"invalid"}]}`)
	}))
	defer srv.Close()
	_, err = gitHubClient(srv.URL, canarySecret).RevokeToken(context.Background(), Request{Token: canaryToken}, false)
	if p := problemOf(t, err, action.KindUpstreamRejected); p.Upstream.Message != "Validation Failed" || len(p.Upstream.Errors) != 1 {
		t.Errorf("422: %+v", p.Upstream)
	}
}

func TestGitHubConnectionTestChecksTheAppCredentials(t *testing.T) {
	_, base := startGitHub(t)
	if err := gitHubClient(base, canarySecret).Test(context.Background()); err != nil {
		t.Errorf("right credentials: %v", err)
	}
	problemOf(t, gitHubClient(base, "wrong").Test(context.Background()), action.KindUpstreamAuth)
}

func startSlack(t *testing.T) (*slackemu.Server, *Client) {
	t.Helper()
	sl := slackemu.New()
	srv := httptest.NewServer(sl.Handler("/api"))
	t.Cleanup(srv.Close)
	return sl, NewClient(Connection{Preset: PresetSlack, BaseURL: srv.URL + "/api"}, http.DefaultClient, Options{})
}

// Slack: test=1 checks without revoking; then auth.revoke revokes; a second
// time token_revoked (HTTP 200, ok false) is already gone; an unknown token
// is Slack's invalid_auth as a problem.
func TestSlackDialectDryRunsRevokesAndReadsErrorsInTheBody(t *testing.T) {
	sl, c := startSlack(t)
	tok := sl.IssueToken("alice")
	dry, err := c.RevokeToken(context.Background(), Request{Token: tok}, true)
	if err != nil || dry.Revoked || !dry.DryRun || dry.WouldRevoke == nil || !*dry.WouldRevoke || !sl.Active(tok) || !strings.Contains(dry.Detail, "test mode") {
		t.Fatalf("dry run %+v %v, active %v", dry, err, sl.Active(tok))
	}
	out, err := c.RevokeToken(context.Background(), Request{Token: tok, TokenTypeHint: HintAccessToken}, false)
	if err != nil || !out.Revoked || sl.Active(tok) || out.Dialect != DialectSlack || !strings.Contains(out.Note, "no token type hint") {
		t.Fatalf("revocation %+v %v", out, err)
	}
	again, err := c.RevokeToken(context.Background(), Request{Token: tok}, false)
	if err != nil || !again.Revoked || !strings.Contains(again.Note, "token_revoked") {
		t.Errorf("second revocation %+v %v", again, err)
	}
	_, err = c.RevokeToken(context.Background(), Request{Token: "xoxp-never-issued"}, false)
	if p := problemOf(t, err, action.KindUpstreamRejected); p.Upstream.Code != "invalid_auth" {
		t.Errorf("unknown token: %+v", p.Upstream)
	}
	if err := c.Test(context.Background()); err != nil {
		t.Errorf("connection test: %v", err)
	}
}

// A dry run of a token that is already revoked says a revocation would
// change nothing; one Slack does not accept at all stays a problem.
func TestSlackDryRunOfARevokedTokenWouldChangeNothing(t *testing.T) {
	sl, c := startSlack(t)
	tok := sl.IssueToken("bob")
	if _, err := c.RevokeToken(context.Background(), Request{Token: tok}, false); err != nil {
		t.Fatal(err)
	}
	dry, err := c.RevokeToken(context.Background(), Request{Token: tok}, true)
	if err != nil || dry.Revoked || dry.WouldRevoke == nil || *dry.WouldRevoke || !strings.Contains(dry.Detail, "token_revoked") {
		t.Errorf("dry run %+v %v", dry, err)
	}
	_, err = c.RevokeToken(context.Background(), Request{Token: "xoxp-never-issued"}, true)
	if p := problemOf(t, err, action.KindUpstreamRejected); p.Upstream.Code != "invalid_auth" {
		t.Errorf("unknown token: %+v", p.Upstream)
	}
}

// GitHub's dry run is its token check: a working token would be revoked,
// a revoked one would not, and nothing is deleted.
func TestGitHubDryRunChecksTheToken(t *testing.T) {
	gh, base := startGitHub(t)
	tok := gh.IssueToken("Iv1.app", "alice")
	c := gitHubClient(base, canarySecret)
	dry, err := c.RevokeToken(context.Background(), Request{Token: tok}, true)
	if err != nil || dry.Revoked || !dry.DryRun || dry.WouldRevoke == nil || !*dry.WouldRevoke || !gh.Active(tok) || dry.UpstreamStatus != 200 {
		t.Fatalf("dry run %+v %v", dry, err)
	}
	if _, err := c.RevokeToken(context.Background(), Request{Token: tok}, false); err != nil {
		t.Fatal(err)
	}
	dry, err = c.RevokeToken(context.Background(), Request{Token: tok}, true)
	if err != nil || dry.WouldRevoke == nil || *dry.WouldRevoke || !strings.Contains(dry.Detail, "would change nothing") {
		t.Errorf("dry run after revocation %+v %v", dry, err)
	}
	_, err = gitHubClient(base, "wrong").RevokeToken(context.Background(), Request{Token: tok}, true)
	problemOf(t, err, action.KindUpstreamAuth)
}
