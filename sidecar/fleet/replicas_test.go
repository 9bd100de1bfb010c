package fleet_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
	"github.com/tokenwarden/tokenwarden/sidecar/fleet"
	"github.com/tokenwarden/tokenwarden/sidecar/httpapi"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/redistest"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testclock"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testlog"
	"github.com/tokenwarden/tokenwarden/sidecar/metrics"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

// pbx is one 3CX emulator that counts what the replicas did to it, and
// can be told to do something once, at its nth XAPI request.
type pbx struct {
	emu  *threecxemu.Emulator
	srv  *httptest.Server
	xapi atomic.Int64

	mu        sync.Mutex
	revoked   map[string]int // RevokeToken path -> 204 answers
	at        int64
	thenOnce  func()
	triggered bool
}

var revokePath = regexp.MustCompile(`^/xapi/v1/SecurityTokens\((\d+)\)/Pbx\.RevokeToken$`)

func newPBX(t *testing.T, clock *testclock.Clock) *pbx {
	p := &pbx{emu: threecxemu.New(threecxemu.Options{Now: clock.Now}), revoked: map[string]int{}}
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/xapi/") {
			n := p.xapi.Add(1)
			p.mu.Lock()
			if p.thenOnce != nil && n >= p.at && !p.triggered {
				p.triggered = true
				p.thenOnce()
			}
			p.mu.Unlock()
		}
		rec := httptest.NewRecorder()
		p.emu.ServeHTTP(rec, r)
		if m := revokePath.FindStringSubmatch(r.URL.Path); m != nil && rec.Code == http.StatusNoContent {
			p.mu.Lock()
			p.revoked[m[1]]++
			p.mu.Unlock()
		}
		for k, v := range rec.Header() {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.Code)
		_, _ = w.Write(rec.Body.Bytes())
	}))
	t.Cleanup(p.srv.Close)
	return p
}

// at makes f run once, when the PBX receives its nth XAPI request from now.
func (p *pbx) after(n int64, f func()) {
	p.mu.Lock()
	p.at, p.thenOnce, p.triggered = p.xapi.Load()+n, f, false
	p.mu.Unlock()
}

// sidecar is one replica: its own upstream client, fleet handle, holders,
// registry, metrics and listener, as a separate process would have.
type sidecar struct {
	url   string
	fleet *fleet.Fleet
	log   *testlog.Buffer
}

