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
  tokenwarden call ACTION --connection FILE --input JSON|@FILE
                                        run one action and print the API's JSON (exit 1 on failure)
  tokenwarden actions                   list the actions
  tokenwarden check --config FILE       check a configuration file (every bad field named) and exit
  tokenwarden healthcheck [--listen ADDR]
                                        exit 0 when the sidecar at ADDR answers /readyz (container health checks)
  tokenwarden version

Environment: TOKENWARDEN_LISTEN (listen address), TOKENWARDEN_CONFIG (config file, docs/configuration.md),
TOKENWARDEN_API_KEY (one more caller key), TOKENWARDEN_LOG_LEVEL (debug|info|warn|error),
TOKENWARDEN_METRICS (open|key|off|auto: who may GET /metrics), GOGC and GOMEMLIMIT (defaults 200, 40MiB).
`

// GC defaults, each used only when the operator leaves GOGC / GOMEMLIMIT
// unset (make bench, docs/operations.md). At one request at a time the live
// heap is a few MiB, so at Go's GOGC=100 a collection ran about every hundred
// actions and landed in the p99; GOGC=200 spaces them out. Under c=256 the
// heap would then grow to three times its live size (peak RSS 77 MiB); the
// soft limit makes the GC work harder instead (53 MiB). Lower limits cost
// throughput: at 32 MiB the GC ran nearly non-stop at c=256 (0.18x a reverse
// proxy). The limit is soft: a larger live heap is allowed, the GC's CPU
// share is capped.
const (
	defaultGCPercent   = 200
	defaultMemoryLimit = 40 << 20
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
