package main

import (
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Twenty clients that send half a body and stall are cut off at the read
// timeout, and /metrics counts them.
func TestSlowBodiesAreCutAndCounted(t *testing.T) {
	url, _, _ := startServe(t, map[string]any{
		"limits": map[string]any{"readHeaderTimeout": "1s", "readTimeout": "1s", "maxConnections": 64},
	}, nil)
	addr := strings.TrimPrefix(url, "http://")
	const n = 20
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		_, _ = io.WriteString(c, "POST /v1/actions/threecx.revokeSecurityToken HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"profile\": ")
		conns[i] = c
	}
	for i, c := range conns {
		_ = c.SetReadDeadline(time.Now().Add(60 * time.Second))
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Fatalf("connection %d not cut off by the server: %v", i, err)
		}
	}
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(b), "tokenwarden_http_slow_clients_total 20\n") || !strings.Contains(string(b), "tokenwarden_http_connections_open ") {
		t.Fatalf("metrics:\n%s", grepLines(string(b), "tokenwarden_http_"))
	}
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// The probes of a hostile page against a running `serve` on loopback.
func TestServeRefusesBrowserProbes(t *testing.T) {
	url, _, _ := startServe(t, map[string]any{"http": map[string]any{"allowedOrigins": []string{"https://flows.example.com"}}}, nil)
	for _, c := range []struct {
		host, contentType, origin string
		status                    int
	}{
		{"", "text/plain", "", 415},
		{"", "application/json", "https://evil.example", 403},
		{"rebind.attacker.example", "application/json", "", 421},
		{"", "application/json", "https://flows.example.com", 422},
	} {
		req, _ := http.NewRequest(http.MethodPost, url+"/v1/actions/threecx.revokeSecurityToken", strings.NewReader(`{"input": {"id": 1}}`))
		req.Header.Set("Content-Type", c.contentType)
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		if c.host != "" {
			req.Host = c.host
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.status {
			t.Errorf("%+v: %d", c, resp.StatusCode)
		}
	}
}
