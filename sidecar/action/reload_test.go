package action

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
)

// A reload that changes a profile's secret replaces the session built on
// the old one, leaves unchanged profiles' sessions alone, and lets calls
// already holding a session finish.
func TestReplaceProfilesReplacesOnlyChangedSessions(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	rotated := `{"url": "https://x.example", "key": "k2"}`
	other := `{"url": "https://y.example", "key": "y"}`
	if err := r.SetProfiles(map[string]Profile{"a": {Provider: "demo", Connection: json.RawMessage(goodConn)}, "b": {Provider: "demo", Connection: json.RawMessage(other)}}); err != nil {
		t.Fatal(err)
	}
	in := json.RawMessage(`{"id": 1, "name": "n"}`)
	call := func(profile string) {
		t.Helper()
		if _, err := r.Invoke(context.Background(), "demo.echo", Envelope{Profile: profile, Input: in}); err != nil {
			t.Fatal(err)
		}
	}
	call("a")
	call("b")
	if opens.Load() != 2 {
		t.Fatalf("opens %d", opens.Load())
	}
	changed, err := r.ReplaceProfiles(map[string]Profile{"a": {Provider: "demo", Connection: json.RawMessage(rotated)}, "b": {Provider: "demo", Connection: json.RawMessage(other)}, "c": {Provider: "demo", Connection: json.RawMessage(other)}})
	if err != nil || !slices.Equal(changed, []string{"a", "c"}) {
		t.Fatalf("changed %v, %v; want [a c]", changed, err)
	}
	call("b")
	if opens.Load() != 2 {
		t.Fatal("an unchanged profile lost its session")
	}
	call("a")
	if opens.Load() != 3 {
		t.Fatal("the rotated profile kept the session of the old secret")
	}
	// A bad set changes nothing.
	if _, err := r.ReplaceProfiles(map[string]Profile{"a": {Provider: "demo", Connection: json.RawMessage(`{"url": 1}`)}}); err == nil {
		t.Fatal("a bad profile set was accepted")
	}
	call("a")
	call("c")
	if opens.Load() != 3 {
		t.Fatalf("a refused reload dropped sessions (opens %d)", opens.Load())
	}
}

// Calls running while profiles are swapped all finish; none sees a missing
// profile. Run with -race.
func TestReplaceProfilesUnderLoad(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	conns := []string{goodConn, `{"url": "https://x.example", "key": "k2"}`}
	if err := r.SetProfiles(map[string]Profile{"a": {Provider: "demo", Connection: json.RawMessage(conns[0])}}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if _, err := r.Invoke(context.Background(), "demo.echo", Envelope{Profile: "a", Input: json.RawMessage(`{"id": 1, "name": "n"}`)}); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	for i := range 50 {
		if _, err := r.ReplaceProfiles(map[string]Profile{"a": {Provider: "demo", Connection: json.RawMessage(conns[i%2])}}); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if failed.Load() != 0 {
		t.Fatalf("%d calls failed during reloads", failed.Load())
	}
}
