// Package demo starts the built-in upstream emulators on loopback and says
// how to connect to them, so a newcomer can try every action at once.
package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/appgateemu"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/githubemu"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/nexusemu"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/oauthdemo"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/slackemu"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
)

// Upstreams are the running emulators.
type Upstreams struct {
	// Connections holds a ready connection object per provider, keyed as in
	// GET /v1/demo/connections.
	Connections map[string]any
	// Try lists example inputs per action id, for the start-up banner.
	Try map[string]any
	// Examples are further calls for the banner, for providers with more
	// than one demo connection.
	Examples []Example
	// Notes are banner lines after the examples: tokens to try and commands
	// that show an action's effect.
	Notes   []string
	ThreeCX *threecxemu.Emulator
	Appgate *appgateemu.Emulator
	OAuth   *oauthdemo.Demo
	Nexus   *nexusemu.Server
	GitHub  *githubemu.Server
	Slack   *slackemu.Server
	// tokens are the demo tokens by connection key (see Tokens).
	tokens  map[string][]map[string]string
	servers []*http.Server
	opts    Options
}

// Options shape the emulators for `tokenwarden emulators`; the zero value
// is the demo.
type Options struct {
	// Host is the address the emulators listen on, each on a port of its
	// own; empty means 127.0.0.1.
	Host string
	// Scale seeds that many extra 3CX refresh tokens (MyTokens), 3CX
	// security tokens of other users and Appgate devices.
	Scale int
	// Wrap, when set, wraps each emulator's handler (keyed by the
	// connection name: threecx, appgate, oauth, nexus, github, slack).
	Wrap func(name string, h http.Handler) http.Handler
}

// Example is one call the banner shows: an action with a demo connection.
type Example struct {
	Connection string // key in Connections
	Action     string
	Input      any
}

// Start runs every emulator on its own loopback port.
func Start() (*Upstreams, error) { return StartWith(Options{}) }

// StartWith runs every emulator on its own port of o.Host.
func StartWith(o Options) (*Upstreams, error) {
	if o.Host == "" {
		o.Host = "127.0.0.1"
	}
	u := &Upstreams{Connections: map[string]any{}, Try: map[string]any{}, tokens: map[string][]map[string]string{}, opts: o}
	u.ThreeCX = threecxemu.New(threecxemu.Options{Scale: o.Scale})
	base, err := u.serve("threecx", u.ThreeCX)
	if err != nil {
		return nil, err
	}
	id, secret := u.ThreeCX.Credentials()
	u.Connections["threecx"] = map[string]any{"baseUrl": base, "clientId": id, "clientSecret": secret}
	u.Try["threecx.listRefreshTokens"] = map[string]any{"top": 5, "count": true, "orderBy": "Created desc"}
	u.Try["threecx.listSecurityTokens"] = map[string]any{"filter": "Revoked eq null", "select": "Id,DisplayName,Created,Revoked", "top": 5}
	u.Try["threecx.revokeSecurityToken"] = map[string]any{"id": 1}
	u.Try["threecx.generateAppToken"] = map[string]any{"id": 32}
	u.Try["threecx.listServicePrincipals"] = map[string]any{"filter": "XAPIEnabled eq true", "select": "Id,Number,LastUsed"}
	u.Try["threecx.revokeRefreshToken"] = map[string]any{"id": myTokenID(u.ThreeCX), "dryRun": true}
	// Preview first, then revoke and prove it took.
	u.Examples = append(u.Examples,
		Example{Connection: "threecx", Action: "threecx.revokeSecurityToken", Input: map[string]any{"id": 2, "dryRun": true}},
		Example{Connection: "threecx", Action: "threecx.revokeSecurityToken", Input: map[string]any{"id": 2, "verify": true}})

	u.Appgate = appgateemu.New(appgateemu.Options{Scale: o.Scale})
	if base, err = u.serve("appgate", u.Appgate); err != nil {
		return nil, err
	}
	ag := u.Appgate.Credentials()
	u.Connections["appgate"] = map[string]any{"baseUrl": base + "/admin", "providerName": ag.ProviderName, "username": ag.Username, "password": ag.Password}
	u.Try["appgate.listOnboardedDevices"] = map[string]any{"filterBy": map[string]string{"providerName": "ldap"}, "orderBy": "lastSeenAt", "descending": true}
	u.Try["appgate.revokeDeviceTokens"] = map[string]any{"distinguishedNameFilter": "CN=alice,OU=ldap", "revocationReason": "Laptop reported stolen"}
	u.Examples = append(u.Examples, Example{Connection: "appgate", Action: "appgate.revokeDeviceTokens", Input: map[string]any{"distinguishedNameFilter": "OU=ldap", "dryRun": true}})
	if err := u.startOAuth(); err != nil {
		u.Close(context.Background())
		return nil, err
	}
	if err := u.startPlatforms(); err != nil {
		u.Close(context.Background())
		return nil, err
	}
	return u, nil
}

func (u *Upstreams) serve(name string, h http.Handler) (string, error) {
	if u.opts.Wrap != nil {
		h = u.opts.Wrap(name, h)
	}
	host := u.opts.Host
	if host == "" {
		host = "127.0.0.1"
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return "", fmt.Errorf("demo emulator: %w", err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	u.servers = append(u.servers, srv)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			panic(err)
		}
	}()
	return "http://" + ln.Addr().String(), nil
}

// Stats reports the emulators' counters, keyed by provider as Connections
// is: how many times a client signed in, for 3CX how many RevokeToken calls
// it answered and how many tokens are revoked (so a test can tell a token
// revoked twice), and how many revocations the Appgate controller carried
// out (a dry run must add none).
func (u *Upstreams) Stats() map[string]any {
	return map[string]any{
		"threecx": map[string]any{"signIns": u.ThreeCX.TokenRequests(), "revokeRequests": u.ThreeCX.RevokeRequests(), "revoked": u.ThreeCX.Revoked()},
		"appgate": map[string]any{"signIns": u.Appgate.Logins(), "revocations": len(u.Appgate.Revocations())},
	}
}

// Close stops every emulator.
func (u *Upstreams) Close(ctx context.Context) {
	for _, s := range u.servers {
		_ = s.Shutdown(ctx)
	}
}

// myTokenID is the id of an active refresh token of the demo's own
// principal (its MyTokens), for the revokeRefreshToken example.
func myTokenID(emu *threecxemu.Emulator) int32 {
	self, _ := emu.Credentials()
	for id := int32(1); id < 1000; id++ {
		raw, ok := emu.SecurityToken(id)
		if !ok {
			break
		}
		var t struct {
			Username string  `json:"Username"`
			Revoked  *string `json:"Revoked"`
		}
		if json.Unmarshal(raw, &t) == nil && t.Username == self && t.Revoked == nil {
			return id
		}
	}
	return 1
}
