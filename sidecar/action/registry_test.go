package action

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
)

// A small provider over its own schema files, so the registry's rules are
// tested apart from any real upstream.
var testSchemas = fstest.MapFS{
	"connections/demo.json": {Data: []byte(`{
		"$id": "https://tokenwarden.dev/schemas/connections/demo.json",
		"type": "object", "additionalProperties": false, "required": ["url", "key"],
		"properties": {
			"url": {"type": "string", "format": "uri"},
			"key": {"type": "string", "minLength": 1},
			"mode": {"enum": ["a", "b"], "default": "a"}
		}}`)},
	"defs/common.json": {Data: []byte(`{
		"$id": "https://tokenwarden.dev/schemas/defs/common.json",
		"$defs": {"id": {"type": "integer", "minimum": 1, "maximum": 2147483647, "description": "shared"}}}`)},
	"actions/demo.echo.json": {Data: []byte(`{
		"$id": "https://tokenwarden.dev/schemas/actions/demo.echo.json",
		"title": "Echo", "description": "Echoes its input.", "x-provider": "demo", "x-mutating": true,
		"$defs": {
			"input": {"type": "object", "additionalProperties": false, "required": ["id", "name"],
				"properties": {
					"id": {"$ref": "../defs/common.json#/$defs/id", "description": "own"},
					"name": {"type": "string", "minLength": 1},
					"tags": {"type": "array", "items": {"type": "string", "maxLength": 3}},
					"limit": {"type": "integer", "default": 7},
					"opts": {"type": "object", "properties": {"deep": {"type": "boolean", "default": true}}, "default": {}}
				}},
			"output": {"type": "object", "required": ["data"], "properties": {"data": {"type": "object", "required": ["id"]}}}
		}}`)},
}

type demoSession struct{}

func (*demoSession) Test(context.Context) error { return nil }

type echoInput struct {
	ID    int32          `json:"id"`
	Name  string         `json:"name"`
	Limit int            `json:"limit"`
	Opts  map[string]any `json:"opts"`
}

func newTestRegistry(t testing.TB, opens *atomic.Int64) *Registry {
	t.Helper()
	set, err := loadSchemas(testSchemas)
	if err != nil {
		t.Fatal(err)
	}
	p := Provider{
		ID: "demo",
		Actions: []Action{{ID: "demo.echo", Run: Typed(func(_ context.Context, _ *demoSession, in echoInput) (any, error) {
			return in, nil
		})}},
		Open: func(json.RawMessage, Env) (Session, error) { opens.Add(1); return &demoSession{}, nil },
	}
	r, err := NewRegistry(set, Env{}, p)
	if err != nil {
		t.Fatal(err)
	}
	r.CheckOutput = true
	return r
}

const goodConn = `{"url": "https://x.example", "key": "k"}`

func TestInvokeAppliesDefaultsAndRuns(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	res, err := r.Invoke(context.Background(), "demo.echo", Envelope{Connection: json.RawMessage(goodConn), Input: json.RawMessage(`{"id": 3, "name": "n"}`)})
	if err != nil {
		t.Fatal(err)
	}
	got := res.Data.(echoInput)
	want := echoInput{ID: 3, Name: "n", Limit: 7, Opts: map[string]any{"deep": true}}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %+v, want %+v", got, want)
	}
}

func TestInvokeNamesEveryBadFieldAtOnce(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	_, err := r.Invoke(context.Background(), "demo.echo", Envelope{
		Connection: json.RawMessage(`{"url": "not a uri", "mode": "c", "extra": 1}`),
		Input:      json.RawMessage(`{"id": "abc", "tags": ["ok", "toolong"], "bogus": true}`),
	})
	var p *Problem
	if !errors.As(err, &p) || p.Status != http.StatusUnprocessableEntity || p.Kind() != KindInvalidInput {
		t.Fatalf("want 422 invalid-input, got %v", err)
	}
	fields := map[string]bool{}
	for _, e := range p.Errors {
		fields[e.Field] = true
	}
	for _, f := range []string{"connection.url", "connection.key", "connection.mode", "connection.extra", "input.id", "input.name", "input.tags.1", "input.bogus"} {
		if !fields[f] {
			t.Errorf("field %s not named; got %+v", f, p.Errors)
		}
	}
	if opens.Load() != 0 {
		t.Fatal("a session was opened for invalid input")
	}
}

