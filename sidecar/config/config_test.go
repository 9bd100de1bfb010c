package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/config"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
)

func setup(t *testing.T) (*action.SchemaSet, *action.Registry) {
	t.Helper()
	set, err := action.LoadSchemas()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := action.NewRegistry(set, action.Env{}, providers.All()...)
	if err != nil {
		t.Fatal(err)
	}
	return set, reg
}

func env(m map[string]string) config.Env {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestDefaultsComeFromTheSchema(t *testing.T) {
	set, _ := setup(t)
	cfg, err := config.Defaults(set)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Limits.RequestTimeout.Std() != 30*time.Second || cfg.Limits.Retry.MaxAttempts != 4 || cfg.Limits.Retry.BaseDelay.Std() != 200*time.Millisecond ||
		cfg.Idempotency.Retention.Std() != 24*time.Hour || cfg.Idempotency.MaxBytes != 64<<20 || cfg.Audit.Sink != "stdout" || cfg.Destinations.AllowLoopback || cfg.Limits.MaxBodyBytes != 1<<20 {
		t.Fatalf("%+v", cfg)
	}
}

func TestGoodConfigResolvesSecrets(t *testing.T) {
	set, reg := setup(t)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key2")
	os.WriteFile(keyFile, []byte("second-key-0123456789\n"), 0o600)
	secretFile := filepath.Join(dir, "pbx")
	os.WriteFile(secretFile, []byte("pbx-secret-from-file\n"), 0o600)
	doc := `{
	  "listen": "0.0.0.0:8787",
	  "apiKeys": [{"id": "n8n", "env": "TW_KEY"}, {"id": "n8n-next", "file": "` + keyFile + `"}],
	  "profiles": {"pbx": {"provider": "threecx", "connection": {"baseUrl": "https://pbx.example.com", "clientId": "svc", "clientSecret": {"file": "` + secretFile + `"}}}},
	  "destinations": {"allow": ["pbx.example.com", "10.0.0.0/8"]},
	  "limits": {"retry": {"maxAttempts": 2}},
	  "audit": {"sink": "file", "path": "/tmp/audit.jsonl"}
	}`
	cfg, errs := config.Parse(set, []byte(doc), env(map[string]string{"TW_KEY": "first-key-0123456789"}))
	if errs != nil {
		t.Fatal(errs)
	}
	if len(cfg.APIKeys) != 2 || cfg.APIKeys[0].Value.Reveal() != "first-key-0123456789" || cfg.APIKeys[1].Value.Reveal() != "second-key-0123456789" {
		t.Fatalf("keys %+v", cfg.APIKeys)
	}
	if !strings.Contains(string(cfg.Profiles["pbx"].Connection), `"clientSecret":"pbx-secret-from-file"`) {
		t.Fatalf("profile %s", cfg.Profiles["pbx"].Connection)
	}
	if cfg.Limits.Retry.MaxAttempts != 2 || cfg.Limits.Retry.MaxElapsed.Std() != 10*time.Second {
		t.Fatalf("limits %+v", cfg.Limits)
	}
	if err := reg.SetProfiles(cfg.Profiles); err != nil || len(reg.ProfileNames()) != 1 {
		t.Fatalf("registry refused the profiles: %v", err)
	}
}

func TestBadConfigNamesEveryField(t *testing.T) {
	set, _ := setup(t)
	for name, c := range map[string]struct {
		doc  string
		want []string
	}{
		"schema": {`{"listen": 7, "apiKeys": [{"id": "a b", "env": "X", "file": "/y"}], "limits": {"connectTimeout": "soon", "retry": {"maxAttempts": 0}}, "audit": {"sink": "file"}, "tls": {"certFile": "c"}, "bogus": 1}`,
			[]string{"config.listen", "config.apiKeys.0", "config.limits.connectTimeout", "config.limits.retry.maxAttempts", "config.audit.path", "config.tls.keyFile", "config.bogus"}},
		"references": {`{"apiKeys": [{"id": "a", "env": "MISSING"}, {"id": "a", "env": "SHORT"}, {"id": "c", "file": "/nonexistent/key"}],
			"destinations": {"allow": ["10.0.0.0/99"]},
			"profiles": {"pbx": {"provider": "threecx", "connection": {"baseUrl": "https://pbx", "clientId": "x", "clientSecret": "literal-secret"}}}}`,
			[]string{"config.apiKeys.0", "config.apiKeys.1.id", "config.apiKeys.1", "config.apiKeys.2", "config.destinations.allow", "config.profiles.pbx.connection.clientSecret"}},
		"profile against its provider": {`{"profiles": {"pbx": {"provider": "threecx", "connection": {"baseUrl": "ftp://pbx", "clientSecret": {"env": "S"}}}, "x": {"provider": "nope", "connection": {}}}}`,
			[]string{"config.profiles.pbx.connection.baseUrl", "config.profiles.pbx.connection.clientId", "config.profiles.x.provider"}},
	} {
		_, errs := config.Parse(set, []byte(c.doc), env(map[string]string{"SHORT": "abc", "S": "a-secret"}))
		got := map[string]string{}
		for _, e := range errs {
			got[e.Field] = e.Message
		}
		for _, f := range c.want {
			if _, ok := got[f]; !ok {
				t.Errorf("%s: %s not named; got %v", name, f, got)
			}
		}
		for f, msg := range got {
			if strings.Contains(msg, "literal-secret") || strings.Contains(msg, "a-secret") {
				t.Errorf("%s: %s echoes a secret: %s", name, f, msg)
			}
		}
	}
}

// The example in docs/configuration.md must stay a valid config file.
func TestDocumentedExampleFollowsTheSchema(t *testing.T) {
	set, _ := setup(t)
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```json\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("no JSON example in docs/configuration.md")
	}
	if _, errs := set.Validate(config.SchemaPath, "config", []byte(example)); errs != nil {
		t.Fatalf("the documented example is invalid: %v", errs)
	}
}

func TestRedisSection(t *testing.T) {
	set, _ := setup(t)
	key := "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  // 32 bytes
	prev := "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA=" // 32 other bytes
	vars := env(map[string]string{"R": "redis://:CANARY-pw@10.0.0.5:6379/0", "K": key + "\n", "P": prev, "BAD": "http://:CANARY-pw@h", "SHORTKEY": "c2hvcnQ=", "OTHER": "redis://other:6379"})
	cfg, errs := config.Parse(set, []byte(`{"redis": {"url": {"env": "R"}, "tokenKey": {"env": "K"}}}`), vars)
	if errs != nil {
		t.Fatal(errs)
	}
	if cfg.Redis.URL.Reveal() != "redis://:CANARY-pw@10.0.0.5:6379/0" || cfg.Redis.TokenKey.Reveal() != "0123456789abcdef0123456789abcdef" ||
		cfg.Idempotency.RedisURL != cfg.Redis.URL {
		t.Fatalf("%+v", cfg.Redis)
	}
	// While rotating, the previous key too.
	cfg, errs = config.Parse(set, []byte(`{"redis": {"url": {"env": "R"}, "tokenKey": {"env": "K"}, "previousTokenKey": {"env": "P"}}}`), vars)
	if errs != nil || cfg.Redis.PreviousTokenKey.Reveal() != "fedcba9876543210fedcba9876543210" {
		t.Fatalf("%v %+v", errs, cfg.Redis)
	}
	// The older idempotency.redisUrl still works alone, and may repeat redis.url.
	cfg, errs = config.Parse(set, []byte(`{"idempotency": {"redisUrl": {"env": "R"}}}`), vars)
	if errs != nil || cfg.Redis != nil || cfg.Idempotency.RedisURL.Reveal() == "" {
		t.Fatal(errs)
	}
	if _, errs := config.Parse(set, []byte(`{"redis": {"url": {"env": "R"}, "tokenKey": {"env": "K"}}, "idempotency": {"redisUrl": {"env": "R"}}}`), vars); errs != nil {
		t.Fatal(errs)
	}
	for doc, want := range map[string][]string{
		`{"redis": {"url": {"env": "BAD"}, "tokenKey": {"env": "SHORTKEY"}}, "idempotency": {"redisUrl": {"env": "OTHER"}}}`: {"config.redis.url", "config.redis.tokenKey", "config.idempotency.redisUrl"},
		`{"redis": {"url": {"env": "R"}, "tokenKey": {"env": "NOPE"}}}`:                                                      {"config.redis.tokenKey"},
		`{"redis": {"url": {"env": "R"}}}`:                                                                    {"config.redis.tokenKey"},
		`{"redis": {"url": "redis://h", "tokenKey": {"env": "K"}}}`:                                           {"config.redis.url"},
		`{"idempotency": {"redisUrl": {"env": "BAD"}}}`:                                                       {"config.idempotency.redisUrl"},
		`{"redis": {"url": {"env": "R"}, "tokenKey": {"env": "K"}, "previousTokenKey": {"env": "K"}}}`:        {"config.redis.previousTokenKey"},
		`{"redis": {"url": {"env": "R"}, "tokenKey": {"env": "K"}, "previousTokenKey": {"env": "SHORTKEY"}}}`: {"config.redis.previousTokenKey"},
		`{"redis": {"url": {"env": "R"}, "tokenKey": {"env": "K"}, "previousTokenKey": "c2hvcnQ="}}`:          {"config.redis.previousTokenKey"},
	} {
		_, errs := config.Parse(set, []byte(doc), vars)
		got := map[string]string{}
		for _, e := range errs {
			got[e.Field] = e.Message
			if strings.Contains(e.Message, "CANARY") {
				t.Errorf("%s echoes a secret: %s", e.Field, e.Message)
			}
		}
		for _, f := range want {
			if _, ok := got[f]; !ok {
				t.Errorf("%s: %s not named; got %v", doc, f, got)
			}
		}
	}
}
