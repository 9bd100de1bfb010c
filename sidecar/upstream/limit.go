package upstream

import (
	"io"
	"net/http"
	"sync"
)

// limitTransport bounds the requests in flight to one upstream host, so a
// hanging upstream holds a bounded number of goroutines and the sidecar
// keeps answering calls to every other upstream. A request waits for a slot
// as long as its context allows.
type limitTransport struct {
	next http.RoundTripper
	*limiter
}

// limiter is shared by every transport of a factory, so the bound holds per
// upstream host whatever the connection's TLS options.
type limiter struct {
	max  int
	mu   sync.Mutex
	sems map[string]chan struct{}
}

func (l *limiter) sem(host string) chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	s, ok := l.sems[host]
	if !ok {
		s = make(chan struct{}, l.max)
		l.sems[host] = s
	}
	return s
}

func (t *limitTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	sem := t.sem(req.URL.Host)
	select {
	case sem <- struct{}{}:
	case <-req.Context().Done():
		if req.Body != nil {
			req.Body.Close()
		}
		return nil, req.Context().Err()
	}
	var once sync.Once
	release := func() { once.Do(func() { <-sem }) }
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		release()
		return nil, err
	}
	// The slot is held until the answer is read: the connection is busy
	// until then.
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: release}
	return resp, nil
}

type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b *releasingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.release()
	}
	return n, err
}

func (b *releasingBody) Close() error {
	defer b.release()
	return b.ReadCloser.Close()
}
