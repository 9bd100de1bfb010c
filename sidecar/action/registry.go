package action

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// Descriptor is what GET /v1/actions tells about an action, read from its
// schema file.
type Descriptor struct {
	ID          string         `json:"id"`
	Provider    string         `json:"provider"`
	Title       string         `json:"title"`
	Description string         `json:"description"`
	Mutating    bool           `json:"mutating"`
	Input       map[string]any `json:"inputSchema"`
	Output      map[string]any `json:"outputSchema"`
}

type providerEntry struct {
	Provider
	connection *jsonschema.Schema
	connSchema map[string]any
}

type actionEntry struct {
	Action
	desc          Descriptor
	provider      *providerEntry
	input, output *jsonschema.Schema
}

// Registry holds every action, validates requests against their schemas and
// runs them.
type Registry struct {
	schemas   *SchemaSet
	env       Env
	providers map[string]*providerEntry
	actions   map[string]*actionEntry
	ids       []string
	sessions  *sessionCache
	// profiles is replaced whole when secrets are reloaded, so a call reads
	// one consistent set while another is swapped in.
	profiles atomic.Pointer[map[string]Profile]
	// profileMu orders replacements; readers never take it.
	profileMu sync.Mutex
	// CheckOutput validates every handler result against the action's output
	// schema; tests turn it on so a drifting handler fails loudly.
	CheckOutput bool
}

// NewRegistry compiles every schema the providers need and refuses to start
// when code and schema files disagree (an action without a schema file, a
// schema file without an action, a provider mismatch).
func NewRegistry(set *SchemaSet, env Env, providers ...Provider) (*Registry, error) {
	if env.HTTP == nil {
		env.HTTP = upstream.NewFactory(upstream.DefaultConfig())
	}
	env = env.withDefaults()
	r := &Registry{schemas: set, env: env, providers: map[string]*providerEntry{}, actions: map[string]*actionEntry{}, sessions: newSessionCache(1024)}
	for _, p := range providers {
		connPath := "connections/" + p.ID + ".json"
		conn, err := set.Compile(connPath, "")
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", p.ID, err)
		}
		connSchema, err := set.Bundle(connPath, "")
		if err != nil {
			return nil, err
		}
		pe := &providerEntry{Provider: p, connection: conn, connSchema: connSchema}
		r.providers[p.ID] = pe
		for _, a := range p.Actions {
			if err := r.add(pe, a); err != nil {
				return nil, err
			}
		}
	}
	for _, path := range set.Paths("actions/") {
		id := strings.TrimSuffix(strings.TrimPrefix(path, "actions/"), ".json")
		if _, ok := r.actions[id]; !ok {
			return nil, fmt.Errorf("schema %s declares an action no provider implements", path)
		}
	}
	sort.Strings(r.ids)
	return r, nil
}

func (r *Registry) add(pe *providerEntry, a Action) error {
	path := "actions/" + a.ID + ".json"
	doc, ok := r.schemas.Raw(path)
	if !ok {
		return fmt.Errorf("action %s has no schema file %s", a.ID, path)
	}
	if _, dup := r.actions[a.ID]; dup {
		return fmt.Errorf("action %s declared twice", a.ID)
	}
	if p, _ := doc["x-provider"].(string); p != pe.ID || !strings.HasPrefix(a.ID, pe.ID+".") {
		return fmt.Errorf("action %s: x-provider %q does not match provider %s", a.ID, p, pe.ID)
	}
	in, err := r.schemas.Compile(path, "#/$defs/input")
	if err != nil {
		return fmt.Errorf("action %s input: %w", a.ID, err)
	}
	out, err := r.schemas.Compile(path, "#/$defs/output")
	if err != nil {
		return fmt.Errorf("action %s output: %w", a.ID, err)
	}
	d := Descriptor{ID: a.ID, Provider: pe.ID}
	d.Title, _ = doc["title"].(string)
	d.Description, _ = doc["description"].(string)
	d.Mutating, _ = doc["x-mutating"].(bool)
	if d.Title == "" || d.Description == "" {
		return fmt.Errorf("action %s: schema needs a title and a description", a.ID)
	}
	if d.Input, err = r.schemas.Bundle(path, "#/$defs/input"); err != nil {
		return err
	}
	if d.Output, err = r.schemas.Bundle(path, "#/$defs/output"); err != nil {
		return err
	}
	r.actions[a.ID] = &actionEntry{Action: a, desc: d, provider: pe, input: in, output: out}
	r.ids = append(r.ids, a.ID)
	return nil
}

