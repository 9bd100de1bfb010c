//go:build !nodemo

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/demo"
)

const defaultEmulatorsListen = "127.0.0.1:8788"

// emulatorsCmd runs the demo upstreams alone, in a process of their own: a
// staging target for a production-build sidecar (which has no demo) and the
// upstream side of make bench, so the load generator and the emulators do
// not share the sidecar's or each other's CPU accounting.
func emulatorsCmd(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("emulators", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", defaultEmulatorsListen, "address of GET /connections; each emulator listens on a port of its own on the same host")
	scale := fs.Int("scale", 0, "seed N extra 3CX refresh tokens, 3CX security tokens and Appgate devices")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *scale < 0 || *scale > 1_000_000 {
		fmt.Fprintln(stderr, "tokenwarden emulators: --scale must be between 0 and 1000000")
		return 2
	}
	host, _, err := net.SplitHostPort(*listen)
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden emulators: --listen:", err)
		return 2
	}
	recorders := map[string]*recorder{}
	u, err := demo.StartWith(demo.Options{Host: host, Scale: *scale, Wrap: func(name string, h http.Handler) http.Handler {
		r := &recorder{next: h}
		recorders[name] = r
		return r
	}})
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden emulators:", err)
		return 1
	}
	defer u.Close(context.Background())

	mux := http.NewServeMux()
	mux.HandleFunc("GET /connections", func(w http.ResponseWriter, r *http.Request) { writeJSONTo(w, u.Connections) })
	mux.HandleFunc("GET /stats", func(w http.ResponseWriter, r *http.Request) { writeJSONTo(w, u.Stats()) })
	// Ends every 3CX access token, as a sign-in elsewhere would: what a
	// fleet of sidecars must recover from with one sign-in, not one each.
	mux.HandleFunc("POST /threecx/invalidate-tokens", func(w http.ResponseWriter, r *http.Request) {
		u.ThreeCX.InvalidateAccessTokens()
		w.WriteHeader(http.StatusNoContent)
	})
	// The record endpoints let a benchmark replay exactly the upstream
	// request a sidecar made (bearer token included: the emulators' own
	// demo credentials), so "direct" and "through the sidecar" are one call.
	mux.HandleFunc("POST /record/{name}", func(w http.ResponseWriter, r *http.Request) {
		rec, ok := recorders[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		rec.arm()
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /record/{name}", func(w http.ResponseWriter, r *http.Request) {
		rec, ok := recorders[r.PathValue("name")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		writeJSONTo(w, rec.disarm())
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintln(stderr, "tokenwarden emulators:", err)
		return 1
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(shutdown)
	}()
	conns, _ := json.MarshalIndent(u.Connections, "", "  ")
	fmt.Fprintf(stdout, "Tokenwarden emulators (3CX, Appgate, OAuth, Nexus) are running; ready connections at GET http://%s/connections:\n%s\n", ln.Addr(), conns)
	listening("http://" + ln.Addr().String())
	if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		fmt.Fprintln(stderr, "tokenwarden emulators:", err)
		return 1
	}
	return 0
}

func writeJSONTo(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// recorder passes requests to an emulator and, while armed, keeps the last
// one with the status it got.
type recorder struct {
	next  http.Handler
	armed atomic.Bool
	mu    sync.Mutex
	last  recordedRequest
}

// recordedRequest is one upstream request as an emulator received it.
type recordedRequest struct {
	Method string              `json:"method"`
	URI    string              `json:"uri"`
	Header map[string][]string `json:"header"`
	Body   []byte              `json:"body"`
	Status int                 `json:"status"`
}

func (r *recorder) arm() {
	r.mu.Lock()
	r.last = recordedRequest{}
	r.mu.Unlock()
	r.armed.Store(true)
}

func (r *recorder) disarm() recordedRequest {
	r.armed.Store(false)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.last
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if !r.armed.Load() {
		r.next.ServeHTTP(w, req)
		return
	}
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	header := map[string][]string{}
	for _, k := range []string{"Authorization", "Accept", "Content-Type"} {
		if v := req.Header.Values(k); len(v) > 0 {
			header[k] = v
		}
	}
	sw := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	r.next.ServeHTTP(sw, req)
	r.mu.Lock()
	r.last = recordedRequest{Method: req.Method, URI: req.URL.RequestURI(), Header: header, Body: body, Status: sw.status}
	r.mu.Unlock()
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}
