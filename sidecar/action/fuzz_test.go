package action

import (
	"context"
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"
)

// FuzzParseEnvelope: any body is either an envelope or a 400/422 problem.
func FuzzParseEnvelope(f *testing.F) {
	for _, s := range []string{
		`{"connection": {"url": "https://x"}, "input": {"id": 1}}`,
		`{"profile": "main", "input": {}}`,
		`{"inputs": {}}`, `{"profile": 7}`, `[]`, `null`, `{} {}`, `{"connection": "x"}`, `{"input": {"a": [1, 2, {"b": null}]}}`, "\xff",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := ParseEnvelope(body)
		if err != nil {
			var p *Problem
			if !errors.As(err, &p) || (p.Status != 400 && p.Status != 422) {
				t.Fatalf("not a 400/422 problem: %v", err)
			}
			if _, err := json.Marshal(p); err != nil {
				t.Fatalf("problem does not encode: %v", err)
			}
			return
		}
		if _, err := json.Marshal(env); err != nil {
			t.Fatalf("envelope does not encode: %v", err)
		}
	})
}

// FuzzInvoke: whatever connection and input arrive, the registry answers
// with a result that fits the output schema or a problem naming fields; it
// never panics and never runs the handler on input its schema refuses.
func FuzzInvoke(f *testing.F) {
	f.Add([]byte(goodConn), []byte(`{"id": 1, "name": "n"}`))
	f.Add([]byte(`{"url": "x", "key": ""}`), []byte(`{"id": 2147483648, "name": "", "tags": ["long tag"]}`))
	f.Add([]byte(`null`), []byte(`{"id": 1.5, "opts": {"deep": "yes"}}`))
	f.Add([]byte(`{"url": "https://x", "key": "k", "mode": "c"}`), []byte(`[1]`))
	var opens atomic.Int64
	r := newTestRegistry(f, &opens)
	f.Fuzz(func(t *testing.T, conn, input []byte) {
		_, err := r.Invoke(context.Background(), "demo.echo", Envelope{Connection: conn, Input: input})
		if err == nil {
			return
		}
		var p *Problem
		if !errors.As(err, &p) {
			t.Fatalf("not a problem: %v", err)
		}
		if p.Kind() == KindInternal {
			t.Fatalf("internal error for outside input: %v", p)
		}
		if p.Kind() == KindInvalidInput && len(p.Errors) == 0 {
			t.Fatal("invalid input without a named field")
		}
	})
}
