package appgateemu

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/tokenwarden/tokenwarden/sidecar/provider/appgate/dn"
)

// ActiveWindow is how recently a device must have signed in to be hit by a
// revocation with an empty distinguishedNameFilter.
const ActiveWindow = dn.ActiveWindow

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

// MatchesFilter applies a distinguishedNameFilter to a device DN, by the
// rule the sidecar's dry run applies too (package dn).
func MatchesFilter(deviceDN, filter string) bool { return dn.Matches(deviceDN, filter) }
