package demo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/http"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/githubemu"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/slackemu"
)

// GitHubClientID is the demo OAuth app's client id; its secret is new on
// every start.
const GitHubClientID = "Iv1.tokenwardendemo"

// slackBase is where the Slack emulator serves the Web API, as slack.com does.
const slackBase = "/api"

// startPlatforms runs the GitHub and Slack emulators with user tokens issued
// at start, and says how to revoke one and then check it.
func (u *Upstreams) startPlatforms() error {
	b := make([]byte, 20)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	secret := hex.EncodeToString(b)
	u.GitHub = githubemu.New(nil, githubemu.App{ClientID: GitHubClientID, ClientSecret: secret, Name: "Tokenwarden demo"})
	base, err := u.serve("github", u.GitHub.Handler())
	if err != nil {
		return err
	}
	u.Connections["github"] = map[string]any{"preset": "github", "baseUrl": base, "clientId": GitHubClientID, "clientSecret": secret}
	for _, user := range []string{"alice", "bob", "carol"} {
		u.tokens["github"] = append(u.tokens["github"], map[string]string{"accessToken": u.GitHub.IssueToken(GitHubClientID, user), "user": user})
	}
	first := u.tokens["github"][0]["accessToken"]
	u.Examples = append(u.Examples,
		Example{Connection: "github", Action: "oauth.revokeToken", Input: map[string]any{"token": first, "dryRun": true}},
		Example{Connection: "github", Action: "oauth.revokeToken", Input: map[string]any{"token": first}})
	u.Notes = append(u.Notes, "GitHub emulator (an OAuth app's user tokens): check one (404 once revoked):",
		fmt.Sprintf("  curl -s -u %s:%s -d '{\"access_token\":\"%s\"}' %s%s", GitHubClientID, secret, first, base, githubemu.TokenPath(GitHubClientID)))

	u.Slack = slackemu.New()
	mux := http.NewServeMux()
	mux.Handle(slackBase+"/", u.Slack.Handler(slackBase))
	sbase, err := u.serve("slack", mux)
	if err != nil {
		return err
	}
	u.Connections["slack"] = map[string]any{"preset": "slack", "baseUrl": sbase + slackBase}
	for _, user := range []string{"alice", "bob", "carol"} {
		u.tokens["slack"] = append(u.tokens["slack"], map[string]string{"accessToken": u.Slack.IssueToken(user), "user": user})
	}
	sfirst := u.tokens["slack"][0]["accessToken"]
	u.Examples = append(u.Examples,
		Example{Connection: "slack", Action: "oauth.revokeToken", Input: map[string]any{"token": sfirst, "dryRun": true}},
		Example{Connection: "slack", Action: "oauth.revokeToken", Input: map[string]any{"token": sfirst}})
	u.Notes = append(u.Notes, "Slack emulator: see whether a token still works (auth.test answers token_revoked once revoked):",
		fmt.Sprintf("  curl -s -H 'Authorization: Bearer %s' %s%s/auth.test", sfirst, sbase, slackBase),
		"Every demo token, as JSON: GET /v1/demo/tokens")
	return nil
}

// Tokens lists every demo token by connection key, for GET /v1/demo/tokens:
// tests and scripts read them there, not from the banner.
func (u *Upstreams) Tokens() map[string]any {
	out := make(map[string]any, len(u.tokens))
	for k, v := range u.tokens {
		out[k] = v
	}
	return out
}
