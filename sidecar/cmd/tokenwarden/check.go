package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"
)

// checkCmd reads a config file the way serve would, resolving every secret
// reference, and says what it found, so a deployment can be checked before
// it is rolled out. It never prints a secret.
func checkCmd(args []string, logger *slog.Logger, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("check", flag.ContinueOnError)
	fs.SetOutput(stderr)
	configPath := fs.String("config", os.Getenv("TOKENWARDEN_CONFIG"), "configuration file to check")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *configPath == "" {
		fmt.Fprintln(stderr, "tokenwarden check: --config FILE (or TOKENWARDEN_CONFIG) is required")
		return 2
	}
	rt, err := loadRuntime(*configPath, false, logger)
	if err != nil {
		printStartupError(stderr, err)
		return 1
	}
	defer rt.close()
	cfg := rt.cfg
	ids := make([]string, len(cfg.APIKeys))
	for i, k := range cfg.APIKeys {
		ids[i] = k.ID
	}
	addr := firstOf(cfg.Listen, defaultListen)
	fmt.Fprintf(stdout, "%s is valid.\n", *configPath)
	fmt.Fprintf(stdout, "  listen:       %s\n", addr)
	fmt.Fprintf(stdout, "  api keys:     %s\n", orNone(ids))
	fmt.Fprintf(stdout, "  profiles:     %s\n", orNone(rt.reg.ProfileNames()))
	fmt.Fprintf(stdout, "  allowlist:    %s\n", orNone(cfg.Destinations.Allow))
	fmt.Fprintf(stdout, "  audit:        %s %s\n", cfg.Audit.Sink, cfg.Audit.Path)
	if rt.fleet != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		err := rt.fleet.Ping(ctx)
		cancel()
		state := "answers"
		if err != nil {
			// serve still starts, degraded; say so rather than fail.
			state = "does NOT answer now (serve would start degraded: per-replica sign-ins, 503 for Idempotency-Key)"
		}
		fmt.Fprintf(stdout, "  fleet redis:  %s %s; shares idempotency answers, sign-ins and API versions\n", rt.fleet.Addr(), state)
		if cfg.Redis.PreviousTokenKey != "" {
			fmt.Fprintf(stdout, "  fleet redis:  rotating: sign-ins are kept under redis.tokenKey and redis.previousTokenKey; drop previousTokenKey once every replica runs tokenKey\n")
		}
	} else if cfg.Idempotency.RedisURL != "" {
		fmt.Fprintf(stdout, "  redis:        idempotency answers only (idempotency.redisUrl); add a redis section to share sign-ins across replicas\n")
	}
	if !isLoopback(addr) && len(ids) == 0 {
		fmt.Fprintf(stdout, "  warning:      %s is not loopback and there are no api keys: serve will refuse to start\n", addr)
		return 1
	}
	return 0
}

func orNone(v []string) string {
	if len(v) == 0 {
		return "(none)"
	}
	return strings.Join(v, ", ")
}
