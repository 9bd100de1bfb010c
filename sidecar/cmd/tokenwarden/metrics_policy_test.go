package main

import "testing"

func TestMetricsPolicy(t *testing.T) {
	cases := []struct {
		mode, listen   string
		needKey, serve bool
	}{
		{"auto", "127.0.0.1:8787", false, true},
		{"auto", "localhost:8787", false, true},
		{"auto", "[::1]:8787", false, true},
		{"auto", "0.0.0.0:8787", true, true},
		{"auto", ":8787", true, true},
		{"open", "0.0.0.0:8787", false, true},
		{"key", "127.0.0.1:8787", true, true},
		{"off", "127.0.0.1:8787", false, false},
	}
	for _, c := range cases {
		needKey, serve, err := metricsPolicy(c.mode, c.listen)
		if err != nil || needKey != c.needKey || serve != c.serve {
			t.Errorf("metricsPolicy(%q, %q) = key %v, serve %v, %v; want key %v, serve %v", c.mode, c.listen, needKey, serve, err, c.needKey, c.serve)
		}
	}
	if _, _, err := metricsPolicy("public", "127.0.0.1:8787"); err == nil {
		t.Error("an unknown mode must be refused")
	}
}
