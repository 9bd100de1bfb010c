package httpapi

import (
	"bytes"
	"net/http"
)

// capture passes a response through and keeps its status, its size and a
// copy of its body (up to limit bytes; 0 keeps none) for middleware that
// needs to see what was answered.
type capture struct {
	http.ResponseWriter
	status int
	bytes  int
	body   bytes.Buffer
	limit  int
	over   bool
}

func newCapture(w http.ResponseWriter, limit int) *capture {
	return &capture{ResponseWriter: w, limit: limit}
}

func (c *capture) WriteHeader(code int) {
	if c.status == 0 {
		c.status = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *capture) Write(b []byte) (int, error) {
	if c.status == 0 {
		c.status = http.StatusOK
	}
	if c.body.Len()+len(b) > c.limit {
		c.over = true
	} else {
		c.body.Write(b)
	}
	n, err := c.ResponseWriter.Write(b)
	c.bytes += n
	return n, err
}

func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *capture) code() int {
	if c.status == 0 {
		return http.StatusOK
	}
	return c.status
}
