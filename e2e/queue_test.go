//go:build e2e

package e2e

// n8n in queue mode, the way teams scale it: one main that receives the
// webhooks and two `n8n worker` processes that run the executions, sharing
// a real redis-server (n8n's Bull queue) and a real PostgreSQL. The workers
// reach two sidecar replicas (separate `tokenwarden serve` processes sharing
// that Redis through the config's redis section) through one address, and
// the replicas reach one 3CX emulator (`tokenwarden emulators`, a process of
// its own). 3CX keeps one access token per client, so replicas that signed
// in on their own would knock each other out: the fleet must sign in once.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

const (
	// queueExecutions webhook calls of queueItemsEach token ids each: the
	// 200-item offboarding, split so both workers get executions.
	queueExecutions = 4
	queueItemsEach  = 50
	// queueFirstToken is the first of the tokens `tokenwarden emulators
	// --scale` seeds beyond the demo's 34 (two per unit of scale).
	queueFirstToken = 35
	queueWebhook    = "tokenwarden-offboard"
	// Test-only values, set for the sidecar processes alone.
	queueRedisEnv    = "TW_E2E_FLEET_REDIS"
	queueTokenKeyEnv = "TW_E2E_FLEET_TOKEN_KEY"
	queueTokenKey    = "ZTJlLW9ubHktZmxlZXQta2V5LTMyLWJ5dGVzLWxvbmc="
)

