package threecx_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/action"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/faults"
	"github.com/tokenwarden/tokenwarden/sidecar/emulator/threecxemu"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/specguard"
	"github.com/tokenwarden/tokenwarden/sidecar/internal/testclock"
	"github.com/tokenwarden/tokenwarden/sidecar/provider/threecx"
	"github.com/tokenwarden/tokenwarden/sidecar/providers"
	"github.com/tokenwarden/tokenwarden/sidecar/upstream"
)

type pbx struct {
	emu   *threecxemu.Emulator
	srv   *httptest.Server
	reg   *action.Registry
	guard *specguard.Guard
}

// newPBX runs the emulator behind the vendor-spec guard, so every request
// the client makes is also checked against 3CX's own OpenAPI file.
func newPBX(t *testing.T, opts threecxemu.Options) *pbx {
	t.Helper()
	return newPBXWith(t, opts, action.Env{}, nil)
}

// newPBXWith runs the PBX with the given sidecar environment (its clock is
// also the emulator's), and wrap, when not nil, in front of the emulator.
func newPBXWith(t *testing.T, opts threecxemu.Options, env action.Env, wrap func(http.Handler) http.Handler) *pbx {
	t.Helper()
	if env.Now == nil {
		env.Now = testclock.New().Now
	}
	if opts.Now == nil {
		opts.Now = env.Now
	}
	emu := threecxemu.New(opts)
	var h http.Handler = emu
	var guard *specguard.Guard
	path, err := specguard.VendorSpecPath("3cx-xapi-20.0.10", "swagger.yaml")
	if err == nil {
		guard, err = specguard.Load(path, "/xapi/v1", specguard.ExcludePrefix("/connect/"), specguard.AllowBodiless(http.StatusUnauthorized))
	}
	if err == nil {
		h = guard.Wrap(emu)
	} else {
		t.Logf("not checking requests against the 3CX spec: %v", err)
	}
	if wrap != nil {
		h = wrap(h)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	reg, err := providers.Registry(env)
	if err != nil {
		t.Fatal(err)
	}
	reg.CheckOutput = true
	p := &pbx{emu: emu, srv: srv, reg: reg, guard: guard}
	t.Cleanup(func() {
		if guard != nil {
			for _, v := range guard.Violations() {
				t.Errorf("spec violation: %s", v)
			}
		}
	})
	return p
}

func (p *pbx) conn() json.RawMessage {
	id, secret := p.emu.Credentials()
	b, _ := json.Marshal(map[string]string{"baseUrl": p.srv.URL, "clientId": id, "clientSecret": secret})
	return b
}

func (p *pbx) call(t *testing.T, id, input string) (action.Result, *action.Problem) {
	t.Helper()
	res, err := p.reg.Invoke(context.Background(), id, action.Envelope{Connection: p.conn(), Input: json.RawMessage(input)})
	if err != nil {
		var prob *action.Problem
		if !errors.As(err, &prob) {
			t.Fatalf("%s: non-problem error %v", id, err)
		}
		return res, prob
	}
	return res, nil
}

func items(t *testing.T, res action.Result) []map[string]any {
	t.Helper()
	b, _ := json.Marshal(res.Data)
	var out []map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("data is not a list: %s", b)
	}
	return out
}

func TestRevokeThenListShowsRevoked(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	res, prob := p.call(t, "threecx.listSecurityTokens", `{"filter": "Revoked eq null", "top": 1, "select": "Id,Revoked"}`)
	if prob != nil {
		t.Fatal(prob)
	}
	list := items(t, res)
	if len(list) != 1 || list[0]["Revoked"] != nil {
		t.Fatalf("want one unrevoked token, got %v", list)
	}
	id := int(list[0]["Id"].(float64))
	res, prob = p.call(t, "threecx.revokeSecurityToken", `{"id": `+itoa(id)+`}`)
	if prob != nil {
		t.Fatal(prob)
	}
	if got := res.Data.(threecx.Revoked); got.ID != int32(id) || !got.Revoked {
		t.Fatalf("revoke answered %+v", got)
	}
	res, prob = p.call(t, "threecx.listSecurityTokens", `{"filter": "Id eq `+itoa(id)+`"}`)
	if prob != nil {
		t.Fatal(prob)
	}
	if list := items(t, res); len(list) != 1 || list[0]["Revoked"] == nil {
		t.Fatalf("token %d not shown revoked: %v", id, list)
	}
}