// Actions describes every action, sorted by id.
func (r *Registry) Actions() []Descriptor {
	out := make([]Descriptor, 0, len(r.ids))
	for _, id := range r.ids {
		out = append(out, r.actions[id].desc)
	}
	return out
}

// Describe returns one action's descriptor.
func (r *Registry) Describe(id string) (Descriptor, bool) {
	a, ok := r.actions[id]
	if !ok {
		return Descriptor{}, false
	}
	return a.desc, true
}

// ProviderIDs lists the providers, sorted.
func (r *Registry) ProviderIDs() []string {
	out := make([]string, 0, len(r.providers))
	for id := range r.providers {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// ConnectionSchema returns a provider's bundled connection schema.
func (r *Registry) ConnectionSchema(provider string) (map[string]any, bool) {
	p, ok := r.providers[provider]
	if !ok {
		return nil, false
	}
	return p.connSchema, true
}

// Envelope is the body of POST /v1/actions/{id}. The connection comes either
// inline (Connection) or from a profile the sidecar keeps (Profile), so a
// workflow credential can carry only a profile name and never the upstream
// secret.
type Envelope struct {
	Connection json.RawMessage `json:"connection,omitempty"`
	Profile    string          `json:"profile,omitempty"`
	Input      json.RawMessage `json:"input,omitempty"`
}

// ParseEnvelope reads a request body strictly: a JSON object with only the
// known members, so a typo such as "inputs" is named instead of ignored.
func ParseEnvelope(body []byte) (Envelope, error) {
	var env Envelope
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&env); err != nil {
		var field string
		if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
			field = strings.Trim(strings.TrimPrefix(msg, "json: unknown field "), `"`)
			return env, InvalidInput([]FieldError{{Field: field, Message: "is not a known member of the request; use connection (or profile) and input"}})
		}
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field != "" {
			return env, InvalidInput([]FieldError{{Field: typeErr.Field, Message: "must be a " + typeErr.Type.String() + ", not a JSON " + typeErr.Value}})
		}
		return env, NewProblem(KindMalformedRequest, "the body must be a JSON object {\"connection\": {...}, \"input\": {...}}: %v", err)
	}
	if dec.More() {
		return env, NewProblem(KindMalformedRequest, "the body holds more than one JSON value")
	}
	return env, nil
}

// Profile is a named connection the sidecar keeps, secrets resolved.
type Profile struct {
	Provider   string
	Connection json.RawMessage
}

// SetProfiles validates every profile's connection against its provider's
// schema and keeps them. Errors name every bad field of every profile
// ("profiles.pbx.connection.baseUrl").
func (r *Registry) SetProfiles(profiles map[string]Profile) error {
	_, err := r.ReplaceProfiles(profiles)
	return err
}

