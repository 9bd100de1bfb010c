package oauthdemo

import (
	"crypto/rand"
	"encoding/hex"
)

// Demo is a server set up for newcomers: one client that authenticates with
// Basic, a user, and token pairs issued at start so there is something to
// revoke right away. The client also authenticates at the introspection
// endpoint, so the same credentials show a revoked token as inactive.
type Demo struct {
	*Server
	ClientID     string
	ClientSecret string
	Tokens       []Tokens
}

// DemoClientID is the demo client's id; its secret is new on every start.
const DemoClientID = "tokenwarden-demo"

// NewDemo builds the demo server with n token pairs already issued.
func NewDemo(n int) (*Demo, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return nil, err
	}
	d := &Demo{ClientID: DemoClientID, ClientSecret: "demo-" + hex.EncodeToString(b)}
	s, err := New(Config{
		Clients: []Client{{ID: d.ClientID, Secret: d.ClientSecret, AuthMethod: "client_secret_basic"}},
		Users:   map[string]string{"alice": "wonderland"},
	})
	if err != nil {
		return nil, err
	}
	d.Server = s
	for range n {
		t, err := s.IssueTokens(d.ClientID, "alice", "wonderland")
		if err != nil {
			return nil, err
		}
		d.Tokens = append(d.Tokens, t)
	}
	return d, nil
}
