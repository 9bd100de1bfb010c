// Package threecxemu emulates a 3CX V20 phone system's XAPI (version 20.0.10) for Tokenwarden's
// demo, tests and benchmarks. It follows the vendor's swagger.yaml for every path it serves, and
// its tests check that with specguard.
//
// # Sign-in
//
// POST /connect/token takes grant_type=client_credentials, client_id and client_secret as a
// URL-encoded or multipart form. The client_id is a service principal's DN number and the
// secret its API key. Success answers
//
//	{"token_type":"Bearer","expires_in":3600,"access_token":"...","refresh_token":null}
//
// with expires_in in seconds (PBX 20.0.9 and later) or, with Options.ExpiresInMinutes, in
// minutes as older PBXs count it. Errors use the RFC 6749 shape {"error","error_description"}:
// 400 invalid_request naming every missing parameter, 400 unsupported_grant_type for another
// grant, 401 invalid_client for an unknown client or wrong key.
//
// The PBX keeps one active access token per client: issuing a new one ends the previous one.
// XAPI calls without a current, unexpired bearer token get 401 with an empty body and a
// WWW-Authenticate challenge (Bearer, or Bearer error="invalid_token" for a token that was
// valid once), because the PBX's bearer handler answers before OData does.
//
// # Data
//
// The emulator starts with data derived from Options.Now, the same for every instance:
//
//   - SecurityTokens: the admin view of all Pbx.RefreshToken sessions, Ids 1 to 34. Twenty-five
//     users (extensions 101 to 125) signed in through the web client and the mobile and desktop
//     apps, some twice; three sessions are already revoked (Logout, SetPassword, Manual) and one
//     has expired. Ids 31 to 34 belong to the seeded service principal; 34 was revoked (TooMany).
//     Token is always masked: neither the PBX nor the emulator shows refresh token material.
//   - MyTokens: the sessions whose Username is the calling principal's DN number. For the
//     principal of Credentials these are Ids 31 to 34; another principal sees none.
//   - ServicePrincipals: six API clients (Ids 31 to 36; Number is the client_id). The first,
//     "tokenwarden", is the one Credentials returns. Every principal with XAPIEnabled has an API
//     key; a sign-in sets the principal's LastUsed.
//
// Pbx.RevokeToken answers 204 and sets Revoked, ReasonRevoked (Manual) and RevokedByIp (the
// caller's address). Revoking a revoked token answers 204 again and keeps the first
// revocation's values, so a retried revocation is harmless. Through MyTokens, another
// principal's token is 404, as if it did not exist.
//
// Pbx.GenerateAppToken answers 200 {"value":"<new API key>"} and replaces the principal's key:
// the old key no longer signs in, while access tokens already issued stay valid until they
// expire or are replaced. Calling it on the Credentials principal changes what Credentials
// returns.
//
// # OData
//
// Collections accept $top, $skip, $count, $orderby (comma-separated, asc/desc, nulls first),
// $select (comma-separated), $expand (Client on refresh tokens; Groups and Peers on service
// principals, always empty), $search (case-insensitive match in string properties; a quoted
// "phrase" is one term; terms are ANDed, OR separates alternatives) and $filter (eq ne lt gt le
// ge, and or not, parentheses, contains startswith endswith tolower toupper; string, integer,
// boolean, null and DateTimeOffset literals such as 2024-05-01T00:00:00Z; enum properties take
// 'Sso' or Pbx.GrantType'Sso' and reject names outside the enum). The answer is
// {"@odata.context", "@odata.count" (only with $count=true), "value"}.
//
// Errors use the vendor envelope {"error":{"code","message","details":[{"code","message",
// "target"}]}}: 400 for a malformed key, naming target Id, or a bad query option, naming the
// option ($filter, $orderby, ...); 404 for an unknown Id. Under /xapi/v1/ authentication comes
// first, for every path; then unknown paths get a bare 404 and a wrong method a bare 405, as
// the web server's router answers before OData.
//
// The emulator is safe for concurrent use. Entities are immutable records with their JSON
// precomputed; a change replaces the record, so listing only filters and concatenates bytes.
package threecxemu
