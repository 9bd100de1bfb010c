package main

import (
	"bufio"
	"bytes"
	"debug/elf"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/testneed"
)

// No Docker engine runs where these tests run, so they exercise what the
// image would: the binary built with docker/Dockerfile's own build line,
// started with its ENTRYPOINT, CMD and ENV, probed with its HEALTHCHECK.
// What they cannot cover (the base images, USER, the engine running the
// health check) is listed in docs/operations.md.

const dockerfilePath = "../../../docker/Dockerfile"

type dockerfile struct {
	buildEnv   []string // VAR=value before `go` on the build line
	buildArgs  []string // arguments after `go`
	entrypoint []string
	cmd        []string
	health     []string
	env        []string
	user       string
	args       map[string]string // ARG defaults, substituted into the build line
}

// parseDockerfile reads the instructions the tests replay. Only the final
// stage's runtime instructions are kept (later ones override earlier).
func parseDockerfile(t *testing.T) dockerfile {
	t.Helper()
	b, err := os.ReadFile(dockerfilePath)
	if err != nil {
		t.Fatal(err)
	}
	d := dockerfile{args: map[string]string{}}
	var lines []string
	var cur strings.Builder
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			cur.WriteString(strings.TrimSuffix(line, "\\") + " ")
			continue
		}
		cur.WriteString(line)
		lines = append(lines, cur.String())
		cur.Reset()
	}
	execForm := func(s string) []string {
		var v []string
		if err := json.Unmarshal([]byte(strings.TrimSpace(s)), &v); err != nil {
			t.Fatalf("Dockerfile: %q is not exec form (a JSON array): %v", s, err)
		}
		return v
	}
	for _, l := range lines {
		instr, rest, _ := strings.Cut(l, " ")
		switch strings.ToUpper(instr) {
		case "RUN":
			words := shellWords(rest)
			for i, w := range words {
				if w == "go" && i+1 < len(words) && words[i+1] == "build" {
					d.buildEnv, d.buildArgs = words[:i], words[i+1:]
				}
			}
		case "ENTRYPOINT":
			d.entrypoint = execForm(rest)
		case "CMD":
			d.cmd = execForm(rest)
		case "HEALTHCHECK":
			_, c, ok := strings.Cut(rest, " CMD ")
			if !ok {
				t.Fatalf("HEALTHCHECK without CMD: %s", rest)
			}
			d.health = execForm(c)
		case "ARG":
			if name, def, ok := strings.Cut(rest, "="); ok {
				d.args[name] = def
			}
		case "ENV":
			d.env = append(d.env, strings.Fields(rest)...)
		case "USER":
			d.user = rest
		}
	}
	if d.buildArgs == nil || d.entrypoint == nil || d.cmd == nil || d.health == nil {
		t.Fatalf("Dockerfile lacks a go build line, ENTRYPOINT, CMD or HEALTHCHECK: %+v", d)
	}
	return d
}

// shellWords splits a RUN line the way sh would for the simple words and
// double-quoted strings the build line uses.
func shellWords(s string) []string {
	var words []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote, inWord = !inQuote, true
		case r == ' ' && !inQuote:
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// buildImageBinary builds the binary exactly as the Dockerfile's build line
// does, with VERSION set and the output redirected to a temp dir.
func buildImageBinary(t *testing.T, d dockerfile, version string) (string, string) {
	t.Helper()
	out := filepath.Join(t.TempDir(), "tokenwarden")
	args := make([]string, len(d.buildArgs))
	for i, a := range d.buildArgs {
		a = strings.ReplaceAll(a, "${VERSION}", version)
		for name, def := range d.args {
			a = strings.ReplaceAll(a, "${"+name+"}", def)
		}
		if i > 0 && d.buildArgs[i-1] == "-o" {
			a = out
		}
		args[i] = a
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		testneed.Missing(t, "no go tool on PATH to build the image's binary")
	}
	cmd := exec.Command(goBin, args...)
	cmd.Dir = "../../.."
	cmd.Env = append(os.Environ(), d.buildEnv...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, b)
	}
	return out, strings.Join(append(d.buildEnv, args...), " ")
}

// imageCommand is ENTRYPOINT + args with the image's binary path replaced.
func imageCommand(binary string, entrypoint []string, args ...string) *exec.Cmd {
	return exec.Command(binary, append(entrypoint[1:], args...)...)
}

