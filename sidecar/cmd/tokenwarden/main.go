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
	"strings"
	"syscall"
)

// version is stamped at build time (-ldflags "-X main.version=...").
var version = "dev"

const usage = `tokenwarden: revoke and rotate credentials from workflows.

Usage:
  tokenwarden serve [--listen ADDR]     serve the action API (default 127.0.0.1:8787)
  tokenwarden demo  [--listen ADDR]     serve, plus built-in 3CX/Appgate/OAuth emulators with demo data
  tokenwarden call ACTION --connection FILE --input JSON|@FILE
                                        run one action and print the API's JSON (exit 1 on failure)
  tokenwarden actions                   list the actions
  tokenwarden version

Environment: TOKENWARDEN_LISTEN (listen address), TOKENWARDEN_LOG_LEVEL (debug|info|warn|error).
`

func main() {
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
	switch args[0] {
	case "serve":
		return serveCmd(ctx, args[1:], logger, stdout, stderr, false)
	case "demo":
		return serveCmd(ctx, args[1:], logger, stdout, stderr, true)
	case "call":
		return callCmd(ctx, args[1:], stdout, stderr)
	case "actions":
		return actionsCmd(stdout, stderr)
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
