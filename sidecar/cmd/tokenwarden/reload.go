package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/audit"
	"github.com/tokenwarden/tokenwarden/sidecar/config"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
)

// secretReloader re-reads the config file's profiles and caller API keys,
// and the secrets they reference, while the sidecar runs: when a referenced
// file changes and on SIGHUP (which also re-reads {"env"} references). Other
// settings (listen address, limits, the Redis URL) take a restart; the
// reload leaves them as they were.
type secretReloader struct {
	path string
	reg  *action.Registry
	keys *httpapi.APIKeys // nil: the sidecar runs without caller keys
	// current is what keys holds, to tell whether a reload changed it.
	current []httpapi.APIKey
	logger  *slog.Logger
	sink    audit.Sink // nil when auditing is off
	lookup  config.Env
	mu      sync.Mutex // one reload at a time
}

// reloadAction names secret reloads in the audit trail, beside the action ids.
const reloadAction = "tokenwarden.reloadSecrets"

// reload re-reads everything and swaps the profiles in. A config that no
// longer validates, or a secret that cannot be read, changes nothing: the
// sidecar keeps working on what it had.
func (s *secretReloader) reload(trigger string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	set, err := action.LoadSchemas()
	var cfg *config.Config
	if err == nil {
		cfg, err = config.Load(set, s.path, s.lookup)
	}
	if err == nil {
		err = addEnvKey(cfg)
	}
	var changed []string
	if err == nil {
		changed, err = s.reg.ReplaceProfiles(cfg.Profiles)
	}
	if err == nil {
		if keys := s.replaceKeys(cfg); keys {
			changed = append(changed, "apiKeys")
		}
	}
	e := audit.Event{Time: time.Now().UTC(), Action: reloadAction, Targets: map[string]any{"trigger": trigger}}
	if err != nil {
		// The error names files and fields, never a secret's value.
		s.logger.Error("secret reload failed; the sidecar keeps the secrets it had", "trigger", trigger, "error", err.Error())
		e.Outcome, e.Status, e.Targets["error"] = "failed", 422, err.Error()
		var p *action.Problem
		if errors.As(err, &p) {
			e.Problem = p.Type
		}
	} else {
		s.logger.Info("secrets reloaded", "trigger", trigger, "changed", changed)
		if len(changed) == 0 {
			return
		}
		e.Outcome, e.Status, e.Targets["changed"] = "succeeded", 200, changed
	}
	if s.sink != nil {
		if err := s.sink.Write(e); err != nil {
			s.logger.Error("audit event not written", "error", err.Error(), "action", reloadAction)
		}
	}
}

// replaceKeys swaps in the reloaded caller keys and reports whether they
// changed. A sidecar that started without keys cannot start requiring them
// (its listener was allowed because it had none), and one with keys is never
// left with none.
func (s *secretReloader) replaceKeys(cfg *config.Config) bool {
	fresh := callerKeys(cfg)
	switch {
	case s.keys == nil && len(fresh) > 0:
		s.logger.Warn("the reloaded config has apiKeys, but the sidecar started without any: restart it to require them")
		return false
	case s.keys == nil:
		return false
	case len(fresh) == 0:
		s.logger.Warn("the reloaded config has no apiKeys; the sidecar keeps the keys it had")
		return false
	}
	if slices.EqualFunc(s.current, fresh, func(a, b httpapi.APIKey) bool { return a.ID == b.ID && a.Key.Reveal() == b.Key.Reveal() }) {
		return false
	}
	s.keys.Set(fresh)
	s.current = fresh
	return true
}

// startSecretReload watches the secret files cfg references and listens for
// SIGHUP until ctx ends. Without a config file there is nothing to reload,
// but SIGHUP is still taken, so a habitual "kill -HUP" does not end the
// sidecar.
func startSecretReload(ctx context.Context, rt *runtime, path string, logger *slog.Logger) {
	s := &secretReloader{path: path, reg: rt.reg, keys: rt.keys, current: callerKeys(rt.cfg), logger: logger, sink: rt.audit, lookup: os.LookupEnv}
	if path != "" {
		if err := config.Watch(ctx, rt.cfg.SecretFiles, func() { s.reload("file") },
			func(err error) { logger.Warn("secret file watch", "error", err.Error()) }); err != nil {
			logger.Warn("secret files are not watched; send SIGHUP after rotating one", "error", err.Error())
		}
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	go func() {
		defer signal.Stop(hup)
		for {
			select {
			case <-ctx.Done():
				return
			case <-hup:
				if path == "" {
					logger.Info("SIGHUP: no config file, nothing to reload")
					continue
				}
				s.reload("SIGHUP")
			}
		}
	}()
}
