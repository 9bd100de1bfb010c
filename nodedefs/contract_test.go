package nodedefs_test

// The contract between the n8n node pack and the sidecar: every value a node
// or credential sends must be a field of the action's input schema or the
// provider's connection schema, with a compatible type, enum, default and
// required-ness; every schema field must be reachable from the UI or be
// listed below as deliberately hidden. A rename on either side fails here.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v5"

	"github.com/tokenwarden/tokenwarden/schemas"
	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// hiddenInput lists action input fields no node property sends, each with why.
var hiddenInput = map[string]string{}

// hiddenConnection lists connection fields no credential sends, each with why.
var hiddenConnection = map[string]string{
	"oauth connection.dialect": "the older spelling of preset: the credential sends preset (its field is still named dialect, so credentials saved with dialect rfc7009 or nexus keep their choice)",
}

// unofferedActions lists actions no node offers yet, each with why.
var unofferedActions = map[string]string{}

// uiOnlyCredentialFields are credential fields that only steer the form or
// the request to the sidecar; they never reach the connection object.
var uiOnlyCredentialFields = map[string]bool{
	"sidecarUrl":     true, // where requests go (requestDefaults.baseURL)
	"sidecarApiKey":  true, // the Authorization header
	"authentication": true, // Appgate: which of sign-in or token fields are sent
	"connectionMode": true, // whether connection or profile is sent
}

// The credential field naming a sidecar profile, and the mode field that
// chooses between it and the connection fields.
const (
	profileField = "profile"
	modeField    = "connectionMode"
)

func TestNodesMatchActionSchemas(t *testing.T) {
	pack := loadPack(t)
	if problems := checkContract(pack, loadSchemas(t)); len(problems) > 0 {
		t.Fatalf("node pack and action schemas disagree:\n  %s", strings.Join(problems, "\n  "))
	}
}

// A rename on either side must be caught: rename a sent property in a node,
// then a field in a schema, and expect the checker to name each.
func TestContractCatchesRenames(t *testing.T) {
	t.Run("node property renamed", func(t *testing.T) {
		pack := loadPack(t)
		renamed := false
		walkProperties(pack.nodes["ThreeCx"].Properties, func(p *property) {
			if p.sendPath() == "input.id" && !renamed {
				p.Routing["send"].(map[string]any)["property"] = "input.ident"
				renamed = true
			}
		})
		if !renamed {
			t.Fatal("no 3CX property sends input.id")
		}
		wantNamed(t, checkContract(pack, loadSchemas(t)), "input.ident", "input.id")
	})
	t.Run("schema field renamed", func(t *testing.T) {
		s := loadSchemas(t)
		in := s.input("threecx.revokeSecurityToken")
		in.Properties["tokenId"] = in.Properties["id"]
		delete(in.Properties, "id")
		wantNamed(t, checkContract(loadPack(t), s), "threecx.revokeSecurityToken", "input.id", "input.tokenId")
	})
	t.Run("credential field renamed", func(t *testing.T) {
		pack := loadPack(t)
		conn := pack.connections["threecx"]
		conn["pbxUrl"] = conn["baseUrl"]
		delete(conn, "baseUrl")
		wantNamed(t, checkContract(pack, loadSchemas(t)), "connection.pbxUrl", "connection.baseUrl")
	})
	t.Run("profile member renamed", func(t *testing.T) {
		pack := loadPack(t)
		body := pack.credentials["tokenwardenThreeCxApi"].Test.Request.Body
		body["profileName"] = body["profile"]
		delete(body, "profile")
		wantNamed(t, checkContract(pack, loadSchemas(t)), "profileName", "envelope")
	})
	t.Run("picker sends text for a number", func(t *testing.T) {
		pack := loadPack(t)
		changed := false
		walkProperties(pack.nodes["ThreeCx"].Properties, func(p *property) {
			if p.Type == "resourceLocator" && p.sendPath() == "input.id" {
				delete(p.Routing["send"].(map[string]any), "value")
				changed = true
			}
		})
		if !changed {
			t.Fatal("no 3CX resource locator sends input.id")
		}
		wantNamed(t, checkContract(pack, loadSchemas(t)), "version 2: securityToken/revoke", "resource locator")
	})
	t.Run("connection field shown in profile mode", func(t *testing.T) {
		pack := loadPack(t)
		for _, p := range pack.credentials["tokenwardenAppgateSdpApi"].Properties {
			if p.Name == "password" {
				delete(p.DisplayOptions.Show, modeField)
			}
		}
		wantNamed(t, checkContract(pack, loadSchemas(t)), `"password"`, modeField)
	})
}

