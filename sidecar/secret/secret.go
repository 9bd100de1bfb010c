// Package secret wraps values that must never reach a log line, an error
// message or a response: printing, formatting, logging or JSON-encoding a
// Value yields a placeholder; only Reveal gives the value, at the one place
// it is sent upstream.
package secret

import (
	"encoding/json"
	"log/slog"
)

// Value is a secret string. Its zero value is the empty secret.
type Value string

const redacted = "[redacted]"

// Reveal returns the secret for sending it where it belongs.
func (v Value) Reveal() string { return string(v) }

// String keeps fmt's %s and %v from printing it.
func (v Value) String() string { return redacted }

// GoString keeps %#v from printing it.
func (v Value) GoString() string { return redacted }

// LogValue keeps slog from logging it.
func (v Value) LogValue() slog.Value { return slog.StringValue(redacted) }

// MarshalJSON keeps encoding/json from writing it.
func (v Value) MarshalJSON() ([]byte, error) { return json.Marshal(redacted) }

// UnmarshalJSON reads the real value.
func (v *Value) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	*v = Value(s)
	return nil
}
