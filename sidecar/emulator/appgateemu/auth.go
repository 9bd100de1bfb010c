package appgateemu

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
)

// ViewerUsername is a second local administrator whose role may list
// registered devices but not revoke their tokens; it signs in with the same
// password as the main administrator and lets tests see a 403.
const ViewerUsername = "auditor"

type token struct {
	username  string
	deviceDN  string
	issuedAt  time.Time
	expires   time.Time
	canRevoke bool
}

type loginRequest struct {
	ProviderName *string `json:"providerName"`
	Username     *string `json:"username"`
	Password     *string `json:"password"`
	DeviceID     *string `json:"deviceId"`
}

type privilege struct {
	Type   string `json:"type"`
	Target string `json:"target"`
}

type loginUser struct {
	Name               string      `json:"name"`
	NeedTwoFactorAuth  bool        `json:"needTwoFactorAuth"`
	CanAccessAuditLogs bool        `json:"canAccessAuditLogs"`
	Privileges         []privilege `json:"privileges"`
}

type loginResponse struct {
	User            loginUser `json:"user"`
	Token           string    `json:"token"`
	Expires         string    `json:"expires"`
	MessageOfTheDay string    `json:"messageOfTheDay"`
}

// authenticationError is the 401 body of /login: the generic error plus the
// reason the sign-in failed.
type authenticationError struct {
	apiError
	Reason string `json:"reason"`
}

func (e *Emulator) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, http.StatusBadRequest, "JSON error: "+err.Error())
		return
	}
	var errs []fieldError
	if req.ProviderName == nil {
		errs = append(errs, fieldError{Field: "providerName", Message: "may not be null"})
	}
	if req.DeviceID == nil {
		errs = append(errs, fieldError{Field: "deviceId", Message: "may not be null"})
	} else if _, err := uuid.Parse(*req.DeviceID); err != nil || len(*req.DeviceID) != 36 {
		errs = append(errs, fieldError{Field: "deviceId", Message: "must be a valid UUID"})
	}
	if len(errs) > 0 {
		writeValidation(w, errs)
		return
	}
	if *req.ProviderName != LocalProvider {
		e.refuseLogin(w, "Identity Provider '"+*req.ProviderName+"' is not available for admin login.")
		return
	}
	username, password := deref(req.Username), deref(req.Password)
	isAdmin := username == e.opts.Username
	if !(isAdmin || username == ViewerUsername) || password != e.opts.Password {
		e.refuseLogin(w, "Invalid username or password.")
		return
	}

	now := e.opts.Now()
	deviceID := strings.ToLower(*req.DeviceID)
	dn := DistinguishedName(deviceID, username, LocalProvider)
	tok := token{username: username, deviceDN: dn, issuedAt: now, expires: now.Add(e.opts.TokenLifetime), canRevoke: isAdmin}
	value := newTokenValue()

	e.mu.Lock()
	e.tokens[value] = tok
	e.logins++
	e.registerAdminDevice(dn, deviceID, username, now)
	e.mu.Unlock()

	privileges := []privilege{{Type: "View", Target: "RegisteredDevice"}}
	if isAdmin {
		privileges = append(privileges, privilege{Type: "Revoke", Target: "RegisteredDevice"})
	}
	writeJSON(w, http.StatusOK, loginResponse{
		User:            loginUser{Name: username, Privileges: privileges},
		Token:           value,
		Expires:         tok.expires.UTC().Format(time.RFC3339Nano),
		MessageOfTheDay: "Welcome to the Tokenwarden Appgate SDP emulator.",
	})
}

func (e *Emulator) refuseLogin(w http.ResponseWriter, reason string) {
	e.mu.Lock()
	e.failedLogins++
	e.mu.Unlock()
	writeJSON(w, http.StatusUnauthorized, authenticationError{
		apiError: apiError{ID: errorID(http.StatusUnauthorized), Message: "Login failed."},
		Reason:   reason,
	})
}

// registerAdminDevice records the signing-in API client as a registered
// device, as the controller does for every admin login; so a revocation of
// "every device active in the last 24 hours" reaches the API client too.
// Callers hold e.mu.
func (e *Emulator) registerAdminDevice(dn, deviceID, username string, now time.Time) {
	e.devicesGen++
	for i := range e.devices {
		if e.devices[i].DistinguishedName == dn {
			e.devices[i].LastSeenAt = &now
			return
		}
	}
	e.devices = append(e.devices, Device{
		DistinguishedName: dn,
		DeviceID:          deviceID,
		Username:          username,
		ProviderName:      LocalProvider,
		DeviceType:        "Admin",
		OnBoardedAt:       now,
		LastSeenAt:        &now,
	})
}

type tokenKey struct{}

// authenticated requires a valid, unexpired bearer token, and one that no
// revocation has cut short.
func (e *Emulator) authenticated(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		value, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || value == "" {
			writeError(w, http.StatusUnauthorized, "Authorization header with a Bearer token is required.")
			return
		}
		now := e.opts.Now()
		e.mu.Lock()
		tok, known := e.tokens[value]
		revokeAt, revoked := e.revokedAt[tok.deviceDN]
		e.mu.Unlock()
		switch {
		case !known:
			writeError(w, http.StatusUnauthorized, "Invalid token.")
		case !now.Before(tok.expires):
			writeError(w, http.StatusUnauthorized, "Token expired. Login again.")
		case revoked && tok.issuedAt.Before(revokeAt) && !now.Before(revokeAt):
			writeError(w, http.StatusUnauthorized, "Token revoked. Login again.")
		default:
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), tokenKey{}, tok)))
		}
	})
}

func tokenFrom(r *http.Request) token { return r.Context().Value(tokenKey{}).(token) }

func newTokenValue() string {
	b := make([]byte, 48)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
