package threecxemu

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// query is a parsed set of OData system query options for one collection request.
type query struct {
	top, skip int
	hasTop    bool
	count     bool
	filter    *node
	search    [][]string // alternatives of terms: a record matches when all terms of one group match
	orderBy   []orderKey
	selected  []int // property indexes, nil for all
	expand    []string
}

type orderKey struct {
	prop int
	desc bool
}

// knownOptions are the system query options the vendor documents for these collections; any
// other $-option is rejected as OData servers do.
var knownOptions = map[string]bool{
	"$top": true, "$skip": true, "$count": true, "$filter": true, "$search": true,
	"$orderby": true, "$select": true, "$expand": true,
}

// parseQuery reads every option and reports the first bad one with the option as the target.
func parseQuery(et *entityType, raw string, collection bool) (*query, *odataError) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return nil, badRequest("$query", "The query string is malformed: "+err.Error())
	}
	q := &query{}
	for name := range values {
		if strings.HasPrefix(name, "$") && !knownOptions[name] {
			return nil, badRequest(name, "The query parameter '"+name+"' is not supported.")
		}
		if len(values[name]) > 1 && knownOptions[name] {
			return nil, badRequest(name, "The query option '"+name+"' was specified more than once.")
		}
	}
	get := func(name string) (string, bool) {
		v, ok := values[name]
		if !ok {
			return "", false
		}
		return v[0], true
	}
	if !collection {
		for _, name := range []string{"$top", "$skip", "$count", "$filter", "$search", "$orderby"} {
			if _, ok := values[name]; ok {
				return nil, badRequest(name, "The query option '"+name+"' is not allowed on a single entity.")
			}
		}
	}
	if v, ok := get("$top"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, badRequest("$top", "Invalid value '"+v+"' for $top query option found. The $top query option requires a non-negative integer value.")
		}
		q.top, q.hasTop = n, true
	}
	if v, ok := get("$skip"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return nil, badRequest("$skip", "Invalid value '"+v+"' for $skip query option found. The $skip query option requires a non-negative integer value.")
		}
		q.skip = n
	}
	if v, ok := get("$count"); ok {
		switch v {
		case "true":
			q.count = true
		case "false":
		default:
			return nil, badRequest("$count", "'"+v+"' is not a valid count option; use true or false.")
		}
	}
	if v, ok := get("$filter"); ok {
		n, err := compileFilter(et, v)
		if err != nil {
			return nil, badRequest("$filter", "The $filter expression is invalid: "+err.Error()+".")
		}
		q.filter = n
	}
	if v, ok := get("$search"); ok {
		terms, err := parseSearch(v)
		if err != nil {
			return nil, badRequest("$search", "The $search expression is invalid: "+err.Error()+".")
		}
		q.search = terms
	}
	if v, ok := get("$orderby"); ok {
		for _, item := range strings.Split(v, ",") {
			fields := strings.Fields(item)
			if len(fields) == 0 || len(fields) > 2 {
				return nil, badRequest("$orderby", "The $orderby item '"+strings.TrimSpace(item)+"' is invalid; use a property name optionally followed by asc or desc.")
			}
			i, ok := et.index[fields[0]]
			if !ok {
				return nil, badRequest("$orderby", "Could not find a property named '"+fields[0]+"' on type 'Pbx."+et.name+"'.")
			}
			if et.props[i].kind == kindStrings {
				return nil, badRequest("$orderby", "The property '"+fields[0]+"' is a collection and cannot be ordered by.")
			}
			key := orderKey{prop: i}
			if len(fields) == 2 {
				switch fields[1] {
				case "asc":
				case "desc":
					key.desc = true
				default:
					return nil, badRequest("$orderby", "'"+fields[1]+"' is not a sort direction; use asc or desc.")
				}
			}
			q.orderBy = append(q.orderBy, key)
		}
	}
	if v, ok := get("$select"); ok {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if name == "*" {
				q.selected = nil
				break
			}
			i, ok := et.index[name]
			if !ok {
				return nil, badRequest("$select", "Could not find a property named '"+name+"' on type 'Pbx."+et.name+"'.")
			}
			if !slices.Contains(q.selected, i) {
				q.selected = append(q.selected, i)
			}
		}
		slices.Sort(q.selected)
	}
	if v, ok := get("$expand"); ok {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			if !et.navigation[name] {
				return nil, badRequest("$expand", "Could not find a navigation property named '"+name+"' on type 'Pbx."+et.name+"'.")
			}
			if !slices.Contains(q.expand, name) {
				q.expand = append(q.expand, name)
			}
		}
	}
	return q, nil
}