// wantNamed fails unless the checker's problems name every one of want.
func wantNamed(t *testing.T, problems []string, want ...string) {
	t.Helper()
	all := strings.Join(problems, "\n")
	for _, w := range want {
		if !strings.Contains(all, w) {
			t.Errorf("checker did not name %s:\n%s", w, all)
		}
	}
}

// ---- the node pack, as far as the contract needs it

type property struct {
	DisplayName    string         `json:"displayName"`
	Name           string         `json:"name"`
	Type           string         `json:"type"`
	Default        any            `json:"default"`
	Required       bool           `json:"required"`
	TypeOptions    map[string]any `json:"typeOptions"`
	DisplayOptions *struct {
		Show map[string][]any `json:"show"`
		Hide map[string][]any `json:"hide"`
	} `json:"displayOptions"`
	Options json.RawMessage `json:"options"`
	Routing map[string]any  `json:"routing"`

	// Filled in by parse: the choices of an options property, or the
	// children of a collection.
	choices  []choice
	children []*property
}

type choice struct {
	Name    string         `json:"name"`
	Value   any            `json:"value"`
	Routing map[string]any `json:"routing"`
}

func (p *property) parse() error {
	if len(p.Options) == 0 {
		return nil
	}
	switch p.Type {
	case "options", "multiOptions":
		return json.Unmarshal(p.Options, &p.choices)
	case "collection":
		if err := json.Unmarshal(p.Options, &p.children); err != nil {
			return err
		}
		for _, c := range p.children {
			if err := c.parse(); err != nil {
				return err
			}
		}
	}
	return nil
}

// sendPath is where the property's value goes in the request body, or "".
func (p *property) sendPath() string {
	send, _ := p.Routing["send"].(map[string]any)
	if send == nil || send["type"] != "body" {
		return ""
	}
	path, _ := send["property"].(string)
	return path
}

// dropsEmpty reports whether the property's send expression leaves an empty
// value out of the request, so "" (or []) means "not set".
func (p *property) dropsEmpty() bool {
	send, _ := p.Routing["send"].(map[string]any)
	v, _ := send["value"].(string)
	return strings.Contains(v, "undefined")
}

type node struct {
	file            string
	Name            string                  `json:"name"`
	Version         any                     `json:"version"`
	Properties      []*property             `json:"properties"`
	Credentials     []struct{ Name string } `json:"credentials"`
	RequestDefaults struct {
		BaseURL string         `json:"baseURL"`
		Body    map[string]any `json:"body"`
	} `json:"requestDefaults"`
}

type credential struct {
	file       string
	Name       string      `json:"name"`
	Properties []*property `json:"properties"`
	Test       struct {
		Request struct {
			URL  string         `json:"url"`
			Body map[string]any `json:"body"`
		} `json:"request"`
	} `json:"test"`
}

type pack struct {
	nodes       map[string]*node          // by folder name
	credentials map[string]*credential    // by credential name
	connections map[string]map[string]any // provider -> credential field mapping
}