func TestQueueModeOffboardingThroughTwoReplicasSignsInOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	tmp := t.TempDir()

	redisPort := startRedis(t, tmp)
	pgPort := startPostgres(t)
	emu := startEmulators(t, tmp)
	before := emu.threeCxStats(t)

	// Two replicas behind one address, as a Kubernetes Service would put
	// them; the balancer alternates so both carry the load.
	cfg := filepath.Join(tmp, "fleet.json")
	if err := writeJSON(cfg, map[string]any{
		"destinations": map[string]any{"allowLoopback": true},
		"redis":        map[string]any{"url": map[string]any{"env": queueRedisEnv}, "tokenKey": map[string]any{"env": queueTokenKeyEnv}},
	}); err != nil {
		t.Fatal(err)
	}
	var replicas []string
	for i := range 2 {
		u, stop, err := launchTokenwarden(env.sidecarBin, filepath.Join(tmp, fmt.Sprintf("replica-%d.log", i)), "serve", []string{"--config", cfg},
			fmt.Sprintf("%s=redis://127.0.0.1:%d/0", queueRedisEnv, redisPort), queueTokenKeyEnv+"="+queueTokenKey)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(stop)
		replicas = append(replicas, u)
	}
	lb := newBalancer(t, replicas)

	// n8n's state: one PostgreSQL, one Redis, a user folder per process.
	queueEnv := []string{
		"EXECUTIONS_MODE=queue",
		"QUEUE_BULL_REDIS_HOST=127.0.0.1", fmt.Sprintf("QUEUE_BULL_REDIS_PORT=%d", redisPort),
		"DB_TYPE=postgresdb", "DB_POSTGRESDB_HOST=127.0.0.1", fmt.Sprintf("DB_POSTGRESDB_PORT=%d", pgPort),
		"DB_POSTGRESDB_DATABASE=postgres", "DB_POSTGRESDB_USER=n8n",
		"N8N_GRACEFUL_SHUTDOWN_TIMEOUT=5",
	}
	admin := env.n8n.in(filepath.Join(tmp, "n8n-admin"), queueEnv...)
	typ, data, err := credentialData("threecx", emu.connections["threecx"], lb.URL)
	if err != nil {
		t.Fatal(err)
	}
	ref := credentialRef("queue")
	wf := queueWorkflow()
	if err := importAll(ctx, admin, filepath.Join(tmp, "import-queue"),
		[]map[string]any{{"id": ref["id"], "name": ref["name"], "type": typ, "data": data}}, []workflow{wf}); err != nil {
		t.Fatal(err)
	}
	// 2.x publishes a workflow's version; 1.x's update:workflow is
	// deprecated there.
	activate := []string{"publish:workflow", "--id=" + wf.ID}
	if strings.HasPrefix(line.version, "1.") {
		activate = []string{"update:workflow", "--id=" + wf.ID, "--active=true"}
	}
	if out, errb, err := admin.run(ctx, activate...); err != nil {
		t.Fatalf("n8n %s: %v\n%s%s", strings.Join(activate, " "), err, out, errb)
	}

	mainAddr, err := freeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, mainPort, _ := net.SplitHostPort(mainAddr)
	started := time.Now()
	// 2.x always runs its task broker (N8N_RUNNERS_ENABLED=false is
	// ignored there), on 5679 unless told otherwise: one port each.
	mainProc := admin.in(filepath.Join(tmp, "n8n-main"), "N8N_LISTEN_ADDRESS=127.0.0.1", "N8N_PORT="+mainPort, ownBrokerPort()).
		start(t, filepath.Join(tmp, "n8n-main.log"), "start")
	var workers []*daemon
	for i := range 2 {
		// One job at a time per worker, so the executions are shared.
		w := admin.in(filepath.Join(tmp, fmt.Sprintf("n8n-worker-%d", i)), ownBrokerPort()).
			start(t, filepath.Join(tmp, fmt.Sprintf("n8n-worker-%d.log", i)), "worker", "--concurrency=1")
		workers = append(workers, w)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, d := range append([]*daemon{mainProc}, workers...) {
				t.Logf("%s:\n%s", strings.Join(d.cmd.Args, " "), tail([]byte(d.logText())))
			}
		}
	})
	for _, w := range workers {
		w.waitLog(t, "n8n worker is now ready", 3*time.Minute)
	}
	mainProc.waitLog(t, "Editor is now accessible", 3*time.Minute)
	// 2.x publishes active workflows after that line, in the background:
	// wait until the webhook answers a CORS preflight, which names the
	// webhook's methods (404 while it is not registered; without an Origin
	// n8n answers 204 whatever the path).
	webhook := "http://" + mainAddr + "/webhook/" + queueWebhook
	waitFor(t, 2*time.Minute, "the webhook to be registered", func() bool {
		req, _ := http.NewRequestWithContext(ctx, http.MethodOptions, webhook, nil)
		req.Header.Set("Origin", "http://127.0.0.1")
		req.Header.Set("Access-Control-Request-Method", http.MethodPost)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode/100 == 2
	})
	t.Logf("n8n main and 2 workers ready in %.1f s", time.Since(started).Seconds())

	// The offboarding: 200 tokens, in 4 webhook calls sent at once.
	started = time.Now()
	revoked := make([][]float64, queueExecutions)
	errs := make([]error, queueExecutions)
	var wg sync.WaitGroup
	for e := range queueExecutions {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ids := make([]int, queueItemsEach)
			for i := range ids {
				ids[i] = queueFirstToken + e*queueItemsEach + i
			}
			revoked[e], errs[e] = callWebhook(ctx, webhook, ids)
		}()
	}
	wg.Wait()
	t.Logf("%d executions of %d items through n8n's queue: %.1f s", queueExecutions, queueItemsEach, time.Since(started).Seconds())
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	// Every token answered as revoked, once.
	var got []int
	for _, ids := range revoked {
		for _, id := range ids {
			got = append(got, int(id))
		}
	}
	sort.Ints(got)
	for i, id := range got {
		if id != queueFirstToken+i || len(got) != queueExecutions*queueItemsEach {
			t.Fatalf("the executions answered revoked ids %v, want %d..%d once each", got, queueFirstToken, queueFirstToken+queueExecutions*queueItemsEach-1)
		}
	}
	after := emu.threeCxStats(t)
	if n := after["revokeRequests"] - before["revokeRequests"]; n != queueExecutions*queueItemsEach {
		t.Errorf("the PBX answered %v RevokeToken calls, want %d (one per item)", n, queueExecutions*queueItemsEach)
	}
	if n := after["revoked"] - before["revoked"]; n != queueExecutions*queueItemsEach {
		t.Errorf("%v more tokens are revoked at the PBX, want %d", n, queueExecutions*queueItemsEach)
	}
	if n := after["signIns"] - before["signIns"]; n != 1 {
		t.Errorf("the PBX issued %v access tokens to the two replicas, want 1", n)
	}
	for i, n := range lb.served() {
		if n == 0 {
			t.Errorf("replica %d served no call: the balancer did not spread the load", i)
		}
	}

	// The work ran on the workers, both of them, and not on the main.
	startedOn := regexp.MustCompile(`Worker started execution (\d+)`)
	total := 0
	for i, w := range workers {
		n := len(startedOn.FindAllString(w.logText(), -1))
		if n == 0 {
			t.Errorf("worker %d ran no execution:\n%s", i, tail([]byte(w.logText())))
		}
		total += n
	}
	if total != queueExecutions {
		t.Errorf("the workers started %d executions, want %d", total, queueExecutions)
	}
	if startedOn.MatchString(mainProc.logText()) {
		t.Error("the main ran an execution itself")
	}
}

