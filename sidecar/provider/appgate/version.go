package appgate

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

const (
	// MinVersion is the first peer API version with
	// POST /on-boarded-devices/revoke-tokens.
	MinVersion = 20
	// NewestVersion is the peer API version this client is written against.
	NewestVersion = 23
	// probeVersion is deliberately older than any controller accepts, so the
	// controller answers 406 with the range it supports; Appgate's own
	// tools (sdpctl, the Terraform provider) negotiate the same way.
	probeVersion = 5
)

func mediaType(v int) string { return fmt.Sprintf("application/vnd.appgate.peer-v%d+json", v) }

// supportedRange is what a controller's 406 answer says it accepts.
type supportedRange struct {
	Min int `json:"minSupportedVersion"`
	Max int `json:"maxSupportedVersion"`
}

// choose picks the newest version both sides speak. A controller whose
// oldest version is newer than ours gets its oldest: the calls this client
// makes have not changed shape since v20.
func (r supportedRange) choose() (int, error) {
	v := max(min(r.Max, NewestVersion), r.Min)
	if v < MinVersion {
		return 0, fmt.Errorf("the controller supports peer API v%d to v%d; revoking device tokens needs v%d or later (upgrade the controller)", r.Min, r.Max, MinVersion)
	}
	return v, nil
}

// versionKey is where the range a controller supports is kept in the
// memo (upstream.Memo): every connection to the controller, and every
// sidecar sharing the memo, reads the same entry.
func (c *Client) versionKey() string { return "appgate/peer-versions/" + c.conn.BaseURL }

// version returns the peer version to send: the pinned one, or the one
// negotiated with this controller (negotiating now if nobody has yet). A
// negotiated range is kept until the controller refuses it with a 406.
func (c *Client) version(ctx context.Context) (int, error) {
	if c.conn.APIVersion != 0 {
		return c.conn.APIVersion, nil
	}
	r, ok := c.remembered(ctx)
	if !ok {
		ch := c.probing.DoChan("probe", func() (any, error) {
			if r, ok := c.remembered(ctx); ok {
				return r, nil
			}
			r, err := c.probe(context.WithoutCancel(ctx))
			if err != nil {
				return nil, err
			}
			b, _ := json.Marshal(r) // two ints: cannot fail
			c.memo.Put(ctx, c.versionKey(), b, 0)
			c.log.Info("appgate peer API version negotiated", "minSupported", r.Min, "maxSupported", r.Max)
			return r, nil
		})
		select {
		case <-ctx.Done():
			return 0, c.transportProblem(ctx.Err())
		case res := <-ch:
			if res.Err != nil {
				return 0, res.Err
			}
			r = res.Val.(supportedRange)
		}
	}
	v, err := r.choose()
	if err != nil {
		return 0, action.NewProblem(action.KindUpstreamVersion, "%s", err.Error()).
			WithUpstream(action.Upstream{Provider: ProviderID, Status: http.StatusNotAcceptable})
	}
	return v, nil
}

func (c *Client) remembered(ctx context.Context) (supportedRange, bool) {
	var r supportedRange
	b, ok := c.memo.Get(ctx, c.versionKey())
	if !ok || json.Unmarshal(b, &r) != nil || r.Max == 0 {
		return supportedRange{}, false
	}
	return r, true
}

// probe asks the controller which versions it supports: a login request
// without credentials and with a version no controller accepts, which the
// controller refuses with 406 before it looks at the body.
func (c *Client) probe(ctx context.Context) (supportedRange, error) {
	// The probe carries no credentials and changes nothing.
	ctx = upstream.WithRepeat(ctx, upstream.RepeatSafe)
	status, raw, err := c.send(ctx, http.MethodPost, "/login", nil, map[string]string{"providerName": c.conn.ProviderName, "deviceId": c.conn.DeviceID}, probeVersion, true)
	if err != nil {
		return supportedRange{}, c.exchangeProblem(err)
	}
	var r supportedRange
	if status != http.StatusNotAcceptable || json.Unmarshal(raw, &r) != nil || r.Max == 0 {
		if status >= 500 {
			return supportedRange{}, upstreamProblem(status, raw, "asking which API versions it supports")
		}
		return supportedRange{}, action.NewProblem(action.KindUpstreamVersion,
			"%s answered the version probe with HTTP %d instead of 406 and its supported versions; is it an Appgate SDP controller's admin API? Set apiVersion to skip negotiation.",
			c.conn.BaseURL, status).WithUpstream(action.Upstream{Provider: ProviderID, Status: status})
	}
	return r, nil
}