// parseSearch splits a $search expression into groups of terms joined by OR; terms inside a
// group are ANDed (the OData default for juxtaposition). A double-quoted phrase is one term.
func parseSearch(s string) ([][]string, error) {
	var groups [][]string
	var cur []string
	for i := 0; i < len(s); {
		switch c := s[i]; {
		case c == ' ':
			i++
		case c == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 {
				return nil, errUnterminatedPhrase
			}
			if phrase := s[i+1 : i+1+j]; phrase != "" {
				cur = append(cur, strings.ToLower(phrase))
			}
			i += j + 2
		default:
			j := strings.IndexByte(s[i:], ' ')
			if j < 0 {
				j = len(s) - i
			}
			word := s[i : i+j]
			i += j
			switch word {
			case "OR":
				if len(cur) == 0 {
					return nil, errDanglingOr
				}
				groups, cur = append(groups, cur), nil
			case "AND":
			default:
				cur = append(cur, strings.ToLower(word))
			}
		}
	}
	if len(cur) == 0 {
		if len(groups) > 0 {
			return nil, errDanglingOr
		}
		return nil, errEmptySearch
	}
	return append(groups, cur), nil
}

type searchError string

func (e searchError) Error() string { return string(e) }

const (
	errUnterminatedPhrase = searchError(`a quoted phrase is missing its closing "`)
	errDanglingOr         = searchError("OR needs a term on each side")
	errEmptySearch        = searchError("no search term")
)

// matchesSearch reports whether some group has every term in one of the record's string
// properties, compared case-insensitively.
func matchesSearch(et *entityType, rec *record, groups [][]string) bool {
	for _, terms := range groups {
		all := true
		for _, term := range terms {
			if !recordContains(et, rec, term) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

func recordContains(et *entityType, rec *record, term string) bool {
	for i, p := range et.props {
		v := rec.vals[i]
		if v.null {
			continue
		}
		switch p.kind {
		case kindString:
			if containsFold(v.s, term) {
				return true
			}
		case kindStrings:
			for _, s := range v.ss {
				if containsFold(s, term) {
					return true
				}
			}
		}
	}
	return false
}

func containsFold(s, lowerTerm string) bool {
	return strings.Contains(strings.ToLower(s), lowerTerm)
}

// apply filters, searches, orders and pages the records. It returns the page and the number of
// records that matched before paging (for @odata.count).
func (q *query) apply(et *entityType, all []*record) ([]*record, int) {
	if q.filter == nil && q.search == nil && len(q.orderBy) == 0 {
		// Nothing to match or sort: the page is a window on the list, so
		// reading every page of a large collection stays linear.
		return window(all, q), len(all)
	}
	matched := make([]*record, 0, len(all))
	for _, rec := range all {
		if q.filter != nil && !q.filter.eval(rec).b {
			continue
		}
		if q.search != nil && !matchesSearch(et, rec, q.search) {
			continue
		}
		matched = append(matched, rec)
	}
	if len(q.orderBy) > 0 {
		slices.SortStableFunc(matched, func(a, b *record) int {
			for _, k := range q.orderBy {
				c := compareForOrder(et.props[k.prop].kind, a.vals[k.prop], b.vals[k.prop])
				if k.desc {
					c = -c
				}
				if c != 0 {
					return c
				}
			}
			return 0
		})
	}
	return window(matched, q), len(matched)
}

// window applies $skip and $top.
func window(page []*record, q *query) []*record {
	if q.skip >= len(page) {
		return nil
	}
	page = page[q.skip:]
	if q.hasTop && q.top < len(page) {
		page = page[:q.top]
	}
	return page
}

// compareForOrder sorts nulls first in ascending order, as the PBX's database does.
func compareForOrder(k kind, a, b value) int {
	switch {
	case a.null && b.null:
		return 0
	case a.null:
		return -1
	case b.null:
		return 1
	}
	return compareValues(k, a, b)
}

// appendEntity writes one entity honouring $select and $expand.
func (q *query) appendEntity(b []byte, rec *record) []byte {
	if q.selected == nil && len(q.expand) == 0 {
		return append(b, rec.full...)
	}
	b = append(b, '{')
	first := true
	sep := func() {
		if !first {
			b = append(b, ',')
		}
		first = false
	}
	if q.selected == nil {
		sep()
		b = append(b, rec.full[1:len(rec.full)-1]...)
	} else {
		for _, i := range q.selected {
			sep()
			b = append(b, rec.enc[i]...)
		}
	}
	for _, nav := range q.expand {
		sep()
		b = append(b, rec.expanded[nav]...)
	}
	return append(b, '}')
}

// contextSuffix is the part of @odata.context after the entity set name: the selected
// properties in parentheses, as OData writes them.
func (q *query) contextSuffix(et *entityType) string {
	if q.selected == nil && len(q.expand) == 0 {
		return ""
	}
	var names []string
	if q.selected == nil {
		names = append(names, "*")
	}
	for _, i := range q.selected {
		names = append(names, et.props[i].name)
	}
	for _, nav := range q.expand {
		names = append(names, nav+"()")
	}
	return "(" + strings.Join(names, ",") + ")"
}
