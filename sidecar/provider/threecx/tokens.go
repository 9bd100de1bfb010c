package threecx

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// tokenState is one refresh token as a collection lists it: the raw entity
// for the answer, and Revoked read out for deciding.
type tokenState struct {
	raw     json.RawMessage
	Revoked *string `json:"Revoked"`
	Reason  *string `json:"ReasonRevoked"`
}

// tokenQuery is the read behind dry runs and verification: the XAPI has no
// GET of a single refresh token, so the collection is filtered by key.
func tokenQuery(collection string, id int32) (string, url.Values) {
	q := url.Values{"$filter": {"Id eq " + strconv.FormatInt(int64(id), 10)}, "$top": {"1"}}
	return "/" + collection, q
}

// describeTokenQuery names the read in answers, as the PBX receives it.
func describeTokenQuery(collection string, id int32) string {
	path, q := tokenQuery(collection, id)
	return "GET /xapi/v1" + path + "?" + encodeQuery(q)
}

// token reads one refresh token of collection (SecurityTokens or MyTokens),
// upstream-not-found when the PBX lists none with that id.
func (c *Client) token(ctx context.Context, collection, resource string, id int32) (*tokenState, error) {
	path, q := tokenQuery(collection, id)
	var page collectionPage
	if _, err := c.do(ctx, http.MethodGet, path, q, &page); err != nil {
		return nil, err
	}
	if len(page.Value) == 0 {
		return nil, action.NewProblem(action.KindUpstreamNotFound, "3CX lists no %s with id %d in %s", resource, id, collection).
			WithUpstream(action.Upstream{Provider: "threecx", Status: http.StatusOK, Message: fmt.Sprintf("%s?$filter=Id eq %d is empty", collection, id)})
	}
	st := &tokenState{raw: page.Value[0]}
	if err := json.Unmarshal(st.raw, st); err != nil {
		return nil, action.NewProblem(action.KindUpstreamError, "3CX listed %s %d in a shape that is not a RefreshToken: %v", resource, id, err)
	}
	return st, nil
}

// principal reads one service principal (GET /ServicePrincipals({Id})).
func (c *Client) principal(ctx context.Context, id int32) (json.RawMessage, error) {
	var out map[string]json.RawMessage
	if _, err := c.do(ctx, http.MethodGet, fmt.Sprintf("/ServicePrincipals(%d)", id), nil, &out); err != nil {
		return nil, err
	}
	delete(out, "@odata.context")
	raw, _ := json.Marshal(out)
	return raw, nil
}
