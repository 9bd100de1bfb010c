package action

import (
	"context"
	"encoding/json"
	"sync/atomic"
	"testing"
)

// BenchmarkInvokeDecode is the registry's own share of an action: envelope
// input validated, defaulted and decoded into the handler's Go type, with
// the connection already known (as n8n sends the same one every item).
func BenchmarkInvokeDecode(b *testing.B) {
	var opens atomic.Int64
	r := newTestRegistry(b, &opens)
	r.CheckOutput = false
	env := Envelope{Connection: json.RawMessage(goodConn), Input: json.RawMessage(`{"id": 42, "name": "rotate", "tags": ["a", "b"], "opts": {"deep": false}}`)}
	ctx := context.Background()
	if _, err := r.Invoke(ctx, "demo.echo", env); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := r.Invoke(ctx, "demo.echo", env); err != nil {
			b.Fatal(err)
		}
	}
}
