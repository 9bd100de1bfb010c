package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// benchAction is one action with an input the emulator answers with success.
type benchAction struct {
	ID    string
	Input string
}

// emulators is `tokenwarden emulators` in a process of its own, so the
// upstreams' CPU is neither the load generator's nor the sidecar's.
type emulators struct {
	proc        *process
	URL         string
	connections map[string]json.RawMessage
}

// startEmulators runs BINARY emulators on a free port (scale extra tokens
// and devices) and reads its ready connections.
func startEmulators(binary string, scale int) (*emulators, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "emulators", "--listen", addr, "--scale", strconv.Itoa(scale))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	e := &emulators{proc: &process{cmd: cmd}, URL: "http://" + addr}
	// The first line is printed once every emulator listens.
	ready := make(chan error, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if !sc.Scan() {
			ready <- errors.New("tokenwarden emulators exited before it was ready")
		}
		ready <- nil
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case err := <-ready:
		if err != nil {
			return nil, err
		}
	case <-time.After(5 * time.Minute):
		e.proc.Stop()
		return nil, errors.New("tokenwarden emulators did not start within 5 minutes")
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		err = e.get("/connections", &e.connections)
		if err == nil || time.Now().After(deadline) {
			break
		}
	}
	if err != nil {
		e.proc.Stop()
		return nil, err
	}
	return e, nil
}

func (e *emulators) get(path string, v any) error {
	resp, err := loadClient.Get(e.URL + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: HTTP %d", path, resp.StatusCode)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// signIns is the emulator's own count of sign-ins for a provider.
func (e *emulators) signIns(provider string) int64 {
	var stats map[string]struct {
		SignIns int64 `json:"signIns"`
	}
	if err := e.get("/stats", &stats); err != nil {
		return -1
	}
	return stats[provider].SignIns
}

// baseURL is where a connection points (baseUrl, or issuer), without the
// Appgate /admin suffix, so a proxy can stand in front of it.
func (e *emulators) baseURL(conn string) string {
	var c struct {
		BaseURL string `json:"baseUrl"`
	}
	_ = json.Unmarshal(e.connections[conn], &c)
	return strings.TrimSuffix(c.BaseURL, "/admin")
}

// viaSidecar is the action request n8n would send.
func (e *emulators) viaSidecar(sidecarURL, conn string, a benchAction) call {
	return call{
		method: http.MethodPost,
		url:    sidecarURL + "/v1/actions/" + a.ID,
		header: http.Header{"Content-Type": {"application/json"}},
		body:   []byte(`{"connection":` + string(e.connections[conn]) + `,"input":` + a.Input + `}`),
		want:   http.StatusOK,
	}
}

// direct returns the exact upstream request the sidecar makes for the
// action (method, path and query, headers including its bearer token, body),
// recorded by the emulators process, so "direct", "through the proxy" and
// "through the sidecar" are the same upstream call.
func (e *emulators) direct(sidecarURL, conn string, a benchAction) (call, error) {
	s := e.viaSidecar(sidecarURL, conn, a)
	// The first call signs in; the recorded one is a plain action call.
	if _, err := s.send(); err != nil {
		return call{}, err
	}
	resp, err := loadClient.Post(e.URL+"/record/"+conn, "", nil)
	if err != nil {
		return call{}, err
	}
	resp.Body.Close()
	if _, err := s.send(); err != nil {
		return call{}, err
	}
	var seen struct {
		Method string
		URI    string
		Header http.Header
		Body   []byte
		Status int
	}
	if err := e.get("/record/"+conn, &seen); err != nil {
		return call{}, err
	}
	if seen.Method == "" {
		return call{}, fmt.Errorf("%s: the emulator recorded no request", a.ID)
	}
	return call{method: seen.Method, url: e.baseURL(conn) + seen.URI, header: seen.Header, body: seen.Body, want: seen.Status}, nil
}

// firstDeviceDN asks the sidecar for one Appgate device to revoke.
func (e *emulators) firstDeviceDN(sidecarURL string) (string, error) {
	c := e.viaSidecar(sidecarURL, "appgate", benchAction{"appgate.listOnboardedDevices", `{"range": "0-1", "orderBy": "distinguishedName"}`})
	req, _ := http.NewRequest(c.method, c.url, bytes.NewReader(c.body))
	req.Header = c.header
	resp, err := loadClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Data []struct {
			DistinguishedName string `json:"distinguishedName"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Data) == 0 {
		return "", fmt.Errorf("no Appgate device to revoke (HTTP %d, %v)", resp.StatusCode, err)
	}
	return out.Data[0].DistinguishedName, nil
}
