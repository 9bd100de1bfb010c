// Package testneed decides what a test does when something from outside the
// repository that it needs (a program, a vendor's OpenAPI file) is missing.
package testneed

import (
	"os"
	"testing"
)

// Missing skips the test on a developer's machine, saying what is missing.
// Under CI (the CI variable set, as CI runs .ci/run) it fails instead:
// .ci/run installs every requirement and CI lays shared/ beside the clone,
// so a skip there would be a test that passes without testing anything.
func Missing(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("needed under CI but missing: "+format, args...)
	}
	t.Skipf(format, args...)
}
