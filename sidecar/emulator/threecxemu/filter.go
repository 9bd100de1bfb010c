package threecxemu

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A compiled $filter expression. Each node knows its static type, so type errors surface as a
// 400 when the query is parsed, as the vendor's OData layer does, not as silent mismatches.
type node struct {
	kind     kind
	nullable bool      // a property that may be null, or the null literal
	isNull   bool      // the null literal itself
	isBool   bool      // a predicate
	enum     *enumType // an enum-typed property
	literal  *value    // a constant, known at parse time
	eval     func(*record) value
}

type token struct {
	text string
	pos  int
	kind tokKind
}

type tokKind uint8

const (
	tokIdent tokKind = iota
	tokString
	tokNumber
	tokDateTime
	tokOpen
	tokClose
	tokComma
	tokEnd
)

func tokenize(s string) ([]token, error) {
	var toks []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(':
			toks = append(toks, token{"(", i, tokOpen})
			i++
		case c == ')':
			toks = append(toks, token{")", i, tokClose})
			i++
		case c == ',':
			toks = append(toks, token{",", i, tokComma})
			i++
		case c == '\'':
			var b strings.Builder
			j := i + 1
			for {
				if j >= len(s) {
					return nil, fmt.Errorf("unterminated string literal at position %d", i)
				}
				if s[j] == '\'' {
					if j+1 < len(s) && s[j+1] == '\'' {
						b.WriteByte('\'')
						j += 2
						continue
					}
					break
				}
				b.WriteByte(s[j])
				j++
			}
			toks = append(toks, token{b.String(), i, tokString})
			i = j + 1
		case c == '-' || (c >= '0' && c <= '9'):
			j := i + 1
			for j < len(s) && strings.IndexByte("0123456789.-:TZ+", s[j]) >= 0 {
				j++
			}
			lit := s[i:j]
			k := tokNumber
			if strings.ContainsAny(lit[1:], "-:T") {
				k = tokDateTime
			}
			toks = append(toks, token{lit, i, k})
			i = j
		case isIdentByte(c):
			j := i
			for j < len(s) && (isIdentByte(s[j]) || (s[j] >= '0' && s[j] <= '9')) {
				j++
			}
			toks = append(toks, token{s[i:j], i, tokIdent})
			i = j
		default:
			return nil, fmt.Errorf("unexpected character %q at position %d", c, i)
		}
	}
	return append(toks, token{"", len(s), tokEnd}), nil
}

