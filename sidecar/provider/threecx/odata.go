package threecx

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
)

// defaultPageSize is the $top used per page when returnAll is on and the
// caller gave no top.
const defaultPageSize = 100

// ListOptions mirrors schemas/defs/odata.json.
type ListOptions struct {
	Top       *int         `json:"top"`
	Skip      *int         `json:"skip"`
	Search    string       `json:"search"`
	Filter    string       `json:"filter"`
	Count     bool         `json:"count"`
	OrderBy   propertyList `json:"orderBy"`
	Select    propertyList `json:"select"`
	Expand    propertyList `json:"expand"`
	ReturnAll bool         `json:"returnAll"`
	Limit     int          `json:"limit"`
}

// propertyList accepts "a desc, b" or ["a desc", "b"]: the first is what a
// person types into a form, the second what a program sends.
type propertyList []string

func (p *propertyList) UnmarshalJSON(b []byte) error {
	var items []string
	if err := json.Unmarshal(b, &items); err != nil {
		var joined string
		if err := json.Unmarshal(b, &joined); err != nil {
			return err
		}
		items = strings.Split(joined, ",")
	}
	*p = (*p)[:0]
	for _, it := range items {
		if it = strings.TrimSpace(it); it != "" {
			*p = append(*p, it)
		}
	}
	return nil
}

// ListMeta mirrors listMeta in schemas/defs/threecx.json.
type ListMeta struct {
	Count     *int64 `json:"count,omitempty"`
	Returned  int    `json:"returned"`
	Pages     int    `json:"pages"`
	Truncated bool   `json:"truncated"`
}

// query builds the OData options other than paging.
func (o ListOptions) query() url.Values {
	q := url.Values{}
	if o.Search != "" {
		q.Set("$search", searchPhrase(o.Search))
	}
	if o.Filter != "" {
		q.Set("$filter", o.Filter)
	}
	if o.Count {
		q.Set("$count", "true")
	}
	for key, list := range map[string]propertyList{"$orderby": o.OrderBy, "$select": o.Select, "$expand": o.Expand} {
		if len(list) > 0 {
			q.Set(key, strings.Join(list, ","))
		}
	}
	return q
}

// searchPhrase quotes a phrase with spaces, as OData $search needs to treat
// it as one phrase rather than several terms.
func searchPhrase(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, " \t") || (len(s) > 1 && strings.HasPrefix(s, `"`) && strings.HasSuffix(s, `"`)) {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"`
}

// encodeQuery writes OData options with "$" kept literal and spaces as %20:
// "+" for a space is form encoding, which not every OData server reads.
func encodeQuery(q url.Values) string {
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		for _, v := range q[k] {
			if b.Len() > 0 {
				b.WriteByte('&')
			}
			b.WriteString(k)
			b.WriteByte('=')
			b.WriteString(strings.ReplaceAll(url.QueryEscape(v), "+", "%20"))
		}
	}
	return b.String()
}

type collectionPage struct {
	Count *int64            `json:"@odata.count"`
	Value []json.RawMessage `json:"value"`
}

// list reads a collection: one request, or with ReturnAll every page until
// the PBX runs out or Limit is reached. Reaching Limit asks for one item
// more than needed, so Truncated says whether anything was really left.
func (c *Client) list(ctx context.Context, collection string, o ListOptions) (action.Result, error) {
	q := o.query()
	skip := 0
	if o.Skip != nil {
		skip = *o.Skip
	}
	if !o.ReturnAll {
		if o.Top != nil {
			q.Set("$top", strconv.Itoa(*o.Top))
		}
		if o.Skip != nil {
			q.Set("$skip", strconv.Itoa(skip))
		}
		var page collectionPage
		if _, err := c.do(ctx, http.MethodGet, "/"+collection, q, &page); err != nil {
			return action.Result{}, err
		}
		items := nonNil(page.Value)
		return action.Result{Data: items, Meta: ListMeta{Count: page.Count, Returned: len(items), Pages: 1}}, nil
	}

	pageSize := defaultPageSize
	if o.Top != nil && *o.Top > 0 {
		pageSize = *o.Top
	}
	limit := o.Limit
	items := []json.RawMessage{}
	meta := ListMeta{}
	for {
		want := pageSize
		if left := limit - len(items); left < want {
			want = left + 1
		}
		q.Set("$top", strconv.Itoa(want))
		q.Set("$skip", strconv.Itoa(skip))
		var page collectionPage
		if _, err := c.do(ctx, http.MethodGet, "/"+collection, q, &page); err != nil {
			if meta.Pages > 0 {
				if p, ok := err.(*action.Problem); ok {
					p.Partial = map[string]any{"pagesRead": meta.Pages, "itemsRead": len(items)}
					p.Detail += " (after " + strconv.Itoa(len(items)) + " items in " + strconv.Itoa(meta.Pages) + " pages were read; nothing was changed)"
				}
			}
			return action.Result{}, err
		}
		meta.Pages++
		if meta.Count == nil {
			meta.Count = page.Count
		}
		items = append(items, page.Value...)
		skip += len(page.Value)
		switch {
		case len(items) > limit:
			items, meta.Truncated = items[:limit], true
		case len(page.Value) < want, len(page.Value) > want:
			// Fewer than asked: the PBX has no more. More than asked: it
			// ignores $top and already sent everything.
		default:
			continue
		}
		break
	}
	meta.Returned = len(items)
	if !o.Count {
		meta.Count = nil
	}
	return action.Result{Data: items, Meta: meta}, nil
}

func nonNil(v []json.RawMessage) []json.RawMessage {
	if v == nil {
		return []json.RawMessage{}
	}
	return v
}
