package config_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/config"
)

func TestSecretFilesAreListed(t *testing.T) {
	set, _ := setup(t)
	dir := t.TempDir()
	secret := filepath.Join(dir, "pbx")
	os.WriteFile(secret, []byte("pbx-secret\n"), 0o600)
	doc := `{"profiles": {"pbx": {"provider": "threecx", "connection": {"baseUrl": "https://pbx.example.com", "clientId": "tw", "clientSecret": {"file": "` + secret + `"}}}},
		"apiKeys": [{"id": "a", "env": "KEY_A"}]}`
	cfg, errs := config.Parse(set, []byte(doc), env(map[string]string{"KEY_A": "0123456789abcdef0"}))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if !slices.Equal(cfg.SecretFiles, []string{secret}) {
		t.Fatalf("SecretFiles %v", cfg.SecretFiles)
	}
}

// A secret written in place, and one replaced by renaming a new file over
// it (as secret stores do), are both seen; a file beside it is not.
func TestWatchSeesWritesAndReplacements(t *testing.T) {
	dir := t.TempDir()
	secret := filepath.Join(dir, "pbx")
	os.WriteFile(secret, []byte("one"), 0o600)
	changes := make(chan struct{}, 16)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := config.Watch(ctx, []string{secret}, func() { changes <- struct{}{} }, func(err error) { t.Error(err) }); err != nil {
		t.Fatal(err)
	}
	wait := func(what string) {
		t.Helper()
		select {
		case <-changes:
		case <-time.After(20 * time.Second):
			t.Fatalf("no change reported after %s", what)
		}
	}
	os.WriteFile(secret, []byte("two"), 0o600)
	wait("writing the file")
	tmp := filepath.Join(dir, ".pbx.tmp")
	os.WriteFile(tmp, []byte("three"), 0o600)
	if err := os.Rename(tmp, secret); err != nil {
		t.Fatal(err)
	}
	wait("renaming a new file over it")
	// Unrelated files in the folder are not reported.
	os.WriteFile(filepath.Join(dir, "other"), []byte("x"), 0o600)
	select {
	case <-changes:
		t.Fatal("a write to another file was reported")
	case <-time.After(2 * time.Second):
	}
}
