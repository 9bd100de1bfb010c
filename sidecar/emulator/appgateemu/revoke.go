package appgateemu

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ActiveWindow is how recently a device must have signed in to be hit by a
// revocation with an empty distinguishedNameFilter.
const ActiveWindow = 24 * time.Hour

// TokenTypes are the token types revoke-tokens can be narrowed to, in the
// spec's spelling.
var TokenTypes = []string{"Claims", "AdminClaims", "Entitlement", "Administration"}

// Revocation records one accepted revoke-tokens call and the devices it hit.
type Revocation struct {
	At                         time.Time
	DistinguishedNameFilter    string
	SpecificDistinguishedNames []string
	SiteID                     string
	TokenType                  string
	RevocationReason           string
	DelayMinutes               int
	DevicesPerSecond           float64
	// DistinguishedNames are the affected devices, sorted.
	DistinguishedNames []string
}

type revokeRequest struct {
	DistinguishedNameFilter    *string  `json:"distinguishedNameFilter"`
	SpecificDistinguishedNames []string `json:"specificDistinguishedNames"`
	SiteID                     *string  `json:"siteId"`
	TokenType                  *string  `json:"tokenType"`
	RevocationReason           *string  `json:"revocationReason"`
	DelayMinutes               *int     `json:"delayMinutes"`
	DevicesPerSecond           *float64 `json:"devicesPerSecond"`
}

func (req revokeRequest) validate() []fieldError {
	var errs []fieldError
	if req.DistinguishedNameFilter == nil {
		errs = append(errs, fieldError{Field: "distinguishedNameFilter", Message: "may not be null"})
	}
	if req.SiteID != nil {
		if _, err := uuid.Parse(*req.SiteID); err != nil || len(*req.SiteID) != 36 {
			errs = append(errs, fieldError{Field: "siteId", Message: "must be a valid UUID"})
		}
	}
	if req.TokenType != nil && !slices.Contains(TokenTypes, *req.TokenType) {
		errs = append(errs, fieldError{Field: "tokenType", Message: "must be one of " + strings.Join(TokenTypes, ", ")})
	}
	if req.DelayMinutes != nil && *req.DelayMinutes < 0 {
		errs = append(errs, fieldError{Field: "delayMinutes", Message: "must be greater than or equal to 0"})
	}
	if req.DevicesPerSecond != nil && *req.DevicesPerSecond <= 0 {
		errs = append(errs, fieldError{Field: "devicesPerSecond", Message: "must be greater than 0"})
	}
	return errs
}

// selects reports whether the request's device selection covers d. The
// distinguishedNameFilter is a starts-with match (see MatchesFilter); an empty
// one means every device active in the last 24 hours, unless
// specificDistinguishedNames is given, which the spec honours only with an
// empty filter.
func (req revokeRequest) selects(d Device, activeSince time.Time) bool {
	filter := *req.DistinguishedNameFilter
	switch {
	case filter != "":
		if !MatchesFilter(d.DistinguishedName, filter) {
			return false
		}
	case len(req.SpecificDistinguishedNames) > 0:
		if !slices.Contains(req.SpecificDistinguishedNames, d.DistinguishedName) {
			return false
		}
	default:
		if !d.ActiveSince(activeSince) {
			return false
		}
	}
	if req.SiteID != nil && !slices.Contains(d.Sites, strings.ToLower(*req.SiteID)) {
		return false
	}
	if req.TokenType != nil && !holdsTokenType(d, *req.TokenType) {
		return false
	}
	return true
}

// holdsTokenType: client devices hold claims and entitlement tokens, admin
// devices hold admin claims and administration tokens.
func holdsTokenType(d Device, tokenType string) bool {
	switch tokenType {
	case "Claims", "Entitlement":
		return d.DeviceType == "Client" || d.DeviceType == "Client/Admin"
	default:
		return d.DeviceType == "Admin" || d.DeviceType == "Client/Admin"
	}
}

