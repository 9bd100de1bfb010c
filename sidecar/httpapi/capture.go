package httpapi

import (
	"bytes"
	"net/http"
)

// capture passes a response through and keeps a copy of its status and body
// (up to limit bytes) for middleware that needs to see what was answered.
type capture struct {
	http.ResponseWriter
	status int
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
	return c.ResponseWriter.Write(b)
}

func (c *capture) Unwrap() http.ResponseWriter { return c.ResponseWriter }

func (c *capture) code() int {
	if c.status == 0 {
		return http.StatusOK
	}
	return c.status
}
