//go:build !nodemo

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/demo"
)

// startDemo runs the built-in emulators for `tokenwarden demo`.
func startDemo() (*demoEnv, error) {
	u, err := demo.Start()
	if err != nil {
		return nil, err
	}
	return &demoEnv{
		connections: u.Connections,
		stats:       u.Stats,
		tokens:      u.Tokens,
		banner:      func(w io.Writer, addr string) { printDemoBanner(w, addr, u) },
		close:       func() { u.Close(context.Background()) },
	}, nil
}

// printDemoBanner prints the demo connections and curl commands a newcomer
// can paste. The credentials are the emulators' own demo values.
func printDemoBanner(w io.Writer, addr string, u *demo.Upstreams) {
	conns, _ := json.MarshalIndent(u.Connections, "", "  ")
	fmt.Fprintf(w, "Tokenwarden demo is running at %s\n\n", addr)
	fmt.Fprintf(w, "Demo connections (also at GET %s/v1/demo/connections):\n%s\n\n", addr, conns)
	fmt.Fprintln(w, "Try:")
	ids := make([]string, 0, len(u.Try))
	for id := range u.Try {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	examples := make([]demo.Example, 0, len(ids)+len(u.Examples))
	for _, id := range ids {
		provider, _, _ := strings.Cut(id, ".")
		examples = append(examples, demo.Example{Connection: provider, Action: id, Input: u.Try[id]})
	}
	for _, e := range append(examples, u.Examples...) {
		conn, _ := json.Marshal(u.Connections[e.Connection])
		input, _ := json.Marshal(e.Input)
		fmt.Fprintf(w, "  curl -s %s/v1/actions/%s -H 'Content-Type: application/json' \\\n    -d '{\"connection\": %s, \"input\": %s}'\n", addr, e.Action, conn, input)
	}
	if len(u.Notes) > 0 {
		fmt.Fprintf(w, "\n%s\n", strings.Join(u.Notes, "\n"))
	}
	fmt.Fprintf(w, "\nAll actions and their schemas: curl -s %s/v1/actions\n", addr)
}
