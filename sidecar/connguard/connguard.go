// Package connguard bounds the connections a server holds: at most N are
// served at once (the rest wait in the kernel's listen queue), and a
// connection cut off by a read deadline while its request was still
// arriving (a slow or stalled client) is reported, so the operator can see
// it happen.
package connguard

import (
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// Listener wraps a listener with the connection cap. Install ConnState as
// the http.Server's ConnState so idle keep-alive connections that time out
// are not taken for slow clients.
type Listener struct {
	net.Listener
	slots  chan struct{}
	closed chan struct{}
	once   sync.Once
	onSlow func()
	open   atomic.Int64
}

// New caps ln at max connections; onSlow is called once per connection a
// read deadline cut off mid-request.
func New(ln net.Listener, max int, onSlow func()) *Listener {
	if onSlow == nil {
		onSlow = func() {}
	}
	return &Listener{Listener: ln, slots: make(chan struct{}, max), closed: make(chan struct{}), onSlow: onSlow}
}

// Accept waits for a free slot, then for a connection.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case l.slots <- struct{}{}:
	case <-l.closed:
		return nil, net.ErrClosed
	}
	c, err := l.Listener.Accept()
	if err != nil {
		<-l.slots
		return nil, err
	}
	l.open.Add(1)
	return &conn{Conn: c, l: l}, nil
}

// Close stops accepting; connections already served keep their slots until
// they close.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.closed) })
	return l.Listener.Close()
}

// Open is the number of connections being served.
func (l *Listener) Open() int64 { return l.open.Load() }

// ConnState tells the listener which connections are idle between requests.
func (l *Listener) ConnState(c net.Conn, s http.ConnState) {
	if t, ok := c.(*tls.Conn); ok {
		c = t.NetConn()
	}
	if g, ok := c.(*conn); ok && (s == http.StateIdle || s == http.StateActive) {
		g.idle.Store(s == http.StateIdle)
	}
}

type conn struct {
	net.Conn
	l       *Listener
	idle    atomic.Bool
	counted atomic.Bool
	release sync.Once
	// aborted is set while the read deadline lies in the distant past: how
	// net/http stops its own background read once a handler is done. The
	// timeout that follows is no slow client.
	aborted atomic.Bool
}

func (c *conn) SetReadDeadline(t time.Time) error {
	c.aborted.Store(!t.IsZero() && t.Year() < 2000)
	return c.Conn.SetReadDeadline(t)
}

func (c *conn) SetDeadline(t time.Time) error {
	c.aborted.Store(!t.IsZero() && t.Year() < 2000)
	return c.Conn.SetDeadline(t)
}

func (c *conn) Read(b []byte) (int, error) {
	n, err := c.Conn.Read(b)
	var ne net.Error
	if err != nil && errors.As(err, &ne) && ne.Timeout() && !c.idle.Load() && !c.aborted.Load() && c.counted.CompareAndSwap(false, true) {
		c.l.onSlow()
	}
	return n, err
}

func (c *conn) Close() error {
	c.release.Do(func() {
		c.l.open.Add(-1)
		<-c.l.slots
	})
	return c.Conn.Close()
}