func TestInvokeRejectsInt32Overflow(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	_, err := r.Invoke(context.Background(), "demo.echo", Envelope{Connection: json.RawMessage(goodConn), Input: json.RawMessage(`{"id": 2147483648, "name": "n"}`)})
	var p *Problem
	if !errors.As(err, &p) || len(p.Errors) != 1 || p.Errors[0].Field != "input.id" {
		t.Fatalf("want input.id error, got %v %+v", err, p)
	}
}

func TestMissingConnectionIsNamed(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	_, err := r.Invoke(context.Background(), "demo.echo", Envelope{Input: json.RawMessage(`{"id": 1, "name": "n"}`)})
	var p *Problem
	if !errors.As(err, &p) || len(p.Errors) != 2 || p.Errors[0].Field != "connection" || p.Errors[1].Field != "profile" {
		t.Fatalf("want connection and profile named, got %v", err)
	}
}

func TestUnknownActionSuggests(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	_, err := r.Invoke(context.Background(), "demo.ecoh", Envelope{})
	var p *Problem
	if !errors.As(err, &p) || p.Status != http.StatusNotFound || p.Kind() != KindUnknownAction {
		t.Fatalf("want 404 unknown-action, got %v", err)
	}
	if want := `no action "demo.ecoh"; did you mean one of: demo.echo (GET /v1/actions lists all)`; p.Detail != want {
		t.Fatalf("detail %q", p.Detail)
	}
}

