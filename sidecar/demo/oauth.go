package demo

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/nexusemu"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/oauthdemo"
)

// demoTokens is how many token pairs each OAuth demo server issues at start:
// enough that the e2e flows each revoke a pair of their own, and the last
// one is still active when the lifecycle flow introspects it.
const demoTokens = 4

// startOAuth runs a real RFC 7009 server (fosite, through oauthdemo) and the
// Nexus emulator, each with tokens issued at start, and says how to revoke
// one and then see it inactive.
func (u *Upstreams) startOAuth() error {
	d, err := oauthdemo.NewDemo(demoTokens)
	if err != nil {
		return fmt.Errorf("demo oauth server: %w", err)
	}
	base, err := u.serve("oauth", d.Handler())
	if err != nil {
		return err
	}
	u.OAuth = d
	u.Connections["oauth"] = map[string]any{"issuer": base, "clientId": d.ClientID, "clientSecret": d.ClientSecret}
	u.Try["oauth.revokeToken"] = map[string]any{"token": d.Tokens[0].AccessToken, "tokenTypeHint": "access_token", "verify": true}
	u.Try["oauth.introspectToken"] = map[string]any{"token": d.Tokens[0].AccessToken}
	u.Notes = append(u.Notes, "OAuth (RFC 7009, ory/fosite) demo tokens:")
	for _, t := range d.Tokens {
		u.tokens["oauth"] = append(u.tokens["oauth"], map[string]string{"accessToken": t.AccessToken, "refreshToken": t.RefreshToken})
		u.Notes = append(u.Notes, "  access "+t.AccessToken+"  refresh "+t.RefreshToken)
	}
	u.Notes = append(u.Notes, "  see whether one is still active (RFC 7662 introspection):",
		fmt.Sprintf("  curl -s -u %s:%s -d token=%s %s%s", d.ClientID, d.ClientSecret, d.Tokens[0].AccessToken, base, oauthdemo.IntrospectPath))

	secret := make([]byte, 8)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	clientID, clientSecret := "MyClient", "nexus-"+hex.EncodeToString(secret)
	u.Nexus = nexusemu.New(nexusemu.Client{ID: clientID, Secret: clientSecret})
	nbase, err := u.serve("nexus", u.Nexus.Handler())
	if err != nil {
		return err
	}
	u.Connections["nexus"] = map[string]any{"dialect": "nexus", "baseUrl": nbase, "clientId": clientID, "clientSecret": clientSecret, "clientAuthMethod": "client_secret_post"}
	u.Notes = append(u.Notes, "Technology Nexus emulator demo tokens:")
	var first string
	for range demoTokens {
		access, refresh := u.Nexus.IssuePair(clientID)
		u.tokens["nexus"] = append(u.tokens["nexus"], map[string]string{"accessToken": access, "refreshToken": refresh})
		if first == "" {
			first = access
		}
		u.Notes = append(u.Notes, "  access "+access+"  refresh "+refresh)
	}
	u.Examples = append(u.Examples, Example{Connection: "nexus", Action: "oauth.revokeToken", Input: map[string]any{"token": first, "tokenTypeHint": "access_token"}})
	u.Notes = append(u.Notes, "  see whether one is still active (an emulator-only endpoint):",
		fmt.Sprintf("  curl -s -d token=%s %s%s", first, nbase, nexusemu.IntrospectPath))
	return nil
}
