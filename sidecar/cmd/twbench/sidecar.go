package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is a child of the bench: the sidecar, the emulators, a proxy.
type process struct{ cmd *exec.Cmd }

// sidecarProcess is the real tokenwarden binary, run as a child process so
// its memory and start-up are what an operator would see.
type sidecarProcess struct {
	*process
	URL   string
	Ready time.Duration // from exec to the first 200 from /readyz
}

// startSidecar runs `BINARY serve` on a free loopback port and waits for
// /readyz, polling as fast as the loopback allows so the figure is not
// rounded up by the poll interval.
func startSidecar(binary string, extraEnv ...string) (*sidecarProcess, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	cfg, err := benchConfig()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(binary, "serve", "--listen", addr, "--config", cfg)
	// The access log stays on (info level, one JSON line per request) as in
	// production; it goes to /dev/null so the terminal does not slow it.
	cmd.Stdout, cmd.Stderr = nil, nil
	cmd.Env = append(append(os.Environ(), "TOKENWARDEN_LOG_LEVEL=info"), extraEnv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	probe := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: time.Second}
	url := "http://" + addr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	p := &sidecarProcess{process: &process{cmd: cmd}, URL: url}
	for deadline := start.Add(10 * time.Second); time.Now().Before(deadline); {
		resp, err := probe.Get(url + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				p.Ready = time.Since(start)
				return p, nil
			}
		}
		time.Sleep(100 * time.Microsecond)
	}
	p.Stop()
	return nil, errors.New("the sidecar did not become ready within 10 s")
}

// Stop sends SIGTERM and waits, as an orchestrator would.
func (p *process) Stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
}

// status reads a kB field of /proc/<pid>/status (VmRSS, VmHWM) in bytes.
func (p *process) status(field string) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		return kb << 10, err
	}
	return 0, fmt.Errorf("no %s in /proc/%d/status", field, p.cmd.Process.Pid)
}

// resetPeak starts a new VmHWM window (Linux clear_refs "5"), so the peak
// read afterwards belongs to the stage that follows. It reports whether the
// kernel allowed it; otherwise the peak is the process's lifetime peak.
func (p *process) resetPeak() bool {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.cmd.Process.Pid), []byte("5"), 0) == nil
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times (100 on every
// Linux build the bench runs on).
const clockTicks = 100

// cpu is the CPU time the process has used so far (user + system).
func (p *process) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may hold spaces) in parentheses:
	// state is the 3rd field of the line, utime the 14th and stime the 15th.
	fields := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(fields) < 13 {
		return 0
	}
	user, _ := strconv.ParseInt(fields[11], 10, 64)
	system, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(user+system) * time.Second / clockTicks
}

// benchConfig writes the one setting the bench needs beyond the defaults:
// serve refuses loopback upstreams unless told, and the emulators live there.
func benchConfig() (string, error) {
	path := filepath.Join(os.TempDir(), "twbench-config.json")
	return path, os.WriteFile(path, []byte(`{"destinations": {"allowLoopback": true}}`+"\n"), 0o600)
}

func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