// loadPack reads the pack as n8n loads it: the built package, described
// by .ci/describe-n8n-package.cjs (one description per node version). It
// is built first unless TOKENWARDEN_N8N_PACKAGE names a built one.
func loadPack(t *testing.T) *pack {
	t.Helper()
	var dump struct {
		Nodes       map[string][]json.RawMessage `json:"nodes"`
		Credentials map[string]json.RawMessage   `json:"credentials"`
		Connections map[string]map[string]any    `json:"connections"`
	}
	if err := json.Unmarshal(describedPack(t), &dump); err != nil {
		t.Fatalf("describe-n8n-package: %v", err)
	}
	p := &pack{nodes: map[string]*node{}, credentials: map[string]*credential{}, connections: dump.Connections}
	for folder, versions := range dump.Nodes {
		for i, raw := range versions {
			var n node
			if err := json.Unmarshal(raw, &n); err != nil {
				t.Fatalf("%s: %v", folder, err)
			}
			n.file = filepath.Join("nodedefs", folder, folder+".node.ts")
			key := folder
			if i > 0 || len(versions) > 1 {
				n.file += fmt.Sprintf(" (version %v)", n.Version)
				key = fmt.Sprintf("%s@%v", folder, n.Version)
			}
			for _, prop := range n.Properties {
				if err := prop.parse(); err != nil {
					t.Fatalf("%s: %s: %v", n.file, prop.Name, err)
				}
			}
			p.nodes[key] = &n
		}
	}
	for name, raw := range dump.Credentials {
		var c credential
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		c.file = filepath.Join("credentials", strings.ToUpper(name[:1])+name[1:]+".credentials.ts")
		for _, prop := range c.Properties {
			if err := prop.parse(); err != nil {
				t.Fatalf("%s: %s: %v", c.file, prop.Name, err)
			}
		}
		p.credentials[c.Name] = &c
	}
	if len(p.nodes) == 0 || len(p.credentials) == 0 {
		t.Fatalf("found %d nodes and %d credentials", len(p.nodes), len(p.credentials))
	}
	return p
}

var described struct {
	once    sync.Once
	pkg     string // the built package's folder
	modules string // the n8n toolchain's node_modules (n8n-workflow)
	out     []byte
	err     error
}

// describedPack builds the package once per test binary and describes it.
func describedPack(t *testing.T) []byte {
	t.Helper()
	described.once.Do(func() {
		root, err := filepath.Abs("..")
		if err != nil {
			described.err = err
			return
		}
		pkg := os.Getenv("TOKENWARDEN_N8N_PACKAGE")
		if pkg == "" {
			build := exec.Command("node", filepath.Join(root, ".ci", "build-n8n-package.mjs"))
			build.Dir = root
			if out, err := build.CombinedOutput(); err != nil {
				described.err = fmt.Errorf("building the n8n package (needs Node.js and npm): %v\n%s", err, out)
				return
			}
			pkg = filepath.Join(root, "dist", "n8n-nodes-tokenwarden")
		}
		modules, err := exec.Command("bash", filepath.Join(root, ".ci", "install-n8n-toolchain")).Output()
		if err != nil {
			described.err = fmt.Errorf("install-n8n-toolchain: %v", err)
			return
		}
		described.pkg, described.modules = pkg, strings.TrimSpace(string(modules))
		describe := exec.Command("node", filepath.Join(root, ".ci", "describe-n8n-package.cjs"), pkg)
		describe.Env = append(os.Environ(), "NODE_PATH="+described.modules)
		var stderr bytes.Buffer
		describe.Stderr = &stderr
		described.out, err = describe.Output()
		if err != nil {
			described.err = fmt.Errorf("describe-n8n-package: %v\n%s", err, stderr.String())
		}
	})
	if described.err != nil {
		t.Fatal(described.err)
	}
	return described.out
}

func walkProperties(props []*property, fn func(*property)) {
	for _, p := range props {
		fn(p)
		walkProperties(p.children, fn)
	}
}

// ---- the schemas

type schemaSet struct {
	actions     map[string]*jsonschema.Schema // action id -> input schema
	providers   map[string]string             // action id -> x-provider
	connections map[string]*jsonschema.Schema // provider -> connection schema
}

