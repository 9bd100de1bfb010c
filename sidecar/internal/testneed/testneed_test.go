package testneed_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/testneed"
)

// The helper test runs in a child process so that its skip or failure can be
// observed from here, once with CI set and once without.
func TestMissingSkipsLocallyAndFailsUnderCI(t *testing.T) {
	if os.Getenv("TESTNEED_CHILD") != "" {
		testneed.Missing(t, "redis-server is not installed")
		return
	}
	for _, tc := range []struct {
		ci       string
		wantFail bool
		wantText string
	}{
		{ci: "", wantFail: false, wantText: "SKIP"},
		{ci: "true", wantFail: true, wantText: "needed under CI but missing: redis-server is not installed"},
	} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestMissingSkipsLocallyAndFailsUnderCI$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTNEED_CHILD=1", "CI="+tc.ci)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != tc.wantFail {
			t.Errorf("CI=%q: failed=%v, want %v\n%s", tc.ci, failed, tc.wantFail, out)
		}
		if !strings.Contains(string(out), tc.wantText) {
			t.Errorf("CI=%q: output lacks %q:\n%s", tc.ci, tc.wantText, out)
		}
	}
}