// ReplaceProfiles is SetProfiles for a running sidecar whose secrets were
// re-read: the new set is validated whole (a bad one changes nothing), then
// swapped in at once. Calls already running keep the session they hold and
// finish on it; the cached session of every profile that changed or went
// away is dropped, so the next call signs in with the new secret, and a
// session that can hands its running calls' sign-ins over to the new one.
// changed names those profiles, sorted.
func (r *Registry) ReplaceProfiles(profiles map[string]Profile) (changed []string, err error) {
	var errs []FieldError
	kept := make(map[string]Profile, len(profiles))
	for name, p := range profiles {
		root := "profiles." + name
		pe, ok := r.providers[p.Provider]
		if !ok {
			errs = append(errs, FieldError{Field: root + ".provider", Message: fmt.Sprintf("no provider %q; known providers: %s", p.Provider, strings.Join(r.ProviderIDs(), ", "))})
			continue
		}
		conn, connErrs := r.validate(root+".connection", pe.connection, p.Connection, true)
		if len(connErrs) > 0 {
			errs = append(errs, connErrs...)
			continue
		}
		kept[name] = Profile{Provider: p.Provider, Connection: conn}
	}
	if len(errs) > 0 {
		sort.Slice(errs, func(i, j int) bool { return errs[i].Field < errs[j].Field })
		return nil, InvalidInput(errs)
	}
	r.profileMu.Lock()
	defer r.profileMu.Unlock()
	old := r.profileMap()
	r.profiles.Store(&kept)
	for name, p := range old {
		n, ok := kept[name]
		if ok && n.Provider == p.Provider && bytes.Equal(n.Connection, p.Connection) {
			continue
		}
		session := r.sessions.forget(p.Provider, p.Connection)
		if ok && n.Provider == p.Provider {
			r.handOver(session, n)
		}
		changed = append(changed, name)
	}
	for name := range kept {
		if _, ok := old[name]; !ok {
			changed = append(changed, name)
		}
	}
	sort.Strings(changed)
	return changed, nil
}

// handOver opens the session of a profile's new connection now, rather
// than on its next call, and hands the calls still running on the old
// session over to it (HandsOver). A new connection that does not open is
// left for its next call to report.
func (r *Registry) handOver(old Session, p Profile) {
	h, ok := old.(HandsOver)
	if !ok {
		return
	}
	if next, err := r.session(r.providers[p.Provider], p.Connection, cacheKey(p.Provider, p.Connection)); err == nil {
		h.HandOver(next)
	}
}

// profileMap is the current profiles (nil before the first SetProfiles).
func (r *Registry) profileMap() map[string]Profile {
	if m := r.profiles.Load(); m != nil {
		return *m
	}
	return nil
}

// ProfileNames lists the profiles, sorted.
func (r *Registry) ProfileNames() []string {
	return slices.Sorted(maps.Keys(r.profileMap()))
}

// connection picks the envelope's connection: inline or from a profile,
// exactly one of the two.
func (r *Registry) connection(provider string, env Envelope) (json.RawMessage, []FieldError) {
	inline := len(bytes.TrimSpace(env.Connection)) > 0 && !bytes.Equal(bytes.TrimSpace(env.Connection), []byte("null"))
	switch {
	case inline && env.Profile != "":
		msg := "send either connection or profile, not both"
		return nil, []FieldError{{Field: "connection", Message: msg}, {Field: "profile", Message: msg}}
	case inline:
		return env.Connection, nil
	case env.Profile == "":
		msg := "is required: send connection (an object) or profile (the name of a connection the sidecar keeps)"
		return nil, []FieldError{{Field: "connection", Message: msg}, {Field: "profile", Message: msg}}
	}
	p, ok := r.profileMap()[env.Profile]
	if !ok {
		known := "none are configured"
		if names := r.ProfileNames(); len(names) > 0 {
			known = "known profiles: " + strings.Join(names, ", ")
		}
		return nil, []FieldError{{Field: "profile", Message: fmt.Sprintf("no profile named %q; %s", env.Profile, known)}}
	}
	if p.Provider != provider {
		return nil, []FieldError{{Field: "profile", Message: fmt.Sprintf("profile %q is a %s connection; this needs a %s one", env.Profile, p.Provider, provider)}}
	}
	return p.Connection, nil
}

// Invoke validates an envelope and runs the action. Every bad field of the
// connection and the input is reported together, before anything is sent
// upstream. A list the handler streams is read whole (Stream.Collect).
func (r *Registry) Invoke(ctx context.Context, id string, env Envelope) (Result, error) {
	res, err := r.Start(ctx, id, env)
	if err != nil || res.Stream == nil {
		return res, err
	}
	return res.Stream.Collect(ctx)
}

