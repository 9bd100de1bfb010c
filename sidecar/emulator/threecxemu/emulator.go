package threecxemu

import (
	"cmp"
	"crypto/rand"
	"encoding/json"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Options configure an Emulator.
type Options struct {
	Now              func() time.Time // default time.Now
	TokenLifetime    time.Duration    // default 60*time.Minute
	ExpiresInMinutes bool             // emulate PBX < 20.0.9: expires_in counted in minutes
	// Scale adds that many refresh tokens of the signed-in principal
	// (MyTokens) and as many of other users (SecurityTokens), for lists at
	// scale.
	Scale int
}

// Emulator is an http.Handler that answers like a 3CX V20 PBX (XAPI 20.0.10) for the parts
// Tokenwarden uses. See the package documentation for the model.
type Emulator struct {
	opts Options

	tokenRequests atomic.Int64
	// revocations counts RevokeToken calls that found their token,
	// whether or not it was revoked already: with Revoked (the tokens whose
	// Revoked time is set) it shows whether a token was revoked twice.
	revocations atomic.Int64

	authMu   sync.RWMutex
	secrets  map[string]string   // client_id (the principal's DN number) → API key
	sessions map[string]*session // client_id → its one current access token
	bearer   map[string]*session // access token → session

	dataMu     sync.RWMutex
	tokens     []*record // Pbx.RefreshToken, ordered by Id; replaced, never changed in place
	principals []*record // Pbx.ServicePrincipal, ordered by Id

	// mine caches MyTokens of one caller for the current tokens slice, so
	// paging through a large MyTokens costs each page its own size, not a
	// scan of every token.
	mineMu sync.Mutex
	mine   ownedTokens
}

type ownedTokens struct {
	of     []*record
	caller string
	mine   []*record
}

type session struct {
	clientID string
	token    string
	expires  time.Time
}

// New returns an emulator seeded with data relative to opts.Now.
func New(opts Options) *Emulator {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.TokenLifetime <= 0 {
		opts.TokenLifetime = 60 * time.Minute
	}
	now := opts.Now()
	tokens := seedRefreshTokens(now)
	if opts.Scale > 0 {
		tokens = seedScale(tokens, now, opts.Scale)
	}
	e := &Emulator{
		opts:       opts,
		secrets:    map[string]string{},
		sessions:   map[string]*session{},
		bearer:     map[string]*session{},
		tokens:     tokens,
		principals: seedServicePrincipals(now),
	}
	for _, s := range principalSeeds {
		if s.xapi {
			e.secrets[s.number] = randomKey()
		}
	}
	return e
}

// Credentials returns the seeded service principal's API credentials: its client ID (DN number)
// and current API key. GenerateAppToken on that principal replaces the key.
func (e *Emulator) Credentials() (clientID, clientSecret string) {
	e.authMu.RLock()
	defer e.authMu.RUnlock()
	return callerNumber, e.secrets[callerNumber]
}

// TokenRequests counts POST /connect/token requests, whatever their outcome.
func (e *Emulator) TokenRequests() int64 { return e.tokenRequests.Load() }

// RevokeRequests counts Pbx.RevokeToken calls answered 204, a token revoked
// again included.
func (e *Emulator) RevokeRequests() int64 { return e.revocations.Load() }

// Revoked counts the refresh tokens whose Revoked time is set.
func (e *Emulator) Revoked() int {
	e.dataMu.RLock()
	defer e.dataMu.RUnlock()
	n := 0
	for _, r := range e.tokens {
		if !r.get(refreshTokenType, "Revoked").null {
			n++
		}
	}
	return n
}

// InvalidateAccessTokens ends every current access token, as if each client had signed in
// elsewhere: the next XAPI call with one of them gets 401.
func (e *Emulator) InvalidateAccessTokens() {
	e.authMu.Lock()
	defer e.authMu.Unlock()
	clear(e.sessions)
	clear(e.bearer)
}

// SecurityToken returns the current JSON of the refresh token with this Id, as SecurityTokens
// lists it.
func (e *Emulator) SecurityToken(id int32) (json.RawMessage, bool) {
	e.dataMu.RLock()
	defer e.dataMu.RUnlock()
	i := findByID(e.tokens, id)
	if i < 0 {
		return nil, false
	}
	return append(json.RawMessage(nil), e.tokens[i].full...), true
}

// findByID finds a record in a slice ordered by Id.
func findByID(recs []*record, id int32) int {
	i, found := slices.BinarySearchFunc(recs, id, func(r *record, id int32) int { return cmp.Compare(r.id, id) })
	if !found {
		return -1
	}
	return i
}

const xapiPrefix = "/xapi/v1/"

// ServeHTTP routes the token endpoint and the XAPI paths the emulator implements. Paths it does
// not know get a bare 404 (after authentication, under /xapi/v1/).
func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.URL.Path == "/connect/token":
		e.serveToken(w, r)
	case strings.HasPrefix(r.URL.Path, xapiPrefix):
		e.serveXAPI(w, r)
	default:
		http.NotFound(w, r)
	}
}

