package appgate

import (
	"context"
	"slices"
	"strconv"

	"github.com/tokenwarden/tokenwarden/sidecar/provider/appgate/dn"
)

// Preview is what a revocation would hit, read from the controller's own
// device list (GET /on-boarded-devices, every device) and narrowed by the
// revocation's own selection rules (package dn).
type Preview struct {
	Devices []Device
	Meta    ListMeta
	// Caveats say where the list cannot tell exactly what the controller
	// would do, instead of guessing.
	Caveats []string
}

// PreviewRevocation selects the devices r would revoke, changing nothing.
func (c *Client) PreviewRevocation(ctx context.Context, r RevokeRequest) (*Preview, error) {
	all, err := c.ListDevices(ctx, ListQuery{})
	if err != nil {
		return nil, err
	}
	activeSince := c.now().Add(-dn.ActiveWindow)
	p := &Preview{Devices: []Device{}}
	for _, d := range all.Data {
		switch {
		case r.DistinguishedNameFilter != "":
			if !dn.Matches(d.DistinguishedName, r.DistinguishedNameFilter) {
				continue
			}
		case len(r.SpecificDistinguishedNames) > 0:
			if !slices.Contains(r.SpecificDistinguishedNames, d.DistinguishedName) {
				continue
			}
		default:
			if d.LastSeenAt == nil || d.LastSeenAt.Before(activeSince) {
				continue
			}
		}
		p.Devices = append(p.Devices, d)
	}
	n := strconv.Itoa(len(p.Devices))
	p.Meta = ListMeta{Range: "0-" + n + "/" + n, OrderBy: all.OrderBy, Descending: all.Descending, Queries: []string{}, FilterBy: []FilterBy{}, TotalCount: all.TotalCount}
	if r.DistinguishedNameFilter == "" && len(r.SpecificDistinguishedNames) == 0 {
		p.Caveats = append(p.Caveats, "An empty filter selects every device active in the last 24 hours; the preview reads that from each device's lastSeenAt, so a device that signs in between the preview and the revocation is hit too.")
	}
	if r.SiteID != "" {
		p.Caveats = append(p.Caveats, "The device list does not show which sites a device connected to, so the preview is not narrowed by siteId: the revocation may hit fewer devices.")
	}
	if r.TokenType != "" {
		p.Caveats = append(p.Caveats, "The device list does not show which tokens a device holds, so the preview is not narrowed by tokenType: the revocation may hit fewer devices.")
	}
	return p, nil
}
