// Package faults wraps any emulator handler with injected failures
// (latency, 429 with Retry-After, 5xx, connection resets, truncated answers,
// hooks that invalidate sessions) so the sidecar can be tested against the
// ways real upstreams fail, without changing the emulators themselves.
package faults

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Fault handles one matched request in place of (or around) the emulator.
type Fault func(w http.ResponseWriter, r *http.Request, next http.Handler)

// Rule applies a fault to matching requests.
type Rule struct {
	// Method matches when empty or equal.
	Method string
	// Path matches the URL path exactly, or as a prefix when it ends in
	// "*"; empty matches every path.
	Path string
	// Times is how many matching requests get the fault; 0 means all of
	// them. Times: 2 with a 503 is "two failures, then success".
	Times int
	Fault Fault
}

// Injector is an http.Handler that applies the first live matching rule and
// otherwise passes the request to the emulator.
type Injector struct {
	next  http.Handler
	mu    sync.Mutex
	rules []*live
	seen  map[string]int // "METHOD /path" → requests received
}

type live struct {
	Rule
	used int
}

// Wrap returns an injector in front of next with no rules yet.
func Wrap(next http.Handler) *Injector {
	return &Injector{next: next, seen: map[string]int{}}
}

// Add appends a rule; rules are tried in the order added.
func (i *Injector) Add(r Rule) *Injector {
	i.mu.Lock()
	i.rules = append(i.rules, &live{Rule: r})
	i.mu.Unlock()
	return i
}

// Clear removes every rule.
func (i *Injector) Clear() {
	i.mu.Lock()
	i.rules = nil
	i.mu.Unlock()
}

// Requests counts the requests received for method and path, faulted or not.
func (i *Injector) Requests(method, path string) int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.seen[method+" "+path]
}

func (r *Rule) matches(req *http.Request) bool {
	if r.Method != "" && r.Method != req.Method {
		return false
	}
	switch {
	case r.Path == "":
		return true
	case strings.HasSuffix(r.Path, "*"):
		return strings.HasPrefix(req.URL.Path, strings.TrimSuffix(r.Path, "*"))
	default:
		return req.URL.Path == r.Path
	}
}

func (i *Injector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var fault Fault
	i.mu.Lock()
	i.seen[r.Method+" "+r.URL.Path]++
	for _, rule := range i.rules {
		if rule.matches(r) && (rule.Times == 0 || rule.used < rule.Times) {
			rule.used++
			fault = rule.Fault
			break
		}
	}
	i.mu.Unlock()
	if fault == nil {
		i.next.ServeHTTP(w, r)
		return
	}
	fault(w, r, i.next)
}

// Status answers with code and, when retryAfter is not empty, a Retry-After
// header, without passing the request on: the upstream did nothing.
func Status(code int, retryAfter string) Fault {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(code)
		fmt.Fprintf(w, "injected fault: %d %s\n", code, http.StatusText(code))
	}
}

// HTML answers with code and an HTML page, as a reverse proxy in front of an
// upstream does.
func HTML(code int) Fault {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(code)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body>nginx</body></html>", code, http.StatusText(code))
	}
}

// Latency waits d (or until the caller gives up) and then passes the
// request on.
func Latency(d time.Duration) Fault {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
			next.ServeHTTP(w, r)
		case <-r.Context().Done():
		}
	}
}

// Hang never answers; it returns when the caller goes away. It reads the
// request body first: net/http only notices a caller hanging up once the
// body is consumed, and a handler that never returns blocks the test
// server's Close.
func Hang() Fault {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		_, _ = io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}
}

// Reset drops the connection with a TCP reset before the upstream does
// anything.
func Reset() Fault {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		reset(w)
	}
}

// ResetAfter lets the upstream do the work, then drops the connection
// before the answer is sent: the caller cannot know it succeeded.
func ResetAfter() Fault {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		next.ServeHTTP(httptest.NewRecorder(), r)
		reset(w)
	}
}

func reset(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(fmt.Sprintf("faults: connection reset needs a hijackable connection: %v", err))
	}
	if tcp, ok := conn.(*net.TCPConn); ok {
		_ = tcp.SetLinger(0) // close with RST, not FIN
	}
	conn.Close()
}

// Truncate lets the upstream answer, then sends its status, its headers and
// a Content-Length for the whole body but only the first n bytes of the
// body before closing the connection.
func Truncate(n int) Fault {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		rec := httptest.NewRecorder()
		next.ServeHTTP(rec, r)
		body := rec.Body.Bytes()
		if n > len(body) {
			n = len(body)
		}
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			panic(fmt.Sprintf("faults: truncation needs a hijackable connection: %v", err))
		}
		defer conn.Close()
		writeHead(buf, rec, len(body))
		_, _ = buf.Write(body[:n])
		_ = buf.Flush()
	}
}

func writeHead(buf *bufio.ReadWriter, rec *httptest.ResponseRecorder, length int) {
	fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\n", rec.Code, http.StatusText(rec.Code))
	h := rec.Header().Clone()
	h.Set("Content-Length", strconv.Itoa(length))
	h.Del("Transfer-Encoding")
	_ = h.Write(buf)
	_, _ = buf.WriteString("\r\n")
}

// Do runs hook (e.g. an emulator's "invalidate every token") and then
// passes the request on, so a state change lands mid-run at a known point.
func Do(hook func()) Fault {
	return func(w http.ResponseWriter, r *http.Request, next http.Handler) {
		hook()
		next.ServeHTTP(w, r)
	}
}

// Redirect answers with a redirect to location without passing the
// request on.
func Redirect(code int, location string) Fault {
	return func(w http.ResponseWriter, r *http.Request, _ http.Handler) {
		http.Redirect(w, r, location, code)
	}
}
