// Command tokenwarden is the sidecar: serve the action API, run the demo
// with built-in emulators, or call one action from a shell.
package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
)

// version is stamped at build time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `tokenwarden: revoke and rotate credentials from workflows.

Usage:
  tokenwarden serve [--listen ADDR]     serve the action API (default 127.0.0.1:8787)
  tokenwarden demo  [--listen ADDR]     serve, plus built-in 3CX/Appgate/OAuth/GitHub/Slack emulators with demo data
  tokenwarden emulators [--listen ADDR] [--scale N]
                                        the demo's emulators alone (default 127.0.0.1:8788),
                                        ready connections at GET /connections; --scale N seeds N more tokens and devices
  tokenwarden call ACTION --connection FILE --input JSON|@FILE
                                        run one action and print the API's JSON (exit 1 on failure)
  tokenwarden actions                   list the actions
  tokenwarden check --config FILE       check a configuration file (every bad field named) and exit
  tokenwarden healthcheck [--listen ADDR]
                                        exit 0 when the sidecar at ADDR answers /readyz (container health checks)
  tokenwarden version

Environment: TOKENWARDEN_LISTEN (listen address), TOKENWARDEN_CONFIG (config file, docs/configuration.md),
TOKENWARDEN_API_KEY (one more caller key), TOKENWARDEN_LOG_LEVEL (debug|info|warn|error),
TOKENWARDEN_METRICS (open|key|off|auto: who may GET /metrics), GOGC and GOMEMLIMIT (defaults 200, 64MiB).
`

// GC defaults, each used only when the operator leaves GOGC / GOMEMLIMIT
// unset (make bench, docs/operations.md). At one request at a time the live
// heap is a few MiB, so at Go's GOGC=100 a collection ran about every hundred
// actions and landed in the p99; GOGC=200 spaces them out. The soft limit is
// where the GC starts working harder instead of letting the heap grow.
// Measured with make bench (docs/operations.md). Before lists streamed, a
// 100k list held the whole answer and 128 MiB kept its CPU per item flat.
// Since they stream (31 MiB peak at 100k whatever the limit), c=256 decides:
// 128 MiB peaked at 78/82 MiB (revoke / heaviest answer), 64 MiB at 71/71
// with the same CPU per call within the runs' spread, 48 MiB at 56/55 but
// 2.4x the proxy's CPU per call at c=256 instead of 1.7-1.8x.
const (
	defaultGCPercent   = 200
	defaultMemoryLimit = 64 << 20
)

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(defaultGCPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	logger := newLogger(stderr)
	// Providers that log through the default logger write the same JSON.
	slog.SetDefault(logger)
	switch args[0] {
	case "serve":
		return serveCmd(ctx, args[1:], logger, stdout, stderr, false)
	case "demo":
		return serveCmd(ctx, args[1:], logger, stdout, stderr, true)
	case "emulators":
		return emulatorsCmd(ctx, args[1:], stdout, stderr)
	case "call":
		return callCmd(ctx, args[1:], stdout, stderr)
	case "actions":
		return actionsCmd(stdout, stderr)
	case "check":
		return checkCmd(args[1:], logger, stdout, stderr)
	case "healthcheck":
		return healthcheckCmd(ctx, args[1:], stdout, stderr)
	case "version", "--version":
		fmt.Fprintln(stdout, version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		fmt.Fprintf(stderr, "unknown command %q\n\n%s", args[0], usage)
		return 2
	}
}

func newLogger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	switch strings.ToLower(os.Getenv("TOKENWARDEN_LOG_LEVEL")) {
	case "debug":
		level = slog.LevelDebug
	case "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}