func (s *schemaSet) input(id string) *jsonschema.Schema { return deref(s.actions[id]) }

func loadSchemas(t *testing.T) *schemaSet {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.Draft = jsonschema.Draft2020
	c.ExtractAnnotations = true // defaults are compared with the UI
	var actions, connections []string
	providers := map[string]string{}
	err := fs.WalkDir(schemas.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		b, err := fs.ReadFile(schemas.FS, path)
		if err != nil {
			return err
		}
		switch {
		case strings.HasPrefix(path, "actions/"):
			actions = append(actions, path)
			var doc struct {
				Provider string `json:"x-provider"`
			}
			if err := json.Unmarshal(b, &doc); err != nil {
				return err
			}
			providers[actionID(path)] = doc.Provider
		case strings.HasPrefix(path, "connections/"):
			connections = append(connections, path)
		}
		return c.AddResource(schemas.BaseURI+path, bytes.NewReader(b))
	})
	if err != nil {
		t.Fatal(err)
	}
	s := &schemaSet{actions: map[string]*jsonschema.Schema{}, providers: providers, connections: map[string]*jsonschema.Schema{}}
	for _, path := range actions {
		sch, err := c.Compile(schemas.BaseURI + path + "#/$defs/input")
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		s.actions[actionID(path)] = sch
	}
	for _, path := range connections {
		sch, err := c.Compile(schemas.BaseURI + path)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		s.connections[strings.TrimSuffix(strings.TrimPrefix(path, "connections/"), ".json")] = sch
	}
	return s
}

func actionID(path string) string {
	return strings.TrimSuffix(strings.TrimPrefix(path, "actions/"), ".json")
}

func deref(s *jsonschema.Schema) *jsonschema.Schema {
	for s != nil && s.Ref != nil && len(s.Types) == 0 && len(s.Properties) == 0 && len(s.AnyOf) == 0 && s.Enum == nil {
		s = s.Ref
	}
	return s
}

// field looks a dotted path up below an object schema.
func field(s *jsonschema.Schema, path string) (*jsonschema.Schema, bool) {
	for _, part := range strings.Split(path, ".") {
		s = deref(s)
		if s == nil {
			return nil, false
		}
		next, ok := s.Properties[part]
		if !ok {
			return nil, false
		}
		s = next
	}
	return deref(s), true
}

// leaves lists the dotted paths of an object schema's fields, descending
// into nested objects that declare properties (such as tls).
func leaves(s *jsonschema.Schema, prefix string) []string {
	s = deref(s)
	var out []string
	for name, sub := range s.Properties {
		sub = deref(sub)
		if len(sub.Properties) > 0 {
			out = append(out, leaves(sub, prefix+name+".")...)
			continue
		}
		out = append(out, prefix+name)
	}
	sort.Strings(out)
	return out
}

func types(s *jsonschema.Schema) []string {
	s = deref(s)
	var out []string
	out = append(out, s.Types...)
	for _, a := range s.AnyOf {
		out = append(out, types(a)...)
	}
	if len(out) == 0 && s.Enum != nil {
		for _, v := range s.Enum {
			switch v.(type) {
			case string:
				out = append(out, "string")
			case bool:
				out = append(out, "boolean")
			}
		}
	}
	return out
}

func has(list []string, want ...string) bool {
	for _, l := range list {
		for _, w := range want {
			if l == w {
				return true
			}
		}
	}
	return false
}

// ---- the checks

type operation struct {
	resource, value, action string
	version                 string // the node version the operation is checked in
}

