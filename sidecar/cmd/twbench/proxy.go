package main

import (
	"errors"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// serveProxy is twbench's child mode: a plain httputil.ReverseProxy in its
// own process, the floor for any HTTP hop that, like the sidecar, lives in
// a process of its own. Its transport is pooled like the sidecar's.
func serveProxy(backend, listen string) error {
	target, err := url.Parse(backend)
	if err != nil {
		return err
	}
	proxy := &httputil.ReverseProxy{
		Rewrite:   func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport: &http.Transport{MaxIdleConns: 1024, MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64},
		ErrorLog:  nil,
	}
	srv := &http.Server{Addr: listen, Handler: proxy, ReadHeaderTimeout: 5 * time.Second}
	return srv.ListenAndServe()
}

type proxyProcess struct {
	*process
	URL string
}

// startProxy re-runs this binary in proxy mode in front of backend.
func startProxy(backend string) (*proxyProcess, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, "--proxy-backend", backend, "--proxy-listen", addr)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return &proxyProcess{process: &process{cmd: cmd}, URL: "http://" + addr}, nil
		}
	}
	_ = cmd.Process.Kill()
	return nil, errors.New("the reverse proxy did not start within 10 s")
}
