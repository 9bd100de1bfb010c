package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
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

	"github.com/tokenwarden/tokenwarden/sidecar/config"
	"github.com/tokenwarden/tokenwarden/sidecar/demo"
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

	opts := httpapi.Options{Registry: rt.reg, Logger: logger, Ready: &atomic.Bool{}, Version: version,
		MaxBodyBytes: cfg.Limits.MaxBodyBytes, Middleware: mw, Actions: rt.metrics}
	if serveMetrics {
		opts.Metrics = rt.metrics.Handler()
		if key := requireKey(cfg); needKey && key != nil {
			opts.MetricsMiddleware = []func(http.Handler) http.Handler{key}
		}
	}
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
		printDemoBanner(stdout, url, upstreams)
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
