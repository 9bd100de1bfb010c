package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testneed"
)

// buildBinary builds the binary with build tags tags ("nodemo": the
// production binary; "": with the demo and the emulators) into a temp dir.
func buildBinary(t *testing.T, tags string) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		testneed.Missing(t, "no go tool on PATH to build the binary")
	}
	out := filepath.Join(t.TempDir(), "tokenwarden")
	cmd := exec.Command(goBin, "build", "-tags", tags, "-o", out, "./sidecar/cmd/tokenwarden")
	cmd.Dir = "../../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	return out
}

var revokePath = regexp.MustCompile(`SecurityTokens\((\d+)\)/Pbx\.RevokeToken$`)

// kill -9 in the middle of a burst of revocations: every revocation the PBX
// saw has its intent event on disk, because the intent is fsync'd before
// the call leaves the sidecar.
func TestSIGKILLMidBurstLeavesNoRevocationUnaudited(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the real binary")
	}
	bin := buildBinary(t, "nodemo")
	emu := threecxemu.New(threecxemu.Options{})
	var mu sync.Mutex
	seen := map[int]bool{}
	enough := make(chan struct{})
	var once sync.Once
	pbx := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if m := revokePath.FindStringSubmatch(r.URL.Path); m != nil {
			id, _ := strconv.Atoi(m[1])
			mu.Lock()
			seen[id] = true
			if len(seen) >= 60 {
				once.Do(func() { close(enough) })
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond) // keep a few in flight when the kill comes
		}
		emu.ServeHTTP(w, r)
	}))
	defer pbx.Close()
	clientID, secret := emu.Credentials()

	dir := t.TempDir()
	auditPath := filepath.Join(dir, "audit.jsonl")
	cfg, _ := json.Marshal(map[string]any{
		"destinations": map[string]any{"allowLoopback": true},
		"audit":        map[string]any{"sink": "file", "path": auditPath},
		"profiles": map[string]any{"pbx": map[string]any{"provider": "threecx", "connection": map[string]any{
			"baseUrl": pbx.URL, "clientId": clientID, "clientSecret": map[string]any{"env": "TW_TEST_PBX_SECRET"}}}},
	})
	cfgPath := filepath.Join(dir, "tokenwarden.json")
	if err := os.WriteFile(cfgPath, cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--config", cfgPath)
	cmd.Env = append(os.Environ(), "TW_TEST_PBX_SECRET="+secret)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var line struct{ Msg, Addr string }
			if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" {
				url <- line.Addr
			}
		}
	}()
	var base string
	select {
	case base = <-url:
	case <-time.After(60 * time.Second):
		t.Fatal("the sidecar did not start")
	}

	// 16 callers revoke ids 1..2000, each id once, until the kill.
	ids := make(chan int)
	go func() {
		defer close(ids)
		for id := 1; id <= 2000; id++ {
			select {
			case ids <- id:
			case <-enough:
				return
			}
		}
	}()
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 30 * time.Second}
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range ids {
				body := fmt.Sprintf(`{"profile": "pbx", "input": {"id": %d}}`, id)
				resp, err := client.Post(base+"/v1/actions/threecx.revokeSecurityToken", "application/json", bytes.NewReader([]byte(body)))
				if err != nil {
					return // killed
				}
				resp.Body.Close()
			}
		}()
	}
	select {
	case <-enough:
	case <-time.After(120 * time.Second):
		t.Fatal("the burst did not reach the PBX")
	}
	if err := cmd.Process.Signal(os.Kill); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	wg.Wait()

	intents := map[int]bool{}
	outcomes := 0
	for _, e := range readAudit(t, auditPath) {
		targets, _ := e["targets"].(map[string]any)
		id, _ := targets["id"].(float64)
		switch e["phase"] {
		case "intent":
			intents[int(id)] = true
		case "outcome":
			outcomes++
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var missing []string
	for id := range seen {
		if !intents[id] {
			missing = append(missing, strconv.Itoa(id))
		}
	}
	if len(missing) > 0 {
		t.Fatalf("%d of %d revocations the PBX saw have no intent event: %s", len(missing), len(seen), strings.Join(missing, ", "))
	}
	t.Logf("PBX saw %d revocations; %d intents and %d outcomes on disk after kill -9", len(seen), len(intents), outcomes)
}
