package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/config"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
)

const defaultListen = "127.0.0.1:8787"

// listening is told the address once the server accepts connections; tests
// replace it to learn a port chosen by the system.
var listening = func(addr string) {}

func serveCmd(ctx context.Context, args []string, logger *slog.Logger, stdout, stderr io.Writer, withDemo bool) int {
	name := "serve"
	if withDemo {
		name = "demo"
	}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", os.Getenv("TOKENWARDEN_LISTEN"), "address to listen on (default: the config file's listen, else "+defaultListen+")")
	configPath := fs.String("config", os.Getenv("TOKENWARDEN_CONFIG"), "configuration file (see docs/configuration.md)")
	metricsMode := fs.String("metrics", firstOf(os.Getenv("TOKENWARDEN_METRICS"), "auto"),
		"GET /metrics: open, key (needs a sidecar API key), off, or auto (open on a loopback listener, key otherwise)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	rt, err := loadRuntime(*configPath, withDemo, logger)
	if err != nil {
		printStartupError(stderr, err)
		return 1
	}
	cfg := rt.cfg
	addr := firstOf(*listen, cfg.Listen, defaultListen)
	if !isLoopback(addr) && len(cfg.APIKeys) == 0 {
		fmt.Fprintf(stderr, "tokenwarden: refusing to listen on %s without caller API keys: anyone who can reach that address could revoke credentials.\n"+
			"  Add apiKeys to the config file (docs/configuration.md) or set TOKENWARDEN_API_KEY, or listen on 127.0.0.1.\n", addr)
		return 1
	}
	needKey, serveMetrics, err := metricsPolicy(*metricsMode, addr)
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden:", err)
		return 2
	}
	mw, inFlight, closers, err := apiMiddleware(ctx, rt, stdout)
	if err != nil {
		printStartupError(stderr, err)
		return 1
	}
	defer func() {
		for _, c := range closers {
			c.Close()
		}
	}()
	startSecretReload(ctx, rt, *configPath, logger)

	opts := httpapi.Options{Registry: rt.reg, Logger: logger, Ready: &atomic.Bool{}, Version: version,
		MaxBodyBytes: cfg.Limits.MaxBodyBytes, Middleware: mw, Actions: rt.metrics}
	if serveMetrics {
		opts.Metrics = rt.metrics.Handler()
		if key := requireKey(rt); needKey && key != nil {
			opts.MetricsMiddleware = []func(http.Handler) http.Handler{key}
		}
	}
	var upstreams *demoEnv
	if withDemo {
		if upstreams, err = startDemo(); err != nil {
			fmt.Fprintln(stderr, "tokenwarden:", err)
			return 1
		}
		defer upstreams.close()
		opts.DemoConnections = upstreams.connections
		opts.DemoStats = upstreams.stats
		opts.DemoTokens = upstreams.tokens
	}
	handler, err := httpapi.New(opts)
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden:", err)
		return 1
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden:", err)
		return 1
	}
	scheme := "http"
	if cfg.TLS != nil {
		tlsCfg, err := listenerTLS(cfg.TLS)
		if err != nil {
			ln.Close()
			printStartupError(stderr, err)
			return 1
		}
		ln, scheme = tls.NewListener(ln, tlsCfg), "https"
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 120 * time.Second,
		ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	opts.Ready.Store(true)
	url := scheme + "://" + ln.Addr().String()
	logger.Info("listening", "addr", url, "version", version, "demo", withDemo, "api_keys", len(cfg.APIKeys),
		"profiles", rt.reg.ProfileNames(), "mutual_tls", cfg.TLS != nil && cfg.TLS.ClientCAFile != "")
	listening(url)
	if withDemo {
		upstreams.banner(stdout, url)
	}

	select {
	case err := <-errc:
		fmt.Fprintln(stderr, "tokenwarden:", err)
		return 1
	case <-ctx.Done():
	}
	return shutdown(srv, errc, opts.Ready, inFlight, cfg.Limits.ShutdownGrace.Std(), logger, stderr)
}

// shutdown stops accepting, lets in-flight actions finish within grace, and
// names every action it had to cut off: their outcome upstream is unknown,
// so whoever runs the flows must check them.
func shutdown(srv *http.Server, errc chan error, ready *atomic.Bool, inFlight *httpapi.InFlight, grace time.Duration, logger *slog.Logger, stderr io.Writer) int {
	ready.Store(false)
	logger.Info("shutting down", "grace_seconds", grace.Seconds(), "in_flight", len(inFlight.Snapshot()))
	shutdownCtx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		cut := inFlight.Snapshot()
		ids := make([]string, len(cut))
		actions := make([]string, len(cut))
		for i, c := range cut {
			ids[i], actions[i] = c.RequestID, c.Action
		}
		logger.Error("actions cut off at the shutdown deadline; their outcome upstream is unknown",
			"count", len(cut), "request_ids", ids, "actions", actions, "grace_seconds", grace.Seconds())
		_ = srv.Close()
		return 1
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "tokenwarden:", err)
		return 1
	}
	logger.Info("shut down cleanly")
	return 0
}

// listenerTLS serves HTTPS and, with a client CA, requires every caller to
// present a certificate it signed (mutual TLS).
func listenerTLS(c *config.TLS) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("tls: certFile/keyFile: %w", err)
	}
	out := &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("tls: clientCaFile: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls: clientCaFile %s holds no PEM certificate", c.ClientCAFile)
		}
		out.ClientCAs, out.ClientAuth = pool, tls.RequireAndVerifyClientCert
	}
	return out, nil
}

// metricsPolicy reads the --metrics mode. Metrics hold no secrets but do
// reveal which actions run how often, so off loopback they need the key
// unless the operator says otherwise. (A non-loopback listener always has
// keys: serve refuses to start without.)
func metricsPolicy(mode, listen string) (needKey, serve bool, err error) {
	switch mode {
	case "open":
		return false, true, nil
	case "key":
		return true, true, nil
	case "off":
		return false, false, nil
	case "auto":
		return !isLoopback(listen), true, nil
	}
	return false, false, fmt.Errorf("--metrics must be open, key, off or auto, not %q", mode)
}

func firstOf(vals ...string) string {
	for _, v := range vals {
		if v != "" {
			return v
		}
	}
	return ""
}

// demoEnv is what serve needs from the demo's emulators; builds tagged
// nodemo leave the emulators (and the OAuth server library they link) out.
type demoEnv struct {
	connections map[string]any
	stats       func() map[string]any
	tokens      func() map[string]any
	banner      func(w io.Writer, addr string)
	close       func()
}
