package upstream

import (
	"context"
	"net/http"
	"time"
)

// Exchange describes one finished upstream HTTP exchange. It carries only
// ids, a method and a status: never a URL, header or body, which is where
// tokens and secrets travel.
type Exchange struct {
	Provider string // the provider whose action made the call ("" outside an action)
	SignIn   bool   // the request obtains credentials (token endpoint, login)
	Method   string
	Status   int   // 0 when no answer arrived
	Err      error // transport error, nil when an answer arrived
	Start    time.Time
	Duration time.Duration // until the answer's headers arrived
}

type ctxKey int

const (
	providerKey ctxKey = iota
	signInKey
)

// WithProvider names the provider on whose behalf calls under ctx are made.
// The registry sets it around every action, so providers need not.
func WithProvider(ctx context.Context, provider string) context.Context {
	return context.WithValue(ctx, providerKey, provider)
}

// ProviderFrom returns the provider set by WithProvider, or "".
func ProviderFrom(ctx context.Context) string {
	p, _ := ctx.Value(providerKey).(string)
	return p
}

// SigningIn marks calls under ctx as sign-ins, so sign-ins can be counted
// apart from the calls they enable. Providers wrap their token requests in it.
func SigningIn(ctx context.Context) context.Context {
	return context.WithValue(ctx, signInKey, true)
}

// IsSignIn reports whether ctx was marked by SigningIn.
func IsSignIn(ctx context.Context) bool {
	v, _ := ctx.Value(signInKey).(bool)
	return v
}

// observed reports every exchange through next to Observer.OnExchange.
type observed struct {
	next       http.RoundTripper
	onExchange func(context.Context, Exchange)
}

func (o observed) RoundTrip(req *http.Request) (*http.Response, error) {
	start := time.Now()
	resp, err := o.next.RoundTrip(req)
	ctx := req.Context()
	e := Exchange{
		Provider: ProviderFrom(ctx),
		SignIn:   IsSignIn(ctx),
		Method:   req.Method,
		Err:      err,
		Start:    start,
		Duration: time.Since(start),
	}
	if resp != nil {
		e.Status = resp.StatusCode
	}
	o.onExchange(ctx, e)
	return resp, err
}
