// Package config reads the sidecar's configuration file: caller API keys,
// connection profiles, the upstream allowlist, limits, idempotency, the
// fleet's Redis and the audit sink. The file is checked against schemas/config/tokenwarden.json
// (which also holds every default) and every bad field is named at once.
// Secrets never live in the file itself: they are references to environment
// variables or files, resolved here.
package config

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/secret"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// SchemaPath is the config file's schema below schemas.BaseURI.
const SchemaPath = "config/tokenwarden.json"

// Key is one caller API key, resolved.
type Key struct {
	ID    string
	Value secret.Value
}

// Config is the file, validated, defaults applied and secrets resolved.
type Config struct {
	Listen       string
	APIKeys      []Key
	Profiles     map[string]action.Profile
	Destinations upstream.Destinations
	Limits       Limits
	Idempotency  Idempotency
	// Redis, when set, is shared by a fleet of sidecars.
	Redis *Redis
	Audit Audit
	TLS   *TLS
	HTTP  HTTP
	// SecretFiles are the files the {"file"} references name, sorted: the
	// files a running sidecar watches to reload profiles (Watch).
	SecretFiles []string
}

// Redis is the fleet's shared Redis.
type Redis struct {
	URL secret.Value
	// TokenKey is the 32 bytes that encrypt stored tokens.
	TokenKey secret.Value
	// PreviousTokenKey is the key before TokenKey, while a rotation is
	// rolled out (empty otherwise): records sealed with it are still read.
	PreviousTokenKey secret.Value
}

// HTTP names the browser origins and host names the sidecar answers.
type HTTP struct {
	AllowedOrigins []string `json:"allowedOrigins"`
	AllowedHosts   []string `json:"allowedHosts"`
}

// Limits bound time and resources.
type Limits struct {
	ConnectTimeout           Duration `json:"connectTimeout"`
	RequestTimeout           Duration `json:"requestTimeout"`
	MaxConcurrentPerUpstream int      `json:"maxConcurrentPerUpstream"`
	MaxBodyBytes             int64    `json:"maxBodyBytes"`
	ShutdownGrace            Duration `json:"shutdownGrace"`
	ReadHeaderTimeout        Duration `json:"readHeaderTimeout"`
	ReadTimeout              Duration `json:"readTimeout"`
	IdleTimeout              Duration `json:"idleTimeout"`
	MaxConnections           int      `json:"maxConnections"`
	Retry                    struct {
		MaxAttempts int      `json:"maxAttempts"`
		BaseDelay   Duration `json:"baseDelay"`
		MaxDelay    Duration `json:"maxDelay"`
		MaxElapsed  Duration `json:"maxElapsed"`
	} `json:"retry"`
}

// Idempotency configures the Idempotency-Key store.
type Idempotency struct {
	Retention  Duration `json:"retention"`
	MaxEntries int      `json:"maxEntries"`
	MaxBytes   int      `json:"maxBytes"`
	// RedisURL, when set, puts the store in Redis instead of memory.
	RedisURL secret.Value `json:"-"`
}

// Audit says where audit events go.
type Audit struct {
	Sink string `json:"sink"` // stdout, file or none
	Path string `json:"path"`
}

// TLS is the listener's certificate and, for mutual TLS, the CA that signs
// callers' certificates.
type TLS struct {
	CertFile     string `json:"certFile"`
	KeyFile      string `json:"keyFile"`
	ClientCAFile string `json:"clientCaFile"`
}

// Duration reads "500ms", "5s", "24h".
type Duration time.Duration

// UnmarshalJSON implements json.Unmarshaler.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.ParseDuration(s)
	*d = Duration(v)
	return err
}

// Std returns the time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// file is the JSON shape after schema validation.
type file struct {
	Listen  string `json:"listen"`
	APIKeys []struct {
		ID string `json:"id"`
		ref
	} `json:"apiKeys"`
	Profiles map[string]struct {
		Provider   string          `json:"provider"`
		Connection json.RawMessage `json:"connection"`
	} `json:"profiles"`
	Destinations struct {
		Allow         []string `json:"allow"`
		AllowLoopback bool     `json:"allowLoopback"`
	} `json:"destinations"`
	Limits      Limits `json:"limits"`
	Idempotency struct {
		Idempotency
		RedisURL *ref `json:"redisUrl"`
	} `json:"idempotency"`
	Redis *struct {
		URL              ref  `json:"url"`
		TokenKey         ref  `json:"tokenKey"`
		PreviousTokenKey *ref `json:"previousTokenKey"`
	} `json:"redis"`
	Audit Audit `json:"audit"`
	TLS   *TLS  `json:"tls"`
	HTTP  HTTP  `json:"http"`
}

// ref points at a secret: an environment variable or a file.
type ref struct {
	Env  string `json:"env,omitempty"`
	File string `json:"file,omitempty"`
}

