package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/redistest"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testlog"
)

// TestFleetOfProcessesSharesOnePBXSignIn is the fleet's acceptance test as
// it is deployed: three `tokenwarden serve` processes, one `tokenwarden
// emulators` process and one redis-server, nothing shared but Redis.
func TestFleetOfProcessesSharesOnePBXSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and runs five processes")
	}
	redisSrv := redistest.Start(t)
	bin := buildBinary(t, "")
	emu := startEmulatorsProcess(t, bin)
	cfg := filepath.Join(t.TempDir(), "fleet.json")
	b, _ := json.Marshal(map[string]any{
		"destinations": map[string]any{"allowLoopback": true},
		"redis":        map[string]any{"url": map[string]string{"env": "TW_REDIS"}, "tokenKey": map[string]string{"env": "TW_TOKEN_KEY"}},
	})
	if err := os.WriteFile(cfg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	var replicas []*serveProcess
	for range 3 {
		replicas = append(replicas, startServeProcess(t, bin, cfg, "TW_REDIS="+redisSrv.URL, "TW_TOKEN_KEY="+fleetTokenKey))
	}
	conn := emu.connections["threecx"]
	secret := fmt.Sprint(conn["clientSecret"])
	connJSON, _ := json.Marshal(conn)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}

	// burst sends n calls spread over the replicas at once. With then set,
	// calls from index at on wait until the first at are answered and then
	// has run: whatever it does happens mid-run, before they reach the PBX.
	burst := func(n int, input func(i int) (string, string), at int, then func()) []answer {
		out := make([]answer, n)
		released := make(chan struct{})
		if then == nil {
			close(released)
		}
		var answered atomic.Int64
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if i >= at {
					<-released
				}
				a, in := input(i)
				out[i] = callProcess(client, replicas[i%len(replicas)].url, a, string(connJSON), in)
				if then != nil && answered.Add(1) == int64(at) {
					then()
					close(released)
				}
			}()
		}
		wg.Wait()
		return out
	}
	list := func(int) (string, string) { return "threecx.listSecurityTokens", `{"top": 5}` }
	allOK := func(phase string, answers []answer) {
		t.Helper()
		for i, a := range answers {
			if a.err != nil || a.status != 200 {
				t.Fatalf("%s: call %d: %d %v %v", phase, i, a.status, a.body, a.err)
			}
		}
	}

	allOK("burst", burst(300, list, 0, nil))
	if n := emu.stats(t)["signIns"]; n != 1 {
		t.Fatalf("300 calls over 3 replica processes made %v token requests, want 1", n)
	}

	// The PBX drops the token a third of the way through the next burst
	// (someone signed in elsewhere): the other 200 calls, on all three
	// replicas, meet a 401 and cost one fleet-wide sign-in more.
	allOK("invalidated", burst(300, list, 100, emu.invalidateTokens))
	if n := emu.stats(t)["signIns"]; n != 2 {
		t.Fatalf("after the PBX dropped the token: %v token requests in all, want 2", n)
	}

	// Redis dies mid-burst and the PBX drops the token at the same moment,
	// so every replica must sign in again without the fleet. Revocations of
	// distinct, unrevoked tokens (the --scale seeds) run among the lists.
	before := emu.stats(t)
	isRevoke := func(i int) bool { return i%10 == 0 }
	answers := burst(300, func(i int) (string, string) {
		if isRevoke(i) {
			return "threecx.revokeSecurityToken", fmt.Sprintf(`{"id": %d}`, 35+i/10)
		}
		return list(i)
	}, 50, func() { redisSrv.Kill(); emu.invalidateTokens() })
	ok, revokedOK, kinds := 0, 0, map[string]int{}
	for i, a := range answers {
		if a.err != nil || a.body == nil {
			t.Fatalf("call %d unanswered: %v", i, a.err)
		}
		if typ, _ := a.body["type"].(string); typ != "" {
			kinds[strings.TrimPrefix(typ, action.ProblemBase)]++
		}
		if a.status == 200 {
			ok++
			if isRevoke(i) {
				revokedOK++
			}
		} else if typ, _ := a.body["type"].(string); !strings.HasPrefix(typ, action.ProblemBase) {
			t.Fatalf("call %d: %d without a problem type: %v", i, a.status, a.body)
		}
	}
	after := emu.stats(t)
	// Each revocation the PBX carried out was reported done, and none was
	// carried out twice: as many RevokeToken calls as tokens newly revoked
	// as revocations answered 200.
	calls, newlyRevoked := after["revokeRequests"]-before["revokeRequests"], after["revoked"]-before["revoked"]
	if calls != newlyRevoked || int(calls) != revokedOK {
		t.Fatalf("the PBX answered %v RevokeToken calls and %v tokens were newly revoked; the callers were told %d succeeded", calls, newlyRevoked, revokedOK)
	}
	t.Logf("Redis killed mid-burst: %d of 300 calls succeeded, %d of 30 revocations (failures %v); %v token requests in all", ok, revokedOK, kinds, after["signIns"])

	for i, r := range replicas {
		// Every replica notices (its next sign-in or its ping) ...
		deadline := time.Now().Add(30 * time.Second)
		for {
			code, body := httpGet(t, r.url+"/readyz")
			if code == 200 && strings.Contains(body, `"degraded"`) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("replica %d never said degraded: %d %s", i, code, body)
			}
			time.Sleep(100 * time.Millisecond)
		}
		// ... says so plainly, once, and still takes calls.
		if _, m := httpGet(t, r.url+"/metrics"); !strings.Contains(m, "tokenwarden_fleet_degraded 1") {
			t.Fatalf("replica %d: metric not 1", i)
		}
		if a := callProcess(client, r.url, "threecx.listSecurityTokens", string(connJSON), `{"top": 1}`); a.err != nil || a.body == nil {
			t.Fatalf("replica %d: %v", i, a.err)
		}
		log := r.log.String()
		if n := strings.Count(log, "fleet degraded"); n != 1 {
			t.Fatalf("replica %d logged %d warnings within a minute: %s", i, n, log)
		}
		if strings.Contains(log, secret) || strings.Contains(log, fleetTokenKey) {
			t.Fatalf("replica %d logged a secret", i)
		}
	}
}