func TestImageRunsWhatItsDockerfileSays(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the release binary")
	}
	d := parseDockerfile(t)
	if d.user == "" || strings.HasPrefix(d.user, "root") || strings.HasPrefix(d.user, "0") {
		t.Errorf("the runtime stage must run as a non-root user, USER is %q", d.user)
	}
	if !containsString(d.buildEnv, "CGO_ENABLED=0") || !containsString(d.buildArgs, "-trimpath") {
		t.Errorf("build line %v %v must be static (CGO_ENABLED=0) and -trimpath like make build", d.buildEnv, d.buildArgs)
	}
	binary, how := buildImageBinary(t, d, "9.8.7-image-test")
	t.Logf("built with: %s", how)

	// Static: no interpreter, no shared libraries, so scratch or distroless
	// static can run it.
	f, err := elf.Open(binary)
	if err != nil {
		t.Fatal(err)
	}
	libs, _ := f.ImportedLibraries()
	if f.Section(".interp") != nil || len(libs) > 0 {
		t.Errorf("binary is dynamically linked (libs %v)", libs)
	}
	f.Close()

	out, err := imageCommand(binary, d.entrypoint, "version").Output()
	if err != nil || strings.TrimSpace(string(out)) != "9.8.7-image-test" {
		t.Errorf("version: %q, %v; want the build arg stamped in", out, err)
	}
	// The production image carries no demo emulators (TAGS=nodemo), and
	// says so instead of failing obscurely.
	if out, err := imageCommand(binary, d.entrypoint, "demo", "--listen", "127.0.0.1:0").CombinedOutput(); err == nil || !strings.Contains(string(out), "built without the demo") {
		t.Errorf("demo in the image build: %q, %v; want a refusal naming nodemo", out, err)
	}

	// The image's ENV, with the listen address moved from 0.0.0.0:8787 to a
	// free loopback port (tests never listen beyond loopback).
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	env := append(os.Environ(), d.env...)
	if !containsString(d.env, "TOKENWARDEN_LISTEN=0.0.0.0:8787") {
		t.Errorf("image ENV %v should listen on 0.0.0.0:8787", d.env)
	}
	env = append(env, "TOKENWARDEN_LISTEN="+addr, "TOKENWARDEN_API_KEY=image-test-key-0123456789")

	health := func() (int, string) {
		c := imageCommand(binary, d.health)
		c.Env = env
		var buf bytes.Buffer
		c.Stdout, c.Stderr = &buf, &buf
		err := c.Run()
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode(), buf.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, buf.String()
	}
	if code, msg := health(); code != 1 {
		t.Fatalf("health check with nothing listening: exit %d (%s), want 1", code, msg)
	}

	srv := imageCommand(binary, d.entrypoint, d.cmd...)
	srv.Env = env
	var logs bytes.Buffer
	srv.Stdout, srv.Stderr = &logs, &logs
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	t.Cleanup(func() {
		_ = srv.Process.Kill()
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		code, _ := health()
		if code == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the health check never passed; sidecar output:\n%s", logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get("http://" + addr + "/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Info struct{ Version string } `json:"info"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&spec)
	resp.Body.Close()
	if spec.Info.Version != "9.8.7-image-test" {
		t.Errorf("served OpenAPI version %q, want the stamped one", spec.Info.Version)
	}

	// docker stop sends SIGTERM; the sidecar must exit cleanly.
	if err := srv.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v; output:\n%s", err, logs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the sidecar did not exit within 10 s of SIGTERM")
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestReadyURL(t *testing.T) {
	cases := map[string]string{
		"0.0.0.0:8787":   "http://127.0.0.1:8787/readyz",
		":8787":          "http://127.0.0.1:8787/readyz",
		"[::]:9000":      "http://[::1]:9000/readyz",
		"127.0.0.1:8787": "http://127.0.0.1:8787/readyz",
		"sidecar:8787":   "http://sidecar:8787/readyz",
	}
	for listen, want := range cases {
		if got, err := readyURL(listen); err != nil || got != want {
			t.Errorf("readyURL(%q) = %q, %v; want %q", listen, got, err, want)
		}
	}
	if _, err := readyURL("8787"); err == nil {
		t.Error("an address without a port separator must be refused")
	}
}
