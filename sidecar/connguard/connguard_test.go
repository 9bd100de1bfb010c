package connguard

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"
)

func serve(t *testing.T, max int, readTimeout time.Duration) (*Listener, *atomic.Int32) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var slow atomic.Int32
	ln := New(raw, max, func() { slow.Add(1) })
	srv := &http.Server{ReadHeaderTimeout: readTimeout, ReadTimeout: readTimeout, IdleTimeout: readTimeout, ConnState: ln.ConnState,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) })}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return ln, &slow
}

// closedWithin reports whether the server closes c before the deadline.
func closedWithin(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	ne, isNet := err.(net.Error)
	return err == nil || !(isNet && ne.Timeout())
}

// A stalled body and a stalled header are cut off and counted; an idle
// keep-alive connection that times out is closed but is no slow client.
func TestSlowClientsAreCutAndCounted(t *testing.T) {
	ln, slow := serve(t, 10, 300*time.Millisecond)
	body, _ := net.Dial("tcp", ln.Addr().String())
	defer body.Close()
	_, _ = io.WriteString(body, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly a little")
	header, _ := net.Dial("tcp", ln.Addr().String())
	defer header.Close()
	_, _ = io.WriteString(header, "GET / HTTP/1.1\r\nHost: x\r\n")
	idle, _ := net.Dial("tcp", ln.Addr().String())
	defer idle.Close()
	_, _ = io.WriteString(idle, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	for name, c := range map[string]net.Conn{"slow body": body, "slow header": header, "idle keep-alive": idle} {
		if !closedWithin(c, 30*time.Second) {
			t.Errorf("%s: not cut off", name)
		}
	}
	if got := slow.Load(); got != 2 {
		t.Fatalf("%d slow clients counted, want 2", got)
	}
}

// Past the cap a connection waits; it is served once another closes.
func TestConnectionCap(t *testing.T) {
	ln, _ := serve(t, 2, 30*time.Second)
	var held []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	waiting, err := net.Dial("tcp", ln.Addr().String()) // the kernel accepts it into the queue
	if err != nil {
		t.Fatal(err)
	}
	defer waiting.Close()
	_, _ = io.WriteString(waiting, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_ = waiting.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if n, _ := waiting.Read(make([]byte, 1)); n != 0 {
		t.Fatal("a connection past the cap was served")
	}
	deadline := time.Now().Add(30 * time.Second)
	for ln.Open() != 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if ln.Open() != 2 {
		t.Fatalf("%d open", ln.Open())
	}
	held[0].Close()
	_ = waiting.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufioReader(waiting), nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("after a slot freed: %v", err)
	}
}

func bufioReader(c net.Conn) *bufio.Reader { return bufio.NewReader(c) }