// route is a matched XAPI path: entity set, optional raw key and optional bound action.
type route struct {
	set, key, action string
	hasKey           bool
	id               int32 // the parsed key, once authenticated
}

func parseRoute(path string) (route, bool) {
	rest := strings.TrimPrefix(path, xapiPrefix)
	seg, action, _ := strings.Cut(rest, "/")
	var rt route
	rt.action = action
	if open := strings.IndexByte(seg, '('); open >= 0 {
		if !strings.HasSuffix(seg, ")") {
			return rt, false
		}
		rt.set, rt.key, rt.hasKey = seg[:open], seg[open+1:len(seg)-1], true
	} else {
		rt.set = seg
	}
	return rt, true
}

// parseKey reads an OData key, (42) or (Id=42), as an Edm.Int32.
func parseKey(raw string) (int32, *odataError) {
	v := strings.TrimPrefix(raw, "Id=")
	n, err := strconv.ParseInt(v, 10, 32)
	if err != nil {
		return 0, badRequest("Id", "The key value '"+raw+"' is not a valid Edm.Int32 value for Id.")
	}
	return int32(n), nil
}

func (e *Emulator) serveXAPI(w http.ResponseWriter, r *http.Request) {
	// Every XAPI path needs a current token, known or not, so authentication comes first.
	caller, ok := e.authenticate(w, r)
	if !ok {
		return
	}
	rt, ok := parseRoute(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	type endpoint struct {
		method string
		serve  func(http.ResponseWriter, *http.Request, route, string)
	}
	var ep endpoint
	switch {
	case !rt.hasKey && rt.action == "" && (rt.set == "SecurityTokens" || rt.set == "MyTokens"):
		ep = endpoint{http.MethodGet, e.listRefreshTokens}
	case !rt.hasKey && rt.action == "" && rt.set == "ServicePrincipals":
		ep = endpoint{http.MethodGet, e.listServicePrincipals}
	case rt.hasKey && rt.action == "" && rt.set == "ServicePrincipals":
		ep = endpoint{http.MethodGet, e.getServicePrincipal}
	case rt.hasKey && rt.action == "Pbx.RevokeToken" && (rt.set == "SecurityTokens" || rt.set == "MyTokens"):
		ep = endpoint{http.MethodPost, e.revokeToken}
	case rt.hasKey && rt.action == "Pbx.GenerateAppToken" && rt.set == "ServicePrincipals":
		ep = endpoint{http.MethodPost, e.generateAppToken}
	default:
		http.NotFound(w, r)
		return
	}
	if r.Method != ep.method {
		w.Header().Set("Allow", ep.method)
		w.WriteHeader(http.StatusMethodNotAllowed)
		return
	}
	if rt.hasKey {
		id, kerr := parseKey(rt.key)
		if kerr != nil {
			writeError(w, kerr)
			return
		}
		rt.id = id
	}
	ep.serve(w, r, rt, caller)
}

const odataJSON = "application/json; odata.metadata=minimal; odata.streaming=true"

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 16<<10); return &b }}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h.Set("Content-Type", odataJSON)
	h.Set("OData-Version", "4.0")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// serviceRoot is the absolute URL of /xapi/v1 as the caller addressed it, for @odata.context.
func serviceRoot(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/xapi/v1/"
}

func (e *Emulator) listRefreshTokens(w http.ResponseWriter, r *http.Request, rt route, caller string) {
	e.dataMu.RLock()
	all := e.tokens
	e.dataMu.RUnlock()
	if rt.set == "MyTokens" {
		all = e.ownedBy(all, caller)
	}
	writeCollection(w, r, rt.set, refreshTokenType, all)
}

// ownedBy returns the caller's tokens, from the cache while the tokens
// slice is the same one.
func (e *Emulator) ownedBy(all []*record, caller string) []*record {
	e.mineMu.Lock()
	defer e.mineMu.Unlock()
	c := e.mine
	if c.caller == caller && len(c.of) == len(all) && (len(all) == 0 || &c.of[0] == &all[0]) {
		return c.mine
	}
	mine := ownedBy(all, caller)
	e.mine = ownedTokens{of: all, caller: caller, mine: mine}
	return mine
}

func ownedBy(all []*record, caller string) []*record {
	user := refreshTokenType.index["Username"]
	mine := make([]*record, 0, 8)
	for _, rec := range all {
		if rec.vals[user].s == caller {
			mine = append(mine, rec)
		}
	}
	return mine
}

