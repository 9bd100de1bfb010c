//go:build e2e

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
)

// Workflows are built here rather than kept as JSON so each test reads as
// the flow a builder would draw: trigger → items → Tokenwarden node(s).

type workflow struct {
	ID          string                    `json:"id"`
	Name        string                    `json:"name"`
	Active      bool                      `json:"active"`
	Nodes       []wfNode                  `json:"nodes"`
	Connections map[string]map[string]any `json:"connections"`
	Settings    map[string]any            `json:"settings"`
	PinData     map[string]any            `json:"pinData,omitempty"`
}

type wfNode struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Type        string         `json:"type"`
	TypeVersion float64        `json:"typeVersion"`
	Position    [2]int         `json:"position"`
	Parameters  map[string]any `json:"parameters"`
	Credentials map[string]any `json:"credentials,omitempty"`
	OnError     string         `json:"onError,omitempty"`
	ExecuteOnce bool           `json:"executeOnce,omitempty"`
	Notes       string         `json:"notes,omitempty"`
	WebhookID   string         `json:"webhookId,omitempty"`
}

// chain builds a workflow whose nodes run one after the other, starting
// with a manual trigger named "Start".
func chain(id string, nodes ...wfNode) workflow {
	all := append([]wfNode{{Name: "Start", Type: "n8n-nodes-base.manualTrigger", TypeVersion: 1, Parameters: map[string]any{}}}, nodes...)
	conns := map[string]map[string]any{}
	for i := range all {
		all[i].ID = fmt.Sprintf("%s-%d", id, i)
		all[i].Position = [2]int{220 * i, 0}
		if i > 0 {
			conns[all[i-1].Name] = map[string]any{"main": [][]map[string]any{{{"node": all[i].Name, "type": "main", "index": 0}}}}
		}
	}
	return workflow{ID: id, Name: "e2e " + id, Nodes: all, Connections: conns, Settings: map[string]any{"executionOrder": "v1"}}
}

// items makes one item per value, each {"<field>": value}.
func items(field string, values []any) []wfNode {
	payload, _ := json.Marshal(map[string]any{"values": values})
	return []wfNode{
		{Name: "Make Items", Type: "n8n-nodes-base.set", TypeVersion: 3.4,
			Parameters: map[string]any{"mode": "raw", "jsonOutput": string(payload), "options": map[string]any{}}},
		{Name: "Split Items", Type: "n8n-nodes-base.splitOut", TypeVersion: 1,
			Parameters: map[string]any{"fieldToSplitOut": "values", "options": map[string]any{"destinationFieldName": field}}},
	}
}

// Node type names of the pack, and the credential each uses.
const (
	threeCxType = "threeCx"
	appgateType = "appgateSdp"
	oauthType   = "oAuth2TokenRevocation"
)

var credentialOf = map[string]struct{ typ, provider string }{
	threeCxType: {"tokenwardenThreeCxApi", "threecx"},
	appgateType: {"tokenwardenAppgateSdpApi", "appgate"},
	oauthType:   {"tokenwardenOAuthRevocationApi", "oauth"},
}

// Demo connections are keyed by provider, except those of another dialect
// of a provider, which use that provider's credential type.
var dialectOf = map[string]string{"nexus": "oauth", "github": "oauth", "slack": "oauth"}

func providerOf(connection string) string {
	if p, ok := dialectOf[connection]; ok {
		return p
	}
	return connection
}

func credentialID(connection string) string { return "twdemo" + connection }

func credentialRef(connection string) map[string]any {
	return map[string]any{"id": credentialID(connection), "name": "Tokenwarden demo " + connection}
}

// tw is a node of the pack with the demo credential of its provider.
func tw(name, typ string, params map[string]any) wfNode {
	return twOn(credentialOf[typ].provider, name, typ, params)
}

// twOn is a node of the pack using the credential of one demo connection.
func twOn(connection, name, typ string, params map[string]any) wfNode {
	return wfNode{
		Name: name, Type: env.nodePrefix + typ, TypeVersion: 1, Parameters: params,
		Credentials: map[string]any{credentialOf[typ].typ: credentialRef(connection)},
	}
}

// demoCredentials turns each demo connection into the n8n credential that
// sends it to the demo sidecar.
func demoCredentials() ([]map[string]any, error) {
	var out []map[string]any
	for _, key := range keys(env.connections) {
		typ, data, err := credentialData(key, env.connections[key], env.sidecarURL)
		if err != nil {
			return nil, err
		}
		ref := credentialRef(key)
		out = append(out, map[string]any{"id": ref["id"], "name": ref["name"], "type": typ, "data": data})
	}
	return out, nil
}

// credentialData is the n8n credential (its type and data) that sends
// connection conn (the demo's connection named key, or one shaped like it)
// to the sidecar at sidecarURL, reading which credential field fills which
// connection field from the built package (nodedefs/shared/connections.ts,
// as described by .ci/describe-n8n-package.cjs).
func credentialData(key string, conn map[string]any, sidecarURL string) (typ string, data map[string]any, err error) {
	provider := providerOf(key)
	hidden := map[string]bool{}
	for name, c := range env.pack.Credentials {
		if strings.TrimSuffix(strings.TrimPrefix(c.Test.Request.URL, "/v1/connections/"), "/test") != provider {
			continue
		}
		typ = name
		for _, p := range c.Properties {
			if p.Type == "hidden" {
				hidden[p.Name] = true
			}
		}
	}
	if typ == "" {
		return "", nil, fmt.Errorf("no credential type for the demo's %q connection", key)
	}
	ref := regexp.MustCompile(`\$credentials\.([A-Za-z0-9_]+)`)
	data = map[string]any{"sidecarUrl": sidecarURL}
	for field, value := range conn {
		// dialect is the older spelling of preset (the demo's nexus
		// connection still uses it): a credential saved that way.
		if field == "dialect" {
			field = "preset"
		}
		expr, ok := env.pack.Connections[provider][field].(string)
		if !ok {
			return "", nil, fmt.Errorf("credential %s does not send the %q field of the demo's %s connection", typ, field, key)
		}
		// The field a user fills: the last one the expression names
		// that the form shows.
		var target string
		for _, r := range ref.FindAllStringSubmatch(expr, -1) {
			if !hidden[r[1]] {
				target = r[1]
			}
		}
		data[target] = value
	}
	if _, ok := conn["token"]; ok && key == "appgate" {
		data["authentication"] = "token"
	}
	return typ, data, nil
}

// described is what the built package declares (.ci/describe-n8n-package.cjs).
type described struct {
	Nodes       map[string][]map[string]any `json:"nodes"`
	Credentials map[string]struct {
		Properties []struct {
			Name        string `json:"name"`
			DisplayName string `json:"displayName"`
			Type        string `json:"type"`
		} `json:"properties"`
		Test struct {
			Request struct {
				URL string `json:"url"`
			} `json:"request"`
		} `json:"test"`
	} `json:"credentials"`
	Connections map[string]map[string]any `json:"connections"`
}

func describePackage(ctx context.Context, root, pkgDir string) (*described, error) {
	modules, err := exec.CommandContext(ctx, "bash", filepath.Join(root, ".ci", "install-n8n-toolchain")).Output()
	if err != nil {
		return nil, fmt.Errorf("install-n8n-toolchain: %w", err)
	}
	cmd := exec.CommandContext(ctx, "node", filepath.Join(root, ".ci", "describe-n8n-package.cjs"), pkgDir)
	cmd.Env = append(os.Environ(), "NODE_PATH="+strings.TrimSpace(string(modules)))
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("describe-n8n-package: %w", err)
	}
	var d described
	return &d, json.Unmarshal(out, &d)
}