func (e *Emulator) handleRevokeTokens(w http.ResponseWriter, r *http.Request) {
	if !tokenFrom(r).canRevoke {
		writeError(w, http.StatusForbidden, "You do not have permission to revoke tokens of registered devices.")
		return
	}
	var req revokeRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "JSON error: "+err.Error())
		return
	}
	if errs := req.validate(); len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	rev := Revocation{
		DistinguishedNameFilter:    *req.DistinguishedNameFilter,
		SpecificDistinguishedNames: req.SpecificDistinguishedNames,
		SiteID:                     deref(req.SiteID),
		TokenType:                  deref(req.TokenType),
		RevocationReason:           deref(req.RevocationReason),
		DelayMinutes:               5,
		DevicesPerSecond:           2,
	}
	if req.DelayMinutes != nil {
		rev.DelayMinutes = *req.DelayMinutes
	}
	if req.DevicesPerSecond != nil {
		rev.DevicesPerSecond = *req.DevicesPerSecond
	}

	now := e.opts.Now()
	rev.At = now
	e.mu.Lock()
	total := len(e.devices)
	affected := []Device{}
	for _, d := range e.devices {
		if req.selects(d, now.Add(-ActiveWindow)) {
			affected = append(affected, d)
			// Only administration tokens are this API's concern: they stop
			// working once the delay has passed.
			if rev.TokenType != "Claims" && rev.TokenType != "Entitlement" {
				e.revokedAt[d.DistinguishedName] = now.Add(time.Duration(rev.DelayMinutes) * time.Minute)
			}
		}
	}
	sortDevices(affected, defaultOrderBy, false)
	for _, d := range affected {
		rev.DistinguishedNames = append(rev.DistinguishedNames, d.DistinguishedName)
	}
	e.revocations = append(e.revocations, rev)
	e.mu.Unlock()

	n := strconv.Itoa(len(affected))
	writeJSON(w, http.StatusOK, deviceList{
		Range:      "0-" + n + "/" + n,
		OrderBy:    defaultOrderBy,
		Queries:    []string{},
		TotalCount: total,
		FilterBy:   []filterBy{},
		Data:       affected,
	})
}

// MatchesFilter applies a distinguishedNameFilter to a device DN. The spec
// calls the filter "starts with" and gives three examples: a full DN hits one
// device, and "OU=ldap" hits every device of the ldap provider. A DN is read
// from its root, the right-hand end (OU=provider, then CN=user, then
// CN=device), so the filter hits a DN whose trailing components are exactly
// the filter's: "OU=ldap" a provider, "CN=alice,OU=ldap" a user, a full DN a
// device. A plain textual prefix ("CN=4c07bc67") also matches, for the
// literal reading of "starts with".
func MatchesFilter(dn, filter string) bool {
	if strings.HasPrefix(dn, filter) {
		return true
	}
	dnParts, filterParts := splitDN(dn), splitDN(filter)
	if len(filterParts) == 0 || len(filterParts) > len(dnParts) {
		return false
	}
	tail := dnParts[len(dnParts)-len(filterParts):]
	for i, f := range filterParts {
		if !sameRDN(tail[i], f) {
			return false
		}
	}
	return true
}

// splitDN splits a DN into its components at unescaped commas.
func splitDN(dn string) []string {
	var parts []string
	start, escaped := 0, false
	for i, c := range dn {
		switch {
		case escaped:
			escaped = false
		case c == '\\':
			escaped = true
		case c == ',':
			parts = append(parts, strings.TrimSpace(dn[start:i]))
			start = i + 1
		}
	}
	if rest := strings.TrimSpace(dn[start:]); rest != "" || len(parts) > 0 {
		parts = append(parts, rest)
	}
	return parts
}

// sameRDN compares two "TYPE=value" components: the attribute type ignores
// case, as in LDAP; the value must match exactly.
func sameRDN(a, b string) bool {
	at, av, aok := strings.Cut(a, "=")
	bt, bv, bok := strings.Cut(b, "=")
	return aok && bok && strings.EqualFold(strings.TrimSpace(at), strings.TrimSpace(bt)) && av == bv
}
