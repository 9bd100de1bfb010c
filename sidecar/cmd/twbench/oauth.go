package main

import (
	"context"
	"encoding/json"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/nexusemu"
)

// startNexus runs the Technology Nexus revocation emulator. OAuth revocation
// has no sign-in (the client authenticates on every call), so it has a
// latency row and no burst. Revoking the same token again is answered 200,
// as the server must for unknown tokens, so every call does the same work.
func startNexus(ctx context.Context) (*upstreamUnderTest, error) {
	client := nexusemu.Client{ID: "twbench", Secret: "twbench-secret-0123456789"}
	emu := nexusemu.New(client)
	access, _ := emu.IssuePair(client.ID)
	token, _ := json.Marshal(access)
	u := &upstreamUnderTest{
		Provider: "oauth",
		Latency:  []benchAction{{"oauth.revokeToken", `{"token": ` + string(token) + `, "tokenTypeHint": "access_token"}`}},
	}
	if err := u.serve(ctx, emu.Handler()); err != nil {
		return nil, err
	}
	u.Connection = func() any {
		return map[string]any{"dialect": "nexus", "baseUrl": u.URL, "clientId": client.ID, "clientSecret": client.Secret, "clientAuthMethod": "client_secret_post"}
	}
	return u, nil
}