func TestUnknownIDKeepsThe3CXMessage(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	_, prob := p.call(t, "threecx.revokeSecurityToken", `{"id": 999999}`)
	if prob == nil || prob.Status != http.StatusNotFound || prob.Upstream == nil || prob.Upstream.Status != 404 || prob.Upstream.Message == "" {
		t.Fatalf("want 404 with the upstream message, got %+v", prob)
	}
	if !strings.Contains(prob.Detail, prob.Upstream.Message) {
		t.Fatalf("detail %q lacks the 3CX message %q", prob.Detail, prob.Upstream.Message)
	}
}

func TestGenerateAppToken(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	// 32: a seeded principal other than the one the sidecar signs in as
	// (regenerating that one's token replaces its API key).
	first, prob := p.call(t, "threecx.generateAppToken", `{"id": 32}`)
	if prob != nil {
		t.Fatal(prob)
	}
	second, prob := p.call(t, "threecx.generateAppToken", `{"id": 32}`)
	if prob != nil {
		t.Fatal(prob)
	}
	a, b := first.Data.(threecx.AppToken), second.Data.(threecx.AppToken)
	if a.AppToken == "" || a.AppToken == b.AppToken {
		t.Fatalf("want two distinct tokens, got %q and %q", a.AppToken, b.AppToken)
	}
}

func TestListWithCountAndPagingToTheEnd(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	all, prob := p.call(t, "threecx.listRefreshTokens", `{"count": true}`)
	if prob != nil {
		t.Fatal(prob)
	}
	total := len(items(t, all))
	meta := all.Meta.(threecx.ListMeta)
	if meta.Count == nil || int(*meta.Count) != total || total < 3 {
		t.Fatalf("count %v for %d items", meta.Count, total)
	}
	paged, prob := p.call(t, "threecx.listRefreshTokens", `{"returnAll": true, "top": 2, "orderBy": "Id"}`)
	if prob != nil {
		t.Fatal(prob)
	}
	pm := paged.Meta.(threecx.ListMeta)
	if got := len(items(t, paged)); got != total || pm.Truncated || pm.Pages != total/2+1 {
		t.Fatalf("returnAll with pages of 2: %d items in %d pages (truncated %v), want %d items in %d pages", got, pm.Pages, pm.Truncated, total, total/2+1)
	}
	seen := map[float64]bool{}
	for _, it := range items(t, paged) {
		if seen[it["Id"].(float64)] {
			t.Fatalf("id %v returned twice while paging", it["Id"])
		}
		seen[it["Id"].(float64)] = true
	}
	limited, prob := p.call(t, "threecx.listRefreshTokens", `{"returnAll": true, "top": 2, "limit": 3}`)
	if prob != nil {
		t.Fatal(prob)
	}
	if lm := limited.Meta.(threecx.ListMeta); len(items(t, limited)) != 3 || !lm.Truncated {
		t.Fatalf("limit 3: got %d items, truncated %v", len(items(t, limited)), lm.Truncated)
	}
	exact, prob := p.call(t, "threecx.listRefreshTokens", `{"returnAll": true, "top": 2, "limit": `+itoa(total)+`}`)
	if prob != nil {
		t.Fatal(prob)
	}
	if em := exact.Meta.(threecx.ListMeta); em.Truncated || len(items(t, exact)) != total {
		t.Fatalf("limit equal to the total must not say truncated: %+v", em)
	}
}

func TestBadFilterKeepsUpstreamDetails(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	_, prob := p.call(t, "threecx.listRefreshTokens", `{"filter": "Id eqq 3"}`)
	if prob == nil || prob.Status != http.StatusBadRequest || prob.Upstream == nil || prob.Upstream.Status != 400 {
		t.Fatalf("want 400 from upstream, got %+v", prob)
	}
}

