package httpapi

import (
	"encoding/json"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// OpenAPI builds the OpenAPI 3.1 document from the same schemas that
// validate requests, so the document cannot drift from behaviour.
func OpenAPI(reg *action.Registry, version string) ([]byte, error) {
	if version == "" {
		version = "dev"
	}
	problem := map[string]any{"$ref": "#/components/schemas/Problem"}
	problemResponse := func(desc string) map[string]any {
		return map[string]any{"description": desc, "content": map[string]any{"application/problem+json": map[string]any{"schema": problem}}}
	}
	schemas := map[string]any{
		"Problem": map[string]any{
			"type":        "object",
			"description": "RFC 9457 problem details. type is a stable URI under " + action.ProblemBase + ".",
			"required":    []string{"type", "title", "status"},
			"properties": map[string]any{
				"type":       map[string]any{"type": "string", "format": "uri"},
				"title":      map[string]any{"type": "string"},
				"status":     map[string]any{"type": "integer"},
				"detail":     map[string]any{"type": "string"},
				"instance":   map[string]any{"type": "string"},
				"errors":     map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/FieldError"}},
				"retryAfter": map[string]any{"type": "integer", "description": "Seconds to wait before retrying."},
				"partial":    map[string]any{"description": "What was done or read before the failure."},
				"upstream": map[string]any{
					"type": "object",
					"properties": map[string]any{
						"provider": map[string]any{"type": "string"},
						"status":   map[string]any{"type": "integer"},
						"code":     map[string]any{"type": "string"},
						"message":  map[string]any{"type": "string"},
						"errors":   map[string]any{"type": "array", "items": map[string]any{"$ref": "#/components/schemas/FieldError"}},
					},
				},
			},
		},
		"FieldError": map[string]any{
			"type":       "object",
			"required":   []string{"field", "message"},
			"properties": map[string]any{"field": map[string]any{"type": "string"}, "message": map[string]any{"type": "string"}},
		},
	}
	status := func(desc string) map[string]any {
		return map[string]any{"get": map[string]any{
			"operationId": strings.TrimPrefix(desc, "/"), "summary": desc,
			"responses": map[string]any{"200": map[string]any{"description": "OK"}, "503": map[string]any{"description": "Not ready"}},
		}}
	}
	paths := map[string]any{
		"/healthz": status("/healthz"),
		"/readyz":  status("/readyz"),
		"/v1/actions": map[string]any{"get": map[string]any{
			"operationId": "listActions",
			"summary":     "Every action with its title, description and input/output JSON Schemas.",
			"responses":   map[string]any{"200": map[string]any{"description": "The actions", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}},
		}},
	}
	for _, provider := range reg.ProviderIDs() {
		conn, _ := reg.ConnectionSchema(provider)
		schemas[provider+".Connection"] = conn
		paths["/v1/connections/"+provider+"/test"] = map[string]any{"post": map[string]any{
			"operationId": provider + "TestConnection",
			"summary":     "Sign in to " + provider + " with a connection, to check it.",
			"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
				"type": "object", "required": []string{"connection"},
				"properties": map[string]any{"connection": map[string]any{"$ref": "#/components/schemas/" + provider + ".Connection"}},
			}}}},
			"responses": map[string]any{"200": map[string]any{"description": "Signed in"}, "4XX": problemResponse("Bad connection"), "5XX": problemResponse("Upstream failure")},
		}}
	}
	for _, d := range reg.Actions() {
		schemas[d.ID+".Input"] = d.Input
		schemas[d.ID+".Output"] = d.Output
		paths["/v1/actions/"+d.ID] = map[string]any{"post": map[string]any{
			"operationId": strings.ReplaceAll(d.ID, ".", "_"),
			"summary":     d.Title,
			"description": d.Description,
			"tags":        []string{d.Provider},
			"requestBody": map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{
				"type": "object", "required": []string{"connection"}, "additionalProperties": false,
				"properties": map[string]any{
					"connection": map[string]any{"$ref": "#/components/schemas/" + d.Provider + ".Connection"},
					"input":      map[string]any{"$ref": "#/components/schemas/" + d.ID + ".Input"},
				},
			}}}},
			"responses": map[string]any{
				"200": map[string]any{"description": "Done", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/" + d.ID + ".Output"}}}},
				"4XX": problemResponse("The request or the upstream refused it; errors names every bad field"),
				"5XX": problemResponse("The upstream failed, timed out or could not be reached"),
			},
		}}
	}
	doc := map[string]any{
		"openapi":           "3.1.0",
		"jsonSchemaDialect": "https://json-schema.org/draft/2020-12/schema",
		"info": map[string]any{
			"title":       "Tokenwarden sidecar",
			"version":     version,
			"description": "One HTTP action per credential-revocation operation. Success is 200 {\"data\": ...}; failure is an RFC 9457 problem.",
		},
		"servers":    []any{map[string]any{"url": "http://127.0.0.1:8787"}},
		"paths":      paths,
		"components": map[string]any{"schemas": schemas},
	}
	return json.MarshalIndent(doc, "", "  ")
}