func checkContract(p *pack, s *schemaSet) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	usedActions := map[string]bool{}

	for _, folder := range sortedKeys(p.nodes) {
		n := p.nodes[folder]
		if len(n.Credentials) != 1 {
			bad("%s: a node uses exactly one credential, has %d", n.file, len(n.Credentials))
			continue
		}
		cred := p.credentials[n.Credentials[0].Name]
		if cred == nil {
			bad("%s: credential %s is not in credentials/", n.file, n.Credentials[0].Name)
			continue
		}
		provider := providerOf(cred)
		// Every request sends what the Test button sends, connection or
		// profile alike (both come from nodedefs/shared).
		for member, want := range cred.Test.Request.Body {
			if got := n.RequestDefaults.Body[member]; !reflect.DeepEqual(got, want) {
				bad("%s: requestDefaults.body.%s is %v, the credential's test request sends %v", n.file, member, got, want)
			}
		}
		for _, op := range operations(n) {
			usedActions[op.action] = true
			in, ok := s.actions[op.action]
			if !ok {
				bad("%s: %s/%s routes to action %s, which has no schema", n.file, op.resource, op.value, op.action)
				continue
			}
			if s.providers[op.action] != provider {
				bad("%s: %s/%s calls a %s action with a %s credential", n.file, op.resource, op.value, s.providers[op.action], provider)
			}
			problems = append(problems, checkOperation(n, op, in)...)
		}
	}
	for id := range s.actions {
		if _, ok := unofferedActions[id]; !usedActions[id] && !ok {
			bad("action %s is offered by no node", id)
		}
	}
	for _, name := range sortedKeys(p.credentials) {
		c := p.credentials[name]
		problems = append(problems, checkCredential(c, p.connections[providerOf(c)], s)...)
	}
	sort.Strings(problems)
	return problems
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

var testURL = regexp.MustCompile(`^/v1/connections/([a-z0-9]+)/test$`)
var actionURL = regexp.MustCompile(`^/v1/actions/([A-Za-z0-9]+\.[A-Za-z0-9]+)$`)

func providerOf(c *credential) string {
	m := testURL.FindStringSubmatch(c.Test.Request.URL)
	if m == nil {
		return ""
	}
	return m[1]
}

// versions lists the versions a node description serves.
func versions(n *node) []string {
	switch v := n.Version.(type) {
	case []any:
		out := make([]string, len(v))
		for i, x := range v {
			out[i] = fmt.Sprint(x)
		}
		return out
	case nil:
		return []string{""}
	}
	return []string{fmt.Sprint(n.Version)}
}

// operations lists every resource/operation pair of a node and its action,
// once per version the node serves.
func operations(n *node) []operation {
	var out []operation
	for _, v := range versions(n) {
		for _, op := range operationsOf(n) {
			op.version = v
			out = append(out, op)
		}
	}
	return out
}

func operationsOf(n *node) []operation {
	var out []operation
	for _, p := range n.Properties {
		if p.Name != "operation" {
			continue
		}
		resources := []any{""}
		if p.DisplayOptions != nil && p.DisplayOptions.Show["resource"] != nil {
			resources = p.DisplayOptions.Show["resource"]
		}
		for _, r := range resources {
			for _, c := range p.choices {
				req, _ := c.Routing["request"].(map[string]any)
				url, _ := req["url"].(string)
				id := ""
				if m := actionURL.FindStringSubmatch(url); m != nil {
					id = m[1]
				}
				out = append(out, operation{resource: fmt.Sprint(r), value: fmt.Sprint(c.Value), action: id})
			}
		}
	}
	return out
}

// visibility says whether a property shows for an operation, and whether it
// shows always there (no further condition on other properties).
func visibility(p *property, op operation) (shown, always bool) {
	if p.DisplayOptions == nil {
		return true, true
	}
	always = true
	for key, values := range p.DisplayOptions.Show {
		var want string
		switch key {
		case "resource":
			want = op.resource
		case "operation":
			want = op.value
		case "@version":
			want = op.version
		default:
			always = false
			continue
		}
		found := false
		for _, v := range values {
			if fmt.Sprint(v) == want {
				found = true
			}
		}
		if !found {
			return false, false
		}
	}
	if len(p.DisplayOptions.Hide) > 0 {
		always = false
	}
	return true, always
}

