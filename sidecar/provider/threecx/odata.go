package threecx

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
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
	// Problem is filled by action.Stream, with Truncated, when the list
	// broke off after the answer had begun.
	Problem json.RawMessage `json:"problem,omitempty"`
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
// Items go to the caller as each page arrives (action.Stream), as the PBX
// wrote them: the sidecar holds one item at a time, however long the list.
func (c *Client) list(_ context.Context, collection string, o ListOptions) *action.Stream {
	return &action.Stream{Each: func(ctx context.Context, sink *action.Sink) (any, error) {
		meta := ListMeta{}
		err := c.pages(ctx, collection, o, sink, &meta)
		meta.Returned = sink.Sent()
		if !o.Count {
			meta.Count = nil
		}
		return meta, err
	}}
}

// pages sends the pages list asks for to sink, counting them in meta.
func (c *Client) pages(ctx context.Context, collection string, o ListOptions, sink *action.Sink, meta *ListMeta) error {
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
		_, err := c.readPage(ctx, collection, q, sink, -1, meta)
		return err
	}
	pageSize := defaultPageSize
	if o.Top != nil && *o.Top > 0 {
		pageSize = *o.Top
	}
	for {
		left := o.Limit - sink.Sent()
		want := pageSize
		if left < want {
			want = left + 1
		}
		q.Set("$top", strconv.Itoa(want))
		q.Set("$skip", strconv.Itoa(skip))
		n, err := c.readPage(ctx, collection, q, sink, left, meta)
		if err != nil {
			return err
		}
		skip += n
		switch {
		case n > left:
			meta.Truncated = true
		case n < want, n > want:
			// Fewer than asked: the PBX has no more. More than asked: it
			// ignores $top and already sent everything.
		default:
			continue
		}
		return nil
	}
}

// pageReads bounds the requests for one page whose answer breaks off
// mid-body (the connection died): the upstream retry layer cannot read a
// streamed answer again, so the page is asked for again here.
const pageReads = 3

// readPage reads one page and sends at most max of its items (all for -1);
// n counts the page's items, one more than max when it had more. A page
// whose answer breaks off is asked for again, its items already sent
// skipped, so the caller gets each item once.
func (c *Client) readPage(ctx context.Context, collection string, q url.Values, sink *action.Sink, max int, meta *ListMeta) (n int, err error) {
	delivered := 0
	for attempt := 1; ; attempt++ {
		n, err = c.page(ctx, collection, q, sink, max, &delivered, meta)
		var broken *brokenPage
		if !errors.As(err, &broken) {
			return n, err
		}
		if attempt == pageReads || ctx.Err() != nil {
			return n, broken.problem
		}
	}
}

// brokenPage is a page whose answer ended before its end: the connection
// died or the body stopped mid-document. problem names it, should asking
// again not help.
type brokenPage struct{ problem error }

func (b *brokenPage) Error() string { return b.problem.Error() }

func brokeOff(err error) bool {
	var transport *upstream.TransportError
	return errors.As(err, &transport) || errors.Is(err, io.ErrUnexpectedEOF)
}

// page reads one page; see readPage. Its first *delivered items were sent
// by an earlier read and are skipped; it counts those it sends. The body is
// read as it arrives: one item is decoded at a time, checked to be JSON
// and sent as it came.
func (c *Client) page(ctx context.Context, collection string, q url.Values, sink *action.Sink, max int, delivered *int, meta *ListMeta) (n int, err error) {
	path := "/" + collection
	ans, err := c.x.Open(ctx, upstream.Call{Method: http.MethodGet, URL: c.api + path + "?" + encodeQuery(q), Header: http.Header{"Accept": {"application/json"}}})
	if err != nil {
		return 0, exchangeProblem(path, err)
	}
	if !ans.OK() {
		return 0, apiProblem(ans.Status, ans.Header, ans.Body)
	}
	defer ans.Stream.Close()
	meta.Pages++
	dec := json.NewDecoder(ans.Stream)
	dec.UseNumber()
	var item json.RawMessage // reused: Sink.Item copies it out
	err = readCollection(dec, func(count *int64) {
		if meta.Count == nil {
			meta.Count = count
		}
	}, func() (bool, error) {
		n++
		if max >= 0 && n > max {
			return false, nil // one more than wanted: enough to know there is more
		}
		if err := dec.Decode(&item); err != nil {
			return false, err
		}
		if n <= *delivered {
			return true, nil
		}
		*delivered = n
		return true, sink.Item(item)
	})
	if err != nil {
		if brokeOff(err) {
			return n, &brokenPage{problem: pageProblem(path, ans, err)}
		}
		return n, pageProblem(path, ans, err)
	}
	return n, sink.Flush()
}

// readCollection walks an OData collection object, {"@odata.count": n,
// "value": [...]}, in the order the PBX wrote its members: count gets the
// count, next is called at each item of value to decode it (false stops
// the walk early). Other members are skipped.
func readCollection(dec *json.Decoder, count func(*int64), next func() (bool, error)) error {
	if err := expectDelim(dec, '{'); err != nil {
		return err
	}
	for dec.More() {
		key, err := dec.Token()
		if err != nil {
			return err
		}
		switch key {
		case "@odata.count":
			var n *int64
			if err := dec.Decode(&n); err != nil {
				return err
			}
			count(n)
		case "value":
			if err := expectDelim(dec, '['); err != nil {
				return err
			}
			for dec.More() {
				more, err := next()
				if err != nil || !more {
					return err
				}
			}
			if err := expectDelim(dec, ']'); err != nil {
				return err
			}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return err
			}
		}
	}
	return expectDelim(dec, '}')
}

func expectDelim(dec *json.Decoder, want json.Delim) error {
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	if tok != want {
		return fmt.Errorf("expected %q, found %v", want, tok)
	}
	return nil
}

// pageProblem names a page whose body broke off or is not a collection.
// A sink error (the caller went away) goes back as it is.
func pageProblem(path string, ans *upstream.Answer, err error) error {
	var transport *upstream.TransportError
	var large *upstream.TooLargeError
	switch {
	case errors.As(err, &large), errors.As(err, &transport) && upstream.Classify(err) != upstream.FailUnreachable:
		return exchangeProblem(path, err)
	case errors.As(err, &transport), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return action.NewProblem(action.KindUpstreamError, "3CX's answer to %s (HTTP %d) broke off before its end: %v", path, ans.Status, upstream.Cause(err)).
			WithUpstream(action.Upstream{Provider: "threecx", Status: ans.Status})
	}
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &syntax) || errors.As(err, &typeErr) || strings.HasPrefix(err.Error(), "expected ") {
		return action.NewProblem(action.KindUpstreamError,
			"3CX answered %s with HTTP %d but the body is not the expected JSON: %s", path, ans.Status, ans.Redact(err.Error())).
			WithUpstream(action.Upstream{Provider: "threecx", Status: ans.Status})
	}
	return err
}
