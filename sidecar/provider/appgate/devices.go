package appgate

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// Device is one registered (on-boarded) user-and-device combination, in the
// controller's own field names.
type Device struct {
	DistinguishedName string     `json:"distinguishedName"`
	DeviceID          string     `json:"deviceId,omitempty"`
	Username          string     `json:"username,omitempty"`
	ProviderName      string     `json:"providerName,omitempty"`
	DeviceType        string     `json:"device_type,omitempty"`
	Hostname          string     `json:"hostname,omitempty"`
	OnBoardedAt       *time.Time `json:"onBoardedAt,omitempty"`
	LastSeenAt        *time.Time `json:"lastSeenAt"`
}

// FilterBy is one filter the controller applied to a list.
type FilterBy struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// ListMeta is the controller's list envelope without its data.
type ListMeta struct {
	Range      string     `json:"range"`
	OrderBy    string     `json:"orderBy,omitempty"`
	Descending bool       `json:"descending"`
	Queries    []string   `json:"queries"`
	TotalCount int        `json:"totalCount"`
	FilterBy   []FilterBy `json:"filterBy"`
}

// DeviceList is the controller's list envelope around devices.
type DeviceList struct {
	ListMeta
	Data []Device `json:"data"`
}

// result splits the envelope into the action result: data is the devices,
// meta the rest of what the controller said about the list.
func (l *DeviceList) result() action.Result {
	meta := l.ListMeta
	if meta.Queries == nil {
		meta.Queries = []string{}
	}
	if meta.FilterBy == nil {
		meta.FilterBy = []FilterBy{}
	}
	data := l.Data
	if data == nil {
		data = []Device{}
	}
	return action.Result{Data: data, Meta: meta}
}

// ListQuery narrows GET /on-boarded-devices.
type ListQuery struct {
	Query      string
	Range      string
	OrderBy    string
	Descending *bool
	// FilterBy maps a device field to a value it must include. The spec
	// sends it form-exploded: each filter is its own query parameter.
	FilterBy map[string]string
}

func (q ListQuery) values() url.Values {
	v := url.Values{}
	for name, value := range q.FilterBy {
		v.Set(name, value)
	}
	if q.Query != "" {
		v.Set("query", q.Query)
	}
	if q.Range != "" {
		v.Set("range", q.Range)
	}
	if q.OrderBy != "" {
		v.Set("orderBy", q.OrderBy)
	}
	if q.Descending != nil {
		v.Set("descending", strconv.FormatBool(*q.Descending))
	}
	return v
}

// ListDevices lists registered devices.
func (c *Client) ListDevices(ctx context.Context, q ListQuery) (*DeviceList, error) {
	var out DeviceList
	if err := c.do(ctx, http.MethodGet, "/on-boarded-devices", q.values(), nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RevokeRequest is the body of POST /on-boarded-devices/revoke-tokens, in
// the spec's field names. DistinguishedNameFilter is always sent: the
// controller reads "" as "every device active in the last 24 hours".
type RevokeRequest struct {
	DistinguishedNameFilter    string   `json:"distinguishedNameFilter"`
	SpecificDistinguishedNames []string `json:"specificDistinguishedNames,omitempty"`
	SiteID                     string   `json:"siteId,omitempty"`
	TokenType                  string   `json:"tokenType,omitempty"`
	RevocationReason           string   `json:"revocationReason,omitempty"`
	DelayMinutes               *int     `json:"delayMinutes,omitempty"`
	DevicesPerSecond           *float64 `json:"devicesPerSecond,omitempty"`
}

// RevokeTokens revokes device tokens and returns the devices affected.
func (c *Client) RevokeTokens(ctx context.Context, r RevokeRequest) (*DeviceList, error) {
	var out DeviceList
	if err := c.do(ctx, http.MethodPost, "/on-boarded-devices/revoke-tokens", nil, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
