package httpapi

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/audit"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// ActorHeader lets the caller name who (or which workflow run) asked; it is
// recorded in the audit event as given, when sane.
const ActorHeader = "X-Tokenwarden-Actor"

var saneActor = regexp.MustCompile(`^[\p{L}\p{N} ._:@/#+-]{1,128}$`)

// secretName catches input fields that hold a credential even when their
// schema forgot x-secret.
var secretName = regexp.MustCompile(`(?i)(secret|password|passphrase|token|apikey|credential)$`)

// Audit writes ahead: for every mutating action call (schema x-mutating)
// an intent event once the request is valid and before the first upstream
// call (the registry calls the hook this installs), and an outcome event
// with the same request id after the answer. An intent that cannot be
// written stops the call before anything is sent (503 audit-unavailable);
// a failing outcome write is logged, never hidden. Events name the target
// fields of the input, secret fields replaced by a fingerprint; nothing else
// of the request is recorded.
func Audit(reg *action.Registry, sink audit.Sink) func(http.Handler) http.Handler {
	secretFields := map[string]map[string]bool{}
	for _, d := range reg.Actions() {
		secretFields[d.ID] = markedSecret(d.Input)
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, isAction := strings.CutPrefix(r.URL.Path, "/v1/actions/")
			d, known := reg.Describe(id)
			if r.Method != http.MethodPost || !isAction || !known || !d.Mutating {
				next.ServeHTTP(w, r)
				return
			}
			// Read only to refuse an unreadable body before anything runs;
			// the handler parses it and hands the envelope back in parsed.
			if _, err := peekBody(r); err != nil {
				writeProblem(w, r, err)
				return
			}
			base := audit.Event{RequestID: RequestIDFrom(r.Context()), Action: id, Caller: CallerFrom(r.Context())}
			if actor := r.Header.Get(ActorHeader); saneActor.MatchString(actor) {
				base.Actor = actor
			}
			ctx, trace := upstream.WithTrace(r.Context())
			parsed := &parsedEnvelope{}
			ctx = context.WithValue(ctx, parsedEnvelopeKey{}, parsed)
			ctx = action.WithIntent(ctx, func(ctx context.Context, in action.Intent) error {
				e := base
				e.Time, e.Phase = time.Now().UTC(), audit.PhaseIntent
				e.Profile, e.Targets = in.Profile, targets(in.Input, secretFields[id])
				if err := sink.Write(e); err != nil {
					LogFrom(ctx).Error("audit intent not written; the action was not run", "error", err.Error(), "action", id)
					return err
				}
				return nil
			})
			rec := newCapture(w, 64<<10)
			next.ServeHTTP(rec, r.WithContext(ctx))

			e := base
			e.Time, e.Phase, e.Status, e.Outcome = time.Now().UTC(), audit.PhaseOutcome, rec.code(), audit.Succeeded
			if parsed.ok {
				e.Profile = parsed.env.Profile
				e.Targets = targets(parsed.env.Input, secretFields[id])
			}
			sum := trace.Summary()
			e.UpstreamStatus, e.UpstreamAttempts = sum.LastStatus, sum.Attempts
			switch {
			case w.Header().Get(ReplayedHeader) == "true":
				e.Outcome = audit.Replayed
			case e.Status >= 300:
				e.Outcome = audit.Failed
				var p struct {
					Type string `json:"type"`
				}
				if json.Unmarshal(rec.body.Bytes(), &p) == nil {
					e.Problem = p.Type
				}
				switch e.Problem {
				case action.ProblemBase + string(action.KindOutcomeUnknown):
					e.Outcome = audit.Unknown
				case action.ProblemBase + string(action.KindUnverified):
					e.Outcome = audit.Unverified
				}
			default:
				e.Outcome, e.Verification = answered(rec, e.Targets)
			}
			if err := sink.Write(e); err != nil {
				LogFrom(r.Context()).Error("audit outcome not written", "error", err.Error(), "action", id)
			}
		})
	}
}

// answered reads the outcome of a successful call from its answer: a dry
// run, or a revocation whose verification showed it done. The 3CX and OAuth
// answers say so in data, Appgate's (data is its device list) in meta. An
// answer too large to have been kept whole is a dry run when its input
// asked for one: a dry run that succeeded changed nothing.
func answered(rec *capture, targets map[string]any) (outcome, verification string) {
	type checks struct {
		DryRun       bool `json:"dryRun"`
		Verification *struct {
			Status string `json:"status"`
		} `json:"verification"`
	}
	var answer struct {
		Data json.RawMessage `json:"data"`
		Meta json.RawMessage `json:"meta"`
	}
	var seen checks
	if rec.over {
		seen.DryRun = targets["dryRun"] == true
	} else if json.Unmarshal(rec.body.Bytes(), &answer) == nil {
		for _, part := range []json.RawMessage{answer.Data, answer.Meta} {
			var c checks
			if len(part) > 0 && part[0] == '{' && json.Unmarshal(part, &c) == nil {
				seen.DryRun = seen.DryRun || c.DryRun
				if c.Verification != nil {
					seen.Verification = c.Verification
				}
			}
		}
	}
	switch {
	case seen.DryRun:
		return audit.DryRun, ""
	case seen.Verification == nil:
		return audit.Succeeded, ""
	case seen.Verification.Status == action.VerificationVerified:
		return audit.Verified, seen.Verification.Status
	}
	return audit.Succeeded, seen.Verification.Status
}

// parsedEnvelope is where the invoke handler leaves the envelope it parsed,
// so the audit event is built without parsing the body a second time.
type parsedEnvelope struct {
	env action.Envelope
	ok  bool
}

type parsedEnvelopeKey struct{}

// shareEnvelope hands a parsed envelope to the audit middleware, if one is
// waiting for it.
func shareEnvelope(ctx context.Context, env action.Envelope) {
	if p, ok := ctx.Value(parsedEnvelopeKey{}).(*parsedEnvelope); ok {
		p.env, p.ok = env, true
	}
}

// markedSecret lists the top-level input properties a schema marks x-secret.
func markedSecret(input map[string]any) map[string]bool {
	out := map[string]bool{}
	props, _ := input["properties"].(map[string]any)
	for name, p := range props {
		if m, ok := p.(map[string]any); ok && m["x-secret"] == true {
			out[name] = true
		}
	}
	return out
}

// targets keeps the input's top-level fields, each secret one replaced by
// its fingerprint, so the event says what was acted on without holding it.
func targets(raw json.RawMessage, secret map[string]bool) map[string]any {
	var in map[string]any
	if json.Unmarshal(raw, &in) != nil || len(in) == 0 {
		return nil
	}
	for k, v := range in {
		if secret[k] || secretName.MatchString(k) {
			s, _ := json.Marshal(v)
			in[k] = audit.Fingerprint(string(s))
		}
	}
	return in
}
