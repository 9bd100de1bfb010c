package idempotency

import (
	"context"
	"fmt"
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// startRedis runs a throwaway redis-server on a free loopback port, without
// persistence, for the length of the test. The test is skipped, saying so,
// when redis-server is not installed (apt-get install redis-server).
func startRedis(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (apt-get install redis-server); the Redis store is not tested")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	cmd := exec.Command(bin, "--bind", "127.0.0.1", "--port", fmt.Sprint(port), "--save", "", "--appendonly", "no", "--dir", t.TempDir())
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	url := fmt.Sprintf("redis://127.0.0.1:%d/0", port)
	for i := 0; ; i++ {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			conn.Close()
			return url
		}
		if i == 200 {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestRedisStore(t *testing.T) {
	url := startRedis(t)
	for name, check := range contract {
		t.Run(name, func(t *testing.T) {
			r, err := NewRedis(context.Background(), url, time.Hour, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			r.prefix += name + ":" // each check starts with no keys
			check(t, r)
		})
	}
}

func TestRedisURLIsNotEchoed(t *testing.T) {
	_, err := NewRedis(context.Background(), "http://user:CANARY-pass@host", time.Hour, time.Minute)
	if err == nil || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("%v", err)
	}
}