// Start is Invoke for a caller that sends a list while it is read (the
// HTTP API): a handler's *Stream comes back unread in Result.Stream.
func (r *Registry) Start(ctx context.Context, id string, env Envelope) (Result, error) {
	a, ok := r.actions[id]
	if !ok {
		return Result{}, r.UnknownAction(id)
	}
	raw, connErrs := r.connection(a.provider.ID, env)
	var session Session
	var alias [32]byte
	var conn json.RawMessage
	known := false
	if connErrs == nil {
		if session, alias, known = r.sessions.known(a.provider.ID, raw); !known {
			conn, connErrs = r.validate("connection", a.provider.connection, raw, true)
		}
	}
	input, inputErrs := validateInput("input", a.input, env.Input)
	if errs := append(connErrs, inputErrs...); len(errs) > 0 {
		return Result{}, InvalidInput(errs)
	}
	if !known {
		var err error
		if session, err = r.session(a.provider, conn, alias); err != nil {
			return Result{}, err
		}
	}
	if err := announce(ctx, a, env, input); err != nil {
		return Result{}, err
	}
	out, err := a.Run(upstream.WithProvider(ctx, a.provider.ID), session, input)
	if err != nil {
		return Result{}, asProblem(ctx, err)
	}
	var res Result
	switch out := out.(type) {
	case Result:
		res = out
	case *Stream:
		if r.CheckOutput {
			out = r.checkedStream(a, out)
		}
		// The list is read later, under the caller's context: it needs
		// the provider's name as the handler had it (metrics, retries).
		inner, provider := out, a.provider.ID
		return Result{Stream: &Stream{Each: func(ctx context.Context, sink *Sink) (any, error) {
			return inner.Each(upstream.WithProvider(ctx, provider), sink)
		}}}, nil
	default:
		res = Result{Data: out}
	}
	if r.CheckOutput {
		if err := r.checkOutput(a, res); err != nil {
			return Result{}, err
		}
	}
	return res, nil
}

// TestEnvelope validates a connection, given inline or as a profile, and
// signs in with it; the envelope's input is ignored.
func (r *Registry) TestEnvelope(ctx context.Context, provider string, env Envelope) error {
	p, ok := r.providers[provider]
	if !ok {
		return NewProblem(KindUnknownAction, "no provider %q; known providers: %s", provider, strings.Join(r.ProviderIDs(), ", "))
	}
	raw, errs := r.connection(provider, env)
	if len(errs) > 0 {
		return InvalidInput(errs)
	}
	session, alias, known := r.sessions.known(p.ID, raw)
	if !known {
		conn, errs := r.validate("connection", p.connection, raw, true)
		if len(errs) > 0 {
			return InvalidInput(errs)
		}
		var err error
		if session, err = r.session(p, conn, alias); err != nil {
			return err
		}
	}
	if err := session.Test(upstream.WithProvider(ctx, p.ID)); err != nil {
		return asProblem(ctx, err)
	}
	return nil
}

// UnknownAction names an id that is not an action and suggests near ones.
func (r *Registry) UnknownAction(id string) *Problem {
	var near []string
	prefix, _, _ := strings.Cut(id, ".")
	for _, known := range r.ids {
		if strings.HasPrefix(known, prefix+".") || strings.EqualFold(known, id) {
			near = append(near, known)
		}
	}
	if len(near) == 0 {
		near = r.ids
	}
	return NewProblem(KindUnknownAction, "no action %q; did you mean one of: %s (GET /v1/actions lists all)", id, strings.Join(near, ", "))
}

// validate checks raw against s and returns it canonicalised (defaults
// applied, keys sorted) for the handler.
func (r *Registry) validate(root string, s *jsonschema.Schema, raw json.RawMessage, required bool) (json.RawMessage, []FieldError) {
	return validateValue(root, s, raw, required)
}

