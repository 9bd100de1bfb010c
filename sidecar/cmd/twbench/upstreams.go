package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
)

// benchAction is one action with an input the emulator answers with success.
type benchAction struct {
	ID    string
	Input string
}

// upstreamUnderTest is one emulator, running in the bench process, with the
// actions the bench drives against it.
type upstreamUnderTest struct {
	Provider   string
	URL        string     // the emulator's base URL
	Connection func() any // the current connection object (3CX keys can change)
	SignIns    func() int64
	Latency    []benchAction // added-latency rows
	Hot        benchAction   // the throughput stage's action
	Burst      benchAction   // the cold burst's action
	rec        *recorder
}

// startThreeCX runs the 3CX emulator with the seeded data the demo uses.
func startThreeCX(ctx context.Context) (*upstreamUnderTest, error) {
	emu := threecxemu.New(threecxemu.Options{})
	u := &upstreamUnderTest{
		Provider: "threecx",
		SignIns:  emu.TokenRequests,
		Latency: []benchAction{
			{"threecx.revokeSecurityToken", `{"id": 1}`},
			{"threecx.listRefreshTokens", `{"top": 5}`},
			{"threecx.listSecurityTokens", `{"filter": "Revoked eq null", "top": 5, "select": "Id,DisplayName,Created,Revoked"}`},
			{"threecx.generateAppToken", `{"id": 32}`},
		},
		Hot:   benchAction{"threecx.revokeSecurityToken", `{"id": 1}`},
		Burst: benchAction{"threecx.revokeSecurityToken", `{"id": 2}`},
	}
	if err := u.serve(ctx, emu); err != nil {
		return nil, err
	}
	u.Connection = func() any {
		id, secret := emu.Credentials()
		return map[string]any{"baseUrl": u.URL, "clientId": id, "clientSecret": secret}
	}
	return u, nil
}

func (u *upstreamUnderTest) serve(ctx context.Context, emulator http.Handler) error {
	u.rec = &recorder{next: emulator}
	var err error
	u.URL, err = serveLoopback(ctx, u.rec)
	return err
}

// viaSidecar is the action request n8n would send.
func (u *upstreamUnderTest) viaSidecar(sidecarURL string, a benchAction) call {
	conn, _ := json.Marshal(u.Connection())
	return call{
		method: http.MethodPost,
		url:    sidecarURL + "/v1/actions/" + a.ID,
		header: http.Header{"Content-Type": {"application/json"}},
		body:   []byte(`{"connection":` + string(conn) + `,"input":` + a.Input + `}`),
		want:   http.StatusOK,
	}
}

// direct returns the exact upstream request the sidecar makes for the
// action (method, path and query, headers including its bearer token, body)
// by recording it, so "direct" and "through the sidecar" are the same call.
func (u *upstreamUnderTest) direct(sidecarURL string, a benchAction) (call, error) {
	s := u.viaSidecar(sidecarURL, a)
	// The first call signs in; the recorded one is a plain action call.
	if _, err := s.send(); err != nil {
		return call{}, err
	}
	u.rec.arm()
	_, err := s.send()
	seen := u.rec.disarm()
	if err != nil {
		return call{}, err
	}
	return call{method: seen.method, url: u.URL + seen.uri, header: seen.header, body: seen.body, want: seen.status}, nil
}

// recorder passes requests to the emulator and, while armed, keeps the last
// one with the status it got.
type recorder struct {
	next  http.Handler
	armed atomic.Bool
	mu    sync.Mutex
	last  recorded
}

type recorded struct {
	method, uri string
	header      http.Header
	body        []byte
	status      int
}

func (r *recorder) arm() { r.armed.Store(true) }

func (r *recorder) disarm() recorded {
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
	header := http.Header{}
	for _, k := range []string{"Authorization", "Accept", "Content-Type"} {
		if v := req.Header.Values(k); len(v) > 0 {
			header[k] = v
		}
	}
	sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
	r.next.ServeHTTP(sw, req)
	r.mu.Lock()
	r.last = recorded{method: req.Method, uri: req.URL.RequestURI(), header: header, body: body, status: sw.status}
	r.mu.Unlock()
}

type statusWriter struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusWriter) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}
