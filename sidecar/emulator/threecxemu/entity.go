package threecxemu

import (
	"encoding/json"
	"strconv"
	"time"
)

// kind is the EDM type family of a property, which decides how $filter literals compare with it
// and how $orderby sorts it.
type kind uint8

const (
	kindString kind = iota // Edm.String, enums and Edm.Guid
	kindInt                // Edm.Int32 / Edm.Int64
	kindBool
	kindDateTime // Edm.DateTimeOffset
	kindStrings  // Collection(Edm.String)
)

func (k kind) String() string {
	switch k {
	case kindInt:
		return "Edm.Int32"
	case kindBool:
		return "Edm.Boolean"
	case kindDateTime:
		return "Edm.DateTimeOffset"
	case kindStrings:
		return "Collection(Edm.String)"
	default:
		return "Edm.String"
	}
}

// value is one property value: exactly one field is meaningful, chosen by the property's kind;
// null marks an OData null.
type value struct {
	null bool
	s    string
	n    int64
	b    bool
	t    time.Time
	ss   []string
}

func str(s string) value      { return value{s: s} }
func num(n int64) value       { return value{n: n} }
func boolean(b bool) value    { return value{b: b} }
func when(t time.Time) value  { return value{t: t} }
func strs(ss ...string) value { return value{ss: ss} }
func null() value             { return value{null: true} }
func optStr(s string) value   { return nullIf(s == "", str(s)) }
func nullIf(c bool, v value) value {
	if c {
		return null()
	}
	return v
}

// property describes one structural property of an entity type, in the order the vendor's
// $metadata lists it (alphabetical, as in swagger.yaml).
type property struct {
	name string
	kind kind
	enum *enumType // for enum-typed string properties
}

// enumType is a vendor enumeration; $filter literals compared with it must name a member.
type enumType struct {
	name    string // as in $metadata, e.g. Pbx.GrantType
	members []string
}

var (
	grantType         = &enumType{"Pbx.GrantType", []string{"Password", "Support", "Sso", "OAuthClient", "ClientCredentials", "Provisioning"}}
	revokeReason      = &enumType{"Pbx.RevokeReason", []string{"TooMany", "SetPassword", "InvalidatePassword", "Logout", "Manual"}}
	transcriptionType = &enumType{"Pbx.TranscriptionType", []string{"Nothing", "Voicemail", "Recordings", "Both", "Inherit"}}
)

// entityType is a vendor entity: its properties, its navigation properties (accepted by
// $expand) and the entity set name used in @odata.context.
type entityType struct {
	name       string
	props      []property
	index      map[string]int
	navigation map[string]bool
}

func newEntityType(name string, props []property, navigation ...string) *entityType {
	et := &entityType{name: name, props: props, index: map[string]int{}, navigation: map[string]bool{}}
	for i, p := range props {
		et.index[p.name] = i
	}
	for _, n := range navigation {
		et.navigation[n] = true
	}
	return et
}

// Field sets follow Pbx.RefreshToken and Pbx.ServicePrincipal (allOf Pbx.DN) in swagger.yaml.
// Navigation properties are not stored; they appear only when expanded.
var (
	refreshTokenType = newEntityType("RefreshToken", []property{
		{"ClientId", kindString, nil},
		{"Created", kindDateTime, nil},
		{"CreatedByIp", kindString, nil},
		{"CreatedByUserAgent", kindString, nil},
		{"DisplayName", kindString, nil},
		{"Expires", kindDateTime, nil},
		{"Id", kindInt, nil},
		{"LoginType", kindString, grantType},
		{"OverrideConsoleRestrictions", kindBool, nil},
		{"ReasonRevoked", kindString, revokeReason},
		{"Revoked", kindDateTime, nil},
		{"RevokedByIp", kindString, nil},
		{"RotateOnRefresh", kindBool, nil},
		{"Scopes", kindStrings, nil},
		{"SlidingExpiration", kindBool, nil},
		{"Token", kindString, nil},
		{"Used", kindDateTime, nil},
		{"UsedByIp", kindString, nil},
		{"UsedByUserAgent", kindString, nil},
		{"Username", kindString, nil},
	}, "Client")

	servicePrincipalType = newEntityType("ServicePrincipal", []property{
		{"Id", kindInt, nil},
		{"Number", kindString, nil},
		{"TranscriptionMode", kindString, transcriptionType},
		{"CallControlEnabled", kindBool, nil},
		{"IsSystem", kindBool, nil},
		{"LastUsed", kindDateTime, nil},
		{"MyPhoneEnabled", kindBool, nil},
		{"XAPIEnabled", kindBool, nil},
	}, "Groups", "Peers")
)

// record is one entity with its values and their JSON encodings, precomputed so that listing a
// collection only concatenates bytes. Records are immutable: a change builds a new record.
type record struct {
	id   int32
	vals []value
	enc  [][]byte // enc[i] is `"Name":value` for property i
	full []byte   // the whole object
	// expanded holds the JSON of navigation properties, `"Client":{...}`.
	expanded map[string][]byte
}

func newRecord(et *entityType, vals []value, expanded map[string][]byte) *record {
	r := &record{vals: vals, enc: make([][]byte, len(vals)), expanded: expanded}
	r.id = int32(vals[et.index["Id"]].n)
	for i, p := range et.props {
		r.enc[i] = appendProperty(nil, p, vals[i])
	}
	r.full = appendObject(nil, et, vals)
	return r
}

// appendObject writes vals as a JSON object with et's property names, in et's order.
func appendObject(b []byte, et *entityType, vals []value) []byte {
	b = append(b, '{')
	for i, p := range et.props {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendProperty(b, p, vals[i])
	}
	return append(b, '}')
}

func appendProperty(b []byte, p property, v value) []byte {
	b = strconv.AppendQuote(b, p.name)
	b = append(b, ':')
	return appendValue(b, p.kind, v)
}

// with returns a copy of r with some properties replaced.
func (r *record) with(et *entityType, changes map[string]value) *record {
	vals := append([]value(nil), r.vals...)
	for name, v := range changes {
		vals[et.index[name]] = v
	}
	return newRecord(et, vals, r.expanded)
}

func (r *record) get(et *entityType, name string) value { return r.vals[et.index[name]] }

// dateTimeLayout is how the PBX writes Edm.DateTimeOffset: UTC with a Z and no more precision
// than the swagger pattern allows.
const dateTimeLayout = "2006-01-02T15:04:05.999Z07:00"

func appendValue(b []byte, k kind, v value) []byte {
	if v.null {
		return append(b, "null"...)
	}
	switch k {
	case kindInt:
		return strconv.AppendInt(b, v.n, 10)
	case kindBool:
		return strconv.AppendBool(b, v.b)
	case kindDateTime:
		return strconv.AppendQuote(b, v.t.UTC().Format(dateTimeLayout))
	case kindStrings:
		enc, _ := json.Marshal(append([]string{}, v.ss...))
		return append(b, enc...)
	default:
		enc, _ := json.Marshal(v.s)
		return append(b, enc...)
	}
}