func checkOperation(n *node, op operation, in *jsonschema.Schema) []string {
	var problems []string
	where := fmt.Sprintf("%s: %s/%s (%s)", n.file, op.resource, op.value, op.action)
	if op.version != "" {
		where = fmt.Sprintf("%s: version %s: %s/%s (%s)", n.file, op.version, op.resource, op.value, op.action)
	}
	bad := func(format string, args ...any) {
		problems = append(problems, where+": "+fmt.Sprintf(format, args...))
	}
	in = deref(in)
	sent := map[string]string{} // input field -> property that sends it
	alwaysSent := map[string]bool{}

	var visit func(props []*property, inCollection bool)
	visit = func(props []*property, inCollection bool) {
		for _, p := range props {
			shown, always := true, true
			if !inCollection {
				shown, always = visibility(p, op)
			}
			if !shown || p.Name == "operation" || p.Name == "resource" {
				continue
			}
			visit(p.children, true)
			path := p.sendPath()
			if p.Type == "collection" {
				continue
			}
			if path == "" {
				bad("property %q sends nothing", p.Name)
				continue
			}
			name, ok := strings.CutPrefix(path, "input.")
			if !ok {
				bad("property %q sends %s, outside input", p.Name, path)
				continue
			}
			if prev, dup := sent[name]; dup && prev != p.Name {
				bad("input.%s is sent by both %q and %q", name, prev, p.Name)
			}
			sent[name] = p.Name
			if always && !inCollection {
				alwaysSent[name] = true
			}
			f, ok := field(in, name)
			if !ok {
				bad("property %q sends input.%s, which the action's input schema does not have", p.Name, name)
				continue
			}
			for _, msg := range compatible(p, f, p.dropsEmpty()) {
				bad("property %q → input.%s: %s", p.Name, name, msg)
			}
			if p.Required && !has(in.Required, name) {
				bad("property %q is required in the UI but input.%s is optional in the schema", p.Name, name)
			}
		}
	}
	visit(n.Properties, false)

	for _, name := range in.Required {
		if !alwaysSent[name] {
			bad("input.%s is required by the schema but not always sent", name)
		}
	}
	for name := range in.Properties {
		if _, ok := sent[name]; ok {
			continue
		}
		if _, ok := hiddenInput[op.action+" input."+name]; ok {
			continue
		}
		bad("input.%s is reachable from no property (add one, or list it in hiddenInput with the reason)", name)
	}
	return problems
}

// compatible compares one n8n property with the schema field it fills.
// dropsEmpty says the value is left out of the request when empty (or 0),
// so the property's empty default stands for "not set", not for a value.
func compatible(p *property, f *jsonschema.Schema, dropsEmpty bool) []string {
	var problems []string
	ts := types(f)
	multiple, _ := p.TypeOptions["multipleValues"].(bool)
	switch {
	case multiple:
		items := deref(f.Items2020)
		if !has(ts, "array") || items == nil || !has(types(items), "string") {
			problems = append(problems, fmt.Sprintf("a list of %s needs an array of strings, schema has %v", p.Type, ts))
		}
	case p.Type == "number":
		if !has(ts, "integer", "number") {
			problems = append(problems, fmt.Sprintf("number property, schema type %v", ts))
		}
	case p.Type == "string":
		if !has(ts, "string") {
			problems = append(problems, fmt.Sprintf("string property, schema type %v", ts))
		}
	case p.Type == "boolean":
		if !has(ts, "boolean") {
			problems = append(problems, fmt.Sprintf("boolean property, schema type %v", ts))
		}
	case p.Type == "resourceLocator":
		// The locator's value is text: a number field needs it converted.
		send, _ := p.Routing["send"].(map[string]any)
		conv, _ := send["value"].(string)
		switch {
		case has(ts, "string"):
		case has(ts, "integer", "number") && strings.Contains(conv, "Number($value)"):
		default:
			problems = append(problems, fmt.Sprintf("resource locator (text) for schema type %v: convert it in routing.send.value", ts))
		}
		return problems
	case p.Type == "json":
		if !has(ts, "object", "array") {
			problems = append(problems, fmt.Sprintf("JSON property, schema type %v", ts))
		}
	case p.Type == "options":
		for _, c := range p.choices {
			if c.Value == "" && dropsEmpty {
				continue // "" stands for "not set" and is left out of the request
			}
			if !allowed(f, c.Value) {
				problems = append(problems, fmt.Sprintf("option %q (%v) is not a value the schema accepts", c.Name, c.Value))
			}
		}
	default:
		problems = append(problems, fmt.Sprintf("property type %s is not mapped", p.Type))
	}
	if dropsEmpty {
		return problems
	}
	if f.Default != nil && !multiple && !sameValue(p.Default, f.Default) {
		problems = append(problems, fmt.Sprintf("default %v differs from the schema's %v", p.Default, f.Default))
	}
	if min, ok := p.TypeOptions["minValue"].(float64); ok && f.Minimum != nil {
		if m, _ := f.Minimum.Float64(); min < m {
			problems = append(problems, fmt.Sprintf("minValue %v is below the schema's minimum %v", min, m))
		}
	}
	return problems
}

