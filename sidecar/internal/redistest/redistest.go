// Package redistest runs throwaway redis-server processes for tests: no
// persistence, a free loopback port, a temp dir, killed when the test ends.
package redistest

import (
	"fmt"
	"net"
	"os/exec"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/testneed"
)

// Server is one running redis-server.
type Server struct {
	URL  string // redis://127.0.0.1:PORT/0
	Addr string // 127.0.0.1:PORT
	cmd  *exec.Cmd
}

// Start runs a redis-server for the length of the test. The test is
// skipped, saying so, when redis-server is not installed (apt-get install
// redis-server; .ci/run does).
func Start(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		testneed.Missing(t, "redis-server is not installed (apt-get install redis-server); the Redis code is not tested")
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
	s := &Server{URL: fmt.Sprintf("redis://127.0.0.1:%d/0", port), Addr: fmt.Sprintf("127.0.0.1:%d", port), cmd: cmd}
	t.Cleanup(s.Kill)
	for i := 0; ; i++ {
		conn, err := net.Dial("tcp", s.Addr)
		if err == nil {
			conn.Close()
			return s
		}
		if i == 500 {
			t.Fatalf("redis-server did not start: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Kill stops the server at once (SIGKILL), as a crash or a lost node would.
// Calling it again does nothing.
func (s *Server) Kill() {
	if s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}