func isIdentByte(c byte) bool {
	return c == '_' || c == '.' || c == '/' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

type filterParser struct {
	et   *entityType
	toks []token
	pos  int
}

// compileFilter parses an OData $filter expression over et's properties. Supported: eq ne lt gt
// le ge, and or not, parentheses, contains startswith endswith tolower toupper, and string,
// integer, boolean, null and DateTimeOffset literals.
func compileFilter(et *entityType, expr string) (*node, error) {
	toks, err := tokenize(expr)
	if err != nil {
		return nil, err
	}
	p := &filterParser{et: et, toks: toks}
	n, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tokEnd {
		return nil, fmt.Errorf("unexpected %q at position %d", t.text, t.pos)
	}
	if !n.isBool {
		return nil, fmt.Errorf("the expression is not a condition (use eq, ne, lt, gt, le, ge or a boolean function)")
	}
	return n, nil
}

func (p *filterParser) peek() token { return p.toks[p.pos] }
func (p *filterParser) next() token { t := p.toks[p.pos]; p.pos++; return t }

func (p *filterParser) keyword(word string) bool {
	t := p.peek()
	if t.kind == tokIdent && t.text == word {
		p.pos++
		return true
	}
	return false
}

func (p *filterParser) or() (*node, error) {
	return p.binary("or", p.and, func(a, b bool) bool { return a || b })
}

func (p *filterParser) and() (*node, error) {
	return p.binary("and", p.unary, func(a, b bool) bool { return a && b })
}

// binary parses operand (op operand)* left-associatively.
func (p *filterParser) binary(op string, operand func() (*node, error), combine func(a, b bool) bool) (*node, error) {
	left, err := operand()
	if err != nil {
		return nil, err
	}
	for p.keyword(op) {
		right, err := operand()
		if err != nil {
			return nil, err
		}
		if err := needBool(op, left, right); err != nil {
			return nil, err
		}
		l, r := left.eval, right.eval
		left = &node{isBool: true, kind: kindBool, eval: func(rec *record) value {
			return boolean(combine(l(rec).b, r(rec).b))
		}}
	}
	return left, nil
}

func (p *filterParser) unary() (*node, error) {
	if p.keyword("not") {
		inner, err := p.unary()
		if err != nil {
			return nil, err
		}
		if err := needBool("not", inner); err != nil {
			return nil, err
		}
		f := inner.eval
		return &node{isBool: true, kind: kindBool, eval: func(rec *record) value { return boolean(!f(rec).b) }}, nil
	}
	return p.comparison()
}

var comparators = map[string]func(c int) bool{
	"eq": func(c int) bool { return c == 0 },
	"ne": func(c int) bool { return c != 0 },
	"lt": func(c int) bool { return c < 0 },
	"le": func(c int) bool { return c <= 0 },
	"gt": func(c int) bool { return c > 0 },
	"ge": func(c int) bool { return c >= 0 },
}

func (p *filterParser) comparison() (*node, error) {
	left, err := p.primary()
	if err != nil {
		return nil, err
	}
	t := p.peek()
	test, ok := comparators[t.text]
	if t.kind != tokIdent || !ok {
		return left, nil
	}
	p.pos++
	right, err := p.primary()
	if err != nil {
		return nil, err
	}
	op := t.text
	if left.kind == kindStrings || right.kind == kindStrings {
		return nil, fmt.Errorf("operator %s cannot be applied to a collection", op)
	}
	if !left.isNull && !right.isNull && left.kind != right.kind {
		return nil, fmt.Errorf("operator %s cannot compare %s with %s", op, left.kind, right.kind)
	}
	if (left.isNull || right.isNull) && op != "eq" && op != "ne" {
		return nil, fmt.Errorf("operator %s cannot be applied to null", op)
	}
	if err := checkEnumLiteral(left, right); err != nil {
		return nil, err
	}
	if err := checkEnumLiteral(right, left); err != nil {
		return nil, err
	}
	k := left.kind
	if left.isNull {
		k = right.kind
	}
	l, r := left.eval, right.eval
	return &node{isBool: true, kind: kindBool, eval: func(rec *record) value {
		a, b := l(rec), r(rec)
		if a.null || b.null {
			// OData: null equals only null; any ordering against null is false.
			switch op {
			case "eq":
				return boolean(a.null && b.null)
			case "ne":
				return boolean(a.null != b.null)
			}
			return boolean(false)
		}
		return boolean(test(compareValues(k, a, b)))
	}}, nil
}

func compareValues(k kind, a, b value) int {
	switch k {
	case kindInt:
		return cmpInt(a.n, b.n)
	case kindBool:
		return cmpInt(b2i(a.b), b2i(b.b))
	case kindDateTime:
		return a.t.Compare(b.t)
	default:
		return strings.Compare(a.s, b.s)
	}
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func b2i(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

var stringPredicates = map[string]func(s, sub string) bool{
	"contains":   strings.Contains,
	"startswith": strings.HasPrefix,
	"endswith":   strings.HasSuffix,
}

var stringMaps = map[string]func(string) string{
	"tolower": strings.ToLower,
	"toupper": strings.ToUpper,
}

func (p *filterParser) primary() (*node, error) {
	t := p.next()
	switch t.kind {
	case tokOpen:
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if c := p.next(); c.kind != tokClose {
			return nil, fmt.Errorf("missing ')' at position %d", c.pos)
		}
		return n, nil
	case tokString:
		v := str(t.text)
		return &node{kind: kindString, literal: &v, eval: func(*record) value { return v }}, nil
	case tokNumber:
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%q at position %d is not an integer literal", t.text, t.pos)
		}
		v := num(n)
		return &node{kind: kindInt, eval: func(*record) value { return v }}, nil
	case tokDateTime:
		tm, err := time.Parse(time.RFC3339Nano, t.text)
		if err != nil {
			return nil, fmt.Errorf("%q at position %d is not a DateTimeOffset literal (use 2024-05-01T00:00:00Z)", t.text, t.pos)
		}
		v := when(tm)
		return &node{kind: kindDateTime, eval: func(*record) value { return v }}, nil
	case tokIdent:
		return p.identifier(t)
	case tokEnd:
		return nil, fmt.Errorf("the expression ends where an operand was expected")
	default:
		return nil, fmt.Errorf("unexpected %q at position %d", t.text, t.pos)
	}
}

func (p *filterParser) identifier(t token) (*node, error) {
	switch t.text {
	case "true", "false":
		v := boolean(t.text == "true")
		return &node{kind: kindBool, eval: func(*record) value { return v }}, nil
	case "null":
		return &node{isNull: true, nullable: true, eval: func(*record) value { return null() }}, nil
	}
	if p.peek().kind == tokOpen {
		return p.call(t)
	}
	if p.peek().kind == tokString {
		return p.enumLiteral(t)
	}
	i, ok := p.et.index[t.text]
	if !ok {
		if p.et.navigation[t.text] {
			return nil, fmt.Errorf("navigation property %s cannot be used in $filter here", t.text)
		}
		return nil, fmt.Errorf("unknown property %s on %s at position %d", t.text, p.et.name, t.pos)
	}
	prop := p.et.props[i]
	return &node{kind: prop.kind, nullable: true, isBool: prop.kind == kindBool, enum: prop.enum,
		eval: func(rec *record) value { return rec.vals[i] }}, nil
}

func (p *filterParser) call(name token) (*node, error) {
	p.next() // (
	var args []*node
	if p.peek().kind != tokClose {
		for {
			a, err := p.or()
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
	}
	if c := p.next(); c.kind != tokClose {
		return nil, fmt.Errorf("missing ')' after arguments of %s at position %d", name.text, c.pos)
	}
	if pred, ok := stringPredicates[name.text]; ok {
		if len(args) != 2 || args[0].kind != kindString || args[1].kind != kindString || args[0].isNull || args[1].isNull {
			return nil, fmt.Errorf("%s takes two Edm.String arguments", name.text)
		}
		a, b := args[0].eval, args[1].eval
		return &node{kind: kindBool, isBool: true, eval: func(rec *record) value {
			x, y := a(rec), b(rec)
			return boolean(!x.null && !y.null && pred(x.s, y.s))
		}}, nil
	}
	if m, ok := stringMaps[name.text]; ok {
		if len(args) != 1 || args[0].kind != kindString || args[0].isNull {
			return nil, fmt.Errorf("%s takes one Edm.String argument", name.text)
		}
		a := args[0].eval
		return &node{kind: kindString, nullable: true, eval: func(rec *record) value {
			x := a(rec)
			if x.null {
				return x
			}
			return str(m(x.s))
		}}, nil
	}
	return nil, fmt.Errorf("unknown function %s at position %d", name.text, name.pos)
}

// enumLiteral reads the typed form of an enum constant, Pbx.GrantType'Sso'.
func (p *filterParser) enumLiteral(typeName token) (*node, error) {
	lit := p.next()
	for _, e := range []*enumType{grantType, revokeReason, transcriptionType} {
		if e.name == typeName.text {
			v := str(lit.text)
			n := &node{kind: kindString, literal: &v, enum: e, eval: func(*record) value { return v }}
			return n, checkEnumMember(e, lit.text)
		}
	}
	return nil, fmt.Errorf("unknown type %s at position %d", typeName.text, typeName.pos)
}

// checkEnumLiteral rejects comparing an enum property with a constant outside the enum, as the
// vendor's OData layer does.
func checkEnumLiteral(prop, other *node) error {
	if prop.enum == nil || other.literal == nil {
		return nil
	}
	if other.enum != nil && other.enum != prop.enum {
		return fmt.Errorf("cannot compare %s with %s", prop.enum.name, other.enum.name)
	}
	return checkEnumMember(prop.enum, other.literal.s)
}

func checkEnumMember(e *enumType, s string) error {
	if slices.Contains(e.members, s) {
		return nil
	}
	return fmt.Errorf("the string '%s' is not a valid %s constant (%s)", s, e.name, strings.Join(e.members, ", "))
}

func needBool(op string, operands ...*node) error {
	for _, n := range operands {
		if !n.isBool {
			return fmt.Errorf("operator %s needs conditions on both sides", op)
		}
	}
	return nil
}
