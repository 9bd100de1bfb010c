package upstream

import (
	"context"
	"net/http"
	"time"
)

// withDeadline bounds one whole exchange, retries and reading the answer's
// body included, as http.Client.Timeout does: the request's context gets a
// deadline that is released once the body is read or closed.
type withDeadline struct {
	next    http.RoundTripper
	timeout time.Duration
}

func (d withDeadline) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(req.Context(), d.timeout)
	resp, err := d.next.RoundTrip(req.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &releasingBody{ReadCloser: resp.Body, release: cancel}
	return resp, nil
}