func TestColdBurstSignsInOnce(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan *action.Problem, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			input := `{"top": 1}`
			id := "threecx.listSecurityTokens"
			if i%2 == 1 {
				id = "threecx.listRefreshTokens"
			}
			if _, prob := p.call(t, id, input); prob != nil {
				errs <- prob
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for prob := range errs {
		t.Errorf("call failed: %v", prob)
	}
	if got := p.emu.TokenRequests(); got != 1 {
		t.Fatalf("%d token requests reached the PBX, want exactly 1", got)
	}
}

// A token endpoint that never answers must not make waiters queue behind
// one another (issue 11, bug 1: answers came one requestTimeout apart):
// every caller gets its answer within its own requestTimeout, however many
// wait, and the one sign-in is not started again by each waiter.
func TestHangingTokenEndpointAnswersEveryWaiterInTime(t *testing.T) {
	const timeout = 2 * time.Second
	clock := testclock.New()
	var inj *faults.Injector
	p := newPBXWith(t, threecxemu.Options{}, action.Env{
		HTTP:    upstream.NewFactory(upstream.Config{RequestTimeout: timeout, Destinations: upstream.Destinations{AllowLoopback: true}}),
		SignIns: upstream.NewLocalHolders(clock.Now, timeout),
		Now:     clock.Now,
	}, func(h http.Handler) http.Handler {
		inj = faults.Wrap(h).Add(faults.Rule{Path: "/connect/token", Fault: faults.Hang()})
		return inj
	})
	const n = 100
	began := time.Now()
	var wg sync.WaitGroup
	late := make(chan time.Duration, n)
	probs := make(chan *action.Problem, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			start := time.Now()
			_, prob := p.call(t, "threecx.listSecurityTokens", `{"top": 1}`)
			if took := time.Since(start); took > timeout+time.Second {
				late <- took
			}
			probs <- prob
		}()
	}
	wg.Wait()
	t.Logf("all answered after %v; %d token requests", time.Since(began), inj.Requests(http.MethodPost, "/connect/token"))
	close(late)
	close(probs)
	for took := range late {
		t.Errorf("a caller waited %v, more than requestTimeout (%v) + 1 s", took, timeout)
	}
	for prob := range probs {
		if prob == nil || prob.Kind() != action.KindUpstreamTimeout {
			t.Fatalf("want upstream-timeout for every caller, got %+v", prob)
		}
	}
	// The retry layer may repeat a sign-in that failed, but the callers
	// did not each start their own.
	if got := inj.Requests(http.MethodPost, "/connect/token"); got < 1 || got > 4 {
		t.Fatalf("%d token requests for %d waiters, want one sign-in (with at most its retries)", got, n)
	}
}

func TestTokenInvalidatedMidRunRecovers(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	const n = 200
	var wg sync.WaitGroup
	var failed sync.Map
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			if i == n/2 {
				p.emu.InvalidateAccessTokens()
			}
			if _, prob := p.call(t, "threecx.listSecurityTokens", `{"top": 1}`); prob != nil {
				failed.Store(i, prob)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	failed.Range(func(k, v any) bool { t.Errorf("call %v failed: %v", k, v); return true })
	// One sign-in at the start and one after the invalidation; concurrent
	// 401s must collapse into a single new sign-in.
	if got := p.emu.TokenRequests(); got < 1 || got > 2 {
		t.Fatalf("%d token requests, want 1 or 2", got)
	}
}

func TestWrongSecretIsAClearSignInProblem(t *testing.T) {
	p := newPBX(t, threecxemu.Options{})
	id, _ := p.emu.Credentials()
	conn, _ := json.Marshal(map[string]string{"baseUrl": p.srv.URL, "clientId": id, "clientSecret": "wrong-canary-secret"})
	_, err := p.reg.Invoke(context.Background(), "threecx.listRefreshTokens", action.Envelope{Connection: conn})
	var prob *action.Problem
	if !errors.As(err, &prob) || prob.Kind() != action.KindUpstreamAuth || prob.Upstream == nil || prob.Upstream.Status != http.StatusUnauthorized {
		t.Fatalf("want upstream-auth-failed from a 401, got %+v", err)
	}
	b, _ := json.Marshal(prob)
	if strings.Contains(string(b), "wrong-canary-secret") {
		t.Fatalf("the problem echoes the secret: %s", b)
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }
