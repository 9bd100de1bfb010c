package main

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/audit"
	"github.com/tokenwarden/tokenwarden/sidecar/config"
	"github.com/tokenwarden/tokenwarden/sidecar/fleet"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/metrics"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
	"github.com/tokenwarden/tokenwarden/sidecar/secret"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// runtime is what serve, demo and call share: the configuration and a
// registry whose upstream client follows it.
type runtime struct {
	cfg     *config.Config
	reg     *action.Registry
	metrics *metrics.Metrics
	// audit is the audit sink apiMiddleware opened (nil: auditing is off),
	// for events that are not action calls, such as secret reloads.
	audit audit.Sink
	// keys are the caller API keys, replaced on a secret reload; nil when
	// the sidecar runs without keys.
	keys *httpapi.APIKeys
	// fleet is the shared Redis of the config's redis section, or nil.
	fleet *fleet.Fleet
}

// close stops what loadRuntime started.
func (rt *runtime) close() {
	if rt.fleet != nil {
		rt.fleet.Close()
	}
}

// degraded is /readyz's reason, or "" when the sidecar runs as configured.
func (rt *runtime) degraded() string {
	if rt.fleet != nil && rt.fleet.Degraded() {
		// /readyz is open to probes: no address here, the log has it.
		return "the fleet's Redis is unreachable: sign-ins are per replica, Idempotency-Key requests get 503"
	}
	return ""
}

// loadRuntime reads the config file (if any), builds the upstream policy
// from it and binds every provider and profile. allowLoopback lets the
// sidecar call its own host: the demo's emulators, or whatever the operator
// names on the command line of `call` (no remote caller is involved there).
func loadRuntime(configPath string, allowLoopback bool, logger *slog.Logger) (*runtime, error) {
	set, err := action.LoadSchemas()
	if err != nil {
		return nil, err
	}
	var cfg *config.Config
	if configPath == "" {
		cfg, err = config.Defaults(set)
	} else {
		cfg, err = config.Load(set, configPath, os.LookupEnv)
	}
	if err != nil {
		return nil, err
	}
	if err := addEnvKey(cfg); err != nil {
		return nil, err
	}
	l := cfg.Limits
	dest := cfg.Destinations
	if allowLoopback {
		dest.AllowLoopback = true
	}
	m := metrics.New()
	factory, err := upstream.New(upstream.Config{
		ConnectTimeout:       l.ConnectTimeout.Std(),
		RequestTimeout:       l.RequestTimeout.Std(),
		MaxConcurrentPerHost: l.MaxConcurrentPerUpstream,
		Destinations:         dest,
		Retry: upstream.RetryPolicy{MaxAttempts: l.Retry.MaxAttempts, BaseDelay: l.Retry.BaseDelay.Std(),
			MaxDelay: l.Retry.MaxDelay.Std(), MaxElapsed: l.Retry.MaxElapsed.Std()},
		Observer: upstreamObserver(logger, m),
	})
	if err != nil {
		return nil, err
	}
	// Sign-ins get the same budget as the exchange they open.
	env := action.Env{HTTP: factory, Logger: logger, SignIns: upstream.NewLocalHolders(time.Now, l.RequestTimeout.Std())}
	rt := &runtime{cfg: cfg, metrics: m}
	if r := cfg.Redis; r != nil {
		// A fleet shares sign-ins and negotiated versions through Redis.
		var previous []byte
		if r.PreviousTokenKey != "" {
			previous = []byte(r.PreviousTokenKey.Reveal())
		}
		f, err := fleet.Open(fleet.Options{URL: r.URL.Reveal(), TokenKey: []byte(r.TokenKey.Reveal()), PreviousTokenKey: previous, Now: time.Now,
			SignInTimeout: l.RequestTimeout.Std(), Logger: logger, OnDegraded: m.FleetDegraded})
		if err != nil {
			return nil, err
		}
		rt.fleet = f
		env.SignIns, env.Memo = f.Holders(), f.Memo()
	}
	reg, err := action.NewRegistry(set, env, providers.All()...)
	if err == nil {
		err = reg.SetProfiles(cfg.Profiles)
	}
	if err != nil {
		rt.close()
		return nil, err
	}
	rt.reg = reg
	if len(cfg.APIKeys) > 0 {
		rt.keys = httpapi.NewAPIKeys(callerKeys(cfg))
	}
	return rt, nil
}

// addEnvKey adds TOKENWARDEN_API_KEY, when set, to the config's caller keys.
func addEnvKey(cfg *config.Config) error {
	if k := os.Getenv("TOKENWARDEN_API_KEY"); k != "" {
		if len(k) < 16 {
			return fmt.Errorf("TOKENWARDEN_API_KEY must be at least 16 characters long")
		}
		cfg.APIKeys = append(cfg.APIKeys, config.Key{ID: "env", Value: secret.Value(k)})
	}
	return nil
}

// upstreamObserver counts exchanges and retries, and logs retries and
// refused destinations.
func upstreamObserver(logger *slog.Logger, m *metrics.Metrics) *upstream.Observer {
	return &upstream.Observer{
		OnExchange: m.Exchange,
		OnRetry: func(e upstream.RetryEvent) {
			m.Retry(e.Provider, e.Reason)
			logger.Info("upstream retry", "upstream", e.Host, "method", e.Method, "path", e.Path, "attempt", e.Attempt, "reason", e.Reason, "delay_ms", e.Delay.Milliseconds())
		},
		OnRefused: func(r *upstream.RefusedError) {
			logger.Warn("upstream destination refused", "host", r.Host, "addr", r.Addr, "reason", r.Reason)
		},
	}
}

// isLoopback reports whether a listen address only accepts local callers.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.IsLoopback()
}

// printStartupError writes an error, one bad field per line when it names
// fields, so a broken config file reads as a checklist.
func printStartupError(w io.Writer, err error) {
	fmt.Fprintln(w, "tokenwarden:", err)
	if p, ok := asProblem(err); ok {
		for _, e := range p.Errors {
			fmt.Fprintf(w, "  - %s: %s\n", e.Field, e.Message)
		}
	}
}
