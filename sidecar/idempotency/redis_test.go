package idempotency

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tokenwarden/tokenwarden/sidecar/internal/redistest"
)

func TestRedisStore(t *testing.T) {
	url := redistest.Start(t).URL
	for name, check := range contract {
		t.Run(name, func(t *testing.T) {
			r, err := NewRedis(context.Background(), url, time.Hour, time.Minute)
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			r.prefix += name + ":" // each check starts with no keys
			check(t, r)
		})
	}
}

func TestRedisURLIsNotEchoed(t *testing.T) {
	_, err := NewRedis(context.Background(), "http://user:CANARY-pass@host", time.Hour, time.Minute)
	if err == nil || strings.Contains(err.Error(), "CANARY") {
		t.Fatalf("%v", err)
	}
}
