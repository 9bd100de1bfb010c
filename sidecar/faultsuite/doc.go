// Package faultsuite runs the whole sidecar (HTTP API, every middleware,
// registry, providers, the shared upstream client) against the emulators
// wrapped in fault injection, and checks the final answer, the retries, that
// nothing was done twice and that no secret leaked. It holds only tests; the
// table in docs/reliability.md points at them.
package faultsuite
