package action

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
)

func fields(err error) string {
	var p *Problem
	if !errors.As(err, &p) {
		return "not a problem: " + err.Error()
	}
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return strings.Join(out, ",")
}

func TestProfilesAreValidatedNamingEveryBadField(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	err := r.SetProfiles(map[string]Profile{
		"good":  {Provider: "demo", Connection: json.RawMessage(goodConn)},
		"bad":   {Provider: "demo", Connection: json.RawMessage(`{"url": "not a url", "extra": 1}`)},
		"alien": {Provider: "nope", Connection: json.RawMessage(goodConn)},
	})
	want := "profiles.alien.provider,profiles.bad.connection.extra,profiles.bad.connection.key,profiles.bad.connection.url"
	if got := fields(err); got != want {
		t.Fatalf("fields %s, want %s (%v)", got, want, err)
	}
}

func TestInvokeWithProfile(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	if err := r.SetProfiles(map[string]Profile{"main": {Provider: "demo", Connection: json.RawMessage(goodConn)}}); err != nil {
		t.Fatal(err)
	}
	in := json.RawMessage(`{"id": 1, "name": "n"}`)
	if _, err := r.Invoke(context.Background(), "demo.echo", Envelope{Profile: "main", Input: in}); err != nil {
		t.Fatal(err)
	}
	// The profile and an inline copy of the same connection share a session.
	if _, err := r.Invoke(context.Background(), "demo.echo", Envelope{Connection: json.RawMessage(goodConn), Input: in}); err != nil || opens.Load() != 1 {
		t.Fatalf("%v opens=%d", err, opens.Load())
	}
	for name, c := range map[string]struct {
		env  Envelope
		want string
	}{
		"both":    {Envelope{Profile: "main", Connection: json.RawMessage(goodConn), Input: in}, "connection,profile"},
		"unknown": {Envelope{Profile: "other", Input: json.RawMessage(`{}`)}, "profile,input.id,input.name"},
	} {
		_, err := r.Invoke(context.Background(), "demo.echo", c.env)
		if got := fields(err); got != c.want {
			t.Errorf("%s: fields %s, want %s", name, got, c.want)
		}
	}
}

func TestEnvelopeAcceptsProfileAndNamesWrongTypes(t *testing.T) {
	env, err := ParseEnvelope([]byte(`{"profile": "main", "input": {"id": 1}}`))
	if err != nil || env.Profile != "main" {
		t.Fatal(env, err)
	}
	if _, err := ParseEnvelope([]byte(`{"profile": 7}`)); fields(err) != "profile" {
		t.Fatalf("%v", err)
	}
}

func TestTestEnvelopeWithProfile(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	if err := r.SetProfiles(map[string]Profile{"main": {Provider: "demo", Connection: json.RawMessage(goodConn)}}); err != nil {
		t.Fatal(err)
	}
	if err := r.TestEnvelope(context.Background(), "demo", Envelope{Profile: "main"}); err != nil {
		t.Fatal(err)
	}
	if got := fields(r.TestEnvelope(context.Background(), "demo", Envelope{Profile: "nope"})); got != "profile" {
		t.Fatalf("fields %s", got)
	}
}