func (e *Emulator) listServicePrincipals(w http.ResponseWriter, r *http.Request, rt route, _ string) {
	e.dataMu.RLock()
	all := e.principals
	e.dataMu.RUnlock()
	writeCollection(w, r, rt.set, servicePrincipalType, all)
}

// writeCollection answers a collection GET in the vendor's envelope. The slice is a snapshot:
// changes replace the slice rather than edit it, so no lock is needed while rendering.
func writeCollection(w http.ResponseWriter, r *http.Request, set string, et *entityType, all []*record) {
	q, qerr := parseQuery(et, r.URL.RawQuery, true)
	if qerr != nil {
		writeError(w, qerr)
		return
	}
	page, total := q.apply(et, all)
	bp := bufPool.Get().(*[]byte)
	b := append((*bp)[:0], `{"@odata.context":`...)
	b = strconv.AppendQuote(b, serviceRoot(r)+"$metadata#"+set+q.contextSuffix(et))
	if q.count {
		b = append(b, `,"@odata.count":`...)
		b = strconv.AppendInt(b, int64(total), 10)
	}
	b = append(b, `,"value":[`...)
	for i, rec := range page {
		if i > 0 {
			b = append(b, ',')
		}
		b = q.appendEntity(b, rec)
	}
	b = append(b, "]}"...)
	writeJSON(w, http.StatusOK, b)
	*bp = b
	bufPool.Put(bp)
}

func (e *Emulator) getServicePrincipal(w http.ResponseWriter, r *http.Request, rt route, _ string) {
	id := rt.id
	q, qerr := parseQuery(servicePrincipalType, r.URL.RawQuery, false)
	if qerr != nil {
		writeError(w, qerr)
		return
	}
	rec := e.principal(id)
	if rec == nil {
		writeError(w, notFound("ServicePrincipal", id))
		return
	}
	b := []byte(`{"@odata.context":`)
	b = strconv.AppendQuote(b, serviceRoot(r)+"$metadata#ServicePrincipals"+q.contextSuffix(servicePrincipalType)+"/$entity")
	entity := q.appendEntity(nil, rec)
	if len(entity) > 2 {
		b = append(b, ',')
	}
	b = append(b, entity[1:]...)
	writeJSON(w, http.StatusOK, b)
}

// revokeToken implements Pbx.RevokeToken on SecurityTokens (any token) and MyTokens (the
// caller's own). Revoking a revoked token succeeds again and keeps the first revocation's time,
// reason and address.
func (e *Emulator) revokeToken(w http.ResponseWriter, r *http.Request, rt route, caller string) {
	id := rt.id
	e.dataMu.Lock()
	i := findByID(e.tokens, id)
	if i >= 0 && rt.set == "MyTokens" && e.tokens[i].get(refreshTokenType, "Username").s != caller {
		i = -1 // another principal's token is invisible through MyTokens
	}
	if i < 0 {
		e.dataMu.Unlock()
		writeError(w, notFound("RefreshToken", id))
		return
	}
	if cur := e.tokens[i]; cur.get(refreshTokenType, "Revoked").null {
		tokens := append([]*record(nil), e.tokens...)
		tokens[i] = cur.with(refreshTokenType, map[string]value{
			"Revoked":       when(e.opts.Now().UTC().Truncate(time.Millisecond)),
			"ReasonRevoked": str("Manual"),
			"RevokedByIp":   str(clientIP(r)),
		})
		e.tokens = tokens
	}
	e.dataMu.Unlock()
	e.revocations.Add(1)
	w.WriteHeader(http.StatusNoContent)
}

// generateAppToken implements Pbx.GenerateAppToken: a new API key for the principal, returned
// once. The old key stops working for /connect/token; access tokens already issued stay valid.
func (e *Emulator) generateAppToken(w http.ResponseWriter, r *http.Request, rt route, _ string) {
	id := rt.id
	rec := e.principal(id)
	if rec == nil {
		writeError(w, notFound("ServicePrincipal", id))
		return
	}
	number := rec.get(servicePrincipalType, "Number").s
	key := randomKey()
	e.authMu.Lock()
	e.secrets[number] = key
	e.authMu.Unlock()
	body, _ := json.Marshal(struct {
		Value string `json:"value"`
	}{key})
	writeJSON(w, http.StatusOK, body)
}

// principal returns the current record of a service principal, or nil.
func (e *Emulator) principal(id int32) *record {
	e.dataMu.RLock()
	defer e.dataMu.RUnlock()
	if i := findByID(e.principals, id); i >= 0 {
		return e.principals[i]
	}
	return nil
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

const keyAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// randomKey returns 32 random alphanumerics, the shape of a 3CX API key.
func randomKey() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = keyAlphabet[int(b[i])%len(keyAlphabet)]
	}
	return string(b)
}
