package threecx

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// Client calls one PBX's XAPI as one service principal.
type Client struct {
	api string // {baseUrl}/xapi/v1
	x   *upstream.Exchanger
	// holder is x's sign-in, which HandOver points at a successor's.
	holder *upstream.HandOver
}

// NewClient builds a client; it signs in on first use, through env.SignIns,
// so every session (and, with a shared holder, every sidecar) signing in as
// the same client shares the PBX's one token.
func NewClient(base *url.URL, conn Connection, httpClient *http.Client, env action.Env) *Client {
	cfg := clientcredentials.Config{
		ClientID:     conn.ClientID,
		ClientSecret: conn.ClientSecret.Reveal(),
		TokenURL:     base.String() + "/connect/token",
		// 3CX reads the credentials from the form body, not a Basic header.
		AuthStyle: oauth2.AuthStyleInParams,
	}
	unit := conn.TokenLifetimeUnit
	if unit == "" {
		unit = "auto"
	}
	now, holders, timeout := env.Now, env.SignIns, upstream.DefaultConfig().RequestTimeout
	if env.HTTP != nil {
		timeout = env.HTTP.RequestTimeout()
	}
	if now == nil {
		now = time.Now
	}
	if holders == nil {
		holders = upstream.NewLocalHolders(now, timeout)
	}
	secrets := upstream.NewSecrets(conn.ClientSecret.Reveal())
	key := upstream.HolderKey{Provider: "threecx", Account: upstream.AccountDigest(base.String(), conn.ClientID, conn.ClientSecret.Reveal())}
	holder := upstream.NewHandOver(holders.Holder(key, signInFunc(cfg, httpClient, unit, now, secrets)))
	return &Client{
		api: base.String() + "/xapi/v1",
		x: &upstream.Exchanger{
			HTTP:    httpClient,
			Holder:  holder,
			Timeout: timeout,
			Secrets: secrets,
		},
		holder: holder,
	}
}

// HandOver implements action.HandsOver: the client's API key was rotated
// and next signs in with the new one. Calls still running on c sign in
// through next from now on, since the PBX refuses the old key.
func (c *Client) HandOver(next action.Session) {
	if n, ok := next.(*Client); ok && n != c {
		c.holder.To(n.holder)
	}
}

// Test signs in and makes the cheapest authenticated read.
func (c *Client) Test(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodGet, "/MyTokens", url.Values{"$top": {"1"}, "$select": {"Id"}}, nil)
	return err
}

// do sends one XAPI request through the shared exchange (a 401 means the
// PBX dropped our token: someone signed in elsewhere with the same client,
// or it expired early; the exchange signs in again once and retries once).
// Any other failure becomes a problem that keeps what the PBX said. out may
// be nil for answers without a body. The caller marks the request's
// repeatability (upstream.WithRepeat).
func (c *Client) do(ctx context.Context, method, path string, query url.Values, out any) (int, error) {
	target := c.api + path
	if len(query) > 0 {
		target += "?" + encodeQuery(query)
	}
	ans, err := c.x.Do(ctx, upstream.Call{Method: method, URL: target, Header: http.Header{"Accept": {"application/json"}}, Mutating: method != http.MethodGet})
	if err != nil {
		return 0, exchangeProblem(path, err)
	}
	if !ans.OK() {
		return ans.Status, apiProblem(ans.Status, ans.Header, ans.Body)
	}
	if out != nil {
		if err := json.Unmarshal(ans.Body, out); err != nil {
			return ans.Status, action.NewProblem(action.KindUpstreamError,
				"3CX answered %s with HTTP %d but the body is not the expected JSON: %v", path, ans.Status, err).
				WithUpstream(action.Upstream{Provider: "threecx", Status: ans.Status, Message: describeBody(ans.Header.Get("Content-Type"), []byte(ans.Redact(string(ans.Body))))})
		}
	}
	return ans.Status, nil
}

// entityPath builds the OData key syntax the XAPI uses: /SecurityTokens(42).
func entityPath(collection string, id int32, operation string) string {
	return fmt.Sprintf("/%s(%d)/%s", collection, id, operation)
}