// queueWorkflow is the offboarding flow: a webhook receives token ids, one
// item per id, each revoked through the sidecar; the webhook answers with
// every revocation once the execution is done.
func queueWorkflow() workflow {
	wf := chain("queueOffboard",
		wfNode{Name: "Split Tokens", Type: "n8n-nodes-base.splitOut", TypeVersion: 1,
			Parameters: map[string]any{"fieldToSplitOut": "body.ids", "options": map[string]any{"destinationFieldName": "tokenId"}}},
		twOn("queue", "Revoke Token", threeCxType, map[string]any{
			"resource": "securityToken", "operation": "revoke", "id": "={{ $json.tokenId }}",
		}))
	wf.Nodes[0] = wfNode{ID: wf.Nodes[0].ID, Name: "Start", Position: wf.Nodes[0].Position, Type: "n8n-nodes-base.webhook", TypeVersion: 2,
		WebhookID:  "6f1d4c1e-2b1a-4f59-9a55-1c7a3e0d5b21",
		Parameters: map[string]any{"httpMethod": "POST", "path": queueWebhook, "responseMode": "lastNode", "responseData": "allEntries", "options": map[string]any{}}}
	return wf
}

// callWebhook posts the token ids and returns the ids the execution's
// items say were revoked.
func callWebhook(ctx context.Context, url string, ids []int) ([]float64, error) {
	body, _ := json.Marshal(map[string]any{"ids": ids})
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("POST %s: %s %s", url, resp.Status, tail(b))
	}
	var items []map[string]any
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("POST %s: the answer is not the items: %v\n%s", url, err, tail(b))
	}
	var out []float64
	for _, it := range items {
		id, ok := it["id"].(float64)
		if !ok {
			return nil, fmt.Errorf("an item is not a revocation: %v", it)
		}
		out = append(out, id)
	}
	return out, nil
}

// in is this n8n with another user folder and more environment variables
// (later ones win).
func (n *n8n) in(home string, extra ...string) *n8n {
	env := append(slices.Clone(n.env), "HOME="+home, "N8N_USER_FOLDER="+home)
	return &n8n{bin: n.bin, env: append(env, extra...)}
}

// start runs a long-lived n8n command (start, worker) until the test ends.
func (n *n8n) start(t *testing.T, logPath string, args ...string) *daemon {
	t.Helper()
	cmd := exec.Command(n.bin, args...)
	cmd.Env = n.env
	return startDaemon(t, logPath, cmd)
}

// daemon is a process the test started, in a process group of its own so
// that stopping it stops whatever it started; its output goes to a file.
type daemon struct {
	cmd  *exec.Cmd
	log  string
	done chan struct{}
}

func startDaemon(t *testing.T, logPath string, cmd *exec.Cmd) *daemon {
	t.Helper()
	f, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Setpgid = true
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("%s: %v", cmd.Path, err)
	}
	d := &daemon{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); f.Close(); close(d.done) }()
	t.Cleanup(d.stop)
	return d
}

// stop interrupts the process group and kills it after a grace period.
func (d *daemon) stop() {
	pgid := -d.cmd.Process.Pid
	_ = syscall.Kill(pgid, syscall.SIGINT)
	select {
	case <-d.done:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(pgid, syscall.SIGKILL)
		<-d.done
	}
}

func (d *daemon) logText() string {
	b, _ := os.ReadFile(d.log)
	return string(b)
}

// waitLog waits until the process has logged s; it fails the test if the
// process exits first or timeout passes.
func (d *daemon) waitLog(t *testing.T, s string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(d.logText(), s) {
		select {
		case <-d.done:
			t.Fatalf("%s exited before logging %q:\n%s", strings.Join(d.cmd.Args, " "), s, tail([]byte(d.logText())))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s did not log %q within %s:\n%s", strings.Join(d.cmd.Args, " "), s, timeout, tail([]byte(d.logText())))
		}
	}
}

