package faults_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/tokenwarden/tokenwarden/sidecar/emulator/faults"
)

func serve(t *testing.T) (*faults.Injector, string) {
	t.Helper()
	inj := faults.Wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.WriteString(w, "emulator answer")
	}))
	srv := httptest.NewServer(inj)
	t.Cleanup(srv.Close)
	return inj, srv.URL
}

func get(url string) (int, string, http.Header, error) {
	resp, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get(url)
	if err != nil {
		return 0, "", nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header, err
}

func TestRulesMatchByPathAndRunOutAfterTimes(t *testing.T) {
	inj, url := serve(t)
	inj.Add(faults.Rule{Path: "/api/*", Times: 2, Fault: faults.Status(http.StatusTooManyRequests, "7")})
	for i, want := range []int{429, 429, 200} {
		code, _, h, err := get(url + "/api/x")
		if err != nil || code != want {
			t.Fatalf("call %d: %d %v", i, code, err)
		}
		if want == 429 && h.Get("Retry-After") != "7" {
			t.Fatalf("Retry-After %q", h.Get("Retry-After"))
		}
	}
	if code, _, _, _ := get(url + "/other"); code != 200 {
		t.Fatalf("unmatched path faulted: %d", code)
	}
	if inj.Requests("GET", "/api/x") != 3 {
		t.Fatalf("counted %d", inj.Requests("GET", "/api/x"))
	}
}

func TestResetAndTruncate(t *testing.T) {
	inj, url := serve(t)
	inj.Add(faults.Rule{Path: "/reset", Fault: faults.Reset()})
	inj.Add(faults.Rule{Path: "/short", Fault: faults.Truncate(3)})
	if _, _, _, err := get(url + "/reset"); err == nil {
		t.Fatal("reset connection answered")
	}
	code, body, _, err := get(url + "/short")
	if code != 200 || body != "emu" || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("%d %q %v", code, body, err)
	}
}

func TestDoRunsTheHookThenTheEmulator(t *testing.T) {
	inj, url := serve(t)
	ran := 0
	inj.Add(faults.Rule{Times: 1, Fault: faults.Do(func() { ran++ })})
	if _, body, _, _ := get(url); body != "emulator answer" || ran != 1 {
		t.Fatalf("%q ran=%d", body, ran)
	}
}
