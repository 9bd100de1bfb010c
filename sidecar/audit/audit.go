// Package audit writes two JSON lines per mutating action: the intent (who
// asked, what was targeted), before anything is sent upstream, and the
// outcome (what happened upstream), after. Events never hold a secret or a
// token; secret input fields appear only as a short SHA-256 fingerprint so
// two events about the same token can still be matched.
package audit

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// The two phases of an audited call. The intent is written (and, in a
// file, fsync'd) before the first upstream call, the outcome after the
// answer; both carry the request id. An intent without an outcome is a call
// whose result nobody saw: check it upstream.
const (
	PhaseIntent  = "intent"
	PhaseOutcome = "outcome"
)

// Outcomes of a call.
const (
	Succeeded = "succeeded"
	Failed    = "failed"
	// Replayed is an Idempotency-Key repeat answered from the store, with no
	// upstream call.
	Replayed = "replayed"
	// Unknown means the upstream may or may not have done it: the sidecar
	// was cut off (shutdown) or the upstream's answer was lost.
	Unknown = "unknown"
	// DryRun is a call with dryRun that succeeded: it only read what it
	// would affect, nothing was changed upstream.
	DryRun = "dry-run"
	// Verified is a revocation with verify whose re-read of the upstream
	// showed it done.
	Verified = "verified"
	// Unverified is a revocation the upstream reported done but whose
	// re-read showed it did not take (problem revocation-unverified).
	Unverified = "unverified"
)

// Event is one phase of an audited action.
type Event struct {
	Time      time.Time      `json:"time"`
	Phase     string         `json:"phase"`
	RequestID string         `json:"requestId"`
	Action    string         `json:"action"`
	Profile   string         `json:"profile,omitempty"`
	Targets   map[string]any `json:"targets,omitempty"`
	Caller    string         `json:"caller,omitempty"` // API key id, never the key
	Actor     string         `json:"actor,omitempty"`  // the X-Tokenwarden-Actor header
	// Outcome, Status and what follows are set on outcome events only.
	Outcome          string `json:"outcome,omitempty"`
	Status           int    `json:"status,omitempty"`
	Problem          string `json:"problem,omitempty"`
	UpstreamStatus   int    `json:"upstreamStatus,omitempty"`
	UpstreamAttempts int    `json:"upstreamAttempts,omitempty"`
	// Verification is the status of the answer's verification, for a call
	// with verify: verified, or why not (unverifiable, not-checked).
	Verification string `json:"verification,omitempty"`
}

// Sink receives events.
type Sink interface {
	Write(Event) error
}

// Lines writes events as JSON lines, one Write call per event, so lines
// from concurrent actions never interleave.
type Lines struct {
	mu   sync.Mutex
	w    io.Writer
	sync func() error
}

// NewLines writes to w (stdout, say) without syncing.
func NewLines(w io.Writer) *Lines { return &Lines{w: w} }

// OpenFile appends to path (created 0600) and fsyncs after every event,
// so an event the sidecar reported is on disk even if the host dies next.
func OpenFile(path string) (*Lines, io.Closer, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("audit file: %w", err)
	}
	return &Lines{w: f, sync: f.Sync}, f, nil
}

// Write implements Sink.
func (l *Lines) Write(e Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	b = append(b, '\n')
	l.mu.Lock()
	defer l.mu.Unlock()
	if _, err := l.w.Write(b); err != nil {
		return err
	}
	if l.sync != nil {
		return l.sync()
	}
	return nil
}

// Fingerprint stands in for a secret value in an event: enough to match
// two events about the same token, useless for recovering it.
func Fingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:6])
}