// waitFor polls ready every 100 ms until it holds, and fails the test if
// it does not within timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, ready func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !ready() {
		if time.Now().After(deadline) {
			t.Fatalf("waited %s for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// startRedis runs a redis-server without persistence on a free port.
func startRedis(t *testing.T, tmp string) int {
	t.Helper()
	port := freePort(t)
	dir := filepath.Join(tmp, "redis")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	d := startDaemon(t, filepath.Join(tmp, "redis.log"), exec.Command("redis-server",
		"--bind", "127.0.0.1", "--port", strconv.Itoa(port), "--save", "", "--appendonly", "no", "--dir", dir))
	d.waitLog(t, "Ready to accept connections", time.Minute)
	return port
}

// startPostgres runs Debian's PostgreSQL from a fresh data directory on a
// free loopback port, with superuser n8n trusted on that port. PostgreSQL
// refuses to run as root, so as root it runs as the postgres user.
func startPostgres(t *testing.T) int {
	t.Helper()
	bin := postgresBin(t)
	// Not t.TempDir: its parents are private to root.
	dir, err := os.MkdirTemp("", "tokenwarden-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root, PostgreSQL needs the postgres user (apt-get install postgresql creates it): %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "n8n", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		t.Fatalf("initdb: %v\n%s", err, out)
	}
	port := freePort(t)
	pg := exec.Command(filepath.Join(bin, "postgres"), "-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	pg.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	d := startDaemon(t, filepath.Join(dir, "postgres.log"), pg)
	d.waitLog(t, "database system is ready to accept connections", time.Minute)
	return port
}

// postgresBin is the folder of Debian's PostgreSQL server programs (they
// are not on PATH), the newest when several are installed.
func postgresBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		t.Fatal("PostgreSQL is not installed (apt-get install postgresql; .ci/run does)")
	}
	slices.SortFunc(found, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(a))))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(b))))
		return va - vb
	})
	return filepath.Dir(found[len(found)-1])
}

func freePort(t *testing.T) int {
	t.Helper()
	addr, err := freeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(addr)
	n, _ := strconv.Atoi(port)
	return n
}

// emulators is a `tokenwarden emulators` process: the demo upstreams,
// seeded with 200 more 3CX tokens, and their counters.
type emulators struct {
	url         string
	connections map[string]map[string]any
}

func startEmulators(t *testing.T, tmp string) *emulators {
	t.Helper()
	addr, err := freeLoopbackAddr()
	if err != nil {
		t.Fatal(err)
	}
	startDaemon(t, filepath.Join(tmp, "emulators.log"), exec.Command(env.sidecarBin, "emulators", "--listen", addr, "--scale", "100"))
	e := &emulators{url: "http://" + addr}
	deadline := time.Now().Add(30 * time.Second)
	for e.get("/connections", &e.connections) != nil {
		if time.Now().After(deadline) {
			t.Fatal("tokenwarden emulators did not answer within 30 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return e
}

func (e *emulators) get(path string, v any) error {
	resp, err := http.Get(e.url + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return json.NewDecoder(resp.Body).Decode(v)
}

// threeCxStats are the PBX's counters: signIns, revokeRequests, revoked.
func (e *emulators) threeCxStats(t *testing.T) map[string]float64 {
	t.Helper()
	var stats map[string]map[string]float64
	if err := e.get("/stats", &stats); err != nil {
		t.Fatal(err)
	}
	return stats["threecx"]
}

// balancer is one address in front of the replicas, taking them in turn.
type balancer struct {
	*httptest.Server
	counts []atomic.Int64
}

func newBalancer(t *testing.T, replicas []string) *balancer {
	t.Helper()
	b := &balancer{counts: make([]atomic.Int64, len(replicas))}
	proxies := make([]*httputil.ReverseProxy, len(replicas))
	for i, r := range replicas {
		u, err := url.Parse(r)
		if err != nil {
			t.Fatal(err)
		}
		proxies[i] = httputil.NewSingleHostReverseProxy(u)
	}
	var next atomic.Int64
	b.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		i := int(next.Add(1)-1) % len(proxies)
		b.counts[i].Add(1)
		proxies[i].ServeHTTP(w, r)
	}))
	t.Cleanup(b.Close)
	return b
}

func (b *balancer) served() []int64 {
	out := make([]int64, len(b.counts))
	for i := range b.counts {
		out[i] = b.counts[i].Load()
	}
	return out
}
