package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/demo"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
)

const defaultListen = "127.0.0.1:8787"

// shutdownGrace is how long in-flight actions may finish after SIGTERM.
const shutdownGrace = 20 * time.Second

func serveCmd(ctx context.Context, args []string, logger *slog.Logger, stdout, stderr io.Writer, withDemo bool) int {
	name := "serve"
	if withDemo {
		name = "demo"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", envOr("TOKENWARDEN_LISTEN", defaultListen), "address to listen on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	reg, err := newRegistry(logger)
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden:", err)
		return 1
	}
	opts := httpapi.Options{Registry: reg, Logger: logger, Ready: &atomic.Bool{}, Version: version}
	var upstreams *demo.Upstreams
	if withDemo {
		if upstreams, err = demo.Start(); err != nil {
			fmt.Fprintln(stderr, "tokenwarden:", err)
			return 1
		}
		defer upstreams.Close(context.Background())
		opts.DemoConnections = upstreams.Connections
		opts.DemoStats = upstreams.Stats
	}
	handler, err := httpapi.New(opts)
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden:", err)
		return 1
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden:", err)
		return 1
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	opts.Ready.Store(true)
	addr := "http://" + ln.Addr().String()
	logger.Info("listening", "addr", addr, "version", version, "demo", withDemo)
	if withDemo {
		printDemoBanner(stdout, addr, upstreams)
	}

	select {
	case err := <-errc:
		fmt.Fprintln(stderr, "tokenwarden:", err)
		return 1
	case <-ctx.Done():
	}
	opts.Ready.Store(false)
	logger.Info("shutting down", "grace_seconds", shutdownGrace.Seconds())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		logger.Error("in-flight requests were cut off at the shutdown deadline", "error", err.Error())
		return 1
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "tokenwarden:", err)
		return 1
	}
	return 0
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
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
