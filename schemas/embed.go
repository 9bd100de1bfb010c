// Package schemas holds the JSON Schemas that declare every action and
// connection. They are the single source for validation, GET /v1/actions,
// the OpenAPI document and the n8n contract test.
package schemas

import "embed"

// BaseURI is where every schema's $id lives. Files refer to each other with
// relative $refs resolved against it; nothing is fetched from the network.
const BaseURI = "https://tokenwarden.dev/schemas/"

// FS is every schema file, keyed by its path below BaseURI.
//
//go:embed actions/*.json connections/*.json defs/*.json
var FS embed.FS