func startSidecar(t *testing.T, redisURL string, clock *testclock.Clock) *sidecar {
	t.Helper()
	s := &sidecar{log: &testlog.Buffer{}}
	m := metrics.New()
	cfg := upstream.DefaultConfig()
	cfg.Destinations.AllowLoopback = true
	cfg.Observer = &upstream.Observer{OnExchange: m.Exchange}
	factory, err := upstream.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	f, err := fleet.Open(fleet.Options{URL: redisURL, TokenKey: bytes.Repeat([]byte{9}, 32), Now: clock.Now,
		SignInTimeout: cfg.RequestTimeout, Logger: s.log.Logger(), OnDegraded: m.FleetDegraded})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	s.fleet = f
	reg, err := providers.Registry(action.Env{HTTP: factory, Logger: s.log.Logger(), Now: clock.Now, SignIns: f.Holders(), Memo: f.Memo()})
	if err != nil {
		t.Fatal(err)
	}
	h, err := httpapi.New(httpapi.Options{Registry: reg, Logger: s.log.Logger(), Actions: m, Metrics: m.Handler(),
		Degraded: func() string {
			if f.Degraded() {
				return "redis unreachable"
			}
			return ""
		}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

type answer struct {
	status int
	body   map[string]any
	err    error
}

func call(client *http.Client, s *sidecar, actionID, conn, input string) answer {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, s.url+"/v1/actions/"+actionID, strings.NewReader(`{"connection": `+conn+`, "input": `+input+`}`))
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

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestThreeReplicasShareOnePBXSignIn is the acceptance test: three
// sidecars, one PBX, one Redis.
func TestThreeReplicasShareOnePBXSignIn(t *testing.T) {
	redisSrv := redistest.Start(t)
	clock := testclock.New()
	p := newPBX(t, clock)
	replicas := []*sidecar{startSidecar(t, redisSrv.URL, clock), startSidecar(t, redisSrv.URL, clock), startSidecar(t, redisSrv.URL, clock)}
	id, secret := p.emu.Credentials()
	conn, _ := json.Marshal(map[string]string{"baseUrl": p.srv.URL, "clientId": id, "clientSecret": secret})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}

	// burst sends n calls spread over the replicas at once; input(i) is
	// each call's action and input.
	burst := func(n int, input func(i int) (string, string)) []answer {
		out := make([]answer, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				a, in := input(i)
				out[i] = call(client, replicas[i%len(replicas)], a, string(conn), in)
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

	allOK("burst", burst(300, list))
	if n := p.emu.TokenRequests(); n != 1 {
		t.Fatalf("300 calls over 3 replicas made %d token requests, want 1", n)
	}

	// The PBX drops the token a third of the way through the next burst
	// (someone signed in elsewhere): one fleet-wide sign-in more.
	p.after(100, p.emu.InvalidateAccessTokens)
	allOK("invalidated", burst(300, list))
	if n := p.emu.TokenRequests(); n != 2 {
		t.Fatalf("after the PBX dropped the token: %d token requests in all, want 2", n)
	}

	// Redis dies mid-burst, and the PBX drops the token at the same
	// moment, so every replica must sign in again without the fleet.
	// Revocations of distinct tokens run among the lists.
	var ids []int
	for i := int32(1); i < 200; i++ {
		if raw, ok := p.emu.SecurityToken(i); ok && bytes.Contains(raw, []byte(`"Revoked":null`)) {
			ids = append(ids, int(i))
		}
	}
	if len(ids) < 10 {
		t.Fatalf("only %d revocable tokens seeded", len(ids))
	}
	p.after(50, func() { redisSrv.Kill(); p.emu.InvalidateAccessTokens() })
	answers := burst(300, func(i int) (string, string) {
		if i%10 == 0 && i/10 < len(ids) {
			return "threecx.revokeSecurityToken", fmt.Sprintf(`{"id": %d}`, ids[i/10])
		}
		return list(i)
	})
	ok, kinds := 0, map[string]int{}
	for i, a := range answers {
		if typ, _ := a.body["type"].(string); typ != "" {
			kinds[strings.TrimPrefix(typ, action.ProblemBase)+": "+fmt.Sprint(a.body["detail"])]++
		}
		if a.err != nil || a.body == nil {
			t.Fatalf("call %d unanswered: %v", i, a.err)
		}
		if a.status == 200 {
			ok++
		} else if typ, _ := a.body["type"].(string); !strings.HasPrefix(typ, action.ProblemBase) {
			t.Fatalf("call %d: %d without a problem type: %v", i, a.status, a.body)
		}
		if i%10 == 0 && i/10 < len(ids) {
			// Revoked at most once, and reported done exactly when done.
			n := p.revoked[fmt.Sprint(ids[i/10])]
			if n > 1 || (n == 1) != (a.status == 200) {
				t.Fatalf("token %d: the PBX revoked it %d times, the caller got %d %v", ids[i/10], n, a.status, a.body)
			}
		}
	}
	t.Logf("Redis killed mid-burst: %d of 300 calls succeeded (failures %v); %d token requests in all", ok, kinds, p.emu.TokenRequests())

	for i, r := range replicas {
		// Every replica noticed (its next sign-in or its ping) ...
		deadline := time.Now().Add(30 * time.Second)
		for !r.fleet.Degraded() {
			if time.Now().After(deadline) {
				t.Fatalf("replica %d never noticed Redis is gone", i)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// ... says so plainly, once, and still takes calls.
		if code, body := get(t, r.url+"/readyz"); code != 200 || !strings.Contains(body, `"degraded"`) {
			t.Fatalf("replica %d /readyz: %d %s", i, code, body)
		}
		if _, m := get(t, r.url+"/metrics"); !strings.Contains(m, "tokenwarden_fleet_degraded 1") {
			t.Fatalf("replica %d: metric not 1", i)
		}
		if n := strings.Count(r.log.String(), "fleet degraded"); n != 1 {
			t.Fatalf("replica %d logged %d warnings within a minute: %s", i, n, r.log.String())
		}
		if strings.Contains(r.log.String(), secret) {
			t.Fatalf("replica %d logged the API key", i)
		}
		if a := call(client, r, "threecx.listSecurityTokens", string(conn), `{"top": 1}`); a.err != nil || a.body == nil {
			t.Fatalf("replica %d: %v", i, a.err)
		}
	}
}