func TestSameConnectionSharesOneSession(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			// Key order and whitespace differ; the connection is the same.
			conn := goodConn
			if i%2 == 0 {
				conn = `{ "key":"k","url":"https://x.example" }`
			}
			if _, err := r.Invoke(context.Background(), "demo.echo", Envelope{Connection: json.RawMessage(conn), Input: json.RawMessage(`{"id": 1, "name": "n"}`)}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if opens.Load() != 1 {
		t.Fatalf("opened %d sessions, want 1", opens.Load())
	}
	if _, err := r.Invoke(context.Background(), "demo.echo", Envelope{Connection: json.RawMessage(`{"url": "https://x.example", "key": "other"}`), Input: json.RawMessage(`{"id": 1, "name": "n"}`)}); err != nil {
		t.Fatal(err)
	}
	if opens.Load() != 2 {
		t.Fatalf("a different key must get its own session; opened %d", opens.Load())
	}
}

func TestRegistryRefusesDrift(t *testing.T) {
	set, err := loadSchemas(testSchemas)
	if err != nil {
		t.Fatal(err)
	}
	open := func(json.RawMessage, Env) (Session, error) { return &demoSession{}, nil }
	noop := func(context.Context, Session, Input) (any, error) { return nil, nil }
	cases := map[string]Provider{
		"schema without action": {ID: "demo", Open: open},
		"action without schema": {ID: "demo", Open: open, Actions: []Action{{ID: "demo.echo", Run: noop}, {ID: "demo.missing", Run: noop}}},
		"provider mismatch":     {ID: "other", Open: open, Actions: []Action{{ID: "demo.echo", Run: noop}}},
	}
	for name, p := range cases {
		if _, err := NewRegistry(set, Env{}, p); err == nil {
			t.Errorf("%s: registry accepted it", name)
		}
	}
}

func TestCheckOutputCatchesDrift(t *testing.T) {
	set, err := loadSchemas(testSchemas)
	if err != nil {
		t.Fatal(err)
	}
	p := Provider{ID: "demo", Open: func(json.RawMessage, Env) (Session, error) { return &demoSession{}, nil },
		Actions: []Action{{ID: "demo.echo", Run: func(context.Context, Session, Input) (any, error) { return map[string]any{"no": "id"}, nil }}}}
	r, err := NewRegistry(set, Env{}, p)
	if err != nil {
		t.Fatal(err)
	}
	r.CheckOutput = true
	if _, err := r.Invoke(context.Background(), "demo.echo", Envelope{Connection: json.RawMessage(goodConn), Input: json.RawMessage(`{"id": 1, "name": "n"}`)}); err == nil {
		t.Fatal("output breaking its schema was accepted")
	}
}

func TestBundleInlinesRefsKeepingSiblings(t *testing.T) {
	set, err := loadSchemas(testSchemas)
	if err != nil {
		t.Fatal(err)
	}
	in, err := set.Bundle("actions/demo.echo.json", "#/$defs/input")
	if err != nil {
		t.Fatal(err)
	}
	id := in["properties"].(map[string]any)["id"].(map[string]any)
	if id["type"] != "integer" || id["description"] != "own" || id["$ref"] != nil {
		t.Fatalf("id not inlined with its own description: %v", id)
	}
}

func TestParseEnvelope(t *testing.T) {
	if _, err := ParseEnvelope([]byte(`{"connection": {}, "inputs": {}}`)); err == nil || err.(*Problem).Errors[0].Field != "inputs" {
		t.Fatalf("unknown member not named: %v", err)
	}
	if _, err := ParseEnvelope([]byte(`[1]`)); err == nil || err.(*Problem).Kind() != KindMalformedRequest {
		t.Fatalf("non-object body: %v", err)
	}
	if _, err := ParseEnvelope([]byte(`{} {}`)); err == nil {
		t.Fatal("two values accepted")
	}
}

func TestKnownConnectionsFollowEviction(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	r.sessions = newSessionCache(1)
	in := json.RawMessage(`{"id": 1, "name": "n"}`)
	invoke := func(conn string) {
		t.Helper()
		if _, err := r.Invoke(context.Background(), "demo.echo", Envelope{Connection: json.RawMessage(conn), Input: in}); err != nil {
			t.Fatal(err)
		}
	}
	other := `{"url": "https://y.example", "key": "k"}`
	invoke(goodConn)
	invoke(goodConn)
	invoke(other) // evicts goodConn's session, and with it the bytes it was known by
	invoke(goodConn)
	if opens.Load() != 3 {
		t.Fatalf("opened %d sessions, want 3: an evicted session must not be reached by its old bytes", opens.Load())
	}
}

func TestInvalidConnectionIsNeverRemembered(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	bad := json.RawMessage(`{"url": "not a uri", "key": ""}`)
	for i := 0; i < 2; i++ {
		_, err := r.Invoke(context.Background(), "demo.echo", Envelope{Connection: bad, Input: json.RawMessage(`{"id": 1, "name": "n"}`)})
		var p *Problem
		if !errors.As(err, &p) || len(p.Errors) != 2 {
			t.Fatalf("attempt %d: %v, want both connection fields named", i, err)
		}
	}
	if opens.Load() != 0 {
		t.Fatalf("opened %d sessions for an invalid connection", opens.Load())
	}
}

func TestKnownConnectionStillValidatesInput(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	if _, err := r.Invoke(context.Background(), "demo.echo", Envelope{Connection: json.RawMessage(goodConn), Input: json.RawMessage(`{"id": 1, "name": "n"}`)}); err != nil {
		t.Fatal(err)
	}
	_, err := r.Invoke(context.Background(), "demo.echo", Envelope{Connection: json.RawMessage(goodConn), Input: json.RawMessage(`{"id": 0}`)})
	var p *Problem
	if !errors.As(err, &p) || p.Kind() != KindInvalidInput || len(p.Errors) != 2 {
		t.Fatalf("%v, want input.id and input.name named", err)
	}
}

// A schema-valid integer may be spelled 3.0 or 1e2 (JSON Schema counts
// numbers, not spellings); the handler gets the integer. One its Go type
// cannot hold is refused naming the field, never an internal error.
func TestInvokeReadsWholeNumbersHoweverSpelled(t *testing.T) {
	var opens atomic.Int64
	r := newTestRegistry(t, &opens)
	for input, want := range map[string]echoInput{
		`{"id": 3.0, "name": "n", "limit": 1e2}`:            {ID: 3, Name: "n", Limit: 100, Opts: map[string]any{"deep": true}},
		`{"id": 2147483647.000, "name": "n", "limit": 5E0}`: {ID: 2147483647, Name: "n", Limit: 5, Opts: map[string]any{"deep": true}},
		`{"id": 300e-2, "name": "n", "limit": -4.0}`:        {ID: 3, Name: "n", Limit: -4, Opts: map[string]any{"deep": true}},
	} {
		res, err := r.Invoke(context.Background(), "demo.echo", Envelope{Connection: json.RawMessage(goodConn), Input: json.RawMessage(input)})
		if err != nil {
			t.Fatalf("%s: %v", input, err)
		}
		if got := res.Data.(echoInput); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v, want %+v", input, got, want)
		}
	}
	// limit is an integer without bounds in the schema; Go's int has 64 bits.
	_, err := r.Invoke(context.Background(), "demo.echo", Envelope{Connection: json.RawMessage(goodConn), Input: json.RawMessage(`{"id": 1, "name": "n", "limit": 1e30}`)})
	var p *Problem
	if !errors.As(err, &p) || p.Status != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != "input.limit" {
		t.Fatalf("want 422 naming input.limit, got %v (%+v)", err, p)
	}
}
