// Package audit writes one JSON line per mutating action: who asked, what
// was targeted, what happened upstream. Events never hold a secret or a
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

// Event is one audited action.
type Event struct {
	Time      time.Time      `json:"time"`
	RequestID string         `json:"requestId"`
	Action    string         `json:"action"`
	Profile   string         `json:"profile,omitempty"`
	Targets   map[string]any `json:"targets,omitempty"`
	Caller    string         `json:"caller,omitempty"` // API key id, never the key
	Actor     string         `json:"actor,omitempty"`  // the X-Tokenwarden-Actor header
	// Outcome is "succeeded", "failed" or "replayed" (an Idempotency-Key
	// repeat answered from the store without an upstream call).
	Outcome          string `json:"outcome"`
	Status           int    `json:"status"`
	Problem          string `json:"problem,omitempty"`
	UpstreamStatus   int    `json:"upstreamStatus,omitempty"`
	UpstreamAttempts int    `json:"upstreamAttempts,omitempty"`
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