func validateValue(root string, s *jsonschema.Schema, raw json.RawMessage, required bool) (json.RawMessage, []FieldError) {
	v, errs := validated(root, s, raw, required)
	if errs != nil {
		return nil, errs
	}
	canonical, err := json.Marshal(v)
	if err != nil {
		return nil, []FieldError{{Field: root, Message: err.Error()}}
	}
	return canonical, nil
}

// validateInput is validateValue for an action's input, which is decoded
// once: the handler's Go value is filled from the validated tree itself.
func validateInput(root string, s *jsonschema.Schema, raw json.RawMessage) (Input, []FieldError) {
	v, errs := validated(root, s, raw, false)
	return Input{root: root, value: v}, errs
}

// validated decodes raw, checks it against s and applies the schema's
// defaults. An absent optional document is the empty object.
func validated(root string, s *jsonschema.Schema, raw json.RawMessage, required bool) (any, []FieldError) {
	if len(bytes.TrimSpace(raw)) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null")) {
		if required {
			return nil, []FieldError{{Field: root, Message: "is required"}}
		}
		raw = json.RawMessage("{}")
	}
	v, err := decodeJSON(raw)
	if err != nil {
		return nil, []FieldError{{Field: root, Message: "is not valid JSON: " + err.Error()}}
	}
	if err := s.Validate(v); err != nil {
		return nil, fieldErrors(root, err)
	}
	return applyDefaults(s, v), nil
}

func (r *Registry) session(p *providerEntry, conn json.RawMessage, alias [32]byte) (Session, error) {
	s, err := r.sessions.get(p.ID, conn, alias, func() (Session, error) { return p.Open(conn, r.env) })
	if err == nil {
		return s, nil
	}
	var problem *Problem
	if errors.As(err, &problem) {
		return nil, problem
	}
	var opt *upstream.OptionError
	if errors.As(err, &opt) {
		return nil, InvalidInput([]FieldError{{Field: "connection." + opt.Field, Message: opt.Message}})
	}
	return nil, InvalidInput([]FieldError{{Field: "connection", Message: err.Error()}})
}

func (r *Registry) checkOutput(a *actionEntry, res Result) error {
	b, err := json.Marshal(res)
	if err != nil {
		return NewProblem(KindInternal, "action %s result does not encode: %v", a.ID, err)
	}
	v, err := decodeJSON(b)
	if err != nil {
		return NewProblem(KindInternal, "action %s result: %v", a.ID, err)
	}
	if err := a.output.Validate(v); err != nil {
		return NewProblem(KindInternal, "action %s result breaks its output schema: %v", a.ID, err)
	}
	return nil
}

// checkedStream is s with its output checked (CheckOutput): it keeps a
// copy of every item and checks the whole answer before its meta is
// written, so a drifting handler ends its list with a truncated meta and
// an internal problem that names the schema breach.
func (r *Registry) checkedStream(a *actionEntry, s *Stream) *Stream {
	return &Stream{Each: func(ctx context.Context, sink *Sink) (any, error) {
		items := []json.RawMessage{}
		tee := &Sink{
			item: func(raw json.RawMessage) error {
				items = append(items, append(json.RawMessage(nil), raw...))
				return sink.Item(raw)
			},
			flush: sink.Flush,
		}
		meta, err := s.Each(ctx, tee)
		if err != nil {
			return meta, err
		}
		return meta, r.checkOutput(a, Result{Data: items, Meta: meta})
	}}
}

// asProblem keeps problems as they are and names the rest.
func asProblem(ctx context.Context, err error) *Problem {
	var p *Problem
	if errors.As(err, &p) {
		return p
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return NewProblem(KindUpstreamTimeout, "the action did not finish before its deadline")
	}
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		return NewProblem(KindUpstreamTimeout, "the caller went away before the action finished")
	}
	return NewProblem(KindInternal, "%v", err)
}

// decodeJSON decodes one JSON value with numbers kept exact, as the schema
// validator expects (an int32 bound must not pass through float64).
func decodeJSON(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, fmt.Errorf("more than one JSON value")
	}
	return v, nil
}
