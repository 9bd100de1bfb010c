// Package appgateemu is a stand-in for the admin API of an Appgate SDP
// Controller (peer API v23), faithful to the vendor's OpenAPI for the calls
// Tokenwarden makes: POST /admin/login, GET /admin/on-boarded-devices and
// POST /admin/on-boarded-devices/revoke-tokens, with Accept-header version
// negotiation, expiring tokens and the vendor's error bodies. It serves the
// demo, the tests and the benchmarks.
//
// The handler serves paths under /admin, so a client configured with the
// base URL http://127.0.0.1:PORT/admin talks to it exactly as it would talk
// to https://controller:8443/admin.
package appgateemu

import (
	"net/http"
	"sync"
	"time"
)

// Options shape one emulated controller. The zero value is a v23 controller
// that accepts peer versions 18 to 23, issues 24-hour tokens, runs on the wall
// clock and holds the seeded devices.
type Options struct {
	// MinVersion and MaxVersion bound the peer API versions the controller
	// accepts in the Accept header. Set them low to model an old controller.
	MinVersion, MaxVersion int
	// TokenLifetime is how long a token from /login stays valid.
	TokenLifetime time.Duration
	// Now is the controller's clock; tests move it to expire tokens.
	Now func() time.Time
	// Username and Password are the local administrator's credentials.
	// Empty means "admin" and DemoPassword.
	Username, Password string
	// Scale adds that many generated devices to the seeded ones, for lists
	// and revocations at scale.
	Scale int
	// Devices replaces the seeded devices when non-nil.
	Devices []Device
	// Sites replaces the seeded sites when non-nil.
	Sites []Site
}

// DemoPassword is the administrator password of an emulator built without
// one. It is a demo credential, printed on purpose by `tokenwarden demo`.
const DemoPassword = "appgate-demo-admin"

// LocalProvider is the built-in identity provider administrators sign in with.
const LocalProvider = "local"

// Credentials are what a client needs to sign in to the emulator.
type Credentials struct {
	ProviderName string
	Username     string
	Password     string
}

// Emulator is one emulated controller. It is an http.Handler.
type Emulator struct {
	opts Options
	mux  *http.ServeMux

	mu      sync.Mutex
	devices []Device
	// sorted keeps devices in the list orders asked for until they change
	// (devicesGen counts changes), so paging through many devices with
	// range costs each page its own size, not a sort of every device.
	devicesGen   int
	sorted       map[deviceOrder]sortedDevices
	sites        []Site
	tokens       map[string]token
	revokedAt    map[string]time.Time // device DN -> when its admin tokens stop working
	revocations  []Revocation
	logins       int
	failedLogins int
	negotiations int
}

// New builds an emulator with its seeded devices.
func New(opts Options) *Emulator {
	if opts.MinVersion == 0 {
		opts.MinVersion = 18
	}
	if opts.MaxVersion == 0 {
		opts.MaxVersion = 23
	}
	if opts.TokenLifetime == 0 {
		opts.TokenLifetime = 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Username == "" {
		opts.Username = "admin"
	}
	if opts.Password == "" {
		opts.Password = DemoPassword
	}
	e := &Emulator{
		opts:      opts,
		tokens:    map[string]token{},
		revokedAt: map[string]time.Time{},
	}
	e.sites = opts.Sites
	if e.sites == nil {
		e.sites = SeedSites()
	}
	e.devices = opts.Devices
	if e.devices == nil {
		e.devices = SeedDevices(opts.Now())
	}
	e.devices = append([]Device(nil), e.devices...)
	e.devices = append(e.devices, ScaleDevices(opts.Now(), opts.Scale)...)

	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin/version", e.handleVersion)
	mux.Handle("POST /admin/login", e.versioned(http.HandlerFunc(e.handleLogin)))
	mux.Handle("GET /admin/on-boarded-devices", e.versioned(e.authenticated(e.handleListDevices)))
	mux.Handle("POST /admin/on-boarded-devices/revoke-tokens", e.versioned(e.authenticated(e.handleRevokeTokens)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "The requested resource can not be found.")
	})
	e.mux = mux
	return e
}

func (e *Emulator) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.mux.ServeHTTP(w, r) }

// Credentials returns the administrator's sign-in values.
func (e *Emulator) Credentials() Credentials {
	return Credentials{ProviderName: LocalProvider, Username: e.opts.Username, Password: e.opts.Password}
}

// Logins counts successful sign-ins (tokens issued).
func (e *Emulator) Logins() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.logins
}

// FailedLogins counts sign-ins refused with 401.
func (e *Emulator) FailedLogins() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.failedLogins
}

// Negotiations counts 406 answers to an unsupported Accept header: each is
// one version-negotiation round trip a client made.
func (e *Emulator) Negotiations() int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.negotiations
}

// Revocations returns every accepted revoke-tokens call, oldest first.
func (e *Emulator) Revocations() []Revocation {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]Revocation, len(e.revocations))
	for i, r := range e.revocations {
		r.DistinguishedNames = append([]string(nil), r.DistinguishedNames...)
		out[i] = r
	}
	return out
}

// IssuedTokens returns every token the controller has issued, for tests
// that prove no token leaked into a log.
func (e *Emulator) IssuedTokens() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, 0, len(e.tokens))
	for t := range e.tokens {
		out = append(out, t)
	}
	return out
}

// Devices returns the registered devices in distinguished-name order.
func (e *Emulator) Devices() []Device {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := append([]Device(nil), e.devices...)
	sortDevices(out, "distinguishedName", false)
	return out
}

// Sites returns the controller's sites.
func (e *Emulator) Sites() []Site {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Site(nil), e.sites...)
}

// Now is the emulator's clock, for tests that reason about activity windows.
func (e *Emulator) Now() time.Time { return e.opts.Now() }
