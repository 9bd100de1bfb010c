package oauthdemo

import (
	"encoding/json"
	"net/http"

	"github.com/ory/fosite"
)

// Vendor modes make the revocation endpoint answer the way one big server
// does, so the client's presets can be tested against each quirk. fosite
// still issues the tokens and authenticates the clients; only revocation is
// the vendor's, at the vendor's path. Sources, as the presets cite them:
// Google's and Salesforce's revocation docs, Okta's Revoke Tokens guide,
// Auth0's Revoke Refresh Tokens page, keycloak/keycloak#6704.
type vendor struct {
	// path is where the endpoint is, below the server's address.
	path string
	// authenticates: the client must authenticate (as it is registered).
	authenticates bool
	// unknownIsError: an unknown, expired or revoked token gets 400
	// invalid_token rather than RFC 7009's 200.
	unknownIsError bool
	// access says what revoking an access token does.
	access accessRevocation
	// refreshOnly: revoking a refresh token leaves its access tokens alone
	// (Auth0's access tokens are JWTs that cannot be revoked).
	refreshOnly bool
}

type accessRevocation int

const (
	accessAlone    accessRevocation = iota // the access token only
	accessWithPair                         // the access token and its refresh token
	accessIgnored                          // 200, nothing revoked
	accessRefused                          // 400 unsupported_token_type
)

// Vendors are the modes VendorHandler knows.
var vendors = map[string]vendor{
	"google":      {path: "/revoke", unknownIsError: true, access: accessWithPair},
	"okta":        {path: "/oauth2/v1/revoke", authenticates: true, access: accessAlone},
	"okta-custom": {path: "/oauth2/{authServer}/v1/revoke", authenticates: true, access: accessAlone},
	"auth0":       {path: "/oauth/revoke", authenticates: true, access: accessIgnored, refreshOnly: true},
	"keycloak":    {path: "/realms/{realm}/protocol/openid-connect/revoke", authenticates: true, access: accessRefused},
	"salesforce":  {path: "/services/oauth2/revoke", unknownIsError: true, access: accessAlone},
}

// VendorPath is the revocation path of a vendor mode ("" if unknown), with
// Go ServeMux wildcards such as {realm}.
func VendorPath(name string) string { return vendors[name].path }

// VendorHandler serves the token endpoint and, at the vendor's path, a
// revocation endpoint that behaves like that vendor's; nil if the vendor is
// unknown.
func (s *Server) VendorHandler(name string) http.Handler {
	v, ok := vendors[name]
	if !ok {
		return nil
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+TokenPath, s.token)
	mux.HandleFunc("POST "+v.path, func(w http.ResponseWriter, r *http.Request) { s.vendorRevoke(w, r, v) })
	return mux
}

func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

func (s *Server) vendorRevoke(w http.ResponseWriter, r *http.Request, v vendor) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body is not a form.")
		return
	}
	var client fosite.Client
	if v.authenticates {
		c, err := s.provider.(*fosite.Fosite).AuthenticateClient(ctx, r, r.PostForm)
		if err != nil {
			oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed.")
			return
		}
		client = c
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The token parameter is missing.")
		return
	}
	use, ar, err := s.provider.IntrospectToken(ctx, tok, fosite.AccessToken, &fosite.DefaultSession{})
	if err != nil {
		if v.unknownIsError {
			oauthError(w, http.StatusBadRequest, "invalid_token", "Token expired or revoked")
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	if client != nil && ar.GetClient().GetID() != client.GetID() {
		oauthError(w, http.StatusBadRequest, "unauthorized_client", "The token was issued to another client.")
		return
	}
	id := ar.GetID()
	switch {
	case use == fosite.RefreshToken && v.refreshOnly:
		err = s.store.RevokeRefreshToken(ctx, id)
	case use == fosite.RefreshToken:
		if err = s.store.RevokeRefreshToken(ctx, id); err == nil {
			err = s.store.RevokeAccessToken(ctx, id)
		}
	case v.access == accessRefused:
		oauthError(w, http.StatusBadRequest, "unsupported_token_type", "Unsupported token type. Must be one of refresh_token, offline_token")
		return
	case v.access == accessIgnored:
	case v.access == accessWithPair:
		if err = s.store.RevokeAccessToken(ctx, id); err == nil {
			err = s.store.RevokeRefreshToken(ctx, id)
		}
	default:
		err = s.store.RevokeAccessToken(ctx, id)
	}
	if err != nil {
		oauthError(w, http.StatusInternalServerError, "server_error", "The token could not be revoked.")
		return
	}
	w.WriteHeader(http.StatusOK)
}