func allowed(f *jsonschema.Schema, v any) bool {
	f = deref(f)
	if f.Enum != nil {
		for _, e := range f.Enum {
			if sameValue(e, v) {
				return true
			}
		}
		return false
	}
	if s, ok := v.(string); ok && f.Pattern != nil {
		return f.Pattern.MatchString(s)
	}
	return has(types(f), typeName(v))
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "string"
	case bool:
		return "boolean"
	case float64:
		return "number"
	}
	return ""
}

func sameValue(a, b any) bool {
	an, aok := number(a)
	bn, bok := number(b)
	if aok && bok {
		return an == bn
	}
	return reflect.DeepEqual(a, b)
}

func number(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case json.Number:
		f, err := n.Float64()
		return f, err == nil
	}
	return 0, false
}

var credentialRef = regexp.MustCompile(`\$credentials\.([A-Za-z0-9_]+)`)

// checkCredential holds the credential's connection mapping
// (nodedefs/shared/connections.ts) against the connection schema.
func checkCredential(c *credential, mapping map[string]any, s *schemaSet) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, c.file+": "+fmt.Sprintf(format, args...))
	}
	provider := providerOf(c)
	conn, ok := s.connections[provider]
	if !ok {
		bad("test request %q names no provider with a connection schema", c.Test.Request.URL)
		return problems
	}
	if mapping == nil {
		bad("no connection mapping for %s in nodedefs/shared/connections.ts", provider)
		return problems
	}
	// A field may be defined more than once, each definition shown in other
	// cases (the OAuth credential's base URL per preset).
	props := map[string][]*property{}
	for _, p := range c.Properties {
		props[p.Name] = append(props[p.Name], p)
	}
	referenced := map[string]bool{}
	reached := map[string]bool{}
	problems = append(problems, checkProfileMode(c, props, referenced)...)
	var walk func(m map[string]any, prefix string)
	walk = func(m map[string]any, prefix string) {
		for key, v := range m {
			path := prefix + key
			if sub, ok := v.(map[string]any); ok {
				walk(sub, path+".")
				continue
			}
			expr, _ := v.(string)
			refs := credentialRef.FindAllStringSubmatch(expr, -1)
			if len(refs) == 0 {
				bad("connection.%s is not taken from a credential field", path)
				continue
			}
			f, ok := field(conn, path)
			if !ok {
				bad("connection.%s is not a field of the %s connection schema", path, provider)
				continue
			}
			reached[path] = true
			// The field the expression is about is the last shown one it
			// names (earlier ones are conditions such as the auth method;
			// hidden ones keep values saved under an earlier name).
			target := refs[len(refs)-1][1]
			for _, r := range refs {
				referenced[r[1]] = true
				if ps := props[r[1]]; len(ps) > 0 && ps[0].Type != "hidden" {
					target = r[1]
				}
			}
			if len(props[target]) == 0 {
				bad("connection.%s uses $credentials.%s, which the credential does not have", path, target)
				continue
			}
			for _, p := range props[target] {
				if !shownOnlyIn(p, "details") {
					bad("%q fills connection.%s but is not shown only when %s is details (displayOptions.show.%s)", target, path, modeField, modeField)
				}
				for _, msg := range compatible(p, f, strings.Contains(expr, "undefined")) {
					bad("%q → connection.%s: %s", target, path, msg)
				}
			}
		}
	}
	walk(mapping, "")
	for _, p := range c.Properties {
		if !referenced[p.Name] && !uiOnlyCredentialFields[p.Name] {
			bad("credential field %q lands in no connection field", p.Name)
		}
	}
	for _, path := range leaves(conn, "") {
		if !reached[path] {
			if _, ok := hiddenConnection[provider+" connection."+path]; !ok {
				bad("connection.%s is reachable from no credential field (add one, or list it in hiddenConnection with the reason)", path)
			}
		}
	}
	for _, name := range deref(conn).Required {
		if _, ok := mapping[name]; !ok {
			bad("connection.%s is required by the schema but the credential does not send it", name)
		}
	}
	return problems
}

