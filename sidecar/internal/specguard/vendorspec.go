package specguard

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// VendorSpecEnv names a folder that overrides where vendor specs are looked for.
const VendorSpecEnv = "TOKENWARDEN_VENDOR_SPECS"

// VendorSpecPath locates a file in the shared vendor-specs folder, which lives outside the
// repository: $TOKENWARDEN_VENDOR_SPECS when set, otherwise the first shared/vendor-specs found
// beside the repository root (the directory holding go.mod) or beside one of its ancestors, so
// both a checkout at /work/main and a worktree at /work/wt/x find /work/shared. Tests call it
// with, say, "3cx-xapi-20.0.10", "swagger.yaml" and skip when it returns an error.
func VendorSpecPath(parts ...string) (string, error) {
	if dir := os.Getenv(VendorSpecEnv); dir != "" {
		return existing(filepath.Join(append([]string{dir}, parts...)...))
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	for dir := filepath.Dir(root); ; dir = filepath.Dir(dir) {
		p := filepath.Join(append([]string{dir, "shared", "vendor-specs"}, parts...)...)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("specguard: vendor spec %s not found in a shared/vendor-specs beside %s or its ancestors (set %s)",
				filepath.Join(parts...), root, VendorSpecEnv)
		}
	}
}

func existing(p string) (string, error) {
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("specguard: vendor spec not available: %w", err)
	}
	return p, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("specguard: no go.mod above the working directory")
		}
		dir = parent
	}
}
