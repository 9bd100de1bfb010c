package appgate

import (
	"context"
)

type listInput struct {
	Query      string            `json:"query"`
	Range      string            `json:"range"`
	OrderBy    string            `json:"orderBy"`
	Descending *bool             `json:"descending"`
	FilterBy   map[string]string `json:"filterBy"`
}

func listOnboardedDevices(ctx context.Context, c *Client, in listInput) (any, error) {
	list, err := c.ListDevices(ctx, ListQuery(in))
	if err != nil {
		return nil, err
	}
	return list.result(), nil
}
