package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

// healthcheckCmd asks a running sidecar whether it is ready, for container
// health checks: distroless and scratch images have no curl, so the binary
// checks itself. It reads the same --listen / TOKENWARDEN_LISTEN as serve,
// so an image needs no second copy of the address.
func healthcheckCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", firstOf(os.Getenv("TOKENWARDEN_LISTEN"), defaultListen), "the address the sidecar listens on")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	url, err := readyURL(*listen)
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden healthcheck:", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden healthcheck:", err)
		return 2
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden healthcheck: not ready:", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "tokenwarden healthcheck: not ready: %s answered %d\n", url, resp.StatusCode)
		return 1
	}
	fmt.Fprintln(stdout, "ready")
	return 0
}

// readyURL turns a listen address into the URL of its /readyz. A wildcard
// host (0.0.0.0, ::, empty) is reached through loopback, from inside the
// same container or host.
func readyURL(listen string) (string, error) {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("listen address %q: %w", listen, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/readyz", nil
}