// serveProcess is one `tokenwarden serve` process and its log.
type serveProcess struct {
	url string
	log *testlog.Buffer
}

func startServeProcess(t *testing.T, bin, cfg string, env ...string) *serveProcess {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--config", cfg)
	cmd.Env = append(os.Environ(), env...)
	p := &serveProcess{log: &testlog.Buffer{}}
	url := make(chan string, 1)
	startLogged(t, cmd, func(line []byte) {
		_, _ = p.log.Write(append(line, '\n'))
		var l struct{ Msg, Addr string }
		if json.Unmarshal(line, &l) == nil && l.Msg == "listening" {
			url <- l.Addr
		}
	})
	select {
	case p.url = <-url:
	case <-time.After(60 * time.Second):
		t.Fatalf("tokenwarden serve did not start:\n%s", p.log.String())
	}
	return p
}

// startLogged starts cmd, hands each line of its output to onLine, and
// stops it (SIGINT, then SIGKILL) when the test ends.
func startLogged(t *testing.T, cmd *exec.Cmd, onLine func([]byte)) {
	t.Helper()
	r, w := io.Pipe()
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	read := make(chan struct{})
	go func() {
		defer close(read)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			onLine(sc.Bytes())
		}
	}()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); w.Close(); close(done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		<-read
	})
}

// emulatorsProcess is one `tokenwarden emulators` process.
type emulatorsProcess struct {
	url         string
	connections map[string]map[string]any
}

func startEmulatorsProcess(t *testing.T, bin string) *emulatorsProcess {
	t.Helper()
	ready := regexp.MustCompile(`GET (http://\S+)/connections`)
	url := make(chan string, 1)
	var out testlog.Buffer
	startLogged(t, exec.Command(bin, "emulators", "--listen", "127.0.0.1:0", "--scale", "100"), func(line []byte) {
		_, _ = out.Write(append(line, '\n'))
		if m := ready.FindSubmatch(line); m != nil {
			url <- string(m[1])
		}
	})
	e := &emulatorsProcess{}
	select {
	case e.url = <-url:
	case <-time.After(60 * time.Second):
		t.Fatalf("tokenwarden emulators did not start:\n%s", out.String())
	}
	getJSON(t, e.url+"/connections", &e.connections)
	return e
}

// stats are the 3CX emulator's counters: signIns, revokeRequests, revoked.
func (e *emulatorsProcess) stats(t *testing.T) map[string]float64 {
	t.Helper()
	var s map[string]map[string]float64
	getJSON(t, e.url+"/stats", &s)
	return s["threecx"]
}

// invalidateTokens ends the PBX's access tokens; it runs from a burst's
// goroutine, so a failure is a panic that fails the test binary.
func (e *emulatorsProcess) invalidateTokens() {
	resp, err := http.Post(e.url+"/threecx/invalidate-tokens", "", nil)
	if err != nil || resp.StatusCode != http.StatusNoContent {
		panic(fmt.Sprintf("invalidate tokens: %v %v", err, resp))
	}
	resp.Body.Close()
}

type answer struct {
	status int
	body   map[string]any
	err    error
}

func callProcess(client *http.Client, base, actionID, conn, input string) answer {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/v1/actions/"+actionID, strings.NewReader(`{"connection": `+conn+`, "input": `+input+`}`))
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	a := answer{status: resp.StatusCode}
	if err := json.Unmarshal(b, &a.body); err != nil {
		a.err = fmt.Errorf("not JSON: %s", b)
	}
	return a
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
