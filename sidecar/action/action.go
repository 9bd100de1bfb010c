// Package action declares operations once and runs them: each action's
// schema file (title, description, input, output) plus a Go handler, a
// registry that validates envelopes against those schemas, and a cache of
// upstream sessions so sign-ins are shared between calls.
package action

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// Session is a provider's live client for one connection. It owns the
// upstream sign-in, so the registry keeps one per distinct connection.
type Session interface {
	// Test signs in to the upstream (or makes the cheapest authenticated
	// call) so a user can check a connection before using it.
	Test(ctx context.Context) error
}

// Env is what the process hands every provider when it opens a session.
type Env struct {
	// HTTP builds upstream HTTP clients; its policy (timeouts, TLS, limits)
	// is set once for the whole process.
	HTTP *upstream.Factory
	// Logger is the process's logger, for providers that log what they did
	// upstream; nil means slog.Default().
	Logger *slog.Logger
	// SignIns holds every upstream sign-in: in this process
	// (upstream.LocalHolders) or shared by a fleet. nil means a
	// LocalHolders of the registry's own.
	SignIns upstream.Holders
	// Memo keeps what providers learn about upstreams (negotiated
	// versions); nil means a LocalMemo of the registry's own.
	Memo upstream.Memo
	// Now is the clock every provider reads (token expiry, caches); nil
	// means the wall clock. Tests hand in their test clock.
	Now func() time.Time
}

// withDefaults fills the members a caller left out, so providers never
// check for nil.
func (e Env) withDefaults() Env {
	if e.Now == nil {
		e.Now = time.Now
	}
	if e.Logger == nil {
		e.Logger = slog.Default()
	}
	if e.SignIns == nil {
		// A sign-in gets the budget of the exchange it opens.
		timeout := time.Duration(0)
		if e.HTTP != nil {
			timeout = e.HTTP.RequestTimeout()
		}
		e.SignIns = upstream.NewLocalHolders(e.Now, timeout)
	}
	if e.Memo == nil {
		e.Memo = upstream.NewLocalMemo(e.Now)
	}
	return e
}

// Provider is one upstream system: its connection schema lives in
// schemas/connections/<ID>.json and its actions in schemas/actions/<ID>.*.json.
type Provider struct {
	ID      string
	Actions []Action
	// Open builds a session from a validated connection (defaults applied).
	// It must not do network I/O: sign-in happens on first use, so that
	// concurrent first calls can share it.
	Open func(connection json.RawMessage, env Env) (Session, error)
}

// Handler runs an action with a ready session and validated input.
type Handler func(ctx context.Context, s Session, input Input) (any, error)

// Action binds an action id to its handler. Everything a user reads about
// the action (title, description, schemas) comes from its schema file.
type Action struct {
	ID  string
	Run Handler
}

// Result lets a handler return list metadata beside data; a *Stream is a
// list sent while it is read; any other value returned by a handler
// becomes {"data": value}.
type Result struct {
	Data any `json:"data"`
	Meta any `json:"meta,omitempty"`
	// Stream, set by Registry.Start only, is the answer still to be read
	// and sent (Data and Meta are then empty).
	Stream *Stream `json:"-"`
	// Incomplete, set by Stream.Collect, is why a list broke off after its
	// first items (Meta then says truncated and holds it too): the answer
	// is part of a list, and a caller must not take it for the whole.
	Incomplete *Problem `json:"-"`
}

// Typed adapts a handler written against a concrete session and input type.
// The validated input is moved into In directly (no second JSON encoding);
// a value the schema allows but In cannot hold (a number beyond its bits)
// is refused as invalid input naming the field.
func Typed[S Session, In any](run func(ctx context.Context, s S, in In) (any, error)) Handler {
	return func(ctx context.Context, s Session, input Input) (any, error) {
		session, ok := s.(S)
		if !ok {
			return nil, NewProblem(KindInternal, "session type %T does not fit the action", s)
		}
		var in In
		if err := input.Decode(&in); err != nil {
			var de *decodeError
			if errors.As(err, &de) {
				return nil, InvalidInput([]FieldError{de.FieldError})
			}
			return nil, NewProblem(KindInternal, "input passed its schema but not its Go type: %v", err)
		}
		return run(ctx, session, in)
	}
}

// Decode is Typed's counterpart for Open functions.
func Decode[C any](raw json.RawMessage) (C, error) {
	var c C
	if err := json.Unmarshal(raw, &c); err != nil {
		return c, fmt.Errorf("connection passed its schema but not its Go type: %w", err)
	}
	return c, nil
}