// Env looks up environment variables; tests pass a map's lookup.
type Env func(name string) (string, bool)

// Defaults is the configuration with no file: every default of the schema.
func Defaults(schemas *action.SchemaSet) (*Config, error) {
	cfg, errs := Parse(schemas, []byte(`{}`), os.LookupEnv)
	if len(errs) > 0 {
		return nil, action.InvalidInput(errs)
	}
	return cfg, nil
}

// Load reads path. The problem it returns, if any, names every bad field.
func Load(schemas *action.SchemaSet, path string, env Env) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	cfg, errs := Parse(schemas, b, env)
	if len(errs) > 0 {
		return nil, fmt.Errorf("config %s: %w", path, action.InvalidInput(errs))
	}
	return cfg, nil
}

// Parse validates a config document, resolves its secret references and
// validates each profile against its provider's connection schema, naming
// every bad field of all of them at once.
func Parse(schemas *action.SchemaSet, doc []byte, env Env) (*Config, []action.FieldError) {
	canonical, errs := schemas.Validate(SchemaPath, "config", doc)
	if len(errs) > 0 {
		return nil, errs
	}
	files := map[string]bool{}
	resolve := func(r ref) (string, error) {
		if r.File != "" {
			files[r.File] = true
		}
		return r.resolve(env)
	}
	var f file
	if err := json.Unmarshal(canonical, &f); err != nil {
		return nil, []action.FieldError{{Field: "config", Message: "passed its schema but not its Go type: " + err.Error()}}
	}
	cfg := &Config{Listen: f.Listen, Limits: f.Limits, Idempotency: f.Idempotency.Idempotency, Audit: f.Audit, TLS: f.TLS, HTTP: f.HTTP,
		Destinations: upstream.Destinations{Allow: f.Destinations.Allow, AllowLoopback: f.Destinations.AllowLoopback},
		Profiles:     map[string]action.Profile{}}
	if err := cfg.Destinations.Validate(); err != nil {
		errs = append(errs, action.FieldError{Field: "config.destinations.allow", Message: err.Error()})
	}
	if r := f.Idempotency.RedisURL; r != nil {
		v, err := resolve(*r)
		if err == nil {
			err = checkRedisURL(v)
		}
		if err != nil {
			errs = append(errs, action.FieldError{Field: "config.idempotency.redisUrl", Message: err.Error()})
		}
		cfg.Idempotency.RedisURL = secret.Value(v)
	}
	if r := f.Redis; r != nil {
		cfg.Redis = &Redis{}
		v, err := resolve(r.URL)
		if err == nil {
			err = checkRedisURL(v)
		}
		if err != nil {
			errs = append(errs, action.FieldError{Field: "config.redis.url", Message: err.Error()})
		}
		cfg.Redis.URL = secret.Value(v)
		if old := cfg.Idempotency.RedisURL; old != "" && old != cfg.Redis.URL {
			errs = append(errs, action.FieldError{Field: "config.idempotency.redisUrl", Message: "names another Redis than redis.url; leave it out: idempotency answers go to redis.url"})
		}
		cfg.Idempotency.RedisURL = cfg.Redis.URL
		v, err = resolve(r.TokenKey)
		if err == nil {
			v, err = decodeTokenKey(v)
		}
		if err != nil {
			errs = append(errs, action.FieldError{Field: "config.redis.tokenKey", Message: err.Error()})
		}
		cfg.Redis.TokenKey = secret.Value(v)
		if r.PreviousTokenKey != nil {
			v, err = resolve(*r.PreviousTokenKey)
			if err == nil {
				v, err = decodeTokenKey(v)
			}
			if err == nil && v == cfg.Redis.TokenKey.Reveal() {
				err = errors.New("is the same key as redis.tokenKey; give the key the fleet used before it, or leave it out")
			}
			if err != nil {
				errs = append(errs, action.FieldError{Field: "config.redis.previousTokenKey", Message: err.Error()})
			}
			cfg.Redis.PreviousTokenKey = secret.Value(v)
		}
	}
	seen := map[string]bool{}
	for i, k := range f.APIKeys {
		field := fmt.Sprintf("config.apiKeys.%d", i)
		if seen[k.ID] {
			errs = append(errs, action.FieldError{Field: field + ".id", Message: fmt.Sprintf("%q is used by two keys", k.ID)})
		}
		seen[k.ID] = true
		v, err := resolve(k.ref)
		switch {
		case err != nil:
			errs = append(errs, action.FieldError{Field: field, Message: err.Error()})
		case len(v) < 16:
			errs = append(errs, action.FieldError{Field: field, Message: "the key must be at least 16 characters long"})
		default:
			cfg.APIKeys = append(cfg.APIKeys, Key{ID: k.ID, Value: secret.Value(v)})
		}
	}
	names := make([]string, 0, len(f.Profiles))
	for name := range f.Profiles {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		p := f.Profiles[name]
		root := "config.profiles." + name
		schemaPath := "connections/" + p.Provider + ".json"
		bundled, err := schemas.Bundle(schemaPath, "")
		if err != nil {
			var known []string
			for _, path := range schemas.Paths("connections/") {
				known = append(known, strings.TrimSuffix(strings.TrimPrefix(path, "connections/"), ".json"))
			}
			errs = append(errs, action.FieldError{Field: root + ".provider", Message: fmt.Sprintf("no provider %q; known providers: %s", p.Provider, strings.Join(known, ", "))})
			continue
		}
		conn, connErrs := resolveConnection(root+".connection", p.Connection, secretNames(bundled), resolve)
		if len(connErrs) > 0 {
			errs = append(errs, connErrs...)
			continue
		}
		conn, connErrs = schemas.Validate(schemaPath, root+".connection", conn)
		errs = append(errs, connErrs...)
		cfg.Profiles[name] = action.Profile{Provider: p.Provider, Connection: conn}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	cfg.SecretFiles = slices.Sorted(maps.Keys(files))
	return cfg, nil
}

// checkRedisURL refuses anything but redis:// and rediss:// without
// repeating the value, which may hold a password.
func checkRedisURL(v string) error {
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || u.Host == "" {
		return errors.New("is not a redis://host:port or rediss://host:port URL")
	}
	return nil
}

// decodeTokenKey reads 32 base64-encoded bytes.
func decodeTokenKey(v string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(strings.TrimSpace(v))
	if err != nil {
		return "", errors.New("is not base64; make one with: openssl rand -base64 32")
	}
	if len(b) != 32 {
		return "", fmt.Errorf("holds %d bytes, not 32; make one with: openssl rand -base64 32", len(b))
	}
	return string(b), nil
}

func (r ref) resolve(env Env) (string, error) {
	if r.Env != "" {
		v, ok := env(r.Env)
		if !ok || v == "" {
			return "", fmt.Errorf("environment variable %s is not set", r.Env)
		}
		return v, nil
	}
	b, err := os.ReadFile(r.File)
	if err != nil {
		// The path is the user's own; the error names it and says why.
		return "", fmt.Errorf("reading %s: %v", r.File, unwrapPath(err))
	}
	// Files written by editors or secret stores end with a newline that is
	// not part of the secret.
	v := strings.TrimRight(string(b), "\r\n")
	if v == "" {
		return "", fmt.Errorf("%s is empty", r.File)
	}
	return v, nil
}

func unwrapPath(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// resolveConnection replaces every {"env"} or {"file"} reference in a
// profile's connection by the value it points at, and refuses a secret
// field written literally: the config file is not a place for secrets.
func resolveConnection(root string, raw json.RawMessage, secretFields map[string]bool, resolve func(ref) (string, error)) (json.RawMessage, []action.FieldError) {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil, []action.FieldError{{Field: root, Message: err.Error()}}
	}
	var errs []action.FieldError
	var walk func(path, name string, v any) any
	walk = func(path, name string, v any) any {
		switch t := v.(type) {
		case map[string]any:
			if r, ok := asRef(t); ok {
				s, err := resolve(r)
				if err != nil {
					errs = append(errs, action.FieldError{Field: path, Message: err.Error()})
				}
				return s
			}
			for k, x := range t {
				t[k] = walk(path+"."+k, k, x)
			}
		case string:
			if secretFields[name] {
				errs = append(errs, action.FieldError{Field: path, Message: `is a secret: give {"env": "VARIABLE"} or {"file": "/path"} instead of the value`})
			}
		}
		return v
	}
	v = walk(root, "", v)
	out, _ := json.Marshal(v)
	return out, errs
}

// asRef recognises {"env": "NAME"} and {"file": "/path"}: an object with
// exactly one member of that name holding a string.
func asRef(m map[string]any) (ref, bool) {
	if len(m) != 1 {
		return ref{}, false
	}
	if s, ok := m["env"].(string); ok {
		return ref{Env: s}, true
	}
	if s, ok := m["file"].(string); ok {
		return ref{File: s}, true
	}
	return ref{}, false
}

// secretNames collects the property names a bundled schema marks x-secret,
// at any depth.
func secretNames(schema map[string]any) map[string]bool {
	out := map[string]bool{}
	var walk func(any)
	walk = func(n any) {
		switch t := n.(type) {
		case map[string]any:
			if props, ok := t["properties"].(map[string]any); ok {
				for name, p := range props {
					if m, ok := p.(map[string]any); ok && m["x-secret"] == true {
						out[name] = true
					}
				}
			}
			for _, x := range t {
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	walk(schema)
	return out
}
