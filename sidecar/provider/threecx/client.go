package threecx

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// maxBody bounds what the sidecar reads from one answer; a PBX page of a
// thousand tokens is well under it.
const maxBody = 32 << 20

// Client calls one PBX's XAPI as one service principal.
type Client struct {
	api     string // {baseUrl}/xapi/v1
	http    *http.Client
	holder  upstream.Holder
	timeout time.Duration // limits.requestTimeout: the longest a caller waits for a sign-in
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
	key := upstream.HolderKey{Provider: "threecx", Account: upstream.AccountDigest(base.String(), conn.ClientID, conn.ClientSecret.Reveal())}
	return &Client{
		api:     base.String() + "/xapi/v1",
		http:    httpClient,
		holder:  holders.Holder(key, signInFunc(cfg, httpClient, unit, now)),
		timeout: timeout,
	}
}

// Test signs in and makes the cheapest authenticated read.
func (c *Client) Test(ctx context.Context) error {
	_, err := c.do(ctx, http.MethodGet, "/MyTokens", url.Values{"$top": {"1"}, "$select": {"Id"}}, nil)
	return err
}

// do sends one XAPI request. A 401 means the PBX dropped our token (someone
// signed in elsewhere with the same client, or it expired early): sign in
// again once and retry once. Any other failure becomes a problem that keeps
// what the PBX said. out may be nil for answers without a body.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, out any) (int, error) {
	target := c.api + path
	if len(query) > 0 {
		target += "?" + encodeQuery(query)
	}
	var refused string
	for attempt := 0; ; attempt++ {
		token, err := c.token(ctx, refused)
		if err != nil {
			return 0, err
		}
		req, err := http.NewRequestWithContext(ctx, method, target, nil)
		if err != nil {
			return 0, action.NewProblem(action.KindInternal, "building the 3CX request: %v", err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Accept", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			return 0, transportProblem(path, err)
		}
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
		resp.Body.Close()
		if readErr != nil {
			return resp.StatusCode, transportProblem(path, readErr)
		}
		if resp.StatusCode == http.StatusUnauthorized && attempt == 0 {
			refused = token
			continue
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return resp.StatusCode, apiProblem(resp, body)
		}
		if len(body) > maxBody {
			return resp.StatusCode, action.NewProblem(action.KindUpstreamError, "3CX answered %s with more than %d MiB", path, maxBody>>20)
		}
		if out != nil {
			if err := json.Unmarshal(body, out); err != nil {
				return resp.StatusCode, action.NewProblem(action.KindUpstreamError,
					"3CX answered %s with HTTP %d but the body is not the expected JSON: %v", path, resp.StatusCode, err).
					WithUpstream(action.Upstream{Provider: "threecx", Status: resp.StatusCode, Message: describeBody(resp.Header.Get("Content-Type"), body)})
			}
		}
		return resp.StatusCode, nil
	}
}

// entityPath builds the OData key syntax the XAPI uses: /SecurityTokens(42).
func entityPath(collection string, id int32, operation string) string {
	return fmt.Sprintf("/%s(%d)/%s", collection, id, operation)
}