// envelopeMembers are the JSON members of the sidecar's request envelope
// (action.Envelope), read from its struct tags.
func envelopeMembers() map[string]bool {
	out := map[string]bool{}
	t := reflect.TypeOf(action.Envelope{})
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out[name] = true
	}
	return out
}

// shownOnlyIn reports whether a credential field shows only in one mode.
func shownOnlyIn(p *property, mode string) bool {
	if p.DisplayOptions == nil {
		return false
	}
	modes := p.DisplayOptions.Show[modeField]
	return len(modes) == 1 && modes[0] == mode
}

// checkProfileMode holds the credential's choice between its connection
// fields and a sidecar profile: a mode field defaulting to the connection
// fields, a profile name shown only in profile mode, and a test request
// whose members are the envelope's, the profile sent only in profile mode.
func checkProfileMode(c *credential, props map[string][]*property, referenced map[string]bool) []string {
	var problems []string
	bad := func(format string, args ...any) {
		problems = append(problems, c.file+": "+fmt.Sprintf(format, args...))
	}
	envelope := envelopeMembers()
	for member := range c.Test.Request.Body {
		if !envelope[member] {
			bad("test request body member %q is not a member of the sidecar's request envelope (action.Envelope)", member)
		}
	}
	var mode *property
	if ps := props[modeField]; len(ps) == 1 {
		mode = ps[0]
	}
	if mode == nil || mode.Type != "options" || mode.Default != "details" {
		bad("needs an options field %q defaulting to \"details\"", modeField)
	} else {
		values := map[any]bool{}
		for _, ch := range mode.choices {
			values[ch.Value] = true
		}
		if len(values) != 2 || !values["details"] || !values["profile"] {
			bad("field %q must offer exactly details and profile", modeField)
		}
	}
	var p *property
	if ps := props[profileField]; len(ps) == 1 {
		p = ps[0]
	}
	if p == nil || p.Type != "string" || !p.Required || !shownOnlyIn(p, "profile") {
		bad("needs a required string field %q shown only when %s is profile", profileField, modeField)
	}
	expr, _ := c.Test.Request.Body[profileField].(string)
	refs := credentialRef.FindAllStringSubmatch(expr, -1)
	if len(refs) == 0 || refs[len(refs)-1][1] != profileField || !strings.Contains(expr, "$credentials."+modeField+" === 'profile'") || !strings.Contains(expr, "undefined") {
		bad("test request body.%s must send $credentials.%s when %s is profile and undefined otherwise, has %q", profileField, profileField, modeField, expr)
	}
	for _, r := range refs {
		referenced[r[1]] = true
	}
	return problems
}
