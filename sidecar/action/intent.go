package action

import (
	"context"
	"encoding/json"
)

// Intent is what a mutating action is about to ask of its upstream: known
// once the request is valid, before the first upstream call. The write-ahead
// audit records it, so a call that reached the upstream is on disk even if
// the process dies before the answer.
type Intent struct {
	Action  string
	Profile string
	// Input is the validated input, defaults applied.
	Input json.RawMessage
}

// IntentFunc records an intent. An error stops the action before anything
// is sent upstream.
type IntentFunc func(context.Context, Intent) error

type intentKey struct{}

// WithIntent asks Invoke to call f before a mutating action runs.
func WithIntent(ctx context.Context, f IntentFunc) context.Context {
	return context.WithValue(ctx, intentKey{}, f)
}

// announce is the one place Invoke tells the write-ahead hook what it is
// about to do; non-mutating actions and requests without a hook pass.
func announce(ctx context.Context, a *actionEntry, env Envelope, input Input) error {
	f, _ := ctx.Value(intentKey{}).(IntentFunc)
	if f == nil || !a.desc.Mutating {
		return nil
	}
	raw, err := json.Marshal(input.value)
	if err != nil {
		return NewProblem(KindInternal, "action %s: the validated input does not encode: %v", a.ID, err)
	}
	if err := f(ctx, Intent{Action: a.ID, Profile: env.Profile, Input: raw}); err != nil {
		return NewProblem(KindAuditUnavailable, "nothing was sent upstream: the audit intent could not be recorded (%v)", err)
	}
	return nil
}
